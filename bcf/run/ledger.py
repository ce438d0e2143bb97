"""The run ledger around a run: a `runs` row (running, then done / blocked / failed) under the data dir's run lock.
Plain: the flows pass their Prefect flow-run id in; a run made without Prefect has none."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bcf.core.runlock import data_dir_lock, rename_holder
from bcf.core.settings import code_version, key_kind, pseudonym_key
from bcf.ingest import keyprint
from bcf.returns.pack import RunInfo
from bcf.returns.produce import ReturnOutcome
from bcf.warehouse import db
from bcf.warehouse.paths import landing_path, warehouse_path


class LedgerRun:
    def __init__(self, run: RunInfo) -> None:
        self.run = run
        self.outcome = "done"
        self.detail = ""


_ACTIVE_RUNS: set[str] = set()  # run ids of this process's open ledger runs: never "stale"


@contextmanager
def ledger_run(data_dir: Path, flow: str, parameters: dict[str, Any],
               flow_run_id: str | None = None) -> Iterator[LedgerRun]:
    """Record the run in the warehouse's run ledger: running, then done / blocked, or failed with the error.

    The whole run holds the data dir's run lock (core/runlock.py): a second run waits. Holding it, any other
    `running` row is a run that died without finishing: it is marked `crashed`, and the staging files a crash leaves
    in the landing area are removed."""
    run = RunInfo(str(flow_run_id or uuid.uuid4()), flow, flow_run_id, parameters,
                  dt.datetime.now(dt.UTC).isoformat())
    key, development = pseudonym_key()
    run.pseudonym_key = key_kind(development)
    with data_dir_lock(data_dir, f"{run.run_id} ({flow})"):
        rename_holder(data_dir, f"{run.run_id} ({flow})")
        clean_crash_leftovers(data_dir)
        keyprint.check(data_dir, key, development)  # the key the data dir was staged with, or --repseudonymise
        with db.connect(warehouse_path(data_dir)) as con:
            db.mark_crashed(con, _ACTIVE_RUNS, run.run_id)
            db.start_run(con, run.run_id, flow, parameters, code_version(), development, flow_run_id)
        _ACTIVE_RUNS.add(run.run_id)
        ledger = LedgerRun(run)
        try:
            # held open for the run: each step's own connect then finds the database open, where a reopen and the
            # checkpoint of every close cost ~0.2 s of a one-HWB run (docs/benchmarks.md, eighth pass)
            with db.connect(warehouse_path(data_dir)):
                yield ledger
        except BaseException as exc:
            with db.connect(warehouse_path(data_dir)) as con:
                db.finish_run(con, run.run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            _ACTIVE_RUNS.discard(run.run_id)
        with db.connect(warehouse_path(data_dir)) as con:
            db.finish_run(con, run.run_id, ledger.outcome, ledger.detail)


def clean_crash_leftovers(data_dir: Path) -> None:
    """Half-copied files a killed run left in the landing area (`.incoming-*`), and its worker's hand-over folder
    (`.prepared-*`, bcf/ingest/worker.py); only called holding the lock."""
    landing = landing_path(data_dir)
    if landing.is_dir():
        for leftover in landing.glob(".incoming-*"):
            leftover.unlink(missing_ok=True)
    if data_dir.is_dir():
        for folder in data_dir.glob(".prepared-*"):
            shutil.rmtree(folder, ignore_errors=True)


def settle(ledger: LedgerRun, outcome: ReturnOutcome) -> None:
    """The run ledger's outcome for a run that produced (or was refused) one return."""
    ledger.outcome = "done" if outcome.status == "written" else "blocked"
    ledger.detail = f"{outcome.workbook.name}: {outcome.status}, {len(outcome.blocking)} blocking finding(s)"

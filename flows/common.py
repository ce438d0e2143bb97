"""What every flow does around its work: a run-ledger row, and artifacts the data team reads in the Prefect UI."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import get_run_logger, runtime
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from bcf.alerts import Alert, send
from bcf.audit import RunInfo
from bcf.produce import ReturnOutcome
from bcf.runlock import data_dir_lock, rename_holder
from bcf.settings import code_version, key_kind, pseudonym_key
from transforms.findings import Finding
from warehouse import db


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / "warehouse.duckdb"


def landing_path(data_dir: Path) -> Path:
    return data_dir / "landing"


class LedgerRun:
    def __init__(self, run: RunInfo) -> None:
        self.run = run
        self.outcome = "done"
        self.detail = ""


_ACTIVE_RUNS: set[str] = set()  # run ids of this process's open ledger runs: never "stale"


@contextmanager
def ledger_run(data_dir: Path, flow: str, parameters: dict[str, Any]) -> Iterator[LedgerRun]:
    """Record the run in the warehouse's run ledger: running, then done / blocked, or failed with the error.

    The whole run holds the data dir's run lock (bcf/runlock.py): a second run waits. Holding it, any other
    `running` row is a run that died without finishing: it is marked `crashed`, and the staging files a crash leaves
    in the landing area are removed."""
    flow_run_id = runtime.flow_run.get_id()
    run = RunInfo(str(flow_run_id or uuid.uuid4()), flow, flow_run_id, parameters,
                  dt.datetime.now(dt.UTC).isoformat())
    _, development = pseudonym_key()
    run.pseudonym_key = key_kind(development)
    with data_dir_lock(data_dir, f"{run.run_id} ({flow})"):
        rename_holder(data_dir, f"{run.run_id} ({flow})")
        clean_crash_leftovers(data_dir)
        with db.connect(warehouse_path(data_dir)) as con:
            db.mark_crashed(con, _ACTIVE_RUNS, run.run_id)
            db.start_run(con, run.run_id, flow, parameters, code_version(), development, flow_run_id)
        _ACTIVE_RUNS.add(run.run_id)
        ledger = LedgerRun(run)
        try:
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
    """Half-copied files a killed run left in the landing area (`.incoming-*`); only called holding the lock."""
    landing = landing_path(data_dir)
    if landing.is_dir():
        for leftover in landing.glob(".incoming-*"):
            leftover.unlink(missing_ok=True)


def _key(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:100]


def findings_markdown(title: str, findings: list[Finding], blockers: list[Finding]) -> str:
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    lines = [f"# {title}", "", f"- blocking errors: **{len(blockers)}**", f"- errors: {len(errors)}",
             f"- warnings: {len(warnings)}", ""]
    shown = (blockers or errors or warnings)[:50]
    if shown:
        lines += ["| severity | file | row | column | value | rule | message |", "|---|---|---|---|---|---|---|"]
        for f in shown:
            cells = [f.severity, f.file, "" if f.row is None else str(f.row), f.column or "", f.value or "", f.rule,
                     f.message]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def return_artifacts(label: str, outcome: ReturnOutcome, headline: list[str]) -> None:
    """A table of the headline figures, the findings summary, and a link to the workbook (or to the findings)."""
    key = _key(label)
    create_markdown_artifact(findings_markdown(f"Findings: {label}", outcome.findings, outcome.blocking),
                             key=f"{key}-findings", description=f"Validation findings for {label}")
    if outcome.status == "written":
        rows = [{"figure": f.id, "value": "" if f.value is None else str(f.value), "source rows": f.source_rows}
                for f in outcome.figures if f.id in headline]
        create_table_artifact(rows, key=f"{key}-headline", description=f"Headline figures: {label}")
        create_link_artifact(outcome.workbook.resolve().as_uri(), link_text=outcome.workbook.name,
                             key=f"{key}-workbook", description="The return workbook and its audit pack beside it")
    elif outcome.findings_file is not None:
        create_link_artifact(outcome.findings_file.resolve().as_uri(), link_text=outcome.findings_file.name,
                             key=f"{key}-blocked", description="Blocked: the findings that stopped the return")


def settle(ledger: LedgerRun, outcome: ReturnOutcome) -> None:
    """The run ledger's outcome for a run that produced (or was refused) one return."""
    ledger.outcome = "done" if outcome.status == "written" else "blocked"
    ledger.detail = f"{outcome.workbook.name}: {outcome.status}, {len(outcome.blocking)} blocking finding(s)"


def report_outcome(flow: str, label: str, hwb: str, period: str, outcome: ReturnOutcome, headline: list[str],
                   flow_run_id: str | None) -> None:
    """After a return: its artifacts, an alert when it was blocked, and a log line."""
    return_artifacts(label, outcome, headline)
    alert_if_blocked(flow, hwb, period, outcome, flow_run_id)
    get_run_logger().info("%s %s (%d blocking finding(s))", outcome.workbook.name, outcome.status,
                          len(outcome.blocking))


def alert_if_blocked(flow: str, hwb: str, period: str, outcome: ReturnOutcome, flow_run_id: str | None) -> None:
    if outcome.status != "blocked":
        return
    send(Alert("blocked", flow, hwb, period, f"{len(outcome.blocking)} error finding(s) block the return; "
               "no workbook was written", str(outcome.findings_file), flow_run_id,
               [f"{f.file} row {f.row if f.row is not None else '-'} [{f.column or '-'}] {f.rule}: {f.message}"
                for f in outcome.blocking[:10]]))


def alert_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure hook: the run crashed or raised, so there may be no findings file at all."""
    params = dict(flow_run.parameters or {})
    period = str(params.get("period_end") or params.get("quarter") or "scheduled period")
    send(Alert("failed", flow.name, str(params.get("hwb", "")), period, str(state.message or "the run failed")[:500],
               f"Prefect flow run {flow_run.id} ({flow_run.name}): see its logs", str(flow_run.id)))

"""A second process prepares the costlier new extracts while this one stages the rest (bcf.worker). With it or
without, a source must stage the same: the same rows, rejections, findings and per-file results, and the same
order of receipt, so the same copy of a repeated key is the first. A fault in the worker fails the run with
nothing of that file staged, and nothing the worker wrote is left behind."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bcf import intake, worker
from bcf.worker import Job, Preparer, WorkerFailed
from tests.unit.test_bad_input import spells
from tests.unit.test_read_ahead import _ingest
from tests.unit.test_staged_in_parts import _source
from warehouse import db

PARAMS = {"today": dt.date(2023, 4, 1), "plan_scheme_ids": [], "plan_scheme_units": {}}


def test_the_worker_stages_exactly_what_this_process_does(small_extracts: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCF_ALLOW_DEVELOPMENT_KEY", "1")
    folder = _source(small_extracts, tmp_path / "source")
    (folder / "discharges_broken.xlsx").write_bytes(b"not a zip")  # a file fault, met in the worker or here
    (folder / "notes.txt").write_text("not an extract", encoding="utf-8")
    # a key also in discharges_rwe_parts.csv, which comes first in staging order whichever process stages first
    (folder / "discharges_zz_again.csv").write_text(spells({"spell_id": "S5"}), encoding="utf-8")
    # the same bytes under a later name: the copy already received, whichever process prepares the first
    shutil.copyfile(folder / "reablement_parts.csv", folder / "reablement_zz_copy.csv")

    in_turn = _ingest(folder, tmp_path / "in_turn", read_ahead=False)
    given: list[list[str]] = []
    real = worker.Preparer.__init__

    def recorded(self: Preparer, scratch_under: Path, jobs: list[Job], key: bytes) -> None:
        given.append([job.name for job in jobs])
        real(self, scratch_under, jobs, key)

    monkeypatch.setattr(intake, "WORKER_MIN_COST", 0)  # the worker for any size
    monkeypatch.setattr(intake, "XLSX_COST", 1)  # and more than one file for it
    monkeypatch.setattr(worker.Preparer, "__init__", recorded)
    worked = _ingest(folder, tmp_path / "worked", read_ahead=True)

    assert worked == in_turn
    assert len(given) == 1 and len(given[0]) >= 2  # the worker prepared some of the files, this process the rest
    ours = {r[0] for r in worked[0]} - set(given[0]) - {"notes.txt"}
    assert any(name.startswith(("discharges", "reablement", "spend")) for name in ours)
    assert "reablement_zz_copy.csv" not in given[0]
    assert any(r[0] == "reablement_zz_copy.csv" and r[1] == "already_received" for r in worked[0])
    assert any(r[0] == "discharges_zz_again.csv" and "discharges_rwe_parts.csv row" in r[5][0] for r in worked[0]
               if r[5])
    for data in (tmp_path / "in_turn", tmp_path / "worked"):  # received in staging order, staged in any
        with db.connect(data / "warehouse.duckdb") as con:
            names = [n for (n,) in con.execute("SELECT file_name FROM files ORDER BY received_at").fetchall()]
        assert names == sorted(names, key=lambda n: (not n.startswith("plan"), n))
    assert not list((tmp_path / "worked").glob(".prepared-*"))


def test_a_fault_in_the_worker_fails_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    # a landed file gone before the worker reads it: not a fault of the file's content, so not a finding
    job = Job(0, "discharges", tmp_path / "gone.csv", "discharges_gone.csv", "0" * 64)
    with pytest.raises(WorkerFailed, match="discharges_gone.csv"), Preparer(tmp_path, [job], b"k") as preparer:
        preparer.parameters(PARAMS)
        _consume(preparer, 0)
    assert not list(tmp_path.glob(".prepared-*"))


def test_a_worker_that_stops_fails_the_run_rather_than_hanging(tmp_path: Path) -> None:
    job = Job(0, "discharges", tmp_path / "d.csv", "discharges_d.csv", "0" * 64)
    (tmp_path / "d.csv").write_text(spells({}), encoding="utf-8")
    with pytest.raises(WorkerFailed, match="stopped"), Preparer(tmp_path, [job], b"k") as preparer:
        preparer._process.kill()  # as the kernel's out-of-memory killer would
        _consume(preparer, 0)
    assert not list(tmp_path.glob(".prepared-*"))


def _consume(preparer: Preparer, index: int) -> None:
    """What staging does with a prepared file: take every part of every table."""
    for _, items in preparer.prepared(index).tables:
        list(items)

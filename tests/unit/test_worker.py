"""A second process reads and parses the new extracts while this one checks and stages them (bcf.ingest.worker). With it
or without, a source must stage the same: the same rows, rejections, findings and per-file results, and the same
order of receipt, so the same copy of a repeated key is the first. What the worker hands over is rebuilt exactly. A
fault in the worker fails the run with nothing of that file staged, and nothing the worker wrote is left behind."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bcf.ingest import prepare_file as ingest
from bcf.ingest import source_run as intake
from bcf.ingest import worker
from bcf.ingest.sources import SourceObject, list_source
from bcf.ingest.stage_file import FileResult
from bcf.ingest.worker import Job, Preparer, WorkerFailed
from bcf.warehouse import db
from tests.unit.test_bad_input import spells
from tests.unit.test_read_ahead import _ingest
from tests.unit.test_staged_in_parts import _source

pytestmark = pytest.mark.slow  # the worker is a process of its own


def test_the_worker_stages_exactly_what_this_process_does(small_extracts: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCF_ALLOW_DEVELOPMENT_KEY", "1")
    folder = _source(small_extracts, tmp_path / "source")
    (folder / "discharges_broken.xlsx").write_bytes(b"not a zip")  # a file fault, met in the worker
    (folder / "notes.txt").write_text("not an extract", encoding="utf-8")
    # a key also in discharges_rwe_parts.csv, which comes first in staging order whichever process stages first
    (folder / "discharges_zz_again.csv").write_text(spells({"spell_id": "S5"}), encoding="utf-8")
    # the same bytes under a later name: the copy already received, though the worker reads the first
    shutil.copyfile(folder / "reablement_parts.csv", folder / "reablement_zz_copy.csv")

    in_turn = _ingest(folder, tmp_path / "in_turn", read_ahead=False)
    given: list[list[str]] = []
    staged_order: list[str] = []
    real_submit, real_stage = worker.Preparer.submit, intake.stage

    def recorded(self: Preparer, jobs: list[Job], key: bytes) -> None:
        given.append([job.name for job in jobs])
        real_submit(self, jobs, key)

    def stage_recorded(db_file: Path, obj: SourceObject, *args: Any, **kwargs: Any) -> FileResult:
        staged_order.append(obj.name)
        return real_stage(db_file, obj, *args, **kwargs)

    monkeypatch.setattr(intake, "WORKER_MIN_COST", 0)  # the worker for any size
    monkeypatch.setattr(worker.Preparer, "submit", recorded)
    worked = _ingest(folder, tmp_path / "worked", read_ahead=True, stager=stage_recorded)

    assert worked == in_turn
    extracts = [r[0] for r in in_turn[0] if r[0].startswith(("discharges", "reablement", "spend"))]
    assert len(given) == 1 and sorted(given[0]) == sorted(set(extracts) - {"reablement_zz_copy.csv"})
    assert staged_order != sorted(staged_order, key=lambda n: (not n.startswith("plan"), n))  # not staging order
    assert any(r[0] == "reablement_zz_copy.csv" and r[1] == "already_received" for r in worked[0])
    assert any(r[0] == "discharges_zz_again.csv" and "discharges_rwe_parts.csv row" in r[5][0] for r in worked[0]
               if r[5])
    for data in (tmp_path / "in_turn", tmp_path / "worked"):  # received in staging order, staged in any
        with db.connect(data / "warehouse.duckdb") as con:
            names = [n for (n,) in con.execute("SELECT file_name FROM files ORDER BY received_at").fetchall()]
        assert names == sorted(names, key=lambda n: (not n.startswith("plan"), n))
    assert not list((tmp_path / "worked").glob(".prepared-*"))

    # the same source again: every file is received already (same names and sizes), so no worker is started (the
    # copy is judged by name before it lands, so it would start one, then find nothing to read)
    (folder / "reablement_zz_copy.csv").unlink()
    monkeypatch.setattr(worker.Preparer, "__init__", _never)
    again = intake.ingest_source(str(folder), tmp_path / "worked", "run-2", read_ahead=True)
    assert {r.outcome for r in again.files if r.kind} == {"already_received"}


def test_the_next_workbook_is_read_ahead_and_handed_over_the_same(small_extracts: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker reads the next workbook in a thread while it parses the files before it (_workbook_ahead): what it
    hands over is what it hands over reading the workbook in its turn. Run in this process, not spawned."""
    monkeypatch.setattr(ingest, "PART_ROWS", 40)  # the workbook in parts, as a large one is
    extracts = [o for o in sorted(list_source(str(small_extracts)), key=lambda o: o.name)
                if o.kind not in (None, "plan")]
    # the workbooks last, as _worker_jobs orders a source's files (they take longer to read than to check)
    jobs = [Job(i, str(o.kind), Path(str(o.path)), o.name, str(i)) for i, o in
            enumerate(sorted(extracts, key=lambda o: o.name.endswith(".xlsx")))]
    assert jobs[-1].name.endswith(".xlsx") and not jobs[0].name.endswith(".xlsx")
    read_ahead: list[str] = []

    class Recorded(worker.ReadAhead):
        def __init__(self, kind: str, landed: Path, name: str) -> None:
            read_ahead.append(name)
            super().__init__(kind, landed, name)

    monkeypatch.setattr(worker, "ReadAhead", Recorded)
    ahead = _served(jobs, tmp_path / "ahead")
    assert read_ahead == [jobs[-1].name]  # started before the first file was parsed
    monkeypatch.setattr(worker, "_workbook_ahead", lambda later: {})
    in_turn = _served(jobs, tmp_path / "in_turn")
    assert read_ahead == [jobs[-1].name]
    assert sum(m[0] == "part" and m[1] == jobs[-1].index for m in ahead) > 1
    assert ahead == in_turn
    monkeypatch.undo()  # _workbook_ahead itself again, with a bound the workbook is just over
    monkeypatch.setattr(worker, "WORKBOOK_AHEAD_MAX_BYTES", jobs[-1].path.stat().st_size - 1)
    assert worker._workbook_ahead(jobs) == {}  # too large to hold beside the file being parsed: read in its turn


def _served(jobs: list[Job], scratch: Path) -> list[tuple[Any, ...]]:
    """worker._serve's messages, each part read back as plain values (its scratch path left out)."""
    import queue

    scratch.mkdir()
    asked: queue.Queue[Any] = queue.Queue()
    told: queue.Queue[Any] = queue.Queue()
    asked.put((jobs, b"k"))
    worker._serve(asked, told, str(scratch))
    out: list[tuple[Any, ...]] = []
    while not told.empty():
        message = told.get()
        assert message[0] != "error", message[3]
        if message[0] == "part":
            part = worker._load_parsed(message[2])
            message = (*message[:2], part.part.frame.to_dict("list"), part.parsed.frame.to_dict("list"),
                       None if part.keys is None else part.keys.to_dict("list"), part.parsed.findings,
                       part.part.header, part.part.problems, part.parts)
        out.append(message)
    return out


def _never(*args: Any) -> None:
    raise AssertionError("no worker is started for a source the warehouse holds already")


def test_a_parsed_part_is_handed_over_exactly(small_extracts: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "PART_ROWS", 3)  # tables in parts, so whole-file keys cross too
    folder = _source(small_extracts, tmp_path / "source")
    crossed = 0
    for obj in list_source(str(folder)):
        if obj.kind is None or obj.kind == "plan":
            continue
        assert obj.path is not None
        for _, items in ingest.parse_file(obj.kind, Path(obj.path), obj.name, b"k", checked=True).tables:
            for item in items:
                if isinstance(item, ingest.Fault):
                    continue
                back = worker._load_parsed(worker._save_parsed(item, tmp_path / f"part{crossed}"))
                for mine, theirs in ((item.part.frame, back.part.frame), (item.parsed.frame, back.parsed.frame),
                                     (item.keys, back.keys)):
                    if mine is None:
                        assert theirs is None
                    else:
                        pd.testing.assert_frame_equal(theirs, mine, check_exact=True)
                        assert [type(v) for v in theirs.to_numpy().ravel()] == \
                               [type(v) for v in mine.to_numpy().ravel()]  # dates stay dt.date, blanks None
                assert (back.parsed.findings, back.part.header, back.part.problems, back.parts) == \
                       (item.parsed.findings, item.part.header, item.part.problems, item.parts)
                crossed += 1
    assert crossed > 10
    assert not list(tmp_path.glob("part*"))  # each file is deleted as it is read back


def test_a_fault_in_the_worker_fails_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    # a landed file gone before the worker reads it: not a fault of the file's content, so not a finding
    job = Job(0, "discharges", tmp_path / "gone.csv", "discharges_gone.csv", "0" * 64)
    with pytest.raises(WorkerFailed, match="discharges_gone.csv"), Preparer(tmp_path) as preparer:
        preparer.submit([job], b"k")
        _consume(preparer, 0)
    assert not list(tmp_path.glob(".prepared-*"))


def test_a_worker_that_stops_fails_the_run_rather_than_hanging(tmp_path: Path) -> None:
    job = Job(0, "discharges", tmp_path / "d.csv", "discharges_d.csv", "0" * 64)
    (tmp_path / "d.csv").write_text(spells({}), encoding="utf-8")
    with pytest.raises(WorkerFailed, match="stopped"), Preparer(tmp_path) as preparer:
        preparer.submit([job], b"k")
        preparer._process.kill()  # as the kernel's out-of-memory killer would
        _consume(preparer, 0)
    assert not list(tmp_path.glob(".prepared-*"))


def _consume(preparer: Preparer, index: int) -> None:
    """What staging does with a prepared file: take every part of every table."""
    for _, items in preparer.parsed(index).tables:
        list(items)

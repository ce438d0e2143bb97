"""The plain ingest reads the next file in a background thread while this one is staged (prepare_file.ReadAhead).
Read ahead or not, a source must stage the same: the same rows, rejections, findings and per-file results, a file
fault where it was, a file already received read by nobody."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bcf.ingest import prepare_file as ingest
from bcf.ingest import source_run as intake
from bcf.warehouse import db
from tests.unit.test_staged_in_parts import _rows, _source

pytestmark = pytest.mark.slow  # a quarter of synthetic extracts ingested twice

TABLES = ("stg_discharges", "stg_reablement", "stg_spend", "rejected_rows", "findings", "files")


def _ingest(folder: Path, data: Path, read_ahead: bool,
            stager: Callable[..., intake.FileResult] = intake.stage) -> tuple[list[tuple[object, ...]],
                                                                              dict[str, list[object]]]:
    report = intake.ingest_source(str(folder), data, "run", read_ahead=read_ahead, stager=stager)
    results = [(r.name, r.outcome, r.rows_received, r.rows_loaded, r.rows_rejected, sorted(map(repr, r.findings)))
               for r in report.files]
    with db.connect(data / "warehouse.duckdb") as con:
        return results, {t: _rows(con, t) for t in TABLES}


def test_read_ahead_stages_exactly_what_reading_in_turn_does(small_extracts: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCF_ALLOW_DEVELOPMENT_KEY", "1")
    folder = _source(small_extracts, tmp_path / "source")
    (folder / "discharges_broken.xlsx").write_bytes(b"not a zip")  # a file fault, met while read ahead
    (folder / "notes.txt").write_text("not an extract", encoding="utf-8")  # ignored, between extracts
    started: list[str] = []
    real = ingest.ReadAhead.__init__

    def counted(self: ingest.ReadAhead, kind: str, landed: Path, name: str) -> None:
        started.append(name)
        real(self, kind, landed, name)

    monkeypatch.setattr(ingest.ReadAhead, "__init__", counted)
    in_turn = _ingest(folder, tmp_path / "in_turn", read_ahead=False)
    assert started == []
    ahead = _ingest(folder, tmp_path / "ahead", read_ahead=True)
    assert ahead == in_turn
    assert "discharges_broken.xlsx" in started and len(started) >= 5  # every extract but the first was read ahead
    assert any(r[0] == "discharges_broken.xlsx" and r[1] == "rejected" for r in ahead[0])

    # the same source again: every file is already received, so nothing is read ahead
    started.clear()
    again = intake.ingest_source(str(folder), tmp_path / "ahead", "run-2", read_ahead=True)
    assert started == []
    assert {r.outcome for r in again.files if r.kind} == {"already_received"}

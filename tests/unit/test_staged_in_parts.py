"""A long file is parsed, checked and inserted a part at a time (prepare_file.PART_ROWS) so that 13 million rows fit
in memory. Staged in parts of a few rows, every file must give exactly what it gives in one piece: the same rows
loaded and rejected, the same findings, a duplicate key in two parts found as in one."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from bcf.ingest import prepare_file
from bcf.ingest import stage_file as ingest
from bcf.ingest.sources import land, list_source, staging_key
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from tests.unit.test_bad_input import episodes, postings, spells

pytestmark = pytest.mark.slow  # a quarter of synthetic extracts staged twice, once in parts of three rows

TODAY = dt.date(2023, 4, 1)


def _source(small_extracts: Path, folder: Path) -> Path:
    shutil.copytree(small_extracts, folder)
    # faults spread over the file, and keys repeated far apart (so in different parts at 3 rows a part)
    (folder / "discharges_rwe_parts.csv").write_text(spells(
        {}, {"spell_id": "S9"}, {"admission_date": "2023-02-30"}, {"discharge_destination": "99"}, {},
        {"spell_id": "S1"}, {"hwb_code": ""}, {}, {"spell_id": "S9"}, {"nhs_number": "1234567890"}, {}),
        encoding="utf-8")
    (folder / "reablement_parts.csv").write_text(episodes(
        {}, {"episode_id": "E5"}, {}, {"service": "teleport"}, {}, {}, {"episode_id": "E2"}), encoding="utf-8")
    (folder / "spend_parts.csv").write_text(postings(
        {}, {}, {"transaction_id": "T1"}, {"amount": "£5"}, {}, {"transaction_id": "T1"}), encoding="utf-8")
    return folder


def _stage(folder: Path, tmp: Path, validator: RowValidator) -> dict[str, list[object]]:
    with db.connect(tmp / "wh.duckdb") as con:
        for obj in sorted(list_source(str(folder)), key=staging_key):
            ingest.stage_file(con, obj, land(obj, tmp / "landing"), "run", b"k", validator, TODAY)
        got = {table: _rows(con, table) for table in (
            "stg_discharges", "stg_reablement", "stg_spend", "rejected_rows", "findings", "files")}
        got["duplicates"] = [r for (r,) in con.execute(
            "SELECT \"row\" FROM findings WHERE file = 'discharges_rwe_parts.csv' AND rule = 'duplicate_key' "
            "ORDER BY 1").fetchall()]
        return got


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[object]:
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()
        if c not in ("received_at", "landed_path", "finding_id", "recorded_at")]
    listed = ", ".join(f'"{c}"' for c in columns)
    return sorted(con.execute(f"SELECT {listed} FROM {table}").fetchall(), key=repr)


def test_a_file_staged_in_parts_gives_what_it_gives_whole(small_extracts: Path, tmp_path: Path,
                                                          validator: RowValidator,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _source(small_extracts, tmp_path / "source")
    whole = _stage(folder, tmp_path / "whole", validator)
    monkeypatch.setattr(prepare_file, "PART_ROWS", 3)
    in_parts = _stage(folder, tmp_path / "parts", validator)

    assert whole == in_parts
    # the source really exercised what parts could break: rows rejected, and duplicates found across parts
    assert whole["rejected_rows"]
    assert whole["duplicates"] == [2, 3, 7, 10]  # S1 at rows 2 and 7, S9 at rows 3 and 10: pairs in different parts

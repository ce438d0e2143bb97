"""Issue 25: lineage sized for its reader. lineage.parquet is the audit copy; lineage.csv is written only when it
fits a spreadsheet, else the manifest says so and how to get a figure's rows; revisions, trace and why read the
Parquet copy when the CSV is absent, and find the same."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bcf.audit.trace import trace
from bcf.cli import main
from bcf.returns import pack as audit
from bcf.returns import revisions
from tests.fixtures import HWB, write_df_fixture
from tests.unit.test_trace_render import write_pack

STEM = f"df_fortnightly_{HWB}_2023-01-19"


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCF_ORCHESTRATION", "local")


def test_revisions_read_the_parquet_copy_as_they_read_the_csv(tmp_path: Path) -> None:
    write_pack(tmp_path, formulas=True)
    pack = tmp_path / "df_test.audit"
    from_csv = revisions._lineage(pack / "lineage.csv")
    assert revisions.lineage_path(pack) == pack / "lineage.csv"
    (pack / "lineage.csv").unlink()
    assert revisions.lineage_path(pack) == pack / "lineage.parquet"
    assert revisions._lineage(pack / "lineage.parquet") == from_csv and from_csv


def test_the_manifest_says_why_there_is_no_csv() -> None:
    assert audit.lineage_note(audit.SPREADSHEET_ROWS)["csv"] == "lineage.csv"
    note = audit.lineage_note(audit.SPREADSHEET_ROWS + 1)
    assert note["csv"] is None and "bcf trace" in str(note["note"]) and "--format csv" in str(note["note"])


def _revised(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    src = write_df_fixture(tmp_path / "src")
    args = ["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19", "--out",
            str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")]
    assert main(args) == 0
    rwe = src / "discharges_rwe.csv"
    lines = rwe.read_text().splitlines()
    lines[1] = lines[1].replace(",19,0,J18.9", ",19,1,J18.9")
    rwe.write_text("\n".join(lines) + "\n")
    assert main(args) == 0
    pack = tmp_path / "out" / f"{STEM}.audit"
    with open(pack / "revisions.csv", newline="") as fh:
        return pack, list(csv.DictReader(fh))


@pytest.mark.slow
def test_a_lineage_too_large_for_a_spreadsheet_is_parquet_only_and_still_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with_csv, want = _revised(tmp_path / "small")
    assert (with_csv / "lineage.csv").exists()
    manifest = json.loads((with_csv / "manifest.json").read_text())
    assert manifest["lineage"]["csv"] == "lineage.csv"

    monkeypatch.setattr(audit, "SPREADSHEET_ROWS", 3)
    pack, got = _revised(tmp_path / "large")
    assert not (pack / "lineage.csv").exists() and (pack / "lineage.parquet").exists()
    assert got == want and any(c["change"] == "row" for c in got)
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["lineage"]["csv"] is None and manifest["lineage"]["rows"] > 3
    assert "lineage.csv" not in manifest["outputs"]["audit_files"]

    workbook = pack.parent / f"{STEM}.xlsx"
    rows = trace(workbook, "df.discharges.total", "csv")
    assert rows.startswith("file,row,key,contribution,role,figure_id,query_id\n") and rows.count("\n") > 1
    capsys.readouterr()
    assert main(["why", str(workbook), "discharges_rwe.csv", "2"]) in (0, 1)
    assert "RWE" in capsys.readouterr().out

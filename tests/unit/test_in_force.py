"""A wrong return is never written: what a return counts is judged on every run against the files in force, per
council, and a row that could be the return's but was rejected blocks it. Through the plain pipeline (no Prefect)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from bcf.core.settings import contracts
from bcf.devtools.synthetic import generate
from bcf.ingest.source_run import ingest_source
from bcf.ingest.sources import SourceObject, kind_of, land
from bcf.ingest.stage_file import stage_file
from bcf.ingest.withdraw import WithdrawError, withdraw
from bcf.run.pipeline import Ran, fortnightly_return
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from bcf.warehouse.checks import source_findings
from tests.conftest import write_csv
from tests.fixtures import EXPECTED_DF, HWB, write_df_fixture

END = "2023-01-19"
S_HEADER = contracts()["spend"].names


@pytest.fixture(autouse=True)
def _development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCF_ALLOW_DEVELOPMENT_KEY", "1")
    monkeypatch.delenv("BCF_PSEUDONYM_KEY", raising=False)


def run(src: Path, data: Path, out: Path, hwb: str = HWB, end: str = END) -> Ran:
    return fortnightly_return(str(src), hwb, end, out_dir=str(out), data_dir=str(data))


def figures(ran: Ran) -> dict[str, str]:
    return {f.id: str(f.value) for f in ran.outcome.figures}


def posting(tid: str, hwb: str, amount: str = "1000.00") -> list[str]:
    return [tid, hwb, "2023-01-16", "DF01", "la_discharge", amount, "", "", "CC1", "Care Home Ltd", "Beds"]


@pytest.mark.slow
def test_a_mistyped_hwb_code_on_the_councils_own_postings_blocks_the_return(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    # another council's posting, rejected (3 dp), with a well-formed code of its own: not this return's
    write_csv(src / "spend_other.csv", S_HEADER, [posting("X1", "E06000016", "12.345")])
    ran = run(src, tmp_path / "data", tmp_path / "out")
    assert ran.outcome.status == "written"
    assert {k: figures(ran)[k] for k in EXPECTED_DF} == {k: str(v) for k, v in EXPECTED_DF.items()}

    # three of Rutland's own postings whose hwb_code cannot be read as another HWB: rejected, so the return would
    # be understated by 3,000.00; it is blocked instead
    write_csv(src / "spend_typos.csv", S_HEADER, [posting("Y1", "e06000017"), posting("Y2", "E0600001"),
                                                  posting("Y3", "Rutland")])
    ran = run(src, tmp_path / "data", tmp_path / "out2")
    assert ran.outcome.status == "blocked"
    blocking = {(f.file, f.row, f.column) for f in ran.outcome.blocking}
    assert blocking == {("spend_typos.csv", 2, "hwb_code"), ("spend_typos.csv", 3, "hwb_code"),
                        ("spend_typos.csv", 4, "hwb_code")}
    assert not (tmp_path / "out2" / f"df_fortnightly_{HWB}_{END}.xlsx").exists()


def _plan_bytes(src: Path) -> bytes:
    return (src / "plan_x.xlsx").read_bytes()


@pytest.mark.slow
def test_a_corrected_plan_unblocks_the_ledger_without_the_ledger_being_sent_again(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    good = _plan_bytes(src)
    (src / "plan_x.xlsx").write_bytes(b"PK\x03\x04 not a workbook")  # a corrupt plan
    first = run(src, tmp_path / "data", tmp_path / "out")
    assert first.outcome.status == "blocked"
    assert {f.rule for f in first.outcome.blocking} >= {"file.corrupt", "plan.missing"}
    # one cause said once: no plan, so no per-posting unknown_scheme lines
    assert not [f for f in first.outcome.blocking if f.rule == "unknown_scheme"]
    assert sum(f.rule == "plan.missing" for f in first.outcome.blocking) == 1
    assert "No plan for HWB E06000017 in 2022-23" in next(
        f.message for f in first.outcome.blocking if f.rule == "plan.missing")

    (src / "plan_x.xlsx").write_bytes(good)  # the plan put right, under its name; the ledger is unchanged
    second = run(src, tmp_path / "data", tmp_path / "out")
    assert second.outcome.status == "written", [f.message for f in second.outcome.blocking]
    assert {k: figures(second)[k] for k in EXPECTED_DF} == {k: str(v) for k, v in EXPECTED_DF.items()}
    outcomes = {r.name: r.outcome for r in ingest_source(str(src), tmp_path / "data", "again").files}
    assert outcomes["spend_x.csv"] == "already_received"


@pytest.mark.slow
def test_a_file_sent_in_error_is_withdrawn_on_the_record_and_the_return_is_written(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    dup = src / "discharges_rwe_resent.csv"
    dup.write_bytes((src / "discharges_rwe.csv").read_bytes() + b"\n")  # the same spells, other bytes
    data, out = tmp_path / "data", tmp_path / "out"
    assert run(src, data, out).outcome.status == "blocked"  # every spell would count twice

    kept = tmp_path / "sent_in_error.csv"
    shutil.move(dup, kept)  # deleting it from the source does not take it out of force: a warning says so
    ran = run(src, data, out)
    assert ran.outcome.status == "blocked"
    gone = ran.outcome.findings.of_rule("source.file_gone")
    assert [(g.file, g.count) for g in gone] == [("discharges_rwe_resent.csv", 1)]
    assert "bcf withdraw" in gone[0].example.message

    done = withdraw(data, str(kept), "sent twice by the trust", by="A. Officer")  # named by its content
    assert done.file_name == "discharges_rwe_resent.csv" and done.status == "withdrawn"
    ran = run(src, data, out)
    assert ran.outcome.status == "written"
    assert {k: figures(ran)[k] for k in EXPECTED_DF} == {k: str(v) for k, v in EXPECTED_DF.items()}
    import json

    manifest = json.loads((ran.outcome.audit / "manifest.json").read_text())  # type: ignore[operator]
    assert [(w["file_name"], w["withdrawn_by"], w["reason"]) for w in manifest["withdrawn"]] == [
        ("discharges_rwe_resent.csv", "A. Officer", "sent twice by the trust")]
    assert "discharges_rwe_resent.csv" not in {i["file_name"] for i in manifest["inputs"]}
    assert not ran.outcome.findings.of_rule("source.file_gone")  # out of force: no warning

    with pytest.raises(WithdrawError, match="not in force|no file"):
        withdraw(data, "discharges_rwe_resent.csv", "again")
    withdraw(data, "discharges_rwe_resent.csv", "withdrawn by mistake", undo=True)
    assert run(src, data, out).outcome.status == "blocked"  # back in force, on the record
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        actions = con.execute("SELECT action, by_user FROM withdrawals ORDER BY withdrawn_at").fetchall()
    assert [a for a, _ in actions] == ["withdrawn", "restored"]


def _stage(con: duckdb.DuckDBPyConnection, path: Path, tmp: Path, validator: RowValidator) -> None:
    obj = SourceObject(path.resolve().as_uri(), path.name, kind_of(path.name), path.stat().st_size)
    stage_file(con, obj, land(obj, tmp / "landing"), "run-keys", b"k", validator, dt.date(2023, 4, 1))


def test_in_one_shared_file_two_councils_may_use_the_same_transaction_id(tmp_path: Path,
                                                                         validator: RowValidator) -> None:
    shared = write_csv(tmp_path / "spend_llr.csv", S_HEADER, [
        posting("T1", "E06000017"), posting("T1", "E06000016"),  # two councils' own numbering: both load
        posting("T2", "E06000017"), posting("T2", "E06000017"),  # one council's id twice: both rejected
        posting("T3", ""), posting("T3", "E06000016"),  # a blank is the source's HWB: may be the same council
    ])
    with db.connect(tmp_path / "wh.duckdb") as con:
        _stage(con, shared, tmp_path, validator)
        loaded = con.execute("SELECT transaction_id, hwb_code FROM stg_spend ORDER BY ALL").fetchall()
        rejected = con.execute("SELECT source_row FROM rejected_rows ORDER BY ALL").fetchall()
        found = [(f.row, f.rule) for f in source_findings(con) if f.rule.startswith("key.")]
    assert loaded == [("T1", "E06000016"), ("T1", "E06000017"), ("T3", "E06000016"), ("T3", None)]
    assert rejected == [(4,), (5,)]
    assert found == [(7, "key.duplicate_across_files")]  # the same rule inside a file as across files


@pytest.fixture(scope="module")
def llr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("llr")
    for n, hwb in enumerate(("E06000016", "E06000017", "E10000018")):
        generate(hwb, dt.date(2022, 10, 1), dt.date(2023, 3, 31), 1_500, 11 + n, src, explicit_hwb=True,
                 discharges=hwb == "E10000018")
    return src


@pytest.mark.slow
def test_a_council_without_a_plan_in_a_shared_source_is_blocked_and_the_others_are_written(
        llr: Path, tmp_path: Path) -> None:
    whole = {hwb: run(llr, tmp_path / "data_whole", tmp_path / "whole", hwb, "2023-03-30")
             for hwb in ("E06000017", "E10000018")}
    assert {h: r.outcome.status for h, r in whole.items()} == {"E06000017": "written", "E10000018": "written"}

    src = tmp_path / "src"
    shutil.copytree(llr, src)
    (src / "plan_e06000016.xlsx").unlink()  # Leicester's plan missing; its ledger is still in the source
    report = ingest_source(str(src), tmp_path / "validate", "validate")  # what `bcf validate` reports
    said = [f for r in report.files for f in r.findings if f.rule == "plan.missing"]
    assert [(f.value, f.severity) for f in said] == [("E06000016", "error")]
    assert not [f for r in report.files for f in r.findings if f.rule == "unknown_scheme"]

    ran = {hwb: run(src, tmp_path / "data", tmp_path / "out", hwb, "2023-03-30")
           for hwb in ("E06000016", "E06000017", "E10000018")}
    leicester = ran["E06000016"].outcome
    assert leicester.status == "blocked"
    assert [(f.rule, f.value) for f in leicester.blocking] == [("plan.missing", "E06000016")]
    assert "No plan for HWB E06000016 in 2022-23" in leicester.blocking[0].message
    for hwb in ("E06000017", "E10000018"):  # the others, figure for figure as from the whole source
        assert ran[hwb].outcome.status == "written"
        assert figures(ran[hwb]) == figures(whole[hwb])


@pytest.mark.slow
def test_postings_are_judged_against_their_own_councils_plan(llr: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    src = tmp_path / "src"
    shutil.copytree(llr, src)
    plan = src / "plan_e06000016.xlsx"  # Leicester's plan gets a scheme no other council has
    wb = load_workbook(plan)
    sheet = wb["schemes"]
    col = [c.value for c in sheet[1]].index("scheme_id") + 1
    sheet.cell(row=2, column=col, value="LEI99")
    wb.save(plan)
    # a Rutland posting to it: checked against the union of every council's plan, it would pass
    write_csv(src / "spend_rutland_extra.csv", S_HEADER, [
        ["R1", "E06000017", "2023-03-20", "LEI99", "la_discharge", "10.00", "", "", "CC1", "x", "y"]])
    ran = run(src, tmp_path / "data", tmp_path / "out", "E06000017", "2023-03-30")
    assert ran.outcome.status == "blocked"
    assert [(f.rule, f.file, f.row) for f in ran.outcome.blocking] == [
        ("unknown_scheme", "spend_rutland_extra.csv", 2)]
    assert "2022-23 plan of HWB E06000017" in ran.outcome.blocking[0].message


@pytest.mark.slow
def test_findings_are_summarised_by_rule_and_file_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    from bcf.cli import main

    src = write_df_fixture(tmp_path / "src")
    rows = [[f"Z{i}", "", "2023-01-16", "NOPE", "la_discharge", "1.00", "", "", "CC1", "x", "y"] for i in range(30)]
    write_csv(src / "spend_unplanned.csv", S_HEADER, rows)
    code = main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", END,
                 "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")])
    said = capsys.readouterr().out
    assert code == 1
    # 30 postings to one unknown scheme: one line with the count and an example, not 30 lines
    lines = [line for line in said.splitlines() if "posts to scheme NOPE" in line]
    assert len(lines) == 1 and "30 row(s), e.g. row 2" in lines[0] and "spend_unplanned.csv" in lines[0]
    blocked = tmp_path / "out" / f"df_fortnightly_{HWB}_{END}.blocked-findings-summary.csv"
    with open(blocked, newline="", encoding="utf-8") as fh:
        summary = list(csv.DictReader(fh))
    assert (summary[0]["rule"], summary[0]["file"], summary[0]["count"], summary[0]["example_row"]) == (
        "unknown_scheme", "spend_unplanned.csv", "30", "2")  # errors first, then the warnings, a line each
    assert all(r["severity"] == "warning" for r in summary[1:])
    assert str((tmp_path / "out").resolve()) in said  # the findings file's whole path

    code = main(["validate", "--source", str(src)])  # the same findings as the run, the same way
    said = capsys.readouterr().out
    assert code == 1 and [line for line in said.splitlines() if "30 row(s)" in line]

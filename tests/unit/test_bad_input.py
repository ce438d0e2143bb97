"""The bad-input corpus: each case asserts the exact finding, that nothing crashed, and that no row was lost.

Runs the real GX suites through `stage_file` (the plain function the flow calls), without Prefect.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bcf.core.settings import contracts
from bcf.ingest.sources import SourceObject, kind_of, land
from bcf.ingest.stage_file import FileResult, ignored, stage_file
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from bcf.warehouse.checks import source_findings
from tests.conftest import write_xlsx

TODAY = dt.date(2023, 4, 1)
D_HEADER = contracts()["discharges"].names
R_HEADER = contracts()["reablement"].names
S_HEADER = contracts()["spend"].names
SPELL = dict(zip(D_HEADER, ["S1", "RWE", "acute", "9434765919", "80", "E06000017", "2023-01-02", "21", "2023-01-05",
                            "2023-01-06", "19", "1", "J44.1", ""], strict=True))
EPISODE = dict(zip(R_HEADER, ["E1", "", "82", "E06000017", "hospital_discharge", "2023-01-06", "home_reablement",
                              "2023-01-07", "", "12.5", "", ""], strict=True))
POSTING = dict(zip(S_HEADER, ["T1", "", "2023-01-09", "DF01", "la_discharge", "120.50", "2", "bed nights", "CC1",
                              "Acme Care", "Beds"], strict=True))


def csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[r.get(h, "") for h in header] for r in rows])
    return out.getvalue()


def spells(*changes: dict[str, str]) -> str:
    return csv_text(D_HEADER, [{**SPELL, "spell_id": f"S{i}", **c} for i, c in enumerate(changes, start=1)])


def episodes(*changes: dict[str, str]) -> str:
    return csv_text(R_HEADER, [{**EPISODE, "episode_id": f"E{i}", **c} for i, c in enumerate(changes, start=1)])


def postings(*changes: dict[str, str]) -> str:
    return csv_text(S_HEADER, [{**POSTING, "transaction_id": f"T{i}", **c} for i, c in enumerate(changes, start=1)])


@dataclass
class Case:
    name: str
    file_name: str
    content: Callable[[Path], bytes]
    # (severity, row, column, value, rule) of every finding expected, exactly
    findings: set[tuple[str, int | None, str | None, str | None, str]]
    loaded: int
    rejected: int
    outcome: str = "new"


def text(s: str, encoding: str = "utf-8") -> Callable[[Path], bytes]:
    return lambda _: s.encode(encoding)


def xlsx(rows: list[list[object]], header: list[str] | None = None, merged_title: bool = False,
         formula: tuple[str, str] | None = None) -> Callable[[Path], bytes]:
    def build(tmp: Path) -> bytes:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        if merged_title:
            sheet.append(["Discharges extract - University Hospitals"])
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(D_HEADER))
        sheet.append(header or D_HEADER)
        for row in rows:
            sheet.append(row)
        if formula:
            sheet[formula[0]] = formula[1]
        path = tmp / "built.xlsx"
        book.save(path)
        return path.read_bytes()
    return build


GOOD_XLSX_ROW: list[object] = [SPELL[h] for h in D_HEADER]

CASES = [
    Case("empty file", "discharges_empty.csv", text(""),
         {("error", None, None, None, "file.empty")}, 0, 0, "rejected"),
    Case("header only", "discharges_header.csv", text(",".join(D_HEADER) + "\n"),
         {("error", None, None, None, "file.no_rows")}, 0, 0, "rejected"),
    Case("missing column", "discharges_nocol.csv",
         text(csv_text([h for h in D_HEADER if h != "age"], [SPELL])),
         {("error", None, "age", None, "file.missing_column")}, 0, 1, "rejected"),
    Case("unexpected column is a warning, rows load", "discharges_extra.csv",
         text(csv_text([*D_HEADER, "ward"], [{**SPELL, "ward": "W1"}])),
         {("warning", 1, "ward", "ward", "file.unexpected_column")}, 1, 0),
    Case("semicolon delimiter", "discharges_semi.csv", text(spells({}).replace(",", ";")),
         {("error", None, None, ";".join(D_HEADER)[:80], "file.delimiter")}, 0, 1, "rejected"),  # issue 21: rows kept
    Case("UTF-8 BOM is fine", "discharges_bom.csv", lambda _: b"\xef\xbb\xbf" + spells({}).encode(), set(), 1, 0),
    Case("Windows-1252 text", "discharges_1252.csv", text(spells({"primary_diagnosis": "J44.1"}) + "S9,RWE,acute,,"
                                                          "80,E06000017,2023-01-02,21,,,,,J44,Caf\xe9\n", "cp1252"),
         {("error", None, None, None, "file.encoding")}, 0, 2, "rejected"),  # issue 21: its 2 rows on record
    Case("malformed date", "discharges_baddate.csv", text(spells({}, {"admission_date": "2023-13-45"})),
         {("error", 3, "admission_date", "2023-13-45", "date")}, 1, 1),
    Case("impossible dd/mm/yyyy date", "discharges_feb30.csv", text(spells({"discharge_date": "30/02/2023"})),
         {("error", 2, "discharge_date", "30/02/2023", "date")}, 0, 1),
    Case("future date", "discharges_future.csv",
         text(spells({"admission_date": "2023-05-01", "ready_for_discharge_date": "", "discharge_date": ""})),
         {("error", 2, "admission_date", "2023-05-01", "future_date")}, 0, 1),
    Case("age out of range", "discharges_age.csv", text(spells({"age": "130"}, {"age": "-1"})),
         {("error", 2, "age", "130", "age_range"), ("error", 3, "age", "-1", "age_range")}, 0, 2),
    Case("bad NHS number is masked", "discharges_nhs.csv", text(spells({"nhs_number": "9434765918"})),
         {("error", 2, "nhs_number", "******5918", "nhs_number")}, 0, 1),
    Case("duplicate spell within provider", "discharges_dup.csv",
         text(spells({"spell_id": "X1"}, {"spell_id": "X1"}, {"spell_id": "X1", "provider_code": "RGN"})),
         {("error", 2, "provider_code+spell_id", "RWE/X1", "duplicate_key"),
          ("error", 3, "provider_code+spell_id", "RWE/X1", "duplicate_key")}, 1, 2),
    Case("negative hours", "reablement_neg.csv", text(episodes({"hours_delivered": "-3"})),
         {("error", 2, "hours_delivered", "-3", "not_negative")}, 0, 1),
    Case("three-decimal amount", "spend_3dp.csv", text(postings({"amount": "10.125"})),
         {("error", 2, "amount", "10.125", "money_2dp")}, 0, 1),
    Case("text in numeric columns", "spend_text.csv", text(postings({"amount": "£12.00"}, {"units": "two"})),
         {("error", 2, "amount", "£12.00", "number"), ("error", 3, "units", "two", "number")}, 0, 2),
    Case("xlsx formula without a cached value reads blank", "discharges_formula.xlsx",
         xlsx([GOOD_XLSX_ROW], formula=("E2", "=40+40")),
         {("error", 2, "age", "", "required")}, 0, 1),
    Case("xlsx merged title above the header", "discharges_merged.xlsx", xlsx([GOOD_XLSX_ROW], merged_title=True),
         {("error", None, "spell_id", None, "file.missing_column")}, 0, 2, "rejected"),
    Case("corrupt xlsx", "discharges_corrupt.xlsx", lambda _: b"PK\x03\x04 this is not really a zip",
         {("error", None, None, None, "file.corrupt")}, 0, 0, "rejected"),
    Case("very long value", "spend_long.csv", text(postings({"description": "x" * 200_000})),
         {("error", 2, "description", "x" * 80, "value.too_long")}, 0, 1),
    Case("formula-like free text is kept with a warning", "spend_formula.csv",
         text(postings({"description": '=HYPERLINK("http://x","y")'}, {"supplier": "+cmd|' /C calc'!A0"})),
         {("warning", 2, "description", '=HYPERLINK("http://x","y")', "formula_like_text"),
          ("warning", 3, "supplier", "+cmd|' /C calc'!A0", "formula_like_text")}, 2, 0),
    # rules against the plan are judged on every run against the plan then in force: the rows load, the finding
    # blocks the return until the plan or the ledger is put right (a corrected plan needs no new ledger)
    Case("scheme not in the plan", "spend_scheme.csv", text(postings({"scheme_id": "ZZ9"})),
         {("error", 2, "scheme_id", "ZZ9", "unknown_scheme")}, 1, 0),
    Case("unit is not the scheme's output unit", "spend_unit.csv",
         text(postings({"unit": "hours"}, {"units": "", "unit": ""})),
         {("error", 2, "unit", "hours", "unit_mismatch")}, 2, 0),
    Case("a reablement file named as discharges", "discharges_wrongkind.csv", text(episodes({})),
         {("error", None, "spell_id", None, "file.missing_column")}, 0, 1, "rejected"),
    Case("row with a stray comma", "discharges_ragged.csv", text(spells({}) + spells({"spell_id": "S2"}).splitlines()[1]
                                                                 + ",extra\n"),
         {("error", 3, None, None, "row.field_count")}, 1, 1),
    Case("code not in the set", "discharges_code.csv",
         text(spells({"discharge_destination": "77"}, {"setting": "Acute"}, {"admission_method": "2E"})),
         {("error", 2, "discharge_destination", "77", "code_set"), ("error", 3, "setting", "Acute", "code_set"),
          ("error", 4, "admission_method", "2E", "code_set")}, 0, 3),
    Case("discharge before admission, ready after discharge", "discharges_order.csv",
         text(spells({"discharge_date": "2023-01-01", "ready_for_discharge_date": ""},
                     {"ready_for_discharge_date": "2023-01-07"})),
         {("error", 2, "discharge_date", "2023-01-01", "date_order"),
          ("error", 3, "discharge_date", "2023-01-06", "date_order")}, 0, 2),
    Case("hospital referral without its discharge date", "reablement_nohdd.csv",
         text(episodes({"hospital_discharge_date": ""}, {"referral_source": "community",
                                                         "hospital_discharge_date": ""})),
         {("error", 2, "hospital_discharge_date", "", "required_when")}, 1, 1),
    Case("blank required value", "discharges_blank.csv", text(spells({"hwb_code": ""})),
         {("error", 2, "hwb_code", "", "required")}, 0, 1),
    Case("duplicate header column", "discharges_duphead.csv",
         text(",".join([*D_HEADER, "age"]) + "\n" + ",".join([SPELL[h] for h in D_HEADER] + ["80"]) + "\n"),
         {("error", None, "age", "age", "file.duplicate_column")}, 0, 1, "rejected"),  # issue 21: rows kept
    Case("bad ICD-10 code and external cause", "discharges_icd.csv",
         text(spells({"primary_diagnosis": "fall"}, {"external_cause": "J44"})),
         {("error", 2, "primary_diagnosis", "fall", "icd10"),
          ("error", 3, "external_cause", "J44", "icd10_external_cause")}, 0, 2),
]


@pytest.fixture(scope="module")
def planned_file(tmp_path_factory: pytest.TempPathFactory, validator: RowValidator) -> Path:
    """A warehouse holding a small plan in force, so spend rows have schemes to be checked against: staged once,
    copied for each case (every case stages its own file into its own copy)."""
    tmp = tmp_path_factory.mktemp("planned")
    plan = write_xlsx(tmp / "plan_x.xlsx", {
        "schemes": (contracts()["plan_schemes"].names[1:],
                    [["2022-23", "DF01", "Reablement beds", "Bed based intermediate Care Services", "la_discharge",
                      1000, "bed nights", 10, "Care home", "LA"]]),
        "income": (["fund_year", "funding_source", "amount"], [["2022-23", "la_discharge", 1000]]),
        "metric_plans": (["metric", "period", "plan_value"], [["falls", "2022-23 Q4", 500]]),
        "capacity": (["service", "month", "capacity"], [["pathway_1", "2023-01", 10]]),
        "population": (["fund_year", "age_band", "population"], [["2022-23", "65-69", 1000]]),
        "conditions": (["period", "condition", "confirmed"], [["2022-23 Q4", 1, "Yes"]]),
    })
    with db.connect(tmp / "wh.duckdb") as con:
        result = stage(con, plan, tmp, validator)
        assert result.findings == [] and result.rows_rejected == 0
        con.execute("CHECKPOINT")
    return tmp / "wh.duckdb"


@pytest.fixture
def planned(tmp_path: Path, planned_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(planned_file, tmp_path / "wh.duckdb")
    with db.connect(tmp_path / "wh.duckdb") as con:
        yield con


def stage(con: duckdb.DuckDBPyConnection, path: Path, tmp: Path, validator: RowValidator) -> FileResult:
    obj = SourceObject(path.resolve().as_uri(), path.name, kind_of(path.name), path.stat().st_size)
    return stage_file(con, obj, land(obj, tmp / "landing"), "run-bad", b"k", validator, TODAY)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_the_exact_finding_and_loses_no_row(
        case: Case, tmp_path: Path, planned: duckdb.DuckDBPyConnection, validator: RowValidator) -> None:
    src = tmp_path / "src"
    src.mkdir()
    path = src / case.file_name
    path.write_bytes(case.content(tmp_path))
    result = stage(planned, path, tmp_path, validator)
    judged = [f for f in source_findings(planned) if f.file == case.file_name]  # what a run judges afresh

    got = {(f.severity, f.row, f.column, f.value if f.row is not None or f.value else None, f.rule)
           for f in result.findings + judged}
    assert got == case.findings
    assert all(f.file == case.file_name and f.message for f in result.findings + judged)
    assert result.outcome == case.outcome
    assert (result.rows_loaded, result.rows_rejected) == (case.loaded, case.rejected)
    assert result.rows_received == result.rows_loaded + result.rows_rejected
    # the warehouse agrees: rejected rows are on record with their reasons
    stored = planned.execute("SELECT count(*), count(*) FILTER (WHERE reasons <> '') FROM rejected_rows r "
                             "JOIN files f USING (file_id) WHERE f.file_name = ?", [case.file_name]).fetchone()
    assert stored == (case.rejected, case.rejected)


def test_the_corpus_has_at_least_25_distinct_cases() -> None:
    assert len({c.name for c in CASES}) >= 25


def test_a_file_with_an_unknown_name_is_reported_not_read() -> None:
    obj = SourceObject("file:///x/notes.txt", "notes.txt", kind_of("notes.txt"), 3)
    result = ignored(obj)
    assert result.outcome == "ignored"
    assert [(f.severity, f.rule, f.value) for f in result.findings] == [
        ("warning", "file.unrecognised_name", "notes.txt")]


def test_a_plan_missing_a_sheet_rejects_that_sheet_only(
        tmp_path: Path, validator: RowValidator) -> None:
    plan = write_xlsx(tmp_path / "plan_y.xlsx", {
        "income": (["fund_year", "funding_source", "amount"], [["2022-23", "la_discharge", 1000]]),
    })
    with db.connect(tmp_path / "wh2.duckdb") as con:
        result = stage(con, plan, tmp_path, validator)
        assert result.outcome == "new" and result.rows_loaded == 1
        missing = {f.value for f in result.findings if f.rule == "file.missing_sheet"}
        assert missing == {"schemes", "metric_plans", "capacity", "population", "conditions"}
        assert con.execute("SELECT count(*) FROM cur_plan_income").fetchone() == (1,)

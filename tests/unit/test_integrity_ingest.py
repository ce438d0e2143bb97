"""Issue 10, the ingest side (points 1-5): nothing counted twice, a fortnight straddling 1 April, nothing leaked,
never a traceback, files found by their real names. Plain functions (`stage_file`, the checks), no Prefect; the
flow-level cases (S3, empty source, every output scanned) are in tests/integration/test_integrity_ingest.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bcf.core.dates import Fortnight
from bcf.core.settings import contracts
from bcf.ingest.sources import FetchFailed, SourceObject, kind_of, land, list_source
from bcf.ingest.stage_file import FileResult, stage_file
from bcf.returns.fortnightly import compute
from bcf.transforms.nhs_number import mask_text
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from bcf.warehouse.checks import blocking, duplicate_keys
from tests.conftest import write_xlsx
from tests.fixtures import HWB, OTHER, plan_sheets

TODAY = dt.date(2023, 4, 20)
S_HEADER = contracts()["spend"].names
D_HEADER = contracts()["discharges"].names
R_HEADER = contracts()["reablement"].names
POSTING = dict(zip(S_HEADER, ["T1", "", "2023-01-09", "DF01", "la_discharge", "120.50", "2", "bed nights", "CC1",
                              "Acme Care", "Beds"], strict=True))
SPELL = dict(zip(D_HEADER, ["S1", "RWE", "acute", "", "80", HWB, "2023-01-02", "21", "2023-01-05",
                            "2023-01-06", "19", "1", "J44.1", ""], strict=True))
EPISODE = dict(zip(R_HEADER, ["E1", "", "82", HWB, "hospital_discharge", "2023-01-06", "home_reablement",
                              "2023-01-07", "", "12.5", "", ""], strict=True))


def csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[r.get(h, "") for h in header] for r in rows])
    return out.getvalue()


def postings(ids: range | list[str], **changes: str) -> str:
    return csv_text(S_HEADER, [{**POSTING, "transaction_id": f"T{i}", **changes} for i in ids])


def spells(ids: range, **changes: str) -> str:
    return csv_text(D_HEADER, [{**SPELL, "spell_id": f"S{i}", **changes} for i in ids])


@pytest.fixture(scope="module")
def planned_file(tmp_path_factory: pytest.TempPathFactory, validator: RowValidator) -> Path:
    """A warehouse with the hand-counted fixture's plan in force (DF01 la/icb 2022-23, DF01 la 2023-24): staged
    once, copied for each test (each test stages its own files into its own copy)."""
    tmp = tmp_path_factory.mktemp("planned")
    plan = write_xlsx(tmp / "plan_x.xlsx", plan_sheets())
    with db.connect(tmp / "wh.duckdb") as con:
        assert stage(con, plan, tmp, validator).rows_rejected == 0
        con.execute("CHECKPOINT")
    return tmp / "wh.duckdb"


@pytest.fixture
def planned(tmp_path: Path, planned_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(planned_file, tmp_path / "wh.duckdb")
    with db.connect(tmp_path / "wh.duckdb") as con:
        yield con


def stage(con: duckdb.DuckDBPyConnection, path: Path, tmp: Path, validator: RowValidator) -> FileResult:
    obj = list_one(path)
    return stage_file(con, obj, land(obj, tmp / "landing"), "run-10", b"k", validator, TODAY)


def list_one(path: Path) -> SourceObject:
    return next(o for o in list_source(str(path.parent)) if o.name == path.name)


def put(folder: Path, name: str, content: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def balanced(result: FileResult, con: duckdb.DuckDBPyConnection) -> None:
    """received = loaded + rejected, in the result and in the warehouse."""
    assert result.rows_received == result.rows_loaded + result.rows_rejected
    if result.file_id is None:
        return
    stored = con.execute("SELECT rows_received, rows_loaded, rows_rejected FROM files WHERE file_id = ?",
                         [result.file_id]).fetchone()
    rejected = con.execute("SELECT count(*) FROM rejected_rows WHERE file_id = ?", [result.file_id]).fetchone()
    assert stored == (result.rows_received, result.rows_loaded, result.rows_rejected)
    assert rejected == (result.rows_rejected,)


def shape(findings: list) -> set[tuple[object, ...]]:  # type: ignore[type-arg]
    return {(f.severity, f.file, f.row, f.column, f.value, f.rule) for f in findings}


# ---- 1. Nothing counted twice ---------------------------------------------------------------------------------

def test_same_transactions_in_two_spend_files_are_errors_naming_both_and_block(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    src = tmp_path / "src"
    jan = stage(planned, put(src, "spend_jan.csv", postings(range(1, 61), hwb_code=HWB)), tmp_path, validator)
    # the February extract overlaps January's last 57 postings (T4..T60) and adds T61..T70
    feb = stage(planned, put(src, "spend_feb.csv", postings(range(4, 71), hwb_code=HWB)), tmp_path, validator)
    assert (jan.rows_loaded, feb.rows_loaded) == (60, 67)
    balanced(jan, planned)
    balanced(feb, planned)
    found = duplicate_keys(planned)
    assert len(found) == 57
    assert shape(found) == {("error", "spend_feb.csv", i - 2, "transaction_id", f"T{i}",
                             "key.duplicate_across_files") for i in range(4, 61)}
    first = next(f for f in found if f.value == "T4")
    assert "spend_jan.csv row 5" in first.message and "counted twice" in first.message
    # blocking is per HWB by the row's hwb_code (blank = whichever HWB's source it is): Rutland's return is blocked
    assert {f.rule for f in blocking(planned, HWB)} == {"key.duplicate_across_files"}
    assert len(blocking(planned, HWB)) == 57
    # ... and another HWB's return is not
    assert blocking(planned, OTHER) == []
    # another council's ledger in a shared source reuses its own ids: the same transaction_id for another HWB is
    # not the same posting (no return counts both), so it is not a duplicate
    stage(planned, put(src, "spend_other.csv", postings(range(1, 4), hwb_code=OTHER)), tmp_path, validator)
    assert len(duplicate_keys(planned)) == 57 and blocking(planned, OTHER) == []


def test_identical_bytes_are_a_no_op_same_name_supersedes_a_new_name_is_a_duplicate(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    src = tmp_path / "src"
    original = spells(range(1, 6))
    stage(planned, put(src, "discharges_rwe.csv", original), tmp_path, validator)
    # re-delivery of identical bytes: a no-op, no finding
    again = stage(planned, put(tmp_path / "again", "discharges_rwe.csv", original), tmp_path, validator)
    assert again.outcome == "already_received" and duplicate_keys(planned) == []
    # a correction under the same name supersedes the original: not a duplicate, nothing blocks
    fixed = stage(planned, put(tmp_path / "fixed", "discharges_rwe.csv", spells(range(1, 6), age="81")),
                  tmp_path, validator)
    assert fixed.outcome == "superseding"
    assert duplicate_keys(planned) == [] and blocking(planned, HWB) == []
    assert planned.execute("SELECT count(*), min(age) FROM cur_discharges").fetchone() == (5, 81)
    # the correction sent again under a new name beside it: every spell twice -> five errors naming both
    v2 = stage(planned, put(src, "discharges_rwe_v2.csv", spells(range(1, 6), age="82")), tmp_path, validator)
    assert v2.outcome == "new"
    found = duplicate_keys(planned)
    assert shape(found) == {("error", "discharges_rwe_v2.csv", i + 1, "provider_code+spell_id", f"RWE/S{i}",
                             "key.duplicate_across_files") for i in range(1, 6)}
    assert all(f"discharges_rwe.csv row {f.row}" in f.message for f in found)
    assert len(blocking(planned, HWB)) == 5


def test_a_reablement_episode_in_two_files_is_a_duplicate(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    src = tmp_path / "src"
    stage(planned, put(src, "reablement_a.csv", csv_text(R_HEADER, [EPISODE])), tmp_path, validator)
    stage(planned, put(src, "reablement_b.csv", csv_text(R_HEADER, [{**EPISODE, "hours_delivered": "13"}])),
          tmp_path, validator)
    assert shape(duplicate_keys(planned)) == {("error", "reablement_b.csv", 2, "episode_id", "E1",
                                               "key.duplicate_across_files")}


# ---- 2. A fortnight straddling 1 April ------------------------------------------------------------------------

# P = Friday 31 March .. Thursday 13 April 2023; fund year 2023-24 (it holds period_end), "to date" from 1 April.
# The plan (tests/fixtures.py) has one DF scheme in 2023-24: DF01, la_discharge, planned 7777 / 77 bed nights.
STRADDLE = [  # transaction_id, posting_date, scheme, source, amount, units: why it counts
    ("A1", "2023-03-31", "DF01", "la_discharge", "100.00", "1"),  # first day of P, before April: P only
    ("A2", "2023-04-03", "DF01", "la_discharge", "20.50", "2"),  # in P and to date (la)
    ("A3", "2023-04-13", "DF01", "icb_discharge", "5.25", ""),  # last day of P, to date (icb), no units
    ("A4", "2023-03-30", "DF01", "la_discharge", "1000.00", "4"),  # day before P, last fund year: out
    ("A5", "2023-04-14", "DF01", "la_discharge", "7.00", "1"),  # day after P: out
    ("A6", "2023-03-31", "DF01", "nhs_minimum", "50.00", ""),  # in P but not DF money: out
]
EXPECTED_STRADDLE = {
    "df.scheme.df01.spend_fortnight": Decimal("125.75"),  # A1 100.00 + A2 20.50 + A3 5.25
    "df.scheme.df01.output_fortnight": Decimal("3.00"),  # A1 1 + A2 2
    "df.scheme.df01.spend_to_date": Decimal("25.75"),  # A2 + A3 (from 1 April)
    "df.scheme.df01.spend_to_date_la": Decimal("20.50"),  # A2
    "df.scheme.df01.spend_to_date_icb": Decimal("5.25"),  # A3
    "df.scheme.df01.output_to_date": Decimal("2.00"),  # A2
    "df.scheme.df01.planned_spend": Decimal("7777.00"),
    "df.spend.fortnight": Decimal("125.75"),
    "df.spend.to_date": Decimal("25.75"),
}


def test_fortnight_straddling_1_april_counts_all_of_p_and_to_date_from_1_april(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    rows = [{**POSTING, "transaction_id": t, "posting_date": d, "scheme_id": s, "funding_source": f, "amount": a,
             "units": u, "unit": "bed nights" if u else ""} for t, d, s, f, a, u in STRADDLE]
    result = stage(planned, put(tmp_path / "src", "spend_q.csv", csv_text(S_HEADER, rows)), tmp_path, validator)
    assert result.rows_rejected == 0, result.findings
    period = Fortnight.ending(dt.date(2023, 4, 13))
    assert (period.period_start, period.fy_start) == (dt.date(2023, 3, 31), dt.date(2023, 4, 1))
    ret = compute(planned, HWB, period)
    assert {k: ret.value(k) for k in EXPECTED_STRADDLE} == EXPECTED_STRADDLE
    # lineage names exactly the rows counted
    keys = planned.execute("SELECT list(row_key ORDER BY row_key) FROM contrib "
                           "WHERE figure_id = 'df.scheme.df01.spend_fortnight'").fetchone()
    assert keys == (["A1", "A2", "A3"],)


# ---- 3. Nothing leaked (the masking function; every output is scanned in the integration test) ----------------

@pytest.mark.parametrize(("text", "masked"), [
    ("9434765919", "******5919"),
    ("943 476 5919", "******5919"),
    ("943-476-5919", "******5919"),
    ("NHS no 9434765919, seen", "NHS no ******5919, seen"),
    ("94347659191", "94347659191"),  # eleven digits: not one
    ("2023-01-02", "2023-01-02"),
    ("", ""),
])
def test_one_mask_for_every_nhs_number_like_value(text: str, masked: str) -> None:
    assert mask_text(text) == masked


# ---- 4. Never a traceback, never a whole run lost to one value ------------------------------------------------

def test_values_that_would_break_a_cast_are_row_findings_and_the_other_rows_load(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    src = tmp_path / "src"
    spend = stage(planned, put(src, "spend_big.csv", csv_text(S_HEADER, [
        POSTING,
        {**POSTING, "transaction_id": "T2", "amount": "12345678901234567890"},  # 20 digits: DECIMAL(18,2) overflow
        {**POSTING, "transaction_id": "T3", "amount": "１２"},  # full-width digits
        {**POSTING, "transaction_id": "T4", "units": "١٢٣"},  # Arabic-Indic digits
    ])), tmp_path, validator)
    assert shape(spend.findings) == {
        ("error", "spend_big.csv", 3, "amount", "12345678901234567890", "number"),
        ("error", "spend_big.csv", 4, "amount", "１２", "number"),
        ("error", "spend_big.csv", 5, "units", "١٢٣", "number"),
    }
    assert (spend.rows_loaded, spend.rows_rejected) == (1, 3)
    balanced(spend, planned)
    reab = stage(planned, put(src, "reablement_big.csv", csv_text(R_HEADER, [
        EPISODE,
        {**EPISODE, "episode_id": "E2", "hours_delivered": "9" * 40},
        {**EPISODE, "episode_id": "E3", "age": "9" * 30},
        {**EPISODE, "episode_id": "E4", "age": "٨٢"},
    ])), tmp_path, validator)
    assert shape(reab.findings) == {
        ("error", "reablement_big.csv", 3, "hours_delivered", "9" * 40, "number"),
        ("error", "reablement_big.csv", 4, "age", "9" * 30, "integer"),
        ("error", "reablement_big.csv", 5, "age", "٨٢", "integer"),
    }
    assert (reab.rows_loaded, reab.rows_rejected) == (1, 3)
    balanced(reab, planned)


def test_trailing_comma_on_every_row_is_one_warning_and_every_row_loads(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    text = "\n".join(line + "," if i else line for i, line in enumerate(postings(range(1, 4)).splitlines())) + "\n"
    result = stage(planned, put(tmp_path / "src", "spend_trailing.csv", text), tmp_path, validator)
    assert shape(result.findings) == {("warning", "spend_trailing.csv", None, None, None, "row.trailing_empty_fields")}
    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    # the first column is the transaction id, not an index
    assert planned.execute("SELECT list(transaction_id ORDER BY source_row) FROM cur_spend "
                           "WHERE file_name = 'spend_trailing.csv'").fetchone() == (["T1", "T2", "T3"],)


def test_an_extra_field_in_the_first_data_row_rejects_that_row_only(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    lines = postings(range(1, 4)).splitlines()
    lines[1] += ",surplus"
    result = stage(planned, put(tmp_path / "src", "spend_extra.csv", "\n".join(lines) + "\n"), tmp_path, validator)
    assert shape(result.findings) == {("error", "spend_extra.csv", 2, None, None, "row.field_count")}
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert planned.execute("SELECT list(transaction_id ORDER BY source_row) FROM cur_spend "
                           "WHERE file_name = 'spend_extra.csv'").fetchone() == (["T2", "T3"],)
    balanced(result, planned)


def test_an_unterminated_quote_rejects_it_and_the_15_rows_after_it_counted(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    lines = postings(range(1, 21)).splitlines()
    lines[5] = lines[5].replace("Acme Care", '"Acme Care')  # row 6 (T5) opens a quote that never closes
    result = stage(planned, put(tmp_path / "src", "spend_quote.csv", "\n".join(lines) + "\n"), tmp_path, validator)
    assert shape(result.findings) == {
        ("error", "spend_quote.csv", row, None, mask_text(lines[row - 1])[:80], "row.unterminated_quote")
        for row in range(6, 22)}
    assert "row 6 is never closed" in result.findings[0].message
    assert (result.rows_received, result.rows_loaded, result.rows_rejected) == (20, 4, 16)
    balanced(result, planned)


def test_an_unreadable_local_file_is_a_file_finding(tmp_path: Path) -> None:
    path = put(tmp_path / "src", "spend_locked.csv", postings(range(1, 3)))
    obj = list_one(path)
    if os.geteuid() == 0:  # root reads a file of mode 000: make it unreadable another way, a folder in its place
        path.unlink()
        path.mkdir()
        reason = "Is a directory"
    else:
        path.chmod(0)
        reason = "Permission denied"
    try:
        with pytest.raises(FetchFailed) as caught:
            land(obj, tmp_path / "landing")
    finally:
        if path.is_file():
            path.chmod(0o644)
    assert caught.value.rule == "file.unreadable" and reason in caught.value.message
    assert not [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]  # nothing half-landed


def _sheet_bomb(path: Path, far_cell: str) -> Path:
    """A valid one-row workbook with one more cell placed far out: a few KB that would expand to a grid of
    billions of cells."""
    write_xlsx(path, {"Discharges": (D_HEADER, [[SPELL[h] for h in D_HEADER]])})
    with zipfile.ZipFile(path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(
        b"</sheetData>", f'<row r="{far_cell[3:]}"><c r="{far_cell}" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData>".encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return path


@pytest.mark.slow
def test_an_xlsx_that_would_expand_beyond_a_sane_size_is_refused_before_parsing(
        planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    (tmp_path / "src").mkdir()
    bomb = _sheet_bomb(tmp_path / "src" / "discharges_bomb.xlsx", "XFD1048576")
    assert bomb.stat().st_size < 20_000
    result = stage(planned, bomb, tmp_path, validator)
    assert shape(result.findings) == {("error", "discharges_bomb.xlsx", None, None, None, "file.too_large")}
    assert "1,048,576 rows x 16,384 columns" in result.findings[0].message
    assert result.outcome == "rejected"
    # padding that deflates 1000:1: the zip's own directory says how far it expands
    padded = tmp_path / "src" / "discharges_padded.xlsx"
    write_xlsx(padded, {"Discharges": (D_HEADER, [[SPELL[h] for h in D_HEADER]])})
    with zipfile.ZipFile(padded, "a", zipfile.ZIP_DEFLATED) as zout, zout.open("xl/padding.bin", "w") as fh:
        for _ in range(520):
            fh.write(bytes(1 << 20))
    assert padded.stat().st_size < 2_000_000
    result = stage(planned, padded, tmp_path, validator)
    assert shape(result.findings) == {("error", "discharges_padded.xlsx", None, None, None, "file.too_large")}


# ---- 5. Files found by their real names -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["spend march (1).csv", "spend#1.csv", "spend?x.csv", "spend 100%25 a=b.csv",
                                  "spend%.csv"])
def test_a_local_file_is_read_by_its_real_name(
        name: str, planned: duckdb.DuckDBPyConnection, tmp_path: Path, validator: RowValidator) -> None:
    path = put(tmp_path / "src", name, postings(range(1, 4)))
    obj = list_one(path)
    assert (obj.name, obj.kind) == (name, "spend") and kind_of(name) == "spend"
    result = stage(planned, path, tmp_path, validator)
    assert (result.outcome, result.rows_loaded, result.findings) == ("new", 3, [])
    assert planned.execute("SELECT file_name FROM files WHERE file_id = ?", [result.file_id]).fetchone() == (name,)

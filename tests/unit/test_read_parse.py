"""Reading CSV and XLSX to text, supplier header mapping, and typed parsing by the contract (no Prefect here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from bcf.core.settings import contracts, supplier_mappings
from bcf.transforms.findings import FileProblem
from bcf.transforms.parse import PERSON_KEY, parse
from bcf.transforms.read import cell_text, read_csv, read_xlsx
from tests.conftest import write_csv, write_xlsx

DISCHARGE_HEADER = contracts()["discharges"].names
GOOD_SPELL = ["S1", "RWE", "acute", "9434765919", "80", "E06000017", "2023-01-02", "21", "2023-01-05",
              "2023-01-06", "19", "1", "J44.1", ""]


def test_cell_text_turns_xlsx_cells_into_csv_text() -> None:
    assert cell_text(19.0) == "19"
    assert cell_text(12.5) == "12.5"
    assert cell_text(1234.56) == "1234.56"
    assert cell_text(dt.date(2023, 1, 5)) == "2023-01-05"
    assert cell_text(dt.datetime(2023, 1, 5, 0, 0)) == "2023-01-05"
    assert cell_text(None) == ""
    assert cell_text("  x ") == "x"


def test_csv_discharges_parse_to_typed_columns(tmp_path: Path, key: bytes) -> None:
    path = write_csv(tmp_path / "discharges_a.csv", DISCHARGE_HEADER, [GOOD_SPELL])
    parsed = parse(read_csv(path, path.name), contracts()["discharges"], key)
    assert parsed.findings == []
    row = parsed.frame.iloc[0]
    assert row["source_row"] == 2
    assert row["admission_date"] == dt.date(2023, 1, 2)
    assert row["age"] == 80
    assert row["discharge_destination"] == "19"
    assert "nhs_number" not in parsed.frame.columns
    assert len(row[PERSON_KEY]) == 32


def test_xlsx_numeric_codes_date_cells_and_uk_text_dates(tmp_path: Path, key: bytes) -> None:
    row = ["S1", "RGN", "acute", 9434765919, 80, "E06000017", dt.date(2023, 1, 2), 21, "05/01/2023",
           dt.datetime(2023, 1, 6), 19, 1, "J441", None]
    path = write_xlsx(tmp_path / "discharges_b.xlsx", {"Sheet1": (DISCHARGE_HEADER, [row])})
    parsed = parse(read_xlsx(path, path.name), contracts()["discharges"], key)
    assert parsed.findings == []
    got = parsed.frame.iloc[0]
    assert got["ready_for_discharge_date"] == dt.date(2023, 1, 5)
    assert got["discharge_date"] == dt.date(2023, 1, 6)
    assert got["discharge_destination"] == "19" and got["discharge_pathway"] == "1"
    assert got["admission_method"] == "21"


def test_xlsx_row_numbers_are_sheet_rows_and_blank_rows_are_not_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [GOOD_SPELL, [None] * len(DISCHARGE_HEADER), ["S2", *GOOD_SPELL[1:]]]
    path = write_xlsx(tmp_path / "discharges_c.xlsx", {"Sheet1": (DISCHARGE_HEADER, rows)})
    raw = read_xlsx(path, path.name)
    assert raw.frame["source_row"].tolist() == [2, 4]
    assert raw.frame["spell_id"].tolist() == ["S1", "S2"]


@pytest.mark.parametrize("kind", ["reablement", "spend"])
def test_each_kind_reads_from_csv_and_xlsx_alike(tmp_path: Path, key: bytes, kind: str) -> None:
    header = contracts()[kind].names
    row = {
        "reablement": ["E1", "", "82", "E06000017", "hospital_discharge", "2023-01-06", "home_reablement",
                       "2023-01-07", "", "12.5", "", ""],
        "spend": ["T1", "", "2023-01-09", "DF01", "la_discharge", "-120.50", "2", "bed nights", "CC1", "Acme",
                  "Reversal"],
    }[kind]
    csv_path = write_csv(tmp_path / f"{kind}.csv", header, [row])
    xlsx_path = write_xlsx(tmp_path / f"{kind}.xlsx", {"Sheet1": (header, [row])})
    from_csv = parse(read_csv(csv_path, csv_path.name), contracts()[kind], key)
    from_xlsx = parse(read_xlsx(xlsx_path, xlsx_path.name), contracts()[kind], key)
    assert from_csv.findings == [] and from_xlsx.findings == []
    a = from_csv.frame.drop(columns="row_hash")
    b = from_xlsx.frame.drop(columns="row_hash")
    assert a.astype(str).to_dict("records") == b.astype(str).to_dict("records")


def test_plan_sheets_read_by_name(tmp_path: Path, key: bytes) -> None:
    header = contracts()["plan_income"].names
    path = write_xlsx(tmp_path / "plan.xlsx", {
        "schemes": (["x"], [["y"]]),
        "income": (header, [["", "2022-23", "la_discharge", 113100], ["", "2022-23", "icb_discharge", 155271]]),
    })
    parsed = parse(read_xlsx(path, path.name, sheet="income"), contracts()["plan_income"], key)
    assert parsed.findings == []
    assert parsed.frame["amount"].tolist() == ["113100", "155271"]  # exact text, cast to DECIMAL on load


def test_supplier_mapping_renames_headers_and_uk_dates_parse(tmp_path: Path, key: bytes) -> None:
    mapping = next(m for m in supplier_mappings() if m.supplier == "RNQ")
    header = list(mapping.columns)  # the supplier's own names, in contract order
    row = ["K1", "RNQ", "acute", "", "77", "E06000017", "02/01/2023", "21", "", "31/01/2023", "19", "0", "S72.0",
           "W19"]
    path = write_csv(tmp_path / "discharges_rnq_x.csv", header, [row])
    assert mapping.applies_to(path.name)
    parsed = parse(read_csv(path, path.name, mapping), contracts()["discharges"], key)
    assert parsed.findings == []
    got = parsed.frame.iloc[0]
    assert got["admission_date"] == dt.date(2023, 1, 2) and got["discharge_date"] == dt.date(2023, 1, 31)
    assert pd.isna(got[PERSON_KEY])  # a blank NHS number gets no key


def test_type_faults_become_row_findings_with_masked_nhs_number(tmp_path: Path, key: bytes) -> None:
    bad = ["S9", "RWE", "acute", "9434765918", "eighty", "E06000017", "31/02/2023", "21", "", "", "", "", "J44", ""]
    path = write_csv(tmp_path / "discharges_d.csv", DISCHARGE_HEADER, [GOOD_SPELL, bad])
    parsed = parse(read_csv(path, path.name), contracts()["discharges"], key)
    got = {(f.row, f.column, f.rule, f.value) for f in parsed.findings}
    assert got == {
        (3, "nhs_number", "nhs_number", "******5918"),
        (3, "age", "integer", "eighty"),
        (3, "admission_date", "date", "31/02/2023"),
    }


def test_missing_required_column_is_a_file_problem(tmp_path: Path, key: bytes) -> None:
    header = [h for h in DISCHARGE_HEADER if h != "discharge_date"]
    path = write_csv(tmp_path / "discharges_e.csv", header, [GOOD_SPELL[:-1]])
    with pytest.raises(FileProblem) as info:
        parse(read_csv(path, path.name), contracts()["discharges"], key)
    assert info.value.rule == "file.missing_column" and info.value.column == "discharge_date"

"""Two-pass GX (BOOLEAN_ONLY, then COMPLETE for the failing rules) finds exactly what one COMPLETE pass finds."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from bcf.core.settings import contracts
from bcf.transforms import validate
from bcf.transforms.findings import Finding
from bcf.transforms.read import SOURCE_ROW
from bcf.transforms.validate import (
    RULE_INDEX,
    RowValidator,
    _column_of,
    _text,
    code_parameters,
    suite_columns,
    suite_document,
)

ONE_PASS_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [SOURCE_ROW]}
PARAMS = {"today": dt.date(2023, 4, 1)}


def _one_pass(v: RowValidator, frame: pd.DataFrame, table: str) -> list[Finding]:
    """The pre-issue-14 way: the whole suite in one batch of every column, COMPLETE results, values as GX quotes
    them."""
    doc = suite_document(table)
    suite = v._gx.ExpectationSuite(name=f"{table}.whole", expectations=[
        v._config(**{**e, "meta": {**e.get("meta", {}), RULE_INDEX: i}}).to_domain_obj()
        for i, e in enumerate(doc["expectations"])])
    v._suite(table)
    batch = v._batches[table].get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    result = batch.validate(suite, result_format=ONE_PASS_FORMAT,
                            expectation_parameters={**code_parameters(), **PARAMS})
    out = []
    for item in result.results:
        if not item.success:
            c = item.expectation_config
            column = _column_of(c.kwargs)
            hits = [Finding(c.meta.get("severity", "error"), "f.csv", int(hit[SOURCE_ROW]), column,
                            "/".join(_text(hit.get(n)) for n in column.split("+")), c.meta.get("rule", "rule"),
                            c.meta.get("message", "Value breaks a rule."))
                    for hit in item.result["unexpected_index_list"]]
            out.extend(sorted(hits, key=lambda f: f.row or 0))
    return out


def _spend(rows: int, dirty: bool) -> pd.DataFrame:
    frame = pd.DataFrame({
        SOURCE_ROW: range(2, rows + 2), "transaction_id": [f"T{i}" for i in range(rows)],
        "hwb_code": ["E06000017"] * rows, "posting_date": [dt.date(2023, 1, 5)] * rows,
        "funding_source": ["la_discharge"] * rows, "scheme_id": ["DF01"] * rows, "amount": ["10.00"] * rows,
        "unit": ["bed nights"] * rows, "units": ["2"] * rows, "supplier": ["Acme"] * rows,
        "description": ["care"] * rows, "cost_centre": ["CC1"] * rows, "extra": ["ignored"] * rows,
    })
    if dirty:
        frame.loc[1, "hwb_code"] = "X1"
        frame.loc[2, ["amount", "scheme_id"]] = ["1.234", "ZZ99"]
        frame.loc[3, "transaction_id"] = "T0"
        frame.loc[4, ["supplier", "unit"]] = ["=HYPERLINK()", "hours"]
        frame.loc[5, "posting_date"] = dt.date(2030, 1, 1)
    return frame


@pytest.mark.parametrize("small_table", [20_000, 0])
def test_two_pass_findings_equal_one_pass(monkeypatch: pytest.MonkeyPatch, small_table: int) -> None:
    monkeypatch.setattr(validate, "SMALL_TABLE", small_table)
    v = RowValidator()
    contract = contracts()["spend"]
    dirty = _spend(8, True)
    got = v.check(dirty, contract, "f.csv", PARAMS)
    assert got == _one_pass(v, dirty, "spend")
    assert {3, 4, 5, 6, 7} <= {f.row for f in got}  # every planted fault is found


def _discharges(rows: int) -> pd.DataFrame:
    day = dt.date(2023, 1, 5)
    frame = pd.DataFrame({
        SOURCE_ROW: range(2, rows + 2), "spell_id": [f"S{i}" for i in range(rows)], "provider_code": ["RWE"] * rows,
        "setting": ["acute"] * rows, "age": pd.array([70] * rows, dtype="Int64"), "hwb_code": ["E06000017"] * rows,
        "admission_date": [day - dt.timedelta(days=3)] * rows, "admission_method": ["21"] * rows,
        "ready_for_discharge_date": [day - dt.timedelta(days=1)] * rows, "discharge_date": [day] * rows,
        "discharge_destination": ["19"] * rows, "discharge_pathway": ["0"] * rows, "primary_diagnosis": ["I10"] * rows,
        "external_cause": [None] * rows,
    })
    frame.loc[1, ["age", "setting"]] = [121, "Acute"]
    frame.loc[2, ["age", "discharge_date"]] = [pd.NA, dt.date(2023, 4, 2)]  # a blank age is not out of range
    frame.loc[3, ["admission_date", "ready_for_discharge_date"]] = [None, dt.date(2022, 12, 1)]  # nothing to compare
    frame.loc[4, ["discharge_date", "spell_id"]] = [dt.date(2023, 1, 3), "S0"]
    frame.loc[5, ["age", "discharge_date", "ready_for_discharge_date"]] = [-1, dt.date(1900, 1, 1), None]
    frame.loc[6, ["admission_date", "external_cause", "primary_diagnosis"]] = [dt.date(9999, 12, 31), "X99", "i10"]
    frame.loc[7, ["discharge_date", "age"]] = [dt.date(2023, 4, 1), 120]  # today and the top age are allowed
    return frame


@pytest.mark.parametrize("small_table", [20_000, 0])  # rules sharing two batches; a batch per rule
def test_rule_by_rule_on_numbers_finds_what_one_pass_finds(monkeypatch: pytest.MonkeyPatch, small_table: int) -> None:
    """Dates and nullable ages go to the ordered rules as numbers; the findings, values included, stay the same."""
    monkeypatch.setattr(validate, "SMALL_TABLE", small_table)
    v = RowValidator()
    frame = _discharges(9)
    got = v.check(frame, contracts()["discharges"], "f.csv", PARAMS)
    assert got == _one_pass(v, frame, "discharges")
    assert {f.row for f in got} == {2, 3, 4, 6, 7, 8}
    assert {(f.row, f.value) for f in got if f.rule == "age_range"} == {(3, "121"), (7, "-1")}
    assert (8, "admission_date", "9999-12-31") in {(f.row, f.column, f.value) for f in got}


def test_clean_table_has_no_findings_and_suite_columns_cover_conditions() -> None:
    v = RowValidator()
    assert v.check(_spend(8, False), contracts()["spend"], "f.csv", PARAMS) == []
    assert {"hwb_code", "transaction_id"} <= suite_columns("spend")  # the in-file key rule reads both
    assert "referral_source" in suite_columns("reablement")

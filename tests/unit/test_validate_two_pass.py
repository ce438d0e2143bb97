"""Two-pass GX (BOOLEAN_ONLY, then COMPLETE for the failing rules) finds exactly what one COMPLETE pass finds."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from core.settings import contracts
from transforms.read import SOURCE_ROW
from transforms.validate import RESULT_FORMAT, RowValidator, _findings, _prepare, code_parameters, suite_columns

PARAMS = {"today": dt.date(2023, 4, 1), "plan_scheme_ids": ["DF01"], "plan_scheme_units": {"DF01": "bed nights"}}


def _one_pass(v: RowValidator, frame: pd.DataFrame, table: str) -> list:  # type: ignore[type-arg]
    """The pre-issue-14 way: every rule, COMPLETE results, every column."""
    suite = v._suite(table)
    batch = v._batches[table].get_batch(batch_parameters={"dataframe": _prepare(frame, table, PARAMS)})
    result = batch.validate(suite, result_format=RESULT_FORMAT, expectation_parameters={**code_parameters(), **PARAMS})
    out = []
    for item in result.results:
        if not item.success:
            c = item.expectation_config
            out.extend(_findings("f.csv", c.kwargs, c.meta or {}, item.result.get("unexpected_index_list") or []))
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


def test_two_pass_findings_equal_one_pass() -> None:
    v = RowValidator()
    contract = contracts()["spend"]
    dirty = _spend(8, True)
    got = v.check(dirty, contract, "f.csv", PARAMS)
    assert got == _one_pass(v, dirty, "spend")
    assert {3, 4, 5, 6, 7} <= {f.row for f in got}  # every planted fault is found


def test_clean_table_has_no_findings_and_suite_columns_cover_conditions() -> None:
    v = RowValidator()
    assert v.check(_spend(8, False), contracts()["spend"], "f.csv", PARAMS) == []
    assert {"units", "scheme_output_unit", "unit"} <= suite_columns("spend")
    assert "referral_source" in suite_columns("reablement")

"""The built-in workbooks look like a return: sign-off fields on the Cover, coloured checks, readable services and
print set-up on every sheet (Lineage too); the figure cells stay where they were."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from bcf.returns import df_workbook, q_workbook
from bcf.returns.fortnightly import FortnightlyReturn
from bcf.returns.quarterly import QuarterlyReturn
from bcf.transforms.workbook import write_workbook


def _rules(sheet) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    cf = sheet.conditional_formatting._cf_rules
    return {str(rng.sqref): [r.formula[0] for r in rules] for rng, rules in cf.items()}


def test_fortnightly_built_in_workbook(tmp_path: Path, df_return: FortnightlyReturn) -> None:
    ret = df_return
    path = tmp_path / "df.xlsx"
    where = write_workbook(path, df_workbook.layouts(ret, {"completed_by": "A. Officer", "contact": "a@x.gov.uk"}),
                           ret.figures, df_workbook.ALLOWED_BLANK)
    assert where["df.hwb_code"] == ("Cover", "B4") and where["df.balance"] == ("Income and Checks", "B7")
    book = load_workbook(path)
    cover = {r[0].value: r[1].value for r in book["Cover"].iter_rows(min_row=4) if r[0].value}
    assert cover["Completed by"] == "A. Officer" and cover["Contact (e-mail and telephone)"] == "a@x.gov.uk"
    assert "Signed off by (on behalf of the Health and Wellbeing Board)" in cover
    checks = _rules(book["Income and Checks"])
    coord = where["df.check.plan_within_income"][1]
    assert '"No"' in checks[coord] and book["Income and Checks"][coord].value == "No"
    assert "0" in checks[where["df.balance"][1]]  # a negative balance is highlighted
    assert {'"Complete"', '"Incomplete"'} <= {f for fs in _rules(book["Checklist"]).values() for f in fs}
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
        assert sheet.print_title_rows == ("$1:$1" if sheet.title == "Lineage" else "$3:$3")
        assert "Rutland (E06000017)" in sheet.oddHeader.left.text and "06/01/2023 to 19/01/2023" in \
            sheet.oddHeader.left.text
        assert sheet.oddFooter.right.text == "Page &P of &N"


def test_quarterly_built_in_workbook(tmp_path: Path, q_return: QuarterlyReturn) -> None:
    ret = q_return
    path = tmp_path / "q.xlsx"
    where = write_workbook(path, q_workbook.layouts(ret), ret.figures, checklist=False)
    assert where["q.cd.pathway_1.2023_01.demand"] == ("Capacity & Demand", "C4")  # as the shipped builtin map says
    book = load_workbook(path)
    services = {r[0].value for r in book["Capacity & Demand"].iter_rows(min_row=4) if r[0].value}
    assert not any(str(s).startswith(("pathway_", "community_")) for s in services)
    assert "Hospital discharge, pathway 1: home with new support (reablement, rehabilitation at home)" in services
    gaps = _rules(book["Capacity & Demand"])
    assert "0" in gaps[where["q.cd.pathway_1.2023_01.gap"][1]]
    assert '"Incomplete"' in _rules(book["Cover"])[where["q.template_status"][1]]
    assert book["Lineage"].print_title_rows == "$1:$1" and "2022-23 Q4" in book["Lineage"].oddHeader.left.text

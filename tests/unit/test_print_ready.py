"""Issue 24 part 4: print-ready outputs. The Lineage sheet prints legibly (landscape, one page wide at about 100%,
wrapped text, the header row repeated, rows tall enough for their wrapped lines) and money and counts carry units;
the figure cells stay where they were."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from bcf.returns import df_workbook, q_workbook
from bcf.returns.fortnightly import FortnightlyReturn
from bcf.returns.quarterly import QuarterlyReturn
from bcf.transforms.workbook import wrapped_lines, write_workbook


def _df_book(tmp_path: Path, ret: FortnightlyReturn) -> tuple[Path, dict[str, tuple[str, str]]]:
    path = tmp_path / "df.xlsx"
    return path, write_workbook(path, df_workbook.layouts(ret), ret.figures, df_workbook.ALLOWED_BLANK)


def test_the_lineage_sheet_prints_legibly_with_nothing_clipped(tmp_path: Path, df_return: FortnightlyReturn) -> None:
    path, _ = _df_book(tmp_path, df_return)
    sheet = load_workbook(path)["Lineage"]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$1"
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFGH"]
    assert sum(widths) <= 185  # one A4 landscape page wide at a readable scale (was 236: printed at ~55%)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                width = sheet.column_dimensions[cell.column_letter].width
                assert cell.alignment.wrap_text, cell.coordinate  # long text wraps, never runs under the next
                lines = wrapped_lines(cell.value, int(width))
                assert (sheet.row_dimensions[cell.row].height or 15) >= 15 * lines, cell.coordinate


def test_money_and_counts_carry_their_units_and_figures_stay_put(tmp_path: Path,
                                                                df_return: FortnightlyReturn) -> None:
    path, where = _df_book(tmp_path, df_return)
    assert where["df.hwb_code"] == ("Cover", "B4") and where["df.balance"] == ("Income and Checks", "B7")
    book = load_workbook(path)
    spend = [c.value for c in book["Spend and Activity"][3] if c.value]
    assert "Planned spend (DF) (£)" in spend and "Output to date (output units)" in spend
    assert all("(£)" in h or "(output units)" in h for h in spend[2:]), spend
    labels = {r[0].value for r in book["Discharges"].iter_rows(min_row=4) if r[0].value}
    assert "Discharges in the fortnight (number)" in labels and "Bed days lost (ready to discharge) (days)" in labels
    income = {r[0].value for r in book["Income and Checks"].iter_rows(min_row=4) if r[0].value}
    assert "Total Discharge Fund income (£)" in income
    for sheet in book.worksheets:  # every money cell shows £ in its number format
        for row in sheet.iter_rows():
            for cell in row:
                if cell.number_format.startswith("#,##0.00") and isinstance(cell.value, int | float):
                    assert sheet.title != "Income and Checks" or "£" in cell.number_format


def test_the_quarterly_headers_name_their_units(tmp_path: Path, q_return: QuarterlyReturn) -> None:
    ret = q_return
    path = tmp_path / "q.xlsx"
    where = write_workbook(path, q_workbook.layouts(ret), ret.figures, checklist=False)
    assert where["q.cd.pathway_1.2023_01.demand"] == ("Capacity & Demand", "C4")
    book = load_workbook(path)
    assert [c.value for c in book["Income and Expenditure"][3]] == [
        "Funding source", "Income (£)", "Expenditure YTD (£)", "Balance (£)"]
    assert [c.value for c in book["Capacity & Demand"][3]][2:] == ["Demand (people)", "Capacity (people)",
                                                                   "Gap (people)"]
    assert [c.value for c in book["Spend and Activity"][3]][2:] == [
        "Planned spend (£)", "Actual spend YTD (£)", "Planned output (output units)",
        "Actual output YTD (output units)"]
    assert [c.value for c in book["Metrics"][3]][2:4] == ["Numerator (number)", "Denominator (number)"]
    lineage = book["Lineage"]
    assert sum(lineage.column_dimensions[c].width for c in "ABCDEFGH") <= 185

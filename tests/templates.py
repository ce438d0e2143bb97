"""Stand-ins for the national templates, built with openpyxl the way the national BCF team's workbooks are made:
a merged title, yellow input cells, Yes/No and assessment drop-downs from a hidden Lists sheet, formulas over the
inputs (gaps, balances, totals, a cross-sheet check), a protected guidance sheet and a logo image.

Layouts: the BCF 2023-24 quarterly reporting template (Cover, National Conditions, Metrics, Capacity & Demand, Spend
and activity, Income and Expenditure) and the Discharge Fund fortnightly template. config/cellmaps/ holds the maps
for them; tests/unit/test_national_template.py checks `bcf cellmap` proposes exactly those maps.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

YELLOW = PatternFill("solid", fgColor="FFFF99")
GREY = PatternFill("solid", fgColor="D9D9D9")
ASSESSMENTS = ["On track to meet target", "Not on track to meet target", "Data not available to assess progress"]
SOURCES = [("nhs_minimum", "Minimum NHS Contribution"), ("ibcf", "iBCF"), ("dfg", "DFG"),
           ("la_discharge", "Local Authority Discharge Funding"), ("icb_discharge", "ICB Discharge Funding"),
           ("additional_la", "Additional LA Contribution"), ("additional_icb", "Additional ICB Contribution")]


def _logo() -> Image:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (120, 40), (0, 94, 184)).save(buffer, format="PNG")  # NHS blue
    buffer.seek(0)
    return Image(buffer)


def _title(sheet: Worksheet, text: str, last_col: str = "H") -> None:
    sheet["A1"] = text
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(f"A1:{last_col}1")


def _input(sheet: Worksheet, coord: str) -> None:
    sheet[coord].fill = YELLOW


def _header(sheet: Worksheet, row: int, col: int, text: str) -> None:
    cell = sheet.cell(row=row, column=col, value=text)
    cell.font, cell.fill = Font(bold=True), GREY


def _lists(book: Workbook) -> None:
    lists = book.create_sheet("Lists")
    for i, v in enumerate(["Yes", "No"], start=1):
        lists.cell(row=i, column=1, value=v)
    for i, v in enumerate(ASSESSMENTS, start=1):
        lists.cell(row=i, column=2, value=v)
    lists.sheet_state = "hidden"
    book.defined_names["YesNo"] = DefinedName("YesNo", attr_text="Lists!$A$1:$A$2")
    book.defined_names["Assessments"] = DefinedName("Assessments", attr_text="Lists!$B$1:$B$3")


def _guidance(book: Workbook, text: str) -> None:
    guidance = book.create_sheet("Guidance", 0)
    guidance["A1"] = text
    guidance["A3"] = "Complete the yellow cells. Grey cells are calculated. Do not change the layout."
    guidance.protection.sheet = True
    guidance.protection.password = "bcf"


def quarterly_template(path: Path, schemes: list[tuple[str, str]], months: list[dt.date]) -> Path:
    book = Workbook()
    cover = book.active
    cover.title = "1. Cover"
    _title(cover, "Better Care Fund 2023-24 Quarterly Reporting Template")
    cover.add_image(_logo(), "G3")
    for r, label in ((4, "Health and Wellbeing Board:"), (5, "HWB code:"), (6, "Quarter:"),
                     (7, "Completed by:"), (8, "E-mail:"), (9, "Signed off by:"), (11, "Template status:")):
        cover.cell(row=r, column=2, value=label)
        _input(cover, f"C{r}")

    cond = book.create_sheet("2. National Conditions")
    _title(cond, "National Conditions")
    _header(cond, 6, 2, "National condition")
    _header(cond, 6, 3, "Confirmation")
    _header(cond, 6, 4, "If the answer is No, please provide an explanation")
    for i, text in enumerate([
        "1) Plans to be jointly agreed",
        "2) Implementing BCF Policy Objective 1: Enabling people to stay well, safe and independent at home for longer",
        "3) Implementing BCF Policy Objective 2: Providing the right care in the right place at the right time",
        "4) Maintaining NHS's contribution to adult social care and investment in NHS commissioned out of hospital "
        "services"], start=7):
        cond.cell(row=i, column=2, value=text)
        _input(cond, f"C{i}")
    yes_no = DataValidation(type="list", formula1="=YesNo", allow_blank=True)
    cond.add_data_validation(yes_no)
    yes_no.add("C7:C10")

    met = book.create_sheet("3. Metrics")
    _title(met, "National Metrics")
    for c, text in enumerate(["Metric", "Definition", "Plan (Q)", "Numerator", "Denominator", "Actual",
                              "Assessment of progress against the metric plan for the reporting period"], start=2):
        _header(met, 6, c, text)
    for r, (name, definition) in enumerate([
        ("Avoidable admissions", "Unplanned hospitalisation for chronic ambulatory care sensitive conditions"),
        ("Falls", "Emergency hospital admissions due to falls in people aged 65 and over, per 100,000"),
        ("Discharge to normal place of residence", "Percentage of people discharged to their usual place of "
                                                   "residence"),
        ("Residential Admissions", "Long-term support needs of older people (65+) met by admission to residential "
                                   "and nursing care homes, per 100,000"),
        ("Reablement", "Proportion of older people still at home 91 days after discharge into reablement")],
            start=7):
        met.cell(row=r, column=2, value=name)
        met.cell(row=r, column=3, value=definition)
        for col in "DEFGH":
            _input(met, f"{col}{r}")
    assess = DataValidation(type="list", formula1="=Assessments", allow_blank=True)
    met.add_data_validation(assess)
    assess.add("H7:H11")

    cd = book.create_sheet("4. Capacity & Demand")
    _title(cd, "Capacity & Demand: intermediate care, by month", "K")
    _header(cd, 5, 2, "Service")
    for i, month in enumerate(months):
        col = 3 + 3 * i
        _header(cd, 5, col, f"{month:%b-%y}")
        cd.merge_cells(start_row=5, start_column=col, end_row=5, end_column=col + 2)
        for j, part in enumerate(("Demand", "Capacity", "Gap")):
            _header(cd, 6, col + j, part)
    services = ["Pathway 1: Reablement / rehabilitation at home (hospital discharge)",
                "Pathway 2: Step down beds (hospital discharge)",
                "Pathway 3: Discharge to assess in a care home (hospital discharge)",
                "Community: Reablement / rehabilitation at home", "Community: Bed-based intermediate care"]
    for r, service in enumerate(services, start=7):
        cd.cell(row=r, column=2, value=service)
        for i in range(3):
            d, c, g = (cd.cell(row=r, column=3 + 3 * i + j).coordinate for j in range(3))
            _input(cd, d)
            _input(cd, c)
            cd[g] = f'=IF({c}="","",{c}-{d})'  # the template computes the gap
            cd[g].fill = GREY
    cd.cell(row=12, column=2, value="Total")
    for col in range(3, 12):
        letter = cd.cell(row=7, column=col).column_letter
        cd.cell(row=12, column=col, value=f"=SUM({letter}7:{letter}11)").fill = GREY

    sa = book.create_sheet("5. Spend and activity")
    _title(sa, "Spend and activity: year to date")
    for c, text in enumerate(["Scheme ID", "Scheme name", "Funding source", "Planned expenditure",
                              "Actual expenditure to date", "Planned outputs", "Actual outputs to date"], start=2):
        _header(sa, 6, c, text)
    for r, (sid, name) in enumerate(schemes, start=7):
        sa.cell(row=r, column=2, value=sid)
        sa.cell(row=r, column=3, value=name)
        sa.cell(row=r, column=4, value="All sources")
        for col in "EFGH":
            _input(sa, f"{col}{r}")
    total = 7 + len(schemes)
    sa.cell(row=total, column=2, value="Total")
    for col in "EFGH":
        sa[f"{col}{total}"] = f"=SUM({col}7:{col}{total - 1})"
        sa[f"{col}{total}"].fill = GREY

    ie = book.create_sheet("6. Income and Expenditure")
    _title(ie, "Income and Expenditure", "F")
    for c, text in enumerate(["Funding source", "Income", "Expenditure to date", "Balance"], start=2):
        _header(ie, 6, c, text)
    for r, (_key, label) in enumerate(SOURCES, start=7):
        ie.cell(row=r, column=2, value=label)
        _input(ie, f"C{r}")
        _input(ie, f"D{r}")
        ie[f"E{r}"] = f"=C{r}-D{r}"
        ie[f"E{r}"].fill = GREY
    last = 6 + len(SOURCES)
    ie.cell(row=last + 1, column=2, value="Total")
    for col in "CDE":
        ie[f"{col}{last + 1}"] = f"=SUM({col}7:{col}{last})"
        ie[f"{col}{last + 1}"].fill = GREY
    # a cross-sheet check the national team adds: total spend here agrees with the schemes sheet
    ie[f"B{last + 3}"] = "Expenditure agrees with Spend and activity?"
    ie[f"C{last + 3}"] = f"=IF(ROUND(D{last + 1},2)=ROUND('5. Spend and activity'!F{total},2),\"Yes\",\"No\")"

    _lists(book)
    _guidance(book, "Better Care Fund 2023-24 Quarterly Reporting Template: guidance")
    book.save(path)
    return path


def fortnightly_template(path: Path, schemes: list[tuple[str, str]]) -> Path:
    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    _title(cover, "Adult Social Care Discharge Fund: fortnightly activity and spend report")
    cover.add_image(_logo(), "G3")
    for r, label in ((4, "Health and Wellbeing Board"), (5, "HWB code"), (6, "Reporting period start"),
                     (7, "Reporting period end"), (8, "Fund year"), (9, "Completed by"),
                     (10, "Signed off on behalf of the Board? (Yes/No)")):
        cover.cell(row=r, column=2, value=label)
        _input(cover, f"C{r}")
    signed = DataValidation(type="list", formula1="=YesNo", allow_blank=True)
    cover.add_data_validation(signed)
    signed.add("C10")

    dis = book.create_sheet("Discharges")
    _title(dis, "Hospital discharges in the reporting period (acute, excluding deaths)")
    rows = ["Number of people discharged in the period", "Pathway 0: home, no new support",
            "Pathway 1: home with new support", "Pathway 2: bed-based short-term service",
            "Pathway 3: new long-term care home placement", "Pathway not recorded",
            "Discharged to their usual place of residence", "Discharges with a ready for discharge date",
            "Discharged the same day they were ready", "Discharged within 48 hours of being ready",
            "Bed days lost (ready to discharge)", "Average delay per person (days)"]
    for r, label in enumerate(rows, start=4):
        dis.cell(row=r, column=2, value=label)
        _input(dis, f"C{r}")
    dis["B17"] = "Check: pathways add up to the total"
    dis["C17"] = '=IF(SUM(C5:C9)=C4,"Yes","No")'

    pk = book.create_sheet("Packages")
    _title(pk, "Packages of care")
    for r, label in enumerate(["Reablement packages started in the period", "of which from hospital discharge",
                               "Packages in use in the period"], start=4):
        pk.cell(row=r, column=2, value=label)
        _input(pk, f"C{r}")

    sa = book.create_sheet("Spend and Activity")
    _title(sa, "Discharge Fund spend and activity by scheme", "K")
    heads = ["Scheme ID", "Scheme name", "Planned spend", "Spend this fortnight", "Spend to date",
             "of which LA grant", "of which ICB allocation", "Planned output", "Output this fortnight",
             "Output to date"]
    for c, text in enumerate(heads, start=2):
        _header(sa, 6, c, text)
    for r, (sid, name) in enumerate(schemes, start=7):
        sa.cell(row=r, column=2, value=sid)
        sa.cell(row=r, column=3, value=name)
        for col in "DEFGHIJK":
            _input(sa, f"{col}{r}")
    total = 7 + len(schemes)
    sa.cell(row=total, column=2, value="Total")
    for col in "DEFGH":
        sa[f"{col}{total}"] = f"=SUM({col}7:{col}{total - 1})"
        sa[f"{col}{total}"].fill = GREY

    inc = book.create_sheet("Income")
    _title(inc, "Discharge Fund income and balance", "F")
    for r, label in ((4, "Local Authority Discharge Fund grant"), (5, "ICB Discharge Fund allocation")):
        inc.cell(row=r, column=2, value=label)
        _input(inc, f"C{r}")
    inc["B6"], inc["C6"] = "Total income", "=C4+C5"
    inc["B7"], inc["C7"] = "Spend to date", f"='Spend and Activity'!F{total}"
    inc["B8"], inc["C8"] = "Remaining balance", "=C6-C7"
    inc["B9"], inc["C9"] = "Planned spend within income?", f"=IF('Spend and Activity'!D{total}<=C6,\"Yes\",\"No\")"
    inc["B10"], inc["C10"] = "Spend to date within income?", '=IF(C7<=C6,"Yes","No")'
    for r in range(6, 11):
        inc[f"C{r}"].fill = GREY

    _lists(book)
    _guidance(book, "Discharge Fund fortnightly template: guidance")
    book.save(path)
    return path

"""Stand-ins for the national templates, built with openpyxl the way the national BCF team's workbooks are made:
a merged title, yellow input cells, Yes/No and assessment drop-downs from a hidden Lists sheet, formulas over the
inputs (gaps, balances, totals, a cross-sheet check), a protected guidance sheet and a logo image.

Layouts: the BCF 2023-24 quarterly reporting template (Cover, National Conditions, Metrics, Capacity & Demand, Spend
and activity, Income and Expenditure) and the Discharge Fund fortnightly template. config/cellmaps/ holds the maps
for them; tests/unit/test_national_template.py checks `bcf cellmap` proposes exactly those maps. Two later layouts
per return follow (see below: QUARTERLY_LAYOUTS, FORTNIGHTLY_LAYOUTS). Every builder takes `truth`, a dict it fills
with figure id -> Sheet!A1 of each input cell a figure of ours belongs in: what tests/unit/test_cellmap_layouts.py
scores the proposer against.
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

from bcf.transforms.figures import scheme_slug

YELLOW = PatternFill("solid", fgColor="FFFF99")
GREY = PatternFill("solid", fgColor="D9D9D9")
ASSESSMENTS = ["On track to meet target", "Not on track to meet target", "Data not available to assess progress"]
SOURCES = [("nhs_minimum", "Minimum NHS Contribution"), ("ibcf", "iBCF"), ("dfg", "DFG"),
           ("la_discharge", "Local Authority Discharge Funding"), ("icb_discharge", "ICB Discharge Funding"),
           ("additional_la", "Additional LA Contribution"), ("additional_icb", "Additional ICB Contribution")]


METRIC_ORDER = ("avoidable_admissions", "falls", "discharge_usual_residence", "residential_admissions",
                "reablement_91d")
CD_ORDER = ("pathway_1", "pathway_2", "pathway_3", "community_reablement", "community_bed")
SCHEME_PARTS = ("planned_spend", "actual_spend_ytd", "planned_output", "actual_output_ytd")
DF_DISCHARGES = ("total", "pathway_0", "pathway_1", "pathway_2", "pathway_3", "pathway_unknown", "usual_residence",
                 "with_ready_date", "same_day", "within_48h", "delay_days", "avg_delay_days")
DF_SCHEME_PARTS = ("planned_spend", "spend_fortnight", "spend_to_date", "spend_to_date_la", "spend_to_date_icb",
                   "planned_output", "output_fortnight", "output_to_date")


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


def quarterly_template(path: Path, schemes: list[tuple[str, str]], months: list[dt.date],
                       truth: dict[str, str] | None = None) -> Path:
    """The BCF 2023-24 layout. `truth` receives figure id -> Sheet!A1 of every input cell a figure belongs in."""
    truth = {} if truth is None else truth
    book = Workbook()
    cover = book.active
    cover.title = "1. Cover"
    _title(cover, "Better Care Fund 2023-24 Quarterly Reporting Template")
    cover.add_image(_logo(), "G3")
    for r, label in ((4, "Health and Wellbeing Board:"), (5, "HWB code:"), (6, "Quarter:"),
                     (7, "Completed by:"), (8, "E-mail:"), (9, "Signed off by:"), (11, "Template status:")):
        cover.cell(row=r, column=2, value=label)
        _input(cover, f"C{r}")
    truth.update({"q.hwb_name": "1. Cover!C4", "q.hwb_code": "1. Cover!C5", "q.quarter": "1. Cover!C6",
                  "q.template_status": "1. Cover!C11"})

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
        truth[f"q.condition.{i - 6}.confirmed"] = f"2. National Conditions!C{i}"
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
        metric = METRIC_ORDER[r - 7]
        for col, part in zip("DEFGH", ("plan", "numerator", "denominator", "actual", "assessment"), strict=True):
            if metric != "residential_admissions" or part not in ("numerator", "denominator"):
                truth[f"q.metric.{metric}.{part}"] = f"3. Metrics!{col}{r}"
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
            truth[f"q.cd.{CD_ORDER[r - 7]}.{months[i]:%Y_%m}.demand"] = f"4. Capacity & Demand!{d}"
            truth[f"q.cd.{CD_ORDER[r - 7]}.{months[i]:%Y_%m}.capacity"] = f"4. Capacity & Demand!{c}"
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
        for col, part in zip("EFGH", SCHEME_PARTS, strict=True):
            _input(sa, f"{col}{r}")
            truth[f"q.scheme.{scheme_slug(sid)}.{part}"] = f"5. Spend and activity!{col}{r}"
    total = 7 + len(schemes)
    sa.cell(row=total, column=2, value="Total")
    for col in "EFGH":
        sa[f"{col}{total}"] = f"=SUM({col}7:{col}{total - 1})"
        sa[f"{col}{total}"].fill = GREY

    ie = book.create_sheet("6. Income and Expenditure")
    _title(ie, "Income and Expenditure", "F")
    for c, text in enumerate(["Funding source", "Income", "Expenditure to date", "Balance"], start=2):
        _header(ie, 6, c, text)
    for r, (key, label) in enumerate(SOURCES, start=7):
        ie.cell(row=r, column=2, value=label)
        _input(ie, f"C{r}")
        _input(ie, f"D{r}")
        truth[f"q.ie.{key}.income"] = f"6. Income and Expenditure!C{r}"
        truth[f"q.ie.{key}.expenditure_ytd"] = f"6. Income and Expenditure!D{r}"
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


def fortnightly_template(path: Path, schemes: list[tuple[str, str]], truth: dict[str, str] | None = None) -> Path:
    """The Discharge Fund 2022-23 layout; `truth` as for quarterly_template."""
    truth = {} if truth is None else truth
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
    truth.update({f"df.{k}": f"Cover!C{r}" for r, k in ((4, "hwb_name"), (5, "hwb_code"), (6, "period_start"),
                                                        (7, "period_end"), (8, "fund_year"))})
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
        truth[f"df.discharges.{DF_DISCHARGES[r - 4]}"] = f"Discharges!C{r}"
    dis["B17"] = "Check: pathways add up to the total"
    dis["C17"] = '=IF(SUM(C5:C9)=C4,"Yes","No")'

    pk = book.create_sheet("Packages")
    _title(pk, "Packages of care")
    for r, label in enumerate(["Reablement packages started in the period", "of which from hospital discharge",
                               "Packages in use in the period"], start=4):
        pk.cell(row=r, column=2, value=label)
        _input(pk, f"C{r}")
        truth[f"df.packages.{('started', 'started_from_hospital', 'in_use')[r - 4]}"] = f"Packages!C{r}"

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
        for col, part in zip("DEFGHIJK", DF_SCHEME_PARTS, strict=True):
            _input(sa, f"{col}{r}")
            truth[f"df.scheme.{scheme_slug(sid)}.{part}"] = f"Spend and Activity!{col}{r}"
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
        truth[f"df.income.{'la' if r == 4 else 'icb'}"] = f"Income!C{r}"
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


# ---------- later years' layouts: the same returns, laid out and worded differently ----------
# B (2024-25 style): inputs marked by a data validation and a blue fill, headings over two rows (Demand / Capacity
# merged over date cells; Planned / Actual merged over Q1..Q4, the plans pre-populated by the national team), a
# scheme column of "ID - name", sheet names and wording unlike 2023-24's.
# C (2025-26 style): protected sheets whose input cells are only unlocked and filled (no validation), a form with
# each label above its field, quarter group headings over Ambition / Outturn, month headings written out, service
# labels split over a merged group cell and the row label, "YTD" / "cumulative" / "outturn" wording.

BLUE = PatternFill("solid", fgColor="DDEBF7")
GREEN = PatternFill("solid", fgColor="E2EFDA")
WHOLE = ("whole", "between", "0", "100000000")
DECIMAL = ("decimal", "greaterThanOrEqual", "0", None)


def _validate(sheet: Worksheet, cells: str, rule: tuple[str, str, str, str | None]) -> None:
    kind, operator, low, high = rule
    dv = DataValidation(type=kind, operator=operator, formula1=low, formula2=high, allow_blank=True)
    sheet.add_data_validation(dv)
    dv.add(cells)


def _unlocked(sheet: Worksheet, coord: str, fill: PatternFill = GREEN) -> None:
    from openpyxl.styles import Protection

    sheet[coord].protection = Protection(locked=False)
    sheet[coord].fill = fill


def _protect(sheet: Worksheet) -> None:
    sheet.protection.sheet = True
    sheet.protection.password = "bcf"


def _merge(sheet: Worksheet, row: int, col: int, last_col: int, text: str, last_row: int | None = None) -> None:
    _header(sheet, row, col, text)
    sheet.merge_cells(start_row=row, start_column=col, end_row=last_row or row, end_column=last_col)


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


SOURCES_B = [("nhs_minimum", "Minimum NHS contribution"), ("ibcf", "iBCF"), ("dfg", "Disabled Facilities Grant"),
             ("la_discharge", "LA Discharge Fund"), ("icb_discharge", "ICB Discharge Fund"),
             ("additional_la", "Additional LA contribution"), ("additional_icb", "Additional ICB contribution")]
METRICS_B = ["Avoidable admissions per 100,000", "Emergency admissions due to falls (65+)",
             "Discharge to usual place of residence (%)", "Admissions to residential and nursing homes (65+)",
             "Still at home 91 days after reablement (%)"]


def quarterly_template_b(path: Path, schemes: list[tuple[str, str]], months: list[dt.date],
                         truth: dict[str, str] | None = None) -> Path:
    truth = {} if truth is None else truth
    quarter = (months[0].month - 4) % 12 // 3 + 1
    book = Workbook()
    front = book.active
    front.title = "Front Sheet"
    _title(front, "BCF Quarterly Return 2024-25")
    front.add_image(_logo(), "H3")
    labels = [("q.hwb_name", "Health and Wellbeing Board"), ("q.hwb_code", "ONS code"),
              ("q.quarter", "Reporting quarter"), ("q.template_status", "Template status"),
              ("", "Prepared by"), ("", "Contact e-mail"), ("", "Approved by"), ("", "Date of sign-off")]
    for r, (fid, label) in enumerate(labels, start=4):
        front.cell(row=r, column=2, value=label)
        front.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)  # the label spans two cells
        front[f"D{r}"].fill = BLUE
        if fid:
            truth[fid] = f"Front Sheet!D{r}"
    _validate(front, "D11", ("date", "greaterThan", "45000", None))

    pc = book.create_sheet("Policy Conditions")
    _title(pc, "Policy conditions")
    for c, text in enumerate(["National condition", "Met? (Yes/No)", "Comments"], start=2):
        _header(pc, 5, c, text)
    for n, text in enumerate(["Condition 1: a jointly agreed plan", "Condition 2: people stay well at home",
                              "Condition 3: right care, right place, right time",
                              "Condition 4: NHS contribution to social care maintained"], start=1):
        pc.cell(row=5 + n, column=2, value=text)
        pc[f"C{5 + n}"].fill = BLUE
        pc[f"D{5 + n}"].fill = BLUE
        truth[f"q.condition.{n}.confirmed"] = f"Policy Conditions!C{5 + n}"
    _validate(pc, "C6:C9", ("list", None, '"Yes,No"', None))  # type: ignore[arg-type]

    met = book.create_sheet("Metrics 24-25")
    _title(met, "Metrics: plans and actuals by quarter", "N")
    _header(met, 6, 2, "Metric")
    _merge(met, 5, 3, 6, "Planned")
    _merge(met, 5, 7, 10, "Actual")
    for i in range(4):
        _header(met, 6, 3 + i, f"Q{i + 1}")
        _header(met, 6, 7 + i, f"Q{i + 1}")
    for c, text in ((11, "Numerator (this quarter)"), (12, "Denominator (this quarter)"),
                    (13, "Assessment of progress")):
        _header(met, 6, c, text)
    for r, (metric, name) in enumerate(zip(METRIC_ORDER, METRICS_B, strict=True), start=7):
        met.cell(row=r, column=2, value=name)
        for i in range(4):
            met.cell(row=r, column=3 + i, value=100 + r + i)  # the national team pre-populates the plans
            met.cell(row=r, column=7 + i).fill = BLUE
        truth[f"q.metric.{metric}.actual"] = f"Metrics 24-25!{_letter(6 + quarter)}{r}"
        truth[f"q.metric.{metric}.assessment"] = f"Metrics 24-25!M{r}"
        if metric != "residential_admissions":
            for c, part in ((11, "numerator"), (12, "denominator")):
                met.cell(row=r, column=c).fill = BLUE
                truth[f"q.metric.{metric}.{part}"] = f"Metrics 24-25!{_letter(c)}{r}"
        met[f"M{r}"].fill = BLUE
    _validate(met, "G7:L11", DECIMAL)
    assess = DataValidation(type="list", formula1="=Assessments", allow_blank=True)
    met.add_data_validation(assess)
    assess.add("M7:M11")

    cd = book.create_sheet("Capacity and Demand")
    _title(cd, "Intermediate care: demand and capacity (people)", "I")
    _merge(cd, 4, 3, 5, "Demand")
    _merge(cd, 4, 6, 8, "Capacity")
    for i, month in enumerate(months):
        for base in (3, 6):
            cell = cd.cell(row=5, column=base + i, value=dt.datetime(month.year, month.month, 1))
            cell.number_format, cell.font = "mmm-yy", Font(bold=True)
    _merge(cd, 6, 1, 1, "Hospital discharge", last_row=8)
    _merge(cd, 9, 1, 1, "Community", last_row=10)
    for r, (service, label) in enumerate(zip(CD_ORDER, [
            "Pathway 1 - reablement at home", "Pathway 2 - short-term bed", "Pathway 3 - care home placement",
            "Reablement / rehabilitation at home", "Bed-based intermediate care"], strict=True), start=6):
        cd.cell(row=r, column=2, value=label)
        for i, month in enumerate(months):
            for base, part in ((3, "demand"), (6, "capacity")):
                coord = f"{_letter(base + i)}{r}"
                cd[coord].fill = BLUE
                truth[f"q.cd.{service}.{month:%Y_%m}.{part}"] = f"Capacity and Demand!{coord}"
    cd["B11"] = "Total"
    for col in range(3, 9):
        cd.cell(row=11, column=col, value=f"=SUM({_letter(col)}6:{_letter(col)}10)")
    _validate(cd, "C6:H10", WHOLE)

    ex = book.create_sheet("Expenditure")
    _title(ex, "Scheme expenditure and outputs, 2024-25")
    _header(ex, 6, 2, "Scheme")
    _merge(ex, 5, 3, 4, "Expenditure (£)")
    _merge(ex, 5, 5, 6, "Outputs")
    for c, text in ((3, "Planned"), (4, "Actual YTD"), (5, "Planned"), (6, "Actual YTD")):
        _header(ex, 6, c, text)
    for r, (sid, name) in enumerate(schemes, start=7):
        ex.cell(row=r, column=2, value=f"{sid} - {name}")
        for c, part in zip((3, 4, 5, 6), SCHEME_PARTS, strict=True):
            ex.cell(row=r, column=c).fill = BLUE
            truth[f"q.scheme.{scheme_slug(sid)}.{part}"] = f"Expenditure!{_letter(c)}{r}"
    total = 7 + len(schemes)
    ex.cell(row=total, column=2, value="Total")
    for c in range(3, 7):
        ex.cell(row=total, column=c, value=f"=SUM({_letter(c)}7:{_letter(c)}{total - 1})")
    _validate(ex, f"C7:F{total - 1}", DECIMAL)

    fs = book.create_sheet("Funding Sources")
    _title(fs, "Funding", "F")
    for c, text in enumerate(["Funding stream", "Income received", "Spent year to date", "Balance remaining"],
                             start=2):
        _header(fs, 5, c, text)
    for r, (key, label) in enumerate(SOURCES_B, start=6):
        fs.cell(row=r, column=2, value=label)
        fs[f"C{r}"].fill = fs[f"D{r}"].fill = BLUE
        fs[f"E{r}"] = f"=C{r}-D{r}"
        truth[f"q.ie.{key}.income"] = f"Funding Sources!C{r}"
        truth[f"q.ie.{key}.expenditure_ytd"] = f"Funding Sources!D{r}"
    last = 5 + len(SOURCES_B)
    fs.cell(row=last + 1, column=2, value="Total")
    for col in "CDE":
        fs[f"{col}{last + 1}"] = f"=SUM({col}6:{col}{last})"
    _validate(fs, f"C6:D{last}", DECIMAL)

    _lists(book)
    _guidance(book, "BCF Quarterly Return 2024-25: how to complete this workbook")
    book.save(path)
    return path


def quarterly_template_c(path: Path, schemes: list[tuple[str, str]], months: list[dt.date],
                         truth: dict[str, str] | None = None) -> Path:
    truth = {} if truth is None else truth
    quarter = (months[0].month - 4) % 12 // 3 + 1
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _title(summary, "Better Care Fund: quarterly monitoring 2025-26", "F")
    summary.add_image(_logo(), "E3")
    form = [("q.hwb_name", "Health and Wellbeing Board"), ("q.hwb_code", "HWB code"),
            ("q.quarter", "Period reported"), ("q.template_status", "Status of this return"), ("", "Completed by"),
            ("", "Contact details"), ("", "Signed off by"), ("", "Date signed off")]
    for i, (fid, label) in enumerate(form):
        summary.cell(row=4 + 2 * i, column=2, value=label).font = Font(bold=True)
        _unlocked(summary, f"B{5 + 2 * i}")  # the field sits under its label
        if fid:
            truth[fid] = f"Summary!B{5 + 2 * i}"
    _protect(summary)

    cond = book.create_sheet("Conditions")
    _title(cond, "Conditions of the fund")
    for c, text in enumerate(["Condition", "Confirmed", "Explanation if not confirmed"], start=2):
        _header(cond, 5, c, text)
    for n in range(1, 5):
        cond.cell(row=5 + n, column=2, value=f"National condition {n}")
        _unlocked(cond, f"C{5 + n}")
        _unlocked(cond, f"D{5 + n}")
        truth[f"q.condition.{n}.confirmed"] = f"Conditions!C{5 + n}"
    _protect(cond)

    met = book.create_sheet("Metrics")
    _title(met, "Metric ambitions and outturn", "L")
    _header(met, 6, 2, "Indicator")
    for i in range(4):
        _merge(met, 5, 3 + 2 * i, 4 + 2 * i, f"Q{i + 1} 2025-26")
        _header(met, 6, 3 + 2 * i, "Ambition")
        _header(met, 6, 4 + 2 * i, "Outturn")
    _header(met, 6, 11, "Progress against ambition")
    for r, (metric, name) in enumerate(zip(METRIC_ORDER, [
            "Unplanned admissions for chronic ambulatory care sensitive conditions",
            "Falls-related emergency admissions (65+)", "Discharges to usual place of residence",
            "Permanent admissions to residential care (65+)", "Reablement: at home 91 days after discharge"],
            strict=True), start=7):
        met.cell(row=r, column=2, value=name)
        for c in range(3, 12):
            _unlocked(met, f"{_letter(c)}{r}")
        truth[f"q.metric.{metric}.plan"] = f"Metrics!{_letter(1 + 2 * quarter)}{r}"
        truth[f"q.metric.{metric}.actual"] = f"Metrics!{_letter(2 + 2 * quarter)}{r}"
        truth[f"q.metric.{metric}.assessment"] = f"Metrics!K{r}"
    _protect(met)

    cd = book.create_sheet("Intermediate Care")
    _title(cd, "Intermediate care: monthly demand and capacity", "K")
    for i, month in enumerate(months):
        _merge(cd, 5, 3 + 3 * i, 5 + 3 * i, f"{month:%B %Y}")
        for j, part in enumerate(("Demand", "Capacity", "Gap")):
            _header(cd, 6, 3 + 3 * i + j, part)
    _merge(cd, 7, 1, 1, "Hospital discharge", last_row=9)
    _merge(cd, 10, 1, 1, "Community", last_row=11)
    for r, (service, label) in enumerate(zip(CD_ORDER, [
            "Pathway 1", "Pathway 2", "Pathway 3", "Reablement at home", "Bed-based care"], strict=True), start=7):
        cd.cell(row=r, column=2, value=label)
        for i, month in enumerate(months):
            d, c, g = (f"{_letter(3 + 3 * i + j)}{r}" for j in range(3))
            _unlocked(cd, d)
            _unlocked(cd, c)
            cd[g] = f'=IF({c}="","",{c}-{d})'
            truth[f"q.cd.{service}.{month:%Y_%m}.demand"] = f"Intermediate Care!{d}"
            truth[f"q.cd.{service}.{month:%Y_%m}.capacity"] = f"Intermediate Care!{c}"
    _protect(cd)

    sc = book.create_sheet("Schemes")
    _title(sc, "Schemes: spend and activity", "H")
    _header(sc, 6, 2, "Scheme")
    _header(sc, 6, 3, "Scheme reference")
    _merge(sc, 5, 4, 5, "Expenditure")
    _merge(sc, 5, 6, 7, "Activity")
    for c, text in ((4, "Ambition"), (5, "Cumulative outturn"), (6, "Ambition"), (7, "Cumulative outturn")):
        _header(sc, 6, c, text)
    for r, (sid, name) in enumerate(schemes, start=7):
        sc.cell(row=r, column=2, value=name)
        sc.cell(row=r, column=3, value=sid)
        for c, part in zip((4, 5, 6, 7), SCHEME_PARTS, strict=True):
            _unlocked(sc, f"{_letter(c)}{r}")
            truth[f"q.scheme.{scheme_slug(sid)}.{part}"] = f"Schemes!{_letter(c)}{r}"
    total = 7 + len(schemes)
    sc.cell(row=total, column=2, value="Total")
    for c in range(4, 8):
        sc.cell(row=total, column=c, value=f"=SUM({_letter(c)}7:{_letter(c)}{total - 1})")
    _protect(sc)

    inc = book.create_sheet("Income")
    _title(inc, "Income and spend by source of funding", "F")
    for c, text in enumerate(["Source of funding", "Allocation", "Expenditure YTD", "Remaining"], start=2):
        _header(inc, 5, c, text)
    for r, (key, label) in enumerate(SOURCES, start=6):
        inc.cell(row=r, column=2, value=label)
        _unlocked(inc, f"C{r}")
        _unlocked(inc, f"D{r}")
        inc[f"E{r}"] = f"=C{r}-D{r}"
        truth[f"q.ie.{key}.income"] = f"Income!C{r}"
        truth[f"q.ie.{key}.expenditure_ytd"] = f"Income!D{r}"
    last = 5 + len(SOURCES)
    inc.cell(row=last + 1, column=2, value="Total")
    for col in "CDE":
        inc[f"{col}{last + 1}"] = f"=SUM({col}6:{col}{last})"
    _protect(inc)

    _lists(book)
    _guidance(book, "Better Care Fund quarterly monitoring 2025-26: guidance")
    book.save(path)
    return path


def fortnightly_template_b(path: Path, schemes: list[tuple[str, str]], truth: dict[str, str] | None = None) -> Path:
    truth = {} if truth is None else truth
    book = Workbook()
    front = book.active
    front.title = "Front sheet"
    _title(front, "Discharge Fund: fortnightly monitoring return 2023-24")
    front.add_image(_logo(), "G3")
    labels = [("df.hwb_name", "Health and Wellbeing Board"), ("df.hwb_code", "ONS code"),
              ("df.period_start", "Fortnight beginning"), ("df.period_end", "Fortnight ending"),
              ("df.fund_year", "Financial year"), ("", "Name of person completing"), ("", "Signed off by")]
    for r, (fid, label) in enumerate(labels, start=4):
        front.cell(row=r, column=2, value=label)
        front[f"C{r}"].fill = BLUE
        if fid:
            truth[fid] = f"Front sheet!C{r}"
    _validate(front, "C6:C7", ("date", "greaterThan", "40000", None))

    hd = book.create_sheet("Hospital discharge")
    _title(hd, "Discharges from acute hospital this fortnight")
    _header(hd, 3, 2, "Measure")
    _header(hd, 3, 3, "Number")
    rows = ["Total discharges (acute, excluding deaths)", "P0: home, no new support", "P1: home with support",
            "P2: short-term bed", "P3: care home", "Pathway unknown", "Discharged to usual place of residence",
            "Discharges with a date ready for discharge", "Same day discharges",
            "Discharged within two days of being ready", "Total bed days lost to delay", "Mean delay (days)"]
    for r, label in enumerate(rows, start=4):
        hd.cell(row=r, column=2, value=label)
        hd[f"C{r}"].fill = BLUE
        truth[f"df.discharges.{DF_DISCHARGES[r - 4]}"] = f"Hospital discharge!C{r}"
    _validate(hd, "C4:C14", WHOLE)
    hd["B17"], hd["C17"] = "Pathways agree with the total?", '=IF(SUM(C5:C9)=C4,"Yes","No")'

    cp = book.create_sheet("Care packages")
    _title(cp, "Reablement and care packages")
    for r, label in enumerate(["New reablement packages", "of which following hospital discharge",
                               "Packages active in the fortnight"], start=4):
        cp.cell(row=r, column=2, value=label)
        cp[f"C{r}"].fill = BLUE
        truth[f"df.packages.{('started', 'started_from_hospital', 'in_use')[r - 4]}"] = f"Care packages!C{r}"
    _validate(cp, "C4:C6", WHOLE)

    ss = book.create_sheet("Scheme spend")
    _title(ss, "Spend and activity by Discharge Fund scheme", "K")
    _header(ss, 6, 2, "Scheme ID")
    _header(ss, 6, 3, "Description")
    _merge(ss, 5, 4, 8, "Expenditure (£)")
    _merge(ss, 5, 9, 11, "Activity")
    for c, text in enumerate(["Planned", "This fortnight", "Cumulative", "of which LA", "of which ICB", "Planned",
                              "This fortnight", "Cumulative"], start=4):
        _header(ss, 6, c, text)
    for r, (sid, name) in enumerate(schemes, start=7):
        ss.cell(row=r, column=2, value=sid)
        ss.cell(row=r, column=3, value=name)
        for c, part in enumerate(DF_SCHEME_PARTS, start=4):
            ss.cell(row=r, column=c).fill = BLUE
            truth[f"df.scheme.{scheme_slug(sid)}.{part}"] = f"Scheme spend!{_letter(c)}{r}"
    total = 7 + len(schemes)
    ss.cell(row=total, column=2, value="Total")
    for c in range(4, 12):
        ss.cell(row=total, column=c, value=f"=SUM({_letter(c)}7:{_letter(c)}{total - 1})")
    _validate(ss, f"D7:K{total - 1}", DECIMAL)

    fu = book.create_sheet("Funding")
    _title(fu, "Discharge Fund income", "F")
    fu["B4"], fu["B5"] = "LA discharge grant", "ICB discharge allocation"
    fu["C4"].fill = fu["C5"].fill = BLUE
    truth.update({"df.income.la": "Funding!C4", "df.income.icb": "Funding!C5"})
    _validate(fu, "C4:C5", DECIMAL)
    fu["B6"], fu["C6"] = "Total income", "=C4+C5"
    fu["B7"], fu["C7"] = "Balance", f"=C6-'Scheme spend'!F{total}"
    fu["B8"], fu["C8"] = "Planned spend within income?", f"=IF('Scheme spend'!D{total}<=C6,\"Yes\",\"No\")"

    _lists(book)
    _guidance(book, "Discharge Fund fortnightly monitoring return: guidance")
    book.save(path)
    return path


def fortnightly_template_c(path: Path, schemes: list[tuple[str, str]], truth: dict[str, str] | None = None) -> Path:
    truth = {} if truth is None else truth
    book = Workbook()
    det = book.active
    det.title = "Details"
    _title(det, "Adult social care discharge funding: fortnightly report", "F")
    det.add_image(_logo(), "E3")
    form = [("df.hwb_name", "Health and Wellbeing Board"), ("df.hwb_code", "HWB code"),
            ("df.period_start", "Start of reporting period"), ("df.period_end", "End of reporting period"),
            ("df.fund_year", "Financial year"), ("", "Completed by"), ("", "Contact details")]
    for i, (fid, label) in enumerate(form):
        det.cell(row=4 + 2 * i, column=2, value=label).font = Font(bold=True)
        _unlocked(det, f"B{5 + 2 * i}")
        if fid:
            truth[fid] = f"Details!B{5 + 2 * i}"
    _protect(det)

    act = book.create_sheet("Activity")
    _title(act, "Discharges and packages this fortnight", "F")
    _header(act, 3, 2, "Hospital discharges (acute)")
    rows = ["Number of people discharged", "Pathway 0", "Pathway 1", "Pathway 2", "Pathway 3",
            "Pathway not known", "Discharged to normal place of residence", "With a ready for discharge date",
            "Discharged the same day as ready", "Discharged within 48h of ready", "Days lost to delay",
            "Average delay (days)"]
    for r, label in enumerate(rows, start=4):
        act.cell(row=r, column=2, value=label)
        _unlocked(act, f"C{r}")
        truth[f"df.discharges.{DF_DISCHARGES[r - 4]}"] = f"Activity!C{r}"
    _header(act, 17, 2, "Reablement packages")
    for r, label in enumerate(["Packages started", "Started from hospital", "Packages in use"], start=18):
        act.cell(row=r, column=2, value=label)
        _unlocked(act, f"C{r}")
        truth[f"df.packages.{('started', 'started_from_hospital', 'in_use')[r - 18]}"] = f"Activity!C{r}"
    _protect(act)

    sp = book.create_sheet("Spend by scheme")
    _title(sp, "Discharge funding: spend and units by scheme", "J")
    for c, text in enumerate(["Scheme", "Planned spend", "Spend in fortnight", "YTD spend", "YTD spend: LA",
                              "YTD spend: ICB", "Planned units", "Units in fortnight", "YTD units"], start=2):
        _header(sp, 5, c, text)
    for r, (sid, name) in enumerate(schemes, start=6):
        sp.cell(row=r, column=2, value=f"{sid}: {name}")
        for c, part in enumerate(DF_SCHEME_PARTS, start=3):
            _unlocked(sp, f"{_letter(c)}{r}")
            truth[f"df.scheme.{scheme_slug(sid)}.{part}"] = f"Spend by scheme!{_letter(c)}{r}"
    total = 6 + len(schemes)
    sp.cell(row=total, column=2, value="Total")
    for c in range(3, 11):
        sp.cell(row=total, column=c, value=f"=SUM({_letter(c)}6:{_letter(c)}{total - 1})")
    _protect(sp)

    inc = book.create_sheet("Income")
    _title(inc, "Income", "F")
    inc["B4"], inc["B5"] = "Local authority grant", "ICB allocation"
    _unlocked(inc, "C4")
    _unlocked(inc, "C5")
    truth.update({"df.income.la": "Income!C4", "df.income.icb": "Income!C5"})
    inc["B6"], inc["C6"] = "Total income", "=C4+C5"
    inc["B7"], inc["C7"] = "Remaining balance", f"=C6-'Spend by scheme'!E{total}"
    inc["B8"], inc["C8"] = "Spend to date within income?", '=IF(C7>=0,"Yes","No")'
    _protect(inc)

    _lists(book)
    _guidance(book, "Discharge funding fortnightly report: guidance")
    book.save(path)
    return path


QUARTERLY_LAYOUTS = {"2023-24": quarterly_template, "2024-25": quarterly_template_b, "2025-26": quarterly_template_c}
FORTNIGHTLY_LAYOUTS = {"2022-23": fortnightly_template, "2023-24": fortnightly_template_b,
                       "2025-26": fortnightly_template_c}

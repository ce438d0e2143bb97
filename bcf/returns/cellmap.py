"""`bcf cellmap TEMPLATE`: propose a cell map for a new year's national template by reading its own headings.

Only the template's input cells are proposed (unlocked on a protected sheet, the input fill, a data validation:
transforms/template_cells.py). For each input cell the proposer reads the headings around it: the texts left of it
in its row (a merged label counts for every cell it covers, a label split over cells is read whole) and the heading
band above it in its column (two or more rows, merged group headings such as Demand / Capacity or Planned / Actual
over their sub-headings). Months are read in any common form (a date cell, Oct-23, October 2023, 2023-10, Month 1)
and quarters as Q3 / Quarter 3 / Q3 plan. A figure is placed when exactly one cell matches it and that cell matches
no other figure: a wrong cell is worse than a missing one, so anything else is listed with the reason (the template
computes it, the national team pre-populated it, several cells match). The proposer is a pure function over an
openpyxl workbook (`propose_book`); the command line only reads the file and writes the TOML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bcf.core.settings import codes
from bcf.transforms.figures import scheme_slug
from bcf.transforms.template import TemplateError
from bcf.transforms.template_cells import input_cells, is_formula, validated_cells

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"


def norm(text: object) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9£]+", " ", str(text).lower())).strip()


# ---------- what the headings say ----------

PLAN = r"\b(plan|planned|ambition|target|budget)\b"
ACTUAL = r"\b(actual|actuals|outturn|achieved)\b"
TO_DATE = r"\b(to date|ytd|year to date|cumulative)\b"
FREE_TEXT = r"explain|explanation|comment|narrative|reason|commentary|notes?\b"  # typed prose, never a figure

Q_METRIC_ROWS = {"avoidable_admissions": r"avoidable|ambulatory care", "falls": r"\bfalls?\b",
                 "discharge_usual_residence": r"usual place|normal place|place of residence",
                 "residential_admissions": r"residential", "reablement_91d": r"reablement|91 days"}
Q_METRIC_COLS = {"plan": PLAN, "numerator": r"numerator", "denominator": r"denominator", "actual": ACTUAL}
Q_CD_ROWS = {"pathway_1": r"pathway 1\b|\bp1\b", "pathway_2": r"pathway 2\b|\bp2\b", "pathway_3": r"pathway 3\b|\bp3\b",
             "community_bed": r"community.*\bbed|\bbed.*community",
             "community_reablement": r"community.*(reablement|rehab)|(reablement|rehab).*community"}
Q_CD_COLS = {"demand": r"demand|referrals|need", "capacity": r"capacity|available", "gap": r"\bgap\b|shortfall|surplus"}
_DF = codes()["discharge_fund"]  # the Discharge Fund's funding source codes (config/codes.toml)
SOURCE_ROWS = {_DF["la"]: r"\b(la|local authority|council)\b.*discharge",
               _DF["icb"]: r"\b(icb|nhs)\b.*discharge",
               "additional_la": r"additional\b.*\b(la|local authority|council)\b",
               "additional_icb": r"additional\b.*\b(icb|nhs)\b", "nhs_minimum": r"minimum",
               "ibcf": r"\bibcf\b|improved better care", "dfg": r"\bdfg\b|disabled facilities", "total": r"^total"}
Q_IE_COLS = {"income": r"income|received|allocation", "expenditure_ytd": r"expenditure|spend|spent",
             "balance": r"balance|variance|remaining"}
Q_COVER = {"q.hwb_code": r"\b(hwb|ons|board) code\b", "q.hwb_name": r"^(health and wellbeing board|hwb name|hwb)$",
           "q.quarter": r"^(reporting )?(quarter|period)( reported)?$", "q.template_status": r"\bstatus\b"}
SIGNOFF = {  # the sign-off options (`--completed-by` ...) -> the label of their cell
    "completed_by": r"completed by|prepared by|name of (the )?person completing",
    "contact": r"^(contact|e ?mail|telephone)|contact (details|e ?mail|number)",
    "signed_off_by": r"signed off by|sign off by|approved by",
    "signed_off": r"signed off on behalf|has (this|the return) been signed off",  # a Yes/No cell
    "signed_off_on": r"date (signed|of sign)|signed off on|sign off date",
}

DF_LABELS = {  # most specific first: a cell's label is read against these in order
    "df.hwb_code": r"\b(hwb|ons|board) code\b", "df.hwb_name": r"^(health and wellbeing board|hwb name|hwb)$",
    "df.period_start": r"(period|fortnight) (start|begins|beginning|commencing)|start of (the )?(reporting )?period"
                       r"|^from$",
    "df.period_end": r"(period|fortnight) (end|ends|ending)|end of (the )?(reporting )?period|^to$",
    "df.fund_year": r"fund year|financial year",
    "df.discharges.pathway_unknown": r"pathway (unknown|not known|not recorded)",
    **{f"df.discharges.pathway_{p}": rf"pathway {p}\b|\bp{p}\b" for p in "0123"},
    "df.discharges.usual_residence": r"usual place|normal place",
    "df.discharges.same_day": r"same day|day they were ready",
    "df.discharges.within_48h": r"48 ?h|two days",
    "df.discharges.avg_delay_days": r"average (delay|days)|mean delay",
    "df.discharges.delay_days": r"bed days|days lost|total (days )?delay",
    "df.discharges.with_ready_date": r"ready (for discharge )?date|criteria to reside|with a ready|date ready",
    "df.discharges.total": r"discharged|discharges",
    "df.packages.started_from_hospital": r"from hospital|hospital discharge",
    "df.packages.in_use": r"in use|active",
    "df.packages.started": r"started|\bnew\b.*packages|commenced",
    "df.income.total": r"total.*income|income.*total",
    "df.income.la": r"\b(la|local authority|council)\b", "df.income.icb": r"\b(icb|nhs)\b",
    "df.check.plan_within_income": r"plan.*within",
    "df.check.spend_within_income": r"(spend to date|actual spend|spent).*within",
    "df.balance": r"balance|remaining",
}
DF_TIMING = {"planned": PLAN, "fortnight": r"fortnight|this period|in (the )?period", "to_date": TO_DATE}
DF_KIND = {"spend": r"spend|expenditure|£|cost", "output": r"output|activity|units|volume"}
DF_SPLIT = {"la": r"\b(la|local authority|council)\b", "icb": r"\b(icb|nhs)\b"}
DF_PART = {("planned", "spend"): "planned_spend", ("fortnight", "spend"): "spend_fortnight",
           ("to_date", "spend"): "spend_to_date", ("planned", "output"): "planned_output",
           ("fortnight", "output"): "output_fortnight", ("to_date", "output"): "output_to_date"}
DF_TOTALS = {"planned_spend": "planned", "spend_fortnight": "fortnight", "spend_to_date": "to_date",
             "spend_to_date_la": "to_date_la", "spend_to_date_icb": "to_date_icb"}
OTHER_PERIOD = "(another period)"  # a cell for another month or quarter than the one mapped
YES_NO = r"q\.condition\.|df\.check\.|signoff\.signed_off$|\(another period\)"  # what may go in a Yes/No cell


def first(texts: tuple[str, ...], options: dict[str, str]) -> str | None:
    """The option the nearest heading names: headings are read nearest first; the first that names any option
    decides, and one naming two options (a sheet-wide 'Spend and activity') decides nothing (None)."""
    for text in texts:
        found = [k for k, pattern in options.items() if re.search(pattern, text)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def only(text: str, options: dict[str, str]) -> str | None:
    found = [k for k, pattern in options.items() if re.search(pattern, text)]
    return found[0] if len(found) == 1 else None


def month_of(value: object) -> tuple[str, int, int] | None:
    """('ym', year, month) for a month heading, ('n', k, 0) for 'Month k'; None when it is no month."""
    if isinstance(value, dt.date):
        return ("ym", value.year, value.month)
    text = str(value).strip().lower()
    if m := re.fullmatch(r"(\d{4})[-/](\d{1,2})(?:[-/]\d{1,2})?", text):
        return ("ym", int(m.group(1)), int(m.group(2)))
    if m := re.fullmatch(r"(\d{1,2})[-/](\d{4})", text):
        return ("ym", int(m.group(2)), int(m.group(1)))
    if m := re.search(_MONTH + r"[\s\-/']*(\d{4}|\d{2})\b", text):
        year = int(m.group(2))
        return ("ym", year + 2000 if year < 100 else year, MONTHS.index(m.group(1)) + 1)
    if m := re.search(r"\bmonth ?([123])\b|\bm([123])\b", text):
        return ("n", int(m.group(1) or m.group(2)), 0)
    return None


def quarter_of(text: str) -> int | None:
    m = re.search(r"\bq ?([1-4])\b|\bquarter ([1-4])\b", text)
    return int(m.group(1) or m.group(2)) if m else None


# ---------- reading the template ----------

@dataclass(frozen=True)
class Slot:
    """One cell a figure could go in, with the headings around it."""

    sheet: str
    coord: str
    kind: str  # input | formula | filled (a value the template already holds)
    rows: tuple[str, ...]  # texts left of the cell, nearest first (a form field: the label above it)
    cols: tuple[str, ...]  # the heading band above the cell, nearest first
    months: tuple[tuple[str, int, int], ...]
    quarters: tuple[int, ...]
    scheme: str | None  # the scheme id of its row
    sheet_text: str  # the sheet's name and every heading on it, for the sheet-level cues
    yes_no: bool  # a Yes/No drop-down: only a Yes/No figure may go there
    unkeyed: str = ""  # the text of a scheme line no scheme id could be read for

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.coord}"

    def headings(self) -> str:
        return "; ".join(filter(None, [" / ".join(reversed(self.rows)), " / ".join(reversed(self.cols))]))


def _merged(sheet: Worksheet) -> tuple[dict[tuple[int, int], tuple[int, int]], set[tuple[int, int]]]:
    """covered cell -> top-left of its merged range; and the top-lefts of titles (a wide merge alone in its row),
    which are neither row nor column headings."""
    merged: dict[tuple[int, int], tuple[int, int]] = {}
    titles: set[tuple[int, int]] = set()
    for rng in sheet.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                merged[(r, c)] = (rng.min_row, rng.min_col)
        if rng.max_col - rng.min_col >= 3 and rng.min_row == rng.max_row:
            others = [c for c in sheet[rng.min_row] if c.value not in (None, "") and
                      not rng.min_col <= c.column <= rng.max_col]
            if not others:
                titles.add((rng.min_row, rng.min_col))
    return merged, titles


class Reader:
    def __init__(self, book: Workbook, schemes: Sequence[tuple[str, str]] = ()) -> None:
        self.book = book
        self.inputs = input_cells(book)
        self.schemes = schemes  # (id, name) of the plan's schemes, when known: a scheme line may name it only

    def slots(self) -> list[Slot]:
        out: list[Slot] = []
        for sheet in self.book.worksheets:
            if sheet.sheet_state == "visible":
                out += self._sheet_slots(sheet)
        return out

    def _sheet_slots(self, sheet: Worksheet) -> list[Slot]:
        merged, titles = _merged(sheet)
        yes_no = {k for k, dv in validated_cells(sheet).items()  # a Yes/No drop-down: a literal or a named list
                  if getattr(dv, "type", None) == "list" and re.search(r"yes", str(getattr(dv, "formula1", "")), re.I)}

        def heading(r: int, c: int) -> tuple[tuple[int, int], object] | None:
            anchor = merged.get((r, c), (r, c))
            if anchor in titles:
                return None
            cell = sheet.cell(row=anchor[0], column=anchor[1])
            if (sheet.title, cell.coordinate) in self.inputs or is_formula(cell):
                return None
            value = cell.value
            if isinstance(value, str) and value.strip():
                return anchor, value
            if isinstance(value, dt.date):
                return anchor, value
            return None

        schemes, unkeyed = self._scheme_rows(sheet)
        sheet_text = " | ".join([norm(sheet.title)] + [norm(c.value) for row in sheet.iter_rows() for c in row
                                                       if isinstance(c.value, str) and not is_formula(c)])
        out = []
        for row in list(sheet.iter_rows()):
            for cell in row:
                if isinstance(cell, MergedCell):
                    continue
                key = (sheet.title, cell.coordinate)
                if key in self.inputs:
                    kind = "filled" if cell.value not in (None, "") else "input"
                elif is_formula(cell):
                    kind = "formula"
                elif isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    kind = "filled"
                else:
                    continue
                r, c = cell.row, cell.column
                raw_cols: list[object] = []
                seen: set[tuple[int, int]] = set()
                rr, started = r - 1, False
                while rr >= 1:
                    got = heading(rr, c)
                    if got is None:
                        if started:
                            break
                    elif got[0] not in seen:
                        started = True
                        seen.add(got[0])
                        raw_cols.append(got[1])
                    rr -= 1
                raw_rows: list[object] = []
                for cc in range(c - 1, 0, -1):
                    got = heading(r, cc)
                    if got is not None and got[0] not in seen:
                        seen.add(got[0])
                        raw_rows.append(got[1])
                rows = tuple(norm(v) for v in raw_rows if isinstance(v, str))
                cols = tuple(norm(v) for v in raw_cols if isinstance(v, str))
                if not rows and cols and not schemes.get(r):
                    rows = cols[:1]  # a form: the label sits above the field
                months = tuple(m for m in (month_of(v) for v in raw_cols + raw_rows) if m)
                quarters = tuple(q for q in (quarter_of(t) for t in cols) if q)
                out.append(Slot(sheet.title, cell.coordinate, kind, rows, cols, months, quarters, schemes.get(r),
                                sheet_text, cell.coordinate in yes_no, unkeyed.get(r, "")))
        return out

    def _scheme_rows(self, sheet: Worksheet) -> tuple[dict[int, str], dict[int, str]]:
        """row -> scheme id for the lines under a scheme heading: an id under 'Scheme ID' / 'Scheme reference', an
        'ID - name' under 'Scheme', or a name under 'Scheme name' when the plan's schemes are known. Also the lines
        under such a heading no id could be read for (row -> its text): listed, never guessed."""
        keyed: dict[int, str] = {}
        lines: dict[int, str] = {}
        by_name = {norm(name): sid for sid, name in self.schemes if name}
        for row in sheet.iter_rows():
            for cell in row:
                text = norm(cell.value) if isinstance(cell.value, str) else ""
                ids = bool(re.search(r"scheme (id|ref|reference|number|no|code)\b", text))
                combined = bool(re.fullmatch(r"scheme( id)? (and|&) name|scheme", text))
                names = bool(re.fullmatch(r"(scheme )?(name|title)|name of (the )?scheme", text))
                if not (ids or combined or names):
                    continue
                for rr in range(cell.row + 1, sheet.max_row + 1):
                    value = sheet.cell(row=rr, column=cell.column).value
                    if value is None or is_formula(sheet.cell(row=rr, column=cell.column)):
                        continue
                    raw = str(value).strip()
                    if norm(raw).startswith("total"):
                        break
                    lines.setdefault(rr, raw)
                    sid: str | None = raw if ids else None
                    if combined:
                        parts = re.split(r"\s+[-–:]\s+|:\s+", raw, maxsplit=1)
                        if len(parts) == 2 and re.search(r"\d", parts[0]) and len(parts[0]) <= 20:
                            sid = parts[0]  # ids carry a number; a name alone keys nothing
                    if sid is None and (combined or names):
                        sid = by_name.get(norm(raw))
                    if sid is not None:
                        keyed.setdefault(rr, sid)
        return keyed, {r: t for r, t in lines.items() if r not in keyed}


# ---------- which figure a cell is for ----------

@dataclass
class Context:
    months: list[dt.date] | None  # the quarter's months, when known
    quarter: int | None


def _month_index(slot: Slot, ctx: Context) -> int | str | None:
    """1..3 for the quarter's month the cell is under, OTHER_PERIOD for another month, None when unknown."""
    for kind, a, b in slot.months:
        if kind == "n":
            return a
        if ctx.months:
            for i, m in enumerate(ctx.months):
                if (m.year, m.month) == (a, b):
                    return i + 1
            return OTHER_PERIOD
    return None


def _label(slot: Slot, patterns: dict[str, str]) -> str | None:
    """The first pattern (in order) the cell's row label names; the nearest label first, then the labels read
    together (a label split over cells)."""
    for text in (*slot.rows, " ".join(reversed(slot.rows))):
        for key, pattern in patterns.items():
            if re.search(pattern, text):
                return key
    return None


def match_quarterly(slot: Slot, ctx: Context) -> str | None:
    rows, cols = " | ".join(slot.rows), " | ".join(slot.cols)
    if re.search(FREE_TEXT, cols) or slot.unkeyed:
        return None
    if slot.scheme:
        timing = first(slot.cols, {"planned": PLAN, "actual": ACTUAL + "|" + TO_DATE})
        kind = first(slot.cols, {"spend": DF_KIND["spend"], "output": DF_KIND["output"]})
        part = {("planned", "spend"): "planned_spend", ("actual", "spend"): "actual_spend_ytd",
                ("planned", "output"): "planned_output", ("actual", "output"): "actual_output_ytd"}.get(
            (timing or "", kind or ""))
        return f"q.scheme.{scheme_slug(slot.scheme)}.{part}" if part else None
    service = only(rows, Q_CD_ROWS)
    if service and slot.months:
        part = first(slot.cols, Q_CD_COLS)
        n = _month_index(slot, ctx)
        if n == OTHER_PERIOD:
            return OTHER_PERIOD
        return f"q.cd.{service}.m{n}.{part}" if part and n else None
    metric = only(rows, Q_METRIC_ROWS)
    if metric:
        if slot.quarters and ctx.quarter not in slot.quarters:
            return OTHER_PERIOD if ctx.quarter else None
        if re.search(r"assess|progress|on track", cols):
            return f"q.metric.{metric}.assessment"
        measure = first(slot.cols, Q_METRIC_COLS)
        return f"q.metric.{metric}.{measure}" if measure else None
    source = only(rows, SOURCE_ROWS)
    if source and "income" in slot.sheet_text:
        measure = first(slot.cols, Q_IE_COLS)
        return f"q.ie.{source}.{measure}" if measure else None
    if "condition" in slot.sheet_text:
        for n in range(1, 5):
            if any(re.match(rf"(national )?(condition )?{n}\b", t) for t in slot.rows):
                return f"q.condition.{n}.confirmed"
    label = _label(slot, {**{f"signoff.{k}": p for k, p in SIGNOFF.items()}, **Q_COVER})
    return label


def match_fortnightly(slot: Slot, ctx: Context) -> str | None:
    rows, cols = " | ".join(slot.rows), " | ".join(slot.cols)
    if re.search(FREE_TEXT, cols) or slot.unkeyed:
        return None
    total = bool(re.match(r"total", slot.rows[0])) if slot.rows else False
    if slot.scheme or (total and slot.cols):
        split = first(slot.cols, DF_SPLIT)
        timing = first(slot.cols, DF_TIMING)
        kind = first(slot.cols, DF_KIND)
        part = f"spend_to_date_{split}" if split and kind != "output" else DF_PART.get((timing or "", kind or ""))
        if slot.scheme:
            return f"df.scheme.{scheme_slug(slot.scheme)}.{part}" if part else None
        if part in DF_TOTALS:
            return f"df.spend.{DF_TOTALS[part]}"
        # a label that starts with "Total" (total discharges, total bed days): read as a label below
    label = _label(slot, {**{f"signoff.{k}": p for k, p in SIGNOFF.items()}, **DF_LABELS})
    if label in ("df.income.la", "df.income.icb") and not re.search(r"income|grant|allocation|fund", rows):
        return None  # 'LA' or 'ICB' alone (a cover's name field) is not income
    return label


def family(slot: Slot, which: str) -> str:
    """Which family of figures a cell's row belongs to (q.metric, q.cd, q.scheme, ...), '' when it says nothing."""
    rows = " | ".join(slot.rows)
    if slot.unkeyed:
        return "df.scheme" if which == "fortnightly" else "q.scheme"
    if which == "fortnightly":
        if slot.scheme:
            return "df.scheme"
        label = _label(slot, DF_LABELS)
        return ".".join(label.split(".")[:2]) if label else ""
    for name, found in (("q.scheme", slot.scheme), ("q.cd", only(rows, Q_CD_ROWS)),
                        ("q.metric", only(rows, Q_METRIC_ROWS)), ("q.ie", only(rows, SOURCE_ROWS))):
        if found:
            return name
    return ""


# ---------- the proposal ----------

@dataclass
class Proposal:
    cells: dict[str, str]  # figure id -> Sheet!A1
    unplaced: dict[str, str]  # figure id -> why
    matched: dict[str, str] = field(default_factory=dict)  # figure id -> the headings its cell sits under
    signoff: dict[str, str] = field(default_factory=dict)  # sign-off option -> Sheet!A1
    blocking: dict[str, str] = field(default_factory=dict)  # unplaced figures the template may have a cell for
    unclaimed: list[str] = field(default_factory=list)  # input cells (not free text) no figure or sign-off took

    def toml(self, header: str) -> str:
        lines = [f"# {line}" for line in header.splitlines()]
        lines += ["# figure id = \"Sheet!A1\"  # the headings it was found under; {m1} {m2} {m3} stand for the "
                  "quarter's months (yyyy_mm)", "[cells]"]
        lines += [f"\"{fid}\" = \"{target}\"" + (f"  # {_short(self.matched[fid])}" if self.matched.get(fid) else "")
                  for fid, target in self.cells.items()]
        if self.signoff:
            lines += ["", "# the sign-off options (--completed-by ..., or the recorded sign-off) go in these cells",
                      "[signoff]"]
            lines += [f"{key} = \"{target}\"" for key, target in self.signoff.items()]
        if self.unplaced:
            lines += ["", f"# {len(self.unplaced)} figure id(s) not placed: add a line for each the template has a "
                      "cell for"]
            lines += [f"# \"{fid}\" = \"\"  # {why}" for fid, why in self.unplaced.items()]
        return "\n".join(lines) + "\n"


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _catalogue(which: str, schemes: list[str], months: list[dt.date]) -> list[str]:
    if which == "fortnightly":
        from bcf.returns.fortnightly import SchemeRow
        from bcf.returns.fortnightly import catalogue as df_catalogue

        return [s.id for s in df_catalogue([SchemeRow(s, scheme_slug(s), s) for s in schemes])]
    from bcf.returns.quarterly import catalogue as q_catalogue

    return [s.id for s in q_catalogue([(s, s) for s in schemes], [s for s in SOURCE_ROWS if s != "total"], months)]


def which_return(book: Workbook) -> str | None:
    """fortnightly / quarterly from the template's sheet names and headings; None when they do not say."""
    text = " | ".join([norm(s.title) for s in book.worksheets] + [
        norm(c.value) for s in book.worksheets if s.sheet_state == "visible" for row in s.iter_rows() for c in row
        if isinstance(c.value, str) and not is_formula(c)])
    fortnightly = bool(re.search(r"\bfortnight", text))
    quarterly = bool(re.search(r"\bquarter|\bq[1-4]\b|national condition|better care fund", text))
    if fortnightly != quarterly:
        return "fortnightly" if fortnightly else "quarterly"
    return None


def _template_months(slots: list[Slot]) -> list[dt.date] | None:
    """The quarter's months when the template names exactly three consecutive months (no --quarter given)."""
    found = sorted({(a, b) for s in slots for kind, a, b in s.months if kind == "ym"})
    if len(found) != 3:
        return None
    dates = [dt.date(y, m, 1) for y, m in found]
    if (dates[2].year * 12 + dates[2].month) - (dates[0].year * 12 + dates[0].month) != 2:
        return None
    return dates


def propose_book(book: Workbook, which: str, months: list[dt.date] | None = None,
                 quarter: int | None = None, schemes: Sequence[tuple[str, str]] = ()) -> Proposal:
    """The proposed map of an opened template for one return. `months` (and `quarter`, 1..4) say which period's
    columns to use when the template has a column per month or quarter; `schemes` (id, name) let a scheme line
    that names its scheme only be read."""
    slots = Reader(book, schemes).slots()
    months = months or (_template_months(slots) if which == "quarterly" else None)
    if quarter is None and months:
        quarter = (months[0].month - 4) % 12 // 3 + 1
    ctx = Context(months, quarter)
    period_unknown = which == "quarterly" and not months and any(s.months or s.quarters for s in slots)
    match = match_fortnightly if which == "fortnightly" else match_quarterly
    by_figure: dict[str, list[Slot]] = {}
    by_cell: dict[str, set[str]] = {}
    for slot in slots:
        fid = match(slot, ctx)
        if fid and slot.yes_no and not re.match(YES_NO, fid):
            fid = None  # a number or a name in a Yes/No drop-down would be a wrong cell
        if fid:
            by_figure.setdefault(fid, []).append(slot)
            by_cell.setdefault(slot.where, set()).add(fid)
    scheme_ids = sorted({s.scheme for s in slots if s.scheme}, key=lambda sid: next(
        (sl.sheet, int(re.sub(r"\D", "", sl.coord))) for sl in slots if sl.scheme == sid))
    labels = months or [dt.date(2023, 4, 1), dt.date(2023, 5, 1), dt.date(2023, 6, 1)]
    tags = {f".m{i + 1}.": f".{{m{i + 1}}}." for i in range(3)}
    ids = [*(f"signoff.{k}" for k in SIGNOFF), *_catalogue(which, scheme_ids, labels)]
    for i, m in enumerate(labels):
        ids = [fid.replace(f".{m:%Y_%m}.", f".m{i + 1}.") for fid in ids]

    cells: dict[str, str] = {}
    unplaced: dict[str, str] = {}
    matched: dict[str, str] = {}
    for fid in ids:
        found = by_figure.get(fid, [])
        if len(found) != 1:
            if found:
                unplaced[fid] = "ambiguous: " + ", ".join(f"{s.where} ({s.headings()})" for s in found)
            elif period_unknown and re.match(r"q\.(cd|metric)\.", fid):
                unplaced[fid] = "no input cell under headings for it (the template has a column per month or " \
                                "quarter: give --quarter)"
            else:
                unplaced[fid] = "no input cell under headings for it"
            continue
        slot = found[0]
        if len(by_cell[slot.where]) > 1:
            unplaced[fid] = f"ambiguous: {slot.where} matches " + ", ".join(sorted(by_cell[slot.where]))
        elif slot.kind == "formula":
            unplaced[fid] = f"{slot.where} holds a formula: the template computes it"
        elif slot.kind == "filled":
            unplaced[fid] = f"{slot.where} already holds a value (pre-populated by the template)"
        else:
            cells[fid], matched[fid] = slot.where, slot.headings()
    signoff = {k.removeprefix("signoff."): v for k, v in cells.items() if k.startswith("signoff.")}
    unplaced = {k: v for k, v in unplaced.items() if not k.startswith("signoff.")}

    # what stops a run without a map: an ambiguous figure; a figure with no cell while an input cell of its family
    # (a metric's row, a service's row, a scheme's line...) is left unclaimed, so it may be its cell under headings
    # we cannot read; or nothing placed at all
    claimed = set(cells.values()) | {s.where for s in by_figure.get(OTHER_PERIOD, [])}
    left = [s for s in slots if s.kind == "input" and s.where not in claimed and not re.search(
        FREE_TEXT, " | ".join(s.cols))]
    families = {family(s, which) for s in left}
    # cells only for other months or quarters, and none for this one: the template is another period's
    placed_families = {".".join(fid.split(".")[:2]) for fid in cells}
    families |= {family(s, which) for s in by_figure.get(OTHER_PERIOD, [])} - placed_families
    blocking = {fid: why for fid, why in unplaced.items() if why.startswith("ambiguous") or (
        why.startswith("no input") and (".".join(fid.split(".")[:2]) in families or not cells))}
    for slot in left:  # a scheme line whose id we could not read: its figures have no id to be listed under
        line = f"(scheme line {slot.sheet}!{re.sub(r'[A-Z]+', '', slot.coord)}: {slot.unkeyed})"
        if slot.unkeyed and line not in unplaced:
            unplaced[line] = blocking[line] = ("no scheme id on this line (an id column, or 'ID - name'): map its "
                                               "cells by hand")

    def tag(fid: str) -> str:
        for k, v in tags.items():
            fid = fid.replace(k, v)
        return fid

    cells = {tag(k): v for k, v in cells.items() if not k.startswith("signoff.")}
    return Proposal(cells, {tag(k): v for k, v in unplaced.items()},
                    {tag(k): v for k, v in matched.items() if not k.startswith("signoff.")}, signoff,
                    {tag(k): v for k, v in blocking.items()}, [s.where for s in left])


class ReturnUnknown(ValueError):
    """The template does not say which return it is for."""


def propose(path: Path, which: str | None = None, quarter_months: list[dt.date] | None = None,
            period_end: dt.date | None = None) -> tuple[str, Proposal]:
    """Which return the template is for (from --quarter / --period-end, else its sheet names and headings), and
    the proposed map. Raises ReturnUnknown rather than guess."""
    book = load_workbook(path)
    if which is None:
        which = "quarterly" if quarter_months else "fortnightly" if period_end else which_return(book)
    if which is None:
        raise ReturnUnknown(f"cannot tell from {path.name}'s sheet names and headings whether it is the fortnightly "
                            "or the quarterly template: give --return fortnightly or --return quarterly")
    return which, propose_book(book, which, quarter_months if which == "quarterly" else None)


def map_for_run(template: Path, which: str, months: list[dt.date],
                schemes: Sequence[tuple[str, str]] | None = None) -> tuple[Proposal, dict[str, tuple[str, str]]]:
    """A template run without --cell-map: the proposed map, or TemplateError naming `bcf cellmap` and the figures
    it could not place that the template has a cell for. Before ingest (`schemes` None: the plan is not read yet)
    a scheme line that names its scheme only does not stop the run; once the plan's schemes are known it must
    match one of them."""
    book = load_workbook(template)
    proposal = propose_book(book, which, months or None, schemes=schemes or ())
    blocking = {k: v for k, v in proposal.blocking.items() if schemes is not None or not k.startswith("(scheme")}
    if blocking:
        names = [f"{fid} ({why})" for fid, why in blocking.items()]
        cells_left = (f" (input cells left: {', '.join(proposal.unclaimed[:6])}"
                      f"{' ...' if len(proposal.unclaimed) > 6 else ''})" if proposal.unclaimed else "")
        raise TemplateError(
            f"--template {template.name} without --cell-map: `bcf cellmap` placed {len(proposal.cells)} figure(s) "
            f"but not {len(names)} the template may have cells for: {'; '.join(names[:6])}"
            f"{' ...' if len(names) > 6 else ''}{cells_left}. Nothing was ingested. Run `bcf cellmap {template} "
            "--out map.toml`, complete the listed lines and pass --cell-map map.toml")
    tags = {f"m{i + 1}": m.strftime("%Y_%m") for i, m in enumerate(months)}
    cells = {}
    for fid, target in proposal.cells.items():
        sheet, coord = target.rsplit("!", 1)
        cells[fid.format(**tags) if tags else fid] = (sheet, coord)
    return proposal, cells

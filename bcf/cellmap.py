"""`bcf cellmap TEMPLATE`: propose a cell map for a new year's national template by reading its own labels.

A figure is placed where a row heading (a metric name, a service, a scheme id under a "Scheme ID" heading, a funding
source, a cover label) meets a column heading (Plan / Actual, Demand / Capacity under a month heading, Income /
Expenditure...), or, for a label with no table, in the first empty cell to its right. Cells that hold a formula are
never proposed: the template computes them (its own totals, gaps and balances). Every figure id that could not be
placed is listed with the reason, so the user edits only those lines.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.worksheet.worksheet import Worksheet

from core.settings import codes
from transforms.figures import FigureSpec, scheme_slug

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def norm(text: object) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", str(text).lower())).strip()


@dataclass(frozen=True)
class Rule:
    """Where a figure goes: a sheet-name pattern, a row-label pattern, and the column heading patterns (all must
    appear above the cell); no column patterns = the first empty cell right of the label."""

    sheet: str
    row: str
    cols: tuple[str, ...] = ()
    month: int | None = None  # 1..3: the quarter's n-th month heading must be above the cell


# ---------- the rules for the two returns ----------

Q_METRIC_ROWS = {"avoidable_admissions": r"avoidable", "falls": r"\bfalls?\b",
                 "discharge_usual_residence": r"usual place|normal place|place of residence",
                 "residential_admissions": r"residential", "reablement_91d": r"reablement|91 days"}
Q_METRIC_COLS = {"plan": r"^plan", "numerator": r"numerator", "denominator": r"denominator",
                 "actual": r"^actual", "assessment": r"assessment|progress|on track"}
Q_CD_ROWS = {"pathway_1": r"pathway 1\b|^p1\b", "pathway_2": r"pathway 2\b|^p2\b", "pathway_3": r"pathway 3\b|^p3\b",
             "community_bed": r"community.*\bbed|\bbed.*community",
             "community_reablement": r"community.*(reablement|rehab)|(reablement|rehab).*community"}
Q_CD_COLS = {"demand": r"demand", "capacity": r"capacity", "gap": r"\bgap\b|shortfall|surplus"}
Q_SCHEME_COLS = {"planned_spend": (r"plan", r"spend|expenditure"), "actual_spend_ytd": (r"actual", r"spend|expend"),
                 "planned_output": (r"plan", r"output"), "actual_output_ytd": (r"actual", r"output")}
_DF = codes()["discharge_fund"]  # the Discharge Fund's funding source codes (config/codes.toml)
SOURCE_ROWS = {_DF["la"]: r"\b(la|local authority|council)\b.*discharge",
               _DF["icb"]: r"\b(icb|nhs)\b.*discharge",
               "additional_la": r"additional\b.*\b(la|local authority|council)\b",
               "additional_icb": r"additional\b.*\b(icb|nhs)\b", "nhs_minimum": r"minimum",
               "ibcf": r"\bibcf\b|improved better care", "dfg": r"\bdfg\b|disabled facilities", "total": r"^total"}
Q_IE_COLS = {"income": r"income", "expenditure_ytd": r"expenditure|spend", "balance": r"balance|variance"}

DF_LABELS = {  # most specific first: a label cell, once taken, is not offered to a later figure
    "df.hwb_code": r"(hwb|ons) code", "df.hwb_name": r"^(health and wellbeing board|hwb name|hwb)$",
    "df.period_start": r"period start|start of (the )?(reporting )?period|^from$",
    "df.period_end": r"period end|end of (the )?(reporting )?period|^to$", "df.fund_year": r"fund year|financial year",
    "df.discharges.pathway_unknown": r"pathway (unknown|not known|not recorded)",
    **{f"df.discharges.pathway_{p}": rf"pathway {p}\b" for p in "0123"},
    "df.discharges.usual_residence": r"usual place|normal place",
    "df.discharges.same_day": r"same day|day they were ready",
    "df.discharges.within_48h": r"48 ?h",
    "df.discharges.avg_delay_days": r"average (delay|days)",
    "df.discharges.delay_days": r"bed days|days lost|total (days )?delay",
    "df.discharges.with_ready_date": r"ready (for discharge )?date|criteria to reside|with a ready",
    "df.discharges.total": r"discharged|discharges",
    "df.packages.started_from_hospital": r"from hospital",
    "df.packages.in_use": r"in use",
    "df.packages.started": r"started",
    "df.income.total": r"total.*income|income.*total",
    "df.income.la": r"\b(la|local authority|council)\b", "df.income.icb": r"\b(icb|nhs)\b",
    "df.check.plan_within_income": r"plan.*within",
    "df.check.spend_within_income": r"(spend to date|actual spend|spent).*within",
    "df.balance": r"balance",
}
DF_SHEETS = {"df.hwb": "cover", "df.period": "cover", "df.fund": "cover", "df.discharges": "discharg",
             "df.packages": "package|reablement|care", "df.income": "income|fund", "df.check": "income|check",
             "df.balance": "income|balance"}
DF_SCHEME_COLS = {  # most specific first
    "spend_to_date_la": (r"\b(la|local authority|council)\b",), "spend_to_date_icb": (r"\b(icb|nhs)\b",),
    "planned_output": (r"plan", r"output"), "output_fortnight": (r"output", r"fortnight|period"),
    "output_to_date": (r"output", r"to date"), "planned_spend": (r"plan", r"spend|expenditure"),
    "spend_fortnight": (r"spend|expenditure", r"fortnight|period"), "spend_to_date": (r"spend|expend", r"to date"),
}
DF_TOTALS = {"planned_spend": "planned", "spend_fortnight": "fortnight", "spend_to_date": "to_date",
             "spend_to_date_la": "to_date_la", "spend_to_date_icb": "to_date_icb"}


# ---------- reading the template ----------

@dataclass
class Grid:
    sheet: Worksheet
    labels: dict[tuple[int, int], str]  # (row, col) -> normalised text
    merged: dict[tuple[int, int], tuple[int, int]]  # covered cell -> top-left of its merged range

    def text_above(self, row: int, col: int) -> list[str]:
        """Headings above a cell in its column, nearest first, including merged headings spanning it."""
        out = []
        for r in range(row - 1, 0, -1):
            anchor = self.merged.get((r, col), (r, col))
            text = self.labels.get(anchor)
            if text:
                out.append(text)
        return out


def read_grid(sheet: Worksheet) -> Grid:
    labels = {}
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and not cell.value.startswith("=") and cell.value.strip():
                labels[(cell.row, cell.column)] = norm(cell.value)
    merged = {}
    for rng in sheet.merged_cells.ranges:
        if rng.max_col - rng.min_col >= 3:
            labels.pop((rng.min_row, rng.min_col), None)  # a title across the sheet is neither row nor column heading
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                merged[(r, c)] = (rng.min_row, rng.min_col)
    return Grid(sheet, labels, merged)


def _is_formula(cell: object) -> bool:
    value = getattr(cell, "value", None)
    return isinstance(value, str) and value.startswith("=")


def _month_columns(grid: Grid, months: list[dt.date] | None) -> dict[int, int]:
    """Column -> n (1..3): which month of the quarter a column sits under. With the quarter's months known, the
    heading must name the month; otherwise the first three distinct month headings, left to right."""
    found: list[tuple[int, tuple[int, int], str]] = []
    for (r, c), text in grid.labels.items():
        if re.search(r"\b(" + "|".join(MONTHS) + r")[a-z]*\b", text) or re.search(r"\bmonth [123]\b", text):
            found.append((c, (r, c), text))
    anchors: list[tuple[tuple[int, int], str]] = []
    for _c, anchor, text in sorted(found):
        if anchor not in [a for a, _ in anchors]:
            anchors.append((anchor, text))
    out: dict[int, int] = {}
    order: list[tuple[int, int]] = []
    for anchor, text in anchors:
        if months:
            n = next((i + 1 for i, m in enumerate(months) if re.search(
                rf"\b{MONTHS[m.month - 1]}[a-z]*\b.*\b(20)?{m.year % 100:02d}\b", text)), None)
            if n is None:
                continue
        else:
            if anchor not in order:
                order.append(anchor)
            n = order.index(anchor) + 1
            if n > 3:
                continue
        span = [c for (r, c), a in grid.merged.items() if a == anchor and r == anchor[0]] or [anchor[1]]
        for c in span:
            out[c] = n
    return out


@dataclass
class Proposal:
    cells: dict[str, str]  # figure id -> Sheet!A1
    unplaced: dict[str, str]  # figure id -> why

    def toml(self, header: str) -> str:
        lines = [f"# {line}" for line in header.splitlines()]
        lines += ["# figure id = \"Sheet!A1\"; {m1} {m2} {m3} stand for the quarter's months (yyyy_mm)", "[cells]"]
        lines += [f"\"{fid}\" = \"{target}\"" for fid, target in self.cells.items()]
        if self.unplaced:
            lines += ["", f"# {len(self.unplaced)} figure id(s) not placed: add a line for each the template has a "
                      "cell for"]
            lines += [f"# \"{fid}\" = \"\"  # {why}" for fid, why in self.unplaced.items()]
        return "\n".join(lines) + "\n"


class Proposer:
    def __init__(self, path: Path, months: list[dt.date] | None = None) -> None:
        self.book = load_workbook(path)
        self.grids = {s.title: read_grid(s) for s in self.book.worksheets if s.sheet_state == "visible"}
        self.months = months
        self.taken: set[tuple[str, int, int]] = set()
        self.labels_taken: set[tuple[str, int, int]] = set()

    def sheets(self, pattern: str) -> list[Grid]:
        return [g for name, g in self.grids.items() if re.search(pattern, norm(name))]

    def _target(self, grid: Grid, row: int, col: int) -> tuple[int, int] | str:
        cell = grid.sheet.cell(row=row, column=col)
        if isinstance(cell, MergedCell):
            return "inside a merged range"
        if _is_formula(cell):
            return f"{grid.sheet.title}!{cell.coordinate} holds a formula: the template computes it"
        if cell.value not in (None, ""):
            return f"{grid.sheet.title}!{cell.coordinate} is not empty"
        return (row, col)

    def place(self, fid: str, rule: Rule, rows: list[tuple[Grid, int, int]] | None = None) -> str:
        """Place one figure; returns '' or the reason it was not placed."""
        why = f"no row labelled /{rule.row}/ on a sheet like /{rule.sheet}/"
        candidates = rows if rows is not None else [
            (g, r, c) for g in self.sheets(rule.sheet) for (r, c), t in sorted(g.labels.items())
            if re.search(rule.row, t) and (g.sheet.title, r, c) not in self.labels_taken]
        beside: list[tuple[Grid, tuple[int, int], tuple[int, int]]] = []
        for grid, r, c in candidates:
            if not rule.cols:
                # the first cell right of the label (and of the label's own merged range)
                cc = c + 1
                while grid.merged.get((r, cc)) == grid.merged.get((r, c), (r, c)) and (r, cc) in grid.merged:
                    cc += 1
                got = self._target(grid, r, cc)
                if isinstance(got, tuple) and (grid.sheet.title, *got) not in self.taken:
                    beside.append((grid, got, (r, c)))
                elif isinstance(got, str) and why.startswith("no row"):
                    why = got
                continue
            months = _month_columns(grid, self.months) if rule.month else {}
            for cc in range(c + 1, grid.sheet.max_column + 1):
                if rule.month and months.get(cc) != rule.month:
                    continue
                above = grid.text_above(r, cc)
                if not all(any(re.search(p, t) for t in above) for p in rule.cols):
                    continue
                got = self._target(grid, r, cc)
                if isinstance(got, tuple):
                    if (grid.sheet.title, *got) in self.taken:
                        continue
                    return self._take(fid, grid, got, None)
                why = got
                break
            else:
                label = grid.labels.get((r, c), "")
                why = f"no column headed {' + '.join(rule.cols)} beside the row labelled '{label}'"
        if beside:  # prefer an input cell (filled, as templates colour them) over a plain empty one
            filled = [b for b in beside if b[0].sheet.cell(*b[1]).fill.fill_type == "solid"]
            grid, rc, label_rc = (filled or beside)[0]
            return self._take(fid, grid, rc, label_rc)
        return why

    def _take(self, fid: str, grid: Grid, rc: tuple[int, int], label: tuple[int, int] | None) -> str:
        self.taken.add((grid.sheet.title, *rc))
        if label:
            self.labels_taken.add((grid.sheet.title, *label))
        self.placed[fid] = f"{grid.sheet.title}!{grid.sheet.cell(row=rc[0], column=rc[1]).coordinate}"
        return ""

    def scheme_rows(self, sheet_pattern: str) -> dict[str, list[tuple[Grid, int, int]]]:
        """slug -> its row label cell, for the values under a 'Scheme ID' heading."""
        out: dict[str, list[tuple[Grid, int, int]]] = {}
        for grid in self.sheets(sheet_pattern):
            for (r, c), text in sorted(grid.labels.items()):
                if not re.search(r"scheme (id|ref|reference|number|no)\b", text):
                    continue
                for rr in range(r + 1, grid.sheet.max_row + 1):
                    value = grid.sheet.cell(row=rr, column=c).value
                    if value is None or _is_formula(grid.sheet.cell(row=rr, column=c)):
                        continue
                    if norm(value).startswith("total"):
                        break
                    out.setdefault(scheme_slug(str(value).strip()), []).append((grid, rr, c))
        return out

    def total_row(self, sheet_pattern: str) -> list[tuple[Grid, int, int]]:
        return [(g, r, c) for g in self.sheets(sheet_pattern) for (r, c), t in sorted(g.labels.items())
                if t.startswith("total")]

    def run(self, plan: list[tuple[str, Rule, list[tuple[Grid, int, int]] | None]]) -> Proposal:
        self.placed: dict[str, str] = {}
        unplaced = {}
        for fid, rule, rows in plan:
            why = self.place(fid, rule, rows)
            if why:
                unplaced[fid] = why
        return Proposal(self.placed, unplaced)


def _quote(sheet: str) -> str:
    return sheet  # load_cell_map reads Sheet!A1 with or without quotes


def _tag(fid: str, months: list[dt.date]) -> str:
    for i, m in enumerate(months):
        fid = fid.replace(f".{m:%Y_%m}.", f".{{m{i + 1}}}.")
    return fid


def propose(path: Path, which: str | None = None, quarter_months: list[dt.date] | None = None) -> tuple[str, Proposal]:
    """Which return the template is for (auto from its labels unless given), and the proposed map."""
    proposer = Proposer(path, quarter_months)
    if which is None:
        text = " ".join(t for g in proposer.grids.values() for t in g.labels.values())
        which = "fortnightly" if re.search(r"discharge fund|fortnight", text) and "quarter" not in text \
            else "quarterly"
    if which == "fortnightly":
        return which, _propose_df(proposer)
    return which, _propose_q(proposer, quarter_months)


def _propose_q(p: Proposer, quarter_months: list[dt.date] | None) -> Proposal:
    from bcf.quarterly import CD_SERVICES, CONDITIONS, METRICS, catalogue

    months = quarter_months or [dt.date(2023, 4, 1), dt.date(2023, 5, 1), dt.date(2023, 6, 1)]
    schemes = p.scheme_rows(r"spend|activity")
    specs: list[FigureSpec] = catalogue([(s, s) for s in schemes], [s for s in SOURCE_ROWS if s != "total"], months)
    plan: list[tuple[str, Rule, list[tuple[Grid, int, int]] | None]] = []
    cover = {"q.hwb_code": r"(hwb|ons) code", "q.hwb_name": r"^(health and wellbeing board|hwb name|hwb)$",
             "q.quarter": r"^(reporting )?(quarter|period)$", "q.template_status": r"status"}
    for spec in specs:
        fid, parts = spec.id, spec.id.split(".")
        if fid in cover:
            plan.append((fid, Rule(r"cover", cover[fid]), None))
        elif parts[1] == "condition":
            n = int(parts[2])
            plan.append((fid, Rule(r"condition", rf"^{n} |condition {n}\b|^{norm(CONDITIONS[n])[:20]}"), None))
        elif parts[1] == "metric" and parts[2] in METRICS:
            plan.append((fid, Rule(r"metric", Q_METRIC_ROWS[parts[2]], (Q_METRIC_COLS[parts[3]],)), None))
        elif parts[1] == "cd" and parts[2] in CD_SERVICES:
            n = [f"{m:%Y_%m}" for m in months].index(parts[3]) + 1
            plan.append((fid, Rule(r"capacity|demand", Q_CD_ROWS[parts[2]], (Q_CD_COLS[parts[4]],), n), None))
        elif parts[1] == "scheme":
            rows = schemes.get(parts[2], [])
            plan.append((fid, Rule(r"spend|activity", "", Q_SCHEME_COLS[parts[3]]), rows))
        elif parts[1] == "ie":
            plan.append((fid, Rule(r"income", SOURCE_ROWS[parts[2]], (Q_IE_COLS[parts[3]],)), None))
    proposal = p.run(plan)
    return Proposal({_tag(k, months): v for k, v in proposal.cells.items()},
                    {_tag(k, months): v for k, v in proposal.unplaced.items()})


def _propose_df(p: Proposer) -> Proposal:
    from bcf.fortnightly import SchemeRow, catalogue

    schemes = p.scheme_rows(r"spend|activity|scheme")
    specs = catalogue([SchemeRow(s, s, s) for s in schemes])
    by_id = {s.id: s for s in specs}
    plan: list[tuple[str, Rule, list[tuple[Grid, int, int]] | None]] = []
    for fid, pattern in DF_LABELS.items():
        if fid in by_id:
            sheet = next(v for k, v in DF_SHEETS.items() if fid.startswith(k))
            plan.append((fid, Rule(sheet, pattern), None))
    for part, cols in DF_SCHEME_COLS.items():
        for slug, rows in schemes.items():
            plan.append((f"df.scheme.{slug}.{part}", Rule(r"spend|activity|scheme", "", cols), rows))
        if part in DF_TOTALS:
            plan.append((f"df.spend.{DF_TOTALS[part]}", Rule(r"spend|activity|scheme", "", cols),
                         p.total_row(r"spend|activity|scheme")))
    proposal = p.run(plan)
    order = [s.id for s in specs]
    cells = {k: proposal.cells[k] for k in order if k in proposal.cells}
    unplaced = {k: proposal.unplaced.get(k, "no rule found it") for k in order if k not in cells}
    return Proposal(cells, unplaced)

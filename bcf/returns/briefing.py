"""`bcf briefing --hwb CODE --fund-year 2022-23`: a board briefing from the returns' own figures.

An XLSX (a Summary sheet, native openpyxl charts, and a Data sheet naming every number's figure id and the return it
came from) and a PDF (one summary page a board member reads in a minute, then one chart a page, then the sources).
Every number is a figure of a return: read from the audit pack of a return already written in --out, or, for a
fortnight or quarter with no return there, computed from the warehouse by the same code the returns use (the Data
sheet says which). Shares are the only arithmetic added here (same-day / with ready date), written as formulas over
the figures in the XLSX.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from bcf.core.dates import Fortnight, Quarter
from bcf.core.settings import hwb_name, settings
from bcf.returns.pack import pack_dir
from bcf.returns.quarterly import CD_SERVICES, METRIC_KIND, METRIC_LABEL, METRICS
from bcf.warehouse import db

PATHWAYS = ["pathway_0", "pathway_1", "pathway_2", "pathway_3", "pathway_unknown"]
PATHWAY_LABEL = {"pathway_0": "Pathway 0: home, no new support", "pathway_1": "Pathway 1: home with support",
                 "pathway_2": "Pathway 2: short-term bed", "pathway_3": "Pathway 3: care home",
                 "pathway_unknown": "Pathway not recorded"}
# Each metric in words a board member reads whole (the returns' labels are cut at "(" or "per" otherwise)
BOARD_NAME = {
    "avoidable_admissions": "Unplanned admissions for long-term conditions best managed outside hospital (ACSC)",
    "falls": "Emergency admissions after a fall, people aged 65+ (DSR)",
    "discharge_usual_residence": "People discharged to their usual place of residence",
    "residential_admissions": "Permanent admissions of people aged 65+ to residential and nursing homes",
    "reablement_91d": "People aged 65+ still at home 91 days after leaving hospital into reablement",
}
GLOSSARY = [
    "DSR (directly age-standardised rate): the rate per 100,000 people aged 65+ if our population had the same age "
    "mix as the 2013 European Standard Population, so places with older populations compare fairly.",
    "ACSC (ambulatory care sensitive conditions): long-term conditions such as asthma, diabetes and heart failure, "
    "where good care outside hospital usually prevents an emergency admission.",
]
SERVICE_NAME = {"pathway_1": "pathway 1 (home with new support)", "pathway_2": "pathway 2 (short-term bed)",
                "pathway_3": "pathway 3 (care home)", "community_reablement": "community reablement",
                "community_bed": "community beds"}
DF_FIGURES = [*[f"df.discharges.{p}" for p in PATHWAYS], "df.discharges.total", "df.discharges.with_ready_date",
              "df.discharges.same_day", "df.discharges.within_48h", "df.discharges.avg_delay_days",
              "df.spend.planned", "df.spend.to_date", "df.income.total", "df.balance", "df.check.plan_within_income",
              "df.check.spend_within_income"]


@dataclass
class Period:
    label: str  # 2023-03-30 or 2022-23 Q4
    end: dt.date
    figures: dict[str, Any]  # figure id -> value (Decimal, str, None)
    source: str  # the workbook the figures came from, or "warehouse"


@dataclass
class Briefing:
    hwb: str
    fund_year: str
    fortnights: list[Period] = field(default_factory=list)
    quarters: list[Period] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"board_briefing_{self.hwb}_{self.fund_year}"

    def latest(self) -> Period | None:
        return self.fortnights[-1] if self.fortnights else None


def _value(v: object) -> Any:
    if isinstance(v, str):
        try:
            return Decimal(v)
        except ArithmeticError:
            return v
    return v


def _from_pack(workbook: Path) -> dict[str, Any] | None:
    manifest = pack_dir(workbook) / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return {f["figure_id"]: (_value(f["value"]) if f.get("kind") not in ("text", "yesno", "date") else f["value"])
            for f in data["figures"]}


def _from_warehouse(con: duckdb.DuckDBPyConnection, workbook: Path) -> dict[str, Any] | None:
    """The return's figures as a run recorded them (db.return_figures) from the files now in force, read as its
    manifest would be; None if no run produced it from them."""
    got = db.recorded_return_figures(con, workbook.name)
    if not got:
        return None
    return {fid: (_value(v) if kind not in ("text", "yesno", "date") else v)
            for fid, kind, v in ((fid, kind, json.loads(text)) for fid, kind, text in got)}


def period_ends(fund_year: str, until: dt.date) -> list[dt.date]:
    from bcf.core.dates import backfill_period_ends

    start = dt.date(int(fund_year[:4]), 4, 1)
    end = min(dt.date(start.year + 1, 3, 31), until)
    return backfill_period_ends(start, end)


def collect(hwb: str, fund_year: str, out_dir: Path, data_dir: Path | None, until: dt.date | None = None,
            con: duckdb.DuckDBPyConnection | None = None, compute_fortnights: bool = True) -> Briefing:
    """The figures of every fortnight and quarter of the fund year that has ended by `until` (default today).
    Without `compute_fortnights`, only fortnights with a return in `out_dir` are shown (a quarterly run uses this:
    the scheduled fortnightly runs have written them, and recomputing a year of fortnights would double its time)."""
    until = until or dt.date.today()
    brief = Briefing(hwb, fund_year)
    missing_f: list[Fortnight] = []
    missing_q: list[Quarter] = []
    for end in period_ends(fund_year, until):
        period = Fortnight.ending(end)
        got = _from_pack(out_dir / period.file_name(hwb))
        if got is None:
            if compute_fortnights:
                missing_f.append(period)
        else:
            brief.fortnights.append(Period(end.isoformat(), end, got, period.file_name(hwb)))
    for n in (1, 2, 3, 4):
        quarter = Quarter.parse(f"{fund_year}-Q{n}")
        if quarter.q_end > until:
            continue
        got = _from_pack(out_dir / quarter.file_name(hwb))
        if got is None:
            missing_q.append(quarter)
        else:
            brief.quarters.append(Period(quarter.label, quarter.q_end, got, quarter.file_name(hwb)))
    if missing_f or missing_q:
        _compute_missing(brief, missing_f, missing_q, data_dir, con)
    return _sorted(brief)


def _sorted(brief: Briefing) -> Briefing:
    brief.fortnights.sort(key=lambda p: p.end)
    brief.quarters.sort(key=lambda p: p.end)
    return brief


def _compute_missing(brief: Briefing, fortnights: list[Fortnight], quarters: list[Quarter], data_dir: Path | None,
                     con: duckdb.DuckDBPyConnection | None) -> None:
    from bcf.returns.fortnightly import compute as compute_df
    from bcf.returns.quarterly import compute as compute_q

    if con is None:
        if data_dir is None or not (data_dir / "warehouse.duckdb").exists():
            raise FileNotFoundError(f"no returns in the output folder for {len(fortnights)} fortnight(s) and "
                                    f"{len(quarters)} quarter(s), and no warehouse to compute them from "
                                    f"({data_dir})")
        with db.connect(data_dir / "warehouse.duckdb", read_only=True) as own:
            _compute_missing(brief, fortnights, quarters, data_dir, own)
        return
    # a return a run already produced from the files now in force is read, not computed again
    for period in list(fortnights):
        if (got := _from_warehouse(con, Path(period.file_name(brief.hwb)))) is not None:
            fortnights.remove(period)
            brief.fortnights.append(Period(period.period_end.isoformat(), period.period_end, got, "warehouse"))
    for quarter in list(quarters):
        if (got := _from_warehouse(con, Path(quarter.file_name(brief.hwb)))) is not None:
            quarters.remove(quarter)
            brief.quarters.append(Period(quarter.label, quarter.q_end, got, "warehouse"))
    # values only: a briefing shows figures, not their lineage (a quarter's is millions of rows at 1.86M a year)
    for period in fortnights:
        ret = compute_df(con, brief.hwb, period, lineage=False)
        brief.fortnights.append(Period(period.period_end.isoformat(), period.period_end,
                                       {f.id: f.value for f in ret.figures}, "warehouse"))
    for quarter in quarters:
        q = compute_q(con, brief.hwb, quarter, lineage=False)
        brief.quarters.append(Period(quarter.label, quarter.q_end, {f.id: f.value for f in q.figures}, "warehouse"))


# ---------- the numbers a board member sees ----------

def _d(v: Any) -> Decimal | None:
    return v if isinstance(v, Decimal) else None


def share(part: Any, whole: Any) -> Decimal | None:
    p, w = _d(part), _d(whole)
    if p is None or w is None or w == 0:
        return None
    return (p * 100 / w).quantize(Decimal("0.1"))


def money(v: Any) -> str:
    d = _d(v)
    return "-" if d is None else (f"-£{-d:,.0f}" if d < 0 else f"£{d:,.0f}")


def num(v: Any, places: int = 0) -> str:
    d = _d(v)
    return "-" if d is None else f"{d:,.{places}f}"


@dataclass(frozen=True)
class Line:
    text: str
    figure_ids: tuple[str, ...]
    source: str
    alert: bool = False


def summary(brief: Briefing) -> list[Line]:
    """The summary page, one line each, with the figure ids and return behind every number."""
    lines: list[Line] = []
    if brief.fortnights:
        f = brief.fortnights
        last = f[-1]
        v = last.figures
        total_year = sum((_d(p.figures.get("df.discharges.total")) or Decimal(0)) for p in f)
        lines.append(Line(f"{num(total_year)} acute discharges in the {_n(len(f), 'fortnight')} to "
                          f"{last.end:%d %B %Y}; "
                          f"{num(v.get('df.discharges.total'))} in the latest fortnight.",
                          ("df.discharges.total",), "every fortnight's return"))
        same = share(v.get("df.discharges.same_day"), v.get("df.discharges.with_ready_date"))
        within = share(v.get("df.discharges.within_48h"), v.get("df.discharges.with_ready_date"))
        lines.append(Line(f"Latest fortnight: {num(same, 1)}% left hospital the day they were ready, "
                          f"{num(within, 1)}% within 48 hours; average delay "
                          f"{num(v.get('df.discharges.avg_delay_days'), 1)} days per person.",
                          ("df.discharges.same_day", "df.discharges.within_48h", "df.discharges.with_ready_date",
                           "df.discharges.avg_delay_days"), last.source))
        income, planned, spent = (v.get("df.income.total"), v.get("df.spend.planned"), v.get("df.spend.to_date"))
        lines.append(Line(f"Discharge Fund: income {money(income)}, plan {money(planned)}, spent to date "
                          f"{money(spent)} ({num(share(spent, income), 1)}% of income); balance "
                          f"{money(v.get('df.balance'))}.",
                          ("df.income.total", "df.spend.planned", "df.spend.to_date", "df.balance"), last.source))
        over = _d(planned), _d(income)
        if v.get("df.check.plan_within_income") == "No":
            excess = over[0] - over[1] if over[0] is not None and over[1] is not None else None
            lines.append(Line(f"The plan spends {money(excess)} more than the fund's income: the plan needs "
                              "correcting or more income.",
                              ("df.check.plan_within_income", "df.spend.planned", "df.income.total"), last.source,
                              alert=True))
        if v.get("df.check.spend_within_income") == "No":
            lines.append(Line("Spend to date already exceeds the fund's income.",
                              ("df.check.spend_within_income",), last.source, alert=True))
    if brief.quarters:
        q = brief.quarters[-1]
        for m in METRICS:
            actual, plan = q.figures.get(f"q.metric.{m}.actual"), q.figures.get(f"q.metric.{m}.plan")
            assessment = q.figures.get(f"q.metric.{m}.assessment") or ""
            unit = "%" if METRIC_KIND[m] == "pct" else " per 100,000"
            lines.append(Line(f"{q.label} {BOARD_NAME[m]}: {num(actual, 1)}{unit} "
                              f"against a plan of {num(plan, 1)}{unit} - {assessment.lower() or 'no assessment'}.",
                              (f"q.metric.{m}.actual", f"q.metric.{m}.plan", f"q.metric.{m}.assessment"), q.source,
                              alert=assessment.startswith("Not on track")))
        finding = capacity_finding(brief)
        if finding:
            lines.append(Line(finding, ("q.cd.*.demand", "q.cd.*.capacity"), "the quarterly returns", alert=True))
    return lines


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def capacity_finding(brief: Briefing) -> str | None:
    """One sentence, not a list of months: in how many months demand exceeded capacity in some service, and the
    service short most often (ties: the larger total shortfall)."""
    rows = cd_months(brief)
    months = sorted({m for m, *_ in rows})
    short = [(m, s, d - c) for m, s, d, c in rows if d is not None and c is not None and c < d]
    if not short:
        return None
    short_months = sorted({m for m, *_ in short})
    by_service: dict[str, tuple[int, Decimal]] = {}
    for _m, service, gap in short:
        n, total = by_service.get(service, (0, Decimal(0)))
        by_service[service] = (n + 1, total + gap)
    worst = max(by_service, key=lambda k: by_service[k])
    return (f"Intermediate care demand exceeded capacity in at least one service in {len(short_months)} of "
            f"{_n(len(months), 'month')}, most often in {SERVICE_NAME.get(worst, worst)}: short in "
            f"{_n(by_service[worst][0], 'month')}, by {num(by_service[worst][1])} people in all.")


def cd_months(brief: Briefing) -> list[tuple[str, str, Decimal | None, Decimal | None]]:
    """(yyyy-mm, service, demand, capacity) for every month of every quarter."""
    out = []
    for q in brief.quarters:
        quarter = Quarter.parse(q.label)
        for month in quarter.months:
            for service in CD_SERVICES:
                tag = f"q.cd.{service}.{month:%Y_%m}"
                out.append((f"{month:%Y-%m}", service, _d(q.figures.get(f"{tag}.demand")),
                            _d(q.figures.get(f"{tag}.capacity"))))
    return out


# ---------- XLSX with native charts ----------

def write_xlsx(brief: Briefing, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference, Series
    from openpyxl.styles import Alignment, Font, PatternFill

    from bcf.transforms.workbook import FORMATS, safe_text, save_atomically

    book = Workbook()
    top = book.active
    top.title = "Summary"
    top["A1"] = f"Better Care Fund board briefing: {hwb_name(brief.hwb)} ({brief.hwb}), {brief.fund_year}"
    top["A1"].font = Font(bold=True, size=14)
    for r, line in enumerate(summary(brief), start=3):
        safe_text(top.cell(row=r, column=1), line.text)
        top.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        if line.alert:
            top.cell(row=r, column=1).fill = PatternFill("solid", fgColor="FFC7CE")
        safe_text(top.cell(row=r, column=2), ", ".join(line.figure_ids) + f"  ({line.source})")
        top.cell(row=r, column=2).font = Font(color="666666", size=8)
        top.row_dimensions[r].height = 30
    top.column_dimensions["A"].width = 110
    top.column_dimensions["B"].width = 70

    data = book.create_sheet("Fortnights")
    head = ["Period end", *[PATHWAY_LABEL[p] for p in PATHWAYS], "Same day %", "Within 48h %",
            "Average delay (days)", "DF spend to date", "DF planned spend", "DF income", "Source"]
    data.append(head)
    for i, p in enumerate(brief.fortnights, start=2):
        v = p.figures
        data.cell(row=i, column=1, value=p.end).number_format = FORMATS["date"]
        for j, pw in enumerate(PATHWAYS, start=2):
            data.cell(row=i, column=j, value=_d(v.get(f"df.discharges.{pw}")))
        # shares as formulas over figures kept on the Data sheet, so the arithmetic is visible
        data.cell(row=i, column=7, value=f"=IF(Data!D{i}=0,\"\",100*Data!E{i}/Data!D{i})").number_format = "0.0"
        data.cell(row=i, column=8, value=f"=IF(Data!D{i}=0,\"\",100*Data!F{i}/Data!D{i})").number_format = "0.0"
        data.cell(row=i, column=9, value=_d(v.get("df.discharges.avg_delay_days"))).number_format = "0.0"
        for j, fid in ((10, "df.spend.to_date"), (11, "df.spend.planned"), (12, "df.income.total")):
            data.cell(row=i, column=j, value=_d(v.get(fid))).number_format = FORMATS["money"]
        data.cell(row=i, column=13, value=p.source)
    raw = book.create_sheet("Data")
    raw.append(["Period end", "Source", "df.discharges.total", "df.discharges.with_ready_date",
                "df.discharges.same_day", "df.discharges.within_48h"])
    for i, p in enumerate(brief.fortnights, start=2):
        raw.cell(row=i, column=1, value=p.end).number_format = FORMATS["date"]
        raw.cell(row=i, column=2, value=p.source)
        for j, fid in enumerate(raw[1][2:], start=3):
            raw.cell(row=i, column=j, value=_d(p.figures.get(str(fid.value))))
    n = len(brief.fortnights) + 1

    quarters = book.create_sheet("Metrics")
    quarters.append(["Metric", "Quarter", "Plan", "Actual", "Assessment", "Plan figure id", "Actual figure id",
                     "Source"])
    for m in METRICS:
        for q in brief.quarters:
            quarters.append([METRIC_LABEL[m], q.label, _d(q.figures.get(f"q.metric.{m}.plan")),
                             _d(q.figures.get(f"q.metric.{m}.actual")), q.figures.get(f"q.metric.{m}.assessment"),
                             f"q.metric.{m}.plan", f"q.metric.{m}.actual", q.source])
    cd = book.create_sheet("Capacity and demand")
    cd.append(["Month", "Service", "Demand", "Capacity", "Demand figure id", "Capacity figure id"])
    for month, service, demand, capacity in cd_months(brief):
        tag = f"q.cd.{service}.{month.replace('-', '_')}"
        cd.append([month, service, demand, capacity, f"{tag}.demand", f"{tag}.capacity"])
    months = sorted({m for m, *_ in cd_months(brief)})
    totals = book.create_sheet("Capacity by month")
    totals.append(["Month", "Demand (all services)", "Capacity (services with a plan)"])
    for i, month in enumerate(months, start=2):
        totals.append([month, f"=SUMIFS('Capacity and demand'!C:C,'Capacity and demand'!A:A,A{i})",
                       f"=SUMIFS('Capacity and demand'!D:D,'Capacity and demand'!A:A,A{i})"])
    for sheet in (data, raw, quarters, cd, totals):
        for c in sheet[1]:
            c.font = Font(bold=True)
        for col in "ABCDEFGHIJKLM":
            sheet.column_dimensions[col].width = 18

    charts = book.create_sheet("Charts", 1)
    if not brief.fortnights:
        n = 2  # no fortnightly return yet: the fortnight charts stay empty rather than point at nothing
    bar = BarChart()
    bar.type, bar.grouping, bar.overlap = "col", "stacked", 100
    bar.title, bar.y_axis.title = "Acute discharges per fortnight by pathway", "people"
    bar.add_data(Reference(data, min_col=2, max_col=6, min_row=1, max_row=n), titles_from_data=True)
    bar.set_categories(Reference(data, min_col=1, min_row=2, max_row=n))
    bar.width, bar.height = 26, 9
    charts.add_chart(bar, "A1")
    timely = LineChart()
    timely.title, timely.y_axis.title = "Discharged the day they were ready / within 48 hours (%)", "%"
    timely.add_data(Reference(data, min_col=7, max_col=8, min_row=1, max_row=n), titles_from_data=True)
    timely.set_categories(Reference(data, min_col=1, min_row=2, max_row=n))
    timely.width, timely.height = 26, 9
    charts.add_chart(timely, "A20")
    delay = LineChart()
    delay.title, delay.y_axis.title = "Average delay per person (days)", "days"
    delay.add_data(Reference(data, min_col=9, min_row=1, max_row=n), titles_from_data=True)
    delay.set_categories(Reference(data, min_col=1, min_row=2, max_row=n))
    delay.width, delay.height = 26, 9
    charts.add_chart(delay, "A39")
    burn = LineChart()
    burn.title, burn.y_axis.title = "Discharge Fund: spend to date against plan and income", "£"
    burn.add_data(Reference(data, min_col=10, max_col=12, min_row=1, max_row=n), titles_from_data=True)
    burn.set_categories(Reference(data, min_col=1, min_row=2, max_row=n))
    burn.width, burn.height = 26, 9
    charts.add_chart(burn, "A58")
    row = 77
    for k, m in enumerate(METRICS):
        chart = BarChart()
        chart.title = METRIC_LABEL[m]
        first = 2 + k * len(brief.quarters)
        last = first + len(brief.quarters) - 1
        for column, name in ((3, "Plan"), (4, "Actual")):
            series = Series(Reference(quarters, min_col=column, min_row=first, max_row=last), title=name)
            chart.series.append(series)
        chart.set_categories(Reference(quarters, min_col=2, min_row=first, max_row=last))
        chart.width, chart.height = 13, 7
        charts.add_chart(chart, f"{'A' if k % 2 == 0 else 'J'}{row}")
        if k % 2 == 1:
            row += 15
    row += 15
    capacity = BarChart()
    capacity.title, capacity.y_axis.title = "Capacity against demand by month (intermediate care)", "people"
    capacity.add_data(Reference(totals, min_col=2, max_col=3, min_row=1, max_row=len(months) + 1),
                      titles_from_data=True)
    capacity.set_categories(Reference(totals, min_col=1, min_row=2, max_row=len(months) + 1))
    capacity.width, capacity.height = 26, 9
    charts.add_chart(capacity, f"A{row}")
    for sheet in book.worksheets:
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.oddHeader.left.text = f"{hwb_name(brief.hwb)} ({brief.hwb}) - board briefing {brief.fund_year}"
    save_atomically(book, path)
    return path


# ---------- PDF (matplotlib: one summary page, then the charts, then the sources) ----------

def write_pdf(brief: Briefing, path: Path) -> Path:
    """The pages of `pages`, saved under a temporary name and renamed: mode 0666 less the umask (0644 usually), as
    the XLSX beside it (tempfile.mkstemp would make it 0600)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from bcf.transforms.workbook import temporary_beside

    tmp = temporary_beside(path)  # 0644 like the XLSX, not mkstemp's 0600
    try:
        with PdfPages(tmp) as pdf:
            for fig in pages(brief):
                pdf.savefig(fig)
                plt.close(fig)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def pages(brief: Briefing) -> Iterator[Any]:
    """The briefing's pages as matplotlib figures: the summary, one chart a page, then the sources. Every series a
    legend names is drawn with markers, so a single period still shows as a point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"pdf.fonttype": 42, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    a4 = (11.69, 8.27)
    title = f"{hwb_name(brief.hwb)} ({brief.hwb}) - Better Care Fund and Discharge Fund, {brief.fund_year}"
    ends: Any = [p.end for p in brief.fortnights]  # matplotlib takes dates; its stubs say numbers

    fig = plt.figure(figsize=a4)
    fig.text(0.06, 0.92, "Board briefing", fontsize=22, weight="bold", color="#005EB8")
    fig.text(0.06, 0.87, title, fontsize=13)
    asof = f"As at {ends[-1]:%d %B %Y}" if ends else ""
    fig.text(0.06, 0.83, f"{asof}. Every number below is a figure of the returns; the last page names each one.",
             fontsize=9, color="#555555")
    y = 0.77
    for line in summary(brief):  # wrapped here, so a long line pushes the next down instead of running into it
        text = _wrap(("! " if line.alert else "- ") + line.text, 125)
        fig.text(0.06, y, text, fontsize=10.5, color="#9C0006" if line.alert else "#000000", va="top")
        y -= 0.027 * (text.count("\n") + 1) + 0.012
    y -= 0.005
    fig.text(0.06, y, "Terms used", fontsize=10, weight="bold", va="top")
    y -= 0.03
    for term in GLOSSARY:
        text = _wrap(term, 150)
        fig.text(0.06, y, text, fontsize=9, color="#333333", va="top")
        y -= 0.024 * (text.count("\n") + 1) + 0.01
    yield fig

    if brief.fortnights:
        fig, ax = plt.subplots(figsize=a4)
        bottom = [0.0] * len(ends)
        for pw in PATHWAYS:
            vals = [float(_d(p.figures.get(f"df.discharges.{pw}")) or 0) for p in brief.fortnights]
            ax.bar(ends, vals, width=10, bottom=bottom, label=PATHWAY_LABEL[pw])
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_title("Acute discharges per fortnight by pathway", fontsize=14, loc="left")
        ax.set_ylabel("people discharged")
        ax.legend(frameon=False, ncols=3, loc="upper left")
        _date_axis(ax, ends)
        _footer(fig, "df.discharges.pathway_0 ... pathway_3, pathway_unknown of each fortnightly return")
        yield fig

        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=a4, sharex=True)
        same = [_f(share(p.figures.get("df.discharges.same_day"),
                         p.figures.get("df.discharges.with_ready_date"))) for p in brief.fortnights]
        within = [_f(share(p.figures.get("df.discharges.within_48h"),
                           p.figures.get("df.discharges.with_ready_date"))) for p in brief.fortnights]
        ax1.plot(ends, same, marker="o", label="same day")
        ax1.plot(ends, within, marker="o", label="within 48 hours")
        ax1.set_ylim(0, 100)
        ax1.set_ylabel("% of those with a ready date")
        ax1.set_title("How quickly people leave hospital once they are ready", fontsize=14, loc="left")
        ax1.legend(frameon=False)
        ax2.plot(ends, [_f(p.figures.get("df.discharges.avg_delay_days")) for p in brief.fortnights],
                 marker="o", color="#D5281B", label="average delay")
        ax2.set_ylabel("average delay per person (days)")
        _date_axis(ax2, ends)
        _footer(fig, "df.discharges.same_day, within_48h, with_ready_date, avg_delay_days")
        yield fig

        fig, ax = plt.subplots(figsize=a4)
        ax.plot(ends, [_f(p.figures.get("df.spend.to_date")) for p in brief.fortnights], marker="o",
                label="spend to date", color="#005EB8", linewidth=2)
        ax.plot(ends, [_f(p.figures.get("df.spend.planned")) for p in brief.fortnights], "--", marker="s",
                label="planned spend", color="#ED8B00")
        ax.plot(ends, [_f(p.figures.get("df.income.total")) for p in brief.fortnights], ":", marker="^",
                label="income", color="#007F3B", linewidth=2)
        ax.set_title("Discharge Fund: spend to date against plan and income", fontsize=14, loc="left")
        ax.yaxis.set_major_formatter(lambda v, _pos: f"£{v:,.0f}")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False)
        _date_axis(ax, ends)
        _footer(fig, "df.spend.to_date, df.spend.planned, df.income.total of each fortnightly return")
        yield fig

    if brief.quarters:
        fig, axes = plt.subplots(2, 3, figsize=a4)
        labels = [q.label.split(" ")[1] for q in brief.quarters]
        for ax, m in zip(axes.flat, METRICS, strict=False):
            plan = [_f(q.figures.get(f"q.metric.{m}.plan")) for q in brief.quarters]
            actual = [_f(q.figures.get(f"q.metric.{m}.actual")) for q in brief.quarters]
            xs = range(len(labels))
            ax.bar([x - 0.2 for x in xs], [v or 0 for v in plan], width=0.4, label="plan", color="#AEB7BD")
            ax.bar([x + 0.2 for x in xs], [v or 0 for v in actual], width=0.4, label="actual", color="#005EB8")
            ax.set_xticks(list(xs), labels)
            for x, v in zip(xs, actual, strict=True):  # a blank actual is said, not left as a gap
                if v is None:
                    ax.text(x + 0.2, 0, "no data", rotation=90, ha="center", va="bottom", fontsize=8, color="#333333")
            unit = "%" if METRIC_KIND[m] == "pct" else "per 100,000"
            ax.set_title(_wrap(f"{BOARD_NAME[m]} ({unit})", 44), fontsize=9, loc="left")
        axes.flat[0].legend(frameon=False)
        glossary = axes.flat[-1]
        glossary.axis("off")
        glossary.text(0, 1, "\n\n".join(_wrap(t, 48) for t in GLOSSARY), fontsize=8, va="top", color="#333333")
        fig.suptitle("BCF metrics: actual against plan by quarter", fontsize=14, x=0.06, ha="left")
        fig.tight_layout(rect=(0, 0.05, 1, 0.95))
        _footer(fig, "q.metric.<metric>.plan and .actual of each quarterly return")
        yield fig

        rows = cd_months(brief)
        months = sorted({m for m, *_ in rows})
        demand = [sum((d or 0) for m, _s, d, _c in rows if m == month) for month in months]
        capacity = [sum((c or 0) for m, _s, _d, c in rows if m == month) for month in months]
        fig, ax = plt.subplots(figsize=a4)
        xs = range(len(months))
        ax.bar([x - 0.2 for x in xs], [float(v) for v in demand], width=0.4, label="demand", color="#ED8B00")
        ax.bar([x + 0.2 for x in xs], [float(v) for v in capacity], width=0.4, label="capacity", color="#007F3B")
        ax.set_xticks(list(xs), [dt.date.fromisoformat(m + "-01").strftime("%b %y") for m in months])
        ax.set_title("Intermediate care: capacity against demand by month (all five services)", fontsize=14,
                     loc="left")
        ax.set_ylabel("people")
        ax.legend(frameon=False)
        finding = capacity_finding(brief)
        if finding:  # below the month labels, above the footer
            fig.subplots_adjust(bottom=0.17)
            fig.text(0.125, 0.07, _wrap(finding, 150), fontsize=9, color="#9C0006", va="top")
        _footer(fig, "sums of q.cd.<service>.<month>.demand and .capacity of the quarterly returns")
        yield fig

    fig = plt.figure(figsize=a4)
    fig.text(0.06, 0.93, "Sources of the summary", fontsize=14, weight="bold")
    y = 0.88
    for line in summary(brief):
        text = _wrap(line.text, 150)
        fig.text(0.06, y, text, fontsize=8, va="top")
        y -= 0.02 * (text.count("\n") + 1)
        fig.text(0.06, y, "figure ids: " + ", ".join(line.figure_ids) + f"  - {line.source}", fontsize=7,
                 color="#555555", va="top")
        y -= 0.035
    yield fig


def _date_axis(ax: Any, ends: list[dt.date]) -> None:
    """Fortnight ends on the x axis, only the span of the periods shown (one period is not a five-year axis)."""
    import matplotlib.dates as mdates

    if ends:
        pad = dt.timedelta(days=10)
        ax.set_xlim(ends[0] - pad, ends[-1] + pad)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %y"))


def _f(v: Any) -> Any:
    d = _d(v)
    return None if d is None else float(d)  # plotting only: the figures themselves stay Decimal


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _footer(fig: Any, text: str) -> None:
    fig.text(0.06, 0.015, f"Figures: {text}", fontsize=7, color="#555555")


def write(hwb: str, fund_year: str, out_dir: Path, data_dir: Path | None, until: dt.date | None = None,
          con: duckdb.DuckDBPyConnection | None = None, compute_fortnights: bool = True) -> tuple[Path, Path]:
    brief = collect(hwb, fund_year, out_dir, data_dir, until, con, compute_fortnights)
    if not brief.fortnights and not brief.quarters:
        raise ValueError(f"no fortnight or quarter of {fund_year} has ended yet")
    folder = out_dir / "briefings"  # beside the returns, not among them: the returns folder holds returns
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = write_xlsx(brief, folder / f"{brief.name}.xlsx")
    pdf = write_pdf(brief, folder / f"{brief.name}.pdf")
    return xlsx, pdf


def enabled() -> bool:
    return bool(settings().get("briefing", {}).get("with_quarterly", True))


def compute_fortnights_in_flow() -> bool:
    return bool(settings().get("briefing", {}).get("compute_missing_fortnights", False))

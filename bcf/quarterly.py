"""The BCF quarterly return (returns.md part B): its quarter, its figures in catalogue order, derived values."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from bcf.settings import codes, hwb_name
from transforms.figures import (
    Figure,
    FigureSpec,
    Value,
    build,
    ratio,
    rounded,
    run_figure_query,
    scheme_slug,
    start_contributions,
    summed_figures,
)
from warehouse.db import sql

QUERIES = ("q_metrics", "q_metric_derived", "q_capacity_demand", "q_cd_gap", "q_schemes", "q_income_expenditure",
           "q_ie_derived", "q_conditions")
METRICS = ("avoidable_admissions", "falls", "discharge_usual_residence", "residential_admissions", "reablement_91d")
LOWER_IS_BETTER = {"avoidable_admissions", "falls", "residential_admissions"}
METRIC_KIND = {"avoidable_admissions": "rate", "falls": "rate", "residential_admissions": "rate",
               "discharge_usual_residence": "pct", "reablement_91d": "pct"}
METRIC_LABEL = {
    "avoidable_admissions": "Avoidable admissions (chronic ACSC, emergency) per 100,000",
    "falls": "Emergency admissions due to falls, 65+, DSR per 100,000",
    "discharge_usual_residence": "Discharge to usual place of residence (%)",
    "residential_admissions": "Permanent admissions 65+ to residential and nursing care per 100,000",
    "reablement_91d": "Older people (65+) still at home 91 days after discharge into reablement (%)",
}
CONDITIONS = {
    1: "Plans are jointly agreed",
    2: "Enabling people to stay well, safe and independent at home for longer",
    3: "Providing the right care in the right place at the right time",
    4: "Maintaining NHS's contribution to adult social care and investment in NHS out-of-hospital services",
}
CD_SERVICES = ("pathway_1", "pathway_2", "pathway_3", "community_reablement", "community_bed")
ON_TRACK, NOT_ON_TRACK, NO_DATA = ("On track to meet target", "Not on track to meet target",
                                   "Data not available to assess progress")


@dataclass(frozen=True)
class Quarter:
    hwb: str
    fund_year: str  # 2023-24
    number: int  # 1..4
    q_start: dt.date
    q_end: dt.date
    fy_start: dt.date

    @classmethod
    def parse(cls, hwb: str, text: str) -> Quarter:
        """`2023-24-Q3` (the command line) or `2023-24 Q3` (the plan)."""
        match = re.fullmatch(r"(\d{4})-(\d{2})[- ]Q([1-4])", text.strip())
        if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
            raise ValueError(f"not a quarter like 2023-24-Q3: {text}")
        year, n = int(match.group(1)), int(match.group(3))
        start_month = (4, 7, 10, 1)[n - 1]
        start = dt.date(year + (n == 4), start_month, 1)
        end = (dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1) - dt.timedelta(days=1))
        return cls(hwb, f"{year}-{match.group(2)}", n, start, end, dt.date(year, 4, 1))

    @property
    def label(self) -> str:
        return f"{self.fund_year} Q{self.number}"

    @property
    def months(self) -> list[dt.date]:
        return [dt.date(self.q_start.year, self.q_start.month + i, 1) for i in range(3)]

    def params(self) -> dict[str, Any]:
        c = codes()
        return {"hwb": self.hwb, "quarter": self.label, "q_start": self.q_start, "q_end": self.q_end,
                "fund_year": self.fund_year, "fy_start": self.fy_start,
                # the cross-source checks share the fortnightly parameter names: "the period" is the quarter
                "period_start": self.q_start, "period_end": self.q_end,
                "emergency": c["admission_method"]["emergency"], "acsc": c["acsc"]["prefixes"]}

    @property
    def file_name(self) -> str:
        return f"bcf_quarterly_{self.hwb}_{self.fund_year}_Q{self.number}.xlsx"


def _s(fid: str, label: str, kind: str, definition: str, query: str) -> FigureSpec:
    return FigureSpec(fid, label, kind, definition, query)


METRIC_DEFINITIONS = {
    "discharge_usual_residence": ("acute discharges in Q to destination 19", "acute discharges in Q, destination "
                                  "not 79 (died)", "100 x numerator / denominator"),
    "avoidable_admissions": ("acute emergency admissions in Q with a chronic ACSC primary diagnosis",
                             "total population (plan.population)", "numerator / denominator x 100,000"),
    "falls": ("acute emergency admissions in Q, age 65+, diagnosis S00-T98, external cause W00-W19",
              "population aged 65+", "directly age-standardised rate per 100,000 (ESP 2013 weights)"),
    "reablement_91d": ("of the cohort, status_91d at_home", "reablement episodes from hospital, age 65+, hospital "
                       "discharge from Q start - 91 days to Q end - 91 days", "100 x numerator / denominator"),
}


def catalogue(schemes: list[tuple[str, str]], sources: list[str], months: list[dt.date]) -> list[FigureSpec]:
    specs = [
        _s("q.hwb_code", "HWB code", "text", "ONS code of the Health and Wellbeing Board", "parameters"),
        _s("q.hwb_name", "HWB name", "text", "HWB name from config/hwb.csv", "config/hwb.csv"),
        _s("q.quarter", "Quarter", "text", "the reporting quarter", "parameters"),
        _s("q.template_status", "Template status", "text",
           "Incomplete when a condition 1-4 or a metric plan for the quarter is missing, else Complete",
           "q_plan_rows"),
    ]
    specs += [_s(f"q.condition.{n}.confirmed", f"{n}. {text}", "text", f"plan.conditions condition {n} confirmed",
                 "q_conditions") for n, text in CONDITIONS.items()]
    for m in METRICS:
        kind = METRIC_KIND[m]
        specs.append(_s(f"q.metric.{m}.plan", "Plan", kind, f"plan.metric_plans {m} for the quarter", "q_metrics"))
        if m in METRIC_DEFINITIONS:
            num, den, act = METRIC_DEFINITIONS[m]
            specs += [_s(f"q.metric.{m}.numerator", "Numerator", "count", num, "q_metrics"),
                      _s(f"q.metric.{m}.denominator", "Denominator", "count", den, "q_metrics"),
                      _s(f"q.metric.{m}.actual", "Actual", kind, act, "q_metric_derived")]
        else:
            specs.append(_s(f"q.metric.{m}.actual", "Actual", kind, "plan.metric_actuals for the quarter",
                            "q_metrics"))
        specs.append(_s(f"q.metric.{m}.assessment", "Assessment", "text",
                        f"actual (rounded) against plan; {'lower' if m in LOWER_IS_BETTER else 'higher'} is better",
                        "q_metrics"))
    for service in CD_SERVICES:
        for month in months:
            tag = f"{service}.{month:%Y_%m}"
            specs += [_s(f"q.cd.{tag}.demand", "Demand", "count", f"{service} demand in {month:%Y-%m}",
                         "q_capacity_demand"),
                      _s(f"q.cd.{tag}.capacity", "Capacity", "count", f"plan.capacity {service} {month:%Y-%m}",
                         "q_capacity_demand"),
                      _s(f"q.cd.{tag}.gap", "Gap", "count", "capacity - demand; blank when capacity is absent",
                         "q_cd_gap")]
    for sid, _name in schemes:
        slug = scheme_slug(sid)
        specs += [_s(f"q.scheme.{slug}.planned_spend", "Planned spend", "money", f"plan.schemes {sid}, all sources",
                     "q_schemes"),
                  _s(f"q.scheme.{slug}.actual_spend_ytd", "Actual spend YTD", "money",
                     f"ledger amount to scheme {sid}, 1 April to quarter end", "q_schemes"),
                  _s(f"q.scheme.{slug}.planned_output", "Planned output", "units", f"plan.schemes {sid} output",
                     "q_schemes"),
                  _s(f"q.scheme.{slug}.actual_output_ytd", "Actual output YTD", "units",
                     f"ledger units to scheme {sid}, 1 April to quarter end", "q_schemes")]
    for source in [*sources, "total"]:
        what = "all funding sources" if source == "total" else source
        specs += [_s(f"q.ie.{source}.income", "Income", "money", f"plan.income for {what}", "q_income_expenditure"),
                  _s(f"q.ie.{source}.expenditure_ytd", "Expenditure YTD", "money",
                     f"ledger amount for {what}, 1 April to quarter end", "q_income_expenditure"),
                  _s(f"q.ie.{source}.balance", "Balance", "money", "income - expenditure_ytd", "q_ie_derived")]
    return specs


@dataclass
class QuarterlyReturn:
    quarter: Quarter
    figures: list[Figure]
    schemes: list[tuple[str, str]]
    sources: list[str]

    def value(self, fid: str) -> Value:
        return next(f for f in self.figures if f.id == fid).value


def assess(metric: str, actual: Decimal | None, plan: Decimal | None) -> str:
    if actual is None or plan is None:
        return NO_DATA
    reported = rounded(METRIC_KIND[metric], actual)
    good = reported <= plan if metric in LOWER_IS_BETTER else reported >= plan
    return ON_TRACK if good else NOT_ON_TRACK


def falls_dsr(con: duckdb.DuckDBPyConnection) -> Decimal | None:
    """Σ(count_b / pop_b × w_b) / Σ w_b × 100,000 over the 65+ bands; blank when a band's population is missing
    or 0."""
    weights = {band: Decimal(w) for band, w in codes()["esp2013_65plus"].items()}
    rows = dict(con.execute(
        "SELECT role, sum(contribution) FROM contrib WHERE figure_id IN "
        "('q.metric.falls.numerator', 'q.metric.falls.denominator') GROUP BY role").fetchall())
    total = Decimal(0)
    for band, weight in weights.items():
        population = rows.get(f"population:{band}")
        if not population:
            return None
        total += Decimal(rows.get(f"count:{band}", 0)) / Decimal(population) * weight
    return total / sum(weights.values()) * 100_000


def compute(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> QuarterlyReturn:
    start_contributions(con)
    params = quarter.params()
    for query in QUERIES:
        run_figure_query(con, query, params)
    summed = summed_figures(con)
    text = sql("q_plan_rows")
    plan_rows = con.execute(text, {k: v for k, v in params.items() if f"${k}" in text}).fetchall()
    conditions = {int(item): value for what, item, value in plan_rows if what == "condition" and item.isdigit()}
    metric_plans = {item: Decimal(v) if v is not None else None for what, item, v in plan_rows
                    if what == "metric_plan"}
    metric_actuals = {item: Decimal(v) if v is not None else None for what, item, v in plan_rows
                      if what == "metric_actual"}
    capacity_present = {item for what, item, _ in plan_rows if what == "capacity"}
    schemes = sorted((item, value) for what, item, value in plan_rows if what == "scheme")
    sources = sorted({fid.split(".")[2] for fid in summed if fid.startswith("q.ie.") and ".total." not in fid})

    def total(fid: str) -> Decimal:
        return summed[fid].value if fid in summed else Decimal(0)

    derived: dict[str, Value] = {"q.hwb_code": quarter.hwb, "q.hwb_name": hwb_name(quarter.hwb),
                                 "q.quarter": quarter.label}
    for n in CONDITIONS:
        derived[f"q.condition.{n}.confirmed"] = conditions.get(n)
    actuals: dict[str, Decimal | None] = {
        "discharge_usual_residence": ratio(total("q.metric.discharge_usual_residence.numerator"),
                                           total("q.metric.discharge_usual_residence.denominator"), 100),
        "avoidable_admissions": ratio(total("q.metric.avoidable_admissions.numerator"),
                                      total("q.metric.avoidable_admissions.denominator"), 100_000),
        "falls": falls_dsr(con),
        "residential_admissions": metric_actuals.get("residential_admissions"),
        "reablement_91d": ratio(total("q.metric.reablement_91d.numerator"),
                                total("q.metric.reablement_91d.denominator"), 100),
    }
    for m in METRICS:
        plan = metric_plans.get(m)
        derived[f"q.metric.{m}.plan"] = plan
        derived[f"q.metric.{m}.actual"] = actuals[m]
        derived[f"q.metric.{m}.assessment"] = assess(m, actuals[m], plan)
    for service in CD_SERVICES:
        for month in quarter.months:
            tag = f"{service}.{month:%Y_%m}"
            has = tag in capacity_present
            derived[f"q.cd.{tag}.capacity"] = total(f"q.cd.{tag}.capacity") if has else None
            derived[f"q.cd.{tag}.gap"] = (total(f"q.cd.{tag}.capacity") - total(f"q.cd.{tag}.demand")) if has else None
    complete = all(conditions.get(n) for n in CONDITIONS) and all(metric_plans.get(m) is not None for m in METRICS)
    derived["q.template_status"] = "Complete" if complete else "Incomplete"
    figures = build(catalogue(schemes, sources, quarter.months), summed, derived, con)
    return QuarterlyReturn(quarter, figures, schemes, sources)

"""The BCF quarterly return (returns.md part B): its figure registry, one declaration per figure.

A figure is made by one SQL model in warehouse/sql/figures/ or derived from other figures (declared inputs); the
registry's order is the catalogue order, `column` its column header in the built-in workbook. The engine
(warehouse/engine.py) runs the models and derivations in the order the inputs give.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from bcf.core.dates import Quarter
from bcf.core.settings import codes, hwb_name
from bcf.transforms.figures import (
    Context,
    Figure,
    FigureDef,
    FigureSpec,
    Input,
    Value,
    ValueFn,
    ratio,
    rounded,
    scheme_slug,
)
from bcf.warehouse import engine
from bcf.warehouse.db import sql


@dataclass(frozen=True)
class Metric:
    """One BCF metric of returns.md part B, declared once. `parts` (numerator, denominator, how the actual is made)
    when the pipeline computes the actual, None when it comes from plan.metric_actuals; `scale` multiplies the ratio
    (None: the falls DSR derives it)."""

    name: str
    label: str
    kind: str  # rate or pct
    lower_is_better: bool
    parts: tuple[str, str, str] | None = None
    scale: int | None = None


METRIC = {m.name: m for m in (  # in the order of the return
    Metric("avoidable_admissions", "Avoidable admissions (chronic ACSC, emergency) per 100,000", "rate", True,
           ("acute emergency admissions in Q with a chronic ACSC primary diagnosis",
            "total population (plan.population)", "numerator / denominator x 100,000"), 100_000),
    Metric("falls", "Emergency admissions due to falls, 65+, DSR per 100,000", "rate", True,
           ("acute emergency admissions in Q, age 65+, diagnosis S00-T98, external cause W00-W19",
            "population aged 65+", "directly age-standardised rate per 100,000 (ESP 2013 weights)")),
    Metric("discharge_usual_residence", "Discharge to usual place of residence (%)", "pct", False,
           ("acute discharges in Q to destination `usual_place_of_residence`",
            "acute discharges in Q, destination not `died`", "100 x numerator / denominator"), 100),
    Metric("residential_admissions", "Permanent admissions 65+ to residential and nursing care per 100,000", "rate",
           True),
    Metric("reablement_91d", "Older people (65+) still at home 91 days after discharge into reablement (%)", "pct",
           False, ("of the cohort, status_91d at_home", "reablement episodes from hospital, age 65+, hospital "
                   "discharge from Q start - 91 days to Q end - 91 days", "100 x numerator / denominator"), 100),
)}
METRICS = tuple(METRIC)
# read by the board briefing
METRIC_KIND = {name: m.kind for name, m in METRIC.items()}
METRIC_LABEL = {name: m.label for name, m in METRIC.items()}

CONDITIONS = {
    1: "Plans are jointly agreed",
    2: "Enabling people to stay well, safe and independent at home for longer",
    3: "Providing the right care in the right place at the right time",
    4: "Maintaining NHS's contribution to adult social care and investment in NHS out-of-hospital services",
}
CD_SERVICES = tuple(codes()["enums"]["capacity_service"])
ON_TRACK, NOT_ON_TRACK, NO_DATA = ("On track to meet target", "Not on track to meet target",
                                   "Data not available to assess progress")
def assess(metric: str, actual: Decimal | None, plan: Decimal | None) -> str:
    if actual is None or plan is None:
        return NO_DATA
    reported = rounded(METRIC[metric].kind, actual)
    good = reported <= plan if METRIC[metric].lower_is_better else reported >= plan
    return ON_TRACK if good else NOT_ON_TRACK


def falls_dsr(by_role: dict[str, Decimal]) -> Decimal | None:
    """Σ(count_b / pop_b × w_b) / Σ w_b × 100,000 over the 65+ bands of config/codes.toml; blank when a band's
    population is missing or 0. by_role: the falls numerator's and denominator's rows summed by role."""
    weights = {band: Decimal(w) for band, w in codes()["esp2013_65plus"].items()}
    total = Decimal(0)
    for band, weight in weights.items():
        population = by_role.get(f"population:{band}")
        if not population:
            return None
        total += Decimal(by_role.get(f"count:{band}", 0)) / population * weight
    return total / sum(weights.values()) * 100_000


def _plan_decimal(what: str, item: str) -> ValueFn:
    """A plan value read as a number (blank stays blank): metric plans, metric_actuals."""
    def value(ctx: Context, _v: list[Value]) -> Decimal | None:
        text = ctx.plan.get((what, item))
        return Decimal(text) if text is not None else None
    return value


def _falls_actual(ctx: Context, _v: list[Value]) -> Decimal | None:
    return falls_dsr({**ctx.by_role.get("q.metric.falls.numerator", {}),
                      **ctx.by_role.get("q.metric.falls.denominator", {})})


def _metric(m: str) -> list[FigureDef]:
    metric, base = METRIC[m], f"q.metric.{m}"
    kind, better = metric.kind, "lower" if metric.lower_is_better else "higher"
    plan = FigureDef(f"{base}.plan", "Plan", kind, f"plan.metric_plans {m} for the quarter", "q_metrics",
                     value=_plan_decimal("metric_plan", m), column="Plan")
    assessment = FigureDef(f"{base}.assessment", "Assessment", "text",
                           f"actual (rounded) against plan; {better} is better",
                           inputs=(Input(f"{base}.actual"), Input(f"{base}.plan")), lineage=False,
                           value=lambda _c, v: assess(m, v[0], v[1]),  # type: ignore[arg-type]
                           column="Assessment")
    if metric.parts is None:
        actual = FigureDef(f"{base}.actual", "Actual", kind, "plan.metric_actuals for the quarter", "q_metrics",
                           value=_plan_decimal("metric_actual", m), column="Actual")
        return [plan, actual, assessment]
    num, den, how = metric.parts
    derive = _falls_actual if metric.scale is None else (lambda _c, v: ratio(v[0], v[1], metric.scale))
    return [plan,
            FigureDef(f"{base}.numerator", "Numerator", "count", num, "q_metrics",
                      column="Numerator"),
            FigureDef(f"{base}.denominator", "Denominator", "count", den, "q_metrics",
                      column="Denominator"),
            FigureDef(f"{base}.actual", "Actual", kind, how,
                      inputs=(Input(f"{base}.numerator", role="numerator"),
                              Input(f"{base}.denominator", role="denominator")),
                      value=derive, column="Actual"),
            assessment]


def _complete(_ctx: Context, v: list[Value]) -> str:
    return "Complete" if all(x is not None and x != "" for x in v) else "Incomplete"


COVER = [
    FigureDef("q.hwb_code", "HWB code", "text", "ONS code of the Health and Wellbeing Board",
              value=lambda c, _: c.hwb, made_by="parameters"),
    FigureDef("q.hwb_name", "HWB name", "text", "HWB name from config/hwb.csv",
              value=lambda c, _: hwb_name(c.hwb), made_by="config/hwb.csv"),
    FigureDef("q.quarter", "Quarter", "text", "the reporting quarter", value=lambda c, _: c.period.label,
              made_by="parameters"),
    FigureDef("q.template_status", "Template status", "text",
              "Incomplete when a condition 1-4 or a metric plan for the quarter is missing, else Complete",
              inputs=(*[Input(f"q.condition.{n}.confirmed") for n in CONDITIONS],
                      *[Input(f"q.metric.{m}.plan") for m in METRICS]),
              lineage=False, value=_complete),
]
NATIONAL_CONDITIONS = [
    FigureDef(f"q.condition.{n}.confirmed", f"{n}. {text}", "text", f"plan.conditions condition {n} confirmed",
              "q_conditions", value=lambda c, _v, n=n: c.plan.get(("condition", str(n))))  # type: ignore[misc]
    for n, text in CONDITIONS.items()
]
CAPACITY_DEMAND = [  # over (service, month) of the quarter
    FigureDef("q.cd.{service}.{month}.demand", "Demand", "count", "{service} demand in {month_label}",
              "q_capacity_demand", over="cd", column="Demand"),
    FigureDef("q.cd.{service}.{month}.capacity", "Capacity", "count", "plan.capacity {service} {month_label}",
              "q_capacity_demand", over="cd", value=lambda c, _: c.summed, column="Capacity"),
    FigureDef("q.cd.{service}.{month}.gap", "Gap", "count", "capacity - demand; blank when capacity is absent",
              inputs=(Input("q.cd.{service}.{month}.capacity"), Input("q.cd.{service}.{month}.demand", sign=-1)),
              over="cd", value=lambda c, v: None if v[0] is None else c.summed, column="Gap"),
]
SCHEMES = [  # over every scheme of the fund year's plan
    FigureDef("q.scheme.{scheme}.planned_spend", "Planned spend", "money", "plan.schemes {scheme_id}, all sources",
              "q_schemes", over="scheme", column="Planned spend"),
    FigureDef("q.scheme.{scheme}.actual_spend_ytd", "Actual spend YTD", "money",
              "ledger amount to scheme {scheme_id}, 1 April to quarter end", "q_schemes", over="scheme",
              column="Actual spend YTD"),
    FigureDef("q.scheme.{scheme}.planned_output", "Planned output", "units", "plan.schemes {scheme_id} output",
              "q_schemes", over="scheme", column="Planned output"),
    FigureDef("q.scheme.{scheme}.actual_output_ytd", "Actual output YTD", "units",
              "ledger units to scheme {scheme_id}, 1 April to quarter end", "q_schemes", over="scheme",
              column="Actual output YTD"),
]
SCHEME_SOURCES = [  # over every (scheme, funding source) pair of the plan or of the ledger to date
    FigureDef("q.scheme.{scheme}.{source}.planned_spend", "Planned spend", "money",
              "plan.schemes {scheme_id}, funding source {source}", "q_scheme_sources", over="scheme_source",
              column="Planned spend"),
    FigureDef("q.scheme.{scheme}.{source}.actual_spend_ytd", "Actual spend YTD", "money",
              "ledger amount to scheme {scheme_id} from {source}, 1 April to quarter end", "q_scheme_sources",
              over="scheme_source", column="Actual spend YTD"),
    FigureDef("q.scheme.{scheme}.{source}.planned_output", "Planned output", "units",
              "plan.schemes {scheme_id} output, funding source {source}", "q_scheme_sources", over="scheme_source",
              column="Planned output"),
    FigureDef("q.scheme.{scheme}.{source}.actual_output_ytd", "Actual output YTD", "units",
              "ledger units to scheme {scheme_id} from {source}, 1 April to quarter end", "q_scheme_sources",
              over="scheme_source", column="Actual output YTD"),
]
IE = "Income and Expenditure"
INCOME_EXPENDITURE = [  # over every funding source with income or spend, then the total over them
    FigureDef("q.ie.{source}.income", "Income", "money", "plan.income for {source}", "q_income_expenditure",
              over="source", column="Income"),
    FigureDef("q.ie.{source}.expenditure_ytd", "Expenditure YTD", "money",
              "ledger amount for {source}, 1 April to quarter end", "q_income_expenditure", over="source",
              column="Expenditure YTD"),
    FigureDef("q.ie.{source}.balance", "Balance", "money", "income - expenditure_ytd",
              inputs=(Input("q.ie.{source}.income"), Input("q.ie.{source}.expenditure_ytd", sign=-1)),
              over="source", column="Balance"),
    FigureDef("q.ie.total.income", "Income", "money", "plan.income for all funding sources",
              inputs=(Input("q.ie.{source}.income", over="source"),), column="Income"),
    FigureDef("q.ie.total.expenditure_ytd", "Expenditure YTD", "money",
              "ledger amount for all funding sources, 1 April to quarter end",
              inputs=(Input("q.ie.{source}.expenditure_ytd", over="source"),), column="Expenditure YTD"),
    FigureDef("q.ie.total.balance", "Balance", "money", "income - expenditure_ytd",
              inputs=(Input("q.ie.{source}.income", over="source"),
                      Input("q.ie.{source}.expenditure_ytd", sign=-1, over="source")), column="Balance"),
]
REGISTRY = [*COVER, *NATIONAL_CONDITIONS, *[d for m in METRICS for d in _metric(m)], *CAPACITY_DEMAND, *SCHEMES,
            *SCHEME_SOURCES, *INCOME_EXPENDITURE]
# The instances a declaration `over` a dimension runs over, read from the run's scoped views (the quarter's months
# times the capacity services are added in Python). Each column is a placeholder of the figure ids.
DIMENSIONS = {
    "scheme": "SELECT sid(scheme_id) AS scheme, scheme_id, scheme_name FROM int_schemes ORDER BY scheme_id",
    "source": "SELECT funding_source AS source FROM int_funding_sources ORDER BY source",
    "scheme_source": """
        SELECT sid(scheme_id) AS scheme, scheme_id, funding_source AS source FROM (
            SELECT scheme_id, funding_source FROM int_plan_schemes WHERE left_out IS NULL
            UNION SELECT scheme_id, funding_source FROM int_scheme_ledger WHERE left_out IS NULL)
        ORDER BY scheme_id, source""",
}


@dataclass
class QuarterlyReturn:
    hwb: str
    quarter: Quarter
    figures: list[Figure]
    schemes: list[tuple[str, str]]
    sources: list[str]
    scheme_sources: list[tuple[str, str]] = field(default_factory=list)  # (scheme id, funding source)

    def value(self, fid: str) -> Value:
        return next(f for f in self.figures if f.id == fid).value


def dimensions(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> dict[str, list[dict[str, str]]]:
    """Every dimension's instances for the run bound on this connection."""
    dims = {name: engine.instances(con, query) for name, query in DIMENSIONS.items()}
    dims["cd"] = [{"service": s, "month": f"{m:%Y_%m}", "month_label": f"{m:%Y-%m}"}
                  for s in CD_SERVICES for m in quarter.months]
    return dims


def catalogue(schemes: list[tuple[str, str]], sources: list[str], months: list[dt.date],
              scheme_sources: list[tuple[str, str]] | None = None) -> list[FigureSpec]:
    """The concrete figures for given schemes, funding sources and months, in catalogue order (no warehouse)."""
    dims: dict[str, list[dict[str, str]]] = {
        "scheme": [{"scheme": scheme_slug(sid), "scheme_id": sid, "scheme_name": name or ""} for sid, name in schemes],
        "source": [{"source": s} for s in sources],
        "scheme_source": [{"scheme": scheme_slug(sid), "scheme_id": sid, "source": s}
                          for sid, s in scheme_sources or []],
        "cd": [{"service": s, "month": f"{m:%Y_%m}", "month_label": f"{m:%Y-%m}"} for s in CD_SERVICES for m in months],
    }
    return [p.spec for p in engine.catalogue(REGISTRY, dims)]


def compute(con: duckdb.DuckDBPyConnection, hwb: str, quarter: Quarter, lineage: bool = True) -> QuarterlyReturn:
    """lineage=False: the values only (engine.evaluate), for the board briefing."""
    engine.bind(con, quarter.params(hwb))
    dims = dimensions(con, quarter)
    plan = {(what, item): value for what, item, value in engine.rows(con, sql("int_plan_values"))}
    figures = engine.evaluate(con, REGISTRY, dims, hwb, quarter, plan, lineage=lineage)
    return QuarterlyReturn(hwb, quarter, figures, [(d["scheme_id"], d["scheme_name"]) for d in dims["scheme"]],
                           [d["source"] for d in dims["source"]],
                           [(d["scheme_id"], d["source"]) for d in dims["scheme_source"]])

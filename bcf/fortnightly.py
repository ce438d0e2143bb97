"""The Discharge Fund fortnightly return (returns.md part A): its period, its figures, in catalogue order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from bcf.settings import hwb_name, settings
from transforms.figures import (
    Figure,
    FigureSpec,
    Value,
    build,
    ratio,
    run_figure_query,
    scheme_slug,
    start_contributions,
    summed_figures,
)

# Query order matters: df_derived reads rows the first four made, df_checks reads df_derived's totals.
QUERIES = ("df_discharges", "df_packages", "df_schemes", "df_income", "df_derived", "df_checks")


@dataclass(frozen=True)
class Fortnight:
    hwb: str
    period_start: dt.date
    period_end: dt.date
    fund_year: str
    fy_start: dt.date

    @classmethod
    def ending(cls, hwb: str, period_end: dt.date) -> Fortnight:
        fy_start = dt.date(period_end.year if period_end.month >= 4 else period_end.year - 1, 4, 1)
        fund_year = f"{fy_start.year}-{(fy_start.year + 1) % 100:02d}"
        return cls(hwb, period_end - dt.timedelta(days=13), period_end, fund_year, fy_start)

    def params(self) -> dict[str, Any]:
        return {"hwb": self.hwb, "period_start": self.period_start, "period_end": self.period_end,
                "fund_year": self.fund_year, "fy_start": self.fy_start}

    @property
    def file_name(self) -> str:
        return f"df_fortnightly_{self.hwb}_{self.period_end.isoformat()}.xlsx"


def scheduled_period_end(run_date: dt.date) -> dt.date:
    """A scheduled run on a submission Friday reports the 14 days up to the day before (Friday to Thursday)."""
    anchor = dt.date.fromisoformat(settings()["schedule"]["fortnight_anchor"])
    steps = (run_date - anchor).days // 14
    return anchor + dt.timedelta(days=14 * steps) - dt.timedelta(days=1)


def _s(fid: str, label: str, kind: str, definition: str, query: str) -> FigureSpec:
    return FigureSpec(fid, label, kind, definition, query)


ACUTE = "acute spells of the HWB with a discharge date in P, destination not 79 (died)"
COVER = [
    _s("df.hwb_code", "HWB code", "text", "ONS code of the Health and Wellbeing Board", "parameters"),
    _s("df.hwb_name", "HWB name", "text", "HWB name from config/hwb.csv", "config/hwb.csv"),
    _s("df.period_start", "Period start", "date", "first day of the 14-day period P", "parameters"),
    _s("df.period_end", "Period end", "date", "last day of the 14-day period P (inclusive)", "parameters"),
    _s("df.fund_year", "Fund year", "text", "April-March fund year holding the period end", "parameters"),
]
DISCHARGES = [
    _s("df.discharges.total", "Discharges in the fortnight", "count", ACUTE, "df_discharges"),
    *[_s(f"df.discharges.pathway_{p}", f"Pathway {p}", "count", f"of those, discharge_pathway {p}", "df_discharges")
      for p in "0123"],
    _s("df.discharges.pathway_unknown", "Pathway unknown", "count", "of those, discharge_pathway blank",
       "df_discharges"),
    _s("df.discharges.usual_residence", "To usual place of residence", "count",
       "of those, discharge_destination 19", "df_discharges"),
    _s("df.discharges.with_ready_date", "With a ready-for-discharge date", "count",
       "of those, ready_for_discharge_date present", "df_discharges"),
    _s("df.discharges.same_day", "Discharged the day they were ready", "count",
       "of those with a ready date, discharge date = ready date", "df_discharges"),
    _s("df.discharges.within_48h", "Discharged within 48 hours of ready", "count",
       "of those with a ready date, 0 to 2 days from ready to discharge (includes same day)", "df_discharges"),
    _s("df.discharges.delay_days", "Bed days lost (ready to discharge)", "days",
       "sum of discharge date minus ready date, in days", "df_discharges"),
    _s("df.discharges.avg_delay_days", "Average delay per person (days)", "ratio",
       "delay_days / with_ready_date, 1 dp; blank when no one had a ready date", "df_derived"),
]
PACKAGES = [
    _s("df.packages.started", "Reablement packages started", "count", "episodes with start_date in P",
       "df_packages"),
    _s("df.packages.started_from_hospital", "of which from hospital discharge", "count",
       "of those, referral_source hospital_discharge", "df_packages"),
    _s("df.packages.in_use", "Packages in use", "count",
       "episodes active on any day of P (start <= period end, end blank or >= period start)", "df_packages"),
]
SCHEME_FIGURES = [
    ("planned_spend", "Planned spend", "money", "plan.schemes planned_spend over the scheme's DF funding rows"),
    ("spend_fortnight", "Spend this fortnight", "money", "DF ledger amount posted in P"),
    ("spend_to_date", "Spend to date", "money", "DF ledger amount from 1 April to the period end"),
    ("spend_to_date_la", "of which LA grant", "money", "la_discharge ledger amount to date"),
    ("spend_to_date_icb", "of which ICB", "money", "icb_discharge ledger amount to date"),
    ("planned_output", "Planned output", "units", "plan.schemes planned_output over the scheme's DF funding rows"),
    ("output_fortnight", "Output this fortnight", "units", "DF ledger units posted in P"),
    ("output_to_date", "Output to date", "units", "DF ledger units from 1 April to the period end"),
]
TOTALS = [
    _s("df.spend.planned", "Planned spend", "money", "sum of df.scheme.*.planned_spend", "df_derived"),
    _s("df.spend.fortnight", "Spend this fortnight", "money", "sum of df.scheme.*.spend_fortnight", "df_derived"),
    _s("df.spend.to_date", "Spend to date", "money", "sum of df.scheme.*.spend_to_date", "df_derived"),
    _s("df.spend.to_date_la", "of which LA grant", "money", "sum of df.scheme.*.spend_to_date_la", "df_derived"),
    _s("df.spend.to_date_icb", "of which ICB", "money", "sum of df.scheme.*.spend_to_date_icb", "df_derived"),
]
INCOME = [
    _s("df.income.la", "LA Discharge Fund grant", "money", "plan.income la_discharge for the fund year", "df_income"),
    _s("df.income.icb", "ICB Discharge Fund allocation", "money", "plan.income icb_discharge for the fund year",
       "df_income"),
    _s("df.income.total", "Total Discharge Fund income", "money", "df.income.la + df.income.icb", "df_derived"),
    _s("df.balance", "Balance (income less spend to date)", "money", "df.income.total - df.spend.to_date",
       "df_derived"),
    _s("df.check.plan_within_income", "Planned spend within income?", "yesno",
       "Yes when df.spend.planned <= df.income.total, else No", "df_checks"),
    _s("df.check.spend_within_income", "Spend to date within income?", "yesno",
       "Yes when df.spend.to_date <= df.income.total, else No", "df_checks"),
]


@dataclass
class SchemeRow:
    scheme_id: str
    slug: str
    name: str


@dataclass
class FortnightlyReturn:
    period: Fortnight
    figures: list[Figure]
    schemes: list[SchemeRow]

    def figure(self, fid: str) -> Figure:
        return next(f for f in self.figures if f.id == fid)

    def value(self, fid: str) -> Value:
        return self.figure(fid).value


def df_schemes(con: duckdb.DuckDBPyConnection, period: Fortnight) -> list[SchemeRow]:
    rows = con.execute(
        "SELECT scheme_id, min(scheme_name) FROM cur_plan_schemes WHERE coalesce(hwb_code, $hwb) = $hwb "
        "AND fund_year = $fund_year AND funding_source IN ('la_discharge', 'icb_discharge') "
        "GROUP BY scheme_id ORDER BY scheme_id",
        {"hwb": period.hwb, "fund_year": period.fund_year},
    ).fetchall()
    return [SchemeRow(sid, scheme_slug(sid), name) for sid, name in rows]


def catalogue(schemes: list[SchemeRow]) -> list[FigureSpec]:
    per_scheme = [
        _s(f"df.scheme.{s.slug}.{part}", label, kind, f"{definition} (scheme {s.scheme_id})", "df_schemes")
        for s in schemes for part, label, kind, definition in SCHEME_FIGURES
    ]
    return [*COVER, *DISCHARGES, *PACKAGES, *per_scheme, *TOTALS, *INCOME]


def compute(con: duckdb.DuckDBPyConnection, period: Fortnight) -> FortnightlyReturn:
    """Every df.* figure for one HWB and fortnight. Leaves `contrib` filled for the lineage export."""
    start_contributions(con)
    for query in QUERIES:
        run_figure_query(con, query, period.params())
    summed = summed_figures(con)
    schemes = df_schemes(con, period)

    def total(fid: str) -> Decimal:
        return summed[fid].value if fid in summed else Decimal(0)

    derived: dict[str, Value] = {
        "df.hwb_code": period.hwb,
        "df.hwb_name": hwb_name(period.hwb),
        "df.period_start": period.period_start,
        "df.period_end": period.period_end,
        "df.fund_year": period.fund_year,
        "df.discharges.avg_delay_days": ratio(total("df.discharges.delay_days"),
                                              total("df.discharges.with_ready_date")),
        "df.check.plan_within_income": "Yes" if total("df.spend.planned") <= total("df.income.total") else "No",
        "df.check.spend_within_income": "Yes" if total("df.spend.to_date") <= total("df.income.total") else "No",
    }
    return FortnightlyReturn(period, build(catalogue(schemes), summed, derived, con), schemes)

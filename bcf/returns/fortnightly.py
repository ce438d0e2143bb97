"""The Discharge Fund fortnightly return (returns.md part A): its figure registry, one declaration per figure.

A figure is made by one SQL model in warehouse/sql/figures/ or derived from other figures (declared inputs); the
registry's order is the catalogue order (the Lineage sheet); df_workbook.py places them. The engine
(warehouse/engine.py) runs the models and derivations in the order the inputs give.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from bcf.core.dates import Fortnight
from bcf.core.settings import hwb_name
from bcf.transforms.figures import Context, Figure, FigureDef, FigureSpec, Input, Value, ratio
from bcf.warehouse import engine


def _yes_if_within(_ctx: Context, v: list[Value]) -> str:
    """Yes when the first input is at most the second (money compared exactly)."""
    spend, income = (x if isinstance(x, Decimal) else Decimal(0) for x in v)
    return "Yes" if spend <= income else "No"


ACUTE = "acute spells of the HWB with a discharge date in P, destination not `died` (config/codes.toml)"
COVER = [
    FigureDef("df.hwb_code", "HWB code", "text", "ONS code of the Health and Wellbeing Board",
              value=lambda c, _: c.hwb, made_by="parameters"),
    FigureDef("df.hwb_name", "HWB name", "text", "HWB name from config/hwb.csv",
              value=lambda c, _: hwb_name(c.hwb), made_by="config/hwb.csv"),
    FigureDef("df.period_start", "Period start", "date", "first day of the 14-day period P",
              value=lambda c, _: c.period.period_start, made_by="parameters"),
    FigureDef("df.period_end", "Period end", "date", "last day of the 14-day period P (inclusive)",
              value=lambda c, _: c.period.period_end, made_by="parameters"),
    FigureDef("df.fund_year", "Fund year", "text", "April-March fund year holding the period end",
              value=lambda c, _: c.period.fund_year, made_by="parameters"),
]
DISCHARGES = [
    FigureDef("df.discharges.total", "Discharges in the fortnight", "count", ACUTE, "df_discharges"),
    *[FigureDef(f"df.discharges.pathway_{p}", f"Pathway {p}", "count", f"of those, discharge_pathway {p}",
                "df_discharges") for p in "0123"],
    FigureDef("df.discharges.pathway_unknown", "Pathway unknown", "count", "of those, discharge_pathway blank",
              "df_discharges"),
    FigureDef("df.discharges.usual_residence", "To usual place of residence", "count",
              "of those, discharge_destination `usual_place_of_residence` (config/codes.toml)", "df_discharges"),
    FigureDef("df.discharges.with_ready_date", "With a ready-for-discharge date", "count",
              "of those, ready_for_discharge_date present", "df_discharges"),
    FigureDef("df.discharges.same_day", "Discharged the day they were ready", "count",
              "of those with a ready date, discharge date = ready date", "df_discharges"),
    FigureDef("df.discharges.within_48h", "Discharged within 48 hours of ready", "count",
              "of those with a ready date, 0 to 2 days from ready to discharge (includes same day)", "df_discharges"),
    FigureDef("df.discharges.delay_days", "Bed days lost (ready to discharge)", "days",
              "sum of discharge date minus ready date, in days", "df_discharges"),
    FigureDef("df.discharges.avg_delay_days", "Average delay per person (days)", "ratio",
              "delay_days / with_ready_date, 1 dp; blank when no one had a ready date",
              inputs=(Input("df.discharges.delay_days", role="numerator"),
                      Input("df.discharges.with_ready_date", role="denominator")),
              value=lambda _c, v: ratio(v[0], v[1])),
]
PACKAGES = [
    FigureDef("df.packages.started", "Reablement packages started", "count", "episodes with start_date in P",
              "df_packages"),
    FigureDef("df.packages.started_from_hospital", "of which from hospital discharge", "count",
              "of those, referral_source hospital_discharge", "df_packages"),
    FigureDef("df.packages.in_use", "Packages in use", "count",
              "episodes active on any day of P (start <= period end, end blank or >= period start)", "df_packages"),
]
SCHEMES = [  # one row per scheme with a DF row in the plan; `column` is the column header of the built-in sheet
    FigureDef("df.scheme.{scheme}.planned_spend", "Planned spend", "money",
              "plan.schemes planned_spend over the scheme's DF funding rows (scheme {scheme_id})", "df_schemes",
              over="scheme", column="Planned spend (DF)"),
    FigureDef("df.scheme.{scheme}.spend_fortnight", "Spend this fortnight", "money",
              "DF ledger amount posted in P (scheme {scheme_id})", "df_schemes", over="scheme",
              column="Spend this fortnight"),
    FigureDef("df.scheme.{scheme}.spend_to_date", "Spend to date", "money",
              "DF ledger amount from 1 April to the period end (scheme {scheme_id})", "df_schemes", over="scheme",
              column="Spend to date"),
    FigureDef("df.scheme.{scheme}.spend_to_date_la", "of which LA grant", "money",
              "ledger amount to date from the DF source `la` (scheme {scheme_id})", "df_schemes", over="scheme",
              column="of which LA grant"),
    FigureDef("df.scheme.{scheme}.spend_to_date_icb", "of which ICB", "money",
              "ledger amount to date from the DF source `icb` (scheme {scheme_id})", "df_schemes", over="scheme",
              column="of which ICB"),
    FigureDef("df.scheme.{scheme}.planned_output", "Planned output", "units",
              "plan.schemes planned_output over the scheme's DF funding rows (scheme {scheme_id})", "df_schemes",
              over="scheme", column="Planned output"),
    FigureDef("df.scheme.{scheme}.output_fortnight", "Output this fortnight", "units",
              "DF ledger units posted in P (scheme {scheme_id})", "df_schemes", over="scheme",
              column="Output this fortnight"),
    FigureDef("df.scheme.{scheme}.output_to_date", "Output to date", "units",
              "DF ledger units from 1 April to the period end (scheme {scheme_id})", "df_schemes", over="scheme",
              column="Output to date"),
]


def _total(fid: str, label: str, part: str) -> FigureDef:
    return FigureDef(fid, label, "money", f"sum of df.scheme.*.{part}",
                     inputs=(Input(f"df.scheme.{{scheme}}.{part}", over="scheme"),), column=label)


TOTALS = [
    _total("df.spend.planned", "Planned spend", "planned_spend"),
    _total("df.spend.fortnight", "Spend this fortnight", "spend_fortnight"),
    _total("df.spend.to_date", "Spend to date", "spend_to_date"),
    _total("df.spend.to_date_la", "of which LA grant", "spend_to_date_la"),
    _total("df.spend.to_date_icb", "of which ICB", "spend_to_date_icb"),
]
INCOME = [
    FigureDef("df.income.la", "LA Discharge Fund grant", "money", "plan.income of the DF source `la` for the fund year",
              "df_income"),
    FigureDef("df.income.icb", "ICB Discharge Fund allocation", "money",
              "plan.income of the DF source `icb` for the fund year", "df_income"),
    FigureDef("df.income.total", "Total Discharge Fund income", "money", "df.income.la + df.income.icb",
              inputs=(Input("df.income.la"), Input("df.income.icb"))),
    FigureDef("df.balance", "Balance (income less spend to date)", "money", "df.income.total - df.spend.to_date",
              inputs=(Input("df.income.la"), Input("df.income.icb"),
                      Input("df.scheme.{scheme}.spend_to_date", sign=-1, over="scheme"))),
    FigureDef("df.check.plan_within_income", "Planned spend within income?", "yesno",
              "Yes when df.spend.planned <= df.income.total, else No",
              inputs=(Input("df.spend.planned", role="plan"), Input("df.income.total", role="income")),
              value=_yes_if_within),
    FigureDef("df.check.spend_within_income", "Spend to date within income?", "yesno",
              "Yes when df.spend.to_date <= df.income.total, else No",
              inputs=(Input("df.spend.to_date", role="amount"), Input("df.income.total", role="income")),
              value=_yes_if_within),
]
REGISTRY = [*COVER, *DISCHARGES, *PACKAGES, *SCHEMES, *TOTALS, *INCOME]


@dataclass
class SchemeRow:
    scheme_id: str
    slug: str
    name: str


@dataclass
class FortnightlyReturn:
    hwb: str
    period: Fortnight
    figures: list[Figure]
    schemes: list[SchemeRow]

    def figure(self, fid: str) -> Figure:
        return next(f for f in self.figures if f.id == fid)

    def value(self, fid: str) -> Value:
        return self.figure(fid).value


# The instances a declaration `over` a dimension runs over, read from the run's scoped views.
DIMENSIONS = {
    "scheme": "SELECT sid(scheme_id) AS scheme, scheme_id, scheme_name FROM int_df_schemes ORDER BY scheme_id",
}


def dimensions(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, str]]]:
    return {name: engine.instances(con, query) for name, query in DIMENSIONS.items()}


def catalogue(schemes: list[SchemeRow]) -> list[FigureSpec]:
    """The concrete figures for given schemes, in catalogue order (no warehouse)."""
    dims = {"scheme": [{"scheme": s.slug, "scheme_id": s.scheme_id, "scheme_name": s.name} for s in schemes]}
    return [p.spec for p in engine.catalogue(REGISTRY, dims)]


def compute(con: duckdb.DuckDBPyConnection, hwb: str, period: Fortnight, lineage: bool = True) -> FortnightlyReturn:
    """Every df.* figure for one HWB and fortnight. Leaves `contrib` filled for the lineage export; with
    lineage=False, the values only (engine.evaluate), for the board briefing."""
    engine.bind(con, period.params(hwb))
    dims = dimensions(con)
    schemes = [SchemeRow(d["scheme_id"], d["scheme"], d["scheme_name"]) for d in dims["scheme"]]
    return FortnightlyReturn(hwb, period, engine.evaluate(con, REGISTRY, dims, hwb, period, lineage=lineage),
                             schemes)

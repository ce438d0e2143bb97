"""Small hand-built extracts whose figures are counted by hand in the tests. Fortnight P = 2023-01-06..2023-01-19
(period end Thursday 19 January 2023), fund year 2022-23, HWB Rutland (E06000017)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from bcf.core.settings import contracts
from bcf.ingest.sources import land, list_source, staging_key
from bcf.ingest.stage_file import stage_file
from bcf.transforms.validate import RowValidator
from tests.conftest import write_csv, write_xlsx

HWB = "E06000017"
OTHER = "E06000016"


def load(con: duckdb.DuckDBPyConnection, folder: Path, landing: Path, validator: RowValidator,
         today: dt.date = dt.date(2023, 2, 1)) -> None:
    """Stage every file of a folder (no Prefect), in the pipeline's staging order; no row may be rejected."""
    objects = sorted(list_source(str(folder)), key=staging_key)
    for obj in objects:
        result = stage_file(con, obj, land(obj, landing), "run", b"k", validator, today)
        assert result.rows_rejected == 0, result.findings


def _spell(sid: str, setting: str, hwb: str, adm: str, ready: str, dis: str, dest: str, pathway: str,
           provider: str = "RWE", age: str = "80", method: str = "21", dx: str = "J18.9", cause: str = "") -> list[str]:
    return [sid, provider, setting, "", age, hwb, adm, method, ready, dis, dest, pathway, dx, cause]


# (spell, why it is or is not counted)
DISCHARGES = [
    _spell("S1", "acute", HWB, "2023-01-01", "2023-01-06", "2023-01-06", "19", "0"),  # first day of P, same day
    _spell("S2", "acute", HWB, "2023-01-10", "2023-01-17", "2023-01-19", "19", "1"),  # last day of P, 2 days
    _spell("S3", "acute", HWB, "2023-01-01", "2023-01-11", "2023-01-13", "85", "3"),  # 2 days, care home
    _spell("S4", "acute", HWB, "2023-01-02", "", "2023-01-12", "51", ""),  # no ready date, pathway unknown
    _spell("S5", "acute", HWB, "2023-01-01", "", "2023-01-05", "19", "0"),  # day before P: out
    _spell("S6", "acute", HWB, "2023-01-01", "", "2023-01-20", "19", "0"),  # day after P: out
    _spell("S7", "acute", HWB, "2023-01-01", "", "2023-01-11", "79", ""),  # died: out
    _spell("S8", "community", HWB, "2023-01-01", "", "2023-01-11", "19", "0"),  # not acute: out
    _spell("S9", "acute", OTHER, "2023-01-01", "", "2023-01-11", "19", "0"),  # another HWB: out
    _spell("S10", "acute", HWB, "2023-01-08", "", "", "", ""),  # still in hospital: out
]
# the second provider sends XLSX with dd/mm/yyyy text dates and numeric codes
DISCHARGES_XLSX = [
    ["S11", "RGN", "acute", None, 77, HWB, "05/01/2023", 21, "08/01/2023", "09/01/2023", 19, 2, "S720", "W19"],
]
EPISODES = [
    ["E1", "", "82", HWB, "hospital_discharge", "2023-01-06", "home_reablement", "2023-01-06", "", "3", "", ""],
    ["E2", "", "70", HWB, "community", "", "home_reablement", "2023-01-19", "2023-01-25", "1", "no_ongoing_needs",
     ""],
    ["E3", "", "90", HWB, "community", "", "rehabilitation", "2022-12-01", "2023-01-06", "5", "hospital", ""],
    ["E4", "", "90", HWB, "community", "", "rehabilitation", "2022-12-01", "2023-01-05", "5", "hospital", ""],
    ["E5", "", "66", HWB, "community", "", "home_reablement", "2023-01-20", "", "0", "", ""],
    ["E6", "", "66", OTHER, "community", "", "home_reablement", "2023-01-10", "", "0", "", ""],
    ["E7", "", "85", HWB, "hospital_discharge", "2023-01-12", "bed_based_reablement", "2023-01-12", "2023-01-18",
     "0", "no_ongoing_needs", ""],
]
POSTINGS = [
    ["T1", "", "2023-01-06", "DF01", "la_discharge", "100.10", "1", "bed nights", "CC1", "Care Home Ltd", "Beds"],
    ["T2", HWB, "2023-01-19", "DF01", "icb_discharge", "200.20", "2", "bed nights", "CC1", "Care Home Ltd", "Beds"],
    ["T3", "", "2022-04-01", "DF01", "la_discharge", "50.00", "0.5", "bed nights", "CC1", "Care Home Ltd", "Beds"],
    ["T4", "", "2022-03-31", "DF01", "la_discharge", "999.99", "", "", "CC1", "Care Home Ltd", "last year"],
    ["T5", "", "2023-01-20", "DF01", "la_discharge", "888.00", "", "", "CC1", "Care Home Ltd", "after P"],
    ["T6", "", "2023-01-10", "DF01", "la_discharge", "-20.05", "-0.5", "bed nights", "CC1", "Care Home Ltd",
     "Reversal of part of T1"],
    ["T7", "", "2023-01-10", "DF01", "nhs_minimum", "300.00", "", "", "CC1", "Care Home Ltd", "not DF money"],
    ["T8", "", "2023-01-11", "DF02", "icb_discharge", "45.55", "", "", "CC2", "Staff", "Overtime"],
    ["T9", "", "2023-01-11", "B01", "nhs_minimum", "500.00", "", "", "CC3", "Trust", "BCF"],
    ["T10", "", "2023-01-12", "Df 3/x", "la_discharge", "10.00", "1", "people", "CC4", "MiCare", "Retention"],
    ["T11", "", "2022-06-01", "DF02", "icb_discharge", "1000.00", "100", "hours", "CC2", "Staff", "Overtime"],
    ["T12", "", "2023-01-15", "B01", "la_discharge", "77.00", "", "", "CC3", "Trust", "DF money, no DF plan row"],
    ["T13", OTHER, "2023-01-12", "DF01", "la_discharge", "5000.00", "", "", "CC1", "Elsewhere", "another HWB"],
]
SCHEMES = [  # hwb_code, fund_year, scheme_id, name, type, source, planned_spend, unit, planned_output, provider, comm
    ["", "2022-23", "DF01", "Reablement beds", "Bed based intermediate Care Services", "la_discharge", 1000,
     "bed nights", 10, "Care home", "LA"],
    ["", "2022-23", "DF01", "Reablement beds", "Bed based intermediate Care Services", "icb_discharge", 2000.5,
     "bed nights", 20, "Care home", "ICB"],
    ["", "2022-23", "DF01", "Reablement beds", "Bed based intermediate Care Services", "nhs_minimum", 400,
     "bed nights", 4, "Care home", "ICB"],
    ["", "2022-23", "DF02", "Bank holiday overtime", "Workforce recruitment and retention", "icb_discharge", 500,
     "hours", 50, "Council", "LA"],
    ["", "2022-23", "Df 3/x", "MiCare retention", "Workforce recruitment and retention", "la_discharge", 100,
     "people", 4, "MiCare", "LA"],
    ["", "2022-23", "B01", "Community services", "Community Based Schemes", "nhs_minimum", 9999, "people", 9,
     "Trust", "ICB"],
    ["", "2023-24", "DF01", "Reablement beds", "Bed based intermediate Care Services", "la_discharge", 7777,
     "bed nights", 77, "Care home", "LA"],
    [OTHER, "2022-23", "DF09", "Leicester beds", "Bed based intermediate Care Services", "la_discharge", 5555,
     "bed nights", 55, "Care home", "LA"],
]
INCOME = [["", "2022-23", "la_discharge", 2500], [HWB, "2022-23", "icb_discharge", 1000],
          ["", "2022-23", "nhs_minimum", 10000], ["", "2023-24", "la_discharge", 9999],
          [OTHER, "2022-23", "icb_discharge", 4444]]


def plan_sheets() -> dict[str, tuple[list[str], list[list[object]]]]:
    return {
        "schemes": (contracts()["plan_schemes"].names, SCHEMES),  # type: ignore[dict-item]
        "income": (contracts()["plan_income"].names, INCOME),  # type: ignore[dict-item]
        "metric_plans": (["metric", "period", "plan_value"], [["falls", "2022-23 Q4", 500]]),
        "capacity": (["service", "month", "capacity"], [["pathway_1", "2023-01", 10]]),
        "population": (["fund_year", "age_band", "population"], [["2022-23", "65-69", 1000]]),
        "conditions": (["period", "condition", "confirmed"], [["2022-23 Q4", 1, "Yes"]]),
    }


def write_df_fixture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "discharges_rwe.csv", contracts()["discharges"].names, DISCHARGES)  # type: ignore[arg-type]
    write_xlsx(folder / "discharges_rgn.xlsx", {"Discharges": (contracts()["discharges"].names, DISCHARGES_XLSX)})
    write_csv(folder / "reablement_x.csv", contracts()["reablement"].names, EPISODES)  # type: ignore[arg-type]
    write_csv(folder / "spend_x.csv", contracts()["spend"].names, POSTINGS)  # type: ignore[arg-type]
    write_xlsx(folder / "plan_x.xlsx", plan_sheets())
    return folder


# Worked out by hand from the rows above (see the comments on each row).
EXPECTED_DF = {
    "df.hwb_code": HWB, "df.hwb_name": "Rutland", "df.fund_year": "2022-23",
    "df.discharges.total": "5",  # S1 S2 S3 S4 S11
    "df.discharges.pathway_0": "1", "df.discharges.pathway_1": "1", "df.discharges.pathway_2": "1",
    "df.discharges.pathway_3": "1", "df.discharges.pathway_unknown": "1",
    "df.discharges.usual_residence": "3",  # S1 S2 S11
    "df.discharges.with_ready_date": "4",  # S1 S2 S3 S11
    "df.discharges.same_day": "1",  # S1
    "df.discharges.within_48h": "4",  # 0, 2, 2, 1 days
    "df.discharges.delay_days": "5",
    "df.discharges.avg_delay_days": "1.3",  # 5 / 4 = 1.25, half away from zero
    "df.packages.started": "3",  # E1 E2 E7
    "df.packages.started_from_hospital": "2",  # E1 E7
    "df.packages.in_use": "4",  # E1 E2 E3 E7
    "df.scheme.df01.planned_spend": "3000.50", "df.scheme.df01.planned_output": "30.00",
    "df.scheme.df01.spend_fortnight": "280.25",  # T1 + T2 + T6
    "df.scheme.df01.spend_to_date": "330.25",  # + T3
    "df.scheme.df01.spend_to_date_la": "130.05", "df.scheme.df01.spend_to_date_icb": "200.20",
    "df.scheme.df01.output_fortnight": "2.50", "df.scheme.df01.output_to_date": "3.00",
    "df.scheme.df02.planned_spend": "500.00", "df.scheme.df02.planned_output": "50.00",
    "df.scheme.df02.spend_fortnight": "45.55", "df.scheme.df02.spend_to_date": "1045.55",
    "df.scheme.df02.spend_to_date_la": "0", "df.scheme.df02.spend_to_date_icb": "1045.55",
    "df.scheme.df02.output_fortnight": "0", "df.scheme.df02.output_to_date": "100.00",
    "df.scheme.df_3_x.planned_spend": "100.00", "df.scheme.df_3_x.planned_output": "4.00",
    "df.scheme.df_3_x.spend_fortnight": "10.00", "df.scheme.df_3_x.spend_to_date": "10.00",
    "df.scheme.df_3_x.spend_to_date_la": "10.00", "df.scheme.df_3_x.spend_to_date_icb": "0",
    "df.scheme.df_3_x.output_fortnight": "1.00", "df.scheme.df_3_x.output_to_date": "1.00",
    "df.spend.planned": "3600.50", "df.spend.fortnight": "335.80", "df.spend.to_date": "1385.80",
    "df.spend.to_date_la": "140.05", "df.spend.to_date_icb": "1245.75",
    "df.income.la": "2500.00", "df.income.icb": "1000.00", "df.income.total": "3500.00",
    "df.balance": "2114.20",
    "df.check.plan_within_income": "No", "df.check.spend_within_income": "Yes",
}


# ---- Quarterly: Q = 2022-23 Q4 (2023-01-01 .. 2023-03-31), year to date from 2022-04-01 ----
def _adm(sid: str, adm: str, method: str, age: str, dx: str, cause: str = "", dis: str = "", dest: str = "",
         pathway: str = "", setting: str = "acute", hwb: str = HWB) -> list[str]:
    return [sid, "RWE", setting, "", age, hwb, adm, method, "", dis, dest, pathway, dx, cause]


Q_DISCHARGES = [
    _adm("Q1", "2023-01-01", "21", "70", "J44.1", dis="2023-01-05", dest="19", pathway="1"),  # ACSC, DUR num
    _adm("Q2", "2023-03-31", "2A", "70", "I50.0"),  # ACSC on the last day, still in hospital
    _adm("Q3", "2022-12-31", "21", "70", "J44.1", dis="2023-01-02", dest="54", pathway="3"),  # admitted before Q
    _adm("Q4", "2023-02-10", "11", "70", "J44.1", dis="2023-02-11", dest="79"),  # elective; died
    _adm("Q5", "2023-02-01", "21", "66", "S72.0", "W19", dis="2023-02-20", dest="85", pathway="2"),  # fall 65-69
    _adm("Q6", "2023-02-02", "22", "91", "T14.9", "W01", dis="2023-03-31", dest="19", pathway="0"),  # fall 90+
    _adm("Q7", "2023-02-03", "21", "64", "S72.0", "W19"),  # under 65
    _adm("Q8", "2023-02-04", "21", "80", "S72.0", "X59"),  # not a fall cause
    _adm("Q9", "2023-02-05", "21", "80", "T99", "W19"),  # T99 is outside T00-T98
    _adm("Q10", "2023-02-06", "21", "80", "J44.1", setting="community"),
    _adm("Q11", "2023-02-06", "21", "80", "J44.1", hwb=OTHER),
    _adm("Q12", "2023-03-01", "21", "50", "E11.9", dis="2023-04-01", dest="19", pathway="0"),  # ACSC; out after Q
    _adm("Q13", "2023-03-05", "21", "40", "I10", dis="2023-03-10", dest="19"),  # ACSC; DUR num; no pathway
    _adm("Q14", "2023-03-05", "21", "45", "I119"),  # I11.9 written without the dot: ACSC
    _adm("Q15", "2023-03-06", "21", "45", "I11.1"),  # I11.1 is not on the list
]


def _ep(eid: str, age: str, source: str, hdd: str, service: str, start: str, status: str = "") -> list[str]:
    return [eid, "", age, HWB, source, hdd, service, start, "", "1", "", status]


Q_EPISODES = [  # 91-day cohort: hospital discharge 2022-10-02 .. 2022-12-30, age 65+
    _ep("R1", "70", "hospital_discharge", "2022-10-02", "home_reablement", "2022-10-03", "at_home"),
    _ep("R2", "80", "hospital_discharge", "2022-12-30", "home_reablement", "2022-12-31", "hospital"),
    _ep("R3", "80", "hospital_discharge", "2022-10-01", "home_reablement", "2022-10-02", "at_home"),  # before
    _ep("R4", "80", "hospital_discharge", "2022-12-31", "home_reablement", "2023-01-01"),  # after
    _ep("R5", "64", "hospital_discharge", "2022-11-15", "home_reablement", "2022-11-16", "at_home"),  # under 65
    _ep("R6", "85", "hospital_discharge", "2022-11-15", "home_reablement", "2022-11-16"),  # in cohort, no status
    _ep("R7", "80", "community", "", "home_reablement", "2023-01-10"),
    _ep("R8", "80", "community", "", "bed_based_reablement", "2023-02-10"),
    _ep("R9", "80", "community", "", "rehabilitation", "2023-03-15"),
    _ep("R10", "80", "hospital_discharge", "2023-02-01", "home_reablement", "2023-02-02"),
]
Q_POPULATION = [["2022-23", b, n] for b, n in (("0-17", 2000), ("18-64", 5000), ("65-69", 1000), ("70-74", 800),
                                               ("75-79", 600), ("80-84", 400), ("85-89", 200), ("90+", 100))]
Q_METRIC_PLANS = [["avoidable_admissions", "2022-23 Q4", 50], ["falls", "2022-23 Q4", 79.5],
                  ["discharge_usual_residence", "2022-23 Q4", 60.1], ["residential_admissions", "2022-23 Q4", 100],
                  ["reablement_91d", "2022-23 Q4", None], ["falls", "2022-23 Q3", 1]]
Q_CONDITIONS = [["2022-23 Q4", 1, "Yes"], ["2022-23 Q4", 2, "No"], ["2022-23 Q4", 3, "Yes"],
                ["2022-23 Q3", 4, "Yes"]]  # condition 4 is missing for Q4
Q_CAPACITY = [["pathway_1", "2023-01", 5], ["pathway_3", "2023-01", None], ["community_reablement", "2023-03", 0]]
Q_ACTUALS = [["residential_admissions", "2022-23 Q4", 99.9, "CLD return"]]


def write_q_fixture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "discharges_q.csv", contracts()["discharges"].names, Q_DISCHARGES)  # type: ignore[arg-type]
    write_csv(folder / "reablement_q.csv", contracts()["reablement"].names, Q_EPISODES)  # type: ignore[arg-type]
    write_csv(folder / "spend_q.csv", contracts()["spend"].names, POSTINGS)  # type: ignore[arg-type]
    sheets = plan_sheets()
    sheets.update({
        "population": (["fund_year", "age_band", "population"], Q_POPULATION),  # type: ignore[dict-item]
        "metric_plans": (["metric", "period", "plan_value"], Q_METRIC_PLANS),  # type: ignore[dict-item]
        "conditions": (["period", "condition", "confirmed"], Q_CONDITIONS),  # type: ignore[dict-item]
        "capacity": (["service", "month", "capacity"], Q_CAPACITY),  # type: ignore[dict-item]
        "metric_actuals": (["metric", "period", "value", "source_note"], Q_ACTUALS),  # type: ignore[dict-item]
    })
    write_xlsx(folder / "plan_q.xlsx", sheets)
    return folder


EXPECTED_Q = {
    "q.hwb_code": HWB, "q.hwb_name": "Rutland", "q.quarter": "2022-23 Q4", "q.template_status": "Incomplete",
    "q.condition.1.confirmed": "Yes", "q.condition.2.confirmed": "No", "q.condition.3.confirmed": "Yes",
    "q.condition.4.confirmed": "None",
    "q.metric.avoidable_admissions.plan": "50.0", "q.metric.avoidable_admissions.numerator": "5",  # Q1 Q2 Q12-14
    "q.metric.avoidable_admissions.denominator": "10100",
    "q.metric.avoidable_admissions.actual": "49.5",  # 5 / 10,100 x 100,000 = 49.50
    "q.metric.avoidable_admissions.assessment": "On track to meet target",  # lower is better
    "q.metric.falls.plan": "79.5", "q.metric.falls.numerator": "2", "q.metric.falls.denominator": "3100",
    "q.metric.falls.actual": "79.5",  # (1/1000 x 5500 + 1/100 x 1000) / 19,500 x 100,000 = 79.49
    "q.metric.falls.assessment": "On track to meet target",  # a tie is on track
    "q.metric.discharge_usual_residence.plan": "60.1", "q.metric.discharge_usual_residence.numerator": "3",
    "q.metric.discharge_usual_residence.denominator": "5",  # Q1 Q3 Q5 Q6 Q13
    "q.metric.discharge_usual_residence.actual": "60.0",
    "q.metric.discharge_usual_residence.assessment": "Not on track to meet target",  # higher is better
    "q.metric.residential_admissions.plan": "100.0", "q.metric.residential_admissions.actual": "99.9",
    "q.metric.residential_admissions.assessment": "On track to meet target",
    "q.metric.reablement_91d.plan": "None", "q.metric.reablement_91d.numerator": "1",
    "q.metric.reablement_91d.denominator": "3",  # R1 R2 R6
    "q.metric.reablement_91d.actual": "33.3",
    "q.metric.reablement_91d.assessment": "Data not available to assess progress",
    "q.scheme.b01.planned_spend": "9999.00", "q.scheme.b01.actual_spend_ytd": "577.00",
    "q.scheme.b01.planned_output": "9.00", "q.scheme.b01.actual_output_ytd": "0",
    "q.scheme.df01.planned_spend": "3400.50", "q.scheme.df01.actual_spend_ytd": "1518.25",
    "q.scheme.df01.planned_output": "34.00", "q.scheme.df01.actual_output_ytd": "3.00",
    "q.scheme.df02.planned_spend": "500.00", "q.scheme.df02.actual_spend_ytd": "1045.55",
    "q.scheme.df02.planned_output": "50.00", "q.scheme.df02.actual_output_ytd": "100.00",
    "q.scheme.df_3_x.planned_spend": "100.00", "q.scheme.df_3_x.actual_spend_ytd": "10.00",
    "q.scheme.df_3_x.planned_output": "4.00", "q.scheme.df_3_x.actual_output_ytd": "1.00",
    "q.ie.icb_discharge.income": "1000.00", "q.ie.icb_discharge.expenditure_ytd": "1245.75",
    "q.ie.icb_discharge.balance": "-245.75",
    "q.ie.la_discharge.income": "2500.00", "q.ie.la_discharge.expenditure_ytd": "1105.05",
    "q.ie.la_discharge.balance": "1394.95",
    "q.ie.nhs_minimum.income": "10000.00", "q.ie.nhs_minimum.expenditure_ytd": "800.00",
    "q.ie.nhs_minimum.balance": "9200.00",
    "q.ie.total.income": "13500.00", "q.ie.total.expenditure_ytd": "3150.80", "q.ie.total.balance": "10349.20",
}
# The per-(scheme, funding source) lines of part B, counted by hand from SCHEMES (2022-23 plan) and POSTINGS
# (1 April 2022 to 31 March 2023, the HWB's or blank hwb_code, schemes of the plan). B01's la_discharge line comes
# from the ledger alone (T12): no plan row, so its planned figures are 0.
EXPECTED_Q_SCHEME_SOURCES = {
    "q.scheme.b01.la_discharge.planned_spend": "0", "q.scheme.b01.la_discharge.actual_spend_ytd": "77.00",  # T12
    "q.scheme.b01.la_discharge.planned_output": "0", "q.scheme.b01.la_discharge.actual_output_ytd": "0",
    "q.scheme.b01.nhs_minimum.planned_spend": "9999.00", "q.scheme.b01.nhs_minimum.actual_spend_ytd": "500.00",  # T9
    "q.scheme.b01.nhs_minimum.planned_output": "9.00", "q.scheme.b01.nhs_minimum.actual_output_ytd": "0",
    "q.scheme.df01.icb_discharge.planned_spend": "2000.50",
    "q.scheme.df01.icb_discharge.actual_spend_ytd": "200.20",  # T2
    "q.scheme.df01.icb_discharge.planned_output": "20.00", "q.scheme.df01.icb_discharge.actual_output_ytd": "2.00",
    "q.scheme.df01.la_discharge.planned_spend": "1000.00",
    "q.scheme.df01.la_discharge.actual_spend_ytd": "1018.05",  # T1 + T3 + T5 + T6 (T4 is last year)
    "q.scheme.df01.la_discharge.planned_output": "10.00",
    "q.scheme.df01.la_discharge.actual_output_ytd": "1.00",  # 1 + 0.5 - 0.5
    "q.scheme.df01.nhs_minimum.planned_spend": "400.00", "q.scheme.df01.nhs_minimum.actual_spend_ytd": "300.00",  # T7
    "q.scheme.df01.nhs_minimum.planned_output": "4.00", "q.scheme.df01.nhs_minimum.actual_output_ytd": "0",
    "q.scheme.df02.icb_discharge.planned_spend": "500.00",
    "q.scheme.df02.icb_discharge.actual_spend_ytd": "1045.55",  # T8 + T11
    "q.scheme.df02.icb_discharge.planned_output": "50.00", "q.scheme.df02.icb_discharge.actual_output_ytd": "100.00",
    "q.scheme.df_3_x.la_discharge.planned_spend": "100.00",
    "q.scheme.df_3_x.la_discharge.actual_spend_ytd": "10.00",  # T10
    "q.scheme.df_3_x.la_discharge.planned_output": "4.00", "q.scheme.df_3_x.la_discharge.actual_output_ytd": "1.00",
}
# Capacity & Demand that is not 0 / blank: demand from Q1, Q3, Q5, R7, R8, R9; capacity from the plan
EXPECTED_CD = {
    "q.cd.pathway_1.2023_01": ("1", "5", "4"),
    "q.cd.pathway_3.2023_01": ("1", "None", "None"),  # capacity blank in the plan: blank, so the gap is blank
    "q.cd.pathway_2.2023_02": ("1", "None", "None"),
    "q.cd.community_reablement.2023_01": ("1", "None", "None"),
    "q.cd.community_bed.2023_02": ("1", "None", "None"),
    "q.cd.community_reablement.2023_03": ("1", "0", "-1"),
}

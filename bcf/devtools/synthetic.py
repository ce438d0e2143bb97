"""Synthetic extracts and a plan for any HWB: deterministic for a seed, sized by spells per year.

What it makes (all in one folder, named as the pipeline recognises them):
- discharges from four providers, each in its own layout: RWE (CSV, canonical headers, ISO dates), RGN (XLSX, real
  date cells shown dd/mm/yyyy, ready dates as dd/mm/yyyy text, codes as numbers, ICD-10 without the dot), RNQ (CSV
  with its own headers mapped in config/suppliers, dd/mm/yyyy dates) and RT5 (community and mental health spells);
  residents of neighbouring HWBs mixed in; winter seasonality; pathway mix; ready-for-discharge delays; deaths;
- reablement episodes from hospital and the community, ongoing ones, 91-day status only once it is due;
- a ledger across every funding source with credits and reversals, money generated as whole pence (never float);
- a plan workbook with every sheet of the input contract, for every fund year the range touches.
For Rutland (E06000017) in 2022-23 the Discharge Fund figures are Rutland's real ones: ICB £155,271 and council
£113,100 of income against a plan that spends £286,371.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bcf.core.dates import fund_year_of, quarter_bounds
from bcf.core.settings import codes, contracts, hwb_reference

RUTLAND = "E06000017"
BASE_SCALE = 10_000  # plan money and volumes are set for this many spells a year, then scaled
DAY = np.timedelta64(1, "D")

AGE_BANDS = [(0, 17, 0.08), (18, 64, 0.40), (65, 69, 0.09), (70, 74, 0.10), (75, 79, 0.11), (80, 84, 0.10),
             (85, 89, 0.08), (90, 104, 0.04)]
POP_SHARE = {"0-17": 0.19, "18-64": 0.57, "65-69": 0.065, "70-74": 0.06, "75-79": 0.05, "80-84": 0.033,
             "85-89": 0.02, "90+": 0.012}
ADMISSION_METHODS = {"11": 0.15, "12": 0.10, "13": 0.05, "21": 0.38, "22": 0.05, "23": 0.03, "24": 0.04, "25": 0.01,
                     "2A": 0.04, "2B": 0.02, "2C": 0.01, "2D": 0.02, "28": 0.03, "31": 0.03, "32": 0.01, "81": 0.01,
                     "82": 0.01, "83": 0.01}
ACSC_CODES = ["J44.1", "J44.0", "I50.0", "I50.9", "E11.9", "J45.9", "I48.9", "G40.9", "I10", "I20.9", "F03",
              "E10.9", "I11.0", "D50.9", "J47"]
FALL_INJURIES = ["S72.0", "S72.1", "S32.5", "S00.9", "S52.5", "S42.2", "T14.9"]
FALL_CAUSES = ["W01", "W06", "W10", "W18", "W19"]
OTHER_CAUSES = ["V43.5", "X59", "W54", "Y04"]
OTHER_DIAGNOSES = ["R07.4", "K35.8", "N39.0", "J18.9", "K80.2", "C50.9", "M17.1", "R10.4", "K57.3", "L03.1",
                   "I63.9", "N18.5", "R55", "A41.9"]
# (provider code, share of spells, layout)
PROVIDERS = [("RWE", 0.50, "canonical"), ("RGN", 0.15, "xlsx"), ("RNQ", 0.25, "mapped"), ("RT5", 0.10, "community")]


@dataclass(frozen=True)
class Scheme:
    scheme_id: str
    name: str
    scheme_type: str
    funding: tuple[tuple[str, int], ...]  # (funding source, planned spend in £ at BASE_SCALE)
    output_unit: str
    unit_cost_pence: int
    provider: str
    commissioner: str


SCHEMES = [
    Scheme("BCF01", "Integrated community health services", "Community Based Schemes",
           (("nhs_minimum", 1_450_000),), "people", 95_000, "NHS community trust", "ICB"),
    Scheme("BCF02", "Home care to support discharge", "Home Care or Domiciliary Care",
           (("ibcf", 620_000), ("nhs_minimum", 180_000)), "hours", 2_450, "Independent home care", "LA"),
    Scheme("BCF03", "Disabled Facilities Grant adaptations", "DFG Related Schemes",
           (("dfg", 260_000),), "adaptations", 650_000, "Council housing team", "LA"),
    Scheme("BCF04", "Carers support and breaks", "Carers Services",
           (("nhs_minimum", 140_000),), "people", 35_000, "Carers charity", "LA"),
    Scheme("BCF05", "Assistive technology and equipment", "Assistive Technologies and Equipment",
           (("additional_la", 90_000),), "packages", 18_000, "Community equipment service", "LA"),
    Scheme("BCF06", "Step-down intermediate care beds", "Bed based intermediate Care Services",
           (("additional_icb", 210_000),), "bed nights", 17_500, "Independent care home", "ICB"),
    Scheme("DF01", "Reablement beds in a care home", "Bed based intermediate Care Services",
           (("icb_discharge", 120_000), ("la_discharge", 25_000)), "bed nights", 16_000, "Independent care home", "LA"),
    Scheme("DF02", "Bank holiday overtime for discharge staff", "Workforce recruitment and retention",
           (("la_discharge", 40_000),), "hours", 3_200, "Council discharge team", "LA"),
    Scheme("DF03", "MiCare fuel allowance retention payments", "Workforce recruitment and retention",
           (("la_discharge", 66_371), ("icb_discharge", 35_000)), "payments", 12_500, "MiCare (in-house)", "LA"),
]
# Rutland's real 2022-23 Discharge Fund income (domain brief); other HWBs and years get it scaled.
DF_INCOME = {"icb_discharge": 155_271, "la_discharge": 113_100}
OTHER_INCOME_MARGIN = 1.02  # BCF sources are funded a little above plan


def fund_years(start: dt.date, end: dt.date) -> list[str]:
    years = []
    day = start
    while day <= end:
        fy = fund_year_of(day)
        if fy not in years:
            years.append(fy)
        day = dt.date(int(fy[:4]) + 1, 4, 1)
    return years


def quarters_of(fy: str) -> list[tuple[str, dt.date, dt.date]]:
    bounds = [quarter_bounds(int(fy[:4]), n) for n in (1, 2, 3, 4)]
    return [(f"{fy} Q{i + 1}", a, b) for i, (a, b) in enumerate(bounds)]


def valid_nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct-ish valid NHS numbers (Modulus 11), as 10-character strings."""
    out: list[np.ndarray] = []
    weights = np.arange(10, 1, -1)
    got = 0
    while got < n:
        m = int((n - got) * 1.15) + 16
        digits = rng.integers(0, 10, size=(m, 9))
        digits[:, 0] = rng.integers(4, 10, size=m)  # issued numbers start 4-9 in England and Wales
        check = 11 - (digits @ weights) % 11
        check[check == 11] = 0
        ok = check != 10
        numbers = digits[ok] @ (10 ** np.arange(9, 0, -1, dtype=np.int64)) + check[ok]
        out.append(numbers)
        got += int(ok.sum())
    return np.char.zfill(np.concatenate(out)[:n].astype(str), 10)


def _choice(rng: np.random.Generator, options: dict[str, float] | list[str], n: int) -> np.ndarray:
    if isinstance(options, dict):
        keys = list(options)
        p = np.array(list(options.values()), dtype=float)
        return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]
    return np.array(options, dtype=object)[rng.integers(0, len(options), size=n)]


def _neighbours(hwb: str) -> list[str]:
    ref = hwb_reference()
    icb = ref.get(hwb, {}).get("icb_code")
    same = [c for c, r in ref.items() if c != hwb and r["icb_code"] == icb]
    other = [c for c in ref if c != hwb and c not in same]
    return same + other


def _seasonal_days(rng: np.random.Generator, start: np.datetime64, days: int, n: int) -> np.ndarray:
    offsets = np.arange(days)
    dates = start + offsets * DAY
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    weight = (1 + 0.15 * np.cos(2 * np.pi * (doy - 15) / 365.25)) * np.where(weekday >= 5, 0.8, 1.0)
    return start + rng.choice(offsets, size=n, p=weight / weight.sum()) * DAY


def make_discharges(rng: np.random.Generator, hwb: str, start: dt.date, end: dt.date, scale: int) -> pd.DataFrame:
    lead = 20  # admissions from a little before the range, so early days have discharges too
    days = (end - start).days + 1 + lead
    n = max(int(round(scale * days / 365)), 20)
    first = np.datetime64(start) - lead * DAY
    admission = _seasonal_days(rng, first, days, n)

    band = rng.choice(len(AGE_BANDS), size=n, p=np.array([b[2] for b in AGE_BANDS]))
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    age = rng.integers(lo, hi + 1)

    method = _choice(rng, ADMISSION_METHODS, n)
    emergency = np.isin(method, codes()["admission_method"]["emergency"])
    elective = np.isin(method, codes()["admission_method"]["elective"])

    diagnosis = _choice(rng, OTHER_DIAGNOSES, n)
    cause = np.full(n, "", dtype=object)
    acsc = emergency & (rng.random(n) < 0.14)
    diagnosis[acsc] = _choice(rng, ACSC_CODES, int(acsc.sum()))
    fall = emergency & (age >= 65) & ~acsc & (rng.random(n) < 0.12)
    diagnosis[fall] = _choice(rng, FALL_INJURIES, int(fall.sum()))
    cause[fall] = _choice(rng, FALL_CAUSES, int(fall.sum()))
    injury = emergency & ~fall & ~acsc & (rng.random(n) < 0.04)
    diagnosis[injury] = _choice(rng, FALL_INJURIES, int(injury.sum()))
    cause[injury] = _choice(rng, OTHER_CAUSES, int(injury.sum()))

    los = np.where(elective & (rng.random(n) < 0.45), 0, np.round(rng.lognormal(1.1 + 0.01 * age, 0.8, n)))
    los = np.minimum(los, 120).astype(int)
    discharge = admission + los * DAY
    delay = np.where(rng.random(n) < 0.55, 0, np.where(rng.random(n) < 0.55, rng.integers(1, 3, n),
                                                       rng.geometric(0.12, n) + 2))
    delay = np.minimum(delay, los)
    ready = discharge - delay * DAY
    has_ready = rng.random(n) < 0.9

    died = rng.random(n) < (0.01 + 0.0006 * np.maximum(age - 50, 0))
    dest = _choice(rng, {"19": 0.83, "29": 0.03, "54": 0.01, "65": 0.02, "85": 0.05, "51": 0.03, "98": 0.01,
                         "99": 0.02}, n)
    dest[died] = "79"
    pathway = np.full(n, "", dtype=object)
    r = rng.random(n)
    home = dest == "19"
    pathway[home] = np.where(r[home] < 0.70, "0", np.where(r[home] < 0.95, "1", ""))
    temp = np.isin(dest, ["29", "51"])
    pathway[temp] = np.where(r[temp] < 0.5, "1", "2")
    care = np.isin(dest, ["54", "65", "85"])
    pathway[care] = np.where(r[care] < 0.6, "3", "2")

    residents = rng.random(n) < 0.7
    neighbours = _neighbours(hwb)
    hwb_codes = np.where(residents, hwb, _choice(rng, neighbours[:3] + neighbours, n))

    provider_index = rng.choice(len(PROVIDERS), size=n, p=[p[1] for p in PROVIDERS])
    provider = np.array([p[0] for p in PROVIDERS], dtype=object)[provider_index]
    setting = np.full(n, "acute", dtype=object)
    community = provider == "RT5"
    setting[community] = np.where(rng.random(int(community.sum())) < 0.7, "community", "mental_health")

    persons = valid_nhs_numbers(rng, max(int(n * 0.6), 1))
    nhs = persons[rng.integers(0, len(persons), size=n)].astype(object)
    nhs[rng.random(n) < 0.02] = ""

    extract_day = np.datetime64(end)
    still_in = discharge > extract_day
    keep = (admission <= extract_day) & ((discharge >= np.datetime64(start)) | still_in)

    frame = pd.DataFrame({
        "provider_code": provider, "setting": setting, "nhs_number": nhs, "age": age, "hwb_code": hwb_codes,
        "admission_date": admission, "admission_method": method,
        "ready_for_discharge_date": np.where(has_ready & ~still_in & (ready <= extract_day), ready,
                                             np.datetime64("NaT")),
        "discharge_date": np.where(still_in, np.datetime64("NaT"), discharge),
        "discharge_destination": np.where(still_in, "", dest), "discharge_pathway": np.where(still_in, "", pathway),
        "primary_diagnosis": diagnosis, "external_cause": cause,
    })[keep].sort_values("admission_date", kind="stable").reset_index(drop=True)
    frame.insert(0, "spell_id", [f"{p}{i:07d}" for i, p in enumerate(frame["provider_code"], start=1)])
    return frame


def make_reablement(rng: np.random.Generator, discharges: pd.DataFrame, hwb: str, start: dt.date,
                    end: dt.date) -> pd.DataFrame:
    d = discharges
    mine = d[(d.hwb_code == hwb) & (d.setting == "acute") & d.discharge_date.notna() & (d.age >= 18)
             & d.discharge_pathway.isin(["1", "2"]) & (d.nhs_number != "")]
    hosp = mine[rng.random(len(mine)) < 0.55]
    n_h = len(hosp)
    n_c = max(int(n_h * 0.4), 1)
    days = (end - start).days + 1
    hosp_date = hosp.discharge_date.to_numpy(dtype="datetime64[D]")
    start_h = hosp_date + rng.integers(0, 3, n_h) * DAY
    start_c = np.datetime64(start) + rng.integers(0, days, n_c) * DAY
    service_h = np.where(hosp.discharge_pathway.to_numpy() == "2", "bed_based_reablement",
                         np.where(rng.random(n_h) < 0.85, "home_reablement", "rehabilitation"))
    service_c = _choice(rng, {"home_reablement": 0.6, "rehabilitation": 0.2, "bed_based_reablement": 0.2}, n_c)
    people = valid_nhs_numbers(rng, n_c)
    frame = pd.DataFrame({
        "nhs_number": np.concatenate([hosp.nhs_number.to_numpy(dtype=object), people.astype(object)]),
        "age": np.concatenate([hosp.age.to_numpy(), rng.integers(55, 100, n_c)]),
        "hwb_code": hwb,
        "referral_source": ["hospital_discharge"] * n_h + ["community"] * n_c,
        "hospital_discharge_date": np.concatenate([hosp_date, np.full(n_c, np.datetime64("NaT"), "datetime64[D]")]),
        "service": np.concatenate([service_h, service_c]),
        "start_date": np.concatenate([start_h, start_c]),
    })
    n = len(frame)
    length = rng.integers(7, 43, n)
    end_date = frame.start_date.to_numpy(dtype="datetime64[D]") + length * DAY
    extract_day = np.datetime64(end)
    ongoing = end_date > extract_day
    frame["end_date"] = np.where(ongoing, np.datetime64("NaT"), end_date)
    elapsed = np.minimum(end_date, extract_day) - frame.start_date.to_numpy(dtype="datetime64[D]")
    weekly_quarter_hours = rng.integers(20, 48, n)  # 5-12 hours a week, in quarter hours
    quarter_hours = np.where(frame.service == "bed_based_reablement", 0,
                             weekly_quarter_hours * (elapsed / DAY).astype(int) // 7)
    frame["hours_delivered"] = [f"{q // 4}.{(q % 4) * 25:02d}" for q in quarter_hours]
    outcome = _choice(rng, {"no_ongoing_needs": 0.6, "long_term_support": 0.25, "residential_care": 0.05,
                            "hospital": 0.07, "deceased": 0.03}, n)
    frame["outcome"] = np.where(ongoing, "", outcome)
    due = frame.hospital_discharge_date.notna() & (
        frame.hospital_discharge_date.to_numpy(dtype="datetime64[D]") + 91 * DAY <= extract_day)
    status = _choice(rng, {"at_home": 0.78, "hospital": 0.06, "care_home": 0.06, "deceased": 0.07,
                           "not_known": 0.03}, n)
    frame["status_91d"] = np.where(due, status, "")
    frame = frame[frame.start_date <= pd.Timestamp(end)].sort_values("start_date", kind="stable")
    frame.insert(0, "episode_id", [f"EP{i:07d}" for i in range(1, len(frame) + 1)])
    return frame.reset_index(drop=True)


def _scaled(pounds: int, factor: float) -> int:
    return max(int(round(pounds * factor)), 1)


def plan_tables(hwb: str, start: dt.date, end: dt.date, scale: int, discharges: pd.DataFrame,
                rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    factor = scale / BASE_SCALE
    rows: dict[str, list[dict[str, object]]] = {k: [] for k in (
        "schemes", "income", "metric_plans", "capacity", "population", "conditions", "metric_actuals")}
    residents_per_year = scale * 0.7
    population = max(int(residents_per_year * 6), 1000)
    for fy in fund_years(start, end):
        real = hwb == RUTLAND and fy == "2022-23"
        spend_by_source: dict[str, int] = {}
        for s in SCHEMES:
            for source, pounds in s.funding:
                planned = pounds if real and "discharge" in source else _scaled(pounds, factor)
                spend_by_source[source] = spend_by_source.get(source, 0) + planned
                rows["schemes"].append({
                    "fund_year": fy, "scheme_id": s.scheme_id, "scheme_name": s.name, "scheme_type": s.scheme_type,
                    "funding_source": source, "planned_spend": planned, "output_unit": s.output_unit,
                    "planned_output": round(planned * 100 / s.unit_cost_pence), "provider": s.provider,
                    "commissioner": s.commissioner,
                })
        for source in codes()["enums"]["funding_source"]:
            if source in DF_INCOME:
                amount = DF_INCOME[source] if real else _scaled(DF_INCOME[source], factor)
            else:
                amount = int(round(spend_by_source.get(source, 0) * OTHER_INCOME_MARGIN))
            rows["income"].append({"fund_year": fy, "funding_source": source, "amount": amount})
        for band, share in POP_SHARE.items():
            rows["population"].append({"fund_year": fy, "age_band": band, "population": int(population * share)})
        for quarter, _, _ in quarters_of(fy):
            # near what the synthetic data produces, so a demo shows both on-track and off-track metrics
            for metric, value in (("avoidable_admissions", 335.0), ("falls", 560.0),
                                  ("discharge_usual_residence", 84.0), ("residential_admissions", 140.0),
                                  ("reablement_91d", 78.0)):
                rows["metric_plans"].append({"metric": metric, "period": quarter,
                                             "plan_value": round(value * float(rng.uniform(0.95, 1.05)), 1)})
            for n in range(1, 5):
                rows["conditions"].append({"period": quarter, "condition": n, "confirmed": "Yes", "actions": "",
                                           "timeframe": ""})
            rows["metric_actuals"].append({
                "metric": "residential_admissions", "period": quarter,
                "value": round(140 * float(rng.uniform(0.85, 1.15)), 1),
                "source_note": "Council client-level data (CLD) return: permanent admissions 65+ per 100,000",
            })
        y = int(fy[:4])
        monthly = residents_per_year / 12
        for month in [dt.date(y + (m > 12), (m - 1) % 12 + 1, 1) for m in range(4, 16)]:
            for service, share in (("pathway_1", 0.18), ("pathway_2", 0.04), ("pathway_3", 0.025),
                                   ("community_reablement", 0.06), ("community_bed", 0.015)):
                rows["capacity"].append({"service": service, "month": month.strftime("%Y-%m"),
                                         "capacity": int(round(monthly * share * float(rng.uniform(0.9, 1.15))))})
    return {k: pd.DataFrame(v) for k, v in rows.items()}


def make_spend(rng: np.random.Generator, schemes: pd.DataFrame, hwb: str, start: dt.date,
               end: dt.date, scale: int = BASE_SCALE, explicit_hwb: bool = False) -> pd.DataFrame:
    unit_cost = {s.scheme_id: s.unit_cost_pence for s in SCHEMES}
    volume = max(1, scale // BASE_SCALE)  # a bigger area posts more, smaller transactions
    records: list[dict[str, object]] = []
    for row in schemes.itertuples(index=False):
        y = int(str(row.fund_year)[:4])
        months = [dt.date(y + (m > 12), (m - 1) % 12 + 1, 1) for m in range(4, 16)]
        months = [m for m in months if start <= m + dt.timedelta(days=27) and m <= end]
        monthly_pence = int(row.planned_spend) * 100 // 12
        for month in months:
            postings = int(rng.integers(1, 4)) * volume
            for _ in range(postings):
                pence = int(monthly_pence / postings * rng.uniform(0.85, 1.15))
                day = month + dt.timedelta(days=int(rng.integers(0, 28)))
                if day > end or day < start:
                    continue
                units = pence * 100 // unit_cost[row.scheme_id]  # hundredths of a unit
                records.append({"posting_date": day, "scheme_id": row.scheme_id,
                                "funding_source": row.funding_source, "pence": pence, "units_x100": units,
                                "unit": row.output_unit, "supplier": row.provider,
                                "description": f"{row.scheme_name} {month:%b %Y}"})
    frame = pd.DataFrame(records).sort_values("posting_date", kind="stable").reset_index(drop=True)
    n = len(frame)
    frame.insert(0, "transaction_id", [f"GL{i:08d}" for i in range(1, n + 1)])
    # reversals: a later posting that undoes an earlier one, units and all; credits: money back, no units
    reverse = frame.sample(frac=0.03, random_state=int(rng.integers(0, 2**31))).copy()
    reverse["transaction_id"] = [f"GL{i:08d}R" for i in range(1, len(reverse) + 1)]
    reverse["posting_date"] = [min(d + dt.timedelta(days=7), end) for d in reverse.posting_date]
    reverse["description"] = "Reversal of " + frame.loc[reverse.index, "transaction_id"]
    reverse["pence"] = -reverse.pence
    reverse["units_x100"] = -reverse.units_x100
    credits = frame.sample(frac=0.02, random_state=int(rng.integers(0, 2**31))).copy()
    credits["transaction_id"] = [f"GL{i:08d}C" for i in range(1, len(credits) + 1)]
    credits["pence"] = -(credits.pence // 10)
    credits["units_x100"] = None
    credits["description"] = "Credit note: overpayment recovered"
    frame = pd.concat([frame, reverse, credits]).sort_values(["posting_date", "transaction_id"], kind="stable")
    frame["amount"] = [_money(p) for p in frame.pence]
    frame["units"] = ["" if pd.isna(u) else _money(int(u)) for u in frame.units_x100]
    frame.loc[frame.units == "", "unit"] = ""
    # half the ledger leaves hwb_code blank (= the source's HWB); a source shared by an ICB needs it on every row
    frame["hwb_code"] = hwb if explicit_hwb else np.where(rng.random(len(frame)) < 0.5, hwb, "")
    frame["cost_centre"] = ["CC" + str(1000 + sum(map(ord, s)) % 900) for s in frame.scheme_id]
    return frame[contracts()["spend"].names].reset_index(drop=True)  # the contract's columns, in its order


def _money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def _uk(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%d/%m/%Y").fillna("")


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").fillna("")


def write_discharges(frame: pd.DataFrame, out: Path, tag: str) -> list[Path]:
    from bcf.core.settings import supplier_mappings

    written = []
    date_cols = ["admission_date", "ready_for_discharge_date", "discharge_date"]
    for code, _, layout in PROVIDERS:
        part = frame[frame.provider_code == code].copy()
        path = out / f"discharges_{code.lower()}_{tag}"
        if layout == "xlsx":
            written.append(_write_provider_xlsx(part, path.with_suffix(".xlsx")))
            continue
        if layout == "mapped":
            for col in date_cols:
                part[col] = _uk(part[col])
            mapping = next(m for m in supplier_mappings() if m.supplier == code)
            part = part.rename(columns={v: k for k, v in mapping.columns.items()})
        else:
            for col in date_cols:
                part[col] = _iso(part[col])
        part.to_csv(path.with_suffix(".csv"), index=False)
        written.append(path.with_suffix(".csv"))
    return written


def _write_provider_xlsx(part: pd.DataFrame, path: Path) -> Path:
    """A trust's Excel export: date cells shown dd/mm/yyyy, the ready date as text, codes as numbers, no dots."""
    from bcf.devtools.xlsx_fast import write_sheet

    def codes_as_numbers(col: pd.Series) -> list[object]:
        return [int(v) if v.isdigit() else v for v in col]

    columns = {
        "spell_id": part.spell_id.tolist(), "provider_code": part.provider_code.tolist(),
        "setting": part.setting.tolist(), "nhs_number": part.nhs_number.tolist(),
        "age": part.age.astype(int).tolist(), "hwb_code": part.hwb_code.tolist(),
        "admission_date": part.admission_date.dt.date.tolist(),
        "admission_method": codes_as_numbers(part.admission_method),
        "ready_for_discharge_date": _uk(part.ready_for_discharge_date).tolist(),
        "discharge_date": [None if pd.isna(d) else d.date() for d in part.discharge_date],
        "discharge_destination": codes_as_numbers(part.discharge_destination),
        "discharge_pathway": codes_as_numbers(part.discharge_pathway),
        "primary_diagnosis": part.primary_diagnosis.str.replace(".", "", regex=False).tolist(),
        "external_cause": part.external_cause.tolist(),
    }
    return write_sheet(path, "Discharges", list(columns), zip(*columns.values(), strict=True))


def write_plan(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, frame in tables.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if v == "" else v for v in row])
    book.save(path)
    return path


def generate(hwb: str, start: dt.date, end: dt.date, scale: int, seed: int, out: Path,
             explicit_hwb: bool = False, discharges: bool = True) -> dict[str, int]:
    """Write a full set of extracts and a plan into `out`; returns rows written per extract.
    explicit_hwb writes hwb_code on every plan and ledger row, so several HWBs' files can share one source;
    discharges=False leaves out the provider files (an ICB source has one set for all its HWBs)."""
    if hwb not in hwb_reference():
        raise ValueError(f"HWB code {hwb} is not in config/hwb.csv")
    if end < start:
        raise ValueError("--to is before --from")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tag = f"{start:%Y%m%d}_{end:%Y%m%d}"
    spells = make_discharges(rng, hwb, start, end, scale)
    if discharges:
        write_discharges(spells, out, tag)
    reablement = make_reablement(rng, spells, hwb, start, end)
    for col in ("hospital_discharge_date", "start_date", "end_date"):
        reablement[col] = _iso(pd.to_datetime(reablement[col]))
    reablement.to_csv(out / f"reablement_{hwb.lower()}_{tag}.csv", index=False)
    plan = plan_tables(hwb, start, end, scale, spells, rng)
    if explicit_hwb:
        plan = {name: frame.assign(hwb_code=hwb) for name, frame in plan.items()}
    write_plan(plan, out / f"plan_{hwb.lower()}.xlsx")
    spend = make_spend(rng, plan["schemes"], hwb, start, end, scale, explicit_hwb)
    spend.to_csv(out / f"spend_{hwb.lower()}_{tag}.csv", index=False)
    return {"discharges": len(spells) if discharges else 0, "reablement": len(reablement), "spend": len(spend),
            "plan": sum(len(f) for f in plan.values())}


def _covering(income: pd.DataFrame, schemes: pd.DataFrame) -> pd.DataFrame:
    """Income raised to at least each source's planned spend for the year: the single-HWB demo keeps Rutland's real
    2022-23 Discharge Fund shortfall (a true cross.df_plan_exceeds_income warning); an ICB demo's plans balance, so
    a warning there means something."""
    planned = schemes.groupby(["fund_year", "funding_source"], as_index=False)["planned_spend"].sum()
    merged = income.merge(planned, on=["fund_year", "funding_source"], how="left")
    need = merged["planned_spend"].fillna(0).astype("int64").to_numpy()
    return income.assign(amount=np.maximum(income["amount"].to_numpy(dtype="int64"), need))


# Resident populations (mid-2021, rounded), for splitting an ICB's spells between its HWBs; any other HWB counts
# as the average of these.
RESIDENTS = {"E06000016": 368_600, "E06000017": 41_100, "E10000018": 712_300}


def generate_icb(icb: str, start: dt.date, end: dt.date, scale: int, seed: int, out: Path) -> dict[str, int]:
    """A source shared by every HWB of an ICB (config/hwb.csv), as an ICB would hand it over: one set of provider
    files for the whole footprint (trusts send one extract whoever the patient's council is; residents of every
    HWB in each), and each council's own reablement file, ledger and plan, with hwb_code on every row. `scale` is
    the footprint's spells a year, split between the HWBs by population. Each council's reablement episodes follow
    its residents' discharges in the shared files, so `bcf run icb` links them as it would real data."""
    ref = hwb_reference()
    hwbs = sorted(code for code, row in ref.items() if row["icb_code"] == icb)
    if not hwbs:
        raise ValueError(f"no HWB of ICB {icb} in config/hwb.csv")
    if end < start:
        raise ValueError("--to is before --from")
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{start:%Y%m%d}_{end:%Y%m%d}"
    average = sum(RESIDENTS.values()) / len(RESIDENTS)
    people = {hwb: RESIDENTS.get(hwb, average) for hwb in hwbs}
    shares = {hwb: max(int(round(scale * n / sum(people.values()))), 20) for hwb, n in people.items()}
    rngs = {hwb: np.random.default_rng([seed, i]) for i, hwb in enumerate(hwbs)}
    # each HWB's hospital activity, its own residents and some of its neighbours', in one set of provider files
    spells = pd.concat([make_discharges(rngs[hwb], hwb, start, end, shares[hwb]) for hwb in hwbs])
    spells = spells.sort_values("admission_date", kind="stable").reset_index(drop=True)
    spells["spell_id"] = [f"{p}{i:07d}" for i, p in enumerate(spells["provider_code"], start=1)]
    # a person drawn twice for the same dates would be one stay sent twice (cross.duplicate_spell): not in a demo
    same_stay = spells.duplicated(["nhs_number", "admission_date", "discharge_date"]) & (spells.nhs_number != "")
    spells.loc[same_stay, "nhs_number"] = valid_nhs_numbers(rngs[hwbs[0]], int(same_stay.sum()))
    write_discharges(spells, out, tag)
    counts = {"discharges": len(spells), "reablement": 0, "spend": 0, "plan": 0}
    for hwb in hwbs:
        rng = rngs[hwb]
        reablement = make_reablement(rng, spells, hwb, start, end)
        for col in ("hospital_discharge_date", "start_date", "end_date"):
            reablement[col] = _iso(pd.to_datetime(reablement[col]))
        reablement.to_csv(out / f"reablement_{hwb.lower()}_{tag}.csv", index=False)
        plan = {name: frame.assign(hwb_code=hwb)
                for name, frame in plan_tables(hwb, start, end, shares[hwb], spells, rng).items()}
        plan["income"] = _covering(plan["income"], plan["schemes"])
        write_plan(plan, out / f"plan_{hwb.lower()}.xlsx")
        spend = make_spend(rng, plan["schemes"], hwb, start, end, shares[hwb], explicit_hwb=True)
        spend.to_csv(out / f"spend_{hwb.lower()}_{tag}.csv", index=False)
        counts["reablement"] += len(reablement)
        counts["spend"] += len(spend)
        counts["plan"] += sum(len(f) for f in plan.values())
    return counts

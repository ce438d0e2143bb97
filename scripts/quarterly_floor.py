"""The BCF quarterly return's own floor: its figures and their lineage rows straight from a source folder, in bare
DuckDB (python-calamine for the XLSX files), for one HWB and one quarter.

    .venv/bin/python scripts/quarterly_floor.py --source SRC --hwb E06000017 --quarter 2022-23-Q4 --out OUT

It is the independent calculation `bcf run quarterly` is measured against (scripts/benchmark.py, step
floor_quarterly) and checked against (tests/unit/test_quarterly_floor.py): written from the contract
(shared spec, returns.md part B), not from the warehouse's SQL. No validation, no staging, no workbook, no
Prefect: it assumes clean input (one file per provider, no key sent twice, no superseded file, every value
well formed) and does not check it.

What it reads: the source folder's discharges_*.csv / discharges_*.xlsx (a supplier's own column names through
config/suppliers/*.toml; dates ISO or dd/mm/yyyy; in XLSX, date cells and codes as numbers), reablement_*.csv,
spend_*.csv and plan_*.xlsx (sheets schemes, income, metric_plans, capacity, population, conditions,
metric_actuals); and config/codes.toml (destinations 19 and 79, emergency admission methods, ACSC prefixes, the
ESP 2013 65+ weights, the capacity services), config/hwb.csv (the HWB's name).

What it writes into --out: figures.json ({figure id: value as text, blank as null}) and lineage.parquet (figure_id,
role, file, row, key, contribution: one row per source row a figure is made of, a derived figure's rows being its
inputs' rows, signed), the same rows as the return's audit pack.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import fnmatch
import json
import re
import time
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parents[1]
DISCHARGE_COLUMNS = ("spell_id", "provider_code", "setting", "age", "hwb_code", "admission_date", "admission_method",
                     "discharge_date", "discharge_destination", "discharge_pathway", "primary_diagnosis",
                     "external_cause")
DATE_COLUMNS = ("admission_date", "discharge_date")
PLAN_SHEETS = ("schemes", "income", "metric_plans", "capacity", "population", "conditions", "metric_actuals")
METRICS = {  # name: (lower is better, scale of numerator / denominator; None: the falls DSR; 0: from the plan)
    "avoidable_admissions": (True, 100_000), "falls": (True, None), "discharge_usual_residence": (False, 100),
    "residential_admissions": (True, 0), "reablement_91d": (False, 100),
}
Value = Decimal | str | None


# ---------- reading the files into DuckDB tables ----------

def _text(v: Any) -> str | None:
    """An XLSX cell as the text a CSV would carry: a whole number without '.0', blank as None."""
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _sheet(path: Path, sheet: str | int, columns: tuple[str, ...] | None = None) -> pa.Table:
    """One sheet as text columns (our names), with `row`: the row as the supplier sees it (header = row 1)."""
    book = CalamineWorkbook.from_path(str(path))
    rows = (book.get_sheet_by_index(sheet) if isinstance(sheet, int) else book.get_sheet_by_name(sheet)).to_python()
    mapping = _mapping(path.name)
    header = [mapping.get(str(h).strip().lower(), str(h).strip().lower()) for h in rows[0]]
    wanted = columns or tuple(h for h in header if h)
    data = {c: pa.array([_text(r[header.index(c)]) for r in rows[1:]] if c in header else [None] * (len(rows) - 1),
                        pa.string()) for c in wanted}
    return pa.table({**data, "row": pa.array(range(2, len(rows) + 1), pa.int64())})


def _mapping(name: str) -> dict[str, str]:
    """A supplier's own headers -> ours (config/suppliers/*.toml whose `files` glob matches the file name)."""
    for path in sorted((ROOT / "config" / "suppliers").glob("*.toml")):
        conf = tomllib.loads(path.read_text(encoding="utf-8"))
        if fnmatch.fnmatch(name.lower(), conf["files"].lower()):
            return {theirs.lower(): ours for theirs, ours in conf["columns"].items()}
    return {}


def _date(col: str) -> str:
    return f"coalesce(try_strptime({col}, '%Y-%m-%d'), try_strptime({col}, '%d/%m/%Y'))::DATE"


def _csv(con: duckdb.DuckDBPyConnection, path: Path, columns: tuple[str, ...], dates: tuple[str, ...]) -> None:
    """A CSV as table `part`, in file order (its rowid + 2 is the supplier's row), our column names, dates typed."""
    header = next(csv.reader(path.open(encoding="utf-8-sig")))
    ours = {_mapping(path.name).get(h.strip().lower(), h.strip().lower()): h for h in header}
    select = ", ".join((_date(f'"{ours[c]}"') if c in dates else f'"{ours[c]}"') + f" AS {c}" if c in ours
                       else f"NULL AS {c}" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE part AS SELECT {select} FROM read_csv($p, all_varchar = true)",
                {"p": str(path)})


def load(con: duckdb.DuckDBPyConnection, src: Path) -> None:
    """Tables d (discharges), r (reablement), s (spend) and plan_<sheet>, each row with its file and row."""
    cols = ", ".join(f"{c} {'DATE' if c in DATE_COLUMNS else 'VARCHAR'}" for c in DISCHARGE_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE d (file VARCHAR, row BIGINT, {cols})")
    for path in sorted(src.glob("discharges_*.csv")):
        _csv(con, path, DISCHARGE_COLUMNS, DATE_COLUMNS)
        con.execute("INSERT INTO d SELECT $f, rowid + 2, * FROM part", {"f": path.name})
    for path in sorted(src.glob("discharges_*.xlsx")):
        x = _sheet(path, 0, DISCHARGE_COLUMNS)  # noqa: F841 (scanned by DuckDB)
        picked = ", ".join(_date(c) if c in DATE_COLUMNS else c for c in DISCHARGE_COLUMNS)
        con.execute(f"INSERT INTO d SELECT $f, row, {picked} FROM x", {"f": path.name})
    for table, glob, dates in (("r", "reablement_*.csv", ("hospital_discharge_date", "start_date", "end_date")),
                               ("s", "spend_*.csv", ("posting_date",))):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (file VARCHAR, row BIGINT)")
        for i, path in enumerate(sorted(src.glob(glob))):
            header = tuple(h.strip().lower() for h in next(csv.reader(path.open(encoding="utf-8-sig"))))
            _csv(con, path, header, dates)
            if i == 0:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT $f AS file, rowid + 2 AS row, * "
                            "FROM part", {"f": path.name})
            else:
                con.execute(f"INSERT INTO {table} BY NAME SELECT $f AS file, rowid + 2 AS row, * FROM part",
                            {"f": path.name})
    plan = next(src.glob("plan_*.xlsx"))
    for name in PLAN_SHEETS:
        t = _sheet(plan, name)  # noqa: F841 (scanned by DuckDB)
        con.execute(f"CREATE OR REPLACE TEMP TABLE plan_{name} AS SELECT $f AS file, * FROM t", {"f": plan.name})
    for table in ("s", *(f"plan_{name}" for name in PLAN_SHEETS)):  # hwb_code is optional there
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS hwb_code VARCHAR")


# ---------- the quarter's lineage rows, then its figures ----------

def quarter_of(text: str) -> dict[str, Any]:
    """'2022-23-Q4' or '2022-23 Q4': the label, fund year, its 1 April, the quarter's first and last day, months."""
    m = re.fullmatch(r"(\d{4})-(\d{2})[ -]Q([1-4])", text.strip())
    if not m:
        raise SystemExit(f"quarter {text!r}: expected like 2022-23-Q4")
    year, n = int(m.group(1)), int(m.group(3))
    first = dt.date(year + (n == 4), (3 * n + 1) % 12 or 12, 1)
    months = [dt.date(first.year, first.month + i, 1) for i in range(3)]
    last = (months[2].replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return {"label": f"{year}-{m.group(2)} Q{n}", "fund_year": f"{year}-{m.group(2)}", "fy_start": dt.date(year, 4, 1),
            "q_start": first, "q_end": last, "months": months}


def lineage(con: duckdb.DuckDBPyConnection, hwb: str, q: dict[str, Any], codes: dict[str, Any]) -> None:
    """Table `lineage`: every figure's rows (figure_id, role, file, row, key, contribution)."""
    bands = [(b, int(b.rstrip("+").split("-")[0]), int(b.split("-")[1]) if "-" in b else 999)
             for b in codes["esp2013_65plus"]]
    p = {"h": hwb, "fy": q["fund_year"], "fy0": q["fy_start"], "q0": q["q_start"], "q1": q["q_end"],
         "ql": q["label"], "c0": q["q_start"] - dt.timedelta(days=91), "c1": q["q_end"] - dt.timedelta(days=91),
         "home": codes["discharge_destination"]["usual_place_of_residence"],
         "died": codes["discharge_destination"]["died"], "emergency": codes["admission_method"]["emergency"],
         "acsc": [c.replace(".", "").upper() for c in codes["acsc"]["prefixes"]],
         "bands": [b for b, _, _ in bands], "lo": [lo for _, lo, _ in bands], "hi": [hi for _, _, hi in bands]}
    con.execute("""
    CREATE OR REPLACE TEMP TABLE lineage AS
    WITH
    dis AS (  -- the HWB's acute discharges in Q, deaths excluded
        SELECT file, row, provider_code || ':' || spell_id AS key, discharge_destination AS dest,
               discharge_pathway AS pathway, strftime(discharge_date, '%Y_%m') AS month
        FROM d WHERE hwb_code = $h AND setting = 'acute' AND discharge_date BETWEEN $q0 AND $q1
          AND coalesce(discharge_destination, '') <> $died),
    adm AS (  -- the HWB's acute emergency admissions in Q
        SELECT file, row, provider_code || ':' || spell_id AS key, age::INTEGER AS age,
               replace(upper(primary_diagnosis), '.', '') AS dx, replace(upper(coalesce(external_cause, '')), '.', '')
               AS cause
        FROM d WHERE hwb_code = $h AND setting = 'acute' AND admission_date BETWEEN $q0 AND $q1
          AND list_contains($emergency, admission_method)),
    band AS (SELECT unnest($bands) AS band, unnest($lo) AS lo, unnest($hi) AS hi),
    reab AS (SELECT * FROM r WHERE hwb_code = $h),
    ledger AS (  -- the year to date; a row without hwb_code is the HWB's
        SELECT file, row, transaction_id AS key, scheme_id, funding_source, amount::DECIMAL(18, 4) AS amount,
               units::DECIMAL(18, 4) AS units
        FROM s WHERE coalesce(hwb_code, $h) = $h AND posting_date BETWEEN $fy0 AND $q1),
    schemes AS (
        SELECT file, row, 'schemes:' || fund_year || '/' || scheme_id || '/' || funding_source AS key, scheme_id,
               funding_source, planned_spend::DECIMAL(18, 4) AS spend, planned_output::DECIMAL(18, 4) AS output
        FROM plan_schemes WHERE coalesce(hwb_code, $h) = $h AND fund_year = $fy),
    lines AS (SELECT by_source FROM (VALUES (false), (true)) v(by_source)),
    plan_lines AS (
        SELECT *, 'q.scheme.' || regexp_replace(lower(scheme_id), '[^a-z0-9_]', '_', 'g') || '.'
                  || CASE WHEN by_source THEN funding_source || '.' ELSE '' END AS line
        FROM schemes, lines),
    ledger_lines AS (  -- postings to a scheme of the plan
        SELECT *, 'q.scheme.' || regexp_replace(lower(scheme_id), '[^a-z0-9_]', '_', 'g') || '.'
                  || CASE WHEN by_source THEN funding_source || '.' ELSE '' END AS line
        FROM ledger, lines WHERE scheme_id IN (SELECT scheme_id FROM schemes)),
    income AS (
        SELECT file, row, 'income:' || fund_year || '/' || funding_source AS key, funding_source,
               amount::DECIMAL(18, 4) AS amount
        FROM plan_income WHERE coalesce(hwb_code, $h) = $h AND fund_year = $fy),
    pop AS (
        SELECT file, row, 'population:' || fund_year || '/' || age_band AS key, age_band,
               population::DECIMAL(18, 4) AS population
        FROM plan_population WHERE coalesce(hwb_code, $h) = $h AND fund_year = $fy),
    made AS (
        SELECT 'q.metric.discharge_usual_residence.denominator' AS figure_id, 'count' AS role, file, row, key,
               1::DECIMAL(18, 4) AS contribution FROM dis
        UNION ALL SELECT 'q.metric.discharge_usual_residence.numerator', 'count', file, row, key, 1 FROM dis
            WHERE dest = $home
        UNION ALL SELECT 'q.metric.avoidable_admissions.numerator', 'count', file, row, key, 1 FROM adm
            WHERE len(list_filter($acsc, lambda c: starts_with(dx, c))) > 0
        UNION ALL SELECT 'q.metric.avoidable_admissions.denominator', 'population', file, row, key, population
            FROM pop
        UNION ALL SELECT 'q.metric.falls.numerator', 'count:' || band, file, row, key, 1
            FROM adm JOIN band ON age BETWEEN lo AND hi
            WHERE regexp_matches(dx, '^(S|T[0-8][0-9]|T9[0-8])') AND regexp_matches(cause, '^W[01][0-9]')
        UNION ALL SELECT 'q.metric.falls.denominator', 'population:' || age_band, file, row, key, population
            FROM pop WHERE age_band IN (SELECT band FROM band)
        UNION ALL SELECT 'q.metric.reablement_91d.' || x, 'count', file, row, episode_id, 1
            FROM reab, (VALUES ('denominator'), ('numerator')) v(x)
            WHERE referral_source = 'hospital_discharge' AND age::INTEGER >= 65
              AND hospital_discharge_date BETWEEN $c0 AND $c1 AND (x = 'denominator' OR status_91d = 'at_home')
        UNION ALL SELECT 'q.metric.' || metric || '.plan', 'plan', file, row,
               'metric_plans:' || metric || '/' || period, coalesce(plan_value::DECIMAL(18, 4), 0)
            FROM plan_metric_plans WHERE coalesce(hwb_code, $h) = $h AND period = $ql
        UNION ALL SELECT 'q.metric.residential_admissions.actual', 'actual', file, row,
               'metric_actuals:' || metric || '/' || period, coalesce(value::DECIMAL(18, 4), 0)
            FROM plan_metric_actuals WHERE coalesce(hwb_code, $h) = $h AND period = $ql
              AND metric = 'residential_admissions'
        UNION ALL SELECT 'q.condition.' || condition || '.confirmed', 'plan', file, row,
               'conditions:' || period || '/' || condition, 1
            FROM plan_conditions WHERE coalesce(hwb_code, $h) = $h AND period = $ql
        -- capacity and demand: discharges on pathways 1-3 by month; community reablement starts by month
        UNION ALL SELECT 'q.cd.pathway_' || pathway || '.' || month || '.demand', 'count', file, row, key, 1 FROM dis
            WHERE pathway IN ('1', '2', '3')
        UNION ALL SELECT 'q.cd.' || CASE WHEN service = 'bed_based_reablement' THEN 'community_bed'
                                         ELSE 'community_reablement' END || '.' || strftime(start_date, '%Y_%m')
                         || '.demand', 'count', file, row, episode_id, 1
            FROM reab WHERE referral_source = 'community' AND start_date BETWEEN $q0 AND $q1
        UNION ALL SELECT 'q.cd.' || service || '.' || replace(month, '-', '_') || '.capacity', 'plan', file, row,
               'capacity:' || service || '/' || month, capacity::DECIMAL(18, 4)
            FROM plan_capacity WHERE coalesce(hwb_code, $h) = $h AND capacity IS NOT NULL
              AND month BETWEEN strftime($q0, '%Y-%m') AND strftime($q1, '%Y-%m')
        -- schemes: each row counts once for its scheme's line and once for its (scheme, funding source) line
        UNION ALL SELECT line || 'planned_spend', 'plan', file, row, key, spend FROM plan_lines
        UNION ALL SELECT line || 'planned_output', 'plan', file, row, key, output FROM plan_lines
            WHERE output IS NOT NULL
        UNION ALL SELECT line || 'actual_spend_ytd', 'amount', file, row, key, amount FROM ledger_lines
        UNION ALL SELECT line || 'actual_output_ytd', 'units', file, row, key, units FROM ledger_lines
            WHERE units IS NOT NULL
        -- income and expenditure by funding source
        UNION ALL SELECT 'q.ie.' || funding_source || '.income', 'income', file, row, key, amount FROM income
        UNION ALL SELECT 'q.ie.' || funding_source || '.expenditure_ytd', 'amount', file, row, key, amount
            FROM ledger)
    SELECT figure_id, role, file, row, key, contribution::DECIMAL(18, 4) AS contribution FROM made""", p)
    # derived figures: their inputs' rows, signed (a metric's actual, a gap, a balance, the totals)
    con.execute("""
    INSERT INTO lineage
    SELECT regexp_replace(figure_id, '(numerator|denominator)$', 'actual'), split_part(figure_id, '.', 4), file, row,
           key, contribution
    FROM lineage WHERE figure_id LIKE 'q.metric.%.numerator' OR figure_id LIKE 'q.metric.%.denominator'
    UNION ALL
    SELECT regexp_replace(figure_id, '(capacity|demand)$', 'gap'), role, file, row, key,
           CASE WHEN figure_id LIKE '%.demand' THEN -contribution ELSE contribution END
    FROM lineage WHERE figure_id LIKE 'q.cd.%'
    UNION ALL
    SELECT 'q.ie.total.' || split_part(figure_id, '.', 4), role, file, row, key, contribution
    FROM lineage WHERE figure_id LIKE 'q.ie.%'
    UNION ALL
    SELECT unnest(['q.ie.' || split_part(figure_id, '.', 3) || '.balance', 'q.ie.total.balance']), role, file, row,
           key, CASE WHEN figure_id LIKE '%.income' THEN contribution ELSE -contribution END
    FROM lineage WHERE figure_id LIKE 'q.ie.%'""")


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)  # half away from zero


def figures(con: duckdb.DuckDBPyConnection, hwb: str, q: dict[str, Any], codes: dict[str, Any]) -> dict[str, Value]:
    """Every figure of the return, from the lineage rows (sums) and the plan's text values."""
    sums = {f: Decimal(v) for f, v in con.execute("SELECT figure_id, sum(contribution) FROM lineage GROUP BY 1"
                                                   ).fetchall()}
    by_role = {(f, r): Decimal(v) for f, r, v in con.execute(
        "SELECT figure_id, role, sum(contribution) FROM lineage GROUP BY ALL").fetchall()}
    places = {"count": 0, "money": 2, "units": 2}  # rates and percentages: 1

    def summed(fid: str, kind: str) -> Decimal:
        return _round(sums[fid], places[kind]) if fid in sums else Decimal(0)

    name = next(row["hwb_name"] for row in csv.DictReader((ROOT / "config" / "hwb.csv").open(encoding="utf-8"))
                if row["hwb_code"] == hwb)
    out: dict[str, Value] = {"q.hwb_code": hwb, "q.hwb_name": name, "q.quarter": q["label"]}
    conditions = dict(con.execute("SELECT condition, confirmed FROM plan_conditions "
                                  "WHERE coalesce(hwb_code, $h) = $h AND period = $p",
                                  {"h": hwb, "p": q["label"]}).fetchall())
    plans = {m: None if v is None else Decimal(v) for m, v in con.execute(
        "SELECT metric, plan_value FROM plan_metric_plans WHERE coalesce(hwb_code, $h) = $h AND period = $p",
        {"h": hwb, "p": q["label"]}).fetchall()}
    actuals = {m: None if v is None else Decimal(v) for m, v in con.execute(
        "SELECT metric, value FROM plan_metric_actuals WHERE coalesce(hwb_code, $h) = $h AND period = $p",
        {"h": hwb, "p": q["label"]}).fetchall()}
    complete = all(conditions.get(str(n)) not in (None, "") for n in range(1, 5)) and all(
        plans.get(m) is not None for m in METRICS)
    out["q.template_status"] = "Complete" if complete else "Incomplete"
    for n in range(1, 5):
        out[f"q.condition.{n}.confirmed"] = conditions.get(str(n))
    for m, (lower, scale) in METRICS.items():
        base = f"q.metric.{m}"
        plan = plans.get(m)
        out[f"{base}.plan"] = None if plan is None else _round(plan, 1)
        actual: Decimal | None
        if scale == 0:  # taken from plan.metric_actuals
            actual = actuals.get(m)
        else:
            num = sums.get(f"{base}.numerator", Decimal(0))
            den = sums.get(f"{base}.denominator", Decimal(0))
            out[f"{base}.numerator"] = summed(f"{base}.numerator", "count")
            out[f"{base}.denominator"] = summed(f"{base}.denominator", "count")
            if scale is not None:
                actual = None if den == 0 else num * scale / den
            else:  # the falls DSR: sum over the 65+ bands of count / population x weight, / sum of weights
                weights = {b: Decimal(w) for b, w in codes["esp2013_65plus"].items()}
                pops = {b: by_role.get((f"{base}.denominator", f"population:{b}"), Decimal(0)) for b in weights}
                actual = None if not all(pops.values()) else sum(
                    (by_role.get((f"{base}.numerator", f"count:{b}"), Decimal(0)) / pops[b] * w
                     for b, w in weights.items()), Decimal(0)) / sum(weights.values()) * 100_000
        out[f"{base}.actual"] = None if actual is None else _round(actual, 1)
        if actual is None or plan is None:
            out[f"{base}.assessment"] = "Data not available to assess progress"
        else:
            good = _round(actual, 1) <= plan if lower else _round(actual, 1) >= plan
            out[f"{base}.assessment"] = "On track to meet target" if good else "Not on track to meet target"
    for service in codes["enums"]["capacity_service"]:
        for month in q["months"]:
            base = f"q.cd.{service}.{month:%Y_%m}"
            out[f"{base}.demand"] = summed(f"{base}.demand", "count")
            capacity = f"{base}.capacity" in sums
            out[f"{base}.capacity"] = summed(f"{base}.capacity", "count") if capacity else None
            out[f"{base}.gap"] = summed(f"{base}.gap", "count") if capacity else None
    year = {"h": hwb, "fy": q["fund_year"]}
    plan_pairs = con.execute("SELECT DISTINCT scheme_id, funding_source FROM plan_schemes "
                             "WHERE coalesce(hwb_code, $h) = $h AND fund_year = $fy", year).fetchall()
    schemes = sorted({s for s, _ in plan_pairs})
    spent = con.execute("SELECT DISTINCT scheme_id, funding_source FROM s WHERE coalesce(hwb_code, $h) = $h "
                        "AND posting_date BETWEEN $fy0 AND $q1",
                        {"h": hwb, "fy0": q["fy_start"], "q1": q["q_end"]}).fetchall()
    pairs = sorted(set(plan_pairs) | {(sid, f) for sid, f in spent if sid in schemes})
    for sid, prefix in [(sid, "") for sid in schemes] + [(sid, f"{f}.") for sid, f in pairs]:
        base = f"q.scheme.{re.sub(r'[^a-z0-9_]', '_', sid.lower())}.{prefix}"
        for part, kind in (("planned_spend", "money"), ("actual_spend_ytd", "money"), ("planned_output", "units"),
                           ("actual_output_ytd", "units")):
            out[base + part] = summed(base + part, kind)
    sources = sorted({f for (f,) in con.execute("SELECT funding_source FROM plan_income WHERE "
                                                "coalesce(hwb_code, $h) = $h AND fund_year = $fy", year).fetchall()}
                     | {f for _, f in spent})
    for source in [*sources, "total"]:
        for part in ("income", "expenditure_ytd", "balance"):
            out[f"q.ie.{source}.{part}"] = summed(f"q.ie.{source}.{part}", "money")
    return out


def quarterly_floor(src: Path, hwb: str, quarter: str, out: Path | None = None,
                    con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Value]:
    """The figures; with `out`, figures.json and lineage.parquet written there. The lineage stays in table
    `lineage` of `con` (given, or a fresh in-memory database)."""
    con = con or duckdb.connect()
    codes = tomllib.loads((ROOT / "config" / "codes.toml").read_text(encoding="utf-8"))
    q = quarter_of(quarter)
    load(con, src)
    lineage(con, hwb, q, codes)
    values = figures(con, hwb, q, codes)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "figures.json").write_text(json.dumps({k: None if v is None else str(v) for k, v in values.items()},
                                                     indent=1))
        con.execute(f"COPY lineage TO '{out / 'lineage.parquet'}' (FORMAT parquet)")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True)
    parser.add_argument("--hwb", required=True)
    parser.add_argument("--quarter", required=True, help="like 2022-23-Q4")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    t = time.perf_counter()
    values = quarterly_floor(Path(args.source), args.hwb, args.quarter, Path(args.out))
    print(f"{len(values)} figures in {time.perf_counter() - t:.1f} s: {args.out}/figures.json, lineage.parquet")


if __name__ == "__main__":
    main()

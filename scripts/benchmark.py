"""Benchmark: wall time and peak memory of every step at three sizes, beside a floor and a pandas version.

    .venv/bin/python scripts/benchmark.py [--sizes 10000,100000,1000000] [--out docs/benchmarks.md]

Each step runs in its own process under /usr/bin/time, so peak memory is that step's alone:
- generate: `bcf generate` for a year of Rutland;
- ingest: land + parse + stage every file, type checks only (plain functions, no Prefect);
- ingest + GX: the same with the GX suites (what every run does);
- fortnightly / quarterly: checks, figures, workbook and audit pack from the loaded warehouse (plain functions);
- full quarterly run: `bcf run quarterly` end to end through Prefect (temporary server start, ingest with GX,
  compute, write) into an empty warehouse;
- floor: the fortnightly discharge, package and DF spend figures as bare DuckDB SQL over the same files;
- pandas: a straightforward pandas + openpyxl implementation of the same fortnightly figures and a workbook.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HWB = "E06000017"
PERIOD_END = dt.date(2023, 3, 30)
QUARTER = "2022-23-Q4"
BIN = Path(sys.executable).parent


# ---------- steps (each runs in a child process) ----------

def step_generate(work: Path, scale: int) -> None:
    from bcf.synthetic import generate

    generate(HWB, dt.date(2022, 4, 1), dt.date(2023, 3, 31), scale, 1, work / "extracts")


def _stage(work: Path, validate: bool, name: str) -> None:
    from bcf.ingest import stage_file
    from bcf.sources import land, list_source, staging_key
    from transforms.validate import RowValidator
    from warehouse import db

    data = work / name
    shutil.rmtree(data, ignore_errors=True)
    validator = RowValidator() if validate else None
    with db.connect(data / "warehouse.duckdb") as con:
        for obj in sorted(list_source(str(work / "extracts")), key=staging_key):
            stage_file(con, obj, land(obj, data / "landing"), "bench", b"bench-key", validator, dt.date(2023, 4, 1))


def step_ingest(work: Path, scale: int) -> None:
    _stage(work, False, "data_plain")


def step_ingest_gx(work: Path, scale: int) -> None:
    _stage(work, True, "data")


def _produce(work: Path, which: str) -> None:
    from bcf import returns
    from bcf.audit import RunInfo
    from bcf.fortnightly import Fortnight
    from bcf.produce import produce
    from bcf.quarterly import Quarter
    from warehouse import db

    run = RunInfo("bench", which, None, {}, dt.datetime.now(dt.UTC).isoformat())
    out = work / "returns"
    with db.connect(work / "data" / "warehouse.duckdb") as con:
        if which == "fortnightly":
            period = Fortnight.ending(HWB, PERIOD_END)
            outcome = produce(con, HWB, period.params(), out / period.file_name, run, returns.fortnightly(period))
        else:
            quarter = Quarter.parse(HWB, QUARTER)
            outcome = produce(con, HWB, quarter.params(), out / quarter.file_name, run, returns.quarterly(quarter))
    assert outcome.status == "written", outcome.blocking[:3]


def step_fortnightly(work: Path, scale: int) -> None:
    _produce(work, "fortnightly")


def step_quarterly(work: Path, scale: int) -> None:
    _produce(work, "quarterly")


def _discharge_frames(work: Path):  # type: ignore[no-untyped-def]
    """The four provider files as text frames with canonical names (both comparison versions read this way)."""
    import pandas as pd

    from bcf.settings import supplier_mappings

    rnq = next(m for m in supplier_mappings() if m.supplier == "RNQ")
    frames = []
    for path in sorted((work / "extracts").glob("discharges_*")):
        if path.suffix == ".xlsx":
            frame = pd.read_excel(path, engine="calamine", dtype=str)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(frame.rename(columns=rnq.columns))
    return frames


def step_floor(work: Path, scale: int) -> None:
    """Bare DuckDB: read the files, compute the fortnightly discharge, package and DF spend figures in SQL."""
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    csvs = [str(p) for p in sorted((work / "extracts").glob("discharges_*.csv"))]
    rnq = [p for p in csvs if "_rnq_" in p]
    plain = [p for p in csvs if "_rnq_" not in p]
    xlsx = pd.read_excel(next((work / "extracts").glob("discharges_*.xlsx")), engine="calamine", dtype=str)
    con.register("x", xlsx)
    con.execute(f"""
        CREATE TABLE d AS
        SELECT hwb_code, setting, discharge_destination AS dest, discharge_pathway AS pathway,
               try_cast(ready_for_discharge_date AS DATE) AS ready, try_cast(discharge_date AS DATE) AS dis
        FROM read_csv({plain}, all_varchar = true)
        UNION ALL
        SELECT "Patient HWB", "Care Setting", "Disch Dest", "Pathway", try_strptime("MFFD", '%d/%m/%Y')::DATE,
               try_strptime("Discharged", '%d/%m/%Y')::DATE FROM read_csv({rnq}, all_varchar = true)
        UNION ALL
        SELECT hwb_code, setting, discharge_destination, discharge_pathway,
               try_strptime(ready_for_discharge_date, '%d/%m/%Y')::DATE, try_cast(left(discharge_date, 10) AS DATE)
        FROM x""")
    start = PERIOD_END - dt.timedelta(days=13)
    con.execute("""
        SELECT count(*), count(*) FILTER (WHERE dest = '19'), count(ready),
               sum(date_diff('day', ready, dis)), count(*) FILTER (WHERE pathway = '1')
        FROM d WHERE hwb_code = $h AND setting = 'acute' AND dis BETWEEN $s AND $e AND coalesce(dest, '') <> '79'
    """, {"h": HWB, "s": start, "e": PERIOD_END}).fetchall()
    reab = str(next((work / "extracts").glob("reablement_*.csv")))
    con.execute(f"SELECT count(*) FROM read_csv('{reab}', all_varchar = true) "
                "WHERE start_date::DATE BETWEEN $s AND $e", {"s": start, "e": PERIOD_END}).fetchall()
    spend = str(next((work / "extracts").glob("spend_*.csv")))
    con.execute(f"SELECT scheme_id, sum(amount::DECIMAL(18,2)) FROM read_csv('{spend}', all_varchar = true) "
                "WHERE funding_source IN ('la_discharge', 'icb_discharge') AND posting_date::DATE <= $e "
                "GROUP BY 1", {"e": PERIOD_END}).fetchall()


def step_pandas(work: Path, scale: int) -> None:
    """A straightforward pandas + openpyxl fortnightly: read, filter, count, sum Decimals, write a workbook."""
    import pandas as pd
    from openpyxl import Workbook

    frames = _discharge_frames(work)
    d = pd.concat(frames, ignore_index=True)
    for col in ("ready_for_discharge_date", "discharge_date"):
        d[col] = pd.to_datetime(d[col].str.slice(0, 10), format="mixed", dayfirst=True, errors="coerce")
    start = pd.Timestamp(PERIOD_END - dt.timedelta(days=13))
    end = pd.Timestamp(PERIOD_END)
    p = d[(d.hwb_code == HWB) & (d.setting == "acute") & d.discharge_date.between(start, end)
          & (d.discharge_destination != "79")]
    ready = p[p.ready_for_discharge_date.notna()]
    delay = (ready.discharge_date - ready.ready_for_discharge_date).dt.days
    figures: dict[str, object] = {
        "total": len(p), "usual_residence": int((p.discharge_destination == "19").sum()),
        "with_ready_date": len(ready), "same_day": int((delay == 0).sum()),
        "within_48h": int(delay.between(0, 2).sum()), "delay_days": int(delay.sum()),
        **{f"pathway_{k}": int((p.discharge_pathway == k).sum()) for k in "0123"},
    }
    r = pd.read_csv(next((work / "extracts").glob("reablement_*.csv")), dtype=str, keep_default_na=False)
    starts = pd.to_datetime(r.start_date)
    figures["packages_started"] = int(starts.between(start, end).sum())
    s = pd.read_csv(next((work / "extracts").glob("spend_*.csv")), dtype=str, keep_default_na=False)
    s = s[s.funding_source.isin(["la_discharge", "icb_discharge"]) & (pd.to_datetime(s.posting_date) <= end)]
    for scheme, group in s.groupby("scheme_id"):
        figures[f"spend_{scheme}"] = sum((Decimal(a) for a in group.amount), Decimal(0))
    book = Workbook()
    sheet = book.active
    for k, v in figures.items():
        sheet.append([k, v])
    book.save(work / "pandas_fortnightly.xlsx")


def _trace(work: Path, largest: bool) -> None:
    """`bcf trace` on the quarterly return's audit pack: the figure with the most source rows, or a cover figure.
    The in-process time (pack read + filter, without interpreter start-up) goes to .trace*.seconds."""
    from bcf.audit import pack_dir
    from bcf.quarterly import Quarter
    from bcf.trace import trace

    workbook = work / "returns" / Quarter.parse(HWB, QUARTER).file_name
    figures = json.loads((pack_dir(workbook) / "manifest.json").read_text())["figures"]
    figure = max(figures, key=lambda f: f["source_rows"])["figure_id"] if largest else "q.hwb_name"
    started = time.perf_counter()
    lines = trace(workbook, figure, "csv").count("\n") - 1
    seconds = time.perf_counter() - started
    (work / f".trace{'' if largest else '_cover'}.seconds").write_text(f"{seconds:.3f} {figure} {lines}\n")


def step_trace(work: Path, scale: int) -> None:
    _trace(work, True)


def step_trace_cover(work: Path, scale: int) -> None:
    _trace(work, False)


def step_full_quarterly(work: Path, scale: int) -> None:
    data = work / "data_full"
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([str(BIN / "bcf"), "run", "quarterly", "--source", str(work / "extracts"), "--hwb", HWB,
                    "--quarter", QUARTER, "--out", str(work / "returns_full"), "--data-dir", str(data)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


STEPS = {
    "generate": step_generate, "ingest": step_ingest, "ingest_gx": step_ingest_gx,
    "fortnightly": step_fortnightly, "quarterly": step_quarterly, "full_quarterly": step_full_quarterly,
    "floor": step_floor, "pandas": step_pandas, "trace": step_trace, "trace_cover": step_trace_cover,
}
LABELS = {
    "generate": "generate", "ingest": "ingest (types only)", "ingest_gx": "ingest + GX validation",
    "fortnightly": "fortnightly return (from warehouse)", "quarterly": "quarterly return (from warehouse)",
    "full_quarterly": "**full quarterly run** (Prefect, empty warehouse)",
    "floor": "floor: bare DuckDB SQL, fortnightly figures", "pandas": "pandas + openpyxl, fortnightly figures",
    "trace": "`bcf trace`, the quarterly figure with most source rows (whole process)",
    "trace_cover": "`bcf trace`, a cover figure (whole process)",
}


def measure(step: str, work: Path, scale: int) -> tuple[float, float]:
    timing = work / f".{step}.time"
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(timing), sys.executable, __file__, "--step", step,
                    "--work", str(work), "--scale", str(scale)], check=True, env=env)
    wall, kb = timing.read_text().split()[-2:]
    return float(wall), int(kb) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--step")
    parser.add_argument("--work")
    parser.add_argument("--scale", type=int)
    parser.add_argument("--only", help="comma-separated steps to run and print (no report), e.g. "
                        "generate,ingest_gx,quarterly,trace,trace_cover")
    args = parser.parse_args()
    if args.step:
        STEPS[args.step](Path(args.work), args.scale)
        return
    if args.only:
        for scale in [int(s) for s in args.sizes.split(",")]:
            work = Path(tempfile.mkdtemp(prefix=f"bcf-bench-{scale}-"))
            for step in args.only.split(","):
                wall, gb = measure(step, work, scale)
                extra = (work / f".{step}.seconds").read_text().strip() if step.startswith("trace") else ""
                print(f"{scale:>9,} {step:<15} {wall:7.2f} s {gb:5.2f} GB {extra}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
        return
    results: dict[int, dict[str, tuple[float, float]]] = {}
    rows: dict[int, dict[str, int]] = {}
    for scale in [int(s) for s in args.sizes.split(",")]:
        work = Path(tempfile.mkdtemp(prefix=f"bcf-bench-{scale}-"))
        results[scale] = {}
        for step in STEPS:
            started = time.perf_counter()
            results[scale][step] = measure(step, work, scale)
            print(f"{scale:>9,} {step:<15} {results[scale][step][0]:7.1f} s {results[scale][step][1]:5.2f} GB "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
        import duckdb

        with duckdb.connect(str(work / "data" / "warehouse.duckdb"), read_only=True) as con:
            rows[scale] = {t: int(con.execute(f"SELECT count(*) FROM cur_{t}").fetchone()[0])  # type: ignore[index]
                           for t in ("discharges", "reablement", "spend")}
        shutil.rmtree(work, ignore_errors=True)
    write_report(Path(args.out), results, rows)


def write_report(path: Path, results: dict[int, dict[str, tuple[float, float]]],
                 rows: dict[int, dict[str, int]]) -> None:
    sizes = sorted(results)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 1024 / 1024
    lines = [
        "# Benchmarks", "",
        f"Measured {dt.date.today():%d %B %Y} with `scripts/benchmark.py` on {os.cpu_count()} cores ({cpu}), "
        f"{mem:.0f} GB RAM, Python {platform.python_version()}. Each step ran in its own process; peak memory is "
        "that process's maximum resident set. A year (2022-23) of synthetic Rutland extracts per size: "
        "`--scale` spells a year across four providers (one of them XLSX), with reablement and a ledger that "
        "grow with it.", "",
        "| rows landed | " + " | ".join(f"{s:,} spells/year" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for t in ("discharges", "reablement", "spend"):
        lines.append(f"| {t} | " + " | ".join(f"{rows[s][t]:,}" for s in sizes) + " |")
    lines += ["", "| step | " + " | ".join(f"{s:,}: time / peak" for s in sizes) + " |",
              "|---|" + "---|" * len(sizes)]
    for step in STEPS:
        lines.append(f"| {LABELS[step]} | " + " | ".join(
            f"{results[s][step][0]:.1f} s / {results[s][step][1]:.2f} GB" for s in sizes) + " |")
    lines += ["", "Ratios (time):", ""]
    for s in sizes:
        r = results[s]
        ours = r["fortnightly"][0]
        lines.append(f"- {s:,}: pandas version / our fortnightly step = {r['pandas'][0] / ours:.1f}x; "
                     f"our fortnightly step / floor = {ours / r['floor'][0]:.1f}x; "
                     f"GX adds {r['ingest_gx'][0] - r['ingest'][0]:.1f} s to ingest; "
                     f"full quarterly run {r['full_quarterly'][0]:.1f} s at {r['full_quarterly'][1]:.2f} GB.")
    lines += ["", "Raw figures (seconds, GB):", "", "```", json.dumps(
        {str(s): {k: [round(v[0], 2), round(v[1], 3)] for k, v in results[s].items()} for s in sizes}, indent=1),
        "```", ""]
    # keep the hand-written analysis below the marker across re-runs
    marker = "<!-- analysis: kept across re-runs -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index(marker):] if marker in old else marker + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + notes, encoding="utf-8")
    print(f"written {path}")


if __name__ == "__main__":
    main()

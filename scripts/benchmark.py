"""Benchmark (issue 14): bcf against the bare-DuckDB floor and a pandas script, on the issue's source at any size.

    .venv/bin/python scripts/benchmark.py --discharges 10000                 # the issue's composition, 10k discharges
    .venv/bin/python scripts/benchmark.py                                    # scale 1: 1,860,600 discharges
    .venv/bin/python scripts/benchmark.py --scale 8.6 --only floor,bcf_fortnightly_empty --repeats 1   # ~16M a year
    .venv/bin/python scripts/benchmark.py --work /tmp/src --breakdown-only   # where bcf's time goes, once

The source (built once per --work, reused when it is there) has the issue's composition at --scale 1: discharges as
one CSV of 1,515,300 rows (canonical layout, ISO dates) and one trust XLSX of 345,300 rows (dd/mm/yyyy, codes as
numbers), reablement 340,800 rows, a ledger of 147,300 rows and a plan. bcf.synthetic makes a base year for Rutland
and the rows are replicated with a replica suffix on their ids (so nothing is a duplicate) to reach the sizes fast.
Above 1,048,576 rows the XLSX part is split over several workbooks (an Excel sheet cannot hold more).

Every run is its own process, timed from start to exit; its memory is the peak, sampled every 50 ms, over it and every
process it starts (bcf's worker process, and a temporary Prefect server where one is started) of their private
memory summed plus the largest file-backed resident set among them (see `measure`).
The measured steps run interleaved — round 1 of every step, then round 2, ... — and the medians are printed:
- floor: the fortnightly df.* discharge, package and spend figures as bare DuckDB SQL (read_csv over the CSV, the
  XLSX parsed with python-calamine);
- floor_quarterly: the quarterly return's own floor (scripts/quarterly_floor.py): every q.* figure and its lineage
  rows from the files, in bare DuckDB, lineage written as Parquet; `bcf run quarterly` is reported against it;
- pandas: a competent pandas + openpyxl script computing the same figures and writing a one-sheet workbook;
- bcf_fortnightly_empty / bcf_quarterly_empty: `bcf run ...` end to end from an empty warehouse;
- bcf_fortnightly_next: the next fortnight on the warehouse the empty fortnightly run left (files already landed).
Then one breakdown in a child process: the same plain functions the flows call, each timed (see `breakdown`).

Other steps can be added to STEPS (name -> function(work, repeat_dir) run in the child); keep them side-effect free
outside `repeat_dir`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HWB = "E06000017"
YEAR = (dt.date(2022, 4, 1), dt.date(2023, 3, 31))
TAG = "20220401_20230331"
FIRST_END = dt.date(2023, 3, 16)  # the fortnight run into an empty warehouse
NEXT_END = dt.date(2023, 3, 30)  # the next fortnight, same warehouse
QUARTER = "2022-23-Q4"
BIN = Path(sys.executable).parent
# the source at --scale 1
COMPOSITION = {"csv": 1_515_300, "xlsx": 345_300, "reablement": 340_800, "spend": 147_300}
XLSX_MAX_ROWS = 1_048_575  # data rows under the header
SPEND_ROWS_PER_SPELL = 0.0294  # bcf.synthetic's ledger: ~29,400 rows at 1,000,000 spells a year


# ---------- the source ----------

def _tile(frame, n: int, id_col: str, offset: int = 0):  # type: ignore[no-untyped-def]
    """n rows cycling through frame; copies after the first get '-r<k>' on their id so ids stay unique."""
    import numpy as np

    idx = np.arange(offset, offset + n)
    out = frame.iloc[idx % len(frame)].reset_index(drop=True)
    rep = idx // len(frame)
    suffix = np.where(rep > 0, np.char.add("-r", rep.astype(str)), "")
    out[id_col] = out[id_col].to_numpy(dtype=str) + suffix
    return out


def build_source(out: Path, scale: float) -> dict[str, int]:
    import numpy as np

    from bcf.devtools import synthetic as syn

    target = {k: max(int(round(v * scale)), 20) for k, v in COMPOSITION.items()}
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(14)
    base_spells = min(target["csv"] + target["xlsx"], 200_000)
    spells = syn.make_discharges(rng, HWB, *YEAR, base_spells)
    reab = syn.make_reablement(rng, spells, HWB, *YEAR)
    for col in ("hospital_discharge_date", "start_date", "end_date"):
        reab[col] = syn._iso(syn.pd.to_datetime(reab[col]))
    # plan and ledger sized together so the ledger's spend stays within the plan's income
    plan_scale = max(int(target["spend"] / SPEND_ROWS_PER_SPELL), syn.BASE_SCALE)
    plan = syn.plan_tables(HWB, *YEAR, plan_scale, spells, rng)
    syn.write_plan(plan, out / f"plan_{HWB.lower()}.xlsx")
    spend = syn.make_spend(rng, plan["schemes"], HWB, *YEAR, plan_scale)
    _tile(spend, target["spend"], "transaction_id").to_csv(out / f"spend_{HWB.lower()}_{TAG}.csv", index=False)
    _tile(reab, target["reablement"], "episode_id").to_csv(out / f"reablement_{HWB.lower()}_{TAG}.csv", index=False)

    canonical = spells.assign(provider_code="RWE")
    for col in ("admission_date", "ready_for_discharge_date", "discharge_date"):
        canonical[col] = syn._iso(canonical[col])
    csv_path = out / f"discharges_rwe_{TAG}.csv"
    chunk = len(canonical) * 4
    for start in range(0, target["csv"], chunk):  # in chunks: a 16M-a-year CSV is not held in memory at once
        part = _tile(canonical, min(chunk, target["csv"] - start), "spell_id", start)
        part.to_csv(csv_path, index=False, header=start == 0, mode="w" if start == 0 else "a")
    # the trust's patients are other people: a copy of the same stays would make every trust row a cross-provider
    # duplicate spell (1.5M warnings at scale 1), which no real pair of extracts has
    others = syn.valid_nhs_numbers(rng, len(spells))
    trust = spells.assign(provider_code="RGN",
                          nhs_number=np.where(spells["nhs_number"] == "", "", others[: len(spells)]))
    parts = range(0, target["xlsx"], XLSX_MAX_ROWS)
    for i, start in enumerate(parts, start=1):
        name = f"discharges_rgn_{TAG}.xlsx" if len(parts) == 1 else f"discharges_rgn_{i}_{TAG}.xlsx"
        syn._write_provider_xlsx(_tile(trust, min(XLSX_MAX_ROWS, target["xlsx"] - start), "spell_id", start),
                                 out / name)
    return target


# ---------- the measured steps (each runs in its own child process) ----------

# The sources measured (issue 25): the clean one, and ones like real extracts (scripts/bench_faults.py) with that
# share of rows rejected. A step reads the one named by BENCH_SOURCE, which main sets for each child.
SOURCES = {"clean": None, "real": 0.01, "real20": 0.2}


def _src(work: Path) -> Path:
    kind = os.environ.get("BENCH_SOURCE", "clean")
    return work / ("source" if kind == "clean" else f"source-{kind}")


def step_floor(work: Path, rep: Path) -> None:
    """Bare DuckDB: the fortnightly df.* discharge, package and spend figures straight from the files."""
    import duckdb
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    src = _src(work)
    con = duckdb.connect()
    names = ["setting", "hwb_code", "ready_for_discharge_date", "discharge_date", "discharge_destination",
             "discharge_pathway"]
    cols: dict[str, list[str | None]] = {n: [] for n in names}
    for path in sorted(src.glob("discharges_*.xlsx")):
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        where = [rows[0].index(n) for n in names]
        for n, i in zip(names, where, strict=True):
            cols[n].extend(None if r[i] in ("", None) else str(r[i]) for r in rows[1:])
    x = pa.table({n: pa.array(v, pa.string()) for n, v in cols.items()})  # noqa: F841 (scanned by DuckDB)
    csvs = [str(p) for p in sorted(src.glob("discharges_*.csv")) if not p.name.startswith("discharges_rnq")]
    # Kettering's layout (config/suppliers/rnq_kettering.toml), dates dd/mm/yyyy: only in the realistic sources
    rnq = [str(p) for p in sorted(src.glob("discharges_rnq*.csv"))]
    kettering = "" if not rnq else f"""
        UNION ALL
        SELECT "Patient HWB", "Care Setting", "Disch Dest", "Pathway",
               try_strptime("MFFD", '%d/%m/%Y')::DATE, try_strptime("Discharged", '%d/%m/%Y')::DATE
        FROM read_csv({rnq}, all_varchar = true)"""
    con.execute(f"""
        CREATE TABLE d AS
        SELECT hwb_code, setting, discharge_destination AS dest, discharge_pathway AS pathway,
               try_strptime(ready_for_discharge_date, '%Y-%m-%d')::DATE AS ready,
               try_strptime(discharge_date, '%Y-%m-%d')::DATE AS dis
        FROM read_csv({csvs}, all_varchar = true){kettering}
        UNION ALL
        SELECT hwb_code, setting, discharge_destination, discharge_pathway,
               try_strptime(ready_for_discharge_date, '%d/%m/%Y')::DATE, try_cast(left(discharge_date, 10) AS DATE)
        FROM x""")
    start, end = NEXT_END - dt.timedelta(days=13), NEXT_END
    figures = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE dest = '19'), count(ready), sum(date_diff('day', ready, dis)),
               count(*) FILTER (WHERE pathway = '0'), count(*) FILTER (WHERE pathway = '1'),
               count(*) FILTER (WHERE pathway = '2'), count(*) FILTER (WHERE pathway = '3')
        FROM d WHERE hwb_code = $h AND setting = 'acute' AND dis BETWEEN $s AND $e AND coalesce(dest, '') <> '79'
    """, {"h": HWB, "s": start, "e": end}).fetchall()
    reab = str(next(src.glob("reablement_*.csv")))
    figures += con.execute(f"SELECT count(*) FROM read_csv('{reab}', all_varchar = true) "
                           "WHERE try_strptime(start_date, '%Y-%m-%d')::DATE BETWEEN $s AND $e",
                           {"s": start, "e": end}).fetchall()
    spend = str(next(src.glob("spend_*.csv")))
    figures += con.execute(f"SELECT scheme_id, sum(amount::DECIMAL(18,2)) FROM read_csv('{spend}', all_varchar = true) "
                           "WHERE funding_source IN ('la_discharge', 'icb_discharge') AND posting_date::DATE <= $e "
                           "GROUP BY 1 ORDER BY 1", {"e": end}).fetchall()
    (rep / "floor.json").write_text(json.dumps(figures, default=str))


def step_floor_quarterly(work: Path, rep: Path) -> None:
    """Bare DuckDB: the quarterly return's figures and lineage rows straight from the files (the quarterly's own
    floor, scripts/quarterly_floor.py), written as figures.json and lineage.parquet."""
    from quarterly_floor import quarterly_floor

    quarterly_floor(_src(work), HWB, QUARTER, rep / "floor_quarterly")


def step_pandas(work: Path, rep: Path) -> None:
    """A competent pandas + openpyxl script: read, filter, count, sum Decimals, write a workbook. Figures only."""
    from decimal import Decimal

    import pandas as pd
    from openpyxl import Workbook, load_workbook

    src = _src(work)
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(src.glob("discharges_*.csv"))]
    for path in sorted(src.glob("discharges_*.xlsx")):
        sheet = load_workbook(path, read_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        x = pd.DataFrame.from_records(rows, columns=header)
        x["discharge_date"] = pd.to_datetime(x["discharge_date"]).dt.strftime("%Y-%m-%d")
        x["ready_for_discharge_date"] = pd.to_datetime(x["ready_for_discharge_date"], format="%d/%m/%Y",
                                                       errors="coerce").dt.strftime("%Y-%m-%d")
        for col in ("discharge_destination", "discharge_pathway"):
            x[col] = x[col].astype(str)
        frames.append(x)
    d = pd.concat(frames, ignore_index=True)
    for col in ("ready_for_discharge_date", "discharge_date"):
        d[col] = pd.to_datetime(d[col], format="%Y-%m-%d", errors="coerce")
    start, end = pd.Timestamp(NEXT_END - dt.timedelta(days=13)), pd.Timestamp(NEXT_END)
    p = d[(d.hwb_code == HWB) & (d.setting == "acute") & d.discharge_date.between(start, end)
          & (d.discharge_destination != "79")]
    ready = p[p.ready_for_discharge_date.notna()]
    delay = (ready.discharge_date - ready.ready_for_discharge_date).dt.days
    figures: dict[str, object] = {
        "total": len(p), "usual_residence": int((p.discharge_destination == "19").sum()),
        "with_ready_date": len(ready), "delay_days": int(delay.sum()),
        **{f"pathway_{k}": int((p.discharge_pathway == k).sum()) for k in "0123"},
    }
    r = pd.read_csv(next(src.glob("reablement_*.csv")), dtype=str, keep_default_na=False)
    figures["packages_started"] = int(pd.to_datetime(r.start_date).between(start, end).sum())
    s = pd.read_csv(next(src.glob("spend_*.csv")), dtype=str, keep_default_na=False)
    s = s[s.funding_source.isin(["la_discharge", "icb_discharge"]) & (pd.to_datetime(s.posting_date) <= end)]
    for scheme, group in s.groupby("scheme_id"):
        figures[f"spend_{scheme}"] = sum((Decimal(a) for a in group.amount), Decimal(0))
    book = Workbook()
    for k, v in figures.items():
        book.active.append([k, v])
    book.save(rep / "pandas_fortnightly.xlsx")


def _bcf(work: Path, args: list[str], data: Path, out: Path, source: Path | None = None,
         prefect: bool = False) -> None:
    argv = [str(BIN / "bcf"), "run", *args, "--source", str(source or _src(work)), "--hwb", HWB, "--out", str(out),
            "--data-dir", str(data)]
    env = child_env(work / "prefect-home")
    if prefect:  # as a Prefect flow: with no server configured, Prefect starts (and stops) a temporary one
        env["BCF_ORCHESTRATION"] = "prefect"
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    if result.returncode != 0 and "attempting to connect to ephemeral" in result.stderr:
        # a loaded machine can miss Prefect's temporary-server start timeout; the retry is part of the timing
        print("note: the temporary Prefect server did not start in time; retried", file=sys.stderr)
        result = subprocess.run(argv, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"bcf run {args} exited {result.returncode}:\n{result.stdout[-3000:]}\n"
                         f"{result.stderr[-3000:]}")


def step_bcf_fortnightly_empty(work: Path, rep: Path) -> None:
    _bcf(work, ["fortnightly", "--period-end", FIRST_END.isoformat()], rep / "data", rep / "returns")


def step_bcf_fortnightly_next(work: Path, rep: Path) -> None:
    _bcf(work, ["fortnightly", "--period-end", NEXT_END.isoformat()], rep / "data", rep / "returns")


def step_bcf_quarterly_empty(work: Path, rep: Path) -> None:
    _bcf(work, ["quarterly", "--quarter", QUARTER], rep / "data", rep / "returns")


def _trace(rep: Path, largest: bool) -> None:
    """`bcf trace --format csv` on the quarterly return's audit pack (a seed made untimed, see _prepare_round): the
    figure with the most source rows, or a cover figure. The whole process is timed, start-up included."""
    workbook = next((rep / "returns").glob("bcf_quarterly_*.xlsx"))
    manifest = json.loads((workbook.with_name(workbook.stem + ".audit") / "manifest.json").read_text())
    figure = max(manifest["figures"], key=lambda f: f["source_rows"])["figure_id"] if largest else "q.hwb_name"
    subprocess.run([str(BIN / "bcf"), "trace", str(workbook), figure, "--format", "csv"], check=True,
                   stdout=subprocess.DEVNULL, env=child_env(rep / "prefect-home"))


def _hwb_source(work: Path) -> Path:
    """One HWB's demo source (what `bcf demo` generates: Rutland, a year, 10,000 spells), made once, untimed (in
    _prepare_round: a step that made it, or only imported what makes it, would time pandas' import too)."""
    src = work / "hwb-source"
    if (src / ".built").exists():
        return src
    from bcf.cli.commands import DEMO_FROM, DEMO_HWB, DEMO_SCALE, DEMO_SEED
    from bcf.devtools.synthetic import generate

    shutil.rmtree(src, ignore_errors=True)
    generate(DEMO_HWB, DEMO_FROM, DEMO_FROM + dt.timedelta(days=364), DEMO_SCALE, DEMO_SEED, src)
    (src / ".built").write_text("ok")
    return src


def step_hwb_run(work: Path, rep: Path) -> None:
    _bcf(work, ["fortnightly", "--period-end", "2023-03-30"], rep / "data", rep / "returns", _hwb_source(work))


def step_hwb_run_prefect(work: Path, rep: Path) -> None:
    _bcf(work, ["fortnightly", "--period-end", "2023-03-30"], rep / "data", rep / "returns", _hwb_source(work),
         prefect=True)


def step_hwb_validate(work: Path, rep: Path) -> None:
    subprocess.run([str(BIN / "bcf"), "validate", "--source", str(_hwb_source(work))], check=True,
                   stdout=subprocess.DEVNULL, env=child_env(work / "prefect-home"))


def step_trace_largest(work: Path, rep: Path) -> None:
    _trace(rep, True)


def step_trace_cover(work: Path, rep: Path) -> None:
    _trace(rep, False)


STEPS: dict[str, Callable[[Path, Path], None]] = {
    "floor": step_floor, "floor_quarterly": step_floor_quarterly, "pandas": step_pandas,
    "bcf_fortnightly_empty": step_bcf_fortnightly_empty,
    "bcf_fortnightly_next": step_bcf_fortnightly_next, "bcf_quarterly_empty": step_bcf_quarterly_empty,
    "trace_largest": step_trace_largest, "trace_cover": step_trace_cover,
    # hwb_next is the same run, on a copy of the warehouse its fortnight before left (_prepare_round)
    "hwb_run": step_hwb_run, "hwb_next": step_hwb_run, "hwb_run_prefect": step_hwb_run_prefect,
    "hwb_validate": step_hwb_validate,
}
LABELS = {
    "floor": "floor: bare DuckDB SQL + python-calamine (df.* figures)",
    "floor_quarterly": "quarterly floor: bare DuckDB + python-calamine (q.* figures, lineage)",
    "pandas": "pandas + openpyxl script (figures only)",
    "bcf_fortnightly_empty": "`bcf run fortnightly`, empty warehouse",
    "bcf_fortnightly_next": "`bcf run fortnightly`, next fortnight, same warehouse",
    "bcf_quarterly_empty": "`bcf run quarterly`, empty warehouse",
    "trace_largest": "`bcf trace`, the quarterly figure with the most source rows (whole process)",
    "trace_cover": "`bcf trace`, a cover figure (whole process)",
    "hwb_run": "one HWB's demo source: `bcf run fortnightly`, empty warehouse",
    "hwb_next": "one HWB's demo source: `bcf run fortnightly`, next fortnight, same warehouse",
    "hwb_run_prefect": "one HWB's demo source: the same as a Prefect flow (temporary server)",
    "hwb_validate": "one HWB's demo source: `bcf validate`",
}


def _prepare_round(step: str, work: Path, rep: Path) -> None:
    """Untimed set-up: the next-fortnight run starts from a copy of a warehouse the empty run left; the trace steps
    read a quarterly run's pack; the one-HWB steps need the demo source."""
    shutil.rmtree(rep, ignore_errors=True)
    rep.mkdir(parents=True)
    if step == "bcf_fortnightly_next":
        seed = work / "rounds" / f"next-seed-{os.environ.get('BENCH_SOURCE', 'clean')}"
        if not (seed / ".done").exists():  # a seed left by an interrupted run is made again
            shutil.rmtree(seed, ignore_errors=True)
            seed.mkdir(parents=True)
            step_bcf_fortnightly_empty(work, seed)
            (seed / ".done").touch()
        shutil.copytree(seed / "data", rep / "data")
        shutil.copytree(seed / "returns", rep / "returns")
    if step.startswith("trace_"):
        seed = work / "rounds" / f"quarterly-seed-{os.environ.get('BENCH_SOURCE', 'clean')}"
        if not (seed / ".done").exists():
            shutil.rmtree(seed, ignore_errors=True)
            seed.mkdir(parents=True)
            step_bcf_quarterly_empty(work, seed)
            (seed / ".done").touch()
        shutil.copytree(seed / "returns", rep / "returns")
    if step.startswith("hwb_"):
        _hwb_source(work)
    if step == "hwb_next":
        seed = work / "rounds" / "hwb-next-seed"
        if not (seed / ".done").exists():
            shutil.rmtree(seed, ignore_errors=True)
            seed.mkdir(parents=True)
            _bcf(work, ["fortnightly", "--period-end", "2023-03-16"], seed / "data", seed / "returns",
                 _hwb_source(work))
            (seed / ".done").touch()
        shutil.copytree(seed / "data", rep / "data")
        shutil.copytree(seed / "returns", rep / "returns")


def _free_gb() -> float:
    """MemFree: memory neither used nor holding cached files."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemFree:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def child_env(prefect_home: Path) -> dict[str, str]:
    """No PREFECT_API_URL and no BCF_ORCHESTRATION (so `bcf run` runs in its own process, as on an officer's laptop
    with no Prefect server; the *_prefect steps ask for a flow run, and Prefect then starts its temporary server); a
    Prefect home of the benchmark's own (engineers sharing ~/.prefect's SQLite file slow each other down); and a
    longer temporary-server start timeout than Prefect's 20 s, which a loaded shared machine can miss; leave to use
    the development pseudonym key, as the source is synthetic."""
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(prefect_home),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
           "BCF_ALLOW_DEVELOPMENT_KEY": "1"}  # synthetic data only: the documented development key is allowed
    env.pop("BCF_ORCHESTRATION", None)
    env.pop("PREFECT_API_URL", None)
    return env


def measure(argv: list[str], prefect_home: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (GB) of one child process with every process it starts (bcf's worker, a
    temporary Prefect server), sampled every 50 ms: the peak of their private memory summed (RssAnon + RssShmem:
    nothing of it is shared between them) plus the largest file-backed resident set of any one of them (mostly
    the same shared libraries in each: counted once). /proc/<pid>/status is cheap to read; the exact PSS
    (smaps_rollup) walks every page table and slowed the runs it measured."""
    env = child_env(prefect_home)
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env)
    peak_kb = 0
    while process.poll() is None:
        sizes = [_resident_kb(pid) for pid in _tree(process.pid)]
        peak_kb = max(peak_kb, sum(private for private, _ in sizes) + max((file for _, file in sizes), default=0))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, argv)
    return seconds, peak_kb / 1024 / 1024


def _tree(root: int) -> list[int]:
    """The process and all its descendants, from each process's parent in /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])  # after the command name, which may hold ')'
            except (OSError, IndexError, ValueError):  # it ended while we looked
                continue
            children.setdefault(parent, []).append(int(entry))
    found, i = [root], 0
    while i < len(found):
        found.extend(children.get(found[i], []))
        i += 1
    return found


def _resident_kb(pid: int) -> tuple[int, int]:
    """(private: RssAnon + RssShmem, file-backed: RssFile) of one process, in kB."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                if name in ("RssAnon", "RssFile", "RssShmem"):
                    fields[name] = int(value.split()[0])
    except OSError:  # it ended while we looked
        pass
    return fields.get("RssAnon", 0) + fields.get("RssShmem", 0), fields.get("RssFile", 0)


# ---------- where bcf's time goes (one child process, the flows' plain functions timed step by step) ----------

def breakdown(work: Path, rep: Path) -> None:
    timings: list[tuple[str, float]] = []

    def timed(label: str, fn: Callable, *args, **kwargs):  # type: ignore[no-untyped-def,type-arg]
        t = time.perf_counter()
        value = fn(*args, **kwargs)
        timings.append((label, time.perf_counter() - t))
        print(f"  {label:<78} {timings[-1][1]:7.2f} s", flush=True)  # as it goes: a long run shows progress
        return value

    t0 = time.perf_counter()
    import prefect  # noqa: F401

    timings.append(("import prefect", time.perf_counter() - t0))
    t0 = time.perf_counter()
    import bcf.ingest.prepare_file as prepare
    import bcf.ingest.stage_file as ingest
    from bcf.core.dates import Fortnight
    from bcf.ingest.sources import land, list_source, staging_key
    from bcf.returns import build as returns
    from bcf.returns.pack import RunInfo
    from bcf.transforms.validate import RowValidator
    from bcf.warehouse import db

    timings.append(("import bcf (duckdb, pandas)", time.perf_counter() - t0))
    t0 = time.perf_counter()
    from bcf.transforms.gx_import import import_gx

    import_gx()  # as a run imports it (scipy.stats on first use)
    timings.append(("import great_expectations", time.perf_counter() - t0))
    validator = timed("GX context + suites", RowValidator)

    current = {"file": ""}

    def wrap(module, name: str, stage: str) -> None:  # type: ignore[no-untyped-def]
        fn = getattr(module, name)

        def inner(*a, **k):  # type: ignore[no-untyped-def]
            return timed(f"{current['file']}: {stage}", fn, *a, **k)
        setattr(module, name, inner)

    wrap(prepare, "read_csv", "read")
    wrap(prepare, "read_xlsx", "read")
    wrap(prepare, "parse", "parse (types, row hashes, pseudonyms)")
    wrap(validator, "check", "GX validate")
    wrap(prepare, "_split", "split loaded/rejected")
    wrap(db, "insert_frame", "stage (DuckDB insert)")

    data = rep / "data"
    with db.connect(data / "warehouse.duckdb") as con:
        for obj in sorted(list_source(str(_src(work))), key=staging_key):
            current["file"] = obj.name
            landed = timed(f"{obj.name}: land (copy + sha256)", land, obj, data / "landing")
            t = time.perf_counter()
            ingest.stage_file(con, obj, landed, "bench", b"bench-key", validator, dt.date(2023, 4, 1))
            timings.append((f"{obj.name}: stage_file total", time.perf_counter() - t))

        import bcf.returns.produce as produce_mod

        current["file"] = "return"
        wrap(produce_mod.return_findings, "collect", "findings on files + cross-source checks")
        wrap(produce_mod, "blocking", "blocking check")
        wrap(produce_mod, "write_pack", "audit pack")
        period = Fortnight.ending(FIRST_END)
        compute = returns.fortnightly(HWB, period)

        def write(*a, **k):  # type: ignore[no-untyped-def]
            return timed("return: workbook", computed_write[0], *a, **k)

        computed_write: list[Callable] = []  # type: ignore[type-arg]

        def figures(c):  # type: ignore[no-untyped-def]
            computed = timed("return: figures", compute, c)
            computed_write.append(computed.write)
            computed.write = write
            return computed

        run = RunInfo("bench", "fortnightly", None, {}, dt.datetime.now(dt.UTC).isoformat())
        t = time.perf_counter()
        produce_mod.produce(con, HWB, period.params(HWB), rep / "returns" / period.file_name(HWB), run, figures)
        timings.append(("return: produce total", time.perf_counter() - t))
    (rep / "breakdown.json").write_text(json.dumps(timings))


def prefect_server(work: Path, rep: Path) -> None:
    """An empty flow with no PREFECT_API_URL: what the temporary server costs (start, run, stop)."""
    from prefect import flow

    @flow
    def empty() -> None:
        return None

    t = time.perf_counter()
    empty()
    (rep / "prefect.json").write_text(json.dumps({"flow_call": time.perf_counter() - t}))


CHILD = {**STEPS, "breakdown": breakdown, "prefect_server": prefect_server}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's 1,860,600 discharge rows")
    parser.add_argument("--discharges", type=int, help="total discharge rows instead of --scale")
    parser.add_argument("--work", help="folder for the source and the runs (reused when the source is there)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="comma-separated steps (default all): " + ",".join(STEPS))
    parser.add_argument("--no-breakdown", action="store_true")
    parser.add_argument("--breakdown-only", action="store_true")
    parser.add_argument("--json", help="write the raw figures here")
    parser.add_argument("--sources", default="real,clean",
                        help="sources measured, interleaved, the first the headline: " + ",".join(SOURCES)
                        + " (real: like real extracts, ~1%% of rows rejected; real20: 20%% rejected; "
                          "see scripts/bench_faults.py)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--rep", help=argparse.SUPPRESS)
    args = parser.parse_args()
    scale = args.discharges / sum(COMPOSITION[k] for k in ("csv", "xlsx")) if args.discharges else args.scale
    work = Path(args.work or f"/tmp/bcf-bench-{scale:g}").resolve()
    if args.step:
        CHILD[args.step](work, Path(args.rep))
        return

    if not (work / "source" / ".built").exists():
        t = time.perf_counter()
        shutil.rmtree(work / "source", ignore_errors=True)
        counts = build_source(work / "source", scale)
        (work / "source" / ".built").write_text(json.dumps(counts))
        print(f"built {work / 'source'} in {time.perf_counter() - t:.0f} s: {counts}", flush=True)
    counts = json.loads((work / "source" / ".built").read_text())
    sources = args.sources.split(",")
    for kind in sources:
        made = work / f"source-{kind}"
        if SOURCES[kind] is not None and not (made / ".built").exists():
            from bench_faults import make_realistic

            t = time.perf_counter()
            planted = make_realistic(work / "source", made, reject=SOURCES[kind])
            (made / ".built").write_text(json.dumps(planted))
            print(f"built {made} in {time.perf_counter() - t:.0f} s: {planted}", flush=True)
    print(f"source {work / 'source'}: {counts} (discharges {counts['csv'] + counts['xlsx']:,}); free memory "
          f"{_free_gb():.1f} GB (with less than a few GB free, expect slower, noisier rounds: drop the page cache "
          f"first where you may)", flush=True)

    def child(step: str, rep: Path) -> tuple[float, float]:
        return measure([sys.executable, __file__, "--work", str(work), "--step", step, "--rep", str(rep)],
                       work / "prefect-home")

    results: dict[str, list[tuple[float, float]]] = {}
    steps = [] if args.breakdown_only else (args.only.split(",") if args.only else list(STEPS))
    for r in range(1, args.repeats + 1):
        for kind in sources:
            os.environ["BENCH_SOURCE"] = kind  # the child (and _prepare_round's seeds) read this source
            for step in steps:
                if kind != sources[0] and step.startswith("hwb_"):
                    continue  # one HWB's demo source is the same for every kind
                rep = work / "rounds" / f"{step}-{kind}-{r}"
                _prepare_round(step, work, rep)
                seconds, gb = child(step, rep)
                # its outputs go at once: files a sitting leaves fill the page cache (a quarterly writes ~1 GB), and
                # a machine with no free memory reclaims as it allocates, which showed as seconds of system time
                shutil.rmtree(rep, ignore_errors=True)
                name = step if kind == sources[0] else f"{step}@{kind}"
                results.setdefault(name, []).append((seconds, gb))
                print(f"round {r} {name:<30} {seconds:7.1f} s {gb:5.2f} GB  (free memory after: {_free_gb():.1f} GB)",
                      flush=True)
    os.environ["BENCH_SOURCE"] = sources[0]
    summary = {s: {"median_s": statistics.median(x[0] for x in v), "median_peak_gb": statistics.median(x[1] for x in v),
                   "runs": v} for s, v in results.items()}
    if summary:
        print(f"\nmedians of {args.repeats} interleaved runs ({counts['csv'] + counts['xlsx']:,} discharge rows; "
              f"source '{sources[0]}' first, the headline):")
        for s, v in summary.items():
            step, _, kind = s.partition("@")
            # each source against its own floor, and the quarterly against the quarterly's floor where measured
            base = "floor_quarterly" if step.startswith(("bcf_quarterly", "floor_quarterly")) else "floor"
            floor = summary.get(base + (f"@{kind}" if kind else ""), {}).get("median_s")
            ratio = f"{v['median_s'] / floor:5.1f}x {base}" if floor else ""
            label = LABELS.get(step, step) + (f" [{kind}]" if kind else f" [{sources[0]}]")
            print(f"  {label:<70} {v['median_s']:7.1f} s  {v['median_peak_gb']:5.2f} GB  {ratio}")

    out: dict[str, object] = {"source": counts, "summary": summary}
    if not args.no_breakdown:
        rep = work / "rounds" / "breakdown"
        _prepare_round("breakdown", work, rep)
        seconds, gb = child("breakdown", rep)
        timings = json.loads((rep / "breakdown.json").read_text())
        _prepare_round("prefect_server", work, rep / "p")
        p_seconds, _ = child("prefect_server", rep / "p")
        flow_call = json.loads((rep / "p" / "prefect.json").read_text())["flow_call"]
        print(f"\nwhere bcf's time goes (one run, plain functions in one process: {seconds:.1f} s, {gb:.2f} GB):")
        summed: dict[str, list[float]] = {}  # a table staged in parts (or a plan's sheets) times each call
        for label, t in timings:
            summed.setdefault(label, []).append(t)
        for label, ts in summed.items():
            calls = f" ({len(ts)} calls)" if len(ts) > 1 else ""
            print(f"  {label:<78} {sum(ts):7.2f} s{calls}")
        print(f"  {'temporary Prefect server: an empty flow (start, run, stop)':<78} {flow_call:7.2f} s "
              f"(process {p_seconds:.1f} s)")
        out["breakdown"] = {"process_s": seconds, "peak_gb": gb, "steps": timings, "prefect_empty_flow_s": flow_call,
                            "prefect_process_s": p_seconds}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

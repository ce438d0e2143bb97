"""The `bcf` command line (shared/spec/cli.md). Exit codes: 0 done, 1 data blocked the return, 2 usage/config error."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2

DEMO_HWB = "E06000017"  # Rutland
DEMO_FROM, DEMO_TO = dt.date(2022, 4, 1), dt.date(2023, 3, 31)
DEMO_SCALE, DEMO_SEED = 10_000, 2023


class UsageError(Exception):
    pass


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (yyyy-mm-dd): {text}") from exc


def _data_dir(args: argparse.Namespace) -> Path:
    from bcf.settings import settings

    return Path(args.data_dir or os.environ.get("BCF_DATA_DIR") or settings()["pipeline"]["data_dir"])


def _step(message: str) -> float:
    print(f"... {message}", flush=True)
    return time.perf_counter()


def _done(started: float, message: str = "done") -> None:
    print(f"    {message} in {time.perf_counter() - started:.1f} s", flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from bcf.synthetic import generate

    started = _step(f"generating {args.scale:,} spells/year for {args.hwb}, {args.date_from} to {args.date_to}")
    try:
        counts = generate(args.hwb, args.date_from, args.date_to, args.scale, args.seed, Path(args.out))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    _done(started, ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    print(f"extracts and plan written to {args.out}")
    return EXIT_OK


def print_landed(data_dir: Path) -> None:
    from flows.ingest import warehouse_path
    from warehouse import db

    with db.connect(warehouse_path(data_dir), read_only=True) as con:
        summary = db.query(con, "landed_summary")
    print("\nWhat the warehouse holds (files in force):")
    print(summary.to_string(index=False))


def _print_ingest(report) -> None:  # type: ignore[no-untyped-def]
    print(f"\nRun {report.run_id} read {len(report.files)} file(s) from {report.source}:")
    for r in report.files:
        print(f"  {r.name:<45} {r.outcome:<17} received {r.rows_received:>9,}  loaded {r.rows_loaded:>9,}  "
              f"rejected {r.rows_rejected:>7,}")
    if report.development_key:
        print("  (pseudonymised with the documented development key: set BCF_PSEUDONYM_KEY for real extracts)")


def cmd_ingest(args: argparse.Namespace) -> int:
    from flows.ingest import ingest_flow

    data_dir = _data_dir(args)
    report = ingest_flow(source=args.source, data_dir=str(data_dir))
    _print_ingest(report)
    print_landed(data_dir)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from bcf.synthetic import generate
    from flows.ingest import ingest_flow

    out = Path(args.out)
    extracts = out / "extracts"
    data_dir = out / "data"
    started = _step(f"1/2 generating a year of synthetic extracts for Rutland ({DEMO_HWB}) into {extracts}")
    counts = generate(DEMO_HWB, DEMO_FROM, DEMO_TO, DEMO_SCALE, DEMO_SEED, extracts)
    _done(started, ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    started = _step(f"2/2 ingesting into {data_dir / 'warehouse.duckdb'} (Prefect flow ingest-extracts)")
    report = ingest_flow(source=str(extracts), data_dir=str(data_dir))
    _done(started)
    _print_ingest(report)
    print_landed(data_dir)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bcf", description="Better Care Fund and Discharge Fund returns pipeline")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate a synthetic year for Rutland and run the pipeline on it")
    demo.add_argument("--out", default="bcf-demo", help="folder for extracts, warehouse, returns (default bcf-demo)")
    demo.set_defaults(func=cmd_demo)

    gen = sub.add_parser("generate", help="write synthetic extracts and a plan")
    gen.add_argument("--hwb", required=True)
    gen.add_argument("--from", dest="date_from", type=_date, required=True)
    gen.add_argument("--to", dest="date_to", type=_date, required=True)
    gen.add_argument("--scale", type=int, default=10_000, help="discharges (hospital spells) per year")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", required=True)
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="land and stage a source (folder or s3://bucket/prefix/)")
    ing.add_argument("--source", required=True)
    ing.add_argument("--data-dir", help="warehouse and landing area (default: BCF_DATA_DIR or ./bcf_data)")
    ing.set_defaults(func=cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    try:
        return int(args.func(args))
    except (UsageError, FileNotFoundError) as exc:
        print(f"bcf: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

"""The `bcf` command line's parser: every command, its options, and the function that runs it."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from bcf.cli.commands import (
    cmd_automations,
    cmd_backfill,
    cmd_briefing,
    cmd_cellmap,
    cmd_demo,
    cmd_deploy,
    cmd_generate,
    cmd_ingest,
    cmd_reproduce,
    cmd_run_fortnightly,
    cmd_run_icb,
    cmd_run_quarterly,
    cmd_serve,
    cmd_trace,
    cmd_validate,
    cmd_why,
    cmd_withdraw,
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (yyyy-mm-dd): {text}") from exc


ALLOW_HELP = ("use the documented development pseudonym key when BCF_PSEUDONYM_KEY is not set (synthetic data "
              "only; same as BCF_ALLOW_DEVELOPMENT_KEY=1)")


def _template_options(parser: argparse.ArgumentParser, which: str) -> None:
    parser.add_argument("--completed-by", help="the Cover's 'Completed by' (default: config/settings.toml [signoff])")
    parser.add_argument("--contact", help="the Cover's contact e-mail and telephone")
    parser.add_argument("--signed-off-by", help="who signed the return off for the Health and Wellbeing Board")
    parser.add_argument("--signed-off-on", help="the sign-off date")
    parser.add_argument("--template", help=f"fill this XLSX template ({which} national template) through the cell "
                        "map instead of the built-in layout")
    parser.add_argument("--cell-map", help="TOML cell map for --template (default: config/settings.toml)")
    parser.add_argument("--template-lineage", action="store_true",
                        help="also add a Lineage sheet and a defined name per figure to the filled template")
    parser.add_argument("--accept-template-losses", action="store_true",
                        help="fill even when openpyxl would drop an image, chart or validation of the template")


def version_text() -> str:
    """`bcf 0.1.0 (git 1a2b3c4..., Python 3.11.7)`: what a manifest's code section records, in one line."""
    from bcf.core.settings import git_commit, package_version

    return f"bcf {package_version()} (git {git_commit() or 'commit unknown'}, Python {sys.version.split()[0]})"


class _Version(argparse.Action):
    """--version, asking git only when it is given (argparse's own would ask on every command)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(version_text())
        parser.exit()


REPSEUDONYMISE_HELP = ("the pseudonym key changed on purpose: stage every file in force again with the new key "
                       "(without it, a data dir refuses a key other than its own)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bcf", description="Better Care Fund and Discharge Fund returns pipeline")
    parser.add_argument("--verbose", "-v", action="store_true", help="show Prefect's own log lines on the console")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and git commit, and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate a synthetic year for Rutland and run the pipeline on it")
    demo.add_argument("--out", default="bcf-demo", help="folder for extracts, warehouse, returns (default bcf-demo)")
    demo.set_defaults(func=cmd_demo)

    gen = sub.add_parser("generate", help="write synthetic extracts and a plan")
    who = gen.add_mutually_exclusive_group(required=True)
    who.add_argument("--hwb")
    who.add_argument("--icb", help="a source shared by every HWB of this ICB (config/hwb.csv), e.g. QK1: for "
                     "`bcf run icb`; --scale is then the footprint's spells a year")
    gen.add_argument("--from", dest="date_from", type=_date, required=True)
    gen.add_argument("--to", dest="date_to", type=_date, required=True)
    gen.add_argument("--scale", type=int, default=10_000, help="discharges (hospital spells) per year")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", required=True)
    gen.add_argument("--explicit-hwb", action="store_true",
                     help="write hwb_code on every plan and ledger row (for a source an ICB shares)")
    gen.add_argument("--no-discharges", action="store_true",
                     help="leave out the provider files (another HWB's generation already wrote them)")
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="land and stage a source (folder or s3://bucket/prefix/)")
    ing.add_argument("--source", required=True)
    ing.add_argument("--data-dir", help="warehouse and landing area (default: BCF_DATA_DIR or ./bcf_data)")
    ing.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    ing.add_argument("--repseudonymise", action="store_true", help=REPSEUDONYMISE_HELP)
    ing.set_defaults(func=cmd_ingest)

    val = sub.add_parser("validate", help="validate a source only and print the findings (exit 1 on errors)")
    val.add_argument("--source", required=True)
    val.add_argument("--limit", type=int, default=200, help="findings to print (all are counted)")
    val.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    val.set_defaults(func=cmd_validate)

    run = sub.add_parser("run", help="produce one return")
    run_sub = run.add_subparsers(dest="return_kind", required=True)
    fort = run_sub.add_parser("fortnightly", help="one Discharge Fund fortnightly return")
    fort.add_argument("--source", required=True)
    fort.add_argument("--hwb", required=True)
    fort.add_argument("--period-end", type=_date, required=True)
    _template_options(fort, "the Discharge Fund fortnightly")
    fort.add_argument("--out", default="returns")
    fort.add_argument("--data-dir")
    fort.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    fort.add_argument("--repseudonymise", action="store_true", help=REPSEUDONYMISE_HELP)
    fort.set_defaults(func=cmd_run_fortnightly)

    qtr = run_sub.add_parser("quarterly", help="one BCF quarterly return")
    qtr.add_argument("--source", required=True)
    qtr.add_argument("--hwb", required=True)
    qtr.add_argument("--quarter", required=True, help="like 2023-24-Q3")
    _template_options(qtr, "the BCF quarterly")
    qtr.add_argument("--out", default="returns")
    qtr.add_argument("--data-dir")
    qtr.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    qtr.add_argument("--repseudonymise", action="store_true", help=REPSEUDONYMISE_HELP)
    qtr.set_defaults(func=cmd_run_quarterly)

    icb = run_sub.add_parser("icb", help="every HWB of an ICB footprint from one shared source")
    icb.add_argument("--source", required=True)
    icb.add_argument("--icb", required=True, help="ICB code in config/hwb.csv, e.g. QK1 (LLR)")
    when = icb.add_mutually_exclusive_group(required=True)
    when.add_argument("--period-end", type=_date, help="the fortnightly return for this period end")
    when.add_argument("--quarter", help="the quarterly return for this quarter, like 2023-24-Q3")
    icb.add_argument("--out", default="returns")
    icb.add_argument("--data-dir")
    icb.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    icb.add_argument("--repseudonymise", action="store_true", help=REPSEUDONYMISE_HELP)
    icb.set_defaults(func=cmd_run_icb)

    cmap = sub.add_parser("cellmap", help="propose a cell map for a national template from its own labels (or "
                          "print the map of a workbook the pipeline wrote, from its defined names)")
    cmap.add_argument("workbook")
    cmap.add_argument("--quarter", help="write this quarter's months as {m1} {m2} {m3} (a quarterly template)")
    cmap.add_argument("--period-end", type=_date, help="a fortnightly template (the fortnight ending on this date)")
    cmap.add_argument("--return", dest="return_kind", choices=["fortnightly", "quarterly"],
                      help="which return the template is for (default: read from its labels)")
    cmap.add_argument("--out", help="write the map to this TOML file instead of printing it")
    cmap.set_defaults(func=cmd_cellmap)

    back = sub.add_parser("backfill", help="fortnightly returns for every scheduled fortnight in a date range")
    back.add_argument("--source", required=True)
    back.add_argument("--hwb", required=True)
    back.add_argument("--from", dest="date_from", type=_date, required=True)
    back.add_argument("--to", dest="date_to", type=_date, required=True)
    back.add_argument("--out", default="returns")
    back.add_argument("--data-dir")
    back.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    back.add_argument("--repseudonymise", action="store_true", help=REPSEUDONYMISE_HELP)
    back.set_defaults(func=cmd_backfill)

    srv = sub.add_parser("serve", help="register the fortnightly and quarterly deployments and serve them")
    srv.add_argument("--source", help="folder or s3:// prefix (default BCF_SOURCE)")
    srv.add_argument("--hwb", help="HWB code (default BCF_HWB)")
    srv.add_argument("--out", default="returns")
    srv.add_argument("--data-dir")
    srv.add_argument("--allow-development-key", action="store_true", help=ALLOW_HELP)
    srv.set_defaults(func=cmd_serve)

    aut = sub.add_parser("automations", help="create the Prefect automations in config/automations on the server")
    aut.add_argument("--webhook-url", help="save a webhook notification block `bcf-alerts` posting to this URL "
                     "(else a notification block of that name must exist)")
    aut.set_defaults(func=cmd_automations)

    dep = sub.add_parser("deploy", help="register the deployments on a Prefect work pool (workers run them)")
    dep.add_argument("--pool", required=True, help="work pool name (created as a process pool if absent)")
    dep.add_argument("--source", required=True, help="folder or s3:// prefix the workers can read")
    dep.add_argument("--hwb", required=True, action="append", help="HWB code; repeat for several")
    dep.add_argument("--out", default="returns")
    dep.add_argument("--data-dir", help="root of the per-HWB data dirs (each HWB gets <data-dir>/<HWB>)")
    dep.set_defaults(func=cmd_deploy)

    wdr = sub.add_parser("withdraw", help="take a landed file out of force (sent in error), on the record; --undo "
                         "puts it back")
    wdr.add_argument("file", help="the file as sent (a path: matched by content), its name, or its sha256 (8+ hex)")
    wdr.add_argument("--reason", required=True, help="why (recorded, and in the manifest of later runs)")
    wdr.add_argument("--by", help="who (default: the login name)")
    wdr.add_argument("--undo", action="store_true", help="put a withdrawn file back in force")
    wdr.add_argument("--data-dir", help="warehouse and landing area (default: BCF_DATA_DIR or ./bcf_data)")
    wdr.set_defaults(func=cmd_withdraw)

    rep = sub.add_parser("reproduce", help="re-run a past return from its manifest and compare the cell content")
    rep.add_argument("workbook")
    rep.set_defaults(func=cmd_reproduce)

    tr = sub.add_parser("trace", help="every source row behind one figure of a workbook")
    tr.add_argument("workbook")
    tr.add_argument("figure", help="figure id, or Sheet!A1")
    tr.add_argument("--format", choices=["table", "csv"], default="table")
    tr.set_defaults(func=cmd_trace)

    brf = sub.add_parser("briefing", help="a board briefing (XLSX with charts, and PDF) for a fund year")
    brf.add_argument("--hwb", required=True)
    brf.add_argument("--fund-year", required=True, help="like 2022-23")
    brf.add_argument("--out", default="returns", help="the returns folder: read from, and written to")
    brf.add_argument("--data-dir", help="warehouse for the periods with no return in --out")
    brf.add_argument("--as-at", type=_date, help="only periods ended by this date (default today)")
    brf.set_defaults(func=cmd_briefing)

    why = sub.add_parser("why", help="which figures one source row counts in, or the first reason it was left out")
    why.add_argument("workbook")
    why.add_argument("file_or_figure", metavar="FILE|FIGURE",
                     help="an input's file name (or sha256, or a path to a copy), or a figure id")
    why.add_argument("row_or_key", metavar="ROW|KEY", help="row number (header = 1), or the row's key for a figure")
    why.add_argument("--sheet", help="plan workbook sheet (schemes, income, ...) when the row number is ambiguous")
    why.add_argument("--format", choices=["table", "csv"], default="table")
    why.set_defaults(func=cmd_why)

    # --- issue 22: signoff, submit, submissions, calendar (bcf/submission/commands.py) ---
    from bcf.submission.commands import add_parsers

    add_parsers(sub)
    return parser

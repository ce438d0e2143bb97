"""What each `bcf` command runs (shared/spec/cli.md). Exit codes: 0 done, 1 data blocked the return, 2 usage."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from bcf.cli.preflight import UsageError, _check_hwb, _data_dir
from bcf.core import s3

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2

DEMO_HWB = "E06000017"  # Rutland
DEMO_FROM, DEMO_TO = dt.date(2022, 4, 1), dt.date(2023, 3, 31)
DEMO_SCALE, DEMO_SEED = 10_000, 2023


def _step(message: str) -> float:
    print(f"... {message}", flush=True)
    return time.perf_counter()


def _done(started: float, message: str = "done") -> None:
    print(f"    {message} in {time.perf_counter() - started:.1f} s", flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from bcf.devtools.synthetic import generate, generate_icb

    started = _step(f"generating {args.scale:,} spells/year for {args.hwb or args.icb}, {args.date_from} to "
                    f"{args.date_to}")
    try:
        if args.icb:
            counts = generate_icb(args.icb, args.date_from, args.date_to, args.scale, args.seed, Path(args.out))
        else:
            counts = generate(args.hwb, args.date_from, args.date_to, args.scale, args.seed, Path(args.out),
                              explicit_hwb=args.explicit_hwb, discharges=not args.no_discharges)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    _done(started, ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    print(f"extracts and plan written to {args.out}")
    return EXIT_OK


def print_landed(data_dir: Path) -> None:
    from bcf.warehouse import db
    from bcf.warehouse.paths import warehouse_path

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
    data_dir = _data_dir(args)
    if use_prefect():
        from bcf.flows.ingest import ingest_flow

        report = ingest_flow(source=absolute(args.source), data_dir=absolute(str(data_dir)))
    else:
        from bcf.run import pipeline

        pipeline.console_lines()
        report = pipeline.ingest_run(args.source, str(data_dir))
    _print_ingest(report)
    print_landed(data_dir)
    return EXIT_BLOCKED if any(f.severity == "error" for r in report.files for f in r.findings) else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from bcf.core.dates import latest_quarter_before, scheduled_period_end
    from bcf.devtools.synthetic import generate

    out = Path(args.out)
    extracts, data_dir, returns = out / "extracts", out / "data", out / "returns"
    started = _step(f"1/4 generating a year of synthetic extracts for Rutland ({DEMO_HWB}) into {extracts}")
    counts = generate(DEMO_HWB, DEMO_FROM, DEMO_TO, DEMO_SCALE, DEMO_SEED, extracts)
    _done(started, ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    period_end = scheduled_period_end(DEMO_TO + dt.timedelta(days=1))
    how = "Prefect flow" if use_prefect() else "run (in this process: no Prefect server configured)"
    started = _step(f"2/4 fortnightly-return {how} for the fortnight ending {period_end:%d/%m/%Y} "
                    f"(ingest, validate, compute, write, audit pack)")
    outcome = run_return("fortnightly", source=str(extracts), hwb=DEMO_HWB, period_end=period_end.isoformat(),
                         out_dir=str(returns), data_dir=str(data_dir))
    _done(started)
    quarter = latest_quarter_before(DEMO_TO + dt.timedelta(days=1))
    started = _step(f"3/4 quarterly-return {how} for {quarter} (the extracts are already landed: no-op)")
    quarterly = run_return("quarterly", source=str(extracts), hwb=DEMO_HWB, quarter=quarter, out_dir=str(returns),
                           data_dir=str(data_dir))
    _done(started)
    briefing = None
    if quarterly.status == "written":  # the year's briefing: every fortnight and quarter, from the warehouse
        from bcf.returns.briefing import write as write_briefing

        started = _step("4/4 board briefing over every fortnight and quarter of 2022-23")
        briefing = write_briefing(DEMO_HWB, "2022-23", returns, data_dir, until=DEMO_TO)[1]
        _done(started)
    _print_outcome(outcome)  # what landed is in the per-file lines above: one screen, no table repeating them
    _print_outcome(quarterly)
    if briefing:
        print(f"\nBoard briefing {briefing.resolve()} (and .xlsx)")
    import shlex

    bcf, workbook = bcf_command(), shlex.quote(shown_path(outcome.workbook))
    print(f"\nNext, trace a figure to its source rows and re-run a return from its manifest:\n"
          f"  {bcf} trace {workbook} df.spend.to_date\n  {bcf} reproduce {workbook}")
    if bcf != "bcf":
        print(f"(or `source {Path(bcf).parent}/activate` once, then plain `bcf ...`)")
    written = outcome.status == "written" and quarterly.status == "written"
    return EXIT_OK if written else EXIT_BLOCKED


def bcf_command() -> str:
    """How to run this same bcf as typed from here: `bcf` when that is what PATH finds, else its path (make demo
    runs .venv/bin/bcf, which is not on PATH until the venv is activated)."""
    import shlex
    import shutil

    me = Path(sys.argv[0])
    if me.name != "bcf":  # python -m bcf.cli, or a test calling main()
        return f"{shlex.quote(sys.executable)} -m bcf.cli"
    found = shutil.which("bcf")
    if found and Path(found).resolve() == me.resolve():
        return "bcf"
    return shlex.quote(str(me))  # as it was typed, from this folder: `.venv/bin/bcf`


def shown_path(path: Path) -> str:
    """A path as short as it can be and still work from here: relative when under the working folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _print_outcome(outcome) -> None:  # type: ignore[no-untyped-def]
    errors, warnings = outcome.findings.errors, outcome.findings.warnings
    if outcome.status == "blocked":
        from bcf.transforms.findings import summary_lines

        print(f"\nBLOCKED: {outcome.workbook.name} was not written; {len(outcome.blocking)} error finding(s) block it, "
              "by rule and file:")
        for line in summary_lines(outcome.blocking):
            print(f"  {line}")
        print(f"All findings: {outcome.findings_file.resolve()}")
        return
    print(f"\nWrote {outcome.workbook}")
    if outcome.revision_line():
        print(outcome.revision_line())
    print(f"Audit pack {outcome.audit}  ({errors} error and {warnings} warning finding(s) in findings.csv)")
    values = {f.id: "" if f.value is None else str(f.value) for f in outcome.figures}
    for f in outcome.figures:
        if f.id.startswith(("df.discharges.total", "df.spend.", "df.income.total", "df.balance", "df.check.",
                            "q.template_status")) and not f.id.endswith((".numerator", ".denominator")):
            print(f"  {f.id:<40} {values[f.id]}")
        elif f.id.startswith("q.metric.") and f.id.endswith(".plan"):  # one line a metric: plan, actual, assessment
            metric = f.id.removesuffix(".plan")
            print(f"  {metric:<40} plan {values[f.id]}, actual {values.get(metric + '.actual', '')}: "
                  f"{values.get(metric + '.assessment', '')}")


def use_prefect() -> bool:
    from bcf.core.settings import use_prefect as configured

    try:
        prefect = configured()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if prefect:  # a temporary server Prefect starts for this command stops with it, even when it is killed
        from bcf.flows.ephemeral import server_dies_with_us

        server_dies_with_us()
    return prefect


def run_return(kind: str, **parameters: Any) -> Any:
    """One return (kind fortnightly or quarterly): as a Prefect flow when a Prefect server is configured
    (BCF_ORCHESTRATION), else the same steps plainly in this process (bcf/run/pipeline.py)."""
    for name in ("out_dir", "data_dir", "source"):  # a person reads them in the UI and the manifest: absolute
        if parameters.get(name):
            parameters[name] = absolute(parameters[name])
    if use_prefect():
        from bcf.flows.common import run_flow
        from bcf.flows.fortnightly import fortnightly_flow
        from bcf.flows.quarterly import quarterly_flow

        return run_flow(fortnightly_flow if kind == "fortnightly" else quarterly_flow, **parameters)
    from bcf.run import pipeline

    run = pipeline.fortnightly_return if kind == "fortnightly" else pipeline.quarterly_return
    return pipeline.run_here(run, **parameters)


def absolute(where: str) -> str:
    """A local folder as an absolute path (an s3:// prefix as given): the same wherever the run or the reader is."""
    return where if s3.is_s3(where) else str(Path(where).resolve())


def cmd_run_fortnightly(args: argparse.Namespace) -> int:
    from bcf.transforms.template import TemplateError

    _check_hwb(args.hwb)
    if args.template and not Path(args.template).is_file():
        raise UsageError(f"template not found: {args.template}")
    try:
        _template_map_check(args, "fortnightly", [])
        outcome = run_return("fortnightly", source=args.source, hwb=args.hwb,
                             period_end=args.period_end.isoformat(), out_dir=args.out, data_dir=str(_data_dir(args)),
                             template=args.template, cell_map=args.cell_map, template_lineage=args.template_lineage,
                             accept_template_losses=args.accept_template_losses, signoff=_signoff(args))
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    _print_outcome(outcome)
    return EXIT_OK if outcome.status == "written" else EXIT_BLOCKED


def cmd_run_quarterly(args: argparse.Namespace) -> int:
    from bcf.core.dates import Quarter
    from bcf.transforms.template import TemplateError

    _check_hwb(args.hwb)
    try:
        Quarter.parse(args.quarter)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.template and not Path(args.template).is_file():
        raise UsageError(f"template not found: {args.template}")
    try:
        _template_map_check(args, "quarterly", Quarter.parse(args.quarter).months)
        outcome = run_return("quarterly", source=args.source, hwb=args.hwb, quarter=args.quarter, out_dir=args.out,
                             data_dir=str(_data_dir(args)), template=args.template, cell_map=args.cell_map,
                             template_lineage=args.template_lineage,
                             accept_template_losses=args.accept_template_losses, signoff=_signoff(args))
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    _print_outcome(outcome)
    return EXIT_OK if outcome.status == "written" else EXIT_BLOCKED


def cmd_run_icb(args: argparse.Namespace) -> int:
    from bcf.flows.common import run_flow
    from bcf.flows.icb import icb_flow, icb_hwbs

    try:
        icb_hwbs(args.icb)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    status = run_flow(icb_flow, source=absolute(args.source), icb=args.icb,
                      period_end=args.period_end.isoformat() if args.period_end else None, quarter=args.quarter,
                      out_dir=absolute(args.out), data_dir=absolute(str(_data_dir(args))))
    for hwb, s in status.items():
        print(f"{hwb}: {s}")
    return EXIT_OK if all(s == "written" for s in status.values()) else EXIT_BLOCKED


def _template_map_check(args: argparse.Namespace, which: str, months: list) -> None:  # type: ignore[type-arg]
    """--template without --cell-map: propose the map now, before anything is ingested (TemplateError if not whole)."""
    if args.template and not args.cell_map:
        from bcf.returns.cellmap import map_for_run

        map_for_run(Path(args.template), which, months)


def cmd_cellmap(args: argparse.Namespace) -> int:
    from openpyxl import load_workbook

    from bcf.core.dates import Quarter
    from bcf.returns.cellmap import propose
    from bcf.transforms.template import cell_map_text

    try:
        months = Quarter.parse(args.quarter).months if args.quarter else None
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    path = Path(args.workbook)
    if not path.is_file():
        raise UsageError(f"workbook not found: {path}")
    if any(n.startswith(("q.", "df.")) for n in load_workbook(path, read_only=True).defined_names):
        sys.stdout.write(cell_map_text(path, months))  # a workbook we wrote: its defined names are the map
        return EXIT_OK
    try:
        which, proposal = propose(path, args.return_kind, months, args.period_end)
    except ValueError as exc:  # ReturnUnknown: say so and ask for --return rather than guess
        raise UsageError(str(exc)) from exc
    text = proposal.toml(f"Proposed by `bcf cellmap` from the labels of {path.name} ({which} return).\n"
                         "Check it, then fill in the lines at the end for the figures it could not place.")
    if args.out:
        tmp = Path(args.out).with_name(f".{Path(args.out).name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)  # atomic: a half-written map is never left in place
    else:
        sys.stdout.write(text)
    ambiguous = sum(why.startswith("ambiguous") for why in proposal.unplaced.values())
    print(f"{len(proposal.cells)} figure(s) placed, {len(proposal.unplaced)} not placed ({ambiguous} ambiguous)"
          + (f": {', '.join(list(proposal.unplaced)[:8])}{' ...' if len(proposal.unplaced) > 8 else ''}"
             if proposal.unplaced else ""), file=sys.stderr)
    return EXIT_OK


def cmd_backfill(args: argparse.Namespace) -> int:
    from bcf.core.dates import backfill_period_ends

    _check_hwb(args.hwb)
    status = EXIT_OK
    for end in backfill_period_ends(args.date_from, args.date_to):
        outcome = run_return("fortnightly", source=args.source, hwb=args.hwb, period_end=end.isoformat(),
                             out_dir=args.out, data_dir=str(_data_dir(args)))
        print(f"{end}: {outcome.status} {outcome.workbook}")
        if outcome.status != "written":
            status = EXIT_BLOCKED
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate only: ingest into a throw-away warehouse, print the findings, never touch the real one. A plain
    function call: no flow run, no Prefect server."""
    import tempfile
    import uuid

    from bcf.ingest.source_run import ingest_source

    with tempfile.TemporaryDirectory(prefix="bcf-validate-") as tmp:
        report = ingest_source(args.source, Path(tmp), f"validate-{uuid.uuid4()}", read_ahead=True)
    _print_ingest(report)
    from bcf.transforms.findings import summary_lines

    findings = [f for r in report.files for f in r.findings]
    errors = [f for f in findings if f.severity == "error"]
    print(f"\n{len(errors)} error and {len(findings) - len(errors)} warning finding(s), by rule and file:")
    for line in summary_lines(findings):
        print(f"  {line}")
    if findings:
        print("\nEach finding:")
    for f in findings[: args.limit]:
        print(f"  {f.severity:<7} {f.file} row {f.row if f.row is not None else '-'} "
              f"[{f.column or '-'}] {f.value or ''}: {f.rule}: {f.message}")
    if len(findings) > args.limit:
        print(f"  ... and {len(findings) - args.limit} more")
    return EXIT_BLOCKED if errors else EXIT_OK


def cmd_trace(args: argparse.Namespace) -> int:
    from bcf.audit.trace import TraceError, trace

    try:
        text = trace(Path(args.workbook), args.figure, args.format)
    except TraceError as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(text)
    return EXIT_OK


def cmd_why(args: argparse.Namespace) -> int:
    from bcf.audit.why import WhyError, render, why_figure, why_row

    try:
        if args.row_or_key.isdigit():
            answers = why_row(Path(args.workbook), args.file_or_figure, int(args.row_or_key), args.sheet)
        else:
            answers = why_figure(Path(args.workbook), args.file_or_figure, args.row_or_key)
    except WhyError as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(render(answers, args.format))
    return EXIT_OK


def cmd_briefing(args: argparse.Namespace) -> int:
    from bcf.returns.briefing import write

    _check_hwb(args.hwb)
    if not re.fullmatch(r"\d{4}-\d{2}", args.fund_year):
        raise UsageError(f"not a fund year like 2022-23: {args.fund_year}")
    started = _step(f"board briefing for {args.hwb} {args.fund_year} from the returns in {args.out} "
                    "(and the warehouse for any fortnight or quarter without one)")
    try:
        xlsx, pdf = write(args.hwb, args.fund_year, Path(args.out), _data_dir(args), args.as_at)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    _done(started)
    print(f"Wrote {xlsx}\nWrote {pdf}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from bcf.core.settings import env
    from bcf.flows.deployments import build_deployments, serve_deployments

    source = args.source or env().source
    hwb = args.hwb or env().hwb
    if not source or not hwb:
        raise UsageError("bcf serve needs --source and --hwb (or BCF_SOURCE and BCF_HWB)")
    _check_hwb(hwb)
    deployments = build_deployments(absolute(source), hwb, absolute(args.out), absolute(str(_data_dir(args))))
    for d in deployments:
        print(f"serving {d.name}: {d.description}")
    serve_deployments(deployments)
    return EXIT_OK


def cmd_automations(args: argparse.Namespace) -> int:
    from bcf.flows.automations import create_automations

    if not os.environ.get("PREFECT_API_URL"):
        raise UsageError("bcf automations needs a Prefect server: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)")
    try:
        created = create_automations(args.webhook_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    for automation in created:
        print(f"automation {automation.name} ({automation.id}): {automation.description}")
    return EXIT_OK


def cmd_deploy(args: argparse.Namespace) -> int:
    from bcf.flows.deployments import deploy_to_pool

    if not os.environ.get("PREFECT_API_URL"):
        raise UsageError("bcf deploy needs a Prefect server: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)")
    for hwb in args.hwb:
        _check_hwb(hwb)
    for name, deployment_id in deploy_to_pool(args.pool, absolute(args.source), args.hwb, absolute(args.out),
                                              absolute(str(_data_dir(args)))):
        print(f"deployed {name} ({deployment_id}) to work pool {args.pool}")
    print(f"start workers with:  prefect worker start --pool {args.pool}")
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from bcf.audit.reproduce import reproduce
    from bcf.returns.pack import pack_dir

    workbook = Path(args.workbook)
    if not (pack_dir(workbook) / "manifest.json").exists():
        raise UsageError(f"no audit pack beside {workbook}")
    result = reproduce(workbook)
    sys.stdout.write(result.report())
    return EXIT_OK if result.same else EXIT_BLOCKED


def cmd_withdraw(args: argparse.Namespace) -> int:
    from bcf.ingest.withdraw import WithdrawError, withdraw

    try:
        done = withdraw(_data_dir(args), args.file, args.reason, args.by, undo=args.undo)
    except WithdrawError as exc:
        raise UsageError(str(exc)) from exc
    print(done.line())
    return EXIT_OK


def _signoff(args: argparse.Namespace) -> dict[str, str] | None:
    given = {k: getattr(args, k) for k in ("completed_by", "contact", "signed_off_by", "signed_off_on")
             if getattr(args, k, None)}
    return given or None

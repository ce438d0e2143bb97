"""The `bcf` command line (shared/spec/cli.md). Exit codes: 0 done, 1 data blocked the return, 2 usage/config error."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2

DEMO_HWB = "E06000017"  # Rutland
DEMO_FROM, DEMO_TO = dt.date(2022, 4, 1), dt.date(2023, 3, 31)
DEMO_SCALE, DEMO_SEED = 10_000, 2023


ALLOW_HELP = ("use the documented development pseudonym key when BCF_PSEUDONYM_KEY is not set (synthetic data "
              "only; same as BCF_ALLOW_DEVELOPMENT_KEY=1)")


class UsageError(Exception):
    pass


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (yyyy-mm-dd): {text}") from exc


def _data_dir(args: argparse.Namespace) -> Path:
    from core.settings import data_dir

    return data_dir(args.data_dir)


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
    from bcf.intake import warehouse_path
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
    data_dir = _data_dir(args)
    if use_prefect():
        from flows.ingest import ingest_flow

        report = ingest_flow(source=absolute(args.source), data_dir=absolute(str(data_dir)))
    else:
        from bcf import pipeline

        pipeline.console_lines()
        report = pipeline.ingest_run(args.source, str(data_dir))
    _print_ingest(report)
    print_landed(data_dir)
    return EXIT_BLOCKED if any(f.severity == "error" for r in report.files for f in r.findings) else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from bcf.devtools.synthetic import generate
    from core.dates import latest_quarter_before, scheduled_period_end

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
        from bcf.briefing import write as write_briefing

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
    errors = sum(f.severity == "error" for f in outcome.findings)
    warnings = sum(f.severity == "warning" for f in outcome.findings)
    if outcome.status == "blocked":
        from transforms.findings import summary_lines

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
    from core.settings import use_prefect as configured

    try:
        prefect = configured()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if prefect:  # a temporary server Prefect starts for this command stops with it, even when it is killed
        from flows.ephemeral import server_dies_with_us

        server_dies_with_us()
    return prefect


def run_return(kind: str, **parameters: Any) -> Any:
    """One return (kind fortnightly or quarterly): as a Prefect flow when a Prefect server is configured
    (BCF_ORCHESTRATION), else the same steps plainly in this process (bcf/pipeline.py)."""
    for name in ("out_dir", "data_dir", "source"):  # a person reads them in the UI and the manifest: absolute
        if parameters.get(name):
            parameters[name] = absolute(parameters[name])
    if use_prefect():
        from flows.common import run_flow
        from flows.fortnightly import fortnightly_flow
        from flows.quarterly import quarterly_flow

        return run_flow(fortnightly_flow if kind == "fortnightly" else quarterly_flow, **parameters)
    from bcf import pipeline

    run = pipeline.fortnightly_return if kind == "fortnightly" else pipeline.quarterly_return
    return pipeline.run_here(run, **parameters)


def absolute(where: str) -> str:
    """A local folder as an absolute path (an s3:// prefix as given): the same wherever the run or the reader is."""
    return where if where.startswith("s3://") else str(Path(where).resolve())


def cmd_run_fortnightly(args: argparse.Namespace) -> int:
    from transforms.template import TemplateError

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
    from bcf.quarterly import Quarter
    from transforms.template import TemplateError

    _check_hwb(args.hwb)
    try:
        Quarter.parse(args.hwb, args.quarter)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.template and not Path(args.template).is_file():
        raise UsageError(f"template not found: {args.template}")
    try:
        _template_map_check(args, "quarterly", Quarter.parse(args.hwb, args.quarter).months)
        outcome = run_return("quarterly", source=args.source, hwb=args.hwb, quarter=args.quarter, out_dir=args.out,
                             data_dir=str(_data_dir(args)), template=args.template, cell_map=args.cell_map,
                             template_lineage=args.template_lineage,
                             accept_template_losses=args.accept_template_losses, signoff=_signoff(args))
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    _print_outcome(outcome)
    return EXIT_OK if outcome.status == "written" else EXIT_BLOCKED


def cmd_run_icb(args: argparse.Namespace) -> int:
    from flows.common import run_flow
    from flows.icb import icb_flow, icb_hwbs

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
        from bcf.cellmap import map_for_run

        map_for_run(Path(args.template), which, months)


def cmd_cellmap(args: argparse.Namespace) -> int:
    from openpyxl import load_workbook

    from bcf.cellmap import propose
    from bcf.quarterly import Quarter
    from transforms.template import cell_map_text

    try:
        months = Quarter.parse("E06000017", args.quarter).months if args.quarter else None
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
    from core.dates import backfill_period_ends

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

    from bcf.intake import ingest_source

    with tempfile.TemporaryDirectory(prefix="bcf-validate-") as tmp:
        report = ingest_source(args.source, Path(tmp), f"validate-{uuid.uuid4()}", read_ahead=True)
    _print_ingest(report)
    from transforms.findings import summary_lines

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
    from bcf.trace import TraceError, trace

    try:
        text = trace(Path(args.workbook), args.figure, args.format)
    except TraceError as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(text)
    return EXIT_OK


def cmd_why(args: argparse.Namespace) -> int:
    from bcf.why import WhyError, render, why_figure, why_row

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
    from bcf.briefing import write

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
    from core.settings import env
    from flows.deployments import build_deployments, serve_deployments

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
    from flows.automations import create_automations

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
    from flows.deployments import deploy_to_pool

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
    from bcf.audit import pack_dir
    from bcf.reproduce import reproduce

    workbook = Path(args.workbook)
    if not (pack_dir(workbook) / "manifest.json").exists():
        raise UsageError(f"no audit pack beside {workbook}")
    result = reproduce(workbook)
    sys.stdout.write(result.report())
    return EXIT_OK if result.same else EXIT_BLOCKED


def cmd_withdraw(args: argparse.Namespace) -> int:
    from bcf.withdraw import WithdrawError, withdraw

    try:
        done = withdraw(_data_dir(args), args.file, args.reason, args.by, undo=args.undo)
    except WithdrawError as exc:
        raise UsageError(str(exc)) from exc
    print(done.line())
    return EXIT_OK


def _check_hwb(code: str) -> None:
    from core.settings import hwb_reference

    if code not in hwb_reference():
        raise UsageError(f"HWB code {code} is not in config/hwb.csv")


def _check_dir(path: Path, flag: str) -> None:
    """--out / --data-dir: a folder (or one that can be made), never an existing file."""
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise UsageError(f"{flag} {path}: {p} is a file, not a folder")
            return


def _check_xlsx(path: Path, what: str) -> None:
    import zipfile

    if not path.is_file():
        raise UsageError(f"{what} not found: {path}")
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{what} {path} is not an XLSX workbook (not a zip package)")
    try:
        from openpyxl import load_workbook

        load_workbook(path, read_only=True).close()
    except Exception as exc:  # openpyxl raises many kinds for a broken package: all mean "not XLSX"
        raise UsageError(f"{what} {path} is not an XLSX workbook ({type(exc).__name__})") from exc


def _check_source(source: str) -> None:
    """The source exists and, on S3, the bucket answers with the credentials we have (one LIST, few retries)."""
    from bcf.sources import is_s3

    if not is_s3(source):
        if not Path(source).is_dir():
            raise UsageError(f"source folder {source} does not exist" if not Path(source).exists()
                             else f"source {source} is not a folder")
        return
    from urllib.parse import urlparse

    import boto3
    from botocore.config import Config

    parsed = urlparse(source)
    if not parsed.netloc:
        raise UsageError(f"no bucket in {source} (expected s3://bucket/prefix/)")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-2"
    # a fresh session: the credentials chain as it is now (boto3's default session caches what it found first)
    client = boto3.session.Session().client("s3", region_name=region, config=Config(
        retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=20))
    prefix = parsed.path.lstrip("/")
    try:
        client.list_objects_v2(Bucket=parsed.netloc, Prefix=prefix, MaxKeys=1)
    except Exception as exc:
        message = _config_error(exc, parsed.netloc)
        if message is None:
            raise
        raise UsageError(message) from exc


def _config_error(exc: BaseException, bucket: str = "") -> str | None:
    """One line for a known configuration failure (S3 reach and rights, the warehouse held by another program)."""
    from bcf.worker import WorkerFailed

    if isinstance(exc, WorkerFailed):  # killed, or out of memory: its traceback, if any, is in the run's log
        return f"{str(exc).splitlines()[0].rstrip(':')}; nothing of that file was staged, re-run"
    try:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, ParamValidationError):  # botocore's check before any request: an invalid bucket name, say
        if "Invalid bucket name" in str(exc):
            return (f"invalid S3 bucket name {bucket or ''}: a bucket name is 3-63 lower-case letters, digits, dots "
                    "and hyphens").replace("name :", "name:")
        return f"invalid S3 request: {str(exc).splitlines()[-1][:200]}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ("no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                "or run with an instance role")
    if isinstance(exc, EndpointConnectionError):
        from urllib.parse import urlparse

        url = urlparse(str(exc.kwargs.get("endpoint_url", "")))
        return f"cannot reach the S3 endpoint {url.scheme}://{url.netloc} (check AWS_ENDPOINT_URL_S3)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, bucket = error.get("Code", ""), error.get("BucketName") or bucket
        if code == "NoSuchBucket":
            return f"S3 bucket {bucket} does not exist" if bucket else "the S3 bucket does not exist"
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            return f"S3 refused access ({code}): check the credentials and the bucket policy"
        return f"S3 error {code}: {error.get('Message', '')}".strip()
    import duckdb

    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        return f"the warehouse is open in another program: {str(exc).splitlines()[0]}"
    return None


def _preflight(args: argparse.Namespace) -> None:
    """Configuration checked before any flow starts, so a mistake is one line (exit 2), not a Prefect traceback."""
    from core.settings import PseudonymKeyError, pseudonym_key, settings

    allow = settings()["pseudonymisation"]["allow_env_var"]
    if getattr(args, "allow_development_key", False):
        os.environ[allow] = "1"  # also for serve's flow-run subprocesses
    command = args.command
    if getattr(args, "repseudonymise", False):
        os.environ.update(BCF_REPSEUDONYMISE="1")  # read where the run holds the data dir's lock (bcf/keyprint.py)
    if command in ("ingest", "validate", "run", "backfill", "serve"):
        try:
            key, _ = pseudonym_key()
        except PseudonymKeyError as exc:
            raise UsageError(str(exc)) from exc
        if command != "validate" and not getattr(args, "repseudonymise", False):
            from bcf.keyprint import mismatch

            problem = mismatch(_data_dir(args), key)
            if problem is not None:
                raise UsageError(problem)
    if command in ("ingest", "run", "backfill", "serve", "demo", "generate") and getattr(args, "out", None):
        _check_dir(Path(args.out), "--out")
    if hasattr(args, "data_dir") and command != "generate":
        _check_dir(_data_dir(args), "--data-dir" if args.data_dir else "BCF_DATA_DIR")
    if getattr(args, "source", None):
        _check_source(args.source)
    if command in ("backfill", "generate") and args.date_from > args.date_to:
        raise UsageError(f"--from {args.date_from} is after --to {args.date_to}")
    if command == "generate" and args.scale < 1:
        raise UsageError(f"--scale {args.scale}: the number of discharges per year must be 1 or more")
    hwb = getattr(args, "hwb", None) or "E06000017"
    from bcf.fortnightly import Fortnight
    from bcf.quarterly import Quarter

    for flag in ("period_end", "date_from", "date_to"):
        when = getattr(args, flag, None)
        if when is not None and command != "generate":
            try:
                Fortnight.ending(hwb, when).params()
            except (ValueError, OverflowError) as exc:
                raise UsageError(f"--{flag.replace('_', '-').replace('date-', '')} {when}: out of range "
                                 f"(the fortnight or its financial year falls outside the calendar: {exc})") from exc
    if getattr(args, "quarter", None):
        try:
            Quarter.parse(hwb, args.quarter)
        except (ValueError, OverflowError) as exc:
            raise UsageError(str(exc)) from exc
    if getattr(args, "template", None):
        _check_xlsx(Path(args.template), "template")
    if getattr(args, "cell_map", None) and not Path(args.cell_map).is_file():
        raise UsageError(f"cell map not found: {args.cell_map}")
    if command == "cellmap":
        _check_xlsx(Path(args.workbook), "workbook")
    from bcf.runlock import lock_timeout

    try:
        lock_timeout()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _signoff(args: argparse.Namespace) -> dict[str, str] | None:
    given = {k: getattr(args, k) for k in ("completed_by", "contact", "signed_off_by", "signed_off_on")
             if getattr(args, k, None)}
    return given or None


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
    from core.settings import git_commit, package_version

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


def _locked_data_dir(args: argparse.Namespace) -> Path | None:
    """The data dir a command writes or reads whole (it holds the run lock for the whole command), if any: a reader
    holding DuckDB's file would make a run starting meanwhile fail, so the briefing waits its turn instead."""
    if args.command == "demo":
        return Path(args.out) / "data"
    if args.command in ("ingest", "run", "backfill"):
        return _data_dir(args)
    if args.command == "briefing" and _data_dir(args).is_dir():  # a briefing from the returns alone makes none
        return _data_dir(args)
    return None


def prefect_environment(verbose: bool) -> None:
    """Before Prefect is imported: no telemetry (nor the server's `Failed to send telemetry` error) unless the user
    asked for it, and Prefect's INFO chatter off the console unless --verbose or PREFECT_LOGGING_LEVEL is set (the
    Prefect UI still gets every log line; the console keeps our progress lines, see flows.common.console_progress)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's temporary server gives up after 20 s; a busy 2-core machine needs longer to start it
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from core.settings import prefect_ui_url

    ui = prefect_ui_url()  # with a server configured: links in alerts, also in the runs `bcf serve` starts
    if ui:
        os.environ.setdefault("PREFECT_UI_URL", ui)
    if not verbose and "PREFECT_LOGGING_LEVEL" not in os.environ:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        os.environ.setdefault("BCF_CONSOLE_PROGRESS", "1")


def main(argv: list[str] | None = None) -> int:
    from contextlib import ExitStack

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    prefect_environment(args.verbose)
    from bcf.runlock import RunLockTimeout, data_dir_lock
    from core.settings import PseudonymKeyError, settings

    try:
        with ExitStack() as stack:
            _preflight(args)
            if args.command == "demo":  # synthetic data: the development key needs no further leave
                allow = settings()["pseudonymisation"]["allow_env_var"]
                saved = os.environ.get(allow)
                os.environ[allow] = "1"
                stack.callback(lambda: os.environ.pop(allow) if saved is None else os.environ.update({allow: saved}))
            data_dir = _locked_data_dir(args)
            if data_dir is not None:
                what = f"bcf {args.command}" + (f" {args.return_kind}" if args.command == "run" else "")
                stack.enter_context(data_dir_lock(data_dir, f"'{what}'"))
            return int(args.func(args))
    except (UsageError, FileNotFoundError, NotADirectoryError, PseudonymKeyError, RunLockTimeout) as exc:
        print(f"bcf: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        message = _config_error(exc)
        if message is None:
            raise
        print(f"bcf: {message}", file=sys.stderr)
        return EXIT_USAGE


def entry() -> None:
    """The `bcf` command: main(), then an exit without the interpreter's teardown, which frees every object GX and
    pandas made one by one: ~0.8 s after a run's work is done (a one-HWB run: 5.2 s -> 4.4 s). The exit handlers
    still run; while any other thread is still working, the ordinary exit waits for it as always."""
    import atexit
    import threading

    code = main()
    if any(t is not threading.current_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or a full disk: the ordinary exit reports it as Python does
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":
    entry()

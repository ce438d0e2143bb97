"""The `bcf` command: parse, check, take the data dir's lock, run the command; exit codes 0 done, 1 data blocked
the return, 2 usage/config error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bcf.cli.commands import EXIT_OK, EXIT_USAGE
from bcf.cli.parser import build_parser
from bcf.cli.preflight import UsageError, _config_error, _data_dir, _preflight


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
    from bcf.core.settings import prefect_ui_url

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
    from bcf.core.runlock import RunLockTimeout, data_dir_lock
    from bcf.core.settings import PseudonymKeyError, settings

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

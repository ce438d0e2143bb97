"""The command line of sign-off and submission: `bcf signoff`, `bcf submit`, `bcf submissions`, `bcf calendar`.
bcf/cli/parser.py adds them (`add_parsers`). Each command prints its own one-line `bcf:` error and returns the exit
code: 1 when the return is refused (blocked, not reproducing, not signed off, figures changed) or not delivered,
2 for a usage or configuration error."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (yyyy-mm-dd): {text}") from exc


def _datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or date and time (yyyy-mm-dd[Thh:mm]): {text}") from exc


def _error(message: str, code: int) -> int:
    print(f"bcf: {message}", file=sys.stderr)
    return code


def _guarded(run: Any, args: argparse.Namespace) -> int:
    from bcf.core.runlock import RunLockTimeout
    from bcf.submission.deliver import DeliveryError
    from bcf.submission.signoff import Refused

    try:
        return int(run(args))
    except Refused as exc:
        return _error(str(exc), EXIT_REFUSED)
    except DeliveryError as exc:
        return _error(f"{exc}; nothing was sent or recorded", EXIT_REFUSED)
    except (ValueError, FileNotFoundError, RunLockTimeout) as exc:
        return _error(str(exc), EXIT_USAGE)


def resume_paused_run(flow_run_id: str | None, run_input: dict[str, Any]) -> str | None:
    """A scheduled run paused waiting for this return's sign-off gets it through Prefect's API (as the UI's form
    would): it then signs off (already recorded: a no-op) and submits. Returns what happened, or None."""
    from bcf.core.settings import use_prefect

    if not flow_run_id or not use_prefect():
        return None
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(flow_run_id)).state
        if state is None or not state.is_paused():
            return None
        resume_flow_run(UUID(flow_run_id), run_input=run_input)
    except Exception as exc:  # the sign-off is recorded either way; the run can still be resumed in the UI
        return f"could not resume the paused run {flow_run_id}: {type(exc).__name__}: {exc}"
    return f"resumed the scheduled run {flow_run_id}, which was waiting for this sign-off: it submits the return now"


def cmd_signoff(args: argparse.Namespace) -> int:
    from bcf.returns.returninfo import load
    from bcf.submission.signoff import SignOff, sign_off

    workbook = Path(args.workbook)
    narrative = Path(args.narrative).read_text(encoding="utf-8") if args.narrative else ""
    given = SignOff(args.by, args.role, args.on or dt.date.today(), narrative)
    entry, new = sign_off(workbook, given, args.data_dir)
    print(f"{workbook.name}: {'signed off' if new else 'already signed off'} by {entry.signed_off_by} "
          f"({entry.signed_off_role}) on {entry.signed_off_on:%d/%m/%Y}; figures sha256 {entry.figures_sha256}")
    info = load(workbook)
    note = resume_paused_run(info.flow_run_id, {"name": given.by, "role": given.role, "date": given.on.isoformat(),
                                                "narrative": narrative, "confirm": True})
    if note:
        print(note)
    else:
        print(f"next: bcf submit {workbook}")
    return EXIT_OK


def cmd_submit(args: argparse.Namespace) -> int:
    from bcf.submission.deliver import describe_changes, submit

    outcome = submit(Path(args.workbook), args.resend, args.data_dir)
    print(outcome.message)
    if outcome.changes:
        print("\n".join(describe_changes(outcome.changes, limit=10)))
    return EXIT_OK


def cmd_submissions(args: argparse.Namespace) -> int:
    from bcf.core.settings import data_dir
    from bcf.submission import register

    where = data_dir(args.data_dir)
    if not (where / "warehouse.duckdb").exists():
        raise FileNotFoundError(f"no warehouse in {where} (--data-dir or BCF_DATA_DIR)")
    with register.opened(where, "bcf submissions") as con:
        rows = register.entries(con, args.hwb, args.fund_year)
    header = ["when (UTC)", "event", "hwb", "return", "period", "signed off by", "figures", "file sha256",
              "transport", "recipient", "message id", "id", "replaces"]
    table = [[f"{(e.sent_at or e.signed_off_at):%Y-%m-%d %H:%M}" if (e.sent_at or e.signed_off_at) else "",
              e.event + (" (resend)" if e.resend else ""), e.hwb, e.return_kind, e.period,
              f"{e.signed_off_by}, {e.signed_off_role} ({e.signed_off_on})", e.figures_sha256[:12],
              (e.file_sha256 or "")[:12], e.transport or "", e.recipient or "", e.message_id or "", e.id,
              e.replaces or ""] for e in rows]
    if args.format == "csv":
        import csv

        from bcf.transforms.workbook import csv_safe

        writer = csv.writer(sys.stdout)
        writer.writerow(register.COLUMNS)
        writer.writerows([csv_safe(v) for v in e.as_json().values()] for e in rows)
        return EXIT_OK
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    for r in [header, *table]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not rows:
        print("(no sign-offs or submissions recorded)")
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    from bcf.submission import calendar

    now = args.as_at or dt.datetime.now()
    items = calendar.states(args.hwb, Path(args.out), args.data_dir, now, args.fund_year)
    print(calendar.render(items))
    if args.alert:
        sent = calendar.raise_alerts(items, now)
        for line in sent:
            print(line)
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    so = sub.add_parser("signoff", help="record the return's sign-off for the HWB, bound to its figures")
    so.add_argument("workbook")
    so.add_argument("--by", required=True, help="who signs it off (name)")
    so.add_argument("--role", required=True, help="their role, e.g. 'Director of Adult Social Care'")
    so.add_argument("--on", type=_date, help="the sign-off date (default today)")
    so.add_argument("--narrative", help="a text file with the narrative sent with the return")
    so.add_argument("--data-dir", help="warehouse holding the register (default: the one the run used)")
    so.set_defaults(func=lambda a: _guarded(cmd_signoff, a))

    sm = sub.add_parser("submit", help="send the signed-off return to the national team (SMTP or outbox)")
    sm.add_argument("workbook")
    sm.add_argument("--resend", action="store_true", help="send again even though these figures went already")
    sm.add_argument("--data-dir", help="warehouse holding the register (default: the one the run used)")
    sm.set_defaults(func=lambda a: _guarded(cmd_submit, a))

    ss = sub.add_parser("submissions", help="the register: every sign-off and submission")
    ss.add_argument("--hwb")
    ss.add_argument("--fund-year", help="like 2022-23")
    ss.add_argument("--format", choices=["table", "csv"], default="table")
    ss.add_argument("--data-dir")
    ss.set_defaults(func=lambda a: _guarded(cmd_submissions, a))

    cal = sub.add_parser("calendar", help="due dates, past and coming, with each return's state")
    cal.add_argument("--hwb", help="HWB code (default BCF_HWB)")
    cal.add_argument("--fund-year", help="like 2022-23 (default: the fund year of --as-at)")
    cal.add_argument("--out", default="returns", help="the returns folder")
    cal.add_argument("--data-dir")
    cal.add_argument("--as-at", type=_datetime, help="judge late / due soon at this time (default now)")
    cal.add_argument("--alert", action="store_true", help="raise the due-soon and late alerts (Prefect events "
                     "for the bcf-return-deadline automation, or bcf/run/alerts.py without a server)")
    cal.set_defaults(func=lambda a: _guarded(cmd_calendar, a))

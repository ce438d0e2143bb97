"""Deadlines: when each return is due (config/settings.toml [deadlines], per fund year), the state of each, and
the alerts for a return due soon and not submitted, or late.

The Discharge Fund report is due on every 14th day from the first national submission Friday
([schedule] fortnight_anchor) for the fortnight ending the Thursday before, at `due_time` (Europe/London); the
quarterly return on the national team's date for each quarter ([deadlines.quarterly]).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bcf.core.dates import FORTNIGHT_DAYS, Fortnight, Quarter, fortnight_anchor, fund_year_of
from bcf.core.settings import env, settings
from bcf.returns.returninfo import blocked_findings
from bcf.submission import register


def _cfg() -> dict:  # type: ignore[type-arg]
    return dict(settings().get("deadlines", {}))


def zone() -> ZoneInfo:
    return ZoneInfo(str(_cfg().get("timezone", "Europe/London")))


def _due_at(day: dt.date) -> dt.datetime:
    hour, minute = (int(p) for p in str(_cfg().get("due_time", "17:00")).split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone())


@dataclass
class Due:
    hwb: str
    kind: str  # df | bcf
    period: str  # period end (df) or quarter label (bcf)
    due: dt.datetime
    workbook: str
    state: str = "not produced"
    sent_at: dt.datetime | None = None
    late: bool = False
    submitted: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} {self.hwb} {self.period}"


def due_dates(hwb: str, fund_year: str) -> list[Due]:
    """Every due date of the fund year (`2022-23`), in order."""
    start = dt.date(int(fund_year[:4]), 4, 1)
    end = dt.date(start.year + 1, 3, 31)
    out: list[Due] = []
    if fund_year in _cfg().get("fortnightly_fund_years", []):
        friday = fortnight_anchor()
        while friday - dt.timedelta(days=1) <= end:
            period_end = friday - dt.timedelta(days=1)
            if period_end >= start:
                f = Fortnight.ending(period_end)
                out.append(Due(hwb, "df", period_end.isoformat(), _due_at(friday), f.file_name(hwb)))
            friday += dt.timedelta(days=FORTNIGHT_DAYS)
    for label, day in dict(_cfg().get("quarterly", {})).items():
        if label.startswith(fund_year + "-Q"):
            q = Quarter.parse(label)
            out.append(Due(hwb, "bcf", q.label, _due_at(dt.date.fromisoformat(str(day))), q.file_name(hwb)))
    return sorted(out, key=lambda d: d.due)


def _aware(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=zone()) if when.tzinfo is None else when


def states(hwb: str | None, out_dir: Path, data_dir: str | Path | None, now: dt.datetime,
           fund_year: str | None = None) -> list[Due]:
    """Each due date with its state: submitted (when), blocked, awaiting sign-off, signed off (not sent),
    not produced; `late` when past due and not submitted (or submitted after the due time)."""
    from bcf.core.settings import data_dir as default_data_dir
    from bcf.core.settings import hwb_reference

    hwb = hwb or env().hwb
    if not hwb:
        raise ValueError("which HWB? --hwb CODE (or BCF_HWB)")
    if hwb not in hwb_reference():
        raise ValueError(f"HWB code {hwb} is not in config/hwb.csv")
    now = _aware(now)
    year = fund_year or fund_year_of(now.date())
    where = default_data_dir(data_dir)
    entries: list[register.Entry] = []
    if (where / "warehouse.duckdb").exists():
        with register.opened(where, "bcf calendar") as con:
            entries = register.entries(con, hwb)
    items = due_dates(hwb, year)
    for item in items:
        mine = [e for e in entries if e.return_kind == item.kind and e.period == item.period]
        sent = [e for e in mine if e.event == "submission"]
        workbook = out_dir / item.workbook
        if sent:
            first = min(e.sent_at for e in sent if e.sent_at is not None)
            item.sent_at = first.replace(tzinfo=dt.UTC).astimezone(zone())
            item.submitted = True
            item.late = item.sent_at > item.due
            item.state = f"submitted {item.sent_at:%d/%m/%Y %H:%M}" + (" (late)" if item.late else "")
            if len(sent) > 1:
                item.state += f", {len(sent) - 1} more since"
            continue
        if blocked_findings(workbook).exists():
            item.state = "blocked"
        elif workbook.exists():
            item.state = "signed off, not sent" if any(e.event == "signoff" for e in mine) else "awaiting sign-off"
        item.late = now > item.due
        if item.late:
            item.state = f"late ({item.state})"
    return items


def render(items: list[Due]) -> str:
    if not items:
        return "(no due dates configured for this fund year: config/settings.toml [deadlines])"
    rows = [["due", "return", "period", "state"]] + [
        [f"{i.due:%a %d/%m/%Y %H:%M}", i.kind, i.period, i.state] for i in items]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def alerts_due(items: list[Due], now: dt.datetime) -> list[tuple[str, Due]]:
    """(late | due-soon, item) for every return not submitted that is past due, or due within alert_hours_before."""
    now = _aware(now)
    window = dt.timedelta(hours=float(_cfg().get("alert_hours_before", 24)))
    out = []
    for item in items:
        if item.submitted:
            continue
        if now > item.due:
            out.append(("late", item))
        elif item.due - now <= window:
            out.append(("due-soon", item))
    return out


def raise_alerts(items: list[Due], now: dt.datetime) -> list[str]:
    """A Prefect event per alert (`bcf.return.late` / `bcf.return.due-soon`, which the bcf-return-deadline
    automation notifies on) when a Prefect server is configured; else the fallback channel of bcf/run/alerts.py."""
    from bcf.core.settings import use_prefect
    from bcf.run.alerts import Alert, send

    lines = []
    prefect = use_prefect()
    for what, item in alerts_due(items, now):
        reason = (f"{item.label} was due {item.due:%a %d/%m/%Y %H:%M} and is not submitted: {item.state}"
                  if what == "late" else f"{item.label} is due {item.due:%a %d/%m/%Y %H:%M} and is not submitted: "
                                         f"{item.state}")
        if prefect:
            from prefect.events import emit_event

            emit_event(event=f"bcf.return.{what}", resource={
                "prefect.resource.id": f"bcf.return.{item.kind}.{item.hwb}.{item.period.replace(' ', '-')}",
                "prefect.resource.name": item.label, "bcf.return": item.kind, "bcf.hwb": item.hwb,
                "bcf.period": item.period}, payload={"due": item.due.isoformat(), "state": item.state,
                                                     "reason": reason})
            lines.append(f"event bcf.return.{what}: {reason}")
        else:
            channels = send(Alert(what, "submission deadline", item.hwb, item.period, reason,
                                  f"bcf calendar --hwb {item.hwb}"))
            lines.append(f"alert {what} ({', '.join(channels) or 'no alert channel configured'}): {reason}")
    if prefect and lines:
        from prefect.events.worker import EventsWorker

        # the events go out from a background worker; `bcf` ends without waiting for such threads: send them now
        EventsWorker.drain_all(timeout=30)
    return lines

"""Deployments served by `bcf serve`: the fortnightly return every 14 days, anchored on the first national
Discharge Fund submission date (Friday 6 January 2023), and the quarterly return after each quarter end."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from prefect.schedules import Cron, Interval, Schedule

from bcf.settings import settings
from flows.fortnightly import fortnightly_flow
from flows.quarterly import quarterly_flow

LONDON = ZoneInfo("Europe/London")
RUN_AT = dt.time(7, 0)  # early morning on submission day, before the officer starts work


def fortnight_schedule() -> Schedule:
    anchor = dt.date.fromisoformat(settings()["schedule"]["fortnight_anchor"])
    return Interval(dt.timedelta(days=14), anchor_date=dt.datetime.combine(anchor, RUN_AT, tzinfo=LONDON),
                    timezone="Europe/London")


def quarter_schedule() -> Schedule:
    """The run day of January, April, July and October: the quarter just ended is complete by then."""
    day = int(settings()["quarterly"]["run_day"])
    return Cron(f"{RUN_AT.minute} {RUN_AT.hour} {day} 1,4,7,10 *", timezone="Europe/London")


def build_deployments(source: str, hwb: str, out_dir: str, data_dir: str) -> list[Any]:
    """Parameterised by HWB and source; each run computes its own period from its run date."""
    common = {"source": source, "hwb": hwb, "out_dir": out_dir, "data_dir": data_dir}
    fortnightly = fortnightly_flow.to_deployment(
        name=f"discharge-fund-fortnightly-{hwb.lower()}",
        schedules=[fortnight_schedule()],
        parameters=common,
        tags=["bcf", "discharge-fund", hwb],
        description="Discharge Fund fortnightly return, every 14 days from Friday 6 January 2023",
    )
    quarterly = quarterly_flow.to_deployment(
        name=f"bcf-quarterly-{hwb.lower()}",
        schedules=[quarter_schedule()],
        parameters=common,
        tags=["bcf", "quarterly", hwb],
        description="BCF quarterly return, after each quarter end, for the quarter just ended",
    )
    return [fortnightly, quarterly]

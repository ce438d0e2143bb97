"""The served deployments: schedule and parameters (building them needs no server)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bcf.core.dates import backfill_period_ends, latest_quarter_before
from bcf.flows.deployments import build_deployments, fortnight_schedule, quarter_schedule


def test_fortnightly_runs_every_14_days_from_friday_6_january_2023() -> None:
    schedule = fortnight_schedule()
    assert schedule.interval == dt.timedelta(days=14)
    assert schedule.anchor_date == dt.datetime(2023, 1, 6, 7, 0, tzinfo=ZoneInfo("Europe/London"))
    assert schedule.anchor_date.weekday() == 4  # a Friday


def test_deployment_is_parameterised_by_hwb_and_source() -> None:
    fortnightly, quarterly = build_deployments("s3://bucket/rutland/", "E06000017", "returns", "bcf_data")
    expected = {"source": "s3://bucket/rutland/", "hwb": "E06000017", "out_dir": "returns", "data_dir": "bcf_data"}
    assert fortnightly.parameters == expected and quarterly.parameters == expected  # each run finds its own period


def test_quarterly_runs_after_each_quarter_end_for_the_quarter_just_ended() -> None:
    # 07:00 on the 10th of January, April, July, October, or the next working day (issue 24; was a plain cron)
    assert "RRULE:FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=10,11,12;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1" in \
        str(quarter_schedule().rrule)
    assert latest_quarter_before(dt.date(2023, 4, 10)) == "2022-23-Q4"
    assert latest_quarter_before(dt.date(2023, 1, 10)) == "2022-23-Q3"
    assert latest_quarter_before(dt.date(2023, 7, 1)) == "2023-24-Q1"
    assert latest_quarter_before(dt.date(2023, 6, 30)) == "2022-23-Q4"


def test_backfill_lists_every_scheduled_period_end_in_range() -> None:
    assert backfill_period_ends(dt.date(2023, 1, 1), dt.date(2023, 2, 20)) == [
        dt.date(2023, 1, 5), dt.date(2023, 1, 19), dt.date(2023, 2, 2), dt.date(2023, 2, 16)]
    assert backfill_period_ends(dt.date(2023, 1, 6), dt.date(2023, 1, 18)) == []

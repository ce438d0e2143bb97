"""Date arithmetic of the two returns, in one place: the April-March fund year, the quarter, the fortnight and the
fortnightly submission schedule (anchored on config/settings.toml [schedule] fortnight_anchor)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from bcf.core.settings import settings

FORTNIGHT_DAYS = 14


def fund_year_start(day: dt.date) -> dt.date:
    """1 April of the fund year holding the day."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def fund_year_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def fund_year_of(day: dt.date) -> str:
    """`2022-23` for any day from 1 April 2022 to 31 March 2023."""
    return fund_year_label(fund_year_start(day).year)


def quarter_bounds(fund_year_start_year: int, n: int) -> tuple[dt.date, dt.date]:
    """First and last day of quarter n (1..4) of the fund year starting 1 April of the year given."""
    start = dt.date(fund_year_start_year + (n == 4), (4, 7, 10, 1)[n - 1], 1)
    end = dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


# A period is a date range and nothing else: the HWB a return is run for is given beside it (params(hwb),
# file_name(hwb)), so one fortnight or quarter serves every HWB of an ICB.
@dataclass(frozen=True)
class Fortnight:
    period_start: dt.date
    period_end: dt.date
    fund_year: str
    fy_start: dt.date

    @classmethod
    def ending(cls, period_end: dt.date) -> Fortnight:
        fy_start = fund_year_start(period_end)
        return cls(period_end - dt.timedelta(days=FORTNIGHT_DAYS - 1), period_end,
                   fund_year_label(fy_start.year), fy_start)

    def params(self, hwb: str) -> dict[str, Any]:
        """The SQL parameters of this fortnight's return for one HWB."""
        return {"hwb": hwb, "period_start": self.period_start, "period_end": self.period_end,
                "fund_year": self.fund_year, "fy_start": self.fy_start}

    def file_name(self, hwb: str) -> str:
        return f"df_fortnightly_{hwb}_{self.period_end.isoformat()}.xlsx"


@dataclass(frozen=True)
class Quarter:
    fund_year: str  # 2023-24
    number: int  # 1..4
    q_start: dt.date
    q_end: dt.date
    fy_start: dt.date

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """`2023-24-Q3` (the command line) or `2023-24 Q3` (the plan)."""
        match = re.fullmatch(r"(\d{4})-(\d{2})[- ]Q([1-4])", text.strip())
        if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
            raise ValueError(f"not a quarter like 2023-24-Q3: {text}")
        year, n = int(match.group(1)), int(match.group(3))
        start, end = quarter_bounds(year, n)
        return cls(fund_year_label(year), n, start, end, dt.date(year, 4, 1))

    @property
    def label(self) -> str:
        return f"{self.fund_year} Q{self.number}"

    @property
    def months(self) -> list[dt.date]:
        return [dt.date(self.q_start.year, self.q_start.month + i, 1) for i in range(3)]

    def params(self, hwb: str) -> dict[str, Any]:
        """The SQL parameters of this quarter's return for one HWB."""
        return {"hwb": hwb, "quarter": self.label, "q_start": self.q_start, "q_end": self.q_end,
                "fund_year": self.fund_year, "fy_start": self.fy_start,
                # the cross-source checks share the fortnightly parameter names: "the period" is the quarter
                "period_start": self.q_start, "period_end": self.q_end}

    def file_name(self, hwb: str) -> str:
        return f"bcf_quarterly_{hwb}_{self.fund_year}_Q{self.number}.xlsx"


def fortnight_anchor() -> dt.date:
    """The first national Discharge Fund submission Friday: every fortnightly run is a multiple of 14 days on."""
    return dt.date.fromisoformat(settings()["schedule"]["fortnight_anchor"])


def scheduled_period_end(run_date: dt.date) -> dt.date:
    """A scheduled run on a submission Friday reports the 14 days up to the day before (Friday to Thursday)."""
    anchor = fortnight_anchor()
    steps = (run_date - anchor).days // FORTNIGHT_DAYS
    return anchor + dt.timedelta(days=FORTNIGHT_DAYS * steps) - dt.timedelta(days=1)


def backfill_period_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every scheduled period end (the Thursday before each submission Friday) between two dates, inclusive."""
    ends = []
    end = scheduled_period_end(first + dt.timedelta(days=1))
    if end < first:
        end += dt.timedelta(days=FORTNIGHT_DAYS)
    while end <= last:
        ends.append(end)
        end += dt.timedelta(days=FORTNIGHT_DAYS)
    return ends


def latest_quarter_before(run_date: dt.date) -> str:
    """The last quarter that ended before the run date, as 2023-24-Q3."""
    ends = [dt.date(run_date.year - 1, 12, 31), dt.date(run_date.year, 3, 31), dt.date(run_date.year, 6, 30),
            dt.date(run_date.year, 9, 30), dt.date(run_date.year, 12, 31)]
    end = max(e for e in ends if e < run_date)
    n = {6: 1, 9: 2, 12: 3, 3: 4}[end.month]
    return f"{fund_year_of(end)}-Q{n}"


def next_working_day(day: dt.date) -> dt.date:
    """The day itself, or the Monday after when it falls on a Saturday or Sunday."""
    return day + dt.timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)


def quarterly_run_date(year: int, month: int) -> dt.date:
    """When the scheduled quarterly run goes (settings.toml [quarterly] run_day of January, April, July, October),
    on the next working day when that day is a weekend: 10 January 2027 is a Sunday, so Monday 11 January."""
    return next_working_day(dt.date(year, month, int(settings()["quarterly"]["run_day"])))

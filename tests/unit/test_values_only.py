"""The board briefing computes the periods no run produced with the values only (engine.evaluate lineage=False):
each model's rows summed as they are made, derived figures from their inputs' sums. Every figure must be the one the
return itself computes, figure for figure, to the last digit: on the demo year, every quarter and a fortnight of
each quarter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bcf.core.dates import Fortnight, Quarter
from bcf.returns import fortnightly, quarterly
from bcf.warehouse import db

HWB = "E06000017"
FORTNIGHTS = [dt.date(2022, 5, 5), dt.date(2022, 9, 8), dt.date(2022, 12, 15), dt.date(2023, 3, 30)]


@pytest.mark.slow
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_a_quarter_by_values_only_is_the_return_figure_for_figure(demo_warehouse: Path, n: int) -> None:
    quarter = Quarter.parse(f"2022-23-Q{n}")
    with db.connect(demo_warehouse, read_only=True) as con:
        full = quarterly.compute(con, HWB, quarter).figures
        lineage_rows = con.execute("SELECT count(*) FROM contrib").fetchone()
        values = quarterly.compute(con, HWB, quarter, lineage=False).figures
        left = con.execute("SELECT count(*) FROM contrib").fetchone()
    assert lineage_rows and lineage_rows[0] > 0 and left == (0,)  # no contribution row kept by values only
    assert [f.id for f in values] == [f.id for f in full]
    assert [repr(f.value) for f in values] == [repr(f.value) for f in full]
    assert sum(1 for f in full if f.value) > 50  # a real quarter, not a sheet of zeros


@pytest.mark.slow
def test_a_fortnight_by_values_only_is_the_return_figure_for_figure(demo_warehouse: Path) -> None:
    with db.connect(demo_warehouse, read_only=True) as con:
        for end in FORTNIGHTS:
            period = Fortnight.ending(end)
            full = fortnightly.compute(con, HWB, period).figures
            values = fortnightly.compute(con, HWB, period, lineage=False).figures
            assert [(f.id, repr(f.value)) for f in values] == [(f.id, repr(f.value)) for f in full], end


def test_the_hand_counted_quarter_by_values_only(q_warehouse: Path) -> None:
    """The hand-counted quarterly fixture (tests/fixtures.py): derived figures, ratios and plan values included."""
    quarter = Quarter.parse("2022-23-Q4")
    with db.connect(q_warehouse, read_only=True) as con:
        full = quarterly.compute(con, HWB, quarter).figures
        values = quarterly.compute(con, HWB, quarter, lineage=False).figures
    assert [(f.id, repr(f.value)) for f in values] == [(f.id, repr(f.value)) for f in full]

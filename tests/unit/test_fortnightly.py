"""Backtests of the Discharge Fund fortnightly return (no Prefect): hand-counted fixture and the demo's golden file."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bcf.fortnightly import Fortnight, compute, scheduled_period_end
from bcf.ingest import stage_file
from bcf.sources import land, list_source, staging_key
from tests.fixtures import EXPECTED_DF, HWB, write_df_fixture
from transforms.figures import round_half_away
from transforms.validate import RowValidator
from warehouse import db

GOLDEN = Path(__file__).parents[1] / "golden" / "df_fortnightly_E06000017_2023-03-30.json"


@pytest.fixture(scope="module")
def validator() -> RowValidator:
    return RowValidator()


def load(con: duckdb.DuckDBPyConnection, folder: Path, landing: Path, validator: RowValidator,
         today: dt.date = dt.date(2023, 2, 1)) -> None:
    objects = sorted(list_source(str(folder)), key=staging_key)
    for obj in objects:
        result = stage_file(con, obj, land(obj, landing), "run", b"k", validator, today)
        assert result.rows_rejected == 0, result.findings


def as_text(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def test_every_df_figure_equals_the_hand_count(tmp_path: Path, validator: RowValidator) -> None:
    with db.connect(tmp_path / "wh.duckdb") as con:
        load(con, write_df_fixture(tmp_path / "src"), tmp_path / "landing", validator)
        ret = compute(con, Fortnight.ending(HWB, dt.date(2023, 1, 19)))
        got = {f.id: as_text(f.value) for f in ret.figures}
        assert got["df.period_start"] == "2023-01-06" and got["df.period_end"] == "2023-01-19"
        del got["df.period_start"], got["df.period_end"]
        assert got == EXPECTED_DF
        # lineage reconciles: every summed figure is the sum of its contribution rows
        for f in ret.figures:
            if f.spec.kind in ("count", "money", "units", "days"):
                total = con.execute("SELECT coalesce(sum(contribution), 0) FROM contrib WHERE figure_id = ?",
                                    [f.id]).fetchone()
                assert Decimal(total[0]) == f.value, f.id


def test_numbers_are_decimals_never_floats(tmp_path: Path, validator: RowValidator) -> None:
    with db.connect(tmp_path / "wh.duckdb") as con:
        load(con, write_df_fixture(tmp_path / "src"), tmp_path / "landing", validator)
        ret = compute(con, Fortnight.ending(HWB, dt.date(2023, 1, 19)))
    assert not [f.id for f in ret.figures if isinstance(f.value, float)]


def test_half_away_from_zero() -> None:
    assert round_half_away(Decimal("1.25"), 1) == Decimal("1.3")
    assert round_half_away(Decimal("-1.25"), 1) == Decimal("-1.3")
    assert round_half_away(Decimal("0.125"), 2) == Decimal("0.13")
    assert round_half_away(Decimal("2.5"), 0) == Decimal("3")


def test_blank_average_when_no_one_had_a_ready_date(tmp_path: Path, validator: RowValidator) -> None:
    with db.connect(tmp_path / "wh.duckdb") as con:
        load(con, write_df_fixture(tmp_path / "src"), tmp_path / "landing", validator)
        ret = compute(con, Fortnight.ending(HWB, dt.date(2022, 6, 2)))  # a fortnight with no discharges
    assert ret.value("df.discharges.total") == 0
    assert ret.value("df.discharges.avg_delay_days") is None
    assert ret.value("df.scheme.df02.spend_fortnight") == Decimal("1000.00")


@pytest.mark.parametrize(("run_date", "period_end"), [
    (dt.date(2023, 1, 6), dt.date(2023, 1, 5)),  # the first national submission: the fortnight to Thursday
    (dt.date(2023, 1, 19), dt.date(2023, 1, 5)),  # the day before the next submission Friday
    (dt.date(2023, 1, 20), dt.date(2023, 1, 19)),
    (dt.date(2023, 3, 31), dt.date(2023, 3, 30)),
])
def test_scheduled_period_end(run_date: dt.date, period_end: dt.date) -> None:
    assert scheduled_period_end(run_date) == period_end


def test_demo_return_matches_its_golden_figures(tmp_path: Path, validator: RowValidator) -> None:
    """The demo's latest fortnight, from the demo's own seed: guards every figure against regressions."""
    from bcf.cli import DEMO_FROM, DEMO_HWB, DEMO_SCALE, DEMO_SEED, DEMO_TO
    from bcf.synthetic import generate

    generate(DEMO_HWB, DEMO_FROM, DEMO_TO, DEMO_SCALE, DEMO_SEED, tmp_path / "src")
    with db.connect(tmp_path / "wh.duckdb") as con:
        load(con, tmp_path / "src", tmp_path / "landing", validator, today=dt.date(2023, 4, 1))
        ret = compute(con, Fortnight.ending(DEMO_HWB, dt.date(2023, 3, 30)))
    got = {f.id: as_text(f.value) for f in ret.figures}
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got["df.check.plan_within_income"] == "No"  # Rutland's real 2022-23 plan overspends its income
    assert got["df.spend.planned"] == "286371.00" and got["df.income.total"] == "268371.00"

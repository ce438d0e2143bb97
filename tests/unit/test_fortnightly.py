"""Backtests of the Discharge Fund fortnightly return (no Prefect): hand-counted fixture and the demo's golden file."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bcf.core.dates import Fortnight, scheduled_period_end
from bcf.returns.fortnightly import compute
from bcf.transforms.figures import round_half_away
from bcf.warehouse import db
from tests.fixtures import EXPECTED_DF, HWB, load  # noqa: F401 - load: for the quarterly backtests' import

GOLDEN = Path(__file__).parents[1] / "golden" / "df_fortnightly_E06000017_2023-03-30.json"


def lineage_keys(con: duckdb.DuckDBPyConnection, figure_id: str) -> dict[str, Decimal]:
    """The rows that made a figure, as business key -> contribution (the lineage the workbook exports)."""
    rows = con.execute("SELECT row_key, sum(contribution) FROM contrib WHERE figure_id = ? GROUP BY row_key",
                       [figure_id]).fetchall()
    return {k: Decimal(v) for k, v in rows}


def as_text(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def test_every_df_figure_equals_the_hand_count(df_warehouse: Path) -> None:
    with db.connect(df_warehouse) as con:
        ret = compute(con, HWB, Fortnight.ending(dt.date(2023, 1, 19)))
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
        # ... and the rows are the ones counted by hand in tests/fixtures.py, nothing else
        assert lineage_keys(con, "df.discharges.total") == {
            "RWE:S1": 1, "RWE:S2": 1, "RWE:S3": 1, "RWE:S4": 1, "RGN:S11": 1}
        assert lineage_keys(con, "df.scheme.df01.spend_fortnight") == {
            "T1": Decimal("100.10"), "T2": Decimal("200.20"), "T6": Decimal("-20.05")}
        balance = lineage_keys(con, "df.balance")  # income rows count +, DF spend to date -
        assert balance["income:2022-23/la_discharge"] == 2500 and balance["T11"] == -1000
        assert "T7" not in balance and "T12" not in balance and "T13" not in balance  # not DF / no DF plan / other HWB
        assert set(lineage_keys(con, "df.discharges.avg_delay_days")) == {"RWE:S1", "RWE:S2", "RWE:S3", "RGN:S11"}


def test_numbers_are_decimals_never_floats(df_warehouse: Path) -> None:
    with db.connect(df_warehouse) as con:
        ret = compute(con, HWB, Fortnight.ending(dt.date(2023, 1, 19)))
    assert not [f.id for f in ret.figures if isinstance(f.value, float)]


def test_half_away_from_zero() -> None:
    assert round_half_away(Decimal("1.25"), 1) == Decimal("1.3")
    assert round_half_away(Decimal("-1.25"), 1) == Decimal("-1.3")
    assert round_half_away(Decimal("0.125"), 2) == Decimal("0.13")
    assert round_half_away(Decimal("2.5"), 0) == Decimal("3")


def test_blank_average_when_no_one_had_a_ready_date(df_warehouse: Path) -> None:
    with db.connect(df_warehouse) as con:
        ret = compute(con, HWB, Fortnight.ending(dt.date(2022, 6, 2)))  # a fortnight with no discharges
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


def test_demo_return_matches_its_golden_figures(demo_warehouse: Path) -> None:
    """The demo's latest fortnight, from the demo's own seed: guards every figure against regressions."""
    from bcf.cli.commands import DEMO_HWB

    with db.connect(demo_warehouse) as con:
        ret = compute(con, DEMO_HWB, Fortnight.ending(dt.date(2023, 3, 30)))
    got = {f.id: as_text(f.value) for f in ret.figures}
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got["df.check.plan_within_income"] == "No"  # Rutland's real 2022-23 plan overspends its income
    assert got["df.spend.planned"] == "286371.00" and got["df.income.total"] == "268371.00"


def test_a_fortnight_straddling_1_april_counts_all_of_p_but_to_date_starts_on_1_april(df_warehouse: Path) -> None:
    """P = 25/03/2022 .. 07/04/2022: T4 (31/03/2022, £999.99, last fund year) is in P; T3 (01/04/2022, £50) is in
    P and to date (returns.md part A: "all of P, also days before 1 April")."""
    with db.connect(df_warehouse) as con:
        ret = compute(con, HWB, Fortnight.ending(dt.date(2022, 4, 7)))
    assert ret.value("df.scheme.df01.spend_fortnight") == Decimal("1049.99")
    assert ret.value("df.scheme.df01.spend_to_date") == Decimal("50.00")
    assert ret.value("df.scheme.df01.output_fortnight") == Decimal("0.50")  # T4 has no units


def test_the_order_of_work_comes_from_declared_inputs_not_from_the_registry_order(df_warehouse: Path) -> None:
    """Declarations in reverse (every check and total before the figures it reads) give the same figures; a loop
    of derivations is refused."""
    from bcf.returns.fortnightly import REGISTRY, dimensions
    from bcf.transforms.figures import FigureDef, Input
    from bcf.warehouse import engine

    period = Fortnight.ending(dt.date(2023, 1, 19))
    with db.connect(df_warehouse) as con:
        expected = {f.id: f.value for f in compute(con, HWB, period).figures}
        engine.bind(con, period.params(HWB))
        got = {f.id: f.value for f in engine.evaluate(con, list(reversed(REGISTRY)), dimensions(con), HWB, period)}
        assert got == expected
        loop = [FigureDef("x.a", "a", "money", "", inputs=(Input("x.b"),)),
                FigureDef("x.b", "b", "money", "", inputs=(Input("x.a"),))]
        with pytest.raises(ValueError, match="loop"):
            engine.evaluate(con, loop, {}, HWB, period)

"""Backtests of the BCF quarterly return (no Prefect): every figure against a hand count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bcf.core.dates import Quarter
from bcf.core.settings import codes
from bcf.returns.quarterly import assess, compute
from bcf.warehouse import db
from tests.fixtures import EXPECTED_CD, EXPECTED_Q, EXPECTED_Q_SCHEME_SOURCES, HWB
from tests.unit.test_fortnightly import as_text


@pytest.fixture
def quarter_db(q_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with db.connect(q_warehouse) as con:
        yield con


def test_every_quarterly_figure_equals_the_hand_count(quarter_db: duckdb.DuckDBPyConnection) -> None:
    ret = compute(quarter_db, HWB, Quarter.parse("2022-23-Q4"))
    got = {f.id: as_text(f.value) for f in ret.figures}
    cd = {k: v for k, v in got.items() if k.startswith("q.cd.")}
    rest = {k: v for k, v in got.items() if not k.startswith("q.cd.")}
    assert rest == {**EXPECTED_Q, **EXPECTED_Q_SCHEME_SOURCES}  # the second: added with part B's per-source lines
    assert len(cd) == 5 * 3 * 3
    for fid, value in cd.items():
        tag, part = fid.rsplit(".", 1)
        demand, capacity, gap = EXPECTED_CD.get(tag, ("0", "None", "None"))
        assert value == {"demand": demand, "capacity": capacity, "gap": gap}[part], fid


def test_per_source_scheme_lines_add_up_to_the_scheme_and_are_in_the_built_in_sheet(
        quarter_db: duckdb.DuckDBPyConnection) -> None:
    from bcf.returns.q_workbook import layouts
    from bcf.transforms.workbook import Ref

    ret = compute(quarter_db, HWB, Quarter.parse("2022-23-Q4"))
    values = {f.id: f.value for f in ret.figures}
    pairs = {(sid, source) for sid, source in ret.scheme_sources}
    assert ("B01", "la_discharge") in pairs and len(pairs) == 7  # one pair from the ledger alone
    for sid, _name in ret.schemes:
        slug = sid.lower().replace(" ", "_").replace("/", "_")
        for part in ("planned_spend", "actual_spend_ytd", "planned_output", "actual_output_ytd"):
            lines = [values[f"q.scheme.{slug}.{source}.{part}"] for s, source in ret.scheme_sources if s == sid]
            assert sum(lines) == values[f"q.scheme.{slug}.{part}"], (sid, part)  # type: ignore[arg-type]
    sheet = next(s for s in layouts(ret) if s.name == "Spend and Activity")
    placed = {c.figure_id for row in sheet.rows for c in row if isinstance(c, Ref)}
    assert {k for k in values if k.startswith("q.scheme.")} == placed


def test_falls_dsr_from_the_esp_weights(quarter_db: duckdb.DuckDBPyConnection) -> None:
    weights = {b: Decimal(w) for b, w in codes()["esp2013_65plus"].items()}
    assert weights == {"65-69": 5500, "70-74": 5000, "75-79": 4000, "80-84": 2500, "85-89": 1500, "90+": 1000}
    counts = {"65-69": 1, "90+": 1}  # Q5 (66) and Q6 (91)
    population = {"65-69": 1000, "70-74": 800, "75-79": 600, "80-84": 400, "85-89": 200, "90+": 100}
    dsr = sum(Decimal(counts.get(b, 0)) / population[b] * w for b, w in weights.items()) / sum(weights.values())
    expected = (dsr * 100_000).quantize(Decimal("0.1"))
    ret = compute(quarter_db, HWB, Quarter.parse("2022-23-Q4"))
    assert ret.value("q.metric.falls.actual") == expected == Decimal("79.5")


def test_quarter_and_ytd_boundaries(quarter_db: duckdb.DuckDBPyConnection) -> None:
    q3 = compute(quarter_db, HWB, Quarter.parse("2022-23-Q3"))
    # Q3 (Oct-Dec): only Q3's spell admitted 31/12/2022 is an ACSC emergency admission in the quarter
    assert q3.value("q.metric.avoidable_admissions.numerator") == 1
    assert q3.value("q.metric.falls.plan") == Decimal("1.0")
    # year to date at Q3 end excludes the postings of January-March
    assert q3.value("q.ie.la_discharge.expenditure_ytd") == Decimal("50.00")  # T3 (1 April) only
    assert q3.value("q.template_status") == "Incomplete"


@pytest.mark.parametrize(("metric", "actual", "plan", "expected"), [
    ("falls", Decimal("500.04"), Decimal("500.0"), "On track to meet target"),  # 500.0 as reported: a tie
    ("falls", Decimal("500.05"), Decimal("500.0"), "Not on track to meet target"),  # 500.1 as reported
    ("reablement_91d", Decimal("79.95"), Decimal("80.0"), "On track to meet target"),  # 80.0
    ("reablement_91d", Decimal("79.94"), Decimal("80.0"), "Not on track to meet target"),  # 79.9
    ("avoidable_admissions", None, Decimal("1"), "Data not available to assess progress"),
    ("residential_admissions", Decimal("1"), None, "Data not available to assess progress"),
])
def test_assessment_in_both_directions(metric: str, actual: Decimal | None, plan: Decimal | None,
                                       expected: str) -> None:
    assert assess(metric, actual, plan) == expected


def test_quarter_parsing() -> None:
    q = Quarter.parse("2023-24-Q3")
    assert (q.q_start, q.q_end, q.fy_start, q.label) == (dt.date(2023, 10, 1), dt.date(2023, 12, 31),
                                                         dt.date(2023, 4, 1), "2023-24 Q3")
    q4 = Quarter.parse("2023-24 Q4")
    assert (q4.q_start, q4.q_end) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert q4.file_name(HWB) == "bcf_quarterly_E06000017_2023-24_Q4.xlsx"
    with pytest.raises(ValueError):
        Quarter.parse("2023-25-Q1")


def test_demo_quarter_matches_its_golden_figures(demo_warehouse: Path) -> None:
    import json

    from bcf.cli.commands import DEMO_HWB

    golden = Path(__file__).parents[1] / "golden" / "bcf_quarterly_E06000017_2022-23_Q4.json"
    with db.connect(demo_warehouse) as con:
        ret = compute(con, DEMO_HWB, Quarter.parse("2022-23-Q4"))
    assert {f.id: as_text(f.value) for f in ret.figures} == json.loads(golden.read_text(encoding="utf-8"))

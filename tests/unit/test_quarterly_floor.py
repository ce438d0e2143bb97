"""The quarterly's own floor (scripts/quarterly_floor.py: bare DuckDB straight from the files, no validation, no
warehouse) agrees with the pipeline's quarterly return on the demo year: every figure, and every lineage row."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType

import duckdb

from bcf.core.dates import Quarter
from bcf.returns.quarterly import compute
from bcf.warehouse import db
from tests.unit.test_fortnightly import as_text

ROOT = Path(__file__).resolve().parents[2]


def floor_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quarterly_floor", ROOT / "scripts" / "quarterly_floor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows_per_figure(rows: Counter[tuple[object, ...]]) -> Counter[object]:
    per: Counter[object] = Counter()
    for row, n in rows.items():
        per[row[0]] += n
    return per


def test_the_floor_agrees_with_the_quarterly_return_figure_for_figure(demo_warehouse: Path) -> None:
    from bcf.cli.commands import DEMO_HWB

    # the demo_warehouse fixture staged this folder (the demo's year, its own seed)
    with duckdb.connect() as fcon:
        floor = floor_script().quarterly_floor(demo_warehouse.parent / "extracts", DEMO_HWB, "2022-23-Q4", con=fcon)
        floor_rows = Counter(fcon.execute("SELECT figure_id, role, file, row, key, contribution FROM lineage")
                             .fetchall())
        floor_sources = dict(fcon.execute("SELECT figure_id, count(DISTINCT (file, row, key)) FROM lineage "
                                          "GROUP BY 1").fetchall())
    with db.connect(demo_warehouse) as con:
        ret = compute(con, DEMO_HWB, Quarter.parse("2022-23-Q4"))
        bcf_rows = Counter(con.execute("SELECT figure_id, role, file_name, source_row, row_key, contribution "
                                       "FROM contrib").fetchall())

    assert {f.id: as_text(f.value) for f in ret.figures} == {k: as_text(v) for k, v in floor.items()}
    assert len(floor) == 184
    # lineage: per figure, the same number of rows and of source rows; then row for row
    assert rows_per_figure(floor_rows) == rows_per_figure(bcf_rows)
    assert {f.id: f.source_rows for f in ret.figures if f.source_rows} == floor_sources
    assert floor_rows == bcf_rows
    assert sum(bcf_rows.values()) > 10_000

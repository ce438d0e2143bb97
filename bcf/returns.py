"""The two returns as the pipeline produces them: compute, layout and writer, in one place for the flows and for
`bcf reproduce`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

from bcf import df_workbook, q_workbook
from bcf.fortnightly import Fortnight
from bcf.fortnightly import compute as compute_fortnightly
from bcf.produce import Computed
from bcf.quarterly import Quarter
from bcf.quarterly import compute as compute_quarterly
from bcf.settings import config_dir, settings
from transforms.template import fill_template, load_cell_map
from transforms.workbook import write_workbook


def fortnightly(period: Fortnight) -> Callable[[duckdb.DuckDBPyConnection], Computed]:
    def build(con: duckdb.DuckDBPyConnection) -> Computed:
        ret = compute_fortnightly(con, period)
        return Computed(ret.figures, df_workbook.layouts(ret), df_workbook.ALLOWED_BLANK)
    return build


def default_cell_map() -> Path:
    return config_dir() / settings()["quarterly"]["cell_map"]


def quarterly(quarter: Quarter, template: str | None = None,
              cell_map: str | None = None) -> Callable[[duckdb.DuckDBPyConnection], Computed]:
    def build(con: duckdb.DuckDBPyConnection) -> Computed:
        ret = compute_quarterly(con, quarter)
        if template:
            cells = load_cell_map(Path(cell_map) if cell_map else default_cell_map(), quarter.months)

            def writer(path, _layouts, figures, _blank):  # type: ignore[no-untyped-def]
                return fill_template(Path(template), path, figures, cells)
        else:
            writer = partial(write_workbook, checklist=False)
        return Computed(ret.figures, q_workbook.layouts(ret), q_workbook.allowed_blank(ret), writer)
    return build

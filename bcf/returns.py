"""The two returns as the pipeline produces them: compute, layout and writer, in one place for the flows and for
`bcf reproduce`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb

from bcf import df_workbook, q_workbook
from bcf.fortnightly import Fortnight
from bcf.fortnightly import compute as compute_fortnightly
from bcf.produce import Computed
from bcf.quarterly import Quarter
from bcf.quarterly import compute as compute_quarterly
from core.settings import default_cell_map
from transforms.template import fill_template, load_cell_map
from transforms.workbook import write_workbook


@dataclass(frozen=True)
class TemplateOptions:
    """`--template FILE [--cell-map MAP] [--template-lineage] [--accept-template-losses]`."""

    template: str | None = None
    cell_map: str | None = None
    lineage: bool = False  # add the Lineage sheet and a defined name per figure to the filled template
    accept_losses: bool = False  # fill even when openpyxl would drop part of the template


def _writer(options: TemplateOptions, which: str, months: list[dt.date]):  # type: ignore[no-untyped-def]
    cells = load_cell_map(Path(options.cell_map) if options.cell_map else default_cell_map(which), months)

    def writer(path, _layouts, figures, _blank):  # type: ignore[no-untyped-def]
        return fill_template(Path(options.template or ""), path, figures, cells, options.lineage,
                             options.accept_losses)
    return writer


def fortnightly(period: Fortnight, options: TemplateOptions | None = None,
                signoff: dict[str, str] | None = None) -> Callable[[duckdb.DuckDBPyConnection], Computed]:
    """`signoff` (completed_by, contact, signed_off_by, signed_off_on) fills the built-in Cover's fields."""
    def build(con: duckdb.DuckDBPyConnection) -> Computed:
        ret = compute_fortnightly(con, period)
        layouts = df_workbook.layouts(ret, signoff)
        if options and options.template:
            return Computed(ret.figures, layouts, df_workbook.ALLOWED_BLANK, _writer(options, "fortnightly", []))
        return Computed(ret.figures, layouts, df_workbook.ALLOWED_BLANK)
    return build


def quarterly(quarter: Quarter, template: str | None = None, cell_map: str | None = None,
              options: TemplateOptions | None = None,
              signoff: dict[str, str] | None = None) -> Callable[[duckdb.DuckDBPyConnection], Computed]:
    options = options or TemplateOptions(template, cell_map)

    def build(con: duckdb.DuckDBPyConnection) -> Computed:
        ret = compute_quarterly(con, quarter)
        if options.template:
            writer = _writer(options, "quarterly", quarter.months)
        else:
            writer = partial(write_workbook, checklist=False)
        return Computed(ret.figures, q_workbook.layouts(ret, signoff), q_workbook.allowed_blank(ret), writer)
    return build

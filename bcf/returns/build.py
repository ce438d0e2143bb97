"""The two returns as the pipeline produces them: compute, layout and writer, in one place for the flows and for
`bcf reproduce`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bcf.core.dates import Fortnight, Quarter
from bcf.returns import df_workbook, q_workbook
from bcf.returns.cellmap import map_for_run
from bcf.returns.fortnightly import compute as compute_fortnightly
from bcf.returns.produce import Computed
from bcf.returns.quarterly import compute as compute_quarterly
from bcf.transforms.findings import Finding
from bcf.transforms.template import fill_template, load_cell_map, load_signoff_cells
from bcf.transforms.workbook import write_workbook


@dataclass(frozen=True)
class TemplateOptions:
    """`--template FILE [--cell-map MAP] [--template-lineage] [--accept-template-losses]`."""

    template: str | None = None
    cell_map: str | None = None
    lineage: bool = False  # add the Lineage sheet and a defined name per figure to the filled template
    accept_losses: bool = False  # fill even when openpyxl would drop part of the template


def signoff_values(signoff: Mapping[str, str] | None) -> dict[str, str]:
    """The sign-off that goes in a template's sign-off cells: config/settings.toml [signoff] under the options given
    (`--completed-by` ...). A recorded sign-off is passed as `signoff` the same way."""
    from bcf.core.settings import settings

    return {**settings().get("signoff", {}), **{k: v for k, v in (signoff or {}).items() if v}}


def _writer(options: TemplateOptions, which: str, months: list[dt.date],  # type: ignore[no-untyped-def]
            signoff: Mapping[str, str] | None, report: list[Finding], schemes: list[tuple[str, str]]):
    """The template writer, and the text of the map when it was proposed for this run (kept in the pack)."""
    template = Path(options.template or "")
    text = None
    if options.cell_map:
        cells = load_cell_map(Path(options.cell_map), months)
        signoff_cells = load_signoff_cells(Path(options.cell_map))
    else:  # no map: the proposed one, when it places every figure the template has a cell for (else TemplateError)
        proposal, cells = map_for_run(template, which, months, schemes)  # the plan's schemes: lines by name too
        signoff_cells = {k: (v.rsplit("!", 1)[0], v.rsplit("!", 1)[1]) for k, v in proposal.signoff.items()}
        text = proposal.toml(f"Proposed by `bcf cellmap` from {template.name} ({which} return) for this run.")
    values = signoff_values(signoff)

    def writer(path, _layouts, figures, _blank):  # type: ignore[no-untyped-def]
        return fill_template(template, path, figures, cells, options.lineage, options.accept_losses,
                             signoff=values, signoff_cells=signoff_cells, report=report)
    return writer, text


def fortnightly(hwb: str, period: Fortnight, options: TemplateOptions | None = None,
                signoff: dict[str, str] | None = None) -> Callable[[duckdb.DuckDBPyConnection], Computed]:
    """`signoff` (completed_by, contact, signed_off_by, signed_off_on) fills the built-in Cover's fields."""
    def build(con: duckdb.DuckDBPyConnection) -> Computed:
        ret = compute_fortnightly(con, hwb, period)
        layouts = df_workbook.layouts(ret, signoff)
        if options and options.template:
            report: list[Finding] = []
            writer, text = _writer(options, "fortnightly", [], signoff, report,
                                   [(s.scheme_id, s.name) for s in ret.schemes])
            return Computed(ret.figures, layouts, df_workbook.ALLOWED_BLANK, writer, report, text)
        return Computed(ret.figures, layouts, df_workbook.ALLOWED_BLANK)
    return build


def quarterly(hwb: str, quarter: Quarter, template: str | None = None, cell_map: str | None = None,
              options: TemplateOptions | None = None,
              signoff: dict[str, str] | None = None) -> Callable[[duckdb.DuckDBPyConnection], Computed]:
    options = options or TemplateOptions(template, cell_map)

    def build(con: duckdb.DuckDBPyConnection) -> Computed:
        ret = compute_quarterly(con, hwb, quarter)
        report: list[Finding] = []
        writer, text = (_writer(options, "quarterly", quarter.months, signoff, report, ret.schemes)
                        if options.template else (write_workbook, None))
        return Computed(ret.figures, q_workbook.layouts(ret, signoff), q_workbook.allowed_blank(ret), writer, report,
                        text)
    return build

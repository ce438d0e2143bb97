"""Fill a user-supplied XLSX template (the national BCF template of the year) through a cell map.

The cell map (TOML, in config/cellmaps/) maps figure ids to cells: `"q.hwb_name" = "Cover!C4"`. Ids may use {m1},
{m2}, {m3} for the quarter's months (yyyy_mm), so one map serves every quarter of a template. Only mapped cells
change: formatting, data validation, hidden sheets, merged cells, formulas and the template's own defined names are
kept. A mapped cell that is missing, is a formula or sits inside a merged range is an error, never an overwrite.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.workbook.defined_name import DefinedName

from transforms.figures import Figure
from transforms.workbook import FORMATS, _lineage_sheet, safe_text, save_atomically

NOT_MAPPED = ("(not in template)", "")


class TemplateError(Exception):
    """The template and the cell map do not fit: nothing was written."""


def load_cell_map(path: Path, months: list[dt.date]) -> dict[str, tuple[str, str]]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    tags = {f"m{i + 1}": m.strftime("%Y_%m") for i, m in enumerate(months)}
    out: dict[str, tuple[str, str]] = {}
    for figure_id, target in raw.get("cells", {}).items():
        match = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]+)\$?(\d+)", str(target))
        if not match:
            raise TemplateError(f"cell map {path.name}: {figure_id} -> {target!r} is not Sheet!A1")
        out[figure_id.format(**tags)] = (match.group(1), f"{match.group(2)}{match.group(3)}")
    return out


def _is_formula(cell: object) -> bool:
    value = getattr(cell, "value", None)
    return getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("="))


def fill_template(template: Path, out: Path, figures: list[Figure],
                  cell_map: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    try:
        book = load_workbook(template)
    except Exception as exc:
        raise TemplateError(f"The template {template.name} cannot be opened as an XLSX workbook: {exc}") from exc
    problems = []
    if "Lineage" in book.sheetnames:
        problems.append("the template already has a sheet named 'Lineage'; the pipeline adds its own")
    placed: dict[str, tuple[str, str]] = {}
    for f in figures:
        if f.id not in cell_map:
            continue
        sheet_name, coord = cell_map[f.id]
        if sheet_name not in book.sheetnames:
            problems.append(f"{f.id}: the template has no sheet '{sheet_name}'")
            continue
        cell = book[sheet_name][coord]
        if isinstance(cell, MergedCell):
            problems.append(f"{f.id}: {sheet_name}!{coord} is inside a merged range (map its top-left cell)")
        elif _is_formula(cell):
            problems.append(f"{f.id}: {sheet_name}!{coord} holds a formula ({cell.value}); it would be overwritten")
        elif f.id in book.defined_names:
            problems.append(f"{f.id}: the template already defines a name {f.id}")
        placed[f.id] = (sheet_name, coord)
    if problems:
        raise TemplateError("The template does not fit the cell map:\n  " + "\n  ".join(problems))
    for f in figures:
        if f.id not in placed:
            continue
        sheet_name, coord = placed[f.id]
        cell = book[sheet_name][coord]
        if f.value is None:
            cell.value = None
        elif isinstance(f.value, Decimal):
            cell.value = int(f.value) if f.spec.kind in ("count", "days") else f.value
        elif isinstance(f.value, dt.date):
            cell.value = f.value
        else:
            safe_text(cell, str(f.value))
        if cell.number_format == "General" and f.spec.kind in FORMATS:
            cell.number_format = FORMATS[f.spec.kind]  # only where the template set no format of its own
        col, row = re.fullmatch(r"([A-Z]+)(\d+)", coord).groups()  # type: ignore[union-attr]
        ref = "'" + sheet_name.replace("'", "''") + f"'!${col}${row}"
        book.defined_names[f.id] = DefinedName(f.id, attr_text=ref)
    where = {f.id: placed.get(f.id, NOT_MAPPED) for f in figures}
    _lineage_sheet(book, figures, where)
    save_atomically(book, out)
    return where


def cell_map_text(workbook: Path, months: list[dt.date] | None = None) -> str:
    """A cell map from a workbook's defined names: how to start the map for a new template."""
    book = load_workbook(workbook, read_only=False)
    tags = {m.strftime("%Y_%m"): f"{{m{i + 1}}}" for i, m in enumerate(months or [])}
    lines = ["# figure id = \"Sheet!A1\"; {m1} {m2} {m3} stand for the quarter's months (yyyy_mm)", "[cells]"]
    for name, defined in sorted(book.defined_names.items()):
        if not name.startswith(("q.", "df.")):
            continue
        for tag, placeholder in tags.items():
            name = name.replace(f".{tag}.", f".{placeholder}.")
        sheet, cell = next(defined.destinations)
        lines.append(f"\"{name}\" = \"{sheet}!{cell.replace('$', '')}\"")
    return "\n".join(lines) + "\n"

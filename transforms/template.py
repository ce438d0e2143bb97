"""Fill a user-supplied XLSX template (the national BCF template of the year) through a cell map.

The cell map (TOML, in config/cellmaps/) maps figure ids to cells: `"q.hwb_name" = "Cover!C4"`. Ids may use {m1},
{m2}, {m3} for the quarter's months (yyyy_mm), so one map serves every quarter of a template. Only mapped cells
change: formatting, data validation, hidden sheets, merged cells, formulas and the template's own defined names are
kept. A mapped cell that is missing, is a formula or sits inside a merged range is an error, never an overwrite.
Nothing is added that the user did not ask for: the Lineage sheet and a defined name per figure only with
`lineage=True` (the audit pack holds the lineage anyway). Nothing of the template is silently lost: the parts openpyxl
cannot carry (shapes, Excel 2010 cross-sheet validations, sparklines, VBA, ...) are counted in the template and in
the filled file, and any shortfall stops the fill with TemplateLoss unless the user accepts it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
import zipfile
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook

from bcf.transforms.figures import Figure
from bcf.transforms.findings import WARNING, Finding
from bcf.transforms.template_cells import input_cells, validation_breaches
from bcf.transforms.workbook import FORMATS, _lineage_sheet, safe_text, save_atomically

NOT_MAPPED = ("(not in template)", "")


class TemplateError(Exception):
    """The template and the cell map do not fit: nothing was written."""


class TemplateLoss(TemplateError):
    """Filling would drop part of the template (an image, a chart, a validation...): nothing was written."""


# What a template holds that must survive the fill: (label, part of the package, regex counted in it)
FEATURES = [  # (?:p:)? : Excel writes namespace prefixes, openpyxl a default namespace
    ("image", r"xl/drawings/drawing\d+\.xml", r"<(?:xdr:)?pic[\s>]"),
    ("chart", r"xl/charts/chart\d+\.xml", r"<(?:c:)?chartSpace[\s>]"),
    ("shape or text box", r"xl/drawings/drawing\d+\.xml", r"<(?:xdr:)?sp[\s>]"),
    ("data validation", r"xl/worksheets/sheet\d+\.xml", r"<(?:x:)?dataValidation[\s>]"),
    ("cross-sheet data validation (Excel 2010 extension)", r"xl/worksheets/sheet\d+\.xml",
     r"<x14:dataValidation[\s>]"),
    ("conditional format", r"xl/worksheets/sheet\d+\.xml", r"<(?:x:)?conditionalFormatting[\s>]"),
    ("conditional format (Excel 2010 extension)", r"xl/worksheets/sheet\d+\.xml", r"<x14:conditionalFormatting[\s>]"),
    ("sparkline group", r"xl/worksheets/sheet\d+\.xml", r"<x14:sparklineGroup[\s>]"),
    ("form control", r"xl/worksheets/sheet\d+\.xml", r"<(?:x:)?control[\s>]"),
    ("merged range", r"xl/worksheets/sheet\d+\.xml", r"<(?:x:)?mergeCell[\s>]"),
    ("formula", r"xl/worksheets/sheet\d+\.xml", r"<(?:x:)?f[\s>]"),
    ("sheet protection", r"xl/worksheets/sheet\d+\.xml", r"<(?:x:)?sheetProtection[\s>]"),
    ("hidden sheet", r"xl/workbook\.xml", r"<(?:x:)?sheet [^>]*state=\"(?:hidden|veryHidden)\""),
    ("defined name", r"xl/workbook\.xml", r"<(?:x:)?definedName[\s>]"),
    ("comment", r"xl/comments\d*\.xml", r"<(?:x:)?comment[\s>]"),
    ("pivot table", r"xl/pivotTables/pivotTable\d+\.xml", r"<(?:x:)?pivotTableDefinition[\s>]"),
    ("VBA project", r"xl/vbaProject\.bin", r""),
]


def inventory(path: Path) -> Counter[str]:
    """How many of each FEATURE the XLSX package holds."""
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        for label, part, pattern in FEATURES:
            for name in names:
                if not re.fullmatch(part, name):
                    continue
                if not pattern:
                    counts[label] += 1
                    continue
                text = package.read(name).decode("utf-8", errors="replace")
                counts[label] += len(re.findall(pattern, text))
    return counts


def losses(before: Counter[str], after: Counter[str]) -> list[str]:
    return [f"{before[k] - after[k]} of {before[k]} {k}(s)" for k in before if after[k] < before[k]]


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


def load_signoff_cells(path: Path) -> dict[str, tuple[str, str]]:
    """The map's [signoff] table: sign-off option (completed_by, contact, signed_off_by, signed_off_on, signed_off)
    -> (sheet, cell)."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out = {}
    for key, target in raw.get("signoff", {}).items():
        match = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]+)\$?(\d+)", str(target))
        if not match:
            raise TemplateError(f"cell map {path.name}: [signoff] {key} -> {target!r} is not Sheet!A1")
        out[key] = (match.group(1), f"{match.group(2)}{match.group(3)}")
    return out


def _signoff_value(key: str, values: Mapping[str, str]) -> object:
    """What goes in a sign-off cell: the option as given; a date as a real date; the Yes/No 'signed off on behalf
    of the Board' cell Yes once someone signed it off."""
    if key == "signed_off":
        return "Yes" if values.get("signed_off_by") else None
    value = values.get(key) or None
    if key == "signed_off_on" and value:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return value
    return value


def fill_findings(template_name: str, book: Workbook, inputs: dict[tuple[str, str], str]) -> list[Finding]:
    """The fill report: every input cell of the template still empty (the national Checklist's Incomplete), and
    every value that breaks its cell's own data validation."""
    out = []
    for sheet, coord in inputs:
        if book[sheet][coord].value in (None, ""):
            out.append(Finding(WARNING, template_name, None, f"{sheet}!{coord}", None, "template.empty_input",
                               f"{sheet}!{coord} is an input cell of the template ({inputs[(sheet, coord)]}) and is "
                               "still empty: complete it by hand or map a figure to it"))
    for sheet, coord, why in validation_breaches(book):
        value = book[sheet][coord].value
        out.append(Finding(WARNING, template_name, None, f"{sheet}!{coord}", str(value), "template.validation",
                           f"{sheet}!{coord} breaks the template's own data validation: {why}"))
    return out


def _is_formula(cell: object) -> bool:
    value = getattr(cell, "value", None)
    return getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("="))


def fill_template(template: Path, out: Path, figures: list[Figure], cell_map: dict[str, tuple[str, str]],
                  lineage: bool = False, accept_losses: bool = False, signoff: Mapping[str, str] | None = None,
                  signoff_cells: dict[str, tuple[str, str]] | None = None,
                  report: list[Finding] | None = None) -> dict[str, tuple[str, str]]:
    """Write the figures into a copy of the template at `out`. With `lineage`, also a defined name per placed
    figure and a Lineage sheet. Raises TemplateLoss (and leaves no `out`) when the copy would lose anything,
    unless `accept_losses`. `signoff` (the recorded sign-off, or the sign-off options) goes in `signoff_cells`
    (the map's [signoff] table). The fill report's findings (empty input cells, validation breaches) are appended
    to `report` and told on the console."""
    try:
        before = inventory(template)
        book = load_workbook(template, keep_vba=template.suffix.lower() == ".xlsm")
    except Exception as exc:
        raise TemplateError(f"The template {template.name} cannot be opened as an XLSX workbook: {exc}") from exc
    inputs = input_cells(book)  # read before filling: an input fill is known by its empty cells
    problems = []
    if lineage and "Lineage" in book.sheetnames:
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
        elif lineage and f.id in book.defined_names:
            problems.append(f"{f.id}: the template already defines a name {f.id}")
        placed[f.id] = (sheet_name, coord)
    for key, (sheet_name, coord) in (signoff_cells or {}).items():
        if sheet_name not in book.sheetnames or isinstance(book[sheet_name][coord], MergedCell) or \
                _is_formula(book[sheet_name][coord]):
            problems.append(f"sign-off {key}: {sheet_name}!{coord} is not a cell the template lets us fill")
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
        if lineage:
            col, row = re.fullmatch(r"([A-Z]+)(\d+)", coord).groups()  # type: ignore[union-attr]
            ref = "'" + sheet_name.replace("'", "''") + f"'!${col}${row}"
            book.defined_names[f.id] = DefinedName(f.id, attr_text=ref)
    for key, (sheet_name, coord) in (signoff_cells or {}).items():
        value = _signoff_value(key, signoff or {})
        if isinstance(value, str):
            safe_text(book[sheet_name][coord], value)
        elif value is not None:
            book[sheet_name][coord].value = value
    findings = fill_findings(template.name, book, inputs)
    for key, value in (signoff or {}).items():  # a sign-off given but with nowhere to go is said, not dropped
        if value and key not in (signoff_cells or {}):
            findings.append(Finding(WARNING, template.name, None, None, None, "template.signoff_unplaced",
                                    f"sign-off {key} was given but the cell map names no cell for it: add it to "
                                    "the map's [signoff] table"))
    where = {f.id: placed.get(f.id, NOT_MAPPED) for f in figures}
    if lineage:
        _lineage_sheet(book, figures, where)
    save_atomically(book, out)
    lost = losses(before, inventory(out))
    if lost and not accept_losses:
        out.unlink(missing_ok=True)
        raise TemplateLoss(f"Filling {template.name} with openpyxl would lose " + "; ".join(lost) + ". Nothing was "
                           "written. Re-save the template without them, or accept the loss with "
                           "--accept-template-losses.")
    if lost:
        _tell(f"the filled template lost {'; '.join(lost)} (accepted with --accept-template-losses)")
    if findings:
        _tell(f"fill report: {len(findings)} finding(s), each in the audit pack's findings.csv")
        empty: dict[str, list[str]] = {}
        for finding in findings:
            if finding.rule == "template.empty_input":
                sheet_name, coord = str(finding.column).rsplit("!", 1)
                empty.setdefault(sheet_name, []).append(coord)
            else:
                _tell(f"  {finding.message}")
        for sheet_name, coords in empty.items():  # one line per sheet: what the national Checklist calls Incomplete
            _tell(f"  {sheet_name}: {len(coords)} input cell(s) left empty: {', '.join(coords[:12])}"
                  + (" ..." if len(coords) > 12 else ""))
    if report is not None:
        report.extend(findings)
    unmapped = [f.id for f in figures if f.id not in placed]
    if unmapped:  # the cell map leaves these out: say so, the template has no Lineage sheet to show it
        _tell(f"{len(unmapped)} figure(s) have no cell in the map (the template may compute them itself) and were "
              "not written: " + ", ".join(unmapped[:10]) + (" ..." if len(unmapped) > 10 else ""))
    return where


def _tell(message: str) -> None:
    logging.getLogger("bcf").warning(message)
    print(f"template: {message}")  # a flow's log_prints carries it to the run log


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

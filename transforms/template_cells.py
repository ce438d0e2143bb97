"""A national template's own marking of input cells, and its own data validations.

Templates mark where an officer types in three ways: unlocked cells on a protected sheet, an input fill colour
(the yellow cells), and a data validation (a Yes/No list, a whole-number range). `input_cells` reads all three;
`bcf cellmap` proposes only these cells, and the fill report names every one left empty. `validation_breaches`
checks each value against the cell's own validation, as Excel would when it was typed in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal, InvalidOperation

from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet


def is_formula(cell: object) -> bool:
    value = getattr(cell, "value", None)
    return getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("="))


def _fill_key(cell: object) -> str | None:
    """A solid fill's colour as a key (an RGB, or a theme colour and tint); None for no fill."""
    fill = getattr(cell, "fill", None)
    if fill is None or fill.fill_type != "solid":
        return None
    colour = fill.fgColor
    if isinstance(colour.rgb, str):
        return colour.rgb
    return f"theme{colour.theme}:{colour.tint}"


def input_fills(book: Workbook) -> set[str]:
    """The fill colours the template uses for input cells: solid fills most of whose (non-formula) cells are empty.
    Headings and calculated cells carry their own shading, but a heading holds text and a calculated cell a
    formula, so neither colour qualifies."""
    empty: Counter[str] = Counter()
    filled: Counter[str] = Counter()
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        for row in sheet.iter_rows():
            for cell in row:
                key = _fill_key(cell)
                if key is None or isinstance(cell, MergedCell) or is_formula(cell):
                    continue
                (empty if cell.value in (None, "") else filled)[key] += 1
    return {k for k in empty if empty[k] > filled[k]}


def validated_cells(sheet: Worksheet) -> dict[str, object]:
    """coordinate -> the data validation that covers it (within the sheet's used range)."""
    out: dict[str, object] = {}
    for dv in sheet.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for r in range(rng.min_row, min(rng.max_row, sheet.max_row) + 1):
                for c in range(rng.min_col, min(rng.max_col, sheet.max_column) + 1):
                    out.setdefault(f"{get_column_letter(c)}{r}", dv)  # no sheet.cell(): it would create cells
    return out


def input_cells(book: Workbook) -> dict[tuple[str, str], str]:
    """(sheet, coordinate) -> how the template marks it as an input: 'unlocked' (on a protected sheet), 'input
    fill' or 'validation'. Visible sheets only; never a formula or a cell inside a merged range. On a protected
    sheet only unlocked cells count: a locked cell cannot be typed in, whatever its colour."""
    fills = input_fills(book)
    out: dict[tuple[str, str], str] = {}
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        validated = validated_cells(sheet)
        protected = bool(sheet.protection.sheet)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell, MergedCell) or is_formula(cell):
                    continue
                if protected:
                    how = "unlocked" if cell.protection is not None and cell.protection.locked is False else ""
                elif _fill_key(cell) in fills:
                    how = "input fill"
                elif cell.coordinate in validated:
                    how = "validation"
                else:
                    how = ""
                if how:
                    out[(sheet.title, cell.coordinate)] = how
    return out


def _list_values(book: Workbook, sheet: Worksheet, formula: str) -> list[str] | None:
    """The allowed values of a list validation: a literal "Yes,No", a range or a defined name; None if unknown."""
    formula = formula.strip().lstrip("=")
    if formula.startswith('"'):
        return [v.strip() for v in formula.strip('"').split(",")]
    if formula in book.defined_names:
        destinations = list(book.defined_names[formula].destinations)
    else:
        match = re.fullmatch(r"(?:'?(.+?)'?!)?(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", formula)
        if not match:
            return None
        destinations = [(match.group(1) or sheet.title, match.group(2))]
    values: list[str] = []
    for sheet_name, ref in destinations:
        if sheet_name not in book.sheetnames:
            return None
        cells = book[sheet_name][ref.replace("$", "")]
        rows = cells if isinstance(cells, tuple) else ((cells,),)
        for row in rows:
            for cell in row if isinstance(row, tuple) else (row,):
                if cell.value is not None:
                    values.append(str(cell.value))
    return values


def _number(text: str | None) -> Decimal | None:
    try:
        return Decimal(str(text).lstrip("=")) if text not in (None, "") else None
    except InvalidOperation:
        return None


def _within(value: Decimal, operator: str | None, low: Decimal | None, high: Decimal | None) -> bool:
    op = operator or "between"
    if low is None:
        return True  # a bound we cannot read (a formula): Excel's own check is left to Excel
    checks = {"between": lambda: high is None or low <= value <= high,
              "notBetween": lambda: high is None or not low <= value <= high,
              "equal": lambda: value == low, "notEqual": lambda: value != low,
              "greaterThan": lambda: value > low, "lessThan": lambda: value < low,
              "greaterThanOrEqual": lambda: value >= low, "lessThanOrEqual": lambda: value <= low}
    return checks.get(op, lambda: True)()


def breach(book: Workbook, sheet: Worksheet, dv: object, value: object) -> str | None:
    """Why `value` breaks the validation `dv`, or None when it passes (or the rule is not one we can read)."""
    kind = getattr(dv, "type", None)
    if value in (None, ""):
        return None  # an empty input cell is its own finding
    if kind == "list":
        allowed = _list_values(book, sheet, getattr(dv, "formula1", "") or "")
        if allowed is not None and str(value) not in allowed:
            return f"{value!r} is not one of {', '.join(allowed)}"
        return None
    if kind in ("whole", "decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return f"{value!r} is not a number"
        number = Decimal(str(value))
        if kind == "whole" and number != number.to_integral_value():
            return f"{value} is not a whole number"
        low, high = _number(getattr(dv, "formula1", None)), _number(getattr(dv, "formula2", None))
        if not _within(number, getattr(dv, "operator", None), low, high):
            bounds = f"{low} to {high}" if high is not None else f"{getattr(dv, 'operator', '')} {low}"
            return f"{value} is outside the allowed {bounds}"
        return None
    if kind == "date" and not isinstance(value, dt.date):
        return f"{value!r} is not a date"
    return None


def validation_breaches(book: Workbook) -> list[tuple[str, str, str]]:
    """(sheet, coordinate, why) for every filled cell whose value breaks its own data validation."""
    out = []
    for sheet in book.worksheets:
        for coord, dv in validated_cells(sheet).items():
            why = breach(book, sheet, dv, sheet[coord].value)
            if why and not is_formula(sheet[coord]):
                out.append((sheet.title, coord, why))
    return out

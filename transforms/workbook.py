"""Write a return workbook from a layout and its figures: real numbers and dates, a defined name per figure cell,
a Checklist sheet and a Lineage sheet. Saved atomically (temporary name, then rename).

Text that came from extracts is always written as a string cell with the quote prefix, so a spreadsheet never runs
it as a formula (`=HYPERLINK(...)`, `+cmd|...`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from bcf.transforms.figures import Figure

FORMATS = {
    "money": '"£"#,##0.00;[Red]-"£"#,##0.00',
    "units": "#,##0.00",
    "count": "#,##0",
    "days": "#,##0",
    "ratio": "0.0",
    "rate": "#,##0.0",
    "pct": '0.0"%"',  # values are 0-100, not fractions
    "date": "dd/mm/yyyy",
}
# The unit a label names for each kind of figure, so no printed number is "906.00 of what?"
UNITS = {"money": "£", "count": "number", "units": "output units", "days": "days", "pct": "%"}


def with_unit(label: str, kind: str) -> str:
    """`Planned spend (£)`: a label with its figure's unit, unless it already says it."""
    unit = UNITS.get(kind)
    if not unit or f"({unit})" in label or (kind == "pct" and "%" in label):
        return label
    return f"{label} ({unit})"


HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
# what a reader should see at a glance: green = complete / fine, red = missing, "No", or a shortfall
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE")
GOOD_FONT = Font(color="006100")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006", bold=True)
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # a field the officer completes by hand
THIN = Side(style="thin", color="BFBFBF")
INPUT_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


@dataclass(frozen=True)
class Ref:
    """A layout cell that holds a figure."""

    figure_id: str


@dataclass(frozen=True)
class Header:
    """A bold, shaded table header cell."""

    text: str


@dataclass(frozen=True)
class Field:
    """A text cell the officer completes or checks (completed by, contact, sign-off): shaded as an input."""

    text: str


LayoutCell = str | Ref | Header | Field | Decimal | int | None


@dataclass
class SheetLayout:
    name: str
    title: str
    rows: Sequence[Sequence[LayoutCell]]
    widths: Sequence[int] = (46, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18)
    freeze: str | None = "A4"
    notes: list[str] = field(default_factory=list)


# What a spreadsheet may run as a formula when a cell's text starts with it (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)  # as a spreadsheet reads one


def csv_safe(value: object) -> object:
    """A value as a CSV cell a spreadsheet will not run (OWASP CSV injection): text starting = + - @ tab or CR gets
    a leading quote. Numbers stay numbers: -12.50 and +3 are left as they are. The one helper for findings.csv,
    blocked-findings.csv, lineage.csv, revisions.csv and `bcf trace --format csv`."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_text(cell: object, text: str) -> None:
    """Write text as text: a string cell with the quote prefix, never a formula."""
    cell.value = text  # type: ignore[attr-defined]
    cell.data_type = "s"  # type: ignore[attr-defined]
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True  # type: ignore[attr-defined]


def _put_value(sheet: Worksheet, row: int, col: int, figure: Figure) -> None:
    cell = sheet.cell(row=row, column=col)
    value = figure.value
    kind = figure.spec.kind
    if value is None:
        cell.value = None
    elif isinstance(value, Decimal):
        cell.value = int(value) if kind in ("count", "days") else value
    elif isinstance(value, dt.date):
        cell.value = value
    else:
        safe_text(cell, str(value))
    if kind in FORMATS:
        cell.number_format = FORMATS[kind]
    cell.alignment = Alignment(horizontal="left" if kind in ("text", "yesno") else "right")


def _print_setup(sheet: Worksheet, header: str, title_rows: str | None) -> None:
    """Landscape, one page wide, the table heading repeated on every page, the HWB and period in the page header
    and the sheet and page number in the footer: what a person printing or exporting to PDF expects."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    sheet.page_margins.top = sheet.page_margins.bottom = 0.75
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.oddHeader.left.text = header.replace("&", "&&")
    sheet.oddHeader.left.size = 9
    sheet.oddHeader.right.text = "&A"  # sheet name
    sheet.oddHeader.right.size = 9
    sheet.oddFooter.left.text = "Produced by the BCF returns pipeline; figure ids and lineage in the Lineage sheet"
    sheet.oddFooter.left.size = 8
    sheet.oddFooter.right.text = "Page &P of &N"
    sheet.oddFooter.right.size = 8


def print_header(figures: list[Figure]) -> str:
    """'Rutland (E06000017) - fortnight 17/03/2023 to 30/03/2023' from the return's own cover figures."""
    by_id = {f.id: f.value for f in figures}
    prefix = "df" if "df.hwb_code" in by_id else "q"
    who = f"{by_id.get(f'{prefix}.hwb_name') or ''} ({by_id.get(f'{prefix}.hwb_code') or ''})"
    if prefix == "df":
        start, end = by_id.get("df.period_start"), by_id.get("df.period_end")
        when = (f"Discharge Fund fortnight {start:%d/%m/%Y} to {end:%d/%m/%Y}"
                if isinstance(start, dt.date) and isinstance(end, dt.date) else "")
    else:
        when = f"BCF quarterly return {by_id.get('q.quarter') or ''}"
    return f"{who} - {when}"


def _highlight(sheet: Worksheet, coord: str, figure: Figure) -> None:
    """Conditional formats, so a value that changes later (a re-run, a hand edit) is still flagged:
    a No check, an Incomplete status, a negative gap or balance."""
    if figure.spec.kind == "yesno" or figure.id.startswith("q.condition."):
        sheet.conditional_formatting.add(coord, CellIsRule(operator="equal", formula=['"No"'], fill=BAD_FILL,
                                                           font=BAD_FONT))
        sheet.conditional_formatting.add(coord, CellIsRule(operator="equal", formula=['"Yes"'], fill=GOOD_FILL,
                                                           font=GOOD_FONT))
    elif figure.id.endswith("template_status"):
        sheet.conditional_formatting.add(coord, CellIsRule(operator="equal", formula=['"Incomplete"'],
                                                           fill=BAD_FILL, font=BAD_FONT))
        sheet.conditional_formatting.add(coord, CellIsRule(operator="equal", formula=['"Complete"'],
                                                           fill=GOOD_FILL, font=GOOD_FONT))
    elif figure.id.endswith((".gap", ".balance")) or figure.id == "df.balance":
        sheet.conditional_formatting.add(coord, CellIsRule(operator="lessThan", formula=["0"], fill=BAD_FILL,
                                                           font=BAD_FONT))
    elif figure.id.endswith(".assessment"):
        sheet.conditional_formatting.add(coord, CellIsRule(operator="equal", formula=['"Not on track to meet '
                                                                                     'target"'], fill=BAD_FILL,
                                                           font=BAD_FONT))


# Lineage columns: about 180 characters, so fit-to-width on A4 landscape with narrow side margins prints at ~75%
# (it was 236: ~55%, too small to read); the longest figure id and file name fit their column, and long text
# (definitions, file lists, "derived from ...") wraps inside its column instead of being clipped by the next one.
LINEAGE_WIDTHS = [40, 12, 6, 12, 36, 12, 40, 26]
LINE_HEIGHT = 15  # points per wrapped line at the default 11 pt


def _lineage_sheet(book: Workbook, figures: list[Figure], where: dict[str, tuple[str, str]]) -> None:
    sheet = book.create_sheet("Lineage")
    headers = ["figure_id", "sheet", "cell", "value", "definition", "source_rows", "source_files", "query_id"]
    sheet.append(headers)
    for c in sheet[1]:
        c.font, c.fill = BOLD, HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, f in enumerate(figures, start=2):
        sheet_name, coord = where[f.id]
        values: list[object] = [f.id, sheet_name, coord, None, f.spec.definition, f.source_rows,
                                "; ".join(f.files), f.spec.query]
        lines = 1
        for col, v in enumerate(values, start=1):
            cell = sheet.cell(row=n, column=col)
            if isinstance(v, str):
                safe_text(cell, v)
                lines = max(lines, wrapped_lines(v, LINEAGE_WIDTHS[col - 1]))
            else:
                cell.value = v
            cell.alignment = wrap
        _put_value(sheet, n, 4, f)
        value = sheet.cell(row=n, column=4)
        value.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if isinstance(value.value, str):
            lines = max(lines, wrapped_lines(value.value, LINEAGE_WIDTHS[3]))
        # openpyxl cannot measure text: set the height the wrapped lines need (Excel would not grow the row itself)
        sheet.row_dimensions[n].height = LINE_HEIGHT * lines
    for col, width in enumerate(LINEAGE_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "B2"
    sheet.row_dimensions[1].height = LINE_HEIGHT * 2
    sheet.page_margins.left = sheet.page_margins.right = 0.4


def wrapped_lines(text: str, width: int) -> int:
    """How many lines text takes wrapped at word boundaries in a column `width` characters wide (a little narrower
    than the width: proportional fonts and padding)."""
    room, lines, used = max(width - 1, 4), 1, 0
    for word in text.split():
        size = len(word)
        if used and used + 1 + size > room:
            lines, used = lines + 1, 0
        while size > room:  # a long unbroken id fills whole lines: the spreadsheet breaks it anywhere
            lines, size = lines + 1, size - room
        used = used + 1 + size if used else size
    return lines


def _checklist_sheet(book: Workbook, figures: list[Figure], where: dict[str, tuple[str, str]],
                     allowed_blank: set[str]) -> None:
    sheet = book.create_sheet("Checklist", 1)
    sheet["A1"] = "Checklist of required cells"
    sheet["A1"].font = TITLE_FONT
    sheet.append([])
    sheet.append(["Figure", "Where", "Status"])
    for c in sheet[3]:
        c.font, c.fill = BOLD, HEADER_FILL
    for f in figures:
        sheet_name, coord = where[f.id]
        if f.value is not None:
            status = "Complete"
        elif f.id in allowed_blank:
            status = "Blank as the contract prescribes (zero denominator)"
        else:
            status = "Incomplete"
        sheet.append([f.spec.label + f"  ({f.id})", f"'{sheet_name}'!{coord}", status])
    last = sheet.max_row
    for word, fill, font in (("Complete", GOOD_FILL, GOOD_FONT), ("Incomplete", BAD_FILL, BAD_FONT)):
        sheet.conditional_formatting.add(f"C4:C{last}", CellIsRule(operator="equal", formula=[f'"{word}"'],
                                                                   fill=fill, font=font))
    for col, width in enumerate([70, 34, 48], start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "A4"


def write_workbook(path: Path, layouts: list[SheetLayout], figures: list[Figure],
                   allowed_blank: set[str] | None = None, checklist: bool = True) -> dict[str, tuple[str, str]]:
    """Write the workbook atomically; returns figure id -> (sheet, cell). Every figure must be placed once."""
    by_id = {f.id: f for f in figures}
    where: dict[str, tuple[str, str]] = {}
    book = Workbook()
    book.remove(book.active)
    for layout in layouts:
        sheet = book.create_sheet(layout.name)
        sheet["A1"] = layout.title
        sheet["A1"].font = TITLE_FONT
        for r, row in enumerate(layout.rows, start=3):
            if any(isinstance(i, Header) and len(i.text) > 14 for i in row):
                sheet.row_dimensions[r].height = 30  # room for a wrapped two-line header
            for c, item in enumerate(row, start=1):
                if item is None:
                    continue
                cell = sheet.cell(row=r, column=c)
                if isinstance(item, Ref):
                    figure = by_id[item.figure_id]
                    if figure.id in where:
                        raise ValueError(f"figure {figure.id} is placed twice in the layout")
                    _put_value(sheet, r, c, figure)
                    _highlight(sheet, cell.coordinate, figure)
                    where[figure.id] = (layout.name, cell.coordinate)
                    ref = f"{_quote(layout.name)}!${get_column_letter(c)}${r}"
                    book.defined_names[figure.id] = DefinedName(figure.id, attr_text=ref)
                elif isinstance(item, Header):
                    safe_text(cell, item.text)
                    cell.font, cell.fill = BOLD, HEADER_FILL
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                elif isinstance(item, Field):
                    if item.text:
                        safe_text(cell, item.text)
                    cell.fill, cell.border = INPUT_FILL, INPUT_BORDER
                elif isinstance(item, str):
                    safe_text(cell, item)
                else:
                    cell.value = item
        for n, note in enumerate(layout.notes, start=len(layout.rows) + 4):
            safe_text(sheet.cell(row=n, column=1), note)
            sheet.cell(row=n, column=1).font = Font(italic=True, color="666666")
        for col, width in enumerate(layout.widths, start=1):
            sheet.column_dimensions[get_column_letter(col)].width = width
        if layout.freeze:
            sheet.freeze_panes = layout.freeze
    missing = [f.id for f in figures if f.id not in where]
    if missing:
        raise ValueError(f"figures not placed in the layout: {missing[:5]}")
    if checklist:
        _checklist_sheet(book, figures, where, allowed_blank or set())
    _lineage_sheet(book, figures, where)
    header = print_header(figures)
    for sheet in book.worksheets:
        # a layout's table heading is row 3 (title in row 1); the Checklist's and Lineage's are rows 3 and 1
        _print_setup(sheet, header, "1:1" if sheet.title == "Lineage" else "3:3")
    save_atomically(book, path)
    return where


def _quote(sheet_name: str) -> str:
    return "'" + sheet_name.replace("'", "''") + "'"


def temporary_beside(path: Path) -> Path:
    """A new, empty temporary file beside `path` (to write, then os.replace onto it), created with mode 0666 less
    the umask (0644 usually), as any saved file is: tempfile.mkstemp would make it 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(6)}{path.suffix}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def save_atomically(book: Workbook, path: Path) -> None:
    """Save under a temporary name beside the target, then rename."""
    tmp = temporary_beside(path)
    try:
        book.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cell_values(path: Path) -> dict[tuple[str, str], object]:
    """(sheet, coordinate) -> value of every non-empty cell, dates as ISO text; defined names under sheet ''."""
    book = load_workbook(path)
    out: dict[tuple[str, str], object] = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                value = cell.value.isoformat() if isinstance(cell.value, dt.date | dt.datetime) else cell.value
                out[(sheet.title, str(cell.coordinate))] = value
    for name, defined in sorted(book.defined_names.items()):
        out[("", f"name {name}")] = defined.attr_text
    return out


def cells_hash(path: Path) -> str:
    """sha256 over every non-empty cell (sheet, coordinate, type, value) and the defined names: what the workbook
    says, independent of the bytes openpyxl happens to write."""
    digest = hashlib.sha256()
    for (sheet, coord), value in cell_values(path).items():
        if sheet:
            digest.update(f"{sheet}!{coord}={type(value).__name__}:{value}\n".encode())
        else:
            digest.update(f"{coord}={value}\n".encode())
    return digest.hexdigest()

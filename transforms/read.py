"""Read a CSV or XLSX extract into text: every value a string, every row numbered as the supplier sees it.

Reading to text first means CSV and XLSX go through the same parsing and validation, and a rejected row can be
kept exactly as it arrived. Row numbers: header = 1, so the first data row is 2; for CSV the number is the record
number, which is the row a spreadsheet program shows when it opens the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from bcf.core.settings import SupplierMapping
from bcf.transforms.findings import ERROR, WARNING, FileProblem, Finding

SOURCE_ROW = "source_row"
MAX_FIELD_CHARS = 10_000  # longer than any real value; a longer one is a row fault, not a reason to stop reading
_OTHER_DELIMITERS = (";", "\t", "|")
# An XLSX is a zip: a small file can expand to gigabytes (a zip bomb), or place one cell so far out that the
# reader builds a grid of billions of empty cells. Both are checked before the workbook is parsed. Far above any
# real extract (100,000 rows x 20 columns is 2 million cells, some 60 MB of XML).
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_CELLS = 20_000_000
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # what astype("str") gives: the frames' text dtype


@dataclass
class RawTable:
    """A file (or plan sheet) as text. `frame` has one str column per header plus the int column `source_row`."""

    file_name: str
    sheet: str | None
    header: list[str]  # canonical names after supplier mapping, lower-case
    original_header: list[str]
    frame: pd.DataFrame
    problems: list[Finding] = field(default_factory=list)  # row faults found while reading (ragged rows)


def normalise_header(name: object) -> str:
    return str(name if name is not None else "").strip().lstrip("\ufeff").strip().lower()


def _apply_mapping(header: list[str], mapping: SupplierMapping | None) -> list[str]:
    names = [normalise_header(h) for h in header]
    if mapping is None:
        return names
    lookup = {normalise_header(k): v for k, v in mapping.columns.items()}
    return [lookup.get(n, n) for n in names]


def _check_header(file_name: str, header: list[str]) -> None:
    if not any(header):
        raise FileProblem("file.no_header", "The first row is empty: the header row must be row 1.")
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise FileProblem(
                "file.duplicate_column", f"Column '{name}' appears twice in the header.", column=name, value=name
            )
        seen.add(name)


def read_csv(path: Path, file_name: str, mapping: SupplierMapping | None = None) -> RawTable:
    plain = _read_plain_csv(path, file_name, mapping)
    if plain is not None:
        return plain
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileProblem(
            "file.encoding",
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}). "
            "Save it again as 'CSV UTF-8' and re-send it.",
        ) from exc
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        original = next(reader)
    except StopIteration as exc:
        raise FileProblem("file.empty", "The file is empty: no header row and no data rows.") from exc
    except csv.Error as exc:
        raise FileProblem("file.unreadable", f"The header row cannot be read as CSV: {exc}.") from exc
    if len(original) == 1 and any(d in original[0] for d in _OTHER_DELIMITERS):
        delim = next(d for d in _OTHER_DELIMITERS if d in original[0])
        shown = "tab" if delim == "\t" else f"'{delim}'"
        raise FileProblem(
            "file.delimiter",
            f"The header is separated by {shown}, not commas. Export the file as comma-separated CSV.",
            value=original[0][:80],
        )
    header = _apply_mapping(original, mapping)
    _check_header(file_name, header)
    fast = _read_regular_csv(text, header)
    if fast is not None:
        return RawTable(file_name, None, header, original, fast, [])
    rows, numbers, problems = _read_records(text, file_name, len(header))
    return RawTable(file_name, None, header, original, _frame(header, rows, numbers), problems)


def _read_plain_csv(path: Path, file_name: str, mapping: SupplierMapping | None) -> RawTable | None:
    """The fast path for the common extract, read by Arrow's CSV parser straight from the file: no quote character
    and no NUL anywhere (so a record is a line and a comma always separates), and every line exactly the header's
    width (Arrow refuses any other; it reads an empty line as a row of empty values, dropped below as the exact
    reader drops it, so Arrow's row i is record i + 2). None for anything else, and the exact reader below reads
    the file, so a fault is reported exactly as before (the encoding first). The file is looked through and read
    a block at a time, never held whole beside its table (a 16-million-discharge year's CSV is 0.8 GB)."""
    with open(path, "rb") as fh:
        first = fh.read(_BLOCK)
        if b'"' in first or b"\0" in first:
            return None
        while block := fh.read(_BLOCK):
            if b'"' in block or b"\0" in block:
                return None
    try:
        original = _first_line(first).decode("utf-8-sig").split(",")
    except UnicodeDecodeError:
        return None
    if len(first) == _BLOCK and b"\n" not in first and b"\r" not in first:
        return None  # a header line longer than a block: the exact reader says what it is
    header = _apply_mapping(original, mapping)
    if len(header) < 2 or len(set(header)) != len(header):
        return None  # one column (a wrong delimiter?) or a repeated name: the exact reader says which
    try:
        _check_header(file_name, header)
    except FileProblem:
        return None
    table = _arrow_plain_csv(path, len(header))
    if table is None:
        return None
    columns = {name: _stripped(table.column(i)) for i, name in enumerate(header)}
    frame = pd.DataFrame({name: _text_array(col) for name, col in columns.items()})
    frame[SOURCE_ROW] = np.arange(2, len(frame) + 2, dtype=np.int64)
    blank = _all_blank(list(columns.values()))
    if blank.any():  # a row of empty values is not a received row (its record number is kept by the others)
        frame = frame[~blank].reset_index(drop=True)
    return RawTable(file_name, None, header, original, frame, [])


def _first_line(data: bytes) -> bytes:
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    return data[: min(ends)] if ends else data


_BLOCK = 1 << 24  # bytes read at a time


def _arrow_plain_csv(path: Path, width: int) -> pa.Table | None:
    """Every field as text, nothing turned into null; None when any line is not `width` fields or not UTF-8. Read
    as 64-bit-offset text, which the frames' text dtype (TEXT) holds: read as 32-bit, each column was copied into
    it again (3.7 s for 13 million rows)."""
    names = [f"c{i}" for i in range(width)]
    try:
        return pa_csv.read_csv(
            str(path),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names, block_size=_BLOCK),
            parse_options=pa_csv.ParseOptions(quote_char=False, double_quote=False, escape_char=False,
                                              newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.large_string()),
                                                  null_values=[],
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                  check_utf8=True),
        )
    except pa.ArrowInvalid:
        return None


# What str.strip() removes: Python's whitespace, which is more than Arrow's own (U+001C..U+001F, U+0085). Written
# out, not found by testing every code point at import (0.2 s of every command); a test checks it against that.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# The bytes a value may start or end with for the strip to have nothing to do: ASCII that is not whitespace
# (a byte >= 0x80 may begin or end a multi-byte space such as U+00A0).
_NEEDS_STRIP = np.array([chr(b).isspace() or b >= 0x80 for b in range(256)], dtype=bool)


_Text = TypeVar("_Text", pa.Array, pa.ChunkedArray)


def _stripped(column: _Text) -> _Text:
    """str.strip() of every value, exactly; skipped (it costs more than the read) when no value starts or ends
    with a byte that could be whitespace, which is every column of a typical extract."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if not any(_edge_may_strip(chunk) for chunk in chunks):
        return column
    return pc.utf8_trim(column, characters=WHITESPACE)


def _edge_may_strip(chunk: pa.Array) -> bool:
    """Whether some value's first or last byte may be whitespace. An empty value reads its neighbour's byte
    instead: at worst a needless (exact) strip, never a missed one."""
    data = chunk.buffers()[2]
    if data is None or data.size == 0:  # no value has a byte at all
        return False
    width = 8 if chunk.type == pa.large_string() else 4
    offsets = np.frombuffer(chunk.buffers()[1], dtype=f"<i{width}", count=len(chunk) + 1,
                            offset=chunk.offset * width)
    raw = np.frombuffer(data, dtype=np.uint8)
    last = len(raw) - 1
    return bool(_NEEDS_STRIP[raw[np.minimum(offsets[:-1], last)]].any()
                or _NEEDS_STRIP[raw[np.maximum(offsets[1:] - 1, 0)]].any())


def _all_blank(columns: list[pa.ChunkedArray]) -> np.ndarray:
    blank = pc.equal(columns[0], "")
    for col in columns[1:]:
        blank = pc.and_(blank, pc.equal(col, ""))
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)


def _text_array(column: pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """An Arrow column as pandas' own text dtype ("str", Arrow-backed), without a copy."""
    return pd.array(column, dtype=TEXT)


def _open_quote(text: str) -> tuple[int, str] | None:
    """(lines before the record, the error) when a quote is opened and never closed: CSV would read the rest of the
    file as one value. Other strictness faults are left to the tolerant reader, as before."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 0
    try:
        for _ in reader:
            line = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return line, str(exc)
    return None


def _read_records(text: str, file_name: str, width: int) -> tuple[list[list[str]], list[int], list[Finding]]:
    """The exact record-by-record reader: every record of the header's width is a row; a longer or shorter one is a
    row finding; empty fields past the header (a trailing comma) are dropped with one warning; a quote left open
    makes the rest of the file unreadable as CSV, so each line from it on is a rejected row (nothing swallowed)."""
    open_quote = _open_quote(text)
    rest: list[str] = []
    if open_quote is not None:
        lines = text.splitlines(keepends=True)
        text, rest = "".join(lines[:open_quote[0]]), lines[open_quote[0]:]
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)  # the header, read already
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: list[Finding] = []
    trailing: list[int] = []
    record = 1
    try:
        for values in reader:
            record += 1
            if not any(v.strip() for v in values):
                continue  # a blank line is not a received row
            if len(values) > width and not any(v.strip() for v in values[width:]):
                trailing.append(record)
                values = values[:width]
            if len(values) != width:
                problems.append(
                    Finding(
                        ERROR, file_name, record, None, None, "row.field_count",
                        f"Row has {len(values)} values but the header has {width} columns "
                        "(a stray comma or a missing quote?).",
                    )
                )
                values = (values + [""] * width)[:width]
            rows.append([v.strip() for v in values])
            numbers.append(record)
    except csv.Error as exc:
        raise FileProblem("file.unreadable", f"The file stops being valid CSV near row {record + 1}: {exc}.") from exc
    if open_quote is not None:
        _rest_rejected(rest, file_name, width, record + 1, rows, numbers, problems)
    if trailing:
        problems.append(Finding(
            WARNING, file_name, None, None, None, "row.trailing_empty_fields",
            f"{len(trailing)} row(s), from row {trailing[0]}, end with empty values past the header's {width} "
            "columns (a trailing comma?): the empty values were ignored."))
    return rows, numbers, problems


def _rest_rejected(rest: list[str], file_name: str, width: int, first: int,
                   rows: list[list[str]], numbers: list[int], problems: list[Finding]) -> None:
    """A record that CSV cannot end (a quote opened and never closed): it and every line after it are received
    rows that cannot be read reliably. Each becomes a rejected row, split on commas as it stands, so rows received
    = loaded + rejected still counts them all. Numbered one record per line from the record the quote opens."""
    for offset, physical in enumerate(rest):
        if not physical.strip():
            continue
        number = first + offset
        values = (physical.rstrip("\r\n").split(",") + [""] * width)[:width]
        rows.append([v.strip()[:MAX_FIELD_CHARS + 1] for v in values])
        numbers.append(number)
        problems.append(Finding(
            ERROR, file_name, number, None, physical.strip()[:80], "row.unterminated_quote",
            f"A quote opened in row {first} is never closed, so that row and every row after it cannot be read as "
            "CSV; each is rejected. Close the quote (or remove the stray \" character) and re-send the file."))


def _widths(text: str) -> set[int]:
    """The field counts of the file's records (0 for a blank line). Without a quote in the file a record is a line
    and its commas say its width (fast); otherwise the csv module counts them (a quote never closed: {-1})."""
    if '"' not in text:
        lines = text.split("\n")
        widths = {n + 1 for n in map(str.count, lines, repeat(","))}
        if 1 in widths:  # one field: a blank line, or a record of one value
            widths.discard(1)
            widths |= {1 if line.strip() else 0 for line in lines if "," not in line}
        return widths
    try:
        return {len(r) if any(r) else 0 for r in csv.reader(io.StringIO(text, newline=""), strict=True)}
    except csv.Error:
        return {-1}


def _read_regular_csv(text: str, header: list[str]) -> pd.DataFrame | None:
    """The fast path: pandas' C parser, for a file whose every record has exactly the header's width. Any
    irregularity (a short or long record, a quote never closed) returns None and the exact record-by-record reader
    takes over, so the findings are the same either way. pandas pads a short record with '' and makes a long first
    record's first field the index, so the widths are counted by the csv module first (C speed).
    Record numbers are kept: blank lines stay rows until dropped here."""
    width = len(header)
    if _widths(text) - {0, width}:
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, skiprows=1, names=header, dtype=str, index_col=False,
                            keep_default_na=False, skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError):
        return None
    if list(frame.columns) != header:
        return None
    missing = frame.isna()
    blank = missing.all(axis=1)
    if missing[~blank].any(axis=None):
        return None  # a short record: report it exactly
    frame = pd.DataFrame({name: _text_array(_stripped(pa.chunked_array(pa.array(frame[name].astype("str").array))))
                          for name in header})
    frame[SOURCE_ROW] = pd.array(frame.index.to_numpy() + 2, dtype="int64")
    keep = ~blank & (frame[header] != "").any(axis=1)
    return frame[keep].reset_index(drop=True)


def _frame(header: list[str], rows: list[list[str]], numbers: list[int]) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    frame = pd.DataFrame({name: pd.array(list(col), dtype="str") for name, col in zip(header, columns, strict=True)})
    frame[SOURCE_ROW] = pd.array(numbers, dtype="int64")
    return frame


def cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV would carry: 21.0 -> '21', a date cell -> '2023-01-05'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta | dt.time):
        return str(value)
    return str(value).strip()


def _column_number(letters: bytes) -> int:
    n = 0
    for c in letters:
        n = n * 26 + c - 64
    return n


def check_xlsx_size(path: Path) -> None:
    """Refuse a workbook that would expand beyond a sane size, from the zip's own directory and each sheet's XML
    (streamed, never held whole), before any parser sees it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a zip at all: the workbook reader reports it as corrupt
    with archive:
        infos = archive.infolist()
        total = sum(i.file_size for i in infos)
        if total > MAX_XLSX_UNCOMPRESSED:
            raise FileProblem(
                "file.too_large",
                f"The workbook expands to {total / 1e6:,.0f} MB when opened (limit "
                f"{MAX_XLSX_UNCOMPRESSED / 1e6:,.0f} MB): it was not read. Send the data as CSV, or remove the "
                "padding or hidden content.")
        for info in infos:
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            with archive.open(info) as fh:
                rows, cols, cells = _sheet_extent(iter(lambda: fh.read(1 << 22), b""))
            if rows * cols > MAX_XLSX_CELLS or cells > MAX_XLSX_CELLS:
                raise FileProblem(
                    "file.too_large",
                    f"A sheet reaches {rows:,} rows x {cols:,} columns ({max(rows * cols, cells):,} cells; limit "
                    f"{MAX_XLSX_CELLS:,}): it was not read. Clear the cells outside the data and re-send it.")


# Cell and row elements, counted as elements: a writer may leave out the r="A1" references, and a reader then
# places each cell after the one before, so the references alone would see no extent at all. A namespace prefix
# (<x:c>) is allowed for; `<c` must be followed by whitespace, '>' or '/' (not <col>, <cols>, <cfRule>).
_ELEMENT_ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_ROW_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*):worksheet[\s>]")
_REF_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_REF_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')


def _tokens(prefix: bytes, name: bytes) -> tuple[bytes, ...]:
    return tuple(b"<" + prefix + name + end for end in _ELEMENT_ENDS)


def _sheet_extent(chunks: Iterator[bytes]) -> tuple[int, int, int]:
    """(rows, columns, cell elements) a sheet's XML spans. Referenced cells give their own extent; cells and rows
    without references continue from the last one, so they add to it: columns = furthest reference + most
    reference-free cells in one row, rows = furthest reference + reference-free row elements. Elements are found
    from the positions of '<' in numpy (_Starts), never row by row in Python: a 345,300-row sheet without
    references took 4.4 s row by row, and is the reckoning tests/unit/test_edges_21.py checks this against. A chunk
    is cut at its last '<', so no element is split between chunks (an element's name holds no '<')."""
    cell_tokens, row_tokens = _tokens(b"", b"c"), _tokens(b"", b"row")
    max_row = max_col = unref_rows = cells = widest = current = 0  # current: reference-free cells, this row
    tail = b""
    first = True
    for chunk in chunks:
        block = tail + chunk
        if first:
            found = _PREFIX.search(block[:4096])
            if found:  # a prefixed sheet: its references are not read, so all its cells count as reference-free
                cell_tokens += _tokens(found.group(1) + b":", b"c")
                row_tokens += _tokens(found.group(1) + b":", b"row")
            first = False
        cut = block.rfind(b"<")
        # a tail of a megabyte is one huge element whose name is whole already: read it now
        part, tail = (block[:cut], block[cut:]) if cut >= 0 and len(block) - cut < 1 << 20 else (block, b"")
        letters = set(_REF_COLUMN.findall(part))
        if letters:
            max_col = max(max_col, *map(_column_number, letters))
            numbers = set(_REF_ROW.findall(part))
            if numbers:
                max_row = max(max_row, *map(int, numbers))
        starts = _Starts(part, max(map(len, cell_tokens + row_tokens)))
        cell_at = starts.of(cell_tokens)
        referenced_at = starts.of((b'<c r="',))
        cells += len(cell_at)
        unref_rows += len(starts.of(row_tokens)) - len(starts.of((b'<row r="',)))
        if len(cell_at) == len(referenced_at):  # every cell referenced: only whether a row starts matters
            if _ROW_OPEN.search(part):
                widest, current = max(widest, current), 0
            continue
        # reference-free cells per row: each cell element placed in its row by where the row elements start
        if b":row" in part:  # a row element with a namespace prefix: the pattern reads any prefix
            rows_at = np.fromiter((m.start() for m in _ROW_OPEN.finditer(part)), dtype=np.int64)
        else:
            rows_at = starts.of(_ROW_STARTS)
        slots = len(rows_at) + 1
        free = (np.bincount(np.searchsorted(rows_at, cell_at, side="right"), minlength=slots)
                - np.bincount(np.searchsorted(rows_at, referenced_at, side="right"), minlength=slots))
        if len(rows_at):  # the row before the first start goes on from the last chunk; the last row goes on after
            widest = max(widest, current + int(free[0]), int(free[1:-1].max(initial=0)))
            current = int(free[-1])
        else:
            current += int(free[0])
    widest = max(widest, current)
    return max_row + max(unref_rows, 0), max_col + widest, cells


# what _ROW_OPEN matches without a prefix: <row then whitespace (as \s reads bytes), '/' or '>'
_ROW_STARTS = tuple(b"<row" + bytes([end]) for end in b" \t\n\r\x0b\x0c/>")


class _Starts:
    """Where tokens start in a block of XML, from the positions of its '<' (every token begins with one), matched
    byte by byte in numpy and shared between tokens with a common beginning. A token's starts are what
    block.count counts, placed: tokens begin with '<' and hold no other, so no two occurrences overlap."""

    def __init__(self, block: bytes, longest: int) -> None:
        self._data = np.frombuffer(block + bytes(longest), dtype=np.uint8)  # padded: a token may run off the end
        self._found: dict[bytes, np.ndarray] = {b"<": np.flatnonzero(self._data[:len(block)] == ord("<"))}

    def _at(self, token: bytes) -> np.ndarray:
        known = len(token)
        while token[:known] not in self._found:  # the longest beginning already placed (a prefix may be long)
            known -= 1
        for length in range(known + 1, len(token) + 1):
            before = self._found[token[:length - 1]]
            self._found[token[:length]] = before[self._data[before + length - 1] == token[length - 1]]
        return self._found[token]

    def of(self, tokens: tuple[bytes, ...]) -> np.ndarray:
        return np.sort(np.concatenate([self._at(t) for t in tokens]))


def xlsx_sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    check_xlsx_size(path)
    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # calamine raises its own error types for zip/xml faults
        raise FileProblem("file.corrupt", f"The file cannot be opened as an Excel workbook: {exc}.") from exc


def read_xlsx(path: Path, file_name: str, sheet: str | None = None, mapping: SupplierMapping | None = None) -> RawTable:
    from python_calamine import CalamineWorkbook

    check_xlsx_size(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        if not names:
            raise FileProblem("file.empty", "The workbook has no sheets.")
        name = sheet if sheet is not None else names[0]
        if name not in names:
            raise FileProblem("file.missing_sheet", f"The workbook has no sheet named '{name}'.", value=name)
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except FileProblem:
        raise
    except Exception as exc:
        raise FileProblem("file.corrupt", f"The file cannot be opened as an Excel workbook: {exc}.") from exc
    if not grid or not any(cell_text(v) for v in grid[0]):
        raise FileProblem("file.empty", f"Sheet '{name}' is empty: no header row in row 1.")
    original = [cell_text(v) for v in grid[0]]
    while original and not original[-1]:
        original.pop()  # trailing empty header cells are the sheet's used range, not columns
    header = _apply_mapping(original, mapping)
    _check_header(file_name, header)
    width = len(header)
    columns = _grid_columns(grid[1:], width)
    del grid  # the cells as Python objects are the largest thing held: free them before the text frame is built
    filled = [np.asarray(pc.not_equal(c, "").to_numpy(zero_copy_only=False), dtype=bool) for c in columns]
    keep = np.logical_or.reduce(filled) if filled else np.zeros(0, dtype=bool)  # a blank row is not a row
    problems = _beyond_header(file_name, width, columns[width:], filled[width:])
    if not keep.all():
        columns = [pc.filter(c, keep) for c in columns[:width]]
    frame = pd.DataFrame({name: _text_array(col) for name, col in zip(header, columns, strict=False)})
    frame[SOURCE_ROW] = np.flatnonzero(keep).astype(np.int64) + 2
    return RawTable(file_name, name, header, original, frame, problems)


def _grid_columns(rows: Sequence[Sequence[object]], width: int) -> list[pa.Array]:
    """cell_text of every cell, one Arrow text column per sheet column (at least the header's width), converted
    column by column and type by type rather than cell by cell."""
    lengths = set(map(len, rows))
    columns = max(width, *lengths) if lengths else width
    if lengths - {columns}:  # a ragged grid: the missing cells are empty
        rows = [[*r, *([None] * (columns - len(r)))] for r in rows]
    if not rows:
        return [pa.array([], type=pa.string()) for _ in range(columns)]
    cells = np.array(rows, dtype=object)  # one pass in C; a sheet column is then a view
    return [_cell_texts(cells[:, j]) for j in range(columns)]


def _cell_texts(cells: np.ndarray) -> pa.Array:
    """One sheet column as text. A column of one cell type (the usual case) converts in one go; a mixed one (codes
    typed as numbers in some rows, as text in others) converts each type's cells apart, so 1, 1.0 and True, equal
    to Python, keep their own texts, and puts them back in row order."""
    kinds = set(map(type, cells))
    if len(kinds) == 1:
        return _texts_of(kinds.pop(), cells)
    types = np.fromiter(map(type, cells), dtype=object, count=len(cells))
    picked = [np.flatnonzero(types == kind) for kind in kinds]
    texts = pa.concat_arrays([_texts_of(kind, cells[rows]) for kind, rows in zip(kinds, picked, strict=True)])
    order = np.concatenate(picked)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return texts.take(pa.array(back))


def _texts_of(kind: type, values: np.ndarray) -> pa.Array:
    """cell_text of cells of one type: text stripped and whole floats printed as integers in bulk; any other
    type (dates, fractions, booleans, times) by cell_text once per distinct value, spread back by position."""
    if kind is str:
        return _stripped(pa.array(values, type=pa.string()))
    if kind is float:
        floats = np.asarray(values, dtype=np.float64)
        if (np.isfinite(floats) & (np.trunc(floats) == floats) & (np.abs(floats) < 2.0**62)).all():
            return pa.array(floats.astype(np.int64)).cast(pa.string())  # what str(int(v)) gives
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    return pa.array([cell_text(v) for v in distinct], type=pa.string()).take(pa.array(codes))


def _beyond_header(file_name: str, width: int, columns: list[pa.Array], filled: list[np.ndarray]) -> list[Finding]:
    """A row finding for each row with a value right of the last header column, showing the first such value."""
    if not columns:
        return []
    problems = []
    for index in np.flatnonzero(np.logical_or.reduce(filled)):
        value = next(str(c[index].as_py()) for c, f in zip(columns, filled, strict=True) if f[index])
        problems.append(Finding(ERROR, file_name, int(index) + 2, None, value[:80], "row.field_count",
                                f"Row has values beyond the last header column ({width} columns)."))
    return problems

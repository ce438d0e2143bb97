"""Read, parse and check one landed file's tables, a part at a time, ready to stage (no DuckDB here).

bcf.ingest.stage_file imports this module only when it meets a file the warehouse does not hold yet: reading and
parsing need pandas and Arrow (~0.3 s to import), which a run whose files were all received before (the next
fortnight's, mostly) never uses. The worker (bcf.ingest.worker) runs the reading and parsing half in a second
process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from bcf.core.settings import TableContract, contracts, plan_contracts, supplier_for
from bcf.transforms import nhs_number, rejected
from bcf.transforms.findings import ERROR, FileProblem, Finding
from bcf.transforms.parse import ROW_HASH, ParsedTable, parse, typed_columns
from bcf.transforms.read import MAX_FIELD_CHARS, SOURCE_ROW, RawTable, cell_text, read_csv, read_xlsx, xlsx_sheet_names
from bcf.transforms.validate import RowValidator, Scope, whole_file_columns


def _tables_of(kind: str, landed: Path, name: str) -> list[tuple[TableContract, Callable[[], RawTable]]]:
    """The contract tables a file holds and how to read each: plan workbooks have a sheet per table."""
    mapping = supplier_for(kind, name)
    is_xlsx = landed.suffix == ".xlsx"
    if kind != "plan":
        contract = contracts()[kind]
        if is_xlsx:
            return [(contract, lambda: read_xlsx(landed, name, mapping=mapping))]
        return [(contract, lambda: read_csv(landed, name, mapping))]
    if not is_xlsx:
        raise FileProblem("file.plan_not_xlsx", "The plan must be an XLSX workbook with one sheet per table.")
    sheets = set(xlsx_sheet_names(landed))
    out: list[tuple[TableContract, Callable[[], RawTable]]] = []
    for contract in plan_contracts():
        sheet = contract.sheet or ""
        if sheet in sheets or not contract.sheet_optional:
            out.append((contract, lambda s=sheet: read_xlsx(landed, name, sheet=s)))  # type: ignore[misc]
    return out


class ReadAhead:
    """A landed file's tables read in a background thread while the file before it is parsed, checked and staged.
    Arrow's CSV reader and calamine's sheet parse release the GIL, so the read overlaps that work: a 345,300-row
    XLSX read (4.1 s) beside the GX import (1.9 s) took 4.5 s, against 6.0 s one after the other. Nothing else
    changes: the same readers, and a file fault raised where staging would have met it."""

    def __init__(self, kind: str, landed: Path, name: str) -> None:
        self._tables: list[tuple[TableContract, Callable[[], RawTable]]] | None = None
        self._error: BaseException | None = None
        # a daemon thread, not a pool: nothing is left running when the command exits
        self._thread = threading.Thread(target=self._read, args=(kind, landed, name), daemon=True,
                                        name=f"read-ahead {name}")
        self._thread.start()

    def _read(self, kind: str, landed: Path, name: str) -> None:
        try:
            tables: list[tuple[TableContract, Callable[[], RawTable]]] = []
            for contract, reader in _tables_of(kind, landed, name):
                try:
                    tables.append((contract, _returning(reader())))
                except FileProblem as problem:  # raised again when staging reads this table
                    tables.append((contract, _raising(problem)))
            self._tables = tables
        except BaseException as exc:  # a fault of the whole file (or worse): raised again by tables()
            self._error = exc

    def tables(self) -> list[tuple[TableContract, Callable[[], RawTable]]]:
        """What _tables_of gives, each reader returning the table already read."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._tables is not None
        return self._tables


def _returning(raw: RawTable) -> Callable[[], RawTable]:
    return lambda: raw


def _raising(problem: FileProblem) -> Callable[[], RawTable]:
    def reader() -> RawTable:
        raise problem
    return reader


@dataclass
class Part:
    """One part of a table, parsed and checked: its rows to load and its rejected rows (Arrow, no file id yet), and
    the findings about it."""

    good: pa.Table
    bad: pa.Table
    findings: list[Finding]


@dataclass
class Fault:
    """The table cannot be used: the finding that says why, and every row it had as rejected (None if none)."""

    finding: Finding
    bad: pa.Table | None


@dataclass
class Parsed:
    """One part of a table read and typed, not yet checked by the suites (what bcf.ingest.worker hands over)."""

    part: RawTable  # the part as text: rejected rows are kept as received
    parsed: ParsedTable
    parts: int  # how many parts the table is in
    keys: pd.DataFrame | None  # first part of a table in parts: the whole table's key columns, typed


@dataclass
class ParsedFile:
    """A file read and parsed: a fault of the whole file, or its tables, each a sequence of Parsed (or a Fault)."""

    problems: list[Finding]
    tables: list[tuple[TableContract, Iterable[Parsed | Fault]]]


@dataclass
class PreparedFile:
    """A file read, parsed and checked, ready to stage: a fault of the whole file, or its tables, each a sequence
    of Parts (or a Fault), produced as they are consumed."""

    problems: list[Finding]
    tables: list[tuple[TableContract, Iterable[Part | Fault]]]


def prepare_file(kind: str, path: Path, name: str, key: bytes, validator: RowValidator | None,
                 params: dict[str, object], read_ahead: ReadAhead | None = None) -> PreparedFile:
    """The file's tables, each prepared a part at a time as its parts are asked for (no DuckDB here)."""
    return check_file(parse_file(kind, path, name, key, validator is not None, read_ahead), name, key, validator,
                      params)


def parse_file(kind: str, path: Path, name: str, key: bytes, checked: bool,
               read_ahead: ReadAhead | None = None) -> ParsedFile:
    """Read and type the file's tables, a part at a time as the parts are asked for. `checked`: the suites will
    check it (check_file), so a table in parts carries its whole key columns for the rules that read a file."""
    try:
        tables = read_ahead.tables() if read_ahead is not None else _tables_of(kind, path, name)
    except FileProblem as problem:
        return ParsedFile([problem.finding(name)], [])
    return ParsedFile([], [(contract, parse_table(contract, reader, name, key, checked, path))
                           for contract, reader in tables])


def check_file(parsed: ParsedFile, name: str, key: bytes, validator: RowValidator | None,
               params: dict[str, object]) -> PreparedFile:
    """Check a parsed file's tables with the suites, a part at a time, and split each part's rows."""
    return PreparedFile(parsed.problems, [(contract, check_table(contract, items, name, key, validator, params))
                                          for contract, items in parsed.tables])


# A table longer than this is parsed, checked and inserted a part at a time, so a 13-million-row extract never has
# more than a part or two of typed rows in memory (the text of the whole file is read once and sliced, not copied).
# 250,000: at 500,000 a 1.86M-discharge source with a fifth of its rows rejected peaked at 2.1-2.2 GB (this process
# and its worker together), at 250,000 at 1.6-1.7 GB, and no slower (docs/benchmarks.md).
PART_ROWS = 250_000


def parse_table(contract: TableContract, reader: Callable[[], RawTable], file_name: str, key: bytes,
                checked: bool, path: Path | None = None) -> Iterator[Parsed | Fault]:
    """Read and type one table of a file, a part at a time; a fault ends it with a Fault."""
    raw: RawTable | None = None
    try:
        raw = reader()
        parts = _parts(raw)
        keys = None
        if checked and len(parts) > 1:
            keys = typed_columns(raw, contract, whole_file_columns(contract.table), key)
        for i, part in enumerate(parts):
            yield Parsed(part, parse(part, contract, key, first_part=i == 0), len(parts), keys if i == 0 else None)
    except FileProblem as problem:
        where = f"Sheet '{contract.sheet}': " if contract.sheet else ""
        finding = problem.finding(file_name)
        finding = Finding(finding.severity, finding.file, finding.row, finding.column, finding.value, finding.rule,
                          where + finding.message)
        bad_rows = None
        if raw is not None and not raw.frame.empty:
            # the rows were received but the file cannot be used: every one is recorded as rejected
            source = raw.frame[SOURCE_ROW].to_numpy(dtype=np.int64)
            reasons = pa.table({"source_row": source,
                                "reasons": pa.array([f"{problem.rule}: {problem.message}"] * len(source))})
            bad_rows = rejected.rejected_rows(raw, contract.table, reasons, key)
        elif raw is None and path is not None and (path.suffix == ".csv" or problem.rule in _HEADER_FAULTS):
            bad_rows = _as_arrow(_unreadable_lines(path, contract, f"{problem.rule}: {problem.message}", key))
        yield Fault(finding, bad_rows)


# faults of a sheet's header row, found once the sheet was read (within the size guard): its rows can be listed
_HEADER_FAULTS = ("file.empty", "file.no_header", "file.duplicate_column")


def _unreadable_lines(path: Path, contract: TableContract, reason: str, key: bytes) -> pd.DataFrame:
    """A file that cannot be read as the contract's table (a CSV not UTF-8 or with another delimiter, a header
    repeated or empty) still had rows: each non-blank line or row after the first is recorded as received and
    rejected, as its text (undecodable bytes replaced, values of a sheet row joined by commas, NHS-number-like
    values masked), numbered as the supplier sees it."""
    if path.suffix == ".csv":
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    else:
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
            grid = book.get_sheet_by_name(contract.sheet or book.sheet_names[0]).to_python(skip_empty_area=False)
        except Exception:  # no sheet at all: nothing was received
            grid = []
        lines = [",".join(map(cell_text, row)).rstrip(",") for row in grid]
    numbered = [(number, line) for number, line in enumerate(lines[1:], start=2) if line.strip(", ")]
    table = contract.table
    hasher = nhs_number.row_hasher(key)
    return pd.DataFrame({
        "kind": table, "source_row": [n for n, _ in numbered], "hwb_code": "",
        ROW_HASH: [hasher([line]) for _, line in numbered], "reasons": reason,
        "raw_values": [json.dumps({"line": nhs_number.mask_text(line[:MAX_FIELD_CHARS])}, ensure_ascii=False)
                       for _, line in numbered],
    }, columns=["kind", "source_row", "hwb_code", ROW_HASH, "reasons", "raw_values"])


def check_table(contract: TableContract, items: Iterable[Parsed | Fault], file_name: str, key: bytes,
                validator: RowValidator | None, params: dict[str, object]) -> Iterator[Part | Fault]:
    """Check each parsed part with the suites and split its rows into loaded and rejected.

    The rules that read a whole file (a key's uniqueness) run once over the whole file's key columns first, so a
    duplicate in two parts is found exactly as in one; every other rule runs on each part."""
    whole_file: list[Finding] = []
    for item in items:
        if isinstance(item, Fault):
            yield item
            return
        parsed = item.parsed
        if validator is not None:
            if item.keys is not None:
                whole_file = validator.check(item.keys, contract, file_name, params, scope="file")
            scope: Scope = "rows" if item.parts > 1 else "all"
            parsed.findings.extend(validator.check(parsed.frame, contract, file_name, params, scope))
            parsed.findings.extend(_within(whole_file, item.part))
        good, bad = _split(parsed, item.part, contract.table, key)
        yield Part(_as_arrow(good), _as_arrow(bad), parsed.findings)


def _parts(raw: RawTable) -> list[RawTable]:
    """The table as slices of at most PART_ROWS rows (views of the text, not copies); the reader's problems go with
    the first."""
    size = PART_ROWS
    if len(raw.frame) <= size:
        return [raw]
    return [replace(raw, frame=raw.frame.iloc[start:start + size].reset_index(drop=True),
                    problems=raw.problems if start == 0 else [])
            for start in range(0, len(raw.frame), size)]


def _within(findings: list[Finding], part: RawTable) -> list[Finding]:
    """The findings about rows of this part (source rows rise through a file, so a part is a range of them)."""
    rows = part.frame[SOURCE_ROW]
    low, high = int(rows.iloc[0]), int(rows.iloc[-1])
    return [f for f in findings if f.row is not None and low <= f.row <= high]


def _split(parsed: ParsedTable, raw: RawTable, table: str, key: bytes) -> tuple[pd.DataFrame, pa.Table]:
    """Rows with an error-level finding are rejected (with every reason); the rest are loaded. Whole columns: the
    reasons grouped in Arrow, the rejected rows built by transforms.rejected (issue 25)."""
    errors = [f for f in parsed.findings if f.severity == ERROR and f.row is not None and f.row > 1]
    frame = parsed.frame
    if not errors:  # a clean file (the common case) is loaded as it is, not copied
        return frame, rejected.SCHEMA.empty_table()
    reasons = rejected.reasons_by_row([f.row for f in errors],  # type: ignore[misc]
                                      [f"{f.column or '-'}: {f.rule}: {f.message}" for f in errors])
    frame = frame[~frame[SOURCE_ROW].isin(reasons["source_row"].to_numpy())]
    return frame, rejected.rejected_rows(raw, table, reasons, key, parsed.frame)


def _as_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Rows to stage as an Arrow table: DuckDB scans Arrow columns in bulk, where it reads a pandas frame's
    Arrow-backed text and Python objects value by value (1.5M discharges: 2.4 s against 6.6 s)."""
    if isinstance(frame, pa.Table):
        return frame
    return pa.table({name: _arrow_column(frame[name]) for name in frame.columns})


def _arrow_column(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    if values.dtype == object:  # dates (datetime.date) and person keys; None is null
        return pa.array(values.to_numpy(), from_pandas=True)
    return pa.array(values.array)  # Arrow-backed text as it is; Int64 and int64 without a copy of note


"""A second process that reads and parses files while this one checks and stages others into the warehouse.

On two cores most of a large source's work is Python that holds the GIL (cell-to-text, row hashes, GX), which a
thread cannot overlap and a process can. The worker reads and types (transforms.read, transforms.parse); this
process runs the GX suites on what it hands over (it needs them for the plans anyway, so GX is imported once)
and is the only one to open the warehouse (DuckDB allows one writer). Each parsed part crosses as Arrow IPC files
in a scratch folder, announced on a queue; this process maps them, checks, inserts and deletes them. Each file is
still staged in its own transaction from the same parts, so the warehouse ends as if this process had read them
all; a file's received_at is when it landed, in staging order, so staging the worker's files when they are ready
changes no order (bcf.ingest.sources.Landed).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import shutil
import tempfile
import traceback
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from bcf.ingest.prepare_file import Fault, Parsed, ParsedFile, ReadAhead, parse_file
from bcf.transforms.parse import ParsedTable
from bcf.transforms.read import TEXT, RawTable


@dataclass(frozen=True)
class Job:
    """One landed file for the worker to read and parse; `index` is its place in the staging order."""

    index: int
    kind: str
    path: Path
    name: str
    sha256: str


class WorkerFailed(RuntimeError):
    """The worker raised, or stopped: the file it was reading is not staged and the run fails, as it would have
    had this process read it."""


class Preparer:
    """The worker process and what it has parsed. Start it as early as possible (a Python with pandas takes ~0.4 s
    to start), `submit` the files, then take each file when it is ready (`ready`, `parsed`), in any order."""

    def __init__(self, scratch_under: Path) -> None:
        scratch_under.mkdir(parents=True, exist_ok=True)
        self._scratch = Path(tempfile.mkdtemp(prefix=".prepared-", dir=scratch_under))
        spawn = mp.get_context("spawn")  # a fresh interpreter: forking a process with DuckDB's threads is unsafe
        self._jobs: Any = spawn.Queue()
        self._results: Any = spawn.Queue()
        self._process = spawn.Process(target=_serve, args=(self._jobs, self._results, str(self._scratch)),
                                      name="bcf-prepare", daemon=True)
        self._process.start()
        self._pending: dict[int, deque[tuple[Any, ...]]] = defaultdict(deque)

    def submit(self, jobs: list[Job], key: bytes) -> None:
        """The files to read, in the order to read them."""
        self._jobs.put((jobs, key))

    def ready(self, index: int) -> bool:
        """Whether the file is wholly parsed (or failed): staging it now would not wait for the worker."""
        while True:
            try:
                message = tuple(self._results.get_nowait())
            except queue.Empty:
                break
            self._pending[message[1]].append(message)
        return any(m[0] in ("done", "error") for m in self._pending[index])

    def parsed(self, index: int) -> ParsedFile:
        """The file at `index`, its tables' parts arriving as the worker writes them."""
        head = self._next(index)
        problems, tables = head[2], head[3]
        return ParsedFile(problems, [(contract, self._items(index)) for contract in tables])

    def _items(self, index: int) -> Iterator[Parsed | Fault]:
        """One table's parts (or its Fault), in order; a table's messages end with 'end'."""
        while (message := self._next(index))[0] != "end":
            if message[0] == "part":
                yield _load_parsed(message[2])
            else:
                yield Fault(message[2], None if message[3] is None else _load(message[3]))

    def _next(self, index: int) -> tuple[Any, ...]:
        """The next message about file `index`; messages about other files wait their turn."""
        while not self._pending[index]:
            message = self._get()
            self._pending[message[1]].append(message)
        message = self._pending[index].popleft()
        if message[0] == "error":
            raise WorkerFailed(f"reading {message[2]} failed in the worker process:\n{message[3]}")
        return message

    def _get(self) -> tuple[Any, ...]:
        while True:
            try:
                return tuple(self._results.get(timeout=1.0))
            except queue.Empty:
                if not self._process.is_alive():
                    raise WorkerFailed(f"the worker process reading files stopped (exit code "
                                       f"{self._process.exitcode})") from None

    def close(self) -> None:
        """Stop the worker (at once if it is still reading: a run that failed, or staged a file another way) and
        delete what it wrote. It holds nothing else: no warehouse, no landed file."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        for q in (self._jobs, self._results):
            q.close()
            q.cancel_join_thread()  # nothing left to deliver: the worker is gone
        shutil.rmtree(self._scratch, ignore_errors=True)  # closing twice is harmless

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _serve(jobs: Any, results: Any, scratch: str) -> None:
    """The worker: read and parse each file in turn, the next workbook read ahead (_workbook_ahead)."""
    files, key = jobs.get()
    written = 0
    ahead: dict[int, ReadAhead] = {}
    for n, job in enumerate(files):
        try:
            mine = ahead.pop(job.index, None)
            if not ahead:
                ahead = _workbook_ahead(files[n + 1:])
            written = _parse(job, key, results, Path(scratch), written, mine)
        except BaseException:  # reported on the queue and raised in the staging process when it reaches the file
            results.put(("error", job.index, job.name, traceback.format_exc(limit=20)))
            return


def _workbook_ahead(later: list[Job]) -> dict[int, ReadAhead]:
    """The next workbook among the later files, read in a thread of this process while the files before it are
    parsed: calamine's sheet parse (most of an XLSX's read) releases the GIL, so it runs beside the CSVs' parsing
    on the core this process would otherwise leave to the staging process's waits. The workbooks come last in the
    order (_worker_jobs), so without this the staging process waited for a whole XLSX read at the end: 1.86M
    discharges, 23.3 s -> 22.0 s (docs/benchmarks.md). One workbook at a time, and only a small one
    (WORKBOOK_AHEAD_MAX_BYTES), so at most one more file is held."""
    job = next((j for j in later if j.path.suffix == ".xlsx"), None)
    if job is None or job.path.stat().st_size > WORKBOOK_AHEAD_MAX_BYTES:
        return {}
    return {job.index: ReadAhead(job.kind, job.path, job.name)}


# A workbook's cells take ~40 times its size while it is read (a 13 MB, 345,300-row one: 0.5 GB), on top of the file
# being parsed beside it: at 16 million discharges (workbooks of 1M rows, 32-38 MB, beside a 13M-row CSV) reading
# them ahead raised the peak from 6.3 to 6.9 GB (212 s against 201 s before), so a larger workbook is read in turn.
WORKBOOK_AHEAD_MAX_BYTES = 16 * 1024 * 1024


def _parse(job: Job, key: bytes, results: Any, scratch: Path, written: int,
           read_ahead: ReadAhead | None = None) -> int:
    parsed = parse_file(job.kind, job.path, job.name, key, checked=True, read_ahead=read_ahead)
    results.put(("file", job.index, parsed.problems, [contract for contract, _ in parsed.tables]))
    for _, items in parsed.tables:
        for item in items:
            if isinstance(item, Parsed):
                results.put(("part", job.index, _save_parsed(item, scratch / str(written))))
            else:
                bad = None
                if item.bad is not None:
                    bad = scratch / f"{written}.bad.arrow"
                    _save(item.bad, bad)
                results.put(("fault", job.index, item.finding, None if bad is None else str(bad)))
            written += 1
        results.put(("end", job.index))
    results.put(("done", job.index))  # a marker for `ready`; nothing reads past a file's last table
    pa.default_memory_pool().release_unused()  # what the file took, back to the machine while the next is read
    return written


def _save_parsed(item: Parsed, base: Path) -> dict[str, Any]:
    """A parsed part as IPC files (its text, its typed rows, its whole-file keys) and what is needed to rebuild
    it exactly: each column's pandas type, the header, the findings so far."""
    part, keys = item.part, item.keys
    return {"text": _save_frame(part.frame, base.with_suffix(".text.arrow")),
            "typed": _save_frame(item.parsed.frame, base.with_suffix(".typed.arrow")),
            "keys": None if keys is None else _save_frame(keys, base.with_suffix(".keys.arrow")),
            "table": (part.file_name, part.sheet, part.header, part.original_header, part.problems),
            "findings": item.parsed.findings, "parts": item.parts}


def _load_parsed(saved: dict[str, Any]) -> Parsed:
    file_name, sheet, header, original_header, problems = saved["table"]
    part = RawTable(file_name, sheet, header, original_header, _load_frame(saved["text"]), problems)
    keys = None if saved["keys"] is None else _load_frame(saved["keys"])
    return Parsed(part, ParsedTable(_load_frame(saved["typed"]), saved["findings"]), saved["parts"], keys)


# A frame crosses as an Arrow table plus each column's pandas type, so it is rebuilt as it was: text as pandas'
# Arrow-backed "str" (transforms.read.TEXT), nullable integers as Int64, dates as Python objects (None if missing).


def _save_frame(frame: pd.DataFrame, path: Path) -> tuple[str, list[str]]:
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        raise ValueError("a frame handed over must have the default index")  # rows are matched by position
    kinds = [_kind(frame[name]) for name in frame.columns]
    _save(pa.table({str(name): _to_arrow(frame[name], kind) for name, kind in zip(frame.columns, kinds,
                                                                                    strict=True)}), path)
    return str(path), kinds


def _load_frame(saved: tuple[str, list[str]]) -> pd.DataFrame:
    path, kinds = saved
    table = _load(path)
    return pd.DataFrame({name: _from_arrow(table.column(name), kind)
                         for name, kind in zip(table.column_names, kinds, strict=True)})


def _kind(values: pd.Series) -> str:
    dtype = values.dtype
    if dtype == TEXT:
        return "str"
    if isinstance(dtype, pd.Int64Dtype):
        return "Int64"
    if dtype == np.dtype("int64"):
        return "int64"
    if dtype == np.dtype("object"):
        return "object"
    raise TypeError(f"no way to hand over a column of {dtype}")


def _to_arrow(values: pd.Series, kind: str) -> pa.Array | pa.ChunkedArray:
    if kind == "object":  # dt.date -> date32, str -> string, None -> null
        return pa.array(values.to_numpy(), from_pandas=True)
    if kind == "int64":
        return pa.array(values.to_numpy())
    return pa.array(values.array)  # Arrow-backed text and Int64, as they are


def _from_arrow(column: pa.ChunkedArray, kind: str) -> Any:
    if kind == "object":  # one Python object per distinct value (as parse makes them), spread by position
        encoded = column.combine_chunks().dictionary_encode()
        distinct = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last one, None, for the nulls
        distinct[:-1] = encoded.dictionary.to_pylist()
        codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()
        return pd.Series(distinct[codes], dtype=object, copy=False)  # not inferred: pandas would make text "str"
    if kind == "int64":
        return column.to_numpy()
    return pd.array(column, dtype=TEXT if kind == "str" else "Int64")


def _load(path: str) -> pa.Table:
    """An IPC file as written by the worker, mapped rather than read; the file is deleted at once (the mapping
    keeps its pages until the table is dropped)."""
    table = ipc.open_file(pa.memory_map(path)).read_all()
    Path(path).unlink()
    return table


def _save(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)

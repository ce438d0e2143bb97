"""A second process that prepares files (read, parse, GX checks) while this one stages others into the warehouse.

On two cores most of a large source's work is Python that holds the GIL (cell-to-text, row hashes, GX), which a
thread cannot overlap and a process can. Only this process opens the warehouse (DuckDB allows one writer): the
worker writes each prepared part as an Arrow IPC file in a scratch folder and says so on a queue; this process maps
the file, inserts it and deletes it. Each file is still staged in its own transaction from the same Parts and
Faults, so the warehouse ends as if this process had prepared them all; a file's received_at is when it landed, in
staging order, so staging the worker's files when they are ready changes no order (bcf.sources.Landed).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import shutil
import tempfile
import traceback
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from bcf.ingest import Fault, Part, PreparedFile, prepare_file
from core.settings import contracts
from transforms.validate import RowValidator


@dataclass(frozen=True)
class Job:
    """One landed file for the worker to prepare; `index` is its place in the staging order."""

    index: int
    kind: str
    path: Path
    name: str
    sha256: str


class WorkerFailed(RuntimeError):
    """The preparing process raised, or stopped: the file it was preparing is not staged and the run fails, as it
    would have had this process prepared it."""


class Preparer:
    """The worker process and what it has prepared. It starts on the files at once (it imports GX, ~2 s, and reads
    the first file while this process stages the plans); the rule parameters follow when the plans are staged
    (`parameters`); then take each file in staging order (`prepared`)."""

    def __init__(self, scratch_under: Path, jobs: list[Job], key: bytes) -> None:
        scratch_under.mkdir(parents=True, exist_ok=True)
        self._scratch = Path(tempfile.mkdtemp(prefix=".prepared-", dir=scratch_under))
        spawn = mp.get_context("spawn")  # a fresh interpreter: forking a process with DuckDB's threads is unsafe
        self._jobs: Any = spawn.Queue()
        self._results: Any = spawn.Queue()
        self._process = spawn.Process(target=_serve, args=(self._jobs, self._results, str(self._scratch)),
                                      name="bcf-prepare", daemon=True)
        self._process.start()
        self._jobs.put((jobs, key))
        self._pending: dict[int, deque[tuple[Any, ...]]] = defaultdict(deque)

    def parameters(self, params: dict[str, object]) -> None:
        """The rule parameters (they depend on the plan in force, so they come once the plans are staged)."""
        self._jobs.put(params)

    def ready(self, index: int) -> bool:
        """Whether the file is wholly prepared (or failed): staging it now would not wait for the worker."""
        while True:
            try:
                message = tuple(self._results.get_nowait())
            except queue.Empty:
                break
            self._pending[message[1]].append(message)
        return any(m[0] in ("done", "error") for m in self._pending[index])

    def prepared(self, index: int) -> PreparedFile:
        """The file at `index`, its tables' Parts arriving as the worker writes them."""
        head = self._next(index)
        problems, tables = head[2], head[3]
        return PreparedFile(problems, [(contract, self._items(index)) for contract in tables])

    def _items(self, index: int) -> Iterator[Part | Fault]:
        """One table's Parts (or its Fault), in order; a table's messages end with 'end'."""
        while (message := self._next(index))[0] != "end":
            if message[0] == "part":
                yield Part(_load(message[2]), _load(message[3]), message[4])
            else:
                yield Fault(message[2], None if message[3] is None else _load(message[3]))

    def _next(self, index: int) -> tuple[Any, ...]:
        """The next message about file `index`; messages about other files wait their turn."""
        while not self._pending[index]:
            message = self._get()
            self._pending[message[1]].append(message)
        message = self._pending[index].popleft()
        if message[0] == "error":
            raise WorkerFailed(f"preparing {message[2]} failed in the worker process:\n{message[3]}")
        return message

    def _get(self) -> tuple[Any, ...]:
        while True:
            try:
                return tuple(self._results.get(timeout=1.0))
            except queue.Empty:
                if not self._process.is_alive():
                    raise WorkerFailed(f"the worker process preparing files stopped (exit code "
                                       f"{self._process.exitcode})") from None

    def close(self) -> None:
        """Stop the worker (at once if it is still preparing: a run that failed, or staged a file another way) and
        delete what it wrote. It holds nothing else: no warehouse, no landed file."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        for q in (self._jobs, self._results):
            q.close()
            q.cancel_join_thread()  # nothing left to deliver: the worker is gone
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _load(path: str) -> pa.Table:
    """A part as written by the worker, mapped rather than read; the file is deleted at once (the mapping keeps
    its pages until the table is dropped)."""
    table = ipc.open_file(pa.memory_map(path)).read_all()
    Path(path).unlink()
    return table


def _serve(jobs: Any, results: Any, scratch: str) -> None:
    """The worker: import GX and build the extract suites, then prepare each file in turn."""
    validator = RowValidator()
    validator.warm(sorted({c.table for c in contracts().values()}))
    files, key = jobs.get()
    params = _LateParameters(jobs)
    written = 0
    for job in files:
        try:
            written = _prepare(job, key, params, validator, results, Path(scratch), written)
        except BaseException:  # reported on the queue and raised in the staging process when it reaches the file
            results.put(("error", job.index, job.name, traceback.format_exc(limit=20)))
            return


class _LateParameters(Mapping[str, object]):
    """The rule parameters, waited for when a check first reads them: a file is read and parsed while the staging
    process is still staging the plans they depend on."""

    def __init__(self, jobs: Any) -> None:
        self._jobs = jobs
        self._params: dict[str, object] | None = None

    def _got(self) -> dict[str, object]:
        if self._params is None:
            self._params = dict(self._jobs.get())
        return self._params

    def __getitem__(self, name: str) -> object:
        return self._got()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._got())

    def __len__(self) -> int:
        return len(self._got())


def _prepare(job: Job, key: bytes, params: Mapping[str, object], validator: RowValidator, results: Any,
             scratch: Path, written: int) -> int:
    prepared = prepare_file(job.kind, job.path, job.name, key, validator, params)
    results.put(("file", job.index, prepared.problems, [contract for contract, _ in prepared.tables]))
    for _, items in prepared.tables:
        for item in items:
            if isinstance(item, Part):
                good, bad = scratch / f"{written}.good.arrow", scratch / f"{written}.bad.arrow"
                _save(item.good, good)
                _save(item.bad, bad)
                results.put(("part", job.index, str(good), str(bad), item.findings))
            else:
                bad = None
                if item.bad is not None:
                    bad = scratch / f"{written}.bad.arrow"
                    _save(item.bad, bad)
                results.put(("fault", job.index, item.finding, None if bad is None else str(bad)))
            written += 1
        results.put(("end", job.index))
    results.put(("done", job.index))  # a marker for `ready`; nothing reads past a file's last table
    return written


def _save(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)

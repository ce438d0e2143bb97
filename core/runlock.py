"""One run at a time per data dir: an advisory file lock (fcntl.flock) on `<data dir>/run.lock`.

DuckDB lets only one process open the warehouse for writing and answers a second with a lock traceback; a run also
lands files and publishes workbooks. So a second run on the same data dir waits for the first (one line saying for
whom), up to BCF_LOCK_TIMEOUT seconds (default 1800), then stops with one line. The lock is re-entrant within a
process (the CLI takes it before starting a flow, the flow's run ledger takes it again) and the kernel drops it when
the holder dies, however it dies: a killed run never leaves the data dir locked.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from bcf.core.settings import env

LOCK_NAME = "run.lock"
DEFAULT_TIMEOUT = 1800.0
_POLL = 0.2


class RunLockTimeout(Exception):
    """Another run held the data dir for longer than the time-out."""


_held: dict[Path, tuple[IO[str], int]] = {}  # lock path -> (open file, depth), this process
_guard = threading.Lock()


def lock_timeout() -> float:
    text = env().lock_timeout or ""
    try:
        return float(text) if text.strip() else DEFAULT_TIMEOUT
    except ValueError as exc:
        raise ValueError(f"BCF_LOCK_TIMEOUT must be a number of seconds, not {text!r}") from exc


def _holder(fh: IO[str]) -> str:
    fh.seek(0)
    try:
        info = json.loads(fh.read() or "{}")
    except ValueError:
        info = {}
    if not info:
        return "another run (not yet identified)"
    return f"run {info.get('run', '?')} (pid {info.get('pid', '?')}, started at {info.get('started_at', '?')})"


def _write_holder(fh: IO[str], run: str) -> None:
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps({"run": run, "pid": os.getpid(),
                         "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}))
    fh.flush()


@contextmanager
def data_dir_lock(data_dir: Path, run: str, timeout: float | None = None, quiet: bool = False) -> Iterator[None]:
    """Hold the data dir's run lock. `run` names this run for anyone who has to wait (a run id or a command)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = (data_dir / LOCK_NAME).resolve()
    with _guard:
        if path in _held:
            fh, depth = _held[path]
            _held[path] = (fh, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                fh, depth = _held[path]
                _held[path] = (fh, depth - 1)
        return
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until the run ends
    try:
        wait = lock_timeout() if timeout is None else timeout
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fh)
                if not told and not quiet:
                    # straight to the console: Prefect's log_prints would turn print() into a log record
                    sys.stderr.write(f"bcf: waiting for {holder} to finish with {data_dir} "
                                     f"(up to {wait:.0f} s, BCF_LOCK_TIMEOUT)\n")
                    sys.stderr.flush()
                    told = True
                if time.monotonic() >= deadline:
                    raise RunLockTimeout(f"gave up after {wait:.0f} s waiting for {holder} to finish with "
                                         f"{data_dir} (set BCF_LOCK_TIMEOUT to wait longer)") from None
                time.sleep(_POLL)
        _write_holder(fh, run)
        with _guard:
            _held[path] = (fh, 1)
        try:
            yield
        finally:
            with _guard:
                _held.pop(path, None)
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


@contextmanager
def lock_if_free(data_dir: Path, run: str) -> Iterator[bool]:
    """For a reader with somewhere else to read from (bcf why rebuilds from the landed copies): the run lock if no
    one holds it (True), else nothing and no waiting (False). Held, a run that starts meanwhile waits for the reader
    instead of failing on DuckDB's file lock."""
    with ExitStack() as stack:
        try:
            if data_dir.is_dir():  # never made by a reader
                stack.enter_context(data_dir_lock(data_dir, run, timeout=0, quiet=True))
                held = True
            else:
                held = False
        except RunLockTimeout:
            held = False
        yield held


def rename_holder(data_dir: Path, run: str) -> None:
    """Once the run has its run id, name it in the lock file (the CLI took the lock before the flow started)."""
    path = (data_dir / LOCK_NAME).resolve()
    with _guard:
        held = _held.get(path)
    if held is not None:
        _write_holder(held[0], run)


def holds(data_dir: Path) -> bool:
    return (data_dir / LOCK_NAME).resolve() in _held

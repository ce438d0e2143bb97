"""Land and stage every file of a source: the plain function behind the `ingest-extracts` flow and `bcf validate`.

No Prefect here. The flows pass their Prefect tasks in (list, land, stage) so each file shows as a task run;
`bcf validate` calls it as it is, with no flow run, no Prefect server and no Prefect import.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcf.core import s3
from bcf.core.settings import pseudonym_key
from bcf.ingest.sources import FetchFailed, Landed, SourceObject, land, list_source, staging_key
from bcf.ingest.stage_file import (
    FileResult,
    empty_source,
    ignored,
    not_fetched,
    record_source_findings,
    rule_parameters,
    stage_file,
)
from bcf.transforms.findings import WARNING, Finding
from bcf.transforms.nhs_number import mask_text, token_text
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from bcf.warehouse.checks import source_findings
from bcf.warehouse.paths import landing_path, warehouse_path

if TYPE_CHECKING:  # imported where a new file is met: reading and parsing need pandas (bcf.ingest.prepare_file)
    from bcf.ingest.prepare_file import PreparedFile, ReadAhead
    from bcf.ingest.worker import Job, Preparer


@dataclass
class IngestReport:
    run_id: str
    source: str
    files: list[FileResult] = field(default_factory=list)
    development_key: bool = False


def stage(db_file: Path, obj: SourceObject, landed: Landed, run_id: str, key: bytes,
          validator: RowValidator, read_ahead: ReadAhead | None = None,
          prepared: PreparedFile | None = None) -> FileResult:
    with db.connect(db_file) as con:
        return stage_file(con, obj, landed, run_id, key, validator, read_ahead=read_ahead, prepared=prepared)


def ingest_source(source: str, data_dir: Path, run_id: str, *, log: Any = None,
                  lister: Callable[[str], list[SourceObject]] = list_source,
                  lander: Callable[[SourceObject, Path], Landed | FetchFailed] = land,
                  stager: Callable[..., FileResult] = stage, read_ahead: bool = False,
                  source_wide: bool = True) -> IngestReport:
    """Land and stage every file of a source, in staging order; one line per file on the log (a logger or Prefect's
    run logger). With `read_ahead` (the plain path, whose stager is `stage`), work on later files overlaps staging:
    when the new extracts are large enough (WORKER_MIN_COST), a second process reads and parses them (bcf.ingest.worker)
    while this one stages the plans, then checks and stages each extract as it is ready; otherwise the next file,
    if at most READ_AHEAD_MAX_BYTES, is read in a background thread while the one before it is staged.
    `source_wide`: judge the source-wide cross checks (keys in two files, ledger lines against their HWB's plan)
    for the report, as `bcf ingest` and `validate` print them; a return run leaves them out, as it judges its own
    HWB's when it produces the return (warehouse.checks.cross_source), and its report is not printed."""
    log = log or logging.getLogger("bcf.ingest")
    key, development = pseudonym_key()
    if development:
        log.warning("BCF_PSEUDONYM_KEY is not set: using the documented development key (synthetic data only)")
    report = IngestReport(run_id, mask_text(source), development_key=development)  # what is printed and recorded
    objects = sorted(lister(source), key=staging_key)
    validator = RowValidator()
    log.info("%d file(s) at %s", len(objects), mask_text(source))
    landed_files: dict[int, Landed | FetchFailed] = {}

    def landed_file(i: int) -> Landed | FetchFailed:
        if i not in landed_files:
            try:
                landed_files[i] = lander(objects[i], landing_path(data_dir))
            except FetchFailed as exc:  # the plain `land` raises it; the Prefect task returns it
                landed_files[i] = exc
        return landed_files[i]

    results: dict[int, FileResult] = {}

    def staged(i: int, **extra: Any) -> None:
        obj, landed = objects[i], landed_files[i]
        assert isinstance(landed, Landed)
        results[i] = stager(warehouse_path(data_dir), obj, landed, run_id, key, validator, **extra)
        _log_result(log, obj, results[i])

    known, known_names = _known_files(warehouse_path(data_dir)) if read_ahead else (set(), set())
    with ExitStack() as stack:
        preparer: Preparer | None = None
        one_thread: db.OneThread | None = None
        if read_ahead and _worth_a_worker(objects, known_names):  # from the listing: it starts as the files land
            from bcf.ingest.worker import Preparer

            preparer = stack.enter_context(Preparer(data_dir))
        jobs = _worker_jobs(objects, landed_file, known) if preparer is not None else {}
        if preparer is not None and jobs:
            preparer.submit(list(jobs.values()), key)
            one_thread = stack.enter_context(db.OneThread(warehouse_path(data_dir)))  # the worker has a core
        elif preparer is not None:  # all received already, say: nothing to read
            preparer.close()
            preparer = None
        worker_content = {job.sha256 for job in jobs.values()}
        params: dict[str, object] | None = None  # for the worker's files: known once the plans are staged

        def worker_file(j: int) -> None:
            from bcf.ingest.prepare_file import check_file

            assert preparer is not None and params is not None
            if one_thread is not None and all(preparer.ready(k) for k in jobs):  # the worker is done: both cores
                one_thread.restore()
            staged(j, prepared=check_file(preparer.parsed(j), objects[j].name, key, validator, params))

        after_worker: list[int] = []
        ahead: dict[int, ReadAhead] = {}
        for i, obj in enumerate(objects):
            if i in jobs:
                continue  # the worker's: staged below when ready
            if obj.kind is None:
                results[i] = ignored(obj)
                _log_result(log, obj, results[i])
                continue
            landed = landed_file(i)
            if isinstance(landed, FetchFailed):
                results[i] = not_fetched(obj, landed.rule, landed.message)
                _log_result(log, obj, results[i])
                continue
            if landed.sha256 in worker_content:  # the same bytes as a worker's file, which comes first: staged
                after_worker.append(i)           # after it, so this one is the copy already received
                continue
            if preparer is not None and obj.kind != "plan" and params is None:
                params = _rule_parameters(data_dir)  # the plans (staged first) are in
            extra: dict[str, Any] = {}
            if read_ahead:
                _read_next(objects, i + 1, landed_file, known | worker_content, jobs, ahead)
                if i in ahead:
                    extra["read_ahead"] = ahead.pop(i)
            staged(i, **extra)
            if preparer is not None and params is not None:
                for j in [j for j in jobs if j not in results and preparer.ready(j)]:
                    worker_file(j)
        if preparer is not None:
            if params is None:
                params = _rule_parameters(data_dir)
            for j in [j for j in jobs if j not in results]:
                worker_file(j)
        for i in after_worker:
            staged(i)
    report.files = [results[i] for i in sorted(results)]
    if not any(obj.kind is not None for obj in objects):
        report.files.append(empty_source(source))
        log.error("%s holds no extract files: no return is made from it", source)
    with db.connect(warehouse_path(data_dir)) as con:
        gone = _gone_from_source(con, source, {obj.name for obj in objects}, key)
        report.files.extend(gone)
        record_source_findings(con, run_id, report.files)
        with con.cursor() as cur:
            db.insert_findings(cur, run_id, None, [f for r in gone for f in r.findings])
        if source_wide:
            _attach(report.files, source_findings(con))
    return report


def _gone_from_source(con: Any, source: str, listed: set[str], key: bytes) -> list[FileResult]:
    """Files of this source still in force that the source no longer holds: a warning on every run, since their
    rows still count. Deleting a file sent in error does not take it out of force; `bcf withdraw` does."""
    prefix = source.rstrip("/") + "/" if s3.is_s3(source) else Path(source).resolve().as_uri().rstrip("/") + "/"
    prefix = token_text(prefix, key)  # as the listing records origins (bcf/ingest/sources.py)
    rows = con.execute(
        "SELECT file_id, kind, file_name, received_at FROM files WHERE status IN ('loaded', 'rejected') "
        "AND starts_with(origin_uri, ?) ORDER BY file_name", [prefix]).fetchall()
    out = []
    for file_id, kind, name, received in rows:
        if name in listed:
            continue
        finding = Finding(WARNING, name, None, None, name, "source.file_gone",
                          f"{name} (received {received:%d/%m/%Y %H:%M}) is no longer in the source but is still in "
                          "force: its rows still count. If it was sent in error, take it out with "
                          f"`bcf withdraw {name} --reason TEXT`; a corrected file under the same name supersedes it.")
        out.append(FileResult(name, kind, file_id, "in_force", findings=[finding]))
    return out


def _log_result(log: Any, obj: SourceObject, result: FileResult) -> None:
    log.info("%s: %s, %d rows received, %d loaded, %d rejected, %d finding(s)", obj.name, result.outcome,
             result.rows_received, result.rows_loaded, result.rows_rejected, len(result.findings))


# What reading and parsing a file costs, in bytes of a plain CSV: an XLSX byte about 20 (measured: 4.6 s for a
# 13.2 MB XLSX of 345,300 rows, 2.3 s for a 143 MB CSV of 1,515,300 rows). What checking (GX) and inserting what it
# gives costs, in the same unit (a CSV byte costs about as much to check as to read): an XLSX byte about 3 (0.6 s
# for that XLSX, 2.6 s for that CSV).
XLSX_READ_COST = 20
XLSX_CHECK_COST = 3
# The worker is started when there is at least this much to read. Measured: 100,000 discharges (26 MB by this
# reckoning) 4.7 s without it, 4.3 s with; 300,000 (77 MB) 6.3 s and 5.4 s; one HWB's demo source (2.3 MB) 4.0 s
# without and 4.3 s with, since its start (a Python with pandas, ~0.4 s) costs more than the little it overlaps.
WORKER_MIN_COST = 8 * 1024 * 1024
# A larger file is read when it is staged, not ahead: two large files in memory at once would raise the peak
READ_AHEAD_MAX_BYTES = 64 * 1024 * 1024


def _read_cost(size: int, name: str) -> int:
    return size * (XLSX_READ_COST if name.lower().endswith(".xlsx") else 1)


def _check_cost(size: int, name: str) -> int:
    return size * (XLSX_CHECK_COST if name.lower().endswith(".xlsx") else 1)


def _worth_a_worker(objects: list[SourceObject], known_names: set[tuple[str, int]]) -> bool:
    """From the listing, before anything lands: whether the extracts are worth a worker (WORKER_MIN_COST), leaving
    out the files the warehouse already holds under the same name and size (the next fortnight's source, mostly)."""
    cost = sum(_read_cost(o.size, o.name) for o in objects
               if o.kind not in (None, "plan") and (o.name, o.size) not in known_names)
    return cost > 0 and cost >= WORKER_MIN_COST


def _worker_jobs(objects: list[SourceObject], landed_file: Callable[[int], Landed | FetchFailed],
                 known: set[str]) -> dict[int, Job]:
    """Every new extract, for the worker to read and parse while this process checks and stages what it has read,
    in the order that keeps both busy (Johnson's rule for two machines in series): first the files that take less
    reading than checking, quickest to read first, so this process has work early; then the others, longest to
    check first. None when there is too little to read to repay the worker's start. Lands every file first. A file
    whose content came earlier in the source stages as already received, so it is not read."""
    from bcf.ingest.worker import Job

    seen = set(known)
    new: list[tuple[int, SourceObject, Landed]] = []
    for i, obj in enumerate(objects):
        landed = landed_file(i) if obj.kind is not None else None  # every file, in staging order (received_at)
        if isinstance(landed, Landed) and obj.kind != "plan" and landed.sha256 not in seen:
            seen.add(landed.sha256)
            new.append((i, obj, landed))
    read = {i: _read_cost(landed.size, obj.name) for i, obj, landed in new}
    check = {i: _check_cost(landed.size, obj.name) for i, obj, landed in new}
    if not new or sum(read.values()) < WORKER_MIN_COST:
        return {}
    first = sorted((n for n in new if read[n[0]] <= check[n[0]]), key=lambda n: read[n[0]])
    then = sorted((n for n in new if read[n[0]] > check[n[0]]), key=lambda n: -check[n[0]])
    return {i: Job(i, str(obj.kind), landed.path, obj.name, landed.sha256) for i, obj, landed in first + then}


def _rule_parameters(data_dir: Path) -> dict[str, object]:
    with db.connect(warehouse_path(data_dir)) as con:
        return rule_parameters(con, dt.date.today())


def _known_files(db_file: Path) -> tuple[set[str], set[tuple[str, int]]]:
    """The files the warehouse holds already, by content (staging one of them reads nothing, so it is not read
    ahead) and by name and size (what the listing shows before the files land)."""
    if not db_file.exists():
        return set(), set()
    with db.connect(db_file) as con:
        rows = con.execute("SELECT file_id, file_name, size_bytes FROM files").fetchall()
    return {r[0] for r in rows}, {(r[1], int(r[2])) for r in rows}


def _read_next(objects: list[SourceObject], i: int, landed_file: Callable[[int], Landed | FetchFailed],
               known: set[str], jobs: dict[int, Job], ahead: dict[int, ReadAhead]) -> None:
    """Land the next extract and start reading it, when it is new, not the worker's, and small enough to hold
    beside this one."""
    if i >= len(objects) or objects[i].kind is None or i in jobs:
        return
    landed = landed_file(i)
    if isinstance(landed, Landed) and landed.sha256 not in known and landed.size <= READ_AHEAD_MAX_BYTES:
        from bcf.ingest.prepare_file import ReadAhead

        ahead[i] = ReadAhead(str(objects[i].kind), landed.path, objects[i].name)


def _attach(results: list[FileResult], findings: list[Finding]) -> None:
    """The source's cross-source findings (keys in two files in force: with the later file; ledger lines against
    their HWB's plan) go with the file they name, so `bcf ingest`/`validate` report them as a run would."""
    by_name = {r.name: r for r in results if r.kind is not None}
    for f in findings:
        if f.file in by_name:
            by_name[f.file].findings.append(f)
        else:  # the later file arrived in an earlier run: reported under a line of its own
            results.append(FileResult(f.file, None, None, "in_force", findings=[f]))

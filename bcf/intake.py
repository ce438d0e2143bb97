"""Land and stage every file of a source: the plain function behind the `ingest-extracts` flow and `bcf validate`.

No Prefect here. The flows pass their Prefect tasks in (list, land, stage) so each file shows as a task run;
`bcf validate` calls it as it is, with no flow run, no Prefect server and no Prefect import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcf.checks import duplicate_keys
from bcf.ingest import (
    READ_AHEAD_MAX_BYTES,
    FileResult,
    ReadAhead,
    empty_source,
    ignored,
    not_fetched,
    record_source_findings,
    stage_file,
)
from bcf.sources import FetchFailed, Landed, SourceObject, land, list_source, staging_key
from core.settings import pseudonym_key
from transforms.findings import Finding
from transforms.validate import RowValidator
from warehouse import db


@dataclass
class IngestReport:
    run_id: str
    source: str
    files: list[FileResult] = field(default_factory=list)
    development_key: bool = False


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / "warehouse.duckdb"


def landing_path(data_dir: Path) -> Path:
    return data_dir / "landing"


def stage(db_file: Path, obj: SourceObject, landed: Landed, run_id: str, key: bytes,
          validator: RowValidator, read_ahead: ReadAhead | None = None) -> FileResult:
    with db.connect(db_file) as con:
        return stage_file(con, obj, landed, run_id, key, validator, read_ahead=read_ahead)


def ingest_source(source: str, data_dir: Path, run_id: str, *, log: Any = None,
                  lister: Callable[[str], list[SourceObject]] = list_source,
                  lander: Callable[[SourceObject, Path], Landed | FetchFailed] = land,
                  stager: Callable[..., FileResult] = stage, read_ahead: bool = False) -> IngestReport:
    """Land and stage every file of a source, in staging order; one line per file on the log (a logger or Prefect's
    run logger). With `read_ahead` (the plain path, whose stager is `stage`), the next new file of at most
    READ_AHEAD_MAX_BYTES is landed and read in a background thread while this one is staged."""
    log = log or logging.getLogger("bcf.ingest")
    key, development = pseudonym_key()
    if development:
        log.warning("BCF_PSEUDONYM_KEY is not set: using the documented development key (synthetic data only)")
    report = IngestReport(run_id, source, development_key=development)
    objects = sorted(lister(source), key=staging_key)
    validator = RowValidator()
    log.info("%d file(s) at %s", len(objects), source)
    landed_files: dict[int, Landed | FetchFailed] = {}

    def landed_file(i: int) -> Landed | FetchFailed:
        if i not in landed_files:
            try:
                landed_files[i] = lander(objects[i], landing_path(data_dir))
            except FetchFailed as exc:  # the plain `land` raises it; the Prefect task returns it
                landed_files[i] = exc
        return landed_files[i]

    known = _known_files(warehouse_path(data_dir)) if read_ahead else set()
    ahead: dict[int, ReadAhead] = {}
    for i, obj in enumerate(objects):
        if obj.kind is None:
            result = ignored(obj)
        else:
            landed = landed_file(i)
            if isinstance(landed, FetchFailed):
                result = not_fetched(obj, landed.rule, landed.message)
            else:
                if read_ahead:
                    _read_next(objects, i + 1, landed_file, known, ahead)
                extra = {"read_ahead": ahead.pop(i)} if i in ahead else {}
                result = stager(warehouse_path(data_dir), obj, landed, run_id, key, validator, **extra)
        report.files.append(result)
        log.info("%s: %s, %d rows received, %d loaded, %d rejected, %d finding(s)", obj.name, result.outcome,
                 result.rows_received, result.rows_loaded, result.rows_rejected, len(result.findings))
    if not any(obj.kind is not None for obj in objects):
        report.files.append(empty_source(source))
        log.error("%s holds no extract files: no return is made from it", source)
    with db.connect(warehouse_path(data_dir)) as con:
        record_source_findings(con, run_id, report.files)
        _attach(report.files, duplicate_keys(con))
    return report


def _known_files(db_file: Path) -> set[str]:
    """The files the warehouse holds already: staging one of them reads nothing, so it is not read ahead."""
    if not db_file.exists():
        return set()
    with db.connect(db_file) as con:
        return {r[0] for r in con.execute("SELECT file_id FROM files").fetchall()}


def _read_next(objects: list[SourceObject], i: int, landed_file: Callable[[int], Landed | FetchFailed],
               known: set[str], ahead: dict[int, ReadAhead]) -> None:
    """Land the next extract and start reading it, when it is new and small enough to hold beside this one."""
    if i >= len(objects) or objects[i].kind is None:
        return
    landed = landed_file(i)
    if isinstance(landed, Landed) and landed.sha256 not in known and landed.size <= READ_AHEAD_MAX_BYTES:
        ahead[i] = ReadAhead(str(objects[i].kind), landed.path, objects[i].name)


def _attach(results: list[FileResult], findings: list[Finding]) -> None:
    """Keys found in two files in force go with the later file's result, so `bcf ingest`/`validate` report them."""
    by_name = {r.name: r for r in results if r.kind is not None}
    for f in findings:
        if f.file in by_name:
            by_name[f.file].findings.append(f)
        else:  # the later file arrived in an earlier run: reported under a line of its own
            results.append(FileResult(f.file, None, None, "in_force", findings=[f]))

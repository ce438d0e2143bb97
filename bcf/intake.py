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

from bcf.ingest import FileResult, ignored, stage_file
from bcf.settings import pseudonym_key
from bcf.sources import Landed, SourceObject, land, list_source, staging_key
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
          validator: RowValidator) -> FileResult:
    with db.connect(db_file) as con:
        return stage_file(con, obj, landed, run_id, key, validator)


def ingest_source(source: str, data_dir: Path, run_id: str, *, log: Any = None,
                  lister: Callable[[str], list[SourceObject]] = list_source,
                  lander: Callable[[SourceObject, Path], Landed] = land,
                  stager: Callable[..., FileResult] = stage) -> IngestReport:
    """Land and stage every file of a source, in staging order; one line per file on the log (a logger or Prefect's
    run logger)."""
    log = log or logging.getLogger("bcf.ingest")
    key, development = pseudonym_key()
    if development:
        log.warning("BCF_PSEUDONYM_KEY is not set: using the documented development key (synthetic data only)")
    report = IngestReport(run_id, source, development_key=development)
    objects = sorted(lister(source), key=staging_key)
    validator = RowValidator()
    log.info("%d file(s) at %s", len(objects), source)
    for obj in objects:
        if obj.kind is None:
            result = ignored(obj)
        else:
            landed = lander(obj, landing_path(data_dir))
            result = stager(warehouse_path(data_dir), obj, landed, run_id, key, validator)
        report.files.append(result)
        log.info("%s: %s, %d rows received, %d loaded, %d rejected, %d finding(s)", obj.name, result.outcome,
                 result.rows_received, result.rows_loaded, result.rows_rejected, len(result.findings))
    return report

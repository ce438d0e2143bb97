"""Flow `ingest-extracts`: list a source, land every object once, stage it into the warehouse."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from bcf.ingest import FileResult, ignored, stage_file
from bcf.settings import code_version, pseudonym_key
from bcf.sources import Landed, SourceObject, land, list_source
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


@task(name="list-source", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def list_source_task(source: str) -> list[SourceObject]:
    return list_source(source)


@task(name="land-file", retries=3, retry_delay_seconds=[1, 5, 20], cache_policy=NO_CACHE)
def land_task(obj: SourceObject, landing_dir: Path) -> Landed:
    return land(obj, landing_dir)


@task(name="stage-file", cache_policy=NO_CACHE)
def stage_task(db_file: Path, obj: SourceObject, landed: Landed, run_id: str, key: bytes,
               validator: RowValidator) -> FileResult:
    with db.connect(db_file) as con:
        return stage_file(con, obj, landed, run_id, key, validator)


def ingest(source: str, data_dir: Path, run_id: str) -> IngestReport:
    """Land and stage every file of a source. Called inside a flow (the tasks need one)."""
    logger = get_run_logger()
    key, development = pseudonym_key()
    if development:
        logger.warning("BCF_PSEUDONYM_KEY is not set: using the documented development key (synthetic data only)")
    report = IngestReport(run_id, source, development_key=development)
    # the plan first: spend rows are checked against the schemes of the plan in force
    objects = sorted(list_source_task(source), key=lambda o: (o.kind != "plan", o.name))
    validator = RowValidator()
    logger.info("%d file(s) at %s", len(objects), source)
    for obj in objects:
        if obj.kind is None:
            result = ignored(obj)
        else:
            landed = land_task(obj, landing_path(data_dir))
            result = stage_task(warehouse_path(data_dir), obj, landed, run_id, key, validator)
        report.files.append(result)
        logger.info("%s: %s, %d rows received, %d loaded, %d rejected, %d finding(s)", obj.name, result.outcome,
                    result.rows_received, result.rows_loaded, result.rows_rejected, len(result.findings))
    return report


@flow(name="ingest-extracts", log_prints=True)
def ingest_flow(source: str, data_dir: str) -> IngestReport:
    run_id = str(flow_run.get_id() or uuid.uuid4())
    data = Path(data_dir)
    _, development = pseudonym_key()
    with db.connect(warehouse_path(data)) as con:
        db.start_run(con, run_id, "ingest-extracts", {"source": source, "data_dir": data_dir}, code_version(),
                     development, flow_run.get_id())
    try:
        report = ingest(source, data, run_id)
    except BaseException as exc:
        with db.connect(warehouse_path(data)) as con:
            db.finish_run(con, run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    with db.connect(warehouse_path(data)) as con:
        db.finish_run(con, run_id, "done", f"{len(report.files)} file(s)")
    return report

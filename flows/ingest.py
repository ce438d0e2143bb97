"""Flow `ingest-extracts`: list a source, land every object once, stage it into the warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from bcf.ingest import FileResult, ignored, stage_file
from bcf.settings import pseudonym_key
from bcf.sources import Landed, SourceObject, land, list_source, staging_key
from flows.common import landing_path, ledger_run, warehouse_path
from transforms.validate import RowValidator
from warehouse import db


@dataclass
class IngestReport:
    run_id: str
    source: str
    files: list[FileResult] = field(default_factory=list)
    development_key: bool = False


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
    objects = sorted(list_source_task(source), key=staging_key)
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
    with ledger_run(Path(data_dir), "ingest-extracts", {"source": source, "data_dir": data_dir}) as ledger:
        report = ingest(source, Path(data_dir), ledger.run.run_id)
        ledger.detail = f"{len(report.files)} file(s)"
    return report

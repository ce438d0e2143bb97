"""Flow `ingest-extracts`: list a source, land every object once, stage it into the warehouse. The work is
source_run.ingest_source; this module gives each step a Prefect task (and a task-run name naming its file)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from bcf.flows.common import current_flow_run_id
from bcf.ingest.source_run import IngestReport, ingest_source, stage
from bcf.ingest.sources import FetchFailed, Landed, SourceObject, land, list_source
from bcf.ingest.stage_file import FileResult
from bcf.run import pipeline
from bcf.transforms.nhs_number import mask_text
from bcf.transforms.validate import RowValidator

__all__ = ["IngestReport", "ingest", "ingest_flow"]


def _list_name() -> str:
    from prefect import runtime

    return f"list {mask_text(str(runtime.task_run.parameters.get('source')))}"  # an S3 prefix may name a person


@task(name="list-source", task_run_name=_list_name, retries=2, retry_delay_seconds=[2, 10],
      cache_policy=NO_CACHE)
def list_source_task(source: str) -> list[SourceObject]:
    return list_source(source)


@task(name="land-file", task_run_name="land {obj.name}", cache_policy=NO_CACHE)
def land_task(obj: SourceObject, landing_dir: Path) -> Landed | FetchFailed:
    """Retries live in `land` (a failed GET or a body unlike its listing); what still fails is a file finding."""
    try:
        return land(obj, landing_dir)
    except FetchFailed as exc:
        return exc


@task(name="stage-file", task_run_name="stage {obj.name}", cache_policy=NO_CACHE)
def stage_task(db_file: Path, obj: SourceObject, landed: Landed, run_id: str, key: bytes,
               validator: RowValidator) -> FileResult:
    return stage(db_file, obj, landed, run_id, key, validator)


def ingest(source: str, data_dir: Path, run_id: str, source_wide: bool = True) -> IngestReport:
    """Land and stage every file of a source, each step a Prefect task. Called inside a flow (the tasks need one)."""
    return ingest_source(source, data_dir, run_id, log=get_run_logger(), lister=list_source_task, lander=land_task,
                         stager=stage_task, source_wide=source_wide)


def _run_name() -> str:
    from prefect import runtime

    return f"ingest {mask_text(str(runtime.flow_run.parameters.get('source')))}"


@flow(name="ingest-extracts", flow_run_name=_run_name, log_prints=True)
def ingest_flow(source: str, data_dir: str) -> IngestReport:
    return pipeline.ingest_run(source, data_dir, pipeline.Steps(ingest=ingest, flow_run_id=current_flow_run_id()))

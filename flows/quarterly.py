"""Flow `quarterly-return`: ingest -> validate -> compute -> write (built-in layout or the user's template) ->
audit pack, for one HWB and quarter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from bcf.core.dates import Quarter, latest_quarter_before
from bcf.flows.common import alert_on_failure, current_flow_run_id, final_state, md_table, report_outcome, show
from bcf.flows.ingest import ingest
from bcf.flows.submission import await_signoff_and_submit
from bcf.returns import build as returns
from bcf.returns.pack import RunInfo
from bcf.returns.produce import ReturnOutcome
from bcf.returns.quarterly import METRICS
from bcf.run import pipeline
from bcf.transforms.figures import Figure


def headline(figures: dict[str, Figure]) -> list[str]:
    """Template status, each metric's plan beside its actual and assessment, and income against expenditure."""
    ie = ["q.ie.total.income", "q.ie.total.expenditure_ytd", "q.ie.total.balance"]
    return [f"Template status: **{show(figures.get('q.template_status'))}**", "", "## Metrics", "",
            *md_table(["metric", "plan", "actual", "assessment"],
                      [[m.replace("_", " ").replace("91d", "(91 days)").capitalize(),
                        *(show(figures.get(f"q.metric.{m}.{p}")) for p in ("plan", "actual", "assessment"))]
                       for m in METRICS]),
            "## Income and expenditure", "", *md_table([figures[f].spec.label if f in figures else f for f in ie],
                                                       [[show(figures.get(f)) for f in ie]])]


def run_name() -> str:
    """`bcf E06000017 2023-24 Q3`: what the run is, readable in the runs list."""
    p = runtime.flow_run.parameters
    quarter = p.get("quarter") or latest_quarter_before(dt.date.today())
    return f"bcf {p.get('hwb')} {Quarter.parse(quarter).label}"


@task(name="produce-quarterly-return", task_run_name="produce bcf {hwb} {quarter.label}",
      cache_policy=NO_CACHE)
def produce_task(data_dir: Path, hwb: str, quarter: Quarter, out_dir: Path, run: RunInfo,
                 options: returns.TemplateOptions | None = None,
                 signoff: dict[str, str] | None = None) -> ReturnOutcome:
    return pipeline.produce_quarterly(data_dir, hwb, quarter, out_dir, run, options, signoff)


@task(name="board-briefing", cache_policy=NO_CACHE)
def briefing_task(data_dir: Path, hwb: str, quarter: Quarter, out_dir: Path) -> None:
    pipeline.write_briefing(data_dir, hwb, quarter, out_dir)


@flow(name="quarterly-return", flow_run_name=run_name, log_prints=True, on_failure=[alert_on_failure])
def quarterly_flow(source: str, hwb: str, quarter: str | None = None, out_dir: str = "returns",
                   data_dir: str = "bcf_data", template: str | None = None,
                   cell_map: str | None = None, template_lineage: bool = False,
                   accept_template_losses: bool = False,
                   signoff: dict[str, str] | None = None) -> ReturnOutcome | State[Any]:
    """bcf.run.pipeline.quarterly_return with each step a Prefect task. quarter like 2023-24-Q3; defaults to the last
    quarter that ended before today."""
    steps = pipeline.Steps(ingest=ingest, produce_quarterly=produce_task, briefing=briefing_task,
                           flow_run_id=current_flow_run_id())
    ran = pipeline.quarterly_return(source, hwb, quarter, out_dir, data_dir, template, cell_map, template_lineage,
                                    accept_template_losses, signoff, steps)
    report_outcome(ran.flow, ran.label, hwb, ran.period, ran.outcome, headline, ran.run.flow_run_id)
    # a deployment's run waits for sign-off, then submits (issue 22, flows/submission.py)
    submitted = await_signoff_and_submit(ran.outcome, ran.label, hwb, ran.period, data_dir, ran.run.flow_run_id)
    return submitted if submitted is not None else final_state(ran.outcome)

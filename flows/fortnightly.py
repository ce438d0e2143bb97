"""Flow `fortnightly-return`: ingest -> validate -> compute -> write -> audit pack, for one HWB and fortnight."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from bcf.core.dates import Fortnight, scheduled_period_end
from bcf.flows.common import alert_on_failure, current_flow_run_id, final_state, md_table, report_outcome, show
from bcf.flows.ingest import ingest
from bcf.flows.submission import await_signoff_and_submit
from bcf.returns import build as returns
from bcf.returns.pack import RunInfo
from bcf.returns.produce import ReturnOutcome
from bcf.run import pipeline
from bcf.transforms.figures import Figure

ACTIVITY = ["df.discharges.total", "df.discharges.usual_residence", "df.discharges.avg_delay_days",
            "df.packages.started", "df.packages.in_use"]
CHECKS = ["df.check.plan_within_income", "df.check.spend_within_income"]


def headline(figures: dict[str, Figure]) -> list[str]:
    """Money with plan beside actual beside income, the activity figures, and the checks with a No marked."""
    money = ["df.spend.planned", "df.spend.to_date", "df.income.total", "df.balance"]
    return ["## Money", "", *md_table([figures[m].spec.label if m in figures else m for m in money],
                                      [[show(figures.get(m)) for m in money]]),
            "## Activity", "", *md_table(["figure", "value"], [[figures[f].spec.label, show(figures[f])]
                                                                for f in ACTIVITY if f in figures]),
            "## Checks", "", *md_table(["check", "result"], [[figures[f].spec.label, show(figures[f])]
                                                             for f in CHECKS if f in figures])]


def run_name() -> str:
    """`df E06000017 2023-03-30`: what the run is, readable in the runs list."""
    p = runtime.flow_run.parameters
    end = p.get("period_end") or scheduled_period_end(dt.date.today()).isoformat()
    return f"df {p.get('hwb')} {end}"


@task(name="produce-fortnightly-return", task_run_name="produce df {hwb} {period.period_end}",
      cache_policy=NO_CACHE)
def produce_task(data_dir: Path, hwb: str, period: Fortnight, out_dir: Path, run: RunInfo,
                 options: returns.TemplateOptions | None = None,
                 signoff: dict[str, str] | None = None) -> ReturnOutcome:
    return pipeline.produce_fortnightly(data_dir, hwb, period, out_dir, run, options, signoff)


@flow(name="fortnightly-return", flow_run_name=run_name, log_prints=True, on_failure=[alert_on_failure])
def fortnightly_flow(source: str, hwb: str, period_end: str | None = None, out_dir: str = "returns",
                     data_dir: str = "bcf_data", template: str | None = None, cell_map: str | None = None,
                     template_lineage: bool = False, accept_template_losses: bool = False,
                     signoff: dict[str, str] | None = None) -> ReturnOutcome | State[Any]:
    """bcf.run.pipeline.fortnightly_return with each step a Prefect task. period_end (yyyy-mm-dd) defaults to the day
    before the latest submission Friday. A blocked return ends the run Failed, named Blocked
    (flows.common.final_state); the outcome is its data."""
    steps = pipeline.Steps(ingest=ingest, produce_fortnightly=produce_task, flow_run_id=current_flow_run_id())
    ran = pipeline.fortnightly_return(source, hwb, period_end, out_dir, data_dir, template, cell_map,
                                      template_lineage, accept_template_losses, signoff, steps)
    report_outcome(ran.flow, ran.label, hwb, ran.period, ran.outcome, headline, ran.run.flow_run_id)
    # a deployment's run waits for sign-off, then submits (issue 22, flows/submission.py)
    submitted = await_signoff_and_submit(ran.outcome, ran.label, hwb, ran.period, data_dir, ran.run.flow_run_id)
    return submitted if submitted is not None else final_state(ran.outcome)

"""Flow `fortnightly-return`: ingest -> validate -> compute -> write -> audit pack, for one HWB and fortnight."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from bcf import returns
from bcf.audit import RunInfo
from bcf.fortnightly import Fortnight, scheduled_period_end
from bcf.produce import ReturnOutcome, produce
from flows.common import alert_on_failure, ledger_run, report_outcome, settle, warehouse_path
from flows.ingest import ingest
from warehouse import db

HEADLINE = ["df.discharges.total", "df.discharges.usual_residence", "df.discharges.avg_delay_days",
            "df.packages.started", "df.packages.in_use", "df.spend.planned", "df.spend.to_date", "df.income.total",
            "df.balance", "df.check.plan_within_income", "df.check.spend_within_income"]


@task(name="produce-fortnightly-return", cache_policy=NO_CACHE)
def produce_task(data_dir: Path, period: Fortnight, out_dir: Path, run: RunInfo,
                 options: returns.TemplateOptions | None = None,
                 signoff: dict[str, str] | None = None) -> ReturnOutcome:
    with db.connect(warehouse_path(data_dir)) as con:
        return produce(con, period.hwb, period.params(), out_dir / period.file_name, run,
                       returns.fortnightly(period, options, signoff))


@flow(name="fortnightly-return", log_prints=True, on_failure=[alert_on_failure])
def fortnightly_flow(source: str, hwb: str, period_end: str | None = None, out_dir: str = "returns",
                     data_dir: str = "bcf_data", template: str | None = None, cell_map: str | None = None,
                     template_lineage: bool = False, accept_template_losses: bool = False,
                     signoff: dict[str, str] | None = None) -> ReturnOutcome:
    """period_end (yyyy-mm-dd) defaults to the day before the latest submission Friday (anchor 6 January 2023).
    With `template`, the national template is filled through `cell_map` instead of the built-in layout."""
    end = dt.date.fromisoformat(period_end) if period_end else scheduled_period_end(dt.date.today())
    period = Fortnight.ending(hwb, end)
    params = {"source": source, **period.params(), "out_dir": out_dir, "data_dir": data_dir}
    options = None
    if template:
        options = returns.TemplateOptions(template, cell_map, template_lineage, accept_template_losses)
        params |= {"template": template, "cell_map": cell_map, "template_lineage": template_lineage,
                   "accept_template_losses": accept_template_losses}
    if signoff:
        params["signoff"] = signoff
    with ledger_run(Path(data_dir), "fortnightly-return", params) as ledger:
        ingest(source, Path(data_dir), ledger.run.run_id)
        outcome = produce_task(Path(data_dir), period, Path(out_dir), ledger.run, options, signoff)
        settle(ledger, outcome)
    report_outcome("fortnightly-return", f"df {hwb} {end.isoformat()}", hwb, end.isoformat(), outcome, HEADLINE,
                   ledger.run.flow_run_id)
    return outcome


def backfill_period_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every scheduled period end (the Thursday before each submission Friday) between two dates, inclusive."""
    ends = []
    end = scheduled_period_end(first + dt.timedelta(days=1))
    if end < first:
        end += dt.timedelta(days=14)
    while end <= last:
        ends.append(end)
        end += dt.timedelta(days=14)
    return ends

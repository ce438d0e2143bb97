"""Flow `quarterly-return`: ingest -> validate -> compute -> write (built-in layout or the user's template) ->
audit pack, for one HWB and quarter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from bcf import returns
from bcf.audit import RunInfo
from bcf.produce import ReturnOutcome, produce, recorded
from bcf.quarterly import METRICS, Quarter
from core.dates import latest_quarter_before
from flows.common import (
    alert_on_failure,
    final_state,
    ledger_run,
    md_table,
    report_outcome,
    settle,
    show,
    warehouse_path,
)
from flows.ingest import ingest
from transforms.figures import Figure
from warehouse import db


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
    return f"bcf {p.get('hwb')} {Quarter.parse(str(p.get('hwb')), quarter).label}"


@task(name="produce-quarterly-return", task_run_name="produce bcf {quarter.hwb} {quarter.label}",
      cache_policy=NO_CACHE)
def produce_task(data_dir: Path, quarter: Quarter, out_dir: Path, run: RunInfo,
                 options: returns.TemplateOptions | None = None,
                 signoff: dict[str, str] | None = None) -> ReturnOutcome:
    with db.connect(warehouse_path(data_dir)) as con:
        return produce(con, quarter.hwb, quarter.params(), out_dir / quarter.file_name, run,
                       returns.quarterly(quarter, options=options, signoff=signoff))


@task(name="board-briefing", cache_policy=NO_CACHE)
def briefing_task(data_dir: Path, quarter: Quarter, out_dir: Path) -> None:
    """The fund year's board briefing, refreshed after each quarterly return (bcf/briefing.py). A failure here is
    logged as an error and leaves the return, already published, in place."""
    from prefect.logging import get_run_logger

    from bcf import briefing

    if not briefing.enabled():
        return
    try:
        xlsx, pdf = briefing.write(quarter.hwb, quarter.fund_year, out_dir, data_dir, until=quarter.q_end,
                                   compute_fortnights=briefing.compute_fortnights_in_flow())
        print(f"board briefing: {xlsx.name}, {pdf.name}")
    except Exception as exc:  # the return is written; the briefing is a by-product
        get_run_logger().error("board briefing not written: %s", exc)


@flow(name="quarterly-return", flow_run_name=run_name, log_prints=True, on_failure=[alert_on_failure])
def quarterly_flow(source: str, hwb: str, quarter: str | None = None, out_dir: str = "returns",
                   data_dir: str = "bcf_data", template: str | None = None,
                   cell_map: str | None = None, template_lineage: bool = False,
                   accept_template_losses: bool = False,
                   signoff: dict[str, str] | None = None) -> ReturnOutcome | State[Any]:
    """quarter like 2023-24-Q3; defaults to the last quarter that ended before today."""
    q = Quarter.parse(hwb, quarter or latest_quarter_before(dt.date.today()))
    params = {"source": source, **recorded(q.params()),
              "out_dir": out_dir, "data_dir": data_dir, "template": template, "cell_map": cell_map}
    options = returns.TemplateOptions(template, cell_map, template_lineage, accept_template_losses)
    if template:
        params |= {"template_lineage": template_lineage, "accept_template_losses": accept_template_losses}
    if signoff:
        params["signoff"] = signoff
    with ledger_run(Path(data_dir), "quarterly-return", params) as ledger:
        ingest(source, Path(data_dir), ledger.run.run_id)
        outcome = produce_task(Path(data_dir), q, Path(out_dir), ledger.run, options, signoff)
        settle(ledger, outcome)
    if outcome.status == "written":
        briefing_task(Path(data_dir), q, Path(out_dir))
    report_outcome("quarterly-return", f"bcf {hwb} {q.label}", hwb, q.label, outcome, headline,
                   ledger.run.flow_run_id)
    return final_state(outcome)

"""One run of the pipeline as plain functions: ledger, ingest, one return (and the quarter's board briefing).

flows/ runs these same functions with each step as a Prefect task (`Steps`) and reports to the Prefect UI. `bcf run`
calls them directly when no Prefect server is configured (core.settings.use_prefect): a temporary server would cost
10-20 s a run and its run history would vanish with it when the command exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcf.core.dates import Fortnight, Quarter, latest_quarter_before, scheduled_period_end
from bcf.ingest.source_run import IngestReport, ingest_source
from bcf.returns import build as returns
from bcf.returns.pack import RunInfo
from bcf.returns.produce import ReturnOutcome, produce
from bcf.run.alerts import Alert, send
from bcf.run.ledger import ledger_run, settle
from bcf.transforms.findings import Finding, summarise, summary_lines
from bcf.warehouse import db
from bcf.warehouse.paths import warehouse_path

log = logging.getLogger("bcf.run")


def produce_fortnightly(data_dir: Path, hwb: str, period: Fortnight, out_dir: Path, run: RunInfo,
                        options: returns.TemplateOptions | None = None,
                        signoff: dict[str, str] | None = None) -> ReturnOutcome:
    with db.connect(warehouse_path(data_dir)) as con:
        return produce(con, hwb, period.params(hwb), out_dir / period.file_name(hwb), run,
                       returns.fortnightly(hwb, period, options, signoff))


def produce_quarterly(data_dir: Path, hwb: str, quarter: Quarter, out_dir: Path, run: RunInfo,
                      options: returns.TemplateOptions | None = None,
                      signoff: dict[str, str] | None = None) -> ReturnOutcome:
    with db.connect(warehouse_path(data_dir)) as con:
        return produce(con, hwb, quarter.params(hwb), out_dir / quarter.file_name(hwb), run,
                       returns.quarterly(hwb, quarter, options=options, signoff=signoff))


def write_briefing(data_dir: Path, hwb: str, quarter: Quarter, out_dir: Path) -> None:
    """The fund year's board briefing, refreshed after each quarterly return (returns/briefing.py). A failure here is
    logged as an error and leaves the return, already published, in place."""
    from bcf.returns import briefing

    if not briefing.enabled():
        return
    try:
        xlsx, pdf = briefing.write(hwb, quarter.fund_year, out_dir, data_dir, until=quarter.q_end,
                                   compute_fortnights=briefing.compute_fortnights_in_flow())
        print(f"board briefing: {xlsx.name}, {pdf.name}")
    except Exception as exc:  # the return is written; the briefing is a by-product
        logging.getLogger("bcf.briefing").error("board briefing not written: %s", exc)


def plain_ingest(source: str, data_dir: Path, run_id: str, source_wide: bool = True) -> IngestReport:
    return ingest_source(source, data_dir, run_id, log=log, read_ahead=True, source_wide=source_wide)


@dataclass
class Steps:
    """How each step runs: plainly (the defaults), or as Prefect tasks (flows/ passes its own)."""

    ingest: Callable[..., IngestReport] = plain_ingest  # (source, data_dir, run_id, source_wide=True)
    produce_fortnightly: Callable[..., ReturnOutcome] = produce_fortnightly
    produce_quarterly: Callable[..., ReturnOutcome] = produce_quarterly
    briefing: Callable[[Path, str, Quarter, Path], None] = write_briefing
    flow_run_id: str | None = None


@dataclass
class Ran:
    """What one return run made, and the names the reports give it."""

    outcome: ReturnOutcome
    run: RunInfo
    flow: str
    label: str  # `df E06000017 2023-03-30`, `bcf E06000017 2023-24 Q3`
    hwb: str
    period: str


def fortnightly_return(source: str, hwb: str, period_end: str | None = None, out_dir: str = "returns",
                       data_dir: str = "bcf_data", template: str | None = None, cell_map: str | None = None,
                       template_lineage: bool = False, accept_template_losses: bool = False,
                       signoff: dict[str, str] | None = None, steps: Steps | None = None) -> Ran:
    """period_end (yyyy-mm-dd) defaults to the day before the latest submission Friday (anchor 6 January 2023).
    With `template`, the national template is filled through `cell_map` instead of the built-in layout."""
    steps = steps or Steps()
    end = dt.date.fromisoformat(period_end) if period_end else scheduled_period_end(dt.date.today())
    period = Fortnight.ending(end)
    params: dict[str, Any] = {"source": source, **period.params(hwb), "out_dir": out_dir, "data_dir": data_dir}
    options = None
    if template:
        options = returns.TemplateOptions(template, cell_map, template_lineage, accept_template_losses)
        params |= {"template": template, "cell_map": cell_map, "template_lineage": template_lineage,
                   "accept_template_losses": accept_template_losses}
    if signoff:
        params["signoff"] = signoff
    outcome, run = _ingest_and_produce("fortnightly-return", source, data_dir, params, steps, lambda run: (
        steps.produce_fortnightly(Path(data_dir), hwb, period, Path(out_dir), run, options, signoff)))
    return Ran(outcome, run, "fortnightly-return", f"df {hwb} {end.isoformat()}", hwb, end.isoformat())


def quarterly_return(source: str, hwb: str, quarter: str | None = None, out_dir: str = "returns",
                     data_dir: str = "bcf_data", template: str | None = None, cell_map: str | None = None,
                     template_lineage: bool = False, accept_template_losses: bool = False,
                     signoff: dict[str, str] | None = None, steps: Steps | None = None) -> Ran:
    """quarter like 2023-24-Q3; defaults to the last quarter that ended before today. A written return refreshes
    the fund year's board briefing."""
    steps = steps or Steps()
    q = Quarter.parse(quarter or latest_quarter_before(dt.date.today()))
    params: dict[str, Any] = {"source": source, **q.params(hwb), "out_dir": out_dir, "data_dir": data_dir,
                              "template": template, "cell_map": cell_map}
    options = returns.TemplateOptions(template, cell_map, template_lineage, accept_template_losses)
    if template:
        params |= {"template_lineage": template_lineage, "accept_template_losses": accept_template_losses}
    if signoff:
        params["signoff"] = signoff
    outcome, run = _ingest_and_produce("quarterly-return", source, data_dir, params, steps, lambda run: (
        steps.produce_quarterly(Path(data_dir), hwb, q, Path(out_dir), run, options, signoff)))
    if outcome.status == "written":
        steps.briefing(Path(data_dir), hwb, q, Path(out_dir))
    return Ran(outcome, run, "quarterly-return", f"bcf {hwb} {q.label}", hwb, q.label)


def _ingest_and_produce(flow: str, source: str, data_dir: str, params: dict[str, Any], steps: Steps,
                        produce_one: Callable[[RunInfo], ReturnOutcome]) -> tuple[ReturnOutcome, RunInfo]:
    """What every return run does inside its run-ledger row: ingest the source, then produce the return."""
    with ledger_run(Path(data_dir), flow, params, steps.flow_run_id) as ledger:
        steps.ingest(source, Path(data_dir), ledger.run.run_id, source_wide=False)  # produce judges the HWB's
        outcome = produce_one(ledger.run)
        settle(ledger, outcome)
    return outcome, ledger.run


def ingest_run(source: str, data_dir: str, steps: Steps | None = None) -> IngestReport:
    """Land and stage a source into the warehouse, recorded in the run ledger (`bcf ingest`)."""
    steps = steps or Steps()
    with ledger_run(Path(data_dir), "ingest-extracts", {"source": source, "data_dir": data_dir},
                    steps.flow_run_id) as ledger:
        report = steps.ingest(source, Path(data_dir), ledger.run.run_id)
        ledger.detail = f"{len(report.files)} file(s)"
    return report


def finding_line(f: Finding) -> str:
    return f"{f.file} row {f.row if f.row is not None else '-'} [{f.column or '-'}] {f.rule}: {f.message}"


def log_blocked(logger: logging.Logger | logging.LoggerAdapter[Any], outcome: ReturnOutcome) -> None:
    """The line a blocked return leaves in the log, the same from a local run and from a Prefect flow run: the count
    and the largest cause. The whole summary is what the command prints last and the findings artifact shows."""
    groups = summarise(outcome.blocking)
    logger.warning("BLOCKED: %s was not written; %d error finding(s) of %d kind(s), first: %s",
                   outcome.workbook.name, len(outcome.blocking), len(groups), groups[0].short() if groups else "-")


def alert_if_blocked(flow: str, hwb: str, period: str, outcome: ReturnOutcome, flow_run_id: str | None) -> None:
    """The fallback channel (bcf/run/alerts.py): only sends when BCF_ALERT_* is configured."""
    if outcome.status != "blocked":
        return
    send(Alert("blocked", flow, hwb, period, f"{len(outcome.blocking)} error finding(s) block the return; "
               "no workbook was written", _absolute(outcome.findings_file), flow_run_id,
               summary_lines(outcome.blocking, 10)))


def _absolute(path: Path | None) -> str:
    """A path as a person reading an alert can open it, whatever folder the run started in."""
    return str(path.resolve()) if path else "no findings file: see the run's log"


def run_here(run: Callable[..., Ran], **parameters: Any) -> ReturnOutcome:
    """A return run in this process without Prefect (`bcf run` with no Prefect server configured): the same steps
    and run ledger as the flow, progress lines on the console, and the blocked alert when one is configured."""
    console_lines()
    try:
        ran = run(**parameters)
    except Exception as exc:  # what the flows' on_failure hook sends, then the error goes on up as before
        send(Alert("failed", run.__name__.replace("_", "-"), str(parameters.get("hwb", "")),
                   str(parameters.get("period_end") or parameters.get("quarter") or "scheduled period"),
                   f"{type(exc).__name__}: {exc}"[:500], "the bcf command's error output (no Prefect run)"))
        raise
    if ran.outcome.status == "blocked":
        log_blocked(log, ran.outcome)
    alert_if_blocked(ran.flow, ran.hwb, ran.period, ran.outcome, None)
    return ran.outcome


class _ConsoleLines(logging.Handler):
    """Prints to whatever sys.stdout is at the time (a test's capture, a redirected console)."""

    def emit(self, record: logging.LogRecord) -> None:
        print("    " + self.format(record), file=sys.stdout)


def console_lines() -> None:
    """Our progress lines (per file, the outcome) on stdout, as the flows show them; once per process."""
    logger = logging.getLogger("bcf")
    if not any(isinstance(h, _ConsoleLines) for h in logger.handlers):
        logger.addHandler(_ConsoleLines())
        logger.setLevel(logging.INFO)

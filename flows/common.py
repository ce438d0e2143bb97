"""What every flow does around its work (bcf/run/pipeline.py): the artifacts, events and states the data team reads in
the Prefect UI."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from prefect import get_run_logger, runtime
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.states import Completed, Failed, State

from bcf.core.settings import env
from bcf.returns.produce import ReturnOutcome
from bcf.run.alerts import Alert, run_links, send
from bcf.run.pipeline import alert_if_blocked, finding_line, log_blocked
from bcf.transforms.figures import Figure, rounded
from bcf.transforms.findings import SHOWN, Finding, FindingsReport


def current_flow_run_id() -> str | None:
    """This flow run's id: the run ledger's run id, so a runs row and its Prefect run share one id."""
    flow_run_id = runtime.flow_run.get_id()
    return str(flow_run_id) if flow_run_id else None


BLOCKED = "Blocked"  # the name of the Failed state a blocked return ends in: red in the UI, named for what happened


def _key(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:100]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows), ""]


def findings_markdown(title: str, findings: FindingsReport, blockers: list[Finding]) -> str:
    """Blocking findings first, then the other errors, then the warnings (each up to SHOWN): nothing only counted.
    The groups and the first findings come from the warehouse (FindingsReport), not the whole list."""
    blocking = set(blockers)  # membership in a set: a list made this quadratic in the findings (issue 25)
    lines = [f"# {title}", "", f"- blocking errors: **{len(blockers)}**", f"- errors: {findings.errors}",
             f"- warnings: {findings.warnings}", ""]
    if findings.groups:  # read first: one line per rule and file, with its count and one example
        lines += ["## By rule and file", ""]
        lines += md_table(["severity", "rule", "file", "count", "example"],
                          [[g.severity, g.rule, g.file, f"{g.count:,}",
                            ("" if g.example.row is None else f"row {g.example.row}: ") + g.example.message]
                           for g in findings.groups])
    other_errors = [f for f in findings.first_errors if f not in blocking]
    for heading, group, count in (("Blocking the return", blockers, len(blockers)),
                                  ("Other errors", other_errors, max(findings.errors - len(blocking),
                                                                     len(other_errors))),
                                  ("Warnings (the return is still written)", list(findings.first_warnings),
                                   findings.warnings)):
        if not group:
            continue
        lines += [f"## {heading}", ""]
        lines += md_table(["severity", "file", "row", "column", "value", "rule", "message"],
                          [[f.severity, f.file, "" if f.row is None else str(f.row), f.column or "", f.value or "",
                            f.rule, f.message] for f in group[:SHOWN]])
        if count > SHOWN:
            lines += [f"... and {count - SHOWN} more in the findings file", ""]
    return "\n".join(lines)


def show(figure: Figure | None) -> str:
    """A figure as an officer reads it: £1,234.00, 12.5%, 1,234, and a failed check marked."""
    if figure is None or figure.value is None or figure.value == "":
        return "—"
    kind, value = figure.spec.kind, figure.value
    if kind == "yesno":
        return "✅ Yes" if value == "Yes" else "❌ **No**" if value == "No" else str(value)
    if not isinstance(value, Decimal):
        return "❌ **" + str(value) + "**" if str(value).startswith("Not ") else str(value)
    value = rounded(kind, value)
    if kind == "money":
        return f"{'-' if value < 0 else ''}£{abs(value):,.2f}"
    if kind in ("count", "days"):
        return f"{value:,.0f}"
    if kind == "pct":
        return f"{value:,.1f}%"
    if kind == "units":
        return f"{value:,.2f}"
    return f"{value:,.1f}"


HeadlineFn = Callable[[dict[str, Figure]], list[str]]


def return_artifacts(label: str, outcome: ReturnOutcome, headline: HeadlineFn) -> None:
    """The headline in an officer's words, the findings (errors and warnings), and where the workbook is."""
    key = _key(label)
    create_markdown_artifact(findings_markdown(f"Findings: {label}", outcome.findings, outcome.blocking),
                             key=f"{key}-findings", description=f"Validation findings for {label}")
    if outcome.status == "written":
        figures = {f.id: f for f in outcome.figures}
        create_markdown_artifact("\n".join([f"# {label}: headline", "", *headline(figures)]),
                                 key=f"{key}-headline", description=f"Headline figures: {label}")
        # out_dir is a local folder: a file:// link is not clickable in a browser, so say plainly where it is
        host = socket.gethostname()
        create_markdown_artifact("\n".join([
            f"# {label}: workbook", "", f"Written on **{host}**, the machine that ran this flow:", "",
            f"- workbook: `{outcome.workbook.resolve()}`",
            f"- audit pack (manifest, findings, lineage): `{outcome.audit.resolve() if outcome.audit else '—'}`"]),
            key=f"{key}-workbook", description="Where the return workbook and its audit pack are")
    elif outcome.findings_file is not None:
        create_markdown_artifact("\n".join([
            f"# {label}: blocked", "", f"No workbook was written: {len(outcome.blocking)} error finding(s) block it.",
            "", f"All findings: `{outcome.findings_file.resolve()}` on **{socket.gethostname()}**"]),
            key=f"{key}-blocked", description="Blocked: the findings that stopped the return")


def return_resource(kind: str, hwb: str, period: str, label: str) -> dict[str, str]:
    """The Prefect event resource for one return: automations match on bcf.hwb / bcf.period or the id."""
    return {"prefect.resource.id": f"bcf.return.{kind}.{hwb}.{period.replace(' ', '-')}",
            "prefect.resource.name": label, "bcf.return": kind, "bcf.hwb": hwb, "bcf.period": period}


def report_outcome(flow: str, label: str, hwb: str, period: str, outcome: ReturnOutcome, headline: HeadlineFn,
                   flow_run_id: str | None) -> None:
    """After a return: its artifacts, a Prefect event (and the fallback alert when blocked), and a log line."""
    return_artifacts(label, outcome, headline)
    kind = label.split(" ", 1)[0]
    run_url, logs_url = run_links(flow_run_id)
    emit_event(event=f"bcf.return.{outcome.status}", resource=return_resource(kind, hwb, period, label),
               payload={"flow": flow, "workbook": outcome.workbook.name, "blocking": len(outcome.blocking),
                        "findings_file": str(outcome.findings_file.resolve()) if outcome.findings_file else "",
                        "flow_run_url": run_url or "", "logs_url": logs_url or "",
                        "first_findings": [finding_line(f) for f in outcome.blocking[:10]]})
    logger = get_run_logger()
    if outcome.status == "blocked":
        log_blocked(logger, outcome)
        alert_if_blocked(flow, hwb, period, outcome, flow_run_id)
    else:
        logger.info("%s written (%d warning finding(s))", outcome.workbook.name,
                    outcome.findings.warnings)
        if outcome.revision_line():  # a served run has no console: its log says it revised an earlier return
            logger.info("%s", outcome.revision_line())


def final_state(outcome: ReturnOutcome) -> State[Any] | ReturnOutcome:
    """What the flow run ends in: Completed with the outcome, or Failed named Blocked with the first findings (the
    outcome rides along as the state's data, so a caller still gets the findings)."""
    if outcome.status != "blocked":
        return outcome
    first = "; ".join(finding_line(f) for f in outcome.blocking[:3])
    more = f" (+{len(outcome.blocking) - 3} more)" if len(outcome.blocking) > 3 else ""
    return Failed(name=BLOCKED, message=f"{outcome.workbook.name} not written, "
                  f"{len(outcome.blocking)} blocking finding(s): {first}{more}"[:1000], data=outcome)


def fanout_state(icb: str, status: dict[str, str]) -> State[Any]:
    """The ICB parent run: Completed when every HWB's return was written, else Failed naming how many were not."""
    blocked = [h for h, s in status.items() if s == "blocked"]
    failed = [h for h, s in status.items() if s.startswith("failed")]
    written = len(status) - len(blocked) - len(failed)
    message = (f"{icb}: {written} of {len(status)} HWB return(s) written"
               + (f", {len(blocked)} blocked ({', '.join(blocked)})" if blocked else "")
               + (f", {len(failed)} failed ({', '.join(failed)})" if failed else ""))
    if failed:
        return Failed(message=message, data=status)
    if blocked:
        return Failed(name=BLOCKED, message=message, data=status)
    return Completed(message=message, data=status)


class _OurLines(logging.Filter):
    """Our own INFO lines (per-file progress, the outcome), not Prefect's engine chatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        where = Path(record.pathname).parent  # flows/, or a wing of bcf/ (bcf/ingest/, bcf/run/, ...)
        return record.levelno < logging.WARNING and (where.name == "flows" or "bcf" in (where.name, where.parent.name))


def console_progress() -> None:
    """The bcf command quietens Prefect's console handler to WARNING (BCF_CONSOLE_PROGRESS=1, set in bcf.cli.main);
    the officer still sees our progress lines, printed plainly. The UI gets every line as before."""
    if not env().console_progress:
        return
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OurLines) for h in logger.handlers for f in h.filters):
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("    %(message)s"))
            handler.addFilter(_OurLines())
            logger.addHandler(handler)


# What a run is about, as tags: the same on a run the command line starts as on one its deployment starts, so a
# filter on "discharge-fund" or an HWB code in the UI finds both.
FLOW_TAGS = {"fortnightly-return": "discharge-fund", "quarterly-return": "quarterly", "icb-returns": "icb",
             "ingest-extracts": "ingest"}


def run_tags(flow_name: str, place: str | None) -> list[str]:
    """["bcf", what, HWB or ICB code]: the tags of a deployment's runs (flows/deployments.py) and of `bcf run`."""
    return ["bcf", FLOW_TAGS.get(flow_name, flow_name), *([place] if place else [])]


def run_flow(flow_fn: Any, **parameters: Any) -> Any:
    """Call a flow and return what it produced even when it ended Blocked (the CLI prints the findings and exits 1).
    A run that raised re-raises its exception here, as a plain call would."""
    from prefect import tags

    console_progress()
    from bcf.flows.ephemeral import server_dies_with_us

    server_dies_with_us()
    with tags(*run_tags(flow_fn.name, parameters.get("hwb") or parameters.get("icb"))):
        state = flow_fn(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)  # a Blocked (or ICB fan-out) state carries its outcome as data
    if isinstance(result, BaseException):
        raise result
    return result


def alert_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure hook: the run crashed or raised, so there may be no findings file at all. A Blocked run
    already alerted with its findings (report_outcome)."""
    if state.name == BLOCKED:
        return
    params = dict(flow_run.parameters or {})
    period = str(params.get("period_end") or params.get("quarter") or "scheduled period")
    _, logs = run_links(str(flow_run.id))
    send(Alert("failed", flow.name, str(params.get("hwb") or params.get("icb") or ""), period,
               str(state.message or "the run failed")[:500],
               f"the logs of flow run {flow_run.name}: {logs or flow_run.id}", str(flow_run.id)))

"""Sign-off inside a scheduled run: a deployment's run that wrote a return (not blocked) pauses for the officer's
sign-off (a form in the Prefect UI: Prefect's own `pause_flow_run(wait_for_input=...)`), then signs off and submits
(bcf/submission). `bcf signoff` on the command line answers the same form through Prefect's API.

It pauses only in a deployment's run (a `bcf run` has its officer at the console) and only when somewhere to send
the return is configured ([submission] / BCF_SUBMIT_*). Not answered within `signoff_timeout_hours`: the run ends
Failed, named `Not signed off`, with an event and the fallback alert, rather than waiting for ever.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed, Failed, State
from pydantic import Field

from bcf.core.settings import settings
from bcf.returns.produce import ReturnOutcome
from bcf.returns.returninfo import figures_hash, load
from bcf.run.alerts import Alert, send
from bcf.submission import deliver
from bcf.submission.signoff import Refused, SignOff, sign_off

NOT_SIGNED_OFF = "Not signed off"


class SignOffForm(RunInput):
    """What the officer answers in the Prefect UI (Resume) or `bcf signoff` sends: the sign-off for the HWB."""

    name: str = Field(title="Signed off by", description="Name of the person signing off for the HWB")
    role: str = Field(title="Role", description="e.g. Director of Adult Social Care, HWB chair")
    date: dt.date = Field(title="Date signed off")
    narrative: str = Field(default="", title="Narrative",
                           description="Sent to the national team with the return (variances, known data issues)")
    confirm: bool = Field(title="I confirm these figures",  # required: the form cannot be sent without it
                          description="I have read the return and confirm its figures on behalf of the HWB")


def should_pause(outcome: ReturnOutcome) -> bool:
    return (outcome.status == "written" and runtime.deployment.get_id() is not None
            and deliver.destination().configured)


def _form_description(label: str, workbook: Path) -> str:
    info = load(workbook)
    return "\n".join([
        f"**Sign-off: {info.title}**", "",
        f"The return **{workbook.name}** is written and waits for sign-off on behalf of the Health and Wellbeing "
        "Board. Read the headline and findings artifacts of this run, open the workbook, then fill in this form "
        "and tick *I confirm these figures*. On Resume the return is signed off and sent to "
        f"**{deliver.destination().recipient}**.", "",
        f"- workbook: `{workbook.resolve()}`",
        f"- figures sha256: `{figures_hash(workbook, info.manifest)}`",
        f"- or on the command line: `bcf signoff {workbook.resolve()} --by NAME --role ROLE`"])


@task(name="sign-off", task_run_name="sign off {workbook.name}", cache_policy=NO_CACHE)
def signoff_task(workbook: Path, form: SignOffForm, data_dir: str, flow_run_id: str | None) -> str:
    entry, _ = sign_off(workbook, SignOff(form.name, form.role, form.date, form.narrative), data_dir, flow_run_id)
    return entry.id


@task(name="submit", task_run_name="submit {workbook.name}", cache_policy=NO_CACHE)
def submit_task(workbook: Path, data_dir: str, flow_run_id: str | None) -> deliver.Outcome:
    return deliver.submit(workbook, data_dir=data_dir, flow_run_id=flow_run_id)


def _report(event: str, label: str, hwb: str, period: str, message: str) -> None:
    kind = label.split(" ", 1)[0]
    emit_event(event=event, resource={"prefect.resource.id": f"bcf.return.{kind}.{hwb}.{period.replace(' ', '-')}",
                                      "prefect.resource.name": label, "bcf.return": kind, "bcf.hwb": hwb,
                                      "bcf.period": period}, payload={"message": message})


def await_signoff_and_submit(outcome: ReturnOutcome, label: str, hwb: str, period: str, data_dir: str,
                             flow_run_id: str | None) -> State[Any] | None:
    """Pause for the sign-off form, then sign off and submit. None when this run does not pause."""
    if not should_pause(outcome):
        return None
    logger = get_run_logger()
    cfg = settings().get("submission", {})
    timeout = int(float(cfg.get("signoff_timeout_hours", 72)) * 3600)
    workbook = outcome.workbook
    # today as the form's default date; a Field (not a bare value) keeps the field's title in the form
    form_type = SignOffForm.with_initial_data(description=_form_description(label, workbook),
                                              date=Field(default=dt.date.today(), title="Date signed off"))
    logger.warning("%s is written and waits for sign-off: answer the form (Resume) in the Prefect UI or run "
                   "bcf signoff", workbook.name)
    try:
        form = pause_flow_run(wait_for_input=form_type, timeout=timeout, key="signoff",
                              poll_interval=int(cfg.get("signoff_poll_seconds", 10)))
    except FlowPauseTimeout:
        message = f"{workbook.name} was not signed off within {timeout / 3600:g} h; sign it off with bcf signoff " \
                  "and send it with bcf submit"
        _report("bcf.return.signoff-timeout", label, hwb, period, message)
        send(Alert("not signed off", "sign-off", hwb, period, message, str(workbook.resolve()),
                   runtime.flow_run.id or None))  # absolute path and the run's link, like every alert
        # the server has failed the run already ("The flow was not signed off and never resumed"): this names it
        return Failed(name=NOT_SIGNED_OFF, message=message, data=outcome)
    if not form.confirm:
        message = f"{workbook.name}: resumed without 'I confirm these figures': not signed off, nothing sent"
        _report("bcf.return.signoff-refused", label, hwb, period, message)
        return Failed(name=NOT_SIGNED_OFF, message=message, data=outcome)
    try:
        signoff_task(workbook, form, data_dir, flow_run_id)
        sent = submit_task(workbook, data_dir, flow_run_id)
    except (Refused, deliver.DeliveryError, ValueError) as exc:
        _report("bcf.return.submission-failed", label, hwb, period, str(exc))
        return Failed(message=f"{workbook.name}: {exc}"[:1000], data=outcome)
    create_markdown_artifact("\n".join([
        f"# {label}: submitted", "", sent.message, "",
        f"- signed off by {sent.entry.signed_off_by}, {sent.entry.signed_off_role}, on {sent.entry.signed_off_on}",
        f"- copy sent: `{sent.copy}` (sha256 `{sent.entry.file_sha256}`)",
        f"- register id `{sent.entry.id}`" + (f", replaces `{sent.entry.replaces}`" if sent.entry.replaces else "")]),
        key=f"{label.lower().replace(' ', '-')}-submission", description="Sign-off and submission")
    _report("bcf.return.submitted", label, hwb, period, sent.message)
    logger.info(sent.message)
    return Completed(message=sent.message, data=outcome)

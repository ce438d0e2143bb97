"""Tell someone when a return is blocked or a run fails: a JSON POST to a webhook and/or an email over SMTP.

Configured by the environment (nothing is sent when neither is set):
  BCF_ALERT_WEBHOOK_URL                       e.g. a Teams/Slack incoming webhook or the data team's own endpoint
  BCF_ALERT_SMTP_HOST, BCF_ALERT_SMTP_PORT    (port 25 unless set), BCF_ALERT_SMTP_STARTTLS=1 to upgrade
  BCF_ALERT_SMTP_USER, BCF_ALERT_SMTP_PASSWORD (optional), BCF_ALERT_EMAIL_FROM, BCF_ALERT_EMAIL_TO (comma separated)
An alert that cannot be delivered is logged and never fails the run it reports on. Findings in an alert carry
masked values only, as everywhere. A flow run's alert links to the run and its logs in the Prefect UI
(PREFECT_UI_URL, else PREFECT_API_URL without /api: core.settings.prefect_ui_url).
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage

from bcf.core.settings import env, prefect_ui_url

log = logging.getLogger("bcf.alerts")

NO_PREFECT_RUN = "no Prefect run: ran in the bcf process"


def run_links(flow_run_id: str | None) -> tuple[str | None, str | None]:
    """(flow run page, its logs) in the Prefect UI, absolute; (None, None) without a run or a known UI address."""
    ui = prefect_ui_url()
    if not flow_run_id or not ui:
        return None, None
    page = f"{ui}/runs/flow-run/{flow_run_id}"
    return page, f"{page}?tab=Logs"


@dataclass
class Alert:
    status: str  # blocked | failed
    flow: str
    hwb: str
    period: str
    reason: str
    findings_at: str  # where to look: the findings file, or the run in Prefect
    flow_run_id: str | None = None
    findings: list[str] = field(default_factory=list)  # up to ten, as `file row column rule: message`
    flow_run_url: str | None = None  # filled from flow_run_id when the Prefect UI's address is known
    logs_url: str | None = None

    def __post_init__(self) -> None:
        if self.flow_run_id and not self.flow_run_url:
            self.flow_run_url, self.logs_url = run_links(self.flow_run_id)

    @property
    def subject(self) -> str:
        return f"[BCF] {self.status.upper()}: {self.flow} for {self.hwb} {self.period}"

    def text(self) -> str:
        lines = [self.subject, "", f"Reason: {self.reason}", f"Findings: {self.findings_at}"]
        if not self.flow_run_id:
            lines.append(f"Flow run: {NO_PREFECT_RUN}")
        elif self.flow_run_url:
            lines += [f"Flow run: {self.flow_run_url}", f"Logs: {self.logs_url}"]
        else:  # a run on Prefect's temporary server, or an address we cannot know: say how to get links
            lines.append(f"Flow run: {self.flow_run_id} (no link: set PREFECT_UI_URL to the Prefect UI's address)")
        if self.findings:
            lines += ["", *self.findings]
        return "\n".join(lines) + "\n"


def send(alert: Alert) -> list[str]:
    """Deliver to every configured channel; returns the channels that took it."""
    delivered = []
    cfg = env()
    url = cfg.alert_webhook_url
    if url:
        try:
            request = urllib.request.Request(url, data=json.dumps(asdict(alert)).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the configured endpoint
                response.read()
            delivered.append("webhook")
        except OSError as exc:
            log.warning("alert webhook %s failed: %s", url, exc)
    host, to = cfg.alert_smtp_host, cfg.alert_email_to
    if host and to:
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = cfg.alert_email_from
        message["To"] = to
        message.set_content(alert.text())
        try:
            with smtplib.SMTP(host, cfg.alert_smtp_port, timeout=10) as smtp:
                if cfg.alert_smtp_starttls:
                    smtp.starttls()
                if cfg.alert_smtp_user:
                    smtp.login(cfg.alert_smtp_user, cfg.alert_smtp_password)
                smtp.send_message(message)
            delivered.append("email")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("alert email via %s failed: %s", host, exc)
    return delivered

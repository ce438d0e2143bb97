"""Tell someone when a return is blocked or a run fails: a JSON POST to a webhook and/or an email over SMTP.

Configured by the environment (nothing is sent when neither is set):
  BCF_ALERT_WEBHOOK_URL                       e.g. a Teams/Slack incoming webhook or the data team's own endpoint
  BCF_ALERT_SMTP_HOST, BCF_ALERT_SMTP_PORT    (port 25 unless set), BCF_ALERT_SMTP_STARTTLS=1 to upgrade
  BCF_ALERT_SMTP_USER, BCF_ALERT_SMTP_PASSWORD (optional), BCF_ALERT_EMAIL_FROM, BCF_ALERT_EMAIL_TO (comma separated)
An alert that cannot be delivered is logged and never fails the run it reports on. Findings in an alert carry
masked values only, as everywhere.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage

from core.settings import env

log = logging.getLogger("bcf.alerts")


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

    @property
    def subject(self) -> str:
        return f"[BCF] {self.status.upper()}: {self.flow} for {self.hwb} {self.period}"

    def text(self) -> str:
        lines = [self.subject, "", f"Reason: {self.reason}", f"Findings: {self.findings_at}"]
        if self.flow_run_id:
            lines.append(f"Prefect flow run: {self.flow_run_id}")
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

"""A blocked or failed run notifies the configured webhook and email, with HWB, period, reason and where to look."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bcf.flows.common import run_flow
from bcf.flows.fortnightly import fortnightly_flow
from tests.fixtures import HWB, write_df_fixture
from tests.receivers import Smtp, Webhook


@pytest.fixture
def receivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Webhook, Smtp]]:
    webhook, smtp = Webhook(), Smtp()
    monkeypatch.setenv("BCF_ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("BCF_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BCF_ALERT_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("BCF_ALERT_EMAIL_TO", "bcf-team@example.org")
    yield webhook, smtp
    webhook.close()
    smtp.close()


def test_a_blocked_return_alerts_both_channels(tmp_path: Path, receivers: tuple[Webhook, Smtp]) -> None:
    webhook, smtp = receivers
    src = write_df_fixture(tmp_path / "src")
    with open(src / "discharges_rwe.csv", "a", encoding="utf-8") as fh:
        fh.write("S99,RWE,acute,,80,E06000017,2023-01-02,21,,2023-01-40,19,0,J18.9,\n")
    outcome = run_flow(fortnightly_flow, source=str(src), hwb=HWB, period_end="2023-01-19",
                       out_dir=str(tmp_path / "out"), data_dir=str(tmp_path / "data"))
    assert outcome.status == "blocked"
    (alert,) = webhook.received
    assert (alert["status"], alert["flow"], alert["hwb"], alert["period"]) == ("blocked", "fortnightly-return", HWB,
                                                                               "2023-01-19")
    assert alert["findings_at"].endswith("df_fortnightly_E06000017_2023-01-19.blocked-findings.csv")
    # grouped by rule and file, with the count and one example
    assert alert["findings"] == ["error   date in discharges_rwe.csv: 1 row(s), e.g. row 12 [discharge_date] "
                                 "'2023-01-40': Not a real date: write dates as yyyy-mm-dd (or dd/mm/yyyy)."]
    (mail,) = smtp.messages
    assert "Subject: [BCF] BLOCKED: fortnightly-return for E06000017 2023-01-19" in mail
    assert "To: bcf-team@example.org" in mail and "blocked-findings.csv" in mail


def test_a_failed_run_alerts_with_the_reason(tmp_path: Path, receivers: tuple[Webhook, Smtp]) -> None:
    webhook, smtp = receivers
    with pytest.raises(FileNotFoundError):
        fortnightly_flow(source=str(tmp_path / "no-such-folder"), hwb=HWB, period_end="2023-01-19",
                         out_dir=str(tmp_path / "out"), data_dir=str(tmp_path / "data"))
    (alert,) = webhook.received
    assert (alert["status"], alert["hwb"], alert["period"]) == ("failed", HWB, "2023-01-19")
    assert "no-such-folder" in alert["reason"] and alert["flow_run_id"]
    assert len(smtp.messages) == 1 and "FAILED" in smtp.messages[0]

"""Issue 24 part 1: alerts and runs an operator can act on (absolute links and paths, the same tags, the quarterly
run on a working day, a clean stop of `bcf serve`, Prefect's process-pool hint once). No Prefect server needed."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import warnings
from pathlib import Path
from typing import Any

import pytest

from bcf.core.dates import quarterly_run_date
from bcf.core.settings import prefect_ui_url
from bcf.run import pipeline
from bcf.run.alerts import Alert

RUN_ID = "0b6c3a1e-93f0-4c1e-9a35-6b1f3c2d4e5f"


def test_the_ui_address_comes_from_ui_url_else_the_api_url_without_api(tmp_path: Path) -> None:
    home = {"PREFECT_HOME": str(tmp_path)}  # no profiles.toml there
    assert prefect_ui_url(home) is None
    assert prefect_ui_url({**home, "PREFECT_API_URL": "http://prefect.internal:4200/api"}) == \
        "http://prefect.internal:4200"
    assert prefect_ui_url({**home, "PREFECT_API_URL": "http://h:4200/api/",
                           "PREFECT_UI_URL": "https://prefect.council.gov.uk/"}) == "https://prefect.council.gov.uk"
    (tmp_path / "profiles.toml").write_text('active = "w"\n[profiles.w]\nPREFECT_API_URL = "http://p:4200/api"\n')
    assert prefect_ui_url(home) == "http://p:4200"


def test_a_flow_runs_alert_links_to_the_run_and_its_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.internal:4200/api")
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    alert = Alert("blocked", "fortnightly-return", "E06000017", "2023-03-30", "1 error finding(s)",
                  "/srv/bcf/returns/x.blocked-findings.csv", RUN_ID)
    text = alert.text()
    assert f"Flow run: http://prefect.internal:4200/runs/flow-run/{RUN_ID}\n" in text
    assert f"Logs: http://prefect.internal:4200/runs/flow-run/{RUN_ID}?tab=Logs\n" in text
    assert "None" not in text


def test_a_run_in_the_bcf_process_says_so_never_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    text = Alert("failed", "fortnightly-return", "E06000017", "2023-03-30", "boom", "the error output").text()
    assert "Flow run: no Prefect run: ran in the bcf process" in text and "None" not in text


def test_the_blocked_alert_names_the_findings_file_by_its_absolute_path(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Alert] = []
    monkeypatch.setattr(pipeline, "send", sent.append)
    monkeypatch.chdir(tmp_path)
    outcome: Any = type("Outcome", (), {"status": "blocked", "blocking": [],
                                        "findings_file": Path("out/df.blocked-findings.csv")})()
    pipeline.alert_if_blocked("fortnightly-return", "E06000017", "2023-03-30", outcome, None)
    (alert,) = sent
    assert alert.findings_at == str(tmp_path / "out" / "df.blocked-findings.csv")


def test_the_bcf_command_sets_the_ui_address_when_a_server_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from bcf.cli.main import prefect_environment

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    prefect_environment(verbose=True)
    assert os.environ["PREFECT_UI_URL"] == "http://127.0.0.1:4200"


def test_command_line_runs_pass_absolute_local_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bcf.cli import commands as cli

    seen: dict[str, Any] = {}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "use_prefect", lambda: False)
    monkeypatch.setattr(pipeline, "run_here", lambda run, **parameters: seen.update(parameters))
    cli.run_return("fortnightly", source="extracts", hwb="E06000017", period_end="2023-03-30", out_dir="returns",
                   data_dir="data")
    assert (seen["source"], seen["out_dir"], seen["data_dir"]) == (
        str(tmp_path / "extracts"), str(tmp_path / "returns"), str(tmp_path / "data"))
    cli.run_return("fortnightly", source="s3://bucket/rutland/", hwb="E06000017", out_dir="/srv/returns")
    assert seen["source"] == "s3://bucket/rutland/" and seen["out_dir"] == "/srv/returns"


@pytest.mark.slow  # run_flow imports Prefect's server modules (a few seconds)
def test_a_command_line_run_carries_the_deployments_tags() -> None:
    from prefect.context import TagsContext

    from bcf.flows.common import run_flow
    from bcf.flows.deployments import build_deployments

    fortnightly, quarterly = build_deployments("src", "E06000017", "returns", "bcf_data")
    seen: dict[str, set[str]] = {}

    def fake_flow(name: str) -> Any:
        def call(**parameters: Any) -> Any:
            seen[name] = set(TagsContext.get().current_tags)
            return type("State", (), {"result": lambda self, raise_on_failure: "done"})()
        call.name = name  # type: ignore[attr-defined]
        return call

    assert run_flow(fake_flow("fortnightly-return"), hwb="E06000017") == "done"
    run_flow(fake_flow("quarterly-return"), hwb="E06000017")
    assert seen["fortnightly-return"] == set(fortnightly.tags) == {"bcf", "discharge-fund", "E06000017"}
    assert seen["quarterly-return"] == set(quarterly.tags) == {"bcf", "quarterly", "E06000017"}


def test_the_quarterly_run_moves_off_a_weekend_to_the_next_working_day() -> None:
    from prefect.server.schemas.schedules import RRuleSchedule

    from bcf.flows.deployments import quarter_schedule

    assert quarterly_run_date(2027, 1) == dt.date(2027, 1, 11)  # 10 January 2027 is a Sunday
    assert quarterly_run_date(2027, 4) == dt.date(2027, 4, 12)  # a Saturday
    assert quarterly_run_date(2023, 1) == dt.date(2023, 1, 10)  # a Tuesday: unchanged
    schedule = quarter_schedule()
    dates = RRuleSchedule(rrule=schedule.rrule, timezone=schedule.timezone).get_dates(
        16, start=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    dates = asyncio.run(dates) if asyncio.iscoroutine(dates) else dates
    assert [d.date() for d in dates] == [quarterly_run_date(y, m) for y in range(2027, 2031) for m in (1, 4, 7, 10)]
    assert {(d.hour, d.minute, str(d.tzinfo)) for d in dates} == {(7, 0, "Europe/London")}
    assert all(d.weekday() < 5 for d in dates)


def test_bcf_deploy_says_prefects_process_pool_hint_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect

    from bcf.flows import deployments

    calls: list[bool] = []

    class Loaded:
        def deploy(self, **kwargs: Any) -> str:
            calls.append(kwargs.get("ignore_warnings", False))
            return "id"

    class FakeFlow:
        @staticmethod
        def from_source(**kwargs: Any) -> Loaded:
            return Loaded()

    monkeypatch.setattr(deployments, "ensure_process_pool", lambda pool: None)
    monkeypatch.setattr(prefect, "flow", FakeFlow)
    deployments.deploy_to_pool("pool", "/srv/src", ["E06000016", "E06000017"], "/srv/out", "/srv/data")
    assert calls == [False, True, True, True]  # the hint with the first deployment only


def test_sigterm_stops_bcf_serve_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runner.start installs runner.handle_sigterm for SIGTERM; Prefect's own calls stop() in the running loop and
    leaves astop() unawaited. Ours awaits it, and serve returns."""
    import prefect.runner

    from bcf.flows import deployments

    stopped: list[bool] = []

    class FakeRunner:
        def __init__(self, **kwargs: Any) -> None:
            self.done = asyncio.Event()

        def add_deployment(self, deployment: Any) -> None:
            pass

        def handle_sigterm(self, *args: Any) -> None:  # what Prefect does
            raise AssertionError("Prefect's own SIGTERM handler ran")

        async def astop(self) -> None:
            stopped.append(True)
            self.done.set()

        async def start(self) -> None:
            signal.signal(signal.SIGTERM, self.handle_sigterm)
            asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(self.done.wait(), 10)

    monkeypatch.setattr(prefect.runner, "Runner", FakeRunner)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            deployments.serve_deployments([object()])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped == [True]
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_bcf_serve_gives_its_deployments_absolute_local_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bcf.cli import main
    from bcf.flows import deployments

    served: list[Any] = []
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    monkeypatch.setenv("BCF_ALLOW_DEVELOPMENT_KEY", "1")
    monkeypatch.setattr(deployments, "serve_deployments", served.extend)
    assert main(["serve", "--source", "src", "--hwb", "E06000017", "--out", "returns", "--data-dir", "data"]) == 0
    assert {d.name for d in served} == {"discharge-fund-fortnightly-e06000017", "bcf-quarterly-e06000017"}
    for d in served:
        assert d.parameters == {"source": str(tmp_path / "src"), "hwb": "E06000017",
                                "out_dir": str(tmp_path / "returns"), "data_dir": str(tmp_path / "data")}

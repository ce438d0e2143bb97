"""`bcf serve` against a real local Prefect server (SQLite) on 127.0.0.1: register, trigger, read back."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bcf.core.settings import PROJECT_ROOT
from tests.fixtures import HWB, write_df_fixture
from tests.integration.conftest import prefect_server

BIN = Path(sys.executable).parent




@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with prefect_server(tmp_path_factory.mktemp("prefect-home"), 120) as running:
        yield running


def test_serve_registers_deployments_and_a_triggered_run_completes_with_artifacts(
        server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, env = server
    src = write_df_fixture(tmp_path / "src")
    serve_log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    serving = subprocess.Popen([str(BIN / "bcf"), "serve", "--source", str(src), "--hwb", HWB, "--out",
                                str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
                               env=env, cwd=PROJECT_ROOT, stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deadline = time.monotonic() + 90
            names = []
            while time.monotonic() < deadline and len(names) < 2:
                names = sorted(d.name for d in client.read_deployments())
                time.sleep(1)
            assert names == ["bcf-quarterly-e06000017", "discharge-fund-fortnightly-e06000017"]
            deployment = client.read_deployment_by_name("fortnightly-return/discharge-fund-fortnightly-e06000017")
            schedule = deployment.schedules[0].schedule
            assert schedule.interval.days == 14 and schedule.anchor_date.isoformat().startswith("2023-01-06T07:00")
            quarterly = client.read_deployment_by_name("quarterly-return/bcf-quarterly-e06000017")
            assert "BYSETPOS=1" in quarterly.schedules[0].schedule.rrule  # the next working day (issue 24)
            assert sorted(deployment.tags) == ["E06000017", "bcf", "discharge-fund"]

            run = client.create_flow_run_from_deployment(deployment.id, parameters={"period_end": "2023-01-19"})
            deadline = time.monotonic() + 240
            state = client.read_flow_run(run.id).state
            while time.monotonic() < deadline and not (state and state.is_final()):
                time.sleep(2)
                state = client.read_flow_run(run.id).state
            assert state is not None and state.is_completed(), (state, (tmp_path / "serve.log").read_text()[-3000:])
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
            prefix = "df-e06000017-2023-01-19"
            assert {a.key for a in artifacts} == {f"{prefix}-findings", f"{prefix}-headline", f"{prefix}-workbook"}
        assert (tmp_path / "out" / "df_fortnightly_E06000017_2023-01-19.xlsx").exists()
    finally:
        serving.terminate()
        serving.wait(timeout=30)
        serve_log.close()
    stopped = (tmp_path / "serve.log").read_text()
    assert "never awaited" not in stopped, stopped[-2000:]  # a clean stop (issue 24)


def _flow_runs_by_name(client: Any) -> dict[str, Any]:
    """The latest flow run of each name: the module's server also holds an earlier test's run of the same period."""
    return {fr.name: fr for fr in sorted(client.read_flow_runs(), key=lambda fr: fr.created)}


def test_monitoring_blocked_run_is_named_blocked_artifacts_read_plainly_and_the_automation_fires(
        server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    """Done-when of issue 11, through the CLI against a real server: a blocked return is a Failed run named Blocked
    (exit 1, findings printed, no traceback), runs and tasks carry readable names, the headline artifact speaks
    pounds and marks a failed check, and the shipped automation notifies a webhook about the blocked return."""
    import datetime as dt

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from bcf.devtools.synthetic import generate
    from tests.receivers import Webhook

    api, env = server
    env = {k: v for k, v in env.items() if k not in ("PREFECT_LOGGING_LEVEL", "BCF_CONSOLE_PROGRESS",
                                                     "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL")}
    webhook = Webhook()
    try:
        made = subprocess.run([str(BIN / "bcf"), "automations", "--webhook-url", webhook.url], env=env,
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        assert "bcf-return-blocked" in made.stdout and "bcf-run-failed" in made.stdout

        bad = write_df_fixture(tmp_path / "bad")
        with open(bad / "discharges_rwe.csv", "a", encoding="utf-8") as fh:
            fh.write("S99,RWE,acute,,80,E06000017,2023-01-02,21,,2023-01-40,19,0,J18.9,\n")
        blocked = subprocess.run([str(BIN / "bcf"), "run", "fortnightly", "--source", str(bad), "--hwb", HWB,
                                  "--period-end", "2023-01-19", "--out", str(tmp_path / "out"), "--data-dir",
                                  str(tmp_path / "bad-data")], env=env, capture_output=True, text=True, timeout=300)
        console = blocked.stdout + blocked.stderr
        assert blocked.returncode == 1, console
        assert "BLOCKED: df_fortnightly_E06000017_2023-01-19.xlsx was not written" in blocked.stdout
        assert "date in discharges_rwe.csv: 1 row(s), e.g. row 12 [discharge_date]" in blocked.stdout
        assert "Traceback" not in console and "telemetry" not in console.lower()
        assert "Beginning flow run" not in console  # Prefect's INFO chatter stays off the officer's console

        demo = tmp_path / "demo"
        generate(HWB, dt.date(2022, 4, 1), dt.date(2023, 3, 31), 10_000, 2023, demo)
        for cmd in (["fortnightly", "--period-end", "2023-03-30"], ["quarterly", "--quarter", "2022-23-Q4"]):
            good = subprocess.run([str(BIN / "bcf"), "run", *cmd, "--source", str(demo), "--hwb", HWB, "--out",
                                   str(tmp_path / "out"), "--data-dir", str(tmp_path / "demo-data")], env=env,
                                  capture_output=True, text=True, timeout=400)
            assert good.returncode == 0, good.stdout + good.stderr
            assert "discharges_rwe_20220401_20230331.csv: " in good.stdout  # progress per file

        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            runs = _flow_runs_by_name(client)
            red = runs["df E06000017 2023-01-19"]
            assert red.state is not None and not red.state.is_completed() and red.state.is_failed()
            assert red.state.name == "Blocked"
            assert "discharges_rwe.csv row 12 [discharge_date] date" in (red.state.message or "")
            green = runs["df E06000017 2023-03-30"]
            assert green.state is not None and green.state.is_completed()
            assert runs["bcf E06000017 2022-23 Q4"].state.is_completed()  # type: ignore[union-attr]
            tasks = {t.name for t in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[green.id])))}
            assert {"land discharges_rwe_20220401_20230331.csv", "stage discharges_rwe_20220401_20230331.csv",
                    "produce df E06000017 2023-03-30"} <= tasks

            headline = client.read_latest_artifacts()
            latest = {a.key: a for a in headline}
            text = str(latest["df-e06000017-2023-03-30-headline"].data)
            assert "£286,371.00" in text and "Planned spend" in text and "Spend to date" in text
            assert "❌ **No**" in text and "df.spend" not in text  # labels, not figure ids
            q = str(latest["bcf-e06000017-2022-23-q4-headline"].data)
            assert "| Falls | 563.9 | 579.3 | ❌ **Not on track to meet target** |" in q
            assert "Warnings" in str(latest["df-e06000017-2023-03-30-findings"].data)
            assert "file://" not in str(latest["df-e06000017-2023-03-30-workbook"].data)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not webhook.received:
            time.sleep(1)
        assert webhook.received, "the bcf-return-blocked automation did not notify the webhook"
        note = webhook.received[0]
        assert note["subject"] == "[BCF] BLOCKED: df E06000017 2023-01-19"
        assert "discharges_rwe.csv row 12 [discharge_date] date" in note["body"]
        assert "df E06000017 2023-01-19" in note["body"]  # the flow run, by its readable name
    finally:
        webhook.close()


def test_two_process_workers_share_an_icbs_fan_out_from_s3(server: tuple[str, dict[str, str]], tmp_path: Path,
                                                           s3_endpoint: str) -> None:
    """Scale-out on Prefect's own engine: `bcf deploy --pool` registers the deployments on a process work pool, two
    `prefect worker start` processes take one HWB's run each, both read the ICB's shared extracts from S3."""
    import datetime as dt

    import boto3
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from bcf.devtools.synthetic import generate

    begun = time.monotonic()
    api, env = server
    env = {**env, "AWS_ENDPOINT_URL_S3": s3_endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-2", "PREFECT_WORKER_QUERY_SECONDS": "2",
           "PREFECT_WORKER_PREFETCH_SECONDS": "2"}
    src = tmp_path / "extracts"
    for n, hwb in enumerate(["E06000016", "E06000017", "E10000018"]):
        generate(hwb, dt.date(2022, 10, 1), dt.date(2022, 12, 31), 1_500, 3 + n, src, explicit_hwb=True,
                 discharges=hwb == "E10000018")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    s3.create_bucket(Bucket="llr-pool", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    for path in src.iterdir():
        s3.upload_file(str(path), "llr-pool", f"extracts/{path.name}")

    hwbs = ["E06000016", "E06000017"]
    deployed = subprocess.run([str(BIN / "bcf"), "deploy", "--pool", "bcf-test-pool", "--source",
                               "s3://llr-pool/extracts/", *(a for h in hwbs for a in ("--hwb", h)), "--out",
                               str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    workers, logs = [], []
    started = time.monotonic()
    try:
        for n in (1, 2):
            logs.append(open(tmp_path / f"worker-{n}.log", "w"))  # noqa: SIM115 - closed below
            workers.append(subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "bcf-test-pool",
                                             "--limit", "1", "--name", f"worker-{n}"], cwd=tmp_path,
                                            env={**env, "PREFECT_LOGGING_LEVEL": "INFO"},  # names the runs it takes
                                            stdout=logs[-1], stderr=subprocess.STDOUT))
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            runs = {}
            for hwb in hwbs:
                deployment = client.read_deployment_by_name(f"fortnightly-return/discharge-fund-fortnightly-"
                                                            f"{hwb.lower()}")
                runs[hwb] = client.create_flow_run_from_deployment(deployment.id,
                                                                   parameters={"period_end": "2022-12-22"})
            deadline = time.monotonic() + 240
            done = {}
            while time.monotonic() < deadline:
                done = {hwb: client.read_flow_run(r.id) for hwb, r in runs.items()}
                if all(fr.state and fr.state.is_final() for fr in done.values()):
                    break
                time.sleep(2)
            took = time.monotonic() - started
            for fr in done.values():
                assert fr.state is not None and fr.state.is_completed(), (
                    fr.name, fr.state, (tmp_path / "worker-1.log").read_text()[-2000:],
                    (tmp_path / "worker-2.log").read_text()[-2000:])
            assert {fr.name for fr in done.values()} == {f"df {h} 2022-12-22" for h in hwbs}
        # the worker that ran a flow run logs its start (both may log a submission one of them then aborts)
        ran_by = {hwb: [n for n in (1, 2) if f"Beginning flow run 'df {hwb} 2022-12-22'"
                        in (tmp_path / f"worker-{n}.log").read_text()] for hwb in runs}
        assert sorted(n for ns in ran_by.values() for n in ns) == [1, 2], ran_by  # one HWB each
        for hwb in hwbs:
            assert (tmp_path / "out" / f"df_fortnightly_{hwb}_2022-12-22.xlsx").exists()
            assert (tmp_path / "data" / hwb / "warehouse.duckdb").exists()  # one writer per DuckDB file
        print(f"two workers, two HWBs: {took:.0f} s from worker start to both runs completed, "
              f"{time.monotonic() - begun:.0f} s in all")
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
        for log in logs:
            log.close()

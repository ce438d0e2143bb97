"""`bcf serve` against a real local Prefect server (SQLite) on 127.0.0.1: register, trigger, read back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcf.settings import PROJECT_ROOT
from tests.fixtures import HWB, write_df_fixture
from tests.integration.conftest import free_port

BIN = Path(sys.executable).parent


def _wait(url: str, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED":
           "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(f"{api}/health", 120)
        yield api, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


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

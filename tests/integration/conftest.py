"""Integration fixtures: one Prefect test harness for the session, moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bcf.devtools.servers import wait_for


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    # the harness configures its server in Prefect's settings, not PREFECT_API_URL: tell `bcf` to run as flows
    saved = os.environ.get("BCF_ORCHESTRATION")
    os.environ["BCF_ORCHESTRATION"] = "prefect"
    try:
        with prefect_test_harness(server_startup_timeout=120):
            yield
    finally:
        if saved is None:
            os.environ.pop("BCF_ORCHESTRATION", None)
        else:
            os.environ["BCF_ORCHESTRATION"] = saved


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def prefect_server(home: Path, seconds: int = 180) -> Iterator[tuple[str, dict[str, str]]]:
    """A real Prefect server on loopback (`prefect server start`), its own PREFECT_HOME: (API URL, the environment
    a `bcf` or `prefect` process needs to use it). Stopped on exit; its log is home/server.log."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED":
           "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("BCF_ORCHESTRATION", None)
    with open(home / "server.log", "w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
                                 "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(f"{api}/health", seconds)
            yield api, env
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP endpoint (moto's server) on loopback; boto3 reaches it through AWS_ENDPOINT_URL_S3."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_REGION")}
    os.environ.update({"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-2"})
    try:
        yield endpoint
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


HERE = __import__("pathlib").Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/integration is an integration test: `pytest -m "not integration"` is the fast lane."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)

"""Issue 21, point 5g: a killed `bcf` leaves no temporary Prefect server behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures import HWB, write_df_fixture

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    """Every process whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_temporary_prefect_server_outlives_a_killed_bcf(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "PREFECT_PROFILE"))}
    env |= {"BCF_ORCHESTRATION": "prefect", "BCF_ALLOW_DEVELOPMENT_KEY": "1",
            "PREFECT_HOME": str(tmp_path / "prefect-home")}
    bcf = subprocess.Popen([sys.executable, "-m", "bcf.cli", "run", "fortnightly", "--source", str(src), "--hwb", HWB,
                            "--period-end", "2023-01-19", "--out", str(tmp_path / "out"), "--data-dir",
                            str(tmp_path / "data")], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    server = None
    try:
        deadline = time.monotonic() + 240
        while server is None and time.monotonic() < deadline and bcf.poll() is None:
            server = next((p for p in _children(bcf.pid) if "uvicorn" in _cmdline(p)), None)
            time.sleep(0.2)
        assert server is not None, "bcf never started a temporary server"
        os.kill(bcf.pid, signal.SIGKILL)  # as the out-of-memory killer would: no atexit, no finally
        bcf.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _alive(server), "the temporary Prefect server outlived bcf"
    finally:
        if bcf.poll() is None:
            bcf.kill()
        if server is not None and _alive(server):
            os.kill(server, signal.SIGKILL)

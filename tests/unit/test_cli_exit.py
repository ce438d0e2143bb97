"""The `bcf` command ends without the interpreter's teardown (bcf.cli.entry): its output and exit code must still
arrive whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test starts `python -m bcf.cli` in a new process


def _bcf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bcf.cli", *args], capture_output=True, text=True, timeout=120)


def test_output_and_exit_code_arrive_whole() -> None:
    done = _bcf("--help")
    assert done.returncode == 0
    assert "usage: bcf" in done.stdout and "trace" in done.stdout


def test_a_refused_command_exits_2_with_its_message(tmp_path: Path) -> None:
    done = _bcf("trace", str(tmp_path / "missing.xlsx"), "df.balance")
    assert done.returncode == 2
    assert "No audit pack for missing.xlsx" in done.stderr


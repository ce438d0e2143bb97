"""Issue 24 part 2: `bcf demo` ends with commands that work exactly as printed, from the folder it ran in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def test_the_demos_suggested_commands_run_as_printed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BCF_", "PREFECT_API_URL", "PREFECT_PROFILE"))}
    env["PATH"] = "/usr/bin:/bin"  # as in a fresh shell: the venv is not activated
    (tmp_path / ".venv").symlink_to(BIN.parent)  # as `make demo` runs it: .venv/bin/bcf from the checkout
    demo = subprocess.run([".venv/bin/bcf", "demo", "--out", "bcf-demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    tail = demo.stdout.split("\nNext, ", 1)[1].splitlines()[1:]
    commands = [line.strip() for line in tail if line.startswith("  ")]
    assert commands and all(c.startswith(".venv/bin/bcf ") for c in commands), demo.stdout[-1500:]
    assert "source .venv/bin/activate" in demo.stdout
    # the demo builds the year's board briefing: every fortnight and quarter of 2022-23
    pdf = tmp_path / "bcf-demo" / "returns" / "briefings" / "board_briefing_E06000017_2022-23.pdf"
    assert pdf.exists() and "Board briefing" in demo.stdout
    if shutil.which("pdftotext"):
        page1 = " ".join(subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                                        capture_output=True, text=True).stdout.split())
        assert "acute discharges in the 26 fortnights to 30 March 2023" in page1
        assert "2022-23 Q4" in page1
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])

"""`pip install .` (not editable) gives a working `bcf demo`: the wheel carries config, suites and SQL as package
data, and the installed command runs from a folder that is not the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bcf.core.settings import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_built_wheel_installs_in_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    started = time.monotonic()
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "-q", str(PROJECT_ROOT), "-w", str(tmp_path / "dist")], check=True,
                   timeout=300)
    (wheel,) = (tmp_path / "dist").glob("bcf_returns-*.whl")
    # a plain venv: nothing from this interpreter's site-packages, every dependency installed from the constraints
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=120)
    venv_bin = tmp_path / "venv" / "bin"
    pip_install = subprocess.run([str(venv_bin / "pip"), "install", "-q", "-c", str(PROJECT_ROOT / "constraints.txt"),
                                  str(wheel)], capture_output=True, text=True, timeout=900)
    assert pip_install.returncode == 0, pip_install.stdout[-3000:] + pip_install.stderr[-3000:]
    installed = time.monotonic() - started
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BCF_", "PREFECT_API_URL", "VIRTUAL_ENV"))}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PATH": f"{venv_bin}:{env.get('PATH', '')}"})
    where = subprocess.run([str(venv_bin / "python"), "-c", "import bcf.core.settings as s; print(s.config_dir()); "
                            "print(s.expectations_dir()); print(s.sql_dir())"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert all(str(tmp_path / "venv") in p for p in where), where  # the packaged data, not the checkout's
    demo = subprocess.run([str(venv_bin / "bcf"), "demo", "--out", "demo"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert (elsewhere / "demo" / "returns" / "df_fortnightly_E06000017_2023-03-30.xlsx").exists()
    assert "286371.00" in demo.stdout
    print(f"wheel built and installed in a fresh venv in {installed:.0f} s; demo in "
          f"{time.monotonic() - started - installed:.0f} s")

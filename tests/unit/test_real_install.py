"""Issue 24 part 5: a real install. `bcf --version`; every manifest records the package version, the git commit and
the versions of the libraries that compute; a built wheel carries the lock file and the commit it was built from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from bcf.cli import main
from bcf.core.settings import PROJECT_ROOT
from bcf.returns.pack import code_fingerprint, sha256_file

HEAD = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()


def test_bcf_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"bcf {version('bcf-returns')} (git {HEAD}") and "Python 3." in out


def test_the_manifest_records_version_commit_and_library_versions() -> None:
    code = code_fingerprint()
    assert code["package_version"] == version("bcf-returns") == __import__("bcf").__version__
    assert str(code["git_commit"]).startswith(HEAD)
    assert {k: code["libraries"][k] for k in ("duckdb", "pandas", "great-expectations", "openpyxl", "prefect")} == {
        k: version(k) for k in ("duckdb", "pandas", "great-expectations", "openpyxl", "prefect")}
    assert code["lock_file_sha256"] == sha256_file(PROJECT_ROOT / "constraints.txt")


@pytest.mark.slow
def test_a_built_wheel_ships_the_lock_file_and_its_commit(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-qq", "--no-deps", str(PROJECT_ROOT), "-w", str(tmp_path)],
                   check=True, timeout=600)
    (wheel,) = tmp_path.glob("bcf_returns-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        assert whl.read("bcf/_resources/constraints.txt") == (PROJECT_ROOT / "constraints.txt").read_bytes()
        assert json.loads(whl.read("bcf/_resources/build_info.json"))["git_commit"].startswith(HEAD)
        names = whl.namelist()
        assert any(n.startswith("bcf/warehouse/sql/figures/") and n.endswith(".sql") for n in names)
        # one top-level name in site-packages: the contract's folders travel inside bcf/
        assert {n.split("/")[0] for n in names} == {"bcf", wheel.name.split("-py")[0] + ".dist-info"}
        assert {"bcf/core/settings.py", "bcf/transforms/read.py", "bcf/warehouse/db.py",
                "bcf/flows/common.py"} <= set(names)
    # installed on its own (not the checkout), it finds its SQL and shipped config and starts
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-qq", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=600)
    probe = ("import bcf, bcf.core.settings as s, bcf.flows.common; "
             "print(bcf.__file__, s.sql_dir(), s.config_dir(), sep='|')")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)},
                         capture_output=True, text=True, check=True, timeout=120).stdout.strip().split("|")
    assert [Path(p).is_relative_to(target) for p in out] == [True, True, True]
    assert (Path(out[1]) / "figures" / "df_discharges.sql").is_file()

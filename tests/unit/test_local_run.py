"""Issue 14 (fixed cost): with no Prefect server configured, `bcf run` runs the pipeline's steps in its own process
(bcf/run/pipeline.py) instead of starting a temporary Prefect server whose run history would vanish with it. Same
steps, same run ledger, same figures, same exit codes; Prefect is not even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bcf.core.settings import use_prefect
from tests.fixtures import EXPECTED_DF, HWB, write_df_fixture

ROOT = Path(__file__).resolve().parents[2]
# runs the command in a fresh interpreter and says whether anything imported Prefect, or pandas
SCRIPT = ("import sys\nfrom bcf.cli import main\nrc = main(sys.argv[1:])\n"
          "print('PREFECT IMPORTED:', 'prefect' in sys.modules)\n"
          "print('PANDAS IMPORTED:', 'pandas' in sys.modules)\nsys.exit(rc)\n")


def bcf_here(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BCF_", "PREFECT_API_URL", "PREFECT_PROFILE"))}
    env |= {"BCF_ALLOW_DEVELOPMENT_KEY": "1", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_a_fortnightly_run_without_a_server_gives_the_hand_counted_return(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    out, data = tmp_path / "out", tmp_path / "data"
    proc = bcf_here(tmp_path, "run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                    "--out", str(out), "--data-dir", str(data))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PREFECT IMPORTED: False" in proc.stdout
    assert "discharges_rwe.csv: new" in proc.stdout  # the per-file progress lines the flow shows too
    assert not (tmp_path / "prefect-home").exists()  # no temporary server, no Prefect database
    manifest = json.loads((out / f"df_fortnightly_{HWB}_2023-01-19.audit" / "manifest.json").read_text())
    got = {f["figure_id"]: f["value"] for f in manifest["figures"]}
    assert {k: got[k] for k in EXPECTED_DF} == {k: str(v) for k, v in EXPECTED_DF.items()}
    assert manifest["run"]["flow"] == "fortnightly-return" and manifest["run"]["prefect_flow_run_id"] is None
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        runs = con.execute("SELECT flow, outcome, prefect_flow_run_id FROM runs").fetchall()
    assert runs == [("fortnightly-return", "done", None)]


@pytest.mark.slow
def test_the_next_fortnight_whose_files_were_all_received_imports_no_pandas(tmp_path: Path) -> None:
    """Issue 25: reading, parsing and checking (pandas, ~0.3 s to import) are for new files only; a run whose files
    were all received before still makes its return, without them."""
    src = write_df_fixture(tmp_path / "src")
    out, data = tmp_path / "out", tmp_path / "data"
    runs = [bcf_here(tmp_path, "run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", end,
                     "--out", str(out), "--data-dir", str(data)) for end in ("2023-01-19", "2023-02-02")]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stdout + runs[1].stderr
    assert "PANDAS IMPORTED: True" in runs[0].stdout  # its files were new
    assert "discharges_rwe.csv: already_received" in runs[1].stdout
    assert "PANDAS IMPORTED: False" in runs[1].stdout
    assert (out / f"df_fortnightly_{HWB}_2023-02-02.xlsx").exists()


@pytest.mark.slow
def test_a_blocked_run_without_a_server_exits_1_and_is_recorded_blocked(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    (src / "spend_x.csv").write_text("not,the,spend,header\n1,2,3,4\n")  # the ledger file is rejected: blocked
    proc = bcf_here(tmp_path, "run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                    "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "BLOCKED:" in proc.stdout and "file.missing_column" in proc.stdout
    assert not list((tmp_path / "out").glob("*.xlsx"))
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT outcome FROM runs").fetchall() == [("blocked",)]


def write_profiles(home: Path, active: str, url: str | None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    body = f'active = "{active}"\n\n[profiles.{active}]\n'
    if url:
        body += f'PREFECT_API_URL = "{url}"\n'
    (home / "profiles.toml").write_text(body)


@pytest.mark.parametrize(("environ", "profile_url", "expected"), [
    ({}, None, False),  # nothing configured: in process
    ({"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, None, True),
    ({}, "http://prefect.internal:4200/api", True),  # `prefect config set PREFECT_API_URL=...`
    ({"BCF_ORCHESTRATION": "prefect"}, None, True),  # asked for: Prefect starts its temporary server
    ({"BCF_ORCHESTRATION": "local", "PREFECT_API_URL": "http://127.0.0.1:4200/api"}, None, False),
])
def test_when_a_run_goes_through_prefect(tmp_path: Path, environ: dict[str, str], profile_url: str | None,
                                         expected: bool) -> None:
    write_profiles(tmp_path, "work", profile_url)
    assert use_prefect({"PREFECT_HOME": str(tmp_path), **environ}) is expected


def test_an_unknown_orchestration_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from bcf.cli import main

    monkeypatch.setenv("BCF_ORCHESTRATION", "kubernetes")
    src = write_df_fixture(tmp_path / "src")
    code = main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19", "--out",
                 str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("bcf: BCF_ORCHESTRATION must be one of auto, prefect, local"), err


@pytest.mark.slow
def test_an_ingest_without_a_server_is_recorded_in_the_run_ledger(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    proc = bcf_here(tmp_path, "ingest", "--source", str(src), "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PREFECT IMPORTED: False" in proc.stdout and "discharges_rwe.csv" in proc.stdout
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT flow, outcome, detail FROM runs").fetchall() == [
            ("ingest-extracts", "done", "5 file(s)")]

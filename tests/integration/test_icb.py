"""ICB fan-out: each HWB of LLR gets its returns from one shared source; a blocked HWB does not stop the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bcf.devtools.synthetic import generate
from bcf.flows.icb import icb_flow

LLR = {"E06000016": "Leicester", "E06000017": "Rutland", "E10000018": "Leicestershire"}


@pytest.fixture(scope="module")
def shared_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("llr")
    for n, hwb in enumerate(LLR):
        # one set of provider files for the whole footprint; council files and plans per HWB, hwb_code on every row
        generate(hwb, dt.date(2022, 10, 1), dt.date(2023, 3, 31), 4_000, 11 + n, src, explicit_hwb=True,
                 discharges=hwb == "E10000018")
    return src


def test_each_hwb_gets_its_own_return_from_the_shared_source(shared_source: Path, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    state = icb_flow(source=str(shared_source), icb="QK1", period_end="2023-03-30", out_dir=str(tmp_path / "out"),
                     data_dir=str(tmp_path / "data"), return_state=True)
    assert state.is_completed() and state.message == "QK1: 3 of 3 HWB return(s) written"
    assert state.result() == {hwb: "written" for hwb in LLR}
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == "icb QK1 2023-03-30"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.xlsx")) == [
        f"df_fortnightly_{hwb}_2023-03-30.xlsx" for hwb in sorted(LLR)]
    from bcf.audit.reproduce import reproduce

    assert reproduce(tmp_path / "out" / "df_fortnightly_E06000017_2023-03-30.xlsx").same


def test_one_hwbs_bad_data_blocks_only_that_hwb(shared_source: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for path in shared_source.iterdir():
        (src / path.name).write_bytes(path.read_bytes())
    leicester_spend = next(src.glob("spend_e06000016_*.csv"))
    lines = leicester_spend.read_text().splitlines()
    bad = lines[-1].replace(lines[-1].split(",")[0], "GLBAD", 1).replace(lines[-1].split(",")[5], "12.345", 1)
    assert bad != lines[-1] and "12.345" in bad  # a new transaction with an amount in tenths of pence: an error
    lines.append(bad)
    leicester_spend.write_text("\n".join(lines) + "\n")
    state = icb_flow(source=str(src), icb="QK1", quarter="2022-23-Q4", out_dir=str(tmp_path / "out"),
                     data_dir=str(tmp_path / "data"), return_state=True)
    # the parent run is not green: Failed, named Blocked, saying how many HWBs were blocked
    assert state.is_failed() and state.name == "Blocked"
    assert state.message == "QK1: 2 of 3 HWB return(s) written, 1 blocked (E06000016)"
    status = state.result(raise_on_failure=False)
    assert status == {"E06000016": "blocked", "E06000017": "written", "E10000018": "written"}
    assert (tmp_path / "out" / "bcf_quarterly_E06000016_2022-23_Q4.blocked-findings.csv").exists()
    assert (tmp_path / "out" / "bcf_quarterly_E06000017_2022-23_Q4.xlsx").exists()


def test_a_council_without_a_plan_is_blocked_once_and_the_others_are_written(shared_source: Path,
                                                                             tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for path in shared_source.iterdir():
        if path.name != "plan_e06000016.xlsx":  # Leicester's plan missing from the shared source
            (src / path.name).write_bytes(path.read_bytes())
    state = icb_flow(source=str(src), icb="QK1", period_end="2023-03-30", out_dir=str(tmp_path / "out"),
                     data_dir=str(tmp_path / "data"), return_state=True)
    assert state.result(raise_on_failure=False) == {"E06000016": "blocked", "E06000017": "written",
                                                    "E10000018": "written"}
    import csv

    with open(tmp_path / "out" / "df_fortnightly_E06000016_2023-03-30.blocked-findings-summary.csv",
              newline="", encoding="utf-8") as fh:
        errors = [r for r in csv.DictReader(fh) if r["severity"] == "error"]
    # one cause, said once: not a line per ledger posting of Leicester's
    assert [(r["rule"], r["count"]) for r in errors] == [("plan.missing", "1")]
    assert "No plan for HWB E06000016 in 2022-23" in errors[0]["example_message"]


def test_generate_icb_writes_a_shared_source_every_hwb_runs_on_without_a_warning(tmp_path: Path) -> None:
    """`bcf generate --icb QK1`: one set of provider files for the footprint, each council's reablement, ledger and
    plan with hwb_code on every row; validated and run, every HWB's returns are written with no finding at all."""
    import csv

    from bcf.cli import main

    src = tmp_path / "src"
    assert main(["generate", "--icb", "QK1", "--from", "2022-10-01", "--to", "2023-03-31", "--scale", "12000",
                 "--seed", "5", "--out", str(src)]) == 0
    names = sorted(p.name for p in src.iterdir())
    assert [n.split("_")[1] for n in names if n.startswith("discharges")] == ["rgn", "rnq", "rt5", "rwe"]
    for hwb in LLR:
        assert sum(n.startswith((f"plan_{hwb.lower()}", f"spend_{hwb.lower()}", f"reablement_{hwb.lower()}"))
                   for n in names) == 3
        with open(next(src.glob(f"spend_{hwb.lower()}_*.csv")), newline="") as fh:
            assert {r["hwb_code"] for r in csv.DictReader(fh)} == {hwb}
    assert main(["validate", "--source", str(src)]) == 0
    out, data = tmp_path / "out", tmp_path / "data"
    fortnight = icb_flow(source=str(src), icb="QK1", period_end="2023-03-30", out_dir=str(out), data_dir=str(data),
                         return_state=True)
    quarter = icb_flow(source=str(src), icb="QK1", quarter="2022-23-Q4", out_dir=str(out), data_dir=str(data),
                       return_state=True)
    assert fortnight.result() == quarter.result() == {hwb: "written" for hwb in LLR}
    packs = sorted(out.glob("*.audit"))
    assert len(packs) == 6
    for pack in packs:
        with open(pack / "findings.csv", newline="") as fh:
            assert list(csv.DictReader(fh)) == [], pack.name  # not one warning

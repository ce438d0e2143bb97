"""Issue 24 part 3: what an auditor meets. A directly age-standardised rate's trace carries what rebuilds it; `bcf
why` counts the lines it lists; a rerun keeps a history copy only when figures moved, and says so on the console."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bcf.audit.why import Answer, render
from bcf.cli import main
from bcf.returns.pack import history_name, pack_dir
from tests.fixtures import EXPECTED_Q, HWB, write_df_fixture, write_q_fixture
from tests.integration.test_integrity_audit import STEM, correct_discharges, manifest, run_df


@pytest.mark.slow
def test_the_falls_rate_is_rebuilt_from_its_trace_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_q_fixture(tmp_path / "src")
    assert main(["run", "quarterly", "--source", str(src), "--hwb", HWB, "--quarter", "2022-23-Q4", "--out",
                 str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")]) == 0
    workbook = tmp_path / "out" / "bcf_quarterly_E06000017_2022-23_Q4.xlsx"
    assert manifest(workbook)["standard_population"]["esp2013_65plus"]["65-69"] == 5500
    capsys.readouterr()
    assert main(["trace", str(workbook), "q.metric.falls.actual"]) == 0
    text = capsys.readouterr().out
    assert "age band" in text and "ESP weight" in text and "population" in text
    # each band's line: band, admissions, population, rate, weight, weight x rate; rebuild the rate from them
    bands = re.findall(r"^(\d\d(?:-\d\d|\+))\s+([\d,]+)\s+([\d,]+)\s+[\d,.]+\s+([\d,]+)\s", text, re.M)
    assert [b[0] for b in bands] == ["65-69", "70-74", "75-79", "80-84", "85-89", "90+"]
    num = sum(Decimal(c.replace(",", "")) / Decimal(p.replace(",", "")) * Decimal(w.replace(",", ""))
              for _, c, p, w in bands)
    rebuilt = num / sum(Decimal(w.replace(",", "")) for *_, w in bands) * 100_000
    assert f"{rebuilt:.1f}" == EXPECTED_Q["q.metric.falls.actual"]
    assert text.rstrip().endswith(f"= {EXPECTED_Q['q.metric.falls.actual']}")


def test_bcf_why_counts_the_figures_it_lists() -> None:
    answer = Answer("discharges_rwe.csv", 2, "RWE:S1", "discharges", "counted",
                    counted=[("df.discharges.total", "1"), ("q.metric.x.actual", "1"), ("q.metric.x.actual", "1")],
                    roles=["", "numerator", "denominator"])
    text = render([answer])
    listed = [line for line in text.splitlines() if line.startswith("    ")]
    assert "contributes to 2 figure(s):" in text and len(listed) == 2
    assert "q.metric.x.actual (numerator and denominator)" in text


@pytest.mark.slow
def test_a_rerun_keeps_history_only_when_figures_moved_and_says_so(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    out = tmp_path / "out"
    assert main(run_df(src, tmp_path)) == 0
    workbook = out / f"{STEM}.xlsx"
    first = manifest(workbook)["run"]["run_id"]
    capsys.readouterr()
    assert main(run_df(src, tmp_path)) == 0  # the same data again: the same figures
    said = capsys.readouterr().out
    assert f"Same figures as the earlier return (run {first})" in said
    assert not history_name(workbook, first).exists() and not pack_dir(history_name(workbook, first)).exists()
    assert manifest(workbook)["revision"]["revises_run_id"] == first
    second = manifest(workbook)["run"]["run_id"]
    correct_discharges(src)
    assert main(run_df(src, tmp_path)) == 0
    said = capsys.readouterr().out
    assert f"REVISES the earlier return (run {second}): 6 figure(s) moved" in said
    assert history_name(workbook, second).exists() and pack_dir(history_name(workbook, second)).is_dir()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{STEM}.xlsx", f"{STEM}.audit", f"{STEM}.{second}.xlsx", f"{STEM}.{second}.audit"])

"""What the data team reads: figures in an officer's words, findings listed, the state a run ends in, and the
commands that need no Prefect at all."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bcf.returns.produce import ReturnOutcome
from bcf.transforms.figures import Figure, FigureSpec
from bcf.transforms.findings import SHOWN, Finding, FindingsReport, summarise


def _fig(kind: str, value: object, label: str = "x") -> Figure:
    return Figure(FigureSpec("id", label, kind, "", ""), value)  # type: ignore[arg-type]


def test_figures_read_as_an_officer_writes_them() -> None:
    from bcf.flows.common import show

    assert show(_fig("money", Decimal("286371"))) == "£286,371.00"
    assert show(_fig("money", Decimal("-5312.904"))) == "-£5,312.90"
    assert show(_fig("count", Decimal("10146"))) == "10,146"
    assert show(_fig("pct", Decimal("83.04"))) == "83.0%"
    assert show(_fig("yesno", "No")) == "❌ **No**" and show(_fig("yesno", "Yes")) == "✅ Yes"
    assert show(_fig("text", "Not on track to meet target")) == "❌ **Not on track to meet target**"
    assert show(_fig("money", None)) == "—"


def test_the_findings_artifact_lists_warnings_when_there_are_no_errors() -> None:
    from bcf.flows.common import findings_markdown

    warnings = [Finding("warning", "spend.csv", n, "amount", "0", "zero_spend", "A zero amount.") for n in (2, 3)]
    report = FindingsReport(0, 2, tuple(summarise(warnings)), (), tuple(warnings))
    text = findings_markdown("Findings: df E06000017 2023-03-30", report, [])
    assert "- warnings: 2" in text and "## Warnings" in text and "| warning | zero_spend | spend.csv | 2 |" in text
    assert text.count("| warning | spend.csv |") == 2


def test_the_findings_artifact_lists_the_first_of_many_and_counts_the_rest() -> None:
    from bcf.flows.common import findings_markdown

    blocking = [Finding("error", "d.csv", n, "hwb_code", "", "required", "Missing.") for n in (2, 3)]
    other = [Finding("error", "d.csv", n, "age", "130", "age_range", "Too old.") for n in range(4, 4 + SHOWN + 7)]
    warned = [Finding("warning", "r.csv", n, None, None, "cross.x", "Look.") for n in range(2, 2 + SHOWN)]
    report = FindingsReport(len(blocking) + len(other), 1000, tuple(summarise(blocking + other + warned)),
                            tuple((blocking + other)[: SHOWN + len(blocking)]), tuple(warned))
    text = findings_markdown("Findings", report, blocking)
    assert "- blocking errors: **2**" in text and f"- errors: {2 + SHOWN + 7}" in text and "- warnings: 1000" in text
    # each group once in the table by rule and file, then each finding listed up to SHOWN of its kind
    assert text.count("| required |") == 1 + 2 and text.count("| age_range |") == 1 + SHOWN
    assert "... and 7 more in the findings file" in text and f"... and {1000 - SHOWN} more" in text


def test_a_blocked_outcome_ends_failed_named_blocked_with_the_first_findings() -> None:
    from bcf.flows.common import fanout_state, final_state

    blocking = [Finding("error", "discharges_rwe.csv", 12, "discharge_date", "2023-01-40", "date", "Not a real date.")]
    state = final_state(ReturnOutcome("blocked", Path("df.xlsx"), blocking=blocking))
    assert state.is_failed() and state.name == "Blocked"  # type: ignore[union-attr]
    assert "discharges_rwe.csv row 12 [discharge_date] date" in state.message  # type: ignore[union-attr]
    written = ReturnOutcome("written", Path("df.xlsx"))
    assert final_state(written) is written
    icb = fanout_state("QK1", {"E06000016": "blocked", "E06000017": "written", "E10000018": "failed: boom"})
    assert icb.is_failed() and icb.name == "Failed"
    assert icb.message == "QK1: 1 of 3 HWB return(s) written, 1 blocked (E06000016), 1 failed (E10000018)"


@pytest.mark.slow
def test_validate_trace_reproduce_and_cellmap_do_not_import_prefect(small_extracts: Path) -> None:
    code = ("import sys\nfrom bcf.cli import main\nrc = main(['validate', '--source', sys.argv[1], '--limit', '0'])\n"
            "import bcf.audit.trace, bcf.audit.reproduce, transforms.template\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'prefect'], 'prefect imported'\n"
            "sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code, str(small_extracts)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 error" in run.stdout

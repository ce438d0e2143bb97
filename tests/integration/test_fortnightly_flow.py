"""The fortnightly-return flow through Prefect: workbook, audit pack, artifacts, blocking, trace, LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bcf.cli import main
from bcf.core.settings import contracts
from bcf.flows.fortnightly import fortnightly_flow
from bcf.returns.pack import pack_dir
from bcf.transforms.nhs_number import is_valid
from tests.conftest import write_csv
from tests.fixtures import HWB, OTHER, write_df_fixture


def _artifacts(flow_run_id: str) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key or "": a.type or "" for a in found}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("df")
    src = write_df_fixture(tmp / "src")
    # spells of another HWB carrying valid NHS numbers: the output scans below must have something to find
    numbers = [n for n in (str(9_434_765_900 + i) for i in range(200)) if is_valid(n)][:3]
    write_csv(src / "discharges_nhs.csv", contracts()["discharges"].names, [
        [f"N{i}", "RWE", "acute", n, "80", OTHER, "2023-01-02", "21", "", "2023-01-12", "19", "0", "J18.9", ""]
        for i, n in enumerate(numbers)])
    outcome = fortnightly_flow(source=str(src), hwb=HWB, period_end="2023-01-19", out_dir=str(tmp / "out"),
                               data_dir=str(tmp / "data"))
    return tmp, outcome


def test_flow_writes_the_workbook_the_pack_and_artifacts(written: tuple[Path, object]) -> None:
    tmp, outcome = written
    assert outcome.status == "written"  # type: ignore[attr-defined]
    book = load_workbook(outcome.workbook)  # type: ignore[attr-defined]
    assert book.sheetnames == ["Cover", "Checklist", "Discharges", "Packages", "Spend and Activity",
                               "Income and Checks", "Lineage"]
    name = book.defined_names["df.check.plan_within_income"]
    sheet, cell = next(name.destinations)
    assert book[sheet][cell.replace("$", "")].value == "No"
    assert book["Discharges"]["B4"].value == 5
    assert book["Cover"]["B6"].value == dt.datetime(2023, 1, 6)  # df.period_start, a real date cell
    pack = pack_dir(outcome.workbook)  # type: ignore[attr-defined]
    assert {p.name for p in pack.iterdir()} == {"manifest.json", "findings.csv", "findings-summary.csv", "lineage.csv",
                                                "lineage.parquet"}
    run_id = _run_id(pack)
    keys = _artifacts(run_id)
    assert keys == {"df-e06000017-2023-01-19-findings": "markdown", "df-e06000017-2023-01-19-headline": "markdown",
                    "df-e06000017-2023-01-19-workbook": "markdown"}  # headline: labels, £, marked checks


def _run_id(pack: Path) -> str:
    import json

    return str(json.loads((pack / "manifest.json").read_text())["run"]["prefect_flow_run_id"])


def test_trace_by_figure_id_and_by_cell(written: tuple[Path, object], capsys: pytest.CaptureFixture[str]) -> None:
    _, outcome = written
    wb = str(outcome.workbook)  # type: ignore[attr-defined]
    assert main(["trace", wb, "df.scheme.df01.spend_fortnight", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["file"], r["row"], r["key"], r["contribution"]) for r in rows] == [
        ("spend_x.csv", "2", "T1", "100.10"), ("spend_x.csv", "3", "T2", "200.20"),
        ("spend_x.csv", "7", "T6", "-20.05")]
    assert main(["trace", wb, "'Discharges'!B4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("df.discharges.total = 5") and "discharges_rgn.xlsx  2" in out
    assert main(["trace", wb, "Discharges!Z99"]) == 2


def test_the_workbook_opens_in_libreoffice(written: tuple[Path, object], tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing: .ci/run installs it")
        pytest.skip("LibreOffice not installed here")
    _, outcome = written
    run = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                          "pdf", "--outdir", str(tmp_path), str(outcome.workbook)],  # type: ignore[attr-defined]
                         capture_output=True, text=True, timeout=180)
    pdf = tmp_path / (outcome.workbook.stem + ".pdf")  # type: ignore[attr-defined]
    assert run.returncode == 0 and pdf.exists() and pdf.stat().st_size > 5000, run.stderr


def test_a_bad_row_for_the_hwb_blocks_the_return(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    bad = (src / "discharges_rwe.csv").read_text(encoding="utf-8")
    bad += "S99,RWE,acute,9434765918,80,E06000017,2023-01-02,21,,2023-01-12,19,0,J18.9,\n"
    (src / "discharges_rwe.csv").write_text(bad, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                 "--out", str(out), "--data-dir", str(tmp_path / "data")])
    assert code == 1
    assert not list(out.glob("*.xlsx")) and not list(out.glob("*.audit"))
    with open(out / "df_fortnightly_E06000017_2023-01-19.blocked-findings.csv", encoding="utf-8") as fh:
        findings = list(csv.DictReader(fh))
    assert [(f["file"], f["row"], f["column"], f["value"], f["rule"]) for f in findings if f["severity"] == "error"] \
        == [("discharges_rwe.csv", "12", "nhs_number", "******5918", "nhs_number")]


def test_no_nhs_number_in_any_output(written: tuple[Path, object]) -> None:
    """Every file the run wrote (workbook cells, audit pack): none of the NHS numbers the source held. (A valid-looking
    10-digit run inside a sha256 in the manifest is not a patient's number: the scan looks for the real ones.)"""
    tmp, outcome = written
    numbers = {m for path in (tmp / "src").glob("*.csv") for m in re.findall(r"(?<!\d)\d{10}(?!\d)", path.read_text())
               if is_valid(m)}
    assert len(numbers) == 3  # the scan looks for something really there
    for path in (tmp / "out").rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json"):
            text = path.read_text(encoding="utf-8")
            assert not [n for n in numbers if n in text], path
    book = load_workbook(outcome.workbook)  # type: ignore[attr-defined]
    cells = " ".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value)
    assert not [m for m in re.findall(r"(?<!\d)\d{10}(?!\d)", cells) if is_valid(m)]


def test_quarterly_flow_writes_the_return_with_artifacts(tmp_path: Path) -> None:
    from bcf.flows.quarterly import quarterly_flow
    from tests.fixtures import write_q_fixture

    src = write_q_fixture(tmp_path / "src")
    outcome = quarterly_flow(source=str(src), hwb=HWB, quarter="2022-23-Q4", out_dir=str(tmp_path / "out"),
                             data_dir=str(tmp_path / "data"))
    assert outcome.status == "written"
    book = load_workbook(outcome.workbook)
    assert book.sheetnames == ["Cover", "Checklist", "National Conditions", "Metrics", "Capacity & Demand",
                               "Spend and Activity", "Income and Expenditure", "Lineage"]  # issue 26: a Checklist
    assert book["Cover"]["B7"].value == "Incomplete"  # q.template_status: condition 4 and a plan are missing
    keys = _artifacts(_run_id(pack_dir(outcome.workbook)))
    assert set(keys) == {"bcf-e06000017-2022-23-q4-findings", "bcf-e06000017-2022-23-q4-headline",
                         "bcf-e06000017-2022-23-q4-workbook"}


def test_a_template_that_does_not_fit_is_a_usage_error(tmp_path: Path) -> None:
    from tests.fixtures import write_q_fixture

    src = write_q_fixture(tmp_path / "src")
    template = tmp_path / "template.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    book.save(template)
    code = main(["run", "quarterly", "--source", str(src), "--hwb", HWB, "--quarter", "2022-23-Q4", "--template",
                 str(template), "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")])
    assert code == 2 and not list((tmp_path / "out").glob("*.xlsx"))

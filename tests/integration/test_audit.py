"""Auditors: every figure reconciles to its lineage, no NHS number anywhere, past returns reproduce, revisions
explain themselves."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from bcf.cli import main
from bcf.returns.pack import pack_dir
from tests.fixtures import HWB, write_df_fixture

SUMMED = ("count", "money", "units", "days")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        assert main(["demo", "--out", str(out)]) == 0
    return out, buffer.getvalue()


def _workbooks(out: Path) -> list[Path]:
    found = sorted((out / "returns").glob("*.xlsx"))
    assert len(found) == 2
    return found


def test_every_summed_figure_of_a_whole_run_reconciles_to_its_lineage(demo: tuple[Path, str]) -> None:
    out, _ = demo
    checked = 0
    for workbook in _workbooks(out):
        pack = pack_dir(workbook)
        manifest = json.loads((pack / "manifest.json").read_text())
        sums: dict[str, Decimal] = defaultdict(Decimal)
        roles: dict[str, set[str]] = defaultdict(set)
        rows: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        with open(pack / "lineage.csv", newline="") as fh:
            for r in csv.DictReader(fh):
                sums[r["figure_id"]] += Decimal(r["contribution"])
                roles[r["figure_id"]].add(r["role"])
                rows[r["figure_id"]].add((r["file_id"], r["row"], r["key"]))
        for f in manifest["figures"]:
            if f["kind"] in SUMMED and f["value"] is not None and f["query_id"] != "parameters":
                assert Decimal(f["value"]) == sums.get(f["figure_id"], Decimal(0)), f["figure_id"]
                assert f["source_rows"] == len(rows.get(f["figure_id"], ())), f["figure_id"]
                checked += 1
            elif f["kind"] in ("ratio", "pct", "rate") and f["value"] is not None and f["figure_id"].endswith(
                    ("actual", "avg_delay_days")) and "residential" not in f["figure_id"]:
                assert roles[f["figure_id"]] == {"numerator", "denominator"}, f["figure_id"]  # both sides traced
    assert checked > 150


def test_no_nhs_number_in_workbooks_packs_logs_or_artifacts(demo: tuple[Path, str]) -> None:
    from openpyxl import load_workbook
    from prefect.client.orchestration import get_client

    out, log = demo
    numbers = set()
    for path in (out / "extracts").glob("*.csv"):
        numbers |= set(re.findall(r"(?<![0-9])[4-9][0-9]{9}(?![0-9])", path.read_text()))
    assert len(numbers) > 1000
    texts = {"console log": log}
    for path in (out / "returns").rglob("*"):
        if path.suffix in (".csv", ".json"):
            texts[str(path)] = path.read_text()
        elif path.suffix == ".xlsx":
            book = load_workbook(path)
            texts[str(path)] = " ".join(str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r)
    with get_client(sync_client=True) as client:
        for artifact in client.read_artifacts():
            texts[f"artifact {artifact.key}"] = json.dumps(artifact.data, default=str)
        for entry in client.read_logs():
            texts.setdefault("prefect logs", "")
            texts["prefect logs"] += entry.message + "\n"
    assert "prefect logs" in texts and any(k.startswith("artifact") for k in texts)
    for where, text in texts.items():
        found = set(re.findall(r"(?<![0-9])[0-9]{10}(?![0-9])", text)) & numbers
        assert not found, f"NHS number(s) in {where}"


def test_reproduce_an_unchanged_return_and_pinpoint_a_tampered_input(demo: tuple[Path, str],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = demo
    fortnightly = next(w for w in _workbooks(out) if w.name.startswith("df_"))
    assert main(["reproduce", str(fortnightly)]) == 0
    assert "REPRODUCED" in capsys.readouterr().out

    manifest = json.loads((pack_dir(fortnightly) / "manifest.json").read_text())
    spend = next(i for i in manifest["inputs"] if i["kind"] == "spend")
    landed = Path(spend["landed_path"])
    backup = landed.read_bytes()
    os.chmod(landed, 0o644)
    try:
        text = backup.decode().replace(",DF01,icb_discharge,", ",DF01,la_discharge,", 1)
        landed.write_text(text)
        assert main(["reproduce", str(fortnightly)]) == 1
        report = capsys.readouterr().out
        assert "NOT REPRODUCED" in report
        assert f"{spend['file_name']} (spend): landed copy has sha256" in report
        assert "df.scheme.df01.spend_to_date_la: recorded" in report
    finally:
        landed.write_bytes(backup)
        os.chmod(landed, 0o444)


def test_a_revision_names_exactly_the_corrected_rows_and_the_figures_they_moved(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    args = ["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19", "--out",
            str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")]
    assert main(args) == 0
    rwe = src / "discharges_rwe.csv"
    lines = rwe.read_text().splitlines()
    lines[1] = lines[1].replace(",19,0,J18.9", ",19,1,J18.9")  # S1: pathway 0 -> 1
    lines[2] = lines[2].replace(",19,1,J18.9", ",51,1,J18.9")  # S2: destination 19 -> 51
    lines[3] = lines[3].replace("2023-01-11,2023-01-13", "2023-01-11,2023-01-25")  # S3: discharged after P
    rwe.write_text("\n".join(lines) + "\n")
    assert main(args) == 0

    pack = tmp_path / "out" / "df_fortnightly_E06000017_2023-01-19.audit"
    with open(pack / "revisions.csv", newline="") as fh:
        changes = list(csv.DictReader(fh))
    rows = {(c["file"], c["key"]): (c["what"], set(c["figures"].split("; "))) for c in changes if c["change"] == "row"}
    d = "df.discharges."
    assert rows == {
        ("discharges_rwe.csv", "RWE:S1"): ("changed", {d + "pathway_0", d + "pathway_1"}),
        ("discharges_rwe.csv", "RWE:S2"): ("changed", {d + "usual_residence"}),
        ("discharges_rwe.csv", "RWE:S3"): ("removed", {d + "total", d + "pathway_3", d + "with_ready_date",
                                                        d + "within_48h", d + "delay_days", d + "avg_delay_days"}),
    }
    figures = {c["figure_id"]: (c["old"], c["new"]) for c in changes if c["change"] == "figure"}
    assert figures == {d + "total": ("5", "4"), d + "pathway_0": ("1", "0"), d + "pathway_1": ("1", "2"),
                       d + "pathway_3": ("1", "0"), d + "usual_residence": ("3", "2"),
                       d + "with_ready_date": ("4", "3"), d + "within_48h": ("4", "3"), d + "delay_days": ("5", "3"),
                       d + "avg_delay_days": ("1.3", "1.0")}
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["revision"]["figures_changed"] == 9
    # the earlier return is kept as a pair, <stem>.<its run id>.xlsx beside <stem>.<its run id>.audit
    old_run = manifest["revision"]["revises_run_id"]
    stem = "df_fortnightly_E06000017_2023-01-19"
    history = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(f"{stem}.{old_run}"))
    assert history == [f"{stem}.{old_run}.audit", f"{stem}.{old_run}.xlsx"]
    shutil.rmtree(tmp_path / "data")

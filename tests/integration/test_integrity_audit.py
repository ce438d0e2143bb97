"""Issue 10, points 8-12 through real runs: reproduce checks the very file it is given, earlier returns are kept as
pairs and published atomically, runs on one data dir wait for each other, a killed run is marked crashed, the CSV
outputs are safe to open, S3 configuration errors are one line, the manifest says which pseudonym key was used."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from bcf.cli import main
from bcf.returns.pack import history_name, pack_dir
from bcf.transforms.workbook import cells_hash
from tests.fixtures import HWB, write_df_fixture, write_q_fixture

STEM = "df_fortnightly_E06000017_2023-01-19"


def run_df(src: Path, tmp: Path, out: Path | None = None) -> list[str]:
    return ["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
            "--out", str(out or tmp / "out"), "--data-dir", str(tmp / "data")]


def manifest(workbook: Path) -> dict:  # type: ignore[type-arg]
    return dict(json.loads((pack_dir(workbook) / "manifest.json").read_text(encoding="utf-8")))


def figure_cell(workbook: Path, figure_id: str) -> tuple[str, str]:
    spec = next(f for f in manifest(workbook)["figures"] if f["figure_id"] == figure_id)
    return spec["sheet"], spec["cell"]


def correct_discharges(src: Path) -> None:
    """A corrected provider file: spell S3 was in fact discharged after P (df.discharges.total 5 -> 4)."""
    rwe = src / "discharges_rwe.csv"
    text = rwe.read_text()
    assert "2023-01-11,2023-01-13" in text
    rwe.write_text(text.replace("2023-01-11,2023-01-13", "2023-01-11,2023-01-25", 1))


def ledger(data: Path) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return [(str(r[0]), str(r[1]), str(r[2] or "")) for r in
                con.execute("SELECT run_id, flow, outcome FROM runs ORDER BY started_at").fetchall()]


# --- point 8: reproduce checks what it is given; history; atomic pair ------------------------------------------------

def test_a_hand_edited_cell_is_not_reproduced_and_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    assert main(run_df(src, tmp_path)) == 0
    workbook = tmp_path / "out" / f"{STEM}.xlsx"
    assert (workbook.stat().st_mode & 0o777) == 0o666 & ~_umask()  # point 10: the usual file mode, not 0600
    capsys.readouterr()
    assert main(["reproduce", str(workbook)]) == 0
    assert "REPRODUCED: the same cell content" in capsys.readouterr().out

    sheet, cell = figure_cell(workbook, "df.discharges.total")
    book = load_workbook(workbook)
    assert book[sheet][cell].value == 5
    book[sheet][cell].value = 6  # an officer "corrects" the total by hand
    book.save(workbook)
    assert main(["reproduce", str(workbook)]) == 1
    report = capsys.readouterr().out
    assert "NOT REPRODUCED" in report
    assert "(differs from the manifest)" in report
    assert f"figure df.discharges.total at '{sheet}'!{cell}: this file has 6, the return has 5" in report
    assert "differences in figures" not in report  # the inputs and the rebuild are fine: the file was edited


def test_a_rerun_keeps_the_earlier_pair_and_both_reproduce(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    assert main(run_df(src, tmp_path)) == 0
    workbook = tmp_path / "out" / f"{STEM}.xlsx"
    first_run = manifest(workbook)["run"]["run_id"]
    correct_discharges(src)
    assert main(run_df(src, tmp_path)) == 0
    earlier = history_name(workbook, first_run)
    assert earlier.name == f"{STEM}.{first_run}.xlsx" and pack_dir(earlier).is_dir()
    assert manifest(earlier)["run"]["run_id"] == first_run
    assert cells_hash(earlier) == manifest(earlier)["outputs"]["workbook"]["cells_sha256"]
    assert manifest(workbook)["revision"]["revises_run_id"] == first_run
    capsys.readouterr()
    for wb in (earlier, workbook):  # the old return reproduces as it was, no renaming by hand
        assert main(["reproduce", str(wb)]) == 0, capsys.readouterr().out
        assert "REPRODUCED: the same cell content" in capsys.readouterr().out
    sheet, cell = figure_cell(workbook, "df.discharges.total")
    assert load_workbook(earlier)[sheet][cell].value != load_workbook(workbook)[sheet][cell].value


def test_a_crash_between_the_renames_never_leaves_a_new_pack_beside_an_old_workbook(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    assert main(run_df(src, tmp_path)) == 0
    out = tmp_path / "out"
    workbook = out / f"{STEM}.xlsx"
    first_run = manifest(workbook)["run"]["run_id"]
    correct_discharges(src)

    real_replace = Path.replace

    def crash(self: Path, target: str | os.PathLike[str]) -> Path:
        if self.parent.name.startswith(f".{STEM}.") and self.suffix == ".xlsx":
            raise RuntimeError("simulated crash between the pack and the workbook renames")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        main(run_df(src, tmp_path))
    monkeypatch.undo()
    # the new pack is in place, the old workbook went to history with its own pack: no mismatched pair
    assert not workbook.exists()
    assert cells_hash(history_name(workbook, first_run)) == \
        manifest(history_name(workbook, first_run))["outputs"]["workbook"]["cells_sha256"]
    second_run = manifest(workbook)["run"]["run_id"]
    assert second_run != first_run
    assert ledger(tmp_path / "data")[-1][2] == "failed"

    capsys.readouterr()
    assert main(run_df(src, tmp_path)) == 0  # the next run completes the interrupted publish, then its own
    assert f"bcf: completed the interrupted publish of {STEM}.xlsx" in capsys.readouterr().err
    for wb in (history_name(workbook, first_run), workbook):
        assert cells_hash(wb) == manifest(wb)["outputs"]["workbook"]["cells_sha256"], wb.name
    # the third run has the second's figures: it replaces it without a history copy (issue 24)
    assert not history_name(workbook, second_run).exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_template_run_keeps_its_template_and_cell_map_and_names_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_template import MAP, make_template

    src = write_q_fixture(tmp_path / "src")
    template = make_template(tmp_path / "national template.xlsx")
    cell_map = tmp_path / "map.toml"
    cell_map.write_text(MAP)
    assert main(["run", "quarterly", "--source", str(src), "--hwb", HWB, "--quarter", "2022-23-Q4", "--template",
                 str(template), "--cell-map", str(cell_map), "--out", str(tmp_path / "out"), "--data-dir",
                 str(tmp_path / "data")]) == 0
    workbook = tmp_path / "out" / "bcf_quarterly_E06000017_2022-23_Q4.xlsx"
    pack = pack_dir(workbook)
    kept = manifest(workbook)["template"]
    assert (pack / "template.xlsx").read_bytes() == template.read_bytes()
    assert (pack / "cell_map.toml").read_text() == MAP
    assert kept["template"]["path"] == str(template.resolve()) and len(kept["cell_map"]["sha256"]) == 64
    capsys.readouterr()
    assert main(["reproduce", str(workbook)]) == 0

    book = load_workbook(template)  # the original changes after the run: the pack's copy is used
    book["Cover"]["A1"] = "Better Care Fund 2023-24 Quarterly Reporting Template"
    book.save(template)
    cell_map.unlink()
    capsys.readouterr()
    assert main(["reproduce", str(workbook)]) == 0
    report = capsys.readouterr().out
    assert "REPRODUCED" in report and f"template {template.resolve()}: now sha256" in report
    assert "(the copy in the audit pack is used)" in report

    copy = pack / "template.xlsx"  # the copy itself is altered: named as the cause
    os.chmod(copy, 0o644)
    book = load_workbook(copy)
    book["Cover"]["B3"] = "Board:"
    book.save(copy)
    assert main(["reproduce", str(workbook)]) == 1
    report = capsys.readouterr().out
    assert "NOT REPRODUCED" in report and "template copy template.xlsx in the audit pack has sha256" in report
    assert "cell 'Cover'!B3: this file has 'Health and Wellbeing Board:', the return has 'Board:'" in report


# --- point 9: one run at a time per data dir; killed runs; leftovers ------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from bcf.run.ledger import ledger_run
    with ledger_run(Path(sys.argv[1]), "holder", {}) as run:
        print(run.run.run_id, flush=True)
        time.sleep(float(sys.argv[2]))
""")


def start_holder(data: Path, seconds: float) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "BCF_ALLOW_DEVELOPMENT_KEY": "1"}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data), str(seconds)], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()  # printed once it holds the lock
    assert run_id, "the holder did not start"
    return proc, run_id


def test_a_second_run_waits_for_the_first_and_both_finish(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    data = tmp_path / "data"
    holder, holder_run = start_holder(data, 6)
    capsys.readouterr()
    started = time.monotonic()
    assert main(["ingest", "--source", str(src), "--data-dir", str(data)]) == 0
    err = capsys.readouterr().err
    assert f"bcf: waiting for run {holder_run} (holder) (pid {holder.pid}, started at " in err
    assert time.monotonic() - started > 2  # it did wait
    assert holder.wait(timeout=60) == 0
    runs = ledger(data)
    assert [(flow, outcome) for _, flow, outcome in runs] == [("holder", "done"), ("ingest-extracts", "done")]


def test_a_wait_times_out_with_one_line_then_a_killed_run_is_marked_crashed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    data, out = tmp_path / "data", tmp_path / "out"
    holder, holder_run = start_holder(data, 120)
    try:
        monkeypatch.setenv("BCF_LOCK_TIMEOUT", "1")
        capsys.readouterr()
        assert main(run_df(src, tmp_path)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 2 and "Traceback" not in err  # the waiting line, then the one-line error
        assert err.splitlines()[1].startswith(f"bcf: gave up after 1 s waiting for run {holder_run} (holder)")
    finally:
        holder.send_signal(signal.SIGKILL)  # killed mid-run: its ledger row stays "running"
        holder.wait(timeout=30)
    monkeypatch.delenv("BCF_LOCK_TIMEOUT")
    assert ledger(data) == [(holder_run, "holder", "running")]
    # what a crash leaves behind: a half-copied landing file, a staging folder beside the returns
    (data / "landing").mkdir(exist_ok=True)
    (data / "landing" / ".incoming-abc123").write_bytes(b"half a file")
    (data / ".prepared-abc123").mkdir()  # a worker's hand-over folder (bcf/ingest/worker.py)
    (data / ".prepared-abc123" / "0.text.arrow").write_bytes(b"half a part")
    (out / f".{STEM}.x1y2z3").mkdir(parents=True)
    (out / f".{STEM}.x1y2z3" / f"{STEM}.xlsx").write_bytes(b"half a workbook")
    assert main(run_df(src, tmp_path)) == 0
    runs = ledger(data)
    assert runs[0] == (holder_run, "holder", "crashed") and runs[1][1:] == ("fortnightly-return", "done")
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        detail = con.execute("SELECT detail FROM runs WHERE run_id = ?", [holder_run]).fetchone()
    assert detail is not None and detail[0].startswith("stopped without finishing")
    assert not list((data / "landing").glob(".incoming-*"))
    assert not list(data.glob(".prepared-*"))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# --- point 10: outputs safe to open; an apostrophe in --out ---------------------------------------------------------

def test_csv_outputs_are_neutralised_and_an_apostrophe_in_out_works(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    spend = src / "spend_x.csv"
    evil = '=HYPERLINK("http://evil.example","T1")'
    spend.write_text(spend.read_text().replace("\nT1,", f'\n"{evil.replace(chr(34), chr(34) * 2)}",', 1))
    out = tmp_path / "O'Brien's returns"
    assert main(run_df(src, tmp_path, out)) == 0
    workbook = out / f"{STEM}.xlsx"
    pack = pack_dir(workbook)
    assert (pack / "lineage.parquet").is_file()
    with open(pack / "lineage.csv", newline="", encoding="utf-8") as fh:
        lineage = [r for r in csv.DictReader(fh) if r["figure_id"] == "df.spend.to_date"]
    keys = {r["key"] for r in lineage}
    assert "'" + evil in keys and evil not in keys
    assert "-20.0500" in {r["contribution"] for r in lineage}  # the reversal stays a number
    capsys.readouterr()
    assert main(["trace", str(workbook), "df.spend.to_date", "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert "'" + evil in {r["key"] for r in rows} and "-20.05" in {r["contribution"] for r in rows}
    assert not [r for r in rows if r["key"].startswith(("=", "+", "@"))]


def test_blocked_findings_csv_is_neutralised(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    spend = src / "spend_x.csv"
    # a funding source that is a formula, and an amount that is no amount (but is a number: it stays one)
    text = spend.read_text().replace(",DF01,la_discharge,100.10,", ',DF01,"=1+cmd|\' /C calc\'!A0",100.10,', 1)
    text = text.replace("2023-01-19,DF01,icb_discharge,", "-12.50,DF01,icb_discharge,", 1)
    spend.write_text(text)
    assert main(run_df(src, tmp_path)) == 1
    with open(tmp_path / "out" / f"{STEM}.blocked-findings.csv", newline="", encoding="utf-8") as fh:
        values = {(r["column"], r["value"]) for r in csv.DictReader(fh)}
    assert ("funding_source", "'=1+cmd|' /C calc'!A0") in values
    assert ("posting_date", "-12.50") in values


# --- point 11: S3 configuration errors (moto's server); point 12: the manifest names the key ------------------------

def test_a_missing_bucket_is_one_line(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # moto's in-process HTTP server logs each request through the root logger: not ours, keep it off the console
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    code = main(["run", "fortnightly", "--source", "s3://no-such-bucket/extracts/", "--hwb", HWB, "--period-end",
                 "2023-01-19", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err + captured.out
    assert captured.err == "bcf: S3 bucket no-such-bucket does not exist\n"
    assert not (tmp_path / "data").exists()


def test_the_manifest_records_which_key_never_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_df_fixture(tmp_path / "src")
    assert main(run_df(src, tmp_path)) == 0
    workbook = tmp_path / "out" / f"{STEM}.xlsx"
    assert manifest(workbook)["run"]["pseudonym_key"] == "development"
    key = "a-configured-key-of-forty-characters-xyz"
    monkeypatch.setenv("BCF_PSEUDONYM_KEY", key)
    monkeypatch.delenv("BCF_ALLOW_DEVELOPMENT_KEY")
    other = tmp_path / "configured"
    assert main(run_df(src, other)) == 0
    assert manifest(other / "out" / f"{STEM}.xlsx")["run"]["pseudonym_key"] == "configured"
    for path in other.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask

"""Issue 10, the ingest side, through the real flows and the `bcf` command: a duplicate file blocks the return,
no NHS-number-like value reaches any output (every output scanned), S3 objects are fetched whole or reported,
keys with '#' or '?' are read, an empty source exits 1. S3 is moto's server on 127.0.0.1, reached by real boto3."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import boto3
import pytest

from bcf.cli import main
from bcf.core.settings import contracts
from bcf.flows.fortnightly import fortnightly_flow
from bcf.flows.ingest import ingest_flow
from bcf.ingest import sources
from bcf.warehouse import db
from bcf.warehouse.paths import warehouse_path
from tests.conftest import write_csv
from tests.fixtures import HWB, write_df_fixture

PERIOD_END = "2023-01-19"
D_HEADER = contracts()["discharges"].names
R_HEADER = contracts()["reablement"].names
S_HEADER = contracts()["spend"].names


def _run(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out + err


# ---- 1. Nothing counted twice, through the flow ---------------------------------------------------------------

def test_a_corrected_discharge_file_under_a_new_name_blocks_the_return(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    # the corrected file: one age changed, sent under a new name beside the original
    text = (src / "discharges_rwe.csv").read_text(encoding="utf-8")
    (src / "discharges_rwe_v2.csv").write_text(text.replace(",80,", ",81,", 1), encoding="utf-8")
    state = fortnightly_flow(source=str(src), hwb=HWB, period_end=PERIOD_END, out_dir=str(tmp_path / "out"),
                             data_dir=str(tmp_path / "data"), return_state=True)
    assert state.is_failed() and state.name == "Blocked"
    outcome = state.result(raise_on_failure=False)
    assert outcome.status == "blocked" and not outcome.workbook.exists()
    dupes = [f for f in outcome.blocking if f.rule == "key.duplicate_across_files"]
    # S1..S10 of the fixture: every spell of the v2 file names its twin in the original; S9 is another HWB's
    # resident, so it blocks that HWB's return, not Rutland's
    assert sorted((f.file, f.row, f.value) for f in dupes) == sorted(
        ("discharges_rwe_v2.csv", i + 1, f"RWE/S{i}") for i in range(1, 11) if i != 9)
    assert all(f"discharges_rwe.csv row {f.row}" in f.message for f in dupes)
    with open(outcome.findings_file, encoding="utf-8") as fh:
        written = [r for r in csv.DictReader(fh) if r["rule"] == "key.duplicate_across_files"]
    assert len(written) == 9


# ---- 3. Nothing leaked: every output scanned ------------------------------------------------------------------

AGE, DIAGNOSIS, FREE_TEXT, SHORT_ROW, TOO_LONG, HEADER, NHS_COLUMN = (
    "4010232137", "943 476 5919", "485-777-3456", "5990128088", "6541237890", "7012345678", "9434765919")
PLANTED = [AGE, DIAGNOSIS, FREE_TEXT, SHORT_ROW, TOO_LONG, HEADER, NHS_COLUMN]


def _digits(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


def _leaky_source(folder: Path) -> Path:
    write_df_fixture(folder)
    spell = ["L1", "RWE", "acute", NHS_COLUMN, "80", HWB, "2023-01-02", "21", "2023-01-05", "2023-01-06", "19", "1",
             "J44.1", ""]
    rows = [
        spell,  # the NHS number in its own column: pseudonymised, loaded
        ["L2", *spell[1:4], AGE, *spell[5:]],  # in age
        ["L3", *spell[1:12], DIAGNOSIS, ""],  # spaced, in a diagnosis
        [SHORT_ROW, *spell[1:13]],  # a row one field short, the number in its key
    ]
    write_csv(folder / "discharges_leak.csv", D_HEADER, rows)  # type: ignore[arg-type]
    posting = ["L9", "", "2023-01-10", "DF01", "la_discharge", "1.00", "", "", "CC1", "Acme", ""]
    write_csv(folder / "spend_leak.csv", S_HEADER, [  # type: ignore[arg-type]
        [*posting[:10], f"call {FREE_TEXT} about the bed"],  # free text, on a row that loads
        ["L10", *posting[1:10], TOO_LONG + "x" * 10_001],  # an over-long value
    ])
    episode = ["LE1", "", "82", HWB, "community", "", "home_reablement", "2023-01-07", "", "1", "", "", "x"]
    write_csv(folder / "reablement_leak.csv", [*R_HEADER, HEADER], [  # type: ignore[arg-type]
        episode, ["LE2", "", "130", *episode[3:]]])  # a header the mapping doesn't know; a rejected row
    return folder


def _prefect_text() -> str:
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    parts = []
    with get_client(sync_client=True) as client:
        offset = 0
        while batch := client.read_logs(limit=200, offset=offset):
            parts += [log.message for log in batch]
            offset += len(batch)
        parts += [json.dumps(a.data, default=str) + str(a.description) for a in client.read_artifacts()]
    return "\n".join(parts)


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_no_nhs_number_like_value_reaches_any_output(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    import os

    src = _leaky_source(tmp_path / "src")
    # the input does hold every planted number, each on its route
    raw = b"".join(p.read_bytes() for p in src.iterdir() if p.suffix == ".csv")
    assert all(n.encode() in raw for n in PLANTED)

    data, out = tmp_path / "data", tmp_path / "out"
    code, console = _run(capfd, "run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end",
                         PERIOD_END, "--out", str(out), "--data-dir", str(data))
    assert code == 1 and "BLOCKED" in console
    code2, console2 = _run(capfd, "validate", "--source", str(src), "--limit", "1000")
    assert code2 == 1
    console += console2

    with db.connect(warehouse_path(data), read_only=True) as con:
        # what each route now gives, masked
        findings = {(f[0], f[1], f[2], f[3]) for f in con.execute(
            "SELECT file, \"row\", \"column\", \"value\" FROM findings WHERE file LIKE '%leak%'").fetchall()}
        assert ("discharges_leak.csv", 3, "age", "******2137") in findings
        assert ("discharges_leak.csv", 4, "primary_diagnosis", "******5919") in findings
        assert ("discharges_leak.csv", 5, None, None) in findings  # row.field_count
        assert ("spend_leak.csv", 3, "description", "******7890" + "x" * 70) in findings
        assert ("reablement_leak.csv", 1, "******5678", "******5678") in findings
        description = con.execute("SELECT description FROM cur_spend WHERE transaction_id = 'L9'").fetchone()
        assert description == ("call ******3456 about the bed",)
        raw_values = [json.loads(r[0]) for r in con.execute(
            "SELECT raw_values FROM rejected_rows JOIN files USING (file_id) WHERE file_name LIKE '%leak%'").fetchall()]
        assert any(v.get("spell_id") == "******8088" for v in raw_values)  # the short row, its key masked
        assert any("******5678" in v for v in raw_values)  # the unknown header, masked as a key
        # every text value of every table, not only the bytes of the file (DuckDB compresses strings)
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_type = 'BASE TABLE'").fetchall()]
        values = []
        for table in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND "
                "(data_type = 'VARCHAR' OR data_type = 'JSON')", [table]).fetchall()]
            for col in cols:
                values += [str(v[0]) for v in con.execute(f'SELECT "{col}" FROM {table}').fetchall()]
    stored = "\n".join(values)

    outputs = _files_under(out, data / "warehouse", Path(os.environ["PREFECT_HOME"]))
    outputs += [p for p in _files_under(data) if "landing" not in p.parts]  # the landing area is the input
    assert any(p.name.endswith("blocked-findings.csv") for p in outputs)
    blob = b"".join(p.read_bytes() for p in outputs)
    prefect = _prefect_text()
    # the logs and artifacts were read: the blocked return's findings table names the file, values masked
    assert "discharges_leak.csv" in prefect and "******" in prefect
    for number in PLANTED:
        for form in {number, _digits(number)}:
            assert form not in stored, form
            assert form.encode() not in blob, form
            assert form not in console, form
            assert form not in prefect, form


# ---- 4, 5, 6: S3 fetched whole, by its real key, or reported ---------------------------------------------------

@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    name = "bcf-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return name


def _upload(bucket: str, folder: Path, prefix: str, rename: dict[str, str] | None = None) -> None:
    s3 = boto3.client("s3")
    for path in folder.iterdir():
        s3.upload_file(str(path), bucket, prefix + (rename or {}).get(path.name, path.name))


def test_s3_keys_with_hash_and_question_mark_are_read(bucket: str, tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    _upload(bucket, src, "rut#land?/", {"spend_x.csv": "spend #1?x=2%20.csv"})
    report = ingest_flow(source=f"s3://{bucket}/rut#land?/", data_dir=str(tmp_path / "data"))
    spend = next(f for f in report.files if f.kind == "spend")
    assert (spend.name, spend.outcome, spend.rows_rejected) == ("spend #1?x=2%20.csv", "new", 0)
    assert spend.rows_loaded == 13
    with db.connect(warehouse_path(tmp_path / "data"), read_only=True) as con:
        assert con.execute("SELECT origin_uri FROM files WHERE kind = 'spend'").fetchone() == (
            f"s3://{bucket}/rut#land?/spend #1?x=2%20.csv",)


def test_an_object_changed_between_list_and_get_is_retried_then_a_file_finding_never_staged_half(
        bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_df_fixture(tmp_path / "src")
    _upload(bucket, src, "p/")
    s3 = boto3.client("s3")
    spend = (src / "spend_x.csv").read_bytes()
    reab = (src / "reablement_x.csv").read_bytes()
    listed = sources.list_source

    def list_then_change(source: str) -> list[sources.SourceObject]:
        objects = listed(source)
        # after the listing: the spend object is cut short, the reablement one rewritten at the same size
        s3.put_object(Bucket=bucket, Key="p/spend_x.csv", Body=spend[: len(spend) // 2])
        s3.put_object(Bucket=bucket, Key="p/reablement_x.csv", Body=reab.replace(b"home_", b"HOME_"))
        s3.delete_object(Bucket=bucket, Key="p/discharges_rgn.xlsx")  # and one is gone: GET fails
        return objects

    monkeypatch.setattr("bcf.flows.ingest.list_source", list_then_change)
    monkeypatch.setattr(sources, "FETCH_DELAYS", (0.1, 0.1))
    data, out = tmp_path / "data", tmp_path / "out"
    state = fortnightly_flow(source=f"s3://{bucket}/p/", hwb=HWB, period_end=PERIOD_END, out_dir=str(out),
                             data_dir=str(data), return_state=True)
    outcome = state.result(raise_on_failure=False)
    problems = {(f.file, f.rule) for f in outcome.blocking if f.row is None}
    assert problems == {("spend_x.csv", "file.incomplete"), ("reablement_x.csv", "file.incomplete"),
                        ("discharges_rgn.xlsx", "file.fetch_failed")}
    messages = {f.file: f.message for f in outcome.blocking}
    assert f"listed as {len(spend):,} bytes but {len(spend) // 2:,} bytes arrived" in messages["spend_x.csv"]
    assert "after 3 attempts" in messages["spend_x.csv"]
    assert "do not match the listed checksum" in messages["reablement_x.csv"]
    assert "NoSuchKey" in messages["discharges_rgn.xlsx"]
    assert outcome.status == "blocked"
    with db.connect(warehouse_path(data), read_only=True) as con:
        # the other files went on; nothing of the three was staged or landed
        assert con.execute("SELECT list(file_name ORDER BY file_name) FROM files").fetchone() == (
            ["discharges_rwe.csv", "plan_x.xlsx"],)
        assert con.execute("SELECT count(*) FROM stg_spend").fetchone() == (0,)
    landed = _files_under(data / "landing")
    assert len(landed) == 2 and not [p for p in landed if p.name.startswith(".incoming")]


def test_a_failed_list_is_a_clear_one_line_error(s3_endpoint: str) -> None:
    with pytest.raises(sources.SourceUnavailable) as caught:
        sources.list_source("s3://no-such-bucket-here/x/")
    assert str(caught.value).startswith("cannot list s3://no-such-bucket-here/x/: NoSuchBucket")


# ---- 7. An empty source ---------------------------------------------------------------------------------------

def test_an_empty_source_exits_1_with_a_finding_and_writes_no_return(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an extract")
    out = tmp_path / "out"
    code, console = _run(capfd, "run", "fortnightly", "--source", str(empty), "--hwb", HWB, "--period-end",
                         PERIOD_END, "--out", str(out), "--data-dir", str(tmp_path / "data"))
    assert code == 1
    assert "BLOCKED" in console and "source.empty in" in console and "The source holds no extract files" in console
    assert "plan.missing" not in console  # one cause said once: an empty source has no plan either
    assert not list(out.glob("*.xlsx"))
    with open(next(out.glob("*.blocked-findings.csv")), encoding="utf-8") as fh:
        assert [r["rule"] for r in csv.DictReader(fh) if r["severity"] == "error"] == ["source.empty"]
    with db.connect(warehouse_path(tmp_path / "data"), read_only=True) as con:
        assert con.execute("SELECT outcome FROM runs").fetchall() == [("blocked",)]
    code, console = _run(capfd, "ingest", "--source", str(empty), "--data-dir", str(tmp_path / "data2"))
    assert code == 1

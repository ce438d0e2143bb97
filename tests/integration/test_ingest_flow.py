"""The ingest flow through Prefect, from a local folder and from S3 (moto's server, real HTTP, real boto3)."""

from __future__ import annotations

from pathlib import Path

import boto3

from bcf.flows.ingest import ingest_flow
from bcf.warehouse import db
from bcf.warehouse.paths import warehouse_path


def _counts(data_dir: Path) -> dict[str, int]:
    with db.connect(warehouse_path(data_dir), read_only=True) as con:
        return {t: int(con.execute(f"SELECT count(*) FROM cur_{t}").fetchone()[0])  # type: ignore[index]
                for t in ("discharges", "reablement", "spend", "plan_schemes")}


def test_flow_ingests_a_local_folder_and_records_the_run(small_extracts: Path, tmp_path: Path) -> None:
    report = ingest_flow(source=str(small_extracts), data_dir=str(tmp_path))
    assert len(report.files) == 7 and all(f.outcome == "new" for f in report.files)
    assert all(v > 0 for v in _counts(tmp_path).values())
    with db.connect(warehouse_path(tmp_path), read_only=True) as con:
        runs = con.execute("SELECT flow, outcome, pseudonym_key, prefect_flow_run_id FROM runs").fetchall()
    assert runs == [("ingest-extracts", "done", "development", report.run_id)]


def test_s3_round_trip_lands_the_same_rows_as_the_folder(
        small_extracts: Path, tmp_path: Path, s3_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    s3.create_bucket(Bucket="bcf-extracts", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_bucket_versioning(Bucket="bcf-extracts", VersioningConfiguration={"Status": "Enabled"})
    for path in small_extracts.iterdir():
        s3.upload_file(str(path), "bcf-extracts", f"rutland/2022-23/{path.name}")
    s3.put_object(Bucket="bcf-extracts", Key="rutland/2022-23/nested/ignored.csv", Body=b"x")

    from_s3 = tmp_path / "s3"
    report = ingest_flow(source="s3://bcf-extracts/rutland/2022-23/", data_dir=str(from_s3))
    assert sorted(f.name for f in report.files) == sorted(p.name for p in small_extracts.iterdir())
    from_folder = tmp_path / "folder"
    ingest_flow(source=str(small_extracts), data_dir=str(from_folder))
    assert _counts(from_s3) == _counts(from_folder)

    with db.connect(warehouse_path(from_s3), read_only=True) as con:
        manifest = con.execute("SELECT origin_uri, s3_etag, s3_version_id, size_bytes FROM files").fetchall()
    assert all(uri.startswith("s3://bcf-extracts/rutland/2022-23/") for uri, *_ in manifest)
    assert all(etag and version for _, etag, version, _ in manifest)

    # the same objects again: nothing new
    again = ingest_flow(source="s3://bcf-extracts/rutland/2022-23/", data_dir=str(from_s3))
    assert {f.outcome for f in again.files} == {"already_received"}
    assert _counts(from_s3) == _counts(from_folder)

"""S3 has one home, core/s3.py: the client (region, retries, timeouts) and the reading of an s3:// URI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcf.core import s3

ROOT = Path(__file__).resolve().parents[2]


def test_a_uri_is_split_literally() -> None:
    assert s3.split("s3://bucket/rut#land?/spend #1?x=2%20.csv") == ("bucket", "rut#land?/spend #1?x=2%20.csv")
    assert s3.split("s3://bucket") == ("bucket", "")
    assert [s3.split_folder(u) for u in ("s3://b", "s3://b/", "s3://b/in", "s3://b/in/")] == [
        ("b", ""), ("b", ""), ("b", "in/"), ("b", "in/")]
    assert s3.is_s3("s3://b/x") and not s3.is_s3("/srv/s3://b")


def test_the_client_has_the_region_retries_and_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    transfer, probe = s3.client(), s3.client(probe=True)
    assert transfer.meta.region_name == probe.meta.region_name == "eu-west-2"
    assert transfer.meta.endpoint_url == probe.meta.endpoint_url == "http://127.0.0.1:9"
    assert (transfer.meta.config.retries["total_max_attempts"], transfer.meta.config.connect_timeout) == (5, 10)
    assert (probe.meta.config.retries["total_max_attempts"], probe.meta.config.connect_timeout) == (3, 5)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert s3.client().meta.region_name == "eu-west-1"


def test_no_other_module_makes_an_s3_client() -> None:
    makers = ("boto3.client(", ".client(\"s3\"", "Session().client(", "import boto3")
    found = [str(p.relative_to(ROOT)) for layer in ("core", "transforms", "warehouse", "bcf", "flows")
             for p in sorted((ROOT / layer).rglob("*.py"))
             if p != ROOT / "core" / "s3.py" and any(m in p.read_text(encoding="utf-8") for m in makers)]
    assert found == []

"""The one S3 client and the one reading of an s3:// URI: the source listed and fetched (bcf.ingest.sources), the
check before a run (bcf.cli.preflight) and the submission outbox (bcf.submission.deliver).

S3 is reached with boto3 and the standard AWS settings, which boto3 reads itself: the credentials chain and
AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) for an S3-compatible store. The region is AWS_REGION or
AWS_DEFAULT_REGION, else eu-west-2, so a bare endpoint works.
"""

from __future__ import annotations

import os
from typing import Any

PREFIX = "s3://"
DEFAULT_REGION = "eu-west-2"
# A transfer: five attempts in all with standard backoff (what boto3's legacy default gave), a connection within 10 s.
RETRIES = {"total_max_attempts": 5, "mode": "standard"}
CONNECT_TIMEOUT, READ_TIMEOUT = 10, 60
# A check before a run must answer soon: three attempts in all, short timeouts.
PROBE_RETRIES = {"total_max_attempts": 3, "mode": "standard"}
PROBE_CONNECT_TIMEOUT, PROBE_READ_TIMEOUT = 5, 20


def is_s3(uri: str) -> bool:
    return uri.startswith(PREFIX)


def split(uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key), taken literally: a key may hold '#', '?' or '%', which a URL parser would
    read as a fragment, a query or an escape."""
    bucket, _, key = uri[len(PREFIX):].partition("/")
    return bucket, key


def split_folder(uri: str) -> tuple[str, str]:
    """s3://bucket/folder -> (bucket, "folder/"): the prefix of the objects directly in it ("" for the bucket)."""
    bucket, prefix = split(uri)
    return bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def client(probe: bool = False) -> Any:
    """An S3 client. `probe`: for a check that must answer soon, from a fresh session, so it sees the credentials
    chain as it is now (boto3's default session caches what it found first). Otherwise the default session's: a
    fresh session costs ~0.25 s, and a source's objects are fetched with one client each."""
    import boto3
    from botocore.config import Config

    if probe:
        config = Config(retries=PROBE_RETRIES, connect_timeout=PROBE_CONNECT_TIMEOUT, read_timeout=PROBE_READ_TIMEOUT)
        return boto3.session.Session().client("s3", region_name=region(), config=config)
    config = Config(retries=RETRIES, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)
    return boto3.client("s3", region_name=region(), config=config)

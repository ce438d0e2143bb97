"""Where extracts come from (a local folder or an S3 prefix) and the immutable landing area they are copied into.

S3 is reached with boto3 and the standard AWS settings: the credentials chain, AWS_REGION, and
AWS_ENDPOINT_URL_S3 for an S3-compatible store. DuckDB never reads S3 itself (no httpfs here): we fetch, then load.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from bcf.settings import settings

EXTENSIONS = (".csv", ".xlsx")


@dataclass(frozen=True)
class SourceObject:
    uri: str  # file:///abs/path or s3://bucket/key
    name: str  # the file name as the supplier named it
    kind: str | None  # discharges, reablement, spend, plan; None when the name says nothing we know
    size: int
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class Landed:
    sha256: str
    path: Path
    size: int
    etag: str | None
    version_id: str | None


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if not lower.endswith(EXTENSIONS):
        return None
    return next((k for k in settings()["pipeline"]["kinds"] if lower.startswith(k)), None)


def staging_key(obj: SourceObject) -> tuple[bool, str]:
    """Stage the plan first, then by name: ledger rows are checked against the schemes of the plan in force."""
    return (obj.kind != "plan", obj.name)


def is_s3(source: str) -> bool:
    return source.startswith("s3://")


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def s3_client():  # type: ignore[no-untyped-def]
    import boto3

    # boto3 reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL itself; region defaults so a bare endpoint works.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-2"
    return boto3.client("s3", region_name=region)


def list_source(source: str) -> list[SourceObject]:
    """Every file directly under the folder or prefix, in name order (so a run is repeatable)."""
    if is_s3(source):
        bucket, prefix = _split_s3(source if source.endswith("/") else source + "/")
        client = s3_client()
        objects = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                name = key[len(prefix):]
                if not name or "/" in name:
                    continue
                objects.append(SourceObject(f"s3://{bucket}/{key}", name, kind_of(name), int(item["Size"]),
                                            etag=item.get("ETag", "").strip('"') or None))
        return sorted(objects, key=lambda o: o.name)
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"Source folder {folder} does not exist")
    return [
        SourceObject(p.resolve().as_uri(), p.name, kind_of(p.name), p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith((".", "~$"))
    ]


def land(obj: SourceObject, landing_dir: Path) -> Landed:
    """Copy the object once into landing/<sha[:2]>/<sha><ext>, read-only; an existing copy is kept as it is."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    etag, version_id = obj.etag, obj.version_id
    with tempfile.NamedTemporaryFile(dir=landing_dir, prefix=".incoming-", delete=False) as tmp:
        try:
            if obj.uri.startswith("s3://"):
                bucket, key = _split_s3(obj.uri)
                response = s3_client().get_object(Bucket=bucket, Key=key)
                etag = response.get("ETag", "").strip('"') or etag
                version_id = response.get("VersionId") or version_id
                body = response["Body"]
                chunks = iter(lambda: body.read(1 << 20), b"")
            else:
                handle = open(Path(urlparse(obj.uri).path), "rb")  # noqa: SIM115 - closed below
                chunks = iter(lambda: handle.read(1 << 20), b"")
            for chunk in chunks:
                digest.update(chunk)
                tmp.write(chunk)
                size += len(chunk)
            if not obj.uri.startswith("s3://"):
                handle.close()
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
    sha = digest.hexdigest()
    target = landing_dir / sha[:2] / f"{sha}{Path(obj.name).suffix.lower()}"
    if target.exists():
        Path(tmp.name).unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp.name, 0o444)
        os.replace(tmp.name, target)
    return Landed(sha, target, size, etag, None if version_id in (None, "null") else version_id)

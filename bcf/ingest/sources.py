"""Where extracts come from (a local folder or an S3 prefix) and the immutable landing area they are copied into.

S3 is reached through core.s3 (the standard AWS settings: the credentials chain, AWS_REGION, AWS_ENDPOINT_URL_S3
for an S3-compatible store). DuckDB never reads S3 itself (no httpfs here): we fetch, then load.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bcf.core import s3
from bcf.core.settings import settings
from bcf.transforms.nhs_number import looks_like, mask_text, token_text
from bcf.warehouse import db

EXTENSIONS = (".csv", ".xlsx")
# Attempts at fetching one S3 object whose GET fails or whose body does not match the listing, and the pauses
# between them (seconds). A module constant so a test can shorten the pauses.
FETCH_DELAYS: tuple[float, ...] = (1.0, 5.0)


class FetchFailed(Exception):
    """An object that could not be read whole: a file finding (rule, message); the other files go on."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


class SourceUnavailable(FileNotFoundError):
    """The source itself cannot be listed (after retries): nothing can be read from it."""


@dataclass(frozen=True)
class SourceObject:
    uri: str  # file:///abs/path or s3://bucket/key, for the record only: never parsed back (names hold # ? % =)
    name: str  # the file name as the supplier named it
    kind: str | None  # discharges, reablement, spend, plan; None when the name says nothing we know
    size: int
    etag: str | None = None
    version_id: str | None = None
    path: str | None = None  # a local file's path as found on disk
    bucket: str | None = None  # an S3 object's bucket and key as listed
    key: str | None = None
    # Why a local entry named like an extract cannot be read (a folder, a FIFO, a link out of the source or to
    # nothing): landing it raises FetchFailed with this, so it is a file finding, never silently skipped.
    problem: str | None = None


@dataclass(frozen=True)
class Landed:
    sha256: str
    path: Path
    size: int
    etag: str | None
    version_id: str | None
    # A file is received when it is landed. Files land in staging order, so this orders a source's files as the
    # staging order does even when they are staged (committed) in another order (bcf.ingest.worker), and so which copy
    # of a repeated key is the first stays the same (warehouse/sql/checks/check_duplicate_keys.sql).
    received_at: dt.datetime = field(default_factory=db.now)


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if not lower.endswith(EXTENSIONS):
        return None
    return next((k for k in settings()["pipeline"]["kinds"] if lower.startswith(k)), None)


def staging_key(obj: SourceObject) -> tuple[bool, str]:
    """Stage the plan first, then by name: ledger rows are checked against the schemes of the plan in force."""
    return (obj.kind != "plan", obj.name)


def list_source(source: str) -> list[SourceObject]:
    """Every file directly under the folder or prefix, in name order (so a run is repeatable)."""
    if s3.is_s3(source):
        bucket, prefix = s3.split_folder(source)
        client = s3.client()
        objects = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    name = key[len(prefix):]
                    if not name or "/" in name:
                        continue
                    objects.append(SourceObject(f"s3://{bucket}/{key}", name, kind_of(name), int(item["Size"]),
                                                etag=item.get("ETag", "").strip('"') or None, bucket=bucket, key=key))
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError...
            raise SourceUnavailable(mask_text(f"cannot list {source}: {_reason(exc)}")) from exc
        return sorted(map(_tokened, objects), key=lambda o: o.name)
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(mask_text(f"Source folder {folder} does not exist"))
    return [_tokened(_local_object(folder.resolve(), p)) for p in sorted(folder.iterdir())
            if not p.name.startswith((".", "~$")) and (kind_of(p.name) is not None or p.is_file())]


def _tokened(obj: SourceObject) -> SourceObject:
    """An NHS-number-like value in a file name or an S3 key is a token in the name and the URI the warehouse, the
    manifest, the findings and the logs see (nhs_number.token_text); `path`, `bucket` and `key` keep the real
    name for fetching only."""
    if not (looks_like(obj.name) or looks_like(obj.uri)):
        return obj
    from bcf.core.settings import pseudonym_key

    key, _ = pseudonym_key()
    return replace(obj, name=token_text(obj.name, key), uri=token_text(obj.uri, key))


def _local_object(folder: Path, p: Path) -> SourceObject:
    """A local entry as a SourceObject. A link is followed only to a regular file inside the source: a link out of
    it (to /etc/passwd, say) is never read, and its target is not named in the finding. Anything else named like an
    extract (a folder, a FIFO, a socket, a dangling link) carries its problem, for a file finding."""
    own = folder / p.name  # the entry itself, not its target: the record never names what a link points to
    target = p.resolve()
    problem = None
    if p.is_symlink() and not target.is_relative_to(folder):
        problem = "This is a link to a file outside the source folder: it was not read. Put the file itself there."
    elif p.is_symlink() and not target.exists():
        problem = "This is a link to nothing (its target does not exist): it was not read."
    elif not target.is_file():
        what = "a folder" if target.is_dir() else "not a regular file (a pipe, a socket or a device)"
        problem = f"This is {what}: it was not read. Put the extract itself in the source folder."
    if problem is not None:
        return SourceObject(own.as_uri(), p.name, kind_of(p.name), 0, path=str(own), problem=problem)
    return SourceObject(target.as_uri(), p.name, kind_of(p.name), target.stat().st_size, path=str(target))


def _reason(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        error = response["Error"]
        return f"{error.get('Code', '')} {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _local_path(obj: SourceObject) -> Path:
    if obj.path is not None:
        return Path(obj.path)
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(obj.uri).path))  # an object made by hand from a file:// URI


def _fetch_local(obj: SourceObject, sink) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    if obj.problem is not None:
        raise FetchFailed("file.not_a_file", obj.problem)
    try:
        # O_NOFOLLOW: a file swapped for a link after the listing is refused, not followed; O_NONBLOCK: a FIFO put
        # there since is not waited on (the regular-file check below refuses it)
        fd = os.open(_local_path(obj), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            if stat.S_ISDIR(mode):  # what open() says of a folder
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            raise FetchFailed("file.not_a_file", "This is not a regular file: it was not read.")
        with open(fd, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sink(chunk)
    except OSError as exc:
        raise FetchFailed("file.unreadable", f"The file cannot be read ({exc.strerror or exc}): check that it "
                          "exists and that the pipeline may read it, then re-run.") from exc
    return obj.etag, obj.version_id


def _fetch_s3_once(obj: SourceObject, sink) -> tuple[str | None, str | None, int, str, str | None]:  # type: ignore[no-untyped-def]
    bucket, key = (obj.bucket, obj.key) if obj.bucket and obj.key else s3.split(obj.uri)
    response = s3.client().get_object(Bucket=bucket, Key=key)
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    for chunk in iter(lambda: response["Body"].read(1 << 20), b""):
        md5.update(chunk)
        size += len(chunk)
        sink(chunk)
    etag = response.get("ETag", "").strip('"') or None
    return etag, response.get("VersionId"), size, md5.hexdigest(), response.get("ServerSideEncryption")


def _verify(obj: SourceObject, etag: str | None, size: int, md5: str, encryption: str | None) -> str | None:
    """Why the body fetched is not the object listed, or None. A single-part ETag (no '-') is the body's MD5,
    except under KMS encryption."""
    if size != obj.size:
        return f"listed as {obj.size:,} bytes but {size:,} bytes arrived"
    expected = obj.etag or etag
    if expected and "-" not in expected and encryption != "aws:kms" and md5 != expected:
        return f"the bytes received do not match the listed checksum (ETag {expected}, received MD5 {md5})"
    return None


def land(obj: SourceObject, landing_dir: Path) -> Landed:
    """Copy the object once into landing/<sha[:2]>/<sha><ext>, read-only; an existing copy is kept as it is.

    An S3 object is fetched whole and checked against its listing (size, and MD5 where the ETag is one); a failed
    GET or a body that does not match is retried, then raised as FetchFailed, never landed half."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    if not s3.is_s3(obj.uri):
        return _land_attempt(obj, landing_dir, lambda sink: (*_fetch_local(obj, sink), None))
    problem = ""
    for attempt, pause in enumerate((*FETCH_DELAYS, None), start=1):
        try:
            return _land_attempt(obj, landing_dir, lambda sink: _fetch_s3_checked(obj, sink))
        except _Mismatch as exc:
            problem = str(exc)
            rule = "file.incomplete"
        except Exception as exc:  # botocore and connection errors: retried like a mismatch
            problem = f"the download failed: {_reason(exc)}"
            rule = "file.fetch_failed"
        if pause is None:
            raise FetchFailed(rule, mask_text(f"{obj.uri} could not be fetched whole after {attempt} attempts "
                                              f"({problem}). Nothing of it was staged; re-run once the object is "
                                              "complete."))
        time.sleep(pause)
    raise AssertionError("unreachable")


class _Mismatch(Exception):
    pass


def _fetch_s3_checked(obj: SourceObject, sink) -> tuple[str | None, str | None, None]:  # type: ignore[no-untyped-def]
    etag, version_id, size, md5, encryption = _fetch_s3_once(obj, sink)
    problem = _verify(obj, etag, size, md5, encryption)
    if problem:
        raise _Mismatch(problem)
    return etag, version_id, None


def _land_attempt(obj: SourceObject, landing_dir: Path, fetch) -> Landed:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=landing_dir, prefix=".incoming-", delete=False) as tmp:
        def sink(chunk: bytes) -> None:
            nonlocal size
            digest.update(chunk)
            tmp.write(chunk)
            size += len(chunk)
        try:
            etag, version_id, _ = fetch(sink)
        except BaseException:
            tmp.close()
            Path(tmp.name).unlink(missing_ok=True)
            raise
        etag = etag or obj.etag
        version_id = version_id or obj.version_id
    sha = digest.hexdigest()
    target = landing_dir / sha[:2] / f"{sha}{Path(obj.name).suffix.lower()}"
    if target.exists():
        Path(tmp.name).unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp.name, 0o444)
        os.replace(tmp.name, target)
    return Landed(sha, target, size, etag, None if version_id in (None, "null") else version_id)

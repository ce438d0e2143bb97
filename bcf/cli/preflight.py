"""Checks made before a command runs (the HWB code, the folders, the workbooks, the source, the settings), and
the usage error they raise."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bcf.core import s3


class UsageError(Exception):
    pass


def _data_dir(args: argparse.Namespace) -> Path:
    from bcf.core.settings import data_dir

    return data_dir(args.data_dir)


def _check_hwb(code: str) -> None:
    from bcf.core.settings import hwb_reference

    if code not in hwb_reference():
        raise UsageError(f"HWB code {code} is not in config/hwb.csv")


def _check_dir(path: Path, flag: str) -> None:
    """--out / --data-dir: a folder (or one that can be made), never an existing file."""
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise UsageError(f"{flag} {path}: {p} is a file, not a folder")
            return


def _check_xlsx(path: Path, what: str) -> None:
    import zipfile

    if not path.is_file():
        raise UsageError(f"{what} not found: {path}")
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{what} {path} is not an XLSX workbook (not a zip package)")
    try:
        from openpyxl import load_workbook

        load_workbook(path, read_only=True).close()
    except Exception as exc:  # openpyxl raises many kinds for a broken package: all mean "not XLSX"
        raise UsageError(f"{what} {path} is not an XLSX workbook ({type(exc).__name__})") from exc


def _check_source(source: str) -> None:
    """The source exists and, on S3, the bucket answers with the credentials we have (one LIST, few retries)."""
    if not s3.is_s3(source):
        if not Path(source).is_dir():
            raise UsageError(f"source folder {source} does not exist" if not Path(source).exists()
                             else f"source {source} is not a folder")
        return
    bucket, prefix = s3.split_folder(source)
    if not bucket:
        raise UsageError(f"no bucket in {source} (expected s3://bucket/prefix/)")
    client = s3.client(probe=True)
    try:
        client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except Exception as exc:
        message = _config_error(exc, bucket)
        if message is None:
            raise
        raise UsageError(message) from exc


def _config_error(exc: BaseException, bucket: str = "") -> str | None:
    """One line for a known configuration failure (S3 reach and rights, the warehouse held by another program)."""
    from bcf.ingest.worker import WorkerFailed

    if isinstance(exc, WorkerFailed):  # killed, or out of memory: its traceback, if any, is in the run's log
        return f"{str(exc).splitlines()[0].rstrip(':')}; nothing of that file was staged, re-run"
    try:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, ParamValidationError):  # botocore's check before any request: an invalid bucket name, say
        if "Invalid bucket name" in str(exc):
            return (f"invalid S3 bucket name {bucket or ''}: a bucket name is 3-63 lower-case letters, digits, dots "
                    "and hyphens").replace("name :", "name:")
        return f"invalid S3 request: {str(exc).splitlines()[-1][:200]}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ("no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                "or run with an instance role")
    if isinstance(exc, EndpointConnectionError):
        from urllib.parse import urlparse

        url = urlparse(str(exc.kwargs.get("endpoint_url", "")))
        return f"cannot reach the S3 endpoint {url.scheme}://{url.netloc} (check AWS_ENDPOINT_URL_S3)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, bucket = error.get("Code", ""), error.get("BucketName") or bucket
        if code == "NoSuchBucket":
            return f"S3 bucket {bucket} does not exist" if bucket else "the S3 bucket does not exist"
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            return f"S3 refused access ({code}): check the credentials and the bucket policy"
        return f"S3 error {code}: {error.get('Message', '')}".strip()
    import duckdb

    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        return f"the warehouse is open in another program: {str(exc).splitlines()[0]}"
    return None


def _preflight(args: argparse.Namespace) -> None:
    """Configuration checked before any flow starts, so a mistake is one line (exit 2), not a Prefect traceback."""
    from bcf.core.settings import PseudonymKeyError, pseudonym_key, settings

    allow = settings()["pseudonymisation"]["allow_env_var"]
    if getattr(args, "allow_development_key", False):
        os.environ[allow] = "1"  # also for serve's flow-run subprocesses
    command = args.command
    if getattr(args, "repseudonymise", False):
        os.environ.update(BCF_REPSEUDONYMISE="1")  # read where the run holds the data dir's lock (ingest/keyprint.py)
    if command in ("ingest", "validate", "run", "backfill", "serve"):
        try:
            key, _ = pseudonym_key()
        except PseudonymKeyError as exc:
            raise UsageError(str(exc)) from exc
        if command != "validate" and not getattr(args, "repseudonymise", False):
            from bcf.ingest.keyprint import mismatch

            problem = mismatch(_data_dir(args), key)
            if problem is not None:
                raise UsageError(problem)
    if command in ("ingest", "run", "backfill", "serve", "demo", "generate") and getattr(args, "out", None):
        _check_dir(Path(args.out), "--out")
    if hasattr(args, "data_dir") and command != "generate":
        _check_dir(_data_dir(args), "--data-dir" if args.data_dir else "BCF_DATA_DIR")
    if getattr(args, "source", None):
        _check_source(args.source)
    if command in ("backfill", "generate") and args.date_from > args.date_to:
        raise UsageError(f"--from {args.date_from} is after --to {args.date_to}")
    if command == "generate" and args.scale < 1:
        raise UsageError(f"--scale {args.scale}: the number of discharges per year must be 1 or more")
    from bcf.core.dates import Fortnight, Quarter

    for flag in ("period_end", "date_from", "date_to"):
        when = getattr(args, flag, None)
        if when is not None and command != "generate":
            try:
                Fortnight.ending(when)
            except (ValueError, OverflowError) as exc:
                raise UsageError(f"--{flag.replace('_', '-').replace('date-', '')} {when}: out of range "
                                 f"(the fortnight or its financial year falls outside the calendar: {exc})") from exc
    if getattr(args, "quarter", None):
        try:
            Quarter.parse(args.quarter)
        except (ValueError, OverflowError) as exc:
            raise UsageError(str(exc)) from exc
    if getattr(args, "template", None):
        _check_xlsx(Path(args.template), "template")
    if getattr(args, "cell_map", None) and not Path(args.cell_map).is_file():
        raise UsageError(f"cell map not found: {args.cell_map}")
    if command == "cellmap":
        _check_xlsx(Path(args.workbook), "workbook")
    from bcf.core.runlock import lock_timeout

    try:
        lock_timeout()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc

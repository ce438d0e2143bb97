"""A warehouse rebuilt from the landed copies an audit pack's manifest names: what `bcf reproduce` and `bcf why` both
stand on. Every input is staged again, in staging order, on the run's date, with the pseudonym key the run recorded
(the development key needs no further leave when the run used it)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from bcf.core.settings import pseudonym_key
from bcf.ingest.sources import Landed, SourceObject, staging_key
from bcf.ingest.stage_file import stage_file
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db


def landed_input(item: dict[str, Any], sha256: str) -> tuple[SourceObject, Landed]:
    """One of the manifest's inputs as the source object and landed copy staging takes."""
    return (SourceObject(item["origin_uri"], item["file_name"], item["kind"], item["size_bytes"]),
            Landed(sha256, Path(item["landed_path"]), item["size_bytes"], item["s3_etag"], item["s3_version_id"]))


@contextmanager
def rebuilt_warehouse(manifest: dict[str, Any], inputs: list[tuple[SourceObject, Landed]], run_id: str,
                      prefix: str) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A temporary warehouse holding `inputs` staged as the manifest's run staged them, and its folder."""
    run_date = dt.datetime.fromisoformat(manifest["run"]["started_at"]).date()
    key, _ = pseudonym_key(manifest["run"].get("pseudonym_key"))
    validator = RowValidator()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, db.connect(Path(tmp) / "wh.duckdb") as con:
        for obj, landed in sorted(inputs, key=lambda pair: staging_key(pair[0])):
            stage_file(con, obj, landed, run_id, key, validator, run_date)
        yield con, Path(tmp)

"""A data dir remembers which pseudonym key its warehouse was staged with: a keyed hash of the key (its fingerprint),
never the key. Person keys, key tokens and row hashes are all keyed, so rows staged with another key no longer link
to the earlier ones (a changed key turned 2 linkage warnings into 1,809): a run with another key is refused (exit 2)
unless the officer says the key changed on purpose (`--repseudonymise`), and then every file in force is staged
again, from its landed copy, with the new key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from bcf.core.settings import PseudonymKeyError, env
from bcf.warehouse import db

FINGERPRINT_FILE = "pseudonym_key.json"


def fingerprint(key: bytes) -> str:
    """Keyed: whoever reads the file learns nothing about the key, and cannot test a guess without the key itself
    being the guess (the same cost as testing it against a person key)."""
    folded = hashlib.sha256(key).digest()
    return hashlib.blake2b(b"bcf data dir", key=folded, person=b"bcf-keyprint", digest_size=16).hexdigest()


def recorded(data_dir: Path) -> str | None:
    path = data_dir / FINGERPRINT_FILE
    if not path.exists():
        return None
    return str(json.loads(path.read_text(encoding="utf-8"))["fingerprint"])


def mismatch(data_dir: Path, key: bytes) -> str | None:
    """Why the data dir refuses this key, or None."""
    known = recorded(data_dir)
    if known is None or known == fingerprint(key):
        return None
    return (f"the data dir {data_dir} was pseudonymised with another key (fingerprint {known[:12]}, this key's "
            f"{fingerprint(key)[:12]}): its people would no longer link. Set the key it was staged with, or, if the "
            "key was changed on purpose, run once with --repseudonymise to stage every file in force again with "
            "the new key")


def check(data_dir: Path, key: bytes, development: bool) -> None:
    """Before a run touches the warehouse (the caller holds the run lock): the same key as before, or a first run
    (the key is remembered), or --repseudonymise (every file in force staged again); else PseudonymKeyError."""
    problem = mismatch(data_dir, key)
    if problem is not None:
        if not env().repseudonymise:
            raise PseudonymKeyError(problem)
        restage(data_dir, key)
    if problem is not None or recorded(data_dir) is None:
        _remember(data_dir, key, development)


def _remember(data_dir: Path, key: bytes, development: bool) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FINGERPRINT_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"fingerprint": fingerprint(key), "kind": "development" if development else "configured",
                               "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)  # atomic: a run killed here leaves the old fingerprint or the new, never half of one


def restage(data_dir: Path, key: bytes) -> None:
    """The warehouse staged with the old key is kept beside the new one (warehouse.before-repseudonymise-*.duckdb,
    with its run ledger); the new one stages every file that was in force from its landed copy, in staging order."""
    from bcf.ingest.sources import Landed, SourceObject, staging_key
    from bcf.ingest.stage_file import stage_file
    from bcf.transforms.validate import RowValidator
    from bcf.warehouse.paths import warehouse_path

    current = warehouse_path(data_dir)
    if not current.exists():
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = current.with_name(f"warehouse.before-repseudonymise-{stamp}.duckdb")
    os.replace(current, kept)
    wal = current.with_name(current.name + ".wal")
    if wal.exists():
        os.replace(wal, kept.with_name(kept.name + ".wal"))
    with db.connect(kept, read_only=True) as old:
        rows = old.execute("SELECT file_id, kind, file_name, origin_uri, size_bytes, landed_path, s3_etag, "
                           "s3_version_id FROM files WHERE status IN ('loaded', 'rejected') "
                           "ORDER BY received_at").fetchall()
    objects = [(SourceObject(r[3], r[2], r[1], int(r[4])), Landed(r[0], Path(r[5]), int(r[4]), r[6], r[7]))
               for r in rows if Path(r[5]).exists()]
    validator = RowValidator()
    with db.connect(current) as con:
        for obj, landed in sorted(objects, key=lambda pair: staging_key(pair[0])):
            stage_file(con, obj, landed, f"repseudonymise-{stamp}", key, validator, dt.date.today())

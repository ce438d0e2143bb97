"""The submission register: every sign-off and submission, a row of `submission_register` in the warehouse
(warehouse/sql/register/) and, for the return's own record, `submission.json` in its audit pack.

Writes hold the data dir's run lock (core/runlock.py), as every other writer of the warehouse does: DuckDB allows one
writing process. No patient identifier is in it: a return is named by HWB, kind and period.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import duckdb

from bcf.core.runlock import data_dir_lock
from bcf.returns.pack import jsonable, pack_dir
from bcf.warehouse import db
from bcf.warehouse.paths import warehouse_path


@dataclass
class Entry:
    id: str
    event: str  # signoff | submission
    hwb: str
    return_kind: str
    period: str
    fund_year: str
    workbook: str
    run_id: str
    figures_sha256: str
    file_sha256: str | None = None
    signed_off_by: str | None = None
    signed_off_role: str | None = None
    signed_off_on: dt.date | None = None
    signed_off_at: dt.datetime | None = None
    narrative: str | None = None
    signoff_id: str | None = None
    sent_at: dt.datetime | None = None
    transport: str | None = None
    recipient: str | None = None
    message_id: str | None = None
    replaces: str | None = None
    resend: bool = False
    prefect_flow_run_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: jsonable(v) for k, v in asdict(self).items()}


COLUMNS = [f.name for f in fields(Entry)]


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def now() -> dt.datetime:
    return db.now()  # naive UTC, as every timestamp in the warehouse


@contextmanager
def opened(data_dir: Path, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse under the run lock, with the register table in place."""
    with data_dir_lock(data_dir, f"'{what}'"), db.connect(warehouse_path(data_dir)) as con:
        con.execute(db.sql("register_schema"))
        yield con


def entries(con: duckdb.DuckDBPyConnection, hwb: str | None = None, fund_year: str | None = None) -> list[Entry]:
    rows = con.execute(db.sql("register_list"), {"hwb": hwb, "fund_year": fund_year}).fetchall()
    return [Entry(**dict(zip(COLUMNS, r, strict=True))) for r in rows]


def for_return(con: duckdb.DuckDBPyConnection, hwb: str, kind: str, period: str) -> list[Entry]:
    return [e for e in entries(con, hwb) if e.return_kind == kind and e.period == period]


def add(con: duckdb.DuckDBPyConnection, entry: Entry) -> None:
    con.execute(f"INSERT INTO submission_register ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [getattr(entry, c) for c in COLUMNS])


def write_pack_record(workbook: Path, run_id: str, con: duckdb.DuckDBPyConnection, hwb: str, kind: str,
                      period: str) -> Path | None:
    """`submission.json` in the audit pack of the run that wrote the return: its sign-offs and submissions (the
    register's rows for this return and run), rewritten atomically after each one."""
    pack = pack_dir(workbook)
    if not pack.is_dir():
        return None
    mine = [e.as_json() for e in for_return(con, hwb, kind, period) if e.run_id == run_id]
    path = pack / "submission.json"
    tmp = pack / ".submission.json.tmp"
    tmp.write_text(json.dumps({"return": {"hwb": hwb, "return": kind, "period": period, "run_id": run_id},
                               "register": mine}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path

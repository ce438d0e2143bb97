"""Stage one landed file into the warehouse: read, parse, check, then load every row or record it as rejected.

Rows received = rows loaded + rows rejected, for every file, checked before commit. A file is staged inside one
transaction, so a failure leaves no half-loaded file. Reading, parsing and checking are bcf.ingest.prepare_file's,
imported only when a file is new (it needs pandas): a file received before is recorded as such without them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from bcf.core.settings import contracts, supplier_for
from bcf.ingest.sources import Landed, SourceObject
from bcf.transforms.findings import ERROR, WARNING, Finding
from bcf.warehouse import db

if TYPE_CHECKING:
    import pyarrow as pa

    from bcf.ingest.prepare_file import Fault, Part, PreparedFile, ReadAhead
    from bcf.transforms.validate import RowValidator


@dataclass
class FileResult:
    name: str
    kind: str | None
    file_id: str | None
    outcome: str  # new, superseding, already_received, rejected, ignored
    rows_received: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    findings: list[Finding] = field(default_factory=list)


def ignored(obj: SourceObject) -> FileResult:
    finding = Finding(WARNING, obj.name, None, None, obj.name, "file.unrecognised_name",
                      "File name does not start with discharges, reablement, spend or plan, or is not .csv/.xlsx: "
                      "it was not read.")
    return FileResult(obj.name, None, None, "ignored", findings=[finding])


def not_fetched(obj: SourceObject, rule: str, message: str) -> FileResult:
    """A file that could not be read or fetched whole: a file finding; nothing of it is staged."""
    return FileResult(obj.name, obj.kind, None, "rejected",
                      findings=[Finding(ERROR, obj.name, None, None, None, rule, message)])


def empty_source(source: str) -> FileResult:
    """No extract file at all: an error, never an all-zero return."""
    finding = Finding(ERROR, source, None, None, None, "source.empty",
                      "The source holds no extract files (discharges*, reablement*, spend*, plan* as .csv or .xlsx): "
                      "check the folder or S3 prefix. No return is made from an empty source.")
    return FileResult(source, None, None, "rejected", findings=[finding])


def record_source_findings(con: duckdb.DuckDBPyConnection, run_id: str, results: list[FileResult]) -> None:
    """Findings about files that never landed (file_id NULL), kept under the run so its return is blocked."""
    findings = [f for r in results if r.file_id is None and r.outcome == "rejected" for f in r.findings]
    # a cursor of its own: db.connect leaves its schema check's result open, which a frame registration refuses
    with con.cursor() as cur:
        db.insert_findings(cur, run_id, None, findings)


def rule_parameters(con: duckdb.DuckDBPyConnection, today: dt.date) -> dict[str, object]:
    """Suite parameters that depend on the run: its date. Nothing of another source: a rule that compares a row
    with the plan or other files is a SQL check judged on every run against the files then in force
    (warehouse/sql/checks), so a corrected plan takes effect without the ledger being sent again."""
    return {"today": today}


def stage_file(con: duckdb.DuckDBPyConnection, obj: SourceObject, landed: Landed, run_id: str, key: bytes,
               validator: RowValidator | None = None, today: dt.date | None = None,
               read_ahead: ReadAhead | None = None, prepared: PreparedFile | None = None) -> FileResult:
    """Stage one landed file. With a validator the GX suites run on every table; without, only type checks do.
    `read_ahead`: the file's tables already being read in a background thread (ReadAhead); `prepared`: the file
    already prepared otherwise (read and parsed by the worker, then check_file here), with the rule parameters."""
    kind = obj.kind
    assert kind is not None
    status = db.file_status(con, landed.sha256)
    if status is not None:
        db.insert_delivery(con, run_id, landed.sha256, obj.uri, landed.etag, landed.version_id, "already_received")
        return FileResult(obj.name, kind, landed.sha256, "already_received")

    result = FileResult(obj.name, kind, landed.sha256, "new")
    if prepared is None:
        from bcf.ingest.prepare_file import prepare_file  # a new file: pandas and Arrow are needed from here

        params = rule_parameters(con, today or dt.date.today()) if validator is not None else {}
        prepared = prepare_file(kind, landed.path, obj.name, key, validator, params, read_ahead)
    result.findings.extend(prepared.problems)
    file_fault = bool(prepared.problems)
    # one transaction for the whole file, its rows inserted part by part as they are checked
    con.execute("BEGIN TRANSACTION")
    try:
        for contract, items in prepared.tables:
            staged = _stage_table(con, contract.table, items, landed.sha256)
            result.findings.extend(staged.findings)
            result.rows_loaded += staged.loaded
            result.rows_rejected += staged.rejected
            file_fault = file_fault or (staged.fault and kind != "plan")
        result.rows_received = result.rows_loaded + result.rows_rejected
        superseded = [] if file_fault else db.previous_versions(con, kind, obj.name, landed.sha256)
        if superseded:
            result.outcome = "superseding"
        if file_fault:
            result.outcome = "rejected"
        db.insert_file(con, {
            "file_id": landed.sha256, "kind": kind, "file_name": obj.name,
            "supplier": mapping.supplier if (mapping := supplier_for(kind, obj.name)) else None,
            "origin_uri": obj.uri, "s3_etag": landed.etag, "s3_version_id": landed.version_id,
            "size_bytes": landed.size, "landed_path": str(landed.path), "received_at": landed.received_at,
            "run_id": run_id,
            "status": "rejected" if file_fault else "loaded",
            "rows_received": result.rows_received, "rows_loaded": result.rows_loaded,
            "rows_rejected": result.rows_rejected,
        })
        db.supersede(con, superseded, landed.sha256)
        db.insert_delivery(con, run_id, landed.sha256, obj.uri, landed.etag, landed.version_id, result.outcome)
        db.insert_findings(con, run_id, landed.sha256, result.findings)
        _assert_accounted(con, landed.sha256, result, file_fault)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


@dataclass
class _Staged:
    findings: list[Finding] = field(default_factory=list)
    loaded: int = 0
    rejected: int = 0
    fault: bool = False  # the table cannot be used: every row it had is recorded as rejected


def _stage_table(con: duckdb.DuckDBPyConnection, table: str, items: Iterable[Part | Fault],
                 file_id: str) -> _Staged:
    """Insert one table's rows (loaded or rejected) a part at a time, as each part is prepared."""
    from bcf.ingest.prepare_file import Fault

    staged = _Staged()
    for item in items:
        if isinstance(item, Fault):
            if staged.loaded or staged.rejected:  # parts inserted before the fault are taken back
                con.execute(f"DELETE FROM stg_{table} WHERE file_id = ?", [file_id])
                con.execute("DELETE FROM rejected_rows WHERE file_id = ? AND kind = ?", [file_id, table])
            staged = _Staged([item.finding], fault=True)
            if item.bad is not None:
                db.insert_frame(con, "rejected_rows", _with_file_id(item.bad, file_id))
                staged.rejected = item.bad.num_rows
            break
        staged.findings.extend(item.findings)
        db.insert_frame(con, f"stg_{table}", _with_file_id(item.good, file_id))
        db.insert_frame(con, "rejected_rows", _with_file_id(item.bad, file_id))
        staged.loaded += item.good.num_rows
        staged.rejected += item.bad.num_rows
    return staged


def _with_file_id(rows: pa.Table, file_id: str) -> pa.Table:
    """The rows with the file's id: one dictionary entry, not a copy of it per row."""
    import numpy as np
    import pyarrow as pa

    return rows.append_column("file_id", pa.DictionaryArray.from_arrays(np.zeros(rows.num_rows, dtype=np.int32),
                                                                         [file_id]))


def _assert_accounted(con: duckdb.DuckDBPyConnection, file_id: str, result: FileResult, file_fault: bool) -> None:
    """Nothing lost: what the warehouse now holds for this file adds up to what was received."""
    rejected = con.execute("SELECT count(*) FROM rejected_rows WHERE file_id = ?", [file_id]).fetchone()
    loaded = 0
    if not file_fault:
        for table in {c.table for c in contracts().values()}:
            n = con.execute(f"SELECT count(*) FROM stg_{table} WHERE file_id = ?", [file_id]).fetchone()
            loaded += int(n[0]) if n else 0
    got = loaded + (int(rejected[0]) if rejected else 0)
    if got != result.rows_received or loaded != result.rows_loaded:
        raise RuntimeError(
            f"{result.name}: {result.rows_received} rows received but {loaded} loaded + "
            f"{got - loaded} rejected were written; refusing to commit"
        )

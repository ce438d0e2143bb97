"""The DuckDB warehouse: open it (creating the schema), run the SQL files, and write the manifest and staged rows.

Only one process may open a DuckDB file for writing, so a flow opens it per task and closes it again.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bcf.core.settings import settings, sql_dir
from bcf.transforms.findings import FINDING_COLUMNS, Finding
from bcf.transforms.nhs_number import mask_text
from bcf.warehouse.staging_tables import staging_ddl

if TYPE_CHECKING:  # pandas is imported where frames are built: producing a return does not need it
    import pandas as pd
    import pyarrow as pa


# warehouse/sql/<layer>/<name>.sql, as dbt lays it out
SQL_LAYERS = ("staging", "intermediate", "figures", "checks", "exports", "register")


def sql_path(name: str) -> Path:
    """The SQL file of a model or check, by name: names are unique across the layers."""
    for layer in SQL_LAYERS:
        path = sql_dir() / layer / f"{name}.sql"
        if path.exists():
            return path
    raise FileNotFoundError(f"no SQL file {name}.sql under {sql_dir()} ({', '.join(SQL_LAYERS)})")


def memory_limit() -> str:
    """settings.toml [warehouse] memory_limit, e.g. "1GB" (DuckDB spills to disk beyond it)."""
    return str(settings().get("warehouse", {}).get("memory_limit", "1GB"))


def sql(name: str) -> str:
    return sql_path(name).read_text(encoding="utf-8")


@contextmanager
def connect(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one way to open a warehouse, read-only too: always under the memory cap, else DuckDB may take 80% of the
    machine (a board briefing computing three quarters of 16 million discharges took 10 GB)."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit()})
    try:
        if not read_only:
            _ensure_schema(con)
        yield con
    finally:
        con.close()


class OneThread:
    """DuckDB on one thread while a second process (the ingest worker, bcf.ingest.worker) parses on the other core.
    On two threads each insert of a part writes row groups of its own, the last part-filled (250,000 rows: 122,880 +
    122,880 + 4,240), and the next insert's first makes up the rest; a later checkpoint merges them by rewriting the
    row groups after them (~1.3 s at a run's last close, 1.86M discharges), and the second thread mostly took the
    worker's core. On one thread an insert goes on filling the row group the last one left, so a file's row groups
    come out whole but its last, and the last close takes 0.1 s; 1.86M discharges ~1 s faster (8 of 9 interleaved
    pairs, CPU ~2 s less), 16M 212 -> 201 s (docs/benchmarks.md, tenth pass). A setting of the database, so every
    connection of this process to it; `restore` gives back the threads it had (once the worker is done), as leaving
    does."""

    def __init__(self, path: Path | str) -> None:
        self._opened = connect(path)
        self._con = self._opened.__enter__()
        self._threads: int | None = int(self._con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        self._con.execute("SET threads = 1")

    def restore(self) -> None:
        if self._threads is not None:
            self._con.execute(f"SET threads = {self._threads}")
            self._threads = None

    def __enter__(self) -> OneThread:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            self.restore()
        except duckdb.Error:
            if kind is None:
                raise  # else the error leaving the block says more than this one
        finally:
            self._opened.__exit__(None, None, None)


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the DDL when the warehouse's recorded schema hash differs from the SQL files': connections opened
    concurrently within one process (the ICB fan-out) then do not race to replace the same views. The staging
    tables and views come from the input contract (warehouse.staging_tables), after the rest of the schema."""
    ddl = sql("schema") + "\n" + staging_ddl()
    digest = hashlib.sha256(ddl.encode()).hexdigest()
    try:
        # fetched whole: a result left pending keeps its transaction open as long as the connection (a run holds
        # one), and DuckDB's checkpoints meanwhile skip merging row groups, leaving it all to the last close
        rows = con.execute("SELECT sql_sha256 FROM schema_meta").fetchall()
        row = rows[0] if rows else None
    except duckdb.CatalogException:
        row = None
    if row is not None and row[0] == digest:
        return
    con.execute(ddl)
    con.execute("CREATE TABLE IF NOT EXISTS schema_meta (sql_sha256 VARCHAR)")
    con.execute("DELETE FROM schema_meta")
    con.execute("INSERT INTO schema_meta VALUES (?)", [digest])


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str, parameters: dict[str, Any],
              code_version: str, development_key: bool, prefect_flow_run_id: str | None = None) -> None:
    con.execute(
        "INSERT INTO runs (run_id, flow, started_at, user_name, host, code_version, parameters, pseudonym_key,"
        " prefect_flow_run_id, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')",
        [run_id, flow, now(), getpass.getuser(), socket.gethostname(), code_version,
         # the source may be an S3 prefix or folder named with an NHS number: masked like any recorded text
         json.dumps({k: mask_text(v) if k == "source" and isinstance(v, str) else v for k, v in parameters.items()},
                    default=str), "development" if development_key else "configured",
         prefect_flow_run_id],
    )


def mark_crashed(con: duckdb.DuckDBPyConnection, active: set[str], found_by: str) -> int:
    """Runs still `running` that no live run of this process owns died mid-way (the caller holds the run lock)."""
    rows = con.execute("SELECT run_id FROM runs WHERE outcome = 'running'").fetchall()
    stale = [r[0] for r in rows if r[0] not in active]
    for run_id in stale:
        con.execute("UPDATE runs SET outcome = 'crashed', finished_at = ?, detail = ? WHERE run_id = ?",
                    [now(), f"stopped without finishing (process killed or machine down); found by run {found_by}",
                     run_id])
    return len(stale)


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, detail: str = "") -> None:
    con.execute("UPDATE runs SET finished_at = ?, outcome = ?, detail = ? WHERE run_id = ?",
                [now(), outcome, detail, run_id])


def file_status(con: duckdb.DuckDBPyConnection, file_id: str) -> str | None:
    row = con.execute("SELECT status FROM files WHERE file_id = ?", [file_id]).fetchone()
    return None if row is None else str(row[0])


def previous_versions(con: duckdb.DuckDBPyConnection, kind: str, file_name: str, file_id: str) -> list[str]:
    """Files this one corrects: same kind and name, other content, in force or rejected."""
    rows = con.execute(
        "SELECT file_id FROM files WHERE kind = ? AND file_name = ? AND file_id <> ? "
        "AND status IN ('loaded', 'rejected')",
        [kind, file_name, file_id],
    ).fetchall()
    return [r[0] for r in rows]


def insert_file(con: duckdb.DuckDBPyConnection, record: dict[str, Any]) -> None:
    columns = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(f"INSERT INTO files ({columns}) VALUES ({marks})", list(record.values()))


def supersede(con: duckdb.DuckDBPyConnection, old_ids: list[str], new_id: str) -> None:
    for old in old_ids:
        con.execute("UPDATE files SET status = 'superseded', superseded_by = ? WHERE file_id = ?", [new_id, old])


def insert_delivery(con: duckdb.DuckDBPyConnection, run_id: str, file_id: str, origin_uri: str,
                    etag: str | None, version_id: str | None, outcome: str) -> None:
    con.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?)",
                [run_id, file_id, origin_uri, etag, version_id, now(), outcome])


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> None:
    """Append a typed frame (pandas, or an Arrow table: scanned without a Python object per value) by column
    name; DuckDB casts text to DECIMAL exactly (no float on the way)."""
    if len(frame) == 0:
        return
    con.register("_incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence[Any]],
                columns: Sequence[str] = ()) -> None:
    """Append a few rows of Python values in one statement: executemany runs a statement per row (~0.7 ms each),
    and an Arrow table made of Python values would import pandas (pyarrow does, to look for its types)."""
    if not rows:
        return
    width = len(rows[0])
    assert all(len(row) == width for row in rows), f"rows of different widths for {table}"
    into = f"{table} ({', '.join(columns)})" if columns else table
    one = "(" + ", ".join(["?"] * width) + ")"
    con.execute(f"INSERT INTO {into} VALUES " + ", ".join([one] * len(rows)), [v for row in rows for v in row])


def insert_findings(con: duckdb.DuckDBPyConnection, run_id: str, file_id: str | None,
                    findings: list[Finding]) -> None:
    if not findings:
        return
    import pyarrow as pa

    # column by column (Arrow), not a dict per finding: a source with many bad rows has hundreds of thousands
    columns = {name: [getattr(f, name) for f in findings] for name in FINDING_COLUMNS}
    table = pa.table({"run_id": pa.array([run_id] * len(findings), pa.string()),
                      "file_id": pa.array([file_id] * len(findings), pa.string()),
                      **{name: pa.array(values, pa.int64() if name == "row" else pa.string())
                         for name, values in columns.items()}})
    insert_frame(con, "findings", table)


def query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    return con.execute(sql(name), params or {}).df()


def withdrawals_in_force(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The files withdrawn now, each with its latest withdrawal: what a manifest records."""
    rows = con.execute(
        "SELECT w.file_id, w.file_name, f.kind, w.withdrawn_at, w.by_user, w.reason FROM withdrawals w "
        "JOIN files f USING (file_id) WHERE f.status = 'withdrawn' "
        "QUALIFY row_number() OVER (PARTITION BY w.file_id ORDER BY w.withdrawn_at DESC) = 1 "
        "ORDER BY w.file_name").fetchall()
    return [{"sha256": r[0], "file_name": r[1], "kind": r[2], "withdrawn_at": r[3].isoformat(timespec="seconds"),
             "withdrawn_by": r[4], "reason": r[5]} for r in rows]


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(sql("inputs_fingerprint")).fetchall()  # all: no unfinished result left behind
    return str(rows[0][0]) if rows else ""


def record_return_figures(con: duckdb.DuckDBPyConnection, return_file: str, run_id: str,
                          figures: list[tuple[str, str | None, str]]) -> None:
    """A produced return's figures (figure id, kind, value as the manifest's JSON), kept for the board briefing.
    A few dozen rows, as Python values (insert_rows: no pandas, which a run whose files were all received before
    never imports)."""
    if not figures:
        return
    produced_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # a cursor of its own: the connection may hold an unfinished result
    with con.cursor() as cur:
        inputs = inputs_fingerprint(cur)
        insert_rows(cur, "return_figures", [(return_file, run_id, produced_at, inputs, *f) for f in figures],
                    ("return_file", "run_id", "produced_at", "inputs", "figure_id", "kind", "value_json"))


def recorded_return_figures(con: duckdb.DuckDBPyConnection, return_file: str) -> list[tuple[str, str | None, str]]:
    """The figures of the return last produced from the files now in force; [] if none was."""
    try:
        rows = con.execute(sql("return_figures_recorded"),
                           {"return_file": return_file, "inputs": inputs_fingerprint(con)}).fetchall()
    except duckdb.CatalogException:  # a warehouse made before return_figures, opened read-only
        return []
    return [(str(r[0]), r[1], str(r[2])) for r in rows]

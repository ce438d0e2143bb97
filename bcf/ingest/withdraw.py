"""`bcf withdraw`: take a landed file out of force (a file sent in error), on the record, or put it back (--undo).

Nothing is deleted: the file's rows stay staged and its status becomes `withdrawn`, so it leaves the `cur_*` views,
the blocking findings and the inputs of later runs; the `withdrawals` table and every later manifest say when, by
whom and why. Deleting a file from the source does not do this: a file received stays in force until it is
superseded (a corrected file under the same name) or withdrawn.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bcf.core.runlock import data_dir_lock
from bcf.core.settings import pseudonym_key
from bcf.transforms.nhs_number import token_text
from bcf.warehouse import db
from bcf.warehouse.paths import warehouse_path

IN_FORCE = ("loaded", "rejected")


class WithdrawError(Exception):
    """The file cannot be found, or is not in the state the command needs: a usage error (exit 2)."""


@dataclass(frozen=True)
class Withdrawn:
    file_id: str
    file_name: str
    kind: str
    action: str  # withdrawn | restored
    status: str  # the file's status now
    rows: int
    at: str
    by: str
    reason: str

    def line(self) -> str:
        what = "withdrew" if self.action == "withdrawn" else "put back"
        after = ("later runs leave it out (undo with `bcf withdraw --undo`)" if self.action == "withdrawn"
                 else f"it is in force again ({self.status})")
        return (f"{what} {self.file_name} ({self.kind}, sha256 {self.file_id[:12]}, {self.rows:,} rows) "
                f"at {self.at} by {self.by}: {self.reason}; {after}")


def withdraw(data_dir: Path, what: str, reason: str, by: str | None = None, undo: bool = False) -> Withdrawn:
    """`what`: the path of the file as sent (matched by content), its name as received, or its sha256 (a prefix of
    at least 8 hex digits)."""
    if not reason.strip():
        raise WithdrawError("--reason must say why (it goes on the record)")
    by = by or getpass.getuser()
    path = warehouse_path(data_dir)
    if not path.exists():
        raise WithdrawError(f"no warehouse in {data_dir}: nothing has been received there")
    with data_dir_lock(data_dir, "bcf withdraw"), db.connect(path) as con:
        file_id, name, kind, status, rows = _find(con, what, want="withdrawn" if undo else "in force")
        now = db.now()
        if undo:
            before = con.execute(
                "SELECT status_before FROM withdrawals WHERE file_id = ? AND action = 'withdrawn' "
                "ORDER BY withdrawn_at DESC LIMIT 1", [file_id]).fetchone()
            restored = before[0] if before else "loaded"
            later = con.execute("SELECT file_name FROM files WHERE kind = ? AND file_name = ? AND file_id <> ? "
                                "AND status IN ('loaded', 'rejected')", [kind, name, file_id]).fetchone()
            if later:
                raise WithdrawError(f"{name} cannot be put back: a later file of that name is in force and "
                                    "supersedes it")
            new_status, action = restored, "restored"
        else:
            new_status, action = "withdrawn", "withdrawn"
        con.execute("BEGIN TRANSACTION")
        con.execute("UPDATE files SET status = ? WHERE file_id = ?", [new_status, file_id])
        con.execute("INSERT INTO withdrawals VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [file_id, name, action, status, now, by, reason.strip()])
        con.execute("COMMIT")
    return Withdrawn(file_id, name, kind, action, new_status, rows, now.isoformat(timespec="seconds"), by,
                     reason.strip())


def _find(con: duckdb.DuckDBPyConnection, what: str, want: str) -> tuple[str, str, str, str, int]:
    statuses = ["withdrawn"] if want == "withdrawn" else list(IN_FORCE)
    cols = "file_id, file_name, kind, status, rows_received"
    given = Path(what)
    if given.is_file():  # the file as sent: its content names it exactly, whatever it is called now
        digest = hashlib.sha256(given.read_bytes()).hexdigest()
        rows = con.execute(f"SELECT {cols} FROM files WHERE file_id = ?", [digest]).fetchall()
        if not rows:
            rows = _by_name(con, cols, token_text(given.name, pseudonym_key()[0]), statuses)
    elif re.fullmatch(r"[0-9a-f]{8,64}", what):
        rows = con.execute(f"SELECT {cols} FROM files WHERE starts_with(file_id, ?)", [what]).fetchall()
    else:  # a name with an NHS-number-like part is held as its token (bcf/ingest/sources.py), so look that up
        rows = _by_name(con, cols, token_text(given.name, pseudonym_key()[0]), statuses)
    if not rows:
        raise WithdrawError(f"no file {what} {want} in this data dir (see the manifest's inputs for names)")
    if len(rows) > 1:
        raise WithdrawError(f"{what} names {len(rows)} files; give its sha256 (at least 8 hex digits): "
                            + ", ".join(f"{r[1]} {r[0][:12]} ({r[3]})" for r in rows))
    file_id, name, kind, status, received = rows[0]
    if status not in statuses:
        raise WithdrawError(f"{name} is {status}, not {want}")
    return str(file_id), str(name), str(kind), str(status), int(received)


def _by_name(con: duckdb.DuckDBPyConnection, cols: str, name: str, statuses: list[str]) -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT {cols} FROM files WHERE file_name = ? AND list_contains(?, status)",
                       [name, statuses]).fetchall()

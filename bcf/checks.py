"""Checks made when a return is produced: cross-source checks (warnings an officer should read) and the error
findings that block the return. Each check is a SQL file returning findings."""

from __future__ import annotations

from typing import Any

import duckdb

from transforms.findings import Finding
from warehouse import db, engine

CROSS_CHECKS = (
    "check_df_plan_income",
    "check_spend_vs_income",
    "check_df_spend_unplanned",
    "check_duplicate_spells",
    "check_status_91d",
    "check_provider_gap",
    "check_reablement_unmatched",
    "check_duplicate_keys",
)
RETURN_KINDS = ["discharges", "reablement", "spend", "plan"]


def _findings(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any]) -> list[Finding]:
    text = db.sql(query)
    used = {k: v for k, v in params.items() if f"${k}" in text}
    rows = con.execute(text, used).fetchall()
    return [Finding(r[0], r[1], None if r[2] is None else int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]


def cross_source(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[Finding]:
    engine.bind(con, params)  # the checks read the run's scoped views (warehouse/sql/intermediate)
    out: list[Finding] = []
    for query in CROSS_CHECKS:
        out.extend(_findings(con, query, params))
    return out


DUPLICATE_KEY = "key.duplicate_across_files"  # the rule of check_duplicate_keys' findings


def blocking(con: duckdb.DuckDBPyConnection, hwb: str, run_id: str = "",
             cross: list[Finding] | None = None) -> list[Finding]:
    """Error findings that block the HWB's return, a key counted twice across files in force among them, and the
    run's own source-level errors (run_id: the run that listed and fetched the source). `cross`: the HWB's
    cross-source findings when the caller has them, which hold the duplicate keys already (not scanned twice)."""
    duplicates = ([f for f in cross if f.rule == DUPLICATE_KEY] if cross is not None
                  else _findings(con, "check_duplicate_keys", {"hwb": hwb}))
    return _findings(con, "blocking_findings", {"hwb": hwb, "kinds": RETURN_KINDS, "run_id": run_id}) + duplicates


def duplicate_keys(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Keys in more than one file in force, for every HWB: what the ingest reports after staging."""
    return _findings(con, "check_duplicate_keys", {"hwb": "*"})


def file_findings(con: duckdb.DuckDBPyConnection, run_id: str = "") -> list[Finding]:
    """Every finding recorded against a file not superseded, and the run's own source-level findings (an empty
    source, a file not fetched: no file was landed for them): what the audit pack and `bcf validate` show."""
    rows = con.execute(
        "SELECT f.severity, f.file, f.\"row\", f.\"column\", f.\"value\", f.rule, f.message FROM findings f "
        "LEFT JOIN files x USING (file_id) WHERE x.status IN ('loaded', 'rejected') "
        "OR (f.file_id IS NULL AND (f.rule LIKE 'source.%' OR f.rule LIKE 'file.%') AND f.run_id = ?) "
        "ORDER BY f.file, f.\"row\" NULLS FIRST, f.\"column\"", [run_id]).fetchall()
    return [Finding(r[0], r[1], None if r[2] is None else int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

"""Checks made when a return is produced: cross-source checks (warnings an officer should read) and the error
findings that block the return. Each check is a SQL file returning findings."""

from __future__ import annotations

from typing import Any

import duckdb

from transforms.findings import Finding
from warehouse import db

CROSS_CHECKS = (
    "check_df_plan_income",
    "check_spend_vs_income",
    "check_df_spend_unplanned",
    "check_duplicate_spells",
    "check_status_91d",
    "check_provider_gap",
    "check_reablement_unmatched",
)
RETURN_KINDS = ["discharges", "reablement", "spend", "plan"]


def _findings(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any]) -> list[Finding]:
    text = db.sql(query)
    used = {k: v for k, v in params.items() if f"${k}" in text}
    rows = con.execute(text, used).fetchall()
    return [Finding(r[0], r[1], None if r[2] is None else int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]


def cross_source(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    for query in CROSS_CHECKS:
        out.extend(_findings(con, query, params))
    return out


def blocking(con: duckdb.DuckDBPyConnection, hwb: str) -> list[Finding]:
    return _findings(con, "blocking_findings", {"hwb": hwb, "kinds": RETURN_KINDS})


def file_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Every finding recorded against a file not superseded: what the audit pack and `bcf validate` show."""
    rows = con.execute(
        "SELECT f.severity, f.file, f.\"row\", f.\"column\", f.\"value\", f.rule, f.message FROM findings f "
        "JOIN files x USING (file_id) WHERE x.status IN ('loaded', 'rejected') "
        "ORDER BY f.file, f.\"row\" NULLS FIRST, f.\"column\"").fetchall()
    return [Finding(r[0], r[1], None if r[2] is None else int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

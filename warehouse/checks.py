"""Checks made when a return is produced: cross-source checks (warnings an officer should read) and the error
findings that block the return. Each check is a SQL file returning findings."""

from __future__ import annotations

from typing import Any

import duckdb

from bcf.transforms.findings import Finding, stored
from bcf.warehouse import db, engine

CROSS_CHECKS = (
    "check_plan_in_force",
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
    return stored(rows)


def cross_source(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[Finding]:
    engine.bind(con, params)  # the checks read the run's scoped views (warehouse/sql/intermediate)
    out: list[Finding] = []
    for query in CROSS_CHECKS:
        out.extend(_findings(con, query, params))
    return out


DUPLICATE_KEY = "key.duplicate_across_files"  # the rule of check_duplicate_keys' findings
PLAN_MISSING = "plan.missing"  # check_plan_in_force: no plan for the HWB and fund year
EMPTY_SOURCE = "source.empty"  # bcf.ingest.stage_file.empty_source
# The checks a source is judged by after ingest, for every HWB in it ($hwb = '*'): what `bcf ingest` and
# `bcf validate` report beside each file's own findings, as a run of any of its HWBs would find them.
SOURCE_CHECKS = ("check_duplicate_keys", "check_plan_in_force")
SOURCE_WIDE = {"hwb": "*", "fund_year": None, "fy_start": None, "period_start": None, "period_end": None}


def blocking(con: duckdb.DuckDBPyConnection, hwb: str, run_id: str = "",
             cross: list[Finding] | None = None) -> list[Finding]:
    """Error findings that block the HWB's return: those on its files' rows, the run's own source-level errors
    (run_id: the run that listed and fetched the source), and the cross-source errors judged in this run (a key
    counted twice across files in force, no plan for the HWB, a posting to a scheme not in its plan). `cross`: the
    HWB's cross-source findings of this run (cross_source); without them, only the keys counted twice are judged."""
    if cross is None:
        cross = _findings(con, "check_duplicate_keys", {"hwb": hwb})
    errors = [f for f in cross if f.severity == "error"]
    return _findings(con, "blocking_findings", {"hwb": hwb, "kinds": RETURN_KINDS, "run_id": run_id}) + errors


def said_once(file_level: list[Finding], cross: list[Finding]) -> list[Finding]:
    """The cross-source findings less those a file-level finding already explains: an empty source has no plan
    either, so `source.empty` is said and `plan.missing` is not."""
    if any(f.rule == EMPTY_SOURCE for f in file_level):
        return [f for f in cross if f.rule != PLAN_MISSING]
    return cross


def duplicate_keys(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Keys in more than one file in force, for every HWB."""
    return _findings(con, "check_duplicate_keys", {"hwb": "*"})


def source_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """The cross-source findings of a whole source, for every HWB (keys in more than one file in force, ledger
    lines against their own HWB's plan): what the ingest reports after staging."""
    return [f for query in SOURCE_CHECKS for f in _findings(con, query, SOURCE_WIDE)]


def file_findings(con: duckdb.DuckDBPyConnection, run_id: str = "") -> list[Finding]:
    """Every finding recorded against a file not superseded, and the run's own source-level findings (an empty
    source, a file not fetched: no file was landed for them): what the audit pack and `bcf validate` show."""
    rows = con.execute(
        "SELECT f.severity, f.file, f.\"row\", f.\"column\", f.\"value\", f.rule, f.message FROM findings f "
        "LEFT JOIN files x USING (file_id) WHERE x.status IN ('loaded', 'rejected') "
        "OR (f.file_id IS NULL AND (f.rule LIKE 'source.%' OR f.rule LIKE 'file.%') AND f.run_id = ?) "
        "ORDER BY f.file, f.\"row\" NULLS FIRST, f.\"column\"", [run_id]).fetchall()
    return stored(rows)

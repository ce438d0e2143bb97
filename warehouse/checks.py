"""Checks made when a return is produced: cross-source checks (warnings an officer should read) and the error
findings that block the return. Each check is a SQL file returning findings."""

from __future__ import annotations

from typing import Any

import duckdb

from bcf.transforms.findings import Finding, stored
from bcf.warehouse import db

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


DUPLICATE_KEY = "key.duplicate_across_files"  # the rule of check_duplicate_keys' findings
PLAN_MISSING = "plan.missing"  # check_plan_in_force: no plan for the HWB and fund year
# bcf.ingest.stage_file.empty_source; a cross plan.missing is not said beside it (an empty source has no plan either)
EMPTY_SOURCE = "source.empty"
# The checks a source is judged by after ingest, for every HWB in it ($hwb = '*'): what `bcf ingest` and
# `bcf validate` report beside each file's own findings, as a run of any of its HWBs would find them.
SOURCE_CHECKS = ("check_duplicate_keys", "check_plan_in_force")
SOURCE_WIDE = {"hwb": "*", "fund_year": None, "fy_start": None, "period_start": None, "period_end": None}


def blocking(con: duckdb.DuckDBPyConnection, hwb: str, run_id: str = "",
             cross: list[Finding] | None = None) -> list[Finding]:
    """Error findings that block the HWB's return: those on its files' rows, the run's own source-level errors
    (run_id: the run that listed and fetched the source), and the cross-source errors judged in this run (a key
    counted twice across files in force, no plan for the HWB, a posting to a scheme not in its plan). `cross`: the
    HWB's cross-source errors of this run (warehouse.return_findings.collect); without them, only the keys counted
    twice are judged."""
    if cross is None:
        cross = _findings(con, "check_duplicate_keys", {"hwb": hwb})
    errors = [f for f in cross if f.severity == "error"]
    return _findings(con, "blocking_findings", {"hwb": hwb, "kinds": RETURN_KINDS, "run_id": run_id}) + errors


def duplicate_keys(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Keys in more than one file in force, for every HWB."""
    return _findings(con, "check_duplicate_keys", {"hwb": "*"})


def source_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """The cross-source findings of a whole source, for every HWB (keys in more than one file in force, ledger
    lines against their own HWB's plan): what the ingest reports after staging."""
    return [f for query in SOURCE_CHECKS for f in _findings(con, query, SOURCE_WIDE)]


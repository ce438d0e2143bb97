"""Produce one return: checks, then either the blocking findings (no workbook) or figures, workbook and audit pack,
published together. Shared by the fortnightly and quarterly returns."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from bcf.returns.pack import (
    READY,
    RunInfo,
    jsonable,
    pack_dir,
    publish,
    recover,
    revision_of,
    staging_paths,
    summary_path,
    write_findings,
    write_pack,
)
from bcf.transforms.figures import Figure
from bcf.transforms.findings import Finding, FindingsReport
from bcf.transforms.workbook import SheetLayout, write_workbook
from bcf.warehouse import db, return_findings
from bcf.warehouse.checks import blocking


@dataclass
class Computed:
    figures: list[Figure]
    layouts: list[SheetLayout]
    allowed_blank: set[str]
    write: Callable[[Path, list[SheetLayout], list[Figure], set[str]], dict[str, tuple[str, str]]] = write_workbook
    report: list[Finding] = field(default_factory=list)  # the template fill report, filled in by `write`
    cell_map_text: str | None = None  # the map a template was filled through when it was proposed for the run


@dataclass
class ReturnOutcome:
    status: str  # written | blocked
    workbook: Path
    findings_file: Path | None = None
    audit: Path | None = None
    blocking: list[Finding] = field(default_factory=list)
    findings: FindingsReport = field(default_factory=FindingsReport)  # the whole list is in findings_file
    figures: list[Figure] = field(default_factory=list)
    revision: dict[str, Any] | None = None  # the earlier return this one replaces, and how many figures moved

    def revision_line(self) -> str | None:
        """What the console says when a run replaces an earlier return of the same period."""
        r = self.revision
        if not r:
            return None
        if not r["figures_changed"]:
            return (f"Same figures as the earlier return (run {r['revises_run_id']}): it is replaced, no history "
                    "copy kept")
        return (f"REVISES the earlier return (run {r['revises_run_id']}): {r['figures_changed']} figure(s) moved, "
                f"{r['rows_added_removed_changed']} source row(s) added, removed or changed; the earlier pair is "
                f"kept as {self.workbook.stem}.{r['revises_run_id']}.xlsx, what changed is in revisions.csv")


def write_findings_csv(con: duckdb.DuckDBPyConnection, path: Path, report: FindingsReport) -> Path:
    """The return's findings (warehouse.return_findings) as a CSV and its summary beside it, each whole or not at
    all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = summary_path(path)
    tmp, tmp_summary = path.with_name(f".{path.name}.tmp"), summary.with_name(f".{summary.name}.tmp")
    write_findings(con, tmp, report, tmp_summary)
    tmp_summary.replace(summary)
    tmp.replace(path)
    return path


def produce(con: duckdb.DuckDBPyConnection, hwb: str, params: dict[str, Any], workbook: Path, run: RunInfo,
            compute: Callable[[duckdb.DuckDBPyConnection], Computed]) -> ReturnOutcome:
    for note in recover(workbook):  # what a crashed run left for this return (we hold the run lock)
        sys.stderr.write(f"bcf: {note}\n")  # the console, not Prefect's print capture
    # the findings stay in the warehouse (return_findings), read in SQL: only the errors that block come to Python
    cross_errors = return_findings.collect(con, run.run_id, params)
    blockers = blocking(con, hwb, run.run_id, cross_errors)
    if blockers:
        report = return_findings.report(con, len(blockers))
        path = write_findings_csv(con, workbook.with_name(workbook.stem + ".blocked-findings.csv"), report)
        return ReturnOutcome("blocked", workbook, path, None, blockers, report)

    computed = compute(con)
    tmp_workbook, tmp_pack = staging_paths(workbook)
    try:
        where = computed.write(tmp_workbook, computed.layouts, computed.figures, computed.allowed_blank)
        return_findings.add(con, computed.report)  # empty input cells and validation breaches of a filled template
        findings = return_findings.report(con)
        previous = pack_dir(workbook) if pack_dir(workbook).exists() else None
        write_pack(con, tmp_workbook, workbook.name, tmp_pack, run, computed.figures, where, findings, previous,
                   params, computed.cell_map_text)
        revision = revision_of(tmp_pack)
        # the earlier pair is kept as history only when a figure moved: a rerun with the same figures replaces it
        publish(tmp_workbook, workbook, tmp_pack, keep_history=not revision or revision["figures_changed"] > 0)
    except BaseException:
        # not committed (no READY): discard, nothing of this run is published; committed: the next run completes it
        if not (tmp_workbook.parent / READY).exists():
            shutil.rmtree(tmp_workbook.parent, ignore_errors=True)
        raise
    # kept in the warehouse too: the board briefing reads them rather than computing the return again
    db.record_return_figures(con, workbook.name, run.run_id, [
        (f.id, f.spec.kind, json.dumps(jsonable(f.value))) for f in computed.figures])
    stale = workbook.with_name(workbook.stem + ".blocked-findings.csv")
    stale.unlink(missing_ok=True)
    summary_path(stale).unlink(missing_ok=True)
    return ReturnOutcome("written", workbook, pack_dir(workbook) / "findings.csv", pack_dir(workbook), [], findings,
                         computed.figures, revision)

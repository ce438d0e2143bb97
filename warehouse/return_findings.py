"""The findings of the return being produced, kept in DuckDB (a temporary table, return_findings) rather than as
Python objects: a source with a fifth of its rows rejected, or two trusts both sending a year, has hundreds of
thousands of findings, and fetching, inserting back and writing them one by one took most of a run at 16 million
discharges (issue 25). The cross checks insert their rows straight from SQL; findings.csv is written from SQL text;
what the console, the flow's artifacts and the manifest need is counted and grouped in SQL (FindingsReport).

The order is findings.csv's: the findings on the files in force, then each cross check's in turn
(warehouse.checks.CROSS_CHECKS), each by file, row and column; then the template's fill report."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from bcf.transforms.findings import (
    ERROR,
    FINDING_COLUMNS,
    SHOWN,
    SUMMARY_COLUMNS,
    WARNING,
    Finding,
    FindingGroup,
    FindingsReport,
    stored,
)
from bcf.transforms.workbook import csv_safe
from bcf.warehouse import db, engine
from bcf.warehouse.checks import CROSS_CHECKS, EMPTY_SOURCE, PLAN_MISSING

_PART = 10**12  # ord = part * _PART + the finding's place in its part
_REPORT_PART = len(CROSS_CHECKS) + 1  # the template's fill report, after every cross check
_COLUMNS = ", ".join(f'"{c}"' for c in FINDING_COLUMNS)
_ORDER = 'ORDER BY file, "row" NULLS FIRST, "column", "value", rule, message'  # within a part


def collect(con: duckdb.DuckDBPyConnection, run_id: str, params: dict[str, Any]) -> list[Finding]:
    """return_findings made anew: the findings on the files in force and the run's source-level ones, then each
    cross check's (the HWB's, for the run's period: params), which are also recorded under the run in `findings`.
    A cross `plan.missing` is left out when the source was empty (`source.empty` says it already). The cross
    checks' errors are returned: they block the return (warehouse.checks.blocking), and there are few."""
    create(con)
    con.execute(f"INSERT INTO return_findings SELECT row_number() OVER ({_ORDER}), 0, {_COLUMNS} "
                f"FROM (\n{_query('file_findings')}\n)", {"run_id": run_id})
    engine.bind(con, params)  # the checks read the run's scoped views (warehouse/sql/intermediate)
    for part, name in enumerate(CROSS_CHECKS, start=1):
        text = _query(name)
        used = {k: v for k, v in params.items() if f"${k}" in text}
        # each check's rows by file and row, as the files' findings are: findings.csv is the same list every run
        # (two checks came back in whatever order DuckDB's threads gave them)
        con.execute(f"INSERT INTO return_findings SELECT {part} * {_PART} + row_number() OVER ({_ORDER}), {part}, "
                    f"* FROM (\n{text}\n)", used)
    con.execute("DELETE FROM return_findings WHERE part > 0 AND rule = ? AND EXISTS "
                "(SELECT 1 FROM return_findings WHERE part = 0 AND rule = ?)", [PLAN_MISSING, EMPTY_SOURCE])
    con.execute(f"INSERT INTO findings (run_id, file_id, {_COLUMNS}) SELECT ?, NULL, {_COLUMNS} "
                "FROM return_findings WHERE part > 0 ORDER BY ord", [run_id])
    return stored(con.execute(f"SELECT {_COLUMNS} FROM return_findings WHERE part > 0 AND severity = ? "
                              "ORDER BY ord", [ERROR]).fetchall())


def create(con: duckdb.DuckDBPyConnection) -> None:
    """An empty return_findings (made anew: a connection produces one return at a time)."""
    con.execute(db.sql("return_findings"))


def _query(name: str) -> str:
    return db.sql(name).strip().removesuffix(";")


def add(con: duckdb.DuckDBPyConnection, findings: list[Finding]) -> None:
    """Findings made in Python after the checks (a template's fill report: a few), at the end of the list."""
    if findings:
        db.insert_rows(con, "return_findings", [[_REPORT_PART * _PART + n, _REPORT_PART,
                                                 *(getattr(f, c) for c in FINDING_COLUMNS)]
                                                for n, f in enumerate(findings, start=1)])


def report(con: duckdb.DuckDBPyConnection, blocking: int = 0) -> FindingsReport:
    """What is read of the findings without the whole list: counts, groups, and the first of each severity (as
    many errors as SHOWN past the `blocking` ones, which a flow's artifact lists apart)."""
    counts = con.execute("SELECT count(*) FILTER (WHERE severity = ?), count(*) FILTER (WHERE severity = ?) "
                         "FROM return_findings", [ERROR, WARNING]).fetchone()
    assert counts is not None

    def first(severity: str, limit: int) -> tuple[Finding, ...]:
        return tuple(stored(con.execute(f"SELECT {_COLUMNS} FROM return_findings WHERE severity = ? ORDER BY ord "
                                        "LIMIT ?", [severity, limit]).fetchall()))

    return FindingsReport(int(counts[0]), int(counts[1]), tuple(groups(con)), first(ERROR, SHOWN + blocking),
                          first(WARNING, SHOWN))


def groups(con: duckdb.DuckDBPyConnection) -> list[FindingGroup]:
    """transforms.findings.summarise of return_findings, in SQL."""
    out = []
    for severity, rule, file, count, example in con.execute(db.sql("findings_groups")).fetchall():
        e = stored([(severity, file, example["row"], example["column"], example["value"], rule,
                     example["message"])])[0]
        out.append(FindingGroup(severity, rule, file, int(count), e))
    return out


def write_csv(con: duckdb.DuckDBPyConnection, path: Path, summary: Path, by_group: Sequence[FindingGroup]) -> None:
    """findings.csv (`path`) and its summary by rule and file (`summary`: `by_group`, the report's groups, one
    example each, to read first): two files, so each CSV keeps one shape for the tools that read it. findings.csv's
    lines are made by DuckDB, the same bytes Python's csv writer wrote (tests/unit/test_return_findings.py), and
    written as they come."""
    con.execute(db.sql("csv_macros"))
    with open(path, "wb") as fh:
        fh.write((",".join(FINDING_COLUMNS) + "\r\n").encode())
        reader = con.sql(db.sql("findings_lines")).to_arrow_reader(1 << 16)
        for batch in reader:
            lines = batch.column(0)
            if len(lines) == 0:
                continue
            if lines.type not in (pa.string(), pa.large_string()):
                lines = lines.cast(pa.large_string())
            # the lines are one Arrow text buffer end to end: written as it is, not as a string per line
            width = 4 if lines.type == pa.string() else 8
            offsets = np.frombuffer(lines.buffers()[1], dtype=f"<i{width}", count=len(lines) + 1,
                                    offset=lines.offset * width)
            fh.write(memoryview(lines.buffers()[2])[int(offsets[0]):int(offsets[-1])])
    with open(summary, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SUMMARY_COLUMNS)
        writer.writerows([csv_safe(v) for v in (g.severity, g.rule, g.file, g.count, g.example.row,
                                                g.example.column, g.example.value, g.example.message)]
                         for g in by_group)

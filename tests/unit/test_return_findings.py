"""A return's findings stay in DuckDB (warehouse.return_findings): findings.csv is made from SQL text, its summary and
the report from SQL groups. The same bytes as the Python csv writer made them (kept here as the reference), the same
groups as transforms.findings.summarise, on random findings with every character that needs care in a CSV."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest

from bcf.transforms.findings import FINDING_COLUMNS, SUMMARY_COLUMNS, Finding, stored, summarise, summary_rows
from bcf.transforms.workbook import csv_safe
from bcf.warehouse import return_findings

# text a CSV writer must quote, a spreadsheet would run, or a byte count would get wrong
PIECES = ["a", "RWE:S1", ",", '"', "\n", "\r", "\r\n", " ", "=", "+", "-", "@", "\t", "-12.50", "+3", "1e5", ".5",
          "'", "é", "\u00a0", "\U0001f600", "plan.missing", "x,y", '"q"', "SUM(A1)"]


def _text(rng: random.Random) -> str | None:
    if rng.random() < 0.1:
        return None
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))


def _findings(seed: int, n: int) -> list[Finding]:
    rng = random.Random(seed)
    files = ["spend.csv", "=evil.csv", "d,1.csv", "é.xlsx"]
    rules = ["code_set", "date", "cross.duplicate_spell", "=rule"]
    # stored: as recorded (no masking on the way), so any text goes through as it is
    return stored([(rng.choice(["error", "warning"]), rng.choice(files), rng.choice([None, rng.randint(2, 10**7)]),
                    _text(rng), _text(rng), rng.choice(rules), _text(rng) or "") for _ in range(n)])


def _python_writer(path: Path, summary: Path, findings: list[Finding]) -> None:
    """findings.csv and its summary as bcf wrote them before issue 25 (bcf/returns/pack.py, Python's csv module)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FINDING_COLUMNS)
        writer.writerows([csv_safe(getattr(f, c)) for c in FINDING_COLUMNS] for f in findings)
    with open(summary, "w", newline="", encoding="utf-8") as fh:
        summary_writer = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
        summary_writer.writeheader()
        summary_writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in summary_rows(findings))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_findings_csv_and_summary_are_the_bytes_the_python_writer_made(seed: int, tmp_path: Path) -> None:
    findings = _findings(seed, 3000)
    con = duckdb.connect()
    return_findings.create(con)
    return_findings.add(con, findings)
    return_findings.write_csv(con, tmp_path / "sql.csv", tmp_path / "sql-summary.csv", return_findings.groups(con))
    _python_writer(tmp_path / "py.csv", tmp_path / "py-summary.csv", findings)
    assert (tmp_path / "sql.csv").read_bytes() == (tmp_path / "py.csv").read_bytes()
    assert (tmp_path / "sql-summary.csv").read_bytes() == (tmp_path / "py-summary.csv").read_bytes()
    assert return_findings.groups(con) == summarise(findings)

    report = return_findings.report(con, blocking=5)
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    assert (report.errors, report.warnings) == (len(errors), len(warnings))
    assert list(report.first_errors) == errors[:55] and list(report.first_warnings) == warnings[:50]


def test_an_empty_list_writes_the_header_alone(tmp_path: Path) -> None:
    con = duckdb.connect()
    return_findings.create(con)
    return_findings.write_csv(con, tmp_path / "f.csv", tmp_path / "s.csv", return_findings.groups(con))
    _python_writer(tmp_path / "p.csv", tmp_path / "ps.csv", [])
    assert (tmp_path / "f.csv").read_bytes() == (tmp_path / "p.csv").read_bytes() == \
        b"severity,file,row,column,value,rule,message\r\n"
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "ps.csv").read_bytes()
    assert return_findings.report(con).errors == 0

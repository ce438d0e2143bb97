"""Findings: what a data officer reads about bad input. One shape for file-level and row-level problems."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bcf.transforms.nhs_number import mask_text

ERROR = "error"
WARNING = "warning"

FINDING_COLUMNS = ["severity", "file", "row", "column", "value", "rule", "message"]


@dataclass(frozen=True)
class Finding:
    severity: str  # error blocks (row rejected or file rejected); warning keeps the row and is reported
    file: str  # the file name as received
    row: int | None  # row number as the supplier sees it (header = 1); None for a file-level finding
    column: str | None
    value: str | None  # masked when it is an NHS number
    rule: str  # short rule id, e.g. "date", "required", "code_set", "file.missing_column"
    message: str  # words a data officer can act on

    def __post_init__(self) -> None:
        # The choke point for identifiers: whatever column an NHS number arrived in, a finding never carries it.
        for name in ("file", "column", "value", "message"):
            text = getattr(self, name)
            if text is not None and len(text) >= 10:
                object.__setattr__(self, name, mask_text(text))

    def as_dict(self) -> dict[str, object]:
        # what asdict gives, without its deep copy of each value (hundreds of thousands of findings, issue 25)
        return {"severity": self.severity, "file": self.file, "row": self.row, "column": self.column,
                "value": self.value, "rule": self.rule, "message": self.message}


def stored(rows: Iterable[Sequence[Any]]) -> list[Finding]:
    """Findings read back from the warehouse (rows in FINDING_COLUMNS' order). They were masked when recorded
    (only Findings are recorded, db.insert_findings), so the masking is not run again: a source with a fifth of its
    rows rejected has hundreds of thousands, and masking each again took seconds (issue 25)."""
    new = Finding.__new__
    out = []
    for r in rows:
        f = new(Finding)
        f.__dict__.update(zip(FINDING_COLUMNS, r, strict=True))
        out.append(f)
    return out


class FileProblem(Exception):
    """A fault that makes a whole file (or plan sheet) unusable: unreadable, empty, missing a column."""

    def __init__(self, rule: str, message: str, column: str | None = None, value: str | None = None):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.column = column
        self.value = value

    def finding(self, file_name: str) -> Finding:
        return Finding(ERROR, file_name, None, self.column, self.value, self.rule, self.message)


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one rule in one file: how many, and the first as the example."""

    severity: str
    rule: str
    file: str
    count: int
    example: Finding

    def short(self) -> str:
        return f"{self.rule} in {self.file} ({self.count:,})"

    def line(self) -> str:
        e = self.example
        if e.row is None:  # about a whole file (or the source)
            where = "" if self.count == 1 else f" {self.count:,} finding(s), e.g."
        else:
            where = f" {self.count:,} row(s), e.g. row {e.row}"
        column = f" [{e.column}]" if e.column else ""
        value = f" {e.value!r}" if e.value else ""
        return f"{self.severity:<7} {self.rule} in {self.file}:{where}{column}{value}: {e.message}"


SUMMARY_COLUMNS = ["severity", "rule", "file", "count", "example_row", "example_column", "example_value",
                   "example_message"]
SHOWN = 50  # findings listed one by one in a flow's artifact, of each kind; the rest are in the findings file


@dataclass(frozen=True)
class FindingsReport:
    """A return's findings as its readers meet them, not the whole list (that is the findings file, written from
    the warehouse without a Python object per finding): how many errors and warnings, one group per rule and file
    (as summarise groups them), and the first errors and warnings in the file's order, enough to list SHOWN of
    each beside the errors that block the return."""

    errors: int = 0
    warnings: int = 0
    groups: tuple[FindingGroup, ...] = ()
    first_errors: tuple[Finding, ...] = ()
    first_warnings: tuple[Finding, ...] = ()

    def of_rule(self, rule: str) -> list[FindingGroup]:
        return [g for g in self.groups if g.rule == rule]


def summarise(findings: list[Finding]) -> list[FindingGroup]:
    """Grouped by rule and file: errors first, then the largest groups. One cause said once, with its count."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.severity, f.rule, f.file), []).append(f)
    out = [FindingGroup(s, r, file, len(fs), fs[0]) for (s, r, file), fs in groups.items()]
    return sorted(out, key=lambda g: (g.severity != ERROR, -g.count, g.file, g.rule))


def summary_lines(findings: list[Finding], limit: int = 20) -> list[str]:
    """The summary as console lines, at most `limit` groups (the rest counted)."""
    groups = summarise(findings)
    lines = [g.line() for g in groups[:limit]]
    if len(groups) > limit:
        lines.append(f"... and {len(groups) - limit} more group(s) of findings")
    return lines


def summary_rows(findings: list[Finding]) -> list[dict[str, object]]:
    """The summary as rows of SUMMARY_COLUMNS (the findings-summary CSV beside each findings file)."""
    return [{"severity": g.severity, "rule": g.rule, "file": g.file, "count": g.count,
             "example_row": g.example.row, "example_column": g.example.column,
             "example_value": g.example.value, "example_message": g.example.message} for g in summarise(findings)]

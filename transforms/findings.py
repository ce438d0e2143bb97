"""Findings: what a data officer reads about bad input. One shape for file-level and row-level problems."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from transforms.nhs_number import mask_text

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
        return asdict(self)


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

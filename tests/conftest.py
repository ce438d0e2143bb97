"""Shared fixtures. Prefect is kept out of unit tests; integration tests get one harness per session."""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Prefect: a private home, no analytics, no tracking.
_PREFECT_HOME = tempfile.mkdtemp(prefix="bcf-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Synthetic test data: the documented development pseudonym key is allowed (tests of the refusal unset this).
os.environ.setdefault("BCF_ALLOW_DEVELOPMENT_KEY", "1")

RUTLAND = "E06000017"


@pytest.fixture(scope="session")
def small_extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quarter of synthetic Rutland extracts, small enough to be quick, generated once per session."""
    from bcf.synthetic import generate

    out = tmp_path_factory.mktemp("extracts")
    generate(RUTLAND, dt.date(2022, 10, 1), dt.date(2022, 12, 31), 2_000, 7, out)
    return out


@pytest.fixture
def key() -> bytes:
    return b"test-key"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list[object]]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, (header, rows) in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[object]:
    from warehouse import db

    with db.connect(tmp_path / "wh.duckdb") as con:
        yield con

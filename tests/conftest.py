"""Shared fixtures. Prefect is kept out of unit tests; integration tests get one harness per session."""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bcf.returns.fortnightly import FortnightlyReturn
    from bcf.returns.quarterly import QuarterlyReturn
    from bcf.transforms.figures import Figure

# Before anything imports Prefect: a private home, no analytics, no tracking.
_PREFECT_HOME = tempfile.mkdtemp(prefix="bcf-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)  # one per session: not left behind in /tmp
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
    from bcf.devtools.synthetic import generate

    out = tmp_path_factory.mktemp("extracts")
    generate(RUTLAND, dt.date(2022, 10, 1), dt.date(2022, 12, 31), 2_000, 7, out)
    return out


@pytest.fixture
def key() -> bytes:
    return b"test-key"


@pytest.fixture(scope="session")
def validator() -> object:
    """One GX context for the session: building it is the slow part of validating a small file."""
    from bcf.transforms.validate import RowValidator

    return RowValidator()


def _staged(folder: Path, write: object, today: dt.date, validator: object) -> Path:
    """A warehouse file with a source folder staged into it (no Prefect); tests open it and compute returns,
    which only make temp tables, so one staged warehouse serves a whole session."""
    from bcf.warehouse import db
    from tests.fixtures import load

    src = write(folder / "src") if callable(write) else Path(str(write))
    with db.connect(folder / "wh.duckdb") as con:
        load(con, src, folder / "landing", validator, today=today)  # type: ignore[arg-type]
    return folder / "wh.duckdb"


@pytest.fixture(scope="session")
def df_warehouse(tmp_path_factory: pytest.TempPathFactory, validator: object) -> Path:
    """The hand-counted fortnightly fixture (tests/fixtures.py), staged once."""
    from tests.fixtures import write_df_fixture

    return _staged(tmp_path_factory.mktemp("df"), write_df_fixture, dt.date(2023, 2, 1), validator)


@pytest.fixture(scope="session")
def q_warehouse(tmp_path_factory: pytest.TempPathFactory, validator: object) -> Path:
    """The hand-counted quarterly fixture, staged once."""
    from tests.fixtures import write_q_fixture

    return _staged(tmp_path_factory.mktemp("q"), write_q_fixture, dt.date(2023, 5, 1), validator)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory, validator: object) -> Path:
    """The demo's year of synthetic extracts (the demo's own seed), generated and staged once per session: both
    golden backtests read it."""
    from bcf.cli.commands import DEMO_FROM, DEMO_HWB, DEMO_SCALE, DEMO_SEED, DEMO_TO
    from bcf.devtools.synthetic import generate

    folder = tmp_path_factory.mktemp("demo")
    generate(DEMO_HWB, DEMO_FROM, DEMO_TO, DEMO_SCALE, DEMO_SEED, folder / "extracts")
    return _staged(folder, folder / "extracts", dt.date(2023, 4, 1), validator)


@pytest.fixture(scope="session")
def df_return(df_warehouse: Path) -> FortnightlyReturn:
    """The hand-counted fixture's fortnight ending 19 January 2023, computed once: tests that only read it (the
    workbook's look, templates) share it; the backtests compute their own."""
    from bcf.core.dates import Fortnight
    from bcf.returns.fortnightly import compute
    from bcf.warehouse import db

    with db.connect(df_warehouse) as con:
        return compute(con, RUTLAND, Fortnight.ending(dt.date(2023, 1, 19)))


@pytest.fixture(scope="session")
def q_return(q_warehouse: Path) -> QuarterlyReturn:
    """The hand-counted quarterly fixture's 2022-23 Q4, computed once (as df_return)."""
    from bcf.core.dates import Quarter
    from bcf.returns.quarterly import compute
    from bcf.warehouse import db

    with db.connect(q_warehouse) as con:
        return compute(con, RUTLAND, Quarter.parse("2022-23-Q4"))


@pytest.fixture(scope="session")
def df_figures(df_return: FortnightlyReturn) -> tuple[list[Figure], list[tuple[str, str]]]:
    """(figures, (scheme id, name) of each scheme) of df_return: what a template is filled from."""
    return df_return.figures, [(s.scheme_id, s.name) for s in df_return.schemes]


@pytest.fixture(scope="session")
def q_figures(q_return: QuarterlyReturn) -> tuple[list[Figure], list[tuple[str, str]]]:
    """(figures, schemes) of q_return."""
    return q_return.figures, q_return.schemes


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
    from bcf.warehouse import db

    with db.connect(tmp_path / "wh.duckdb") as con:
        yield con

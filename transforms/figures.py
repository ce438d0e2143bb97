"""Figures and their lineage from one set of contribution rows.

Each figure query (a SQL file in warehouse/sql) returns rows (figure_id, role, file_id, file_name, source_row,
row_key, contribution). They go into the temp table `contrib`; a summed figure's value is the exact DECIMAL sum of its
rows, computed by DuckDB and fetched as Python Decimal. The same rows are the figure's lineage, so the two cannot
diverge. Ratios, Yes/No checks and cover values are derived in Python from summed figures, with Decimal arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from warehouse.db import sql

SUMMED = ("count", "money", "units", "days")
Value = Decimal | str | dt.date | None


@dataclass(frozen=True)
class FigureSpec:
    id: str
    label: str
    kind: str  # count | money | units | days | ratio | pct | rate | text | date | yesno
    definition: str
    query: str  # the SQL file whose rows make the figure, or "parameters" / "config/..." for cover values


@dataclass
class Figure:
    spec: FigureSpec
    value: Value
    source_rows: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id


def scheme_slug(scheme_id: str) -> str:
    """A scheme id inside a figure id: lower-cased, every character but a-z, 0-9 and _ becomes _ (returns.md)."""
    return re.sub(r"[^a-z0-9_]", "_", scheme_id.lower())


def round_half_away(value: Decimal, places: int) -> Decimal:
    """Half away from zero: Decimal's ROUND_HALF_UP rounds -2.5 to -3 and 2.5 to 3."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rounded(kind: str, value: Decimal) -> Decimal:
    if kind in ("count", "days"):
        return round_half_away(value, 0)
    if kind in ("money", "units"):
        return round_half_away(value, 2)
    return round_half_away(value, 1)  # ratio, pct, rate


def ratio(numerator: Value, denominator: Value, scale: int = 1) -> Decimal | None:
    """numerator / denominator × scale; blank (None) when the denominator is 0 or either side is blank."""
    if not isinstance(numerator, Decimal) or not isinstance(denominator, Decimal) or denominator == 0:
        return None
    return numerator * scale / denominator


def _params_for(text: str, params: dict[str, Any]) -> dict[str, Any]:
    wanted = set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))
    return {k: v for k, v in params.items() if k in wanted}


def start_contributions(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql("contrib_table"))


def run_figure_query(con: duckdb.DuckDBPyConnection, query_id: str, params: dict[str, Any]) -> None:
    text = sql(query_id)
    con.execute(
        "INSERT INTO contrib SELECT figure_id, role, $query_id, file_id, file_name, source_row, row_key, contribution "
        f"FROM ({text})",
        {**_params_for(text, params), "query_id": query_id},
    )


@dataclass(frozen=True)
class Summed:
    value: Decimal
    source_rows: int
    files: list[str]


def summed_figures(con: duckdb.DuckDBPyConnection) -> dict[str, Summed]:
    rows = con.execute(
        "SELECT figure_id, sum(contribution), count(DISTINCT (file_id, source_row, row_key)), "
        "list(DISTINCT file_name ORDER BY file_name) FROM contrib GROUP BY figure_id"
    ).fetchall()
    return {r[0]: Summed(Decimal(r[1]), int(r[2]), [f for f in r[3] if f]) for r in rows}


def source_rows(con: duckdb.DuckDBPyConnection, figure_id: str) -> tuple[int, list[str]]:
    row = con.execute("SELECT count(DISTINCT (file_id, source_row, row_key)), "
                      "list(DISTINCT file_name ORDER BY file_name) "
                      "FROM contrib WHERE figure_id = ?", [figure_id]).fetchone()
    return (int(row[0]), [f for f in (row[1] or []) if f]) if row else (0, [])


def build(specs: list[FigureSpec], summed: dict[str, Summed], derived: dict[str, Value],
          con: duckdb.DuckDBPyConnection) -> list[Figure]:
    """Every figure of a return, in catalogue order. Summed figures with no rows are 0, not blank, unless the
    return derives them itself (a capacity the plan leaves blank stays blank)."""
    out = []
    for spec in specs:
        if spec.kind in SUMMED and spec.id not in derived:
            got = summed.get(spec.id)
            value: Value = rounded(spec.kind, got.value) if got else Decimal(0)
            out.append(Figure(spec, value, got.source_rows if got else 0, got.files if got else []))
            continue
        value = derived.get(spec.id)
        if isinstance(value, Decimal):
            value = rounded(spec.kind, value)
        n, files = source_rows(con, spec.id)
        out.append(Figure(spec, value, n, files))
    return out

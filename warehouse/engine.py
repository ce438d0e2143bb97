"""The figure engine: bind a run's scope, run the SQL models that make contribution rows, derive figures from
figures in the order their declared inputs give, and build a return's figures from a registry.

Each model (warehouse/sql/figures/<model>.sql) returns rows (figure_id, role, file_id, file_name, source_row,
row_key, contribution). They go into the temp table `contrib`; a summed figure's value is the exact DECIMAL sum of its
rows, computed by DuckDB and fetched as Python Decimal. A derived figure's lineage rows are its inputs' rows (signed,
with the role its declaration gives), so value and lineage cannot diverge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from bcf.core.settings import codes, sql_dir
from bcf.transforms.figures import (
    SUMMED,
    Context,
    Figure,
    FigureDef,
    FigureSpec,
    Instance,
    Value,
    expand,
    rounded,
)
from bcf.warehouse.db import insert_rows, sql

RUN_PARAMS = ("hwb", "fund_year", "fy_start", "period_start", "period_end", "quarter")


def intermediate_views() -> tuple[str, ...]:
    """The files of sql/intermediate/ that make views, each after the files whose views it reads: as dbt's `ref`, a
    file's dependencies are the int_* names it uses that another file makes."""
    return _in_dependency_order(sql_dir() / "intermediate")


@cache
def _in_dependency_order(folder: Path) -> tuple[str, ...]:
    made: dict[str, set[str]] = {}
    used: dict[str, set[str]] = {}
    for path in sorted(folder.glob("int_*.sql")):
        text = path.read_text(encoding="utf-8")
        views = set(re.findall(r"CREATE OR REPLACE TEMP VIEW (\w+)", text, re.IGNORECASE))
        if views:
            made[path.stem], used[path.stem] = views, set(re.findall(r"\bint_\w+", text)) - views
    maker = {view: name for name, views in made.items() for view in views}
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"intermediate SQL files read each other in a circle: {' -> '.join((*path, name))}")
        for needed in sorted({maker[view] for view in used[name] if view in maker}):
            visit(needed, (*path, name))
        order.append(name)

    for name in sorted(made):
        visit(name, ())
    return tuple(order)


def code_rows() -> list[tuple[str, str, str, Decimal | None, int | None, int | None]]:
    """config/codes.toml as the rows of the `codes` table the SQL joins (list, name, code, weight, ages)."""
    c = codes()
    rows: list[tuple[str, str, str, Decimal | None, int | None, int | None]] = []
    for name in ("usual_place_of_residence", "died"):
        rows.append(("discharge_destination", name, c["discharge_destination"][name], None, None, None))
    rows += [("discharge_fund", name, code, None, None, None) for name, code in c["discharge_fund"].items()]
    rows += [("emergency_admission", "emergency", m, None, None, None) for m in c["admission_method"]["emergency"]]
    rows += [("acsc", p, p.replace(".", "").upper(), None, None, None) for p in c["acsc"]["prefixes"]]
    for band, weight in c["esp2013_65plus"].items():
        lo, _, hi = band.rstrip("+").partition("-")
        rows.append(("esp_band", band, band, Decimal(weight), int(lo), int(hi) if hi else None))
    return rows


def bind(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Scope this connection to one run: run_params, codes, an empty contrib table and the intermediate views (with
    the session variables they set: the code lists their `left_out` tests)."""
    con.execute(sql("run_tables"))
    con.execute("INSERT INTO run_params VALUES (?, ?, ?, ?, ?, ?)", [params.get(k) for k in RUN_PARAMS])
    insert_rows(con, "codes", code_rows())
    for name in intermediate_views():
        con.execute(sql(name))


def rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    return con.execute(query).fetchall()


def instances(con: duckdb.DuckDBPyConnection, query: str) -> list[Instance]:
    """A dimension's instances: one dict per row, column name -> text (the placeholders of the figure ids)."""
    cur = con.execute(query)
    names = [d[0] for d in cur.description]
    return [{n: "" if v is None else str(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def _params_for(text: str, params: dict[str, Any]) -> dict[str, Any]:
    wanted = set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))
    return {k: v for k, v in params.items() if k in wanted}


def run_figure_query(con: duckdb.DuckDBPyConnection, query_id: str, params: dict[str, Any] | None = None) -> None:
    text = sql(query_id)
    con.execute(
        "INSERT INTO contrib SELECT figure_id, role, $query_id, file_id, file_name, source_row, row_key, contribution "
        f"FROM ({text})",
        {**_params_for(text, params or {}), "query_id": query_id},
    )


def _sum_figure_query(con: duckdb.DuckDBPyConnection, query_id: str) -> None:
    """run_figure_query's rows summed by figure and role (evaluate with lineage=False)."""
    text = sql(query_id)
    # each row as contrib would hold it (DECIMAL(18,4)), then summed
    con.execute(f"INSERT INTO contrib_sums SELECT figure_id, role, sum(contribution::DECIMAL(18,4)) FROM ({text}) "
                "GROUP BY ALL")


def _summed_values(con: duckdb.DuckDBPyConnection) -> dict[str, Summed]:
    rows = con.execute("SELECT figure_id, sum(total) FROM contrib_sums GROUP BY figure_id").fetchall()
    return {r[0]: Summed(Decimal(r[1]), 0, []) for r in rows}


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


@dataclass(frozen=True)
class Planned:
    """One concrete figure of the catalogue: its declaration, the instance it was expanded for, its input ids."""

    fdef: FigureDef
    instance: Instance
    id: str
    inputs: list[tuple[str, int, str | None]]  # (figure id, sign, role)

    @property
    def spec(self) -> FigureSpec:
        return FigureSpec(self.id, self.fdef.label.format(**self.instance), self.fdef.kind,
                          self.fdef.definition.format(**self.instance), self.fdef.query)


def catalogue(defs: list[FigureDef], dimensions: dict[str, list[Instance]]) -> list[Planned]:
    """Every concrete figure, in catalogue order: consecutive declarations over the same dimension are expanded
    together, instance by instance (a scheme's figures stay together)."""
    out: list[Planned] = []
    i = 0
    while i < len(defs):
        block = [defs[i]]
        while i + len(block) < len(defs) and defs[i + len(block)].over == defs[i].over:
            block.append(defs[i + len(block)])
        i += len(block)
        for instance in (dimensions[block[0].over] if block[0].over else [{}]):
            for d in block:
                inputs = [(fid, inp.sign, inp.role) for inp in d.inputs
                          for fid in expand(inp.id, instance, dimensions, inp.over)]
                out.append(Planned(d, instance, d.id.format(**instance), inputs))
    return out


def _levels(planned: list[Planned]) -> dict[str, int]:
    """Derivation depth of every figure from its declared inputs: 0 for model-made, 1 + the deepest input else."""
    by_id = {p.id: p for p in planned}
    level: dict[str, int] = {}

    def visit(fid: str, path: tuple[str, ...]) -> int:
        if fid in level:
            return level[fid]
        if fid in path:
            raise ValueError(f"figures derive from each other in a loop: {' -> '.join((*path, fid))}")
        if fid not in by_id:
            raise ValueError(f"{path[-1] if path else fid} is derived from {fid}, which no declaration makes")
        p = by_id[fid]
        level[fid] = 1 + max((visit(i, (*path, fid)) for i, _, _ in p.inputs), default=-1) if p.inputs else 0
        return level[fid]

    for p in planned:
        visit(p.id, ())
    return level


def evaluate(con: duckdb.DuckDBPyConnection, defs: list[FigureDef], dimensions: dict[str, list[Instance]],
             hwb: str, period: Any, plan: dict[tuple[str, str], str | None] | None = None,
             lineage: bool = True) -> list[Figure]:
    """Every figure of a return, in catalogue order (bind() first). Models run once each; derived rows are added
    level by level, so a total is made before the check that reads it whatever order the declarations are in.

    lineage=False: the values only, for the board briefing's periods that no run produced. Each model's rows are
    summed by figure and role as they are made (never kept), and a derived figure adds its inputs' sums, signed:
    the same values, since a sum of rows is the sum of their groups' sums (exact DECIMAL), without the millions of
    contribution rows a quarter's lineage holds. Its figures have no source_rows or files."""
    planned = catalogue(defs, dimensions)
    level = _levels(planned)
    if not lineage:
        con.execute("CREATE OR REPLACE TEMP TABLE contrib_sums (figure_id VARCHAR, role VARCHAR, "
                    "total DECIMAL(38,4))")
    for model in dict.fromkeys(p.fdef.model for p in planned if p.fdef.model):
        if lineage:
            run_figure_query(con, model)
        else:
            _sum_figure_query(con, model)
    con.execute("CREATE OR REPLACE TEMP TABLE derive_map (target VARCHAR, source VARCHAR, sign INTEGER, "
                "role VARCHAR, query_id VARCHAR, level INTEGER)")
    mapping = [(p.id, src, sign, role, p.fdef.query, level[p.id])
               for p in planned if p.inputs and p.fdef.lineage for src, sign, role in p.inputs]
    if mapping:
        insert_rows(con, "derive_map", mapping)
    for depth in sorted({m[5] for m in mapping}):
        if lineage:
            con.execute(
                "INSERT INTO contrib SELECT m.target, coalesce(m.role, c.role), m.query_id, c.file_id, c.file_name, "
                "c.source_row, c.row_key, c.contribution * m.sign FROM contrib c JOIN derive_map m "
                "ON c.figure_id = m.source AND m.level = ?", [depth])
        else:
            con.execute(
                "INSERT INTO contrib_sums SELECT m.target, coalesce(m.role, c.role), sum(c.total * m.sign) "
                "FROM contrib_sums c JOIN derive_map m ON c.figure_id = m.source AND m.level = ? GROUP BY ALL",
                [depth])
    summed = summed_figures(con) if lineage else _summed_values(con)
    by_role: dict[str, dict[str, Decimal]] = {}
    per_role = ("SELECT figure_id, role, sum(contribution) FROM contrib GROUP BY ALL" if lineage
                else "SELECT figure_id, role, sum(total) FROM contrib_sums GROUP BY ALL")
    for fid, role, total in con.execute(per_role).fetchall():
        by_role.setdefault(fid, {})[role] = Decimal(total)
    raw: dict[str, Value] = {}
    final: dict[str, Figure] = {}
    for p in sorted(planned, key=lambda p: level[p.id]):
        got = summed.get(p.id)
        if p.fdef.value is not None:
            ctx = Context(hwb, period, plan or {}, p.instance, got.value if got else None, by_role)
            derived = raw[p.id] = p.fdef.value(ctx, [raw[i] for i, _, _ in p.inputs])
            value = rounded(p.fdef.kind, derived) if isinstance(derived, Decimal) else derived
        elif p.fdef.kind in SUMMED:
            raw[p.id] = got.value if got else Decimal(0)
            value = rounded(p.fdef.kind, got.value) if got else Decimal(0)
        else:
            raise ValueError(f"{p.id}: a {p.fdef.kind} figure needs a value derivation")
        final[p.id] = Figure(p.spec, value, got.source_rows if got else 0, got.files if got else [])
    return [final[p.id] for p in planned]

"""`bcf trace WORKBOOK FIGURE`: every source row behind one figure, read from the workbook's audit pack."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from bcf.audit import pack_dir
from transforms.workbook import csv_safe
from warehouse.db import sql_path

CSV_COLUMNS = ["file", "row", "key", "contribution", "role", "figure_id", "query_id"]


class TraceError(Exception):
    pass


def _manifest(workbook: Path) -> dict:  # type: ignore[type-arg]
    path = pack_dir(workbook) / "manifest.json"
    if not path.exists():
        raise TraceError(f"No audit pack for {workbook.name}: expected {path}")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def resolve_figure(manifest: dict, figure: str) -> dict:  # type: ignore[type-arg]
    """A figure id, or a cell as Sheet!A1 ('Sheet name'!$B$7 and Sheet name!B7 both work)."""
    figures = manifest["figures"]
    by_id = {f["figure_id"]: f for f in figures}
    if figure in by_id:
        return dict(by_id[figure])
    match = re.fullmatch(r"'?(.+?)'?!\$?([A-Za-z]+)\$?(\d+)", figure)
    if match:
        sheet, col, row = match.group(1).replace("''", "'"), match.group(2).upper(), match.group(3)
        for f in figures:
            if f["sheet"] == sheet and f["cell"] == f"{col}{row}":
                return dict(f)
        raise TraceError(f"No figure in cell {sheet}!{col}{row} of {manifest['return']['workbook']}")
    raise TraceError(f"No figure {figure!r} in {manifest['return']['workbook']} (give a figure id or Sheet!A1)")


LINEAGE_FIELDS = ["figure_id", "role", "query_id", "file", "row", "key", "contribution"]


def lineage_rows(workbook: Path, figure_id: str) -> list[dict[str, str]]:
    """One figure's rows. The Parquet copy is sorted by figure id, so DuckDB's filter reads only the row groups
    that can hold it (a cover figure reads none); a pack without it falls back to scanning the CSV."""
    parquet = pack_dir(workbook) / "lineage.parquet"
    if parquet.exists():
        import duckdb

        # One string per row, split here: turning 100,000 rows into Python objects column by column costs ~0.1 s a
        # column, one joined column costs one. A field holding the separator (never seen) falls back to columns.
        cols = [f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in LINEAGE_FIELDS]
        where = "FROM read_parquet(?) WHERE figure_id = ? ORDER BY file, \"row\", role"
        with duckdb.connect() as con:
            got = con.execute(f"SELECT concat_ws(chr(31), {', '.join(cols)}) {where}",
                              [str(parquet), figure_id]).fetchall()
            parts = [r[0].split("\x1f") for r in got]
            if any(len(p) != len(LINEAGE_FIELDS) for p in parts):
                parts = [list(r) for r in con.execute(f"SELECT {', '.join(cols)} {where}",
                                                      [str(parquet), figure_id]).fetchall()]
        return [dict(zip(LINEAGE_FIELDS, p, strict=True)) for p in parts]
    with open(pack_dir(workbook) / "lineage.csv", newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["figure_id"] == figure_id]


def trace(workbook: Path, figure: str, fmt: str = "table") -> str:
    manifest = _manifest(workbook)
    spec = resolve_figure(manifest, figure)
    rows = lineage_rows(workbook, spec["figure_id"])
    out = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([csv_safe(v) for v in (r["file"], r["row"], r["key"], _plain(r["contribution"]),
                                                   r["role"], r["figure_id"], r["query_id"])])
        return out.getvalue()
    query = spec["query_id"]
    try:
        sql_file: Path | None = sql_path(query)
    except FileNotFoundError:  # a derivation or a parameter: the definition says how it is made
        sql_file = None
    out.write(f"{spec['figure_id']} = {spec['value']}  ({spec['sheet']}!{spec['cell']} of {workbook.name})\n")
    out.write(f"query: {query}" + (f"  ({sql_file})" if sql_file else "") + "\n")
    out.write(f"{len(rows)} source row(s)\n\n")
    if rows:
        widths = [max(len(c), *(len(str(r[k])) for r in rows)) for c, k in (
            ("file", "file"), ("row", "row"), ("key", "key"), ("contribution", "contribution"), ("role", "role"))]
        header = ["file", "row", "key", "contribution", "role"]
        out.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "\n")
        for r in rows:
            values = [r["file"], r["row"], r["key"], _plain(r["contribution"]), r["role"]]
            out.write("  ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)) + "\n")
    return out.getvalue()


def _plain(value: str) -> str:
    """1.0000 -> 1, 120.5000 -> 120.50: a count reads as a count, money keeps pence."""
    if "." not in value:
        return value
    whole, frac = value.split(".")
    frac = frac.rstrip("0")
    if not frac:
        return whole
    return f"{whole}.{frac.ljust(2, '0')}"

"""`bcf trace WORKBOOK FIGURE`: every source row behind one figure, read from the workbook's audit pack."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

from bcf.core.settings import codes
from bcf.returns.pack import pack_dir
from bcf.transforms.figures import rounded
from bcf.transforms.workbook import csv_safe
from bcf.warehouse.db import sql, sql_path

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
ORDER = 'file, "row", role, "key"'
TABLE_COLUMNS = ["file", "row", "key", "contribution", "role"]


def lineage_rows(workbook: Path, figure_id: str) -> list[dict[str, str]]:
    """One figure's rows from the pack's lineage.csv (a pack written before lineage.parquet; `bcf why` reads this)."""
    parquet = pack_dir(workbook) / "lineage.parquet"
    if parquet.exists():
        import duckdb

        cols = ", ".join(f'coalesce(CAST("{c}" AS VARCHAR), \'\') AS "{c}"' for c in LINEAGE_FIELDS)
        with duckdb.connect() as con:
            cur = con.execute(f"SELECT {cols} FROM read_parquet(?) WHERE figure_id = ? ORDER BY {ORDER}",
                              [str(parquet), figure_id])
            return [dict(zip(LINEAGE_FIELDS, r, strict=True)) for r in cur.fetchall()]
    with open(pack_dir(workbook) / "lineage.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["figure_id"] == figure_id]
    return sorted(rows, key=lambda r: (r["file"], int(r["row"] or 0), r["role"], r["key"]))


def trace(workbook: Path, figure: str, fmt: str = "table") -> str:
    manifest = _manifest(workbook)
    spec = resolve_figure(manifest, figure)
    parquet = pack_dir(workbook) / "lineage.parquet"
    if parquet.exists():
        count, body = _rendered_by_duckdb(parquet, spec["figure_id"], fmt)
    else:
        rows = lineage_rows(workbook, spec["figure_id"])
        count, body = len(rows), (_csv_lines(rows) if fmt == "csv" else _table_lines(rows))
    if fmt == "csv":
        return ",".join(CSV_COLUMNS) + "\n" + body
    query = spec["query_id"]
    try:
        sql_file: Path | None = sql_path(query)
    except FileNotFoundError:  # a derivation or a parameter: the definition says how it is made
        sql_file = None
    return (f"{spec['figure_id']} = {spec['value']}  ({spec['sheet']}!{spec['cell']} of {workbook.name})\n"
            + f"query: {query}" + (f"  ({sql_file})" if sql_file else "") + "\n"
            + f"{count} source row(s)\n\n" + body + age_standardised(workbook, manifest, spec["figure_id"]))


def age_standardised(workbook: Path, manifest: dict, figure_id: str) -> str:  # type: ignore[type-arg]
    """For a directly age-standardised rate (falls): what rebuilds it from the trace alone — per age band the
    admissions counted (numerator rows, role count:<band>), the population denominator (plan.population rows) and
    the standard-population weight the run used (manifest), then the sum. Empty for any other figure."""
    base, _, part = figure_id.rpartition(".")
    if part not in ("actual", "numerator", "denominator"):
        return ""
    counts: dict[str, Decimal] = {}
    populations: dict[str, Decimal] = {}
    for part, into in ((".numerator", counts), (".denominator", populations)):
        for r in lineage_rows(workbook, base + part):
            role = r["role"]
            if ":" in role and role.split(":", 1)[0] in ("count", "population"):
                band = role.split(":", 1)[1]
                into[band] = into.get(band, Decimal(0)) + Decimal(r["contribution"])
    if not counts and not populations:
        return ""
    weights = {b: Decimal(str(w)) for b, w in (manifest.get("standard_population") or {}).get(
        "esp2013_65plus", codes()["esp2013_65plus"]).items()}
    lines = ["", "Directly age-standardised rate per 100,000 (2013 European Standard Population, 65+):",
             f"{'age band':<9} {'admissions':>10} {'population':>11} {'rate per 100,000':>17} {'ESP weight':>11} "
             f"{'weight x rate':>15}"]
    total = Decimal(0)
    for band, weight in weights.items():
        count, population = counts.get(band, Decimal(0)), populations.get(band)
        rate = count / population * 100_000 if population else None
        if rate is not None:
            total += rate * weight
        lines.append(f"{band:<9} {count:>10,.0f} {'' if population is None else f'{population:,.0f}':>11} "
                     f"{'' if rate is None else f'{rate:,.2f}':>17} {weight:>11,.0f} "
                     f"{'' if rate is None else f'{rate * weight:,.0f}':>15}")
    summed = sum(weights.values())
    rebuilt = rounded("rate", total / summed) if summed and all(populations.get(b) for b in weights) else None
    lines.append(f"rate = sum(weight x rate) / sum(weight) = {total:,.0f} / {summed:,.0f} = "
                 f"{'blank (a band has no population)' if rebuilt is None else rebuilt}")
    return "\n".join(lines) + "\n"


def _csv_lines(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for r in rows:
        writer.writerow([csv_safe(v) for v in (r["file"], r["row"], r["key"], _plain(r["contribution"]), r["role"],
                                               r["figure_id"], r["query_id"])])
    return out.getvalue()


def _table_lines(rows: list[dict[str, str]]) -> str:
    """Columns padded to their widest value (the contribution's width is its stored form's, e.g. 1.0000)."""
    if not rows:
        return ""
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in TABLE_COLUMNS]
    lines = ["  ".join(h.ljust(w) for h, w in zip(TABLE_COLUMNS, widths, strict=True))]
    for r in rows:
        values = [r["file"], r["row"], r["key"], _plain(r["contribution"]), r["role"]]
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)))
    return "\n".join(lines) + "\n"


def _rendered_by_duckdb(parquet: Path, figure_id: str, fmt: str) -> tuple[int, str]:
    """The same text as _csv_lines / _table_lines, made by DuckDB from the Parquet copy in one string: the Parquet is
    sorted by figure id, so the filter reads only the row groups that can hold it (a cover figure reads none), and a
    figure of 270,000 rows renders in a fraction of a second instead of seconds of Python per row."""
    import duckdb

    text = {c: f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in LINEAGE_FIELDS}
    with duckdb.connect() as con:
        con.execute(sql("csv_macros"))
        con.execute(f"CREATE TEMP TABLE r AS SELECT {', '.join(f'{e} AS {c}' for c, e in text.items())}, "
                    f'"row" AS row_number FROM read_parquet(?) WHERE figure_id = ?', [str(parquet), figure_id])
        order = ORDER.replace('"row"', "row_number")
        header, source = "", "r"
        if fmt == "csv":
            fields = ["file", "row", "key", "plain_number(contribution)", "role", "figure_id", "query_id"]
            # made safe first, then quoted: one macro inside another repeats its argument in every branch, which
            # took DuckDB ~50 ms to plan whatever the rows (warehouse/sql/exports/findings_lines.sql)
            source = "(SELECT *, " + ", ".join(f"csv_safe({f}) AS safe_{i}" for i, f in enumerate(fields)) + " FROM r)"
            line = " || ',' || ".join(f"csv_field(safe_{i})" for i in range(len(fields)))
        else:
            widths = con.execute("SELECT " + ", ".join(f"greatest({len(c)}, max(length({c})))" for c in TABLE_COLUMNS)
                                 + " FROM r").fetchone()
            if widths is None or widths[0] is None:
                return 0, ""
            header = "  ".join(h.ljust(w) for h, w in zip(TABLE_COLUMNS, widths, strict=True)) + "\n"
            values = ["file", "row", "key", "plain_number(contribution)", "role"]
            line = " || '  ' || ".join(f"{v} || repeat(' ', greatest({w} - length({v}), 0))"
                                       for v, w in zip(values, widths, strict=True))
        got = con.execute(f"SELECT count(*), string_agg({line}, chr(10) ORDER BY {order}) FROM {source}").fetchone()
    if not got or not got[0]:
        return 0, ""
    return int(got[0]), header + str(got[1]) + "\n"


def _plain(value: str) -> str:
    """1.0000 -> 1, 120.5000 -> 120.50: a count reads as a count, money keeps pence."""
    if "." not in value:
        return value
    whole, frac = value.split(".")
    frac = frac.rstrip("0")
    if not frac:
        return whole
    return f"{whole}.{frac.ljust(2, '0')}"

"""lineage.csv, written by DuckDB from the lineage rows (a table or the pack's Parquet copy): the audit pack writes it,
and revisions make it again from a pack that kept only the Parquet copy, so both compare the same text."""

from __future__ import annotations

from pathlib import Path

import duckdb

from bcf.warehouse import db


def sql_literal(path: Path) -> str:
    """A path as a SQL string literal (COPY ... TO takes no parameter): quotes doubled."""
    return "'" + str(path).replace("'", "''") + "'"


def write_lineage_csv(con: duckdb.DuckDBPyConnection, lineage: str, path: Path) -> None:
    """lineage.csv from the lineage rows (`lineage`: a table or read_parquet(...), read in order), written by DuckDB,
    its text neutralised (row keys and file names come from suppliers) by the csv_safe macro (warehouse/sql/exports),
    the same rule as transforms.workbook.csv_safe."""
    con.execute(db.sql("csv_macros"))
    columns = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {lineage})").fetchall()
    cells = ", ".join(f'csv_safe("{name}") AS "{name}"' if kind == "VARCHAR" else f'"{name}"'
                      for name, kind in columns)
    # one thread: DuckDB's parallel CSV writer does not keep the rows in the order they are read (figure by figure)
    con.execute("SET threads = 1")
    try:
        con.execute(f"COPY (SELECT {cells} FROM {lineage}) TO {sql_literal(path)} (FORMAT CSV, HEADER)")
    finally:
        con.execute("RESET threads")

"""The staging tables and their views, made from the input contract (config/extracts.toml): each extract kind's and
plan sheet's columns are declared there once, and `stg_<table>`, `cur_<table>`, `all_row_hashes` and
`keys_in_force` follow from it. Every other table of the warehouse is SQL in warehouse/sql/staging/schema.sql.

A staged row carries, before the contract's columns, file_id (the sha256 of the file it came from), source_row (its
row number as the supplier sees it, header = 1) and a keyed hash of its raw values; the NHS number column becomes
person_key where the contract places it.
"""

from __future__ import annotations

from bcf.core.settings import Column, TableContract, contracts

PERSON_KEY = "person_key"

# The warehouse type of each contract type, unless a column names its own (`warehouse_type`: money is
# DECIMAL(18,2)). Units, hours and plan values are DECIMAL(18,4).
WAREHOUSE_TYPES = {"text": "VARCHAR", "code": "VARCHAR", "int": "INTEGER", "decimal": "DECIMAL(18,4)", "date": "DATE",
                   "nhs_number": "VARCHAR"}

# A row hash is a keyed hash, unique to its row: DuckDB's string compression cannot shrink it, and trying cost
# staging 1.86M discharges 2.1 CPU-s against 1.8 with it stored as it is (a warehouse of 218 MB, not 160 MB).
# Person keys repeat (a patient's spells), so they stay compressed: stored as they are too, they saved another
# 0.3 CPU-s but took 16M discharges' peak memory from ~7.0 to ~7.4 GB. A plan sheet has a few hundred rows, so its
# hashes keep the default. Applies to tables created from now on.
_UNCOMPRESSED = " USING COMPRESSION uncompressed"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_name(column: Column) -> str:
    """The staged column's name: the NHS number is replaced by its keyed person_key (transforms.parse)."""
    return PERSON_KEY if column.type == "nhs_number" else column.name


def column_ddl(column: Column) -> str:
    sql_type = column.warehouse_type or WAREHOUSE_TYPES[column.type]
    return f"{_quoted(column_name(column))} {sql_type}{'' if column.nullable else ' NOT NULL'}"


def table_ddl(contract: TableContract) -> str:
    """CREATE TABLE stg_<table>: the bookkeeping columns, then the contract's in its order."""
    compression = "" if contract.sheet else _UNCOMPRESSED
    columns = ["file_id VARCHAR NOT NULL", "source_row BIGINT NOT NULL", f"row_hash VARCHAR NOT NULL{compression}",
               *map(column_ddl, contract.columns)]
    return f"CREATE TABLE IF NOT EXISTS stg_{contract.table} (\n    " + ",\n    ".join(columns) + "\n);"


def current_view_ddl(contract: TableContract) -> str:
    """Rows of files in force: a superseded or rejected file's rows stay on record but leave the view. The file
    name comes along so lineage can name the original file."""
    t = contract.table
    return (f"CREATE OR REPLACE VIEW cur_{t} AS\n    SELECT s.*, f.file_name FROM stg_{t} s JOIN files f "
            "USING (file_id) WHERE f.status = 'loaded';")


def row_hashes_ddl(tables: list[TableContract]) -> str:
    """Every staged row's keyed hash of its raw values: lineage carries it so a revision can tell a changed row
    (same key, other values) from an unchanged one. A plan workbook has a sheet per table, so there `sheet` (the
    prefix of the lineage row key) tells rows with the same row number apart."""
    parts = [f"SELECT file_id, source_row, row_hash, "
             f"{'NULL' if c.sheet is None else _text(c.sheet)}::VARCHAR AS sheet FROM stg_{c.table}" for c in tables]
    return "CREATE OR REPLACE VIEW all_row_hashes AS\n    " + "\n    UNION ALL ".join(parts) + ";"


def keys_ddl(tables: list[TableContract]) -> str:
    """Each extract row in force by its business key (the contract's `key`, columns joined by '/'): what
    warehouse/sql/checks/check_duplicate_keys.sql compares across files. Plan sheets' keys are checked inside
    their workbook by the GX suites."""
    parts = []
    for c in tables:
        key = " || '/' || ".join(_as_text(c.column(k)) for k in c.key)
        hwb = "hwb_code" if "hwb_code" in c.names else "NULL::VARCHAR"
        parts.append(f"SELECT {_text('+'.join(c.key))} AS key_column, {_text(c.table)} AS kind, {key} AS key, "
                     f"file_id, file_name, source_row, {hwb} AS hwb_code FROM cur_{c.table}")
    return "CREATE OR REPLACE VIEW keys_in_force AS\n    " + "\n    UNION ALL ".join(parts) + ";"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _as_text(column: Column) -> str:
    name = _quoted(column_name(column))
    return name if column.type in ("text", "code") else f"CAST({name} AS VARCHAR)"


def staging_ddl() -> str:
    """The DDL of every staging table and view the contract declares (run after schema.sql: the views join
    `files`)."""
    tables = list(contracts().values())
    extracts = [c for c in tables if c.sheet is None]
    return "\n\n".join([*map(table_ddl, tables), *map(current_view_ddl, tables), row_hashes_ddl(tables),
                        keys_ddl(extracts)])

"""Each extract kind's columns are declared once, in config/extracts.toml: the staging tables and views are made
from it (warehouse/staging_tables.py), and a GX suite may name only columns the contract has."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bcf.core.settings import contracts, expectations_dir
from bcf.warehouse import db
from bcf.warehouse.staging_tables import PERSON_KEY

# The staging tables as warehouse/sql/staging/schema.sql declared them by hand before they were made from the
# contract, as DuckDB reads them back (duckdb_tables().sql): names, types, order, NOT NULL and compression.
OLD_STAGING_TABLES = {
    "stg_discharges": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR USING COMPRESSION Uncompressed '
        'NOT NULL, spell_id VARCHAR NOT NULL, provider_code VARCHAR NOT NULL, setting VARCHAR NOT NULL, '
        'person_key VARCHAR, age INTEGER NOT NULL, hwb_code VARCHAR NOT NULL, admission_date DATE NOT NULL, '
        'admission_method VARCHAR NOT NULL, ready_for_discharge_date DATE, discharge_date DATE, '
        'discharge_destination VARCHAR, discharge_pathway VARCHAR, primary_diagnosis VARCHAR NOT NULL, '
        'external_cause VARCHAR'
    ),
    "stg_plan_capacity": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'service VARCHAR NOT NULL, "month" VARCHAR NOT NULL, capacity DECIMAL(18,4)'
    ),
    "stg_plan_conditions": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'period VARCHAR NOT NULL, condition VARCHAR NOT NULL, confirmed VARCHAR, actions VARCHAR, timeframe '
        'VARCHAR'
    ),
    "stg_plan_income": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'fund_year VARCHAR NOT NULL, funding_source VARCHAR NOT NULL, amount DECIMAL(18,2) NOT NULL'
    ),
    "stg_plan_metric_actuals": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'metric VARCHAR NOT NULL, period VARCHAR NOT NULL, "value" DECIMAL(18,4), source_note VARCHAR'
    ),
    "stg_plan_metric_plans": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'metric VARCHAR NOT NULL, period VARCHAR NOT NULL, plan_value DECIMAL(18,4)'
    ),
    "stg_plan_population": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'fund_year VARCHAR NOT NULL, age_band VARCHAR NOT NULL, population BIGINT NOT NULL'
    ),
    "stg_plan_schemes": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL, hwb_code VARCHAR, '
        'fund_year VARCHAR NOT NULL, scheme_id VARCHAR NOT NULL, scheme_name VARCHAR NOT NULL, scheme_type '
        'VARCHAR NOT NULL, funding_source VARCHAR NOT NULL, planned_spend DECIMAL(18,2) NOT NULL, output_unit '
        'VARCHAR, planned_output DECIMAL(18,4), provider VARCHAR, commissioner VARCHAR'
    ),
    "stg_reablement": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR USING COMPRESSION Uncompressed '
        'NOT NULL, episode_id VARCHAR NOT NULL, person_key VARCHAR, age INTEGER NOT NULL, hwb_code VARCHAR NOT '
        'NULL, referral_source VARCHAR NOT NULL, hospital_discharge_date DATE, service VARCHAR NOT NULL, '
        'start_date DATE NOT NULL, end_date DATE, hours_delivered DECIMAL(18,4) NOT NULL, outcome VARCHAR, '
        'status_91d VARCHAR'
    ),
    "stg_spend": (
        'file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR USING COMPRESSION Uncompressed '
        'NOT NULL, transaction_id VARCHAR NOT NULL, hwb_code VARCHAR, posting_date DATE NOT NULL, scheme_id '
        'VARCHAR NOT NULL, funding_source VARCHAR NOT NULL, amount DECIMAL(18,2) NOT NULL, units DECIMAL(18,4), '
        'unit VARCHAR, cost_centre VARCHAR, supplier VARCHAR, description VARCHAR'
    ),
}
OLD_ROW_HASH_COLUMNS = [("file_id", "VARCHAR"), ("source_row", "BIGINT"), ("row_hash", "VARCHAR"), ("sheet", "VARCHAR")]


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [relation]).fetchall()]


def test_staging_tables_made_from_the_contract_are_the_tables_declared_by_hand(tmp_path: Path) -> None:
    with db.connect(tmp_path / "wh.duckdb") as con:
        made = dict(con.execute("SELECT table_name, sql FROM duckdb_tables() WHERE table_name LIKE 'stg\\_%' "
                                "ESCAPE '\\'").fetchall())
        assert made == {name: f"CREATE TABLE {name}({columns});" for name, columns in OLD_STAGING_TABLES.items()}
        for name in OLD_STAGING_TABLES:
            view = name.replace("stg_", "cur_", 1)
            assert _columns(con, view) == [*_columns(con, name), ("file_name", "VARCHAR")], view
        assert _columns(con, "all_row_hashes") == OLD_ROW_HASH_COLUMNS


def test_a_warehouse_made_by_the_hand_written_schema_still_opens(tmp_path: Path) -> None:
    """A warehouse on disk from before: its tables stay as they are, the views are made again over them."""
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(db.sql("schema"))
        for name, columns in OLD_STAGING_TABLES.items():
            con.execute(f"CREATE TABLE {name}({columns})")
        con.execute("CREATE TABLE schema_meta (sql_sha256 VARCHAR); INSERT INTO schema_meta VALUES ('before')")
        con.execute("INSERT INTO files (file_id, kind, file_name, origin_uri, size_bytes, landed_path, received_at, "
                    "run_id, status) VALUES ('f1', 'spend', 'spend.csv', 'file:///spend.csv', 1, '/l', now(), 'r', "
                    "'loaded')")
        con.execute("INSERT INTO stg_spend (file_id, source_row, row_hash, transaction_id, posting_date, scheme_id, "
                    "funding_source, amount) VALUES ('f1', 2, 'h', 'T1', DATE '2023-01-05', 'DF01', 'la', 10)")
    with db.connect(path) as con:
        assert con.execute("SELECT transaction_id, amount FROM cur_spend").fetchall() == [("T1", 10)]
        assert con.execute("SELECT kind, key_column, key, hwb_code FROM keys_in_force").fetchall() == [
            ("spend", "transaction_id", "T1", None)]
        assert con.execute("SELECT count(*) FROM all_row_hashes").fetchone() == (1,)


def suite_columns_outside_the_contract(folder: Path) -> list[str]:
    """Every column a suite in the folder names (column, column_A, column_B, column_list) that the contract's table
    of the same name does not have, and every suite with no table. A staged NHS number is its person_key."""
    found = []
    tables = contracts()
    for path in sorted(folder.glob("*.json")):
        contract = tables.get(path.stem)
        if contract is None:
            found.append(f"{path.name}: no table {path.stem} in config/extracts.toml")
            continue
        known = {*contract.names, PERSON_KEY}
        for i, rule in enumerate(json.loads(path.read_text(encoding="utf-8"))["expectations"]):
            kwargs: dict[str, Any] = rule["kwargs"]
            named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
            named += kwargs.get("column_list", [])
            found += [f"{path.name} rule {i} ({rule['type']}): {name}" for name in named if name not in known]
    return found


def test_every_suite_names_only_columns_of_the_contract() -> None:
    assert suite_columns_outside_the_contract(expectations_dir()) == []
    assert {p.stem for p in expectations_dir().glob("*.json")} == set(contracts())


@pytest.mark.parametrize(("field", "planted"), [("column", "discharge_dat"), ("column_B", "admision_date"),
                                                ("column_list", ["provider_code", "spel_id"])])
def test_a_suite_naming_a_column_the_contract_lacks_is_caught(tmp_path: Path, field: str, planted: Any) -> None:
    shutil.copytree(expectations_dir(), tmp_path / "suites")
    path = tmp_path / "suites" / "discharges.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    rule = next(r for r in suite["expectations"] if field in r["kwargs"])
    rule["kwargs"][field] = planted
    path.write_text(json.dumps(suite), encoding="utf-8")
    found = suite_columns_outside_the_contract(tmp_path / "suites")
    assert len(found) == 1 and found[0].startswith("discharges.json rule ") and found[0].endswith(
        ("discharge_dat", "admision_date", "spel_id"))

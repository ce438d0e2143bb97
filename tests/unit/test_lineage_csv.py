"""lineage.csv is written by DuckDB (COPY with the csv_safe macro), not row by row in Python: read back, every cell
must be what Python's csv writer with transforms.workbook.csv_safe wrote, whatever a supplier put in a key. (The
files differ in one byte pattern only: DuckDB also quotes a field holding a carriage return, which Python's writer
left bare and its own reader then splits.)"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bcf.returns.lineage_csv import write_lineage_csv
from bcf.transforms.workbook import csv_safe

AWKWARD = ["S1", "=HYPERLINK(\"x\")", "+44 20", "-12.50", "+3", "1e5", "-1e-5", "-.5", "@SUM(A1)", "\tTAB", "\rCR",
           "a,b", 'say "hi"', "two\nlines", "", None, "-", "+", "-١٢", "Zoë's ward", "-12.", " -1", "=1", "--1"]


def python_cells(con: duckdb.DuckDBPyConnection) -> list[list[str]]:
    """The cells the Python writer this replaced wrote: csv_safe on every value, None as an empty cell."""
    cur = con.execute("SELECT * FROM lineage")
    header = [d[0] for d in cur.description]
    return [header, *(["" if v is None else str(csv_safe(v)) for v in r] for r in cur.fetchall())]


def test_duckdb_writes_the_same_lineage_csv_as_the_python_writer(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE lineage (figure_id VARCHAR, role VARCHAR, query_id VARCHAR, file VARCHAR, "
                "\"row\" BIGINT, \"key\" VARCHAR, contribution DECIMAL(18, 2), file_id VARCHAR, row_hash VARCHAR)")
    rows = [("df.spend.to_date", "counted", "df_schemes", f"=evil{i}.csv" if i % 3 == 0 else "spend,x.csv",
             None if i % 7 == 0 else i + 2, key, None if i % 5 == 0 else Decimal(i) - Decimal("20.05"),
             "f" * 8, "ab" * 16) for i, key in enumerate(AWKWARD)]
    con.executemany("INSERT INTO lineage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    write_lineage_csv(con, "lineage", tmp_path / "duckdb.csv")
    with open(tmp_path / "duckdb.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == python_cells(con)
    with open(tmp_path / "duckdb.csv", newline="", encoding="utf-8") as fh:
        keys = [r["key"] for r in csv.DictReader(fh)]
    assert keys[1] == "'=HYPERLINK(\"x\")" and keys[3] == "-12.50" and keys[13] == "two\nlines"
    assert keys[10] == "'\rCR" and keys[18] == "'-١٢"  # not a number a spreadsheet reads (not ASCII digits): quoted


@pytest.mark.slow
def test_lineage_csv_keeps_the_parquet_copys_order_figure_by_figure(tmp_path: Path) -> None:
    """DuckDB's parallel CSV writer reorders rows read from a multi-row-group Parquet file; the pack's CSV must list
    each figure's rows together, in the sorted order of the Parquet copy."""
    con = duckdb.connect()
    parquet = tmp_path / "lineage.parquet"
    con.execute(f"COPY (SELECT 'fig.' || lpad(CAST(i // 10000 AS VARCHAR), 3, '0') AS figure_id, 'counted' AS role, "
                f"'q' AS query_id, 'f.csv' AS file, i AS \"row\", 'K' || i AS \"key\", CAST(1 AS DECIMAL(18, 4)) "
                f"AS contribution, 'id' AS file_id, md5(CAST(i AS VARCHAR)) AS row_hash FROM range(400000) t(i) "
                f"ORDER BY figure_id, \"row\") TO '{parquet}' (FORMAT PARQUET, ROW_GROUP_SIZE 20000)")
    write_lineage_csv(con, f"read_parquet('{parquet}')", tmp_path / "lineage.csv")
    with open(tmp_path / "lineage.csv", newline="", encoding="utf-8") as fh:
        rows = [int(r["row"]) for r in csv.DictReader(fh)]
    assert rows == list(range(400000))


def test_a_large_lineage_is_joined_then_sorted_into_the_same_parquet(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Above LINEAGE_JOIN_APART rows the join with the row hashes and the sort run one after the other (together
    they exceed DuckDB's memory cap at 16 million discharges); the Parquet copy must be the same either way."""
    from bcf.returns import pack as audit
    from bcf.warehouse import db

    with db.connect(tmp_path / "wh.duckdb") as con:
        con.execute(db.sql("run_tables"))
        for file_id, rows in (("f1", 40), ("f2", 35)):
            con.execute("INSERT INTO stg_spend (file_id, source_row, row_hash, transaction_id, posting_date, "
                        "scheme_id, funding_source, amount) SELECT ?, r, 'h' || ? || r, 'T' || r, DATE '2023-01-01', "
                        "'S1', 'icb', 1 FROM range(2, ? + 2) t(r)", [file_id, file_id, rows])
        con.execute("INSERT INTO contrib SELECT 'fig' || (r % 7), CASE WHEN r % 3 = 0 THEN 'a' ELSE 'b' END, 'q', "
                    "CASE WHEN r % 2 = 0 THEN 'f1' ELSE 'f2' END, CASE WHEN r % 2 = 0 THEN 'one.csv' ELSE 'two.csv' "
                    "END, 2 + r % 30, 'T' || r, r FROM range(0, 120) t(r)")
        audit._write_lineage_parquet(con, tmp_path / "together.parquet")
        monkeypatch.setattr(audit, "LINEAGE_JOIN_APART", 0)
        audit._write_lineage_parquet(con, tmp_path / "apart.parquet")
        together = con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'together.parquet'}')").fetchall()
        apart = con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'apart.parquet'}')").fetchall()
    assert len(together) == 120 and all(r[-1] for r in together)  # every row found its hash
    assert sorted(together) == sorted(apart)
    key = [(r[0], r[3], r[4], r[1]) for r in apart]
    assert key == sorted(key)

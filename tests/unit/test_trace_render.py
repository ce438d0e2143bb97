"""`bcf trace` renders a figure's rows with DuckDB from the pack's lineage.parquet (issue 12: 270,000 rows in well
under a second); a pack without the Parquet copy is read from lineage.csv in Python. Both give the same text (the
table form of an old pack shows formula-like text as lineage.csv stores it, with its quote prefix, so the table
comparison leaves such values out)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bcf.audit.trace import trace
from bcf.returns.lineage_csv import sql_literal, write_lineage_csv

KEYS = ["S1", "=HYPERLINK(\"x\")", "a,b", 'say "hi"', "two\nlines", "", "-12.50", "Zoë's ward", "@x", "S1"]


def write_pack(tmp_path: Path, formulas: bool) -> Path:
    workbook = tmp_path / "df_test.xlsx"
    pack = tmp_path / "df_test.audit"
    pack.mkdir()
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE lineage (figure_id VARCHAR, role VARCHAR, query_id VARCHAR, file VARCHAR, "
                "\"row\" BIGINT, \"key\" VARCHAR, contribution DECIMAL(18, 4), file_id VARCHAR, row_hash VARCHAR)")
    keys = KEYS if formulas else [k for k in KEYS if not k.startswith(("=", "-", "@"))]
    rows = [("df.x", "counted" if i % 2 else "income", "df_schemes",
             "=a.csv" if formulas and i % 3 == 0 else "spend,x.csv" if i % 3 else "a.csv", (i * 7) % 5 + 2, key,
             [Decimal(1), Decimal("120.5"), Decimal("-20.05"), Decimal("0.125")][i % 4],
             "f1", "ab") for i, key in enumerate(keys)]
    rows.append(("df.other", "counted", "q", "b.csv", 2, "K", Decimal(1), "f2", "cd"))
    con.executemany("INSERT INTO lineage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    write_lineage_csv(con, "lineage", pack / "lineage.csv")
    con.execute(f"COPY (SELECT * FROM lineage ORDER BY figure_id) TO {sql_literal(pack / 'lineage.parquet')} "
                "(FORMAT PARQUET)")
    manifest = {"return": {"workbook": workbook.name}, "figures": [
        {"figure_id": "df.x", "sheet": "Spend", "cell": "B4", "value": "7", "query_id": "df_schemes"},
        {"figure_id": "df.none", "sheet": "Spend", "cell": "B5", "value": "0", "query_id": "df_schemes"}]}
    (pack / "manifest.json").write_text(json.dumps(manifest))
    return workbook


@pytest.mark.parametrize("fmt", ["table", "csv"])
@pytest.mark.parametrize("figure", ["df.x", "df.none"])
def test_duckdb_and_python_render_the_same_trace(tmp_path: Path, fmt: str, figure: str) -> None:
    workbook = write_pack(tmp_path, formulas=fmt == "csv")
    by_duckdb = trace(workbook, figure, fmt)
    (tmp_path / "df_test.audit" / "lineage.parquet").unlink()
    by_python = trace(workbook, figure, fmt)
    assert by_duckdb == by_python
    if figure == "df.x" and fmt == "csv":
        assert by_duckdb.startswith("file,row,key,contribution,role,figure_id,query_id\n")
        assert "'=HYPERLINK" in by_duckdb and '"two\nlines"' in by_duckdb and ",120.50," in by_duckdb
        assert by_duckdb.count("\n") == len(KEYS) + 2  # header, one line per row, and the line inside a key

"""warehouse.db.insert_rows: a few rows of Python values in one statement, exactly as executemany inserted them
(the same values and types, in the same order), without importing pandas."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

from bcf.warehouse import db

TABLE = ("CREATE TABLE {} (list VARCHAR NOT NULL, code VARCHAR, weight DECIMAL(18,4), age INTEGER, seen TIMESTAMP, "
         "ok BOOLEAN)")
ROWS = [("esp_band", "65-69", Decimal("5500.0000"), 65, dt.datetime(2023, 4, 1, 9, 30), True),
        ("died", None, None, None, None, None),
        ("x, 'quoted'", "é ☃", Decimal("-0.0001"), -1, dt.datetime(1999, 12, 31, 23, 59, 59, 999999), False)]


def test_insert_rows_is_executemany_in_one_statement() -> None:
    con = duckdb.connect()
    con.execute(TABLE.format("many"))
    con.execute(TABLE.format("one"))
    con.executemany("INSERT INTO many VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    db.insert_rows(con, "one", ROWS)
    db.insert_rows(con, "one", [])  # nothing to insert: no statement
    many = con.execute("SELECT *, typeof(weight) FROM many").fetchall()
    assert con.execute("SELECT *, typeof(weight) FROM one").fetchall() == many
    assert len(many) == 3


def test_insert_rows_by_named_columns(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(TABLE.format("t"))
    db.insert_rows(con, "t", [("a", Decimal("1.5")), ("b", None)], ("list", "weight"))
    assert con.execute("SELECT list, code, weight FROM t").fetchall() == [("a", None, Decimal("1.5000")),
                                                                         ("b", None, None)]


def test_insert_rows_imports_no_pandas() -> None:
    probe = ("import sys, duckdb\nfrom bcf.warehouse import db\ncon = duckdb.connect()\n"
             "con.execute('CREATE TABLE t (a VARCHAR, b INTEGER)')\ndb.insert_rows(con, 't', [('x', 1), ('y', None)])\n"
             "print(con.execute('SELECT count(*) FROM t').fetchall()[0][0], 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2", "False"]

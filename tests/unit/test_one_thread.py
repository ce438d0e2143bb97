"""warehouse.db.OneThread: DuckDB on one thread while the ingest worker has the other core, so each insert's row
groups come out whole (nothing for a later checkpoint to merge), and its threads back afterwards."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from bcf.warehouse import db

ROW_GROUP = 122_880  # DuckDB's rows per row group


def _threads(con: object) -> int:
    return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])  # type: ignore[attr-defined]


def test_one_thread_for_every_connection_then_back(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with db.connect(path) as con:
        con.execute("SET threads = 3")
        with db.OneThread(path) as one:
            assert _threads(con) == 1  # a setting of the database: the other connections run on one thread too
            one.restore()
            assert _threads(con) == 3
            one.restore()  # once only: a second call changes nothing
            assert _threads(con) == 3
        with db.OneThread(path):
            assert _threads(con) == 1
        assert _threads(con) == 3


def test_inserts_on_one_thread_leave_whole_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    part = pa.table({"n": pa.array(range(150_000), pa.int64()), "t": pa.array([f"v{i % 977}" for i in range(150_000)])})
    with db.connect(path) as con, db.OneThread(path):
        con.execute("CREATE TABLE t (n BIGINT, t VARCHAR)")
        con.execute("BEGIN")
        for _ in range(2):  # two parts of one file, in one transaction, as stage_file inserts them
            db.insert_frame(con, "t", part)
        con.execute("COMMIT")
        counts = [r[0] for r in con.execute("SELECT max(count) FROM pragma_storage_info('t') WHERE column_id = 0 "
                                            "GROUP BY row_group_id ORDER BY row_group_id").fetchall()]
    assert sum(counts) == 300_000
    assert counts[:-1] == [ROW_GROUP] * (len(counts) - 1)  # only the last is part-filled

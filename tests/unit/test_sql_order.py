"""The intermediate views are made in the order the SQL files' own names give (as dbt's ref), not a hand-kept list."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcf.warehouse.engine import _in_dependency_order, intermediate_views


def test_int_ledger_is_made_after_int_plan_whose_views_it_reads() -> None:
    order = intermediate_views()
    assert set(order) == {"int_discharges", "int_reablement", "int_plan", "int_ledger"}
    assert order.index("int_plan") < order.index("int_ledger")


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.sql").write_text(text, encoding="utf-8")
    return folder


def test_a_file_comes_after_the_file_making_what_it_reads(tmp_path: Path) -> None:
    folder = _write(tmp_path / "a", {"int_a": "CREATE OR REPLACE TEMP VIEW int_a AS SELECT * FROM int_z_view;",
                                     "int_z": "CREATE OR REPLACE TEMP VIEW int_z_view AS SELECT 1;",
                                     "int_values": "SELECT * FROM int_a;"})  # makes no view: not bound
    assert _in_dependency_order(folder) == ("int_z", "int_a")


def test_a_circle_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path / "b", {"int_a": "CREATE OR REPLACE TEMP VIEW int_a AS SELECT * FROM int_b;",
                                     "int_b": "CREATE OR REPLACE TEMP VIEW int_b AS SELECT * FROM int_a;"})
    with pytest.raises(ValueError, match="circle"):
        _in_dependency_order(folder)

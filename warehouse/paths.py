"""Where a data dir keeps its warehouse and its landed copies."""

from __future__ import annotations

from pathlib import Path


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / "warehouse.duckdb"


def landing_path(data_dir: Path) -> Path:
    return data_dir / "landing"

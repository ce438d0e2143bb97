"""What changed since the return was last produced for the same period: figures (old -> new) and the source rows
added, removed or changed that explain them. Rows are matched by file name and business key; a changed row is one
whose keyed hash of raw values differs."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bcf.transforms.workbook import csv_safe

REVISION_COLUMNS = ["change", "what", "figure_id", "old", "new", "file", "key", "old_row", "new_row", "figures"]


def lineage_path(pack: Path) -> Path:
    """The pack's lineage to read: lineage.csv, or lineage.parquet where the CSV was too large to write."""
    csv_path = pack / "lineage.csv"
    return csv_path if csv_path.exists() or not (pack / "lineage.parquet").exists() else pack / "lineage.parquet"


def _lineage(path: Path) -> dict[tuple[str, str], dict[str, object]]:
    rows: dict[tuple[str, str], dict[str, object]] = {}
    with _lines(path) as fh:
        for r in csv.DictReader(fh):
            entry = rows.setdefault((r["file"], r["key"]), {"row": r["row"], "hash": r.get("row_hash", ""),
                                                            "figures": {}})
            figures = entry["figures"]
            assert isinstance(figures, dict)
            figures[r["figure_id"]] = r["contribution"]
    return rows


@contextlib.contextmanager
def _lines(path: Path) -> Iterator[TextIO]:
    """The lineage's text as lineage.csv holds it; for lineage.parquet, as lineage.csv would have held it (DuckDB's
    CSV writer, the csv_safe macro) in a temporary file read as a stream, so a pack with the CSV and one without
    compare alike."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            yield fh
        return
    import tempfile

    import duckdb

    from bcf.returns.lineage_csv import sql_literal, write_lineage_csv

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lineage.csv"
        with duckdb.connect() as con:
            write_lineage_csv(con, f"read_parquet({sql_literal(path)})", out)
        with open(out, newline="", encoding="utf-8") as fh:
            yield fh


def compare(old_pack: Path, new_lineage: Path, new_figures: dict[str, object]) -> list[dict[str, object]]:
    old_manifest = json.loads((old_pack / "manifest.json").read_text(encoding="utf-8"))
    old_figures = {f["figure_id"]: f["value"] for f in old_manifest["figures"]}
    out: list[dict[str, object]] = []
    for fid in sorted(set(old_figures) | set(new_figures)):
        old, new = old_figures.get(fid), new_figures.get(fid)
        if old != new:
            out.append({"change": "figure", "what": "changed" if fid in old_figures and fid in new_figures else
                        ("added" if fid in new_figures else "removed"), "figure_id": fid, "old": old, "new": new})
    before, after = _lineage(lineage_path(old_pack)), _lineage(new_lineage)
    for file_key in sorted(set(before) | set(after)):
        a, b = before.get(file_key), after.get(file_key)
        if a and b and a["hash"] == b["hash"] and a["figures"] == b["figures"]:
            continue
        what = "added" if a is None else "removed" if b is None else "changed"
        fa = a["figures"] if a else {}
        fb = b["figures"] if b else {}
        assert isinstance(fa, dict) and isinstance(fb, dict)
        moved = sorted(f for f in set(fa) | set(fb) if fa.get(f) != fb.get(f))
        out.append({"change": "row", "what": what, "file": file_key[0], "key": file_key[1],
                    "old_row": a["row"] if a else "", "new_row": b["row"] if b else "", "figures": "; ".join(moved)})
    return out


def write(path: Path, revisions: list[dict[str, object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=REVISION_COLUMNS)
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in revisions)

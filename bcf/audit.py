"""The audit pack beside every workbook: `<workbook stem>.audit/` with

- manifest.json: inputs (sha256, origin, S3 ETag/version), code version, hashes of the lock file, config,
  expectation suites and SQL, parameters, run ids, outputs (sha256 and a content hash of the workbook's cells) and
  every figure's value;
- findings.csv: the validation findings on the inputs and the return's cross-source checks (NHS numbers masked);
- lineage.csv and lineage.parquet: one row per (figure, source row) with its contribution.

`bcf trace` reads it. No patient identifier is in it: rows are named by file, row number and business key.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from bcf import revisions
from bcf.settings import PROJECT_ROOT, code_version, config_dir, expectations_dir, sql_dir, tree_hash
from transforms.figures import Figure
from transforms.findings import FINDING_COLUMNS, Finding
from transforms.workbook import cells_hash


def pack_dir(workbook: Path) -> Path:
    return workbook.with_name(workbook.stem + ".audit")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def inputs_in_force(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = ["file_id", "kind", "file_name", "supplier", "origin_uri", "s3_etag", "s3_version_id", "size_bytes",
            "received_at", "status", "rows_received", "rows_loaded", "rows_rejected", "landed_path"]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM files WHERE status IN ('loaded', 'rejected') "
                       "ORDER BY kind, file_name").fetchall()
    return [{c: jsonable(v) for c, v in zip(cols, r, strict=True)} | {"sha256": r[0]} for r in rows]


def code_fingerprint() -> dict[str, str]:
    lock = PROJECT_ROOT / "constraints.txt"
    return {
        "code_version": code_version(),
        "python": sys.version.split()[0],
        "lock_file_sha256": sha256_file(lock) if lock.exists() else "",
        "config_sha256": tree_hash(config_dir()),
        "expectations_sha256": tree_hash(expectations_dir(), "*.json"),
        "sql_sha256": tree_hash(sql_dir(), "*.sql"),
    }


@dataclass
class RunInfo:
    run_id: str
    flow: str
    flow_run_id: str | None
    parameters: dict[str, Any]
    started_at: str


def write_pack(con: duckdb.DuckDBPyConnection, workbook_tmp: Path, workbook_name: str, staging: Path,
               run: RunInfo, figures: list[Figure], where: dict[str, tuple[str, str]],
               findings: list[Finding], previous: Path | None = None,
               return_params: dict[str, Any] | None = None) -> Path:
    """Write the pack into `staging` (a fresh folder); the caller moves it into place with the workbook.
    With `previous` (the pack of the last run for the same return) it adds revisions.csv."""
    staging.mkdir(parents=True)
    lineage_csv = staging / "lineage.csv"
    # one join of the contribution rows with the staged rows' hashes, exported twice
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lineage AS SELECT c.figure_id, c.role, c.query_id, c.file_name AS file, "
        "c.source_row AS \"row\", c.row_key AS \"key\", c.contribution, c.file_id, h.row_hash FROM contrib c "
        "LEFT JOIN all_row_hashes h ON h.file_id = c.file_id AND h.source_row = c.source_row "
        "AND (h.sheet IS NULL OR starts_with(c.row_key, h.sheet || ':')) "
        "ORDER BY c.figure_id, c.file_name, c.source_row, c.role")
    con.execute(f"COPY lineage TO '{lineage_csv}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY lineage TO '{staging / 'lineage.parquet'}' (FORMAT PARQUET)")
    with open(staging / "findings.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FINDING_COLUMNS)
        writer.writeheader()
        writer.writerows(f.as_dict() for f in findings)
    revision: dict[str, object] | None = None
    if previous is not None and (previous / "manifest.json").exists():
        changes = revisions.compare(previous, lineage_csv, {f.id: jsonable(f.value) for f in figures})
        revisions.write(staging / "revisions.csv", changes)
        old_run = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))["run"]["run_id"]
        revision = {"revises_run_id": old_run,
                    "figures_changed": sum(c["change"] == "figure" for c in changes),
                    "rows_added_removed_changed": sum(c["change"] == "row" for c in changes)}
    manifest = {
        "revision": revision,
        # the run's parameters, then the return's own (an ICB run's parameters name no single HWB or period)
        "return": {"workbook": workbook_name, **{k: jsonable(v) for k, v in
                                                 {**run.parameters, **(return_params or {})}.items()}},
        "run": {"run_id": run.run_id, "flow": run.flow, "prefect_flow_run_id": run.flow_run_id,
                "started_at": run.started_at, "written_at": dt.datetime.now(dt.UTC).isoformat()},
        "code": code_fingerprint(),
        "inputs": inputs_in_force(con),
        "outputs": {
            "workbook": {"file": workbook_name, "sha256": sha256_file(workbook_tmp),
                         "cells_sha256": cells_hash(workbook_tmp)},
            "audit_files": {p.name: sha256_file(p) for p in sorted(staging.iterdir())},
        },
        "findings": {"errors": sum(f.severity == "error" for f in findings),
                     "warnings": sum(f.severity == "warning" for f in findings)},
        "figures": [
            {"figure_id": f.id, "sheet": where[f.id][0], "cell": where[f.id][1], "value": jsonable(f.value),
             "kind": f.spec.kind, "source_rows": f.source_rows, "query_id": f.spec.query}
            for f in figures
        ],
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return staging


def publish(workbook_tmp: Path, workbook: Path, pack_staging: Path) -> Path:
    """Move the pack and then the workbook into place. An earlier pack for the same return is kept, renamed by its
    run id, so a revision can be compared with what was submitted before."""
    final = pack_dir(workbook)
    if final.exists():
        old = json.loads((final / "manifest.json").read_text(encoding="utf-8"))["run"]["run_id"]
        history = final.with_name(final.name + f".{old}")
        if history.exists():
            shutil.rmtree(history)
        final.rename(history)
    pack_staging.rename(final)
    workbook_tmp.replace(workbook)
    return final


def staging_paths(workbook: Path) -> tuple[Path, Path]:
    """Temporary names beside the final ones (same filesystem, so the final renames are atomic)."""
    workbook.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=workbook.parent, prefix=f".{workbook.stem}."))
    return tmp_dir / workbook.name, tmp_dir / "audit"

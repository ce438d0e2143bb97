"""The audit pack beside every workbook: `<workbook stem>.audit/` with

- manifest.json: inputs (sha256, origin, S3 ETag/version), code version, hashes of the lock file, config,
  expectation suites and SQL, parameters, run ids, outputs (sha256 and a content hash of the workbook's cells) and
  every figure's value;
- findings.csv: the validation findings on the inputs and the return's cross-source checks (NHS numbers masked);
- lineage.parquet (the audit copy) and lineage.csv (only when it fits a spreadsheet: at most 1,048,575 rows;
  else the manifest's `lineage` says so): one row per (figure, source row) with its contribution.

`bcf trace` reads it. No patient identifier is in it: rows are named by file, row number and business key.

A quarterly run filled into a user's template also keeps a copy of the template and the cell map (`template.xlsx`,
`cell_map.toml`, their sha256 in the manifest), so `bcf reproduce` rebuilds from exactly what was used.

Publishing (see `publish`): a re-run keeps the earlier pair as `<stem>.<run id>.xlsx` beside `<stem>.<run id>.audit/`,
and the new pair goes into place through a staging folder carrying a commit marker, so a crash never leaves a new
pack beside an old workbook: the next run for the same return completes (or discards) the interrupted publish.

CSV files are safe to open in a spreadsheet: text starting = + - @ tab or CR gets a leading quote (`csv_safe`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from bcf.core.settings import (
    code_version,
    codes,
    config_dir,
    expectations_dir,
    git_commit,
    lock_file,
    package_version,
    sql_dir,
    tree_hash,
)
from bcf.returns import revisions
from bcf.returns.lineage_csv import sql_literal, write_lineage_csv
from bcf.transforms.figures import Figure
from bcf.transforms.findings import FindingsReport
from bcf.transforms.nhs_number import mask_text
from bcf.transforms.workbook import cells_hash
from bcf.warehouse import db, return_findings

READY = "READY"  # commit marker in a staging folder: both files are complete, publish may be rolled forward


def pack_dir(workbook: Path) -> Path:
    return workbook.with_name(workbook.stem + ".audit")


def write_findings(con: duckdb.DuckDBPyConnection, path: Path, report: FindingsReport,
                   summary: Path | None = None) -> None:
    """The return's findings (warehouse.return_findings) in full in `path`, and beside it (`<stem>-summary.csv`)
    the report's groups by rule and file with a count and one example each, to read first."""
    return_findings.write_csv(con, path, summary or summary_path(path), report.groups)


def summary_path(findings_csv: Path) -> Path:
    """findings.csv -> findings-summary.csv; x.blocked-findings.csv -> x.blocked-findings-summary.csv."""
    return findings_csv.with_name(findings_csv.name.removesuffix(".csv") + "-summary.csv")


# Above this many contribution rows the join and the sort are made one after the other: together their memory does
# not fit DuckDB's cap (settings.toml [warehouse]) and the query fails; apart, each spills to disk. 7.3 million rows
# (a 16-million-discharge year): together out of memory at 1 GB, apart 14 s within 1.15 GB (docs/benchmarks.md).
LINEAGE_JOIN_APART = 2_000_000


def _write_lineage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """One join of the contribution rows with the staged rows' hashes, sorted by figure (trace reads one figure's
    row groups), straight into the Parquet copy (the CSV is made from it): no frame of millions of rows in Python."""
    joined = ("SELECT c.figure_id, c.role, c.query_id, c.file_name AS file, c.source_row AS \"row\", "
              "c.row_key AS \"key\", c.contribution, c.file_id, h.row_hash FROM contrib c "
              "LEFT JOIN all_row_hashes h ON h.file_id = c.file_id AND h.source_row = c.source_row "
              "AND (h.sheet IS NULL OR starts_with(c.row_key, h.sheet || ':'))")
    count = con.execute("SELECT count(*) FROM contrib").fetchone()
    source = f"({joined})"
    if count and count[0] > LINEAGE_JOIN_APART:
        con.execute(f"CREATE OR REPLACE TEMP TABLE lineage_joined AS {joined}")
        source = "lineage_joined"
    try:
        con.execute(f'COPY (SELECT * FROM {source} ORDER BY figure_id, file, "row", role) '
                    f"TO {sql_literal(path)} (FORMAT PARQUET)")
    finally:
        con.execute("DROP TABLE IF EXISTS lineage_joined")


# A worksheet holds 1,048,576 rows: the header and this many lineage rows
SPREADSHEET_ROWS = 1_048_575


def _parquet_rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    got = con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(path)})").fetchone()
    return int(got[0]) if got else 0


def lineage_note(rows: int) -> dict[str, object]:
    """What the manifest says of the lineage: its rows, and whether lineage.csv was written or why not."""
    if rows <= SPREADSHEET_ROWS:
        return {"rows": rows, "parquet": "lineage.parquet", "csv": "lineage.csv"}
    return {"rows": rows, "parquet": "lineage.parquet", "csv": None,
            "note": f"lineage.csv was not written: {rows:,} lineage rows do not fit a spreadsheet "
                    f"({SPREADSHEET_ROWS:,} rows at most). lineage.parquet holds every row; any figure's rows "
                    "as CSV: bcf trace <workbook> <figure id or Sheet!A1> --format csv"}


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


# The libraries whose versions can change a figure or a file: recorded in every manifest
COMPUTING_LIBRARIES = ("duckdb", "pandas", "great-expectations", "openpyxl", "prefect", "pyarrow", "python-calamine")


def library_versions() -> dict[str, str]:
    """Installed versions, read from package metadata (nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in COMPUTING_LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def code_fingerprint() -> dict[str, Any]:
    lock = lock_file()
    return {
        "code_version": code_version(),
        "package_version": package_version(),
        "git_commit": git_commit(),
        "libraries": library_versions(),
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
    pseudonym_key: str = ""  # "configured" or "development": which key, never the key itself


def _recorded(name: str, value: Any) -> Any:
    """A parameter as the manifest records it: the source (a folder or S3 prefix) with NHS-number-like values
    masked, as every recorded text is."""
    return mask_text(value) if name == "source" and isinstance(value, str) else jsonable(value)


def write_pack(con: duckdb.DuckDBPyConnection, workbook_tmp: Path, workbook_name: str, staging: Path,
               run: RunInfo, figures: list[Figure], where: dict[str, tuple[str, str]],
               findings: FindingsReport, previous: Path | None = None,
               return_params: dict[str, Any] | None = None, cell_map_text: str | None = None) -> Path:
    """Write the pack into `staging` (a fresh folder); the caller moves it into place with the workbook.
    With `previous` (the pack of the last run for the same return) it adds revisions.csv."""
    staging.mkdir(parents=True)
    lineage_csv, lineage_parquet = staging / "lineage.csv", staging / "lineage.parquet"
    _write_lineage_parquet(con, lineage_parquet)
    lineage_rows = _parquet_rows(con, lineage_parquet)
    # the Parquet copy is the audit copy; the CSV only when a spreadsheet can open it whole
    if lineage_rows <= SPREADSHEET_ROWS:
        write_lineage_csv(con, f"read_parquet({sql_literal(lineage_parquet)})", lineage_csv)
    write_findings(con, staging / "findings.csv", findings)
    template = template_inputs(staging, {**run.parameters, **(return_params or {})}, cell_map_text)
    revision: dict[str, object] | None = None
    if previous is not None and (previous / "manifest.json").exists():
        changes = revisions.compare(previous, lineage_csv if lineage_csv.exists() else lineage_parquet,
                                    {f.id: jsonable(f.value) for f in figures})
        revisions.write(staging / "revisions.csv", changes)
        old_run = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))["run"]["run_id"]
        revision = {"revises_run_id": old_run,
                    "figures_changed": sum(c["change"] == "figure" for c in changes),
                    "rows_added_removed_changed": sum(c["change"] == "row" for c in changes)}
    manifest = {
        "revision": revision,
        # the run's parameters, then the return's own (an ICB run's parameters name no single HWB or period)
        "return": {"workbook": workbook_name, **{k: _recorded(k, v) for k, v in
                                                 {**run.parameters, **(return_params or {})}.items()}},
        "run": {"run_id": run.run_id, "flow": run.flow, "prefect_flow_run_id": run.flow_run_id,
                "started_at": run.started_at, "written_at": dt.datetime.now(dt.UTC).isoformat(),
                "pseudonym_key": run.pseudonym_key or None},
        "code": code_fingerprint(),
        "template": template,
        "inputs": inputs_in_force(con),
        "withdrawn": db.withdrawals_in_force(con),  # files an officer took out of force: when, by whom, why
        "outputs": {
            "workbook": {"file": workbook_name, "sha256": sha256_file(workbook_tmp),
                         "cells_sha256": cells_hash(workbook_tmp)},
            "audit_files": {p.name: sha256_file(p) for p in sorted(staging.iterdir())},
        },
        "lineage": lineage_note(lineage_rows),
        "findings": {"errors": findings.errors, "warnings": findings.warnings},
        # the weights a directly age-standardised rate (falls) was computed with: `bcf trace` rebuilds it from these
        # and the lineage alone, whatever codes.toml says later
        "standard_population": {"esp2013_65plus": dict(codes()["esp2013_65plus"])},
        "figures": [
            {"figure_id": f.id, "sheet": where[f.id][0], "cell": where[f.id][1], "value": jsonable(f.value),
             "kind": f.spec.kind, "source_rows": f.source_rows, "query_id": f.spec.query}
            for f in figures
        ],
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return staging


def template_inputs(staging: Path, params: dict[str, Any], cell_map_text: str | None = None) -> dict[str, Any] | None:
    """A template run's template and cell map: copied into the pack and hashed, so the return can be rebuilt from
    what was used even when the originals change or go."""
    if not params.get("template"):
        return None
    template = Path(params["template"])
    shutil.copyfile(template, staging / "template.xlsx")
    if params.get("cell_map"):
        cell_map: Path | None = Path(params["cell_map"])
        shutil.copyfile(cell_map, staging / "cell_map.toml")  # type: ignore[arg-type]
    else:  # the run filled through the map `bcf cellmap` proposed for it: keep that map
        cell_map = None
        if cell_map_text is None:
            from bcf.returns.cellmap import propose

            which, proposal = propose(template, "quarterly" if params.get("quarter") else "fortnightly")
            cell_map_text = proposal.toml(f"Proposed by `bcf cellmap` from {template.name} ({which} return).")
        (staging / "cell_map.toml").write_text(cell_map_text, encoding="utf-8")
    return {"template": {"path": str(template.resolve()), "sha256": sha256_file(staging / "template.xlsx"),
                         "copy": "template.xlsx"},
            "cell_map": {"path": str(cell_map.resolve()) if cell_map else None, "proposed": cell_map is None,
                         "sha256": sha256_file(staging / "cell_map.toml"), "copy": "cell_map.toml"}}


def history_name(workbook: Path, run_id: str) -> Path:
    """Where an earlier return is kept: `<stem>.<run id>.xlsx`, whose pack_dir is `<stem>.<run id>.audit`."""
    return workbook.with_name(f"{workbook.stem}.{run_id}{workbook.suffix}")


def _run_id(pack: Path) -> str | None:
    try:
        return str(json.loads((pack / "manifest.json").read_text(encoding="utf-8"))["run"]["run_id"])
    except (OSError, ValueError, KeyError):
        return None


def revision_of(pack: Path) -> dict[str, Any] | None:
    """The manifest's revision entry: which run this one revises and how many figures and rows moved."""
    try:
        got = json.loads((pack / "manifest.json").read_text(encoding="utf-8")).get("revision")
    except (OSError, ValueError):
        return None
    return dict(got) if got else None


def publish(workbook_tmp: Path, workbook: Path, pack_staging: Path, keep_history: bool = True) -> Path:
    """Put the workbook and its pack in place as a pair.

    Both are complete in one staging folder; writing READY there (with the run id of the pair it replaces) is the
    commit point. Then: the earlier pair is renamed to its history names, the new pack and then the new workbook
    are renamed into place, and the staging folder goes. Each step can be redone, so after a crash `recover` (called
    by the next run for the same return, holding the run lock) finishes the publish; a staging folder without READY
    is discarded. At no moment is a new pack beside an old workbook. keep_history=False (a rerun whose figures did
    not change) removes the earlier pair instead of keeping it under its history names: a copy of the same figures
    is clutter, and the new manifest still names the run it replaced."""
    staging = workbook_tmp.parent
    assert pack_staging.parent == staging
    replaces = _run_id(pack_dir(workbook)) if pack_dir(workbook).exists() else None
    ready = {"workbook": workbook.name, "replaces": replaces, "keep_history": keep_history}
    tmp = staging / f".{READY}.tmp"
    tmp.write_text(json.dumps(ready), encoding="utf-8")
    os.replace(tmp, staging / READY)
    _roll_forward(staging, workbook)
    return pack_dir(workbook)


def _roll_forward(staging: Path, workbook: Path) -> None:
    ready = json.loads((staging / READY).read_text(encoding="utf-8"))
    replaces, keep = ready.get("replaces"), ready.get("keep_history", True)
    new_workbook, new_pack = staging / workbook.name, staging / "audit"
    if replaces:
        old_pack = pack_dir(workbook)
        if old_pack.exists() and _run_id(old_pack) == replaces:
            kept = pack_dir(history_name(workbook, replaces))
            if kept.exists():
                shutil.rmtree(kept)
            if keep:
                old_pack.rename(kept)
            else:
                shutil.rmtree(old_pack)
        if workbook.exists() and new_workbook.exists():
            if keep:
                workbook.rename(history_name(workbook, replaces))
            else:
                workbook.unlink()
    if new_pack.exists():
        new_pack.rename(pack_dir(workbook))
    if new_workbook.exists():
        new_workbook.replace(workbook)
    shutil.rmtree(staging, ignore_errors=True)


def recover(workbook: Path) -> list[str]:
    """Finish or discard what a crashed run left for this return: staging folders `.<stem>.*` beside it (with
    READY: completed; without: removed). Called holding the run lock. Returns what it did, for the log."""
    done: list[str] = []
    if not workbook.parent.is_dir():
        return done
    for leftover in sorted(workbook.parent.glob(f".{workbook.stem}.*")):
        if leftover.is_dir() and (leftover / READY).exists():
            _roll_forward(leftover, workbook)
            done.append(f"completed the interrupted publish of {workbook.name} from {leftover.name}")
        elif leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
            done.append(f"removed {leftover.name}, left by a run that stopped before publishing")
        else:
            leftover.unlink(missing_ok=True)
            done.append(f"removed {leftover.name}")
    return done


def staging_paths(workbook: Path) -> tuple[Path, Path]:
    """Temporary names beside the final ones (same filesystem, so the final renames are atomic)."""
    workbook.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=workbook.parent, prefix=f".{workbook.stem}."))
    return tmp_dir / workbook.name, tmp_dir / "audit"

"""Which return a workbook is, and what in it is a figure: read from its audit pack's manifest.

A sign-off is bound to the figures, not to the file's bytes: `figures_hash` hashes the value of every figure cell
the manifest names, read from the file, so writing the sign-off onto the Cover (or a hand-typed contact) leaves it
unchanged and an edited figure changes it. `signoff_cells` are the cells that only carry completion, contact and
sign-off details: the built-in Cover's fields (found by their labels) or a template cell map's `[signoff]` table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcf.core.settings import hwb_name
from bcf.returns.pack import pack_dir
from bcf.returns.q_workbook import SIGNOFF_FIELDS

COVER = "Cover"


@dataclass(frozen=True)
class ReturnInfo:
    workbook: Path
    manifest: dict[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.manifest["return"])

    @property
    def kind(self) -> str:  # df | bcf, as in the event resources (bcf.return.<kind>.<hwb>.<period>)
        return "df" if self.workbook.name.startswith("df_fortnightly_") else "bcf"

    @property
    def hwb(self) -> str:
        return str(self.params["hwb"])

    @property
    def hwb_name(self) -> str:
        try:
            return hwb_name(self.hwb)
        except KeyError:
            return self.hwb

    @property
    def period(self) -> str:
        return str(self.params["period_end"] if self.kind == "df" else self.params["quarter"])

    @property
    def fund_year(self) -> str:
        return str(self.params["fund_year"])

    @property
    def run_id(self) -> str:
        return str(self.manifest["run"]["run_id"])

    @property
    def flow_run_id(self) -> str | None:
        value = self.manifest["run"].get("prefect_flow_run_id")
        return str(value) if value else None

    @property
    def title(self) -> str:
        """What the national team reads in a subject line: HWB, return and period."""
        if self.kind == "df":
            start, end = (dt.date.fromisoformat(str(self.params[k])) for k in ("period_start", "period_end"))
            what = f"Discharge Fund fortnightly return, {start:%d/%m/%Y} to {end:%d/%m/%Y}"
        else:
            what = f"BCF quarterly return {self.period.replace('-Q', ' Q')}"
        return f"{self.hwb_name} ({self.hwb}) HWB: {what}"

    @property
    def data_dir(self) -> Path | None:
        value = self.params.get("data_dir")
        return Path(value) if value else None


def load(workbook: Path) -> ReturnInfo:
    manifest_path = pack_dir(workbook) / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"no audit pack beside {workbook}")
    return ReturnInfo(workbook, json.loads(manifest_path.read_text(encoding="utf-8")))


def blocked_findings(workbook: Path) -> Path:
    return workbook.with_name(workbook.stem + ".blocked-findings.csv")


def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dt.date | dt.datetime):
        return f"{type(value).__name__}:{value.isoformat()}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 5 and 5.0 are one figure, however a spreadsheet saved it
    return f"{'num' if isinstance(value, int | float) else type(value).__name__}:{value}"


def figure_values(workbook: Path, manifest: dict[str, Any]) -> dict[str, object]:
    """figure id -> the value in the file at the cell the manifest names (None for an empty cell)."""
    from openpyxl import load_workbook

    book = load_workbook(workbook)  # not read_only: a read-only sheet re-reads its XML for every cell asked for
    try:
        out: dict[str, object] = {}
        sheets: dict[str, Any] = {}
        for f in manifest["figures"]:
            name = f["sheet"]
            if name not in sheets:
                sheets[name] = book[name] if name in book.sheetnames else None
            out[f["figure_id"]] = sheets[name][f["cell"]].value if sheets[name] is not None else None
        return out
    finally:
        book.close()


def figures_hash(workbook: Path, manifest: dict[str, Any]) -> str:
    """sha256 over every figure (id, sheet, cell, value as typed) as the file holds it: what is signed off."""
    digest = hashlib.sha256()
    where = {f["figure_id"]: f"{f['sheet']}!{f['cell']}" for f in manifest["figures"]}
    for fid, value in sorted(figure_values(workbook, manifest).items()):
        digest.update(f"{fid}@{where[fid]}={'(empty)' if value is None else _cell_text(value)}\n".encode())
    return digest.hexdigest()


def signoff_cells(workbook: Path, manifest: dict[str, Any], pack: Path | None = None) -> dict[str, tuple[str, str]]:
    """field (completed_by, contact, signed_off_by, signed_off_on) -> (sheet, cell) of this return's sign-off
    cells: a template run's cell map `[signoff]` (the copy in `pack`, default the workbook's own audit pack), else
    the built-in Cover's fields found by their labels in `workbook`."""
    kept = (manifest.get("template") or {}).get("cell_map")
    if kept:
        copy = (pack or pack_dir(workbook)) / kept["copy"]
        if copy.exists():
            with open(copy, "rb") as fh:
                raw = tomllib.load(fh).get("signoff", {})
            out = {}
            for key, target in raw.items():
                sheet, _, cell = str(target).rpartition("!")
                out[key] = (sheet.strip("'"), cell.replace("$", ""))
            return out
        return {}
    from openpyxl import load_workbook

    labels = {label: key for key, label in SIGNOFF_FIELDS}
    book = load_workbook(workbook, read_only=True)
    try:
        if COVER not in book.sheetnames:
            return {}
        found = {}
        for row in book[COVER].iter_rows(min_col=1, max_col=1):
            cell = row[0]
            if isinstance(cell.value, str) and cell.value in labels:
                found[labels[cell.value]] = (COVER, f"B{cell.row}")
        return found
    finally:
        book.close()

"""`bcf reproduce WORKBOOK`: re-run a past return from the inputs its manifest recorded and prove the same cell
content hash, or say exactly which input, code or config differs, and which figures moved.

The rebuild happens in a throw-away warehouse from the immutable landing copies, with the original run's date (so
the "no future dates" rule judges rows as it did then). The live warehouse is never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bcf import returns
from bcf.audit import code_fingerprint, jsonable, pack_dir, sha256_file
from bcf.fortnightly import Fortnight
from bcf.ingest import stage_file
from bcf.quarterly import Quarter
from bcf.settings import pseudonym_key
from bcf.sources import Landed, SourceObject, staging_key
from transforms.validate import RowValidator
from transforms.workbook import cells_hash
from warehouse import db


@dataclass
class Reproduction:
    workbook: str
    recorded_cells_sha256: str
    rebuilt_cells_sha256: str | None = None
    code_differences: list[str] = field(default_factory=list)
    input_differences: list[str] = field(default_factory=list)
    figure_differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.rebuilt_cells_sha256 == self.recorded_cells_sha256

    def report(self) -> str:
        lines = [f"{self.workbook}: recorded cells sha256 {self.recorded_cells_sha256}"]
        if self.rebuilt_cells_sha256:
            lines.append(f"{' ' * len(self.workbook)}  rebuilt  cells sha256 {self.rebuilt_cells_sha256}")
        lines.append("REPRODUCED: the same cell content" if self.same else "NOT REPRODUCED")
        for title, items in (("inputs", self.input_differences), ("code and config", self.code_differences),
                             ("figures", self.figure_differences)):
            if items:
                lines.append(f"differences in {title}:")
                lines += [f"  - {i}" for i in items]
        return "\n".join(lines) + "\n"


def _computed(manifest: dict):  # type: ignore[no-untyped-def,type-arg]
    ret = manifest["return"]
    name = ret["workbook"]
    if name.startswith("df_fortnightly_"):
        return returns.fortnightly(Fortnight.ending(ret["hwb"], dt.date.fromisoformat(ret["period_end"])))
    quarter = Quarter.parse(ret["hwb"], ret["quarter"])
    return returns.quarterly(quarter, ret.get("template"), ret.get("cell_map"))


def reproduce(workbook: Path) -> Reproduction:
    manifest = json.loads((pack_dir(workbook) / "manifest.json").read_text(encoding="utf-8"))
    result = Reproduction(workbook.name, manifest["outputs"]["workbook"]["cells_sha256"])
    now = code_fingerprint()
    result.code_differences = [f"{k}: recorded {v}, now {now.get(k)}" for k, v in manifest["code"].items()
                               if now.get(k) != v and k != "python"]

    objects: list[tuple[SourceObject, Landed]] = []
    for item in manifest["inputs"]:
        copy = Path(item["landed_path"])
        if not copy.exists():
            result.input_differences.append(f"{item['file_name']}: the landed copy {copy} is missing")
            continue
        actual = sha256_file(copy)
        if actual != item["sha256"]:
            result.input_differences.append(
                f"{item['file_name']} ({item['kind']}): landed copy has sha256 {actual}, recorded {item['sha256']}")
        objects.append((SourceObject(item["origin_uri"], item["file_name"], item["kind"], item["size_bytes"]),
                        Landed(actual, copy, item["size_bytes"], item["s3_etag"], item["s3_version_id"])))

    run_date = dt.datetime.fromisoformat(manifest["run"]["started_at"]).date()
    key, _ = pseudonym_key()
    validator = RowValidator()
    with tempfile.TemporaryDirectory(prefix="bcf-reproduce-") as tmp, db.connect(Path(tmp) / "wh.duckdb") as con:
        for obj, landed in sorted(objects, key=lambda pair: staging_key(pair[0])):
            stage_file(con, obj, landed, "reproduce", key, validator, run_date)
        computed = _computed(manifest)(con)
        rebuilt = Path(tmp) / workbook.name
        computed.write(rebuilt, computed.layouts, computed.figures, computed.allowed_blank)
        result.rebuilt_cells_sha256 = cells_hash(rebuilt)
    recorded = {f["figure_id"]: f["value"] for f in manifest["figures"]}
    for f in computed.figures:
        value = jsonable(f.value)
        if recorded.get(f.id) != value:
            result.figure_differences.append(f"{f.id}: recorded {recorded.get(f.id)}, rebuilt {value}")
    return result

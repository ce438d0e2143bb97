"""`bcf reproduce WORKBOOK`: re-run a past return from the inputs its manifest recorded and prove the same cell
content hash, or say exactly which input, code or config differs, and which figures moved.

Three hashes must agree: the cells of the very file given, the manifest's record, and the return rebuilt now. A
cell edited in the file after it was written is named (the figure, or the cell). A template run is rebuilt from the
template and cell map kept in its audit pack; a changed original or a damaged copy is named as a cause.

The rebuild happens in a throw-away warehouse from the immutable landing copies, with the original run's date (so
the "no future dates" rule judges rows as it did then). The live warehouse is never touched.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from bcf.audit.rebuild import landed_input, rebuilt_warehouse
from bcf.core.dates import Fortnight, Quarter
from bcf.ingest.sources import Landed, SourceObject
from bcf.returns import build as returns
from bcf.returns.pack import code_fingerprint, jsonable, pack_dir, sha256_file
from bcf.returns.returninfo import signoff_cells
from bcf.transforms.workbook import cell_values, cells_hash


@dataclass
class Reproduction:
    workbook: str
    recorded_cells_sha256: str
    file_cells_sha256: str = ""
    rebuilt_cells_sha256: str | None = None
    code_differences: list[str] = field(default_factory=list)
    input_differences: list[str] = field(default_factory=list)
    figure_differences: list[str] = field(default_factory=list)
    file_differences: list[str] = field(default_factory=list)
    # cells that only carry completion, contact or sign-off details, filled in since the run: not figures
    signoff_differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """The figures reproduce: the rebuilt return matches the record, and the file differs from it at most in
        its sign-off and contact cells (a Cover signed by hand is still the same return)."""
        if self.rebuilt_cells_sha256 != self.recorded_cells_sha256:
            return False
        return self.file_cells_sha256 == self.recorded_cells_sha256 or (
            not self.file_differences and bool(self.signoff_differences))

    def report(self) -> str:
        pad = " " * len(self.workbook)
        lines = [f"{self.workbook}: recorded cells sha256 {self.recorded_cells_sha256}",
                 f"{pad}  this file cells sha256 {self.file_cells_sha256}"
                 + ("" if self.file_cells_sha256 == self.recorded_cells_sha256 else "  (differs from the manifest)")]
        if self.rebuilt_cells_sha256:
            lines.append(f"{pad}  rebuilt  cells sha256 {self.rebuilt_cells_sha256}")
        if self.same and self.signoff_differences:
            lines.append("REPRODUCED: the same figures (only sign-off and contact cells differ, listed apart)")
        else:
            lines.append("REPRODUCED: the same cell content" if self.same else "NOT REPRODUCED")
        for title, items in (("sign-off and contact cells (not figures; they do not fail it)",
                              self.signoff_differences),
                             ("the workbook file (edited after it was written?)", self.file_differences),
                             ("inputs", self.input_differences), ("code and config", self.code_differences),
                             ("figures", self.figure_differences)):
            if items:
                lines.append(f"differences in {title}:")
                lines += [f"  - {i}" for i in items]
        return "\n".join(lines) + "\n"


def _kept(pack: Path, entry: dict, label: str, result: Reproduction) -> Path | None:  # type: ignore[type-arg]
    """The template or cell map a run used: the copy in its pack; the original is only compared."""
    original, copy = Path(entry["path"] or pack / entry["copy"]), pack / entry["copy"]  # no path: a proposed map
    if original.exists() and (now := sha256_file(original)) != entry["sha256"]:
        result.input_differences.append(f"{label} {original}: now sha256 {now}, recorded {entry['sha256']} "
                                        "(the copy in the audit pack is used)")
    if copy.exists():
        if (actual := sha256_file(copy)) != entry["sha256"]:
            result.input_differences.append(f"{label} copy {copy.name} in the audit pack has sha256 {actual}, "
                                            f"recorded {entry['sha256']}")
        return copy
    result.input_differences.append(f"{label}: the copy {copy.name} is missing from the audit pack")
    return original if original.exists() else None


def _computed(manifest: dict, pack: Path, result: Reproduction):  # type: ignore[no-untyped-def,type-arg]
    ret = manifest["return"]
    name = ret["workbook"]
    options = returns.TemplateOptions(ret.get("template"), ret.get("cell_map"), bool(ret.get("template_lineage")),
                                      bool(ret.get("accept_template_losses")))
    kept = manifest.get("template")
    if kept:  # the copies in the pack, not the originals, which may have changed
        t, c = _kept(pack, kept["template"], "template", result), _kept(pack, kept["cell_map"], "cell map", result)
        options = returns.TemplateOptions(str(t) if t else options.template, str(c) if c else options.cell_map,
                                          options.lineage, options.accept_losses)
    if name.startswith("df_fortnightly_"):
        period = Fortnight.ending(dt.date.fromisoformat(ret["period_end"]))
        return returns.fortnightly(ret["hwb"], period, options if options.template else None, ret.get("signoff"))
    return returns.quarterly(ret["hwb"], Quarter.parse(ret["quarter"]), options=options, signoff=ret.get("signoff"))


def _cell_differences(given: Path, rebuilt: Path, manifest: dict,  # type: ignore[type-arg]
                      signoff: dict[tuple[str, str], str] | None = None) -> tuple[list[str], list[str]]:
    """Every cell whose content differs between the file given and the rebuilt return, named by figure if any;
    the differences in sign-off and contact cells (`signoff`: (sheet, cell) -> field) come back apart."""
    figure_at = {(f["sheet"], f["cell"]): f["figure_id"] for f in manifest["figures"]}
    signoff = signoff or {}
    a, b = cell_values(given), cell_values(rebuilt)
    out, apart = [], []
    for sheet, coord in sorted(set(a) | set(b)):
        if a.get((sheet, coord)) == b.get((sheet, coord)):
            continue
        where = f"'{sheet}'!{coord}" if sheet else coord
        if (sheet, coord) in signoff and (sheet, coord) not in figure_at:
            apart.append(f"{signoff[(sheet, coord)]} at {where}: this file has {_shown(a.get((sheet, coord)))}, "
                         f"the return as written has {_shown(b.get((sheet, coord)))}")
            continue
        what = f"figure {figure_at[(sheet, coord)]} at {where}" if (sheet, coord) in figure_at else f"cell {where}"
        out.append(f"{what}: this file has {_shown(a.get((sheet, coord)))}, the return has "
                   f"{_shown(b.get((sheet, coord)))}")
    return out, apart


def _shown(value: object) -> str:
    return "(empty)" if value is None else repr(value) if isinstance(value, str) else str(value)


def reproduce(workbook: Path) -> Reproduction:
    pack = pack_dir(workbook)
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    result = Reproduction(workbook.name, manifest["outputs"]["workbook"]["cells_sha256"])
    result.file_cells_sha256 = cells_hash(workbook) if workbook.exists() else "(no workbook file)"
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
        objects.append(landed_input(item, actual))

    build = _computed(manifest, pack, result)
    with rebuilt_warehouse(manifest, objects, "reproduce", "bcf-reproduce-") as (con, tmp):
        computed = build(con)
        rebuilt = tmp / workbook.name
        computed.write(rebuilt, computed.layouts, computed.figures, computed.allowed_blank)
        result.rebuilt_cells_sha256 = cells_hash(rebuilt)
        if workbook.exists() and result.file_cells_sha256 != result.rebuilt_cells_sha256:
            cells = {where: key for key, where in signoff_cells(rebuilt, manifest, pack).items()}
            result.file_differences, result.signoff_differences = _cell_differences(workbook, rebuilt, manifest,
                                                                                    cells)
    recorded = {f["figure_id"]: f["value"] for f in manifest["figures"]}
    for f in computed.figures:
        value = jsonable(f.value)
        if recorded.get(f.id) != value:
            result.figure_differences.append(f"{f.id}: recorded {recorded.get(f.id)}, rebuilt {value}")
    return result

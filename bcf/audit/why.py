"""`bcf why WORKBOOK FILE ROW` (or `bcf why WORKBOOK FIGURE KEY`): for one source row, every figure of the return it
contributes to, or the first reason it was left out (returns.md part D).

The reasons are the figure SQL's own WHERE clauses, split into ordered predicates in warehouse/sql/why/*.sql (one file
per family of figures). They are evaluated against the same rows the return was computed from: the run's warehouse
when it still holds exactly the inputs the manifest recorded, else a throw-away warehouse rebuilt from the landed
copies (as `bcf reproduce` does). What a row contributes comes from the audit pack's lineage, so the answer can be
checked against `bcf trace`; tests/unit/test_why.py proves the predicates and the lineage agree for every row.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from bcf.returns.pack import pack_dir, sha256_file
from core.settings import sql_dir
from transforms.nhs_number import looks_like, mask_text, token_text
from transforms.workbook import csv_safe
from warehouse import db

CSV_COLUMNS = ["file", "row", "key", "table", "outcome", "figure_id", "contribution", "family", "reason_code",
               "reason", "detail", "role"]


class WhyError(Exception):
    pass


@dataclass(frozen=True)
class Rule:
    code: str
    reason: str
    columns: tuple[str, ...]
    predicate: str


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    returns: str  # df | q
    table: str
    figures: re.Pattern[str]
    key: str
    rules: tuple[Rule, ...]


_RULE = re.compile(r"--\s*keep\s+([a-z0-9_]+):\s*(.*?)\s*(?:\[([^\]]*)\])?\s*$")


def parse_family(text: str) -> Family:
    head: dict[str, str] = {}
    rules: list[tuple[str, str, tuple[str, ...], list[str]]] = []
    for line in text.splitlines():
        rule = _RULE.match(line)
        if rule:
            cols = tuple(c.strip() for c in (rule.group(3) or "").split(",") if c.strip())
            rules.append((rule.group(1), rule.group(2), cols, []))
            continue
        header = re.match(r"--\s*(family|returns|table|figures|key):\s*(.*)$", line)
        if header:
            head[header.group(1)] = header.group(2).strip()
            continue
        if line.strip().startswith("--") or not line.strip():
            continue
        if not rules:
            raise ValueError(f"predicate before any '-- keep' line: {line}")
        rules[-1][3].append(line)
    fid, _, title = head["family"].partition("|")
    return Family(fid.strip(), title.strip(), head["returns"], head["table"], re.compile(head["figures"]),
                  head["key"], tuple(Rule(c, r, cols, "\n".join(p)) for c, r, cols, p in rules))


@cache
def families(returns: str) -> tuple[Family, ...]:
    found = [parse_family(p.read_text(encoding="utf-8")) for p in sorted((sql_dir() / "why").glob("*.sql"))]
    return tuple(f for f in found if f.returns == returns)


def _params_for(text: str, params: dict[str, Any]) -> dict[str, Any]:
    wanted = set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))
    return {k: v for k, v in params.items() if k in wanted}


def evaluate(con: duckdb.DuckDBPyConnection, family: Family, params: dict[str, Any],
             where: str = "TRUE", args: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each staged row of the family's table (filtered by `where`): file_id, source_row, key, the first rule it
    fails (None when it is in the family) and the values that rule looks at."""
    cases = " ".join(f"WHEN NOT coalesce(({r.predicate}), false) THEN '{r.code}'" for r in family.rules)
    shown = sorted({c for r in family.rules for c in r.columns})
    cols = "".join(f", CAST({c} AS VARCHAR) AS \"v_{c}\"" for c in shown)
    text = (f"SELECT file_id, source_row, CAST(({family.key}) AS VARCHAR) AS row_key, "
            f"CASE {cases} ELSE NULL END AS failed{cols} FROM stg_{family.table} WHERE {where}")
    cur = con.execute(text, {**_params_for(text, params), **(args or {})})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def failed_rule(family: Family, row: dict[str, Any]) -> tuple[Rule, str] | None:
    if row["failed"] is None:
        return None
    rule = next(r for r in family.rules if r.code == row["failed"])
    detail = ", ".join(f"{c}={'(blank)' if row.get(f'v_{c}') is None else mask_text(str(row[f'v_{c}']))}"
                       for c in rule.columns)
    return rule, detail


# ---------- the return, its pack and its warehouse ----------

def manifest_of(workbook: Path) -> dict[str, Any]:
    path = pack_dir(workbook) / "manifest.json"
    if not path.exists():
        raise WhyError(f"No audit pack for {workbook.name}: expected {path}")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def return_kind(manifest: dict[str, Any]) -> str:
    return "df" if manifest["return"]["workbook"].startswith("df_fortnightly_") else "q"


def return_params(manifest: dict[str, Any]) -> dict[str, Any]:
    from core.dates import Fortnight, Quarter

    ret = manifest["return"]
    if return_kind(manifest) == "df":
        return Fortnight.ending(dt.date.fromisoformat(ret["period_end"])).params(ret["hwb"])
    return Quarter.parse(ret["quarter"]).params(ret["hwb"])


def _live_warehouse(manifest: dict[str, Any]) -> Path | None:
    data_dir = manifest["return"].get("data_dir")
    path = Path(data_dir) / "warehouse.duckdb" if data_dir else None
    return path if path is not None and path.exists() else None


@contextlib.contextmanager
def warehouse_for(manifest: dict[str, Any]) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """The run's own warehouse when its files in force are still exactly the manifest's inputs (read-only);
    otherwise a throw-away one rebuilt from the landed copies with the run's date."""
    wanted = {i["file_id"] for i in manifest["inputs"]}
    with _live_reader(manifest) as con:
        if con is not None:
            have = {r[0] for r in con.execute(
                "SELECT file_id FROM files WHERE status IN ('loaded', 'rejected')").fetchall()}
            if have == wanted:
                _macros(con, manifest)
                yield con, f"the run's warehouse {_live_warehouse(manifest)}"
                return
    yield from _rebuilt(manifest)


@contextlib.contextmanager
def _live_reader(manifest: dict[str, Any]) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The run's warehouse, read-only, holding its data dir's run lock so a run starting meanwhile waits rather
    than fails on DuckDB's file lock; None when there is none, or a run (or another reader) has it."""
    from core.runlock import lock_if_free

    live = _live_warehouse(manifest)
    if live is None:
        yield None
        return
    with lock_if_free(live.parent, "'bcf why'") as held, contextlib.ExitStack() as stack:
        con = None
        if held:
            with contextlib.suppress(duckdb.Error):  # another program has it open for writing
                con = stack.enter_context(db.connect(live, read_only=True))
        yield con


def _macros(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> None:
    # the run's scope as the figure SQL sees it (run_params, the codes table, the int_* views, the sid macro);
    # temp objects are allowed on a read-only connection
    from warehouse import engine

    engine.bind(con, return_params(manifest))


def _rebuilt(manifest: dict[str, Any]) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    from bcf.audit.rebuild import landed_input, rebuilt_warehouse

    objects = []
    for item in manifest["inputs"]:
        copy = Path(item["landed_path"])
        if not copy.exists():
            raise WhyError(f"cannot rebuild the return's rows: the landed copy {copy} of {item['file_name']} is "
                           "missing")
        objects.append(landed_input(item, item["sha256"]))
    with rebuilt_warehouse(manifest, objects, "why", "bcf-why-") as (con, _folder):
        _macros(con, manifest)
        yield con, "a warehouse rebuilt from the landed copies the manifest names"


# ---------- answers ----------

@dataclass
class Answer:
    file: str
    row: int
    key: str
    table: str
    outcome: str  # counted | not counted | rejected | file rejected | superseded
    counted: list[tuple[str, str]] = field(default_factory=list)  # (figure id, contribution)
    left_out: list[tuple[Family, Rule, str]] = field(default_factory=list)
    note: str = ""
    roles: list[str] = field(default_factory=list)  # the lineage role of each `counted` line

    def csv_rows(self) -> list[list[str]]:
        base = [self.file, str(self.row), self.key, self.table, self.outcome]
        roles = self.roles or [""] * len(self.counted)
        rows = [base + [fid, c, "", "", "", "", role] for (fid, c), role in zip(self.counted, roles, strict=True)]
        rows += [base + ["", "", fam.id, rule.code, rule.reason, detail, ""] for fam, rule, detail in self.left_out]
        if not rows:
            rows.append(base + ["", "", "", "", self.note, "", ""])
        return rows


def _lineage(workbook: Path, file_id: str, rows: list[int]) -> list[tuple[int, str, str, str, str]]:
    path = pack_dir(workbook) / "lineage.parquet"
    if not rows:
        return []
    with duckdb.connect() as con:
        got = con.execute(
            "SELECT \"row\", \"key\", figure_id, CAST(contribution AS VARCHAR), role FROM read_parquet(?) "
            "WHERE file_id = ? AND list_contains(?, \"row\") ORDER BY figure_id, role",
            [str(path), file_id, [int(r) for r in rows]]).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in got]


def _plain(value: str) -> str:
    if "." not in value:
        return value
    whole, frac = value.split(".")
    frac = frac.rstrip("0")
    return whole if not frac else f"{whole}.{frac.ljust(2, '0')}"


def _findings(workbook: Path, file_name: str, row: int) -> list[str]:
    path = pack_dir(workbook) / "findings.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [f"{r['severity']} [{r['column'] or '-'}] {r['value']}: {r['rule']}: {r['message']}"
                for r in csv.DictReader(fh) if r["file"] == file_name and r["row"] == str(row)]


def _resolve_file(manifest: dict[str, Any], con: duckdb.DuckDBPyConnection, file: str) -> dict[str, Any]:
    """FILE is a file name of the return's inputs, a sha256 (or its first 12+ characters), or a path to a copy."""
    inputs = manifest["inputs"]
    digest = None
    if Path(file).is_file():
        digest = sha256_file(Path(file))
    elif re.fullmatch(r"[0-9a-f]{12,64}", file):
        digest = file
    elif looks_like(file):  # the name as the supplier sent it: the manifest holds its token (bcf/ingest/sources.py)
        from core.settings import pseudonym_key

        file = token_text(Path(file).name, pseudonym_key(manifest["run"].get("pseudonym_key"))[0])
    for item in inputs:
        if (digest and item["file_id"].startswith(digest)) or (not digest and item["file_name"] == file):
            return dict(item)
    if digest is None:
        names = sorted({i["file_name"] for i in inputs})
        raise WhyError(f"{file} is not an input of {manifest['return']['workbook']} (inputs: {', '.join(names)})")
    return {"file_id": digest, "file_name": mask_text(Path(file).name), "status": "not an input"}


def _superseded_note(manifest: dict[str, Any], digest: str) -> str:
    with _live_reader(manifest) as con:
        if con is not None:
            got = con.execute("SELECT file_name, status, superseded_by FROM files WHERE starts_with(file_id, ?)",
                              [digest]).fetchone()
            if got and got[1] == "superseded":
                return f"the file {got[0]} ({digest[:12]}) was superseded by a corrected delivery {got[2][:12]}"
    return f"the file {digest[:12]} is not an input of this return (superseded, or received after it was written)"


def why_row(workbook: Path, file: str, row: int, sheet: str | None = None) -> list[Answer]:
    manifest = manifest_of(workbook)
    with warehouse_for(manifest) as (con, _source):
        return _why_row(workbook, manifest, con, file, row, sheet)


def _why_row(workbook: Path, manifest: dict[str, Any], con: duckdb.DuckDBPyConnection, file: str, row: int,
             sheet: str | None) -> list[Answer]:
    item = _resolve_file(manifest, con, file)
    name = item["file_name"]
    if item["status"] == "not an input":
        return [Answer(name, row, "", "", "superseded", note=_superseded_note(manifest, item["file_id"]))]
    file_id = item["file_id"]
    answers: list[Answer] = []
    rejected = con.execute("SELECT kind, reasons FROM rejected_rows WHERE file_id = ? AND source_row = ?",
                           [file_id, row]).fetchall()
    findings = _findings(workbook, name, row)
    for table, reasons in rejected:
        if sheet and table != f"plan_{sheet}":
            continue
        outcome = "file rejected" if item["status"] == "rejected" else "rejected"
        detail = "; ".join(findings) or reasons
        answers.append(Answer(name, row, "", table, outcome, note=f"rejected by validation: {mask_text(detail)}"))
    fams = families(return_kind(manifest))
    params = return_params(manifest)
    tables = sorted({f.table for f in fams} | set(_all_tables()))
    for table in tables:
        if sheet and table != f"plan_{sheet}" and table != sheet:
            continue
        fam_here = [f for f in fams if f.table == table]
        if fam_here:
            results = [(f, evaluate(con, f, params, "file_id = $why_file AND source_row = $why_row",
                                    {"why_file": file_id, "why_row": row})) for f in fam_here]
            if not results[0][1]:
                continue
        else:
            present = con.execute(f"SELECT count(*) FROM stg_{table} WHERE file_id = ? AND source_row = ?",
                                  [file_id, row]).fetchone()
            if present and present[0]:
                answers.append(Answer(name, row, "", table, "not counted",
                                      note=f"no figure of this return reads {table} rows"))
            continue
        for i, fam_row in enumerate(results[0][1]):
            key = fam_row["row_key"]
            lineage = [(fid, c, role) for _r, k, fid, c, role in _lineage(workbook, file_id, [row]) if k == key]
            answer = Answer(name, row, key, table, "counted" if lineage else "not counted",
                            counted=[(fid, _plain(c)) for fid, c, _ in lineage], roles=[r for *_, r in lineage])
            for fam, rows in results:
                got = failed_rule(fam, rows[i])
                if got is not None and not any(fam.figures.search(fid) for fid, *_ in lineage):
                    answer.left_out.append((fam, *got))
            if not lineage and not answer.left_out:
                answer.note = "in scope of every family yet in no figure's lineage: please report this as a bug"
            answers.append(answer)
    if not answers:
        raise WhyError(f"{name} has no row {row} (rows are numbered as the supplier sees them, header = 1)")
    return answers


@cache
def _all_tables() -> tuple[str, ...]:
    from core.settings import contracts

    return tuple(sorted({c.table for c in contracts().values()}))


def why_figure(workbook: Path, figure_id: str, key: str) -> list[Answer]:
    """Is the row with business key KEY in figure FIGURE, and if not, why not."""
    manifest = manifest_of(workbook)
    if figure_id not in {f["figure_id"] for f in manifest["figures"]}:
        raise WhyError(f"No figure {figure_id!r} in {manifest['return']['workbook']}")
    fams = [f for f in families(return_kind(manifest)) if f.figures.search(figure_id)]
    if not fams:
        raise WhyError(f"{figure_id} is not counted from source rows (it is a cover value or derived in code)")
    params = return_params(manifest)
    names = {i["file_id"]: i["file_name"] for i in manifest["inputs"]}
    answers: list[Answer] = []
    if looks_like(key):  # the warehouse holds such a key as its token (transforms/parse.py): look that up
        from core.settings import pseudonym_key

        key = token_text(key, pseudonym_key(manifest["run"].get("pseudonym_key"))[0])
    with warehouse_for(manifest) as (con, _source):
        for fam in fams:
            for r in evaluate(con, fam, params, f"CAST(({fam.key}) AS VARCHAR) = $why_key", {"why_key": key}):
                lineage = [(fid, c) for _, k, fid, c, _role in _lineage(workbook, r["file_id"],
                                                                         [int(r["source_row"])]) if k == r["row_key"]]
                mine = [(fid, _plain(c)) for fid, c in lineage if fid == figure_id]
                answer = Answer(names.get(r["file_id"], r["file_id"]), int(r["source_row"]), r["row_key"],
                                fam.table, "counted" if mine else "not counted", counted=mine)
                got = failed_rule(fam, r)
                if not mine and got is not None:
                    answer.left_out.append((fam, *got))
                elif not mine:
                    others = sorted({fid for fid, _ in lineage if fam.figures.search(fid)})
                    answer.note = (f"in scope of {fam.id}, but {figure_id}'s own condition leaves it out (see its "
                                   f"definition in the Lineage sheet); it is counted in {', '.join(others[:6])}")
                answers.append(answer)
    if not answers:
        raise WhyError(f"no row with key {key!r} among the inputs of {figure_id} (a rejected row is named by "
                       "FILE ROW: see findings.csv)")
    return answers


def render(answers: list[Answer], fmt: str = "table") -> str:
    out = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for a in answers:  # text a spreadsheet would run as a formula is quoted, as in every CSV export
            writer.writerows([csv_safe(mask_text(v)) for v in row] for row in a.csv_rows())
        return out.getvalue()
    for a in answers:
        where = f" ({a.table})" if a.table else ""
        out.write(f"{a.file} row {a.row}{' key ' + a.key if a.key else ''}{where}: {a.outcome.upper()}\n")
        if a.counted:
            # one line a figure, so the count agrees with the lines: a row in both sides of a ratio is one figure
            by_figure: dict[str, list[tuple[str, str]]] = {}
            for (fid, c), role in zip(a.counted, a.roles or [""] * len(a.counted), strict=True):
                by_figure.setdefault(fid, []).append((role, c))
            out.write(f"  contributes to {len(by_figure)} figure(s):\n")
            for fid, parts in by_figure.items():
                sides = [role for role, _ in parts if role in ("numerator", "denominator")]
                shown = f"{fid} ({' and '.join(sides)})" if sides else fid
                out.write(f"    {shown:<60} {' and '.join(c for _, c in parts)}\n")
        same = {(rule.code, detail) for _, rule, detail in a.left_out}
        if a.left_out and not a.counted and len(same) == 1 and len(a.left_out) > 1:
            _, rule, detail = a.left_out[0]  # one reason for every family: say it once
            out.write(f"  left out of every figure because: {rule.reason}" + (f" ({detail})" if detail else "") +
                      "\n")
        elif a.left_out:
            out.write("  left out of:\n" if a.counted else "  left out because:\n")
            for fam, rule, detail in a.left_out:
                out.write(f"    {fam.title}: {rule.reason}" + (f" ({detail})" if detail else "") + "\n")
        if a.note:
            out.write(f"  {a.note}\n")
    return out.getvalue()

"""`bcf why WORKBOOK FILE ROW` (or `bcf why WORKBOOK FIGURE KEY`): for one source row, every figure of the return it
contributes to, or the first reason it was left out (returns.md part D).

The reasons are the figure SQL's own: each family of figures reads an intermediate view
(warehouse/sql/intermediate/int_*.sql) over all the run's current rows of its table, whose column `left_out` is the
first reason a row is left out (NULL: in); the figure models count the rows without one. The comment above the view
names its families and gives each reason's text and the columns shown with it. The views are evaluated on the same
rows the return was computed from: the run's warehouse when it still holds exactly the inputs the manifest recorded,
else a throw-away warehouse rebuilt from the landed copies (as `bcf reproduce` does). What a row contributes comes
from the audit pack's lineage, so the answer can be checked against `bcf trace`; tests/unit/test_why.py proves, for
every source row of the fixtures and a synthetic year, that a row has a reason exactly when the lineage leaves it out
of the family's figures.
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

from bcf.core.settings import sql_dir
from bcf.returns.pack import pack_dir, sha256_file
from bcf.transforms.nhs_number import looks_like, mask_text, token_text
from bcf.transforms.workbook import csv_safe
from bcf.warehouse import db

CSV_COLUMNS = ["file", "row", "key", "table", "outcome", "figure_id", "contribution", "family", "reason_code",
               "reason", "detail", "role"]
PERIOD_WORD = {"df": "fortnight", "q": "quarter"}  # `{period}` in a reason's text


class WhyError(Exception):
    pass


@dataclass(frozen=True)
class Rule:
    """A reason a row is left out: its code (the value of `left_out`), the text shown, the columns shown with it."""

    code: str
    reason: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    returns: str  # df | q
    table: str
    figures: re.Pattern[str]
    view: str  # the int_* view whose left_out decides the family's rows
    rules: tuple[Rule, ...]  # every reason the view can give, in the order it tests them


@dataclass(frozen=True)
class View:
    """One `CREATE ... VIEW int_*` of the intermediate SQL, with the comment lines above it."""

    name: str
    source: str  # what its top-level FROM reads first: another int_* view, or cur_<table>
    codes: tuple[str, ...]  # the left_out codes its SQL gives (THEN '<code>'), in order
    rules: tuple[Rule, ...]  # the reasons its comment declares
    families: tuple[tuple[str, str, str, str], ...]  # (id, returns, title, figures regex)


_VIEW = re.compile(r"CREATE OR REPLACE TEMP VIEW (int_\w+) AS(.*?);", re.IGNORECASE | re.DOTALL)
_REASON = re.compile(r"--\s*reason\s+([a-z0-9_]+):\s*(.*?)\s*(?:\[([^\]]*)\])?\s*$")
_FAMILY = re.compile(r"--\s*family:\s*(.*)$")


def _top_level_from(body: str) -> str:
    """The first relation the statement's own FROM names (subqueries and expressions in brackets set aside)."""
    flat = re.sub(r"--[^\n]*", "", body)
    while True:
        inner = re.sub(r"\([^()]*\)", " ", flat)
        if inner == flat:
            break
        flat = inner
    found = re.search(r"\bFROM\s+(\w+)", flat, re.IGNORECASE)
    return found.group(1) if found else ""


def parse_views(text: str) -> list[View]:
    """The int_* views of one intermediate SQL file, each with the `-- reason` and `-- family:` lines of the comment
    block just above it."""
    views = []
    for m in _VIEW.finditer(text):
        above = text[:m.start()].rstrip("\n").split("\n")
        block: list[str] = []
        while above and above[-1].startswith("--"):
            block.insert(0, above.pop())
        rules, fams = [], []
        for line in block:
            if reason := _REASON.match(line):
                cols = tuple(c.strip() for c in (reason.group(3) or "").split(",") if c.strip())
                rules.append(Rule(reason.group(1), reason.group(2), cols))
            elif fam := _FAMILY.match(line):
                fid, returns, title, figures = (part.strip() for part in fam.group(1).split(" | ", 3))
                fams.append((fid, returns, title, figures))
        codes = tuple(dict.fromkeys(re.findall(r"THEN\s+'([a-z0-9_]+)'", m.group(2))))
        views.append(View(m.group(1), _top_level_from(m.group(2)), codes, tuple(rules), tuple(fams)))
    return views


@cache
def all_views() -> dict[str, View]:
    return {v.name: v for path in sorted((sql_dir() / "intermediate").glob("int_*.sql"))
            for v in parse_views(path.read_text(encoding="utf-8"))}


def view_rules(name: str, views: dict[str, View]) -> tuple[tuple[Rule, ...], str]:
    """A view's reasons in the order its left_out tests them (those of the view it adds to first; a reason it
    declares again keeps its place but takes its text) and the table it reads (cur_<table>)."""
    view = views[name]
    if view.source in views:
        inherited, table = view_rules(view.source, views)
    else:
        inherited, table = (), view.source.removeprefix("cur_")
    own = {r.code: r for r in view.rules}
    rules = [own.pop(r.code, r) for r in inherited]
    return (*rules, *own.values()), table


@cache
def families(returns: str) -> tuple[Family, ...]:
    views = all_views()
    out = []
    for view in views.values():
        rules, table = view_rules(view.name, views)
        for fid, kind, title, figures in view.families:
            word = PERIOD_WORD[kind]
            shown = tuple(Rule(r.code, r.reason.replace("{period}", word), r.columns) for r in rules)
            out.append(Family(fid, title, kind, table, re.compile(figures), view.name, shown))
    return tuple(sorted((f for f in out if f.returns == returns), key=lambda f: f.id))


def evaluate(con: duckdb.DuckDBPyConnection, family: Family, where: str = "TRUE",
             args: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each of the run's current rows of the family's table (filtered by `where`), read from the family's view (bind()
    first): file_id, source_row, row_key, `failed` (the view's left_out: None when the row is in the family) and the
    values the reasons look at (v_<column>)."""
    shown = sorted({c for r in family.rules for c in r.columns})
    cols = "".join(f", CAST({c} AS VARCHAR) AS \"v_{c}\"" for c in shown)
    text = (f"SELECT file_id, source_row, CAST(row_key AS VARCHAR) AS row_key, left_out AS failed{cols} "
            f"FROM {family.view} WHERE {where} ORDER BY file_id, source_row, row_key")
    cur = con.execute(text, args or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def failed_rule(family: Family, row: dict[str, Any]) -> tuple[Rule, str] | None:
    if row["failed"] is None:
        return None
    rule = next((r for r in family.rules if r.code == row["failed"]), Rule(row["failed"], row["failed"], ()))
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
    from bcf.core.dates import Fortnight, Quarter

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
    from bcf.core.runlock import lock_if_free

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
    from bcf.warehouse import engine

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
        from bcf.core.settings import pseudonym_key

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
    tables = sorted({f.table for f in fams} | set(_all_tables()))
    for table in tables:
        if sheet and table != f"plan_{sheet}" and table != sheet:
            continue
        fam_here = [f for f in fams if f.table == table]
        results = [(f, {r["row_key"]: r for r in evaluate(con, f, "file_id = $why_file AND source_row = $why_row",
                                                          {"why_file": file_id, "why_row": row})})
                   for f in fam_here]
        if not results or not results[0][1]:
            present = con.execute(f"SELECT count(*) FROM stg_{table} WHERE file_id = ? AND source_row = ?",
                                  [file_id, row]).fetchone()
            if present and present[0] and item["status"] == "rejected":
                answers.append(Answer(name, row, "", table, "file rejected",
                                      note="the file was rejected as a whole (see findings.csv): none of its rows "
                                           "is counted"))
            elif present and present[0]:
                answers.append(Answer(name, row, "", table, "not counted",
                                      note=f"no figure of this return reads {table} rows"))
            continue
        for key in results[0][1]:
            lineage = [(fid, c, role) for _r, k, fid, c, role in _lineage(workbook, file_id, [row]) if k == key]
            answer = Answer(name, row, key, table, "counted" if lineage else "not counted",
                            counted=[(fid, _plain(c)) for fid, c, _ in lineage], roles=[r for *_, r in lineage])
            for fam, rows in results:
                got = failed_rule(fam, rows[key])
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
    from bcf.core.settings import contracts

    return tuple(sorted({c.table for c in contracts().values()}))


def why_figure(workbook: Path, figure_id: str, key: str) -> list[Answer]:
    """Is the row with business key KEY in figure FIGURE, and if not, why not."""
    manifest = manifest_of(workbook)
    if figure_id not in {f["figure_id"] for f in manifest["figures"]}:
        raise WhyError(f"No figure {figure_id!r} in {manifest['return']['workbook']}")
    fams = [f for f in families(return_kind(manifest)) if f.figures.search(figure_id)]
    if not fams:
        raise WhyError(f"{figure_id} is not counted from source rows (it is a cover value or derived in code)")
    names = {i["file_id"]: i["file_name"] for i in manifest["inputs"]}
    answers: list[Answer] = []
    if looks_like(key):  # the warehouse holds such a key as its token (transforms/parse.py): look that up
        from bcf.core.settings import pseudonym_key

        key = token_text(key, pseudonym_key(manifest["run"].get("pseudonym_key"))[0])
    with warehouse_for(manifest) as (con, _source):
        for fam in fams:
            for r in evaluate(con, fam, "CAST(row_key AS VARCHAR) = $why_key", {"why_key": key}):
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

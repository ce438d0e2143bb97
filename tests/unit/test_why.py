"""`bcf why`: for every source row, the answer agrees with the return's lineage (a row that contributes has no
exclusion reason, and one left out has one), on the hand-built fixtures and on a synthetic demo-like year. The reasons
are the `left_out` column of the intermediate views the figure models read, so this also proves the figures count
exactly the rows without one: a figure model that filtered differently fails it (test_a_figure_filtering_...)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from bcf.audit.why import all_views, evaluate, families, render, return_kind, return_params, why_figure, why_row
from bcf.core.dates import Fortnight, Quarter
from bcf.core.settings import contracts
from bcf.devtools.synthetic import generate
from bcf.ingest.sources import land, list_source, staging_key
from bcf.ingest.stage_file import stage_file
from bcf.returns import build as returns
from bcf.returns.pack import RunInfo, pack_dir
from bcf.returns.produce import produce
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from tests.fixtures import HWB, write_df_fixture, write_q_fixture


def _build(folder: Path, data: Path, out: Path, which: str, today: dt.date) -> Path:
    """Stage every file (bad rows are rejected, not asserted away) and write one return with its audit pack."""
    with db.connect(data / "warehouse.duckdb") as con:
        for obj in sorted(list_source(str(folder)), key=staging_key):
            stage_file(con, obj, land(obj, data / "landing"), "run", b"k", RowValidator(), today)
        if which.startswith("df"):
            period = Fortnight.ending(dt.date.fromisoformat(which[3:]))
            params, build, name = period.params(HWB), returns.fortnightly(HWB, period), period.file_name(HWB)
        else:
            quarter = Quarter.parse(which[2:])
            params, build, name = quarter.params(HWB), returns.quarterly(HWB, quarter), quarter.file_name(HWB)
        run = RunInfo("why-test", "test", None, {"data_dir": str(data)}, dt.datetime.now(dt.UTC).isoformat())
        outcome = produce(con, HWB, params, out / name, run, build)
        assert outcome.status == "written", outcome.blocking
    return outcome.workbook


def _consistent(workbook: Path) -> Counter[tuple[str, str | None]]:
    """Every current row of every family's table: it has no reason (left_out) <=> the lineage has it in the family's
    figures: never both, never neither. The family's view holds every current row of its table, once. Rejected rows
    are in no figure. Returns how many rows of each family had each reason (None: in the family's figures)."""
    import json

    manifest = json.loads((pack_dir(workbook) / "manifest.json").read_text())
    lineage = duckdb.sql(f"SELECT file_id, \"row\", \"key\", figure_id FROM "
                         f"read_parquet('{pack_dir(workbook) / 'lineage.parquet'}')").fetchall()
    contributes: dict[tuple[str, int, str], set[str]] = {}
    for file_id, row, key, fid in lineage:
        contributes.setdefault((file_id, int(row), str(key)), set()).add(fid)
    params = return_params(manifest)
    checked: Counter[tuple[str, str | None]] = Counter()
    with duckdb.connect(manifest["return"]["data_dir"] + "/warehouse.duckdb", read_only=True) as con:
        from bcf.warehouse import engine

        engine.bind(con, params)
        inputs = {i["file_id"] for i in manifest["inputs"]}
        for fam in families(return_kind(manifest)):
            rows = evaluate(con, fam)
            current = con.execute(f"SELECT count(*) FROM cur_{fam.table}").fetchone()
            assert current is not None and len(rows) == current[0], (fam.id, "the view drops or repeats rows")
            assert len({(r["file_id"], r["source_row"], r["row_key"]) for r in rows}) == len(rows), fam.id
            for r in rows:
                assert r["file_id"] in inputs, (fam.id, r)
                figs = contributes.get((r["file_id"], int(r["source_row"]), r["row_key"]), set())
                in_lineage = any(fam.figures.search(f) for f in figs)
                assert (r["failed"] is None) == in_lineage, (fam.id, r, sorted(figs))
                checked[fam.id, r["failed"]] += 1
        rejected = con.execute("SELECT file_id, source_row FROM rejected_rows").fetchall()
    for file_id, row in rejected:
        assert not any(k[0] == file_id and k[1] == row for k in contributes
                       if not k[2].startswith(("schemes:", "income:", "metric_", "capacity:", "population:",
                                               "conditions:"))), (file_id, row)
    return checked


def _all_rows(workbook: Path) -> list[tuple[str, int]]:
    import json

    manifest = json.loads((pack_dir(workbook) / "manifest.json").read_text())
    out = []
    with duckdb.connect(manifest["return"]["data_dir"] + "/warehouse.duckdb", read_only=True) as con:
        for item in manifest["inputs"]:
            tables = ["discharges", "reablement", "spend"] if item["kind"] != "plan" else []
            for t in tables:
                out += [(item["file_name"], int(r[0])) for r in con.execute(
                    f"SELECT source_row FROM stg_{t} WHERE file_id = ?", [item["file_id"]]).fetchall()]
            out += [(item["file_name"], int(r[0])) for r in con.execute(
                "SELECT source_row FROM rejected_rows WHERE file_id = ? AND kind NOT LIKE 'plan%'",
                [item["file_id"]]).fetchall()]
    return sorted(set(out))


def _check_answers(workbook: Path, rows: list[tuple[str, int]]) -> None:
    for file_name, row in rows:
        for a in why_row(workbook, file_name, row):
            if a.outcome in ("rejected", "file rejected"):
                assert not a.counted and "rejected by validation" in a.note
                continue
            # counted <=> some figure; every family it is not in has a reason; a counted family has none
            assert (a.outcome == "counted") == bool(a.counted), a
            trace_ids = {fid for fid, _ in a.counted}
            for fam, _rule, _detail in a.left_out:
                assert not any(fam.figures.search(f) for f in trace_ids), (a, fam.id)
            assert a.counted or a.left_out, a


@pytest.fixture(scope="module")
def df_hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("why_df")
    return _build(write_df_fixture(tmp / "src"), tmp / "data", tmp / "out", "df:2023-01-19", dt.date(2023, 2, 1))


@pytest.mark.slow
def test_hand_fixture_every_row_agrees_with_lineage(df_hand: Path) -> None:
    assert _consistent(df_hand).total() > 30
    _check_answers(df_hand, _all_rows(df_hand))


def test_hand_fixture_reasons_are_the_definitions(df_hand: Path) -> None:
    def reasons(name: str, row: int) -> list[str]:
        return [rule.code for a in why_row(df_hand, name, row) for _, rule, _ in a.left_out]

    # row numbers: header = 1, so S1 is row 2 (see tests/fixtures.py)
    assert reasons("discharges_rwe.csv", 2) == []  # S1 counted
    assert reasons("discharges_rwe.csv", 6) == ["outside_period"]  # S5: the day before P
    assert reasons("discharges_rwe.csv", 8) == ["died"]  # S7
    assert reasons("discharges_rwe.csv", 9) == ["not_acute"]  # S8
    assert reasons("discharges_rwe.csv", 10) == ["other_hwb"]  # S9
    assert reasons("discharges_rwe.csv", 11) == ["no_discharge_date"]  # S10
    assert reasons("spend_x.csv", 5) == ["outside_fund_year"]  # T4 last year
    assert reasons("spend_x.csv", 8) == ["not_df_money"]  # T7
    assert reasons("spend_x.csv", 13) == ["scheme_not_in_df_plan"]  # T12: DF money, scheme B01 has no DF plan row
    assert reasons("spend_x.csv", 14) == ["other_hwb"]  # T13
    s1 = why_row(df_hand, "discharges_rwe.csv", 2)[0]
    assert ("df.discharges.total", "1") in s1.counted and ("df.discharges.same_day", "1") in s1.counted
    text = render(why_row(df_hand, "discharges_rwe.csv", 8))
    assert "died in hospital (destination 79)" in text and "discharge_destination=79" in text
    rows = list(csv.DictReader(io.StringIO(render(why_row(df_hand, "spend_x.csv", 2), "csv"))))
    assert {r["figure_id"] for r in rows} >= {"df.scheme.df01.spend_to_date", "df.spend.to_date", "df.balance"}
    # the figure-and-key form
    one = why_figure(df_hand, "df.discharges.usual_residence", "RWE:S3")
    assert one[0].outcome == "not counted" and "own condition" in one[0].note  # destination 85, in scope
    two = why_figure(df_hand, "df.discharges.total", "RWE:S7")
    assert [rule.code for _, rule, _ in two[0].left_out] == ["died"]


@pytest.mark.slow
def test_plan_rows_and_the_rebuilt_warehouse(df_hand: Path, tmp_path: Path) -> None:
    answers = why_row(df_hand, "plan_x.xlsx", 2, sheet="schemes")
    assert answers and answers[0].key.startswith("schemes:") and answers[0].counted
    # with the run's warehouse gone, the same answer comes from a warehouse rebuilt from the landed copies
    import json

    manifest = json.loads((pack_dir(df_hand) / "manifest.json").read_text())
    live = Path(manifest["return"]["data_dir"]) / "warehouse.duckdb"
    moved = tmp_path / "moved.duckdb"
    shutil.copy(live, moved)
    live.unlink()
    try:
        rebuilt = why_row(df_hand, "discharges_rwe.csv", 8)
        assert [r.code for a in rebuilt for _, r, _ in a.left_out] == ["died"]
    finally:
        shutil.copy(moved, live)


@pytest.mark.slow
def test_quarterly_hand_fixture_agrees_with_lineage(tmp_path: Path) -> None:
    wb = _build(write_q_fixture(tmp_path / "src"), tmp_path / "data", tmp_path / "out", "q:2022-23-Q4",
                dt.date(2023, 5, 1))
    assert _consistent(wb).total() > 30
    _check_answers(wb, _all_rows(wb))


@pytest.mark.slow
def test_synthetic_year_agrees_with_lineage(tmp_path: Path) -> None:
    src = tmp_path / "src"
    generate(HWB, dt.date(2022, 4, 1), dt.date(2023, 3, 31), 1000, 7, src)
    # one bad row (another HWB's, so it does not block Rutland's return): answered as rejected, with its finding
    rwe = next(src.glob("discharges_rwe_*.csv"))
    lines = rwe.read_text().splitlines()
    cells = lines[1].split(",")
    cells[4], cells[5] = "not-an-age", "E06000016"
    rwe.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    df = _build(src, tmp_path / "data", tmp_path / "out", "df:2023-03-30", dt.date(2023, 4, 10))
    q = _build(src, tmp_path / "data", tmp_path / "out", "q:2022-23-Q4", dt.date(2023, 4, 10))
    seen = _consistent(df) + _consistent(q)
    assert seen.total() > 400
    # every family has rows in, and the year exercises most reasons
    for fam in (*families("df"), *families("q")):
        assert seen[fam.id, None] > 0, fam.id
    codes = {code for _fid, code in seen if code}
    assert codes >= {"other_hwb", "not_acute", "no_discharge_date", "died", "outside_period", "not_emergency",
                     "not_acsc", "under_65", "not_injury", "not_pathway_1_3", "not_community",
                     "not_from_hospital", "outside_discharge_window", "not_df_money", "other_quarter"}, codes
    rows = _all_rows(df)
    sample = rows[:: max(1, len(rows) // 40)] + [(rwe.name, 2)]
    _check_answers(df, sample)
    _check_answers(q, sample)
    bad = why_row(df, rwe.name, 2)
    assert bad[0].outcome == "rejected" and "age" in bad[0].note


@pytest.mark.slow
def test_a_superseded_file_is_named_as_such(tmp_path: Path) -> None:
    src = write_df_fixture(tmp_path / "src")
    old = tmp_path / "old_discharges_rwe.csv"
    shutil.copy(src / "discharges_rwe.csv", old)
    data = tmp_path / "data"
    with db.connect(data / "warehouse.duckdb") as con:  # the first delivery, then a corrected one
        for obj in sorted(list_source(str(src)), key=staging_key):
            stage_file(con, obj, land(obj, data / "landing"), "run", b"k", RowValidator(), dt.date(2023, 2, 1))
    lines = (src / "discharges_rwe.csv").read_text().splitlines()
    (src / "discharges_rwe.csv").write_text("\n".join(lines[:-1]) + "\n")  # the trust drops its last row
    wb = _build(src, data, tmp_path / "out", "df:2023-01-19", dt.date(2023, 2, 1))
    answer = why_row(wb, str(old), 2)
    assert answer[0].outcome == "superseded" and "superseded by a corrected delivery" in answer[0].note
    assert why_row(wb, "discharges_rwe.csv", 2)[0].outcome == "counted"  # the name is the file in force


def test_every_reason_a_view_gives_is_declared_above_it() -> None:
    """The codes a view's SQL gives (THEN '<code>') and the reasons its comment declares are the same set, and every
    family's view holds all of its table's rows under one reason chain (the view it adds to, down to cur_<table>)."""
    views = all_views()
    for view in views.values():
        if view.codes or view.rules:
            assert set(view.codes) == {r.code for r in view.rules}, view.name
    fams = [*families("df"), *families("q")]
    assert len(fams) == 20 and len({f.id for f in fams}) == 20
    tables = {c.table for c in contracts().values()}
    for fam in fams:
        assert fam.table in tables, (fam.id, fam.table)  # the view reads cur_<a staged table>
        assert fam.rules and fam.rules[0].code == "other_hwb", fam.id  # part D: another HWB's row comes first
        assert "{" not in "".join(r.reason for r in fam.rules), fam.id
    discharges = next(f for f in fams if f.id == "df.discharges")
    assert [r.code for r in discharges.rules] == ["other_hwb", "not_acute", "no_discharge_date", "died",
                                                  "outside_period"]
    assert discharges.rules[-1].reason == "discharged outside the fortnight" and discharges.table == "discharges"


def _planted(monkeypatch: pytest.MonkeyPatch, model: str, old: str, new: str) -> None:
    """The figure model `model` with its row filter changed, for the returns built after this (not its view)."""
    from bcf.warehouse import engine

    real = engine.sql

    def sql(name: str) -> str:
        text = real(name)
        if name == model:
            assert old in text
            return text.replace(old, new)
        return text

    monkeypatch.setattr(engine, "sql", sql)


@pytest.mark.parametrize("new", [
    "WHERE left_out IS NULL AND discharge_pathway IS DISTINCT FROM '0'",  # a row in scope is in no figure: neither
    "WHERE left_out IS NULL OR left_out = 'died'",  # a row with a reason is counted: both
])
def test_a_figure_filtering_otherwise_than_its_view_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     new: str) -> None:
    _planted(monkeypatch, "df_discharges", "WHERE left_out IS NULL", new)
    wb = _build(write_df_fixture(tmp_path / "src"), tmp_path / "data", tmp_path / "out", "df:2023-01-19",
                dt.date(2023, 2, 1))
    with pytest.raises(AssertionError, match="df.discharges"):
        _consistent(wb)

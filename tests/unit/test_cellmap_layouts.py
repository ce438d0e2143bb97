"""`bcf cellmap` on every stand-in layout of both returns, with no hand edits: it places at least 95% of the input
cells our figures belong in, none wrongly, and lists the rest with a reason. The stand-ins (tests/templates.py)
differ as national templates do from year to year: two-row month headings under merged Demand / Capacity, metric
plans and actuals under quarter group headings, input cells marked only by protection and fill, other sheet names
and wording."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bcf.core.dates import Quarter
from bcf.devtools.synthetic import SCHEMES
from bcf.returns.cellmap import ReturnUnknown, month_of, propose, propose_book, quarter_of
from bcf.transforms.template import load_cell_map
from bcf.transforms.template_cells import input_cells
from tests.templates import FORTNIGHTLY_LAYOUTS, QUARTERLY_LAYOUTS

Q_SCHEMES = [(s.scheme_id, s.name) for s in SCHEMES]
DF_SCHEMES = [(s.scheme_id, s.name) for s in SCHEMES if s.scheme_id.startswith("DF")]


def _score(template: Path, truth: dict[str, str], which: str, months: list[dt.date], tmp: Path,
           given: list[dt.date] | None) -> tuple[int, dict[str, tuple[str, str | None]], set[str]]:
    got_which, proposal = propose(template, None, given)
    assert got_which == which
    (tmp / "map.toml").write_text(proposal.toml("test"), encoding="utf-8")
    got = {fid: f"{s}!{c}" for fid, (s, c) in load_cell_map(tmp / "map.toml", months).items()}
    right = sum(got.get(fid) == cell for fid, cell in truth.items())
    wrong = {fid: (cell, truth.get(fid)) for fid, cell in got.items() if truth.get(fid) != cell}
    tags = {f"{m:%Y_%m}": f"{{m{i + 1}}}" for i, m in enumerate(months)}

    def tagged(fid: str) -> str:
        for month, tag in tags.items():
            fid = fid.replace(f".{month}.", f".{tag}.")
        return fid
    unlisted = {fid for fid in truth if got.get(fid) != truth[fid] and tagged(fid) not in proposal.unplaced}
    # only input cells, and never one cell for two figures
    inputs = input_cells(load_workbook(template))
    assert all(tuple(cell.split("!")) in inputs for cell in got.values())
    assert len(set(got.values())) == len(got)
    return right, wrong, unlisted


@pytest.mark.parametrize("quarter", ["2022-23-Q4", "2023-24-Q3"])
@pytest.mark.parametrize("layout", list(QUARTERLY_LAYOUTS))
@pytest.mark.parametrize("given", [True, False], ids=["--quarter", "no-quarter"])
def test_quarterly_layouts(tmp_path: Path, layout: str, quarter: str, given: bool) -> None:
    months = Quarter.parse(quarter).months
    truth: dict[str, str] = {}
    template = QUARTERLY_LAYOUTS[layout](tmp_path / "t.xlsx", Q_SCHEMES, months, truth)
    right, wrong, unlisted = _score(template, truth, "quarterly", months, tmp_path, months if given else None)
    assert not wrong, wrong
    assert right >= 0.95 * len(truth), f"{layout}: {right} of {len(truth)}"
    assert not unlisted


@pytest.mark.parametrize("layout", list(FORTNIGHTLY_LAYOUTS))
def test_fortnightly_layouts(tmp_path: Path, layout: str) -> None:
    truth: dict[str, str] = {}
    template = FORTNIGHTLY_LAYOUTS[layout](tmp_path / "t.xlsx", DF_SCHEMES, truth)
    right, wrong, unlisted = _score(template, truth, "fortnightly", [], tmp_path, None)
    assert not wrong, wrong
    assert right >= 0.95 * len(truth), f"{layout}: {right} of {len(truth)}"
    assert not unlisted


def test_a_locked_cell_is_never_proposed_and_a_pre_populated_plan_is_left_alone(tmp_path: Path) -> None:
    from openpyxl.styles import Protection

    months = Quarter.parse("2022-23-Q4").months
    truth: dict[str, str] = {}
    book = load_workbook(QUARTERLY_LAYOUTS["2025-26"](tmp_path / "t.xlsx", Q_SCHEMES, months, truth))
    sheet, coord = truth["q.metric.falls.actual"].split("!")
    book[sheet][coord].protection = Protection(locked=True)  # still green, but locked: not an input
    proposal = propose_book(book, "quarterly", months)
    assert "q.metric.falls.actual" not in proposal.cells
    assert "q.metric.falls.actual" in proposal.unplaced
    b = propose_book(load_workbook(QUARTERLY_LAYOUTS["2024-25"](tmp_path / "b.xlsx", Q_SCHEMES, months)),
                     "quarterly", months)
    assert "pre-populated" in b.unplaced["q.metric.falls.plan"]  # the national team's plan stays


def test_two_cells_for_one_figure_are_listed_not_guessed(tmp_path: Path) -> None:
    months = Quarter.parse("2022-23-Q4").months
    truth: dict[str, str] = {}
    book = load_workbook(QUARTERLY_LAYOUTS["2023-24"](tmp_path / "t.xlsx", Q_SCHEMES, months, truth))
    cover = book["1. Cover"]
    cover["B12"] = "HWB code:"  # a second field with the same label
    cover["C12"].fill = cover["C5"].fill.copy()
    proposal = propose_book(book, "quarterly", months)
    assert "q.hwb_code" not in proposal.cells and proposal.unplaced["q.hwb_code"].startswith("ambiguous")
    assert "q.hwb_code" in proposal.blocking


def test_the_return_comes_from_the_period_given_then_the_headings(tmp_path: Path) -> None:
    months = Quarter.parse("2022-23-Q4").months
    q = QUARTERLY_LAYOUTS["2025-26"](tmp_path / "q.xlsx", Q_SCHEMES, months)
    assert propose(q)[0] == "quarterly"
    assert propose(q, None, months)[0] == "quarterly"
    df = FORTNIGHTLY_LAYOUTS["2023-24"](tmp_path / "df.xlsx", DF_SCHEMES)
    assert propose(df, None, None, dt.date(2023, 1, 19))[0] == "fortnightly"
    book = load_workbook(df)  # a template that names neither return
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "ortnight" in cell.value:
                    cell.value = cell.value.replace("fortnightly", "").replace("Fortnight", "Period").replace(
                        "fortnight", "period")
    book.save(tmp_path / "plain.xlsx")
    with pytest.raises(ReturnUnknown, match="--return"):
        propose(tmp_path / "plain.xlsx")


@pytest.mark.parametrize(("value", "expected"), [
    (dt.datetime(2023, 10, 1), ("ym", 2023, 10)), ("Oct-23", ("ym", 2023, 10)), ("October 2023", ("ym", 2023, 10)),
    ("2023-10", ("ym", 2023, 10)), ("10/2023", ("ym", 2023, 10)), ("Month 1", ("n", 1, 0)), ("Demand", None)])
def test_month_headings_in_any_common_form(value: object, expected: object) -> None:
    assert month_of(value) == expected


def test_quarter_headings() -> None:
    assert [quarter_of(t) for t in ("q3", "q3 plan", "quarter 3", "q3 2025 26", "plan")] == [3, 3, 3, 3, None]


def test_the_shipped_maps_are_what_bcf_cellmap_proposes_sign_off_and_gaps_too(tmp_path: Path) -> None:
    """config/cellmaps/*: the figure cells (test_national_template checks them too), the [signoff] table and the
    list of figures left unplaced, all exactly as `bcf cellmap` proposes them today."""
    from bcf.core.settings import config_dir
    from bcf.transforms.template import load_signoff_cells
    from tests.templates import fortnightly_template, quarterly_template

    months = Quarter.parse("2023-24-Q1").months
    for name, template, which in (
            ("bcf_quarterly_2023-24.toml", quarterly_template(tmp_path / "q.xlsx", Q_SCHEMES, months), "quarterly"),
            ("df_fortnightly_2022-23.toml", fortnightly_template(tmp_path / "df.xlsx", DF_SCHEMES), "fortnightly")):
        _, proposal = propose(template, which)
        shipped = config_dir() / "cellmaps" / name
        (tmp_path / "p.toml").write_text(proposal.toml("x"), encoding="utf-8")
        assert load_cell_map(tmp_path / "p.toml", months) == load_cell_map(shipped, months), name
        assert load_signoff_cells(tmp_path / "p.toml") == load_signoff_cells(shipped), name
        listed = {line.split('"')[1] for line in shipped.read_text(encoding="utf-8").splitlines()
                  if line.startswith('# "')}
        assert listed == set(proposal.unplaced), name


def test_a_scheme_line_by_name_is_read_with_the_plan_and_listed_without_it(tmp_path: Path) -> None:
    from bcf.returns.cellmap import map_for_run
    from bcf.transforms.template import TemplateError

    months = Quarter.parse("2022-23-Q4").months
    truth: dict[str, str] = {}
    template = QUARTERLY_LAYOUTS["2025-26"](tmp_path / "t.xlsx", Q_SCHEMES, months, truth)
    book = load_workbook(template)
    for row in book["Schemes"].iter_rows(min_row=5, min_col=3, max_col=3):  # no scheme reference column: the
        row[0].value = None  # lines name their scheme only
    book.save(template)
    without = propose_book(load_workbook(template), "quarterly", months)
    lines = [k for k in without.unplaced if k.startswith("(scheme line Schemes!")]
    assert len(lines) == len(Q_SCHEMES) and set(lines) <= set(without.blocking)
    assert not [k for k in without.cells if k.startswith("q.scheme.")]
    map_for_run(template, "quarterly", months)  # before ingest the plan is not read: not yet a reason to stop
    with pytest.raises(TemplateError, match="scheme line"):
        map_for_run(template, "quarterly", months, [("OTHER1", "Another scheme")])
    proposal, cells = map_for_run(template, "quarterly", months, Q_SCHEMES)  # the plan names them
    assert {fid: f"{s}!{c}" for fid, (s, c) in cells.items() if fid.startswith("q.scheme.")} == {
        fid: cell for fid, cell in truth.items() if fid.startswith("q.scheme.")}


def test_another_quarters_template_stops_a_run_without_a_map(tmp_path: Path) -> None:
    """Month columns only for other months: nothing is placed there, and a run without a map stops (no C&D would be
    filled otherwise)."""
    from bcf.returns.cellmap import map_for_run
    from bcf.transforms.template import TemplateError

    template = QUARTERLY_LAYOUTS["2024-25"](tmp_path / "t.xlsx", Q_SCHEMES, Quarter.parse("2023-24-Q3").months)
    q2 = Quarter.parse("2023-24-Q2").months
    proposal = propose_book(load_workbook(template), "quarterly", q2)
    assert not [k for k in proposal.cells if k.startswith("q.cd.")]
    with pytest.raises(TemplateError, match="q.cd.pathway_1"):
        map_for_run(template, "quarterly", q2)

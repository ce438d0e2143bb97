"""Issue 26: every stand-in layout of both returns filled without a hand-written map (the proposed one), keeping
what the template holds, its own totals equal to ours after a LibreOffice recalculation; the fill report (empty
input cells, values breaking the cell's own validation); the sign-off cells; a template run whose map cannot be
proposed stops before anything is ingested."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from bcf.cli import main
from bcf.returns.cellmap import map_for_run
from bcf.transforms.figures import Figure
from bcf.transforms.findings import Finding
from bcf.transforms.template import TemplateError, fill_template, inventory
from bcf.transforms.template_cells import breach
from tests.fixtures import HWB, write_q_fixture
from tests.templates import FORTNIGHTLY_LAYOUTS, QUARTERLY_LAYOUTS
from tests.unit.test_national_template import PERIOD, QUARTER, _cells, _num, _recalculate

SIGNOFF = {"completed_by": "A. Officer", "contact": "a.officer@example.org", "signed_off_by": "B. Director",
           "signed_off_on": "2023-04-20"}
KEPT = ("image", "data validation", "merged range", "formula", "sheet protection", "hidden sheet", "defined name")


def _fill(template: Path, out: Path, figures: list[Figure], which: str, months: list[dt.date],
          signoff: dict[str, str] | None = None) -> tuple[dict[str, tuple[str, str]], list[Finding], object]:
    proposal, cells = map_for_run(template, which, months)  # no hand-written map
    signoff_cells = {k: tuple(v.rsplit("!", 1)) for k, v in proposal.signoff.items()}
    report: list[Finding] = []
    fill_template(template, out, figures, cells, signoff=signoff, signoff_cells=signoff_cells,  # type: ignore[arg-type]
                  report=report)
    return cells, report, proposal


def _kept(template: Path, out: Path, cells: dict[str, tuple[str, str]], signoff_cells: set[tuple[str, str]]) -> None:
    before, after = _cells(template), _cells(out)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= set(cells.values()) | signoff_cells  # only mapped cells and the sign-off cells change
    counts_before, counts_after = inventory(template), inventory(out)
    for feature in KEPT:
        assert counts_after[feature] == counts_before[feature], feature
    assert counts_before["image"] == 1 and counts_before["merged range"] > 0 and counts_before["sheet protection"]
    book = load_workbook(out)
    assert book["Lists"].sheet_state == "hidden" and book["Guidance"].protection.sheet
    assert "Lineage" not in book.sheetnames


def _at(book: object, target: str) -> object:
    sheet, coord = target.split("!")
    return book[sheet][coord].value  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.parametrize("layout", list(QUARTERLY_LAYOUTS))
def test_quarterly_layout_filled_and_recalculated(tmp_path: Path, q_figures, layout: str) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = q_figures
    truth: dict[str, str] = {}
    template = QUARTERLY_LAYOUTS[layout](tmp_path / "t.xlsx", schemes, QUARTER.months, truth)
    out = tmp_path / "filled.xlsx"
    cells, report, proposal = _fill(template, out, figures, "quarterly", QUARTER.months, SIGNOFF)
    signoff_cells = {tuple(v.split("!")) for v in proposal.signoff.values()}  # type: ignore[attr-defined]
    _kept(template, out, cells, signoff_cells)  # type: ignore[arg-type]
    by_id = {f.id: f.value for f in figures}
    filled = load_workbook(out)
    assert _at(filled, truth["q.hwb_name"]) == "Rutland"
    assert _at(filled, truth["q.metric.falls.actual"]) == 79.5
    signed = {k: _at(filled, v) for k, v in proposal.signoff.items()}  # type: ignore[attr-defined]
    assert signed["completed_by"] == "A. Officer" and signed["signed_off_by"] == "B. Director"
    assert not [f for f in report if f.rule == "template.validation"]

    recalculated = load_workbook(_recalculate(out, tmp_path), data_only=True)
    # the template's own totals: the row under the last funding source, and the schemes' total line
    for part in ("income", "expenditure_ytd"):
        sheet, coord = truth[f"q.ie.additional_icb.{part}"].split("!")
        total = recalculated[sheet][coord].offset(row=1).value
        assert _num(total) == by_id[f"q.ie.total.{part}"], (layout, part)
    last_scheme = [fid for fid in truth if fid.startswith("q.scheme.")][-1].split(".")[2]
    sheet, coord = truth[f"q.scheme.{last_scheme}.actual_spend_ytd"].split("!")
    schemes_total = sum((by_id[f"q.scheme.{s}.actual_spend_ytd"] or Decimal(0)) for s in
                        {fid.split(".")[2] for fid in truth if fid.startswith("q.scheme.")})
    assert _num(recalculated[sheet][coord].offset(row=1).value) == schemes_total
    for fid, value in by_id.items():  # the template's gap, where it computes one, is capacity - demand
        if fid.startswith("q.cd.") and fid.endswith(".gap") and value is not None:
            sheet, coord = truth[fid.replace(".gap", ".capacity")].split("!")
            gap = recalculated[sheet][coord].offset(column=1)
            if isinstance(load_workbook(out)[sheet][gap.coordinate].value, str):
                assert _num(gap.value) == value, fid


@pytest.mark.slow
@pytest.mark.parametrize("layout", list(FORTNIGHTLY_LAYOUTS))
def test_fortnightly_layout_filled_and_recalculated(tmp_path: Path, df_figures, layout: str) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = df_figures
    truth: dict[str, str] = {}
    template = FORTNIGHTLY_LAYOUTS[layout](tmp_path / "t.xlsx", schemes, truth)
    out = tmp_path / "filled.xlsx"
    cells, report, proposal = _fill(template, out, figures, "fortnightly", [], SIGNOFF)
    signoff_cells = {tuple(v.split("!")) for v in proposal.signoff.values()}  # type: ignore[attr-defined]
    _kept(template, out, cells, signoff_cells)  # type: ignore[arg-type]
    by_id = {f.id: f.value for f in figures}
    filled = load_workbook(out)
    assert _at(filled, truth["df.discharges.total"]) == 5
    assert _at(filled, truth["df.period_end"]) == dt.datetime(2023, 1, 19)
    assert not [f for f in report if f.rule == "template.validation"]

    recalculated = load_workbook(_recalculate(out, tmp_path), data_only=True)
    last = [fid for fid in truth if fid.startswith("df.scheme.")][-1].split(".")[2]
    for part, total in (("planned_spend", "df.spend.planned"), ("spend_to_date", "df.spend.to_date")):
        sheet, coord = truth[f"df.scheme.{last}.{part}"].split("!")
        assert _num(recalculated[sheet][coord].offset(row=1).value) == by_id[total], (layout, part)
    sheet, coord = truth["df.income.la"].split("!")
    assert _num(recalculated[sheet][coord].offset(row=2).value) == by_id["df.income.total"]
    balance = {"2022-23": "Income!C8", "2023-24": "Funding!C7", "2025-26": "Income!C7"}[layout]
    assert _num(_at(recalculated, balance)) == by_id["df.balance"]
    assert PERIOD.period_end == dt.date(2023, 1, 19)


def test_the_fill_report_names_empty_input_cells_and_validation_breaches(tmp_path: Path, q_figures) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = q_figures
    truth: dict[str, str] = {}
    template = QUARTERLY_LAYOUTS["2023-24"](tmp_path / "t.xlsx", schemes, QUARTER.months, truth)
    book = load_workbook(template)
    whole = DataValidation(type="whole", operator="between", formula1="0", formula2="100000000", allow_blank=True)
    book["3. Metrics"].add_data_validation(whole)
    whole.add(truth["q.metric.falls.actual"].split("!")[1])  # 79.5 in a whole-number cell
    book.save(template)
    out = tmp_path / "filled.xlsx"
    _, report, _ = _fill(template, out, figures, "quarterly", QUARTER.months)  # no sign-off given
    empty = {f.column for f in report if f.rule == "template.empty_input"}
    # residential admissions has no numerator or denominator in our return; the sign-off was not given
    assert {"3. Metrics!E10", "3. Metrics!F10", "1. Cover!C7", "1. Cover!C9"} <= empty
    assert all(f.severity == "warning" and f.file == "t.xlsx" for f in report)
    breaches = [f for f in report if f.rule == "template.validation"]
    assert [f.column for f in breaches] == [truth["q.metric.falls.actual"]] and "whole number" in breaches[0].message


def test_a_value_outside_a_list_or_range_breaks_the_validation() -> None:
    from openpyxl import Workbook

    book = Workbook()
    yes_no = DataValidation(type="list", formula1='"Yes,No"')
    whole = DataValidation(type="whole", operator="between", formula1="0", formula2="100000000")
    assert breach(book, book.active, yes_no, "Maybe") and breach(book, book.active, yes_no, "Yes") is None
    assert breach(book, book.active, whole, 100000001) and breach(book, book.active, whole, -1)
    assert breach(book, book.active, whole, 12) is None and breach(book, book.active, whole, None) is None


def test_a_template_the_proposer_cannot_read_stops_before_ingest(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    template = QUARTERLY_LAYOUTS["2024-25"](tmp_path / "t.xlsx", [("BCF01", "x")], QUARTER.months)
    book = load_workbook(template)
    for cell in book["Capacity and Demand"][5]:  # month headings it cannot read
        if cell.value is not None:
            cell.value = "This month"
    book.save(template)
    with pytest.raises(TemplateError, match="bcf cellmap"):
        map_for_run(template, "quarterly", QUARTER.months)
    src = write_q_fixture(tmp_path / "src")
    code = main(["run", "quarterly", "--source", str(src), "--hwb", HWB, "--quarter", "2022-23-Q4", "--template",
                 str(template), "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("bcf: ") and err.count("\n") == 1, err
    assert "`bcf cellmap" in err and "q.cd.pathway_1" in err and "Capacity and Demand!C6" in err
    assert not list(tmp_path.glob("data/**/*.duckdb")) and not (tmp_path / "data" / "landing").exists()


def test_the_built_in_quarterly_workbook_has_a_checklist(tmp_path: Path, q_warehouse: Path) -> None:
    from bcf.returns import build as returns
    from bcf.warehouse import db

    with db.connect(q_warehouse) as con:
        computed = returns.quarterly(HWB, QUARTER)(con)
    computed.write(tmp_path / "q.xlsx", computed.layouts, computed.figures, computed.allowed_blank)
    book = load_workbook(tmp_path / "q.xlsx")
    assert book.sheetnames[:3] == ["Cover", "Checklist", "National Conditions"]
    statuses = {row[0].value.rsplit("(", 1)[1].rstrip(")"): row[2].value
                for row in book["Checklist"].iter_rows(min_row=4) if row[0].value}
    assert statuses["q.condition.4.confirmed"] == "Incomplete" and statuses["q.hwb_name"] == "Complete"


def test_a_template_run_without_a_map_fills_sign_off_and_reports(tmp_path: Path, q_warehouse: Path) -> None:
    """returns.quarterly with --template and no --cell-map: the proposed map, the sign-off options in the
    template's sign-off cells (not silently ignored), the fill report in Computed.report for the pack."""
    from bcf.returns import build as returns
    from bcf.warehouse import db

    with db.connect(q_warehouse) as con:
        figures = returns.quarterly(HWB, QUARTER)(con)
        schemes = sorted({f.id.split(".")[2] for f in figures.figures if f.id.startswith("q.scheme.")})
        template = QUARTERLY_LAYOUTS["2024-25"](tmp_path / "t.xlsx", [(s.upper(), s) for s in schemes],
                                                QUARTER.months)
        options = returns.TemplateOptions(str(template))
        computed = returns.quarterly(HWB, QUARTER, options=options, signoff={"completed_by": "A. Officer",
                                                                        "signed_off_by": "B. Director"})(con)
    computed.write(tmp_path / "out.xlsx", computed.layouts, computed.figures, computed.allowed_blank)
    front = load_workbook(tmp_path / "out.xlsx")["Front Sheet"]
    assert front["D8"].value == "A. Officer" and front["D10"].value == "B. Director"
    assert front["D4"].value == "Rutland"
    assert [f.message for f in computed.report if f.rule == "template.signoff_unplaced"] == []
    assert computed.cell_map_text and '"q.hwb_name" = "Front Sheet!D4"' in computed.cell_map_text  # for the pack
    rules = {f.rule for f in computed.report}
    assert "template.empty_input" in rules and all(f.severity == "warning" for f in computed.report)


def test_cellmap_asks_for_the_return_rather_than_guess(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["B2"], book.active["C2"] = "Health and Wellbeing Board", None
    book.save(tmp_path / "plain.xlsx")
    code = main(["cellmap", str(tmp_path / "plain.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("bcf: ") and "--return" in err and err.count("\n") == 1, err
    df = FORTNIGHTLY_LAYOUTS["2023-24"](tmp_path / "df.xlsx", [("DF01", "Beds")])
    assert main(["cellmap", str(df), "--period-end", "2023-01-19", "--out", str(tmp_path / "m.toml")]) == 0
    assert '"df.scheme.df01.spend_to_date" = "Scheme spend!F7"' in (tmp_path / "m.toml").read_text(encoding="utf-8")


def test_a_sign_off_with_no_cell_is_reported_not_dropped(tmp_path: Path, df_figures) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = df_figures
    template = FORTNIGHTLY_LAYOUTS["2023-24"](tmp_path / "t.xlsx", schemes)  # no contact field on its front sheet
    _, report, _ = _fill(template, tmp_path / "o.xlsx", figures, "fortnightly", [], SIGNOFF)
    unplaced = [f.message for f in report if f.rule == "template.signoff_unplaced"]
    assert any("sign-off contact" in m for m in unplaced) and not any("completed_by" in m for m in unplaced)

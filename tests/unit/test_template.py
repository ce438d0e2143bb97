"""Filling the user's own national template through a cell map: only mapped cells change."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from bcf.core.dates import Quarter
from bcf.returns.quarterly import compute
from bcf.transforms.figures import Figure
from bcf.transforms.template import TemplateError, cell_map_text, fill_template, load_cell_map
from bcf.warehouse import db
from tests.fixtures import HWB

MAP = """
[cells]
"q.hwb_name" = "Cover!C3"
"q.quarter" = "Cover!C4"
"q.condition.1.confirmed" = "'National Conditions'!C5"
"q.metric.falls.actual" = "Metrics!D6"
"q.cd.pathway_1.{m1}.demand" = "Metrics!D7"
"q.ie.total.balance" = "Metrics!D8"
"""


def make_template(path: Path) -> Path:
    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    cover["A1"] = "Better Care Fund 2022-23 Quarterly Reporting Template"
    cover.merge_cells("A1:F1")
    cover["B3"], cover["B4"] = "Health and Wellbeing Board:", "Quarter:"
    conditions = book.create_sheet("National Conditions")
    conditions["B5"] = "1) Plans jointly agreed?"
    validation = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True)
    conditions.add_data_validation(validation)
    validation.add("C5:C8")
    metrics = book.create_sheet("Metrics")
    metrics["D6"].number_format = "0.0"
    metrics["E6"] = "=IF(D6>0,\"reported\",\"missing\")"
    metrics["D9"] = "=SUM(D6:D8)"
    lists = book.create_sheet("Lists")
    lists["A1"], lists["A2"] = "Yes", "No"
    lists.sheet_state = "hidden"
    book.defined_names["YesNo"] = DefinedName("YesNo", attr_text="Lists!$A$1:$A$2")
    book.save(path)
    return path


@pytest.fixture(scope="module")
def figures(q_warehouse: Path) -> list[Figure]:
    with db.connect(q_warehouse) as con:
        return compute(con, HWB, Quarter.parse("2022-23-Q4")).figures


def _cells(path: Path) -> dict[tuple[str, str], object]:
    book = load_workbook(path)
    return {(s.title, c.coordinate): c.value for s in book.worksheets for row in s.iter_rows() for c in row
            if c.value is not None}


def test_only_mapped_cells_change_and_everything_else_survives(tmp_path: Path, figures: list[Figure]) -> None:
    template = make_template(tmp_path / "template.xlsx")
    (tmp_path / "map.toml").write_text(MAP, encoding="utf-8")
    cells = load_cell_map(tmp_path / "map.toml", Quarter.parse("2022-23-Q4").months)
    assert cells["q.cd.pathway_1.2023_01.demand"] == ("Metrics", "D7")
    out = tmp_path / "filled.xlsx"
    where = fill_template(template, out, figures, cells, lineage=True)

    before, after = _cells(template), {k: v for k, v in _cells(out).items() if k[0] != "Lineage"}
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {("Cover", "C3"), ("Cover", "C4"), ("National Conditions", "C5"), ("Metrics", "D6"),
                       ("Metrics", "D7"), ("Metrics", "D8")}
    book = load_workbook(out)
    assert book["Cover"]["C3"].value == "Rutland" and book["Metrics"]["D6"].value == 79.5
    assert book["Metrics"]["D7"].value == 1 and book["Metrics"]["D8"].value == 10349.2
    assert book["Metrics"]["D6"].number_format == "0.0"  # the template's own format is kept
    assert book["Metrics"]["E6"].value == '=IF(D6>0,"reported","missing")' and book["Metrics"]["D9"].value == \
        "=SUM(D6:D8)"
    assert [str(r) for r in book["Cover"].merged_cells.ranges] == ["A1:F1"]
    assert book["Lists"].sheet_state == "hidden"
    dv = book["National Conditions"].data_validations.dataValidation
    assert len(dv) == 1 and dv[0].formula1 == '"Yes,No"' and str(dv[0].sqref) == "C5:C8"
    assert book.defined_names["YesNo"].attr_text == "Lists!$A$1:$A$2"
    assert book.defined_names["q.metric.falls.actual"].attr_text == "'Metrics'!$D$6"
    assert book.sheetnames[-1] == "Lineage"
    assert where["q.hwb_code"] == ("(not in template)", "")


@pytest.mark.parametrize(("line", "message"), [
    ('"q.hwb_name" = "Metrics!D9"', "Metrics!D9 holds a formula"),
    ('"q.hwb_name" = "Summary!B2"', "no sheet 'Summary'"),
    ('"q.hwb_name" = "Cover!B1"', "inside a merged range"),
])
def test_a_mapped_cell_that_does_not_fit_is_an_error_and_nothing_is_written(
        tmp_path: Path, figures: list[Figure], line: str, message: str) -> None:
    template = make_template(tmp_path / "template.xlsx")
    (tmp_path / "map.toml").write_text(f"[cells]\n{line}\n", encoding="utf-8")
    cells = load_cell_map(tmp_path / "map.toml", [])
    with pytest.raises(TemplateError, match=message):
        fill_template(template, tmp_path / "filled.xlsx", figures, cells)
    assert not (tmp_path / "filled.xlsx").exists()


def test_the_shipped_cell_map_fills_the_built_in_layout(tmp_path: Path, figures: list[Figure]) -> None:
    """Round trip: the built-in workbook, emptied of values, is a template the shipped map fills again."""
    from bcf.core.settings import config_dir
    from bcf.returns.q_workbook import layouts
    from bcf.returns.quarterly import QuarterlyReturn
    from bcf.transforms.workbook import write_workbook

    quarter = Quarter.parse("2022-23-Q4")
    built = tmp_path / "built.xlsx"
    ret = QuarterlyReturn(HWB, quarter, figures, [("B01", "x"), ("DF01", "x"), ("DF02", "x"), ("Df 3/x", "x")],
                          ["icb_discharge", "la_discharge", "nhs_minimum"],
                          [("B01", "la_discharge"), ("B01", "nhs_minimum"), ("DF01", "icb_discharge"),
                           ("DF01", "la_discharge"), ("DF01", "nhs_minimum"), ("DF02", "icb_discharge"),
                           ("Df 3/x", "la_discharge")])
    write_workbook(built, layouts(ret), figures, checklist=False)
    text = cell_map_text(built, quarter.months)
    assert '"q.cd.pathway_1.{m1}.demand" = "Capacity & Demand!C4"' in text
    shipped = load_cell_map(config_dir() / "cellmaps" / "bcf_quarterly_builtin.toml", quarter.months)
    assert shipped["q.metric.falls.actual"] == ("Metrics", "E5")

"""The national templates filled without hand work, for both returns: `bcf cellmap` proposes the map from the
template's labels, the fill changes only mapped cells, everything else of the template survives (formulas,
validations, merged cells, hidden and protected sheets, the logo), and after a LibreOffice recalculation the
template's own totals, gaps and balances equal our figures. A template openpyxl would damage is refused."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bcf.core.dates import Fortnight, Quarter
from bcf.core.settings import config_dir
from bcf.devtools.synthetic import SCHEMES
from bcf.returns.cellmap import propose
from bcf.transforms.figures import Figure
from bcf.transforms.template import TemplateLoss, fill_template, inventory, load_cell_map
from tests.templates import fortnightly_template, quarterly_template

QUARTER = Quarter.parse("2022-23-Q4")
PERIOD = Fortnight.ending(dt.date(2023, 1, 19))


def _cells(path: Path) -> dict[tuple[str, str], object]:
    book = load_workbook(path)
    return {(s.title, c.coordinate): c.value for s in book.worksheets for row in s.iter_rows() for c in row
            if c.value is not None}


def _fill(template: Path, out: Path, figures: list[Figure], which: str,
          months: list[dt.date]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    got, proposal = propose(template, None, months or None)
    assert got == which
    map_file = out.with_suffix(".toml")
    map_file.write_text(proposal.toml("test"), encoding="utf-8")
    cells = load_cell_map(map_file, months)
    fill_template(template, out, figures, cells)
    return cells, proposal.unplaced


def _survives(template: Path, out: Path, changed: set[tuple[str, str]], cells: dict[str, tuple[str, str]]) -> None:
    assert changed == set(cells.values()) - {k for k in cells.values() if k not in changed}  # only mapped cells
    assert changed <= set(cells.values())
    before, after = inventory(template), inventory(out)
    for feature in ("image", "data validation", "merged range", "formula", "sheet protection", "hidden sheet",
                    "defined name"):
        assert before[feature] > 0 and after[feature] == before[feature], feature
    book = load_workbook(out)
    assert book["Lists"].sheet_state == "hidden" and book["Guidance"].protection.sheet
    assert "Lineage" not in book.sheetnames  # nothing added the user did not ask for
    assert not any(n.startswith(("q.", "df.")) for n in book.defined_names)
    first = book.worksheets[1]
    assert len(first._images) == 1  # the logo


def _recalculate(path: Path, tmp: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed here; CI installs it")
    outdir = tmp / "recalc"
    subprocess.run([soffice, "--headless", "--calc", "--convert-to", "xlsx", "--outdir", str(outdir), str(path)],
                   check=True, capture_output=True, timeout=180)
    return outdir / path.name


def _num(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.slow
def test_quarterly_template_filled_from_a_proposed_map(tmp_path: Path, q_figures) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = q_figures
    template = quarterly_template(tmp_path / "BCF_2023-24_Q_template.xlsx", schemes, QUARTER.months)
    out = tmp_path / "filled.xlsx"
    cells, unplaced = _fill(template, out, figures, "quarterly", QUARTER.months)
    # the template computes gaps, balances and totals itself: those ids are left to it, with the reason
    assert all("formula" in why for why in unplaced.values())
    assert {f for f in unplaced if ".gap" in f} and "q.ie.total.balance" in unplaced
    before, after = _cells(template), _cells(out)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    _survives(template, out, changed, cells)
    by_id = {f.id: f.value for f in figures}
    assert after[cells["q.hwb_name"]] == "Rutland" and after[cells["q.metric.falls.actual"]] == 79.5
    assert after[cells["q.condition.1.confirmed"]] == by_id["q.condition.1.confirmed"]

    recalculated = load_workbook(_recalculate(out, tmp_path), data_only=True)
    ie = recalculated["6. Income and Expenditure"]
    assert _num(ie["C14"].value) == by_id["q.ie.total.income"]
    assert _num(ie["D14"].value) == by_id["q.ie.total.expenditure_ytd"]
    assert _num(ie["E14"].value) == by_id["q.ie.total.balance"]
    cd = recalculated["4. Capacity & Demand"]
    for fid, value in by_id.items():
        if fid.startswith("q.cd.") and fid.endswith(".gap") and value is not None:
            sheet, coord = cells[fid.replace(".gap", ".capacity")]
            gap = cd[coord].offset(column=1).value
            assert _num(gap) == value, fid


@pytest.mark.slow
def test_fortnightly_template_filled_from_a_proposed_map(tmp_path: Path, df_figures) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = df_figures
    template = fortnightly_template(tmp_path / "DF_fortnightly_template.xlsx", schemes)
    out = tmp_path / "filled.xlsx"
    cells, unplaced = _fill(template, out, figures, "fortnightly", [])
    assert set(unplaced) == {"df.spend.planned", "df.spend.fortnight", "df.spend.to_date", "df.spend.to_date_la",
                             "df.spend.to_date_icb", "df.income.total", "df.balance",
                             "df.check.plan_within_income", "df.check.spend_within_income"}
    before, after = _cells(template), _cells(out)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    _survives(template, out, changed, cells)
    by_id = {f.id: f.value for f in figures}
    assert after[cells["df.discharges.total"]] == 5 and after[cells["df.period_end"]] == dt.datetime(2023, 1, 19)

    recalculated = load_workbook(_recalculate(out, tmp_path), data_only=True)
    inc, sa = recalculated["Income"], recalculated["Spend and Activity"]
    total_row = 7 + len(schemes)
    assert _num(sa[f"D{total_row}"].value) == by_id["df.spend.planned"]
    assert _num(sa[f"F{total_row}"].value) == by_id["df.spend.to_date"]
    assert _num(inc["C6"].value) == by_id["df.income.total"]
    assert _num(inc["C8"].value) == by_id["df.balance"]
    assert inc["C9"].value == by_id["df.check.plan_within_income"]
    assert inc["C10"].value == by_id["df.check.spend_within_income"]
    assert recalculated["Discharges"]["C17"].value == "Yes"  # the template's own check: pathways add up


def test_lineage_and_names_only_when_asked(tmp_path: Path, df_figures) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = df_figures
    template = fortnightly_template(tmp_path / "t.xlsx", schemes)
    _, proposal = propose(template)
    (tmp_path / "m.toml").write_text(proposal.toml("x"), encoding="utf-8")
    fill_template(template, tmp_path / "o.xlsx", figures, load_cell_map(tmp_path / "m.toml", []), lineage=True)
    book = load_workbook(tmp_path / "o.xlsx")
    assert book.sheetnames[-1] == "Lineage" and book.defined_names["df.discharges.total"].attr_text == \
        "'Discharges'!$C$4"


def _with_cross_sheet_validation(template: Path, out: Path) -> Path:
    """Add an Excel 2010 cross-sheet list validation (x14 extension), which openpyxl cannot carry."""
    ext = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations '
           'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="1"><x14:dataValidation '
           'type="list" allowBlank="1"><x14:formula1><xm:f>Lists!$A$1:$A$2</xm:f></x14:formula1><xm:sqref>D4'
           '</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>')
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"</worksheet>", ext.encode() + b"</worksheet>")
            dst.writestr(item, data)
    return out


def test_a_template_openpyxl_would_damage_is_refused(tmp_path: Path, df_figures) -> None:  # type: ignore[no-untyped-def]
    figures, schemes = df_figures
    plain = fortnightly_template(tmp_path / "t.xlsx", schemes)
    template = _with_cross_sheet_validation(plain, tmp_path / "t_x14.xlsx")
    assert inventory(template)["cross-sheet data validation (Excel 2010 extension)"] == 1
    _, proposal = propose(plain)
    (tmp_path / "m.toml").write_text(proposal.toml("x"), encoding="utf-8")
    cells = load_cell_map(tmp_path / "m.toml", [])
    with pytest.raises(TemplateLoss, match="cross-sheet data validation"):
        fill_template(template, tmp_path / "o.xlsx", figures, cells)
    assert not (tmp_path / "o.xlsx").exists()
    fill_template(template, tmp_path / "o.xlsx", figures, cells, accept_losses=True)  # the user accepts it
    assert (tmp_path / "o.xlsx").exists()


def test_the_shipped_cell_maps_are_what_bcf_cellmap_proposes(tmp_path: Path) -> None:
    """config/cellmaps holds the maps for the layouts above with the demo's schemes; they cannot drift."""
    q_schemes = [(s.scheme_id, s.name) for s in SCHEMES]
    df_schemes = [(s.scheme_id, s.name) for s in SCHEMES if s.scheme_id.startswith("DF")]
    months = Quarter.parse("2023-24-Q1").months
    for name, template, which in (
            ("bcf_quarterly_2023-24.toml", quarterly_template(tmp_path / "q.xlsx", q_schemes, months), "quarterly"),
            ("df_fortnightly_2022-23.toml", fortnightly_template(tmp_path / "df.xlsx", df_schemes), "fortnightly")):
        _, proposal = propose(template, which)
        shipped = load_cell_map(config_dir() / "cellmaps" / name, months)
        (tmp_path / "p.toml").write_text(proposal.toml("x"), encoding="utf-8")
        assert load_cell_map(tmp_path / "p.toml", months) == shipped, name

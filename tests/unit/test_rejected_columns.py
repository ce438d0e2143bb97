"""Issue 25: rejected rows built on whole columns (transforms.rejected, prepare_file._split) are exactly what the
row-by-row code gave: the same rows in the same order, the same reasons, row hashes, masking and raw_values JSON.
The old code is kept here, as it was, as the reference."""

from __future__ import annotations

import json
import random

import pandas as pd
import pyarrow as pa

from bcf.ingest.prepare_file import _split
from bcf.transforms import nhs_number, rejected
from bcf.transforms.findings import ERROR, WARNING, Finding
from bcf.transforms.parse import ROW_HASH, ParsedTable, _row_hashes
from bcf.transforms.read import SOURCE_ROW, RawTable

KEY = b"test-key"


def _old_rejected(raw: RawTable, table: str, reasons: dict[int, list[str]], key: bytes) -> pd.DataFrame:
    """bcf.ingest._rejected before issue 25, row by row."""
    frame = raw.frame[raw.frame[SOURCE_ROW].isin(list(reasons))]
    columns = [(nhs_number.mask_text(orig or f"column_{i + 1}"), name) for i, (orig, name) in enumerate(
        zip(raw.original_header, raw.header, strict=False))]
    records = []
    for row in frame.to_dict("records"):
        values = {orig: (nhs_number.mask(row[name]) if name == "nhs_number" else nhs_number.mask_text(row[name]))
                  for orig, name in columns if name in row}
        source_row = int(row[SOURCE_ROW])
        records.append({
            "kind": table, "source_row": source_row, "hwb_code": nhs_number.mask_text(row.get("hwb_code", "")),
            ROW_HASH: nhs_number.row_hash([row[n] for _, n in columns if n in row], key),
            "reasons": " | ".join(reasons[source_row]), "raw_values": json.dumps(values, ensure_ascii=False),
        })
    return pd.DataFrame(records, columns=["kind", "source_row", "hwb_code", ROW_HASH, "reasons", "raw_values"])


TRICKY = [
    "", " ", "943 476 5919", "9434765919", "943-476-5919", "943.476.5919", "943\u00a0476\u00a05919",
    "943  476  5919", "94347659191", "x9434765919y", "call 943 476 5919 or 401 023 2137", "é ü 漢字 🙂",
    'quote " back \\ slash', "line\nbreak\ttab\r\x01\x1f\x7f", " 9434765919 ", "\u20289434765919\u2029",
    "1234", "abc", "\x1c943476591\x1c", "2022-04-01", "01/04/2022", "E06000017", " e06000017 ", "\u3000x\u3000",
]


def _raw(rows: int, seed: int) -> RawTable:
    rng = random.Random(seed)
    header = ["nhs_number", "hwb_code", "spell_id", "notes", "extra", "dup"]
    original = ["NHS Number", "HWB", "", "Notes 943 476 5919", "notes 943 476 5919", "Extra"]
    data: dict[str, object] = {name: [rng.choice(TRICKY) for _ in range(rows)] for name in header}
    data[SOURCE_ROW] = list(range(2, rows + 2))
    frame = pd.DataFrame(data)
    for name in header:  # text as read.py gives it: Arrow-backed strings
        frame[name] = frame[name].astype(pd.StringDtype("pyarrow"))
    return RawTable("f.csv", None, header, original, frame)


def test_rejected_rows_match_the_row_by_row_code() -> None:
    for seed in range(5):
        raw = _raw(400, seed)
        rng = random.Random(seed)
        picked = sorted(rng.sample(range(2, 402), 150), key=lambda _: rng.random())  # reasons in any order
        reasons = {r: [f"r{r}: a"] + ([f"b \u00e9 {r}"] if r % 3 == 0 else []) for r in picked}
        want = _old_rejected(raw, "discharges", reasons, KEY)
        flat = [(r, m) for r, said in reasons.items() for m in said]
        got = rejected.rejected_rows(raw, "discharges",
                                     rejected.reasons_by_row([r for r, _ in flat], [m for _, m in flat]), KEY)
        assert got.to_pylist() == want.to_dict("records")
        for text in got.column("raw_values").to_pylist():
            assert not nhs_number.looks_like(text)
            json.loads(text)


def test_split_loads_the_rest_and_rejects_rows_with_errors() -> None:
    raw = _raw(50, 9)
    parsed_frame = raw.frame.copy()
    parsed_frame[ROW_HASH] = _row_hashes(raw.frame, raw.header, KEY)  # as parse makes them: taken, not recomputed
    findings = [
        Finding(ERROR, "f.csv", 7, "notes", "x", "code_set", "not a code"),
        Finding(WARNING, "f.csv", 8, "notes", "x", "date", "late"),
        Finding(ERROR, "f.csv", 7, None, None, "required", "missing"),
        Finding(ERROR, "f.csv", 30, "nhs_number", "943 476 5919", "nhs", "bad 943 476 5919"),
        Finding(ERROR, "f.csv", None, None, None, "file.x", "whole file"),
        Finding(ERROR, "f.csv", 1, None, None, "header", "header row"),
    ]
    good, bad = _split(ParsedTable(parsed_frame, findings), raw, "discharges", KEY)
    assert sorted(set(parsed_frame[SOURCE_ROW]) - set(good[SOURCE_ROW])) == [7, 30]
    want = _old_rejected(raw, "discharges", {7: ["notes: code_set: not a code", "-: required: missing"],
                                             30: ["nhs_number: nhs: bad ******5919"]}, KEY)
    assert bad.to_pylist() == want.to_dict("records")


def test_a_clean_part_is_not_copied() -> None:
    raw = _raw(10, 1)
    good, bad = _split(ParsedTable(raw.frame, [Finding(WARNING, "f.csv", 3, "x", "y", "r", "m")]), raw, "d", KEY)
    assert good is raw.frame and bad.num_rows == 0 and isinstance(bad, pa.Table)


def test_no_columns_of_the_header_in_the_frame() -> None:
    raw = RawTable("f.csv", None, ["a"], ["A"], pd.DataFrame({SOURCE_ROW: [2, 3]}))
    got = rejected.rejected_rows(raw, "k", rejected.reasons_by_row([3], ["x"]), KEY)
    assert got.to_pylist() == _old_rejected(raw, "k", {3: ["x"]}, KEY).to_dict("records")

"""Bulk row hashes and pseudonyms are byte-identical to the one-at-a-time functions (lineage and person keys)."""

from __future__ import annotations

import pandas as pd

from bcf.transforms import nhs_number
from bcf.transforms.parse import _nhs_numbers, _row_hashes

KEY = b"test-key"


def test_row_hashes_match_row_hash() -> None:
    src = pd.DataFrame({
        "a": ["1", "", "é ü", "x\x1fy", "long" * 500, "0"],
        "b": ["2023-01-01", "", "", "z", "", "£3.50"],
        "c": ["943 476 5919", "", "1", "", "", " "],
    })
    got = _row_hashes(src, ["a", "", "b", "c"], KEY)
    want = [nhs_number.row_hash([a, b, c], KEY) for a, b, c in zip(src.a, src.b, src.c, strict=True)]
    assert list(got) == want
    assert len(set(want)) == len(want)


def test_row_hashes_of_a_sliced_frame() -> None:
    src = pd.DataFrame({"a": [str(i) for i in range(10)], "b": ["x"] * 10}).iloc[3:7]
    got = _row_hashes(src, ["a", "b"], KEY)
    assert list(got) == [nhs_number.row_hash([str(i), "x"], KEY) for i in range(3, 7)]


def test_nhs_numbers_match_pseudonym_and_drop_blank_and_invalid() -> None:
    values = pd.Series(["943 476 5919", "9434765919", "", "4010232138", "9434765919", "4010232137"],
                       index=[5, 6, 7, 8, 9, 10])
    keys, bad = _nhs_numbers(values, KEY)
    p = nhs_number.pseudonym("9434765919", KEY)
    assert _or_none(keys) == [p, p, None, None, p, nhs_number.pseudonym("4010232137", KEY)]
    assert list(keys.index) == [5, 6, 7, 8, 9, 10]
    assert bad.tolist() == [False, False, False, True, False, False]  # blank is not bad: `required` says so
    assert nhs_number.pseudonyms(["401 023 2137"], KEY) == [nhs_number.pseudonym("4010232137", KEY)]


def test_nhs_numbers_all_blank_or_bad() -> None:
    keys, bad = _nhs_numbers(pd.Series(["", "x"]), KEY)
    assert _or_none(keys) == [None, None]
    assert bad.tolist() == [False, True]


def _or_none(keys: pd.Series) -> list[object]:
    """The keys, None where a row has none (Arrow-backed text shows a missing value as NaN)."""
    return [None if pd.isna(k) else k for k in keys]

"""Bulk row hashes and pseudonyms are byte-identical to the one-at-a-time functions (lineage and person keys)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms import nhs_number
from transforms.parse import _pseudonymise, _row_hashes

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


def test_pseudonymise_matches_pseudonym_and_drops() -> None:
    values = pd.Series(["943 476 5919", "9434765919", "", "4010232137", "9434765919"], index=[5, 6, 7, 8, 9])
    drop = pd.Series([False, False, True, True, False], index=values.index)
    got = _pseudonymise(values, drop, KEY)
    p = nhs_number.pseudonym("9434765919", KEY)
    assert got.tolist() == [p, p, None, None, p]
    assert list(got.index) == [5, 6, 7, 8, 9]
    assert nhs_number.pseudonyms(["401 023 2137"], KEY) == [nhs_number.pseudonym("4010232137", KEY)]


def test_pseudonymise_all_dropped() -> None:
    values = pd.Series(["", "x"])
    got = _pseudonymise(values, pd.Series(np.array([True, True])), KEY)
    assert got.tolist() == [None, None]

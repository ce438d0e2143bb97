"""Rejected rows as whole columns (issue 25): the rows of a part that an error finding rejects, as received, with
every NHS-number-like value masked, each row's reasons, its keyed row hash and its values as a JSON object.

Built with Arrow's column kernels, so a file with a fifth of its rows rejected costs about what a clean one does.
Python touches a value only where Arrow's regular expressions (RE2: no look-around) say it may hold an NHS-number-like
value, or where its edges are not plain printable ASCII; there `nhs_number.mask` / `mask_text` decide, so the
masking is exactly theirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bcf.transforms import nhs_number
from bcf.transforms.read import SOURCE_ROW, RawTable

COLUMNS = ["kind", "source_row", "hwb_code", "row_hash", "reasons", "raw_values"]
SCHEMA = pa.schema([("kind", pa.string()), ("source_row", pa.int64()), ("hwb_code", pa.string()),
                    ("row_hash", pa.string()), ("reasons", pa.string()), ("raw_values", pa.string())])

# JSON's escapes as json.dumps(ensure_ascii=False) writes them: only '"', '\\' and the C0 controls are escaped
_SHORT = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in _SHORT]


def reasons_by_row(rows: Iterable[int], reasons: Iterable[str]) -> pa.Table:
    """Each row's reasons joined by ' | ' in the order given: (source_row, reasons), one line per row."""
    table = pa.table({"source_row": pa.array(list(rows), pa.int64()), "reason": pa.array(list(reasons), pa.string())})
    grouped = table.group_by("source_row", use_threads=False).aggregate([("reason", "list")])  # keeps the order
    return pa.table({"source_row": grouped["source_row"],
                     "reasons": pc.binary_join(grouped["reason_list"], " | ")})


def rejected_rows(raw: RawTable, table: str, reasons: pa.Table, key: bytes,
                  parsed: pd.DataFrame | None = None) -> pa.Table:
    """The rows of `raw` whose source_row is in `reasons` (reasons_by_row), in the file's order, as rejected_rows.
    `parsed`: the part as transforms.parse typed it, row for row; its row hashes are taken where they hash the same
    values (the keyed hash is most of this work)."""
    frame = raw.frame
    source = pa.array(frame[SOURCE_ROW].to_numpy(dtype=np.int64))
    wanted = pc.is_in(source, value_set=reasons["source_row"].combine_chunks())
    picked = np.flatnonzero(wanted.to_numpy(zero_copy_only=False))
    if len(picked) == 0:
        return SCHEMA.empty_table()
    rows = pc.take(source, pa.array(picked))
    joined = pc.take(reasons["reasons"], pc.index_in(rows, value_set=reasons["source_row"].combine_chunks()))

    # (key as the JSON says it, column name): a masked header may repeat; a dict keeps the first place, last value
    place: dict[str, int] = {}
    named: list[tuple[str, str]] = []
    for i, (orig, name) in enumerate(zip(raw.original_header, raw.header, strict=False)):
        if name not in frame.columns:
            continue
        label = nhs_number.mask_text(orig or f"column_{i + 1}")
        if label in place:
            named[place[label]] = (label, name)
        else:
            place[label] = len(named)
            named.append((label, name))
    hashed = [name for i, (orig, name) in enumerate(zip(raw.original_header, raw.header, strict=False))
              if name in frame.columns]
    text = {name: _text(frame[name], picked) for name in {*hashed, *(n for _, n in named)}}

    if (parsed is not None and "row_hash" in parsed.columns and hashed == [h for h in raw.header if h]
            and len(parsed) == len(frame)
            and np.array_equal(parsed[SOURCE_ROW].to_numpy(), frame[SOURCE_ROW].to_numpy())):
        row_hash = _text(parsed["row_hash"], picked)  # parse hashed these very values (parse._row_hashes)
    elif hashed:
        row_hash = pa.array(nhs_number.row_hashes([text[n] for n in hashed], key))
    else:
        row_hash = pa.array([nhs_number.row_hash([], key)] * len(picked), pa.string())
    parts: list[pa.Array | pa.Scalar] = []
    for i, (label, name) in enumerate(named):
        value = _nhs_mask(text[name]) if name == "nhs_number" else mask_texts(text[name])
        parts += [pa.scalar(("{" if i == 0 else ", ") + json.dumps(label, ensure_ascii=False) + ': "'),
                  _escaped(value), pa.scalar('"')]
    raw_values = (pc.binary_join_element_wise(*parts, pa.scalar("}"), "") if parts
                  else pa.array(["{}"] * len(picked), pa.string()))
    hwb = mask_texts(text["hwb_code"]) if "hwb_code" in frame.columns else pa.array([""] * len(picked), pa.string())
    return pa.Table.from_arrays([pa.array([table] * len(picked), pa.string()), rows, hwb, row_hash,
                                 joined, raw_values], schema=SCHEMA)


def _text(values: pd.Series, picked: np.ndarray) -> pa.Array:
    arrow = pa.array(values.array) if not isinstance(values.array, np.ndarray) else pa.array(values, pa.string())
    taken = pc.take(arrow, pa.array(picked))
    taken = taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken
    return pc.fill_null(taken.cast(pa.string()), "")


def mask_texts(values: pa.Array) -> pa.Array:
    """nhs_number.mask_text of every value: Python only for the values RE2 finds NHS-number-like (a superset)."""
    maybe = np.asarray(pc.match_substring_regex(values, nhs_number.SEARCH).to_numpy(zero_copy_only=False),
                       dtype=bool)
    return _patched(values, maybe, nhs_number.mask_text)


# nothing to strip at either end and one byte per character: mask() is the last four and a star for each other
_PLAIN_EDGES = "^([!-~]([ -~]*[!-~])?)?$"


def _nhs_mask(values: pa.Array) -> pa.Array:
    """nhs_number.mask of every value: in Arrow for plain ASCII text, in Python for anything else (rare)."""
    plain = np.asarray(pc.match_substring_regex(values, _PLAIN_EDGES).to_numpy(zero_copy_only=False), dtype=bool)
    length = pc.binary_length(values)
    stars = pc.binary_repeat(pa.scalar("*"), pc.max_element_wise(pc.subtract(length, 4), 0))
    tail = pc.utf8_slice_codeunits(values, start=-4)
    masked = pc.binary_join_element_wise(stars, tail, "")
    return _patched(masked, ~plain, nhs_number.mask, source=values)


def _patched(values: pa.Array, where: np.ndarray, fn: object, source: pa.Array | None = None) -> pa.Array:
    """`values` with fn(source value) at the positions `where` (source: `values` itself unless given)."""
    if not where.any():
        return values
    at = np.flatnonzero(where)
    before = pc.take(source if source is not None else values, pa.array(at)).to_pylist()
    out = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    out[at] = [fn(v) for v in before]  # type: ignore[operator]
    return pa.array(out, pa.string())


def _escaped(values: pa.Array) -> pa.Array:
    """The text as inside a JSON string, as json.dumps(ensure_ascii=False) writes it."""
    if not pc.any(pc.match_substring_regex(values, '[\\\\"\\x00-\\x1f]')).as_py():
        return values
    out = values
    for char in ("\\", '"', "\n", "\r", "\t", "\b", "\f"):  # backslash first: the escapes add backslashes
        out = pc.replace_substring(out, char, _SHORT[char])
    for char in _CONTROLS:
        out = pc.replace_substring(out, char, f"\\u{ord(char):04x}")
    return out

"""Turn a text table into typed columns by the input contract, noting every value that does not parse.

Type faults (not a date, not a number, a blank where a value is required, a bad NHS number) are found here, row by
row and vectorised; the business rules (code sets, ranges, order, uniqueness) are the GX suites' job. NHS numbers
are checked, then replaced by a keyed `person_key`: nothing after this step sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bcf.core.settings import Column, TableContract
from bcf.transforms import nhs_number
from bcf.transforms.findings import ERROR, WARNING, FileProblem, Finding
from bcf.transforms.read import MAX_FIELD_CHARS, SOURCE_ROW, TEXT, RawTable

ROW_HASH = "row_hash"
PERSON_KEY = "person_key"

# ASCII digits only: '１２' and '١٢٣' are digits to Python's \d, isdigit() and int(), but not to the contract.
# The lengths bound what the warehouse column holds, so an over-long number is a row finding, never a failed
# cast: INTEGER (at most 9 digits), DECIMAL(18,2) / DECIMAL(18,4) (at most 13 digits before the point, so that
# rounding the fraction cannot overflow either).
_D = "[0-9]"
_ISO = rf"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}(?:[ T]{_D}{{2}}:{_D}{{2}}(?::{_D}{{2}}(?:\.{_D}+)?)?)?"
_UK = rf"{_D}{{1,2}}/{_D}{{1,2}}/{_D}{{4}}"
_INT = rf"[+-]?{_D}+"
_INT_FITS = rf"[+-]?0*{_D}{{1,9}}"
_DECIMAL = rf"[+-]?(?:{_D}+(?:\.{_D}*)?|\.{_D}+)"
_DECIMAL_FITS = rf"[+-]?0*(?:{_D}{{1,13}}(?:\.{_D}*)?|\.{_D}+)"
# key columns are kept as sent (masking one could make two keys equal); every other text value is masked
_NHS_MESSAGE = "Not a valid NHS number (10 digits with a Modulus 11 check digit); leave it blank if unknown."
_KEYS = {"spell_id", "provider_code", "episode_id", "transaction_id", "scheme_id"}


@dataclass
class ParsedTable:
    """Typed rows (every received row, faults included) and the faults found, one finding per bad value."""

    frame: pd.DataFrame  # contract columns typed, nhs_number -> person_key, plus source_row and row_hash
    findings: list[Finding]


def check_columns(raw: RawTable, contract: TableContract) -> list[Finding]:
    """File-level: a missing required column rejects the file; an unexpected one is a warning and is ignored."""
    present = set(raw.header)
    missing = [c.name for c in contract.columns if not c.optional and c.name not in present]
    if missing:
        shown = ", ".join(missing)
        raise FileProblem(
            "file.missing_column",
            f"Required column(s) missing: {shown}. The header has: {', '.join(raw.original_header)[:300]}.",
            column=missing[0],
        )
    if raw.frame.empty:
        raise FileProblem("file.no_rows", "The file has a header but no data rows.")
    known = set(contract.names)
    return [
        Finding(WARNING, raw.file_name, 1, name, name, "file.unexpected_column",
                f"Column '{name}' is not in the input contract and is ignored.")
        for name in raw.header
        if name and name not in known
    ]


def parse(raw: RawTable, contract: TableContract, key: bytes, first_part: bool = True) -> ParsedTable:
    """Every column typed, every fault a finding. A file parsed in parts gives its header findings (and the reader's)
    with its first part only."""
    findings = check_columns(raw, contract) if first_part else []
    if first_part:
        findings.extend(raw.problems)
    src = raw.frame
    rows = src[SOURCE_ROW].to_numpy()
    out = pd.DataFrame({SOURCE_ROW: src[SOURCE_ROW]})
    for col in contract.columns:
        values = _text_of(src, col.name)
        blank = (values == "").to_numpy(dtype=bool)
        findings.extend(_row_findings(raw.file_name, rows, _too_long(values), col.name, values, "value.too_long",
                                      f"Value is longer than {MAX_FIELD_CHARS} characters."))
        if not col.nullable:
            findings.extend(_row_findings(raw.file_name, rows, blank, col.name, values, "required",
                                          f"{col.name} is required but is blank."))
        values = _shown(col, values, key)
        name, typed, bad, message, rule = _typed(col, values, blank, key)
        out[name] = typed
        findings.extend(_row_findings(raw.file_name, rows, bad, col.name, values, rule, message,
                                      mask=col.type == "nhs_number"))
    out[ROW_HASH] = _row_hashes(src, raw.header, key)
    return ParsedTable(out, findings)


def typed_columns(raw: RawTable, contract: TableContract, names: set[str], key: bytes) -> pd.DataFrame:
    """Only the named columns (and source_row), typed exactly as parse types them, no findings: what the rules that
    read a whole file (a key's uniqueness) need when the file is parsed and checked in parts."""
    out = pd.DataFrame({SOURCE_ROW: raw.frame[SOURCE_ROW]})
    for col in contract.columns:
        if col.name in names:
            values = _text_of(raw.frame, col.name)
            name, typed, _, _, _ = _typed(col, _shown(col, values, key), (values == "").to_numpy(dtype=bool), key)
            out[name] = typed
    return out


def _text_of(src: pd.DataFrame, name: str) -> pd.Series:
    return src[name] if name in src.columns else pd.Series([""] * len(src), dtype="str", index=src.index)


def _shown(col: Column, values: pd.Series, key: bytes) -> pd.Series:
    """Free text and codes with any NHS-number-like value masked; in a key column it becomes a keyed token instead
    (nhs_number.token_text), so keys that differ stay apart and the same key is the same token in every file."""
    if col.type not in ("text", "code"):
        return values
    return _masked(values, lambda text: nhs_number.token_text(text, key)) if col.name in _KEYS else _masked(values)


def _typed(col: Column, values: pd.Series, blank: np.ndarray, key: bytes) -> tuple[str, object, np.ndarray, str, str]:
    """(output column, typed values, bad mask, message, rule); an NHS number becomes its keyed person_key."""
    if col.type == "nhs_number":
        keys, bad = _nhs_numbers(values, key)
        return PERSON_KEY, keys, bad, _NHS_MESSAGE, "nhs_number"
    typed, bad, message, rule = _convert(col.type, values, blank)
    return col.name, typed, bad, message, rule


def _too_long(values: pd.Series) -> np.ndarray:
    """Longer than MAX_FIELD_CHARS characters; the byte length (free from Arrow's offsets) rules out almost all."""
    if _longest_bytes(values) <= MAX_FIELD_CHARS:
        return np.zeros(len(values), dtype=bool)
    return (values.str.len() > MAX_FIELD_CHARS).to_numpy(dtype=bool)


def _longest_bytes(values: pd.Series) -> int:
    longest = pc.max(pc.binary_length(pa.array(values.array))).as_py()
    return int(longest or 0)


def _convert(kind: str, values: pd.Series, blank: np.ndarray) -> tuple[object, np.ndarray, str, str]:
    """(typed values, bad mask, message, rule). Blank is never bad here: `required` handles blanks.

    Dates and numbers are checked and converted once per distinct value, then spread to the rows by position:
    an extract repeats the same few hundred dates and ages across a million rows."""
    if kind in ("text", "code"):  # kept as written, blank becomes missing
        return _blank_missing(values, blank), np.zeros(len(values), dtype=bool), "", ""
    codes, distinct = pd.factorize(values)
    distinct = pd.Series(distinct, dtype=values.dtype)
    if kind == "date":
        dates, ok = _dates(distinct)
        return (pd.Series(dates[codes], index=values.index, dtype="object"), ~ok[codes],
                "Not a real date: write dates as yyyy-mm-dd (or dd/mm/yyyy).", "date")
    if kind == "int":
        ok = _matches(distinct, _INT, _INT_FITS)
        ints = pd.to_numeric(distinct.where(ok), errors="coerce").astype("Int64").array
        return (pd.Series(ints.take(codes), index=values.index), ~ok[codes],
                "Not a whole number of at most 9 digits (ASCII digits 0-9 only).", "integer")
    if kind == "decimal":  # the text as sent: DuckDB casts it to DECIMAL exactly on load
        ok = _matches(distinct, _DECIMAL, _DECIMAL_FITS)[codes]
        message = "Not a number (ASCII digits, at most 13 before the point, an optional '.' and sign; no £ or commas)."
        return _blank_missing(values, blank | ~ok), ~ok, message, "number"
    raise ValueError(f"unknown column type {kind!r}")


def _blank_missing(values: pd.Series, missing: np.ndarray) -> pd.Series:
    """The values with missing where asked; a column with nothing missing is kept as it is (no copy)."""
    return values.where(~missing) if missing.any() else values


def _matches(distinct: pd.Series, *patterns: str) -> np.ndarray:
    """Each distinct value matches every pattern in full; blank counts as matching (it is not a type fault)."""
    ok = distinct == ""
    hit = pd.Series(True, index=distinct.index)
    for pattern in patterns:
        hit &= distinct.str.fullmatch(pattern)
    return (ok | hit).to_numpy(dtype=bool)


def _dates(distinct: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(dt.date or None, parsed-or-blank) for each distinct text: yyyy-mm-dd (a time part ignored) or dd/mm/yyyy."""
    iso = distinct.str.fullmatch(_ISO)
    uk = distinct.str.fullmatch(_UK)
    parsed = pd.to_datetime(distinct.where(iso).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    parsed_uk = pd.to_datetime(distinct.where(uk), format="%d/%m/%Y", errors="coerce")
    both = parsed.fillna(parsed_uk)
    dates = np.array([None if pd.isna(d) else d.date() for d in both], dtype=object)
    ok = (distinct == "").to_numpy(dtype=bool) | both.notna().to_numpy(dtype=bool)
    return dates, ok


def _masked(values: pd.Series, how: Callable[[str], str] = nhs_number.mask_text) -> pd.Series:
    """NHS-number-like values masked in a free-text or code column (a diagnosis, a description, an age typed
    into the wrong column): only ten digits in a row can be one, so a column of shorter values is skipped whole
    and most values of the others skip the regex."""
    if _longest_bytes(values) < 10:
        return values
    hits = values.str.contains(nhs_number.SEARCH, regex=True)
    if not hits.any():
        return values
    return values.where(~hits, values[hits].map(how))


def _row_findings(file_name: str, rows: np.ndarray, bad: np.ndarray, column: str, values: pd.Series,
                  rule: str, message: str, mask: bool = False) -> list[Finding]:
    if not bad.any():
        return []
    shown = values[bad].map(nhs_number.mask) if mask else values[bad].str.slice(0, 80)
    return [Finding(ERROR, file_name, int(r), column, str(v), rule, message)
            for r, v in zip(rows[bad], shown, strict=True)]


def _nhs_numbers(values: pd.Series, key: bytes) -> tuple[pd.Series, np.ndarray]:
    """(person keys, bad mask). Each distinct number is checked and given its keyed hash once (a person recurs
    across rows), then spread to the rows by position, as Arrow-backed text (no Python string per row); a blank or
    invalid number gets no key (missing)."""
    codes, distinct = pd.factorize(values)
    valid = nhs_number.valid_array(distinct)
    keys = np.full(len(distinct), None, dtype=object)
    keys[valid] = nhs_number.pseudonyms(pa.array(distinct[valid]).to_pylist(), key)
    blank = np.asarray(pc.equal(pa.array(distinct), "").to_numpy(zero_copy_only=False), dtype=bool)
    per_row = pa.array(keys, type=pa.string()).take(pa.array(codes))
    return pd.Series(pd.array(per_row, dtype=TEXT), index=values.index), (~valid & ~blank)[codes]


def _row_hashes(src: pd.DataFrame, header: list[str], key: bytes):  # type: ignore[no-untyped-def]
    return nhs_number.row_hashes([src[h] for h in header if h], key)

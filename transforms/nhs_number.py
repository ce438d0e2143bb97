"""NHS number checks and masking. Raw NHS numbers live only in memory between reading a file and pseudonymising it."""

from __future__ import annotations

import hashlib
import re
from typing import Any

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for nine digits; None when no valid check digit exists (remainder gives 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def is_valid(value: str) -> bool:
    value = value.replace(" ", "")
    if len(value) != 10 or not value.isdigit():
        return False
    return check_digit(value[:9]) == int(value[9])


def mask(value: object) -> str:
    """What a finding may show of an NHS number: its last four characters."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    return "*" * max(len(text) - 4, 0) + text[-4:]


# Ten ASCII digits, written together, or in the 3-3-4 groups people type, each gap up to two characters of space
# (plain, no-break, figure, narrow or thin), '-' or '.': "943 476 5919", "943-476-5919", "943.476.5919",
# "943\u00a0476\u00a05919", "943  476  5919". Not part of a longer run of digits. Any such value is treated as an NHS
# number, check digit or not: a mistyped one is still someone's identifier. SEARCH has no look-around, for
# Arrow's (RE2) str.contains as a pre-filter; LIKE is exact, for Python's re.
_GAP = "[ \t.\\-\u00a0\u2007\u2009\u202f]{0,2}"
SEARCH = f"[0-9]{{3}}{_GAP}[0-9]{{3}}{_GAP}[0-9]{{4}}"
_LIKE = re.compile(f"(?<![0-9]){SEARCH}(?![0-9])")


def mask_text(text: str) -> str:
    """Every NHS-number-like value inside `text` masked to its last four digits. The one function that text leaving
    the ingest (findings, rejected rows, header names, free text) goes through."""
    if len(text) < 10:
        return text
    return _LIKE.sub(lambda m: "******" + m.group(0)[-4:], text)


def token_text(text: str, key: bytes) -> str:
    """Every NHS-number-like value inside `text` (a key column's value, a file name, an S3 key) replaced by a token:
    its last four digits and a keyed hash of the value as written, so two different keys stay two (masking alone
    would make 943 476 5919 and 111 222 5919 one key) and the same one is the same token on every run with the same
    pseudonym key. The number itself cannot be recovered from it."""
    if len(text) < 10:
        return text
    return _LIKE.sub(lambda m: "******" + m.group(0)[-4:] + "~" + _token(m.group(0), key), text)


# the token's hash in letters only (hex digits moved to g-p): a hash in digits could itself look like an NHS number
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def _token(value: str, key: bytes) -> str:
    return hashlib.blake2b(value.encode(), key=_key(key), person=b"bcf-token", digest_size=5).hexdigest().translate(
        _LETTERS)


def mask_optional(text: str | None) -> str | None:
    return None if text is None else mask_text(text)


def looks_like(text: str) -> bool:
    return bool(_LIKE.search(text))


def pseudonym(value: str, key: bytes) -> str:
    """Keyed, one-way person key: the same person links across extracts, the number itself never leaves memory."""
    normalised = value.replace(" ", "")
    return hashlib.blake2b(normalised.encode(), key=_key(key), person=b"bcf-person", digest_size=16).hexdigest()


def pseudonyms(values: list[str], key: bytes) -> list[str]:
    """pseudonym for many values: the keyed state is built once (one SHA-256 of the key, one key block) and copied."""
    copy = hashlib.blake2b(key=_key(key), person=b"bcf-person", digest_size=16).copy
    out = []
    for value in values:
        h = copy()
        h.update(value.replace(" ", "").encode())
        out.append(h.digest())
    hexed = b"".join(out).hex()
    return [hexed[i:i + 32] for i in range(0, len(hexed), 32)]


def _key(key: bytes) -> bytes:
    # blake2b takes a key of at most 64 bytes; any length of configured key is folded to 32.
    return hashlib.sha256(key).digest()


def row_hash(values: list[str], key: bytes) -> str:
    """Keyed hash of a row's raw values. Keyed because the raw values include the NHS number, whose space is small."""
    return row_hasher(key)(values)


def row_hasher(key: bytes):  # type: ignore[no-untyped-def]
    """row_hash for many rows: the keyed state is built once and copied per row."""
    base = hashlib.blake2b(key=_key(key), person=b"bcf-row", digest_size=16)

    def digest(values: list[str]) -> str:
        h = base.copy()
        h.update("\x1f".join(values).encode())
        return h.hexdigest()
    return digest


_HASH_BATCH = 1 << 16  # rows joined and hashed at a time: the joined text of a whole table is never held


def row_hashes(columns: list[object], key: bytes):  # type: ignore[no-untyped-def]
    """row_hash of every row of a table given as its columns (pandas text Series or Arrow arrays), in bulk.

    Batch by batch, Arrow joins each row's values with the separator in C; each row's slice of that buffer is
    hashed into 16 raw bytes, hex-encoded per batch; the result is one Arrow-backed pandas string array, so no
    per-row Python string is built. Byte for byte the same digest as row_hash: BLAKE2b keyed with sha256(key),
    person b"bcf-row", 16 bytes, values UTF-8 joined by U+001F. Each row's hash is a copy of the keyed state, not
    a new keyed hash: a new one compresses the key's own block first, so a copy took 0.64 s per million rows
    against 0.81 s.
    """
    import binascii

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    arrays = [c if isinstance(c, pa.Array | pa.ChunkedArray) else pa.array(getattr(c, "array", c)) for c in columns]
    copy = hashlib.blake2b(key=_key(key), person=b"bcf-row", digest_size=16).copy

    def keyed(row: bytes) -> bytes:
        h = copy()
        h.update(row)
        return h.digest()

    n = max(len(a) for a in arrays)
    hexed = []
    for start in range(0, n, _HASH_BATCH):
        joined = _joined([a.slice(start, _HASH_BATCH) for a in arrays])
        for chunk in joined.chunks if isinstance(joined, pa.ChunkedArray) else [joined]:
            _, offsets_buf, data_buf = chunk.buffers()
            width = 4 if chunk.type == pa.string() else 8
            offsets = np.frombuffer(offsets_buf, dtype=f"<i{width}", count=len(chunk) + 1,
                                    offset=chunk.offset * width).tolist()
            data = data_buf.to_pybytes() if data_buf is not None else b""
            rows = map(data.__getitem__, map(slice, offsets, offsets[1:]))
            hexed.append(binascii.hexlify(b"".join(map(keyed, rows))))
    text = pa.py_buffer(b"".join(hexed))
    fixed = pa.py_buffer(np.arange(0, 32 * (n + 1), 32, dtype=np.int32).tobytes())
    return pd.array(pa.StringArray.from_buffers(n, fixed, text), dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _joined(arrays: list[Any]) -> Any:
    """A batch's values joined per row by U+001F, in 32-bit Arrow text unless it would not fit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    size = sum(a.nbytes for a in arrays) + len(arrays) * max(len(a) for a in arrays)
    text = pa.string() if size < 1 << 30 else pa.large_string()
    joined = pc.binary_join_element_wise(*[a.cast(text) for a in arrays], pa.scalar("\x1f", text))
    if joined.null_count:
        raise ValueError("row_hashes: a value is missing (read gives text, blank is '')")
    return joined


def valid_mask(values: list[str]) -> list[bool]:
    """is_valid for many values at once (vectorised Modulus 11)."""
    import pyarrow as pa

    return valid_array(pa.array(values, type=pa.string())).tolist()


def valid_array(values: object):  # type: ignore[no-untyped-def]
    """valid_mask of a text column (pandas or Arrow) as a numpy bool array, computed on Arrow's buffers: spaces
    removed, exactly ten ASCII digits, Modulus 11 over a digits matrix; no Python string per value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    cleaned = pc.replace_substring(arrow, " ", "")
    shaped = np.asarray(pc.match_substring_regex(cleaned, "^[0-9]{10}$").to_numpy(zero_copy_only=False),
                        dtype=bool)
    out = np.zeros(len(shaped), dtype=bool)
    if shaped.any():
        ten = pc.filter(cleaned, pa.array(shaped))
        ten = ten.combine_chunks() if isinstance(ten, pa.ChunkedArray) else ten
        start = int(np.frombuffer(ten.buffers()[1], dtype=np.int32, count=1, offset=ten.offset * 4)[0])
        raw = np.frombuffer(ten.buffers()[2], dtype=np.uint8, count=10 * len(ten), offset=start)
        digits = raw.reshape(-1, 10).astype(np.int64) - 48
        check = 11 - (digits[:, :9] @ np.array(_WEIGHTS)) % 11
        check[check == 11] = 0
        out[shaped] = (check != 10) & (check == digits[:, 9])
    return out

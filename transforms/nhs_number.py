"""NHS number checks and masking. Raw NHS numbers live only in memory between reading a file and pseudonymising it."""

from __future__ import annotations

import hashlib
import re

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


# Ten ASCII digits, written together, or in the 3-3-4 groups people type ("943 476 5919", "943-476-5919"); not part
# of a longer run of digits. Any such value is treated as an NHS number, check digit or not: a mistyped one is
# still someone's identifier.
_LIKE = re.compile(r"(?<![0-9])[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}(?![0-9])")


def mask_text(text: str) -> str:
    """Every NHS-number-like value inside `text` masked to its last four digits. The one function that text leaving
    the ingest (findings, rejected rows, header names, free text) goes through."""
    if len(text) < 10:
        return text
    return _LIKE.sub(lambda m: "******" + m.group(0)[-4:], text)


def mask_optional(text: str | None) -> str | None:
    return None if text is None else mask_text(text)


def looks_like(text: str) -> bool:
    return bool(_LIKE.search(text))


def pseudonym(value: str, key: bytes) -> str:
    """Keyed, one-way person key: the same person links across extracts, the number itself never leaves memory."""
    normalised = value.replace(" ", "")
    return hashlib.blake2b(normalised.encode(), key=_key(key), person=b"bcf-person", digest_size=16).hexdigest()


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


def valid_mask(values: list[str]) -> list[bool]:
    """is_valid for many values at once (vectorised Modulus 11)."""
    import numpy as np

    cleaned = [v.replace(" ", "") for v in values]
    shaped = np.array([len(v) == 10 and v.isdigit() for v in cleaned], dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if shaped.any():
        digits = np.frombuffer("".join(v for v, ok in zip(cleaned, shaped, strict=True) if ok).encode(),
                               dtype=np.uint8).reshape(-1, 10).astype(np.int64) - 48
        check = 11 - (digits[:, :9] @ np.array(_WEIGHTS)) % 11
        check[check == 11] = 0
        out[shaped] = (check != 10) & (check == digits[:, 9])
    return out.tolist()

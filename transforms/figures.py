"""Figures as data: their declaration, their value, and the pure arithmetic on values (rounding, ratios).

No DuckDB here: warehouse/engine.py runs the SQL that makes a figure's contribution rows and sums them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SUMMED = ("count", "money", "units", "days")
Value = Decimal | str | dt.date | None


@dataclass(frozen=True)
class FigureSpec:
    id: str
    label: str
    kind: str  # count | money | units | days | ratio | pct | rate | text | date | yesno
    definition: str
    query: str  # the SQL file whose rows make the figure, or "parameters" / "config/..." for cover values


@dataclass
class Figure:
    spec: FigureSpec
    value: Value
    source_rows: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id


def scheme_slug(scheme_id: str) -> str:
    """A scheme id inside a figure id: lower-cased, every character but a-z, 0-9 and _ becomes _ (returns.md)."""
    return re.sub(r"[^a-z0-9_]", "_", scheme_id.lower())


def round_half_away(value: Decimal, places: int) -> Decimal:
    """Half away from zero: Decimal's ROUND_HALF_UP rounds -2.5 to -3 and 2.5 to 3."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rounded(kind: str, value: Decimal) -> Decimal:
    if kind in ("count", "days"):
        return round_half_away(value, 0)
    if kind in ("money", "units"):
        return round_half_away(value, 2)
    return round_half_away(value, 1)  # ratio, pct, rate


def ratio(numerator: Value, denominator: Value, scale: int = 1) -> Decimal | None:
    """numerator / denominator × scale; blank (None) when the denominator is 0 or either side is blank."""
    if not isinstance(numerator, Decimal) or not isinstance(denominator, Decimal) or denominator == 0:
        return None
    return numerator * scale / denominator


# --- the registry: how a return declares its figures --------------------------------------------------------------

Instance = dict[str, str]  # one value of a dimension: {"scheme": "df01"}, {"service": "pathway_1", "month": "2023_01"}


@dataclass(frozen=True)
class Input:
    """A figure another figure is derived from. A placeholder of `id` that the derived figure does not bind runs over
    every instance of the dimension `over` (a total over schemes); `sign` and `role` say how its rows enter the
    derived figure's lineage (-1: a balance subtracts them; role None keeps the rows' own role)."""

    id: str
    sign: int = 1
    role: str | None = None
    over: str | None = None


@dataclass(frozen=True)
class Context:
    """What a derivation may read besides its inputs: the HWB and period of the run, the plan's text values, its
    own instance and the sum of its own rows."""

    hwb: str
    period: Any
    plan: dict[tuple[str, str], str | None]
    instance: Instance
    summed: Decimal | None = None  # the exact sum of the figure's own rows; None when it has none
    by_role: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # figure id -> role -> sum of its rows


ValueFn = Callable[[Context, list[Value]], Value]


@dataclass(frozen=True)
class FigureDef:
    """One declaration per figure (or per figure family, with {placeholders} of the dimension `over`).

    A figure is made by one SQL model (warehouse/sql/figures/<model>.sql emits its contribution rows) and/or derived
    from other figures (`inputs`; their rows become its lineage unless lineage=False). Its value is the exact sum of
    its rows, unless `value` derives it (a ratio, a DSR, a Yes/No, a plan's text). `column` is its column header in the
    built-in workbook; `made_by` names a source that is neither a model nor a derivation (parameters)."""

    id: str
    label: str
    kind: str
    definition: str
    model: str | None = None
    inputs: tuple[Input, ...] = ()
    value: ValueFn | None = None
    lineage: bool = True
    over: str | None = None
    column: str = ""
    made_by: str = ""

    @property
    def query(self) -> str:
        if self.made_by:
            return self.made_by
        if self.model:
            return self.model
        return "derived from " + ", ".join(i.id for i in self.inputs)


def placeholders(pattern: str) -> list[str]:
    return re.findall(r"\{([a-z_]+)\}", pattern)


def expand(pattern: str, instance: Instance, dimensions: dict[str, list[Instance]], over: str | None) -> list[str]:
    """Concrete figure ids of a pattern: placeholders the instance binds are filled; any other runs over `over`."""
    free = [p for p in placeholders(pattern) if p not in instance]
    if not free:
        return [pattern.format(**instance)]
    if over is None:
        raise ValueError(f"{pattern}: placeholders {free} are not bound and no dimension is named to run over")
    return [pattern.format(**{**other, **instance}) for other in dimensions[over]]

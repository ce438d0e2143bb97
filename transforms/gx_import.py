"""Importing great_expectations in about half the time, with the same GX (import_gx).

GX's import was most of a small run (one HWB's fortnight: ~2.5 s of ~5 s on this machine). What it spent that time
on is either not needed by the suites in expectations/ or can be done as well for less: scipy.stats and altair (for
expectations no suite holds), its SQL back ends (the suites run on pandas frames), pydantic's generic deep copy of
each model class's inherited fields (_fields_copy makes the same copy for a third of the cost), and the cyclic
collector's full passes over everything imported before GX. tests/unit/test_validate_import.py checks them: the
same findings, the same copies, the modules still there for anyone who imports them.
"""

from __future__ import annotations

import copy
import gc
import importlib
import sys
import types
import weakref
from collections.abc import Callable
from typing import Any


class _OnFirstUse(types.ModuleType):
    """Stands in for a module in the modules GX imports, which is then imported only if one of them uses it:
    scipy.stats (~0.9 s on this machine, a third of importing GX) and altair (~0.25 s). Only GX's distribution
    expectations use them (KL divergence, KS tests: scipy.stats for the test, altair to draw it), which no suite
    in expectations/ holds. Anything else importing them gets the real module, as always."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:  # still standing in (GX is being imported): step aside first
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def import_gx() -> Any:
    """great_expectations, imported with scipy.stats and altair loaded on first use rather than at once
    (_OnFirstUse), without its SQL back ends, with pydantic's copies of its models' fields made by _fields_copy, and
    with the cyclic collector paused. Each measure holds only while GX imports; everything is as before afterwards.

    GX binds scipy.stats by `from scipy import stats`, which reads the scipy package's attribute, and altair by
    `import altair`, which reads sys.modules: the stand-ins are those while GX imports and are taken away after, so
    later imports of either are the ordinary ones.

    SQLAlchemy is optional to GX (great_expectations.compatibility.sqlalchemy: each name it cannot import becomes a
    NotImported placeholder, as on a machine without it), and only its SQL data sources and execution engines use
    it; the suites here run on pandas frames. So while GX imports, `import sqlalchemy` fails (None in sys.modules)
    unless something imported it before (Prefect does, in a flow): one HWB's run 4.9 -> 4.3 s (docs/benchmarks.md,
    tenth pass). Afterwards it imports as usual, for Prefect and anyone else; GX keeps its placeholders. Same
    findings either way (tests/unit/test_validate_import.py). boto3 (GX's S3 back ends) could be left out alike,
    but its share of GX's import was ~0.03 s."""
    if "great_expectations" in sys.modules or "scipy.stats" in sys.modules:
        import great_expectations as gx
        return gx
    import scipy

    scipy.stats = _OnFirstUse("scipy.stats")  # type: ignore[attr-defined]
    lazy_altair = "altair" not in sys.modules
    if lazy_altair:
        sys.modules["altair"] = _OnFirstUse("altair")
    without_sql = "sqlalchemy" not in sys.modules
    if without_sql:
        sys.modules["sqlalchemy"] = None  # type: ignore[assignment]  # `import sqlalchemy` raises ImportError
    import pydantic.v1.main as pydantic_models

    deepcopy_fields = pydantic_models.smart_deepcopy
    pydantic_models.smart_deepcopy = _copy_fields_with(deepcopy_fields)  # type: ignore[assignment]
    # The cyclic collector's full passes over everything imported before (pandas, DuckDB): three during GX's import,
    # ~0.2 s. Paused, then one pass over the young objects alone, which are GX's: its import's garbage (~8,500
    # objects, 2.4 MB) goes all the same, for ~0.1 s less.
    collecting = gc.isenabled()
    gc.disable()
    try:
        import great_expectations as gx
    finally:
        if collecting:
            gc.enable()
            gc.collect(0)
        pydantic_models.smart_deepcopy = deepcopy_fields
        if isinstance(getattr(scipy, "stats", None), _OnFirstUse):
            del scipy.stats  # scipy's own module __getattr__ imports the real one on the next access
        if lazy_altair and isinstance(sys.modules.get("altair"), _OnFirstUse):
            del sys.modules["altair"]
        if without_sql and "sqlalchemy" in sys.modules and sys.modules["sqlalchemy"] is None:
            del sys.modules["sqlalchemy"]
    return gx


# pydantic v1, which GX's models use (every expectation, data source and data asset class), gives each new model
# class a deep copy of its base's fields (pydantic.v1.main: smart_deepcopy(base.__fields__)), a dict of
# ModelField. GX's import makes ~300 model classes, and copy.deepcopy spent ~0.4 s of it reconstructing each
# ModelField and FieldInfo (~25 slots each) through __reduce_ex__. _fields_copy makes the same copy directly.
_ATOMIC = frozenset({type(None), int, float, bool, complex, bytes, str, types.CodeType, type, range,
                     types.BuiltinFunctionType, types.FunctionType, type(Ellipsis), type(NotImplemented),
                     weakref.ref, property})  # what copy.deepcopy returns as it is (copy._deepcopy_atomic)
_MISSING = object()


def _copy_fields_with(deepcopy_fields: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """pydantic's smart_deepcopy, with a dict of ModelField copied by _fields_copy (anything else as before)."""
    from pydantic.v1.fields import FieldInfo, ModelField

    def copy_fields(obj: Any) -> Any:
        if type(obj) is dict and obj and all(type(v) is ModelField for v in obj.values()):
            return _fields_copy(obj, (ModelField, FieldInfo))
        return deepcopy_fields(obj)

    return copy_fields


def _fields_copy(fields: dict[str, Any], slotted: tuple[type, ...]) -> dict[str, Any]:
    """copy.deepcopy(fields), made the way deepcopy makes it but without its generic steps for the objects a
    ModelField is made of: a ModelField or FieldInfo (slotted, no __dict__, no copy hooks of its own) becomes a new
    one of its class with each slot that is set copied (its __getstate__, as deepcopy reads it); a dict or list a
    new one; what deepcopy keeps as it is
    (strings, numbers, classes, functions) is kept; anything else is copied by copy.deepcopy itself, with the same
    memo, so an object met twice is copied once and the copy shares exactly what deepcopy's would."""
    memo: dict[int, Any] = {}

    def copied(x: Any) -> Any:
        cls = type(x)
        if cls in _ATOMIC or issubclass(cls, type):
            return x
        seen = memo.get(id(x), _MISSING)
        if seen is not _MISSING:
            return seen
        y: Any
        if cls is dict:
            y = memo[id(x)] = {}
            for key, value in x.items():
                y[copied(key)] = copied(value)
        elif cls is list:
            y = memo[id(x)] = []
            y.extend(copied(value) for value in x)
        elif cls in slotted:
            y = memo[id(x)] = cls.__new__(cls)  # type: ignore[call-overload]  # as copyreg.__newobj__ does
            state = x.__getstate__()  # what deepcopy copies: (None, the slots that are set), or None if none is
            for name, value in (state[1] if state else {}).items():
                kind = type(value)  # most are strings, None, classes: kept without a call
                setattr(y, name, value if kind in _ATOMIC or issubclass(kind, type) else copied(value))
        else:
            y = copy.deepcopy(x, memo)
        return y

    return copied(fields)  # type: ignore[no-any-return]

"""GX is imported with scipy.stats and altair loaded on first use (transforms.gx_import.import_gx): a run that validates
does not pay for them, yet GX's modules that name them, and anyone else who imports them, get the real thing. In a
fresh interpreter, as a run starts. Likewise without its SQL back ends, and with pydantic's copies of its models'
fields made by gx_import._fields_copy: the same models, the same findings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

PROBE = """
import gc, json, sys
from bcf.transforms.gx_import import import_gx
from bcf.transforms.validate import RowValidator
import_gx()
collector_on, garbage_left = gc.isenabled(), gc.collect()
after_import = "scipy.stats" in sys.modules
altair_after_import = "altair" in sys.modules
import scipy
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
stand_in = type(kl.stats).__name__
altair_stand_in = type(kl.alt).__name__
entropy = float(kl.stats.entropy([0.5, 0.5]))  # the first use imports the real module
chart = type(kl.alt.Chart).__name__
from scipy import stats
import altair
print(json.dumps({"after_import": after_import, "stand_in": stand_in, "entropy": entropy,
                  "real": type(scipy.stats).__name__, "cdf": float(stats.norm.cdf(0)),
                  "same": sys.modules["scipy.stats"] is stats,
                  "altair_after_import": altair_after_import, "altair_stand_in": altair_stand_in, "chart": chart,
                  "altair_real": type(altair).__name__, "altair_same": altair.Chart is kl.alt.Chart,
                  "collector_on": collector_on, "garbage_left": garbage_left}))
"""


@pytest.mark.slow
def test_gx_imports_without_scipy_stats_or_altair_and_they_still_work_on_use() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["after_import"] is False and got["altair_after_import"] is False  # GX imported, they not
    assert got["stand_in"] == got["altair_stand_in"] == "_OnFirstUse"
    assert got["entropy"] == pytest.approx(0.6931471805599453) and got["chart"] != "NoneType"
    assert got["real"] == "module" and got["same"] and got["cdf"] == 0.5
    assert got["altair_real"] == "module" and got["altair_same"]
    assert got["collector_on"] and got["garbage_left"] == 0  # paused while GX imports, its garbage collected after


def test_a_validator_checks_rows_after_import_gx() -> None:
    """The validator's own start goes through import_gx: GX still validates (a failing row is a finding)."""
    from bcf.core.settings import contracts
    from bcf.transforms.validate import RowValidator
    from tests.unit.test_validate_two_pass import PARAMS, _discharges

    frame = _discharges(9)
    frame.loc[0, "age"] = 130
    found = RowValidator().check(frame, contracts()["discharges"], "f.csv", PARAMS)
    assert any(f.rule == "age_range" and f.value == "130" for f in found)


ONCE = """
import json, sys
import bcf.transforms.validate as validate
if sys.argv[1] == "without":
    validate._configuration_once_per_call = lambda: None  # GX as it is
    validate._plain_values_as_they_are = lambda: None
from bcf.core.settings import contracts
from tests.unit.test_validate_two_pass import PARAMS, _discharges
from great_expectations.expectations.expectation import Expectation
made = []  # each configuration GX makes (counted under the once-per-call layer, which starts with the validator)
inner = Expectation.configuration.fget
Expectation.configuration = property(lambda self: made.append(1) or inner(self))
v = validate.RowValidator()
found = []
for small in (20_000, 0):  # rules sharing two batches, and a batch per rule
    validate.SMALL_TABLE = small
    found += [f.as_dict() for f in v.check(_discharges(9), contracts()["discharges"], "f.csv", PARAMS)]
print(json.dumps({"found": found, "made": len(made)}, default=str))
"""


@pytest.mark.slow
def test_an_expectations_configuration_made_once_per_call_finds_the_same() -> None:
    """transforms.validate._configuration_once_per_call: GX's methods read an expectation's configuration once per
    call, not once per key; every finding the same, and the configuration made a fraction of the times."""
    got = {}
    for how in ("with", "without"):
        done = subprocess.run([sys.executable, "-c", ONCE, how], capture_output=True, text=True, check=True)
        got[how] = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["with"]["found"] == got["without"]["found"] and len(got["with"]["found"]) > 10
    assert got["with"]["made"] * 3 < got["without"]["made"]


WITHOUT_SQL = """
import json, sys
if sys.argv[1] == "with":
    import sqlalchemy  # imported before GX, as in a Prefect flow: GX then loads its SQL back ends
from bcf.core.settings import contracts
from bcf.transforms.gx_import import import_gx
from bcf.transforms.validate import RowValidator
from tests.unit.test_validate_two_pass import PARAMS, _discharges, _spend
import_gx()
hidden = "sqlalchemy" in sys.modules and sys.modules["sqlalchemy"] is None
from great_expectations.compatibility import sqlalchemy as gx_sql
v = RowValidator()
found = [f.as_dict() for f in v.check(_discharges(9), contracts()["discharges"], "f.csv", PARAMS)]
found += [f.as_dict() for f in v.check(_spend(8, True), contracts()["spend"], "f.csv", PARAMS)]
import sqlalchemy
print(json.dumps({"gx_sees": type(gx_sql.sqlalchemy).__name__, "hidden": hidden, "found": found,
                  "after": type(sqlalchemy).__name__, "engine": callable(sqlalchemy.create_engine)}, default=str))
"""


@pytest.mark.slow
def test_gx_imports_without_sqlalchemy_and_finds_the_same() -> None:
    """import_gx leaves GX's SQL back ends out unless SQLAlchemy was imported first (GX's own placeholders, as on a
    machine without it); the suites find the same rows either way, and SQLAlchemy imports as usual afterwards."""
    got = {}
    for how in ("with", "without"):
        done = subprocess.run([sys.executable, "-c", WITHOUT_SQL, how], capture_output=True, text=True, check=True)
        got[how] = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["with"]["gx_sees"] == "module" and got["without"]["gx_sees"] == "NotImported"
    assert got["with"]["found"] == got["without"]["found"] and len(got["without"]["found"]) > 10
    assert not got["without"]["hidden"]  # taken away once GX is in
    assert got["without"]["after"] == "module" and got["without"]["engine"]


MODELS = """
import json, re, sys
if sys.argv[1] == "import_gx":
    from bcf.transforms.gx_import import import_gx
    import_gx()
import great_expectations
from pydantic.v1 import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

def described(field):
    texts = [repr(field), repr(field.field_info), repr(field.sub_fields), repr(field.key_field)]
    return [re.sub(" at 0x[0-9a-f]+", "", t) for t in texts] + [
            sorted(field.class_validators), [v.__qualname__ for v in field.validators or []],
            [v.__qualname__ for v in field.pre_validators or []], [v.__qualname__ for v in field.post_validators or []]]

models = {f"{c.__module__}.{c.__qualname__}": {n: described(f) for n, f in c.__fields__.items()}
          for c in subclasses(BaseModel) if c.__module__.startswith("great_expectations")}
print(json.dumps(models, sort_keys=True))
"""


@pytest.mark.slow
def test_gx_models_are_the_same_when_their_fields_are_copied_by_fields_copy() -> None:
    """Every pydantic model GX defines (expectations, data sources, assets) has the same fields, each with the same
    type, default, alias, settings and validators, whether GX was imported by import_gx or as it is."""
    got = {}
    for how in ("import_gx", "as_it_is"):
        done = subprocess.run([sys.executable, "-c", MODELS, how], capture_output=True, text=True, check=True)
        got[how] = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(got["import_gx"]) > 250
    assert got["import_gx"] == got["as_it_is"]


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def _text(value: Any) -> str:
    return re.sub(" at 0x[0-9a-f]+", "", repr(value))


def _assert_same_copy(original: Any, ours: Any, theirs: Any) -> None:
    """ours and theirs are copies of original alike: the same types and values throughout, the original's own
    objects kept in exactly the same places, and an object met twice copied once (the same sharing)."""
    met: dict[int, tuple[Any, Any]] = {}
    alive = []  # the originals met, so no id is reused while comparing
    todo = [(original, ours, theirs, "fields")]
    while todo:
        o, a, b, where = todo.pop()
        assert type(a) is type(b), where
        assert (a is o) == (b is o), f"{where}: one copy keeps the original, the other does not"
        if a is o:
            continue
        if type(o).__module__ in ("typing", "types"):  # Union[...], set[int]: typing caches them; compare by value
            assert a == b or _text(a) == _text(b), where
            continue
        if id(o) in met:
            assert met[id(o)][0] is a and met[id(o)][1] is b, f"{where}: shared differently"
            continue
        met[id(o)] = (a, b)
        alive.append(o)
        if isinstance(o, dict):
            assert len(o) == len(a) == len(b), where
            for (ko, vo), (ka, va), (kb, vb) in zip(o.items(), a.items(), b.items(), strict=True):
                todo += [(ko, ka, kb, f"{where} key {ko!r}"), (vo, va, vb, f"{where}[{ko!r}]")]
        elif isinstance(o, list | tuple):
            todo += [(x, y, z, f"{where}[{i}]") for i, (x, y, z) in enumerate(zip(o, a, b, strict=True))]
        else:
            names = [n for c in type(o).__mro__ for n in c.__dict__.get("__slots__", ()) if n != "__weakref__"]
            if hasattr(o, "__dict__"):
                names += list(vars(o))
            else:
                assert names or a == b, where
            missing = object()
            todo += [(getattr(o, n, missing), getattr(a, n, missing), getattr(b, n, missing), f"{where}.{n}")
                     for n in names if n != "__dict__"]


def test_fields_copy_makes_the_copy_deepcopy_makes() -> None:
    """gx_import._fields_copy, checked against copy.deepcopy on the fields of every pydantic model GX defines."""
    import copy

    from pydantic.v1 import BaseModel

    from bcf.transforms.gx_import import _copy_fields_with, import_gx

    import_gx()
    copy_fields = _copy_fields_with(copy.deepcopy)
    checked = 0
    for model in _subclasses(BaseModel):
        if model.__module__.startswith("great_expectations") and model.__fields__:
            _assert_same_copy(model.__fields__, copy_fields(model.__fields__), copy.deepcopy(model.__fields__))
            checked += 1
    assert checked > 250


def test_plain_values_through_gx_json_conversion_come_out_as_gx_gives_them() -> None:
    """validate._plain_values_as_they_are: GX's convert_to_json_serializable with None, strings, whole numbers and
    truth values returned at once gives what GX's own gives, value and type, for these and anything else; and the
    ids GX makes of a metric's kwargs are the same."""
    import datetime as dt
    import enum

    import numpy as np

    import bcf.transforms.validate as validate
    from bcf.transforms.gx_import import import_gx

    import_gx()
    from great_expectations import util
    from great_expectations.core import id_dict

    validate._plain_values_as_they_are()
    ours = util.convert_to_json_serializable
    gx_own = ours.gx_own
    assert id_dict.convert_to_json_serializable is ours

    class Colour(enum.Enum):
        RED = "r"

    class Flag(enum.IntEnum):
        ON = 1

    samples = [None, "", "a,b", 0, -7, 2**70, True, False, 1.5, float("nan"), np.int64(3), np.float64(2.5),
               np.bool_(True), np.int32(-1), dt.date(2023, 4, 1), Colour.RED, Flag.ON, range(3),
               {"column": "age", "value_set": ["A", "B", None], "n": 3, "row_condition": None},
               [1, "x", None, [True, {"k": np.int64(1)}]], ("t", 1), {"a"}, {1: None}]

    def typed(value: object) -> object:  # a value with the type of every part, to compare exactly
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value).__name__, repr(value))

    for sample in samples:
        assert typed(ours(sample)) == typed(gx_own(sample)), sample
    kwargs = id_dict.IDDict({"column": "discharge_date", "value_set": ["A", "B"], "mostly": None, "strict": True})
    with_ours = kwargs.to_id()
    id_dict.convert_to_json_serializable = gx_own
    try:
        assert kwargs.to_id() == with_ours
    finally:
        id_dict.convert_to_json_serializable = ours

"""GX is imported with scipy.stats and altair loaded on first use (transforms.validate.import_gx): a run that validates
does not pay for them, yet GX's modules that name them, and anyone else who imports them, get the real thing. In a
fresh interpreter, as a run starts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from bcf.transforms.validate import RowValidator, import_gx
import_gx()
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
                  "altair_real": type(altair).__name__, "altair_same": altair.Chart is kl.alt.Chart}))
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
from bcf.transforms.validate import RowValidator, import_gx
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

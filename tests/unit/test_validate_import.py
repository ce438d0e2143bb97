"""GX is imported with scipy.stats loaded on first use (transforms.validate.import_gx): a run that validates does not
pay for scipy.stats, yet GX's modules that name it, and anyone else who imports it, get the real thing. In a fresh
interpreter, as a run starts."""

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
import scipy
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
stand_in = type(kl.stats).__name__
entropy = float(kl.stats.entropy([0.5, 0.5]))  # the first use imports the real module
from scipy import stats
print(json.dumps({"after_import": after_import, "stand_in": stand_in, "entropy": entropy,
                  "real": type(scipy.stats).__name__, "cdf": float(stats.norm.cdf(0)),
                  "same": sys.modules["scipy.stats"] is stats}))
"""


@pytest.mark.slow
def test_gx_imports_without_scipy_stats_and_it_still_works_on_use() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["after_import"] is False  # GX imported, scipy.stats not
    assert got["stand_in"] == "_ScipyStatsOnUse"
    assert got["entropy"] == pytest.approx(0.6931471805599453)
    assert got["real"] == "module" and got["same"] and got["cdf"] == 0.5


def test_a_validator_checks_rows_after_import_gx() -> None:
    """The validator's own start goes through import_gx: GX still validates (a failing row is a finding)."""
    from bcf.core.settings import contracts
    from bcf.transforms.validate import RowValidator
    from tests.unit.test_validate_two_pass import PARAMS, _discharges

    frame = _discharges(9)
    frame.loc[0, "age"] = 130
    found = RowValidator().check(frame, contracts()["discharges"], "f.csv", PARAMS)
    assert any(f.rule == "age_range" and f.value == "130" for f in found)

"""Config that is really read: code values live in config/ only, and every BCF_* variable is read in one place and
documented in docs/operations.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bcf.core.settings import ENV_VARS, codes, env

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("core", "transforms", "warehouse", "bcf", "flows")
DEV_TOOLS = ROOT / "bcf" / "devtools"  # the synthetic generator writes codes as a supplier would


def code_files() -> list[Path]:
    return [p for d in CODE_DIRS for p in sorted((ROOT / d).rglob("*")) if p.suffix in (".py", ".sql")
            and DEV_TOOLS not in p.parents]


@pytest.mark.parametrize("pattern", ["'79'", "'19'", '"79"', '"19"', "la_discharge", "icb_discharge"])
def test_destination_codes_and_df_sources_are_only_in_config(pattern: str) -> None:
    found = [f"{p.relative_to(ROOT)}:{n}" for p in code_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if pattern in line]
    assert found == []
    assert pattern.strip("'\"") in (ROOT / "config" / "codes.toml").read_text(encoding="utf-8")  # the one home


def test_the_codes_the_sql_joins_come_from_codes_toml() -> None:
    from bcf.warehouse.engine import code_rows

    rows = {(lst, name): code for lst, name, code, *_ in code_rows()}
    c = codes()
    assert rows[("discharge_destination", "died")] == c["discharge_destination"]["died"]
    assert rows[("discharge_fund", "la")] == c["discharge_fund"]["la"]
    bands = [(name, lo, hi) for lst, name, _, _, lo, hi in code_rows() if lst == "esp_band"]
    assert bands[0] == ("65-69", 65, 69) and bands[-1] == ("90+", 90, None)


def test_every_bcf_variable_is_read_in_core_settings_and_documented() -> None:
    documented = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert [v for v in ENV_VARS if f"`{v}`" not in documented] == []
    reads = re.compile(r"""(?:environ\.get\(|environ\[|getenv\()\s*["']BCF_""")
    elsewhere = [str(p.relative_to(ROOT)) for p in code_files() if p.suffix == ".py"
                 and p != ROOT / "core" / "settings.py" and reads.search(p.read_text(encoding="utf-8"))]
    assert elsewhere == []


def test_settings_resolve_the_environment() -> None:
    s = env({"BCF_DATA_DIR": "/srv/bcf", "BCF_ALERT_SMTP_PORT": "2525", "BCF_ALERT_SMTP_STARTTLS": "1"})
    assert (s.data_dir, s.alert_smtp_port, s.alert_smtp_starttls) == (Path("/srv/bcf"), 2525, True)
    assert env({}).data_dir is None and env({}).alert_smtp_port == 25

"""Where things are and the reference data in config/. One loader, cached, so every module reads the same config."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _resource_dir(name: str) -> Path:
    """A data folder shipped with the code: in an installed wheel, bcf/_resources/<name> (importlib.resources);
    in a checkout (or an editable install), the project's own top-level folder."""
    packaged = Path(str(resources.files("bcf._resources") / name))
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


def config_dir() -> Path:
    """BCF_CONFIG_DIR overrides the shipped config (settings, codes, HWB list, supplier maps, automations)."""
    return Path(os.environ.get("BCF_CONFIG_DIR") or _resource_dir("config"))


def expectations_dir() -> Path:
    """BCF_EXPECTATIONS_DIR overrides the shipped Great Expectations suites."""
    return Path(os.environ.get("BCF_EXPECTATIONS_DIR") or _resource_dir("expectations"))


def sql_dir() -> Path:
    """warehouse/sql: package data of `warehouse`, beside this package in a checkout and in site-packages alike."""
    return PROJECT_ROOT / "warehouse" / "sql"


@cache
def _toml(name: str) -> dict[str, Any]:
    with open(config_dir() / name, "rb") as fh:
        return tomllib.load(fh)


def settings() -> dict[str, Any]:
    return _toml("settings.toml")


def codes() -> dict[str, Any]:
    return _toml("codes.toml")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text | code | int | decimal | date
    nullable: bool = False
    optional: bool = False


@dataclass(frozen=True)
class TableContract:
    """One extract kind or plan sheet as the input contract describes it."""

    table: str  # discharges, reablement, spend, plan_schemes, ...
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    sheet: str | None = None  # plan sheets only
    sheet_optional: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@cache
def contracts() -> dict[str, TableContract]:
    raw = _toml("extracts.toml")
    out = {}
    for table, spec in raw.items():
        cols = tuple(Column(**c) for c in spec["columns"])
        out[table] = TableContract(
            table=table,
            key=tuple(spec["key"]),
            columns=cols,
            sheet=spec.get("sheet"),
            sheet_optional=spec.get("sheet_optional", False),
        )
    return out


def plan_contracts() -> list[TableContract]:
    return [c for c in contracts().values() if c.sheet]


@dataclass(frozen=True)
class SupplierMapping:
    supplier: str
    kind: str
    files: str
    columns: dict[str, str] = field(default_factory=dict)

    def applies_to(self, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name.lower(), self.files.lower())


@cache
def supplier_mappings() -> tuple[SupplierMapping, ...]:
    out = []
    for path in sorted((config_dir() / "suppliers").glob("*.toml")):
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        out.append(SupplierMapping(raw["supplier"], raw["kind"], raw["files"], dict(raw.get("columns", {}))))
    return tuple(out)


def supplier_for(kind: str, file_name: str) -> SupplierMapping | None:
    """The header mapping of the supplier whose files are named like this one, if any."""
    return next((m for m in supplier_mappings() if m.kind == kind and m.applies_to(file_name)), None)


@cache
def hwb_reference() -> dict[str, dict[str, str]]:
    with open(config_dir() / "hwb.csv", newline="", encoding="utf-8") as fh:
        return {row["hwb_code"]: row for row in csv.DictReader(fh)}


def hwb_name(code: str) -> str:
    ref = hwb_reference().get(code)
    if ref is None:
        raise KeyError(f"HWB code {code} is not in config/hwb.csv")
    return ref["hwb_name"]


class PseudonymKeyError(ValueError):
    """The configured pseudonym key is refused (too short, or the development key without leave)."""


def development_key_allowed() -> bool:
    """The development key needs leave: `--allow-development-key`, BCF_ALLOW_DEVELOPMENT_KEY=1, or `bcf demo`."""
    cfg = settings()["pseudonymisation"]
    return os.environ.get(cfg["allow_env_var"], "").strip().lower() in ("1", "true", "yes")


def pseudonym_key(recorded: str | None = None) -> tuple[bytes, bool]:
    """The pseudonymisation key and whether it is the development key (recorded in the run ledger and manifest).

    A configured key shorter than `min_length` characters is refused; so is the development key unless leave is
    given. `recorded="development"` (bcf reproduce re-running a recorded development-key run) needs no leave: the
    landed copies were already pseudonymised with it."""
    cfg = settings()["pseudonymisation"]
    value = os.environ.get(cfg["env_var"])
    if value:
        if len(value) < int(cfg["min_length"]):
            raise PseudonymKeyError(f"{cfg['env_var']} is {len(value)} characters long; a pseudonym key needs at "
                                    f"least {cfg['min_length']}")
        return value.encode(), False
    if recorded != "development" and not development_key_allowed():
        raise PseudonymKeyError(f"{cfg['env_var']} is not set; set it to a key of {cfg['min_length']}+ characters, "
                                f"or for synthetic data only pass --allow-development-key "
                                f"(or {cfg['allow_env_var']}=1)")
    return cfg["development_key"].encode(), True


def key_kind(development: bool) -> str:
    """What the ledger and the manifest record about the key: never the key itself."""
    return "development" if development else "configured"


def tree_hash(folder: Path, pattern: str = "*") -> str:
    """sha256 over the names and contents of the files under a folder: config, suites and SQL in the manifest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_version() -> str:
    """The git commit the code runs from (with '+dirty' for uncommitted changes), else the package version."""
    import subprocess

    from bcf import __version__

    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return __version__

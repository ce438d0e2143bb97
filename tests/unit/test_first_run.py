"""Issue 24 part 2: a first run that says only what matters. The packaging lists every folder of package data
itself (else setuptools prints a screenful of "Package would be ignored" per folder on every install), and the
README tells a newcomer to activate the venv."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_folder_inside_a_package_is_listed_so_setuptools_has_nothing_to_warn_about() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    missing = []
    for package in listed:
        folder = ROOT / package.replace(".", "/")
        for sub in folder.rglob("*"):
            if sub.is_dir() and sub.name != "__pycache__" and any(p.is_file() for p in sub.iterdir()):
                parts = sub.relative_to(ROOT).parts
                name = ".".join(parts)
                if all(part.isidentifier() for part in parts) and name not in listed and "_resources" not in name:
                    missing.append(name)
    assert not missing, f"importable folders setuptools would warn about: {sorted(missing)}"
    data = config["package-data"]
    sql = list((ROOT / "bcf" / "warehouse" / "sql").rglob("*.sql"))  # bcf/warehouse: the link to warehouse/
    assert sql and all(".".join(p.parent.relative_to(ROOT).parts) in data for p in sql)  # every SQL file shipped


def test_make_quietens_pip_and_the_readme_says_to_activate_the_venv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -qq" in makefile
    assert "source .venv/bin/activate" in (ROOT / "README.md").read_text()

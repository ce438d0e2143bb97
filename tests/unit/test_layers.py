"""The layers only look down: core -> transforms -> warehouse -> bcf -> flows (imported as bcf.core, bcf.transforms,
bcf.warehouse, the wings of bcf, bcf.flows). A module may import its own layer
and the layers below it, never one above. Imports are read with ast, so a lazy import inside a function counts too.

Inside bcf the wings stand on floors of their own: devtools; ingest | returns; run | audit; submission; cli. A wing
may import its own files and the floors below it; two wings on one floor never import each other (ingest and returns
do not know each other, nor run and audit)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["core", "transforms", "warehouse", "bcf", "flows"]  # bottom to top
# The command line starts flows, so it stands above them: the one wing that sits higher than its package.
ENTRY_POINTS = ("bcf/cli/",)
# bcf's wings, bottom to top; the wings of one floor never import each other
WINGS = [("_resources", "devtools"), ("ingest", "returns"), ("audit", "run"), ("submission",), ("cli",)]


def imported_modules(path: Path) -> set[str]:
    """Every module a file names in an import (absolute imports; the project uses no relative ones), with
    `from bcf import warehouse` read as bcf.warehouse."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out |= {f"bcf.{a.name}" for a in node.names} if node.module == "bcf" else {node.module}
    return out


def layer_of(module: str) -> str | None:
    """bcf.core, bcf.transforms, bcf.warehouse, bcf.flows are layers of their own; the rest of bcf is the bcf layer."""
    parts = module.split(".")
    if parts[0] != "bcf":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "bcf"


def imported_packages(path: Path) -> set[str]:
    """The layers a file imports."""
    return {layer for m in imported_modules(path) if (layer := layer_of(m)) is not None}


def upward_imports(root: Path) -> list[str]:
    found = []
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            if path.relative_to(root).as_posix().startswith(ENTRY_POINTS) or path_in_layer_link(root, path):
                continue
            for target in imported_packages(path):
                if LAYERS.index(target) > LAYERS.index(layer):
                    found.append(f"{path.relative_to(root)} imports {target} (a layer above {layer})")
    return found


def path_in_layer_link(root: Path, path: Path) -> bool:
    """bcf/core, bcf/flows, ... are links to the top-level folders, read once under their own names."""
    rel = path.relative_to(root).parts
    return len(rel) > 2 and rel[0] == "bcf" and rel[1] in LAYERS


def floor(wing: str) -> int:
    return next(i for i, names in enumerate(WINGS) if wing in names)


def imported_wings(path: Path) -> set[str]:
    """The wings of bcf a file imports: `from bcf.returns.pack import x`, `import bcf.run.ledger`,
    `from bcf import returns`, `from bcf.returns import pack`."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("bcf.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bcf":
                out |= {a.name for a in node.names}
            elif node.module.startswith("bcf."):
                out.add(node.module.split(".")[1])
    return out


def cross_wing_imports(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "bcf").rglob("*.py")):
        parts = path.relative_to(root / "bcf").parts
        if len(parts) == 1:  # bcf/__init__.py: the package itself, below every wing
            continue
        wing = parts[0]
        if wing in LAYERS:  # a link to a top-level layer, checked by the layer test
            continue
        for target in imported_wings(path) - {wing} - set(LAYERS):
            if floor(target) >= floor(wing):
                found.append(f"{path.relative_to(root)} imports bcf.{target} "
                             f"({'a wing above' if floor(target) > floor(wing) else 'a wing beside'} {wing})")
    return found


def test_no_layer_imports_a_layer_above_it() -> None:
    assert upward_imports(ROOT) == []


def test_every_wing_has_its_floor() -> None:
    folders = {p.parent.name for p in (ROOT / "bcf").glob("*/__init__.py")} - set(LAYERS)
    assert folders == {name for names in WINGS for name in names}
    assert not [p.name for p in (ROOT / "bcf").glob("*.py") if p.name != "__init__.py"], "a file of bcf outside a wing"


def test_no_wing_imports_a_wing_beside_or_above_it() -> None:
    assert cross_wing_imports(ROOT) == []


def bare_imports(root: Path) -> list[str]:
    """Imports of a layer by its bare name (`from warehouse import db`): they work in a checkout, whose root is on
    sys.path, and fail in an installed wheel, whose one top-level name is bcf."""
    return [f"{p.relative_to(root)} imports {m}" for top in (*LAYERS, "tests", "scripts") if (root / top).is_dir()
            for p in sorted((root / top).rglob("*.py")) if not path_in_layer_link(root, p)
            for m in imported_modules(p) if m.split(".")[0] in set(LAYERS) - {"bcf"}]


def test_the_layers_import_as_one_package() -> None:
    assert bare_imports(ROOT) == []
    for layer in set(LAYERS) - {"bcf"}:  # bcf/core -> ../core, ...: one package tree in a checkout and a wheel
        link = ROOT / "bcf" / layer
        assert link.is_symlink() and link.resolve() == (ROOT / layer).resolve()


@pytest.mark.parametrize("line", ["from warehouse import db", "import core.settings", "from flows.common import x"])
def test_a_bare_layer_import_is_caught(tmp_path: Path, line: str) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "bad.py").write_text(f"def f():\n    {line}\n", encoding="utf-8")
    assert len(bare_imports(tmp_path)) == 1


@pytest.mark.parametrize(("layer", "line"), [
    ("core", "from bcf.transforms.figures import Figure"),
    ("transforms", "import bcf.warehouse.db"),
    ("warehouse", "from bcf.returns.pack import pack_dir"),
    ("warehouse", "from bcf import flows"),
    ("bcf", "from bcf.flows.common import warehouse_path"),
    ("flows", "import nothing_of_ours; from bcf.flows import common"),
])
def test_an_upward_import_is_caught(tmp_path: Path, layer: str, line: str) -> None:
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / layer / "bad.py").write_text(f"def f():\n    {line}\n", encoding="utf-8")
    expected = 0 if layer == "flows" else 1  # the top layer may import anything of ours
    assert len(upward_imports(tmp_path)) == expected


@pytest.mark.parametrize(("wing", "line", "caught"), [
    ("ingest", "from bcf.returns.pack import pack_dir", 1),  # beside: ingest and returns never meet
    ("returns", "from bcf.ingest.sources import SourceObject", 1),
    ("returns", "from bcf import ingest", 1),
    ("ingest", "import bcf.run.pipeline", 1),  # above
    ("run", "from bcf.audit.why import why_row", 1),  # beside: run and audit never meet
    ("audit", "from bcf.submission import register", 1),
    ("submission", "from bcf.cli.main import main", 1),
    ("devtools", "from bcf.ingest.sources import land", 1),
    ("audit", "from bcf.ingest.stage_file import stage_file; from bcf.returns import pack", 0),  # below: allowed
    ("cli", "from bcf.submission import commands; from bcf.run import pipeline; from bcf.cli import parser", 0),
])
def test_an_import_across_wings_is_caught(tmp_path: Path, wing: str, line: str, caught: int) -> None:
    (tmp_path / "bcf").mkdir()
    (tmp_path / "bcf" / "__init__.py").write_text("", encoding="utf-8")
    for names in WINGS:
        for name in names:
            (tmp_path / "bcf" / name).mkdir()
    (tmp_path / "bcf" / wing / "bad.py").write_text(f"def f():\n    {line}\n", encoding="utf-8")
    assert len(cross_wing_imports(tmp_path)) == caught

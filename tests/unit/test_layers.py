"""The layers only look down: core -> transforms -> warehouse -> bcf -> flows. A module may import its own layer
and the layers below it, never one above. Imports are read with ast, so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["core", "transforms", "warehouse", "bcf", "flows"]  # bottom to top
# The command line starts flows, so it stands above them: the one file that sits higher than its package.
ENTRY_POINTS = {"bcf/cli.py"}


def imported_packages(path: Path) -> set[str]:
    """Top-level project packages a file imports (absolute imports; the project uses no relative ones)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out & set(LAYERS)


def upward_imports(root: Path) -> list[str]:
    found = []
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            if path.relative_to(root).as_posix() in ENTRY_POINTS:
                continue
            for target in imported_packages(path):
                if LAYERS.index(target) > LAYERS.index(layer):
                    found.append(f"{path.relative_to(root)} imports {target} (a layer above {layer})")
    return found


def test_no_layer_imports_a_layer_above_it() -> None:
    assert upward_imports(ROOT) == []


@pytest.mark.parametrize(("layer", "line"), [
    ("core", "from transforms.figures import Figure"),
    ("transforms", "import warehouse.db"),
    ("warehouse", "from bcf.audit import pack_dir"),
    ("bcf", "from flows.common import warehouse_path"),
    ("flows", "import nothing_of_ours; from flows import common"),
])
def test_an_upward_import_is_caught(tmp_path: Path, layer: str, line: str) -> None:
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / layer / "bad.py").write_text(f"def f():\n    {line}\n", encoding="utf-8")
    expected = 0 if layer == "flows" else 1  # the top layer may import anything of ours
    assert len(upward_imports(tmp_path)) == expected

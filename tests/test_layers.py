"""Imports run downward only, through the layers named in docs/architecture.md.

The layer table is read from the "Layers" section of the architecture page, so the page
and this test cannot disagree. Every import of a socecon_geo module is checked, including
imports inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "socecon_geo"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _layer_table() -> dict[str, tuple[int, str]]:
    """Module (top-level name under socecon_geo) -> (layer position, layer name)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    table: dict[str, tuple[int, str]] = {}
    for position, row in enumerate(rows):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        layer, modules = cells[0], cells[1]
        for module in re.findall(r"`([\w/]+)`", modules):
            table[module.rstrip("/")] = (position, layer)
    return table


LAYERS = _layer_table()


def _modules() -> dict[str, Path]:
    """Dotted name below socecon_geo (``registers._files``) -> file, root excluded."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, imported name below socecon_geo) of every socecon_geo import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[int, str]] = []
    if package is None:
        package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("socecon_geo")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            if not module.startswith("socecon_geo"):
                continue
            if module == "socecon_geo":  # from socecon_geo import x: a module or the facade
                out += [(node.lineno, f"socecon_geo.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, module))
    return [(line, name.removeprefix("socecon_geo").lstrip(".")) for line, name in out]


def _upward(module: str, imports: list[tuple[int, str]]) -> list[str]:
    """The imports of ``module`` that go to a higher layer (or through the root facade)."""
    here = _layer_of(module)
    assert here is not None
    upward = []
    for line, imported in imports:
        if imported in ("", "__version__"):  # the package root's constant
            continue
        target = _layer_of(imported)
        if target is None:  # a public name from the package root: the facade
            if here[1] != "product":
                upward.append(f"line {line}: socecon_geo.{imported} (through the package root)")
            continue
        if target[0] > here[0]:
            upward.append(f"line {line}: {imported} ({target[1]})")
    return upward


def _layer_of(module: str) -> tuple[int, str] | None:
    return LAYERS.get(module.split(".")[0])


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in MODULES if _layer_of(m) is None)
    assert not missing, f"add these modules to the Layers table of docs/architecture.md: {missing}"


def test_the_layer_table_names_the_layers_in_order() -> None:
    names = [name for _, name in sorted(set(LAYERS.values()))]
    assert names == [
        "core",
        "data",
        "inputs",
        "geography",
        "analysis",
        "outputs",
        "pipeline",
        "product",
    ]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downward(module: str) -> None:
    upward = _upward(module, _imports(MODULES[module]))
    assert not upward, f"{module} ({_layer_of(module)[1]}) imports upward: {upward}"


def test_the_check_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    source = tmp_path / "demo.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from socecon_geo._errors import InputError\n"
        "if TYPE_CHECKING:\n"
        "    from socecon_geo.summaries import summarise_areas\n"
        "def f():\n"
        "    from socecon_geo.areas import assign_areas\n"
        "    from . import _columns\n"
        "    import socecon_geo.cli\n"
        "    from socecon_geo import read_organisations, __version__\n",
        encoding="utf-8",
    )
    imports = _imports(source, package="socecon_geo.registers")
    assert imports == [
        (2, "_errors"),
        (4, "summaries"),
        (6, "areas"),
        (7, "registers"),
        (8, "cli"),
        (9, "read_organisations"),
        (9, "__version__"),
    ]
    assert _upward("registers.demo", imports) == [
        "line 4: summaries (analysis)",
        "line 6: areas (analysis)",
        "line 8: cli (product)",
        "line 9: socecon_geo.read_organisations (through the package root)",
    ]
    assert _upward("cli", imports) == []

"""The API reference, generated from ``socecon_geo.__all__`` when the docs are built.

``docs/api.md`` holds the marker line ``<!-- api-reference -->``; on reading that page
this extension replaces the marker with one section per layer of the package, in the
order of the layer table of ``docs/architecture.md`` (the table ``tests/test_layers.py``
checks every import against). Each section has an autosummary table of the layer's
public names and their autodoc entries, in the order of ``socecon_geo._EXPORTS``.

So a new public name needs no edit here: it appears under the layer of the module that
defines it. A name whose module the layer table does not place, or a name of
``__all__`` this page would leave out, is a Sphinx warning, which the docs test turns
into a failure.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

MARKER = "<!-- api-reference -->"
ARCHITECTURE = Path(__file__).resolve().parents[1] / "architecture.md"
LOGGER = logging.getLogger(__name__)


def layer_table(text: str) -> list[tuple[str, list[str], str]]:
    """(layer, top-level module names, what lives there) of the architecture page's table."""
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    table = []
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        modules = [name.rstrip("/") for name in re.findall(r"`([\w/]+)`", cells[1])]
        table.append((cells[0], modules, cells[2]))
    return table


def _directive(value: Any) -> str:
    """Return the autodoc directive that documents ``value``."""
    if inspect.isclass(value):
        if issubclass(value, BaseException):
            return "autoexception"
        return "autoclass"
    if callable(value):
        return "autofunction"
    return "autodata"


def reference() -> tuple[str, list[str]]:
    """Return the MyST text of the reference and the problems found while writing it."""
    import socecon_geo

    exports: dict[str, str] = socecon_geo._EXPORTS
    problems = [
        f"socecon_geo.__all__ names {name!r}, which socecon_geo._EXPORTS does not map to "
        "a module; the API reference cannot place it"
        for name in socecon_geo.__all__
        if name not in exports and name != "__version__"
    ]
    layers = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))
    placed: dict[str, str] = {}
    for layer, modules, _ in layers:
        for module in modules:
            placed[module] = layer
    by_layer: dict[str, list[str]] = {layer: [] for layer, _, _ in layers}
    for name, module in exports.items():
        top = module.removeprefix("socecon_geo.").split(".")[0]
        if top not in placed:
            problems.append(
                f"socecon_geo.{name} is defined in {module}, which the layer table of "
                "docs/architecture.md does not place in a layer; add the module there"
            )
            continue
        by_layer[placed[top]].append(name)

    lines = [
        ":::{py:currentmodule} socecon_geo",
        ":::",
        "",
        ":::{py:data} __version__",
        f"The version of the installed package, a string such as ``{socecon_geo.__version__!r}``.",
        ":::",
        "",
    ]
    for layer, _, what in layers:
        names = by_layer[layer]
        if not names:
            continue
        lines += [f"## {layer.capitalize()}", "", f"{what[0].upper()}{what[1:]}.", ""]
        lines += ["```{eval-rst}", ".. autosummary::", ""]
        lines += [f"   {name}" for name in names]
        lines += ["```", ""]
        for name in names:
            directive = _directive(getattr(socecon_geo, name))
            lines += ["```{eval-rst}", f".. {directive}:: {name}"]
            if directive in ("autoclass", "autoexception"):
                lines.append("   :members:")
            if directive == "autodata":
                lines.append("   :no-value:")
            lines += ["```", ""]
    return "\n".join(lines), problems


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if MARKER not in source[0]:
        return
    text, problems = reference()
    for problem in problems:
        LOGGER.warning(problem, location=docname)
    source[0] = source[0].replace(MARKER, text)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension."""
    app.connect("source-read", _source_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

"""The documentation builds with Sphinx without a single warning, and covers the public API.

``python -m sphinx -W --keep-going -b html docs <tmp>`` runs once per session in a fresh
process (as a user or a docs host would run it); any warning — a broken link between
pages, a page left out of the index's table of contents, a docstring numpydoc cannot
read, a public name without a reference entry — fails the build and so the test. The
build fetches nothing from the network (no intersphinx, no linkcheck); it runs with
``socket.connect`` refused, so any attempt would fail it.

Outside CI the tests skip when Sphinx is not installed (``pip install -e ".[docs]"``);
under ``CI=true`` they fail instead, since the ``test`` extra installs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

import socecon_geo

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

pytestmark = pytest.mark.slow

OFFLINE = """\
import socket


def _refuse(self, address, *args, **kwargs):
    raise OSError(f"the docs build must not use the network (tried {address!r})")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


def _need_sphinx() -> None:
    missing = [
        name
        for name in ("sphinx", "myst_parser", "numpydoc")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        message = f"the docs build needs {', '.join(missing)}: pip install -e '.[docs]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML site, built once with warnings as errors."""
    _need_sphinx()
    out = tmp_path_factory.mktemp("docs")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(out / "doctrees"),
        str(DOCS),
        str(out / "html"),
    ]
    # no network: any connection the build tried would fail it
    guard = out / "offline"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(OFFLINE, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(guard), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO, env=env)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, (
        f"sphinx-build failed (status {result.returncode}, {elapsed:.1f} s):\n"
        f"{result.stderr}{result.stdout}"
    )
    assert not result.stderr.strip(), f"sphinx-build printed:\n{result.stderr}"
    return out / "html"


def _extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location("socecon_api", DOCS / "_ext" / "socecon_api.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _toctree(index: str) -> list[str]:
    block = re.search(r"^:::\{toctree\}\n(.*?)^:::$", index, re.S | re.M)
    assert block is not None, "docs/index.md has no :::{toctree} block"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.startswith(":")
    ]


def test_build_has_no_warnings_and_every_page(built: Path) -> None:
    pages = sorted(p.stem for p in DOCS.glob("*.md"))
    missing = [page for page in pages if not (built / f"{page}.html").is_file()]
    assert not missing, f"pages not built: {missing}"


def test_index_toctree_lists_every_page() -> None:
    listed = _toctree((DOCS / "index.md").read_text(encoding="utf-8"))
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert sorted(set(listed)) == sorted(listed), f"a page is listed twice: {listed}"
    assert set(listed) == pages, (
        f"not in the toctree: {sorted(pages - set(listed))}; "
        f"listed but no page: {sorted(set(listed) - pages)}"
    )


def test_api_reference_documents_every_public_name(built: Path) -> None:
    html = (built / "api.html").read_text(encoding="utf-8")
    documented = set(re.findall(r'<dt class="sig sig-object py" id="socecon_geo\.(\w+)">', html))
    public = set(socecon_geo.__all__)
    assert public - documented == set(), f"no reference entry: {sorted(public - documented)}"
    assert documented - public == set(), f"not public: {sorted(documented - public)}"
    # each entry carries its docstring's summary line
    summary = socecon_geo.geocode.__doc__.strip().splitlines()[0].split("`")[0][:30]
    assert summary in html


def test_api_reference_groups_names_by_layer(built: Path) -> None:
    html = (built / "api.html").read_text(encoding="utf-8")
    heading = re.compile(r'<h2>(\w+)<a class="headerlink"')
    order = heading.findall(html)
    layers = [
        layer.capitalize()
        for layer, _, _ in _extension().layer_table(
            (DOCS / "architecture.md").read_text(encoding="utf-8")
        )
    ]
    assert order == [layer for layer in layers if layer in order]
    assert {"Core", "Inputs", "Geography", "Analysis", "Outputs"} <= set(order)
    # a name sits in the section of its module's layer
    analysis = html.split('<h2>Analysis<a class="headerlink"', 1)[1].split("<h2>", 1)[0]
    assert 'id="socecon_geo.find_clusters"' in analysis
    assert 'id="socecon_geo.render_map"' not in analysis


def test_reference_flags_a_name_in_no_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(socecon_geo._EXPORTS, "mystery", "socecon_geo.nowhere")
    _, problems = _extension().reference()
    assert problems == [
        "socecon_geo.mystery is defined in socecon_geo.nowhere, which the layer table of "
        "docs/architecture.md does not place in a layer; add the module there"
    ]


def test_reference_flags_a_public_name_without_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socecon_geo, "__all__", [*socecon_geo.__all__, "unmapped"])
    _, problems = _extension().reference()
    assert problems == [
        "socecon_geo.__all__ names 'unmapped', which socecon_geo._EXPORTS does not map to "
        "a module; the API reference cannot place it"
    ]


def test_citation_and_changelog() -> None:
    citation = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^cff-version: 1\.2\.0$", citation, re.M)
    assert re.search(rf'^version: "?{re.escape(socecon_geo.__version__)}"?$', citation, re.M)
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert f"(version {socecon_geo.__version__})" in index
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog\n")
    releases = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert releases[0] == "Unreleased"
    assert socecon_geo.__version__ in releases

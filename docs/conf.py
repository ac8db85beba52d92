"""Sphinx configuration: the Markdown pages (MyST) and the API reference from the docstrings.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``tests/test_docs_build.py`` does, and fails on any warning). Nothing is fetched from
the network while building: no intersphinx, no linkcheck.
"""

from __future__ import annotations

import sys
from pathlib import Path

import socecon_geo

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "socecon_geo"
author = "the socecon_geo contributors"
copyright = "2026, the socecon_geo contributors"
version = release = socecon_geo.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "socecon_api",
]

root_doc = "index"
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]

# MyST: anchors for the "page.md#heading" links between pages; ::: fences for
# directives, so that tests/test_docs.py (which runs the ``` blocks) never sees them.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]

# The reference: numpydoc renders the docstrings; autosummary only draws the tables at
# the top of each layer (the entries themselves are on the same page).
autosummary_generate = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"socecon_geo {release}"
html_theme_options = {
    "description": "Map the social economy",
    "fixed_sidebar": True,
    "page_width": "1180px",
    "sidebar_width": "230px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path: list[str] = []
html_show_sourcelink = False

"""The interactive map of the analysis.

``render_map`` draws it on one Folium map, ``save_map`` writes it; see ``docs/maps.md``.
"""

from __future__ import annotations

from socecon_geo.maps._escape import escape_html, script_json
from socecon_geo.maps._render import (
    BASEMAP,
    DEFAULT_MAX_MARKERS,
    DOMAIN_LABELS,
    LAYER_NAMES,
    MAIN_DOMAINS,
    NO_SHADING,
    render_map,
)
from socecon_geo.maps._save import ASSET_FILES, save_map

__all__ = [
    "ASSET_FILES",
    "BASEMAP",
    "DEFAULT_MAX_MARKERS",
    "DOMAIN_LABELS",
    "LAYER_NAMES",
    "MAIN_DOMAINS",
    "NO_SHADING",
    "escape_html",
    "render_map",
    "save_map",
    "script_json",
]

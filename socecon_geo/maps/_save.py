"""``save_map``: write a map's HTML, with the Leaflet files linked or written in."""

from __future__ import annotations

import base64
import mimetypes
import os
import re
from pathlib import Path
from typing import Any

import folium

from socecon_geo._atomic import write_atomic
from socecon_geo._errors import InputError

__all__ = ["ASSET_FILES", "save_map"]

_LINKED = re.compile(
    r'<script src="(?P<js>https?://[^"]+)"></script>'
    r'|<link rel="stylesheet" href="(?P<css>https?://[^"]+)"/>'
)
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|https?:|#)([^'\")]+)\1\)")

ASSET_FILES: tuple[str, ...] = (
    "leaflet.js",
    "leaflet.css",
    "leaflet.markercluster.js",
    "MarkerCluster.css",
    "MarkerCluster.Default.css",
    "Control.FullScreen.js",
    "Control.FullScreen.css",
    "icon-fullscreen.svg",
)
"""The files ``save_map(..., assets=)`` can inline (the ones the map links to)."""

_ASSETS_HINT = (
    "npm pack leaflet@1.9.3 leaflet.markercluster@1.1.0 leaflet.fullscreen@3.0.0 and copy "
    "the files out of each package's dist/ (or run .ci/map-assets DIR)"
)


def _local_asset(folder: Path, url: str) -> Path | None:
    name = url.rsplit("/", 1)[-1]
    for candidate in (name, name.replace(".min.", ".")):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _inline_css(text: str, folder: Path) -> str:
    def data_uri(match: re.Match[str]) -> str:
        file = (folder / match.group(2)).resolve()
        if not file.is_file() or folder.resolve() not in file.parents:
            return match.group(0)
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return f'url("data:{kind};base64,{base64.b64encode(file.read_bytes()).decode()}")'

    return _CSS_URL.sub(data_uri, text).replace("</style", "<\\/style")


def _inline_assets(html: str, folder: Path) -> str:
    urls = [m.group("js") or m.group("css") for m in _LINKED.finditer(html)]
    missing = sorted({u.rsplit("/", 1)[-1] for u in urls if _local_asset(folder, u) is None})
    if missing:
        raise InputError(
            f"save_map: the assets folder {str(folder)!r} lacks {', '.join(missing)}; "
            f"get them with {_ASSETS_HINT}"
        )

    def inline(match: re.Match[str]) -> str:
        file = _local_asset(folder, match.group("js") or match.group("css"))
        assert file is not None
        text = file.read_text(encoding="utf-8")
        if match.group("js"):
            return "<script>" + text.replace("</script", "<\\/script") + "</script>"
        return "<style>" + _inline_css(text, file.parent) + "</style>"

    return _LINKED.sub(inline, html)


_HEX_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])")


def _element_ids(root: Any) -> set[str]:
    """Return the random ids of every element of a rendered folium/branca tree."""
    ids: set[str] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        element_id = getattr(element, "_id", None)
        if isinstance(element_id, str):
            ids.add(element_id)
        stack.extend(getattr(element, "_children", {}).values())
    return ids


def numbered_ids(html: str, ids: set[str]) -> str:
    """Replace the elements' random ids with numbers, in order of appearance.

    folium names each element ``<kind>_<32 random hex digits>``; numbering those ids
    (and only those: a 32-digit hex string in the data is left as it is) makes the same
    map give the same page, byte for byte.
    """
    numbers: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        found = match.group(0)
        if found not in ids:
            return found
        return numbers.setdefault(found, f"{len(numbers) + 1:032d}")

    return _HEX_ID.sub(number, html)


def save_map(
    fmap: folium.Map,
    path: str | os.PathLike[str],
    *,
    assets: str | os.PathLike[str] | None = None,
) -> Path:
    """Write a map's HTML (UTF-8) to a temporary file beside ``path``, then rename it.

    folium's random element ids are numbered in order (:func:`numbered_ids`), so the
    same map always gives the same file.

    Parameters
    ----------
    fmap : folium.Map
    path : str or path-like
        The HTML file to write; its folder must exist.
    assets : str or path-like, optional
        A folder holding the Leaflet files the page links to (:data:`ASSET_FILES`:
        Leaflet 1.9.3, Leaflet.markercluster 1.1.0, leaflet.fullscreen 3.0.0). They are
        then written into the page itself, so that it needs no network at all (with
        ``tiles=None``). Without it the page loads them from their CDNs.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(fmap, folium.Map):
        raise InputError(f"save_map: expected a folium.Map, not {type(fmap).__name__}")
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(
            f"save_map: the folder {str(target.parent)!r} does not exist; create it first"
        )
    if assets is not None and not Path(assets).is_dir():
        raise InputError(
            f"save_map: the assets folder {str(assets)!r} does not exist; fetch the Leaflet "
            f"files into it with {_ASSETS_HINT}"
        )
    root = fmap.get_root()
    html = root.render()
    if assets is not None:
        html = _inline_assets(html, Path(assets))
    html = numbered_ids(html, _element_ids(root))
    return write_atomic(target, lambda p: p.write_text(html, encoding="utf-8"))

"""Display copies of the analysis frames: simplified, in degrees, rounded, with HTML.

Nothing here changes a frame it is given: geometries are simplified and rounded on
copies, for display only. Every text from the data passes through
:func:`~socecon_geo.maps._escape.escape_html` before it is put in a tooltip or popup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from socecon_geo._schema import ORGANISATION_TYPES
from socecon_geo.maps._escape import display_text, escape_html

__all__ = [
    "DECILE_COLOURS",
    "TYPE_COLOURS",
    "TYPE_LABELS",
    "area_features",
    "display_geometries",
    "grouped_point_data",
    "html_table",
    "point_data",
]

DECILE_COLOURS: tuple[str, ...] = (
    "#00224e",
    "#123570",
    "#3b496c",
    "#575d6d",
    "#707173",
    "#8a8678",
    "#a59c74",
    "#c3b369",
    "#e1cc55",
    "#fee838",
)
"""Cividis in ten classes, decile 1 (most deprived) darkest: monotone in lightness, so
it reads in greyscale and for the common colour-vision deficiencies."""

TYPE_COLOURS: dict[str, str] = {
    "charity": "#0072b2",
    "charitable_incorporated_organisation": "#56b4e9",
    "community_interest_company": "#009e73",
    "co_operative": "#e69f00",
    "community_benefit_society": "#d55e00",
    "company_limited_by_guarantee": "#cc79a7",
    "social_enterprise": "#f0e442",
    "other": "#999999",
}
"""Organisation types in the Okabe–Ito colour-blind-safe palette (grey for other)."""

assert tuple(TYPE_COLOURS) == ORGANISATION_TYPES

TYPE_LABELS: dict[str, str] = {
    "charity": "charity",
    "charitable_incorporated_organisation": "charitable incorporated organisation (CIO)",
    "community_interest_company": "community interest company (CIC)",
    "co_operative": "co-operative",
    "community_benefit_society": "community benefit society",
    "company_limited_by_guarantee": "company limited by guarantee",
    "social_enterprise": "social enterprise",
    "other": "other or not known",
}
"""How each organisation type is written on the map (legend and popups)."""

assert tuple(TYPE_LABELS) == ORGANISATION_TYPES

SIMPLIFY_M = 15.0
"""Tolerance in metres of the display simplification of area outlines."""


def display_geometries(frame: gpd.GeoDataFrame, *, simplify_m: float = SIMPLIFY_M) -> np.ndarray:
    """Return the frame's geometries simplified, in EPSG:4326, rounded to 6 decimals."""
    geoms = frame.geometry
    if geoms.crs is not None and geoms.crs.is_projected:
        geoms = geoms.simplify(simplify_m, preserve_topology=True)
    elif geoms.crs is None:
        return np.asarray(geoms.to_numpy())
    degrees = geoms.to_crs(4326).to_numpy()
    return shapely.transform(degrees, lambda xy: np.round(xy, 6))


def html_table(title: str | None, rows: Sequence[tuple[str, Any]]) -> str:
    """Return an escaped HTML table of (label, value) rows; rows without a value are left out."""
    body = "".join(
        f"<tr><th>{escape_html(label)}</th><td>{escape_html(value)}</td></tr>"
        for label, value in rows
        if display_text(value) != ""
    )
    head = f"<strong>{escape_html(title)}</strong>" if title else ""
    return f'<div class="socecon-popup">{head}<table>{body}</table></div>'


def area_features(
    frame: gpd.GeoDataFrame,
    *,
    styles: Sequence[dict[str, Any]],
    tooltips: Sequence[str | None] | None = None,
    popups: Sequence[str | None] | None = None,
    labels: Sequence[str | None] | None = None,
) -> list[dict[str, Any]]:
    """GeoJSON features of a frame's display geometries with style and escaped HTML."""
    geoms = display_geometries(frame)
    n = len(frame)
    features = []
    for i in range(n):
        geom = geoms[i]
        if geom is None or geom.is_empty:
            continue
        props: dict[str, Any] = {"_style": styles[i]}
        if tooltips is not None and tooltips[i]:
            props["_tooltip"] = tooltips[i]
        if popups is not None and popups[i]:
            props["_popup"] = popups[i]
        if labels is not None and labels[i]:
            props["_label"] = escape_html(labels[i])
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": props})
    return features


def _number(value: Any, digits: int = 1) -> str:
    if display_text(value) == "":
        return ""
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return display_text(value)


def fmt(value: Any, digits: int = 1) -> str:
    """Format a number with thousands separators and ``digits`` decimals; ``""`` when missing."""
    return _number(value, digits)


POPUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("type", "org_type"),
    ("sector", "sector"),
    ("postcode", "postcode"),
    ("geocode status", "geocode_status"),
    ("position", "position_quality"),
    ("ward", "ward_name"),
    ("authority", "lad_name"),
    ("website (not a link)", "website"),
)


def _position_text(status: Any, quality: Any) -> str:
    if display_text(status) == "sector_centroid":
        return "approximate: postcode sector centroid"
    q = display_text(quality)
    if q == "":
        return ""
    return f"Code-Point Open quality {q}" + (" (address-level)" if q == "10" else "")


def point_data(points: gpd.GeoDataFrame) -> tuple[dict[str, Any], int]:
    """Return the located organisations as column arrays, and how many have no location.

    The arrays feed :class:`~socecon_geo.maps._elements.PointLayer`.
    """
    geoms = points.geometry
    located = ~(geoms.isna() | geoms.is_empty).to_numpy()
    shown = points.loc[located]
    degrees = shown.geometry.to_crs(4326) if shown.crs is not None else shown.geometry
    lat = np.round(degrees.y.to_numpy(), 6).tolist()
    lon = np.round(degrees.x.to_numpy(), 6).tolist()
    types = list(TYPE_COLOURS)
    if "org_type" in shown.columns:
        org_type = shown["org_type"].astype("string").fillna("other")
        index = {t: i for i, t in enumerate(types)}
        type_idx = [index.get(t, index["other"]) for t in org_type]
    else:
        type_idx = [types.index("other")] * len(shown)
    names = (
        [display_text(v) for v in shown["name"]] if "name" in shown.columns else [""] * len(shown)
    )
    fields: list[str] = []
    values: list[list[str | None]] = []
    for label, column in POPUP_FIELDS:
        if column == "position_quality":
            if "position_quality" not in shown.columns and "geocode_status" not in shown.columns:
                continue
            status = shown.get("geocode_status", pd.Series([None] * len(shown), index=shown.index))
            quality = shown.get(
                "position_quality", pd.Series([None] * len(shown), index=shown.index)
            )
            col = [_position_text(s, q) or None for s, q in zip(status, quality, strict=True)]
        elif column == "website" and "website" not in shown.columns:
            if "src_Website" not in shown.columns:
                continue
            col = [display_text(v) or None for v in shown["src_Website"]]
        elif column == "org_type" and column in shown.columns:
            col = [
                TYPE_LABELS.get(display_text(v), display_text(v).replace("_", " ")) or None
                for v in shown[column]
            ]
        elif column in shown.columns:
            col = [display_text(v) or None for v in shown[column]]
        else:
            continue
        fields.append(label)
        values.append(col)
    data = {
        "lat": lat,
        "lon": lon,
        "type": type_idx,
        "colours": [TYPE_COLOURS[t] for t in types],
        "name": names,
        "fields": fields,
        "values": values,
    }
    return data, int((~located).sum())


def grouped_point_data(
    points: gpd.GeoDataFrame, cell_m: float
) -> tuple[dict[str, Any], int, list[int]]:
    """Return the located organisations counted on hexagons of ``cell_m`` metres.

    The same column arrays as :func:`point_data`, one entry per hexagon holding
    organisations: at the mean position of its organisations, coloured by its most
    common type (the first in :data:`TYPE_COLOURS` order on a tie), named by its count,
    with the count of each type in the popup. Also returns how many organisations have
    no location and how many of each type (in :data:`TYPE_COLOURS` order) were counted.
    """
    from socecon_geo._hexagons import hexagon_of

    geoms = points.geometry
    located = ~(geoms.isna() | geoms.is_empty).to_numpy()
    shown = points.loc[located]
    metres = shown.geometry
    if shown.crs is not None and not shown.crs.is_projected:
        metres = metres.to_crs(27700)
    x, y = metres.x.to_numpy(), metres.y.to_numpy()
    q, r = hexagon_of(x, y, cell_m)
    cells, cell = np.unique(np.stack([q, r], axis=1), axis=0, return_inverse=True)
    cell = np.asarray(cell).ravel()
    types = list(TYPE_COLOURS)
    if "org_type" in shown.columns:
        index = {t: i for i, t in enumerate(types)}
        names = shown["org_type"].astype("string").fillna("other").to_numpy(dtype=object)
        kind = np.array([index.get(t, index["other"]) for t in names], dtype="int64")
    else:
        kind = np.full(len(shown), types.index("other"), dtype="int64")
    counts = np.zeros((len(cells), len(types)), dtype="int64")
    np.add.at(counts, (cell, kind), 1)
    total = counts.sum(axis=1)
    mean_x = np.bincount(cell, weights=x, minlength=len(cells)) / total
    mean_y = np.bincount(cell, weights=y, minlength=len(cells)) / total
    centre = gpd.GeoSeries(gpd.points_from_xy(mean_x, mean_y), crs=metres.crs)
    degrees = centre.to_crs(4326) if metres.crs is not None else centre
    by_type = [
        ", ".join(
            f"{TYPE_LABELS[types[k]]} {int(row[k]):,}"
            for k in np.argsort(-row, kind="stable")
            if row[k]
        )
        for row in counts
    ]
    data = {
        "lat": np.round(degrees.y.to_numpy(), 6).tolist(),
        "lon": np.round(degrees.x.to_numpy(), 6).tolist(),
        "type": counts.argmax(axis=1).tolist(),
        "colours": [TYPE_COLOURS[t] for t in types],
        "name": [f"{int(n):,} organisation{'s' if n != 1 else ''}" for n in total],
        "fields": ["by type", "area"],
        "values": [by_type, [f"a hexagon {cell_m:,.0f} m across"] * len(cells)],
    }
    return data, int((~located).sum()), counts.sum(axis=0).tolist()

"""CRS and geometry checks shared by every step.

Private to socecon_geo. Where points and area layers enter a step, or two frames meet,
the step calls these checks instead of keeping its own copy, so one kind of mistake gets
one message everywhere:

* :func:`check_geodataframe`: the value is a GeoDataFrame;
* :func:`check_projected`: a CRS is set and projected (metres, not degrees);
* :func:`check_same_crs`: two frames that meet share a CRS; the message names both and
  the fix, ``.to_crs(27700)``;
* :func:`check_bng_extent`: coordinates labelled EPSG:27700 lie within the British
  National Grid (x 0–700,000 m, y 0–1,300,000 m); WGS84 degrees labelled EPSG:27700 are
  named as such, with the fix ``.set_crs(4326, allow_override=True).to_crs(27700)``;
* :func:`check_lonlat_range`: coordinates labelled with a geographic CRS are degrees;
* :func:`has_geometry`: which geometries are neither missing nor empty.
"""

from __future__ import annotations

from typing import Any, Final

import geopandas as gpd
import numpy as np
import shapely

from socecon_geo._errors import CRSMismatchError, InputError

__all__ = [
    "BNG_EXTENT",
    "check_bng_extent",
    "check_geodataframe",
    "check_lonlat_range",
    "check_projected",
    "check_same_crs",
    "crs_text",
    "has_geometry",
]

BNG_EXTENT: Final[tuple[float, float, float, float]] = (0.0, 0.0, 700_000.0, 1_300_000.0)
"""(xmin, ymin, xmax, ymax) of the British National Grid (EPSG:27700), in metres."""


def has_geometry(geometry: gpd.GeoSeries) -> np.ndarray:
    """Bool array: the geometry is neither missing nor empty.

    (``GeoSeries.notna`` warns when the series holds empty geometries.)
    """
    shapes = np.asarray(geometry.to_numpy(), dtype=object)
    return ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))


def crs_text(crs: Any) -> str:
    """Return a CRS as people write it: ``EPSG:27700``, its name, or ``no CRS``."""
    if crs is None:
        return "no CRS"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else str(crs.name)


def check_geodataframe(value: Any, what: str, expected: str) -> None:
    """Raise InputError unless ``value`` is a GeoDataFrame.

    ``what`` names the argument (``"areas"``), ``expected`` what it should hold
    (``"area polygons"``).
    """
    if not isinstance(value, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame of {expected}, not {type(value).__name__}."
        raise InputError(msg)


def check_projected(crs: Any, what: str) -> None:
    """Raise CRSMismatchError unless ``crs`` is set and projected."""
    if crs is None:
        msg = (
            f"{what} has no CRS. Set the one its coordinates are in, e.g. "
            "`.set_crs(27700)` for British National Grid eastings and northings."
        )
        raise CRSMismatchError(msg)
    if crs.is_geographic:
        msg = (
            f"{what} is in a geographic CRS ({crs_text(crs)}, degrees); areas and "
            "points must be in British National Grid metres. Reproject it first with "
            "`.to_crs(27700)`."
        )
        raise CRSMismatchError(msg)


def check_same_crs(crs: Any, what: str, other_crs: Any, other_what: str) -> None:
    """Raise CRSMismatchError when two frames that meet have different CRSs."""
    if other_crs is not None and crs != other_crs:
        msg = (
            f"{what} is in {crs_text(crs)} and {other_what} in {crs_text(other_crs)}; "
            "a spatial join between them would match nothing. Reproject both with "
            "`.to_crs(27700)`."
        )
        raise CRSMismatchError(msg)


def _finite_bounds(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray | None:
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if len(geometry) == 0:
        return None
    bounds = np.asarray(geometry.total_bounds, dtype=float)
    return bounds if np.all(np.isfinite(bounds)) else None


def check_bng_extent(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    """Raise InputError when coordinates labelled EPSG:27700 lie outside the grid.

    Frames in any other CRS, and frames without a usable geometry, pass unchecked.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> wrong = gpd.GeoDataFrame(geometry=[Point(-1.9, 52.48)], crs=27700)
    >>> check_bng_extent(wrong, "points")
    Traceback (most recent call last):
    ...
    socecon_geo._errors.InputError: points is labelled EPSG:27700 (British National Grid ...
    """
    crs = frame.crs
    if crs is None or crs.to_epsg() != 27700:
        return
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name not in frame.columns:
        return
    bounds = _finite_bounds(frame)
    if bounds is None:
        return
    xmin, ymin, xmax, ymax = bounds
    gxmin, gymin, gxmax, gymax = BNG_EXTENT
    if xmin >= gxmin and ymin >= gymin and xmax <= gxmax and ymax <= gymax:
        return
    if xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90:
        msg = (
            f"{what} is labelled EPSG:27700 (British National Grid metres) but its "
            f"coordinates (x {xmin:.4g} to {xmax:.4g}, y {ymin:.4g} to {ymax:.4g}) are "
            "longitudes and latitudes in degrees (WGS84). Label them as WGS84 and "
            "reproject: `.set_crs(4326, allow_override=True).to_crs(27700)`."
        )
    else:
        msg = (
            f"{what} is labelled EPSG:27700 (British National Grid) but its coordinates "
            f"reach x {xmin:,.0f} to {xmax:,.0f}, y {ymin:,.0f} to {ymax:,.0f}, outside the "
            "grid (x 0 to 700,000, y 0 to 1,300,000 metres). Set the CRS they are really "
            "in with `.set_crs(<epsg>, allow_override=True)`, then `.to_crs(27700)`."
        )
    raise InputError(msg)


def check_lonlat_range(frame: gpd.GeoDataFrame, label: str) -> None:
    """Refuse coordinates that cannot be longitudes/latitudes under a geographic CRS."""
    if frame.crs is None or not frame.crs.is_geographic:
        return
    bounds = _finite_bounds(frame)
    if bounds is None:
        return
    xmin, ymin, xmax, ymax = bounds
    if xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90:
        return
    msg = (
        f"{label} says its coordinates are longitudes/latitudes ({frame.crs.to_string()}) "
        f"but they reach x = {xmax:,.0f}, y = {ymax:,.0f}, far outside ±180°/±90°: they "
        "look like projected metres (British National Grid?) under a wrong or missing CRS "
        "(a GeoJSON file without a 'crs' member is read as EPSG:4326). Set the right CRS "
        "first, e.g. read_boundaries(gpd.read_file(path).set_crs(27700, "
        "allow_override=True))."
    )
    raise InputError(msg)

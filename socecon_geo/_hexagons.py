"""Regular hexagons in metres: the cells of :func:`socecon_geo.hotspot_grid`.

Pointy-top hexagons of width ``cell_m`` across their flat sides, addressed by axial
coordinates ``(q, r)`` from the CRS origin: the centre of ``(q, r)`` is
``(cell_m * (q + r / 2), 1.5 * R * r)`` with ``R = cell_m / sqrt(3)`` the distance from
the centre to a corner. One cell size gives the same cells everywhere.

Examples
--------
>>> import numpy as np
>>> q, r = hexagon_of(np.array([0.0, 1_000.0]), np.array([0.0, 0.0]), 1_000.0)
>>> q.tolist(), r.tolist()
([0, 1], [0, 0])
>>> round(float(hexagon_polygons(q, r, 1_000.0)[0].area))
866025
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely

__all__ = ["hexagon_of", "hexagon_polygons", "hexagons_covering"]


def hexagons_covering(bounds: Iterable[float], cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates (q, r) of pointy-top hexagons covering the bounds."""
    xmin, ymin, xmax, ymax = bounds
    row = 1.5 * cell_m / math.sqrt(3)
    rows = np.arange(math.floor(ymin / row) - 1, math.ceil(ymax / row) + 2)
    q_lo = np.floor(xmin / cell_m - rows / 2).astype("int64") - 1
    width = math.ceil((xmax - xmin) / cell_m) + 3
    q = (q_lo[:, None] + np.arange(width)[None, :]).ravel()
    r = np.repeat(rows, width)
    return q, r


def hexagon_polygons(q: np.ndarray, r: np.ndarray, cell_m: float) -> np.ndarray:
    """Pointy-top hexagons of axial coordinates (q, r).

    Vertices are computed on an integer lattice (x in half widths, y in half radii), so
    neighbouring hexagons share their vertices exactly and contiguity finds them.
    """
    radius = cell_m / math.sqrt(3)
    cx = 2 * np.asarray(q, dtype="int64") + np.asarray(r, dtype="int64")  # half widths
    cy = 3 * np.asarray(r, dtype="int64")  # half radii
    dx = np.array([1, 0, -1, -1, 0, 1])
    dy = np.array([1, 2, 1, -1, -2, -1])
    xs = (cx[:, None] + dx[None, :]) * (cell_m / 2)
    ys = (cy[:, None] + dy[None, :]) * (radius / 2)
    return np.asarray(shapely.polygons(np.stack([xs, ys], axis=-1)), dtype=object)


def hexagon_of(x: np.ndarray, y: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates of the hexagon holding each point (cube rounding)."""
    radius = cell_m / math.sqrt(3)
    rf = y / (1.5 * radius)
    qf = x / cell_m - rf / 2
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype("int64"), r.astype("int64")

"""What every geocoder shares: result columns, statuses, table layout, the protocol.

Also the coordinate helpers (points on the British National Grid, Irish Grid and WGS84
conversions) used by the table builders and the geocoders.
"""

from __future__ import annotations

from functools import cache
from typing import Final, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import shapely

from socecon_geo._schema import GEOCODE_STATUSES

__all__ = [
    "CRS",
    "GEOCODE_STATUSES",
    "RESULT_COLUMNS",
    "TABLE_COLUMNS",
    "Geocoder",
]


CRS: Final[str] = "EPSG:27700"


TABLE_COLUMNS: Final[tuple[str, ...]] = (
    "postcode",
    "easting",
    "northing",
    "quality",
    "lad_code",
    "ward_code",
    "lsoa11_code",
    "lsoa21_code",
    "terminated",
)
"""Columns of a postcode table. Only ``postcode``, ``easting`` and ``northing`` are
required; the others are filled with NA (``terminated``: False) when absent."""


_CODE_COLUMNS: Final[tuple[str, ...]] = ("lad_code", "ward_code", "lsoa11_code", "lsoa21_code")


RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "geocode_status",
    "geocode_method",
    "easting",
    "northing",
    "position_quality",
    *_CODE_COLUMNS,
)
"""Columns of the frame a :class:`Geocoder` returns from ``lookup``."""


_LOOKUP_STATUSES: Final[frozenset[str]] = frozenset(
    {"matched", "sector_centroid", "terminated", "not_found", "outside_coverage"}
)


_LOOKUP_CODES: Final[np.ndarray] = np.array(
    [GEOCODE_STATUSES.index(status) for status in sorted(_LOOKUP_STATUSES)]
)


_BUNDLED_METHOD: Final[str] = "offline:code-point-open-2025"


_SECTOR_METHOD: Final[str] = "offline:sector-centroid"


_SECTOR_QUALITY: Final[int] = 60


_NO_POINT_QUALITY: Final[int] = 90


_TABLE_FORMAT_VERSION: Final[int] = 2  # 2: Northern Ireland points in EPSG:27700


# Northern Ireland (BT) grid references in the ONSPD, the NSPL and postcodes.io are on the
# Irish Grid (TM75), not the British National Grid.
_IRISH_GRID: Final[str] = "EPSG:29903"


_WGS84: Final[str] = "EPSG:4326"


@runtime_checkable
class Geocoder(Protocol):
    """What :func:`geocode` needs from a geocoder.

    A geocoder has a ``name`` (used as ``geocode_method`` when it has nothing more
    specific to say) and a ``lookup`` method.

    ``lookup(postcodes)`` receives a :class:`pandas.Index` of distinct canonical
    postcodes (``"B15 2TT"``) and returns a DataFrame indexed by postcode with the
    :data:`RESULT_COLUMNS`:

    - ``geocode_status``: ``matched``, ``sector_centroid``, ``terminated``,
      ``not_found`` or ``outside_coverage``;
    - ``geocode_method``: where the answer came from;
    - ``easting``, ``northing``: EPSG:27700 metres, NaN where there is no point;
    - ``position_quality``: Code-Point Open positional quality (10 ... 90) or NA;
    - ``lad_code``, ``ward_code``, ``lsoa11_code``, ``lsoa21_code``: codes or NA.

    It may add a ``geometry`` column of points in EPSG:27700 (made once and reused, as
    the offline geocoder does); otherwise points are made from ``easting`` and
    ``northing``. Postcodes missing from the returned frame count as ``not_found``;
    missing optional columns are NA.
    """

    name: str

    def lookup(self, postcodes: pd.Index) -> pd.DataFrame:
        """Return one row of :data:`RESULT_COLUMNS` per postcode, indexed by postcode."""
        ...


@cache
def _to_bng(source: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, CRS, always_xy=True)


def _northern_ireland_to_bng(
    easting: np.ndarray,
    northing: np.ndarray,
    longitude: np.ndarray | None = None,
    latitude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points of Northern Ireland postcodes in EPSG:27700.

    From their WGS84 longitude/latitude where given (the ONSPD writes 99.999999 for
    "none"), else from their Irish Grid easting/northing; NaN where neither is known.
    """
    easting = np.asarray(easting, dtype="float64")
    northing = np.asarray(northing, dtype="float64")
    out_e = np.full(len(easting), np.nan)
    out_n = np.full(len(easting), np.nan)
    by_degrees = np.zeros(len(easting), dtype=bool)
    if longitude is not None and latitude is not None:
        lon = np.asarray(longitude, dtype="float64")
        lat = np.asarray(latitude, dtype="float64")
        by_degrees = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (lat != 0)
        if by_degrees.any():
            out_e[by_degrees], out_n[by_degrees] = _to_bng(_WGS84).transform(
                lon[by_degrees], lat[by_degrees]
            )
    by_grid = ~by_degrees & np.isfinite(easting) & np.isfinite(northing)
    by_grid &= (easting != 0) | (northing != 0)
    if by_grid.any():
        out_e[by_grid], out_n[by_grid] = _to_bng(_IRISH_GRID).transform(
            easting[by_grid], northing[by_grid]
        )
    return out_e, out_n


def _arrow_strings(values: pd.Index) -> pa.Array:
    """Return the values of a string index as an Arrow array (no copy where possible)."""
    arrow = pa.array(values.array) if values.dtype == "str" else None
    if arrow is None or not (
        pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)
    ):
        arrow = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def _index_in(values: pa.Array, lookup: pa.Array) -> np.ndarray:
    """Position of each value in ``lookup`` (-1 where absent)."""
    if len(lookup) == 0 or len(values) == 0:
        return np.full(len(values), -1, dtype=np.intp)
    if values.type != lookup.type:
        values = values.cast(lookup.type)
    found = pc.index_in(values, value_set=lookup)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.intp)


def _as_codes(values: pd.Series | None, n: int) -> pd.Categorical:
    """Area codes as a categorical of stripped strings; blanks and missing become NA."""
    if values is None:
        return pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype="str"))
    text = pd.Series(values.to_numpy(dtype=object, na_value=None), dtype="str").str.strip()
    text = text.where(text != "")
    return pd.Categorical(text)


def _points(easting: np.ndarray, northing: np.ndarray) -> gpd.array.GeometryArray:
    """Points in EPSG:27700; None where a coordinate is missing."""
    located = np.isfinite(easting) & np.isfinite(northing)
    points = np.full(len(easting), None, dtype=object)
    points[located] = shapely.points(easting[located], northing[located])
    return gpd.array.from_shapely(points, crs=CRS)

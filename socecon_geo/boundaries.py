"""Official ONS boundaries: read any ONS boundary file, or download from ONS feature services.

The bundled West Midlands layers live in :mod:`socecon_geo.bundle`; this module is for the
official files users bring (GeoJSON, GeoPackage, shapefile, zipped shapefile, GeoParquet)
and for downloads from the ONS Open Geography Portal.

Standard columns
----------------
ONS code and name columns are recognised in any letter case, with or without the year
(``LSOA21CD``, ``lsoa21cd``, ``WD24CD``, ``WD22NM``, ``LAD24CD``, ``LADCD``,
``ltla24_code``, ...) and copied to the project's standard columns, keeping the originals:

=============== =============================================
standard         recognised originals
=============== =============================================
``lsoa21_code``  ``LSOA21CD``
``lsoa21_name``  ``LSOA21NM``
``lsoa11_code``  ``LSOA11CD``
``lsoa11_name``  ``LSOA11NM``
``msoa21_code``  ``MSOA21CD``
``msoa21_name``  ``MSOA21NM``
``ward_code``    ``WDyyCD``, ``WDCD``, ``WARDyyCD``
``ward_name``    ``WDyyNM``, ``WDNM``, ``WARDyyNM``
``lad_code``     ``LADyyCD``, ``LADCD``, ``LTLAyyCD``
``lad_name``     ``LADyyNM``, ``LADNM``, ``LTLAyyNM``
=============== =============================================

Where a file has several vintages of one kind (``LAD22CD`` and ``LAD24CD``), the latest
is used. The area level of a file is that of its finest code column (LSOA 2021, then LSOA
2011, MSOA 2021, ward, authority).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo import datasets
from socecon_geo._checks import check_lonlat_range
from socecon_geo._errors import (
    DataUnavailableError,
    DownloadError,
    InputError,
    SocEconGeoWarning,
    UnknownAreaError,
)
from socecon_geo._headings import find_area_columns
from socecon_geo._http import (
    NO_CHECKSUM,
    adopt_cached_file,
    cache_dir,
    cached_file_problem,
    discard_cached_file,
    remove_stale_partials,
    request_json,
    store_cached_file,
)
from socecon_geo._tables import clean_text
from socecon_geo.provenance import PROVENANCE_KEY, Provenance, get_provenance, with_provenance

__all__ = [
    "ENGLAND_CODE",
    "LEVELS",
    "Places",
    "expand_places",
    "fetch_boundaries",
    "read_boundaries",
]

Level = Literal["lsoa21", "lsoa11", "msoa21", "ward", "lad"]
FetchLevel = Literal["lsoa21", "lsoa11", "msoa21", "ward", "lad"]

LEVELS: tuple[str, ...] = ("lsoa21", "lsoa11", "msoa21", "ward", "lad")
"""Area levels :func:`read_boundaries` recognises, finest first."""

TARGET_CRS = "EPSG:27700"
_MAX_PAGES = 500

# the standard columns read_boundaries adds (see socecon_geo._headings.AREA_HEADINGS)
_STANDARD_COLUMNS: tuple[str, ...] = (
    "lsoa21_code",
    "lsoa21_name",
    "lsoa11_code",
    "lsoa11_name",
    "msoa21_code",
    "msoa21_name",
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
)
_LEVEL_CODE: dict[str, str] = {
    "lsoa21": "lsoa21_code",
    "lsoa11": "lsoa11_code",
    "msoa21": "msoa21_code",
    "ward": "ward_code",
    "lad": "lad_code",
}
# Small areas whose layers carry no authority field: fetched per authority by name.
_SMALL_AREA_NAMES: dict[str, str] = {
    "lsoa21": r"\d{3}[A-Z]",
    "lsoa11": r"\d{3}[A-Z]",
    "msoa21": r"\d{3}",
}
_CODE_RE = re.compile(r"^[EWSN]\d{8}$")


_LEVEL_TITLES: dict[str, str] = {
    "lsoa21": "LSOA 2021",
    "lsoa11": "LSOA 2011",
    "msoa21": "MSOA 2021",
    "ward": "electoral ward",
    "lad": "local authority district",
}


def _with_url(record: Provenance, url: str | None) -> Provenance:
    return dataclasses.replace(record, url=url) if url else record


def _recognise_columns(columns: Iterable[object]) -> dict[str, tuple[str, int | None]]:
    """Map each standard column to (original column, vintage year) for the best match."""
    return find_area_columns(columns, _STANDARD_COLUMNS)


_ZIP_MEMBERS: frozenset[str] = frozenset({".shp", ".gpkg", ".geojson", ".json", ".fgb", ".gml"})


def _zip_source(path: Path, layer: str | int | None) -> tuple[str, str | int | None]:
    """Return the GDAL address of the boundary file inside a zip, and the layer to read.

    ONS and other publishers zip shapefiles (or a File Geodatabase) at the top of the
    archive or inside a folder; both are found. Several boundary files in one archive
    must be told apart with ``layer`` (the file name without its extension).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"cannot open '{path.name}' as a zip archive ({exc}); check the download."
        raise InputError(msg) from None
    members: list[str] = []
    for name in names:
        if name.startswith("__MACOSX/"):
            continue
        folder = re.match(r"^(.*?\.gdb)/", name, flags=re.IGNORECASE)  # File Geodatabase
        if folder:
            name = folder.group(1)
        elif name.endswith("/") or PurePosixPath(name).suffix.lower() not in _ZIP_MEMBERS:
            continue
        if name not in members:
            members.append(name)
    if not members:  # another format GDAL may know; it says so if not
        return str(path), layer
    root = f"/vsizip/{path.resolve().as_posix()}"
    if isinstance(layer, str):
        chosen = [m for m in members if layer in (m, PurePosixPath(m).stem)]
        if len(chosen) == 1:
            return f"{root}/{chosen[0]}", None
    if len(members) > 1:
        stems = ", ".join(repr(PurePosixPath(m).stem) for m in members)
        asked = f"layer={layer!r} is none of them; " if layer is not None else ""
        msg = (
            f"'{path.name}' holds {len(members)} boundary files ({stems}); {asked}choose one "
            "with read_boundaries(path, layer='...')."
        )
        raise InputError(msg)
    return f"{root}/{members[0]}", layer


def _read_geo_file(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".geoparquet"}:
            frame = gpd.read_parquet(path)
        else:
            source, layer = _zip_source(path, layer) if suffix == ".zip" else (str(path), layer)
            if layer is None:
                import pyogrio

                layers = pyogrio.list_layers(source)
                if len(layers) > 1:
                    names = ", ".join(repr(str(row[0])) for row in layers)
                    msg = (
                        f"'{path.name}' holds {len(layers)} layers ({names}); choose one "
                        "with read_boundaries(path, layer='...')."
                    )
                    raise InputError(msg)
            frame = gpd.read_file(source, layer=layer)
    except InputError:
        raise
    except Exception as exc:
        msg = (
            f"cannot read '{path.name}' as a boundary file ({type(exc).__name__}: {exc}). "
            "Pass an ONS boundary file as GeoJSON, GeoPackage, shapefile (or a zip of one) "
            "or GeoParquet."
        )
        raise InputError(msg) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        msg = (
            f"'{path.name}' has no geometry column, so it is not a boundary file; pass an "
            "ONS boundary file (GeoJSON, GeoPackage, shapefile, GeoParquet)."
        )
        raise InputError(msg)
    return frame


def _repair(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int, int]:
    """Make invalid geometries valid; return the frame, repaired and empty counts."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    invalid = ~missing & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    return frame, int(invalid.sum()), int(missing.sum())


def read_boundaries(
    path: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    level: Level | None = None,
    layer: str | int | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read an official ONS boundary file into EPSG:27700 with standard columns.

    Parameters
    ----------
    path : path-like or GeoDataFrame
        A GeoJSON, GeoPackage, shapefile (or zip of one, at the top of the archive or
        in a folder), or GeoParquet file, or an already loaded GeoDataFrame (it is not
        modified).
    level : {"lsoa21", "lsoa11", "msoa21", "ward", "lad"}, optional
        The area level the rows are. By default the finest level with a code column.
    layer : str or int, optional
        Layer to read from a multi-layer file (GeoPackage), or the file to read from a
        zip holding several (its name without extension, e.g. ``"WD_DEC_24_UK_BGC"``).
    crs : optional
        CRS to assume when the file declares none (e.g. ``4326`` for longitude/latitude,
        ``27700`` for British National Grid metres). A declared CRS is never overridden.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, every row and original column kept, plus the standard columns
        the file supports (``lsoa21_code``, ``lsoa21_name``, ``lsoa11_code``,
        ``lsoa11_name``, ``ward_code``, ``ward_name``, ``lad_code``, ``lad_name``), with
        surrounding spaces removed and codes upper-cased (also where the file already
        used a standard name). Invalid geometries are made valid. ``attrs`` records
        ``level``, ``vintage`` (year of the level's code column, e.g. 2024 for ``WD24CD``;
        None when the name carries none), ``columns`` (standard → original), ``source``,
        ``source_crs``, ``geometries_repaired``, ``empty_geometries`` and
        ``duplicate_codes``.

    Raises
    ------
    InputError
        If the file is missing or unreadable, holds several layers and ``layer`` is not
        given, has no geometry, declares no CRS (and ``crs`` is not given), declares a
        longitude/latitude CRS for coordinates that cannot be degrees, or has no
        recognised code column (or none for ``level``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame(
    ...     {"WD24CD": ["E05000001"], "WD24NM": ["Ward A"], "LAD24CD": ["E08000001"]},
    ...     geometry=[box(-1.9, 52.4, -1.8, 52.5)], crs=4326)
    >>> wards = read_boundaries(raw)
    >>> wards.attrs["level"], wards.attrs["vintage"], wards.crs.to_epsg()
    ('ward', 2024, 27700)
    >>> list(wards.columns)
    ['WD24CD', 'WD24NM', 'LAD24CD', 'geometry', 'ward_code', 'ward_name', 'lad_code']
    """
    if level is not None and level not in LEVELS:
        msg = f"level must be one of {', '.join(map(repr, LEVELS))}; got {level!r}"
        raise InputError(msg)
    known = get_provenance(path) if isinstance(path, pd.DataFrame) else ()
    if isinstance(path, gpd.GeoDataFrame):
        frame = path.copy()
        label, source = "the GeoDataFrame", "GeoDataFrame"
    elif isinstance(path, pd.DataFrame):
        msg = (
            "read_boundaries got a DataFrame without geometry; pass a GeoDataFrame or a "
            "boundary file."
        )
        raise InputError(msg)
    elif isinstance(path, (str, os.PathLike)):
        file = Path(path).expanduser()
        if not file.exists():
            msg = f"boundary file not found: '{file}'. Check the path."
            raise InputError(msg)
        frame = _read_geo_file(file, layer)
        label, source = f"'{file.name}'", str(file)
    else:
        msg = f"read_boundaries expects a path or a GeoDataFrame, got {type(path).__name__}"
        raise InputError(msg)

    found = _recognise_columns(frame.columns)
    if level is None:
        detected = next((lv for lv in LEVELS if _LEVEL_CODE[lv] in found), None)
        level = detected  # type: ignore[assignment]
        if level is None:
            shown = ", ".join(repr(str(c)) for c in frame.columns if c != frame.geometry.name)
            msg = (
                f"{label} has no recognised ONS code column (found {shown or 'no columns'}); "
                "expected one of LSOA21CD, LSOA11CD, MSOA21CD, WDyyCD (e.g. WD24CD) or "
                "LADyyCD (e.g. LAD24CD). Rename the code column to one of these, or to "
                "lsoa21_code, lsoa11_code, msoa21_code, ward_code or lad_code."
            )
            raise InputError(msg)
    elif _LEVEL_CODE[level] not in found:
        expected = {
            "lsoa21": "LSOA21CD",
            "lsoa11": "LSOA11CD",
            "msoa21": "MSOA21CD",
            "ward": "WDyyCD (e.g. WD24CD)",
            "lad": "LADyyCD (e.g. LAD24CD)",
        }[level]
        shown = ", ".join(repr(str(c)) for c in frame.columns if c != frame.geometry.name)
        msg = (
            f"{label} has no {level} code column: expected {expected} or "
            f"{_LEVEL_CODE[level]}; found {shown or 'no columns'}."
        )
        raise InputError(msg)

    source_crs = frame.crs
    if source_crs is None:
        if crs is None:
            msg = (
                f"{label} declares no coordinate reference system, so its coordinates "
                "cannot be placed. If they are longitudes/latitudes pass crs=4326, if "
                "British National Grid metres crs=27700: read_boundaries(path, crs=...)."
            )
            raise InputError(msg)
        frame = frame.set_crs(crs)
    check_lonlat_range(frame, label)
    frame = frame.to_crs(TARGET_CRS)
    frame, repaired, empty = _repair(frame)

    # copied to the standard columns (and cleaned where a standard column was given)
    for standard, (original, _) in found.items():
        frame[standard] = clean_text(frame[original], upper=standard.endswith("_code"))

    code_column = _LEVEL_CODE[level]
    codes = frame[code_column]
    duplicates = int(codes.dropna().duplicated().sum())
    frame.attrs = {
        "level": level,
        "vintage": found[code_column][1],
        "columns": {standard: original for standard, (original, _) in found.items()},
        "source": source,
        "source_crs": source_crs.to_string() if source_crs is not None else None,
        "geometries_repaired": repaired,
        "empty_geometries": empty,
        "duplicate_codes": duplicates,
        PROVENANCE_KEY: [record.to_dict() for record in known],
    }
    if not known:
        year = found[code_column][1]
        with_provenance(
            frame,
            datasets.ons_record(
                f"{level}_boundaries",
                f"ONS {_LEVEL_TITLES[level]} boundaries",
                vintage=str(year) if year else "unknown",
                source=source,
                attribution=datasets.ONS_BOUNDARY_ATTRIBUTION,
            ),
        )
    return frame


# --------------------------------------------------------------------------------------
# downloads from ONS feature services
# --------------------------------------------------------------------------------------


def _split_authorities(authorities: Iterable[str] | str | None) -> tuple[list[str], list[str]]:
    """Split authorities into ONS codes and names."""
    if authorities is None:
        return [], []
    items = [authorities] if isinstance(authorities, str) else list(authorities)
    codes: list[str] = []
    names: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if _CODE_RE.match(text.upper()):
            codes.append(text.upper())
        else:
            names.append(text)
    if not codes and not names:
        msg = "authorities is empty; pass LAD codes such as 'E08000025' or names, or None."
        raise InputError(msg)
    return list(dict.fromkeys(codes)), list(dict.fromkeys(names))


ENGLAND_CODE = "E92000001"
"""The ONS code of England (``fetch_boundaries(..., authorities="England")`` takes it too)."""


@dataclasses.dataclass(frozen=True)
class Places:
    """What ``authorities=`` asked for, with England and regions expanded.

    Attributes
    ----------
    codes, names : list of str
        Authority codes and exact ONS names (a region's authorities among the codes).
    england : bool
        Whether all England was asked for (then ``codes`` and ``names`` are empty).
    regions : list of str
        The names of the regions asked for, in the order given.
    """

    codes: list[str]
    names: list[str]
    england: bool = False
    regions: list[str] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str | None:
        """``"England"``, or the regions' names when only regions were asked for."""
        if self.england:
            return "England"
        return ", ".join(self.regions) if self.regions and not self.names else None


def expand_places(authorities: Iterable[str] | str | None) -> Places:
    """Split ``authorities`` into codes and names, expanding England and English regions.

    ``"England"`` (or ``"E92000001"``) stands for every English authority; a region's
    name (``"West Midlands"``, any letter case) or code (``"E12000005"``) for the
    authorities the bundled LAD → region table (:func:`socecon_geo.load_regions`) puts in
    it. Anything else is an authority code or exact ONS name.

    Parameters
    ----------
    authorities : str or iterable of str, or None

    Returns
    -------
    Places

    Raises
    ------
    InputError
        If nothing is given, or England is given together with other places.

    Examples
    --------
    >>> places = expand_places(["West Midlands", "Bristol, City of"])
    >>> len(places.codes), places.names, places.regions
    (30, ['Bristol, City of'], ['West Midlands'])
    >>> expand_places("england").england
    True
    """
    from socecon_geo.bundle import load_regions

    codes, names = _split_authorities(authorities)
    regions = load_regions()
    by_code = regions.groupby("region_code")["lad_code"].agg(list).to_dict()
    region_names = dict(zip(regions["region_code"], regions["region_name"], strict=True))
    by_name = {str(name).casefold(): code for code, name in region_names.items()}
    england = ENGLAND_CODE in codes or any(n.casefold() == "england" for n in names)
    if england:
        others = [c for c in codes if c != ENGLAND_CODE]
        others += [n for n in names if n.casefold() != "england"]
        if others:
            msg = (
                f"authorities: 'England' already holds every English authority; pass it "
                f"alone, not with {', '.join(map(repr, others))}."
            )
            raise InputError(msg)
        return Places([], [], england=True)
    out_codes: list[str] = []
    out_names: list[str] = []
    chosen: list[str] = []
    for code in codes:
        if code in by_code:
            chosen.append(str(region_names[code]))
            out_codes.extend(by_code[code])
        else:
            out_codes.append(code)
    for name in names:
        region = by_name.get(name.casefold())
        if region is not None:
            chosen.append(str(region_names[region]))
            out_codes.extend(by_code[region])
        else:
            out_names.append(name)
    return Places(
        list(dict.fromkeys(out_codes)),
        list(dict.fromkeys(out_names)),
        regions=list(dict.fromkeys(chosen)),
    )


def _english(frame: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Keep the English rows of an England and Wales (or UK) layer, and its attrs."""
    attrs = frame.attrs
    codes = frame[_LEVEL_CODE[level]].astype("string")
    out = frame.loc[codes.str.startswith("E").fillna(False).to_numpy(dtype=bool)]
    out = out.reset_index(drop=True)
    out.attrs = attrs
    return out


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _authority_where(
    code_field: str, name_field: str | None, codes: list[str], names: list[str]
) -> str:
    clauses = []
    if codes:
        clauses.append(f"{code_field} IN ({','.join(_quote(c) for c in codes)})")
    if names:
        if name_field is None:
            msg = "this layer has no authority name field; pass authority codes instead"
            raise InputError(msg)
        clauses.append(f"{name_field} IN ({','.join(_quote(n) for n in names)})")
    return " OR ".join(clauses) if clauses else "1=1"


def _check_service_answer(url: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        msg = f"{url} answered with {type(data).__name__}, not a JSON object"
        raise DownloadError(msg)
    if "error" in data:
        error = data["error"] if isinstance(data["error"], dict) else {"message": data["error"]}
        details = "; ".join(str(d) for d in error.get("details") or [])
        msg = (
            f"{url} answered with error {error.get('code', '?')}: "
            f"{error.get('message', 'unknown error')}{f' ({details})' if details else ''}"
        )
        raise DownloadError(msg)
    return data


def _detect_fields(
    url: str, level: str, service: datasets.BoundaryService
) -> dict[str, str | None]:
    """Ask the service for one record's fields and find the code, name and LAD fields."""
    data = _check_service_answer(
        url,
        request_json(
            "GET",
            url,
            params={
                "where": "1=1",
                "outFields": "*",
                "returnGeometry": "false",
                "resultRecordCount": 1,
                "f": "json",
            },
            cache=False,
        ),
    )
    names: list[str] = [f["name"] for f in data.get("fields") or [] if "name" in f]
    if not names:
        features = data.get("features") or []
        if features:
            names = list((features[0].get("attributes") or {}).keys())
    if not names:
        msg = f"{url} did not list its fields; is it an ArcGIS feature-service layer?"
        raise DownloadError(msg)
    found = _recognise_columns(names)
    code_std = _LEVEL_CODE[level]
    name_std = code_std.replace("_code", "_name")
    preferred = {
        code_std: service.code_field,
        name_std: service.name_field,
        "lad_code": service.lad_field,
        "lad_name": service.lad_name_field,
    }
    fields: dict[str, str | None] = {}
    for standard, wanted in preferred.items():
        if wanted and wanted in names:
            fields[standard] = wanted
        else:
            fields[standard] = found[standard][0] if standard in found else None
    if fields[code_std] is None:
        msg = (
            f"{url} has no {level} code field (fields: {', '.join(names[:15])}); is it the "
            f"right layer for level {level!r}?"
        )
        raise DownloadError(msg)
    return {
        "code": fields[code_std],
        "name": fields[name_std],
        "lad_code": fields["lad_code"],
        "lad_name": fields["lad_name"],
    }


def _query_pages(url: str, params: dict[str, Any], page_size: int) -> list[dict[str, Any]]:
    """Run an ArcGIS REST query, following pages until the server has no more."""
    features: list[dict[str, Any]] = []
    offset = 0
    for _ in range(_MAX_PAGES):
        query = {**params, "resultOffset": offset, "resultRecordCount": page_size}
        data = _check_service_answer(url, request_json("GET", url, params=query, cache=False))
        page = data.get("features")
        if not isinstance(page, list):
            msg = f"{url} answered without a 'features' list; is it an ArcGIS query endpoint?"
            raise DownloadError(msg)
        features.extend(page)
        exceeded = bool(
            data.get("exceededTransferLimit")
            or (data.get("properties") or {}).get("exceededTransferLimit")
        )
        if not page or not (exceeded or len(page) >= page_size):
            return features
        offset += len(page)
    msg = f"{url} kept sending pages after {_MAX_PAGES} requests; stopping."
    raise DownloadError(msg)


def _features_frame(features: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not features:
        return gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs=4326)}, crs=4326)
    return gpd.GeoDataFrame.from_features(features, crs=4326)


class _Service:
    """One usable query URL of a boundary layer, with its field names."""

    def __init__(self, urls: Sequence[str], level: str, service: datasets.BoundaryService):
        self.level = level
        self.failures: list[str] = []
        self.url: str | None = None
        self.fields: dict[str, str | None] = {}
        for url in urls:
            try:
                self.fields = _detect_fields(url, level, service)
            except DownloadError as exc:
                self.failures.append(str(exc))
                continue
            self.url = url
            break

    def query(self, params: dict[str, Any], page_size: int) -> list[dict[str, Any]]:
        assert self.url is not None
        base = {
            "outFields": "*",
            "returnGeometry": "true",
            "outSR": 4326,
            "f": "geojson",
            "orderByFields": self.fields["code"],
        }
        return _query_pages(self.url, {**base, **params}, page_size)


def _lsoa_name_prefix(lad_name: str) -> str:
    """LSOA names start with the authority's short name ('Bristol, City of' -> 'Bristol')."""
    return re.sub(r",\s*(?:City|County) of$", "", lad_name.strip())


def _fetch_small_areas_by_authority(
    service: _Service,
    lads: gpd.GeoDataFrame,
    page_size: int,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Fetch LSOA or MSOA features for each authority: by name prefix, else by envelope."""
    name_field = service.fields["name"]
    frames: list[gpd.GeoDataFrame] = []
    methods: dict[str, str] = {}
    for lad in lads.itertuples():
        code, name = str(lad.lad_code), str(lad.lad_name)
        prefix = _lsoa_name_prefix(name)
        features: list[dict[str, Any]] = []
        if name_field:
            features = service.query(
                {"where": f"{name_field} LIKE {_quote(prefix + ' %')}"}, page_size
            )
            pattern = re.compile(rf"^{re.escape(prefix)} {_SMALL_AREA_NAMES[service.level]}$")
            features = [
                f
                for f in features
                if pattern.match(str((f.get("properties") or {}).get(name_field, "")))
            ]
        if features:
            part = _features_frame(features)
            methods[code] = "name"
        else:
            area = gpd.GeoSeries([lad.geometry], crs=lads.crs)
            xmin, ymin, xmax, ymax = area.to_crs(4326).total_bounds
            features = service.query(
                {
                    "where": "1=1",
                    "geometry": f"{xmin},{ymin},{xmax},{ymax}",
                    "geometryType": "esriGeometryEnvelope",
                    "inSR": 4326,
                    "spatialRel": "esriSpatialRelIntersects",
                },
                page_size,
            )
            part = _features_frame(features)
            if len(part):
                points = part.to_crs(TARGET_CRS).geometry.representative_point()
                part = part.loc[points.within(lad.geometry).to_numpy()]
            methods[code] = "envelope"
        part = part.copy()
        part["lad_code"] = code
        part["lad_name"] = name
        frames.append(part)
    if not frames:
        return _features_frame([]), methods
    combined = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=4326), methods


def _missing_authorities(frame: pd.DataFrame, codes: list[str], names: list[str]) -> list[str]:
    have_codes = set(frame["lad_code"].dropna().astype(str)) if "lad_code" in frame else set()
    have_names = (
        {str(n).casefold() for n in frame["lad_name"].dropna()} if "lad_name" in frame else set()
    )
    missing = [c for c in codes if c not in have_codes]
    missing += [n for n in names if n.casefold() not in have_names]
    return missing


def _filter_local(
    frame: gpd.GeoDataFrame, codes: list[str], names: list[str], label: str
) -> gpd.GeoDataFrame:
    if not codes and not names:
        return frame
    if "lad_code" not in frame.columns and "lad_name" not in frame.columns:
        msg = (
            f"{label} has no authority column (LADyyCD / LADyyNM), so it cannot be filtered "
            "by authorities; pass authorities=None and filter the result yourself."
        )
        raise InputError(msg)
    keep = np.zeros(len(frame), dtype=bool)
    if codes and "lad_code" in frame.columns:
        keep |= frame["lad_code"].isin(codes).to_numpy(dtype=bool)
    if names and "lad_name" in frame.columns:
        wanted = {n.casefold() for n in names}
        keep |= frame["lad_name"].astype("string").str.casefold().isin(wanted).to_numpy(dtype=bool)
    result = frame.loc[keep]
    missing = _missing_authorities(result, codes, names)
    if missing:
        msg = f"{label} has no areas for the authorities {', '.join(map(repr, missing))}."
        raise UnknownAreaError(msg)
    return result


def _cache_file(
    level: str,
    urls: Sequence[str],
    codes: list[str],
    names: list[str],
    page_size: int,
    *,
    england: bool = False,
) -> Path:
    parts: list[Any] = [level, list(urls), sorted(codes), sorted(names), page_size]
    key = json.dumps([*parts, "England"] if england else parts)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "datasets" / "boundaries" / f"{level}-{digest}.parquet"


def fetch_boundaries(
    level: FetchLevel,
    *,
    authorities: Sequence[str] | str | None = None,
    path: str | os.PathLike[str] | None = None,
    service_url: str | None = None,
    refresh: bool = False,
    page_size: int | None = None,
) -> gpd.GeoDataFrame:
    """Return official ONS boundaries of a level, for some authorities or all of them.

    Parameters
    ----------
    level : {"lsoa21", "lsoa11", "msoa21", "ward", "lad"}
        LSOA December 2021, LSOA December 2011, MSOA December 2021, wards December 2024
        or local authority districts December 2024 (all generalised, clipped: BGC).
    authorities : sequence of str, optional
        Local authority district codes (``"E08000025"``) or exact ONS names
        (``"Birmingham"``); English regions by name or code (``"West Midlands"``,
        ``"E12000005"``: their authorities, from :func:`socecon_geo.load_regions`); or
        ``"England"`` (``"E92000001"``) alone, for every English area of the level (the
        service is asked for codes starting ``E`` only). None fetches the whole layer
        (England and Wales for LSOAs, the UK for wards and authorities).
    path : path-like, optional
        A local boundary file to use instead of downloading; it is read with
        :func:`read_boundaries` and filtered to ``authorities`` by its LAD columns.
    service_url : str, optional
        Another feature-service query URL (``.../FeatureServer/0/query``) for this level,
        e.g. a newer edition. Field names are detected from the service.
    refresh : bool
        Download again even if a cached copy exists.
    page_size : int, optional
        Features per request; default 2,000 (the ONS servers' cap).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`read_boundaries` (EPSG:27700, standard columns, originals kept). LSOA
        boundaries fetched for authorities also carry ``lad_code`` and ``lad_name``.
        ``attrs`` adds ``provenance`` and, for LSOAs, ``lsoa_selection`` (how each
        authority's LSOAs were chosen).

    Raises
    ------
    InputError
        For an unknown level, a malformed authority, ``"England"`` given with other
        places, or a local file that does not exist.
    UnknownAreaError
        If an authority is not found.
    DataUnavailableError
        If there is no local or cached copy and the service cannot be reached; the message
        names the URL(s) and how to pass a local file.

    Notes
    -----
    Sources, in order: ``path``; the environment variable ``SOCECON_GEO_LSOA21_BOUNDARIES``
    / ``SOCECON_GEO_LSOA11_BOUNDARIES`` / ``SOCECON_GEO_MSOA21_BOUNDARIES`` /
    ``SOCECON_GEO_WARD_BOUNDARIES`` / ``SOCECON_GEO_LAD_BOUNDARIES`` (a local file, or an
    ``http(s)`` query URL used like ``service_url``); the cache
    (``cache_dir() / "datasets" / "boundaries"``, one GeoParquet file per request, written
    only once every page has arrived; an unreadable one is downloaded again); the ONS
    feature services listed in :data:`socecon_geo.datasets.BOUNDARY_SERVICES`, tried in
    order.

    Services are queried with ``where`` (``outFields=*``, ``outSR=4326``, ``f=geojson``)
    and paged by ``resultOffset``/``resultRecordCount`` while the server reports
    ``exceededTransferLimit`` or returns a full page. Wards and authorities are filtered by
    the layer's LAD code/name field. The LSOA and MSOA layers carry no LAD field, so the
    authorities are first fetched from the LAD layer; then each authority's LSOAs (or
    MSOAs) are selected by name (``LSOA21NM LIKE '<authority> %'``; their names begin with
    the name of their authority), and where that finds none (authorities created or
    renamed since) by the authority's bounding box, keeping areas whose representative
    point lies inside the authority.
    """
    service = datasets.get_boundary_service(level)
    level_key = service.level
    places = expand_places(authorities)
    codes, names = places.codes, places.names
    size = int(service.page_size if page_size is None else page_size)
    if size < 1:
        msg = f"page_size must be a positive number of features, got {page_size!r}"
        raise InputError(msg)

    env_value = os.environ.get(service.env_var, "").strip()
    env_is_url = env_value.lower().startswith(("http://", "https://"))
    urls: tuple[str, ...] = service.query_urls()
    if service_url:
        urls = (service_url,)
    elif env_is_url:
        urls = (env_value,)
    # An explicit path always wins; a file named by the environment variable only when
    # no service URL is given.
    if path is not None or not (service_url or env_is_url):
        local = datasets.local_override(service.env_var, path, what=f"{level_key} boundary")
        if local is not None:
            frame = read_boundaries(local, level=level_key)  # type: ignore[arg-type]
            attrs = dict(frame.attrs)
            if places.england:
                frame = _english(frame, level_key)
            else:
                frame = _filter_local(frame, codes, names, f"'{local.name}'")
            frame.attrs = {**attrs, PROVENANCE_KEY: [service.provenance(str(local)).to_dict()]}
            return frame

    cached = _cache_file(level_key, urls, codes, names, size, england=places.england)
    if cached.is_file() and not refresh:
        problem = cached_file_problem(cached)
        try:
            stored = None if problem not in (None, NO_CHECKSUM) else gpd.read_parquet(cached)
        except Exception as exc:  # pyarrow raises many kinds for a damaged file
            stored, problem = None, f"it cannot be read ({type(exc).__name__})"
        if stored is not None and problem == NO_CHECKSUM:  # cached by an older version
            adopt_cached_file(cached)
        if stored is None:  # an unusable cache file is replaced by a new download
            msg = f"The cached boundaries {cached} are not usable: {problem}; downloading again."
            warnings.warn(msg, SocEconGeoWarning, stacklevel=2)
            discard_cached_file(cached)
        else:
            url = str(stored.attrs.get("url") or urls[0])
            frame = read_boundaries(stored, level=level_key)  # type: ignore[arg-type]
            if places.england:
                frame = _english(frame, level_key)
            frame.attrs.update(
                source=f"{cached} (cached download of {url})",
                provenance=[_with_url(service.provenance(str(cached)), url).to_dict()],
            )
            if stored.attrs.get("lsoa_selection"):
                frame.attrs["lsoa_selection"] = dict(stored.attrs["lsoa_selection"])
            return frame

    online = _Service(urls, level_key, service)
    if online.url is None:
        listed = "\n".join(f"  - {failure}" for failure in online.failures)
        msg = (
            f"the {service.title} boundaries are not available: nothing is cached and the "
            f"feature service could not be used:\n{listed}\n"
            f"Download the boundaries from https://geoportal.statistics.gov.uk and pass "
            f"them with fetch_boundaries({level_key!r}, path='...') or set the environment "
            f"variable {service.env_var}=/path/to/file (or to another service's query URL)."
        )
        raise DataUnavailableError(msg)

    selection: dict[str, str] = {}
    try:
        if level_key in _SMALL_AREA_NAMES and (codes or names):
            lads = fetch_boundaries("lad", authorities=[*codes, *names], refresh=refresh)
            raw, selection = _fetch_small_areas_by_authority(online, lads, size)
        else:
            where = "1=1"
            if places.england:  # pushed down: the service sends only English areas
                where = f"{online.fields['code']} LIKE 'E%'"
            elif codes or names:
                if not online.fields["lad_code"]:
                    msg = (
                        f"the layer at {online.url} has no authority field, so it cannot be "
                        "filtered by authorities; pass authorities=None."
                    )
                    raise InputError(msg)
                where = _authority_where(
                    online.fields["lad_code"], online.fields["lad_name"], codes, names
                )
            raw = _features_frame(online.query({"where": where}, size))
    except DownloadError as exc:
        msg = (
            f"downloading the {service.title} boundaries from {online.url} failed: {exc}\n"
            f"Pass a local file with fetch_boundaries({level_key!r}, path='...') or set "
            f"{service.env_var}."
        )
        raise DataUnavailableError(msg) from None

    if raw.empty and not (codes or names):
        where_to = " of England" if places.england else ""
        msg = f"the feature service at {online.url} returned no {level_key} boundaries{where_to}."
        raise DataUnavailableError(msg)
    if raw.empty:
        missing = [*codes, *names]
    else:
        frame = read_boundaries(raw, level=level_key)  # type: ignore[arg-type]
        if places.england:
            frame = _english(frame, level_key)
        missing = _missing_authorities(frame, codes, names)
    if missing:
        msg = (
            f"no {level_key} boundaries found for the authorities "
            f"{', '.join(map(repr, missing))} in {online.url}; check the codes (e.g. "
            "'E08000025') or the exact ONS names, or name a region ('West Midlands', "
            "'E12000005') or 'England'."
        )
        raise UnknownAreaError(msg)

    cached.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(cached.parent)
    partial = cached.with_name(f".{cached.name}.pid{os.getpid()}.part")
    raw.attrs = {"url": online.url, "lsoa_selection": selection}
    try:
        raw.to_parquet(partial)
        store_cached_file(partial, cached)
    finally:
        partial.unlink(missing_ok=True)
    frame.attrs.update(
        source=f"{online.url} (cached at {cached})",
        provenance=[_with_url(service.provenance(online.url), online.url).to_dict()],
    )
    if selection:
        frame.attrs["lsoa_selection"] = selection
    return frame

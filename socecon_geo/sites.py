"""Investment sites: brownfield land registers, GeoJSON / GeoPackage, generic CSV.

:func:`read_sites` returns one row per input row, in EPSG:27700, with ``site_status``
(why a site is or is not matched: :data:`SITE_STATUSES`) and its size for weighting
(``site_size`` with ``site_size_status``). Nothing is dropped: a row without coordinates, with
coordinates outside Great Britain, with a negative number of dwellings or with a
reference another row repeats is kept and says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo._errors import InputError
from socecon_geo._headings import heading_key
from socecon_geo._schema import (
    SITE_SIZE_STATUS,
    SITE_STATUS,
    SITE_STATUSES,
    PathLike,
)
from socecon_geo._tables import parse_numbers, read_csv_text
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

__all__ = ["SITE_COLUMNS", "SITE_STATUSES", "read_sites"]

SITE_COLUMNS: Final[tuple[str, ...]] = (
    "site_id",
    "site_reference",
    "site_name",
    "authority",
    "programme",
    "planning_status",
    "hectares",
    "min_net_dwellings",
    "max_net_dwellings",
    "dwellings",
    "value",
    "site_size",
    "site_size_status",
    "postcode",
    "site_status",
    "duplicate_of",
    "source_row",
)
"""The columns ``read_sites`` gives every site (then ``src_*`` for the file's own)."""

# aliases by heading_key, first match wins
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "reference": ("sitereference", "reference", "siteref", "siteid", "ref", "id"),
    "name": ("sitenameaddress", "sitename", "name", "address", "site", "title"),
    "authority": ("organisation", "authority", "localauthority", "council", "ladname", "lad"),
    "programme": ("programme", "program", "investmentprogramme"),
    "planning": ("planningstatus",),
    "hectares": ("hectares", "areaha", "ha"),
    "min_dw": ("minnetdwellings",),
    "max_dw": ("maxnetdwellings", "netdwellings", "dwellings", "homes", "units"),
    "value": ("value", "contractvalue", "budget", "cost", "investment"),
    "postcode": ("postcode", "postalcode", "postcodes"),
    "lat": ("latitude", "lat"),
    "lon": ("longitude", "lon", "lng", "long"),
    "x": ("easting", "eastings", "geox", "x", "bngx"),
    "y": ("northing", "northings", "geoy", "y", "bngy"),
    "end": ("enddate",),
    "entry": ("entrydate",),
}

# a box round Great Britain (WGS84), less the island of Ireland
_GB_LON: Final = (-8.75, 1.8)
_GB_LAT: Final = (49.85, 60.9)
_OUTSIDE_AUTHORITY_M: Final = 1_000.0

_BROWNFIELD: Final = Provenance(
    name="brownfield_land_register",
    title="Brownfield land register",
    publisher="local planning authorities (collected by MHCLG's digital-land programme)",
    vintage="as published",
    licence="Open Government Licence v3.0",
    attribution="Contains public sector information licensed under the Open Government "
    "Licence v3.0 (local planning authorities' brownfield land registers).",
    url="https://www.planning.data.gov.uk/dataset/brownfield-land",
)


def _find(keys: dict[str, str], field: str) -> str | None:
    for alias in _ALIASES[field]:
        if alias in keys:
            return keys[alias]
    return None


def _read(path: Any) -> tuple[pd.DataFrame, str, str | None]:
    """Return the file's rows, its name for messages, and its geometry column if any."""
    if isinstance(path, gpd.GeoDataFrame):
        return path.copy(), "sites frame", path.geometry.name
    if isinstance(path, pd.DataFrame):
        return path.copy(), "sites frame", None
    if not isinstance(path, str | os.PathLike):
        msg = (
            "read_sites: path must be the path of a sites file (CSV, GeoJSON, GeoPackage) "
            f"or a DataFrame, not {type(path).__name__}."
        )
        raise InputError(msg)
    file = Path(path).expanduser()
    what = f"sites file {file.name!r}"
    if file.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        if not file.is_file():
            msg = f"{what} does not exist; pass the path of the file."
            raise InputError(msg)
        try:
            frame = gpd.read_file(file)
        except Exception as error:  # pyogrio's errors are not one family
            msg = f"{what} could not be read as a geographic file ({error})."
            raise InputError(msg) from None
        return frame, what, frame.geometry.name
    return read_csv_text(file, "sites"), what, None


def _numbers(frame: pd.DataFrame, column: str | None, what: str) -> np.ndarray:
    if column is None:
        return np.full(len(frame), np.nan)
    parsed = parse_numbers(frame[column])
    bad = np.flatnonzero(parsed.unparsed | parsed.ambiguous)
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])
        msg = (
            f"{what}: column {column!r} has values that are not numbers in rows {rows} "
            f"(first: {frame[column].iloc[bad[0]]!r}); correct or blank them."
        )
        raise InputError(msg)
    return parsed.values


def _in_gb(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    box = (lon >= _GB_LON[0]) & (lon <= _GB_LON[1]) & (lat >= _GB_LAT[0]) & (lat <= _GB_LAT[1])
    ireland = (lon < -5.4) & (lat > 51.3) & (lat < 55.25)  # west of Wales, south of Kintyre
    return box & ~ireland


def read_sites(path: PathLike | pd.DataFrame, *, programme: str | None = None) -> gpd.GeoDataFrame:
    """Read investment sites, keeping every row, with a status and a size.

    Three layouts are recognised by their headings:

    * a **brownfield land register** as published (``site_reference``,
      ``site_name_address``, ``latitude`` / ``longitude`` in WGS84, ``hectares``,
      ``planning_status``, ``min_net_dwellings`` / ``max_net_dwellings``, and
      ``organisation``, the council);
    * a **GeoJSON or GeoPackage** of points or polygons (any CRS it declares);
    * a **generic CSV**: a name, coordinates (``latitude`` / ``longitude``, or
      ``easting`` / ``northing`` in British National Grid metres) or a ``postcode``,
      and optionally a ``programme``, an ``authority`` and a ``value``.

    Sites with a postcode and no coordinates are placed at the postcode's point by the
    offline geocoder (the bundled table).

    Parameters
    ----------
    path : path or DataFrame
        The file (CSV, ``.geojson``, ``.gpkg``), or a frame laid out as one.
    programme : str, optional
        The programme of every site (``"housing"``, ``"retrofit"``, ``"transport"``, or
        one of a user's supply chains); by default the file's ``programme`` column, else
        ``"housing"`` for a brownfield register (housing sites) and ``"all"`` otherwise.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row, in its order, in EPSG:27700, with the columns of
        :data:`SITE_COLUMNS` (and the file's own as ``src_<heading>``):

        ``site_status``
            ``located``, ``geocoded``, ``no_location``, ``outside_gb``,
            ``outside_authority`` (more than 1 km outside the council named, when it is
            a bundled authority), ``duplicate_reference`` (the council and reference
            of another row: the most recent entry is kept, the others point to it in
            ``duplicate_of``) or ``ended`` (the register gives an end date).
        ``site_size`` and ``site_size_status``
            the weight of the site: its net dwellings (the maximum given, else the
            minimum), else its hectares, else the ``value``; a negative number of net
            dwellings (a scheme that loses homes) weighs 0 (``negative_dwellings``).

        ``attrs["counts"]`` counts each status and the negative dwellings.

    Raises
    ------
    InputError
        The file has neither coordinates, a postcode column nor a geometry; every
        coordinate given lies outside Great Britain (swapped or projected columns); a
        number column holds text.

    Examples
    --------
    >>> import pandas as pd
    >>> sites = read_sites(pd.DataFrame({
    ...     "name": ["Depot", "Old school", "Nowhere"],
    ...     "latitude": [52.48, 52.41, None], "longitude": [-1.90, -1.51, None],
    ...     "programme": ["retrofit", "housing", "housing"]}))
    >>> sites[["site_name", "programme", "site_status"]]
        site_name programme  site_status
    0       Depot  retrofit      located
    1  Old school   housing      located
    2     Nowhere   housing  no_location
    >>> sites.crs.to_epsg()
    27700
    """
    frame, what, geometry_column = _read(path)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    columns = [c for c in frame.columns if c != geometry_column]
    keys: dict[str, str] = {}
    for column in columns:
        keys.setdefault(heading_key(column), column)
    found = {field: _find(keys, field) for field in _ALIASES}
    has_lonlat = found["lat"] is not None and found["lon"] is not None
    has_xy = found["x"] is not None and found["y"] is not None
    if geometry_column is None and not has_lonlat and not has_xy and found["postcode"] is None:
        msg = (
            f"{what} has no coordinates and no postcode column, so its sites cannot be "
            f"placed; its columns are {', '.join(map(str, columns)) or 'none'}. Add "
            "'latitude' and 'longitude' (WGS84), 'easting' and 'northing' (British "
            "National Grid metres) or a 'postcode' column."
        )
        raise InputError(msg)
    brownfield = found["reference"] == keys.get("sitereference") and (
        "maxnetdwellings" in keys or "minnetdwellings" in keys
    )

    # ---- geometry ----------------------------------------------------------------
    geoms = np.full(n, None, dtype=object)
    given = np.zeros(n, dtype=bool)
    in_gb = np.zeros(n, dtype=bool)
    if geometry_column is not None:
        series = gpd.GeoSeries(frame[geometry_column], crs=getattr(frame, "crs", None))
        if series.crs is None:
            series = series.set_crs(27700 if _looks_projected(series) else 4326)
        present = ~(shapely.is_missing(series.to_numpy()) | shapely.is_empty(series.to_numpy()))
        lonlat = series.to_crs(4326).representative_point()
        lon = np.where(present, lonlat.x.to_numpy(), np.nan)
        lat = np.where(present, lonlat.y.to_numpy(), np.nan)
        given |= present
        in_gb |= present & _in_gb(lon, lat)
        geoms = np.asarray(series.to_crs(27700).to_numpy(), dtype=object)
    elif has_lonlat or has_xy:
        if has_lonlat:
            lat = _numbers(frame, found["lat"], what)
            lon = _numbers(frame, found["lon"], what)
            ok = np.isfinite(lat) & np.isfinite(lon)
            pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)
            inside = ok & _in_gb(lon, lat)
        else:
            x = _numbers(frame, found["x"], what)
            y = _numbers(frame, found["y"], what)
            ok = np.isfinite(x) & np.isfinite(y)
            pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=27700)
            bng = pts.to_crs(4326)
            inside = ok & (x >= 0) & (x <= 700_000) & (y >= 0) & (y <= 1_300_000)
            inside &= _in_gb(bng.x.to_numpy(), bng.y.to_numpy())
        given |= ok
        in_gb |= inside
        projected = np.asarray(pts.to_crs(27700).to_numpy(), dtype=object)
        geoms = projected.copy()
        geoms[~ok] = None
    if given.any() and not in_gb.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(given)[:5])
        msg = (
            f"{what}: every coordinate given lies outside Great Britain (rows {rows} ...); "
            "check that latitude and longitude are not swapped, and that eastings and "
            "northings are British National Grid metres (EPSG:27700)."
        )
        raise InputError(msg)
    geoms = np.asarray(geoms, dtype=object).copy()
    geoms[~in_gb] = None

    # ---- postcodes ----------------------------------------------------------------
    postcode = (
        frame[found["postcode"]].astype("string")
        if found["postcode"] is not None
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    geocoded = np.zeros(n, dtype=bool)
    wanted = ~given & postcode.notna().to_numpy()
    if wanted.any():
        from socecon_geo.geocoding import geocode

        placed = geocode(pd.DataFrame({"postcode": postcode[wanted].to_numpy()}))
        ok = ~(shapely.is_missing(placed.geometry.to_numpy()) | placed.geometry.is_empty.to_numpy())
        idx = np.flatnonzero(wanted)
        geoms[idx[ok]] = placed.geometry.to_numpy()[ok]
        geocoded[idx[ok]] = True

    # ---- fields -------------------------------------------------------------------
    def text(field: str) -> pd.Series:
        column = found[field]
        if column is None:
            return pd.Series(pd.NA, index=frame.index, dtype="string")
        values = frame[column].astype("string").str.strip()
        return values.mask(values == "", pd.NA)

    reference = text("reference")
    authority = text("authority")
    if programme is not None:
        if not isinstance(programme, str) or not programme.strip():
            msg = f"read_sites: programme must be a name such as 'housing', not {programme!r}."
            raise InputError(msg)
        programmes = pd.Series(programme.strip().lower(), index=frame.index, dtype="string")
    elif found["programme"] is not None:
        default = "housing" if brownfield else "all"
        programmes = text("programme").str.lower().fillna(default)
    else:
        programmes = pd.Series(
            "housing" if brownfield else "all", index=frame.index, dtype="string"
        )

    hectares = _numbers(frame, found["hectares"], what)
    min_dw = _numbers(frame, found["min_dw"], what)
    max_dw = _numbers(frame, found["max_dw"], what)
    value = _numbers(frame, found["value"], what)
    dwellings = np.where(np.isfinite(max_dw), max_dw, min_dw)
    size = np.zeros(n)
    site_size_status = np.full(n, "no_size", dtype=object)
    for mask, values, kind in (
        (np.isfinite(value), value, "value"),
        (np.isfinite(hectares), hectares, "hectares"),
        (np.isfinite(dwellings), dwellings, "dwellings"),
    ):  # later ones win: dwellings, then hectares, then value
        size = np.where(mask, values, size)
        site_size_status = np.where(mask, kind, site_size_status)
    negative = np.isfinite(dwellings) & (dwellings < 0)
    size = np.where(negative, 0.0, size)
    site_size_status = np.where(negative, "negative_dwellings", site_size_status)

    # ---- statuses -----------------------------------------------------------------
    status: np.ndarray = np.full(n, "no_location", dtype=object)
    status[given & ~in_gb] = "outside_gb"
    status[geocoded] = "geocoded"
    status[given & in_gb] = "located"
    outside = _outside_authority(geoms, authority, status)
    status[outside] = "outside_authority"
    ended = text("end").notna().to_numpy()
    status[ended] = "ended"
    site_id = np.arange(1, n + 1)
    duplicate_of = pd.array([pd.NA] * n, dtype="Int64")
    if reference.notna().any():
        key = authority.fillna("") + "\x00" + reference
        entry = text("entry").fillna("")
        order = pd.DataFrame({"key": key, "entry": entry, "ended": ended, "row": np.arange(n)})
        order = order[reference.notna().to_numpy()]
        # the kept entry: not ended, most recent entry date, then first in the file
        order = order.sort_values(
            ["key", "ended", "entry", "row"], ascending=[True, True, False, True]
        )
        first = order.groupby("key", sort=False)["row"].transform("first").to_numpy()
        rows = order["row"].to_numpy()
        repeat = rows != first
        duplicate_of[rows[repeat]] = site_id[first[repeat]]
        status[rows[repeat]] = "duplicate_reference"

    out = pd.DataFrame(
        {
            "site_id": pd.array(site_id, dtype="Int64"),
            "site_reference": reference,
            "site_name": text("name"),
            "authority": authority,
            "programme": programmes.astype("string"),
            "planning_status": text("planning"),
            "hectares": hectares,
            "min_net_dwellings": min_dw,
            "max_net_dwellings": max_dw,
            "dwellings": dwellings,
            "value": value,
            "site_size": size,
            "site_size_status": pd.Categorical(site_size_status, dtype=SITE_SIZE_STATUS),
            "postcode": postcode.astype("string"),
            "site_status": pd.Categorical(status, dtype=SITE_STATUS),
            "duplicate_of": duplicate_of,
            "source_row": pd.array(np.arange(2, n + 2), dtype="Int64"),
        }
    )
    for column in columns:
        out[f"src_{column}"] = frame[column].to_numpy()
    sites = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=27700), crs=27700)
    counts = {s: int((status == s).sum()) for s in SITE_STATUSES}
    sites.attrs["counts"] = {
        "site_status": counts,
        "negative_dwellings": int(negative.sum()),
        "no_size": int(np.sum(site_size_status == "no_size")),
    }
    sites.attrs["source"] = what
    records = list(get_provenance(frame)) if isinstance(path, pd.DataFrame) else []
    if brownfield:
        source = os.fspath(path) if isinstance(path, str | os.PathLike) else None
        records.append(_BROWNFIELD.replace_source(source))
    return with_provenance(sites, *records)


def _looks_projected(series: gpd.GeoSeries) -> bool:
    bounds = series.total_bounds
    return bool(np.all(np.isfinite(bounds)) and (abs(bounds[2]) > 180 or abs(bounds[3]) > 90))


def _outside_authority(geoms: np.ndarray, authority: pd.Series, status: np.ndarray) -> np.ndarray:
    """Located sites more than 1 km outside the bundled authority their council names."""
    out = np.zeros(len(geoms), dtype=bool)
    located = (status == "located") | (status == "geocoded")
    if not located.any() or authority.isna().all():
        return out
    from socecon_geo.bundle import load_authorities

    layer = load_authorities()
    names = authority.fillna("").str.lower()
    for lad_name, polygon in zip(layer["lad_name"], layer.geometry, strict=True):
        word = str(lad_name).lower()
        mine = located & names.str.contains(rf"\b{word}\b", regex=True).to_numpy()
        if not mine.any():
            continue
        far = (
            shapely.distance(polygon, np.asarray(geoms[mine], dtype=object)) > _OUTSIDE_AUTHORITY_M
        )
        out[np.flatnonzero(mine)[far]] = True
    return out

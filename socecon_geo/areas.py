"""Place organisations in areas (LSOA, ward, authority) and summarise every area.

Two steps of the flow live here:

:func:`assign_areas`
    gives every geocoded organisation its LSOA 2021 and LSOA 2011 codes, its electoral
    ward and its local authority district, saying for each code how it was found.
:func:`summarise_areas`
    turns organisations that have areas into one row for *every* area of a layer
    (wards, LSOAs or authorities; areas without organisations get zeros): counts by
    organisation type and sector, rates per 10,000 residents with a smoothed rate
    beside the raw one, location quotients, and the area's deprivation profile.

:func:`read_population` reads the residents counts the rates are based on (Census 2021
usual residents, or the population denominators of the Indices of Deprivation).

Where a code comes from
-----------------------
Codes the postcode table already gives (``postcode_lsoa21_code``,
``postcode_lsoa11_code``, ``postcode_ward_code``, ``postcode_lad_code``, from the official
postcode lookups) are used first: they were assigned on full-resolution boundaries. Other
codes are found by point in polygon in the layers passed. LSOA 2021 codes are converted
from LSOA 2011 codes with the ONS LSOA 2011 → 2021 lookup when it is passed: unchanged and
merged LSOAs exactly; an LSOA split in 2021 by point in polygon among its 2021 parts when LSOA
2021 boundaries are passed (the nearest part when the point falls in none of them,
which happens with generalised boundaries), otherwise the code is left missing and the
method says ``"ambiguous_split"``.

A point on the shared border of two areas belongs to both geometrically; it is given
to the area whose code sorts first, so each organisation gets exactly one area.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo._errors import (
    CRSMismatchError,
    InputError,
    Problems,
    SocEconGeoWarning,
)
from socecon_geo._tables import (
    clean_codes,
    factorize_clean,
    is_text_categorical,
    normalise_heading,
    parse_numbers,
    read_csv_text,
)
from socecon_geo._tables import shown as shown_value
from socecon_geo.deprivation import read_deprivation, read_lsoa_lookup

__all__ = [
    "AREA_METHODS",
    "AREA_STATUSES",
    "DEFAULT_MIN_POPULATION",
    "assign_areas",
    "read_population",
    "summarise_areas",
]

PathLike = str | os.PathLike[str]
Level = Literal["lsoa21", "lsoa11", "ward", "lad"]

AREA_METHODS: Final[tuple[str, ...]] = (
    "postcode_table",
    "lsoa11_lookup_unchanged",
    "lsoa11_lookup_merged",
    "lsoa21_lookup",
    "parent_of_ward",
    "parent_of_lsoa",
    "lsoa11_lookup_complex",
    "point_in_polygon",
    "lsoa11_lookup_split_pip",
    "lsoa21_bestfit_lookup",
    "lsoa11_lookup_split_nearest",
    "ambiguous_split",
)
"""How a code was found, from the most to the least certain.

``postcode_table``
    taken from the postcode table's own code (official postcode lookups).
``lsoa11_lookup_unchanged`` / ``lsoa11_lookup_merged``
    LSOA 2021 code converted exactly from the LSOA 2011 code (ONS change code U / M).
``lsoa21_lookup``
    LSOA 2011 code converted back exactly from the LSOA 2021 code.
``parent_of_ward`` / ``parent_of_lsoa``
    authority taken from the organisation's ward or LSOA, which nest in it.
``lsoa11_lookup_complex``
    LSOA 2021 code from an irregular (change code X) one-to-one link.
``point_in_polygon``
    found by point in polygon in the layer passed.
``lsoa11_lookup_split_pip``
    the LSOA 2011 was split in 2021; the part containing the point was chosen.
``lsoa21_bestfit_lookup``
    ward or authority taken from the LSOA 2021 by the ONS best-fit lookup.
``lsoa11_lookup_split_nearest``
    the LSOA 2011 was split and the point lies in none of its parts (generalised
    boundaries); the nearest part was chosen.
``ambiguous_split``
    the LSOA 2011 was split and no point or boundaries could decide; code left missing.

``area_method`` holds the least certain method among an organisation's four codes.
"""

AREA_STATUSES: Final[tuple[str, ...]] = ("assigned", "partial", "outside_areas", "no_location")
"""Values of ``area_status``.

``assigned``
    every level the inputs can provide (LSOA 2021, LSOA 2011, ward, authority) has a code.
``partial``
    some codes were found, others not (e.g. an ambiguous split LSOA).
``outside_areas``
    area layers were passed and the organisation lies in none of them (its postcode
    codes, if any, are kept).
``no_location``
    no point and no postcode codes: nothing to place.
"""

DEFAULT_MIN_POPULATION: Final[int] = 1000
"""Default of ``min_population`` in :func:`summarise_areas`.

LSOAs 2021 are designed to hold 1,000 to 3,000 residents; an area with fewer residents
than the smallest LSOA (a city centre, an industrial estate) gives rates per resident
that swing wildly with one organisation more or less, so it is flagged.
"""

_LEVELS: Final[dict[str, tuple[str, str]]] = {
    "lsoa21": ("lsoa21_code", "lsoa21_name"),
    "lsoa11": ("lsoa11_code", "lsoa11_name"),
    "ward": ("ward_code", "ward_name"),
    "lad": ("lad_code", "lad_name"),
}
_LEVEL_LABELS: Final[dict[str, str]] = {
    "lsoa21": "LSOA 2021",
    "lsoa11": "LSOA 2011",
    "ward": "ward",
    "lad": "local authority district",
}
_LSOA_VINTAGE: Final[dict[str, int]] = {"lsoa21": 2021, "lsoa11": 2011}

_OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "lsoa21_code",
    "lsoa11_code",
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
    "lsoa21_method",
    "lsoa11_method",
    "ward_method",
    "lad_method",
    "area_method",
    "area_status",
)

_POSTCODE_COLUMNS: Final[dict[str, str]] = {
    "lsoa21": "postcode_lsoa21_code",
    "lsoa11": "postcode_lsoa11_code",
    "ward": "postcode_ward_code",
    "lad": "postcode_lad_code",
}

# Recognised spellings of the standard columns, matched on lower-case letters and digits
# only. The optional group captures a year, so the newest of several is used.
_STANDARD_PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    "lsoa21_code": re.compile(r"^(?:lsoa21(?:cd|code)|lsoacode2021)$"),
    "lsoa21_name": re.compile(r"^(?:lsoa21(?:nm|name)|lsoaname2021)$"),
    "lsoa11_code": re.compile(r"^(?:lsoa11(?:cd|code)|lsoacode2011)$"),
    "lsoa11_name": re.compile(r"^(?:lsoa11(?:nm|name)|lsoaname2011)$"),
    "ward_code": re.compile(r"^(?:wd|ward)(\d{2})?(?:cd|code)$"),
    "ward_name": re.compile(r"^(?:wd|ward)(\d{2})?(?:nm|name)$"),
    "lad_code": re.compile(
        r"^(?:(?:lad|ltla)(\d{2})?(?:cd|code)|localauthoritydistrictcode(\d{4})?)$"
    ),
    "lad_name": re.compile(
        r"^(?:(?:lad|ltla)(\d{2})?(?:nm|name)|localauthoritydistrictname(\d{4})?)$"
    ),
    "change_code": re.compile(r"^(?:changecode|chgind)$"),
}

_LSOA_CODE: Final[re.Pattern[str]] = re.compile(r"^[EW]01\d{6}$")
_POLYGONAL: Final[frozenset[str]] = frozenset({"Polygon", "MultiPolygon"})


# --------------------------------------------------------------------------------------
# small helpers


def _has_geometry(geometry: gpd.GeoSeries) -> np.ndarray:
    """Bool array: the geometry is neither missing nor empty.

    (``GeoSeries.notna`` warns when the series holds empty geometries.)
    """
    shapes = np.asarray(geometry.to_numpy(), dtype=object)
    return ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))


def _norm_header(name: object) -> str:
    """Return a heading as lower-case letters and digits only (``lsoacode2021``)."""
    return normalise_heading(name).replace(" ", "")


def _standardise_columns(frame: pd.DataFrame, targets: Iterable[str]) -> pd.DataFrame:
    """Return ``frame`` with the standard columns added as copies of official ones.

    A standard column already present is left alone; otherwise the newest matching
    official column (``WD24CD`` before ``WD22CD``) is copied under the standard name.
    """
    out = frame
    normalised = {column: _norm_header(column) for column in frame.columns}
    for target in targets:
        if target in frame.columns:
            continue
        pattern = _STANDARD_PATTERNS[target]
        found: list[tuple[int, str]] = []
        for column, norm in normalised.items():
            match = pattern.match(norm)
            if match:
                years = [group for group in match.groups() if group]
                found.append((int(years[0][-2:]) if years else -1, column))
        if found:
            source = max(found, key=lambda item: item[0])[1]
            if out is frame:
                out = frame.copy()
            out[target] = frame[source]
    return out


def _codes_and_uniques(codes: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Factorise a code Series: positions into the distinct codes (-1 for NA), and them."""
    keys, uniques = pd.factorize(codes)
    return np.asarray(keys), pd.Index(uniques)


def _isin(codes: pd.Series, values: Iterable[Any]) -> np.ndarray:
    """``codes.isin(values)`` as a bool array, NA never in; fast for many values.

    (``Series.isin`` on pyarrow-backed text converts every one of ``values`` in Python.)
    """
    keys, uniques = _codes_and_uniques(codes)
    if not isinstance(values, pd.Index | pd.Series | np.ndarray | pd.api.extensions.ExtensionArray):
        values = list(values)
    wanted = pd.Index(np.asarray(values, dtype=object), dtype=object)
    hit = pd.Index(np.asarray(uniques, dtype=object), dtype=object).isin(wanted)
    return np.append(hit, False)[keys]


def _crs_text(crs: Any) -> str:
    if crs is None:
        return "no CRS"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else str(crs.name)


def _check_projected(crs: Any, what: str) -> None:
    if crs is None:
        msg = (
            f"{what} has no CRS. Set the one its coordinates are in, e.g. "
            "`.set_crs(27700)` for British National Grid eastings and northings."
        )
        raise CRSMismatchError(msg)
    if crs.is_geographic:
        msg = (
            f"{what} is in a geographic CRS ({_crs_text(crs)}, degrees); areas and "
            "points must be in British National Grid metres. Reproject it first with "
            "`.to_crs(27700)`."
        )
        raise CRSMismatchError(msg)


def _check_same_crs(crs: Any, what: str, other_crs: Any, other_what: str) -> None:
    if other_crs is not None and crs != other_crs:
        msg = (
            f"{what} is in {_crs_text(crs)} and {other_what} in {_crs_text(other_crs)}; "
            "a spatial join between them would match nothing. Reproject both with "
            "`.to_crs(27700)`."
        )
        raise CRSMismatchError(msg)


def _as_table(table: pd.DataFrame | PathLike, what: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, str | os.PathLike):
        return read_csv_text(table, what)
    msg = f"{what} must be a DataFrame or the path of a CSV file, not {type(table).__name__}."
    raise InputError(msg)


def _first_mapping(pairs: Iterable[tuple[pd.Series, pd.Series]]) -> pd.Series:
    """Combine (keys, values) pairs into one key → value Series, first source winning."""
    parts = []
    for keys, values in pairs:
        part = pd.Series(values.astype("string").to_numpy(), index=clean_codes(keys).to_numpy())
        part = part[part.index.notna() & part.notna()]
        parts.append(part[~part.index.duplicated()])
    if not parts:
        return pd.Series([], dtype="string")
    combined = pd.concat(parts)
    return combined[~combined.index.duplicated()]


def _map_codes(codes: pd.Series, mapping: pd.Series) -> pd.Series:
    """Look codes up in ``mapping`` (a string Series indexed by code); NA when unknown."""
    if mapping.empty:
        return pd.Series(pd.NA, index=codes.index, dtype="string")
    keys, uniques = _codes_and_uniques(codes)
    values = pd.array(mapping.reindex(uniques).to_numpy(), dtype="string")
    return pd.Series(values.take(keys, allow_fill=True), index=codes.index, dtype="string")


# --------------------------------------------------------------------------------------
# layers and lookups


@dataclass
class _Layer:
    name: str
    level: str
    frame: gpd.GeoDataFrame  # RangeIndex, standard columns, non-empty polygonal geometry
    codes: frozenset[str]

    @property
    def code_column(self) -> str:
        return _LEVELS[self.level][0]


_LAYER_ARGUMENT_LEVEL: Final[dict[str, str]] = {
    "lsoas21": "lsoa21",
    "lsoas11": "lsoa11",
    "wards": "ward",
    "authorities": "lad",
}


def _read_layer_file(path: PathLike) -> gpd.GeoDataFrame:
    from socecon_geo.boundaries import read_boundaries

    return read_boundaries(path)


def _prepare_layer(layer: gpd.GeoDataFrame | PathLike, argument: str, points_crs: Any) -> _Layer:
    """Check an area layer and reduce it to standard columns on a RangeIndex.

    A path is read with :func:`socecon_geo.read_boundaries` (which reprojects to
    EPSG:27700); a GeoDataFrame must already be in a projected CRS matching the points.
    """
    level = _LAYER_ARGUMENT_LEVEL[argument]
    what = f"the {argument}= layer"
    if isinstance(layer, str | os.PathLike):
        layer = _read_layer_file(layer)
    if not isinstance(layer, gpd.GeoDataFrame):
        msg = (
            f"{what} must be a GeoDataFrame (or a boundary file path), not {type(layer).__name__}."
        )
        raise InputError(msg)
    if len(layer) == 0:
        msg = f"{what} has no rows; pass the areas' polygons."
        raise InputError(msg)
    code_column = _LEVELS[level][0]
    frame = _standardise_columns(
        pd.DataFrame(layer.drop(columns=layer.geometry.name)),
        [*(c for pair in _LEVELS.values() for c in pair)],
    )
    if code_column not in frame.columns:
        other = {"lsoa21": "lsoa11", "lsoa11": "lsoa21"}.get(level)
        if other is not None and _LEVELS[other][0] in frame.columns:
            right = {"lsoa21": "lsoas21", "lsoa11": "lsoas11"}[other]
            msg = (
                f"LSOA vintage mismatch: {what} holds {_LEVEL_LABELS[other]} codes "
                f"(column {_LEVELS[other][0]!r}), not {_LEVEL_LABELS[level]} codes. Pass it "
                f"as {right}= instead, or pass {_LEVEL_LABELS[level]} boundaries."
            )
        else:
            columns = ", ".join(map(str, layer.columns))
            msg = (
                f"{what} has no {code_column!r} column (nor an official equivalent); it has "
                f"{columns}. Rename its code column to {code_column!r}."
            )
        raise InputError(msg)
    _check_projected(layer.crs, what)
    _check_same_crs(layer.crs, what, points_crs, "the points")

    problems = Problems(what)
    codes = clean_codes(frame[code_column]).reset_index(drop=True)
    if codes.isna().any():
        rows = np.flatnonzero(codes.isna().to_numpy())[:5].tolist()
        problems.add(f"{int(codes.isna().sum())} rows have no {code_column} (rows {rows})")
    geometry = layer.geometry.reset_index(drop=True)
    kinds = geometry.geom_type
    bad = kinds.notna() & ~kinds.isin(_POLYGONAL)
    if bad.any():
        problems.add(
            f"{int(bad.sum())} geometries are not polygons "
            f"({', '.join(sorted(set(kinds[bad])))}); area layers must be polygons"
        )
    problems.raise_if_any(InputError)

    keep = [c for c in (*(c for pair in _LEVELS.values() for c in pair),) if c in frame.columns]
    slim = pd.DataFrame({c: frame[c].astype("string").to_numpy() for c in keep if c != code_column})
    slim[code_column] = codes.to_numpy()
    usable = _has_geometry(geometry)
    result = gpd.GeoDataFrame(slim, geometry=geometry.to_numpy(), crs=layer.crs)
    result = result[usable].reset_index(drop=True)
    for column in keep:
        if column != code_column and column.endswith("_code"):
            result[column] = clean_codes(result[column])
    return _Layer(argument, level, result, frozenset(codes.dropna()))


@dataclass
class _LsoaLookup:
    frame: pd.DataFrame  # lsoa11_code, lsoa21_code, change_code, [lad_code, lad_name]
    forward: pd.DataFrame = field(init=False)  # lsoa11_code, lsoa21_code, method, n
    backward: pd.Series = field(init=False)  # lsoa21 -> lsoa11 when unique

    def __post_init__(self) -> None:
        links = self.frame[["lsoa11_code", "lsoa21_code", "change_code"]].drop_duplicates(
            ["lsoa11_code", "lsoa21_code"]
        )
        targets = links.groupby("lsoa11_code")["lsoa21_code"].transform("size")
        sources = links.groupby("lsoa21_code")["lsoa11_code"].transform("size")
        change = links["change_code"].fillna("").str.upper()
        method = np.select(
            [
                (targets > 1).to_numpy(),
                (sources > 1).to_numpy(),
                (change == "X").to_numpy(),
            ],
            ["split", "lsoa11_lookup_merged", "lsoa11_lookup_complex"],
            default="lsoa11_lookup_unchanged",
        )
        self.forward = links.assign(method=method, n_targets=targets.to_numpy())
        unique_back = links[(sources == 1).to_numpy()]
        self.backward = pd.Series(
            unique_back["lsoa11_code"].to_numpy(),
            index=unique_back["lsoa21_code"].to_numpy(),
            dtype="string",
        )


def _prepare_lsoa_lookup(lookup: pd.DataFrame | PathLike) -> _LsoaLookup:
    what = "the LSOA 2011 → 2021 lookup (lsoa_lookup=)"
    if isinstance(lookup, str | os.PathLike):
        table = read_lsoa_lookup(lookup)
    else:
        table = _as_table(lookup, what)
    table = _standardise_columns(
        table, ["lsoa11_code", "lsoa21_code", "change_code", "lad_code", "lad_name"]
    )
    missing = [c for c in ("lsoa11_code", "lsoa21_code") if c not in table.columns]
    if missing:
        columns = ", ".join(map(str, table.columns))
        msg = (
            f"{what} lacks {' and '.join(map(repr, missing))}; it has {columns}. Pass the "
            "ONS 'LSOA (2011) to LSOA (2021) to LAD (2022)' lookup."
        )
        raise InputError(msg)
    frame = pd.DataFrame(
        {
            "lsoa11_code": clean_codes(table["lsoa11_code"]).to_numpy(),
            "lsoa21_code": clean_codes(table["lsoa21_code"]).to_numpy(),
            "change_code": (
                table["change_code"].astype("string").to_numpy()
                if "change_code" in table.columns
                else pd.array([pd.NA] * len(table), dtype="string")
            ),
        }
    )
    for column in ("lad_code", "lad_name"):
        if column in table.columns:
            frame[column] = table[column].astype("string").to_numpy()
    frame = frame.dropna(subset=["lsoa11_code", "lsoa21_code"]).reset_index(drop=True)
    if frame.empty:
        msg = f"{what} has no rows with both an LSOA 2011 and an LSOA 2021 code."
        raise InputError(msg)
    return _LsoaLookup(frame)


def _prepare_ward_lookup(lookup: pd.DataFrame | PathLike) -> pd.DataFrame:
    what = "the LSOA 2021 → ward best-fit lookup (ward_lookup=)"
    table = _standardise_columns(
        _as_table(lookup, what),
        ["lsoa21_code", "ward_code", "ward_name", "lad_code", "lad_name", "lsoa11_code"],
    )
    if "lsoa21_code" not in table.columns:
        if "lsoa11_code" in table.columns:
            msg = (
                f"LSOA vintage mismatch: {what} is keyed by LSOA 2011 codes; pass the "
                "ONS LSOA (2021) to ward best-fit lookup."
            )
        else:
            columns = ", ".join(map(str, table.columns))
            msg = f"{what} has no 'lsoa21_code' column (nor 'LSOA21CD'); it has {columns}."
        raise InputError(msg)
    if "ward_code" not in table.columns and "lad_code" not in table.columns:
        msg = f"{what} has neither a ward code nor an authority code column."
        raise InputError(msg)
    keep = [c for c in ("ward_code", "ward_name", "lad_code", "lad_name") if c in table]
    frame = pd.DataFrame({c: table[c].astype("string").to_numpy() for c in keep})
    frame.insert(0, "lsoa21_code", clean_codes(table["lsoa21_code"]).to_numpy())
    for column in ("ward_code", "lad_code"):
        if column in frame.columns:
            frame[column] = clean_codes(frame[column])
    return frame.dropna(subset=["lsoa21_code"]).drop_duplicates("lsoa21_code")


# --------------------------------------------------------------------------------------
# point in polygon


def _point_in_polygon(points: gpd.GeoSeries, layer: _Layer) -> pd.Series:
    """Code of the area containing each point (indexed like ``points``; NA if none).

    Points on a shared border intersect two areas; the one whose code sorts first wins.
    """
    code_column = layer.code_column
    result = pd.Series(pd.NA, index=points.index, dtype="string")
    if len(points) == 0:
        return result
    source, target = layer.frame.sindex.query(points.to_numpy(), predicate="intersects")
    if len(source) == 0:
        return result
    hits = pd.DataFrame(
        {
            "position": points.index.to_numpy()[source],
            "code": layer.frame[code_column].to_numpy()[target],
        }
    )
    hits = hits.sort_values(["position", "code"], kind="stable").drop_duplicates("position")
    result.loc[hits["position"].to_numpy()] = hits["code"].to_numpy()
    return result


def _resolve_splits(candidates: pd.DataFrame, points: gpd.GeoSeries, layer: _Layer) -> pd.DataFrame:
    """Choose among the 2021 parts of split LSOAs.

    The part containing the point wins, else the nearest part. ``candidates`` holds
    ``position`` and ``lsoa21_code``.
    """
    parts = layer.frame[["lsoa21_code", "geometry"]]
    pairs = candidates.merge(parts, on="lsoa21_code", how="inner")
    if pairs.empty:
        return pd.DataFrame(columns=["position", "lsoa21_code", "method"])
    point_geoms = points.loc[pairs["position"].to_numpy()].to_numpy()
    area_geoms = gpd.GeoSeries(pairs["geometry"]).to_numpy()
    pairs = pairs.drop(columns="geometry").assign(
        outside=~shapely.intersects(point_geoms, area_geoms),
        distance=shapely.distance(point_geoms, area_geoms),
    )
    best = pairs.sort_values(
        ["position", "outside", "distance", "lsoa21_code"], kind="stable"
    ).drop_duplicates("position")
    best["method"] = np.where(
        best["outside"], "lsoa11_lookup_split_nearest", "lsoa11_lookup_split_pip"
    )
    return best[["position", "lsoa21_code", "method"]]


# --------------------------------------------------------------------------------------
# assign_areas


_METHOD_CODES: Final[dict[str, int]] = {method: i for i, method in enumerate(AREA_METHODS)}


def _method_codes(methods: Any) -> np.ndarray:
    """Positions of method names in :data:`AREA_METHODS` (-1 for NA or unknown)."""
    return pd.Categorical(np.asarray(methods, dtype=object), categories=AREA_METHODS).codes


@dataclass(frozen=True)
class _Coded:
    """Area codes of every organisation, by position: ``uniques[keys]`` (NA where -1).

    A million organisations hold a few thousand distinct codes: looking codes up, testing
    them and cleaning them is done once per distinct code.
    """

    keys: np.ndarray
    uniques: pd.Index  # distinct cleaned codes, no NA

    @classmethod
    def from_series(cls, values: pd.Series) -> _Coded:
        """Clean codes (as :func:`clean_codes`) into their coded form."""
        return cls(*factorize_clean(values))

    @classmethod
    def empty(cls, n: int) -> _Coded:
        return cls(np.full(n, -1, dtype=np.intp), pd.Index(pd.array([], dtype="string")))

    def notna(self) -> np.ndarray:
        return self.keys >= 0

    def isin(self, values: Iterable[Any]) -> np.ndarray:
        """Bool array: the code is one of ``values`` (NA never is)."""
        hit = _isin(pd.Series(self.uniques), values)
        return np.append(hit, False)[self.keys]

    def where(self, mask: np.ndarray) -> _Coded:
        """Keep the codes where ``mask`` holds, NA elsewhere."""
        return _Coded(np.where(mask, self.keys, -1), self.uniques)

    def map(self, mapping: pd.Series) -> _Coded:
        """Look codes up in ``mapping`` (a string Series indexed by code); NA when unknown."""
        if mapping.empty:
            return _Coded.empty(len(self.keys))
        values = pd.array(mapping.reindex(self.uniques).to_numpy(), dtype="string")
        value_keys, value_uniques = pd.factorize(values)
        return _Coded(np.append(value_keys, -1)[self.keys], pd.Index(value_uniques))

    def take(self, positions: np.ndarray) -> pd.Series:
        """Return the codes at ``positions`` as a ``string`` Series indexed by them."""
        strings = pd.array(self.uniques, dtype="string")
        return pd.Series(strings.take(self.keys[positions], allow_fill=True), index=positions)

    def series(self) -> pd.Series:
        """Return every code, as a ``string`` Series on a RangeIndex."""
        return self.take(np.arange(len(self.keys))).reset_index(drop=True)


class _Assignment:
    """Codes and methods for one level, positional.

    Codes are kept as positions in a vocabulary of the codes found so far (-1 where none
    is), methods as positions in :data:`AREA_METHODS` (-1 where none), so that filling
    and finding the least certain method of a row are integer operations.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.keys = np.full(n, -1, dtype=np.intp)
        self.vocabulary: dict[str, int] = {}
        self.method_code = np.full(n, -1, dtype=np.int8)

    @property
    def coded(self) -> _Coded:
        return _Coded(self.keys, pd.Index(pd.array(list(self.vocabulary), dtype="string")))

    def missing(self) -> np.ndarray:
        """Bool array: True where no code has been found yet."""
        return self.keys < 0

    def fill(self, codes: pd.Series | _Coded, method: str | np.ndarray) -> None:
        """Fill still-missing codes from ``codes`` (a Series indexed by position, or all).

        ``method`` is one method for all, or an array of method positions in
        :data:`AREA_METHODS` aligned with ``codes`` (see :func:`_method_codes`).
        """
        if isinstance(codes, _Coded):
            keys, uniques, positions = codes.keys, codes.uniques, None
        else:
            keys, uniques = pd.factorize(codes.astype("string"))
            positions = codes.index.to_numpy()
        source = np.flatnonzero(np.asarray(keys) >= 0)
        targets = source if positions is None else positions[source]
        still_missing = self.keys[targets] < 0
        source, targets = source[still_missing], targets[still_missing]
        if len(targets) == 0:
            return
        vocabulary = self.vocabulary
        translate = np.array(
            [
                vocabulary.setdefault(code, len(vocabulary))
                for code in np.asarray(uniques, dtype=object)
            ],
            dtype=np.intp,
        )
        self.keys[targets] = translate[np.asarray(keys)[source]]
        if isinstance(method, str):
            self.method_code[targets] = _METHOD_CODES[method]
        else:
            self.method_code[targets] = np.asarray(method)[source]

    def set_method(self, mask: np.ndarray, method: str) -> None:
        self.method_code[mask] = _METHOD_CODES[method]


def _check_points(points: Any, action: str) -> None:
    if not isinstance(points, gpd.GeoDataFrame):
        msg = (
            f"points must be a GeoDataFrame of organisations (the output of "
            f"socecon_geo.geocode), not {type(points).__name__}."
        )
        raise InputError(msg)
    if len(points) == 0:
        msg = (
            f"points is empty: there are no organisations to {action}. Check the register "
            "was read and geocoded (socecon_geo.geocode) before this step."
        )
        raise InputError(msg)


def _point_locations(points: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return representative points of the usable geometries, indexed by position."""
    if points._geometry_column_name not in points.columns:
        msg = "points has no active geometry column; set one with `.set_geometry(...)`."
        raise InputError(msg)
    geometry = points.geometry.reset_index(drop=True)
    located = geometry[_has_geometry(geometry)]
    # A point is its own representative point: compute it for other shapes only.
    shapes = located.to_numpy()
    other = shapely.get_type_id(shapes) != shapely.GeometryType.POINT
    if other.any():
        shapes = shapes.copy()
        shapes[other] = shapely.point_on_surface(shapes[other])
    return gpd.GeoSeries(shapes, index=located.index, crs=located.crs)


def assign_areas(
    points: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | PathLike | None = None,
    lsoas21: gpd.GeoDataFrame | PathLike | None = None,
    lsoas11: gpd.GeoDataFrame | PathLike | None = None,
    authorities: gpd.GeoDataFrame | PathLike | None = None,
    lsoa_lookup: pd.DataFrame | PathLike | None = None,
    ward_lookup: pd.DataFrame | PathLike | None = None,
) -> gpd.GeoDataFrame:
    """Give every organisation its LSOA 2021, LSOA 2011, ward and authority.

    Codes come, in order of preference, from the postcode table's own codes
    (``postcode_lsoa21_code``, ``postcode_lsoa11_code``, ``postcode_ward_code``,
    ``postcode_lad_code``, each optional), from the ONS lookups passed, and by point in
    polygon in the layers passed. See :data:`AREA_METHODS` for every method and
    :data:`AREA_STATUSES` for the statuses.

    A ward code from the postcode table that the ``wards`` layer does not know (another
    ward vintage) is replaced by the ward containing the point, provided that ward lies
    in the same authority; otherwise it is kept.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Geocoded organisations (the output of :func:`socecon_geo.geocode`), in a
        projected CRS (EPSG:27700). Rows without a point keep their postcode codes.
    wards, lsoas21, lsoas11, authorities : geopandas.GeoDataFrame or path, optional
        Area layers with ``ward_code``/``lsoa21_code``/``lsoa11_code``/``lad_code``
        (official column names such as ``WD24CD`` or ``LSOA21CD`` are recognised; names
        and parent codes such as ``lad_code`` are used when present). Frames must be
        in the points' CRS; a path is read with :func:`socecon_geo.read_boundaries`,
        which reprojects it.
    lsoa_lookup : pandas.DataFrame or path, optional
        The ONS LSOA 2011 → LSOA 2021 lookup (``lsoa11_code``, ``lsoa21_code``,
        ``change_code``), to convert LSOA 2011 codes.
    ward_lookup : pandas.DataFrame or path, optional
        The ONS LSOA 2021 → ward → authority best-fit lookup (``lsoa21_code``,
        ``ward24_code``, ``ward24_name``, ``ltla24_code``, ``ltla24_name`` or the
        standard names), used for names and where a ward cannot be found otherwise.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` (same index and order, no row lost or repeated) with
        ``lsoa21_code``, ``lsoa11_code``, ``ward_code``, ``ward_name``, ``lad_code``,
        ``lad_name`` (``string``, NA where unknown), ``lsoa21_method``,
        ``lsoa11_method``, ``ward_method``, ``lad_method`` and ``area_method``
        (categorical, :data:`AREA_METHODS`) and ``area_status`` (categorical,
        :data:`AREA_STATUSES`). ``attrs["assign_areas"]`` records the inputs used and
        the counts by status.

    Raises
    ------
    InputError
        If ``points`` is empty or not a GeoDataFrame, or a layer or lookup lacks its
        code column (an LSOA 2011 layer passed as ``lsoas21`` is a vintage mismatch).
    CRSMismatchError
        If a layer or the points are in a geographic CRS, have no CRS, or differ.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> wards = gpd.GeoDataFrame(
    ...     {"ward_code": ["E05000001", "E05000002"], "ward_name": ["North", "South"],
    ...      "lad_code": ["E08000001", "E08000001"], "lad_name": ["Town", "Town"]},
    ...     geometry=[box(0, 500, 1000, 1000), box(0, 0, 1000, 500)], crs=27700)
    >>> orgs = gpd.GeoDataFrame({"org_id": ["a", "b", "c", "d"]},
    ...     geometry=[Point(200, 800), Point(300, 100), Point(5000, 5000), None],
    ...     crs=27700)
    >>> out = assign_areas(orgs, wards=wards)
    >>> out[["org_id", "ward_name", "lad_name", "ward_method", "area_status"]]
      org_id ward_name lad_name       ward_method    area_status
    0      a     North     Town  point_in_polygon       assigned
    1      b     South     Town  point_in_polygon       assigned
    2      c      <NA>     <NA>               NaN  outside_areas
    3      d      <NA>     <NA>               NaN    no_location
    """
    _check_points(points, "assign to areas")
    n = len(points)
    located = _point_locations(points)
    # CRS matters only where points meet polygons.
    meet = len(located) > 0 and any(x is not None for x in (wards, lsoas21, lsoas11, authorities))
    if meet:
        _check_projected(points.crs, "points")
    points_crs = points.crs if meet else None

    given = {
        "lsoas21": lsoas21,
        "lsoas11": lsoas11,
        "wards": wards,
        "authorities": authorities,
    }
    layers = {
        name: _prepare_layer(layer, name, points_crs)
        for name, layer in given.items()
        if layer is not None
    }
    lookup = _prepare_lsoa_lookup(lsoa_lookup) if lsoa_lookup is not None else None
    bestfit = _prepare_ward_lookup(ward_lookup) if ward_lookup is not None else None
    if lookup is not None:
        _check_layer_vintages(layers, lookup)

    def postcode_codes(level: str) -> _Coded:
        column = _POSTCODE_COLUMNS[level]
        if column not in points.columns:
            return _Coded.empty(n)
        return _Coded.from_series(points[column])

    postcode = {level: postcode_codes(level) for level in _POSTCODE_COLUMNS}
    lsoa21, lsoa11 = _Assignment(n), _Assignment(n)
    ward, lad = _Assignment(n), _Assignment(n)

    # LSOA 2011: the postcode table, else point in polygon.
    lsoa11.fill(postcode["lsoa11"], "postcode_table")
    located_at = located.index.to_numpy()
    if "lsoas11" in layers:
        need = located[lsoa11.missing()[located_at]]
        lsoa11.fill(_point_in_polygon(need, layers["lsoas11"]), "point_in_polygon")

    # LSOA 2021: the postcode table, else convert exact LSOA 2011 codes, else point in
    # polygon, else convert LSOA 2011 codes found by point in polygon.
    lsoa21.fill(postcode["lsoa21"], "postcode_table")
    if lookup is not None:
        exact = lsoa11.method_code == _METHOD_CODES["postcode_table"]
        if "lsoas21" not in layers:
            exact = ~lsoa11.missing()
        _convert_lsoa11(lsoa21, lsoa11.coded.take(np.flatnonzero(exact)), lookup, located, layers)
    if "lsoas21" in layers:
        need = located[lsoa21.missing()[located_at]]
        lsoa21.fill(_point_in_polygon(need, layers["lsoas21"]), "point_in_polygon")
    if lookup is not None:
        rest = ~lsoa11.missing() & lsoa21.missing() & (lsoa21.method_code < 0)
        _convert_lsoa11(lsoa21, lsoa11.coded.take(np.flatnonzero(rest)), lookup, located, layers)
        lsoa11.fill(lsoa21.coded.map(lookup.backward), "lsoa21_lookup")

    # Ward: the postcode table (when the layer knows the code), else point in polygon
    # within the same authority, else the postcode code anyway, else the best fit.
    ward_layer = layers.get("wards")
    usable = postcode["ward"]
    if ward_layer is not None:
        usable = usable.where(usable.isin(ward_layer.codes))
    ward.fill(usable, "postcode_table")
    if ward_layer is not None:
        need = located[ward.missing()[located_at]]
        found = _point_in_polygon(need, ward_layer)
        found_lad = _map_codes(found, _first_mapping(_pairs(ward_layer, "ward_code", "lad_code")))
        known_lad = postcode["lad"].take(found.index.to_numpy())
        agrees = known_lad.isna() | found_lad.isna() | (found_lad == known_lad)
        ward.fill(found[agrees.fillna(False).to_numpy()], "point_in_polygon")
    ward.fill(postcode["ward"], "postcode_table")
    lsoa21_layer, lsoa11_layer = layers.get("lsoas21"), layers.get("lsoas11")
    lookup_frame = lookup.frame if lookup is not None else None
    bestfit_wards = _first_mapping(
        [
            *_pairs(bestfit, "lsoa21_code", "ward_code"),
            *_pairs(lsoa21_layer, "lsoa21_code", "ward_code"),
        ]
    )
    ward.fill(lsoa21.coded.map(bestfit_wards), "lsoa21_bestfit_lookup")

    # Authority: the postcode table, else the ward's, else point in polygon, else the
    # LSOA's.
    lad.fill(postcode["lad"], "postcode_table")
    ward_to_lad = _first_mapping(
        [
            *_pairs(ward_layer, "ward_code", "lad_code"),
            *_pairs(bestfit, "ward_code", "lad_code"),
            *_pairs(lsoa21_layer, "ward_code", "lad_code"),
        ]
    )
    lad.fill(ward.coded.map(ward_to_lad), "parent_of_ward")
    if "authorities" in layers:
        need = located[lad.missing()[located_at]]
        lad.fill(_point_in_polygon(need, layers["authorities"]), "point_in_polygon")
    lsoa21_to_lad = _first_mapping(
        [
            *_pairs(lsoa21_layer, "lsoa21_code", "lad_code"),
            *_pairs(bestfit, "lsoa21_code", "lad_code"),
            *_pairs(lookup_frame, "lsoa21_code", "lad_code"),
        ]
    )
    lsoa11_to_lad = _first_mapping(
        [
            *_pairs(lsoa11_layer, "lsoa11_code", "lad_code"),
            *_pairs(lookup_frame, "lsoa11_code", "lad_code"),
        ]
    )
    lad.fill(lsoa21.coded.map(lsoa21_to_lad), "parent_of_lsoa")
    lad.fill(lsoa11.coded.map(lsoa11_to_lad), "parent_of_lsoa")

    # Names, from the layers first, then the lookups.
    ward_names = _first_mapping(
        [
            *_pairs(ward_layer, "ward_code", "ward_name"),
            *_pairs(bestfit, "ward_code", "ward_name"),
            *_pairs(lsoa21_layer, "ward_code", "ward_name"),
        ]
    )
    lad_names = _first_mapping(
        [
            *_pairs(layers.get("authorities"), "lad_code", "lad_name"),
            *_pairs(ward_layer, "lad_code", "lad_name"),
            *_pairs(lsoa21_layer, "lad_code", "lad_name"),
            *_pairs(lsoa11_layer, "lad_code", "lad_name"),
            *_pairs(bestfit, "lad_code", "lad_name"),
            *_pairs(lookup_frame, "lad_code", "lad_name"),
        ]
    )

    status = _area_status(
        n=n,
        located=located,
        postcode=postcode,
        codes={
            "lsoa21": lsoa21.coded,
            "lsoa11": lsoa11.coded,
            "ward": ward.coded,
            "lad": lad.coded,
        },
        layers=layers,
        available=_available_levels(postcode, layers, lookup, bestfit),
    )
    methods = {
        "lsoa21_method": lsoa21,
        "lsoa11_method": lsoa11,
        "ward_method": ward,
        "lad_method": lad,
    }
    # the least certain method: the highest position in AREA_METHODS (-1 when none)
    worst = np.max([level.method_code for level in methods.values()], axis=0)
    method_dtype = pd.CategoricalDtype(AREA_METHODS)

    out = points.copy()
    columns: dict[str, Any] = {
        "lsoa21_code": lsoa21.coded.series(),
        "lsoa11_code": lsoa11.coded.series(),
        "ward_code": ward.coded.series(),
        "ward_name": ward.coded.map(ward_names).series(),
        "lad_code": lad.coded.series(),
        "lad_name": lad.coded.map(lad_names).series(),
        **{
            k: pd.Categorical.from_codes(v.method_code, dtype=method_dtype)
            for k, v in methods.items()
        },
        "area_method": pd.Categorical.from_codes(worst, dtype=method_dtype),
        "area_status": status,
    }
    for name in _OUTPUT_COLUMNS:
        value = columns[name]
        if name.endswith(("_code", "_name")):
            value = value.astype("string").array
        out[name] = value
    counts = out["area_status"].value_counts(sort=False)
    out.attrs = {
        **points.attrs,
        "assign_areas": {
            "layers": {name: len(layer.codes) for name, layer in layers.items()},
            "lsoa_lookup": lookup is not None,
            "ward_lookup": bestfit is not None,
            "status_counts": {str(k): int(v) for k, v in counts.items()},
        },
    }
    return out


def _has(frame: pd.DataFrame | None, *columns: str) -> bool:
    return frame is not None and all(c in frame.columns for c in columns)


def _pairs(
    source: _Layer | pd.DataFrame | None, key: str, value: str
) -> list[tuple[pd.Series, pd.Series]]:
    """Return the (key, value) columns of a layer or lookup: a list of 0 or 1 pair."""
    frame = source.frame if isinstance(source, _Layer) else source
    if frame is None or key not in frame.columns or value not in frame.columns:
        return []
    return [(frame[key], frame[value])]


def _check_layer_vintages(layers: Mapping[str, _Layer], lookup: _LsoaLookup) -> None:
    """Catch an LSOA layer whose codes are of the other vintage than its argument says."""
    codes11 = set(lookup.frame["lsoa11_code"].to_numpy(dtype=object))
    codes21 = set(lookup.frame["lsoa21_code"].to_numpy(dtype=object))
    only11, only21 = codes11 - codes21, codes21 - codes11
    for name, wrong, label in (("lsoas21", only11, "2011"), ("lsoas11", only21, "2021")):
        layer = layers.get(name)
        if layer is None:
            continue
        stray = layer.codes & wrong
        if stray:
            example = sorted(stray)[0]
            right = "lsoas11" if label == "2011" else "lsoas21"
            msg = (
                f"LSOA vintage mismatch: the {name}= layer holds {len(stray)} codes that "
                f"exist only in LSOA {label} (e.g. {example}). Pass LSOA {label} "
                f"boundaries as {right}=, and the other vintage as {name}=."
            )
            raise InputError(msg)


def _convert_lsoa11(
    lsoa21: _Assignment,
    codes11: pd.Series,
    lookup: _LsoaLookup,
    located: gpd.GeoSeries,
    layers: Mapping[str, _Layer],
) -> None:
    """Fill LSOA 2021 codes from LSOA 2011 codes (indexed by position)."""
    codes11 = codes11.dropna()
    codes11 = codes11[lsoa21.missing()[codes11.index.to_numpy()]]
    if codes11.empty:
        return
    # Look each distinct LSOA 2011 code up once. A code that was not split has exactly
    # one link in ``lookup.forward``.
    keys, uniques = _codes_and_uniques(codes11)
    forward = lookup.forward
    is_split = (forward["method"] == "split").to_numpy()
    single = forward[~is_split].set_index("lsoa11_code")
    row = single.index.get_indexer(uniques)[keys]
    hit = row >= 0
    positions = codes11.index.to_numpy()
    lsoa21.fill(
        pd.Series(single["lsoa21_code"].array.take(row[hit]), index=positions[hit]),
        _method_codes(single["method"])[row[hit]],
    )
    split_links = forward[is_split]
    splits = _isin(pd.Series(uniques), split_links["lsoa11_code"])[keys]
    if not splits.any():
        return
    split = pd.DataFrame(
        {"position": positions[splits], "lsoa11_code": codes11[splits].to_numpy()}
    ).merge(split_links, on="lsoa11_code", how="inner")
    layer = layers.get("lsoas21")
    resolved = pd.DataFrame(columns=["position", "lsoa21_code", "method"])
    if layer is not None:
        with_point = split[split["position"].isin(located.index)]
        resolved = _resolve_splits(with_point[["position", "lsoa21_code"]], located, layer)
        if not resolved.empty:
            index = resolved["position"].to_numpy()
            lsoa21.fill(
                pd.Series(resolved["lsoa21_code"].to_numpy(), index=index, dtype="string"),
                _method_codes(resolved["method"]),
            )
    unresolved = np.setdiff1d(split["position"].unique(), resolved["position"].to_numpy())
    if len(unresolved):
        mask = np.zeros(lsoa21.n, dtype=bool)
        mask[unresolved] = True
        lsoa21.set_method(mask & lsoa21.missing(), "ambiguous_split")


def _available_levels(
    postcode: Mapping[str, _Coded],
    layers: Mapping[str, _Layer],
    lookup: _LsoaLookup | None,
    bestfit: pd.DataFrame | None,
) -> set[str]:
    """Levels the inputs can provide a code for."""
    lsoa21_layer = layers.get("lsoas21")
    available: set[str] = set()
    if postcode["lsoa11"].notna().any() or "lsoas11" in layers:
        available.add("lsoa11")
    if (
        postcode["lsoa21"].notna().any()
        or lsoa21_layer is not None
        or (lookup is not None and "lsoa11" in available)
    ):
        available.add("lsoa21")
    if lookup is not None and "lsoa21" in available:
        available.add("lsoa11")
    if (
        postcode["ward"].notna().any()
        or "wards" in layers
        or ("lsoa21" in available and _has(bestfit, "ward_code"))
        or (lsoa21_layer is not None and "ward_code" in lsoa21_layer.frame.columns)
    ):
        available.add("ward")
    if (
        postcode["lad"].notna().any()
        or "authorities" in layers
        or any("lad_code" in layer.frame.columns for layer in layers.values())
        or _has(bestfit, "lad_code")
        or (lookup is not None and "lad_code" in lookup.frame.columns)
    ):
        available.add("lad")
    return available


def _area_status(
    *,
    n: int,
    located: gpd.GeoSeries,
    postcode: Mapping[str, _Coded],
    codes: Mapping[str, _Coded],
    layers: Mapping[str, _Layer],
    available: set[str],
) -> pd.Categorical:
    """``area_status`` of every organisation, by position."""
    has_point = np.zeros(n, dtype=bool)
    has_point[located.index.to_numpy()] = True
    has_codes = np.logical_or.reduce([coded.notna() for coded in postcode.values()])
    no_location = ~has_point & ~has_codes
    inside = np.zeros(n, dtype=bool)
    for layer in layers.values():
        inside |= codes[layer.level].isin(layer.codes)
    outside = ~no_location & ~inside if layers else np.zeros(n, dtype=bool)
    complete = np.ones(n, dtype=bool) if available else np.zeros(n, dtype=bool)
    for level in available:
        complete &= codes[level].notna()
    status = np.select(
        [no_location, outside, complete],
        [AREA_STATUSES.index(name) for name in ("no_location", "outside_areas", "assigned")],
        default=AREA_STATUSES.index("partial"),
    )
    return pd.Categorical.from_codes(status, categories=AREA_STATUSES)


# --------------------------------------------------------------------------------------
# population


_NOT_CSV: Final[frozenset[str]] = frozenset(
    {".geojson", ".json", ".gpkg", ".shp", ".parquet", ".xlsx", ".xls", ".ods", ".zip"}
)
_CODE_HEADERS: Final[dict[str, int | None]] = {
    "lsoa21code": 2021,
    "lsoa21cd": 2021,
    "lsoacode2021": 2021,
    "lowerlayersuperoutputareascode": 2021,
    "lowerlayersuperoutputareas2021code": 2021,
    "geographycode": 2021,
    "lsoa11code": 2011,
    "lsoa11cd": 2011,
    "lsoacode2011": 2011,
    "lsoacode": None,
}
_NAME_HEADERS: Final[tuple[str, ...]] = (
    "lsoa21name",
    "lsoa21nm",
    "lsoaname2021",
    "lsoa11name",
    "lsoa11nm",
    "lsoaname2011",
    "lsoaname",
    "lowerlayersuperoutputareas",
    "geography",
)
_CENSUS_LABEL: Final[tuple[str, str]] = (
    "ONS Census 2021, usual residents by LSOA 2021 (Open Government Licence v3.0)",
    "Census 2021 usual residents",
)
_IOD_POPULATION: Final[dict[str, tuple[str, str, int]]] = {
    "iod2025": (
        "MHCLG English Indices of Deprivation 2025, population denominators (OGL v3.0)",
        "IoD2025 mid-2022",
        2021,
    ),
    "iod2019": (
        "MHCLG English Indices of Deprivation 2019, population denominators (OGL v3.0)",
        "IoD2019 mid-2015",
        2011,
    ),
}


def _population_column(
    headers: Mapping[str, str], attrs: Mapping[str, Any]
) -> tuple[str, str, str, int | None] | None:
    """Find (column, source, vintage label, LSOA vintage) of the total population."""
    for column, norm in headers.items():
        if norm == "usualresidents" or norm.startswith("residencetypetotal"):
            return column, *_CENSUS_LABEL, 2021
    for column, norm in headers.items():
        if norm.startswith("totalpopulationmid2022"):
            return column, *_IOD_POPULATION["iod2025"]
        if norm.startswith("totalpopulationmid2015"):
            return column, *_IOD_POPULATION["iod2019"]
    for column, norm in headers.items():
        if norm in ("populationtotal", "population"):
            vintage = str(attrs.get("vintage", "")).lower()
            if vintage in _IOD_POPULATION:
                return column, *_IOD_POPULATION[vintage]
            source = str(attrs.get("source", "population table"))
            label = str(attrs.get("vintage", "population"))
            lsoa_vintage = attrs.get("lsoa_vintage")
            return column, source, label, int(lsoa_vintage) if lsoa_vintage else None
    return None


def read_population(
    path: PathLike | pd.DataFrame,
    *,
    level: Literal["lsoa21", "lsoa11"] | None = "lsoa21",
) -> pd.DataFrame:
    """Read residents by LSOA, for rates per resident.

    Recognised layouts:

    * Census 2021 usual residents by LSOA 2021: ``lsoa21_code, lsoa21_name,
      usual_residents``, or the ONS TS001 table (``geography code``,
      ``Residence type: Total; measures: Value``);
    * the population denominators of the English Indices of Deprivation: IoD2025 File 7
      (``Total population: mid 2022``, LSOA 2021) and IoD2019 File 6 or File 7
      (``Total population: mid 2015 (excluding prisoners)``, LSOA 2011), byte-order mark
      and thousands separators allowed;
    * a tidy frame from :func:`socecon_geo.read_deprivation` with ``population_total``,
      or one from this function.

    Parameters
    ----------
    path : path or pandas.DataFrame
        A CSV file, or a frame already read.
    level : {"lsoa21", "lsoa11"} or None, default "lsoa21"
        The LSOA vintage expected. A file of the other vintage is an error (its codes
        would silently miss every split or merged LSOA); ``None`` accepts either.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA: ``lsoa_code`` (``string``), ``lsoa_name`` when the file has
        names, ``population`` (float). ``attrs`` holds ``source``, ``vintage`` (e.g.
        ``"Census 2021 usual residents"`` or ``"IoD2025 mid-2022"``), ``lsoa_vintage``
        (2021 or 2011) and ``path``.

    Raises
    ------
    InputError
        If the file is not a CSV, has no LSOA code or population column, holds bad codes,
        repeated codes, missing, non-numeric or negative counts (all reported at once),
        or is of another LSOA vintage than ``level``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lsoa21_code": ["E01000001", "E01000002"],
    ...                       "usual_residents": ["1,477", "1384"]})
    >>> population = read_population(table)
    >>> population
       lsoa_code  population
    0  E01000001      1477.0
    1  E01000002      1384.0
    >>> population.attrs["vintage"]
    'Census 2021 usual residents'
    """
    if level not in ("lsoa21", "lsoa11", None):
        msg = f"level must be 'lsoa21', 'lsoa11' or None, not {level!r}."
        raise InputError(msg)
    if isinstance(path, pd.DataFrame):
        table, where, attrs, file_name = path, "population table", dict(path.attrs), None
    elif isinstance(path, str | os.PathLike):
        file = Path(path)
        if file.suffix.lower() in _NOT_CSV:
            msg = (
                f"population file {file.name!r} is not a CSV file; pass the Census 2021 "
                "usual residents CSV or an IoD population denominators CSV."
            )
            raise InputError(msg)
        table = read_csv_text(file, "population")
        where, attrs, file_name = f"population file {file.name!r}", {}, str(file)
    else:
        msg = f"path must be a CSV path or a DataFrame, not {type(path).__name__}."
        raise InputError(msg)

    headers = {column: _norm_header(column) for column in table.columns}
    code_column, lsoa_vintage = None, None
    for column, norm in headers.items():
        if norm in _CODE_HEADERS:
            code_column, lsoa_vintage = column, _CODE_HEADERS[norm]
            break
    found = _population_column(headers, attrs)
    problems = Problems(where)
    if code_column is None:
        problems.add(
            "no LSOA code column (looked for 'lsoa21_code', 'LSOA code (2021)', "
            "'LSOA code (2011)', 'geography code', 'lsoa_code')"
        )
    if found is None:
        problems.add(
            "no total population column (looked for 'usual_residents' (Census 2021), "
            "'Total population: mid 2022' (IoD2025 File 7), 'Total population: mid 2015' "
            "(IoD2019 File 6 or 7), 'population_total'); a file of IoD scores, ranks and "
            "deciles alone carries no population"
        )
    problems.raise_if_any(InputError)
    assert code_column is not None  # for type checkers
    assert found is not None
    pop_column, source, vintage, pop_vintage = found
    if lsoa_vintage is None:
        lsoa_vintage = pop_vintage if pop_vintage is not None else attrs.get("lsoa_vintage")

    first_row = 2 if file_name else 0
    codes = clean_codes(table[code_column]).reset_index(drop=True)
    raw = table[pop_column].reset_index(drop=True)
    parsed = parse_numbers(raw)  # "1,477" is a number; "1.477,5" is not guessed
    values = pd.Series(parsed.values, dtype="float64")
    raw = raw.astype("string").str.strip()

    def rows(mask: pd.Series) -> str:
        positions = (np.flatnonzero(mask.to_numpy()) + first_row)[:5].tolist()
        more = " …" if int(mask.sum()) > 5 else ""
        label = "lines" if file_name else "rows"
        return f"{label} {', '.join(map(str, positions))}{more}"

    missing_code = codes.isna()
    if missing_code.any():
        problems.add(f"{int(missing_code.sum())} rows have no LSOA code ({rows(missing_code)})")
    bad_code = codes.notna() & ~codes.str.fullmatch(_LSOA_CODE.pattern).fillna(False)
    if bad_code.any():
        example = codes[bad_code].iloc[0]
        problems.add(
            f"{int(bad_code.sum())} codes are not LSOA codes like 'E01000001' "
            f"(e.g. {example!r}, {rows(bad_code)})"
        )
    repeated = codes.notna() & codes.duplicated(keep=False)
    if repeated.any():
        problems.add(
            f"{int(codes[repeated].nunique())} LSOA codes appear more than once "
            f"(e.g. {codes[repeated].iloc[0]!r}, {rows(repeated)})"
        )
    missing = raw.isna() | (raw == "")
    if missing.any():
        problems.add(f"{int(missing.sum())} rows have no population ({rows(missing)})")
    ambiguous = pd.Series(parsed.ambiguous)
    if ambiguous.any():
        problems.add(
            f"{int(ambiguous.sum())} populations are written with a decimal comma or dots "
            f"between thousands (e.g. {shown_value(raw[ambiguous].iloc[0])}, {rows(ambiguous)}); "
            "such numbers are not guessed: write counts as 1477 or 1,477"
        )
    not_number = ~missing & values.isna() & ~ambiguous
    if not_number.any():
        example = raw[not_number].iloc[0]
        problems.add(
            f"{int(not_number.sum())} populations are not numbers (e.g. {example!r}, "
            f"{rows(not_number)})"
        )
    negative = values < 0
    if negative.any():
        problems.add(f"{int(negative.sum())} populations are negative ({rows(negative)})")
    problems.raise_if_any(InputError, hint=f"Column {pop_column!r} should hold residents.")

    if level is not None:
        wanted = _LSOA_VINTAGE[level]
        if lsoa_vintage is not None and int(lsoa_vintage) != wanted:
            fix = (
                "the Census 2021 usual residents table or IoD2025 File 7"
                if wanted == 2021
                else "IoD2019 File 6 or File 7"
            )
            msg = (
                f"LSOA vintage mismatch: {where} gives {vintage} populations by LSOA "
                f"{lsoa_vintage}, but level={level!r} asks for LSOA {wanted}. Use {fix}, "
                "or pass level=None to accept either."
            )
            raise InputError(msg)
        lsoa_vintage = lsoa_vintage or wanted

    result = pd.DataFrame({"lsoa_code": codes})
    for column, norm in headers.items():
        if norm in _NAME_HEADERS and column != code_column:
            result["lsoa_name"] = table[column].astype("string").reset_index(drop=True)
            break
    result["population"] = values
    result.attrs = {
        "source": source,
        "vintage": vintage,
        "lsoa_vintage": int(lsoa_vintage) if lsoa_vintage is not None else None,
        "path": file_name if file_name else attrs.get("path"),
    }
    return result


# --------------------------------------------------------------------------------------
# summarise_areas


def _infer_level(frame: pd.DataFrame, level: str | None) -> str:
    if level is not None:
        if level not in _LEVELS:
            msg = f"level must be one of {', '.join(map(repr, _LEVELS))}, not {level!r}."
            raise InputError(msg)
        code_column = _LEVELS[level][0]
        if code_column not in frame.columns:
            other = {"lsoa21": "lsoa11", "lsoa11": "lsoa21"}.get(level)
            if other and _LEVELS[other][0] in frame.columns:
                msg = (
                    f"LSOA vintage mismatch: level={level!r} but areas holds "
                    f"{_LEVEL_LABELS[other]} codes ({_LEVELS[other][0]!r}). Pass "
                    f"level={other!r}, or {_LEVEL_LABELS[level]} areas."
                )
            else:
                msg = f"areas has no {code_column!r} column for level={level!r}."
            raise InputError(msg)
        return level
    for candidate, (code_column, _) in _LEVELS.items():
        if code_column in frame.columns:
            return candidate
    columns = ", ".join(map(str, frame.columns))
    msg = (
        "areas has none of the code columns 'lsoa21_code', 'lsoa11_code', 'ward_code', "
        f"'lad_code' (nor official ones such as 'WD24CD'); it has {columns}."
    )
    raise InputError(msg)


def _column_suffix(value: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_") or "unknown"


def _text_keys(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Factorise values compared as text: positions (-1 for NA) and the distinct texts."""
    if is_text_categorical(values.dtype):
        return values.cat.codes.to_numpy(), values.cat.categories
    return _codes_and_uniques(values.astype("string"))


def _count_table(
    rows: np.ndarray,
    value_keys: np.ndarray,
    value_uniques: pd.Index,
    area_codes: pd.Index,
    categories: list[str],
) -> pd.DataFrame:
    """Count each category per area (zeros included).

    ``rows`` holds the position of each organisation's area in ``area_codes`` (-1 when
    it is not counted); ``value_uniques[value_keys]`` is its value (-1 for NA).
    """
    columns = pd.Index(categories, dtype=object)
    if not columns.is_unique:
        values = np.append(np.asarray(value_uniques, dtype=object), None)[value_keys]
        counted = rows >= 0
        frame = pd.DataFrame(
            {
                "code": area_codes.to_numpy()[rows[counted]],
                "value": pd.array(values[counted], dtype="string"),
            }
        ).dropna()
        if frame.empty:
            return pd.DataFrame(0, index=area_codes, columns=categories, dtype="int64")
        counts = frame.groupby(["code", "value"]).size().unstack(fill_value=0)
        counts = counts.reindex(index=area_codes, columns=categories, fill_value=0)
        return counts.fillna(0).astype("int64")
    found = columns.get_indexer(pd.Index(np.asarray(value_uniques, dtype=object), dtype=object))
    cols = np.append(found, -1)[value_keys]
    counted = (rows >= 0) & (cols >= 0)
    width = len(columns)
    flat = np.bincount(rows[counted] * width + cols[counted], minlength=len(area_codes) * width)
    return pd.DataFrame(
        flat.astype("int64").reshape(len(area_codes), width), index=area_codes, columns=categories
    )


def _global_eb(counts: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Global empirical-Bayes rates (Marshall 1991, method of moments); NaN where no population.

    Each raw rate ``r_i = e_i / p_i`` is shrunk toward the overall rate ``m = Σe / Σp``
    with weight ``w_i = A / (A + m / p_i)``, where ``A = s² - m / p̄`` is the
    between-area variance (``s²`` the population-weighted variance of the raw rates,
    ``p̄`` the mean population), set to 0 when negative (all areas then get ``m``).
    """
    counts = np.asarray(counts, dtype="float64")
    population = np.asarray(population, dtype="float64")
    result = np.full(counts.shape, np.nan)
    valid = np.isfinite(population) & (population > 0)
    if not valid.any():
        return result
    e, p = counts[valid], population[valid]
    overall = e.sum() / p.sum()
    raw = e / p
    if overall == 0:
        result[valid] = raw
        return result
    spread = float(np.sum(p * (raw - overall) ** 2) / p.sum())
    between = max(spread - overall / p.mean(), 0.0)
    weight = between / (between + overall / p)
    result[valid] = weight * raw + (1 - weight) * overall
    return result


@dataclass
class _Weights:
    table: pd.DataFrame  # lsoa_code, area_code, weight
    lsoa_vintage: int | None
    method: str


def _lsoa_weights(
    level: str,
    area_codes: pd.Index,
    areas_geometry: gpd.GeoSeries,
    lsoa_to_area: pd.DataFrame | PathLike | None,
    lsoas: gpd.GeoDataFrame | None,
    prefer_vintage: int | None,
) -> _Weights:
    """How much of each LSOA lies in each area."""
    if level in _LSOA_VINTAGE:
        table = pd.DataFrame(
            {"lsoa_code": area_codes.to_numpy(), "area_code": area_codes.to_numpy(), "weight": 1.0}
        )
        return _Weights(table, _LSOA_VINTAGE[level], "direct")
    label = _LEVEL_LABELS[level]
    code_column = _LEVELS[level][0]
    if lsoa_to_area is not None:
        what = "lsoa_to_area"
        mapping = _standardise_columns(
            _as_table(lsoa_to_area, what), ["lsoa21_code", "lsoa11_code", code_column]
        )
        keys = [c for c in ("lsoa21_code", "lsoa11_code") if c in mapping.columns]
        if prefer_vintage == 2011 and "lsoa11_code" in keys:
            keys = ["lsoa11_code"]
        if not keys or code_column not in mapping.columns:
            columns = ", ".join(map(str, mapping.columns))
            msg = (
                f"{what} must map LSOA codes ('lsoa21_code' or 'lsoa11_code') to "
                f"{code_column!r} (or official names such as 'WD24CD'); it has {columns}. "
                "Pass the ONS LSOA 2021 to ward to LAD best-fit lookup."
            )
            raise InputError(msg)
        key = keys[0]
        table = pd.DataFrame(
            {
                "lsoa_code": clean_codes(mapping[key]).to_numpy(),
                "area_code": clean_codes(mapping[code_column]).to_numpy(),
            }
        ).dropna()
        table = table[table["area_code"].isin(area_codes)].drop_duplicates()
        repeated = table["lsoa_code"].duplicated(keep=False)
        if repeated.any():
            example = table.loc[repeated, "lsoa_code"].iloc[0]
            msg = (
                f"{what} puts LSOA {example} (and {int(repeated.sum()) - 1} more rows) in "
                f"several {label}s; pass a best-fit lookup (one {label} per LSOA), or "
                "lsoas= to share LSOAs by areal overlap."
            )
            raise InputError(msg)
        uncovered = area_codes.difference(pd.Index(table["area_code"].unique()))
        if len(uncovered):
            examples = ", ".join(map(str, uncovered[:5]))
            msg = (
                f"{len(uncovered)} of {len(area_codes)} {label}s in areas have no LSOA in "
                f"{what} (e.g. {examples}): the lookup and the areas are probably of "
                "different vintages. Pass a lookup of the areas' vintage, or lsoas= "
                "(LSOA polygons) to aggregate by areal overlap instead."
            )
            raise InputError(msg)
        return _Weights(
            table.assign(weight=1.0).reset_index(drop=True),
            _LSOA_VINTAGE[key.removesuffix("_code")],
            "bestfit_lookup",
        )
    if lsoas is not None:
        return _overlap_weights(lsoas, area_codes, areas_geometry, level)
    msg = (
        f"summarising by {label} with population or deprivation needs a way from LSOAs to "
        f"{label}s: pass lsoa_to_area= (e.g. the ONS LSOA 2021 best-fit lookup) or lsoas= "
        "(LSOA polygons, for areal overlap)."
    )
    raise InputError(msg)


def _overlap_weights(
    lsoas: gpd.GeoDataFrame, area_codes: pd.Index, areas_geometry: gpd.GeoSeries, level: str
) -> _Weights:
    if not isinstance(lsoas, gpd.GeoDataFrame):
        msg = f"lsoas must be a GeoDataFrame of LSOA polygons, not {type(lsoas).__name__}."
        raise InputError(msg)
    _check_projected(lsoas.crs, "lsoas")
    _check_same_crs(lsoas.crs, "lsoas", areas_geometry.crs, "areas")
    frame = _standardise_columns(
        pd.DataFrame(lsoas.drop(columns=lsoas.geometry.name)), ["lsoa21_code", "lsoa11_code"]
    )
    key = next((c for c in ("lsoa21_code", "lsoa11_code") if c in frame.columns), None)
    if key is None:
        msg = "lsoas has no 'lsoa21_code' or 'lsoa11_code' column (nor 'LSOA21CD')."
        raise InputError(msg)
    geometry = lsoas.geometry.reset_index(drop=True)
    left = gpd.GeoDataFrame(
        {"lsoa_code": clean_codes(frame[key]).to_numpy()},
        geometry=shapely.make_valid(geometry.to_numpy()),
        crs=lsoas.crs,
    )
    left = left[left["lsoa_code"].notna() & ~left.geometry.is_empty]
    total = left.assign(area=left.area).groupby("lsoa_code")["area"].sum()
    right = gpd.GeoDataFrame(
        {"area_code": area_codes.to_numpy()},
        geometry=shapely.make_valid(areas_geometry.to_numpy()),
        crs=areas_geometry.crs,
    )
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    pieces = pieces.assign(piece=pieces.area)
    table = pieces.groupby(["lsoa_code", "area_code"], as_index=False)["piece"].sum()
    table["weight"] = table["piece"] / total.reindex(table["lsoa_code"]).to_numpy()
    table = table[table["weight"] > 0][["lsoa_code", "area_code", "weight"]]
    return _Weights(
        table.reset_index(drop=True), _LSOA_VINTAGE[key.removesuffix("_code")], "areal_overlap"
    )


def _resolve_population(population: Any, deprivation: pd.DataFrame | None) -> pd.DataFrame | None:
    if population is None:
        if deprivation is not None and "population_total" in deprivation.columns:
            return read_population(deprivation, level=None)
        return None
    if isinstance(population, pd.DataFrame) and {"lsoa_code", "population"} <= set(
        population.columns
    ):
        frame = population
        frame = frame.assign(lsoa_code=clean_codes(frame["lsoa_code"])).dropna(subset=["lsoa_code"])
        repeated = frame["lsoa_code"][frame["lsoa_code"].duplicated()].unique()
        if len(repeated):
            shown = ", ".join(map(str, repeated[:5]))
            msg = (
                f"population has {len(repeated)} LSOA code(s) more than once after cleaning "
                f"(upper case, no spaces), e.g. {shown}; keep one row per LSOA."
            )
            raise InputError(msg)
        return frame
    return read_population(population, level=None)


def _resolve_deprivation(deprivation: Any) -> pd.DataFrame | None:
    if deprivation is None:
        return None
    if isinstance(deprivation, str | os.PathLike):
        deprivation = read_deprivation(deprivation)
    if not isinstance(deprivation, pd.DataFrame):
        msg = (
            "deprivation must be a tidy IoD frame (socecon_geo.read_deprivation) or the path "
            f"of an IoD file, not {type(deprivation).__name__}."
        )
        raise InputError(msg)
    missing = [c for c in ("lsoa_code", "imd_decile") if c not in deprivation.columns]
    if missing:
        columns = ", ".join(map(str, deprivation.columns[:12]))
        msg = (
            f"deprivation lacks {' and '.join(map(repr, missing))} (it has {columns}, …); "
            "read IoD files with socecon_geo.read_deprivation."
        )
        raise InputError(msg)
    return deprivation


def _check_lsoa_vintage(table_vintage: Any, what: str, weights: _Weights, fix: str) -> None:
    if table_vintage is None or weights.lsoa_vintage is None:
        return
    if int(table_vintage) != weights.lsoa_vintage:
        via = {
            "direct": "the areas are",
            "bestfit_lookup": "lsoa_to_area is keyed by",
            "areal_overlap": "lsoas are",
        }[weights.method]
        msg = (
            f"LSOA vintage mismatch: {what} is by LSOA {int(table_vintage)} but {via} "
            f"LSOA {weights.lsoa_vintage}; codes of split and merged LSOAs would silently "
            f"not match. {fix}"
        )
        raise InputError(msg)


def _check_coverage(found: pd.Series, what: str, weights: _Weights) -> None:
    """Raise when most LSOAs of the areas are missing from a table (a vintage mix-up)."""
    share = float(found.mean()) if len(found) else 1.0
    if share < 0.5:
        msg = (
            f"only {int(found.sum())} of {len(found)} LSOAs of the areas are in {what}: "
            f"it is probably for another LSOA vintage (the areas need LSOA "
            f"{weights.lsoa_vintage}) or another country."
        )
        raise InputError(msg)


def summarise_areas(
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    level: Level | None = None,
    population: pd.DataFrame | PathLike | None = None,
    deprivation: pd.DataFrame | PathLike | None = None,
    lsoa_to_area: pd.DataFrame | PathLike | None = None,
    lsoas: gpd.GeoDataFrame | None = None,
    min_population: float = DEFAULT_MIN_POPULATION,
    type_column: str = "org_type",
    sector_column: str = "sic_section",
) -> gpd.GeoDataFrame:
    """Summarise organisations for every area: counts, rates, quotients, deprivation.

    Organisations are counted by the area code :func:`assign_areas` gave them
    (``lsoa21_code``, ``lsoa11_code``, ``ward_code`` or ``lad_code``, by ``level``);
    those without a code, or with one the areas do not contain, are left out and
    counted in ``attrs["unassigned"]``.

    Population and deprivation come by LSOA and are carried to wards and authorities
    either with a best-fit lookup (each LSOA wholly in one area, ``lsoa_to_area``) or
    by areal overlap (each LSOA shared in proportion to its area lying in each area,
    ``lsoas``); the method is in the ``aggregation_method`` column and the attrs.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Organisations with area codes (the output of :func:`assign_areas`).
    areas : geopandas.GeoDataFrame
        One row per area: wards, LSOAs or authorities, with their code column (official
        names such as ``WD22CD`` are recognised) in a projected CRS (EPSG:27700).
    level : {"lsoa21", "lsoa11", "ward", "lad"}, optional
        The kind of area; by default the finest code column ``areas`` has.
    population : pandas.DataFrame or path, optional
        Residents by LSOA: a frame from :func:`read_population` or anything it reads.
        Without it (and without denominators in ``deprivation``) rates are missing.
    deprivation : pandas.DataFrame or path, optional
        A tidy IoD frame from :func:`socecon_geo.read_deprivation` (``lsoa_code``,
        ``imd_score``, ``imd_decile``), of the areas' LSOA vintage.
    lsoa_to_area : pandas.DataFrame or path, optional
        LSOA → area lookup, e.g. the ONS LSOA 2021 → ward 2024 → LAD 2024 best-fit
        lookup (its ``ward24_code``/``ltla24_code`` columns are recognised).
    lsoas : geopandas.GeoDataFrame, optional
        LSOA polygons, to aggregate by areal overlap when no lookup fits the areas.
    min_population : float, default 1000
        Areas with fewer residents are flagged ``small_population`` (see
        :data:`DEFAULT_MIN_POPULATION`).
    type_column, sector_column : str
        Columns of ``points`` with the organisation type and the SIC section.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``areas`` (same index, order and geometry; standard code and name
        columns added when it had official ones) with:

        ``n_organisations``, ``n_<type>``
            counts, zero where there are none (one column per organisation type);
        ``n_sic_<section>``, ``top_sector``, ``top_sector_share``
            sector mix among organisations with a known SIC section;
        ``population``, ``population_source``, ``aggregation_method``
            residents and where the count comes from;
        ``rate_per_10k``, ``rate_per_10k_eb``
            organisations per 10,000 residents, raw and global empirical-Bayes smoothed
            (Marshall 1991);
        ``lq``
            location quotient: (area count / area population) / (total count / total
            population), totals over the areas with a population;
        ``small_population``
            population below ``min_population`` (rates unstable);
        ``imd_score_popweighted``, ``share_pop_imd_decile1``, ``share_pop_imd_quintile1``
            when ``deprivation`` is given: population-weighted mean IMD score and the
            share of residents in LSOAs in England's most deprived 10% and 20%;
            missing where an LSOA with residents in the area lacks the value or its
            population.

        ``attrs`` records the level, counts of organisations left out by status, the
        population and deprivation sources and vintages, and the methods used.

    Raises
    ------
    InputError
        If ``points`` is empty, lacks the level's code column, the areas lack codes or
        repeat them, or population or deprivation are of another LSOA vintage than the
        areas (or their lookup), or cannot reach the areas.
    CRSMismatchError
        If ``areas`` (or ``lsoas``) is in a geographic CRS or differs from the points.

    Notes
    -----
    The smoothed rate is the global empirical-Bayes estimate of Marshall (1991), by the
    method of moments: each raw rate is pulled toward the rate of all areas together, the
    more the fewer residents an area has. It equals ``esda.smoothing.Empirical_Bayes``
    except that a negative between-area variance is set to zero, as Marshall proposes
    (``esda`` would then give weights outside 0-1). ``top_sector`` is the most common SIC
    section; ties go to the section first in the alphabet.

    References
    ----------
    Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. *Journal of the Royal Statistical Society, Series C (Applied
    Statistics)*, 40(2), 283-294.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"lsoa21_code": ["E01000001", "E01000002"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)
    >>> orgs = gpd.GeoDataFrame({"lsoa21_code": ["E01000001"] * 3 + ["E01000002"]},
    ...     geometry=[Point(0.5, 0.5)] * 3 + [Point(1.5, 0.5)], crs=27700)
    >>> population = read_population(pd.DataFrame({
    ...     "lsoa21_code": ["E01000001", "E01000002"], "usual_residents": [1500, 2500]}))
    >>> summary = summarise_areas(orgs, areas, population=population)
    >>> summary[["lsoa21_code", "n_organisations", "population", "rate_per_10k", "lq"]]
      lsoa21_code  n_organisations  population  rate_per_10k   lq
    0   E01000001                3      1500.0          20.0  2.0
    1   E01000002                1      2500.0           4.0  0.4
    """
    _check_points(points, "summarise")
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame of area polygons, not {type(areas).__name__}."
        raise InputError(msg)
    if len(areas) == 0:
        msg = "areas has no rows; pass the wards, LSOAs or authorities to summarise."
        raise InputError(msg)
    _check_projected(areas.crs, "areas")
    geometry = points.geometry if points._geometry_column_name in points.columns else None
    # (the CRSs matter only when they differ and some organisation has a point)
    if (
        geometry is not None
        and points.crs is not None
        and areas.crs != points.crs
        and _has_geometry(geometry).any()
    ):
        _check_same_crs(areas.crs, "areas", points.crs, "the points")

    standard = _standardise_columns(
        pd.DataFrame(areas.drop(columns=areas.geometry.name)),
        [c for pair in _LEVELS.values() for c in pair],
    )
    level = _infer_level(standard, level)  # type: ignore[assignment]
    code_column = _LEVELS[level][0]
    area_codes_series = clean_codes(standard[code_column]).reset_index(drop=True)
    problems = Problems("areas")
    if area_codes_series.isna().any():
        problems.add(f"{int(area_codes_series.isna().sum())} rows have no {code_column}")
    if area_codes_series.duplicated().any():
        repeated = area_codes_series[area_codes_series.duplicated()].dropna()
        if len(repeated):
            problems.add(
                f"{repeated.nunique()} codes appear on more than one row (e.g. "
                f"{repeated.iloc[0]}); dissolve the areas by {code_column} first"
            )
    problems.raise_if_any(InputError)
    area_codes = pd.Index(area_codes_series.to_numpy())
    if code_column not in points.columns:
        layer = {"lsoa21": "lsoas21", "lsoa11": "lsoas11", "ward": "wards", "lad": "authorities"}
        msg = (
            f"points has no {code_column!r} column: give the organisations their areas "
            f"first with assign_areas(points, {layer[level]}=areas)."
        )
        raise InputError(msg)

    # Counting.
    point_codes = _Coded.from_series(points[code_column])
    # position of each organisation's area in area_codes (-1: no code, or another area)
    area_rows = np.append(area_codes.get_indexer(point_codes.uniques), -1)[point_codes.keys]
    in_areas = pd.Series(area_rows >= 0)
    unassigned = _unassigned(points, point_codes, in_areas)
    _warn_foreign_codes(points, point_codes, in_areas, standard, level)

    stats = _count_columns(points, area_rows, area_codes, type_column, sector_column)

    # Population and deprivation by LSOA, carried to the areas.
    dep_table = _resolve_deprivation(deprivation)
    pop_table = _resolve_population(population, dep_table)
    weights: _Weights | None = None
    if pop_table is not None or dep_table is not None:
        prefer = None
        for table in (pop_table, dep_table):
            if table is not None and table.attrs.get("lsoa_vintage"):
                prefer = int(table.attrs["lsoa_vintage"])
                break
        weights = _lsoa_weights(
            level, area_codes, areas.geometry.reset_index(drop=True), lsoa_to_area, lsoas, prefer
        )
    population_values = pd.Series(np.nan, index=area_codes)
    population_label: str | None = None
    lsoa_population: pd.Series | None = None
    if pop_table is not None and weights is not None:
        _check_lsoa_vintage(
            pop_table.attrs.get("lsoa_vintage"),
            f"population ({pop_table.attrs.get('vintage', 'population table')})",
            weights,
            "Use the Census 2021 table or IoD2025 denominators for LSOA 2021 areas, IoD2019 "
            "File 6 for LSOA 2011 areas.",
        )
        lsoa_population = (
            pop_table.drop_duplicates("lsoa_code")
            .set_index("lsoa_code")["population"]
            .astype("float64")
        )
        found = pd.Series(
            _isin(weights.table["lsoa_code"], lsoa_population.index), index=weights.table.index
        )
        _check_coverage(found, "population", weights)
        joined = weights.table.assign(
            people=weights.table["weight"]
            * lsoa_population.reindex(weights.table["lsoa_code"]).to_numpy()
        )
        summed = joined.groupby("area_code")["people"].sum(min_count=1)
        incomplete = joined.loc[joined["people"].isna(), "area_code"].unique()
        summed[summed.index.isin(incomplete)] = np.nan
        population_values = summed.reindex(area_codes)
        population_label = str(pop_table.attrs.get("vintage", "population table"))
    stats["population"] = population_values.to_numpy(dtype="float64")
    stats["population_source"] = pd.array(
        [
            population_label if population_label and not math.isnan(v) else pd.NA
            for v in stats["population"]
        ],
        dtype="string",
    )
    stats["aggregation_method"] = pd.array(
        [weights.method if weights is not None else pd.NA] * len(stats), dtype="string"
    )

    counts_array = stats["n_organisations"].to_numpy(dtype="float64")
    people = stats["population"].to_numpy(dtype="float64")
    valid = np.isfinite(people) & (people > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(valid, counts_array / people, np.nan)
    total_count, total_people = counts_array[valid].sum(), people[valid].sum()
    overall = total_count / total_people if total_people > 0 else np.nan
    stats["rate_per_10k"] = rate * 10_000
    stats["rate_per_10k_eb"] = _global_eb(counts_array, np.where(valid, people, np.nan)) * 10_000
    stats["lq"] = rate / overall if overall and np.isfinite(overall) and overall > 0 else np.nan
    small = pd.array(people < min_population, dtype="boolean")
    small[~np.isfinite(people)] = pd.NA
    stats["small_population"] = small

    imd_notes: dict[str, Any] = {}
    if dep_table is not None and weights is not None:
        imd_notes = _deprivation_profile(stats, dep_table, weights, lsoa_population, level)

    out = areas.copy()
    for column in standard.columns:
        if column not in out.columns:
            out[column] = standard[column].to_numpy()
    for column in stats.columns:
        out[column] = (
            stats[column].to_numpy()
            if not isinstance(stats[column].dtype, pd.StringDtype | pd.BooleanDtype)
            else stats[column].array
        )
    out.attrs = {
        "level": level,
        "code_column": code_column,
        "n_areas": len(out),
        "n_points": len(points),
        "n_counted": int(in_areas.sum()),
        "unassigned": unassigned,
        "population_source": pop_table.attrs.get("source") if pop_table is not None else None,
        "population_vintage": population_label,
        "population_lsoa_vintage": (
            pop_table.attrs.get("lsoa_vintage") if pop_table is not None else None
        ),
        "aggregation_method": weights.method if weights is not None else None,
        "min_population": min_population,
        "rate_smoothing": "global empirical Bayes, method of moments (Marshall 1991)",
        "lq_reference": "all areas of this summary with a population",
        "geocode_status": (
            {
                str(k): int(v)
                for k, v in points["geocode_status"]
                .reset_index(drop=True)[in_areas]
                .value_counts()
                .items()
                if v > 0
            }
            if "geocode_status" in points.columns
            else None
        ),
        **imd_notes,
    }
    return out


def _count_columns(
    points: pd.DataFrame,
    area_rows: np.ndarray,
    area_codes: pd.Index,
    type_column: str,
    sector_column: str,
) -> pd.DataFrame:
    """Count organisations per area: in all, by type, and by SIC section.

    ``area_rows`` holds the position of each organisation's area in ``area_codes`` (-1
    when it is not counted).
    """
    in_areas = area_rows >= 0
    stats = pd.DataFrame(index=area_codes)
    totals = np.bincount(area_rows[in_areas], minlength=len(area_codes))
    stats["n_organisations"] = totals.astype("int64")
    if type_column in points.columns:
        types = points[type_column].reset_index(drop=True)
        if isinstance(types.dtype, pd.CategoricalDtype):
            categories = [str(c) for c in types.cat.categories]
        else:
            categories = sorted(types.dropna().astype(str).unique())
        counts = _count_table(area_rows, *_text_keys(types), area_codes, categories)
        # Types spelt alike ("Charity", "charity ") share a column: add their counts.
        by_column: dict[str, np.ndarray] = {}
        for category in categories:
            column = f"n_{_column_suffix(category)}"
            previous = by_column.get(column)
            values = counts[category].to_numpy()
            by_column[column] = values if previous is None else previous + values
        for column, values in by_column.items():
            stats[column] = values
    if sector_column in points.columns:
        sectors = _Coded.from_series(points[sector_column])
        keys = sectors.keys[in_areas]
        present = np.flatnonzero(np.bincount(keys[keys >= 0], minlength=len(sectors.uniques)))
        sections = sorted(sectors.uniques.take(present).tolist())
        counts = _count_table(area_rows, sectors.keys, sectors.uniques, area_codes, sections)
        for section in sections:
            stats[f"n_sic_{_column_suffix(section).upper()}"] = counts[section].to_numpy()
        known = counts.sum(axis=1)
        if sections:
            top = counts.idxmax(axis=1).where(known > 0)
            stats["top_sector"] = pd.array(top.to_numpy(), dtype="string")
            stats["top_sector_share"] = (counts.max(axis=1) / known.where(known > 0)).to_numpy()
        else:
            stats["top_sector"] = pd.array([pd.NA] * len(stats), dtype="string")
            stats["top_sector_share"] = np.nan

    return stats


def _unassigned(points: pd.DataFrame, codes: _Coded, in_areas: pd.Series) -> dict[str, int]:
    left_out: dict[str, int] = {}
    no_code = ~codes.notna()
    if no_code.any():
        if "area_status" in points.columns:
            status = points["area_status"].reset_index(drop=True)[no_code].astype("string")
            status = status.fillna("unknown")
            left_out.update({str(k): int(v) for k, v in status.value_counts().items()})
        else:
            left_out["no_code"] = int(no_code.sum())
    elsewhere = codes.notna() & ~in_areas.to_numpy()
    if elsewhere.any():
        left_out["code_not_in_areas"] = int(elsewhere.sum())
    return left_out


def _warn_foreign_codes(
    points: pd.DataFrame, codes: _Coded, in_areas: pd.Series, areas: pd.DataFrame, level: str
) -> None:
    """Warn when organisations of the areas' authorities have codes the areas lack."""
    if level == "lad" or "lad_code" not in points.columns or "lad_code" not in areas.columns:
        return
    elsewhere = np.flatnonzero(codes.notna() & ~in_areas.to_numpy())
    if len(elsewhere) == 0:
        return
    lads = set(clean_codes(areas["lad_code"]).dropna())
    point_lads = _Coded.from_series(points["lad_code"].iloc[elsewhere])
    foreign = elsewhere[point_lads.isin(lads)]
    if len(foreign):
        example = codes.take(foreign[:1]).iloc[0]
        column = _LEVELS[level][0]
        warnings.warn(
            f"{len(foreign)} organisations in the areas' authorities have a {column} "
            f"the areas do not contain (e.g. {example}), so they are not counted: their codes "
            "are of another vintage than the areas, or their points lie outside the areas' "
            "(generalised) polygons. Assign areas with these areas as the layer, e.g. "
            "assign_areas(points, wards=areas), or use areas of the codes' vintage.",
            SocEconGeoWarning,
            stacklevel=3,
        )


def _deprivation_profile(
    stats: pd.DataFrame,
    deprivation: pd.DataFrame,
    weights: _Weights,
    lsoa_population: pd.Series | None,
    level: str,
) -> dict[str, Any]:
    """Add the population-weighted IMD columns to ``stats``; return notes for attrs."""
    _check_lsoa_vintage(
        deprivation.attrs.get("lsoa_vintage"),
        f"deprivation ({deprivation.attrs.get('vintage', 'IoD')})",
        weights,
        "Use IoD2025 for LSOA 2021 areas and IoD2019 for LSOA 2011 areas.",
    )
    table = deprivation.assign(lsoa_code=clean_codes(deprivation["lsoa_code"]))
    table = table.dropna(subset=["lsoa_code"]).drop_duplicates("lsoa_code").set_index("lsoa_code")
    found = pd.Series(_isin(weights.table["lsoa_code"], table.index), index=weights.table.index)
    _check_coverage(found, "deprivation", weights)
    joined = weights.table.copy()
    if level in _LSOA_VINTAGE:
        joined["people"] = 1.0
    else:
        if lsoa_population is None:
            msg = (
                "population-weighted IMD needs residents by LSOA: pass population= (e.g. "
                "the Census 2021 usual residents table) or deprivation with population "
                "denominators."
            )
            raise InputError(msg)
        joined["people"] = (
            joined["weight"] * lsoa_population.reindex(joined["lsoa_code"]).to_numpy()
        )
    lsoa_codes = joined["lsoa_code"].to_numpy()
    score = (
        pd.to_numeric(table["imd_score"], errors="coerce")
        .reindex(lsoa_codes)
        .to_numpy(dtype="float64")
        if "imd_score" in table.columns
        else np.full(len(joined), np.nan)
    )
    decile = (
        pd.to_numeric(table["imd_decile"], errors="coerce")
        .reindex(lsoa_codes)
        .to_numpy(dtype="float64")
    )
    people = joined["people"].to_numpy(dtype="float64")
    has_score = np.isfinite(score) & np.isfinite(people)
    has_decile = np.isfinite(decile) & np.isfinite(people)
    # An LSOA with residents in the area but no score (or decile, or population) leaves
    # the area's figure unknown, as for the population: never a share of part of it.
    counts_people = ~(people == 0)
    parts = pd.DataFrame(
        {
            "area_code": joined["area_code"].to_numpy(),
            "score_gap": (~has_score & counts_people).astype("int64"),
            "decile_gap": (~has_decile & counts_people).astype("int64"),
            "score_num": np.where(has_score, people * np.nan_to_num(score), 0.0),
            "score_den": np.where(has_score, people, 0.0),
            "decile_den": np.where(has_decile, people, 0.0),
            "decile1": np.where(has_decile & (decile == 1), people, 0.0),
            "quintile1": np.where(has_decile & (decile <= 2), people, 0.0),
        }
    )
    sums = parts.groupby("area_code").sum().reindex(stats.index).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score_known = (sums["score_den"] > 0) & (sums["score_gap"] == 0)
        decile_known = (sums["decile_den"] > 0) & (sums["decile_gap"] == 0)
        stats["imd_score_popweighted"] = np.where(
            score_known, sums["score_num"] / sums["score_den"], np.nan
        )
        stats["share_pop_imd_decile1"] = np.where(
            decile_known, sums["decile1"] / sums["decile_den"], np.nan
        )
        stats["share_pop_imd_quintile1"] = np.where(
            decile_known, sums["quintile1"] / sums["decile_den"], np.nan
        )
    return {
        "deprivation_vintage": deprivation.attrs.get("vintage"),
        "deprivation_lsoa_vintage": deprivation.attrs.get("lsoa_vintage"),
        "deprivation_lsoas_missing": int((~found).sum()),
        "imd_weighting": "LSOA itself" if level in _LSOA_VINTAGE else "residents",
    }

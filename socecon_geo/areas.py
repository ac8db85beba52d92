"""Place organisations in areas: :func:`assign_areas`.

:func:`assign_areas` gives every geocoded organisation its LSOA 2021 and LSOA 2011 codes,
its electoral ward and its local authority district, saying for each code how it was
found. The next steps are :func:`socecon_geo.attach_deprivation` (``attach.py``) and
:func:`socecon_geo.summarise_areas` (``summaries.py``); the residents the rates are based
on are read by :func:`socecon_geo.read_population` (``population.py``).

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

import copy
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo._checks import (
    check_bng_extent,
    check_geodataframe,
    check_projected,
    check_same_crs,
    has_geometry,
)
from socecon_geo._errors import (
    InputError,
    Problems,
)
from socecon_geo._headings import standardise_columns
from socecon_geo._schema import (
    AREA_METHOD,
    AREA_METHODS,
    AREA_STATUS,
    AREA_STATUSES,
    PathLike,
)
from socecon_geo._tables import (
    clean_codes,
    factorize_clean,
)
from socecon_geo.geography import LAYER_ARGUMENTS, Geography, area_inputs
from socecon_geo.lookups import LsoaLookup, prepare_area_lookup, prepare_lsoa_lookup
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

__all__ = [
    "AREA_METHODS",
    "AREA_STATUSES",
    "assign_areas",
]

Level = Literal["lsoa21", "lsoa11", "msoa21", "ward", "lad"]


_T = TypeVar("_T")

_LEVELS: Final[dict[str, tuple[str, str]]] = {
    "lsoa21": ("lsoa21_code", "lsoa21_name"),
    "lsoa11": ("lsoa11_code", "lsoa11_name"),
    "msoa21": ("msoa21_code", "msoa21_name"),
    "ward": ("ward_code", "ward_name"),
    "lad": ("lad_code", "lad_name"),
}


_LEVEL_LABELS: Final[dict[str, str]] = {
    "lsoa21": "LSOA 2021",
    "lsoa11": "LSOA 2011",
    "msoa21": "MSOA 2021",
    "ward": "ward",
    "lad": "local authority district",
}


_OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "lsoa21_code",
    "lsoa11_code",
    "msoa21_code",
    "msoa21_name",
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
    "lsoa21_method",
    "lsoa11_method",
    "msoa21_method",
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


_POLYGONAL: Final[frozenset[str]] = frozenset({"Polygon", "MultiPolygon"})


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


@dataclass
class _Layer:
    name: str
    level: str
    frame: gpd.GeoDataFrame  # RangeIndex, standard columns, non-empty polygonal geometry
    codes: frozenset[str]
    provenance: tuple[Provenance, ...] = ()

    @property
    def code_column(self) -> str:
        return _LEVELS[self.level][0]


_LAYER_ARGUMENT_LEVEL: Final[dict[str, str]] = {
    argument: level for level, argument in LAYER_ARGUMENTS.items()
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
    check_geodataframe(layer, what, "area polygons (or a boundary file path)")
    if len(layer) == 0:
        msg = f"{what} has no rows; pass the areas' polygons."
        raise InputError(msg)
    code_column = _LEVELS[level][0]
    frame = standardise_columns(
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
    check_projected(layer.crs, what)
    check_same_crs(layer.crs, what, points_crs, "the points")
    check_bng_extent(layer, what)

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
    usable = has_geometry(geometry)
    result = gpd.GeoDataFrame(slim, geometry=geometry.to_numpy(), crs=layer.crs)
    result = result[usable].reset_index(drop=True)
    for column in keep:
        if column != code_column and column.endswith("_code"):
            result[column] = clean_codes(result[column])
    return _Layer(argument, level, result, frozenset(codes.dropna()), get_provenance(layer))


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
    check_geodataframe(points, "points", "organisations (the output of socecon_geo.geocode)")
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
    located = geometry[has_geometry(geometry)]
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
    msoas21: gpd.GeoDataFrame | PathLike | None = None,
    authorities: gpd.GeoDataFrame | PathLike | None = None,
    lsoa_lookup: pd.DataFrame | PathLike | None = None,
    area_lookup: pd.DataFrame | PathLike | None = None,
    geography: Geography | None = None,
) -> gpd.GeoDataFrame:
    """Give every organisation its LSOA 2021, LSOA 2011, MSOA 2021, ward and authority.

    Codes come, in order of preference, from the postcode table's own codes
    (``postcode_lsoa21_code``, ``postcode_lsoa11_code``, ``postcode_ward_code``,
    ``postcode_lad_code``, each optional), from the ONS lookups, and by point in
    polygon in the layers. See :data:`AREA_METHODS` for every method and
    :data:`AREA_STATUSES` for the statuses. An MSOA is the one its LSOA 2021 lies in
    (MSOAs are made of whole LSOAs), else the one containing the point.

    The layers and lookups come from ``geography``, each replaced by the one passed
    explicitly, if any. Without ``geography``, a call with no layer and no lookup uses
    the bundled West Midlands geography (:func:`socecon_geo.load_geography`), and a call
    with any of them uses exactly those (so a user's own wards are never mixed with
    bundled LSOAs of another place): pass ``geography=`` to add the rest.

    A ward code from the postcode table that the ``wards`` layer does not know (another
    ward vintage) is replaced by the ward containing the point, provided that ward lies
    in the same authority; otherwise it is kept.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Geocoded organisations (the output of :func:`socecon_geo.geocode`), in a
        projected CRS (EPSG:27700). Rows without a point keep their postcode codes.
    wards, lsoas21, lsoas11, msoas21, authorities : GeoDataFrame or path, optional
        Area layers with ``ward_code``/``lsoa21_code``/``lsoa11_code``/``msoa21_code``/
        ``lad_code`` (official column names such as ``WD24CD`` or ``LSOA21CD`` are
        recognised; names and parent codes such as ``lad_code`` are used when present).
        Frames must be in the points' CRS; a path is read with
        :func:`socecon_geo.read_boundaries`, which reprojects it.
    lsoa_lookup : pandas.DataFrame or path, optional
        The ONS LSOA 2011 → LSOA 2021 lookup (``lsoa11_code``, ``lsoa21_code``,
        ``change_code``), to convert LSOA 2011 codes. Default: the geography's.
    area_lookup : pandas.DataFrame or path, optional
        The ONS LSOA 2021 → ward → authority best-fit lookup (``lsoa21_code``,
        ``ward24_code``, ``ward24_name``, ``ltla24_code``, ``ltla24_name`` or the
        standard names), used for names and where a ward cannot be found otherwise.
        Default: the geography's.
    geography : Geography, optional
        Where the layers and lookups not passed come from (see above).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` (same index and order, no row lost or repeated) with
        ``lsoa21_code``, ``lsoa11_code``, ``msoa21_code``, ``msoa21_name``,
        ``ward_code``, ``ward_name``, ``lad_code``, ``lad_name`` (``string``, NA where
        unknown), ``lsoa21_method``, ``lsoa11_method``, ``msoa21_method``,
        ``ward_method``, ``lad_method`` and ``area_method``
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
    inputs = area_inputs(
        geography,
        wards=wards,
        lsoas21=lsoas21,
        lsoas11=lsoas11,
        msoas21=msoas21,
        authorities=authorities,
        lsoa_lookup=lsoa_lookup,
        area_lookup=area_lookup,
    )
    n = len(points)
    located = _point_locations(points)
    check_bng_extent(located, "points")
    given = {name: inputs[name] for name in _LAYER_ARGUMENT_LEVEL}
    # CRS matters only where points meet polygons.
    meet = len(located) > 0 and any(layer is not None for layer in given.values())
    if meet:
        check_projected(points.crs, "points")
    points_crs = points.crs if meet else None

    # what comes from a Geography is prepared once and kept there for the next call
    from_geography: frozenset[str] = inputs.pop("from_geography", frozenset())
    derived = inputs.pop("derived", None)
    crs_key = None if points_crs is None else points_crs.to_string()

    def once(key: tuple[Any, ...], make: Callable[[], _T], *sources: str) -> _T:
        if derived is not None and all(source in from_geography for source in sources):
            return derived(("assign_areas", *key), make)
        return make()

    def prepared(name: str, layer: Any) -> Callable[[], _Layer]:
        return lambda: _prepare_layer(layer, name, points_crs)

    layers = {
        name: once(("layer", name, crs_key), prepared(name, layer), name)
        for name, layer in given.items()
        if layer is not None
    }
    lookup = (
        once(("lsoa_lookup",), lambda: prepare_lsoa_lookup(inputs["lsoa_lookup"]), "lsoa_lookup")
        if inputs["lsoa_lookup"] is not None
        else None
    )
    bestfit = (
        once(
            ("area_lookup",),
            lambda: prepare_area_lookup(inputs["area_lookup"], "area_lookup"),
            "area_lookup",
        )
        if inputs["area_lookup"] is not None
        else None
    )
    frames: dict[str, Any] = {
        **layers,
        "msoa_lookup": inputs.get("msoa_lookup"),
        "lsoa_lookup": lookup.frame if lookup is not None else None,
        "area_lookup": bestfit,
    }

    def mapping(*sources: tuple[str, str, str]) -> pd.Series:
        """``_first_mapping`` of (source, key, value) columns, kept when all are the geography's."""
        return once(
            ("mapping", sources),
            lambda: _first_mapping(
                [
                    pair
                    for name, key, value in sources
                    for pair in _pairs(frames.get(name), key, value)
                ]
            ),
            *(name for name, _, _ in sources),
        )

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

    # MSOA 2021: the MSOA of the LSOA 2021, else point in polygon.
    msoa21 = _Assignment(n)
    msoa21_layer = layers.get("msoas21")
    lsoa21_to_msoa = mapping(
        ("msoa_lookup", "lsoa21_code", "msoa21_code"),
        ("lsoas21", "lsoa21_code", "msoa21_code"),
    )
    msoa21.fill(lsoa21.coded.map(lsoa21_to_msoa), "parent_of_lsoa")
    if msoa21_layer is not None:
        need = located[msoa21.missing()[located_at]]
        msoa21.fill(_point_in_polygon(need, msoa21_layer), "point_in_polygon")
    msoa_names = mapping(
        ("msoas21", "msoa21_code", "msoa21_name"),
        ("lsoas21", "msoa21_code", "msoa21_name"),
    )

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
        found_lad = _map_codes(found, mapping(("wards", "ward_code", "lad_code")))
        known_lad = postcode["lad"].take(found.index.to_numpy())
        agrees = known_lad.isna() | found_lad.isna() | (found_lad == known_lad)
        ward.fill(found[agrees.fillna(False).to_numpy()], "point_in_polygon")
    ward.fill(postcode["ward"], "postcode_table")
    bestfit_wards = mapping(
        ("area_lookup", "lsoa21_code", "ward_code"),
        ("lsoas21", "lsoa21_code", "ward_code"),
    )
    ward.fill(lsoa21.coded.map(bestfit_wards), "lsoa21_bestfit_lookup")

    # Authority: the postcode table, else the ward's, else point in polygon, else the
    # LSOA's.
    lad.fill(postcode["lad"], "postcode_table")
    ward_to_lad = mapping(
        ("wards", "ward_code", "lad_code"),
        ("area_lookup", "ward_code", "lad_code"),
        ("lsoas21", "ward_code", "lad_code"),
    )
    lad.fill(ward.coded.map(ward_to_lad), "parent_of_ward")
    if "authorities" in layers:
        need = located[lad.missing()[located_at]]
        lad.fill(_point_in_polygon(need, layers["authorities"]), "point_in_polygon")
    lsoa21_to_lad = mapping(
        ("lsoas21", "lsoa21_code", "lad_code"),
        ("area_lookup", "lsoa21_code", "lad_code"),
        ("lsoa_lookup", "lsoa21_code", "lad_code"),
    )
    lsoa11_to_lad = mapping(
        ("lsoas11", "lsoa11_code", "lad_code"),
        ("lsoa_lookup", "lsoa11_code", "lad_code"),
    )
    lad.fill(lsoa21.coded.map(lsoa21_to_lad), "parent_of_lsoa")
    lad.fill(lsoa11.coded.map(lsoa11_to_lad), "parent_of_lsoa")

    # Names, from the layers first, then the lookups.
    ward_names = mapping(
        ("wards", "ward_code", "ward_name"),
        ("area_lookup", "ward_code", "ward_name"),
        ("lsoas21", "ward_code", "ward_name"),
    )
    lad_names = mapping(
        ("authorities", "lad_code", "lad_name"),
        ("wards", "lad_code", "lad_name"),
        ("lsoas21", "lad_code", "lad_name"),
        ("lsoas11", "lad_code", "lad_name"),
        ("area_lookup", "lad_code", "lad_name"),
        ("lsoa_lookup", "lad_code", "lad_name"),
    )

    available = _available_levels(postcode, layers, lookup, bestfit)
    if msoa21_layer is not None or ("lsoa21" in available and not lsoa21_to_msoa.empty):
        available.add("msoa21")
    status = _area_status(
        n=n,
        located=located,
        postcode=postcode,
        codes={
            "lsoa21": lsoa21.coded,
            "lsoa11": lsoa11.coded,
            "msoa21": msoa21.coded,
            "ward": ward.coded,
            "lad": lad.coded,
        },
        layers=layers,
        available=available,
    )
    methods = {
        "lsoa21_method": lsoa21,
        "lsoa11_method": lsoa11,
        "msoa21_method": msoa21,
        "ward_method": ward,
        "lad_method": lad,
    }
    # the least certain method: the highest position in AREA_METHODS (-1 when none)
    worst = np.max([level.method_code for level in methods.values()], axis=0)
    method_dtype = AREA_METHOD

    out = points.copy()
    columns: dict[str, Any] = {
        "lsoa21_code": lsoa21.coded.series(),
        "lsoa11_code": lsoa11.coded.series(),
        "msoa21_code": msoa21.coded.series(),
        "msoa21_name": msoa21.coded.map(msoa_names).series(),
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
        **copy.deepcopy(points.attrs),
        "assign_areas": {
            "layers": {name: len(layer.codes) for name, layer in layers.items()},
            "lsoa_lookup": lookup is not None,
            "area_lookup": bestfit is not None,
            "status_counts": {str(k): int(v) for k, v in counts.items()},
        },
    }
    return with_provenance(
        out,
        *(layer.provenance for layer in layers.values()),
        lookup.frame if lookup is not None else None,
        bestfit,
    )


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


def _check_layer_vintages(layers: Mapping[str, _Layer], lookup: LsoaLookup) -> None:
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
    lookup: LsoaLookup,
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
    lookup: LsoaLookup | None,
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
    return pd.Categorical.from_codes(status, dtype=AREA_STATUS)

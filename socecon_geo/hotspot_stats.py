"""Hot spots (:func:`hotspots`, :func:`hotspot_grid`): local Getis–Ord Gi* and local Moran.

Built on esda (``G_Local`` with ``star=True``, ``Moran_Local``) and libpysal weights
(queen contiguity, k nearest neighbours, a distance band); nothing here reimplements
them. What is added around them:

* **Inference that survives multiple testing.** esda's conditional permutations (with
  the ``seed``) give each area a two-sided pseudo p-value: twice the smaller tail, ties
  with the observed value counted as extreme (esda's classes fold one tail and count
  ties as not extreme below, which makes every zero among zeros "significant").
  Benjamini–Hochberg (1995) adjusts them across the areas tested (``hotspot_p_fdr``),
  and with ``fdr=True`` (the default) the classes use the adjusted ones. The smallest
  two-sided pseudo p is ``2 / (permutations + 1)``: at 999 permutations that is 0.002,
  and among the 1,719 West Midlands LSOAs a hot spot would need about 70 areas at that
  floor to pass the correction at 0.05; at the default 9,999 it needs 7. With
  ``permutations=0`` the p-value comes from the z-score and the normal distribution
  instead (as ArcGIS's Hot Spot Analysis does), which has no floor.
* **Areas that cannot be tested are kept and said so**: an area whose variable is
  missing is ``no_value``; one without neighbours (an island; pysal/esda#171) is
  ``no_neighbours``. Both are listed on the result and never stop the run; the
  connected parts of the weights graph are counted.
* **A grid for counts** (:func:`hotspot_grid`): organisations aggregated to regular
  hexagons in metres over the study area, zeros included, for users without a
  population denominator, as ArcGIS's Optimized Hot Spot Analysis aggregates incidents.

esda runs with one job (its parallel default, ``n_jobs=-1``, was slower at every size
measured on two cores) and keeps no simulations (no permutations × areas matrix).
numba is not a dependency. Where it is installed, esda would compile its permutation
engine on the first call in a process (31 s measured here, and no faster afterwards);
:func:`_esda_numpy_path` runs esda's own Python code instead, so the first call is as
quick as the next and a seed gives the same answer with or without numba.

References: Getis & Ord (1992), Ord & Getis (1995), Anselin (1995), Sokal, Oden &
Thomson (1998), Benjamini & Hochberg (1995).
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

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
from socecon_geo._errors import InputError
from socecon_geo._hexagons import hexagon_of, hexagon_polygons, hexagons_covering
from socecon_geo._schema import HOTSPOT_CLASS, HOTSPOT_CLASSES
from socecon_geo.areas import _point_locations
from socecon_geo.geography import Geography, resolve_geography
from socecon_geo.provenance import attribution_lines, with_provenance

if TYPE_CHECKING:
    import folium

__all__ = [
    "HOTSPOT_CLASSES",
    "HotspotResult",
    "hotspot_grid",
    "hotspots",
]

Method = Literal["gi_star", "local_moran"]
WeightsKind = Literal["queen", "knn", "distance"]

_METHODS: Final = ("gi_star", "local_moran")
_WEIGHTS: Final = ("queen", "knn", "distance")
_CODE_COLUMNS: Final = (
    "lsoa21_code",
    "lsoa11_code",
    "msoa21_code",
    "ward_code",
    "lad_code",
    "cell_id",
)
_LEVELS: Final = ((0.01, "99"), (0.05, "95"), (0.10, "90"))
_QUADRANTS: Final = {1: "high_high", 2: "low_high", 3: "low_low", 4: "high_low"}

CLASS_COLOURS: Final[dict[str, str]] = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "cold_99": "#2166ac",
    "cold_95": "#67a9cf",
    "cold_90": "#d1e5f0",
    "high_high": "#d7191c",
    "high_low": "#fdae61",
    "low_high": "#abd9e9",
    "low_low": "#2c7bb6",
    "not_significant": "#f0f0f0",
    "no_neighbours": "#969696",
    "no_value": "#ffffff",
}
"""The map colour of each class (ArcGIS-like reds and blues; greys for untested areas)."""


@dataclass(frozen=True)
class HotspotResult:
    """What :func:`hotspots` and :func:`hotspot_grid` return.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        A copy of the input areas (or the grid's hexagons), every row kept, with
        ``hotspot_statistic`` (the Gi* z-score, or the local Moran's I),
        ``hotspot_z`` (the z-score under the analytical null), ``hotspot_p``
        (two-sided: from conditional permutations, or from ``hotspot_z`` when
        ``permutations=0``), ``hotspot_p_fdr`` (Benjamini–Hochberg adjusted),
        ``hotspot_class`` (categorical, :data:`HOTSPOT_CLASSES`) and
        ``n_neighbours``. Untested areas have NaN statistics and p-values.
    islands : list
        Codes (or index labels) of the areas with a value but no neighbour.
    no_value : list
        Codes (or index labels) of the areas whose variable is missing.
    components : int
        The number of connected parts of the weights graph among the areas tested
        (islands excluded); more than one means some areas are neighbours of
        nothing in the other parts.
    attrs : dict
        The parameters (method, weights, k, distance_m, permutations, alpha, fdr,
        seed, variable), how the p-values were found, and counts; ``areas.attrs``
        holds the same keys with the input's own attrs and provenance.
    """

    areas: gpd.GeoDataFrame
    islands: list[Any] = field(default_factory=list)
    no_value: list[Any] = field(default_factory=list)
    components: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Number of areas in each class (every class of the method, zeros included)."""
        shown = _shown_classes(str(self.attrs.get("method")))
        values = self.areas["hotspot_class"].value_counts()
        return {name: int(values.get(name, 0)) for name in shown}

    def explore(self, **kwargs: Any) -> folium.Map:
        """Map the classes (:meth:`geopandas.GeoDataFrame.explore`), with a legend.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`geopandas.GeoDataFrame.explore` (``tiles``, ``m``, …).

        Returns
        -------
        folium.Map
        """
        shown = _shown_classes(str(self.attrs.get("method")))
        frame = self.areas.copy()
        frame["hotspot_class"] = frame["hotspot_class"].astype("string").fillna("no_value")
        code = self.attrs.get("code_column")
        columns = [
            c
            for c in (
                code,
                code.replace("_code", "_name") if isinstance(code, str) else None,
                self.attrs.get("variable"),
                "hotspot_class",
                "hotspot_z",
                "hotspot_p",
                "hotspot_p_fdr",
                "n_neighbours",
            )
            if isinstance(c, str) and c in frame.columns
        ]
        options: dict[str, Any] = {
            "column": "hotspot_class",
            "categorical": True,
            "categories": shown,
            "cmap": [CLASS_COLOURS[name] for name in shown],
            "legend": True,
            "tooltip": columns,
            "style_kwds": {"fillOpacity": 0.7, "weight": 0.3, "color": "#636363"},
        }
        attribution = "; ".join(attribution_lines(self.areas))
        if attribution:
            options["attr"] = attribution
        return frame.explore(**{**options, **kwargs})

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return (
            f"HotspotResult({self.attrs.get('method')} on {self.attrs.get('variable')!r}, "
            f"{len(self.areas)} areas: {counts})"
        )


def _shown_classes(method: str) -> list[str]:
    if method == "local_moran":
        own = ["high_high", "high_low", "low_high", "low_low"]
    else:
        own = ["hot_99", "hot_95", "hot_90", "cold_99", "cold_95", "cold_90"]
    return [*own, "not_significant", "no_neighbours", "no_value"]


# ------------------------------------------------------------------------- checks


def _check_options(
    *,
    method: object,
    weights: object,
    k: object,
    distance_m: object,
    permutations: object,
    alpha: object,
    fdr: object,
    seed: object,
) -> None:
    if method not in _METHODS:
        msg = f"method must be one of {', '.join(map(repr, _METHODS))}; got {method!r}."
        raise InputError(msg)
    if weights not in _WEIGHTS:
        msg = f"weights must be one of {', '.join(map(repr, _WEIGHTS))}; got {weights!r}."
        raise InputError(msg)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        msg = f"k (neighbours for weights='knn') must be a whole number >= 1; got {k!r}."
        raise InputError(msg)
    if distance_m is not None and (
        isinstance(distance_m, bool)
        or not isinstance(distance_m, int | float | np.number)
        or not math.isfinite(float(distance_m))
        or float(distance_m) <= 0
    ):
        msg = (
            "distance_m (the band of weights='distance', in metres) must be a positive "
            f"number, or None for the smallest band giving every area a neighbour; got "
            f"{distance_m!r}."
        )
        raise InputError(msg)
    if (
        isinstance(permutations, bool)
        or not isinstance(permutations, int | np.integer)
        or permutations < 0
    ):
        msg = (
            "permutations must be a whole number >= 0 (0: p-values from the z-score and "
            f"the normal distribution); got {permutations!r}."
        )
        raise InputError(msg)
    if 0 < permutations < 99:
        msg = (
            f"permutations={permutations} is too few for a pseudo p-value (the smallest "
            f"would be {2 / (permutations + 1):.3g}); use 9999 (the default), at least "
            "99, or 0 for z-based p-values."
        )
        raise InputError(msg)
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, int | float | np.number)
        or not 0 < float(alpha) < 1
    ):
        msg = f"alpha must be a probability between 0 and 1, e.g. 0.05; got {alpha!r}."
        raise InputError(msg)
    if not isinstance(fdr, bool | np.bool_):
        msg = f"fdr must be True or False; got {fdr!r}."
        raise InputError(msg)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a whole number >= 0 (it makes permutations repeatable); got {seed!r}."
        raise InputError(msg)


def _values(areas: pd.DataFrame, variable: object) -> np.ndarray:
    if not isinstance(variable, str) or variable not in areas.columns:
        shown = ", ".join(map(str, list(areas.columns)[:15]))
        hint = (
            " rate_per_10k_eb comes from socecon_geo.summarise_areas with a population "
            "(geography= or population=)."
            if variable == "rate_per_10k_eb"
            else ""
        )
        msg = (
            f"areas has no column {variable!r} to find hot spots of; it has {shown}"
            f"{', …' if len(areas.columns) > 15 else ''}. Pass variable= the column to "
            f"use.{hint}"
        )
        raise InputError(msg)
    column = areas[variable]
    if pd.api.types.is_bool_dtype(column.dtype) or not pd.api.types.is_numeric_dtype(column.dtype):
        msg = (
            f"areas[{variable!r}] must be numbers (counts or rates); it is of dtype "
            f"{column.dtype}. Pass variable= a numeric column."
        )
        raise InputError(msg)
    values = np.array(column.to_numpy(dtype="float64", na_value=np.nan), copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def _codes(areas: pd.DataFrame) -> tuple[str | None, list[Any]]:
    """Return the column naming each area (the summary's code column, else a standard one)."""
    given = areas.attrs.get("code_column")
    candidates = [given, *_CODE_COLUMNS] if isinstance(given, str) else list(_CODE_COLUMNS)
    for column in candidates:
        if column in areas.columns:
            return column, areas[column].astype(object).tolist()
    return None, list(areas.index)


# ------------------------------------------------------------------------ weights


def _build_weights(
    geometry: gpd.GeoSeries, kind: str, k: int, distance_m: float | None
) -> tuple[Any, dict[str, Any]]:
    """Return libpysal weights on the areas (ids 0..n-1 in order) and what was used."""
    from libpysal import weights as lw

    n = len(geometry)
    used: dict[str, Any] = {}
    with warnings.catch_warnings():
        # libpysal warns of islands and disconnected parts; they are reported instead
        warnings.simplefilter("ignore")
        if kind == "queen":
            frame = gpd.GeoDataFrame(geometry=geometry.reset_index(drop=True))
            w = lw.Queen.from_dataframe(frame, use_index=False, silence_warnings=True)
            return w, used
        points = geometry.centroid.to_numpy()
        coords = np.column_stack([shapely.get_x(points), shapely.get_y(points)])
        if kind == "knn":
            used["k"] = min(k, n - 1)
            if used["k"] < 1:
                return lw.W({0: []}, silence_warnings=True), used
            return lw.KNN.from_array(coords, k=used["k"], silence_warnings=True), used
        if distance_m is None:
            distance_m = float(lw.min_threshold_distance(coords)) if n > 1 else 0.0
            used["distance_m_chosen"] = "smallest band giving every area a neighbour"
        used["distance_m"] = float(distance_m)
        if n < 2:
            return lw.W({0: []}, silence_warnings=True), used
        w = lw.DistanceBand.from_array(
            coords, threshold=float(distance_m) * (1 + 1e-9), binary=True, silence_warnings=True
        )
        return w, used


def _components(w: Any, tested: np.ndarray) -> tuple[int, list[int]]:
    from scipy.sparse.csgraph import connected_components

    if not tested.any():
        return 0, []
    graph = w.sparse.tocsr()[tested][:, tested]
    count, labels = connected_components(graph, directed=False)
    sizes = sorted(np.bincount(labels).tolist(), reverse=True)
    return int(count), sizes


# ------------------------------------------------------------------------ statistics


# esda's permutation engine: the functions numba compiles, where numba is installed
_ESDA_JITTED: Final = {
    "esda.crand": (
        "vec_permutations",
        "compute_chunk",
        "_permutation_significance",
        "_prepare_univariate",
    ),
    "esda.getisord": ("_g_local_star_crand", "_g_local_crand", "_prepare_univariate"),
    "esda.moran": ("_moran_local_crand", "_prepare_univariate"),
}
_ESDA_LOCK = threading.Lock()


@contextlib.contextmanager
def _esda_numpy_path() -> Iterator[None]:
    """Run esda's permutation engine as plain NumPy code, even where numba is installed.

    With numba, esda compiles its engine on the first call in a process: measured here,
    31 s for the first Gi* on the 1,719 LSOAs (9,999 permutations), then 1.4 s a call,
    no faster than NumPy's 1.4 s on the same loaded machine. For the duration of a call
    the compiled functions are replaced by the Python functions they were compiled from
    (numba's ``py_func``; the same code), and numba's boolean type by Python's, then
    put back. Without numba nothing is replaced. Either way the permutations come from
    NumPy's generator, so a seed gives the same answer with or without numba.
    """
    import importlib

    replaced: list[tuple[Any, str, Any]] = []
    with _ESDA_LOCK:
        try:
            for name, functions in _ESDA_JITTED.items():
                module = importlib.import_module(name)
                for function in functions:
                    value = getattr(module, function, None)
                    original = getattr(value, "py_func", None)
                    if original is not None:
                        replaced.append((module, function, value))
                        setattr(module, function, original)
                if replaced and name == "esda.crand" and hasattr(module, "boolean"):
                    replaced.append((module, "boolean", module.boolean))
                    setattr(module, "boolean", bool)  # noqa: B010
            yield
        finally:
            for module, function, value in reversed(replaced):
                setattr(module, function, value)


@contextlib.contextmanager
def _permutations_drawn_once() -> Iterator[None]:
    """Let esda draw its permuted neighbour ids once for the two tails of one call.

    Each tail is one ``crand`` run with the same seed, so the same ids
    (``esda.crand.vec_permutations``: for each permutation, ids drawn without
    replacement from all the areas, which costs the number of areas each time); the
    second run is given the first one's. Over the 33,755 LSOAs of England with 9,999
    permutations that drawing took 5 s of each run's 13 s. Held under ``_ESDA_LOCK``.
    """
    import esda.crand

    original = esda.crand.vec_permutations
    drawn: dict[tuple[Any, ...], np.ndarray] = {}

    def once(max_card: int, n: int, k_replications: int, seed: int) -> np.ndarray:
        key = (int(max_card), int(n), int(k_replications), int(seed))
        if key not in drawn:
            drawn[key] = original(max_card, n, k_replications, seed)
        return drawn[key]

    esda.crand.vec_permutations = once
    try:
        yield
    finally:
        esda.crand.vec_permutations = original


def _run_esda(
    y: np.ndarray, w: Any, method: str, permutations: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Statistic, z, two-sided p and (local Moran) quadrant of each area, from esda.

    The statistic and its analytical moments come from ``esda.G_Local`` /
    ``esda.Moran_Local``; the pseudo p-values from esda's conditional-permutation
    engine (``esda.crand.crand``) with the same statistic function, run for each tail
    (``"greater"``, ``"lesser"``, ties counted as extreme) with the same seed, so the
    same permutations: p = min(1, 2 × the smaller). esda's own classes fold one run
    (``"directed"``), which counts ties with the observed value as less extreme in the
    lower tail: an area of zero organisations among zeros then gets the smallest
    possible p, and every empty stretch of a grid would be a "cold spot".
    """
    import esda
    from esda.crand import crand
    from scipy import stats

    state = np.random.get_state()  # noqa: NPY002  (esda reseeds NumPy's global generator)
    try:
        with _esda_numpy_path(), _permutations_drawn_once(), warnings.catch_warnings():
            # esda warns that Gi* fills the diagonal and of sparse-efficiency details;
            # neither changes what is used here
            warnings.simplefilter("ignore")
            if method == "gi_star":
                g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
                statistic = np.asarray(g.Zs, dtype="float64")
                z = statistic
                quadrant = None
                engine: tuple[Any, ...] = (
                    y,
                    g.w,
                    g.Gs,
                    esda.getisord._g_local_star_crand,
                    float(y.sum()),
                )
            else:
                lm = esda.Moran_Local(y, w, transformation="r", permutations=0)
                statistic = np.asarray(lm.Is, dtype="float64")
                with np.errstate(divide="ignore", invalid="ignore"):
                    z = (statistic - lm.EIc) / np.sqrt(lm.VIc)
                quadrant = np.asarray(lm.q)
                engine = (lm.z, lm.w, lm.Is, esda.moran._moran_local_crand, None)
            tails = []
            if permutations:
                values, weights, observed, stat_func, scaling = engine
                for alternative in ("greater", "lesser"):
                    # crand zeroes the diagonal of the matrix it is given: give it a copy
                    matrix = types.SimpleNamespace(sparse=weights.sparse.copy())
                    p_tail, _ = crand(
                        values,
                        matrix,
                        observed,
                        permutations,
                        False,  # keep_simulations
                        1,  # n_jobs
                        stat_func,
                        scaling=scaling,
                        seed=seed,
                        island_weight=0,
                        alternative=alternative,
                    )
                    tails.append(np.asarray(p_tail, dtype="float64"))
    finally:
        np.random.set_state(state)  # noqa: NPY002
    if tails:
        p = np.minimum(2 * np.minimum(tails[0], tails[1]), 1.0)
    else:
        p = 2 * stats.norm.sf(np.abs(z))
    return statistic, np.asarray(z, dtype="float64"), p, quadrant


def _analyse(
    areas: gpd.GeoDataFrame,
    *,
    variable: str,
    method: str,
    weights: str,
    k: int,
    distance_m: float | None,
    permutations: int,
    alpha: float,
    fdr: bool,
    seed: int,
    what: str,
) -> HotspotResult:
    from scipy import stats

    values = _values(areas, variable)
    n = len(areas)
    located = has_geometry(areas.geometry)
    has_value = np.isfinite(values)
    if not has_value.any():
        msg = (
            f"{what}[{variable!r}] has no value in any of its {n} rows, so there is "
            "nothing to compare. "
            + (
                "An area summary has rates only with a population: summarise with "
                "geography= or population=."
                if variable.startswith("rate")
                else "Pass variable= a column with values."
            )
        )
        raise InputError(msg)
    if method == "gi_star" and np.nanmin(values) < 0:
        example = int(np.flatnonzero(values < 0)[0])
        msg = (
            f"{what}[{variable!r}] has negative values (row {example}: {values[example]}); "
            "Getis–Ord Gi* needs counts or rates (zero or more). Use method='local_moran' "
            "for values of either sign."
        )
        raise InputError(msg)

    valid = np.flatnonzero(has_value & located)
    y = values[valid]
    w, used = _build_weights(areas.geometry.iloc[valid], weights, k, distance_m)
    cardinality = np.zeros(n, dtype="int64")
    cardinality[valid] = [w.cardinalities[i] for i in range(len(valid))]
    tested_valid = cardinality[valid] > 0
    components, sizes = _components(w, tested_valid)

    statistic = np.full(n, np.nan)
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    quadrant = np.zeros(n, dtype="int64")
    constant = bool(len(y) and np.ptp(y) == 0)
    tested = valid[tested_valid]
    if len(tested) and not constant:
        s, zz, pp, q = _run_esda(y, w, method, permutations, seed)
        statistic[valid], z[valid], p[valid] = s, zz, pp
        if q is not None:
            quadrant[valid] = q
        statistic[valid[~tested_valid]] = np.nan
        z[valid[~tested_valid]] = np.nan
        p[valid[~tested_valid]] = np.nan
    elif len(tested):  # every value the same: no area stands out
        p[tested] = 1.0
    p_fdr = np.full(n, np.nan)
    finite = tested[np.isfinite(p[tested])]
    if len(finite):
        p_fdr[finite] = stats.false_discovery_control(p[finite], method="bh")
    decide = p_fdr if fdr else p

    classes = np.full(n, "not_significant", dtype=object)
    classes[~has_value] = "no_value"
    classes[has_value & (cardinality == 0)] = "no_neighbours"
    significant = np.zeros(n, dtype=bool)
    significant[tested] = np.nan_to_num(decide[tested], nan=1.0) <= alpha
    if method == "gi_star":
        for level, label in reversed(_LEVELS):
            if level > alpha + 1e-12:
                continue
            at = significant & (np.nan_to_num(decide, nan=1.0) <= level)
            classes[at & (z > 0)] = f"hot_{label}"
            classes[at & (z < 0)] = f"cold_{label}"
    else:
        for number, label in _QUADRANTS.items():
            classes[significant & (quadrant == number)] = label

    code_column, codes = _codes(areas)
    islands = [codes[i] for i in np.flatnonzero(has_value & (cardinality == 0))]
    missing = [codes[i] for i in np.flatnonzero(~has_value)]

    out = areas.copy()
    out["hotspot_statistic"] = statistic
    out["hotspot_z"] = z
    out["hotspot_p"] = p
    out["hotspot_p_fdr"] = p_fdr
    out["hotspot_class"] = pd.Categorical(classes, dtype=HOTSPOT_CLASS)
    out["n_neighbours"] = cardinality
    p_value = (
        f"two-sided pseudo p from {permutations} conditional permutations (esda), twice "
        "the directed one"
        if permutations
        else "two-sided, from the z-score and the normal distribution"
    )
    attrs: dict[str, Any] = {
        "method": method,
        "variable": variable,
        "weights": weights,
        "k": used.get("k", k) if weights == "knn" else None,
        "distance_m": used.get("distance_m") if weights == "distance" else None,
        "permutations": int(permutations),
        "alpha": float(alpha),
        "fdr": bool(fdr),
        "seed": int(seed),
        "p_value": p_value,
        "fdr_method": "Benjamini-Hochberg (1995) over the areas tested",
        "classes_by": "hotspot_p_fdr" if fdr else "hotspot_p",
        "code_column": code_column,
        "n_areas": n,
        "n_tested": len(tested),
        "n_islands": len(islands),
        "n_no_value": len(missing),
        "n_no_geometry": int((has_value & ~located).sum()),
        "components": components,
        "component_sizes": sizes,
        "constant_variable": constant,
        "smallest_possible_p": 2 / (permutations + 1) if permutations else 0.0,
    }
    if "distance_m_chosen" in used:
        attrs["distance_m_chosen"] = used["distance_m_chosen"]
    out.attrs = {**copy.deepcopy(areas.attrs), **attrs}
    with_provenance(out, areas)
    return HotspotResult(
        areas=out,
        islands=islands,
        no_value=missing,
        components=components,
        attrs=copy.deepcopy(attrs),
    )


def hotspots(
    areas: gpd.GeoDataFrame,
    *,
    variable: str = "rate_per_10k_eb",
    method: Method = "gi_star",
    weights: WeightsKind = "queen",
    k: int = 8,
    distance_m: float | None = None,
    permutations: int = 9_999,
    alpha: float = 0.05,
    fdr: bool = True,
    seed: int = 0,
) -> HotspotResult:
    """Find hot and cold spots (Gi*) or clusters and outliers (local Moran) of areas.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Area polygons with the variable: an area summary
        (:func:`socecon_geo.summarise_areas`) or any GeoDataFrame. Not changed.
    variable : str
        The column to test; by default the empirical-Bayes smoothed organisations per
        10,000 residents of an area summary.
    method : {"gi_star", "local_moran"}
        Local Getis–Ord Gi* (Getis & Ord 1992; Ord & Getis 1995), with each area in
        its own neighbourhood and binary weights: hot and cold spots. Local Moran's I
        (Anselin 1995) on row-standardised weights: high-high and low-low clusters,
        high-low and low-high outliers.
    weights : {"queen", "knn", "distance"}
        Neighbours: areas sharing a boundary point (queen contiguity); the ``k``
        nearest centroids; or the centroids within ``distance_m`` metres.
    k : int
        Neighbours of each area for ``weights="knn"`` (at most the areas less one).
    distance_m : float, optional
        Band for ``weights="distance"``, in metres (the areas must be in a projected
        CRS); by default the smallest band giving every area a neighbour.
    permutations : int
        Conditional permutations for the pseudo p-values; 0 for p-values from the
        z-score and the normal distribution (no floor, no randomness). The default
        9,999 lets a hot spot of 7 or more areas pass the Benjamini–Hochberg
        correction among 1,719 LSOAs; 999 cannot (its smallest p is 0.002).
    alpha : float
        Significance level. Gi*: hot and cold spots at 99% (p ≤ 0.01), 95% (≤ 0.05)
        and 90% (≤ 0.10) confidence, as far as ``alpha`` reaches (with the default
        0.05 the 90% class stays empty; pass 0.10 for all three, as ArcGIS shows).
        Local Moran: the quadrant class when p ≤ ``alpha``.
    fdr : bool
        Class by the Benjamini–Hochberg adjusted p-values (``hotspot_p_fdr``),
        controlling the false discovery rate across the areas tested; False classes by
        the raw ones. Both columns are always given.
    seed : int
        Seed of the permutations: the same seed gives the same result.

    Returns
    -------
    HotspotResult
        ``.areas`` (a copy with the ``hotspot_*`` columns, ``hotspot_class`` and
        ``n_neighbours``), ``.islands``, ``.no_value``, ``.components``, ``.attrs``,
        ``.counts`` and ``.explore()``.

    Raises
    ------
    InputError
        If areas is not a non-empty GeoDataFrame, the variable is missing, not
        numeric, or missing everywhere, Gi* is asked of negative values, or an option
        is out of range.
    CRSMismatchError
        If ``weights`` is ``"knn"`` or ``"distance"`` and the areas are not in a
        projected CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = [box(x, y, x + 1, y + 1) for y in range(6) for x in range(6)]
    >>> rate = [9.0 if x < 2 and y < 2 else 1.0 for y in range(6) for x in range(6)]
    >>> grid = gpd.GeoDataFrame({"rate": rate}, geometry=cells, crs=27700)
    >>> result = hotspots(grid, variable="rate", permutations=0)
    >>> result.areas["hotspot_class"].iloc[:3].tolist()
    ['hot_99', 'hot_99', 'not_significant']
    >>> result.islands, result.components
    ([], 1)
    """
    check_geodataframe(areas, "areas", "area polygons (an area summary)")
    if len(areas) == 0:
        msg = "areas is empty: there are no areas to find hot spots among."
        raise InputError(msg)
    _check_options(
        method=method,
        weights=weights,
        k=k,
        distance_m=distance_m,
        permutations=permutations,
        alpha=alpha,
        fdr=fdr,
        seed=seed,
    )
    if weights != "queen":
        check_projected(areas.crs, "areas")
    return _analyse(
        areas,
        variable=variable,
        method=method,
        weights=weights,
        k=int(k),
        distance_m=None if distance_m is None else float(distance_m),
        permutations=int(permutations),
        alpha=float(alpha),
        fdr=bool(fdr),
        seed=int(seed),
        what="areas",
    )


# ------------------------------------------------------------------------ the grid


def _boundary(
    boundary: Any, geography: Geography | None
) -> tuple[Any, Any, str, gpd.GeoDataFrame | None]:
    """Return the study area as one polygon, its CRS, a description and its frame."""
    if boundary is None:
        geo = resolve_geography(geography)
        level = "lad" if geo.has_layer("lad") else geo.levels[-1]
        frame = geo.layer(level)
        described = f"the {len(frame)} areas of the {level!r} layer of {geo.name}"
    else:
        if isinstance(boundary, gpd.GeoSeries):
            boundary = gpd.GeoDataFrame(geometry=boundary)
        check_geodataframe(boundary, "boundary", "polygons bounding the study area")
        frame = boundary
        described = f"the {len(frame)} polygon(s) passed as boundary"
    check_projected(frame.crs, "boundary")
    shapes = frame.geometry.to_numpy()[has_geometry(frame.geometry)]
    if len(shapes) == 0:
        msg = "boundary has no polygon to lay the grid over."
        raise InputError(msg)
    area = shapely.union_all(shapely.make_valid(shapes))
    return area, frame.crs, described, frame


def hotspot_grid(
    points: gpd.GeoDataFrame,
    *,
    cell_m: float = 1_000.0,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    geography: Geography | None = None,
    min_position_quality: int | None = 50,
    method: Method = "gi_star",
    weights: WeightsKind = "queen",
    k: int = 8,
    distance_m: float | None = None,
    permutations: int = 9_999,
    alpha: float = 0.05,
    fdr: bool = True,
    seed: int = 0,
) -> HotspotResult:
    """Find hot spots of organisation counts on a regular hexagonal grid.

    For users without a population denominator: the organisations are counted in
    hexagons of equal size laid over the study area (as ArcGIS's Optimized Hot Spot
    Analysis aggregates incidents), every hexagon touching the area kept, zeros
    included, and :func:`hotspots` runs on the counts (``n_organisations``).

    The study area is the union of the geography's local authorities (by default the
    bundled West Midlands Combined Authority), or ``boundary``. Only organisations
    inside it are counted; the others are counted in ``attrs["n_outside"]``.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Organisations with a point (the output of :func:`socecon_geo.geocode` or
        later steps), in the study area's CRS (EPSG:27700). Not changed; rows without
        a location are counted in ``attrs["n_no_location"]``.
    cell_m : float
        Width of a hexagon across its flat sides, in metres (also the distance between
        neighbouring centres); a hexagon covers ``0.866 * cell_m**2``.
    boundary : GeoDataFrame or GeoSeries, optional
        Polygons bounding the grid instead of the geography's authorities.
    geography : Geography, optional
        The study area; by default the bundled West Midlands.
    min_position_quality : int or None, default 50
        The coarsest Code-Point Open positional quality counted (10 best … 90 no
        point), as :func:`socecon_geo.find_clusters` takes it: by default organisations
        placed only at a postcode sector centroid (60) are not counted (one invented
        point per sector would make hot cells of its own), and are counted in
        ``attrs["n_low_position_quality"]``. A missing quality with a point counts;
        None counts every located organisation.
    method, weights, k, distance_m, permutations, alpha, fdr, seed
        As for :func:`hotspots` (queen contiguity on hexagons: the 6 around).

    Returns
    -------
    HotspotResult
        ``.areas`` holds one hexagon per row: ``cell_id`` (``"q_r"``, axial
        coordinates from the CRS origin, so one cell size gives the same cells
        everywhere), ``n_organisations``, ``share_in_area`` (the share of the hexagon
        inside the study area), the geometry and the hot-spot columns.

    Raises
    ------
    InputError
        If points is not a GeoDataFrame, is empty, or has no point in the study
        area, or an option is out of range.
    CRSMismatchError
        If points and the study area are in different CRSs, or either is not
        projected.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> area = gpd.GeoSeries([box(400_000, 280_000, 410_000, 290_000)], crs=27700)
    >>> points = gpd.GeoDataFrame(
    ...     geometry=[Point(401_000 + i % 7 * 50, 281_000 + i % 5 * 60) for i in range(40)],
    ...     crs=27700)
    >>> result = hotspot_grid(points, boundary=area, permutations=0)
    >>> int(result.areas["n_organisations"].sum()), len(result.areas) > 100
    (40, True)
    >>> result.counts["hot_99"] >= 1
    True
    """
    check_geodataframe(points, "points", "organisations (the output of socecon_geo.geocode)")
    if len(points) == 0:
        msg = "points is empty: there are no organisations to count on the grid."
        raise InputError(msg)
    if (
        isinstance(cell_m, bool)
        or not isinstance(cell_m, int | float | np.number)
        or not math.isfinite(float(cell_m))
        or float(cell_m) <= 0
    ):
        msg = f"cell_m (the hexagons' width, in metres) must be a positive number; got {cell_m!r}."
        raise InputError(msg)
    cell = float(cell_m)
    _check_options(
        method=method,
        weights=weights,
        k=k,
        distance_m=distance_m,
        permutations=permutations,
        alpha=alpha,
        fdr=fdr,
        seed=seed,
    )
    area, crs, described, frame = _boundary(boundary, geography)
    check_projected(points.crs, "points")
    check_same_crs(points.crs, "points", crs, "the study area")
    check_bng_extent(points, "points")
    xmin, ymin, xmax, ymax = shapely.bounds(area)
    candidates = math.ceil((xmax - xmin) / cell + 3) * math.ceil((ymax - ymin) / cell + 3)
    if candidates > 2_000_000:
        msg = (
            f"cell_m={cell:g} would lay about {candidates:,} hexagons over the study area; "
            "use larger cells (e.g. cell_m=1000)."
        )
        raise InputError(msg)

    q, r = hexagons_covering((xmin, ymin, xmax, ymax), cell)
    polygons = hexagon_polygons(q, r, cell)
    shapely.prepare(area)
    keep = shapely.intersects(area, polygons)
    q, r, polygons = q[keep], r[keep], polygons[keep]
    share = shapely.area(shapely.intersection(polygons, area)) / shapely.area(polygons)

    if min_position_quality is not None and (
        isinstance(min_position_quality, bool)
        or not isinstance(min_position_quality, int | np.integer)
        or min_position_quality < 0
    ):
        msg = (
            "min_position_quality must be a whole number on the Code-Point Open scale "
            f"(10 best … 90 no point), or None to count every point; got "
            f"{min_position_quality!r}."
        )
        raise InputError(msg)
    located = _point_locations(points)
    coarse = 0
    if min_position_quality is not None and "position_quality" in points.columns:
        quality = pd.to_numeric(
            points["position_quality"].reset_index(drop=True), errors="coerce"
        ).to_numpy(dtype="float64", na_value=np.nan)[located.index.to_numpy()]
        fine = ~(np.isfinite(quality) & (quality > min_position_quality))
        coarse = int((~fine).sum())
        located = located[fine]
    x = shapely.get_x(located.to_numpy())
    y = shapely.get_y(located.to_numpy())
    inside = shapely.contains_xy(area, x, y)
    if not inside.any():
        msg = (
            f"none of the {len(located)} located points counted lies in the study area "
            f"({described}); pass the geography (or boundary=) of the organisations' area."
        )
        raise InputError(msg)
    pq, pr = hexagon_of(x[inside], y[inside], cell)
    index = pd.Index(q * 10_000_000 + r)
    rows = index.get_indexer(pq * 10_000_000 + pr)
    counts = np.bincount(rows[rows >= 0], minlength=len(q)).astype("int64")

    grid = gpd.GeoDataFrame(
        {
            "cell_id": pd.array([f"{a}_{b}" for a, b in zip(q, r, strict=True)], dtype="string"),
            "n_organisations": counts,
            "share_in_area": share,
        },
        geometry=polygons,
        crs=crs,
    )
    grid.attrs = {
        "level": "hexagon",
        "code_column": "cell_id",
        "cell_m": cell,
        "cell_area_km2": math.sqrt(3) / 2 * cell**2 / 1e6,
        "boundary": described,
        "n_points": len(points),
        "min_position_quality": min_position_quality,
        "n_no_location": len(points) - len(located) - coarse,
        "n_low_position_quality": coarse,
        "n_outside": int((~inside).sum()),
        "n_counted": int(counts.sum()),
    }
    with_provenance(grid, points, frame)
    return _analyse(
        grid,
        variable="n_organisations",
        method=method,
        weights=weights,
        k=int(k),
        distance_m=None if distance_m is None else float(distance_m),
        permutations=int(permutations),
        alpha=float(alpha),
        fdr=bool(fdr),
        seed=int(seed),
        what="the grid",
    )

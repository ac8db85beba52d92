"""Ranking candidate places (:func:`rank_candidates`) through two lenses.

**Strengths**: existing concentrations of organisations (the clusters of
:func:`socecon_geo.find_clusters`) to develop as place-based clusters, scored on their
size, density (per km² and per 10,000 residents), sector diversity, hot-spot support and
the deprivation of the people who live there.

**Gaps**: high-need places (wards or LSOAs of an area summary,
:func:`socecon_geo.summarise_areas`) with little social economy presence, scored on their
deprivation, the share of their residents in England's most deprived 10%, a low smoothed
rate of organisations per 10,000 residents, and cold spots (from
:func:`socecon_geo.hotspots`).

The score is transparent: every component is a column ``score_<component>`` in 0..1
beside the weighted total ``score``; weights are configurable; each candidate has a
plain-language ``explanation`` built from its numbers. See ``docs/ranking.md``.

Scaling
-------
Counts, densities, rates, entropies and IMD scores (unbounded, skewed, with outliers) are
scaled by their **rank percentile** among the candidates that have a value:
``(r - 1) / (n - 1)``, where ``r`` is the value's rank from the lowest (ties share their
average rank) and ``n`` the number of candidates with a value (a single candidate gets
0.5). A very large cluster or a very deprived ward is first, but does not squash every
other candidate towards 0, as min-max scaling would. Shares that are already proportions
(of an area in hot or cold spots, of residents in the most deprived decile) are used as
they are: 0 means none, 1 all. Components where less is more (the rate of organisations,
for gaps) are reversed (``1 - percentile``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from socecon_geo._checks import check_geodataframe, check_projected, check_same_crs
from socecon_geo._errors import InputError, Problems
from socecon_geo._html import escape_text
from socecon_geo._ranking_text import gap_text, strength_text
from socecon_geo._schema import RANK_STATUS, RANK_STATUSES
from socecon_geo.geography import Geography, resolve_geography
from socecon_geo.provenance import attribution_lines, get_provenance, with_provenance

if TYPE_CHECKING:
    import folium

__all__ = [
    "COLD_CLASSES",
    "DEFAULT_WEIGHTS",
    "GAP_COMPONENTS",
    "HOT_CLASSES",
    "RANK_STATUSES",
    "STRENGTH_COMPONENTS",
    "Candidates",
    "check_weights",
    "rank_candidates",
]

STRENGTH_COMPONENTS: Final[tuple[str, ...]] = (
    "size",
    "density",
    "per_resident",
    "diversity",
    "hotspot",
    "deprivation",
)
"""Components of the strengths lens (columns ``score_<component>``).

``size``
    ``n_organisations``, rank percentile.
``density``
    organisations per km² (``density_per_km2``, else ``n_organisations / area_km2``),
    rank percentile.
``per_resident``
    organisations per 10,000 residents (``n_organisations / population × 10,000``, in
    column ``per_10k_residents``), rank percentile.
``diversity``
    ``sector_entropy`` (Shannon, natural log; else ``sector_diversity``), rank
    percentile.
``hotspot``
    share of the cluster's organisations in hot-spot areas when the clusters come as a
    result with ``.points`` (each member's area code joined to the hot spots' codes),
    else share of its polygon lying in hot-spot areas (column ``hotspot_share``), as it
    is.
``deprivation``
    ``imd_score_popweighted`` of the residents, rank percentile.
"""

GAP_COMPONENTS: Final[tuple[str, ...]] = (
    "deprivation",
    "most_deprived",
    "low_presence",
    "cold_spot",
)
"""Components of the gaps lens (columns ``score_<component>``).

``deprivation``
    ``imd_score_popweighted``, rank percentile.
``most_deprived``
    ``share_pop_imd_decile1`` (share of residents in England's most deprived 10%), as
    it is.
``low_presence``
    ``rate_per_10k_eb`` (empirical-Bayes smoothed organisations per 10,000 residents),
    reversed rank percentile; organisations per km² (column ``presence_per_km2``) when
    the areas have no population at all.
``cold_spot``
    share of the area in cold-spot areas (column ``coldspot_share``: 1 or 0 when the hot
    spots are of the same areas), as it is.
"""

DEFAULT_WEIGHTS: Final[Mapping[str, Mapping[str, float]]] = {
    "strengths": {
        "size": 0.25,
        "density": 0.15,
        "per_resident": 0.15,
        "diversity": 0.15,
        "hotspot": 0.15,
        "deprivation": 0.15,
    },
    "gaps": {
        "deprivation": 0.30,
        "most_deprived": 0.20,
        "low_presence": 0.35,
        "cold_spot": 0.15,
    },
}
"""Default weights of each lens (justified in ``docs/ranking.md``); each sums to 1."""

_COMPONENTS: Final[dict[str, tuple[str, ...]]] = {
    "strengths": STRENGTH_COMPONENTS,
    "gaps": GAP_COMPONENTS,
}

HOT_CLASSES: Final[tuple[str, ...]] = ("hot_99", "hot_95", "hot_90", "high_high")
"""``hotspot_class`` values counted as hot spots (Gi* hot spots; local Moran high-high)."""

COLD_CLASSES: Final[tuple[str, ...]] = ("cold_99", "cold_95", "cold_90", "low_low")
"""``hotspot_class`` values counted as cold spots (Gi* cold spots; local Moran low-low)."""


_AREA_LEVELS: Final[tuple[tuple[str, str], ...]] = (
    ("lsoa21_code", "lsoa21_name"),
    ("lsoa11_code", "lsoa11_name"),
    ("msoa21_code", "msoa21_name"),
    ("ward_code", "ward_name"),
    ("lad_code", "lad_name"),
)


SCALING: Final[str] = (
    "rank percentile (r - 1) / (n - 1), ties at their average rank, a lone value 0.5; "
    "shares used as they are"
)

_SCORE_COLUMNS: Final[tuple[str, ...]] = ("rank", "rank_status", "score")


# ---------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Candidates:
    """Candidate places ranked through two lenses.

    Attributes
    ----------
    strengths : geopandas.GeoDataFrame
        One row per cluster, ordered by ``rank`` (1 = top; the index labels are the
        input's): the cluster columns (``area_km2`` and ``density_per_km2`` measured
        from the polygons when absent), ``per_10k_residents``, ``hotspot_share``, one
        ``score_<component>`` per :data:`STRENGTH_COMPONENTS` (0..1; missing for a
        component not used), ``score`` (the weighted total, 0..1), ``rank``,
        ``rank_status`` and ``explanation``.
    gaps : geopandas.GeoDataFrame
        One row per area, ordered by ``rank``: the area columns, ``coldspot_share``,
        ``presence_per_km2``, ``score_<component>`` per :data:`GAP_COMPONENTS`,
        ``score``, ``rank``, ``rank_status`` and ``explanation``.
    weights : dict
        The weights used, by lens and component, each lens summing to 1 (0 for a
        component that could not be computed).
    attrs : dict
        The parameters: weights asked for and used, the scaling, the components left
        out and why, how hot-spot support was measured, the geography's name.
    """

    strengths: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    weights: dict[str, dict[str, float]]
    attrs: dict[str, Any] = field(default_factory=dict)

    def explore(self, **kwargs: Any) -> folium.Map:
        """Show both lenses on an interactive map, one layer each.

        Colours follow the score (darker is higher); the tooltip shows the rank, the
        score and the explanation (escaped for HTML here, plain text in the frames).

        Parameters
        ----------
        **kwargs
            Passed to :meth:`geopandas.GeoDataFrame.explore` for both layers.

        Returns
        -------
        folium.Map
        """
        import folium

        shown_any = False
        fmap: folium.Map | None = None
        credit = "; ".join(attribution_lines(self.strengths, self.gaps))
        for name, frame, cmap in (
            ("gaps: high need, thin presence", self.gaps, "Oranges"),
            ("strengths: clusters to develop", self.strengths, "Blues"),
        ):
            if frame.empty:
                continue
            shown = gpd.GeoDataFrame(
                {
                    "rank": frame["rank"].astype("float64").to_numpy(),
                    "score": frame["score"].round(3).to_numpy(),
                    "status": frame["rank_status"].astype(str).to_numpy(),
                    "explanation": [escape_text(t) for t in frame["explanation"]],
                },
                geometry=frame.geometry.to_numpy(),
                crs=frame.crs,
            )
            options: dict[str, Any] = {
                "column": "score",
                "cmap": cmap,
                "legend": False,
                "name": name,
                "tooltip": ["rank", "score", "status", "explanation"],
                "missing_kwds": {"color": "lightgrey"},
                "style_kwds": {"fillOpacity": 0.6, "weight": 1},
            }
            if fmap is None and credit:
                options["attr"] = credit
            fmap = shown.explore(m=fmap, **{**options, **kwargs})
            shown_any = True
        if not shown_any or fmap is None:
            fmap = folium.Map(tiles="OpenStreetMap")
        folium.LayerControl().add_to(fmap)
        return fmap

    def __repr__(self) -> str:
        return (
            f"Candidates(strengths: {len(self.strengths)} clusters; gaps: {len(self.gaps)} areas)"
        )


# ---------------------------------------------------------------------- inputs


def _frame_of(value: Any, attribute: str, what: str, expected: str) -> gpd.GeoDataFrame:
    """Return the GeoDataFrame itself, or its ``attribute`` (a result object)."""
    if isinstance(value, gpd.GeoDataFrame):
        return value
    inner = getattr(value, attribute, None)
    if isinstance(inner, gpd.GeoDataFrame):
        return inner
    msg = f"{what} must be {expected} or its .{attribute} GeoDataFrame, not {type(value).__name__}."
    raise InputError(msg)


def _copy(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    out.attrs = copy.deepcopy(frame.attrs)
    return out


def check_weights(weights: Mapping[str, Mapping[str, float]] | None) -> dict[str, dict[str, float]]:
    """Merge ``weights`` into the defaults and normalise each lens to sum to 1.

    Parameters
    ----------
    weights : mapping, optional
        ``{"strengths": {component: weight}, "gaps": {...}}``; a lens or component not
        given keeps its default weight.

    Returns
    -------
    dict
        Every component of both lenses with its weight, each lens summing to 1.

    Raises
    ------
    InputError
        For an unknown lens or component, a weight that is not a finite number 0 or
        more, or a lens whose weights are all 0 (every problem in one message).

    Examples
    --------
    >>> gaps = check_weights({"gaps": {"cold_spot": 0.0}})["gaps"]
    >>> {component: round(weight, 3) for component, weight in gaps.items()}
    {'deprivation': 0.353, 'most_deprived': 0.235, 'low_presence': 0.412, 'cold_spot': 0.0}
    """
    merged = {lens: dict(DEFAULT_WEIGHTS[lens]) for lens in _COMPONENTS}
    problems = Problems("weights")
    if weights is not None and not isinstance(weights, Mapping):
        msg = (
            'weights must be a mapping like {"strengths": {"size": 0.5}, "gaps": '
            f'{{"deprivation": 0.4}}}}, not {type(weights).__name__}.'
        )
        raise InputError(msg)
    for lens, given in (weights or {}).items():
        if lens not in _COMPONENTS:
            problems.add(f"unknown lens {lens!r}; the lenses are 'strengths' and 'gaps'")
            continue
        valid = ", ".join(_COMPONENTS[lens])
        if not isinstance(given, Mapping):
            problems.add(
                f"{lens!r} must map components ({valid}) to weights, not {type(given).__name__}"
            )
            continue
        for component, weight in given.items():
            if component not in _COMPONENTS[lens]:
                problems.add(
                    f"unknown {lens} component {component!r}; the {lens} components are {valid}"
                )
                continue
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float | np.integer | np.floating)
                or not math.isfinite(float(weight))
                or float(weight) < 0
            ):
                problems.add(
                    f"{lens} weight of {component!r} is {weight!r}; weights must be finite "
                    "numbers 0 or more"
                )
                continue
            merged[lens][component] = float(weight)
    for lens, values in merged.items():
        if not problems and sum(values.values()) <= 0:
            problems.add(f"every {lens} weight is 0; give at least one a positive weight")
    problems.raise_if_any(
        InputError,
        hint="Weights are relative (each lens is scaled to sum to 1); see "
        "socecon_geo.ranking.DEFAULT_WEIGHTS.",
    )
    return {lens: _normalised(values) for lens, values in merged.items()}


def _normalised(values: Mapping[str, float]) -> dict[str, float]:
    total = sum(values.values())
    if total <= 0:
        return dict.fromkeys(values, 0.0)
    return {key: value / total for key, value in values.items()}


def _score(
    out: pd.DataFrame,
    raw: dict[str, pd.Series],
    reasons: dict[str, str],
    unavailable: dict[str, str],
    weights: Mapping[str, float],
    lens: str,
    *,
    as_is: tuple[str, ...],
    reversed_: tuple[str, ...],
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Scale each component of a lens to 0..1, add them and the total to ``out``.

    A component no candidate has is marked unavailable (with its reason). Shares in
    ``as_is`` are used as they are (clipped to 0..1); the others are rank percentiles,
    reversed for those in ``reversed_``. Returns the component scores and the weights
    used (unavailable components' weight shared among the others).
    """
    for component, values in raw.items():
        if component not in unavailable and len(out) and not values.notna().any():
            unavailable[component] = reasons[component]
    scores = pd.DataFrame(index=out.index)
    for component, values in raw.items():
        if component in unavailable:
            scores[f"score_{component}"] = np.nan
        elif component in as_is:
            scores[f"score_{component}"] = values.astype("float64").clip(0.0, 1.0)
        elif component in reversed_:
            scores[f"score_{component}"] = 1.0 - _percentile(values)
        else:
            scores[f"score_{component}"] = _percentile(values)
    used = _usable(weights, unavailable, lens)
    for column in scores.columns:
        out[column] = scores[column].to_numpy()
    out["score"] = _total(scores, {c: w for c, w in used.items() if w > 0}).to_numpy()
    return scores, used


def _usable(
    weights: Mapping[str, float], unavailable: Mapping[str, str], lens: str
) -> dict[str, float]:
    """Return the weights of the components that can be computed, scaled to sum to 1."""
    kept = {c: (0.0 if c in unavailable else w) for c, w in weights.items()}
    if sum(kept.values()) <= 0 and any(w > 0 for w in weights.values()):
        weighted = [c for c, w in weights.items() if w > 0]
        reasons = "; ".join(f"{c}: {unavailable[c]}" for c in weighted)
        others = ", ".join(c for c in weights if c not in unavailable)
        msg = (
            f"every {lens} component with a weight cannot be computed ({reasons}); give a "
            f"weight to one that can ({others}) or pass what the others need."
        )
        raise InputError(msg)
    return _normalised(kept)


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return a column as float64 (NaN for missing), or all NaN when absent."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _find_code_column(frame: pd.DataFrame) -> tuple[str, str | None] | None:
    code = frame.attrs.get("code_column")
    for code_column, name_column in _AREA_LEVELS:
        if code in (None, code_column) and code_column in frame.columns:
            return code_column, name_column if name_column in frame.columns else None
    return None


def _code_columns(frame: pd.DataFrame) -> tuple[str, str | None]:
    found = _find_code_column(frame)
    if found is not None:
        return found
    columns = ", ".join(map(str, frame.columns))
    msg = (
        "areas has none of the code columns 'lsoa21_code', 'lsoa11_code', 'msoa21_code', "
        f"'ward_code', 'lad_code'; it has {columns}. Pass an area summary "
        "(socecon_geo.summarise_areas)."
    )
    raise InputError(msg)


def _hot_frame(hotspots: Any, areas_input: Any) -> gpd.GeoDataFrame | None:
    """Return the frame with ``hotspot_class``: ``hotspots``, else ``areas`` if it has one."""
    if hotspots is None:
        frame = _frame_of(areas_input, "areas", "areas", "an area summary")
        return frame if "hotspot_class" in frame.columns else None
    frame = _frame_of(hotspots, "areas", "hotspots", "a HotspotResult")
    if "hotspot_class" not in frame.columns:
        msg = (
            "hotspots has no 'hotspot_class' column; pass the result of "
            "socecon_geo.hotspots(areas) (or its .areas frame)."
        )
        raise InputError(msg)
    check_projected(frame.crs, "hotspots")
    return frame


def _classes(frame: gpd.GeoDataFrame) -> pd.Series:
    return frame["hotspot_class"].astype("string")


def _share_in(
    geometry: gpd.GeoSeries, hot: gpd.GeoDataFrame, classes: tuple[str, ...]
) -> tuple[np.ndarray, list[str | None]]:
    """Share of each geometry's area lying in the ``classes`` areas, and the strongest class."""
    labels = _classes(hot)
    chosen = hot[labels.isin(classes).fillna(False).to_numpy()]
    share = np.zeros(len(geometry))
    strongest: list[str | None] = [None] * len(geometry)
    if chosen.empty or len(geometry) == 0:
        return share, strongest
    union = chosen.geometry.union_all()
    area = geometry.area.to_numpy()
    inside = geometry.intersection(union).area.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, np.clip(inside / area, 0.0, 1.0), 0.0)
    order = {name: i for i, name in enumerate(classes)}
    left = gpd.GeoDataFrame(
        {"_row": np.arange(len(geometry))}, geometry=geometry.to_numpy(), crs=geometry.crs
    )
    right = gpd.GeoDataFrame(
        {"_class": _classes(chosen).to_numpy()}, geometry=chosen.geometry.to_numpy(), crs=hot.crs
    )
    pairs = gpd.sjoin(left, right, predicate="intersects")
    for row, group in pairs.groupby("_row")["_class"]:
        if share[int(row)] > 0:
            strongest[int(row)] = min(group, key=lambda name: order[str(name)])
    return share, strongest


def _member_share(
    cluster_ids: pd.Series, members: pd.DataFrame, hot: gpd.GeoDataFrame, code_column: str
) -> tuple[np.ndarray, list[str | None]]:
    """Share of each cluster's organisations in hot-spot areas, and the strongest class."""
    classes = pd.Series(_classes(hot).to_numpy(), index=hot[code_column].astype(str))
    classes = classes[~classes.index.duplicated()]
    clustered = members[members["cluster_id"].notna()]
    labels = pd.Series(
        classes.reindex(clustered[code_column].astype("string").fillna("")).to_numpy(),
        index=clustered.index,
    )
    hot_label = labels.where(labels.isin(HOT_CLASSES).fillna(False).to_numpy())
    frame = pd.DataFrame(
        {
            "cluster_id": pd.to_numeric(clustered["cluster_id"]).to_numpy(),
            "hot": hot_label.notna().to_numpy(),
            "order": hot_label.map({name: i for i, name in enumerate(HOT_CLASSES)}).to_numpy(),
        }
    )
    grouped = frame.groupby("cluster_id")
    ids = pd.to_numeric(cluster_ids).to_numpy()
    share = grouped["hot"].mean().reindex(ids).fillna(0.0).to_numpy(dtype="float64")
    best = grouped["order"].min().reindex(ids).to_numpy()
    strongest = [HOT_CLASSES[int(b)] if pd.notna(b) else None for b in best]
    return share, strongest


def _percentile(values: pd.Series) -> pd.Series:
    """Rank percentile of each value among those present: (r - 1) / (n - 1)."""
    present = values.notna()
    n = int(present.sum())
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    if n == 1:
        out[present] = 0.5
    elif n > 1:
        out[present] = (values[present].rank(method="average") - 1) / (n - 1)
    return out


def _ordered(
    frame: pd.DataFrame, group: np.ndarray, tiebreak: pd.Series, tiebreak_ascending: bool = True
) -> np.ndarray:
    """Positions of the rows in rank order: group, then score (high first), then tiebreak."""
    key = pd.DataFrame(
        {
            "group": group,
            "score": -frame["score"].round(12).fillna(np.inf).to_numpy(),
            "tiebreak": tiebreak.to_numpy(),
            "position": np.arange(len(frame)),
        }
    )
    key = key.sort_values(
        ["group", "score", "tiebreak", "position"],
        ascending=[True, True, tiebreak_ascending, True],
        kind="mergesort",
        na_position="last",
    )
    return key["position"].to_numpy()


def _total(scores: pd.DataFrame, used: Mapping[str, float]) -> pd.Series:
    """Weighted sum over the used components; NaN where one of them is missing."""
    total = pd.Series(0.0, index=scores.index)
    for component, weight in used.items():
        total = total + weight * scores[f"score_{component}"]
    return total


# ---------------------------------------------------------------------- strengths


_CLUSTER_REQUIRED: Final[tuple[str, ...]] = ("cluster_id", "n_organisations")


def _strengths(
    clusters: gpd.GeoDataFrame,
    hot: gpd.GeoDataFrame | None,
    weights: Mapping[str, float],
    members: pd.DataFrame | None,
) -> tuple[gpd.GeoDataFrame, dict[str, float], dict[str, str], str | None]:
    missing = [c for c in _CLUSTER_REQUIRED if c not in clusters.columns]
    if missing:
        columns = ", ".join(map(str, clusters.columns))
        msg = (
            f"clusters lacks {', '.join(map(repr, missing))} (it has {columns}); pass the "
            "result of socecon_geo.find_clusters(points) or its .clusters frame."
        )
        raise InputError(msg)
    out = _copy(clusters)
    n = _numeric(out, "n_organisations")
    area = _numeric(out, "area_km2")
    if "area_km2" not in out.columns and len(out):
        check_projected(out.crs, "clusters")
        area = pd.Series(out.geometry.area.to_numpy() / 1e6, index=out.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = (
            _numeric(out, "density_per_km2")
            if "density_per_km2" in out.columns
            else n / area.where(area > 0)
        )
        population = _numeric(out, "population")
        out["per_10k_residents"] = n / population.where(population > 0) * 10_000
    if "area_km2" not in out.columns:
        out["area_km2"] = area
    if "density_per_km2" not in out.columns:
        out["density_per_km2"] = density
    diversity = (
        _numeric(out, "sector_entropy")
        if "sector_entropy" in out.columns
        else _numeric(out, "sector_diversity")
    )
    deprivation = _numeric(out, "imd_score_popweighted")

    unavailable: dict[str, str] = {}
    strongest: list[str | None] = [None] * len(out)
    support: str | None = None
    hot_code = _find_code_column(hot) if hot is not None else None
    if hot is None:
        out["hotspot_share"] = np.nan
        unavailable["hotspot"] = "no hot spots given (hotspots=)"
    elif (
        members is not None
        and hot_code is not None
        and {"cluster_id", hot_code[0]} <= set(members.columns)
        and hot[hot_code[0]].notna().all()
    ):
        share, strongest = _member_share(out["cluster_id"], members, hot, hot_code[0])
        out["hotspot_share"] = share
        support = f"share of each cluster's organisations in hot-spot areas (by {hot_code[0]})"
    else:
        check_projected(out.crs, "clusters")
        check_same_crs(out.crs, "clusters", hot.crs, "hotspots")
        share, strongest = _share_in(out.geometry, hot, HOT_CLASSES)
        out["hotspot_share"] = share
        support = "share of each cluster's polygon in hot-spot areas"
    raw = {
        "size": n,
        "density": density,
        "per_resident": out["per_10k_residents"],
        "diversity": diversity,
        "hotspot": out["hotspot_share"],
        "deprivation": deprivation,
    }
    reasons = {
        "size": "no organisation counts",
        "density": "no density_per_km2 or area_km2",
        "per_resident": "clusters have no population",
        "diversity": "clusters have no sector_entropy or sector_diversity",
        "deprivation": "clusters have no imd_score_popweighted",
    }
    scores, used = _score(
        out, raw, reasons, unavailable, weights, "strengths", as_is=("hotspot",), reversed_=()
    )

    status = np.full(len(out), "ranked", dtype=object)
    missing_of = {
        "per_resident": "no_population",
        "deprivation": "no_deprivation",
    }
    for component, weight in used.items():
        if weight <= 0:
            continue
        absent = scores[f"score_{component}"].isna().to_numpy() & (status == "ranked")
        status[absent] = missing_of.get(component, "no_data")
    group = np.where(status == "ranked", 0, 2)
    out["rank_status"] = pd.Categorical(status, dtype=RANK_STATUS)
    tiebreak = pd.Series(pd.to_numeric(out["cluster_id"], errors="coerce"), index=out.index)
    order = _ordered(out, group, tiebreak)
    out = out.iloc[order]
    out["rank"] = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    strongest_ordered = [strongest[i] for i in order]
    out["explanation"] = pd.array(
        [
            strength_text(row, support, strongest_class)
            for row, strongest_class in zip(_records(out), strongest_ordered, strict=True)
        ],
        dtype="string",
    )
    return out, used, unavailable, support


# ---------------------------------------------------------------------- gaps


def _gaps(
    areas: gpd.GeoDataFrame,
    hot: gpd.GeoDataFrame | None,
    weights: Mapping[str, float],
) -> tuple[gpd.GeoDataFrame, dict[str, float], dict[str, str], dict[str, Any]]:
    code_column, name_column = _code_columns(areas)
    if "n_organisations" not in areas.columns:
        msg = (
            "areas has no 'n_organisations' column; pass an area summary "
            "(socecon_geo.summarise_areas(points, level=...))."
        )
        raise InputError(msg)
    if not {"imd_score_popweighted", "share_pop_imd_decile1"} & set(areas.columns):
        msg = (
            "areas has no deprivation ('imd_score_popweighted', 'share_pop_imd_decile1'), so "
            "no need can be measured: summarise the areas with deprivation, e.g. "
            "socecon_geo.summarise_areas(points, level='ward', geography=sg.load_geography())."
        )
        raise InputError(msg)
    out = _copy(areas)
    notes: dict[str, Any] = {"code_column": code_column}
    unavailable: dict[str, str] = {}
    n = _numeric(out, "n_organisations")
    population = _numeric(out, "population")
    rate = _numeric(out, "rate_per_10k_eb")
    has_population = bool(population.notna().any() and rate.notna().any())
    if len(out):
        check_projected(out.crs, "areas")
    area_km2 = pd.Series(out.geometry.area.to_numpy() / 1e6, index=out.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["presence_per_km2"] = n / area_km2.where(area_km2 > 0)
    if has_population or not len(out):
        presence = rate
        notes["presence_measure"] = "rate_per_10k_eb (organisations per 10,000 residents, smoothed)"
        valid = population.notna() & (population > 0) & rate.notna()
        total_people = float(population[valid].sum())
        notes["overall_rate_per_10k"] = (
            float(n[valid].sum()) / total_people * 10_000 if total_people > 0 else None
        )
    else:
        presence = out["presence_per_km2"]
        notes["presence_measure"] = (
            "organisations per km² (the areas have no population, so no rate per resident)"
        )
        notes["overall_rate_per_10k"] = None

    if hot is None:
        out["coldspot_share"] = np.nan
        unavailable["cold_spot"] = "no hot spots given (hotspots=)"
        strongest: list[str | None] = [None] * len(out)
        notes["cold_spot_join"] = None
    elif code_column in hot.columns and hot[code_column].notna().all():
        classes = pd.Series(_classes(hot).to_numpy(), index=hot[code_column].astype(str))
        classes = classes[~classes.index.duplicated()]
        labels = classes.reindex(out[code_column].astype(str)).to_numpy()
        cold = np.array([label in COLD_CLASSES for label in labels])
        out["coldspot_share"] = cold.astype("float64")
        strongest = [
            str(label) if is_cold else None for label, is_cold in zip(labels, cold, strict=True)
        ]
        notes["cold_spot_join"] = f"by {code_column}"
    else:
        check_same_crs(out.crs, "areas", hot.crs, "hotspots")
        share, strongest = _share_in(out.geometry, hot, COLD_CLASSES)
        out["coldspot_share"] = share
        notes["cold_spot_join"] = "share of each area's polygon in cold-spot areas"

    raw = {
        "deprivation": _numeric(out, "imd_score_popweighted"),
        "most_deprived": _numeric(out, "share_pop_imd_decile1"),
        "low_presence": presence,
        "cold_spot": out["coldspot_share"],
    }
    reasons = {
        "deprivation": "areas have no imd_score_popweighted",
        "most_deprived": "areas have no share_pop_imd_decile1",
        "low_presence": "areas have no organisation counts",
    }
    scores, used = _score(
        out,
        raw,
        reasons,
        unavailable,
        weights,
        "gaps",
        as_is=("most_deprived", "cold_spot"),
        reversed_=("low_presence",),
    )

    status = np.full(len(out), "ranked", dtype=object)
    no_population = (
        (population.isna() | rate.isna()).to_numpy()
        if has_population
        else np.zeros(len(out), dtype=bool)
    )
    for component, weight in used.items():
        if weight <= 0:
            continue
        absent = scores[f"score_{component}"].isna().to_numpy() & (status == "ranked")
        if component == "low_presence":
            status[absent & no_population] = "no_population"
            status[absent & ~no_population] = "no_data"
        elif component in ("deprivation", "most_deprived"):
            status[absent] = "no_deprivation"
        else:
            status[absent] = "no_data"
    small = (
        out["small_population"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "small_population" in out.columns
        else np.zeros(len(out), dtype=bool)
    )
    status[(status == "ranked") & small] = "small_population"
    group = np.select([status == "ranked", status == "small_population"], [0, 1], 2)
    out["rank_status"] = pd.Categorical(status, dtype=RANK_STATUS)
    order = _ordered(out, group, out[code_column].astype(str))
    out = out.iloc[order]
    out["rank"] = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    strongest_ordered = [strongest[i] for i in order]
    minimum = areas.attrs.get("min_population")
    out["explanation"] = pd.array(
        [
            gap_text(row, code_column, name_column, hot is not None, cold, notes, minimum)
            for row, cold in zip(_records(out), strongest_ordered, strict=True)
        ],
        dtype="string",
    )
    return out, used, unavailable, notes


# ---------------------------------------------------------------------- the step


def rank_candidates(
    clusters: Any,
    areas: Any,
    *,
    hotspots: Any = None,
    weights: Mapping[str, Mapping[str, float]] | None = None,
    geography: Geography | None = None,
) -> Candidates:
    """Rank candidate places: clusters to develop (strengths), needy thin places (gaps).

    Each component is scaled to 0..1 (rank percentile for counts, densities, rates and
    scores; proportions as they are; see the module documentation) and shown as
    ``score_<component>`` beside the weighted total ``score``. ``rank`` 1 is the top;
    ties are broken by ``cluster_id`` (strengths) or area code (gaps). Components that
    cannot be computed for any candidate (no hot spots, no population) are left out,
    their weight shared among the others in proportion, and said so in the attrs and
    the explanations.

    Parameters
    ----------
    clusters : ClusterResult or geopandas.GeoDataFrame
        The result of :func:`socecon_geo.find_clusters` or its ``.clusters`` frame (one
        row per cluster: ``cluster_id``, ``n_organisations``, and where present
        ``n_locations``, ``n_<org_type>``, ``top_sector``, ``sector_diversity``,
        ``sector_entropy``, ``area_km2``, ``density_per_km2``, ``ward_names``,
        ``lad_names``, ``population``, ``imd_score_popweighted``,
        ``share_pop_imd_decile1``), in a projected CRS.
    areas : geopandas.GeoDataFrame or HotspotResult
        An area summary of wards, LSOAs or other areas
        (:func:`socecon_geo.summarise_areas`, with deprivation), or a
        :func:`socecon_geo.hotspots` result, whose ``.areas`` also give the cold spots.
    hotspots : HotspotResult or geopandas.GeoDataFrame, optional
        Hot spots (a frame with ``hotspot_class``): hot-spot support of each cluster
        (share of its organisations in hot-spot areas when ``clusters`` has
        ``.points`` with ``cluster_id`` and the hot spots' area code, else share of its
        polygon) and cold spots of each area (by code when the hot spots are of the
        same areas, else by share of polygon). By default the ``areas`` themselves when
        they have ``hotspot_class``.
    weights : mapping, optional
        ``{"strengths": {component: weight}, "gaps": {component: weight}}`` (see
        :data:`STRENGTH_COMPONENTS`, :data:`GAP_COMPONENTS`); components not given keep
        their :data:`DEFAULT_WEIGHTS`, and each lens is scaled to sum to 1.
    geography : Geography, optional
        The study area (by default the bundled West Midlands); its name is recorded
        in the attrs.

    Returns
    -------
    Candidates
        ``strengths`` and ``gaps`` (GeoDataFrames ordered by rank, every input row kept,
        with ``score_<component>``, ``score``, ``rank``, ``rank_status`` and
        ``explanation``), ``weights`` (used) and ``explore()``. Each frame carries its
        inputs' provenance and the parameters in ``attrs["ranking"]``.

    Raises
    ------
    InputError
        For inputs of the wrong kind or without the columns named above, and for
        invalid weights (an unknown component or a negative weight).
    CRSMismatchError
        If clusters, areas and hot spots are in different or unprojected CRSs.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> clusters = gpd.GeoDataFrame(
    ...     {"cluster_id": [1, 2], "n_organisations": [30, 12], "area_km2": [2.0, 0.5]},
    ...     geometry=[box(0, 0, 2000, 1000), box(3000, 0, 3500, 1000)],
    ...     crs=27700,
    ... )
    >>> areas = gpd.GeoDataFrame(
    ...     {"ward_code": ["W1", "W2"], "n_organisations": [40, 2], "population": [9000.0, 8000.0],
    ...      "rate_per_10k_eb": [40.0, 3.0], "imd_score_popweighted": [20.0, 45.0],
    ...      "share_pop_imd_decile1": [0.0, 0.6]},
    ...     geometry=[box(0, 0, 2500, 1000), box(2500, 0, 5000, 1000)],
    ...     crs=27700,
    ... )
    >>> ranked = rank_candidates(clusters, areas)
    >>> ranked.gaps[["ward_code", "rank", "score"]].round(3)
      ward_code  rank  score
    1        W2     1  0.906
    0        W1     2  0.000
    >>> ranked.weights["gaps"]["cold_spot"]
    0.0
    """
    used_weights = check_weights(weights)
    cluster_frame = _frame_of(clusters, "clusters", "clusters", "a ClusterResult")
    check_geodataframe(cluster_frame, "clusters", "cluster polygons")
    area_frame = _frame_of(areas, "areas", "areas", "an area summary")
    hot = _hot_frame(hotspots, areas)
    if len(cluster_frame) and len(area_frame):
        check_same_crs(cluster_frame.crs, "clusters", area_frame.crs, "areas")
    geo = resolve_geography(geography)

    members = None if isinstance(clusters, pd.DataFrame) else getattr(clusters, "points", None)
    strengths, strength_weights, strength_out, support = _strengths(
        cluster_frame,
        hot,
        used_weights["strengths"],
        members if isinstance(members, pd.DataFrame) else None,
    )
    gaps, gap_weights, gap_out, gap_notes = _gaps(area_frame, hot, used_weights["gaps"])
    effective = {"strengths": strength_weights, "gaps": gap_weights}
    attrs: dict[str, Any] = {
        "geography": geo.name,
        "weights_requested": used_weights,
        "weights": effective,
        "scaling": SCALING,
        "unavailable_components": {"strengths": strength_out, "gaps": gap_out},
        "hotspots_given": hot is not None,
        "hotspot_support": support,
        "hot_spot_classes": HOT_CLASSES if hot is not None else None,
        "cold_spot_classes": COLD_CLASSES if hot is not None else None,
        **gap_notes,
        "tiebreak": {"strengths": "cluster_id, smallest first", "gaps": "area code, A to Z"},
    }
    strengths.attrs["ranking"] = {**copy.deepcopy(attrs), "lens": "strengths"}
    gaps.attrs["ranking"] = {**copy.deepcopy(attrs), "lens": "gaps"}
    with_provenance(strengths, get_provenance(cluster_frame), hot)
    with_provenance(gaps, get_provenance(area_frame), hot)
    return Candidates(strengths=strengths, gaps=gaps, weights=effective, attrs=attrs)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as dicts, without its geometry (cheaper than iterrows)."""
    geometry = getattr(frame, "_geometry_column_name", None)
    columns = [c for c in frame.columns if c != geometry]
    return pd.DataFrame(frame[columns]).to_dict("records")

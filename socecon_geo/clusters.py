"""Density clustering of organisations: :func:`find_clusters`.

Candidate place-based clusters of the social economy: groups of addresses close enough
together, with enough organisations at them, to stand out from their surroundings. Two
methods, both in British National Grid metres:

* **HDBSCAN** (Campello, Moulavi & Sander 2013), the default: clusters of varying
  density, no distance to choose, a membership strength per organisation;
* **DBSCAN** (Ester, Kriegel, Sander & Xu 1996): every organisation with at least
  ``min_organisations`` organisations within ``distance_m`` is a core; clusters are the
  cores linked within ``distance_m`` and the organisations within reach of them.

Weighted locations
------------------
Organisations geocoded by postcode share coordinates: many organisations sit on one
postcode centroid. Identical coordinates are collapsed into one *location* whose weight
is the number of organisations there. **Clusters are of places, sized by the
organisations in them**: a location is never split between clusters, and every count
(``min_organisations``, the density around a location, a cluster's size) counts
organisations, the location's own included.

* DBSCAN runs on the distinct locations with the counts as ``sample_weight``; this is
  exactly DBSCAN on every organisation (adjusted Rand index 1.0, a test).
* HDBSCAN runs on the distinct locations with weighted core distances: the core
  distance of a location is the distance within which ``min_organisations``
  organisations lie, its own included (scikit-learn's convention; the ``hdbscan``
  package's ``min_samples`` leaves the point itself out, scikit-learn#28465). The
  minimum spanning tree of the mutual reachability distances is the exact dual-tree
  Borůvka tree of the ``hdbscan`` package, given these core distances; the hierarchy's
  sizes and the clusters' stabilities are sums of organisations, so ``min_cluster_size``
  is judged on organisations too. Locations are leaves of the hierarchy: one location
  alone is never a cluster, and identical points no longer give infinite lambdas or a
  postcode split between clusters (scikit-learn-contrib/hdbscan#94, #129, #198, #548).
  With every weight 1 this is the ``hdbscan`` package's own answer (a test).

Both algorithms are deterministic; locations are ordered by their coordinates before
clustering, so the input's row order does not change the result.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo._checks import check_bng_extent, check_geodataframe, check_projected, has_geometry
from socecon_geo._density import _dbscan, _weighted_hdbscan
from socecon_geo._errors import InputError, Problems
from socecon_geo._schema import CLUSTER_ID, CLUSTER_STATUS, CLUSTER_STATUSES
from socecon_geo.geography import Geography, resolve_geography
from socecon_geo.provenance import attribution_lines, combine_provenance, with_provenance

if TYPE_CHECKING:
    import folium

__all__ = [
    "CLUSTER_LABELS",
    "CLUSTER_STATUSES",
    "HULL_BUFFER_M",
    "HULL_RATIO",
    "ClusterResult",
    "find_clusters",
]

Method = Literal["hdbscan", "dbscan"]

NOISE: Final = -1
LOW_QUALITY: Final = -2
NO_LOCATION: Final = -3
STACKED: Final = -4
DUPLICATE: Final = -5

CLUSTER_LABELS: Final[dict[int, str]] = {
    NOISE: "noise",
    LOW_QUALITY: "low_position_quality",
    NO_LOCATION: "no_location",
    STACKED: "stacked_address",
    DUPLICATE: "duplicate",
}
"""The negative labels of :attr:`ClusterResult.labels` and the status each stands for
(labels 1, 2, … are clusters, 1 the largest)."""

HULL_RATIO: Final[float] = 0.3
"""``ratio`` of :func:`shapely.concave_hull` for a cluster's polygon (0 the tightest
hull, 1 the convex hull)."""

HULL_BUFFER_M: Final[float] = 100.0
"""Buffer (metres) around a cluster's concave hull: a postcode centroid stands for the
addresses of its postcode, typically within about 100 m of it, and the buffer gives
clusters of two locations, or of locations in a line, an area."""

_METHODS: Final = ("hdbscan", "dbscan")


# ---------------------------------------------------------------------- the result


@dataclass(frozen=True)
class ClusterResult:
    """What :func:`find_clusters` found.

    Attributes
    ----------
    labels : pandas.Series
        ``Int64``, aligned to the input's index: the cluster (1, 2, … by decreasing
        size), or -1 noise, -2 not clustered (low position quality), -3 not clustered
        (no location), -4 not clustered (stacked address left out), -5 not clustered
        (a duplicate: ``duplicate_of`` set by :func:`socecon_geo.combine_registers`);
        see :data:`CLUSTER_LABELS`.
    points : geopandas.GeoDataFrame
        A copy of the input with ``cluster_id``, ``cluster_status``,
        ``cluster_membership`` and ``stacked_address``.
    clusters : geopandas.GeoDataFrame
        One row per cluster, ordered by ``cluster_id``, in EPSG:27700.
    params : dict
        The options used (also in both frames' ``attrs``).
    """

    labels: pd.Series
    points: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        counts = self.points["cluster_status"].value_counts()
        shown = ", ".join(f"{s} {int(counts[s])}" for s in CLUSTER_STATUSES if counts[s])
        return (
            f"ClusterResult({self.params.get('method')}: {len(self.clusters)} clusters; "
            f"{len(self.points)} organisations: {shown})"
        )

    def explore(self, **kwargs: Any) -> folium.Map:
        """Show the clusters and their organisations on an interactive map.

        The cluster polygons are coloured by ``cluster_id``, with their size, density and
        deprivation in the tooltip; clustered organisations are drawn as points.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`geopandas.GeoDataFrame.explore` for the polygons.

        Returns
        -------
        folium.Map
        """
        import folium

        attribution = "; ".join(attribution_lines(self.clusters, self.points))
        located = self.points[has_geometry(self.points.geometry)]
        if len(self.clusters) == 0:
            if len(located) == 0:
                return folium.Map(location=[52.48, -1.9], zoom_start=10)
            frame = located[["cluster_status", located.geometry.name]]
            return frame.explore(column="cluster_status", **kwargs)
        tooltip = [
            c
            for c in (
                "cluster_id",
                "n_organisations",
                "n_locations",
                "density_per_km2",
                "top_sector",
                "lad_names",
                "imd_score_popweighted",
                "share_pop_imd_decile1",
            )
            if c in self.clusters.columns
        ]
        options: dict[str, Any] = {
            "column": "cluster_id",
            "categorical": True,
            "tooltip": tooltip,
            "style_kwds": {"fillOpacity": 0.3},
            "legend": False,
        }
        if attribution:
            options["attr"] = attribution
        shown = self.clusters.assign(cluster_id=self.clusters["cluster_id"].astype("int64"))
        m = shown.explore(**{**options, **kwargs})
        members = located[located["cluster_status"] == "clustered"]
        if len(members):
            keep = [c for c in ("name", "org_type", "cluster_id") if c in members.columns]
            members[[*keep, members.geometry.name]].assign(
                cluster_id=members["cluster_id"].astype("int64")
            ).explore(m=m, color="black", marker_kwds={"radius": 2}, tooltip=keep or None)
        return m


# ---------------------------------------------------------------------- checks


def _check_int(value: Any, name: str, low: int, problems: Problems) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        problems.add(f"{name} must be a whole number >= {low}, not {value!r}")


def _check_options(
    method: Any,
    min_organisations: Any,
    distance_m: Any,
    min_position_quality: Any,
    allow_stacks: Any,
    stack_size: Any,
    seed: Any,
) -> None:
    problems = Problems("find_clusters")
    if method not in _METHODS:
        problems.add(f"method must be 'hdbscan' or 'dbscan', not {method!r}")
    _check_int(min_organisations, "min_organisations", 2, problems)
    if (
        isinstance(distance_m, bool)
        or not isinstance(distance_m, numbers.Real)
        or math.isnan(float(distance_m))
        or distance_m <= 0
    ):
        problems.add(f"distance_m must be a positive number of metres, not {distance_m!r}")
    elif method == "dbscan" and math.isinf(float(distance_m)):
        problems.add("distance_m must be finite for DBSCAN (math.inf is for HDBSCAN only)")
    _check_int(min_position_quality, "min_position_quality", 0, problems)
    if not isinstance(allow_stacks, bool):
        problems.add(f"allow_stacks must be True or False, not {allow_stacks!r}")
    _check_int(stack_size, "stack_size", 2, problems)
    _check_int(seed, "seed", 0, problems)
    problems.raise_if_any(InputError)


def _coordinates(points: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (has a point, x/y in EPSG:27700 metres for those rows)."""
    if points._geometry_column_name not in points.columns:
        msg = "points has no active geometry column; set one with `.set_geometry(...)`."
        raise InputError(msg)
    geometry = points.geometry
    located = has_geometry(geometry)
    if not located.any():
        return located, np.empty((0, 2))
    check_projected(points.crs, "points")
    check_bng_extent(points, "points")
    shapes = geometry.to_numpy()[located]
    if points.crs.to_epsg() != 27700:
        shapes = gpd.GeoSeries(shapes, crs=points.crs).to_crs(27700).to_numpy()
    kinds = shapely.get_type_id(shapes)
    if (kinds != shapely.GeometryType.POINT).any():
        shapes = shapes.copy()
        other = kinds != shapely.GeometryType.POINT
        shapes[other] = shapely.point_on_surface(shapes[other])
    xy = shapely.get_coordinates(shapes)
    if len(xy) != len(shapes) or not np.isfinite(xy).all():
        msg = "points has geometries without finite coordinates; drop or repair them first."
        raise InputError(msg)
    return located, xy


# ---------------------------------------------------------------------- the clusters


def _suffix(value: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_") or "unknown"


def _lsoa_table(geo: Geography) -> tuple[gpd.GeoDataFrame | None, tuple[Any, ...], str]:
    """LSOA 2021 polygons with residents and IoD2025, for the deprivation profile."""
    if not geo.has_layer("lsoa21"):
        return None, (), "the geography has no LSOA 2021 layer"
    lsoas = geo._layer("lsoa21")
    frame = gpd.GeoDataFrame(
        {"lsoa21_code": lsoas["lsoa21_code"].astype("string").to_numpy()},
        geometry=shapely.make_valid(lsoas.geometry.to_numpy()),
        crs=lsoas.crs,
    )
    if "lad_code" in lsoas.columns:
        frame["lad_code"] = lsoas["lad_code"].astype("string").to_numpy()
        names = (
            lsoas["lad_name"]
            if "lad_name" in lsoas.columns
            else pd.Series(pd.NA, index=lsoas.index)
        )
        frame["lad_name"] = names.astype("string").to_numpy()
    frame = frame.to_crs(27700) if frame.crs.to_epsg() != 27700 else frame
    used: list[Any] = [lsoas]
    note = "LSOA 2021 polygons overlapping the cluster, residents shared by area"
    population = geo._optional("population")
    if population is not None:
        people = population.drop_duplicates("lsoa_code").set_index("lsoa_code")["population"]
        frame["population"] = people.reindex(frame["lsoa21_code"]).to_numpy(dtype="float64")
        used.append(population)
    else:
        frame["population"] = np.nan
        note += "; the geography has no population"
    if "iod2025" in geo.editions:
        index = geo._deprivation("iod2025").drop_duplicates("lsoa_code").set_index("lsoa_code")
        for column in ("imd_score", "imd_decile"):
            values = pd.to_numeric(index[column], errors="coerce")
            frame[column] = values.reindex(frame["lsoa21_code"]).to_numpy(dtype="float64")
        used.append(geo._deprivation("iod2025"))
    else:
        frame["imd_score"] = np.nan
        frame["imd_decile"] = np.nan
        note += "; the geography has no IoD2025"
    frame["lsoa_area"] = frame.area
    shapely.prepare(frame.geometry.to_numpy())
    return frame, combine_provenance(*used), note


def _overlaps(polygons: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(polygon, area) position pairs whose interiors meet (not just their boundaries)."""
    tree = shapely.STRtree(areas)
    left, right = tree.query(polygons, predicate="intersects")
    touch = shapely.touches(polygons[left], areas[right])
    return left[~touch], right[~touch]


def _profile(
    polygons: np.ndarray, lsoas: gpd.GeoDataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Residents and deprivation of the LSOAs each polygon overlaps (areal weighting).

    Also returns the authorities of those LSOAs (``cluster``, ``code``, ``name``), when
    the LSOA layer has them: LSOAs nest in authorities.
    """
    columns = [
        "population",
        "imd_score_popweighted",
        "share_pop_imd_decile1",
        "share_pop_imd_quintile1",
        "lsoa_area_share",
    ]
    out = pd.DataFrame(np.nan, index=np.arange(len(polygons)), columns=columns)
    if lsoas is None or len(polygons) == 0:
        return out, None
    shapes = lsoas.geometry.to_numpy()
    left, right = _overlaps(polygons, shapes)
    authorities = None
    if "lad_code" in lsoas.columns:
        authorities = pd.DataFrame(
            {
                "cluster": left,
                "code": lsoas["lad_code"].to_numpy()[right],
                "name": lsoas["lad_name"].to_numpy()[right],
            }
        )
    # a polygon within one LSOA (most small clusters) needs no intersection
    inside = shapely.contains_properly(shapes[right], polygons[left])
    covered = shapely.area(polygons[left])
    todo = ~inside
    covered[todo] = shapely.area(shapely.intersection(polygons[left[todo]], shapes[right[todo]]))
    share = covered / lsoas["lsoa_area"].to_numpy()[right]
    people = share * lsoas["population"].to_numpy()[right]
    score = lsoas["imd_score"].to_numpy()[right]
    decile = lsoas["imd_decile"].to_numpy()[right]
    n = len(polygons)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(left, weights=values, minlength=n)

    with np.errstate(invalid="ignore"):
        gaps = total((~np.isfinite(people)).astype("float64"))
        score_gaps = total((~np.isfinite(score)).astype("float64"))
        decile_gaps = total((~np.isfinite(decile)).astype("float64"))
        residents = total(np.nan_to_num(people))
        score_sum = total(np.where(np.isfinite(score), np.nan_to_num(people) * score, 0.0))
        decile1 = total(np.where(decile == 1, np.nan_to_num(people), 0.0))
        quintile1 = total(np.where(decile <= 2, np.nan_to_num(people), 0.0))
    counted = np.bincount(left, minlength=n) > 0
    known = counted & (gaps == 0)
    good = known & (residents > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["population"] = np.where(known, residents, np.nan)
        out["imd_score_popweighted"] = np.where(
            good & (score_gaps == 0), score_sum / residents, np.nan
        )
        deciles = good & (decile_gaps == 0)
        out["share_pop_imd_decile1"] = np.where(deciles, decile1 / residents, np.nan)
        out["share_pop_imd_quintile1"] = np.where(deciles, quintile1 / residents, np.nan)
        out["lsoa_area_share"] = np.clip(total(covered) / shapely.area(polygons), 0.0, 1.0)
    return out, authorities


def _codes_by_cluster(
    polygons: np.ndarray,
    members: pd.DataFrame,
    geo: Geography,
    level: str,
    code: str,
    name: str,
    pairs_given: pd.DataFrame | None = None,
) -> tuple[pd.Series, pd.Series, tuple[Any, ...]]:
    """Return the codes and names of the areas each cluster touches (";"-joined, sorted)."""
    pairs = [pd.DataFrame({"cluster": [], "code": [], "name": []})]
    records: tuple[Any, ...] = ()
    if pairs_given is not None:
        pairs.append(pairs_given)
    elif geo.has_layer(level) and len(polygons):
        layer = geo._layer(level)
        if code in layer.columns:
            shapes = layer.geometry.to_numpy()
            if layer.crs is not None and layer.crs.to_epsg() != 27700:
                shapes = gpd.GeoSeries(shapes, crs=layer.crs).to_crs(27700).to_numpy()
            left, right = _overlaps(polygons, shapes)
            names = layer[name] if name in layer.columns else pd.Series(pd.NA, index=layer.index)
            pairs.append(
                pd.DataFrame(
                    {
                        "cluster": left,
                        "code": layer[code].astype("string").to_numpy()[right],
                        "name": names.astype("string").to_numpy()[right],
                    }
                )
            )
            records = combine_provenance(layer)
    if code in members.columns:
        names = members[name] if name in members.columns else pd.Series(pd.NA, index=members.index)
        pairs.append(
            pd.DataFrame(
                {
                    "cluster": members["cluster_id"].to_numpy() - 1,
                    "code": members[code].astype("string").to_numpy(),
                    "name": names.astype("string").to_numpy(),
                }
            )
        )
    table = pd.concat(pairs, ignore_index=True).astype(
        {"cluster": "int64", "code": "string", "name": "string"}
    )
    table = table.dropna(subset=["code"])
    # a code's name: the layer's, else the organisations'
    known = table.dropna(subset=["name"]).drop_duplicates("code").set_index("code")["name"]
    table = table.drop_duplicates(["cluster", "code"])
    table = table.assign(name=known.reindex(table["code"]).to_numpy())
    return (
        _join(table["cluster"], table["code"], len(polygons)),
        _join(table["cluster"], table["name"], len(polygons)),
        records,
    )


def _join(cluster: pd.Series, values: pd.Series, n: int) -> pd.Series:
    """Join the distinct values of each cluster, sorted, with ";" (missing if none)."""
    table = pd.DataFrame({"cluster": cluster.to_numpy(), "value": values.to_numpy()}).dropna()
    table = table.drop_duplicates().sort_values(["cluster", "value"])
    clusters = table["cluster"].to_numpy(dtype=np.intp)
    texts = [str(v) for v in table["value"].tolist()]
    out = np.full(n, None, dtype=object)
    if not texts:
        return pd.Series(pd.array(out, dtype="string"))
    starts = np.flatnonzero(np.r_[True, clusters[1:] != clusters[:-1]]).tolist()
    ends = [*starts[1:], len(texts)]
    for start, end in zip(starts, ends, strict=True):
        out[clusters[start]] = ";".join(texts[start:end])
    return pd.Series(pd.array(out, dtype="string"))


def _counts(
    cluster: np.ndarray, values: pd.Series, n_clusters: int
) -> tuple[list[str], np.ndarray]:
    """Categories of ``values`` (its categories, else its sorted values) and their counts."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = [str(c) for c in values.cat.categories]
        keys = values.cat.codes.to_numpy()
    else:
        keys, uniques = pd.factorize(values.astype("string"), sort=True)
        categories = [str(u) for u in uniques]
    known = keys >= 0
    width = max(len(categories), 1)
    flat = np.bincount((cluster[known] - 1) * width + keys[known], minlength=n_clusters * width)
    return categories, flat.reshape(n_clusters, width)[:, : len(categories)]


def _cluster_frame(
    members: pd.DataFrame,
    location_xy: np.ndarray,
    location_weight: np.ndarray,
    location_cluster: np.ndarray,
    n_clusters: int,
    geo: Geography,
) -> tuple[gpd.GeoDataFrame, tuple[Any, ...], dict[str, Any]]:
    """One row per cluster: counts, polygon, areas touched, deprivation profile."""
    ids = np.arange(1, n_clusters + 1)
    cluster = members["cluster_id"].to_numpy(dtype=np.intp)
    frame = pd.DataFrame({"cluster_id": pd.array(ids, dtype=CLUSTER_ID)})
    frame["n_organisations"] = np.bincount(cluster, minlength=n_clusters + 1)[1:]
    clustered = location_cluster > 0
    frame["n_locations"] = np.bincount(location_cluster[clustered], minlength=n_clusters + 1)[1:]
    if "org_type" in members.columns:
        categories, counts = _counts(cluster, members["org_type"], n_clusters)
        for i, category in enumerate(categories):
            column = f"n_{_suffix(category)}"
            previous = frame[column].to_numpy() if column in frame.columns else 0
            frame[column] = counts[:, i].astype("int64") + previous
    sections: list[str] = []
    top = np.full(n_clusters, None, dtype=object)
    diversity = np.zeros(n_clusters, dtype="int64")
    entropy = np.full(n_clusters, np.nan)
    if "sic_section" in members.columns:
        sections, counts = _counts(cluster, members["sic_section"].astype("string"), n_clusters)
        for i, section in enumerate(sections):
            frame[f"n_sic_{_suffix(section).upper()}"] = counts[:, i].astype("int64")
        if sections:
            total = counts.sum(axis=1).astype("float64")
            best = np.asarray(sections, dtype=object)[np.argmax(counts, axis=1)]
            top[total > 0] = best[total > 0]
            diversity = (counts > 0).sum(axis=1).astype("int64")
            with np.errstate(divide="ignore", invalid="ignore"):
                p = counts / total[:, None]
                terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            entropy = np.where(total > 0, -terms.sum(axis=1), np.nan)
    frame["top_sector"] = pd.array(top, dtype="string")
    frame["sector_diversity"] = diversity
    frame["sector_entropy"] = entropy

    # polygons: buffered concave hulls of the member locations
    where = np.flatnonzero(clustered)
    where = where[np.argsort(location_cluster[where], kind="stable")]
    owner = location_cluster[where] - 1
    points = shapely.multipoints(location_xy[where], indices=owner)
    if n_clusters:
        points = np.asarray(points, dtype=object).reshape(-1)
        hulls = shapely.concave_hull(points, ratio=HULL_RATIO)
        polygons = np.asarray(shapely.buffer(hulls, HULL_BUFFER_M), dtype=object)
    else:
        polygons = np.empty(0, dtype=object)
    weight = location_weight[where].astype("float64")
    mass = np.bincount(owner, weights=weight, minlength=n_clusters)
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = np.bincount(owner, weights=weight * location_xy[where, 0], minlength=n_clusters)
        cy = np.bincount(owner, weights=weight * location_xy[where, 1], minlength=n_clusters)
        area_km2 = shapely.area(polygons) / 1e6 if n_clusters else np.zeros(0)
        frame["area_km2"] = area_km2
        frame["density_per_km2"] = frame["n_organisations"].to_numpy() / area_km2
        frame["centroid_x"] = cx / mass
        frame["centroid_y"] = cy / mass

    used: list[Any] = []
    lsoas, records, note = geo.derived(("clusters", "lsoa_profile_table"), lambda: _lsoa_table(geo))
    used.append(records)
    profile, authorities = _profile(polygons, lsoas)
    for level, code, name in (("ward", "ward_code", "ward_name"), ("lad", "lad_code", "lad_name")):
        given = authorities if level == "lad" else None
        codes, names, records = _codes_by_cluster(polygons, members, geo, level, code, name, given)
        frame[f"{level}_codes"] = codes.array
        frame[f"{level}_names"] = names.array
        used.append(records)
    for column in profile.columns:
        frame[column] = profile[column].to_numpy()
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(polygons, crs=27700), crs=27700)
    notes = {"sic_sections": sections, "deprivation_profile": note}
    return out, combine_provenance(*used), notes


# ---------------------------------------------------------------------- the step


def find_clusters(
    points: gpd.GeoDataFrame,
    *,
    method: Method = "hdbscan",
    min_organisations: int = 10,
    distance_m: float = 500.0,
    min_position_quality: int = 50,
    allow_stacks: bool = False,
    stack_size: int = 25,
    seed: int = 0,
    geography: Geography | None = None,
) -> ClusterResult:
    """Find candidate place-based clusters of organisations by density.

    Organisations at identical coordinates are collapsed into weighted locations and
    clustered with HDBSCAN or DBSCAN in British National Grid metres (see the module
    documentation for what a weight means and how each method uses it). Every input row
    is in the result, with a status.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Organisations with points in a projected CRS (EPSG:27700; another projected CRS
        is converted), e.g. the output of :func:`socecon_geo.assign_areas` or
        :func:`socecon_geo.attach_deprivation`. Used when present: ``position_quality``,
        ``org_type``, ``sic_section``, ``ward_code``/``ward_name``,
        ``lad_code``/``lad_name``.
    method : {"hdbscan", "dbscan"}
        HDBSCAN (Campello et al. 2013; clusters of varying density) or DBSCAN (Ester et
        al. 1996; one density, set by ``min_organisations`` within ``distance_m``).
    min_organisations : int, default 10
        The fewest organisations a cluster holds; also the organisations (a location's
        own included) that make a location dense: within ``distance_m`` for DBSCAN's
        ``min_samples``, within its core distance for HDBSCAN's.
    distance_m : float, default 500
        The longest link within a cluster, in metres. DBSCAN's neighbourhood radius
        ``eps``. For HDBSCAN, links of the hierarchy longer than this (mutual
        reachability) are cut: every HDBSCAN member then has ``min_organisations``
        organisations within ``distance_m`` (a DBSCAN core), and HDBSCAN chooses among
        the clusters of every density up to it, the whole of a connected piece
        included; ``math.inf`` gives plain HDBSCAN.
    min_position_quality : int, default 50
        The coarsest Code-Point Open positional quality clustered (10 best … 90 no
        point). By default postcode sector centroids (60) are left out, labelled
        ``low_position_quality``: one invented point per sector would make clusters
        of its own. A missing quality with a point counts as usable.
    allow_stacks : bool, default False
        Cluster stacked addresses too (see ``stack_size``).
    stack_size : int, default 25
        A coordinate holding this many organisations or more is a stacked address (the
        registered office of formation agents, accountants or umbrella bodies): flagged
        ``stacked_address`` and, unless ``allow_stacks``, left out of the clustering.
        Rows that :func:`socecon_geo.combine_registers` marked as duplicates
        (``duplicate_of`` set) are always left out, labelled ``duplicate``: the row they
        duplicate counts in their place.
    seed : int, default 0
        Recorded in ``params`` and ``attrs``; both methods are deterministic (ties are
        settled by the locations' coordinate order), so results never depend on it.
    geography : Geography, optional
        Where the wards, authorities, LSOA 2021 polygons, residents and IoD2025 of the
        clusters' profiles come from; by default the bundled West Midlands one.

    Returns
    -------
    ClusterResult
        ``labels`` (Int64, aligned to the input's index: cluster id >= 1, -1 noise, -2
        low position quality, -3 no location, -4 stacked address left out, -5 duplicate),
        ``points`` (a copy of the input with ``cluster_id``, ``cluster_status``,
        ``cluster_membership`` and ``stacked_address``), ``clusters`` (one row per
        cluster, 1 the largest) and ``explore()``.

        ``clusters`` columns: ``cluster_id``, ``n_organisations``, ``n_locations``,
        ``n_<org_type>``, ``n_sic_<section>``, ``top_sector``, ``sector_diversity``
        (distinct SIC sections), ``sector_entropy`` (Shannon, natural log),
        ``area_km2``, ``density_per_km2``, ``centroid_x``, ``centroid_y`` (the
        organisations' mean position), ``ward_codes``, ``ward_names``, ``lad_codes``,
        ``lad_names`` (";"-joined, sorted: the areas the polygon overlaps and those of
        its organisations), ``population`` (residents of the overlapped LSOAs 2021,
        shared by area), ``imd_score_popweighted``, ``share_pop_imd_decile1``,
        ``share_pop_imd_quintile1`` (IoD2025), ``lsoa_area_share`` (share of the polygon
        the geography's LSOAs cover) and ``geometry``: the concave hull of the member
        locations (:func:`shapely.concave_hull`, ratio :data:`HULL_RATIO`) buffered by
        :data:`HULL_BUFFER_M` metres.

    Raises
    ------
    InputError
        If ``points`` is not a GeoDataFrame or has no rows, or an option is out of range
        (every bad option is named in one message).
    CRSMismatchError
        If ``points`` has located rows and no CRS or a geographic one.

    References
    ----------
    Campello, R. J. G. B., Moulavi, D. and Sander, J. (2013). Density-based clustering
    based on hierarchical density estimates. *PAKDD 2013*, LNCS 7819, 160-172.

    Ester, M., Kriegel, H.-P., Sander, J. and Xu, X. (1996). A density-based algorithm
    for discovering clusters in large spatial databases with noise. *KDD-96*, 226-231.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> xy = [(400_000 + 30 * i, 290_000) for i in range(6)] + [(410_000, 290_000)]
    >>> orgs = gpd.GeoDataFrame(geometry=[Point(p) for p in xy * 2], crs=27700)
    >>> result = find_clusters(orgs, method="dbscan", min_organisations=5, distance_m=100)
    >>> result.labels.tolist()
    [1, 1, 1, 1, 1, 1, -1, 1, 1, 1, 1, 1, 1, -1]
    >>> result.clusters[["cluster_id", "n_organisations", "n_locations"]]
       cluster_id  n_organisations  n_locations
    0           1               12            6
    """
    check_geodataframe(points, "points", "organisations (the output of socecon_geo.geocode)")
    if len(points) == 0:
        msg = (
            "points is empty: there are no organisations to cluster. Check the register "
            "was read and geocoded (socecon_geo.geocode) before this step."
        )
        raise InputError(msg)
    _check_options(
        method, min_organisations, distance_m, min_position_quality, allow_stacks, stack_size, seed
    )
    geo = resolve_geography(geography)
    n = len(points)
    located, xy = _coordinates(points)
    status = np.full(n, NO_LOCATION, dtype=np.intp)
    eligible = located.copy()
    if "position_quality" in points.columns:
        quality = pd.to_numeric(points["position_quality"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        coarse = located & np.isfinite(quality) & (quality > min_position_quality)
        status[coarse] = LOW_QUALITY
        eligible &= ~coarse
    if "duplicate_of" in points.columns:
        duplicate = points["duplicate_of"].notna().to_numpy(dtype=bool)
        status[duplicate] = DUPLICATE
        eligible &= ~duplicate
    # distinct coordinates of the eligible organisations, ordered by (x, y)
    rows = np.flatnonzero(eligible)
    eligible_xy = np.zeros((n, 2))
    eligible_xy[located] = xy
    eligible_xy = eligible_xy[rows]
    keys = eligible_xy.view(np.complex128).ravel()
    codes, uniques = pd.factorize(keys, sort=False)
    uniques = np.asarray(uniques)
    order = np.lexsort((uniques.imag, uniques.real))
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    location = rank[codes]
    location_xy = np.column_stack([uniques.real, uniques.imag])[order]
    counts = np.bincount(location, minlength=len(order)).astype("int64")
    stacked_location = counts >= stack_size
    stacked = np.zeros(n, dtype=bool)
    stacked[rows] = stacked_location[location]
    use = np.ones(len(order), dtype=bool) if allow_stacks else ~stacked_location

    # cluster the locations used
    used_index = np.flatnonzero(use)
    used_xy, used_weight = location_xy[used_index], counts[used_index]
    strength = np.full(len(order), np.nan)
    if method == "dbscan":
        found = _dbscan(used_xy, used_weight, min_organisations, float(distance_m))
    else:
        found, probabilities = _weighted_hdbscan(
            used_xy, used_weight, min_organisations, float(distance_m)
        )
        strength[used_index] = probabilities
    # cluster ids by decreasing organisations, then locations, then position
    raw = np.full(len(order), NOISE, dtype=np.intp)
    raw[used_index] = found
    n_clusters = int(found.max()) + 1 if len(found) else 0
    in_cluster = raw >= 0
    sizes = np.bincount(raw[in_cluster], weights=counts[in_cluster], minlength=n_clusters)
    places = np.bincount(raw[in_cluster], minlength=n_clusters)
    first = np.full(n_clusters, len(order))
    np.minimum.at(first, raw[in_cluster], np.flatnonzero(in_cluster))
    ranking = np.lexsort((first, -places, -sizes))
    new_id = np.full(n_clusters + 1, NOISE, dtype=np.intp)  # the last for noise
    new_id[ranking] = np.arange(1, n_clusters + 1)
    location_label = new_id[np.where(in_cluster, raw, n_clusters)]
    location_label[~use] = STACKED

    status[rows] = location_label[location]
    membership = np.full(n, np.nan)
    membership[rows] = strength[location]
    membership[status < NOISE] = np.nan

    out = points.copy()
    cluster_id = pd.array(np.where(status > 0, status, 0), dtype=CLUSTER_ID)
    cluster_id[status <= 0] = pd.NA
    status_names = np.where(
        status > 0, "clustered", pd.Series(status).map(CLUSTER_LABELS).to_numpy(dtype=object)
    )
    out["cluster_id"] = cluster_id
    out["cluster_status"] = pd.Categorical(status_names, dtype=CLUSTER_STATUS)
    out["cluster_membership"] = membership
    out["stacked_address"] = stacked

    described = ("org_type", "sic_section", "ward_code", "ward_name", "lad_code", "lad_name")
    members = pd.DataFrame(out[[c for c in described if c in out.columns]])
    members = members.iloc[np.flatnonzero(status > 0)].assign(cluster_id=status[status > 0])
    clusters, geo_records, notes = _cluster_frame(
        members,
        location_xy,
        counts,
        np.where(location_label > 0, location_label, 0),
        n_clusters,
        geo,
    )

    params: dict[str, Any] = {
        "method": method,
        "min_organisations": int(min_organisations),
        "distance_m": float(distance_m),
        "min_position_quality": int(min_position_quality),
        "allow_stacks": allow_stacks,
        "stack_size": int(stack_size),
        "seed": int(seed),
    }
    by_status = pd.Series(status_names).value_counts()
    attrs: dict[str, Any] = {
        "find_clusters": {
            **params,
            "n_organisations": n,
            "n_locations": len(order),
            "n_locations_clustered": int(use.sum()),
            "n_stacked_addresses": int(stacked_location.sum()),
            "n_clusters": n_clusters,
            "cluster_status": {s: int(by_status.get(s, 0)) for s in CLUSTER_STATUSES},
            "weights": "organisations at each distinct coordinate",
            "hull": f"concave hull (ratio {HULL_RATIO}) buffered by {HULL_BUFFER_M:g} m",
            "geography": geo.name,
            **notes,
        }
    }
    out.attrs = {**copy.deepcopy(points.attrs), **attrs}
    out.attrs.pop("provenance", None)
    with_provenance(out, points)
    clusters.attrs = copy.deepcopy(attrs)
    with_provenance(clusters, points, geo_records)
    labels = pd.Series(pd.array(status, dtype=CLUSTER_ID), index=points.index, name="cluster_label")
    labels.attrs = {}
    return ClusterResult(labels=labels, points=out, clusters=clusters, params=params)

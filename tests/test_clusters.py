"""Tests of find_clusters (socecon_geo.clusters): density clustering of organisations."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import folium
import geopandas as gpd
import hdbscan
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist
from sklearn.cluster import DBSCAN
from sklearn.cluster import HDBSCAN as SklearnHDBSCAN
from sklearn.metrics import adjusted_rand_score

import socecon_geo as sg
from socecon_geo._density import _weighted_hdbscan, spanning_tree, weighted_core_distances
from socecon_geo._errors import CRSMismatchError, InputError
from socecon_geo._schema import CLUSTER_STATUSES, COLUMN_DTYPES
from socecon_geo.clusters import CLUSTER_LABELS, find_clusters
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

WMCA = list(sg.WMCA_AUTHORITIES)
CLUSTER_COLUMNS = [
    "cluster_id",
    "n_organisations",
    "n_locations",
    "top_sector",
    "sector_diversity",
    "sector_entropy",
    "area_km2",
    "density_per_km2",
    "centroid_x",
    "centroid_y",
    "ward_codes",
    "ward_names",
    "lad_codes",
    "lad_names",
    "population",
    "imd_score_popweighted",
    "share_pop_imd_decile1",
    "share_pop_imd_quintile1",
    "geometry",
]
RECORD = Provenance(
    name="test_register",
    title="A made-up register",
    publisher="Tests",
    vintage="2026",
    licence="none",
    attribution="Made up for tests",
)


@pytest.fixture(scope="module")
def located_postcodes() -> pd.DataFrame:
    table = sg.load_postcodes()
    live = table[table["easting"].notna() & ~table["terminated"].astype(bool)]
    live = live[live["lad_code"].astype("string").isin(WMCA).to_numpy(dtype=bool)]
    return pd.DataFrame(live[["postcode", "easting", "northing", "quality"]]).reset_index(drop=True)


def _organisations(xy: np.ndarray, **columns) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"name": [f"Org {i}" for i in range(len(xy))], **columns},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )
    return with_provenance(frame, RECORD)


@pytest.fixture(scope="module")
def planted(located_postcodes) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Five compact sets of real postcodes holding 2-5 organisations each, and noise.

    Each set is the 12 postcodes nearest a seed postcode; the seeds are at least 6 km
    apart. The noise is 120 organisations at postcodes at least 2 km from every seed,
    no two within 1 km of each other.
    """
    rng = np.random.default_rng(8)
    xy = located_postcodes[["easting", "northing"]].to_numpy(dtype="float64")
    xy = np.unique(xy, axis=0)
    seeds: list[np.ndarray] = []
    while len(seeds) < 5:
        candidate = xy[rng.integers(len(xy))]
        if all(np.hypot(*(candidate - s)) > 6_000 for s in seeds):
            seeds.append(candidate)
    points, truth = [], []
    for label, seed in enumerate(seeds, start=1):
        nearest = xy[np.argsort(np.hypot(*(xy - seed).T))[:12]]
        for place in nearest:
            for _ in range(rng.integers(2, 6)):
                points.append(place)
                truth.append(label)
    far = xy[cdist(xy, np.array(seeds)).min(axis=1) > 2_000]
    noise: list[np.ndarray] = []
    for i in rng.permutation(len(far)):
        if all(np.hypot(*(far[i] - p)) > 1_000 for p in noise):
            noise.append(far[i])
        if len(noise) == 120:
            break
    points += noise
    truth += [-1] * len(noise)
    order = rng.permutation(len(points))
    frame = _organisations(
        np.array(points)[order],
        org_type=pd.Categorical(
            rng.choice(["charity", "co_operative"], len(points)), dtype=COLUMN_DTYPES["org_type"]
        ),
        sic_section=pd.array(rng.choice(["Q", "S", "R", None], len(points)), dtype="string"),
        position_quality=pd.array([10] * len(points), dtype="Int64"),
    )
    return frame, np.array(truth)[order]


# ------------------------------------------------------------------------- recovery


@pytest.mark.parametrize(
    ("method", "options"),
    [("hdbscan", {}), ("dbscan", {"distance_m": 400.0})],
)
def test_planted_clusters_recovered(planted, method, options):
    points, truth = planted
    result = find_clusters(points, method=method, **options)
    found = result.labels.to_numpy(dtype="int64")
    score = adjusted_rand_score(truth, found)
    print(f"{method}: {len(result.clusters)} clusters, adjusted Rand {score:.3f}")
    assert score >= 0.9
    assert len(result.clusters) == 5
    sizes = result.clusters["n_organisations"].to_numpy()
    assert (np.diff(sizes) <= 0).all()  # 1 = largest
    assert sorted(sizes) == sorted(np.bincount(truth[truth > 0])[1:])


def test_same_seed_same_result_and_row_order_does_not_matter(planted):
    points, _ = planted
    first = find_clusters(points, seed=3)
    again = find_clusters(points, seed=3)
    pd.testing.assert_series_equal(first.labels, again.labels)
    pd.testing.assert_frame_equal(
        pd.DataFrame(first.clusters.drop(columns="geometry")),
        pd.DataFrame(again.clusters.drop(columns="geometry")),
    )
    assert first.clusters.geometry.geom_equals(again.clusters.geometry).all()
    shuffled = points.sample(frac=1, random_state=1)
    other = find_clusters(shuffled, seed=3)
    pd.testing.assert_series_equal(other.labels.reindex(points.index), first.labels)
    assert first.params["seed"] == 3
    assert first.clusters.attrs["find_clusters"]["seed"] == 3


def test_weighted_dbscan_equals_dbscan_on_every_organisation(located_postcodes):
    rng = np.random.default_rng(2)
    xy = located_postcodes[["easting", "northing"]].to_numpy(dtype="float64")
    xy = xy[(np.abs(xy[:, 0] - 407_000) < 4_000) & (np.abs(xy[:, 1] - 287_000) < 4_000)]
    chosen = xy[rng.integers(0, len(xy), 3_000)]  # many shared coordinates
    assert len(np.unique(chosen, axis=0)) < 0.8 * len(chosen)
    points = _organisations(chosen)
    result = find_clusters(points, method="dbscan", distance_m=150.0, stack_size=10_000)
    # DBSCAN gives a border point in reach of two clusters to the first it expands;
    # the weighted run visits locations in coordinate order, so the expanded run does
    order = np.lexsort((chosen[:, 1], chosen[:, 0]))
    expanded = np.empty(len(chosen), dtype=np.intp)
    expanded[order] = DBSCAN(eps=150.0, min_samples=10).fit(chosen[order]).labels_
    assert (expanded >= 0).sum() > 100
    assert expanded.max() >= 2
    assert adjusted_rand_score(expanded, result.labels.to_numpy(dtype="int64")) == 1.0
    assert ((expanded == -1) == (result.labels == -1).to_numpy()).all()
    # in the input's order, only border points in reach of two clusters may differ
    unordered = DBSCAN(eps=150.0, min_samples=10).fit(chosen).labels_
    assert adjusted_rand_score(unordered, result.labels.to_numpy(dtype="int64")) > 0.999


def test_weighted_hdbscan_with_unit_weights_is_the_hdbscan_package():
    rng = np.random.default_rng(4)
    xy = rng.normal(size=(1_500, 2)) * 120 + rng.integers(0, 4, 1_500)[:, None] * 900
    labels, strength = _weighted_hdbscan(xy, np.ones(len(xy), dtype="int64"), 10)
    # the hdbscan package leaves the point itself out of min_samples
    reference = hdbscan.HDBSCAN(min_cluster_size=10, min_samples=9, approx_min_span_tree=False)
    reference.fit(xy)
    assert labels.max() >= 2
    assert adjusted_rand_score(reference.labels_, labels) == 1.0
    np.testing.assert_allclose(strength, reference.probabilities_)
    # scikit-learn counts the point itself, as find_clusters does
    sklearn = SklearnHDBSCAN(min_cluster_size=10, min_samples=10, copy=True).fit(xy)
    assert adjusted_rand_score(sklearn.labels_, labels) == 1.0


def test_one_connected_piece_is_a_cluster_within_distance_m(planted):
    points, truth = planted
    one = points[truth <= 1]
    result = find_clusters(one)
    assert len(result.clusters) == 1
    assert (result.labels[truth[truth <= 1] == 1] == 1).all()
    assert (result.labels[truth[truth <= 1] == -1] == -1).all()
    # plain HDBSCAN, without the cut: organisations kilometres apart make clusters
    plain = find_clusters(one, distance_m=math.inf)
    assert (plain.labels[truth[truth <= 1] == -1] > 0).any()
    assert plain.clusters["area_km2"].max() > 10


def test_weighted_hdbscan_counts_organisations_not_places():
    # 30 places in a 300 m square, 3 organisations at each; 10 organisations per place
    # are needed for a place to be dense on its own (min 20 organisations)
    rng = np.random.default_rng(5)
    block = rng.uniform(0, 300, (30, 2))
    xy = np.vstack([block, block + 5_000])
    few = np.full(len(xy), 1, dtype="int64")
    many = np.full(len(xy), 3, dtype="int64")
    labels_few, _ = _weighted_hdbscan(xy, few, 40)  # 30 organisations per block: too few
    labels_many, _ = _weighted_hdbscan(xy, many, 40)  # 90 per block: two clusters
    assert (labels_few == -1).all()
    assert len(set(labels_many)) == 2
    assert (labels_many >= 0).all()


def test_spanning_tree_is_the_minimum_one_of_weighted_reachability():
    rng = np.random.default_rng(7)
    xy = np.vstack([rng.normal(size=(300, 2)) * 80, rng.uniform(-2_000, 2_000, (200, 2))])
    weights = rng.integers(1, 9, len(xy))
    tree = spanning_tree(xy, weights, 10)
    core, _, _ = weighted_core_distances(xy, weights, 10)
    reachability = np.maximum(cdist(xy, xy), np.maximum.outer(core, core))
    np.fill_diagonal(reachability, 0.0)
    exact = minimum_spanning_tree(reachability).toarray()
    # every edge is a reachability distance, and the total is the minimum
    a, b = tree[:, 0].astype(int), tree[:, 1].astype(int)
    np.testing.assert_allclose(tree[:, 2], reachability[a, b])
    assert tree[:, 2].sum() == pytest.approx(exact[exact > 0].sum())
    np.testing.assert_allclose(np.sort(tree[:, 2]), np.sort(exact[exact > 0]))


def test_weighted_core_distances_by_brute_force():
    rng = np.random.default_rng(6)
    xy = rng.uniform(0, 1_000, (200, 2))
    weights = rng.integers(1, 6, len(xy))
    core, _, _ = weighted_core_distances(xy, weights, 12)
    distances = cdist(xy, xy)
    for i in range(len(xy)):
        order = np.argsort(distances[i], kind="stable")
        reached = np.cumsum(weights[order]) >= 12
        assert core[i] == pytest.approx(distances[i, order[np.argmax(reached)]])
    assert weighted_core_distances(xy[:1], np.array([12]), 12)[0].tolist() == [0.0]


# ------------------------------------------------------------------------- stacks, quality


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
def test_a_stack_of_500_is_flagged_and_not_a_cluster(planted, method):
    points, _ = planted
    stack_xy = np.tile([[410_500.0, 286_500.0]], (500, 1))
    stack = _organisations(stack_xy, position_quality=pd.array([10] * 500, dtype="Int64"))
    both = pd.concat([points, stack], ignore_index=True)
    result = find_clusters(both, method=method)
    at_stack = result.points.index >= len(points)
    assert result.points.loc[at_stack, "stacked_address"].all()
    assert not result.points.loc[~at_stack, "stacked_address"].any()
    assert (result.points.loc[at_stack, "cluster_status"] == "stacked_address").all()
    assert (result.labels[at_stack] == -4).all()
    assert result.points.loc[at_stack, "cluster_id"].isna().all()
    assert result.clusters["n_organisations"].max() < 500
    assert result.clusters.attrs["find_clusters"]["n_stacked_addresses"] == 1
    # asked for, the stack is clustered: a DBSCAN core on its own
    allowed = find_clusters(both, method=method, allow_stacks=True)
    assert allowed.points.loc[at_stack, "stacked_address"].all()
    assert (allowed.labels[at_stack] != -4).all()
    if method == "dbscan":
        assert allowed.clusters["n_organisations"].max() >= 500
        assert (allowed.labels[at_stack] == 1).all()


def test_sector_centroids_left_out_and_labelled(planted):
    points, truth = planted
    coarse = points.copy()
    quality = coarse["position_quality"].copy()
    quality[truth == 1] = 60
    quality.iloc[:3] = pd.NA  # a point without a quality counts as usable
    coarse["position_quality"] = quality
    coarse.loc[coarse.index[3], "geometry"] = None
    result = find_clusters(coarse)
    low = (truth == 1) & ~np.isin(np.arange(len(truth)), [0, 1, 2, 3])
    assert (result.points.loc[low, "cluster_status"] == "low_position_quality").all()
    assert (result.labels[low] == -2).all()
    assert result.points.loc[low, "cluster_membership"].isna().all()
    assert result.points.loc[coarse.index[3], "cluster_status"] == "no_location"
    assert result.labels.iloc[3] == -3
    assert len(result.clusters) == 4
    kept = find_clusters(coarse, min_position_quality=60)
    assert len(kept.clusters) == 5


def test_duplicates_across_registers_are_left_out_and_labelled(planted):
    points, truth = planted
    marked = points.copy()
    marked["duplicate_of"] = pd.array([pd.NA] * len(marked), dtype="string")
    first = np.flatnonzero(truth == 1)[:5]
    marked.iloc[first, marked.columns.get_loc("duplicate_of")] = "elsewhere:1"
    result = find_clusters(marked)
    assert (result.points.iloc[first]["cluster_status"] == "duplicate").all()
    assert (result.labels.iloc[first] == -5).all()
    assert result.points.iloc[first]["cluster_id"].isna().all()
    plain = find_clusters(points)
    in_cluster_1 = plain.clusters.set_index("cluster_id")["n_organisations"]
    found = result.clusters.set_index("cluster_id")["n_organisations"]
    assert found.sum() == in_cluster_1.sum() - 5
    _assert_every_row_has_a_status(result, marked)


# ------------------------------------------------------------------------- degenerate inputs


def _assert_every_row_has_a_status(result, points):
    assert result.points.index.equals(points.index)
    assert result.labels.index.equals(points.index)
    assert result.points["cluster_status"].notna().all()
    assert list(result.points["cluster_status"].cat.categories) == list(CLUSTER_STATUSES)
    for column in ("cluster_id", "cluster_status"):
        assert result.points[column].dtype == COLUMN_DTYPES[column]
    assert result.labels.dtype == "Int64"
    assert result.labels.notna().all()
    assert result.points["cluster_id"].dtype == "Int64"
    for column in CLUSTER_COLUMNS:
        assert column in result.clusters.columns, column
    assert result.clusters.crs.to_epsg() == 27700
    named = result.labels.map(lambda v: "clustered" if v > 0 else CLUSTER_LABELS[v])
    assert (named.to_numpy() == result.points["cluster_status"].astype(str).to_numpy()).all()


def test_no_rows_is_an_input_error():
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs=27700)
    with pytest.raises(InputError, match="points is empty"):
        find_clusters(empty)
    with pytest.raises(InputError, match="GeoDataFrame"):
        find_clusters(pd.DataFrame({"x": [1]}))


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
def test_one_point_gives_no_clusters(method):
    points = _organisations(np.array([[406_000.0, 287_000.0]]))
    result = find_clusters(points, method=method)
    _assert_every_row_has_a_status(result, points)
    assert len(result.clusters) == 0
    assert result.labels.tolist() == [-1]
    assert isinstance(result.explore(), folium.Map)


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
def test_everything_at_one_postcode(method):
    points = _organisations(np.tile([[406_000.0, 287_000.0]], (20, 1)))
    result = find_clusters(points, method=method)
    _assert_every_row_has_a_status(result, points)
    if method == "hdbscan":  # one place is never an HDBSCAN cluster
        assert len(result.clusters) == 0
        assert (result.labels == -1).all()
    else:  # DBSCAN counts organisations: 20 >= 10 at one place is a core
        assert len(result.clusters) == 1
        assert (result.labels == 1).all()
        assert result.clusters["n_locations"].tolist() == [1]
        assert result.clusters["area_km2"].iloc[0] == pytest.approx(0.0314, rel=0.01)
    stacked = find_clusters(
        _organisations(np.tile([[406_000.0, 287_000.0]], (30, 1))), method=method
    )
    assert (stacked.points["cluster_status"] == "stacked_address").all()
    assert len(stacked.clusters) == 0


def test_all_low_quality_or_without_location(planted):
    points, _ = planted
    coarse = points.assign(position_quality=pd.array([60] * len(points), dtype="Int64"))
    result = find_clusters(coarse)
    _assert_every_row_has_a_status(result, coarse)
    assert len(result.clusters) == 0
    assert (result.points["cluster_status"] == "low_position_quality").all()
    nowhere = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[None, None], crs=27700)
    result = find_clusters(nowhere)
    _assert_every_row_has_a_status(result, nowhere)
    assert (result.labels == -3).all()
    assert isinstance(result.explore(), folium.Map)


def test_bad_options_are_named_together(planted):
    points, _ = planted
    with pytest.raises(InputError) as info:
        find_clusters(
            points,
            method="kmeans",
            min_organisations=1,
            distance_m=-5,
            stack_size=1.5,
            allow_stacks="yes",
            seed=-1,
        )
    text = str(info.value)
    for name in ("method", "min_organisations", "distance_m", "stack_size", "allow_stacks", "seed"):
        assert name in text
    with pytest.raises(InputError, match="min_position_quality"):
        find_clusters(points, min_position_quality="60")


def test_crs_checks_and_other_projected_crs(planted):
    points, _ = planted
    with pytest.raises(CRSMismatchError, match="geographic"):
        find_clusters(points.to_crs(4326))
    with pytest.raises(CRSMismatchError, match="no CRS"):
        find_clusters(points.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="degrees"):
        find_clusters(points.to_crs(4326).set_crs(27700, allow_override=True))
    reprojected = find_clusters(points.to_crs(3857))
    pd.testing.assert_series_equal(reprojected.labels, find_clusters(points).labels)


# ------------------------------------------------------------------------- the clusters


def test_cluster_columns_and_deprivation_profile(planted):
    points, _ = planted
    result = find_clusters(points)
    clusters = result.clusters
    assert clusters["cluster_id"].tolist() == [1, 2, 3, 4, 5]
    members = result.points[result.points["cluster_status"] == "clustered"]
    counts = members.groupby("cluster_id").size()
    assert clusters["n_organisations"].tolist() == counts.sort_index().tolist()
    assert (clusters["n_charity"] + clusters["n_co_operative"] == clusters["n_organisations"]).all()
    sections = clusters[["n_sic_Q", "n_sic_R", "n_sic_S"]]
    assert (sections.sum(axis=1) <= clusters["n_organisations"]).all()
    assert (clusters["sector_diversity"] == (sections > 0).sum(axis=1)).all()
    assert ((clusters["sector_entropy"] > 0) & (clusters["sector_entropy"] <= np.log(3))).all()
    np.testing.assert_allclose(
        clusters["density_per_km2"], clusters["n_organisations"] / clusters["area_km2"]
    )
    assert clusters.geometry.geom_type.eq("Polygon").all()
    # every member lies inside its cluster's polygon
    polygon = clusters.set_index(clusters["cluster_id"].astype(int)).geometry
    inside = shapely.contains(
        polygon.loc[members["cluster_id"].astype(int)].to_numpy(), members.geometry.to_numpy()
    )
    assert inside.all()
    assert clusters["lad_codes"].str.fullmatch(r"E08\d{6}(;E08\d{6})*").all()
    assert clusters["ward_codes"].str.match(r"E05").all()
    assert clusters["ward_names"].notna().all()
    assert clusters["lad_names"].notna().all()

    # the profile by hand: LSOAs 2021 overlapping the first polygon, residents by area
    geography = sg.load_geography()
    lsoas = geography.layer("lsoa21")
    first = clusters.geometry.iloc[0]
    share = lsoas.geometry.intersection(first).area / lsoas.area
    people = geography.population.set_index("lsoa_code")["population"]
    index = geography.deprivation("iod2025").set_index("lsoa_code")
    weights = share * people.reindex(lsoas["lsoa21_code"]).to_numpy()
    scores = index["imd_score"].reindex(lsoas["lsoa21_code"]).to_numpy()
    deciles = index["imd_decile"].reindex(lsoas["lsoa21_code"]).to_numpy()
    assert clusters["population"].iloc[0] == pytest.approx(weights.sum())
    assert clusters["imd_score_popweighted"].iloc[0] == pytest.approx(
        (weights * scores).sum() / weights.sum()
    )
    assert clusters["share_pop_imd_decile1"].iloc[0] == pytest.approx(
        weights[deciles == 1].sum() / weights.sum()
    )
    assert clusters["share_pop_imd_quintile1"].iloc[0] == pytest.approx(
        weights[deciles <= 2].sum() / weights.sum()
    )
    assert (clusters["lsoa_area_share"] > 0.99).all()


def test_membership_strength(planted):
    points, _ = planted
    result = find_clusters(points)
    strength = result.points["cluster_membership"]
    clustered = result.points["cluster_status"] == "clustered"
    assert ((strength[clustered] > 0) & (strength[clustered] <= 1)).all()
    assert (strength[result.points["cluster_status"] == "noise"] == 0).all()
    # organisations at one coordinate share their location's strength
    same = result.points[clustered].groupby(result.points.geometry[clustered].to_wkb())
    assert (same["cluster_membership"].nunique() == 1).all()
    dbscan = find_clusters(points, method="dbscan")
    assert dbscan.points["cluster_membership"].isna().all()


def test_provenance_attrs_and_the_callers_frame_unchanged(planted):
    points, _ = planted
    before = points.copy()
    attrs = copy.deepcopy(points.attrs)
    result = find_clusters(points, method="dbscan", distance_m=300.0)
    pd.testing.assert_frame_equal(points, before)
    assert points.attrs == attrs
    assert "cluster_id" not in points.columns
    names = {record.name for record in get_provenance(result.clusters)}
    assert "test_register" in names
    assert len(names) >= 4  # the register, LSOA 2021 polygons, residents, IoD2025, wards
    assert get_provenance(result.points) == get_provenance(points)
    notes = result.clusters.attrs["find_clusters"]
    assert notes["method"] == "dbscan"
    assert notes["distance_m"] == 300.0
    assert notes["n_organisations"] == len(points)
    assert sum(notes["cluster_status"].values()) == len(points)
    assert notes["hull"].startswith("concave hull")
    assert result.points.attrs["find_clusters"] == notes
    assert "ClusterResult(dbscan" in repr(result)
    assert isinstance(result.explore(), folium.Map)


# ------------------------------------------------------------------------- the real register


@pytest.mark.shared_data
def test_real_cooperatives_cluster_in_the_wmca(shared_data: Path):
    register = shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv"
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(sg.read_organisations(register))))
    wmca = points[points["lad_code"].isin(WMCA).to_numpy(dtype=bool, na_value=False)]
    result = find_clusters(wmca, min_organisations=5)
    print(result)
    shown = ["cluster_id", "n_organisations", "n_locations", "area_km2", "lad_names"]
    shown += ["imd_score_popweighted", "share_pop_imd_decile1", "top_sector"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(result.clusters[shown])
    assert len(result.clusters) >= 1
    assert result.clusters["lad_codes"].str.contains("E08000025").any()  # Birmingham
    assert result.clusters["imd_score_popweighted"].notna().all()
    assert result.points.index.equals(wmca.index)
    assert (result.points["cluster_status"] == "clustered").sum() == result.clusters[
        "n_organisations"
    ].sum()
    dbscan = find_clusters(wmca, method="dbscan", min_organisations=5, distance_m=500.0)
    print(dbscan)
    assert len(dbscan.clusters) >= 1


def test_hdbscan_members_are_dbscan_cores_within_distance_m(located_postcodes):
    rng = np.random.default_rng(9)
    xy = located_postcodes[["easting", "northing"]].to_numpy(dtype="float64")
    xy = xy[(np.abs(xy[:, 0] - 407_000) < 5_000) & (np.abs(xy[:, 1] - 287_000) < 5_000)]
    chosen = xy[rng.integers(0, len(xy), 3_000)]
    points = _organisations(chosen)
    hdb = find_clusters(points, distance_m=300.0, stack_size=10_000)
    cores = np.zeros(len(chosen), dtype=bool)
    model = DBSCAN(eps=300.0, min_samples=10).fit(chosen)
    cores[model.core_sample_indices_] = True
    members = (hdb.labels > 0).to_numpy()
    assert members.sum() > 100
    assert cores[members].all()
    # and every HDBSCAN cluster lies within one DBSCAN cluster
    dbscan = pd.Series(model.labels_)[members]
    assert dbscan.groupby(hdb.labels[members].to_numpy()).nunique().eq(1).all()
    plain = find_clusters(points, distance_m=math.inf, stack_size=10_000)
    assert plain.params["distance_m"] == math.inf
    with pytest.raises(InputError, match="finite for DBSCAN"):
        find_clusters(points, method="dbscan", distance_m=math.inf)

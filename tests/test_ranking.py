"""rank_candidates: the two lenses, their components and totals, weights, explanations."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import box

import socecon_geo as sg
from socecon_geo._schema import COLUMN_DTYPES, HOTSPOT_CLASSES, ORGANISATION_TYPES
from socecon_geo.provenance import Provenance, with_provenance
from socecon_geo.ranking import (
    DEFAULT_WEIGHTS,
    GAP_COMPONENTS,
    STRENGTH_COMPONENTS,
    check_weights,
    rank_candidates,
)

RECORD = Provenance(
    name="test_register",
    title="A test register",
    publisher="Nobody",
    vintage="2026",
    licence="CC0",
    attribution="Test register, CC0",
)


# ---------------------------------------------------------------------- builders


def _clusters(rows: list[dict], geometries: list) -> gpd.GeoDataFrame:
    """A clusters frame with exactly the contract's columns (find_clusters' .clusters)."""
    columns: dict[str, list] = {
        "cluster_id": [],
        "n_organisations": [],
        "n_locations": [],
        **{f"n_{t}": [] for t in ORGANISATION_TYPES},
        "n_sic_Q": [],
        "n_sic_S": [],
        "top_sector": [],
        "sector_diversity": [],
        "sector_entropy": [],
        "area_km2": [],
        "density_per_km2": [],
        "centroid_x": [],
        "centroid_y": [],
        "ward_codes": [],
        "ward_names": [],
        "lad_codes": [],
        "lad_names": [],
        "population": [],
        "imd_score_popweighted": [],
        "share_pop_imd_decile1": [],
        "share_pop_imd_quintile1": [],
    }
    for row, geometry in zip(rows, geometries, strict=True):
        n = row["n"]
        area = row.get("area_km2", geometry.area / 1e6)
        values = {
            "cluster_id": row["id"],
            "n_organisations": n,
            "n_locations": row.get("locations", max(1, n // 2)),
            **{f"n_{t}": 0 for t in ORGANISATION_TYPES},
            "n_charity": row.get("charities", n - n // 3),
            "n_co_operative": n // 3,
            "n_sic_Q": n // 2,
            "n_sic_S": n - n // 2,
            "top_sector": "Q",
            "sector_diversity": row.get("sectors", 2),
            "sector_entropy": row.get("entropy", 0.69),
            "area_km2": area,
            "density_per_km2": n / area,
            "centroid_x": geometry.centroid.x,
            "centroid_y": geometry.centroid.y,
            "ward_codes": row.get("ward_codes", "E05000001"),
            "ward_names": row.get("ward_names", "Alpha"),
            "lad_codes": row.get("lad_codes", "E08000025"),
            "lad_names": row.get("lad_names", "Birmingham"),
            "population": row.get("population", 10_000.0),
            "imd_score_popweighted": row.get("imd", 30.0),
            "share_pop_imd_decile1": row.get("decile1", 0.2),
            "share_pop_imd_quintile1": row.get("quintile1", 0.4),
        }
        for key, value in values.items():
            columns[key].append(value)
    frame = gpd.GeoDataFrame(columns, geometry=list(geometries), crs=27700)
    frame["cluster_id"] = frame["cluster_id"].astype("Int64")
    for key in ("top_sector", "ward_codes", "ward_names", "lad_codes", "lad_names"):
        frame[key] = frame[key].astype("string")
    return with_provenance(frame, RECORD)


def _areas(rows: list[dict], geometries: list) -> gpd.GeoDataFrame:
    """A ward summary with the columns of summarise_areas."""
    frame = gpd.GeoDataFrame(
        {
            "ward_code": pd.array([r["code"] for r in rows], dtype="string"),
            "ward_name": pd.array([r.get("name", r["code"]) for r in rows], dtype="string"),
            "lad_code": pd.array(["E08000025"] * len(rows), dtype="string"),
            "lad_name": pd.array(["Birmingham"] * len(rows), dtype="string"),
            "n_organisations": [r["n"] for r in rows],
            "population": [r["population"] for r in rows],
            "rate_per_10k": [
                r["n"] / r["population"] * 1e4 if r["population"] == r["population"] else np.nan
                for r in rows
            ],
            "rate_per_10k_eb": [r["eb"] for r in rows],
            "small_population": pd.array([r.get("small", False) for r in rows], dtype="boolean"),
            "imd_score_popweighted": [r["imd"] for r in rows],
            "share_pop_imd_decile1": [r["decile1"] for r in rows],
            "share_pop_imd_quintile1": [min(1.0, r["decile1"] * 1.5) for r in rows],
        },
        geometry=list(geometries),
        crs=27700,
    )
    frame.attrs["level"] = "ward"
    frame.attrs["code_column"] = "ward_code"
    frame.attrs["min_population"] = 1000
    return with_provenance(frame, RECORD)


def _with_hotspots(areas: gpd.GeoDataFrame, classes: list[str]) -> gpd.GeoDataFrame:
    """A copy of ``areas`` with the columns hotspots() adds (HotspotResult.areas)."""
    out = areas.copy()
    out["hotspot_statistic"] = 0.0
    out["hotspot_z"] = 0.0
    out["hotspot_p"] = 0.5
    out["hotspot_p_fdr"] = 0.5
    out["hotspot_class"] = pd.Categorical(classes, categories=list(HOTSPOT_CLASSES))
    out["n_neighbours"] = 2
    return out


def _row_boxes(n: int, width: float = 1000.0) -> list:
    return [box(i * width, 0, (i + 1) * width, 1000) for i in range(n)]


@pytest.fixture
def three_clusters() -> gpd.GeoDataFrame:
    rows = [
        {"id": 1, "n": 10, "area_km2": 1.0, "population": 10_000.0, "entropy": 1.0, "imd": 30.0},
        {"id": 2, "n": 20, "area_km2": 4.0, "population": 5_000.0, "entropy": 0.5, "imd": 40.0},
        {"id": 3, "n": 40, "area_km2": 2.0, "population": 40_000.0, "entropy": 1.5, "imd": 20.0},
    ]
    return _clusters(rows, _row_boxes(3))


GAP_ROWS = [
    {"code": "A", "n": 0, "population": 10_000.0, "eb": 1.0, "imd": 50.0, "decile1": 0.8},
    {"code": "B", "n": 5, "population": 10_000.0, "eb": 4.0, "imd": 40.0, "decile1": 0.5},
    {"code": "C", "n": 20, "population": 10_000.0, "eb": 15.0, "imd": 10.0, "decile1": 0.0},
    {
        "code": "D",
        "n": 0,
        "population": 800.0,
        "eb": 0.5,
        "imd": 60.0,
        "decile1": 1.0,
        "small": True,
    },
    {"code": "E", "n": 1, "population": np.nan, "eb": np.nan, "imd": 30.0, "decile1": 0.2},
]


@pytest.fixture
def five_areas() -> gpd.GeoDataFrame:
    return _areas(GAP_ROWS, _row_boxes(5))


@pytest.fixture(scope="module")
def ward_summary() -> gpd.GeoDataFrame:
    orgs = sg.sample_organisations(300, seed=3, messy=False)
    points = sg.assign_areas(sg.geocode(orgs))
    return sg.summarise_areas(points, level="ward")


def _over_wards(summary: gpd.GeoDataFrame, codes: list[list[str]]) -> gpd.GeoDataFrame:
    """Clusters (contract columns) whose polygons are unions of real wards, shrunk by 100 m."""
    rows, geometries = [], []
    for i, group in enumerate(codes, start=1):
        part = summary[summary["ward_code"].isin(group)]
        n = int(part["n_organisations"].sum())
        rows.append(
            {
                "id": i,
                "n": max(n, 1),
                "population": float(part["population"].sum()),
                "imd": float(part["imd_score_popweighted"].mean()),
                "decile1": float(part["share_pop_imd_decile1"].mean()),
                "ward_codes": ";".join(sorted(part["ward_code"])),
                "ward_names": ";".join(sorted(part["ward_name"])),
                "lad_codes": ";".join(sorted(set(part["lad_code"]))),
                "lad_names": ";".join(sorted(set(part["lad_name"]))),
            }
        )
        geometries.append(part.geometry.union_all().buffer(-100))
    return _clusters(rows, geometries)


# ---------------------------------------------------------------------- the scores


def test_exported_at_the_top_level():
    assert sg.rank_candidates is rank_candidates
    assert sg.Candidates.__name__ == "Candidates"
    doc = sg.rank_candidates.__doc__ or ""
    assert "Parameters" in doc
    assert "Returns" in doc


def test_strength_components_and_total_as_documented(three_clusters):
    ranked = rank_candidates(three_clusters, _areas(GAP_ROWS, _row_boxes(5))).strengths
    by_id = ranked.set_index(ranked["cluster_id"].astype(int))
    expected = {
        "score_size": [0.0, 0.5, 1.0],
        "score_density": [0.5, 0.0, 1.0],
        "score_per_resident": [0.25, 1.0, 0.25],
        "score_diversity": [0.5, 0.0, 1.0],
        "score_deprivation": [0.5, 1.0, 0.0],
    }
    for column, values in expected.items():
        np.testing.assert_allclose(by_id.loc[[1, 2, 3], column], values, err_msg=column)
    assert by_id["score_hotspot"].isna().all()  # no hot spots given
    np.testing.assert_allclose(
        by_id.loc[[1, 2, 3], "score"], [0.2625 / 0.85, 0.425 / 0.85, 0.5875 / 0.85]
    )
    assert ranked["cluster_id"].tolist() == [3, 2, 1]
    assert ranked["rank"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(by_id.loc[[1, 2, 3], "per_10k_residents"], [10.0, 40.0, 10.0])


def test_gap_components_total_and_statuses_as_documented(three_clusters, five_areas):
    gaps = rank_candidates(three_clusters, five_areas).gaps
    by_code = gaps.set_index(gaps["ward_code"].astype(str))
    np.testing.assert_allclose(
        by_code.loc[list("ABCDE"), "score_deprivation"], [0.75, 0.5, 0.0, 1.0, 0.25]
    )
    np.testing.assert_allclose(
        by_code.loc[list("ABCDE"), "score_most_deprived"], [0.8, 0.5, 0.0, 1.0, 0.2]
    )
    np.testing.assert_allclose(
        by_code.loc[list("ABCD"), "score_low_presence"], [2 / 3, 1 / 3, 0.0, 1.0]
    )
    assert math.isnan(by_code.loc["E", "score_low_presence"])
    np.testing.assert_allclose(
        by_code.loc[list("ABCD"), "score"],
        [(0.225 + 0.16 + 0.35 * 2 / 3) / 0.85, (0.15 + 0.1 + 0.35 / 3) / 0.85, 0.0, 1.0],
    )
    assert math.isnan(by_code.loc["E", "score"])
    # D has the top score but too few residents: after every ranked area; E has no
    # population: last
    assert gaps["ward_code"].tolist() == list("ABCDE")
    assert gaps["rank"].tolist() == [1, 2, 3, 4, 5]
    assert gaps["rank_status"].astype(str).tolist() == [
        "ranked",
        "ranked",
        "ranked",
        "small_population",
        "no_population",
    ]
    assert gaps["rank_status"].dtype == COLUMN_DTYPES["rank_status"]
    assert gaps["rank"].dtype == "Int64"
    assert "fewer than 1,000 residents" in by_code.loc["D", "explanation"]
    assert "not scored: no population" in by_code.loc["E", "explanation"]


def test_scores_lie_in_0_1_and_every_component_has_a_column(ward_summary):
    clusters = _over_wards(ward_summary, [[c] for c in ward_summary["ward_code"][:12]])
    hot = _with_hotspots(ward_summary, ["hot_95"] * 10 + ["not_significant"] * 182)
    result = rank_candidates(clusters, ward_summary, hotspots=hot)
    for frame, components in (
        (result.strengths, STRENGTH_COMPONENTS),
        (result.gaps, GAP_COMPONENTS),
    ):
        for component in components:
            values = frame[f"score_{component}"].dropna()
            assert len(values), component
            assert values.between(0, 1).all(), component
        assert frame["score"].dropna().between(0, 1).all()
        assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
        columns = list(frame.columns)
        assert {"score", "rank", "rank_status", "explanation"} <= set(columns)
    # every input row kept, labels kept
    assert sorted(result.gaps.index) == sorted(ward_summary.index)
    assert sorted(result.strengths.index) == sorted(clusters.index)


# ---------------------------------------------------------------------- weights


def test_weights_change_the_order(three_clusters, five_areas):
    default = rank_candidates(three_clusters, five_areas)
    assert default.strengths["cluster_id"].tolist() == [3, 2, 1]
    deprived = rank_candidates(
        three_clusters, five_areas, weights={"strengths": {"deprivation": 2.0}}
    )
    assert deprived.strengths["cluster_id"].tolist() == [2, 1, 3]
    by_id = deprived.strengths.set_index(deprived.strengths["cluster_id"].astype(int))
    np.testing.assert_allclose(
        by_id.loc[[1, 2, 3], "score"],
        [(0.15 * 1.25 + 1.0) / 2.7, (0.125 + 0.15 + 2.0) / 2.7, (0.25 + 0.3375) / 2.7],
    )
    assert deprived.weights["strengths"]["deprivation"] == pytest.approx(2.0 / 2.7)
    assert deprived.weights["strengths"]["hotspot"] == 0.0
    # gaps: only presence counts → the area with the lowest smoothed rate first
    presence = rank_candidates(
        three_clusters,
        five_areas,
        weights={"gaps": {"deprivation": 0, "most_deprived": 0, "low_presence": 1}},
    )
    assert presence.gaps["ward_code"].tolist()[:3] == ["A", "B", "C"]
    need = rank_candidates(
        three_clusters, five_areas, weights={"gaps": {"low_presence": 0, "most_deprived": 0}}
    )
    by_code = need.gaps.set_index(need.gaps["ward_code"].astype(str))
    np.testing.assert_allclose(by_code.loc[list("ABC"), "score"], [0.75, 0.5, 0.0])


def test_default_weights_sum_to_one():
    for lens, weights in DEFAULT_WEIGHTS.items():
        assert sum(weights.values()) == pytest.approx(1.0), lens
    assert check_weights(None) == {k: dict(v) for k, v in DEFAULT_WEIGHTS.items()}


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"strengths": {"sise": 1.0}}, r"unknown strengths component 'sise'.*size, density"),
        ({"gaps": {"size": 1.0}}, r"unknown gaps component 'size'.*deprivation, most_deprived"),
        ({"strengths": {"size": -1.0}}, r"weight of 'size' is -1.0.*0 or more"),
        ({"gaps": {"cold_spot": float("nan")}}, r"weight of 'cold_spot' is nan"),
        ({"gaps": {"cold_spot": "high"}}, r"weight of 'cold_spot' is 'high'"),
        ({"gaps": {"cold_spot": True}}, r"weight of 'cold_spot' is True"),
        ({"lenses": {}}, r"unknown lens 'lenses'"),
        ({"gaps": [0.5]}, r"'gaps' must map components"),
        (
            {"gaps": {"deprivation": 0, "most_deprived": 0, "low_presence": 0, "cold_spot": 0}},
            r"every gaps weight is 0",
        ),
    ],
)
def test_invalid_weights_are_refused(three_clusters, five_areas, weights, match):
    with pytest.raises(sg.InputError, match=match):
        rank_candidates(three_clusters, five_areas, weights=weights)


def test_every_weight_problem_in_one_message(three_clusters, five_areas):
    with pytest.raises(sg.InputError) as caught:
        rank_candidates(
            three_clusters,
            five_areas,
            weights={"strengths": {"sise": 1, "density": -2}, "gaps": {"need": 1}},
        )
    message = str(caught.value)
    assert message.startswith("weights has 3 problems")
    assert "'sise'" in message
    assert "'density' is -2" in message
    assert "'need'" in message
    assert "DEFAULT_WEIGHTS" in message


def test_weights_must_be_a_mapping(three_clusters, five_areas):
    with pytest.raises(sg.InputError, match="weights must be a mapping"):
        rank_candidates(three_clusters, five_areas, weights=[("size", 1)])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- hot spots


def test_hotspot_support_is_the_share_of_the_polygon_in_hot_spots(five_areas):
    # cluster 1 lies half in hot area A (99%), half in B (not significant); cluster 2
    # wholly in C (95%), cluster 3 in E (not significant)
    clusters = _clusters(
        [{"id": 1, "n": 10}, {"id": 2, "n": 10}, {"id": 3, "n": 10}],
        [box(500, 0, 1500, 1000), box(2100, 100, 2900, 900), box(4100, 100, 4900, 900)],
    )
    hot = _with_hotspots(
        five_areas, ["hot_99", "not_significant", "hot_95", "cold_95", "not_significant"]
    )
    result = rank_candidates(clusters, five_areas, hotspots=hot)
    by_id = result.strengths.set_index(result.strengths["cluster_id"].astype(int))
    np.testing.assert_allclose(by_id.loc[[1, 2, 3], "hotspot_share"], [0.5, 1.0, 0.0])
    np.testing.assert_allclose(by_id.loc[[1, 2, 3], "score_hotspot"], [0.5, 1.0, 0.0])
    assert "50% of its area in hot spots (strongest: a 99% hot spot)" in by_id.loc[1, "explanation"]
    assert (
        "100% of its area in hot spots (strongest: a 95% hot spot)" in by_id.loc[2, "explanation"]
    )
    assert "not in a hot spot" in by_id.loc[3, "explanation"]
    assert result.weights["strengths"] == DEFAULT_WEIGHTS["strengths"]
    # cold spots of the same areas are joined by code
    gaps = result.gaps.set_index(result.gaps["ward_code"].astype(str))
    assert gaps["score_cold_spot"].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert "in a 95% cold spot" in gaps.loc["D", "explanation"]
    assert "not in a cold spot" in gaps.loc["A", "explanation"]
    assert result.attrs["cold_spot_join"] == "by ward_code"


def test_result_objects_are_accepted_by_duck_typing(three_clusters, five_areas):
    hot_areas = _with_hotspots(five_areas, ["cold_99", *["not_significant"] * 4])
    cluster_result = SimpleNamespace(
        labels=pd.Series([1, 2, 3], dtype="Int64"), points=None, clusters=three_clusters
    )
    hotspot_result = SimpleNamespace(areas=hot_areas, islands=[], components=1, attrs={})
    # a HotspotResult as the areas: its cold spots are used without hotspots=
    result = rank_candidates(cluster_result, hotspot_result)
    assert result.attrs["hotspots_given"]
    gaps = result.gaps.set_index(result.gaps["ward_code"].astype(str))
    assert gaps.loc["A", "score_cold_spot"] == 1.0
    # and the same through hotspots= with a plain area summary
    again = rank_candidates(three_clusters, five_areas, hotspots=hotspot_result)
    pd.testing.assert_series_equal(again.gaps["score"], result.gaps["score"])
    # a frame with hotspot_class as the areas
    framed = rank_candidates(three_clusters, hot_areas)
    pd.testing.assert_series_equal(framed.gaps["score"], result.gaps["score"])


def test_cold_spots_of_other_areas_by_share_of_polygon(three_clusters, five_areas):
    # hot spots on finer areas (LSOA-like halves of each ward): A's left half is cold
    halves = [box(x, 0, x + 500, 1000) for x in range(0, 5000, 500)]
    finer = gpd.GeoDataFrame(
        {"lsoa21_code": [f"L{i}" for i in range(10)], "rate_per_10k_eb": 1.0},
        geometry=halves,
        crs=27700,
    )
    finer = _with_hotspots(finer, ["cold_99", *["not_significant"] * 9])
    gaps = rank_candidates(three_clusters, five_areas, hotspots=finer).gaps
    by_code = gaps.set_index(gaps["ward_code"].astype(str))
    np.testing.assert_allclose(by_code["coldspot_share"].loc[list("ABCDE")], [0.5, 0, 0, 0, 0])
    assert gaps.attrs["ranking"]["cold_spot_join"].startswith("share of each area's polygon")
    assert (
        "50% of its area in cold spots (strongest: a 99% cold spot)"
        in (by_code.loc["A", "explanation"])
    )
    assert "not in a cold spot" in by_code.loc["B", "explanation"]


# ---------------------------------------------------------------------- missing inputs


def test_without_hot_spots_said_so(three_clusters, five_areas):
    result = rank_candidates(three_clusters, five_areas)
    assert result.attrs["unavailable_components"]["strengths"] == {
        "hotspot": "no hot spots given (hotspots=)"
    }
    assert result.attrs["unavailable_components"]["gaps"] == {
        "cold_spot": "no hot spots given (hotspots=)"
    }
    assert result.weights["gaps"]["cold_spot"] == 0.0
    assert sum(result.weights["gaps"].values()) == pytest.approx(1.0)
    assert result.strengths["explanation"].str.endswith("hot spots not assessed.").all()
    assert result.gaps["explanation"].str.contains("cold spots not assessed").all()
    assert result.gaps["score_cold_spot"].isna().all()


def test_without_population_presence_is_per_km2(ward_summary):
    orgs = sg.sample_organisations(200, seed=4, messy=False)
    points = sg.assign_areas(sg.geocode(orgs))
    geography = sg.load_geography()
    with pytest.warns(sg.SocEconGeoWarning, match="no population"):
        no_people = sg.summarise_areas(
            points, geography.layer("lsoa21"), deprivation=geography.deprivation("iod2025")
        )
    assert no_people["rate_per_10k_eb"].isna().all()
    clusters = _over_wards(ward_summary, [[ward_summary["ward_code"].iloc[0]]]).drop(
        columns=["population"]
    )
    result = rank_candidates(clusters, no_people)
    assert result.attrs["presence_measure"].startswith("organisations per km²")
    assert result.attrs["overall_rate_per_10k"] is None
    assert result.attrs["unavailable_components"]["strengths"]["per_resident"] == (
        "clusters have no population"
    )
    assert result.weights["strengths"]["per_resident"] == 0.0
    gaps = result.gaps
    assert (gaps["rank_status"] == "ranked").all()
    assert gaps["explanation"].str.contains(r"per km² \(no population given\)").all()
    # fewest organisations per km² → highest presence score
    densest = gaps["presence_per_km2"].idxmax()
    assert gaps.loc[densest, "score_low_presence"] == 0.0
    assert "no population, so no rate per resident" in result.strengths["explanation"].iloc[0]


def test_missing_values_rank_last_with_a_status(three_clusters):
    rows = [dict(r) for r in GAP_ROWS[:3]]
    rows[0]["imd"] = np.nan
    rows[0]["decile1"] = np.nan
    areas = _areas(rows, _row_boxes(3))
    clusters = three_clusters.copy()
    clusters.loc[clusters["cluster_id"] == 3, "population"] = np.nan
    clusters.loc[clusters["cluster_id"] == 2, "imd_score_popweighted"] = np.nan
    result = rank_candidates(clusters, areas)
    assert result.gaps["ward_code"].tolist() == ["B", "C", "A"]
    assert result.gaps["rank_status"].astype(str).tolist() == [
        "ranked",
        "ranked",
        "no_deprivation",
    ]
    assert "deprivation not known" in result.gaps["explanation"].iloc[2]
    assert result.strengths["cluster_id"].tolist() == [1, 2, 3]
    assert result.strengths["rank_status"].astype(str).tolist() == [
        "ranked",
        "no_deprivation",
        "no_population",
    ]
    assert result.strengths["score"].iloc[1:].isna().all()


def test_no_clusters_gives_an_empty_strengths_lens(three_clusters, five_areas):
    result = rank_candidates(three_clusters.iloc[0:0], five_areas)
    assert result.strengths.empty
    assert {"score", "rank", "explanation", "score_size"} <= set(result.strengths.columns)
    assert len(result.gaps) == 5
    assert "0 clusters" in repr(result)


# ---------------------------------------------------------------------- determinism


def test_same_inputs_same_result_and_ties_broken_by_id(five_areas):
    twins = _clusters([{"id": 2, "n": 10}, {"id": 1, "n": 10}, {"id": 3, "n": 10}], _row_boxes(3))
    first = rank_candidates(twins, five_areas)
    second = rank_candidates(twins, five_areas)
    assert_geodataframe_equal(first.strengths, second.strengths)
    assert_geodataframe_equal(first.gaps, second.gaps)
    assert first.strengths["score"].nunique() == 1
    assert first.strengths["cluster_id"].tolist() == [1, 2, 3]
    shuffled = rank_candidates(twins.iloc[[2, 0, 1]], five_areas.iloc[[4, 2, 0, 3, 1]])
    assert shuffled.strengths["cluster_id"].tolist() == [1, 2, 3]
    assert shuffled.gaps["ward_code"].tolist() == first.gaps["ward_code"].tolist()
    tied = _areas(
        [{**r, "code": c} for r, c in zip(GAP_ROWS[:1] * 3, "ZYX", strict=True)], _row_boxes(3)
    )
    assert rank_candidates(twins, tied).gaps["ward_code"].tolist() == ["X", "Y", "Z"]


def test_the_callers_frames_are_unchanged(three_clusters, five_areas):
    hot = _with_hotspots(five_areas, ["hot_99", *["not_significant"] * 4])
    before = [f.copy() for f in (three_clusters, five_areas, hot)]
    attrs = [copy.deepcopy(f.attrs) for f in (three_clusters, five_areas, hot)]
    result = rank_candidates(three_clusters, five_areas, hotspots=hot)
    for frame, kept, kept_attrs in zip(
        (three_clusters, five_areas, hot), before, attrs, strict=True
    ):
        assert_geodataframe_equal(frame, kept)
        assert frame.attrs == kept_attrs
    result.strengths.attrs["ranking"]["weights"]["gaps"]["cold_spot"] = 9
    assert result.gaps.attrs["ranking"]["weights"]["gaps"]["cold_spot"] != 9


# ---------------------------------------------------------------------- explanations


def test_explanations_mention_the_numbers(ward_summary):
    codes = ward_summary.sort_values("n_organisations")["ward_code"].tail(3).tolist()
    clusters = _over_wards(ward_summary, [codes[:2], [codes[2]]])
    result = rank_candidates(clusters, ward_summary)
    for _, row in result.strengths.iterrows():
        text = row["explanation"]
        n = int(row["n_organisations"])
        assert text.startswith(f"Cluster {row['cluster_id']}: {n:,} organisation")
        assert f"{row['area_km2']:,.2f} km²" in text
        assert f"{row['density_per_km2']:,.1f} per km²" in text
        assert f"{row['per_10k_residents']:,.1f} per 10,000 residents" in text
        assert f"residents' IMD score {row['imd_score_popweighted']:,.1f}" in text
        assert f"{row['share_pop_imd_decile1']:.0%} of residents in England's most" in text
        assert "(most in Q: human health and social work activities)" in text
        wards = str(row["ward_names"]).split(";")
        assert f"across {len(wards)} ward" in text
        assert all(name in text for name in wards)
    top = result.gaps.iloc[0]
    text = top["explanation"]
    assert text.startswith(f"{top['ward_name']} ({top['ward_code']}), {top['lad_name']};")
    assert f"{top['rate_per_10k_eb']:,.1f} per 10,000 smoothed" in text
    assert f"for {round(top['population']):,} residents" in text
    overall = result.attrs["overall_rate_per_10k"]
    valid = ward_summary["population"] > 0
    assert overall == pytest.approx(
        ward_summary.loc[valid, "n_organisations"].sum()
        / ward_summary.loc[valid, "population"].sum()
        * 1e4
    )
    assert f"(all areas: {overall:,.1f})" in text


def test_explanations_are_plain_text_and_the_map_escapes_them(five_areas):
    clusters = _clusters(
        [{"id": 1, "n": 5, "ward_names": "<b>Alpha</b>;Beta\nGamma", "lad_names": "A & B"}],
        _row_boxes(1),
    )
    result = rank_candidates(clusters, five_areas)
    text = result.strengths["explanation"].iloc[0]
    assert "(<b>Alpha</b> and Beta Gamma) of A & B" in text
    assert "\n" not in text
    fmap = result.explore()
    assert isinstance(fmap, __import__("folium").Map)
    page = fmap.get_root().render()
    assert "<b>Alpha</b>" not in page
    # escaped for HTML, then JSON-encoded into the page ("&" as \u0026)
    assert "\\u0026lt;b\\u0026gt;Alpha\\u0026lt;/b\\u0026gt;" in page
    assert "strengths: clusters to develop" in page
    assert "gaps: high need" in page


def test_explore_with_nothing_to_show(three_clusters, five_areas):
    result = rank_candidates(three_clusters.iloc[0:0], five_areas.iloc[0:0])
    assert result.gaps.empty
    assert isinstance(result.explore(), __import__("folium").Map)


# ---------------------------------------------------------------------- provenance, attrs


def test_provenance_and_parameters_carried(ward_summary):
    clusters = _over_wards(ward_summary, [[ward_summary["ward_code"].iloc[0]]])
    hot = _with_hotspots(ward_summary, ["not_significant"] * len(ward_summary))
    hot = with_provenance(
        hot,
        Provenance(
            name="hot",
            title="Hot spots",
            publisher="socecon_geo",
            vintage="test",
            licence="CC0",
            attribution="hot spots",
        ),
    )
    result = rank_candidates(clusters, ward_summary, hotspots=hot)
    gap_names = [r.name for r in sg.get_provenance(result.gaps)]
    assert [r.name for r in sg.get_provenance(ward_summary)] == gap_names[:-1]
    assert gap_names[-1] == "hot"
    assert "iod2025" in gap_names
    strength_names = [r.name for r in sg.get_provenance(result.strengths)]
    assert strength_names[0] == "test_register"
    assert "hot" in strength_names
    params = result.gaps.attrs["ranking"]
    assert params["lens"] == "gaps"
    assert params["geography"] == "West Midlands Combined Authority"
    assert params["weights"] == result.weights
    assert params["scaling"].startswith("rank percentile")
    assert result.strengths.attrs["ranking"]["lens"] == "strengths"
    # the area summary's own attrs are kept
    assert result.gaps.attrs["level"] == "ward"


# ---------------------------------------------------------------------- bad input


def test_bad_inputs_are_explained(three_clusters, five_areas):
    with pytest.raises(sg.InputError, match=r"clusters must be a ClusterResult or its \.clusters"):
        rank_candidates(pd.DataFrame(three_clusters), five_areas)
    with pytest.raises(sg.InputError, match=r"clusters lacks 'cluster_id'"):
        rank_candidates(three_clusters.drop(columns=["cluster_id"]), five_areas)
    with pytest.raises(sg.InputError, match=r"areas must be an area summary"):
        rank_candidates(three_clusters, "wards.gpkg")
    with pytest.raises(sg.InputError, match=r"areas has none of the code columns"):
        rank_candidates(three_clusters, five_areas.drop(columns=["ward_code", "lad_code"]))
    with pytest.raises(sg.InputError, match=r"areas has no 'n_organisations'"):
        rank_candidates(three_clusters, five_areas.drop(columns=["n_organisations"]))
    with pytest.raises(sg.InputError, match=r"areas has no deprivation"):
        rank_candidates(
            three_clusters,
            five_areas.drop(columns=["imd_score_popweighted", "share_pop_imd_decile1"]),
        )
    with pytest.raises(sg.InputError, match=r"hotspots has no 'hotspot_class'"):
        rank_candidates(three_clusters, five_areas, hotspots=five_areas)
    with pytest.raises(sg.InputError, match=r"hotspots must be a HotspotResult"):
        rank_candidates(three_clusters, five_areas, hotspots=[1, 2])
    with pytest.raises(sg.InputError, match=r"geography must be a socecon_geo.Geography"):
        rank_candidates(three_clusters, five_areas, geography="wmca")  # type: ignore[arg-type]


def test_crs_mismatches_are_refused(three_clusters, five_areas):
    with pytest.raises(
        sg.CRSMismatchError, match="clusters is in EPSG:3857 and areas in EPSG:27700"
    ):
        rank_candidates(three_clusters.set_crs(3857, allow_override=True), five_areas)
    hot = _with_hotspots(five_areas, ["hot_99", *["not_significant"] * 4])
    with pytest.raises(sg.CRSMismatchError, match="hotspots is in a geographic CRS"):
        rank_candidates(three_clusters, five_areas, hotspots=hot.to_crs(4326))
    with pytest.raises(sg.CRSMismatchError, match="areas is in a geographic CRS"):
        rank_candidates(three_clusters.to_crs(4326), five_areas.to_crs(4326))


def test_clusters_without_area_columns_measure_their_polygons(five_areas):
    clusters = gpd.GeoDataFrame(
        {"cluster_id": [1, 2], "n_organisations": [8, 4]},
        geometry=[box(0, 0, 2000, 1000), box(0, 0, 1000, 1000)],
        crs=27700,
    )
    result = rank_candidates(clusters, five_areas)
    strengths = result.strengths.set_index(result.strengths["cluster_id"])
    assert strengths.loc[1, "score_density"] == 0.5
    assert strengths.loc[2, "score_density"] == 0.5
    assert set(result.attrs["unavailable_components"]["strengths"]) == {
        "hotspot",
        "per_resident",
        "diversity",
        "deprivation",
    }
    assert result.weights["strengths"] == pytest.approx(
        {
            "size": 0.625,
            "density": 0.375,
            "per_resident": 0.0,
            "diversity": 0.0,
            "hotspot": 0.0,
            "deprivation": 0.0,
        }
    )
    assert "deprivation not known" in strengths.loc[1, "explanation"]
    assert "Cluster 1: 8 organisations; 2.00 km², 4.0 per km²" in strengths.loc[1, "explanation"]


def test_a_lone_cluster_sits_in_the_middle_of_each_scale(five_areas):
    clusters = _clusters([{"id": 7, "n": 12, "decile1": 0.25}], _row_boxes(1))
    weights = {"strengths": {"size": np.float64(2.0), "density": np.int64(1)}}
    row = rank_candidates(clusters, five_areas, weights=weights).strengths.iloc[0]
    for component in ("size", "density", "per_resident", "diversity", "deprivation"):
        assert row[f"score_{component}"] == 0.5, component
    assert row["score"] == pytest.approx(0.5)
    assert row["rank"] == 1
    assert "25% of residents in England's most deprived 10%" in row["explanation"]


def test_hotspot_support_by_members_when_the_result_has_points(five_areas):
    # the polygons lie wholly in A (hot) and E (not significant), but the members of
    # cluster 1 are three in A, one in B (and a noise point in A that does not count)
    clusters = _clusters([{"id": 1, "n": 4}, {"id": 2, "n": 2}], [box(100, 100, 900, 900)] * 2)
    points = gpd.GeoDataFrame(
        {
            "ward_code": pd.array(["A", "A", "A", "B", "C", "C", "A"], dtype="string"),
            "cluster_id": pd.array([1, 1, 1, 1, 2, 2, pd.NA], dtype="Int64"),
        },
        geometry=gpd.points_from_xy([500] * 7, [500] * 7),
        crs=27700,
    )
    result_like = SimpleNamespace(clusters=clusters, points=points, labels=points["cluster_id"])
    hot = _with_hotspots(five_areas, ["hot_99", "not_significant", "cold_90", "hot_90", "no_value"])
    result = rank_candidates(result_like, five_areas, hotspots=hot)
    by_id = result.strengths.set_index(result.strengths["cluster_id"].astype(int))
    np.testing.assert_allclose(by_id.loc[[1, 2], "hotspot_share"], [0.75, 0.0])
    assert (
        "75% of its organisations in hot spots (strongest: a 99% hot spot)"
        in (by_id.loc[1, "explanation"])
    )
    assert result.attrs["hotspot_support"] == (
        "share of each cluster's organisations in hot-spot areas (by ward_code)"
    )
    # the frame alone: by polygon, both wholly in A
    by_polygon = rank_candidates(clusters, five_areas, hotspots=hot)
    assert by_polygon.strengths["hotspot_share"].tolist() == [1.0, 1.0]
    assert (
        by_polygon.attrs["hotspot_support"] == "share of each cluster's polygon in hot-spot areas"
    )


def test_weights_only_on_components_that_cannot_be_computed(three_clusters, five_areas):
    only_cold = {"gaps": {"deprivation": 0, "most_deprived": 0, "low_presence": 0}}
    with pytest.raises(
        sg.InputError,
        match=r"every gaps component with a weight cannot be computed \(cold_spot: no hot "
        r"spots given \(hotspots=\)\); give a weight to one that can \(deprivation, "
        r"most_deprived, low_presence\)",
    ):
        rank_candidates(three_clusters, five_areas, weights=only_cold)
    hot = _with_hotspots(five_areas, ["cold_99", *["not_significant"] * 4])
    ranked = rank_candidates(three_clusters, five_areas, weights=only_cold, hotspots=hot)
    assert ranked.gaps["ward_code"].iloc[0] == "A"
    assert ranked.weights["gaps"]["cold_spot"] == 1.0


def test_hot_and_cold_classes_are_hotspot_classes() -> None:
    from socecon_geo._ranking_text import CLASS_WORDS
    from socecon_geo.ranking import COLD_CLASSES, HOT_CLASSES

    assert set(HOT_CLASSES) | set(COLD_CLASSES) <= set(HOTSPOT_CLASSES)
    assert not set(HOT_CLASSES) & set(COLD_CLASSES)
    assert set(CLASS_WORDS) <= set(HOTSPOT_CLASSES)

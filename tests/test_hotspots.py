"""Hot spots: Gi* and local Moran with FDR, islands and missing values, the hexagon grid."""

from __future__ import annotations

import copy

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import socecon_geo as sg
from socecon_geo._hexagons import hexagon_of, hexagon_polygons
from socecon_geo._schema import COLUMN_DTYPES, HOTSPOT_CLASSES
from socecon_geo.hotspot_stats import _esda_numpy_path

HOT = [c for c in HOTSPOT_CLASSES if c.startswith("hot_")]
COLD = [c for c in HOTSPOT_CLASSES if c.startswith("cold_")]


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    return sg.load_wards()


@pytest.fixture(scope="module")
def lsoas() -> gpd.GeoDataFrame:
    return sg.load_lsoas()


def _nearest(frame: gpd.GeoDataFrame, position: int, count: int) -> np.ndarray:
    """Positions of the ``count`` areas whose centroids are nearest one area's."""
    centres = frame.geometry.centroid
    return np.argsort(centres.distance(centres.iloc[position]).to_numpy(), kind="stable")[:count]


def _with_rates(frame: gpd.GeoDataFrame, seed: int, block: np.ndarray | None = None, lift=3.0):
    rates = np.random.default_rng(seed).gamma(4.0, 5.0, len(frame))
    if block is not None:
        rates[block] *= lift
    return frame.assign(rate_per_10k_eb=rates)


def _is_hot(result: sg.HotspotResult) -> np.ndarray:
    return result.areas["hotspot_class"].isin(HOT).to_numpy()


def _squares(values, *, side: int = 6) -> gpd.GeoDataFrame:
    cells = [
        box(x, y, x + 100, y + 100)
        for y in range(0, side * 100, 100)
        for x in range(0, side * 100, 100)
    ]
    return gpd.GeoDataFrame({"value": values}, geometry=cells, crs=27700)


# ---------------------------------------------------------------- planted truth


def test_planted_block_of_wards_is_a_hot_spot(wards):
    block = _nearest(wards, 40, 10)
    areas = _with_rates(wards, seed=3, block=block, lift=4.0)
    result = sg.hotspots(areas)
    hot = _is_hot(result)
    assert hot[block].sum() >= 4
    # a hot spot is where the block is: nothing far from it
    far = np.setdiff1d(np.arange(len(wards)), _nearest(wards, 40, 30))
    assert not hot[far].any()
    assert result.attrs["fdr"] is True
    assert result.attrs["classes_by"] == "hotspot_p_fdr"
    assert (result.areas["hotspot_z"].to_numpy()[block] > 0).all()


def test_planted_cold_block_is_a_cold_spot(wards):
    block = _nearest(wards, 40, 12)
    areas = _with_rates(wards, seed=4, block=block, lift=0.05)
    result = sg.hotspots(areas)
    cold = result.areas["hotspot_class"].isin(COLD).to_numpy()
    assert cold[block].sum() >= 5
    assert cold.sum() == cold[block].sum()
    assert not _is_hot(result)[block].any()


def test_planted_hot_spot_survives_fdr_on_the_lsoas(lsoas):
    block = _nearest(lsoas, 100, 25)
    areas = _with_rates(lsoas, seed=1, block=block)
    result = sg.hotspots(areas)  # 9,999 permutations
    hot = _is_hot(result)
    assert hot[block].sum() >= 10
    # Gi* counts each area's neighbours in: hot areas off the block border it
    assert not hot[np.setdiff1d(np.arange(len(lsoas)), _nearest(lsoas, 100, 50))].any()
    assert result.areas["hotspot_p_fdr"].min() <= 0.05
    assert result.attrs["smallest_possible_p"] == pytest.approx(2 / 10_000)
    # at 999 permutations the smallest p (0.002) cannot pass BH among 1,719 areas
    few = sg.hotspots(areas, permutations=999)
    assert not _is_hot(few).any()
    assert few.areas["hotspot_p_fdr"].min() > 0.05
    # the z-based p-value has no floor
    z_based = sg.hotspots(areas, permutations=0)
    assert _is_hot(z_based)[block].sum() >= 20
    assert z_based.attrs["p_value"].startswith("two-sided, from the z-score")


def test_false_positives_on_random_rates_stay_under_five_percent(wards):
    runs = 20
    flagged_raw = flagged_fdr = runs_with_any = 0
    for seed in range(runs):
        areas = _with_rates(wards, seed=100 + seed)
        raw = sg.hotspots(areas, permutations=999, fdr=False, seed=seed)
        fdr = sg.hotspots(areas, permutations=999, fdr=True, seed=seed)
        significant_raw = (raw.areas["hotspot_class"] != "not_significant").sum()
        significant_fdr = (fdr.areas["hotspot_class"] != "not_significant").sum()
        flagged_raw += significant_raw
        flagged_fdr += significant_fdr
        runs_with_any += bool(significant_fdr)
    tests = runs * len(wards)
    # without the correction about alpha of the areas are flagged by chance ...
    assert 0.01 < flagged_raw / tests <= 0.08
    # ... with it, far fewer, and few runs flag anything at all
    assert flagged_fdr / tests <= 0.05
    assert flagged_fdr < flagged_raw / 5
    assert runs_with_any / runs <= 0.10


def test_false_positives_z_based_with_fdr(lsoas):
    flagged = 0
    for seed in range(5):
        result = sg.hotspots(_with_rates(lsoas, seed=200 + seed), permutations=0)
        flagged += int((result.areas["hotspot_class"] != "not_significant").sum())
    assert flagged / (5 * len(lsoas)) <= 0.05


def test_same_seed_same_result_and_seed_matters(wards):
    areas = _with_rates(wards, seed=7, block=_nearest(wards, 10, 5))
    first = sg.hotspots(areas, permutations=999, seed=11)
    second = sg.hotspots(areas, permutations=999, seed=11)
    pd.testing.assert_frame_equal(first.areas, second.areas)
    other = sg.hotspots(areas, permutations=999, seed=12)
    assert not np.array_equal(first.areas["hotspot_p"], other.areas["hotspot_p"])
    np.testing.assert_array_equal(first.areas["hotspot_z"], other.areas["hotspot_z"])


def test_ties_with_zero_are_not_cold_spots():
    # mostly empty cells: a zero among zeros is common under permutation, not extreme
    values = np.zeros(100)
    values[[5, 37, 62, 88]] = [3.0, 1.0, 2.0, 1.0]
    result = sg.hotspots(_squares(values, side=10), variable="value", permutations=999, fdr=False)
    assert not result.areas["hotspot_class"].isin(COLD).any()
    below = result.areas["hotspot_z"].to_numpy() < 0  # nothing in the neighbourhood
    assert below.sum() > 50
    assert (result.areas["hotspot_p"].to_numpy()[below] == 1.0).all()


def test_pseudo_p_is_twice_the_smaller_tail(wards):
    import esda
    import libpysal

    areas = _with_rates(wards, seed=8)
    result = sg.hotspots(areas, permutations=999, seed=5, fdr=False)
    w = libpysal.weights.Queen.from_dataframe(wards, use_index=False, silence_warnings=True)
    # esda's folded p (through its NumPy code, so that numba, if installed, draws alike)
    with _esda_numpy_path(), pytest.warns(DeprecationWarning, match="alternative"):
        g = esda.G_Local(
            areas["rate_per_10k_eb"].to_numpy(),
            w,
            transform="B",
            star=True,
            permutations=999,
            seed=5,
            n_jobs=1,
            keep_simulations=False,
        )
    # no ties among continuous rates: the same as doubling esda's directed p
    np.testing.assert_allclose(result.areas["hotspot_p"], np.minimum(2 * g.p_sim, 1.0))


def test_numpy_global_random_state_is_left_alone(wards):
    np.random.seed(5)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    sg.hotspots(_with_rates(wards, seed=1), permutations=99)
    assert np.random.random() == expected  # noqa: NPY002


class _Compiled:
    """Stands in for a numba dispatcher: it keeps the Python function as ``py_func``."""

    def __init__(self, function):
        self.py_func = function

    def __call__(self, *args, **kwargs):
        raise AssertionError("the compiled function was called")


def test_esda_runs_its_numpy_code_even_where_numba_is_installed(wards, monkeypatch):
    import esda.crand
    import esda.getisord

    expected = sg.hotspots(_with_rates(wards, seed=1), permutations=99, seed=2)
    # the Python functions (where numba is installed, what its dispatchers were made of)
    originals = {
        (module, name): getattr(getattr(module, name), "py_func", getattr(module, name))
        for module, name in [
            (esda.crand, "compute_chunk"),
            (esda.crand, "vec_permutations"),
            (esda.getisord, "_g_local_star_crand"),
        ]
    }
    for (module, name), function in originals.items():
        monkeypatch.setattr(module, name, _Compiled(function))
    monkeypatch.setattr(esda.crand, "boolean", "numba's boolean", raising=False)
    stand_ins = {key: getattr(*key) for key in originals}
    with _esda_numpy_path():
        for (module, name), function in originals.items():
            assert getattr(module, name) is function
        assert esda.crand.boolean is bool
    for key, stand_in in stand_ins.items():
        assert getattr(*key) is stand_in
    assert esda.crand.boolean == "numba's boolean"
    result = sg.hotspots(_with_rates(wards, seed=1), permutations=99, seed=2)
    pd.testing.assert_frame_equal(result.areas, expected.areas)


# ---------------------------------------------------------------- local Moran


def test_local_moran_classes(wards):
    high = _nearest(wards, 40, 7)
    low = _nearest(wards, 150, 7)
    areas = _with_rates(wards, seed=5, block=high)
    rates = areas["rate_per_10k_eb"].to_numpy().copy()
    rates[low] *= 0.05
    outlier = int(high[0])  # a low value in the middle of the high block
    rates[outlier] = 0.1
    areas = areas.assign(rate_per_10k_eb=rates)
    result = sg.hotspots(areas, method="local_moran", permutations=0, fdr=False)
    classes = result.areas["hotspot_class"].astype(str).to_numpy()
    assert (classes[high[1:]] == "high_high").sum() >= 3
    assert (classes[low] == "low_low").sum() >= 3
    assert classes[outlier] == "low_high"
    assert set(classes) <= {"high_high", "high_low", "low_high", "low_low", "not_significant"}
    assert list(result.counts) == [
        "high_high",
        "high_low",
        "low_high",
        "low_low",
        "not_significant",
        "no_neighbours",
        "no_value",
    ]
    # the statistic is the local I; its sign follows the quadrant
    statistic = result.areas["hotspot_statistic"].to_numpy()
    assert (statistic[high[1:]][classes[high[1:]] == "high_high"] > 0).all()
    assert statistic[outlier] < 0


def test_local_moran_with_permutations_and_negative_values():
    values = np.where(np.arange(36) % 6 < 2, 5.0, -1.0)
    result = sg.hotspots(_squares(values), variable="value", method="local_moran", permutations=999)
    assert result.attrs["method"] == "local_moran"
    assert (result.areas["hotspot_p"] <= 1).all()
    assert result.areas["hotspot_class"].isin(["high_high", "low_low"]).any()


# ---------------------------------------------------------------- weights


def test_knn_and_distance_weights(wards):
    areas = _with_rates(wards, seed=3, block=_nearest(wards, 40, 6))
    knn = sg.hotspots(areas, weights="knn", k=6, permutations=0)
    assert (knn.areas["n_neighbours"] == 6).all()
    assert knn.attrs["k"] == 6
    band = sg.hotspots(areas, weights="distance", permutations=0)
    assert band.islands == []  # the chosen band gives every area a neighbour
    assert band.attrs["distance_m_chosen"].startswith("smallest band")
    narrow = sg.hotspots(areas, weights="distance", distance_m=3_000.0, permutations=0)
    assert narrow.attrs["distance_m"] == 3_000.0
    assert len(narrow.islands) > 0
    assert narrow.components > 1


def test_knn_needs_a_projected_crs(wards):
    areas = _with_rates(wards, seed=1).to_crs(4326)
    with pytest.raises(sg.CRSMismatchError, match="geographic CRS"):
        sg.hotspots(areas, weights="knn")


# ---------------------------------------------------------------- degenerate inputs


def test_one_area_is_an_island():
    area = gpd.GeoDataFrame(
        {"ward_code": ["E05000001"], "rate_per_10k_eb": [3.0]},
        geometry=[box(0, 0, 1, 1)],
        crs=27700,
    )
    result = sg.hotspots(area)
    assert result.areas["hotspot_class"].tolist() == ["no_neighbours"]
    assert result.islands == ["E05000001"]
    assert result.components == 0
    assert result.attrs["n_tested"] == 0
    assert np.isnan(result.areas["hotspot_p"].iloc[0])
    assert result.areas["n_neighbours"].tolist() == [0]


def test_islands_and_parts_are_reported_not_a_crash(wards):
    areas = _with_rates(wards, seed=2, block=_nearest(wards, 40, 6))
    far = gpd.GeoDataFrame(
        {"ward_code": ["X1", "X2", "X3"], "rate_per_10k_eb": [50.0, 4.0, 5.0]},
        geometry=[box(0, 0, 100, 100), box(5_000, 0, 5_100, 100), box(5_100, 0, 5_200, 100)],
        crs=wards.crs,
    )
    combined = pd.concat([areas, far], ignore_index=True)
    result = sg.hotspots(combined)
    assert result.islands == ["X1"]
    assert result.areas["hotspot_class"].iloc[-3] == "no_neighbours"
    assert result.components == 2
    assert result.attrs["component_sizes"] == [len(wards), 2]
    assert len(result.areas) == len(combined)
    assert _is_hot(result).any()
    assert np.isnan(result.areas["hotspot_p_fdr"].iloc[-3])


def test_missing_values_are_kept_and_classed(wards):
    areas = _with_rates(wards, seed=2, block=_nearest(wards, 40, 6))
    rates = areas["rate_per_10k_eb"].to_numpy().copy()
    rates[[0, 5]] = np.nan
    rates[9] = np.inf
    areas = areas.assign(rate_per_10k_eb=rates)
    result = sg.hotspots(areas, permutations=0)
    classes = result.areas["hotspot_class"]
    assert (classes.iloc[[0, 5, 9]] == "no_value").all()
    assert result.no_value == wards["ward_code"].iloc[[0, 5, 9]].tolist()
    assert (result.areas["n_neighbours"].iloc[[0, 5, 9]] == 0).all()
    assert result.attrs["n_tested"] == len(wards) - 3
    assert _is_hot(result).any()


def test_nullable_float_column_with_missing_values():
    values = pd.array([1.0, 2.0, None, *([1.0] * 33)], dtype="Float64")
    result = sg.hotspots(_squares(values), variable="value", permutations=0)
    assert result.areas["hotspot_class"].iloc[2] == "no_value"


def test_all_missing_is_an_input_error(wards):
    areas = wards.assign(rate_per_10k_eb=np.nan)
    with pytest.raises(sg.InputError, match=r"no value in any of its 192 rows.*population"):
        sg.hotspots(areas)


def test_constant_variable_has_no_hot_spot(wards):
    result = sg.hotspots(wards.assign(rate_per_10k_eb=2.5))
    assert (result.areas["hotspot_class"] == "not_significant").all()
    assert (result.areas["hotspot_p"] == 1.0).all()
    assert result.attrs["constant_variable"] is True


def test_missing_column_is_an_input_error(wards):
    with pytest.raises(sg.InputError, match=r"no column 'rate_per_10k_eb'.*summarise_areas"):
        sg.hotspots(wards)
    with pytest.raises(sg.InputError, match="no column 'density'"):
        sg.hotspots(wards, variable="density")


def test_text_column_is_an_input_error(wards):
    with pytest.raises(sg.InputError, match=r"areas\['ward_name'\] must be numbers"):
        sg.hotspots(wards, variable="ward_name")


def test_negative_values_are_refused_by_gi_star():
    values = np.linspace(-1, 1, 36)
    with pytest.raises(sg.InputError, match=r"negative values.*local_moran"):
        sg.hotspots(_squares(values), variable="value")


def test_not_a_geodataframe_or_empty(wards):
    with pytest.raises(sg.InputError, match="must be a GeoDataFrame"):
        sg.hotspots(pd.DataFrame({"rate_per_10k_eb": [1.0]}))
    with pytest.raises(sg.InputError, match="areas is empty"):
        sg.hotspots(wards.iloc[:0].assign(rate_per_10k_eb=1.0))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"method": "gi"}, "method must be one of"),
        ({"weights": "rook"}, "weights must be one of"),
        ({"k": 0}, "k .* must be a whole number"),
        ({"distance_m": -5}, "distance_m .* must be a positive"),
        ({"permutations": -1}, "permutations must be a whole number"),
        ({"permutations": 10}, "too few for a pseudo p-value"),
        ({"alpha": 1.5}, "alpha must be a probability"),
        ({"fdr": "yes"}, "fdr must be True or False"),
        ({"seed": -1}, "seed must be a whole number"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(sg.InputError, match=match):
        sg.hotspots(_squares(np.ones(36)), variable="value", **options)


def test_alpha_decides_which_confidence_classes_show(wards):
    areas = _with_rates(wards, seed=3, block=_nearest(wards, 40, 10))
    strict = sg.hotspots(areas, permutations=0, alpha=0.01)
    assert set(strict.areas["hotspot_class"].astype(str)) <= {
        "hot_99",
        "cold_99",
        "not_significant",
    }
    loose = sg.hotspots(areas, permutations=0, alpha=0.10)
    assert loose.counts["hot_99"] == strict.counts["hot_99"]
    assert sum(loose.counts[c] for c in HOT) >= sum(strict.counts[c] for c in HOT)


# ---------------------------------------------------------------- the caller's objects


def test_caller_frame_unchanged_and_rows_kept(wards):
    areas = _with_rates(wards, seed=2).set_index("ward_code", drop=False)
    areas.attrs["note"] = ["kept"]
    before = areas.copy()
    before_attrs = copy.deepcopy(areas.attrs)
    result = sg.hotspots(areas, permutations=99)
    pd.testing.assert_frame_equal(areas, before)
    assert areas.attrs == before_attrs
    assert result.areas.index.equals(areas.index)
    assert result.areas.attrs["note"] == ["kept"]
    assert result.areas["hotspot_class"].dtype == COLUMN_DTYPES["hotspot_class"]
    assert result.areas["n_neighbours"].dtype == "int64"


def test_summary_provenance_and_parameters_are_kept():
    points = sg.assign_areas(sg.geocode(sg.sample_organisations(400, seed=2)))
    summary = sg.summarise_areas(points, level="ward")
    result = sg.hotspots(summary, permutations=999, seed=3)
    records = sg.get_provenance(result.areas)
    assert records == sg.get_provenance(summary)
    assert len(records) > 0
    for key, value in {
        "method": "gi_star",
        "weights": "queen",
        "permutations": 999,
        "alpha": 0.05,
        "fdr": True,
        "seed": 3,
        "variable": "rate_per_10k_eb",
        "code_column": "ward_code",
    }.items():
        assert result.attrs[key] == value
        assert result.areas.attrs[key] == value
    assert result.areas.attrs["level"] == "ward"  # the summary's own attrs stay


def test_explore_shows_classes_with_a_legend(wards):
    result = sg.hotspots(_with_rates(wards, seed=3, block=_nearest(wards, 40, 6)), permutations=0)
    m = result.explore()
    assert isinstance(m, folium.Map)
    html = m.get_root().render()
    assert "hot_99" in html
    assert "not_significant" in html
    assert "Ordnance Survey" in html or "ONS" in html or "Office for National Statistics" in html
    assert "hotspot_class" in repr(result) or "gi_star" in repr(result)


# ---------------------------------------------------------------- the grid


def test_hexagon_maths_round_trips():
    polygons = hexagon_polygons(np.array([0, 3, -2]), np.array([0, 5, 7]), 1_000.0)
    centres = np.array([[p.centroid.x, p.centroid.y] for p in polygons])
    q, r = hexagon_of(centres[:, 0], centres[:, 1], 1_000.0)
    assert q.tolist() == [0, 3, -2]
    assert r.tolist() == [0, 5, 7]
    assert polygons[0].area == pytest.approx(np.sqrt(3) / 2 * 1_000.0**2)
    # a point near a corner goes to the hexagon that holds it
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(0, 20_000, 500), rng.uniform(0, 20_000, 500)
    q, r = hexagon_of(xs, ys, 1_000.0)
    cells = hexagon_polygons(q, r, 1_000.0)
    assert all(c.covers(Point(x, y)) for c, x, y in zip(cells, xs, ys, strict=True))


@pytest.fixture(scope="module")
def planted_points() -> gpd.GeoDataFrame:
    """Organisations at real postcodes of the WMCA, with 300 more in central Birmingham."""
    postcodes = sg.load_postcodes()
    located = postcodes[~postcodes.geometry.is_empty & postcodes.geometry.notna()]
    rng = np.random.default_rng(0)
    spread = located.geometry.iloc[rng.integers(0, len(located), 3_000)].to_numpy()
    centre = rng.normal(size=(300, 2)) * 300 + [406_500, 286_800]
    planted = [Point(x, y) for x, y in centre]
    outside = [Point(530_000, 180_000)] * 5  # London
    return gpd.GeoDataFrame(
        {"name": [f"org {i}" for i in range(3_305)]},
        geometry=[*spread, *planted, *outside],
        crs=27700,
    )


def test_grid_finds_the_planted_concentration(planted_points):
    before = planted_points.copy()
    result = sg.hotspot_grid(planted_points, cell_m=1_000.0)
    pd.testing.assert_frame_equal(planted_points, before)
    grid = result.areas
    assert grid.attrs["n_outside"] >= 5
    assert grid.attrs["n_counted"] == int(grid["n_organisations"].sum())
    assert grid.attrs["n_counted"] + grid.attrs["n_outside"] == len(planted_points)
    assert (grid["n_organisations"] == 0).sum() > 0  # zeros inside the area are cells too
    assert grid["cell_id"].is_unique
    assert grid.attrs["boundary"].startswith("the 7 areas of the 'lad' layer")
    centre = grid.geometry.contains(Point(406_500, 286_800)).to_numpy()
    assert grid.loc[centre, "hotspot_class"].isin(HOT).all()
    assert grid["share_in_area"].between(0, 1.000001).all()
    assert grid.attrs["variable"] == "n_organisations"
    # provenance: the bundled authorities the grid covers
    assert set(sg.get_provenance(sg.load_authorities())) <= set(sg.get_provenance(grid))
    assert result.components == 1


def test_grid_with_a_boundary_and_local_moran():
    area = gpd.GeoSeries([box(400_000, 280_000, 405_000, 285_000)], crs=27700)
    points = gpd.GeoDataFrame(
        geometry=[Point(401_000 + i % 9 * 40, 281_000 + i % 7 * 40) for i in range(60)]
        + [Point(404_000, 284_000)],
        crs=27700,
    )
    result = sg.hotspot_grid(
        points, boundary=area, cell_m=500.0, method="local_moran", permutations=0
    )
    assert int(result.areas["n_organisations"].sum()) == 61
    assert result.areas.attrs["boundary"] == "the 1 polygon(s) passed as boundary"
    assert result.counts["high_high"] >= 1


def test_grid_errors(planted_points):
    with pytest.raises(sg.InputError, match="points is empty"):
        sg.hotspot_grid(planted_points.iloc[:0])
    with pytest.raises(sg.InputError, match=r"cell_m .* must be a positive number"):
        sg.hotspot_grid(planted_points, cell_m=0)
    with pytest.raises(sg.InputError, match="would lay about"):
        sg.hotspot_grid(planted_points, cell_m=10)
    london = planted_points.iloc[-5:]
    with pytest.raises(sg.InputError, match="none of the 5 located points counted lies"):
        sg.hotspot_grid(london)
    with pytest.raises(sg.CRSMismatchError, match="EPSG:4326"):
        sg.hotspot_grid(planted_points.to_crs(4326).set_crs(3857, allow_override=True).to_crs(4326))
    with pytest.raises(sg.InputError, match="must be a GeoDataFrame"):
        sg.hotspot_grid(pd.DataFrame({"x": [1]}))


def test_grid_leaves_out_sector_centroids_by_default(planted_points):
    points = planted_points.iloc[:400].assign(
        position_quality=pd.array([60] * 50 + [10] * 340 + [None] * 10, dtype="Int64")
    )
    default = sg.hotspot_grid(points, permutations=0).areas.attrs
    every = sg.hotspot_grid(points, permutations=0, min_position_quality=None).areas.attrs
    assert default["n_low_position_quality"] == 50
    assert default["min_position_quality"] == 50
    assert every["n_low_position_quality"] == 0
    assert default["n_counted"] + default["n_outside"] == 350
    assert every["n_counted"] + every["n_outside"] == 400
    assert default["n_no_location"] == every["n_no_location"] == 0
    with pytest.raises(sg.InputError, match="min_position_quality must be a whole number"):
        sg.hotspot_grid(points, min_position_quality="coarse")


def test_grid_rows_without_a_location_are_counted(planted_points):
    points = planted_points.iloc[:400].copy()
    points.loc[points.index[:3], "geometry"] = None
    result = sg.hotspot_grid(points, permutations=0)
    assert result.areas.attrs["n_no_location"] == 3
    attrs = result.areas.attrs
    assert attrs["n_counted"] + attrs["n_outside"] == 397
    assert attrs["n_counted"] == int(result.areas["n_organisations"].sum()) > 200


# ---------------------------------------------------------------- the public names


@pytest.mark.parametrize("name", ["hotspots", "hotspot_grid"])
def test_exported_functions_are_not_shadowed_by_a_module(name):
    import importlib
    import inspect

    for module in set(sg._EXPORTS.values()):
        importlib.import_module(module)
    value = getattr(sg, name)
    assert inspect.isfunction(value), f"socecon_geo.{name} is {type(value).__name__}"
    doc = inspect.getdoc(value) or ""
    assert "Parameters" in doc
    assert "Returns" in doc
    assert sg.HotspotResult.__module__ == "socecon_geo.hotspot_stats"


def test_grid_over_another_geography():
    wards = gpd.GeoDataFrame(
        {
            "WD24CD": ["E05000001", "E05000002"],
            "WD24NM": ["North", "South"],
            "LAD24CD": ["E08000001"] * 2,
            "LAD24NM": ["Town"] * 2,
        },
        geometry=[box(400_000, 285_000, 410_000, 290_000), box(400_000, 280_000, 410_000, 285_000)],
        crs=27700,
    )
    town = sg.Geography.from_files(name="Town", wards=wards)
    points = gpd.GeoDataFrame(
        geometry=[Point(402_000 + i % 5 * 30, 282_000 + i % 4 * 30) for i in range(30)],
        crs=27700,
    )
    result = sg.hotspot_grid(points, geography=town, cell_m=1_000.0, permutations=0)
    assert result.areas.attrs["boundary"] == "the 2 areas of the 'ward' layer of Town"
    assert int(result.areas["n_organisations"].sum()) == 30
    assert result.counts["hot_99"] >= 1
    with pytest.raises(sg.InputError, match=r"geography must be a socecon_geo\.Geography"):
        sg.hotspot_grid(points, geography="Town")

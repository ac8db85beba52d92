"""Tests of assign_areas (socecon_geo.areas) and summarise_areas (socecon_geo.summaries)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from socecon_geo._errors import CRSMismatchError, InputError, SocEconGeoWarning
from socecon_geo.areas import AREA_METHODS, AREA_STATUSES, assign_areas
from socecon_geo.population import read_population
from socecon_geo.summaries import _global_eb, summarise_areas

WMCA = [f"E080000{n}" for n in range(25, 32)]
TOWN, OTHER = "E08000001", "E08000002"


# --------------------------------------------------------------------------------------
# a fabricated town: 200 m x 200 m, two wards, LSOAs 2011 and 2021
#
#   LSOA 2011: A (0-100, 0-100) unchanged; B (100-200, 0-100) split in 2021 into
#   E01100001 (100-150) and E01100002 (150-200); C (0-100, 100-200) and D (100-200,
#   100-200) merged into E01100003. Wards: south (y < 100) and north. A neighbouring
#   authority (200-400, 0-200) has no wards.


def _gdf(data: dict, geometry: list, crs: int | str | None = 27700) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)


@pytest.fixture
def town() -> dict[str, gpd.GeoDataFrame]:
    lsoas11 = _gdf(
        {
            "lsoa11_code": ["E01000001", "E01000002", "E01000003", "E01000004"],
            "lad_code": [TOWN] * 4,
        },
        [
            box(0, 0, 100, 100),
            box(100, 0, 200, 100),
            box(0, 100, 100, 200),
            box(100, 100, 200, 200),
        ],
    )
    lsoas21 = _gdf(
        {
            "lsoa21_code": ["E01000001", "E01100001", "E01100002", "E01100003"],
            "lsoa21_name": ["Town 001A", "Town 001E", "Town 001F", "Town 001G"],
        },
        [box(0, 0, 100, 100), box(100, 0, 150, 100), box(150, 0, 200, 100), box(0, 100, 200, 200)],
    )
    wards = _gdf(
        {
            "ward_code": ["E05000001", "E05000002"],
            "ward_name": ["South", "North"],
            "lad_code": [TOWN, TOWN],
            "lad_name": ["Town", "Town"],
        },
        [box(0, 0, 200, 100), box(0, 100, 200, 200)],
    )
    authorities = _gdf(
        {"lad_code": [TOWN, OTHER], "lad_name": ["Town", "Other"]},
        [box(0, 0, 200, 200), box(200, 0, 400, 200)],
    )
    return {"lsoas11": lsoas11, "lsoas21": lsoas21, "wards": wards, "authorities": authorities}


@pytest.fixture
def lookup_path(test_data: Path) -> Path:
    return test_data / "areas" / "lsoa11_lsoa21_lookup.csv"


def _orgs(rows: list[tuple], *, index: list | None = None) -> gpd.GeoDataFrame:
    """rows: (org_id, geometry, postcode lsoa11, postcode ward, postcode lad)."""
    return _gdf(
        {
            "org_id": [r[0] for r in rows],
            "postcode_lsoa11_code": pd.array([r[2] for r in rows], dtype="string"),
            "postcode_ward_code": pd.array([r[3] for r in rows], dtype="string"),
            "postcode_lad_code": pd.array([r[4] for r in rows], dtype="string"),
        },
        [r[1] for r in rows],
    ).set_axis(index if index is not None else range(len(rows)))


# --------------------------------------------------------------------------------------
# assign_areas


# (org_id, point, postcode LSOA 2011, postcode ward, postcode authority): every way
# through assign_areas with the ``town`` layers and lookup
EVERY_CASE = [
    ("unchanged", Point(50, 50), "E01000001", "E05000001", TOWN),
    ("split", Point(120, 50), "E01000002", "E05000001", TOWN),
    ("merged", Point(50, 150), "E01000003", "E05000002", TOWN),
    ("border", Point(150, 50), None, None, None),
    ("corner", Point(100, 100), None, None, None),
    ("no_wards_here", Point(300, 50), None, None, None),
    ("far_away", Point(5000, 5000), None, None, None),
    ("nothing", None, None, None, None),
    ("split_no_point", None, "E01000002", "E05000001", TOWN),
    ("split_outside", Point(210, 50), "E01000002", "E05000001", TOWN),
]


def test_assign_areas_every_method_and_status(town, lookup_path):
    orgs = _orgs(EVERY_CASE, index=[90, 80, 70, 60, 50, 40, 30, 20, 10, 0])
    out = assign_areas(orgs, **town, lsoa_lookup=lookup_path)
    assert list(out.index) == [90, 80, 70, 60, 50, 40, 30, 20, 10, 0]
    assert list(out["org_id"]) == list(orgs["org_id"])
    got = out.set_index("org_id")

    def row(org: str) -> dict:
        return {k: (None if pd.isna(v) else v) for k, v in got.loc[org].items()}

    unchanged = row("unchanged")
    assert unchanged["lsoa21_code"] == "E01000001"
    assert unchanged["lsoa21_method"] == "lsoa11_lookup_unchanged"
    assert unchanged["lsoa11_method"] == unchanged["ward_method"] == "postcode_table"
    assert unchanged["ward_name"] == "South"
    assert unchanged["lad_name"] == "Town"
    assert unchanged["area_status"] == "assigned"
    assert unchanged["area_method"] == "lsoa11_lookup_unchanged"

    assert row("split")["lsoa21_code"] == "E01100001"
    assert row("split")["lsoa21_method"] == "lsoa11_lookup_split_pip"
    assert row("merged")["lsoa21_code"] == "E01100003"
    assert row("merged")["lsoa21_method"] == "lsoa11_lookup_merged"

    # on the border of two LSOAs 2021: the code sorting first, found by point in polygon
    border = row("border")
    assert border["lsoa21_code"] == "E01100001"
    assert border["lsoa21_method"] == "point_in_polygon"
    assert border["lsoa11_code"] == "E01000002"
    assert border["ward_code"] == "E05000001"
    assert border["lad_code"] == TOWN
    assert border["lad_method"] == "parent_of_ward"
    assert border["area_status"] == "assigned"

    # the corner of four LSOAs 2011, three LSOAs 2021 and both wards: one of each
    corner = row("corner")
    assert corner["lsoa11_code"] == "E01000001"
    assert corner["lsoa21_code"] == "E01000001"
    assert corner["ward_code"] == "E05000001"

    no_wards = row("no_wards_here")
    assert no_wards["lad_code"] == OTHER
    assert no_wards["lad_method"] == "point_in_polygon"
    assert no_wards["ward_code"] is None
    assert no_wards["area_status"] == "partial"

    assert row("far_away")["area_status"] == "outside_areas"
    assert row("far_away")["lsoa21_code"] is None
    assert row("nothing")["area_status"] == "no_location"

    ambiguous = row("split_no_point")
    assert ambiguous["lsoa21_code"] is None
    assert ambiguous["lsoa21_method"] == "ambiguous_split"
    assert ambiguous["area_method"] == "ambiguous_split"
    assert ambiguous["ward_code"] == "E05000001"
    assert ambiguous["area_status"] == "partial"

    nearest = row("split_outside")
    assert nearest["lsoa21_code"] == "E01100002"
    assert nearest["lsoa21_method"] == "lsoa11_lookup_split_nearest"

    assert list(out["area_status"].cat.categories) == list(AREA_STATUSES)
    assert list(out["area_method"].cat.categories) == list(AREA_METHODS)
    for column in ("lsoa21_code", "lsoa11_code", "ward_code", "ward_name", "lad_code"):
        assert out[column].dtype == "string"
    assert out.attrs["assign_areas"]["status_counts"]["assigned"] == 6
    assert "geometry" in out
    assert out.crs == orgs.crs
    # the input is not changed
    assert "lsoa21_code" not in orgs.columns


def test_assign_areas_splits_without_boundaries_are_ambiguous(lookup_path):
    orgs = _orgs(
        [
            ("split", Point(120, 50), "E01000002", None, None),
            ("merged", Point(50, 150), "E01000004", None, None),
            ("irregular", Point(10, 10), "E01000009", None, None),
        ]
    )
    out = assign_areas(orgs, lsoa_lookup=lookup_path)
    assert out["lsoa21_code"].isna().tolist() == [True, False, False]
    assert out["lsoa21_method"].tolist() == [
        "ambiguous_split",
        "lsoa11_lookup_merged",
        "lsoa11_lookup_complex",
    ]
    # authority from the lookup's LAD 2022 column, by the LSOA
    assert out["lad_code"].tolist() == [TOWN] * 3
    assert out["lad_method"].tolist() == ["parent_of_lsoa"] * 3
    assert out["area_status"].tolist() == ["partial", "assigned", "assigned"]


def test_assign_areas_lsoa11_back_from_lsoa21(town, lookup_path):
    orgs = _orgs([("p", Point(120, 50), None, None, None), ("q", Point(50, 150), None, None, None)])
    out = assign_areas(orgs, lsoas21=town["lsoas21"], lsoa_lookup=lookup_path)
    assert out["lsoa21_code"].tolist() == ["E01100001", "E01100003"]
    # a split part has one parent; a merged LSOA has two, so no single 2011 code
    assert out["lsoa11_code"].tolist()[0] == "E01000002"
    assert pd.isna(out["lsoa11_code"].iloc[1])
    assert out["lsoa11_method"].tolist()[0] == "lsoa21_lookup"


def test_assign_areas_postcode_ward_of_another_vintage(town):
    orgs = _orgs(
        [
            # an old ward code of this town: replaced by the ward containing the point
            ("old_code", Point(50, 150), None, "E05999999", TOWN),
            # a ward code of another authority whose point falls in this town (generalised
            # boundaries): the postcode's code is kept, the organisation is outside
            ("elsewhere", Point(50, 150), None, "E05888888", "E08000099"),
        ]
    )
    out = assign_areas(orgs, wards=town["wards"])
    assert out["ward_code"].tolist() == ["E05000002", "E05888888"]
    assert out["ward_method"].tolist() == ["point_in_polygon", "postcode_table"]
    assert out["lad_code"].tolist() == [TOWN, "E08000099"]
    assert out["area_status"].tolist() == ["assigned", "outside_areas"]


def test_assign_areas_codes_only_and_bestfit_names(town):
    bestfit = pd.DataFrame(
        {
            "lsoa21_code": ["E01000001", "E01100003"],
            "ward24_code": ["E05000001", "E05000002"],
            "ward24_name": ["South", "North"],
            "ltla24_code": [TOWN, TOWN],
            "ltla24_name": ["Town", "Town"],
        }
    )
    orgs = _orgs([("a", None, "E01000001", "E05000002", TOWN)])
    out = assign_areas(orgs, area_lookup=bestfit)
    assert out["ward_name"].iloc[0] == "North"
    assert out["lad_name"].iloc[0] == "Town"
    assert out["area_status"].iloc[0] == "assigned"
    # a ward found only through the LSOA 2021 by best fit
    only_point = _orgs([("b", Point(50, 150), None, None, None)])
    out = assign_areas(only_point, lsoas21=town["lsoas21"], area_lookup=bestfit)
    assert out["ward_code"].iloc[0] == "E05000002"
    assert out["ward_method"].iloc[0] == "lsoa21_bestfit_lookup"
    assert out["lad_method"].iloc[0] == "parent_of_ward"


def test_assign_areas_uses_postcode_lsoa21_codes(town, lookup_path):
    orgs = _orgs([("a", Point(120, 50), "E01000002", None, None)])
    orgs["postcode_lsoa21_code"] = pd.array(["E01100002"], dtype="string")
    out = assign_areas(orgs, lsoas21=town["lsoas21"], lsoa_lookup=lookup_path)
    # the postcode's own LSOA 2021 wins over the point (which lies in E01100001)
    assert out["lsoa21_code"].iloc[0] == "E01100002"
    assert out["lsoa21_method"].iloc[0] == "postcode_table"


def test_assign_areas_official_column_names(town):
    official = town["wards"].rename(
        columns={"ward_code": "WD24CD", "ward_name": "WD24NM", "lad_code": "LAD24CD"}
    )
    out = assign_areas(_orgs([("a", Point(10, 150), None, None, None)]), wards=official)
    assert out["ward_code"].iloc[0] == "E05000002"
    assert out["ward_name"].iloc[0] == "North"
    assert out["lad_code"].iloc[0] == TOWN


def test_assign_areas_reads_a_boundary_file(town, tmp_path):
    # moved to Birmingham: near the grid origin WGS84 round trips are not exact
    x, y = 407_000, 287_000
    path = tmp_path / "wards.geojson"
    official = town["wards"].rename(columns={"ward_code": "WD24CD", "ward_name": "WD24NM"})
    official.translate(x, y).pipe(official.set_geometry).to_crs(4326).to_file(path)
    out = assign_areas(_orgs([("a", Point(x + 10, y + 150), None, None, None)]), wards=path)
    # a file is reprojected on reading, unlike a frame
    assert out["ward_code"].iloc[0] == "E05000002"
    assert out["ward_name"].iloc[0] == "North"


def test_assign_areas_duplicate_index_kept():
    wards = _gdf({"ward_code": ["E05000001"]}, [box(0, 0, 10, 10)])
    orgs = _orgs(
        [("a", Point(1, 1), None, None, None), ("b", Point(50, 50), None, None, None)],
        index=[7, 7],
    )
    out = assign_areas(orgs, wards=wards)
    assert list(out.index) == [7, 7]
    assert out["ward_code"].tolist()[0] == "E05000001"
    assert pd.isna(out["ward_code"].tolist()[1])


GRID = _gdf(
    {"ward_code": [f"E0500000{i}" for i in range(4)]},
    [box(0, 0, 50, 50), box(50, 0, 100, 50), box(0, 50, 50, 100), box(50, 50, 100, 100)],
)


@settings(max_examples=30, deadline=None)
@given(
    coords=st.lists(
        st.one_of(
            st.none(),
            # whole numbers hit the shared borders at 50 and the outer edges often
            # (not below 0: that is outside the British National Grid)
            st.tuples(st.integers(0, 110), st.integers(0, 110)),
        ),
        min_size=1,
        max_size=25,
    ),
    index=st.sampled_from(["range", "reversed", "repeated"]),
)
def test_assign_areas_one_area_per_point(coords, index):
    labels = {
        "range": list(range(len(coords))),
        "reversed": list(range(len(coords)))[::-1],
        "repeated": [3] * len(coords),
    }[index]
    orgs = _orgs(
        [(i, None if c is None else Point(*c), None, None, None) for i, c in enumerate(coords)],
        index=labels,
    )
    out = assign_areas(orgs, wards=GRID)
    assert len(out) == len(orgs)
    assert list(out.index) == labels
    assert out["org_id"].tolist() == list(range(len(coords)))
    for c, code, status in zip(coords, out["ward_code"], out["area_status"], strict=True):
        if c is None:
            assert status == "no_location"
            continue
        hits = sorted(GRID.loc[GRID.intersects(Point(*c)), "ward_code"])
        if hits:
            assert code == hits[0]
            assert status == "assigned"
        else:
            assert pd.isna(code)
            assert status == "outside_areas"


def test_assign_areas_empty_points_is_an_error(town):
    empty = _orgs([("a", Point(1, 1), None, None, None)]).iloc[0:0]
    with pytest.raises(InputError, match="points is empty: there are no organisations"):
        assign_areas(empty, wards=town["wards"])


def test_assign_areas_areas_in_a_geographic_crs(town):
    wgs84 = town["wards"].to_crs(4326)
    orgs = _orgs([("a", Point(50, 50), None, None, None)])
    with pytest.raises(CRSMismatchError, match=r"geographic CRS \(EPSG:4326.*to_crs\(27700\)"):
        assign_areas(orgs, wards=wgs84)


def test_assign_areas_crs_problems(town):
    orgs = _orgs([("a", Point(50, 50), None, None, None)])
    with pytest.raises(
        CRSMismatchError, match="layer is in EPSG:3857 and the points in EPSG:27700"
    ):
        assign_areas(orgs, wards=town["wards"].to_crs(3857))
    with pytest.raises(CRSMismatchError, match=r"points is in a geographic CRS"):
        assign_areas(orgs.set_crs(4326, allow_override=True), wards=town["wards"])
    with pytest.raises(CRSMismatchError, match="has no CRS"):
        assign_areas(orgs, wards=town["wards"].set_crs(None, allow_override=True))


def test_assign_areas_lsoa_vintage_mismatch(town, lookup_path):
    orgs = _orgs([("a", Point(50, 50), None, None, None)])
    with pytest.raises(InputError, match=r"LSOA vintage mismatch.*holds LSOA 2011 codes"):
        assign_areas(orgs, lsoas21=town["lsoas11"])
    # codes under the right column name, but of the other vintage (caught by the lookup)
    relabelled = town["lsoas11"].rename(columns={"lsoa11_code": "lsoa21_code"})
    with pytest.raises(InputError, match=r"LSOA vintage mismatch.*exist only in LSOA 2011"):
        assign_areas(orgs, lsoas21=relabelled, lsoa_lookup=lookup_path)


def test_assign_areas_bad_inputs(town):
    orgs = _orgs([("a", Point(50, 50), None, None, None)])
    with pytest.raises(InputError, match="must be a GeoDataFrame"):
        assign_areas(pd.DataFrame(orgs.drop(columns="geometry")), wards=town["wards"])
    nameless = town["wards"].rename(columns={"ward_code": "code"})
    with pytest.raises(InputError, match="no 'ward_code' column"):
        assign_areas(orgs, wards=nameless)
    lines = _gdf({"ward_code": ["E05000001"]}, [Point(50, 50).buffer(5).exterior])
    with pytest.raises(InputError, match="not polygons"):
        assign_areas(orgs, wards=lines)
    with pytest.raises(InputError, match="lsoa21"):
        assign_areas(orgs, lsoa_lookup=pd.DataFrame({"lsoa11_code": ["E01000001"]}))


# --------------------------------------------------------------------------------------
# summarise_areas: hand-computed examples

LSOA_CODES = ["E01900001", "E01900002", "E01900003", "E01900004"]


@pytest.fixture
def four_lsoas() -> gpd.GeoDataFrame:
    # four 100 m squares in a row
    return _gdf(
        {"lsoa21_code": LSOA_CODES},
        [box(100 * i, 0, 100 * (i + 1), 100) for i in range(4)],
    )


def _coded(codes: list, **columns) -> gpd.GeoDataFrame:
    return _gdf(
        {"lsoa21_code": pd.array(codes, dtype="string"), **columns},
        [Point(1, 1) if code else None for code in codes],
    )


def _population(values: list[float], codes: list[str] = LSOA_CODES) -> pd.DataFrame:
    return read_population(pd.DataFrame({"lsoa21_code": codes, "usual_residents": values}))


def test_summarise_rate_and_location_quotient_by_hand(four_lsoas):
    orgs = _coded(
        ["E01900001", "E01900001", "E01900002", None],
        org_type=pd.Categorical(
            ["charity", "co_operative", "charity", "charity"],
            categories=["charity", "co_operative", "other"],
        ),
        sic_section=["Q", "Q", "G", "S"],
        area_status=["assigned", "assigned", "assigned", "no_location"],
    )
    areas = four_lsoas.iloc[:3]
    summary = summarise_areas(orgs, areas, population=_population([1000, 2000, 5000, 10]))
    assert summary["n_organisations"].tolist() == [2, 1, 0]
    assert summary["n_charity"].tolist() == [1, 1, 0]
    assert summary["n_co_operative"].tolist() == [1, 0, 0]
    assert summary["n_other"].tolist() == [0, 0, 0]
    assert summary["n_sic_Q"].tolist() == [2, 0, 0]
    assert summary["n_sic_G"].tolist() == [0, 1, 0]
    assert summary["top_sector"].tolist()[:2] == ["Q", "G"]
    assert pd.isna(summary["top_sector"].iloc[2])
    # 2 / 1000 residents * 10,000 = 20; 1 / 2000 * 10,000 = 5
    assert summary["rate_per_10k"].tolist() == pytest.approx([20.0, 5.0, 0.0])
    # LQ = (2 / 1000) / (3 / 8000) = 16 / 3; (1 / 2000) / (3 / 8000) = 4 / 3
    assert summary["lq"].tolist() == pytest.approx([16 / 3, 4 / 3, 0.0])
    # global EB: m = 3/8000, s² = 4.21875e-7, A = s² - m/p̄ = 2.8125e-7,
    # w(1000) = A / (A + m/1000) = 3/7 -> 3/7 * 20 + 4/7 * 3.75 = 75/7
    assert summary["rate_per_10k_eb"].iloc[0] == pytest.approx(75 / 7)
    assert summary["population"].tolist() == [1000.0, 2000.0, 5000.0]
    assert summary["population_source"].tolist() == ["Census 2021 usual residents"] * 3
    assert summary["small_population"].tolist() == [False, False, False]
    assert summary.attrs["n_counted"] == 3
    assert summary.attrs["unassigned"] == {"no_location": 1}
    assert summary.attrs["level"] == "lsoa21"
    assert summary.attrs["aggregation_method"] == "direct"
    assert list(summary.index) == list(areas.index)
    assert summary.geometry.equals(areas.geometry)


def test_summarise_counts_a_duplicate_once(four_lsoas):
    orgs = _coded(
        ["E01900001", "E01900001", "E01900002"],
        duplicate_of=pd.array([pd.NA, "coopsuk:R1", pd.NA], dtype="string"),
        area_status=["assigned"] * 3,
    )
    before = orgs.copy()
    summary = summarise_areas(
        orgs, four_lsoas.iloc[:3], population=_population([1000, 2000, 5000, 10])
    )
    assert summary["n_organisations"].tolist() == [1, 1, 0]
    assert summary.attrs["unassigned"] == {"duplicate": 1}
    pd.testing.assert_frame_equal(orgs, before)


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_summarise_warns_when_rates_cannot_be_computed(two_wards):
    orgs = gpd.GeoDataFrame({"ward_code": ["E05900001"]}, geometry=[Point(50, 50)], crs=27700)
    with pytest.warns(SocEconGeoWarning, match="no population, so rate_per_10k"):
        summary = summarise_areas(orgs, two_wards)
    assert summary["rate_per_10k"].isna().all()


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_summarise_zero_areas_and_unknown_population(four_lsoas):
    orgs = _coded(["E01900004", "E01999999"])
    summary = summarise_areas(
        orgs, four_lsoas, population=_population([1000, 2000, 900], LSOA_CODES[:3])
    )
    assert summary["n_organisations"].tolist() == [0, 0, 0, 1]
    assert summary["small_population"].tolist()[:3] == [False, False, True]
    assert pd.isna(summary["small_population"].iloc[3])
    assert math.isnan(summary["rate_per_10k"].iloc[3])
    assert pd.isna(summary["population_source"].iloc[3])
    assert summary.attrs["unassigned"] == {"code_not_in_areas": 1}
    # no population at all: counts only
    bare = summarise_areas(orgs, four_lsoas)
    assert bare["n_organisations"].sum() == 1
    assert bare["rate_per_10k"].isna().all()


def test_global_eb_matches_esda_and_shrinks_fully_without_spread():
    from esda.smoothing import Empirical_Bayes

    counts = np.array([2.0, 1.0, 0.0, 7.0, 3.0])
    population = np.array([1000.0, 2000.0, 5000.0, 1500.0, 2500.0])
    ours = _global_eb(counts, population)
    theirs = Empirical_Bayes(counts, population).r.ravel()
    np.testing.assert_allclose(ours, theirs)
    # no more spread than Poisson noise: every area gets the overall rate (A set to 0)
    even = _global_eb(np.array([1.0, 2.0]), np.array([1000.0, 2000.0]))
    np.testing.assert_allclose(even, [1 / 1000, 1 / 1000])


def _iod(scores: list[float], deciles: list[int], vintage: int = 2021) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "lsoa_code": LSOA_CODES,
            "imd_score": scores,
            "imd_decile": pd.array(deciles, dtype="Int64"),
        }
    )
    frame.attrs = {"vintage": "iod2025" if vintage == 2021 else "iod2019", "lsoa_vintage": vintage}
    return frame


@pytest.fixture
def two_wards() -> gpd.GeoDataFrame:
    return _gdf(
        {"ward_code": ["E05900001", "E05900002"], "ward_name": ["West", "East"]},
        [box(0, 0, 200, 100), box(200, 0, 400, 100)],
    )


def test_summarise_popweighted_imd_by_hand(two_wards):
    lookup = pd.DataFrame(
        {"lsoa21_code": LSOA_CODES, "ward24_code": ["E05900001"] * 2 + ["E05900002"] * 2}
    )
    orgs = gpd.GeoDataFrame(
        {"ward_code": ["E05900001", "E05900002", "E05900002"]},
        geometry=[Point(1, 1)] * 3,
        crs=27700,
    )
    summary = summarise_areas(
        orgs,
        two_wards,
        population=_population([1000, 3000, 2000, 2000]),
        deprivation=_iod([40.0, 20.0, 10.0, 50.0], [1, 3, 2, 1]),
        area_lookup=lookup,
    )
    # West: (1000*40 + 3000*20) / 4000 = 25; decile 1: 1000/4000; deciles 1-2: 1000/4000
    # East: (2000*10 + 2000*50) / 4000 = 30; decile 1: 2000/4000; deciles 1-2: 4000/4000
    assert summary["imd_score_popweighted"].tolist() == pytest.approx([25.0, 30.0])
    assert summary["share_pop_imd_decile1"].tolist() == pytest.approx([0.25, 0.5])
    assert summary["share_pop_imd_quintile1"].tolist() == pytest.approx([0.25, 1.0])
    assert summary["population"].tolist() == [4000.0, 4000.0]
    assert summary["rate_per_10k"].tolist() == pytest.approx([2.5, 5.0])
    assert summary["aggregation_method"].tolist() == ["bestfit_lookup"] * 2
    assert summary.attrs["deprivation_vintage"] == "iod2025"


def test_summarise_areal_overlap_by_hand(four_lsoas):
    # one ward over the first LSOA and half of the second
    ward = _gdf({"ward_code": ["E05900001"]}, [box(0, 0, 150, 100)])
    orgs = gpd.GeoDataFrame({"ward_code": ["E05900001"]}, geometry=[Point(1, 1)], crs=27700)
    summary = summarise_areas(
        orgs,
        ward,
        population=_population([1000, 3000, 2000, 2000]),
        deprivation=_iod([40.0, 20.0, 10.0, 50.0], [1, 3, 2, 1]),
        lsoas=four_lsoas,
    )
    # residents 1000 + 3000/2 = 2500; score (1000*40 + 1500*20) / 2500 = 28
    assert summary["population"].iloc[0] == pytest.approx(2500.0)
    assert summary["imd_score_popweighted"].iloc[0] == pytest.approx(28.0)
    assert summary["share_pop_imd_decile1"].iloc[0] == pytest.approx(0.4)
    assert summary.attrs["aggregation_method"] == "areal_overlap"


def test_summarise_lsoa_vintage_mismatch(test_data, four_lsoas, two_wards):
    orgs = _coded(["E01900001"])
    file6 = test_data / "areas" / "iod2019_file6_population.csv"
    with pytest.raises(InputError, match=r"LSOA vintage mismatch: population .*LSOA 2011"):
        summarise_areas(orgs, four_lsoas, population=file6)
    lookup = pd.DataFrame(
        {"lsoa21_code": LSOA_CODES, "ward_code": ["E05900001"] * 2 + ["E05900002"] * 2}
    )
    wards_orgs = gpd.GeoDataFrame({"ward_code": ["E05900001"]}, geometry=[Point(1, 1)], crs=27700)
    with pytest.raises(InputError, match=r"LSOA vintage mismatch: deprivation \(iod2019\)"):
        summarise_areas(
            wards_orgs,
            two_wards,
            population=_population([1, 2, 3, 4]),
            deprivation=_iod([1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4], vintage=2011),
            area_lookup=lookup,
        )
    with pytest.raises(InputError, match="LSOA vintage mismatch: level='lsoa11'"):
        summarise_areas(orgs, four_lsoas, level="lsoa11")


def test_summarise_areas_in_a_geographic_crs(four_lsoas):
    with pytest.raises(CRSMismatchError, match=r"areas is in a geographic CRS.*to_crs\(27700\)"):
        summarise_areas(_coded(["E01900001"]), four_lsoas.to_crs(4326))


def test_summarise_empty_points(four_lsoas):
    with pytest.raises(InputError, match="points is empty: there are no organisations"):
        summarise_areas(_coded(["E01900001"]).iloc[0:0], four_lsoas)


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_summarise_input_errors(four_lsoas, two_wards):
    orgs = _coded(["E01900001"])
    with pytest.raises(
        InputError, match=r"no 'ward_code' column.*assign_areas\(points, wards=areas\)"
    ):
        summarise_areas(orgs, two_wards)
    doubled = pd.concat([four_lsoas, four_lsoas.iloc[:1]])
    with pytest.raises(InputError, match=r"appear on more than one row.*dissolve"):
        summarise_areas(orgs, doubled)
    ward_orgs = gpd.GeoDataFrame({"ward_code": ["E05900001"]}, geometry=[Point(1, 1)], crs=27700)
    with pytest.raises(InputError, match="needs a way from LSOAs to wards"):
        summarise_areas(ward_orgs, two_wards, population=_population([1, 2, 3, 4]))
    partial_lookup = pd.DataFrame({"lsoa21_code": LSOA_CODES[:2], "ward_code": ["E05900001"] * 2})
    with pytest.raises(InputError, match="1 of 2 wards in areas have no LSOA in area_lookup"):
        summarise_areas(
            ward_orgs, two_wards, population=_population([1, 2, 3, 4]), area_lookup=partial_lookup
        )
    other_country = read_population(
        pd.DataFrame({"lsoa21_code": ["W01000001"], "usual_residents": [5]})
    )
    with pytest.raises(InputError, match="only 0 of 4 LSOAs of the areas are in population"):
        summarise_areas(orgs, four_lsoas, population=other_country)
    lookup = pd.DataFrame(
        {"lsoa21_code": LSOA_CODES, "ward_code": ["E05900001"] * 2 + ["E05900002"] * 2}
    )
    with pytest.raises(InputError, match="population-weighted IMD needs residents"):
        summarise_areas(
            ward_orgs, two_wards, deprivation=_iod([1.0] * 4, [1] * 4), area_lookup=lookup
        )


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_summarise_warns_about_codes_of_another_vintage(two_wards):
    wards = two_wards.assign(lad_code=TOWN)
    orgs = gpd.GeoDataFrame(
        {"ward_code": ["E05900001", "E05111111"], "lad_code": [TOWN, TOWN]},
        geometry=[Point(1, 1)] * 2,
        crs=27700,
    )
    with pytest.warns(
        SocEconGeoWarning, match="1 organisations .* have a ward_code the areas do not contain"
    ):
        summary = summarise_areas(orgs, wards)
    assert summary["n_organisations"].tolist() == [1, 0]


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_assign_then_summarise_round_trip(town, lookup_path):
    orgs = _orgs(
        [
            ("a", Point(50, 50), "E01000001", None, None),
            ("b", Point(120, 50), "E01000002", None, None),
            ("c", Point(20, 180), None, None, None),
            ("d", None, None, None, None),
        ]
    )
    placed = assign_areas(orgs, **town, lsoa_lookup=lookup_path)
    by_ward = summarise_areas(placed, town["wards"])
    assert by_ward["n_organisations"].tolist() == [2, 1]
    assert by_ward.attrs["unassigned"] == {"no_location": 1}
    by_lsoa = summarise_areas(placed, town["lsoas21"])
    assert by_lsoa["n_organisations"].tolist() == [1, 1, 0, 1]
    by_authority = summarise_areas(placed, town["authorities"])
    assert by_authority["n_organisations"].tolist() == [3, 0]


# --------------------------------------------------------------------------------------
# many organisations: codes are cleaned, looked up and counted once per distinct code


def _respell(frame: pd.DataFrame, columns: list[str], block: int, dtype: str) -> pd.DataFrame:
    """Spell codes as registers do, block by block: as given, lower case, padded."""
    out = frame.copy()
    variant = (np.arange(len(frame)) // block) % 3
    for column in columns:
        values = frame[column].astype(object).to_numpy().copy()
        for k, spell in ((1, str.lower), (2, lambda code: f"  {code} ")):
            pick = (variant == k) & np.array([isinstance(v, str) for v in values])
            values[pick] = [spell(v) for v in values[pick]]
        out[column] = pd.Series(values, index=frame.index, dtype=dtype)
    return out


@pytest.mark.parametrize("dtype", ["object", "string", "str", "category"])
def test_assign_areas_many_organisations_match_row_by_row(town, lookup_path, dtype):
    small = _orgs(
        [*EVERY_CASE, ("other_vintage_ward", Point(50, 50), "E01000001", "E05999999", TOWN)]
    )
    expected = assign_areas(small, **town, lsoa_lookup=lookup_path)
    repeats = 150  # 1,650 rows, with three spellings of every code
    codes = ["postcode_lsoa11_code", "postcode_ward_code", "postcode_lad_code"]
    many = _respell(pd.concat([small] * repeats, ignore_index=True), codes, len(small), dtype)
    out = assign_areas(many, **town, lsoa_lookup=lookup_path)
    tiled = pd.concat([expected] * repeats, ignore_index=True)
    added = ["lsoa21_code", "lsoa11_code", "ward_code", "ward_name", "lad_code", "lad_name"]
    added += ["lsoa21_method", "lsoa11_method", "ward_method", "lad_method", "area_method"]
    added += ["area_status"]
    pd.testing.assert_frame_equal(out[added], tiled[added])
    assert out.attrs["assign_areas"]["status_counts"] == {
        k: v * repeats for k, v in expected.attrs["assign_areas"]["status_counts"].items()
    }


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_summarise_many_organisations_match_a_plain_count(four_lsoas, dtype):
    rng = np.random.default_rng(3)
    n = 5000
    codes = rng.choice(np.array([*LSOA_CODES, "E01999999", None], dtype=object), n)
    types = rng.choice(np.array(["charity", "cic", None], dtype=object), n)
    sectors = rng.choice(np.array(["Q", "g", " s ", "", None], dtype=object), n)
    orgs = _respell(
        _gdf({"lsoa21_code": codes, "org_type": types, "sic_section": sectors}, [None] * n),
        ["lsoa21_code"],
        7,
        dtype,
    )
    orgs["org_type"] = pd.Series(types, dtype=dtype)
    orgs["sic_section"] = pd.Series(sectors, dtype=dtype)
    summary = summarise_areas(orgs, four_lsoas)

    # a plain row-by-row count of the same organisations
    clean_code = [c.strip().upper() if isinstance(c, str) else None for c in codes]
    clean_sector = [s.strip().upper() or None if isinstance(s, str) else None for s in sectors]
    frame = pd.DataFrame({"code": clean_code, "type": types, "sector": clean_sector})
    counted = frame[frame["code"].isin(LSOA_CODES)]
    by_code = [counted[counted["code"] == code] for code in LSOA_CODES]
    assert summary["n_organisations"].tolist() == [len(rows) for rows in by_code]
    for kind in ("charity", "cic"):
        assert summary[f"n_{kind}"].tolist() == [int((r["type"] == kind).sum()) for r in by_code]
    assert [c for c in summary.columns if c.startswith("n_sic_")] == [
        "n_sic_G",
        "n_sic_Q",
        "n_sic_S",
    ]
    for section in ("G", "Q", "S"):
        assert summary[f"n_sic_{section}"].tolist() == [
            int((r["sector"] == section).sum()) for r in by_code
        ]
    assert summary.attrs["n_counted"] == len(counted)
    assert summary.attrs["unassigned"] == {
        "no_code": int(frame["code"].isna().sum()),
        "code_not_in_areas": int((frame["code"] == "E01999999").sum()),
    }


# --------------------------------------------------------------------------------------
# the real data


@pytest.fixture(scope="module")
def real(request: pytest.FixtureRequest) -> dict:
    shared = request.getfixturevalue("shared_data")
    lsoas = gpd.read_file(shared / "boundaries" / "lsoa21_west_midlands_region_simplified.geojson")
    lsoas = lsoas[lsoas["LAD24CD"].isin(WMCA)].to_crs(27700).reset_index(drop=True)
    wards22 = gpd.read_file(shared / "boundaries" / "wards_dec2022_bsc_wmca.geojson").to_crs(27700)
    census = pd.read_csv(shared / "population" / "census2021_lsoa21_usual_residents.csv")
    bestfit = pd.read_csv(shared / "lookups" / "lsoa21_ward24_lad24_bestfit.csv")
    expected = (
        census.merge(bestfit, on="lsoa21_code")
        .loc[lambda t: t["ltla24_code"].isin(WMCA)]
        .groupby("ltla24_code")["usual_residents"]
        .sum()
    )
    # organisations: one at a point inside every other LSOA, one with no location
    every_other = lsoas.iloc[::2]
    orgs = gpd.GeoDataFrame(
        {
            "org_id": [f"org{i}" for i in range(len(every_other) + 1)],
            "org_type": pd.Categorical(
                np.resize(["charity", "co_operative"], len(every_other) + 1),
                categories=["charity", "co_operative", "other"],
            ),
        },
        geometry=[*every_other.geometry.representative_point(), None],
        crs=27700,
    )
    return {
        "shared": shared,
        "lsoas": lsoas,
        "wards22": wards22,
        "census": census,
        "bestfit": bestfit,
        "expected": expected,
        "orgs": orgs,
    }


@pytest.mark.shared_data
def test_real_lsoa21_summary_has_every_wmca_lsoa(real):
    lsoas = real["lsoas"]
    placed = assign_areas(real["orgs"], lsoas21=lsoas)
    population = real["shared"] / "population" / "census2021_lsoa21_usual_residents.csv"
    iod = real["shared"] / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv"
    summary = summarise_areas(placed, lsoas, population=population, deprivation=iod)
    assert len(summary) == 1719
    # an LSOA's own score and decile, with no weighting
    assert summary.attrs["imd_weighting"] == "LSOA itself"
    assert summary["imd_score_popweighted"].notna().all()
    assert summary["share_pop_imd_decile1"].isin([0.0, 1.0]).all()
    assert summary["lsoa21_code"].nunique() == 1719
    assert summary["n_organisations"].sum() == len(real["orgs"]) - 1
    assert (summary["n_organisations"] == 0).sum() >= 1719 - 860
    assert summary.attrs["unassigned"] == {"no_location": 1}
    by_lad = summary.groupby("LAD24CD")["population"].sum()
    pd.testing.assert_series_equal(
        by_lad.sort_index(), real["expected"].astype(float).sort_index(), check_names=False
    )
    census = real["census"].set_index("lsoa21_code")["usual_residents"]
    small = census.reindex(lsoas["LSOA21CD"]) < 1000
    assert summary["small_population"].astype(bool).tolist() == small.tolist()


@pytest.mark.shared_data
def test_real_ward_and_authority_summaries(real):
    from socecon_geo.deprivation import read_deprivation

    shared = real["shared"]
    lsoas = real["lsoas"]
    # 2024 wards (best fit) and authorities, dissolved from the LSOAs 2021
    wards = lsoas.dissolve(by="WD24CD", as_index=False)[["WD24CD", "WD24NM", "LAD24CD", "geometry"]]
    authorities = lsoas.dissolve(by="LAD24CD", as_index=False)[["LAD24CD", "LAD24NM", "geometry"]]
    iod = read_deprivation(shared / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv")
    population = read_population(shared / "population" / "census2021_lsoa21_usual_residents.csv")
    bestfit = shared / "lookups" / "lsoa21_ward24_lad24_bestfit.csv"
    placed = assign_areas(real["orgs"], lsoas21=lsoas, area_lookup=bestfit)
    options = {"population": population, "deprivation": iod, "area_lookup": bestfit}

    by_ward = summarise_areas(placed, wards, **options)
    assert len(by_ward) == 192
    assert by_ward["n_organisations"].sum() == len(real["orgs"]) - 1
    pd.testing.assert_series_equal(
        by_ward.groupby("lad_code")["population"].sum().sort_index(),
        real["expected"].astype(float).sort_index(),
        check_names=False,
    )
    by_lad = summarise_areas(placed, authorities, **options)
    assert by_lad["population"].tolist() == real["expected"].reindex(by_lad["lad_code"]).tolist()

    # population-weighted IMD and decile-1 share, computed independently
    table = (
        real["census"]
        .merge(real["bestfit"], on="lsoa21_code")
        .merge(
            iod[["lsoa_code", "imd_score", "imd_decile"]],
            left_on="lsoa21_code",
            right_on="lsoa_code",
        )
        .loc[lambda t: t["ltla24_code"].isin(WMCA)]
    )
    table["weighted"] = table["usual_residents"] * table["imd_score"]
    table["in_decile1"] = table["usual_residents"] * (table["imd_decile"] == 1)
    grouped = table.groupby("ltla24_code")[["weighted", "in_decile1", "usual_residents"]].sum()
    expected_score = grouped["weighted"] / grouped["usual_residents"]
    expected_share = grouped["in_decile1"] / grouped["usual_residents"]
    got = by_lad.set_index("lad_code")
    np.testing.assert_allclose(got["imd_score_popweighted"], expected_score.reindex(got.index))
    np.testing.assert_allclose(got["share_pop_imd_decile1"], expected_share.reindex(got.index))
    ward_table = table.groupby("ward24_code")[["weighted", "usual_residents"]].sum()
    got_wards = by_ward.set_index("ward_code")["imd_score_popweighted"]
    np.testing.assert_allclose(
        got_wards, (ward_table["weighted"] / ward_table["usual_residents"]).reindex(got_wards.index)
    )


@pytest.mark.shared_data
def test_real_bundled_wards(real):
    from socecon_geo.bundle import load_wards

    wards = load_wards()
    bestfit = real["shared"] / "lookups" / "lsoa21_ward24_lad24_bestfit.csv"
    population = real["shared"] / "population" / "census2021_lsoa21_usual_residents.csv"
    placed = assign_areas(real["orgs"], wards=wards)
    summary = summarise_areas(placed, wards, population=population, area_lookup=bestfit)
    assert len(summary) == 192
    assert summary["n_organisations"].sum() == placed["ward_code"].notna().sum()
    pd.testing.assert_series_equal(
        summary.groupby("lad_code")["population"].sum().sort_index(),
        real["expected"].astype(float).sort_index(),
        check_names=False,
        check_index_type=False,
    )


@pytest.mark.shared_data
def test_real_dec2022_wards_by_areal_overlap(real):
    wards22 = real["wards22"]
    placed = assign_areas(real["orgs"], wards=wards22)
    population = real["shared"] / "population" / "census2021_lsoa21_usual_residents.csv"
    summary = summarise_areas(placed, wards22, population=population, lsoas=real["lsoas"])
    assert len(summary) == 192
    assert summary["ward_code"].tolist() == wards22["WD22CD"].tolist()
    assert summary["n_organisations"].sum() == placed["ward_code"].notna().sum()
    # super-generalised ward outlines and simplified LSOAs do not match exactly: residents
    # shift a little between neighbouring authorities and out at the WMCA edge
    by_lad = summary.groupby("lad_code")["population"].sum()
    np.testing.assert_allclose(by_lad, real["expected"].reindex(by_lad.index), rtol=0.02)
    assert by_lad.sum() == pytest.approx(real["expected"].sum(), rel=0.01)
    assert summary.attrs["aggregation_method"] == "areal_overlap"


@pytest.mark.shared_data
def test_real_split_lsoas_converted(real):
    shared = real["shared"]
    lookup = pd.read_csv(shared / "lookups" / "lsoa11_lsoa21_lad22.csv")
    split = lookup[(lookup["change_code"] == "S") & lookup["ltla22_code"].isin(WMCA)]
    parts = real["lsoas"].set_index("LSOA21CD").loc[split["lsoa21_code"]]
    orgs = gpd.GeoDataFrame(
        {"postcode_lsoa11_code": split["lsoa11_code"].to_numpy()},
        geometry=parts.geometry.representative_point().to_numpy(),
        crs=27700,
    )
    path = shared / "lookups" / "lsoa11_lsoa21_lad22.csv"
    resolved = assign_areas(orgs, lsoas21=real["lsoas"], lsoa_lookup=path)
    assert resolved["lsoa21_code"].tolist() == split["lsoa21_code"].tolist()
    assert set(resolved["lsoa21_method"]) == {"lsoa11_lookup_split_pip"}
    unresolved = assign_areas(orgs, lsoa_lookup=path)
    assert unresolved["lsoa21_code"].isna().all()
    assert set(unresolved["lsoa21_method"]) == {"ambiguous_split"}


# --------------------------------------------------------------------------------------
# regressions


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_empty_geometries_and_odd_geometry_column_do_not_warn_or_mutate():
    wards = _gdf(
        {"ward_code": ["E05000001", "E05000002"], "lad_code": [TOWN, TOWN]},
        [box(0, 500, 1000, 1000), box(0, 0, 1000, 500)],
    ).set_axis([10, 10])
    wards = pd.concat([wards, _gdf({"ward_code": ["E05000003"], "lad_code": [TOWN]}, [Polygon()])])
    orgs = _gdf(
        {
            "org_id": list("abcd"),
            "postcode_ward_code": pd.array([" e05000001", None, None, None], dtype="string"),
        },
        [Point(1, 900), None, Point(1, 1), Polygon()],
    ).set_axis([5, 5, 3, 1])
    orgs = orgs.rename_geometry("geom")
    orgs_before, wards_before = orgs.copy(), wards.copy()
    out = assign_areas(orgs, wards=wards)  # filterwarnings = error: no warning allowed
    pd.testing.assert_frame_equal(orgs, orgs_before)
    pd.testing.assert_frame_equal(wards, wards_before)
    assert out.geometry.name == "geom"
    assert list(out.index) == [5, 5, 3, 1]
    assert out["ward_code"].tolist()[::2] == ["E05000001", "E05000002"]
    assert out["area_status"].tolist() == ["assigned", "no_location", "assigned", "no_location"]
    summary = summarise_areas(out, wards.iloc[:2])
    assert summary["n_organisations"].tolist() == [1, 1]
    pd.testing.assert_frame_equal(orgs, orgs_before)


@pytest.mark.filterwarnings("ignore:summarise_areas has no population")
def test_summarise_types_spelt_alike_share_one_column(four_lsoas):
    orgs = _coded(
        ["E01900001", "E01900001", "E01900002", "E01900002"],
        org_type=["charity", "Charity", "charity ", "club"],
    )
    summary = summarise_areas(orgs, four_lsoas)
    assert summary["n_charity"].tolist() == [2, 1, 0, 0]
    assert summary["n_club"].tolist() == [0, 1, 0, 0]


def test_summarise_imd_missing_where_an_lsoa_of_the_area_lacks_it(two_wards):
    codes = [*LSOA_CODES, "E01900005"]
    lookup = pd.DataFrame(
        {"lsoa21_code": codes, "ward24_code": ["E05900001"] * 2 + ["E05900002"] * 3}
    )
    orgs = _gdf({"ward_code": ["E05900001"]}, [Point(1, 1)])
    # East's third LSOA (1000 residents) has no IMD: its share of residents in decile 1
    # is 2000 / 5000 or more, not 2000 / 4000; it must be missing, not 0.5.
    summary = summarise_areas(
        orgs,
        two_wards,
        population=_population([1000, 3000, 2000, 2000, 1000], codes),
        deprivation=_iod([40.0, 20.0, 10.0, 50.0], [1, 3, 2, 1]),
        area_lookup=lookup,
    )
    assert summary["imd_score_popweighted"].iloc[0] == pytest.approx(25.0)
    assert summary["share_pop_imd_decile1"].iloc[0] == pytest.approx(0.25)
    assert (
        summary[["imd_score_popweighted", "share_pop_imd_decile1", "share_pop_imd_quintile1"]]
        .iloc[1]
        .isna()
        .all()
    )
    # the same when the LSOA has IMD but no population
    iod = _iod([40.0, 20.0, 10.0, 50.0], [1, 3, 2, 1])
    iod = pd.concat(
        [iod, pd.DataFrame({"lsoa_code": ["E01900005"], "imd_score": [90.0], "imd_decile": [1]})],
        ignore_index=True,
    )
    iod.attrs = {"vintage": "iod2025", "lsoa_vintage": 2021}
    summary = summarise_areas(
        orgs,
        two_wards,
        population=_population([1000, 3000, 2000, 2000]),
        deprivation=iod,
        area_lookup=lookup,
    )
    assert math.isnan(summary["population"].iloc[1])
    assert math.isnan(summary["share_pop_imd_decile1"].iloc[1])
    assert summary["share_pop_imd_quintile1"].iloc[0] == pytest.approx(0.25)


def test_population_frame_with_repeated_codes_is_an_error(four_lsoas):
    points = gpd.GeoDataFrame(
        {"lsoa21_code": ["E01000001"], "org_type": ["charity"]},
        geometry=[None],
        crs=27700,
    )
    population = pd.DataFrame(
        {"lsoa_code": ["e01000001 ", "E01000001"], "population": [1500, 1600]}
    )
    with pytest.raises(InputError, match=r"more than once.*E01000001"):
        summarise_areas(points, four_lsoas, population=population)


# --------------------------------------------------------------------------------------
# input errors that name what is wrong and how to fix it


def test_summarise_area_lookup_errors(two_wards):
    orgs = gpd.GeoDataFrame({"ward_code": ["E05900001"]}, geometry=[Point(1, 1)], crs=27700)
    population = _population([1000, 3000, 2000, 2000])
    no_ward = pd.DataFrame({"lsoa21_code": LSOA_CODES, "district": ["x"] * 4})
    with pytest.raises(InputError, match=r"area_lookup must map LSOA codes .* to 'ward_code'"):
        summarise_areas(orgs, two_wards, population=population, area_lookup=no_ward)
    # an LSOA in two wards: not a best-fit lookup
    shared = pd.DataFrame(
        {
            "lsoa21_code": [*LSOA_CODES, "E01900001"],
            "ward_code": ["E05900001"] * 2 + ["E05900002"] * 3,
        }
    )
    with pytest.raises(InputError, match=r"puts LSOA E01900001 .* in several wards"):
        summarise_areas(orgs, two_wards, population=population, area_lookup=shared)


def test_summarise_argument_errors(four_lsoas):
    orgs = _coded(["E01900001"])
    with pytest.raises(InputError, match=r"areas has no rows"):
        summarise_areas(orgs, four_lsoas.iloc[:0])
    with pytest.raises(InputError, match=r"areas has none of the code columns .* it has name"):
        summarise_areas(orgs, four_lsoas.rename(columns={"lsoa21_code": "name"}))
    with pytest.raises(InputError, match=r"level must be one of 'lsoa21', .* not 'msoa'"):
        summarise_areas(orgs, four_lsoas, level="msoa")  # type: ignore[arg-type]
    scores = pd.DataFrame({"lsoa_code": LSOA_CODES, "imd_score": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InputError, match=r"deprivation lacks 'imd_decile'"):
        summarise_areas(orgs, four_lsoas, deprivation=scores)
    with pytest.raises(InputError, match=r"lsoas has no 'lsoa21_code' or 'lsoa11_code'"):
        summarise_areas(
            gpd.GeoDataFrame({"ward_code": ["E05900001"]}, geometry=[Point(1, 1)], crs=27700),
            _gdf({"ward_code": ["E05900001"]}, [box(0, 0, 150, 100)]),
            population=_population([1000, 3000, 2000, 2000]),
            lsoas=four_lsoas.rename(columns={"lsoa21_code": "code"}),
        )


def test_assign_areas_lookup_and_layer_errors(town, tmp_path):
    orgs = _orgs([("a", Point(50, 50), None, None, None)])
    with pytest.raises(InputError, match=r"the wards= layer has no rows"):
        assign_areas(orgs, wards=town["wards"].iloc[:0])
    blank = pd.DataFrame({"lsoa11_code": ["E01000001", " "], "lsoa21_code": [None, "E01000001"]})
    with pytest.raises(InputError, match=r"has no rows with both an LSOA 2011 and an LSOA 2021"):
        assign_areas(orgs, wards=town["wards"], lsoa_lookup=blank)
    with pytest.raises(InputError, match=r"area_lookup=\) has no 'lsoa21_code' column"):
        assign_areas(orgs, area_lookup=pd.DataFrame({"ward_code": ["E05000001"]}))
    with pytest.raises(InputError, match=r"has neither a ward code nor an authority code"):
        assign_areas(orgs, area_lookup=pd.DataFrame({"lsoa21_code": ["E01000001"]}))
    binary = tmp_path / "lookup.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text")
    with pytest.raises(InputError, match=r"'lookup\.csv' could not be read as a CSV file"):
        assign_areas(orgs, area_lookup=binary)


def test_lsoa_lookup_means_the_same_as_a_frame_or_a_path(town, tmp_path):
    """Regression: change code X came out 'unchanged' from a DataFrame, 'complex' from a path.

    The ONS spells the change-code heading CHNGIND in some editions; the DataFrame route
    used to miss it.
    """
    lookup = pd.DataFrame(
        {
            "LSOA11CD": ["E01000001", "E01000005"],
            "LSOA21CD": ["E01000001", "E01100009"],
            "CHNGIND": ["U", "X"],
        }
    )
    path = tmp_path / "lookup.csv"
    lookup.to_csv(path, index=False)
    orgs = _orgs(
        [("a", Point(50, 50), "E01000001", None, None), ("x", None, "E01000005", None, None)]
    )
    as_frame = assign_areas(orgs, lsoa_lookup=lookup)
    as_path = assign_areas(orgs, lsoa_lookup=path)
    methods = ["lsoa11_lookup_unchanged", "lsoa11_lookup_complex"]
    assert as_frame["lsoa21_method"].astype(str).tolist() == methods
    assert as_path["lsoa21_method"].astype(str).tolist() == methods
    assert as_frame["lsoa21_code"].tolist() == as_path["lsoa21_code"].tolist()

"""Tests of the core modules every step shares: _checks, _headings, _schema."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

import socecon_geo as sg
from socecon_geo import _checks, _headings, _schema
from socecon_geo._errors import CRSMismatchError, InputError

FIX_DEGREES = r"\.set_crs\(4326, allow_override=True\)\.to_crs\(27700\)"


def _points(coords: list[tuple[float, float]], crs: int | None = 27700) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"org_id": [f"o{i}" for i in range(len(coords))]},
        geometry=[Point(*c) for c in coords],
        crs=crs,
    )


# ---------------------------------------------------------------- British National Grid extent


def test_bng_extent_accepts_grid_coordinates_and_other_crs() -> None:
    _checks.check_bng_extent(_points([(406_523, 286_448), (0, 0), (700_000, 1_300_000)]), "p")
    _checks.check_bng_extent(_points([(-1.9, 52.48)], crs=4326), "p")  # not labelled 27700
    _checks.check_bng_extent(_points([(-1.9, 52.48)], crs=None), "p")
    _checks.check_bng_extent(_points([]), "p")
    nothing = gpd.GeoDataFrame({"a": [1]}, geometry=[None], crs=27700)
    _checks.check_bng_extent(nothing, "p")


def test_bng_extent_names_degrees_labelled_27700_and_the_fix() -> None:
    wrong = _points([(-1.89, 52.48), (-2.1, 52.6)])
    with pytest.raises(
        InputError, match=rf"points is labelled EPSG:27700 .*degrees.*{FIX_DEGREES}"
    ):
        _checks.check_bng_extent(wrong, "points")


def test_bng_extent_refuses_metres_outside_the_grid() -> None:
    with pytest.raises(InputError, match=r"outside the grid \(x 0 to 700,000"):
        _checks.check_bng_extent(_points([(406_523, 286_448), (2_500_000, 100)]), "areas")
    with pytest.raises(InputError, match=r"outside the grid"):
        _checks.check_bng_extent(_points([(-500, 50_000)]).geometry, "a series")


def test_assign_areas_refuses_wgs84_points_labelled_27700() -> None:
    wards = gpd.GeoDataFrame(
        {"ward_code": ["E05000001"]}, geometry=[box(400_000, 280_000, 410_000, 290_000)], crs=27700
    )
    points = _points([(-1.9, 52.48)])
    with pytest.raises(InputError, match=rf"points is labelled EPSG:27700.*{FIX_DEGREES}"):
        sg.assign_areas(points, wards=wards)
    # the same points, labelled and reprojected as the message says, are placed
    fixed = points.set_crs(4326, allow_override=True).to_crs(27700)
    assert sg.assign_areas(fixed, wards=wards.set_geometry(wards.buffer(100_000)))[
        "ward_code"
    ].tolist() == ["E05000001"]
    degrees_layer = wards.set_geometry([box(-2, 52, -1.8, 52.6)], crs=27700)
    with pytest.raises(
        InputError, match=rf"the wards= layer is labelled EPSG:27700.*{FIX_DEGREES}"
    ):
        sg.assign_areas(_points([(406_523, 286_448)]), wards=degrees_layer)


def test_summarise_areas_refuses_wgs84_areas_labelled_27700() -> None:
    points = _points([(406_523, 286_448)]).assign(ward_code="E05000001")
    areas = gpd.GeoDataFrame(
        {"ward_code": ["E05000001"]}, geometry=[box(-2, 52, -1.8, 52.6)], crs=27700
    )
    with pytest.raises(InputError, match=rf"areas is labelled EPSG:27700.*{FIX_DEGREES}"):
        sg.summarise_areas(points, areas)
    good = areas.set_geometry([box(400_000, 280_000, 410_000, 290_000)], crs=27700)
    with pytest.warns(sg.SocEconGeoWarning, match="no population"):
        summary = sg.summarise_areas(points, good)
    assert summary["n_organisations"].tolist() == [1]
    lsoas = gpd.GeoDataFrame(
        {"lsoa21_code": ["E01000001"]}, geometry=[box(-2, 52, -1.8, 52.6)], crs=27700
    )
    population = pd.DataFrame({"lsoa21_code": ["E01000001"], "usual_residents": [1500]})
    with pytest.raises(InputError, match=rf"lsoas is labelled EPSG:27700.*{FIX_DEGREES}"):
        sg.summarise_areas(points, good, population=population, lsoas=lsoas)


# ---------------------------------------------------------------- the other checks


def test_check_geodataframe_projected_and_same_crs() -> None:
    with pytest.raises(
        InputError, match=r"areas must be a GeoDataFrame of area polygons, not list"
    ):
        _checks.check_geodataframe([], "areas", "area polygons")
    with pytest.raises(CRSMismatchError, match=r"layer has no CRS.*set_crs\(27700\)"):
        _checks.check_projected(None, "layer")
    with pytest.raises(CRSMismatchError, match=r"geographic CRS \(EPSG:4326, degrees\)"):
        _checks.check_projected(_points([], crs=4326).crs, "layer")
    bng, wgs = _points([]).crs, _points([], crs=4326).crs
    with pytest.raises(CRSMismatchError, match=r"a is in EPSG:27700 and b in EPSG:4326.*to_crs"):
        _checks.check_same_crs(bng, "a", wgs, "b")
    _checks.check_same_crs(bng, "a", None, "b")
    assert _checks.crs_text(None) == "no CRS"


def test_check_lonlat_range() -> None:
    _checks.check_lonlat_range(_points([(-1.9, 52.48)], crs=4326), "file")
    _checks.check_lonlat_range(_points([(406_523, 286_448)]), "file")  # projected: not checked
    with pytest.raises(InputError, match=r"look like projected metres"):
        _checks.check_lonlat_range(_points([(406_523, 286_448)], crs=4326), "file")


# ---------------------------------------------------------------- headings


@pytest.mark.parametrize(
    ("heading", "standard"),
    [
        ("LSOA21CD", "lsoa21_code"),
        ("lsoa21_code", "lsoa21_code"),
        ("LSOA code (2021)", "lsoa21_code"),
        ("Lower layer Super Output Areas Code", "lsoa21_code"),
        ("LSOA11NM", "lsoa11_name"),
        ("MSOA21CD", "msoa21_code"),
        ("msoa21_name", "msoa21_name"),
        ("WD25CD", "ward_code"),
        ("ward24_code", "ward_code"),
        ("WDNM", "ward_name"),
        ("LAD22CD", "lad_code"),
        ("ltla24_code", "lad_code"),
        ("Local Authority District name (2019)", "lad_name"),
        ("CHGIND", "change_code"),
        ("CHNGIND", "change_code"),
        ("change_code", "change_code"),
        ("oslaua", "lad_code"),  # ONS Postcode Directory fields
        ("osward", "ward_code"),
        ("lsoa11", "lsoa11_code"),
        ("lsoa21", "lsoa21_code"),
    ],
)
def test_one_table_of_ons_headings(heading: str, standard: str) -> None:
    assert list(_headings.find_area_columns([heading])) == [standard]


def test_newest_vintage_wins_and_a_standard_name_wins_outright() -> None:
    found = _headings.find_area_columns(["WD22CD", "WD25CD", "WD24CD", "LAD22CD", "lad_code"])
    assert found == {"ward_code": ("WD25CD", 2025), "lad_code": ("lad_code", None)}
    assert _headings.find_area_columns(["name", "geometry", "usual_residents"]) == {}


def test_heading_key_is_the_normaliser_without_spaces() -> None:
    assert _headings.normalise_heading(" Post-code & Town ") == "post code and town"
    assert _headings.heading_key(" Post-code & Town ") == "postcodeandtown"


# ---------------------------------------------------------------- schema


def test_every_status_dtype_has_its_vocabulary() -> None:
    pairs = [
        (_schema.POSTCODE_STATUS, _schema.POSTCODE_STATUSES),
        (_schema.GEOCODE_STATUS, _schema.GEOCODE_STATUSES),
        (_schema.AREA_METHOD, _schema.AREA_METHODS),
        (_schema.AREA_STATUS, _schema.AREA_STATUSES),
        (_schema.DEPRIVATION_STATUS, _schema.DEPRIVATION_STATUSES),
        (_schema.ORG_TYPE, _schema.ORGANISATION_TYPES),
    ]
    for dtype, vocabulary in pairs:
        assert isinstance(dtype, pd.CategoricalDtype)
        assert tuple(dtype.categories) == vocabulary
        assert not dtype.ordered
    # the public names are the shared vocabularies, not copies
    assert sg.ORGANISATION_TYPES is _schema.ORGANISATION_TYPES
    from socecon_geo import areas, deprivation, geocoding, postcodes

    assert postcodes.POSTCODE_STATUSES is _schema.POSTCODE_STATUSES
    assert geocoding.GEOCODE_STATUSES is _schema.GEOCODE_STATUSES
    assert areas.AREA_METHODS is _schema.AREA_METHODS
    assert deprivation.DEPRIVATION_STATUSES is _schema.DEPRIVATION_STATUSES


def test_neutralise_frame_is_the_one_spreadsheet_rule() -> None:
    import pandas as pd

    from socecon_geo._html import neutralise_frame

    frame = pd.DataFrame(
        {
            "name": pd.array(["=HYPERLINK(1)", "Aston\nArts", None], dtype="string"),
            "kind": pd.Categorical(["-x", "ok", None]),
            "income": [1.0, -3.0, None],
        }
    )
    kept = neutralise_frame(frame)
    assert kept["name"].tolist()[:2] == ["'=HYPERLINK(1)", "Aston\nArts"]
    assert kept["kind"].tolist()[:2] == ["'-x", "ok"]
    assert kept["name"].isna().tolist() == [False, False, True]  # missing stays missing
    assert kept["kind"].isna().tolist() == [False, False, True]
    assert kept["income"].tolist()[:2] == [1.0, -3.0]  # numbers are numbers
    assert neutralise_frame(frame, one_line=True)["name"].tolist()[1] == "Aston Arts"
    assert frame["name"].tolist()[0] == "=HYPERLINK(1)"  # the caller's frame unchanged


def test_unique_ignoring_case_numbers_the_later_heading() -> None:
    from socecon_geo._tables import unique_ignoring_case

    assert unique_ignoring_case(["src_Name", "src_name", "SRC_NAME", "src_name_2"]) == {
        "src_name": "src_name_3",
        "SRC_NAME": "SRC_NAME_4",
    }
    assert unique_ignoring_case(["a", "b"]) == {}

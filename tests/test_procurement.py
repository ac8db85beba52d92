"""Sites, supply chains and supplier matching (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import socecon_geo as sg
from socecon_geo._schema import COLUMN_DTYPES, SITE_STATUSES, SUPPLIER_STATUSES
from socecon_geo.procurement import LIMITATION, shortlist_frame, summary_records
from socecon_geo.supply_chains import fit_of_prefix, supply_chain_table

# a site in Birmingham and organisations planted due east of it
SITE_XY = (406_000.0, 286_000.0)


def _orgs(rows: list[tuple[str, str | None, float | None, int]]) -> gpd.GeoDataFrame:
    """Organisations (name, SIC code, metres east of the site or None, position quality)."""
    geometry = [None if dx is None else Point(SITE_XY[0] + dx, SITE_XY[1]) for _, _, dx, _ in rows]
    frame = pd.DataFrame(
        {
            "org_id": [f"o{i}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "sic_code": pd.array([r[1] for r in rows], dtype="string"),
            "postcode": ["B1 1AA"] * len(rows),
            "position_quality": pd.array([r[3] for r in rows], dtype="Int64"),
            "duplicate_of": pd.array([pd.NA] * len(rows), dtype="string"),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=27700)


PLANTED = [
    ("Sparks Electrical Co-op", "43210", 500.0, 10),  # 1 km band, subclass fit
    ("Builders Together", "41100", 2_500.0, 10),  # 3 km band
    ("Community Kitchen", "56210", 4_000.0, 60),  # 5 km band, common service, sector centroid
    ("Design Co-operative", "71111", 7_000.0, 10),  # 10 km band
    ("Far Builders", "41100", 12_000.0, 10),  # out of reach
    ("Corner Shop", "47110", 800.0, 10),  # not in the supply chain
    ("No Code Trust", None, 900.0, 10),  # no SIC
    ("Nowhere Co-op", "43210", None, 10),  # not placed
]


def _sites(geoms: list, programmes: list[str] | None = None) -> gpd.GeoDataFrame:
    n = len(geoms)
    frame = pd.DataFrame(
        {
            "site_name": [f"Site {i}" for i in range(n)],
            "programme": programmes or ["housing"] * n,
            "authority": ["Test Council"] * n,
            "dwellings": [100.0] * n,
        }
    )
    return sg.read_sites(gpd.GeoDataFrame(frame, geometry=geoms, crs=27700))


def test_planted_suppliers_are_recovered_in_the_right_bands() -> None:
    orgs = _orgs(PLANTED)
    orgs.loc[7, "duplicate_of"] = "o0"
    match = sg.match_suppliers(_sites([Point(SITE_XY)]), orgs)
    site = match.sites.iloc[0]
    assert [int(site[f"n_suppliers_{b}m"]) for b in (1_000, 3_000, 5_000, 10_000)] == [1, 2, 3, 4]
    assert site["supply_status"] == "reached"
    assert site["nearest_supplier"] == "Sparks Electrical Co-op"
    assert site["nearest_supplier_m"] == pytest.approx(500.0)
    pairs = match.pairs
    assert pairs["organisation"].tolist() == [
        "Sparks Electrical Co-op",
        "Builders Together",
        "Community Kitchen",
        "Design Co-operative",
    ]
    assert pairs["band_m"].tolist() == [1_000, 3_000, 5_000, 10_000]
    assert pairs["distance_m"].tolist() == pytest.approx([500, 2_500, 4_000, 7_000])
    assert pairs["fit"].tolist() == [0.25, 0.25, 0.5, 0.75]  # 43, 41, 56.2, 71.11
    assert pairs["approximate_position"].tolist() == [False, False, True, False]
    status = match.organisations["supplier_status"].astype(str).tolist()
    assert status == [
        "in_reach",
        "in_reach",
        "in_reach",
        "in_reach",
        "out_of_reach",
        "not_in_supply_chain",
        "no_sic",
        "duplicate",
    ]
    assert match.organisations["supplier_status"].dtype == COLUMN_DTYPES["supplier_status"]
    assert match.organisations["n_sites_1000m"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert match.sites.attrs["limitations"] == [LIMITATION]
    assert "not travel distances" in LIMITATION


def test_fit_ranks_within_a_band_before_distance() -> None:
    orgs = _orgs([("Builders", "41202", 200.0, 10), ("Electricians", "43210", 600.0, 10)])
    retrofit = sg.match_suppliers(_sites([Point(SITE_XY)], ["retrofit"]), orgs)
    # retrofit lists 43.21 (a class, fit 0.75) and 41.2 (a group, 0.5): both in 1 km
    assert retrofit.pairs["organisation"].tolist() == ["Electricians", "Builders"]
    assert retrofit.pairs["fit"].tolist() == [0.75, 0.5]


def test_polygon_sites_are_measured_to_their_edge() -> None:
    x, y = SITE_XY
    square = box(x - 500, y - 500, x + 500, y + 500)
    orgs = _orgs(
        [
            ("Inside Builders", "41100", 100.0, 10),  # inside: 0 m
            ("Edge Builders", "41100", 1_200.0, 10),  # 700 m beyond the east edge
            ("Further Builders", "41100", 3_600.0, 10),  # 3,100 m from the edge
        ]
    )
    match = sg.match_suppliers(_sites([square]), orgs)
    assert match.pairs["distance_m"].tolist() == pytest.approx([0, 700, 3_100])
    assert int(match.sites["n_suppliers_1000m"].iloc[0]) == 2  # a centroid would give 1
    assert match.pairs["band_m"].tolist() == [1_000, 1_000, 5_000]
    assert match.organisations["n_sites_1000m"].tolist() == [1, 1, 0]


def test_a_site_with_no_supplier_is_a_gap() -> None:
    orgs = _orgs(PLANTED[:2])
    far = Point(SITE_XY[0], SITE_XY[1] + 60_000)
    match = sg.match_suppliers(_sites([Point(SITE_XY), far]), orgs)
    assert match.sites["supply_status"].astype(str).tolist() == ["reached", "gap"]
    gaps = match.gaps()
    assert gaps["site_name"].tolist() == ["Site 1"]
    assert gaps["nearest_supplier_m"].iloc[0] == pytest.approx(np.hypot(500, 60_000))
    assert match.gaps(1_000)["site_name"].tolist() == ["Site 1"]
    summary = match.by_programme.iloc[0]
    assert summary["sites"] == 2
    assert summary["gaps_10000m"] == 1
    assert summary["sites_k1_3000m"] == 1
    assert summary["sites_k3_3000m"] == 0
    assert summary["dwellings_k1_3000m"] == 100
    assert summary["gap_dwellings_10000m"] == 100
    with pytest.raises(sg.InputError, match="band_m 2000 is not one of the bands"):
        match.gaps(2_000)


def test_every_site_and_organisation_is_in_the_outputs(tmp_path: Path) -> None:
    sites = sg.read_sites(
        pd.DataFrame(
            {
                "name": ["Here", "Nowhere", '=HYPERLINK("x")'],
                "latitude": [52.48, None, 52.49],
                "longitude": [-1.90, None, -1.89],
            }
        ),
        programme="housing",
    )
    sites = sites.to_crs(27700)
    orgs = _orgs(PLANTED)
    match = sg.match_suppliers(sites, orgs)
    assert len(match.sites) == 3
    assert len(match.organisations) == len(PLANTED)
    assert match.sites["supply_status"].astype(str).tolist()[1] == "not_located"
    assert match.sites["n_suppliers_1000m"].isna().tolist() == [False, True, False]
    table = shortlist_frame(match)
    assert set(table["site_id"]) == {1, 2, 3}
    assert table.loc[table["site_id"] == 2, "rank"].isna().all()
    assert table["site_name"].iloc[-1].startswith("'=")  # neutralised for spreadsheets
    report = summary_records(match)
    json.dumps(report)  # JSON-ready
    assert report["supply_status"] == {"reached": 2, "gap": 0, "not_located": 1}
    assert set(report["supplier_status"]) == set(SUPPLIER_STATUSES)
    assert list(report["largest_gaps"]) == ["1000m", "3000m", "5000m", "10000m"]
    assert table["n_suppliers_3000m"].dtype == "Int64"
    assert table["approximate_position"].dtype == "boolean"


def test_programme_argument_overrides_the_column_and_all_is_common_services() -> None:
    orgs = _orgs(PLANTED)
    match = sg.match_suppliers(_sites([Point(SITE_XY)]), orgs, programme="all")
    assert match.pairs["organisation"].tolist() == ["Community Kitchen"]


def test_supply_chain_overrides() -> None:
    orgs = _orgs(PLANTED)
    match = sg.match_suppliers(
        _sites([Point(SITE_XY)]), orgs, supply_chains={"housing": ["47.11"], "all": []}
    )
    assert match.pairs["organisation"].tolist() == ["Corner Shop"]
    assert match.pairs["fit"].tolist() == [0.75]
    table = supply_chain_table(pd.DataFrame({"programme": ["parks"], "sic_prefix": ["8130"]}))
    assert {"parks", "housing"} <= set(table["programme"])
    assert table.loc[table["programme"] == "parks", "source"].tolist() == ["given by the user"]
    default = supply_chain_table()
    assert default["source"].str.contains("SIC 2007").all()
    assert {"41", "42", "43", "4321", "4322", "4329", "7111", "813", "812", "38", "49"} <= set(
        default["sic_prefix"]
    )
    assert [fit_of_prefix(d) for d in (2, 5)] == [0.25, 1.0]


def test_supply_chains_from_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "chains.csv"
    path.write_text("Programme,SIC prefix,activity\nhousing,41,Building\n", encoding="utf-8")
    table = supply_chain_table(path)
    assert table.loc[table["programme"] == "housing", "sic_prefix"].tolist() == ["41"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"housing": ["4x"]}, "SIC prefix '4x' is not a SIC 2007 division"),
        ({"housing": ["4"]}, "give 2 to 5 digits"),
        ({" ": ["41"]}, "a programme name is blank"),
        (pd.DataFrame({"what": ["housing"]}), "needs a 'programme' and a 'sic_prefix' column"),
        (42, "supply_chains must be a mapping"),
    ],
)
def test_bad_supply_chains(overrides: object, message: str) -> None:
    with pytest.raises(sg.InputError, match=message):
        supply_chain_table(overrides)  # type: ignore[arg-type]


def test_an_unknown_programme_is_one_clear_error() -> None:
    orgs = _orgs(PLANTED)
    with pytest.raises(sg.InputError, match=r"programme 'schools' has no supply chain; use one of"):
        sg.match_suppliers(_sites([Point(SITE_XY)], ["schools"]), orgs)
    with pytest.raises(sg.InputError, match=r"programme 'roads' has no supply chain"):
        sg.match_suppliers(_sites([Point(SITE_XY)]), orgs, programme="roads")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bands_m": (3_000, 1_000)}, "bands_m must be increasing whole numbers"),
        ({"bands_m": ()}, "bands_m must be increasing whole numbers"),
        ({"bands_m": ("far",)}, "bands_m must be increasing whole numbers"),
        ({"max_per_site": 0}, "max_per_site must be a whole number >= 1"),
        ({"k": (0,)}, "k must be whole numbers >= 1"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(sg.InputError, match=message):
        sg.match_suppliers(_sites([Point(SITE_XY)]), _orgs(PLANTED), **options)


def test_frames_are_checked_where_they_meet() -> None:
    sites = _sites([Point(SITE_XY)])
    orgs = _orgs(PLANTED)
    with pytest.raises(sg.CRSMismatchError, match="geographic CRS"):
        sg.match_suppliers(sites.to_crs(4326), orgs)
    with pytest.raises(sg.InputError, match="sites must be a GeoDataFrame"):
        sg.match_suppliers(pd.DataFrame(sites), orgs)
    with pytest.raises(sg.InputError, match="longitudes and latitudes in degrees"):
        sg.match_suppliers(sites, orgs.to_crs(4326).set_crs(27700, allow_override=True))


def test_inputs_are_not_changed() -> None:
    sites = _sites([Point(SITE_XY)])
    orgs = _orgs(PLANTED)
    before = (sites.copy(), orgs.copy())
    sg.match_suppliers(sites, orgs)
    pd.testing.assert_frame_equal(sites, before[0])
    pd.testing.assert_frame_equal(orgs, before[1])


# ---------------------------------------------------------------------- read_sites


def _csv(tmp_path: Path, text: str, name: str = "sites.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BROWNFIELD = (
    "organisation,site_reference,site_name_address,latitude,longitude,hectares,"
    "planning_status,min_net_dwellings,max_net_dwellings,entry_date,end_date\n"
    "Birmingham City Council,S1,Old works,52.48,-1.90,1.2,permissioned,40,50,2019-01-01,\n"
    "Birmingham City Council,S2,Lost homes,52.47,-1.91,0.1,permissioned,-3,-3,2019-01-01,\n"
    "Birmingham City Council,S3,No place,,,0.5,,,,2019-01-01,\n"
    "Birmingham City Council,S1,Old works,52.48,-1.90,1.2,permissioned,40,50,2020-01-01,\n"
    "Birmingham City Council,S4,Gone,52.46,-1.92,0.3,,,,2019-01-01,2020-02-02\n"
    "Birmingham City Council,S5,In Manchester,53.46,-2.06,0.3,,,,2019-01-01,\n"
    "Birmingham City Council,S6,Swapped,-1.9,52.48,0.3,,,,2019-01-01,\n"
)


def test_a_brownfield_register_keeps_every_row_with_a_status(tmp_path: Path) -> None:
    sites = sg.read_sites(_csv(tmp_path, BROWNFIELD, "brownfield.csv"))
    assert len(sites) == 7
    assert sites.crs.to_epsg() == 27700
    assert sites["site_status"].astype(str).tolist() == [
        "duplicate_reference",
        "located",
        "no_location",
        "located",
        "ended",
        "outside_authority",
        "outside_gb",
    ]
    assert sites["duplicate_of"].tolist()[0] == 4  # the later entry is kept
    assert sites["site_status"].dtype == COLUMN_DTYPES["site_status"]
    assert list(sites["site_status"].cat.categories) == list(SITE_STATUSES)
    assert sites["programme"].unique().tolist() == ["housing"]
    assert sites["site_size_status"].astype(str).tolist()[:3] == [
        "dwellings",
        "negative_dwellings",
        "hectares",
    ]
    assert sites["site_size"].tolist()[:3] == [50, 0, 0.5]
    assert sites["dwellings"].tolist()[1] == -3  # the register's number, kept
    assert sites.attrs["counts"]["negative_dwellings"] == 1
    assert sites.attrs["counts"]["site_status"]["located"] == 2
    assert any(r.name == "brownfield_land_register" for r in sg.get_provenance(sites))
    assert sites["src_site_name_address"].tolist()[0] == "Old works"


def test_generic_csv_with_postcodes_and_eastings(tmp_path: Path) -> None:
    text = (
        "Name,Postcode,Programme,Value\n"
        "Library retrofit,B1 1AY,Retrofit,250000\n"
        "Unknown place,ZZ99 9ZZ,retrofit,\n"
    )
    sites = sg.read_sites(_csv(tmp_path, text))
    assert sites["site_status"].astype(str).tolist() == ["geocoded", "no_location"]
    assert sites["programme"].tolist() == ["retrofit", "retrofit"]
    assert sites["site_size_status"].astype(str).tolist() == ["value", "no_size"]
    assert sites.geometry.iloc[0].distance(Point(406_523, 286_448)) < 50
    bng = sg.read_sites(_csv(tmp_path, "site,easting,northing\nDepot,406000,286000\n", "b.csv"))
    assert bng["site_status"].astype(str).tolist() == ["located"]
    assert bng["programme"].tolist() == ["all"]
    assert bng.geometry.iloc[0].equals(Point(406_000, 286_000))


def test_geojson_polygons(tmp_path: Path) -> None:
    x, y = SITE_XY
    frame = gpd.GeoDataFrame(
        {"site_name": ["Estate"], "programme": ["retrofit"]},
        geometry=[box(x, y, x + 400, y + 300)],
        crs=27700,
    ).to_crs(4326)
    path = tmp_path / "estates.geojson"
    frame.to_file(path, driver="GeoJSON")
    sites = sg.read_sites(path)
    assert sites["site_status"].astype(str).tolist() == ["located"]
    assert sites.geometry.iloc[0].area == pytest.approx(120_000, rel=1e-3)


def test_a_sites_file_without_coordinates_or_postcode(tmp_path: Path) -> None:
    with pytest.raises(
        sg.InputError,
        match=r"sites file 'sites.csv' has no coordinates and no postcode column.*"
        r"its columns are name, programme",
    ):
        sg.read_sites(_csv(tmp_path, "name,programme\nDepot,housing\n"))


def test_coordinates_all_outside_great_britain(tmp_path: Path) -> None:
    text = "name,latitude,longitude\nParis,48.85,2.35\nDublin,53.35,-6.26\n"
    with pytest.raises(sg.InputError, match="every coordinate given lies outside Great Britain"):
        sg.read_sites(_csv(tmp_path, text))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.csv", "does not exist"),
        (42, "path must be the path of a sites file"),
    ],
)
def test_bad_paths(tmp_path: Path, path: object, message: str) -> None:
    target = tmp_path / path if isinstance(path, str) else path
    with pytest.raises(sg.InputError, match=message):
        sg.read_sites(target)  # type: ignore[arg-type]


def test_text_in_a_number_column(tmp_path: Path) -> None:
    text = "name,latitude,longitude,hectares\nDepot,52.48,-1.9,about one\n"
    with pytest.raises(sg.InputError, match=r"column 'hectares' .* rows 2 \(first: 'about one'\)"):
        sg.read_sites(_csv(tmp_path, text))


def test_a_blank_programme_argument() -> None:
    with pytest.raises(sg.InputError, match="programme must be a name"):
        sg.read_sites(pd.DataFrame({"name": ["x"], "postcode": ["B1 1AY"]}), programme=" ")


# ---------------------------------------------------------------------- the map


def test_the_sites_layer_escapes_names_and_has_its_legend() -> None:
    from socecon_geo.maps import LAYER_NAMES, render_map

    orgs = _orgs(PLANTED)
    orgs.loc[0, "name"] = "<script>alert('x')</script> & St John's"
    sites = _sites([Point(SITE_XY), Point(SITE_XY[0], SITE_XY[1] + 60_000)])
    sites.loc[0, "site_name"] = "</script><b onmouseover=alert(1)>"
    match = sg.match_suppliers(sites, orgs)
    html = render_map(sites=match, deprivation=None, tiles=None).get_root().render()
    assert "<script>alert" not in html
    assert "</script><b" not in html
    assert "\\u0026lt;script\\u0026gt;alert" in html  # escaped, then encoded for the script
    assert f'data-layer", "{LAYER_NAMES["sites"]}"' in html
    assert "none: a coverage gap (1)" in html
    assert "#d7191c" in html
    plain = render_map(sites=sites, deprivation=None, tiles=None).get_root().render()
    assert "not matched to suppliers" in plain
    with pytest.raises(sg.InputError, match="sites_band_m 2000 is not one of the match"):
        render_map(sites=match, deprivation=None, tiles=None, sites_band_m=2_000)


def test_explore_draws_the_sites() -> None:
    match = sg.match_suppliers(_sites([Point(SITE_XY)]), _orgs(PLANTED))
    html = match.explore(tiles=None).get_root().render()
    assert "n_suppliers_3000m" in html
    assert "SupplierMatch(1 sites (1 matched, 0 gaps" in repr(match)


# ---------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_the_wmca_brownfield_sites_against_the_coops(shared_data: Path) -> None:
    sites = sg.read_sites(shared_data / "sites" / "wmca_brownfield_land_registers.csv")
    assert len(sites) == 2_115
    counts = sites.attrs["counts"]["site_status"]
    assert counts["no_location"] == 11
    assert counts["outside_authority"] == 4  # the README's four outside the region
    assert counts["duplicate_reference"] == 3
    assert sites.attrs["counts"]["negative_dwellings"] == 50
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.assign_areas(sg.geocode(orgs))
    match = sg.match_suppliers(sites, points, programme="housing")
    assert len(match.sites) == 2_115
    assert len(match.organisations) == len(orgs)
    housing = match.by_programme.set_index("programme").loc["housing"]
    assert housing["sites_matched"] == counts["located"] + counts["geocoded"] == 2_058
    assert housing["sites_k1_3000m"] == 508
    assert housing["dwellings_k1_3000m"] == 16_356
    assert housing["gaps_3000m"] == 2_058 - 508
    by_authority = match.by_authority.set_index("authority")
    assert by_authority["sites"].sum() == 2_115
    assert by_authority.loc["City of Wolverhampton Council", "sites_k1_3000m"] == 0
    assert int(match.organisations["supplier_status"].eq("in_reach").sum()) == 8
    largest = match.gaps(3_000).iloc[0]
    assert largest["site_name"].startswith("Wholesale markets")
    assert largest["dwellings"] == 1_195
    table = shortlist_frame(match)
    assert set(table["site_id"]) == set(range(1, 2_116))
    report = summary_records(match)
    assert report["largest_gaps"]["3000m"][0]["dwellings"] == 1_195
    json.dumps(report)

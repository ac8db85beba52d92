"""The interactive map (``render_map``, ``save_map``): escaping, layers, legends, sizes.

No browser here; ``tests/test_maps_browser.py`` drives a headless Chromium.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import socecon_geo as sg
from socecon_geo.maps import (
    BASEMAP,
    DOMAIN_LABELS,
    LAYER_NAMES,
    MAIN_DOMAINS,
    NO_SHADING,
    escape_html,
    render_map,
    save_map,
    script_json,
)

HOSTILE = [
    "St John's Trust",
    'The "Quoted" Co-op',
    "Back\\slash \\u0022 Society",
    "Back`tick` CIC",
    "Fish & Chips Co-operative",
    "<script>alert('x')</script>",
    "</script><script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<b onmouseover=alert(1)>hover</b>",
    "{{ this.get_name() }} ${alert(1)} {% raw %}",
    "Line one\nLine two\r\nthree\u2028four\u2029five",
    "Café 🌍 Co-op",
    "Кооператив 合作社 جمعية",
    "Cymdeithas Tai Ŵyn a'r Ffŵr, Llanelwy",
]
"""Names a register might hold; each must be shown as written and never executed."""

WEBSITES = ["javascript:alert(1)", "JaVaScRiPt:alert(document.cookie)", "https://example.org"]


def _hostile_points() -> gpd.GeoDataFrame:
    n = len(HOSTILE)
    frame = pd.DataFrame(
        {
            "name": HOSTILE,
            "org_type": (["co_operative", "charity", "community_interest_company"] * n)[:n],
            "sector": ["Retail <b>&</b>"] * n,
            "postcode": ["B1 1AA"] * n,
            "geocode_status": ["matched"] * (n - 1) + ["sector_centroid"],
            "position_quality": pd.array([10] * (n - 1) + [None], dtype="Int64"),
            "website": (WEBSITES * n)[:n],
        }
    )
    geometry = [Point(406_000 + 300 * i, 286_000 + 200 * (i % 5)) for i in range(n)]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=27700)


def _html(fmap) -> str:
    return fmap.get_root().render()


# ---------------------------------------------------------------------- escaping


@pytest.mark.parametrize("text", HOSTILE + WEBSITES)
def test_escape_html_leaves_nothing_live_and_reads_back_as_written(text: str) -> None:
    escaped = escape_html(text)
    for char in "<>\"'`$\\{}\n\r\u2028\u2029":
        assert char not in escaped
    # what the browser shows is the text itself (line breaks shown as spaces)
    shown = html.unescape(escaped)
    assert shown == re.sub("[\r\n\u2028\u2029]", " ", text).replace("\r", " ")


@pytest.mark.parametrize("text", HOSTILE + WEBSITES)
def test_script_json_cannot_close_a_script_and_round_trips(text: str) -> None:
    encoded = script_json({"name": text, "list": [text]})
    for char in "<>&'`\u2028\u2029":
        assert char not in encoded
    assert "</script" not in encoded.lower()
    for pair in ("{{", "{%", "{#"):
        assert pair not in encoded  # folium's second template pass must see no syntax
    assert json.loads(encoded) == {"name": text, "list": [text]}


def test_escape_html_of_missing_values_is_empty() -> None:
    assert escape_html(None) == escape_html(float("nan")) == escape_html(pd.NA) == ""
    assert escape_html(3) == "3"


def test_script_json_writes_nan_as_null() -> None:
    assert script_json([float("nan"), float("inf"), 1.5]) == "[null,null,1.5]"


def test_hostile_names_are_never_live_in_the_saved_html(tmp_path: Path) -> None:
    points = _hostile_points()
    path = save_map(render_map(points, deprivation=None, tiles=None), tmp_path / "m.html")
    text = path.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "<img" not in text
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", text, re.IGNORECASE)  # no live handler
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", text, re.IGNORECASE)
    # no template literal in the page, so "${...}" in a JSON string stays text
    assert "`" not in text
    assert "{{ this" not in text
    # every name reaches the page, encoded, exactly once in the point data
    data = json.loads(re.search(r"var d = (\{.*?\});\n", text).group(1))
    assert data["name"] == HOSTILE
    assert "javascript:alert(1)" in data["values"][data["fields"].index("website (not a link)")]
    # a sector centroid says so
    position = data["values"][data["fields"].index("position")]
    assert position[-1] == "approximate: postcode sector centroid"
    assert position[0] == "Code-Point Open quality 10 (address-level)"


def test_hostile_title_subtitle_and_area_names_are_escaped() -> None:
    wards = sg.load_wards().head(3).copy()
    wards["ward_name"] = HOSTILE[:3]
    wards["n_organisations"] = [1, 2, 3]
    text = _html(
        render_map(
            areas=wards,
            deprivation=None,
            title="<script>alert('t')</script>",
            subtitle="</script><img src=x onerror=alert(2)>",
        )
    )
    assert "<script>alert" not in text
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", text, re.IGNORECASE)
    assert escape_html("St John's Trust") in text.replace("\\u0026", "&")


# ---------------------------------------------------------------------- structure


def _legends(text: str) -> dict[str, str]:
    """Layer name of each legend -> the variable name of the group it follows."""
    found = {}
    for block in re.findall(
        r"var layer = (feature_group_\w+);.*?data-layer\", (\".*?\")", text, re.S
    ):
        found[json.loads(block[1])] = block[0]
    return found


def _groups(text: str, part: str = "both") -> dict[str, str]:
    """Layer-control name -> feature group variable (radio choices, overlays or both)."""
    found = {}
    for kind in ("base_layers", "overlays"):
        if part not in ("both", kind):
            continue
        control = re.search(kind + r" :\s*\{(.*?)\},", text, re.S).group(1)
        found.update(
            {
                json.loads(name): var
                for name, var in re.findall(r"(\"[^\"]+\") : (\w+_\w+)", control)
            }
        )
    return found


DOMAIN_NAMES = {DOMAIN_LABELS[k] for k in MAIN_DOMAINS}


def test_each_layer_has_a_legend_tied_to_it() -> None:
    points = _hostile_points()
    wards = sg.load_wards()
    text = _html(render_map(points, areas=wards))
    groups = _groups(text)
    legends = _legends(text)
    expected = {LAYER_NAMES["wards"], LAYER_NAMES["organisations"], BASEMAP}
    assert set(_groups(text, "overlays")) == expected
    assert set(_groups(text, "base_layers")) == DOMAIN_NAMES | {NO_SHADING}
    with_legend = (expected - {BASEMAP}) | DOMAIN_NAMES
    assert legends == {name: groups[name] for name in with_legend}
    assert text.count('layer.on("add remove", sync)') == len(with_legend)
    assert text.count("L.markerClusterGroup(") == 1  # few points: clustered
    assert "Deprivation: Index of Multiple Deprivation (all domains)" in text
    assert "Deprivation shading (IoD2025, choose one):" in text


def test_past_max_markers_the_points_are_drawn_on_a_canvas() -> None:
    text = _html(render_map(_hostile_points(), deprivation=None, max_markers=5))
    assert re.search(r"if \(false\) \{\s*target = L.markerClusterGroup", text)
    assert "fast canvas drawing" in text


def test_tiles_none_has_no_basemap_but_a_light_background_and_outlines() -> None:
    text = _html(render_map(areas=sg.load_wards(), deprivation=None, tiles=None))
    assert "L.tileLayer(" not in text
    assert ".leaflet-container { background: #f7f7f5; }" in text
    assert '"color":"#252525"' in text  # ward outlines


def test_unknown_domain_edition_and_bad_inputs_are_input_errors() -> None:
    with pytest.raises(sg.InputError, match="domain 'poverty' is not in the iod2025 table"):
        render_map(domain="poverty")
    with pytest.raises(sg.InputError, match="deprivation must be one of"):
        render_map(deprivation="iod2010")
    with pytest.raises(sg.InputError, match="points must be a GeoDataFrame"):
        render_map(pd.DataFrame({"name": ["x"]}))
    with pytest.raises(sg.InputError, match="areas must be an area summary"):
        render_map(areas=pd.DataFrame(), deprivation=None)
    wards = sg.load_wards()
    with pytest.raises(sg.InputError, match="hotspots has no 'hotspot_class' column"):
        render_map(hotspots=wards, deprivation=None)
    with pytest.raises(sg.InputError, match="clusters has no 'cluster_id' column"):
        render_map(clusters=wards, deprivation=None)
    with pytest.raises(sg.InputError, match="hotspots must be a HotspotResult"):
        render_map(hotspots=[1], deprivation=None)
    with pytest.raises(sg.InputError, match="candidates must be the Candidates"):
        render_map(candidates="ranked", deprivation=None)
    with pytest.raises(sg.InputError, match="max_markers must be a whole number"):
        render_map(max_markers=-1)
    with pytest.raises(sg.InputError, match="n_gaps must be a whole number"):
        render_map(n_gaps=True)


def test_save_map_writes_utf8_and_checks_its_arguments(tmp_path: Path) -> None:
    path = save_map(render_map(_hostile_points(), deprivation=None), tmp_path / "m.html")
    assert path == tmp_path / "m.html"
    assert "Café 🌍 Co-op" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["m.html"]
    with pytest.raises(sg.InputError, match="does not exist"):
        save_map(render_map(deprivation=None), tmp_path / "missing" / "m.html")
    with pytest.raises(sg.InputError, match=r"expected a folium\.Map"):
        save_map("<html>", tmp_path / "x.html")  # type: ignore[arg-type]


def test_save_map_numbers_element_ids_and_leaves_hex_in_the_data(tmp_path: Path) -> None:
    data_hex = "0123456789abcdef" * 2
    points = _hostile_points()
    points.loc[points.index[0], "name"] = f"Trust_{data_hex}"
    pages = [
        save_map(render_map(points, deprivation=None), tmp_path / f"{n}.html").read_text(
            encoding="utf-8"
        )
        for n in (1, 2)
    ]
    assert pages[0] == pages[1]  # two renders, two sets of random ids, one page
    assert f"Trust_{data_hex}" in pages[0]
    assert "map_00000000000000000000000000000001" in pages[0]


# ---------------------------------------------------------------------- the real flow


@pytest.fixture(scope="module")
def flow(shared_data: Path) -> dict:
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points, min_organisations=5)
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(clusters, spots)
    sites = sg.read_sites(shared_data / "sites" / "wmca_brownfield_land_registers.csv")
    return {
        "sites": sg.match_suppliers(sites, points),
        "points": points,
        "wards": wards,
        "clusters": clusters,
        "spots": spots,
        "ranked": ranked,
    }


@pytest.mark.shared_data
def test_the_real_flow_maps_every_layer_without_changing_the_frames(
    flow: dict, tmp_path: Path
) -> None:
    before = {k: flow[k].copy() for k in ("points", "wards")}
    strengths = flow["ranked"].strengths.copy()
    spots = flow["spots"].areas.copy()
    fmap = render_map(
        flow["points"],
        areas=flow["wards"],
        hotspots=flow["spots"],
        candidates=flow["ranked"],
        sites=flow["sites"],
    )
    path = save_map(fmap, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    # every layer but the deprivation radio choice and the size (no SizeResult given)
    overlays = set(LAYER_NAMES.values()) - {LAYER_NAMES["deprivation"], LAYER_NAMES["size"]}
    assert set(_groups(text)) == overlays | DOMAIN_NAMES | {NO_SHADING, BASEMAP}
    assert set(_legends(text)) == overlays | DOMAIN_NAMES
    for line in sg.attribution_lines(flow["points"], flow["wards"]):
        assert script_json(escape_html(line))[1:-1] in text
    assert "Co-operatives UK" in text
    assert "hot-spot class" in text  # the ward tooltips carry the class of hotspots
    assert "per 10,000, smoothed" in text
    assert "IoD2025" in text
    assert path.stat().st_size < 6_000_000
    for key, frame in before.items():
        pd.testing.assert_frame_equal(flow[key], frame)
    pd.testing.assert_frame_equal(flow["ranked"].strengths, strengths)
    pd.testing.assert_frame_equal(flow["spots"].areas, spots)
    # the strengths are labelled by rank, the popups carry the explanation
    assert '"_label":"1"' in text
    first = flow["ranked"].strengths.sort_values("rank")["explanation"].iloc[0]
    assert script_json(escape_html(first))[1:-1] in text


@pytest.mark.shared_data
def test_the_real_flow_with_unranked_clusters_and_no_tiles(flow: dict) -> None:
    text = _html(render_map(clusters=flow["clusters"], deprivation="iod2019", tiles=None))
    assert set(_groups(text, "overlays")) == {LAYER_NAMES["strengths"]}
    assert set(_groups(text, "base_layers")) == DOMAIN_NAMES | {NO_SHADING}
    assert "Deprivation shading (IoD2019, choose one):" in text
    assert "Indices of Deprivation 2019" in text
    alone = _html(render_map(deprivation="iod2019", tiles=None))
    assert "Indices of Deprivation 2019" in alone
    assert "Indices of Deprivation 2025" not in alone  # only the edition drawn is credited
    assert "L.tileLayer(" not in text


def test_the_title_box_links_to_the_accessible_table() -> None:
    import socecon_geo as sg

    html = (
        sg.render_map(areas=sg.load_wards(), deprivation=None, tiles=None, table_link="tables.html")
        .get_root()
        .render()
    )
    assert 'href=\\"tables.html\\"' in html  # inside the title box's JSON string
    assert "accessible tables" in html
    plain = sg.render_map(areas=sg.load_wards(), deprivation=None, tiles=None)
    assert "accessible tables" not in plain.get_root().render()


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "https://example.com/t.html", "/etc/passwd", "../x.html", 5]
)
def test_a_table_link_must_be_a_plain_relative_path(link) -> None:
    import socecon_geo as sg

    with pytest.raises(sg.InputError, match="table_link must be a relative path"):
        sg.render_map(areas=sg.load_wards(), deprivation=None, tiles=None, table_link=link)


def test_every_hotspot_class_has_a_map_label() -> None:
    from socecon_geo._schema import HOTSPOT_CLASSES
    from socecon_geo.maps._render import _CLASS_LABELS

    assert set(_CLASS_LABELS) == set(HOTSPOT_CLASSES)


# ---------------------------------------------------------------------- domains


def _lsoa_data(text: str) -> dict:
    return json.loads(
        re.search(r"var d = (\{\"type\":\"FeatureCollection\".*?\});\n", text).group(1)
    )


def test_every_domain_is_a_radio_choice_on_one_set_of_lsoa_polygons() -> None:
    text = _html(render_map(tiles=None))
    data = _lsoa_data(text)
    lsoas = sg.load_lsoas()
    assert data["keys"] == list(MAIN_DOMAINS)
    assert data["labels"] == [DOMAIN_LABELS[k] for k in MAIN_DOMAINS]
    # the outlines are sent once, with every domain's decile on each feature
    assert text.count('"type":"Feature"') == len(data["features"]) == len(lsoas)
    table = sg.load_geography().deprivation("iod2025").set_index("lsoa_code")
    first = data["features"][0]["properties"]
    assert first["d"] == [int(table.loc[first["c"], f"{k}_decile"]) for k in MAIN_DOMAINS]
    # IMD shown first; every domain but the one shown starts off
    shown = re.findall(r"(feature_group_\w+)\.addTo\(map_\w+\)", text)
    groups = _groups(text, "base_layers")
    assert [name for name, var in groups.items() if var in shown] == [DOMAIN_LABELS["imd"]]
    one = _html(render_map(tiles=None, domains=["imd"]))
    assert len(text) - len(one) < 0.1 * len(one)  # seven more domains cost < 10%


def test_domain_and_domains_choose_what_is_offered_and_shown_first() -> None:
    text = _html(render_map(tiles=None, domain="health", domains=["imd", "adult_skills"]))
    data = _lsoa_data(text)
    assert data["keys"] == ["health", "imd", "adult_skills"]
    assert DOMAIN_LABELS["adult_skills"] in _groups(text, "base_layers")
    shown = re.findall(r"(feature_group_\w+)\.addTo\(map_\w+\)", text)
    groups = _groups(text, "base_layers")
    assert [name for name, var in groups.items() if var in shown] == [DOMAIN_LABELS["health"]]
    with pytest.raises(sg.InputError, match="domain 'poverty' is not in the iod2025 table"):
        render_map(domains=["imd", "poverty"])
    with pytest.raises(sg.InputError, match="domains must be a list of domain names"):
        render_map(domains="income")
    with pytest.raises(sg.InputError, match="domain 'indoors' is not in the iod2019 table"):
        render_map(deprivation="iod2019", domains=["indoors"])


def test_without_deprivation_there_are_no_radio_choices() -> None:
    text = _html(render_map(areas=sg.load_wards(), deprivation=None, tiles=None))
    assert _groups(text, "base_layers") == {}
    assert "Deprivation shading" not in text


# ---------------------------------------------------------------------- offline


def _external_urls(text: str) -> list[str]:
    """Every URL the page itself loads: script src, link href, img src, CSS url()."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for key, value in attrs:
                if value and key in ("src", "href") and tag in ("script", "link", "img"):
                    found.append(value)

    Links().feed(text)
    found += re.findall(r"url\(['\"]?(https?://[^'\")]+)", text)
    return sorted(u for u in found if re.match(r"(https?:)?//", u))


CDN_ASSETS = [
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js",
]
"""What a saved map with ``tiles=None`` loads, as docs/maps.md lists it: Leaflet and two
plugins, from their CDNs (none with ``save_map(..., assets=)``)."""


def test_with_tiles_none_the_page_loads_only_the_documented_leaflet_files(
    tmp_path: Path,
) -> None:
    points = _hostile_points()
    page = save_map(render_map(points, areas=sg.load_wards(), tiles=None), tmp_path / "m.html")
    text = page.read_text(encoding="utf-8")
    assert _external_urls(text) == CDN_ASSETS
    for unused in ("jquery", "bootstrap", "awesome-markers", "fontawesome", "glyphicons"):
        assert unused not in text.lower()
    assert "L.tileLayer(" not in text
    doc = (Path(__file__).parents[1] / "docs" / "maps.md").read_text(encoding="utf-8")
    for url in CDN_ASSETS:
        assert url in doc


def test_the_basemap_is_the_only_other_network_use() -> None:
    text = _html(render_map(areas=sg.load_wards(), deprivation=None))
    assert "basemaps.cartocdn.com/light_all" in text
    assert set(_groups(text, "overlays")) == {BASEMAP, LAYER_NAMES["wards"]}


def _fake_assets(folder: Path) -> Path:
    folder.mkdir()
    (folder / "images").mkdir()
    (folder / "images" / "layers.png").write_bytes(b"\x89PNG fake")
    for name in sg.maps.ASSET_FILES:
        body = {
            ".js": f"/* {name} */ var s = '</script>';",
            ".css": f"/* {name} */ .a {{ background: url(images/layers.png); }}",
            ".svg": "<svg/>",
        }[Path(name).suffix]
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def test_save_map_with_assets_inlines_every_file_and_links_nothing(tmp_path: Path) -> None:
    assets = _fake_assets(tmp_path / "assets")
    fmap = render_map(_hostile_points(), areas=sg.load_wards(), tiles=None)
    text = save_map(fmap, tmp_path / "m.html", assets=assets).read_text(encoding="utf-8")
    assert _external_urls(text) == []
    for name in ("leaflet.js", "leaflet.markercluster.js", "Control.FullScreen.js"):
        assert f"/* {name} */" in text  # the .min. file falls back to the plain one
    assert "var s = '<\\/script>';" in text  # a script's text cannot end the element
    assert "url(images/layers.png)" not in text
    assert 'url("data:image/png;base64,' in text


def test_save_map_with_assets_names_what_is_missing(tmp_path: Path) -> None:
    fmap = render_map(_hostile_points(), deprivation=None, tiles=None)
    with pytest.raises(sg.InputError, match=r"assets folder .* does not exist; fetch"):
        save_map(fmap, tmp_path / "m.html", assets=tmp_path / "nowhere")
    assets = _fake_assets(tmp_path / "assets")
    (assets / "leaflet.markercluster.js").unlink()
    with pytest.raises(sg.InputError, match=r"lacks leaflet\.markercluster\.js; get them with npm"):
        save_map(fmap, tmp_path / "m.html", assets=assets)
    assert not (tmp_path / "m.html").exists()


def _hostile_geography() -> sg.Geography:
    lsoas = sg.load_geography().layer("lsoa21").head(len(HOSTILE)).copy()
    lsoas = lsoas.rename(columns={"lsoa21_code": "LSOA21CD", "lsoa21_name": "LSOA21NM"})
    lsoas["LSOA21NM"] = HOSTILE
    return sg.Geography.from_files(lsoas21=lsoas[["LSOA21CD", "LSOA21NM", "geometry"]])


def test_hostile_lsoa_names_reach_the_page_only_as_encoded_text() -> None:
    text = _html(render_map(geography=_hostile_geography(), tiles=None))
    assert "<script>alert" not in text
    assert "<img" not in text
    assert "{{ this" not in text
    names = [f["properties"]["n"] for f in _lsoa_data(text)["features"]]
    assert names == HOSTILE

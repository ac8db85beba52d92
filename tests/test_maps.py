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
from socecon_geo.maps import LAYER_NAMES, escape_html, render_map, save_map, script_json

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


def _groups(text: str) -> dict[str, str]:
    """Layer-control name -> feature group variable."""
    control = re.search(r"overlays :\s*\{(.*?)\},", text, re.S).group(1)
    return {
        json.loads(name): var
        for name, var in re.findall(r"(\"[^\"]+\") : (feature_group_\w+)", control)
    }


def test_each_layer_has_a_legend_tied_to_it() -> None:
    points = _hostile_points()
    wards = sg.load_wards()
    text = _html(render_map(points, areas=wards))
    groups = _groups(text)
    legends = _legends(text)
    expected = {LAYER_NAMES["deprivation"], LAYER_NAMES["wards"], LAYER_NAMES["organisations"]}
    assert set(groups) == expected
    assert legends == {name: groups[name] for name in expected}
    assert text.count('map.on("overlayremove"') == len(expected)
    assert text.count("L.markerClusterGroup(") == 1  # few points: clustered
    assert "IoD2025 imd decile (LSOA)" in text


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


# ---------------------------------------------------------------------- the real flow


@pytest.fixture(scope="module")
def flow(shared_data: Path) -> dict:
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points, min_organisations=5)
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(clusters, spots)
    return {
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
    )
    path = save_map(fmap, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert set(_groups(text)) == set(LAYER_NAMES.values())
    assert set(_legends(text)) == set(LAYER_NAMES.values())
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
    assert set(_groups(text)) == {LAYER_NAMES["deprivation"], LAYER_NAMES["strengths"]}
    assert "IoD2019 imd decile (LSOA)" in text
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

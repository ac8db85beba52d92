"""The accessible companion table: HTML structure, escaping, CSV neutralisation."""

from __future__ import annotations

import copy
import csv
import html
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import box

import socecon_geo as sg
from socecon_geo._html import escape_text, neutralise_csv_text
from socecon_geo.provenance import Provenance, with_provenance
from socecon_geo.ranking import Candidates
from socecon_geo.tables import accessible_table, table_frames, write_tables

HOSTILE = [
    "St John's Trust",
    'The "Quoted" Co-op',
    "Back\\slash Café",
    "`backtick` ${7*7} {{7*7}}",
    "Tom & Jerry's <b>bold</b>",
    "<script>alert(1)</script>",
    "</script><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "javascript:alert(1)",
    "Line one\nline two",
    "Emoji 🎉 co-op",
    "Cymdeithas Gydweithredol Llanfair ŵ ŷ",
    "合作社 кооператив",
    '=HYPERLINK("http://evil.example","click")',
    "+44 social",
    "-minus",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rReturn",
]

SOURCE = Provenance(
    name="test_register",
    title="A test register",
    publisher="Tests & <Co>",
    vintage="2026",
    licence="Open Government Licence v3.0",
    attribution="Contains test data <i>&</i> more",
)

ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "h1",
    "h2",
    "p",
    "nav",
    "ul",
    "li",
    "a",
    "section",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "footer",
}


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text of each table cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _candidates(names: list[str]) -> tuple[Candidates, gpd.GeoDataFrame]:
    n = len(names)
    geometry = [box(400_000 + 100 * i, 280_000, 400_050 + 100 * i, 280_050) for i in range(n)]
    strengths = gpd.GeoDataFrame(
        {
            "cluster_id": range(1, n + 1),
            "n_organisations": [5 + i for i in range(n)],
            "ward_names": names,
            "lad_names": ["Birmingham"] * n,
            "score_size": [1 - i / n for i in range(n)],
            "score_hotspot": [0.0] * n,
            "score": [1 - i / n for i in range(n)],
            "rank_status": ["ranked"] * n,
            "rank": range(1, n + 1),
            "explanation": [f"Cluster {i + 1}: {name}." for i, name in enumerate(names)],
        },
        geometry=geometry,
        crs=27700,
    )
    gaps = gpd.GeoDataFrame(
        {
            "ward_code": [f"E0500{i:04d}" for i in range(n)],
            "ward_name": names,
            "lad_name": ["Sandwell"] * n,
            "population": [10_000.0] * n,
            "rate_per_10k_eb": [-1.5] * n,  # a negative number stays a number in CSV
            "score_deprivation": [0.5] * n,
            "score": [0.5] * n,
            "rank_status": ["ranked"] * n,
            "rank": range(1, n + 1),
            "explanation": names,
        },
        geometry=geometry,
        crs=27700,
    )
    with_provenance(strengths, SOURCE)
    with_provenance(gaps, SOURCE)
    weights = {"strengths": {"size": 0.5, "hotspot": 0.5}, "gaps": {"deprivation": 1.0}}
    areas = gaps.drop(columns=["score_deprivation", "score", "rank_status", "rank"])
    areas["n_organisations"] = 3
    return Candidates(strengths=strengths, gaps=gaps, weights=weights), areas


# ---------------------------------------------------------------------- escaping


@pytest.mark.parametrize("name", HOSTILE)
def test_escape_text_leaves_no_markup_and_reads_back_as_written(name: str) -> None:
    escaped = escape_text(name)
    assert "<" not in escaped
    assert ">" not in escaped
    assert '"' not in escaped
    assert "'" not in escaped
    assert html.unescape(escaped) == name


def test_escape_text_of_missing_values() -> None:
    assert escape_text(None) == ""
    assert escape_text(float("nan"), missing="not known") == "not known"
    assert escape_text(pd.NA, missing="-") == "-"
    assert escape_text(3) == "3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("St John's Trust", "St John's Trust"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_csv_text(text: str, expected: str) -> None:
    assert neutralise_csv_text(text) == expected


# ---------------------------------------------------------------------- HTML


def test_the_page_is_a_real_accessible_table() -> None:
    ranked, areas = _candidates(["Alpha", "Beta", "Gamma"])
    page = _parse(accessible_table(ranked, areas=areas, title="Test tables"))
    tags = [tag for tag, _ in page.tags]
    assert page.tags[0] == ("html", {"lang": "en-GB"})
    assert tags.count("table") == 3
    assert tags.count("caption") == 3
    assert "script" not in tags
    headers = [attrs for tag, attrs in page.tags if tag == "th"]
    assert all(attrs.get("scope") in ("col", "row") for attrs in headers)
    row_headers = [attrs for attrs in headers if attrs["scope"] == "row"]
    assert len(row_headers) == 9  # three clusters, three gaps, three areas
    assert "Cluster 1" in page.cells
    assert "Alpha (E05000000)" in page.cells
    assert tags.count("h1") == 1
    # every row of a table has one cell per column header, the first a row header
    text = accessible_table(ranked, areas=areas)
    for chunk in text.split("<table>")[1:]:
        table = chunk.split("</table>")[0]
        columns = table.count('<th scope="col">')
        rows = table.split("<tbody>")[1].split("<tr>")[1:]
        assert len(rows) == 3
        for row in rows:
            assert row.startswith('<th scope="row">')
            assert row.count("<td>") + 1 == columns


def test_hostile_names_are_shown_as_text_and_never_run() -> None:
    ranked, areas = _candidates(HOSTILE)
    page_text = accessible_table(ranked, areas=areas, title="<script>alert('t')</script>")
    page = _parse(page_text)
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, tag
        assert not any(key.startswith("on") for key in attrs), (tag, attrs)
        if tag == "a":  # only the page's own table of contents links
            assert (attrs.get("href") or "").startswith("#"), attrs
    assert "javascript:" not in " ".join(str(a.get("href")) for _, a in page.tags)
    assert "<script" not in page_text.lower()
    # every name reads back as written (line breaks as spaces) in a cell of its own
    for name in HOSTILE:
        shown = " ".join(name.split("\n")).replace("\r", " ")
        assert any(shown.strip() in cell for cell in page.cells), name
    assert "Contains test data <i>&</i> more" in html.unescape(page_text)


def test_the_page_forbids_scripts_and_is_written_to_a_file(tmp_path: Path) -> None:
    ranked, areas = _candidates(["Alpha"])
    target = tmp_path / "tables.html"
    page = accessible_table(ranked, areas=areas, path=target)
    assert target.read_text(encoding="utf-8") == page
    assert "default-src 'none'" in page
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary


def test_missing_values_are_said_in_words() -> None:
    _ranked, areas = _candidates(["Alpha", "Beta"])
    areas.loc[0, "population"] = float("nan")
    page = _parse(accessible_table(areas=areas))
    assert "not known" in page.cells


def test_the_callers_frames_are_unchanged(tmp_path: Path) -> None:
    ranked, areas = _candidates(HOSTILE)
    before = (ranked.strengths.copy(), ranked.gaps.copy(), areas.copy())
    attrs = copy.deepcopy((ranked.strengths.attrs, ranked.gaps.attrs, areas.attrs))
    write_tables(ranked, areas, tmp_path)
    for frame, kept in zip((ranked.strengths, ranked.gaps, areas), before, strict=True):
        assert_geodataframe_equal(frame, kept)
    assert (ranked.strengths.attrs, ranked.gaps.attrs, areas.attrs) == attrs


# ---------------------------------------------------------------------- CSV


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_files_neutralise_formulas_and_keep_numbers(tmp_path: Path) -> None:
    ranked, areas = _candidates(HOSTILE)
    written = write_tables(ranked, areas, tmp_path)
    assert {k: p.name for k, p in written.items()} == {
        "html": "tables.html",
        "strengths": "strengths.csv",
        "gaps": "gaps.csv",
        "areas": "areas.csv",
    }
    gaps = _rows(written["gaps"])
    assert len(gaps) == len(HOSTILE)
    names = {row["ward_name"] for row in gaps}
    assert '\'=HYPERLINK("http://evil.example","click")' in names
    assert {"'+44 social", "'-minus", "'@SUM(A1:A2)", "'\tTabbed", "' Return"} <= names
    assert "St John's Trust" in names
    assert "<script>alert(1)</script>" in names
    assert "Line one line two" in names
    for path in (written["strengths"], written["gaps"], written["areas"]):
        for row in _rows(path):
            for value in row.values():
                assert not value.startswith(("=", "+", "@", "\t", "\r")), (path.name, value)
    assert {row["rate_per_10k_eb"] for row in gaps} == {"-1.5"}
    strengths = _rows(written["strengths"])
    assert [row["cluster_id"] for row in strengths] == [str(i) for i in range(1, 20)]


def test_table_frames_carry_the_provenance() -> None:
    ranked, areas = _candidates(["Alpha"])
    frames = table_frames(ranked, areas=areas)
    assert list(frames) == ["strengths", "gaps", "areas"]
    assert sg.attribution_lines(frames["areas"]) == [SOURCE.attribution]


# ---------------------------------------------------------------------- errors


def test_nothing_to_show_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(sg.InputError, match="Nothing to show"):
        accessible_table()
    empty, _ = _candidates([])
    with pytest.raises(sg.InputError, match="Nothing to show"):
        accessible_table(empty)
    with pytest.raises(sg.InputError, match="Nothing to show"):
        write_tables(None, None, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_wrong_arguments_are_input_errors(tmp_path: Path) -> None:
    ranked, areas = _candidates(["Alpha"])
    with pytest.raises(sg.InputError, match="rank_candidates"):
        accessible_table(areas)
    with pytest.raises(sg.InputError, match="area summary"):
        accessible_table(areas="wards.csv")
    with pytest.raises(sg.InputError, match="does not exist"):
        accessible_table(ranked, path=tmp_path / "missing" / "tables.html")
    with pytest.raises(sg.InputError, match="existing folder"):
        write_tables(ranked, areas, tmp_path / "missing")


# ---------------------------------------------------------------------- the real flow


@pytest.mark.shared_data
def test_tables_of_the_real_cooperatives(shared_data: Path, tmp_path: Path) -> None:
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points, min_organisations=5)
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(clusters, spots)
    kept = (ranked.strengths.copy(), ranked.gaps.copy(), spots.areas.copy())
    written = write_tables(ranked, spots, tmp_path)
    assert [len(_rows(written[k])) for k in ("strengths", "gaps", "areas")] == [4, 192, 192]
    page = _parse(written["html"].read_text(encoding="utf-8"))
    assert "Cluster 1" in page.cells
    assert "Alum Rock (E05011120)" in page.cells
    assert any("Balsall Heath West" in cell for cell in page.cells)
    html_text = written["html"].read_text(encoding="utf-8")
    assert "Co-operatives UK open data" in html_text
    assert "Indices of Deprivation 2025" in html_text
    for frame, before in zip((ranked.strengths, ranked.gaps, spots.areas), kept, strict=True):
        assert_geodataframe_equal(frame, before)

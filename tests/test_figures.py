"""The static figure: deprivation deciles, outlines, clusters by rank, files written."""

from __future__ import annotations

import copy
import itertools
import struct
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import pytest
from geopandas.testing import assert_geodataframe_equal
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from shapely.geometry import box

import socecon_geo as sg
from socecon_geo.figures import DECILE_COLOURS, MAX_LABELS, plot_deprivation, save_figure
from socecon_geo.geography import Geography

mpl.use("Agg")


@pytest.fixture(scope="module")
def geography() -> Geography:
    return sg.load_geography()


@pytest.fixture(scope="module")
def clusters() -> gpd.GeoDataFrame:
    # two invented clusters in central Birmingham
    return gpd.GeoDataFrame(
        {"cluster_id": [1, 2], "n_organisations": [8, 5]},
        geometry=[box(407_000, 285_000, 407_600, 285_400), box(404_000, 287_000, 404_500, 287_500)],
        crs=27700,
    )


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _luminance(colour: str) -> float:
    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_palette_reads_in_greyscale() -> None:
    assert len(DECILE_COLOURS) == 10
    grey = [_luminance(c) for c in DECILE_COLOURS]
    assert grey == sorted(grey)  # decile 1 darkest, each lighter than the one before
    assert min(b - a for a, b in itertools.pairwise(grey)) > 0.02


def test_the_figure_shows_deciles_outlines_clusters_and_sources(
    geography: Geography, clusters: gpd.GeoDataFrame
) -> None:
    fig = plot_deprivation(geography=geography, clusters=clusters)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert "IoD2025" in legend.get_title().get_text()
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels[0] == "1 most deprived 10%"
    assert labels[9] == "10 least deprived 10%"
    assert labels[-1] == "cluster (C id)"
    texts = [t.get_text() for t in ax.texts]
    assert {"C1", "C2"} <= set(texts)
    assert any(t.endswith(" km") for t in texts)  # the scale bar
    assert "N" in texts  # the north arrow
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "Indices of Deprivation 2025" in footer
    assert "Open Government Licence" in footer
    # the LSOAs are drawn with the decile colours, most deprived darkest
    faces = {tuple(round(v, 3) for v in c[:3]) for c in ax.collections[0].get_facecolor()}
    assert tuple(round(v, 3) for v in to_rgb(DECILE_COLOURS[0])) in faces
    assert len(faces) <= 11


def test_figure_files_are_written_and_the_svg_is_reproducible(
    geography: Geography, clusters: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    fig = plot_deprivation(geography=geography, clusters=clusters, title="St John's <Trust>")
    png = save_figure(fig, tmp_path / "figure.png")
    svg = save_figure(fig, tmp_path / "figure.svg")
    assert png == tmp_path / "figure.png"
    assert _png_size(png) == (1240, 990)
    assert 100_000 < png.stat().st_size < 2_000_000
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<?xml")
    assert "St John&#39;s &lt;Trust&gt;" in text or "St John's &lt;Trust&gt;" in text
    assert "<dc:date>" not in text
    again = plot_deprivation(geography=geography, clusters=clusters, title="St John's <Trust>")
    second = save_figure(again, tmp_path / "again.svg")
    assert second.read_bytes() == svg.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.svg", "figure.png", "figure.svg"]


def test_hostile_titles_are_drawn_as_written(
    geography: Geography, clusters: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    title = "St John's $x^{$ & $5$ fund </text><script>alert(1)</script>"
    fig = plot_deprivation(geography=geography, clusters=clusters, title=title)
    assert fig.get_suptitle() == title
    save_figure(fig, tmp_path / "title.png")  # mathtext would fail on the unclosed "{"
    text = save_figure(fig, tmp_path / "title.svg").read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_drawing_into_given_axes(geography: Geography, clusters: gpd.GeoDataFrame) -> None:
    fig = Figure(figsize=(4, 4))
    ax = fig.add_subplot()
    assert plot_deprivation(geography=geography, clusters=clusters, ax=ax) is fig
    assert ax.get_legend() is not None


def test_the_callers_frames_are_unchanged(geography: Geography, clusters: gpd.GeoDataFrame) -> None:
    wards = geography.layer("ward")
    kept, kept_wards = clusters.copy(), wards.copy()
    attrs = copy.deepcopy(clusters.attrs)
    plot_deprivation(geography=geography, clusters=clusters.to_crs(4326), areas=wards)
    assert_geodataframe_equal(clusters, kept)
    assert_geodataframe_equal(wards, kept_wards)
    assert clusters.attrs == attrs


def test_errors(geography: Geography, clusters: gpd.GeoDataFrame, tmp_path: Path) -> None:
    wards_only = Geography(name="Wards only", layers={"ward": geography.layer("ward")})
    with pytest.raises(sg.InputError, match=r"Nothing to show.*LSOA 2021 layer"):
        plot_deprivation(geography=wards_only)
    with pytest.raises(sg.InputError, match="no CRS"):
        plot_deprivation(geography=geography, clusters=clusters.set_crs(None, allow_override=True))
    with pytest.raises(sg.InputError, match="clusters must be a GeoDataFrame"):
        plot_deprivation(geography=geography, clusters="clusters.csv")
    fig = Figure()
    with pytest.raises(sg.InputError, match=r"'\.jpg' is not known; use \.png or \.svg"):
        save_figure(fig, tmp_path / "figure.jpg")
    with pytest.raises(sg.InputError, match="does not exist"):
        save_figure(fig, tmp_path / "missing" / "figure.png")
    with pytest.raises(sg.InputError, match="matplotlib Figure"):
        save_figure("figure", tmp_path / "figure.png")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.shared_data
def test_the_figure_of_the_real_cooperatives(shared_data: Path, tmp_path: Path) -> None:
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points, min_organisations=5)
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(clusters, spots)
    kept = ranked.strengths.copy()
    fig = plot_deprivation(candidates=ranked, areas=wards)
    ax = fig.axes[0]
    assert {"#1", "#2", "#3", "#4"} <= {t.get_text() for t in ax.texts}
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "Co-operatives UK open data" in footer
    png = save_figure(fig, tmp_path / "coops.png")
    svg = save_figure(fig, tmp_path / "coops.svg")
    assert 100_000 < png.stat().st_size < 2_000_000
    assert 100_000 < svg.stat().st_size < 5_000_000
    assert "#1" in svg.read_text(encoding="utf-8")
    assert_geodataframe_equal(ranked.strengths, kept)


def test_many_clusters_get_twenty_labels_and_a_small_svg(
    geography: Geography, tmp_path: Path
) -> None:
    # 600 invented clusters on a grid over Birmingham: the 20 strongest are labelled,
    # the rest outlined, and their outlines drawn as pixels in the SVG
    cells = [
        box(395_000 + 600 * i, 280_000 + 600 * j, 395_400 + 600 * i, 280_400 + 600 * j)
        for i in range(30)
        for j in range(20)
    ]
    many = gpd.GeoDataFrame(
        {"cluster_id": range(1, 601), "n_organisations": 10}, geometry=cells, crs=27700
    )
    fig = plot_deprivation(geography=geography, clusters=many)
    labels = {t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("C")}
    assert labels == {f"C{i}" for i in range(1, MAX_LABELS + 1)}
    svg = save_figure(fig, tmp_path / "many.svg")
    text = svg.read_text(encoding="utf-8")
    assert "<image" in text  # the outlines as one picture
    assert svg.stat().st_size < 5_000_000
    few = plot_deprivation(geography=geography, clusters=many.head(30))
    assert "<image" not in save_figure(few, tmp_path / "few.svg").read_text(encoding="utf-8")

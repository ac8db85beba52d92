"""analyse() and Analysis: the whole pipeline, its report and its folder of outputs."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

import socecon_geo as sg
from socecon_geo._report import ORGANISATION_STATUSES, candidates_frame, report_markdown
from socecon_geo._schema import COLUMN_DTYPES, STATUS_MEANINGS
from socecon_geo.pipeline import GEOPACKAGE_LAYERS, OUTPUT_FILES, STEPS


@pytest.fixture(scope="module")
def orgs() -> pd.DataFrame:
    return sg.sample_organisations(800, seed=3)


@pytest.fixture(scope="module")
def analysis(orgs: pd.DataFrame) -> sg.Analysis:
    return sg.analyse(orgs, progress=False, hotspots={"permutations": 999})


@pytest.fixture(scope="module")
def saved(analysis: sg.Analysis, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return analysis.save(tmp_path_factory.mktemp("out") / "nested" / "folder")


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


# ---------------------------------------------------------------------- the results


def test_every_organisation_is_kept_in_order_with_every_status(
    orgs: pd.DataFrame, analysis: sg.Analysis
) -> None:
    points = analysis.points
    assert isinstance(points, gpd.GeoDataFrame)
    assert points["org_id"].tolist() == orgs["org_id"].tolist()
    for column in ORGANISATION_STATUSES:
        assert points[column].dtype == COLUMN_DTYPES[column], column
        assert points[column].notna().all(), column
    assert points["cluster_id"].dtype == COLUMN_DTYPES["cluster_id"]
    assert (points["cluster_id"].notna() == (points["cluster_status"] == "clustered")).all()
    assert points.crs.to_epsg() == 27700


def test_results_match_the_steps_called_one_by_one(
    orgs: pd.DataFrame, analysis: sg.Analysis
) -> None:
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points)
    hot = sg.hotspots(wards, permutations=999)
    candidates = sg.rank_candidates(clusters, wards, hotspots=hot)
    pd.testing.assert_series_equal(
        analysis.points["cluster_status"], clusters.points["cluster_status"]
    )
    assert analysis.areas["n_organisations"].tolist() == wards["n_organisations"].tolist()
    assert analysis.areas["hotspot_class"].tolist() == hot.areas["hotspot_class"].tolist()
    assert analysis.candidates.gaps["ward_code"].tolist() == candidates.gaps["ward_code"].tolist()
    assert len(analysis.clusters.clusters) == len(clusters.clusters)


def test_the_callers_frame_is_not_changed(orgs: pd.DataFrame) -> None:
    before = orgs.copy()
    sg.analyse(orgs.head(200), progress=False, hotspots={"permutations": 0})
    pd.testing.assert_frame_equal(orgs, before)


def test_parameters_timings_and_provenance_are_recorded(analysis: sg.Analysis) -> None:
    assert list(analysis.timings) == list(STEPS)
    assert all(t >= 0 for t in analysis.timings.values())
    params = analysis.parameters
    assert params["socecon_geo"] == sg.__version__
    assert params["level"] == "ward"
    assert params["deprivation"] == "iod2025"
    assert params["hotspots"]["permutations"] == 999
    assert params["clustering"]["method"] == "hdbscan"
    json.dumps(params)  # JSON-ready
    names = {record.name for record in analysis.provenance}
    assert "iod2025" in names
    assert any(name.startswith("wards") for name in names), names
    assert "West Midlands" in repr(analysis)


def test_progress_goes_to_standard_error(capsys: pytest.CaptureFixture[str]) -> None:
    sg.analyse(sg.sample_organisations(150, seed=2), hotspots={"permutations": 0})
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    total = len(STEPS)
    assert [line.split("]")[0] for line in lines] == [f"[{i}/{total}" for i in range(1, total + 1)]
    assert "geocode: 150 organisations" in captured.err
    sg.analyse(sg.sample_organisations(150, seed=2), progress=False, hotspots={"permutations": 0})
    assert capsys.readouterr().err == ""


def test_a_register_file_and_its_read_options(tmp_path: Path, orgs: pd.DataFrame) -> None:
    path = tmp_path / "register.csv"
    orgs[["name", "postcode", "org_type"]].head(300).to_csv(path, index=False, sep=";")
    result = sg.analyse(path, progress=False, hotspots={"permutations": 0})
    assert len(result.points) == 300
    assert result.parameters["registers"][0]["source"].endswith("register.csv")
    assert result.parameters["registers"][0]["rows_read"] == 300
    # a read option reaches read_organisations
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,postcode\nCaf\xe9 Co-op,B1 1AA\n".encode("cp1252"))
    result = sg.analyse(
        latin, read_options={"encoding": "cp1252"}, progress=False, hotspots={"permutations": 0}
    )
    assert result.organisations["name"].tolist() == ["Café Co-op"]


def test_several_registers_are_combined_and_duplicates_counted_once() -> None:
    first = sg.read_organisations(
        pd.DataFrame(
            {
                "name": ["Ladywood Bakers Ltd", "Moseley Food Co-op", "Aston Arts"],
                "postcode": ["B16 8AA", "B13 8HW", "B6 5RQ"],
            }
        )
    )
    second = sg.read_organisations(
        pd.DataFrame(
            {
                "id": ["X1", "X2"],
                "name": ["The Ladywood Bakers", "Digbeth Repair Cafe"],
                "postcode": ["b168aa", "B5 5SE"],
            }
        )
    )
    result = sg.analyse([first, second], progress=False, hotspots={"permutations": 0})
    points = result.points
    assert len(points) == 5
    duplicate = points["duplicate_of"].notna()
    assert duplicate.sum() == 1
    assert (points.loc[duplicate, "cluster_status"] == "duplicate").all()
    assert result.areas.attrs["unassigned"]["duplicate"] == 1
    assert int(result.areas["n_organisations"].sum()) == int(
        (points.loc[~duplicate, "area_status"] == "assigned").sum()
    )
    assert len(result.parameters["registers"]) == 2
    flags = {flag["what"]: flag for flag in result.report()["flags"]}
    assert flags["duplicate rows across registers"]["count"] == 1


@pytest.mark.parametrize("level", ["lsoa21", "msoa21", "lad"])
def test_other_levels(orgs: pd.DataFrame, level: str) -> None:
    result = sg.analyse(orgs, level=level, progress=False, hotspots={"permutations": 0})
    expected = {"lsoa21": 1719, "msoa21": 357, "lad": 7}[level]
    assert len(result.areas) == expected
    assert len(result.candidates.gaps) == expected
    assert result.parameters["level"] == level


def test_iod2019_and_a_deprivation_frame(orgs: pd.DataFrame) -> None:
    result = sg.analyse(
        orgs.head(300),
        deprivation="iod2019",
        level="lsoa11",
        progress=False,
        hotspots={"permutations": 0},
    )
    assert set(result.points["iod_vintage"].dropna()) == {"iod2019"}
    assert len(result.areas) == 1680
    # the bundled IoD2019 has ranks and deciles, not scores: the gaps' score component
    # is left out (and said so), the share in decile 1 is used
    assert "deprivation" in result.candidates.attrs["unavailable_components"]["gaps"]
    assert result.areas["share_pop_imd_decile1"].notna().all()
    with pytest.raises(sg.InputError, match=r"is by LSOA 2011.*use level='lsoa11'"):
        sg.analyse(orgs, deprivation="iod2019", progress=False)
    frame = sg.load_deprivation("iod2025")
    result = sg.analyse(
        orgs.head(300), deprivation=frame, progress=False, hotspots={"permutations": 0}
    )
    assert set(result.points["iod_vintage"].dropna()) == {"iod2025"}


# ---------------------------------------------------------------------- bad input


def test_bad_options_are_reported_together(orgs: pd.DataFrame) -> None:
    with pytest.raises(sg.InputError) as info:
        sg.analyse(
            orgs,
            level="county",
            deprivation="iod2010",
            clustering={"min_size": 5},
            hotspots={"areas": None},
            read_options={"encodng": "utf-8"},
            seed=1.5,  # type: ignore[arg-type]
            progress=False,
        )
    message = str(info.value)
    for fragment in (
        "level='county'",
        "'iod2010'",
        "clustering has 'min_size'",
        "hotspots has 'areas'",
        "read_options has 'encodng'",
        "seed must be an integer",
    ):
        assert fragment in message, fragment


@pytest.mark.parametrize(
    ("organisations", "fragment"),
    [
        (42, "not int"),
        ([], "the list of registers is empty"),
        ([pd.DataFrame({"name": ["A"], "postcode": ["B1 1AA"]}), 3], "item 3 is a int"),
    ],
)
def test_bad_organisations(organisations: object, fragment: str) -> None:
    with pytest.raises(sg.InputError, match=fragment):
        sg.analyse(organisations, progress=False)  # type: ignore[arg-type]


def test_a_missing_register_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(sg.InputError, match=r"missing\.csv"):
        sg.analyse(tmp_path / "missing.csv", progress=False)


def test_a_geography_of_the_wrong_kind() -> None:
    with pytest.raises(sg.InputError, match="geography must be a Geography"):
        sg.analyse(sg.sample_organisations(10), geography="wmca", progress=False)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the report


def test_every_status_count_sums_to_the_organisations(analysis: sg.Analysis) -> None:
    report = analysis.report()
    total = report["organisations"]["total"]
    assert total == len(analysis.points)
    for column in ORGANISATION_STATUSES:
        block = report["statuses"][column]
        assert sum(block["counts"].values()) == total, column
        assert list(block["counts"]) == list(STATUS_MEANINGS[column]), column
        assert set(block["meanings"]) == set(block["counts"])
    left_out = sum(report["organisations"]["not_counted_in_areas"].values())
    assert report["organisations"]["counted_in_areas"] + left_out == total
    assert sum(report["hotspots"]["classes"].values()) == len(analysis.areas)
    json.dumps(report)


def test_the_report_flags_what_needs_checking(analysis: sg.Analysis) -> None:
    flags = {flag["what"]: flag for flag in analysis.report()["flags"]}
    counts = analysis.points["geocode_status"].value_counts()
    unplaced = sum(int(counts[s]) for s in ("invalid_postcode", "missing_postcode", "not_found"))
    assert flags["organisations not placed"]["count"] == unplaced
    assert (
        flags["organisations placed at a postcode sector's middle"]["count"]
        == counts["sector_centroid"]
    )
    assert all(flag["why"] for flag in flags.values())


def test_summary_explains_every_status_it_prints(analysis: sg.Analysis) -> None:
    text = analysis.summary()
    head, _, legend = text.partition("what the statuses mean:")
    assert "800 organisations" in head
    for line in head.splitlines():
        label, _, counts = line.partition(": ")
        if label in ("geocoded", "areas", "deprivation", "clusters"):
            for item in counts.split(", "):
                status = item.rsplit(" ", 1)[0]
                assert f"  {label} {status}: " in legend, (label, status)


def test_the_markdown_report_escapes_text_from_the_data(analysis: sg.Analysis) -> None:
    report = analysis.report()
    hostile = "<script>alert('x')</script> [click](javascript:alert(1)) | `tick`"
    report["inputs"] = [{**report["inputs"][0], "source": hostile}]
    report["candidates"]["gaps"][0]["name"] = hostile
    text = report_markdown(report)
    assert "<script>" not in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)  # never a link
    assert "&lt;script&gt;" in text
    assert "\\[click\\](javascript:alert(1))" in text
    # the table keeps its columns: the name's | is escaped
    lines = text.splitlines()
    for row in (line for line in lines if "&lt;script&gt;alert" in line):
        rule = lines[lines.index(row) - 1]
        while not rule.startswith("|---"):
            rule = lines[lines.index(rule) - 1]
        assert len(re.findall(r"(?<!\\)\|", row)) == rule.count("|")


def test_candidates_frame_holds_both_lenses(analysis: sg.Analysis) -> None:
    frame = candidates_frame(analysis.candidates)
    lenses = frame["lens"].value_counts()
    assert lenses["gap"] == len(analysis.candidates.gaps)
    assert lenses.get("strength", 0) == len(analysis.candidates.strengths)
    assert frame.columns[-1] == "explanation"
    assert frame["rank"].dtype == "Int64"


# ---------------------------------------------------------------------- saving


def test_save_writes_every_output(saved: dict[str, Path], analysis: sg.Analysis) -> None:
    assert set(saved) <= set(OUTPUT_FILES)
    assert {"map", "tables", "candidates", "geopackage", "report_md", "report_json"} <= set(saved)
    for key, path in saved.items():
        assert path.name == OUTPUT_FILES[key]
        assert path.stat().st_size > 0
        assert path.stat().st_mode & 0o044, f"{path.name} is not readable by others"
    folder = saved["map"].parent
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "temporary files left"


def test_the_geopackage_reads_back(saved: dict[str, Path], analysis: sg.Analysis) -> None:
    path = saved["geopackage"]
    # every layer but the sites, which need sites=
    expected = [name for name in GEOPACKAGE_LAYERS if name != "sites"]
    assert [name for name, _ in pyogrio.list_layers(path)] == expected
    organisations = gpd.read_file(path, layer="organisations")
    assert len(organisations) == len(analysis.points)
    assert organisations["org_id"].tolist() == analysis.points["org_id"].tolist()
    assert organisations["cluster_status"].tolist() == (
        analysis.points["cluster_status"].astype(str).tolist()
    )
    assert organisations.crs.to_epsg() == 27700
    areas = gpd.read_file(path, layer="areas")
    assert len(areas) == len(analysis.areas)
    assert "hotspot_class" in areas.columns
    assert len(gpd.read_file(path, layer="clusters")) == len(analysis.candidates.strengths)
    assert len(gpd.read_file(path, layer="gaps")) == len(analysis.candidates.gaps)


def test_the_csv_and_json_read_back(saved: dict[str, Path], analysis: sg.Analysis) -> None:
    candidates = pd.read_csv(saved["candidates"], encoding="utf-8-sig")
    assert len(candidates) == len(analysis.candidates.gaps) + len(analysis.candidates.strengths)
    report = json.loads(saved["report_json"].read_text(encoding="utf-8"))
    assert report["organisations"]["total"] == len(analysis.points)
    assert set(report["outputs"].values()) == {p.name for p in saved.values()}
    markdown = saved["report_md"].read_text(encoding="utf-8")
    assert markdown.startswith("# Social economy of West Midlands Combined Authority")
    assert "## Flagged" in markdown
    html = saved["map"].read_text(encoding="utf-8")
    assert 'href=\\"tables.html\\"' in html  # inside the title box's script string


def test_saving_again_gives_identical_files(
    saved: dict[str, Path], analysis: sg.Analysis, tmp_path: Path
) -> None:
    again = analysis.save(tmp_path)
    assert _digests(tmp_path) == _digests(saved["map"].parent)
    assert set(again) == set(saved)


def test_a_rerun_in_another_process_gives_identical_files(tmp_path: Path) -> None:
    script = (
        "import sys, socecon_geo as sg\n"
        "sg.analyse(sg.sample_organisations(300, seed=5), progress=False)"
        ".save(sys.argv[1])\n"
    )
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], check=True)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_save_refuses_a_file(analysis: sg.Analysis, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("x")
    with pytest.raises(sg.InputError, match="it is a file; name a folder"):
        analysis.save(target)


# ---------------------------------------------------------------------- real data


def test_the_cooperatives_uk_register(shared_data: Path, tmp_path: Path) -> None:
    register = shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv"
    result = sg.analyse(register, progress=False, hotspots={"permutations": 999})
    assert len(result.points) == 7272
    assert result.parameters["registers"][0]["register"] == "coopsuk"
    report = result.report()
    assert report["statuses"]["area_status"]["counts"]["assigned"] == 228
    flags = {flag["what"]: flag["count"] for flag in report["flags"]}
    assert flags["organisations outside the postcode table's coverage"] == 6900
    assert report["organisations"]["counted_in_areas"] == int(result.areas["n_organisations"].sum())
    written = result.save(tmp_path)
    organisations = gpd.read_file(written["geopackage"], layer="organisations")
    assert len(organisations) == 7272


def test_every_status_value_has_a_meaning() -> None:
    from socecon_geo import _schema

    vocabularies = {
        "geocode_status": _schema.GEOCODE_STATUSES,
        "area_status": _schema.AREA_STATUSES,
        "deprivation_status": _schema.DEPRIVATION_STATUSES,
        "cluster_status": _schema.CLUSTER_STATUSES,
        "rank_status": _schema.RANK_STATUSES,
        "hotspot_class": _schema.HOTSPOT_CLASSES,
        "change_status": _schema.CHANGE_STATUSES,
        "match_method": _schema.MATCH_METHODS,
        "trajectory_status": _schema.TRAJECTORY_STATUSES,
        "size_status": _schema.SIZE_STATUSES,
        "site_status": _schema.SITE_STATUSES,
        "site_size_status": _schema.SITE_SIZE_STATUSES,
        "supply_status": _schema.SUPPLY_STATUSES,
        "supplier_status": _schema.SUPPLIER_STATUSES,
    }
    assert set(STATUS_MEANINGS) == set(vocabularies)
    for column, values in vocabularies.items():
        assert tuple(STATUS_MEANINGS[column]) == values, column
        assert all(text and text[0].islower() for text in STATUS_MEANINGS[column].values())


def test_the_report_gives_examples_by_file_row(analysis: sg.Analysis, orgs: pd.DataFrame) -> None:
    examples = analysis.report()["statuses"]["geocode_status"]["examples"]
    assert "matched" not in examples
    missing = examples["missing_postcode"]
    assert 1 <= len(missing) <= 5
    expected = orgs.loc[orgs["postcode"].isna(), "source_row"].head(5).tolist()
    assert [item["source_row"] for item in missing] == expected
    text = report_markdown(analysis.report())
    assert "Examples (`source_row`" in text


def test_headings_differing_only_in_case_reach_the_geopackage(tmp_path: Path) -> None:
    first = sg.read_organisations(pd.DataFrame({"Name": ["Aston Arts"], "postcode": ["B6 5RQ"]}))
    second = sg.read_organisations(
        pd.DataFrame({"name": ["Digbeth Co-op"], "postcode": ["B5 5SE"]})
    )
    assert "src_Name" in first.columns
    assert "src_name" in second.columns
    result = sg.analyse([first, second], progress=False, hotspots={"permutations": 0})
    # two files without an id column: their row ids are told apart, not refused
    assert result.points["org_id"].tolist() == ["1:DataFrame:row:1", "2:DataFrame:row:1"]
    written = result.save(tmp_path)
    organisations = gpd.read_file(written["geopackage"], layer="organisations")
    assert {"src_Name", "src_name_2"} <= set(organisations.columns)
    assert organisations["src_name_2"].isna().tolist() == [True, False]
    assert organisations["src_name_2"].iloc[1] == "Digbeth Co-op"


# ---------------------------------------------------------------------- size and growth


def test_the_size_of_the_social_economy_is_measured(analysis: sg.Analysis) -> None:
    size = analysis.size
    assert size is not None
    assert size.params["level"] == "ward"
    assert tuple(size.params["measures"]) == ("count", "income")  # the sample has income
    counted = size.organisations["size_status"] == "counted"
    overall = size.totals.set_index("lad_code").loc["all"]
    assert overall["n_organisations"] == counted.sum()
    income = size.organisations.loc[counted, "income"].sum()
    assert overall["income_total"] == pytest.approx(income)
    report = analysis.report()["size"]
    assert sum(report["statuses"]["counts"].values()) == len(analysis.points)
    assert report["by_authority"][-1]["lad_code"] == "all"


def test_growth_needs_registration_dates(analysis: sg.Analysis) -> None:
    assert analysis.growth is None
    assert analysis.trajectory is None
    growth = analysis.report()["growth"]
    assert growth == {
        "ran": False,
        "why": "no organisation has a registration date (registered_on)",
    }
    assert "Not measured: no organisation has a registration date" in report_markdown(
        analysis.report()
    )


def test_size_and_growth_can_be_switched_off_and_their_options_are_checked(
    orgs: pd.DataFrame,
) -> None:
    result = sg.analyse(
        orgs.head(200), size=False, growth=False, progress=False, hotspots={"permutations": 0}
    )
    assert result.size is None
    assert result.parameters["growth"]["why"] == "switched off (growth=False)"
    with pytest.raises(sg.InputError) as info:
        sg.analyse(orgs, size={"measure": "income"}, growth={"baseline": 2015}, progress=False)
    assert "size has 'measure'" in str(info.value)
    assert "growth has 'baseline'" in str(info.value)


def test_size_and_growth_on_the_2016_cooperatives(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "organisations" / "coopsuk_2016"
    result = sg.analyse(
        folder / "2016open_data_organisations.csv",
        read_options={"economy": folder / "2016open_data_economy_final.csv"},
        clustering={"min_organisations": 5},
        hotspots={"permutations": 99},
        progress=False,
    )
    size = result.size
    assert size is not None
    overall = size.totals.set_index("lad_code").loc["all"]
    assert overall["n_organisations"] == 224
    assert overall["income_total"] == pytest.approx(76_006_277)
    growth = result.growth
    assert growth is not None
    by_year = growth.groupby("year")[["births", "deaths", "stock"]].sum()
    # stock(t) = stock(t - 1) + births(t) - deaths(t)
    change = by_year["stock"].diff().dropna()
    assert (change == (by_year["births"] - by_year["deaths"]).iloc[1:]).all()
    assert by_year.loc[2012].tolist() == [12, 16, 220]
    trajectory = result.trajectory
    assert trajectory is not None
    assert trajectory.parameters["baseline_year"] == 2015
    assert trajectory.parameters["required_rate"] == pytest.approx(2 ** (1 / 10) - 1)
    assert sum(trajectory.counts.values()) == 7
    written = result.save(tmp_path)
    for key in ("size_csv", "growth_csv", "trajectory_csv", "trajectory_png", "trajectory_svg"):
        assert written[key].stat().st_size > 0, key
    assert "size" in [name for name, _ in pyogrio.list_layers(written["geopackage"])]
    markdown = written["report_md"].read_text(encoding="utf-8")
    assert "## Size of the social economy" in markdown
    assert "needs 7.18% a year" in markdown
    assert "| Sandwell | 25 | £15,313,667 | £2,575,590 |" in markdown
    html = written["map"].read_text(encoding="utf-8")
    assert "Size of the social economy" in html


def test_sites_reach_the_report_the_map_and_the_folder(shared_data: Path, tmp_path: Path) -> None:
    result = sg.analyse(
        shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv",
        sites=shared_data / "sites" / "wmca_brownfield_land_registers.csv",
        suppliers={"programme": "housing"},
        hotspots={"permutations": 0},
        progress=False,
    )
    match = result.suppliers
    assert match is not None
    assert len(match.sites) == 2115
    assert len(match.organisations) == len(result.points)
    report = result.report()["suppliers"]
    housing = report["by_programme"][0]
    assert (housing["sites_k1_3000m"], housing["dwellings_k1_3000m"]) == (508, 16356)
    written = result.save(tmp_path)
    assert "sites" in [name for name, _ in pyogrio.list_layers(written["geopackage"])]
    shortlist = pd.read_csv(written["shortlist_csv"], encoding="utf-8-sig")
    assert shortlist["site_id"].nunique() == 2115
    markdown = written["report_md"].read_text(encoding="utf-8")
    assert "## Social procurement" in markdown
    assert "Wholesale markets, Barford St" in markdown
    assert "Investment sites" in written["map"].read_text(encoding="utf-8")


def test_bad_sites_and_supplier_options_are_input_errors(orgs: pd.DataFrame) -> None:
    with pytest.raises(sg.InputError) as info:
        sg.analyse(orgs, sites=42, suppliers={"band": 3000}, progress=False)  # type: ignore[arg-type]
    message = str(info.value)
    assert "sites must be a path or a GeoDataFrame from read_sites, not int" in message
    assert "suppliers has 'band'" in message


def test_save_refuses_a_missing_map_assets_folder(analysis: sg.Analysis, tmp_path: Path) -> None:
    with pytest.raises(sg.InputError, match="assets folder"):
        analysis.save(tmp_path / "out", map_assets=tmp_path / "nowhere")

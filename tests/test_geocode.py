from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from socecon_geo import _http, sample_organisations
from socecon_geo._errors import CRSMismatchError, DownloadError, InputError, SocEconGeoWarning
from socecon_geo.geocoding import (
    GEOCODE_STATUSES,
    GeocodingReport,
    OfflinePostcodeGeocoder,
    PostcodesIOGeocoder,
    build_postcode_table,
    geocode,
    geocoding_report,
)
from socecon_geo.provenance import get_provenance

ADDED = [
    "postcode_normalised",
    "postcode_status",
    "geocode_status",
    "geocode_method",
    "position_quality",
    "postcode_lad_code",
    "postcode_ward_code",
    "postcode_lsoa11_code",
    "postcode_lsoa21_code",
]


# ------------------------------------------------------------------ a fabricated table


@pytest.fixture
def table() -> pd.DataFrame:
    """Seven fabricated postcodes in the B and CV areas."""
    return pd.DataFrame(
        {
            "postcode": [
                "B15 2TT",
                "B15 2TU",
                "B15 2XA",
                "B15 2XB",
                "B15 3AA",
                "CV1 5FB",
                "B16 8AA",
            ],
            "easting": [405000.0, 405100.0, 405500.0, np.nan, 406000.0, 433000.0, np.nan],
            "northing": [284000.0, 284100.0, 284500.0, np.nan, 283000.0, 279000.0, np.nan],
            "quality": [10, 30, 10, 90, 10, 10, 90],
            "lad_code": ["E08000025"] * 5 + ["E08000026", "E08000025"],
            "ward_code": ["W1", "W2", "W1", None, "W3", "W9", "W5"],
            "lsoa11_code": ["L1", "L2", "L1", None, "L3", "L9", "L5"],
            "terminated": [False, False, True, True, True, False, False],
        }
    )


@pytest.fixture
def geocoder(table: pd.DataFrame) -> OfflinePostcodeGeocoder:
    return OfflinePostcodeGeocoder(table, name="offline:test")


CASES = [
    # raw postcode, status, method, quality, (x, y) or None, lad, ward
    ("b152tt", "matched", "offline:test", 10, (405000, 284000), "E08000025", "W1"),
    ("B15-2TU", "matched", "offline:test", 30, (405100, 284100), "E08000025", "W2"),
    # not in the table, sector B15 2 is: mean of its live located postcodes
    (
        "B15 2ZZ",
        "sector_centroid",
        "offline:sector-centroid",
        60,
        (405050, 284050),
        "E08000025",
        None,
    ),
    ("B15 2XA", "terminated", "offline:test", 10, (405500, 284500), "E08000025", "W1"),
    ("B15 2XB", "terminated", "offline:test", 90, None, "E08000025", None),
    # sector B15 3 has only a terminated postcode: no centroid
    ("B15 3ZZ", "not_found", "offline:test", None, None, None, None),
    ("B99 9ZZ", "not_found", "offline:test", None, None, None, None),
    ("EC1A 1BB", "outside_coverage", "offline:test", None, None, None, None),
    # live, no point, and no located live postcode in its sector
    ("B16 8AA", "matched", "offline:test", 90, None, "E08000025", "W5"),
    ("B15 2TO", "invalid_postcode", None, None, None, None, None),
    ("", "missing_postcode", None, None, None, None, None),
    (None, "missing_postcode", None, None, None, None, None),
]


def test_every_status(geocoder: OfflinePostcodeGeocoder) -> None:
    orgs = pd.DataFrame({"name": [f"org {i}" for i in range(len(CASES))]})
    orgs["postcode"] = [case[0] for case in CASES]
    out = geocode(orgs, geocoder=geocoder)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.to_epsg() == 27700
    for i, (raw, status, method, quality, point, lad, ward) in enumerate(CASES):
        row = out.iloc[i]
        assert row["geocode_status"] == status, raw
        assert (None if pd.isna(row["geocode_method"]) else row["geocode_method"]) == method, raw
        assert (None if pd.isna(row["position_quality"]) else row["position_quality"]) == quality
        geom = row["geometry"]
        if point is None:
            assert geom is None, raw
        else:
            assert (geom.x, geom.y) == point, raw
        assert (None if pd.isna(row["postcode_lad_code"]) else row["postcode_lad_code"]) == lad
        assert (None if pd.isna(row["postcode_ward_code"]) else row["postcode_ward_code"]) == ward
    assert set(out["geocode_status"]) == set(GEOCODE_STATUSES)
    assert out["postcode_normalised"].tolist()[:3] == ["B15 2TT", "B15 2TU", "B15 2ZZ"]
    assert out["postcode_status"].tolist()[-3:] == ["invalid_format", "missing", "missing"]


def test_one_row_per_input_row_same_index_and_order(geocoder: OfflinePostcodeGeocoder) -> None:
    orgs = pd.DataFrame(
        {"postcode": ["CV1 5FB", "b15 2tt", "junk", "B15 2TT", None, "CV1 5FB"], "n": range(6)},
        index=["b", "a", "a", 10, 10, "b"],
    )
    before = orgs.copy()
    out = geocode(orgs, geocoder=geocoder)
    assert out.index.equals(orgs.index)
    assert out["n"].tolist() == list(range(6))
    assert list(out.columns) == ["postcode", "n", *ADDED, "geometry"]
    assert out["geocode_status"].tolist() == [
        "matched",
        "matched",
        "invalid_postcode",
        "matched",
        "missing_postcode",
        "matched",
    ]
    pd.testing.assert_frame_equal(orgs, before)  # the input is not changed


def test_each_distinct_postcode_is_looked_up_once(table: pd.DataFrame) -> None:
    seen: list[list[str]] = []

    class Recording(OfflinePostcodeGeocoder):
        def lookup(self, postcodes: pd.Index) -> pd.DataFrame:
            seen.append(list(postcodes))
            return super().lookup(postcodes)

    orgs = pd.DataFrame({"postcode": ["b152tt", "B15 2TT", " B15  2TT ", "bad", None, "CV1 5FB"]})
    geocode(orgs, geocoder=Recording(table))
    assert seen == [["B15 2TT", "CV1 5FB"]]


def test_no_valid_postcodes_means_no_lookup(table: pd.DataFrame) -> None:
    class Refusing(OfflinePostcodeGeocoder):
        def lookup(self, postcodes: pd.Index) -> pd.DataFrame:
            raise AssertionError("lookup must not be called")

    out = geocode(pd.DataFrame({"postcode": ["bad", None, ""]}), geocoder=Refusing(table))
    assert out["geocode_status"].tolist() == [
        "invalid_postcode",
        "missing_postcode",
        "missing_postcode",
    ]
    assert out.geometry.isna().all()


def test_empty_input(geocoder: OfflinePostcodeGeocoder) -> None:
    out = geocode(pd.DataFrame({"postcode": pd.Series([], dtype="str")}), geocoder=geocoder)
    assert len(out) == 0
    assert list(out.columns) == ["postcode", *ADDED, "geometry"]
    assert out.crs.to_epsg() == 27700


def test_an_empty_register_geocodes_to_an_empty_frame(geocoder: OfflinePostcodeGeocoder) -> None:
    # the register schema's text columns are pyarrow strings: an empty one broke parsing
    empty = sample_organisations(5).iloc[:0]
    out = geocode(empty, geocoder=geocoder)
    assert len(out) == 0
    assert out.crs.to_epsg() == 27700


def test_geodataframe_input_and_geocoding_twice(geocoder: OfflinePostcodeGeocoder) -> None:
    orgs = gpd.GeoDataFrame(
        {"code": ["B15 2TT", "EC1A 1BB"], "kind": ["x", "y"]},
        geometry=[shapely.Point(-1.9, 52.4), shapely.Point(0, 51)],
        crs="EPSG:4326",
    )
    out = geocode(orgs, geocoder=geocoder, postcode_column="code")
    assert out.crs.to_epsg() == 27700
    assert out.geometry.iloc[0].equals(shapely.Point(405000, 284000))
    assert out.geometry.iloc[1] is None
    assert out["kind"].tolist() == ["x", "y"]
    again = geocode(out, geocoder=geocoder, postcode_column="code")
    assert list(again.columns) == list(out.columns)
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.drop(columns="geometry")), pd.DataFrame(out.drop(columns="geometry"))
    )


def test_missing_postcode_column_names_columns_and_fix(geocoder: OfflinePostcodeGeocoder) -> None:
    orgs = pd.DataFrame({"Name": ["a"], "Post Code": ["B15 2TT"]})
    with pytest.raises(
        InputError, match=r"no column 'postcode'; the columns are \['Name', 'Post Code'\]"
    ) as info:
        geocode(orgs, geocoder=geocoder)
    assert "postcode_column=" in str(info.value)
    assert "Perhaps postcode_column='Post Code'" in str(info.value)


def test_duplicated_postcode_column(geocoder: OfflinePostcodeGeocoder) -> None:
    orgs = pd.DataFrame([["B15 2TT", "B15 2TU"]], columns=["postcode", "postcode"])
    with pytest.raises(InputError, match="2 columns named 'postcode'"):
        geocode(orgs, geocoder=geocoder)


def test_not_a_frame(geocoder: OfflinePostcodeGeocoder) -> None:
    with pytest.raises(InputError, match="must be a pandas DataFrame or GeoDataFrame, got list"):
        geocode(["B15 2TT"], geocoder=geocoder)  # type: ignore[arg-type]


def test_not_a_geocoder() -> None:
    with pytest.raises(InputError, match="geocoder must have a 'name' and a 'lookup"):
        geocode(pd.DataFrame({"postcode": ["B15 2TT"]}), geocoder=object())  # type: ignore[arg-type]


# ------------------------------------------------------------------ custom geocoders


class Minimal:
    """The least a geocoder can return: a status and coordinates."""

    name = "minimal"

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer

    def lookup(self, postcodes: pd.Index) -> Any:
        if self.answer is not None:
            return self.answer
        return pd.DataFrame(
            {"geocode_status": "matched", "easting": 400000, "northing": 300000},
            index=postcodes,
        ).iloc[:-1]  # the last postcode is left out: it counts as not found


def test_custom_geocoder_with_few_columns() -> None:
    out = geocode(pd.DataFrame({"postcode": ["B1 1AA", "B1 1AB", "x"]}), geocoder=Minimal())
    assert out["geocode_status"].tolist() == ["matched", "not_found", "invalid_postcode"]
    assert out["geocode_method"].tolist()[:2] == ["minimal", "minimal"]
    assert out.geometry.iloc[0].equals(shapely.Point(400000, 300000))
    assert out.geometry.iloc[1] is None
    assert out["postcode_lad_code"].isna().all()


@pytest.mark.parametrize(
    ("answer", "error", "match"),
    [
        ([1, 2], InputError, "must return a pandas DataFrame, got list"),
        (
            pd.DataFrame({"easting": [1.0]}, index=["B1 1AA"]),
            InputError,
            "no 'geocode_status' column",
        ),
        (
            pd.DataFrame({"geocode_status": ["ok"]}, index=["B1 1AA"]),
            InputError,
            r"geocode_status value\(s\) \['ok'\]",
        ),
        (
            pd.DataFrame({"geocode_status": ["matched", "matched"]}, index=["B1 1AA", "B1 1AA"]),
            InputError,
            "duplicate postcodes",
        ),
        (
            pd.DataFrame(
                {
                    "geocode_status": ["matched"],
                    "geometry": gpd.GeoSeries([shapely.Point(-1.9, 52.4)], crs=4326),
                },
                index=["B1 1AA"],
            ),
            CRSMismatchError,
            r"EPSG:4326, expected EPSG:27700; convert them with .to_crs",
        ),
        (
            pd.DataFrame({"geocode_status": ["matched"], "geometry": [1.0]}, index=["B1 1AA"]),
            InputError,
            "returned a 'geometry' column that is not geometry",
        ),
    ],
)
def test_bad_geocoder_answers(answer: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        geocode(pd.DataFrame({"postcode": ["B1 1AA"]}), geocoder=Minimal(answer))


# ------------------------------------------------------------------ the postcode table


def test_table_problems_are_collected() -> None:
    bad = pd.DataFrame({"postcode": ["B15 2TT"], "easting": ["four"], "quality": ["x"]})
    with pytest.raises(InputError, match=r"missing column\(s\) \['northing'\]"):
        OfflinePostcodeGeocoder(bad)
    bad["northing"] = [1.0]
    with pytest.raises(InputError, match="2 problems") as info:
        OfflinePostcodeGeocoder(bad)
    assert "column 'easting' has 1 non-numeric value(s), e.g. ['four']" in str(info.value)
    assert "column 'quality' has 1 non-numeric" in str(info.value)
    with pytest.raises(InputError, match="expected a pandas DataFrame, got str"):
        OfflinePostcodeGeocoder("table.csv")  # type: ignore[arg-type]
    bad["easting"] = [1.0]
    bad["quality"] = [10]
    bad["terminated"] = ["maybe"]
    with pytest.raises(
        InputError, match=r"'terminated' must be true/false, found e.g. \['maybe'\]"
    ):
        OfflinePostcodeGeocoder(bad)


def test_table_rows_without_valid_postcode_are_ignored_with_warning(table: pd.DataFrame) -> None:
    table.loc[len(table)] = ["NPT 0AD", 1.0, 1.0, 10, None, None, None, True]
    with pytest.warns(
        SocEconGeoWarning, match=r"1 row\(s\) have no valid postcode \(e.g. \['NPT 0AD'\]\)"
    ):
        geocoder = OfflinePostcodeGeocoder(table)
    assert len(geocoder.table) == 7


def test_table_duplicates_keep_live_best_quality() -> None:
    table = pd.DataFrame(
        {
            "postcode": ["b1 1aa", "B1 1AA", "B1 1AA"],
            "easting": [1.0, 2.0, 3.0],
            "northing": [1.0, 2.0, 3.0],
            "quality": [10, 30, 10],
            "terminated": ["yes", "no", "false"],
        }
    )
    geocoder = OfflinePostcodeGeocoder(table)
    assert geocoder.table.loc["B1 1AA", "easting"] == 3.0
    assert len(geocoder.table) == 1
    assert "postcodes=1" in repr(geocoder)


def test_minimal_table_and_zero_coordinates() -> None:
    table = pd.DataFrame(
        {"postcode": ["B1 1AA", "B2 1AB", "B2 1AD"], "easting": [0, 5, 7], "northing": [0, 6, 8]}
    )
    orgs = pd.DataFrame({"postcode": ["B1 1AA", "B2 1AB", "B2 1AD"]})
    out = geocode(orgs, geocoder=OfflinePostcodeGeocoder(table))
    assert out["geocode_status"].tolist() == ["matched"] * 3
    assert out["position_quality"].tolist() == [90, 10, 10]  # 0/0 means no coordinates
    assert out.geometry.iloc[0] is None
    # a live postcode without a point goes to its sector's centroid where there is one
    out = geocode(
        orgs.iloc[1:],
        geocoder=OfflinePostcodeGeocoder(table.assign(easting=[0, 0, 7], northing=[0, 0, 8])),
    )
    assert out["geocode_status"].tolist() == ["sector_centroid", "matched"]
    assert out["position_quality"].tolist() == [60, 10]
    assert out["geocode_method"].tolist() == ["offline:sector-centroid", "offline:postcode-table"]


def test_from_file_parquet_and_csv(tmp_path: Path, table: pd.DataFrame) -> None:
    table.to_parquet(tmp_path / "table.parquet")
    table.to_csv(tmp_path / "table.csv", index=False)
    orgs = pd.DataFrame({"postcode": ["B15 2TT", "B15 2XB"]})
    for name in ("table.parquet", "table.csv"):
        out = geocode(orgs, geocoder=OfflinePostcodeGeocoder.from_file(tmp_path / name))
        assert out["geocode_status"].tolist() == ["matched", "terminated"], name
    with pytest.raises(InputError, match="does not exist"):
        OfflinePostcodeGeocoder.from_file(tmp_path / "nope.parquet")
    (tmp_path / "text.parquet").write_text("postcode,easting,northing\n")
    with pytest.raises(InputError, match=r"'.*text.parquet' cannot be read as Parquet"):
        OfflinePostcodeGeocoder.from_file(tmp_path / "text.parquet")


# ------------------------------------------------------------------ building tables

CPO_HEADERS = (
    "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n"
    "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,"
    "NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code\n"
)
CPO_B = (
    '"B1 1AA",10,406500,286400,"E92000001","E19000001","E18000005","","E08000025","E05011151"\n'
    '"B1 1AB",10,406700,286600,"E92000001","E19000001","E18000005","","E08000025","E05011151"\n'
    '"B1 1ZZ",90,0,0,"E92000001","E19000001","E18000005","","E08000025","E05011151"\n'
)
CPO_CV = (
    '"CV1 5FB",50,433000,279000,"E92000001","E19000001","E18000005","","E08000026","E05001219"\n'
)


def write_cpo_zip(path: Path, extra_row: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Doc/Code-Point_Open_Column_Headers.csv", CPO_HEADERS)
        archive.writestr("Data/CSV/b.csv", CPO_B + extra_row)
        archive.writestr("Data/CSV/cv.csv", CPO_CV)
        archive.writestr("Doc/licence.txt", "OGL")
    return path


def test_build_from_code_point_zip_and_reuse(tmp_path: Path) -> None:
    source = write_cpo_zip(tmp_path / "codepo_gb.zip")
    built = build_postcode_table(source)
    assert built.parent.parent == _http.cache_dir()
    table = pd.read_parquet(built)
    assert table["postcode"].tolist() == ["B1 1AA", "B1 1AB", "B1 1ZZ", "CV1 5FB"]
    assert table["quality"].tolist() == [10, 10, 90, 50]
    assert np.isnan(table.loc[2, "easting"])
    assert table.loc[3, "lad_code"] == "E08000026"
    assert table.loc[3, "ward_code"] == "E05001219"
    assert table["lsoa11_code"].isna().all()
    assert not table["terminated"].any()
    meta = json.loads(pq.read_schema(built).metadata[b"socecon_geo"])
    assert meta["kind"] == "code-point-open"

    stamp = built.stat().st_mtime_ns
    assert build_postcode_table(source) == built  # unchanged source: reused, not rebuilt
    assert built.stat().st_mtime_ns == stamp

    time.sleep(0.01)
    write_cpo_zip(
        source, extra_row='"B1 1AD",10,406800,286700,"E92000001","","","","E08000025","E05011151"\n'
    )
    rebuilt = build_postcode_table(source)
    assert rebuilt != built
    assert len(pd.read_parquet(rebuilt)) == 5

    geocoder = OfflinePostcodeGeocoder.from_file(source)  # a zip is built (or reused) first
    assert geocoder.name == "offline:code-point-open"
    out = geocode(
        pd.DataFrame({"postcode": ["b11ad", "B1 1ZZ", "B1 1XX", "WV1 1AA"]}), geocoder=geocoder
    )
    assert out["geocode_status"].tolist() == [
        "matched",
        "sector_centroid",
        "sector_centroid",
        "outside_coverage",
    ]
    assert out.geometry.iloc[1].equals(
        shapely.Point((406500 + 406700 + 406800) / 3, (286400 + 286600 + 286700) / 3)
    )


def test_build_from_unzipped_code_point_folder(tmp_path: Path) -> None:
    folder = tmp_path / "codepo_gb"
    (folder / "Data" / "CSV").mkdir(parents=True)
    (folder / "Doc").mkdir()
    (folder / "Doc" / "Code-Point_Open_Column_Headers.csv").write_text(CPO_HEADERS)
    (folder / "Data" / "CSV" / "b.csv").write_text(CPO_B)
    built = build_postcode_table(folder, output=tmp_path / "out" / "gb.parquet")
    assert built == tmp_path / "out" / "gb.parquet"
    assert len(pd.read_parquet(built)) == 3


ONSPD = (
    "PCD,PCD2,PCDS,DOINTR,DOTERM,OSEAST1M,OSNRTH1M,OSGRDIND,OSLAUA,OSWARD,LSOA11,LSOA21\n"
    'B1  1AA,"B1   1AA",B1 1AA,198001,,406500,286400,1,E08000025,E05011151,E01033620,E01033620\n'
    'B1  1AB,"B1   1AB",B1 1AB,198001,,406700,286600,3,E08000025,E05011151,E01033621,E01033622\n'
    'B1  1AD,"B1   1AD",B1 1AD,198001,200012,406800,286700,8,E08000025,,E01033621,\n'
    'B1  1AE,"B1   1AE",B1 1AE,198001,200012,,,9,E08000025,,,\n'
    'NPT 0AD,"NPT 0AD",NPT 0AD,198001,198412,,,9,W06000022,,,\n'
)


def test_build_from_onspd_csv(tmp_path: Path) -> None:
    source = tmp_path / "ONSPD_MAY_2025_UK.csv"
    source.write_text(ONSPD, encoding="latin-1")
    built = build_postcode_table(source)
    table = pd.read_parquet(built)
    assert table["postcode"].tolist() == [
        "B1 1AA",
        "B1 1AB",
        "B1 1AD",
        "B1 1AE",
    ]  # NPT 0AD left out
    assert table["quality"].tolist() == [10, 30, 80, 90]
    assert table["terminated"].tolist() == [False, False, True, True]
    assert table["lsoa11_code"].tolist()[:2] == ["E01033620", "E01033621"]
    assert table["lsoa21_code"].tolist()[1] == "E01033622"

    geocoder = OfflinePostcodeGeocoder.from_file(built)
    assert geocoder.name == "offline:onspd-may-2025"
    out = geocode(pd.DataFrame({"postcode": ["B1 1AB", "B1 1AD", "B1 1AE"]}), geocoder=geocoder)
    assert out["geocode_status"].tolist() == ["matched", "terminated", "terminated"]
    assert out["postcode_lsoa21_code"].tolist()[0] == "E01033622"
    assert out.geometry.iloc[1].equals(shapely.Point(406800, 286700))  # last known point
    assert out.geometry.iloc[2] is None


def test_build_from_nspl_in_zip(tmp_path: Path) -> None:
    nspl = (
        "pcd,pcds,doterm,oseast1m,osnrth1m,osgrdind,laua,ward,lsoa11\n"
        "CV1 5FB,CV1 5FB,,433000,279000,1,E08000026,E05001219,E01009999\n"
    )
    source = tmp_path / "NSPL.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("Documents/readme.csv", "a,b\n1,2\n")
        archive.writestr("Data/NSPL_FEB_2025_UK.csv", nspl)
    table = pd.read_parquet(build_postcode_table(source))
    assert table.loc[0, "lad_code"] == "E08000026"
    assert table.loc[0, "ward_code"] == "E05001219"
    assert table.loc[0, "lsoa11_code"] == "E01009999"
    assert table["lsoa21_code"].isna().all()


def test_build_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        build_postcode_table(tmp_path / "missing.zip")
    lookup = tmp_path / "PCD_OA_LSOA_LU.csv"
    lookup.write_text("pcds,doterm,lsoa11cd\nB1 1AA,,E01033620\n")
    with pytest.raises(
        InputError, match=r"no column for \['easting', 'northing'\]. Its columns are \['pcds'"
    ):
        build_postcode_table(lookup)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "nothing here")
    with pytest.raises(InputError, match="neither a Code-Point Open zip"):
        build_postcode_table(other)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no Code-Point Open data"):
        build_postcode_table(tmp_path / "empty")


# ------------------------------------------------------------------ report


def test_geocoding_report(geocoder: OfflinePostcodeGeocoder) -> None:
    orgs = pd.DataFrame({"postcode": [case[0] for case in CASES] + ["B15 2TT"] * 4})
    out = geocode(orgs, geocoder=geocoder)
    report = geocoding_report(out, examples=1)
    assert isinstance(report, GeocodingReport)
    assert report.total == 16
    assert list(report.summary.index) == list(GEOCODE_STATUSES)
    assert report.summary.loc["matched", "rows"] == 7
    assert report.summary.loc["missing_postcode", "rows"] == 2
    assert report.summary["rows"].sum() == 16
    assert report.summary["share"].sum() == pytest.approx(1.0)
    assert report.summary.loc["terminated", "located"] == 1
    assert report.located == int(out.geometry.notna().sum()) == 8
    assert report.matched_share == pytest.approx(7 / 16)
    assert report.examples["geocode_status"].tolist() == list(GEOCODE_STATUSES[1:])
    first = report.examples.iloc[0]
    assert (first["position"], first["row"], first["postcode"]) == (2, 2, "B15 2ZZ")
    text = str(report)
    assert "16 rows, 8 located" in text
    assert "outside_coverage" in text
    assert "'EC1A 1BB'" in text


def test_geocoding_report_needs_geocoded_input() -> None:
    with pytest.raises(InputError, match=r"needs the output of geocode\(\)"):
        geocoding_report(pd.DataFrame({"postcode": ["B1 1AA"]}))


# ------------------------------------------------------------------ postcodes.io (fake server)


def pio_result(postcode: str, quality: int = 1) -> dict[str, Any]:
    located = quality < 9
    return {
        "postcode": postcode,
        "quality": quality,
        "eastings": 406500 if located else None,
        "northings": 286400 if located else None,
        "admin_district": "Birmingham",
        "codes": {
            "admin_district": "E08000025",
            "admin_ward": "E05011151",
            "lsoa": "E01033620",
            "lsoa21": "E01033620",
        },
    }


class FakePostcodesIO:
    """A stand-in for api.postcodes.io on the local server, with a scripted plan of failures."""

    def __init__(self, local_server: Callable[..., Any]) -> None:
        self.known: dict[str, dict[str, Any]] = {}
        self.plan: list[Any] = []  # per request: "ok", an HTTP status, ("sleep", s), "odd"
        http = local_server(self.respond)
        self.url: str = http.url
        self.requests: list[Any] = http.requests

    def respond(self, request: Any) -> tuple[Any, ...]:
        postcodes = request.json()["postcodes"]
        step = self.plan.pop(0) if self.plan else "ok"
        if isinstance(step, int):
            return step, {"status": step, "error": "boom"}
        if step == "odd":
            return 200, {"unexpected": True}
        results = [
            {"query": q, "result": self.known.get(q.upper().replace(" ", ""))} for q in postcodes
        ]
        delay = step[1] if isinstance(step, tuple) else 0
        return 200, {"status": 200, "result": results}, delay

    def add(self, *postcodes: str, quality: int = 1) -> None:
        for postcode in postcodes:
            self.known[postcode.replace(" ", "")] = pio_result(postcode, quality)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, local_server: Callable[..., Any]) -> FakePostcodesIO:
    monkeypatch.setattr(_http.settings, "backoff", 0.001)
    monkeypatch.setattr(_http.settings, "retries", 2)
    return FakePostcodesIO(local_server)


def test_postcodes_io_normal_batch(server: FakePostcodesIO) -> None:
    server.add("B1 1AA", "B1 1AB")
    server.add("B1 1ZZ", quality=9)
    orgs = pd.DataFrame({"postcode": ["b1 1aa", "B11AB", "B1 1AA", "B1 1ZZ", "x", None]})
    out = geocode(orgs, geocoder=PostcodesIOGeocoder(server.url))
    assert len(server.requests) == 1
    request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/postcodes")
    # distinct, canonical and valid postcodes only
    assert request.json()["postcodes"] == ["B1 1AA", "B1 1AB", "B1 1ZZ"]
    assert request.headers["User-Agent"].startswith("socecon_geo/")
    assert out["geocode_status"].tolist() == [
        "matched",
        "matched",
        "matched",
        "matched",
        "invalid_postcode",
        "missing_postcode",
    ]
    assert out["geocode_method"].tolist()[:4] == ["postcodes.io"] * 4
    assert out["position_quality"].tolist()[:4] == [10, 10, 10, 90]
    assert out.geometry.iloc[0].equals(shapely.Point(406500, 286400))
    assert out.geometry.iloc[3] is None
    assert out["postcode_lad_code"].iloc[0] == "E08000025"
    assert out["postcode_ward_code"].iloc[0] == "E05011151"
    assert out["postcode_lsoa11_code"].iloc[0] == "E01033620"
    assert out["postcode_lsoa21_code"].iloc[0] == "E01033620"
    # the answers are credited to the service, after what the organisations carried
    assert [record.name for record in get_provenance(out)] == ["postcodes_io"]

    geocode(orgs, geocoder=PostcodesIOGeocoder(server.url))
    assert len(server.requests) == 1  # answered from the disk cache


def test_postcodes_io_splits_into_batches_of_100(server: FakePostcodesIO) -> None:
    postcodes = [f"B{d} {n}AA" for d in range(1, 26) for n in range(10)]  # 250 distinct
    server.add(*postcodes)
    out = geocode(
        pd.DataFrame({"postcode": postcodes}), geocoder=PostcodesIOGeocoder(server.url, cache=False)
    )
    assert [len(r.json()["postcodes"]) for r in server.requests] == [100, 100, 50]
    assert (out["geocode_status"] == "matched").all()
    with pytest.raises(InputError, match="between 1 and 100"):
        PostcodesIOGeocoder(server.url, batch_size=101)


def test_postcodes_io_partial_batch(server: FakePostcodesIO) -> None:
    server.add("B1 1AA")
    out = geocode(
        pd.DataFrame({"postcode": ["B1 1AA", "B1 1AB", "CV1 5FB"]}),
        geocoder=PostcodesIOGeocoder(server.url),
    )
    assert out["geocode_status"].tolist() == ["matched", "not_found", "not_found"]
    assert out.geometry.iloc[1:].isna().all()


def test_postcodes_io_retries_after_500(server: FakePostcodesIO) -> None:
    server.add("B1 1AA")
    server.plan = [500]
    out = geocode(pd.DataFrame({"postcode": ["B1 1AA"]}), geocoder=PostcodesIOGeocoder(server.url))
    assert len(server.requests) == 2
    assert out["geocode_status"].tolist() == ["matched"]


def test_postcodes_io_persistent_500_raises(server: FakePostcodesIO) -> None:
    server.plan = [500] * 10
    orgs = pd.DataFrame({"postcode": ["B1 1AA"]})
    with pytest.raises(
        DownloadError, match=r"failed after 3 attempt\(s\): HTTP 500.*on_error='flag'"
    ):
        geocode(orgs, geocoder=PostcodesIOGeocoder(server.url))
    assert len(server.requests) == 3


def test_postcodes_io_persistent_500_flagged(server: FakePostcodesIO) -> None:
    server.add(*[f"B1 {n}AA" for n in range(10)])
    server.plan = ["ok"] + [500] * 3  # the first batch works, the second fails
    orgs = pd.DataFrame({"postcode": [f"B1 {n}AA" for n in range(10)] + ["bad"]})
    geocoder = PostcodesIOGeocoder(server.url, batch_size=5, on_error="flag")
    with pytest.warns(
        SocEconGeoWarning, match=r"1 request\(s\) failed after retries; their 5 postcode"
    ):
        out = geocode(orgs, geocoder=geocoder)
    assert len(out) == 11
    assert out["geocode_status"].tolist() == ["matched"] * 5 + ["not_found"] * 5 + [
        "invalid_postcode"
    ]
    assert out["geocode_method"].tolist()[5] == "postcodes.io:request-failed"


def test_postcodes_io_timeout_then_success(server: FakePostcodesIO) -> None:
    server.add("B1 1AA")
    server.plan = [("sleep", 0.6)]
    out = geocode(
        pd.DataFrame({"postcode": ["B1 1AA"]}),
        geocoder=PostcodesIOGeocoder(server.url, timeout=0.2),
    )
    assert out["geocode_status"].tolist() == ["matched"]
    assert len(server.requests) == 2


def test_postcodes_io_persistent_timeout(server: FakePostcodesIO) -> None:
    server.plan = [("sleep", 0.5)] * 2
    geocoder = PostcodesIOGeocoder(server.url, timeout=0.1, retries=1)
    with pytest.raises(DownloadError, match=r"failed after 2 attempt\(s\): no answer within 0.1 s"):
        geocode(pd.DataFrame({"postcode": ["B1 1AA"]}), geocoder=geocoder)


def test_postcodes_io_error_status_in_the_answer(local_server: Callable[..., Any]) -> None:
    refused = {"status": 400, "error": "Invalid JSON submitted", "result": []}
    server = local_server(lambda request: (200, refused))
    with pytest.raises(DownloadError, match="answered status 400: Invalid JSON submitted"):
        geocode(pd.DataFrame({"postcode": ["B1 1AA"]}), geocoder=PostcodesIOGeocoder(server.url))
    assert len(server.requests) == 1  # a refusal is not retried


def test_postcodes_io_unexpected_answer(server: FakePostcodesIO) -> None:
    server.plan = ["odd"]
    with pytest.raises(DownloadError, match="without a 'result' list"):
        geocode(pd.DataFrame({"postcode": ["B1 1AA"]}), geocoder=PostcodesIOGeocoder(server.url))
    with pytest.raises(InputError, match="on_error must be 'raise' or 'flag'"):
        PostcodesIOGeocoder(server.url, on_error="ignore")  # type: ignore[arg-type]


# ------------------------------------------------------------------ the bundled table


def test_default_geocoder_uses_bundled_table() -> None:
    from socecon_geo.bundle import load_postcodes, postcode_frame

    table = postcode_frame()
    live = table.loc[~table["terminated"] & table["easting"].notna()]
    ended = table.loc[table["terminated"]]
    sample = live.sample(300, random_state=1)
    raw = [*sample["postcode"].str.lower(), ended["postcode"].iloc[0], "EC1A 1BB"]
    out = geocode(pd.DataFrame({"postcode": raw}))
    assert (out["geocode_status"].iloc[:300] == "matched").all()
    assert (out["geocode_method"].iloc[:300] == "offline:code-point-open-2025").all()
    assert out["geocode_status"].iloc[300] == "terminated"
    assert out["geocode_status"].iloc[301] == "outside_coverage"
    np.testing.assert_array_equal(out.geometry.x.iloc[:300], sample["easting"])
    np.testing.assert_array_equal(out.geometry.y.iloc[:300], sample["northing"])
    assert out["postcode_lad_code"].iloc[:300].tolist() == sample["lad_code"].astype(str).tolist()

    points = load_postcodes().set_index("postcode")
    expected = points.loc[sample["postcode"].iloc[:20], "geometry"]
    assert all(a.equals(b) for a, b in zip(out.geometry.iloc[:20], expected, strict=True))


def test_default_geocoder_builds_its_lookup_points_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from socecon_geo.geocoding import offline

    calls: list[int] = []

    def counting(easting: np.ndarray, northing: np.ndarray) -> Any:
        calls.append(len(easting))
        return make_points(easting, northing)

    make_points = offline._points
    monkeypatch.setattr(offline, "_points", counting)
    orgs = pd.DataFrame({"postcode": ["B1 1AY", "B1 1ZZ"]})
    first, second = geocode(orgs), geocode(orgs)
    assert len(calls) <= 1  # the bundled table's points are made at most once, not per call
    assert first.geometry.equals(second.geometry)


def test_bundled_unknown_postcode_in_known_sector() -> None:
    out = geocode(pd.DataFrame({"postcode": ["B1 1AY", "B1 1ZZ", "B99 9ZZ"]}))
    assert out["geocode_status"].tolist() == ["matched", "sector_centroid", "not_found"]
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == (406523, 286448)
    assert out["position_quality"].iloc[1] == 60


# ------------------------------------------------------------------ a real register

WMCA_AREAS = ["B", "CV", "DY", "WS", "WV"]


@pytest.mark.shared_data
def test_coops_uk_register_end_to_end(shared_data: Path) -> None:
    from socecon_geo.postcodes import postcode_area

    path = shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv"
    coops = pd.read_csv(path, dtype="str", keep_default_na=False)
    out = geocode(coops, postcode_column="Postcode")
    assert len(out) == len(coops) == 7272
    assert out.index.equals(coops.index)
    assert out["geocode_status"].notna().all()
    assert out["Name"].tolist() == coops["Name"].tolist()

    in_area = postcode_area(out["Postcode"]).isin(WMCA_AREAS).to_numpy()
    assert in_area.sum() > 300
    wmca = out.loc[in_area]
    matched = (wmca["geocode_status"] == "matched").mean()
    assert matched >= 0.95
    assert (out.loc[~in_area, "geocode_status"] != "matched").all()

    # the register's own postcode centroids agree with ours
    theirs = gpd.points_from_xy(
        pd.to_numeric(wmca["Geo Container Longitude"], errors="coerce"),
        pd.to_numeric(wmca["Geo Container Latitude"], errors="coerce"),
        crs="EPSG:4326",
    ).to_crs(27700)
    ours = wmca.geometry.array
    both = (wmca["geocode_status"] == "matched").to_numpy() & ~theirs.is_empty & ~pd.isna(theirs.x)
    distance = ours[both].distance(theirs[both])
    assert np.median(distance) < 50
    assert (distance < 250).mean() >= 0.9
    report = geocoding_report(out, postcode_column="Postcode")
    assert report.total == 7272


# ------------------------------------------------------------------ regressions


def test_postcode_column_found_by_position_and_multiindex_rejected(
    geocoder: OfflinePostcodeGeocoder,
) -> None:
    orgs = pd.DataFrame({0: ["A", "B"], 1: ["B15 2TT", "nonsense"]}, index=[7, 7])
    out = geocode(orgs, geocoder=geocoder, postcode_column="1")
    assert out["geocode_status"].tolist() == ["matched", "invalid_postcode"]
    assert out.index.tolist() == [7, 7]
    nested = pd.DataFrame(
        [["A", "B15 2TT"]], columns=pd.MultiIndex.from_tuples([("org", "name"), ("org", "pc")])
    )
    with pytest.raises(InputError, match=r"2-level column headings.*flatten them first"):
        geocode(nested, geocoder=geocoder)


def test_report_shows_the_raw_postcodes_of_a_renamed_column(
    geocoder: OfflinePostcodeGeocoder,
) -> None:
    orgs = pd.DataFrame({"Post Code": ["zz9", None, "B15 2TT"]})
    orgs.attrs["source"] = "mine.csv"
    out = geocode(orgs, geocoder=geocoder, postcode_column="Post Code")
    assert orgs.attrs == {"source": "mine.csv"}  # the input is not changed
    report = geocoding_report(out)
    examples = report.examples.set_index("geocode_status")["postcode"]
    assert examples["invalid_postcode"] == "zz9"
    assert "postcode 'zz9'" in str(report)
    assert geocoding_report(out, postcode_column="nope").examples["postcode"].eq("").all()


def _bng(source: str, x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(source, "EPSG:27700", always_xy=True).transform(x, y)


def test_build_from_nspl_puts_northern_ireland_in_british_national_grid(tmp_path: Path) -> None:
    # NSPL headings; the BT grid references are on the Irish Grid (Belfast City Hall)
    nspl = (
        "pcd,pcd2,pcds,dointr,doterm,usertype,oseast1m,osnrth1m,osgrdind,oa11,laua,ward,"
        "lsoa11,msoa11,lat,long,lsoa21,msoa21\n"
        "B1  1AA,B1   1AA,B1 1AA,198001,,0,406500,286400,1,E00045000,E08000025,E05011151,"
        "E01033620,E02001000,52.47,-1.90,E01033620,E02001001\n"
        "BT1 5GS,BT1  5GS,BT1 5GS,198001,,0,333900,374200,1,N00001000,N09000003,N08000312,"
        ",,54.596,-5.930,,\n"
        "BT1 5GT,BT1  5GT,BT1 5GT,198001,,0,333950,374250,1,N00001000,N09000003,N08000312,"
        ",,99.999999,0.000000,,\n"
        "BT1 5GU,BT1  5GU,BT1 5GU,198001,,0,,,9,,N09000003,,,,99.999999,0.000000,,\n"
    )
    source = tmp_path / "NSPL_FEB_2025_UK.csv"
    source.write_text(nspl)
    table = pd.read_parquet(build_postcode_table(source)).set_index("postcode")
    assert table.loc["B1 1AA", ["easting", "northing"]].tolist() == [406500, 286400]
    by_degrees = _bng("EPSG:4326", -5.930, 54.596)
    by_grid = _bng("EPSG:29903", 333950, 374250)
    np.testing.assert_allclose(table.loc["BT1 5GS", ["easting", "northing"]], by_degrees)
    np.testing.assert_allclose(table.loc["BT1 5GT", ["easting", "northing"]], by_grid)
    assert 120_000 < by_degrees[0] < 160_000  # west of Great Britain, not in Wales
    assert table.loc["BT1 5GU", ["easting", "northing"]].isna().all()
    assert table.loc["B1 1AA", "ward_code"] == "E05011151"  # NSPL 'ward'
    assert table.loc["B1 1AA", "lsoa21_code"] == "E01033620"
    assert pd.isna(table.loc["BT1 5GS", "lsoa11_code"])  # blank codes are missing, not ""


def test_unreadable_table_and_source_files_are_input_errors(tmp_path: Path) -> None:
    broken = tmp_path / "table.csv"
    broken.write_text('postcode,easting,northing\nB15 2TT,1,2\n"B15 2TU,3,4\n')
    with pytest.raises(InputError, match=r"postcode table '.*table.csv' cannot be read as CSV"):
        OfflinePostcodeGeocoder.from_file(broken)
    excel_saved = tmp_path / "excel.csv"
    excel_saved.write_bytes("postcode,easting,northing,note\nB15 2TT,1,2,Café\n".encode("cp1252"))
    assert len(OfflinePostcodeGeocoder.from_file(excel_saved).table) == 1
    empty = tmp_path / "ONSPD.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="cannot be read as an ONS Postcode Directory"):
        build_postcode_table(empty)
    unclosed = tmp_path / "ONSPD_2.csv"
    unclosed.write_text('pcds,oseast1m,osnrth1m\nB1 1AA,1,2\n"B1 1AB,3,4\n')
    with pytest.raises(InputError, match="EOF inside string"):
        build_postcode_table(unclosed)


def test_postcodes_io_lsoa_vintages_and_northern_ireland(server: FakePostcodesIO) -> None:
    # today's answers: names of both vintages, codes.lsoa is LSOA 2021 (changed LSOA)
    current = pio_result("B1 1AA")
    current.update(lsoa="Birmingham 138E", lsoa11="Birmingham 138A", lsoa21="Birmingham 138E")
    current["codes"] = {"admin_district": "E08000025", "lsoa": "E01035000"}
    explicit = pio_result("B1 1AB")
    explicit["codes"] = {"lsoa": "E01035001", "lsoa11": "E01009001", "lsoa21": "E01035001"}
    belfast = pio_result("BT1 5GS")
    belfast.update(eastings=333900, northings=374200, longitude=-5.930, latitude=54.596)
    server.known.update({"B11AA": current, "B11AB": explicit, "BT15GS": belfast})
    out = geocode(
        pd.DataFrame({"postcode": ["B1 1AA", "B1 1AB", "BT1 5GS"]}),
        geocoder=PostcodesIOGeocoder(server.url),
    )
    assert pd.isna(out["postcode_lsoa11_code"].iloc[0])  # LSOA 2011 code not given
    assert out["postcode_lsoa11_code"].iloc[1] == "E01009001"
    assert out["postcode_lsoa21_code"].tolist()[:2] == ["E01035000", "E01035001"]
    point = out.geometry.iloc[2]
    np.testing.assert_allclose((point.x, point.y), _bng("EPSG:4326", -5.930, 54.596))


def test_postcodes_io_unusable_answer_is_not_reused_from_cache(server: FakePostcodesIO) -> None:
    server.add("B1 1AA")
    server.plan = ["odd"]
    orgs = pd.DataFrame({"postcode": ["B1 1AA"]})
    with pytest.raises(DownloadError, match="without a 'result' list"):
        geocode(orgs, geocoder=PostcodesIOGeocoder(server.url))
    out = geocode(orgs, geocoder=PostcodesIOGeocoder(server.url))  # asks again
    assert out["geocode_status"].tolist() == ["matched"]
    assert len(server.requests) == 2


def test_geodataframe_without_active_geometry(geocoder: OfflinePostcodeGeocoder) -> None:
    bare = gpd.GeoDataFrame({"postcode": ["B15 2TT", "x"]})
    out = geocode(bare, geocoder=geocoder)
    assert out["geocode_status"].tolist() == ["matched", "invalid_postcode"]
    assert out.crs.to_epsg() == 27700
    points = gpd.GeoSeries.from_xy([-1.9, -1.5], [52.4, 52.4], crs=4326)
    renamed = gpd.GeoDataFrame(
        {"postcode": ["B15 2TT", "x"], "where": points}, geometry="where"
    ).rename(columns={"where": "old"})  # active geometry 'where' no longer present
    out = geocode(renamed, geocoder=geocoder)
    assert out.geometry.iloc[0].equals(shapely.Point(405000, 284000))
    assert out["old"].crs.to_epsg() == 4326  # other geometry columns are kept as they are
    assert geocoding_report(bare.assign(geocode_status="matched")).located == 0


def test_build_from_postcode_csv_without_optional_columns(tmp_path: Path) -> None:
    source = tmp_path / "postcodes.csv"
    source.write_text("pcds,oseast1m,osnrth1m\nB1 1AA,406500,286400\nB1 1AB,,\n")
    table = pd.read_parquet(build_postcode_table(source))
    assert table["quality"].isna().all()  # not known, not invented
    assert not table["terminated"].any()
    out = geocode(
        pd.DataFrame({"postcode": ["B1 1AA"]}),
        geocoder=OfflinePostcodeGeocoder.from_file(build_postcode_table(source)),
    )
    assert out["geocode_status"].tolist() == ["matched"]
    assert out.geometry.iloc[0].equals(shapely.Point(406500, 286400))


def test_report_shows_missing_postcodes_as_none_not_nan():
    import socecon_geo as sg

    frame = pd.DataFrame({"name": ["a", "b"], "postcode": ["B1 1AY", None]})
    text = str(sg.geocoding_report(sg.geocode(frame)))
    assert "missing_postcode  row 1        postcode (none)" in text
    assert "nan" not in text


def test_live_postcode_without_a_point_keeps_its_own_codes() -> None:
    """Placed at its sector centroid, but its codes are its own, not the sector's."""
    table = pd.DataFrame(
        {
            "postcode": ["B1 1AA", "B1 1AD", "B1 1AB"],
            "easting": [406000.0, 406100.0, np.nan],
            "northing": [286000.0, 286100.0, np.nan],
            "quality": [10, 10, 90],
            "lad_code": ["E08000025", "E08000025", "E08000025"],
            "ward_code": ["W1", "W1", None],
            "lsoa11_code": ["E01000001", "E01000001", "E01000002"],
            "terminated": [False, False, False],
        }
    )
    out = geocode(pd.DataFrame({"postcode": ["B1 1AB"]}), geocoder=OfflinePostcodeGeocoder(table))
    row = out.iloc[0]
    assert row["geocode_status"] == "sector_centroid"
    assert (row.geometry.x, row.geometry.y) == (406050.0, 286050.0)
    assert row["postcode_lsoa11_code"] == "E01000002"  # its own, not the sector's
    assert row["postcode_ward_code"] == "W1"  # missing in the table: the sector's

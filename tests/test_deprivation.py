"""Tests of the Indices of Deprivation reader, downloader and join."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import socecon_geo as sg
from socecon_geo import _http, datasets
from socecon_geo._errors import DataUnavailableError, InputError
from socecon_geo.attach import attach_deprivation
from socecon_geo.deprivation import (
    TIDY_COLUMNS,
    fetch_deprivation,
    read_deprivation,
)
from socecon_geo.geography import Geography
from socecon_geo.lookups import convert_lsoa_codes, read_lsoa_lookup
from socecon_geo.provenance import get_provenance

WMCA = [f"E080000{n}" for n in range(25, 32)]
IOD25 = "iod/IoD2025_LSOA21_scores_ranks_deciles.csv"
FILE1 = "iod/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv"
FILE2 = "iod/File_2_-_IoD2019_Domains_of_Deprivation.csv"
FILE6 = "iod/File_6_-_IoD2019_Population_Denominators.csv"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def iod25_sample(test_data: Path) -> Path:
    return test_data / "iod" / "iod2025_file7_sample.csv"


@pytest.fixture
def iod19_sample(test_data: Path) -> Path:
    return test_data / "iod" / "iod2019_file7_sample.csv"


@pytest.fixture
def lookup_sample(test_data: Path) -> Path:
    return test_data / "iod" / "lsoa11_lsoa21_lookup_sample.csv"


@pytest.fixture(scope="module")
def iod2025_real(shared_data: Path) -> pd.DataFrame:
    return read_deprivation(shared_data / IOD25)


# ------------------------------------------------------------------- real shared data


@pytest.mark.shared_data
def test_read_iod2025_real_file(shared_data: Path, iod2025_real: pd.DataFrame) -> None:
    iod = iod2025_real
    assert len(iod) == 33_755
    assert iod["lsoa_code"].is_unique
    assert iod.attrs["vintage"] == "iod2025"
    assert iod.attrs["lsoa_vintage"] == 2021
    assert iod.attrs["lad_vintage"] == 2024
    assert iod.attrs["unrecognised_headings"] == []
    # the shared file lacks IDACI/IDAOPI and the denominators: reported, not fatal
    assert {"idaci_score", "idaopi_decile", "population_total"} <= set(
        iod.attrs["missing_optional"]
    )
    for domain in ("income", "crime", "living_environment", "outdoors"):
        assert f"{domain}_decile" in iod.columns
    assert iod["imd_rank"].dtype == np.int64
    assert iod["imd_score"].dtype == np.float64
    assert sorted(iod["imd_rank"]) == list(range(1, 33_756))
    assert iod["imd_decile"].value_counts().sort_index().index.tolist() == list(range(1, 11))
    first = iod.iloc[0]
    assert (first["lsoa_code"], first["imd_score"], first["imd_rank"]) == (
        "E01000001",
        8.742,
        26525,
    )


@pytest.mark.shared_data
def test_wmca_share_in_most_deprived_decile_iod2025(iod2025_real: pd.DataFrame) -> None:
    wmca = iod2025_real[iod2025_real["lad_code"].isin(WMCA)]
    assert len(wmca) == 1_719
    decile1 = int((wmca["imd_decile"] == 1).sum())
    share = decile1 / len(wmca)
    quintile1 = float((wmca["imd_decile"] <= 2).mean())
    by_lad = wmca.groupby("lad_name")["imd_decile"].apply(
        lambda s: round(float((s == 1).mean()), 3)
    )
    print(
        f"\nIoD2025: {decile1} of {len(wmca)} WMCA LSOAs (2021) are in England's most "
        f"deprived decile = {share:.1%} (most deprived quintile {quintile1:.1%}); "
        f"by authority: {by_lad.to_dict()}"
    )
    assert decile1 == 466
    assert share == pytest.approx(0.2711, abs=5e-5)
    assert by_lad["Birmingham"] == pytest.approx(0.428, abs=1e-3)
    # 2.7 times England's 10%
    assert share / 0.10 > 2.5


@pytest.mark.shared_data
def test_read_iod2019_files_1_2_6_combined(shared_data: Path) -> None:
    iod = read_deprivation([shared_data / FILE1, shared_data / FILE2, shared_data / FILE6])
    assert len(iod) == 32_844
    assert iod.attrs["vintage"] == "iod2019"
    assert iod.attrs["lsoa_vintage"] == 2011
    assert iod.attrs["population_vintage"] == "mid-2015"
    expected = {
        "imd_rank",
        "imd_decile",
        "income_decile",
        "living_environment_rank",
        "population_total",
        "population_working_age",
    }
    assert expected <= set(iod.columns)
    # quoted thousands separators ("29,199", "1,296") are numbers
    first = iod.set_index("lsoa_code").loc["E01000001"]
    assert first["imd_rank"] == 29_199
    assert first["population_total"] == 1_296
    assert iod["population_total"].dtype == np.int64
    wmca = iod[iod["lad_code"].isin(WMCA)]
    assert len(wmca) == 1_680
    decile1 = int((wmca["imd_decile"] == 1).sum())
    print(
        f"\nIoD2019: {decile1} of {len(wmca)} WMCA LSOAs (2011) in England's most deprived "
        f"decile = {decile1 / len(wmca):.1%}; WMCA population mid-2015 "
        f"{int(wmca['population_total'].sum()):,}"
    )
    assert decile1 == 444
    assert wmca.groupby("lad_code").size().tolist() == [639, 195, 201, 186, 134, 167, 158]


@pytest.mark.shared_data
def test_read_iod2019_file1_alone(shared_data: Path) -> None:
    iod = read_deprivation(shared_data / FILE1)
    assert len(iod) == 32_844
    assert list(iod.columns[:6]) == [
        "lsoa_code",
        "lsoa_name",
        "lad_code",
        "lad_name",
        "imd_rank",
        "imd_decile",
    ]
    assert "imd_score" in iod.attrs["missing_optional"]


@pytest.mark.shared_data
def test_wrong_files_as_deprivation_data(shared_data: Path) -> None:
    census = shared_data / "population" / "census2021_lsoa21_usual_residents.csv"
    with pytest.raises(
        InputError, match=r"looks like a population table \('usual_residents'\).*read_population"
    ):
        read_deprivation(census)
    lookup = shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv"
    with pytest.raises(
        InputError,
        match=r"looks like the ONS LSOA 2011 → 2021 lookup \('lsoa11_code', 'change_code', "
        r"'lsoa21_code'\), not deprivation data; pass it as lsoa_lookup=",
    ):
        read_deprivation(lookup)
    bestfit = shared_data / "lookups" / "lsoa21_ward24_lad24_bestfit.csv"
    with pytest.raises(InputError, match=r"looks like the ONS LSOA 2021 → ward best-fit lookup"):
        read_deprivation(bestfit)
    boundary = shared_data / "boundaries" / "wards_dec2022_bsc_wmca.geojson"
    with pytest.raises(InputError, match=r"does not look like.*LSOA code \(2021\)"):
        read_deprivation(boundary)
    with pytest.raises(InputError, match=r"File 6 .*combine it with File 1 or 2"):
        read_deprivation(shared_data / FILE6)


@pytest.mark.shared_data
def test_real_lsoa11_codes_against_iod2025_need_the_lookup(
    shared_data: Path, iod2025_real: pd.DataFrame
) -> None:
    iod19 = read_deprivation(shared_data / FILE1)
    wmca11 = iod19.loc[iod19["lad_code"].isin(WMCA), ["lsoa_code"]]
    points = wmca11.rename(columns={"lsoa_code": "lsoa11_code"})
    lookup = read_lsoa_lookup(shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv")
    assert {"lsoa11_code", "lsoa21_code", "change_code", "lad_code"} <= set(lookup.columns)
    out = attach_deprivation(points, iod2025_real, lsoa_lookup=lookup)
    # the bundled geography's lookup is the same ONS lookup
    by_default = attach_deprivation(points, iod2025_real)
    pd.testing.assert_series_equal(out["deprivation_status"], by_default["deprivation_status"])
    counts = out["deprivation_status"].value_counts().to_dict()
    print(f"\nWMCA LSOA 2011 codes joined to IoD2025 via the ONS lookup: {counts}")
    assert len(out) == 1_680
    assert counts["joined"] + counts.get("ambiguous_lsoa", 0) == 1_680
    assert counts["joined"] >= 0.9 * 1_680
    # split LSOAs are flagged, never guessed
    split = set(lookup.loc[lookup["change_code"] == "S", "lsoa11_code"])
    flagged = set(out.loc[out["deprivation_status"] == "ambiguous_lsoa", "lsoa11_code"])
    assert flagged == split & set(points["lsoa11_code"])
    assert out.loc[out["deprivation_status"] == "ambiguous_lsoa", "imd_decile"].isna().all()


# ------------------------------------------------------------------- reading fixtures


def test_read_full_file7_fixture(iod25_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    assert len(iod) == 5
    assert iod.attrs["missing_optional"] == []
    assert iod.attrs["population_vintage"] == "mid-2022"
    assert {"idaci_score", "idaopi_decile", "children_young_people_decile"} <= set(iod.columns)
    assert iod["population_total"].tolist() == [1500, 1601, 1702, 1803, 1904]
    assert iod["imd_decile"].tolist() == [1, 2, 4, 8, 10]
    assert get_provenance(iod)[0].licence == "Open Government Licence v3.0"
    assert list(iod.columns[:7]) == [
        "lsoa_code",
        "lsoa_name",
        "lad_code",
        "lad_name",
        "imd_score",
        "imd_rank",
        "imd_decile",
    ]


def test_read_iod2019_file7_fixture_with_bom(iod19_sample: Path) -> None:
    iod = read_deprivation(iod19_sample, vintage="iod2019")
    assert iod.attrs["vintage"] == "iod2019"
    assert iod.attrs["lad_vintage"] == 2019
    assert "population_16_59" in iod.columns
    assert iod["lsoa_code"].iloc[0] == "E01900001"


def test_read_fixture_files_1_2_6(test_data: Path) -> None:
    folder = test_data / "iod"
    iod = read_deprivation(
        [
            folder / "iod2019_file1_sample.csv",
            folder / "iod2019_file2_sample.csv",
            folder / "iod2019_file6_sample.csv",
        ]
    )
    assert iod["imd_rank"].tolist() == [29199, 1203, 15000, 32000]
    assert iod["population_total"].tolist() == [1296, 1306, 1316, 1326]
    assert "crime_decile" in iod.columns


def test_read_excel_workbook(tmp_path: Path, iod25_sample: Path) -> None:
    table = pd.read_csv(iod25_sample, dtype=str)
    workbook = tmp_path / "File_7.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        pd.DataFrame({"Notes": ["fabricated"]}).to_excel(writer, sheet_name="Notes", index=False)
        table.to_excel(writer, sheet_name="IoD2025", index=False)
    iod = read_deprivation(workbook)
    assert len(iod) == 5
    assert iod["imd_rank"].tolist() == [12, 4321, 12345, 25000, 32844]


def test_missing_required_columns_listed_in_one_error(iod25_sample: Path) -> None:
    table = pd.read_csv(iod25_sample, dtype=str)
    imd = [c for c in table.columns if c.startswith("Index of Multiple")]
    with pytest.raises(InputError) as caught:
        read_deprivation(table.drop(columns=imd))
    message = str(caught.value)
    assert "IMD decile" in message
    assert "IMD rank or score" in message
    assert "Found headings: 'LSOA code (2021)'" in message


def test_partial_file_reports_optional_measures(iod25_sample: Path) -> None:
    table = pd.read_csv(iod25_sample, dtype=str)
    keep = [c for c in table.columns if "IDACI" not in c and "population" not in c.lower()]
    iod = read_deprivation(table[keep])
    assert "idaci_decile" in iod.attrs["missing_optional"]
    assert "population_total" in iod.attrs["missing_optional"]
    assert "idaci_decile" not in iod.columns


def test_bad_values_are_all_reported(iod25_sample: Path) -> None:
    table = pd.read_csv(iod25_sample, dtype=str)
    decile = table.columns[6]
    rank = table.columns[5]
    table.loc[1, decile] = "11"
    table.loc[2, rank] = "0"
    table.loc[3, table.columns[4]] = "n/a"
    table.loc[4, "LSOA code (2021)"] = "E01900001"
    with pytest.raises(InputError) as caught:
        read_deprivation(table)
    message = str(caught.value)
    assert "4 problems" in message
    assert "'imd_decile' has 1 value(s) that lie outside 1..10" in message
    assert "'imd_rank' has 1 value(s) that lie outside 1..33755" in message
    assert "not numbers (row 3: 'n/a')" in message
    assert "appear more than once (E01900001)" in message


def test_missing_values_give_nullable_integers(iod25_sample: Path) -> None:
    table = pd.read_csv(iod25_sample, dtype=str)
    table.loc[0, table.columns[9]] = ""  # income decile
    iod = read_deprivation(table)
    assert str(iod["income_decile"].dtype) == "Int64"
    assert iod["income_decile"].isna().tolist() == [True, False, False, False, False]
    assert iod["imd_decile"].dtype == np.int64


def test_vintage_detection_and_contradiction(iod25_sample: Path, iod19_sample: Path) -> None:
    with pytest.raises(InputError, match=r"is iod2025 .* vintage='iod2019' was asked"):
        read_deprivation(iod25_sample, vintage="iod2019")
    with pytest.raises(InputError, match="mixes editions"):
        read_deprivation([iod25_sample, iod19_sample])
    with pytest.raises(InputError, match="vintage must be"):
        read_deprivation(iod25_sample, vintage="2025")  # type: ignore[arg-type]


def test_tidy_frame_needs_a_vintage() -> None:
    tidy = pd.DataFrame({"lsoa_code": ["E01900001"], "imd_rank": [5], "imd_decile": [1]})
    with pytest.raises(InputError, match=r"cannot tell which edition.*vintage='iod2025'"):
        read_deprivation(tidy)
    iod = read_deprivation(tidy, vintage="iod2019")
    assert iod.attrs["lsoa_vintage"] == 2011
    again = read_deprivation(iod)  # the vintage travels in attrs
    assert again.attrs["vintage"] == "iod2019"


def test_conflicting_files_are_reported(tmp_path: Path, test_data: Path) -> None:
    file1 = test_data / "iod" / "iod2019_file1_sample.csv"
    table = pd.read_csv(file1, dtype=str, encoding="utf-8-sig")
    table.iloc[0, 5] = "3"
    changed = tmp_path / "file1_changed.csv"
    table.to_csv(changed, index=False)
    with pytest.raises(InputError, match=r"'imd_decile' differs between .* E01900001"):
        read_deprivation([file1, changed])


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_deprivation(tmp_path / "nothing.csv")
    with pytest.raises(InputError, match="empty list"):
        read_deprivation([])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match=r"cannot read 'empty\.csv'"):
        read_deprivation(empty)
    with pytest.raises(InputError, match=r"is a folder; pass the deprivation file inside it"):
        read_deprivation(tmp_path)
    disguised = tmp_path / "File_7.csv"
    disguised.write_bytes(b'\xef\xbb\xbf {"type": "FeatureCollection"}')
    with pytest.raises(InputError, match=r"holds JSON \(a GeoJSON boundary file\?\)"):
        read_deprivation(disguised)
    disguised.write_bytes(b"PK\x03\x04 zipped")
    with pytest.raises(InputError, match=r"is a zip archive; unzip it"):
        read_deprivation(disguised)
    disguised.write_bytes(b"LSOA code (2021)\nE01000001\x81\n")  # 0x81: no cp1252 letter
    with pytest.raises(InputError, match=r"cannot decode 'File_7\.csv' as UTF-8 or Windows-1252"):
        read_deprivation(disguised)
    with pytest.raises(InputError, match=r"is on LSOA 2001 codes; socecon_geo reads IoD2025"):
        read_deprivation(pd.DataFrame({"LSOA code (2001)": ["E01000001"], "imd_decile": [1]}))


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown dataset 'iod2015'; .* 'iod2019', 'iod2025'"):
        datasets.get_dataset("iod2015")


def test_official_file7_headings_of_both_editions_give_every_measure(
    tmp_path: Path, iod19_sample: Path, iod25_sample: Path
) -> None:
    # IoD2019 File 7 as published: no byte-order mark, plain numbers, and a trailing
    # space after the last heading ('... (excluding prisoners) ')
    table = pd.read_csv(iod19_sample, dtype=str, encoding="utf-8-sig")
    assert table.columns[-1].startswith("Working age population 18-59/64: for use with")
    table = table.rename(columns={table.columns[-1]: table.columns[-1] + " "})
    official = tmp_path / "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population.csv"
    table.to_csv(official, index=False, encoding="utf-8")
    iod19 = read_deprivation(official)
    assert list(iod19.columns) == list(TIDY_COLUMNS)
    assert iod19.attrs["missing_optional"] == []
    assert iod19.attrs["unrecognised_headings"] == []
    assert iod19.attrs["population_vintage"] == "mid-2015"
    for column in (
        "population_total",
        "population_children_0_15",
        "population_16_59",
        "population_older_60_plus",
        "population_working_age",
    ):
        assert iod19[column].dtype == np.int64, column
        assert (iod19[column] > 0).all(), column
    iod25 = read_deprivation(iod25_sample)
    assert list(iod25.columns) == [c for c in TIDY_COLUMNS if c != "population_16_59"]
    assert iod25.attrs["unrecognised_headings"] == []
    assert iod25["population_working_age"].notna().all()


def test_files_1_2_6_as_official_workbooks(tmp_path: Path, test_data: Path) -> None:
    # Files 1-6 are also published as XLSX, each with a 'Notes' sheet before the data
    paths = []
    for number in (1, 2, 6):
        csv = test_data / "iod" / f"iod2019_file{number}_sample.csv"
        table = pd.read_csv(csv, dtype=str, encoding="utf-8-sig")
        numbers = table.copy()
        for column in table.columns[4:]:
            numbers[column] = pd.to_numeric(table[column].str.replace(",", ""))
        path = tmp_path / f"File_{number}.xlsx"
        with pd.ExcelWriter(path) as writer:
            notes = pd.DataFrame({"File {number}: English Indices of Deprivation 2019": ["x"]})
            notes.to_excel(writer, sheet_name="Notes", index=False)
            numbers.to_excel(writer, sheet_name="IoD2019", index=False)
        paths.append(path)
    iod = read_deprivation(paths)
    assert iod.attrs["vintage"] == "iod2019"
    assert iod["imd_rank"].tolist() == [29199, 1203, 15000, 32000]
    assert iod["population_total"].tolist() == [1296, 1306, 1316, 1326]
    assert iod["crime_decile"].dtype == np.int64


def test_blank_name_in_one_of_several_files_is_not_a_conflict(test_data: Path) -> None:
    file1 = pd.read_csv(test_data / "iod" / "iod2019_file1_sample.csv", dtype=str)
    file6 = pd.read_csv(test_data / "iod" / "iod2019_file6_sample.csv", dtype=str)
    file6.iloc[0, 3] = ""  # no authority name on one row
    iod = read_deprivation([file1, file6])
    assert iod["lad_name"].iloc[0] == "Testborough"
    file6.iloc[1, 1] = "Renamed 001B"
    with pytest.raises(InputError, match=r"'lsoa_name' differs .* 'Renamed 001B'"):
        read_deprivation([file1, file6])


def test_blank_rows_left_by_a_spreadsheet_are_skipped(tmp_path: Path, iod25_sample: Path) -> None:
    table = pd.read_csv(iod25_sample, dtype=str, keep_default_na=False)
    blank = pd.DataFrame([[""] * table.shape[1]] * 2, columns=table.columns)
    path = tmp_path / "resaved.csv"
    pd.concat([table, blank]).to_csv(path, index=False)
    assert path.read_text().splitlines()[-1] == "," * (table.shape[1] - 1)
    iod = read_deprivation(path)
    assert len(iod) == 5
    # a row with values but no code is still an error, with its line number
    table.loc[2, "LSOA code (2021)"] = ""
    pd.concat([table, blank]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"1 row\(s\) have no LSOA code \(line 4\)"):
        read_deprivation(path)


def test_old_excel_format_names_the_missing_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_xlrd(*args: object, **kwargs: object) -> None:
        raise ImportError("Missing optional dependency 'xlrd'.")

    monkeypatch.setattr(pd, "read_excel", no_xlrd)
    path = tmp_path / "File_1.xls"
    path.write_bytes(b"old workbook")
    with pytest.raises(InputError) as caught:
        read_deprivation(path)
    message = str(caught.value)
    assert "xlrd" in message
    assert "Save the sheet as CSV or .xlsx" in message
    assert "pip install openpyxl" not in message


# ---------------------------------------------------------------- LSOA lookup


def test_read_lsoa_lookup_official_names(lookup_sample: Path) -> None:
    lookup = read_lsoa_lookup(lookup_sample)
    assert list(lookup.columns) == [
        "lsoa11_code",
        "lsoa11_name",
        "lsoa21_code",
        "lsoa21_name",
        "change_code",
        "lad_code",
        "lad_name",
    ]
    assert lookup.attrs["lad_vintage"] == 2022
    with pytest.raises(InputError, match="lacks the column"):
        read_lsoa_lookup(pd.DataFrame({"LSOA11CD": ["E01000001"]}))


def test_convert_lsoa_codes_both_ways(lookup_sample: Path) -> None:
    to21 = convert_lsoa_codes(
        pd.Series(["E01900001", "E01800006", "E01800008", "E01999999", None], index=list("abcde")),
        lookup_sample,
    )
    assert to21.index.tolist() == list("abcde")
    assert to21["conversion"].tolist() == [
        "unchanged",
        "converted",
        "ambiguous",
        "not_in_lookup",
        "missing",
    ]
    assert to21.loc["c", "candidates"] == ("E01900004", "E01900005")
    to11 = convert_lsoa_codes(["E01900003", "E01900004"], lookup_sample, to=2011)
    # a merged LSOA 2021 has two 2011 parents; a split one has one
    assert to11["conversion"].tolist() == ["ambiguous", "converted"]
    assert to11["lsoa11_code"].tolist()[1] == "E01800008"


# ---------------------------------------------------------------- attach_deprivation


def _points(**columns: list) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(
        {"name": [f"org {i}" for i in range(n)], **columns},
        geometry=[Point(400000 + i, 280000) for i in range(n)],
        crs=27700,
        index=pd.Index([10 * (n - i) for i in range(n)], name="org_id"),
    )


def test_attach_joins_and_keeps_rows(iod25_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    points = _points(lsoa21_code=["e01900004 ", None, "W01000001", "E01900001", ""])
    before = points.copy()
    out = attach_deprivation(points, iod)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs == points.crs
    assert out.index.tolist() == points.index.tolist()
    pd.testing.assert_frame_equal(points, before)  # input untouched
    assert out["deprivation_status"].tolist() == [
        "joined",
        "no_lsoa",
        "lsoa_not_in_index",
        "joined",
        "no_lsoa",
    ]
    assert out["imd_decile"].tolist()[0] == 8
    assert out["imd_decile"].isna().tolist() == [False, True, True, False, True]
    assert str(out["imd_decile"].dtype) == "Int64"
    assert out["imd_score"].iloc[3] == pytest.approx(61.234)
    assert out["iod_vintage"].unique().tolist() == ["iod2025"]
    assert out["iod_lsoa_code"].iloc[0] == "E01900004"
    # default columns: IMD score/rank/decile and the seven domain deciles
    for column in ("imd_rank", "income_decile", "living_environment_decile"):
        assert column in out.columns
    assert "income_score" not in out.columns


def test_attach_selected_columns_and_reruns(iod25_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    points = _points(lsoa21_code=["E01900002"])
    out = attach_deprivation(points, iod, columns=["idaci_decile", "population_total"])
    assert out["idaci_decile"].tolist() == [2]
    assert out["population_total"].tolist() == [1601]
    again = attach_deprivation(out, iod, columns=["idaci_decile"])
    assert again.columns.tolist().count("idaci_decile") == 1
    with pytest.raises(InputError, match=r"columns \['nope'\] are not in the deprivation table"):
        attach_deprivation(points, iod, columns=["nope"])


def test_attach_vintage_mismatch_is_an_error_without_lookup(iod25_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    points = _points(lsoa11_code=["E01900001", "E01800006"])
    no_lookup = Geography(name="no lookup", layers={"lad": sg.load_authorities()})
    with pytest.raises(InputError, match=r"2 of 2 organisations have only an LSOA 2011 code"):
        attach_deprivation(points, iod, geography=no_lookup)


def test_attach_converts_with_the_lookup(iod25_sample: Path, lookup_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    points = _points(
        lsoa11_code=["E01900001", "E01800006", "E01800008", "E01999999", None],
    )
    out = attach_deprivation(points, iod, lsoa_lookup=lookup_sample)
    assert out["deprivation_status"].tolist() == [
        "joined",
        "joined",
        "ambiguous_lsoa",
        "lsoa_not_in_index",
        "no_lsoa",
    ]
    assert out["iod_lsoa_code"].tolist()[:2] == ["E01900001", "E01900003"]
    assert out["imd_decile"].tolist()[1] == 4


def test_attach_iod2019_to_lsoa21_points(iod19_sample: Path, lookup_sample: Path) -> None:
    iod = read_deprivation(iod19_sample)
    lookup = read_lsoa_lookup(lookup_sample)
    points = _points(lsoa21_code=["E01900002", "E01900005", "E01900003"])
    out = attach_deprivation(points, iod, lsoa_lookup=lookup)
    # E01900005 came from a split 2011 LSOA that is not in the 2019 sample
    assert out["deprivation_status"].tolist() == ["joined", "lsoa_not_in_index", "ambiguous_lsoa"]
    assert out["iod_vintage"].iloc[0] == "iod2019"


@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_attach_many_organisations_match_row_by_row(
    iod25_sample: Path, lookup_sample: Path, dtype: str
) -> None:
    iod = read_deprivation(iod25_sample)
    codes11 = ["E01900001", "E01800006", "E01800008", "E01999999", None, " e01900002", ""]
    codes21 = [None, None, None, None, None, None, " e01900004"]
    small = _points(lsoa11_code=codes11, lsoa21_code=codes21)
    expected = attach_deprivation(small, iod, lsoa_lookup=lookup_sample)
    # the first five rows are those of test_attach_converts_with_the_lookup
    assert expected["deprivation_status"].tolist()[5:] == ["joined", "joined"]
    assert expected["iod_lsoa_code"].tolist()[5:] == ["E01900002", "E01900004"]
    repeats = 300  # 2,100 rows sharing seven codes
    many = pd.concat([small] * repeats, ignore_index=True)
    many = many.astype({"lsoa11_code": dtype, "lsoa21_code": dtype})
    out = attach_deprivation(many, iod, lsoa_lookup=lookup_sample)
    tiled = pd.concat([expected] * repeats, ignore_index=True)
    added = [c for c in expected.columns if c not in small.columns]
    pd.testing.assert_frame_equal(out[added], tiled[added])


def test_convert_many_lsoa_codes_match_one_by_one(lookup_sample: Path) -> None:
    codes = ["E01900001", "E01800006", "E01800008", "E01999999", None, " e01800008 ", ""]
    one_by_one = pd.concat(
        [convert_lsoa_codes([code], lookup_sample) for code in codes], ignore_index=True
    )
    many = convert_lsoa_codes(pd.Series(codes * 200, index=range(0, 2800, 2)), lookup_sample)
    assert many.index.tolist() == list(range(0, 2800, 2))
    tiled = pd.concat([one_by_one] * 200, ignore_index=True)
    pd.testing.assert_frame_equal(many.reset_index(drop=True), tiled)


def test_attach_empty_points(iod25_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    empty = _points(lsoa21_code=["E01900001"]).iloc[0:0]
    out = attach_deprivation(empty, iod)
    assert len(out) == 0
    assert {"imd_decile", "deprivation_status", "iod_vintage"} <= set(out.columns)
    assert isinstance(out, gpd.GeoDataFrame)


def test_attach_points_without_lsoa_column(iod25_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    points = _points(postcode=["B1 1AA"])
    with pytest.raises(InputError, match=r"points have no LSOA column.*assign_areas"):
        attach_deprivation(points, iod)
    with pytest.raises(InputError, match="must be a DataFrame"):
        attach_deprivation([1, 2], iod)  # type: ignore[arg-type]


def test_attach_and_convert_argument_errors(iod25_sample: Path, lookup_sample: Path) -> None:
    iod = read_deprivation(iod25_sample)
    repeated = pd.concat([iod, iod.iloc[:1]], ignore_index=True)
    repeated.attrs = iod.attrs
    points = _points(lsoa21_code=["E01900001"])
    with pytest.raises(InputError, match=r"duplicate LSOA codes \(E01900001\); it must have one"):
        attach_deprivation(points, repeated)
    with pytest.raises(InputError, match=r"deprivation must be a table .* got int"):
        attach_deprivation(points, 2025)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"LSOA lookup file '.*gone\.csv' does not exist"):
        convert_lsoa_codes(["E01000001"], lookup_sample.with_name("gone.csv"))
    with pytest.raises(InputError, match=r"to must be 2021 or 2011, got 2001"):
        convert_lsoa_codes(["E01000001"], lookup_sample, to=2001)  # type: ignore[arg-type]


def test_attach_accepts_a_path(iod19_sample: Path) -> None:
    points = pd.DataFrame({"lsoa11_code": ["E01900005"]})
    out = attach_deprivation(points, iod19_sample)
    assert out["imd_decile"].tolist() == [10]
    assert type(out) is pd.DataFrame


# ---------------------------------------------------------------- download and cache


@pytest.fixture
def serve(local_server) -> Callable:
    """Start a local server answering GET requests from ``routes`` (path -> (status, body))."""

    def start(routes: dict[str, tuple[int, bytes]]) -> Any:
        return local_server(lambda request: routes.get(request.path, (404, b"not found")))

    return start


def _hits(server: Any, path: str) -> int:
    return sum(request.path == path for request in server.requests)


@pytest.fixture
def fast_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http.settings, "retries", 0)
    monkeypatch.setattr(_http.settings, "backoff", 0.0)
    monkeypatch.setattr(_http.settings, "timeout", 5.0)


def _register(monkeypatch: pytest.MonkeyPatch, name: str, *urls: str, rows: int) -> None:
    entry = dataclasses.replace(datasets.DATASETS[name], urls=urls, expected_rows=rows)
    monkeypatch.setitem(datasets.DATASETS, name, entry)


@pytest.mark.usefixtures("fast_http")
def test_fetch_downloads_validates_caches_and_reuses(
    serve, monkeypatch: pytest.MonkeyPatch, iod25_sample: Path
) -> None:
    server = serve({"/f7.csv": (200, iod25_sample.read_bytes())})
    _register(monkeypatch, "iod2025", server.url + "/f7.csv", rows=5)
    first = fetch_deprivation("iod2025")
    assert len(first) == 5
    assert _hits(server, "/f7.csv") == 1
    cached = datasets.DATASETS["iod2025"].cache_path()
    assert cached.is_file()
    assert "downloaded from" in first.attrs["source"]
    second = fetch_deprivation("iod2025")
    assert _hits(server, "/f7.csv") == 1  # reused, not downloaded again
    pd.testing.assert_frame_equal(first, second)
    assert "cached" in second.attrs["source"]
    (downloaded,) = get_provenance(first)
    assert (downloaded.name, downloaded.url, downloaded.source) == (
        "iod2025",
        server.url + "/f7.csv",
        server.url + "/f7.csv",
    )
    assert downloaded.publisher == "Ministry of Housing, Communities and Local Government"
    assert get_provenance(second)[0].source == str(cached)
    fetch_deprivation("iod2025", refresh=True)
    assert _hits(server, "/f7.csv") == 2


@pytest.mark.usefixtures("fast_http")
def test_bad_download_is_not_cached_and_fallback_url_is_used(
    serve, monkeypatch: pytest.MonkeyPatch, iod25_sample: Path, test_data: Path
) -> None:
    truncated = b"\n".join(iod25_sample.read_bytes().splitlines()[:3])
    server = serve(
        {
            "/truncated.csv": (200, truncated),
            "/html.csv": (200, b"<html><body>Moved</body></html>"),
            "/good.csv": (200, iod25_sample.read_bytes()),
        }
    )
    truncated_url = server.url + "/truncated.csv"
    _register(monkeypatch, "iod2025", truncated_url, server.url + "/html.csv", rows=5)
    cached = datasets.DATASETS["iod2025"].cache_path()
    with pytest.raises(DataUnavailableError) as caught:
        fetch_deprivation("iod2025")
    message = str(caught.value)
    assert "it has 2 LSOA rows, expected 5" in message
    assert "does not look like" in message
    assert truncated_url in message
    assert not cached.exists()
    assert not list(cached.parent.glob("*.download*"))
    # a later, valid URL in the registry is used as a fallback
    _register(monkeypatch, "iod2025", truncated_url, server.url + "/good.csv", rows=5)
    iod = fetch_deprivation("iod2025")
    assert len(iod) == 5
    assert cached.read_bytes() == iod25_sample.read_bytes()


@pytest.mark.usefixtures("fast_http")
def test_offline_without_cache_names_url_and_fix(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve({})
    dead = server.url + "/File_7.csv"
    server.close()
    _register(monkeypatch, "iod2019", dead, rows=32_844)
    with pytest.raises(DataUnavailableError) as caught:
        fetch_deprivation("iod2019")
    message = str(caught.value)
    assert dead in message
    assert "path='...'" in message
    assert "SOCECON_GEO_IOD2019" in message


def test_offline_fails_at_once_without_trying_every_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # default retries and back-off: before, an offline fetch spent about 15 s retrying
    monkeypatch.setattr(_http.settings, "retries", 3)
    monkeypatch.setattr(_http.settings, "backoff", 1.0)
    first = "http://files.invalid/File_7.csv"
    second = "http://mirror.invalid/File_7.csv"
    _register(monkeypatch, "iod2025", first, second, rows=5)
    started = time.perf_counter()
    with pytest.raises(DataUnavailableError) as caught:
        fetch_deprivation("iod2025")
    assert time.perf_counter() - started < 0.5
    message = str(caught.value)
    assert "unreachable" in message
    assert first in message
    assert second not in message.split("Download it yourself")[0]
    assert "SOCECON_GEO_IOD2025" in message


@pytest.mark.usefixtures("fast_http")
def test_http_error_is_data_unavailable(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve({})
    _register(monkeypatch, "iod2025", server.url + "/missing.csv", rows=5)
    with pytest.raises(DataUnavailableError, match="HTTP 404"):
        fetch_deprivation("iod2025")


@pytest.mark.usefixtures("fast_http")
def test_local_path_and_environment_variable_win(
    serve, monkeypatch: pytest.MonkeyPatch, iod25_sample: Path, tmp_path: Path
) -> None:
    server = serve({"/f7.csv": (200, b"never used")})
    _register(monkeypatch, "iod2025", server.url + "/f7.csv", rows=5)
    monkeypatch.setenv("SOCECON_GEO_IOD2025", str(iod25_sample))
    from_env = fetch_deprivation("iod2025")
    assert from_env.attrs["source"] == str(iod25_sample)
    table = pd.read_csv(iod25_sample, dtype=str).iloc[:2]
    explicit = tmp_path / "two_rows.csv"
    table.to_csv(explicit, index=False)
    assert len(fetch_deprivation("iod2025", path=explicit)) == 2
    assert server.requests == []
    monkeypatch.setenv("SOCECON_GEO_IOD2025", str(tmp_path / "gone.csv"))
    with pytest.raises(InputError, match="SOCECON_GEO_IOD2025 does not exist"):
        fetch_deprivation("iod2025")


def test_fetch_rejects_unknown_edition() -> None:
    with pytest.raises(InputError, match="vintage must be 'iod2025' or 'iod2019'"):
        fetch_deprivation("iod2015")  # type: ignore[arg-type]


def test_bad_explicit_path_hint_does_not_blame_the_environment(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        fetch_deprivation("iod2025", path=tmp_path / "gone.csv")
    message = str(caught.value)
    assert "given by path= does not exist" in message
    assert "leave path= out" in message
    assert "unset SOCECON_GEO_IOD2025" not in message
    with pytest.raises(InputError, match=r"given by path= is a folder, not a file"):
        fetch_deprivation("iod2025", path=tmp_path)


def test_headings_without_rows_is_an_error(tmp_path: Path, iod25_sample: Path) -> None:
    # an empty table would make every later join silently match nothing
    path = tmp_path / "File_7_headings_only.csv"
    path.write_bytes(iod25_sample.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(InputError, match=r"'File_7_headings_only\.csv': it has headings but no"):
        read_deprivation(path)


@pytest.mark.usefixtures("fast_http")
def test_download_cut_off_inside_its_last_row_is_not_cached(
    serve, monkeypatch: pytest.MonkeyPatch, iod25_sample: Path
) -> None:
    body = iod25_sample.read_bytes().rstrip(b"\r\n")
    cut = body[: body.rindex(b",10,")]  # the last row loses its tail, at a field's end
    server = serve({"/cut.csv": (200, cut)})
    _register(monkeypatch, "iod2025", server.url + "/cut.csv", rows=5)
    with pytest.raises(
        DataUnavailableError, match=r"last row \(E01900005\) has blank cells .*cut off"
    ):
        fetch_deprivation("iod2025")
    assert not datasets.DATASETS["iod2025"].cache_path().exists()


@pytest.mark.parametrize("how", ["garbage", "truncated", "foreign", "no checksum"])
def test_a_damaged_cached_file_7_is_downloaded_again_with_one_warning(
    serve, monkeypatch: pytest.MonkeyPatch, iod25_sample: Path, how: str
) -> None:
    import warnings

    from socecon_geo._errors import SocEconGeoWarning

    server = serve({"/f7.csv": (200, iod25_sample.read_bytes())})
    _register(monkeypatch, "iod2025", server.url + "/f7.csv", rows=5)
    first = fetch_deprivation("iod2025")
    cached = datasets.DATASETS["iod2025"].cache_path()
    sidecar = cached.with_name(cached.name + ".sha256")
    if how == "no checksum":  # cached by an older version, and valid: kept as it is
        sidecar.unlink()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pd.testing.assert_frame_equal(fetch_deprivation("iod2025"), first)
        assert _hits(server, "/f7.csv") == 1
        assert sidecar.is_file()
        return
    data = cached.read_bytes()
    if how == "garbage":
        cached.write_bytes(b"\x00garbage" * 50)
    elif how == "truncated":
        cached.write_bytes(data[: len(data) // 2])
    else:  # a valid CSV of another kind in its place
        cached.write_text("lsoa11_code,lsoa21_code\nE01000001,E01000001\n")
    with pytest.warns(SocEconGeoWarning, match="cached iod2025 file .* is not usable") as caught:
        again = fetch_deprivation("iod2025")
    assert len(caught) == 1
    assert _hits(server, "/f7.csv") == 2
    pd.testing.assert_frame_equal(again.reset_index(drop=True), first.reset_index(drop=True))
    assert cached.read_bytes() == data

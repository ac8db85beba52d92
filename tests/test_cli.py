"""The socecon-geo command line."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from socecon_geo import InputError, UnknownAreaError
from socecon_geo.cli import main
from socecon_geo.sample import sample_organisations


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "Birmingham" in out
    assert "E08000025" in out
    assert "192" in out
    assert "1680" in out
    assert "Royal Mail" in out


def test_sample_then_geocode_csv(tmp_path, capsys):
    register = tmp_path / "sample.csv"
    assert main(["sample", "-n", "300", "--seed", "4", "-o", str(register)]) == 0
    assert len(pd.read_csv(register)) == 300
    out = tmp_path / "located.csv"
    assert main(["geocode", str(register), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Geocoding report: 300 rows" in printed
    table = pd.read_csv(out)
    assert len(table) == 300  # every row written
    assert table["geocode_status"].notna().all()
    assert table["area_status"].notna().all()
    matched = table["geocode_status"] == "matched"
    assert matched.mean() > 0.9
    assert table.loc[matched, ["easting", "latitude", "ward_code"]].notna().all().all()
    assert table.loc[matched, "latitude"].between(52.2, 52.8).all()
    assert table.loc[table["geocode_status"] == "missing_postcode", "easting"].isna().all()


def test_geocode_to_geopackage_with_deprivation(tmp_path, shared_data):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "200", "--authority", "Coventry", "-o", str(register)])
    out = tmp_path / "located.gpkg"
    code = main(
        [
            "geocode",
            str(register),
            "-o",
            str(out),
            "--deprivation",
            str(shared_data / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv"),
            "--lsoa-lookup",
            str(shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv"),
        ]
    )
    assert code == 0
    layer = gpd.read_file(out)
    assert len(layer) == 200
    assert layer.crs.to_epsg() == 27700
    located = layer["geocode_status"] == "matched"
    assert (layer.loc[located, "lad_name"] == "Coventry").all()
    assert (layer["deprivation_status"] == "joined").mean() > 0.85


def test_geocode_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    assert main(["geocode", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("socecon-geo: error:")
    assert "nope.csv" in err
    assert "Traceback" not in err

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["geocode", str(empty), "-o", str(tmp_path / "x.csv")]) == 2
    assert "empty" in capsys.readouterr().err

    assert main(["geocode", str(empty), "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "--output must end in" in capsys.readouterr().err


def test_sample_bad_arguments(tmp_path, capsys):
    assert main(["sample", "-o", str(tmp_path / "s.gpkg")]) == 2
    assert "--output must end in one of .csv, .parquet, got 's.gpkg'" in capsys.readouterr().err
    assert not (tmp_path / "s.gpkg").exists()
    assert main(["sample", "-n", "0", "-o", str(tmp_path / "s.csv")]) == 2
    assert "positive whole number" in capsys.readouterr().err
    assert main(["sample", "--authority", "Leeds", "-o", str(tmp_path / "s.csv")]) == 2
    assert "unknown authority 'Leeds'" in capsys.readouterr().err


def test_console_script_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "socecon_geo.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("socecon-geo 0.1.0")


def test_command_is_required():
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_output_folder_is_checked_before_any_work(tmp_path, capsys):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "20", "-o", str(register)])
    capsys.readouterr()
    missing = tmp_path / "no" / "such" / "out.csv"
    assert main(["geocode", str(register), "-o", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err
    assert "Traceback" not in err
    folder = tmp_path / "looks_like.csv"
    folder.mkdir()
    assert main(["geocode", str(register), "-o", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["sample", "-o", str(missing)]) == 2


def test_areas_from_the_bundled_geography_or_given_boundaries(tmp_path, shared_data):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "400", "--seed", "2", "-o", str(register)])
    out = tmp_path / "located.parquet"
    args = ["geocode", str(register), "-o", str(out)]
    assert main(args) == 0
    bundled = gpd.read_parquet(out)
    located = bundled["geocode_status"] == "matched"
    for column in ("lsoa21_code", "msoa21_code", "ward_code", "lad_code"):
        assert bundled.loc[located, column].notna().mean() > 0.99, column
    boundaries = shared_data / "boundaries" / "lsoa21_west_midlands_region_simplified.geojson"
    lookup = shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv"
    given = [*args, "--lsoa21-boundaries", str(boundaries), "--lsoa-lookup", str(lookup)]
    assert main(given) == 0
    with_boundaries = gpd.read_parquet(out)
    assert with_boundaries.loc[located, "lsoa21_code"].notna().mean() > 0.99
    same = with_boundaries.loc[located, "lsoa21_code"] == bundled.loc[located, "lsoa21_code"]
    assert same.mean() > 0.97


ODD_NAMES = ['Café "Zoë", Ltd\nsecond line', "Ünïcödé — dash; semi;colon", "tab\there", "=SUM(A1)"]


def odd_register(path):
    """A tiny register with odd text and two headings that differ only in case."""
    frame = pd.DataFrame(
        {
            "Name": ODD_NAMES,
            "Postcode": ["B1 1AY", "cv11aa", "", "M60 0AG"],
            "Alias": ["a", "b", "c", "d"],
            "ALIAS": ["A", "B", "C", "D"],
            "Notes £/€ 🚲": ["🚲🌱", "a\r\nb", "'quote", "\\back"],
        }
    )
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".gpkg", ".parquet", ".geojson"])
def test_every_output_format_keeps_every_row_and_odd_text(tmp_path, capsys, suffix):
    register = tmp_path / "odd.csv"
    source = odd_register(register)
    out = tmp_path / f"located{suffix}"
    assert main(["geocode", str(register), "-o", str(out)]) == 0, capsys.readouterr().err
    if suffix == ".csv":
        table = pd.read_csv(out, dtype=str, keep_default_na=False)
    elif suffix == ".parquet":
        table = gpd.read_parquet(out)
    else:
        table = gpd.read_file(out)
    assert len(table) == 4
    if suffix == ".csv":  # a formula is neutralised for spreadsheets; the rest kept
        assert table["name"].tolist() == [*ODD_NAMES[:3], "'=SUM(A1)"]
    else:  # GeoPackage, GeoParquet and GeoJSON keep the raw text
        assert table["name"].tolist() == ODD_NAMES
    assert table["src_Notes £/€ 🚲"].tolist() == source["Notes £/€ 🚲"].tolist()
    assert table["geocode_status"].tolist() == [
        "matched",
        "terminated",
        "missing_postcode",
        "outside_coverage",
    ]
    assert table["area_status"].tolist() == ["assigned", "partial", "no_location", "no_location"]
    # headings differing only in case both survive (GeoPackage columns ignore case)
    alias = [c for c in table.columns if c.casefold().startswith("src_alias")]
    assert sorted(table[c].iloc[0] for c in alias) == ["A", "a"]


def test_geojson_output_is_wgs84_as_the_standard_requires(tmp_path):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "60", "--seed", "3", "-o", str(register)])
    out = tmp_path / "located.geojson"
    assert main(["geocode", str(register), "-o", str(out)]) == 0
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert len(raw["features"]) == 60
    crs = raw.get("crs", {}).get("properties", {}).get("name", "CRS84")
    assert crs.endswith("CRS84")
    lonlat = [f["geometry"]["coordinates"] for f in raw["features"] if f["geometry"]]
    assert lonlat
    assert all(-2.3 < lon < -1.3 and 52.3 < lat < 52.7 for lon, lat in lonlat)
    layer = gpd.read_file(out)
    assert layer.crs.to_epsg() == 4326
    located = layer.geometry.notna()
    # British National Grid coordinates stay available as properties
    back = layer.loc[located].to_crs(27700)
    assert (back.geometry.x - layer.loc[located, "easting"]).abs().max() < 0.01
    assert (back.geometry.y - layer.loc[located, "northing"]).abs().max() < 0.01
    assert layer.loc[~located, "easting"].isna().all()


def test_write_failure_is_one_line(tmp_path, capsys, monkeypatch):
    import pyogrio.errors

    def refuse(*args, **kwargs):
        raise pyogrio.errors.FieldError("Error adding field 'x' to layer\nmore detail")

    register = tmp_path / "sample.csv"
    main(["sample", "-n", "10", "-o", str(register)])
    capsys.readouterr()
    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", refuse)
    assert main(["geocode", str(register), "-o", str(tmp_path / "x.gpkg")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("socecon-geo: error: could not write")
    assert "Error adding field 'x'" in err
    assert len(err.strip().splitlines()) == 1


def test_sample_negative_seed_is_a_usage_error(tmp_path, capsys):
    assert main(["sample", "--seed", "-1", "-o", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert "seed must be a whole number" in err
    assert "Traceback" not in err


def test_sample_organisations_arguments():
    one = sample_organisations(40, seed=5, authorities=pd.Series(["Coventry"], index=[9]))
    two = sample_organisations(40, seed=5, authorities=np.array(["coventry"]))
    three = sample_organisations(40, seed=5, authorities={"E08000026"})
    assert one.equals(two)
    assert one.equals(three)
    assert not one.equals(sample_organisations(40, seed=6, authorities="Coventry"))
    clean = sample_organisations(40, seed=5, authorities="Coventry", messy=False)
    assert clean["postcode"].str.match(r"^CV\d").all()
    with pytest.raises(UnknownAreaError, match="authorities= is empty"):
        sample_organisations(5, authorities=[])
    for seed in (-1, 1.5, "x", True):
        with pytest.raises(InputError, match="seed must be a whole number"):
            sample_organisations(5, seed=seed)


def test_geocode_with_a_code_point_open_zip_and_no_areas(tmp_path, capsys):
    archive = tmp_path / "codepo_gb.zip"
    headers = (
        "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n"
        "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,"
        "NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,"
        "Admin_ward_code\n"
    )
    rows = (
        '"M1 1AE",10,384000,398000,"E92000001","E19000001","E18000002","","E08000003","E05011368"\n'
    )
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("Doc/Code-Point_Open_Column_Headers.csv", headers)
        handle.writestr("Data/CSV/m.csv", rows)
    register = tmp_path / "orgs.csv"
    pd.DataFrame({"name": ["a", "b", "c"], "postcode": ["m11ae", "B1 1AY", None]}).to_csv(
        register, index=False
    )
    out = tmp_path / "out.csv"
    args = ["geocode", str(register), "-o", str(out), "--postcode-table", str(archive)]
    assert main([*args, "--no-areas"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "areas:" not in printed
    table = pd.read_csv(out)
    assert table["geocode_status"].tolist() == [
        "matched",
        "outside_coverage",
        "missing_postcode",
    ]
    assert "area_status" not in table
    assert table["easting"].iloc[0] == 384000
    assert table["postcode_lad_code"].iloc[0] == "E08000003"


@pytest.mark.parametrize("edition", ["iod2019", "IoD2019", " IOD2019 "])
def test_deprivation_edition_name_in_any_case(tmp_path, capsys, monkeypatch, shared_data, edition):
    file_2 = shared_data / "iod" / "File_2_-_IoD2019_Domains_of_Deprivation.csv"
    monkeypatch.setenv("SOCECON_GEO_IOD2019", str(file_2))
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "50", "--seed", "2", "-o", str(register)])
    out = tmp_path / "out.parquet"
    assert main(["geocode", str(register), "-o", str(out), "--deprivation", edition]) == 0, (
        capsys.readouterr().err
    )
    table = gpd.read_parquet(out)
    assert (table["deprivation_status"] == "joined").mean() > 0.9


@pytest.mark.parametrize(
    ("option", "value"),
    [("--deprivation", "iod2019"), ("--lsoa21-boundaries", "lsoa21.geojson")],
)
def test_no_areas_with_an_option_that_needs_areas_is_refused_up_front(
    tmp_path, capsys, option, value
):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "10", "-o", str(register)])
    capsys.readouterr()
    out = tmp_path / "out.csv"
    assert main(["geocode", str(register), "-o", str(out), "--no-areas", option, value]) == 2
    captured = capsys.readouterr()
    assert f"{option} need the LSOA codes" in captured.err
    assert "drop --no-areas" in captured.err
    assert captured.out == ""  # refused before any work
    assert not out.exists()


def test_output_may_not_overwrite_the_register(tmp_path, capsys, monkeypatch):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "10", "-o", str(register)])
    before = register.read_bytes()
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    assert main(["geocode", str(register), "-o", "./sample.csv"]) == 2
    assert "is the register being read" in capsys.readouterr().err
    assert register.read_bytes() == before


def test_column_mapping_for_a_generic_file(tmp_path, capsys):
    register = tmp_path / "odd.csv"
    register.write_text("Org Title;Where\nA Trust;B1 1AY\nB CIC;cv1 5fb\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["geocode", str(register), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--column FIELD=HEADING" in err
    args = ["geocode", str(register), "-o", str(out)]
    assert main([*args, "--column", "name=Org Title", "--column", "postcode=Where"]) == 0
    table = pd.read_csv(out)
    assert table["name"].tolist() == ["A Trust", "B CIC"]
    assert (table["geocode_status"] == "matched").all()
    capsys.readouterr()
    assert main([*args, "--column", "name"]) == 2
    assert "--column takes FIELD=HEADING" in capsys.readouterr().err


def test_a_closed_pipe_stops_quietly(monkeypatch, capsys):
    """`socecon-geo info | head -1`: no error message when the reader goes away."""

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["info"]) == 141
    assert capsys.readouterr().err == ""

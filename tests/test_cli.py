"""The socecon-geo command line."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from socecon_geo.cli import main


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


def test_split_lsoas_resolved_with_lsoa21_boundaries(tmp_path, shared_data):
    register = tmp_path / "sample.csv"
    main(["sample", "-n", "400", "--seed", "2", "-o", str(register)])
    out = tmp_path / "located.parquet"
    args = ["geocode", str(register), "-o", str(out)]
    args += ["--lsoa-lookup", str(shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv")]
    assert main(args) == 0
    without = gpd.read_parquet(out)
    boundaries = shared_data / "boundaries" / "lsoa21_west_midlands_region_simplified.geojson"
    assert main([*args, "--lsoa21-boundaries", str(boundaries)]) == 0
    with_boundaries = gpd.read_parquet(out)
    located = without["geocode_status"] == "matched"
    assert with_boundaries.loc[located, "lsoa21_code"].notna().mean() > 0.99
    assert (
        with_boundaries.loc[located, "lsoa21_code"].notna().sum()
        > without.loc[located, "lsoa21_code"].notna().sum()
    )

"""`socecon-geo demo` and `socecon-geo run` end to end (they call the pipeline, `analyse`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

import socecon_geo as sg
from socecon_geo.cli import main

CLI = [sys.executable, "-m", "socecon_geo.cli"]
COOPSUK = ("organisations", "coopsuk_open_data_2023-03-02.csv")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the network was used: {args[:2]}")

    monkeypatch.setattr("socecon_geo._http._send", refuse)


def test_demo_offline(tmp_path, capsys, no_network):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "demo: 2,000 synthetic organisations at real West Midlands postcodes"
    assert printed[-2:] == [f"outputs: {out}{os.sep}", f"map: {out / 'map.html'}"]
    assert (out / "map.html").stat().st_size > 10_000
    assert "<html" in (out / "map.html").read_text(encoding="utf-8").lower()


@pytest.mark.shared_data
def test_run_on_the_co_operatives_uk_register(tmp_path, capsys, shared_data, no_network):
    register = shared_data.joinpath(*COOPSUK)
    out = tmp_path / "coops"
    argv = ["run", str(register), "--out", str(out), "--level", "ward"]
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (
        "coopsuk_open_data_2023-03-02.csv: 7,272 rows read as Co-operatives UK open data, "
        "7,272 kept"
    )
    assert printed[-1] == f"map: {out / 'map.html'}"
    assert (out / "map.html").is_file()
    assert len(printed) > 3  # the summary


@pytest.mark.shared_data
def test_run_combines_several_files(tmp_path, capsys, shared_data):
    sample = tmp_path / "sample.csv"
    assert main(["sample", "-n", "200", "-o", str(sample)]) == 0
    capsys.readouterr()
    register = shared_data.joinpath(*COOPSUK)
    out = tmp_path / "both"
    assert main(["run", str(register), str(sample), "--out", str(out), "-q"]) == 0
    captured = capsys.readouterr()
    # --quiet: no reading lines, no progress, no summary; only where the outputs are
    assert captured.out.splitlines() == [f"outputs: {out}{os.sep}", f"map: {out / 'map.html'}"]
    assert captured.err == ""


@pytest.mark.shared_data
def test_ctrl_c_on_a_running_analysis(tmp_path, shared_data):
    """SIGINT while `run` works: one line, exit 130, no traceback."""
    register = shared_data.joinpath(*COOPSUK)
    proc = subprocess.Popen(
        [*CLI, "run", str(register), "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()  # printed once the file is read, before the analysis
    assert "rows read" in first, first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "socecon-geo: interrupted", err
    assert "Traceback" not in err, err
    assert not Path(tmp_path / "out" / "map.html").exists()


COOPSUK_2016 = ("organisations", "coopsuk_2016")


@pytest.mark.shared_data
def test_size_on_the_2016_co_operatives(tmp_path, capsys, shared_data, no_network):
    folder = shared_data.joinpath(*COOPSUK_2016)
    out = tmp_path / "size.csv"
    argv = [
        "size",
        str(folder / "2016open_data_organisations.csv"),
        "--economy",
        str(folder / "2016open_data_economy_final.csv"),
        "-o",
        str(out),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == "organisations: no_area 7,753, counted 224, inactive 42, duplicate 18"
    assert printed[2].startswith("  no_area = ")  # every status printed is explained
    table = {line.split()[0]: line for line in printed if line.startswith(("Sandwell", "all "))}
    assert "15,313,667" in table["Sandwell"]
    assert "2,575,590" in table["Sandwell"]
    assert "76,006,277" in table["all"]
    import pandas as pd

    areas = pd.read_csv(out, encoding="utf-8-sig")
    assert len(areas) == 192
    assert int(areas["n_organisations"].sum()) == 224
    by_authority = pd.read_csv(tmp_path / "size_by_authority.csv", encoding="utf-8-sig")
    assert by_authority["lad_name"].tolist()[-1] == "all areas"


def test_size_errors_are_one_line_in_command_line_words(tmp_path, capsys, shared_data):
    register = shared_data.joinpath(*COOPSUK)
    assert main(["size", str(register), "--economy-year", "2016"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "socecon-geo: error: --economy-year goes with --economy FILE; add the economy file"
    ]
    economy = shared_data.joinpath(*COOPSUK_2016, "2016open_data_economy_final.csv")
    argv = ["size", str(register), "--economy", str(economy), "--economy-year", "2030"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--economy-year 2030 is not in file" in err[0]
    assert "economy_year" not in err[0]


SITES = ("sites", "wmca_brownfield_land_registers.csv")


@pytest.mark.shared_data
def test_suppliers_for_the_brownfield_sites(tmp_path, capsys, shared_data, no_network):
    out = tmp_path / "shortlist.csv"
    argv = [
        "suppliers",
        str(shared_data.joinpath(*SITES)),
        str(shared_data.joinpath(*COOPSUK)),
        "--programme",
        "housing",
        "-o",
        str(out),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "housing: 2,058 sites matched, 54,045 dwellings" in printed
    assert "within 3,000 m of at least one supplier: 508 sites, 16,356 dwellings" in printed
    assert "  located = " in printed  # every status printed is explained
    import pandas as pd

    shortlist = pd.read_csv(out, encoding="utf-8-sig")
    assert shortlist["site_id"].nunique() == 2115  # every site, gaps included


def test_suppliers_refuses_an_unknown_programme_in_one_line(capsys, shared_data):
    argv = [
        "suppliers",
        str(shared_data.joinpath(*SITES)),
        str(shared_data.joinpath(*COOPSUK)),
        "--programme",
        "spaceports",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "spaceports" in err[0]


@pytest.mark.parametrize("command", ["demo", "run"])
def test_a_missing_map_assets_folder_is_one_line_before_any_work(
    command, tmp_path, capsys, shared_data
):
    argv = [command, "--out", str(tmp_path / "out"), "--map-assets", str(tmp_path / "nowhere")]
    if command == "run":
        argv.insert(1, str(shared_data.joinpath(*COOPSUK)))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--map-assets" in err[0]
    assert "no such folder" in err[0]
    assert not (tmp_path / "out" / "map.html").exists()


def test_suppliers_output_must_be_csv(tmp_path, capsys, shared_data):
    argv = [
        "suppliers",
        str(shared_data.joinpath(*SITES)),
        str(shared_data.joinpath(*COOPSUK)),
        "-o",
        str(tmp_path / "shortlist.gpkg"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"socecon-geo: error: --output {tmp_path / 'shortlist.gpkg'}: the shortlist is "
        "written as .csv; name a .csv file"
    ]


@pytest.mark.shared_data
def test_run_with_investment_sites(tmp_path, capsys, shared_data, no_network):
    """`run --sites --programme --band`: the suppliers step runs and its files are written."""
    sites = shared_data / "sites" / "wmca_brownfield_land_registers.csv"
    sample = tmp_path / "sample.csv"
    assert main(["sample", "-n", "400", "-o", str(sample)]) == 0
    capsys.readouterr()
    out = tmp_path / "with-sites"
    argv = ["run", str(sample), "--out", str(out), "--sites", str(sites)]
    argv += ["--programme", "housing", "--band", "2000", "--band", "8000", "-q"]
    assert main(argv) == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["parameters"]["suppliers"]["bands_m"] == [2000, 8000]
    assert report["parameters"]["suppliers"]["programme"] == "housing"
    shortlist = pd.read_csv(out / "shortlist.csv", encoding="utf-8-sig")
    assert set(shortlist["programme"].dropna()) == {"housing"}
    layers = set(pyogrio.list_layers(out / "analysis.gpkg")[:, 0])
    assert "sites" in layers
    sites_layer = pyogrio.read_dataframe(out / "analysis.gpkg", layer="sites")
    assert len(sites_layer) == 2_115  # every row of the registers, with its status
    assert {"n_suppliers_2000m", "n_suppliers_8000m"} <= set(sites_layer.columns)
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Investment sites" in page
    # no 3 km band: the sites are coloured by the band nearest to it, 2 km
    assert "suppliers within 2 km in a straight line" in page


def test_run_with_a_missing_sites_file(tmp_path, capsys):
    sample = tmp_path / "sample.csv"
    assert main(["sample", "-n", "50", "-o", str(sample)]) == 0
    capsys.readouterr()
    missing = tmp_path / "nowhere.csv"
    code = main(["run", str(sample), "--out", str(tmp_path / "o"), "--sites", str(missing)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"socecon-geo: error: analyse: --sites {missing} names no file; pass the path of "
        "the investment sites (a brownfield land register, GeoJSON, GeoPackage or CSV)\n"
    )
    with pytest.raises(sg.InputError, match=r"sites='.*nowhere\.csv' names no file"):
        sg.analyse(sg.sample_organisations(20), sites=missing, progress=False)

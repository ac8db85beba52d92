"""The command line's errors, exit statuses, filters lines, legends and data commands.

Every documented error path gives one line on standard error and its documented exit
status; Ctrl-C and a closed pipe are checked on a real process.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import socecon_geo as sg
from socecon_geo import datasets
from socecon_geo.cli import main
from socecon_geo.cli._errors import EXIT_STATUSES, cli_words, one_line

DATA = Path(__file__).parent / "data" / "registers"
CLI = [sys.executable, "-m", "socecon_geo.cli"]


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("socecon-geo: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def register(tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text("name,postcode\nA Trust,B1 1AY\nB CIC,cv1 5fb\n", encoding="utf-8")
    return path


def usage_status(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, capsys.readouterr()


# ---- the documented error paths -------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "geocode"])
def test_missing_file(tmp_path, capsys, command):
    output = ["-o", str(tmp_path / "x.csv")] if command == "geocode" else ["--out", str(tmp_path)]
    assert main([command, str(tmp_path / "nope.csv"), *output]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "nope.csv" in line
    assert "does not exist" in line


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("binary.csv", b"\x00\x01\x02ELF\x00" * 50, "binary file"),
        ("empty.csv", b"", "empty"),
        ("image.png", b"\x89PNG", "unsupported extension"),
    ],
)
def test_unreadable_file(tmp_path, capsys, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert words in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_folder_is_not_a_register(tmp_path, capsys):
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "is a directory" in one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission(register, tmp_path, capsys):
    register.chmod(0)
    try:
        assert main(["geocode", str(register), "-o", str(tmp_path / "x.csv")]) == 2
    finally:
        register.chmod(0o644)
    one_error_line(capsys.readouterr().err)


def test_unknown_register(register, capsys):
    status, captured = usage_status(["run", str(register), "--register", "charities"], capsys)
    assert status == 2
    line = one_error_line(captured.err)
    assert "invalid choice: 'charities'" in line
    assert "socecon-geo run --help" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "x.csv", "--level", "county"],
        ["run", "x.csv", "--bogus"],
        ["run"],
        ["frobnicate"],
        ["geocode", "x.csv"],
        ["sample", "-n", "many", "-o", "s.csv"],
    ],
)
def test_bad_options_are_one_line_exit_2(argv, capsys):
    status, captured = usage_status(argv, capsys)
    assert status == 2
    one_error_line(captured.err)
    assert captured.out == ""


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--boundaries", "wards.geojson"], "--boundaries takes LEVEL=PATH"),
        (["--boundaries", "county=x.geojson"], "--boundaries takes LEVEL=PATH"),
        (["--column", "name"], "--column takes FIELD=HEADING"),
        (["--postcodes-io-keep-going"], "goes with --postcodes-io"),
        (["--boundaries", "ward=w.geojson", "--authority", "Coventry"], "give one"),
        (["--company-category", "Community Interest Company"], "applies to Companies House"),
        (["--include-removed"], "applies to Charity Commission files (--register ccew)"),
    ],
)
def test_bad_option_values_are_refused_before_any_work(register, tmp_path, capsys, extra, words):
    out = tmp_path / "out"
    assert main(["run", str(register), "--out", str(out), *extra]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert words in line
    assert "=None" not in line  # no Python words
    assert "_categories=" not in line
    assert not out.exists()


def test_out_must_be_a_folder_that_can_be_made(register, tmp_path, capsys):
    assert main(["run", str(register), "--out", str(register)]) == 2
    assert "is a file" in one_error_line(capsys.readouterr().err)
    assert main(["demo", "--out", str(tmp_path / "no" / "such")]) == 2
    assert "does not exist; create it first" in one_error_line(capsys.readouterr().err)


def test_unknown_dataset(capsys):
    assert main(["fetch-data", "iod2031"]) == 2
    assert "unknown dataset 'iod2031'" in one_error_line(capsys.readouterr().err)


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(
    register, tmp_path, capsys, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke\nsecond line")

    monkeypatch.setattr(sg, "geocode", broken)
    argv = ["geocode", str(register), "-o", str(tmp_path / "x.csv")]
    assert main(argv) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "internal error: RuntimeError: something inside broke" in line
    assert "rerun with --debug" in line
    with pytest.raises(RuntimeError, match="something inside broke"):
        main([*argv, "--debug"])
    with pytest.raises(RuntimeError):  # --debug before the command works too
        main(["--debug", *argv])


def test_keyboard_interrupt_is_one_line_exit_130(register, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sg, "geocode", interrupted)
    assert main(["geocode", str(register), "-o", str(tmp_path / "x.csv")]) == 130
    assert one_error_line(capsys.readouterr().err) == "socecon-geo: interrupted"


class HangingServer:
    """A TCP server that accepts a connection and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.connected = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.conns.append(conn)
        self.connected.set()

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_ctrl_c_on_a_running_command(register, tmp_path):
    """SIGINT while `geocode --postcodes-io` waits for the service: one line, exit 130."""
    server = HangingServer()
    try:
        proc = subprocess.Popen(
            [
                *CLI,
                "geocode",
                str(register),
                "-o",
                str(tmp_path / "x.csv"),
                "--postcodes-io",
                server.url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, SOCECON_GEO_CACHE_DIR=str(tmp_path / "cache")),
        )
        assert server.connected.wait(60), "the command never asked the service"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        server.close()
    assert proc.returncode == 130, err
    assert one_error_line(err) == "socecon-geo: interrupted"


def test_a_closed_pipe_is_silent_and_the_file_is_still_written(register, tmp_path):
    """`socecon-geo geocode ... | head -0`: exit 141, no 'Broken pipe', output written."""
    out = tmp_path / "x.csv"
    proc = subprocess.Popen(
        [*CLI, "geocode", str(register), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader goes away before anything is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert err == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_exit_statuses_are_documented_everywhere():
    import socecon_geo.cli as cli

    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    epilog = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True).stdout
    for status, meaning in EXIT_STATUSES:
        assert f"\n{status}\n" in cli.__doc__, status
        assert f"| {status} |" in docs, status
        assert f"  {status:<4} {meaning}" in epilog, status


# ---- command-line words ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("python", "command_line"),
    [
        (
            "pass it as lsoa_lookup= (to attach_deprivation or assign_areas).",
            "pass it as --lsoa-lookup PATH.",
        ),
        (
            "read it with register='generic' and columns={...}",
            "read it with --register generic and --column FIELD=HEADING",
        ),
        (
            "pass PostcodesIOGeocoder(on_error='flag') to flag",
            "pass --postcodes-io-keep-going to flag",
        ),
        (
            "with fetch_deprivation('iod2025', path='...') or set",
            "with --deprivation PATH (with `socecon-geo run`) or set",
        ),
        (
            "with fetch_boundaries('ward', path='...') or set",
            "with --boundaries ward=PATH (with `socecon-geo run`) or set",
        ),
        (
            "Pass the boundaries with Geography.from_files(lsoas21=...).",
            "Pass the boundaries with --boundaries lsoa21=PATH.",
        ),
        ("read_options={'encoding': 'cp1252', 'decimal': ','}", "--encoding cp1252, --decimal ','"),
        ("sheet_name='My data'", "--sheet 'My data'"),
        ("include_removed=True", "--include-removed"),
        ("pass authorities=None.", "pass no --authority."),
        ("level='lsoa21' but", "--level lsoa21 but"),
        ("heading 'src_encoding=' and x.columns=", "heading 'src_encoding=' and x.columns="),
    ],
)
def test_python_words_become_options(python, command_line):
    assert cli_words(python) == command_line


def test_library_messages_reach_the_user_in_option_words(tmp_path, capsys, shared_data):
    register = tmp_path / "orgs.csv"
    register.write_text("name,postcode\nA,B1 1AY\n", encoding="utf-8")
    lookup = shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv"
    argv = ["geocode", str(register), "-o", str(tmp_path / "x.csv"), "--deprivation", str(lookup)]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "pass it as --lsoa-lookup PATH" in line
    assert "lsoa_lookup=" not in line


def test_problem_lists_are_joined_into_one_line():
    text = "register 'a.csv' has 2 problems:\n  - x is missing\n  - y is empty\nFix both"
    assert one_line(text) == "register 'a.csv' has 2 problems: x is missing; y is empty. Fix both"


# ---- rows, statuses and filters -------------------------------------------------------


def test_rows_are_numbered_as_in_the_file(tmp_path, capsys):
    register = tmp_path / "orgs.csv"
    # data rows: 1 fine, 2 blank (set aside), 3 a bad postcode
    register.write_text("name,postcode\nA,B1 1AY\n,\nB,B1 1A1\n", encoding="utf-8")
    assert main(["geocode", str(register), "-o", str(tmp_path / "x.csv")]) == 0
    out = capsys.readouterr().out
    assert "orgs.csv: 3 rows read as a register of your own" in out
    assert "2 kept; set aside: 1 wholly blank rows" in out
    example = next(line for line in out.splitlines() if line.startswith("  ") and " row " in line)
    assert example.split()[0] == "invalid_postcode"
    assert "row 3 " in example  # the file's data row, not the frame's position (1)


def test_every_status_printed_is_explained(tmp_path, capsys):
    from socecon_geo._schema import STATUS_MEANINGS

    register = tmp_path / "odd.csv"
    register.write_text("name,postcode\nA,B1 1AY\nB,cv11aa\nC,\nD,M60 0AG\n", encoding="utf-8")
    assert (
        main(["geocode", str(register), "-o", str(tmp_path / "x.csv"), "--deprivation", "iod2025"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    for label, column in (("areas", "area_status"), ("deprivation", "deprivation_status")):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{label}: "))
        printed = [part.rsplit(" ", 1)[0] for part in lines[at].split(": ", 1)[1].split(", ")]
        legend = lines[at + 1]
        for status in printed:
            assert f"{status} = {STATUS_MEANINGS[column][status]}" in legend
    assert "partial" in "\n".join(lines)  # the status the old output left unexplained
    for status, meaning in STATUS_MEANINGS["geocode_status"].items():
        assert any(line.split()[:1] == [status] and meaning in line for line in lines)


def test_charity_commission_filters_are_counted(tmp_path, capsys):
    source = DATA / "ccew_publicextract.charity.txt"
    out = tmp_path / "x.csv"
    assert main(["geocode", str(source), "-o", str(out)]) == 0
    default = next(line for line in capsys.readouterr().out.splitlines() if "rows read" in line)
    orgs = sg.read_organisations(source)
    removed, linked = orgs.attrs["filtered_out"]["removed"], orgs.attrs["filtered_out"]["linked"]
    assert f"{len(orgs):,} kept" in default
    assert f"{removed:,} removed charities (--include-removed keeps them)" in default
    assert f"{linked:,} linked charities (--include-linked keeps them)" in default
    assert (
        main(["geocode", str(source), "-o", str(out), "--include-removed", "--include-linked"]) == 0
    )
    everything = next(line for line in capsys.readouterr().out.splitlines() if "rows read" in line)
    kept = len(sg.read_organisations(source, include_removed=True, include_linked=True))
    assert f"{kept:,} kept" in everything
    assert "removed charities" not in everything


def test_companies_house_filters_are_counted(tmp_path, capsys):
    source = DATA / "companies_house_basic.csv"
    out = tmp_path / "x.csv"
    assert main(["geocode", str(source), "-o", str(out)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "rows read" in line)
    set_aside = sg.read_organisations(source).attrs["filtered_out"].get("category", 0)
    assert f"{set_aside:,} companies of other categories" in line
    assert main(["geocode", str(source), "-o", str(out), "--all-categories", "--active-only"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "rows read" in line)
    active = sg.read_organisations(source, company_categories=None, active_only=True)
    assert f"{len(active):,} kept" in line
    assert "companies not Active" in line
    assert "other categories" not in line
    cics = ["--company-category", "community interest company"]
    assert main(["geocode", str(source), "-o", str(out), *cics]) == 0
    only = sg.read_organisations(source, company_categories=["Community Interest Company"])
    assert f"{len(only):,} kept" in capsys.readouterr().out


def test_excel_sheet_option_and_its_old_name(tmp_path, capsys):
    import pandas as pd

    book = tmp_path / "orgs.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"notes": ["x"]}).to_excel(writer, sheet_name="About", index=False)
        pd.DataFrame({"name": ["A"], "postcode": ["B1 1AY"]}).to_excel(
            writer, sheet_name="Data", index=False
        )
    for option in ("--sheet", "--sheet-name"):
        for value in ("Data", "1"):
            out = tmp_path / "x.csv"
            assert main(["geocode", str(book), "-o", str(out), option, value]) == 0
            assert pd.read_csv(out)["geocode_status"].tolist() == ["matched"]
    assert main(["geocode", str(book), "-o", str(tmp_path / "x.csv")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--sheet" in line
    assert "sheet_name=" not in line


# ---- fetch-data and info --------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Every official source at a local address nobody listens on; an empty cache."""
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(tmp_path / "cache"))
    for name, dataset in datasets.DATASETS.items():
        monkeypatch.delenv(dataset.env_var, raising=False)
        monkeypatch.setitem(
            datasets.DATASETS, name, dataclasses.replace(dataset, urls=(f"{dead}/{name}.csv",))
        )
    for level, service in datasets.BOUNDARY_SERVICES.items():
        monkeypatch.delenv(service.env_var, raising=False)
        monkeypatch.setitem(
            datasets.BOUNDARY_SERVICES, level, dataclasses.replace(service, base_url=dead)
        )
    return dead


@pytest.mark.parametrize(
    "argv", [["fetch-data"], ["fetch-data", "iod2019"], ["fetch-data", "ward"]]
)
def test_fetch_data_without_network_is_one_line_exit_3(offline, capsys, argv):
    assert main(argv) == 3
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("socecon-geo: error: no network: 127.0.0.1:")
    assert "cannot be reached" in line


def test_fetch_data_uses_a_local_copy_and_lists_the_cache(
    offline, monkeypatch, capsys, shared_data
):
    file_2 = shared_data / "iod" / "File_2_-_IoD2019_Domains_of_Deprivation.csv"
    monkeypatch.setenv("SOCECON_GEO_IOD2019", str(file_2))
    assert main(["fetch-data", "iod2019"]) == 0
    assert capsys.readouterr().out.startswith(f"iod2019: 32,844 LSOAs from {file_2}")
    assert main(["fetch-data", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "iod2025  not cached" in listed
    assert "ward" in listed


def test_fetch_data_authority_needs_a_boundary_level(capsys):
    assert main(["fetch-data", "iod2025", "--authority", "Coventry"]) == 2
    assert "name a level too" in one_error_line(capsys.readouterr().err)


def test_info_sections(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["info", "--cache"]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {tmp_path / 'cache'} (from SOCECON_GEO_CACHE_DIR)" in out
    assert "empty: nothing downloaded" in out
    (tmp_path / "cache" / "http").mkdir()
    (tmp_path / "cache" / "http" / "a.json").write_text("{}")
    assert main(["info", "--cache", "--versions"]) == 0
    out = capsys.readouterr().out
    assert "http/" in out
    assert "1 files" in out
    assert f"socecon_geo {sg.__version__}, Python" in out
    assert "geopandas" in out
    assert "Birmingham" not in out
    assert main(["info"]) == 0
    everything = capsys.readouterr().out
    assert "Birmingham" in everything
    assert "cache folder" in everything
    assert "scikit-learn" in everything

"""Large register files: the Companies House file read chunk by chunk, in bounded memory.

The chunked read gives what a one-chunk read gives, every filtered row is counted, row
numbers run across chunk boundaries, the reading is reported as it goes, and the peak
memory does not grow with the file.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import socecon_geo as sg
from socecon_geo import _progress
from socecon_geo._errors import InputError
from socecon_geo.cli import main
from socecon_geo.registers import COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES, read_organisations
from socecon_geo.registers._rows import _filled_cells

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "data" / "registers" / "companies_house_basic.csv"


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_companies_house", REPO / "benchmarks" / "bench_companies_house.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


def _mixed_file(path: Path, rows: int, seed: int = 3) -> pd.DataFrame:
    """A Companies House file with awkward rows; return what it holds (as pandas reads it)."""
    rng = np.random.default_rng(seed)
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    frame = raw.iloc[rng.integers(0, len(raw), rows)].reset_index(drop=True)
    frame.iloc[:, 1] = [f"{i:08d}" for i in range(rows)]  # CompanyNumber
    categories = np.array(
        [
            "Private Limited Company",
            "community  interest company",  # case and spaces differ
            " Registered Society ",
            "Charitable Incorporated Organisation",
            "",
            "Limited Liability Partnership",
        ],
        dtype=object,
    )
    frame["CompanyCategory"] = categories[rng.integers(0, len(categories), rows)]
    frame["CompanyStatus"] = np.where(rng.random(rows) < 0.8, "Active", "Dissolved")
    blank = rng.random(rows) < 0.01
    frame.loc[blank, :] = ""
    spaced = rng.random(rows) < 0.01
    frame.loc[spaced & ~blank, :] = "   "  # only spaces: a blank row too
    text = frame.to_csv(index=False, header=False, lineterminator="\n")
    path.write_text(FIXTURE.read_text().splitlines()[0] + "\n" + text)
    return frame


def test_chunked_read_equals_one_chunk(tmp_path: Path) -> None:
    path = tmp_path / "BasicCompanyData-2026-12-01.csv"
    _mixed_file(path, 4_000)
    whole = read_organisations(path, chunksize=10**9)
    for chunksize in (1, 333, 1_000):
        if chunksize == 1:
            small = tmp_path / "small.csv"
            small.write_text("\n".join(path.read_text().splitlines()[:60]) + "\n")
            pd.testing.assert_frame_equal(
                read_organisations(small, chunksize=1), read_organisations(small, chunksize=999)
            )
            continue
        chunked = read_organisations(path, chunksize=chunksize)
        pd.testing.assert_frame_equal(chunked, whole)
        assert chunked.attrs == whole.attrs
    assert whole.attrs["filtered_out"]["blank"] > 0


def test_filter_counts_every_row(tmp_path: Path) -> None:
    path = tmp_path / "BasicCompanyData.csv"
    frame = _mixed_file(path, 3_000)
    blank = frame.apply(lambda column: column.str.strip() == "").all(axis=1)
    key = frame["CompanyCategory"].str.split().str.join(" ").str.casefold()
    keep = {c.casefold() for c in COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES}
    category = ~blank & key.isin(keep)
    active = frame["CompanyStatus"] == "Active"
    orgs = read_organisations(path, active_only=True, chunksize=700)
    assert orgs.attrs["rows_read"] == 3_000
    assert orgs.attrs["filtered_out"] == {
        "blank": int(blank.sum()),
        "category": int((~blank & ~category).sum()),
        "status": int((category & ~active).sum()),
    }
    assert len(orgs) == int((category & active).sum())
    assert len(orgs) + sum(orgs.attrs["filtered_out"].values()) == orgs.attrs["rows_read"]
    # the rows kept are those rows, numbered as in the file
    expected = np.flatnonzero(category & active) + 1
    assert orgs["source_row"].tolist() == expected.tolist()
    assert (orgs["company_number"] == (orgs["source_row"] - 1).map("{:08d}".format)).all()


def test_a_bad_date_far_down_is_named_by_its_row(tmp_path: Path) -> None:
    # a small-column file with well over a million rows: the error names row 1,234,567,
    # counted across 13 chunks, blank lines included
    rows = 1_300_000
    head = "CompanyName, CompanyNumber,RegAddress.PostCode,CompanyCategory,IncorporationDate"
    lines = [f"C{i},{i:08d},B1 1AA,Private Limited Company," for i in range(rows)]
    for i in range(0, rows, 97_531):  # blank lines are rows too
        lines[i] = ""
    lines[1_234_566] = "CIC,01234566,B1 1AA,Community Interest Company,31/02/2019"
    lines[1_234_570] = "CIC,01234570,B1 1AA,Community Interest Company,01/02/2019"
    path = tmp_path / "BasicCompanyData.csv"
    path.write_text(head + "\n" + "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"source_row 1234567: '31/02/2019'") as caught:
        read_organisations(path)
    assert "IncorporationDate" in str(caught.value)
    assert str(path.name) in str(caught.value)


def test_a_malformed_line_is_named_whatever_the_chunks(tmp_path: Path) -> None:
    head = FIXTURE.read_text().splitlines()[0]
    row = FIXTURE.read_text().splitlines()[1]
    lines = [row] * 5_000
    lines[4_321] = row + ',"an extra field"'
    path = tmp_path / "BasicCompanyData.csv"
    path.write_text(head + "\n" + "\n".join(lines) + "\n")
    # with the reader's column subset too: pandas would drop the extra field silently
    for chunksize, all_columns in ((1_000, True), (10**6, True), (1_000, False), (10**6, False)):
        with pytest.raises(InputError, match=r"line 4323 has 56") as caught:
            read_organisations(path, chunksize=chunksize, all_columns=all_columns)
        assert "the heading row has 55" in str(caught.value)


def test_rows_longer_than_the_headings_are_found_in_any_encoding(tmp_path: Path) -> None:
    """The check for extra fields keeps quoted line breaks whole and follows the encoding."""
    head, row = FIXTURE.read_text().splitlines()[:2]
    broken = row.replace('"14 Placeholder Lane"', '"14 Placeholder Lane\nRear yard"')
    good = tmp_path / "good.csv"  # a line break inside a quoted field is one field
    good.write_text(head + "\n" + broken + "\n" + row + "\n")
    read = read_organisations(good)
    assert read["address"].iloc[0].startswith("14 Placeholder Lane")
    assert len(read) == 2
    long = tmp_path / "long.csv"  # Windows-1252 text, the extra field on line 4
    text = head + "\n" + row.replace("BIRMINGHAM", "BIRMINGHAM CAFÉ") + "\n" + broken + ',"x"\n'
    long.write_bytes(text.encode("cp1252"))
    with pytest.raises(InputError, match=r"the heading row has 55, but line 3 has 56"):
        read_organisations(long, encoding="cp1252")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_one_line_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "BasicCompanyData.csv"
    _mixed_file(path, 3_000)
    monkeypatch.setattr(_progress, "_SECOND_UPDATES", 0.0)  # every chunk
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    orgs = read_organisations(path, chunksize=500, progress=True)
    text = terminal.getvalue()
    assert text.count("\n") == 1
    assert text.endswith("\n")
    updates = text.rstrip("\n").split("\r")[1:]
    assert len(updates) == 6 + 1  # after each chunk, and the last line
    size = path.stat().st_size / 1024
    assert updates[-1].startswith(f"reading {path.name}: {size:,.1f} KiB of {size:,.1f} KiB (100%)")
    assert f"3,000 rows read, {len(orgs):,} kept in " in updates[-1]
    assert "rows/s)" in updates[-1]
    assert "500 rows read" in updates[0]
    shown = [int(u.split("(")[1].split("%")[0]) for u in updates]
    assert shown == sorted(shown)


def test_progress_elsewhere_is_a_few_plain_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "BasicCompanyData.csv"
    _mixed_file(path, 4_000)
    read_organisations(path, chunksize=100, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1  # a quick read: only the last line
    assert "(100%), 4,000 rows read" in lines[0]
    monkeypatch.setattr(_progress, "_PLAIN_AFTER", 0.0)  # as if the read were slow
    read_organisations(path, chunksize=100, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    percents = [line.split("(")[1].split("%")[0] for line in err.splitlines()]
    assert len(percents) == 4
    assert percents[-1] == "100"
    read_organisations(path, chunksize=100)
    assert capsys.readouterr().err == ""


def test_progress_of_a_zip_counts_expanded_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "BasicCompanyData.csv"
    _mixed_file(path, 2_000)
    archive = tmp_path / "BasicCompanyDataAsOneFile.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(path, path.name)
    zipped = read_organisations(archive, progress=True)
    line = capsys.readouterr().err
    size = path.stat().st_size / 1024
    assert line.startswith(f"reading {archive.name}/{path.name}: {size:,.1f} KiB of ")
    pd.testing.assert_frame_equal(
        zipped.drop(columns="source_file"), read_organisations(path).drop(columns="source_file")
    )


def test_progress_of_other_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.read_csv(FIXTURE, dtype=str)
    read_organisations(frame, progress=True)
    assert capsys.readouterr().err.startswith("reading DataFrame: 7 rows read, 5 kept")
    records = tmp_path / "orgs.json"
    records.write_text('[{"name": "A", "postcode": "B1 1AA"}, {"name": "B", "postcode": ""}]')
    read_organisations(records, progress=True)
    assert "(100%), 2 rows read, 2 kept" in capsys.readouterr().err


def test_progress_must_be_a_bool() -> None:
    with pytest.raises(InputError, match="progress must be True or False, got 'yes'"):
        read_organisations(FIXTURE, progress="yes")  # type: ignore[arg-type]


def test_filled_cells_strip_as_python_does() -> None:
    values = pd.Series(["a", " ", "\u3000", " b", "", "\x1c", "\xa0x", 5, None], dtype=object)
    text = values.iloc[:7]
    assert _filled_cells(text).tolist() == [bool(v.strip()) for v in text]
    assert _filled_cells(values.iloc[:8]).tolist()[-1]  # a number is filled


def test_cli_reports_reading_with_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    assert main(["geocode", str(FIXTURE), "-o", str(out)]) == 0
    assert "reading " not in capsys.readouterr().err  # not a terminal
    assert main(["geocode", str(FIXTURE), "-o", str(out), "--progress"]) == 0
    err = capsys.readouterr().err
    assert f"reading {FIXTURE.name}: " in err
    assert "7 rows read, 5 kept" in err
    assert main(["geocode", str(FIXTURE), "-o", str(out), "--progress", "--quiet"]) == 0
    assert "reading " not in capsys.readouterr().err


def test_analyse_passes_progress_to_the_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from socecon_geo import pipeline

    seen: list[object] = []

    class Stop(Exception):
        pass

    def spy(source, **kwargs):
        seen.append(kwargs.get("progress"))
        raise Stop

    monkeypatch.setattr(pipeline, "read_organisations", spy)
    for progress in (True, False):
        with pytest.raises(Stop):
            sg.analyse(FIXTURE, progress=progress)
    assert seen == [True, False]


def test_benchmark_file_has_the_companies_house_layout(bench, tmp_path: Path) -> None:
    path = tmp_path / "BasicCompanyDataAsOneFile.csv"
    counts = bench.write_file(path, 3_000, seed=1)
    headings = path.read_text().splitlines()[0].split(",")
    assert len(headings) == 55
    assert headings[1] == " CompanyNumber"
    orgs = read_organisations(path)
    kept = sum(counts.get(c, 0) for c in bench.SOCIAL_ECONOMY)
    assert len(orgs) == kept
    assert 0 < kept < 0.06 * 3_000
    assert orgs.attrs["filtered_out"] == {"category": 3_000 - kept}
    assert orgs["postcode"].notna().all()
    assert orgs["company_number"].is_unique

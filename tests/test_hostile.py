"""Hostile text in outputs: formulas neutralised in CSV (raw on request), raw in GeoPackage,
escaped in report.md, and no file name from the input able to leave the output folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import socecon_geo as sg
from socecon_geo._html import CSV_FORMULA_PREFIXES
from socecon_geo.cli import main
from socecon_geo.pipeline import OUTPUT_FILES

HOSTILE = [
    '=HYPERLINK("http://x","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTabbed",
    "\rReturn",
    "<script>alert(1)</script> [link](javascript:alert(1)) | pipe",
]


@pytest.fixture(scope="module")
def hostile_analysis() -> sg.Analysis:
    orgs = sg.sample_organisations(200, seed=6)
    orgs["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(orgs))]
    result = sg.analyse(orgs, progress=False, hotspots={"permutations": 0})
    gaps = result.candidates.gaps.copy()
    gaps["ward_name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(gaps))]
    candidates = dataclasses.replace(result.candidates, gaps=gaps)
    return dataclasses.replace(result, candidates=candidates)


def _text_cells(path: Path) -> list[str]:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return [v for column in table.columns for v in table[column] if v]


def test_csv_outputs_neutralise_formulas_and_the_geopackage_keeps_them(
    hostile_analysis: sg.Analysis, tmp_path: Path
) -> None:
    written = hostile_analysis.save(tmp_path / "safe")
    gaps = pd.read_csv(written["gaps_csv"], dtype=str, encoding="utf-8-sig")
    shown = set(gaps.filter(like="name").stack())
    assert "'" + HOSTILE[0] in shown
    for path in written.values():
        if path.suffix == ".csv":
            risky = [v for v in _text_cells(path) if v.startswith(CSV_FORMULA_PREFIXES)]
            assert not risky, (path.name, risky[:3])
    organisations = gpd.read_file(written["geopackage"], layer="organisations")
    assert set(organisations["name"]) == set(HOSTILE)  # raw text, tab and CR included
    layer = gpd.read_file(written["geopackage"], layer="gaps")
    assert HOSTILE[0] in set(layer["ward_name"])


def test_raw_csv_writes_the_text_as_it_is(hostile_analysis: sg.Analysis, tmp_path: Path) -> None:
    written = hostile_analysis.save(tmp_path / "raw", raw_csv=True)
    cells = set(_text_cells(written["candidates"]))
    assert HOSTILE[0] in cells
    assert "'" + HOSTILE[0] not in cells
    import json

    assert json.loads(written["run"].read_text(encoding="utf-8"))["raw_csv"] is True


def test_report_md_escapes_hostile_names(hostile_analysis: sg.Analysis, tmp_path: Path) -> None:
    written = hostile_analysis.save(tmp_path / "report")
    markdown = written["report_md"].read_text(encoding="utf-8")
    assert "<script>" not in markdown
    assert "&lt;script&gt;" in markdown
    assert "[link](" not in markdown  # never a link: the brackets are escaped
    assert "\\[link\\](javascript:alert(1)) \\| pipe" in markdown


def test_file_names_from_the_input_stay_in_the_output_folder(tmp_path: Path) -> None:
    from openpyxl import Workbook

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    book = Workbook()
    sheet = book.active
    sheet.title = "..%2F..%2Fescape"  # '/' is not allowed in a sheet name; its encoding is
    sheet.append(["name", "postcode"])
    for name, postcode in sg.sample_organisations(60, seed=2)[["name", "postcode"]].values:
        sheet.append([name, postcode])
    register = inputs / "..%2F..%2Fregister;=cmd.xlsx"
    book.save(register)
    out = tmp_path / "work" / "out"
    result = sg.analyse(
        register,
        read_options={"sheet_name": sheet.title},
        progress=False,
        hotspots={"permutations": 0},
        title="../../../etc/passwd",
    )
    written = result.save(out)
    assert {p.parent for p in written.values()} == {out}
    assert {p.name for p in out.iterdir()} <= set(OUTPUT_FILES.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "work"]
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["out"]
    assert [p.name for p in inputs.iterdir()] == [register.name]
    markdown = written["report_md"].read_text(encoding="utf-8")
    assert "register;=cmd.xlsx" in markdown


def test_the_geocode_command_neutralises_or_keeps_raw_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = tmp_path / "hostile.csv"
    pd.DataFrame({"name": HOSTILE, "postcode": ["B1 1AY"] * len(HOSTILE)}).to_csv(
        register, index=False
    )
    safe, raw, gpkg = tmp_path / "safe.csv", tmp_path / "raw.csv", tmp_path / "raw.gpkg"
    assert main(["geocode", str(register), "-o", str(safe), "--quiet"]) == 0
    assert main(["geocode", str(register), "-o", str(raw), "--quiet", "--raw-csv"]) == 0
    assert main(["geocode", str(register), "-o", str(gpkg), "--quiet"]) == 0
    capsys.readouterr()
    read = {"keep_default_na": False, "dtype": str}
    names = sg.read_organisations(register)["name"].tolist()  # leading spaces trimmed
    assert names[0] == HOSTILE[0]
    assert pd.read_csv(safe, **read)["name"].tolist() == [
        "'" + v if v.startswith(CSV_FORMULA_PREFIXES) else v for v in names
    ]
    assert pd.read_csv(raw, **read)["name"].tolist() == names
    assert gpd.read_file(gpkg)["name"].tolist() == names

"""The bundle build script's download route, against local stand-ins for the services.

``boundaries/build.py`` is a developer tool; its offline route (``--source-dir``) is what
produced the committed bundle and is checked by ``test_bundle.py``. Its online route
cannot reach the real ONS, gov.uk and Nomis services here, so this checks the request
logic (filters, paging, file layout) against a local server.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pytest

import socecon_geo
from socecon_geo import datasets

REPO = Path(__file__).resolve().parents[1]
WMCA = dict(socecon_geo.WMCA_AUTHORITIES)


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("bundle_build", REPO / "boundaries" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def square(i: int, properties: dict) -> dict:
    x, y = -2.0 + 0.01 * i, 52.45
    ring = [[x, y], [x + 0.005, y], [x + 0.005, y + 0.005], [x, y + 0.005], [x, y]]
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def boundary_answer(path: str, where: str) -> dict:
    features = []
    for i, (code, name) in enumerate(WMCA.items()):
        if "Wards_May_2025" in path:
            if f"'{code}'" in where:
                props = {"WD25CD": f"E0500000{i}", "WD25NM": f"Ward {i}", "LAD25CD": code}
                features.append(square(i, props | {"LAD25NM": name}))
        elif f"LIKE '{name} %'" in where:
            kind = (
                "MSOA21" if "Middle_layer" in path else ("LSOA11" if "2011" in path else "LSOA21")
            )
            suffix = "" if kind == "MSOA21" else "A"
            prefix = "E02" if kind == "MSOA21" else "E01"
            props = {f"{kind}CD": f"{prefix}00000{i}", f"{kind}NM": f"{name} 001{suffix}"}
            features.append(square(i, props))
    return {"type": "FeatureCollection", "features": features}


TABLE_ROWS = {
    "LSOA11_LSOA21_LAD22_EW_LU_v2": [
        {
            "LSOA11CD": "E01000001",
            "LSOA11NM": "City of London 001A",
            "CHGIND": "U",
            "LSOA21CD": "E01000001",
            "LSOA21NM": "City of London 001A",
            "LAD22CD": "E09000001",
            "LAD22NM": "City of London",
        },
        {
            "LSOA11CD": "E01000002",
            "LSOA11NM": "City of London 001B",
            "CHGIND": "S",
            "LSOA21CD": "E01035000",
            "LSOA21NM": "City of London 001F",
            "LAD22CD": "E09000001",
            "LAD22NM": "City of London",
        },
    ],
    "LSOA21_WD24_LAD24_EW_LU": [
        {
            "LSOA21CD": "E01008881",
            "LSOA21NM": "Birmingham 067A",
            "WD24CD": "E05011118",
            "WD24NM": "Bartley Green",
            "LAD24CD": "E08000025",
            "LAD24NM": "Birmingham",
        }
    ],
    "LAD24_RGN24_EN_LU": [
        {
            "LAD24CD": "E08000025",
            "LAD24NM": "Birmingham",
            "RGN24CD": "E12000005",
            "RGN24NM": "West Midlands",
        },
        {"LAD24CD": "E06000001", "LAD24NM": "Hartlepool", "RGN24CD": "E12000001"}
        | {"RGN24NM": "North East"},
    ],
}
NOMIS_ROWS = [
    ("E01000001", "City of London 001A", "1473"),
    ("E01000002", "City of London 001B", "1384"),
    ("W01000001", "Isle of Anglesey 001A", "1500"),
]


def respond(request):
    query = request.query
    if request.path.endswith("/FeatureServer/0/query"):
        service = request.path.split("/")[-4]
        if query.get("f") == "geojson":
            return 200, boundary_answer(request.path, query.get("where", ""))
        rows = TABLE_ROWS[service]
        offset = int(query["resultOffset"])
        # one row per page, to exercise paging
        page = rows[offset : offset + 1]
        return 200, {
            "features": [{"attributes": row} for row in page],
            "exceededTransferLimit": offset + 1 < len(rows),
        }
    if request.path.startswith("/nomis"):
        offset, limit = int(query["recordoffset"]), int(query["recordlimit"])
        lines = ["GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE"]
        lines += [",".join(row) for row in NOMIS_ROWS[offset : offset + limit]]
        return 200, "\n".join(lines) + "\n"
    if request.path.startswith("/iod/"):
        return 200, b"an IoD file"
    return 404, b""


def test_download_sources_writes_the_source_dir_layout(build, tmp_path, local_server, monkeypatch):
    server = local_server(respond)
    monkeypatch.setattr(build, "ONS_ARCGIS_SERVICES", server.url)
    monkeypatch.setattr(build, "POPULATION_URL", f"{server.url}/nomis?date=latest")
    monkeypatch.setattr(build, "NOMIS_PAGE", 2)
    for key in ("iod2025", "iod2019"):
        entry = datasets.DATASETS[key]
        url = f"{server.url}/iod/{entry.filename}"
        monkeypatch.setitem(datasets.DATASETS, key, dataclasses.replace(entry, urls=(url,)))

    folder = build.download_sources(tmp_path / "online")

    # boundaries: wards by LAD field, LSOAs and MSOAs by name prefix, LADCD_ACTIVE added
    wards = gpd.read_file(folder / "boundaries" / "wards_2025_bgc_wmca.geojson")
    assert len(wards) == 7
    assert (wards["LADCD_ACTIVE"] == wards["LAD25CD"]).all()
    for file, name in [
        ("lsoa21_bgc_wmca.geojson", "LSOA21NM"),
        ("lsoa11_bgc_wmca.geojson", "LSOA11NM"),
        ("msoa21_bgc_wmca.geojson", "MSOA21NM"),
    ]:
        layer = gpd.read_file(folder / "boundaries" / file)
        assert layer["LADCD_ACTIVE"].tolist() == list(WMCA), file
        assert (layer[name].str.split(" ").str[0] == layer["LADCD_ACTIVE"].map(WMCA)).all()
    built = build.build_wards(folder / "boundaries" / "wards_2025_bgc_wmca.geojson")
    assert built.crs.to_epsg() == 27700
    assert built.columns.tolist() == ["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]

    # tables: every page fetched, official headings read by the library's readers
    lookup = socecon_geo.read_lsoa_lookup(folder / "lookups" / "lsoa11_lsoa21_lad22.csv")
    assert lookup["change_code"].tolist() == ["U", "S"]
    areas = build.build_area_lookup(folder / "lookups" / "lsoa21_ward24_lad24_bestfit.csv")
    assert areas.iloc[0].to_dict() == {
        "lsoa21_code": "E01008881",
        "lsoa21_name": "Birmingham 067A",
        "ward_code": "E05011118",
        "ward_name": "Bartley Green",
        "lad_code": "E08000025",
        "lad_name": "Birmingham",
    }
    regions = build.build_regions(folder / "lookups" / "lad24_region24.csv")
    assert regions["lad_code"].tolist() == ["E06000001", "E08000025"]
    population = socecon_geo.read_population(
        folder / "population" / "census2021_lsoa21_usual_residents.csv"
    )
    assert population["population"].sum() == 1473 + 1384 + 1500
    assert (folder / "iod" / datasets.DATASETS["iod2025"].filename).read_bytes() == b"an IoD file"
    assert (folder / "iod" / datasets.DATASETS["iod2019"].filename).is_file()
    nomis = [r for r in server.requests if r.path.startswith("/nomis")]
    assert [r.query["recordoffset"] for r in nomis] == ["0", "2"]

    # a second run finds every file and asks for nothing
    asked = len(server.requests)
    build.download_sources(folder)
    assert len(server.requests) == asked


def test_table_with_unknown_headings_is_refused(build, tmp_path):
    path = tmp_path / "lad24_region24.csv"
    path.write_text("code,name\nE08000025,Birmingham\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"lad24_region24\.csv: no column for lad_code"):
        build.build_regions(path)


def test_manifest_of_the_committed_bundle_names_its_sources(build):
    manifest = json.loads((REPO / "boundaries" / "data" / "manifest.json").read_text("utf-8"))
    for key, files in build.SOURCES.items():
        names = {Path(f).name for f in files}
        found = [e["sources"][key] for e in manifest["files"].values() if key in e["sources"]]
        assert found, key
        assert all(set(sources) == names for sources in found), key

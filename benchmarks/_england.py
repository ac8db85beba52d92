"""A STAND-IN geography of all England and synthetic organisations at English postcodes.

Not official geography and not part of the library: no England-wide boundary file is
available offline, so the benchmarks and tests of England-wide runs build one from the
national postcode table of the ``national`` extra (``OfflinePostcodeGeocoder.national()``):

* LSOA 2021 "cells": the Voronoi cell of each English LSOA 2021's mean live postcode
  point, clipped to a hull round every English postcode. All 33,755 LSOAs of the IoD2025
  are there. Where the postcode table leaves an LSOA 2011 split in 2021 unresolved (outside
  the West Midlands), that LSOA 2011's postcodes are shared out among its 2021 parts in
  bands along their longest extent, one band per part, so that each part has a point.
* wards and local authority districts: the cells dissolved by the bundled best-fit
  lookup (LSOA 2021 → ward 2024 → authority), about 6,800 wards and 296 authorities.

Each layer carries a provenance record saying it is a stand-in. Use it to measure and test
England-scale runs; for real analyses pass official boundaries
(``Geography.from_files`` or ``fetch_geography("England")``).

``england_geography()`` takes about 20 s the first time and is kept as GeoParquet files
(in ``cache`` or a folder under the system's temporary directory); later calls read them
in a second or two.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import socecon_geo as sg
from socecon_geo.provenance import Provenance, with_provenance

STANDIN_VERSION = 1
"""Bumped whenever the cells change, so that cached files of an older build are not used."""

_LEVELS = ("lsoa21", "ward", "lad")


def _record(level: str) -> Provenance:
    what = {
        "lsoa21": "LSOA 2021 cells (Voronoi cells of mean postcode points)",
        "ward": "ward cells (LSOA cells dissolved by the ONS best-fit lookup)",
        "lad": "authority cells (LSOA cells dissolved by the ONS best-fit lookup)",
    }[level]
    return Provenance(
        name=f"england_standin_{level}",
        title=f"STAND-IN England {what}; not official boundaries",
        publisher="socecon_geo benchmarks",
        vintage=f"stand-in {STANDIN_VERSION}",
        licence="Open Government Licence v3.0 (derived from ONS and OS open data)",
        attribution=(
            "Stand-in areas built from the ONS postcode lookup and Code-Point Open "
            "(Contains OS data © Crown copyright and database right 2025); not official "
            "boundaries"
        ),
        source="benchmarks/_england.py",
    )


@functools.cache
def _national() -> pd.DataFrame:
    from socecon_geo.geocoding.national import national_table

    return national_table()


def _national_version() -> str:
    from socecon_geo.geocoding.national import _package_files

    return _package_files().version


def _english_postcodes() -> pd.DataFrame:
    """Live English postcodes with a point, from the national table."""
    table = _national()
    lad = table["lad_code"].astype("string")
    keep = (~table["terminated"]) & table["easting"].notna() & lad.str.startswith("E").fillna(False)
    return table.loc[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def _split_points(
    postcodes: pd.DataFrame, lookup: pd.DataFrame, missing: list[str]
) -> dict[str, tuple[float, float]]:
    """Points for LSOAs 2021 without a resolved postcode: bands of their LSOA 2011's postcodes."""
    parents = lookup.loc[lookup["lsoa21_code"].isin(missing), ["lsoa11_code", "lsoa21_code"]]
    by_parent = postcodes.groupby(postcodes["lsoa11_code"].astype("string"), observed=True)
    points: dict[str, tuple[float, float]] = {}
    for parent, children in parents.groupby("lsoa11_code"):
        kids = sorted(lookup.loc[lookup["lsoa11_code"] == parent, "lsoa21_code"])
        if parent not in by_parent.groups:
            continue
        group = by_parent.get_group(parent)
        xy = group[["easting", "northing"]].to_numpy(dtype="float64")
        spread = xy.max(axis=0) - xy.min(axis=0)
        order = np.argsort(xy[:, int(np.argmax(spread))], kind="stable")
        for kid, band in zip(kids, np.array_split(order, len(kids)), strict=True):
            if kid in set(children["lsoa21_code"]) and len(band):
                points[kid] = tuple(xy[band].mean(axis=0))
    return points


def _lsoa_points(postcodes: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """One (easting, northing) per LSOA 2021 code of ``codes``."""
    lookup = sg.load_geography().lsoa_lookup
    assert lookup is not None
    resolved = (
        postcodes.dropna(subset=["lsoa21_code"])
        .groupby(postcodes["lsoa21_code"].astype("string").dropna(), observed=True)[
            ["easting", "northing"]
        ]
        .mean()
    )
    points = resolved.reindex(codes)
    missing = points.index[points["easting"].isna()].tolist()
    for code, (x, y) in _split_points(postcodes, lookup, missing).items():
        points.loc[code] = (x, y)
    still = points["easting"].isna()
    if still.any():  # no postcode at all: the mean point of its authority, nudged apart
        area = sg.load_geography().area_lookup
        assert area is not None
        lad = area.set_index("lsoa21_code")["lad_code"].reindex(points.index)
        by_lad = postcodes.groupby(postcodes["lad_code"].astype("string"), observed=True)[
            ["easting", "northing"]
        ].mean()
        fill = by_lad.reindex(lad[still]).to_numpy()
        fill += np.arange(1, int(still.sum()) + 1)[:, None] * 7.0
        points.loc[still, ["easting", "northing"]] = fill
    # two LSOAs at one mean point would share one cell: nudge repeats apart by a metre
    repeat = points.duplicated(keep="first")
    points.loc[repeat, "easting"] += np.arange(1, int(repeat.sum()) + 1)
    return points


def _build() -> dict[str, gpd.GeoDataFrame]:
    postcodes = _english_postcodes()
    area = sg.load_geography().area_lookup
    assert area is not None
    england = area.loc[area["lsoa21_code"].str.startswith("E")].reset_index(drop=True)
    points = _lsoa_points(postcodes, pd.Index(england["lsoa21_code"], name="lsoa21_code"))
    xy = points.to_numpy(dtype="float64")
    generators = shapely.points(xy)
    every = shapely.multipoints(postcodes[["easting", "northing"]].to_numpy()[::7])
    hull = shapely.buffer(shapely.concave_hull(every, ratio=0.01), 1_000.0)
    cells = shapely.voronoi_polygons(shapely.multipoints(generators), extend_to=hull, ordered=True)
    polygons = np.asarray(shapely.get_parts(cells))
    polygons = shapely.intersection(polygons, hull)
    polygons = shapely.make_valid(polygons)
    lsoas = gpd.GeoDataFrame(
        england[["lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"]],
        geometry=polygons,
        crs=27700,
    )
    wards = lsoas.dissolve(
        by=["ward_code", "ward_name", "lad_code", "lad_name"], method="coverage", as_index=False
    )
    lads = lsoas.dissolve(by=["lad_code", "lad_name"], method="coverage", as_index=False)
    return {
        "lsoa21": lsoas,
        "ward": wards[["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]],
        "lad": lads[["lad_code", "lad_name", "geometry"]],
    }


def _folder(cache: str | Path | None) -> Path:
    return Path(cache) if cache is not None else Path(tempfile.gettempdir()) / "socecon_geo_england"


def england_layers(cache: str | Path | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The stand-in layers (``lsoa21``, ``ward``, ``lad``), built once and kept in ``cache``."""
    folder = _folder(cache)
    stem = f"england_standin_{STANDIN_VERSION}_national_{_national_version()}"
    files = {level: folder / f"{stem}_{level}.parquet" for level in _LEVELS}
    if not all(path.is_file() for path in files.values()):
        folder.mkdir(parents=True, exist_ok=True)
        for level, frame in _build().items():
            partial = files[level].with_suffix(".part")
            frame.to_parquet(partial)
            partial.replace(files[level])
    return {
        level: with_provenance(gpd.read_parquet(path), _record(level))
        for level, path in files.items()
    }


@functools.cache
def _cached_geography(folder: str) -> sg.Geography:
    layers = england_layers(folder)
    return sg.Geography.from_files(
        name="England (stand-in areas)",
        lsoas21=layers["lsoa21"],
        wards=layers["ward"],
        authorities=layers["lad"],
    )


def england_geography(cache: str | Path | None = None) -> sg.Geography:
    """A Geography of all England on the STAND-IN areas, with the bundled tables.

    33,755 LSOA 2021 cells, the wards and authorities of the best-fit lookup, Census 2021
    residents, IoD2025 and IoD2019. The same object for the same ``cache`` folder within a
    process (so what the steps derive from it is kept).
    """
    return _cached_geography(str(_folder(cache).resolve()))


@functools.cache
def _live_english() -> tuple[np.ndarray, np.ndarray]:
    postcodes = _english_postcodes()["postcode"].to_numpy(dtype=object)
    table = _national()
    lad = table["lad_code"].astype("string").str.startswith("E").fillna(False)
    gone = table.loc[(table["terminated"] & lad).to_numpy(dtype=bool), "postcode"]
    return postcodes, gone.to_numpy(dtype=object)


def england_organisations(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` SYNTHETIC organisations at real English postcodes (not real organisations).

    The frame of :func:`socecon_geo.sample_organisations` (the organisation schema; names
    ending ``(synthetic #<n>)``, ``attrs["synthetic"]`` True, the synthetic provenance
    record first) with the postcodes drawn instead from every live English postcode, each
    equally (so roughly in proportion to residents), and 1% each of missing and
    terminated postcodes so that those statuses are seen.
    """
    rng = np.random.default_rng(seed)
    live, gone = _live_english()
    orgs = sg.sample_organisations(n, seed=seed, messy=False)
    postcodes = live[rng.integers(0, len(live), n)]
    kind = rng.random(n)
    postcodes[kind < 0.01] = gone[rng.integers(0, len(gone), int((kind < 0.01).sum()))]
    postcodes[(kind >= 0.01) & (kind < 0.02)] = None
    district = pd.Series(postcodes, dtype="string").str.split(" ").str[0].fillna("no postcode")
    stem = orgs["name"].str.replace(r", [A-Z0-9]+ \(synthetic #\d+\)$", "", regex=True)
    number = pd.Series(np.arange(1, n + 1)).astype("string")
    orgs["name"] = (stem + ", " + district + " (synthetic #" + number + ")").astype("string")
    orgs["postcode"] = pd.Series(postcodes, index=orgs.index, dtype="string")
    return orgs

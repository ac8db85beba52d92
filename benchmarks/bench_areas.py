"""Benchmark: the area steps (assign_areas, attach_deprivation, summarise_areas) at scale.

Run ``python benchmarks/bench_areas.py [--n 1000000] [--repeat 3] [--seed 0]``.

The organisations are real postcodes sampled from the bundled West Midlands table
(mostly live ones, some terminated ones without a point, some unknown postcodes of known
sectors, some outside the table's areas, some invalid or missing), with an organisation
type and a SIC section, geocoded with :func:`socecon_geo.geocode`. Each step is then
timed against a bare pandas/geopandas operation doing the core of its work, measured in
the same run and interleaved with it so both see the same load on a shared machine:

========================================  ============================================
step                                      bare baseline
========================================  ============================================
geocode                                   ``merge`` of clean postcodes with the table
assign_areas (bundled layers)             ``geopandas.sjoin(points, wards, "within")``
assign_areas (+ LSOA lookup, LSOA 2021)   the same sjoin + ``merge`` on the lookup
attach_deprivation (IoD2025)              ``merge`` on clean LSOA 2021 codes
attach_deprivation (LSOA 2011 + lookup)   ``merge`` on the lookup, then on the index
summarise_areas (wards, LSOAs 2021)       ``groupby(code).size()`` + ``merge`` on areas,
                                          after reading the same population and
                                          lookup CSV files with ``pandas.read_csv``
========================================  ============================================

Targets, at the default 1,000,000 organisations: each step within about 5x of its
baseline and under 10 s. (With few organisations, fixed costs such as reading the LSOA
lookup and preparing the layers dominate and the ratios are higher.) The real data must
be in ``../shared/data`` beside the checkout or where ``SOCECON_GEO_SHARED_DATA``
points; without it the benchmark says so and exits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from _common import OUTSIDE, interleaved, unknown_in_known_sectors

import socecon_geo as sg

REPO = Path(__file__).resolve().parents[1]
INVALID = np.array(["B15 2TO", "12345", "CV1", "QQ1 1AA"])
ORG_TYPES = np.array(sg.ORGANISATION_TYPES)
SIC_SECTIONS = np.array(list("ACFGIJMNPQRS"))


def shared_data_dir() -> Path:
    """The real data folder: ``$SOCECON_GEO_SHARED_DATA``, else ``../shared/data``."""
    explicit = os.environ.get("SOCECON_GEO_SHARED_DATA")
    return Path(explicit) if explicit else REPO.parent / "shared" / "data"


def make_organisations(postcodes: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """N organisations at real bundled postcodes, with some messy and missing ones."""
    rng = np.random.default_rng(seed)
    codes = postcodes["postcode"].astype("str")
    terminated = postcodes["terminated"].to_numpy(dtype=bool)
    located = ~postcodes.geometry.is_empty.to_numpy() & postcodes.geometry.notna().to_numpy()
    live = codes[~terminated & located].to_numpy(dtype=object)
    ended = codes[terminated].to_numpy(dtype=object)
    # unknown postcodes of known sectors (geocoded to the sector centroid)
    unknown = unknown_in_known_sectors(live, codes, rng)

    # live, terminated, unknown in a known sector, outside the table, invalid, missing
    kind = rng.choice(6, size=n, p=[0.86, 0.04, 0.03, 0.02, 0.03, 0.02])
    values = np.empty(n, dtype=object)
    pools = {0: live, 1: ended, 2: unknown, 3: OUTSIDE.astype(object), 4: INVALID.astype(object)}
    for k, pool in pools.items():
        mask = kind == k
        values[mask] = pool[rng.integers(0, len(pool), int(mask.sum()))]
    values[kind == 5] = None
    lower = rng.random(n) < 0.1
    values[lower & (kind < 5)] = pd.Series(values[lower & (kind < 5)]).str.lower().to_numpy()

    sic = SIC_SECTIONS[rng.integers(0, len(SIC_SECTIONS), n)].astype(object)
    sic[rng.random(n) < 0.15] = None
    return pd.DataFrame(
        {
            "org_id": pd.Series(np.arange(n).astype(str), dtype="str"),
            "postcode": pd.Series(values, dtype="str"),
            "org_type": pd.Categorical(ORG_TYPES[rng.integers(0, len(ORG_TYPES), n)]),
            "sic_section": pd.Series(sic, dtype="str"),
        }
    )


class Bench:
    """Time a step and its baseline, interleaved, and keep the numbers for a summary."""

    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.rows: list[tuple[str, float, float, bool]] = []

    def run(
        self,
        label: str,
        step: Callable[[], Any],
        baseline: Callable[[], Any],
        *,
        target: bool = True,
    ) -> Any:
        result, step_times, base_times = interleaved(step, baseline, self.repeat)
        best, base = min(step_times), min(base_times)
        self.rows.append((label, best, base, target))
        print(
            f"{label:<44} {best:7.3f} s (median {statistics.median(step_times):.3f})  "
            f"baseline {base:7.3f} s  ratio {best / base:5.1f}x",
            flush=True,
        )
        return result

    def summary(self) -> bool:
        ok = True
        print("\nstep                                         time (s)  baseline (s)  ratio")
        for label, best, base, target in self.rows:
            ratio = best / base
            flag = ""
            if not target:
                flag = "  (not an area step: see bench_geocode.py)"
            elif best >= 10 or ratio > 5:
                flag = "  <- target not met"
                ok = False
            print(f"{label:<44} {best:8.3f}  {base:12.3f}  {ratio:5.1f}x{flag}")
        verdict = "met" if ok else "NOT met"
        print(f"area step targets (< 10 s, within ~5x of the baseline): {verdict}")
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="organisations (1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is shown")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = parser.parse_args()

    data = shared_data_dir()
    if not (data / "README.md").exists():
        print(
            f"bench_areas: real data not found at {data} (set SOCECON_GEO_SHARED_DATA or "
            "put it in ../shared/data beside the checkout); skipping."
        )
        return
    # summarise_areas warns about codes the areas lack; that is expected here.
    warnings.simplefilter("ignore", sg.SocEconGeoWarning)
    bench = Bench(args.repeat)

    start = time.perf_counter()
    postcodes = sg.load_postcodes()
    wards, lsoas11, authorities = (
        sg.load_wards(),
        sg.load_lsoas(vintage=2011),
        sg.load_authorities(),
    )
    lsoas21 = sg.read_boundaries(
        data / "boundaries" / "lsoa21_west_midlands_region_simplified.geojson"
    )
    lookup_path = data / "lookups" / "lsoa11_lsoa21_lad22.csv"
    bestfit_path = data / "lookups" / "lsoa21_ward24_lad24_bestfit.csv"
    population_path = data / "population" / "census2021_lsoa21_usual_residents.csv"
    iod = sg.read_deprivation(data / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv")
    lookup = pd.read_csv(lookup_path, dtype=str)
    print(f"inputs read in {time.perf_counter() - start:.2f} s")

    organisations = make_organisations(postcodes, args.n, seed=args.seed)
    print(f"organisations: {len(organisations):,} rows")

    # geocode: against a bare merge of the clean postcodes with the bundled table
    table = pd.DataFrame(postcodes.drop(columns="geometry")).assign(
        postcode=postcodes["postcode"].astype("str")
    )
    clean = organisations[["org_id"]].assign(postcode=organisations["postcode"].str.upper())
    sg.geocode(organisations.head(1000))  # builds the table's caches
    points = bench.run(
        "geocode",
        lambda: sg.geocode(organisations),
        lambda: clean.merge(table, on="postcode", how="left"),
        target=False,
    )
    print(points["geocode_status"].value_counts().to_string(), "\n")

    # bare point-in-polygon of the located points in the wards
    located = points[~points.geometry.is_empty & points.geometry.notna()]
    bare_points = gpd.GeoDataFrame(geometry=located.geometry.to_numpy(), crs=points.crs)
    bare_wards = wards[["ward_code", "geometry"]]
    lsoa11_codes = pd.DataFrame(
        {"lsoa11_code": points["postcode_lsoa11_code"].astype("str").to_numpy()}
    )

    def bare_sjoin() -> Any:
        return gpd.sjoin(bare_points, bare_wards, predicate="within", how="left")

    def bare_sjoin_lookup() -> Any:
        bare_sjoin()
        return lsoa11_codes.merge(lookup, on="lsoa11_code", how="left")

    assign_bundled = bench.run(
        "assign_areas (bundled layers)",
        lambda: sg.assign_areas(points, wards=wards, lsoas11=lsoas11, authorities=authorities),
        bare_sjoin,
    )
    assigned = bench.run(
        "assign_areas (+ lsoa_lookup, lsoas21)",
        lambda: sg.assign_areas(
            points,
            wards=wards,
            lsoas11=lsoas11,
            authorities=authorities,
            lsoa_lookup=lookup_path,
            lsoas21=lsoas21,
        ),
        bare_sjoin_lookup,
    )
    print(assign_bundled["area_status"].value_counts().to_string())
    print(assigned["lsoa21_method"].value_counts().to_string(), "\n")

    # attach_deprivation: against a bare merge on clean LSOA 2021 codes
    clean_lsoa = pd.DataFrame({"lsoa_code": assigned["lsoa21_code"].to_numpy()})
    iod_columns = iod[["lsoa_code", "imd_score", "imd_rank", "imd_decile"]]
    joined = bench.run(
        "attach_deprivation (IoD2025)",
        lambda: sg.attach_deprivation(assigned, iod),
        lambda: clean_lsoa.merge(iod_columns, on="lsoa_code", how="left"),
    )
    print(joined["deprivation_status"].value_counts().to_string(), "\n")

    # organisations with LSOA 2011 codes only (the bundled layers): converted on the way
    codes11 = pd.DataFrame({"lsoa11_code": assign_bundled["lsoa11_code"].to_numpy()})
    links = lookup[["lsoa11_code", "lsoa21_code"]]

    def bare_convert_merge() -> Any:
        converted = codes11.merge(links, on="lsoa11_code", how="left")
        return converted.merge(iod_columns, left_on="lsoa21_code", right_on="lsoa_code", how="left")

    via_lookup = bench.run(
        "attach_deprivation (LSOA 2011 + lookup)",
        lambda: sg.attach_deprivation(assign_bundled, iod, lsoa_lookup=lookup),
        bare_convert_merge,
    )
    print(via_lookup["deprivation_status"].value_counts().to_string(), "\n")

    # summarise_areas: against a bare count by code merged onto the areas
    ward_codes = joined["ward_code"]
    lsoa21_codes = joined["lsoa21_code"]
    ward_frame = pd.DataFrame(wards.drop(columns="geometry"))
    lsoa21_frame = pd.DataFrame(lsoas21.drop(columns="geometry"))

    def bare_count(codes: pd.Series, areas: pd.DataFrame, column: str, *files: Path) -> Any:
        # the step reads its population (and lookup) files: so does its baseline
        for file in files:
            pd.read_csv(file, dtype=str)
        counts = codes.groupby(codes).size().rename("n").rename_axis(column).reset_index()
        return areas.merge(counts, on=column, how="left")

    ward_summary = bench.run(
        "summarise_areas (wards)",
        lambda: sg.summarise_areas(
            joined,
            wards,
            population=population_path,
            deprivation=iod,
            area_lookup=bestfit_path,
        ),
        lambda: bare_count(ward_codes, ward_frame, "ward_code", population_path, bestfit_path),
    )
    lsoa_summary = bench.run(
        "summarise_areas (LSOAs 2021)",
        lambda: sg.summarise_areas(joined, lsoas21, population=population_path, deprivation=iod),
        lambda: bare_count(lsoa21_codes, lsoa21_frame, "lsoa21_code", population_path),
    )
    # the default flow on the bundled geography: every layer (MSOAs included), bundled
    # lookups, population and IoD2025; the geography keeps the prepared lookups and the
    # LSOA -> ward weights, so repeat calls reuse them
    geography = sg.load_geography()
    bare_lsoas21 = geography.layer("lsoa21")[["lsoa21_code", "geometry"]]

    def bare_sjoin_lsoas() -> Any:
        bare_sjoin()
        return gpd.sjoin(bare_points, bare_lsoas21, predicate="within", how="left")

    on_geography = bench.run(
        "assign_areas (bundled geography)",
        lambda: sg.assign_areas(points),
        bare_sjoin_lsoas,
    )
    print(on_geography["area_status"].value_counts().to_string(), "\n")
    default_joined = sg.attach_deprivation(on_geography)
    bench.run(
        "summarise_areas (level='ward')",
        lambda: sg.summarise_areas(default_joined, level="ward"),
        lambda: bare_count(default_joined["ward_code"], ward_frame, "ward_code"),
    )
    print(
        f"wards: {len(ward_summary)} areas, {int(ward_summary['n_organisations'].sum()):,} "
        f"organisations counted; LSOAs 2021: {len(lsoa_summary)} areas, "
        f"{int(lsoa_summary['n_organisations'].sum()):,} counted"
    )
    bench.summary()


if __name__ == "__main__":
    main()

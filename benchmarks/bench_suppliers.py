"""Benchmark: investment sites matched to social economy suppliers.

Run ``python benchmarks/bench_suppliers.py [--sites 1000] [--orgs 100000] [--repeat 3]
[--no-baseline]``.

The organisations are ``sample_organisations(--orgs)``: synthetic, at real West Midlands
postcodes, with the sample's SIC codes (about one in six is in the housing supply
chain, through catering, training, landscaping and waste), geocoded by the bundled table.
The sites are ``--sites`` located sites drawn (seed 0) from the real WMCA brownfield land
registers (``../shared/data/sites/wmca_brownfield_land_registers.csv``), repeated with a
jitter of up to 200 m when more are asked for than the file has; without the file,
synthetic sites at random bundled postcodes.

Timed, interleaved in the same run so both see the same load on a shared machine:

* ``match_suppliers(sites, organisations)`` (programme housing, bands 1, 3, 5 and 10 km,
  20 per shortlist): the whole step, statuses and summaries included;
* the baseline, plain geopandas: the organisations of the supply chain filtered by SIC
  prefix, ``gpd.sjoin(sites, organisations, predicate="dwithin", distance=10 km)``, each
  pair's distance, the counts per band by ``groupby``, the 20 nearest per site by
  sorting, and ``gpd.sjoin_nearest`` for the nearest supplier of every site.

Both give the same counts per band (checked). Target: 1,000 sites x 100,000
organisations in under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import interleaved

import socecon_geo as sg

BROWNFIELD = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "sites"
    / "wmca_brownfield_land_registers.csv"
)
BANDS = (1_000, 3_000, 5_000, 10_000)


def make_sites(n: int, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, str]:
    if BROWNFIELD.is_file():
        sites = sg.read_sites(BROWNFIELD)
        sites = sites[sites["site_status"] == "located"]
        picked = sites.iloc[rng.choice(len(sites), n, replace=n > len(sites))].copy()
        if n > len(sites):
            xy = np.column_stack([picked.geometry.x, picked.geometry.y])
            xy += rng.uniform(-200, 200, xy.shape)
            picked = picked.set_geometry(gpd.points_from_xy(xy[:, 0], xy[:, 1], crs=27700))
        return picked.reset_index(drop=True), "real WMCA brownfield sites"
    postcodes = sg.load_postcodes()
    rows = postcodes.iloc[rng.choice(len(postcodes), n, replace=False)]
    frame = pd.DataFrame({"name": [f"site {i}" for i in range(n)], "postcode": rows["postcode"]})
    return sg.read_sites(frame, programme="housing"), "synthetic sites at bundled postcodes"


def baseline(sites: gpd.GeoDataFrame, orgs: gpd.GeoDataFrame, prefixes: list[str]) -> pd.DataFrame:
    codes = orgs["sic_code"].astype("string")
    chain = np.zeros(len(orgs), dtype=bool)
    for prefix in prefixes:
        chain |= codes.str.startswith(prefix).to_numpy(dtype=bool, na_value=False)
    suppliers = orgs.loc[chain & ~orgs.geometry.is_empty & orgs.geometry.notna(), ["geometry"]]
    left = sites[["geometry"]].reset_index(names="site")
    pairs = gpd.sjoin(left, suppliers, predicate="dwithin", distance=BANDS[-1])
    pairs["distance_m"] = pairs.geometry.distance(
        gpd.GeoSeries(suppliers.geometry.loc[pairs["index_right"]].to_numpy(), crs=27700),
        align=False,
    )
    counts = pd.DataFrame(index=left["site"])
    for band in BANDS:
        counts[band] = (
            pairs[pairs["distance_m"] <= band]
            .groupby("site")
            .size()
            .reindex(counts.index)
            .fillna(0)
        )
    pairs.sort_values(["site", "distance_m"]).groupby("site").head(20)
    gpd.sjoin_nearest(left, suppliers, distance_col="nearest_m")
    return counts.astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1_000)
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    orgs = sg.geocode(sg.sample_organisations(args.orgs, seed=0))
    sites, where = make_sites(args.sites, rng)
    print(
        f"{len(sites):,} sites ({where}) x {len(orgs):,} organisations; prepared in "
        f"{time.perf_counter() - start:.1f} s"
    )
    table = sg.supply_chain_table()
    prefixes = table[table["programme"].isin(["housing", "all"])]["sic_prefix"].tolist()

    def step() -> sg.SupplierMatch:
        return sg.match_suppliers(sites, orgs, programme="housing", bands_m=BANDS)

    if args.no_baseline:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            match = step()
            times.append(time.perf_counter() - t)
        base_times: list[float] = []
    else:
        match, times, base_times = interleaved(
            step, lambda: baseline(sites, orgs, prefixes), args.repeat
        )
        counts = baseline(sites, orgs, prefixes)
        for band in BANDS:
            ours = match.sites[f"n_suppliers_{band}m"].to_numpy(dtype=int)
            assert np.array_equal(ours, counts[band].to_numpy()), band
    in_chain = int(match.organisations["supplier_status"].isin(["in_reach", "out_of_reach"]).sum())
    pairs = int(match.sites[f"n_suppliers_{BANDS[-1]}m"].sum())
    print(
        f"{in_chain:,} organisations in the housing supply chain; {pairs:,} site-supplier "
        f"pairs within {BANDS[-1]:,} m"
    )
    print(
        f"match_suppliers: median {statistics.median(times):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}); target < 5 s"
    )
    if base_times:
        print(
            f"geopandas sjoin(dwithin) + distances + groupby + sjoin_nearest: median "
            f"{statistics.median(base_times):.2f} s (runs "
            f"{', '.join(f'{t:.2f}' for t in base_times)}); "
            f"{statistics.median(base_times) / statistics.median(times):.1f}x slower; "
            "same counts in every band"
        )


if __name__ == "__main__":
    main()

"""Benchmark: density clustering of organisations at real West Midlands postcodes.

Run ``python benchmarks/bench_clusters.py [--n 100000] [--large 1000000] [--repeat 3]
[--no-baseline]``.

The organisations sit at real postcode centroids of the seven WMCA authorities (the
bundled table's live, located postcodes) with realistic duplication: most at postcodes
drawn uniformly, some concentrated on a few busy postcode sectors, a few registered-office
addresses holding 25 to 400 organisations each, 1% at postcode sector centroids
(position quality 60) and 1% without a point. Each has an organisation type and a SIC
section.

Timed, interleaved in the same run so both see the same load on a shared machine:

* ``find_clusters(points)`` (HDBSCAN, the defaults) on ``--n`` organisations: the whole
  step, including the cluster table (polygons, wards, deprivation profile), and its
  clustering alone (collapsing coordinates + weighted HDBSCAN);
* the baseline: scikit-learn's ``HDBSCAN(min_cluster_size=10, min_samples=10)`` on every
  organisation's point (the same points, duplicates included), run ``--baseline-repeat``
  times (default once: it takes tens of seconds).

Then, in a fresh process, ``find_clusters`` on ``--large`` organisations, timed, and its
peak memory measured with ``tracemalloc`` (every NumPy and pandas allocation of the call,
in a second run) and as the growth of the process's peak resident set size during the
call.

Targets: ``--n`` 100,000 clustered in under 1.5 s and at least 20x faster than the
baseline; ``--large`` 1,000,000 in under 5 s and under 1 GiB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

import socecon_geo as sg
from socecon_geo._density import _weighted_hdbscan
from socecon_geo._schema import ORG_TYPE
from socecon_geo.clusters import find_clusters

TYPES = np.array(["charity", "community_interest_company", "co_operative", "other"])
SECTIONS = np.array(["Q", "S", "R", "P", "G", "M", "N", None], dtype=object)


def wmca_postcodes() -> np.ndarray:
    """Distinct coordinates of the live, located postcodes of the seven authorities."""
    table = sg.load_postcodes()
    live = table[table["easting"].notna() & ~table["terminated"].astype(bool)]
    live = live[live["lad_code"].astype("string").isin(list(sg.WMCA_AUTHORITIES)).to_numpy(bool)]
    return live[["easting", "northing"]].to_numpy(dtype="float64")


def make_organisations(xy: np.ndarray, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` organisations at real postcodes, with realistic duplication."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, size=n, p=[0.88, 0.09, 0.01, 0.02])
    place = rng.integers(0, len(xy), n)
    # busy sectors: 40 postcodes and the ~80 nearest to each
    hubs = xy[rng.integers(0, len(xy), 40)]
    near = np.argsort(
        np.hypot(xy[:, None, 0] - hubs[None, :, 0], xy[:, None, 1] - hubs[None, :, 1]), axis=0
    )[:80]
    busy = kind == 1
    place[busy] = near[rng.integers(0, 80, busy.sum()), rng.integers(0, 40, busy.sum())]
    # registered offices: 30 addresses holding 25-400 organisations each
    offices = rng.integers(0, len(xy), 30)
    sizes = rng.integers(25, 401, 30)
    stacked = kind == 2
    place[stacked] = np.repeat(offices, sizes)[rng.integers(0, sizes.sum(), stacked.sum())]
    points = xy[place].copy()
    quality = np.full(n, 10)
    centroid = kind == 3
    quality[centroid] = 60
    # half of the rest of kind 3: no point at all
    missing = centroid & (rng.random(n) < 0.5)
    geometry = gpd.points_from_xy(points[:, 0], points[:, 1])
    geometry[missing] = None
    quality_array = pd.array(quality, dtype="Int64")
    quality_array[missing] = pd.NA
    return gpd.GeoDataFrame(
        {
            "org_type": pd.Categorical(TYPES[rng.integers(0, len(TYPES), n)], dtype=ORG_TYPE),
            "sic_section": pd.array(SECTIONS[rng.integers(0, len(SECTIONS), n)], dtype="string"),
            "position_quality": quality_array,
        },
        geometry=geometry,
        crs=27700,
    )


def clustering_only(points: gpd.GeoDataFrame) -> np.ndarray:
    """The clustering alone: collapse usable coordinates, weighted HDBSCAN."""
    located = ~(points.geometry.is_empty | points.geometry.isna()).to_numpy()
    usable = located & (points["position_quality"].fillna(0).to_numpy() <= 50)
    xy = np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])[usable]
    codes, uniques = pd.factorize(xy.view(np.complex128).ravel())
    counts = np.bincount(codes)
    keep = counts < 25
    distinct = np.column_stack([uniques.real, uniques.imag])[keep]
    labels, _ = _weighted_hdbscan(distinct, counts[keep], 10, 500.0)
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="organisations (100,000)")
    parser.add_argument("--large", type=int, default=1_000_000, help="the large run (1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is shown")
    parser.add_argument("--baseline-repeat", type=int, default=1, help="baseline runs (1)")
    parser.add_argument("--no-baseline", action="store_true", help="skip scikit-learn")
    parser.add_argument("--large-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_only:
        large_run(args.large_only)
        return

    xy = wmca_postcodes()
    print(f"WMCA live located postcodes: {len(xy):,} ({len(np.unique(xy, axis=0)):,} distinct)")
    points = make_organisations(xy, args.n)
    located = points.geometry.notna() & ~points.geometry.is_empty
    coords = np.column_stack([points.geometry.x[located], points.geometry.y[located]])
    distinct = len(np.unique(coords, axis=0))
    print(
        f"organisations: {len(points):,}, {int(located.sum()):,} with a point at {distinct:,} "
        "distinct coordinates"
    )

    find_clusters(points)  # first call: loads the geography and its LSOA table
    step_times, core_times = [], []
    result = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = find_clusters(points)
        step_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        clustering_only(points)
        core_times.append(time.perf_counter() - start)
    assert result is not None
    assert result.points.index.equals(points.index)
    print(result)
    print(
        f"find_clusters (whole step):        {min(step_times):.3f} s best, "
        f"{statistics.median(step_times):.3f} s median of {args.repeat}"
    )
    print(f"  clustering alone (collapse+HDBSCAN): {min(core_times):.3f} s best")

    if not args.no_baseline:
        from sklearn.cluster import HDBSCAN

        every = coords
        base_times = []
        for _ in range(args.baseline_repeat):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                HDBSCAN(min_cluster_size=10, min_samples=10).fit(every)
            base_times.append(time.perf_counter() - start)
            # and one more run of ours right after, under the same load
            start = time.perf_counter()
            find_clusters(points)
            step_times.append(time.perf_counter() - start)
        best_base = min(base_times)
        print(
            f"scikit-learn HDBSCAN on all {len(every):,} points: {best_base:.3f} s best of "
            f"{args.baseline_repeat}"
        )
        ratio = best_base / min(step_times)
        print(f"speed-up (baseline / find_clusters, best/best): {ratio:.1f}x")
        ok = min(step_times) < 1.5 and ratio >= 20
        print("targets (< 1.5 s, >= 20x):", "met" if ok else "NOT met")

    if args.large:
        # in a fresh process, so its peak resident set is this run's alone
        command = [sys.executable, __file__, "--large-only", str(args.large)]
        subprocess.run(command, check=True)


def large_run(n: int) -> None:
    """Time ``find_clusters`` on ``n`` organisations and measure its peak memory."""
    xy = wmca_postcodes()
    large = make_organisations(xy, n, seed=1)
    find_clusters(large.iloc[:1_000])  # loads the geography and its LSOA table
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    start = time.perf_counter()
    big = find_clusters(large)
    large_time = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    del big
    tracemalloc.start()
    result = find_clusters(large)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(result)
    print(
        f"find_clusters on {n:,}: {large_time:.3f} s; peak memory of the call: "
        f"{peak / 2**30:.3f} GiB (tracemalloc), process peak RSS {before:.3f} GiB before the "
        f"call (data and libraries) and {after:.3f} GiB after (+{after - before:.3f} GiB)"
    )
    ok = large_time < 5 and peak < 2**30 and after - before < 1
    print("targets (< 5 s, < 1 GiB):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()

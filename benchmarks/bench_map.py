"""Benchmark: the interactive map of 10,000 and 100,000 organisations, every layer.

Run ``python benchmarks/bench_map.py [--n 10000 100000] [--browser]``.

The organisations sit at real postcode centroids of the seven WMCA authorities (as in
``bench_clusters.py``), with a name, type, sector, postcode and geocode status each. For
each size the whole flow runs (``assign_areas``, ``attach_deprivation``,
``summarise_areas`` of wards, ``find_clusters``, ``hotspots``, ``rank_candidates``),
then, timed in the same run:

* ``render_map`` with every layer (LSOA deprivation, wards, organisations, candidate
  clusters, gaps, hot spots) + ``save_map``: build time and HTML size;
* the baseline: ``GeoDataFrame.explore()`` on the points alone (name, type, sector,
  postcode in the tooltip) + ``Map.save``.

With ``--browser`` (needs ``/usr/bin/chromium``, ``/usr/bin/chromedriver``, selenium and
the Leaflet files in ``SOCECON_GEO_MAP_ASSETS``, see ``tests/test_maps_browser.py``) each
page is also loaded in headless Chromium and the time until the map's layers exist is
printed; with ``SOCECON_GEO_MAP_ASSETS`` set, also for the page saved with
``save_map(..., assets=)`` (the Leaflet files written in, no network needed).

Targets: ≤ 6 MB for 10,000 organisations with every layer; ≤ 30 MB for 100,000.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_clusters import make_organisations, wmca_postcodes

import socecon_geo as sg
from socecon_geo.maps import render_map, save_map


def organisations(n: int) -> pd.DataFrame:
    """``n`` organisations at real postcodes, with the popup's columns."""
    points = make_organisations(wmca_postcodes(), n, seed=1)
    rng = np.random.default_rng(2)
    table = sg.load_postcodes()
    codes = table["postcode"].astype(str).to_numpy()
    points["name"] = [f"Organisation {i} Community Trust" for i in range(n)]
    points["postcode"] = codes[rng.integers(0, len(codes), n)]
    points["sector"] = "Human health and social work activities"
    located = points.geometry.notna()
    points["geocode_status"] = np.where(located, "matched", "not_found")
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_map_"))
    for n in args.n:
        points = organisations(n)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            located = sg.attach_deprivation(sg.assign_areas(points))
            wards = sg.summarise_areas(located, level="ward")
            clusters = sg.find_clusters(located)
            spots = sg.hotspots(wards)
            ranked = sg.rank_candidates(clusters, spots)
        flow = time.perf_counter() - start

        start = time.perf_counter()
        fmap = render_map(located, areas=wards, hotspots=spots, candidates=ranked)
        ours = save_map(fmap, out / f"map_{n}.html")
        ours_s = time.perf_counter() - start

        start = time.perf_counter()
        shown = points[points.geometry.notna()][
            ["name", "org_type", "sector", "postcode", "geometry"]
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = shown.explore(column="org_type", tooltip=["name", "org_type", "sector"])
        base_path = out / f"explore_{n}.html"
        base.save(base_path)
        base_s = time.perf_counter() - start

        print(
            f"n={n:,} (flow {flow:.1f} s, {len(clusters.clusters)} clusters): "
            f"render_map every layer {ours.stat().st_size / 1e6:.1f} MB in {ours_s:.2f} s; "
            f"explore() points only {base_path.stat().st_size / 1e6:.1f} MB in {base_s:.2f} s"
        )
        if args.browser:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from test_maps_browser import load_seconds

            times = [load_seconds(ours), load_seconds(base_path, ready="L.Map")]
            inline = None
            if os.environ.get("SOCECON_GEO_MAP_ASSETS"):
                # the same page with the Leaflet files written in (no network at all)
                inline = save_map(
                    fmap, out / f"map_{n}_inline.html", assets=os.environ["SOCECON_GEO_MAP_ASSETS"]
                )
                times.append(load_seconds(inline))
            shown = [f"{t:.1f} s" if t != float("inf") else "not loaded in 100 s" for t in times]
            print(f"  browser load: render_map {shown[0]}; explore() {shown[1]}")
            if inline is not None:
                print(
                    f"  render_map with save_map(assets=): {inline.stat().st_size / 1e6:.1f} MB, "
                    f"browser load {shown[2]}"
                )
    print(f"pages in {out}")


if __name__ == "__main__":
    main()

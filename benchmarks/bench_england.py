"""Benchmark: ``analyse()`` over all England, per step, with peak memory and the map.

Run ``python benchmarks/bench_england.py [--sizes 100000 1000000] [--seed 0]
[--permutations 9999] [--no-baseline] [--no-save]``. Needs the ``national`` extra
(``pip install "socecon_geo[national]"``); the national postcode table is built into the
cache the first time (about 20 s).

The geography is the STAND-IN England of ``benchmarks/_england.py`` (33,755 LSOA 2021
cells from the national postcode table, 6,784 wards and 296 authorities by the ONS
best-fit lookup: not official boundaries; built once, about 15 s, then read from its
folder). The organisations are synthetic, at real English postcodes
(``england_organisations``).

For each size, in a fresh process (so the peak memory is that run's, read from
``/proc/self/status`` ``VmHWM``): the stand-in geography and the national geocoder are
loaded (timed as "load"), then ``analyse(orgs, geography=..., geocoder=national,
level="ward")`` with every default (9,999 hot-spot permutations) prints the seconds of
each step; then the LSOA summary of all England (33,755 rows) and its hot spots; then
``render_map`` and ``save_map`` (the page's size; above 100,000 organisations the map
counts them on hexagons) and ``Analysis.save`` (every output file). The baseline, in the
same process, is the same steps called one by one as the docs show (``geocode`` →
``assign_areas`` → ``attach_deprivation`` → ``summarise_areas`` → ``find_clusters`` →
``hotspots`` → ``rank_candidates``), so the difference is what the pipeline adds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RUN = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
import _england
from _common import memory_mib as peak_mb
import socecon_geo as sg

n, seed, permutations = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
flags = set(sys.argv[4].split(","))


out = {}
start = time.perf_counter()
geo = _england.england_geography()
geo.layer("lsoa21"), geo.deprivation("iod2025"), geo.population
geocoder = sg.OfflinePostcodeGeocoder.national()
out["load"] = time.perf_counter() - start
start = time.perf_counter()
orgs = _england.england_organisations(n, seed=seed)
out["make_orgs"] = time.perf_counter() - start
out["after_load_mb"] = peak_mb()

hot = {"permutations": permutations}
start = time.perf_counter()
result = sg.analyse(orgs, geography=geo, geocoder=geocoder, hotspots=hot, seed=seed, progress=False)
out["pipeline"] = time.perf_counter() - start
out["steps"] = result.timings
out["analyse_mb"] = peak_mb()
out["clusters"] = len(result.clusters.clusters)
out["wards"] = len(result.areas)
out["hot"] = {k: v for k, v in result.hotspots.counts.items() if v}
statuses = result.points["geocode_status"].value_counts()
out["geocoded"] = {k: int(v) for k, v in statuses.items() if v}

start = time.perf_counter()
lsoas = sg.summarise_areas(result.points, level="lsoa21", geography=geo)
out["lsoa_summary"] = time.perf_counter() - start
start = time.perf_counter()
lsoa_hot = sg.hotspots(lsoas, permutations=permutations, seed=seed)
out["lsoa_hotspots"] = time.perf_counter() - start
out["lsoas"] = len(lsoas)
out["lsoa_zero"] = int((lsoas["n_organisations"] == 0).sum())

folder = Path(tempfile.mkdtemp())
start = time.perf_counter()
fmap = result.map()
out["render_map"] = time.perf_counter() - start
start = time.perf_counter()
sg.save_map(fmap, folder / "map.html")
out["save_map"] = time.perf_counter() - start
out["map_mb"] = (folder / "map.html").stat().st_size / 1e6
del fmap

if "save" in flags:
    start = time.perf_counter()
    written = result.save(folder / "out")
    out["save"] = time.perf_counter() - start
    out["files"] = {k: p.stat().st_size for k, p in written.items()}
out["peak_mb"] = peak_mb()

if "baseline" in flags:
    del result
    start = time.perf_counter()
    points = sg.attach_deprivation(
        sg.assign_areas(sg.geocode(orgs, geocoder=geocoder), geography=geo), geography=geo
    )
    wards = sg.summarise_areas(points, level="ward", geography=geo)
    clusters = sg.find_clusters(points, geography=geo, seed=seed)
    spots = sg.hotspots(wards, permutations=permutations, seed=seed)
    sg.rank_candidates(clusters, wards, hotspots=spots, geography=geo)
    out["by_hand"] = time.perf_counter() - start
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--permutations", type=int, default=9_999)
    parser.add_argument("--no-baseline", action="store_true", help="skip the steps by hand")
    parser.add_argument("--no-save", action="store_true", help="skip Analysis.save")
    args = parser.parse_args()
    flags = ",".join(
        name for name, on in (("baseline", not args.no_baseline), ("save", not args.no_save)) if on
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _england
    from _common import machine_line

    print(machine_line())
    print("stand-in England geography (not official boundaries): building or reading it")
    geo = _england.england_geography()
    print(f"  {geo}")
    print(f"each size in a fresh process; {args.permutations:,} hot-spot permutations")
    for n in args.sizes:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                RUN,
                str(n),
                str(args.seed),
                str(args.permutations),
                flags,
                str(Path(__file__).resolve().parent),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        if done.returncode:
            print(done.stderr)
            done.check_returncode()
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"\n{n:,} organisations over England: {r['wards']:,} wards, {r['clusters']} "
            f"clusters; geocoded {r['geocoded']}; hot-spot classes {r['hot']}"
        )
        print(
            f"  load geography + national table {r['load']:7.2f} s   "
            f"(organisations made in {r['make_orgs']:.2f} s; {r['after_load_mb']:,.0f} MB)"
        )
        for step, seconds in r["steps"].items():
            print(f"  {step:<12} {seconds:7.2f} s")
        line = f"  analyse()    {r['pipeline']:7.2f} s   peak {r['analyse_mb']:,.0f} MB"
        if "by_hand" in r:
            ratio = r["pipeline"] / r["by_hand"]
            line += f"   steps by hand {r['by_hand']:7.2f} s (ratio {ratio:.2f})"
        print(line)
        print(
            f"  LSOA summary of England ({r['lsoas']:,} rows, {r['lsoa_zero']:,} with none) "
            f"{r['lsoa_summary']:.2f} s; its hot spots {r['lsoa_hotspots']:.2f} s"
        )
        print(
            f"  render_map   {r['render_map']:7.2f} s   save_map {r['save_map']:.2f} s   "
            f"page {r['map_mb']:.1f} MB"
        )
        if "save" in r:
            sizes = ", ".join(f"{k} {v / 1e6:.1f}" for k, v in r["files"].items())
            print(f"  Analysis.save {r['save']:6.2f} s   files (MB): {sizes}")
        print(f"  peak memory of the process {r['peak_mb']:,.0f} MB")


if __name__ == "__main__":
    main()

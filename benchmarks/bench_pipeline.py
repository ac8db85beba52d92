"""Benchmark: ``analyse()`` end to end, per step, against the same steps called by hand.

Run ``python benchmarks/bench_pipeline.py [--sizes 2000 10000 100000] [--seed 0]``.

For each size, in a fresh process (so the peak memory is that run's): invented
organisations at real bundled postcodes (:func:`socecon_geo.sample_organisations`) go
through :func:`socecon_geo.analyse` (9,999 hot-spot permutations, every default) and
``Analysis.save``, after a first small run that pays the imports and the bundle's
loading (printed too); printed are the seconds of each step, the total, the peak resident
memory and the size of each output file. The baseline, in the same process, is the
same eight steps called one by one as the docs show (``geocode`` → ``assign_areas`` →
``attach_deprivation`` → ``summarise_areas`` → ``find_clusters`` → ``hotspots`` →
``rank_candidates``), so the difference is what the pipeline adds (option checks,
progress, the report's records). Uses only the bundled data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RUN = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
import socecon_geo as sg

n, seed = int(sys.argv[1]), int(sys.argv[2])
orgs = sg.sample_organisations(n, seed=seed)
start = time.perf_counter()
sg.analyse(sg.sample_organisations(300, seed=seed + 1), progress=False)
first = time.perf_counter() - start  # imports, the bundle read, the geography's caches

start = time.perf_counter()
result = sg.analyse(orgs, seed=seed, progress=False)
pipeline = time.perf_counter() - start

start = time.perf_counter()
points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
wards = sg.summarise_areas(points, level="ward")
clusters = sg.find_clusters(points, seed=seed)
hot = sg.hotspots(wards, seed=seed)
sg.rank_candidates(clusters, wards, hotspots=hot)
by_hand = time.perf_counter() - start

folder = Path(tempfile.mkdtemp())
start = time.perf_counter()
written = result.save(folder)
save = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
print(json.dumps({
    "steps": result.timings, "first": first, "pipeline": pipeline, "by_hand": by_hand, "save": save,
    "peak_mb": peak, "files": {k: p.stat().st_size for k, p in written.items()},
    "clusters": len(result.clusters.clusters),
    "hot": {k: v for k, v in result.hotspots.counts.items() if v},
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; each size in a fresh process")
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(n), str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"\n{n:,} organisations: {r['clusters']} clusters; hot-spot classes {r['hot']}")
        print(f"  (a first analyse() of 300 in the fresh process: {r['first']:.2f} s)")
        for step, seconds in r["steps"].items():
            print(f"  {step:<12} {seconds:7.2f} s")
        ratio = r["pipeline"] / r["by_hand"]
        print(
            f"  analyse()    {r['pipeline']:7.2f} s   steps by hand {r['by_hand']:7.2f} s "
            f"(ratio {ratio:.2f})"
        )
        print(f"  save()       {r['save']:7.2f} s   peak memory {r['peak_mb']:,.0f} MB")
        sizes = ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in r["files"].items())
        print(f"  files: {sizes}")


if __name__ == "__main__":
    main()

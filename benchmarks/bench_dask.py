"""Benchmark: where the in-memory path stops fitting one machine, and the Dask path beyond.

Run ``python benchmarks/bench_dask.py [--sizes 1000000,2000000,4000000] [--workers 2]
[--rows-per-partition 250000] [--seed 0]`` (needs the ``dask`` extra).

For each size, two fresh processes run geocode → assign_areas → summarise_areas (wards,
with population and IoD2025) on the same synthetic organisations (the bundled sample
generator's organisations at real West Midlands postcodes, repeated to the size;
labelled synthetic):

- **in memory** (the baseline, what a user runs by default): the organisations are made
  in the process, then the three steps run; the process's peak resident memory
  (``VmHWM`` of ``/proc/self/status``) is read at the end, and also its growth over the
  memory held before the steps (the organisations themselves);
- **Dask**: a ``distributed.LocalCluster`` of ``--workers`` worker processes (one thread
  each); every partition of organisations is made on a worker and held there, as
  :func:`socecon_geo.partitioned.read_organisations_partitioned` holds what it read
  (not timed), then the steps of :mod:`socecon_geo.partitioned` run on them (timed,
  the cluster's start not included); the peak of each worker process (its share of the
  organisations included, as the in-memory peak includes them all) and of the client
  process are read at the end.

Each run writes its summary; the two are compared (``assert_frame_equal``). The table
gives the time, the peaks and the peak per million organisations; a straight line
through the in-memory peaks (fixed cost + cost per organisation) gives the number of
organisations at which 8 GiB and 24 GiB would be exceeded.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import socecon_geo as sg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line

GIB = 1024**3
BASE_ROWS = 200_000  # organisations drawn by the sample generator, then repeated


def peak_bytes() -> int:
    """Peak resident memory of this process (VmHWM), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def current_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current resident memory (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


@functools.cache
def _base(seed: int) -> pd.DataFrame:
    return sg.sample_organisations(BASE_ROWS, seed=seed)


def organisations(seed: int, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start`` to ``stop`` of the synthetic organisations (the same for any split)."""
    base = _base(seed)
    positions = np.arange(start, stop) % BASE_ROWS
    frame = base.iloc[positions].reset_index(drop=True)
    frame.index = pd.RangeIndex(start, stop)
    frame["org_id"] = pd.array([f"sample:{i + 1}" for i in range(start, stop)], dtype="string")
    frame["source_row"] = pd.array(np.arange(start + 1, stop + 1), dtype="Int64")
    frame.attrs = base.attrs
    return frame


def _comparable(summary: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(summary.drop(columns=summary.geometry.name))
    out.attrs = {}
    return out


def run_in_memory(n: int, seed: int, out: Path) -> dict[str, Any]:
    geography = sg.load_geography()
    frame = organisations(seed, 0, n)
    held = current_bytes()
    reset_peak()
    times = {}
    start = time.perf_counter()
    points = sg.geocode(frame)
    times["geocode"] = time.perf_counter() - start
    start = time.perf_counter()
    placed = sg.assign_areas(points, geography=geography)
    times["assign_areas"] = time.perf_counter() - start
    del points
    start = time.perf_counter()
    summary = sg.summarise_areas(placed, level="ward", geography=geography)
    times["summarise_areas"] = time.perf_counter() - start
    _comparable(summary).to_pickle(out)
    return {"times": times, "peak": peak_bytes(), "held_before": held}


def _worker_peak() -> int:
    return peak_bytes()


def run_dask(n: int, seed: int, out: Path, workers: int, rows: int) -> dict[str, Any]:
    import dask
    import dask.dataframe as dd
    import distributed

    from socecon_geo import partitioned as sp

    geography = sg.load_geography()
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(cluster)
    try:
        start = time.perf_counter()
        bounds = [*range(0, n, rows), n]
        parts = [dask.delayed(organisations)(seed, a, b) for a, b in itertools.pairwise(bounds)]
        frame = dd.from_delayed(parts, meta=organisations(seed, 0, 0)).persist()
        distributed.wait(frame)
        made = time.perf_counter() - start
        held = list(client.run(current_bytes).values())
        client.run(reset_peak)
        reset_peak()
        start = time.perf_counter()
        points = sp.geocode_partitioned(frame)
        placed = sp.assign_areas_partitioned(points, geography=geography)
        summary = sp.summarise_areas_partitioned(placed, level="ward", geography=geography)
        elapsed = time.perf_counter() - start
        worker_peaks = list(client.run(_worker_peak).values())
    finally:
        client.close()
        cluster.close()
    _comparable(summary).to_pickle(out)
    return {
        "times": {"total": elapsed, "organisations_made": made},
        "peak": peak_bytes(),
        "worker_peaks": worker_peaks,
        "worker_held_before": held,
        "partitions": len(parts),
    }


def fresh(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process; return its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,2000000,4000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows-per-partition", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run", choices=["memory", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run == "memory":
        print(json.dumps(run_in_memory(args.n, args.seed, Path(args.out))))
        return
    if args.run == "dask":
        result = run_dask(args.n, args.seed, Path(args.out), args.workers, args.rows_per_partition)
        print(json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine_line()}, pandas {pd.__version__}")
    print(
        f"steps: geocode, assign_areas, summarise_areas (wards); Dask: {args.workers} "
        f"worker processes x 1 thread, {args.rows_per_partition:,} rows per partition"
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            common = ["--n", str(n), "--seed", str(args.seed)]
            memory_out = Path(folder) / f"memory-{n}.pkl"
            dask_out = Path(folder) / f"dask-{n}.pkl"
            memory = fresh(["--run", "memory", *common, "--out", str(memory_out)])
            partitioned = fresh(
                [
                    "--run",
                    "dask",
                    *common,
                    "--out",
                    str(dask_out),
                    "--workers",
                    str(args.workers),
                    "--rows-per-partition",
                    str(args.rows_per_partition),
                ]
            )
            pd.testing.assert_frame_equal(pd.read_pickle(dask_out), pd.read_pickle(memory_out))
            rows.append((n, memory, partitioned))
            times = memory["times"]
            print(
                f"{n:>10,} in memory: {sum(times.values()):6.1f} s "
                f"(geocode {times['geocode']:.1f}, assign_areas {times['assign_areas']:.1f}, "
                f"summarise_areas {times['summarise_areas']:.1f}), peak "
                f"{memory['peak'] / GIB:.2f} GiB ({memory['held_before'] / GIB:.2f} before "
                "the steps)",
                flush=True,
            )
            print(
                f"{'':>10} Dask:      {partitioned['times']['total']:6.1f} s, peak per worker "
                f"{max(partitioned['worker_peaks']) / GIB:.2f} GiB ("
                f"{max(partitioned['worker_held_before']) / GIB:.2f} before), client "
                f"{partitioned['peak'] / GIB:.2f} GiB; summaries equal",
                flush=True,
            )

    print()
    print(
        "| organisations | in memory: time | peak | peak per million | Dask: time | "
        "peak per worker | client peak |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, memory, partitioned in rows:
        print(
            f"| {n:,} | {sum(memory['times'].values()):.1f} s | "
            f"{memory['peak'] / GIB:.2f} GiB | {memory['peak'] / GIB / (n / 1e6):.2f} GiB | "
            f"{partitioned['times']['total']:.1f} s | "
            f"{max(partitioned['worker_peaks']) / GIB:.2f} GiB | "
            f"{partitioned['peak'] / GIB:.2f} GiB |"
        )
    if len(rows) >= 2:
        n_values = np.array([n for n, _, _ in rows], dtype=float)
        peaks = np.array([memory["peak"] for _, memory, _ in rows], dtype=float)
        per_row, fixed = np.polyfit(n_values, peaks, 1)
        print()
        print(
            f"in-memory peak ~ {fixed / GIB:.2f} GiB + {per_row * 1e6 / GIB:.2f} GiB per "
            "million organisations"
        )
        for limit in (8, 24):
            print(
                f"  exceeds {limit} GiB at about {(limit * GIB - fixed) / per_row / 1e6:.1f} "
                "million organisations"
            )


if __name__ == "__main__":
    main()

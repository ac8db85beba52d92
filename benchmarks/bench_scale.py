"""Benchmark: the whole analysis at 10,000, 100,000 and 1,000,000 organisations.

Run ``python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--seed 0]
[--baseline-timeout 300] [--json FILE] [--write-docs docs/performance.md]``.

For each size, in a fresh process (so that its peak memory is that run's own):

1. ``sample_organisations(n)`` — synthetic organisations at real bundled West Midlands
   postcodes, messy as registers are — written to a CSV file, and the real WMCA
   brownfield land registers (``../shared/data/sites/``; synthetic sites at bundled
   postcodes without them) as the investment sites.
2. **End to end**: ``analyse(csv, sites=...)`` then ``Analysis.save(folder)`` — reading
   the file, every step, every output file — timed, with the process's peak resident
   memory over the whole of it.
3. **Step by step**, each against what a user would otherwise write, on the same data in
   the same process (a baseline that may run for long — scikit-learn's HDBSCAN,
   ``explore()`` — runs in a child process, stopped after ``--baseline-timeout``
   seconds and reported as such):

   ============  ==========================================================
   step          baseline
   ============  ==========================================================
   read          ``pandas.read_csv`` of the same file
   geocode       a bare pandas merge of upper-cased postcodes with the table
   areas         ``geopandas.sjoin`` of the points with the ward polygons
   deprivation   a pandas merge of the IoD on the LSOA code
   summaries     ``groupby`` counts of wards merged with the ward population
   clusters      scikit-learn ``HDBSCAN(min_cluster_size=10, min_samples=10)``
   hotspots      libpysal queen weights + ``esda.G_Local`` (9,999 permutations)
   size          ``groupby`` count / sum / median of income by ward
   suppliers     ``sjoin(dwithin)`` + ``sjoin_nearest`` (``bench_suppliers.py``)
   map           ``GeoDataFrame.explore()`` of the points + ``Map.save``
   ============  ==========================================================

   Each step's peak memory is the process's peak resident set size while it ran (the
   kernel's high-water mark, reset before each step through ``/proc/self/clear_refs``),
   printed as the growth over the resident size when the step began.

Then a table of every step at every size. ``--write-docs FILE`` replaces the part of
``FILE`` between ``<!-- bench_scale:start -->`` and ``<!-- bench_scale:end -->`` with the
machine's description, the command and that table. Targets: 100,000 organisations end to
end in under 30 s; 1,000,000 in under 5 minutes within 8 GiB. Uses only the bundled data
(and the brownfield registers when present).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _common import machine, memory_mib, reset_peak  # noqa: E402

from socecon_geo.pipeline import STEPS as PIPELINE_STEPS  # noqa: E402

SHARED = Path(os.environ.get("SOCECON_GEO_SHARED_DATA") or REPO.parent / "shared" / "data")
BROWNFIELD = SHARED / "sites" / "wmca_brownfield_land_registers.csv"
START, END = "<!-- bench_scale:start -->", "<!-- bench_scale:end -->"
TARGETS = {100_000: (30.0, None), 1_000_000: (300.0, 8 * 1024.0)}  # seconds, MiB
# the pipeline's steps that run here (growth needs registration dates; the sample has
# none), then drawing the map and writing the folder
STEPS = (*(step for step in PIPELINE_STEPS if step != "growth"), "map", "save")
BASELINES = {
    "read": "pandas.read_csv",
    "geocode": "pandas merge",
    "areas": "geopandas sjoin",
    "deprivation": "pandas merge",
    "summaries": "groupby + merge",
    "clusters": "scikit-learn HDBSCAN",
    "hotspots": "esda.G_Local",
    "size": "groupby agg",
    "suppliers": "sjoin(dwithin) + sjoin_nearest",
    "map": "explore() + save",
}
LIBRARIES = (
    "numpy",
    "pandas",
    "pyarrow",
    "geopandas",
    "shapely",
    "pyogrio",
    "scipy",
    "scikit-learn",
    "hdbscan",
    "esda",
    "libpysal",
    "folium",
)


# --------------------------------------------------------------------- memory and time


def measured(call: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``call``; return its result, its seconds and its peak memory growth (MiB)."""
    reset_peak()
    before = memory_mib("VmRSS")
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    return result, {"s": seconds, "peak_mib": max(memory_mib("VmHWM") - before, 0.0)}


CHILD = r"""
import json, sys, time, warnings
kind, path, extra = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, sys.argv[4])
from _common import memory_mib as mib
warnings.simplefilter("ignore")
if kind == "hdbscan":
    import numpy as np
    from sklearn.cluster import HDBSCAN
    xy = np.load(path)
    before = mib("VmRSS")
    start = time.perf_counter()
    HDBSCAN(min_cluster_size=10, min_samples=10).fit(xy)
else:
    import geopandas as gpd
    points = gpd.read_parquet(path)
    before = mib("VmRSS")
    start = time.perf_counter()
    page = points.explore(column="org_type", tooltip=["name", "org_type", "sector"])
    page.save(extra)
print(json.dumps({"s": time.perf_counter() - start, "peak_mib": mib("VmHWM") - before}))
"""


def in_child(kind: str, path: Path, extra: str, timeout: float) -> dict[str, float] | None:
    """Run a long baseline in a child process; None when it was stopped at ``timeout``."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(path), extra, str(HERE)],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
        ).stdout
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------------ one size


def sites_for(n_orgs: int) -> tuple[Any, str]:
    """The investment sites: the real WMCA brownfield registers, else synthetic ones."""
    import numpy as np
    import pandas as pd

    import socecon_geo as sg

    if BROWNFIELD.is_file():
        return sg.read_sites(BROWNFIELD, programme="housing"), "real WMCA brownfield registers"
    table = sg.load_postcodes()
    rng = np.random.default_rng(n_orgs)
    rows = table.iloc[rng.choice(len(table), 2_000, replace=False)]
    frame = pd.DataFrame({"name": [f"site {i}" for i in range(len(rows))]})
    frame["postcode"] = rows["postcode"].to_numpy()
    return sg.read_sites(frame, programme="housing"), "synthetic sites at bundled postcodes"


def one_size(n: int, seed: int, timeout: float) -> dict[str, Any]:
    """Everything measured at one size (run in a fresh process)."""
    import esda
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from libpysal import weights as lw

    import socecon_geo as sg
    from socecon_geo.maps import render_map, save_map

    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix=f"bench_scale_{n}_"))
    csv = work / "organisations.csv"
    sg.sample_organisations(n, seed=seed).to_csv(csv, index=False)
    sites, sites_from = sites_for(n)
    start = time.perf_counter()
    sg.analyse(sg.sample_organisations(300, seed=seed + 1), progress=False)
    warm = time.perf_counter() - start  # imports, the bundle, the geography's caches

    result: dict[str, Any] = {"n": n, "sites": len(sites), "sites_from": sites_from}
    result["warm_s"] = warm
    result["rss_before_mib"] = memory_mib("VmRSS")

    # ---- end to end: the file in, the folder out
    reset_peak()
    start = time.perf_counter()
    analysis = sg.analyse(csv, sites=sites, seed=seed, progress=False)
    analysed = time.perf_counter() - start
    start = time.perf_counter()
    written = analysis.save(work / "out")
    saved = time.perf_counter() - start
    result["end_to_end"] = {
        "analyse_s": analysed,
        "save_s": saved,
        "total_s": analysed + saved,
        "peak_rss_mib": memory_mib("VmHWM"),
        "steps_s": dict(analysis.timings),
        "files_mb": {k: p.stat().st_size / 1e6 for k, p in written.items()},
        "clusters": len(analysis.clusters.clusters),
    }
    del analysis

    # ---- step by step, each against its baseline
    steps: dict[str, dict[str, Any]] = {}

    def record(
        step: str, ours: dict[str, float], base: dict[str, float] | None, **more: Any
    ) -> None:
        steps[step] = {"ours": ours, "baseline": base, **more}

    orgs, ours = measured(lambda: sg.read_organisations(csv))
    _, base = measured(lambda: pd.read_csv(csv, dtype=str, keep_default_na=False))
    record("read", ours, base)

    table = sg.load_postcodes()
    points, ours = measured(lambda: sg.geocode(orgs))

    def bare_merge() -> gpd.GeoDataFrame:
        keys = orgs["postcode"].astype("string").str.upper().str.strip()
        joined = pd.DataFrame({"postcode": keys}).merge(table, on="postcode", how="left")
        return gpd.GeoDataFrame(
            joined,
            geometry=gpd.points_from_xy(joined["easting"], joined["northing"]),
            crs=27700,
        )

    _, base = measured(bare_merge)
    record("geocode", ours, base)

    wards = sg.load_wards()
    placed, ours = measured(lambda: sg.assign_areas(points))
    located = points[points.geometry.notna() & ~points.geometry.is_empty]
    _, base = measured(lambda: gpd.sjoin(located[["geometry"]], wards, predicate="within"))
    record("areas", ours, base)

    iod = sg.load_deprivation("iod2025")
    deprived, ours = measured(lambda: sg.attach_deprivation(placed))
    _, base = measured(
        lambda: placed[["lsoa21_code"]].merge(
            iod, left_on="lsoa21_code", right_on="lsoa_code", how="left"
        )
    )
    record("deprivation", ours, base)

    population = sg.load_population()
    lookup = sg.load_area_lookup()[["lsoa21_code", "ward_code"]]
    summary, ours = measured(lambda: sg.summarise_areas(deprived, level="ward"))
    ward_people = deprived[["lsoa21_code", "ward_code"]]  # the baseline's own ward counts

    def grouped() -> pd.DataFrame:
        counts = ward_people.groupby("ward_code", observed=True).size().rename("n")
        people = population.merge(lookup, left_on="lsoa_code", right_on="lsoa21_code")
        residents = people.groupby("ward_code")["population"].sum()
        frame = wards[["ward_code", "geometry"]].merge(counts, on="ward_code", how="left")
        frame = frame.merge(residents, on="ward_code", how="left")
        return frame.assign(rate=frame["n"].fillna(0) / frame["population"] * 1e4)

    _, base = measured(grouped)
    record("summaries", ours, base)

    clusters, ours = measured(lambda: sg.find_clusters(deprived, seed=seed))
    xy_path = work / "xy.npy"
    usable = deprived[deprived.geometry.notna() & ~deprived.geometry.is_empty]
    np.save(xy_path, np.column_stack([usable.geometry.x, usable.geometry.y]))
    base = in_child("hdbscan", xy_path, "", timeout)
    record("clusters", ours, base, timeout_s=timeout, n_clusters=len(clusters.clusters))

    spots, ours = measured(lambda: sg.hotspots(summary, seed=seed))

    def esda_direct() -> Any:
        w = lw.Queen.from_dataframe(summary, use_index=False, silence_warnings=True)
        values = summary["rate_per_10k_eb"].to_numpy(dtype=float)
        return esda.G_Local(values, w, star=True, permutations=9999, seed=seed)

    _, base = measured(esda_direct)
    record("hotspots", ours, base)

    ranked, ours = measured(lambda: sg.rank_candidates(clusters, summary, hotspots=spots))
    record("ranking", ours, None)

    size, ours = measured(
        lambda: sg.social_economy_size(deprived, level="ward", measures=("count", "income"))
    )
    measures = deprived[["ward_code", "income"]]
    _, base = measured(
        lambda: measures.groupby("ward_code", observed=True)["income"].agg(
            ["count", "sum", "median"]
        )
    )
    record("size", ours, base)

    match, ours = measured(lambda: sg.match_suppliers(sites, deprived, programme="housing"))
    from bench_suppliers import BANDS, baseline

    chain = sg.supply_chain_table()
    prefixes = chain[chain["programme"].isin(["housing", "all"])]["sic_prefix"].tolist()
    located_sites = sites[sites["site_status"] == "located"]
    _, base = measured(lambda: baseline(located_sites, deprived, prefixes))
    record("suppliers", ours, base, bands_m=list(BANDS))
    del match

    page = work / "map.html"
    _, ours = measured(
        lambda: save_map(
            render_map(deprived, areas=summary, hotspots=spots, candidates=ranked, size=size),
            page,
        )
    )
    shown = usable[["name", "org_type", "sector", "postcode", "geometry"]]
    points_file = work / "points.parquet"
    shown.to_parquet(points_file)
    base = in_child("explore", points_file, str(work / "explore.html"), timeout)
    record(
        "map",
        ours,
        base,
        timeout_s=timeout,
        ours_mb=page.stat().st_size / 1e6,
        baseline_mb=(work / "explore.html").stat().st_size / 1e6 if base else None,
    )
    steps["save"] = {
        "ours": {"s": result["end_to_end"]["save_s"], "peak_mib": float("nan")},
        "baseline": None,
    }
    result["steps"] = steps
    return result


# ------------------------------------------------------------------ machine and table


def described() -> dict[str, str]:
    """The machine (:func:`_common.machine`), the libraries' versions and socecon_geo's."""
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return {
        **machine(),
        "libraries": ", ".join(versions),
        "socecon_geo": importlib.metadata.version("socecon_geo"),
    }


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:  # pragma: no cover
        return "unknown"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f} s" if value < 1 else f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _mib(value: float | None) -> str:
    if value is None or value != value:  # NaN
        return "—"
    return f"{value / 1024:.2f} GiB" if value >= 1024 else f"{value:.0f} MiB"


def step_table(runs: list[dict[str, Any]]) -> str:
    """The Markdown table: every step at every size, ours against the baseline."""
    lines = [
        "| step | organisations | socecon_geo | peak memory | baseline | baseline time "
        "| baseline memory | ratio |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for step in STEPS:
        for run in runs:
            row = run["steps"][step]
            ours, base = row["ours"], row["baseline"]
            name = BASELINES.get(step, "—")
            if step in BASELINES and base is None:
                base_time = f"not done in {row.get('timeout_s', 0):.0f} s"
                ratio = f"> {row.get('timeout_s', 0) / ours['s']:.0f}×"
                base_mem = "—"
            elif base is None:
                base_time, ratio, base_mem = "—", "—", "—"
            else:
                base_time = _seconds(base["s"])
                base_mem = _mib(base["peak_mib"])
                ratio = f"{base['s'] / ours['s']:.2f}×" if ours["s"] > 0 else "—"
            if step == "map":
                name = f"{name} ({row['ours_mb']:.0f} MB vs " + (
                    f"{row['baseline_mb']:.0f} MB)" if row["baseline_mb"] else "—)"
                )
            lines.append(
                f"| {step} | {run['n']:,} | {_seconds(ours['s'])} | {_mib(ours['peak_mib'])} "
                f"| {name} | {base_time} | {base_mem} | {ratio} |"
            )
    return "\n".join(lines)


def end_to_end_table(runs: list[dict[str, Any]]) -> str:
    """The Markdown table of the end-to-end runs against the targets."""
    lines = [
        "| organisations | analyse() | save() | end to end | peak memory | target | met |",
        "| ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for run in runs:
        e2e = run["end_to_end"]
        seconds, mib = TARGETS.get(run["n"], (None, None))
        if seconds is None:
            target, met = "—", "—"
        else:
            target = f"< {seconds:.0f} s" + (f", < {mib / 1024:.0f} GiB" if mib else "")
            ok = e2e["total_s"] < seconds and (mib is None or e2e["peak_rss_mib"] < mib)
            met = "yes" if ok else "**no**"
        lines.append(
            f"| {run['n']:,} | {_seconds(e2e['analyse_s'])} | {_seconds(e2e['save_s'])} "
            f"| {_seconds(e2e['total_s'])} | {_mib(e2e['peak_rss_mib'])} | {target} | {met} |"
        )
    return "\n".join(lines)


def files_table(runs: list[dict[str, Any]]) -> str:
    """The Markdown table of the output files' sizes."""
    keys = list(runs[-1]["end_to_end"]["files_mb"])
    lines = [
        "| file | " + " | ".join(f"{r['n']:,}" for r in runs) + " |",
        "| --- |" + " ---: |" * len(runs),
    ]
    for key in keys:
        cells = [f"{r['end_to_end']['files_mb'].get(key, 0):.2f} MB" for r in runs]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(runs: list[dict[str, Any]], command: str, info: dict[str, str], loads: str) -> str:
    """The Markdown section written into the performance page."""
    day = dt.date.today().strftime("%-d %B %Y")
    sites = runs[0]["sites_from"]
    return "\n".join(
        [
            START,
            "",
            f"Measured on {day} with socecon_geo {info['socecon_geo']} by",
            "",
            "```bash",
            command,
            "```",
            "",
            "| machine | |",
            "| --- | --- |",
            f"| processor | {info['processor']} |",
            f"| memory | {info['memory']} |",
            f"| system | {info['system']} |",
            f"| libraries | {info['libraries']} |",
            f"| load average (1, 5, 15 min) | {loads} |",
            "",
            "End to end — the CSV file read, every step (the suppliers step with the "
            f"{runs[0]['sites']:,} sites of the {sites}), every output file written; peak "
            "memory is the process's peak resident set over the run:",
            "",
            end_to_end_table(runs),
            "",
            "Each step against what a user would otherwise write, on the same data in the "
            "same process (peak memory: growth of the resident set while the step ran; "
            "ratio: baseline time / socecon_geo time, above 1 when socecon_geo is faster):",
            "",
            step_table(runs),
            "",
            "The output files:",
            "",
            files_table(runs),
            "",
            END,
        ]
    )


def write_docs(path: Path, section: str) -> None:
    """Replace the marked section of ``path`` (appended when there is none)."""
    text = path.read_text(encoding="utf-8")
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def print_run(run: dict[str, Any]) -> None:
    e2e = run["end_to_end"]
    print(
        f"\n{run['n']:,} organisations ({e2e['clusters']} clusters; the first small "
        f"analyse() in the fresh process took {run['warm_s']:.1f} s)"
    )
    print(
        f"  end to end: analyse() {e2e['analyse_s']:.2f} s + save() {e2e['save_s']:.2f} s "
        f"= {e2e['total_s']:.2f} s; peak memory {_mib(e2e['peak_rss_mib'])}"
    )
    print("  analyse() steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in e2e["steps_s"].items()))
    for step in STEPS:
        row = run["steps"][step]
        ours, base = row["ours"], row["baseline"]
        line = f"  {step:<12} {_seconds(ours['s']):>9} {_mib(ours['peak_mib']):>9}"
        if step in BASELINES:
            if base is None:
                line += f"   {BASELINES[step]}: stopped after {row['timeout_s']:.0f} s"
            else:
                line += (
                    f"   {BASELINES[step]}: {_seconds(base['s'])} {_mib(base['peak_mib'])} "
                    f"(ratio {base['s'] / ours['s']:.2f})"
                )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument("--write-docs", type=Path, help="replace the marked table in this page")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_size(args.child, args.seed, args.baseline_timeout)))
        return
    loads = [_load()]
    print(f"python {sys.version.split()[0]}; each size in a fresh process; load {loads[0]}")
    runs = []
    for n in args.sizes:
        out = subprocess.run(
            [
                *(sys.executable, __file__, "--child", str(n), "--seed", str(args.seed)),
                *("--baseline-timeout", str(args.baseline_timeout)),
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print_run(runs[-1])
        loads.append(_load())
    print("\n" + end_to_end_table(runs))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2) + "\n", encoding="utf-8")
    if args.write_docs:
        sizes = " ".join(str(n) for n in args.sizes)
        command = f"python benchmarks/bench_scale.py --sizes {sizes} --write-docs {args.write_docs}"
        if args.baseline_timeout != 300.0:
            command += f" --baseline-timeout {args.baseline_timeout:g}"
        span = f"{loads[0]} before, {loads[-1]} after"
        write_docs(args.write_docs, report(runs, command, described(), span))
        print(f"wrote the table into {args.write_docs}")


if __name__ == "__main__":
    main()

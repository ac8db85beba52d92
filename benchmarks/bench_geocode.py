"""Benchmark: geocode a million messy organisation postcodes against the bundled table.

Run ``python benchmarks/bench_geocode.py [--n 1000000] [--repeat 3] [--table FILE]``.

The organisations are built from real postcodes of the bundled West Midlands table with
realistic messiness: lower case, no space, extra or non-breaking spaces, stray
punctuation, invalid values, missing values, terminated postcodes, unknown postcodes in
known sectors and postcodes outside the table's areas. The same run times a bare pandas
merge of already-clean postcodes with the table, the floor any geocoder is measured
against, and prints both times and their ratio. Targets: geocode under 3 s and within 3x
of the bare merge.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from _common import OUTSIDE, interleaved, unknown_in_known_sectors

from socecon_geo.geocoding import OfflinePostcodeGeocoder, geocode, geocoding_report

# bad values; "B1S 2TT" is a typo that passes the format check (so it is not_found)
INVALID = np.array(["B15 2TO", "B1S 2TT", "12345", "CV1", "WV99 9999", "B15 2T", "QQ1 1AA"])
MISSING = np.array(["", "  ", "N/A", "unknown"], dtype=object)


def make_organisations(
    table: pd.DataFrame, n: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """Return (messy organisations, the clean postcode of each row for the bare merge)."""
    rng = np.random.default_rng(seed)
    postcodes = table["postcode"].astype("str")
    located = table["easting"].notna().to_numpy()
    terminated = table["terminated"].to_numpy(dtype=bool)
    live = postcodes[~terminated & located].to_numpy(dtype=object)
    ended = postcodes[terminated].to_numpy(dtype=object)
    if len(ended) == 0:
        ended = live[:1]

    # unknown postcodes of known sectors: a live postcode with other inward letters
    unknown = unknown_in_known_sectors(live, postcodes, rng)

    kind = rng.choice(6, size=n, p=[0.82, 0.04, 0.04, 0.04, 0.04, 0.02])
    clean = np.empty(n, dtype=object)
    pick = {0: live, 1: ended, 2: unknown, 3: OUTSIDE.astype(object)}
    for k, pool in pick.items():
        mask = kind == k
        clean[mask] = pool[rng.integers(0, len(pool), int(mask.sum()))]
    raw = clean.copy()
    mask = kind == 4
    raw[mask] = INVALID[rng.integers(0, len(INVALID), int(mask.sum()))]
    clean[mask] = None
    mask = kind == 5
    raw[mask] = MISSING[rng.integers(0, len(MISSING), int(mask.sum()))]
    raw[mask & (rng.random(n) < 0.5)] = None
    clean[mask] = None

    # messiness on the postcodes that have a valid form: (share, how)
    messy = pd.Series(raw, dtype="str")
    variants = [
        (0.55, messy),  # as published: "B15 2TT"
        (0.12, messy.str.replace(" ", "", regex=False)),  # "B152TT"
        (0.08, messy.str.lower()),  # "b15 2tt"
        (0.05, messy.str.replace(" ", "", regex=False).str.lower()),  # "b152tt"
        (0.08, "  " + messy.str.replace(" ", "  ", regex=False) + " "),  # "  B15  2TT "
        (0.05, messy + "."),  # "B15 2TT."
        (0.03, messy.str.replace(" ", "-", regex=False)),  # "B15-2TT"
        (0.04, messy.str.replace(" ", "\u00a0", regex=False)),  # non-breaking space
    ]
    style = rng.choice(len(variants), size=n, p=[share for share, _ in variants])
    values = messy.to_numpy(dtype=object)
    for s, (_, variant) in enumerate(variants):
        mask = (style == s) & (kind < 4)
        values[mask] = variant.to_numpy(dtype=object)[mask]
    organisations = pd.DataFrame(
        {
            "organisation_id": np.arange(n),
            "name": pd.Series([f"Org {i}" for i in range(n)], dtype="str"),
            "postcode": pd.Series(values, dtype="str"),
        }
    )
    return organisations, pd.Series(clean, dtype="str")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="organisations (1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best is shown")
    parser.add_argument("--table", help="a postcode table file instead of the bundled one")
    args = parser.parse_args()

    start = time.perf_counter()
    if args.table:
        geocoder = OfflinePostcodeGeocoder.from_file(args.table)
    else:
        geocoder = OfflinePostcodeGeocoder()  # the bundled table
    table = geocoder.table.reset_index()
    load_time = time.perf_counter() - start
    organisations, clean = make_organisations(table, args.n)
    print(f"table: {len(table):,} postcodes ({geocoder.name}), loaded in {load_time:.2f} s")
    distinct = organisations["postcode"].nunique()
    print(f"organisations: {len(organisations):,} rows, {distinct:,} distinct raw postcodes")

    keys = pd.DataFrame({"organisation_id": organisations["organisation_id"], "postcode": clean})
    columns = ["postcode", "easting", "northing", "quality", "lad_code", "ward_code", "lsoa11_code"]
    right = table[columns].assign(postcode=table["postcode"].astype("str"))

    def run_geocode():
        return geocode(organisations, geocoder=geocoder)

    def run_merge():
        return keys.merge(right, on="postcode", how="left")

    start = time.perf_counter()
    geocoded = run_geocode()
    first_time = time.perf_counter() - start
    geocoded, geocode_times, merge_times = interleaved(run_geocode, run_merge, args.repeat)
    merged = run_merge()

    assert len(geocoded) == len(organisations) == len(merged)
    assert geocoded.index.equals(organisations.index)
    print(geocoding_report(geocoded, examples=0))
    best_geocode, best_merge = min(geocode_times), min(merge_times)
    ratio = best_geocode / best_merge
    print(f"geocode, first call (builds the table's caches): {first_time:.3f} s")
    print(
        f"geocode:    {best_geocode:.3f} s best, {statistics.median(geocode_times):.3f} s median"
        f" of {args.repeat}"
    )
    print(
        f"bare merge: {best_merge:.3f} s best, {statistics.median(merge_times):.3f} s median"
        f" of {args.repeat}"
    )
    print(f"ratio (best/best): {ratio:.2f}x")
    ok = best_geocode < 3 and ratio <= 3
    print("targets (< 3 s, within 3x of the bare merge):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()

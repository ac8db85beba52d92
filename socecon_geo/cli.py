"""The ``socecon-geo`` command line.

Commands
--------
``socecon-geo info``
    Summarise the bundled West Midlands layers: counts by authority, sources, attribution.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from socecon_geo import __version__

__all__ = ["main"]


def _info(args: argparse.Namespace) -> int:
    from socecon_geo import bundle

    wards = bundle.load_wards()
    lsoas = bundle.load_lsoas()
    postcodes = bundle.postcode_frame()
    info = bundle.bundle_provenance()
    live = postcodes.loc[~postcodes["terminated"]]
    lines = [
        f"socecon_geo {__version__}: bundled West Midlands geography (EPSG:27700)",
        "",
        f"{'authority':<16}{'code':<12}{'wards':>7}{'LSOA11':>8}{'postcodes':>11}",
    ]
    for code, name in bundle.WMCA_AUTHORITIES.items():
        lines.append(
            f"{name:<16}{code:<12}"
            f"{int((wards['lad_code'] == code).sum()):>7}"
            f"{int((lsoas['lad_code'] == code).sum()):>8}"
            f"{int((live['lad_code'] == code).sum()):>11,}"
        )
    lines.append(
        f"{'WMCA':<28}{len(wards):>7}{len(lsoas):>8}"
        f"{int(live['lad_code'].isin(list(bundle.WMCA_AUTHORITIES)).sum()):>11,}"
    )
    lines += [
        "",
        f"postcode table: {len(live):,} live and {len(postcodes) - len(live):,} terminated "
        "postcodes in the B, CV, DY, WS and WV areas",
        "wards are approximations derived from postcode points (see PROVENANCE.md)",
        "sources: " + ", ".join(f"{k}=={v['version']}" for k, v in info["sources"].items()),
        "",
        *info["attribution"],
    ]
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``socecon-geo``."""
    parser = argparse.ArgumentParser(
        prog="socecon-geo",
        description="Map the social economy: registers, postcodes, deprivation, clusters.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = commands.add_parser("info", help="summarise the bundled West Midlands geography")
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from socecon_geo._errors import SocEconGeoError

    try:
        return int(args.func(args))
    except SocEconGeoError as exc:
        print(f"socecon-geo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

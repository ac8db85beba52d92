"""The ``socecon-geo`` command line.

Commands
--------
``socecon-geo demo [--out DIR]``
    The whole analysis, offline, on 2,000 synthetic organisations at real West Midlands
    postcodes; writes the map, tables, figure and report and prints where the map is.
``socecon-geo run FILE... [--register ...] [--deprivation ...] [--level ...] [--out DIR]``
    The whole analysis on your register files (read with ``read_organisations``, then
    ``analyse``); prints what each file gave, how many rows each register filter set
    aside, the summary and where the map is.
``socecon-geo size FILE... [--economy FILE] [--level ...] [-o FILE]``
    The size of the social economy by area and authority (``social_economy_size``):
    counts, income and employees, coverage, concentration, with and without the
    organisations flagged as possibly national.
``socecon-geo suppliers SITES FILE... [--programme ...] [-o FILE.csv]``
    The social suppliers within reach of each investment site (``match_suppliers``),
    the coverage of each programme by distance band and the largest gaps.
``socecon-geo geocode REGISTER -o FILE``
    Read a register, geocode it by postcode, add LSOA, ward and authority (and, with
    ``--deprivation``, the IMD), write every row with its statuses, print a report.
``socecon-geo fetch-data [DATASET...]``
    Download official files (IoD File 7, ONS boundaries) into the cache.
``socecon-geo info``
    The bundled data, the cache folder and what is in it, the versions.
``socecon-geo sample -o FILE``
    Write synthetic sample organisations at real bundled postcodes.

Every command takes ``--quiet`` (no progress, no summary) and ``--debug`` (a traceback
instead of a one-line error), before or after the command name.

Exit status
-----------
0
    success.
1
    an unexpected internal error (a bug): one line naming it; rerun with ``--debug`` for
    the traceback and report it.
2
    bad usage or bad input: an unknown or missing option (the argument parser's own
    message), a missing, unreadable or malformed file, an unknown register, authority or
    area, an output that cannot be written, an option whose optional extra is not
    installed (the message names the ``pip install`` command).
3
    data not available: no network, a failed download, a dataset neither bundled nor
    cached.
130
    interrupted (Ctrl-C): one line, no traceback.
141
    the reader of the output went away (``socecon-geo ... | head -1``): silent.

Errors are one line on standard error, ``socecon-geo: error: <message>``, in
command-line words: the library's Python keywords (``lsoa_lookup=``, ``columns={...}``)
are spelled as the options (``--lsoa-lookup PATH``, ``--column FIELD=HEADING``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from socecon_geo.cli._errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    EXIT_STATUSES,
    _quiet_stdout,
    _Stdout,
    exit_status,
    fail,
    pipe_closed,
)

__all__ = ["EXIT_STATUSES", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``socecon-geo``."""
    from socecon_geo.cli import _commands
    from socecon_geo.cli._options import build_parser as build

    return build(_commands)


def _message(exc: BaseException, status: int) -> str:
    from socecon_geo._errors import SocEconGeoError

    text = str(exc).strip()
    if status == EXIT_INTERNAL:
        first = text.splitlines()[0] if text else "(no message)"
        return (
            f"internal error: {type(exc).__name__}: {first}. This is a bug in socecon_geo: "
            "rerun with --debug to see the traceback, and please report it"
        )
    if isinstance(exc, OSError) and not isinstance(exc, SocEconGeoError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``socecon-geo``; by default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status (see the module documentation).
    """
    args = build_parser().parse_args(argv)
    _Stdout.closed = False
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return EXIT_PIPE if status == 0 and pipe_closed() else status
    except BrokenPipeError:  # the reader went away (``socecon-geo info | head``): stop quietly
        _quiet_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        if args.debug:
            raise
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        print("socecon-geo: interrupted", file=sys.stderr, flush=True)
        if argv is None:  # the program itself (not a call from Python): stop here
            # An interrupt that lands in some extension code can leave the interpreter
            # marked as killed by SIGINT even though it was handled, so that it ends
            # with the signal instead of the status (seen about once in 30 runs).
            os._exit(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        status = exit_status(exc)
        try:
            return fail(_message(exc, status), status)
        except BrokenPipeError:  # pragma: no cover - stderr closed as well
            return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Exit statuses, and errors said in command-line words on one line.

The library's messages name Python keywords (``lsoa_lookup=``, ``columns={...}``,
``fetch_deprivation('iod2025', path='...')``); :func:`cli_words` rewrites them into the
options of ``socecon-geo`` in one place, so every command says the same thing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
from collections.abc import Callable
from typing import Final

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_STATUSES",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "CliError",
    "cli_words",
    "emit",
    "exit_status",
    "fail",
    "one_line",
    "pipe_closed",
]

EXIT_OK: Final = 0
EXIT_INTERNAL: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNAVAILABLE: Final = 3
EXIT_INTERRUPTED: Final = 130
EXIT_PIPE: Final = 141

EXIT_STATUSES: Final[tuple[tuple[int, str], ...]] = (
    (EXIT_OK, "success"),
    (
        EXIT_INTERNAL,
        "an unexpected internal error (a bug): one line naming it; rerun with --debug for the "
        "traceback and report it",
    ),
    (
        EXIT_USAGE,
        "bad usage or bad input: an unknown or missing option, a missing, unreadable or "
        "malformed file, an unknown register, authority or area, an output that cannot be "
        "written, an option whose optional extra is not installed",
    ),
    (
        EXIT_UNAVAILABLE,
        "data not available: no network, a failed download, a dataset neither bundled nor cached",
    ),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C): one line, no traceback"),
    (EXIT_PIPE, "the reader of the output went away (`socecon-geo ... | head -1`); silent"),
)
"""Every exit status of ``socecon-geo`` and when it is used."""


class CliError(Exception):
    """An error found by the command line itself, already in its words."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def exit_status(exc: BaseException) -> int:
    """Return the documented exit status for an error."""
    from socecon_geo._errors import DataUnavailableError, DownloadError, SocEconGeoError

    if isinstance(exc, CliError):
        return exc.status
    if isinstance(exc, DataUnavailableError | DownloadError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, SocEconGeoError | OSError):
        return EXIT_USAGE
    return EXIT_INTERNAL


# ---- Python words -> command-line words ------------------------------------------------

# keyword of the library -> (option, placeholder; None for a flag)
_OPTIONS: Final[dict[str, tuple[str, str | None]]] = {
    "columns": ("--column", "FIELD=HEADING"),
    "encoding": ("--encoding", "NAME"),
    "sheet_name": ("--sheet", "NAME"),
    "decimal": ("--decimal", ","),
    "register": ("--register", "NAME"),
    "include_removed": ("--include-removed", None),
    "include_linked": ("--include-linked", None),
    "company_categories": ("--company-category", "CATEGORY"),
    "active_only": ("--active-only", None),
    "lsoa_lookup": ("--lsoa-lookup", "PATH"),
    "level": ("--level", "LEVEL"),
    "deprivation": ("--deprivation", "iod2025|iod2019|PATH"),
    "authorities": ("--authority", "NAME"),
    "seed": ("--seed", "N"),
    "economy": ("--economy", "FILE"),
    "economy_year": ("--economy-year", "YEAR"),
    "national_threshold": ("--national-threshold", "POUNDS"),
    "gva_ratio": ("--gva-ratio", "RATIO"),
    "sites": ("--sites", "FILE"),
}

_LEVEL_OF_LAYER: Final = {
    "lsoas21": "lsoa21",
    "lsoas11": "lsoa11",
    "msoas21": "msoa21",
    "wards": "ward",
    "authorities": "lad",
}


def _no_option(match: re.Match[str]) -> str:
    return f"no {_OPTIONS[match[1]][0]}" if match[1] in _OPTIONS else match[0]


# whole phrases first: calls and objects that have an option of their own
_PHRASES: Final[tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...]] = (
    (
        re.compile(r"fetch_deprivation\((['\"])(\w+)\1, path='\.\.\.'\)"),
        r"--deprivation PATH (with `socecon-geo run`)",
    ),
    (
        re.compile(r"fetch_boundaries\((['\"])(\w+)\1, path='\.\.\.'\)"),
        r"--boundaries \2=PATH (with `socecon-geo run`)",
    ),
    (
        re.compile(r"(?:sg\.)?Geography\.from_files\((\w+)=\.\.\.\)"),
        lambda m: f"--boundaries {_LEVEL_OF_LAYER.get(m[1], 'LEVEL')}=PATH",
    ),
    (re.compile(r"(?:sg\.)?Geography\.from_files(?:\(\.\.\.\))?"), "--boundaries LEVEL=PATH"),
    (re.compile(r"(?:sg\.)?fetch_geography\(\.\.\.\)"), "--authority NAME"),
    (re.compile(r"geocoder=PostcodesIOGeocoder\(\)"), "--postcodes-io"),
    (re.compile(r"PostcodesIOGeocoder\(on_error='flag'\)"), "--postcodes-io-keep-going"),
    (re.compile(r" \(to attach_deprivation or assign_areas\)"), ""),
    (
        re.compile(r"\(path=\.\.\., or the dataset's"),
        "(--deprivation PATH or --boundaries LEVEL=PATH, or the dataset's",
    ),
    (
        re.compile(r"register='generic' and columns=\{\.\.\.\}"),
        "--register generic and --column FIELD=HEADING",
    ),
    (re.compile(r"\b(\w+)=None\b"), _no_option),
)

_READ_OPTIONS: Final = re.compile(r"read_options=\{([^{}]*)\}")
_KEYWORD: Final = re.compile(
    r"(?<![\w.\-'\"])(?P<name>[a-z_]+)="
    r"(?P<value>'[^']*'|\"[^\"]*\"|\{[^{}]*\}|\.\.\.|True\b|False\b|\w(?:[\w.]*\w)?)?"
)


def _option(match: re.Match[str]) -> str:
    name, value = match["name"], match["value"]
    if name not in _OPTIONS:
        return match[0]
    option, placeholder = _OPTIONS[name]
    if placeholder is None:  # a flag
        return f"no {option}" if value == "False" else option
    if value is None or value == "..." or value.startswith("{"):
        return f"{option} {placeholder}"
    if value[0] in "'\"":
        inner = value[1:-1]
        if not inner:
            return f"{option} {placeholder}"
        punctuation = not any(ch.isalnum() for ch in inner)  # --decimal ','
        return f"{option} '{inner}'" if punctuation else f"{option} {shlex.quote(inner)}"
    return f"{option} {value}"


def _expand_read_options(match: re.Match[str]) -> str:
    pairs = re.findall(r"'(\w+)':\s*('[^']*'|\"[^\"]*\"|[^,]+)", match[1])
    if not pairs:
        return "the register options"
    return ", ".join(f"{key}={value.strip()}" for key, value in pairs)


def cli_words(message: str) -> str:
    """Rewrite a library message's Python keywords as ``socecon-geo`` options.

    Parameters
    ----------
    message : str
        A message of a socecon_geo error.

    Returns
    -------
    str
        The message with ``keyword=value`` spelled as the command-line option.

    Examples
    --------
    >>> cli_words("pass it as lsoa_lookup= (to attach_deprivation or assign_areas)")
    'pass it as --lsoa-lookup PATH'
    >>> cli_words("or pass encoding='cp1252'; read_options={'sheet_name': 'Data'}")
    'or pass --encoding cp1252; --sheet Data'
    >>> cli_words("Geocode them with geocoder=PostcodesIOGeocoder().")
    'Geocode them with --postcodes-io.'
    """
    text = _READ_OPTIONS.sub(_expand_read_options, message)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return _KEYWORD.sub(_option, text)


def one_line(message: str) -> str:
    r"""Join a message of several lines (a list of problems, a hint) into one line.

    Examples
    --------
    >>> one_line("file 'a.csv' has 2 problems:\n  - x is missing\n  - y is empty\nFix it.")
    "file 'a.csv' has 2 problems: x is missing; y is empty. Fix it."
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    out = lines[0]
    for line in lines[1:]:
        if line.startswith("- "):
            item = line[2:].strip()
            out = f"{out} {item}" if out.endswith(":") else f"{out}; {item}"
        else:
            out = out if out.endswith((".", ":", ";")) else f"{out}."
            out = f"{out} {line}"
    return out


class _Stdout:
    """Whether standard output's reader has gone away."""

    closed = False


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that later writes and the flush at exit do not fail."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        target = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, target)
        os.close(devnull)


def emit(*lines: str) -> None:
    """Print lines on standard output; if its reader went away, carry on silently.

    The work goes on (the output file is still written) and the command then exits with
    :data:`EXIT_PIPE`, as ``socecon-geo geocode ... | head -1`` should.
    """
    if _Stdout.closed:
        return
    try:
        for line in lines:
            print(line, flush=True)
    except BrokenPipeError:
        _Stdout.closed = True
        _quiet_stdout()


def pipe_closed() -> bool:
    """Return whether standard output's reader went away during this run."""
    return _Stdout.closed


def fail(message: str, status: int = EXIT_USAGE) -> int:
    """Print ``socecon-geo: error: <message>`` on one line of standard error."""
    print(f"socecon-geo: error: {one_line(cli_words(message))}", file=sys.stderr, flush=True)
    return status

"""Helpers for tabular inputs shared by the readers: area codes, numbers, CSV text.

Private to socecon_geo: :mod:`socecon_geo.deprivation`, :mod:`socecon_geo.areas` and
:mod:`socecon_geo.boundaries` clean area codes and read CSV files the same way
through these functions (headings are recognised by :mod:`socecon_geo._headings`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError

__all__ = [
    "FACTORIZE_FROM",
    "as_table",
    "clean_codes",
    "clean_text",
    "factorize_clean",
    "is_text_categorical",
    "parse_numbers",
    "read_csv_text",
    "row_records",
    "shown",
    "unique_ignoring_case",
]


FACTORIZE_FROM = 1000  # rows from which text is cleaned per distinct value


def clean_text(values: pd.Series, *, upper: bool = True) -> pd.Series:
    """Text as a ``string`` Series, stripped (and upper-cased), blanks as NA."""
    text = values.astype("string").str.strip()
    if upper:
        text = text.str.upper()
    return text.mask(text == "", pd.NA)


def is_text_categorical(dtype: Any) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) and isinstance(
        dtype.categories.dtype, pd.StringDtype
    )


def clean_codes(values: pd.Series | Any) -> pd.Series:
    """Codes as a ``string`` Series, stripped and upper-cased, blanks as NA.

    Text and categorical columns are cleaned once per distinct value (a register of a
    million organisations holds a few thousand distinct area codes).

    Examples
    --------
    >>> clean_codes(pd.Series([" e01000001", "", None])).tolist()
    ['E01000001', <NA>, <NA>]
    """
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if is_text_categorical(series.dtype) or (
        isinstance(series.dtype, pd.StringDtype) and len(series) > FACTORIZE_FROM
    ):
        keys, uniques = factorize_clean(series)
        cleaned = pd.array(uniques, dtype="string").take(keys, allow_fill=True)
        return pd.Series(cleaned, index=series.index, name=series.name)
    return clean_text(series)


def factorize_clean(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Clean codes (as :func:`clean_codes`), factorised.

    Returns the position of each value's clean code among the distinct clean codes (-1
    where there is none) and those codes. Text and categorical values are cleaned once
    per distinct value.
    """
    if is_text_categorical(values.dtype):
        keys, raw = values.cat.codes.to_numpy(), pd.Series(values.cat.categories)
    elif isinstance(values.dtype, pd.StringDtype):
        keys, distinct = pd.factorize(values)
        raw = pd.Series(distinct)
    else:
        keys, distinct = pd.factorize(clean_text(values))
        return np.asarray(keys), pd.Index(distinct)
    clean_keys, clean = pd.factorize(clean_text(raw))
    return np.append(clean_keys, -1)[keys], pd.Index(clean)


def read_csv_text(path: str | os.PathLike[str], what: str) -> pd.DataFrame:
    """Read a CSV file with every cell as text (blank cells NA), byte-order mark allowed."""
    file = Path(path).expanduser()
    if not file.is_file():
        msg = f"{what} file {str(file)!r} does not exist; pass the path of the CSV file."
        raise InputError(msg)
    try:
        return pd.read_csv(
            file, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        msg = f"{what} file {file.name!r} could not be read as a CSV file ({error})."
        raise InputError(msg) from None


def as_table(table: pd.DataFrame | str | os.PathLike[str], what: str) -> pd.DataFrame:
    """Return a DataFrame as it is, or read a CSV path with :func:`read_csv_text`."""
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, str | os.PathLike):
        return read_csv_text(table, what)
    msg = f"{what} must be a DataFrame or the path of a CSV file, not {type(table).__name__}."
    raise InputError(msg)


_SHOWN_LIMIT: Final = 40


def shown(value: object, limit: int = _SHOWN_LIMIT) -> str:
    r"""Quote a value read from a file for an error message: escaped and cut short.

    Control characters, undecodable bytes, the replacement character and other
    unprintable characters are escaped as ``repr`` does (``\x1b``, ``\xff``,
    ``\ufffd``); text longer than ``limit`` characters is cut, with ``…`` and its length.

    Examples
    --------
    >>> print(shown("Post\x1b[31mcode"))
    'Post\x1b[31mcode'
    >>> print(shown(b"Nam\xffe"))
    'Nam\xffe'
    >>> print(shown("x" * 100, limit=10))
    'xxxxxxxxxx…' (100 characters)
    """
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("latin-1")  # every byte stays one escapable character
        text = "".join(c if c.isascii() and c.isprintable() else f"\\x{ord(c):02x}" for c in value)
        return f"'{text}'"
    if not isinstance(value, str):
        text = str(value) if isinstance(value, int | float) else repr(value)
        return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
    text = value
    cut = text[:limit]
    quoted = repr(cut).replace("\ufffd", "\\ufffd")
    if len(text) > limit:
        return f"{quoted[:-1]}…{quoted[-1]} ({len(text):,} characters)"
    return quoted


# Numbers written as text: UK style (dot decimal, comma thousands) or, when asked for,
# continental style (comma decimal, dot thousands). A value that fits the other style but
# not the chosen one is ambiguous: never guessed.
# spaces, tabs, line breaks, no-break and thin spaces; written out (not \\s) for Arrow
_SPACES: Final = re.compile("[ \t\r\n\f\v\u00a0\u2009\u202f]+")
_CURRENCY: Final = re.compile(r"[£$€]|GBP|gbp|EUR|eur")
_DOT_PLAIN: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DOT_GROUPED: Final = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")
_COMMA_PLAIN: Final = re.compile(r"^[+-]?(?:\d+(?:,\d+)?|,\d+)$")
_COMMA_GROUPED: Final = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")
_NUMBER_LIKE: Final = re.compile(r"^[+-]?[\d.,]*\d[\d.,]*$")


def _matches(text: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    return _flag(text.str.fullmatch(pattern.pattern))


def _flag(mask: pd.Series) -> np.ndarray:
    return mask.to_numpy(dtype=bool, na_value=False)


@dataclass
class ParsedNumbers:
    """Numbers parsed from text: values, and which cells were not numbers or ambiguous."""

    values: np.ndarray  # float64, NaN where blank, unparsed or ambiguous
    unparsed: np.ndarray  # bool: present but not a number at all
    ambiguous: np.ndarray  # bool: digits with dots and commas not in the chosen style


def parse_numbers(
    values: pd.Series,
    *,
    decimal: Literal[".", ","] = ".",
    currency: bool = False,
    typed: np.ndarray | None = None,
) -> ParsedNumbers:
    """Parse numbers written as text, refusing ambiguous formats instead of guessing.

    With ``decimal="."`` (the default) a value is a plain number (``1234.5``, ``1e6``)
    or has comma thousands separators (``1,234.50``); with ``decimal=","`` a value is
    ``1234,5`` or has dot thousands separators (``1.234,50``). Spaces (thin and
    non-breaking too) are ignored, and with ``currency`` also ``£``, ``$``, ``€``,
    ``GBP`` and ``EUR``. A value made of digits, dots and commas that fits neither
    pattern of the chosen style (``1.234,50``, ``2,5`` or ``1.234.567`` by default;
    ``1.5`` with ``decimal=","``) is *ambiguous*; any other text is *unparsed*. Numeric
    cells (a numeric dtype, numbers in an object column, or cells marked in ``typed``)
    are numbers whatever ``decimal`` says.

    Examples
    --------
    >>> parsed = parse_numbers(pd.Series(["1,234.50", "1.234,50", "n/a", None]))
    >>> parsed.values.tolist(), parsed.ambiguous.tolist(), parsed.unparsed.tolist()
    ([1234.5, nan, nan, nan], [False, True, False, False], [False, False, True, False])
    >>> parse_numbers(pd.Series(["1.234,50", "12"]), decimal=",").values.tolist()
    [1234.5, 12.0]
    """
    if decimal not in (".", ","):
        msg = f"decimal must be '.' or ',', got {decimal!r}"
        raise InputError(msg)
    size = len(values)
    no = np.zeros(size, dtype=bool)
    if pd.api.types.is_bool_dtype(values.dtype):
        return ParsedNumbers(values.to_numpy(dtype="float64", na_value=np.nan), no, no.copy())
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = pd.to_numeric(values).astype("Float64")
        return ParsedNumbers(numbers.to_numpy(dtype="float64", na_value=np.nan), no, no.copy())
    is_number = no.copy() if typed is None else np.asarray(typed, dtype=bool).copy()
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) != "string":
        is_number |= values.map(
            lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
        ).to_numpy(dtype=bool)
    text = values.astype("string").str.strip()
    text = text.mask(text == "", pd.NA)
    present = text.notna().to_numpy(dtype=bool)
    out = np.full(size, np.nan)
    if is_number.any():
        out[is_number] = pd.to_numeric(text[is_number], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    rest = present & ~is_number
    if decimal == ".":  # fast path: what pandas parses is a plain dot-decimal number
        tried = rest & ~_flag(text.str.contains(",", regex=False))
        fast = pd.to_numeric(text[tried], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        out[tried] = fast
        rest[np.flatnonzero(tried)[~np.isnan(fast)]] = False
    ambiguous = no.copy()
    if rest.any():
        positions = np.flatnonzero(rest)
        cleaned = text[rest]
        if currency:
            cleaned = cleaned.str.replace(_CURRENCY.pattern, "", regex=True)
        cleaned = cleaned.str.replace(_SPACES.pattern, "", regex=True)
        plain, grouped = (
            (_DOT_PLAIN, _DOT_GROUPED) if decimal == "." else (_COMMA_PLAIN, _COMMA_GROUPED)
        )
        fits = _matches(cleaned, grouped)
        fits[~fits] = _matches(cleaned[~fits], plain)
        separator = "," if decimal == "." else "."
        number = cleaned[fits].str.replace(separator, "", regex=False)
        number = number.str.replace(decimal, ".", regex=False)
        out[positions[fits]] = pd.to_numeric(number, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        others = cleaned[~fits]
        like = _matches(others, _NUMBER_LIKE)
        if decimal == ".":  # digits with a comma, or several dots: "2,5", "1.234.567"
            like &= _flag(others.str.contains(",", regex=False)) | _flag(
                others.str.count(r"\.") > 1
            )
        ambiguous[positions[~fits][like]] = True
    unparsed = present & np.isnan(out) & ~ambiguous
    return ParsedNumbers(out, unparsed, ambiguous)


def unique_ignoring_case(columns: Sequence[object]) -> dict[str, str]:
    """Return renames for headings that differ only in case from an earlier one.

    A GeoPackage's (SQLite's) field names ignore case, so two registers' ``src_Name``
    and ``src_name`` clash there; the later gets ``_2`` (``_3``, …), a name no other
    heading has.
    """
    names = [str(c) for c in columns]
    taken = {n.casefold() for n in names}
    used: set[str] = set()
    renames: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key not in used:
            used.add(key)
            continue
        number = 2
        while f"{key}_{number}" in taken or f"{key}_{number}" in used:
            number += 1
        renames[name] = f"{name}_{number}"
        used.add(f"{key}_{number}")
    return renames


def row_records(
    frame: pd.DataFrame, columns: Sequence[object] | None = None
) -> list[dict[Any, Any]]:
    """Return the rows of ``frame`` as dicts, without its geometry column.

    The one way the package walks rows to write text (explanations, popups, tooltips,
    labels): not ``iterrows``, each of whose rows copies the frame's ``attrs`` (the
    provenance), which took 20 s over England's 33,755 LSOAs.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
    columns : sequence, optional
        Only these columns (by default every column but the geometry).

    Examples
    --------
    >>> row_records(pd.DataFrame({"code": ["E1"], "n": [3]}))
    [{'code': 'E1', 'n': 3}]
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    if columns is None:
        columns = [c for c in frame.columns if c != geometry]
    plain = pd.DataFrame(frame[list(columns)])
    plain.attrs = {}
    return plain.to_dict("records")

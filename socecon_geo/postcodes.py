r"""UK postcode parsing, normalising and validating.

A postcode is normalised by removing every kind of whitespace (including non-breaking
and zero-width spaces) and stray punctuation (``. , - _ / \`` and quotes), upper-casing
the ASCII letters, checking the result against the official UK format, and writing it in
the canonical form ``"OUTWARD INWARD"`` with exactly one space (``"B15 2TT"``).

The format checked is the one in the UK Government Data Standards Catalogue:

========  ===========  ==========================================================
outward   example      letters allowed
========  ===========  ==========================================================
A9        ``B1``       1st: any but Q, V, X
A99       ``B15``
AA9       ``CV1``      2nd: any but I, J, Z
AA99      ``WS10``
A9A       ``W1A``      3rd: A-H, J, K, P, S, T, U, W
AA9A      ``EC1A``     4th: A, B, E, H, M, N, P, R, V, W, X, Y
========  ===========  ==========================================================

The inward code is a digit and two letters other than C, I, K, M, O and V. The special
postcode ``GIR 0AA`` is accepted too. Characters are never substituted (a letter ``O``
typed for a zero stays an ``O``), so nothing invalid becomes valid; such postcodes are
reported as ``invalid_format``.

Everything here is vectorised: values are made unique first, processed with
PyArrow string kernels, and mapped back, so a million postcodes take a fraction of a
second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from typing import Any, Final, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from socecon_geo._errors import InputError
from socecon_geo._schema import CODE, POSTCODE_STATUS, POSTCODE_STATUSES

__all__ = [
    "POSTCODE_STATUSES",
    "ParsedPostcodes",
    "normalise_postcode",
    "normalise_postcodes",
    "parse_postcodes",
    "postcode_area",
    "postcode_district",
    "postcode_sector",
]


_VALID, _INVALID, _MISSING = 0, 1, 2

# Whitespace of every kind (RE2, used by PyArrow, matches only ASCII with ``\s``), zero
# width characters, and stray punctuation. Written out so both RE2 and Python agree.
_SEPARATORS: Final[str] = (
    "\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f"
    "\u2060\u3000\ufeff"
    ".,_/\\\\'\"`\u2018\u2019\u201a\u201b\u201c\u201d\u2010\u2011\u2012\u2013\u2014\u2212\\-"
)
_STRIP_PATTERN: Final[str] = f"[{_SEPARATORS}]+"

# Compact (space-free, upper-case) postcode, anchored. Inward letters exclude CIKMOV.
_OUTWARD: Final[str] = (
    "[A-PR-UWYZ](?:[0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][0-9]?|[A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INWARD: Final[str] = "[0-9][ABD-HJLNP-UW-Z]{2}"
_COMPACT_PATTERN: Final[str] = f"^(?:{_OUTWARD}{_INWARD}|GIR0AA)$"

# Compact forms that mean "no postcode" rather than a malformed one.
_PLACEHOLDERS: Final[frozenset[str]] = frozenset(
    {"NA", "NAN", "NONE", "NULL", "NIL", "UNKNOWN", "NOTKNOWN", "TBC", "TBA", "NOPOSTCODE"}
)


@dataclass(frozen=True)
class ParsedPostcodes:
    """Postcodes parsed once, as integer codes into their unique canonical values.

    This is the fast internal form shared by :func:`normalise_postcodes` and the
    geocoders: work is done once per distinct postcode and mapped back with ``take``.

    Attributes
    ----------
    index : pandas.Index
        Index of the input values (a ``RangeIndex`` for plain sequences).
    codes : numpy.ndarray
        For each input value, the position of its canonical postcode in ``canonical``,
        or -1 where it is not a valid postcode.
    status : numpy.ndarray
        For each input value, 0 (valid), 1 (invalid format) or 2 (missing); see
        :data:`POSTCODE_STATUSES`.
    canonical : pyarrow.Array
        The distinct canonical postcodes (``"B15 2TT"``), in order of first appearance.
    """

    index: pd.Index
    codes: np.ndarray
    status: np.ndarray
    canonical: pa.Array

    def normalised(self) -> pd.Series:
        """Return the canonical postcode of every input value (``string``, NA where not valid)."""
        strings = _take_strings(self.canonical, self.codes).astype(CODE)
        return pd.Series(strings, index=self.index)

    def statuses(self) -> pd.Series:
        """Return the ``postcode_status`` of every input value (a categorical)."""
        status = pd.Categorical.from_codes(self.status, dtype=POSTCODE_STATUS)
        return pd.Series(status, index=self.index)


def _take_strings(values: pa.Array, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Take ``values[positions]`` as a pandas string array; negative positions give NA."""
    indices = pa.array(positions, mask=positions < 0)
    return pd.array(values.take(indices), dtype="str")


def _as_series(values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.DataFrame):
        msg = (
            "postcodes must be one column of values, got a DataFrame with columns "
            f"{list(values.columns)}; pass one column, e.g. frame['postcode']."
        )
        raise InputError(msg)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        msg = (
            f"postcodes must be a sequence of values, got a single {type(values).__name__}; "
            "use normalise_postcode() for one value or wrap it in a list."
        )
        raise InputError(msg)
    if not isinstance(values, Sized):
        values = list(values)
    return pd.Series(values, copy=False)


def parse_postcodes(values: Any) -> ParsedPostcodes:
    """Parse postcodes into the fast internal :class:`ParsedPostcodes` form.

    Parameters
    ----------
    values : sequence of str
        A pandas Series (its index is kept), Index, NumPy array or list. Missing values
        (``None``, ``NaN``, ``pd.NA``) are allowed; non-text values are read as text.

    Returns
    -------
    ParsedPostcodes
    """
    series = _as_series(values)
    row_codes, text = _factorize(series)

    # Most values only need upper-casing and plain spaces removed; the full clean-up
    # (every whitespace and punctuation) runs on the rest only.
    upper = pc.ascii_upper(text)
    compact = pc.replace_substring(upper, " ", "")
    is_valid_np = _matches(compact, _COMPACT_PATTERN)
    if not is_valid_np.all():
        positions = np.flatnonzero(~is_valid_np)
        cleaned = pc.replace_substring_regex(upper.take(pa.array(positions)), _STRIP_PATTERN, "")
        compact = _scatter(compact, positions, cleaned)
        is_valid_np[positions] = _matches(cleaned, _COMPACT_PATTERN)
    is_missing = pc.or_(
        pc.equal(pc.utf8_length(compact), 0),
        pc.is_in(compact, value_set=pa.array(sorted(_PLACEHOLDERS), type=compact.type)),
    )
    is_missing_np = pc.fill_null(is_missing, True).to_numpy(zero_copy_only=False)
    unique_status = np.where(is_valid_np, _VALID, np.where(is_missing_np, _MISSING, _INVALID))

    # canonical form of the valid ones, then their own distinct values
    valid_compact = compact.filter(pa.array(is_valid_np))
    spaced = pc.utf8_replace_slice(valid_compact, start=-3, stop=-3, replacement=" ")
    if isinstance(spaced, pa.ChunkedArray):  # no values at all comes as an empty chunked array
        spaced = spaced.combine_chunks()
    encoded = pc.dictionary_encode(spaced)
    unique_to_canonical = np.full(len(unique_status), -1, dtype=np.intp)
    unique_to_canonical[is_valid_np] = encoded.indices.to_numpy(zero_copy_only=False)

    # map back to rows; row code -1 (missing value) picks the appended sentinel
    codes = np.append(unique_to_canonical, -1)[row_codes]
    status = np.append(unique_status, _MISSING).astype(np.int8)[row_codes]
    return ParsedPostcodes(series.index, codes, status, encoded.dictionary)


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    """Whether each value matches ``pattern`` (a writable NumPy bool array)."""
    found = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return np.array(found.to_numpy(zero_copy_only=False), dtype=bool)


def _scatter(values: pa.Array, positions: np.ndarray, replacements: pa.Array) -> pa.Array:
    """Return ``values`` with ``values[positions]`` replaced by ``replacements``."""
    order = np.arange(len(values))
    order[positions] = len(values) + np.arange(len(positions))
    combined = pa.concat_arrays([values, replacements.cast(values.type)])
    return combined.take(pa.array(order))


def _factorize(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Return (codes with -1 for missing values, distinct values as Arrow strings)."""
    text: pa.Array | pa.ChunkedArray | None = None
    if series.dtype == "str" or series.dtype == object:
        try:
            text = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            text = None  # mixed types: handled below
        if text is not None and not (
            pa.types.is_string(text.type) or pa.types.is_large_string(text.type)
        ):
            text = None
    if text is None:
        try:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
        except TypeError:  # unhashable values (lists, dicts): read each as text
            codes, uniques = pd.factorize(
                series.map(lambda value: value if value is None else str(value)),
                use_na_sentinel=True,
            )
        as_text = pd.Series(uniques, copy=False).astype("str")
        return codes.astype(np.intp), pa.array(as_text, type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.intp)
    return codes, encoded.dictionary


def normalise_postcodes(values: Any) -> pd.DataFrame:
    """Normalise and validate many UK postcodes at once.

    Parameters
    ----------
    values : sequence of str
        A pandas Series (its index is kept), Index, NumPy array or list of raw
        postcodes. Missing values are allowed.

    Returns
    -------
    pandas.DataFrame
        Aligned to the input (same index, same order), with columns

        ``postcode_normalised``
            the canonical postcode ``"OUTWARD INWARD"`` (e.g. ``"B15 2TT"``, dtype
            ``string``), or NA where the value is invalid or missing;
        ``postcode_status``
            ``"valid"``, ``"invalid_format"`` or ``"missing"`` (empty, only spaces or
            punctuation, or a placeholder such as ``"N/A"``, ``"none"``, ``"unknown"``,
            ``"TBC"``).

    Raises
    ------
    InputError
        If ``values`` is a single value or a DataFrame rather than one column.

    See Also
    --------
    normalise_postcode : the same for one value.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.Series([" b15 2tt", "CV1-5FB.", "B152TT", "B15 2T", None, "N/A"])
    >>> normalise_postcodes(raw)
      postcode_normalised postcode_status
    0             B15 2TT           valid
    1             CV1 5FB           valid
    2             B15 2TT           valid
    3                <NA>  invalid_format
    4                <NA>         missing
    5                <NA>         missing
    """
    parsed = parse_postcodes(values)
    return pd.DataFrame(
        {"postcode_normalised": parsed.normalised(), "postcode_status": parsed.statuses()},
        index=parsed.index,
    )


def normalise_postcode(value: Any) -> str | None:
    """Normalise one UK postcode.

    Parameters
    ----------
    value : str or None
        A raw postcode.

    Returns
    -------
    str or None
        The canonical postcode (``"B15 2TT"``), or ``None`` when ``value`` is missing
        or not a valid UK postcode.

    Examples
    --------
    >>> normalise_postcode("wv1  1lY")
    'WV1 1LY'
    >>> normalise_postcode("B15 2TO") is None  # inward letters never include O
    True
    """
    parsed = parse_postcodes([value])
    code = int(parsed.codes[0])
    return None if code < 0 else str(parsed.canonical[code].as_py())


@overload
def postcode_sector(postcodes: str | None) -> str | None: ...
@overload
def postcode_sector(postcodes: pd.Series) -> pd.Series: ...
def postcode_sector(postcodes: str | pd.Series | None) -> str | pd.Series | None:
    """Return the postcode sector: the outward code, a space, and the inward digit.

    Parameters
    ----------
    postcodes : str or pandas.Series
        Raw or canonical postcodes; they are normalised first.

    Returns
    -------
    str, None or pandas.Series
        ``"B15 2"`` for ``"B15 2TT"``; None/NaN where the postcode is not valid.

    Examples
    --------
    >>> postcode_sector("b152tt")
    'B15 2'
    """
    return _part(postcodes, _sector_of)


@overload
def postcode_district(postcodes: str | None) -> str | None: ...
@overload
def postcode_district(postcodes: pd.Series) -> pd.Series: ...
def postcode_district(postcodes: str | pd.Series | None) -> str | pd.Series | None:
    """Return the postcode district (the outward code).

    Parameters
    ----------
    postcodes : str or pandas.Series
        Raw or canonical postcodes; they are normalised first.

    Returns
    -------
    str, None or pandas.Series
        ``"B15"`` for ``"B15 2TT"``; None/NaN where the postcode is not valid.

    Examples
    --------
    >>> postcode_district("WS10 7NR")
    'WS10'
    """
    return _part(postcodes, _district_of)


@overload
def postcode_area(postcodes: str | None) -> str | None: ...
@overload
def postcode_area(postcodes: pd.Series) -> pd.Series: ...
def postcode_area(postcodes: str | pd.Series | None) -> str | pd.Series | None:
    """Return the postcode area (the leading letters).

    Parameters
    ----------
    postcodes : str or pandas.Series
        Raw or canonical postcodes; they are normalised first.

    Returns
    -------
    str, None or pandas.Series
        ``"B"`` for ``"B15 2TT"``, ``"CV"`` for ``"CV1 5FB"``; None/NaN where the
        postcode is not valid.

    Examples
    --------
    >>> postcode_area("cv1 5fb")
    'CV'
    """
    return _part(postcodes, _area_of)


def _sector_of(canonical: pa.Array) -> pa.Array:
    return pc.utf8_slice_codeunits(canonical, start=0, stop=-2)


def _district_of(canonical: pa.Array) -> pa.Array:
    return pc.utf8_slice_codeunits(canonical, start=0, stop=-4)


def _area_of(canonical: pa.Array) -> pa.Array:
    return pc.extract_regex(canonical, "^(?P<area>[A-Z]+)").field("area")


def _part(postcodes: Any, part: Callable[[pa.Array], pa.Array]) -> Any:
    scalar = isinstance(postcodes, str) or not isinstance(postcodes, Iterable)
    parsed = parse_postcodes([postcodes] if scalar else postcodes)
    result = _take_strings(part(parsed.canonical), parsed.codes)
    if scalar:
        first = result[0]
        return None if pd.isna(first) else str(first)
    return pd.Series(result, index=parsed.index, name=getattr(postcodes, "name", None))

"""Helpers for tabular inputs shared by the readers: area codes and CSV text.

Private to socecon_geo: :mod:`socecon_geo.deprivation`, :mod:`socecon_geo.areas` and
:mod:`socecon_geo.boundaries` clean area codes and read CSV files the same way
through these functions (headings are recognised by :mod:`socecon_geo._headings`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    "read_csv_text",
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

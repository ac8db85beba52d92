"""Joining the English Indices of Deprivation to organisations: :func:`attach_deprivation`.

Each organisation's LSOA code (of the index's vintage, converted through the ONS lookup
when it is of the other one) picks its row of the index; ``deprivation_status`` says what
happened to every row.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Literal, cast

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._schema import DEPRIVATION_STATUS, DEPRIVATION_STATUSES
from socecon_geo._tables import factorize_clean
from socecon_geo.deprivation import (
    _ID_COLUMNS,
    _LSOA_YEAR_VINTAGE,
    _VINTAGE_LSOA_YEAR,
    DOMAINS,
    PathOrFrame,
    _is_integer_column,
    read_deprivation,
)
from socecon_geo.geography import Geography, resolve_geography
from socecon_geo.lookups import convert_lsoa_codes
from socecon_geo.provenance import with_provenance

__all__ = ["DEPRIVATION_STATUSES", "attach_deprivation"]


def _as_index(table: PathOrFrame) -> pd.DataFrame:
    """Return a tidy, validated deprivation table from whatever the caller passed."""
    if isinstance(table, pd.DataFrame):
        if "lsoa_code" in table.columns and table.attrs.get("lsoa_vintage") in (2011, 2021):
            if table["lsoa_code"].duplicated().any():
                repeated = table.loc[table["lsoa_code"].duplicated(), "lsoa_code"].unique()[:5]
                msg = (
                    "the deprivation table has duplicate LSOA codes "
                    f"({', '.join(map(str, repeated))}); it must have one row per LSOA."
                )
                raise InputError(msg)
            return table
        return read_deprivation(table, vintage=table.attrs.get("vintage"))
    if isinstance(table, (str, os.PathLike)):
        return read_deprivation(table)
    msg = (
        "deprivation must be a table from read_deprivation()/fetch_deprivation(), a path to "
        f"an IoD file, or 'iod2025'/'iod2019'; got {type(table).__name__}."
    )
    raise InputError(msg)


_STATUS_CODES: dict[str, int] = {status: i for i, status in enumerate(DEPRIVATION_STATUSES)}


def _point_codes(points: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Clean codes of a column of ``points``, factorised (see :func:`factorize_clean`).

    Returns positions (-1 where there is no code, or no such column) and the distinct
    codes as an object array of str.
    """
    if column not in points.columns:
        return np.full(len(points), -1, dtype=np.intp), np.array([], dtype=object)
    keys, uniques = factorize_clean(points[column])
    return np.asarray(keys, dtype=np.intp), np.asarray(uniques, dtype=object)


def _default_columns(index: pd.DataFrame) -> list[str]:
    wanted = ["imd_score", "imd_rank", "imd_decile", *(f"{d}_decile" for d in DOMAINS)]
    return [c for c in wanted if c in index.columns]


def attach_deprivation(
    points: pd.DataFrame,
    deprivation: PathOrFrame | str = "iod2025",
    *,
    geography: Geography | None = None,
    lsoa_lookup: PathOrFrame | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Give every organisation the deprivation of the LSOA it lies in.

    Parameters
    ----------
    points : DataFrame or GeoDataFrame
        Organisations with an ``lsoa21_code`` and/or ``lsoa11_code`` column (as added by
        ``assign_areas``). It is not modified.
    deprivation : DataFrame, path, or {"iod2025", "iod2019"}, default "iod2025"
        A table from :func:`~socecon_geo.read_deprivation` or
        :func:`~socecon_geo.fetch_deprivation`, a path to an IoD file, or the name of an
        edition the geography holds (the bundled geography holds both, for all of
        England, offline; :func:`~socecon_geo.fetch_deprivation` downloads the official
        file instead).
    geography : Geography, optional
        Where a named edition and the default ``lsoa_lookup`` come from; by default the
        bundled one (:func:`~socecon_geo.load_geography`).
    lsoa_lookup : path or DataFrame, optional
        The ONS LSOA 2011 to 2021 lookup (see :func:`~socecon_geo.read_lsoa_lookup`); by
        default the geography's (England and Wales). Used when the points only carry
        LSOA codes of the other edition than the index (e.g. LSOA 2011 codes against
        IoD2025): unchanged and merged LSOAs are converted exactly; split ones cannot be
        placed without their location and are flagged ``"ambiguous_lsoa"``.
    columns : sequence of str, optional
        Tidy deprivation columns to attach. By default ``imd_score``, ``imd_rank``,
        ``imd_decile`` and the seven domain deciles (those the index has).

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``points`` (same type, index, row order and every row) with the chosen
        columns under their tidy names (e.g. ``imd_decile``, ``income_decile``; existing
        columns of those names are replaced), plus:

        * ``iod_vintage``: ``"iod2025"`` or ``"iod2019"``;
        * ``iod_lsoa_code``: the LSOA code, in the index's edition, used for the join;
        * ``deprivation_status``: ``"joined"``, ``"no_lsoa"`` (no LSOA code),
          ``"lsoa_not_in_index"`` (code unknown to the index or the lookup, e.g. a Welsh
          LSOA) or ``"ambiguous_lsoa"`` (a split LSOA 2011).

        Ranks and deciles are nullable integers (``Int64``); rows not joined hold NA.

    Raises
    ------
    InputError
        If ``points`` has no LSOA column; if its LSOA codes are of the other edition than
        the index and no lookup is available; if ``columns`` names a column the index
        lacks.

    Examples
    --------
    >>> import pandas as pd
    >>> iod = read_deprivation(pd.DataFrame({
    ...     "lsoa_code": ["E01000001", "E01000002"],
    ...     "imd_score": [8.7, 40.1], "imd_rank": [26525, 1203], "imd_decile": [8, 1],
    ... }), vintage="iod2025")
    >>> orgs = pd.DataFrame({"name": ["A", "B", "C"],
    ...                      "lsoa21_code": ["E01000002", None, "W01000001"]})
    >>> out = attach_deprivation(orgs, iod)
    >>> out[["name", "imd_decile", "deprivation_status"]]
      name  imd_decile deprivation_status
    0    A           1             joined
    1    B        <NA>            no_lsoa
    2    C        <NA>  lsoa_not_in_index
    """
    if not isinstance(points, pd.DataFrame):
        msg = f"points must be a DataFrame or GeoDataFrame, got {type(points).__name__}"
        raise InputError(msg)
    geo = resolve_geography(geography)
    if isinstance(deprivation, str) and deprivation.strip().lower() in _VINTAGE_LSOA_YEAR:
        index = geo._deprivation(deprivation.strip().lower())
    else:
        index = _as_index(deprivation)
    if lsoa_lookup is None:
        lsoa_lookup = geo._optional("lsoa_lookup")
    vintage = index.attrs.get("vintage") or _LSOA_YEAR_VINTAGE[index.attrs["lsoa_vintage"]]
    year = int(index.attrs["lsoa_vintage"])
    other_year = 2011 if year == 2021 else 2021
    own_col, other_col = f"lsoa{year % 100}_code", f"lsoa{other_year % 100}_code"

    if columns is None:
        chosen = _default_columns(index)
    else:
        chosen = list(dict.fromkeys(columns))
        unknown = [c for c in chosen if c not in index.columns or c == "lsoa_code"]
        if unknown:
            available = [c for c in index.columns if c != "lsoa_code"]
            msg = (
                f"columns {unknown} are not in the deprivation table; available: "
                f"{', '.join(available)}"
            )
            raise InputError(msg)

    if own_col not in points.columns and other_col not in points.columns:
        found = ", ".join(repr(str(c)) for c in list(points.columns)[:12]) or "no columns"
        msg = (
            f"points have no LSOA column: attach_deprivation needs '{own_col}' (or "
            f"'{other_col}' with lsoa_lookup=) but found {found}. Run assign_areas() on "
            "the geocoded organisations first, or add an LSOA code column."
        )
        raise InputError(msg)

    n = len(points)
    # Codes are handled once per distinct code: positions in ``vocabulary`` (-1: none).
    own_keys, vocabulary = _point_codes(points, own_col)
    other_keys, other_uniques = _point_codes(points, other_col)
    need = (own_keys < 0) & (other_keys >= 0)
    status = np.full(n, _STATUS_CODES["no_lsoa"], dtype=np.int8)
    keys = own_keys.copy()
    # assign_areas already tried to convert these and found a split LSOA it could not
    # resolve: they are ambiguous whatever lookup is passed here.
    method_col = f"{own_col.removesuffix('_code')}_method"
    if method_col in points.columns:
        method_keys, method_uniques = pd.factorize(points[method_col])
        hit = (pd.Series(method_uniques).astype("string") == "ambiguous_split").to_numpy(
            dtype=bool, na_value=False
        )
        ambiguous = np.append(hit, False)[method_keys]
        status[need & ambiguous] = _STATUS_CODES["ambiguous_lsoa"]
        need &= ~ambiguous
    if need.any():
        if lsoa_lookup is None:
            msg = (
                f"{int(need.sum())} of {n} organisations have only an LSOA {other_year} code "
                f"('{other_col}') but the deprivation index ({vintage}) is on LSOA {year}; "
                f"joining them would match nothing. Pass lsoa_lookup= (the ONS LSOA 2011 to "
                f"2021 lookup) to convert the codes, or use the IoD edition on LSOA "
                f"{other_year} ({_LSOA_YEAR_VINTAGE[other_year]})."
            )
            raise InputError(msg)
        # convert each distinct code once, then spread the results to the rows
        distinct, row_of = np.unique(other_keys[need], return_inverse=True)
        converted = convert_lsoa_codes(
            pd.Series(other_uniques[distinct], dtype=object),
            lsoa_lookup,
            to=cast(Literal[2021, 2011], year),
        )
        new_codes = converted[own_col].to_numpy(dtype=object, na_value=None)
        kinds = converted["conversion"].to_numpy(dtype=object)
        new_keys = np.where(
            pd.isna(new_codes), -1, len(vocabulary) + np.arange(len(new_codes))
        ).astype(np.intp)
        vocabulary = np.concatenate([vocabulary, new_codes])
        keys[need] = new_keys[row_of]
        new_status = np.where(
            kinds == "ambiguous",
            _STATUS_CODES["ambiguous_lsoa"],
            np.where(
                kinds == "not_in_lookup",
                _STATUS_CODES["lsoa_not_in_index"],
                _STATUS_CODES["no_lsoa"],
            ),
        ).astype(np.int8)
        status[need] = new_status[row_of]
    has_key = keys >= 0

    table = index.set_index("lsoa_code")
    in_table = table.index.get_indexer(pd.Index(vocabulary, dtype=object))
    positions = np.append(in_table, -1)[keys]
    status[has_key & (positions >= 0)] = _STATUS_CODES["joined"]
    status[has_key & (positions < 0)] = _STATUS_CODES["lsoa_not_in_index"]

    # Each column is taken from the table by position; -1 (no row) takes the appended
    # missing value.
    out = points.copy()
    for column in chosen:
        values = table[column]
        if _is_integer_column(column):
            data = np.append(values.to_numpy(dtype="int64", na_value=0), 0)[positions]
            mask = np.append(values.isna().to_numpy(), True)[positions]
            out[column] = pd.arrays.IntegerArray(data, mask)
        elif column in _ID_COLUMNS:
            strings = pd.array(values.to_numpy(dtype=object, na_value=None), dtype="string")
            out[column] = strings.take(positions, allow_fill=True)
        else:
            floats = values.to_numpy(dtype="float64", na_value=np.nan)
            out[column] = np.append(floats, np.nan)[positions]
    out["iod_vintage"] = pd.array([vintage], dtype="string").take(np.zeros(n, dtype=np.intp))
    out["iod_lsoa_code"] = pd.array(vocabulary, dtype="string").take(keys, allow_fill=True)
    out["deprivation_status"] = pd.Categorical.from_codes(status, dtype=DEPRIVATION_STATUS)
    out.attrs = copy.deepcopy(points.attrs)
    with_provenance(out, index)
    return out

"""The Co-operatives UK economy file: turnover, members and employees by economic year.

The Co-operatives UK open data extract of 2016 ships its money and people measures in a
second file (``2016open_data_economy_final.csv``): one row per organisation and
``Economic Year`` (2011–2016) with ``Turnover``, ``Profit before tax``,
``Member/Shareholder Funds``, ``Memberships`` and ``Employees``.
:func:`~socecon_geo.read_organisations` joins it on the identifier when given
``economy=``.
"""

from __future__ import annotations

import contextlib
from os import PathLike
from typing import Any, Final

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError, Problems
from socecon_geo._headings import heading_key
from socecon_geo._tables import shown
from socecon_geo.provenance import Provenance
from socecon_geo.registers._files import _open_table
from socecon_geo.registers._rows import _read_rows
from socecon_geo.registers.columns import _as_number, _as_text, _listed, _whole_years

ECONOMY_ID: Final = "CUK Organisation ID"
ECONOMY_YEAR: Final = "Economic Year"
ECONOMY_MEASURES: Final[dict[str, str]] = {
    "income": "Turnover",
    "employees": "Employees",
    "members": "Memberships",
}
"""Schema column → heading of the economy file that fills it."""

_REQUIRED: Final = (ECONOMY_ID, ECONOMY_YEAR, *ECONOMY_MEASURES.values())
_EXAMPLES: Final = 5


def provenance(source: str | None) -> Provenance:
    """Return the provenance record of a Co-operatives UK economy file."""
    return Provenance(
        name="coopsuk_economy",
        title="Co-operatives UK open data: turnover, members and employees by economic year",
        publisher="Co-operatives UK",
        vintage="2016",
        licence="not stated in the copy read (published by Co-operatives UK as open data)",
        attribution="Co-operatives UK open data (economic data, 2016 extract)",
        url="https://www.uk.coop/resources/open-data",
        source=source,
    )


def _examples(rows: np.ndarray, values: pd.Series, mask: np.ndarray) -> str:
    where = np.flatnonzero(mask)
    text = ", ".join(f"{rows[i]}: {shown(values.iloc[i])}" for i in where[:_EXAMPLES])
    extra = len(where) - _EXAMPLES
    return text + (f" and {extra:,} more" if extra > 0 else "")


def read_economy(source: str | PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a Co-operatives UK economy file into one row per organisation and year.

    Returns a frame with ``org_id`` (``coopsuk:<CUK Organisation ID>``), ``economy_year``
    (``Int64``), ``income`` (turnover), ``employees``, ``members`` (``float64``) and
    ``economy_row`` (the file's 1-based data row). Rows without an identifier or a year
    are kept with missing values (they join nothing).

    Raises
    ------
    InputError
        The file lacks a required heading, or a year or measure is not a number
        (naming the column and the rows).
    """
    expected = frozenset(heading_key(h) for h in _REQUIRED)
    with contextlib.ExitStack() as stack:
        table = _open_table(source, encoding=None, sheet_name=0, stack=stack, expected=expected)
        missing = [h for h in _REQUIRED if h not in table.headings]
        if missing:
            msg = (
                f"{table.label} is not a Co-operatives UK economy file: it lacks the "
                f"heading(s) {', '.join(map(repr, missing))}; its headings are "
                f"{_listed(table.headings)}. Pass the extract's "
                f"'2016open_data_economy_final.csv' (or a file with those headings)"
            )
            raise InputError(msg)
        rows = _read_rows(table)
    raw = rows.frame
    problems = Problems(f"reading the economy file {table.label}")
    ids = _as_text(raw[ECONOMY_ID])
    out = pd.DataFrame(index=raw.index)
    out["org_id"] = ("coopsuk:" + ids).astype("string")
    years, _, _ = _as_number(raw[ECONOMY_YEAR])
    whole = _whole_years(years)
    not_year = (_as_text(raw[ECONOMY_YEAR]).notna() & whole.isna()).to_numpy(bool)
    if not_year.any():
        problems.add(
            f"column {ECONOMY_YEAR!r} holds values that are not years: source_row "
            f"{_examples(rows.rows, raw[ECONOMY_YEAR], not_year)}"
        )
    out["economy_year"] = whole
    for name, heading in ECONOMY_MEASURES.items():
        values, _, ambiguous = _as_number(raw[heading])
        bad = (_as_text(raw[heading]).notna() & values.isna()).to_numpy(bool) | ambiguous
        if bad.any():
            problems.add(
                f"column {heading!r} holds values that are not numbers: source_row "
                f"{_examples(rows.rows, raw[heading], bad)}"
            )
        out[name] = values
    problems.raise_if_any(InputError, hint="Correct these values in the file, or blank them.")
    out["economy_row"] = pd.array(rows.rows, dtype="Int64")
    out.attrs = {"source": table.label, "rows_read": rows.rows_read}
    return out


def join_economy(
    organisations: pd.DataFrame, economy: pd.DataFrame, *, year: int | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fill ``income``, ``employees``, ``members`` and ``economy_year`` from ``economy``.

    ``year=None`` takes each organisation's latest economic year; a year takes that year
    (organisations without it get missing measures). Returns the new frame and a summary
    for ``attrs["economy"]``.
    """
    known = economy[economy["org_id"].notna() & economy["economy_year"].notna()]
    years = sorted(int(y) for y in known["economy_year"].unique())
    label = economy.attrs.get("source", "the economy file")
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, int | np.integer):
            msg = f"economy_year must be a whole year such as 2016, got {year!r}"
            raise InputError(msg)
        if int(year) not in years:
            listed = ", ".join(map(str, years)) if years else "none"
            msg = (
                f"economy_year={year} is not in {label}: its economic years are {listed}. "
                f"Pass one of them, or economy_year=None for each organisation's latest year"
            )
            raise InputError(msg)
    ids = set(organisations["org_id"].dropna())
    matched = known[known["org_id"].isin(ids)]
    repeated = matched[matched.duplicated(["org_id", "economy_year"], keep=False)]
    if not repeated.empty:
        listed = "; ".join(
            f"{org_id} {int(y)} (source_row {', '.join(map(str, group['economy_row']))})"
            for (org_id, y), group in list(repeated.groupby(["org_id", "economy_year"]))[:5]
        )
        msg = (
            f"{label} has more than one row for an organisation and economic year: {listed}. "
            f"Keep one row per organisation and year"
        )
        raise InputError(msg)
    if year is None:
        chosen = matched.sort_values(["org_id", "economy_year"]).drop_duplicates(
            "org_id", keep="last"
        )
    else:
        chosen = matched[matched["economy_year"] == int(year)]
    chosen = chosen.set_index("org_id")
    out = organisations.copy()
    for name in (*ECONOMY_MEASURES, "economy_year"):
        mapped = out["org_id"].map(chosen[name])
        out[name] = mapped.astype(organisations[name].dtype)
    in_file = out["org_id"].isin(set(matched["org_id"]))
    with_year = out["org_id"].isin(set(chosen.index))
    summary = {
        "source": label,
        "year": "latest" if year is None else int(year),
        "years": years,
        "rows_read": int(economy.attrs.get("rows_read", len(economy))),
        "joined": int(with_year.sum()),
        "without_year": int((in_file & ~with_year).sum()),
        "not_in_economy": int((~in_file).sum()),
        "economy_ids_not_in_register": int(
            known.loc[~known["org_id"].isin(ids), "org_id"].nunique()
        ),
    }
    return out, summary

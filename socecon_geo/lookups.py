"""The ONS LSOA 2011 ↔ 2021 lookup and the LSOA 2021 → ward → LAD best-fit lookup.

One reader and one converter serve every step: :func:`read_lsoa_lookup` reads the ONS
lookup (official or snake-case headings, see :mod:`socecon_geo._headings`), and
:class:`LsoaLookup` holds it with each LSOA 2011's route to 2021 — unchanged, merged,
split or irregular (change code X). :func:`convert_lsoa_codes` (used by
:func:`socecon_geo.attach_deprivation`) and :func:`socecon_geo.assign_areas` both convert
through it, so a lookup means the same whether it is passed as a path or a DataFrame.
:func:`prepare_area_lookup` reads the best-fit lookup that takes LSOA 2021 codes to wards
and authorities.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from socecon_geo import datasets
from socecon_geo._errors import InputError
from socecon_geo._headings import find_area_columns, standardise_columns
from socecon_geo._tables import as_table, clean_codes, clean_text, factorize_clean, read_csv_text
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

__all__ = [
    "LSOA_METHODS",
    "LsoaLookup",
    "area_lookup_provenance",
    "convert_lsoa_codes",
    "prepare_area_lookup",
    "prepare_lsoa_lookup",
    "read_lsoa_lookup",
]

PathOrFrame: TypeAlias = str | os.PathLike[str] | pd.DataFrame

_LOOKUP_COLUMNS: tuple[str, ...] = (
    "lsoa11_code",
    "lsoa11_name",
    "lsoa21_code",
    "lsoa21_name",
    "change_code",
    "lad_code",
    "lad_name",
)

LSOA_METHODS: tuple[str, ...] = (
    "lsoa11_lookup_unchanged",
    "lsoa11_lookup_merged",
    "lsoa11_lookup_complex",
    "split",
)
"""How an LSOA 2011 reaches LSOA 2021 in :attr:`LsoaLookup.forward` (``split``: several)."""


def read_lsoa_lookup(path_or_frame: PathOrFrame) -> pd.DataFrame:
    """Read the ONS LSOA 2011 to LSOA 2021 lookup.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        The ONS "LSOA (2011) to LSOA (2021) to Local Authority District (2022)" lookup,
        as CSV or a DataFrame. Official (``LSOA11CD``, ``LSOA21CD``, ``CHGIND``,
        ``LAD22CD``) and snake-case (``lsoa11_code``, ``change_code``, ``ltla22_code``)
        headings are recognised, in any letter case.

    Returns
    -------
    pandas.DataFrame
        ``lsoa11_code``, ``lsoa21_code`` and, where present, ``lsoa11_name``,
        ``lsoa21_name``, ``change_code`` (U unchanged, S split, M merged, X irregular),
        ``lad_code``, ``lad_name``; one row per (LSOA 2011, LSOA 2021) pair.

    Raises
    ------
    InputError
        If the file is missing or lacks either code column.

    Examples
    --------
    >>> import pandas as pd
    >>> lookup = read_lsoa_lookup(pd.DataFrame({
    ...     "LSOA11CD": ["E01000001", "E01000002", "E01000002"],
    ...     "LSOA21CD": ["E01000001", "E01035001", "E01035002"],
    ...     "CHGIND": ["U", "S", "S"],
    ... }))
    >>> list(lookup.columns)
    ['lsoa11_code', 'lsoa21_code', 'change_code']
    """
    if isinstance(path_or_frame, pd.DataFrame):
        table, label = path_or_frame, "LSOA lookup (DataFrame)"
    elif isinstance(path_or_frame, (str, os.PathLike)):
        table = read_csv_text(path_or_frame, "LSOA lookup")
        label = f"LSOA lookup '{Path(path_or_frame).name}'"
    else:
        msg = f"lsoa_lookup must be a path or a DataFrame, got {type(path_or_frame).__name__}"
        raise InputError(msg)
    found = find_area_columns(table.columns, _LOOKUP_COLUMNS)
    mapping = {tidy: column for tidy, (column, _) in found.items()}
    lad_year = found["lad_code"][1] if "lad_code" in found else None
    missing = [c for c in ("lsoa11_code", "lsoa21_code") if c not in mapping]
    if missing:
        shown = ", ".join(repr(str(c)) for c in table.columns[:12])
        msg = (
            f"{label} lacks the column(s) {', '.join(missing)} (official names LSOA11CD / "
            f"LSOA21CD); found {shown}. Pass the ONS 'LSOA (2011) to LSOA (2021) to LAD "
            "(2022)' lookup."
        )
        raise InputError(msg)
    order = [t for t in _LOOKUP_COLUMNS if t in mapping]
    out = pd.DataFrame({tidy: table[mapping[tidy]] for tidy in order})
    for column in out.columns:
        out[column] = clean_text(out[column], upper=column.endswith("_code"))
    out = out.dropna(subset=["lsoa11_code", "lsoa21_code"]).reset_index(drop=True)
    out.attrs = {"lad_vintage": lad_year, "source": label}
    known = get_provenance(table)
    return with_provenance(
        out,
        known
        or datasets.ons_record(
            "lsoa11_lsoa21_lookup",
            "LSOA (2011) to LSOA (2021) to Local Authority District lookup",
            vintage=f"LSOA 2011 to 2021, LAD {lad_year}" if lad_year else "LSOA 2011 to 2021",
            source=label,
        ),
    )


@dataclass
class LsoaLookup:
    """The LSOA 2011 → 2021 links of a lookup read by :func:`read_lsoa_lookup`.

    ``forward`` has one row per (LSOA 2011, LSOA 2021) link with its ``method`` (one of
    :data:`LSOA_METHODS`: several targets make a ``split``, several sources a merge,
    change code X an irregular ``complex`` change) and ``n_targets``; ``backward`` maps
    each LSOA 2021 with a single LSOA 2011 source back to it.
    """

    frame: pd.DataFrame  # lsoa11_code, lsoa21_code, change_code, [lad_code, lad_name]

    @cached_property
    def _links(self) -> tuple[pd.DataFrame, pd.Series]:
        links = self.frame[["lsoa11_code", "lsoa21_code", "change_code"]].drop_duplicates(
            ["lsoa11_code", "lsoa21_code"]
        )
        targets = links.groupby("lsoa11_code")["lsoa21_code"].transform("size")
        sources = links.groupby("lsoa21_code")["lsoa11_code"].transform("size")
        change = links["change_code"].fillna("").str.upper()
        method = np.select(
            [
                (targets > 1).to_numpy(),
                (sources > 1).to_numpy(),
                (change == "X").to_numpy(),
            ],
            ["split", "lsoa11_lookup_merged", "lsoa11_lookup_complex"],
            default="lsoa11_lookup_unchanged",
        )
        forward = links.assign(method=method, n_targets=targets.to_numpy())
        unique_back = links[(sources == 1).to_numpy()]
        backward = pd.Series(
            unique_back["lsoa11_code"].to_numpy(),
            index=unique_back["lsoa21_code"].to_numpy(),
            dtype="string",
        )
        return forward, backward

    @property
    def forward(self) -> pd.DataFrame:
        """One row per link: ``lsoa11_code``, ``lsoa21_code``, ``method``, ``n_targets``."""
        return self._links[0]

    @property
    def backward(self) -> pd.Series:
        """LSOA 2021 → its LSOA 2011, for LSOAs 2021 with a single source."""
        return self._links[1]

    def targets(self, to: Literal[2021, 2011]) -> dict[str, tuple[str, ...]]:
        """Map each code of the other edition to its codes in edition ``to``, in row order."""
        source, target = (
            ("lsoa11_code", "lsoa21_code") if to == 2021 else ("lsoa21_code", "lsoa11_code")
        )
        pairs = self.frame[[source, target]].drop_duplicates()
        found: dict[str, list[Any]] = {}
        for code, value in zip(
            pairs[source].to_numpy(dtype=object), pairs[target].to_numpy(dtype=object), strict=True
        ):
            found.setdefault(code, []).append(value)
        return {code: tuple(values) for code, values in found.items()}


def prepare_lsoa_lookup(lookup: PathOrFrame | LsoaLookup) -> LsoaLookup:
    """Read an LSOA 2011 → 2021 lookup (path or DataFrame) into an :class:`LsoaLookup`."""
    if isinstance(lookup, LsoaLookup):
        return lookup
    what = "the LSOA 2011 → 2021 lookup (lsoa_lookup=)"
    table = read_lsoa_lookup(lookup)
    frame = table[["lsoa11_code", "lsoa21_code"]].copy()
    frame["change_code"] = (
        table["change_code"].astype("string")
        if "change_code" in table.columns
        else pd.array([pd.NA] * len(table), dtype="string")
    )
    for column in ("lad_code", "lad_name"):
        if column in table.columns:
            frame[column] = table[column].astype("string")
    frame = frame.reset_index(drop=True)
    if frame.empty:
        msg = f"{what} has no rows with both an LSOA 2011 and an LSOA 2021 code."
        raise InputError(msg)
    return LsoaLookup(with_provenance(frame, table))


def prepare_area_lookup(
    lookup: pd.DataFrame | str | os.PathLike[str], argument: str = "area_lookup"
) -> pd.DataFrame:
    """Read the LSOA 2021 → ward → LAD best-fit lookup: one row per LSOA 2021.

    Returns ``lsoa21_code`` and whichever of ``ward_code``, ``ward_name``, ``lad_code``,
    ``lad_name`` the lookup has (official headings such as ``WD24CD`` recognised).
    """
    what = f"the LSOA 2021 → ward best-fit lookup ({argument}=)"
    raw = as_table(lookup, what)
    table = standardise_columns(
        raw,
        ["lsoa21_code", "ward_code", "ward_name", "lad_code", "lad_name", "lsoa11_code"],
    )
    if "lsoa21_code" not in table.columns:
        if "lsoa11_code" in table.columns:
            msg = (
                f"LSOA vintage mismatch: {what} is keyed by LSOA 2011 codes; pass the "
                "ONS LSOA (2021) to ward best-fit lookup."
            )
        else:
            columns = ", ".join(map(str, table.columns))
            msg = f"{what} has no 'lsoa21_code' column (nor 'LSOA21CD'); it has {columns}."
        raise InputError(msg)
    if "ward_code" not in table.columns and "lad_code" not in table.columns:
        msg = f"{what} has neither a ward code nor an authority code column."
        raise InputError(msg)
    keep = [c for c in ("ward_code", "ward_name", "lad_code", "lad_name") if c in table]
    frame = pd.DataFrame({c: table[c].astype("string").to_numpy() for c in keep})
    frame.insert(0, "lsoa21_code", clean_codes(table["lsoa21_code"]).to_numpy())
    for column in ("ward_code", "lad_code"):
        if column in frame.columns:
            frame[column] = clean_codes(frame[column])
    frame = frame.dropna(subset=["lsoa21_code"]).drop_duplicates("lsoa21_code")
    return with_provenance(frame, area_lookup_provenance(raw, lookup))


def area_lookup_provenance(
    table: pd.DataFrame, lookup: pd.DataFrame | str | os.PathLike[str]
) -> tuple[Provenance, ...]:
    """Return the records of a best-fit lookup: its own, else the ONS lookup's."""
    known = get_provenance(table)
    if known:
        return known
    ward = find_area_columns(table.columns, ["ward_code"]).get("ward_code")
    record = datasets.ons_record(
        "lsoa21_ward_lad_bestfit",
        "LSOA (2021) to electoral ward to Local Authority District best-fit lookup",
        vintage=f"wards {ward[1]}" if ward and ward[1] else "unknown",
        source="DataFrame" if isinstance(lookup, pd.DataFrame) else str(lookup),
    )
    return (record,)


def convert_lsoa_codes(
    codes: Sequence[Any] | pd.Series,
    lookup: PathOrFrame,
    *,
    to: Literal[2021, 2011] = 2021,
) -> pd.DataFrame:
    """Convert LSOA codes between the 2011 and 2021 editions with the ONS lookup.

    An LSOA that was unchanged (U) or merged into a bigger one (M) maps to exactly one
    code and is converted. One that was split (S) maps to several and cannot be converted
    without its location: it is flagged ``"ambiguous"`` with its candidates listed, never
    guessed.

    Parameters
    ----------
    codes : sequence or Series
        LSOA codes of the other edition; missing values are allowed.
    lookup : path or DataFrame
        The ONS LSOA 2011 to 2021 lookup (see :func:`read_lsoa_lookup`).
    to : {2021, 2011}
        The edition to convert to.

    Returns
    -------
    pandas.DataFrame
        Same length and index as ``codes`` (a RangeIndex for plain sequences), with
        ``lsoa{yy}_code`` (the converted code, NA unless unique), ``conversion``
        (``"unchanged"``, ``"converted"``, ``"ambiguous"``, ``"not_in_lookup"`` or
        ``"missing"``) and ``candidates`` (every possible code, as a tuple).

    Examples
    --------
    >>> import pandas as pd
    >>> lookup = pd.DataFrame({
    ...     "lsoa11_code": ["E01000001", "E01000002", "E01000002", "E01000003", "E01000004"],
    ...     "lsoa21_code": ["E01000001", "E01035001", "E01035002", "E01035003", "E01035003"],
    ... })
    >>> convert_lsoa_codes(["E01000001", "E01000002", "E01000003", None], lookup)
      lsoa21_code     conversion                candidates
    0   E01000001      unchanged              (E01000001,)
    1        <NA>      ambiguous  (E01035001, E01035002)
    2   E01035003      converted              (E01035003,)
    3        <NA>        missing                        ()
    """
    if to not in (2021, 2011):
        msg = f"to must be 2021 or 2011, got {to!r}"
        raise InputError(msg)
    target = "lsoa21_code" if to == 2021 else "lsoa11_code"
    mapping = prepare_lsoa_lookup(lookup).targets(to)
    series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    # Convert each distinct code once; the last entry is for missing codes (key -1).
    keys, uniques = factorize_clean(series)
    converted: list[Any] = []
    status: list[str] = []
    candidates = np.empty(len(uniques) + 1, dtype=object)
    for i, code in enumerate(np.asarray(uniques, dtype=object)):
        options = mapping.get(code)
        if options is None:
            converted.append(pd.NA)
            status.append("not_in_lookup")
            candidates[i] = ()
        elif len(options) == 1:
            converted.append(options[0])
            status.append("unchanged" if options[0] == code else "converted")
            candidates[i] = options
        else:
            converted.append(pd.NA)
            status.append("ambiguous")
            candidates[i] = options
    converted.append(pd.NA)
    status.append("missing")
    candidates[-1] = ()
    out = pd.DataFrame(
        {
            target: pd.array(converted, dtype="string").take(keys),
            "conversion": pd.array(status, dtype="string").take(keys),
            "candidates": candidates[keys],
        },
        index=series.index,
    )
    return out

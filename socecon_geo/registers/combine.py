"""Combining registers: stacking them and marking duplicates (never dropping a row)."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError, Problems
from socecon_geo.provenance import with_provenance
from socecon_geo.registers.columns import (
    _LOOSE_POSTCODE,
    _STRING,
    _TYPE_DTYPE,
    ORGANISATION_COLUMNS,
    REGISTER_PRECEDENCE,
    _as_text,
    _name_key,
    _normalise_charity_number,
    _normalise_company_number,
    _postcode_key,
)

__all__ = [
    "combine_registers",
]


_INFO_FIELDS: Final = (
    "name",
    "postcode",
    "address",
    "sic_code",
    "sector",
    "income",
    "employees",
    "company_number",
    "charity_number",
)


def _components(n: int, edges: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Connected-component label (smallest member position) of each of ``n`` nodes."""
    labels = np.arange(n)
    if not edges:
        return labels
    a = np.concatenate([e[0] for e in edges])
    b = np.concatenate([e[1] for e in edges])
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def _key_edges(
    key: pd.Series, source: np.ndarray, *, within: bool
) -> tuple[np.ndarray, np.ndarray]:
    mask = key.notna().to_numpy(bool)
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return positions, positions
    codes = pd.factorize(key[mask])[0]
    frame = pd.DataFrame({"code": codes, "pos": positions, "source": source[mask]})
    grouped = frame.groupby("code")["source"]
    eligible = (grouped.transform("size") > 1).to_numpy(bool)
    if not within:
        eligible = eligible & (grouped.transform("nunique") > 1).to_numpy(bool)
    frame = frame[eligible]
    first = frame.groupby("code")["pos"].transform("min").to_numpy()
    return frame["pos"].to_numpy(), first


def combine_registers(*frames: pd.DataFrame, match_within_sources: bool = False) -> pd.DataFrame:
    """Stack organisations read from several registers and mark duplicates.

    All rows are kept (a fresh :class:`~pandas.RangeIndex`). Records of the same
    organisation in different sources are linked when they share a company number
    (normalised: upper case, zero-padded to 8 characters), a charity number, or the
    same normalised name (casefolded, ``&`` → ``and``, punctuation and the words
    ``the``, ``limited``, ``ltd``, ``plc``, ``llp``, ``cic``, ``cio``, ``community
    interest company`` removed) *and* the same postcode key (upper case, no spaces, UK
    postcode shape). Links are followed transitively. In each linked group one record is
    kept — the first by register precedence :data:`REGISTER_PRECEDENCE` (``ccew`` >
    ``companies_house`` > ``coopsuk`` > ``generic``), then by the number of filled
    schema fields, then by position — and the others get ``duplicate_of`` = its
    ``org_id`` and ``duplicate_reason`` = ``company_number``, ``charity_number``,
    ``name_postcode`` (what they share with the kept record) or ``indirect`` (linked
    through another record). Earlier ``duplicate_of`` values are recomputed.

    Parameters
    ----------
    *frames : pandas.DataFrame
        Results of :func:`read_organisations`.
    match_within_sources : bool, default False
        Also link records of the same source (same frame argument, ``source_register``
        and ``source_file``), e.g. repeated rows in one file. By default only records
        from different sources are linked.

    Returns
    -------
    pandas.DataFrame
        The rows of every frame, in order, with ``duplicate_of`` and
        ``duplicate_reason`` set; ``attrs["duplicates"]`` counts the duplicates and
        ``attrs["provenance"]`` holds the records of every frame.

    Raises
    ------
    InputError
        If a frame lacks the schema columns, or ``org_id`` values repeat (they must
        identify records uniquely for ``duplicate_of`` to mean anything).

    Examples
    --------
    >>> import pandas as pd
    >>> from socecon_geo import read_organisations
    >>> a = read_organisations(
    ...     pd.DataFrame({"name": ["Ladywood Bakers Ltd"], "postcode": ["B16 8AA"]})
    ... )
    >>> b = read_organisations(
    ...     pd.DataFrame({"id": ["X1"], "name": ["The Ladywood Bakers"], "postcode": ["b168aa"]})
    ... )
    >>> both = combine_registers(a, b)
    >>> both[["org_id", "duplicate_of", "duplicate_reason"]]
          org_id duplicate_of duplicate_reason
    0      row:1         <NA>             <NA>
    1  generic:X1        row:1    name_postcode
    """
    if not frames:
        msg = "combine_registers needs at least one frame from read_organisations"
        raise InputError(msg)
    problems = Problems("combine_registers")
    for number, frame in enumerate(frames, start=1):
        if not isinstance(frame, pd.DataFrame):
            problems.add(f"argument {number} is a {type(frame).__name__}, not a DataFrame")
            continue
        missing = [c for c in ORGANISATION_COLUMNS if c not in frame.columns]
        if missing:
            problems.add(
                f"frame {number} lacks the schema column(s) {', '.join(map(repr, missing))}"
            )
    problems.raise_if_any(InputError, hint="Read each register with read_organisations first.")
    combined = pd.concat([f.reset_index(drop=True) for f in frames], ignore_index=True)
    extra = [c for c in combined.columns if c not in ORGANISATION_COLUMNS]
    combined = combined[[*ORGANISATION_COLUMNS, *extra]]
    combined["org_type"] = combined["org_type"].astype(object).astype(_TYPE_DTYPE)
    for name in ("duplicate_of", "duplicate_reason"):
        combined[name] = pd.Series(pd.NA, index=combined.index, dtype=_STRING)
    org_id = _as_text(combined["org_id"])
    repeated = org_id[org_id.duplicated(keep=False) | org_id.isna()]
    if len(repeated):
        examples = ", ".join(repr(v) for v in repeated.drop_duplicates().head(5).tolist())
        msg = (
            f"combine_registers: org_id must be unique across the frames, but {len(repeated)} "
            f"rows share or lack one (e.g. {examples}); files read without an id column all "
            f"number their rows 'row:<n>', so give each its own, e.g. "
            f"frame.assign(org_id='mylist:' + frame['org_id'])"
        )
        raise InputError(msg)

    n = len(combined)
    if n == 0:
        combined.attrs = {"duplicates": 0, "sources": 0}
        return with_provenance(combined, *frames)
    frame_number = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    source = pd.factorize(
        pd.Series(frame_number.astype(str), dtype=_STRING)
        + "|"
        + _as_text(combined["source_register"]).fillna("")
        + "|"
        + _as_text(combined["source_file"]).fillna("")
    )[0]
    company = _normalise_company_number(combined["company_number"])
    charity = _normalise_charity_number(combined["charity_number"])
    postcode = _postcode_key(combined["postcode"])
    postcode = postcode.where(postcode.str.fullmatch(_LOOSE_POSTCODE).fillna(False))
    name_postcode = _name_key(combined["name"]) + "|" + postcode
    keys = {"company_number": company, "charity_number": charity, "name_postcode": name_postcode}
    edges = [_key_edges(k, source, within=match_within_sources) for k in keys.values()]
    labels = _components(n, edges)

    register = _as_text(combined["source_register"]).fillna("generic")
    precedence = register.map({r: i for i, r in enumerate(REGISTER_PRECEDENCE)}).fillna(
        len(REGISTER_PRECEDENCE)
    )
    info = combined[list(_INFO_FIELDS)].notna().sum(axis=1).to_numpy()
    order = np.lexsort((np.arange(n), -info, precedence.to_numpy(float), labels))
    sorted_labels = labels[order]
    first_of_group = np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]
    kept_of_label = np.empty(n, dtype=np.int64)
    kept_of_label[sorted_labels[first_of_group]] = order[first_of_group]
    kept = kept_of_label[labels]
    duplicate = kept != np.arange(n)

    if duplicate.any():
        rows = np.flatnonzero(duplicate)
        reason = np.full(rows.size, "indirect", dtype=object)
        for key_name in reversed(list(keys)):
            values = keys[key_name].to_numpy(dtype=object, na_value=None)
            mine, theirs = values[rows], values[kept[rows]]
            same = pd.notna(mine) & (mine == theirs)
            reason[same] = key_name
        combined.loc[rows, "duplicate_of"] = org_id.to_numpy(dtype=object)[kept[rows]]
        combined.loc[rows, "duplicate_reason"] = reason
    combined.attrs = {"duplicates": int(duplicate.sum()), "sources": int(source.max() + 1)}
    # each register's own records travel on (pd.concat would keep attrs only if equal)
    return with_provenance(combined, *frames)

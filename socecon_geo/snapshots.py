"""Two snapshots of one register compared: continuing, new and gone, by area.

:func:`compare_snapshots` takes two extracts of one register (e.g. Co-operatives UK 2016
and 2023) in the organisation schema, with area codes from
:func:`socecon_geo.assign_areas`, and gives every organisation of both exactly once,
``continuing``, ``new`` or ``gone`` (``change_status``), matched on the identifier, then
the registered number, then the name and postcode; by area, with the money measure's
change for the continuing ones. Births, deaths and the doubling path are in
:mod:`socecon_geo.growth`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._growth_input import Areas, check_frame, repeats, resolve_areas
from socecon_geo._schema import CHANGE_STATUS, CHANGE_STATUSES, MATCH_METHOD, MATCH_METHODS
from socecon_geo.geography import Geography
from socecon_geo.provenance import with_provenance

__all__ = ["CHANGE_STATUSES", "MATCH_METHODS", "SnapshotComparison", "compare_snapshots"]

_NAME_DROP: Final = frozenset({"the", "limited", "ltd", "plc", "llp", "cic", "cio"})


# ---------------------------------------------------------------------- two snapshots


@dataclass(frozen=True)
class SnapshotComparison:
    """Two snapshots of one register compared (what :func:`compare_snapshots` returns).

    Attributes
    ----------
    organisations : pandas.DataFrame
        Every organisation of both snapshots exactly once: ``change_status``,
        ``match_method``, identifiers, names, source rows and the number of rows of each
        snapshot it stands for, its area in each and the comparison area, ``moved``, and
        ``active_old`` / ``active_new`` (the register's ``active`` in each, NA where
        not known), and the measure in each and its change.
    areas : pandas.DataFrame
        One row per area (zeros included): ``n_old``, ``n_new``, ``continuing``,
        ``moved_in``, ``moved_out``, ``new``, ``gone``, ``net_change``,
        ``gone_already_inactive`` and the measure's
        totals for the continuing organisations.
    parameters : dict
        The level, the measure and the rows of each snapshot folded as repeats.
    """

    organisations: pd.DataFrame
    areas: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """How many organisations are continuing, new and gone."""
        counts = self.organisations["change_status"].value_counts()
        return {status: int(counts[status]) for status in CHANGE_STATUSES}

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"SnapshotComparison({c['continuing']:,} continuing, {c['new']:,} new, "
            f"{c['gone']:,} gone; {len(self.areas):,} areas)"
        )


def _name_key(names: pd.Series) -> pd.Series:
    def key(value: Any) -> Any:
        if pd.isna(value):
            return pd.NA
        text = re.sub(r"[^0-9a-z]+", " ", str(value).casefold().replace("&", " and "))
        words = [w for w in text.split() if w not in _NAME_DROP]
        return " ".join(words) or pd.NA

    return names.map(key).astype("string")


def _postcode_key(postcodes: pd.Series) -> pd.Series:
    text = postcodes.astype("string").str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    return text.mask(text == "")


def _number_key(numbers: pd.Series) -> pd.Series:
    text = numbers.astype("string").str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    return text.mask(text == "")


def _match_keys(frame: pd.DataFrame) -> dict[str, pd.Series]:
    keys: dict[str, pd.Series] = {
        "org_id": frame["org_id"].astype("string").str.strip().reset_index(drop=True)
    }
    for column in ("company_number", "charity_number"):
        if column in frame.columns:
            keys[column] = _number_key(frame[column]).reset_index(drop=True)
    name = _name_key(frame["name"]).reset_index(drop=True)
    postcode = _postcode_key(frame["postcode"]).reset_index(drop=True)
    keys["name_postcode"] = (name + "|" + postcode).astype("string")
    return keys


def _match(old_keys: pd.Series, new_keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions (old, new) whose key is known and unique on both sides."""
    old = old_keys.dropna()
    new = new_keys.dropna()
    old = old[~old.duplicated(keep=False)]
    new = new[~new.duplicated(keep=False)]
    pairs = pd.merge(
        pd.DataFrame({"key": old.to_numpy(dtype=object), "old": old.index.to_numpy()}),
        pd.DataFrame({"key": new.to_numpy(dtype=object), "new": new.index.to_numpy()}),
        on="key",
    )
    return pairs["old"].to_numpy(dtype=np.int64), pairs["new"].to_numpy(dtype=np.int64)


def compare_snapshots(
    old: pd.DataFrame,
    new: pd.DataFrame,
    *,
    level: str | None = "lad",
    measure: str | None = "income",
    geography: Geography | None = None,
) -> SnapshotComparison:
    """Compare two snapshots of a register: organisations continuing, new and gone.

    Rows repeating an earlier row of the same snapshot (``duplicate_of`` set by
    :func:`socecon_geo.combine_registers`, or the same ``org_id`` again) are folded into
    it: the organisation appears once, and ``rows_old`` / ``rows_new`` say how many rows
    it stands for. Then organisations are matched one to one, in turn on

    1. ``org_id`` (the register's identifier),
    2. ``company_number``, then ``charity_number`` (spaces and punctuation ignored),
    3. the name and postcode together (case, punctuation, ``&``/``and``, "the",
       "limited", "ltd", "plc", "llp", "cic", "cio" and spaces ignored),

    each step among those not matched yet, and only on keys found once on each side. An
    old organisation matched is ``continuing``; one not matched ``gone``; a new one not
    matched ``new``.

    Parameters
    ----------
    old, new : pandas.DataFrame or geopandas.GeoDataFrame
        The earlier and the later snapshot, in the organisation schema (``org_id``,
        ``name``, ``postcode``; ``company_number``, ``charity_number`` where present),
        with the level's area code (see :func:`socecon_geo.assign_areas`) unless
        ``level`` is None.
    level : {"lad", "ward", "msoa21", "lsoa21", "lsoa11"} or None, default "lad"
        The areas; None gives one total over every organisation.
    measure : str or None, default "income"
        A money or people column (``income``, ``employees``, ``members``) whose change is
        given for the continuing organisations; None to compare counts only.
    geography : Geography, optional
        Where the areas come from (default: the bundled West Midlands).

    Returns
    -------
    SnapshotComparison
        ``.organisations``: one row per organisation, the continuing and gone in the old
        snapshot's order, then the new ones in the new snapshot's. Its comparison area
        (the level's code column) is its area in the new snapshot, or in the old one if
        it is gone; ``<code>_old``, ``<code>_new`` and ``moved`` (a continuing
        organisation whose two areas differ) say where it was and is. With a measure:
        ``<measure>_old``, ``<measure>_new``, ``<measure>_change`` (continuing ones with
        both known).

        ``.areas``: for every area, ``n_old`` (organisations there in the old snapshot)
        ``= continuing + moved_out + gone`` and ``n_new = continuing + moved_in + new``,
        where ``continuing`` are there in both, ``moved_in`` are continuing
        organisations there only in the new snapshot (moved, or not placed before) and
        ``moved_out`` the reverse; ``net_change = n_new - n_old``;
        ``gone_already_inactive`` the gone ones the old snapshot already called inactive
        (``active`` False: dissolved or removed before it). With a measure, for
        the continuing organisations now in the area with the measure known in both:
        ``n_<measure>_both``, ``<measure>_old_continuing``, ``<measure>_new_continuing``,
        ``<measure>_change_continuing``. Organisations in no area of the layer are
        counted in ``areas.attrs["not_counted"]``.

    Raises
    ------
    InputError
        If a snapshot is not a frame, is empty or lacks a needed column, or no row of
        either snapshot has a value of ``measure``.

    Examples
    --------
    >>> import pandas as pd
    >>> old = pd.DataFrame({"org_id": ["a", "b", "c"], "name": ["A", "B", "C"],
    ...     "postcode": ["B1 1AA"] * 3, "income": [10.0, 20.0, 5.0]})
    >>> new = pd.DataFrame({"org_id": ["a", "b", "d"], "name": ["A", "B", "D"],
    ...     "postcode": ["B1 1AA"] * 3, "income": [15.0, 18.0, 1.0]})
    >>> result = compare_snapshots(old, new, level=None)
    >>> result.counts
    {'continuing': 2, 'new': 1, 'gone': 1}
    >>> result.organisations[["org_id", "change_status", "income_change"]]
      org_id change_status  income_change
    0      a    continuing            5.0
    1      b    continuing           -2.0
    2      c          gone            NaN
    3      d           new            NaN
    """
    fix = "read the snapshots with socecon_geo.read_organisations (the organisation schema)."
    for what, frame in (("old", old), ("new", new)):
        check_frame(frame, what, ("org_id", "name", "postcode"), fix)
    if measure is not None:
        missing = [w for w, f in (("old", old), ("new", new)) if measure not in f.columns]
        if missing:
            msg = (
                f"{' and '.join(missing)} ha{'ve' if len(missing) > 1 else 's'} no {measure!r} "
                "column: pass a measure both snapshots have (income, employees, members) or "
                "measure=None to compare counts only."
            )
            raise InputError(msg)
        known = [int(pd.to_numeric(f[measure], errors="coerce").notna().sum()) for f in (old, new)]
        if not any(known):
            msg = (
                f"The measure {measure!r} has no value on any row of either snapshot "
                f"({len(old):,} and {len(new):,} rows): read the register's economy data "
                "(e.g. read_organisations(path, economy=...)), choose another measure, or "
                "pass measure=None to compare counts only."
            )
            raise InputError(msg)
    areas, layer = resolve_areas(level, geography)
    sides: dict[str, pd.DataFrame] = {}
    positions: dict[str, np.ndarray] = {}
    row_counts: dict[str, np.ndarray] = {}
    repeated: dict[str, int] = {}
    for what, frame in (("old", old), ("new", new)):
        area_pos, has_code = areas.positions(frame, what)
        repeat = repeats(frame)
        repeated[what] = int(repeat.sum())
        # each repeat counts as the row it repeats: the first row with its org_id, or
        # the row its duplicate_of names
        first_of = np.arange(len(frame))
        ids = frame["org_id"].astype("string").reset_index(drop=True)
        if repeat.any():
            first_position = (
                pd.Series(np.arange(len(frame))).groupby(ids.fillna("")).transform("min")
            )
            by_id = np.where(ids.notna().to_numpy(dtype=bool), first_position.to_numpy(), first_of)
            first_of = np.where(repeat, by_id, first_of)
            if "duplicate_of" in frame.columns:
                target = frame["duplicate_of"].astype("string").reset_index(drop=True)
                lookup = pd.Series(np.arange(len(frame)), index=ids.fillna("").to_numpy())
                lookup = lookup[~lookup.index.duplicated()]
                named = target.map(lookup)
                use = target.notna().to_numpy(dtype=bool) & named.notna().to_numpy(dtype=bool)
                first_of = np.where(use, named.fillna(-1).to_numpy(dtype=np.int64), first_of)
        kept = ~repeat
        counts = np.bincount(first_of, minlength=len(frame))
        table = frame.reset_index(drop=True).loc[kept].reset_index(drop=True)
        sides[what] = table
        positions[what] = np.where(has_code, area_pos, -2)[kept]
        row_counts[what] = counts[kept]

    old_t, new_t = sides["old"], sides["new"]
    old_keys, new_keys = _match_keys(old_t), _match_keys(new_t)
    old_match = np.full(len(old_t), -1, dtype=np.int64)
    method = np.full(len(old_t), None, dtype=object)
    for key in old_keys:
        if key not in new_keys:
            continue
        free_old = old_match < 0
        free_new = np.ones(len(new_t), dtype=bool)
        free_new[old_match[old_match >= 0]] = False
        o, n = _match(old_keys[key][free_old], new_keys[key][free_new])
        old_match[o] = n
        method[o] = "registered_number" if key in ("company_number", "charity_number") else key
    matched_new = np.zeros(len(new_t), dtype=bool)
    matched_new[old_match[old_match >= 0]] = True
    new_only = np.flatnonzero(~matched_new)

    continuing = old_match >= 0
    status = np.where(continuing, "continuing", "gone").tolist() + ["new"] * len(new_only)
    new_of_row = np.concatenate([old_match, new_only])  # -1: none
    old_of_row = np.concatenate([np.arange(len(old_t)), np.full(len(new_only), -1)])

    def take(table: pd.DataFrame, column: str, where: np.ndarray) -> pd.Series:
        if column not in table.columns:
            return pd.Series([pd.NA] * len(where), dtype="object")
        values = table[column].reset_index(drop=True)
        picked = values.reindex(np.where(where >= 0, where, -1)).reset_index(drop=True)
        picked[where < 0] = pd.NA
        return picked

    out = pd.DataFrame(
        {
            "change_status": pd.Categorical(status, dtype=CHANGE_STATUS),
            "match_method": pd.Categorical(
                [*method.tolist(), *[None] * len(new_only)], dtype=MATCH_METHOD
            ),
        }
    )
    id_old = take(old_t, "org_id", old_of_row).astype("string")
    id_new = take(new_t, "org_id", new_of_row).astype("string")
    out["org_id"] = id_new.fillna(id_old)
    out["org_id_old"], out["org_id_new"] = id_old, id_new
    name_old = take(old_t, "name", old_of_row).astype("string")
    name_new = take(new_t, "name", new_of_row).astype("string")
    out["name"] = name_new.fillna(name_old)
    out["name_old"], out["name_new"] = name_old, name_new
    for column in ("postcode", "source_row"):
        dtype = "string" if column == "postcode" else "Int64"
        out[f"{column}_old"] = take(old_t, column, old_of_row).astype(dtype)
        out[f"{column}_new"] = take(new_t, column, new_of_row).astype(dtype)
    for side, table, where in (("old", old_t, old_of_row), ("new", new_t, new_of_row)):
        out[f"active_{side}"] = take(table, "active", where).astype("boolean")
    out["rows_old"] = np.where(old_of_row >= 0, row_counts["old"][old_of_row], 0)
    out["rows_new"] = np.where(new_of_row >= 0, row_counts["new"][new_of_row], 0)

    # areas: position in the layer; -1 outside it, -2 no code, -3 not in that snapshot
    pos_old = np.where(old_of_row >= 0, positions["old"][old_of_row], -3)
    pos_new = np.where(new_of_row >= 0, positions["new"][new_of_row], -3)
    if areas.code_column is not None:
        code = areas.code_column
        out[f"{code}_old"] = take(old_t, code, old_of_row).astype("string")
        out[f"{code}_new"] = take(new_t, code, new_of_row).astype("string")
        out[code] = out[f"{code}_new"].where(out["change_status"] != "gone", out[f"{code}_old"])
        moved = pd.array(
            out[f"{code}_old"].str.strip() != out[f"{code}_new"].str.strip(), dtype="boolean"
        )
        moved[out["change_status"].to_numpy() != "continuing"] = pd.NA
        out["moved"] = moved

    if measure is not None:
        m_old = pd.to_numeric(take(old_t, measure, old_of_row), errors="coerce").astype("float64")
        m_new = pd.to_numeric(take(new_t, measure, new_of_row), errors="coerce").astype("float64")
        out[f"{measure}_old"], out[f"{measure}_new"] = m_old, m_new
        out[f"{measure}_change"] = m_new - m_old

    area_table = _comparison_areas(areas, out, pos_old, pos_new, measure)
    n_old_orgs, n_new_orgs = len(old_t), len(new_t)
    not_counted = {
        "old_no_area": int((pos_old[old_of_row >= 0] == -2).sum()),
        "old_outside_areas": int((pos_old[old_of_row >= 0] == -1).sum()),
        "new_no_area": int((pos_new[new_of_row >= 0] == -2).sum()),
        "new_outside_areas": int((pos_new[new_of_row >= 0] == -1).sum()),
    }
    parameters = {
        "level": areas.level,
        "measure": measure,
        "rows": {"old": len(old), "new": len(new)},
        "organisations": {"old": n_old_orgs, "new": n_new_orgs},
        "repeated_rows": repeated,
        "match_methods": {m: int((out["match_method"] == m).sum()) for m in MATCH_METHODS},
    }
    out.attrs = dict(parameters)
    area_table.attrs = {**parameters, "not_counted": not_counted}
    with_provenance(out, old, new)
    with_provenance(area_table, old, new, layer)
    return SnapshotComparison(out, area_table, parameters)


def _comparison_areas(
    areas: Areas,
    orgs: pd.DataFrame,
    pos_old: np.ndarray,
    pos_new: np.ndarray,
    measure: str | None,
) -> pd.DataFrame:
    n = len(areas.codes)
    status = orgs["change_status"].to_numpy(dtype=object)
    cont = status == "continuing"

    def count(mask: np.ndarray, pos: np.ndarray) -> np.ndarray:
        use = mask & (pos >= 0)
        return np.bincount(pos[use], minlength=n).astype(np.int64)

    in_old = pos_old != -3
    in_new = pos_new != -3
    stayed = cont & (pos_old == pos_new)
    table = pd.DataFrame(areas.columns())
    table["n_old"] = count(in_old, pos_old)
    table["n_new"] = count(in_new, pos_new)
    table["continuing"] = count(stayed, pos_new)
    table["moved_in"] = count(cont & ~stayed, pos_new)
    table["moved_out"] = count(cont & ~stayed, pos_old)
    table["new"] = count(status == "new", pos_new)
    table["gone"] = count(status == "gone", pos_old)
    inactive = (orgs["active_old"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    table["gone_already_inactive"] = count((status == "gone") & inactive, pos_old)
    table["net_change"] = table["n_new"] - table["n_old"]
    if measure is not None:
        before = orgs[f"{measure}_old"].to_numpy(dtype="float64")
        after = orgs[f"{measure}_new"].to_numpy(dtype="float64")
        both = cont & ~np.isnan(before) & ~np.isnan(after) & (pos_new >= 0)
        where = pos_new[both]
        table[f"n_{measure}_both"] = np.bincount(where, minlength=n).astype(np.int64)
        table[f"{measure}_old_continuing"] = np.bincount(where, before[both], minlength=n)
        table[f"{measure}_new_continuing"] = np.bincount(where, after[both], minlength=n)
        table[f"{measure}_change_continuing"] = (
            table[f"{measure}_new_continuing"] - table[f"{measure}_old_continuing"]
        )
    return table

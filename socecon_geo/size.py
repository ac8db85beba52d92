"""How big the social economy is, by area: counts, money and people, coverage, concentration.

:func:`social_economy_size` takes organisations placed in areas (the output of
:func:`socecon_geo.assign_areas`) with the register measures of
:func:`socecon_geo.read_organisations` (``income``, ``employees``, ``expenditure``,
``members``) and returns a :class:`SizeResult`: every area of a level (zeros included),
the totals by authority and overall, and every organisation with why it was or was not
counted (``size_status``) and whether it is flagged as a national body (``size_national``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from socecon_geo._checks import check_geodataframe
from socecon_geo._errors import InputError
from socecon_geo._schema import SIZE_STATUS, SIZE_STATUSES
from socecon_geo.areas import _LEVELS
from socecon_geo.geography import Geography, resolve_geography
from socecon_geo.provenance import Provenance, attribution_lines, with_provenance

if TYPE_CHECKING:
    import folium

__all__ = [
    "CONCENTRATION_SHARES",
    "NATIONAL_ACCOUNT_CATEGORIES",
    "SIZE_STATUSES",
    "SizeResult",
    "measures_with_values",
    "social_economy_size",
]

CONCENTRATION_SHARES: Final[tuple[int, ...]] = (1, 3, 10)
"""The shares (per cent) of the largest organisations whose part of a total is reported."""

NATIONAL_ACCOUNT_CATEGORIES: Final[tuple[str, ...]] = ("GROUP",)
"""Companies House ``Accounts.AccountCategory`` values that flag a national body: group
accounts, filed by the parent of a group of companies. (``FULL`` accounts are not used:
small companies may file them too.)"""

_TOTAL_CODE: Final = "all"
_TOTAL_NAME: Final = "all areas"
_ACCOUNTS: Final = "src_Accounts.AccountCategory"
_AREA_CODE: Final = "_size_area"


@dataclass(frozen=True)
class SizeResult:
    """What :func:`social_economy_size` measured.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        One row per area of the level, zeros included, in the geography's order.
    organisations : geopandas.GeoDataFrame
        A copy of every input row, with ``size_status``, ``size_national`` and
        ``size_national_reason`` added.
    totals : pandas.DataFrame
        One row per authority (``lad_code``, ``lad_name``) and a last row ``all``: the
        same columns as ``areas``.
    params : dict
        The options used (also in the frames' ``attrs``).
    """

    areas: gpd.GeoDataFrame
    organisations: gpd.GeoDataFrame
    totals: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        counts = self.organisations["size_status"].value_counts()
        shown = ", ".join(f"{s} {int(counts[s])}" for s in SIZE_STATUSES if counts[s])
        return (
            f"SizeResult({len(self.areas)} areas ({self.params.get('level')}); "
            f"{len(self.organisations)} organisations: {shown})"
        )

    def explore(self, column: str | None = None, **kwargs: Any) -> folium.Map:
        """Show the areas on an interactive map, coloured by one size column.

        Parameters
        ----------
        column : str, optional
            The column to colour by: by default the first money or people total
            (``income_total``), else ``n_organisations``.
        **kwargs
            Passed to :meth:`geopandas.GeoDataFrame.explore`.

        Returns
        -------
        folium.Map
        """
        measures = [m for m in self.params.get("measures", ()) if m != "count"]
        if column is None:
            column = f"{measures[0]}_total" if measures else "n_organisations"
        if column not in self.areas.columns:
            msg = f"column {column!r} is not in the areas; choose one of {list(self.areas.columns)}"
            raise InputError(msg)
        code, name = _LEVELS[self.params["level"]]
        tooltip = [c for c in (code, name, "n_organisations", column) if c in self.areas.columns]
        options: dict[str, Any] = {"column": column, "tooltip": tooltip, "legend": True}
        attribution = "; ".join(attribution_lines(self.areas))
        if attribution:
            options["attr"] = attribution
        return self.areas.explore(**{**options, **kwargs})


# ---------------------------------------------------------------------- checks


def measures_with_values(
    points: pd.DataFrame, candidates: tuple[str, ...] = ("income", "employees")
) -> tuple[str, ...]:
    """Return ``"count"`` and each of ``candidates`` that some row of ``points`` has.

    The measures :func:`social_economy_size` can take from a register as it is (a
    measure no row has is an error there): what :func:`socecon_geo.analyse` and
    ``socecon-geo size`` measure by default.
    """
    known = [
        c
        for c in candidates
        if c in points.columns
        and pd.api.types.is_numeric_dtype(points[c])
        and points[c].notna().any()
    ]
    return ("count", *known)


def _check_measures(points: pd.DataFrame, measures: Any) -> tuple[str, ...]:
    if isinstance(measures, str):
        measures = (measures,)
    measures = tuple(measures)
    if not measures:
        msg = "measures is empty; pass e.g. measures=('count', 'income')"
        raise InputError(msg)
    numeric = [
        c
        for c in ("income", "employees", "expenditure", "members")
        if c in points.columns and pd.api.types.is_numeric_dtype(points[c])
    ]
    with_values = [c for c in numeric if points[c].notna().any()]
    for measure in measures:
        if measure == "count":
            continue
        if measure not in points.columns or not pd.api.types.is_numeric_dtype(points[measure]):
            msg = (
                f"measure {measure!r} is not a numeric column of points; the measures are "
                f"'count' and the number columns {', '.join(map(repr, numeric)) or '(none)'}"
            )
            raise InputError(msg)
        if not points[measure].notna().any():
            have = ", ".join(map(repr, ["count", *with_values]))
            msg = (
                f"measure {measure!r} has no value in any of the {len(points):,} rows of "
                f"points, so it has no size to measure; the measures with values are {have}. "
                f"Drop it from measures= (a Companies House file has no money measures; "
                f"Co-operatives UK turnover comes with read_organisations(..., economy=...))"
            )
            raise InputError(msg)
    return tuple(dict.fromkeys(measures))


def _check_options(
    level: Any, national_threshold: Any, top_n: Any, gva_ratio: Any, measures: tuple[str, ...]
) -> None:
    if level not in _LEVELS:
        msg = f"level must be one of {', '.join(map(repr, _LEVELS))}; got {level!r}"
        raise InputError(msg)
    if national_threshold is not None and (
        isinstance(national_threshold, bool)
        or not isinstance(national_threshold, int | float)
        or not math.isfinite(national_threshold)
        or national_threshold <= 0
    ):
        msg = (
            f"national_threshold must be a positive amount of income (GBP), e.g. 10_000_000, "
            f"or None to flag no organisation by income; got {national_threshold!r}"
        )
        raise InputError(msg)
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 0:
        msg = f"top_n must be a whole number of organisations (0 or more); got {top_n!r}"
        raise InputError(msg)
    if gva_ratio is not None:
        if (
            isinstance(gva_ratio, bool)
            or not isinstance(gva_ratio, int | float)
            or not 0 < gva_ratio <= 1
        ):
            msg = (
                f"gva_ratio must be a number above 0 and at most 1 (the share of income "
                f"that is gross value added, from a source you trust); got {gva_ratio!r}"
            )
            raise InputError(msg)
        if "income" not in measures:
            msg = "gva_ratio= estimates GVA from income: add 'income' to measures="
            raise InputError(msg)


# ---------------------------------------------------------------------- statuses


def _statuses(
    points: pd.DataFrame, area_codes: pd.Index, code_column: str, *, active_only: bool
) -> pd.Series:
    """``size_status`` of every row, first match wins: duplicate, no_area, inactive."""
    n = len(points)
    duplicate = np.zeros(n, dtype=bool)
    if "duplicate_of" in points.columns:
        duplicate |= points["duplicate_of"].notna().to_numpy(bool)
    if "org_id" in points.columns:
        ids = points["org_id"]
        duplicate |= (ids.notna() & ids.duplicated(keep="first")).to_numpy(bool)
    inactive = np.zeros(n, dtype=bool)
    if active_only and "active" in points.columns:
        inactive = points["active"].astype("boolean").eq(False).fillna(False).to_numpy(bool)
    codes = points[code_column].astype("string")
    in_area = codes.isin(area_codes).fillna(False).to_numpy(bool)
    values = np.select(
        [duplicate, ~in_area, inactive], ["duplicate", "no_area", "inactive"], default="counted"
    )
    return pd.Series(pd.Categorical(values, dtype=SIZE_STATUS), index=points.index)


def _national(points: pd.DataFrame, threshold: float | None) -> tuple[pd.Series, pd.Series]:
    """``size_national`` and ``size_national_reason`` of every row."""
    reason = pd.Series(pd.NA, index=points.index, dtype="string")
    if threshold is not None and "income" in points.columns:
        above = (points["income"] > threshold).fillna(False).to_numpy(bool)
        reason[above] = "income_above_threshold"
    if _ACCOUNTS in points.columns:
        category = points[_ACCOUNTS].astype("string").str.strip().str.upper()
        group = category.isin(NATIONAL_ACCOUNT_CATEGORIES).fillna(False).to_numpy(bool)
        reason[group & reason.isna().to_numpy(bool)] = "group_accounts"
    return reason.notna().astype("boolean"), reason


# ---------------------------------------------------------------------- aggregation


def _top_text(names: pd.Series, values: pd.Series) -> str:
    return "; ".join(f"{n} ({v:,.0f})" for n, v in zip(names, values, strict=True))


def _aggregate(
    rows: pd.DataFrame,
    groups: pd.Index,
    measures: tuple[str, ...],
    *,
    top_n: int,
) -> pd.DataFrame:
    """One row per group code of ``groups``: counts, totals, coverage, concentration.

    ``rows`` holds the counted organisations with ``_size_area`` (their group code),
    ``size_national`` and the measures.
    """
    rows = rows.reset_index(drop=True)  # positions, whatever the caller's labels
    key = rows[_AREA_CODE]
    national = rows["size_national"].to_numpy(bool)
    out = pd.DataFrame(index=groups)
    n = key.value_counts().reindex(groups, fill_value=0).astype("int64")
    n_national = key[national].value_counts().reindex(groups, fill_value=0).astype("int64")
    out["n_organisations"] = n
    out["n_organisations_excl_national"] = n - n_national
    out["n_organisations_difference"] = n_national
    names = rows["name"] if "name" in rows.columns else rows.get("org_id", rows.index)
    names = pd.Series(names, index=rows.index).astype("string").fillna("(no name)")
    for measure in measures:
        if measure == "count":
            continue
        values = rows[measure].astype("float64")
        known = values.notna().to_numpy(bool)
        frame = pd.DataFrame(
            {"key": key[known], "value": values[known], "name": names[known]},
            index=rows.index[known],
        )
        frame["national"] = national[known]
        grouped = frame.groupby("key", sort=False)["value"]
        total = grouped.sum().reindex(groups, fill_value=0.0)
        total_national = (
            frame.loc[frame["national"]]
            .groupby("key")["value"]
            .sum()
            .reindex(groups, fill_value=0.0)
        )
        n_known = grouped.size().reindex(groups, fill_value=0).astype("int64")
        out[f"{measure}_total"] = total
        out[f"{measure}_total_excl_national"] = total - total_national
        out[f"{measure}_total_difference"] = total_national
        out[f"{measure}_median"] = grouped.median().reindex(groups)
        out[f"{measure}_known"] = n_known
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{measure}_coverage"] = np.where(n > 0, n_known / n.replace(0, np.nan), np.nan)
        ordered = frame.sort_values(["key", "value"], ascending=[True, False], kind="stable")
        rank = ordered.groupby("key", sort=False).cumcount() + 1
        size = ordered["key"].map(n_known)
        for share in CONCENTRATION_SHARES:
            take = rank <= np.ceil(size * share / 100)
            top = ordered.loc[take].groupby("key")["value"].sum().reindex(groups)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{measure}_top{share}_share"] = (top / total.where(total != 0)).astype(
                    "float64"
                )
        if top_n:
            first = ordered.loc[rank <= top_n]
            text = first.groupby("key", sort=False).apply(
                lambda g: _top_text(g["name"], g["value"]), include_groups=False
            )
            out[f"{measure}_top"] = pd.array(text.reindex(groups), dtype="string")
    return out


def _authorities(geo: Geography | None, areas: gpd.GeoDataFrame, level: str) -> pd.DataFrame:
    """``lad_code``, ``lad_name`` of every authority the areas lie in (zeros included)."""
    if level == "lad":
        frame = pd.DataFrame(areas[["lad_code", "lad_name"]])
    elif geo is not None and geo.has_layer("lad"):
        frame = pd.DataFrame(geo.layer("lad")[["lad_code", "lad_name"]])
    elif "lad_code" in areas.columns:
        cols = [c for c in ("lad_code", "lad_name") if c in areas.columns]
        frame = pd.DataFrame(areas[cols]).drop_duplicates("lad_code")
    else:
        frame = pd.DataFrame({"lad_code": pd.Series(dtype="string")})
    if "lad_name" not in frame.columns:
        frame["lad_name"] = pd.NA
    return frame.astype({"lad_code": "string", "lad_name": "string"}).reset_index(drop=True)


# ---------------------------------------------------------------------- the step


def social_economy_size(
    points: gpd.GeoDataFrame,
    *,
    level: str = "ward",
    measures: Sequence[str] = ("count", "income", "employees"),
    geography: Geography | None = None,
    active_only: bool = True,
    national_threshold: float | None = 10_000_000.0,
    top_n: int = 5,
    gva_ratio: float | None = None,
) -> SizeResult:
    """Measure the social economy of every area: how many, how much, how concentrated.

    Each organisation gets a ``size_status`` (first match wins):

    ``duplicate``
        ``duplicate_of`` is set (:func:`socecon_geo.combine_registers`), or its
        ``org_id`` repeats an earlier row's: counted once, as the first row.
    ``no_area``
        no code of the level, or a code that is not an area of the geography.
    ``inactive``
        in an area, but ``active`` is False (the register's status, removal or
        dissolution date) and ``active_only`` is True. Organisations whose activity is
        not known (``active`` missing, as in the 2023 Co-operatives UK file) are counted,
        and counted in ``attrs["activity_unknown_counted"]``.
    ``counted``
        counted in its area.

    An organisation is flagged national (``size_national``) when its income is above
    ``national_threshold`` (``size_national_reason`` ``income_above_threshold``) or
    when its register says it is large: Companies House group accounts
    (:data:`NATIONAL_ACCOUNT_CATEGORIES`; ``group_accounts``). A national body
    registered in a city would put its whole income there, so every total is given with
    it (``<measure>_total``), without it (``<measure>_total_excl_national``) and the
    difference (``<measure>_total_difference``, what the national bodies hold). National
    organisations are counted: the flag moves them between the two totals, not out of
    the result.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Organisations with area codes (the output of :func:`socecon_geo.assign_areas`)
        and the register columns of :func:`socecon_geo.read_organisations`.
    level : {"ward", "lad", "msoa21", "lsoa21", "lsoa11"}, default "ward"
        The areas to measure: the geography's layer of that level, every area of it,
        zeros included.
    measures : sequence of str, default ("count", "income", "employees")
        ``"count"`` and number columns of ``points`` (``income``, ``employees``,
        ``expenditure``, ``members``). A measure no row has is an error.
    geography : Geography, optional
        Where the areas come from; by default the bundled West Midlands geography.
    active_only : bool, default True
        Count only organisations that are not known to be inactive.
    national_threshold : float or None, default 10_000_000.0
        Income (GBP) above which an organisation is flagged national; ``None`` flags no
        organisation by its income.
    top_n : int, default 5
        How many of the largest organisations to name per area (``<measure>_top``).
    gva_ratio : float, optional
        The share of income that is gross value added, from a source the user trusts
        (none ships with the library). When given, ``gva_estimate`` and
        ``gva_estimate_excl_national`` are income totals times the ratio, labelled an
        estimate in ``attrs["gva"]`` and the provenance.

    Returns
    -------
    SizeResult
        ``areas`` (a copy of the geography's layer) and ``totals`` (by authority and
        ``all``) with, for the organisations counted:

        ``n_organisations``, ``n_organisations_excl_national``, ``n_organisations_difference``
            how many, without the national ones, and the national ones;
        ``<m>_total``, ``<m>_total_excl_national``, ``<m>_total_difference``
            the sum of the known values, without the national organisations, and theirs;
        ``<m>_median``, ``<m>_known``, ``<m>_coverage``
            the median of the known values, how many organisations have one, and their
            share of ``n_organisations`` (missing where there are none);
        ``<m>_top1_share``, ``<m>_top3_share``, ``<m>_top10_share``
            the share of the total held by the largest 1%, 3%, 10% of the organisations
            with a value (at least one organisation: ``ceil(share × known)``); missing
            when the total is 0 or there is none;
        ``<m>_top``
            the ``top_n`` largest, ``"name (value); ..."``;
        ``gva_estimate``, ``gva_estimate_excl_national``
            only with ``gva_ratio``.

    Raises
    ------
    InputError
        ``points`` is not a GeoDataFrame or lacks the level's code column; a measure is
        not a number column or has no value in any row; an option is out of range.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"lad_code": ["E1", "E2"], "lad_name": ["A", "B"]},
    ...     geometry=[box(400000, 280000, 401000, 281000), box(401000, 280000, 402000, 281000)],
    ...     crs=27700)
    >>> geo = Geography.from_files(authorities=areas)
    >>> orgs = gpd.GeoDataFrame({
    ...     "org_id": ["a", "b", "c", "d"], "name": ["Aa", "Bb", "Cc", "Dd"],
    ...     "lad_code": ["E1", "E1", "E1", None], "income": [100.0, 300.0, 2e7, 50.0],
    ...     "active": [True, True, True, True]}, geometry=[None] * 4, crs=27700)
    >>> size = social_economy_size(orgs, level="lad", measures=("count", "income"),
    ...     geography=geo, top_n=2)
    >>> size.areas[["lad_code", "n_organisations", "income_total", "income_median"]]
      lad_code  n_organisations  income_total  income_median
    0       E1                3    20000400.0          300.0
    1       E2                0           0.0            NaN
    >>> size.areas[["income_total_excl_national", "income_total_difference"]]
       income_total_excl_national  income_total_difference
    0                       400.0               20000000.0
    1                         0.0                      0.0
    >>> size.organisations["size_status"].tolist()
    ['counted', 'counted', 'counted', 'no_area']
    """
    check_geodataframe(points, "points", "organisations (the output of socecon_geo.assign_areas)")
    if len(points) == 0:
        msg = "points is empty: there are no organisations to measure."
        raise InputError(msg)
    measures = _check_measures(points, measures)
    _check_options(level, national_threshold, top_n, gva_ratio, measures)
    code_column = _LEVELS[level][0]
    if code_column not in points.columns:
        msg = (
            f"points has no {code_column!r} column: give the organisations their areas "
            f"first with socecon_geo.assign_areas(points)."
        )
        raise InputError(msg)
    geo = resolve_geography(geography)
    areas = geo.layer(level)
    area_codes = pd.Index(areas[code_column].astype("string"))

    organisations = points.copy()
    organisations["size_status"] = _statuses(
        points, area_codes, code_column, active_only=active_only
    )
    organisations["size_national"], organisations["size_national_reason"] = _national(
        points, national_threshold
    )
    counted = (organisations["size_status"] == "counted").to_numpy()
    # only the columns the totals read: a copy of every column of a million rows is GBs
    needed = [code_column, "size_national", "name", "org_id", "lad_code"]
    needed += [m for m in measures if m != "count"]
    columns = [c for c in dict.fromkeys(needed) if c in organisations.columns]
    rows = pd.DataFrame(organisations.loc[counted, columns])
    rows.attrs = {}
    rows[_AREA_CODE] = rows[code_column].astype("string")
    per_area = _aggregate(rows, area_codes, measures, top_n=top_n)

    out = areas.copy()
    for column in per_area.columns:
        out[column] = (
            per_area[column].to_numpy()
            if per_area[column].dtype != "string"
            else (per_area[column].array)
        )

    # totals by authority (through the area's authority where the layer has one) and all
    authorities = _authorities(geo, areas, level)
    if level == "lad":
        rows["_size_lad"] = rows[_AREA_CODE]
    elif "lad_code" in areas.columns:
        lad_of = pd.Series(areas["lad_code"].astype("string").to_numpy(), index=area_codes)
        rows["_size_lad"] = rows[_AREA_CODE].map(lad_of).astype("string")
    else:
        rows["_size_lad"] = rows.get("lad_code", pd.Series(pd.NA, index=rows.index)).astype(
            "string"
        )
    lad_codes = pd.Index(authorities["lad_code"])
    by_lad = _aggregate(
        rows.assign(**{_AREA_CODE: rows["_size_lad"]}), lad_codes, measures, top_n=top_n
    )
    overall = _aggregate(
        rows.assign(**{_AREA_CODE: _TOTAL_CODE}), pd.Index([_TOTAL_CODE]), measures, top_n=top_n
    )
    totals = pd.concat([by_lad, overall])
    totals.insert(0, "lad_name", [*authorities["lad_name"], _TOTAL_NAME])
    totals.insert(0, "lad_code", [*authorities["lad_code"], _TOTAL_CODE])
    totals = totals.reset_index(drop=True).astype({"lad_code": "string", "lad_name": "string"})

    gva = None
    records: list[Provenance] = []
    if gva_ratio is not None:
        for frame in (out, totals):
            frame["gva_estimate"] = frame["income_total"] * gva_ratio
            frame["gva_estimate_excl_national"] = frame["income_total_excl_national"] * gva_ratio
        gva = {
            "ratio": float(gva_ratio),
            "measure": "income",
            "label": "estimate: income times a GVA-to-income ratio supplied by the user; no "
            "official ratio ships with socecon_geo",
        }
        records.append(
            Provenance(
                name="gva_ratio",
                title=f"GVA estimate: income × {gva_ratio:g}, a ratio supplied by the user",
                publisher="the user",
                vintage="as supplied",
                licence="not applicable",
                attribution=f"GVA estimated from income with a ratio of {gva_ratio:g} "
                "supplied by the user",
            )
        )

    status_counts = {
        str(k): int(v) for k, v in organisations["size_status"].value_counts(sort=False).items()
    }
    params: dict[str, Any] = {
        "level": level,
        "measures": measures,
        "active_only": active_only,
        "national_threshold": national_threshold,
        "top_n": top_n,
        "gva_ratio": gva_ratio,
        "concentration_shares": CONCENTRATION_SHARES,
        "national_account_categories": NATIONAL_ACCOUNT_CATEGORIES,
    }
    attrs = {
        "params": params,
        "size_status": status_counts,
        "n_national": int(organisations["size_national"].sum()),
        "activity_unknown_counted": int(
            organisations.loc[counted, "active"].isna().sum()
            if "active" in organisations.columns
            else counted.sum()
        ),
        "gva": gva,
    }
    for frame in (out, organisations, totals):
        frame.attrs.update(attrs)
        with_provenance(frame, points, areas, records)
    return SizeResult(areas=out, organisations=organisations, totals=totals, params=params)

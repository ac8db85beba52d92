"""Growth of the social economy by area: births, deaths and the doubling path.

Two steps, each a plain function on frames in the organisation schema (the output of
:func:`socecon_geo.read_organisations`, with area codes from
:func:`socecon_geo.assign_areas`); two snapshots of a register are compared in
:mod:`socecon_geo.snapshots`:

:func:`births_and_deaths`
    from the registration and dissolution dates (``registered_on``, ``dissolved_on``):
    the births, deaths and active stock at each year's end, by area. The stock is counted
    from the dates, so ``stock(t) = stock(t-1) + births(t) - deaths(t)`` holds exactly.
:func:`doubling_trajectory`
    a baseline by area and year (the stock above, or a money measure): the observed
    compound annual growth rate, the rate needed to reach ``target_multiple`` times the
    baseline in ``years`` years (to double in ten, ``2 ** (1 / 10) - 1``, 7.18% a year),
    the path year by year and whether each area is on course (``trajectory_status``).
    :func:`socecon_geo.figures.plot_trajectory` draws it.

Every area of the geography's level is in every table (zeros included), in the layer's
order; organisations without an area there are counted in ``attrs["not_counted"]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._growth_input import check_frame, dates, repeats, resolve_areas
from socecon_geo._schema import (
    TRAJECTORY_STATUS,
    TRAJECTORY_STATUSES,
)
from socecon_geo.areas import _LEVELS
from socecon_geo.geography import Geography
from socecon_geo.provenance import with_provenance

__all__ = [
    "TRAJECTORY_STATUSES",
    "Trajectory",
    "births_and_deaths",
    "doubling_trajectory",
    "required_rate",
]

_NOT_COUNTED: Final[tuple[str, ...]] = (
    "duplicate",
    "no_registration_date",
    "dissolved_before_registered",
    "inactive_without_date",
    "no_area",
    "outside_areas",
)
"""Why :func:`births_and_deaths` leaves an organisation out (``attrs["not_counted"]``).

``duplicate``
    a repeat of an earlier row: ``duplicate_of`` is set (:func:`combine_registers`), or
    the row repeats an earlier row's ``org_id``.
``no_registration_date``
    ``registered_on`` is missing, so the year it joined the stock is not known.
``dissolved_before_registered``
    ``dissolved_on`` is earlier than ``registered_on`` (an error in the register).
``inactive_without_date``
    the register says it is no longer active (``active`` is False) but gives no
    dissolution date, so the year it left the stock is not known.
``no_area`` / ``outside_areas``
    no code at ``level``, or a code that is not an area of the geography's layer.
"""

# ---------------------------------------------------------------------- births and deaths


def births_and_deaths(
    points: pd.DataFrame,
    *,
    level: str | None = "lad",
    years: Iterable[int] | None = None,
    geography: Geography | None = None,
) -> pd.DataFrame:
    """Count births, deaths and the active stock of organisations by year and area.

    An organisation is born in the year of its ``registered_on`` date and dies in the
    year of its ``dissolved_on`` date; it is in the stock at the end of year *t* when it
    was registered on or before 31 December of *t* and not dissolved on or before it.
    So ``stock = stock_start + births - deaths`` on every row, and ``stock_start`` is the
    stock at the end of the year before.

    Parameters
    ----------
    points : pandas.DataFrame or geopandas.GeoDataFrame
        Organisations with ``registered_on`` and ``dissolved_on`` (datetimes, or text as
        YYYY-MM-DD or D/M/YYYY) and, unless ``level`` is None, the level's area code
        (``lad_code``, ``ward_code``, … as :func:`socecon_geo.assign_areas` adds them).
        ``active``, ``org_id`` and ``duplicate_of`` are used where present.
    level : {"lad", "ward", "msoa21", "lsoa21", "lsoa11"} or None, default "lad"
        The areas; None gives one total over every row (no area columns).
    years : iterable of int, optional
        The years to show; by default every year from the first registration to the
        last date in the data (the register's span: every row with dates, in the areas
        or not). Each must lie within those years.
    geography : Geography, optional
        Where the areas come from (default: the bundled West Midlands); every area of its
        ``level`` layer gets its rows, zeros included.

    Returns
    -------
    pandas.DataFrame
        One row per area and year, areas in the layer's order: the area code and name,
        ``year``, ``births``, ``deaths``, ``net_growth`` (births − deaths),
        ``stock_start``, ``stock``, ``growth_rate`` (net growth / stock_start, NaN when
        it is 0) and ``partial_year`` (True for the last year when the data end before 31
        December: its births and deaths are the year so far). ``attrs`` holds the
        ``level``, ``first_year``, ``last_year``, ``data_end``, ``deaths_recorded_from``
        (the first year with a dissolution: before it the stock holds only the
        organisations that survived to it), ``n_organisations``, ``n_counted`` and
        ``not_counted`` (reasons, see :data:`_NOT_COUNTED`).

    Raises
    ------
    InputError
        If ``points`` is not a frame, is empty or lacks a needed column; a date cannot be
        read (naming the column, the row and the value); a year lies outside the data;
        no organisation has a registration date.

    Examples
    --------
    >>> import pandas as pd
    >>> orgs = pd.DataFrame({
    ...     "registered_on": pd.to_datetime(["2010-03-01", "2011-06-30", "2012-01-15"]),
    ...     "dissolved_on": pd.to_datetime([None, "2012-05-01", None]),
    ... })
    >>> table = births_and_deaths(orgs, level=None, years=[2011, 2012])
    >>> table[["year", "births", "deaths", "stock_start", "stock"]]
       year  births  deaths  stock_start  stock
    0  2011       1       0            1      2
    1  2012       1       1            2      2
    """
    fix = (
        "read the register with socecon_geo.read_organisations, which fills "
        "'registered_on' and 'dissolved_on' where the register has the dates."
    )
    check_frame(points, "points", ("registered_on", "dissolved_on"), fix)
    areas, layer = resolve_areas(level, geography)
    registered = dates(points, "registered_on", "points")
    dissolved = dates(points, "dissolved_on", "points")
    area_pos, has_code = areas.positions(points, "points")

    reasons = dict.fromkeys(_NOT_COUNTED, 0)
    left = np.zeros(len(points), dtype=bool)

    def leave(mask: np.ndarray, reason: str) -> None:
        nonlocal left
        new = mask & ~left
        reasons[reason] = int(new.sum())
        left |= new

    leave(repeats(points), "duplicate")
    leave(registered.isna().to_numpy(dtype=bool), "no_registration_date")
    leave(
        (dissolved < registered).fillna(False).to_numpy(dtype=bool), "dissolved_before_registered"
    )
    if "active" in points.columns:
        inactive = points["active"].reset_index(drop=True).astype("boolean") == False  # noqa: E712
        leave(
            (inactive.fillna(False).to_numpy(dtype=bool) & dissolved.isna().to_numpy(dtype=bool)),
            "inactive_without_date",
        )
    # the data's span is the register's, whatever the areas: from the rows with dates
    dated = ~left
    leave(~has_code, "no_area")
    leave(area_pos < 0, "outside_areas")
    counted = ~left

    reg_years = registered.dt.year.to_numpy(dtype="float64")
    dis_years = dissolved.dt.year.to_numpy(dtype="float64")
    every_date = pd.concat([registered[dated], dissolved[dated]]).dropna()
    if every_date.empty:
        msg = (
            "points: no organisation has a usable registration date ('registered_on' is "
            f"missing on every counted row; left out: "
            f"{', '.join(f'{k} {v}' for k, v in reasons.items() if v) or 'none'}), so there "
            "are no births or stock to count."
        )
        raise InputError(msg)
    data_end = every_date.max()
    first_year = int(np.nanmin(reg_years[dated]))
    last_year = int(data_end.year)
    if years is None:
        shown = list(range(first_year, last_year + 1))
    else:
        shown = _check_years(years, first_year, last_year, "points' dates")

    span = np.arange(first_year - 1, last_year + 1)
    n_areas = len(areas.codes)
    births = np.zeros((n_areas, len(span)), dtype=np.int64)
    deaths = np.zeros((n_areas, len(span)), dtype=np.int64)
    rows = area_pos[counted]
    born = (reg_years[counted] - span[0]).astype(np.int64)
    np.add.at(births, (rows, born), 1)
    died_mask = ~np.isnan(dis_years[counted])
    died = (dis_years[counted][died_mask] - span[0]).astype(np.int64)
    np.add.at(deaths, (rows[died_mask], died), 1)
    stock = np.cumsum(births, axis=1) - np.cumsum(deaths, axis=1)

    columns = np.searchsorted(span, np.asarray(shown, dtype=np.int64))
    n_years = len(shown)
    out = pd.DataFrame(
        {
            **{
                name: np.repeat(np.asarray(values, dtype=object), n_years)
                for name, values in areas.columns().items()
            },
            "year": np.tile(np.asarray(shown, dtype=np.int64), n_areas),
            "births": births[:, columns].ravel(),
            "deaths": deaths[:, columns].ravel(),
        }
    )
    for name in areas.columns():
        out[name] = out[name].astype("string")
    out["net_growth"] = out["births"] - out["deaths"]
    out["stock_start"] = stock[:, columns - 1].ravel()
    out["stock"] = stock[:, columns].ravel()
    start = out["stock_start"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["growth_rate"] = np.where(start > 0, out["net_growth"] / start, np.nan)
    year_end = pd.Timestamp(year=last_year, month=12, day=31)
    out["partial_year"] = (out["year"] == last_year) & bool(data_end < year_end)
    first_death = np.nanmin(dis_years[dated]) if (~np.isnan(dis_years[dated])).any() else None
    out.attrs = {
        "level": areas.level,
        "code_column": areas.code_column,
        "first_year": first_year,
        "last_year": last_year,
        "data_end": data_end.date().isoformat(),
        "deaths_recorded_from": int(first_death) if first_death is not None else None,
        "n_organisations": len(points),
        "n_counted": int(counted.sum()),
        "not_counted": reasons,
        "measure": "stock",
    }
    return with_provenance(out, points, layer)


def _check_years(years: Iterable[int], first: int, last: int, what: str) -> list[int]:
    try:
        shown = sorted({int(y) for y in years})
    except (TypeError, ValueError):
        msg = f"years must be whole years such as [2011, 2012]; got {years!r}."
        raise InputError(msg) from None
    outside = [y for y in shown if not first <= y <= last]
    if outside:
        msg = (
            f"year{'s' if len(outside) > 1 else ''} {', '.join(map(str, outside))} "
            f"{'are' if len(outside) > 1 else 'is'} outside the data: the {what} run from "
            f"{first} to {last}. Pass years within {first}-{last}."
        )
        raise InputError(msg)
    if not shown:
        msg = f"years is empty; pass at least one year within {first}-{last}."
        raise InputError(msg)
    return shown


# ---------------------------------------------------------------------- the doubling path


def required_rate(target_multiple: float = 2.0, years: int = 10) -> float:
    """Return the compound annual growth rate that multiplies a value by ``target_multiple``.

    Parameters
    ----------
    target_multiple : float, default 2.0
    years : int, default 10

    Returns
    -------
    float
        ``target_multiple ** (1 / years) - 1``.

    Examples
    --------
    >>> round(required_rate(2.0, 10), 4)
    0.0718
    """
    return float(target_multiple ** (1.0 / years) - 1.0)


@dataclass(frozen=True)
class Trajectory:
    """Each area's baseline, observed growth and the path to the target.

    Attributes
    ----------
    areas : pandas.DataFrame
        One row per area: ``baseline_year``, ``baseline``, ``observed_from``,
        ``observed_to``, ``observed_rate``, ``required_rate``, ``target_year``,
        ``target``, ``projected`` (the value in the target year at the observed rate),
        ``years_to_target`` (at the observed rate) and ``trajectory_status``.
    path : pandas.DataFrame
        One row per area and year, from the first observed year to the target year:
        ``actual`` (the data, where it has the year), ``required`` (the path at the
        required rate) and ``projected`` (at the observed rate), both from the baseline
        year on.
    parameters : dict
        ``measure``, ``baseline_year``, ``target_multiple``, ``years``,
        ``required_rate`` and how the observed rate was found.
    """

    areas: pd.DataFrame
    path: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """How many areas have each ``trajectory_status``."""
        counts = self.areas["trajectory_status"].value_counts()
        return {status: int(counts[status]) for status in TRAJECTORY_STATUSES}

    def __repr__(self) -> str:
        p = self.parameters
        return (
            f"Trajectory({len(self.areas):,} areas, {p['measure']} from {p['baseline_year']}, "
            f"x{p['target_multiple']:g} in {p['years']} years needs "
            f"{p['required_rate']:.2%} a year)"
        )


def _area_code_column(frame: pd.DataFrame) -> str | None:
    for code_column, _ in _LEVELS.values():
        if code_column in frame.columns:
            return code_column
    return None


def doubling_trajectory(
    baseline: pd.DataFrame,
    *,
    baseline_year: int,
    target_multiple: float = 2.0,
    years: int = 10,
    observed_rate: float | Mapping[str, float] | None = None,
    observed_years: tuple[int, int] | None = None,
    measure: str = "stock",
) -> Trajectory:
    """Trace each area's path from a baseline to ``target_multiple`` times it, and its pace.

    The rate needed is ``target_multiple ** (1 / years) - 1`` (to double in ten years,
    7.18% a year). The observed rate is the compound annual growth of ``measure``
    between two years of the data, ``(value_to / value_from) ** (1 / (to - from)) - 1``:
    by default from the baseline year to the last complete year when the data go past
    the baseline (how it is going since), otherwise over the ``years`` years before the
    baseline (or as many as the data have). An area is ``on_course`` when its observed
    rate is at least the rate needed.

    Parameters
    ----------
    baseline : pandas.DataFrame
        One row per area and year with ``year`` and the ``measure``: the table of
        :func:`births_and_deaths` (``stock``), or any such table of a money measure (for
        example turnover by authority and year). The area is its ``lad_code`` /
        ``ward_code`` / … column (and name) if it has one, else the table is one series.
        Rows flagged ``partial_year`` are shown but not used for the default observed
        rate.
    baseline_year : int
        The year the target is set from; must be in the table.
    target_multiple : float, default 2.0
        The target as a multiple of the baseline.
    years : int, default 10
        Years to reach the target.
    observed_rate : float or mapping of area code to float, optional
        Use this annual rate (e.g. 0.03) instead of the one observed in the data.
    observed_years : (int, int), optional
        The two years of the table to measure the observed rate between.
    measure : str, default "stock"
        The column of ``baseline`` to follow.

    Returns
    -------
    Trajectory

    Raises
    ------
    InputError
        If ``baseline`` lacks ``year`` or the measure, the measure has no value on any
        row, an area has a year twice, a year given is not in the table, or the target
        or years are not positive.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"year": [2011, 2016], "stock": [100, 120]})
    >>> result = doubling_trajectory(table, baseline_year=2011)
    >>> row = result.areas.iloc[0]
    >>> print(f"{row['observed_rate']:.2%} a year observed, {row['required_rate']:.2%} needed")
    3.71% a year observed, 7.18% needed
    >>> row["trajectory_status"]
    'behind'
    """
    check_frame(
        baseline,
        "baseline",
        ("year", measure),
        "pass the table of socecon_geo.births_and_deaths (its 'stock'), or a table with "
        f"'year' and the measure {measure!r} by area.",
    )
    if not (isinstance(target_multiple, int | float) and target_multiple > 0):
        msg = f"target_multiple must be a positive number such as 2.0; got {target_multiple!r}."
        raise InputError(msg)
    if not (isinstance(years, int) and not isinstance(years, bool) and years > 0):
        msg = f"years must be a positive whole number of years such as 10; got {years!r}."
        raise InputError(msg)
    values = pd.to_numeric(baseline[measure], errors="coerce").astype("float64")
    if values.notna().sum() == 0:
        msg = (
            f"The measure {measure!r} has no value on any of the {len(baseline):,} rows of "
            "baseline: choose a column with values, or read the register's economy data."
        )
        raise InputError(msg)
    year = pd.to_numeric(baseline["year"], errors="coerce")
    if year.isna().any():
        bad = int(year.isna().sum())
        msg = f"baseline has {bad} rows whose 'year' is not a whole year; fix or drop them."
        raise InputError(msg)
    code_column = _area_code_column(baseline)
    name_column = next(n for c, n in _LEVELS.values() if c == code_column) if code_column else None
    if name_column is not None and name_column not in baseline.columns:
        name_column = None
    table = pd.DataFrame(
        {
            "code": (
                baseline[code_column].astype("string").to_numpy()
                if code_column
                else np.full(len(baseline), "all", dtype=object)
            ),
            "year": year.astype("int64").to_numpy(),
            "value": values.to_numpy(),
            "partial": (
                baseline["partial_year"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                if "partial_year" in baseline.columns
                else np.zeros(len(baseline), dtype=bool)
            ),
        }
    )
    if table["code"].isna().any():
        msg = f"baseline has {int(table['code'].isna().sum())} rows without {code_column!r}."
        raise InputError(msg)
    repeated = table.duplicated(["code", "year"])
    if repeated.any():
        first = table.loc[repeated].iloc[0]
        where = f" for {code_column} {first['code']}" if code_column else ""
        msg = (
            f"baseline has year {first['year']} more than once{where}: give one row per "
            "area and year (sum the measure by area and year first)."
        )
        raise InputError(msg)
    data_years = sorted(table["year"].unique().tolist())
    first_year, last_year = data_years[0], data_years[-1]

    def in_data(y: Any, what: str) -> int:
        if not isinstance(y, int | np.integer) or int(y) not in data_years:
            shown = (
                f"{first_year}-{last_year}"
                if len(data_years) == last_year - first_year + 1
                else ", ".join(map(str, data_years))
            )
            msg = (
                f"{what} {y!r} is outside the data: baseline has the years {shown}. Pass a "
                "year it has."
            )
            raise InputError(msg)
        return int(y)

    baseline_year = in_data(baseline_year, "baseline_year")
    complete = sorted(table.loc[~table["partial"], "year"].unique().tolist()) or data_years
    if observed_years is not None:
        if not (isinstance(observed_years, tuple | list) and len(observed_years) == 2):
            msg = f"observed_years must be two years (from, to); got {observed_years!r}."
            raise InputError(msg)
        start = in_data(observed_years[0], "observed_years[0]")
        end = in_data(observed_years[1], "observed_years[1]")
        if start >= end:
            msg = f"observed_years must run forward (from < to); got {observed_years!r}."
            raise InputError(msg)
        how = "given years"
    elif max(complete) > baseline_year:
        start, end = baseline_year, max(complete)
        how = "since the baseline year"
    else:
        earlier = [y for y in complete if baseline_year - years <= y < baseline_year]
        start, end = (min(earlier), baseline_year) if earlier else (baseline_year, baseline_year)
        how = "before the baseline year"

    wide = table.pivot(index="code", columns="year", values="value")
    order = list(pd.unique(table["code"]))
    wide = wide.reindex(order)
    names: dict[Any, Any] = {}
    if name_column is not None:
        names = dict(
            zip(baseline[code_column].astype("string"), baseline[name_column], strict=False)
        )
    base = wide[baseline_year].to_numpy(dtype="float64")
    rate_needed = required_rate(float(target_multiple), years)
    if observed_rate is None:
        if end > start:
            v0, v1 = wide[start].to_numpy(dtype="float64"), wide[end].to_numpy(dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(
                    (v0 > 0) & (v1 >= 0), (v1 / v0) ** (1.0 / (end - start)) - 1, np.nan
                )
        else:
            rate = np.full(len(order), np.nan)
        source = f"compound annual growth {start}-{end} ({how})"
    elif isinstance(observed_rate, Mapping):
        unknown = [c for c in order if c not in observed_rate]
        if unknown:
            msg = (
                f"observed_rate has no rate for {len(unknown)} area(s), e.g. {unknown[0]}; "
                "give a rate for every area, or one number for all."
            )
            raise InputError(msg)
        rate = np.array([float(observed_rate[c]) for c in order])
        start = end = None  # type: ignore[assignment]
        source = "given by area"
    else:
        try:
            rate = np.full(len(order), float(observed_rate))
        except (TypeError, ValueError):
            msg = f"observed_rate must be a number (0.03 for 3% a year); got {observed_rate!r}."
            raise InputError(msg) from None
        start = end = None  # type: ignore[assignment]
        source = "given"

    target_year = baseline_year + years
    status = []
    for b, r in zip(base, rate, strict=True):
        if not np.isfinite(b) or b <= 0:
            status.append("no_baseline")
        elif not np.isfinite(r):
            status.append("no_rate")
        elif r >= rate_needed - 1e-12:
            status.append("on_course")
        elif r >= 0:
            status.append("behind")
        else:
            status.append("shrinking")
    with np.errstate(divide="ignore", invalid="ignore"):
        to_target = np.where(
            rate > 0,
            math.log(float(target_multiple)) / np.log1p(np.where(rate > 0, rate, 0)),
            np.nan,
        )
    area_columns: dict[str, Any] = {}
    if code_column:
        area_columns[code_column] = pd.array(order, dtype="string")
        if name_column:
            area_columns[name_column] = pd.array(
                [names.get(c, pd.NA) for c in order], dtype="string"
            )
    areas_out = pd.DataFrame(
        {
            **area_columns,
            "baseline_year": baseline_year,
            "baseline": base,
            "observed_from": pd.array([start] * len(order), dtype="Int64"),
            "observed_to": pd.array([end] * len(order), dtype="Int64"),
            "observed_rate": rate,
            "required_rate": rate_needed,
            "target_year": target_year,
            "target": base * float(target_multiple),
            "projected": base * (1 + rate) ** years,
            "years_to_target": to_target,
            "trajectory_status": pd.Categorical(status, dtype=TRAJECTORY_STATUS),
        }
    )
    first_shown = min(baseline_year, start if start is not None else baseline_year)
    path_years = np.arange(first_shown, target_year + 1)
    k = path_years - baseline_year
    rows = []
    for i, code in enumerate(order):
        actual = wide.loc[code].reindex(path_years).to_numpy(dtype="float64")
        after = k >= 0
        rows.append(
            pd.DataFrame(
                {
                    "code": code,
                    "year": path_years,
                    "actual": actual,
                    "required": np.where(after, base[i] * (1 + rate_needed) ** k, np.nan),
                    "projected": np.where(after, base[i] * (1 + rate[i]) ** k, np.nan),
                }
            )
        )
    path = pd.concat(rows, ignore_index=True)
    path_out = pd.DataFrame()
    if code_column:
        path_out[code_column] = path["code"].astype("string")
        if name_column:
            path_out[name_column] = pd.array(
                [names.get(c, pd.NA) for c in path["code"]], dtype="string"
            )
    for column in ("year", "actual", "required", "projected"):
        path_out[column] = path[column].to_numpy()
    parameters = {
        "measure": measure,
        "baseline_year": baseline_year,
        "target_multiple": float(target_multiple),
        "years": years,
        "target_year": target_year,
        "required_rate": rate_needed,
        "observed": source,
        "code_column": code_column,
        "name_column": name_column,
    }
    areas_out.attrs = dict(parameters)
    path_out.attrs = dict(parameters)
    with_provenance(areas_out, baseline)
    with_provenance(path_out, baseline)
    return Trajectory(areas_out, path_out, parameters)

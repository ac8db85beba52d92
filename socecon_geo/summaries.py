"""Area summaries (:func:`summarise_areas`): one row for every area of a layer.

Counts by organisation type and sector, rates per 10,000 residents with an empirical-Bayes
smoothed rate beside the raw one, location quotients, and the area's deprivation profile
(population-weighted), for wards, LSOAs or authorities; areas without organisations get
zeros.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass
from typing import Any, Final, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from socecon_geo._checks import (
    check_bng_extent,
    check_geodataframe,
    check_projected,
    check_same_crs,
    has_geometry,
)
from socecon_geo._errors import (
    InputError,
    Problems,
    SocEconGeoWarning,
)
from socecon_geo._headings import standardise_columns
from socecon_geo._schema import LSOA_LEVEL_VINTAGE as _LSOA_VINTAGE
from socecon_geo._schema import PathLike
from socecon_geo._tables import (
    as_table,
    clean_codes,
    is_text_categorical,
)
from socecon_geo.areas import (
    _LEVEL_LABELS,
    _LEVELS,
    Level,
    _check_points,
    _Coded,
    _codes_and_uniques,
    _isin,
)
from socecon_geo.deprivation import read_deprivation
from socecon_geo.geography import Geography, summary_inputs
from socecon_geo.lookups import area_lookup_provenance
from socecon_geo.population import read_population
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

__all__ = [
    "DEFAULT_MIN_POPULATION",
    "summarise_areas",
]

DEFAULT_MIN_POPULATION: Final[int] = 1000
"""Default of ``min_population`` in :func:`summarise_areas`.

LSOAs 2021 are designed to hold 1,000 to 3,000 residents; an area with fewer residents
than the smallest LSOA (a city centre, an industrial estate) gives rates per resident
that swing wildly with one organisation more or less, so it is flagged.
"""


def _infer_level(frame: pd.DataFrame, level: str | None) -> str:
    if level is not None:
        if level not in _LEVELS:
            msg = f"level must be one of {', '.join(map(repr, _LEVELS))}, not {level!r}."
            raise InputError(msg)
        code_column = _LEVELS[level][0]
        if code_column not in frame.columns:
            other = {"lsoa21": "lsoa11", "lsoa11": "lsoa21"}.get(level)
            if other and _LEVELS[other][0] in frame.columns:
                msg = (
                    f"LSOA vintage mismatch: level={level!r} but areas holds "
                    f"{_LEVEL_LABELS[other]} codes ({_LEVELS[other][0]!r}). Pass "
                    f"level={other!r}, or {_LEVEL_LABELS[level]} areas."
                )
            else:
                msg = f"areas has no {code_column!r} column for level={level!r}."
            raise InputError(msg)
        return level
    for candidate, (code_column, _) in _LEVELS.items():
        if code_column in frame.columns:
            return candidate
    columns = ", ".join(map(str, frame.columns))
    msg = (
        "areas has none of the code columns 'lsoa21_code', 'lsoa11_code', 'ward_code', "
        f"'lad_code' (nor official ones such as 'WD24CD'); it has {columns}."
    )
    raise InputError(msg)


def _column_suffix(value: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_") or "unknown"


def _text_keys(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Factorise values compared as text: positions (-1 for NA) and the distinct texts."""
    if is_text_categorical(values.dtype):
        return values.cat.codes.to_numpy(), values.cat.categories
    return _codes_and_uniques(values.astype("string"))


def _count_table(
    rows: np.ndarray,
    value_keys: np.ndarray,
    value_uniques: pd.Index,
    area_codes: pd.Index,
    categories: list[str],
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Count each category per area (zeros included).

    ``rows`` holds the position of each organisation's area in ``area_codes`` (-1 when
    it is not counted); ``value_uniques[value_keys]`` is its value (-1 for NA); each row
    counts ``weights`` organisations (once without).
    """
    columns = pd.Index(categories, dtype=object)
    if not columns.is_unique:
        values = np.append(np.asarray(value_uniques, dtype=object), np.array([None]))[value_keys]
        counted = rows >= 0
        frame = pd.DataFrame(
            {
                "code": area_codes.to_numpy()[rows[counted]],
                "value": pd.array(values[counted], dtype="string"),
                "n": 1 if weights is None else weights[counted],
            }
        ).dropna()
        if frame.empty:
            return pd.DataFrame(0, index=area_codes, columns=categories, dtype="int64")
        counts = frame.groupby(["code", "value"])["n"].sum().unstack(fill_value=0)
        counts = counts.reindex(index=area_codes, columns=categories, fill_value=0)
        return counts.fillna(0).astype("int64")
    found = columns.get_indexer(pd.Index(np.asarray(value_uniques, dtype=object), dtype=object))
    cols = np.append(found, -1)[value_keys]
    counted = (rows >= 0) & (cols >= 0)
    width = len(columns)
    flat = np.bincount(
        rows[counted] * width + cols[counted],
        weights=None if weights is None else weights[counted],
        minlength=len(area_codes) * width,
    )
    return pd.DataFrame(
        flat.astype("int64").reshape(len(area_codes), width), index=area_codes, columns=categories
    )


def _global_eb(counts: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Global empirical-Bayes rates (Marshall 1991, method of moments); NaN where no population.

    Each raw rate ``r_i = e_i / p_i`` is shrunk toward the overall rate ``m = Σe / Σp``
    with weight ``w_i = A / (A + m / p_i)``, where ``A = s² - m / p̄`` is the
    between-area variance (``s²`` the population-weighted variance of the raw rates,
    ``p̄`` the mean population), set to 0 when negative (all areas then get ``m``).
    """
    counts = np.asarray(counts, dtype="float64")
    population = np.asarray(population, dtype="float64")
    result = np.full(counts.shape, np.nan)
    valid = np.isfinite(population) & (population > 0)
    if not valid.any():
        return result
    e, p = counts[valid], population[valid]
    overall = e.sum() / p.sum()
    raw = e / p
    if overall == 0:
        result[valid] = raw
        return result
    spread = float(np.sum(p * (raw - overall) ** 2) / p.sum())
    between = max(spread - overall / p.mean(), 0.0)
    weight = between / (between + overall / p)
    result[valid] = weight * raw + (1 - weight) * overall
    return result


@dataclass
class _Weights:
    table: pd.DataFrame  # lsoa_code, area_code, weight
    lsoa_vintage: int | None
    method: str
    provenance: tuple[Provenance, ...] = ()


def _lsoa_weights(
    level: str,
    area_codes: pd.Index,
    areas_geometry: gpd.GeoSeries,
    area_lookup: pd.DataFrame | PathLike | None,
    lsoas: gpd.GeoDataFrame | None,
    prefer_vintage: int | None,
) -> _Weights:
    """How much of each LSOA lies in each area."""
    if level in _LSOA_VINTAGE:
        table = pd.DataFrame(
            {"lsoa_code": area_codes.to_numpy(), "area_code": area_codes.to_numpy(), "weight": 1.0}
        )
        return _Weights(table, _LSOA_VINTAGE[level], "direct")
    label = _LEVEL_LABELS[level]
    code_column = _LEVELS[level][0]
    if area_lookup is not None:
        what = "area_lookup"
        raw = as_table(area_lookup, what)
        mapping = standardise_columns(raw, ["lsoa21_code", "lsoa11_code", code_column])
        keys = [c for c in ("lsoa21_code", "lsoa11_code") if c in mapping.columns]
        if prefer_vintage == 2011 and "lsoa11_code" in keys:
            keys = ["lsoa11_code"]
        if not keys or code_column not in mapping.columns:
            columns = ", ".join(map(str, mapping.columns))
            msg = (
                f"{what} must map LSOA codes ('lsoa21_code' or 'lsoa11_code') to "
                f"{code_column!r} (or official names such as 'WD24CD'); it has {columns}. "
                "Pass the ONS LSOA 2021 to ward to LAD best-fit lookup."
            )
            raise InputError(msg)
        key = keys[0]
        table = pd.DataFrame(
            {
                "lsoa_code": clean_codes(mapping[key]).to_numpy(),
                "area_code": clean_codes(mapping[code_column]).to_numpy(),
            }
        ).dropna()
        table = table[table["area_code"].isin(area_codes)].drop_duplicates()
        repeated = table["lsoa_code"].duplicated(keep=False)
        if repeated.any():
            example = table.loc[repeated, "lsoa_code"].iloc[0]
            msg = (
                f"{what} puts LSOA {example} (and {int(repeated.sum()) - 1} more rows) in "
                f"several {label}s; pass a best-fit lookup (one {label} per LSOA), or "
                "lsoas= to share LSOAs by areal overlap."
            )
            raise InputError(msg)
        uncovered = area_codes.difference(pd.Index(table["area_code"].unique()))
        if len(uncovered):
            examples = ", ".join(map(str, uncovered[:5]))
            msg = (
                f"{len(uncovered)} of {len(area_codes)} {label}s in areas have no LSOA in "
                f"{what} (e.g. {examples}): the lookup and the areas are probably of "
                "different vintages. Pass a lookup of the areas' vintage, or lsoas= "
                "(LSOA polygons) to aggregate by areal overlap instead."
            )
            raise InputError(msg)
        return _Weights(
            table.assign(weight=1.0).reset_index(drop=True),
            _LSOA_VINTAGE[key.removesuffix("_code")],
            "bestfit_lookup",
            area_lookup_provenance(raw, area_lookup),
        )
    if lsoas is not None:
        return _overlap_weights(lsoas, area_codes, areas_geometry, level)
    msg = (
        f"summarising by {label} with population or deprivation needs a way from LSOAs to "
        f"{label}s: pass area_lookup= (e.g. the ONS LSOA 2021 best-fit lookup) or lsoas= "
        "(LSOA polygons, for areal overlap)."
    )
    raise InputError(msg)


def _overlap_weights(
    lsoas: gpd.GeoDataFrame, area_codes: pd.Index, areas_geometry: gpd.GeoSeries, level: str
) -> _Weights:
    check_geodataframe(lsoas, "lsoas", "LSOA polygons")
    check_projected(lsoas.crs, "lsoas")
    check_same_crs(lsoas.crs, "lsoas", areas_geometry.crs, "areas")
    check_bng_extent(lsoas, "lsoas")
    frame = standardise_columns(
        pd.DataFrame(lsoas.drop(columns=lsoas.geometry.name)), ["lsoa21_code", "lsoa11_code"]
    )
    key = next((c for c in ("lsoa21_code", "lsoa11_code") if c in frame.columns), None)
    if key is None:
        msg = "lsoas has no 'lsoa21_code' or 'lsoa11_code' column (nor 'LSOA21CD')."
        raise InputError(msg)
    geometry = lsoas.geometry.reset_index(drop=True)
    left = gpd.GeoDataFrame(
        {"lsoa_code": clean_codes(frame[key]).to_numpy()},
        geometry=shapely.make_valid(geometry.to_numpy()),
        crs=lsoas.crs,
    )
    left = left[left["lsoa_code"].notna() & ~left.geometry.is_empty]
    total = left.assign(area=left.area).groupby("lsoa_code")["area"].sum()
    right = gpd.GeoDataFrame(
        {"area_code": area_codes.to_numpy()},
        geometry=shapely.make_valid(areas_geometry.to_numpy()),
        crs=areas_geometry.crs,
    )
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    pieces = pieces.assign(piece=pieces.area)
    table = pieces.groupby(["lsoa_code", "area_code"], as_index=False)["piece"].sum()
    table["weight"] = table["piece"] / total.reindex(table["lsoa_code"]).to_numpy()
    table = table[table["weight"] > 0][["lsoa_code", "area_code", "weight"]]
    return _Weights(
        table.reset_index(drop=True),
        _LSOA_VINTAGE[key.removesuffix("_code")],
        "areal_overlap",
        get_provenance(lsoas),
    )


def _resolve_population(population: Any, deprivation: pd.DataFrame | None) -> pd.DataFrame | None:
    if population is None:
        if deprivation is not None and "population_total" in deprivation.columns:
            return read_population(deprivation, level=None)
        return None
    if isinstance(population, pd.DataFrame) and {"lsoa_code", "population"} <= set(
        population.columns
    ):
        frame = population
        frame = frame.assign(lsoa_code=clean_codes(frame["lsoa_code"])).dropna(subset=["lsoa_code"])
        repeated = frame["lsoa_code"][frame["lsoa_code"].duplicated()].unique()
        if len(repeated):
            shown = ", ".join(map(str, repeated[:5]))
            msg = (
                f"population has {len(repeated)} LSOA code(s) more than once after cleaning "
                f"(upper case, no spaces), e.g. {shown}; keep one row per LSOA."
            )
            raise InputError(msg)
        return frame
    return read_population(population, level=None)


def _resolve_deprivation(deprivation: Any) -> pd.DataFrame | None:
    if deprivation is None:
        return None
    if isinstance(deprivation, str | os.PathLike):
        deprivation = read_deprivation(deprivation)
    if not isinstance(deprivation, pd.DataFrame):
        msg = (
            "deprivation must be a tidy IoD frame (socecon_geo.read_deprivation) or the path "
            f"of an IoD file, not {type(deprivation).__name__}."
        )
        raise InputError(msg)
    missing = [c for c in ("lsoa_code", "imd_decile") if c not in deprivation.columns]
    if missing:
        columns = ", ".join(map(str, deprivation.columns[:12]))
        msg = (
            f"deprivation lacks {' and '.join(map(repr, missing))} (it has {columns}, …); "
            "read IoD files with socecon_geo.read_deprivation."
        )
        raise InputError(msg)
    return deprivation


def _check_lsoa_vintage(table_vintage: Any, what: str, weights: _Weights, fix: str) -> None:
    if table_vintage is None or weights.lsoa_vintage is None:
        return
    if int(table_vintage) != weights.lsoa_vintage:
        via = {
            "direct": "the areas are",
            "bestfit_lookup": "area_lookup is keyed by",
            "areal_overlap": "lsoas are",
        }[weights.method]
        msg = (
            f"LSOA vintage mismatch: {what} is by LSOA {int(table_vintage)} but {via} "
            f"LSOA {weights.lsoa_vintage}; codes of split and merged LSOAs would silently "
            f"not match. {fix}"
        )
        raise InputError(msg)


def _check_coverage(found: pd.Series, what: str, weights: _Weights) -> None:
    """Raise when most LSOAs of the areas are missing from a table (a vintage mix-up)."""
    share = float(found.mean()) if len(found) else 1.0
    if share < 0.5:
        msg = (
            f"only {int(found.sum())} of {len(found)} LSOAs of the areas are in {what}: "
            f"it is probably for another LSOA vintage (the areas need LSOA "
            f"{weights.lsoa_vintage}) or another country."
        )
        raise InputError(msg)


def summarise_areas(
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None = None,
    *,
    level: Level | None = None,
    geography: Geography | None = None,
    population: pd.DataFrame | PathLike | None = None,
    deprivation: pd.DataFrame | PathLike | str | None = None,
    area_lookup: pd.DataFrame | PathLike | None = None,
    lsoas: gpd.GeoDataFrame | None = None,
    min_population: float = DEFAULT_MIN_POPULATION,
    type_column: str = "org_type",
    sector_column: str = "sic_section",
) -> gpd.GeoDataFrame:
    """Summarise organisations for every area: counts, rates, quotients, deprivation.

    Organisations are counted by the area code :func:`assign_areas` gave them
    (``lsoa21_code``, ``lsoa11_code``, ``ward_code`` or ``lad_code``, by ``level``);
    those without a code, or with one the areas do not contain, are left out and
    counted in ``attrs["unassigned"]``. Rows that
    :func:`socecon_geo.combine_registers` marked as duplicates (``duplicate_of`` set)
    count once, as the row they repeat: they are left out and counted in
    ``attrs["unassigned"]["duplicate"]``.

    Population and deprivation come by LSOA and are carried to MSOAs, wards and
    authorities either with a best-fit lookup (each LSOA wholly in one area,
    ``area_lookup``) or by areal overlap (each LSOA shared in proportion to its area
    lying in each area, ``lsoas``); the method is in the ``aggregation_method`` column
    and the attrs.

    Without ``areas``, the areas are the ``level`` layer of ``geography`` (by default
    the bundled West Midlands geography, :func:`socecon_geo.load_geography`, and
    ``level="ward"``), and so are the population (Census 2021), the deprivation (IoD2025;
    IoD2019 for LSOA 2011 areas) and the lookup, unless passed. With ``areas`` and a
    ``geography``, the geography supplies what is not passed; with ``areas`` and no
    ``geography``, only what is passed is used.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Organisations with area codes (the output of :func:`assign_areas`).
    areas : geopandas.GeoDataFrame, optional
        One row per area: wards, LSOAs, MSOAs or authorities, with their code column
        (official names such as ``WD22CD`` are recognised) in a projected CRS
        (EPSG:27700). By default the geography's layer of ``level``.
    level : {"lsoa21", "lsoa11", "msoa21", "ward", "lad"}, optional
        The kind of area; by default the finest code column ``areas`` has, or
        ``"ward"`` when ``areas`` is not given.
    geography : Geography, optional
        Where the areas, population, deprivation and lookups not passed come from (see
        above).
    population : pandas.DataFrame or path, optional
        Residents by LSOA: a frame from :func:`read_population` or anything it reads.
        Without it (and without denominators in ``deprivation``) rates are missing,
        with a warning.
    deprivation : pandas.DataFrame, path or {"iod2025", "iod2019"}, optional
        A tidy IoD frame from :func:`socecon_geo.read_deprivation` (``lsoa_code``,
        ``imd_score``, ``imd_decile``) of the areas' LSOA vintage, an IoD file, or the
        name of the geography's edition.
    area_lookup : pandas.DataFrame or path, optional
        LSOA → area lookup, e.g. the ONS LSOA 2021 → ward 2024 → LAD 2024 best-fit
        lookup (its ``ward24_code``/``ltla24_code`` columns are recognised).
    lsoas : geopandas.GeoDataFrame, optional
        LSOA polygons, to aggregate by areal overlap when no lookup fits the areas.
    min_population : float, default 1000
        Areas with fewer residents are flagged ``small_population`` (see
        :data:`DEFAULT_MIN_POPULATION`).
    type_column, sector_column : str
        Columns of ``points`` with the organisation type and the SIC section.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``areas`` (same index, order and geometry; standard code and name
        columns added when it had official ones) with:

        ``n_organisations``, ``n_<type>``
            counts, zero where there are none (one column per organisation type);
        ``n_sic_<section>``, ``top_sector``, ``top_sector_share``
            sector mix among organisations with a known SIC section;
        ``population``, ``population_source``, ``aggregation_method``
            residents and where the count comes from;
        ``rate_per_10k``, ``rate_per_10k_eb``
            organisations per 10,000 residents, raw and global empirical-Bayes smoothed
            (Marshall 1991);
        ``lq``
            location quotient: (area count / area population) / (total count / total
            population), totals over the areas with a population;
        ``small_population``
            population below ``min_population`` (rates unstable);
        ``imd_score_popweighted``, ``share_pop_imd_decile1``, ``share_pop_imd_quintile1``
            when ``deprivation`` is given: population-weighted mean IMD score and the
            share of residents in LSOAs in England's most deprived 10% and 20%;
            missing where an LSOA with residents in the area lacks the value or its
            population.

        ``attrs`` records the level, counts of organisations left out by status, the
        population and deprivation sources and vintages, and the methods used.

    Raises
    ------
    InputError
        If ``points`` is empty, lacks the level's code column, the areas lack codes or
        repeat them, or population or deprivation are of another LSOA vintage than the
        areas (or their lookup), or cannot reach the areas.
    CRSMismatchError
        If ``areas`` (or ``lsoas``) is in a geographic CRS or differs from the points.

    Notes
    -----
    The smoothed rate is the global empirical-Bayes estimate of Marshall (1991), by the
    method of moments: each raw rate is pulled toward the rate of all areas together, the
    more the fewer residents an area has. It equals ``esda.smoothing.Empirical_Bayes``
    except that a negative between-area variance is set to zero, as Marshall proposes
    (``esda`` would then give weights outside 0-1). ``top_sector`` is the most common SIC
    section; ties go to the section first in the alphabet.

    References
    ----------
    Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. *Journal of the Royal Statistical Society, Series C (Applied
    Statistics)*, 40(2), 283-294.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"lsoa21_code": ["E01000001", "E01000002"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)
    >>> orgs = gpd.GeoDataFrame({"lsoa21_code": ["E01000001"] * 3 + ["E01000002"]},
    ...     geometry=[Point(0.5, 0.5)] * 3 + [Point(1.5, 0.5)], crs=27700)
    >>> population = read_population(pd.DataFrame({
    ...     "lsoa21_code": ["E01000001", "E01000002"], "usual_residents": [1500, 2500]}))
    >>> summary = summarise_areas(orgs, areas, population=population)
    >>> summary[["lsoa21_code", "n_organisations", "population", "rate_per_10k", "lq"]]
      lsoa21_code  n_organisations  population  rate_per_10k   lq
    0   E01000001                3      1500.0          20.0  2.0
    1   E01000002                1      2500.0           4.0  0.4
    """
    return _summarise(
        points,
        None,
        areas,
        level=level,
        geography=geography,
        population=population,
        deprivation=deprivation,
        area_lookup=area_lookup,
        lsoas=lsoas,
        min_population=min_population,
        type_column=type_column,
        sector_column=sector_column,
    )


def _summarise(
    points: gpd.GeoDataFrame,
    row_counts: np.ndarray | None,
    areas: gpd.GeoDataFrame | None,
    *,
    level: Level | None,
    geography: Geography | None,
    population: pd.DataFrame | PathLike | None,
    deprivation: pd.DataFrame | PathLike | str | None,
    area_lookup: pd.DataFrame | PathLike | None,
    lsoas: gpd.GeoDataFrame | None,
    min_population: float,
    type_column: str,
    sector_column: str,
) -> gpd.GeoDataFrame:
    """:func:`summarise_areas`, each row of ``points`` counting ``row_counts`` organisations.

    ``row_counts=None`` counts every row once (:func:`summarise_areas` itself). With
    counts, ``points`` is a tally: one row for each distinct combination of the columns
    the summary reads, counting the organisations that share it, first occurrence first
    (as :mod:`socecon_geo.partitioned` combines the tallies of its partitions), so the
    summary equals that of the organisations themselves.
    """
    _check_points(points, "summarise")
    defaults = summary_inputs(
        geography,
        areas=areas,
        level=level,
        population=population,
        deprivation=deprivation,
        area_lookup=area_lookup,
        lsoas=lsoas,
    )
    areas, level = defaults["areas"], defaults["level"]
    population, deprivation = defaults["population"], defaults["deprivation"]
    area_lookup, lsoas = defaults["area_lookup"], defaults["lsoas"]
    check_geodataframe(areas, "areas", "area polygons")
    if len(areas) == 0:
        msg = "areas has no rows; pass the wards, LSOAs or authorities to summarise."
        raise InputError(msg)
    check_projected(areas.crs, "areas")
    check_bng_extent(areas, "areas")
    geometry = points.geometry if points._geometry_column_name in points.columns else None
    # (the CRSs matter only when they differ and some organisation has a point)
    if (
        geometry is not None
        and points.crs is not None
        and areas.crs != points.crs
        and has_geometry(geometry).any()
    ):
        check_same_crs(areas.crs, "areas", points.crs, "the points")
    # (the points' coordinates are not used here, only their codes: assign_areas, which
    # places them, checks them against the British National Grid)

    standard = standardise_columns(
        pd.DataFrame(areas.drop(columns=areas.geometry.name)),
        [c for pair in _LEVELS.values() for c in pair],
    )
    level = cast(Level, _infer_level(standard, level))
    code_column = _LEVELS[level][0]
    area_codes_series = clean_codes(standard[code_column]).reset_index(drop=True)
    problems = Problems("areas")
    if area_codes_series.isna().any():
        problems.add(f"{int(area_codes_series.isna().sum())} rows have no {code_column}")
    if area_codes_series.duplicated().any():
        repeated = area_codes_series[area_codes_series.duplicated()].dropna()
        if len(repeated):
            problems.add(
                f"{repeated.nunique()} codes appear on more than one row (e.g. "
                f"{repeated.iloc[0]}); dissolve the areas by {code_column} first"
            )
    problems.raise_if_any(InputError)
    area_codes = pd.Index(area_codes_series.to_numpy())
    if code_column not in points.columns:
        layer = {"lsoa21": "lsoas21", "lsoa11": "lsoas11", "ward": "wards", "lad": "authorities"}
        msg = (
            f"points has no {code_column!r} column: give the organisations their areas "
            f"first with assign_areas(points, {layer[level]}=areas)."
        )
        raise InputError(msg)

    # Counting (a duplicate row of combine_registers counts once, as the row it repeats).
    duplicate = (
        points["duplicate_of"].notna().to_numpy(dtype=bool)
        if "duplicate_of" in points.columns
        else np.zeros(len(points), dtype=bool)
    )
    n_duplicates = int(duplicate.sum() if row_counts is None else row_counts[duplicate].sum())
    if duplicate.any():
        points = points.loc[~duplicate]
        row_counts = None if row_counts is None else row_counts[~duplicate]
    point_codes = _Coded.from_series(points[code_column])
    # position of each organisation's area in area_codes (-1: no code, or another area)
    area_rows = np.append(area_codes.get_indexer(point_codes.uniques), -1)[point_codes.keys]
    in_areas = pd.Series(area_rows >= 0)
    unassigned = _unassigned(points, point_codes, in_areas, row_counts)
    if duplicate.any():
        unassigned["duplicate"] = n_duplicates
    _warn_foreign_codes(points, point_codes, in_areas, standard, level, row_counts)

    stats = _count_columns(points, area_rows, area_codes, type_column, sector_column, row_counts)

    # Population and deprivation by LSOA, carried to the areas.
    dep_table = _resolve_deprivation(deprivation)
    pop_table = _resolve_population(population, dep_table)
    if pop_table is None:
        msg = (
            "summarise_areas has no population, so rate_per_10k, rate_per_10k_eb and lq are "
            "missing: pass population= (e.g. socecon_geo.load_population(), Census 2021 "
            "residents by LSOA) or geography=socecon_geo.load_geography()."
        )
        warnings.warn(msg, SocEconGeoWarning, stacklevel=3)
    weights: _Weights | None = None
    if pop_table is not None or dep_table is not None:
        prefer = None
        for table in (pop_table, dep_table):
            if table is not None and table.attrs.get("lsoa_vintage"):
                prefer = int(table.attrs["lsoa_vintage"])
                break
        weights = defaults["cache"](
            ("lsoa_weights", level, prefer),
            lambda: _lsoa_weights(
                level,
                area_codes,
                areas.geometry.reset_index(drop=True),
                area_lookup,
                lsoas,
                prefer,
            ),
        )
    population_values = pd.Series(np.nan, index=area_codes)
    population_label: str | None = None
    lsoa_population: pd.Series | None = None
    if pop_table is not None and weights is not None:
        _check_lsoa_vintage(
            pop_table.attrs.get("lsoa_vintage"),
            f"population ({pop_table.attrs.get('vintage', 'population table')})",
            weights,
            "Use the Census 2021 table or IoD2025 denominators for LSOA 2021 areas, IoD2019 "
            "File 6 for LSOA 2011 areas.",
        )
        lsoa_population = (
            pop_table.drop_duplicates("lsoa_code")
            .set_index("lsoa_code")["population"]
            .astype("float64")
        )
        found = pd.Series(
            _isin(weights.table["lsoa_code"], lsoa_population.index), index=weights.table.index
        )
        _check_coverage(found, "population", weights)
        joined = weights.table.assign(
            people=weights.table["weight"]
            * lsoa_population.reindex(weights.table["lsoa_code"]).to_numpy()
        )
        summed = joined.groupby("area_code")["people"].sum(min_count=1)
        incomplete = joined.loc[joined["people"].isna(), "area_code"].unique()
        summed[summed.index.isin(incomplete)] = np.nan
        population_values = summed.reindex(area_codes)
        population_label = str(pop_table.attrs.get("vintage", "population table"))
    stats["population"] = population_values.to_numpy(dtype="float64")
    stats["population_source"] = pd.array(
        [
            population_label if population_label and not math.isnan(v) else pd.NA
            for v in stats["population"]
        ],
        dtype="string",
    )
    stats["aggregation_method"] = pd.array(
        [weights.method if weights is not None else pd.NA] * len(stats), dtype="string"
    )

    counts_array = stats["n_organisations"].to_numpy(dtype="float64")
    people = stats["population"].to_numpy(dtype="float64")
    valid = np.isfinite(people) & (people > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(valid, counts_array / people, np.nan)
    total_count, total_people = counts_array[valid].sum(), people[valid].sum()
    overall = total_count / total_people if total_people > 0 else np.nan
    stats["rate_per_10k"] = rate * 10_000
    stats["rate_per_10k_eb"] = _global_eb(counts_array, np.where(valid, people, np.nan)) * 10_000
    stats["lq"] = rate / overall if overall and np.isfinite(overall) and overall > 0 else np.nan
    small = pd.array(people < min_population, dtype="boolean")
    small[~np.isfinite(people)] = pd.NA
    stats["small_population"] = small

    imd_notes: dict[str, Any] = {}
    if dep_table is not None and weights is not None:
        imd_notes = _deprivation_profile(stats, dep_table, weights, lsoa_population, level)

    out = areas.copy()
    for column in standard.columns:
        if column not in out.columns:
            out[column] = standard[column].to_numpy()
    for column in stats.columns:
        out[column] = (
            stats[column].to_numpy()
            if not isinstance(stats[column].dtype, pd.StringDtype | pd.BooleanDtype)
            else stats[column].array
        )
    out.attrs = {
        "level": level,
        "code_column": code_column,
        "n_areas": len(out),
        "n_points": len(points) if row_counts is None else int(row_counts.sum()),
        "n_counted": int(in_areas.sum() if row_counts is None else row_counts[in_areas].sum()),
        "unassigned": unassigned,
        "population_source": pop_table.attrs.get("source") if pop_table is not None else None,
        "population_vintage": population_label,
        "population_lsoa_vintage": (
            pop_table.attrs.get("lsoa_vintage") if pop_table is not None else None
        ),
        "aggregation_method": weights.method if weights is not None else None,
        "min_population": min_population,
        "rate_smoothing": "global empirical Bayes, method of moments (Marshall 1991)",
        "lq_reference": "all areas of this summary with a population",
        "geocode_status": (
            {
                str(k): int(v)
                for k, v in _value_counts(
                    points["geocode_status"].reset_index(drop=True), in_areas, row_counts
                ).items()
                if v > 0
            }
            if "geocode_status" in points.columns
            else None
        ),
        **imd_notes,
    }
    return with_provenance(
        out,
        points,
        areas,
        pop_table,
        dep_table,
        weights.provenance if weights is not None else None,
    )


def _value_counts(values: pd.Series, mask: Any, weights: np.ndarray | None) -> pd.Series:
    """``values[mask].value_counts()``, each row counting ``weights`` (once without)."""
    if weights is None:
        return values[mask].value_counts()
    chosen = np.asarray(mask, dtype=bool)
    return (
        pd.Series(weights[chosen], index=values[chosen].to_numpy())
        .groupby(level=0, observed=False, sort=False)
        .sum()
        .reindex(values[chosen].value_counts().index, fill_value=0)
        .sort_values(ascending=False, kind="stable")
    )


def _count_columns(
    points: pd.DataFrame,
    area_rows: np.ndarray,
    area_codes: pd.Index,
    type_column: str,
    sector_column: str,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Count organisations per area: in all, by type, and by SIC section.

    ``area_rows`` holds the position of each organisation's area in ``area_codes`` (-1
    when it is not counted); each row counts ``weights`` organisations (once without).
    """
    in_areas = area_rows >= 0
    stats = pd.DataFrame(index=area_codes)
    totals = np.bincount(
        area_rows[in_areas],
        weights=None if weights is None else weights[in_areas],
        minlength=len(area_codes),
    )
    stats["n_organisations"] = totals.astype("int64")
    if type_column in points.columns:
        types = points[type_column].reset_index(drop=True)
        if isinstance(types.dtype, pd.CategoricalDtype):
            categories = [str(c) for c in types.cat.categories]
        else:
            categories = sorted(types.dropna().astype(str).unique())
        counts = _count_table(area_rows, *_text_keys(types), area_codes, categories, weights)
        # Types spelt alike ("Charity", "charity ") share a column: add their counts.
        by_column: dict[str, np.ndarray] = {}
        for category in categories:
            column = f"n_{_column_suffix(category)}"
            previous = by_column.get(column)
            values = counts[category].to_numpy()
            by_column[column] = values if previous is None else previous + values
        for column, values in by_column.items():
            stats[column] = values
    if sector_column in points.columns:
        sectors = _Coded.from_series(points[sector_column])
        keys = sectors.keys[in_areas]
        present = np.flatnonzero(np.bincount(keys[keys >= 0], minlength=len(sectors.uniques)))
        sections = sorted(sectors.uniques.take(present).tolist())
        counts = _count_table(
            area_rows, sectors.keys, sectors.uniques, area_codes, sections, weights
        )
        for section in sections:
            stats[f"n_sic_{_column_suffix(section).upper()}"] = counts[section].to_numpy()
        known = counts.sum(axis=1)
        if sections:
            top = counts.idxmax(axis=1).where(known > 0)
            stats["top_sector"] = pd.array(top.to_numpy(), dtype="string")
            stats["top_sector_share"] = (counts.max(axis=1) / known.where(known > 0)).to_numpy()
        else:
            stats["top_sector"] = pd.array([pd.NA] * len(stats), dtype="string")
            stats["top_sector_share"] = np.nan

    return stats


def _unassigned(
    points: pd.DataFrame, codes: _Coded, in_areas: pd.Series, weights: np.ndarray | None = None
) -> dict[str, int]:
    def total(mask: np.ndarray) -> int:
        return int(mask.sum() if weights is None else weights[mask].sum())

    left_out: dict[str, int] = {}
    no_code = ~codes.notna()
    if no_code.any():
        if "area_status" in points.columns:
            status = points["area_status"].reset_index(drop=True).astype("string")
            status = status.fillna("unknown")
            counted = _value_counts(status, no_code, weights)
            left_out.update({str(k): int(v) for k, v in counted.items()})
        else:
            left_out["no_code"] = total(no_code)
    elsewhere = codes.notna() & ~in_areas.to_numpy()
    if elsewhere.any():
        left_out["code_not_in_areas"] = total(elsewhere)
    return left_out


def _warn_foreign_codes(
    points: pd.DataFrame,
    codes: _Coded,
    in_areas: pd.Series,
    areas: pd.DataFrame,
    level: str,
    weights: np.ndarray | None = None,
) -> None:
    """Warn when organisations of the areas' authorities have codes the areas lack."""
    if level == "lad" or "lad_code" not in points.columns or "lad_code" not in areas.columns:
        return
    elsewhere = np.flatnonzero(codes.notna() & ~in_areas.to_numpy())
    if len(elsewhere) == 0:
        return
    lads = set(clean_codes(areas["lad_code"]).dropna())
    point_lads = _Coded.from_series(points["lad_code"].iloc[elsewhere])
    foreign = elsewhere[point_lads.isin(lads)]
    if len(foreign):
        example = codes.take(foreign[:1]).iloc[0]
        column = _LEVELS[level][0]
        n_foreign = len(foreign) if weights is None else int(weights[foreign].sum())
        warnings.warn(
            f"{n_foreign} organisations in the areas' authorities have a {column} "
            f"the areas do not contain (e.g. {example}), so they are not counted: their codes "
            "are of another vintage than the areas, or their points lie outside the areas' "
            "(generalised) polygons. Assign areas with these areas as the layer, e.g. "
            "assign_areas(points, wards=areas), or use areas of the codes' vintage.",
            SocEconGeoWarning,
            stacklevel=4,
        )


def _deprivation_profile(
    stats: pd.DataFrame,
    deprivation: pd.DataFrame,
    weights: _Weights,
    lsoa_population: pd.Series | None,
    level: str,
) -> dict[str, Any]:
    """Add the population-weighted IMD columns to ``stats``; return notes for attrs."""
    _check_lsoa_vintage(
        deprivation.attrs.get("lsoa_vintage"),
        f"deprivation ({deprivation.attrs.get('vintage', 'IoD')})",
        weights,
        "Use IoD2025 for LSOA 2021 areas and IoD2019 for LSOA 2011 areas.",
    )
    table = deprivation.assign(lsoa_code=clean_codes(deprivation["lsoa_code"]))
    table = table.dropna(subset=["lsoa_code"]).drop_duplicates("lsoa_code").set_index("lsoa_code")
    found = pd.Series(_isin(weights.table["lsoa_code"], table.index), index=weights.table.index)
    _check_coverage(found, "deprivation", weights)
    joined = weights.table.copy()
    if level in _LSOA_VINTAGE:
        joined["people"] = 1.0
    else:
        if lsoa_population is None:
            msg = (
                "population-weighted IMD needs residents by LSOA: pass population= (e.g. "
                "the Census 2021 usual residents table) or deprivation with population "
                "denominators."
            )
            raise InputError(msg)
        joined["people"] = (
            joined["weight"] * lsoa_population.reindex(joined["lsoa_code"]).to_numpy()
        )
    lsoa_codes = joined["lsoa_code"].to_numpy()
    score = (
        pd.to_numeric(table["imd_score"], errors="coerce")
        .reindex(lsoa_codes)
        .to_numpy(dtype="float64")
        if "imd_score" in table.columns
        else np.full(len(joined), np.nan)
    )
    decile = (
        pd.to_numeric(table["imd_decile"], errors="coerce")
        .reindex(lsoa_codes)
        .to_numpy(dtype="float64")
    )
    people = joined["people"].to_numpy(dtype="float64")
    has_score = np.isfinite(score) & np.isfinite(people)
    has_decile = np.isfinite(decile) & np.isfinite(people)
    # An LSOA with residents in the area but no score (or decile, or population) leaves
    # the area's figure unknown, as for the population: never a share of part of it.
    counts_people = ~(people == 0)
    parts = pd.DataFrame(
        {
            "area_code": joined["area_code"].to_numpy(),
            "score_gap": (~has_score & counts_people).astype("int64"),
            "decile_gap": (~has_decile & counts_people).astype("int64"),
            "score_num": np.where(has_score, people * np.nan_to_num(score), 0.0),
            "score_den": np.where(has_score, people, 0.0),
            "decile_den": np.where(has_decile, people, 0.0),
            "decile1": np.where(has_decile & (decile == 1), people, 0.0),
            "quintile1": np.where(has_decile & (decile <= 2), people, 0.0),
        }
    )
    sums = parts.groupby("area_code").sum().reindex(stats.index).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score_known = (sums["score_den"] > 0) & (sums["score_gap"] == 0)
        decile_known = (sums["decile_den"] > 0) & (sums["decile_gap"] == 0)
        stats["imd_score_popweighted"] = np.where(
            score_known, sums["score_num"] / sums["score_den"], np.nan
        )
        stats["share_pop_imd_decile1"] = np.where(
            decile_known, sums["decile1"] / sums["decile_den"], np.nan
        )
        stats["share_pop_imd_quintile1"] = np.where(
            decile_known, sums["quintile1"] / sums["decile_den"], np.nan
        )
    return {
        "deprivation_vintage": deprivation.attrs.get("vintage"),
        "deprivation_lsoa_vintage": deprivation.attrs.get("lsoa_vintage"),
        "deprivation_lsoas_missing": int((~found).sum()),
        "imd_weighting": "LSOA itself" if level in _LSOA_VINTAGE else "residents",
    }

"""The partitioned path beyond one machine's memory (the ``dask`` extra).

``pip install "socecon_geo[dask]"`` installs `dask-geopandas`_ and `distributed`_. The
functions here run the library's own steps on the partitions of a Dask dataframe, on
whatever Dask scheduler is active (a :class:`distributed.Client` of a local or remote
cluster, or Dask's threads), and give the same results as the in-memory path:

:func:`read_organisations_partitioned`
    register files read by :func:`socecon_geo.read_organisations`, one task per file,
    into partitions of ``rows_per_partition`` rows; ``source_row`` stays each file's;
:func:`geocode_partitioned`
    :func:`socecon_geo.geocode` on every partition, the geocoder (and its postcode
    table) sent to each worker once;
:func:`assign_areas_partitioned`
    :func:`socecon_geo.assign_areas` (point in polygon, lookups) on every partition,
    the geography sent to each worker once;
:func:`attach_deprivation_partitioned`
    :func:`socecon_geo.attach_deprivation` on every partition, the deprivation table
    sent to each worker once;
:func:`summarise_areas_partitioned`
    :func:`socecon_geo.summarise_areas`: each partition is reduced to a tally (one row
    per distinct combination of the columns the summary reads, with the number of
    organisations sharing it), the tallies are added up, and the rates, location
    quotients, smoothing and deprivation profile are computed once, exactly as in memory.

The in-memory functions stay the default; nothing else in the library imports Dask. See
:doc:`/scale` for when this path is worth it (the measured threshold) and an example.

.. _dask-geopandas: https://dask-geopandas.readthedocs.io
.. _distributed: https://distributed.dask.org
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from socecon_geo._checks import check_geodataframe, has_geometry
from socecon_geo._errors import InputError, MissingExtraError
from socecon_geo._headings import standardise_columns
from socecon_geo.areas import _LEVELS, Level, assign_areas
from socecon_geo.attach import attach_deprivation
from socecon_geo.geocoding import geocode
from socecon_geo.geocoding._geocode import _as_geocoder
from socecon_geo.geography import load_geography, summary_inputs
from socecon_geo.provenance import combine_provenance, with_provenance
from socecon_geo.registers import read_organisations
from socecon_geo.summaries import DEFAULT_MIN_POPULATION, _infer_level, _summarise

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd

    from socecon_geo.geocoding import Geocoder
    from socecon_geo.geography import Geography

__all__ = [
    "DEFAULT_ROWS_PER_PARTITION",
    "INSTALL_COMMAND",
    "assign_areas_partitioned",
    "attach_deprivation_partitioned",
    "geocode_partitioned",
    "read_organisations_partitioned",
    "summarise_areas_partitioned",
]

INSTALL_COMMAND: Final[str] = 'pip install "socecon_geo[dask]"'
DEFAULT_ROWS_PER_PARTITION: Final[int] = 250_000
"""Default of ``rows_per_partition``: about 0.4 GB of geocoded, placed organisations."""

_PACKAGES: Final = ("dask", "dask.dataframe", "dask_geopandas")
_TALLY_COUNT: Final[str] = "__organisations__"
_HAS_POINT: Final[str] = "__has_point__"
_DUPLICATE: Final[str] = "duplicate_of"


def _dask() -> tuple[ModuleType, ModuleType]:
    """Return ``dask`` and ``dask.dataframe`` (with dask-geopandas registered), or raise."""
    modules = []
    for name in _PACKAGES:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            missing = (exc.name or name).split(".")[0].replace("_", "-")
            msg = (
                f"The partitioned path needs the optional packages dask-geopandas and "
                f"distributed ({missing} is not installed). Install them with: "
                f"{INSTALL_COMMAND}"
            )
            raise MissingExtraError(msg) from None
    return modules[0], modules[1]


def _shared(value: Any) -> Any:
    """``value`` as a task argument that reaches each worker once.

    With a running :class:`distributed.Client` it is scattered to every worker
    (``broadcast=True``), so a postcode table or a geography is pickled once per worker
    rather than once per task or into the task graph; Dask's local schedulers share the
    object itself.
    """
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - the extra installs distributed
        return value
    try:
        client = default_client()
    except ValueError:  # no client: the threaded or synchronous scheduler
        return value
    # (in a list, so that a dict or a tuple is scattered whole, as one value)
    return client.scatter([value], broadcast=True, hash=False)[0]


def _check_dask_frame(frame: Any, argument: str, produced_by: str) -> None:
    _, dd = _dask()
    if not isinstance(frame, dd.DataFrame):
        msg = (
            f"{argument} must be a Dask dataframe (the output of {produced_by}), not "
            f"{type(frame).__name__}; use the in-memory function for a pandas frame, or "
            "dask.dataframe.from_pandas(frame, npartitions=...) first."
        )
        raise InputError(msg)


# ------------------------------------------------------------------------------ reading


def _read_file(source: str, options: dict[str, Any]) -> pd.DataFrame:
    return read_organisations(source, **options)


def _describe(frame: pd.DataFrame) -> tuple[int, dict[str, Any], pd.DataFrame]:
    return len(frame), dict(frame.attrs), frame.iloc[:0]


def _rows(frame: pd.DataFrame, start: int, stop: int, offset: int, attrs: Any) -> pd.DataFrame:
    part = frame.iloc[start:stop]
    if offset:
        part = part.set_axis(part.index + offset)
    part.attrs = dict(attrs)
    return part


def _merged_attrs(described: Sequence[tuple[int, dict[str, Any], pd.DataFrame]]) -> Any:
    """Return the attrs of the files read, as one read of them all would have them."""
    if len(described) == 1:
        return described[0][1]
    every = [attrs for _, attrs, _ in described]
    filtered: dict[str, int] = {}
    for attrs in every:
        for reason, count in attrs.get("filtered_out", {}).items():
            filtered[reason] = filtered.get(reason, 0) + int(count)
    registers = {attrs.get("register") for attrs in every}
    return {
        "source": [attrs.get("source") for attrs in every],
        "register": registers.pop() if len(registers) == 1 else sorted(map(str, registers)),
        "rows_read": sum(int(attrs.get("rows_read", 0)) for attrs in every),
        "filtered_out": filtered,
        "files": every,
        "provenance": [
            record.to_dict()
            for record in combine_provenance(*(attrs.get("provenance", []) for attrs in every))
        ],
    }


def _check_same_columns(paths: Sequence[Any], metas: Sequence[pd.DataFrame]) -> None:
    """Raise unless every file gave the first file's columns and dtypes."""
    first = metas[0].dtypes
    for path, meta in zip(paths[1:], metas[1:], strict=True):
        if not meta.dtypes.equals(first):
            extra = [str(c) for c in meta.columns if c not in first.index]
            lacking = [str(c) for c in first.index if c not in meta.columns]
            differs = f"columns {extra} not in" if extra else f"no columns {lacking} of"
            if not extra and not lacking:
                differs = "other column dtypes than"
            msg = (
                f"register file '{os.fspath(path)}' reads with {differs} "
                f"'{os.fspath(paths[0])}'; partitions of one dataframe need one layout. Read "
                "files of different registers or layouts separately (and combine them with "
                "socecon_geo.combine_registers), or pass the same options for every file."
            )
            raise InputError(msg)


def read_organisations_partitioned(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION,
    **options: Any,
) -> dd.DataFrame:
    """Read register files into a Dask dataframe with the library's own reader.

    Each file is read by :func:`socecon_geo.read_organisations` (with ``options``) in a
    task of its own, on a worker when a :class:`distributed.Client` is running; the
    rows it keeps are then served as partitions of at most ``rows_per_partition`` rows,
    in file order. Every partition is a slice of one file's reading, so ``source_file``
    and ``source_row`` are that file's, wherever the partition boundaries fall, and an
    error in a file (a value in row 1,234,567 that is not a date) arrives as the
    reader's :class:`~socecon_geo.InputError` naming that row.

    Parameters
    ----------
    sources : path or sequence of paths
        One register file, or several (the parts of the Companies House product); each
        is one task, so several files are read in parallel.
    rows_per_partition : int, default 250000
        The most rows in a partition: what a worker geocodes and places at a time.
    **options
        Passed to :func:`socecon_geo.read_organisations` (``register=``,
        ``company_categories=``, ``columns=``, ...).

    Returns
    -------
    dask.dataframe.DataFrame
        The organisation schema, as :func:`socecon_geo.read_organisations` returns it.
        Computed, one file gives the same frame (index, columns, dtypes, ``attrs``) as
        ``read_organisations(path, **options)``; several give their rows one file after
        another, numbered from 0 as ``pandas.concat(..., ignore_index=True)`` would,
        with ``attrs`` adding up ``rows_read`` and ``filtered_out`` (each file's own
        under ``attrs["files"]``) and holding the provenance of every file.

    Raises
    ------
    InputError
        If ``sources`` is empty, ``rows_per_partition`` is not a positive whole number,
        a file cannot be read (the reader's message: file, column, row), or the files
        read into different columns (other registers or layouts).
    MissingExtraError
        If the ``dask`` extra is not installed.

    Notes
    -----
    The files are read (and held by the workers) when this function is called, so that
    the partitions' lengths, and so their boundaries, are known; the later steps are
    lazy until ``.compute()`` or :func:`summarise_areas_partitioned`.
    """
    dask, dd = _dask()
    whole = isinstance(rows_per_partition, int) and not isinstance(rows_per_partition, bool)
    if not whole or rows_per_partition < 1:
        msg = (
            "rows_per_partition must be a positive whole number of rows, got "
            f"{rows_per_partition!r}"
        )
        raise InputError(msg)
    paths = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
    if not paths:
        msg = "sources is empty: pass the path of a register file, or a list of them."
        raise InputError(msg)
    reads = dask.persist(*[dask.delayed(_read_file)(os.fspath(p), options) for p in paths])
    described = dask.compute(*[dask.delayed(_describe)(read) for read in reads])
    _check_same_columns(paths, [meta for _, _, meta in described])
    attrs = _merged_attrs(described)
    parts = []
    offset = 0
    for read, (length, _, _) in zip(reads, described, strict=True):
        for start in range(0, max(length, 1), rows_per_partition):
            stop = min(start + rows_per_partition, length)
            shift = offset if len(paths) > 1 else 0
            parts.append(dask.delayed(_rows)(read, start, stop, shift, attrs))
        offset += length
    meta = described[0][2]
    meta.attrs = dict(attrs)
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


# ---------------------------------------------------------------------------- geocoding


def _geocode_partition(
    frame: pd.DataFrame, geocoder: Any, postcode_column: str, meta: gpd.GeoDataFrame
) -> Any:
    if len(frame) == 0:
        return meta
    return geocode(frame, geocoder=geocoder, postcode_column=postcode_column)


def _blank(meta: pd.DataFrame) -> pd.DataFrame:
    """One row of missing values in the columns and dtypes of ``meta``."""
    blank = meta.reindex(pd.RangeIndex(1))
    blank.attrs = dict(meta.attrs)
    return blank


def geocode_partitioned(
    organisations: dd.DataFrame,
    *,
    geocoder: Geocoder | None = None,
    postcode_column: str = "postcode",
) -> Any:
    """Place organisations at their postcodes, partition by partition.

    :func:`socecon_geo.geocode` runs on every partition with one geocoder, which (with
    its postcode table: the bundled West Midlands one by default, or
    :meth:`socecon_geo.OfflinePostcodeGeocoder.national`) is sent to each worker once.

    Parameters
    ----------
    organisations : dask.dataframe.DataFrame
        Organisations with a postcode column, e.g. from
        :func:`read_organisations_partitioned`.
    geocoder : Geocoder, optional
        As for :func:`socecon_geo.geocode`. A web-service geocoder works too, but would
        be called by every worker at once.
    postcode_column : str, default "postcode"
        The column holding the postcodes.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        Lazy; computed, the frame :func:`socecon_geo.geocode` returns for the computed
        organisations (one row per organisation, same index and order).

    Raises
    ------
    InputError
        If ``organisations`` is not a Dask dataframe, or as :func:`socecon_geo.geocode`
        (no postcode column, ...).
    MissingExtraError
        If the ``dask`` extra is not installed.
    """
    _check_dask_frame(organisations, "organisations", "read_organisations_partitioned")
    chosen = _as_geocoder(geocoder)
    # the columns and dtypes geocode gives: from one organisation without a postcode
    blank = _blank(organisations._meta)
    meta = geocode(blank, geocoder=chosen, postcode_column=postcode_column).iloc[:0]
    return organisations.map_partitions(
        _geocode_partition, _shared(chosen), postcode_column, meta, meta=meta
    )


# --------------------------------------------------------------------- areas of points


def _without_counts(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop the partition's own status counts from attrs, so every partition's are alike.

    pandas keeps the ``attrs`` of concatenated frames only where they are equal, as
    the partitions' are once their counts are gone; ``area_status`` holds the counts.
    """
    notes = dict(frame.attrs.get("assign_areas", {}))
    notes.pop("status_counts", None)
    frame.attrs["assign_areas"] = notes
    return frame


def _assign_partition(frame: gpd.GeoDataFrame, options: dict[str, Any], meta: Any) -> Any:
    if len(frame) == 0:
        return meta
    return _without_counts(assign_areas(frame, **options))


def assign_areas_partitioned(
    points: Any,
    *,
    geography: Geography | None = None,
    **layers: Any,
) -> Any:
    """Give every organisation its areas, partition by partition.

    :func:`socecon_geo.assign_areas` runs on every partition with the same geography
    and layers, which are sent to each worker once.

    Parameters
    ----------
    points : dask_geopandas.GeoDataFrame
        Organisations with points, from :func:`geocode_partitioned`.
    geography : Geography, optional
        As for :func:`socecon_geo.assign_areas` (by default the bundled West Midlands
        geography).
    **layers
        ``wards=``, ``lsoas21=``, ``lsoas11=``, ``msoas21=``, ``authorities=``,
        ``lsoa_lookup=``, ``area_lookup=``, as for :func:`socecon_geo.assign_areas`.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        Lazy; computed, the frame :func:`socecon_geo.assign_areas` returns for the
        computed points, but for ``attrs["assign_areas"]["status_counts"]``, which each
        partition would have of its own (``area_status.value_counts()`` gives them).

    Raises
    ------
    InputError
        If ``points`` is not a Dask dataframe with geometry, or as
        :func:`socecon_geo.assign_areas`.
    MissingExtraError
        If the ``dask`` extra is not installed.
    """
    _check_dask_frame(points, "points", "geocode_partitioned")
    check_geodataframe(points._meta, "points", "organisations (the output of geocode_partitioned)")
    if geography is None and not any(value is not None for value in layers.values()):
        geography = load_geography()  # what assign_areas uses then: loaded once, here
    options = {**layers, "geography": geography}
    # the columns and dtypes assign_areas gives: from one organisation without a place
    meta = _without_counts(assign_areas(_blank(points._meta), **options).iloc[:0])
    return points.map_partitions(_assign_partition, _shared(options), meta, meta=meta)


def _attach_partition(frame: pd.DataFrame, options: dict[str, Any], meta: Any) -> Any:
    if len(frame) == 0:
        return meta
    return attach_deprivation(frame, **options)


def attach_deprivation_partitioned(
    points: Any,
    deprivation: Any = "iod2025",
    *,
    geography: Geography | None = None,
    lsoa_lookup: Any = None,
    columns: Sequence[str] | None = None,
) -> Any:
    """Give every organisation the deprivation of its LSOA, partition by partition.

    :func:`socecon_geo.attach_deprivation` runs on every partition with the same
    deprivation table and lookup, which are sent to each worker once.

    Parameters
    ----------
    points : dask.dataframe.DataFrame
        Organisations with LSOA codes, from :func:`assign_areas_partitioned`.
    deprivation, geography, lsoa_lookup, columns
        As for :func:`socecon_geo.attach_deprivation`.

    Returns
    -------
    dask_geopandas.GeoDataFrame or dask.dataframe.DataFrame
        Lazy; computed, the frame :func:`socecon_geo.attach_deprivation` returns for the
        computed points.

    Raises
    ------
    InputError
        If ``points`` is not a Dask dataframe, or as
        :func:`socecon_geo.attach_deprivation`.
    MissingExtraError
        If the ``dask`` extra is not installed.
    """
    _check_dask_frame(points, "points", "assign_areas_partitioned")
    if geography is None and isinstance(deprivation, str) and lsoa_lookup is None:
        geography = load_geography()  # what attach_deprivation uses then: loaded once, here
    options = {
        "deprivation": deprivation,
        "geography": geography,
        "lsoa_lookup": lsoa_lookup,
        "columns": columns,
    }
    meta = attach_deprivation(_blank(points._meta), **options).iloc[:0]
    return points.map_partitions(_attach_partition, _shared(options), meta, meta=meta)


# -------------------------------------------------------------------------- summaries


def _tally_columns(code_column: str, type_column: str, sector_column: str) -> list[str]:
    """Return the columns of the organisations a summary reads (those present are tallied).

    ``lad_code`` is read for the warning about codes the areas lack; it follows from
    the area code, so it adds few combinations.
    """
    wanted = [code_column, "lad_code", type_column, sector_column]
    return list(dict.fromkeys([*wanted, "area_status", "geocode_status", _DUPLICATE]))


def _code_column(areas: Any, level: Any, geography: Any, tables: dict[str, Any]) -> str:
    """Return the code column the summary will count by (as :func:`_summarise` finds it)."""
    defaults = summary_inputs(geography, areas=areas, level=level, **tables)
    areas = defaults["areas"]
    check_geodataframe(areas, "areas", "area polygons")
    standard = standardise_columns(
        pd.DataFrame(areas.drop(columns=areas.geometry.name)),
        [c for pair in _LEVELS.values() for c in pair],
    )
    return _LEVELS[_infer_level(standard, defaults["level"])][0]


def _tally(
    frame: pd.DataFrame, columns: Sequence[str], counts: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """One row per distinct combination of ``columns``, first occurrence first.

    The column ``__organisations__`` holds how many organisations share the row (adding
    up ``counts`` when ``frame`` is itself a tally); ``duplicate_of`` becomes a marker
    (only whether it is set matters), and the geometry is that of the first
    organisation (whether there is one is part of the combination), so the summary of
    the tally equals that of the organisations.
    """
    present = [c for c in columns if c in frame.columns]
    keyed: list[Any] = [
        frame[c].notna().to_numpy() if c == _DUPLICATE else frame[c] for c in present
    ]
    located = isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame
    if located:
        keyed.append(np.asarray(has_geometry(frame.geometry), dtype=bool))
    group = np.zeros(len(frame), dtype=np.int64)
    for values in keyed:
        codes, uniques = pd.factorize(values)
        group = pd.factorize(group * (len(uniques) + 1) + (codes + 1))[0].astype(np.int64)
    # pd.factorize numbers the groups in the order they first appear
    first = np.unique(group, return_index=True)[1]
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)
    total = np.bincount(group, weights=weights, minlength=len(first)).astype(np.int64)
    taken = frame.iloc[first]
    data: dict[str, Any] = {}
    for column in present:
        if column == _DUPLICATE:
            marker = pd.Series("duplicate", index=taken.index, dtype="string")
            data[column] = marker.where(taken[column].notna().to_numpy()).array
        else:
            data[column] = taken[column].array
    data[_TALLY_COUNT] = total
    out = gpd.GeoDataFrame(
        data,
        geometry=taken.geometry.array if located else None,
        crs=frame.crs if located else None,
    )
    out.attrs = {}
    return with_provenance(out, frame)


def _tally_partition(frame: pd.DataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    return _tally(frame, columns)


def _combine(tallies: Sequence[gpd.GeoDataFrame], columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Add up the tallies of the partitions (in partition order) into one tally."""
    frame = pd.concat(tallies, ignore_index=True)
    frame.attrs = {}
    counts = frame.pop(_TALLY_COUNT).to_numpy()
    return with_provenance(_tally(frame, columns, counts), *tallies)


def summarise_areas_partitioned(
    points: Any,
    areas: gpd.GeoDataFrame | None = None,
    *,
    level: Level | None = None,
    geography: Geography | None = None,
    population: Any = None,
    deprivation: Any = None,
    area_lookup: Any = None,
    lsoas: gpd.GeoDataFrame | None = None,
    min_population: float = DEFAULT_MIN_POPULATION,
    type_column: str = "org_type",
    sector_column: str = "sic_section",
) -> gpd.GeoDataFrame:
    """Summarise the organisations of a Dask dataframe for every area.

    Each partition is reduced on its worker to a tally: one row per distinct combination
    of the level's area code (and authority), type, SIC section, area and geocoding
    statuses, duplicate marker and presence of a point, with the number of organisations
    sharing it: its size is bounded by the number of combinations (areas × types ×
    sections, at most), not of organisations. The tallies are added up, and
    :func:`socecon_geo.summarise_areas` computes the counts, rates, location quotients,
    smoothed rates and deprivation profile from the one tally, so the result (and its
    ``attrs``) equals ``summarise_areas(points.compute(), ...)``.

    Parameters
    ----------
    points : dask_geopandas.GeoDataFrame
        Organisations with area codes, from :func:`assign_areas_partitioned`.
    areas, level, geography, population, deprivation, area_lookup, lsoas, min_population
        As for :func:`socecon_geo.summarise_areas`.
    type_column, sector_column : str
        Columns of ``points`` with the organisation type and the SIC section.

    Returns
    -------
    geopandas.GeoDataFrame
        In memory: one row per area, as :func:`socecon_geo.summarise_areas` returns.

    Raises
    ------
    InputError
        If ``points`` is not a Dask dataframe with geometry, or as
        :func:`socecon_geo.summarise_areas`.
    CRSMismatchError
        As :func:`socecon_geo.summarise_areas`.
    MissingExtraError
        If the ``dask`` extra is not installed.
    """
    dask, _ = _dask()
    _check_dask_frame(points, "points", "assign_areas_partitioned")
    check_geodataframe(points._meta, "points", "organisations (the output of geocode)")
    tables = {
        "population": population,
        "deprivation": deprivation,
        "area_lookup": area_lookup,
        "lsoas": lsoas,
    }
    code_column = _code_column(areas, level, geography, tables)
    columns = _tally_columns(code_column, type_column, sector_column)
    tallies = dask.compute(
        *[dask.delayed(_tally_partition)(part, columns) for part in points.to_delayed()]
    )
    tally = _combine(tallies, columns)
    counts = tally.pop(_TALLY_COUNT).to_numpy()
    return _summarise(
        tally,
        counts,
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

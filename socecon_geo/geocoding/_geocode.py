"""Geocoding organisations (:func:`geocode`) and reporting on the result (the report)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from socecon_geo._errors import (
    CRSMismatchError,
    InputError,
    Problems,
)
from socecon_geo._schema import CODE, GEOCODE_STATUS
from socecon_geo.geocoding._base import (
    _CODE_COLUMNS,
    _LOOKUP_CODES,
    _LOOKUP_STATUSES,
    CRS,
    GEOCODE_STATUSES,
    RESULT_COLUMNS,
    Geocoder,
    _as_codes,
    _points,
)
from socecon_geo.geocoding.offline import _bundled_geocoder
from socecon_geo.postcodes import parse_postcodes
from socecon_geo.provenance import with_provenance

__all__ = [
    "GeocodingReport",
    "geocode",
    "geocoding_report",
]


def _conform_result(result: Any, name: str, keys: pd.Index) -> pd.DataFrame:
    """Check a geocoder's answer; return it aligned to ``keys`` with exact dtypes.

    Columns already in the right dtype (as the built-in geocoders return them) are used
    as they are, so this costs next to nothing for them.
    """
    context = f"geocoder {name!r}"
    if not isinstance(result, pd.DataFrame):
        msg = f"{context}: lookup() must return a pandas DataFrame, got {type(result).__name__}."
        raise InputError(msg)
    aligned = result.index.equals(keys)
    problems = Problems(context)
    if "geocode_status" not in result.columns:
        problems.add(
            "lookup() result has no 'geocode_status' column; "
            f"its columns are {list(result.columns)}"
        )
    if not aligned and not result.index.is_unique:
        problems.add("lookup() result has duplicate postcodes in its index")
    problems.raise_if_any(InputError, hint=f"A geocoder returns {list(RESULT_COLUMNS)}.")
    n = len(result)

    raw_status = result["geocode_status"]
    if (
        isinstance(raw_status.dtype, pd.CategoricalDtype)
        and tuple(raw_status.cat.categories) == GEOCODE_STATUSES
    ):
        status = raw_status.array
    else:
        values = raw_status.to_numpy(dtype=object, na_value=None)
        known = pd.Series(values).isin(list(_LOOKUP_STATUSES)).to_numpy()
        status = pd.Categorical(np.where(known, values, None), categories=GEOCODE_STATUSES)
    bad = ~np.isin(status.codes, _LOOKUP_CODES)
    if bad.any():
        unknown = sorted({str(v) for v in raw_status[bad].unique()})
        msg = (
            f"{context}: lookup() returned geocode_status value(s) {unknown}; "
            f"allowed are {sorted(_LOOKUP_STATUSES)}."
        )
        raise InputError(msg)
    columns: dict[str, Any] = {"geocode_status": status}

    method = result["geocode_method"] if "geocode_method" in result.columns else None
    if method is None:
        columns["geocode_method"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [name])
    elif isinstance(method.dtype, pd.CategoricalDtype) and not method.isna().any():
        columns["geocode_method"] = method.array
    else:
        values = pd.Series(method.to_numpy(dtype=object, na_value=None))
        columns["geocode_method"] = _as_codes(values.where(values.notna(), name), n)

    for axis in ("easting", "northing"):
        values = result[axis] if axis in result.columns else None
        if values is not None and values.dtype == np.float64:
            columns[axis] = values.to_numpy()
        else:
            columns[axis] = (
                np.full(n, np.nan)
                if values is None
                else pd.to_numeric(values, errors="coerce").to_numpy(
                    dtype="float64", na_value=np.nan
                )
            )
    quality = result["position_quality"] if "position_quality" in result.columns else None
    if quality is not None and quality.dtype == "Int64":
        columns["position_quality"] = quality.array
    else:
        numbers = (
            np.full(n, np.nan)
            if quality is None
            else pd.to_numeric(quality, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        )
        columns["position_quality"] = pd.array(np.round(numbers), dtype="Int64")
    for code in _CODE_COLUMNS:
        values = result[code] if code in result.columns else None
        if values is not None and isinstance(values.dtype, pd.CategoricalDtype):
            columns[code] = values.array
        else:
            columns[code] = _as_codes(values, n)
    if "geometry" in result.columns:
        geometry = result["geometry"]
        if not isinstance(geometry.dtype, gpd.array.GeometryDtype):
            msg = f"{context}: lookup() returned a 'geometry' column that is not geometry."
            raise InputError(msg)
        crs = geometry.array.crs
        if crs is not None and not crs.equals(CRS):
            msg = (
                f"{context}: lookup() returned points in {crs.to_string()}, expected "
                f"{CRS}; convert them with .to_crs({CRS!r}) or return easting/northing."
            )
            raise CRSMismatchError(msg)
        columns["geometry"] = geometry.array
    out = pd.DataFrame(columns, index=pd.Index(result.index, dtype="str", name="postcode"))
    return out if aligned else out.reindex(keys)


def _check_organisations(organisations: Any, postcode_column: str) -> pd.Series:
    """Return the postcode column of ``organisations``, or raise a clear error."""
    if not isinstance(organisations, pd.DataFrame):
        msg = (
            f"organisations must be a pandas DataFrame or GeoDataFrame, got "
            f"{type(organisations).__name__}; read a file with read_organisations() first."
        )
        raise InputError(msg)
    if isinstance(organisations.columns, pd.MultiIndex):
        msg = (
            f"organisations have {organisations.columns.nlevels}-level column headings "
            f"(e.g. {organisations.columns[0]!r}); flatten them first, e.g. "
            "frame.columns = [' '.join(map(str, c)).strip() for c in frame.columns]."
        )
        raise InputError(msg)
    columns = [str(c) for c in organisations.columns]
    count = columns.count(str(postcode_column))
    if count == 0:
        guesses = [c for c in columns if "post" in c.lower() or "pcd" in c.lower()]
        hint = f" Perhaps postcode_column={guesses[0]!r}?" if guesses else ""
        msg = (
            f"organisations have no column {postcode_column!r}; the columns are {columns}. "
            f"Pass the name of the postcode column as geocode(..., postcode_column='...').{hint}"
        )
        raise InputError(msg)
    if count > 1:
        msg = (
            f"organisations have {count} columns named {postcode_column!r}; rename them so "
            "the postcode column is unique."
        )
        raise InputError(msg)
    # by position: a heading that only reads as ``postcode_column`` (an integer label
    # 1 for "1") is found as well
    return organisations.iloc[:, columns.index(str(postcode_column))]


def _as_geocoder(geocoder: Any) -> Geocoder:
    if geocoder is None:
        return _bundled_geocoder()  # shared, so its lookup caches are built only once
    if not isinstance(geocoder, Geocoder):
        msg = (
            f"geocoder must have a 'name' and a 'lookup(postcodes)' method, got "
            f"{type(geocoder).__name__}; use OfflinePostcodeGeocoder() or PostcodesIOGeocoder()."
        )
        raise InputError(msg)
    return geocoder


def geocode(
    organisations: pd.DataFrame,
    *,
    geocoder: Geocoder | None = None,
    postcode_column: str = "postcode",
) -> gpd.GeoDataFrame:
    """Place organisations at their postcodes.

    Parameters
    ----------
    organisations : pandas.DataFrame or geopandas.GeoDataFrame
        One row per organisation, with a postcode column. It is not changed.
    geocoder : Geocoder, optional
        Defaults to :class:`OfflinePostcodeGeocoder` with the bundled West Midlands
        table. Also :class:`PostcodesIOGeocoder`, or any object following the
        :class:`Geocoder` protocol.
    postcode_column : str, default "postcode"
        The column holding the postcodes (raw values are normalised first).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, **exactly one row per input row**, with the same index (duplicate
        labels included) and order, every input column, and

        - ``postcode_normalised``, ``postcode_status`` (see
          :func:`~socecon_geo.normalise_postcodes`);
        - ``geocode_status``: one of :data:`GEOCODE_STATUSES`;
        - ``geocode_method``: e.g. ``"offline:code-point-open-2025"``,
          ``"offline:sector-centroid"``, ``"postcodes.io"``; NA for invalid and missing
          postcodes;
        - ``position_quality``: Code-Point Open positional quality (nullable integer;
          10 best, 60 sector centroid, 90 no coordinates);
        - ``postcode_lad_code``, ``postcode_ward_code``, ``postcode_lsoa11_code``,
          ``postcode_lsoa21_code``: the codes the geocoder gives with the postcode
          (NA where it has none);
        - ``geometry``: the point, or None where there is no location.

        Output columns already in the input are replaced (so geocoding twice is
        harmless); an input GeoDataFrame's geometry is replaced by the postcode points.
        ``attrs`` are the input's plus ``postcode_column`` (read by
        :func:`geocoding_report`).

    Raises
    ------
    InputError
        If ``organisations`` is not a DataFrame or has no (or a duplicated) postcode
        column, or the geocoder answers in the wrong shape.
    DownloadError
        If a web-service geocoder fails (see :class:`PostcodesIOGeocoder`).

    Notes
    -----
    Each distinct postcode is looked up once and the answers are mapped back to the
    rows: a million organisations take well under a second with the offline table.

    Examples
    --------
    >>> import pandas as pd
    >>> from socecon_geo import OfflinePostcodeGeocoder
    >>> table = pd.DataFrame({
    ...     "postcode": ["B15 2TT", "B15 2TU"], "easting": [405000.0, 405100.0],
    ...     "northing": [284000.0, 284100.0], "lad_code": ["E08000025", "E08000025"],
    ... })
    >>> orgs = pd.DataFrame(
    ...     {"name": ["A", "B", "C", "D"], "postcode": ["b152tt", "B15 2XX", "nonsense", None]}
    ... )
    >>> points = geocode(orgs, geocoder=OfflinePostcodeGeocoder(table, name="offline:demo"))
    >>> points[["name", "postcode_normalised", "geocode_status", "position_quality"]]
      name postcode_normalised    geocode_status  position_quality
    0    A             B15 2TT           matched                10
    1    B             B15 2XX   sector_centroid                60
    2    C                <NA>  invalid_postcode              <NA>
    3    D                <NA>  missing_postcode              <NA>
    >>> points.crs.to_epsg(), points.geometry.iloc[0].x
    (27700, 405000.0)
    """
    raw_postcodes = _check_organisations(organisations, postcode_column)
    frame = organisations
    chosen = _as_geocoder(geocoder)
    parsed = parse_postcodes(raw_postcodes)
    keys = pd.Index(pd.array(parsed.canonical, dtype="str"), name="postcode")
    n_keys = len(keys)

    name = str(chosen.name)
    raw_answer = chosen.lookup(keys) if n_keys else pd.DataFrame({"geocode_status": []})
    answer = _conform_result(raw_answer, name, keys)
    not_answered = answer["geocode_status"].isna().to_numpy()

    # per distinct postcode, plus a sentinel at the end for rows without a valid postcode
    row_key = parsed.codes

    def per_row(values: np.ndarray, fill: Any) -> np.ndarray:
        return np.append(values, fill)[row_key]

    def strings(values: pd.Series, extra: str | None = None) -> pd.api.extensions.ExtensionArray:
        """Spread per-postcode text (categorical) to the rows, as ``string`` (see _schema)."""
        cat = values.array
        categories = cat.categories
        codes = cat.codes.copy()
        if extra is not None and not_answered.any():
            if extra not in categories:
                categories = categories.append(pd.Index([extra], dtype=categories.dtype))
            codes = codes.astype(np.int32)
            codes[not_answered] = categories.get_loc(extra)
        text = pd.array(np.asarray(categories, dtype=object), dtype=CODE)
        return text.take(per_row(codes, -1), allow_fill=True)

    status = answer["geocode_status"].array.codes.copy()
    status[not_answered] = GEOCODE_STATUSES.index("not_found")
    row_status = per_row(status, 0)
    row_status[parsed.status == 1] = GEOCODE_STATUSES.index("invalid_postcode")
    row_status[parsed.status == 2] = GEOCODE_STATUSES.index("missing_postcode")

    if "geometry" in answer.columns:
        key_points = answer["geometry"].array
    else:
        key_points = _points(answer["easting"].to_numpy(), answer["northing"].to_numpy())
    geometry = key_points.take(row_key, allow_fill=True)

    quality = answer["position_quality"].array
    row_quality = per_row(quality.to_numpy(dtype="int64", na_value=0), 0)
    row_quality_na = per_row(np.asarray(quality.isna()), True)

    added: dict[str, Any] = {
        "postcode_normalised": parsed.normalised().array,
        "postcode_status": parsed.statuses().array,  # POSTCODE_STATUS
        "geocode_status": pd.Categorical.from_codes(row_status, dtype=GEOCODE_STATUS),
        "geocode_method": strings(answer["geocode_method"], extra=name),
        "position_quality": pd.arrays.IntegerArray(row_quality, row_quality_na),
    }
    for code in _CODE_COLUMNS:
        added[f"postcode_{code}"] = strings(answer[code])

    data = pd.DataFrame(frame, copy=False)
    active = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    if active is not None and active in frame.columns:
        data = pd.DataFrame(frame.drop(columns=active))
    out = data.copy(deep=False)
    for column, values in added.items():
        out[column] = values
    if "geometry" in out.columns:
        out = out.drop(columns="geometry")
    result = gpd.GeoDataFrame(out, geometry=geometry, crs=CRS)
    # geocoding_report() shows the raw postcodes of this column
    result.attrs = {**copy.deepcopy(frame.attrs), "postcode_column": str(postcode_column)}
    # a geocoder may say what its answers are credited to: a tuple of Provenance records
    if records := tuple(getattr(chosen, "provenance", ())):
        with_provenance(result, records)
    return result


@dataclass(frozen=True)
class GeocodingReport:
    """How geocoding went: counts by status and examples of failures.

    Attributes
    ----------
    summary : pandas.DataFrame
        Indexed by ``geocode_status`` (every status of :data:`GEOCODE_STATUSES`, zeros
        included), with ``rows`` (count), ``share`` (of all rows, 0-1) and ``located``
        (rows of that status with a point).
    examples : pandas.DataFrame
        Up to ``examples`` rows per status other than ``matched``: ``geocode_status``,
        ``position`` (0-based row number), ``row`` (index label), ``postcode`` (as
        given) and ``postcode_normalised``.
    total : int
        Number of rows.
    notes : tuple of str
        What else to know, e.g. that Northern Ireland (``BT``) postcodes are not in
        Code-Point Open (see :func:`socecon_geo.geocoding.national.coverage_notes`).
    """

    summary: pd.DataFrame
    examples: pd.DataFrame
    total: int
    notes: tuple[str, ...] = ()

    @property
    def located(self) -> int:
        """Rows with a point."""
        return int(self.summary["located"].sum())

    @property
    def matched_share(self) -> float:
        """Share of rows matched exactly (0-1; NaN for no rows)."""
        return float(self.summary.loc["matched", "rows"] / self.total) if self.total else math.nan

    def __str__(self) -> str:
        lines = [f"Geocoding report: {self.total:,} rows, {self.located:,} located"]
        for status, row in self.summary.iterrows():
            lines.append(f"  {status:<17} {int(row['rows']):>9,}  {row['share']:7.1%}")
        if len(self.examples):
            lines.append("Examples:")
            for _, row in self.examples.iterrows():
                status, label, raw = row["geocode_status"], row["row"], row["postcode"]
                shown = "(none)" if raw is None or raw is pd.NA or raw != raw else repr(raw)
                lines.append(f"  {status:<17} row {label!s:<8} postcode {shown}")
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


def geocoding_report(
    geocoded: pd.DataFrame, *, examples: int = 5, postcode_column: str | None = None
) -> GeocodingReport:
    """Summarise a :func:`geocode` result: counts and shares by status, failure examples.

    Parameters
    ----------
    geocoded : pandas.DataFrame or geopandas.GeoDataFrame
        The output of :func:`geocode`.
    examples : int, default 5
        How many example rows to keep for each status other than ``matched``.
    postcode_column : str, optional
        The raw postcode column shown in the examples (left blank if absent). By
        default the column :func:`geocode` read (kept in ``geocoded.attrs``), else
        ``"postcode"``.

    Returns
    -------
    GeocodingReport
        ``summary`` (rows, share and located by status), ``examples``, ``total``;
        ``print()`` it for a readable summary.

    Raises
    ------
    InputError
        If ``geocoded`` has no ``geocode_status`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from socecon_geo import OfflinePostcodeGeocoder
    >>> table = pd.DataFrame({"postcode": ["B15 2TT"], "easting": [405000.0],
    ...                       "northing": [284000.0]})
    >>> orgs = pd.DataFrame({"postcode": ["B15 2TT", "B15 2TT", "B99 9ZZ", ""]})
    >>> report = geocoding_report(geocode(orgs, geocoder=OfflinePostcodeGeocoder(table)))
    >>> report.summary.loc[["matched", "not_found", "missing_postcode"], ["rows", "share"]]
                      rows  share
    geocode_status
    matched              2   0.50
    not_found            1   0.25
    missing_postcode     1   0.25
    """
    if not isinstance(geocoded, pd.DataFrame) or "geocode_status" not in geocoded.columns:
        columns = list(geocoded.columns) if isinstance(geocoded, pd.DataFrame) else None
        msg = (
            "geocoding_report() needs the output of geocode(), with a 'geocode_status' "
            f"column; got {type(geocoded).__name__} with columns {columns}."
        )
        raise InputError(msg)
    if postcode_column is None:
        postcode_column = str(geocoded.attrs.get("postcode_column", "postcode"))
    status = geocoded["geocode_status"].astype("str")
    total = len(geocoded)
    active = geocoded.active_geometry_name if isinstance(geocoded, gpd.GeoDataFrame) else None
    if active is not None and active in geocoded.columns:
        geometry = geocoded.geometry
        has_point = (geometry.notna() & ~geometry.is_empty).to_numpy()
    else:
        has_point = np.zeros(total, dtype=bool)
    counts = status.value_counts().reindex(list(GEOCODE_STATUSES), fill_value=0)
    located = (
        pd.Series(has_point).groupby(status.to_numpy()).sum().reindex(counts.index, fill_value=0)
    )
    summary = pd.DataFrame(
        {
            "rows": counts.to_numpy(dtype="int64"),
            "share": counts.to_numpy(dtype="float64") / total if total else np.nan,
            "located": located.to_numpy(dtype="int64"),
        },
        index=pd.Index(list(GEOCODE_STATUSES), name="geocode_status"),
    )
    raw = (
        geocoded[postcode_column].to_numpy(dtype=object, na_value=None)
        if postcode_column in geocoded.columns
        else np.full(total, "", dtype=object)
    )
    normalised = (
        geocoded["postcode_normalised"].to_numpy(dtype=object, na_value=None)
        if "postcode_normalised" in geocoded.columns
        else np.full(total, None, dtype=object)
    )
    picked: list[tuple[str, int]] = []
    status_values = status.to_numpy()
    for name in GEOCODE_STATUSES[1:]:
        positions = np.flatnonzero(status_values == name)[: max(int(examples), 0)]
        picked.extend((name, int(p)) for p in positions)
    example_frame = pd.DataFrame(
        {
            "geocode_status": [name for name, _ in picked],
            "position": [p for _, p in picked],
            "row": [geocoded.index[p] for _, p in picked],
            "postcode": [raw[p] for _, p in picked],
            "postcode_normalised": [normalised[p] for _, p in picked],
        }
    )
    from socecon_geo.geocoding.national import coverage_notes

    notes = coverage_notes(geocoded)
    return GeocodingReport(summary=summary, examples=example_frame, total=total, notes=notes)

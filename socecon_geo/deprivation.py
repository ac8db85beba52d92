"""The English Indices of Deprivation: read and download (joined by ``socecon_geo.attach``).

Two editions are supported:

* **IoD2025** (MHCLG, October 2025) on LSOA 2021 boundaries: File 7, "all ranks, scores,
  deciles and population denominators", 33,755 LSOAs;
* **IoD2019** on LSOA 2011 boundaries: File 7, and the separate Files 1 (IMD), 2 (domains)
  and 6 (population denominators), 32,844 LSOAs.

The official files have quirks the reader absorbs: a UTF-8 byte-order mark, ranks quoted
with thousands separators (``"29,199"``) and headings cut short (``... Decile (where 1 is
most deprived 10% of LSO``). Headings are therefore matched by their normalised start, not
by exact text. Rows that are blank in every IoD column (the ``,,,`` lines a spreadsheet
may leave at the end of a saved CSV) are skipped. In an Excel workbook the sheet with the
most IoD headings is read, so the ``Notes`` sheet that opens the official workbooks is
passed over.

Tidy columns
------------
One row per LSOA, in file order, with (where the file has them):

* ``lsoa_code``, ``lsoa_name``, ``lad_code``, ``lad_name``;
* ``imd_score``, ``imd_rank``, ``imd_decile``;
* ``<domain>_score``, ``<domain>_rank``, ``<domain>_decile`` for the seven domains
  ``income``, ``employment``, ``education``, ``health``, ``crime``, ``barriers``,
  ``living_environment``;
* the same for the six sub-domains ``children_young_people``, ``adult_skills``,
  ``geographical_barriers``, ``wider_barriers``, ``indoors``, ``outdoors`` and for the
  supplementary indices ``idaci`` and ``idaopi``;
* ``population_total``, ``population_children_0_15``, ``population_16_59`` (IoD2019),
  ``population_older_60_plus``, ``population_working_age``.

Ranks run from 1 (most deprived in England) and deciles from 1 (most deprived 10%) to 10.
Scores are floats; ranks, deciles and populations are integers (nullable ``Int64`` where a
value is missing). ``DataFrame.attrs`` records ``vintage`` (``"iod2025"``/``"iod2019"``),
``lsoa_vintage`` (2021/2011), ``lad_vintage``, ``population_vintage``, ``source``,
``provenance`` (a list of :class:`~socecon_geo.Provenance` records as dicts: title,
publisher, vintage, URL, licence, attribution, source), ``missing_optional`` (measures of a full
File 7 that the input lacks) and ``unrecognised_headings``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from socecon_geo import datasets
from socecon_geo._errors import (
    DataUnavailableError,
    DownloadError,
    InputError,
    NetworkUnreachableError,
    Problems,
    SocEconGeoWarning,
)
from socecon_geo._headings import find_area_columns, normalise_heading
from socecon_geo._http import (
    NO_CHECKSUM,
    adopt_cached_file,
    cached_file_problem,
    discard_cached_file,
    download_file,
    remove_stale_partials,
    store_cached_file,
)
from socecon_geo._schema import DEPRIVATION_STATUSES
from socecon_geo._tables import (
    clean_text,
    parse_numbers,
)
from socecon_geo._tables import shown as shown_value
from socecon_geo.provenance import PROVENANCE_KEY, combine_provenance, with_provenance

__all__ = [
    "DEPRIVATION_STATUSES",
    "fetch_deprivation",
    "read_deprivation",
]

Vintage = Literal["iod2025", "iod2019"]
PathOrFrame: TypeAlias = str | os.PathLike[str] | pd.DataFrame

_VINTAGE_LSOA_YEAR: dict[str, int] = {"iod2025": 2021, "iod2019": 2011}
_LSOA_YEAR_VINTAGE: dict[int, str] = {year: v for v, year in _VINTAGE_LSOA_YEAR.items()}


# --------------------------------------------------------------------------------------
# heading recognition
# --------------------------------------------------------------------------------------

DOMAINS: tuple[str, ...] = (
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "barriers",
    "living_environment",
)
SUB_DOMAINS: tuple[str, ...] = (
    "children_young_people",
    "adult_skills",
    "geographical_barriers",
    "wider_barriers",
    "indoors",
    "outdoors",
)
SUPPLEMENTARY: tuple[str, ...] = ("idaci", "idaopi")
_STATS: tuple[str, ...] = ("score", "rank", "decile")
_MEASURES: tuple[str, ...] = ("imd", *DOMAINS, *SUB_DOMAINS, *SUPPLEMENTARY)

# measure -> regular expression for the words before "score" / "rank" / "decile", on the
# normalised heading; the plain tidy spelling is accepted too
_MEASURE_WORDS: dict[str, str] = {
    "imd": r"index of multiple deprivation(?: imd)?|imd",
    "income": r"income(?: deprivation)?(?: domain)?",
    "employment": r"employment(?: deprivation)?(?: domain)?",
    "education": r"education skills and training(?: deprivation)?(?: domain)?|education",
    "health": r"health deprivation and disability(?: domain)?|health",
    "crime": r"crime(?: domain)?",
    "barriers": r"barriers to housing and services(?: domain)?|barriers",
    "living_environment": r"living environment(?: deprivation)?(?: domain)?",
    "children_young_people": r"children (?:and )?young people(?: sub domain)?",
    "adult_skills": r"adult skills(?: sub domain)?",
    "geographical_barriers": r"geographical barriers(?: sub domain)?",
    "wider_barriers": r"wider barriers(?: sub domain)?",
    "indoors": r"indoors(?: sub domain)?",
    "outdoors": r"outdoors(?: sub domain)?",
    "idaci": r"income deprivation affecting children(?: index)?(?: idaci)?|idaci",
    "idaopi": r"income deprivation affecting older people(?: index)?(?: idaopi)?|idaopi",
}
_MEASURE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (measure, re.compile(rf"^(?:{words}) (score|rank|decile)\b"))
    for measure, words in _MEASURE_WORDS.items()
)
_POPULATION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (column, re.compile(pattern))
    for column, pattern in (
        ("population_total", r"^(?:total population|population total)\b"),
        (
            "population_children_0_15",
            r"^(?:dependent children aged 0 15|population children 0 15)\b",
        ),
        ("population_16_59", r"^(?:population aged 16 59|population 16 59)\b"),
        (
            "population_older_60_plus",
            r"^(?:older population aged 60|population older 60)\b",
        ),
        ("population_working_age", r"^(?:working age population|population working age)\b"),
    )
)
POPULATION_COLUMNS: tuple[str, ...] = tuple(c for c, _ in _POPULATION_PATTERNS)
# The identifier columns are the ONS area headings of socecon_geo._headings ("LSOA code
# (2021)", "Local Authority District code (2019)", LSOA21CD, ...), whatever their vintage.
_ID_STANDARDS: dict[str, str] = {
    "lsoa21_code": "lsoa_code",
    "lsoa11_code": "lsoa_code",
    "lsoa21_name": "lsoa_name",
    "lsoa11_name": "lsoa_name",
    "lsoa_code": "lsoa_code",
    "lsoa_name": "lsoa_name",
    "lad_code": "lad_code",
    "lad_name": "lad_name",
}
_ID_COLUMNS: tuple[str, ...] = ("lsoa_code", "lsoa_name", "lad_code", "lad_name")

TIDY_COLUMNS: tuple[str, ...] = (
    *_ID_COLUMNS,
    *(f"{m}_{s}" for m in _MEASURES for s in _STATS),
    *POPULATION_COLUMNS,
)
"""Every column :func:`read_deprivation` can produce, in output order."""

# what a complete File 7 of each edition has beyond the required columns
_FILE7_OPTIONAL: tuple[str, ...] = tuple(
    c for c in TIDY_COLUMNS if c not in {"lsoa_code", "imd_decile", "population_16_59"}
)

_REQUIRED_HINT = (
    "An IoD file needs an LSOA code column ('LSOA code (2021)' or 'LSOA code (2011)'), "
    "the IMD decile ('Index of Multiple Deprivation (IMD) Decile ...') and the IMD rank "
    "or score ('Index of Multiple Deprivation (IMD) Rank ...' / '... Score')."
)
_EXPECTED_HEADINGS_HINT = (
    "Expected the official English Indices of Deprivation headings, such as "
    "'LSOA code (2021)', 'Index of Multiple Deprivation (IMD) Score', "
    "'Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)' and "
    "'Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)'. "
    "Pass IoD2025 File 7, IoD2019 File 7, or IoD2019 Files 1, 2 and 6 (CSV or XLSX)."
)

_GEO_SUFFIXES = frozenset(
    {".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".zip", ".kml"}
)
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})


@dataclass
class _Heading:
    tidy: str
    year: int | None = None


def _classify_heading(heading: object) -> _Heading | None:
    r"""Return the tidy column a heading stands for, or None if it is not an IoD heading.

    Examples
    --------
    >>> _classify_heading("Income Score (rate)").tidy
    'income_score'
    >>> _classify_heading("Index of Multiple Deprivation (IMD) Decile (where 1 is most"
    ...                   " deprived 10% of LSO").tidy
    'imd_decile'
    >>> _classify_heading("\ufeffLSOA code (2011)")
    _Heading(tidy='lsoa_code', year=2011)
    >>> _classify_heading("usual_residents") is None
    True
    """
    norm = normalise_heading(heading)
    if not norm:
        return None
    for standard, (_, year) in find_area_columns([heading], _ID_STANDARDS).items():
        return _Heading(_ID_STANDARDS[standard], year)
    if norm in TIDY_COLUMNS:  # already tidy (spaces stand for underscores)
        return _Heading(norm)
    tidy_spelling = norm.replace(" ", "_")
    if tidy_spelling in TIDY_COLUMNS:
        return _Heading(tidy_spelling)
    for measure, pattern in _MEASURE_PATTERNS:
        match = pattern.match(norm)
        if match:
            return _Heading(f"{measure}_{match.group(1)}")
    for tidy, pattern in _POPULATION_PATTERNS:
        if pattern.match(norm):
            mid = re.search(r"\bmid (\d{4})\b", norm)
            return _Heading(tidy, int(mid.group(1)) if mid else None)
    return None


# --------------------------------------------------------------------------------------
# reading one source
# --------------------------------------------------------------------------------------


@dataclass
class _Part:
    """One input file or frame, reduced to tidy columns (numbers still unchecked)."""

    label: str
    frame: pd.DataFrame  # tidy columns, all values as strings or numbers
    lsoa_year: int | None
    lad_year: int | None
    population_year: int | None
    attrs_vintage: str | None
    unrecognised: list[str] = field(default_factory=list)
    row_label: str = "line"
    row_offset: int = 2  # file line of the first data row


def _read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Excel file with every cell as text."""
    if not path.exists():
        msg = f"deprivation file not found: '{path}'. Check the path."
        raise InputError(msg)
    if path.is_dir():
        msg = f"'{path}' is a folder; pass the deprivation file inside it."
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix in _GEO_SUFFIXES:
        msg = (
            f"'{path.name}' does not look like an English Indices of Deprivation file: "
            f"it is a {suffix} file (boundaries or other geodata?), not a CSV or Excel "
            f"table. {_EXPECTED_HEADINGS_HINT}"
        )
        raise InputError(msg)
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path)
    with path.open("rb") as handle:
        start = handle.read(2048).lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith((b"{", b"[")):
        msg = (
            f"'{path.name}' does not look like an English Indices of Deprivation file: it "
            f"holds JSON (a GeoJSON boundary file?), not a CSV table. "
            f"{_EXPECTED_HEADINGS_HINT}"
        )
        raise InputError(msg)
    if start.startswith(b"PK\x03\x04"):
        msg = f"'{path.name}' is a zip archive; unzip it and pass the CSV or XLSX file inside it."
        raise InputError(msg)
    last_error: Exception | None = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding=encoding,
                skipinitialspace=True,
            )
        except UnicodeDecodeError as exc:
            last_error = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            msg = f"cannot read '{path.name}' as a CSV table ({exc}). {_EXPECTED_HEADINGS_HINT}"
            raise InputError(msg) from None
    msg = f"cannot decode '{path.name}' as UTF-8 or Windows-1252 text ({last_error})."
    raise InputError(msg)


def _read_excel(path: Path) -> pd.DataFrame:
    """Read the sheet of an Excel workbook that carries the most IoD headings."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    except ImportError as exc:
        msg = (
            f"reading '{path.name}' needs an Excel reader that is not installed ({exc}). "
            "Save the sheet as CSV or .xlsx (read with openpyxl), or install the package "
            "named above."
        )
        raise InputError(msg) from None
    except Exception as exc:
        msg = f"cannot read '{path.name}' as an Excel workbook ({type(exc).__name__}: {exc})."
        raise InputError(msg) from None
    best: pd.DataFrame | None = None
    best_score = -1
    for sheet in sheets.values():
        score = sum(_classify_heading(c) is not None for c in sheet.columns)
        if score > best_score:
            best, best_score = sheet, score
    if best is None:
        msg = f"the workbook '{path.name}' has no sheets."
        raise InputError(msg)
    return best


_LSOA11_KEYS = frozenset({"lsoa11cd", "lsoa11code", "lsoacode2011"})
_LSOA21_KEYS = frozenset({"lsoa21cd", "lsoa21code", "lsoacode2021"})
_POSTCODE_KEYS = frozenset({"pcd", "pcds", "pcd7", "pcd8", "postcode"})
_BOUNDARY_KEYS = frozenset(
    {"geometry", "shapearea", "shapelength", "shapeleng", "globalid", "bnge", "bngn", "geom"}
)
_POPULATION_KEYS = ("usualresidents", "residencetypetotal", "population", "allpersons")


def _looks_like(headings: Sequence[object]) -> str | None:
    """Say what a table that is not deprivation data looks like, when it is a known one."""
    keys = {normalise_heading(h).replace(" ", ""): str(h) for h in headings}

    def named(found: Iterable[str]) -> str:
        return ", ".join(shown_value(keys[k]) for k in keys if k in set(found))

    ward = [k for k in keys if re.fullmatch(r"(?:wd|ward)\d\d(?:cd|code)", k)]
    if keys.keys() & _LSOA11_KEYS and keys.keys() & _LSOA21_KEYS:
        change = [k for k in keys if k in {"chgind", "changecode", "change"}]
        return (
            f"it looks like the ONS LSOA 2011 → 2021 lookup "
            f"({named([*_LSOA11_KEYS, *_LSOA21_KEYS, *change])}), not deprivation data; pass "
            "it as lsoa_lookup= (to attach_deprivation or assign_areas)"
        )
    if keys.keys() & _POSTCODE_KEYS:
        return (
            f"it looks like a postcode table ({named(_POSTCODE_KEYS)}), not deprivation "
            "data; geocode with it through OfflinePostcodeGeocoder.from_file(...)"
        )
    if keys.keys() & _BOUNDARY_KEYS:
        return (
            f"it looks like a boundary table ({named(_BOUNDARY_KEYS)}), not deprivation "
            "data; read boundaries with read_boundaries(...)"
        )
    if keys.keys() & _LSOA21_KEYS and ward:
        return (
            f"it looks like the ONS LSOA 2021 → ward best-fit lookup "
            f"({named([*_LSOA21_KEYS, *ward])}), not deprivation data; pass it as "
            "ward_lookup= to assign_areas"
        )
    population = [k for k in keys if k.startswith(_POPULATION_KEYS)]
    if population:
        return (
            f"it looks like a population table ({named(population)}), not deprivation data; "
            "read it with read_population(...) or pass it as population= to summarise_areas"
        )
    return None


def _not_deprivation_message(label: str, headings: Sequence[object]) -> str:
    clean = [str(h).replace("\ufeff", "") for h in headings]
    shown = ", ".join(shown_value(h) for h in clean[:12])
    more = f" and {len(clean) - 12} more" if len(clean) > 12 else ""
    looks = _looks_like(clean)
    if looks:
        return (
            f"{label} is not an English Indices of Deprivation file: {looks}. Its headings: "
            f"{shown}{more}. {_EXPECTED_HEADINGS_HINT}"
        )
    return (
        f"{label} does not look like an English Indices of Deprivation file: none of "
        f"its {len(clean)} headings ({shown}{more}) is an IoD score, rank, decile or "
        f"population denominator. {_EXPECTED_HEADINGS_HINT}"
    )


def _part_from_table(table: pd.DataFrame, label: str, *, from_file: bool) -> _Part:
    mapping: dict[str, str] = {}
    years: dict[str, int | None] = {}
    unrecognised: list[str] = []
    duplicated: dict[str, list[str]] = {}
    for heading in table.columns:
        found = _classify_heading(heading)
        if found is None:
            unrecognised.append(str(heading).replace("\ufeff", ""))
            continue
        if found.tidy in mapping:
            duplicated.setdefault(found.tidy, [mapping[found.tidy]]).append(str(heading))
            continue
        mapping[found.tidy] = heading
        years[found.tidy] = found.year
    if all(tidy in _ID_COLUMNS for tidy in mapping):  # codes and names only: not IoD data
        raise InputError(_not_deprivation_message(label, list(table.columns)))
    if duplicated:
        problems = Problems(f"deprivation data {label}")
        for tidy, headings in duplicated.items():
            listed = ", ".join(shown_value(h) for h in headings)
            problems.add(f"several headings mean '{tidy}': {listed}; keep only one")
        problems.raise_if_any(InputError)
    tidy = pd.DataFrame({name: table[heading] for name, heading in mapping.items()})
    population_years = [years[c] for c in POPULATION_COLUMNS if years.get(c)]
    attrs_vintage = table.attrs.get("vintage") if not from_file else None
    return _Part(
        label=label,
        frame=tidy,
        lsoa_year=years.get("lsoa_code") or years.get("lsoa_name"),
        lad_year=years.get("lad_code") or years.get("lad_name"),
        population_year=population_years[0] if population_years else None,
        attrs_vintage=attrs_vintage if attrs_vintage in _VINTAGE_LSOA_YEAR else None,
        unrecognised=unrecognised,
        row_label="line" if from_file else "row",
        row_offset=2 if from_file else 0,
    )


def _load_part(source: PathOrFrame) -> tuple[_Part, list[str]]:
    """Read one source; return it and its original headings."""
    if isinstance(source, pd.DataFrame):
        label = "(DataFrame)"
        table = source
        part = _part_from_table(table, label, from_file=False)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        label = f"'{path.name}'"
        table = _read_table(path)
        part = _part_from_table(table, label, from_file=True)
    else:
        msg = (
            "read_deprivation expects a path, a DataFrame or a list of them; got "
            f"{type(source).__name__}."
        )
        raise InputError(msg)
    headings = [str(c).replace("\ufeff", "") for c in table.columns]
    return part, headings


# --------------------------------------------------------------------------------------
# numbers and validation
# --------------------------------------------------------------------------------------


def _numeric(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return float values, and masks of cells that are not numbers or ambiguous.

    Ambiguous: digits with a decimal comma or dots between thousands (``8,7``,
    ``29.199.1``), which the official files never hold and which are not guessed.
    """
    parsed = parse_numbers(values)
    return parsed.values, parsed.unparsed, parsed.ambiguous


def _examples(labels: Iterable[Any], values: Iterable[Any], row_label: str) -> str:
    pairs = list(zip(labels, values, strict=False))
    shown = ", ".join(f"{row_label} {lab}: {shown_value(val)}" for lab, val in pairs[:3])
    return shown + (", ..." if len(pairs) > 3 else "")


def _is_integer_column(column: str) -> bool:
    return column.endswith(("_rank", "_decile")) or column.startswith("population_")


def _convert_part(part: _Part, problems: Problems) -> pd.DataFrame:
    """Turn one part's columns into clean codes and float numbers, recording problems."""
    frame = part.frame
    rows = (
        np.arange(len(frame)) + part.row_offset
        if part.row_label == "line"
        else np.asarray(frame.index)
    )
    out: dict[str, Any] = {}
    blank = np.ones(len(frame), dtype=bool)  # rows with nothing in any IoD column
    for column in frame.columns:
        values = frame[column]
        if column in _ID_COLUMNS:
            text = clean_text(values, upper=column.endswith("_code"))
            out[column] = text
            blank &= text.isna().to_numpy(dtype=bool)
            continue
        numbers, bad, ambiguous = _numeric(values)
        blank &= np.isnan(numbers) & ~bad & ~ambiguous
        if bad.any():
            problems.add(
                f"{part.label}: column '{column}' has {int(bad.sum())} value(s) that are not "
                f"numbers ({_examples(rows[bad], values.to_numpy()[bad], part.row_label)})"
            )
        if ambiguous.any():
            shown_values = _examples(rows[ambiguous], values.to_numpy()[ambiguous], part.row_label)
            problems.add(
                f"{part.label}: column '{column}' has {int(ambiguous.sum())} value(s) written "
                f"with a decimal comma or dots between thousands ({shown_values}); the "
                "official files write 8.742 and 29,199. Such numbers are not guessed: save "
                "the file again with a dot as the decimal separator"
            )
        out[column] = numbers
    converted = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    if blank.any():  # e.g. trailing ',,,' lines left by a spreadsheet: nothing to read
        converted, rows = converted.loc[~blank], rows[~blank]
    if converted.empty:
        problems.add(f"{part.label}: it has headings but no data rows; is it a complete IoD file?")
        return converted
    if "lsoa_code" in converted:
        codes = converted["lsoa_code"]
        missing = codes.isna().to_numpy()
        if missing.any():
            where = ", ".join(str(r) for r in rows[missing][:5])
            problems.add(
                f"{part.label}: {int(missing.sum())} row(s) have no LSOA code "
                f"({part.row_label} {where}{', ...' if missing.sum() > 5 else ''})"
            )
        malformed = (~missing) & ~codes.str.fullmatch(r"[A-Z]\d{8}").fillna(False).to_numpy(
            dtype=bool
        )
        if malformed.any():
            problems.add(
                f"{part.label}: {int(malformed.sum())} LSOA code(s) are not 9-character "
                "ONS codes like 'E01000001' "
                f"({_examples(rows[malformed], codes.to_numpy()[malformed], part.row_label)})"
            )
        dup = codes.duplicated(keep=False).to_numpy() & ~missing
        if dup.any():
            repeated = pd.unique(codes.to_numpy()[dup])
            shown = ", ".join(str(c) for c in repeated[:5])
            problems.add(
                f"{part.label}: {len(repeated)} LSOA code(s) appear more than once "
                f"({shown}{', ...' if len(repeated) > 5 else ''}); an IoD file has one row "
                "per LSOA"
            )
        converted = converted.loc[~missing & ~codes.duplicated().to_numpy()]
    return converted


def _merge_parts(parts: list[tuple[_Part, pd.DataFrame]], problems: Problems) -> pd.DataFrame:
    """Merge several tidy frames on the LSOA code, checking shared columns agree."""
    first_part, merged = parts[0]
    if len(parts) == 1:
        return merged.reset_index(drop=True)
    merged = merged.set_index("lsoa_code", drop=False)
    labels = dict.fromkeys(merged.columns, first_part.label)
    for part, frame in parts[1:]:
        frame = frame.set_index("lsoa_code", drop=False)
        new = frame.index[~frame.index.isin(merged.index)]
        if len(new):
            merged = merged.reindex(merged.index.append(new))
            merged["lsoa_code"] = merged.index.to_numpy()
        aligned = frame.reindex(merged.index)
        for column in frame.columns:
            if column == "lsoa_code":
                continue
            if column not in merged.columns:
                merged[column] = aligned[column]
                labels[column] = part.label
                continue
            left, right = merged[column], aligned[column]
            both = (left.notna() & right.notna()).to_numpy(dtype=bool)
            if column in _ID_COLUMNS:
                unequal = left.astype("string") != right.astype("string")
                differ = both & unequal.to_numpy(dtype=bool, na_value=False)
            else:
                differ = both & ~np.isclose(
                    left.to_numpy(dtype="float64"), right.to_numpy(dtype="float64")
                )
            if differ.any():
                code = merged.index[differ][0]
                problems.add(
                    f"column '{column}' differs between {labels[column]} and {part.label} "
                    f"for {int(differ.sum())} LSOA(s), e.g. {code}: "
                    f"{left.to_numpy()[differ][0]!r} vs {right.to_numpy()[differ][0]!r}; "
                    "are the files from the same edition?"
                )
            merged[column] = left.where(left.notna(), right)
    return merged.reset_index(drop=True)


def _finalise_types(frame: pd.DataFrame, vintage: str, problems: Problems) -> pd.DataFrame:
    """Order columns, cast ranks/deciles/populations to integers, check ranges."""
    national = {"iod2025": 33_755, "iod2019": 32_844}[vintage]
    max_rank = max(national, len(frame))
    codes = frame["lsoa_code"].to_numpy(dtype=object) if "lsoa_code" in frame else None
    out: dict[str, Any] = {}
    for column in TIDY_COLUMNS:
        if column not in frame.columns:
            continue
        values = frame[column]
        if column in _ID_COLUMNS:
            out[column] = values.astype("string")
            continue
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(numbers)
        if not _is_integer_column(column):
            out[column] = numbers
            continue
        fraction = present & (np.abs(numbers - np.round(numbers)) > 1e-9)
        low: float
        high: float
        if column.endswith("_decile"):
            low, high = 1, 10
        elif column.endswith("_rank"):
            low, high = 1, max_rank
        else:
            low, high = 0, float(np.inf)
        outside = present & ~fraction & ((numbers < low) | (numbers > high))
        for mask, what in (
            (fraction, "are not whole numbers"),
            (outside, f"lie outside {low}..{high:g}"),
        ):
            if mask.any():
                shown = _examples(
                    codes[mask] if codes is not None else np.flatnonzero(mask),
                    numbers[mask],
                    "LSOA",
                )
                problems.add(
                    f"column '{column}' has {int(mask.sum())} value(s) that {what} ({shown})"
                )
        if present.all():
            out[column] = np.round(numbers).astype("int64")
        else:
            ints = pd.array(np.where(present, np.round(numbers), 0).astype("int64"), dtype="Int64")
            ints[~present] = pd.NA
            out[column] = ints
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _check_vintage(vintage: str | None) -> str | None:
    if vintage is None:
        return None
    key = str(vintage).strip().lower()
    if key not in _VINTAGE_LSOA_YEAR:
        msg = f"vintage must be 'iod2025' or 'iod2019', got {vintage!r}"
        raise InputError(msg)
    return key


def read_deprivation(
    path_or_frame: PathOrFrame | Sequence[PathOrFrame],
    *,
    vintage: Vintage | None = None,
) -> pd.DataFrame:
    """Read English Indices of Deprivation data into a tidy table, one row per LSOA.

    Parameters
    ----------
    path_or_frame : path, DataFrame, or a list of them
        An official IoD file (CSV or XLSX): IoD2025 File 7 (LSOA 2021), IoD2019 File 7
        (LSOA 2011), or one of IoD2019 Files 1, 2 and 6. A list of sources is merged on
        the LSOA code, e.g. ``[file_1, file_2, file_6]``. A DataFrame may carry official
        headings or tidy column names.
    vintage : {"iod2025", "iod2019"}, optional
        The edition. By default it is read from the LSOA heading (``LSOA code (2021)``
        means IoD2025, ``LSOA code (2011)`` IoD2019); give it when the headings do not
        say (tidy column names), or to insist on one edition.

    Returns
    -------
    pandas.DataFrame
        The tidy columns described in the module documentation, in file order, with
        ``attrs`` recording ``vintage``, ``lsoa_vintage``, ``lad_vintage``,
        ``population_vintage``, ``source``, ``provenance``, ``missing_optional`` and
        ``unrecognised_headings``.

    Raises
    ------
    InputError
        If a file is missing or is not IoD data, has no data rows, if required columns
        (LSOA code, IMD decile, IMD rank or score) are missing, if the edition cannot be
        told or contradicts ``vintage``, or if values are malformed: non-numeric numbers,
        deciles outside 1-10, ranks outside 1 to the number of LSOAs in England,
        duplicate LSOA codes. Every problem found is listed in one message.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "LSOA code (2021)": ["E01000001", "E01000002"],
    ...     "Index of Multiple Deprivation (IMD) Score": ["8.742", "40.1"],
    ...     "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)":
    ...         ["26,525", "1,203"],
    ...     "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSO":
    ...         ["8", "1"],
    ... })
    >>> iod = read_deprivation(raw)
    >>> iod[["lsoa_code", "imd_score", "imd_rank", "imd_decile"]]
       lsoa_code  imd_score  imd_rank  imd_decile
    0  E01000001      8.742     26525           8
    1  E01000002     40.100      1203           1
    >>> iod.attrs["vintage"], iod.attrs["lsoa_vintage"]
    ('iod2025', 2021)
    """
    wanted = _check_vintage(vintage)
    if isinstance(path_or_frame, (str, os.PathLike, pd.DataFrame)):
        sources: list[PathOrFrame] = [path_or_frame]
    elif isinstance(path_or_frame, Sequence) and not isinstance(path_or_frame, bytes):
        sources = list(path_or_frame)
        if not sources:
            msg = "read_deprivation got an empty list; pass at least one IoD file."
            raise InputError(msg)
    else:
        msg = (
            "read_deprivation expects a path, a DataFrame or a list of them; got "
            f"{type(path_or_frame).__name__}."
        )
        raise InputError(msg)

    loaded = [_load_part(source) for source in sources]
    parts = [part for part, _ in loaded]
    label = ", ".join(part.label for part in parts)
    problems = Problems(f"deprivation data {label}")

    # edition: from headings, the frame's attrs, or the argument
    years = {part.lsoa_year for part in parts if part.lsoa_year}
    attr_vintages = {part.attrs_vintage for part in parts if part.attrs_vintage}
    found_vintages = {_LSOA_YEAR_VINTAGE.get(y, f"LSOA {y}") for y in years} | attr_vintages
    unknown_years = sorted(y for y in years if y not in _LSOA_YEAR_VINTAGE)
    if unknown_years:
        msg = (
            f"deprivation data {label} is on LSOA {unknown_years[0]} codes; socecon_geo "
            "reads IoD2025 (LSOA 2021) and IoD2019 (LSOA 2011)."
        )
        raise InputError(msg)
    if len(found_vintages) > 1:
        detail = "; ".join(f"{p.label}: LSOA {p.lsoa_year or '?'}" for p in parts if p.lsoa_year)
        msg = (
            f"deprivation data {label} mixes editions ({detail}); combine only files of "
            "one edition (IoD2019 Files 1, 2 and 6 are all on LSOA 2011)."
        )
        raise InputError(msg)
    detected = next(iter(found_vintages), None)
    if wanted and detected and wanted != detected:
        msg = (
            f"deprivation data {label} is {detected} (LSOA "
            f"{_VINTAGE_LSOA_YEAR[detected]} codes) but vintage={wanted!r} was asked for; "
            f"pass the {wanted} file or vintage={detected!r}."
        )
        raise InputError(msg)
    chosen = wanted or detected
    if chosen is None:
        msg = (
            f"cannot tell which edition deprivation data {label} is: its LSOA heading "
            "has no year. Pass vintage='iod2025' (LSOA 2021) or vintage='iod2019' "
            "(LSOA 2011)."
        )
        raise InputError(msg)

    converted = [(part, _convert_part(part, problems)) for part in parts]
    present = set().union(*(set(frame.columns) for _, frame in converted))
    missing_required = []
    if "lsoa_code" not in present:
        missing_required.append("LSOA code ('LSOA code (2021)' or 'LSOA code (2011)')")
    if "imd_decile" not in present:
        missing_required.append(
            "IMD decile ('Index of Multiple Deprivation (IMD) Decile (where 1 is most "
            "deprived 10% of LSOAs)')"
        )
    if not {"imd_rank", "imd_score"} & present:
        missing_required.append(
            "IMD rank or score ('Index of Multiple Deprivation (IMD) Rank (where 1 is most "
            "deprived)' or 'Index of Multiple Deprivation (IMD) Score')"
        )
    if missing_required:
        headings = [h for _, hs in loaded for h in hs]
        shown = ", ".join(shown_value(h) for h in headings[:15])
        more = f" and {len(headings) - 15} more" if len(headings) > 15 else ""
        hint = ""
        if present <= {*_ID_COLUMNS, *POPULATION_COLUMNS}:
            hint = (
                " This looks like IoD2019 File 6 (population denominators only): combine "
                "it with File 1 or 2, e.g. read_deprivation([file_1, file_2, file_6])."
            )
        msg = (
            f"deprivation data {label} lacks required column(s): "
            f"{'; '.join(missing_required)}. Found headings: {shown}{more}. "
            f"{_REQUIRED_HINT}{hint}"
        )
        raise InputError(msg)

    merged = _merge_parts(converted, problems)
    tidy = _finalise_types(merged, chosen, problems)
    problems.raise_if_any(
        InputError,
        hint="Fix the file(s) above, or download the official file with fetch_deprivation().",
    )

    dataset = datasets.get_dataset(chosen)
    lad_years = {p.lad_year for p in parts if p.lad_year}
    pop_years = {p.population_year for p in parts if p.population_year}
    source = "; ".join(
        str(Path(s).expanduser()) if not isinstance(s, pd.DataFrame) else "DataFrame"
        for s in sources
    )
    tidy.attrs = {
        "vintage": chosen,
        "lsoa_vintage": _VINTAGE_LSOA_YEAR[chosen],
        "lad_vintage": max(lad_years) if lad_years else None,
        "population_vintage": f"mid-{max(pop_years)}" if pop_years else None,
        "source": source,
        "missing_optional": [c for c in _FILE7_OPTIONAL if c not in tidy.columns],
        "unrecognised_headings": [h for p in parts for h in p.unrecognised],
    }
    # a frame that already says where it came from keeps that; a file gets the dataset's
    known = combine_provenance(*(s for s in sources if isinstance(s, pd.DataFrame)))
    return with_provenance(tidy, known or dataset.provenance(source))


# --------------------------------------------------------------------------------------
# download and cache
# --------------------------------------------------------------------------------------


def _validate_download(frame: pd.DataFrame, dataset: datasets.DatasetFile) -> list[str]:
    """Return what is wrong with a freshly read download (empty when it is valid)."""
    issues = []
    if dataset.expected_rows is not None and len(frame) != dataset.expected_rows:
        issues.append(f"it has {len(frame):,} LSOA rows, expected {dataset.expected_rows:,}")
    for heading in dataset.required_headings:
        found = _classify_heading(heading)
        if found is not None and found.tidy not in frame.columns:
            issues.append(f"it lacks the heading '{heading}'")
    # a copy cut off inside its last row still has the right number of rows, but that
    # row lacks its last cells (the official files have every cell of a row filled)
    if len(frame) and bool(frame.iloc[-1].isna().any()):
        last = frame.iloc[-1]
        blank = [str(c) for c in frame.columns[last.isna().to_numpy(dtype=bool)]]
        code = last["lsoa_code"] if "lsoa_code" in frame else "?"
        issues.append(
            f"its last row ({code}) has blank cells ({', '.join(blank[:3])}"
            f"{', ...' if len(blank) > 3 else ''}): the download was probably cut off"
        )
    return issues


def _read_cached(
    cached: Path, key: str, dataset: datasets.DatasetFile
) -> tuple[pd.DataFrame | None, str]:
    """Return the cached File 7 checked as a download is, or why it cannot be used."""
    problem = cached_file_problem(cached)
    if problem is not None and problem != NO_CHECKSUM:
        return None, problem
    try:
        frame = read_deprivation(cached, vintage=key)  # type: ignore[arg-type]
        issues = _validate_download(frame, dataset)
    except InputError as exc:
        return None, str(exc).splitlines()[0]
    if issues:
        return None, "; ".join(issues)
    if problem == NO_CHECKSUM:  # cached by an older version and valid: kept
        adopt_cached_file(cached)
    return frame, ""


def fetch_deprivation(
    vintage: Vintage = "iod2025",
    *,
    path: str | os.PathLike[str] | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """Return the official Indices of Deprivation, from a local file, the cache or gov.uk.

    Parameters
    ----------
    vintage : {"iod2025", "iod2019"}
        The edition: IoD2025 File 7 (LSOA 2021) or IoD2019 File 7 (LSOA 2011).
    path : path-like, optional
        A local copy of the file; it wins over everything else and is never cached.
    refresh : bool
        Download again even when a cached copy exists. The old copy is replaced only
        once the new one has been validated.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_deprivation`; ``attrs["source"]`` says where it came from.

    Raises
    ------
    InputError
        If ``path`` or the environment variable names a file that does not exist or is
        not IoD data.
    DataUnavailableError
        If nothing local or cached is available and no download succeeded (offline, or
        the downloaded file was not a valid File 7); the message names the URL(s) and how
        to pass a local file.

    Notes
    -----
    The order of precedence is: ``path``; the environment variable
    ``SOCECON_GEO_IOD2025`` / ``SOCECON_GEO_IOD2019``; the cached copy in
    ``cache_dir() / "datasets" / <vintage>``; a download from the URLs in
    :data:`socecon_geo.datasets.DATASETS`, tried in order. A download is checked (row
    count 33,755 or 32,844, required headings, valid values, a complete last row) before it
    is cached, so a bad or cut-off download never poisons the cache.
    """
    key = _check_vintage(vintage)
    assert key is not None
    dataset = datasets.get_dataset(key)
    local = datasets.local_override(dataset.env_var, path, what=f"{key} deprivation")
    if local is not None:
        return read_deprivation(local, vintage=key)  # type: ignore[arg-type]

    cached = dataset.cache_path()
    if cached.is_file() and not refresh:
        from_cache, problem = _read_cached(cached, key, dataset)
        if from_cache is not None:
            from_cache.attrs["source"] = f"{cached} (cached download of {dataset.urls[0]})"
            from_cache.attrs[PROVENANCE_KEY] = [dataset.provenance(str(cached)).to_dict()]
            return from_cache
        msg = f"The cached {key} file {cached} is not usable: {problem}; downloading it again."
        warnings.warn(msg, SocEconGeoWarning, stacklevel=2)
        discard_cached_file(cached)

    failures: list[str] = []
    remove_stale_partials(cached.parent)
    for url in dataset.urls:
        partial = cached.with_name(f".{cached.name}.pid{os.getpid()}.download.part")
        try:
            download_file(url, partial)
        except DownloadError as exc:
            failures.append(f"{url}: {exc}")
            if isinstance(exc, NetworkUnreachableError):
                break  # offline: the other addresses cannot be reached either
            continue
        try:
            frame = read_deprivation(partial, vintage=key)  # type: ignore[arg-type]
            issues = _validate_download(frame, dataset)
        except InputError as exc:
            issues = [str(exc).splitlines()[0]]
        if issues:
            partial.unlink(missing_ok=True)
            failures.append(f"{url}: downloaded, but not a valid {key} file: {'; '.join(issues)}")
            continue
        store_cached_file(partial, cached)
        frame.attrs["source"] = f"{cached} (downloaded from {url})"
        record = dataclasses.replace(dataset.provenance(url), url=url)
        frame.attrs[PROVENANCE_KEY] = [record.to_dict()]
        return frame

    listed = "\n".join(f"  - {failure}" for failure in failures)
    msg = (
        f"the {dataset.title} is not available: there is no local or cached copy and "
        f"downloading it failed:\n{listed}\n"
        f"Download it yourself from {dataset.urls[0]} and pass it with "
        f"fetch_deprivation({key!r}, path='...') or set the environment variable "
        f"{dataset.env_var}=/path/to/{dataset.filename}."
    )
    raise DataUnavailableError(msg)

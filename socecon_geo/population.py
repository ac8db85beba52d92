"""Residents by LSOA (:func:`read_population`), the base of rates per resident.

Census 2021 usual residents by LSOA 2021, or the population denominators of the English
Indices of Deprivation (IoD2025 on LSOA 2021, IoD2019 on LSOA 2011).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from socecon_geo import datasets
from socecon_geo._errors import (
    InputError,
    Problems,
)
from socecon_geo._headings import find_area_columns, heading_key
from socecon_geo._schema import LSOA_CODE, PathLike
from socecon_geo._schema import LSOA_LEVEL_VINTAGE as _LSOA_VINTAGE
from socecon_geo._tables import (
    clean_codes,
    parse_numbers,
    read_csv_text,
)
from socecon_geo._tables import shown as shown_value
from socecon_geo.provenance import Provenance, get_provenance, with_provenance

__all__ = [
    "read_population",
]

_NOT_CSV: Final[frozenset[str]] = frozenset(
    {".geojson", ".json", ".gpkg", ".shp", ".parquet", ".xlsx", ".xls", ".ods", ".zip"}
)


# LSOA code and name headings beyond the ONS spellings of socecon_geo._headings (Census
# tables' own): "geography code" is the LSOA 2021 code of the Census 2021 tables; a bare
# "lsoa_code" (a tidy IoD frame, or this function's own output) has no vintage of its own.
_OTHER_CODE_HEADERS: Final[dict[str, int | None]] = {"geographycode": 2021, "lsoacode": None}
_OTHER_NAME_HEADERS: Final[tuple[str, ...]] = (
    "lsoaname",
    "lowerlayersuperoutputareas",
    "geography",
)


_CENSUS_LABEL: Final[tuple[str, str]] = (
    "ONS Census 2021, usual residents by LSOA 2021 (Open Government Licence v3.0)",
    "Census 2021 usual residents",
)


_IOD_POPULATION: Final[dict[str, tuple[str, str, int]]] = {
    "iod2025": (
        "MHCLG English Indices of Deprivation 2025, population denominators (OGL v3.0)",
        "IoD2025 mid-2022",
        2021,
    ),
    "iod2019": (
        "MHCLG English Indices of Deprivation 2019, population denominators (OGL v3.0)",
        "IoD2019 mid-2015",
        2011,
    ),
}


def _population_column(
    headers: Mapping[str, str], attrs: Mapping[str, Any]
) -> tuple[str, str, str, int | None] | None:
    """Find (column, source, vintage label, LSOA vintage) of the total population."""
    for column, norm in headers.items():
        if norm == "usualresidents" or norm.startswith("residencetypetotal"):
            return column, *_CENSUS_LABEL, 2021
    for column, norm in headers.items():
        if norm.startswith("totalpopulationmid2022"):
            return column, *_IOD_POPULATION["iod2025"]
        if norm.startswith("totalpopulationmid2015"):
            return column, *_IOD_POPULATION["iod2019"]
    for column, norm in headers.items():
        if norm in ("populationtotal", "population"):
            vintage = str(attrs.get("vintage", "")).lower()
            if vintage in _IOD_POPULATION:
                return column, *_IOD_POPULATION[vintage]
            source = str(attrs.get("source", "population table"))
            label = str(attrs.get("vintage", "population"))
            lsoa_vintage = attrs.get("lsoa_vintage")
            return column, source, label, int(lsoa_vintage) if lsoa_vintage else None
    return None


def read_population(
    path: PathLike | pd.DataFrame,
    *,
    level: Literal["lsoa21", "lsoa11"] | None = "lsoa21",
) -> pd.DataFrame:
    """Read residents by LSOA, for rates per resident.

    Recognised layouts:

    * Census 2021 usual residents by LSOA 2021: ``lsoa21_code, lsoa21_name,
      usual_residents``, or the ONS TS001 table (``geography code``,
      ``Residence type: Total; measures: Value``);
    * the population denominators of the English Indices of Deprivation: IoD2025 File 7
      (``Total population: mid 2022``, LSOA 2021) and IoD2019 File 6 or File 7
      (``Total population: mid 2015 (excluding prisoners)``, LSOA 2011), byte-order mark
      and thousands separators allowed;
    * a tidy frame from :func:`socecon_geo.read_deprivation` with ``population_total``,
      or one from this function.

    Parameters
    ----------
    path : path or pandas.DataFrame
        A CSV file, or a frame already read.
    level : {"lsoa21", "lsoa11"} or None, default "lsoa21"
        The LSOA vintage expected. A file of the other vintage is an error (its codes
        would silently miss every split or merged LSOA); ``None`` accepts either.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA: ``lsoa_code`` (``string``), ``lsoa_name`` when the file has
        names, ``population`` (float). ``attrs`` holds ``source``, ``vintage`` (e.g.
        ``"Census 2021 usual residents"`` or ``"IoD2025 mid-2022"``), ``lsoa_vintage``
        (2021 or 2011) and ``path``.

    Raises
    ------
    InputError
        If the file is not a CSV, has no LSOA code or population column, holds bad codes,
        repeated codes, missing, non-numeric or negative counts (all reported at once),
        or is of another LSOA vintage than ``level``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lsoa21_code": ["E01000001", "E01000002"],
    ...                       "usual_residents": ["1,477", "1384"]})
    >>> population = read_population(table)
    >>> population
       lsoa_code  population
    0  E01000001      1477.0
    1  E01000002      1384.0
    >>> population.attrs["vintage"]
    'Census 2021 usual residents'
    """
    if level not in ("lsoa21", "lsoa11", None):
        msg = f"level must be 'lsoa21', 'lsoa11' or None, not {level!r}."
        raise InputError(msg)
    if isinstance(path, pd.DataFrame):
        table, where, attrs, file_name = path, "population table", dict(path.attrs), None
    elif isinstance(path, str | os.PathLike):
        file = Path(path)
        if file.suffix.lower() in _NOT_CSV:
            msg = (
                f"population file {file.name!r} is not a CSV file; pass the Census 2021 "
                "usual residents CSV or an IoD population denominators CSV."
            )
            raise InputError(msg)
        table = read_csv_text(file, "population")
        where, attrs, file_name = f"population file {file.name!r}", {}, str(file)
    else:
        msg = f"path must be a CSV path or a DataFrame, not {type(path).__name__}."
        raise InputError(msg)

    headers = {column: heading_key(column) for column in table.columns}
    code_column, lsoa_vintage = None, None
    official = find_area_columns(table.columns, ["lsoa21_code", "lsoa11_code"])
    if official:
        standard, (code_column, _) = next(iter(official.items()))
        lsoa_vintage = 2021 if standard == "lsoa21_code" else 2011
    else:
        for column, norm in headers.items():
            if norm in _OTHER_CODE_HEADERS:
                code_column, lsoa_vintage = column, _OTHER_CODE_HEADERS[norm]
                break
    found = _population_column(headers, attrs)
    problems = Problems(where)
    if code_column is None:
        problems.add(
            "no LSOA code column (looked for 'lsoa21_code', 'LSOA code (2021)', "
            "'LSOA code (2011)', 'geography code', 'lsoa_code')"
        )
    if found is None:
        problems.add(
            "no total population column (looked for 'usual_residents' (Census 2021), "
            "'Total population: mid 2022' (IoD2025 File 7), 'Total population: mid 2015' "
            "(IoD2019 File 6 or 7), 'population_total'); a file of IoD scores, ranks and "
            "deciles alone carries no population"
        )
    problems.raise_if_any(InputError)
    assert code_column is not None  # for type checkers
    assert found is not None
    pop_column, source, vintage, pop_vintage = found
    if lsoa_vintage is None:
        lsoa_vintage = pop_vintage if pop_vintage is not None else attrs.get("lsoa_vintage")

    first_row = 2 if file_name else 0
    codes = clean_codes(table[code_column]).reset_index(drop=True)
    raw = table[pop_column].reset_index(drop=True)
    parsed = parse_numbers(raw)  # "1,477" is a number; "1.477,5" is not guessed
    values = pd.Series(parsed.values, dtype="float64")
    raw = raw.astype("string").str.strip()

    def rows(mask: pd.Series) -> str:
        positions = (np.flatnonzero(mask.to_numpy()) + first_row)[:5].tolist()
        more = " …" if int(mask.sum()) > 5 else ""
        label = "lines" if file_name else "rows"
        return f"{label} {', '.join(map(str, positions))}{more}"

    missing_code = codes.isna()
    if missing_code.any():
        problems.add(f"{int(missing_code.sum())} rows have no LSOA code ({rows(missing_code)})")
    bad_code = codes.notna() & ~codes.str.fullmatch(LSOA_CODE.pattern).fillna(False)
    if bad_code.any():
        example = codes[bad_code].iloc[0]
        problems.add(
            f"{int(bad_code.sum())} codes are not LSOA codes like 'E01000001' "
            f"(e.g. {example!r}, {rows(bad_code)})"
        )
    repeated = codes.notna() & codes.duplicated(keep=False)
    if repeated.any():
        problems.add(
            f"{int(codes[repeated].nunique())} LSOA codes appear more than once "
            f"(e.g. {codes[repeated].iloc[0]!r}, {rows(repeated)})"
        )
    missing = raw.isna() | (raw == "")
    if missing.any():
        problems.add(f"{int(missing.sum())} rows have no population ({rows(missing)})")
    ambiguous = pd.Series(parsed.ambiguous)
    if ambiguous.any():
        problems.add(
            f"{int(ambiguous.sum())} populations are written with a decimal comma or dots "
            f"between thousands (e.g. {shown_value(raw[ambiguous].iloc[0])}, {rows(ambiguous)}); "
            "such numbers are not guessed: write counts as 1477 or 1,477"
        )
    not_number = ~missing & values.isna() & ~ambiguous
    if not_number.any():
        example = raw[not_number].iloc[0]
        problems.add(
            f"{int(not_number.sum())} populations are not numbers (e.g. {example!r}, "
            f"{rows(not_number)})"
        )
    negative = values < 0
    if negative.any():
        problems.add(f"{int(negative.sum())} populations are negative ({rows(negative)})")
    problems.raise_if_any(InputError, hint=f"Column {pop_column!r} should hold residents.")

    if level is not None:
        wanted = _LSOA_VINTAGE[level]
        if lsoa_vintage is not None and int(lsoa_vintage) != wanted:
            fix = (
                "the Census 2021 usual residents table or IoD2025 File 7"
                if wanted == 2021
                else "IoD2019 File 6 or File 7"
            )
            msg = (
                f"LSOA vintage mismatch: {where} gives {vintage} populations by LSOA "
                f"{lsoa_vintage}, but level={level!r} asks for LSOA {wanted}. Use {fix}, "
                "or pass level=None to accept either."
            )
            raise InputError(msg)
        lsoa_vintage = lsoa_vintage or wanted

    result = pd.DataFrame({"lsoa_code": codes})
    names = [
        c for c, _ in find_area_columns(table.columns, ["lsoa21_name", "lsoa11_name"]).values()
    ]
    names += [c for c, norm in headers.items() if norm in _OTHER_NAME_HEADERS]
    names = [c for c in names if c != code_column]
    if names:
        result["lsoa_name"] = table[names[0]].astype("string").reset_index(drop=True)
    result["population"] = values
    result.attrs = {
        "source": source,
        "vintage": vintage,
        "lsoa_vintage": int(lsoa_vintage) if lsoa_vintage is not None else None,
        "path": file_name if file_name else attrs.get("path"),
    }
    known = get_provenance(path) if isinstance(path, pd.DataFrame) else ()
    return with_provenance(result, known or _population_record(vintage, file_name))


def _population_record(vintage: str, file_name: str | None) -> Provenance:
    """Return the provenance of a population file (or of a frame without any)."""
    source = file_name or "DataFrame"
    for edition, (_, label, _) in _IOD_POPULATION.items():
        if vintage == label:
            return datasets.get_dataset(edition).provenance(source)
    return datasets.ons_record(
        "census2021_usual_residents",
        "Census 2021 usual residents by Lower layer Super Output Area (2021)",
        vintage=vintage,
        source=source,
    )

"""Organisations: one schema for every register, readers for real registers, de-duplication.

Every reader returns a :class:`pandas.DataFrame` with the organisation schema below,
whatever file it was given: a user's own spreadsheet (the *generic* reader) or one of the
three real registers it knows (Co-operatives UK open data, the Charity Commission for
England and Wales register extract, the Companies House basic company data).

Schema
------
The columns :data:`ORGANISATION_COLUMNS` come first, in this order:

========================  =====================  =========================================
column                    dtype                  meaning
========================  =====================  =========================================
``org_id``                string                 stable id: register prefix + register id,
                                                 e.g. ``coopsuk:R000123``, ``ccew:1234567``
                                                 (``ccew:1234567-2`` for a linked charity),
                                                 ``ch:01234567``, ``generic:<id>``; or
                                                 ``row:<n>`` for a generic file without id
``name``                  string                 organisation name, stripped
``org_type``              category               one of :data:`ORGANISATION_TYPES`
                                                 (``"other"`` also means unknown)
``postcode``              string                 postcode as given, stripped (not normalised)
``address``               string                 address lines joined with ``", "``
``sic_code``              string                 SIC 2007 code (5 digits where known)
``sic_section``           string                 SIC 2007 section letter A–U, from the code
``sector``                string                 sector / activity description where known
``income``                float64                income or turnover in GBP where known
``employees``             float64                number of employees where known
``company_number``        string                 Companies House number, upper case and
                                                 zero-padded to 8 characters
``charity_number``        string                 registered charity number
``source_register``       string                 ``coopsuk``, ``ccew``, ``companies_house``
                                                 or ``generic``
``source_file``           string                 file name (``archive.zip/member`` inside a
                                                 ZIP); missing for a DataFrame
``source_row``            Int64                  1-based data row (record) number in the
                                                 source, heading row not counted: a CSV's
                                                 record *n* (blank lines skipped), a
                                                 spreadsheet's row *n + 1* when the
                                                 heading is on row 1, a JSON array's
                                                 object *n*, a DataFrame's row *n*
``duplicate_of``          string                 ``org_id`` of the record this one
                                                 duplicates (set by
                                                 :func:`combine_registers`), else missing
``duplicate_reason``      string                 why it is a duplicate: ``company_number``,
                                                 ``charity_number``, ``name_postcode`` or
                                                 ``indirect``
========================  =====================  =========================================

Every original column follows, renamed with the prefix ``src_`` (for example
``src_Legal Form``); headings are stripped of surrounding spaces first. Reading a file gives
a fresh :class:`~pandas.RangeIndex`; reading a DataFrame keeps its index labels.

Rows
----
The generic reader and the Co-operatives UK reader keep every input row, blank or not.
Two register readers filter by default, as documented on :func:`read_organisations`
(registered main charities; social-economy company categories); every filter can be
switched off, and what it removed is counted in ``df.attrs["filtered_out"]``, so
``len(df) + sum(df.attrs["filtered_out"].values()) == df.attrs["rows_read"]``.

Other ``attrs``: ``source`` (the path, or ``"DataFrame"``), ``register``, ``rows_read``,
``column_map`` (schema field → source heading) and ``unparsed`` (per numeric field, how
many non-blank values were not numbers and were left missing).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as _dt
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import IO, Any, Final, Literal

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError, Problems

__all__ = [
    "COMPANIES_HOUSE_COLUMNS",
    "COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES",
    "ORGANISATION_COLUMNS",
    "ORGANISATION_TYPES",
    "REGISTERS",
    "REGISTER_PRECEDENCE",
    "SIC_SECTIONS",
    "combine_registers",
    "read_organisations",
    "sic_sections",
]

ORGANISATION_TYPES: Final[tuple[str, ...]] = (
    "charity",
    "charitable_incorporated_organisation",
    "community_interest_company",
    "co_operative",
    "community_benefit_society",
    "company_limited_by_guarantee",
    "social_enterprise",
    "other",
)
"""The categories of the ``org_type`` column, in this order (``"other"`` = other/unknown)."""

ORGANISATION_COLUMNS: Final[tuple[str, ...]] = (
    "org_id",
    "name",
    "org_type",
    "postcode",
    "address",
    "sic_code",
    "sic_section",
    "sector",
    "income",
    "employees",
    "company_number",
    "charity_number",
    "source_register",
    "source_file",
    "source_row",
    "duplicate_of",
    "duplicate_reason",
)
"""The schema columns every reader returns first, in this order."""

REGISTERS: Final[tuple[str, ...]] = ("coopsuk", "ccew", "companies_house", "generic")
"""Values of ``register=`` (and of the ``source_register`` column)."""

REGISTER_PRECEDENCE: Final[tuple[str, ...]] = ("ccew", "companies_house", "coopsuk", "generic")
"""Which record :func:`combine_registers` keeps among duplicates: earlier wins."""

COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES: Final[tuple[str, ...]] = (
    "Community Interest Company",
    "Charitable Incorporated Organisation",
    "Scottish Charitable Incorporated Organisation",
    "Registered Society",
    "Industrial and Provident Society",
    "PRI/LBG/NSC (Private, Limited by guarantee, no share capital, use of 'Limited' exemption)",
    "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)",
)
"""``CompanyCategory`` values kept by default by the Companies House reader."""

COMPANIES_HOUSE_COLUMNS: Final[tuple[str, ...]] = (
    "CompanyName",
    "CompanyNumber",
    "RegAddress.CareOf",
    "RegAddress.POBox",
    "RegAddress.AddressLine1",
    "RegAddress.AddressLine2",
    "RegAddress.PostTown",
    "RegAddress.County",
    "RegAddress.Country",
    "RegAddress.PostCode",
    "CompanyCategory",
    "CompanyStatus",
    "CountryOfOrigin",
    "DissolutionDate",
    "IncorporationDate",
    "Accounts.AccountCategory",
    "SICCode.SicText_1",
    "SICCode.SicText_2",
    "SICCode.SicText_3",
    "SICCode.SicText_4",
    "URI",
)
"""Columns the Companies House reader reads unless ``all_columns=True``."""

SIC_SECTIONS: Final[dict[str, str]] = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers; undifferentiated goods- and "
    "services-producing activities of households for own use",
    "U": "Activities of extraterritorial organisations and bodies",
}
"""UK SIC 2007 sections: letter → title."""

# SIC 2007: section letter -> inclusive range of two-digit divisions.
_SIC_SECTION_DIVISIONS: Final[dict[str, tuple[int, int]]] = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (45, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 63),
    "K": (64, 66),
    "L": (68, 68),
    "M": (69, 75),
    "N": (77, 82),
    "O": (84, 84),
    "P": (85, 85),
    "Q": (86, 88),
    "R": (90, 93),
    "S": (94, 96),
    "T": (97, 98),
    "U": (99, 99),
}
# Divisions that do not exist in SIC 2007 (04, 34, 40, ...) are simply absent.
_DIVISION_TO_SECTION: Final[dict[str, str]] = {
    f"{division:02d}": letter
    for letter, (first, last) in _SIC_SECTION_DIVISIONS.items()
    for division in range(first, last + 1)
}
# Companies House placeholder, not an economic activity.
_DORMANT_SIC: Final = "99999"

_TYPE_DTYPE: Final = pd.CategoricalDtype(list(ORGANISATION_TYPES))
_STRING: Final = "string"

_TEXT_EXTENSIONS: Final = {".csv": None, ".tsv": "\t", ".tab": "\t", ".txt": None}
_EXCEL_EXTENSIONS: Final = {".xlsx", ".xlsm"}
_PARQUET_EXTENSIONS: Final = {".parquet", ".pq"}
_JSON_EXTENSIONS: Final = {".json", ".ndjson", ".jsonl"}
_SUPPORTED: Final = (
    ".csv, .tsv, .tab, .txt (delimited text), .xlsx, .xlsm, .parquet, .pq, .json, .ndjson, "
    ".jsonl, or a .zip holding one of those"
)
_SAMPLE_BYTES: Final = 1 << 20
_DEFAULT_CHUNKSIZE: Final = 100_000
_JSON_BATCH: Final = 10_000
_LOOSE_POSTCODE: Final = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"
_HEADING_SEARCH: Final = 20  # filled rows searched for the heading row below a title

# ---------------------------------------------------------------------------------------
# Register layouts
# ---------------------------------------------------------------------------------------

_SIGNATURES: Final[dict[str, frozenset[str]]] = {
    "ccew": frozenset({"registered_charity_number", "charity_name", "linked_charity_number"}),
    "companies_house": frozenset({"CompanyName", "CompanyNumber", "CompanyCategory"}),
    "coopsuk": frozenset({"Identifier", "Name", "Legal Form", "Organisational Structure"}),
}

_CCEW_ADDRESS: Final = tuple(f"charity_contact_address{i}" for i in range(1, 6))
_CH_ADDRESS: Final = (
    "RegAddress.POBox",
    "RegAddress.AddressLine1",
    "RegAddress.AddressLine2",
    "RegAddress.PostTown",
    "RegAddress.County",
)

# Co-operatives UK / ESSGLOBAL organisational-structure vocabulary (codes seen in the data).
_ESSGLOBAL_STRUCTURES: Final[dict[str, str]] = {
    "OS50": "Company (Other)",
    "OS115": "Co-operative",
    "OS120": "Community Interest Company (CIC)",
    "OS130": "Community Benefit Society / Industrial and Provident Society (IPS)",
    "OS140": "Employee trust",
    "OS160": "Unincorporated",
}

# Generic reader: schema field -> accepted headings, normalised (casefolded, letters and
# digits only), best first.
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "name": (
        "organisationname",
        "organizationname",
        "orgname",
        "charityname",
        "companyname",
        "registeredname",
        "legalname",
        "businessname",
        "enterprisename",
        "groupname",
        "name",
        "organisation",
        "organization",
        "tradingname",
    ),
    "postcode": (
        "postcode",
        "postalcode",
        "pcode",
        "regaddresspostcode",
        "charitycontactpostcode",
        "addresspostcode",
        "registeredofficepostcode",
        "registeredpostcode",
        "postcodes",
    ),
    "org_type": (
        "orgtype",
        "organisationtype",
        "organizationtype",
        "legalform",
        "legalstatus",
        "legalstructure",
        "companycategory",
        "charitytype",
        "organisationalstructure",
        "type",
        "category",
    ),
    "sic_code": (
        "siccode",
        "sic",
        "sic2007",
        "siccode2007",
        "sic2007code",
        "primarysiccode",
        "siccodesictext1",
        "siccodes",
    ),
    "sector": ("sector", "sectordescription", "sicdescription", "industry"),
    "income": (
        "income",
        "latestincome",
        "annualincome",
        "totalincome",
        "turnover",
        "annualturnover",
        "revenue",
    ),
    "employees": (
        "employees",
        "numberofemployees",
        "noofemployees",
        "employeecount",
        "staff",
        "paidstaff",
        "headcount",
    ),
    "id": ("id", "identifier", "orgid", "organisationid", "organizationid", "recordid", "urn"),
    "company_number": (
        "companynumber",
        "companyno",
        "companieshousenumber",
        "companyregistrationnumber",
        "registeredcompanynumber",
        "crn",
        "charitycompanyregistrationnumber",
    ),
    "charity_number": (
        "charitynumber",
        "registeredcharitynumber",
        "charityno",
        "charityregistrationnumber",
        "regcharitynumber",
        "charityregno",
    ),
}
_COLUMN_FIELDS: Final = (*_ALIASES, "address")
_ADDRESS_HEADING: Final = re.compile(
    r"^(?:[a-z]*address(?:line)?\d*|street|streetaddress|locality|town|posttown|city|county)$"
)
_NOT_ADDRESS: Final = ("email", "web", "url", "ip")


# ---------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------


def _flag(mask: pd.Series) -> pd.Series:
    """Return a plain boolean mask from a nullable one (missing → False)."""
    return mask.fillna(False).astype(bool)


def _by_unique(series: pd.Series, func: Callable[[pd.Series], Any]) -> Any:
    """Apply ``func`` to the distinct values of ``series`` only, then spread the result.

    Register columns repeat a few values (types, SIC codes) over many rows; regular
    expressions run once per distinct value instead of once per row. Missing values map
    to missing results.
    """
    codes, uniques = pd.factorize(series)
    result = func(pd.Series(uniques))
    spread = result.reindex(codes)
    spread.index = series.index
    return spread


def _normalise_heading(heading: str) -> str:
    return re.sub(r"[^0-9a-z]", "", heading.casefold())


def _cell_text(value: Any) -> str | None:
    """Text of one spreadsheet/JSON cell; ``None`` when empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):  # Parquet BINARY columns
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value).decode("cp1252", errors="replace")
    return str(value)


def _as_text(series: pd.Series) -> pd.Series:
    """Return ``series`` as stripped ``string`` values, blanks missing."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        out = series.astype(_STRING)
    elif pd.api.types.is_float_dtype(dtype):  # 1234567.0 -> "1234567" (lost leading zeros)
        values = series.astype("Float64")
        out = values.astype(_STRING)
        whole = _flag((values == values.round()) & (values.abs() < 2**53))
        out[whole] = values[whole].astype("Int64").astype(_STRING)
    elif pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        out = series.astype(_STRING)
    else:
        out = series.map(_cell_text).astype(_STRING)
    out = out.str.strip()
    return out.replace("", pd.NA)


def _as_number(series: pd.Series) -> tuple[pd.Series, int]:
    """Return ``(float64 values, how many non-blank values were not numbers)``."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = pd.to_numeric(series).astype("Float64")
        return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=series.index), 0
    text = _as_text(series)
    numbers = pd.to_numeric(text, errors="coerce").astype("Float64")
    retry = _flag(text.notna() & numbers.isna())
    if retry.any():  # "£1,250", "1 250 GBP": clean only the values that need it
        cleaned = text[retry].str.replace(r"[£$,\s]|GBP|gbp", "", regex=True)
        numbers[retry] = pd.to_numeric(cleaned, errors="coerce").astype("Float64")
    unparsed = int((text.notna() & numbers.isna()).sum())
    return pd.Series(numbers.to_numpy(dtype="float64", na_value=np.nan), index=series.index), (
        unparsed
    )


def _true(series: pd.Series) -> pd.Series:
    """Boolean mask of truthy cells (``True``, ``"true"``, ``"yes"``, ``1``...)."""
    text = _as_text(series).str.casefold()
    return text.isin(["true", "t", "yes", "y", "1"]).fillna(False).astype(bool)


def _join_address(parts: Sequence[pd.Series], index: pd.Index) -> pd.Series:
    """Join address parts with ``", "``, skipping blanks; line breaks become ``", "``."""
    out = pd.Series(pd.NA, index=index, dtype=_STRING)
    for part in parts:
        text = _as_text(part).str.replace(r"\s*[\r\n]+\s*", ", ", regex=True)
        text = text.str.replace(r"(?:,\s*)+,", ",", regex=True).str.strip(" ,").replace("", pd.NA)
        both = out.notna() & text.notna()
        out = out.where(~both, out + ", " + text)
        out = out.fillna(text)
    return out


def _postcode_key(series: pd.Series) -> pd.Series:
    """Upper case, all whitespace removed: the simple key used for matching."""
    return _as_text(series).str.upper().str.replace(r"\s+", "", regex=True).replace("", pd.NA)


def _normalise_company_number(series: pd.Series) -> pd.Series:
    """Upper case, no spaces, zero-padded to 8 characters (``"SC12345"`` → ``"SC012345"``)."""
    text = _as_text(series).str.upper().str.replace(r"\s+", "", regex=True)
    numeric = text.str.fullmatch(r"\d{1,8}").fillna(False).astype(bool)
    text = text.where(~numeric, text.str.zfill(8))
    prefixed = text.str.extract(r"^([A-Z]{2})(\d{1,6})$")
    has_prefix = prefixed[0].notna()
    text = text.where(~has_prefix, prefixed[0] + prefixed[1].str.zfill(6))
    return text.mask(text.str.fullmatch(r"0+").fillna(False).astype(bool))


def _normalise_charity_number(series: pd.Series) -> pd.Series:
    text = _as_text(series).str.replace(r"\s+", "", regex=True)
    return text.str.replace(r"^0+(?=\d)", "", regex=True).mask(text == "0")


_NAME_DROP: Final = re.compile(
    r"\b(?:the|limited|ltd|plc|llp|cic|cio|community interest company|"
    r"charitable incorporated organisation)\b"
)


def _name_key(series: pd.Series) -> pd.Series:
    """Casefold, ``&`` → ``and``, no punctuation, without legal suffixes and ``the``."""
    text = _as_text(series).str.casefold().str.replace("&", " and ", regex=False)
    text = text.str.replace(r"[.'’]", "", regex=True).str.replace(r"[^\w]+", " ", regex=True)
    text = text.str.replace("_", " ", regex=False)
    text = text.str.replace(_NAME_DROP, " ", regex=True)
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return text.replace("", pd.NA)


def sic_sections(codes: pd.Series) -> pd.DataFrame:
    """Parse SIC 2007 codes and find their sections.

    Accepts 5-digit codes (``"88990"``), 4-digit codes that lost a leading zero
    (``"1110"`` → ``"01110"``), 2-digit divisions (``"88"``), dotted classes
    (``"88.99"``) and Companies House texts (``"88990 - Other social work ..."``).
    The section comes from the two-digit division via the official SIC 2007 ranges;
    Companies House's ``99999`` (dormant company) has no section.

    Parameters
    ----------
    codes : pandas.Series
        Codes as text or numbers.

    Returns
    -------
    pandas.DataFrame
        Same index, columns ``sic_code`` (the code; missing when there is none),
        ``sic_section`` (letter A–U or missing) and ``sic_text`` (the description after
        the code, where given).

    Examples
    --------
    >>> import pandas as pd
    >>> sic_sections(pd.Series(["88990 - Other social work", "1110", "47.11", "x"]))
      sic_code sic_section          sic_text
    0    88990           Q  Other social work
    1    01110           A              <NA>
    2    47.11           G              <NA>
    3     <NA>        <NA>              <NA>
    """
    return _by_unique(_as_text(codes), _sic_sections)


def _sic_sections(text: pd.Series) -> pd.DataFrame:
    parts = text.str.extract(
        r"^(?P<code>\d{1,5}(?:\.\d{1,3})?)(?:\s*[-–:]\s*(?P<desc>.*\S))?\s*$", expand=True
    )
    code = parts["code"].astype(_STRING)
    plain = ~_flag(code.str.contains(".", regex=False))
    length = code.str.len()
    padded = code.mask(plain & _flag(length == 4), code.str.zfill(5))
    padded = padded.mask(plain & _flag(length == 1), code.str.zfill(2))
    division = padded.str.slice(0, 2).where(plain | _flag(code.str.find(".") == 2))
    section = division.map(_DIVISION_TO_SECTION, na_action="ignore").astype(_STRING)
    section = section.mask(_flag(padded == _DORMANT_SIC))
    return pd.DataFrame(
        {
            "sic_code": padded,
            "sic_section": section,
            "sic_text": parts["desc"].astype(_STRING),
        },
        index=text.index,
    )


def _classify_type_text(series: pd.Series) -> pd.Series:
    """Map free-text legal forms / types to :data:`ORGANISATION_TYPES` (missing if none)."""
    return _by_unique(_as_text(series), _classify_unique_types).astype(_STRING)


def _classify_unique_types(series: pd.Series) -> pd.Series:
    text = series.astype(_STRING).str.casefold().str.replace("_", " ", regex=False).fillna("")
    rules = [
        (r"charitable incorporated|\bs?cio\b", "charitable_incorporated_organisation"),
        (r"community interest|\bc\.?i\.?c\b", "community_interest_company"),
        (r"community benefit|\bbencom\b|\bcbs\b", "community_benefit_society"),
        (r"\bco[\s-]?op(?:erative)?s?\b", "co_operative"),
        (r"\bcharit(?:y|ies|able)\b", "charity"),
        (r"guarantee|\bclg\b|\blbg\b", "company_limited_by_guarantee"),
        (r"social enterprise", "social_enterprise"),
        (r"^other$", "other"),
    ]
    conditions = [text.str.contains(pattern, regex=True).to_numpy(bool) for pattern, _ in rules]
    labels = np.select(conditions, [label for _, label in rules], default="")
    out = pd.Series(labels, index=series.index, dtype=object).replace("", None)
    return out.astype(_STRING)


def _org_type(values: pd.Series) -> pd.Series:
    return pd.Series(values.fillna("other").astype(object), index=values.index).astype(_TYPE_DTYPE)


def _row_ids(prefix: str, rows: np.ndarray, index: pd.Index) -> pd.Series:
    return prefix + pd.Series(rows, index=index).astype(str).astype(_STRING)


def _ids(
    prefix: str, ids: pd.Series, rows: np.ndarray, *, row_prefix: str | None = None
) -> pd.Series:
    """``<prefix>:<id>``, or ``<row_prefix><row>`` where the id is blank.

    ``row_prefix`` defaults to ``<prefix>:row:``.
    """
    fallback = f"{prefix}:row:" if row_prefix is None else row_prefix
    return (prefix + ":" + ids).fillna(_row_ids(fallback, rows, ids.index))


# ---------------------------------------------------------------------------------------
# Opening sources
# ---------------------------------------------------------------------------------------


@dataclass
class _Table:
    """An opened source: where it is, its headings, and how to read its rows."""

    label: str
    source_file: str | None
    kind: Literal["text", "excel", "parquet", "json", "frame"]
    headings: list[str]
    opener: Callable[[], IO[bytes]] | None = None
    encoding: str | None = None
    auto_encoding: bool = False
    delimiter: str = ","
    skip_lines: int = 0
    frame: pd.DataFrame | None = None
    frame_index: pd.Index | None = None


def _describe(path: Path, member: str | None = None) -> str:
    return f"file '{path}'" if member is None else f"file '{member}' in '{path}'"


def _open_table(
    source: str | PathLike[str] | pd.DataFrame,
    *,
    encoding: str | None,
    sheet_name: str | int,
    stack: contextlib.ExitStack,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        return _Table(
            label="DataFrame",
            source_file=None,
            kind="frame",
            headings=list(frame.columns),
            frame=frame.reset_index(drop=True),
            frame_index=source.index,
        )
    if not isinstance(source, str | PathLike):
        msg = (
            f"read_organisations expects a file path or a pandas DataFrame, got "
            f"{type(source).__name__}; pass the path of the register file"
        )
        raise InputError(msg)
    path = Path(source)
    if str(source).startswith(("http://", "https://")):
        msg = f"'{source}' is a web address; download the file first and pass its local path"
        raise InputError(msg)
    if path.is_dir():
        msg = f"'{path}' is a directory, not a file; pass the path of the register file in it"
        raise InputError(msg)
    if not path.exists():
        msg = f"file '{path}' does not exist; check the path (working directory: {Path.cwd()})"
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _open_zip_member(
            path, encoding=encoding, sheet_name=sheet_name, stack=stack, expected=expected
        )

    def opener() -> IO[bytes]:
        return path.open("rb")

    return _open_by_suffix(
        suffix,
        label=_describe(path),
        source_file=path.name,
        opener=opener,
        encoding=encoding,
        sheet_name=sheet_name,
        expected=expected,
    )


def _open_zip_member(
    path: Path,
    *,
    encoding: str | None,
    sheet_name: str | int,
    stack: contextlib.ExitStack,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"file '{path}' is not a readable ZIP archive ({exc}); download it again"
        raise InputError(msg) from None
    members = [
        info.filename
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and Path(info.filename).suffix.lower()
        in {*_TEXT_EXTENSIONS, *_EXCEL_EXTENSIONS, *_PARQUET_EXTENSIONS, *_JSON_EXTENSIONS}
    ]
    if len(members) != 1:
        listed = ", ".join(repr(info.filename) for info in archive.infolist()) or "nothing"
        what = "no readable file" if not members else f"{len(members)} readable files"
        msg = (
            f"file '{path}' holds {what} (it contains {listed}); a ZIP must hold exactly one "
            f"register file ({_SUPPORTED}). Extract the file you want and pass its path"
        )
        raise InputError(msg)
    member = members[0]

    def opener() -> IO[bytes]:
        return archive.open(member)

    return _open_by_suffix(
        Path(member).suffix.lower(),
        label=_describe(path, member),
        source_file=f"{path.name}/{member}",
        opener=opener,
        encoding=encoding,
        sheet_name=sheet_name,
        expected=expected,
    )


_MAGIC: Final = (
    (b"PK\x03\x04", "a ZIP archive or an .xlsx workbook", ".zip or .xlsx"),
    (b"PAR1", "a Parquet file", ".parquet"),
    (b"%PDF", "a PDF document", None),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel .xls workbook", None),
    (b"\x1f\x8b", "a gzip-compressed file", None),
)


def _read_sample(opener: Callable[[], IO[bytes]], size: int = _SAMPLE_BYTES) -> bytes:
    with opener() as handle:
        return handle.read(size)


def _open_by_suffix(
    suffix: str,
    *,
    label: str,
    source_file: str,
    opener: Callable[[], IO[bytes]],
    encoding: str | None,
    sheet_name: str | int,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    if suffix == ".xls":
        msg = (
            f"{label} is an old-style Excel .xls workbook, which is not supported; open it "
            f"in a spreadsheet program and save it as .xlsx or .csv"
        )
        raise InputError(msg)
    known = {*_TEXT_EXTENSIONS, *_EXCEL_EXTENSIONS, *_PARQUET_EXTENSIONS, *_JSON_EXTENSIONS}
    if suffix not in known:
        msg = (
            f"{label} has the unsupported extension '{suffix or '(none)'}'; supported: "
            f"{_SUPPORTED}. Rename the file if its extension is wrong"
        )
        raise InputError(msg)
    sample = _read_sample(opener)
    if not sample.strip():
        msg = f"{label} is empty ({len(sample)} bytes); export the register again"
        raise InputError(msg)
    if suffix in _EXCEL_EXTENSIONS:
        return _open_excel(label, source_file, opener, sheet_name, expected)
    if suffix in _PARQUET_EXTENSIONS:
        return _open_parquet(label, source_file, opener)
    _check_not_binary(sample, label, suffix)
    chosen = encoding or _detect_encoding(sample)
    if suffix in _JSON_EXTENSIONS:
        table = _Table(
            label=label,
            source_file=source_file,
            kind="json",
            headings=[],
            opener=opener,
            encoding=chosen,
        )
        table.headings = _json_headings(table)
        return table
    text = _decode_sample(sample, chosen, label, explicit=encoding is not None)
    delimiter = _TEXT_EXTENSIONS[suffix] or _sniff_delimiter(text)
    records = _first_records(text, delimiter, label)
    position = _heading_position([cells for _, cells in records], expected)
    skip_lines, headings = records[position] if position else (0, records[0][1])
    headings = [h.strip() or f"Unnamed: {i}" for i, h in enumerate(headings)]
    return _Table(
        label=label,
        source_file=source_file,
        kind="text",
        headings=headings,
        opener=opener,
        encoding=chosen,
        auto_encoding=encoding is None,
        delimiter=delimiter,
        skip_lines=skip_lines,
    )


def _first_records(text: str, delimiter: str, label: str) -> list[tuple[int, list[str]]]:
    """Return the first filled records of a text sample, each with the lines before it."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    lines_before = 0
    while len(records) < _HEADING_SEARCH:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if records:  # the sample may end inside a quoted field
                break
            msg = f"{label}: cannot read its heading row ({exc}); check that it is a CSV file"
            raise InputError(msg) from None
        if any(cell.strip() for cell in cells):
            records.append((lines_before, cells))
        lines_before = reader.line_num
    if not records:
        msg = f"{label} holds no heading row (only blank lines); export the register again"
        raise InputError(msg)
    return records


def _is_heading_row(cells: Sequence[str], expected: frozenset[str]) -> bool:
    """Whether a row looks like the heading row of a register (not a title or data)."""
    present = {cell.strip() for cell in cells if cell and cell.strip()}
    if any(signature <= present for signature in _SIGNATURES.values()):
        return True
    normalised = {_normalise_heading(cell) for cell in present}
    if expected:
        return expected <= normalised
    has_name = not normalised.isdisjoint(_ALIASES["name"])
    has_postcode = any(n in _ALIASES["postcode"] or n.endswith("postcode") for n in normalised)
    return has_name and has_postcode


def _heading_position(rows: Sequence[Sequence[str]], expected: frozenset[str]) -> int:
    """Which of the first filled rows is the heading row.

    The first one, unless it does not look like a heading row while a later one does:
    then the rows above are a title or notes (or the upper row of a two-row heading), not
    organisations.
    """
    if not rows or _is_heading_row(rows[0], expected):
        return 0
    for position, cells in enumerate(rows[1:_HEADING_SEARCH], start=1):
        if _is_heading_row(cells, expected):
            return position
    return 0


def _check_not_binary(sample: bytes, label: str, suffix: str) -> None:
    for magic, what, right in _MAGIC:
        if sample.startswith(magic):
            fix = f"rename it to {right}" if right else "export it as CSV"
            msg = f"{label} looks like {what}, not a '{suffix}' text file; {fix}"
            raise InputError(msg)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    if b"\x00" in sample[:8192]:
        msg = (
            f"{label} is a binary file, not text (it contains NUL bytes); pass a CSV, "
            f"XLSX, Parquet or JSON export of the register"
        )
        raise InputError(msg)


def _detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < _SAMPLE_BYTES)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _decode_sample(sample: bytes, encoding: str, label: str, *, explicit: bool) -> str:
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        msg = f"unknown encoding {encoding!r} for {label}; use e.g. 'utf-8' or 'cp1252'"
        raise InputError(msg) from None
    try:
        return decoder.decode(sample, final=len(sample) < _SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        if explicit:
            msg = (
                f"{label} cannot be decoded as {encoding!r} (byte {exc.start}: "
                f"{exc.object[exc.start : exc.start + 1]!r}); pass the right encoding=, "
                f"e.g. 'cp1252' for files saved by Excel"
            )
        else:
            msg = (
                f"{label} is neither UTF-8 nor Windows-1252 text (undecodable byte at "
                f"{exc.start}); pass its encoding, e.g. encoding='latin-1'"
            )
        raise InputError(msg) from None


def _sniff_delimiter(text: str) -> str:
    """Return the delimiter most used on the first line that has any (titles have none)."""
    for line in text.splitlines()[:_HEADING_SEARCH]:
        counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            return best
    return ","


def _open_excel(
    label: str,
    source_file: str,
    opener: Callable[[], IO[bytes]],
    sheet_name: str | int,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    with opener() as handle:
        data = io.BytesIO(handle.read())
    try:
        with pd.ExcelFile(data, engine="openpyxl") as book:
            sheets = list(book.sheet_names)
            if isinstance(sheet_name, str) and sheet_name not in sheets:
                msg = (
                    f"{label} has no sheet named {sheet_name!r}; its sheets are "
                    f"{', '.join(map(repr, sheets))}; pass sheet_name= one of them"
                )
                raise InputError(msg)
            if isinstance(sheet_name, int) and not 0 <= sheet_name < len(sheets):
                msg = (
                    f"{label} has {len(sheets)} sheet(s), so sheet_name={sheet_name} does not "
                    f"exist; its sheets are {', '.join(map(repr, sheets))}"
                )
                raise InputError(msg)
            raw = pd.read_excel(book, sheet_name=sheet_name, header=None, dtype=object)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
        msg = f"{label} cannot be read as an Excel workbook ({exc}); save it again as .xlsx"
        raise InputError(msg) from None
    filled = raw.notna().any(axis=1).to_numpy(bool)
    if not filled.any():
        msg = f"{label}: sheet {sheet_name!r} is empty; pass sheet_name= of the sheet with data"
        raise InputError(msg)
    # The heading is the first filled row (or, below a title, the first that looks like
    # a heading row); blank rows after the last filled one are not data, blank rows in
    # between are kept (as rows with every field missing).
    candidates = np.flatnonzero(filled)[:_HEADING_SEARCH]
    rows = [[_cell_text(v) or "" for v in raw.iloc[int(p)]] for p in candidates]
    first = int(candidates[_heading_position(rows, expected)])
    last = len(filled) - int(np.argmax(filled[::-1]))
    headings = [
        (_cell_text(v) or "").strip() or f"Unnamed: {i}" for i, v in enumerate(raw.iloc[first])
    ]
    body = raw.iloc[first + 1 : last].reset_index(drop=True)
    frame = pd.DataFrame(
        {i: body.iloc[:, i].map(_cell_text).astype(_STRING) for i in range(len(headings))}
    )
    return _Table(
        label=label,
        source_file=source_file,
        kind="excel",
        headings=headings,
        frame=frame,
    )


def _open_parquet(label: str, source_file: str, opener: Callable[[], IO[bytes]]) -> _Table:
    with opener() as handle:
        data = io.BytesIO(handle.read())
    try:
        frame = pd.read_parquet(data)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        msg = f"{label} cannot be read as Parquet ({exc}); write it again as Parquet or CSV"
        raise InputError(msg) from None
    # A named index (written by ``frame.set_index("id").to_parquet(...)``) is data.
    named = [n for n in frame.index.names if n is not None and n not in frame.columns]
    if named:
        frame = frame.reset_index(level=named)
    headings = [str(c).strip() for c in frame.columns]
    frame = frame.reset_index(drop=True)
    frame.columns = range(len(headings))
    return _Table(
        label=label,
        source_file=source_file,
        kind="parquet",
        headings=headings,
        frame=frame,
    )


# ---------------------------------------------------------------------------------------
# JSON records (the Charity Commission's JSON layout: one array of objects)
# ---------------------------------------------------------------------------------------

_JSON_GAP: Final = re.compile(r"[\s,]*")


def _iter_json_records(table: _Table) -> Iterator[dict[str, Any]]:
    """Stream the objects of a JSON array (or JSON lines) without loading it whole."""
    assert table.opener is not None
    decoder = json.JSONDecoder()
    with table.opener() as raw:
        stream = io.TextIOWrapper(raw, encoding=table.encoding or "utf-8-sig", newline="")
        buffer, pos, offset, eof, opened = "", 0, 0, False, False
        while True:
            pos = _JSON_GAP.match(buffer, pos).end()  # type: ignore[union-attr]
            if pos >= len(buffer):
                if eof:
                    return
                chunk = _read_text(stream, table)
                eof = not chunk
                offset += pos
                buffer, pos = buffer[pos:] + chunk, 0
                continue
            char = buffer[pos]
            if char == "[" and not opened:
                opened, pos = True, pos + 1
                continue
            if char == "]" and opened:
                return
            if char != "{":
                msg = (
                    f"{table.label}: expected a JSON array of objects (one per organisation), "
                    f"found {char!r} at character {offset + pos}; export the register as a "
                    f"JSON array of records"
                )
                raise InputError(msg)
            try:
                record, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if not eof:
                    chunk = _read_text(stream, table)
                    eof = not chunk
                    offset += pos
                    buffer, pos = buffer[pos:] + chunk, 0
                    continue
                msg = (
                    f"{table.label} is not valid JSON near character {offset + exc.pos}: "
                    f"{exc.msg}; download or export the file again"
                )
                raise InputError(msg) from None
            yield record
            pos = end


def _read_text(stream: io.TextIOWrapper, table: _Table) -> str:
    try:
        return stream.read(_SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        msg = (
            f"{table.label} cannot be decoded as {table.encoding!r} ({exc.reason}); pass the "
            f"right encoding="
        )
        raise InputError(msg) from None


def _json_headings(table: _Table) -> list[str]:
    for record in _iter_json_records(table):
        return [str(key).strip() for key in record]
    msg = f"{table.label} holds no records (an empty JSON array); export the register again"
    raise InputError(msg)


# ---------------------------------------------------------------------------------------
# Reading rows (chunked where it helps), with a per-chunk filter
# ---------------------------------------------------------------------------------------

_RowFilter = Callable[[pd.DataFrame], list[tuple[str, pd.Series]]]


@dataclass
class _Rows:
    """Rows kept from a source, with their 1-based source row numbers."""

    frame: pd.DataFrame
    rows: np.ndarray
    rows_read: int
    filtered_out: dict[str, int]


def _apply_filters(
    chunk: pd.DataFrame, start: int, row_filter: _RowFilter | None, counts: dict[str, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    rows = np.arange(start + 1, start + len(chunk) + 1)
    if row_filter is None:
        return chunk, rows
    keep = np.ones(len(chunk), dtype=bool)
    for reason, passes in row_filter(chunk):
        passing = passes.to_numpy(dtype=bool)
        counts[reason] = counts.get(reason, 0) + int((keep & ~passing).sum())
        keep &= passing
    return chunk.iloc[np.flatnonzero(keep)], rows[keep]


def _read_rows(
    table: _Table,
    *,
    usecols: Collection[str] | None = None,
    chunksize: int | None = None,
    quoting_none: bool = False,
    row_filter: _RowFilter | None = None,
) -> _Rows:
    """Read every row (in chunks if ``chunksize``), keeping those that pass ``row_filter``."""
    if table.kind == "text":
        return _read_text_rows(
            table,
            usecols=usecols,
            chunksize=chunksize,
            quoting_none=quoting_none,
            row_filter=row_filter,
        )
    if table.kind == "json":
        return _read_json_rows(table, chunksize=chunksize, row_filter=row_filter)
    assert table.frame is not None
    frame = table.frame.set_axis(table.headings, axis=1)
    if usecols is not None:
        wanted = set(usecols)
        frame = frame[[h for h in table.headings if h in wanted]]
    counts: dict[str, int] = {}
    kept, rows = _apply_filters(frame, 0, row_filter, counts)
    return _Rows(kept.reset_index(drop=True), rows, len(frame), counts)


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Store object columns holding only text as ``string`` (far smaller than objects)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object and values.map(lambda v: v is None or isinstance(v, str)).all():
            out[column] = values.astype(_STRING)
    return out


def _read_json_rows(
    table: _Table, *, chunksize: int | None, row_filter: _RowFilter | None
) -> _Rows:
    # Parsed JSON objects are large Python dicts: keep batches small.
    batch_size = min(chunksize or _JSON_BATCH, _JSON_BATCH)
    frames: list[pd.DataFrame] = []
    rows: list[np.ndarray] = []
    counts: dict[str, int] = {}
    start = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal start, batch
        chunk = pd.DataFrame.from_records(batch)
        chunk.columns = [str(c).strip() for c in chunk.columns]
        kept, kept_rows = _apply_filters(chunk, start, row_filter, counts)
        frames.append(_compact(kept))
        rows.append(kept_rows)
        start += len(chunk)
        batch = []

    for record in _iter_json_records(table):
        if not isinstance(record, dict):  # pragma: no cover - the streamer yields objects
            continue
        batch.append(record)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return _Rows(frame, np.concatenate(rows) if rows else np.array([], int), start, counts)


def _read_text_rows(
    table: _Table,
    *,
    usecols: Collection[str] | None,
    chunksize: int | None,
    quoting_none: bool,
    row_filter: _RowFilter | None,
) -> _Rows:
    assert table.opener is not None
    assert table.encoding is not None
    encodings = [table.encoding]
    if table.auto_encoding and table.encoding == "utf-8-sig":
        encodings.append("cp1252")
    wanted = None if usecols is None else frozenset(usecols)
    for attempt, encoding in enumerate(encodings):
        try:
            return _parse_text(
                table,
                encoding=encoding,
                wanted=wanted,
                chunksize=chunksize,
                quoting_none=quoting_none,
                row_filter=row_filter,
            )
        except UnicodeDecodeError as exc:
            if attempt + 1 < len(encodings):
                continue
            how = "pass the right encoding=" if not table.auto_encoding else "pass encoding="
            msg = (
                f"{table.label} cannot be decoded as {encoding!r} ({exc.reason} at byte "
                f"{exc.start} of a block); {how}, e.g. 'cp1252' or 'latin-1'"
            )
            raise InputError(msg) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _csv_options(table: _Table, quoting_none: bool) -> dict[str, Any]:
    if quoting_none:
        # Tab-separated register extracts have no quoting and no escaping: a quote or a
        # backslash in a field is just a character (a backslash must never escape the
        # delimiter, which would shift every later field of the row).
        return {"sep": table.delimiter, "quoting": csv.QUOTE_NONE}
    return {"sep": table.delimiter, "quoting": csv.QUOTE_MINIMAL}


def _parse_text(
    table: _Table,
    *,
    encoding: str,
    wanted: frozenset[str] | None,
    chunksize: int | None,
    quoting_none: bool,
    row_filter: _RowFilter | None,
) -> _Rows:
    assert table.opener is not None
    counts: dict[str, int] = {}
    options: dict[str, Any] = {
        **_csv_options(table, quoting_none),
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "encoding": encoding,
        "engine": "c",
        "on_bad_lines": "error",
    }
    if table.skip_lines:
        options["skiprows"] = table.skip_lines
    if wanted is not None:
        options["usecols"] = lambda heading: str(heading).strip() in wanted
    frames: list[pd.DataFrame] = []
    rows: list[np.ndarray] = []
    start = 0
    try:
        with table.opener() as raw_handle:
            handle: Any = raw_handle
            if quoting_none and not encoding.lower().replace("_", "-").startswith("utf-16"):
                handle = _RejoinedLines(
                    raw_handle, table.delimiter, len(table.headings), skip=table.skip_lines
                )
            if chunksize is None:
                chunks: Any = [pd.read_csv(handle, **options)]
            else:
                chunks = pd.read_csv(handle, chunksize=chunksize, **options)
            for chunk in chunks:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                kept, kept_rows = _apply_filters(chunk, start, row_filter, counts)
                frames.append(kept)
                rows.append(kept_rows)
                start += len(chunk)
    except pd.errors.EmptyDataError:
        msg = f"{table.label} is empty (no heading row); export the register again"
        raise InputError(msg) from None
    except pd.errors.ParserError as exc:
        raise InputError(_malformed_message(table, encoding, quoting_none, exc)) from None
    if not frames:  # a chunked read of a heading-only file yields no chunk
        return _Rows(pd.DataFrame(columns=table.headings), np.array([], int), 0, counts)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _Rows(frame.reset_index(drop=True), np.concatenate(rows), start, counts)


class _RejoinedLines(io.RawIOBase):
    """Lines of an unquoted delimited file, with records broken by a line break joined.

    Without quoting, a line break inside a field (an address or activities text typed
    over several lines) splits a record into two short lines, which a CSV parser would
    read as two rows padded with missing values. Every record of such a file has as
    many delimiters as the heading row, so a line with fewer is joined to the lines
    after it (the line break becomes a space) until it has enough. The first ``skip``
    lines (a title above the heading row) are passed on as they are.
    """

    def __init__(self, raw: IO[bytes], delimiter: str, fields: int, *, skip: int = 0) -> None:
        self._lines = iter(raw)
        self._skip = skip
        self._delimiter = delimiter.encode("ascii")
        self._wanted = fields - 1
        self._pending: bytes | None = None
        self._buffer = bytearray()

    def readable(self) -> bool:
        return True

    def _next_line(self) -> bytes | None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line
        return next(self._lines, None)

    def _record(self) -> bytes | None:
        line = self._next_line()
        if line is None:
            return None
        if self._skip:
            self._skip -= 1
            return line
        count = line.count(self._delimiter)
        while count < self._wanted and line.strip():
            following = self._next_line()
            if following is None:
                break
            if following.count(self._delimiter) >= self._wanted:  # a whole record
                self._pending = following
                break
            line = line.rstrip(b"\r\n") + b" " + following
            count += following.count(self._delimiter)
        return line

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._buffer) < len(view):
            record = self._record()
            if record is None:
                break
            self._buffer += record
        size = min(len(view), len(self._buffer))
        view[:size] = self._buffer[:size]
        del self._buffer[:size]
        return size


def _malformed_message(table: _Table, encoding: str, quoting_none: bool, error: Exception) -> str:
    """Find every row whose field count differs from the heading row's, for one message."""
    assert table.opener is not None
    expected = len(table.headings)
    bad: list[tuple[int, int]] = []
    last_start = 0
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with table.opener() as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
            dialect: dict[str, Any] = {"delimiter": table.delimiter}
            if quoting_none:
                dialect.update(quoting=csv.QUOTE_NONE)
            for _ in range(table.skip_lines):  # title lines above the heading row
                text.readline()
            reader = csv.reader(text, **dialect)
            for heading in reader:  # blank lines before the heading row are skipped
                if heading:
                    break
            end = reader.line_num + table.skip_lines
            for record in reader:
                last_start, end = end + 1, reader.line_num + table.skip_lines
                if record and len(record) != expected:
                    bad.append((last_start, len(record)))
    except csv.Error as exc:
        return (
            f"{table.label} is malformed near line {last_start}: {exc}; check the quoting "
            f"of that line"
        )
    finally:
        csv.field_size_limit(previous_limit)
    if "EOF inside string" in str(error):
        return (
            f"{table.label} is malformed: a quoted field opened on line {last_start} is never "
            f"closed, so it runs on to the end of the file (an unclosed quote); close the "
            f"quote or remove the stray quote character"
        )
    if not bad:
        detail = str(error).replace("Error tokenizing data. C error: ", "").strip()
        return f"{table.label} is malformed: {detail}; check its quoting and delimiters"
    shown = ", ".join(f"line {line} has {n}" for line, n in bad[:20])
    more = f" (and {len(bad) - 20} more)" if len(bad) > 20 else ""
    return (
        f"{table.label} has {len(bad)} row(s) with the wrong number of fields: the heading row "
        f"has {expected}, but {shown}{more}. A field probably contains an unquoted delimiter "
        f"{table.delimiter!r} or line break; quote such fields or remove the stray characters"
    )


# ---------------------------------------------------------------------------------------
# Building the schema frame
# ---------------------------------------------------------------------------------------


@dataclass
class _Fields:
    """Schema values computed by one register's mapping (aligned with the raw rows)."""

    org_id: pd.Series
    name: pd.Series
    org_type: pd.Series
    postcode: pd.Series
    address: pd.Series | None = None
    sic: pd.Series | None = None
    sector: pd.Series | None = None
    income: pd.Series | None = None
    employees: pd.Series | None = None
    company_number: pd.Series | None = None
    charity_number: pd.Series | None = None
    column_map: dict[str, Any] = field(default_factory=dict)


def _assemble(
    fields: _Fields, raw: pd.DataFrame, *, register: str, source_file: str | None, rows: np.ndarray
) -> tuple[pd.DataFrame, dict[str, int]]:
    index = raw.index
    missing_text = pd.Series(pd.NA, index=index, dtype=_STRING)
    unparsed: dict[str, int] = {}
    if fields.sic is not None:
        sic = sic_sections(fields.sic)
        sic_code, sic_section = sic["sic_code"], sic["sic_section"]
        sector = fields.sector if fields.sector is not None else sic["sic_text"]
        sector = _as_text(sector).fillna(sic["sic_text"])
    else:
        sic_code = sic_section = missing_text
        sector = _as_text(fields.sector) if fields.sector is not None else missing_text
    numbers = {}
    for name in ("income", "employees"):
        values = getattr(fields, name)
        if values is None:
            numbers[name] = pd.Series(np.nan, index=index, dtype="float64")
        else:
            numbers[name], unparsed[name] = _as_number(values)
    schema = pd.DataFrame(
        {
            "org_id": fields.org_id.astype(_STRING),
            "name": _as_text(fields.name),
            "org_type": fields.org_type,
            "postcode": _as_text(fields.postcode),
            "address": fields.address if fields.address is not None else missing_text,
            "sic_code": sic_code,
            "sic_section": sic_section,
            "sector": sector,
            "income": numbers["income"],
            "employees": numbers["employees"],
            "company_number": (
                _normalise_company_number(fields.company_number)
                if fields.company_number is not None
                else missing_text
            ),
            "charity_number": (
                _normalise_charity_number(fields.charity_number)
                if fields.charity_number is not None
                else missing_text
            ),
            "source_register": pd.Series(register, index=index, dtype=_STRING),
            "source_file": pd.Series(source_file, index=index, dtype=_STRING),
            "source_row": pd.Series(rows, index=index, dtype="Int64"),
            "duplicate_of": missing_text,
            "duplicate_reason": missing_text,
        },
        index=index,
    )
    originals = raw.add_prefix("src_")
    return pd.concat([schema, originals], axis=1), unparsed


def _col(raw: pd.DataFrame, heading: str) -> pd.Series:
    if heading in raw.columns:
        return raw[heading]
    return pd.Series(pd.NA, index=raw.index, dtype=_STRING)


def _map_coopsuk(raw: pd.DataFrame, rows: np.ndarray) -> _Fields:
    legal = _as_text(_col(raw, "Legal Form"))
    structure = _as_text(_col(raw, "Organisational Structure"))
    code = structure.str.extract(r"(OS\d+)\s*$", expand=False).astype(_STRING)
    label = code.map(_ESSGLOBAL_STRUCTURES, na_action="ignore").astype(_STRING)
    structure = label.fillna(structure.where(code.isna())).str.casefold()
    legal_l = legal.str.casefold()
    ownership = _as_text(_col(raw, "Ownership Classification")).str.casefold()
    community = _flag(ownership == "community of interest")
    society = _flag(legal_l.str.contains("society")) | _flag(structure.str.contains("society"))
    company = _flag(legal_l == "company") | _flag(structure.str.startswith("company"))
    cic = _flag(structure.str.contains("community interest"))
    named = _classify_type_text(legal)
    named = named.mask(_flag(named == "other"))
    fallback = np.select(
        [cic.to_numpy(), (society & community).to_numpy(), (company & community).to_numpy()],
        ["community_interest_company", "community_benefit_society", "social_enterprise"],
        default="co_operative",
    )
    org_type = named.fillna(pd.Series(fallback, index=raw.index, dtype=_STRING))
    locality = _as_text(_col(raw, "Locality"))
    region = _as_text(_col(raw, "Region"))
    region = region.mask(_flag(region.str.casefold() == locality.str.casefold()))
    return _Fields(
        org_id=_ids("coopsuk", _as_text(_col(raw, "Identifier")), rows),
        name=_col(raw, "Name"),
        org_type=_org_type(org_type),
        postcode=_col(raw, "Postcode"),
        address=_join_address([_col(raw, "Street Address"), locality, region], raw.index),
        sic=_col(raw, "SIC Code"),
        sector=_col(raw, "Sector"),
        company_number=_col(raw, "Companies House Number"),
        column_map={
            "org_id": "Identifier",
            "name": "Name",
            "org_type": ["Legal Form", "Organisational Structure", "Ownership Classification"],
            "postcode": "Postcode",
            "address": ["Street Address", "Locality", "Region"],
            "sic_code": "SIC Code",
            "sector": "Sector",
            "company_number": "Companies House Number",
        },
    )


def _ccew_linked_number(raw: pd.DataFrame) -> pd.Series:
    numbers, _ = _as_number(_col(raw, "linked_charity_number"))
    return numbers.fillna(0)


def _map_ccew(raw: pd.DataFrame, rows: np.ndarray) -> _Fields:
    regno = _normalise_charity_number(_col(raw, "registered_charity_number"))
    linked = _ccew_linked_number(raw)
    suffix = ("-" + linked.astype("int64").astype(str)).where(linked != 0, "").astype(_STRING)
    is_cio = _true(_col(raw, "charity_is_cio"))
    org_type = pd.Series(
        np.where(is_cio, "charitable_incorporated_organisation", "charity"), index=raw.index
    )
    return _Fields(
        org_id=_ids("ccew", regno + suffix, rows),
        name=_col(raw, "charity_name"),
        org_type=_org_type(org_type),
        postcode=_col(raw, "charity_contact_postcode"),
        address=_join_address([_col(raw, h) for h in _CCEW_ADDRESS], raw.index),
        income=_col(raw, "latest_income"),
        company_number=_col(raw, "charity_company_registration_number"),
        charity_number=regno,
        column_map={
            "org_id": ["registered_charity_number", "linked_charity_number"],
            "name": "charity_name",
            "org_type": "charity_is_cio",
            "postcode": "charity_contact_postcode",
            "address": list(_CCEW_ADDRESS),
            "income": "latest_income",
            "company_number": "charity_company_registration_number",
            "charity_number": "registered_charity_number",
        },
    )


def _category_keys(series: pd.Series) -> pd.Series:
    """``CompanyCategory`` values as compared: no case, runs of whitespace as one space."""
    return _as_text(series).str.replace(r"\s+", " ", regex=True).str.casefold()


def _ch_org_type(category: pd.Series, name: pd.Series) -> pd.Series:
    cat = _category_keys(category).fillna("")
    coop_name = _flag(_as_text(name).str.contains(r"(?i)\bco-?op(?:erative)?s?\b", regex=True))
    society = cat.isin(["registered society", "industrial and provident society"])
    values = np.select(
        [
            cat.str.contains("community interest company", regex=False).to_numpy(bool),
            cat.str.contains("charitable incorporated", regex=False).to_numpy(bool),
            (society & coop_name).to_numpy(bool),
            society.to_numpy(bool),
            cat.str.contains("guar|lbg", regex=True).to_numpy(bool),
        ],
        [
            "community_interest_company",
            "charitable_incorporated_organisation",
            "co_operative",
            "community_benefit_society",
            "company_limited_by_guarantee",
        ],
        default="other",
    )
    return _org_type(pd.Series(values, index=category.index))


def _map_companies_house(raw: pd.DataFrame, rows: np.ndarray) -> _Fields:
    number = _normalise_company_number(_col(raw, "CompanyNumber"))
    return _Fields(
        org_id=_ids("ch", number, rows),
        name=_col(raw, "CompanyName"),
        org_type=_ch_org_type(_col(raw, "CompanyCategory"), _col(raw, "CompanyName")),
        postcode=_col(raw, "RegAddress.PostCode"),
        address=_join_address([_col(raw, h) for h in _CH_ADDRESS], raw.index),
        sic=_col(raw, "SICCode.SicText_1"),
        company_number=number,
        column_map={
            "org_id": "CompanyNumber",
            "name": "CompanyName",
            "org_type": "CompanyCategory",
            "postcode": "RegAddress.PostCode",
            "address": list(_CH_ADDRESS),
            "sic_code": "SICCode.SicText_1",
            "company_number": "CompanyNumber",
        },
    )


# ---------------------------------------------------------------------------------------
# Generic reader: finding the columns
# ---------------------------------------------------------------------------------------


def _find_heading(headings: Sequence[str], wanted: str) -> str | None:
    if wanted in headings:
        return wanted
    stripped = wanted.strip()
    for heading in headings:
        if heading == stripped:
            return heading
    key = _normalise_heading(wanted)
    matches = [h for h in headings if _normalise_heading(h) == key]
    return matches[0] if len(matches) == 1 else None


def _looks_like_postcodes(values: pd.Series) -> float:
    sample = _postcode_key(values.head(200)).dropna()
    if sample.empty:
        return 0.0
    return float(sample.str.fullmatch(_LOOSE_POSTCODE).fillna(False).mean())


def _resolve_generic_columns(
    table: _Table, columns: Mapping[str, str | Sequence[str]] | None, preview: pd.DataFrame
) -> dict[str, Any]:
    headings = table.headings
    problems = Problems(table.label)
    chosen: dict[str, Any] = {}
    if columns is not None:
        if not isinstance(columns, Mapping):
            msg = (
                f"columns= must be a mapping of schema field to heading, e.g. "
                f"{{'name': 'Org', 'postcode': 'Post code'}}; got {type(columns).__name__}"
            )
            raise InputError(msg)
        for key, value in columns.items():
            if key not in _COLUMN_FIELDS:
                problems.add(
                    f"columns= has the unknown field {key!r}; the fields are "
                    f"{', '.join(map(repr, _COLUMN_FIELDS))}"
                )
                continue
            wanted_list = list(value) if isinstance(value, list | tuple) else [value]
            if key != "address" and len(wanted_list) != 1:
                problems.add(f"columns={{{key!r}: ...}} must name one heading, got {value!r}")
                continue
            found = []
            for wanted in wanted_list:
                heading = _find_heading(headings, str(wanted))
                if heading is None:
                    problems.add(
                        f"columns={{{key!r}: {wanted!r}}} names a heading that is not in the "
                        f"file; its headings are {', '.join(map(repr, headings))}"
                    )
                else:
                    found.append(heading)
            if found:
                chosen[key] = found if key == "address" else found[0]
        problems.raise_if_any(InputError)
    normalised = {h: _normalise_heading(h) for h in headings}
    used = {h for v in chosen.values() for h in ([v] if isinstance(v, str) else v)}
    for key, aliases in _ALIASES.items():
        if key in chosen:
            continue
        for alias in aliases:
            hits = [h for h in headings if normalised[h] == alias and h not in used]
            if len(hits) > 1:
                problems.add(
                    f"the columns {', '.join(map(repr, hits))} all look like the {key} "
                    f"column; say which one to use, e.g. columns={{{key!r}: {hits[0]!r}}}"
                )
            if hits:
                chosen[key] = hits[0]
                used.add(hits[0])
                break
    problems.raise_if_any(InputError)
    if "postcode" not in chosen:
        hits = [h for h in headings if normalised[h].endswith("postcode") and h not in used]
        if len(hits) == 1:
            chosen["postcode"] = hits[0]
            used.add(hits[0])
    if "address" not in chosen:
        parts = [
            h
            for h in headings
            if h not in used
            and _ADDRESS_HEADING.match(normalised[h])
            and not any(bad in normalised[h] for bad in _NOT_ADDRESS)
        ]
        if parts:
            chosen["address"] = parts
    missing = [key for key in ("name", "postcode") if key not in chosen]
    if missing:
        suggestion = dict(chosen)
        if "postcode" in missing:
            scores = {h: _looks_like_postcodes(preview[h]) for h in headings if h not in used}
            best = max(scores, key=lambda h: scores[h], default=None)
            if best is not None and scores[best] >= 0.5:
                suggestion["postcode"] = best
        mapping = {
            key: suggestion.get(key, f"<heading of the {key} column>")
            for key in ("name", "postcode")
        }
        listed = ", ".join(map(repr, headings))
        what = " and ".join(f"the {m} column" for m in missing)
        msg = (
            f"{table.label}: cannot find {what} among its columns {listed}. Say which columns "
            f"to use, e.g. read_organisations(..., columns={mapping!r})"
        )
        raise InputError(msg)
    return chosen


def _map_generic(raw: pd.DataFrame, rows: np.ndarray, chosen: Mapping[str, Any]) -> _Fields:
    def get(key: str) -> pd.Series | None:
        heading = chosen.get(key)
        return None if heading is None else raw[heading]

    ids = get("id")
    if ids is None:
        org_id = _row_ids("row:", rows, raw.index)
    else:
        org_id = _ids("generic", _as_text(ids), rows, row_prefix="row:")
    types = get("org_type")
    org_type = (
        _classify_type_text(types)
        if types is not None
        else pd.Series(pd.NA, index=raw.index, dtype=_STRING)
    )
    address = chosen.get("address")
    return _Fields(
        org_id=org_id,
        name=raw[chosen["name"]],
        org_type=_org_type(org_type),
        postcode=raw[chosen["postcode"]],
        address=None if not address else _join_address([raw[h] for h in address], raw.index),
        sic=get("sic_code"),
        sector=get("sector"),
        income=get("income"),
        employees=get("employees"),
        company_number=get("company_number"),
        charity_number=get("charity_number"),
        column_map={("org_id" if k == "id" else k): v for k, v in chosen.items()},
    )


# ---------------------------------------------------------------------------------------
# The public reader
# ---------------------------------------------------------------------------------------


def _detect_register(headings: Sequence[str]) -> str:
    present = set(headings)
    for register, signature in _SIGNATURES.items():
        if signature <= present:
            return register
    return "generic"


def _check_duplicate_headings(table: _Table) -> None:
    seen: dict[str, int] = {}
    for heading in table.headings:
        seen[heading] = seen.get(heading, 0) + 1
    repeated = {h: n for h, n in seen.items() if n > 1}
    if repeated:
        listed = ", ".join(f"{h!r} ({n} times)" for h, n in repeated.items())
        msg = (
            f"{table.label} has duplicated column headings: {listed}. Rename them so every "
            f"heading is unique (surrounding spaces are ignored)"
        )
        raise InputError(msg)


def _check_required(table: _Table, register: str, required: Sequence[str]) -> None:
    missing = [h for h in required if h not in table.headings]
    if missing:
        names = {"coopsuk": "Co-operatives UK", "ccew": "Charity Commission"}
        title = names.get(register, "Companies House")
        msg = (
            f"{table.label} was read as a {title} register file (register={register!r}), but "
            f"it lacks the required heading(s) {', '.join(map(repr, missing))}; its headings "
            f"are {', '.join(map(repr, table.headings))}. Pass the register's own export, or "
            f"read it with register='generic' and columns={{...}}"
        )
        raise InputError(msg)


def read_organisations(
    source: str | PathLike[str] | pd.DataFrame,
    *,
    register: Literal["coopsuk", "ccew", "companies_house", "generic"] | None = None,
    columns: Mapping[str, str | Sequence[str]] | None = None,
    encoding: str | None = None,
    sheet_name: str | int = 0,
    include_removed: bool = False,
    include_linked: bool = False,
    company_categories: Collection[str] | None = COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES,
    active_only: bool = False,
    all_columns: bool = False,
    chunksize: int = _DEFAULT_CHUNKSIZE,
) -> pd.DataFrame:
    """Read an organisation register into the organisation schema.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A delimited text file (``.csv``, ``.tsv``, ``.tab``, ``.txt``; comma, tab,
        semicolon or pipe separated; UTF-8 with or without BOM, UTF-16 with BOM, or
        Windows-1252 as saved by Excel — detected, or given by ``encoding``), an Excel
        workbook (``.xlsx``), a Parquet file, a JSON array of records (``.json``; the
        Charity Commission's JSON layout) or JSON lines, a ``.zip`` holding exactly one
        of those (such as the Charity Commission's ``publicextract.charity.zip``), or a
        DataFrame.
    register : {None, "generic", "coopsuk", "ccew", "companies_house"}
        Which reader to use. ``None`` (default) recognises the three known registers by
        their headings — Co-operatives UK open data (``Identifier``, ``Name``, ``Legal
        Form``, ``Organisational Structure``), the Charity Commission extract
        ``publicextract.charity`` (``registered_charity_number``, ``charity_name``,
        ``linked_charity_number``), Companies House basic company data
        (``CompanyName``, ``CompanyNumber``, ``CompanyCategory``) — and uses the generic
        reader otherwise, or whenever ``columns`` is given. ``"generic"`` forces the
        generic reader (no filtering).
    columns : mapping, optional
        Generic reader only: schema field → heading, overriding the headings it finds by
        itself. Fields: ``name``, ``postcode``, ``org_type``, ``address`` (one heading or
        a list, joined in order), ``sic_code``, ``sector``, ``income``, ``employees``,
        ``id``, ``company_number``, ``charity_number``. Headings match exactly or ignoring
        case, spaces and punctuation.
    encoding : str, optional
        Text encoding; by default UTF-8 (BOM or not) is tried, then Windows-1252.
    sheet_name : str or int, default 0
        The sheet of an Excel workbook.
    include_removed : bool, default False
        Charity Commission only: keep charities whose ``charity_registration_status`` is
        not ``Registered`` (removed charities). Counted as ``"removed"`` when filtered.
    include_linked : bool, default False
        Charity Commission only: keep linked charities (``linked_charity_number`` other
        than 0), whose ``org_id`` is ``ccew:<number>-<linked number>``. Counted as
        ``"linked"``.
    company_categories : collection of str or None
        Companies House only: the ``CompanyCategory`` values to keep (ignoring case and
        runs of whitespace), by default
        :data:`COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES`; ``None`` keeps all. Counted as
        ``"category"``.
    active_only : bool, default False
        Companies House only: keep only ``CompanyStatus == "Active"``. Counted as
        ``"status"``.
    all_columns : bool, default False
        Companies House only: read every column instead of
        :data:`COMPANIES_HOUSE_COLUMNS`.
    chunksize : int, default 100000
        Rows per chunk when filtering a register file, so a multi-gigabyte Companies
        House file is read chunk by chunk with a column subset (JSON is parsed in
        batches of at most 10,000 records).

    Returns
    -------
    pandas.DataFrame
        The columns :data:`ORGANISATION_COLUMNS` (see the module documentation), then
        every source column read, prefixed ``src_``. One row per input row except what
        the documented register filters removed (counted in ``attrs["filtered_out"]``).

    Raises
    ------
    InputError
        With one message naming the file (and column/row) and the fix: missing file,
        directory, empty or header-only file, binary or undecodable file, unsupported
        extension, duplicated headings, rows with the wrong number of fields (listing
        their line numbers), a register's missing headings, or — for the generic reader
        — no name or postcode column (listing the columns seen and the ``columns=``
        mapping to pass), or two columns that both look like the same field (such as
        ``Postcode`` and ``postcode``).

    Notes
    -----
    The heading row is the first filled row of a text file or sheet, unless that row
    does not look like a heading row (no register's headings, no name and postcode
    headings, not the ``columns=`` headings) while one of the next rows does: the rows
    above it — a title, notes, the upper row of a two-row heading — are then skipped.
    A Parquet file's named index (``frame.set_index("id").to_parquet(...)``) is read
    as a column; binary text cells are decoded as UTF-8 (else Windows-1252). The
    Charity Commission's tab-separated extract has no quoting: quotes and backslashes
    in it are plain characters, and a line break inside a field is read as a space.

    Organisation types: Co-operatives UK rows are co-operatives unless the legal form or
    organisational structure says community interest company or (Scottish) charitable
    incorporated organisation; registered societies owned by a community of interest are
    community benefit societies, and companies owned by a community of interest are
    social enterprises. Charity Commission rows are charities, or charitable
    incorporated organisations when ``charity_is_cio`` is true. Companies House
    categories map directly; a registered society is a co-operative when its name says
    so (``co-op``, ``co-operative``), else a community benefit society. The generic
    reader maps free text (``"CIC"``, ``"Community Benefit Society"``, ...) and leaves
    ``"other"`` where it cannot tell.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(
    ...     {
    ...         "Organisation name": ["Aston Food Co-op", "Digbeth Arts CIC"],
    ...         "Post code": ["b6 4ab ", "B5 6DY"],
    ...         "Legal form": ["Co-operative society", "Community Interest Company"],
    ...     }
    ... )
    >>> orgs = read_organisations(frame)
    >>> orgs[["org_id", "name", "org_type", "postcode", "source_row"]]
      org_id              name                    org_type postcode  source_row
    0  row:1  Aston Food Co-op                co_operative   b6 4ab           1
    1  row:2  Digbeth Arts CIC  community_interest_company   B5 6DY           2
    >>> orgs.attrs["column_map"]["postcode"]
    'Post code'
    """
    if register is not None and register not in REGISTERS:
        msg = (
            f"register={register!r} is not known; use one of {', '.join(map(repr, REGISTERS))} "
            f"or None to recognise the register from its headings"
        )
        raise InputError(msg)
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        msg = f"chunksize must be a positive whole number of rows, got {chunksize!r}"
        raise InputError(msg)
    with contextlib.ExitStack() as stack:
        table = _open_table(
            source,
            encoding=encoding,
            sheet_name=sheet_name,
            stack=stack,
            expected=_expected_headings(columns),
        )
        _check_duplicate_headings(table)
        if register is None:
            chosen_register = "generic" if columns is not None else _detect_register(table.headings)
        else:
            chosen_register = register
        _check_options(
            chosen_register,
            table,
            columns=columns,
            include_removed=include_removed,
            include_linked=include_linked,
            company_categories=company_categories,
            active_only=active_only,
            all_columns=all_columns,
        )
        if chosen_register == "ccew":
            required = ["registered_charity_number", "charity_name", "charity_contact_postcode"]
            if not include_removed:
                required.append("charity_registration_status")
            _check_required(table, "ccew", required)
            rows = _read_rows(
                table,
                chunksize=chunksize,
                quoting_none=table.delimiter == "\t",
                row_filter=_ccew_filter(include_removed, include_linked),
            )
            _check_has_rows(table, rows)
            fields = _map_ccew(rows.frame, rows.rows)
        elif chosen_register == "companies_house":
            required = ["CompanyName", "CompanyNumber", "RegAddress.PostCode", "CompanyCategory"]
            if active_only:
                required.append("CompanyStatus")
            _check_required(table, "companies_house", required)
            if isinstance(company_categories, str):
                company_categories = [company_categories]
            categories = (
                None
                if company_categories is None
                else frozenset(
                    _category_keys(pd.Series([str(c) for c in company_categories])).dropna()
                )
            )
            rows = _read_rows(
                table,
                usecols=None if all_columns else COMPANIES_HOUSE_COLUMNS,
                chunksize=chunksize,
                row_filter=_ch_filter(categories, active_only),
            )
            _check_has_rows(table, rows)
            fields = _map_companies_house(rows.frame, rows.rows)
        elif chosen_register == "coopsuk":
            _check_required(table, "coopsuk", ["Identifier", "Name", "Postcode"])
            rows = _read_rows(table)
            _check_has_rows(table, rows)
            fields = _map_coopsuk(rows.frame, rows.rows)
        else:
            rows = _read_rows(table)
            _check_has_rows(table, rows)
            if table.kind == "json":  # later records may add keys
                table.headings = [str(c) for c in rows.frame.columns]
            chosen = _resolve_generic_columns(table, columns, rows.frame)
            fields = _map_generic(rows.frame, rows.rows, chosen)
    result, unparsed = _assemble(
        fields,
        rows.frame,
        register=chosen_register,
        source_file=table.source_file,
        rows=rows.rows,
    )
    if table.frame_index is not None:
        result.index = table.frame_index[rows.rows - 1]
    result.attrs = {
        "source": "DataFrame" if isinstance(source, pd.DataFrame) else str(source),
        "register": chosen_register,
        "rows_read": rows.rows_read,
        "filtered_out": dict(rows.filtered_out),
        "column_map": fields.column_map,
        "unparsed": unparsed,
    }
    return result


def _expected_headings(columns: Any) -> frozenset[str]:
    """Normalised headings named by a ``columns=`` mapping (to find the heading row)."""
    if not isinstance(columns, Mapping):
        return frozenset()
    names: list[Any] = []
    for value in columns.values():
        names.extend(value if isinstance(value, list | tuple) else [value])
    return frozenset(_normalise_heading(str(name)) for name in names)


def _check_options(
    register: str,
    table: _Table,
    *,
    columns: Mapping[str, Any] | None,
    include_removed: bool,
    include_linked: bool,
    company_categories: Collection[str] | None,
    active_only: bool,
    all_columns: bool,
) -> None:
    problems = Problems(f"reading {table.label} as register {register!r}")
    if columns is not None and register != "generic":
        problems.add("columns= applies to the generic reader only; drop register= or columns=")
    if register != "ccew":
        for name, value in (
            ("include_removed", include_removed),
            ("include_linked", include_linked),
        ):
            if value:
                problems.add(f"{name}= applies to Charity Commission files (register='ccew')")
    if register != "companies_house":
        if active_only:
            problems.add("active_only= applies to Companies House files")
        if all_columns:
            problems.add("all_columns= applies to Companies House files")
        if company_categories is not COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES:
            problems.add("company_categories= applies to Companies House files")
    problems.raise_if_any(
        InputError, hint="Pass register= explicitly if the file was recognised wrongly."
    )


def _check_has_rows(table: _Table, rows: _Rows) -> None:
    if rows.rows_read == 0 and table.kind != "frame":
        msg = (
            f"{table.label} has a heading row but no data rows; export the register again "
            f"with its rows"
        )
        raise InputError(msg)


def _ccew_filter(include_removed: bool, include_linked: bool) -> _RowFilter:
    def row_filter(chunk: pd.DataFrame) -> list[tuple[str, pd.Series]]:
        tests = []
        if not include_removed:
            status = _as_text(_col(chunk, "charity_registration_status")).str.casefold()
            tests.append(("removed", (status == "registered").fillna(False)))
        if not include_linked:
            tests.append(("linked", _ccew_linked_number(chunk) == 0))
        return tests

    return row_filter


def _ch_filter(categories: frozenset[str] | None, active_only: bool) -> _RowFilter:
    def row_filter(chunk: pd.DataFrame) -> list[tuple[str, pd.Series]]:
        tests = []
        if categories is not None:
            category = _category_keys(_col(chunk, "CompanyCategory"))
            tests.append(("category", category.isin(categories).fillna(False)))
        if active_only:
            status = _as_text(_col(chunk, "CompanyStatus")).str.casefold()
            tests.append(("status", (status == "active").fillna(False)))
        return tests

    return row_filter


# ---------------------------------------------------------------------------------------
# Combining registers
# ---------------------------------------------------------------------------------------

_INFO_FIELDS: Final = (
    "name",
    "postcode",
    "address",
    "sic_code",
    "sector",
    "income",
    "employees",
    "company_number",
    "charity_number",
)


def _components(n: int, edges: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Connected-component label (smallest member position) of each of ``n`` nodes."""
    labels = np.arange(n)
    if not edges:
        return labels
    a = np.concatenate([e[0] for e in edges])
    b = np.concatenate([e[1] for e in edges])
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def _key_edges(
    key: pd.Series, source: np.ndarray, *, within: bool
) -> tuple[np.ndarray, np.ndarray]:
    mask = key.notna().to_numpy(bool)
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return positions, positions
    codes = pd.factorize(key[mask])[0]
    frame = pd.DataFrame({"code": codes, "pos": positions, "source": source[mask]})
    grouped = frame.groupby("code")["source"]
    eligible = (grouped.transform("size") > 1).to_numpy(bool)
    if not within:
        eligible = eligible & (grouped.transform("nunique") > 1).to_numpy(bool)
    frame = frame[eligible]
    first = frame.groupby("code")["pos"].transform("min").to_numpy()
    return frame["pos"].to_numpy(), first


def combine_registers(*frames: pd.DataFrame, match_within_sources: bool = False) -> pd.DataFrame:
    """Stack organisations read from several registers and mark duplicates.

    All rows are kept (a fresh :class:`~pandas.RangeIndex`). Records of the same
    organisation in different sources are linked when they share a company number
    (normalised: upper case, zero-padded to 8 characters), a charity number, or the
    same normalised name (casefolded, ``&`` → ``and``, punctuation and the words
    ``the``, ``limited``, ``ltd``, ``plc``, ``llp``, ``cic``, ``cio``, ``community
    interest company`` removed) *and* the same postcode key (upper case, no spaces, UK
    postcode shape). Links are followed transitively. In each linked group one record is
    kept — the first by register precedence :data:`REGISTER_PRECEDENCE` (``ccew`` >
    ``companies_house`` > ``coopsuk`` > ``generic``), then by the number of filled
    schema fields, then by position — and the others get ``duplicate_of`` = its
    ``org_id`` and ``duplicate_reason`` = ``company_number``, ``charity_number``,
    ``name_postcode`` (what they share with the kept record) or ``indirect`` (linked
    through another record). Earlier ``duplicate_of`` values are recomputed.

    Parameters
    ----------
    *frames : pandas.DataFrame
        Results of :func:`read_organisations`.
    match_within_sources : bool, default False
        Also link records of the same source (same frame argument, ``source_register``
        and ``source_file``), e.g. repeated rows in one file. By default only records
        from different sources are linked.

    Returns
    -------
    pandas.DataFrame
        The rows of every frame, in order, with ``duplicate_of`` and
        ``duplicate_reason`` set; ``attrs["duplicates"]`` counts the duplicates.

    Raises
    ------
    InputError
        If a frame lacks the schema columns, or ``org_id`` values repeat (they must
        identify records uniquely for ``duplicate_of`` to mean anything).

    Examples
    --------
    >>> import pandas as pd
    >>> a = read_organisations(
    ...     pd.DataFrame({"name": ["Ladywood Bakers Ltd"], "postcode": ["B16 8AA"]})
    ... )
    >>> b = read_organisations(
    ...     pd.DataFrame({"id": ["X1"], "name": ["The Ladywood Bakers"], "postcode": ["b168aa"]})
    ... )
    >>> both = combine_registers(a, b)
    >>> both[["org_id", "duplicate_of", "duplicate_reason"]]
          org_id duplicate_of duplicate_reason
    0      row:1         <NA>             <NA>
    1  generic:X1        row:1    name_postcode
    """
    if not frames:
        msg = "combine_registers needs at least one frame from read_organisations"
        raise InputError(msg)
    problems = Problems("combine_registers")
    for number, frame in enumerate(frames, start=1):
        if not isinstance(frame, pd.DataFrame):
            problems.add(f"argument {number} is a {type(frame).__name__}, not a DataFrame")
            continue
        missing = [c for c in ORGANISATION_COLUMNS if c not in frame.columns]
        if missing:
            problems.add(
                f"frame {number} lacks the schema column(s) {', '.join(map(repr, missing))}"
            )
    problems.raise_if_any(InputError, hint="Read each register with read_organisations first.")
    combined = pd.concat([f.reset_index(drop=True) for f in frames], ignore_index=True)
    extra = [c for c in combined.columns if c not in ORGANISATION_COLUMNS]
    combined = combined[[*ORGANISATION_COLUMNS, *extra]]
    combined["org_type"] = combined["org_type"].astype(object).astype(_TYPE_DTYPE)
    for name in ("duplicate_of", "duplicate_reason"):
        combined[name] = pd.Series(pd.NA, index=combined.index, dtype=_STRING)
    org_id = _as_text(combined["org_id"])
    repeated = org_id[org_id.duplicated(keep=False) | org_id.isna()]
    if len(repeated):
        examples = ", ".join(repr(v) for v in repeated.drop_duplicates().head(5).tolist())
        msg = (
            f"combine_registers: org_id must be unique across the frames, but {len(repeated)} "
            f"rows share or lack one (e.g. {examples}); files read without an id column all "
            f"number their rows 'row:<n>', so give each its own, e.g. "
            f"frame.assign(org_id='mylist:' + frame['org_id'])"
        )
        raise InputError(msg)

    n = len(combined)
    if n == 0:
        combined.attrs = {"duplicates": 0, "sources": 0}
        return combined
    frame_number = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    source = pd.factorize(
        pd.Series(frame_number.astype(str), dtype=_STRING)
        + "|"
        + _as_text(combined["source_register"]).fillna("")
        + "|"
        + _as_text(combined["source_file"]).fillna("")
    )[0]
    company = _normalise_company_number(combined["company_number"])
    charity = _normalise_charity_number(combined["charity_number"])
    postcode = _postcode_key(combined["postcode"])
    postcode = postcode.where(postcode.str.fullmatch(_LOOSE_POSTCODE).fillna(False))
    name_postcode = _name_key(combined["name"]) + "|" + postcode
    keys = {"company_number": company, "charity_number": charity, "name_postcode": name_postcode}
    edges = [_key_edges(k, source, within=match_within_sources) for k in keys.values()]
    labels = _components(n, edges)

    register = _as_text(combined["source_register"]).fillna("generic")
    precedence = register.map({r: i for i, r in enumerate(REGISTER_PRECEDENCE)}).fillna(
        len(REGISTER_PRECEDENCE)
    )
    info = combined[list(_INFO_FIELDS)].notna().sum(axis=1).to_numpy()
    order = np.lexsort((np.arange(n), -info, precedence.to_numpy(float), labels))
    sorted_labels = labels[order]
    first_of_group = np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]
    kept_of_label = np.empty(n, dtype=np.int64)
    kept_of_label[sorted_labels[first_of_group]] = order[first_of_group]
    kept = kept_of_label[labels]
    duplicate = kept != np.arange(n)

    if duplicate.any():
        rows = np.flatnonzero(duplicate)
        reason = np.full(rows.size, "indirect", dtype=object)
        for key_name in reversed(list(keys)):
            values = keys[key_name].to_numpy(dtype=object, na_value=None)
            mine, theirs = values[rows], values[kept[rows]]
            same = pd.notna(mine) & (mine == theirs)
            reason[same] = key_name
        combined.loc[rows, "duplicate_of"] = org_id.to_numpy(dtype=object)[kept[rows]]
        combined.loc[rows, "duplicate_reason"] = reason
    combined.attrs = {"duplicates": int(duplicate.sum()), "sources": int(source.max() + 1)}
    return combined

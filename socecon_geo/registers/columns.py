"""The organisation schema and the value helpers every register reader shares.

The schema columns (:data:`ORGANISATION_COLUMNS`) and types (:data:`ORGANISATION_TYPES`),
the UK SIC 2007 sections, the headings that identify each known register, text, number,
address and id cleaning, organisation-type classification, and :func:`_assemble`, which
builds the schema frame from one register's mapping.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError, Problems
from socecon_geo._headings import heading_key
from socecon_geo._schema import ORG_TYPE, ORGANISATION_TYPES
from socecon_geo._tables import parse_numbers, shown

__all__ = [
    "ACTIVE_STATUSES",
    "ORGANISATION_COLUMNS",
    "ORGANISATION_TYPES",
    "REGISTERS",
    "REGISTER_PRECEDENCE",
    "SIC_SECTIONS",
    "sic_sections",
]


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
    "expenditure",
    "members",
    "economy_year",
    "registered_on",
    "dissolved_on",
    "register_status",
    "active",
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


_TYPE_DTYPE: Final = ORG_TYPE


_STRING: Final = "string"


_LOOSE_POSTCODE: Final = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"


_SIGNATURES: Final[dict[str, tuple[frozenset[str], ...]]] = {
    "ccew": (frozenset({"registered_charity_number", "charity_name", "linked_charity_number"}),),
    "companies_house": (frozenset({"CompanyName", "CompanyNumber", "CompanyCategory"}),),
    "coopsuk": (
        frozenset({"Identifier", "Name", "Legal Form", "Organisational Structure"}),
        # the 2016 open data extract's organisations file
        frozenset({"CUK Organisation ID", "Registered Name", "Registered Postcode"}),
    ),
}


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


def _as_number(
    series: pd.Series, *, decimal: Literal[".", ","] = ".", typed: np.ndarray | None = None
) -> tuple[pd.Series, int, np.ndarray]:
    """Return ``(float64 values, how many non-blank values were not numbers, ambiguous)``.

    ``£1,250`` and ``1 250 GBP`` are numbers; the third item marks values whose format is
    ambiguous for ``decimal`` (``1.234,50`` by default), left missing for the caller to
    report.
    """
    parsed = parse_numbers(series, decimal=decimal, currency=True, typed=typed)
    values = pd.Series(parsed.values, index=series.index, dtype="float64")
    return values, int(parsed.unparsed.sum()), parsed.ambiguous


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
    expenditure: pd.Series | None = None
    members: pd.Series | None = None
    economy_year: pd.Series | None = None
    year_end: pd.Series | None = None
    registered_on: pd.Series | None = None
    dissolved_on: pd.Series | None = None
    register_status: pd.Series | None = None
    company_number: pd.Series | None = None
    charity_number: pd.Series | None = None
    column_map: dict[str, Any] = field(default_factory=dict)


def _assemble(
    fields: _Fields,
    raw: pd.DataFrame,
    *,
    register: str,
    source_file: str | None,
    rows: np.ndarray,
    label: str = "DataFrame",
    decimal: Literal[".", ","] = ".",
    typed: pd.DataFrame | None = None,
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
    ambiguous: dict[str, tuple[Any, pd.Series, np.ndarray]] = {}
    for name in ("income", "employees", "expenditure", "members", "economy_year"):
        values = getattr(fields, name)
        if values is None:
            numbers[name] = pd.Series(np.nan, index=index, dtype="float64")
            continue
        heading = fields.column_map.get(name)
        cells = None
        if typed is not None and isinstance(heading, str) and heading in typed.columns:
            cells = typed[heading].to_numpy(dtype=bool)
        numbers[name], unparsed[name], unclear = _as_number(values, decimal=decimal, typed=cells)
        if unclear.any():
            ambiguous[name] = (heading, values, unclear)
    if ambiguous:
        _raise_ambiguous(ambiguous, rows, label=label, decimal=decimal)
    dates = _dates(fields, rows, label=label)
    economy_year = _whole_years(numbers["economy_year"])
    if fields.year_end is not None:
        economy_year = economy_year.fillna(dates["year_end"].dt.year.astype("Int64"))
    status = _as_text(fields.register_status) if fields.register_status is not None else None
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
            "expenditure": numbers["expenditure"],
            "members": numbers["members"],
            "economy_year": economy_year,
            "registered_on": dates["registered_on"],
            "dissolved_on": dates["dissolved_on"],
            "register_status": status if status is not None else missing_text,
            "active": _active(status, dates["dissolved_on"]),
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


_LISTED: Final = 30  # headings listed in a message


def _listed(headings: Sequence[Any], limit: int = _LISTED) -> str:
    """Headings for a message: escaped, each cut short, at most ``limit`` of them."""
    text = ", ".join(shown(h) for h in list(headings)[:limit])
    if len(headings) > limit:
        text += f" and {len(headings) - limit:,} more"
    return text


def _raise_ambiguous(
    found: Mapping[str, tuple[Any, pd.Series, np.ndarray]],
    rows: np.ndarray,
    *,
    label: str,
    decimal: str,
) -> None:
    """One error for every money/count column whose number format is ambiguous."""
    problems = Problems(label)
    for name, (heading, values, mask) in found.items():
        where = np.flatnonzero(mask)
        examples = ", ".join(
            f"{rows[i]}: {shown(values.iloc[i])}" for i in where[:_AMBIGUOUS_EXAMPLES]
        )
        extra = len(where) - _AMBIGUOUS_EXAMPLES
        more = f" and {extra:,} more" if extra > 0 else ""
        column = f"column {shown(heading)}" if heading else f"the {name} column"
        if heading and heading_key(str(heading)) != name:
            column += f" ({name})"
        if decimal == ".":
            what = "numbers written with a decimal comma or dots between thousands"
        else:
            what = "numbers that are not written with decimal=','"
        problems.add(f"{column} holds {what}: source_row {examples}{more}")
    if decimal == ".":
        hint = (
            "Such numbers cannot be told safely from UK numbers ('1,234.50', '1234.5'), so "
            "they are not guessed. If the file writes numbers as '1.234,50' (comma decimal, "
            "dot thousands), pass decimal=','; otherwise correct these values in the file."
        )
    else:
        hint = (
            "With decimal=',' a number is written '1234,5' or '1.234,50' (dots only between "
            "groups of three digits). If the file writes numbers as '1,234.50', drop "
            "decimal=','; otherwise correct these values in the file."
        )
    problems.raise_if_any(InputError, hint=hint)


_AMBIGUOUS_EXAMPLES: Final = 5


ACTIVE_STATUSES: Final[tuple[str, ...]] = ("live", "active", "registered")
"""``register_status`` words (ignoring case) that mean active; Companies House's
``Active - Proposal to Strike off`` counts as active too (it begins with ``active``)."""


_DATE_FIELDS: Final = ("registered_on", "dissolved_on", "year_end")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY_DATE: Final = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


def _parse_dates(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return ``(datetime64[ns] values, mask of non-blank values that are not dates)``.

    Dates are read as ISO (``2001-04-02``, ``2001-04-02 00:00:00``,
    ``2001-04-02T00:00:00``) or day first (``2/4/2001``, ``02/04/2001``), the only two
    orders UK registers use; date cells (Excel, Parquet) are read as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = pd.Series(series, index=series.index)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[ns]"), np.zeros(len(series), dtype=bool)
    text = _as_text(series)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    iso = _flag(text.str.match(_ISO_DATE))
    dmy = _flag(text.str.match(_DMY_DATE))
    if iso.any():
        out[iso] = pd.to_datetime(
            text[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce"
        ).astype("datetime64[ns]")
    if dmy.any():
        out[dmy] = pd.to_datetime(text[dmy], format="%d/%m/%Y", errors="coerce").astype(
            "datetime64[ns]"
        )
    bad = (text.notna() & out.isna()).to_numpy(bool)
    return out, bad


def _dates(fields: _Fields, rows: np.ndarray, *, label: str) -> dict[str, pd.Series]:
    """Parse the date fields of ``fields``; one error for every column with a non-date."""
    problems = Problems(label)
    out: dict[str, pd.Series] = {}
    index = fields.org_id.index
    for name in _DATE_FIELDS:
        values = getattr(fields, name)
        if values is None:
            out[name] = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
            continue
        out[name], bad = _parse_dates(values)
        if bad.any():
            heading = fields.column_map.get("economy_year" if name == "year_end" else name)
            where = np.flatnonzero(bad)
            examples = ", ".join(
                f"{rows[i]}: {shown(values.iloc[i])}" for i in where[:_AMBIGUOUS_EXAMPLES]
            )
            extra = len(where) - _AMBIGUOUS_EXAMPLES
            more = f" and {extra:,} more" if extra > 0 else ""
            column = f"column {shown(heading)}" if isinstance(heading, str) else f"the {name}"
            what = "economy_year" if name == "year_end" else name
            problems.add(
                f"{column} ({what}) holds values that are not dates: source_row {examples}{more}"
            )
    problems.raise_if_any(
        InputError,
        hint="Dates are read as 2001-04-02 (ISO) or 2/4/2001 (day first); correct these "
        "values in the file, or blank them if the date is not known.",
    )
    return out


def _whole_years(values: pd.Series) -> pd.Series:
    """``float64`` years as ``Int64``; values that are not whole numbers become missing."""
    whole = values.where((values == values.round()) & values.between(1000, 9999))
    return whole.astype("Int64")


def _active(status: pd.Series | None, dissolved: pd.Series) -> pd.Series:
    """Return ``True`` for an active status word and no dissolution date; NA when unknown."""
    out = pd.Series(pd.NA, index=dissolved.index, dtype="boolean")
    if status is not None:
        words = status.str.casefold()
        says = _flag(words.isin(ACTIVE_STATUSES) | words.str.startswith("active"))
        out = out.mask(status.notna(), says)
    return out.mask(dissolved.notna(), False)


def _col(raw: pd.DataFrame, heading: str) -> pd.Series:
    if heading in raw.columns:
        return raw[heading]
    return pd.Series(pd.NA, index=raw.index, dtype=_STRING)

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
``expenditure``           float64                latest expenditure (charities)
``members``               float64                members / memberships (co-operatives)
``economy_year``          Int64                  the year the money and people measures
                                                 are for (``Economic Year``; a charity's
                                                 financial year end)
``registered_on``         datetime64[ns]         registration / incorporation date
``dissolved_on``          datetime64[ns]         removal / dissolution date
``register_status``       string                 the register's own status words
``active``                boolean                status says active and no dissolution
                                                 date; missing when not known
``company_number``        string                 Companies House number, upper case and
                                                 zero-padded to 8 characters
``charity_number``        string                 registered charity number
``source_register``       string                 ``coopsuk``, ``ccew``, ``companies_house``
                                                 or ``generic`` (``sample`` for
                                                 :func:`~socecon_geo.sample_organisations`)
``source_file``           string                 file name (``archive.zip/member`` inside a
                                                 ZIP); missing for a DataFrame
``source_row``            Int64                  1-based data row (record) number in the
                                                 source, counted from the row below the
                                                 heading, blank rows included: a CSV's
                                                 record *n* after the heading, a
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
Every reader skips wholly blank rows (every cell missing or only spaces), whatever the
format, and counts them as ``df.attrs["filtered_out"]["blank"]``; blank rows after the
last filled row of a text file or sheet are not rows at all. Otherwise the generic reader
and the Co-operatives UK reader keep every input row. Two register readers filter by
default, as documented on :func:`read_organisations` (registered main charities;
social-economy company categories); every filter can be switched off, and what it removed
is counted in ``df.attrs["filtered_out"]``, so
``len(df) + sum(df.attrs["filtered_out"].values()) == df.attrs["rows_read"]``.

Other ``attrs``: ``source`` (the path, or ``"DataFrame"``), ``register``, ``rows_read``,
``column_map`` (schema field → source heading) and ``unparsed`` (per numeric field, how
many non-blank values were not numbers and were left missing).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Mapping, Sequence
from os import PathLike
from typing import Any, Final, Literal

import pandas as pd

from socecon_geo._errors import InputError, Problems
from socecon_geo._headings import heading_key
from socecon_geo._progress import ReadProgress
from socecon_geo._tables import shown
from socecon_geo.provenance import get_provenance, with_provenance
from socecon_geo.registers import ccew, companies_house, coopsuk
from socecon_geo.registers import economy as coopsuk_economy
from socecon_geo.registers._files import _DEFAULT_CHUNKSIZE, _open_table, _Table
from socecon_geo.registers._rows import _read_rows, _Rows
from socecon_geo.registers.ccew import _ccew_filter, _map_ccew
from socecon_geo.registers.columns import (
    _SIGNATURES,
    ORGANISATION_COLUMNS,
    ORGANISATION_TYPES,
    REGISTER_PRECEDENCE,
    REGISTERS,
    SIC_SECTIONS,
    _assemble,
    _listed,
    sic_sections,
)
from socecon_geo.registers.combine import combine_registers
from socecon_geo.registers.companies_house import (
    COMPANIES_HOUSE_COLUMNS,
    COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES,
    _category_keys,
    _ch_filter,
    _map_companies_house,
)
from socecon_geo.registers.coopsuk import _map_coopsuk
from socecon_geo.registers.economy import join_economy, read_economy
from socecon_geo.registers.generic import _map_generic, _resolve_generic_columns

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


def _detect_register(headings: Sequence[str]) -> str:
    present = set(headings)
    for register, signatures in _SIGNATURES.items():
        if any(signature <= present for signature in signatures):
            return register
    return "generic"


def _check_duplicate_headings(table: _Table) -> None:
    seen: dict[str, int] = {}
    for heading in table.headings:
        seen[heading] = seen.get(heading, 0) + 1
    repeated = {h: n for h, n in seen.items() if n > 1}
    if repeated:
        listed = ", ".join(f"{shown(h)} ({n} times)" for h, n in repeated.items())
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
            f"are {_listed(table.headings)}. Pass the register's own export, or read it with "
            f"register='generic' and columns={{...}}"
        )
        raise InputError(msg)


def read_organisations(
    source: str | PathLike[str] | pd.DataFrame,
    *,
    register: Literal["coopsuk", "ccew", "companies_house", "generic"] | None = None,
    columns: Mapping[str, str | Sequence[str]] | None = None,
    encoding: str | None = None,
    sheet_name: str | int = 0,
    decimal: Literal[".", ","] = ".",
    include_removed: bool = False,
    include_linked: bool = False,
    company_categories: Collection[str] | None = COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES,
    active_only: bool = False,
    all_columns: bool = False,
    chunksize: int = _DEFAULT_CHUNKSIZE,
    economy: str | PathLike[str] | pd.DataFrame | None = None,
    economy_year: int | None = None,
    progress: bool = False,
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
        Text encoding, e.g. ``"shift_jis"`` or ``"cp1252"``. By default UTF-8 (BOM or
        not) is tried, then Windows-1252 — but only when the text reads plausibly as
        Windows-1252: a file in a multi-byte encoding (Shift-JIS, GBK, ...) is refused
        with a message naming the encodings it decodes in.
    sheet_name : str or int, default 0
        The sheet of an Excel workbook (its name, or its 0-based position). When the
        first sheet has no name column, the error lists every sheet with its first
        headings.
    decimal : {".", ","}, default "."
        How the file writes money and counts (``income``, ``employees``). ``"."``: UK
        style, ``1234.5``, ``1,234.50``, ``£1,234``. ``","``: a comma is the decimal
        separator and dots separate thousands, ``1234,5``, ``1.234,50``. Values that
        only fit the other style (``1.234,50``, ``2,5`` or ``1.234.567`` by default) are
        an error naming the column, rows and values, never guessed. Numbers stored as
        numbers (Excel number cells, numeric columns) are read as they are.
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
        House file is read chunk by chunk with a column subset and the category filter
        applied to each chunk before anything else is done with its rows: memory stays
        bounded whatever the file's size (JSON is parsed in batches of at most 10,000
        records).
    economy : path or pandas.DataFrame, optional
        Co-operatives UK only: the extract's economy file
        (``2016open_data_economy_final.csv``: ``CUK Organisation ID``, ``Turnover``,
        ``Memberships``, ``Employees``, ``Economic Year``, ...), joined on the
        identifier: ``income`` = ``Turnover``, ``employees`` = ``Employees``,
        ``members`` = ``Memberships``, ``economy_year`` = ``Economic Year``. Every
        organisation row is kept; one without a row in the file keeps missing measures.
        What was joined is summarised in ``attrs["economy"]`` (``joined``,
        ``without_year``, ``not_in_economy``, ``years``, ...), and the file's provenance
        is added.
    economy_year : int, optional
        With ``economy``: the economic year to take. By default each organisation's
        latest year in the file; a given year takes that year for every organisation
        (those without it get missing measures, counted as ``without_year``).
    progress : bool, default False
        Report the reading on standard error: the bytes read of the file's size (the
        expanded size inside a ZIP), the rows read and kept, the rate; one line rewritten
        in place on a terminal, otherwise a line per quarter of the file once the read
        has taken a few seconds, and a last line when it is read.

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
        directory, empty or header-only file, binary or undecodable file, a file not in
        UTF-8 that is implausible as Windows-1252 (text in a multi-byte encoding), money
        or counts in an ambiguous number format (see ``decimal``), a workbook sheet
        without a name column (listing every sheet), unsupported
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
    if decimal not in (".", ","):
        msg = f"decimal must be '.' (UK numbers: 1,234.50) or ',' (1.234,50), got {decimal!r}"
        raise InputError(msg)
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        msg = f"chunksize must be a positive whole number of rows, got {chunksize!r}"
        raise InputError(msg)
    if not isinstance(progress, bool):
        msg = f"progress must be True or False, got {progress!r}"
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
            economy=economy,
            economy_year=economy_year,
        )
        bar = ReadProgress(table.source_file or table.label, total=table.size, enabled=progress)
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
                progress=bar,
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
                progress=bar,
            )
            _check_has_rows(table, rows)
            fields = _map_companies_house(rows.frame, rows.rows)
        elif chosen_register == "coopsuk":
            if "CUK Organisation ID" in table.headings and "Identifier" not in table.headings:
                required = ["CUK Organisation ID", "Registered Name", "Registered Postcode"]
            else:
                required = ["Identifier", "Name", "Postcode"]
            _check_required(table, "coopsuk", required)
            rows = _read_rows(table, progress=bar)
            _check_has_rows(table, rows)
            fields = _map_coopsuk(rows.frame, rows.rows)
        else:
            rows = _read_rows(table, progress=bar)
            _check_has_rows(table, rows)
            if table.kind == "json":  # later records may add keys
                table.headings = [str(c) for c in rows.frame.columns]
            try:
                chosen = _resolve_generic_columns(table, columns, rows.frame)
            except InputError as exc:
                if table.sheets is None:
                    raise
                raise InputError(f"{exc}. {table.sheets()}") from None
            fields = _map_generic(rows.frame, rows.rows, chosen)
    typed = None
    if table.typed is not None:
        typed = table.typed.iloc[rows.rows - 1].set_axis(table.headings, axis=1)
        typed.index = rows.frame.index
    result, unparsed = _assemble(
        fields,
        rows.frame,
        register=chosen_register,
        source_file=table.source_file,
        rows=rows.rows,
        label=table.label,
        decimal=decimal,
        typed=typed,
    )
    economy_summary = None
    if economy is not None:
        result, economy_summary = join_economy(result, read_economy(economy), year=economy_year)
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
    if economy_summary is not None:
        result.attrs["economy"] = economy_summary
    known = get_provenance(source) if isinstance(source, pd.DataFrame) else ()
    record = None
    if chosen_register in _REGISTER_PROVENANCE:
        label = table.source_file or "DataFrame"
        make = _REGISTER_PROVENANCE[chosen_register]
        if chosen_register == "coopsuk":
            extract_2016 = result.attrs.get("column_map", {}).get("org_id") == "CUK Organisation ID"
            record = coopsuk.provenance(
                result.attrs["source"], _file_vintage(label), extract_2016=extract_2016
            )
        else:
            record = make(result.attrs["source"], _file_vintage(label))
    economy_record = () if economy is None else _economy_provenance(economy)
    return with_provenance(result, known or record or (), economy_record)


def _economy_provenance(economy: Any) -> Any:
    if isinstance(economy, pd.DataFrame):
        return get_provenance(economy) or coopsuk_economy.provenance("DataFrame")
    return coopsuk_economy.provenance(str(economy))


_REGISTER_PROVENANCE: Final = {
    "coopsuk": coopsuk.provenance,
    "ccew": ccew.provenance,
    "companies_house": companies_house.provenance,
}
_DATE_IN_NAME: Final = re.compile(r"(?<!\d)(\d{4})[-_]?(\d{2})(?:[-_]?(\d{2}))?(?!\d)")


def _file_vintage(name: str) -> str:
    """Return the date a register file's name gives (``..._2023-03-02.csv``) or ``unknown``."""
    match = _DATE_IN_NAME.search(name)
    if not match:
        return "unknown"
    return "-".join(part for part in match.groups() if part)


def _expected_headings(columns: Any) -> frozenset[str]:
    """Normalised headings named by a ``columns=`` mapping (to find the heading row)."""
    if not isinstance(columns, Mapping):
        return frozenset()
    names: list[Any] = []
    for value in columns.values():
        names.extend(value if isinstance(value, list | tuple) else [value])
    return frozenset(heading_key(str(name)) for name in names)


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
    economy: Any = None,
    economy_year: int | None = None,
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
    if economy is not None and register != "coopsuk":
        problems.add(
            "economy= applies to Co-operatives UK files (register='coopsuk'): it is the "
            "Co-operatives UK economy file, joined on the CUK Organisation ID"
        )
    if economy is None and economy_year is not None:
        problems.add("economy_year= needs economy= (the Co-operatives UK economy file)")
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

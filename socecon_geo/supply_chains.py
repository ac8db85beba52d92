"""Supply chains: which SIC 2007 codes can supply each investment programme.

A programme (``"housing"``, ``"retrofit"``, ``"transport"``) is supplied by
organisations whose SIC 2007 code starts with one of the programme's prefixes, or with
one of the prefixes of ``"all"``, the services every programme buys (catering,
security, employment and training). A prefix is a SIC 2007 division (2 digits), group
(3), class (4) or subclass (5), written with or without the dot (``"43.2"`` =
``"432"``).

The SIC codes and their titles are those of the ONS *UK Standard Industrial
Classification of Economic Activities 2007* (SIC 2007): its sections, divisions, groups
and classes. *Which* codes supply a programme is the library's judgement, made from the
titles and explanatory notes of SIC 2007 and from what the WMCA's social procurement
case names (construction and its trades; architecture and engineering; landscaping;
cleaning; waste and recycling; land transport and maintenance; catering, security,
employment and training for every programme). Each entry says so in its ``source``.
Replace or extend it with ``supply_chain_table(overrides)`` (a mapping or a CSV).

Examples
--------
>>> table = supply_chain_table()
>>> sorted(table["programme"].unique())
['all', 'housing', 'retrofit', 'transport']
>>> table[table["sic_prefix"] == "4322"]["activity"].iloc[0]
'Plumbing, heat and air-conditioning installation'
>>> custom = supply_chain_table({"housing": ["41", "43"]})
>>> custom[custom["programme"] == "housing"]["sic_prefix"].tolist()
['41', '43']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Final

import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._headings import heading_key

__all__ = [
    "COMMON_PROGRAMME",
    "SIC_SOURCE",
    "SUPPLY_CHAINS",
    "fit_of_prefix",
    "supply_chain_table",
]

COMMON_PROGRAMME: Final = "all"
"""The programme whose entries (common services) supply every programme."""

SIC_SOURCE: Final = (
    "ONS, UK Standard Industrial Classification of Economic Activities 2007 (SIC 2007)"
)
"""Where the codes and their titles come from."""

_JUDGEMENT: Final = "; the mapping to the programme is the library's judgement"
_CASE: Final = "; named by the WMCA social procurement case"

# (programme, SIC 2007 prefix, title in SIC 2007, where the entry comes from)
SUPPLY_CHAINS: Final[tuple[tuple[str, str, str, str], ...]] = (
    # housing: building it and what the site needs
    ("housing", "41", "Construction of buildings", f"SIC 2007 division 41 (section F){_CASE}"),
    ("housing", "42", "Civil engineering", f"SIC 2007 division 42 (section F){_CASE}"),
    (
        "housing",
        "43",
        "Specialised construction activities",
        f"SIC 2007 division 43 (section F){_CASE}",
    ),
    ("housing", "7111", "Architectural activities", f"SIC 2007 class 71.11{_CASE}"),
    (
        "housing",
        "7112",
        "Engineering activities and related technical consultancy",
        f"SIC 2007 class 71.12{_CASE}",
    ),
    ("housing", "813", "Landscape service activities", f"SIC 2007 group 81.3{_CASE}"),
    ("housing", "812", "Cleaning activities", f"SIC 2007 group 81.2{_CASE}"),
    (
        "housing",
        "38",
        "Waste collection, treatment and disposal activities; materials recovery",
        f"SIC 2007 division 38 (section E){_CASE}",
    ),
    (
        "housing",
        "39",
        "Remediation activities and other waste management services",
        f"SIC 2007 division 39 (section E): brownfield remediation{_JUDGEMENT}",
    ),
    # retrofit: the trades that insulate, heat, wire and glaze existing homes
    ("retrofit", "4321", "Electrical installation", f"SIC 2007 class 43.21{_CASE}"),
    (
        "retrofit",
        "4322",
        "Plumbing, heat and air-conditioning installation",
        f"SIC 2007 class 43.22{_CASE}",
    ),
    (
        "retrofit",
        "4329",
        "Other construction installation (includes insulation)",
        f"SIC 2007 class 43.29, whose notes include insulation{_CASE}",
    ),
    ("retrofit", "433", "Building completion and finishing", f"SIC 2007 group 43.3{_JUDGEMENT}"),
    ("retrofit", "4391", "Roofing activities", f"SIC 2007 class 43.91{_JUDGEMENT}"),
    (
        "retrofit",
        "4399",
        "Other specialised construction activities n.e.c.",
        f"SIC 2007 class 43.99{_JUDGEMENT}",
    ),
    (
        "retrofit",
        "412",
        "Construction of residential and non-residential buildings",
        f"SIC 2007 group 41.2{_CASE}",
    ),
    ("retrofit", "7111", "Architectural activities", f"SIC 2007 class 71.11{_CASE}"),
    (
        "retrofit",
        "7112",
        "Engineering activities and related technical consultancy",
        f"SIC 2007 class 71.12{_CASE}",
    ),
    (
        "retrofit",
        "7120",
        "Technical testing and analysis (energy assessment)",
        f"SIC 2007 class 71.20{_JUDGEMENT}",
    ),
    (
        "retrofit",
        "3511",
        "Production of electricity (community energy: rooftop solar)",
        f"SIC 2007 class 35.11{_JUDGEMENT}",
    ),
    ("retrofit", "812", "Cleaning activities", f"SIC 2007 group 81.2{_CASE}"),
    (
        "retrofit",
        "38",
        "Waste collection, treatment and disposal activities; materials recovery",
        f"SIC 2007 division 38 (section E){_CASE}",
    ),
    # transport: moving people and goods, and keeping vehicles and roads going
    (
        "transport",
        "49",
        "Land transport and transport via pipelines",
        f"SIC 2007 division 49{_CASE}",
    ),
    (
        "transport",
        "5221",
        "Service activities incidental to land transportation",
        f"SIC 2007 class 52.21{_CASE}",
    ),
    (
        "transport",
        "452",
        "Maintenance and repair of motor vehicles",
        f"SIC 2007 group 45.2{_CASE}",
    ),
    (
        "transport",
        "3317",
        "Repair and maintenance of other transport equipment",
        f"SIC 2007 class 33.17{_CASE}",
    ),
    (
        "transport",
        "421",
        "Construction of roads and railways",
        f"SIC 2007 group 42.1{_JUDGEMENT}",
    ),
    (
        "transport",
        "7711",
        "Renting and leasing of cars and light motor vehicles",
        f"SIC 2007 class 77.11{_JUDGEMENT}",
    ),
    ("transport", "812", "Cleaning activities", f"SIC 2007 group 81.2{_JUDGEMENT}"),
    # every programme: common services
    (
        "all",
        "562",
        "Event catering and other food service activities",
        f"SIC 2007 group 56.2{_CASE}",
    ),
    ("all", "80", "Security and investigation activities", f"SIC 2007 division 80{_CASE}"),
    ("all", "78", "Employment activities", f"SIC 2007 division 78{_CASE}"),
    ("all", "855", "Other education (training)", f"SIC 2007 group 85.5{_CASE}"),
    (
        "all",
        "8532",
        "Technical and vocational secondary education",
        f"SIC 2007 class 85.32{_CASE}",
    ),
)
"""The default table: (programme, SIC 2007 prefix, SIC 2007 title, source)."""

_PREFIX: Final = re.compile(r"^\d{2,5}$")
_COLUMNS: Final = ("programme", "sic_prefix", "activity", "source")


def _clean_prefix(value: object, where: str) -> str:
    text = str(value).strip().replace(".", "")
    if not _PREFIX.fullmatch(text):
        msg = (
            f"{where}: SIC prefix {value!r} is not a SIC 2007 division, group, class or "
            "subclass; give 2 to 5 digits, such as '43', '43.2' or '4322'."
        )
        raise InputError(msg)
    return text


def _clean_programme(value: object, where: str) -> str:
    text = str(value).strip().lower()
    if not text or text == "nan":
        msg = f"{where}: a programme name is blank; name it, such as 'housing'."
        raise InputError(msg)
    return text


def _from_frame(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    keys = {heading_key(c): c for c in frame.columns}
    programme = keys.get("programme") or keys.get("program")
    prefix = keys.get("sicprefix") or keys.get("siccode") or keys.get("sic")
    if programme is None or prefix is None:
        msg = (
            f"{what} needs a 'programme' and a 'sic_prefix' column; it has "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}."
        )
        raise InputError(msg)
    rows = []
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        values = dict(zip(frame.columns, row, strict=True))
        where = f"{what}, row {i}"
        activity = values.get(keys.get("activity", ""), "")
        source = values.get(keys.get("source", ""), "")
        rows.append(
            (
                _clean_programme(values[programme], where),
                _clean_prefix(values[prefix], where),
                "" if pd.isna(activity) else str(activity),
                "given by the user" if pd.isna(source) or not source else str(source),
            )
        )
    return pd.DataFrame(rows, columns=list(_COLUMNS))


def _from_mapping(mapping: Mapping[str, Iterable[str]]) -> tuple[pd.DataFrame, set[str]]:
    rows = []
    names = set()
    for programme, prefixes in mapping.items():
        name = _clean_programme(programme, "supply_chains")
        names.add(name)
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        for prefix in prefixes:
            rows.append(
                (
                    name,
                    _clean_prefix(prefix, f"supply_chains[{programme!r}]"),
                    "",
                    "given by the user",
                )
            )
    return pd.DataFrame(rows, columns=list(_COLUMNS)), names


def supply_chain_table(
    overrides: Mapping[str, Iterable[str]] | pd.DataFrame | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Return the table from programme to the SIC 2007 prefixes that can supply it.

    Parameters
    ----------
    overrides : mapping, DataFrame or path of a CSV file, optional
        Programmes to replace or add: ``{"housing": ["41", "43", "7111"]}``, or a table
        with ``programme`` and ``sic_prefix`` columns (``activity`` and ``source``
        optional). Every programme named replaces its default entries whole (an empty
        list removes it: ``{"all": []}`` matches no common services); the others are
        kept. A table whose only programmes are new ones adds them.

    Returns
    -------
    pandas.DataFrame
        One row per (programme, prefix): ``programme``, ``sic_prefix`` (digits only),
        ``activity`` (the SIC 2007 title), ``source``, ``digits`` and ``fit`` (see
        :func:`fit_of_prefix`).

    Raises
    ------
    InputError
        A prefix that is not 2 to 5 digits, a blank programme, or a table without the
        two columns.
    """
    table = pd.DataFrame(list(SUPPLY_CHAINS), columns=list(_COLUMNS))
    if overrides is not None:
        if isinstance(overrides, pd.DataFrame):
            given = _from_frame(overrides, "supply_chains table")
            named = set(given["programme"])
        elif isinstance(overrides, str | os.PathLike):
            from socecon_geo._tables import read_csv_text

            named = set()
            given = _from_frame(
                read_csv_text(overrides, "supply chains"),
                f"supply chains file {os.fspath(overrides)!r}",
            )
        elif isinstance(overrides, Mapping):
            given, named = _from_mapping(overrides)
        else:
            msg = (
                "supply_chains must be a mapping such as {'housing': ['41', '43']}, a "
                f"DataFrame or the path of a CSV file, not {type(overrides).__name__}."
            )
            raise InputError(msg)
        named |= set(given["programme"])
        table = pd.concat([table[~table["programme"].isin(named)], given], ignore_index=True)
    table = table.drop_duplicates(["programme", "sic_prefix"]).reset_index(drop=True)
    table["digits"] = table["sic_prefix"].str.len()
    table["fit"] = table["digits"].map(fit_of_prefix)
    return table


def fit_of_prefix(digits: int) -> float:
    """How specific a match on a prefix of this many digits is, from 0.25 to 1.

    A division (2 digits) 0.25, a group (3) 0.5, a class (4) 0.75, a subclass (5) 1.0:
    an organisation registered under "electrical installation" (43.21) fits a retrofit
    programme better than one under "specialised construction" (43) in general.

    Examples
    --------
    >>> [fit_of_prefix(d) for d in (2, 3, 4, 5)]
    [0.25, 0.5, 0.75, 1.0]
    """
    return (int(digits) - 1) / 4

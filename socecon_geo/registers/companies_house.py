"""Companies House basic company data: columns read, categories kept, mapping, filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from socecon_geo.provenance import Provenance
from socecon_geo.registers._files import _RowFilter
from socecon_geo.registers.columns import (
    _as_text,
    _col,
    _Fields,
    _flag,
    _ids,
    _join_address,
    _normalise_company_number,
    _org_type,
)

__all__ = [
    "COMPANIES_HOUSE_COLUMNS",
    "COMPANIES_HOUSE_SOCIAL_ECONOMY_CATEGORIES",
]


def provenance(source: str | None, vintage: str) -> Provenance:
    """Return the provenance record of a Companies House basic company data file."""
    return Provenance(
        name="companies_house_basic_company_data",
        title="Companies House basic company data",
        publisher="Companies House",
        vintage=vintage,
        licence="Open Government Licence v3.0",
        attribution="Contains public sector information from Companies House licensed "
        "under the Open Government Licence v3.0",
        url="https://download.companieshouse.gov.uk/en_output.html",
        source=source,
    )


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


_CH_ADDRESS: Final = (
    "RegAddress.POBox",
    "RegAddress.AddressLine1",
    "RegAddress.AddressLine2",
    "RegAddress.PostTown",
    "RegAddress.County",
)


def _per_value(series: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``transform(series)``, computed once per distinct value (a register column has few).

    A chunk of 100,000 rows holds a few dozen categories or statuses: the text work is
    done on those and spread back to the rows, so filtering costs little per row.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = transform(pd.Series(uniques)).array
    values = keys.take(codes, allow_fill=True)
    return pd.Series(values, index=series.index, dtype=keys.dtype)


def _category_keys(series: pd.Series) -> pd.Series:
    """``CompanyCategory`` values as compared: no case, runs of whitespace as one space."""
    return _per_value(
        series, lambda values: _as_text(values).str.replace(r"\s+", " ", regex=True).str.casefold()
    )


def _status_keys(series: pd.Series) -> pd.Series:
    """``CompanyStatus`` values as compared: stripped, no case."""
    return _per_value(series, lambda values: _as_text(values).str.casefold())


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
        registered_on=_col(raw, "IncorporationDate"),
        dissolved_on=_col(raw, "DissolutionDate"),
        register_status=_col(raw, "CompanyStatus"),
        company_number=number,
        column_map={
            "org_id": "CompanyNumber",
            "name": "CompanyName",
            "org_type": "CompanyCategory",
            "postcode": "RegAddress.PostCode",
            "address": list(_CH_ADDRESS),
            "sic_code": "SICCode.SicText_1",
            "registered_on": "IncorporationDate",
            "dissolved_on": "DissolutionDate",
            "register_status": "CompanyStatus",
            "company_number": "CompanyNumber",
        },
    )


def _ch_filter(categories: frozenset[str] | None, active_only: bool) -> _RowFilter:
    def row_filter(chunk: pd.DataFrame) -> list[tuple[str, pd.Series]]:
        tests = []
        if categories is not None:
            category = _category_keys(_col(chunk, "CompanyCategory"))
            tests.append(("category", category.isin(categories).fillna(False)))
        if active_only:
            status = _status_keys(_col(chunk, "CompanyStatus"))
            tests.append(("status", (status == "active").fillna(False)))
        return tests

    return row_filter

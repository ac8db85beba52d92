"""Co-operatives UK open data: the mapping to the organisation schema."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from socecon_geo.provenance import Provenance
from socecon_geo.registers.columns import (
    _STRING,
    _as_text,
    _classify_type_text,
    _col,
    _Fields,
    _flag,
    _ids,
    _join_address,
    _org_type,
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


def provenance(source: str | None, vintage: str, *, extract_2016: bool = False) -> Provenance:
    """Return the provenance record of a Co-operatives UK open data file.

    The 2016 extract (``CUK Organisation ID`` layout) was published as open data, but
    the copies in circulation state no licence, so its record says so rather than
    claiming the 2023 file's ODC-By 1.0.
    """
    if extract_2016:
        return Provenance(
            name="coopsuk_open_data_2016",
            title="Co-operatives UK open data extract (organisations, 2016)",
            publisher="Co-operatives UK",
            vintage="2016",
            licence="not stated in the copy read (published by Co-operatives UK as open data)",
            attribution="Contains Co-operatives UK open data (2016 extract)",
            url="https://www.uk.coop/resources/open-data",
            source=source,
        )
    return Provenance(
        name="coopsuk_open_data",
        title="Co-operatives UK open data: the UK's co-operatives",
        publisher="Co-operatives UK",
        vintage=vintage,
        licence="Open Data Commons Attribution License (ODC-By) 1.0",
        attribution="Contains Co-operatives UK open data licensed under ODC-By 1.0",
        url="https://www.uk.coop/resources/open-data",
        source=source,
    )


def _is_2016_layout(raw: pd.DataFrame) -> bool:
    """Whether ``raw`` is the 2016 extract's organisations file (``CUK Organisation ID``)."""
    return "CUK Organisation ID" in raw.columns and "Identifier" not in raw.columns


def _sic_2016(codes: pd.Series) -> pd.Series:
    """``UKSIC07-4711`` → ``47110``: the 2016 extract's SIC codes as the 2023 file writes them.

    A class (4 digits) gains its subclass digit 0, as in the 2023 file (``47110``); a
    group (3 digits) is written ``47.1``; a division (2 digits) and a subclass (5 digits)
    stay as they are.
    """
    digits = _as_text(codes).str.replace(r"^UKSIC07-", "", regex=True, case=False)
    length = digits.str.len()
    plain = _flag(digits.str.fullmatch(r"\d+"))
    out = digits.mask(plain & _flag(length == 4), digits + "0")
    return out.mask(plain & _flag(length == 3), digits.str.slice(0, 2) + "." + digits.str.slice(2))


def _map_coopsuk(raw: pd.DataFrame, rows: np.ndarray) -> _Fields:
    layout_2016 = _is_2016_layout(raw)
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
    if layout_2016:
        return _map_coopsuk_2016(raw, rows, _org_type(org_type))
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


_SECTOR_2016: Final = "Sector - Simplified, High Level"
_ADDRESS_2016: Final = ("Registered Street", "Registered City", "Registered State/Province")


def _map_coopsuk_2016(raw: pd.DataFrame, rows: np.ndarray, org_type: pd.Series) -> _Fields:
    """Map the 2016 extract's organisations file: name, postcode, status and dates.

    Its ``Registered Number`` is the registrar's number (``525R`` at the FCA, a company
    number at Companies House): it fills ``company_number`` only where ``Registrar`` is
    Companies House.
    """
    registrar = _as_text(_col(raw, "Registrar")).str.casefold()
    at_companies_house = _flag(registrar.str.contains("companies house"))
    number = _as_text(_col(raw, "Registered Number")).where(at_companies_house)
    return _Fields(
        org_id=_ids("coopsuk", _as_text(_col(raw, "CUK Organisation ID")), rows),
        name=_col(raw, "Registered Name"),
        org_type=org_type,
        postcode=_col(raw, "Registered Postcode"),
        address=_join_address([_col(raw, h) for h in _ADDRESS_2016], raw.index),
        sic=_sic_2016(_col(raw, "SIC Code")),
        sector=_col(raw, _SECTOR_2016),
        company_number=number,
        registered_on=_col(raw, "Incorporation Date"),
        dissolved_on=_col(raw, "Dissolved Date"),
        register_status=_col(raw, "Registered Status"),
        column_map={
            "org_id": "CUK Organisation ID",
            "name": "Registered Name",
            "org_type": ["Legal Form", "Ownership Classification"],
            "postcode": "Registered Postcode",
            "address": list(_ADDRESS_2016),
            "sic_code": "SIC Code",
            "sector": _SECTOR_2016,
            "company_number": ["Registered Number", "Registrar"],
            "registered_on": "Incorporation Date",
            "dissolved_on": "Dissolved Date",
            "register_status": "Registered Status",
        },
    )

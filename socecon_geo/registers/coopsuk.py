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


def provenance(source: str | None, vintage: str) -> Provenance:
    """Return the provenance record of a Co-operatives UK open data file."""
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

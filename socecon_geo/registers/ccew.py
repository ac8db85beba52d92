"""Charity Commission for England and Wales register extract: mapping and row filter."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from socecon_geo.provenance import Provenance
from socecon_geo.registers._files import _RowFilter
from socecon_geo.registers.columns import (
    _STRING,
    _as_number,
    _as_text,
    _col,
    _Fields,
    _ids,
    _join_address,
    _normalise_charity_number,
    _org_type,
    _true,
)

_CCEW_ADDRESS: Final = tuple(f"charity_contact_address{i}" for i in range(1, 6))


def provenance(source: str | None, vintage: str) -> Provenance:
    """Return the provenance record of a Charity Commission register extract."""
    return Provenance(
        name="ccew_register",
        title="Register of charities in England and Wales (public extract)",
        publisher="Charity Commission for England and Wales",
        vintage=vintage,
        licence="Open Government Licence v3.0",
        attribution="Contains public sector information from the Charity Commission for "
        "England and Wales licensed under the Open Government Licence v3.0",
        url="https://register-of-charities.charitycommission.gov.uk/register/full-register-download",
        source=source,
    )


def _ccew_linked_number(raw: pd.DataFrame) -> pd.Series:
    numbers, _, _ = _as_number(_col(raw, "linked_charity_number"))
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
        expenditure=_col(raw, "latest_expenditure"),
        year_end=_col(raw, "latest_acc_fin_period_end_date"),
        registered_on=_col(raw, "date_of_registration"),
        dissolved_on=_col(raw, "date_of_removal"),
        register_status=_col(raw, "charity_registration_status"),
        company_number=_col(raw, "charity_company_registration_number"),
        charity_number=regno,
        column_map={
            "org_id": ["registered_charity_number", "linked_charity_number"],
            "name": "charity_name",
            "org_type": "charity_is_cio",
            "postcode": "charity_contact_postcode",
            "address": list(_CCEW_ADDRESS),
            "income": "latest_income",
            "expenditure": "latest_expenditure",
            "economy_year": "latest_acc_fin_period_end_date",
            "registered_on": "date_of_registration",
            "dissolved_on": "date_of_removal",
            "register_status": "charity_registration_status",
            "company_number": "charity_company_registration_number",
            "charity_number": "registered_charity_number",
        },
    )


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

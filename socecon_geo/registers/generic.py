"""The generic reader: finding the schema columns among a user's own headings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError, Problems
from socecon_geo._headings import heading_key
from socecon_geo._tables import shown
from socecon_geo.registers.columns import (
    _LOOSE_POSTCODE,
    _STRING,
    _as_text,
    _classify_type_text,
    _Fields,
    _ids,
    _join_address,
    _listed,
    _org_type,
    _postcode_key,
    _row_ids,
)

if TYPE_CHECKING:
    from socecon_geo.registers._files import _Table


# Generic reader: schema field -> accepted headings as heading_key() gives them (lower-case
# letters and digits only), best first.
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
    "expenditure": (
        "expenditure",
        "latestexpenditure",
        "totalexpenditure",
        "annualexpenditure",
    ),
    "members": ("members", "memberships", "numberofmembers", "membercount"),
    "economy_year": ("economyyear", "economicyear"),
    "registered_on": (
        "registeredon",
        "dateofregistration",
        "registrationdate",
        "incorporationdate",
        "dateofincorporation",
        "incorporatedon",
    ),
    "dissolved_on": (
        "dissolvedon",
        "dissolutiondate",
        "dateofdissolution",
        "dissolveddate",
        "dateofremoval",
        "removaldate",
        "removedon",
    ),
    "register_status": (
        "registerstatus",
        "registeredstatus",
        "registrationstatus",
        "charityregistrationstatus",
        "companystatus",
        "status",
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


def _find_heading(headings: Sequence[str], wanted: str) -> str | None:
    if wanted in headings:
        return wanted
    stripped = wanted.strip()
    for heading in headings:
        if heading == stripped:
            return heading
    key = heading_key(wanted)
    matches = [h for h in headings if heading_key(h) == key]
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
                        f"columns={{{key!r}: {shown(wanted)}}} names a heading that is not in "
                        f"the file; its headings are {_listed(headings)}"
                    )
                else:
                    found.append(heading)
            if found:
                chosen[key] = found if key == "address" else found[0]
        problems.raise_if_any(InputError)
    normalised = {h: heading_key(h) for h in headings}
    used = {h for v in chosen.values() for h in ([v] if isinstance(v, str) else v)}
    for key, aliases in _ALIASES.items():
        if key in chosen:
            continue
        for alias in aliases:
            hits = [h for h in headings if normalised[h] == alias and h not in used]
            if len(hits) > 1:
                problems.add(
                    f"the columns {_listed(hits)} all look like the {key} column; say which "
                    f"one to use, e.g. columns={{{key!r}: {shown(hits[0])}}}"
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
        mapping = ", ".join(
            f"{key!r}: {shown(suggestion[key]) if key in suggestion else repr(placeholder)}"
            for key in ("name", "postcode")
            for placeholder in [f"<heading of the {key} column>"]
        )
        what = " and ".join(f"the {m} column" for m in missing)
        msg = (
            f"{table.label}: cannot find {what} among its columns {_listed(headings)}. Say "
            f"which columns to use, e.g. read_organisations(..., columns={{{mapping}}})"
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
        expenditure=get("expenditure"),
        members=get("members"),
        economy_year=get("economy_year"),
        registered_on=get("registered_on"),
        dissolved_on=get("dissolved_on"),
        register_status=get("register_status"),
        company_number=get("company_number"),
        charity_number=get("charity_number"),
        column_map={("org_id" if k == "id" else k): v for k, v in chosen.items()},
    )

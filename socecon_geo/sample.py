"""Synthetic sample organisations, for trying the library without a register.

The organisations are invented; their postcodes are real bundled postcodes of the chosen
authorities, with a little of the messiness real registers have (lower case, missing
spaces, the odd typo, terminated and missing postcodes), so every geocoding status can be
seen. Nothing here is real data about real organisations.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._schema import ORG_TYPE, ORGANISATION_TYPES
from socecon_geo.registers.columns import _assemble, _Fields

__all__ = ["sample_organisations"]

# every organisation type but "other", in the schema's order
_TYPES = np.array([t for t in ORGANISATION_TYPES if t != "other"])
_TYPE_WEIGHTS = np.array([0.38, 0.12, 0.2, 0.06, 0.05, 0.14, 0.05])
_TYPE_SUFFIX = {
    "charity": "Trust",
    "charitable_incorporated_organisation": "CIO",
    "community_interest_company": "CIC",
    "co_operative": "Co-operative Ltd",
    "community_benefit_society": "Community Benefit Society",
    "company_limited_by_guarantee": "Ltd",
    "social_enterprise": "Social Enterprise",
}
_WORDS = np.array(
    [
        "Community",
        "Neighbourhood",
        "Youth",
        "Food",
        "Arts",
        "Green",
        "Care",
        "Learning",
        "Housing",
        "Heritage",
        "Enterprise",
        "Wellbeing",
        "Families",
        "Sports",
        "Music",
        "Energy",
        "Repair",
        "Garden",
        "Print",
        "Canal",
        "Market",
        "Bike",
        "Kitchen",
        "Media",
    ]
)
# SIC 2007 codes typical of the social economy, with their sections.
_SIC = np.array(
    ["88990", "85590", "90030", "56101", "93199", "87900", "47190", "35110", "68209", "94990"]
)


def sample_organisations(
    n: int = 500,
    *,
    seed: int = 0,
    authorities: str | Iterable[str] | None = None,
    messy: bool = True,
) -> pd.DataFrame:
    """Invent ``n`` social economy organisations located at real bundled postcodes.

    Parameters
    ----------
    n : int, default 500
        How many organisations.
    seed : int, default 0
        Seed of the random generator (0 or more): the same seed gives the same sample.
    authorities : str or iterable of str, optional
        WMCA authorities (names or codes, any case; a list, set, array or Series) to draw
        postcodes from; all seven by default (``None``).
        Postcodes are drawn in proportion to the authority's postcode count, with extra
        weight on a few postcode sectors so that the sample has clusters to find.
    messy : bool, default True
        Make about 10% of postcodes messy the way real registers are (lower case, no
        space, stray punctuation, typos, unknown units in known sectors, terminated or
        missing postcodes).

    Returns
    -------
    pandas.DataFrame
        One row per organisation in the organisation schema of
        :func:`socecon_geo.read_organisations`: the columns
        :data:`~socecon_geo.ORGANISATION_COLUMNS` with their dtypes, ``org_id``
        ``sample:<n>``, ``source_register`` ``"sample"``, and ``name``, ``org_type``,
        ``postcode``, ``sic_code``, ``sic_section`` and ``income`` filled.

    Raises
    ------
    InputError
        If ``n`` is not a positive whole number, or ``seed`` not a whole number >= 0.
    UnknownAreaError
        If an authority is not one of the seven WMCA authorities, or none is given.

    Examples
    --------
    >>> from socecon_geo.sample import sample_organisations
    >>> orgs = sample_organisations(5, seed=1)
    >>> orgs[["org_id", "org_type", "postcode", "sic_section"]].head(2)
         org_id                   org_type postcode sic_section
    0  sample:1  community_benefit_society  B70 7SL           I
    1  sample:2                    charity  B12 9E1           G
    >>> from socecon_geo import ORGANISATION_COLUMNS
    >>> tuple(orgs.columns) == ORGANISATION_COLUMNS
    True
    >>> len(orgs), orgs.equals(sample_organisations(5, seed=1))
    (5, True)
    """
    from socecon_geo.bundle import WMCA_AUTHORITIES, load_postcodes, postcode_frame

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        msg = f"n must be a positive whole number of organisations, got {n!r}"
        raise InputError(msg)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a whole number, 0 or more, got {seed!r}"
        raise InputError(msg)
    rng = np.random.default_rng(seed)
    table = load_postcodes(list(WMCA_AUTHORITIES) if authorities is None else authorities)
    live = table.loc[~table["terminated"] & table["easting"].notna()]
    terminated = table.loc[table["terminated"], "postcode"].to_numpy()

    # Clustered draw: a handful of "hub" sectors get extra weight.
    sectors = live["postcode"].str[:-2]
    unique_sectors = sectors.unique()
    hubs = rng.choice(unique_sectors, size=min(8, len(unique_sectors)), replace=False)
    weights = np.where(sectors.isin(hubs), 25.0, 1.0)
    picks = rng.choice(len(live), size=n, p=weights / weights.sum())
    places = live["postcode"].to_numpy()[picks]
    postcodes = places.astype(object)

    types = rng.choice(_TYPES, size=n, p=_TYPE_WEIGHTS / _TYPE_WEIGHTS.sum())
    first = rng.choice(_WORDS, size=n)
    second = rng.choice(_WORDS, size=n)
    names = [
        f"{a} {b} {_TYPE_SUFFIX[t]} ({p.split()[0]})" if a != b else f"{a} {_TYPE_SUFFIX[t]}"
        for a, b, t, p in zip(first, second, types, places, strict=True)
    ]
    names = [f"{name} #{i + 1}" for i, name in enumerate(names)]

    if messy:
        kind = rng.choice(
            ["clean", "lower", "nospace", "punct", "typo", "unknown", "terminated", "missing"],
            size=n,
            p=[0.9, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01],
        )
        # every postcode of the bundle, live or terminated (only for "unknown" units)
        known = frozenset(postcode_frame()["postcode"]) if (kind == "unknown").any() else ()
        for i in np.flatnonzero(kind != "clean"):
            code = postcodes[i]
            match kind[i]:
                case "lower":
                    postcodes[i] = code.lower()
                case "nospace":
                    postcodes[i] = code.replace(" ", "")
                case "punct":
                    postcodes[i] = f" {code}."
                case "typo":
                    postcodes[i] = code[:-1] + "1"
                case "unknown":
                    # a unit that does not exist in a sector that does
                    for _ in range(50):
                        letters = rng.choice(list("ABDEFGHJLNPQRSTUWXYZ"), size=2)
                        candidate = code[:-2] + "".join(letters)
                        if candidate not in known:
                            postcodes[i] = candidate
                            break
                case "terminated" if len(terminated):
                    postcodes[i] = terminated[rng.integers(len(terminated))]
                case "missing":
                    postcodes[i] = None

    income = np.round(rng.lognormal(mean=11.5, sigma=1.4, size=n), -2)
    index = pd.RangeIndex(n)
    rows = np.arange(1, n + 1)
    fields = _Fields(
        org_id=pd.Series([f"sample:{row}" for row in rows], index=index, dtype="string"),
        name=pd.Series(names, index=index, dtype="string"),
        org_type=pd.Series(types, index=index, dtype=ORG_TYPE),
        postcode=pd.Series(postcodes, index=index, dtype="string"),
        sic=pd.Series(rng.choice(_SIC, size=n), index=index, dtype="string"),
        income=pd.Series(income, index=index),
        column_map={},
    )
    frame, _ = _assemble(
        fields, pd.DataFrame(index=index), register="sample", source_file=None, rows=rows
    )
    frame.attrs = {"source": "sample_organisations", "register": "sample", "rows_read": n}
    return frame

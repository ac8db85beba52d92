"""Synthetic sample organisations, for trying the library without a register.

The organisations are invented: every name ends in ``(synthetic #<n>)``, every row has
``source_register`` ``"sample"`` and an ``org_id`` ``sample:<n>``, the frame's
``attrs["synthetic"]`` is True and its first provenance record says "synthetic sample,
not real organisations". Only their postcodes are real: bundled postcodes of the chosen
authorities, drawn so that the sample has the structure real registers have, and with a
little of the messiness real registers have.

Where the organisations are
---------------------------
Each live bundled postcode with a point is drawn with probability proportional to::

    w = f(d) * (1 + sum_c a_c exp(-r_c / 3 km) + sum_c 4 exp(-r_c / 300 m))
    f(d) = 1 + 0.4 (5.5 - d) / 4.5

where ``r_c`` is the distance to each of the seven city and town centres ``c`` in
:data:`CENTRES` and ``d`` the IoD2025 IMD decile of the
postcode's LSOA 2021 (1 = most deprived 10% of England; ``f = 1`` where unknown).

- The 1 is the background: postcodes hold about the same number of residents whatever
  the deprivation of their LSOA (bundled postcodes per Census 2021 resident, by decile,
  are 0.95 to 1.12 of the WMCA average), so it spreads organisations in proportion to
  people.
- The broad term (3 km decay) raises the urban core round each centre; its weight
  ``a_c`` is 5 for Birmingham, the regional centre, 2 for the cities of Coventry
  and Wolverhampton, and 1 for the towns (Dudley, West Bromwich, Solihull, Walsall).
- The narrow term (300 m decay, weight 4 at every centre) makes each city and town
  centre dense enough to be a density cluster.
- ``f`` runs from 1.4 in decile 1 down to 0.6 in decile 10: more organisations
  per resident in the more deprived areas, fewer in the least deprived.

Each centre is the bundled point of a real central postcode (its town hall, council
house or civic centre, or beside it), not a typed-in coordinate; a test checks that each
lies in its authority's central ward.

What it was calibrated on
-------------------------
On the 228 Co-operatives UK organisations (2023 open data) located in the WMCA, read,
geocoded and given their areas and IoD2025 decile with this library's defaults. The
sample column measures the drawing probabilities (exact, not one draw), the last column
every live WMCA postcode equally (no concentration at all):

=======================================  =========  ======  =============
measure                                  Co-ops UK  sample  all postcodes
=======================================  =========  ======  =============
within 1 km of a centre                  0.118      0.133   0.062
within 2 km                              0.268      0.291   0.170
within 3 km                              0.390      0.435   0.297
within 5 km                              0.711      0.747   0.629
in Birmingham                            0.465      0.441   0.372
in the top 10% of wards (a)              0.408      0.380   0.302
in IMD deciles 1-2 (46.4% of residents)  0.465      0.566   0.445
per resident, decile 1 (b)               1.09       1.28    0.95
per resident, decile 10 (b)              0.36       0.39    1.03
=======================================  =========  ======  =============

(a) The share of organisations in the 19 wards holding most, for 228 organisations
(as many as the Co-operatives UK rows; the share falls as the number grows): mean of
200 draws, 5-95% range 0.342-0.421. (b) The share of organisations in LSOAs of that
decile over the share of WMCA residents living in them.

The co-operatives are as many per resident in deciles 1-2 as elsewhere and far fewer in
the least deprived (0.56 and 0.36 of the average in deciles 9 and 10). The sample has
about that gradient at the least deprived end and is deliberately steeper at the
deprived end: per resident, 1.5 times as many in deciles 1-2 as elsewhere. On the
Co-operatives UK rows, ward-level Gi* (``hotspots`` defaults on
``summarise_areas(level="ward")``) finds 2 hot spots (Edgbaston, Moseley) among the 192
wards. On ``sample_organisations(2000)`` with seeds 0 to 9 the same pipeline finds 3 to
5 hot spots, all in central Birmingham (Ladywood, Nechells, Soho & Jewellery Quarter,
and Newtown, North Edgbaston, Edgbaston or Bordesley & Highgate), and ``find_clusters``
finds 5 to 10 clusters, in the city and town centres.

The type mix (charities 40%, CIOs 12%, CICs 20%, co-operatives 7%, community benefit
societies 1%, other companies limited by guarantee 14%, other social enterprises 6%) is
a judgement of what a combined register of the region holds, not a measurement: the
only real register here is of co-operatives. Within it, co-operatives and community
benefit societies are 7:1, as in the Co-operatives UK WMCA rows (201 and 27), and their
SIC codes follow those rows' frequencies (membership organisations, housing, credit
unions, political and sports clubs, community energy, shops and pubs), the long tail
merged into a few codes. The other types' SIC codes are typical codes of each, a
judgement again.

Messy postcodes
---------------
With ``messy=True`` about 11% of postcodes are spoiled as in real registers, so that
every geocoding status of the bundled geocoder is seen: lower case, no space, stray
punctuation (still ``matched``), a typo (``invalid_postcode``), an unknown unit in a
known sector (``sector_centroid``), a sector that does not exist in a covered area
(``not_found``), a real postcode outside the bundled areas (``outside_coverage``), a
terminated postcode (``terminated``) or none (``missing_postcode``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._schema import ORG_TYPE, ORGANISATION_TYPES
from socecon_geo.provenance import Provenance, get_provenance, with_provenance
from socecon_geo.registers.columns import _assemble, _Fields

__all__ = ["CENTRES", "Centre", "sample_organisations"]


class Centre(NamedTuple):
    """A city or town centre round which sample organisations concentrate."""

    postcode: str
    """A real central postcode; the centre is its bundled point."""
    lad_code: str
    """The authority it is in."""
    ward_name: str
    """The central ward the postcode lies in (checked by the tests)."""
    weight: float
    """Weight ``a_c`` of the broad (3 km) term."""


CENTRES: Mapping[str, Centre] = MappingProxyType(
    {
        # the Council House, Victoria Square
        "Birmingham": Centre("B1 1BB", "E08000025", "Ladywood", 5.0),
        # the Council House, Earl Street
        "Coventry": Centre("CV1 5RR", "E08000026", "St Michael's", 2.0),
        # the Civic Centre, St Peter's Square
        "Wolverhampton": Centre("WV1 1SH", "E08000031", "St Peters", 2.0),
        # the Council House, Priory Road
        "Dudley": Centre("DY1 1HF", "E08000027", "St. James's", 1.0),
        # High Street beside the town hall (whose B70 8DX is terminated)
        "West Bromwich": Centre("B70 8DZ", "E08000028", "West Bromwich Central", 1.0),
        # the Council House, Manor Square
        "Solihull": Centre("B91 3QB", "E08000029", "St Alphege", 1.0),
        # the Council House, Lichfield Street
        "Walsall": Centre("WS1 1TP", "E08000030", "St Matthew's", 1.0),
    }
)
"""The seven WMCA city and town centres of the sample, with their weights."""

_BROAD_M = 3_000.0
_CORE_M = 300.0
_CORE_WEIGHT = 4.0
_DEPRIVATION_GRADIENT = 0.4  # f = 1.4 in IMD decile 1, 0.6 in decile 10

# every organisation type but "other", in the schema's order
_TYPES = np.array([t for t in ORGANISATION_TYPES if t != "other"])
_TYPE_WEIGHTS = np.array([0.40, 0.12, 0.20, 0.07, 0.01, 0.14, 0.06])
_TYPE_SUFFIX = {
    "charity": "Trust",
    "charitable_incorporated_organisation": "CIO",
    "community_interest_company": "CIC",
    "co_operative": "Co-operative Ltd",
    "community_benefit_society": "Community Benefit Society",
    "company_limited_by_guarantee": "Ltd",
    "social_enterprise": "Social Enterprise",
}
# SIC 2007 codes of each type, with relative weights. Co-operatives and community benefit
# societies: the frequencies among the Co-operatives UK WMCA rows (the long tail merged
# into a few codes); the others: typical codes of each type.
_SIC_BY_TYPE: dict[str, dict[str, float]] = {
    "charity": {
        "88990": 25, "85590": 12, "94910": 12, "94990": 12, "88100": 10, "93199": 8,
        "86900": 7, "90030": 6, "87900": 5, "91020": 3,
    },
    "charitable_incorporated_organisation": {
        "88990": 28, "85590": 14, "94990": 12, "88100": 10, "94910": 8, "86900": 8,
        "93199": 7, "90030": 7, "87900": 6,
    },
    "community_interest_company": {
        "88990": 16, "85590": 12, "90030": 10, "86900": 10, "70229": 8, "96090": 8,
        "56101": 7, "93290": 7, "85600": 7, "47190": 5, "82990": 5, "62012": 5,
    },
    "co_operative": {
        "94990": 33, "68201": 20, "64921": 7, "94920": 6, "93120": 3, "93290": 3,
        "56301": 3, "47110": 3, "86900": 2, "70229": 2, "62012": 2, "90030": 2,
        "35110": 2, "49320": 1,
    },
    "community_benefit_society": {
        "93120": 26, "94990": 19, "35110": 8, "56302": 7, "47110": 7, "68209": 7,
        "85590": 5, "90030": 5, "86900": 4, "62012": 4,
    },
    "company_limited_by_guarantee": {
        "94990": 20, "88990": 20, "85590": 12, "82990": 8, "70229": 8, "93199": 8,
        "68209": 6, "90030": 6, "86900": 6, "94120": 6,
    },
    "social_enterprise": {
        "56101": 15, "88990": 15, "47190": 12, "85590": 10, "81300": 8, "38320": 8,
        "96090": 8, "70229": 8, "62012": 6, "90030": 5, "56210": 5,
    },
}  # fmt: skip
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
_MESS = {
    "clean": 0.89,
    "lower": 0.03,
    "nospace": 0.02,
    "punct": 0.01,
    "typo": 0.01,
    "unknown": 0.01,
    "not_found": 0.005,
    "outside": 0.005,
    "terminated": 0.01,
    "missing": 0.01,
}
# real postcodes outside the bundled areas (national bodies registered elsewhere)
_OUTSIDE = np.array(["M60 0AG", "SW1A 1AA", "SW1A 2AA"])
_UNIT_LETTERS = list("ABDEFGHJLNPQRSTUWXYZ")


@functools.cache
def _drawing_table(codes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Live postcodes of the authorities, their drawing probabilities, the terminated ones.

    Cached: the bundle does not change while the package is loaded.
    """
    from socecon_geo.bundle import postcode_frame

    table = postcode_frame()
    inside = table.loc[table["lad_code"].astype("string").isin(codes).to_numpy()]
    live = inside.loc[~inside["terminated"] & inside["easting"].notna()]
    weights = _weights(live, _centre_points(table))
    arrays = (
        live["postcode"].to_numpy(dtype=object),
        weights / weights.sum(),
        inside.loc[inside["terminated"], "postcode"].to_numpy(dtype=object),
    )
    for array in arrays:
        array.flags.writeable = False
    return arrays


@functools.cache
def _known() -> tuple[frozenset[str], frozenset[str]]:
    """Every bundled postcode, live or terminated, and every bundled postcode sector."""
    from socecon_geo.bundle import postcode_frame

    postcodes = postcode_frame()["postcode"].to_numpy(dtype=object).tolist()
    return frozenset(postcodes), frozenset(code[:-2] for code in postcodes)


def _centre_points(table: pd.DataFrame) -> np.ndarray:
    """Return the (easting, northing) of each centre's postcode in the bundled table."""
    located = table.set_index("postcode")[["easting", "northing"]]
    points = located.reindex([centre.postcode for centre in CENTRES.values()])
    return points.to_numpy(dtype="float64")


def _weights(live: pd.DataFrame, centres: np.ndarray) -> np.ndarray:
    """Drawing weight of each live postcode (see the module documentation)."""
    from socecon_geo.bundle import load_deprivation

    east = live["easting"].to_numpy(dtype="float64")[:, None]
    north = live["northing"].to_numpy(dtype="float64")[:, None]
    distance = np.hypot(east - centres[:, 0], north - centres[:, 1])
    broad = np.array([centre.weight for centre in CENTRES.values()])
    kernel = 1.0 + (broad * np.exp(-distance / _BROAD_M)).sum(axis=1)
    kernel += (_CORE_WEIGHT * np.exp(-distance / _CORE_M)).sum(axis=1)
    deciles = load_deprivation("iod2025").set_index("lsoa_code")["imd_decile"]
    decile = deciles.reindex(live["lsoa21_code"].astype("string")).to_numpy(dtype="float64")
    factor = 1.0 + _DEPRIVATION_GRADIENT * (5.5 - decile) / 4.5
    return kernel * np.where(np.isnan(factor), 1.0, factor)


def _sic_codes(types: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    codes = np.empty(len(types), dtype=object)
    for kind in _TYPES:
        rows = np.flatnonzero(types == kind)
        if len(rows):
            mix = _SIC_BY_TYPE[str(kind)]
            p = np.fromiter(mix.values(), dtype="float64")
            codes[rows] = rng.choice(np.array(list(mix)), size=len(rows), p=p / p.sum())
    return codes


def _provenance(seed: int) -> list[Provenance]:
    """Return the synthetic-sample record, then those of the bundled data used to place it."""
    from socecon_geo import __version__

    synthetic = Provenance(
        name="sample_organisations",
        title="Synthetic sample organisations (invented; not real organisations)",
        publisher="socecon_geo",
        vintage=f"socecon_geo {__version__}, seed {seed}",
        licence="MIT (socecon_geo)",
        attribution="Synthetic sample, not real organisations: invented by "
        "socecon_geo.sample_organisations at real postcodes",
        source="generated",
    )
    return [synthetic, *_used_provenance()]


@functools.cache
def _used_provenance() -> tuple[Provenance, ...]:
    from socecon_geo.bundle import load_deprivation, postcode_frame

    points = [r for r in get_provenance(postcode_frame()) if r.name == "code_point_open_2025"]
    return (*points, *get_provenance(load_deprivation("iod2025")))


def _spoil(postcodes: np.ndarray, rng: np.random.Generator, terminated: np.ndarray) -> None:
    """Make about 11% of ``postcodes`` messy, in place (see the module documentation)."""
    kind = rng.choice(list(_MESS), size=len(postcodes), p=list(_MESS.values()))
    spoilt = np.flatnonzero(kind != "clean")
    if not len(spoilt):
        return
    known, sectors = _known()
    for i in spoilt:
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
                    letters = "".join(rng.choice(_UNIT_LETTERS, size=2))
                    if (candidate := code[:-2] + letters) not in known:
                        postcodes[i] = candidate
                        break
            case "not_found":
                # a sector of the same district that does not exist at all
                district = code.split()[0]
                for digit in rng.permutation(10):
                    if (sector := f"{district} {digit}") not in sectors:
                        postcodes[i] = sector + "".join(rng.choice(_UNIT_LETTERS, size=2))
                        break
            case "outside":
                postcodes[i] = _OUTSIDE[rng.integers(len(_OUTSIDE))]
            case "terminated" if len(terminated):
                postcodes[i] = terminated[rng.integers(len(terminated))]
            case "missing":
                postcodes[i] = None


def sample_organisations(
    n: int = 2000,
    *,
    seed: int = 0,
    authorities: str | Iterable[str] | None = None,
    messy: bool = True,
) -> pd.DataFrame:
    """Invent ``n`` social economy organisations located at real bundled postcodes.

    The organisations are synthetic, and labelled so on every row and in the frame's
    provenance. They concentrate in the seven WMCA city and town centres and are more
    numerous per resident in the more deprived areas, as real registers are; see the
    module documentation (:mod:`socecon_geo.sample`) for the weights and what they were
    calibrated on.

    Parameters
    ----------
    n : int, default 2000
        How many organisations.
    seed : int, default 0
        Seed of the random generator (0 or more): the same seed gives the same sample.
    authorities : str or iterable of str, optional
        WMCA authorities (names or codes, any case; a list, set, array or Series) to draw
        postcodes from; all seven by default (``None``).
    messy : bool, default True
        Make about 11% of postcodes messy the way real registers are (lower case, no
        space, stray punctuation, typos, unknown units in known sectors, unknown
        sectors, postcodes outside the bundled areas, terminated or missing postcodes),
        so that every geocoding status is seen.

    Returns
    -------
    pandas.DataFrame
        One row per organisation in the organisation schema of
        :func:`socecon_geo.read_organisations`: the columns
        :data:`~socecon_geo.ORGANISATION_COLUMNS` with their dtypes, ``org_id``
        ``sample:<n>``, ``source_register`` ``"sample"``, ``name`` ending in
        ``(synthetic #<n>)``, and ``org_type``, ``postcode``, ``sic_code``,
        ``sic_section`` and ``income`` filled. ``attrs`` holds ``synthetic`` (True),
        ``seed``, ``source``, ``register``, ``rows_read`` and ``provenance``: the record
        ``sample_organisations`` ("Synthetic sample, not real organisations") first,
        then those of the bundled postcodes and of IoD2025 used to place them.

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
         org_id                              org_type  postcode sic_section
    0  sample:1  charitable_incorporated_organisation   B70 9HW           Q
    1  sample:2          company_limited_by_guarantee  WV14 9EF           Q
    >>> orgs.loc[0, "name"]
    'Market Learning CIO, B70 (synthetic #1)'
    >>> from socecon_geo import ORGANISATION_COLUMNS, get_provenance
    >>> tuple(orgs.columns) == ORGANISATION_COLUMNS, orgs.attrs["synthetic"]
    (True, True)
    >>> get_provenance(orgs)[0].attribution.split(":")[0]
    'Synthetic sample, not real organisations'
    >>> len(orgs), orgs.equals(sample_organisations(5, seed=1))
    (5, True)
    """
    from socecon_geo.bundle import WMCA_AUTHORITIES, _resolve_authorities

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        msg = f"n must be a positive whole number of organisations, got {n!r}"
        raise InputError(msg)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a whole number, 0 or more, got {seed!r}"
        raise InputError(msg)
    n, seed = int(n), int(seed)
    rng = np.random.default_rng(seed)
    codes = _resolve_authorities(authorities) or list(WMCA_AUTHORITIES)
    live, p, terminated = _drawing_table(tuple(sorted(codes)))
    places = live[rng.choice(len(live), size=n, p=p)]
    postcodes = places.copy()

    types = rng.choice(_TYPES, size=n, p=_TYPE_WEIGHTS / _TYPE_WEIGHTS.sum())
    first = rng.choice(_WORDS, size=n)
    second = rng.choice(_WORDS, size=n)
    names = [
        f"{a} {b} {_TYPE_SUFFIX[t]}, {p.split()[0]} (synthetic #{i})"
        if a != b
        else f"{a} {_TYPE_SUFFIX[t]}, {p.split()[0]} (synthetic #{i})"
        for i, (a, b, t, p) in enumerate(zip(first, second, types, places, strict=True), 1)
    ]
    sic = _sic_codes(types, rng)
    if messy:
        _spoil(postcodes, rng, terminated)

    income = np.round(rng.lognormal(mean=11.5, sigma=1.4, size=n), -2)
    index = pd.RangeIndex(n)
    rows = np.arange(1, n + 1)
    fields = _Fields(
        org_id=pd.Series([f"sample:{row}" for row in rows], index=index, dtype="string"),
        name=pd.Series(names, index=index, dtype="string"),
        org_type=pd.Series(types, index=index, dtype=ORG_TYPE),
        postcode=pd.Series(postcodes, index=index, dtype="string"),
        sic=pd.Series(sic, index=index, dtype="string"),
        income=pd.Series(income, index=index),
        column_map={},
    )
    frame, _ = _assemble(
        fields, pd.DataFrame(index=index), register="sample", source_file=None, rows=rows
    )
    frame.attrs = {
        "source": "sample_organisations",
        "register": "sample",
        "rows_read": n,
        "synthetic": True,
        "seed": seed,
    }
    return with_provenance(frame, _provenance(seed))

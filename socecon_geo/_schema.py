"""The status vocabularies and the dtype of every kind of column the steps add.

Private to socecon_geo; the vocabularies are public through the modules that use them
(``socecon_geo.postcodes.POSTCODE_STATUSES``, ``socecon_geo.geocoding.GEOCODE_STATUSES``,
``socecon_geo.areas.AREA_METHODS`` and ``AREA_STATUSES``,
``socecon_geo.deprivation.DEPRIVATION_STATUSES``,
``socecon_geo.registers.ORGANISATION_TYPES``,
``socecon_geo.clusters.CLUSTER_STATUSES``, ``socecon_geo.snapshots.CHANGE_STATUSES``,
``MATCH_METHODS`` and ``TRAJECTORY_STATUSES``). Every step builds its columns with the
dtypes below, so one kind of column has one dtype all along the flow:

==========================  ====================================================
kind of column              dtype
==========================  ====================================================
statuses and area methods   ``category`` with the fixed categories of their
                            vocabulary (:data:`POSTCODE_STATUS`,
                            :data:`GEOCODE_STATUS`, :data:`AREA_METHOD`,
                            :data:`AREA_STATUS`, :data:`DEPRIVATION_STATUS`,
                            :data:`RANK_STATUS`, :data:`CLUSTER_STATUS`,
                            :data:`HOTSPOT_CLASS`, :data:`CHANGE_STATUS`,
                            :data:`MATCH_METHOD`,
                            :data:`TRAJECTORY_STATUS`,
                            :data:`SIZE_STATUS`);
                            ``org_type`` likewise (:data:`ORG_TYPE`)
codes and names             ``string`` (:data:`CODE`, :data:`NAME`):
                            ``postcode_normalised``,
                            ``postcode_lsoa21_code`` … ``lad_code``,
                            ``ward_name``
``geocode_method``          ``string``: an open vocabulary, named by the geocoder
                            (``offline:code-point-open-2025``, ``postcodes.io``,
                            a user's own geocoder's name)
``position_quality``        ``Int64`` (:data:`QUALITY`)
``cluster_id``              ``Int64`` (:data:`CLUSTER_ID`), missing unless
                            clustered
``expenditure``             ``float64`` (:data:`MEASURE`); ``members`` likewise
``economy_year``            ``Int64`` (:data:`YEAR`)
``registered_on``           ``datetime64[ns]`` (:data:`DATE`); ``dissolved_on``
                            likewise
``register_status``         ``string``: the register's own words
``active``                  ``boolean`` (:data:`FLAG`), missing when not known
==========================  ====================================================

:data:`COLUMN_DTYPES` maps each standard column to its dtype; a test runs the whole flow
and checks every column against it.
"""

from __future__ import annotations

import os
import re
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "AREA_METHOD",
    "AREA_METHODS",
    "AREA_STATUS",
    "AREA_STATUSES",
    "CHANGE_STATUS",
    "CHANGE_STATUSES",
    "CLUSTER_ID",
    "CLUSTER_STATUS",
    "CLUSTER_STATUSES",
    "CODE",
    "COLUMN_DTYPES",
    "DATE",
    "DEPRIVATION_STATUS",
    "DEPRIVATION_STATUSES",
    "FLAG",
    "GEOCODE_STATUS",
    "GEOCODE_STATUSES",
    "HOTSPOT_CLASS",
    "HOTSPOT_CLASSES",
    "LSOA_CODE",
    "LSOA_LEVEL_VINTAGE",
    "MATCH_METHOD",
    "MATCH_METHODS",
    "MEASURE",
    "NAME",
    "ORGANISATION_TYPES",
    "ORG_TYPE",
    "POSTCODE_STATUS",
    "POSTCODE_STATUSES",
    "QUALITY",
    "RANK_STATUS",
    "RANK_STATUSES",
    "SITE_SIZE_STATUS",
    "SITE_SIZE_STATUSES",
    "SITE_STATUS",
    "SITE_STATUSES",
    "SIZE_STATUS",
    "SIZE_STATUSES",
    "SUPPLIER_STATUS",
    "SUPPLIER_STATUSES",
    "SUPPLY_STATUS",
    "SUPPLY_STATUSES",
    "TRAJECTORY_STATUS",
    "TRAJECTORY_STATUSES",
    "YEAR",
    "PathLike",
]

PathLike = str | os.PathLike[str]

# ---- vocabularies ---------------------------------------------------------------------

ORGANISATION_TYPES: Final[tuple[str, ...]] = (
    "charity",
    "charitable_incorporated_organisation",
    "community_interest_company",
    "co_operative",
    "community_benefit_society",
    "company_limited_by_guarantee",
    "social_enterprise",
    "other",
)
"""The categories of the ``org_type`` column, in this order (``"other"`` = other/unknown)."""

POSTCODE_STATUSES: Final[tuple[str, ...]] = ("valid", "invalid_format", "missing")
"""Values of ``postcode_status``, in the order used for counts and reports."""

GEOCODE_STATUSES: Final[tuple[str, ...]] = (
    "matched",
    "sector_centroid",
    "terminated",
    "invalid_postcode",
    "missing_postcode",
    "not_found",
    "outside_coverage",
)
"""Every value of ``geocode_status``, in report order."""

AREA_METHODS: Final[tuple[str, ...]] = (
    "postcode_table",
    "lsoa11_lookup_unchanged",
    "lsoa11_lookup_merged",
    "lsoa21_lookup",
    "parent_of_ward",
    "parent_of_lsoa",
    "lsoa11_lookup_complex",
    "point_in_polygon",
    "lsoa11_lookup_split_pip",
    "lsoa21_bestfit_lookup",
    "lsoa11_lookup_split_nearest",
    "ambiguous_split",
)
"""How a code was found, from the most to the least certain.

``postcode_table``
    taken from the postcode table's own code (official postcode lookups).
``lsoa11_lookup_unchanged`` / ``lsoa11_lookup_merged``
    LSOA 2021 code converted exactly from the LSOA 2011 code (ONS change code U / M).
``lsoa21_lookup``
    LSOA 2011 code converted back exactly from the LSOA 2021 code.
``parent_of_ward`` / ``parent_of_lsoa``
    authority taken from the organisation's ward or LSOA, which nest in it.
``lsoa11_lookup_complex``
    LSOA 2021 code from an irregular (change code X) one-to-one link.
``point_in_polygon``
    found by point in polygon in the layer passed.
``lsoa11_lookup_split_pip``
    the LSOA 2011 was split in 2021; the part containing the point was chosen.
``lsoa21_bestfit_lookup``
    ward or authority taken from the LSOA 2021 by the ONS best-fit lookup.
``lsoa11_lookup_split_nearest``
    the LSOA 2011 was split and the point lies in none of its parts (generalised
    boundaries); the nearest part was chosen.
``ambiguous_split``
    the LSOA 2011 was split and no point or boundaries could decide; code left missing.

``area_method`` holds the least certain method among an organisation's four codes.
"""

AREA_STATUSES: Final[tuple[str, ...]] = ("assigned", "partial", "outside_areas", "no_location")
"""Values of ``area_status``.

``assigned``
    every level the inputs can provide (LSOA 2021, LSOA 2011, ward, authority) has a code.
``partial``
    some codes were found, others not (e.g. an ambiguous split LSOA).
``outside_areas``
    area layers were passed and the organisation lies in none of them (its postcode
    codes, if any, are kept).
``no_location``
    no point and no postcode codes: nothing to place.
"""

DEPRIVATION_STATUSES: Final[tuple[str, ...]] = (
    "joined",
    "no_lsoa",
    "lsoa_not_in_index",
    "ambiguous_lsoa",
)
"""Values of the ``deprivation_status`` column added by ``attach_deprivation``."""

CLUSTER_STATUSES: Final[tuple[str, ...]] = (
    "clustered",
    "noise",
    "low_position_quality",
    "no_location",
    "stacked_address",
    "duplicate",
)
"""Values of ``cluster_status`` (added by ``find_clusters``).

``clustered``
    in a cluster (``cluster_id`` >= 1).
``noise``
    clustered, but in no cluster (label -1).
``low_position_quality``
    left out: the point is coarser than ``min_position_quality`` (a postcode sector
    centroid, quality 60; label -2).
``no_location``
    left out: no point (label -3).
``stacked_address``
    left out: the organisation's coordinate holds ``stack_size`` organisations or more
    (a registered-office address; label -4).
``duplicate``
    left out: a duplicate of another organisation (``duplicate_of`` is set by
    ``combine_registers``), which is clustered in its place (label -5).
"""

RANK_STATUSES: Final[tuple[str, ...]] = (
    "ranked",
    "small_population",
    "no_population",
    "no_deprivation",
    "no_data",
)
"""Values of ``rank_status``, added by ``rank_candidates`` to both lenses.

``ranked``
    scored and ranked among the others.
``small_population``
    scored, but ranked after every ``ranked`` area: fewer residents than the area
    summary's ``min_population``, so its rate per resident is unstable (gaps only).
``no_population``
    not scored (ranked last): no residents count, so no rate per resident.
``no_deprivation``
    not scored (ranked last): the residents' deprivation is not known.
``no_data``
    not scored (ranked last): another component is missing.
"""

HOTSPOT_CLASSES: Final[tuple[str, ...]] = (
    "hot_99",
    "hot_95",
    "hot_90",
    "cold_99",
    "cold_95",
    "cold_90",
    "high_high",
    "high_low",
    "low_high",
    "low_low",
    "not_significant",
    "no_neighbours",
    "no_value",
)
"""Values of ``hotspot_class`` (``socecon_geo.hotspot_stats``).

``hot_99`` … ``cold_90``
    Gi*: a hot (cold) spot at 99, 95 or 90% confidence (p ≤ 0.01, 0.05, 0.10; the
    Benjamini–Hochberg adjusted p when ``fdr=True``).
``high_high`` … ``low_low``
    local Moran: a significant high value among high ones (a cluster), high among low
    (an outlier), low among high, low among low.
``not_significant``
    tested, not significant.
``no_neighbours``
    has a value but no neighbour (an island): not tested.
``no_value``
    the variable is missing: not tested.
"""

CHANGE_STATUSES: Final[tuple[str, ...]] = ("continuing", "new", "gone")
"""Values of ``change_status`` (added by ``socecon_geo.compare_snapshots``).

``continuing``
    in both snapshots (matched on the identifier, registered number, or name and
    postcode).
``new``
    only in the later snapshot.
``gone``
    only in the earlier snapshot.
"""

MATCH_METHODS: Final[tuple[str, ...]] = ("org_id", "registered_number", "name_postcode")
"""Values of ``match_method`` (``socecon_geo.compare_snapshots``), tried in this order.

``org_id``
    the same register identifier.
``registered_number``
    the same company or charity number (spaces and punctuation ignored).
``name_postcode``
    the same normalised name at the same postcode.
"""

TRAJECTORY_STATUSES: Final[tuple[str, ...]] = (
    "on_course",
    "behind",
    "shrinking",
    "no_baseline",
    "no_rate",
)
"""Values of ``trajectory_status`` (``socecon_geo.doubling_trajectory``).

``on_course``
    the observed growth rate is at least the rate needed to reach the target.
``behind``
    growing (or flat), but more slowly than needed.
``shrinking``
    the observed rate is negative.
``no_baseline``
    the baseline is zero or missing: no target can be set from it.
``no_rate``
    the observed rate cannot be computed (the first value is zero or missing).
"""

SIZE_STATUSES: Final[tuple[str, ...]] = ("counted", "no_area", "inactive", "duplicate")
"""Values of ``size_status`` (added by ``social_economy_size``).

``counted``
    counted in its area's size.
``no_area``
    left out: no area code of the level, or one outside the geography's areas.
``inactive``
    left out: in an area, but the register says it is no longer active (status, removal
    or dissolution date), and only active organisations are counted.
``duplicate``
    left out: the same organisation as an earlier row (``duplicate_of`` set, or the same
    ``org_id``), which counts in its place.
"""

SITE_STATUSES: Final[tuple[str, ...]] = (
    "located",
    "geocoded",
    "no_location",
    "outside_gb",
    "outside_authority",
    "duplicate_reference",
    "ended",
)
"""Values of ``site_status`` (added by ``read_sites``); only ``located`` and ``geocoded``
sites are matched to suppliers. See :data:`STATUS_MEANINGS` for each."""

SITE_SIZE_STATUSES: Final[tuple[str, ...]] = (
    "dwellings",
    "hectares",
    "value",
    "negative_dwellings",
    "no_size",
)
"""Values of ``site_size_status`` (``read_sites``): what the site's ``size`` weight is."""

SUPPLY_STATUSES: Final[tuple[str, ...]] = ("reached", "gap", "not_located")
"""Values of ``supply_status`` of a site (``match_suppliers``)."""

SUPPLIER_STATUSES: Final[tuple[str, ...]] = (
    "in_reach",
    "out_of_reach",
    "not_in_supply_chain",
    "no_sic",
    "no_location",
    "duplicate",
)
"""Values of ``supplier_status`` of an organisation (``match_suppliers``)."""

STATUS_MEANINGS: Final[dict[str, dict[str, str]]] = {
    "geocode_status": {
        "matched": "the postcode was found; placed at its point",
        "sector_centroid": "the postcode was not found; placed at the middle of its postcode "
        "sector (about 1 km; position quality 60)",
        "terminated": "the postcode is no longer in use; placed at its last known point where "
        "the table has one",
        "invalid_postcode": "the postcode is not a valid UK postcode; not placed",
        "missing_postcode": "no postcode was given; not placed",
        "not_found": "a valid postcode the table (or service) does not know; not placed",
        "outside_coverage": "the postcode area is not in the postcode table; not placed",
    },
    "area_status": {
        "assigned": "every area level has a code",
        "partial": "some area codes were found and others not (e.g. an LSOA 2011 split in "
        "2021 that neither the point nor the boundaries could decide)",
        "outside_areas": "the point lies outside the study area's boundaries",
        "no_location": "no point and no postcode codes: nothing to place",
    },
    "deprivation_status": {
        "joined": "the LSOA's deprivation was joined",
        "no_lsoa": "no LSOA code, so no deprivation",
        "lsoa_not_in_index": "the LSOA is not in the index (e.g. a Welsh LSOA)",
        "ambiguous_lsoa": "the LSOA 2011 was split in 2021 and the part is not known",
    },
    "cluster_status": {
        "clustered": "in a density cluster",
        "noise": "considered, but in no cluster",
        "low_position_quality": "left out of clustering: placed only at a postcode sector's middle",
        "no_location": "left out of clustering: not placed",
        "stacked_address": "left out of clustering: shares one point with many organisations "
        "(a registered-office address)",
        "duplicate": "left out of clustering: the same organisation as another row, which "
        "counts in its place",
    },
    "rank_status": {
        "ranked": "scored and ranked",
        "small_population": "scored, but ranked after the others: too few residents for a "
        "stable rate",
        "no_population": "not scored: no residents count",
        "no_deprivation": "not scored: the residents' deprivation is not known",
        "no_data": "not scored: a component is missing",
    },
    "size_status": {
        "counted": "counted in its area's size",
        "no_area": "left out of the size: not in any of the areas",
        "inactive": "left out of the size: no longer active on its register",
        "duplicate": "left out of the size: the same organisation as another row, which "
        "counts in its place",
    },
    "site_status": {
        "located": "the site's coordinates or shape are in Great Britain; matched",
        "geocoded": "no coordinates; placed at its postcode (offline table); matched",
        "no_location": "no coordinates and no postcode the table knows; not matched",
        "outside_gb": "the coordinates lie outside Great Britain (a typing or projection "
        "error); not matched",
        "outside_authority": "the coordinates lie more than 1 km outside the council that "
        "registered the site; not matched",
        "duplicate_reference": "the same council and site reference as another row, which "
        "is matched in its place",
        "ended": "the register gives an end date: no longer on the register; not matched",
    },
    "site_size_status": {
        "dwellings": "weighted by its net dwellings (the maximum the register gives)",
        "hectares": "no dwellings given; weighted by its area in hectares",
        "value": "weighted by the value column given",
        "negative_dwellings": "the register gives a net loss of dwellings; weight 0",
        "no_size": "no dwellings, hectares or value; weight 0",
    },
    "supply_status": {
        "reached": "at least one matching supplier within the largest distance band",
        "gap": "no matching supplier within the largest distance band: a coverage gap",
        "not_located": "not matched: the site has no usable location, or is a duplicate or "
        "ended entry",
    },
    "supplier_status": {
        "in_reach": "in a site's supply chain and within the largest band of at least one "
        "such site",
        "out_of_reach": "in a site's supply chain, but farther than the largest band from "
        "every such site",
        "not_in_supply_chain": "its SIC code is in no supply chain of the sites' programmes",
        "no_sic": "no SIC code, so its activity is not known",
        "no_location": "not placed, so no distance",
        "duplicate": "the same organisation as another row, which is matched in its place",
    },
    "hotspot_class": {
        "hot_99": "hot spot, 99% confidence",
        "hot_95": "hot spot, 95% confidence",
        "hot_90": "hot spot, 90% confidence",
        "cold_99": "cold spot, 99% confidence",
        "cold_95": "cold spot, 95% confidence",
        "cold_90": "cold spot, 90% confidence",
        "high_high": "a high value among high neighbours (local Moran cluster)",
        "high_low": "a high value among low neighbours (outlier)",
        "low_high": "a low value among high neighbours (outlier)",
        "low_low": "a low value among low neighbours (local Moran cluster)",
        "not_significant": "tested, not significant",
        "no_neighbours": "no neighbour (an island): not tested",
        "no_value": "no value: not tested",
    },
    "change_status": {
        "continuing": "in both snapshots of the register",
        "new": "only in the later snapshot: registered, or first listed, since the earlier one",
        "gone": "only in the earlier snapshot: dissolved, removed or no longer listed",
    },
    "match_method": {
        "org_id": "matched on the register's identifier",
        "registered_number": "matched on the company or charity number",
        "name_postcode": "matched on the normalised name and the postcode",
    },
    "trajectory_status": {
        "on_course": "growing at least as fast as the target needs",
        "behind": "growing, or flat, but more slowly than the target needs",
        "shrinking": "getting smaller",
        "no_baseline": "no baseline (zero or missing): no target can be set",
        "no_rate": "no observed growth rate: the first value is zero or missing",
    },
}
"""One line of plain English for every value of each status column, for reports and the
command line (a test checks that every value of every vocabulary has one)."""


# ---- dtypes ---------------------------------------------------------------------------

ORG_TYPE: Final = pd.CategoricalDtype(list(ORGANISATION_TYPES))
POSTCODE_STATUS: Final = pd.CategoricalDtype(list(POSTCODE_STATUSES))
GEOCODE_STATUS: Final = pd.CategoricalDtype(list(GEOCODE_STATUSES))
AREA_METHOD: Final = pd.CategoricalDtype(list(AREA_METHODS))
AREA_STATUS: Final = pd.CategoricalDtype(list(AREA_STATUSES))
DEPRIVATION_STATUS: Final = pd.CategoricalDtype(list(DEPRIVATION_STATUSES))
CLUSTER_STATUS: Final = pd.CategoricalDtype(list(CLUSTER_STATUSES))
CLUSTER_ID: Final = pd.Int64Dtype()
RANK_STATUS: Final = pd.CategoricalDtype(list(RANK_STATUSES))
HOTSPOT_CLASS: Final = pd.CategoricalDtype(list(HOTSPOT_CLASSES))
CHANGE_STATUS: Final = pd.CategoricalDtype(list(CHANGE_STATUSES))
MATCH_METHOD: Final = pd.CategoricalDtype(list(MATCH_METHODS))
TRAJECTORY_STATUS: Final = pd.CategoricalDtype(list(TRAJECTORY_STATUSES))
SIZE_STATUS: Final = pd.CategoricalDtype(list(SIZE_STATUSES))
SITE_STATUS: Final = pd.CategoricalDtype(list(SITE_STATUSES))
SITE_SIZE_STATUS: Final = pd.CategoricalDtype(list(SITE_SIZE_STATUSES))
SUPPLY_STATUS: Final = pd.CategoricalDtype(list(SUPPLY_STATUSES))
SUPPLIER_STATUS: Final = pd.CategoricalDtype(list(SUPPLIER_STATUSES))
CODE: Final = pd.StringDtype()
NAME: Final = pd.StringDtype()
QUALITY: Final = pd.Int64Dtype()
MEASURE: Final = np.dtype("float64")
YEAR: Final = pd.Int64Dtype()
DATE: Final = np.dtype("datetime64[ns]")
FLAG: Final = pd.BooleanDtype()

_AREA_CODES: Final = ("lsoa21_code", "lsoa11_code", "msoa21_code", "ward_code", "lad_code")

COLUMN_DTYPES: Final[dict[str, object]] = {
    "org_type": ORG_TYPE,
    "postcode_normalised": CODE,
    "postcode_status": POSTCODE_STATUS,
    "geocode_status": GEOCODE_STATUS,
    "geocode_method": CODE,
    "position_quality": QUALITY,
    **{f"postcode_{code}": CODE for code in _AREA_CODES},
    **dict.fromkeys(_AREA_CODES, CODE),
    "ward_name": NAME,
    "lad_name": NAME,
    **{f"{level}_method": AREA_METHOD for level in ("lsoa21", "lsoa11", "ward", "lad")},
    "area_method": AREA_METHOD,
    "area_status": AREA_STATUS,
    "deprivation_status": DEPRIVATION_STATUS,
    "cluster_id": CLUSTER_ID,
    "cluster_status": CLUSTER_STATUS,
    "rank_status": RANK_STATUS,
    "hotspot_class": HOTSPOT_CLASS,
    "change_status": CHANGE_STATUS,
    "match_method": MATCH_METHOD,
    "trajectory_status": TRAJECTORY_STATUS,
    "expenditure": MEASURE,
    "members": MEASURE,
    "economy_year": YEAR,
    "registered_on": DATE,
    "dissolved_on": DATE,
    "register_status": NAME,
    "active": FLAG,
    "size_status": SIZE_STATUS,
    "size_national": FLAG,
    "size_national_reason": NAME,
    "site_status": SITE_STATUS,
    "site_size_status": SITE_SIZE_STATUS,
    "supply_status": SUPPLY_STATUS,
    "supplier_status": SUPPLIER_STATUS,
}
"""The dtype of each standard column the steps add (see the module documentation)."""

# ---- area codes -----------------------------------------------------------------------

LSOA_CODE: Final[re.Pattern[str]] = re.compile(r"^[EW]01\d{6}$")
"""An LSOA code (England E01…, Wales W01…), of either vintage."""

LSOA_LEVEL_VINTAGE: Final[dict[str, int]] = {"lsoa21": 2021, "lsoa11": 2011}
"""The census year of each LSOA level."""

"""Geocode organisations by UK postcode: a status on every row, no row ever lost.

:func:`geocode` normalises each organisation's postcode, asks a *geocoder* about every
distinct valid postcode once, and maps the answers back to the rows. It returns a
GeoDataFrame in EPSG:27700 (British National Grid) with exactly one row per input row,
in the same order and with the same index, flagged with

``geocode_status``
    one of :data:`GEOCODE_STATUSES`:

    ====================  ==============================================================
    ``matched``           the postcode is in the table (or service) with a location
    ``sector_centroid``   the postcode is unknown but its sector (``"B15 2"``) is not:
                          placed at the mean of the sector's live postcodes
    ``terminated``        a terminated postcode: at its last known location where the
                          table has one, otherwise without a point
    ``invalid_postcode``  the value is not a valid UK postcode
    ``missing_postcode``  there is no postcode
    ``not_found``         the table covers the postcode area, but neither the postcode
                          nor its sector is known
    ``outside_coverage``  the table does not cover the postcode area at all
    ====================  ==============================================================

``geocode_method``
    where the point came from, e.g. ``"offline:code-point-open-2025"``,
    ``"offline:sector-centroid"`` or ``"postcodes.io"``;
``position_quality``
    Code-Point Open positional quality: 10 (within the building of a matched
    address) ... 60 (sector mean) ... 90 (no coordinates).

Geocoders share the :class:`Geocoder` protocol. :class:`OfflinePostcodeGeocoder` (the
default) uses the bundled West Midlands postcode table or any table built by
:func:`build_postcode_table` from a national Code-Point Open or ONS Postcode Directory
file; :class:`PostcodesIOGeocoder` asks the postcodes.io web service.
"""

from __future__ import annotations

from socecon_geo.geocoding._base import (
    CRS,
    GEOCODE_STATUSES,
    RESULT_COLUMNS,
    TABLE_COLUMNS,
    Geocoder,
)
from socecon_geo.geocoding._geocode import GeocodingReport, geocode, geocoding_report
from socecon_geo.geocoding.offline import OfflinePostcodeGeocoder
from socecon_geo.geocoding.postcodes_io import PostcodesIOGeocoder
from socecon_geo.geocoding.tables import build_postcode_table

__all__ = [
    "CRS",
    "GEOCODE_STATUSES",
    "RESULT_COLUMNS",
    "TABLE_COLUMNS",
    "Geocoder",
    "GeocodingReport",
    "OfflinePostcodeGeocoder",
    "PostcodesIOGeocoder",
    "build_postcode_table",
    "geocode",
    "geocoding_report",
]

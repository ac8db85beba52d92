"""socecon_geo: map the social economy.

Read organisation registers, geocode them by UK postcode (offline first), join them to
the English Indices of Deprivation and to ward and LSOA boundaries, and summarise every
area: counts, rates per resident, location quotients and deprivation profiles.

Public functions are imported lazily on first use, so ``import socecon_geo`` is quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # exceptions
    "SocEconGeoError": "socecon_geo._errors",
    "InputError": "socecon_geo._errors",
    "CRSMismatchError": "socecon_geo._errors",
    "UnknownAreaError": "socecon_geo._errors",
    "DataUnavailableError": "socecon_geo._errors",
    "DownloadError": "socecon_geo._errors",
    "NetworkUnreachableError": "socecon_geo._errors",
    "MissingExtraError": "socecon_geo._errors",
    "SocEconGeoWarning": "socecon_geo._errors",
    # bundled data pack: WMCA boundaries, England-wide tables
    "load_wards": "socecon_geo.bundle",
    "load_lsoas": "socecon_geo.bundle",
    "load_msoas": "socecon_geo.bundle",
    "load_deprivation": "socecon_geo.bundle",
    "load_population": "socecon_geo.bundle",
    "load_lsoa_lookup": "socecon_geo.bundle",
    "load_area_lookup": "socecon_geo.bundle",
    "load_regions": "socecon_geo.bundle",
    "load_postcodes": "socecon_geo.bundle",
    "load_authorities": "socecon_geo.bundle",
    "bundle_provenance": "socecon_geo.bundle",
    "WMCA_AUTHORITIES": "socecon_geo.bundle",
    # postcodes
    "normalise_postcodes": "socecon_geo.postcodes",
    "normalise_postcode": "socecon_geo.postcodes",
    "postcode_sector": "socecon_geo.postcodes",
    "postcode_district": "socecon_geo.postcodes",
    "postcode_area": "socecon_geo.postcodes",
    # geography
    "Geography": "socecon_geo.geography",
    "GEOGRAPHY_LEVELS": "socecon_geo.geography",
    "load_geography": "socecon_geo.geography",
    "fetch_geography": "socecon_geo.geography",
    # provenance
    "Provenance": "socecon_geo.provenance",
    "get_provenance": "socecon_geo.provenance",
    "attribution_lines": "socecon_geo.provenance",
    # organisations
    "read_organisations": "socecon_geo.registers",
    "combine_registers": "socecon_geo.registers",
    "ORGANISATION_TYPES": "socecon_geo.registers",
    "ORGANISATION_COLUMNS": "socecon_geo.registers",
    "sic_sections": "socecon_geo.registers",
    # geocoding
    "geocode": "socecon_geo.geocoding",
    "geocoding_report": "socecon_geo.geocoding",
    "OfflinePostcodeGeocoder": "socecon_geo.geocoding",
    "PostcodesIOGeocoder": "socecon_geo.geocoding",
    "build_postcode_table": "socecon_geo.geocoding",
    "Geocoder": "socecon_geo.geocoding",
    "GeocodingReport": "socecon_geo.geocoding",
    # deprivation
    "read_deprivation": "socecon_geo.deprivation",
    "fetch_deprivation": "socecon_geo.deprivation",
    "attach_deprivation": "socecon_geo.attach",
    "read_lsoa_lookup": "socecon_geo.lookups",
    "convert_lsoa_codes": "socecon_geo.lookups",
    # official boundaries
    "read_boundaries": "socecon_geo.boundaries",
    "fetch_boundaries": "socecon_geo.boundaries",
    # synthetic sample
    "sample_organisations": "socecon_geo.sample",
    # areas
    "assign_areas": "socecon_geo.areas",
    "summarise_areas": "socecon_geo.summaries",
    # growth: births and deaths, two snapshots, the doubling trajectory
    "births_and_deaths": "socecon_geo.growth",
    "compare_snapshots": "socecon_geo.snapshots",
    "doubling_trajectory": "socecon_geo.growth",
    "required_rate": "socecon_geo.growth",
    "SnapshotComparison": "socecon_geo.snapshots",
    "Trajectory": "socecon_geo.growth",
    # hot spots
    "hotspots": "socecon_geo.hotspot_stats",
    "hotspot_grid": "socecon_geo.hotspot_stats",
    "HotspotResult": "socecon_geo.hotspot_stats",
    # population
    "read_population": "socecon_geo.population",
    # density clusters
    "find_clusters": "socecon_geo.clusters",
    "ClusterResult": "socecon_geo.clusters",
    # size of the social economy by area
    "social_economy_size": "socecon_geo.size",
    "SizeResult": "socecon_geo.size",
    # ranking candidate places
    "rank_candidates": "socecon_geo.ranking",
    "Candidates": "socecon_geo.ranking",
    # interactive map
    "render_map": "socecon_geo.maps",
    "save_map": "socecon_geo.maps",
    # outputs: the static figure and the accessible table
    "plot_deprivation": "socecon_geo.figures",
    "plot_trajectory": "socecon_geo.figures",
    "save_figure": "socecon_geo.figures",
    "accessible_table": "socecon_geo.tables",
    "write_tables": "socecon_geo.tables",
    # social procurement: investment sites and the suppliers that can reach them
    "read_sites": "socecon_geo.sites",
    "supply_chain_table": "socecon_geo.supply_chains",
    "match_suppliers": "socecon_geo.procurement",
    "SupplierMatch": "socecon_geo.procurement",
    # the whole pipeline
    "analyse": "socecon_geo.pipeline",
    "Analysis": "socecon_geo.pipeline",
    # beyond one machine: the steps on the partitions of a Dask dataframe (the dask extra)
    "read_organisations_partitioned": "socecon_geo.partitioned",
    "geocode_partitioned": "socecon_geo.partitioned",
    "assign_areas_partitioned": "socecon_geo.partitioned",
    "attach_deprivation_partitioned": "socecon_geo.partitioned",
    "summarise_areas_partitioned": "socecon_geo.partitioned",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # pragma: no cover  (static type checkers see every export)
    from socecon_geo._errors import (  # noqa: F401
        CRSMismatchError,
        DataUnavailableError,
        DownloadError,
        InputError,
        MissingExtraError,
        NetworkUnreachableError,
        SocEconGeoError,
        SocEconGeoWarning,
        UnknownAreaError,
    )
    from socecon_geo.areas import (  # noqa: F401
        assign_areas,
    )
    from socecon_geo.attach import (  # noqa: F401
        attach_deprivation,
    )
    from socecon_geo.boundaries import (  # noqa: F401
        fetch_boundaries,
        read_boundaries,
    )
    from socecon_geo.bundle import (  # noqa: F401
        WMCA_AUTHORITIES,
        bundle_provenance,
        load_area_lookup,
        load_authorities,
        load_deprivation,
        load_lsoa_lookup,
        load_lsoas,
        load_msoas,
        load_population,
        load_postcodes,
        load_regions,
        load_wards,
    )
    from socecon_geo.clusters import (  # noqa: F401
        ClusterResult,
        find_clusters,
    )
    from socecon_geo.deprivation import (  # noqa: F401
        fetch_deprivation,
        read_deprivation,
    )
    from socecon_geo.figures import (  # noqa: F401
        plot_deprivation,
        plot_trajectory,
        save_figure,
    )
    from socecon_geo.geocoding import (  # noqa: F401
        Geocoder,
        GeocodingReport,
        OfflinePostcodeGeocoder,
        PostcodesIOGeocoder,
        build_postcode_table,
        geocode,
        geocoding_report,
    )
    from socecon_geo.geography import (  # noqa: F401
        GEOGRAPHY_LEVELS,
        Geography,
        fetch_geography,
        load_geography,
    )
    from socecon_geo.growth import (  # noqa: F401
        Trajectory,
        births_and_deaths,
        doubling_trajectory,
        required_rate,
    )
    from socecon_geo.hotspot_stats import (  # noqa: F401
        HotspotResult,
        hotspot_grid,
        hotspots,
    )
    from socecon_geo.lookups import (  # noqa: F401
        convert_lsoa_codes,
        read_lsoa_lookup,
    )
    from socecon_geo.maps import (  # noqa: F401
        render_map,
        save_map,
    )
    from socecon_geo.partitioned import (  # noqa: F401
        assign_areas_partitioned,
        attach_deprivation_partitioned,
        geocode_partitioned,
        read_organisations_partitioned,
        summarise_areas_partitioned,
    )
    from socecon_geo.pipeline import (  # noqa: F401
        Analysis,
        analyse,
    )
    from socecon_geo.population import (  # noqa: F401
        read_population,
    )
    from socecon_geo.postcodes import (  # noqa: F401
        normalise_postcode,
        normalise_postcodes,
        postcode_area,
        postcode_district,
        postcode_sector,
    )
    from socecon_geo.procurement import (  # noqa: F401
        SupplierMatch,
        match_suppliers,
    )
    from socecon_geo.provenance import (  # noqa: F401
        Provenance,
        attribution_lines,
        get_provenance,
    )
    from socecon_geo.ranking import (  # noqa: F401
        Candidates,
        rank_candidates,
    )
    from socecon_geo.registers import (  # noqa: F401
        ORGANISATION_COLUMNS,
        ORGANISATION_TYPES,
        combine_registers,
        read_organisations,
        sic_sections,
    )
    from socecon_geo.sample import (  # noqa: F401
        sample_organisations,
    )
    from socecon_geo.sites import (  # noqa: F401
        read_sites,
    )
    from socecon_geo.size import (  # noqa: F401
        SizeResult,
        social_economy_size,
    )
    from socecon_geo.snapshots import (  # noqa: F401
        SnapshotComparison,
        compare_snapshots,
    )
    from socecon_geo.summaries import (  # noqa: F401
        summarise_areas,
    )
    from socecon_geo.supply_chains import (  # noqa: F401
        supply_chain_table,
    )
    from socecon_geo.tables import (  # noqa: F401
        accessible_table,
        write_tables,
    )


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        msg = f"module 'socecon_geo' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

"""Registry of the public datasets socecon_geo reads or downloads.

Each dataset is described once here: where it is published (one or more URLs, tried in
order), what a valid copy looks like (expected row count, required headings), its vintage,
and the licence and attribution line that must travel with it to maps and reports.

Where a dataset comes from, in order of precedence:

1. an explicit ``path=`` given to the function that reads it;
2. the environment variable ``SOCECON_GEO_<NAME>`` (for example
   ``SOCECON_GEO_IOD2025=/data/File_7.csv``), pointing to a local file;
3. a validated copy in the download cache, ``cache_dir() / "datasets" / <name>``;
4. a fresh download from the official URL, validated before it is cached.

The registry entries are frozen dataclasses held in plain dictionaries
(:data:`DATASETS`, :data:`BOUNDARY_SERVICES`). To point at a moved file or a newer
service, replace an entry, e.g.
``DATASETS["iod2025"] = dataclasses.replace(DATASETS["iod2025"], urls=(new_url,))``.

Examples
--------
>>> from socecon_geo.datasets import get_dataset
>>> iod = get_dataset("iod2025")
>>> iod.expected_rows
33755
>>> iod.env_var
'SOCECON_GEO_IOD2025'
>>> get_boundary_service("ward").code_field
'WD24CD'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from socecon_geo._errors import InputError
from socecon_geo._http import cache_dir
from socecon_geo.provenance import Provenance

__all__ = [
    "BOUNDARY_SERVICES",
    "DATASETS",
    "ONS_ARCGIS_SERVICES",
    "BoundaryService",
    "DatasetFile",
    "get_boundary_service",
    "get_dataset",
    "local_override",
]

OGL = "Open Government Licence v3.0"

ONS_ARCGIS_SERVICES = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
"""Root of the ONS Open Geography Portal's ArcGIS REST feature services."""

ONS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0"
)
"""The attribution line of ONS statistics and lookups."""

ONS_BOUNDARY_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence "
    "v.3.0. Contains OS data © Crown copyright and database right."
)
"""The attribution line of ONS boundaries."""


_T = TypeVar("_T")


def _env_name(name: str) -> str:
    return "SOCECON_GEO_" + "".join(ch if ch.isalnum() else "_" for ch in name.upper())


@dataclass(frozen=True)
class DatasetFile:
    """A dataset published as one downloadable file.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"iod2025"``; also names the environment variable
        (``SOCECON_GEO_IOD2025``) and the cache folder.
    title : str
        Human-readable title.
    urls : tuple of str
        Official download addresses, tried in order (later ones are fallbacks).
    filename : str
        File name used in the cache.
    vintage : str
        Edition of the data, e.g. ``"IoD2025 (LSOA 2021)"``.
    licence : str
        Licence of the data.
    attribution : str
        Attribution line to show wherever the data is used.
    expected_rows : int or None
        Number of data rows a complete official copy has; ``None`` skips the check.
    required_headings : tuple of str
        Official column headings (matched by normalised prefix) a valid copy must carry.
    homepage : str or None
        Where the dataset is documented.
    publisher : str
        Who publishes it (the Ministry of Housing, Communities and Local Government for
        the Indices of Deprivation).
    """

    name: str
    title: str
    urls: tuple[str, ...]
    filename: str
    vintage: str
    licence: str
    attribution: str
    expected_rows: int | None = None
    required_headings: tuple[str, ...] = ()
    homepage: str | None = None
    publisher: str = "Ministry of Housing, Communities and Local Government"

    @property
    def env_var(self) -> str:
        """Name of the environment variable that overrides the download with a local file."""
        return _env_name(self.name)

    def cache_path(self) -> Path:
        """Return where a validated download of this dataset is cached."""
        return cache_dir() / "datasets" / self.name / self.filename

    def provenance(self, source: str | None = None) -> Provenance:
        """Return the dataset's provenance record; ``source`` says where this copy came from."""
        return Provenance(
            name=self.name,
            title=self.title,
            publisher=self.publisher,
            vintage=self.vintage,
            licence=self.licence,
            attribution=self.attribution,
            url=self.urls[0] if self.urls else None,
            source=source,
        )


@dataclass(frozen=True)
class BoundaryService:
    """An ONS boundary layer published as an ArcGIS REST feature service.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"ward_boundaries"``; names the environment variable
        (``SOCECON_GEO_WARD_BOUNDARIES``) that may hold a local file or another service's
        query URL.
    level : str
        Area level: ``"lsoa21"``, ``"lsoa11"``, ``"msoa21"``, ``"ward"`` or ``"lad"``.
    title : str
        Human-readable title.
    services : tuple of str
        Feature-service names tried in order. ONS renames services now and then, so
        later entries are fallbacks.
    code_field, name_field : str
        Fields holding the area code and name.
    lad_field, lad_name_field : str or None
        Fields holding the local authority district code and name, where the layer has
        them (the LSOA and MSOA layers do not).
    vintage : str
        Edition of the boundaries.
    licence, attribution : str
        Licence and attribution line.
    base_url : str
        Root of the ArcGIS REST services.
    layer : int
        Layer number inside the feature service.
    page_size : int
        Features asked for per request (the ONS servers cap a page at 2,000).
    publisher : str
        Who publishes the layer.
    """

    name: str
    level: str
    title: str
    services: tuple[str, ...]
    code_field: str
    name_field: str
    lad_field: str | None
    lad_name_field: str | None
    vintage: str
    licence: str = OGL
    attribution: str = ONS_BOUNDARY_ATTRIBUTION
    base_url: str = ONS_ARCGIS_SERVICES
    layer: int = 0
    page_size: int = 2000
    publisher: str = "Office for National Statistics"

    @property
    def env_var(self) -> str:
        """Name of the environment variable overriding the service (file path or URL)."""
        return _env_name(self.name)

    def query_urls(self) -> tuple[str, ...]:
        """Return the ``.../FeatureServer/<layer>/query`` address of every service name."""
        root = self.base_url.rstrip("/")
        return tuple(f"{root}/{svc}/FeatureServer/{self.layer}/query" for svc in self.services)

    def provenance(self, source: str | None = None) -> Provenance:
        """Return the layer's provenance record; ``source`` says where this copy came from."""
        urls = self.query_urls()
        return Provenance(
            name=self.name,
            title=self.title,
            publisher=self.publisher,
            vintage=self.vintage,
            licence=self.licence,
            attribution=self.attribution,
            url=urls[0] if urls else None,
            source=source,
        )


def ons_record(
    name: str,
    title: str,
    *,
    vintage: str,
    source: str | None = None,
    url: str | None = None,
    attribution: str = ONS_ATTRIBUTION,
) -> Provenance:
    """Return a provenance record for an ONS dataset (Open Government Licence v3.0).

    Examples
    --------
    >>> ons_record("lsoa_lookup", "LSOA (2011) to LSOA (2021) lookup", vintage="2022").publisher
    'Office for National Statistics'
    """
    return Provenance(
        name=name,
        title=title,
        publisher="Office for National Statistics",
        vintage=vintage,
        licence=OGL,
        attribution=attribution,
        url=url,
        source=source,
    )


_IOD2025_FILE = "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
_IOD2019_FILE = "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"

DATASETS: dict[str, DatasetFile] = {
    "iod2025": DatasetFile(
        name="iod2025",
        title="English Indices of Deprivation 2025, File 7: all ranks, scores, deciles "
        "and population denominators (LSOA 2021)",
        urls=(
            "https://assets.publishing.service.gov.uk/media/68ff5daabcb10f6bf9bef911/"
            + _IOD2025_FILE,
            "https://assets.publishing.service.gov.uk/media/691ded56d140bbbaa59a2a7d/"
            + _IOD2025_FILE,
        ),
        filename=_IOD2025_FILE,
        vintage="IoD2025 (LSOA 2021)",
        licence=OGL,
        attribution="Ministry of Housing, Communities and Local Government, English "
        "Indices of Deprivation 2025, Open Government Licence v3.0.",
        expected_rows=33_755,
        required_headings=(
            "LSOA code (2021)",
            "Index of Multiple Deprivation (IMD) Score",
            "Index of Multiple Deprivation (IMD) Rank",
            "Index of Multiple Deprivation (IMD) Decile",
        ),
        homepage="https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
    ),
    "iod2019": DatasetFile(
        name="iod2019",
        title="English Indices of Deprivation 2019, File 7: all scores, ranks, deciles "
        "and population denominators (LSOA 2011)",
        urls=(
            "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
            "attachment_data/file/845345/" + _IOD2019_FILE,
        ),
        filename=_IOD2019_FILE,
        vintage="IoD2019 (LSOA 2011)",
        licence=OGL,
        attribution="Ministry of Housing, Communities and Local Government, English "
        "Indices of Deprivation 2019, Open Government Licence v3.0.",
        expected_rows=32_844,
        required_headings=(
            "LSOA code (2011)",
            "Index of Multiple Deprivation (IMD) Score",
            "Index of Multiple Deprivation (IMD) Rank",
            "Index of Multiple Deprivation (IMD) Decile",
        ),
        homepage="https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
    ),
}
"""Downloadable single-file datasets, by name."""

BOUNDARY_SERVICES: dict[str, BoundaryService] = {
    "lsoa21": BoundaryService(
        name="lsoa21_boundaries",
        level="lsoa21",
        title="Lower layer Super Output Areas (December 2021) Boundaries EW BGC (V5)",
        services=("Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5",),
        code_field="LSOA21CD",
        name_field="LSOA21NM",
        lad_field=None,
        lad_name_field=None,
        vintage="LSOA December 2021, generalised (20 m), clipped",
    ),
    "lsoa11": BoundaryService(
        name="lsoa11_boundaries",
        level="lsoa11",
        title="Lower layer Super Output Areas (December 2011) Boundaries EW BGC (V3)",
        services=(
            "LSOA_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3",
            "Lower_Layer_Super_Output_Areas_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3",
        ),
        code_field="LSOA11CD",
        name_field="LSOA11NM",
        lad_field=None,
        lad_name_field=None,
        vintage="LSOA December 2011, generalised (20 m), clipped",
    ),
    "msoa21": BoundaryService(
        name="msoa21_boundaries",
        level="msoa21",
        title="Middle layer Super Output Areas (December 2021) Boundaries EW BGC (V3)",
        services=(
            "Middle_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V3",
            "MSOA_2021_EW_BGC_V2",
        ),
        code_field="MSOA21CD",
        name_field="MSOA21NM",
        lad_field=None,
        lad_name_field=None,
        vintage="MSOA December 2021, generalised (20 m), clipped",
    ),
    "ward": BoundaryService(
        name="ward_boundaries",
        level="ward",
        title="Wards (December 2024) Boundaries UK BGC",
        services=("Wards_December_2024_Boundaries_UK_BGC", "WD_DEC_2024_UK_BGC"),
        code_field="WD24CD",
        name_field="WD24NM",
        lad_field="LAD24CD",
        lad_name_field="LAD24NM",
        vintage="Wards December 2024, generalised (20 m), clipped",
    ),
    "lad": BoundaryService(
        name="lad_boundaries",
        level="lad",
        title="Local Authority Districts (December 2024) Boundaries UK BGC",
        services=(
            "Local_Authority_Districts_December_2024_Boundaries_UK_BGC",
            "LAD_DEC_2024_UK_BGC",
        ),
        code_field="LAD24CD",
        name_field="LAD24NM",
        lad_field="LAD24CD",
        lad_name_field="LAD24NM",
        vintage="Local Authority Districts December 2024, generalised (20 m), clipped",
    ),
}
"""ONS boundary feature services, by area level."""


def get_dataset(name: str) -> DatasetFile:
    """Return the registry entry of a downloadable dataset.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"iod2025"`` or ``"iod2019"`` (case-insensitive).

    Returns
    -------
    DatasetFile

    Raises
    ------
    InputError
        If the name is not in :data:`DATASETS`.

    Examples
    --------
    >>> get_dataset("IoD2019").vintage
    'IoD2019 (LSOA 2011)'
    """
    return _entry(DATASETS, name, "dataset {!r}; known datasets are", sort=True)


def get_boundary_service(level: str) -> BoundaryService:
    """Return the registry entry of the ONS boundary service for an area level.

    Parameters
    ----------
    level : {"lsoa21", "ward", "lad"}
        Area level.

    Returns
    -------
    BoundaryService

    Raises
    ------
    InputError
        If the level is not in :data:`BOUNDARY_SERVICES`.
    """
    return _entry(BOUNDARY_SERVICES, level, "boundary level {!r}; choose one of")


def _entry(registry: dict[str, _T], name: str, unknown: str, *, sort: bool = False) -> _T:
    """Look ``name`` up in ``registry`` (case-insensitive), or raise naming the known keys."""
    key = str(name).strip().lower()
    if key not in registry:
        known = sorted(registry) if sort else list(registry)
        msg = f"unknown {unknown.format(name)} {', '.join(repr(k) for k in known)}"
        raise InputError(msg)
    return registry[key]


def local_override(
    env_var: str, path: str | os.PathLike[str] | None = None, *, what: str = "dataset"
) -> Path | None:
    """Return the local file to use instead of a download, if one was given.

    Parameters
    ----------
    env_var : str
        Environment variable consulted when ``path`` is None.
    path : path-like, optional
        An explicit local file; it wins over the environment variable.
    what : str
        What the file is, for the error message.

    Returns
    -------
    pathlib.Path or None
        The local file, or None when neither ``path`` nor the variable is set.

    Raises
    ------
    InputError
        If the file named by ``path`` or the environment variable does not exist (or is
        a folder).

    Examples
    --------
    >>> local_override("SOCECON_GEO_NO_SUCH_VARIABLE") is None
    True
    """
    if path is not None:
        origin = "path="
        candidate = Path(path).expanduser()
        fix = "Check the path, or leave path= out to use the official file."
    else:
        value = os.environ.get(env_var, "").strip()
        if not value:
            return None
        origin = f"environment variable {env_var}"
        candidate = Path(value).expanduser()
        fix = f"Check the path, or unset {env_var} to download the official file."
    if not candidate.is_file():
        what_is_there = "is a folder, not a file" if candidate.is_dir() else "does not exist"
        msg = f"the {what} file given by {origin} {what_is_there}: '{candidate}'. {fix}"
        raise InputError(msg)
    return candidate

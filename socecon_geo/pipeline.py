"""The whole analysis in one call: :func:`analyse` and the :class:`Analysis` it returns.

:func:`analyse` composes the steps a user would otherwise call one by one::

    read_organisations (and combine_registers) → geocode → assign_areas
    → attach_deprivation → summarise_areas → find_clusters → hotspots → rank_candidates

with one :class:`~socecon_geo.Geography` for all of them. The :class:`Analysis` holds
every intermediate result, the options used and the provenance of every source; it draws
the map (:meth:`Analysis.map`) and writes the folder of outputs a planner opens
(:meth:`Analysis.save`), with a report of what was done, with which data, and what was
flagged and why.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import geopandas as gpd
import pandas as pd

from socecon_geo import __version__
from socecon_geo._errors import InputError, Problems
from socecon_geo._progress import Progress
from socecon_geo._report import build_report, summary_text
from socecon_geo._save import GEOPACKAGE_LAYERS, OUTPUT_FILES, file_sha256, save_analysis
from socecon_geo.areas import assign_areas
from socecon_geo.attach import attach_deprivation
from socecon_geo.clusters import ClusterResult, find_clusters
from socecon_geo.deprivation import read_deprivation
from socecon_geo.geocoding import Geocoder, GeocodingReport, geocode, geocoding_report
from socecon_geo.geography import GEOGRAPHY_LEVELS, Geography, Level, resolve_geography
from socecon_geo.growth import Trajectory, births_and_deaths, doubling_trajectory
from socecon_geo.hotspot_stats import HotspotResult
from socecon_geo.hotspot_stats import hotspots as find_hotspots
from socecon_geo.maps import render_map
from socecon_geo.procurement import SupplierMatch, match_suppliers
from socecon_geo.provenance import Provenance, combine_provenance, get_provenance
from socecon_geo.ranking import Candidates, rank_candidates
from socecon_geo.registers import ORGANISATION_COLUMNS, combine_registers, read_organisations
from socecon_geo.sites import read_sites
from socecon_geo.size import SizeResult, measures_with_values, social_economy_size
from socecon_geo.summaries import summarise_areas

if TYPE_CHECKING:
    import folium

__all__ = [
    "GEOPACKAGE_LAYERS",
    "OUTPUT_FILES",
    "STEPS",
    "Analysis",
    "analyse",
    "file_sha256",
]

STEPS: Final[tuple[str, ...]] = (
    "read",
    "geocode",
    "areas",
    "deprivation",
    "summaries",
    "clusters",
    "hotspots",
    "ranking",
    "size",
    "growth",
    "suppliers",
)
"""The steps of :func:`analyse`, in order (the keys of :attr:`Analysis.timings`)."""

# the keywords each step takes from the options of analyse (the rest are analyse's own)
_OWN_KEYWORDS: Final[dict[str, frozenset[str]]] = {
    "read_options": frozenset({"source", "register"}),
    "clustering": frozenset({"points", "geography", "seed"}),
    "hotspots": frozenset({"areas", "seed"}),
    "size": frozenset({"points", "geography"}),
    "growth": frozenset({"points", "geography", "baseline"}),
    "suppliers": frozenset({"sites", "organisations"}),
}
_STEP_FUNCTIONS: Final[dict[str, Any]] = {
    "read_options": read_organisations,
    "clustering": find_clusters,
    "hotspots": find_hotspots,
    "size": social_economy_size,
    "growth": births_and_deaths,
    "suppliers": match_suppliers,
}
# growth= also takes these keywords of doubling_trajectory
_TRAJECTORY_KEYWORDS: Final = frozenset({"baseline_year", "target_multiple", "target_years"})
_EDITIONS: Final = ("iod2025", "iod2019")
_EDITION_LSOA_VINTAGE: Final = {"iod2025": 2021, "iod2019": 2011}


@dataclass(frozen=True, repr=False)
class Analysis:
    """Everything :func:`analyse` found, and the means to show and save it.

    Attributes
    ----------
    organisations : pandas.DataFrame
        The organisations as read (several registers combined, ``duplicate_of`` set),
        one row per input row.
    points : geopandas.GeoDataFrame
        Every organisation, in the input's order, with the columns of every step:
        ``geocode_status``, ``position_quality``, the area codes and ``area_status``,
        the IMD and ``deprivation_status``, ``cluster_id`` and ``cluster_status``.
    areas : geopandas.GeoDataFrame
        The area summary at ``level`` (every area, zeros included) with the hot-spot
        columns (``hotspot_class``, ``hotspot_z``, ``hotspot_p_fdr``, …).
    clusters : ClusterResult
        The density clusters.
    hotspots : HotspotResult
        The hot and cold spots of the area summary.
    candidates : Candidates
        The ranked strengths (clusters) and gaps (areas).
    geography : Geography
        The geography used.
    geocoding : GeocodingReport
        Counts by geocoding status, with examples of the failures.
    parameters : dict
        The options of every step, the library version and the date of the run.
    provenance : tuple of Provenance
        Every source used, each once.
    timings : dict
        Seconds spent in each of :data:`STEPS`.
    size : SizeResult or None
        The size of the social economy by area (:func:`socecon_geo.social_economy_size`);
        None when switched off.
    growth : pandas.DataFrame or None
        Births, deaths and the active stock by year and area
        (:func:`socecon_geo.births_and_deaths`); None when no organisation has a
        registration date, or when switched off.
    trajectory : Trajectory or None
        The path to doubling from a baseline year (:func:`socecon_geo.doubling_trajectory`
        on the stock); None without ``growth``.
    suppliers : SupplierMatch or None
        The social suppliers within reach of each investment site
        (:func:`socecon_geo.match_suppliers`); None without ``sites``.
    """

    organisations: pd.DataFrame
    points: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    clusters: ClusterResult
    hotspots: HotspotResult
    candidates: Candidates
    geography: Geography
    geocoding: GeocodingReport
    parameters: dict[str, Any] = field(default_factory=dict)
    provenance: tuple[Provenance, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    size: SizeResult | None = None
    growth: pd.DataFrame | None = None
    trajectory: Trajectory | None = None
    suppliers: SupplierMatch | None = None

    def __repr__(self) -> str:
        return (
            f"Analysis({len(self.points):,} organisations, {len(self.areas):,} "
            f"{self.parameters.get('level')} areas, {len(self.clusters.clusters)} clusters, "
            f"{len(self.candidates.gaps):,} gap candidates; geography "
            f"{self.geography.name!r})"
        )

    def map(self, **kwargs: Any) -> folium.Map:
        """Draw the interactive map of every result (:func:`socecon_geo.render_map`).

        Parameters
        ----------
        **kwargs
            Passed to :func:`socecon_geo.render_map` (``tiles``, ``title``,
            ``max_markers``, ``table_link``, …); they override what the analysis sets.

        Returns
        -------
        folium.Map
        """
        options: dict[str, Any] = {
            "areas": self.areas,
            "hotspots": self.hotspots,
            "candidates": self.candidates,
            "geography": self.geography,
            "deprivation": self._map_edition(),
            "title": self.parameters.get("title"),
            "size": self.size,
            "sites": self.suppliers,
            **kwargs,
        }
        return render_map(self.points, **options)

    def explore(self, **kwargs: Any) -> folium.Map:
        """Draw the map: the same as :meth:`map` (the name geopandas users reach for)."""
        return self.map(**kwargs)

    def _map_edition(self) -> str | None:
        edition = self.parameters.get("deprivation")
        editions = self.geography.editions
        if edition in editions:
            return str(edition)
        return editions[0] if editions else None

    def report(self) -> dict[str, Any]:
        """Return the report: what was done, with which data, what was flagged and why.

        Returns
        -------
        dict
            JSON-ready: ``inputs`` (each register file: rows read, rows set aside by
            its filters), ``parameters``, ``sources`` (the provenance records),
            ``statuses`` (for each status column, the count of every value, zeros
            included, with its meaning; each sums to the organisations), ``clusters``,
            ``hotspots``, ``candidates`` (top strengths and gaps with their
            explanations), ``flags`` (what to check, and why) and ``outputs``.
        """
        return build_report(self)

    def summary(self) -> str:
        """Return a few lines of plain text on the run, for a terminal.

        Every status word it prints is explained in the same text.
        """
        return summary_text(self)

    def save(
        self,
        directory: str | os.PathLike[str],
        *,
        map_assets: str | os.PathLike[str] | None = None,
        raw_csv: bool = False,
    ) -> dict[str, Path]:
        """Write the folder of outputs a planner opens.

        The files (see :data:`OUTPUT_FILES`): ``map.html`` (linking to the accessible
        ``tables.html``), ``tables.html`` with ``strengths.csv``, ``gaps.csv`` and
        ``areas.csv``, ``candidates.csv`` (both lenses in one table),
        ``analysis.gpkg`` (layers ``organisations``, ``areas``, ``clusters``,
        ``gaps``), ``figure.png`` and ``figure.svg``, ``report.md`` and
        ``report.json``, and last ``run.json`` (the version, date, inputs with their
        SHA-256, parameters, and every file written with its SHA-256: present only
        when the folder is complete). Each is written whole through a temporary file
        and renamed, so a reader (or a run killed at any moment) never sees half of
        one. The same analysis gives byte-identical files (the map's element ids are
        numbered, the GeoPackage's timestamps are the run's date; ``run.json`` holds
        no times of day).

        Parameters
        ----------
        directory : path
            The folder; created (with its parents) when absent. Files of the same names
            in it are replaced; other files are left alone.
        map_assets : path, optional
            A folder of the Leaflet files (see :func:`socecon_geo.save_map`): written into
            ``map.html``, which then needs no network with ``tiles=None``.
        raw_csv : bool, default False
            Write text in the CSV files as it is. By default text a spreadsheet would
            run as a formula (beginning ``=``, ``+``, ``-``, ``@``, a tab or a carriage
            return) is prefixed with ``'``; the GeoPackage always keeps the raw text.

        Returns
        -------
        dict of str to pathlib.Path
            The keys of :data:`OUTPUT_FILES` → the files written.

        Raises
        ------
        InputError
            If ``directory`` is an existing file, or cannot be created.
        """
        return save_analysis(self, directory, map_assets=map_assets, raw_csv=raw_csv)


def _input_files(
    sources: Sequence[Any], deprivation: Any, read_options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Name, size and SHA-256 of every file the analysis read (frames: their rows)."""
    given: list[tuple[str, Any]] = [("register", source) for source in sources]
    if isinstance(deprivation, Path):
        given.append(("deprivation", deprivation))
    if isinstance(read_options.get("economy"), str | os.PathLike):
        given.append(("economy", read_options["economy"]))
    out: list[dict[str, Any]] = []
    for role, item in given:
        if isinstance(item, pd.DataFrame):
            out.append({"role": role, "name": "DataFrame", "rows": len(item)})
            continue
        if not isinstance(item, str | os.PathLike):
            continue  # reading it says what is wrong
        path = Path(item)
        record: dict[str, Any] = {"role": role, "name": path.name, "path": str(item)}
        if path.is_file():
            record.update(bytes=path.stat().st_size, sha256=file_sha256(path))
        out.append(record)
    return out


# ---------------------------------------------------------------------- checking options


def _check_step_options(name: str, options: Any, problems: Problems) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        problems.add(f"{name} must be a dict of keyword arguments, not {type(options).__name__}")
        return {}
    function = _STEP_FUNCTIONS[name]
    accepted = set(inspect.signature(function).parameters) - _OWN_KEYWORDS[name]
    unknown = sorted(str(key) for key in options if key not in accepted)
    if unknown:
        problems.add(
            f"{name} has {', '.join(map(repr, unknown))}, which {function.__name__} does not "
            f"take; it takes {', '.join(sorted(accepted))}"
        )
    return {str(key): value for key, value in options.items() if key in accepted}


def _check_deprivation(deprivation: Any, problems: Problems) -> Any:
    if isinstance(deprivation, pd.DataFrame):
        return deprivation
    if isinstance(deprivation, str) and deprivation.strip().lower() in _EDITIONS:
        return deprivation.strip().lower()
    if isinstance(deprivation, str | os.PathLike):
        path = Path(deprivation)
        if path.is_file():
            return path
        problems.add(
            f"deprivation={str(deprivation)!r} is neither 'iod2025', 'iod2019' nor an existing "
            "file; name an edition or the path of an IoD file"
        )
        return None
    problems.add(
        "deprivation must be 'iod2025', 'iod2019', a path or a frame from "
        f"read_deprivation, not {type(deprivation).__name__}"
    )
    return None


def _check_vintage_fits(deprivation: str | pd.DataFrame, level: str, problems: Problems) -> None:
    """Refuse an index by LSOA 2011 for wards, MSOAs and authorities (counted by LSOA 2021)."""
    if isinstance(deprivation, str):
        vintage = _EDITION_LSOA_VINTAGE.get(deprivation)
        label = deprivation
    else:
        vintage = deprivation.attrs.get("lsoa_vintage")
        label = str(deprivation.attrs.get("vintage", "the deprivation table"))
    if vintage is not None and int(vintage) == 2011 and level != "lsoa11":
        problems.add(
            f"deprivation {label} is by LSOA 2011, so it can describe only LSOA 2011 areas, "
            f"not level={level!r} (whose residents are counted by LSOA 2021); use "
            "level='lsoa11' with it, or deprivation='iod2025' for wards, MSOAs and "
            "authorities"
        )


def _sources(organisations: Any) -> list[Any]:
    if isinstance(organisations, pd.DataFrame | str | os.PathLike):
        return [organisations]
    if isinstance(organisations, Sequence) and not isinstance(organisations, bytes):
        items = list(organisations)
        if not items:
            msg = "analyse needs organisations: the list of registers is empty."
            raise InputError(msg)
        return items
    msg = (
        "analyse needs organisations as a register path, a list of paths, or a DataFrame "
        f"(e.g. from read_organisations), not {type(organisations).__name__}."
    )
    raise InputError(msg)


def _read(
    source: Any, register: str | None, options: dict[str, Any], progress: bool = False
) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        if set(ORGANISATION_COLUMNS) <= set(source.columns):
            return source  # already read
        return read_organisations(source, register=register, **options)  # type: ignore[arg-type]
    if isinstance(source, str | os.PathLike):
        options = {"progress": progress, **options}
        return read_organisations(source, register=register, **options)  # type: ignore[arg-type]
    msg = (
        "analyse needs each register as a path or a DataFrame; item "
        f"{source!r} is a {type(source).__name__}."
    )
    raise InputError(msg)


def _distinct_row_ids(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Give positional ids (``row:<n>``, of files without an id column) their register.

    ``row:3`` of one file and ``row:3`` of another are different organisations; they
    become ``<k>:<file name>:row:3`` (``k`` the register's place in the list), so that
    :func:`combine_registers` can tell them apart. Other ids are kept as they are.
    """
    out = []
    for number, frame in enumerate(frames, start=1):
        ids = frame["org_id"].astype("string")
        positional = ids.str.startswith("row:").fillna(False).to_numpy(dtype=bool)
        if positional.any():
            source = Path(str(frame.attrs.get("source", "DataFrame"))).name
            frame = frame.copy()
            frame.loc[positional, "org_id"] = f"{number}:{source}:" + ids[positional]
        out.append(frame)
    return out


def _input_record(frame: pd.DataFrame) -> dict[str, Any]:
    attrs = frame.attrs
    filtered = {str(k): int(v) for k, v in dict(attrs.get("filtered_out") or {}).items()}
    return {
        "source": str(attrs.get("source", "DataFrame")),
        "register": attrs.get("register"),
        "rows_read": int(attrs.get("rows_read", len(frame) + sum(filtered.values()))),
        "organisations": len(frame),
        "set_aside": filtered,
    }


# ---------------------------------------------------------------------- the pipeline


def analyse(
    organisations: str | os.PathLike[str] | pd.DataFrame | Sequence[Any],
    *,
    register: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    geography: Geography | None = None,
    deprivation: str | os.PathLike[str] | pd.DataFrame = "iod2025",
    level: str = "ward",
    geocoder: Geocoder | None = None,
    clustering: Mapping[str, Any] | None = None,
    hotspots: Mapping[str, Any] | None = None,
    weights: Mapping[str, Mapping[str, float]] | None = None,
    size: Mapping[str, Any] | bool | None = None,
    growth: Mapping[str, Any] | bool | None = None,
    sites: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    suppliers: Mapping[str, Any] | None = None,
    seed: int = 0,
    title: str | None = None,
    progress: bool = True,
) -> Analysis:
    """Run the whole analysis: read, geocode, place, summarise, cluster, rank.

    The steps, each as its own function would do it with the options given here:
    :func:`~socecon_geo.read_organisations` (several registers combined by
    :func:`~socecon_geo.combine_registers`, duplicates marked and counted once),
    :func:`~socecon_geo.geocode`, :func:`~socecon_geo.assign_areas`,
    :func:`~socecon_geo.attach_deprivation`, :func:`~socecon_geo.summarise_areas` at
    ``level``, :func:`~socecon_geo.find_clusters`, :func:`~socecon_geo.hotspots` of the
    area summary, :func:`~socecon_geo.rank_candidates`. Every organisation stays in
    :attr:`Analysis.points`, with the status each step gave it.

    Parameters
    ----------
    organisations : path, DataFrame, or list of paths and DataFrames
        A register file, a frame in the organisation schema (from
        :func:`~socecon_geo.read_organisations`) or any frame it can read, or several
        of these (combined; rows of one organisation in two registers are marked with
        ``duplicate_of`` and counted once).
    register : {"coopsuk", "ccew", "companies_house", "generic"}, optional
        The register of the files (recognised from their headings by default).
    read_options : dict, optional
        Other keywords of :func:`~socecon_geo.read_organisations` (``encoding``,
        ``sheet_name``, ``decimal``, ``columns``, ``include_removed``,
        ``company_categories``, ``active_only``, …).
    geography : Geography, optional
        The study area's layers and tables; by default the bundled West Midlands one
        (:func:`~socecon_geo.load_geography`).
    deprivation : {"iod2025", "iod2019"}, path or DataFrame, default "iod2025"
        The Indices of Deprivation: an edition the geography holds, an IoD file, or a
        frame from :func:`~socecon_geo.read_deprivation`.
    level : {"ward", "lsoa21", "lsoa11", "msoa21", "lad"}, default "ward"
        The areas summarised, tested for hot spots and ranked as gaps.
    geocoder : Geocoder, optional
        By default the offline postcode table of the geography's region.
    clustering : dict, optional
        Keywords of :func:`~socecon_geo.find_clusters` (``method``,
        ``min_organisations``, ``distance_m``, …).
    hotspots : dict, optional
        Keywords of :func:`~socecon_geo.hotspots` (``variable``, ``method``,
        ``weights``, ``permutations``, ``alpha``, ``fdr``, …).
    weights : dict, optional
        The ranking weights (:func:`~socecon_geo.rank_candidates`).
    size : dict or False, optional
        Keywords of :func:`~socecon_geo.social_economy_size` (``level``, default the
        analysis's; ``measures``, by default the count and whichever of ``income`` and
        ``employees`` some organisation has; ``active_only``, ``national_threshold``,
        ``gva_ratio``, …); False skips the step.
    growth : dict or False, optional
        Keywords of :func:`~socecon_geo.births_and_deaths` (``level``, default
        ``"lad"``; ``years``) and of :func:`~socecon_geo.doubling_trajectory`
        (``baseline_year``, by default the last complete year; ``target_multiple``,
        default 2; ``target_years``, its ``years``, default 10). The step runs when some
        organisation has a registration date (``registered_on``); False skips it.
    sites : path or GeoDataFrame, optional
        Investment sites (a brownfield land register, GeoJSON / GeoPackage, a CSV with
        coordinates or postcodes: :func:`~socecon_geo.read_sites`, or its frame): the
        social suppliers within reach of each are found
        (:func:`~socecon_geo.match_suppliers`).
    suppliers : dict, optional
        Keywords of :func:`~socecon_geo.match_suppliers` (``programme``, also given to
        ``read_sites``; ``bands_m``; ``supply_chains``; ``max_per_site``; ``k``).
    seed : int, default 0
        The seed of every random step (the hot spots' permutations); the same inputs
        and seed give the same results and the same saved files.
    title : str, optional
        The title of the map, the figure and the report; by default one naming the
        geography.
    progress : bool, default True
        Report each step on standard error as it starts, and the reading of each
        register file as it goes (``read_organisations(..., progress=True)``).

    Returns
    -------
    Analysis

    Raises
    ------
    InputError
        If an option is wrong (all such problems are reported together), a file cannot
        be read, or a step finds its input unusable; the message says what and where.

    Examples
    --------
    >>> import socecon_geo as sg
    >>> result = sg.analyse(sg.sample_organisations(300, seed=1), progress=False)
    >>> len(result.points)
    300
    >>> sorted(result.timings) == sorted(sg.pipeline.STEPS)
    True
    """
    problems = Problems("analyse")
    if level not in GEOGRAPHY_LEVELS:
        problems.add(f"level={level!r} is not one of {', '.join(GEOGRAPHY_LEVELS)}")
    if geography is not None and not isinstance(geography, Geography):
        problems.add(
            f"geography must be a Geography (e.g. load_geography()), not {type(geography).__name__}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.add(f"seed must be an integer, not {seed!r}")
    if register is not None and not isinstance(register, str):
        problems.add(f"register must be a register name, not {register!r}")
    deprivation_source = _check_deprivation(deprivation, problems)
    read_kwargs = _check_step_options("read_options", read_options, problems)
    cluster_kwargs = _check_step_options("clustering", clustering, problems)
    hotspot_kwargs = _check_step_options("hotspots", hotspots, problems)
    size_kwargs = None if size is False else _check_step_options("size", _on(size), problems)
    supplier_kwargs = _check_step_options("suppliers", suppliers, problems)
    if sites is not None and not isinstance(sites, str | os.PathLike | gpd.GeoDataFrame):
        problems.add(
            f"sites must be a path or a GeoDataFrame from read_sites, not {type(sites).__name__}"
        )
    elif isinstance(sites, str | os.PathLike) and not Path(sites).is_file():
        problems.add(  # found before the other steps run, not after them
            f"sites={os.fspath(sites)!r} names no file; pass the path of the investment "
            "sites (a brownfield land register, GeoJSON, GeoPackage or CSV)"
        )
    growth_kwargs = (
        None if growth is False else _check_step_options("growth", _on(growth), problems)
    )
    if deprivation_source is not None and not isinstance(deprivation_source, Path):
        _check_vintage_fits(deprivation_source, level, problems)
    problems.raise_if_any(InputError)
    sources = _sources(organisations)
    input_files = _input_files(sources, deprivation_source, read_kwargs)
    geo = resolve_geography(geography)
    steps = Progress(len(STEPS), enabled=progress)

    with steps.step("read", f"{len(sources)} register{'s' if len(sources) > 1 else ''}"):
        frames = [_read(source, register, read_kwargs, progress) for source in sources]
        orgs = combine_registers(*_distinct_row_ids(frames)) if len(frames) > 1 else frames[0]
        if isinstance(deprivation_source, Path):
            deprivation_source = read_deprivation(deprivation_source)
            late = Problems("analyse")
            _check_vintage_fits(deprivation_source, level, late)
            late.raise_if_any(InputError)
    with steps.step("geocode", f"{len(orgs):,} organisations"):
        points = geocode(orgs, geocoder=geocoder)
        report = geocoding_report(points)
    with steps.step("areas"):
        points = assign_areas(points, geography=geo)
    with steps.step("deprivation"):
        points = attach_deprivation(points, deprivation_source, geography=geo)
    with steps.step("summaries", f"by {level}"):
        areas = summarise_areas(
            points, level=cast(Level, level), geography=geo, deprivation=deprivation_source
        )
    with steps.step("clusters"):
        clusters = find_clusters(points, geography=geo, seed=seed, **cluster_kwargs)
    with steps.step("hotspots", f"{len(areas):,} areas"):
        hot = find_hotspots(areas, seed=seed, **hotspot_kwargs)
    with steps.step("ranking"):
        candidates = rank_candidates(clusters, areas, hotspots=hot, weights=weights, geography=geo)
    with steps.step("size"):
        size_result = None if size_kwargs is None else _size(points, level, geo, size_kwargs)
    with steps.step("growth"):
        growth_table, trajectory, growth_note = _growth(points, geo, growth_kwargs)
    with steps.step("suppliers"):
        supplier_match = None if sites is None else _suppliers(sites, points, supplier_kwargs)

    edition = (
        deprivation_source
        if isinstance(deprivation_source, str)
        else str(deprivation_source.attrs.get("vintage", "file"))
    )
    parameters: dict[str, Any] = {
        "socecon_geo": __version__,
        "date": dt.date.today().isoformat(),
        "geography": geo.name,
        "registers": [_input_record(frame) for frame in frames],
        "register": register,
        "read_options": _plain(read_kwargs),
        "deprivation": edition,
        "level": level,
        "geocoder": type(geocoder).__name__ if geocoder is not None else "offline (bundled)",
        "clustering": _plain(clusters.params),
        "hotspots": _plain(hot.attrs),
        "ranking": _plain(candidates.weights),
        "size": None if size_result is None else _plain(size_result.params),
        "growth": growth_note,
        "suppliers": None if supplier_match is None else _plain(supplier_match.parameters),
        "seed": seed,
        "input_files": input_files,
        "title": title
        or f"Social economy of {geo.name}"
        + (" (synthetic sample organisations)" if _synthetic(orgs) else ""),
    }
    provenance = combine_provenance(
        orgs,
        points,
        areas,
        clusters.clusters,
        hot.areas,
        candidates.strengths,
        candidates.gaps,
        *geo.provenance,
        *(() if supplier_match is None else (supplier_match.sites,)),
    )
    return Analysis(
        organisations=orgs,
        points=clusters.points,
        areas=hot.areas,
        clusters=clusters,
        hotspots=hot,
        candidates=candidates,
        geography=geo,
        geocoding=report,
        parameters=parameters,
        provenance=provenance,
        timings=dict(steps.timings),
        size=size_result,
        growth=growth_table,
        trajectory=trajectory,
        suppliers=supplier_match,
    )


def _on(options: Mapping[str, Any] | bool | None) -> Mapping[str, Any] | None:
    return None if options is True else options  # type: ignore[return-value]


def _size(
    points: gpd.GeoDataFrame, level: str, geo: Geography, options: dict[str, Any]
) -> SizeResult:
    """Run the size step at the analysis's level, on the measures some organisation has."""
    given = dict(options)
    given.setdefault("measures", measures_with_values(points))
    given.setdefault("level", level)
    return social_economy_size(points, geography=geo, **given)


def _growth(
    points: gpd.GeoDataFrame, geo: Geography, options: dict[str, Any] | None
) -> tuple[pd.DataFrame | None, Trajectory | None, dict[str, Any]]:
    """Run the growth step: births, deaths and stock, and the path to doubling from them."""
    if options is None:
        return None, None, {"ran": False, "why": "switched off (growth=False)"}
    if "registered_on" not in points or not points["registered_on"].notna().any():
        why = "no organisation has a registration date (registered_on)"
        return None, None, {"ran": False, "why": why}
    given = dict(options)
    trajectory_options = {k: given.pop(k) for k in list(given) if k in _TRAJECTORY_KEYWORDS}
    table = births_and_deaths(points, geography=geo, **{"level": "lad", **given})
    complete = table.loc[~table["partial_year"].astype(bool), "year"]
    baseline_year = trajectory_options.pop("baseline_year", None)
    if baseline_year is None and len(complete):
        baseline_year = int(complete.max())
    trajectory = None
    if baseline_year is not None:
        years = trajectory_options.pop("target_years", 10)
        trajectory = doubling_trajectory(
            table, baseline_year=int(baseline_year), years=years, **trajectory_options
        )
    note = {"ran": True, "level": table.attrs.get("level"), "baseline_year": baseline_year}
    return table, trajectory, note


def _suppliers(
    sites: str | os.PathLike[str] | gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    options: dict[str, Any],
) -> SupplierMatch:
    """Run the suppliers step: read the sites (unless a frame) and match them."""
    frame = (
        sites
        if isinstance(sites, gpd.GeoDataFrame)
        else read_sites(sites, programme=options.get("programme"))
    )
    return match_suppliers(frame, points, **options)


def _synthetic(frame: pd.DataFrame) -> bool:
    return any(record.name == "sample_organisations" for record in get_provenance(frame))


def _plain(value: Any) -> Any:
    """Return the JSON-ready form of an options record (numbers, text, lists, dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if k != "provenance"}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(v) for v in items]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)

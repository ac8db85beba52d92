"""One study area's geography: its layers, lookups, population and deprivation.

A :class:`Geography` holds everything the analysis steps need about a place, with the
provenance of each part:

* the area layers: LSOA 2021, LSOA 2011, MSOA 2021, electoral wards and local authority
  districts (``"lsoa21"``, ``"lsoa11"``, ``"msoa21"``, ``"ward"``, ``"lad"``), each a
  GeoDataFrame in EPSG:27700 with standard code and name columns;
* the ONS lookups: LSOA 2011 → 2021 (``lsoa_lookup``) and the LSOA 2021 → ward →
  authority best fit (``area_lookup``);
* residents by LSOA 2021 (Census 2021) and the English Indices of Deprivation (IoD2025 on
  LSOA 2021, IoD2019 on LSOA 2011).

:func:`load_geography` gives the bundled West Midlands Combined Authority (no file, no
network); :meth:`Geography.from_files` builds one from a user's official ONS boundary
files and :func:`fetch_geography` from the ONS feature services, for any English area.
The England-wide tables (lookups, population, deprivation) are always the bundled ones
unless others are passed.

:func:`socecon_geo.assign_areas`, :func:`socecon_geo.attach_deprivation` and
:func:`socecon_geo.summarise_areas` take ``geography=`` and use the bundled one by
default.

Parts are loaded when first used and kept: a Geography is cheap to make and to pass
around. What it hands out is a copy, so changing it never changes the Geography.

Examples
--------
>>> import socecon_geo as sg
>>> wmca = sg.load_geography()
>>> wmca.levels
('lsoa21', 'lsoa11', 'msoa21', 'ward', 'lad')
>>> len(wmca.layer("ward")), len(wmca.layer("msoa21"))
(192, 357)
>>> wmca.deprivation("iod2025").attrs["vintage"]
'iod2025'
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo.provenance import Provenance, attribution_lines, combine_provenance

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from socecon_geo.deprivation import Vintage

__all__ = [
    "GEOGRAPHY_LEVELS",
    "Geography",
    "fetch_geography",
    "load_geography",
]

Level = Literal["lsoa21", "lsoa11", "msoa21", "ward", "lad"]
Edition = Literal["iod2025", "iod2019"]

GEOGRAPHY_LEVELS: tuple[str, ...] = ("lsoa21", "lsoa11", "msoa21", "ward", "lad")
"""Area levels a :class:`Geography` can hold, finest first."""

_LEVEL_NAMES: Mapping[str, str] = {
    "lsoa21": "LSOA 2021",
    "lsoa11": "LSOA 2011",
    "msoa21": "MSOA 2021",
    "ward": "ward",
    "lad": "local authority district",
}
_CODE_COLUMN: Mapping[str, str] = {
    "lsoa21": "lsoa21_code",
    "lsoa11": "lsoa11_code",
    "msoa21": "msoa21_code",
    "ward": "ward_code",
    "lad": "lad_code",
}
LAYER_ARGUMENTS: Mapping[str, str] = {
    "lsoa21": "lsoas21",
    "lsoa11": "lsoas11",
    "msoa21": "msoas21",
    "ward": "wards",
    "lad": "authorities",
}
"""The keyword argument that takes each level's layer (``Geography.from_files``,
``assign_areas``)."""
_EDITIONS: tuple[str, ...] = ("iod2025", "iod2019")
_TABLES: tuple[str, ...] = ("lsoa_lookup", "area_lookup", "population", "regions")

PathLike = str | os.PathLike[str]
_T = TypeVar("_T")
Source = Any  # a frame, a path, or a callable returning a frame


def _check_level(level: object) -> str:
    if level not in GEOGRAPHY_LEVELS:
        msg = f"level must be one of {', '.join(map(repr, GEOGRAPHY_LEVELS))}; got {level!r}."
        raise InputError(msg)
    return str(level)


def _check_edition(edition: object) -> str:
    key = str(edition).lower() if isinstance(edition, str) else edition
    if key not in _EDITIONS:
        msg = (
            f"deprivation edition must be one of {', '.join(map(repr, _EDITIONS))}; "
            f"got {edition!r}. For another file use socecon_geo.read_deprivation(path)."
        )
        raise InputError(msg)
    return str(key)


def _fresh(frame: _T) -> _T:
    """Return a copy the caller may change freely (attrs included)."""
    out = frame.copy()  # type: ignore[attr-defined]
    out.attrs = copy.deepcopy(frame.attrs)  # type: ignore[attr-defined]
    return out


class Geography:
    """The geography of one study area: layers, lookups, population and deprivation.

    Build one with :func:`load_geography` (the bundled West Midlands), with
    :meth:`from_files` or with :func:`fetch_geography`; the constructor takes frames or
    callables returning them and is for those builders.

    Parameters
    ----------
    name : str
        What the study area is called (shown on maps and in reports).
    layers : mapping of level to GeoDataFrame or callable
        Area layers by level (see :data:`GEOGRAPHY_LEVELS`), already in standard columns
        and EPSG:27700, or zero-argument callables returning them.
    lsoa_lookup, area_lookup, population, regions : DataFrame or callable, optional
        The LSOA 2011 → 2021 lookup, the LSOA 2021 → ward → authority best-fit lookup,
        residents by LSOA 2021, and the authority → region table.
    deprivation : mapping of edition to DataFrame or callable, optional
        Tidy IoD tables (as :func:`socecon_geo.read_deprivation` returns) by edition
        (``"iod2025"``, ``"iod2019"``).

    Attributes
    ----------
    name : str
        The study area's name.
    """

    def __init__(
        self,
        *,
        name: str,
        layers: Mapping[str, Source],
        lsoa_lookup: Source | None = None,
        area_lookup: Source | None = None,
        population: Source | None = None,
        regions: Source | None = None,
        deprivation: Mapping[str, Source] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            msg = "A Geography needs a name, e.g. name='West Midlands Combined Authority'."
            raise InputError(msg)
        unknown = [level for level in layers if level not in GEOGRAPHY_LEVELS]
        if unknown:
            msg = (
                f"Unknown area level(s) {', '.join(map(repr, unknown))}; the levels are "
                f"{', '.join(map(repr, GEOGRAPHY_LEVELS))}."
            )
            raise InputError(msg)
        if not layers:
            msg = "A Geography needs at least one area layer (e.g. wards or LSOAs)."
            raise InputError(msg)
        self.name = name.strip()
        self._sources: dict[str, Source] = {f"layer:{k}": v for k, v in layers.items()}
        for key, value in (
            ("lsoa_lookup", lsoa_lookup),
            ("area_lookup", area_lookup),
            ("population", population),
            ("regions", regions),
        ):
            if value is not None:
                self._sources[key] = value
        for edition, value in (deprivation or {}).items():
            self._sources[f"deprivation:{_check_edition(edition)}"] = value
        self._loaded: dict[str, Any] = {}
        self._derived: dict[Any, Any] = {}

    # ---------------------------------------------------------------- internal access

    def _get(self, key: str) -> Any:
        """Return the stored object of a part, loaded once (never handed out uncopied)."""
        if key not in self._loaded:
            source = self._sources[key]
            self._loaded[key] = source() if callable(source) else source
        return self._loaded[key]

    def _has(self, key: str) -> bool:
        return key in self._sources

    def derived(self, key: Any, make: Callable[[], _T]) -> _T:
        """Return a value derived from this geography, computing it once.

        Used by the analysis steps to keep what they derive from the geography (such as
        the LSOA → area weights of a level) for the next call.

        Parameters
        ----------
        key : hashable
            What the value is; the same key gives the same value.
        make : callable
            Computes the value the first time.
        """
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    # ---------------------------------------------------------------- public parts

    @property
    def levels(self) -> tuple[str, ...]:
        """The area levels this geography has, finest first."""
        return tuple(level for level in GEOGRAPHY_LEVELS if self._has(f"layer:{level}"))

    @property
    def editions(self) -> tuple[str, ...]:
        """The deprivation editions this geography has (``"iod2025"``, ``"iod2019"``)."""
        return tuple(e for e in _EDITIONS if self._has(f"deprivation:{e}"))

    def has_layer(self, level: str) -> bool:
        """Whether the geography has a layer of this level."""
        return self._has(f"layer:{_check_level(level)}")

    def layer(self, level: str) -> gpd.GeoDataFrame:
        """Return a copy of one area layer.

        Parameters
        ----------
        level : {"lsoa21", "lsoa11", "msoa21", "ward", "lad"}

        Returns
        -------
        geopandas.GeoDataFrame
            EPSG:27700, with the level's standard code and name columns
            (``ward_code``, ``ward_name``, …), ``lad_code`` and ``lad_name`` where known.

        Raises
        ------
        InputError
            If the level is unknown or the geography has no layer of it.
        """
        return _fresh(self._layer(level))

    def _layer(self, level: str) -> gpd.GeoDataFrame:
        level = _check_level(level)
        if not self._has(f"layer:{level}"):
            have = ", ".join(self.levels)
            msg = (
                f"The geography {self.name!r} has no {_LEVEL_NAMES[level]} layer "
                f"(level {level!r}); it has {have}. Pass the boundaries with "
                f"Geography.from_files({LAYER_ARGUMENTS[level]}=...)."
            )
            raise InputError(msg)
        return self._get(f"layer:{level}")

    def _table(self, key: str, what: str, fix: str) -> pd.DataFrame:
        if not self._has(key):
            msg = f"The geography {self.name!r} has no {what}. {fix}"
            raise InputError(msg)
        return self._get(key)

    def _optional(self, key: str) -> Any:
        return self._get(key) if self._has(key) else None

    def _copy_of(self, key: str) -> pd.DataFrame | None:
        table = self._optional(key)
        return None if table is None else _fresh(table)

    @property
    def lsoa_lookup(self) -> pd.DataFrame | None:
        """The ONS LSOA 2011 → LSOA 2021 lookup (a copy), or None."""
        return self._copy_of("lsoa_lookup")

    @property
    def area_lookup(self) -> pd.DataFrame | None:
        """The ONS LSOA 2021 → ward → authority best-fit lookup (a copy), or None."""
        return self._copy_of("area_lookup")

    @property
    def population(self) -> pd.DataFrame | None:
        """Residents by LSOA 2021 (a copy, as :func:`read_population` returns), or None."""
        return self._copy_of("population")

    @property
    def regions(self) -> pd.DataFrame | None:
        """Local authority district → region (a copy), or None."""
        return self._copy_of("regions")

    def deprivation(self, edition: str = "iod2025") -> pd.DataFrame:
        """Return a copy of a tidy deprivation table.

        Parameters
        ----------
        edition : {"iod2025", "iod2019"}
            IoD2025 (on LSOA 2021) or IoD2019 (on LSOA 2011).

        Returns
        -------
        pandas.DataFrame
            As :func:`socecon_geo.read_deprivation` returns.

        Raises
        ------
        InputError
            If the edition is unknown or the geography lacks it.
        """
        return _fresh(self._deprivation(edition))

    def _deprivation(self, edition: str) -> pd.DataFrame:
        key = _check_edition(edition)
        return self._table(
            f"deprivation:{key}",
            f"{key} deprivation table",
            "Pass it with deprivation=socecon_geo.read_deprivation(path).",
        )

    @property
    def lad_codes(self) -> tuple[str, ...]:
        """Codes of the local authority districts the geography covers, sorted."""
        for level in ("lad", "ward", "msoa21", "lsoa21", "lsoa11"):
            if self._has(f"layer:{level}"):
                frame = self._layer(level)
                if "lad_code" in frame.columns:
                    return tuple(sorted(frame["lad_code"].dropna().astype(str).unique()))
        return ()

    def lsoa_to_area(self, level: str) -> pd.DataFrame | None:
        """LSOA 2021 → area table for a level above LSOAs, one area per LSOA, or None.

        MSOAs are built of whole LSOAs, so the MSOA of each LSOA comes from the LSOA
        2021 layer (``msoa21_code``); wards and authorities come from the best-fit
        lookup (``area_lookup``).

        Parameters
        ----------
        level : {"msoa21", "ward", "lad"}

        Returns
        -------
        pandas.DataFrame or None
            ``lsoa21_code`` and the level's code column, or None when the geography has
            no such table.
        """
        level = _check_level(level)
        code = _CODE_COLUMN[level]
        if level in ("lsoa21", "lsoa11"):
            return None
        if level == "msoa21":
            return self.derived(("lsoa_to_area", level), self._lsoa_to_msoa)
        lookup = self._optional("area_lookup")
        if lookup is None or code not in lookup.columns:
            return None
        return lookup[["lsoa21_code", code]].dropna().drop_duplicates("lsoa21_code")

    def _lsoa_to_msoa(self) -> pd.DataFrame | None:
        if not self._has("layer:lsoa21"):
            return None
        lsoas = self._layer("lsoa21")
        if "msoa21_code" in lsoas.columns:
            table = pd.DataFrame(lsoas[["lsoa21_code", "msoa21_code"]])
            return table.dropna().reset_index(drop=True)
        if not self._has("layer:msoa21"):
            return None
        # MSOAs are made of whole LSOAs: the MSOA holding each LSOA's inner point
        import geopandas as gpd

        msoas = self._layer("msoa21")
        inner = gpd.GeoDataFrame(
            {"lsoa21_code": lsoas["lsoa21_code"].to_numpy()},
            geometry=lsoas.geometry.representative_point().to_numpy(),
            crs=lsoas.crs,
        )
        joined = gpd.sjoin(inner, msoas[["msoa21_code", "geometry"]], predicate="within")
        table = pd.DataFrame(joined[["lsoa21_code", "msoa21_code"]])
        return table.drop_duplicates("lsoa21_code").reset_index(drop=True)

    @property
    def provenance(self) -> tuple[Provenance, ...]:
        """Provenance records of every part of the geography (loading each part)."""
        frames = [self._get(key) for key in self._sources]
        return combine_provenance(*frames)

    @property
    def attribution(self) -> list[str]:
        """The attribution lines every part's licence asks for, each once."""
        return attribution_lines(self.provenance)

    def explore(self, level: str | None = None, **kwargs: Any) -> folium.Map:
        """Show one layer on an interactive map (:meth:`GeoDataFrame.explore`).

        Parameters
        ----------
        level : str, optional
            The layer; by default wards if present, else the coarsest layer.
        **kwargs
            Passed to :meth:`geopandas.GeoDataFrame.explore`.

        Returns
        -------
        folium.Map
        """
        if level is None:
            level = "ward" if self.has_layer("ward") else self.levels[-1]
        frame = self._layer(level)
        code = _CODE_COLUMN[level]
        name = code.replace("_code", "_name")
        tooltip = [c for c in (code, name, "lad_name") if c in frame.columns]
        options: dict[str, Any] = {"tooltip": tooltip, "style_kwds": {"fillOpacity": 0.1}}
        attribution = "; ".join(attribution_lines(frame))
        if attribution:
            options["attr"] = attribution
        return frame.explore(**{**options, **kwargs})

    def __repr__(self) -> str:
        loaded = {
            level: len(self._loaded[f"layer:{level}"])
            for level in self.levels
            if f"layer:{level}" in self._loaded
        }
        levels = ", ".join(
            f"{level} ({loaded[level]:,})" if level in loaded else level for level in self.levels
        )
        editions = ", ".join(self.editions) or "none"
        return f"Geography({self.name!r}; levels: {levels}; deprivation: {editions})"

    # ---------------------------------------------------------------- builders

    @classmethod
    def from_files(
        cls,
        *,
        name: str = "study area",
        wards: gpd.GeoDataFrame | PathLike | None = None,
        lsoas21: gpd.GeoDataFrame | PathLike | None = None,
        lsoas11: gpd.GeoDataFrame | PathLike | None = None,
        msoas21: gpd.GeoDataFrame | PathLike | None = None,
        authorities: gpd.GeoDataFrame | PathLike | None = None,
        lsoa_lookup: pd.DataFrame | PathLike | None = None,
        area_lookup: pd.DataFrame | PathLike | None = None,
        population: pd.DataFrame | PathLike | None = None,
        deprivation: Mapping[str, pd.DataFrame | PathLike] | None = None,
    ) -> Geography:
        """Build a geography from boundary files or frames, for any English area.

        Official ONS headings (``WD24CD``, ``LSOA21CD``, ``MSOA21CD``, ``LAD24CD``, …)
        are recognised by :func:`socecon_geo.read_boundaries`, which also reprojects to
        EPSG:27700 and repairs invalid polygons. The tables not given are the bundled
        England-wide ones: the ONS lookups, Census 2021 residents, IoD2025 and IoD2019.

        Parameters
        ----------
        name : str
            What the study area is called.
        wards, lsoas21, lsoas11, msoas21, authorities : GeoDataFrame or path, optional
            Area layers (at least one).
        lsoa_lookup, area_lookup : DataFrame or path, optional
            The ONS LSOA 2011 → 2021 lookup and the LSOA 2021 → ward → authority
            best-fit lookup.
        population : DataFrame or path, optional
            Residents by LSOA 2021 (anything :func:`socecon_geo.read_population` reads).
        deprivation : mapping, optional
            IoD tables or files by edition, e.g. ``{"iod2025": "File_7.csv"}``.

        Returns
        -------
        Geography

        Raises
        ------
        InputError
            If no layer is given, a layer lacks its code column (a ward file passed as
            ``lsoas21``, say), or a table cannot be read.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import box
        >>> wards = gpd.GeoDataFrame(
        ...     {"WD24CD": ["E05000001", "E05000002"], "WD24NM": ["North", "South"],
        ...      "LAD24CD": ["E08000001"] * 2, "LAD24NM": ["Town"] * 2},
        ...     geometry=[box(0, 500, 1000, 1000), box(0, 0, 1000, 500)], crs=27700)
        >>> town = Geography.from_files(name="Town", wards=wards)
        >>> town.levels, town.lad_codes
        (('ward',), ('E08000001',))
        >>> town.layer("ward")[["ward_code", "ward_name"]]
           ward_code ward_name
        0  E05000001     North
        1  E05000002      South
        """
        layers = _read_layers(
            {
                "ward": wards,
                "lsoa21": lsoas21,
                "lsoa11": lsoas11,
                "msoa21": msoas21,
                "lad": authorities,
            }
        )
        if not layers:
            msg = (
                "Geography.from_files needs at least one boundary layer: wards=, lsoas21=, "
                "lsoas11=, msoas21= or authorities= (a path or a GeoDataFrame)."
            )
            raise InputError(msg)
        return cls(
            name=name,
            layers=layers,
            **_tables(
                lsoa_lookup=lsoa_lookup,
                area_lookup=area_lookup,
                population=population,
                deprivation=deprivation,
            ),
        )


def _read_layers(given: Mapping[str, Any]) -> dict[str, gpd.GeoDataFrame]:
    from socecon_geo.boundaries import read_boundaries

    layers: dict[str, gpd.GeoDataFrame] = {}
    for level, source in given.items():
        if source is None:
            continue
        try:
            frame = read_boundaries(source, level=level)  # type: ignore[arg-type]
        except InputError as exc:
            msg = f"{LAYER_ARGUMENTS[level]}=: {exc}"
            raise InputError(msg) from None
        keep = [
            c
            for c in (_CODE_COLUMN[level], _CODE_COLUMN[level].replace("_code", "_name"))
            + _PARENTS[level]
            if c in frame.columns
        ]
        out = frame[[*keep, frame.geometry.name]].copy()
        out = out.rename_geometry("geometry") if frame.geometry.name != "geometry" else out
        out.attrs = copy.deepcopy(frame.attrs)
        layers[level] = out.reset_index(drop=True)
    return layers


_PARENTS: Mapping[str, tuple[str, ...]] = {
    "lsoa21": ("msoa21_code", "msoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"),
    "lsoa11": ("lad_code", "lad_name"),
    "msoa21": ("lad_code", "lad_name"),
    "ward": ("lad_code", "lad_name"),
    "lad": (),
}


def _tables(
    *,
    lsoa_lookup: Any,
    area_lookup: Any,
    population: Any,
    deprivation: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return the table sources: the user's where given, else the bundled ones."""
    from socecon_geo import bundle
    from socecon_geo.deprivation import read_deprivation
    from socecon_geo.lookups import read_lsoa_lookup
    from socecon_geo.population import read_population

    def reader(value: Any, read: Callable[[Any], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
        return functools.partial(read, value)

    editions: dict[str, Any] = {
        "iod2025": functools.partial(bundle.load_deprivation, "iod2025"),
        "iod2019": functools.partial(bundle.load_deprivation, "iod2019"),
    }
    for edition, value in (deprivation or {}).items():
        key = _check_edition(edition)
        editions[key] = (
            value
            if isinstance(value, pd.DataFrame)
            else reader(value, functools.partial(read_deprivation, vintage=cast("Vintage", key)))
        )
    return {
        "lsoa_lookup": (
            bundle.load_lsoa_lookup
            if lsoa_lookup is None
            else reader(lsoa_lookup, read_lsoa_lookup)
        ),
        "area_lookup": (
            bundle.load_area_lookup
            if area_lookup is None
            else reader(area_lookup, _read_area_lookup)
        ),
        "population": (
            bundle.load_population if population is None else reader(population, read_population)
        ),
        "regions": bundle.load_regions,
        "deprivation": editions,
    }


def _read_area_lookup(source: pd.DataFrame | PathLike) -> pd.DataFrame:
    """Read an LSOA 2021 → ward → authority best-fit lookup into standard columns."""
    from socecon_geo.lookups import prepare_area_lookup

    return prepare_area_lookup(source)


@functools.cache
def _bundled() -> Geography:
    from socecon_geo import bundle

    return Geography(
        name="West Midlands Combined Authority",
        layers={
            "lsoa21": functools.partial(bundle.load_lsoas, vintage=2021),
            "lsoa11": functools.partial(bundle.load_lsoas, vintage=2011),
            "msoa21": bundle.load_msoas,
            "ward": bundle.load_wards,
            "lad": bundle.load_authorities,
        },
        **_tables(lsoa_lookup=None, area_lookup=None, population=None, deprivation=None),
    )


def load_geography() -> Geography:
    """Return the bundled geography of the West Midlands Combined Authority.

    Official ONS generalised (BGC) boundaries of the seven WMCA authorities — 192 wards
    (2025), 1,719 LSOAs 2021, 1,680 LSOAs 2011, 357 MSOAs 2021, 7 authorities — with the
    England-wide ONS lookups, Census 2021 residents by LSOA and the IoD2025 and IoD2019
    indices. Works offline. The same object is returned on every call, so what the
    analysis derives from it (area weights) is computed once per process.

    Returns
    -------
    Geography

    Examples
    --------
    >>> import socecon_geo as sg
    >>> geography = sg.load_geography()
    >>> geography.name
    'West Midlands Combined Authority'
    >>> len(geography.lad_codes)
    7
    """
    return _bundled()


def fetch_geography(
    authorities: Iterable[str] | str,
    *,
    name: str | None = None,
    levels: Iterable[str] = ("lsoa21", "msoa21", "ward", "lad"),
    refresh: bool = False,
) -> Geography:
    """Build the geography of any English local authorities from the ONS services.

    Downloads (once; then from the cache) the official generalised boundaries of the
    authorities at each level with :func:`socecon_geo.fetch_boundaries`, and uses the
    bundled England-wide lookups, population and deprivation.

    Parameters
    ----------
    authorities : str or iterable of str
        Local authority district codes (``"E06000023"``) or exact ONS names
        (``"Bristol, City of"``).
    name : str, optional
        What the study area is called; by default the authorities' names joined.
    levels : iterable of str
        Which layers to fetch, among ``"lsoa21"``, ``"lsoa11"``, ``"msoa21"``,
        ``"ward"`` and ``"lad"``.
    refresh : bool
        Download again even when a cached copy exists.

    Returns
    -------
    Geography

    Raises
    ------
    InputError
        If no authority or an unknown level is given.
    UnknownAreaError
        If an authority is not found.
    DataUnavailableError
        If a layer is neither cached nor downloadable (offline); the message says how
        to pass local files instead (:meth:`Geography.from_files`).
    """
    from socecon_geo.boundaries import fetch_boundaries

    wanted = [authorities] if isinstance(authorities, str) else list(authorities)
    if not wanted or not all(isinstance(a, str) and a.strip() for a in wanted):
        msg = (
            "fetch_geography needs one or more authorities by code or ONS name, e.g. "
            "fetch_geography(['E06000023']) or fetch_geography('Bristol, City of')."
        )
        raise InputError(msg)
    chosen = [_check_level(level) for level in levels]
    if not chosen:
        msg = "fetch_geography needs at least one level, e.g. levels=('ward',)."
        raise InputError(msg)
    layers = {
        level: fetch_boundaries(level, authorities=wanted, refresh=refresh)  # type: ignore[arg-type]
        for level in chosen
    }
    layers = _read_layers(layers)
    if name is None:
        names: list[str] = []
        for frame in layers.values():
            if "lad_name" in frame.columns:
                names = sorted(frame["lad_name"].dropna().astype(str).unique())
                break
        name = ", ".join(names) or ", ".join(wanted)
    return Geography(
        name=name,
        layers=layers,
        **_tables(lsoa_lookup=None, area_lookup=None, population=None, deprivation=None),
    )


# ---------------------------------------------------------------------- for the steps


def resolve_geography(geography: Geography | None) -> Geography:
    """Return the geography a step should use: the one given, else the bundled WMCA.

    Parameters
    ----------
    geography : Geography or None

    Returns
    -------
    Geography

    Raises
    ------
    InputError
        If ``geography`` is something else.
    """
    if geography is None:
        return load_geography()
    if isinstance(geography, Geography):
        return geography
    msg = (
        "geography must be a socecon_geo.Geography (sg.load_geography(), "
        f"sg.Geography.from_files(...) or sg.fetch_geography(...)); got {type(geography).__name__}."
    )
    raise InputError(msg)


def area_inputs(geography: Geography | None, **given: Any) -> dict[str, Any]:
    """Return the layers and lookups :func:`socecon_geo.assign_areas` should use.

    With a ``geography``, its layers and lookups, each replaced by the one the caller
    passed, if any. Without one: the bundled geography when the caller passed nothing,
    else exactly what the caller passed (so a user's own wards are never mixed with
    bundled LSOAs of another place).

    Parameters
    ----------
    geography : Geography or None
    **given
        ``wards``, ``lsoas21``, ``lsoas11``, ``msoas21``, ``authorities``,
        ``lsoa_lookup``, ``area_lookup`` as passed (None where not).

    Returns
    -------
    dict
        The same keys, filled in, and ``msoa_lookup`` (LSOA 2021 → MSOA 2021, or None);
        with a geography also ``from_geography`` (the keys filled from it) and
        ``derived`` (its :meth:`Geography.derived`, to keep what is prepared from them).
    """
    from socecon_geo.lookups import prepare_area_lookup, prepare_lsoa_lookup

    out = dict(given)
    out["msoa_lookup"] = None
    if geography is None and any(value is not None for value in given.values()):
        return out
    geo = resolve_geography(geography)
    taken: set[str] = set()
    for level, argument in LAYER_ARGUMENTS.items():
        if out.get(argument) is None and geo.has_layer(level):
            out[argument] = geo._layer(level)
            taken.add(argument)
    if out.get("lsoa_lookup") is None and geo._has("lsoa_lookup"):
        out["lsoa_lookup"] = geo.derived(
            "prepared_lsoa_lookup", lambda: prepare_lsoa_lookup(geo._get("lsoa_lookup"))
        )
        taken.add("lsoa_lookup")
    if out.get("area_lookup") is None and geo._has("area_lookup"):
        out["area_lookup"] = geo.derived(
            "prepared_area_lookup", lambda: prepare_area_lookup(geo._get("area_lookup"))
        )
        taken.add("area_lookup")
    out["msoa_lookup"] = geo.lsoa_to_area("msoa21")
    taken.add("msoa_lookup")
    out["from_geography"] = frozenset(taken)
    out["derived"] = geo.derived
    return out


def _no_cache(key: Any, make: Callable[[], _T]) -> _T:
    return make()


def summary_inputs(
    geography: Geography | None,
    *,
    areas: Any,
    level: str | None,
    population: Any,
    deprivation: Any,
    area_lookup: Any,
    lsoas: Any,
) -> dict[str, Any]:
    """Return the areas and tables :func:`socecon_geo.summarise_areas` should use.

    Without ``areas``, the ``level`` layer of the geography (by default the bundled one
    and wards) with the geography's population, deprivation (IoD2019 for LSOA 2011
    areas, else IoD2025) and lookups, each unless passed. With ``areas`` and a
    geography, the geography fills in what is not passed; with ``areas`` alone, only
    what is passed is used.

    Returns
    -------
    dict
        ``areas``, ``level``, ``population``, ``deprivation``, ``area_lookup``,
        ``lsoas`` and ``cache`` (a ``(key, make)`` callable keeping derived values on
        the geography when the areas are the geography's own layer).
    """
    out: dict[str, Any] = {
        "areas": areas,
        "level": level,
        "population": population,
        "deprivation": deprivation,
        "area_lookup": area_lookup,
        "lsoas": lsoas,
        "cache": _no_cache,
    }
    edition = isinstance(deprivation, str) and deprivation.strip().lower() in _EDITIONS
    if areas is not None and geography is None and not edition:
        return out
    geo = resolve_geography(geography)
    if edition:
        out["deprivation"] = geo._deprivation(deprivation.strip().lower())
    if areas is not None and geography is None:
        return out
    if areas is None:
        level = _check_level("ward" if level is None else level)
        out["areas"], out["level"] = geo._layer(level), level
        if area_lookup is None and lsoas is None:
            out["cache"] = geo.derived
    vintage_2011 = out["level"] == "lsoa11" or (
        out["level"] is None and "lsoa11_code" in out["areas"].columns
    )
    if out["deprivation"] is None:
        wanted = "iod2019" if vintage_2011 else "iod2025"
        if geo._has(f"deprivation:{wanted}"):
            out["deprivation"] = geo._deprivation(wanted)
    if out["population"] is None and not vintage_2011:
        out["population"] = geo._optional("population")
    if out["level"] in ("msoa21", "ward", "lad") and area_lookup is None and lsoas is None:
        table = geo.lsoa_to_area(out["level"])
        code = _CODE_COLUMN[out["level"]]
        have = set(out["areas"][code].dropna()) if code in out["areas"].columns else set()
        if table is not None and have <= set(table[code]):
            out["area_lookup"] = table
    if out["lsoas"] is None and geo.has_layer("lsoa21"):
        out["lsoas"] = geo._layer("lsoa21")
    return out

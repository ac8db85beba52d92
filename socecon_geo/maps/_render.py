"""``render_map``: the map a planner opens (``save_map`` writes it, in ``_save``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import Fullscreen
from shapely.geometry import mapping

from socecon_geo._errors import InputError
from socecon_geo.deprivation import DOMAINS
from socecon_geo.maps._elements import (
    AreaLayer,
    DeprivationLayer,
    LayerHeadings,
    Legend,
    MapText,
    PageStyle,
    PointLayer,
    SearchControl,
)
from socecon_geo.maps._escape import display_text
from socecon_geo.maps._layers import (
    DECILE_COLOURS,
    TYPE_COLOURS,
    TYPE_LABELS,
    area_features,
    display_geometries,
    fmt,
    html_table,
    point_data,
)
from socecon_geo.provenance import attribution_lines

if TYPE_CHECKING:
    from socecon_geo.geography import Geography

__all__ = [
    "BASEMAP",
    "DEFAULT_MAX_MARKERS",
    "DOMAIN_LABELS",
    "LAYER_NAMES",
    "MAIN_DOMAINS",
    "NO_SHADING",
    "render_map",
]

DEFAULT_MAX_MARKERS = 5_000
"""Above this many organisations the markers are drawn on a canvas, not clustered."""

DOMAIN_LABELS: dict[str, str] = {
    "imd": "Index of Multiple Deprivation (all domains)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, skills and training",
    "health": "Health and disability",
    "crime": "Crime",
    "barriers": "Barriers to housing and services",
    "living_environment": "Living environment",
    "children_young_people": "Children and young people (education sub-domain)",
    "adult_skills": "Adult skills (education sub-domain)",
    "geographical_barriers": "Geographical barriers (barriers sub-domain)",
    "wider_barriers": "Wider barriers (barriers sub-domain)",
    "indoors": "Indoors (living environment sub-domain)",
    "outdoors": "Outdoors (living environment sub-domain)",
}
"""The layer-control name of each deprivation domain (one radio choice each)."""

MAIN_DOMAINS: tuple[str, ...] = ("imd", *DOMAINS)
"""The domains offered by default: the IMD and its seven domains (sub-domains on request)."""

NO_SHADING = "No deprivation shading"
"""The radio choice that switches the deprivation shading off."""

BASEMAP = "Basemap"
"""The layer-control name of the basemap (an overlay, when ``tiles`` is not None)."""

LAYER_NAMES: dict[str, str] = {
    "deprivation": DOMAIN_LABELS["imd"],
    "wards": "Wards",
    "organisations": "Organisations",
    "strengths": "Candidate clusters (strengths)",
    "gaps": "Gaps: high need, thin presence",
    "hotspots": "Hot and cold spots",
    "size": "Size of the social economy",
    "sites": "Investment sites: suppliers in reach",
}
"""The layer-control name of each layer (``"deprivation"``: the IMD's radio choice; the
other domains are named in :data:`DOMAIN_LABELS`)."""

_POSITRON = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
_POSITRON_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
    'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>'
)

_EDITION_LAYER = {"iod2025": "lsoa21", "iod2019": "lsoa11"}
_EDITION_CODE = {"iod2025": "lsoa21_code", "iod2019": "lsoa11_code"}
_EDITION_TITLE = {"iod2025": "IoD2025", "iod2019": "IoD2019"}
_DEFAULT_SITES_BAND_M = 3_000  # the band that colours the sites unless told otherwise

_CLASS_LABELS = {
    "hot_99": "hot spot, 99% confidence",
    "hot_95": "hot spot, 95% confidence",
    "hot_90": "hot spot, 90% confidence",
    "cold_99": "cold spot, 99% confidence",
    "cold_95": "cold spot, 95% confidence",
    "cold_90": "cold spot, 90% confidence",
    "high_high": "high among high (local Moran)",
    "high_low": "high among low",
    "low_high": "low among high",
    "low_low": "low among low",
    "not_significant": "not significant",
    "no_neighbours": "no neighbours (not tested)",
    "no_value": "no value (not tested)",
}


_VARIABLE_WORDS = {
    "rate_per_10k_eb": "the number of organisations per 10,000 residents (smoothed)",
    "rate_per_10k": "the number of organisations per 10,000 residents",
    "n_organisations": "the number of organisations",
}

# hot spots below the ward outlines, clusters and organisations (which stay clickable),
# above the deprivation shading (350)
_SPOTS_PANE = ("socecon-hotspots", 360)


def _frame(value: Any, attribute: str | None, name: str, expected: str) -> gpd.GeoDataFrame | None:
    if value is None:
        return None
    if attribute is not None and hasattr(value, attribute):
        value = getattr(value, attribute)
    if not isinstance(value, gpd.GeoDataFrame):
        raise InputError(
            f"render_map: {name} must be {expected}, not {type(value).__name__}; "
            f"pass the result of the step or its GeoDataFrame"
        )
    return value


def _domain_label(key: str) -> str:
    return DOMAIN_LABELS.get(key, key.replace("_", " ").capitalize())


def _deprivation_data(
    geo: Geography, edition: str, domain: str, domains: Sequence[str] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """LSOA features with every domain's decile, and the domain keys in their order."""
    if edition not in _EDITION_LAYER:
        raise InputError(
            f"render_map: deprivation must be one of {sorted(_EDITION_LAYER)} or None, "
            f"not {edition!r}"
        )
    lsoas = geo.layer(_EDITION_LAYER[edition])
    table = geo.deprivation(edition)
    available = [c[: -len("_decile")] for c in table.columns if c.endswith("_decile")]
    if domains is None:
        keys = [k for k in MAIN_DOMAINS if k in available]
    elif isinstance(domains, str) or not all(isinstance(k, str) for k in domains):
        raise InputError(
            f"render_map: domains must be a list of domain names such as ['imd', 'income'], "
            f"not {domains!r}"
        )
    else:
        keys = list(dict.fromkeys(domains))
    missing = [k for k in [domain, *keys] if k not in available]
    if missing:
        raise InputError(
            f"render_map: domain {missing[0]!r} is not in the {edition} table; "
            f"choose one of {sorted(available)}"
        )
    if domain not in keys:  # the domain shown first is always offered
        keys.insert(0, domain)
    code = _EDITION_CODE[edition]
    codes = lsoas[code].astype(str)
    by_code = table.assign(lsoa_code=table["lsoa_code"].astype(str)).drop_duplicates("lsoa_code")
    by_code = by_code.set_index("lsoa_code")
    deciles = [
        [None if pd.isna(v) else int(v) for v in codes.map(by_code[f"{k}_decile"])] for k in keys
    ]
    names = lsoas.get(code.replace("_code", "_name"), lsoas[code])
    geoms = display_geometries(lsoas)
    features = []
    for i, (c, name) in enumerate(zip(codes, names, strict=True)):
        geom = geoms[i]
        if geom is None or geom.is_empty:
            continue
        props = {"n": display_text(name), "c": c, "d": [column[i] for column in deciles]}
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": props})
    return features, keys


def _ward_tooltips(wards: gpd.GeoDataFrame, classes: pd.Series | None) -> list[str]:
    out = []
    for i, row in enumerate(wards.to_dict("records")):
        rows = [
            ("authority", row.get("lad_name")),
            ("organisations", fmt(row.get("n_organisations"), 0)),
            ("per 10,000 residents", fmt(row.get("rate_per_10k"), 1)),
            ("per 10,000, smoothed", fmt(row.get("rate_per_10k_eb"), 1)),
            ("IMD score (population-weighted)", fmt(row.get("imd_score_popweighted"), 1)),
        ]
        if classes is not None:
            value = classes.iloc[i]
            rows.append(("hot-spot class", _CLASS_LABELS.get(str(value), value)))
        name = row.get("ward_name", row.get("area_name", row.get("ward_code")))
        out.append(html_table(str(name) if pd.notna(name) else "", rows))
    return out


def _hot_classes(areas: gpd.GeoDataFrame, spots: gpd.GeoDataFrame | None) -> pd.Series | None:
    if "hotspot_class" in areas.columns:
        return areas["hotspot_class"].astype("string")
    if spots is None or "hotspot_class" not in spots.columns:
        return None
    for code in ("ward_code", "lsoa21_code", "msoa21_code", "lad_code"):
        if code in areas.columns and code in spots.columns:
            table = pd.Series(
                spots["hotspot_class"].astype("string").to_numpy(),
                index=spots[code].astype(str),
            )
            table = table[~table.index.duplicated()]
            return areas[code].astype(str).map(table).astype("string")
    return None


def _strength_popup(row: Mapping[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("score (0–1)", fmt(row.get("score"), 3)),
        ("organisations", fmt(row.get("n_organisations"), 0)),
        ("wards", row.get("ward_names")),
        ("authorities", row.get("lad_names")),
        ("top sector", row.get("top_sector")),
    ]
    for component in ("size", "density", "per_resident", "diversity", "hotspot", "deprivation"):
        rows.append(
            (f"score: {component.replace('_', ' ')}", fmt(row.get(f"score_{component}"), 2))
        )
    table = html_table(f"Candidate cluster, rank {fmt(row.get('rank'), 0)}", rows)
    text = row.get("explanation")
    return table.replace("</div>", f"<p>{_escape(text)}</p></div>") if pd.notna(text) else table


def _gap_popup(row: Mapping[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("score (0–1)", fmt(row.get("score"), 3)),
        ("authority", row.get("lad_name")),
    ]
    for component in ("deprivation", "most_deprived", "low_presence", "cold_spot"):
        rows.append(
            (f"score: {component.replace('_', ' ')}", fmt(row.get(f"score_{component}"), 2))
        )
    name = row.get("ward_name", row.get("area_name", ""))
    table = html_table(f"Gap rank {fmt(row.get('rank'), 0)}: {name}", rows)
    text = row.get("explanation")
    return table.replace("</div>", f"<p>{_escape(text)}</p></div>") if pd.notna(text) else table


def _escape(value: Any) -> str:
    from socecon_geo.maps._escape import escape_html

    return escape_html(value)


# a relative link: no scheme (so never javascript:), no leading slash, no "..", plain names
_RELATIVE_LINK = re.compile(r"(?!/)(?!.*\.\.)[A-Za-z0-9._/-]+")


def _default_subtitle(geo_name: str | None, vintages: list[str]) -> str:
    parts = [p for p in (geo_name, "; ".join(vintages)) if p]
    parts.append(f"made {dt.date.today().isoformat()}")
    return " · ".join(parts)


def render_map(
    points: gpd.GeoDataFrame | None = None,
    *,
    areas: gpd.GeoDataFrame | None = None,
    clusters: Any = None,
    hotspots: Any = None,
    candidates: Any = None,
    geography: Geography | None = None,
    deprivation: str | None = "iod2025",
    domain: str = "imd",
    domains: Sequence[str] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    tiles: str | None = "CartoDB positron",
    max_markers: int = DEFAULT_MAX_MARKERS,
    n_gaps: int = 20,
    search: bool = True,
    table_link: str | None = None,
    size: Any = None,
    sites: Any = None,
    sites_band_m: int | None = None,
) -> folium.Map:
    """Draw organisations, areas and the analysis results on one interactive map.

    Each part given becomes its own layer in the layer control, with its own legend
    that shows and hides with it. Every text from the data is escaped; the frames given
    are not changed (geometries are simplified and rounded on copies, for display).

    Parameters
    ----------
    points : geopandas.GeoDataFrame, optional
        Organisations (``geocode`` … ``attach_deprivation``): circle markers coloured by
        ``org_type`` with a popup of name, type, sector, postcode, geocode status and
        position quality; clustered up to ``max_markers``, drawn on a canvas above.
    areas : geopandas.GeoDataFrame, optional
        An area summary (``summarise_areas``, or ``hotspots(...).areas``): outlines with
        a tooltip of organisations, rates raw and smoothed, IMD and hot-spot class.
    clusters : ClusterResult or GeoDataFrame, optional
        Cluster polygons, when ``candidates`` is not given (unranked).
    hotspots : HotspotResult or GeoDataFrame, optional
        Areas with ``hotspot_class``: a layer of the classes.
    candidates : Candidates, optional
        ``rank_candidates``: the strengths as polygons labelled by rank (popup: score
        breakdown and explanation), and the top ``n_gaps`` gaps as their own layer.
    geography : Geography, optional
        Where the LSOA layer and the deprivation table come from (default: the bundled
        West Midlands).
    deprivation : {"iod2025", "iod2019"} or None
        The edition of the LSOA choropleth, or None for no choropleth.
    domain : str
        The domain shown when the map opens (``"imd"``, ``"income"``, ``"health"``, …).
    domains : sequence of str, optional
        The domains offered as radio choices in the layer control, each with its own
        legend (default: the IMD and the seven domains, :data:`MAIN_DOMAINS`, that the
        table has; sub-domains such as ``"adult_skills"`` on request). ``domain`` is
        always among them. The LSOA outlines are sent once, whatever the number.
    title, subtitle : str, optional
        Shown in the title box; by default the study area, data vintages and date (and,
        for :func:`socecon_geo.sample_organisations`, that they are synthetic).
    tiles : str or None
        A folium basemap name, or None for no basemap (offline or secure use; a light
        background and area outlines keep the map readable).
    max_markers : int
        The largest number of organisations drawn as clustered markers.
    n_gaps : int
        How many of the top-ranked gaps to draw.
    search : bool
        Add a search box over organisation names.
    table_link : str, optional
        A relative path to the accessible companion table (``"tables.html"``, as
        :func:`socecon_geo.write_tables` writes it beside the map), linked from the title
        box. Only a relative path of letters, digits, ``.``, ``_``, ``-`` and ``/`` is
        taken.
    size : SizeResult, optional
        :func:`socecon_geo.social_economy_size`: its areas as a layer (off at first)
        shaded by the first money total (income), or by the count, in five classes of
        equal numbers of areas, with the totals and coverage in the tooltip.
    sites : SupplierMatch or GeoDataFrame, optional
        :func:`socecon_geo.match_suppliers` (or the sites of
        :func:`socecon_geo.read_sites`, unmatched): a layer of the sites coloured by how
        many matching suppliers lie within ``sites_band_m``, with a popup listing the
        nearest suppliers, and its own legend.
    sites_band_m : int, optional
        The band (one of the match's) whose counts colour the sites; by default 3,000 m,
        or when the match has no such band, its band nearest to 3 km.

    Returns
    -------
    folium.Map
    """
    if isinstance(max_markers, bool) or not isinstance(max_markers, int) or max_markers < 0:
        raise InputError(
            f"render_map: max_markers must be a whole number >= 0, not {max_markers!r}"
        )
    if isinstance(n_gaps, bool) or not isinstance(n_gaps, int) or n_gaps < 0:
        raise InputError(f"render_map: n_gaps must be a whole number >= 0, not {n_gaps!r}")
    if table_link is not None and not (
        isinstance(table_link, str) and _RELATIVE_LINK.fullmatch(table_link)
    ):
        raise InputError(
            f"render_map: table_link must be a relative path such as 'tables.html' (letters, "
            f"digits, '.', '_', '-' and '/'; no scheme, no '..'), not {table_link!r}"
        )
    if points is not None and not isinstance(points, gpd.GeoDataFrame):
        raise InputError(
            f"render_map: points must be a GeoDataFrame of organisations, not "
            f"{type(points).__name__}; pass the result of geocode or assign_areas"
        )
    areas_frame = _frame(areas, None, "areas", "an area summary GeoDataFrame")
    spots_frame = _frame(hotspots, "areas", "hotspots", "a HotspotResult or GeoDataFrame")
    cluster_frame = _frame(clusters, "clusters", "clusters", "a ClusterResult or GeoDataFrame")
    for frame, name, column in (
        (spots_frame, "hotspots", "hotspot_class"),
        (cluster_frame, "clusters", "cluster_id"),
    ):
        if frame is not None and column not in frame.columns:
            raise InputError(
                f"render_map: {name} has no {column!r} column; pass the result of "
                f"{'hotspots' if name == 'hotspots' else 'find_clusters'} or its frame"
            )
    strengths = gaps = None
    if candidates is not None:
        if not (hasattr(candidates, "strengths") and hasattr(candidates, "gaps")):
            raise InputError(
                f"render_map: candidates must be the Candidates of rank_candidates, not "
                f"{type(candidates).__name__}"
            )
        strengths, gaps = candidates.strengths, candidates.gaps
    if geography is None and deprivation is not None:
        from socecon_geo.geography import load_geography

        geography = load_geography()

    fmap = folium.Map(
        location=[52.48, -1.9],
        zoom_start=10,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        zoom_snap=0.25,
    )
    # Leaflet only: folium's other defaults (jQuery, Bootstrap, Font Awesome, awesome
    # markers) are linked from CDNs by every folium page, but nothing here uses them
    fmap.default_js = [(n, u) for n, u in folium.Map.default_js if n == "leaflet"]
    fmap.default_css = [(n, u) for n, u in folium.Map.default_css if n == "leaflet_css"]
    if tiles is not None:
        # the basemap is an overlay, so that the deprivation domains can be the radio
        # choices; the default by URL, since folium warns of an API key for the name
        folium.TileLayer(
            _POSITRON if tiles == "CartoDB positron" else tiles,
            attr=_POSITRON_ATTR if tiles == "CartoDB positron" else None,
            name=BASEMAP,
            overlay=True,
            control=True,
        ).add_to(fmap)
    PageStyle().add_to(fmap)
    bounds: list[tuple[float, float, float, float]] = []
    used: list[Any] = []
    vintages: list[str] = []

    def group(key: str, *, show: bool = True) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=LAYER_NAMES[key], show=show, overlay=True)
        fg.add_to(fmap)
        return fg

    def extent(frame: gpd.GeoDataFrame, *, fallback: bool = False) -> None:
        if fallback and bounds:
            return
        located = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
        if len(located) and frame.crs is not None:
            bounds.append(tuple(located.to_crs(4326).total_bounds))

    base_heading = None
    if deprivation is not None and geography is not None:
        features, keys = _deprivation_data(geography, deprivation, domain, domains)
        edition = _EDITION_TITLE[deprivation]
        vintages.append(edition)
        rows = [(c, f"decile {i + 1}") for i, c in enumerate(DECILE_COLOURS)]
        rows[0] = (DECILE_COLOURS[0], "1 = most deprived 10%")
        rows[-1] = (DECILE_COLOURS[-1], "10 = least deprived 10%")
        groups = []
        for key in keys:
            fg = folium.FeatureGroup(name=_domain_label(key), overlay=False, show=key == domain)
            fg.add_to(fmap)
            groups.append(fg)
            Legend(
                fg,
                title=f"Deprivation: {_domain_label(key)}",
                rows=rows,
                swatch="ramp",
                note=f"{edition} decile of each LSOA (a neighbourhood of about 1,500 "
                "residents) among all LSOAs in England. White: no value.",
            ).add_to(fmap)
        folium.FeatureGroup(name=NO_SHADING, overlay=False, show=False).add_to(fmap)
        DeprivationLayer(
            features,
            groups,
            keys=keys,
            labels=[_domain_label(k) for k in keys],
            short=["IMD" if k == "imd" else _domain_label(k) for k in keys],
            colours=DECILE_COLOURS,
        ).add_to(fmap)
        base_heading = f"Deprivation shading ({edition}, choose one):"
        others = set(_EDITION_LAYER) - {deprivation}  # credit the edition drawn only
        used.append(tuple(r for r in geography.provenance if r.name not in others))
        extent(geography.layer(_EDITION_LAYER[deprivation]))

    if areas_frame is not None:
        fg = group("wards")
        classes = _hot_classes(areas_frame, spots_frame)
        styles = [{"fill": True, "fillOpacity": 0.0, "color": "#252525", "weight": 1.2}] * len(
            areas_frame
        )
        features = area_features(
            areas_frame, styles=styles, tooltips=_ward_tooltips(areas_frame, classes)
        )
        AreaLayer(features, fg).add_to(fmap)
        Legend(
            fg,
            title="Wards",
            rows=[("transparent", "ward outline: hover for organisations, rates, IMD")],
        ).add_to(fmap)
        used.append(areas_frame)
        extent(areas_frame)

    if size is not None:
        _add_size(fmap, group("size", show=False), size)
        size_areas = size.areas if hasattr(size, "areas") else size
        used.append(size_areas)
        extent(size_areas)

    if spots_frame is not None:
        from socecon_geo.hotspot_stats import CLASS_COLOURS

        fg = group("hotspots", show=False)
        values = spots_frame["hotspot_class"].astype("string").fillna("no_value")
        styles = [
            {
                "fillColor": CLASS_COLOURS.get(str(v), "#ffffff"),
                "fillOpacity": 0.7,
                "color": "#636363",
                "weight": 0.4,
            }
            for v in values
        ]
        names = spots_frame.get("ward_name", spots_frame.get("area_name"))
        tooltips = [
            html_table(
                str(names.iloc[i]) if names is not None and pd.notna(names.iloc[i]) else None,
                [
                    ("class", _CLASS_LABELS.get(str(v), v)),
                    (
                        "z",
                        fmt(spots_frame["hotspot_z"].iloc[i], 2)
                        if "hotspot_z" in spots_frame
                        else "",
                    ),
                    (
                        "p (FDR-adjusted)",
                        fmt(spots_frame["hotspot_p_fdr"].iloc[i], 3)
                        if "hotspot_p_fdr" in spots_frame
                        else "",
                    ),
                ],
            )
            for i, v in enumerate(values)
        ]
        AreaLayer(
            area_features(spots_frame, styles=styles, tooltips=tooltips), fg, pane=_SPOTS_PANE
        ).add_to(fmap)
        present = [c for c in CLASS_COLOURS if (values == c).any()]
        variable = spots_frame.attrs.get("variable")
        what = _VARIABLE_WORDS.get(str(variable), str(variable).replace("_", " "))
        Legend(
            fg,
            title="Hot and cold spots (Gi* / local Moran, FDR-adjusted)",
            rows=[(CLASS_COLOURS[c], _CLASS_LABELS[c]) for c in present],
            note=f"Areas where {what} is high (hot) or low (cold) together with their "
            "neighbours, beyond what chance would give."
            if variable
            else None,
        ).add_to(fmap)
        used.append(spots_frame)
        extent(spots_frame)

    if gaps is not None and len(gaps) and n_gaps:
        fg = group("gaps", show=False)
        top = gaps[gaps["rank"].notna()].sort_values("rank").head(n_gaps)
        styles = [
            {"fillColor": "#e66101", "fillOpacity": 0.45, "color": "#b35806", "weight": 2}
        ] * len(top)
        popups = [_gap_popup(row) for row in top.to_dict("records")]
        labels = [f"G{int(r)}" for r in top["rank"]]
        features = area_features(top, styles=styles, popups=popups, labels=labels, tooltips=None)
        AreaLayer(features, fg, label_class="socecon-label socecon-label-gap").add_to(fmap)
        Legend(
            fg,
            title=f"Gaps: top {len(top)} places of high need and thin presence",
            rows=[
                (
                    "#e66101",
                    f"labelled G1 (the greatest gap) to G{len(top)}; click one for its "
                    "score and why",
                )
            ],
        ).add_to(fmap)
        used.append(gaps)

    shown_clusters = strengths if strengths is not None else cluster_frame
    if shown_clusters is not None and len(shown_clusters):
        fg = group("strengths")
        ranked = strengths is not None
        frame = shown_clusters.sort_values("rank") if ranked else shown_clusters
        styles = [
            {"fillColor": "#2171b5", "fillOpacity": 0.3, "color": "#08306b", "weight": 2}
        ] * len(frame)
        if ranked:
            popups = [_strength_popup(row) for row in frame.to_dict("records")]
            labels = [fmt(r, 0) for r in frame["rank"]]
        else:
            popups = [
                html_table(
                    f"Cluster {fmt(row.get('cluster_id'), 0)}",
                    [
                        ("organisations", fmt(row.get("n_organisations"), 0)),
                        ("wards", row.get("ward_names")),
                        ("top sector", row.get("top_sector")),
                    ],
                )
                for row in frame.to_dict("records")
            ]
            labels = [fmt(r, 0) for r in frame["cluster_id"]]
        AreaLayer(area_features(frame, styles=styles, popups=popups, labels=labels), fg).add_to(
            fmap
        )
        Legend(
            fg,
            title="Candidate clusters (strengths)" if ranked else "Clusters of organisations",
            rows=[
                (
                    "#2171b5",
                    "places where organisations group together, numbered by rank "
                    "(1 = strongest); click one for its score and why"
                    if ranked
                    else "places where organisations group together, numbered by size",
                )
            ],
        ).add_to(fmap)
        used.append(shown_clusters)
        extent(shown_clusters)

    if sites is not None:
        _sites_layer(fmap, group("sites"), sites, sites_band_m, used, extent)

    if points is not None:
        fg = group("organisations")
        data, missing = point_data(points)
        n = len(data["lat"])
        cluster = n <= max_markers
        PointLayer(data, fg, cluster=cluster).add_to(fmap)
        note = f"{n:,} shown" + (
            "; a white circle with a number is that many organisations close together: "
            "click it to zoom in"
            if cluster
            else " (fast canvas drawing)"
        )
        if missing:
            note += f"; {missing:,} without a location not shown"
        counts = pd.Series(data["type"]).value_counts()
        types = list(TYPE_COLOURS)
        rows = [
            (TYPE_COLOURS[t], f"{TYPE_LABELS[t]} ({int(counts.get(i, 0)):,})")
            for i, t in enumerate(types)
            if counts.get(i, 0)
        ]
        Legend(fg, title="Organisations by type", rows=rows, note=note, swatch="dot").add_to(fmap)
        used.append(points)
        extent(points, fallback=True)
        if search and n:
            SearchControl().add_to(fmap)

    for record in get_provenance_all(used):
        vintage = getattr(record, "vintage", None)
        if vintage and record.name.startswith(("coopsuk", "ccew", "companies")):
            vintages.append(f"{record.title} {vintage}")
        if record.name == "sample_organisations" and "synthetic" not in (title or ""):
            vintages.insert(0, "synthetic sample organisations, not real ones")
    geo_name = getattr(geography, "name", None)
    MapText(
        title=title if title is not None else "The social economy and deprivation",
        subtitle=subtitle if subtitle is not None else _default_subtitle(geo_name, vintages),
        credits=_credits(used),
        table_link=table_link,
    ).add_to(fmap)
    Fullscreen(position="topleft").add_to(fmap)
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(fmap)
    has_overlays = any(
        isinstance(c, folium.map.Layer) and c.overlay and c.control for c in fmap._children.values()
    )
    LayerHeadings(
        control, base=base_heading, overlays="Layers (switch on or off):" if has_overlays else None
    ).add_to(fmap)
    if bounds:
        xs0, ys0, xs1, ys1 = zip(*bounds, strict=True)
        # room for the title and legends (left) and the layer control (right)
        fmap.fit_bounds(
            [[min(ys0), min(xs0)], [max(ys1), max(xs1)]],
            padding_top_left=(290, 50),
            padding_bottom_right=(20, 0),
        )
    return fmap


SITE_CLASSES: tuple[tuple[int, int | None, str, str], ...] = (
    (0, 0, "#d7191c", "none: a coverage gap"),
    (1, 2, "#fdae61", "1 or 2"),
    (3, 9, "#abd9e9", "3 to 9"),
    (10, None, "#2c7bb6", "10 or more"),
)
"""The classes of suppliers in reach: (from, to or None, colour, label)."""

_SITE_UNMATCHED = "#969696"


def _site_colour(count: Any) -> str:
    if count is None or pd.isna(count):
        return _SITE_UNMATCHED
    for low, high, colour, _ in SITE_CLASSES:
        if count >= low and (high is None or count <= high):
            return colour
    return _SITE_UNMATCHED


def _sites_layer(
    fmap: folium.Map,
    fg: folium.FeatureGroup,
    sites: Any,
    band_m: int | None,
    used: list[Any],
    extent: Any,
) -> None:
    """Add the sites layer: coloured by suppliers within ``band_m``, popups of the nearest."""
    match = sites if hasattr(sites, "pairs") and hasattr(sites, "bands_m") else None
    frame = _frame(sites, "sites", "sites", "a SupplierMatch or a GeoDataFrame of sites")
    assert frame is not None
    if band_m is None:
        bands = list(match.bands_m) if match is not None else [_DEFAULT_SITES_BAND_M]
        band_m = min(bands, key=lambda b: (abs(b - _DEFAULT_SITES_BAND_M), b))
    if match is not None and band_m not in match.bands_m:
        raise InputError(
            f"render_map: sites_band_m {band_m!r} is not one of the match's bands "
            f"{list(match.bands_m)}"
        )
    column = f"n_suppliers_{band_m}m"
    counts = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index)
    by_site: dict[int, list[dict[str, Any]]] = {}
    if match is not None:  # the five nearest of each site, in rank order
        nearest_five = match.pairs[match.pairs["rank"] <= 5].sort_values(
            ["site_row", "rank"], kind="stable"
        )
        for pair in nearest_five.to_dict("records"):
            by_site.setdefault(int(pair["site_row"]), []).append(pair)
    styles, popups = [], []
    for i, row in enumerate(frame.to_dict("records")):
        colour = _site_colour(counts.iloc[i])
        styles.append(
            {
                "radius": 5,
                "fill": True,
                "fillColor": colour,
                "fillOpacity": 0.8,
                "color": "#252525",
                "weight": 0.8,
            }
        )
        rows: list[tuple[str, Any]] = [
            ("reference", row.get("site_reference")),
            ("authority", row.get("authority")),
            ("programme", row.get("programme")),
            ("net dwellings", fmt(row.get("dwellings"), 0)),
            ("status", row.get("site_status")),
        ]
        if match is not None:
            for band in match.bands_m:
                rows.append(
                    (
                        f"suppliers within {band / 1000:g} km",
                        fmt(row.get(f"n_suppliers_{band}m"), 0),
                    )
                )
            for pair in by_site.get(i, []):
                where = f"{pair['distance_m'] / 1000:.1f} km, SIC {pair['sic_code']}"
                if pair["approximate_position"]:
                    where += " (approximate position)"
                rows.append((f"{int(pair['rank'])}. {display_text(pair['organisation'])}", where))
        popups.append(html_table(display_text(row.get("site_name")) or "Site", rows))
    features = area_features(frame, styles=styles, popups=popups, tooltips=None)
    AreaLayer(features, fg).add_to(fmap)
    if match is not None:
        legend_rows = [
            (colour, f"{label} ({int(_count_in(counts, low, high)):,})")
            for low, high, colour, label in SITE_CLASSES
        ]
        legend_rows.append((_SITE_UNMATCHED, f"not matched ({int(counts.isna().sum()):,})"))
        note = (
            f"Matching social economy suppliers within {band_m / 1000:g} km in a straight "
            "line (not travel distance); click a site for the nearest."
        )
    else:
        legend_rows = [(_SITE_UNMATCHED, f"site ({len(features):,}); not matched to suppliers")]
        note = None
    Legend(fg, title="Investment sites: suppliers in reach", rows=legend_rows, note=note).add_to(
        fmap
    )
    used.append(frame)
    extent(frame)


def _count_in(counts: pd.Series, low: int, high: int | None) -> int:
    values = counts.astype("float64")
    inside = values >= low
    if high is not None:
        inside &= values <= high
    return int(inside.sum())


def _credits(used: list[Any]) -> list[str]:
    """Attribution lines of what was drawn, each once.

    A line that another one contains is left out ("Source: ONS …" inside
    "Source: ONS … Contains OS data …").
    """
    lines = list(dict.fromkeys(attribution_lines(*used)))
    return [line for line in lines if not any(line != o and line in o for o in lines)]


def _add_size(fmap: folium.Map, fg: folium.FeatureGroup, size: Any) -> None:
    """Add the size layer: a SizeResult's areas shaded by their first money total (or count)."""
    from socecon_geo.maps._size import size_layer_parts

    if hasattr(size, "areas") and hasattr(size, "params"):
        areas, params = size.areas, size.params
    elif isinstance(size, gpd.GeoDataFrame) and "n_organisations" in size.columns:
        areas, params = size, dict(size.attrs)
    else:
        raise InputError(
            "render_map: size must be the SizeResult of social_economy_size (or its .areas), "
            f"not {type(size).__name__}"
        )
    level = str(params.get("level", "ward"))
    code = next((c for c in (f"{level}_code", "ward_code", "lad_code") if c in areas), None)
    if code is None:
        raise InputError("render_map: the size areas have no area code column")
    name = code.replace("_code", "_name")
    measures = tuple(params.get("measures", ("count",)))
    features, rows, words = size_layer_parts(
        areas.to_crs(27700) if areas.crs is not None else areas,
        measures,
        code,
        name if name in areas else None,
    )
    AreaLayer(features, fg).add_to(fmap)
    active = "active " if params.get("active_only", True) else ""
    Legend(
        fg,
        title=f"Size of the social economy: {words} by {level}",
        rows=rows,
        note=f"Totals of {active}organisations registered in each area; five classes of "
        "equal numbers of areas. A register's address is where an organisation is "
        "registered, not always where it works.",
    ).add_to(fmap)


def get_provenance_all(items: list[Any]) -> list[Any]:
    """Provenance records of frames and record tuples, each once, in order."""
    from socecon_geo.provenance import combine_provenance

    return list(combine_provenance(*items))

"""``render_map`` and ``save_map``: the map a planner opens."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import Fullscreen

from socecon_geo._atomic import write_atomic
from socecon_geo._errors import InputError
from socecon_geo.maps._elements import (
    AreaLayer,
    Legend,
    MapText,
    PageStyle,
    PointLayer,
    SearchControl,
)
from socecon_geo.maps._layers import (
    DECILE_COLOURS,
    TYPE_COLOURS,
    area_features,
    fmt,
    html_table,
    point_data,
)
from socecon_geo.provenance import attribution_lines

if TYPE_CHECKING:
    from socecon_geo.geography import Geography

__all__ = ["DEFAULT_MAX_MARKERS", "LAYER_NAMES", "render_map", "save_map"]

DEFAULT_MAX_MARKERS = 5_000
"""Above this many organisations the markers are drawn on a canvas, not clustered."""

LAYER_NAMES: dict[str, str] = {
    "deprivation": "Deprivation (LSOA decile)",
    "wards": "Wards",
    "organisations": "Organisations",
    "strengths": "Candidate clusters (strengths)",
    "gaps": "Gaps: high need, thin presence",
    "hotspots": "Hot and cold spots",
}
"""The layer-control name of each layer."""

_POSITRON = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
_POSITRON_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
    'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>'
)

_EDITION_LAYER = {"iod2025": "lsoa21", "iod2019": "lsoa11"}
_EDITION_CODE = {"iod2025": "lsoa21_code", "iod2019": "lsoa11_code"}
_EDITION_TITLE = {"iod2025": "IoD2025", "iod2019": "IoD2019"}

_CLASS_LABELS = {
    "hot_99": "hot spot, 99% confidence",
    "hot_95": "hot spot, 95%",
    "hot_90": "hot spot, 90%",
    "cold_99": "cold spot, 99% confidence",
    "cold_95": "cold spot, 95%",
    "cold_90": "cold spot, 90%",
    "high_high": "high among high (local Moran)",
    "high_low": "high among low",
    "low_high": "low among high",
    "low_low": "low among low",
    "not_significant": "not significant",
    "no_neighbours": "no neighbours (not tested)",
    "no_value": "no value (not tested)",
}


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


def _deprivation_layer(
    geo: Geography, edition: str, domain: str, group: folium.FeatureGroup
) -> tuple[list[dict[str, Any]], str]:
    if edition not in _EDITION_LAYER:
        raise InputError(
            f"render_map: deprivation must be one of {sorted(_EDITION_LAYER)} or None, "
            f"not {edition!r}"
        )
    lsoas = geo.layer(_EDITION_LAYER[edition])
    table = geo.deprivation(edition)
    column = f"{domain}_decile"
    if column not in table.columns:
        domains = sorted(c[: -len("_decile")] for c in table.columns if c.endswith("_decile"))
        raise InputError(
            f"render_map: domain {domain!r} is not in the {edition} table; choose one of {domains}"
        )
    code = _EDITION_CODE[edition]
    deciles = pd.Series(table[column].to_numpy(), index=table["lsoa_code"].astype(str))
    decile = lsoas[code].astype(str).map(deciles)
    styles, tooltips = [], []
    names = lsoas.get(code.replace("_code", "_name"), lsoas[code])
    for c, name, d in zip(lsoas[code], names, decile, strict=True):
        known = pd.notna(d)
        colour = DECILE_COLOURS[int(d) - 1] if known else "#ffffff"
        styles.append({"fillColor": colour, "fillOpacity": 0.55, "color": "#9e9e9e", "weight": 0.3})
        tooltips.append(
            html_table(
                str(name),
                [("LSOA", c), (f"{domain} decile", int(d) if known else "not known")],
            )
        )
    features = area_features(lsoas, styles=styles, tooltips=tooltips)
    return features, column


def _ward_tooltips(wards: gpd.GeoDataFrame, classes: pd.Series | None) -> list[str]:
    out = []
    for i, (_, row) in enumerate(wards.iterrows()):
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


def _strength_popup(row: pd.Series) -> str:
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


def _gap_popup(row: pd.Series) -> str:
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
    title: str | None = None,
    subtitle: str | None = None,
    tiles: str | None = "CartoDB positron",
    max_markers: int = DEFAULT_MAX_MARKERS,
    n_gaps: int = 20,
    search: bool = True,
    table_link: str | None = None,
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
        The domain whose decile is drawn (``"imd"``, ``"income"``, ``"health"``, …).
    title, subtitle : str, optional
        Shown in the title box; by default the study area, data vintages and date.
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
        tiles=None if tiles == "CartoDB positron" else tiles,
        control_scale=True,
        prefer_canvas=False,
    )
    if tiles == "CartoDB positron":  # by URL: folium warns of an API key for the name
        folium.TileLayer(_POSITRON, attr=_POSITRON_ATTR, name="CartoDB positron").add_to(fmap)
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

    if deprivation is not None and geography is not None:
        fg = group("deprivation")
        features, _ = _deprivation_layer(geography, deprivation, domain, fg)
        AreaLayer(features, fg).add_to(fmap)
        edition = _EDITION_TITLE[deprivation]
        vintages.append(edition)
        rows = [(c, f"decile {i + 1}") for i, c in enumerate(DECILE_COLOURS)]
        rows[0] = (DECILE_COLOURS[0], "decile 1: most deprived 10% in England")
        rows[-1] = (DECILE_COLOURS[-1], "decile 10: least deprived 10%")
        Legend(
            fg,
            title=f"{edition} {domain.replace('_', ' ')} decile (LSOA)",
            rows=rows,
            note="White: no value.",
        ).add_to(fmap)
        used.append(geography.provenance)
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
        AreaLayer(area_features(spots_frame, styles=styles, tooltips=tooltips), fg).add_to(fmap)
        present = [c for c in CLASS_COLOURS if (values == c).any()]
        Legend(
            fg,
            title="Hot and cold spots (Gi* / local Moran, FDR-adjusted)",
            rows=[(CLASS_COLOURS[c], _CLASS_LABELS[c]) for c in present],
        ).add_to(fmap)
        used.append(spots_frame)
        extent(spots_frame)

    if gaps is not None and len(gaps) and n_gaps:
        fg = group("gaps", show=False)
        top = gaps[gaps["rank"].notna()].sort_values("rank").head(n_gaps)
        styles = [
            {"fillColor": "#e66101", "fillOpacity": 0.45, "color": "#b35806", "weight": 2}
        ] * len(top)
        popups = [_gap_popup(row) for _, row in top.iterrows()]
        labels = [f"{int(r)}" for r in top["rank"]]
        features = area_features(top, styles=styles, popups=popups, labels=labels, tooltips=None)
        AreaLayer(features, fg).add_to(fmap)
        Legend(
            fg,
            title=f"Gaps: top {len(top)} places of high need and thin presence",
            rows=[("#e66101", "labelled by rank; click for the score and why")],
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
            popups = [_strength_popup(row) for _, row in frame.iterrows()]
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
                for _, row in frame.iterrows()
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
                    "labelled by rank; click for the score breakdown"
                    if ranked
                    else "labelled by cluster number",
                )
            ],
        ).add_to(fmap)
        used.append(shown_clusters)
        extent(shown_clusters)

    if points is not None:
        fg = group("organisations")
        data, missing = point_data(points)
        n = len(data["lat"])
        cluster = n <= max_markers
        PointLayer(data, fg, cluster=cluster).add_to(fmap)
        note = f"{n:,} shown" + ("" if cluster else " (fast canvas drawing)")
        if missing:
            note += f"; {missing:,} without a location not shown"
        counts = pd.Series(data["type"]).value_counts()
        types = list(TYPE_COLOURS)
        rows = [
            (TYPE_COLOURS[t], f"{t.replace('_', ' ')} ({int(counts.get(i, 0)):,})")
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
    geo_name = getattr(geography, "name", None)
    MapText(
        title=title if title is not None else "The social economy and deprivation",
        subtitle=subtitle if subtitle is not None else _default_subtitle(geo_name, vintages),
        credits=attribution_lines(*used),
        table_link=table_link,
    ).add_to(fmap)
    Fullscreen(position="topleft").add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    if bounds:
        xs0, ys0, xs1, ys1 = zip(*bounds, strict=True)
        fmap.fit_bounds([[min(ys0), min(xs0)], [max(ys1), max(xs1)]])
    return fmap


def get_provenance_all(items: list[Any]) -> list[Any]:
    """Provenance records of frames and record tuples, each once, in order."""
    from socecon_geo.provenance import combine_provenance

    return list(combine_provenance(*items))


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def numbered_ids(html: str) -> str:
    """Replace folium's random element ids with numbers, in order of appearance.

    folium names each element ``<kind>_<32 random hex digits>``; numbering them makes
    the same map give the same page, byte for byte.
    """
    ids: dict[str, str] = {}
    return _ELEMENT_ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids) + 1:032d}"), html)


def save_map(fmap: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write a map's HTML (UTF-8) to a temporary file beside ``path``, then rename it.

    folium's random element ids are numbered in order (:func:`numbered_ids`), so the
    same map always gives the same file.

    Parameters
    ----------
    fmap : folium.Map
    path : str or path-like
        The HTML file to write; its folder must exist.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(fmap, folium.Map):
        raise InputError(f"save_map: expected a folium.Map, not {type(fmap).__name__}")
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(
            f"save_map: the folder {str(target.parent)!r} does not exist; create it first"
        )
    html = numbered_ids(fmap.get_root().render())
    return write_atomic(target, lambda p: p.write_text(html, encoding="utf-8"))

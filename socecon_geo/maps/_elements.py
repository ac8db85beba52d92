"""Leaflet elements of the map, each a folium ``MacroElement`` with its own template.

Data reach the page only through :func:`~socecon_geo.maps._escape.script_json` (and
HTML inside the data was escaped by :func:`~socecon_geo.maps._escape.escape_html`
before), so folium's template substitution never sees input text: the templates below
insert only names of Leaflet objects and already-encoded JSON.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from folium.template import Template

from socecon_geo.maps._escape import escape_html, script_json

__all__ = [
    "AreaLayer",
    "DeprivationLayer",
    "LayerHeadings",
    "Legend",
    "MapText",
    "PageStyle",
    "PointLayer",
    "SearchControl",
]


class AreaLayer(MacroElement):
    """Polygons of one layer as one ``L.geoJSON``, styled and labelled per feature.

    Point features are drawn as circle markers with their ``_style`` (``radius`` too).
    Each feature's properties carry ``_style`` (Leaflet path options), ``_tooltip``
    and ``_popup`` (escaped HTML), and ``_label`` (a permanent label, escaped).
    ``pane`` (name, z-index) draws the layer in its own map pane.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var data = {{ this.data_json }};
            var map = {{ this._parent.get_name() }};
            var pane = {{ this.pane_json }};
            if (pane && !map.getPane(pane[0])) { map.createPane(pane[0]).style.zIndex = pane[1]; }
            var layer = L.geoJSON(data, {
                pane: pane ? pane[0] : "overlayPane",
                style: function(f) { return f.properties._style; },
                pointToLayer: function(f, latlng) {
                    return L.circleMarker(latlng, f.properties._style);
                },
                onEachFeature: function(f, l) {
                    var p = f.properties;
                    if (p._tooltip) { l.bindTooltip(p._tooltip, {sticky: true}); }
                    if (p._popup) { l.bindPopup(p._popup, {maxWidth: 360}); }
                    if (f.properties._label) {
                        l.bindTooltip(f.properties._label,
                            {permanent: true, direction: "center",
                             className: {{ this.label_class_json }}});
                    }
                }
            });
            layer.addTo({{ this.group }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict[str, Any]],
        group: folium.FeatureGroup,
        *,
        label_class: str = "socecon-label",
        pane: tuple[str, int] | None = None,
    ) -> None:
        super().__init__()
        self._name = "AreaLayer"
        self.label_class_json = script_json(label_class)
        self.pane_json = script_json(list(pane) if pane else None)
        self.data_json = script_json({"type": "FeatureCollection", "features": features})
        self.group = group.get_name()


class DeprivationLayer(MacroElement):
    """The LSOA choropleth with every domain in one ``L.geoJSON``, restyled on a switch.

    Each domain is its own (empty) base layer of the layer control, so the domains are
    radio choices and each has its own legend. The LSOA outlines are sent once: every
    feature carries ``n`` (name), ``c`` (code) and ``d``, its decile in each domain in
    the order of ``domains``. When a domain's layer is switched on, the one GeoJSON
    layer moves into it and is restyled; the tooltip, built with ``textContent``, names
    the domain shown. The polygons sit in their own pane below the other layers, so
    the ward outlines and clusters stay on top (and clickable) whichever is chosen.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var d = {{ this.data_json }};
            var groups = [{{ this.groups|join(", ") }}];
            var pane = map.getPane("socecon-deprivation") || map.createPane("socecon-deprivation");
            pane.style.zIndex = 350;
            var current = 0;
            function decile(p, k) {
                var v = p.d[k];
                return v === null || v === undefined ? null : v;
            }
            function style(f) {
                var v = decile(f.properties, current);
                return {fillColor: v === null ? "#ffffff" : d.colours[v - 1],
                        fillOpacity: 0.55, color: "#9e9e9e", weight: 0.3};
            }
            function tip(l) {
                var p = l.feature.properties;
                var box = document.createElement("div");
                box.className = "socecon-popup";
                var head = document.createElement("strong");
                head.textContent = p.n;
                box.appendChild(head);
                var table = document.createElement("table");
                function row(label, value) {
                    var r = table.insertRow();
                    var th = document.createElement("th");
                    th.textContent = label;
                    r.appendChild(th);
                    r.insertCell().textContent = value === null ? "not known" : String(value);
                }
                row("LSOA", p.c);
                row(d.short[current] + " decile", decile(p, current));
                if (d.imd >= 0 && current !== d.imd) {
                    row(d.short[d.imd] + " decile", decile(p, d.imd));
                }
                var note = document.createElement("div");
                note.className = "socecon-legend-note";
                note.textContent = "1 = most deprived 10% in England, 10 = least";
                box.appendChild(table);
                box.appendChild(note);
                return box;
            }
            var geo = L.geoJSON(d.features, {
                pane: "socecon-deprivation",
                style: style,
                onEachFeature: function(f, l) { l.bindTooltip(tip, {sticky: true}); }
            });
            groups.forEach(function(g, k) {
                g.on("add", function() { current = k; geo.setStyle(style); g.addLayer(geo); });
                g.on("remove", function() { g.removeLayer(geo); });
                if (map.hasLayer(g)) { current = k; geo.setStyle(style); g.addLayer(geo); }
            });
            window.socecon_deprivation = {
                layer: geo,
                domain: function() { return map.hasLayer(geo) ? d.keys[current] : null; }
            };
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict[str, Any]],
        groups: list[folium.FeatureGroup],
        *,
        keys: list[str],
        labels: list[str],
        short: list[str],
        colours: tuple[str, ...],
    ) -> None:
        super().__init__()
        self._name = "DeprivationLayer"
        self.groups = [g.get_name() for g in groups]
        self.data_json = script_json(
            {
                "type": "FeatureCollection",
                "features": features,
                "keys": keys,
                "labels": labels,
                "short": short,
                "colours": list(colours),
                "imd": keys.index("imd") if "imd" in keys else -1,
            }
        )


class LayerHeadings(MacroElement):
    """Headings in the layer control: one over the deprivation choices, one over the layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var control = {{ this.control }};
            var box = control.getContainer();
            var heads = {{ this.heads_json }};
            [[".leaflet-control-layers-base", heads[0]],
             [".leaflet-control-layers-overlays", heads[1]]].forEach(function(pair) {
                var list = box.querySelector(pair[0]);
                if (!list || !pair[1]) { return; }
                var head = document.createElement("div");
                head.className = "socecon-control-heading";
                head.textContent = pair[1];
                list.parentNode.insertBefore(head, list);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, control: folium.LayerControl, *, base: str | None, overlays: str | None
    ) -> None:
        super().__init__()
        self._name = "LayerHeadings"
        self.control = control.get_name()
        self.heads_json = script_json([base, overlays])


class PointLayer(JSCSSMixin, MacroElement):
    """Organisations as circle markers from column arrays, clustered or on a canvas.

    ``data`` holds parallel lists (``lat``, ``lon``, ``type`` index, and the popup
    fields as raw text); popups are built in the browser with ``textContent``, so no
    value is ever parsed as HTML. With ``cluster`` the markers go into a
    ``L.markerClusterGroup`` kept inside the layer's own group (folium#1871); without,
    they are drawn on one shared canvas renderer, the fast path for large counts.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var d = {{ this.data_json }};
            var group = {{ this.group }};
            var map = {{ this._parent.get_name() }};
            // clustering needs a maximum zoom, which only a basemap gives (tiles=None)
            if (map.options.maxZoom === undefined) { map.options.maxZoom = 19; }
            var target = group;
            var renderer = L.canvas({padding: 0.5});
            if ({{ this.cluster_json }}) {
                target = L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 50});
                target.addTo(group);
            }
            var fields = d.fields;
            function popup(i) {
                var box = document.createElement("div");
                box.className = "socecon-popup";
                var head = document.createElement("strong");
                head.textContent = d.name[i];
                box.appendChild(head);
                var table = document.createElement("table");
                for (var k = 0; k < fields.length; k++) {
                    var value = d.values[k][i];
                    if (value === null || value === "") { continue; }
                    var row = table.insertRow();
                    var th = document.createElement("th");
                    th.textContent = fields[k];
                    row.appendChild(th);
                    row.insertCell().textContent = value;
                }
                box.appendChild(table);
                return box;
            }
            var markers = new Array(d.lat.length);
            var batch = [];
            for (var i = 0; i < d.lat.length; i++) {
                var m = L.circleMarker([d.lat[i], d.lon[i]], {
                    renderer: renderer, radius: 5, weight: 1, color: "#333333",
                    fillColor: d.colours[d.type[i]], fillOpacity: 0.9
                });
                m.bindPopup((function(j) { return function() { return popup(j); }; })(i));
                markers[i] = m;
                batch.push(m);
            }
            if (target.addLayers) { target.addLayers(batch); }
            else { for (var b = 0; b < batch.length; b++) { batch[b].addTo(target); } }
            window.socecon_points = {data: d, markers: markers, target: target, group: group};
        })();
        {% endmacro %}
        """
    )

    default_js = MarkerCluster.default_js
    default_css = MarkerCluster.default_css

    def __init__(self, data: dict[str, Any], group: folium.FeatureGroup, *, cluster: bool) -> None:
        super().__init__()
        self._name = "PointLayer"
        self.data_json = script_json(data)
        self.group = group.get_name()
        self.cluster_json = "true" if cluster else "false"


class Legend(MacroElement):
    """A legend tied to one layer: shown while the layer is on the map, hidden when off.

    The legend follows its layer's own ``add`` / ``remove`` events, so it appears and
    disappears with the layer however it is switched: an overlay's check box, a base
    layer's radio button, or a script (folium#1052). ``rows`` are (colour, label)
    pairs; every text is escaped here. ``swatch``: ``"box"``, ``"dot"``, or ``"ramp"``
    (one row of numbered boxes with the first and last labels below, for deciles).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.group }};
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "socecon-legend");
                div.setAttribute("data-layer", {{ this.layer_json }});
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            function sync() {
                if (map.hasLayer(layer)) { legend.addTo(map); } else { legend.remove(); }
            }
            // the layer's own add/remove events: fired by the layer control's check
            // boxes and radio buttons alike, and by any script that switches the layer
            layer.on("add remove", sync);
            map.whenReady(sync);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        group: folium.FeatureGroup,
        *,
        title: str,
        rows: list[tuple[str, str]],
        note: str | None = None,
        swatch: str = "box",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.group = group.get_name()
        self.layer_name = group.layer_name
        self.layer_json = script_json(group.layer_name)
        style = "border-radius:50%;" if swatch == "dot" else ""
        if swatch == "ramp":  # one row of numbered boxes, the labels of both ends below
            cells = "".join(
                f'<span style="background:{escape_html(colour)};color:'
                f'{"#ffffff" if i < len(rows) // 2 else "#000000"}">{i + 1}</span>'
                for i, (colour, _) in enumerate(rows)
            )
            items = (
                f'<div class="socecon-ramp">{cells}</div><div class="socecon-ramp-ends">'
                f"<span>{escape_html(rows[0][1])}</span>"
                f"<span>{escape_html(rows[-1][1])}</span></div>"
            )
        else:
            items = "".join(
                f'<div class="socecon-legend-row"><span class="socecon-swatch" style="{style}'
                f'background:{escape_html(colour)}"></span>{escape_html(label)}</div>'
                for colour, label in rows
            )
        foot = f'<div class="socecon-legend-note">{escape_html(note)}</div>' if note else ""
        self.html_json = script_json(
            f'<div class="socecon-legend-title">{escape_html(title)}</div>{items}{foot}'
        )


class MapText(MacroElement):
    """The title box (title, subtitle) and the source attribution, all escaped."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var box = L.control({position: "topleft"});
            box.onAdd = function() {
                var div = L.DomUtil.create("div", "socecon-title");
                div.innerHTML = {{ this.html_json }};
                return div;
            };
            box.addTo(map);
            var credits = {{ this.credits_json }};
            if (map.attributionControl) {
                for (var i = 0; i < credits.length; i++) {
                    map.attributionControl.addAttribution(credits[i]);
                }
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, *, title: str, subtitle: str | None, credits: list[str], table_link: str | None
    ) -> None:
        super().__init__()
        self._name = "MapText"
        sub = f'<div class="socecon-subtitle">{escape_html(subtitle)}</div>' if subtitle else ""
        link = (
            f'<div class="socecon-table-link"><a href="{escape_html(table_link)}">'
            "The same results as accessible tables (no JavaScript needed)</a></div>"
            if table_link
            else ""
        )
        self.html_json = script_json(f"<h1>{escape_html(title)}</h1>{sub}{link}")
        self.credits_json = script_json(
            [f'<span class="socecon-credit">{escape_html(c)}</span>' for c in credits]
        )


class SearchControl(MacroElement):
    """Search organisations by name: a box listing matches, built with ``textContent``.

    Choosing a match zooms to the organisation (opening its cluster) and opens its
    popup. Matching ignores case and treats typographic and plain apostrophes alike.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            function norm(s) {
                return String(s).toLowerCase().replace(/[\\u2018\\u2019\\u02bc]/g, "'");
            }
            var control = L.control({position: "topright"});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", "socecon-search");
                var input = L.DomUtil.create("input", "", div);
                input.type = "search";
                input.placeholder = "Search organisations by name";
                input.setAttribute("aria-label", "Search organisations by name");
                var list = L.DomUtil.create("ul", "", div);
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                input.addEventListener("input", function() {
                    list.textContent = "";
                    var points = window.socecon_points;
                    var q = norm(input.value.trim());
                    if (!points || q.length < 2) { return; }
                    var names = points.data.name, shown = 0;
                    for (var i = 0; i < names.length && shown < 10; i++) {
                        if (norm(names[i]).indexOf(q) < 0) { continue; }
                        var li = L.DomUtil.create("li", "", list);
                        li.textContent = names[i];
                        li.tabIndex = 0;
                        (function(j) {
                            function go() {
                                var m = points.markers[j];
                                if (!map.hasLayer(points.group)) { map.addLayer(points.group); }
                                if (points.target.zoomToShowLayer) {
                                    var opened = false;
                                    points.target.zoomToShowLayer(m, function() {
                                        opened = true;
                                        m.openPopup();
                                    });
                                    // a stacked address may stay clustered: open it anyway
                                    setTimeout(function() {
                                        if (opened) { return; }
                                        var c = m.getPopup().getContent();
                                        L.popup().setLatLng(m.getLatLng())
                                            .setContent(typeof c === "function" ? c(m) : c)
                                            .openOn(map);
                                    }, 2000);
                                } else {
                                    map.setView(m.getLatLng(), Math.max(map.getZoom(), 15));
                                    m.openPopup();
                                }
                            }
                            li.addEventListener("click", go);
                            li.addEventListener("keydown", function(e) {
                                if (e.key === "Enter") { go(); }
                            });
                        })(i);
                        shown++;
                    }
                });
                return div;
            };
            control.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "SearchControl"


class PageStyle(MacroElement):
    """The map's CSS: title box, legends, labels, search, and a light background."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .leaflet-container { background: #f7f7f5; }
        .socecon-title { background: rgba(255,255,255,0.92); padding: 6px 10px; max-width: 420px;
            border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 13px sans-serif; }
        .socecon-title h1 { font-size: 16px; margin: 0 0 2px 0; }
        .socecon-subtitle { color: #444; }
        .socecon-legend { background: rgba(255,255,255,0.92); padding: 6px 8px;
            font: 12px sans-serif; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
            max-width: 260px; }
        .socecon-ramp { display: flex; margin: 2px 0; }
        .socecon-ramp span { flex: 1; text-align: center; font-size: 11px; padding: 2px 0;
            min-width: 22px; }
        .socecon-ramp-ends { display: flex; justify-content: space-between; gap: 8px;
            font-size: 11px; }
        .socecon-ramp-ends span:last-child { text-align: right; }
        .socecon-legend-title { font-weight: bold; margin-bottom: 3px; }
        .socecon-legend-note { color: #555; margin-top: 3px; }
        .socecon-swatch { display: inline-block; width: 14px; height: 14px; margin-right: 6px;
            vertical-align: middle; border: 1px solid #555; }
        .leaflet-tooltip, .leaflet-popup-content { font-family: sans-serif; font-size: 12px; }
        .socecon-popup strong { font-size: 13px; }
        /* rank labels: dark boxes, unlike the white circles counting organisations */
        .leaflet-tooltip.socecon-label { background: #08306b; border: 1px solid #ffffff;
            color: #ffffff; font-size: 13px; font-weight: bold; padding: 0 4px;
            box-shadow: 0 0 2px #000000; }
        .leaflet-tooltip.socecon-label-gap { background: #b35806; }
        .socecon-search { background: #fff; padding: 4px; border-radius: 4px;
            box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px sans-serif; }
        .socecon-search input { width: 220px; }
        .socecon-search ul { list-style: none; margin: 0; padding: 0; max-width: 240px; }
        .socecon-search li { cursor: pointer; padding: 2px; }
        .socecon-search li:hover, .socecon-search li:focus { background: #e0ecf4; }
        .leaflet-control-layers { font: 12px sans-serif; }
        .leaflet-control-attribution { font-size: 10px; max-width: 60%; }
        /* marker clusters: neutral counts, not the type or decile colours */
        .leaflet-container .marker-cluster-small, .leaflet-container .marker-cluster-medium,
        .leaflet-container .marker-cluster-large { background-color: rgba(40, 40, 40, 0.25); }
        .leaflet-container .marker-cluster-small div, .leaflet-container .marker-cluster-medium div,
        .leaflet-container .marker-cluster-large div {
            background-color: rgba(255, 255, 255, 0.95); box-shadow: 0 0 0 2px #333;
            color: #111; font-weight: bold; }
        .socecon-control-heading { font-weight: bold; margin: 2px 0 2px 0; }
        .socecon-popup th { text-align: left; padding-right: 6px; font-weight: normal;
            color: #555; }
        </style>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "PageStyle"

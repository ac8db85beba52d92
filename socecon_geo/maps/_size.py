"""The size layer of the map: the areas of a size result, shaded by one total."""

from __future__ import annotations

from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from socecon_geo._tables import row_records
from socecon_geo.maps._layers import area_features, fmt, html_table

__all__ = ["SIZE_COLOURS", "size_column", "size_layer_parts"]

SIZE_COLOURS: Final[tuple[str, ...]] = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
"""Five greens, light (smallest) to dark (largest): ColorBrewer Greens, readable in grey."""

_NONE: Final = "#ffffff"


def size_column(areas: pd.DataFrame, measures: tuple[str, ...]) -> tuple[str, str]:
    """Return the column a size map shades and its words: the first money total, or the count."""
    for measure in measures:
        column = f"{measure}_total"
        if measure != "count" and column in areas.columns and areas[column].notna().any():
            return column, "income (£)" if measure == "income" else measure.replace("_", " ")
    return "n_organisations", "organisations"


def _classes(values: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Quintile classes of the positive values (0 for zero or missing), and their bounds."""
    positive = np.isfinite(values) & (values > 0)
    classes = np.zeros(len(values), dtype=int)
    bounds: list[tuple[float, float]] = []
    if not positive.any():
        return classes, bounds
    edges = np.unique(np.quantile(values[positive], np.linspace(0, 1, 6)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    found = np.clip(np.searchsorted(edges, values[positive], side="right"), 1, len(edges) - 1)
    classes[positive] = found
    bounds = [(float(edges[i - 1]), float(edges[i])) for i in range(1, len(edges))]
    return classes, bounds


def size_layer_parts(
    areas: gpd.GeoDataFrame, measures: tuple[str, ...], code: str, name: str | None
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], str]:
    """Return the features, the legend rows and the title of the size layer.

    Areas with nothing (zero or unknown) are white; the others fall in five classes of
    equal numbers of areas (quintiles of the positive values), light to dark.
    """
    column, words = size_column(areas, measures)
    values = pd.to_numeric(areas[column], errors="coerce").to_numpy(dtype="float64")
    classes, bounds = _classes(values)
    colours = SIZE_COLOURS[-len(bounds) :] if bounds else ()
    styles = [
        {
            "fillColor": colours[c - 1] if c else _NONE,
            "fillOpacity": 0.75,
            "color": "#636363",
            "weight": 0.5,
        }
        for c in classes
    ]
    money = column.startswith("income")
    tooltips = []
    for row in row_records(areas):
        lines: list[tuple[str, Any]] = [
            ("code", row.get(code)),
            ("organisations", fmt(row.get("n_organisations"), 0)),
        ]
        if column != "n_organisations":
            lines += [
                (words, fmt(row.get(column), 0)),
                ("of which flagged as possibly national", fmt(row.get(f"{column}_difference"), 0)),
                (
                    "known for",
                    fmt(row.get(column.replace("_total", "_known")), 0) + " organisations",
                ),
            ]
        tooltips.append(html_table(str(row.get(name)) if name else None, lines))
    digits = 0
    rows = [("#ffffff", "none")] + [
        (colours[i], f"{'£' if money else ''}{fmt(low, digits)} – {fmt(high, digits)}")
        for i, (low, high) in enumerate(bounds)
    ]
    return area_features(areas, styles=styles, tooltips=tooltips), rows, words

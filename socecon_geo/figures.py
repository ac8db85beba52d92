"""The static figure: deprivation and candidate clusters, for reports and committee papers.

:func:`plot_deprivation` draws the LSOAs of a study area by their Index of Multiple
Deprivation decile (decile 1 = England's most deprived 10%), the ward and authority
outlines, and the candidate clusters labelled by rank, with a legend naming the
vintage, a scale bar, a north arrow and the sources credited from the provenance
records. :func:`save_figure` writes it as PNG or SVG. Matplotlib is used through
geopandas, on a :class:`matplotlib.figure.Figure` of its own (no pyplot state, no
interactive backend needed).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from socecon_geo._atomic import write_atomic
from socecon_geo._errors import InputError
from socecon_geo.provenance import attribution_lines, get_provenance, with_provenance

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from socecon_geo.geography import Geography

__all__ = [
    "DECILE_COLOURS",
    "MAX_LABELS",
    "SERIES_COLOURS",
    "plot_deprivation",
    "plot_trajectory",
    "save_figure",
]

# Ten steps of viridis, decile 1 (most deprived) darkest: its lightness rises steadily,
# so the order survives greyscale printing and the common colour-vision deficiencies.
DECILE_COLOURS: Final[tuple[str, ...]] = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)
# Okabe and Ito's eight colours, told apart under the common colour-vision deficiencies;
# black is kept for the required path.
SERIES_COLOURS: Final[tuple[str, ...]] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
)
_NO_DATA: Final = "#d9d9d9"
_CLUSTER_EDGE: Final = "#d7301f"
_FIGSIZE: Final = (8.27, 6.6)
_DPI: Final = 150
MAX_LABELS: Final = 20
"""At most this many clusters are labelled (the strongest); the others are outlined only."""
_RASTER_OUTLINES: Final = 500  # more cluster outlines than this are drawn as pixels in an SVG
_FORMATS: Final = {".png": "png", ".svg": "svg"}
_SVG_SALT: Final = "socecon_geo"


def _frame_of(value: Any, attribute: str, what: str) -> gpd.GeoDataFrame:
    frame = value if isinstance(value, pd.DataFrame) else getattr(value, attribute, None)
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = (
            f"{what} must be a GeoDataFrame or a result with .{attribute}, "
            f"not {type(value).__name__}."
        )
        raise InputError(msg)
    if frame.crs is None:
        msg = f"{what} has no CRS; set it (EPSG:27700) with .set_crs(27700)."
        raise InputError(msg)
    return frame


def _lsoa_deciles(geography: Geography) -> tuple[gpd.GeoDataFrame, str]:
    if not geography.has_layer("lsoa21") or "iod2025" not in geography.editions:
        msg = (
            f"Nothing to show: the geography {geography.name!r} needs an LSOA 2021 layer "
            f"and the IoD2025 table for the deprivation map (it has levels "
            f"{', '.join(geography.levels) or 'none'} and deprivation "
            f"{', '.join(geography.editions) or 'none'}); use socecon_geo.load_geography() "
            "or pass them to Geography(layers=..., deprivation=...)."
        )
        raise InputError(msg)
    lsoas = geography.layer("lsoa21")
    iod = geography.deprivation("iod2025")
    deciles = pd.Series(
        pd.to_numeric(iod["imd_decile"], errors="coerce").to_numpy(),
        index=iod["lsoa_code"].astype(str).to_numpy(),
    )
    deciles = deciles[~deciles.index.duplicated()]
    lsoas["imd_decile"] = lsoas["lsoa21_code"].astype(str).map(deciles)
    with_provenance(lsoas, iod)
    vintages = [record.vintage for record in get_provenance(iod)]
    return lsoas, (vintages[0] if vintages else "IoD2025")


def _scale_bar(ax: Axes, bounds: np.ndarray) -> None:
    x0, y0, x1, y1 = bounds
    width = x1 - x0
    candidates = [1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
    length = max((c for c in candidates if c <= width / 5), default=candidates[0])
    left, base = x0 + width * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([left, left + length], [base, base], color="black", linewidth=3, zorder=6)
    ax.text(
        left + length / 2,
        base + (y1 - y0) * 0.012,
        f"{length // 1000} km",
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=6,
    )
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.87),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5},
        zorder=6,
    )


def plot_deprivation(
    *,
    geography: Geography | None = None,
    clusters: Any = None,
    candidates: Any = None,
    areas: Any = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw deprivation and candidate clusters on one static map.

    Parameters
    ----------
    geography : Geography, optional
        The study area (default: the bundled West Midlands); its LSOA 2021 layer is
        coloured by the IoD2025 IMD decile and its ward and authority layers outlined.
    clusters : ClusterResult or GeoDataFrame, optional
        Clusters of :func:`socecon_geo.find_clusters`, outlined and labelled by
        ``cluster_id`` (when no ``candidates`` are given).
    candidates : Candidates, optional
        What :func:`socecon_geo.rank_candidates` returned: its strengths are outlined and
        labelled by rank (``#1`` is the strongest). At most :data:`MAX_LABELS` (20)
        clusters are labelled, the strongest (or the first by ``cluster_id``); the others
        are outlined only, and with more than 500 of them the outlines are drawn as
        pixels in an SVG (which would otherwise hold every vertex).
    areas : GeoDataFrame or HotspotResult, optional
        Areas to outline instead of the geography's wards (an area summary).
    title : str, optional
        The figure's title (default: the study area and the IMD vintage), drawn as
        written (``$`` does not start mathematical notation).
    ax : matplotlib.axes.Axes, optional
        Draw there; by default a new figure of A4 width is made.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (write it with :func:`save_figure`). Nothing given is changed.

    Raises
    ------
    InputError
        If the geography has no LSOA 2021 layer or IoD2025 table, or an argument is of
        the wrong kind or has no CRS.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if geography is None:
        from socecon_geo.geography import load_geography

        geography = load_geography()
    lsoas, vintage = _lsoa_deciles(geography)
    crs = lsoas.crs
    polygons: gpd.GeoDataFrame | None = None
    labels: list[str] = []
    sources: list[Any] = [lsoas]
    if candidates is not None:
        polygons = _frame_of(candidates, "strengths", "candidates")
        labels = [f"#{int(r)}" if pd.notna(r) and r <= MAX_LABELS else "" for r in polygons["rank"]]
    elif clusters is not None:
        polygons = _frame_of(clusters, "clusters", "clusters")
        order = polygons["cluster_id"].rank(method="first").to_numpy()
        labels = [
            f"C{int(c)}" if o <= MAX_LABELS else ""
            for c, o in zip(polygons["cluster_id"], order, strict=True)
        ]
    outlines = None
    if areas is not None:
        outlines = _frame_of(areas, "areas", "areas")
    elif geography.has_layer("ward"):
        outlines = geography.layer("ward")
    authorities = geography.layer("lad") if geography.has_layer("lad") else None

    if ax is None:
        fig = Figure(figsize=_FIGSIZE, dpi=_DPI)
        ax = fig.add_axes((0.01, 0.15, 0.68, 0.74))
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    colours = [
        DECILE_COLOURS[int(d) - 1] if pd.notna(d) and 1 <= d <= 10 else _NO_DATA
        for d in lsoas["imd_decile"]
    ]
    lsoas.plot(ax=ax, color=colours, edgecolor="none", linewidth=0)
    if outlines is not None:
        sources.append(outlines)
        outlines.to_crs(crs).boundary.plot(ax=ax, color="white", linewidth=0.35, alpha=0.8)
    if authorities is not None:
        authorities.boundary.plot(ax=ax, color="black", linewidth=0.9)
    if polygons is not None and not polygons.empty:
        sources.append(polygons)
        shown = polygons.to_crs(crs)
        many = len(shown) > _RASTER_OUTLINES
        shown.boundary.plot(ax=ax, color="white", linewidth=3.0, zorder=4, rasterized=many)
        shown.boundary.plot(ax=ax, color=_CLUSTER_EDGE, linewidth=1.6, zorder=5, rasterized=many)
        import matplotlib.patheffects as effects

        halo = [effects.withStroke(linewidth=3, foreground="white")]
        points = shown.geometry.representative_point()
        # each label is set off away from the middle of all the clusters, with a leader
        xs, ys = points.x.to_numpy(), points.y.to_numpy()
        dx, dy = xs - xs.mean(), ys - ys.mean()
        norm = np.hypot(dx, dy)
        norm[norm == 0] = 1.0
        for point, label, ux, uy in zip(points, labels, dx / norm, dy / norm, strict=True):
            if label and not point.is_empty:
                ax.annotate(
                    label,
                    xy=(point.x, point.y),
                    xytext=(18 * ux - 8, 18 * uy - 4),
                    textcoords="offset points",
                    fontsize=8,
                    fontweight="bold",
                    color="black",
                    path_effects=halo,
                    arrowprops={"arrowstyle": "-", "color": "black", "linewidth": 0.7},
                    zorder=7,
                )
    ax.set_aspect("equal")
    ax.set_axis_off()
    bounds = np.asarray(lsoas.total_bounds)
    _scale_bar(ax, bounds)

    handles = [
        Patch(facecolor=colour, edgecolor="none", label=str(decile))
        for decile, colour in enumerate(DECILE_COLOURS, start=1)
    ]
    handles[0].set_label("1 most deprived 10%")
    handles[-1].set_label("10 least deprived 10%")
    if lsoas["imd_decile"].isna().any():
        handles.append(Patch(facecolor=_NO_DATA, edgecolor="none", label="no data"))
    if polygons is not None and not polygons.empty:
        what = "candidate cluster (#rank)" if candidates is not None else "cluster (C id)"
        handles.append(Patch(facecolor="none", edgecolor=_CLUSTER_EDGE, linewidth=1.6, label=what))
    ax.legend(
        handles=handles,
        title=f"IMD decile in England\n{vintage}",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=7,
        title_fontsize=8,
        frameon=True,
        framealpha=0.9,
    )
    heading = title if title is not None else f"Deprivation in {geography.name}"
    fig.suptitle(heading, fontsize=12, y=0.98, parse_math=False)
    if title is None:
        fig.text(
            0.5,
            0.925,
            f"LSOAs by Index of Multiple Deprivation decile ({vintage})",
            ha="center",
            parse_math=False,
        )
    credits = attribution_lines(*sources)
    footer = "\n".join(textwrap.fill(line, width=150) for line in ["Sources:", *credits] if line)
    # Text from data is drawn as written: "$" never starts mathematical notation.
    fig.text(0.02, 0.01, footer, fontsize=5.5, ha="left", va="bottom", parse_math=False)
    return fig


def _plain(text: Any) -> str:
    """Text from data for a legend, drawn as written ("$" never starts mathematics)."""
    return str(text).replace("$", r"\$")


def plot_trajectory(
    trajectory: Any,
    *,
    relative: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw each area's path against the path to its target (a trajectory chart).

    For every area: the data (solid line with dots), the path at its observed rate from
    the baseline year on (dotted) and, in black dashes, the path at the rate the target
    needs. With ``relative=True`` every area is shown as an index (baseline = 100), so
    areas of different sizes share one axis and one required path.

    Parameters
    ----------
    trajectory : Trajectory
        What :func:`socecon_geo.doubling_trajectory` returned.
    relative : bool, default True
        Show an index (baseline = 100) rather than the measure's own values.
    title : str, optional
        The figure's title (default: the target and the rate it needs), drawn as written.
    ax : matplotlib.axes.Axes, optional
        Draw there; by default a new figure of A4 width is made.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (write it with :func:`save_figure`). Nothing given is changed.

    Raises
    ------
    InputError
        If ``trajectory`` is not a Trajectory, or has more areas than the chart can tell
        apart (eight); pick some areas' rows first.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from socecon_geo.growth import Trajectory

    if not isinstance(trajectory, Trajectory):
        msg = (
            "plot_trajectory needs what socecon_geo.doubling_trajectory returned (a "
            f"Trajectory), not {type(trajectory).__name__}."
        )
        raise InputError(msg)
    p = trajectory.parameters
    areas, path = trajectory.areas, trajectory.path
    code_column, name_column = p.get("code_column"), p.get("name_column")
    if len(areas) > len(SERIES_COLOURS):
        msg = (
            f"The trajectory has {len(areas)} areas; a chart tells at most "
            f"{len(SERIES_COLOURS)} apart. Draw a few at a time: "
            "doubling_trajectory(table[table['lad_code'].isin([...])], ...)."
        )
        raise InputError(msg)
    if ax is None:
        fig = Figure(figsize=(_FIGSIZE[0], 5.4), dpi=_DPI)
        ax = fig.add_axes((0.09, 0.2, 0.6, 0.68))
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    codes = areas[code_column].tolist() if code_column else ["all"]
    handles: list[Any] = []
    required_drawn = False
    for i, code in enumerate(codes):
        colour = SERIES_COLOURS[i]
        rows = path[path[code_column] == code] if code_column else path
        base = float(areas["baseline"].iloc[i])
        scale = 100.0 / base if relative and np.isfinite(base) and base > 0 else 1.0
        if relative and scale == 1.0 and not (np.isfinite(base) and base == 100.0):
            continue  # no baseline: nothing to index
        label = code if code_column else p["measure"]
        if name_column and pd.notna(areas[name_column].iloc[i]):
            label = str(areas[name_column].iloc[i])
        years = rows["year"].to_numpy()
        actual = rows["actual"].to_numpy(dtype="float64") * scale
        known = np.isfinite(actual)
        ax.plot(years[known], actual[known], color=colour, linewidth=1.8, marker="o", ms=3)
        ax.plot(
            years,
            rows["projected"].to_numpy(dtype="float64") * scale,
            color=colour,
            linewidth=1.2,
            linestyle=":",
        )
        if not relative or not required_drawn:
            ax.plot(
                years,
                rows["required"].to_numpy(dtype="float64") * scale,
                color="black",
                linewidth=1.2,
                linestyle="--",
                zorder=1,
            )
            required_drawn = True
        status = str(areas["trajectory_status"].iloc[i]).replace("_", " ")
        rate = areas["observed_rate"].iloc[i]
        shown = f"{rate:+.1%} a year" if pd.notna(rate) else "no rate"
        handles.append(
            Line2D(
                [], [], color=colour, marker="o", ms=3, label=_plain(f"{label}: {shown}, {status}")
            )
        )
    needed = p["required_rate"]
    handles += [
        Line2D(
            [],
            [],
            color="black",
            linestyle="--",
            label=f"needed: {needed:.2%} a year (x{p['target_multiple']:g} by {p['target_year']})",
        ),
        Line2D([], [], color="grey", linestyle=":", label="at the observed rate"),
        Line2D([], [], color="grey", marker="o", ms=3, label="observed"),
    ]
    ax.axvline(p["baseline_year"], color="grey", linewidth=0.6)
    ax.set_xlabel("year")
    ax.set_ylabel(
        f"{p['measure']} (baseline {p['baseline_year']} = 100)" if relative else str(p["measure"])
    )
    ax.grid(True, color="#e0e0e0", linewidth=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False
    )
    heading = (
        title
        if title is not None
        else (
            f"On course for x{p['target_multiple']:g} by {p['target_year']}? "
            f"{p['measure']} from {p['baseline_year']}"
        )
    )
    fig.suptitle(heading, fontsize=12, y=0.97, parse_math=False)
    fig.text(
        0.5, 0.915, f"observed rate: {p['observed']}", ha="center", fontsize=8, parse_math=False
    )
    credits = attribution_lines(areas)
    footer = "\n".join(textwrap.fill(line, width=150) for line in ["Sources:", *credits] if line)
    fig.text(0.02, 0.01, footer, fontsize=5.5, ha="left", va="bottom", parse_math=False)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write a figure as PNG or SVG, by the file's extension, reproducibly.

    The file is written to a temporary file beside it and renamed, so a reader never
    sees half a figure. SVG element ids are salted with a fixed value and no date is
    written, so the same figure gives the same SVG.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path
        Ending ``.png`` or ``.svg``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the extension is neither ``.png`` nor ``.svg``, or the folder does not exist.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        msg = f"save_figure needs a matplotlib Figure, not {type(fig).__name__}."
        raise InputError(msg)
    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        msg = (
            f"Cannot save a figure as {target.name!r}: the extension "
            f"{target.suffix or '(none)'!r} is not known; use .png or .svg."
        )
        raise InputError(msg)
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}

    def write(temporary: Path) -> None:
        with mpl.rc_context({"svg.hashsalt": _SVG_SALT, "svg.fonttype": "none"}):
            fig.savefig(temporary, format=fmt, dpi=_DPI, metadata=metadata)

    write_atomic(target, write)
    return target

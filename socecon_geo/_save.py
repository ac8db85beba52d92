"""Writing an analysis to a folder: the map, tables, GeoPackage, figures, report, run record.

:meth:`socecon_geo.Analysis.save` calls :func:`save_analysis`. Every file goes through
:func:`socecon_geo._atomic.write_atomic`; ``run.json`` is removed first and written
last, so that its presence means every other file is complete.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import pandas as pd

from socecon_geo import __version__
from socecon_geo._atomic import write_atomic
from socecon_geo._errors import InputError
from socecon_geo._html import neutralise_frame
from socecon_geo._report import candidates_frame, report_markdown
from socecon_geo._tables import unique_ignoring_case
from socecon_geo.figures import SERIES_COLOURS, plot_deprivation, plot_trajectory, save_figure
from socecon_geo.maps import save_map
from socecon_geo.procurement import shortlist_frame
from socecon_geo.tables import write_tables

if TYPE_CHECKING:
    from socecon_geo.pipeline import Analysis

__all__ = ["GEOPACKAGE_LAYERS", "OUTPUT_FILES", "file_sha256", "save_analysis"]

OUTPUT_FILES: Final[dict[str, str]] = {
    "map": "map.html",
    "tables": "tables.html",
    "strengths_csv": "strengths.csv",
    "gaps_csv": "gaps.csv",
    "areas_csv": "areas.csv",
    "candidates": "candidates.csv",
    "geopackage": "analysis.gpkg",
    "figure_png": "figure.png",
    "figure_svg": "figure.svg",
    "report_md": "report.md",
    "report_json": "report.json",
    "size_csv": "size_by_authority.csv",
    "growth_csv": "growth.csv",
    "trajectory_csv": "trajectory.csv",
    "trajectory_png": "trajectory.png",
    "trajectory_svg": "trajectory.svg",
    "shortlist_csv": "shortlist.csv",
    "run": "run.json",
}
"""What :meth:`Analysis.save` writes: key → file name in the output folder.

``run.json`` is written last, once every other file is complete: it names the library
version, the date, the inputs (name, size, SHA-256), the parameters and every file
written with its size and SHA-256, so its presence means the folder is complete.
"""

GEOPACKAGE_LAYERS: Final[tuple[str, ...]] = (
    "organisations",
    "areas",
    "clusters",
    "gaps",
    "size",
    "sites",
)
"""The layers of ``analysis.gpkg``, in order (``size`` and ``sites`` when those steps ran)."""


def save_analysis(
    analysis: Analysis,
    directory: str | os.PathLike[str],
    *,
    map_assets: str | os.PathLike[str] | None = None,
    raw_csv: bool = False,
) -> dict[str, Path]:
    """Write the folder of outputs of ``analysis``: see :meth:`Analysis.save`."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        msg = f"Cannot save the analysis in {folder}: it is a file; name a folder."
        raise InputError(msg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"Cannot create the output folder {folder}: {exc.strerror or exc}."
        raise InputError(msg) from exc
    # a run.json from an earlier save says that save's files were complete; these
    # are about to be replaced one by one, so it goes first and comes back last
    (folder / OUTPUT_FILES["run"]).unlink(missing_ok=True)
    written: dict[str, Path] = {}
    save_map(
        analysis.map(table_link=OUTPUT_FILES["tables"]),
        folder / OUTPUT_FILES["map"],
        assets=map_assets,
    )
    written["map"] = folder / OUTPUT_FILES["map"]
    csv_text = _raw if raw_csv else _spreadsheet
    tables = write_tables(analysis.candidates, analysis.hotspots, folder, raw_csv=raw_csv)
    written["tables"] = tables["html"]
    for part in ("strengths", "gaps", "areas"):
        if part in tables:
            written[f"{part}_csv"] = tables[part]
    written["candidates"] = write_atomic(
        folder / OUTPUT_FILES["candidates"],
        lambda p: csv_text(candidates_frame(analysis.candidates)).to_csv(
            p, index=False, encoding="utf-8-sig"
        ),
    )
    written["geopackage"] = _write_geopackage(analysis, folder / OUTPUT_FILES["geopackage"])
    figure = plot_deprivation(
        geography=analysis.geography,
        clusters=analysis.clusters,
        candidates=analysis.candidates,
        title=analysis.parameters.get("title"),
    )
    try:
        for key in ("figure_png", "figure_svg"):
            written[key] = save_figure(figure, folder / OUTPUT_FILES[key])
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    written.update(_write_size_and_growth(analysis, folder, csv_text))
    report = analysis.report()
    report["outputs"] = {
        key: path.name for key, path in {**written, **_report_paths(folder)}.items()
    }
    written["report_json"] = write_atomic(
        folder / OUTPUT_FILES["report_json"],
        lambda p: p.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        ),
    )
    written["report_md"] = write_atomic(
        folder / OUTPUT_FILES["report_md"],
        lambda p: p.write_text(report_markdown(report), encoding="utf-8"),
    )
    written["run"] = write_atomic(  # last: its presence means every file is complete
        folder / OUTPUT_FILES["run"],
        lambda p: p.write_text(
            json.dumps(_run_record(analysis, written, raw_csv), indent=2, ensure_ascii=False)
            + "\n",
            encoding="utf-8",
        ),
    )
    return written


def _run_record(analysis: Analysis, written: Mapping[str, Path], raw_csv: bool) -> dict[str, Any]:
    """Return what ``run.json`` holds: which run wrote the folder, from what, every file."""
    params = analysis.parameters
    return {
        "complete": True,
        "socecon_geo": params.get("socecon_geo", __version__),
        "date": params.get("date"),
        "inputs": params.get("input_files", []),
        "parameters": {k: v for k, v in params.items() if k != "input_files"},
        "raw_csv": raw_csv,
        "files": {
            path.name: {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
            for key, path in written.items()
            if key != "run"
        },
    }


def _write_geopackage(analysis: Analysis, target: Path) -> Path:
    import pyogrio

    layers = {
        "organisations": analysis.points,
        "areas": analysis.hotspots.areas,
        "clusters": analysis.candidates.strengths,
        "gaps": analysis.candidates.gaps,
    }
    if analysis.size is not None:
        layers["size"] = analysis.size.areas
    if analysis.suppliers is not None:
        layers["sites"] = analysis.suppliers.sites
    # GeoPackage tables carry a last-change time; fix it to the run's date so that
    # the same analysis writes the same bytes.
    stamp = f"{analysis.parameters['date']}T00:00:00.000Z"
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:

        def write(path: Path) -> None:
            path.unlink()  # GDAL creates the file itself
            for name in GEOPACKAGE_LAYERS:
                if name in layers:
                    _for_file(layers[name]).to_file(path, layer=name, driver="GPKG", use_arrow=True)

        return write_atomic(target, write, suffix=".gpkg")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def _write_size_and_growth(
    analysis: Analysis, folder: Path, csv_text: Any = None
) -> dict[str, Path]:
    """Write the size by authority, the growth table and the trajectory (and chart)."""
    written: dict[str, Path] = {}
    tables = {
        "size_csv": None if analysis.size is None else analysis.size.totals,
        "growth_csv": analysis.growth,
        "trajectory_csv": None if analysis.trajectory is None else analysis.trajectory.areas,
    }
    for key, frame in tables.items():
        if frame is None:
            continue
        plain = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
        text = (csv_text or _spreadsheet)(plain)
        written[key] = write_atomic(folder / OUTPUT_FILES[key], functools.partial(_csv, text))
    if analysis.suppliers is not None:
        shortlist = shortlist_frame(analysis.suppliers)  # neutralised for spreadsheets
        written["shortlist_csv"] = write_atomic(
            folder / OUTPUT_FILES["shortlist_csv"], functools.partial(_csv, shortlist)
        )
    # a chart tells at most len(SERIES_COLOURS) areas apart; the table has them all
    if analysis.trajectory is not None and len(analysis.trajectory.areas) <= len(SERIES_COLOURS):
        import matplotlib.pyplot as plt

        chart = plot_trajectory(analysis.trajectory)
        try:
            for key in ("trajectory_png", "trajectory_svg"):
                written[key] = save_figure(chart, folder / OUTPUT_FILES[key])
        finally:
            plt.close(chart)
    return written


def _report_paths(folder: Path) -> dict[str, Path]:
    return {key: folder / OUTPUT_FILES[key] for key in ("report_json", "report_md", "run")}


def _spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    return neutralise_frame(frame, one_line=True)


def _raw(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _for_file(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy whose columns every vector format can hold.

    Lists become text, categories text, and headings that differ only in case (two
    registers' ``src_Name`` and ``src_name``: a GeoPackage's field names ignore case)
    get a number.
    """
    out = frame.copy()
    out.attrs = {}
    out = out.rename(columns=unique_ignoring_case(list(out.columns)))
    for column in out.columns:
        if column == out.geometry.name:
            continue
        values = out[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, list | tuple)).any():
            out[column] = values.map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v
            ).astype("string")
        elif isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values.astype("string")
    return out

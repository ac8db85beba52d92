"""Writing organisations to a file chosen by its extension, and checking outputs first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd

from socecon_geo._html import neutralise_frame
from socecon_geo._tables import unique_ignoring_case

__all__ = ["WRITERS", "output_problem", "write_points"]

WRITERS = (".csv", ".geojson", ".gpkg", ".parquet")


def write_points(frame: gpd.GeoDataFrame, out: Path, *, raw_csv: bool = False) -> None:
    """Write a GeoDataFrame by the file's extension, whole or not at all.

    CSV gets the coordinates as columns (``easting``, ``northing`` in EPSG:27700 and
    ``longitude``, ``latitude`` in WGS84), and its text neutralised against spreadsheet
    formulas (``'`` before a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return)
    unless ``raw_csv``. GeoJSON is written in WGS84 (EPSG:4326), the only coordinate
    system the GeoJSON standard (RFC 7946) allows, with ``easting`` and ``northing`` kept
    as properties. GeoPackage and GeoParquet keep EPSG:27700. GeoPackage, GeoParquet and
    GeoJSON keep the text as it is. Every format is written to a temporary file and
    renamed, so a run killed half-way leaves the previous file or none.
    """
    import pandas as pd

    from socecon_geo._atomic import write_atomic

    suffix = out.suffix.lower()
    if suffix == ".parquet":
        write_atomic(out, frame.to_parquet, suffix=".parquet")
        return
    located = frame.geometry.notna() & ~frame.geometry.is_empty
    if suffix == ".csv":
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        wgs84 = frame.geometry.to_crs(4326)
        table["easting"] = frame.geometry.x.where(located)
        table["northing"] = frame.geometry.y.where(located)
        table["longitude"] = wgs84.x.where(located)
        table["latitude"] = wgs84.y.where(located)
        if not raw_csv:
            table = neutralise_frame(table)
        write_atomic(out, lambda p: table.to_csv(p, index=False))
        return
    frame = frame.copy()
    for column in frame.columns:
        if column != frame.geometry.name and isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("string")
    if suffix == ".geojson":
        frame["easting"] = frame.geometry.x.where(located)
        frame["northing"] = frame.geometry.y.where(located)
        frame = frame.to_crs(4326)
        driver = "GeoJSON"
    else:
        driver = "GPKG"
        # GeoPackage (SQLite) column names ignore case: 'src_Name' and 'src_NAME' clash
        frame = frame.rename(columns=unique_ignoring_case(list(frame.columns)))
    import pyogrio.errors

    from socecon_geo._errors import InputError

    def write(path: Path) -> None:
        path.unlink()  # GDAL creates the file itself
        # the layer is named after the file asked for, not the temporary one
        options = {"layer": out.stem} if driver == "GPKG" else {}
        frame.to_file(path, driver=driver, **options)

    try:
        write_atomic(out, write, suffix=suffix)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"could not write {out} as {driver}: {first}; try a .parquet or .csv output"
        raise InputError(msg) from exc


def output_problem(out: Path, suffixes: Sequence[str]) -> str | None:
    """Say what is wrong with an output path before any work is done, or None."""
    if out.suffix.lower() not in suffixes:
        return f"--output must end in one of {', '.join(suffixes)}, got {out.name!r}"
    if out.is_dir():
        return f"--output {out} is a folder; name a file in it"
    if not out.parent.is_dir():
        return f"--output {out}: the folder {out.parent} does not exist; create it first"
    return None

"""The accessible companion table: candidate clusters, gaps and the area summary.

What the map shows, as tables a screen reader reads cell by cell and a browser shows
without CSS or JavaScript (:func:`accessible_table`), and as CSV files for spreadsheets
(:func:`write_tables`). Every text from the data is escaped for HTML
(:func:`socecon_geo._html.escape_text`) and, in the CSV files, text a spreadsheet would
run as a formula is prefixed with ``'`` (:func:`socecon_geo._html.neutralise_csv_text`).
No text from the data ever becomes a link or a script.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from socecon_geo._atomic import write_atomic
from socecon_geo._errors import InputError
from socecon_geo._html import escape_text, neutralise_frame, single_line
from socecon_geo._tables import row_records
from socecon_geo.provenance import attribution_lines, with_provenance

__all__ = ["accessible_table", "table_frames", "write_tables"]

DEFAULT_TITLE: Final = "Social economy: candidate places, gaps and areas"

_MISSING: Final = "not known"

# column -> (heading, decimals: None for text, 0 for counts, n for rounding)
_COLUMNS: Final[dict[str, tuple[str, int | None]]] = {
    "rank": ("Rank", 0),
    "cluster_id": ("Cluster", 0),
    "score": ("Score (0 to 1)", 2),
    "score_size": ("Size score", 2),
    "score_density": ("Density score", 2),
    "score_per_resident": ("Per resident score", 2),
    "score_diversity": ("Sector diversity score", 2),
    "score_hotspot": ("Hot-spot score", 2),
    "score_deprivation": ("Deprivation score", 2),
    "score_most_deprived": ("Most deprived 10% score", 2),
    "score_low_presence": ("Low presence score", 2),
    "score_cold_spot": ("Cold-spot score", 2),
    "rank_status": ("Rank status", None),
    "n_organisations": ("Organisations", 0),
    "n_locations": ("Locations", 0),
    "ward_names": ("Wards", None),
    "lad_names": ("Authorities", None),
    "ward_code": ("Ward code", None),
    "lsoa21_code": ("LSOA code", None),
    "msoa21_code": ("MSOA code", None),
    "lad_code": ("Authority code", None),
    "lad_name": ("Authority", None),
    "area_km2": ("Area (km²)", 2),
    "density_per_km2": ("Organisations per km²", 1),
    "per_10k_residents": ("Organisations per 10,000 residents", 1),
    "population": ("Residents", 0),
    "rate_per_10k": ("Organisations per 10,000 residents", 1),
    "rate_per_10k_eb": ("Per 10,000 residents, smoothed", 1),
    "imd_score_popweighted": ("Residents' IMD score", 1),
    "share_pop_imd_decile1": ("Share of residents in England's most deprived 10%", 2),
    "top_sector": ("Main sector (SIC section)", None),
    "hotspot_class": ("Hot-spot class", None),
    "explanation": ("Explanation", None),
}

_STRENGTH_COLUMNS: Final = (
    "rank",
    "score",
    "score_size",
    "score_density",
    "score_per_resident",
    "score_diversity",
    "score_hotspot",
    "score_deprivation",
    "n_organisations",
    "n_locations",
    "ward_names",
    "lad_names",
    "density_per_km2",
    "per_10k_residents",
    "imd_score_popweighted",
    "share_pop_imd_decile1",
    "rank_status",
    "explanation",
)
_GAP_COLUMNS: Final = (
    "rank",
    "score",
    "score_deprivation",
    "score_most_deprived",
    "score_low_presence",
    "score_cold_spot",
    "lad_name",
    "n_organisations",
    "population",
    "rate_per_10k_eb",
    "imd_score_popweighted",
    "share_pop_imd_decile1",
    "hotspot_class",
    "rank_status",
    "explanation",
)
_AREA_COLUMNS: Final = (
    "lad_name",
    "n_organisations",
    "population",
    "rate_per_10k",
    "rate_per_10k_eb",
    "imd_score_popweighted",
    "share_pop_imd_decile1",
    "top_sector",
    "hotspot_class",
)
_AREA_LEVELS: Final = (
    ("ward_code", "ward_name", "Ward"),
    ("lsoa21_code", "lsoa21_name", "LSOA"),
    ("msoa21_code", "msoa21_name", "MSOA"),
    ("lad_code", "lad_name", "Authority"),
)


@dataclass(frozen=True)
class _Table:
    """One table to show: its key, heading, caption, row header and columns."""

    key: str
    heading: str
    caption: str
    row_heading: str
    row_labels: list[str]
    frame: pd.DataFrame  # the shown columns, in order, with their source names
    ids: pd.DataFrame  # the identifying columns (cluster id, area code and name), for CSV


# ---------------------------------------------------------------------- inputs


def _frame(value: Any, attribute: str, what: str, expected: str) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        return value
    inner = getattr(value, attribute, None)
    if isinstance(inner, pd.DataFrame):
        return inner
    msg = f"{what} must be {expected} or its .{attribute} frame, not {type(value).__name__}."
    raise InputError(msg)


def _parts(candidates: Any, areas: Any) -> tuple[pd.DataFrame | None, ...]:
    strengths = gaps = None
    if candidates is not None:
        strengths = _frame(candidates, "strengths", "candidates", "a rank_candidates result")
        gaps = _frame(candidates, "gaps", "candidates", "a rank_candidates result")
        if strengths is gaps:  # a bare frame: not a Candidates
            msg = (
                "candidates must be what socecon_geo.rank_candidates returned (with "
                f".strengths and .gaps), not a {type(candidates).__name__}."
            )
            raise InputError(msg)
    area_frame = None
    if areas is not None:
        area_frame = _frame(areas, "areas", "areas", "an area summary (summarise_areas)")
    if all(
        frame is None or frame.empty for frame in (strengths, gaps, area_frame)
    ):  # nothing to show
        msg = (
            "Nothing to show: give candidates=socecon_geo.rank_candidates(...) with at "
            "least one cluster or area, or areas=socecon_geo.summarise_areas(...) with at "
            "least one area."
        )
        raise InputError(msg)
    return strengths, gaps, area_frame


def _area_identity(frame: pd.DataFrame) -> tuple[str | None, str | None, str]:
    for code, name, noun in _AREA_LEVELS:
        if code in frame.columns:
            return code, (name if name in frame.columns else None), noun
    return None, None, "Area"


def _labels(frame: pd.DataFrame, code: str | None, name: str | None) -> list[str]:
    labels = []
    shown_columns = list(dict.fromkeys(c for c in (name, code) if c is not None))
    rows = zip(frame.index, row_records(frame, shown_columns), strict=True)
    for position, (label, row) in enumerate(rows):
        parts = [row[c] for c in (name, code) if c is not None and not _missing(row[c])]
        if name is not None and code is not None and len(parts) == 2:
            labels.append(f"{parts[0]} ({parts[1]})")
        elif parts:
            labels.append(str(parts[0]))
        else:
            labels.append(f"row {position + 1} (index {label})")
    return [single_line(text) for text in labels]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _shown(frame: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    columns = [c for c in wanted if c in frame.columns and not frame[c].isna().all()]
    return pd.DataFrame(frame[columns]).reset_index(drop=True)


def _ids(frame: pd.DataFrame, wanted: Sequence[str | None]) -> pd.DataFrame:
    columns = [c for c in wanted if c is not None and c in frame.columns]
    return pd.DataFrame(frame[columns]).reset_index(drop=True)


def _tables(
    strengths: pd.DataFrame | None, gaps: pd.DataFrame | None, areas: pd.DataFrame | None
) -> list[_Table]:
    tables: list[_Table] = []
    if strengths is not None and not strengths.empty:
        labels = [
            f"Cluster {value}" if not _missing(value) else f"row {i + 1}"
            for i, value in enumerate(
                strengths.get("cluster_id", pd.Series(pd.NA, strengths.index))
            )
        ]
        tables.append(
            _Table(
                "strengths",
                "Strengths: clusters to develop",
                f"Candidate clusters of organisations, ranked ({len(strengths)}; rank 1 is the "
                "strongest). Scores run from 0 to 1; the score is the weighted sum of the "
                "component scores.",
                "Cluster",
                labels,
                _shown(strengths, _STRENGTH_COLUMNS),
                _ids(strengths, ["cluster_id"]),
            )
        )
    if gaps is not None and not gaps.empty:
        code, name, noun = _area_identity(gaps)
        tables.append(
            _Table(
                "gaps",
                "Gaps: high need, thin presence",
                f"{noun}s ranked as gaps ({len(gaps)}; rank 1 has the highest need and the "
                "thinnest presence). Scores run from 0 to 1.",
                noun,
                _labels(gaps, code, name),
                _shown(gaps, _GAP_COLUMNS),
                _ids(gaps, [code, name]),
            )
        )
    if areas is not None and not areas.empty:
        code, name, noun = _area_identity(areas)
        ordered = areas
        if code is not None:
            ordered = areas.iloc[np.argsort(areas[code].astype(str).to_numpy(), kind="stable")]
        tables.append(
            _Table(
                "areas",
                f"{noun} summary",
                f"Every {noun.lower()} of the summary ({len(areas)}), by code: organisations, "
                "residents, rates per 10,000 residents and the residents' deprivation.",
                noun,
                _labels(ordered, code, name),
                _shown(ordered, _AREA_COLUMNS),
                _ids(ordered, [code, name]),
            )
        )
    return tables


# ---------------------------------------------------------------------- formatting


def _cell(value: Any, decimals: int | None) -> str | None:
    """Return a value as plain text (``None`` when missing)."""
    if _missing(value):
        return None
    if decimals is not None and isinstance(value, int | float | np.integer | np.floating):
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        return f"{float(value):,.{decimals}f}"
    return single_line(str(value))


def _heading(column: str) -> str:
    return _COLUMNS.get(column, (column, None))[0]


def _decimals(column: str) -> int | None:
    return _COLUMNS.get(column, (column, None))[1]


def _html_table(table: _Table) -> list[str]:
    lines = [
        f'<section id="{table.key}" aria-labelledby="{table.key}-heading">',
        f'<h2 id="{table.key}-heading">{escape_text(table.heading)}</h2>',
        "<table>",
        f"<caption>{escape_text(table.caption)}</caption>",
        "<thead>",
        "<tr>",
        f'<th scope="col">{escape_text(table.row_heading)}</th>',
        *(f'<th scope="col">{escape_text(_heading(c))}</th>' for c in table.frame.columns),
        "</tr>",
        "</thead>",
        "<tbody>",
    ]
    decimals = [_decimals(c) for c in table.frame.columns]
    for label, row in zip(table.row_labels, table.frame.itertuples(index=False), strict=True):
        cells = [
            f"<td>{escape_text(_cell(value, d), missing=_MISSING)}</td>"
            for value, d in zip(row, decimals, strict=True)
        ]
        lines.append(f'<tr><th scope="row">{escape_text(label)}</th>{"".join(cells)}</tr>')
    lines += ["</tbody>", "</table>", "</section>"]
    return lines


_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;line-height:1.4;margin:1em;color:#111;"
    "background:#fff}table{border-collapse:collapse;margin:0 0 2em}"
    "caption{text-align:left;font-weight:bold;padding:.5em 0}"
    "th,td{border:1px solid #777;padding:.25em .5em;vertical-align:top;text-align:left}"
    "thead th{background:#eee}"
)


def _document(
    tables: list[_Table], title: str, credits: list[str], notes: list[str], lang: str
) -> str:
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{escape_text(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        # No script can run on this page, whatever the data hold.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape_text(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{escape_text(title)}</h1>",
        *(f"<p>{escape_text(note)}</p>" for note in notes),
        '<nav aria-label="Tables on this page">',
        "<ul>",
        *(f'<li><a href="#{t.key}">{escape_text(t.heading)}</a></li>' for t in tables),
        "</ul>",
        "</nav>",
    ]
    for table in tables:
        lines += _html_table(table)
    lines.append("</main>")
    if credits:
        lines += [
            "<footer>",
            "<h2>Sources</h2>",
            "<ul>",
            *(f"<li>{escape_text(line)}</li>" for line in credits),
            "</ul>",
            "</footer>",
        ]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines)


def _notes(candidates: Any) -> list[str]:
    weights = getattr(candidates, "weights", None)
    notes = []
    if isinstance(weights, dict):
        for lens in ("strengths", "gaps"):
            used = weights.get(lens) or {}
            if used:
                shown = ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in used.items())
                notes.append(f"Weights of the {lens} score: {shown}.")
    return notes


# ---------------------------------------------------------------------- writing


def accessible_table(
    candidates: Any = None,
    *,
    areas: Any = None,
    path: str | os.PathLike[str] | None = None,
    title: str = DEFAULT_TITLE,
    lang: str = "en-GB",
) -> str:
    """Return (and optionally write) the companion HTML table of a ranking and its areas.

    One real ``<table>`` per part — candidate clusters (strengths), gaps and the area
    summary — each with a ``<caption>``, column headers ``<th scope="col">`` and a row
    header ``<th scope="row">`` (the cluster or area), the score components, the numbers
    behind them and the plain-language explanation. The page declares its language, has
    no JavaScript (a Content-Security-Policy forbids any), reads in order without CSS,
    and credits every source from the provenance records. Every text from the data is
    HTML-escaped; none becomes a link.

    Parameters
    ----------
    candidates : Candidates, optional
        What :func:`socecon_geo.rank_candidates` returned.
    areas : GeoDataFrame or HotspotResult, optional
        An area summary (:func:`socecon_geo.summarise_areas`), or a hot-spot result whose
        ``.areas`` carry the hot-spot classes.
    path : path, optional
        Where to write the page (UTF-8, written to a temporary file and renamed).
    title : str
        The page's title and heading (escaped).
    lang : str
        The page's language (``lang`` attribute).

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    InputError
        If there is nothing to show, an argument is of the wrong kind, or the folder of
        ``path`` does not exist.
    """
    strengths, gaps, area_frame = _parts(candidates, areas)
    tables = _tables(strengths, gaps, area_frame)
    credits = attribution_lines(*(f for f in (strengths, gaps, area_frame) if f is not None))
    page = _document(tables, title, credits, _notes(candidates), lang)
    if path is not None:
        target = Path(path)
        write_atomic(target, lambda p: p.write_text(page, encoding="utf-8"))
    return page


def table_frames(candidates: Any = None, *, areas: Any = None) -> dict[str, pd.DataFrame]:
    """Return the tables of :func:`accessible_table` as frames of their shown columns.

    Parameters
    ----------
    candidates : Candidates, optional
    areas : GeoDataFrame or HotspotResult, optional

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"strengths"``, ``"gaps"``, ``"areas"`` (those given and not empty): the
        identifying columns first (``cluster_id``; the area code and name), then the
        columns as in the HTML, in the same row order, under their column names. Text
        is as in the data (not neutralised), with line breaks as spaces in HTML only.
    """
    strengths, gaps, area_frame = _parts(candidates, areas)
    sources = {"strengths": strengths, "gaps": gaps, "areas": area_frame}
    out: dict[str, pd.DataFrame] = {}
    for table in _tables(strengths, gaps, area_frame):
        ids = table.ids
        if ids.columns.empty:  # nothing identifies the rows but the label shown
            ids = pd.DataFrame({"label": table.row_labels})
        frame = pd.concat([ids, table.frame.drop(columns=ids.columns, errors="ignore")], axis=1)
        frame.attrs = {}
        out[table.key] = with_provenance(frame, sources[table.key])
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def write_tables(
    candidates: Any, areas: Any, directory: str | os.PathLike[str], *, raw_csv: bool = False
) -> dict[str, Path]:
    """Write the companion table as HTML and its parts as CSV files.

    Parameters
    ----------
    candidates : Candidates or None
        What :func:`socecon_geo.rank_candidates` returned.
    areas : GeoDataFrame, HotspotResult or None
        The area summary.
    directory : path
        An existing folder; ``tables.html``, ``strengths.csv``, ``gaps.csv`` and
        ``areas.csv`` are written there (those with rows), each through a temporary file.
    raw_csv : bool, default False
        Write the CSV text as it is, without the ``'`` before text a spreadsheet would
        run as a formula (see Notes): for programs, not for spreadsheets.

    Returns
    -------
    dict of str to Path
        ``"html"``, ``"strengths"``, ``"gaps"``, ``"areas"`` → the files written.

    Raises
    ------
    InputError
        If there is nothing to show or the folder does not exist.

    Notes
    -----
    In the CSV files (UTF-8 with a byte-order mark, so that spreadsheets read the
    accents), text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    is prefixed with ``'`` so that no spreadsheet runs it as a formula (OWASP, CSV
    injection); line breaks inside text become spaces. Numbers are written as numbers.
    """
    folder = Path(directory)
    if not folder.is_dir():
        msg = f"write_tables needs an existing folder; {folder} is not one. Create it first."
        raise InputError(msg)
    written = {"html": folder / "tables.html"}
    accessible_table(candidates, areas=areas, path=written["html"])
    for key, frame in table_frames(candidates, areas=areas).items():
        target = folder / f"{key}.csv"
        safe = frame if raw_csv else neutralise_frame(frame, one_line=True)
        write_atomic(target, functools.partial(_write_csv, safe))
        written[key] = target
    return written

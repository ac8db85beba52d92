"""The report of an :class:`~socecon_geo.Analysis`: JSON, Markdown and terminal text.

Private to socecon_geo. :func:`build_report` gathers what was done, with which data,
what each organisation's statuses were (every count a count of a status value, so each
sums to the organisations) and what was flagged and why; :func:`report_markdown` writes
it for people, escaping every text from the data (:func:`~socecon_geo._html.escape_markdown`);
:func:`summary_text` is the few lines a terminal shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from socecon_geo._html import escape_markdown
from socecon_geo._schema import STATUS_MEANINGS
from socecon_geo.procurement import summary_records
from socecon_geo.ranking import Candidates

if TYPE_CHECKING:
    from socecon_geo.pipeline import Analysis

__all__ = ["build_report", "candidates_frame", "report_markdown", "summary_text"]

ORGANISATION_STATUSES: Final[tuple[str, ...]] = (
    "geocode_status",
    "area_status",
    "deprivation_status",
    "cluster_status",
)
"""The status columns every organisation has after :func:`socecon_geo.analyse`."""

_AREA_IDS: Final = (
    ("ward_code", "ward_name"),
    ("lsoa21_code", "lsoa21_name"),
    ("lsoa11_code", "lsoa11_name"),
    ("msoa21_code", "msoa21_name"),
    ("lad_code", "lad_name"),
)
_TOP: Final = 10
_EXAMPLES: Final = 5
_GROWTH_YEARS: Final = 15
_SUMMARY_LINES: Final = (
    ("geocode_status", "geocoded"),
    ("area_status", "areas"),
    ("deprivation_status", "deprivation"),
    ("cluster_status", "clusters"),
)
_UNPLACED: Final = ("invalid_postcode", "missing_postcode", "not_found")


def _counts(values: pd.Series) -> dict[str, int]:
    """Count of every category (zeros included), in the vocabulary's order."""
    counts = values.value_counts(dropna=False)
    out = {str(k): int(counts.get(k, 0)) for k in values.cat.categories}
    missing = int(values.isna().sum())
    if missing:
        out["(none)"] = missing
    return out


def _number(value: Any, decimals: int = 3) -> float | int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return int(value)
    number = float(value)
    return int(number) if number.is_integer() and decimals == 0 else round(number, decimals)


def _area_id(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    for code, name in _AREA_IDS:
        if code in frame.columns:
            return code, name if name in frame.columns else None
    return None, None


def candidates_frame(candidates: Candidates) -> pd.DataFrame:
    """Both lenses in one table: ``lens``, ``rank``, ``rank_status``, the place, scores.

    Parameters
    ----------
    candidates : Candidates

    Returns
    -------
    pandas.DataFrame
        One row per strength (``lens`` ``"strength"``, ``place_code`` the cluster id,
        ``place_name`` its wards) then per gap (``"gap"``, the area's code and name),
        each ordered by rank, with ``authorities``, ``n_organisations``, ``score``,
        every ``score_<component>`` and ``explanation``. Text is as in the data.
    """
    parts = []
    strengths = candidates.strengths
    if len(strengths):
        parts.append(
            pd.DataFrame(
                {
                    "lens": "strength",
                    "rank": strengths["rank"].to_numpy(),
                    "rank_status": strengths["rank_status"].astype("string").to_numpy(),
                    "place_code": [f"cluster {int(c)}" for c in strengths["cluster_id"]],
                    "place_name": strengths.get("ward_names", pd.Series(pd.NA, strengths.index))
                    .astype("string")
                    .to_numpy(),
                    "authorities": strengths.get("lad_names", pd.Series(pd.NA, strengths.index))
                    .astype("string")
                    .to_numpy(),
                    "n_organisations": strengths["n_organisations"].to_numpy(),
                    **_scores(strengths),
                }
            )
        )
    gaps = candidates.gaps
    if len(gaps):
        code, name = _area_id(gaps)
        parts.append(
            pd.DataFrame(
                {
                    "lens": "gap",
                    "rank": gaps["rank"].to_numpy(),
                    "rank_status": gaps["rank_status"].astype("string").to_numpy(),
                    "place_code": (gaps[code] if code else pd.Series(gaps.index, gaps.index))
                    .astype("string")
                    .to_numpy(),
                    "place_name": (gaps[name] if name else pd.Series(pd.NA, gaps.index))
                    .astype("string")
                    .to_numpy(),
                    "authorities": gaps.get("lad_name", pd.Series(pd.NA, gaps.index))
                    .astype("string")
                    .to_numpy(),
                    "n_organisations": gaps["n_organisations"].to_numpy(),
                    **_scores(gaps),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            columns=["lens", "rank", "rank_status", "place_code", "place_name", "score"]
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["rank"] = frame["rank"].astype("Int64")
    frame["n_organisations"] = frame["n_organisations"].astype("Int64")
    ordered = [c for c in frame.columns if c != "explanation"] + ["explanation"]
    return frame[ordered]


def _scores(frame: pd.DataFrame) -> dict[str, Any]:
    columns = ["score", *(c for c in frame.columns if c.startswith("score_"))]
    out: dict[str, Any] = {c: frame[c].astype("float64").round(4).to_numpy() for c in columns}
    out["explanation"] = frame["explanation"].astype("string").to_numpy()
    return out


# ---------------------------------------------------------------------- the report


def _statuses(points: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in ORGANISATION_STATUSES:
        if column not in points.columns:
            continue
        counts = _counts(points[column])
        meanings = STATUS_MEANINGS[column]
        out[column] = {
            "counts": counts,
            "meanings": {k: meanings[k] for k in counts if k in meanings},
        }
    if "geocode_status" in out:
        out["geocode_status"]["examples"] = _examples(points, "geocode_status", ("matched",))
    return out


def _examples(points: pd.DataFrame, column: str, skip: tuple[str, ...]) -> dict[str, Any]:
    """Up to five rows of each status (not in ``skip``), by file and 1-based row."""
    out: dict[str, Any] = {}
    values = points[column].astype("string")
    for status in points[column].cat.categories:
        if status in skip:
            continue
        rows = points.loc[(values == status).to_numpy(dtype=bool, na_value=False)].head(_EXAMPLES)
        if len(rows) == 0:
            continue
        out[str(status)] = [
            {
                "source_file": _text(row.get("source_file")),
                "source_row": _number(row.get("source_row"), 0),
                "postcode": _text(row.get("postcode")),
            }
            for _, row in rows.iterrows()
        ]
    return out


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA or value != value else str(value)


def _top(frame: pd.DataFrame, lens: str) -> list[dict[str, Any]]:
    rows = []
    code, name = _area_id(frame)
    for _, row in frame.head(_TOP).iterrows():
        item: dict[str, Any] = {
            "rank": _number(row["rank"], 0),
            "rank_status": str(row["rank_status"]),
            "score": _number(row["score"]),
        }
        if lens == "strength":
            item["cluster_id"] = _number(row["cluster_id"], 0)
            item["wards"] = None if pd.isna(row.get("ward_names")) else str(row["ward_names"])
        else:
            item["code"] = str(row[code]) if code else None
            item["name"] = str(row[name]) if name and pd.notna(row[name]) else None
        item["n_organisations"] = _number(row["n_organisations"], 0)
        item["explanation"] = str(row["explanation"])
        rows.append(item)
    return rows


def _flags(analysis: Analysis) -> list[dict[str, Any]]:
    points = analysis.points
    geocoded = _counts(points["geocode_status"])
    flags: list[dict[str, Any]] = []

    def flag(what: str, count: int, why: str) -> None:
        if count:
            flags.append({"what": what, "count": int(count), "why": why})

    flag(
        "organisations not placed",
        sum(geocoded.get(s, 0) for s in _UNPLACED),
        "their postcode is missing, invalid or unknown "
        f"({', '.join(f'{s} {geocoded.get(s, 0):,}' for s in _UNPLACED)}); they stay in "
        "every output with their status but are not on the map, in any area count or in "
        "any cluster. Correct the postcodes in the register to include them.",
    )
    flag(
        "organisations outside the postcode table's coverage",
        geocoded.get("outside_coverage", 0),
        "their postcode area is not in the postcode table (the bundled one covers the "
        "B, CV, DY, WS and WV areas): they are registered outside the region. They stay "
        "in every output with their status; the national table "
        "(OfflinePostcodeGeocoder.national()) places them.",
    )
    flag(
        "organisations placed at a postcode sector's middle",
        geocoded.get("sector_centroid", 0),
        "their postcode was not found but its sector was; they are counted in their areas "
        "(the sector may straddle areas) and left out of clustering.",
    )
    flag(
        "organisations with a terminated postcode",
        geocoded.get("terminated", 0),
        "the postcode is no longer in use; the organisation may have moved or closed.",
    )
    if "area_status" in points.columns:
        placed = _counts(points["area_status"])
        flag(
            "organisations outside the study area",
            placed.get("outside_areas", 0),
            f"their point lies outside {analysis.geography.name}; they are in no area count.",
        )
        flag(
            "organisations with only some area codes",
            placed.get("partial", 0),
            STATUS_MEANINGS["area_status"]["partial"] + ".",
        )
    clustered = _counts(points["cluster_status"])
    flag(
        "organisations at stacked addresses",
        clustered.get("stacked_address", 0),
        "many organisations share one point — usually a registered office (accountants, "
        "formation agents, umbrella bodies) rather than where they work; left out of "
        "clustering.",
    )
    duplicates = int(points["duplicate_of"].notna().sum()) if "duplicate_of" in points else 0
    flag(
        "duplicate rows across registers",
        duplicates,
        "the same organisation in two registers (duplicate_of names the row kept); each "
        "is counted once in the areas and the clusters.",
    )
    gaps = analysis.candidates.gaps
    if "rank_status" in gaps.columns:
        flag(
            "areas with few residents",
            int((gaps["rank_status"] == "small_population").sum()),
            STATUS_MEANINGS["rank_status"]["small_population"] + "; ranked after the others.",
        )
    hot = analysis.hotspots
    flag(
        "areas with no neighbour",
        len(hot.islands),
        "an island in the neighbour graph is not tested for hot spots.",
    )
    if all(v == 0 for k, v in hot.counts.items() if k not in ("not_significant",)):
        flags.append(
            {
                "what": "no significant hot or cold spots",
                "count": 0,
                "why": "no area's value stands out from its neighbours after the "
                "false-discovery-rate control; see the hot-spot options.",
            }
        )
    return flags


def build_report(analysis: Analysis) -> dict[str, Any]:
    """Return the JSON report of an analysis (see :meth:`socecon_geo.Analysis.report`)."""
    params = analysis.parameters
    points = analysis.points
    hot = analysis.hotspots
    clusters = analysis.clusters
    areas_attrs = analysis.areas.attrs
    counted = int(pd.to_numeric(analysis.areas["n_organisations"]).sum())
    statuses = _statuses(points)
    return {
        "title": params.get("title"),
        "socecon_geo": params.get("socecon_geo"),
        "date": params.get("date"),
        "geography": analysis.geography.name,
        "steps": [
            "read the registers"
            + (
                " and marked duplicates across them" if len(params.get("registers", [])) > 1 else ""
            ),
            f"geocoded by postcode ({params.get('geocoder')})",
            "assigned LSOA 2021, LSOA 2011, MSOA, ward and authority codes",
            f"joined the Indices of Deprivation ({params.get('deprivation')}) by LSOA",
            f"summarised organisations by {params.get('level')} (counts, rates per 10,000 "
            "residents, empirical-Bayes smoothed rates, location quotients, residents' IMD)",
            f"found density clusters ({clusters.params.get('method')})",
            f"tested for hot and cold spots ({hot.attrs.get('method')} on "
            f"{hot.attrs.get('variable')}, FDR {'on' if hot.attrs.get('fdr') else 'off'})",
            "ranked candidate clusters (strengths) and high-need areas (gaps)",
        ],
        "inputs": params.get("registers", []),
        "parameters": {k: v for k, v in params.items() if k not in ("registers",)},
        "sources": [record.to_dict() for record in analysis.provenance],
        "organisations": {
            "total": len(points),
            "counted_in_areas": counted,
            "not_counted_in_areas": {
                str(k): int(v) for k, v in dict(areas_attrs.get("unassigned") or {}).items()
            },
        },
        "statuses": statuses,
        "areas": {"level": params.get("level"), "count": len(analysis.areas)},
        "clusters": {
            "count": len(clusters.clusters),
            "organisations_clustered": int((points["cluster_status"] == "clustered").sum()),
        },
        "hotspots": {
            "classes": hot.counts,
            "meanings": {
                k: STATUS_MEANINGS["hotspot_class"][k] for k in hot.counts if hot.counts[k]
            },
            "islands": [str(i) for i in hot.islands],
            "components": int(hot.components),
        },
        "candidates": {
            "weights": analysis.candidates.weights,
            "strengths": _top(analysis.candidates.strengths, "strength"),
            "gaps": _top(analysis.candidates.gaps, "gap"),
        },
        "size": _size_section(analysis),
        "growth": _growth_section(analysis),
        "suppliers": None if analysis.suppliers is None else summary_records(analysis.suppliers),
        "flags": _flags(analysis),
        "limitations": [
            "A register's address is where an organisation is registered, not always "
            "where it works; national bodies registered in the region count where their "
            "office is.",
            "A register covers only the organisations registered with it; combine "
            "registers for a fuller picture.",
            "Areas with few residents have unstable rates; the smoothed rate and the "
            "small-population status say so.",
            "Results depend on the areas used (the modifiable areal unit problem); compare "
            "levels before drawing boundaries.",
        ],
    }


_SIZE_COLUMNS: Final = (
    "n_organisations",
    "n_organisations_excl_national",
    "income_total",
    "income_total_excl_national",
    "income_total_difference",
    "income_median",
    "income_known",
    "income_coverage",
    "income_top1_share",
    "income_top10_share",
    "employees_total",
    "employees_known",
    "gva_estimate",
)


def _records(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    keep = [c for c in columns if c in frame.columns]
    out = []
    for _, row in frame.iterrows():
        item: dict[str, Any] = {}
        for column in keep:
            value = row[column]
            if isinstance(value, str):
                item[column] = value
            elif isinstance(value, int | np.integer) and not isinstance(value, bool):
                item[column] = int(value)
            elif isinstance(value, bool) or pd.isna(value):
                item[column] = None if not isinstance(value, bool) and pd.isna(value) else value
            else:
                item[column] = _number(value, 4)
        out.append(item)
    return out


def _size_section(analysis: Analysis) -> dict[str, Any] | None:
    size = analysis.size
    if size is None:
        return None
    statuses = _counts(size.organisations["size_status"])
    return {
        "level": size.params.get("level"),
        "measures": list(size.params.get("measures", ())),
        "active_only": size.params.get("active_only"),
        "national_threshold": size.params.get("national_threshold"),
        "statuses": {
            "counts": statuses,
            "meanings": {k: STATUS_MEANINGS["size_status"][k] for k in statuses},
        },
        "by_authority": _records(size.totals, ("lad_code", "lad_name", *_SIZE_COLUMNS)),
    }


def _growth_section(analysis: Analysis) -> dict[str, Any]:
    note = dict(analysis.parameters.get("growth") or {})
    table = analysis.growth
    if table is None:
        return note
    years = (
        table.groupby("year", sort=True)[["births", "deaths", "stock"]]
        .sum()
        .join(table.groupby("year")["partial_year"].any())
        .reset_index()
    )
    note["by_year"] = _records(years, ("year", "births", "deaths", "stock", "partial_year"))
    note["deaths_recorded_from"] = _number(table.attrs.get("deaths_recorded_from"), 0)
    note["not_counted"] = {
        str(k): int(v) for k, v in dict(table.attrs.get("not_counted") or {}).items()
    }
    trajectory = analysis.trajectory
    if trajectory is not None:
        p = trajectory.parameters
        note["trajectory"] = {
            "measure": p.get("measure"),
            "baseline_year": _number(p.get("baseline_year"), 0),
            "target_multiple": p.get("target_multiple"),
            "years": p.get("years"),
            "required_rate": _number(p.get("required_rate"), 6),
            "counts": trajectory.counts,
            "areas": _records(
                trajectory.areas,
                (
                    "lad_code",
                    "lad_name",
                    "ward_code",
                    "ward_name",
                    "baseline",
                    "observed_from",
                    "observed_to",
                    "observed_rate",
                    "target",
                    "projected",
                    "trajectory_status",
                ),
            ),
        }
    return note


# ---------------------------------------------------------------------- Markdown


def _cell(value: Any) -> str:
    """Return a table cell: numbers as numbers, text escaped (a cell never starts a line)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating) and not pd.isna(value):
        return f"{int(value):,}" if float(value).is_integer() else f"{float(value):,.4g}"
    return escape_markdown(value, missing="", line_start=False)


def _md_table(headings: list[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return lines


def report_markdown(report: dict[str, Any]) -> str:
    """Write a report (:func:`build_report`) as Markdown; every text from data escaped."""
    e = escape_markdown
    lines = [f"# {e(report.get('title'))}", ""]
    lines.append(
        f"Made with socecon_geo {report.get('socecon_geo')} on {report.get('date')} "
        f"for {e(report.get('geography'))}."
    )
    lines += ["", "## What was done", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(report["steps"], start=1)]
    lines += ["", "## Registers read", ""]
    lines += _md_table(
        ["file", "register", "rows read", "organisations", "set aside by the register's filters"],
        (
            (
                item["source"],
                item.get("register") or "",
                f"{item['rows_read']:,}",
                f"{item['organisations']:,}",
                ", ".join(f"{k} {v:,}" for k, v in item["set_aside"].items()) or "none",
            )
            for item in report["inputs"]
        ),
    )
    orgs = report["organisations"]
    lines += ["", "## Organisations", ""]
    lines.append(
        f"{orgs['total']:,} organisations; {orgs['counted_in_areas']:,} counted in the "
        f"{report['areas']['count']:,} {report['areas']['level']} areas."
    )
    for column, block in report["statuses"].items():
        lines += ["", f"### `{column}`", ""]
        lines += _md_table(
            ["status", "organisations", "meaning"],
            (
                (status, f"{count:,}", block["meanings"].get(status, ""))
                for status, count in block["counts"].items()
            ),
        )
        if block.get("examples"):
            lines += [
                "",
                "Examples (`source_row`: the record's number in its file, 1 being the first "
                "row below the heading):",
                "",
            ]
            lines += _md_table(
                ["status", "file", "row", "postcode as given"],
                (
                    (
                        status,
                        Path(str(item["source_file"] or "")).name,
                        item["source_row"],
                        item["postcode"] or "(none)",
                    )
                    for status, items in block["examples"].items()
                    for item in items
                ),
            )
    lines += ["", "## Flagged", ""]
    if report["flags"]:
        lines += _md_table(
            ["what", "count", "why"],
            ((f["what"], f"{f['count']:,}", f["why"]) for f in report["flags"]),
        )
    else:
        lines.append("Nothing was flagged.")
    hot = report["hotspots"]
    lines += ["", "## Hot and cold spots", ""]
    lines += _md_table(
        ["class", "areas", "meaning"],
        ((k, f"{v:,}", hot["meanings"].get(k, "")) for k, v in hot["classes"].items() if v),
    )
    cands = report["candidates"]
    lines += ["", f"## Candidate clusters ({report['clusters']['count']} found)", ""]
    if cands["strengths"]:
        lines += _md_table(
            ["rank", "cluster", "organisations", "score", "why"],
            (
                (s["rank"], s["cluster_id"], s["n_organisations"], s["score"], s["explanation"])
                for s in cands["strengths"]
            ),
        )
    else:
        lines.append("No cluster was found.")
    lines += ["", "## Gaps: high need, thin presence (top 10)", ""]
    lines += _md_table(
        ["rank", "area", "organisations", "score", "why"],
        (
            (g["rank"], g["name"] or g["code"], g["n_organisations"], g["score"], g["explanation"])
            for g in cands["gaps"]
        ),
    )
    lines += _size_markdown(report.get("size"))
    lines += _growth_markdown(report.get("growth") or {})
    lines += _suppliers_markdown(report.get("suppliers"))
    lines += ["", "## Limitations", ""]
    lines += [f"- {text}" for text in report["limitations"]]
    lines += ["", "## Sources", ""]
    for source in report["sources"]:
        lines.append(
            f"- {e(source['title'])} ({e(source['publisher'])}, {e(source['vintage'])}); "
            f"{e(source['licence'])}. {e(source['attribution'])}"
        )
    if report.get("outputs"):
        lines += ["", "## Files", ""]
        lines += [f"- {e(name)}" for name in report["outputs"].values()]
    return "\n".join(lines) + "\n"


def _money(value: Any) -> str:
    return "" if value is None else f"£{value:,.0f}"


def _size_markdown(size: dict[str, Any] | None) -> list[str]:
    if not size:
        return []
    lines = ["", f"## Size of the social economy (by {size['level']}, summed by authority)", ""]
    lines.append(
        "Active organisations only"
        if size.get("active_only")
        else "Every organisation, active or not"
    )
    lines[-1] += (
        f"; organisations with income above £{size['national_threshold']:,.0f} are flagged "
        "as possibly national (registered here, working more widely) and every total is "
        "given without them too."
        if size.get("national_threshold")
        else "."
    )
    has_income = "income" in size.get("measures", [])
    headings = ["authority", "organisations"]
    if has_income:
        headings += ["income", "without the flagged", "median", "income known", "top 10% share"]
    lines += ["", *_md_table(headings, _size_rows(size["by_authority"], has_income))]
    return lines


def _size_rows(rows: list[dict[str, Any]], has_income: bool) -> Iterable[list[Any]]:
    for row in rows:
        cells: list[Any] = [row.get("lad_name"), f"{row.get('n_organisations') or 0:,}"]
        if has_income:
            share = row.get("income_top10_share")
            cells += [
                _money(row.get("income_total")),
                _money(row.get("income_total_excl_national")),
                _money(row.get("income_median")),
                f"{row.get('income_known') or 0:,}",
                "" if share is None else f"{share:.0%}",
            ]
        yield cells


def _growth_markdown(growth: dict[str, Any]) -> list[str]:
    lines = ["", "## Growth", ""]
    if not growth.get("ran"):
        lines.append(f"Not measured: {growth.get('why', 'not asked for')}.")
        return lines
    shown = growth["by_year"][-_GROWTH_YEARS:]
    if len(shown) < len(growth["by_year"]):
        lines.append(
            f"The last {len(shown)} years (every year from {growth['by_year'][0]['year']} is "
            "in growth.csv and report.json):"
        )
        lines.append("")
    lines += _md_table(
        ["year", "births", "deaths", "stock at the end"],
        (
            (
                f"{r['year']}" + (" (part)" if r.get("partial_year") else ""),
                r["births"],
                r["deaths"],
                r["stock"],
            )
            for r in shown
        ),
    )
    if growth.get("deaths_recorded_from"):
        lines += [
            "",
            f"Dissolutions are recorded from {growth['deaths_recorded_from']}: before it the "
            "stock holds only the organisations that survived to then.",
        ]
    trajectory = growth.get("trajectory")
    if trajectory:
        lines += [
            "",
            f"### Doubling: x{trajectory['target_multiple']:g} in {trajectory['years']} years "
            f"from {trajectory['baseline_year']} needs {trajectory['required_rate']:.2%} a year",
            "",
        ]
        lines += _md_table(
            ["area", "baseline", "observed rate", "status"],
            (
                (
                    a.get("lad_name") or a.get("ward_name") or "all",
                    a.get("baseline"),
                    "" if a.get("observed_rate") is None else f"{a['observed_rate']:.2%}",
                    a.get("trajectory_status"),
                )
                for a in trajectory["areas"]
            ),
        )
    return lines


def _suppliers_markdown(suppliers: dict[str, Any] | None) -> list[str]:
    if not suppliers:
        return []
    bands = suppliers["bands_m"]
    lines = ["", "## Social procurement: suppliers within reach of the sites", ""]
    lines.append(
        "Straight-line distance from each site (to its edge, for a polygon) to the social "
        "economy organisations whose SIC code is in the site's programme's supply chain; "
        "travel distance is longer."
    )
    lines += [""]
    headings = ["programme", "sites matched", "dwellings"]
    headings += [f"within {b / 1000:g} km: sites / dwellings" for b in bands]
    rows = []
    for item in suppliers.get("by_programme", []):
        cells: list[Any] = [item["programme"], item["sites_matched"], item["matched_dwellings"]]
        cells += [f"{item[f'sites_k1_{b}m']:,} / {item[f'dwellings_k1_{b}m']:,.0f}" for b in bands]
        rows.append(cells)
    lines += _md_table(headings, rows)
    gaps = suppliers.get("largest_gaps") or {}
    band = bands[1] if len(bands) > 1 else bands[0]
    shown = gaps.get(f"{band}m") or []
    if shown:
        lines += ["", f"Largest gaps: no matching supplier within {band / 1000:g} km", ""]
        keys = [
            k
            for k in ("site_name", "authority", "dwellings", "nearest_supplier_m")
            if k in shown[0]
        ]
        lines += _md_table(keys, ([g.get(k) for k in keys] for g in shown))
    return lines


# ---------------------------------------------------------------------- terminal text


def summary_text(analysis: Analysis) -> str:
    """Return the few lines a terminal shows after a run (statuses explained)."""
    points = analysis.points
    params = analysis.parameters
    shown: dict[str, set[str]] = {}
    lines = []
    registers = params.get("registers", [])
    for item in registers:
        aside = ", ".join(f"{k} {v:,}" for k, v in item["set_aside"].items() if v)
        lines.append(
            f"{item['source']}: {item['rows_read']:,} rows read, "
            f"{item['organisations']:,} organisations"
            + (f" (set aside by the register's filters: {aside})" if aside else "")
        )
    for column, label in _SUMMARY_LINES:
        counts = {k: v for k, v in _counts(points[column]).items() if v}
        shown[column] = set(counts)
        lines.append(f"{label}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    hot = analysis.hotspots
    hot_counts = {k: v for k, v in hot.counts.items() if v}
    shown["hotspot_class"] = set(hot_counts)
    lines.append(
        f"{len(analysis.clusters.clusters)} clusters; hot spots ({hot.attrs.get('method')} on "
        f"{hot.attrs.get('variable')}, {len(analysis.areas):,} {params.get('level')} areas): "
        + ", ".join(f"{k} {v:,}" for k, v in hot_counts.items())
    )
    strengths = analysis.candidates.strengths
    for _, row in strengths.head(3).iterrows():
        lines.append(f"strength {int(row['rank'])}: {row['explanation']}")
    for _, row in analysis.candidates.gaps.head(3).iterrows():
        lines.append(f"gap {int(row['rank'])}: {row['explanation']}")
    lines.append("what the statuses mean:")
    labels = {**dict(_SUMMARY_LINES), "hotspot_class": "hot spots"}
    for column, values in shown.items():
        for value in STATUS_MEANINGS[column]:
            if value in values:
                lines.append(f"  {labels[column]} {value}: {STATUS_MEANINGS[column][value]}")
    return "\n".join(lines)

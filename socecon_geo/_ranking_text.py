"""The plain-language explanations of :func:`socecon_geo.rank_candidates`.

Private to socecon_geo. Each candidate's ``explanation`` is one sentence built from its
numbers. Names from input files (wards, authorities) stay plain text: control characters
and line breaks become spaces, and nothing is marked up; whoever builds HTML from the
sentences escapes them (``Candidates.explore`` does).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from socecon_geo.registers.columns import SIC_SECTIONS

__all__ = ["CLASS_WORDS", "gap_text", "strength_text"]

CLASS_WORDS: Final[dict[str, str]] = {
    "hot_99": "a 99% hot spot",
    "hot_95": "a 95% hot spot",
    "hot_90": "a 90% hot spot",
    "high_high": "a high-high cluster (local Moran)",
    "cold_99": "a 99% cold spot",
    "cold_95": "a 95% cold spot",
    "cold_90": "a 90% cold spot",
    "low_low": "a low-low cluster (local Moran)",
}


_TYPE_WORDS: Final[dict[str, tuple[str, str]]] = {
    "charity": ("charity", "charities"),
    "charitable_incorporated_organisation": ("CIO", "CIOs"),
    "community_interest_company": ("CIC", "CICs"),
    "co_operative": ("co-operative", "co-operatives"),
    "community_benefit_society": ("community benefit society", "community benefit societies"),
    "company_limited_by_guarantee": (
        "company limited by guarantee",
        "companies limited by guarantee",
    ),
    "social_enterprise": ("social enterprise", "social enterprises"),
    "other": ("other", "others"),
}


def _plain(text: object) -> str:
    """Text from an input file as one plain line (no control characters)."""
    return re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", str(text))).strip()


def _names(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return []
    return [_plain(part) for part in str(value).split(";") if _plain(part)]


def _listed(items: list[str], limit: int = 3) -> str:
    if len(items) > limit:
        items = [*items[:limit], f"{len(items) - limit} more"]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _count(n: float, singular: str, plural: str) -> str:
    value = int(n)
    return f"{value:,} {singular if value == 1 else plural}"


def _number(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def _type_counts(row: Mapping[str, Any]) -> str:
    counts = []
    for key, (singular, plural) in _TYPE_WORDS.items():
        value = row.get(f"n_{key}")
        if value is not None and pd.notna(value) and int(value) > 0:
            counts.append((int(value), key, singular, plural))
    counts.sort(key=lambda item: (-item[0], list(_TYPE_WORDS).index(item[1])))
    parts = [_count(v, s, p) for v, _, s, p in counts[:3]]
    rest = sum(v for v, *_ in counts[3:])
    if rest:
        parts.append(_count(rest, "other", "others"))
    return _listed(parts, limit=4)


def strength_text(row: Mapping[str, Any], support: str | None, strongest: str | None) -> str:
    n = int(row["n_organisations"])
    first = f"Cluster {row['cluster_id']}: {_count(n, 'organisation', 'organisations')}"
    types = _type_counts(row)
    if types:
        first += f" ({types})"
    locations = row.get("n_locations")
    if locations is not None and pd.notna(locations):
        first += f" at {_count(locations, 'location', 'locations')}"
    wards = _names(row.get("ward_names"))
    lads = _names(row.get("lad_names"))
    if wards:
        first += f" across {_count(len(wards), 'ward', 'wards')} ({_listed(wards)})"
    if lads:
        first += f" of {_listed(lads)}"
    parts = [first]
    area = row.get("area_km2")
    density = row.get("density_per_km2")
    if area is not None and pd.notna(area):
        sizes = f"{_number(float(area), 2)} km²"
        if density is None or pd.isna(density):
            density = n / float(area) if float(area) > 0 else None
        if density is not None and pd.notna(density):
            sizes += f", {_number(float(density))} per km²"
        parts.append(sizes)
    per_10k = row.get("per_10k_residents")
    if per_10k is not None and pd.notna(per_10k):
        parts.append(f"{_number(float(per_10k))} per 10,000 residents")
    else:
        parts.append("no population, so no rate per resident")
    diversity = row.get("sector_diversity")
    if diversity is not None and pd.notna(diversity):
        sectors = _count(diversity, "sector", "sectors")
        top = row.get("top_sector")
        if top is not None and pd.notna(top) and str(top) in SIC_SECTIONS:
            sectors += f" (most in {top}: {SIC_SECTIONS[str(top)].lower()})"
        parts.append(sectors)
    imd = row.get("imd_score_popweighted")
    decile1 = row.get("share_pop_imd_decile1")
    deprivation = []
    if imd is not None and pd.notna(imd):
        deprivation.append(f"residents' IMD score {_number(float(imd))}")
    if decile1 is not None and pd.notna(decile1):
        deprivation.append(f"{float(decile1):.0%} of residents in England's most deprived 10%")
    parts.append(", ".join(deprivation) if deprivation else "deprivation not known")
    if support is not None:
        share = float(row["hotspot_share"])
        basis = "organisations" if "organisations" in support else "area"
        if share > 0 and strongest is not None:
            parts.append(
                f"{share:.0%} of its {basis} in hot spots (strongest: {CLASS_WORDS[strongest]})"
            )
        else:
            parts.append("not in a hot spot")
    else:
        parts.append("hot spots not assessed")
    return _sentence(parts)


def _sentence(parts: list[str]) -> str:
    return "; ".join(parts) + "."


def gap_text(
    row: Mapping[str, Any],
    code_column: str,
    name_column: str | None,
    have_hotspots: bool,
    cold: str | None,
    notes: Mapping[str, Any],
    min_population: object,
) -> str:
    code = _plain(row[code_column])
    name = _plain(row[name_column]) if name_column and pd.notna(row[name_column]) else ""
    place = f"{name} ({code})" if name else code
    lad = row.get("lad_name") if code_column != "lad_code" else None
    if lad is not None and pd.notna(lad):
        place += f", {_plain(lad)}"
    parts = [place]
    imd = row.get("imd_score_popweighted")
    decile1 = row.get("share_pop_imd_decile1")
    population = row.get("population")
    need = []
    if imd is not None and pd.notna(imd):
        need.append(f"residents' IMD score {_number(float(imd))}")
    if decile1 is not None and pd.notna(decile1):
        need.append(f"{float(decile1):.0%} of residents in England's most deprived 10%")
    parts.append(", ".join(need) if need else "deprivation not known")
    n = int(row["n_organisations"])
    presence = _count(n, "organisation", "organisations")
    eb = row.get("rate_per_10k_eb")
    if population is not None and pd.notna(population):
        presence += f" for {round(float(population)):,} residents"
    if eb is not None and pd.notna(eb):
        presence += f", {_number(float(eb))} per 10,000 smoothed"
        overall = notes.get("overall_rate_per_10k")
        if overall is not None:
            presence += f" (all areas: {_number(float(overall))})"
    elif not str(notes.get("presence_measure", "")).startswith("rate"):
        presence += f", {_number(float(row['presence_per_km2']))} per km² (no population given)"
    else:
        presence += ", no rate per resident (no population)"
    parts.append(presence)
    if have_hotspots:
        share = float(row["coldspot_share"])
        if cold is None or not share > 0:
            parts.append("not in a cold spot")
        elif share >= 0.995:
            parts.append(f"in {CLASS_WORDS[cold]}")
        else:
            parts.append(f"{share:.0%} of its area in cold spots (strongest: {CLASS_WORDS[cold]})")
    else:
        parts.append("cold spots not assessed")
    status = str(row["rank_status"])
    if status == "small_population":
        limit = (
            f"{float(min_population):,.0f}"
            if isinstance(min_population, int | float)
            else "the minimum"
        )
        parts.append(
            f"ranked after the others: fewer than {limit} residents, so its rate is unstable"
        )
    elif status == "no_population":
        parts.append("not scored: no population, so no rate per resident")
    elif status == "no_deprivation":
        parts.append("not scored: deprivation not known")
    elif status == "no_data":
        parts.append("not scored: a component is missing")
    return _sentence(parts)

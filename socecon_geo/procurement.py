"""Social procurement: which social economy organisations could supply each site.

:func:`match_suppliers` takes investment sites (:func:`socecon_geo.read_sites`) and
placed organisations (:func:`socecon_geo.geocode`, usually through
:func:`socecon_geo.assign_areas`) and finds, for every site, the organisations of its
programme's supply chain (:mod:`socecon_geo.supply_chains`) within each distance band,
and for every organisation the sites it could serve. Distances are straight lines in
British National Grid metres, to a polygon site's edge (0 inside it); they are not
travel distances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from socecon_geo._checks import check_bng_extent, check_geodataframe, check_projected, has_geometry
from socecon_geo._errors import InputError
from socecon_geo._html import neutralise_frame
from socecon_geo._schema import (
    SUPPLIER_STATUS,
    SUPPLIER_STATUSES,
    SUPPLY_STATUS,
    SUPPLY_STATUSES,
)
from socecon_geo.provenance import combine_provenance, with_provenance
from socecon_geo.supply_chains import COMMON_PROGRAMME, supply_chain_table

__all__ = [
    "DEFAULT_BANDS_M",
    "LIMITATION",
    "SupplierMatch",
    "match_suppliers",
    "shortlist_frame",
    "summary_records",
]

DEFAULT_BANDS_M: Final[tuple[int, ...]] = (1_000, 3_000, 5_000, 10_000)
"""The distance bands, in metres."""

LIMITATION: Final = (
    "Distances are straight lines between a site (its edge, for a polygon) and an "
    "organisation's registered postcode, not travel distances by road or public "
    "transport; a registered address is not always where an organisation works, and "
    "organisations placed only at a postcode sector's middle (position quality 60) are "
    "about 1 km out."
)
"""What no option fixes, stated in ``attrs["limitations"]`` and the docs."""

_MATCHED_SITES: Final = ("located", "geocoded")
_SECTOR_QUALITY: Final = 60


@dataclass
class SupplierMatch:
    """What :func:`match_suppliers` returns.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        Every site in its order, with ``supply_status`` (``reached``, ``gap``,
        ``not_located``), ``n_suppliers_<band>m`` (matching organisations within each
        band; missing for a site not matched), ``nearest_supplier_m`` and
        ``nearest_supplier``.
    organisations : geopandas.GeoDataFrame
        Every organisation in its order, with ``supplier_status``, ``supplier_fit`` (the
        best fit of its SIC code to the sites' programmes), ``approximate_position``
        (placed at a postcode sector's middle), ``n_sites_<band>m`` and
        ``nearest_site_m``.
    pairs : pandas.DataFrame
        The shortlist: for each site up to ``max_per_site`` nearest matching
        organisations within the largest band, ranked (``rank`` 1 first) by band, then
        fit, then distance.
    by_programme, by_authority : pandas.DataFrame
        Per programme (and per authority): sites, dwellings, sites and dwellings within
        reach of at least k suppliers in each band, and the gaps.
    bands_m : tuple of int
        The distance bands.
    supply_chains : pandas.DataFrame
        The table used (:func:`socecon_geo.supply_chains.supply_chain_table`).
    parameters : dict
        The options used.
    """

    sites: gpd.GeoDataFrame
    organisations: gpd.GeoDataFrame
    pairs: pd.DataFrame
    by_programme: pd.DataFrame
    by_authority: pd.DataFrame
    bands_m: tuple[int, ...]
    supply_chains: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        located = int((self.sites["supply_status"] != "not_located").sum())
        gaps = int((self.sites["supply_status"] == "gap").sum())
        in_reach = int((self.organisations["supplier_status"] == "in_reach").sum())
        return (
            f"SupplierMatch({len(self.sites):,} sites ({located:,} matched, {gaps:,} gaps "
            f"within {self.bands_m[-1]:,} m), {len(self.organisations):,} organisations "
            f"({in_reach:,} in reach); bands {', '.join(f'{b:,}' for b in self.bands_m)} m)"
        )

    def gaps(self, band_m: int | None = None) -> gpd.GeoDataFrame:
        """Return the matched sites with no supplier within ``band_m`` (default the largest).

        Largest first (by ``site_size``).
        """
        band = self._band(band_m)
        sites = self.sites[self.sites["supply_status"] != "not_located"]
        gap = sites[sites[f"n_suppliers_{band}m"] == 0]
        return gap.sort_values(["site_size", "site_id"], ascending=[False, True])

    def _band(self, band_m: int | None) -> int:
        if band_m is None:
            return self.bands_m[-1]
        if band_m not in self.bands_m:
            msg = f"band_m {band_m!r} is not one of the bands {list(self.bands_m)}."
            raise InputError(msg)
        return int(band_m)

    def explore(self, *, band_m: int | None = None, **kwargs: Any) -> Any:
        """Show the matched sites coloured by how many suppliers reach them.

        (:meth:`geopandas.GeoDataFrame.explore`; ``render_map(sites=match)`` draws the
        same layer on the full map, with popups of the nearest suppliers.)

        Parameters
        ----------
        band_m : int, optional
            The band whose counts colour the sites (default the second, 3,000 m).
        **kwargs
            Passed to :meth:`geopandas.GeoDataFrame.explore` (``tiles``, ``m``, …).

        Returns
        -------
        folium.Map
        """
        if band_m is None:
            band_m = self.bands_m[1] if len(self.bands_m) > 1 else self.bands_m[0]
        band = self._band(band_m)
        column = f"n_suppliers_{band}m"
        sites = self.sites[self.sites["supply_status"] != "not_located"]
        shown = [
            c
            for c in (
                "site_name",
                "authority",
                "programme",
                "dwellings",
                column,
                "nearest_supplier",
            )
            if c in sites.columns
        ]
        frame = sites[[*shown, sites.geometry.name]].copy()
        frame[column] = frame[column].astype("float64")
        kwargs.setdefault("column", column)
        kwargs.setdefault("cmap", "viridis")
        kwargs.setdefault("tooltip", shown)
        return frame.explore(**kwargs)


def _band_name(band: int) -> str:
    return f"{band}m"


def _check_bands(bands_m: Any) -> tuple[int, ...]:
    try:
        bands = tuple(int(b) for b in bands_m)
        ok = bool(bands) and all(
            b > 0 and b == float(x) for b, x in zip(bands, bands_m, strict=True)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok or list(bands) != sorted(set(bands)):
        msg = (
            f"bands_m must be increasing whole numbers of metres such as (1000, 3000, 5000), "
            f"not {bands_m!r}."
        )
        raise InputError(msg)
    return bands


def _prefix_fit(codes: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """Best fit of each SIC code to a table of prefixes (0 where none matches)."""
    out = np.zeros(len(codes))
    digits = codes.astype("string").str.replace(".", "", regex=False).str.strip()
    for prefix, fit in zip(table["sic_prefix"], table["fit"], strict=True):
        hit = digits.str.startswith(prefix).to_numpy(dtype=bool, na_value=False)
        out = np.where(hit, np.maximum(out, fit), out)
    return out


def match_suppliers(
    sites: gpd.GeoDataFrame,
    organisations: gpd.GeoDataFrame,
    *,
    programme: str | None = None,
    bands_m: Sequence[int] = DEFAULT_BANDS_M,
    supply_chains: Mapping[str, Iterable[str]] | pd.DataFrame | str | None = None,
    max_per_site: int = 20,
    k: Sequence[int] = (1, 3, 5),
) -> SupplierMatch:
    """Find the social economy organisations that could supply each site.

    An organisation can supply a site when its SIC 2007 code starts with a prefix of the
    site's programme, or of ``"all"`` (common services), in the supply-chain table. Its
    **fit** is how specific the best matching prefix is: 0.25 for a division (2 digits,
    e.g. 43 "specialised construction"), 0.5 a group, 0.75 a class, 1.0 a subclass. Each
    site's shortlist is its ``max_per_site`` nearest matching organisations within the
    largest band, ranked by band (nearest band first), then fit (best first), then
    distance.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        From :func:`socecon_geo.read_sites` (EPSG:27700): points or polygons, with
        ``programme`` and ``site_status``; only ``located`` and ``geocoded`` sites are
        matched. A frame without ``site_status`` is taken as located where it has a
        geometry.
    organisations : geopandas.GeoDataFrame
        Placed organisations (``geocode`` / ``assign_areas``) with ``sic_code``.
    programme : str, optional
        Match every site as this programme, whatever its ``programme`` column says.
    bands_m : sequence of int
        Distance bands in metres, increasing.
    supply_chains : mapping, DataFrame or CSV path, optional
        Overrides of the supply-chain table (see
        :func:`socecon_geo.supply_chains.supply_chain_table`).
    max_per_site : int
        The length of each site's shortlist (the counts per band count every match).
    k : sequence of int
        The summaries count sites within reach of at least each of these many suppliers.

    Returns
    -------
    SupplierMatch

    Raises
    ------
    InputError
        An unknown programme (one with no supply chain), bad bands, a frame that is not
        a GeoDataFrame or has coordinates outside the British National Grid.
    CRSMismatchError
        A frame not in a projected CRS, or the two frames in different CRSs.
    """
    from socecon_geo._checks import check_same_crs

    check_geodataframe(sites, "sites", "investment sites (read_sites)")
    check_geodataframe(organisations, "organisations", "placed organisations (geocode)")
    check_projected(sites.crs, "sites")
    check_projected(organisations.crs, "organisations")
    check_same_crs(sites.crs, "sites", organisations.crs, "organisations")
    check_bng_extent(sites, "sites")
    check_bng_extent(organisations, "organisations")
    bands = _check_bands(bands_m)
    if isinstance(max_per_site, bool) or not isinstance(max_per_site, int) or max_per_site < 1:
        msg = f"max_per_site must be a whole number >= 1, not {max_per_site!r}."
        raise InputError(msg)
    ks = tuple(int(x) for x in k)
    if not ks or any(x < 1 for x in ks):
        msg = f"k must be whole numbers >= 1 such as (1, 3, 5), not {k!r}."
        raise InputError(msg)
    table = supply_chain_table(supply_chains)
    known = sorted(set(table["programme"]) - {COMMON_PROGRAMME})
    n_sites, n_orgs = len(sites), len(organisations)
    if programme is not None:
        site_programme = pd.Series(str(programme).strip().lower(), index=sites.index)
    elif "programme" in sites.columns:
        site_programme = sites["programme"].astype("string").str.lower().fillna(COMMON_PROGRAMME)
    else:
        site_programme = pd.Series(COMMON_PROGRAMME, index=sites.index)
    unknown = sorted(set(site_programme) - set(table["programme"]))
    if unknown:
        msg = (
            f"programme {unknown[0]!r} has no supply chain; use one of {known} (or "
            f"{COMMON_PROGRAMME!r} for common services only), or give its SIC codes with "
            "supply_chains={" + repr(unknown[0]) + ": ['41', '43']}."
        )
        raise InputError(msg)

    # ---- which sites, which organisations ------------------------------------------
    site_geom = sites.geometry.to_numpy()
    site_has = has_geometry(sites.geometry)
    if "site_status" in sites.columns:
        matched = site_has & sites["site_status"].astype(str).isin(_MATCHED_SITES).to_numpy()
    else:
        matched = site_has
    org_has = has_geometry(organisations.geometry)
    duplicate = (
        organisations["duplicate_of"].notna().to_numpy()
        if "duplicate_of" in organisations.columns
        else np.zeros(n_orgs, dtype=bool)
    )
    codes = (
        organisations["sic_code"]
        if "sic_code" in organisations.columns
        else pd.Series(pd.NA, index=organisations.index, dtype="string")
    )
    no_sic = codes.isna().to_numpy() | (codes.astype("string").str.strip() == "").to_numpy(
        dtype=bool, na_value=True
    )
    usable = org_has & ~duplicate
    oxy = np.zeros((n_orgs, 2))
    if usable.any():
        oxy[usable] = shapely.get_coordinates(
            shapely.centroid(organisations.geometry.to_numpy()[usable])
        )
    quality = (
        organisations["position_quality"].to_numpy(dtype="float64", na_value=np.nan)
        if "position_quality" in organisations.columns
        else np.full(n_orgs, np.nan)
    )
    approximate = quality >= _SECTOR_QUALITY

    counts = np.zeros((n_sites, len(bands)), dtype=np.int64)
    org_counts = np.zeros((n_orgs, len(bands)), dtype=np.int64)
    nearest_site = np.full(n_orgs, np.inf)
    nearest = np.full(n_sites, np.inf)
    best_fit = np.zeros(n_orgs)
    in_chain = np.zeros(n_orgs, dtype=bool)
    pair_parts: list[pd.DataFrame] = []
    largest = bands[-1]
    for name in sorted(set(site_programme[matched])):
        chain = table[table["programme"].isin({name, COMMON_PROGRAMME})]
        fit = _prefix_fit(codes, chain)
        candidates = np.flatnonzero(usable & (fit > 0))
        in_chain[fit > 0] = True
        best_fit = np.maximum(best_fit, np.where(usable, fit, 0))
        these = np.flatnonzero(matched & (site_programme == name).to_numpy())
        if not len(candidates) or not len(these):
            continue
        tree = cKDTree(oxy[candidates])
        geoms = site_geom[these]
        point = shapely.get_type_id(geoms) == 0
        # point sites: counts from the tree, the shortlist from its k nearest
        pts = these[point]
        if len(pts):
            xy = shapely.get_coordinates(geoms[point])
            for j, band in enumerate(bands):
                counts[pts, j] = tree.query_ball_point(xy, band, return_length=True)
            kk = min(max_per_site, len(candidates))
            dist, idx = tree.query(xy, k=kk, distance_upper_bound=largest)
            dist, idx = dist.reshape(len(pts), kk), idx.reshape(len(pts), kk)
            keep = np.isfinite(dist)
            rows = np.repeat(pts, kk).reshape(len(pts), kk)[keep]
            pair_parts.append(_pairs(rows, candidates[idx[keep]], dist[keep], fit))
            nearest[pts] = tree.query(xy, k=1)[0]
            site_tree = cKDTree(xy)
            cxy = oxy[candidates]
            for j, band in enumerate(bands):
                org_counts[candidates, j] += site_tree.query_ball_point(
                    cxy, band, return_length=True
                )
            d_site, _ = site_tree.query(cxy, k=1)
            nearest_site[candidates] = np.minimum(nearest_site[candidates], d_site)
        # polygon sites: candidates round the centroid, exact distance to the edge
        for row, geom in zip(these[~point], geoms[~point], strict=True):
            # the representative point is inside the polygon, so no organisation is
            # nearer its edge than (its distance from that point) - reach
            centre = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
            reach = float(np.max(np.hypot(*(shapely.get_coordinates(geom) - centre).T)))
            first_d = float(tree.query(centre, k=1)[0])
            radius = max(largest, first_d) + reach
            near = np.asarray(tree.query_ball_point(centre, radius), dtype=np.int64)
            orgs = candidates[near]
            d = shapely.distance(geom, shapely.points(oxy[orgs]))
            if len(d):
                nearest[row] = float(d.min())
            within = d <= largest
            orgs, d = orgs[within], d[within]
            for j, band in enumerate(bands):
                inside = d <= band
                counts[row, j] = int(inside.sum())
                org_counts[orgs[inside], j] += 1
            nearest_site[orgs] = np.minimum(nearest_site[orgs], d)
            if len(d):
                order = np.argsort(d, kind="stable")[:max_per_site]
                pair_parts.append(_pairs(np.full(len(order), row), orgs[order], d[order], fit))

    # ---- pairs (the shortlist) ------------------------------------------------------
    pairs = (
        pd.concat(pair_parts, ignore_index=True)
        if pair_parts
        else _pairs(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(n_orgs))
    )
    pairs["band_m"] = np.asarray(bands)[np.searchsorted(bands, pairs["distance_m"].to_numpy())]
    pairs = pairs.sort_values(
        ["site_row", "band_m", "fit", "distance_m", "org_row"],
        ascending=[True, True, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    pairs["rank"] = pairs.groupby("site_row").cumcount() + 1
    pairs["approximate_position"] = approximate[pairs["org_row"].to_numpy()]
    pairs["site_id"] = _column(sites, "site_id", np.arange(1, n_sites + 1))[pairs["site_row"]]
    pairs["site_name"] = _column(sites, "site_name", np.full(n_sites, None))[pairs["site_row"]]
    pairs["organisation"] = _column(organisations, "name", np.full(n_orgs, None))[pairs["org_row"]]
    pairs["org_id"] = _column(organisations, "org_id", np.arange(n_orgs))[pairs["org_row"]]
    pairs["sic_code"] = codes.to_numpy()[pairs["org_row"].to_numpy()]
    pairs["postcode"] = _column(organisations, "postcode", np.full(n_orgs, None))[pairs["org_row"]]
    pairs = pairs[
        [
            "site_row",
            "site_id",
            "site_name",
            "rank",
            "org_row",
            "org_id",
            "organisation",
            "sic_code",
            "fit",
            "distance_m",
            "band_m",
            "approximate_position",
            "postcode",
        ]
    ]

    # ---- sites out ------------------------------------------------------------------
    out_sites = sites.copy()
    for j, band in enumerate(bands):
        out_sites[f"n_suppliers_{_band_name(band)}"] = pd.array(
            np.where(matched, counts[:, j], 0), dtype="Int64"
        )
        out_sites.loc[~matched, f"n_suppliers_{_band_name(band)}"] = pd.NA
    out_sites["nearest_supplier_m"] = np.where(np.isfinite(nearest), nearest, np.nan)
    first = pairs[pairs["rank"] == 1].set_index("site_row")["organisation"]
    out_sites["nearest_supplier"] = pd.array(
        pd.Series(np.arange(n_sites)).map(first).to_numpy(), dtype="string"
    )
    supply = np.where(~matched, "not_located", np.where(counts[:, -1] > 0, "reached", "gap"))
    out_sites["supply_status"] = pd.Categorical(supply, dtype=SUPPLY_STATUS)
    out_sites["programme"] = site_programme.astype("string").to_numpy()

    # ---- organisations out ----------------------------------------------------------
    status = np.full(n_orgs, "not_in_supply_chain", dtype=object)
    status[in_chain & usable] = "out_of_reach"
    status[in_chain & usable & (org_counts[:, -1] > 0)] = "in_reach"
    status[no_sic & ~duplicate] = "no_sic"
    status[~org_has] = "no_location"
    status[duplicate] = "duplicate"
    out_orgs = organisations.copy()
    out_orgs["supplier_status"] = pd.Categorical(status, dtype=SUPPLIER_STATUS)
    out_orgs["supplier_fit"] = np.where(in_chain & usable, best_fit, np.nan)
    out_orgs["approximate_position"] = approximate
    for j, band in enumerate(bands):
        out_orgs[f"n_sites_{_band_name(band)}"] = pd.array(org_counts[:, j], dtype="Int64")
    out_orgs["nearest_site_m"] = np.where(np.isfinite(nearest_site), nearest_site, np.nan)

    parameters = {
        "programme": programme,
        "bands_m": list(bands),
        "max_per_site": max_per_site,
        "k": list(ks),
        "supply_chains": "default" if supply_chains is None else "overridden",
    }
    records = combine_provenance(sites, organisations)
    for frame in (out_sites, out_orgs):
        frame.attrs["limitations"] = [LIMITATION]
        frame.attrs["parameters"] = parameters
        with_provenance(frame, records)
    pairs.attrs["limitations"] = [LIMITATION]
    by_programme = _summary(out_sites, bands, ks, ["programme"])
    by_authority = _summary(out_sites, bands, ks, ["programme", "authority"])
    return SupplierMatch(
        sites=out_sites,
        organisations=out_orgs,
        pairs=pairs,
        by_programme=by_programme,
        by_authority=by_authority,
        bands_m=bands,
        supply_chains=table,
        parameters=parameters,
    )


def _column(frame: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.asarray(default, dtype=object)


def _pairs(
    site_rows: np.ndarray, org_rows: np.ndarray, dist: np.ndarray, fit: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_row": np.asarray(site_rows, dtype=np.int64),
            "org_row": np.asarray(org_rows, dtype=np.int64),
            "distance_m": np.asarray(dist, dtype=float),
            "fit": fit[np.asarray(org_rows, dtype=np.int64)],
        }
    )


def _summary(
    sites: gpd.GeoDataFrame, bands: tuple[int, ...], ks: tuple[int, ...], by: list[str]
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "programme": sites["programme"].astype(str).to_numpy(),
            "authority": (
                sites["authority"].astype("string").fillna("unknown").to_numpy()
                if "authority" in sites.columns
                else np.full(len(sites), "unknown")
            ),
            "matched": (sites["supply_status"] != "not_located").to_numpy(),
            "dwellings": (
                np.clip(sites["dwellings"].to_numpy(dtype=float, na_value=np.nan), 0, None)
                if "dwellings" in sites.columns
                else np.zeros(len(sites))
            ),
        }
    )
    frame["dwellings"] = np.nan_to_num(frame["dwellings"])
    for band in bands:
        n = sites[f"n_suppliers_{_band_name(band)}"].to_numpy(dtype=float, na_value=-1)
        for kk in ks:
            frame[f"sites_k{kk}_{band}m"] = n >= kk
            frame[f"dwellings_k{kk}_{band}m"] = np.where(n >= kk, frame["dwellings"], 0.0)
        frame[f"gaps_{band}m"] = (n == 0) & frame["matched"]
        frame[f"gap_dwellings_{band}m"] = np.where(frame[f"gaps_{band}m"], frame["dwellings"], 0.0)
    frame["sites"] = 1
    frame["matched_dwellings"] = np.where(frame["matched"], frame["dwellings"], 0.0)
    columns = [c for c in frame.columns if c not in (*by, "programme", "authority")]
    out = frame.groupby(by, sort=True)[columns].sum().reset_index()
    out = out.rename(columns={"matched": "sites_matched", "dwellings": "dwellings_all"})
    ints = [c for c in out.columns if c.startswith(("sites", "gaps_"))]
    out[ints] = out[ints].astype("int64")
    lead = [*by, "sites", "sites_matched", "dwellings_all", "matched_dwellings"]
    return out[lead + [c for c in out.columns if c not in lead]]


def shortlist_frame(match: SupplierMatch) -> pd.DataFrame:
    """Return the per-site shortlist as a CSV-ready table, every site included.

    One row per (site, supplier) of the shortlist, ranked; a site with no supplier
    within the largest band, or not matched, has one row saying so (``rank`` missing,
    ``supply_status`` ``gap`` or ``not_located``). Text that a spreadsheet would run as
    a formula is neutralised (:func:`socecon_geo._html.neutralise_csv_text`).
    """
    sites = match.sites.reset_index(drop=True)
    head = pd.DataFrame(
        {
            "site_row": np.arange(len(sites)),
            "site_id": sites["site_id"].to_numpy()
            if "site_id" in sites
            else np.arange(1, len(sites) + 1),
            "site_reference": sites.get(
                "site_reference", pd.Series(pd.NA, index=sites.index)
            ).to_numpy(),
            "site_name": sites.get("site_name", pd.Series(pd.NA, index=sites.index)).to_numpy(),
            "authority": sites.get("authority", pd.Series(pd.NA, index=sites.index)).to_numpy(),
            "programme": sites["programme"].to_numpy(),
            "site_status": sites["site_status"].astype(str).to_numpy()
            if "site_status" in sites
            else "located",
            "supply_status": sites["supply_status"].astype(str).to_numpy(),
            "dwellings": sites.get("dwellings", pd.Series(np.nan, index=sites.index)).to_numpy(),
        }
    )
    for band in match.bands_m:
        head[f"n_suppliers_{band}m"] = sites[f"n_suppliers_{band}m"].array
    pairs = match.pairs.drop(columns=["site_id", "site_name"])
    out = head.merge(pairs, on="site_row", how="left").sort_values(
        ["site_row", "rank"], kind="stable"
    )
    out["distance_m"] = out["distance_m"].round(0)
    out["rank"] = out["rank"].astype("Int64")
    out["band_m"] = out["band_m"].astype("Int64")
    out["approximate_position"] = out["approximate_position"].astype("boolean")
    out = out.drop(columns=["site_row", "org_row"]).reset_index(drop=True)
    return neutralise_frame(out)


def summary_records(match: SupplierMatch) -> dict[str, Any]:
    """Return what a report says of the match: JSON-ready counts, summaries, gaps, limits."""

    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]

    def largest(band: int) -> list[dict[str, Any]]:
        top = match.gaps(band).head(10)
        return [
            {
                "site_id": int(row["site_id"]) if "site_id" in top else None,
                "site_name": None if pd.isna(row.get("site_name")) else str(row.get("site_name")),
                "authority": None if pd.isna(row.get("authority")) else str(row.get("authority")),
                "dwellings": None if pd.isna(row.get("dwellings")) else float(row["dwellings"]),
                "nearest_supplier_m": None
                if pd.isna(row["nearest_supplier_m"])
                else round(float(row["nearest_supplier_m"])),
            }
            for _, row in top.iterrows()
        ]

    return {
        "bands_m": list(match.bands_m),
        "parameters": match.parameters,
        "site_status": {
            s: int((match.sites["site_status"] == s).sum())
            for s in match.sites["site_status"].cat.categories
        }
        if "site_status" in match.sites
        else {},
        "supply_status": {
            s: int((match.sites["supply_status"] == s).sum()) for s in SUPPLY_STATUSES
        },
        "supplier_status": {
            s: int((match.organisations["supplier_status"] == s).sum()) for s in SUPPLIER_STATUSES
        },
        "approximate_positions_in_shortlists": int(match.pairs["approximate_position"].sum()),
        "by_programme": records(match.by_programme),
        "by_authority": records(match.by_authority),
        "largest_gaps": {f"{band}m": largest(band) for band in match.bands_m},
        "limitations": [LIMITATION],
    }

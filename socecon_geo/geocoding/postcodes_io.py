"""The postcodes.io geocoder: bulk lookups through the shared HTTP layer."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd

from socecon_geo import _http
from socecon_geo._errors import (
    DownloadError,
    InputError,
    SocEconGeoWarning,
)
from socecon_geo.geocoding._base import _NO_POINT_QUALITY, RESULT_COLUMNS, _northern_ireland_to_bng
from socecon_geo.postcodes import normalise_postcode
from socecon_geo.provenance import Provenance

__all__ = [
    "PostcodesIOGeocoder",
]


class PostcodesIOGeocoder:
    """Geocode postcodes with the postcodes.io bulk lookup web service.

    Postcodes are sent at most 100 at a time (``POST /postcodes``) through the
    library's HTTP layer: timeouts, retries with exponential back-off, a user agent and
    an on-disk cache of answers (see :mod:`socecon_geo._http`).

    Parameters
    ----------
    base_url : str, default "https://api.postcodes.io"
        The service, e.g. a self-hosted postcodes.io.
    batch_size : int, default 100
        Postcodes per request (1 to 100, the service's limit).
    timeout : float, optional
        Seconds per attempt; defaults to ``socecon_geo._http.settings.timeout``.
    retries : int, optional
        Further attempts after a failure; defaults to ``settings.retries``.
    cache : bool, optional
        Reuse answers from the disk cache; defaults to ``settings.use_cache``.
    on_error : {"raise", "flag"}, default "raise"
        What to do when a batch still fails after its retries. ``"raise"``: raise
        :class:`~socecon_geo.DownloadError` (nothing is returned, so no row is lost
        silently). ``"flag"``: mark that batch's postcodes ``not_found`` with
        ``geocode_method`` ``"postcodes.io:request-failed"``, warn with
        :class:`~socecon_geo.SocEconGeoWarning`, and carry on.

    Notes
    -----
    Mapping of the answer: ``eastings``/``northings`` (EPSG:27700; for Northern Ireland
    postcodes, whose grid references are on the Irish Grid, the point comes from
    ``longitude``/``latitude`` instead); ``quality`` 1-9 times 10 as
    ``position_quality`` (the scales correspond: postcodes.io quality 1-9 is Code-Point
    Open quality 10-90); ``codes.admin_district`` as ``lad_code``, ``codes.admin_ward``
    as ``ward_code``; ``codes.lsoa11`` and ``codes.lsoa21`` as ``lsoa11_code`` and
    ``lsoa21_code`` where the service gives them, else ``codes.lsoa`` for the LSOA
    vintage(s) whose name matches the answer's ``lsoa`` name (LSOA 2011 for services
    that give no vintage). The bulk lookup knows only live postcodes: unknown and
    terminated postcodes are both ``not_found``. An answer that is not a postcodes.io
    bulk answer is never reused from the disk cache.
    """

    name: str = "postcodes.io"
    provenance: Provenance = Provenance(
        name="postcodes_io",
        title="postcodes.io: ONS Postcode Directory and Code-Point Open as a web service",
        publisher="Office for National Statistics; Ordnance Survey (via postcodes.io)",
        vintage="as served at lookup time",
        licence="Open Government Licence v3.0",
        attribution="Contains OS data © Crown copyright and database right; contains Royal "
        "Mail data © Royal Mail copyright and database right; Source: Office for National "
        "Statistics licensed under the Open Government Licence v.3.0",
        url="https://postcodes.io",
    )
    """What the answers are credited to (added to the geocoded frame's provenance)."""

    def __init__(
        self,
        base_url: str = "https://api.postcodes.io",
        *,
        batch_size: int = 100,
        timeout: float | None = None,
        retries: int | None = None,
        cache: bool | None = None,
        on_error: Literal["raise", "flag"] = "raise",
    ) -> None:
        if not 1 <= int(batch_size) <= 100:
            msg = f"batch_size must be between 1 and 100 (the service's limit), got {batch_size}."
            raise InputError(msg)
        if on_error not in ("raise", "flag"):
            msg = f"on_error must be 'raise' or 'flag', got {on_error!r}."
            raise InputError(msg)
        self.base_url = base_url.rstrip("/")
        self.batch_size = int(batch_size)
        self.timeout = timeout
        self.retries = retries
        self.cache = cache
        self.on_error = on_error

    def __repr__(self) -> str:
        return f"PostcodesIOGeocoder(base_url={self.base_url!r})"

    def _batches(self, keys: list[str]) -> Iterator[list[str]]:
        for start in range(0, len(keys), self.batch_size):
            yield keys[start : start + self.batch_size]

    def lookup(self, postcodes: pd.Index) -> pd.DataFrame:
        """Look up distinct canonical postcodes; see :class:`Geocoder`.

        Parameters
        ----------
        postcodes : pandas.Index
            Distinct canonical postcodes.

        Returns
        -------
        pandas.DataFrame
            Indexed by postcode, with the :data:`RESULT_COLUMNS`.

        Raises
        ------
        DownloadError
            When a batch fails after its retries and ``on_error="raise"``.
        """
        keys = [str(key) for key in postcodes]
        records: dict[str, dict[str, Any]] = {}
        failures: list[str] = []
        url = f"{self.base_url}/postcodes"
        for batch in self._batches(keys):
            payload = {"postcodes": batch}
            try:
                answer = _http.request_json(
                    "POST",
                    url,
                    payload=payload,
                    cache=self.cache,
                    timeout=self.timeout,
                    retries=self.retries,
                    validate=lambda body: _bulk_results(body, url),
                )
                results = _bulk_results(answer, url)
            except DownloadError as exc:
                if self.on_error == "raise":
                    done = len(records)
                    msg = (
                        f"{exc} ({done} of {len(keys)} postcodes had been looked up). Try "
                        "again later, use the offline geocoder, or pass "
                        "PostcodesIOGeocoder(on_error='flag') to flag the failed postcodes "
                        "and continue."
                    )
                    raise DownloadError(msg) from None
                failures.append(str(exc))
                for key in batch:
                    records[key] = {
                        "geocode_status": "not_found",
                        "geocode_method": f"{self.name}:request-failed",
                    }
                continue
            for position, item in enumerate(results):
                item_key = _answer_key(item, batch, position)
                if item_key is None:
                    continue
                records[item_key] = _postcodes_io_record(item.get("result"), self.name, item_key)
        if failures:
            failed = sum(
                1 for r in records.values() if r["geocode_method"].endswith("request-failed")
            )
            msg = (
                f"postcodes.io: {len(failures)} request(s) failed after retries; their "
                f"{failed} postcode(s) are flagged not_found with geocode_method "
                f"'{self.name}:request-failed'. First error: {failures[0]}"
            )
            warnings.warn(msg, SocEconGeoWarning, stacklevel=2)
        return _records_frame(keys, records, self.name)


def _bulk_results(answer: Any, url: str) -> list[dict[str, Any]]:
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
        msg = (
            f"POST {url} answered without a 'result' list ({str(answer)[:200]!r}); "
            "is this a postcodes.io server?"
        )
        raise DownloadError(msg)
    if answer.get("status", 200) != 200:
        msg = f"POST {url} answered status {answer.get('status')}: {answer.get('error', '')}"
        raise DownloadError(msg)
    return [item if isinstance(item, dict) else {} for item in answer["result"]]


def _answer_key(item: dict[str, Any], batch: list[str], position: int) -> str | None:
    query = item.get("query")
    key = normalise_postcode(query) if isinstance(query, str) else None
    if key is not None:
        return key
    return batch[position] if position < len(batch) else None


def _postcodes_io_record(result: Any, method: str, key: str = "") -> dict[str, Any]:
    if not isinstance(result, dict):
        return {"geocode_status": "not_found", "geocode_method": method}
    raw_codes = result.get("codes")
    codes: dict[str, Any] = raw_codes if isinstance(raw_codes, dict) else {}

    def number(value: Any) -> float:
        try:
            out = float(value)
        except (TypeError, ValueError):
            return math.nan
        return out if math.isfinite(out) else math.nan

    quality = number(result.get("quality"))
    easting, northing = number(result.get("eastings")), number(result.get("northings"))
    longitude, latitude = number(result.get("longitude")), number(result.get("latitude"))
    if str(result.get("postcode") or key).upper().startswith("BT"):
        # Northern Ireland: eastings/northings are on the Irish Grid
        converted = _northern_ireland_to_bng(
            np.array([easting]), np.array([northing]), np.array([longitude]), np.array([latitude])
        )
        easting, northing = float(converted[0][0]), float(converted[1][0])
    if math.isnan(easting) or math.isnan(northing):
        easting = northing = math.nan
        quality = float(_NO_POINT_QUALITY)
    lsoa11, lsoa21 = _postcodes_io_lsoas(result, codes)
    return {
        "geocode_status": "matched",
        "geocode_method": method,
        "easting": easting,
        "northing": northing,
        "position_quality": quality * 10 if quality < 10 else quality,
        "lad_code": codes.get("admin_district"),
        "ward_code": codes.get("admin_ward"),
        "lsoa11_code": lsoa11,
        "lsoa21_code": lsoa21,
    }


def _postcodes_io_lsoas(result: dict[str, Any], codes: dict[str, Any]) -> tuple[Any, Any]:
    """LSOA 2011 and 2021 codes of a postcodes.io answer.

    ``codes.lsoa11`` and ``codes.lsoa21`` where the service gives them. ``codes.lsoa``
    fills in for a vintage whose name (``lsoa11``, ``lsoa21``) equals the answer's
    ``lsoa`` name (both, for an LSOA unchanged in 2021, which kept its code); answers
    without those names come from services whose ``lsoa`` is LSOA 2011.
    """
    lsoa11, lsoa21 = codes.get("lsoa11"), codes.get("lsoa21")
    code = codes.get("lsoa")
    if code is None:
        return lsoa11, lsoa21
    if "lsoa11" not in result and "lsoa21" not in result:
        return (code if "lsoa11" not in codes else lsoa11), lsoa21
    name = result.get("lsoa")
    if name is not None:
        if "lsoa11" not in codes and result.get("lsoa11") == name:
            lsoa11 = code
        if "lsoa21" not in codes and result.get("lsoa21") == name:
            lsoa21 = code
    return lsoa11, lsoa21


def _records_frame(keys: list[str], records: dict[str, dict[str, Any]], name: str) -> pd.DataFrame:
    rows = [
        records.get(key, {"geocode_status": "not_found", "geocode_method": name}) for key in keys
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(RESULT_COLUMNS))
    frame.index = pd.Index(keys, dtype="str", name="postcode")
    return frame

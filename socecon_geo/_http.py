"""One small HTTP layer for every download and web-service call.

Timeouts, retries with exponential back-off, a user agent and an on-disk cache live
here and nowhere else, so geocoders and dataset downloaders behave alike. Tests point
the functions at a local server; nothing in the test suite touches the internet.

The cache directory is, in order of precedence, the ``SOCECON_GEO_CACHE_DIR``
environment variable, ``$XDG_CACHE_HOME/socecon_geo``, or ``~/.cache/socecon_geo``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from socecon_geo._errors import DownloadError, NetworkUnreachableError

__all__ = [
    "HttpSettings",
    "cache_dir",
    "download_file",
    "request_json",
    "settings",
]

_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def _user_agent() -> str:
    from socecon_geo import __version__

    return f"socecon_geo/{__version__} (+https://pypi.org/project/socecon_geo/)"


@dataclass
class HttpSettings:
    """Network behaviour shared by every request.

    Attributes
    ----------
    timeout : float
        Seconds to wait for a connection or a read before giving up on one attempt.
    retries : int
        Further attempts after the first, for transient failures: read timeouts and
        connections broken after connecting, and the HTTP statuses 408, 425, 429, 500,
        502, 503 and 504. An unreachable network or host (no name resolution, connection
        refused, no route, no connection within ``timeout``) fails at once.
    backoff : float
        Seconds before the first retry; doubled for each further one.
    use_cache : bool
        Whether JSON responses are cached on disk and reused.
    """

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    use_cache: bool = True


settings = HttpSettings()
"""The module-wide :class:`HttpSettings`; change its attributes to tune every request."""


def cache_dir() -> Path:
    """Return the cache directory, creating it if needed.

    Returns
    -------
    pathlib.Path
        ``$SOCECON_GEO_CACHE_DIR``, else ``$XDG_CACHE_HOME/socecon_geo``, else
        ``~/.cache/socecon_geo``.
    """
    explicit = os.environ.get("SOCECON_GEO_CACHE_DIR")
    if explicit:
        path = Path(explicit).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "socecon_geo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cache_key(method: str, url: str, params: Any, payload: Any) -> str:
    blob = json.dumps([method, url, params, payload], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _send(
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    payload: Any = None,
    stream: bool = False,
    timeout: float | None = None,
    retries: int | None = None,
) -> requests.Response:
    timeout = settings.timeout if timeout is None else timeout
    retries = settings.retries if retries is None else retries
    headers = {"User-Agent": _user_agent(), "Accept": "*/*"}
    last_problem = "no attempt was made"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(settings.backoff * 2 ** (attempt - 1))
        try:
            response = requests.request(
                method,
                url,
                params=params,
                json=payload,
                headers=headers,
                timeout=timeout,
                stream=stream,
            )
        except requests.RequestException as exc:
            if unreachable := _unreachable(exc, timeout):
                raise _offline_error(method, url, unreachable) from None
            if isinstance(exc, requests.Timeout):
                last_problem = f"no answer within {timeout:g} s"
                continue
            last_problem = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code in _RETRY_STATUS:
            last_problem = f"HTTP {response.status_code} {response.reason}"
            response.close()
            continue
        if response.status_code >= 400:
            msg = (
                f"{method} {url} failed with HTTP {response.status_code} "
                f"{response.reason}; this is not retried. Check the URL and parameters."
            )
            response.close()
            raise DownloadError(msg)
        return response
    msg = (
        f"{method} {url} failed after {retries + 1} attempt(s): {last_problem}. "
        "Check the network connection, or pass a local file instead of downloading."
    )
    raise DownloadError(msg)


def _unreachable(exc: requests.RequestException, timeout: float) -> str | None:
    """Say why the server cannot be reached at all, or None for a transient failure.

    No name resolution, a refused connection, no route to the host or no connection
    within the timeout mean the network (or the host) is unreachable: retrying in a
    second does not help. Read timeouts and broken connections after connecting do.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeout:g} s"
    if not isinstance(exc, requests.ConnectionError):
        return None
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:  # walk the causes: requests -> urllib3 MaxRetryError -> NewConnectionError
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, urllib3.exceptions.NameResolutionError):
            return "the host name cannot be resolved"
        if isinstance(item, urllib3.exceptions.NewConnectionError):
            return f"no connection could be made ({item.__cause__ or item})"
        if isinstance(item, socket.gaierror):
            return "the host name cannot be resolved"
        stack.extend(a for a in item.args if isinstance(a, BaseException))
        stack.extend(
            e for e in (item.__cause__, item.__context__, getattr(item, "reason", None)) if e
        )
    return None


def _offline_error(method: str, url: str, why: str) -> NetworkUnreachableError:
    msg = (
        f"{method} {url} failed at once: the network or the host is unreachable ({why}). "
        "This is not retried. To work offline, pass a local copy of the file (path=..., or "
        "the dataset's SOCECON_GEO_<NAME> environment variable), or use the bundled data "
        "(for example the bundled deprivation, boundaries and postcodes)."
    )
    return NetworkUnreachableError(msg)


def request_json(
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    payload: Any = None,
    cache: bool | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    validate: Callable[[Any], object] | None = None,
) -> Any:
    """Send a request and return its decoded JSON body, using the disk cache.

    Parameters
    ----------
    method : {"GET", "POST"}
        HTTP method.
    url : str
        Address of the service.
    params : mapping, optional
        Query-string parameters.
    payload : object, optional
        A JSON-serialisable request body (for POST).
    cache : bool, optional
        Reuse and store the response in the disk cache; defaults to
        ``settings.use_cache``.
    timeout, retries : optional
        Override :data:`settings` for this call.
    validate : callable, optional
        Called with the decoded body; raise :class:`DownloadError` to reject it. A
        rejected body is never cached, and a cached body it rejects is discarded and
        asked for again.

    Returns
    -------
    object
        The decoded JSON.

    Raises
    ------
    DownloadError
        When every attempt failed, the server refused the request, the body is not
        JSON, or ``validate`` rejected it.
    """
    use_cache = settings.use_cache if cache is None else cache
    key = _cache_key(method, url, dict(params or {}), payload)
    path = cache_dir() / "http" / f"{key}.json"
    if use_cache and path.exists():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if validate is not None:
                validate(cached)
        except (OSError, json.JSONDecodeError, DownloadError):
            path.unlink(missing_ok=True)
        else:
            return cached
    response = _send(method, url, params=params, payload=payload, timeout=timeout, retries=retries)
    try:
        data = response.json()
    except ValueError as exc:
        msg = (
            f"{method} {url} answered HTTP {response.status_code} but its body is not "
            f"JSON ({exc}); the service may be down or the URL wrong."
        )
        raise DownloadError(msg) from None
    if validate is not None:
        validate(data)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)
    return data


def download_file(
    url: str,
    destination: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    retries: int | None = None,
) -> Path:
    """Download ``url`` to ``destination`` atomically.

    The body is streamed to a temporary file beside ``destination`` and renamed into
    place only when complete, so an interrupted download never leaves a partial file
    that looks finished.

    Parameters
    ----------
    url : str
        What to download.
    destination : path-like
        Where to write it; parent folders are created.
    timeout, retries : optional
        Override :data:`settings` for this call.

    Returns
    -------
    pathlib.Path
        ``destination``.

    Raises
    ------
    DownloadError
        When every attempt failed or the connection broke mid-download.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".part")
    response = _send("GET", url, stream=True, timeout=timeout, retries=retries)
    try:
        with tmp.open("wb") as handle:
            for chunk in response.iter_content(chunk_size=1 << 20):
                handle.write(chunk)
    except requests.RequestException as exc:
        tmp.unlink(missing_ok=True)
        msg = f"GET {url} broke off mid-download ({exc}); try again."
        raise DownloadError(msg) from None
    finally:
        response.close()
    tmp.replace(destination)
    return destination

"""One small HTTP layer for every download and web-service call.

Timeouts, retries with exponential back-off, a user agent and an on-disk cache live
here and nowhere else, so geocoders and dataset downloaders behave alike. Tests point
the functions at a local server; nothing in the test suite touches the internet.

The cache directory is, in order of precedence, the ``SOCECON_GEO_CACHE_DIR``
environment variable, ``$XDG_CACHE_HOME/socecon_geo``, or ``~/.cache/socecon_geo``.

Everything written to the cache is written whole: to a temporary file of its own (named
by the process, so two processes sharing the cache never write to one file) and renamed
into place. A cached JSON response carries the request it answers and the SHA-256 of its
body, and a cached download (:func:`store_cached_file`) a ``.sha256`` file beside it; a
cached file that fails its check (garbage, cut short, another file put in its place) is
never used: :func:`cached_file_problem` says why, and the caller fetches it again with
one :class:`~socecon_geo.SocEconGeoWarning`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from socecon_geo._errors import DownloadError, NetworkUnreachableError, SocEconGeoWarning

__all__ = [
    "NO_CHECKSUM",
    "HttpSettings",
    "adopt_cached_file",
    "cache_dir",
    "cached_file_problem",
    "discard_cached_file",
    "download_file",
    "remove_stale_partials",
    "request_json",
    "settings",
    "store_cached_file",
]

_CACHE_FORMAT = 1  # the envelope of a cached JSON response
_PARTIAL_PID = re.compile(r"\.pid(\d+)\.")

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
        cached, problem = _read_cached_json(path, key)
        if problem is None and validate is not None:
            try:
                validate(cached)
            except DownloadError:
                problem = ""  # valid but stale for this caller: asked for again, quietly
        if problem is None:
            return cached
        if problem:
            _warn_unusable(path, problem, "asking for it again")
        path.unlink(missing_ok=True)
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
        body = json.dumps(data, sort_keys=True)
        envelope = {
            "socecon_geo_cache": _CACHE_FORMAT,
            "request": key,
            "sha256": hashlib.sha256(body.encode()).hexdigest(),
            "body": data,
        }
        _write_whole(path, json.dumps(envelope).encode())
    return data


def _read_cached_json(path: Path, key: str) -> tuple[Any, str | None]:
    """Return a cached body, or why the file cannot be used."""
    try:
        envelope = json.loads(path.read_bytes())
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or exc})"
    except ValueError:
        return None, "it is not JSON (damaged or cut short)"
    if not isinstance(envelope, dict) or envelope.get("socecon_geo_cache") != _CACHE_FORMAT:
        return None, "it is not a socecon_geo cached response"
    if envelope.get("request") != key:
        return None, "it answers another request"
    body = envelope.get("body")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    if envelope.get("sha256") != digest:
        return None, "its checksum does not match its content"
    return body, None


def _warn_unusable(path: Path, problem: str, action: str) -> None:
    msg = f"The cached file {path} is not usable: {problem}; {action}."
    warnings.warn(msg, SocEconGeoWarning, stacklevel=4)


def _temporary(target: Path) -> Path:
    """Make a new empty file beside ``target``, private to this process (its id in the name)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.pid{os.getpid()}.", suffix=".part", dir=target.parent
    )
    os.close(handle)
    return Path(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no permission to ask: assume alive
        return True
    return True


def remove_stale_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that processes killed while writing left in a folder.

    A temporary file of this layer is hidden and named ``.<target>.pid<pid>.<...>.part``;
    one whose process no longer runs can never be completed, so it is removed.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed = []
    for path in Path(folder).glob(".*.part"):
        found = _PARTIAL_PID.search(path.name)
        pid = int(found.group(1)) if found else None
        if pid is not None and pid != os.getpid() and not _alive(pid):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _write_whole(target: Path, data: bytes) -> None:
    tmp = _temporary(target)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def store_cached_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Move a complete file into the cache with its checksum beside it.

    The checksum file ``<target>.sha256`` is written first and the file renamed over
    ``target`` second, each whole, so a process killed between the two leaves a file
    whose checksum does not match: it is fetched again, never used half-checked.

    Parameters
    ----------
    source : path
        The complete file (in the cache's folder, so the rename is atomic).
    target : path
        Where it is cached.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    source, target = Path(source), Path(target)
    _write_whole(_sidecar(target), f"{_sha256(source)}  {target.name}\n".encode())
    os.replace(source, target)
    return target


def cached_file_problem(path: str | os.PathLike[str]) -> str | None:
    """Say why a cached file cannot be used, or None when its checksum matches.

    Parameters
    ----------
    path : path
        A file stored with :func:`store_cached_file`.

    Returns
    -------
    str or None
        ``"it has no checksum file"``, ``"its checksum does not match its content
        (damaged, cut short or replaced)"``, or None.
    """
    path = Path(path)
    try:
        expected = _sidecar(path).read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return NO_CHECKSUM
    try:
        actual = _sha256(path)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if actual != expected:
        return "its checksum does not match its content (damaged, cut short or replaced)"
    return None


NO_CHECKSUM = "it has no checksum file"
"""What :func:`cached_file_problem` says of a file cached before checksums were kept."""


def adopt_cached_file(path: str | os.PathLike[str]) -> None:
    """Write the checksum of a file cached before checksums were kept.

    For a caller that has just checked the file's content in full (the IoD File 7 as a
    download is checked; a boundary file read back), so that an older cache is kept,
    not fetched again (which would fail offline).
    """
    path = Path(path)
    _write_whole(_sidecar(path), f"{_sha256(path)}  {path.name}\n".encode())


def discard_cached_file(path: str | os.PathLike[str]) -> None:
    """Remove a cached file and its checksum file."""
    path = Path(path)
    path.unlink(missing_ok=True)
    _sidecar(path).unlink(missing_ok=True)


def download_file(
    url: str,
    destination: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    retries: int | None = None,
) -> Path:
    """Download ``url`` to ``destination`` atomically.

    The body is streamed to a temporary file of this process beside ``destination`` and
    renamed into place only when complete (all of ``Content-Length``, when the server
    sends one), so an interrupted download (a broken connection, an error, the process
    killed) never leaves a partial file that looks finished.

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
    response = _send("GET", url, stream=True, timeout=timeout, retries=retries)
    if destination.parent.is_dir():
        remove_stale_partials(destination.parent)
    tmp = _temporary(destination)
    try:
        expected = response.headers.get("Content-Length")
        received = 0
        with tmp.open("wb") as handle:
            for chunk in response.iter_content(chunk_size=1 << 20):
                handle.write(chunk)
                received += len(chunk)
        if expected is not None and expected.isdigit() and received != int(expected):
            msg = (
                f"GET {url} broke off mid-download ({received:,} of {int(expected):,} bytes); "
                "try again."
            )
            raise DownloadError(msg)
        os.replace(tmp, destination)
    except requests.RequestException as exc:
        msg = f"GET {url} broke off mid-download ({exc}); try again."
        raise DownloadError(msg) from None
    finally:
        response.close()
        tmp.unlink(missing_ok=True)
    return destination

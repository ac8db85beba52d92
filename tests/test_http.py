"""The HTTP layer, against a local server (never the internet)."""

from __future__ import annotations

import functools
import json
import socket
import time

import pytest
import requests

from socecon_geo import DownloadError, _http
from socecon_geo._errors import NetworkUnreachableError


@pytest.fixture
def server(monkeypatch, local_server):
    """A scripted local server: each request takes the next answer of ``server.script``."""
    monkeypatch.setattr(_http.settings, "backoff", 0.01)
    monkeypatch.setattr(_http.settings, "retries", 2)
    monkeypatch.setattr(_http.settings, "timeout", 5.0)
    script: list[tuple] = []
    srv = local_server(lambda request: script.pop(0) if script else (404, b""))
    srv.script = script
    return srv


def ok(data) -> tuple[int, bytes]:
    return (200, json.dumps(data).encode())


def test_json_is_fetched_with_a_user_agent_and_cached(server):
    server.script[:] = [ok({"a": 1})]
    assert _http.request_json("GET", server.url + "/x", params={"q": "1"}) == {"a": 1}
    assert server.requests[0].headers["User-Agent"].startswith("socecon_geo/")
    assert (server.requests[0].path, server.requests[0].query) == ("/x", {"q": "1"})
    # second call: from the disk cache, no request
    assert _http.request_json("GET", server.url + "/x", params={"q": "1"}) == {"a": 1}
    assert len(server.requests) == 1
    # other parameters: another request
    server.script[:] = [ok({"a": 2})]
    assert _http.request_json("GET", server.url + "/x", params={"q": "2"}) == {"a": 2}
    assert len(server.requests) == 2


def test_server_errors_are_retried(server):
    server.script[:] = [(500, b"oops", 0), (503, b"busy", 0), ok([1, 2])]
    assert _http.request_json("POST", server.url, payload={"p": 1}, cache=False) == [1, 2]
    assert len(server.requests) == 3
    assert server.requests[0].json() == {"p": 1}


def test_persistent_errors_raise_after_the_retries(server):
    server.script[:] = [(500, b"", 0)] * 3
    with pytest.raises(DownloadError, match=r"after 3 attempt\(s\): HTTP 500"):
        _http.request_json("GET", server.url, cache=False)
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(server):
    server.script[:] = [(404, b"", 0)]
    with pytest.raises(DownloadError, match=r"HTTP 404.*not retried"):
        _http.request_json("GET", server.url + "/missing", cache=False)
    assert len(server.requests) == 1


def test_timeouts_are_retried_then_reported(server):
    server.script[:] = [(200, b"{}", 1.0)] * 2
    with pytest.raises(DownloadError, match=r"no answer within 0.2 s"):
        _http.request_json("GET", server.url, cache=False, timeout=0.2, retries=1)


def test_non_json_body_is_an_error_and_not_cached(server):
    server.script[:] = [(200, b"<html>maintenance</html>", 0), ok({"fine": True})]
    with pytest.raises(DownloadError, match="not JSON"):
        _http.request_json("GET", server.url)
    assert _http.request_json("GET", server.url) == {"fine": True}


def test_rejected_bodies_are_never_cached(server):
    def needs_result(body):
        if "result" not in body:
            raise DownloadError("no result")

    server.script[:] = [ok({"error": "x"}), ok({"result": 1})]
    with pytest.raises(DownloadError, match="no result"):
        _http.request_json("GET", server.url, validate=needs_result)
    assert _http.request_json("GET", server.url, validate=needs_result) == {"result": 1}
    # a cached body that a stricter validator rejects is asked for again
    server.script[:] = [ok({"result": 2})]

    def needs_two(body):
        if body.get("result") != 2:
            raise DownloadError("stale")

    assert _http.request_json("GET", server.url, validate=needs_two) == {"result": 2}
    assert len(server.requests) == 3


def test_download_file_is_atomic(server, tmp_path):
    target = tmp_path / "sub" / "file.csv"
    server.script[:] = [(200, b"a,b\n1,2\n", 0)]
    assert _http.download_file(server.url + "/f.csv", target) == target
    assert target.read_bytes() == b"a,b\n1,2\n"
    server.script[:] = [(500, b"", 0)] * 3
    with pytest.raises(DownloadError):
        _http.download_file(server.url + "/f.csv", tmp_path / "other.csv")
    assert not (tmp_path / "other.csv").exists()
    assert not list(tmp_path.glob("*.part"))


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("http://127.0.0.1:{port}/nothing", "no connection could be made"),
        ("http://no-such-host.invalid/nothing", "host name cannot be resolved"),
    ],
)
@pytest.mark.parametrize("call", ["json", "download"])
def test_an_unreachable_network_fails_at_once(monkeypatch, tmp_path, where, why, call):
    # the default settings: 3 retries with a 1 s back-off would take 7 s
    monkeypatch.setattr(_http.settings, "retries", 3)
    monkeypatch.setattr(_http.settings, "backoff", 1.0)
    url = where.format(port=_closed_port())
    if call == "json":
        fetch = functools.partial(_http.request_json, "GET", url, cache=False)
    else:
        fetch = functools.partial(_http.download_file, url, tmp_path / "file.csv")
    started = time.perf_counter()
    with pytest.raises(NetworkUnreachableError) as caught:
        fetch()
    assert time.perf_counter() - started < 0.5
    message = str(caught.value)
    assert "unreachable" in message
    assert why in message
    assert "not retried" in message
    assert "path=" in message
    assert "environment variable" in message
    assert "bundled data" in message
    assert isinstance(caught.value, DownloadError)
    assert not list(tmp_path.iterdir())


def test_a_server_error_is_still_retried_after_connecting(server):
    server.script[:] = [(503, b"busy"), (503, b"busy"), ok({"done": True})]
    assert _http.request_json("GET", server.url + "/busy", cache=False) == {"done": True}
    assert len(server.requests) == 3


def test_a_read_timeout_after_connecting_is_retried(server):
    server.script[:] = [(200, b"{}", 0.6), ok({"late": False})]
    got = _http.request_json("GET", server.url + "/slow", cache=False, timeout=0.3)
    assert got == {"late": False}
    assert len(server.requests) == 2


def test_a_connect_timeout_counts_as_unreachable(monkeypatch):
    def no_connection(*args, **kwargs):
        raise requests.ConnectTimeout("connect timed out")

    monkeypatch.setattr(_http.requests, "request", no_connection)
    with pytest.raises(NetworkUnreachableError, match=r"no connection within 2 s"):
        _http.request_json("GET", "http://192.0.2.1/x", cache=False, timeout=2, retries=3)


def test_a_connection_broken_after_connecting_is_retried(monkeypatch):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        raise requests.ConnectionError("Connection aborted: RemoteDisconnected")

    monkeypatch.setattr(_http.settings, "backoff", 0.01)
    monkeypatch.setattr(_http.requests, "request", flaky)
    with pytest.raises(DownloadError, match="failed after 3 attempt") as caught:
        _http.request_json("GET", "http://127.0.0.1/x", cache=False, retries=2)
    assert not isinstance(caught.value, NetworkUnreachableError)
    assert len(calls) == 3


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(tmp_path / "c"))
    assert _http.cache_dir() == tmp_path / "c"
    assert (tmp_path / "c").is_dir()
    monkeypatch.delenv("SOCECON_GEO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _http.cache_dir() == tmp_path / "xdg" / "socecon_geo"

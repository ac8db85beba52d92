"""Shared fixtures.

Real data lives outside the project, in ``../shared/data`` beside the checkout (or where
``SOCECON_GEO_SHARED_DATA`` points). Tests that need it use the ``shared_data`` fixture:
they are skipped when it is absent, except under CI (``CI=true``), where its absence is
an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# No per-example deadline: timing on a shared 2-core machine is not what these tests
# check (speed is measured in benchmarks/), and a deadline there only makes them flaky.
settings.register_profile("socecon_geo", deadline=None, print_blob=True)
settings.load_profile("socecon_geo")

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"


def _shared_data_dir() -> Path:
    explicit = os.environ.get("SOCECON_GEO_SHARED_DATA")
    return Path(explicit) if explicit else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real data folder; skip (or fail under CI) when it is absent."""
    path = _shared_data_dir()
    if not (path / "README.md").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the real data at {path}, but it is not there")
        pytest.skip(f"real data not found at {path}")
    return path


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel and install it in a fresh venv; return that venv's python.

    The venv sees the current environment's dependencies (through a ``.pth`` file) but
    not the checkout, so code run with it imports the installed wheel. Building uses the
    installed hatchling (``--no-isolation``): no network is needed.
    """
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    subprocess.run([*build, str(REPO)], check=True, capture_output=True)
    wheel = next(dist.glob("socecon_geo-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    return python


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Path of the small fixtures committed in ``tests/data``."""
    return TEST_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Give every test an empty download cache, so no test sees another's files."""
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


# ------------------------------------------------------------------ a local HTTP server


@dataclass
class Request:
    """One request the local server received."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple  # (status, body) or (status, body, delay_seconds); dict/list bodies -> JSON


@dataclass
class LocalServer:
    """A server on 127.0.0.1 answering every request with ``respond(request)``.

    ``respond`` returns ``(status, body)`` or ``(status, body, delay)``; a ``dict`` or
    ``list`` body is sent as JSON, ``str`` as UTF-8. Every request is kept in
    ``requests``. Tests never reach the internet: network code is pointed at ``url``.
    """

    respond: Callable[[Request], Answer]
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parsed = urllib.parse.urlparse(self.path)
                request = Request(
                    self.command,
                    parsed.path,
                    dict(urllib.parse.parse_qsl(parsed.query)),
                    self.rfile.read(length) if length else b"",
                    dict(self.headers),
                )
                server.requests.append(request)
                status, body, *delay = server.respond(request)
                if delay:
                    time.sleep(delay[0])
                if isinstance(body, dict | list):
                    body = json.dumps(body)
                data = body.encode() if isinstance(body, str) else bytes(body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            do_GET = do_POST = _answer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def local_server() -> Iterator[Callable[[Callable[[Request], Answer]], LocalServer]]:
    """Start local servers: ``server = local_server(respond)``; all stop after the test."""
    started: list[LocalServer] = []

    def start(respond: Callable[[Request], Answer]) -> LocalServer:
        server = LocalServer(respond)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()

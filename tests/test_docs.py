"""The README and the docs are executed: every example runs and prints what its page shows.

Each page's ```python blocks run in order in one namespace, in a scratch folder holding
links to the real data files (so examples name them plainly, as a user would). Where a
```text block follows a code block, the printed output must match it. Blocks marked
``<!-- network -->`` run against local stand-ins for the web services. ```console blocks
(``$ `` lines) of the command-line pages run in a shell the same way; commands that
rebuild the bundle, install packages or time benchmarks are not run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = {p.name: p for p in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN = ("pip install", "boundaries/build.py", "benchmarks/")

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def _blocks(text: str) -> list[tuple[str, str, int, int]]:
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]


def _norm(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip().splitlines()]


@pytest.fixture
def workdir(tmp_path: Path, shared_data: Path) -> Path:
    for path in [*shared_data.glob("*/*"), *shared_data.glob("*/*/*")]:
        if not (tmp_path / path.name).exists():
            (tmp_path / path.name).symlink_to(path)
    return tmp_path


_PIO_KNOWN = {
    "B1 1AY": {
        "postcode": "B1 1AY",
        "quality": 1,
        "eastings": 406523,
        "northings": 286448,
        "longitude": -1.9,
        "latitude": 52.48,
        "codes": {"admin_district": "E08000025", "admin_ward": "E05011151", "lsoa": "E01033625"},
    }
}


def _ward_query(wards: list, query: dict[str, str]) -> dict:
    """An ArcGIS REST query on the Dec 2022 wards, renamed to the 2024 fields."""
    if query.get("f") == "json":
        return {"fields": [{"name": n} for n in ("FID", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM")]}
    wanted = set(re.findall(r"'([^']*)'", query.get("where", "")))
    features = [
        f
        for f in wards
        if not wanted or {f["properties"]["LAD24CD"], f["properties"]["LAD24NM"]} & wanted
    ]
    offset = int(query.get("resultOffset", 0))
    size = int(query.get("resultRecordCount", 2000))
    return {
        "type": "FeatureCollection",
        "features": features[offset : offset + size],
        "exceededTransferLimit": offset + size < len(features),
    }


@pytest.fixture
def services(shared_data: Path, monkeypatch: pytest.MonkeyPatch, local_server):
    """Local stand-ins for postcodes.io, the gov.uk download and the ONS feature service."""
    import geopandas as gpd

    import socecon_geo as sg
    from socecon_geo import datasets

    iod = datasets.DATASETS["iod2025"]
    iod_file = shared_data / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv"
    wards = gpd.read_file(shared_data / "boundaries" / "wards_dec2022_bsc_wmca.geojson")
    wards = wards.rename(
        columns={"WD22CD": "WD24CD", "WD22NM": "WD24NM", "LADCD": "LAD24CD", "LADNM": "LAD24NM"}
    )
    ward_features = json.loads(wards.to_json())["features"]

    def respond(request):
        if request.method == "POST":  # postcodes.io bulk lookup
            result = [
                {"query": q, "result": _PIO_KNOWN.get(q.upper())}
                for q in request.json()["postcodes"]
            ]
            return 200, {"status": 200, "result": result}
        if request.path.endswith("/FeatureServer/0/query"):
            return 200, _ward_query(ward_features, request.query)
        if request.path.endswith("/" + iod.filename):
            return 200, iod_file.read_bytes()
        return 404, b""

    server = local_server(respond)
    defaults = sg.PostcodesIOGeocoder.__init__.__defaults__
    monkeypatch.setattr(
        sg.PostcodesIOGeocoder.__init__, "__defaults__", (server.url, *defaults[1:])
    )
    monkeypatch.setitem(
        datasets.DATASETS,
        "iod2025",
        dataclasses.replace(iod, urls=(f"{server.url}/media/{iod.filename}",)),
    )
    for key, service in list(datasets.BOUNDARY_SERVICES.items()):
        monkeypatch.setitem(
            datasets.BOUNDARY_SERVICES,
            key,
            dataclasses.replace(service, base_url=server.url, page_size=50),
        )
    return server


PYTHON_PAGES = [n for n, p in PAGES.items() if "```python" in p.read_text(encoding="utf-8")]
CONSOLE_PAGES = [n for n, p in PAGES.items() if "```console" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_examples(page, workdir, services, monkeypatch):
    text = PAGES[page].read_text(encoding="utf-8")
    blocks = _blocks(text)
    monkeypatch.chdir(workdir)
    namespace: dict = {"__name__": "__docs__"}
    problems = []
    for i, (lang, code, _start, end) in enumerate(blocks):
        if lang != "python":
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{page}:block{i}", "exec"), namespace)
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        shows_output = (
            following is not None
            and following[0] == "text"
            and not text[end : following[2]].strip()
        )
        if shows_output and _norm(printed.getvalue()) != _norm(following[1]):
            problems.append(f"block {i}:\n{code}\nprinted:\n{printed.getvalue()}")
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_console_examples(page, workdir):
    text = PAGES[page].read_text(encoding="utf-8")
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], COLUMNS="100")
    if shutil.which("socecon-geo", path=env["PATH"]) is None:
        pytest.skip("the socecon-geo command is not installed")
    problems = []
    for lang, body, _, _ in _blocks(text):
        if lang != "console":
            continue
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
        for command, expected in commands:
            if any(part in command for part in NOT_RUN):
                continue
            result = subprocess.run(
                command,
                shell=True,
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
            if _norm(result.stdout) != _norm("\n".join(expected)):
                problems.append(f"$ {command}\n{result.stdout}")
    assert not problems, "\n\n".join(problems)

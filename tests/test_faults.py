"""Faults injected: processes killed mid-write, damaged caches, shared caches, cut downloads.

The kill tests run one worker process that imports the library and runs the analysis
once, then forks a child per trial that writes (``Analysis.save``, ``socecon-geo
geocode -o``) and is killed with SIGKILL after a random delay drawn from a seeded
generator over the time a whole write takes. After each kill, every file in the folder
must be a whole file: byte for byte the previous complete version or the new one, never
part of either; ``run.json`` present means every file is the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import socecon_geo as sg
from socecon_geo import _http
from socecon_geo._errors import DownloadError, SocEconGeoWarning

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

SAVE_KILLS = 14
CLI_KILLS = 10

_WORKER = textwrap.dedent(
    r"""
    import json, os, random, signal, sys, time
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
    import socecon_geo as sg
    from socecon_geo import cli

    job = json.loads(sys.argv[1])
    orgs = sg.sample_organisations(150, seed=4)
    def analysis(title):
        return sg.analyse(orgs, progress=False, hotspots={"permutations": 0}, title=title)

    def in_child(write):
        pid = os.fork()
        if pid == 0:
            try:
                with open(os.devnull, "w") as quiet:
                    os.dup2(quiet.fileno(), 1)
                    os.dup2(quiet.fileno(), 2)
                write()
            finally:
                os._exit(0)
        return pid

    def timed(write):
        started = time.perf_counter()
        _, status = os.waitpid(in_child(write), 0)
        assert status == 0, status
        return time.perf_counter() - started

    rng = random.Random(job["seed"])
    if job["kind"] == "save":
        old, new = analysis("old run"), analysis("new run")
        writes = {"old": lambda: old.save(job["old"]), "new": lambda: new.save(job["new"])}
        target = lambda trial: new.save(job["folder"].format(trial))
    else:
        def geocode(register, out):
            return lambda: cli.main(["geocode", register, "-o", out, "--quiet"])
        writes = {
            name: geocode(job[name + "_register"], job[name] + job["suffix"])
            for name in ("old", "new")
        }
        target = lambda trial: cli.main(
            ["geocode", job["new_register"], "-o",
             job["folder"].format(trial) + "/out" + job["suffix"], "--quiet"]
        )
    timed(writes["old"])  # the first write in a process is slower (fonts, templates)
    duration = timed(writes["new"])
    print(json.dumps({"ready": duration}), flush=True)
    for trial in range(job["trials"]):
        sys.stdin.readline()  # the test has copied the old version into the folder
        # the command's write comes last: its kills fall in the second half of the run
        delay = rng.uniform(0 if job["kind"] == "save" else duration / 2, duration * 1.05)
        pid = in_child(lambda: target(trial))
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print(json.dumps({"delay": delay, "duration": duration, "killed": killed}), flush=True)
    """
)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".")
    }


def _run_kills(job: dict, prepare, check) -> list[dict]:
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, json.dumps(job)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    outcomes = []
    try:
        ready = worker.stdout.readline()
        assert ready, "the worker stopped before its first write"
        for trial in range(job["trials"]):
            prepare(trial)
            worker.stdin.write("go\n")
            worker.stdin.flush()
            line = worker.stdout.readline()
            assert line, "the worker stopped"
            outcome = json.loads(line)
            check(trial, outcome)
            outcomes.append(outcome)
    finally:
        worker.stdin.close()
        worker.wait(timeout=60)
        worker.stdout.close()
    assert worker.returncode == 0
    return outcomes


def sg_read(path: Path) -> pd.DataFrame:
    import pyogrio

    return pyogrio.read_dataframe(path)


def _parse(path: Path) -> None:
    """Read a file back whole in its format (a half-written one fails here)."""
    suffix = path.suffix
    if suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif suffix == ".csv":
        pd.read_csv(path, encoding="utf-8-sig")
    elif suffix == ".gpkg":
        import pyogrio

        for layer, _ in pyogrio.list_layers(path):
            pyogrio.read_dataframe(path, layer=layer)
    elif suffix in {".html", ".md", ".svg"}:
        text = path.read_text(encoding="utf-8")
        assert text.rstrip().endswith(("</html>", "</svg>")) or suffix == ".md"
    elif suffix == ".png":
        assert path.read_bytes().endswith(b"IEND\xaeB`\x82")


def test_analysis_save_killed_at_random_leaves_no_partial_file(tmp_path: Path) -> None:
    job = {
        "kind": "save",
        "seed": 14,
        "trials": SAVE_KILLS,
        "old": str(tmp_path / "old"),
        "new": str(tmp_path / "new"),
        "folder": str(tmp_path / "trial{}"),
    }
    state: dict[str, dict[str, str]] = {}

    def prepare(trial: int) -> None:
        if not state:
            state["old"], state["new"] = _digests(tmp_path / "old"), _digests(tmp_path / "new")
            assert state["old"]["report.md"] != state["new"]["report.md"]
            assert "run.json" in state["new"]
        shutil.copytree(tmp_path / "old", tmp_path / f"trial{trial}")

    counts = {"old": 0, "new": 0, "complete": 0}

    def check(trial: int, outcome: dict) -> None:
        folder = tmp_path / f"trial{trial}"
        found = _digests(folder)
        assert set(found) <= set(state["new"]) | set(state["old"])
        for name, digest in found.items():
            which = [v for v in ("old", "new") if state[v].get(name) == digest]
            assert which, f"trial {trial}: {name} is neither the old nor the new file"
            _parse(folder / name)
            counts[which[-1]] += 1
        if "run.json" in found:  # present: the folder is complete, all of the new run
            assert found == state["new"]
            record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            assert {n: f["sha256"] for n, f in record["files"].items()} == {
                n: d for n, d in found.items() if n != "run.json"
            }
            counts["complete"] += 1
        shutil.rmtree(folder)

    outcomes = _run_kills(job, prepare, check)
    killed = sum(o["killed"] for o in outcomes)
    assert killed >= SAVE_KILLS - 3  # a child may finish before its delay is up
    print(f"save: {len(outcomes)} trials, {killed} killed mid-write, files found {counts}")


@pytest.mark.parametrize("suffix", [".csv", ".gpkg"])
def test_the_geocode_command_killed_at_random_leaves_no_partial_file(
    tmp_path: Path, suffix: str
) -> None:
    sg.sample_organisations(120, seed=1).to_csv(tmp_path / "old.csv", index=False)
    sg.sample_organisations(150, seed=2).to_csv(tmp_path / "new.csv", index=False)
    job = {
        "kind": "geocode",
        "seed": 7 if suffix == ".csv" else 8,
        "trials": CLI_KILLS // 2,
        "suffix": suffix,
        "old_register": str(tmp_path / "old.csv"),
        "new_register": str(tmp_path / "new.csv"),
        "old": str(tmp_path / "old_out"),
        "new": str(tmp_path / "new_out"),
        "folder": str(tmp_path / "trial{}"),
    }
    outputs: dict[str, str] = {}
    kinds = {"old": 0, "new": 0, "none": 0}

    def prepare(trial: int) -> None:
        if not outputs:
            for name in ("old", "new"):
                path = tmp_path / f"{name}_out{suffix}"
                outputs[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        if trial % 2:  # half the trials replace an earlier output, half write a new one
            shutil.copy(tmp_path / f"old_out{suffix}", folder / f"out{suffix}")

    def check(trial: int, outcome: dict) -> None:
        folder = tmp_path / f"trial{trial}"
        found = _digests(folder)
        assert set(found) <= {f"out{suffix}"}
        for digest in found.values():
            path = folder / f"out{suffix}"
            _parse(path)
            if suffix == ".gpkg":  # GDAL stamps the time of writing: compare the rows
                rows = len(sg_read(path))
                assert rows in (120, 150), f"trial {trial}: a partial output ({rows} rows)"
                kinds["old" if digest == outputs["old"] else "new"] += 1
                continue
            assert digest in outputs.values(), f"trial {trial}: a partial output"
            kinds["old" if digest == outputs["old"] else "new"] += 1
        kinds["none"] += not found
        if trial % 2:
            assert found, "the earlier output was lost"
        shutil.rmtree(folder)

    outcomes = _run_kills(job, prepare, check)
    killed = sum(o["killed"] for o in outcomes)
    assert killed >= CLI_KILLS // 2 - 2
    print(f"geocode -o {suffix}: {len(outcomes)} trials, {killed} killed, found {kinds}")


# ---------------------------------------------------------------------- damaged caches


@pytest.fixture
def json_server(local_server):
    answers = {"n": 0}

    def respond(request):
        answers["n"] += 1
        return (200, {"result": [1, 2, 3]})

    server = local_server(respond)
    server.answers = answers
    return server


def _cached_json(url: str) -> Path:
    return _http.cache_dir() / "http" / f"{_http._cache_key('GET', url, {}, None)}.json"


@pytest.mark.parametrize("how", ["garbage", "truncated", "foreign", "checksum", "other request"])
def test_a_damaged_cached_response_is_fetched_again_with_one_warning(json_server, how: str) -> None:
    url = json_server.url + "/x"
    assert _http.request_json("GET", url) == {"result": [1, 2, 3]}
    path = _cached_json(url)
    envelope = json.loads(path.read_bytes())
    if how == "garbage":
        path.write_bytes(os.urandom(200))
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:20])
    elif how == "foreign":  # valid JSON of another kind (an old cache, another tool)
        path.write_text(json.dumps({"result": [9]}))
    elif how == "checksum":  # a body changed after it was cached
        envelope["body"] = {"result": [9]}
        path.write_text(json.dumps(envelope))
    else:  # another request's answer under this name
        other = _cached_json(json_server.url + "/y")
        _http.request_json("GET", json_server.url + "/y")
        shutil.copy(other, path)
    with pytest.warns(SocEconGeoWarning, match="not usable") as caught:
        assert _http.request_json("GET", url) == {"result": [1, 2, 3]}
    assert len(caught) == 1
    assert str(path) in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _http.request_json("GET", url) == {"result": [1, 2, 3]}  # cached again


@pytest.mark.parametrize("how", ["garbage", "truncated", "foreign", "no checksum"])
def test_a_damaged_cached_download_fails_its_checksum(tmp_path: Path, how: str) -> None:
    source = tmp_path / "file.part"
    pd.DataFrame({"a": range(1000)}).to_parquet(source)
    cached = _http.store_cached_file(source, tmp_path / "file.parquet")
    assert _http.cached_file_problem(cached) is None
    if how == "garbage":
        cached.write_bytes(b"garbage")
    elif how == "truncated":
        cached.write_bytes(cached.read_bytes()[:-100])
    elif how == "foreign":  # a valid Parquet file of another kind
        pd.DataFrame({"b": ["x"]}).to_parquet(cached)
    else:
        cached.with_name(cached.name + ".sha256").unlink()
    problem = _http.cached_file_problem(cached)
    assert problem is not None
    assert "checksum" in problem
    if how == "no checksum":  # cached by an older version: the caller checks the content
        assert problem == _http.NO_CHECKSUM
        _http.adopt_cached_file(cached)
        assert _http.cached_file_problem(cached) is None
    assert "\n" not in problem


def test_a_damaged_national_table_of_another_kind_is_rebuilt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from socecon_geo import bundle
    from socecon_geo.geocoding import national as _national

    try:
        files = _national._package_files()
    except sg.MissingExtraError as exc:  # pragma: no cover - CI installs the extra
        pytest.skip(str(exc))
    monkeypatch.setattr(
        _national, "_build", lambda *a: _national._conform(bundle.postcode_frame(), a[2])
    )
    path = _national.cache_path(files.version)
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"postcode": ["B1 1AA"], "x": [1]}), path)  # valid, foreign
    with pytest.warns(SocEconGeoWarning, match="no socecon_geo metadata; rebuilding"):
        table = _national.national_table()
    assert len(table) == len(bundle.postcode_frame())


# ---------------------------------------------------------------------- shared caches

_SHARED = textwrap.dedent(
    r"""
    import sys, warnings
    warnings.simplefilter("error")
    from socecon_geo import _http, bundle
    from socecon_geo.geocoding import national as _national

    url, rounds = sys.argv[1], int(sys.argv[2])
    _national._build = lambda *a: _national._conform(bundle.postcode_frame(), a[2])
    for i in range(rounds):
        for key in range(8):  # the same new requests as the other process, at once
            assert _http.request_json("GET", f"{url}/k{i * 8 + key}") == {"key": i * 8 + key}
            assert _http.request_json("GET", f"{url}/k{key}") == {"key": key}
        if i % 10 == 0:
            assert len(_national.national_table(rebuild=True)) > 0
    print("ok")
    """
)


def test_two_processes_sharing_one_cache_do_not_corrupt_it(local_server, tmp_path: Path) -> None:
    server = local_server(lambda request: (200, {"key": int(request.path.rpartition("k")[2])}))
    env = {**os.environ, "SOCECON_GEO_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _SHARED, server.url, "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err
        assert out.strip() == "ok"
    cache = tmp_path / "cache"
    assert not list(cache.rglob(".*.part")), "temporary files left"
    for path in (cache / "http").iterdir():
        _, problem = _http._read_cached_json(path, path.stem)
        assert problem is None, (path, problem)
    assert len(list((cache / "http").iterdir())) == 30 * 8


# ---------------------------------------------------------------------- cut downloads


def _cut_server(declared: int, sent: bytes) -> tuple[str, threading.Thread]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:  # the headers and part of the body, then the connection drops
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % declared + sent
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/file.csv", thread


def test_a_download_cut_half_way_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http.settings, "backoff", 0.01)
    monkeypatch.setattr(_http.settings, "retries", 2)
    url, thread = _cut_server(100_000, b"a,b\n" * 1000)
    target = tmp_path / "cache" / "file.csv"
    with pytest.raises(DownloadError, match="broke off mid-download"):
        _http.download_file(url, target)
    thread.join(timeout=10)
    assert list(target.parent.iterdir()) == []


def test_temporaries_of_killed_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f".file.csv.pid{dead.stdout.strip()}.abc.part"
    stale.write_bytes(b"half")
    mine = tmp_path / f".file.csv.pid{os.getpid()}.abc.part"
    mine.write_bytes(b"in progress")
    assert _http.remove_stale_partials(tmp_path) == [stale]
    assert mine.exists()


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_damaged_built_postcode_table_is_built_again(tmp_path: Path, how: str) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_geocode_tests", Path(__file__).with_name("test_geocode.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = module.write_cpo_zip(tmp_path / "codepo_gb.zip")
    built = sg.build_postcode_table(source)
    good = pd.read_parquet(built)
    data = built.read_bytes()
    built.write_bytes(b"garbage" if how == "garbage" else data[: len(data) // 2])
    with pytest.warns(SocEconGeoWarning, match="not usable: it cannot be read") as caught:
        assert sg.build_postcode_table(source) == built
    assert len(caught) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(built), good)

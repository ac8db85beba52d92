"""The scale benchmark runs from a checkout and rewrites only its own part of a page."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "bench_scale.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_write_docs_replaces_only_the_marked_section(tmp_path: Path) -> None:
    bench = _module()
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\nbefore\n\n{bench.START}\nold\n{bench.END}\n\nafter\n")
    for _ in range(2):  # a second run replaces the first run's section
        bench.write_docs(page, f"{bench.START}\nnew table\n{bench.END}")
    assert (
        page.read_text() == f"# Title\n\nbefore\n\n{bench.START}\nnew table\n{bench.END}\n\nafter\n"
    )
    bare = tmp_path / "bare.md"
    bare.write_text("# Title\n")
    bench.write_docs(bare, f"{bench.START}\nt\n{bench.END}")
    assert bare.read_text() == f"# Title\n\n{bench.START}\nt\n{bench.END}\n"


@pytest.mark.slow
def test_the_scale_benchmark_measures_every_step_and_writes_the_page(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    original = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    page.write_text(original, encoding="utf-8")
    numbers = tmp_path / "numbers.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--sizes",
            "800",
            "--baseline-timeout",
            "120",
            "--json",
            str(numbers),
            "--write-docs",
            str(page),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    bench = _module()
    (run,) = json.loads(numbers.read_text())
    assert run["n"] == 800
    assert set(run["steps"]) == set(bench.STEPS)
    for step, row in run["steps"].items():
        assert row["ours"]["s"] > 0, step
        if step in bench.BASELINES:
            assert row["baseline"] is not None, step
            assert row["baseline"]["s"] > 0, step
    assert run["end_to_end"]["total_s"] >= run["end_to_end"]["analyse_s"] > 0
    assert run["end_to_end"]["peak_rss_mib"] > 100
    text = page.read_text(encoding="utf-8")
    before, rest = original.split(bench.START)
    after = rest.split(bench.END)[1]
    assert text.startswith(before)
    assert text.endswith(after)
    section = text[len(before) : len(text) - len(after)]
    assert "(not measured yet" not in section
    assert "python benchmarks/bench_scale.py --sizes 800" in section
    assert "| processor |" in section
    assert "| memory |" in section
    for step in bench.STEPS:
        assert f"| {step} | 800 |" in section, step
    assert "| 800 |" in section  # the end-to-end table


def test_a_baseline_stopped_at_its_timeout_is_reported_as_such() -> None:
    bench = _module()
    steps = {step: {"ours": {"s": 2.0, "peak_mib": 10.0}, "baseline": None} for step in bench.STEPS}
    steps["clusters"]["timeout_s"] = 300.0
    steps["map"].update(timeout_s=300.0, ours_mb=30.0, baseline_mb=None)
    steps["geocode"]["baseline"] = {"s": 1.0, "peak_mib": 2048.0}
    run = {"n": 1_000_000, "steps": steps}
    table = bench.step_table([run])
    assert (
        "| clusters | 1,000,000 | 2.00 s | 10 MiB | scikit-learn HDBSCAN "
        "| not done in 300 s | — | > 150× |" in table
    )
    assert (
        "| geocode | 1,000,000 | 2.00 s | 10 MiB | pandas merge | 1.00 s | 2.00 GiB | 0.50× |"
        in table
    )
    assert "| ranking | 1,000,000 | 2.00 s | 10 MiB | — | — | — | — |" in table
    assert (
        "| map | 1,000,000 | 2.00 s | 10 MiB | explore() + save (30 MB vs —) "
        "| not done in 300 s | — | > 150× |"
    ) in table
    e2e = {"analyse_s": 200.0, "save_s": 150.0, "total_s": 350.0, "peak_rss_mib": 4096.0}
    rows = bench.end_to_end_table([{"n": 1_000_000, "end_to_end": e2e}])
    assert "| 1,000,000 | 200 s | 150 s | 350 s | 4.00 GiB | < 300 s, < 8 GiB | **no** |" in rows

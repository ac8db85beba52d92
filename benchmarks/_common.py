"""Pieces the benchmark scripts share: messy postcodes, interleaved timing, peak memory.

Child scripts run with ``python -c`` put this folder on ``sys.path`` to import it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
# real postcodes outside the bundled table's five postcode areas
OUTSIDE = np.array(["EC1A 1BB", "M1 1AE", "LS1 4AP", "SW1A 2AA", "G2 1DU", "CF10 3NQ"])


def unknown_in_known_sectors(
    live: np.ndarray, known: pd.Series, rng: np.random.Generator, tries: int = 20_000
) -> np.ndarray:
    """Postcodes that do not exist in sectors that do: live ones with other inward letters."""
    guesses = pd.Series(live[rng.integers(0, len(live), tries)]).str.slice(0, -2)
    letters = INWARD_LETTERS[rng.integers(0, len(INWARD_LETTERS), (len(guesses), 2))]
    guesses = guesses + letters[:, 0] + letters[:, 1]
    return guesses[~guesses.isin(known)].unique().astype(object)


def interleaved(
    step: Callable[[], Any], baseline: Callable[[], Any], repeat: int
) -> tuple[Any, list[float], list[float]]:
    """Time ``step`` and ``baseline`` in turn, ``repeat`` times each.

    Interleaving lets both see the same load on a shared machine. Returns the last
    result of ``step`` and the two lists of times in seconds.
    """
    step_times: list[float] = []
    base_times: list[float] = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        step_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        baseline()
        base_times.append(time.perf_counter() - start)
    return result, step_times, base_times


def memory_mib(field: str = "VmHWM") -> float:
    """A memory figure of this process from ``/proc/self/status``, in MiB.

    ``VmHWM`` is the peak resident set since the process began or since
    :func:`reset_peak`; ``VmRSS`` the resident set now. NaN where there is no such file
    (not Linux).
    """
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return float("nan")
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def reset_peak() -> None:
    """Give freed memory back to the system, then restart ``VmHWM`` from the resident set.

    Without giving it back, a step's new arrays would reuse pages an earlier step freed
    but the allocator kept, and the resident set would not grow while it ran.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def machine() -> dict[str, str]:
    """What a benchmark ran on: processor and cores, memory, system and Python."""
    model = "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    try:
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(found.group(1)) / 1024**2:.0f} GiB" if found else "unknown"
    except OSError:
        memory = "unknown"
    return {
        "processor": f"{os.cpu_count()} cores ({model})",
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
    }


def machine_line() -> str:
    """:func:`machine` on one line."""
    return "; ".join(machine().values())

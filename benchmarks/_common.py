"""Pieces the benchmark scripts share: messy postcodes and interleaved timing."""

from __future__ import annotations

import time
from collections.abc import Callable
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

"""Progress of the pipeline's steps, on standard error.

One line when a step starts (what it works on) and its time when it ends; on a terminal
the two share a line. Silent when switched off, so other tools can call the pipeline.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Report numbered steps as they run, and keep their times.

    Parameters
    ----------
    total : int
        How many steps there are.
    enabled : bool
        Whether to write anything.
    stream : file, optional
        Where to write; standard error by default.
    """

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None):
        self.total = total
        self.enabled = enabled
        self.stream = stream
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[None]:
        """Time one step (a ``with`` block) and report it."""
        stream = self.stream if self.stream is not None else sys.stderr
        number = len(self.timings) + 1
        label = f"[{number}/{self.total}] {name}" + (f": {detail}" if detail else "")
        terminal = self.enabled and stream.isatty()
        if self.enabled:
            stream.write(label + (" …" if terminal else "\n"))
            stream.flush()
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.timings[name] = elapsed
        if self.enabled:
            if terminal:
                stream.write(f"\r{label} ({elapsed:.1f} s)\n")
            stream.flush()

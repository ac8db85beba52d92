"""Progress on standard error: the pipeline's steps, and the reading of a large file.

:class:`Progress`: one line when a step starts (what it works on) and its time when it
ends; on a terminal the two share a line. :class:`ReadProgress`: the bytes of a file read
so far, the rows read and kept, the rate. Silent when switched off, so other tools can
call the pipeline.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, TextIO

__all__ = ["Progress", "ReadProgress"]


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


_SECOND_UPDATES: Final = 0.25  # a terminal line is rewritten at most 4 times a second
_QUARTER: Final = 4  # plain lines: one per quarter of the file, after the first few seconds
_PLAIN_AFTER: Final = 5.0  # seconds before a plain line is worth writing


def _size(count: float) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,.0f} B"


class ReadProgress:
    """Report how far the reading of one file has got: bytes of the total, rows, rate.

    On a terminal one line is rewritten in place (a carriage return); elsewhere (a log, a pipe) a
    plain line is written as each quarter of the file is passed, once the read has run
    for a few seconds, and one when it ends.

    Parameters
    ----------
    label : str
        What is read, e.g. ``"BasicCompanyData.csv"``.
    total : int or None
        The size of the file in bytes (expanded size of a ZIP member); ``None`` if unknown.
    enabled : bool
        Whether to write anything.
    stream : file, optional
        Where to write; standard error by default.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ReadProgress("register.csv", total=2048, stream=out)
    >>> bar.update(1024, rows=50, kept=20)
    >>> bar.finish(rows=100, kept=40)
    >>> print(out.getvalue().split(": ", 1)[1].split(" in ")[0])
    2.0 KiB of 2.0 KiB (100%), 100 rows read, 40 kept
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
    ):
        self.label = label
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = enabled and self.stream.isatty()
        self.start = time.perf_counter()
        self.done = 0
        self.rows = 0
        self.kept = 0
        self._shown = self.start - _SECOND_UPDATES
        self._quarter = 0
        self._width = 0

    def _text(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        if self.total and self.done:
            done = min(self.done, self.total)
            where = f"{_size(done)} of {_size(self.total)} ({done / self.total:.0%}), "
        else:  # not known while a JSON file is parsed
            where = f"{_size(self.done)}, " if self.done else ""
        return (
            f"reading {self.label}: {where}{self.rows:,} rows read, {self.kept:,} kept in "
            f"{elapsed:,.1f} s ({self.rows / elapsed:,.0f} rows/s)"
        )

    def update(self, done: int, *, rows: int, kept: int) -> None:
        """Record progress: ``done`` bytes read, ``rows`` rows read, ``kept`` rows kept."""
        self.done, self.rows, self.kept = done, rows, kept
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.terminal:
            if now - self._shown >= _SECOND_UPDATES:
                self._shown = now
                self._write_in_place(self._text())
            return
        if self.total and now - self.start >= _PLAIN_AFTER:
            quarter = min(done, self.total) * _QUARTER // self.total
            if quarter > self._quarter and quarter < _QUARTER:
                self._quarter = quarter
                self.stream.write(self._text() + "\n")
                self.stream.flush()

    def _write_in_place(self, text: str) -> None:
        padding = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + padding)
        self.stream.flush()

    def finish(self, *, rows: int, kept: int) -> None:
        """Write the last line: the whole file read, ``rows`` rows read, ``kept`` kept."""
        self.rows, self.kept = rows, kept
        if self.total is not None:
            self.done = self.total
        if not self.enabled:
            return
        if self.terminal:
            self._write_in_place(self._text())
            self.stream.write("\n")
        else:
            self.stream.write(self._text() + "\n")
        self.stream.flush()

"""Resource limits on register files: refuse what would exhaust memory or time.

A register comes from many hands; a few kinds of file would make a reader use memory or
time out of all proportion to the organisations in it. Each is refused with one
:class:`~socecon_geo.InputError` while it is read, in bounded memory:

- a ZIP member (a register in a ``.zip``, or a part of an ``.xlsx`` workbook) that
  expands past :data:`MAX_EXPANDED_BYTES`, or past :data:`MAX_RATIO` times its
  compressed size once beyond :data:`RATIO_FLOOR_BYTES` (a decompression bomb): the
  declared sizes are checked before reading and the bytes counted while streaming, so a
  member whose header lies is stopped too;
- a line of delimited text longer than :data:`MAX_LINE_BYTES` without a line break;
- a worksheet whose declared dimension, or whose cells holding values, span more than
  :data:`MAX_SHEET_CELLS` cells (rows x columns, the grid a reader would build);
- a workbook part with a document type declaration (``<!DOCTYPE``, where XML entities
  are declared: an entity bomb); workbooks never need one. openpyxl also parses through
  ``defusedxml``.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable
from typing import IO, Final

from socecon_geo._errors import InputError

__all__ = [
    "MAX_EXPANDED_BYTES",
    "MAX_LINE_BYTES",
    "MAX_RATIO",
    "MAX_SHEET_CELLS",
    "RATIO_FLOOR_BYTES",
    "check_workbook",
    "guarded",
]

MAX_EXPANDED_BYTES: Final[int] = 4 * 1024**3
"""The most one ZIP member may expand to: 4 GiB (a national register is under 1 GiB)."""

MAX_RATIO: Final[int] = 200
"""The most a ZIP member may expand per compressed byte, once past :data:`RATIO_FLOOR_BYTES`."""

RATIO_FLOOR_BYTES: Final[int] = 64 * 1024**2
"""Below 64 MiB expanded, any ratio is allowed (small files of repeated text compress well)."""

MAX_LINE_BYTES: Final[int] = 16 * 1024**2
"""The longest line of delimited text, in bytes: 16 MiB (a register row is well under 1 KiB)."""

MAX_SHEET_CELLS: Final[int] = 20_000_000
"""The largest worksheet grid, rows x columns: 20 million cells (1,048,576 x 19)."""

_XML_HEAD: Final[int] = 64 * 1024  # a DTD comes before the root element
_CELL: Final = re.compile(r"([A-Z]{1,3})(\d+)")
_DIMENSION: Final = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)\"")
_FIX: Final = "If the file is genuine, export the register again as a plain .csv file."


def _mib(size: float) -> str:
    return f"{size / 1024**2:,.0f} MiB"


def _member_problem(size: int, compressed: int) -> str | None:
    if size > MAX_EXPANDED_BYTES:
        return f"expands to more than {_mib(MAX_EXPANDED_BYTES)} (the limit)"
    if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(compressed, 1):
        return (
            f"expands to {_mib(size)} from {compressed:,} compressed bytes, more than "
            f"{MAX_RATIO} times (a decompression bomb)"
        )
    return None


def check_member(info: zipfile.ZipInfo, label: str) -> None:
    """Refuse a ZIP member whose declared sizes are past the limits.

    Raises
    ------
    InputError
        Naming the member, what it expands to and the limit.
    """
    problem = _member_problem(info.file_size, info.compress_size)
    if problem:
        msg = f"{label}: the compressed file {info.filename!r} {problem}; refused. {_FIX}"
        raise InputError(msg)


class _Guard(io.RawIOBase):
    """A binary stream that counts what it passes and stops at the limits."""

    def __init__(
        self,
        raw: IO[bytes],
        label: str,
        *,
        compressed: int | None,
        member: str | None,
        lines: bool,
    ) -> None:
        self._raw = raw
        self._label = label
        self._compressed = compressed
        self._member = member
        self._lines = lines
        self._total = 0
        self._since_break = 0

    def readable(self) -> bool:
        return True

    @property
    def bytes_read(self) -> int:
        """Bytes passed so far (expanded bytes of a ZIP member), for progress reports."""
        return self._total

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._raw.read(len(buffer))
        except zipfile.BadZipFile as exc:
            msg = f"{self._label} is a damaged ZIP member ({exc}); download it again"
            raise InputError(msg) from None
        n = len(data)
        buffer[:n] = data
        self._total += n
        if self._compressed is not None:
            problem = _member_problem(self._total, self._compressed)
            if problem:
                msg = (
                    f"{self._label}: the compressed file {self._member!r} {problem}; refused "
                    f"after reading {_mib(self._total)}. {_FIX}"
                )
                raise InputError(msg)
        if self._lines and n:
            last = data.rfind(b"\n")
            self._since_break = n - last - 1 if last >= 0 else self._since_break + n
            if self._since_break > MAX_LINE_BYTES:
                msg = (
                    f"{self._label} has a line longer than {_mib(MAX_LINE_BYTES)} without a line "
                    f"break (near byte {self._total:,}), the limit; a register row is a few "
                    f"hundred bytes, so this is not a register. {_FIX}"
                )
                raise InputError(msg)
        return n

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def guarded(
    opener: Callable[[], IO[bytes]],
    label: str,
    *,
    info: zipfile.ZipInfo | None = None,
    lines: bool = False,
) -> Callable[[], IO[bytes]]:
    """Return an opener whose streams enforce the limits while they are read.

    Parameters
    ----------
    opener : callable
        Opens the raw binary stream.
    label : str
        The file, as error messages name it.
    info : zipfile.ZipInfo, optional
        The ZIP member the stream expands: its declared sizes are checked at once, and
        the bytes read against its compressed size.
    lines : bool, default False
        Also refuse a line longer than :data:`MAX_LINE_BYTES` (delimited text).
    """
    if info is not None:
        check_member(info, label)
    return functools.partial(_open_guarded, opener, label, info=info, lines=lines)


def _open_guarded(
    opener: Callable[[], IO[bytes]],
    label: str,
    *,
    info: zipfile.ZipInfo | None = None,
    lines: bool = False,
) -> io.BufferedReader:
    guard = _Guard(
        opener(),
        label,
        compressed=None if info is None else info.compress_size,
        member=None if info is None else info.filename,
        lines=lines,
    )
    return io.BufferedReader(guard, buffer_size=1 << 20)


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def _span(ref: str) -> tuple[int, int]:
    """Rows and columns of a reference ``A1`` or ``A1:XFD1048576``."""
    corners = [_CELL.fullmatch(part) for part in ref.split(":")]
    if not all(corners):
        return 1, 1
    rows = [int(m.group(2)) for m in corners if m]
    cols = [_column_number(m.group(1)) for m in corners if m]
    return max(rows) - min(rows) + 1, max(cols) - min(cols) + 1


def _refuse_cells(label: str, part: str, rows: int, cols: int, what: str) -> None:
    if rows * cols > MAX_SHEET_CELLS:
        msg = (
            f"{label}: the worksheet {part!r} {what} {rows:,} rows x {cols:,} columns "
            f"({rows * cols:,} cells), past the limit of {MAX_SHEET_CELLS:,} cells; refused. "
            "Delete the empty rows and columns beyond the register, or export the register "
            "as a plain .csv file."
        )
        raise InputError(msg)


def _scan_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> None:
    """Stream a worksheet's XML: refuse a huge declared dimension or span of value cells."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    with _open_guarded(functools.partial(archive.open, info), label, info=info) as stream:
        head = stream.peek(_XML_HEAD)[:_XML_HEAD]
        if found := _DIMENSION.search(head):
            rows, cols = _span(found.group(1).decode())
            _refuse_cells(label, info.filename, rows, cols, "declares a dimension of")
        max_row = max_col = row = 0
        try:
            events = SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True)
            root = None
            for event, element in events:
                tag = element.tag.rpartition("}")[2]
                if root is None:
                    root = element
                if event == "start":
                    if tag == "row":
                        row = int(element.get("r") or row + 1)
                        col = 0
                    continue
                if tag == "c":
                    ref = _CELL.fullmatch(element.get("r") or "")
                    col = _column_number(ref.group(1)) if ref else col + 1
                    if len(element):  # a value, an inline string or a formula
                        max_row, max_col = max(max_row, row), max(max_col, col)
                        if max_row * max_col > MAX_SHEET_CELLS:
                            _refuse_cells(
                                label, info.filename, max_row, max_col, "has values across"
                            )
                    element.clear()
                elif tag == "row":
                    element.clear()
                    root.clear()
        except (DefusedXmlException, SafeET.ParseError) as exc:
            msg = (
                f"{label}: the worksheet {info.filename!r} is not a plain workbook part "
                f"({type(exc).__name__}: {exc}); refused. {_FIX}"
            )
            raise InputError(msg) from None


def check_workbook(content: bytes, label: str) -> None:
    """Refuse a workbook that is a decompression bomb, an entity bomb or an enormous grid.

    Parameters
    ----------
    content : bytes
        The ``.xlsx`` file.
    label : str
        The file, as error messages name it.

    Raises
    ------
    InputError
        Saying which part is refused and why. A workbook that is not a ZIP at all is left
        to the reader, which says so.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return
    with archive:
        parts = archive.infolist()
        for info in parts:
            check_member(info, label)
        for info in parts:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            with _open_guarded(functools.partial(archive.open, info), label, info=info) as stream:
                head = stream.read(_XML_HEAD)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                msg = (
                    f"{label}: the workbook part {info.filename!r} declares a document type "
                    f"(<!DOCTYPE ...>, where XML entities are declared, as an entity bomb "
                    f"does); workbooks never need one, so it is refused. {_FIX}"
                )
                raise InputError(msg)
        for info in parts:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                _scan_sheet(archive, info, label)

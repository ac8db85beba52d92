"""Reading the rows of an opened register file, chunk by chunk.

The rows of a :class:`~socecon_geo.registers._files._Table` are read in chunks (text,
Excel, Parquet, JSON), wholly blank rows are set aside and counted, a register's row
filter is applied per chunk, and a malformed text file gets one message saying where.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import IO, Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from socecon_geo._errors import InputError
from socecon_geo._progress import ReadProgress
from socecon_geo._tables import shown
from socecon_geo.registers._files import (
    _JSON_BATCH,
    _SAMPLE_BYTES,
    _iter_json_records,
    _RowFilter,
    _Table,
)
from socecon_geo.registers.columns import _STRING


@dataclass
class _Rows:
    """Rows kept from a source, with their 1-based source row numbers."""

    frame: pd.DataFrame
    rows: np.ndarray
    rows_read: int
    filtered_out: dict[str, int]


_BLANK: Final = "blank"  # filtered_out key of wholly blank rows


_TRAILING: Final = "_trailing_blank"  # blank rows after the last filled one (so far)


_TEXT: Final = pd.Series([], dtype=str).dtype  # what read_csv(dtype=str) gives
_TEXT_IS_OBJECT: Final = pd.api.types.is_object_dtype(_TEXT)  # pandas < 3


# The characters str.strip() removes (str.isspace() is true), as one-character strings.
_WHITESPACE: Final = pa.array(
    [
        *"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680",
        *map(chr, range(0x2000, 0x200B)),
        *"\u2028\u2029\u202f\u205f\u3000",
    ],
    type=pa.string(),
)


def _filled_cells(values: pd.Series) -> np.ndarray:
    """Which of the (non-missing) ``values`` hold more than spaces.

    Text is checked in bulk: a cell whose first character is not a space is filled, and
    only cells starting with one are stripped one by one.
    """
    try:
        text = pa.array(values.to_numpy(dtype=object), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: cell by cell
        return values.map(lambda v: not isinstance(v, str) or bool(v.strip())).to_numpy(bool)
    first = pc.utf8_slice_codeunits(text, 0, 1)
    spaced = pc.is_in(first, value_set=_WHITESPACE).to_numpy(zero_copy_only=False)
    filled = pc.greater(pc.binary_length(text), 0).to_numpy(zero_copy_only=False) & ~spaced
    if spaced.any():
        filled[spaced] = [bool(v.strip()) for v in values.to_numpy(dtype=object)[spaced]]
    return filled


def _blank_rows(chunk: pd.DataFrame) -> np.ndarray:
    """Rows with nothing in any cell (missing, or only spaces)."""
    filled = np.zeros(len(chunk), dtype=bool)
    for position in range(chunk.shape[1]):
        values = chunk.iloc[:, position]
        candidates = ~filled & values.notna().to_numpy(dtype=bool)
        if not candidates.any():
            continue
        subset = values[candidates]
        if pd.api.types.is_numeric_dtype(subset.dtype):
            filled |= candidates
            continue
        filled[np.flatnonzero(candidates)] = _filled_cells(subset)
        if filled.all():
            break
    return ~filled


def _apply_filters(
    chunk: pd.DataFrame, start: int, row_filter: _RowFilter | None, counts: dict[str, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop wholly blank rows (counted as ``"blank"``), then rows ``row_filter`` rejects.

    Rows keep their 1-based position in the source, blank rows counted, so that
    ``source_row`` points at the right row. ``counts[_TRAILING]`` follows how many blank
    rows end the source so far (see :func:`_finish_counts`).
    """
    rows = np.arange(start + 1, start + len(chunk) + 1)
    blank = _blank_rows(chunk)
    if blank.any():
        counts[_BLANK] = counts.get(_BLANK, 0) + int(blank.sum())
        filled = np.flatnonzero(~blank)
        if len(filled):
            counts[_TRAILING] = len(chunk) - 1 - int(filled[-1])
        else:
            counts[_TRAILING] = counts.get(_TRAILING, 0) + len(chunk)
        chunk, rows = chunk.iloc[np.flatnonzero(~blank)], rows[~blank]
    elif len(chunk):
        counts.pop(_TRAILING, None)
    if row_filter is None:
        return chunk, rows
    keep = np.ones(len(chunk), dtype=bool)
    for reason, passes in row_filter(chunk):
        passing = passes.to_numpy(dtype=bool)
        counts[reason] = counts.get(reason, 0) + int((keep & ~passing).sum())
        keep &= passing
    return chunk.iloc[np.flatnonzero(keep)], rows[keep]


def _finish_counts(
    counts: dict[str, int], rows_read: int, *, trim_trailing: bool
) -> tuple[dict[str, int], int]:
    """Filter counts and rows read, blank rows that end a text file not counted.

    A text file's blank lines (or ``,,,`` lines) after its last filled row are not rows,
    as the blank rows below a sheet's last filled row are not.
    """
    out = dict(counts)
    trailing = out.pop(_TRAILING, 0)
    if trim_trailing and trailing:
        out[_BLANK] -= trailing
        rows_read -= trailing
    if not out.get(_BLANK, 1):
        del out[_BLANK]
    return out, rows_read


def _read_rows(
    table: _Table,
    *,
    usecols: Collection[str] | None = None,
    chunksize: int | None = None,
    quoting_none: bool = False,
    row_filter: _RowFilter | None = None,
    progress: ReadProgress | None = None,
) -> _Rows:
    """Read every row (in chunks if ``chunksize``), keeping those that pass ``row_filter``.

    ``progress``, if given, is updated after each chunk of a text or JSON file with the
    bytes read so far, and finished when the rows are read.
    """
    if table.kind == "text":
        found = _read_text_rows(
            table,
            usecols=usecols,
            chunksize=chunksize,
            quoting_none=quoting_none,
            row_filter=row_filter,
            progress=progress,
        )
    elif table.kind == "json":
        found = _read_json_rows(
            table, chunksize=chunksize, row_filter=row_filter, progress=progress
        )
    else:
        found = _read_frame_rows(table, usecols=usecols, row_filter=row_filter)
    if progress is not None:
        progress.finish(rows=found.rows_read, kept=len(found.rows))
    return found


def _read_frame_rows(
    table: _Table, *, usecols: Collection[str] | None, row_filter: _RowFilter | None
) -> _Rows:
    assert table.frame is not None
    frame = table.frame.set_axis(table.headings, axis=1)
    if usecols is not None:
        wanted = set(usecols)
        frame = frame[[h for h in table.headings if h in wanted]]
    counts: dict[str, int] = {}
    kept, rows = _apply_filters(frame, 0, row_filter, counts)
    filtered_out, rows_read = _finish_counts(counts, len(frame), trim_trailing=False)
    return _Rows(kept.reset_index(drop=True), rows, rows_read, filtered_out)


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Store object columns holding only text as ``string`` (far smaller than objects)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object and values.map(lambda v: v is None or isinstance(v, str)).all():
            out[column] = values.astype(_STRING)
    return out


def _bytes_read(handle: Any) -> int:
    """Bytes a guarded stream (see ``_limits.guarded``) has passed so far, else 0."""
    return int(getattr(getattr(handle, "raw", None), "bytes_read", 0))


def _read_json_rows(
    table: _Table,
    *,
    chunksize: int | None,
    row_filter: _RowFilter | None,
    progress: ReadProgress | None = None,
) -> _Rows:
    # Parsed JSON objects are large Python dicts: keep batches small.
    batch_size = min(chunksize or _JSON_BATCH, _JSON_BATCH)
    frames: list[pd.DataFrame] = []
    rows: list[np.ndarray] = []
    counts: dict[str, int] = {}
    start = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal start, batch
        chunk = pd.DataFrame.from_records(batch)
        chunk.columns = [str(c).strip() for c in chunk.columns]
        kept, kept_rows = _apply_filters(chunk, start, row_filter, counts)
        frames.append(_compact(kept))
        rows.append(kept_rows)
        start += len(chunk)
        batch = []
        if progress is not None:
            kept_so_far = sum(len(r) for r in rows)
            progress.update(progress.done, rows=start, kept=kept_so_far)

    for record in _iter_json_records(table):
        if not isinstance(record, dict):  # pragma: no cover - the streamer yields objects
            continue
        batch.append(record)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    filtered_out, rows_read = _finish_counts(counts, start, trim_trailing=False)
    kept_rows = np.concatenate(rows) if rows else np.array([], int)
    return _Rows(frame, kept_rows, rows_read, filtered_out)


def _read_text_rows(
    table: _Table,
    *,
    usecols: Collection[str] | None,
    chunksize: int | None,
    quoting_none: bool,
    row_filter: _RowFilter | None,
    progress: ReadProgress | None = None,
) -> _Rows:
    assert table.opener is not None
    assert table.encoding is not None
    encodings = [table.encoding]
    if table.auto_encoding and table.encoding == "utf-8-sig":
        encodings.append("cp1252")
    wanted = None if usecols is None else frozenset(usecols)
    for attempt, encoding in enumerate(encodings):
        try:
            return _parse_text(
                table,
                encoding=encoding,
                wanted=wanted,
                chunksize=chunksize,
                quoting_none=quoting_none,
                row_filter=row_filter,
                progress=progress,
            )
        except UnicodeDecodeError as exc:
            if attempt + 1 < len(encodings):
                if not table.ascii_sample:  # cp1252 would garble its UTF-8 letters
                    msg = (
                        f"{table.label} is UTF-8 text in its first {_SAMPLE_BYTES >> 20} MB, "
                        f"but further on it holds bytes that are not UTF-8 ({exc.reason}: "
                        f"{shown(exc.object[exc.start : exc.start + 1])}); read as "
                        f"Windows-1252 instead, its UTF-8 accented letters would be garbled "
                        f"('é' as 'Ã©'). The file mixes encodings: save it again as UTF-8, or "
                        f"pass encoding='cp1252' if it is Windows-1252 text after all"
                    )
                    raise InputError(msg) from None
                continue
            how = "pass the right encoding=" if not table.auto_encoding else "pass encoding="
            msg = (
                f"{table.label} cannot be decoded as {encoding!r} ({exc.reason} at byte "
                f"{exc.start} of a block); {how}, e.g. 'cp1252' or 'latin-1'"
            )
            raise InputError(msg) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _csv_options(table: _Table, quoting_none: bool) -> dict[str, Any]:
    if quoting_none:
        # Tab-separated register extracts have no quoting and no escaping: a quote or a
        # backslash in a field is just a character (a backslash must never escape the
        # delimiter, which would shift every later field of the row).
        return {"sep": table.delimiter, "quoting": csv.QUOTE_NONE}
    return {"sep": table.delimiter, "quoting": csv.QUOTE_MINIMAL}


def _parse_text(
    table: _Table,
    *,
    encoding: str,
    wanted: frozenset[str] | None,
    chunksize: int | None,
    quoting_none: bool,
    row_filter: _RowFilter | None,
    progress: ReadProgress | None = None,
) -> _Rows:
    assert table.opener is not None
    counts: dict[str, int] = {}
    options: dict[str, Any] = {
        **_csv_options(table, quoting_none),
        # Cells are read as Python strings and only the rows kept are made ``str``
        # columns: most rows of a filtered register never need it.
        "dtype": object,
        "keep_default_na": False,
        "na_values": [""],
        "encoding": encoding,
        "engine": "c",
        "on_bad_lines": "error",
        "skip_blank_lines": False,  # blank lines are rows (skipped and counted later)
    }
    if table.skip_lines:
        options["skiprows"] = table.skip_lines
    if wanted is not None:
        options["usecols"] = lambda heading: str(heading).strip() in wanted
    if wanted is not None and _has_long_rows(table, encoding, quoting_none):
        error = pd.errors.ParserError("a row has more fields than the heading row")
        raise InputError(_malformed_message(table, encoding, quoting_none, error))
    frames: list[pd.DataFrame] = []
    rows: list[np.ndarray] = []
    start = 0
    try:
        with table.opener() as raw_handle:
            handle: Any = raw_handle
            if quoting_none and not encoding.lower().replace("_", "-").startswith("utf-16"):
                handle = _RejoinedLines(
                    raw_handle, table.delimiter, len(table.headings), skip=table.skip_lines
                )
            if chunksize is None:
                chunks: Any = [pd.read_csv(handle, **options)]
            else:
                chunks = pd.read_csv(handle, chunksize=chunksize, **options)
            kept_so_far = 0
            for chunk in chunks:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                kept, kept_rows = _apply_filters(chunk, start, row_filter, counts)
                frames.append(kept if _TEXT_IS_OBJECT else kept.astype(_TEXT))
                rows.append(kept_rows)
                start += len(chunk)
                kept_so_far += len(kept_rows)
                if progress is not None:
                    progress.update(_bytes_read(raw_handle), rows=start, kept=kept_so_far)
    except pd.errors.EmptyDataError:
        msg = f"{table.label} is empty (no heading row); export the register again"
        raise InputError(msg) from None
    except pd.errors.ParserError as exc:
        raise InputError(_malformed_message(table, encoding, quoting_none, exc)) from None
    if not frames:  # a chunked read of a heading-only file yields no chunk
        return _Rows(pd.DataFrame(columns=table.headings), np.array([], int), 0, counts)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    filtered_out, rows_read = _finish_counts(counts, start, trim_trailing=True)
    return _Rows(frame.reset_index(drop=True), np.concatenate(rows), rows_read, filtered_out)


def _has_long_rows(table: _Table, encoding: str, quoting_none: bool) -> bool:
    """Whether a row of a delimited file has more fields than its heading row.

    pandas reading a subset of the columns (``usecols``) drops the extra fields of such
    a row without a word, so that its values would land in the wrong columns unnoticed;
    this pass (pyarrow's CSV reader, about a tenth of the read's time) finds them.
    Rows with fewer fields are left to pandas, which pads them as it always does.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    assert table.opener is not None
    found: list[int] = []

    def handler(row: Any) -> str:
        if row.actual_columns > row.expected_columns:
            found.append(row.actual_columns)
            return "error"
        return "skip"

    names = [f"c{i}" for i in range(len(table.headings))]
    if not names:
        return False
    arrow_encoding = (
        "utf8" if encoding.lower().replace("-", "") in {"utf8", "utf8sig"} else encoding
    )
    parse = pa_csv.ParseOptions(
        delimiter=table.delimiter,
        quote_char=False if quoting_none else '"',
        double_quote=not quoting_none,
        newlines_in_values=not quoting_none,
        invalid_row_handler=handler,
    )
    read = pa_csv.ReadOptions(
        column_names=names,
        skip_rows=table.skip_lines + 1,
        encoding=arrow_encoding,
        block_size=1 << 20,  # small blocks: a few MiB in memory, whatever the file
    )
    convert = pa_csv.ConvertOptions(include_columns=names[:1], column_types={names[0]: pa.string()})
    try:
        with table.opener() as handle:
            reader = pa_csv.open_csv(
                handle, read_options=read, parse_options=parse, convert_options=convert
            )
            for _ in reader:
                pass
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError, ValueError):
        pass  # the read itself reports what is wrong with such a file
    return bool(found)


class _RejoinedLines(io.RawIOBase):
    """Lines of an unquoted delimited file, with records broken by a line break joined.

    Without quoting, a line break inside a field (an address or activities text typed
    over several lines) splits a record into two short lines, which a CSV parser would
    read as two rows padded with missing values. Every record of such a file has as
    many delimiters as the heading row, so a line with fewer is joined to the lines
    after it (the line break becomes a space) until it has enough. The first ``skip``
    lines (a title above the heading row) are passed on as they are.
    """

    def __init__(self, raw: IO[bytes], delimiter: str, fields: int, *, skip: int = 0) -> None:
        self._lines = iter(raw)
        self._skip = skip
        self._delimiter = delimiter.encode("ascii")
        self._wanted = fields - 1
        self._pending: bytes | None = None
        self._buffer = bytearray()

    def readable(self) -> bool:
        return True

    def _next_line(self) -> bytes | None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line
        return next(self._lines, None)

    def _record(self) -> bytes | None:
        line = self._next_line()
        if line is None:
            return None
        if self._skip:
            self._skip -= 1
            return line
        count = line.count(self._delimiter)
        while count < self._wanted and line.strip():
            following = self._next_line()
            if following is None:
                break
            if following.count(self._delimiter) >= self._wanted:  # a whole record
                self._pending = following
                break
            line = line.rstrip(b"\r\n") + b" " + following
            count += following.count(self._delimiter)
        return line

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._buffer) < len(view):
            record = self._record()
            if record is None:
                break
            self._buffer += record
        size = min(len(view), len(self._buffer))
        view[:size] = self._buffer[:size]
        del self._buffer[:size]
        return size


def _malformed_message(table: _Table, encoding: str, quoting_none: bool, error: Exception) -> str:
    """Find every row whose field count differs from the heading row's, for one message."""
    assert table.opener is not None
    expected = len(table.headings)
    bad: list[tuple[int, int]] = []
    last_start = 0
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with table.opener() as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
            dialect: dict[str, Any] = {"delimiter": table.delimiter}
            if quoting_none:
                dialect.update(quoting=csv.QUOTE_NONE)
            for _ in range(table.skip_lines):  # title lines above the heading row
                text.readline()
            reader = csv.reader(text, **dialect)
            for heading in reader:  # blank lines before the heading row are skipped
                if heading:
                    break
            end = reader.line_num + table.skip_lines
            for record in reader:
                last_start, end = end + 1, reader.line_num + table.skip_lines
                if record and len(record) != expected:
                    bad.append((last_start, len(record)))
    except csv.Error as exc:
        return (
            f"{table.label} is malformed near line {last_start}: {exc}; check the quoting "
            f"of that line"
        )
    finally:
        csv.field_size_limit(previous_limit)
    if "EOF inside string" in str(error):
        return (
            f"{table.label} is malformed: a quoted field opened on line {last_start} is never "
            f"closed, so it runs on to the end of the file (an unclosed quote); close the "
            f"quote or remove the stray quote character"
        )
    if not bad:
        detail = str(error).replace("Error tokenizing data. C error: ", "").strip()
        return f"{table.label} is malformed: {detail}; check its quoting and delimiters"
    shown = ", ".join(f"line {line} has {n}" for line, n in bad[:20])
    more = f" (and {len(bad) - 20} more)" if len(bad) > 20 else ""
    return (
        f"{table.label} has {len(bad)} row(s) with the wrong number of fields: the heading row "
        f"has {expected}, but {shown}{more}. A field probably contains an unquoted delimiter "
        f"{table.delimiter!r} or line break; quote such fields or remove the stray characters"
    )

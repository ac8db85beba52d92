"""Opening register files: paths, ZIP members, sniffing, encodings, delimiters, heading rows.

A source (a path or a DataFrame) becomes a :class:`_Table` that knows its headings and
how to read its rows: delimited text (encoding and delimiter detected, a title above the
heading row skipped), Excel workbooks, Parquet, JSON arrays and JSON lines, one file in
a ZIP. Rows are read chunk by chunk with a per-chunk filter where a register needs one.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import IO, Any, Final, Literal

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo._headings import heading_key
from socecon_geo._tables import shown
from socecon_geo.registers._limits import check_workbook, guarded
from socecon_geo.registers.columns import _SIGNATURES, _STRING, _cell_text
from socecon_geo.registers.generic import _ALIASES

_TEXT_EXTENSIONS: Final = {".csv": None, ".tsv": "\t", ".tab": "\t", ".txt": None}


_EXCEL_EXTENSIONS: Final = {".xlsx", ".xlsm"}


_PARQUET_EXTENSIONS: Final = {".parquet", ".pq"}


_JSON_EXTENSIONS: Final = {".json", ".ndjson", ".jsonl"}


_SUPPORTED: Final = (
    ".csv, .tsv, .tab, .txt (delimited text), .xlsx, .xlsm, .parquet, .pq, .json, .ndjson, "
    ".jsonl, or a .zip holding one of those"
)


_SAMPLE_BYTES: Final = 1 << 20


_DEFAULT_CHUNKSIZE: Final = 100_000


_JSON_BATCH: Final = 10_000


_HEADING_SEARCH: Final = 20  # filled rows searched for the heading row below a title


@dataclass
class _Table:
    """An opened source: where it is, its headings, and how to read its rows."""

    label: str
    source_file: str | None
    kind: Literal["text", "excel", "parquet", "json", "frame"]
    headings: list[str]
    opener: Callable[[], IO[bytes]] | None = None
    encoding: str | None = None
    auto_encoding: bool = False
    delimiter: str = ","
    skip_lines: int = 0
    frame: pd.DataFrame | None = None
    frame_index: pd.Index | None = None
    typed: pd.DataFrame | None = None  # Excel: which cells hold numbers (not text)
    sheets: Callable[[], str] | None = None  # Excel: every sheet with its first headings
    ascii_sample: bool = True  # text: whether its first block is plain ASCII
    size: int | None = None  # bytes of the file (expanded, in a ZIP), for progress reports


def _describe(path: Path, member: str | None = None) -> str:
    return f"file '{path}'" if member is None else f"file '{member}' in '{path}'"


def _open_table(
    source: str | PathLike[str] | pd.DataFrame,
    *,
    encoding: str | None,
    sheet_name: str | int,
    stack: contextlib.ExitStack,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        return _Table(
            label="DataFrame",
            source_file=None,
            kind="frame",
            headings=list(frame.columns),
            frame=frame.reset_index(drop=True),
            frame_index=source.index,
        )
    if not isinstance(source, str | PathLike):
        msg = (
            f"read_organisations expects a file path or a pandas DataFrame, got "
            f"{type(source).__name__}; pass the path of the register file"
        )
        raise InputError(msg)
    path = Path(source)
    if str(source).startswith(("http://", "https://")):
        msg = f"'{source}' is a web address; download the file first and pass its local path"
        raise InputError(msg)
    if path.is_dir():
        msg = f"'{path}' is a directory, not a file; pass the path of the register file in it"
        raise InputError(msg)
    if not path.exists():
        msg = f"file '{path}' does not exist; check the path (working directory: {Path.cwd()})"
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _open_zip_member(
            path, encoding=encoding, sheet_name=sheet_name, stack=stack, expected=expected
        )

    def opener() -> IO[bytes]:
        return path.open("rb")

    table = _open_by_suffix(
        suffix,
        label=_describe(path),
        source_file=path.name,
        opener=guarded(opener, _describe(path), lines=suffix in _TEXT_EXTENSIONS),
        encoding=encoding,
        sheet_name=sheet_name,
        expected=expected,
    )
    table.size = path.stat().st_size
    return table


def _open_zip_member(
    path: Path,
    *,
    encoding: str | None,
    sheet_name: str | int,
    stack: contextlib.ExitStack,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"file '{path}' is not a readable ZIP archive ({exc}); download it again"
        raise InputError(msg) from None
    members = [
        info.filename
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and Path(info.filename).suffix.lower()
        in {*_TEXT_EXTENSIONS, *_EXCEL_EXTENSIONS, *_PARQUET_EXTENSIONS, *_JSON_EXTENSIONS}
    ]
    if len(members) != 1:
        listed = ", ".join(repr(info.filename) for info in archive.infolist()) or "nothing"
        what = "no readable file" if not members else f"{len(members)} readable files"
        msg = (
            f"file '{path}' holds {what} (it contains {listed}); a ZIP must hold exactly one "
            f"register file ({_SUPPORTED}). Extract the file you want and pass its path"
        )
        raise InputError(msg)
    member = members[0]
    suffix = Path(member).suffix.lower()

    def opener() -> IO[bytes]:
        return archive.open(member)

    table = _open_by_suffix(
        suffix,
        label=_describe(path, member),
        source_file=f"{path.name}/{member}",
        opener=guarded(
            opener,
            _describe(path, member),
            info=archive.getinfo(member),
            lines=suffix in _TEXT_EXTENSIONS,
        ),
        encoding=encoding,
        sheet_name=sheet_name,
        expected=expected,
    )
    table.size = archive.getinfo(member).file_size
    return table


_MAGIC: Final = (
    (b"PK\x03\x04", "a ZIP archive or an .xlsx workbook", ".zip or .xlsx"),
    (b"PAR1", "a Parquet file", ".parquet"),
    (b"%PDF", "a PDF document", None),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel .xls workbook", None),
    (b"\x1f\x8b", "a gzip-compressed file", None),
)


def _read_sample(opener: Callable[[], IO[bytes]], size: int = _SAMPLE_BYTES) -> bytes:
    with opener() as handle:
        return handle.read(size)


def _open_by_suffix(
    suffix: str,
    *,
    label: str,
    source_file: str,
    opener: Callable[[], IO[bytes]],
    encoding: str | None,
    sheet_name: str | int,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    if suffix == ".xls":
        msg = (
            f"{label} is an old-style Excel .xls workbook, which is not supported; open it "
            f"in a spreadsheet program and save it as .xlsx or .csv"
        )
        raise InputError(msg)
    known = {*_TEXT_EXTENSIONS, *_EXCEL_EXTENSIONS, *_PARQUET_EXTENSIONS, *_JSON_EXTENSIONS}
    if suffix not in known:
        msg = (
            f"{label} has the unsupported extension '{suffix or '(none)'}'; supported: "
            f"{_SUPPORTED}. Rename the file if its extension is wrong"
        )
        raise InputError(msg)
    sample = _read_sample(opener)
    if not sample.strip():
        msg = f"{label} is empty ({len(sample)} bytes); export the register again"
        raise InputError(msg)
    if suffix in _EXCEL_EXTENSIONS:
        return _open_excel(label, source_file, opener, sheet_name, expected)
    if suffix in _PARQUET_EXTENSIONS:
        return _open_parquet(label, source_file, opener)
    _check_not_binary(sample, label, suffix)
    chosen = encoding or _detect_encoding(sample, label)
    if suffix in _JSON_EXTENSIONS:
        table = _Table(
            label=label,
            source_file=source_file,
            kind="json",
            headings=[],
            opener=opener,
            encoding=chosen,
        )
        table.headings = _json_headings(table)
        return table
    text = _decode_sample(sample, chosen, label, explicit=encoding is not None)
    delimiter = _TEXT_EXTENSIONS[suffix] or _sniff_delimiter(text)
    records = _first_records(text, delimiter, label)
    position = _heading_position([cells for _, cells in records], expected)
    skip_lines, headings = records[position]
    headings = [h.strip() or f"Unnamed: {i}" for i, h in enumerate(headings)]
    return _Table(
        label=label,
        source_file=source_file,
        kind="text",
        headings=headings,
        opener=opener,
        encoding=chosen,
        auto_encoding=encoding is None,
        delimiter=delimiter,
        skip_lines=skip_lines,
        ascii_sample=sample.isascii(),
    )


def _first_records(text: str, delimiter: str, label: str) -> list[tuple[int, list[str]]]:
    """Return the first filled records of a text sample, each with the lines before it."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    lines_before = 0
    while len(records) < _HEADING_SEARCH:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if records:  # the sample may end inside a quoted field
                break
            msg = f"{label}: cannot read its heading row ({exc}); check that it is a CSV file"
            raise InputError(msg) from None
        if any(cell.strip() for cell in cells):
            records.append((lines_before, cells))
        lines_before = reader.line_num
    if not records:
        msg = f"{label} holds no heading row (only blank lines); export the register again"
        raise InputError(msg)
    return records


def _is_heading_row(cells: Sequence[str], expected: frozenset[str]) -> bool:
    """Whether a row looks like the heading row of a register (not a title or data)."""
    present = {cell.strip() for cell in cells if cell and cell.strip()}
    if any(sig <= present for sigs in _SIGNATURES.values() for sig in sigs):
        return True
    normalised = {heading_key(cell) for cell in present}
    if expected:
        return expected <= normalised
    has_name = not normalised.isdisjoint(_ALIASES["name"])
    has_postcode = any(n in _ALIASES["postcode"] or n.endswith("postcode") for n in normalised)
    return has_name and has_postcode


def _heading_position(rows: Sequence[Sequence[str]], expected: frozenset[str]) -> int:
    """Which of the first filled rows is the heading row.

    The first one, unless it does not look like a heading row while a later one does:
    then the rows above are a title or notes (or the upper row of a two-row heading), not
    organisations.
    """
    if not rows or _is_heading_row(rows[0], expected):
        return 0
    for position, cells in enumerate(rows[1:_HEADING_SEARCH], start=1):
        if _is_heading_row(cells, expected):
            return position
    return 0


def _check_not_binary(sample: bytes, label: str, suffix: str) -> None:
    for magic, what, right in _MAGIC:
        if sample.startswith(magic):
            fix = f"rename it to {right}" if right else "export it as CSV"
            msg = f"{label} looks like {what}, not a '{suffix}' text file; {fix}"
            raise InputError(msg)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    if b"\x00" in sample[:8192]:
        msg = (
            f"{label} is a binary file, not text (it contains NUL bytes); pass a CSV, "
            f"XLSX, Parquet or JSON export of the register"
        )
        raise InputError(msg)


def _detect_encoding(sample: bytes, label: str) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, or Windows-1252 when it reads as plausible text.

    A file that is not UTF-8 is read as Windows-1252 only if it decodes (five bytes are
    undefined in Windows-1252) and the result looks like Western European text: text in
    a multi-byte encoding (Shift-JIS, GBK, Big5, EUC-KR) decodes into runs of accented
    letters and symbols (``株式会社`` in Shift-JIS reads ``Š”Ž®‰ïŽÐ``), which is refused
    with a message naming the encodings the file does decode in.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    final = len(sample) < _SAMPLE_BYTES
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=final)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8-sig"
    try:
        text = codecs.getincrementaldecoder("cp1252")().decode(sample, final=final)
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1]
        reason = f"byte {shown(byte)} at offset {exc.start:,} is not a Windows-1252 character"
    else:
        garbled = _garbled_runs(text)
        if garbled is None:
            return "cp1252"
        count, total, example = garbled
        reason = (
            f"read as Windows-1252, {count:,} of its {total:,} non-ASCII characters come in "
            f"runs of accented letters and symbols such as {shown(example)}, as text in a "
            f"multi-byte encoding does"
        )
    fits = [name for name, _ in _OTHER_ENCODINGS if _decodes(sample, name, final)]
    if fits:
        named = ", ".join(f"{name!r} ({dict(_OTHER_ENCODINGS)[name]})" for name in fits)
        decodes = f" It decodes without error as {named}."
        example = fits[0]
    else:
        decodes, example = "", "latin-1"
    msg = (
        f"{label} is not UTF-8 text, and not plausibly Windows-1252 either: {reason}."
        f"{decodes} Pass the file's encoding, e.g. encoding={example!r} (single-byte "
        f"encodings such as 'cp1251' for Cyrillic or 'cp1253' for Greek decode any file; "
        f"encoding='cp1252' if it really is Windows-1252 text), or save it again as UTF-8"
    )
    raise InputError(msg)


# Multi-byte encodings a register file may come in, for the message above.
_OTHER_ENCODINGS: Final = (
    ("shift_jis", "Japanese"),
    ("euc_jp", "Japanese"),
    ("gbk", "Chinese, simplified"),
    ("big5", "Chinese, traditional"),
    ("euc_kr", "Korean"),
)


# Windows-1252 punctuation that genuine text puts next to letters or to each other
# (closing quotes after an accented letter, a dash between no-break spaces).
_TYPOGRAPHIC: Final = frozenset("‘’‚“”„–—…«»‹›•·°\xa0")


_NON_ASCII_RUN: Final = re.compile(r"[^\x00-\x7f]{2,}")


def _garbled_runs(text: str) -> tuple[int, int, str] | None:
    """Whether Windows-1252 text looks like mis-decoded multi-byte text.

    Western European text has its accented letters one at a time between ASCII letters
    (``Café``, ``Müller``), at most two together (``Größe``), next to a quote or dash.
    Multi-byte text read as Windows-1252 has runs of three or more non-ASCII characters,
    or pairs that are not both letters. Returns ``(characters in such runs, non-ASCII
    characters, an example run)`` when they are at least 4 and a quarter of the
    non-ASCII characters, else ``None``.
    """
    total = sum(1 for char in text if ord(char) > 0x7F)
    if total < 4:
        return None
    count, example = 0, ""
    for match in _NON_ASCII_RUN.finditer(text):
        run = match.group()
        core = run.strip("".join(_TYPOGRAPHIC))
        if len(core) < 2 or (len(core) == 2 and core.isalpha()):
            continue
        count += len(run)
        if not example:
            start, end = match.span()
            example = text[max(0, start - 10) : end + 10]
    if count >= 4 and count * 4 >= total:
        return count, total, example
    return None


def _decodes(sample: bytes, encoding: str, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _decode_sample(sample: bytes, encoding: str, label: str, *, explicit: bool) -> str:
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        msg = f"unknown encoding {encoding!r} for {label}; use e.g. 'utf-8' or 'cp1252'"
        raise InputError(msg) from None
    try:
        return decoder.decode(sample, final=len(sample) < _SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        how = "the right encoding=" if explicit else "its encoding="
        msg = (
            f"{label} cannot be decoded as {encoding!r} (byte "
            f"{shown(exc.object[exc.start : exc.start + 1])} at offset {exc.start:,}); pass "
            f"{how}, e.g. 'cp1252' for files saved by Excel"
        )
        raise InputError(msg) from None


def _sniff_delimiter(text: str) -> str:
    """Return the delimiter most used on the first line that has any (titles have none)."""
    for line in text.splitlines()[:_HEADING_SEARCH]:
        counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            return best
    return ","


def _open_excel(
    label: str,
    source_file: str,
    opener: Callable[[], IO[bytes]],
    sheet_name: str | int,
    expected: frozenset[str] = frozenset(),
) -> _Table:
    with opener() as handle:
        content = handle.read()
    check_workbook(content, label)
    data = io.BytesIO(content)
    try:
        with pd.ExcelFile(data, engine="openpyxl") as book:
            sheets = list(book.sheet_names)
            if isinstance(sheet_name, str) and sheet_name not in sheets:
                msg = (
                    f"{label} has no sheet named {sheet_name!r}; its sheets are "
                    f"{', '.join(map(repr, sheets))}; pass sheet_name= one of them"
                )
                raise InputError(msg)
            if isinstance(sheet_name, int) and not 0 <= sheet_name < len(sheets):
                msg = (
                    f"{label} has {len(sheets)} sheet(s), so sheet_name={sheet_name} does not "
                    f"exist; its sheets are {', '.join(map(repr, sheets))}"
                )
                raise InputError(msg)
            raw = pd.read_excel(book, sheet_name=sheet_name, header=None, dtype=object)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
        msg = (
            f"{label} cannot be read as an Excel workbook ({shown(exc, limit=200)}); save it "
            f"again as .xlsx"
        )
        raise InputError(msg) from None

    def sheets_summary() -> str:
        return _describe_sheets(io.BytesIO(content), [str(name) for name in sheets], expected)

    filled = raw.notna().any(axis=1).to_numpy(bool)
    if not filled.any():
        msg = f"{label}: sheet {sheet_name!r} is empty. {sheets_summary()}"
        raise InputError(msg)
    # The heading is the first filled row (or, below a title, the first that looks like
    # a heading row); blank rows after the last filled one are not data, blank rows in
    # between are rows (skipped and counted when the rows are read).
    candidates = np.flatnonzero(filled)[:_HEADING_SEARCH]
    rows = [[_cell_text(v) or "" for v in raw.iloc[int(p)]] for p in candidates]
    first = int(candidates[_heading_position(rows, expected)])
    last = len(filled) - int(np.argmax(filled[::-1]))
    headings = [
        (_cell_text(v) or "").strip() or f"Unnamed: {i}" for i, v in enumerate(raw.iloc[first])
    ]
    body = raw.iloc[first + 1 : last].reset_index(drop=True)
    frame = pd.DataFrame(
        {i: body.iloc[:, i].map(_cell_text).astype(_STRING) for i in range(len(headings))}
    )
    typed = pd.DataFrame(
        {i: body.iloc[:, i].map(_is_number_cell).astype(bool) for i in range(len(headings))}
    )
    return _Table(
        label=label,
        source_file=source_file,
        kind="excel",
        headings=headings,
        frame=frame,
        typed=typed,
        sheets=sheets_summary if len(sheets) > 1 else None,
    )


def _is_number_cell(value: Any) -> bool:
    """Whether a workbook cell holds a number (not text that may look like one)."""
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


_SHEET_HEADINGS: Final = 6  # headings shown per sheet


def _describe_sheets(data: io.BytesIO, sheets: Sequence[str], expected: frozenset[str]) -> str:
    """Every sheet of a workbook with its first headings, and which look like a register."""
    if len(sheets) == 1:
        return "It is the workbook's only sheet: export the register again with its rows"
    try:
        firsts = pd.read_excel(
            data, sheet_name=None, header=None, dtype=object, nrows=_HEADING_SEARCH + 1
        )
    except Exception:  # pragma: no cover - the workbook was read once already
        return f"its sheets are {', '.join(map(shown, sheets))}"
    parts: list[str] = []
    registers: list[str] = []
    for position, name in enumerate(sheets):
        raw = firsts.get(name)
        filled: np.ndarray = (
            np.array([], dtype=int)
            if raw is None
            else np.flatnonzero(raw.notna().any(axis=1).to_numpy(bool))
        )
        if not len(filled):
            parts.append(f"{position} {shown(name)} (empty)")
            continue
        assert raw is not None
        rows = [[_cell_text(v) or "" for v in raw.iloc[int(p)]] for p in filled]
        at = _heading_position(rows, expected)
        headings = [h.strip() for h in rows[at] if h.strip()]
        listed = ", ".join(shown(h) for h in headings[:_SHEET_HEADINGS])
        more = f", … {len(headings)} in all" if len(headings) > _SHEET_HEADINGS else ""
        looks = _is_heading_row(rows[at], expected)
        if looks:
            registers.append(name)
        parts.append(
            f"{position} {shown(name)} (headings {listed}{more}"
            f"{'; looks like a register' if looks else ''})"
        )
    text = f"The workbook has {len(sheets)} sheet(s): {'; '.join(parts)}"
    if registers:
        text += f". Pick one with sheet_name=, e.g. sheet_name={registers[0]!r}"
    else:
        text += ". Pick one with sheet_name= (its name or 0-based position)"
    return text


def _open_parquet(label: str, source_file: str, opener: Callable[[], IO[bytes]]) -> _Table:
    with opener() as handle:
        data = io.BytesIO(handle.read())
    try:
        frame = pd.read_parquet(data)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        msg = f"{label} cannot be read as Parquet ({exc}); write it again as Parquet or CSV"
        raise InputError(msg) from None
    # A named index (written by ``frame.set_index("id").to_parquet(...)``) is data.
    named = [n for n in frame.index.names if n is not None and n not in frame.columns]
    if named:
        frame = frame.reset_index(level=named)
    headings = [str(c).strip() for c in frame.columns]
    frame = frame.reset_index(drop=True)
    frame.columns = range(len(headings))
    return _Table(
        label=label,
        source_file=source_file,
        kind="parquet",
        headings=headings,
        frame=frame,
    )


_JSON_GAP: Final = re.compile(r"[\s,]*")


def _iter_json_records(table: _Table) -> Iterator[dict[str, Any]]:
    """Stream the objects of a JSON array (or JSON lines) without loading it whole."""
    assert table.opener is not None
    decoder = json.JSONDecoder()
    with table.opener() as raw:
        stream = io.TextIOWrapper(raw, encoding=table.encoding or "utf-8-sig", newline="")
        buffer, pos, offset, eof, opened = "", 0, 0, False, False
        while True:
            pos = _JSON_GAP.match(buffer, pos).end()  # type: ignore[union-attr]
            if pos >= len(buffer):
                if eof:
                    return
                chunk = _read_text(stream, table)
                eof = not chunk
                offset += pos
                buffer, pos = buffer[pos:] + chunk, 0
                continue
            char = buffer[pos]
            if char == "[" and not opened:
                opened, pos = True, pos + 1
                continue
            if char == "]" and opened:
                return
            if char != "{":
                msg = (
                    f"{table.label}: expected a JSON array of objects (one per organisation), "
                    f"found {char!r} at character {offset + pos}; export the register as a "
                    f"JSON array of records"
                )
                raise InputError(msg)
            try:
                record, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if not eof:
                    chunk = _read_text(stream, table)
                    eof = not chunk
                    offset += pos
                    buffer, pos = buffer[pos:] + chunk, 0
                    continue
                msg = (
                    f"{table.label} is not valid JSON near character {offset + exc.pos}: "
                    f"{exc.msg}; download or export the file again"
                )
                raise InputError(msg) from None
            yield record
            pos = end


def _read_text(stream: io.TextIOWrapper, table: _Table) -> str:
    try:
        return stream.read(_SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        msg = (
            f"{table.label} cannot be decoded as {table.encoding!r} ({exc.reason}); pass the "
            f"right encoding="
        )
        raise InputError(msg) from None


def _json_headings(table: _Table) -> list[str]:
    for record in _iter_json_records(table):
        return [str(key).strip() for key in record]
    msg = f"{table.label} holds no records (an empty JSON array); export the register again"
    raise InputError(msg)


_RowFilter = Callable[[pd.DataFrame], list[tuple[str, pd.Series]]]

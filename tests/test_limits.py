"""Resource limits of the register readers: hostile files refused in bounded memory and time.

Each hostile file is read in a fresh subprocess, which reports its peak resident memory
(the address space's high-water mark ``VmHWM`` on Linux, else ``resource.getrusage``,
whose ``ru_maxrss`` on Linux carries the parent's peak across ``exec``) and the error;
the bound is on the growth over the same process reading a small valid register.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

import socecon_geo as sg
from socecon_geo.registers import _limits

MEMORY_BOUND_MB = 150  # over reading a valid two-row register in the same way
TIME_BOUND_S = 30

_READ = r"""
import json, resource, sys, time
import socecon_geo as sg
started = time.perf_counter()
try:
    sg.read_organisations(sys.argv[1])
    error = None
except sg.InputError as exc:
    error = str(exc)
# ru_maxrss survives execve (it would report the parent's peak if larger); the high-water
# mark of this address space, VmHWM, starts at the exec, so it is read where Linux has it
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
except (OSError, StopIteration):
    pass
print(json.dumps({"error": error, "seconds": time.perf_counter() - started, "peak_mb": peak}))
"""


def _read_in_subprocess(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _READ, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _workbook(cells: dict[str, str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "postcode"])
    sheet.append(["A", "B1 1AA"])
    for ref, value in (cells or {}).items():
        sheet[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(content: bytes, part: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return out.getvalue()


def _dimension(ref: str):
    return lambda xml: re.sub(
        rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), xml
    )


_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
    + b"]>"
)


def _entity_bomb(xml: bytes) -> bytes:
    return _LAUGHS + xml.replace(b"<t>A</t>", b"<t>&lol9;</t>")


def _hostile(kind: str, folder: Path) -> Path:
    if kind == "zip bomb":
        path = folder / "bomb.zip"
        with (
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("register.csv", "w") as member,
        ):
            member.write(b"name,postcode\nA,B1 1AA\n")
            block = b"0" * (1 << 20)
            for _ in range(300):  # 300 MiB of one byte: about 300 KB compressed
                member.write(block)
        return path
    if kind == "long line":
        path = folder / "long.csv"
        with path.open("wb") as handle:
            handle.write(b"name,postcode\nA,B1 1AA\n")
            block = b"x" * (1 << 20)
            for _ in range(300):  # one line of 300 MiB
                handle.write(block)
        return path
    path = folder / f"{kind.replace(' ', '_')}.xlsx"
    sheet = "xl/worksheets/sheet1.xml"
    if kind == "huge dimension":
        path.write_bytes(_rewrite(_workbook(), sheet, _dimension("A1:XFD1048576")))
    elif kind == "far cell":  # a small declared dimension, a value at the last cell
        path.write_bytes(_rewrite(_workbook({"XFD1048576": "x"}), sheet, _dimension("A1:B2")))
    elif kind == "entity bomb":
        path.write_bytes(_rewrite(_workbook(), sheet, _entity_bomb))
    else:  # pragma: no cover
        raise AssertionError(kind)
    return path


_EXPECTED = {
    "zip bomb": r"'register\.csv' expands to 300 MiB from [\d,]+ compressed bytes, more than 200",
    "long line": r"has a line longer than 16 MiB without a line break",
    "huge dimension": r"declares a dimension of 1,048,576 rows x 16,384 columns",
    "far cell": r"has values across 1,048,576 rows x 16,384 columns",
    "entity bomb": r"declares a document type",
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("valid")
    csv = folder / "valid.csv"
    csv.write_text("name,postcode\nA,B1 1AA\n")
    book = folder / "valid.xlsx"
    book.write_bytes(_workbook())
    return {"csv": _read_in_subprocess(csv), "xlsx": _read_in_subprocess(book)}


@pytest.mark.parametrize("kind", list(_EXPECTED))
def test_a_hostile_register_is_refused_in_bounded_memory_and_time(
    kind: str, tmp_path: Path, baseline: dict
) -> None:
    path = _hostile(kind, tmp_path)
    started = time.perf_counter()
    outcome = _read_in_subprocess(path)
    assert time.perf_counter() - started < TIME_BOUND_S
    assert outcome["error"] is not None, f"{kind} was read"
    assert re.search(_EXPECTED[kind], outcome["error"]), outcome["error"]
    assert "\n" not in outcome["error"]
    base = baseline["xlsx" if path.suffix == ".xlsx" else "csv"]
    grew = outcome["peak_mb"] - base["peak_mb"]
    print(f"{kind}: peak {outcome['peak_mb']:.0f} MB (+{grew:.0f} MB), {outcome['seconds']:.2f} s")
    assert grew < MEMORY_BOUND_MB, (kind, outcome, base)
    assert outcome["seconds"] < TIME_BOUND_S


def test_a_zip_member_whose_header_lies_is_stopped_while_streaming() -> None:
    """A member declaring a small size is counted as it expands, not trusted."""

    class Zeros(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    info = zipfile.ZipInfo("register.csv")
    info.file_size, info.compress_size = 10, 1000  # what the header claims
    opener = _limits.guarded(Zeros, "file 'x.zip'", info=info)

    def read_all() -> None:
        with opener() as stream:
            while stream.read(1 << 20):
                pass

    with pytest.raises(sg.InputError, match=r"more than 200 times.*after reading"):
        read_all()


def test_a_damaged_zip_member_is_one_input_error(tmp_path: Path) -> None:
    path = tmp_path / "register.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("register.csv", "name,postcode\n" + "A,B1 1AA\n" * 2000)
    data = bytearray(path.read_bytes())
    start = data.index(b"A,B1 1AA")
    data[start + 5000 : start + 5010] = b"##########"  # the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(sg.InputError, match=r"damaged ZIP member.*Bad CRC"):
        sg.read_organisations(path)


def test_valid_files_under_the_limits_still_read(tmp_path: Path) -> None:
    path = tmp_path / "register.zip"
    rows = "".join(f"Org {i},B1 1AA\n" for i in range(5000))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("register.csv", "name,postcode\n" + rows)
    assert len(sg.read_organisations(path)) == 5000
    book = tmp_path / "register.xlsx"
    book.write_bytes(_workbook({"C1": "sector", "C2": "retail"}))
    assert sg.read_organisations(book)["name"].tolist() == ["A"]

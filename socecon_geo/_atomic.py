"""Writing files whole or not at all.

Every file the package writes goes through :func:`write_atomic`: the content is written
to a temporary file beside the target and renamed over it, so a reader (or a run killed
half-way) sees either the previous complete file or the new one, never part of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from socecon_geo._errors import InputError

__all__ = ["write_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, suffix: str = ".tmp"
) -> Path:
    """Write a file through a temporary file in the same folder, then rename it.

    Parameters
    ----------
    path : path
        The file to write; its folder must exist.
    write : callable
        Called with the temporary file's path; writes the whole content there.
    suffix : str, default ".tmp"
        The temporary file's extension (a GeoPackage wants ``.gpkg``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        If the folder does not exist or ``path`` is a folder.
    """
    target = Path(path)
    if not target.parent.is_dir():
        msg = f"Cannot write {target}: the folder {target.parent} does not exist; create it."
        raise InputError(msg)
    if target.is_dir():
        msg = f"Cannot write {target}: it is a folder; name a file."
        raise InputError(msg)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix, dir=target.parent
    )
    os.close(handle)
    try:
        write(Path(temporary))
        # mkstemp makes the file private (0600); give it the mode open() would have
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target

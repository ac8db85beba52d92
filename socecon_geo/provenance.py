"""Provenance records: where every dataset came from, and the credit its licence asks for.

Every table and layer socecon_geo reads, loads or derives carries a tuple of
:class:`Provenance` records in ``frame.attrs["provenance"]`` (stored there as plain
dictionaries, so that frames still write to Parquet and pickle), and every step adds the
records of what it used. Maps and reports read them back with :func:`get_provenance` to
credit each source and to say which vintage of it was used.

Examples
--------
>>> import pandas as pd
>>> from socecon_geo.provenance import Provenance, get_provenance, with_provenance
>>> iod = Provenance(
...     name="iod2025",
...     title="English Indices of Deprivation 2025",
...     publisher="Ministry of Housing, Communities and Local Government",
...     vintage="IoD2025 (LSOA 2021)",
...     licence="Open Government Licence v3.0",
...     attribution="Ministry of Housing, Communities and Local Government, English "
...     "Indices of Deprivation 2025, Open Government Licence v3.0",
... )
>>> table = with_provenance(pd.DataFrame({"x": [1]}), iod)
>>> [record.name for record in get_provenance(table)]
['iod2025']
>>> table.attrs["provenance"][0]["vintage"]
'IoD2025 (LSOA 2021)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

import pandas as pd

from socecon_geo._errors import InputError

__all__ = [
    "PROVENANCE_KEY",
    "Provenance",
    "attribution_lines",
    "combine_provenance",
    "get_provenance",
    "with_provenance",
]

FrameT = TypeVar("FrameT", pd.DataFrame, pd.Series)

PROVENANCE_KEY = "provenance"
"""The ``attrs`` key under which frames carry their provenance records."""


@dataclass(frozen=True)
class Provenance:
    """Where one dataset came from, which edition it is, and how to credit it.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"iod2025"`` or ``"wards_2025_bgc"``.
    title : str
        What the dataset is, in words.
    publisher : str
        Who publishes it, e.g. ``"Office for National Statistics"``.
    vintage : str
        The edition or reference date, e.g. ``"December 2021"`` or ``"IoD2025"``.
    licence : str
        The licence it is used under.
    attribution : str
        The line its licence asks to be shown wherever it is used.
    url : str or None
        Where the official file or service is published.
    source : str or None
        Where this copy came from: ``"bundled"``, a path, a cache file or a URL.
    """

    name: str
    title: str
    publisher: str
    vintage: str
    licence: str
    attribution: str
    url: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Return the record as a plain dictionary (what ``attrs`` stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Provenance:
        """Build a record from a dictionary, ignoring keys it does not know.

        Raises
        ------
        InputError
            If a required field (``name``, ``title``, ``publisher``, ``vintage``,
            ``licence``, ``attribution``) is missing.
        """
        known = {f.name for f in fields(cls)}
        required = [f.name for f in fields(cls) if f.default is not None]
        missing = [key for key in required if not record.get(key)]
        if missing:
            msg = (
                f"A provenance record lacks {', '.join(missing)}; it has "
                f"{', '.join(map(str, record)) or 'no fields'}."
            )
            raise InputError(msg)
        return cls(**{key: record[key] for key in known if key in record})

    def replace_source(self, source: str | None) -> Provenance:
        """Return a copy of the record saying where this copy came from."""
        return Provenance(**{**asdict(self), "source": source})


def _records(item: Any) -> tuple[Provenance, ...]:
    if isinstance(item, Provenance):
        return (item,)
    if isinstance(item, pd.DataFrame | pd.Series):
        return get_provenance(item)
    if isinstance(item, Mapping):
        return (Provenance.from_dict(item),)
    if isinstance(item, Iterable) and not isinstance(item, str | bytes):
        return tuple(record for part in item for record in _records(part))
    msg = f"Expected a Provenance record, a frame or a list of them; got {type(item).__name__}."
    raise InputError(msg)


def get_provenance(frame: pd.DataFrame | pd.Series) -> tuple[Provenance, ...]:
    """Return the provenance records a frame carries (empty when it has none).

    Parameters
    ----------
    frame : pandas.DataFrame, GeoDataFrame or Series
        Anything socecon_geo returned.

    Returns
    -------
    tuple of Provenance
    """
    stored = frame.attrs.get(PROVENANCE_KEY) or ()
    if isinstance(stored, Mapping):  # a single record
        stored = (stored,)
    return tuple(
        record if isinstance(record, Provenance) else Provenance.from_dict(record)
        for record in stored
    )


def combine_provenance(*items: Any) -> tuple[Provenance, ...]:
    """Collect the records of several frames or records, each once, in order.

    Parameters
    ----------
    *items : Provenance, mapping, frame, or iterables of them
        Records, or frames whose records to take.

    Returns
    -------
    tuple of Provenance
        Every distinct record, first occurrence first.
    """
    seen: dict[Provenance, None] = {}
    for item in items:
        if item is None:
            continue
        for record in _records(item):
            seen.setdefault(record, None)
    return tuple(seen)


def with_provenance(frame: FrameT, *items: Any) -> FrameT:
    """Add provenance records to a frame the caller owns, in place, and return it.

    The frame's existing records are kept; each record appears once.

    Parameters
    ----------
    frame : pandas.DataFrame, GeoDataFrame or Series
        A frame the calling function created (never the user's own object).
    *items : Provenance, mapping, frame, or iterables of them
        Records to add, or frames whose records to add.

    Returns
    -------
    The same frame.
    """
    records = combine_provenance(get_provenance(frame), *items)
    frame.attrs[PROVENANCE_KEY] = [record.to_dict() for record in records]
    return frame


def attribution_lines(*items: Any) -> list[str]:
    """Return the distinct attribution lines of frames or records, in order.

    Parameters
    ----------
    *items : Provenance, mapping, frame, or iterables of them

    Returns
    -------
    list of str
    """
    lines: dict[str, None] = {}
    for record in combine_provenance(*items):
        lines.setdefault(record.attribution, None)
    return list(lines)

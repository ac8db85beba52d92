"""What the growth steps share: checking their frames, reading dates, finding areas.

Private to socecon_geo (used by :mod:`socecon_geo.growth` and :mod:`socecon_geo.snapshots`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from socecon_geo._errors import InputError
from socecon_geo.areas import _LEVELS
from socecon_geo.geography import Geography, resolve_geography

__all__ = ["Areas", "check_frame", "dates", "repeats", "resolve_areas"]


def check_frame(frame: Any, what: str, needed: Iterable[str], fix: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        msg = f"{what} must be a DataFrame of organisations, not {type(frame).__name__}."
        raise InputError(msg)
    if len(frame) == 0:
        msg = f"{what} is empty: there are no organisations. Check the register was read."
        raise InputError(msg)
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        msg = (
            f"{what} has no {', '.join(map(repr, missing))} column"
            f"{'s' if len(missing) > 1 else ''}: {fix}"
        )
        raise InputError(msg)


def _row_label(frame: pd.DataFrame, position: int) -> str:
    if "source_row" in frame.columns and pd.notna(frame["source_row"].iloc[position]):
        label = f"source_row {frame['source_row'].iloc[position]}"
        if "source_file" in frame.columns and pd.notna(frame["source_file"].iloc[position]):
            label += f" of {frame['source_file'].iloc[position]}"
        return label
    return f"row {frame.index[position]!r}"


def dates(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    """Return the column as datetime64[ns] (positional index); text is ISO or D/M/YYYY."""
    values = frame[column].reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
    dmy = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(dmy)
    bad = np.flatnonzero((text.notna() & parsed.isna()).to_numpy(dtype=bool))
    if len(bad):
        examples = "; ".join(f"{_row_label(frame, i)}: {text.iloc[i]!r}" for i in bad[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        msg = (
            f"{what}: {len(bad)} value{'s' if len(bad) > 1 else ''} of {column!r} cannot be "
            f"read as a date — {examples}{more}. Give dates as YYYY-MM-DD or D/M/YYYY, or "
            "leave the cell empty when the date is not known."
        )
        raise InputError(msg)
    return parsed.astype("datetime64[ns]")


def repeats(frame: pd.DataFrame) -> np.ndarray:
    """Mark rows repeating an earlier row (``duplicate_of`` set, or a repeated org_id)."""
    repeat = np.zeros(len(frame), dtype=bool)
    if "duplicate_of" in frame.columns:
        repeat |= frame["duplicate_of"].notna().to_numpy(dtype=bool)
    if "org_id" in frame.columns:
        ids = frame["org_id"].reset_index(drop=True)
        repeat |= (ids.notna() & ids.duplicated()).to_numpy(dtype=bool)
    return repeat


@dataclass(frozen=True)
class Areas:
    """The areas of a table: code and name columns, codes and names in layer order."""

    level: str | None
    code_column: str | None
    name_column: str | None
    codes: pd.Index
    names: list[Any]

    def positions(self, frame: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
        """Each row's area position (-1: none) and whether it had a code at all."""
        if self.code_column is None:
            return np.zeros(len(frame), dtype=np.int64), np.ones(len(frame), dtype=bool)
        if self.code_column not in frame.columns:
            msg = (
                f"{what} has no {self.code_column!r} column for level={self.level!r}: give "
                "the organisations their areas first with "
                "socecon_geo.assign_areas(socecon_geo.geocode(organisations)), or pass "
                "level=None for one total over every row."
            )
            raise InputError(msg)
        codes = frame[self.code_column].astype("string").str.strip().reset_index(drop=True)
        has = (codes.notna() & (codes != "")).to_numpy(dtype=bool)
        found = self.codes.get_indexer(pd.Index(codes.fillna("").to_numpy(dtype=object)))
        return np.where(has, found, -1).astype(np.int64), has

    def columns(self) -> dict[str, Any]:
        if self.code_column is None:
            return {}
        out: dict[str, Any] = {self.code_column: pd.array(list(self.codes), dtype="string")}
        if self.name_column is not None:
            out[self.name_column] = pd.array(self.names, dtype="string")
        return out


def resolve_areas(level: str | None, geography: Geography | None) -> tuple[Areas, Any]:
    if level is None:
        return Areas(None, None, None, pd.Index(["all"]), ["all"]), None
    if level not in _LEVELS:
        msg = (
            f"level must be one of {', '.join(map(repr, _LEVELS))} or None (one total over "
            f"every row); got {level!r}."
        )
        raise InputError(msg)
    geo = resolve_geography(geography)
    if not geo.has_layer(level):
        msg = (
            f"The geography {geo.name!r} has no {level!r} layer (it has "
            f"{', '.join(geo.levels) or 'none'}); pass another level or geography."
        )
        raise InputError(msg)
    layer = geo.layer(level)
    code_column, name_column = _LEVELS[level]
    codes = pd.Index(layer[code_column].astype("string").str.strip().to_numpy(dtype=object))
    names = list(layer[name_column]) if name_column in layer.columns else [pd.NA] * len(codes)
    return Areas(level, code_column, name_column, codes, names), layer

"""One heading normaliser and the ONS spellings of the standard area columns.

Private to socecon_geo. Every reader recognises headings through these functions:

* :func:`normalise_heading` lower-cases a heading and keeps only its words and numbers,
  single-spaced (``"LSOA code (2011)"`` → ``"lsoa code 2011"``); the IoD reader matches
  its long official headings on this form.
* :func:`heading_key` is the same without the spaces (``"lsoacode2011"``). Area codes and
  names, and the register readers' column aliases, are matched on it, so ``LSOA21CD``,
  ``lsoa21_code`` and ``LSOA 21 code`` are one heading.
* :data:`AREA_HEADINGS` lists, for each standard area column (``lsoa21_code``,
  ``ward_code``, ``lad_code``, ``change_code``, ...), the official ONS spellings it stands
  for; :func:`find_area_columns` picks the column of each, newest vintage first, and
  :func:`standardise_columns` copies them under the standard names.

Examples
--------
>>> normalise_heading("LSOA code (2011)")
'lsoa code 2011'
>>> heading_key("Lower Layer Super Output Areas Code")
'lowerlayersuperoutputareascode'
>>> find_area_columns(["WD22CD", "WD24CD", "LAD24NM", "CHGIND"])
{'ward_code': ('WD24CD', 2024), 'lad_name': ('LAD24NM', 2024), 'change_code': ('CHGIND', None)}
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

import pandas as pd

__all__ = [
    "AREA_HEADINGS",
    "find_area_columns",
    "heading_key",
    "normalise_heading",
    "standardise_columns",
]


def normalise_heading(heading: object) -> str:
    """Lower-case a heading and keep only words and numbers, single-spaced.

    ``&`` reads as ``and``; a byte-order mark and compatibility characters (full-width
    letters, ligatures) are normalised away.
    """
    text = unicodedata.normalize("NFKC", str(heading)).replace("\ufeff", "")
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return text.strip()


def heading_key(heading: object) -> str:
    """Return :func:`normalise_heading` without spaces: lower-case letters and digits only."""
    return normalise_heading(heading).replace(" ", "")


def _patterns(*alternatives: str) -> re.Pattern[str]:
    return re.compile("^(?:" + "|".join(alternatives) + ")$")


# Standard column -> official spellings, matched on heading_key(heading). A group, where
# there is one, captures the vintage year (two or four digits), so the newest of several
# columns of one kind (WD22CD and WD24CD) is chosen.
AREA_HEADINGS: Final[dict[str, re.Pattern[str]]] = {
    "lsoa21_code": _patterns(
        r"lsoa(21)(?:cd|code)?",  # bare "lsoa21" is the ONS Postcode Directory's field
        r"lsoa(?:code)?(2021)(?:code)?",
        r"lowerlayersuperoutputareas(2021)?code",
    ),
    "lsoa21_name": _patterns(r"lsoa(21)(?:nm|name)", r"lsoa(?:name)?(2021)(?:name)?"),
    "lsoa11_code": _patterns(r"lsoa(11)(?:cd|code)?", r"lsoa(?:code)?(2011)(?:code)?"),
    "lsoa11_name": _patterns(r"lsoa(11)(?:nm|name)", r"lsoa(?:name)?(2011)(?:name)?"),
    # an LSOA of any (or no stated) vintage: "LSOA code (2001)", "lsoa_code"
    "lsoa_code": _patterns(r"lsoa(?:code)?((?:19|20)\d\d)(?:code)?", r"lsoa(?:cd|code)"),
    "lsoa_name": _patterns(r"lsoa(?:name)?((?:19|20)\d\d)(?:name)?", r"lsoa(?:nm|name)"),
    "msoa21_code": _patterns(r"msoa(21)(?:cd|code)", r"msoa(?:code)?(2021)(?:code)?"),
    "msoa21_name": _patterns(r"msoa(21)(?:nm|name)", r"msoa(?:name)?(2021)(?:name)?"),
    "ward_code": _patterns(r"(?:wd|ward)(\d{2})?(?:cd|code)", r"wardcode(\d{4})", r"osward"),
    "ward_name": _patterns(r"(?:wd|ward)(\d{2})?(?:nm|name)", r"wardname(\d{4})"),
    "lad_code": _patterns(
        r"(?:lad|ltla)(\d{2})?(?:cd|code)",
        r"localauthoritydistrictcode(\d{4})?",
        r"(?:os)?laua",  # the ONS Postcode Directory's field
    ),
    "lad_name": _patterns(
        r"(?:lad|ltla)(\d{2})?(?:nm|name)", r"localauthoritydistrictname(\d{4})?"
    ),
    "change_code": _patterns(r"changecode", r"chn?gind", r"change(?:ind|indicator)?"),
}
"""The ONS spellings of each standard area column (see :func:`find_area_columns`)."""


def find_area_columns(
    columns: Iterable[object], targets: Iterable[str] | None = None
) -> dict[str, tuple[str, int | None]]:
    """Find the column that stands for each standard area column.

    Parameters
    ----------
    columns : iterable
        The headings of a table.
    targets : iterable of str, optional
        The standard columns wanted (keys of :data:`AREA_HEADINGS`); all by default.

    Returns
    -------
    dict
        Standard column → (heading, vintage year or None), in the order of
        :data:`AREA_HEADINGS`. A heading that already is the standard name wins;
        otherwise the newest vintage, then the first heading.
    """
    wanted = list(AREA_HEADINGS) if targets is None else list(targets)
    best: dict[str, tuple[str, int | None, int]] = {}
    for column in columns:
        name = str(column)
        key = heading_key(name)
        for standard in wanted:
            if name == standard:
                rank, year = 10_000, None
            else:
                match = AREA_HEADINGS[standard].match(key)
                if not match:
                    continue
                digits = next((group for group in match.groups() if group), None)
                year = (2000 + int(digits) if len(digits) == 2 else int(digits)) if digits else None
                rank = year or 0
            if standard not in best or rank > best[standard][2]:
                best[standard] = (name, year, rank)
            break
    return {s: (best[s][0], best[s][1]) for s in AREA_HEADINGS if s in best}


def standardise_columns(frame: pd.DataFrame, targets: Iterable[str]) -> pd.DataFrame:
    """Return ``frame`` with the standard columns added as copies of official ones.

    A standard column already present is left alone; otherwise the column
    :func:`find_area_columns` picks (``WD24CD`` before ``WD22CD``) is copied under the
    standard name. ``frame`` itself is never changed.

    Examples
    --------
    >>> frame = pd.DataFrame({"LSOA21CD": ["E01000001"], "WD24CD": ["E05000001"]})
    >>> list(standardise_columns(frame, ["lsoa21_code", "ward_code", "lad_code"]).columns)
    ['LSOA21CD', 'WD24CD', 'lsoa21_code', 'ward_code']
    """
    wanted = [t for t in targets if t not in frame.columns]
    found = find_area_columns(frame.columns, wanted)
    if not found:
        return frame
    out = frame.copy()
    for standard, (column, _) in found.items():
        out[standard] = frame[column]
    return out

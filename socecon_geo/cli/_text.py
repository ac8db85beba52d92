"""What the commands print: reading lines, the geocoding report, status legends.

Rows are named by the file's own numbering (``source_row``: the 1-based data row below
the heading), never by a position in a frame, and every status word printed is
explained with the words of :data:`socecon_geo._schema.STATUS_MEANINGS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from socecon_geo._schema import STATUS_MEANINGS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["counts_line", "geocoding_text", "legend", "reading_line"]

REGISTER_TITLES: Final = {
    "coopsuk": "Co-operatives UK open data",
    "ccew": "a Charity Commission register extract",
    "companies_house": "Companies House basic company data",
    "generic": "a register of your own (headings recognised by name)",
    "sample": "synthetic sample organisations",
}

# filtered_out key of read_organisations -> what the rows are, and how to keep them
SET_ASIDE: Final = {
    "removed": "removed charities (--include-removed keeps them)",
    "linked": "linked charities (--include-linked keeps them)",
    "category": (
        "companies of other categories (--company-category chooses, --all-categories keeps all)"
    ),
    "status": "companies not Active (drop --active-only to keep them)",
    "blank": "wholly blank rows",
}


def _default_filters(register: str, options: Mapping[str, Any]) -> list[str]:
    """Return the filters a register applies with these options (each reported, zeros too)."""
    keys: list[str] = []
    if register == "ccew":
        keys += [] if options.get("include_removed") else ["removed"]
        keys += [] if options.get("include_linked") else ["linked"]
    if register == "companies_house":
        if options.get("company_categories", ()) is not None:
            keys.append("category")
        if options.get("active_only"):
            keys.append("status")
    return keys


def reading_line(orgs: pd.DataFrame, path: str, options: Mapping[str, Any]) -> str:
    """Say what was read from one file and how many rows each filter set aside.

    Examples
    --------
    >>> import pandas as pd
    >>> orgs = pd.DataFrame({"name": ["a", "b"]})
    >>> orgs.attrs = {"register": "ccew", "rows_read": 5,
    ...               "filtered_out": {"removed": 2, "blank": 1}}
    >>> print(reading_line(orgs, "charities.csv", {}))
    charities.csv: 5 rows read as a Charity Commission register extract, 2 kept;
    set aside: 2 removed charities (--include-removed keeps them), 0 linked charities
    (--include-linked keeps them), 1 wholly blank rows
    """
    attrs = orgs.attrs
    register = str(attrs.get("register", "generic"))
    filtered = {str(k): int(v) for k, v in dict(attrs.get("filtered_out", {})).items()}
    read = int(attrs.get("rows_read", len(orgs)))
    title = REGISTER_TITLES.get(register, register)
    line = f"{Path(path).name}: {read:,} rows read as {title}, {len(orgs):,} kept"
    keys = _default_filters(register, options)
    keys += [k for k, n in filtered.items() if n and k not in keys]
    if keys:
        parts = [f"{filtered.get(k, 0):,} {SET_ASIDE.get(k, k)}" for k in keys]
        line += "; set aside: " + ", ".join(parts)
    return line


def legend(column: str, statuses: Iterable[str]) -> str:
    """One line explaining each status of a column that is printed.

    Examples
    --------
    >>> print(legend("area_status", ["assigned", "no_location"]))
      assigned = every area level has a code; no_location = no point and no postcode
      codes: nothing to place
    """
    meanings = STATUS_MEANINGS.get(column, {})
    parts = [f"{s} = {meanings[s]}" for s in dict.fromkeys(statuses) if s in meanings]
    return "  " + "; ".join(parts)


def counts_line(label: str, column: str, values: pd.Series) -> list[str]:
    """``label: status n, ...`` (statuses that occur, most first) and its legend line."""
    counts = values.astype("string").value_counts()
    counts = counts[counts > 0]
    line = f"{label}: " + ", ".join(f"{k} {int(v):,}" for k, v in counts.items())
    return [line, legend(column, [str(k) for k in counts.index])]


def _row_name(points: pd.DataFrame, position: int, several_files: bool) -> str:
    """Return the file's own row number of a row (and its file when several were read)."""
    import pandas as pd

    row = points["source_row"].iloc[position] if "source_row" in points else pd.NA
    number = "?" if row is pd.NA or row != row else f"{int(row)}"
    if several_files and "source_file" in points:
        source = points["source_file"].iloc[position]
        if isinstance(source, str) and source:
            return f"{source}:{number}"
    return number


def geocoding_text(points: pd.DataFrame, report: Any) -> str:
    """Return the geocoding report with the file's row numbers and each status explained."""
    import pandas as pd

    from socecon_geo.cli._errors import cli_words

    meanings = STATUS_MEANINGS["geocode_status"]
    lines = [f"Geocoding report: {report.total:,} rows, {report.located:,} located"]
    for status, row in report.summary.iterrows():
        lines.append(
            f"  {status:<17} {int(row['rows']):>9,}  {row['share']:7.1%}  {meanings[str(status)]}"
        )
    several = "source_file" in points and points["source_file"].nunique() > 1
    if len(report.examples):
        lines.append("Examples (row = the file's data row, 1 = the row below the headings):")
        for _, example in report.examples.iterrows():
            raw = example["postcode"]
            missing = raw is None or raw is pd.NA or (isinstance(raw, float) and raw != raw)
            shown = "(none)" if missing else repr(raw)
            name = _row_name(points, int(example["position"]), several)
            lines.append(f"  {example['geocode_status']:<17} row {name:<8} postcode {shown}")
    lines.extend(f"Note: {cli_words(note)}" for note in report.notes)
    return "\n".join(lines)

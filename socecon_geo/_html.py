r"""Text from input data made safe for HTML and for spreadsheets.

Every string that reaches a page (a table cell, a caption, a map popup or tooltip) goes
through :func:`escape_text`, and every string written to a CSV file meant for a
spreadsheet through :func:`neutralise_csv_text`. Names are shown as written, never
executed: ``<script>`` is shown as text, a ``javascript:`` address is never a link, and
``=HYPERLINK(...)`` is never a formula.

Examples
--------
>>> from socecon_geo._html import escape_text, neutralise_csv_text
>>> escape_text('St John\'s <Trust> & "Friends"')
'St John&#x27;s &lt;Trust&gt; &amp; &quot;Friends&quot;'
>>> neutralise_csv_text('=HYPERLINK("http://example.com")')
'\'=HYPERLINK("http://example.com")'
>>> neutralise_csv_text("-3")
"'-3"
>>> neutralise_csv_text("Balsall Heath West")
'Balsall Heath West'
"""

from __future__ import annotations

import html
import math
import re
from typing import Final

import pandas as pd

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "escape_markdown",
    "escape_text",
    "neutralise_csv_text",
    "neutralise_frame",
    "single_line",
]

CSV_FORMULA_PREFIXES: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""

_LINE_BREAKS: Final = re.compile(r"[\r\n\u2028\u2029]+")
_MARKDOWN_INLINE: Final = re.compile(r"([\\`*_\[\]|~])")
_MARKDOWN_LEADING: Final = re.compile(r"^(\s*)([#+\-=])")
_MARKDOWN_ORDERED: Final = re.compile(r"^(\s*\d+)([.)])")


def escape_text(value: object, *, missing: str = "") -> str:
    """Return a value as HTML text: ``&``, ``<``, ``>``, ``"`` and ``'`` escaped.

    Parameters
    ----------
    value : object
        Anything; ``None``, ``NaN`` and ``pd.NA`` give ``missing``.
    missing : str
        What to show for a missing value (already HTML, not escaped).

    Returns
    -------
    str
        Safe as element text and as a quoted attribute value. Backslashes, backticks,
        template syntax and non-Latin characters are left as they are: they mean nothing
        to HTML outside a script, and no text from data is ever put in a script.
    """
    if _is_missing(value):
        return missing
    return html.escape(str(value), quote=True)


def escape_markdown(value: object, *, missing: str = "", line_start: bool = True) -> str:
    r"""Return a value as Markdown text that renders as written and runs nothing.

    ``&``, ``<`` and ``>`` become entities, so ``<script>`` shows as text in a viewer that
    passes HTML through; the characters that mark up text anywhere in a line (``\ ` *
    _ [ ] | ~``) are backslash-escaped, so a name never becomes a link, an image,
    emphasis, code or a table cell border; a leading ``#``, ``+``, ``-``, ``=`` or
    ``1.`` cannot start a heading or a list; line breaks become spaces.

    Parameters
    ----------
    value : object
        Anything; ``None``, ``NaN`` and ``pd.NA`` give ``missing``.
    missing : str
        What to show for a missing value (already Markdown, not escaped).
    line_start : bool, default True
        Whether the text may begin a line, where ``#``, ``-`` or ``1.`` start a heading
        or a list; False for a table cell, where they mean nothing.

    Returns
    -------
    str

    Examples
    --------
    >>> escape_markdown("[click](javascript:alert(1)) <b>St John's</b>")
    "\\[click\\](javascript:alert(1)) &lt;b&gt;St John's&lt;/b&gt;"
    >>> escape_markdown("# 1. Trust")
    '\\# 1. Trust'
    """
    if _is_missing(value):
        return missing
    text = _MARKDOWN_INLINE.sub(r"\\\1", single_line(str(value)))
    if line_start:
        text = _MARKDOWN_LEADING.sub(r"\1\\\2", text)
        text = _MARKDOWN_ORDERED.sub(r"\1\\\2", text)
    return html.escape(text, quote=False)


def neutralise_csv_text(value: str) -> str:
    """Prefix text a spreadsheet would run as a formula with ``'`` (OWASP).

    Parameters
    ----------
    value : str
        One cell's text.

    Returns
    -------
    str
        ``value`` itself, or ``"'" + value`` when it begins with ``=``, ``+``, ``-``,
        ``@``, a tab or a carriage return.
    """
    if value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame, *, one_line: bool = False) -> pd.DataFrame:
    """Return a copy whose text cells go through :func:`neutralise_csv_text`.

    The one rule for every CSV meant for a spreadsheet. Text columns (object, string,
    category) are neutralised cell by cell; numbers, missing values and other columns
    are kept. ``one_line`` also turns line breaks into spaces (for summary tables; a
    register's own rows keep them).
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
            out[column] = [
                None
                if _is_missing(v)
                else _neutral(str(v), one_line)
                if isinstance(v, str) or isinstance(values.dtype, pd.CategoricalDtype)
                else v
                for v in values
            ]
    return out


def _neutral(text: str, one_line: bool) -> str:
    text = neutralise_csv_text(text)
    return single_line(text) if one_line else text


def single_line(value: str) -> str:
    """Return text with its line breaks turned into spaces."""
    return _LINE_BREAKS.sub(" ", value)


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)

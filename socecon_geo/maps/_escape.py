r"""The one place where text from input data is made safe for HTML and for scripts.

Two helpers, used by every part of the map:

- :func:`escape_html` for text placed in HTML (tooltips, popups, legends, titles):
  the package's one HTML escaper, :func:`socecon_geo._html.escape_text`, plus the
  characters that matter when the HTML is itself carried in a JavaScript string or
  template literal (backtick, ``$``, ``{``, ``}``, backslash) and line breaks
  (U+2028/2029 end a line in older JavaScript);
- :func:`script_json` for data embedded in a ``<script>``: JSON with ``<``, ``>``,
  ``&``, ``'``, backtick and U+2028/2029 written as ``\\u`` escapes, so no value can close the
  script element or start a comment, and the result is a valid JavaScript literal;
  ``{{``, ``{%`` and ``{#`` inside strings are escaped too, since folium passes each
  rendered script through its template engine again.

Text is always shown as written: an escaped name renders as the same characters.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from socecon_geo._html import escape_text

__all__ = ["display_text", "escape_html", "script_json"]

_EXTRA_HTML = str.maketrans(
    {
        "`": "&#96;",
        "$": "&#36;",
        "{": "&#123;",
        "}": "&#125;",
        "\\": "&#92;",
        "\u2028": " ",
        "\u2029": " ",
        "\r": " ",
        "\n": " ",
    }
)

_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "`": "\\u0060",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def display_text(value: Any) -> str:
    """Return the text shown for a value: ``""`` for missing values, else ``str(value)``.

    Examples
    --------
    >>> display_text(None), display_text(float("nan")), display_text("Café")
    ('', '', 'Café')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def escape_html(value: Any) -> str:
    """Escape a value for HTML, also when that HTML travels inside a script string.

    Parameters
    ----------
    value : object
        Any value; missing values give ``""``.

    Returns
    -------
    str

    Examples
    --------
    >>> escape_html("St John's <b>Trust</b> & `co` ${x}")
    'St John&#x27;s &lt;b&gt;Trust&lt;/b&gt; &amp; &#96;co&#96; &#36;&#123;x&#125;'
    """
    return escape_text(value).translate(_EXTRA_HTML)


def script_json(value: Any) -> str:
    r"""Encode a value as JSON that is safe inside an HTML ``<script>`` element.

    Parameters
    ----------
    value : object
        JSON-serialisable data (NaN is written as ``null``).

    Returns
    -------
    str

    Examples
    --------
    >>> print(script_json({"name": "</script>'"}))
    {"name":"\u003c/script\u003e\u0027"}
    """
    try:  # most data has no NaN: encode it as it is, without walking every coordinate
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    # folium renders each script through Jinja a second time, so no "{{", "{%" or "{#"
    # may survive; structural JSON never has them, so they are inside strings
    text = text.replace("{%", "{\\u0025").replace("{#", "{\\u0023")
    while "{{" in text:
        text = text.replace("{{", "{\\u007b")
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value

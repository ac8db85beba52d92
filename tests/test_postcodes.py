from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socecon_geo import InputError, normalise_postcode, normalise_postcodes
from socecon_geo.postcodes import (
    POSTCODE_STATUSES,
    parse_postcodes,
    postcode_area,
    postcode_district,
    postcode_sector,
)

# ---------------------------------------------------------------- an independent oracle
# The official format, checked position by position (written separately from the
# regular expression in the library, so the two check each other).
FIRST = set("ABCDEFGHIJKLMNOPRSTUWYZ")  # not Q, V, X
SECOND = set("ABCDEFGHKLMNOPQRSTUVWXY")  # not I, J, Z
THIRD = set("ABCDEFGHJKPSTUW")  # A9A
FOURTH = set("ABEHMNPRVWXY")  # AA9A
INWARD = set("ABDEFGHJLNPQRSTUWXYZ")  # not C, I, K, M, O, V
DIGITS = set("0123456789")
SHAPES = {
    "A9": (FIRST, DIGITS),
    "A99": (FIRST, DIGITS, DIGITS),
    "AA9": (FIRST, SECOND, DIGITS),
    "AA99": (FIRST, SECOND, DIGITS, DIGITS),
    "A9A": (FIRST, DIGITS, THIRD),
    "AA9A": (FIRST, SECOND, DIGITS, FOURTH),
}
SEPARATORS = [
    " ",
    "  ",
    "\t",
    "\n",
    "\u00a0",
    "\u200b",
    "\u2009",
    ".",
    ",",
    "-",
    "_",
    "/",
    "'",
    '"',
]


def oracle_is_valid(canonical: str) -> bool:
    """True when ``canonical`` ("OUT IN") follows the official format."""
    if canonical == "GIR 0AA":
        return True
    parts = canonical.split(" ")
    if len(parts) != 2:
        return False
    outward, inward = parts
    if len(inward) != 3 or inward[0] not in DIGITS or not set(inward[1:]) <= INWARD:
        return False
    return any(
        len(outward) == len(classes)
        and all(c in allowed for c, allowed in zip(outward, classes, strict=False))
        for classes in SHAPES.values()
    )


def strip_separators(text: str) -> str:
    """Remove whitespace, zero-width characters and stray punctuation; upper-case ASCII."""
    removed = re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff\u180e.,_/\\'\"`‘’‚‛“”‐‑‒–—−-]", "", text)
    return removed.translate(
        str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    )


@st.composite
def valid_postcodes(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 50)) == 0:
        return "GIR 0AA"
    classes = draw(st.sampled_from(list(SHAPES.values())))
    outward = "".join(draw(st.sampled_from(sorted(allowed))) for allowed in classes)
    inward = (
        draw(st.sampled_from(sorted(DIGITS)))
        + draw(st.sampled_from(sorted(INWARD)))
        + draw(st.sampled_from(sorted(INWARD)))
    )
    return f"{outward} {inward}"


@st.composite
def messy_variants(draw: st.DrawFn) -> tuple[str, str]:
    """A valid canonical postcode and a spacing/case/punctuation variant of it."""
    canonical = draw(valid_postcodes())
    chars = [c for c in canonical if c != " "]
    out = [draw(st.lists(st.sampled_from(SEPARATORS), max_size=2)) for _ in range(len(chars) + 1)]
    text = "".join(out[0])
    for char, after in zip(chars, out[1:], strict=True):
        text += (char.lower() if draw(st.booleans()) else char) + "".join(after)
    return canonical, text


CONFUSABLE = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8"}


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("B1 1AY", "B1 1AY"),  # A9
        ("B15 2TT", "B15 2TT"),  # A99
        ("CV1 5FB", "CV1 5FB"),  # AA9
        ("WS10 7NR", "WS10 7NR"),  # AA99
        ("W1A 0AX", "W1A 0AX"),  # A9A
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
        ("b152tt", "B15 2TT"),
        ("  B15   2TT  ", "B15 2TT"),
        ("B15\u00a02TT", "B15 2TT"),
        ("B15\t2TT\n", "B15 2TT"),
        ("B15\u200b2TT", "B15 2TT"),
        ("B15-2TT.", "B15 2TT"),
        ('"B15 2TT"', "B15 2TT"),
        ("'b15 2tt',", "B15 2TT"),
        ("B1/5_2TT", "B15 2TT"),
        ("B1 52TT", "B15 2TT"),  # a space in the wrong place is just a space
    ],
)
def test_valid_forms_normalise_to_canonical(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected
    result = normalise_postcodes([raw])
    assert result["postcode_normalised"].tolist() == [expected]
    assert result["postcode_status"].tolist() == ["valid"]


@pytest.mark.parametrize(
    "raw",
    [
        "B15 2TO",  # O is never an inward letter: not "fixed" to 0
        "B15 2CT",  # C, I, K, M, O, V are never inward letters
        "B15 2TI",
        "B15 2KT",
        "B15 2MT",
        "B15 2TV",
        "BI5 2TT",  # I typed for 1 in an outward code: second letters exclude I
        "B15 ZTT",  # Z typed for 2
        "Q1 1AA",  # Q, V, X never first
        "V1 1AA",
        "X1 1AA",
        "AJ1 1AA",  # I, J, Z never second
        "AZ1 1AA",
        "W1I 1AA",  # A9A third letter from ABCDEFGHJKPSTUW only
        "EC1C 1AA",  # AA9A fourth letter from ABEHMNPRVWXY only
        "B15 2T",
        "B15",
        "B152TTX",
        "B15 22T",
        "12345",
        "B15 2TT;",  # only whitespace and . , - _ / \\ and quotes are stray punctuation
        "B15 2TT (office)",
        "Ｂ15 2TT",  # full-width letters are not ASCII
        "B15 2ＴT",
        "ﬀ1 1AA",  # a ligature is not upper-cased into "FF"
    ],
)
def test_invalid_forms_stay_invalid(raw: str) -> None:
    assert normalise_postcode(raw) is None
    result = normalise_postcodes(pd.Series([raw]))
    assert result["postcode_status"].tolist() == ["invalid_format"]
    assert result["postcode_normalised"].isna().all()


@pytest.mark.parametrize(
    "raw", [None, np.nan, pd.NA, "", "   ", "\u00a0", "-", "N/A", "none", "NULL", "unknown", "TBC"]
)
def test_missing_values(raw: object) -> None:
    result = normalise_postcodes(pd.Series([raw], dtype=object))
    assert result["postcode_status"].tolist() == ["missing"]
    assert normalise_postcode(raw) is None


def test_frame_keeps_index_order_and_duplicate_labels() -> None:
    raw = pd.Series(["b15 2tt", "nonsense", None, "B15 2TT", "CV1 5FB"], index=[7, 7, "x", 2, 0])
    result = normalise_postcodes(raw)
    assert result.index.equals(raw.index)
    assert result["postcode_normalised"].tolist()[::3] == ["B15 2TT", "B15 2TT"]
    assert result["postcode_status"].tolist() == [
        "valid",
        "invalid_format",
        "missing",
        "valid",
        "valid",
    ]
    assert list(result["postcode_status"].cat.categories) == list(POSTCODE_STATUSES)
    assert result["postcode_normalised"].dtype == "string"  # like every code column


@pytest.mark.parametrize(
    "values",
    [
        ["B15 2TT", None],
        np.array(["B15 2TT", None], dtype=object),
        pd.Index(["B15 2TT", None]),
        (v for v in ["B15 2TT", None]),
        pd.array(["B15 2TT", None], dtype="string"),
    ],
)
def test_accepts_sequences(values: object) -> None:
    result = normalise_postcodes(values)
    assert result["postcode_status"].tolist() == ["valid", "missing"]
    assert result.index.tolist() == [0, 1]


def test_non_text_values_are_read_as_text() -> None:
    result = normalise_postcodes(pd.Series([12345, 1.5, "b1 1ay", ["B1 1AY"], None], dtype=object))
    assert result["postcode_status"].tolist() == [
        "invalid_format",
        "invalid_format",
        "valid",
        "invalid_format",
        "missing",
    ]


@pytest.mark.parametrize("dtype", ["str", "string", "string[pyarrow]", "object"])
def test_empty_input(dtype: str) -> None:
    result = normalise_postcodes(pd.Series([], dtype=dtype))
    assert result.empty
    assert list(result.columns) == ["postcode_normalised", "postcode_status"]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ("B15 2TT", "single str; use normalise_postcode"),
        (pd.DataFrame({"a": ["B15 2TT"]}), r"got a DataFrame with columns \['a'\]"),
    ],
)
def test_wrong_shapes_raise(values: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        normalise_postcodes(values)


def test_parsed_form_shares_work_between_variants() -> None:
    parsed = parse_postcodes(["b15 2tt", "B152TT", "x", None, "CV1 5FB"])
    assert parsed.codes.tolist() == [0, 0, -1, -1, 1]
    assert parsed.canonical.to_pylist() == ["B15 2TT", "CV1 5FB"]
    assert parsed.status.tolist() == [0, 0, 1, 2, 0]


def test_sector_district_area() -> None:
    assert postcode_sector("b152tt") == "B15 2"
    assert postcode_district("B15 2TT") == "B15"
    assert postcode_area("B15 2TT") == "B"
    assert postcode_area("WS10 7NR") == "WS"
    assert postcode_district("EC1A 1BB") == "EC1A"
    assert postcode_sector("not a postcode") is None
    assert postcode_area(None) is None
    series = pd.Series(["CV1 5FB", "bad", None], index=[3, 3, 1], name="pc")
    sectors = postcode_sector(series)
    assert sectors.index.equals(series.index)
    assert sectors.name == "pc"
    assert sectors.tolist()[0] == "CV1 5"
    assert sectors.isna().tolist() == [False, True, True]
    assert postcode_area(series).tolist()[0] == "CV"


def test_bundled_postcodes_are_all_canonical() -> None:
    from socecon_geo.bundle import postcode_frame

    postcodes = postcode_frame()["postcode"]
    result = normalise_postcodes(postcodes)
    assert (result["postcode_status"] == "valid").all()
    assert (result["postcode_normalised"].to_numpy() == postcodes.to_numpy()).all()


# ---------------------------------------------------------------- properties


@given(messy_variants())
@settings(max_examples=300, deadline=None)
def test_any_spacing_or_case_variant_normalises_to_canonical(pair: tuple[str, str]) -> None:
    canonical, text = pair
    assert oracle_is_valid(canonical)
    assert normalise_postcode(text) == canonical


@given(st.lists(messy_variants(), min_size=1, max_size=30))
@settings(max_examples=50, deadline=None)
def test_vectorised_agrees_with_scalar(pairs: list[tuple[str, str]]) -> None:
    texts = [text for _, text in pairs]
    result = normalise_postcodes(texts)
    assert result["postcode_normalised"].tolist() == [canonical for canonical, _ in pairs]


@given(st.one_of(st.text(max_size=12), messy_variants().map(lambda pair: pair[1])))
@settings(max_examples=300, deadline=None)
def test_idempotent(text: str) -> None:
    once = normalise_postcode(text)
    if once is not None:
        assert normalise_postcode(once) == once
    frame = normalise_postcodes([text])
    again = normalise_postcodes(frame["postcode_normalised"])
    valid = frame["postcode_status"] == "valid"
    assert (
        again["postcode_normalised"].tolist()[: int(valid.sum())]
        == frame["postcode_normalised"][valid].tolist()
    )


@given(
    st.one_of(
        st.text(max_size=12),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 abcz", max_size=9),
    )
)
@settings(max_examples=500, deadline=None)
def test_nothing_invalid_becomes_valid(text: str) -> None:
    result = normalise_postcode(text)
    if result is not None:
        # only separators were removed and ASCII letters upper-cased: no substitution
        assert strip_separators(text) == result.replace(" ", "")
        assert oracle_is_valid(result)
    else:
        candidate = strip_separators(text)
        spaced = f"{candidate[:-3]} {candidate[3 * -1 :]}" if len(candidate) > 3 else candidate
        assert not oracle_is_valid(spaced)


@given(valid_postcodes(), st.data())
@settings(max_examples=200, deadline=None)
def test_confusable_substitutions_are_not_repaired(canonical: str, data: st.DataObject) -> None:
    positions = [i for i, c in enumerate(canonical) if c in CONFUSABLE]
    if not positions:
        return
    i = data.draw(st.sampled_from(positions))
    mutated = canonical[:i] + CONFUSABLE[canonical[i]] + canonical[i + 1 :]
    result = normalise_postcode(mutated)
    if oracle_is_valid(mutated):
        assert result == mutated  # another real postcode, kept as typed
    else:
        assert result is None

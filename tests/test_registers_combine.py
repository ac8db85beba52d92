"""Tests of socecon_geo.registers.combine: combine_registers marks duplicates, drops none."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from socecon_geo._errors import InputError
from socecon_geo.registers import (
    ORGANISATION_COLUMNS,
    ORGANISATION_TYPES,
    combine_registers,
    read_organisations,
)


@pytest.fixture(scope="module")
def registers(test_data: Path) -> Path:
    return test_data / "registers"


def _frame(rows: list[dict], **kwargs) -> pd.DataFrame:
    return read_organisations(pd.DataFrame(rows), **kwargs)


def test_combine_fixture_registers(registers: Path) -> None:
    coops = read_organisations(registers / "coopsuk_sample.csv")
    companies = read_organisations(registers / "companies_house_basic.csv")
    charities = read_organisations(registers / "ccew_publicextract.charity.json")
    combined = combine_registers(coops, companies, charities)
    assert len(combined) == len(coops) + len(companies) + len(charities)
    assert isinstance(combined.index, pd.RangeIndex)
    assert tuple(combined.columns[: len(ORGANISATION_COLUMNS)]) == ORGANISATION_COLUMNS
    marked = combined.dropna(subset=["duplicate_of"]).set_index("org_id")
    assert marked["duplicate_of"].to_dict() == {
        # CIC in Co-ops UK and Companies House: Companies House wins by precedence
        "coopsuk:R900003": "ch:12999001",
        # charitable company: the charity record wins over the company record
        "ch:04999001": "ccew:1999001",
    }
    assert set(marked["duplicate_reason"]) == {"company_number"}
    assert combined.attrs["duplicates"] == 2
    assert combined["org_type"].dtype == pd.CategoricalDtype(list(ORGANISATION_TYPES))
    # the original columns of every register are kept side by side
    assert {"src_Legal Form", "src_CompanyCategory", "src_charity_name"} <= set(combined)
    # the inputs are not changed
    assert coops["duplicate_of"].isna().all()


def test_combine_name_and_postcode() -> None:
    a = _frame([{"id": "a1", "name": "The Pretend Bakers & Sons Ltd", "postcode": "B99 1ZZ"}])
    b = _frame(
        [
            {"id": "b1", "name": "Pretend Bakers and Sons Limited", "postcode": "b991zz"},
            {"id": "b2", "name": "Pretend Bakers and Sons", "postcode": "B99 2ZZ"},
            {"id": "b3", "name": "Pretend Bakers and Sons C.I.C.", "postcode": " B99  1ZZ"},
        ]
    )
    b = b.assign(org_id="other:" + b["org_id"])
    combined = combine_registers(a, b)
    assert combined["duplicate_of"].tolist() == [pd.NA, "generic:a1", pd.NA, "generic:a1"]
    assert combined["duplicate_reason"].tolist() == [pd.NA, "name_postcode", pd.NA, "name_postcode"]


def test_combine_does_not_link_on_missing_or_invalid_keys() -> None:
    a = _frame(
        [
            {"id": "1", "name": "Pretend", "postcode": "UNKNOWN"},
            {"id": "2", "name": None, "postcode": "B99 1ZZ"},
        ]
    )
    b = _frame(
        [
            {"id": "3", "name": "Pretend", "postcode": "UNKNOWN"},
            {"id": "4", "name": None, "postcode": "B99 1ZZ"},
        ]
    )
    b = b.assign(org_id="b:" + b["org_id"])
    combined = combine_registers(a, b)
    assert combined["duplicate_of"].isna().all()


def test_combine_precedence_information_and_indirect_links() -> None:
    generic = _frame(
        [{"id": "g", "name": "Pretend Trust", "postcode": "B99 1ZZ", "company number": "123"}]
    )
    coops = _frame(
        [{"id": "c", "name": "Pretend Trust", "postcode": "B99 1ZZ", "charity number": "1999"}]
    ).assign(source_register="coopsuk", org_id="coopsuk:c")
    charity = _frame(
        [{"id": "x", "name": "Somebody Else", "postcode": "CV99 1ZZ", "charity number": "1999"}]
    ).assign(source_register="ccew", org_id="ccew:1999")
    combined = combine_registers(generic, coops, charity)
    # the charity record is kept (precedence) although it is last
    assert combined["duplicate_of"].tolist() == [
        "ccew:1999",
        "ccew:1999",
        pd.NA,
    ]
    # coops shares the charity number; generic is linked only through coops
    assert combined["duplicate_reason"].tolist() == ["indirect", "charity_number", pd.NA]

    # same register and no precedence: the record with more information is kept
    sparse = _frame([{"id": "s", "name": "Pretend Trust", "postcode": "B99 1ZZ"}])
    rich = _frame(
        [
            {
                "id": "r",
                "name": "Pretend Trust Ltd",
                "postcode": "B99 1ZZ",
                "income": "1000",
                "address": "1 Road",
            }
        ]
    ).assign(org_id="rich:r")
    combined = combine_registers(sparse, rich)
    assert combined["duplicate_of"].tolist() == ["rich:r", pd.NA]


def test_combine_within_sources_only_when_asked() -> None:
    frame = _frame(
        [
            {"id": "1", "name": "Pretend Co-op", "postcode": "B99 1ZZ"},
            {"id": "2", "name": "Pretend Co-op Ltd", "postcode": "B99 1ZZ"},
        ]
    )
    assert combine_registers(frame)["duplicate_of"].isna().all()
    within = combine_registers(frame, match_within_sources=True)
    assert within["duplicate_of"].tolist() == [pd.NA, "generic:1"]


def test_combine_recomputes_earlier_marks_and_keeps_rows(registers: Path) -> None:
    coops = read_organisations(registers / "coopsuk_sample.csv")
    companies = read_organisations(registers / "companies_house_basic.csv")
    once = combine_registers(coops, companies)
    stale = once.assign(duplicate_of="nonsense")
    again = combine_registers(stale)
    assert len(again) == len(once)
    pd.testing.assert_series_equal(again["duplicate_of"], once["duplicate_of"])


def test_combine_errors() -> None:
    with pytest.raises(InputError, match="needs at least one frame"):
        combine_registers()
    with pytest.raises(InputError, match=r"frame 1 lacks the schema column\(s\) 'org_id'"):
        combine_registers(pd.DataFrame({"name": ["A"]}))
    with pytest.raises(InputError, match="argument 2 is a list, not a DataFrame"):
        combine_registers(_frame([{"name": "A", "postcode": "B99 1ZZ"}]), [])  # type: ignore[arg-type]
    a = _frame([{"name": "A", "postcode": "B99 1ZZ"}])
    with pytest.raises(InputError, match=r"org_id must be unique.*'row:1'.*assign\(org_id="):
        combine_registers(a, a)


def test_combine_empty_frames() -> None:
    empty = read_organisations(pd.DataFrame({"name": [], "postcode": []}))
    combined = combine_registers(empty)
    assert len(combined) == 0
    assert combined.attrs["duplicates"] == 0


@pytest.mark.shared_data
def test_combine_real_coopsuk_with_a_user_list(shared_data: Path) -> None:
    coops = read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    sample = coops[coops["postcode"].notna()].head(5)
    mine = read_organisations(
        pd.DataFrame(
            {
                "name": sample["name"].str.upper() + " LIMITED",
                "postcode": sample["postcode"].str.lower().str.replace(" ", ""),
            }
        )
    )
    combined = combine_registers(coops, mine)
    assert len(combined) == len(coops) + 5
    tail = combined.tail(5)
    assert tail["duplicate_of"].tolist() == sample["org_id"].tolist()
    assert (tail["duplicate_reason"] == "name_postcode").all()


def test_companies_house_dataframe_with_spaced_headings_is_recognised(registers: Path) -> None:
    raw = pd.read_csv(registers / "companies_house_basic.csv", dtype=str)
    assert " CompanyNumber" in raw.columns
    orgs = read_organisations(raw, company_categories="Community Interest Company")
    assert orgs.attrs["register"] == "companies_house"
    assert orgs["org_id"].tolist() == ["ch:12999001"]
    assert list(orgs.index) == [0]

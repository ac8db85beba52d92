"""Tests of socecon_geo.registers: the schema, the readers, their errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socecon_geo._errors import InputError
from socecon_geo.registers import (
    COMPANIES_HOUSE_COLUMNS,
    ORGANISATION_COLUMNS,
    ORGANISATION_TYPES,
    REGISTER_PRECEDENCE,
    REGISTERS,
    read_organisations,
    sic_sections,
)

WMCA_AREAS = ("B", "CV", "DY", "WS", "WV")


@pytest.fixture(scope="module")
def registers() -> Path:
    return Path(__file__).resolve().parent / "data" / "registers"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _area(postcodes: pd.Series) -> pd.Series:
    key = postcodes.str.upper().str.replace(r"\s+", "", regex=True)
    return key.str.extract(r"^([A-Z]{1,2})\d", expand=False)


# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------


def test_schema_columns_dtypes_and_originals(registers: Path) -> None:
    orgs = read_organisations(registers / "coopsuk_sample.csv")
    original = pd.read_csv(registers / "coopsuk_sample.csv", dtype=str)
    assert tuple(orgs.columns[: len(ORGANISATION_COLUMNS)]) == ORGANISATION_COLUMNS
    assert list(orgs.columns[len(ORGANISATION_COLUMNS) :]) == [f"src_{c}" for c in original.columns]
    assert isinstance(orgs.index, pd.RangeIndex)
    assert list(orgs.index) == list(range(len(original)))
    assert list(orgs["org_type"].cat.categories) == list(ORGANISATION_TYPES)
    assert orgs["source_row"].dtype == "Int64"
    assert orgs["income"].dtype == "float64"
    assert orgs["employees"].dtype == "float64"
    for column in ("org_id", "name", "postcode", "sic_code", "duplicate_of", "source_register"):
        assert isinstance(orgs[column].dtype, pd.StringDtype), column
    assert orgs["duplicate_of"].isna().all()
    assert orgs["duplicate_reason"].isna().all()
    assert orgs.attrs["register"] == "coopsuk"
    pd.testing.assert_series_equal(
        orgs["src_Name"].astype(object), original["Name"].astype(object), check_names=False
    )


def test_register_constants_are_consistent() -> None:
    assert sorted(REGISTER_PRECEDENCE) == sorted(REGISTERS)  # every register ranked once
    assert len(set(ORGANISATION_TYPES)) == len(ORGANISATION_TYPES)
    assert ORGANISATION_TYPES[-1] == "other"  # other/unknown comes last


# ---------------------------------------------------------------------------------------
# Co-operatives UK
# ---------------------------------------------------------------------------------------


def test_coopsuk_fixture_mapping(registers: Path) -> None:
    orgs = read_organisations(registers / "coopsuk_sample.csv")
    assert orgs["org_id"].tolist() == [f"coopsuk:R90000{i}" for i in range(1, 7)]
    assert orgs["org_type"].astype(str).tolist() == [
        "co_operative",  # Society owned by consumers
        "community_benefit_society",  # Society owned by a community of interest
        "community_interest_company",
        "co_operative",  # Company owned by workers
        "social_enterprise",  # Company owned by a community of interest
        "co_operative",  # no legal form: still a co-operative in this register
    ]
    # multi-line street address joined; a region equal to the locality is not repeated
    assert orgs.loc[0, "address"] == "1 Pretend Street, Unit 2, Birmingham, West Midlands"
    assert orgs.loc[1, "address"] == "The Green, Nowhere"
    assert orgs.loc[2, "postcode"] == "ws99 9zz"  # raw, only stripped
    assert pd.isna(orgs.loc[4, "postcode"])  # blank postcode kept as a row
    assert orgs.loc[3, "company_number"] == "00999002"  # zero-padded
    assert orgs["sic_section"].tolist()[:4] == ["G", "G", "R", "J"]
    assert orgs.loc[0, "sector"] == "Retail"
    assert orgs["source_row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert orgs.attrs["filtered_out"] == {}
    assert orgs.attrs["rows_read"] == 6


@pytest.mark.shared_data
def test_coopsuk_real_file_every_row_kept(shared_data: Path) -> None:
    path = shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv"
    orgs = read_organisations(path)
    assert orgs.attrs["register"] == "coopsuk"
    assert len(orgs) == 7272
    assert orgs.attrs["rows_read"] == 7272
    assert orgs["source_row"].tolist() == list(range(1, 7273))
    assert orgs["org_id"].is_unique
    assert orgs["org_id"].str.startswith("coopsuk:R").all()
    assert orgs["name"].notna().all()
    assert sum(c.startswith("src_") for c in orgs.columns) == 30
    counts = orgs["org_type"].value_counts()
    assert counts["co_operative"] > 5000
    assert 1500 < counts["community_benefit_society"] < 1800
    assert counts["community_interest_company"] == 112  # legal form "Community Interest Company"
    assert counts["charitable_incorporated_organisation"] == 3  # Scottish CIOs
    assert counts[["charity", "company_limited_by_guarantee", "other"]].sum() == 0
    assert orgs["sic_section"].notna().sum() > 7200
    assert orgs["sic_section"].value_counts().index[0] == "S"  # 94990 membership bodies
    wmca = _area(orgs["postcode"]).isin(WMCA_AREAS)
    assert 350 <= wmca.sum() <= 390  # about 370, as documented for this snapshot
    assert orgs["postcode"].isna().sum() == 4


# ---------------------------------------------------------------------------------------
# Charity Commission
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ccew_publicextract.charity.txt", "ccew_publicextract.charity.json"]
)
def test_ccew_defaults_keep_registered_main_charities(registers: Path, name: str) -> None:
    orgs = read_organisations(registers / name)
    assert orgs.attrs["register"] == "ccew"
    assert orgs["org_id"].tolist() == ["ccew:1999001", "ccew:1999002", "ccew:1999005"]
    assert orgs["source_row"].tolist() == [1, 2, 5]
    assert orgs.attrs["rows_read"] == 5
    assert orgs.attrs["filtered_out"] == {"removed": 1, "linked": 1}
    assert orgs["org_type"].astype(str).tolist() == [
        "charity",
        "charitable_incorporated_organisation",
        "charity",
    ]
    assert orgs.loc[0, "name"] == 'The "Friendly" Neighbours Trust'  # stray quotes survive
    assert orgs.loc[0, "address"] == "Unit 4 Example Yard, Testing Street, Birmingham"
    assert orgs["income"].tolist() == [125000.0, 5400.0, 0.0]
    assert orgs.loc[0, "company_number"] == "04999001"
    assert orgs["charity_number"].tolist() == ["1999001", "1999002", "1999005"]
    assert pd.isna(orgs.loc[2, "postcode"])
    assert "src_charity_activities" in orgs.columns


def test_ccew_text_and_json_forms_agree(registers: Path) -> None:
    text = read_organisations(registers / "ccew_publicextract.charity.txt")
    data = read_organisations(registers / "ccew_publicextract.charity.json")
    schema = [c for c in ORGANISATION_COLUMNS if c != "source_file"]
    pd.testing.assert_frame_equal(text[schema], data[schema])


def test_ccew_options_keep_removed_and_linked(registers: Path) -> None:
    orgs = read_organisations(
        registers / "ccew_publicextract.charity.txt", include_removed=True, include_linked=True
    )
    assert len(orgs) == 5
    assert orgs.attrs["filtered_out"] == {}
    assert orgs["org_id"].tolist() == [
        "ccew:1999001",
        "ccew:1999002",
        "ccew:1999001-1",
        "ccew:1999004",
        "ccew:1999005",
    ]
    only_linked = read_organisations(
        registers / "ccew_publicextract.charity.json", include_linked=True
    )
    assert only_linked.attrs["filtered_out"] == {"removed": 1}
    assert len(only_linked) == 4


@pytest.mark.parametrize(
    "name", ["ccew_publicextract.charity.txt", "ccew_publicextract.charity.json"]
)
def test_ccew_zip_archive(registers: Path, tmp_path: Path, name: str) -> None:
    archive = tmp_path / "publicextract.charity.zip"
    member = name.removeprefix("ccew_")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(registers / name, member)
    orgs = read_organisations(archive)
    assert orgs.attrs["register"] == "ccew"
    assert len(orgs) == 3
    assert (orgs["source_file"] == f"publicextract.charity.zip/{member}").all()


def test_ccew_dataframe_input(registers: Path) -> None:
    records = json.loads((registers / "ccew_publicextract.charity.json").read_text("utf-8-sig"))
    frame = pd.DataFrame(records, index=[f"r{i}" for i in range(5)])
    orgs = read_organisations(frame)
    assert orgs.attrs["register"] == "ccew"
    assert list(orgs.index) == ["r0", "r1", "r4"]  # the caller's labels of the kept rows
    assert pd.isna(orgs["source_file"]).all()
    assert orgs["source_row"].tolist() == [1, 2, 5]


# ---------------------------------------------------------------------------------------
# Companies House
# ---------------------------------------------------------------------------------------


def test_companies_house_defaults(registers: Path) -> None:
    orgs = read_organisations(registers / "companies_house_basic.csv")
    assert orgs.attrs["register"] == "companies_house"
    assert orgs.attrs["rows_read"] == 7
    assert orgs.attrs["filtered_out"] == {"category": 2}
    assert orgs["org_id"].tolist() == [
        "ch:12999001",
        "ch:04999001",
        "ch:IP99901R",
        "ch:05999003",
        "ch:CE099901",
    ]
    assert orgs["org_type"].astype(str).tolist() == [
        "community_interest_company",
        "company_limited_by_guarantee",
        "co_operative",  # a registered society whose name says co-operative
        "company_limited_by_guarantee",
        "charitable_incorporated_organisation",
    ]
    assert orgs.loc[0, "sic_code"] == "88990"
    assert orgs.loc[0, "sic_section"] == "Q"
    assert orgs.loc[0, "sector"].startswith("Other social work activities")
    assert pd.isna(orgs.loc[3, "sic_code"])  # "None Supplied"
    assert orgs.loc[1, "address"] == (
        "Unit 4 Example Yard, Testing Street, BIRMINGHAM, WEST MIDLANDS"
    )
    # headings with a leading space are stripped; only the column subset is read
    src = [c.removeprefix("src_") for c in orgs.columns if c.startswith("src_")]
    assert src == list(COMPANIES_HOUSE_COLUMNS)


def test_companies_house_options(registers: Path) -> None:
    path = registers / "companies_house_basic.csv"
    active = read_organisations(path, active_only=True)
    assert active.attrs["filtered_out"] == {"category": 2, "status": 2}
    assert len(active) == 3
    everything = read_organisations(path, company_categories=None, all_columns=True)
    assert len(everything) == 7
    assert everything.attrs["filtered_out"] == {}
    assert everything.loc[2, "org_type"] == "other"  # private limited company
    assert pd.isna(everything.loc[6, "sic_section"])  # 99999 dormant company
    assert everything.loc[6, "sic_code"] == "99999"
    assert "src_PreviousName_10.CompanyName" in everything.columns
    assert not any(c.startswith("src_ ") for c in everything.columns)
    cics = read_organisations(path, company_categories=["community interest company"])
    assert cics["org_id"].tolist() == ["ch:12999001"]


def _big_companies_house(path: Path, registers: Path, rows: int) -> None:
    header = (registers / "companies_house_basic.csv").read_text().splitlines()[0]
    headings = [h.strip() for h in header.split(",")]
    cats = ["Private Limited Company"] * 17 + [
        "Community Interest Company",
        "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)",
        "Registered Society",
    ]
    where = {h: i for i, h in enumerate(headings)}
    lines = [header]
    template = ['""'] * len(headings)
    for i in range(rows):
        row = list(template)
        row[where["CompanyName"]] = f'"GENERATED COMPANY {i} LIMITED"'
        row[where["CompanyNumber"]] = f'"{i:08d}"'
        row[where["RegAddress.AddressLine1"]] = f'"{i % 300} Generated Street"'
        row[where["RegAddress.PostCode"]] = f'"B{i % 99 + 1} {i % 9}ZZ"'
        row[where["CompanyCategory"]] = f'"{cats[i % 20]}"'
        row[where["CompanyStatus"]] = '"Active"'
        row[where["SICCode.SicText_1"]] = '"88990 - Other social work activities n.e.c."'
        lines.append(",".join(row))
    path.write_text("\r\n".join(lines) + "\r\n")


def test_companies_house_is_read_in_chunks_with_a_column_subset(
    registers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "BasicCompanyDataAsOneFile-2025-01-01.csv"
    _big_companies_house(path, registers, 20_000)
    calls: list[dict] = []
    real_read_csv = pd.read_csv

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_read_csv(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    orgs = read_organisations(path, chunksize=3_000)
    assert len(calls) == 1
    assert calls[0]["chunksize"] == 3_000
    assert callable(calls[0]["usecols"])
    assert len(orgs) == 3_000  # 3 of every 20 rows are social-economy categories
    assert orgs.attrs["rows_read"] == 20_000
    assert orgs.attrs["filtered_out"] == {"category": 17_000}
    # row numbers run across chunk boundaries: row n holds company n - 1
    expected = orgs["source_row"].astype(int) - 1
    assert (orgs["company_number"] == expected.map(lambda i: f"{i:08d}")).all()
    assert orgs["org_type"].value_counts().to_dict() == {
        "community_interest_company": 1000,
        "company_limited_by_guarantee": 1000,
        "community_benefit_society": 1000,
        "charity": 0,
        "charitable_incorporated_organisation": 0,
        "co_operative": 0,
        "social_enterprise": 0,
        "other": 0,
    }


_MEMORY_SCRIPT = """
import sys
import pandas as pd
from socecon_geo.registers import read_organisations

def status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)

small, big, how = sys.argv[1:4]
read_organisations(small)
pd.read_csv(small, dtype=str)
# Reset the peak resident set size (it is inherited from the parent across exec).
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
before = status("VmRSS")
if how == "chunked":
    frame = read_organisations(big, chunksize=10_000)
else:
    frame = pd.read_csv(big, dtype=str)
print(len(frame), status("VmHWM") - before)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_companies_house_chunked_read_peak_memory(registers: Path, tmp_path: Path) -> None:
    """Bounded: far below reading the file whole, and not growing with the file."""
    small = registers / "companies_house_basic.csv"
    peaks = {}
    for rows, how in ((20_000, "chunked"), (200_000, "chunked"), (200_000, "whole")):
        path = tmp_path / f"BasicCompanyData-{rows}.csv"
        if not path.exists():
            _big_companies_house(path, registers, rows)
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY_SCRIPT, str(small), str(path), how],
            capture_output=True,
            text=True,
            check=True,
        )
        kept, peak = map(int, done.stdout.split())
        peaks[rows, how] = max(peak, 1)
        assert kept == (rows * 3 // 20 if how == "chunked" else rows)
    # the chunked reader's peak is a fraction of reading the file whole
    assert peaks[200_000, "chunked"] < 0.5 * peaks[200_000, "whole"], peaks
    # ten times the file, far less than ten times the memory
    assert peaks[200_000, "chunked"] < 3 * peaks[20_000, "chunked"], peaks


# ---------------------------------------------------------------------------------------
# Register detection
# ---------------------------------------------------------------------------------------


def test_register_generic_forces_the_generic_reader(registers: Path) -> None:
    orgs = read_organisations(registers / "companies_house_basic.csv", register="generic")
    assert orgs.attrs["register"] == "generic"
    assert len(orgs) == 7  # no filter
    assert orgs.attrs["column_map"]["name"] == "CompanyName"
    assert orgs.attrs["column_map"]["postcode"] == "RegAddress.PostCode"
    assert orgs.attrs["column_map"]["company_number"] == "CompanyNumber"
    assert orgs["org_id"].str.startswith("row:").all()
    assert orgs.loc[0, "org_type"] == "community_interest_company"


def test_explicit_register_matches_detection(registers: Path) -> None:
    detected = read_organisations(registers / "coopsuk_sample.csv")
    explicit = read_organisations(registers / "coopsuk_sample.csv", register="coopsuk")
    pd.testing.assert_frame_equal(detected, explicit)


# ---------------------------------------------------------------------------------------
# Generic reader
# ---------------------------------------------------------------------------------------


def test_generic_cp1252_file_from_excel(registers: Path) -> None:
    orgs = read_organisations(registers / "generic_cp1252.csv")
    assert orgs["name"].tolist() == [
        "Café Sample CIC",
        "St Imaginary’s Charity",
        "Fabricated Guarantee Co",
    ]
    assert orgs["org_type"].astype(str).tolist() == [
        "community_interest_company",
        "charity",
        "company_limited_by_guarantee",
    ]
    assert orgs["income"].tolist()[:2] == [12500.0, 800.0]
    assert np.isnan(orgs.loc[2, "income"])  # "n/a"
    assert orgs.attrs["unparsed"] == {"income": 1, "employees": 0}
    assert orgs["employees"].tolist()[0] == 4.0
    assert orgs["org_id"].tolist() == ["row:1", "row:2", "row:3"]


def test_generic_utf8_bom_semicolons(registers: Path) -> None:
    orgs = read_organisations(registers / "generic_utf8_bom.csv")
    assert orgs.columns[len(ORGANISATION_COLUMNS)] == "src_Name"  # BOM not in the heading
    assert orgs["name"].tolist() == ["Zoë's Pretend Bakery", "Ünïcode Test Group"]
    assert orgs["sic_section"].tolist() == ["C", "Q"]
    assert orgs["org_type"].astype(str).tolist() == [
        "co_operative",
        "charitable_incorporated_organisation",
    ]


def test_generic_explicit_encoding(registers: Path) -> None:
    orgs = read_organisations(registers / "generic_cp1252.csv", encoding="cp1252")
    assert orgs.loc[0, "name"] == "Café Sample CIC"


def test_generic_utf16_tab_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "unicode.txt",
        "Organisation Name\tPostcode\r\nÉtoile Pretend Co-op\tB99 1ZZ\r\n",
        "utf-16",
    )
    orgs = read_organisations(path)
    assert orgs["name"].tolist() == ["Étoile Pretend Co-op"]
    assert orgs.loc[0, "org_type"] == "other"  # no type column: unknown


def test_cp1252_byte_after_the_sample_is_still_read(tmp_path: Path) -> None:
    rows = "".join(f"Generated Org {i},B99 {i % 9}ZZ\n" for i in range(60_000))
    text = "name,postcode\n" + rows + "Caf\xe9 At The End,B99 9ZZ\n"
    path = tmp_path / "late.csv"
    path.write_bytes(text.encode("cp1252"))
    assert path.stat().st_size > 1 << 20
    orgs = read_organisations(path)
    assert len(orgs) == 60_001
    assert orgs["name"].iloc[-1] == "Café At The End"


def test_generic_headings_are_found_case_space_punctuation_insensitively(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path / "orgs.csv",
        "ID,CHARITY_NAME, Post-Code ,Address 1,Address 2,Town,Email Address,Income (£),"
        "Number of employees,SIC code,Company No,Charity Number\n"
        "A7,Pretend Trust,b99 1zz,1 Road,,Walsall,x@example.org,1000,3,85100,1234567,0123456\n",
    )
    orgs = read_organisations(path)
    row = orgs.iloc[0]
    assert row["org_id"] == "generic:A7"
    assert row["name"] == "Pretend Trust"
    assert row["postcode"] == "b99 1zz"
    assert row["address"] == "1 Road, Walsall"  # e-mail address is not an address line
    assert row["employees"] == 3.0
    assert row["sic_section"] == "P"
    assert row["company_number"] == "01234567"
    assert row["charity_number"] == "123456"
    assert orgs.attrs["column_map"]["address"] == ["Address 1", "Address 2", "Town"]


def test_generic_columns_mapping_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "odd.csv",
        "Org,Where,Kind,Line A,Line B\nPretend Co-op,B99 1ZZ,co-operative,1 Road,Town\n",
    )
    orgs = read_organisations(
        path,
        columns={
            "name": "org",  # matches ignoring case
            "postcode": "Where",
            "org_type": "Kind",
            "address": ["Line B", "Line A"],
        },
    )
    assert orgs.loc[0, "name"] == "Pretend Co-op"
    assert orgs.loc[0, "org_type"] == "co_operative"
    assert orgs.loc[0, "address"] == "Town, 1 Road"
    assert orgs.attrs["column_map"]["name"] == "Org"


def test_generic_columns_mapping_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "odd.csv", "Org,Where\nPretend,B99 1ZZ\n")
    with pytest.raises(InputError, match=r"(?s)unknown field 'nme'.*'Nowhere'.*headings are 'Org'"):
        read_organisations(path, columns={"nme": "Org", "postcode": "Nowhere"})
    with pytest.raises(InputError, match="must be a mapping"):
        read_organisations(path, columns=["Org", "Where"])  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"columns=\{'name': \.\.\.\} must name one heading"):
        read_organisations(path, columns={"name": ["Org", "Where"]})


def test_generic_type_text_mapping() -> None:
    types = [
        "Charitable Incorporated Organisation",
        "SCIO",
        "CIC",
        "C.I.C.",
        "Community Benefit Society",
        "Bencom",
        "Worker co-op",
        "Cooperative",
        "Registered charity",
        "Charitable company limited by guarantee",
        "Company limited by guarantee",
        "CLG",
        "Social enterprise",
        "Private limited company",
        "",
        "community_interest_company",
    ]
    frame = pd.DataFrame(
        {"name": [f"Org {i}" for i in range(len(types))], "postcode": "B99 1ZZ", "type": types}
    )
    orgs = read_organisations(frame)
    assert orgs["org_type"].astype(str).tolist() == [
        "charitable_incorporated_organisation",
        "charitable_incorporated_organisation",
        "community_interest_company",
        "community_interest_company",
        "community_benefit_society",
        "community_benefit_society",
        "co_operative",
        "co_operative",
        "charity",
        "charity",
        "company_limited_by_guarantee",
        "company_limited_by_guarantee",
        "social_enterprise",
        "other",
        "other",
        "community_interest_company",
    ]
    # the free-text mapping reaches every organisation type
    assert set(orgs["org_type"].astype(str)) == set(ORGANISATION_TYPES)


def test_blank_ids_fall_back_to_row_numbers() -> None:
    frame = pd.DataFrame({"id": ["A7", " ", None], "name": "X", "postcode": "B99 1ZZ"})
    assert read_organisations(frame)["org_id"].tolist() == ["generic:A7", "row:2", "row:3"]
    coops = pd.DataFrame(
        {
            "Identifier": ["R1", ""],
            "Name": "X",
            "Legal Form": "Society",
            "Organisational Structure": "Co-operative",
            "Postcode": "B99 1ZZ",
        }
    )
    assert read_organisations(coops)["org_id"].tolist() == ["coopsuk:R1", "coopsuk:row:2"]


def test_dataframe_input_is_copied_and_keeps_index() -> None:
    frame = pd.DataFrame(
        {"Name": ["Pretend A", None], "Postcode": [" B99 1ZZ ", np.nan], 3: [1.5, 2.0]},
        index=pd.Index([10, 20], name="mine"),
    )
    before = frame.copy()
    orgs = read_organisations(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(orgs.index) == [10, 20]
    assert orgs.loc[10, "postcode"] == "B99 1ZZ"
    assert pd.isna(orgs.loc[20, "name"])  # blank rows are kept
    assert orgs.loc[10, "src_3"] == 1.5  # original column kept with its dtype
    assert orgs["source_row"].tolist() == [1, 2]


def test_empty_dataframe_gives_empty_schema_frame() -> None:
    orgs = read_organisations(pd.DataFrame({"name": [], "postcode": []}))
    assert len(orgs) == 0
    assert tuple(orgs.columns[: len(ORGANISATION_COLUMNS)]) == ORGANISATION_COLUMNS


def test_xlsx_parquet_and_json_sources(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Organisation": ["Pretend Bakery Co-op", "Pretend Arts CIC"],
            "Postcode": ["B99 1ZZ", "CV99 2ZZ"],
            "Company number": [1234567, 7654321],
            "Type": ["Co-operative", "CIC"],
            "Turnover": [1500.5, None],
        }
    )
    xlsx = tmp_path / "orgs.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="About", index=False)
        frame.to_excel(writer, sheet_name="Organisations", index=False)
    parquet = tmp_path / "orgs.parquet"
    frame.to_parquet(parquet)
    records = tmp_path / "orgs.json"
    records.write_text(frame.to_json(orient="records"))
    lines = tmp_path / "orgs.jsonl"
    lines.write_text(frame.to_json(orient="records", lines=True))
    results = [
        read_organisations(xlsx, sheet_name="Organisations"),
        read_organisations(xlsx, sheet_name=1),
        read_organisations(parquet),
        read_organisations(records),
        read_organisations(lines),
    ]
    for orgs in results:
        assert orgs["name"].tolist() == ["Pretend Bakery Co-op", "Pretend Arts CIC"]
        assert orgs["company_number"].tolist() == ["01234567", "07654321"]
        assert orgs["org_type"].astype(str).tolist() == [
            "co_operative",
            "community_interest_company",
        ]
        assert orgs.loc[0, "income"] == 1500.5
        assert np.isnan(orgs.loc[1, "income"])
        assert orgs["source_row"].tolist() == [1, 2]
    with pytest.raises(InputError, match=r"no sheet named 'Nope'.*'About', 'Organisations'"):
        read_organisations(xlsx, sheet_name="Nope")
    with pytest.raises(InputError, match="sheet_name=5 does not exist"):
        read_organisations(xlsx, sheet_name=5)


def test_thirty_megabyte_csv_reads_correctly_and_quickly(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = 330_000
    body = "".join(
        f'{i},"Generated Organisation {i} Ltd",B{i % 99 + 1} {i % 9}ZZ,'
        f"Community Interest Company,{i * 3}.50,88990,{i % 50}\n"
        for i in range(rows)
    )
    path.write_text("id,Organisation Name,Postcode,Legal Form,Income,SIC,Employees\n" + body)
    assert path.stat().st_size > 30e6
    started = time.perf_counter()
    orgs = read_organisations(path)
    elapsed = time.perf_counter() - started
    assert len(orgs) == rows
    assert orgs["org_id"].iloc[-1] == f"generic:{rows - 1}"
    assert orgs["income"].iloc[12] == 36.5
    assert (orgs["org_type"] == "community_interest_company").all()
    assert (orgs["sic_section"] == "Q").all()
    assert orgs["source_row"].iloc[-1] == rows
    assert elapsed < 15, f"reading 30 MB took {elapsed:.1f} s"


# ---------------------------------------------------------------------------------------
# Errors: one clear InputError each, never a pandas traceback
# ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"file '.*nope\.csv' does not exist; check the path"):
        read_organisations(tmp_path / "nope.csv")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_organisations(tmp_path)


def test_not_a_path() -> None:
    with pytest.raises(InputError, match="expects a file path or a pandas DataFrame, got int"):
        read_organisations(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="web address; download the file first"):
        read_organisations("https://example.org/orgs.csv")


@pytest.mark.parametrize("content", [b"", b"  \r\n\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.csv' is empty \(\d+ bytes\)"):
        read_organisations(path)


def test_header_only_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "header.csv", "name,postcode\n")
    with pytest.raises(InputError, match="has a heading row but no data rows"):
        read_organisations(path)
    ch = _write(
        tmp_path / "ch.csv", "CompanyName, CompanyNumber,RegAddress.PostCode,CompanyCategory\n"
    )
    with pytest.raises(InputError, match="has a heading row but no data rows"):
        read_organisations(ch)


def test_no_heading_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "commas.csv", ",,\n , ,\n")
    with pytest.raises(InputError, match=r"commas\.csv' holds no heading row"):
        read_organisations(path)
    huge = _write(tmp_path / "huge.csv", "x" * 200_000 + ",postcode\nA,B99 1ZZ\n")
    with pytest.raises(InputError, match=r"huge\.csv': cannot read its heading row \(field larger"):
        read_organisations(huge)


def test_empty_sheet(tmp_path: Path) -> None:
    path = tmp_path / "orgs.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"name": ["A"], "postcode": ["B99 1ZZ"]}).to_excel(writer, index=False)
        pd.DataFrame().to_excel(writer, sheet_name="Blank", index=False)
    with pytest.raises(
        InputError,
        match=re.escape(
            "sheet 'Blank' is empty. The workbook has 2 sheet(s): 0 'Sheet1' (headings 'name', "
            "'postcode'; looks like a register); 1 'Blank' (empty). Pick one with sheet_name=, "
            "e.g. sheet_name='Sheet1'"
        ),
    ):
        read_organisations(path, sheet_name="Blank")


def test_text_that_is_neither_utf8_nor_cp1252(tmp_path: Path) -> None:
    # 0x81 is invalid in UTF-8 and unassigned in Windows-1252
    path = tmp_path / "odd.csv"
    path.write_bytes(b"name,postcode\nA\x81,B99 1ZZ\n")
    with pytest.raises(
        InputError, match=r"not plausibly Windows-1252 either: byte '\\x81' .*encoding='latin-1'"
    ):
        read_organisations(path)
    assert read_organisations(path, encoding="latin-1").loc[0, "name"] == "A\x81"
    records = tmp_path / "odd.json"
    records.write_bytes(b'[{"name": "A\x81", "postcode": "B99 1ZZ"}]')
    with pytest.raises(InputError, match=r"odd\.json' is not UTF-8 text, and not plausibly"):
        read_organisations(records)


def test_undecodable_byte_after_the_sample(tmp_path: Path) -> None:
    rows = "".join(f"Generated Org {i},B99 {i % 9}ZZ\n" for i in range(50_000))
    path = tmp_path / "late.csv"
    path.write_bytes(("name,postcode\n" + rows).encode() + b"Bad \x81 Org,B99 9ZZ\n")
    assert path.stat().st_size > 1 << 20
    with pytest.raises(
        InputError, match=r"late\.csv' cannot be decoded as 'cp1252'.*pass encoding="
    ):
        read_organisations(path)
    with pytest.raises(InputError, match=r"cannot be decoded as 'utf-8'.*pass the right encoding="):
        read_organisations(path, encoding="utf-8")


def test_empty_json_array(tmp_path: Path) -> None:
    path = _write(tmp_path / "none.json", "[]")
    with pytest.raises(InputError, match="holds no records"):
        read_organisations(path)


def test_no_postcode_column_lists_columns_and_mapping(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "orgs.csv",
        "Organisation Name,Where it is,Kind\nPretend,B99 1ZZ,charity\nOther,CV99 1ZZ,CIC\n",
    )
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert "cannot find the postcode column" in message
    assert "'Organisation Name', 'Where it is', 'Kind'" in message
    # the values of 'Where it is' look like postcodes, so the mapping names it
    assert "columns={'name': 'Organisation Name', 'postcode': 'Where it is'}" in message
    assert "orgs.csv" in message


def test_no_name_and_no_postcode(tmp_path: Path) -> None:
    path = _write(tmp_path / "orgs.csv", "a,b\n1,2\n")
    with pytest.raises(
        InputError,
        match=r"cannot find the name column and the postcode column.*"
        r"'<heading of the name column>'",
    ):
        read_organisations(path)


def test_duplicated_headings(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.csv", "Name,Postcode,Name, Postcode\nA,B99 1ZZ,B,B99 2ZZ\n")
    with pytest.raises(
        InputError, match=r"duplicated column headings: 'Name' \(2 times\), 'Postcode' \(2 times\)"
    ):
        read_organisations(path)
    frame = pd.DataFrame([[1, 2]], columns=["name", "name"])
    with pytest.raises(InputError, match="DataFrame has duplicated column headings: 'name'"):
        read_organisations(frame)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"name,postcode\x00\x01\x02\x00" * 20)
    with pytest.raises(InputError, match="is a binary file, not text"):
        read_organisations(path)


def test_workbook_with_a_csv_name(tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    pd.DataFrame({"name": ["A"], "postcode": ["B99 1ZZ"]}).to_excel(path.with_suffix(".xlsx"))
    path.write_bytes(path.with_suffix(".xlsx").read_bytes())
    with pytest.raises(InputError, match=r"looks like a ZIP archive or an \.xlsx workbook"):
        read_organisations(path)


def test_corrupt_workbook_and_parquet(tmp_path: Path) -> None:
    xlsx = _write(tmp_path / "broken.xlsx", "not really a workbook")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        read_organisations(xlsx)
    parquet = _write(tmp_path / "broken.parquet", "not really parquet")
    with pytest.raises(InputError, match="cannot be read as Parquet"):
        read_organisations(parquet)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("orgs.docx", r"unsupported extension '\.docx'; supported: \.csv"),
        ("orgs", r"unsupported extension '\(none\)'"),
        ("orgs.xls", r"old-style Excel \.xls workbook.*save it as \.xlsx or \.csv"),
    ],
)
def test_unsupported_extension(tmp_path: Path, name: str, pattern: str) -> None:
    path = _write(tmp_path / name, "name,postcode\nA,B99 1ZZ\n")
    with pytest.raises(InputError, match=pattern):
        read_organisations(path)


def test_ragged_rows_report_line_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ragged.tsv",
        "name\tpostcode\ttype\n"
        "A\tB99 1ZZ\tcharity\n"
        "B\tB99 2ZZ\tcharity\textra\n"
        "C\tB99 3ZZ\tcharity\n"
        "D\tB99\t4ZZ\tcharity\tmore\n",
    )
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert "ragged.tsv' has 2 row(s) with the wrong number of fields" in message
    assert "the heading row has 3, but line 3 has 4, line 5 has 5" in message
    assert "unquoted delimiter '\\t'" in message
    assert "Error tokenizing" not in message


def test_ragged_ccew_text_file(registers: Path, tmp_path: Path) -> None:
    lines = (registers / "ccew_publicextract.charity.txt").read_text("utf-8-sig").splitlines()
    lines[2] = lines[2] + "\tstray"
    path = _write(tmp_path / "publicextract.charity.txt", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"heading row has 34, but line 3 has 35"):
        read_organisations(path)


def test_unclosed_quote(tmp_path: Path) -> None:
    path = _write(tmp_path / "quote.csv", 'name,postcode\n"Pretend,B99 1ZZ\nOther,B99 2ZZ\n')
    with pytest.raises(InputError, match=r"quote\.csv' is malformed.*unclosed quote"):
        read_organisations(path)


def test_register_required_headings_missing(registers: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "coops.csv", "Identifier,Name,Town\nR1,Pretend,Walsall\n")
    with pytest.raises(
        InputError,
        match=r"read as a Co-operatives UK register file \(register='coopsuk'\), but it lacks "
        r"the required heading\(s\) 'Postcode'",
    ):
        read_organisations(path, register="coopsuk")
    ch = _write(
        tmp_path / "ch.csv",
        "CompanyName, CompanyNumber,CompanyCategory\nX,1,Community Interest Company\n",
    )
    with pytest.raises(InputError, match=r"Companies House.*'RegAddress\.PostCode'"):
        read_organisations(ch)  # recognised by its headings, then found lacking
    with pytest.raises(InputError, match=r"Charity Commission.*'registered_charity_number'"):
        read_organisations(registers / "coopsuk_sample.csv", register="ccew")


def test_bad_arguments(registers: Path) -> None:
    path = registers / "coopsuk_sample.csv"
    with pytest.raises(InputError, match="register='charities' is not known; use one of"):
        read_organisations(path, register="charities")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"include_removed= applies to Charity Commission"):
        read_organisations(path, include_removed=True)
    with pytest.raises(InputError, match=r"(?s)has 2 problems.*active_only=.*company_categories="):
        read_organisations(path, active_only=True, company_categories=None)
    with pytest.raises(InputError, match="columns= applies to the generic reader only"):
        read_organisations(path, register="coopsuk", columns={"name": "Name"})
    with pytest.raises(InputError, match="chunksize must be a positive whole number"):
        read_organisations(path, chunksize=0)
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_organisations(path, encoding="klingon")


def test_wrong_explicit_encoding(registers: Path) -> None:
    with pytest.raises(InputError, match=r"cannot be decoded as 'utf-8'.*encoding="):
        read_organisations(registers / "generic_cp1252.csv", encoding="utf-8")


def test_zip_with_several_or_no_files(registers: Path, tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.write(registers / "generic_cp1252.csv", "a.csv")
        zf.write(registers / "generic_utf8_bom.csv", "b.csv")
    with pytest.raises(InputError, match=r"holds 2 readable files.*'a\.csv', 'b\.csv'"):
        read_organisations(two)
    none = tmp_path / "none.zip"
    with zipfile.ZipFile(none, "w") as zf:
        zf.writestr("readme.md", "nothing here")
    with pytest.raises(InputError, match="holds no readable file"):
        read_organisations(none)
    fake = _write(tmp_path / "fake.zip", "not a zip")
    with pytest.raises(InputError, match="is not a readable ZIP archive"):
        read_organisations(fake)


def test_malformed_json(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.json", '[{"name": "A", "postcode": "B99 1ZZ"}, {"name": ')
    with pytest.raises(InputError, match=r"bad\.json' is not valid JSON near character"):
        read_organisations(path)
    scalar = _write(tmp_path / "scalar.json", '{"name": "A"} 42')
    with pytest.raises(InputError, match="expected a JSON array of objects"):
        read_organisations(scalar)


# ---------------------------------------------------------------------------------------
# SIC sections
# ---------------------------------------------------------------------------------------

_SECTION_EDGES = {
    "01110": "A",
    "03": "A",
    "05": "B",
    "09": "B",
    "10": "C",
    "33": "C",
    "35": "D",
    "36": "E",
    "39": "E",
    "41": "F",
    "43": "F",
    "45": "G",
    "47": "G",
    "49": "H",
    "53": "H",
    "55": "I",
    "56": "I",
    "58": "J",
    "63": "J",
    "64": "K",
    "66": "K",
    "68": "L",
    "69": "M",
    "75": "M",
    "77": "N",
    "82": "N",
    "84": "O",
    "85": "P",
    "86": "Q",
    "88": "Q",
    "90": "R",
    "93": "R",
    "94": "S",
    "96": "S",
    "97": "T",
    "98": "T",
    "99000": "U",
}


def test_sic_section_boundaries() -> None:
    result = sic_sections(pd.Series(list(_SECTION_EDGES)))
    assert result["sic_section"].tolist() == list(_SECTION_EDGES.values())


@pytest.mark.parametrize(
    "code", ["04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89", "99999", "abc"]
)
def test_sic_codes_without_section(code: str) -> None:
    assert pd.isna(sic_sections(pd.Series([code]))["sic_section"].iloc[0])


def test_sic_code_forms() -> None:
    result = sic_sections(pd.Series([1110, 88990.0, "  47110 - Retail sale  ", "88.99", "8", None]))
    assert result["sic_code"].tolist()[:5] == ["01110", "88990", "47110", "88.99", "08"]
    assert result["sic_section"].tolist()[:5] == ["A", "Q", "G", "Q", "B"]
    assert result["sic_text"].iloc[2] == "Retail sale"
    assert result.iloc[5].isna().all()


# ---------------------------------------------------------------------------------------
# Regressions
# ---------------------------------------------------------------------------------------


def test_ccew_backslash_in_a_field_does_not_shift_later_fields(
    registers: Path, tmp_path: Path
) -> None:
    lines = (registers / "ccew_publicextract.charity.txt").read_text("utf-8-sig").splitlines()
    headings = lines[0].split("\t")
    first = lines[1].split("\t")
    first[headings.index("charity_contact_address1")] = "Unit 4 Example Yard\\"
    lines[1] = "\t".join(first)
    second = lines[2].split("\t")
    second[headings.index("charity_name")] = 'Food "Bank\\" CIO'
    lines[2] = "\t".join(second)
    path = _write(tmp_path / "publicextract.charity.txt", "\r\n".join(lines) + "\r\n")
    orgs = read_organisations(path)
    assert orgs.loc[0, "postcode"] == "B99 9ZZ"
    assert orgs.loc[0, "address"] == "Unit 4 Example Yard\\, Testing Street, Birmingham"
    assert orgs.loc[1, "name"] == 'Food "Bank\\" CIO'
    assert orgs.loc[1, "postcode"] == "CV98 1ZZ"


def test_parquet_binary_text_and_named_index_are_read(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"name": [b"Caf\xc3\xa9 Co-op", b"Old \xe9 Mill"], "postcode": [b"B15 2TT", None]},
        index=pd.Index(["X1", "X2"], name="id"),
    )
    frame.to_parquet(tmp_path / "orgs.parquet")
    orgs = read_organisations(tmp_path / "orgs.parquet")
    assert orgs["name"].tolist() == ["Café Co-op", "Old é Mill"]  # UTF-8, else cp1252
    assert orgs.loc[0, "postcode"] == "B15 2TT"
    assert orgs["org_id"].tolist() == ["generic:X1", "generic:X2"]  # the index is the id
    assert orgs.attrs["column_map"]["org_id"] == "id"


def test_title_rows_above_the_heading_row_are_skipped(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Social economy register, West Midlands"
    sheet.merge_cells("A1:C1")
    sheet["A2"] = "Organisation"
    sheet.merge_cells("A2:B2")
    sheet["C2"] = "Finance"
    sheet.append(["Name", "Postcode", "Income"])
    sheet.append(["Pretend Bakery Co-op", "B99 1ZZ", 100])
    sheet.append(["Pretend Arts CIC", "CV99 2ZZ", None])
    book.save(tmp_path / "register.xlsx")
    orgs = read_organisations(tmp_path / "register.xlsx")
    assert orgs["name"].tolist() == ["Pretend Bakery Co-op", "Pretend Arts CIC"]
    assert orgs["postcode"].tolist() == ["B99 1ZZ", "CV99 2ZZ"]
    assert orgs["income"].tolist()[0] == 100

    text = "Register of co-operatives\nExported 2024-01-01\n\nName;Postcode\nA;B1 1AA\nB;B1 1AB\n"
    orgs = read_organisations(_write(tmp_path / "titled.csv", text))
    assert orgs["name"].tolist() == ["A", "B"]
    assert orgs["source_row"].tolist() == [1, 2]
    mapped = _write(tmp_path / "mapped.csv", "My list\nOrg,PC\nA,B1 1AA\n")
    orgs = read_organisations(mapped, columns={"name": "Org", "postcode": "PC"})
    assert orgs["postcode"].tolist() == ["B1 1AA"]
    blank_first = read_organisations(_write(tmp_path / "blank.csv", "\n\nName,Postcode\nA,B1\n"))
    assert blank_first["name"].tolist() == ["A"]
    ragged = _write(tmp_path / "ragged.csv", "Register, 2024\nName,Postcode\nA,B1\nB,B2,x\n")
    with pytest.raises(InputError, match="the heading row has 2, but line 4 has 3"):
        read_organisations(ragged)


def test_two_columns_that_both_look_like_the_postcode_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "twice.csv", "Name,Postcode,postcode\nA,B1 1AA,CV1 5FB\n")
    with pytest.raises(
        InputError, match=r"'Postcode', 'postcode' all look like the postcode column.*columns="
    ):
        read_organisations(path)
    orgs = read_organisations(path, columns={"postcode": "postcode"})
    assert orgs.loc[0, "postcode"] == "CV1 5FB"


def test_companies_house_categories_ignore_runs_of_whitespace(registers: Path) -> None:
    frame = read_organisations(registers / "companies_house_basic.csv", company_categories=None)
    raw = frame[[c for c in frame.columns if c.startswith("src_")]]
    raw.columns = [c.removeprefix("src_") for c in raw.columns]
    raw["CompanyCategory"] = raw["CompanyCategory"].str.replace(" ", "  ").str.upper()
    orgs = read_organisations(raw)
    assert orgs.attrs["filtered_out"] == {"category": 2}
    assert orgs["org_type"].astype(str).tolist()[0] == "community_interest_company"


def test_ccew_line_breaks_inside_fields_do_not_split_records(
    registers: Path, tmp_path: Path
) -> None:
    lines = (registers / "ccew_publicextract.charity.txt").read_text("utf-8-sig").splitlines()
    headings = lines[0].split("\t")
    first = lines[1].split("\t")
    first[headings.index("charity_contact_address1")] = "Unit 4\nExample Yard"
    first[headings.index("charity_activities")] = "Runs a lunch club;\r\ntea & chat."
    lines[1] = "\t".join(first)
    path = tmp_path / "publicextract.charity.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    orgs = read_organisations(path, include_removed=True, include_linked=True)
    assert orgs.attrs["rows_read"] == 5
    assert orgs["org_id"].tolist()[:2] == ["ccew:1999001", "ccew:1999002"]
    assert orgs.loc[0, "postcode"] == "B99 9ZZ"
    assert orgs.loc[0, "address"] == "Unit 4 Example Yard, Testing Street, Birmingham"
    assert orgs.loc[0, "src_charity_activities"] == "Runs a lunch club; tea & chat."
    assert orgs["source_row"].tolist() == [1, 2, 3, 4, 5]


def test_columns_mapping_to_a_non_text_heading(tmp_path: Path) -> None:
    path = _write(tmp_path / "orgs.csv", "Org,PC,5\nA,B1 1AA,x\n")
    with pytest.raises(InputError, match=r"columns=\{'name': 7\} names a heading that is not"):
        read_organisations(path, columns={"name": 7, "postcode": "PC"})
    orgs = read_organisations(path, columns={"name": "Org", "postcode": "PC", "id": 5})
    assert orgs["org_id"].tolist() == ["generic:x"]


def test_register_files_carry_their_provenance(tmp_path: Path) -> None:
    from socecon_geo.provenance import get_provenance

    path = tmp_path / "coopsuk_open_data_2023-03-02.csv"
    path.write_text(
        "Identifier,Name,Legal Form,Organisational Structure,Postcode\n"
        "R1,Aston Food Co-op,Society,Co-operative,B6 4AB\n",
        encoding="utf-8",
    )
    (record,) = get_provenance(read_organisations(path))
    assert (record.name, record.vintage, record.source) == (
        "coopsuk_open_data",
        "2023-03-02",
        str(path),
    )
    assert record.attribution == "Contains Co-operatives UK open data licensed under ODC-By 1.0"
    companies = tmp_path / "BasicCompanyData-2025-06-01-part1_7.csv"
    companies.write_text(
        "CompanyName,CompanyNumber,RegAddress.PostCode,CompanyCategory\n"
        "Kings CIC,123,B1 1AY,Community Interest Company\n",
        encoding="utf-8",
    )
    (ch,) = get_provenance(read_organisations(companies))
    assert (ch.publisher, ch.licence, ch.vintage) == (
        "Companies House",
        "Open Government Licence v3.0",
        "2025-06-01",
    )
    # a user's own list has no licence the reader could know
    assert (
        get_provenance(read_organisations(pd.DataFrame({"name": ["A"], "postcode": ["B1"]}))) == ()
    )


def test_rows_with_only_empty_fields_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _write(tmp_path / "gaps.csv", "name,postcode,type\nA,B99 1ZZ,CIC\n,,\n  ,  ,\nB,,\n")
    orgs = read_organisations(path)
    assert len(orgs) == 2
    assert orgs["source_row"].tolist() == [1, 4]
    assert orgs["org_type"].astype(str).tolist() == ["community_interest_company", "other"]
    assert orgs.attrs["filtered_out"] == {"blank": 2}
    assert orgs.attrs["rows_read"] == 4


def test_spreadsheet_rows_match_sheet_rows(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Postcode"])
    sheet.append(["Pretend A", "B99 1ZZ"])
    sheet.append([None, None])  # a blank row inside the data is skipped and counted
    sheet.append(["Pretend C", 12345])  # a number where text was expected
    path = tmp_path / "sheet.xlsx"
    book.save(path)
    orgs = read_organisations(path)
    assert orgs["source_row"].tolist() == [1, 3]  # sheet rows 2 and 4
    assert orgs["name"].tolist() == ["Pretend A", "Pretend C"]
    assert orgs.loc[1, "postcode"] == "12345"
    assert orgs.attrs["filtered_out"] == {"blank": 1}
    assert orgs.attrs["rows_read"] == 3


# ---------------------------------------------------------------------------------------
# Regressions
# ---------------------------------------------------------------------------------------

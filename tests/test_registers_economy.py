"""Tests of the size-and-growth columns of the organisation schema and the economy join."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from socecon_geo import get_provenance
from socecon_geo._errors import InputError
from socecon_geo._schema import COLUMN_DTYPES
from socecon_geo.registers import ORGANISATION_COLUMNS, read_organisations

NEW_COLUMNS = (
    "expenditure",
    "members",
    "economy_year",
    "registered_on",
    "dissolved_on",
    "register_status",
    "active",
)

REGISTERS = Path(__file__).resolve().parent / "data" / "registers"

ORGS_2016 = "organisations/coopsuk_2016/2016open_data_organisations.csv"
ECONOMY_2016 = "organisations/coopsuk_2016/2016open_data_economy_final.csv"
ORGS_2023 = "organisations/coopsuk_open_data_2023-03-02.csv"

HEADINGS_2016 = (
    "CUK Organisation ID,Registered Number,Registrar,Registered Name,Trading Name,Legal Form,"
    "Registered Street,Registered City,Registered State/Province,Registered Postcode,"
    'UK Nation,SIC Code,SIC section,"Sector - Simplified, High Level",Ownership Classification,'
    "Registered Status,Incorporation Date,Dissolved Date\n"
)

ECONOMY_HEADINGS = (
    "CUK Organisation ID,Registered Name,Turnover,Profit before tax,"
    "Member/Shareholder Funds,Memberships,Employees,Is Most Recent?,Year End Date,"
    "Economic Year\n"
)


def _coops_2016(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "orgs2016.csv"
    path.write_text(HEADINGS_2016 + "".join(r + "\n" for r in rows))
    return path


def _economy(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "economy.csv"
    path.write_text(ECONOMY_HEADINGS + "".join(r + "\n" for r in rows))
    return path


ROW_A = (
    "R000010,525R,FCA,Aston Food Co-operative Limited,,Society,1 High St,Birmingham,,"
    "B6 4AB,England,UKSIC07-4711,Retail,Retail,Consumers,Live,11/8/1963,"
)
ROW_B = (
    "R000011,04518100,Companies House,Digbeth Workers Ltd,,Company,2 Low St,Birmingham,,"
    "B5 6DY,England,UKSIC07-471,Retail,Retail,Workers,Dead,3/3/2001,05/03/2015"
)


def test_new_columns_follow_employees_with_their_dtypes() -> None:
    at = ORGANISATION_COLUMNS.index("employees")
    assert ORGANISATION_COLUMNS[at + 1 : at + 1 + len(NEW_COLUMNS)] == NEW_COLUMNS
    orgs = read_organisations(REGISTERS / "coopsuk_sample.csv")
    for column in NEW_COLUMNS:
        assert orgs[column].dtype == COLUMN_DTYPES[column], column
    # the 2023 file has no status, dates or economic data
    assert orgs[list(NEW_COLUMNS)].isna().all().all()


def test_2016_layout_read_as_coopsuk(tmp_path: Path) -> None:
    orgs = read_organisations(_coops_2016(tmp_path, ROW_A, ROW_B))
    assert orgs.attrs["register"] == "coopsuk"
    assert orgs["org_id"].tolist() == ["coopsuk:R000010", "coopsuk:R000011"]
    assert orgs["name"].tolist() == ["Aston Food Co-operative Limited", "Digbeth Workers Ltd"]
    assert orgs["postcode"].tolist() == ["B6 4AB", "B5 6DY"]
    # a class gains its subclass digit, a group is written with a dot
    assert orgs["sic_code"].tolist() == ["47110", "47.1"]
    assert orgs["sic_section"].tolist() == ["G", "G"]
    assert orgs["registered_on"].tolist() == [
        pd.Timestamp("1963-08-11"),
        pd.Timestamp("2001-03-03"),
    ]
    assert orgs["dissolved_on"].isna().tolist() == [True, False]
    assert orgs["dissolved_on"].iloc[1] == pd.Timestamp("2015-03-05")
    assert orgs["register_status"].tolist() == ["Live", "Dead"]
    assert orgs["active"].tolist() == [True, False]
    # the registered number is a company number only at Companies House
    assert orgs["company_number"].isna().iloc[0]
    assert orgs["company_number"].iloc[1] == "04518100"


def test_active_needs_the_status_and_no_dissolution(tmp_path: Path) -> None:
    live_but_dissolved = ROW_A.replace("R000010", "R000012").rstrip(",") + ",1/1/2014"
    no_status = ROW_A.replace("R000010", "R000013").replace(",Live,", ",,")
    no_status_dissolved = no_status.replace("R000013", "R000014").rstrip(",") + ",1/1/2014"
    orgs = read_organisations(
        _coops_2016(tmp_path, live_but_dissolved, no_status, no_status_dissolved)
    )
    assert orgs["active"].tolist() == [False, pd.NA, False]


def test_unparseable_dates_name_column_row_and_value(tmp_path: Path) -> None:
    bad = ROW_B.replace("3/3/2001", "31/02/2001")
    worse = ROW_A.replace("11/8/1963", "August 1963")
    path = _coops_2016(tmp_path, ROW_A, bad, worse)
    with pytest.raises(InputError, match=r"'Incorporation Date' \(registered_on\)") as caught:
        read_organisations(path)
    message = str(caught.value)
    assert "source_row 2: '31/02/2001', 3: 'August 1963'" in message
    assert "orgs2016.csv" in message


def test_dates_of_charities_and_companies(tmp_path: Path) -> None:
    charities = read_organisations(REGISTERS / "ccew_publicextract.charity.txt")
    assert charities["registered_on"].iloc[0] == pd.Timestamp("2001-04-02")
    assert charities["register_status"].eq("Registered").all()
    assert charities["active"].all()
    assert charities["expenditure"].iloc[0] == 119500.5
    companies = read_organisations(REGISTERS / "companies_house_basic.csv")
    assert companies["registered_on"].iloc[0] == pd.Timestamp("2015-02-01")
    assert companies["register_status"].iloc[0] == "Active"
    assert companies["active"].iloc[0]
    bad = pd.read_csv(REGISTERS / "companies_house_basic.csv", dtype=str)
    bad.loc[1, "IncorporationDate"] = "2015/31/31"
    with pytest.raises(InputError, match=r"'IncorporationDate' \(registered_on\).*2: '2015/31/31'"):
        read_organisations(bad)


def test_charity_removal_and_financial_year() -> None:
    frame = pd.read_csv(REGISTERS / "ccew_publicextract.charity.txt", sep="\t", dtype=str)
    frame.loc[0, "charity_registration_status"] = "Removed"
    frame.loc[0, "date_of_removal"] = "2020-06-30 00:00:00"
    frame.loc[1, "latest_acc_fin_period_end_date"] = "2023-03-31 00:00:00"
    orgs = read_organisations(frame, include_removed=True)
    assert orgs["active"].tolist()[:2] == [False, True]
    assert orgs["dissolved_on"].iloc[0] == pd.Timestamp("2020-06-30")
    assert orgs["economy_year"].iloc[1] == 2023
    assert orgs.attrs["column_map"]["economy_year"] == "latest_acc_fin_period_end_date"
    frame.loc[1, "latest_acc_fin_period_end_date"] = "March 2023"
    with pytest.raises(
        InputError, match=r"'latest_acc_fin_period_end_date' \(economy_year\).*2: 'March 2023'"
    ):
        read_organisations(frame, include_removed=True)


def test_generic_reader_finds_the_new_headings() -> None:
    frame = pd.DataFrame(
        {
            "Name": ["A", "B"],
            "Postcode": ["B1 1AA", "B2 2BB"],
            "Expenditure": ["1,000", ""],
            "Members": [12, None],
            "Registration date": ["2001-02-03T00:00:00Z", "4/5/2006"],
            "Dissolution date": [None, "2019-01-01"],
            "Status": ["Active", "Dissolved"],
        }
    )
    orgs = read_organisations(frame)
    # a user's own status words other than the known ones leave ``active`` unknown
    other = read_organisations(
        frame.assign(Status=["Open", "Closed"], **{"Dissolution date": None})
    )
    assert other["active"].tolist() == [pd.NA, False]
    assert orgs["expenditure"].tolist()[0] == 1000.0
    assert orgs["members"].tolist()[0] == 12.0
    assert orgs["registered_on"].tolist() == [
        pd.Timestamp("2001-02-03"),
        pd.Timestamp("2006-05-04"),
    ]
    assert orgs["active"].tolist() == [True, False]
    assert orgs.attrs["column_map"]["register_status"] == "Status"


def test_economy_join_latest_and_given_year(tmp_path: Path) -> None:
    orgs = _coops_2016(tmp_path, ROW_A, ROW_B, ROW_A.replace("R000010", "R000099"))
    economy = _economy(
        tmp_path,
        "R000010,Aston,1000,,,50,3,0,2014-03-31 00:00:00,2014",
        "R000010,Aston,1200,,,55,,1,2015-03-31 00:00:00,2015",
        "R000011,Digbeth,700,,,9,2,1,2014-03-31 00:00:00,2014",
        "N/a,Credit Unions Total,5000000,,,100,,,,2015",
        "N/a,Credit Unions Total,6000000,,,100,,,,2015",
    )
    latest = read_organisations(orgs, economy=economy)
    assert latest["income"].tolist()[:2] == [1200.0, 700.0]
    assert latest["members"].tolist()[:2] == [55.0, 9.0]
    assert latest["economy_year"].tolist() == [2015, 2014, pd.NA]
    assert latest["employees"].isna().tolist() == [True, False, True]
    assert len(latest) == 3
    summary = latest.attrs["economy"]
    assert summary["year"] == "latest"
    assert summary["years"] == [2014, 2015]
    assert (summary["joined"], summary["without_year"], summary["not_in_economy"]) == (2, 0, 1)
    assert summary["economy_ids_not_in_register"] == 1  # the N/a aggregate rows
    assert [p.name for p in get_provenance(latest)] == ["coopsuk_open_data_2016", "coopsuk_economy"]
    given = read_organisations(orgs, economy=economy, economy_year=2014)
    assert given["income"].tolist()[:2] == [1000.0, 700.0]
    assert given["employees"].tolist()[0] == 3.0
    only_2015 = read_organisations(orgs, economy=economy, economy_year=2015)
    assert only_2015["income"].isna().tolist() == [False, True, True]
    assert only_2015.attrs["economy"]["without_year"] == 1


def test_economy_as_a_dataframe(tmp_path: Path) -> None:
    orgs = _coops_2016(tmp_path, ROW_A)
    economy = pd.read_csv(
        _economy(tmp_path, "R000010,Aston,1000,,,50,3,0,2014-03-31 00:00:00,2014"), dtype=str
    )
    before = economy.copy()
    joined = read_organisations(orgs, economy=economy)
    pd.testing.assert_frame_equal(economy, before)
    assert joined["income"].tolist() == [1000.0]
    assert joined.attrs["economy"]["source"] == "DataFrame"
    assert "coopsuk_economy" in {p.name for p in get_provenance(joined)}


def test_economy_errors(tmp_path: Path) -> None:
    orgs = _coops_2016(tmp_path, ROW_A)
    economy = _economy(tmp_path, "R000010,Aston,1000,,,50,3,0,2014-03-31 00:00:00,2014")
    with pytest.raises(InputError, match=r"economy_year=2020 is not in .*years are 2014\."):
        read_organisations(orgs, economy=economy, economy_year=2020)
    with pytest.raises(InputError, match="economy_year must be a whole year"):
        read_organisations(orgs, economy=economy, economy_year="2014")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="economy_year= needs economy="):
        read_organisations(orgs, economy_year=2014)
    with pytest.raises(InputError, match="economy= applies to Co-operatives UK files"):
        read_organisations(REGISTERS / "companies_house_basic.csv", economy=economy)
    missing = tmp_path / "not_economy.csv"
    missing.write_text("CUK Organisation ID,Turnover\nR000010,5\n")
    with pytest.raises(InputError, match=r"lacks the heading\(s\) 'Economic Year'"):
        read_organisations(orgs, economy=missing)
    twice = _economy(
        tmp_path,
        "R000010,Aston,1000,,,50,3,0,2014-03-31 00:00:00,2014",
        "R000010,Aston,1100,,,50,3,0,2014-03-31 00:00:00,2014",
    )
    with pytest.raises(InputError, match=r"coopsuk:R000010 2014 \(source_row 1, 2\)"):
        read_organisations(orgs, economy=twice)
    junk = _economy(tmp_path, "R000010,Aston,lots,,,50,3,0,,2014", "R000010,Aston,1,,,5,,,,FY14")
    with pytest.raises(InputError, match=r"2 problems") as caught:
        read_organisations(orgs, economy=junk)
    assert "'Economic Year' holds values that are not years: source_row 2: 'FY14'" in str(
        caught.value
    )
    assert "'Turnover' holds values that are not numbers: source_row 1: 'lots'" in str(caught.value)


# ---- the real files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def coops_2016(shared_data: Path) -> pd.DataFrame:
    return read_organisations(shared_data / ORGS_2016, economy=shared_data / ECONOMY_2016)


def test_real_2016_file(shared_data: Path, coops_2016: pd.DataFrame) -> None:
    plain = read_organisations(shared_data / ORGS_2016)
    assert len(plain) == 8037
    assert plain.attrs["register"] == "coopsuk"
    assert plain["org_id"].str.fullmatch(r"coopsuk:R\d{6}").all()
    assert plain["registered_on"].notna().sum() == 7836
    assert plain["dissolved_on"].notna().sum() == 1222
    assert plain["register_status"].value_counts().to_dict() == {"Live": 6811, "Dead": 1226}
    # 2 Live rows carry a dissolution date, so 6,809 are active
    assert plain["active"].value_counts().to_dict() == {True: 6809, False: 1228}
    assert len(coops_2016) == 8037
    assert coops_2016["source_row"].tolist() == list(range(1, 8038))


def test_real_2023_organisations_in_2016_file(shared_data: Path, coops_2016: pd.DataFrame) -> None:
    coops_2023 = read_organisations(shared_data / ORGS_2023)
    assert coops_2023["org_id"].isin(set(coops_2016["org_id"])).sum() == 5361


def test_real_economy_join(shared_data: Path, coops_2016: pd.DataFrame) -> None:
    summary = coops_2016.attrs["economy"]
    assert summary["years"] == [2011, 2012, 2013, 2014, 2015, 2016]
    assert summary["rows_read"] == 32292
    # latest year by default: 6,077 rows have economic data, 5,311 of them for 2016
    assert summary["joined"] == 6077
    assert summary["not_in_economy"] == 1960
    assert coops_2016["economy_year"].value_counts()[2016] == 5311
    assert coops_2016["income"].notna().sum() == 5301
    given = read_organisations(
        shared_data / ORGS_2016, economy=shared_data / ECONOMY_2016, economy_year=2016
    )
    joined = given["economy_year"].notna()
    assert joined.sum() == 5311
    # turnover is known for 4,667 of the 5,311 rows with 2016 data: 87.9%
    assert given.loc[joined, "income"].notna().sum() == 4667
    assert round(given.loc[joined, "income"].notna().mean(), 3) == 0.879
    assert given.loc[joined, "employees"].notna().sum() == 335
    given_2012 = read_organisations(
        shared_data / ORGS_2016, economy=shared_data / ECONOMY_2016, economy_year=2012
    )
    assert set(given_2012["economy_year"].dropna()) == {2012}
    with pytest.raises(InputError, match="economic years are 2011, 2012, 2013, 2014, 2015, 2016"):
        read_organisations(
            shared_data / ORGS_2016, economy=shared_data / ECONOMY_2016, economy_year=2010
        )

"""Growth on the real Co-operatives UK 2016 and 2023 registers, checked with plain pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import socecon_geo as sg

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

WMCA = ("E08000025", "E08000026", "E08000027", "E08000028", "E08000029", "E08000030", "E08000031")


@pytest.fixture(scope="module")
def files(shared_data: Path) -> dict[str, Path]:
    folder = shared_data / "organisations"
    return {
        "2016": folder / "coopsuk_2016" / "2016open_data_organisations.csv",
        "economy": folder / "coopsuk_2016" / "2016open_data_economy_final.csv",
        "2023": folder / "coopsuk_open_data_2023-03-02.csv",
    }


@pytest.fixture(scope="module")
def raw_2016(files: dict[str, Path]) -> pd.DataFrame:
    """The 2016 file read by plain pandas: one row per CSV record, dates parsed here."""
    raw = pd.read_csv(files["2016"], dtype=str, keep_default_na=False, na_values=[""])
    raw["registered"] = pd.to_datetime(raw["Incorporation Date"], format="%d/%m/%Y")
    raw["dissolved"] = pd.to_datetime(raw["Dissolved Date"], format="%d/%m/%Y")
    return raw


@pytest.fixture(scope="module")
def orgs_2016(files: dict[str, Path]) -> pd.DataFrame:
    return sg.read_organisations(files["2016"])


@pytest.fixture(scope="module")
def points_2016(orgs_2016: pd.DataFrame) -> pd.DataFrame:
    return sg.assign_areas(sg.geocode(orgs_2016))


@pytest.fixture(scope="module")
def points_2023(files: dict[str, Path]) -> pd.DataFrame:
    return sg.assign_areas(sg.geocode(sg.read_organisations(files["2023"])))


def _reconciles(table: pd.DataFrame, keys: list[str]) -> None:
    groups = table.groupby(keys, sort=False) if keys else [(None, table)]
    for _, area in groups:
        assert (area["stock"] == area["stock_start"] + area["births"] - area["deaths"]).all()
        assert (area["stock_start"].iloc[1:].to_numpy() == area["stock"].iloc[:-1]).all()


def test_uk_births_and_deaths_equal_plain_pandas(
    orgs_2016: pd.DataFrame, raw_2016: pd.DataFrame
) -> None:
    table = sg.births_and_deaths(orgs_2016, level=None)
    assert len(orgs_2016) == len(raw_2016) == 8037
    # plain pandas: one row per organisation identifier, with a registration date, and
    # (as the register's status says) not dead without a dissolution date
    one = raw_2016.drop_duplicates("CUK Organisation ID")
    assert len(one) == 8019
    one = one[one["registered"].notna()]
    one = one[~((one["Registered Status"] == "Dead") & one["dissolved"].isna())]
    assert table.attrs["n_counted"] == len(one)
    assert table.attrs["not_counted"]["duplicate"] == 18
    assert table.attrs["not_counted"]["no_registration_date"] == int(
        raw_2016.drop_duplicates("CUK Organisation ID")["registered"].isna().sum()
    )
    births = one["registered"].dt.year.value_counts()
    deaths = one["dissolved"].dt.year.value_counts()
    by_year = table.set_index("year")
    for year in range(2005, 2017):
        end = pd.Timestamp(year=year, month=12, day=31)
        alive = (one["registered"] <= end) & ~(one["dissolved"] <= end)
        assert by_year.loc[year, "births"] == births.get(year, 0), year
        assert by_year.loc[year, "deaths"] == deaths.get(year, 0), year
        assert by_year.loc[year, "stock"] == int(alive.sum()), year
    _reconciles(table, [])
    assert table.attrs["deaths_recorded_from"] == 2011
    assert table.attrs["data_end"] == str(raw_2016[["registered", "dissolved"]].max().max().date())
    assert by_year.loc[2016, "partial_year"]


def test_wmca_births_and_deaths_by_authority_reconcile(points_2016: pd.DataFrame) -> None:
    table = sg.births_and_deaths(points_2016, years=range(2011, 2017))
    assert table["lad_code"].unique().tolist() == list(WMCA)
    assert len(table) == 7 * 6
    _reconciles(table, ["lad_code"])
    # the same counts from the points, by plain pandas
    one = points_2016.drop_duplicates("org_id")
    one = one[one["registered_on"].notna() & one["lad_code"].isin(WMCA)]
    one = one[~((one["active"] == False) & one["dissolved_on"].isna())]  # noqa: E712
    for row in table.itertuples():
        here = one[one["lad_code"] == row.lad_code]
        end = pd.Timestamp(year=row.year, month=12, day=31)
        assert row.births == int((here["registered_on"].dt.year == row.year).sum())
        assert row.deaths == int((here["dissolved_on"].dt.year == row.year).sum())
        alive = (here["registered_on"] <= end) & ~(here["dissolved_on"] <= end)
        assert row.stock == int(alive.sum())
    counted = table.attrs["n_counted"] + sum(table.attrs["not_counted"].values())
    assert counted == len(points_2016)


def test_2016_to_2023_accounts_for_every_organisation_once(
    points_2016: pd.DataFrame,
    points_2023: pd.DataFrame,
    raw_2016: pd.DataFrame,
    files: dict[str, Path],
) -> None:
    result = sg.compare_snapshots(points_2016, points_2023, measure=None)
    orgs = result.organisations
    counts = result.counts
    # 8,037 rows of 2016 are 8,019 organisations: 18 identifiers appear twice (the same
    # organisation under two SIC level-4 descriptions), folded into one
    assert result.parameters["repeated_rows"] == {"old": 18, "new": 0}
    assert counts["continuing"] + counts["gone"] == 8037 - 18
    assert counts["continuing"] + counts["new"] == 7272
    assert orgs["rows_old"].sum() == 8037
    assert orgs["rows_new"].sum() == 7272
    assert orgs["org_id_old"].dropna().is_unique
    assert orgs["org_id_new"].dropna().is_unique
    old_ids = set("coopsuk:" + raw_2016["CUK Organisation ID"])
    raw_2023 = pd.read_csv(files["2023"], dtype=str)
    new_ids = set("coopsuk:" + raw_2023["Identifier"])
    assert set(orgs["org_id_old"].dropna()) == old_ids
    assert set(orgs["org_id_new"].dropna()) == new_ids
    assert len(orgs) == sum(counts.values())
    # identifier matches are exactly the identifiers in both files (5,361); the others
    # continuing share a name and postcode or a registered number under a new identifier
    assert len(old_ids & new_ids) == 5361
    assert int((orgs["match_method"] == "org_id").sum()) == 5361
    assert counts["continuing"] == int(orgs["match_method"].notna().sum())

    areas = result.areas.set_index("lad_code")
    assert list(areas.index) == list(WMCA)
    assert (areas["n_old"] == areas["continuing"] + areas["moved_out"] + areas["gone"]).all()
    assert (areas["n_new"] == areas["continuing"] + areas["moved_in"] + areas["new"]).all()
    # n_old and n_new are the organisations of each file placed in each authority
    old_in = points_2016.drop_duplicates("org_id")["lad_code"].value_counts()
    new_in = points_2023["lad_code"].value_counts()
    for code in WMCA:
        assert areas.loc[code, "n_old"] == old_in.get(code, 0)
        assert areas.loc[code, "n_new"] == new_in.get(code, 0)


def test_errors_on_the_real_files(
    orgs_2016: pd.DataFrame, points_2016: pd.DataFrame, points_2023: pd.DataFrame
) -> None:
    with pytest.raises(sg.InputError, match=r"year 2023 is outside the data: .* to 2016"):
        sg.births_and_deaths(orgs_2016, level=None, years=[2016, 2023])
    with pytest.raises(sg.InputError, match=r"'employees' has no value on any row of either"):
        sg.compare_snapshots(
            points_2016.assign(employees=float("nan")), points_2023, measure="employees"
        )
    broken = orgs_2016.assign(registered_on=orgs_2016["registered_on"].dt.strftime("%d/%m/%Y"))
    broken.loc[broken.index[3], "registered_on"] = "11/13/1863"
    row = broken["source_row"].iloc[3]
    with pytest.raises(sg.InputError, match=rf"source_row {row} of .*: '11/13/1863'"):
        sg.births_and_deaths(broken, level=None)
    table = sg.births_and_deaths(points_2016)
    with pytest.raises(sg.InputError, match=r"baseline_year 2023 is outside the data"):
        sg.doubling_trajectory(table, baseline_year=2023)

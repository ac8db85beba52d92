"""Tests of socecon_geo.size: the size of the social economy by area."""

from __future__ import annotations

import math
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import socecon_geo as sg
from socecon_geo._errors import InputError
from socecon_geo._schema import COLUMN_DTYPES, SIZE_STATUSES

ORGS_2016 = "organisations/coopsuk_2016/2016open_data_organisations.csv"
ECONOMY_2016 = "organisations/coopsuk_2016/2016open_data_economy_final.csv"
ORGS_2023 = "organisations/coopsuk_open_data_2023-03-02.csv"
WMCA = [f"E080000{n}" for n in range(25, 32)]


# ---- a small geography, by hand --------------------------------------------------------


@pytest.fixture(scope="module")
def small_geography() -> sg.Geography:
    authorities = gpd.GeoDataFrame(
        {"lad_code": ["E1", "E2"], "lad_name": ["East", "West"]},
        geometry=[box(400000, 280000, 401000, 281000), box(401000, 280000, 402000, 281000)],
        crs=27700,
    )
    return sg.Geography.from_files(authorities=authorities)


def _orgs(**columns: list) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    data = {"org_id": [f"o{i}" for i in range(n)], "name": [f"Org {i}" for i in range(n)]}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[Point(400500, 280500)] * n, crs=27700)


def test_statuses_and_the_national_flag(small_geography: sg.Geography) -> None:
    orgs = _orgs(
        lad_code=["E1", "E1", "E1", None, "E9", "E2", "E1"],
        income=[100.0, 2e7, np.nan, 5.0, 5.0, 40.0, 100.0],
        active=pd.array([True, True, pd.NA, True, True, False, True], dtype="boolean"),
    )
    orgs.loc[6, "org_id"] = "o0"  # the same organisation as row 0
    orgs.index = [f"r{i}" for i in range(7)]
    before = orgs.copy()
    size = sg.social_economy_size(
        orgs, level="lad", measures=("count", "income"), geography=small_geography
    )
    pd.testing.assert_frame_equal(orgs, before)  # the caller's frame is untouched
    out = size.organisations
    assert list(out.index) == list(orgs.index)
    assert out["size_status"].tolist() == [
        "counted",
        "counted",
        "counted",  # activity not known: counted
        "no_area",
        "no_area",
        "inactive",
        "duplicate",
    ]
    assert list(out["size_status"].cat.categories) == list(SIZE_STATUSES)
    assert out["size_national"].tolist() == [False, True, False, False, False, False, False]
    assert out["size_national_reason"].tolist()[1] == "income_above_threshold"
    for column in ("size_status", "size_national", "size_national_reason"):
        assert out[column].dtype == COLUMN_DTYPES[column], column
    assert size.areas.attrs["size_status"] == {
        "counted": 3,
        "no_area": 2,
        "inactive": 1,
        "duplicate": 1,
    }
    assert size.areas.attrs["activity_unknown_counted"] == 1
    east, west = size.areas.iloc[0], size.areas.iloc[1]
    assert (east["n_organisations"], west["n_organisations"]) == (3, 0)
    assert east["income_known"] == 2
    assert east["income_coverage"] == pytest.approx(2 / 3)
    assert math.isnan(west["income_coverage"])
    assert (east["income_total"], east["income_total_excl_national"]) == (20000100.0, 100.0)
    assert east["income_total_difference"] == 2e7
    assert (east["n_organisations_excl_national"], east["n_organisations_difference"]) == (2, 1)
    assert east["income_top"] == "Org 1 (20,000,000); Org 0 (100)"
    assert pd.isna(west["income_top"])
    # with every organisation counted, the inactive one counts in West
    everyone = sg.social_economy_size(
        orgs,
        level="lad",
        measures=("count", "income"),
        geography=small_geography,
        active_only=False,
    )
    assert everyone.areas["n_organisations"].tolist() == [3, 1]
    assert repr(everyone).startswith("SizeResult(2 areas (lad); 7 organisations: counted 4")


def test_combined_registers_count_once(small_geography: sg.Geography) -> None:
    orgs = _orgs(lad_code=["E1", "E1"], income=[10.0, 10.0])
    orgs["duplicate_of"] = pd.array([pd.NA, "o0"], dtype="string")
    size = sg.social_economy_size(
        orgs, level="lad", measures=("count", "income"), geography=small_geography
    )
    assert size.organisations["size_status"].tolist() == ["counted", "duplicate"]
    assert size.areas["income_total"].tolist() == [10.0, 0.0]


def test_repeated_index_labels_are_kept(small_geography: sg.Geography) -> None:
    orgs = _orgs(lad_code=["E1", "E1", "E2"], income=[1.0, 2.0, 4.0])
    orgs.index = ["x", "x", "y"]
    size = sg.social_economy_size(
        orgs, level="lad", measures=("count", "income"), geography=small_geography
    )
    assert list(size.organisations.index) == ["x", "x", "y"]
    assert size.areas["income_total"].tolist() == [3.0, 4.0]
    assert size.areas["income_top"].tolist() == ["Org 1 (2); Org 0 (1)", "Org 2 (4)"]


def test_concentration_by_hand(small_geography: sg.Geography) -> None:
    # 40 organisations in East with incomes 1..40: the largest 1% is ceil(0.4) = 1
    # organisation, 3% is ceil(1.2) = 2, 10% is 4
    incomes = [float(v) for v in range(1, 41)]
    size = sg.social_economy_size(
        _orgs(lad_code=["E1"] * 40, income=incomes),
        level="lad",
        measures=("income",),
        geography=small_geography,
        top_n=0,
    )
    east = size.areas.iloc[0]
    total = sum(incomes)  # 820
    assert east["income_total"] == total
    assert east["income_top1_share"] == pytest.approx(40 / total)
    assert east["income_top3_share"] == pytest.approx((40 + 39) / total)
    assert east["income_top10_share"] == pytest.approx((40 + 39 + 38 + 37) / total)
    assert east["income_median"] == 20.5
    assert "income_top" not in size.areas.columns
    assert math.isnan(size.areas.iloc[1]["income_top1_share"])  # no organisation in West


def test_group_accounts_flag_national(small_geography: sg.Geography) -> None:
    orgs = _orgs(lad_code=["E1", "E1"], income=[10.0, 20.0])
    orgs["src_Accounts.AccountCategory"] = ["GROUP", "SMALL"]
    size = sg.social_economy_size(
        orgs, level="lad", measures=("count", "income"), geography=small_geography
    )
    assert size.organisations["size_national_reason"].tolist() == ["group_accounts", pd.NA]
    assert size.totals.iloc[-1]["income_total_excl_national"] == 20.0


def test_gva_only_as_a_labelled_estimate(small_geography: sg.Geography) -> None:
    orgs = _orgs(lad_code=["E1", "E2"], income=[1000.0, 3e7])
    plain = sg.social_economy_size(
        orgs, level="lad", geography=small_geography, measures=("income",)
    )
    assert "gva_estimate" not in plain.areas.columns
    assert plain.areas.attrs["gva"] is None
    size = sg.social_economy_size(
        orgs, level="lad", geography=small_geography, measures=("income",), gva_ratio=0.4
    )
    assert size.areas["gva_estimate"].tolist() == [400.0, 1.2e7]
    assert size.areas["gva_estimate_excl_national"].tolist() == [400.0, 0.0]
    assert size.totals["gva_estimate"].tolist()[-1] == pytest.approx(0.4 * (1000.0 + 3e7))
    assert size.areas.attrs["gva"]["ratio"] == 0.4
    assert "estimate" in size.areas.attrs["gva"]["label"]
    records = {r.name: r for r in sg.get_provenance(size.areas)}
    assert "0.4" in records["gva_ratio"].title
    assert "gva_ratio" in {r.name for r in sg.get_provenance(size.totals)}


def test_explore(small_geography: sg.Geography) -> None:
    size = sg.social_economy_size(
        _orgs(lad_code=["E1"], income=[5.0], employees=[1.0]),
        level="lad",
        geography=small_geography,
    )
    assert isinstance(size.explore(), folium.Map)
    assert isinstance(size.explore("n_organisations"), folium.Map)
    with pytest.raises(InputError, match="column 'nope' is not in the areas"):
        size.explore("nope")


def test_errors(small_geography: sg.Geography) -> None:
    orgs = _orgs(lad_code=["E1"], income=[5.0], employees=[np.nan])
    run = sg.social_economy_size
    with pytest.raises(InputError, match=r"measure 'employees' has no value in any of the 1 rows"):
        run(orgs, level="lad", geography=small_geography)
    with pytest.raises(InputError, match=r"the measures with values are 'count', 'income'"):
        run(orgs, level="lad", geography=small_geography)
    with pytest.raises(InputError, match="measure 'profit' is not a numeric column"):
        run(orgs, level="lad", measures=("profit",), geography=small_geography)
    with pytest.raises(InputError, match="measures is empty"):
        run(orgs, level="lad", measures=(), geography=small_geography)
    with pytest.raises(InputError, match="level must be one of"):
        run(orgs, level="county", measures=("count",), geography=small_geography)
    with pytest.raises(InputError, match="national_threshold must be a positive amount"):
        run(orgs, level="lad", measures=("count",), national_threshold=-1.0)
    with pytest.raises(InputError, match="top_n must be a whole number"):
        run(orgs, level="lad", measures=("count",), top_n=2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="gva_ratio must be a number above 0 and at most 1"):
        run(orgs, level="lad", measures=("income",), gva_ratio=1.5)
    with pytest.raises(InputError, match="gva_ratio= estimates GVA from income"):
        run(orgs, level="lad", measures=("count",), gva_ratio=0.5)
    with pytest.raises(InputError, match="points has no 'ward_code' column"):
        run(orgs, measures=("count",), geography=small_geography)
    with pytest.raises(InputError, match="points is empty"):
        run(orgs.iloc[:0], level="lad", measures=("count",), geography=small_geography)
    with pytest.raises(InputError, match="GeoDataFrame"):
        run(pd.DataFrame(orgs.drop(columns="geometry")), level="lad", measures=("count",))


# ---- the real Co-operatives UK files -------------------------------------------------


@pytest.fixture(scope="module")
def points_2016(shared_data: Path) -> gpd.GeoDataFrame:
    orgs = sg.read_organisations(shared_data / ORGS_2016, economy=shared_data / ECONOMY_2016)
    return sg.assign_areas(sg.geocode(orgs))


@pytest.fixture(scope="module")
def points_2023(shared_data: Path) -> gpd.GeoDataFrame:
    # the 2023 file has no economic data: the 2016 economy file joins on the identifier
    orgs = sg.read_organisations(shared_data / ORGS_2023, economy=shared_data / ECONOMY_2016)
    return sg.assign_areas(sg.geocode(orgs))


def _plain_pandas_totals(points: pd.DataFrame) -> pd.DataFrame:
    """The same totals computed directly: active, in a WMCA ward, each org_id once."""
    frame = pd.DataFrame(points.drop(columns="geometry"))
    wards = set(sg.load_geography().layer("ward")["ward_code"])
    active_or_unknown = frame["active"].fillna(True).astype(bool)
    keep = frame["ward_code"].isin(wards).astype(bool) & active_or_unknown
    keep &= ~frame["org_id"].duplicated()
    kept = frame[keep]
    return kept.groupby("lad_code").agg(
        n=("org_id", "size"),
        income=("income", "sum"),
        known=("income", "count"),
        median=("income", "median"),
    )


@pytest.mark.parametrize("which", ["points_2016", "points_2023"])
def test_wmca_totals_by_authority_equal_plain_pandas(
    which: str, request: pytest.FixtureRequest
) -> None:
    points = request.getfixturevalue(which)
    size = sg.social_economy_size(points)
    assert len(size.organisations) == len(points)
    assert len(size.areas) == 192
    totals = size.totals.set_index("lad_code")
    assert list(totals.index) == [*WMCA, "all"]
    expected = _plain_pandas_totals(points).reindex(WMCA)
    assert totals.loc[WMCA, "n_organisations"].tolist() == expected["n"].tolist()
    np.testing.assert_allclose(totals.loc[WMCA, "income_total"], expected["income"])
    assert totals.loc[WMCA, "income_known"].tolist() == expected["known"].tolist()
    np.testing.assert_allclose(totals.loc[WMCA, "income_median"], expected["median"])
    assert totals.loc["all", "n_organisations"] == expected["n"].sum()
    assert totals.loc["all", "income_total"] == pytest.approx(expected["income"].sum())
    # the wards add up to their authorities
    by_ward = size.areas.groupby("lad_code")["income_total"].sum()
    np.testing.assert_allclose(by_ward.reindex(WMCA), totals.loc[WMCA, "income_total"])


def test_real_2016_baseline(points_2016: gpd.GeoDataFrame) -> None:
    size = sg.social_economy_size(points_2016)
    counts = size.organisations["size_status"].value_counts()
    assert counts.to_dict() == {"counted": 224, "no_area": 7753, "inactive": 42, "duplicate": 18}
    total = size.totals.set_index("lad_code").loc["all"]
    assert total["n_organisations"] == 224
    assert total["income_known"] == 150
    assert total["income_total"] == 76006277.0
    assert total["income_total_excl_national"] == 36793080.0
    assert total["n_organisations_difference"] == 3


def test_real_coverage_and_concentration_by_hand(points_2016: gpd.GeoDataFrame) -> None:
    """Solihull in 2016: 15 organisations counted, 12 with turnover."""
    size = sg.social_economy_size(points_2016, measures=("count", "income"))
    counted = size.organisations[
        (size.organisations["size_status"] == "counted")
        & (size.organisations["lad_code"] == "E08000029")
    ]
    incomes = sorted(counted["income"].dropna().tolist(), reverse=True)
    assert (len(counted), len(incomes)) == (15, 12)
    solihull = size.totals.set_index("lad_code").loc["E08000029"]
    assert solihull["income_coverage"] == pytest.approx(12 / 15)
    # 1% and 3% of 12 organisations is the largest one; 10% is ceil(1.2) = 2
    assert solihull["income_top1_share"] == pytest.approx(incomes[0] / sum(incomes))
    assert solihull["income_top3_share"] == pytest.approx(incomes[0] / sum(incomes))
    assert solihull["income_top10_share"] == pytest.approx(sum(incomes[:2]) / sum(incomes))
    assert solihull["income_median"] == pytest.approx(
        (incomes[5] + incomes[6]) / 2  # the median of 12 values
    )
    assert solihull["income_top"].startswith(
        "Chelmsley and District Conservative Club Limited (636,489); "
    )


def test_real_national_body_moves_between_the_totals(points_2016: gpd.GeoDataFrame) -> None:
    """Watmos Community Homes (Walsall, turnover £13.96m) is above the £10m threshold."""
    flagged = sg.social_economy_size(points_2016)
    orgs = flagged.organisations
    watmos = orgs[orgs["name"].str.startswith("Watmos Community Homes").fillna(False)]
    assert len(watmos) == 1
    row = watmos.iloc[0]
    assert (row["size_status"], row["lad_code"], row["income"]) == (
        "counted",
        "E08000030",
        13960000.0,
    )
    assert row["size_national"]
    walsall = flagged.totals.set_index("lad_code").loc["E08000030"]
    assert walsall["n_organisations_difference"] == 1
    assert walsall["income_total_excl_national"] == walsall["income_total"] - 13960000.0
    assert walsall["income_total_difference"] == 13960000.0
    # above a £15m threshold it is no longer national: it moves into the total without
    # national bodies, and the total with them does not change
    raised = sg.social_economy_size(points_2016, national_threshold=15_000_000.0)
    again = raised.totals.set_index("lad_code").loc["E08000030"]
    assert not raised.organisations.loc[watmos.index[0], "size_national"]
    assert again["income_total"] == walsall["income_total"]
    assert again["income_total_excl_national"] == walsall["income_total_excl_national"] + 13960000.0
    assert again["n_organisations"] == walsall["n_organisations"]
    none = sg.social_economy_size(points_2016, national_threshold=None)
    assert none.organisations["size_national"].sum() == 0


def test_real_errors(shared_data: Path, points_2023: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="measure 'expenditure' has no value in any of the 7,272"):
        sg.social_economy_size(points_2023, measures=("count", "expenditure"))
    with pytest.raises(InputError, match=r"economy_year=2017 is not in .*2011, 2012, 2013, 2014"):
        sg.read_organisations(
            shared_data / ORGS_2023, economy=shared_data / ECONOMY_2016, economy_year=2017
        )


def test_measures_with_values_are_the_count_and_those_some_row_has() -> None:
    import pandas as pd

    from socecon_geo.size import measures_with_values

    frame = pd.DataFrame(
        {"income": [None, 12.0], "employees": [None, None], "members": [3.0, None]}
    )
    assert measures_with_values(frame) == ("count", "income")
    assert measures_with_values(frame, ("income", "members")) == ("count", "income", "members")
    assert measures_with_values(pd.DataFrame({"name": ["A"]})) == ("count",)

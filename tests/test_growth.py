"""Growth by area: births and deaths, two snapshots, the doubling trajectory and its chart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import socecon_geo as sg
from socecon_geo._schema import CHANGE_STATUS, TRAJECTORY_STATUS

BIRMINGHAM, COVENTRY, DUDLEY = "E08000025", "E08000026", "E08000027"
WMCA = ("E08000025", "E08000026", "E08000027", "E08000028", "E08000029", "E08000030", "E08000031")


def _orgs(rows: list[tuple]) -> pd.DataFrame:
    """Organisations from (org_id, lad_code, registered_on, dissolved_on) tuples."""
    frame = pd.DataFrame(rows, columns=["org_id", "lad_code", "registered_on", "dissolved_on"])
    frame["registered_on"] = pd.to_datetime(frame["registered_on"])
    frame["dissolved_on"] = pd.to_datetime(frame["dissolved_on"])
    frame["source_row"] = np.arange(2, len(frame) + 2)
    return frame


@pytest.fixture
def orgs() -> pd.DataFrame:
    return _orgs(
        [
            ("a", BIRMINGHAM, "2009-05-01", None),
            ("b", BIRMINGHAM, "2010-02-01", "2012-07-01"),
            ("c", BIRMINGHAM, "2011-01-01", None),
            ("d", COVENTRY, "2010-12-31", "2010-12-31"),
            ("e", COVENTRY, "2012-03-03", None),
            ("f", "W06000015", "2011-01-01", None),  # Cardiff: outside the WMCA
            ("g", None, "2011-01-01", None),  # no area
            ("h", BIRMINGHAM, None, None),  # no registration date
            ("i", BIRMINGHAM, "2012-01-01", "2011-01-01"),  # dissolved before registered
            ("a", BIRMINGHAM, "2009-05-01", None),  # a repeat of a
            ("j", COVENTRY, "2013-04-30", None),
        ]
    )


# ---------------------------------------------------------------------- births and deaths


def test_births_deaths_and_stock_by_authority(orgs: pd.DataFrame) -> None:
    table = sg.births_and_deaths(orgs)
    assert list(table.columns) == [
        "lad_code",
        "lad_name",
        "year",
        "births",
        "deaths",
        "net_growth",
        "stock_start",
        "stock",
        "growth_rate",
        "partial_year",
    ]
    # every WMCA authority, every year from the first registration to the last date
    assert table["lad_code"].unique().tolist() == list(WMCA)
    assert table["year"].unique().tolist() == [2009, 2010, 2011, 2012, 2013]
    brum = table[table["lad_code"] == BIRMINGHAM].set_index("year")
    assert brum["lad_name"].iloc[0] == "Birmingham"
    assert brum["births"].tolist() == [1, 1, 1, 0, 0]
    assert brum["deaths"].tolist() == [0, 0, 0, 1, 0]
    assert brum["stock"].tolist() == [1, 2, 3, 2, 2]
    cov = table[table["lad_code"] == COVENTRY].set_index("year")
    # born and dissolved on the same day: a birth and a death that year, never in stock
    assert cov.loc[2010, ["births", "deaths", "stock"]].tolist() == [1, 1, 0]
    assert cov["stock"].tolist() == [0, 0, 0, 1, 2]
    assert (table.loc[~table["lad_code"].isin([BIRMINGHAM, COVENTRY]), "stock"] == 0).all()
    assert table.attrs["not_counted"] == {
        "duplicate": 1,
        "no_registration_date": 1,
        "dissolved_before_registered": 1,
        "inactive_without_date": 0,
        "no_area": 1,
        "outside_areas": 1,
    }
    assert table.attrs["n_counted"] + sum(table.attrs["not_counted"].values()) == len(orgs)
    assert table.attrs["data_end"] == "2013-04-30"
    assert table.attrs["deaths_recorded_from"] == 2010
    # the data end on 30 April 2013: that year is the year so far
    assert table.loc[table["year"] == 2013, "partial_year"].all()
    assert not table.loc[table["year"] < 2013, "partial_year"].any()
    assert brum.loc[2012, "growth_rate"] == pytest.approx(-1 / 3)
    assert math.isnan(cov.loc[2011, "growth_rate"])
    assert len(orgs) == 11
    assert orgs["registered_on"].notna().sum() == 10


def test_stock_reconciles_with_births_and_deaths(orgs: pd.DataFrame) -> None:
    table = sg.births_and_deaths(orgs)
    for _, area in table.groupby("lad_code"):
        assert (area["stock"] == area["stock_start"] + area["births"] - area["deaths"]).all()
        assert (area["stock_start"].iloc[1:].to_numpy() == area["stock"].iloc[:-1]).all()
        assert area["net_growth"].sum() == area["stock"].iloc[-1] - area["stock_start"].iloc[0]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3000),
            st.one_of(st.none(), st.integers(0, 3000)),
            st.sampled_from([BIRMINGHAM, COVENTRY]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_stock_equals_registered_and_not_dissolved(rows: list[tuple]) -> None:
    start = pd.Timestamp("2010-01-01")
    frame = pd.DataFrame(
        {
            "lad_code": [r[2] for r in rows],
            "registered_on": [start + pd.Timedelta(days=r[0]) for r in rows],
            "dissolved_on": [
                start + pd.Timedelta(days=r[0] + r[1]) if r[1] is not None else pd.NaT for r in rows
            ],
        }
    )
    table = sg.births_and_deaths(frame)
    for row in table.itertuples():
        end = pd.Timestamp(year=row.year, month=12, day=31)
        here = frame["lad_code"] == row.lad_code
        alive = (frame["registered_on"] <= end) & ~(frame["dissolved_on"] <= end)
        assert row.stock == int((here & alive).sum())
        assert row.stock == row.stock_start + row.births - row.deaths


def test_years_level_none_and_text_dates(orgs: pd.DataFrame) -> None:
    text = orgs.assign(
        registered_on=orgs["registered_on"].dt.strftime("%d/%m/%Y"),
        dissolved_on=orgs["dissolved_on"].dt.strftime("%Y-%m-%d"),
    )
    by_date = sg.births_and_deaths(orgs, level=None, years=[2012, 2011])
    by_text = sg.births_and_deaths(text, level=None, years=[2011, 2012])
    pd.testing.assert_frame_equal(by_date, by_text)
    assert "lad_code" not in by_date.columns
    # level=None counts every row with a registration date, wherever it is
    assert by_date["stock"].tolist() == [5, 5]
    assert by_date["stock_start"].tolist() == [2, 5]


def test_inactive_without_a_date_is_left_out(orgs: pd.DataFrame) -> None:
    marked = orgs.assign(active=pd.array([True] * 10 + [False], dtype="boolean"))
    table = sg.births_and_deaths(marked)
    assert table.attrs["not_counted"]["inactive_without_date"] == 1
    assert table.loc[table["lad_code"] == COVENTRY, "stock"].iloc[-1] == 1


def test_births_and_deaths_errors(orgs: pd.DataFrame) -> None:
    bad = orgs.assign(registered_on=orgs["registered_on"].dt.strftime("%Y-%m-%d"))
    bad.loc[4, "registered_on"] = "31/02/2012"
    bad.loc[6, "registered_on"] = "sometime"
    with pytest.raises(
        sg.InputError,
        match=r"2 values of 'registered_on' cannot be read as a date — source_row 6: "
        r"'31/02/2012'; source_row 8: 'sometime'\. Give dates as YYYY-MM-DD",
    ):
        sg.births_and_deaths(bad)
    with pytest.raises(
        sg.InputError, match=r"year 2020 is outside the data: .* run from 2009 to 2013"
    ):
        sg.births_and_deaths(orgs, years=[2012, 2020])
    with pytest.raises(sg.InputError, match=r"years 1900, 2020 are outside the data"):
        sg.births_and_deaths(orgs, years=[1900, 2020])
    with pytest.raises(sg.InputError, match=r"points has no 'dissolved_on' column: read the"):
        sg.births_and_deaths(orgs.drop(columns="dissolved_on"))
    with pytest.raises(sg.InputError, match=r"no 'registered_on', 'dissolved_on' columns"):
        sg.births_and_deaths(orgs.drop(columns=["registered_on", "dissolved_on"]))
    with pytest.raises(sg.InputError, match=r"points has no 'ward_code' column for level='ward'"):
        sg.births_and_deaths(orgs, level="ward")
    with pytest.raises(sg.InputError, match=r"level must be one of .* got 'county'"):
        sg.births_and_deaths(orgs, level="county")
    with pytest.raises(sg.InputError, match=r"points is empty"):
        sg.births_and_deaths(orgs.iloc[:0])
    with pytest.raises(sg.InputError, match=r"must be a DataFrame of organisations, not list"):
        sg.births_and_deaths([1, 2])  # type: ignore[arg-type]
    with pytest.raises(sg.InputError, match=r"no organisation has a usable registration date"):
        sg.births_and_deaths(orgs.assign(registered_on=pd.NaT))
    with pytest.raises(sg.InputError, match=r"years must be whole years"):
        sg.births_and_deaths(orgs, years=["soon"])  # type: ignore[list-item]
    with pytest.raises(sg.InputError, match=r"years is empty"):
        sg.births_and_deaths(orgs, years=[])


# ---------------------------------------------------------------------- two snapshots


def _snapshot(rows: list[tuple]) -> pd.DataFrame:
    columns = ["org_id", "name", "postcode", "company_number", "lad_code", "income"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["source_row"] = np.arange(2, len(frame) + 2)
    return frame


@pytest.fixture
def snapshots() -> tuple[pd.DataFrame, pd.DataFrame]:
    old = _snapshot(
        [
            ("r1", "Alpha Co-op Ltd", "B1 1AA", None, BIRMINGHAM, 100.0),
            ("r2", "Beta", "B2 2BB", "IP123", BIRMINGHAM, 50.0),
            ("r3", "The Gamma Society Limited", "CV1 1AA", None, COVENTRY, None),
            ("r4", "Delta", "CV2 2BB", None, COVENTRY, 10.0),
            ("r5", "Epsilon", "B3 3CC", None, BIRMINGHAM, 5.0),
            ("r1", "Alpha Co-op Ltd", "B1 1AA", None, BIRMINGHAM, 100.0),  # repeat
            ("r6", "Zeta", "DY1 1AA", None, None, 7.0),  # not placed
        ]
    )
    new = _snapshot(
        [
            ("r1", "Alpha Co-operative", "B1 1AA", None, BIRMINGHAM, 130.0),
            ("x2", "Beta Trading", "B9 9ZZ", "ip 123", BIRMINGHAM, 40.0),  # number
            ("x3", "gamma society", "cv11aa", None, COVENTRY, 20.0),  # name + postcode
            ("r4", "Delta", "B4 4DD", None, BIRMINGHAM, 12.0),  # moved to Birmingham
            ("r7", "Eta", "WV1 1AA", None, "E08000031", 1.0),
            ("r6", "Zeta", "DY1 1AA", None, DUDLEY, None),  # placed now
        ]
    )
    return old, new


def test_compare_snapshots_accounts_for_everyone_once(
    snapshots: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    old, new = snapshots
    result = sg.compare_snapshots(old, new)
    orgs = result.organisations
    assert result.counts == {"continuing": 5, "new": 1, "gone": 1}
    assert orgs["change_status"].dtype == CHANGE_STATUS
    assert orgs["org_id"].tolist() == ["r1", "x2", "x3", "r4", "r5", "r6", "r7"]
    assert orgs["match_method"].astype("string").fillna("-").tolist() == [
        "org_id",
        "registered_number",
        "name_postcode",
        "org_id",
        "-",
        "org_id",
        "-",
    ]
    assert orgs["org_id_old"].fillna("-").tolist() == ["r1", "r2", "r3", "r4", "r5", "r6", "-"]
    # every row of each snapshot is one organisation's row (the repeat of r1 folded in)
    assert orgs["rows_old"].sum() == len(old)
    assert orgs["rows_new"].sum() == len(new)
    assert orgs.loc[0, "rows_old"] == 2
    assert result.parameters["repeated_rows"] == {"old": 1, "new": 0}
    status = orgs["change_status"]
    assert (status != "new").sum() == len(old) - 1
    assert (status != "gone").sum() == len(new)
    assert bool(orgs.loc[orgs["org_id"] == "r4", "moved"].item())
    assert not orgs.loc[orgs["org_id"] == "r1", "moved"].item()
    assert orgs["income_change"].tolist()[:2] == [30.0, -10.0]
    assert math.isnan(orgs.loc[2, "income_change"])  # unknown in the old snapshot
    assert orgs["source_row_old"].tolist()[:2] == [2, 3]

    areas = result.areas.set_index("lad_code")
    assert list(areas.index) == list(WMCA)
    assert (areas["n_old"] == areas["continuing"] + areas["moved_out"] + areas["gone"]).all()
    assert (areas["n_new"] == areas["continuing"] + areas["moved_in"] + areas["new"]).all()
    assert areas.loc[BIRMINGHAM, ["n_old", "n_new", "continuing", "moved_in", "gone"]].tolist() == [
        3,
        3,
        2,
        1,
        1,
    ]
    assert areas.loc[COVENTRY, ["n_old", "n_new", "moved_out"]].tolist() == [2, 1, 1]
    assert areas.loc[DUDLEY, ["n_old", "n_new", "moved_in"]].tolist() == [0, 1, 1]
    assert areas.loc["E08000031", "new"] == 1
    assert (areas["gone_already_inactive"] == 0).all()
    assert orgs["active_old"].isna().all()
    marked = sg.compare_snapshots(
        old.assign(active=[True, True, True, True, False, True, True]), new
    )
    assert marked.areas.set_index("lad_code").loc[BIRMINGHAM, "gone_already_inactive"] == 1
    assert marked.organisations["active_old"].tolist()[4] is False
    # the measure's change, for the continuing organisations known in both, by new area
    assert areas.loc[BIRMINGHAM, "n_income_both"] == 3
    assert areas.loc[BIRMINGHAM, "income_change_continuing"] == pytest.approx(30 - 10 + 2)
    assert result.areas.attrs["not_counted"]["old_no_area"] == 1
    assert repr(result) == "SnapshotComparison(5 continuing, 1 new, 1 gone; 7 areas)"


def test_ambiguous_keys_are_not_matched() -> None:
    old = _snapshot(
        [
            ("o1", "Same Name", "B1 1AA", None, BIRMINGHAM, 1.0),
            ("o2", "Same Name", "B1 1AA", None, BIRMINGHAM, 1.0),
        ]
    )
    new = _snapshot([("n1", "Same Name", "B1 1AA", None, BIRMINGHAM, 1.0)])
    result = sg.compare_snapshots(old, new, level=None, measure=None)
    assert result.counts == {"continuing": 0, "new": 1, "gone": 2}
    assert list(result.areas.columns[:3]) == ["n_old", "n_new", "continuing"]
    assert "income_old" not in result.organisations.columns


def test_compare_snapshots_errors(snapshots: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    old, new = snapshots
    with pytest.raises(sg.InputError, match=r"The measure 'income' has no value on any row"):
        sg.compare_snapshots(old.assign(income=np.nan), new.assign(income=None))
    with pytest.raises(sg.InputError, match=r"new has no 'employees' column"):
        sg.compare_snapshots(old.assign(employees=1.0), new, measure="employees")
    with pytest.raises(sg.InputError, match=r"old has no 'postcode' column"):
        sg.compare_snapshots(old.drop(columns="postcode"), new)
    with pytest.raises(sg.InputError, match=r"new has no 'ward_code' column for level='ward'"):
        sg.compare_snapshots(old.assign(ward_code="E05011120"), new, level="ward")
    with pytest.raises(sg.InputError, match=r"new is empty"):
        sg.compare_snapshots(old, new.iloc[:0])


# ---------------------------------------------------------------------- the trajectory


def test_required_rate_to_double_in_ten_years() -> None:
    assert sg.required_rate() == pytest.approx(2 ** (1 / 10) - 1)
    assert round(sg.required_rate(2.0, 10), 4) == 0.0718
    assert (1 + sg.required_rate(3.0, 7)) ** 7 == pytest.approx(3.0)


def _stock_table() -> pd.DataFrame:
    years = list(range(2010, 2017))
    rows = []
    for code, start, rate in ((BIRMINGHAM, 100, 0.08), (COVENTRY, 50, 0.02), (DUDLEY, 40, -0.05)):
        rows += [(code, y, start * (1 + rate) ** (y - 2010)) for y in years]
    rows += [("E08000028", y, 0.0) for y in years]
    frame = pd.DataFrame(rows, columns=["lad_code", "year", "stock"])
    frame["partial_year"] = frame["year"] == 2016
    return frame


def test_doubling_trajectory_since_the_baseline() -> None:
    frame = _stock_table()
    # 2016 is a partial year: the observed rate runs 2011-2015
    result = sg.doubling_trajectory(frame, baseline_year=2011)
    areas = result.areas.set_index("lad_code")
    assert areas["observed_rate"].loc[[BIRMINGHAM, COVENTRY, DUDLEY]].tolist() == pytest.approx(
        [0.08, 0.02, -0.05]
    )
    assert areas["observed_from"].iloc[0] == 2011
    assert areas["observed_to"].iloc[0] == 2015
    assert areas["required_rate"].iloc[0] == pytest.approx(0.0717735)
    assert areas["trajectory_status"].dtype == TRAJECTORY_STATUS
    assert areas["trajectory_status"].astype(str).tolist() == [
        "on_course",
        "behind",
        "shrinking",
        "no_baseline",
    ]
    assert result.counts == {
        "on_course": 1,
        "behind": 1,
        "shrinking": 1,
        "no_baseline": 1,
        "no_rate": 0,
    }
    assert areas.loc[BIRMINGHAM, "target"] == pytest.approx(216.0)
    assert areas.loc[BIRMINGHAM, "target_year"] == 2021
    assert areas.loc[BIRMINGHAM, "projected"] == pytest.approx(108 * 1.08**10)
    assert areas.loc[BIRMINGHAM, "years_to_target"] == pytest.approx(math.log(2) / math.log(1.08))
    assert math.isnan(areas.loc[DUDLEY, "years_to_target"])
    path = result.path[result.path["lad_code"] == BIRMINGHAM].set_index("year")
    assert path.index.tolist() == list(range(2011, 2022))
    assert path.loc[2021, "required"] == pytest.approx(216.0)
    assert path.loc[2016, "actual"] == pytest.approx(100 * 1.08**6)
    assert math.isnan(path.loc[2017, "actual"])
    assert repr(result) == "Trajectory(4 areas, stock from 2011, x2 in 10 years needs 7.18% a year)"


def test_doubling_trajectory_before_the_baseline_and_given_rates() -> None:
    frame = _stock_table()
    before = sg.doubling_trajectory(frame, baseline_year=2015, years=4)
    assert before.areas["observed_from"].iloc[0] == 2011  # the 4 years before 2015
    assert before.areas["observed_rate"].iloc[0] == pytest.approx(0.08)
    assert before.path["year"].min() == 2011
    chosen = sg.doubling_trajectory(frame, baseline_year=2011, observed_years=(2012, 2014))
    assert chosen.areas["observed_rate"].iloc[1] == pytest.approx(0.02)
    given_rate = sg.doubling_trajectory(frame, baseline_year=2011, observed_rate=0.1)
    assert given_rate.areas["trajectory_status"].astype(str).tolist()[:3] == ["on_course"] * 3
    by_area = sg.doubling_trajectory(
        frame,
        baseline_year=2011,
        observed_rate={BIRMINGHAM: 0.0, COVENTRY: 0.0, DUDLEY: 0.0, "E08000028": 0.0},
    )
    assert by_area.areas["trajectory_status"].astype(str).tolist()[0] == "behind"
    single = sg.doubling_trajectory(
        pd.DataFrame({"year": [2015, 2016], "income": [0.0, 5.0]}),
        baseline_year=2016,
        measure="income",
    )
    assert single.areas["trajectory_status"].astype(str).tolist() == ["no_rate"]


def test_doubling_trajectory_errors() -> None:
    frame = _stock_table()
    with pytest.raises(
        sg.InputError,
        match=r"baseline_year 2023 is outside the data: baseline has the years 2010-2016",
    ):
        sg.doubling_trajectory(frame, baseline_year=2023)
    with pytest.raises(sg.InputError, match=r"observed_years\[1\] 2030 is outside the data"):
        sg.doubling_trajectory(frame, baseline_year=2011, observed_years=(2011, 2030))
    with pytest.raises(sg.InputError, match=r"observed_years must run forward"):
        sg.doubling_trajectory(frame, baseline_year=2011, observed_years=(2014, 2012))
    with pytest.raises(sg.InputError, match=r"The measure 'income' has no value on any of the 28"):
        sg.doubling_trajectory(frame.assign(income=np.nan), baseline_year=2011, measure="income")
    with pytest.raises(sg.InputError, match=r"baseline has no 'turnover' column"):
        sg.doubling_trajectory(frame, baseline_year=2011, measure="turnover")
    with pytest.raises(sg.InputError, match=r"year 2010 more than once for lad_code E08000025"):
        sg.doubling_trajectory(pd.concat([frame, frame.iloc[:1]]), baseline_year=2011)
    with pytest.raises(sg.InputError, match=r"target_multiple must be a positive number"):
        sg.doubling_trajectory(frame, baseline_year=2011, target_multiple=0)
    with pytest.raises(sg.InputError, match=r"years must be a positive whole number"):
        sg.doubling_trajectory(frame, baseline_year=2011, years=0)
    with pytest.raises(sg.InputError, match=r"observed_rate has no rate for 3 area\(s\)"):
        sg.doubling_trajectory(frame, baseline_year=2011, observed_rate={BIRMINGHAM: 0.1})
    with pytest.raises(sg.InputError, match=r"observed_rate must be a number"):
        sg.doubling_trajectory(frame, baseline_year=2011, observed_rate="fast")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the chart


def test_plot_trajectory_writes_png_and_reproducible_svg(tmp_path) -> None:
    from matplotlib.figure import Figure

    trajectory = sg.doubling_trajectory(
        _stock_table().assign(lad_name="Place $1$"), baseline_year=2011
    )
    fig = sg.plot_trajectory(trajectory)
    assert isinstance(fig, Figure)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == r"Place \$1\$: +8.0% a year, on course"
    assert any(text.startswith("needed: 7.18% a year (x2 by 2021)") for text in legend)
    png = sg.save_figure(fig, tmp_path / "trajectory.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = sg.save_figure(fig, tmp_path / "a.svg").read_bytes()
    second = sg.save_figure(
        sg.plot_trajectory(trajectory, relative=False), tmp_path / "b.svg"
    ).read_bytes()
    again = sg.save_figure(
        sg.plot_trajectory(trajectory, relative=False), tmp_path / "c.svg"
    ).read_bytes()
    assert first != second
    assert second == again


def test_plot_trajectory_errors() -> None:
    with pytest.raises(sg.InputError, match=r"needs what socecon_geo.doubling_trajectory returned"):
        sg.plot_trajectory(pd.DataFrame())
    many = pd.DataFrame(
        [(f"E0800{i:04d}", y, 10.0 + y - 2010) for i in range(9) for y in (2010, 2011)],
        columns=["lad_code", "year", "stock"],
    )
    with pytest.raises(sg.InputError, match=r"has 9 areas; a chart tells at most 8 apart"):
        sg.plot_trajectory(sg.doubling_trajectory(many, baseline_year=2010))


def test_nothing_given_is_changed(
    orgs: pd.DataFrame, snapshots: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    old, new = snapshots
    copies = [frame.copy(deep=True) for frame in (orgs, old, new)]
    table = sg.births_and_deaths(orgs)
    sg.compare_snapshots(old, new)
    sg.plot_trajectory(sg.doubling_trajectory(table, baseline_year=2010))
    for frame, copy in zip((orgs, old, new), copies, strict=True):
        pd.testing.assert_frame_equal(frame, copy)

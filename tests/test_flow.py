"""The whole flow on the real Co-operatives UK register, offline, with only the bundle.

register → geocode → areas → deprivation → summaries, every step on its defaults: no
file beyond the register itself and no network.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import socecon_geo as sg

pytestmark = pytest.mark.shared_data

REPO = Path(__file__).resolve().parents[1]
WMCA = list(sg.WMCA_AUTHORITIES)
REGISTER = ("organisations", "coopsuk_open_data_2023-03-02.csv")


@pytest.fixture(scope="module")
def register(shared_data: Path) -> Path:
    return shared_data.joinpath(*REGISTER)


@pytest.fixture(scope="module")
def points(register: Path) -> pd.DataFrame:
    orgs = sg.read_organisations(register)
    return sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))


@pytest.fixture(scope="module")
def matched_wmca(points):
    return points.index[
        points["lad_code"].isin(WMCA).to_numpy(dtype=bool, na_value=False)
        & (points["geocode_status"] == "matched").to_numpy()
    ]


def test_every_row_accounted_for(points):
    assert len(points) == 7272
    assert points.index.equals(pd.RangeIndex(7272))
    for column in ("geocode_status", "area_status", "deprivation_status"):
        assert points[column].notna().all(), column
    located = points.geometry.notna() & ~points.geometry.is_empty
    # "no_location" means neither a point nor a code from the postcode table
    no_location = (points["area_status"] == "no_location").to_numpy()
    assert not located[no_location].any()
    assert points.loc[no_location, "postcode_lad_code"].isna().all()
    assert (points.loc[located, "area_status"] != "no_location").all()


def test_matched_wmca_organisations_have_every_area(points, matched_wmca):
    assert len(matched_wmca) > 200
    rows = points.loc[matched_wmca]
    for column in (
        "lsoa21_code",
        "lsoa11_code",
        "msoa21_code",
        "msoa21_name",
        "ward_code",
        "ward_name",
        "lad_name",
    ):
        share = rows[column].notna().mean()
        assert share >= 0.99, (column, share)
    assert (rows["area_status"] == "assigned").mean() >= 0.99


def test_iod2025_attached_from_the_bundle(points, matched_wmca):
    rows = points.loc[matched_wmca]
    assert (rows["iod_vintage"] == "iod2025").all()
    share = (rows["deprivation_status"] == "joined").mean()
    print(f"IoD2025: {share:.1%} of {len(rows)} matched WMCA organisations joined")
    assert share >= 0.99
    assert rows["imd_decile"].between(1, 10).all()
    # Co-operatives lean towards deprived places: more in decile 1 than in decile 10.
    deciles = rows["imd_decile"].value_counts()
    assert deciles.get(1, 0) > deciles.get(10, 0)


def test_iod2019_attached_from_the_bundle(points, matched_wmca):
    joined = sg.attach_deprivation(points, "iod2019")
    rows = joined.loc[matched_wmca]
    assert (rows["iod_vintage"] == "iod2019").all()
    share = (rows["deprivation_status"] == "joined").mean()
    print(f"IoD2019: {share:.1%} of {len(rows)} matched WMCA organisations joined")
    assert share >= 0.99
    # IoD2019 is on LSOA 2011: the join used the LSOA 2011 codes
    assert (rows["iod_lsoa_code"] == rows["lsoa11_code"]).mean() >= 0.99


def test_ward_summary_has_rates_and_deprivation_for_every_ward(points):
    wards = sg.summarise_areas(points, level="ward")
    assert len(wards) == 192
    in_wmca = points["ward_code"].isin(wards["ward_code"]).to_numpy(dtype=bool, na_value=False)
    assert wards["n_organisations"].sum() == in_wmca.sum()
    assert wards["population"].sum() == pytest.approx(2_919_651)
    for column in (
        "population",
        "rate_per_10k",
        "rate_per_10k_eb",
        "lq",
        "imd_score_popweighted",
        "share_pop_imd_decile1",
    ):
        assert wards[column].notna().all(), column
    assert (wards["n_organisations"] == 0).sum() > 0  # zero rows are kept
    assert wards.attrs["aggregation_method"] == "bestfit_lookup"


@pytest.mark.parametrize(
    ("level", "rows"), [("lsoa21", 1719), ("lsoa11", 1680), ("msoa21", 357), ("lad", 7)]
)
def test_summaries_at_every_level(points, level, rows):
    summary = sg.summarise_areas(points, level=level)
    assert len(summary) == rows
    assert summary["population"].notna().all()
    assert summary["rate_per_10k"].notna().all()
    # (the IoD2019 files bundled for LSOA 2011 carry deciles, not scores)
    assert summary["share_pop_imd_decile1"].notna().all()
    code = f"{level}_code"
    in_areas = points[code].isin(summary[code]).to_numpy(dtype=bool, na_value=False)
    assert summary["n_organisations"].sum() == in_areas.sum()


def test_authority_populations_are_the_census_totals(points):
    authorities = sg.summarise_areas(points, level="lad")
    assert authorities["population"].sum() == pytest.approx(2_919_651)
    birmingham = authorities.loc[authorities["lad_code"] == "E08000025", "population"]
    assert birmingham.iloc[0] == pytest.approx(1_144_903)


def test_provenance_reaches_the_summary(points):
    wards = sg.summarise_areas(points, level="ward")
    lines = sg.attribution_lines(wards)
    assert any("Indices of Deprivation 2025" in line for line in lines)
    assert any("Office for National Statistics" in line for line in lines)


@pytest.mark.slow
def test_the_flow_runs_offline_from_an_installed_wheel(tmp_path, installed_wheel, register):
    """Run the flow from the installed wheel, in another folder, with the network cut."""
    script = textwrap.dedent(
        f"""
        import pathlib, socket
        import socecon_geo as sg

        def no_network(*args, **kwargs):
            raise OSError("no network in this test")

        socket.socket.connect = no_network
        orgs = sg.read_organisations({str(register)!r})
        points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
        wards = sg.summarise_areas(points, level="ward")
        print(len(points), len(wards), int(wards["rate_per_10k"].notna().sum()),
              int(wards["imd_score_popweighted"].notna().sum()))
        print(pathlib.Path(sg.__file__).parent)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["SOCECON_GEO_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [str(installed_wheel), "-c", script],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    counts, where = result.stdout.strip().splitlines()[-2:]
    assert counts.split() == ["7272", "192", "192", "192"]
    assert Path(where).is_relative_to(installed_wheel.parents[1])

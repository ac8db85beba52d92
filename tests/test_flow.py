"""The whole flow on real data: register → geocode → areas → deprivation → summaries."""

from __future__ import annotations

import pandas as pd
import pytest

import socecon_geo as sg

pytestmark = pytest.mark.shared_data

WMCA = list(sg.WMCA_AUTHORITIES)


@pytest.fixture(scope="module")
def assigned(shared_data):
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.geocode(orgs)
    return sg.assign_areas(
        points,
        wards=sg.load_wards(),
        lsoas11=sg.load_lsoas(vintage=2011),
        authorities=sg.load_authorities(),
        lsoas21=shared_data / "boundaries" / "lsoa21_west_midlands_region_simplified.geojson",
        lsoa_lookup=shared_data / "lookups" / "lsoa11_lsoa21_lad22.csv",
        ward_lookup=shared_data / "lookups" / "lsoa21_ward24_lad24_bestfit.csv",
    )


@pytest.fixture(scope="module")
def matched_wmca(assigned):
    return assigned.index[
        assigned["lad_code"].isin(WMCA).to_numpy(dtype=bool, na_value=False)
        & (assigned["geocode_status"] == "matched").to_numpy()
    ]


def test_every_row_accounted_for(assigned):
    assert len(assigned) == 7272
    assert assigned.index.equals(pd.RangeIndex(7272))
    for column in ("geocode_status", "area_status"):
        assert assigned[column].notna().all(), column
    located = assigned.geometry.notna() & ~assigned.geometry.is_empty
    # "no_location" means neither a point nor a code from the postcode table
    no_location = (assigned["area_status"] == "no_location").to_numpy()
    assert not located[no_location].any()
    assert assigned.loc[no_location, "postcode_lad_code"].isna().all()
    assert (assigned.loc[located, "area_status"] != "no_location").all()


def test_matched_wmca_organisations_have_every_area(assigned, matched_wmca):
    assert len(matched_wmca) > 200
    rows = assigned.loc[matched_wmca]
    for column in ("lsoa21_code", "lsoa11_code", "ward_code", "ward_name", "lad_name"):
        share = rows[column].notna().mean()
        assert share >= 0.99, (column, share)


@pytest.mark.parametrize("edition", ["iod2025", "iod2019"])
def test_deprivation_joined_for_matched_wmca_organisations(
    assigned, matched_wmca, shared_data, edition
):
    iod_dir = shared_data / "iod"
    if edition == "iod2025":
        iod = sg.read_deprivation(iod_dir / "IoD2025_LSOA21_scores_ranks_deciles.csv")
    else:
        iod = sg.read_deprivation(
            [
                iod_dir / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
                iod_dir / "File_2_-_IoD2019_Domains_of_Deprivation.csv",
                iod_dir / "File_6_-_IoD2019_Population_Denominators.csv",
            ]
        )
    joined = sg.attach_deprivation(assigned, iod)
    assert len(joined) == len(assigned)
    assert joined["deprivation_status"].notna().all()
    rows = joined.loc[matched_wmca]
    share = (rows["deprivation_status"] == "joined").mean()
    print(f"{edition}: {share:.1%} of {len(rows)} matched WMCA organisations joined")
    assert share >= 0.99
    assert rows["imd_decile"].between(1, 10).all()
    # Co-operatives lean towards deprived places: more in decile 1 than in decile 10.
    deciles = rows["imd_decile"].value_counts()
    assert deciles.get(1, 0) > deciles.get(10, 0)
    # Unresolvable split LSOAs are flagged, never guessed or silently dropped.
    ambiguous = (assigned["lsoa21_method"] == "ambiguous_split").to_numpy(
        dtype=bool, na_value=False
    )
    if edition == "iod2025":
        assert ambiguous.sum() == 2  # WS14 9PW and CV23 8YY, outside the LSOA21 file
        assert (joined.loc[ambiguous, "deprivation_status"] == "ambiguous_lsoa").all()


def test_ward_summary_counts_every_assigned_wmca_organisation(assigned, shared_data):
    wards = sg.summarise_areas(
        assigned,
        sg.load_wards(),
        population=shared_data / "population" / "census2021_lsoa21_usual_residents.csv",
        deprivation=sg.read_deprivation(
            shared_data / "iod" / "IoD2025_LSOA21_scores_ranks_deciles.csv"
        ),
        lsoa_to_area=shared_data / "lookups" / "lsoa21_ward24_lad24_bestfit.csv",
    )
    assert len(wards) == 192
    in_wmca = assigned["ward_code"].isin(wards["ward_code"]).to_numpy(dtype=bool, na_value=False)
    assert wards["n_organisations"].sum() == in_wmca.sum()
    assert wards["population"].sum() == pytest.approx(2_919_651)
    assert (wards["n_organisations"] == 0).sum() > 0  # zero rows are kept

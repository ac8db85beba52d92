"""The whole chain on a small fixture: one dtype per kind of column, provenance kept.

read_organisations → geocode → assign_areas → attach_deprivation → summarise_areas, with
the bundled layers and tiny made-up lookup, deprivation and population tables keyed by
the LSOAs of the fixture's (real, bundled) postcodes.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

import socecon_geo as sg
from socecon_geo._schema import CODE, COLUMN_DTYPES

POSTCODES = ["B1 1AY", "CV1 5FB", "WS1 1AA", "B15 2TT", "B1 1ZZ", "not a postcode", None]


@pytest.fixture(scope="module")
def chain() -> dict[str, pd.DataFrame]:
    register = pd.DataFrame(
        {
            "Identifier": [f"R{i}" for i in range(len(POSTCODES))],
            "Name": [f"Co-op {i}" for i in range(len(POSTCODES))],
            "Legal Form": ["Society"] * len(POSTCODES),
            "Organisational Structure": ["Co-operative"] * len(POSTCODES),
            "Postcode": POSTCODES,
        }
    )
    orgs = sg.read_organisations(register)
    points = sg.geocode(orgs)
    pairs = (
        points[["postcode_lsoa11_code", "postcode_lsoa21_code", "postcode_ward_code"]]
        .dropna()
        .drop_duplicates("postcode_lsoa21_code")
        .sort_values("postcode_lsoa21_code")
    )
    lsoas11 = pairs["postcode_lsoa11_code"].tolist()
    lsoas21 = pairs["postcode_lsoa21_code"].tolist()
    n = len(lsoas21)
    lookup = sg.read_lsoa_lookup(
        pd.DataFrame({"LSOA11CD": lsoas11, "LSOA21CD": lsoas21, "CHGIND": ["U"] * n})
    )
    wards = sg.load_wards()
    bestfit = pd.DataFrame({"LSOA21CD": lsoas21, "WD24CD": pairs["postcode_ward_code"].tolist()})
    assigned = sg.assign_areas(
        points, wards=wards, authorities=sg.load_authorities(), lsoa_lookup=lookup
    )
    iod = sg.read_deprivation(
        pd.DataFrame(
            {
                "LSOA code (2021)": lsoas21,
                "Index of Multiple Deprivation (IMD) Score": [10.0 + i for i in range(n)],
                "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)": [
                    100 + i for i in range(n)
                ],
                "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of "
                "LSOAs)": [1 + i % 10 for i in range(n)],
            }
        )
    )
    joined = sg.attach_deprivation(assigned, iod)
    population = sg.read_population(
        pd.DataFrame({"lsoa21_code": lsoas21, "usual_residents": [1500] * n})
    )
    mine = wards[wards["ward_code"].isin(bestfit["WD24CD"])]
    summary = sg.summarise_areas(
        joined, mine, population=population, deprivation=iod, area_lookup=bestfit
    )
    return {
        "orgs": orgs,
        "points": points,
        "assigned": assigned,
        "joined": joined,
        "summary": summary,
        "lookup": lookup,
        "iod": iod,
        "population": population,
    }


def test_every_standard_column_has_its_one_dtype(chain: dict[str, pd.DataFrame]) -> None:
    joined = chain["joined"]
    checked = [column for column in COLUMN_DTYPES if column in joined.columns]
    assert {
        "org_type",
        "postcode_status",
        "geocode_status",
        "geocode_method",
        "position_quality",
        "postcode_lsoa11_code",
        "postcode_ward_code",
        "lsoa21_code",
        "lsoa11_code",
        "ward_code",
        "lad_code",
        "lsoa21_method",
        "area_method",
        "area_status",
        "deprivation_status",
    } <= set(checked)
    for column in checked:
        assert joined[column].dtype == COLUMN_DTYPES[column], column
    # the earlier steps' columns already had these dtypes, and keep them
    for step in ("orgs", "points", "assigned"):
        frame = chain[step]
        for column in (c for c in COLUMN_DTYPES if c in frame.columns):
            assert frame[column].dtype == COLUMN_DTYPES[column], (step, column)
    for column in (c for c in joined.columns if c.endswith("_code") and not c.startswith("src_")):
        assert joined[column].dtype == CODE, column
    summary = chain["summary"]
    assert summary["ward_code"].dtype == CODE


def test_statuses_are_fixed_categories(chain: dict[str, pd.DataFrame]) -> None:
    joined = chain["joined"]
    assert joined["geocode_status"].tolist()[:2] == ["matched", "matched"]
    assert joined["postcode_status"].tolist()[-2:] == ["invalid_format", "missing"]
    assert tuple(joined["deprivation_status"].cat.categories) == sg.deprivation.DEPRIVATION_STATUSES
    assert set(joined["deprivation_status"]) <= {"joined", "no_lsoa"}


def test_provenance_travels_through_every_step(chain: dict[str, pd.DataFrame]) -> None:
    def names(frame: pd.DataFrame) -> list[str]:
        return [record.name for record in sg.get_provenance(frame)]

    assert names(chain["orgs"]) == ["coopsuk_open_data"]
    postcodes = names(sg.bundle.postcode_frame())
    assert "code_point_open_2025" in postcodes
    geocoded = ["coopsuk_open_data", *postcodes]
    assert names(chain["points"]) == geocoded
    assert names(chain["lookup"]) == ["lsoa11_lsoa21_lookup"]
    layers = names(sg.load_wards()) + names(sg.load_authorities())
    assert layers[0] == "wards_2025_bgc"
    assigned = list(dict.fromkeys([*geocoded, *layers, "lsoa11_lsoa21_lookup"]))
    assert names(chain["assigned"]) == assigned
    assert names(chain["iod"]) == ["iod2025"]
    assert names(chain["joined"]) == [*assigned, "iod2025"]
    assert names(chain["population"]) == ["census2021_usual_residents"]
    assert names(chain["summary"]) == [
        *assigned,
        "iod2025",
        "census2021_usual_residents",
        "lsoa21_ward_lad_bestfit",
    ]
    lines = sg.attribution_lines(chain["summary"])
    assert "Contains Co-operatives UK open data licensed under ODC-By 1.0" in lines
    assert any("Office for National Statistics" in line for line in lines)


def test_combine_registers_keeps_each_inputs_provenance() -> None:
    coops = sg.read_organisations(
        pd.DataFrame(
            {
                "Identifier": ["R1"],
                "Name": ["A"],
                "Legal Form": ["Society"],
                "Organisational Structure": ["Co-operative"],
                "Postcode": ["B1 1AY"],
            }
        )
    )
    charities = sg.read_organisations(
        pd.DataFrame(
            {
                "registered_charity_number": ["1"],
                "linked_charity_number": ["0"],
                "charity_name": ["B"],
                "charity_registration_status": ["Registered"],
                "charity_contact_postcode": ["B1 1AY"],
            }
        )
    )
    combined = sg.combine_registers(coops, charities)
    assert [r.name for r in sg.get_provenance(combined)] == ["coopsuk_open_data", "ccew_register"]
    assert [r.licence for r in sg.get_provenance(combined)][1] == "Open Government Licence v3.0"


def test_boundaries_and_population_files_carry_their_records(tmp_path) -> None:
    path = tmp_path / "wards.geojson"
    sg.load_wards().head(2).rename(columns={"ward_code": "WD24CD"}).to_file(path)
    wards = sg.read_boundaries(path)
    (record,) = sg.get_provenance(wards)
    assert (record.publisher, record.vintage, record.source) == (
        "Office for National Statistics",
        "2024",
        str(path),
    )
    assert isinstance(wards, gpd.GeoDataFrame)
    csv = tmp_path / "residents.csv"
    csv.write_text("lsoa21_code,usual_residents\nE01000001,1500\n", encoding="utf-8")
    (census,) = sg.get_provenance(sg.read_population(csv))
    assert (census.name, census.source) == ("census2021_usual_residents", str(csv))


def test_sample_organisations_has_the_organisation_schema() -> None:
    sample = sg.sample_organisations(30, seed=2)
    read = sg.read_organisations(pd.DataFrame({"name": ["A"], "postcode": ["B1 1AY"]}))
    assert tuple(sample.columns) == sg.ORGANISATION_COLUMNS
    assert sample.dtypes.to_dict() == read[list(sg.ORGANISATION_COLUMNS)].dtypes.to_dict()
    assert sample["org_id"].is_unique
    assert set(sample["source_register"]) == {"sample"}
    assert sample["sic_section"].notna().all()
    assert sample["source_row"].tolist() == list(range(1, 31))
    # it goes straight into the next steps
    assert sg.geocode(sample)["geocode_status"].isin(["matched"]).sum() > 20

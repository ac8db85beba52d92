"""Tests of socecon_geo.population: read_population (Census 2021, IoD denominators)."""

from __future__ import annotations

import pandas as pd
import pytest

from socecon_geo._errors import InputError
from socecon_geo.population import read_population
from socecon_geo.provenance import get_provenance


def test_read_population_census(test_data):
    population = read_population(test_data / "areas" / "census_usual_residents.csv")
    assert population["lsoa_code"].tolist() == ["E01900001", "E01900002", "E01900003"]
    assert population["population"].tolist() == [1500.0, 2500.0, 900.0]
    assert population["lsoa_name"].iloc[0] == "Fabricated 001A"
    assert population.attrs["vintage"] == "Census 2021 usual residents"
    assert population.attrs["lsoa_vintage"] == 2021
    assert "Census 2021" in population.attrs["source"]


def test_read_population_iod2019_file6(test_data):
    path = test_data / "areas" / "iod2019_file6_population.csv"
    population = read_population(path, level="lsoa11")
    assert population["population"].tolist() == [1296.0, 2004.0, 987.0]
    assert population.attrs["vintage"] == "IoD2019 mid-2015"
    assert population.attrs["lsoa_vintage"] == 2011
    assert read_population(path, level=None).attrs["lsoa_vintage"] == 2011


def test_read_population_from_tidy_iod_frame():
    iod = pd.DataFrame(
        {
            "lsoa_code": ["E01900001", "E01900002"],
            "imd_decile": [1, 2],
            "population_total": pd.array([1200, 1800], dtype="Int64"),
        }
    )
    iod.attrs = {"vintage": "iod2025", "lsoa_vintage": 2021}
    population = read_population(iod)
    assert population["population"].tolist() == [1200.0, 1800.0]
    assert population.attrs["vintage"] == "IoD2025 mid-2022"


def test_read_population_lsoa_vintage_mismatch(test_data):
    path = test_data / "areas" / "iod2019_file6_population.csv"
    with pytest.raises(InputError, match=r"LSOA vintage mismatch.*LSOA 2011.*level='lsoa21'"):
        read_population(path)


def test_read_population_wrong_files(test_data):
    with pytest.raises(InputError, match="no total population column"):
        read_population(test_data / "areas" / "iod_scores_only.csv")
    with pytest.raises(InputError, match="not a CSV file"):
        read_population(test_data / "areas" / "boundaries.geojson")
    with pytest.raises(InputError, match="does not exist"):
        read_population(test_data / "areas" / "missing.csv")
    with pytest.raises(InputError, match="no LSOA code column"):
        read_population(pd.DataFrame({"area": ["x"], "usual_residents": [5]}))


def test_read_population_reports_every_problem_at_once(test_data):
    with pytest.raises(InputError) as caught:
        read_population(test_data / "areas" / "population_with_problems.csv")
    message = str(caught.value)
    assert "has 5 problems" in message
    assert "not LSOA codes like 'E01000001' (e.g. 'X123', lines 4)" in message
    assert "1 LSOA codes appear more than once (e.g. 'E01900001', lines 2, 3)" in message
    assert "not numbers (e.g. 'many', lines 5)" in message
    assert "negative (lines 6)" in message
    assert "no population (lines 7)" in message


def test_read_population_ons_headings_and_provenance(tmp_path):
    path = tmp_path / "ts001.csv"
    path.write_text(
        "LSOA21CD,LSOA21NM,usual_residents\nE01900001,Fabricated 001A,1500\n", encoding="utf-8"
    )
    population = read_population(path)
    assert population["lsoa_name"].tolist() == ["Fabricated 001A"]
    (record,) = get_provenance(population)
    assert (record.name, record.publisher, record.source) == (
        "census2021_usual_residents",
        "Office for National Statistics",
        str(path),
    )
    iod = read_population(
        pd.DataFrame({"LSOA code (2011)": ["E01000001"], "Total population: mid 2015": ["12"]}),
        level="lsoa11",
    )
    assert [r.name for r in get_provenance(iod)] == ["iod2019"]

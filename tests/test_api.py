"""The public API: every exported name resolves, to the right kind of object."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import socecon_geo

PUBLIC_FUNCTIONS = [
    "load_wards",
    "load_lsoas",
    "load_postcodes",
    "load_authorities",
    "load_msoas",
    "load_deprivation",
    "load_population",
    "load_lsoa_lookup",
    "load_area_lookup",
    "load_regions",
    "read_organisations",
    "combine_registers",
    "normalise_postcodes",
    "geocode",
    "geocoding_report",
    "build_postcode_table",
    "read_deprivation",
    "fetch_deprivation",
    "attach_deprivation",
    "read_boundaries",
    "fetch_boundaries",
    "assign_areas",
    "summarise_areas",
    "read_population",
    "load_geography",
    "fetch_geography",
    "find_clusters",
    "hotspots",
    "hotspot_grid",
    "rank_candidates",
]


@pytest.mark.parametrize("name", socecon_geo.__all__)
def test_every_export_resolves(name):
    assert getattr(socecon_geo, name) is not None
    assert name in dir(socecon_geo)


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_public_functions_are_functions_with_docs(name):
    # Import every submodule first: a submodule named like a function must not shadow it.
    for module in set(socecon_geo._EXPORTS.values()):
        importlib.import_module(module)
    value = getattr(socecon_geo, name)
    assert inspect.isfunction(value), f"socecon_geo.{name} is {type(value).__name__}"
    doc = inspect.getdoc(value) or ""
    assert "Parameters" in doc or not inspect.signature(value).parameters
    assert "Returns" in doc


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        socecon_geo.nope  # noqa: B018


def test_import_is_light():
    """``import socecon_geo`` must not pull in geopandas (exports load lazily)."""
    code = "import sys, socecon_geo; print('geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_errors_subclass_builtins():
    assert issubclass(socecon_geo.InputError, ValueError)
    assert issubclass(socecon_geo.CRSMismatchError, ValueError)
    assert issubclass(socecon_geo.UnknownAreaError, LookupError)
    assert issubclass(socecon_geo.DataUnavailableError, LookupError)
    assert issubclass(socecon_geo.DownloadError, OSError)
    assert issubclass(socecon_geo.NetworkUnreachableError, socecon_geo.DownloadError)
    assert issubclass(socecon_geo.MissingExtraError, ImportError)
    for name in ("InputError", "CRSMismatchError", "UnknownAreaError"):
        assert issubclass(getattr(socecon_geo, name), socecon_geo.SocEconGeoError)


def test_type_checking_imports_match_the_export_table():
    """Static type checkers see the same names, from the same modules, as __getattr__."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(socecon_geo.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    seen = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == socecon_geo._EXPORTS

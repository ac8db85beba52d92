"""The saved map in a real headless Chromium (selenium + Debian's chromium-driver).

Needs ``/usr/bin/chromium``, ``/usr/bin/chromedriver``, selenium and the Leaflet files:
``SOCECON_GEO_MAP_ASSETS`` names a folder holding ``leaflet.js``, ``leaflet.css``,
``leaflet.markercluster.js``, ``MarkerCluster.css``, ``MarkerCluster.Default.css``,
``Control.FullScreen.js``, ``Control.FullScreen.css`` and ``icon-fullscreen.svg``
(``.ci/map-assets DIR`` fetches them with ``npm pack``). When any of these is missing
the tests SKIP, saying why, except under CI (``CI=true``), where they FAIL: ``.ci/run``
installs Chromium and fetches the files, so their absence there is a broken CI.

The pages are saved with ``save_map(..., assets=)``, which writes the Leaflet files into
the page, and Chromium runs with every host name unresolvable: the tests prove that
the saved map works with no network at all.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import socecon_geo as sg
from socecon_geo.maps import (
    ASSET_FILES,
    DOMAIN_LABELS,
    LAYER_NAMES,
    MAIN_DOMAINS,
    NO_SHADING,
    render_map,
    save_map,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ASSETS = ASSET_FILES
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--window-size=1400,1000",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: every host name fails
)


def _unavailable(reason: str) -> None:
    """Skip, or fail under CI, where the browser and the files must be there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI runs the browser tests, but {reason}; see .ci/run")
    pytest.skip(reason)


def _assets() -> Path | None:
    folder = os.environ.get("SOCECON_GEO_MAP_ASSETS")
    if folder and all((Path(folder) / name).is_file() for name in ASSETS):
        return Path(folder)
    return None


def offline_copy(page: Path, assets: Path) -> Path:
    """A copy of a saved map whose CDN scripts and styles point at local files."""
    lines = []
    for line in page.read_text(encoding="utf-8").splitlines():
        match = re.search(r'(src|href)="(https?://[^"]+\.(?:js|css))"', line)
        if match:
            name = match.group(2).rsplit("/", 1)[-1]
            local = next(
                (assets / c for c in (name, name.replace(".min.", ".")) if (assets / c).is_file()),
                None,
            )
            if local is None:
                continue
            line = line.replace(match.group(2), local.as_uri())
        lines.append(line)
    target = page.with_name(f"offline_{page.name}")
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def _driver(user_dir: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_dir}")
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def load_seconds(page: Path, *, ready: str = "socecon", limit: float = 100.0) -> float:
    """Seconds from navigation until the map (and, for ours, its layers) exist.

    ``inf`` when the page has not loaded within ``limit`` seconds (or the browser stops
    answering); ``nan`` when there is no browser.
    """
    from selenium.common.exceptions import TimeoutException
    from urllib3.exceptions import ReadTimeoutError

    assets = _assets()
    if assets is None or not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return float("nan")
    user_dir = tempfile.mkdtemp(prefix="chromium-")
    driver = _driver(user_dir)
    try:
        driver.set_page_load_timeout(limit)
        start = time.perf_counter()
        try:
            driver.get(offline_copy(page, assets).as_uri())
        except (TimeoutException, ReadTimeoutError):
            return float("inf")
        check = (
            "return document.querySelectorAll('.socecon-legend').length > 0"
            if ready == "socecon"
            else "return document.querySelectorAll('.leaflet-interactive').length > 0"
        )
        while not driver.execute_script(check):
            if time.perf_counter() - start > limit:
                return float("inf")
            time.sleep(0.05)
        return time.perf_counter() - start
    finally:
        driver.quit()
        shutil.rmtree(user_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def assets() -> Path:
    return _require_assets()


def _require_assets() -> Path:
    found = _assets()
    if found is None:
        _unavailable(f"SOCECON_GEO_MAP_ASSETS must name a folder with {', '.join(ASSETS)}")
    assert found is not None
    return found


def _require_browser() -> None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            _unavailable(
                f"headless browser tests need {path} (Debian: apt-get install "
                "chromium chromium-driver)"
            )
    try:
        import selenium  # noqa: F401
    except ImportError:
        _unavailable("headless browser tests need selenium (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def browser(assets: Path) -> Iterator[Any]:
    _require_browser()
    user_dir = tempfile.mkdtemp(prefix="chromium-")
    driver = _driver(user_dir)
    yield driver
    driver.quit()
    shutil.rmtree(user_dir, ignore_errors=True)


def test_a_missing_browser_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI runs the browser tests, but .*chromium"):
        _require_browser()
    monkeypatch.setenv("SOCECON_GEO_MAP_ASSETS", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="SOCECON_GEO_MAP_ASSETS must name"):
        _require_assets()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"need .*no-chromium"):
        _require_browser()


HOSTILE = [
    "St John's Trust",
    'The "Quoted" Co-op',
    "Back\\slash Society",
    "Back`tick` ${window.__pwned = 1} CIC",
    "Fish & Chips Co-operative",
    "<script>window.__pwned = 1</script>",
    "</script><script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1">',
    "{{ this.get_name() }} {% raw %}",
    "Line one\nLine two",
    "Café 🌍 Co-op",
    "Кооператив 合作社",
    "Cymdeithas Tai Ŵyn a'r Ffŵr",
]


def _points() -> Any:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    n = len(HOSTILE)
    return gpd.GeoDataFrame(
        pd.DataFrame(
            {
                "name": HOSTILE,
                "org_type": ["co_operative"] * n,
                "postcode": ["B1 1AA"] * n,
                "website": ["javascript:window.__pwned = 1"] * n,
            }
        ),
        geometry=[Point(406_000 + 400 * i, 286_000 + 300 * (i % 4)) for i in range(n)],
        crs=27700,
    )


def _open(driver: Any, page: Path) -> str:
    driver.get_log("performance")  # forget the requests of earlier pages
    driver.get(page.as_uri())
    deadline = time.monotonic() + 60
    while not driver.execute_script("return !!window.socecon_points"):
        assert time.monotonic() < deadline, "the map did not load"
        time.sleep(0.1)
    return driver.execute_script("return document.querySelector('.folium-map').id")


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _requested(driver: Any) -> list[str]:
    """Every URL the page asked for since it was opened (Chrome's network log)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@pytest.fixture(scope="module")
def hostile_page(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("maps")
    wards = sg.load_wards()
    fmap = render_map(_points(), areas=wards, tiles=None, max_markers=0, title=HOSTILE[5])
    return save_map(fmap, folder / "hostile.html", assets=assets)


def test_the_map_loads_without_javascript_errors(browser: Any, hostile_page: Path) -> None:
    _open(browser, hostile_page)
    assert _severe(browser) == []


def test_hostile_names_neither_execute_nor_break_the_popups(
    browser: Any, hostile_page: Path
) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    _open(browser, hostile_page)
    shown = []
    for i in range(len(HOSTILE)):
        shown.append(
            browser.execute_script(
                "var m = window.socecon_points.markers[arguments[0]]; m.openPopup();"
                "return m.getPopup().getElement().querySelector('strong').textContent",
                i,
            )
        )
    assert shown == HOSTILE
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    assert (
        browser.execute_script("return document.querySelectorAll('a[href^=javascript]').length")
        == 0
    )
    title = browser.execute_script("return document.querySelector('.socecon-title h1').textContent")
    assert title == HOSTILE[5]
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert _severe(browser) == []


@pytest.fixture(scope="module")
def real_page(shared_data: Path, assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    points.loc[points.index[points.geometry.notna()][0], "name"] = "St John's Trust"
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points, min_organisations=5)
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(clusters, spots)
    size = sg.social_economy_size(points, measures=("count",))
    sites = sg.read_sites(shared_data / "sites" / "wmca_brownfield_land_registers.csv")
    match = sg.match_suppliers(sites, points)
    fmap = render_map(
        points,
        areas=wards,
        hotspots=spots,
        candidates=ranked,
        size=size,
        sites=match,
        tiles=None,
    )
    return save_map(fmap, tmp_path_factory.mktemp("maps") / "real.html", assets=assets)


def _layer_on(driver: Any, map_name: str, label: str) -> bool:
    return driver.execute_script(
        """
        var control = document.querySelector('.leaflet-control-layers-overlays');
        var labels = Array.from(control.querySelectorAll('label'));
        var found = labels.find(l => l.textContent.trim() === arguments[0]);
        return found.querySelector('input').checked;
        """,
        label,
    )


def _toggle(driver: Any, label: str) -> None:
    driver.execute_script(
        """
        var control = document.querySelector('.leaflet-control-layers-overlays');
        var labels = Array.from(control.querySelectorAll('label'));
        labels.find(l => l.textContent.trim() === arguments[0]).querySelector('input').click();
        """,
        label,
    )


def _legends(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.socecon-legend')).map(l => l.dataset.layer)"
    )


@pytest.mark.shared_data
def test_each_layer_toggles_and_its_legend_follows(browser: Any, real_page: Path) -> None:
    map_name = _open(browser, real_page)
    assert _severe(browser) == []
    for key, label in LAYER_NAMES.items():
        if key == "deprivation":  # a radio choice: test_choosing_a_domain_swaps_its_legend
            continue
        before = _layer_on(browser, map_name, label)
        assert (label in _legends(browser)) == before
        _toggle(browser, label)
        assert _layer_on(browser, map_name, label) != before
        assert (label in _legends(browser)) != before
        _toggle(browser, label)
        assert (label in _legends(browser)) == before
    assert _severe(browser) == []


@pytest.mark.shared_data
def test_search_finds_a_name_with_an_apostrophe(browser: Any, real_page: Path) -> None:
    _open(browser, real_page)
    box = browser.find_element("css selector", ".socecon-search input")
    box.send_keys("st john\u2019s")
    matches = browser.find_elements("css selector", ".socecon-search li")
    assert "St John's Trust" in [m.text for m in matches]
    next(m for m in matches if m.text == "St John's Trust").click()
    deadline = time.monotonic() + 10
    while not browser.execute_script("return !!document.querySelector('.leaflet-popup-content')"):
        assert time.monotonic() < deadline, "the popup did not open"
        time.sleep(0.1)
    name = browser.execute_script(
        "return document.querySelector('.leaflet-popup-content strong').textContent"
    )
    assert name == "St John's Trust"
    shot = real_page.with_name("map.png")
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert _severe(browser) == []


def test_ten_thousand_organisations_load_within_a_generous_bound(
    browser: Any, assets: Path, tmp_path: Path
) -> None:
    import geopandas as gpd
    import numpy as np

    table = sg.load_postcodes()
    live = table[table["easting"].notna() & ~table["terminated"].astype(bool)]
    rng = np.random.default_rng(0)
    rows = live.iloc[rng.integers(0, len(live), 10_000)]
    points = gpd.GeoDataFrame(
        {
            "name": [f"Organisation {i}" for i in range(10_000)],
            "org_type": "charity",
            "postcode": rows["postcode"].astype(str).to_numpy(),
        },
        geometry=gpd.points_from_xy(rows["easting"], rows["northing"]),
        crs=27700,
    )
    page = save_map(
        render_map(points, areas=sg.load_wards(), tiles=None), tmp_path / "10k.html", assets=assets
    )
    start = time.perf_counter()
    _open(browser, page)
    seconds = time.perf_counter() - start
    print(f"10,000 organisations: {page.stat().st_size / 1e6:.1f} MB, loaded in {seconds:.1f} s")
    assert seconds < 60
    assert browser.execute_script("return window.socecon_points.markers.length") == 10_000
    assert _severe(browser) == []


@pytest.fixture(scope="module")
def sample_page(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 invented organisations, the bundled flow, every layer (no real data needed)."""
    points = sg.attach_deprivation(
        sg.assign_areas(sg.geocode(sg.sample_organisations(2_000, seed=0)))
    )
    wards = sg.summarise_areas(points, level="ward")
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(sg.find_clusters(points), spots)
    fmap = render_map(points, areas=wards, hotspots=spots, candidates=ranked, tiles=None)
    return save_map(fmap, tmp_path_factory.mktemp("maps") / "sample.html", assets=assets)


def _choose(driver: Any, label: str) -> None:
    driver.execute_script(
        """
        var base = document.querySelector('.leaflet-control-layers-base');
        var labels = Array.from(base.querySelectorAll('label'));
        labels.find(l => l.textContent.trim() === arguments[0]).querySelector('input').click();
        """,
        label,
    )


def _chosen(driver: Any) -> list[str]:
    return driver.execute_script(
        """
        var base = document.querySelector('.leaflet-control-layers-base');
        return Array.from(base.querySelectorAll('label'))
            .filter(l => l.querySelector('input').checked).map(l => l.textContent.trim());
        """
    )


def _lsoa_fill(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-socecon-deprivation-pane path'))"
        ".slice(0, 200).map(p => p.getAttribute('fill'))"
    )


def test_choosing_a_domain_swaps_its_legend(browser: Any, sample_page: Path) -> None:
    _open(browser, sample_page)
    imd, income = DOMAIN_LABELS["imd"], DOMAIN_LABELS["income"]
    radios = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
        ".map(l => l.textContent.trim())"
    )
    assert radios == [DOMAIN_LABELS[k] for k in MAIN_DOMAINS] + [NO_SHADING]
    heading = browser.execute_script(
        "return document.querySelector('.socecon-control-heading').textContent"
    )
    assert heading == "Deprivation shading (IoD2025, choose one):"
    assert _chosen(browser) == [imd]
    assert imd in _legends(browser)
    assert income not in _legends(browser)
    assert browser.execute_script("return window.socecon_deprivation.domain()") == "imd"
    imd_fill = _lsoa_fill(browser)
    assert len(imd_fill) == 200

    _choose(browser, income)
    assert _chosen(browser) == [income]
    legends = _legends(browser)
    assert income in legends
    assert imd not in legends
    assert browser.execute_script("return window.socecon_deprivation.domain()") == "income"
    assert _lsoa_fill(browser) != imd_fill  # the same polygons, restyled
    # one set of LSOA polygons whatever the domain, below the ward outlines
    assert browser.execute_script(
        "return document.querySelectorAll('.leaflet-socecon-deprivation-pane path').length"
    ) == len(sg.load_lsoas())
    tip = browser.execute_script(
        """
        var layers = window.socecon_deprivation.layer.getLayers();
        var t = layers[0].getTooltip();
        var c = t._content(layers[0]);
        return c.textContent;
        """
    )
    assert "Income decile" in tip
    assert "IMD decile" in tip

    _choose(browser, NO_SHADING)
    legends = _legends(browser)
    assert not {DOMAIN_LABELS[k] for k in MAIN_DOMAINS} & set(legends)
    assert browser.execute_script("return window.socecon_deprivation.domain()") is None
    assert _lsoa_fill(browser) == []

    _choose(browser, imd)
    assert imd in _legends(browser)
    assert income not in _legends(browser)
    assert _lsoa_fill(browser) == imd_fill
    assert _severe(browser) == []


def test_hostile_lsoa_names_show_as_text_in_the_hover_box(
    browser: Any, assets: Path, tmp_path: Path
) -> None:
    import geopandas as gpd

    lsoas = sg.load_geography().layer("lsoa21").head(len(HOSTILE)).copy()
    lsoas = lsoas.rename(columns={"lsoa21_code": "LSOA21CD", "lsoa21_name": "LSOA21NM"})
    lsoas["LSOA21NM"] = HOSTILE
    geo = sg.Geography.from_files(
        lsoas21=gpd.GeoDataFrame(lsoas[["LSOA21CD", "LSOA21NM", "geometry"]])
    )
    page = save_map(
        render_map(_points(), geography=geo, tiles=None), tmp_path / "lsoa.html", assets=assets
    )
    _open(browser, page)
    shown = browser.execute_script(
        """
        return window.socecon_deprivation.layer.getLayers().map(function(l) {
            l.openTooltip();
            return l.getTooltip().getElement().querySelector('strong').textContent;
        });
        """
    )
    assert shown == HOSTILE
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    assert _severe(browser) == []


def test_the_saved_map_needs_no_network(browser: Any, sample_page: Path) -> None:
    _open(browser, sample_page)
    asked = _requested(browser)
    assert asked, "the network log is empty"
    assert [u for u in asked if not u.startswith(("file:", "data:"))] == []
    assert _severe(browser) == []


def test_a_planner_opens_it_cold_screenshot(browser: Any, sample_page: Path) -> None:
    _open(browser, sample_page)
    time.sleep(1.0)  # let the cluster icons settle
    shot = sample_page.with_name("sample_map.png")
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    target = os.environ.get("SOCECON_GEO_MAP_SCREENSHOT")
    if target:
        shutil.copyfile(shot, target)
    assert shot.stat().st_size > 10_000
    # what is on when the map opens: the IMD, wards, clusters and organisations
    assert set(_legends(browser)) == {
        DOMAIN_LABELS["imd"],
        LAYER_NAMES["wards"],
        LAYER_NAMES["strengths"],
        LAYER_NAMES["organisations"],
    }
    assert _severe(browser) == []


@pytest.fixture(scope="module")
def sites_page(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site and suppliers with hostile names, matched, on the map."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    points = _points()
    points = points.assign(sic_code=pd.array(["43210"] * len(points), dtype="string"))
    sites = sg.read_sites(
        gpd.GeoDataFrame(
            {"site_name": [HOSTILE[6], "Far away"], "programme": ["housing", "housing"]},
            geometry=[Point(406_200, 286_100), Point(406_200, 346_100)],
            crs=27700,
        )
    )
    match = sg.match_suppliers(sites, points)
    fmap = render_map(points, sites=match, deprivation=None, tiles=None, max_markers=0)
    return save_map(fmap, tmp_path_factory.mktemp("maps") / "sites.html", assets=assets)


def test_site_popups_list_suppliers_as_text_and_the_legend_follows(
    browser: Any, sites_page: Path
) -> None:
    map_name = _open(browser, sites_page)
    popups = browser.execute_script(
        """
        var map = window[arguments[0]], out = [];
        map.eachLayer(function(l) {
            if (l instanceof L.CircleMarker && l.feature && l.feature.properties._popup) {
                l.openPopup();
                var el = l.getPopup().getElement();
                out.push([el.querySelector('strong').textContent,
                          Array.from(el.querySelectorAll('th')).map(t => t.textContent)]);
            }
        });
        return out;
        """,
        map_name,
    )
    titles = sorted(p[0] for p in popups)
    assert titles == sorted([HOSTILE[6], "Far away"])
    near = next(p[1] for p in popups if p[0] == HOSTILE[6])
    listed = [t for t in near if re.match(r"^\d+\. ", t)]
    assert len(listed) == 5
    assert all(t.split(". ", 1)[1] in HOSTILE for t in listed)
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    label = LAYER_NAMES["sites"]
    assert label in _legends(browser)
    _toggle(browser, label)
    assert label not in _legends(browser)
    _toggle(browser, label)
    assert label in _legends(browser)
    assert _severe(browser) == []

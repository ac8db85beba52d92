"""The saved map in a real headless Chromium (selenium + Debian's chromium-driver).

The tests SKIP when ``/usr/bin/chromium``, ``/usr/bin/chromedriver``, selenium or the
Leaflet files are absent — for now also under CI, until ``.ci/run`` installs them.

The machine has no internet, so the page's CDN scripts are swapped for local copies:
``SOCECON_GEO_MAP_ASSETS`` names a folder holding ``leaflet.js``, ``leaflet.css``,
``leaflet.markercluster.js``, ``MarkerCluster.css``, ``MarkerCluster.Default.css``,
``Control.FullScreen.js``, ``Control.FullScreen.css`` and ``icon-fullscreen.svg``
(``npm pack leaflet@1.9.3 leaflet.markercluster@1.1.0 leaflet.fullscreen@3.0.0`` and
copy them out of ``dist/``); other CDN files (bootstrap, jQuery, awesome-markers: folium
loads them, the map does not use them) are left out of the local copy.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import socecon_geo as sg
from socecon_geo.maps import LAYER_NAMES, render_map, save_map

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ASSETS = (
    "leaflet.js",
    "leaflet.css",
    "leaflet.markercluster.js",
    "MarkerCluster.css",
    "MarkerCluster.Default.css",
    "Control.FullScreen.js",
    "Control.FullScreen.css",
    "icon-fullscreen.svg",
)
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
)


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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
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
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("headless browser tests need /usr/bin/chromium and /usr/bin/chromedriver")
    pytest.importorskip("selenium", reason="headless browser tests need selenium")
    if _assets() is None:
        pytest.skip(f"SOCECON_GEO_MAP_ASSETS must name a folder with {', '.join(ASSETS)}")
    user_dir = tempfile.mkdtemp(prefix="chromium-")
    driver = _driver(user_dir)
    yield driver
    driver.quit()
    shutil.rmtree(user_dir, ignore_errors=True)


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
    driver.get(offline_copy(page, _assets()).as_uri())  # type: ignore[arg-type]
    deadline = time.monotonic() + 60
    while not driver.execute_script("return !!window.socecon_points"):
        assert time.monotonic() < deadline, "the map did not load"
        time.sleep(0.1)
    return driver.execute_script("return document.querySelector('.folium-map').id")


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("maps")
    wards = sg.load_wards()
    fmap = render_map(_points(), areas=wards, tiles=None, max_markers=0, title=HOSTILE[5])
    return save_map(fmap, folder / "hostile.html")


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
def real_page(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    orgs = sg.read_organisations(shared_data / "organisations" / "coopsuk_open_data_2023-03-02.csv")
    points = sg.attach_deprivation(sg.assign_areas(sg.geocode(orgs)))
    points.loc[points.index[points.geometry.notna()][0], "name"] = "St John's Trust"
    wards = sg.summarise_areas(points, level="ward")
    clusters = sg.find_clusters(points, min_organisations=5)
    spots = sg.hotspots(wards)
    ranked = sg.rank_candidates(clusters, spots)
    fmap = render_map(points, areas=wards, hotspots=spots, candidates=ranked, tiles=None)
    return save_map(fmap, tmp_path_factory.mktemp("maps") / "real.html")


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
    for label in LAYER_NAMES.values():
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
    browser: Any, tmp_path: Path
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
    page = save_map(render_map(points, areas=sg.load_wards(), tiles=None), tmp_path / "10k.html")
    start = time.perf_counter()
    _open(browser, page)
    seconds = time.perf_counter() - start
    print(f"10,000 organisations: {page.stat().st_size / 1e6:.1f} MB, loaded in {seconds:.1f} s")
    assert seconds < 60
    assert browser.execute_script("return window.socecon_points.markers.length") == 10_000
    assert _severe(browser) == []

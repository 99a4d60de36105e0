"""The site (`hala docs`): built offline from the toy run's executed notebooks, opened page by page in a real browser."""
import shutil
from urllib.parse import unquote, urlparse

import pytest

from conftest import CHROMIUM_LINE, ROOT, hala

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

def _browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError: webdriver = None
    if webdriver is None or not (CHROMIUM and DRIVER):
        pytest.fail(f"the browser test needs Debian's chromium and its driver, which the tests cannot install themselves: {CHROMIUM_LINE}")
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2000"): o.add_argument(a)
    return webdriver.Chrome(service=Service(DRIVER), options=o)  # a local driver: Selenium Manager downloads nothing

def test_every_page_opens_in_chromium_with_its_images_and_internal_links(toy_run, tmp_path):
    res, _, roots, _ = toy_run
    p = hala("docs", "--profile", "toy", *roots, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    site = res/"site"
    pages = sorted(site.glob("*.html"))
    assert {q.stem for q in pages} >= {"index", "02_teacher_fp8", "06_sft-9B", "09_report"}, [q.name for q in pages]
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    b, shown = _browser(), {}
    try:
        for page in pages:
            b.get(page.as_uri())
            try:  # on a loaded machine `get` can return before a large page has finished loading
                WebDriverWait(b, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
            except TimeoutException:
                pytest.fail(f"{page.name} did not finish loading within 60 s")
            bad = b.execute_script("return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))")
            assert bad == [], (page.name, bad)
            shown[page.stem] = b.execute_script("return document.images.length")
            for href in b.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"):
                u = urlparse(href)
                if u.scheme in ("http", "https", "mailto"): continue
                target = (page.parent/unquote(u.path)).resolve() if u.path else page
                assert target.exists(), (page.name, href)
                if u.fragment and target == page:
                    assert b.execute_script("return !!(document.getElementById(arguments[0]) || document.getElementsByName(arguments[0]).length)",
                                            unquote(u.fragment)), (page.name, href)
        with_figures = {"01_assets", "02_teacher_fp8", "04_translator", "06_sft-9B", "07_merge", "09_report", "10_releases", "index"}
        assert all(shown[n] > 0 for n in with_figures), shown  # the stages that draw figures show them
        b.get((site/"index.html").as_uri())
        shot = ROOT/"runs"/"test-output"/"site_index.png"  # kept after the run, beside the other test output
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert b.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        print(f"screenshot of the index: {shot}")
        text = b.find_element("tag name", "body").text
        assert "Hala-1.2B" in text and "AlGhafa" in text and "09_report" in text, text[:500]  # the stage map and the paper's table
    finally:
        b.quit()

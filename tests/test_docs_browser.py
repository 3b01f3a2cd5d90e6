"""The generated reference and the reference server's Swagger UI, rendered by real headless Chromium.

Checks read the DOM, the browser's console log and its network log (Chrome's
performance log). Screenshots go to `artifacts/docs/` at the repository root
(git-ignored). The guide's `docs/screenshot.png` is taken from the same page on every run,
so it always shows what `billing-kit docs` writes today (commit it when it changes).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billing_kit.conformance.clauses import clauses_for_field
from billing_kit.conformance.contract import load_contract
from billing_kit.docs import docs_command
from billing_kit.docs.render import HTML_NAME
from tests.support import browser as browser_support
from tests.support.browser import WIDE, chromium, console_errors, open_logged, requested_urls, screenshot
from tests.support.procs import ROOT
from tests.support.reference import ReferenceServer

pytestmark = pytest.mark.browser

CONTRACT = load_contract()
ARTIFACTS = ROOT / "artifacts" / "docs"
GUIDE_SCREENSHOT = ROOT / "docs" / "screenshot.png"  # shown by docs/guide/reference-server.md
GUIDE_SCREENSHOT_HEIGHT = 1850  # down to the first request fields, their limits and clause badges


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    result = CliRunner().invoke(docs_command, ["--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / HTML_NAME


def save_screenshots(driver: Any, name: str) -> Path:
    return browser_support.save_screenshots(driver, ARTIFACTS, name)


def text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, css).get_attribute("textContent"))


def test_the_generated_page_shows_the_contract(browser: Any, page: Path) -> None:
    from selenium.webdriver.common.by import By

    url = page.as_uri()
    open_logged(browser, url)
    for name in CONTRACT.request_fields:
        block = " ".join(text(browser, f"section[id$='-body'] [data-field='{name}']").split())
        for clause in clauses_for_field(f"/{name}"):
            if clause.family == "REQ":
                assert f"{clause.level.value}{clause.id}" in block.replace(" ", ""), (name, clause.id)
        if name in CONTRACT.max_lengths:
            assert f"Maximum string length: {CONTRACT.max_lengths[name]} (Unicode code points)" in block
        assert browser.find_element(By.CSS_SELECTOR, f"section[id$='-body'] [data-field='{name}']").is_displayed()
    for name in CONTRACT.response_fields:
        css = f"section[id$='-response'] [data-field='{name}']"
        assert browser.find_element(By.CSS_SELECTOR, css).is_displayed()
        block = text(browser, css).replace(" ", "").replace("\n", "")
        for clause in clauses_for_field(f"/{name}"):
            if clause.family == "RES":
                assert f"{clause.level.value}{clause.id}" in block, (name, clause.id)
    environment = " ".join(text(browser, "section[id$='-response'] [data-field='environment']").split())
    assert "Available options: " + ", ".join(CONTRACT.environments) in environment
    nullable = " ".join(text(browser, "section[id$='-response'] [data-field='name']").split())
    assert "string | null" in nullable
    statuses = [int(e.get_attribute("data-status")) for e in browser.find_elements(By.CSS_SELECTOR, "details.error")]
    assert statuses == [s for s in CONTRACT.documented_statuses if s >= 400]
    summaries = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "details.error summary")]
    assert all(str(s) in summary for s, summary in zip(statuses, summaries, strict=True))
    curl = text(browser, "aside pre.curl-example")
    assert "$BILLING_API_KEY" in curl and CONTRACT.server_url in curl
    for key in CONTRACT.limits:
        assert browser.find_element(By.CSS_SELECTOR, f"tr[data-limit='{key}']").is_displayed()
    assert console_errors(browser) == []
    assert set(requested_urls(browser)) <= {url}
    save_screenshots(browser, "reference")
    screenshot(browser, GUIDE_SCREENSHOT, GUIDE_SCREENSHOT_HEIGHT)


def test_wide_screens_get_two_columns_and_narrow_ones_one(browser: Any, page: Path) -> None:
    from selenium.webdriver.common.by import By

    open_logged(browser, page.as_uri())
    fields = browser.find_element(By.CSS_SELECTOR, "section[id$='-body']").rect
    examples = browser.find_element(By.CSS_SELECTOR, "aside.examples").rect
    assert examples["x"] >= fields["x"] + fields["width"]  # side by side
    assert browser.find_element(By.CSS_SELECTOR, "nav.sidebar").is_displayed()
    browser.set_window_size(700, 1000)
    time.sleep(0.2)
    fields = browser.find_element(By.CSS_SELECTOR, "section[id$='-body']").rect
    examples = browser.find_element(By.CSS_SELECTOR, "aside.examples").rect
    assert examples["y"] > fields["y"]  # stacked below
    assert not browser.find_element(By.CSS_SELECTOR, "nav.sidebar").is_displayed()
    for width in (700, 420):  # a tablet and a phone: nothing wider than the screen
        browser.set_window_size(width, 1000)
        time.sleep(0.2)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), width
    browser.set_window_size(*WIDE)


def test_an_error_example_opens_without_javascript(browser: Any, page: Path) -> None:
    from selenium.webdriver.common.by import By

    open_logged(browser, page.as_uri())
    first = browser.find_element(By.CSS_SELECTOR, "details.error")
    example = first.find_element(By.CSS_SELECTOR, "pre.code")
    assert not example.is_displayed()
    summary = first.find_element(By.CSS_SELECTOR, "summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", summary)
    summary.click()
    problem = json.loads(example.text)
    assert problem["status"] == int(first.get_attribute("data-status"))
    assert {"type", "title", "status", "detail"} <= set(problem)


def test_the_reference_servers_swagger_ui_shows_the_operation(browser: Any, reference_server: ReferenceServer) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    open_logged(browser, f"{reference_server.base_url}/ui/")
    summary = WebDriverWait(browser, 20).until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, ".opblock-post .opblock-summary"))
    )
    assert "POST" in summary.text
    assert "/customers" in summary.text
    assert CONTRACT.operation["summary"] in summary.text
    urls = requested_urls(browser)
    assert urls, "the performance log saw no requests"
    assert [u for u in urls if not u.startswith(reference_server.origin + "/")] == []
    assert console_errors(browser) == []
    save_screenshots(browser, "swagger-ui")

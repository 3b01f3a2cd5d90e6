"""The HTML report of real runs, looked at in headless Chromium as a person would.

Three pages: the reference (all PASS and INFO), a zoo server with one defect
(a real FAIL with many violations), and a hand-built run with a FLAKY FAIL, a WARN,
SKIPs after the target stopped and an internal error (tests/support/report_samples.py).
Checks read the DOM and the console; screenshots go to `artifacts/reports/` at the
repository root (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing_kit.conformance import clauses
from billing_kit.conformance.reports import html as html_report
from tests.servers import zoo_runner
from tests.support import forkcli, report_samples
from tests.support.browser import (
    WIDE,
    chromium,
    console_errors,
    open_logged,
    requested_urls,
    save_screenshots,
    screenshot,
)
from tests.support.procs import ROOT
from tests.support.reference import ReferenceServer

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts" / "reports"
DEFECT = "len-utf8-bytes"  # REQ-LEN-1 FAIL with a dozen violations
NARROW = (420, 900)


def check_html(base_url: str, api_key: str, out: Path, *extra: str) -> Path:
    """`billing-kit check` with --html and --report-json into `out`; the exit code is the run's business."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    page = out / "report.html"
    argv = ["check", "--base-url", base_url, "--api-key", api_key, "--seed", "1", "--examples", "10"]
    argv += ["--html", str(page), "--report-json", str(out / "report.json"), *extra]
    done = forkcli.run(argv, timeout=300, env=env)
    assert page.exists(), done.stdout[-3000:] + done.stderr
    return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def passing_page(reference_server: ReferenceServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("passing")
    live = ("--live-key", reference_server.live_key, "--allow-live")
    return check_html(reference_server.base_url, reference_server.sandbox_key, out, *live)


@pytest.fixture(scope="module")
def failing_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, DEFECT) as target:
        return check_html(target.base_url, target.keys.sandbox, tmp_path_factory.mktemp("failing"))


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    html_report.write(report_samples.failing_run(), out / "report.html", out / "report.json")
    return out / "report.html"


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def section_order(driver: Any) -> list[str]:
    return list(js(driver, "return [...document.querySelectorAll('body > section, body > details')].map(e => e.id)"))


def wrapped_ids(driver: Any) -> list[str]:
    """Clause ids drawn on more than one line (an inline element that wraps has one client rect per line)."""
    return list(
        js(
            driver,
            "return [...document.querySelectorAll('.cid')].filter(e => e.getClientRects().length > 1)"
            ".map(e => e.textContent)",
        )
    )


def dangling_links(driver: Any) -> list[str]:
    return list(
        js(
            driver,
            "return [...document.querySelectorAll('a[href^=\"#\"]')].map(a => a.getAttribute('href').slice(1))"
            ".filter(id => !document.getElementById(id))",
        )
    )


def look(driver: Any, page: Path, name: str) -> None:
    """Load the page, check what every report page must do, save its screenshots."""
    url = page.as_uri()
    open_logged(driver, url)
    assert console_errors(driver) == []
    assert set(requested_urls(driver)) <= {url}  # self-contained: nothing fetched
    assert dangling_links(driver) == []
    for folded in ("pass", "info", "created"):
        assert js(driver, f"const e = document.getElementById('{folded}'); return e === null || !e.open"), folded
    assert wrapped_ids(driver) == []
    save_screenshots(driver, ARTIFACTS, name)
    js(driver, "document.querySelectorAll('details').forEach(d => d.open = true)")
    assert wrapped_ids(driver) == []  # also once everything is unfolded
    screenshot(driver, ARTIFACTS / f"{name}-unfolded-full.png")
    for width, height in (WIDE, NARROW):
        driver.set_window_size(width, height)
        assert js(driver, "return document.documentElement.scrollWidth <= window.innerWidth"), width
        assert wrapped_ids(driver) == [], width
    driver.set_window_size(*WIDE)


def test_a_failing_runs_report_puts_the_fail_first_with_a_link_to_it(browser: Any, failing_page: Path) -> None:
    from selenium.webdriver.common.by import By

    look(browser, failing_page, "failing")
    open_logged(browser, failing_page.as_uri())
    order = section_order(browser)
    assert order[0] == "fail" and order[-2:] == ["pass", "created"] and order.index("info") < order.index("pass")
    link = browser.find_element(By.CSS_SELECTOR, "nav.toc a[href='#REQ-LEN-1']")
    link.click()
    assert js(browser, "return location.hash") == "#REQ-LEN-1"
    top = js(browser, "return document.getElementById('REQ-LEN-1').getBoundingClientRect().top")
    assert abs(top) < 5  # the link scrolled the clause to the top
    clause = browser.find_element(By.ID, "REQ-LEN-1")
    first = clause.find_element(By.CSS_SELECTOR, "details.finding")
    assert first.get_attribute("open") is not None and "× U+" in first.text and "Server" in first.text
    assert "violations shown; all in the JSON report" in clause.text  # 5 of 12
    assert not browser.find_element(By.ID, "AUTH-1").is_displayed()  # PASS rows are folded


def test_a_passing_runs_report_is_short_and_folded(browser: Any, passing_page: Path) -> None:
    from selenium.webdriver.common.by import By

    look(browser, passing_page, "passing")
    open_logged(browser, passing_page.as_uri())
    assert section_order(browser) == ["info", "pass", "created"]
    assert browser.find_elements(By.CSS_SELECTOR, "nav.toc") == []
    assert "No FAIL, no WARN, no SKIP" in browser.find_element(By.CSS_SELECTOR, ".ok").text
    height = js(browser, "return document.documentElement.scrollHeight")
    assert height <= WIDE[1] * 1.5, height  # every clause folded: about a screen
    for clause in clauses.CLAUSES:
        assert len(browser.find_elements(By.ID, clause.id)) == 1


def test_a_flaky_and_stopped_run_says_so_at_the_top(browser: Any, sample_page: Path) -> None:
    from selenium.webdriver.common.by import By

    look(browser, sample_page, "flaky-and-stopped")
    open_logged(browser, sample_page.as_uri())
    assert section_order(browser) == ["fail", "warn", "skip", "info", "pass", "created"]
    alert = browser.find_element(By.CSS_SELECTOR, ".alert")
    assert report_samples.STOPPED in alert.text and alert.location["y"] < WIDE[1]
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#ERR-2 .clause-head .FLAKY")]
    assert labels == ["FLAKY 0/2"]
    toc = browser.find_element(By.CSS_SELECTOR, "nav.toc").text
    assert "REQ-LEN-1" in toc and "ERR-2" in toc and "ERR-3" in toc and "FLAKY 0/2" in toc

"""The deep run's chart (rate ruled out against time) in the HTML report, looked at in headless Chromium.

A real `check --until 0.05 --workers 2 --html` against the reference server: the page
draws one line per clause of the series, on a log scale labelled `1 in N`, with the
goal's dashed line; the labels are readable (11 px or more, none overlapping another)
and nothing is fetched. Screenshots go to `artifacts/reports/` (git-ignored).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import chromium, console_errors, open_logged, requested_urls, screenshot
from tests.support.procs import BILLING_KIT, ROOT
from tests.support.reference import ReferenceServer

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts" / "reports"


@pytest.fixture(scope="module")
def deep_page(reference_server: ReferenceServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("until")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    argv = [
        BILLING_KIT, "check", "--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key,
        "--seed", "1", "--until", "0.05", "--workers", "2",
        "--html", str(out / "report.html"), "--report-json", str(out / "report.json"),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, env=env)
    assert (out / "report.html").exists(), done.stdout[-3000:] + done.stderr
    return out / "report.html", json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def js(driver: Any, script: str) -> Any:
    return driver.execute_script(script)


@pytest.mark.timeout(1200)  # a deep run on a busy 2-core machine
def test_the_chart_draws_one_line_per_clause_with_readable_labels(browser: Any, deep_page: tuple[Path, Any]) -> None:
    page, report = deep_page
    series = report["options"]["deep"]["series"]
    assert series, report["options"]["deep"]
    url = page.as_uri()
    open_logged(browser, url)
    assert console_errors(browser) == []
    assert set(requested_urls(browser)) <= {url}
    assert js(browser, "return document.querySelectorAll('script').length") == 0
    drawn = js(
        browser,
        "return [...document.querySelectorAll('svg.chart polyline.clause-line')].map(p => {"
        " const b = p.getBBox(); return [p.dataset.clause, b.width, b.height, p.points.length]; })",
    )
    assert sorted(c for c, *_ in drawn) == sorted(series)  # one line per clause of the series
    assert all(points == len(series[c]) for c, _, _, points in drawn)
    assert any(width > 0 for _, width, _, _ in drawn)  # lines across time, not all at one instant
    box = js(
        browser, "const r = document.querySelector('svg.chart').getBoundingClientRect(); return [r.width, r.height]"
    )
    assert box[0] >= 400 and box[1] >= 200
    y_labels = js(browser, "return [...document.querySelectorAll('svg.chart .y-label')].map(t => t.textContent)")
    assert len(y_labels) >= 2 and all(label.startswith("1 in ") or label.endswith("%") for label in y_labels)
    assert any(label.startswith("1 in ") for label in y_labels)
    assert js(browser, "return document.querySelectorAll('svg.chart line.goal').length") == 1
    # Readable: every text of the chart drawn at 11 px or more, and no two clause names on top of each other.
    sizes = js(
        browser,
        "return [...document.querySelectorAll('svg.chart text')].map(t => parseFloat(getComputedStyle(t).fontSize))",
    )
    assert sizes and min(sizes) >= 11, sizes
    overlaps = js(
        browser,
        "const r = [...document.querySelectorAll('svg.chart .clause-label')].map(t => t.getBoundingClientRect());"
        "let n = 0; for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)"
        " if (r[i].top < r[j].bottom - 1 && r[j].top < r[i].bottom - 1"
        " && r[i].left < r[j].right && r[j].left < r[i].right) n++;"
        "return n;",
    )
    assert overlaps == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    js(browser, "document.getElementById('assurance-chart').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "until-chart.png"))
    screenshot(browser, ARTIFACTS / "until-full.png")

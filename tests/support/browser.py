"""Headless Chromium for the tests that look at a page as a person would (docs, HTML reports).

`chromium()` starts one driver (selenium + /usr/bin/chromium + chromedriver) with
the console and network logs on; `open_logged` loads a page with empty logs, so
`console_errors` and `requested_urls` see that page only; `save_screenshots`
writes the first screen and the whole page as PNGs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.tools import require

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
WIDE = (1440, 1000)


@contextmanager
def chromium(size: tuple[int, int] = WIDE) -> Iterator[Any]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    for path in missing:
        require(path)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # Leave the start page (Chromium's new-tab page loads chrome:// resources) before any log is read.
    driver.get("about:blank")
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_logged(driver: Any, url: str, size: tuple[int, int] = WIDE) -> None:
    """Load `url` with empty console and network logs, so later reads see this page only."""
    driver.get_log("browser")
    driver.get_log("performance")
    driver.set_window_size(*size)
    driver.get(url)


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for, except `data:` URLs (decoded in place, never fetched)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = str(message["params"]["request"]["url"])
            if not url.startswith("data:"):
                urls.append(url)
    return urls


def console_errors(driver: Any) -> list[str]:
    return [str(e["message"]) for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: Any, path: Path, height: int | None = None, width: int = WIDE[0]) -> None:
    """A shot of a `width`-pixel-wide viewport, `height` tall (default: the whole page)."""
    if height is None:
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    metrics = {"width": width, "height": min(height, 16000), "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def save_screenshots(driver: Any, directory: Path, name: str) -> Path:
    """The first screen as a reader sees it, and the whole page."""
    directory.mkdir(parents=True, exist_ok=True)
    top = directory / f"{name}.png"
    screenshot(driver, top, WIDE[1])
    screenshot(driver, directory / f"{name}-full.png")
    print(f"screenshots: {top} and {name}-full.png")
    return top

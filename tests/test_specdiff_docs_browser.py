"""The reference's Changes section (`docs --changes-from`) as a person sees it, in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billing_kit.docs.render import HTML_NAME
from tests.support.browser import WIDE, chromium, console_errors, open_logged
from tests.support.reference import billing_kit
from tests.test_specdiff import SPEC
from tests.test_specdiff_cli import narrowed

pytestmark = pytest.mark.browser


def test_the_changes_section_shows_each_change_and_links_its_clauses(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    new, field, _ = narrowed(tmp_path)
    out = tmp_path / "site"
    done = billing_kit(["docs", "--out", str(out), "--spec", str(new), "--changes-from", str(SPEC)])
    assert done.returncode == 0, done.stderr
    changes = json.loads(billing_kit(["diff", str(SPEC), str(new), "--format", "json"]).stdout)["changes"]
    with chromium() as driver:
        open_logged(driver, (out / HTML_NAME).as_uri())
        section = driver.find_element(By.ID, "changes")
        assert section.is_displayed()
        rows = section.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) == len(changes)
        cells = [cell.text for cell in rows[0].find_elements(By.TAG_NAME, "td")]
        assert cells[0] == "clients" and f"/{field}" in cells[2] and cells[3] == changes[0]["pointer"]
        links = rows[0].find_elements(By.TAG_NAME, "a")
        assert [link.text for link in links] == changes[0]["clauses"]
        for link in links:  # each clause link lands on that clause's card
            anchor = str(link.get_attribute("href")).rsplit("#", 1)[1]
            assert anchor.startswith("clause-") and driver.find_element(By.ID, anchor).is_displayed()
        nav = driver.find_element(By.CSS_SELECTOR, "nav.sidebar a[href='#changes']")
        assert nav.is_displayed() and nav.text == "Changes"
        nav.click()
        top = "return arguments[0].getBoundingClientRect().top"
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(top, section) < WIDE[1] / 2)  # smooth scroll
        assert console_errors(driver) == []

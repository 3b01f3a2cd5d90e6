"""The statement of conformance (`docs --report`) and the badge, rendered by headless Chromium.

The reports are real: `check --only REQ-EMAIL-1,REQ-META-1` against a zoo server
with the email-optional defect (REQ-EMAIL-1 FAIL, REQ-META-1 PASS) and against a
conforming one, and the proxy's report on traffic to the reference server with one
bad client request (test_traffic_badge's). The browser fixture and page helpers are
the docs tests' own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billing_kit.badge import badge_command
from billing_kit.docs import docs_command
from billing_kit.docs.render import HTML_NAME, MARKDOWN_NAME
from tests.servers import zoo_runner
from tests.support.reference import ReferenceServer
from tests.test_docs_browser import browser, console_errors, open_logged, requested_urls, save_screenshots
from tests.test_traffic_badge import BROKEN, judged_musts, make_traffic_report

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the docs tests' fixture, used here by name

ONLY = ("REQ-EMAIL-1", "REQ-META-1")
NAME = "Zoo <email-optional> & co"
RED, GREEN = "rgb(201, 48, 44)", "rgb(46, 133, 64)"


def make_report(directory: Path, defect: str | None) -> Path:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, defect) as target:
        run = zoo_runner.run_check(target, only=ONLY, seed=7)
    path = directory / f"{defect or 'conforming'}.json"
    path.write_text(json.dumps(run.report))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, reference_server: ReferenceServer) -> Iterator[dict[str, Path]]:
    directory = tmp_path_factory.mktemp("statement")
    yield {
        "defect": make_report(directory, "email-optional"),
        "conforming": make_report(directory, None),
        "traffic": make_traffic_report(reference_server, directory / "traffic"),
    }


@pytest.fixture(scope="module")
def statement(reports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("statement-docs")
    result = CliRunner().invoke(docs_command, ["--out", str(out), "--report", str(reports["defect"]), "--name", NAME])
    assert result.exit_code == 0, result.output
    return out


def js(driver: Any, script: str) -> Any:
    return driver.execute_script(script)


def test_statement_header_and_a_verdict_beside_every_clause_and_field(
    browser: Any, statement: Path, reports: dict[str, Path]
) -> None:
    from selenium.webdriver.common.by import By

    report = json.loads(reports["defect"].read_text())
    verdicts = {v["clause"]: v["verdict"] for v in report["verdicts"]}
    assert verdicts == {"REQ-EMAIL-1": "FAIL", "REQ-META-1": "PASS"}
    url = (statement / HTML_NAME).as_uri()
    open_logged(browser, url)

    def text(css: str) -> str:
        return " ".join(str(browser.find_element(By.CSS_SELECTOR, css).text).split())

    assert text(".statement-name") == NAME
    assert text(".statement-sha") == report["spec"]["sha256"]
    assert text(".statement-version") == report["tool"]["billing-kit"]
    assert text(".statement-seed") == "7"
    assert text(".statement-date") == report["started_at"]
    assert "1/2 MUST clauses pass" in text(".statement-summary")
    assert browser.find_element(By.CSS_SELECTOR, "#statement").is_displayed()

    chips = js(
        browser,
        "return [...document.querySelectorAll('li.clause')].map(li => [li.dataset.clause,"
        " [...li.querySelectorAll('.verdict')].map(v => v.dataset.verdict)])",
    )
    assert chips, "the page lists clauses"
    for clause, shown in chips:
        assert shown == [verdicts.get(clause, "NOT RUN")], clause
    cards = js(
        browser,
        "return [...document.querySelectorAll('.clause-card')].map(c => [c.id,"
        " c.querySelector('.verdict') && c.querySelector('.verdict').dataset.verdict])",
    )
    assert all(shown == verdicts.get(card.removeprefix("clause-"), "NOT RUN") for card, shown in cards)
    fields = js(
        browser,
        "return [...document.querySelectorAll('.field')].filter(f => f.querySelector('li.clause')).map(f =>"
        " [f.dataset.field, f.querySelector('.field-head .verdict') && f.querySelector('.field-head .verdict')"
        ".dataset.verdict])",
    )
    assert fields and all(verdict for _, verdict in fields), fields
    email = browser.find_element(By.CSS_SELECTOR, "section[id$='-body'] [data-field='email'] .field-head .verdict")
    assert email.text == "FAIL" and email.is_displayed()
    assert email.value_of_css_property("background-color") in (RED, "rgba(201, 48, 44, 1)")
    assert console_errors(browser) == []
    assert set(requested_urls(browser)) <= {url}
    save_screenshots(browser, "statement")
    markdown = (statement / MARKDOWN_NAME).read_text()
    assert f"## Statement of conformance: {NAME}" in markdown and report["spec"]["sha256"] in markdown
    assert "`FAIL` **MUST** [REQ-EMAIL-1]" in markdown


def test_statement_says_what_each_verdict_rules_out(browser: Any, statement: Path, reports: dict[str, Path]) -> None:
    """A row per judged clause: its generated cases, the rate they rule out (or the FAIL's), the known defects."""
    from selenium.webdriver.common.by import By

    report = json.loads(reports["defect"].read_text())
    by_clause = {v["clause"]: v for v in report["verdicts"]}
    open_logged(browser, (statement / HTML_NAME).as_uri())
    section = browser.find_element(By.CSS_SELECTOR, "#statement-ruled-out")
    assert section.is_displayed()
    rows = js(
        browser,
        "return Object.fromEntries([...document.querySelectorAll('#statement-ruled-out tbody tr')].map(r =>"
        " [r.dataset.clause, [...r.cells].map(c => c.innerText.trim())]))",
    )
    assert set(rows) == set(by_clause)
    passed = by_clause["REQ-META-1"]
    assert passed["verdict"] == "PASS" and passed["coverage"]["assurance"]["summary"].startswith("rules out 1 in ")
    assert rows["REQ-META-1"][2] == f"{passed['coverage']['assurance']['generated']:,}"
    assert rows["REQ-META-1"][3] == passed["coverage"]["assurance"]["summary"]
    assert rows["REQ-META-1"][4] == str(len(passed["proven_to_catch"])) != "0"
    assert rows["REQ-EMAIL-1"][3].startswith("broke ")  # the FAIL states what it saw, not what it rules out
    markdown = (statement / MARKDOWN_NAME).read_text()
    assert "### What each verdict rules out" in markdown
    assert f"| {passed['coverage']['assurance']['summary']} | {len(passed['proven_to_catch'])} |" in markdown


def badge_in_chromium(browser: Any, reports: dict[str, Path], tmp_path: Path, which: str) -> tuple[str, dict[str, Any]]:
    """(the command's line, what Chromium shows per part: text, fill, and whether the text fits its part)."""
    svg = tmp_path / f"{which}.svg"
    result = CliRunner().invoke(badge_command, [str(reports[which]), "-o", str(svg)])
    assert result.exit_code == 0, result.output
    open_logged(browser, svg.as_uri())
    shown = js(
        browser,
        "const svg = document.documentElement; const rects = [...svg.querySelectorAll('g[clip-path] rect')];"
        " const parts = {};"
        " for (const text of svg.querySelectorAll('text')) {"
        "   const name = text.className.baseVal;"
        "   const rect = name === 'label' ? rects[0] : svg.querySelector('rect.' + name);"
        "   const box = text.getBBox(); const x = rect.x.baseVal.value; const w = rect.width.baseVal.value;"
        "   parts[name] = {text: text.textContent, fill: getComputedStyle(rect).fill,"
        "     fits: x <= box.x && box.x + box.width <= x + w}; }"
        " return {tag: svg.tagName, parts: parts,"
        " width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height}",
    )
    assert shown["tag"] == "svg" and shown["height"] == 20 and shown["width"] > 0
    # Each text fits inside its part, as laid out by a real font.
    assert all(part["fits"] for part in shown["parts"].values()), shown
    assert console_errors(browser) == []
    return result.output.strip(), shown["parts"]


@pytest.mark.parametrize(
    ("which", "message", "colour"), [("defect", "1/2 MUST", RED), ("conforming", "2/2 MUST", GREEN)]
)
def test_badge_renders(
    browser: Any, reports: dict[str, Path], tmp_path: Path, which: str, message: str, colour: str
) -> None:
    line, parts = badge_in_chromium(browser, reports, tmp_path, which)
    assert line == f"{tmp_path / which}.svg: conformance | {message}"
    assert set(parts) == {"label", "message"}
    assert (parts["label"]["text"], parts["message"]["text"], parts["message"]["fill"]) == (
        "conformance",
        message,
        colour,
    )


def test_traffic_badge_renders_the_clients_findings_apart(
    browser: Any, reports: dict[str, Path], tmp_path: Path
) -> None:
    judged = len(judged_musts(json.loads(reports["traffic"].read_text())))
    line, parts = badge_in_chromium(browser, reports, tmp_path, "traffic")
    assert line.endswith(f": traffic | {judged}/{judged} MUST | client: 1 FAIL")
    assert {name: part["text"] for name, part in parts.items()} == {
        "label": "traffic",
        "message": f"{judged}/{judged} MUST",
        "client": "client: 1 FAIL",
    }
    assert parts["message"]["fill"] == GREEN and parts["client"]["fill"] not in (RED, GREEN)


def test_traffic_statement_shows_the_clients_findings_apart(
    browser: Any, reports: dict[str, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    result = CliRunner().invoke(docs_command, ["--out", str(tmp_path), "--report", str(reports["traffic"])])
    assert result.exit_code == 0, result.output
    open_logged(browser, (tmp_path / HTML_NAME).as_uri())
    section = browser.find_element(By.CSS_SELECTOR, "#statement-client")
    assert section.is_displayed() and "not the server's to fix" in section.text
    finding = section.find_element(By.CSS_SELECTOR, f".client-finding[data-clause='{BROKEN}'] .verdict")
    assert finding.text == "FAIL" and finding.is_displayed()
    beside = js(
        browser,
        f"return [...document.querySelectorAll('li.clause[data-clause=\"{BROKEN}\"] .verdict')]"
        ".map(v => v.dataset.verdict)",
    )
    assert beside and set(beside) == {"PASS"}  # the server refused the bad request: its own verdict
    summary = browser.find_element(By.CSS_SELECTOR, ".statement-summary").text
    assert "MUST clauses the traffic exercised pass" in summary and " 0 FAIL" in summary
    assert console_errors(browser) == []
    save_screenshots(browser, "statement-traffic")

"""`billing-kit compare`: real reports from zoo defects, compared by the real CLI.

A report of defect A (email-optional, REQ-EMAIL-1) against one of defect B
(metadata-array-accepted, REQ-META-1): B's findings are exactly the new ones,
A's exactly the fixed ones. A against A with another seed: all persistent. The
Markdown is rendered (markdown-it, CommonMark + tables) and read back.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from billing_kit.conformance import baseline
from tests.servers import zoo_runner
from tests.support import forkcli

A, B = "email-optional", "metadata-array-accepted"
ONLY = ("REQ-EMAIL-1", "REQ-META-1")
PR_COMMENT_BUDGET = 4000  # characters: a comment a reviewer reads without scrolling far


def make_report(directory: Path, name: str, defect: str, seed: int = 1) -> Path:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, defect) as target:
        run = zoo_runner.run_check(target, only=ONLY, seed=seed)
    assert run.returncode == 1, run.stdout + run.stderr
    path = directory / f"{name}.json"
    path.write_text(json.dumps(run.report))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    directory = tmp_path_factory.mktemp("reports")
    yield {
        "a": make_report(directory, "a", A),
        "a-seed2": make_report(directory, "a-seed2", A, seed=2),
        "b": make_report(directory, "b", B),
    }


def violations(path: Path) -> list[tuple[str, str]]:
    """(clause, summary) of every violation the report recorded, read straight from its evidence."""
    document = json.loads(path.read_text())
    found = {
        (v["clause"], baseline.summary(e["message"]))
        for v in document["verdicts"]
        for e in v["evidence"]
        if e["kind"] == "violation"
    }
    return sorted(found)


def compare(*args: str) -> subprocess.CompletedProcess[str]:
    return forkcli.run(["compare", *args], timeout=60)


def as_pairs(items: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((i["clause"], i["summary"]) for i in items)


def test_new_and_fixed_are_exactly_the_two_defects(reports: dict[str, Path]) -> None:
    done = compare(str(reports["a"]), str(reports["b"]), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert violations(reports["b"]) and violations(reports["a"])
    assert as_pairs(result["findings"]["new"]) == violations(reports["b"])
    assert as_pairs(result["findings"]["fixed"]) == violations(reports["a"])
    assert result["findings"]["persistent"] == []
    clauses = {c["clause"]: (c["before"], c["after"], c["change"]) for c in result["clauses"]}
    assert clauses == {"REQ-EMAIL-1": ("FAIL", "PASS", "better"), "REQ-META-1": ("PASS", "FAIL", "worse")}
    assert result["warnings"] == []


def test_the_same_defect_with_another_seed_is_persistent(reports: dict[str, Path]) -> None:
    done = compare(str(reports["a"]), str(reports["a-seed2"]), "--format", "json")
    result = json.loads(done.stdout)
    assert result["findings"]["new"] == [] and result["findings"]["fixed"] == []
    assert {c for c, _ in as_pairs(result["findings"]["persistent"])} == {"REQ-EMAIL-1"}


class Rendered(HTMLParser):
    """The parts of the rendered comment a reader sees: headings, table rows, list items, quotes."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.rows: list[list[str]] = []
        self.items: list[str] = []
        self.quotes: list[str] = []
        self._stack: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("h3", "td", "th", "li", "blockquote"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if tag == "h3":
            self.headings.append(text)
        elif tag in ("td", "th"):
            self.rows[-1].append(text)
        elif tag == "li":
            self.items.append(text)
        elif tag == "blockquote":
            self.quotes.append(text)
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def render(markdown: str) -> Rendered:
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    parsed = Rendered()
    parsed.feed(html)
    return parsed


def test_markdown_renders_as_a_short_pr_comment(reports: dict[str, Path]) -> None:
    done = compare(str(reports["a"]), str(reports["b"]), "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) < PR_COMMENT_BUDGET
    page = render(done.stdout)
    new, fixed = violations(reports["b"]), violations(reports["a"])
    assert page.headings == [f"Conformance: {len(new)} new, {len(fixed)} fixed, 0 persistent"]
    assert page.rows == [
        ["Clause", "Level", "Before", "After"],
        ["REQ-EMAIL-1", "MUST", "FAIL", "PASS"],
        ["REQ-META-1", "MUST", "PASS", "FAIL"],
    ]
    assert page.items == [f"{clause} {summary}" for clause, summary in new + fixed]


def test_different_specs_are_compared_with_a_warning(reports: dict[str, Path], tmp_path: Path) -> None:
    other: dict[str, Any] = json.loads(reports["b"].read_text())
    other["spec"]["sha256"] = "0" * 64
    path = tmp_path / "other-spec.json"
    path.write_text(json.dumps(other))
    text = compare(str(reports["a"]), str(path))
    assert text.returncode == 0
    assert "Warning: the reports were made against different specs" in text.stdout
    markdown = render(compare(str(reports["a"]), str(path), "--format", "markdown").stdout)
    assert markdown.quotes and "different specs" in markdown.quotes[0]
    assert "New findings: " in text.stdout  # still compared


def test_an_unreadable_report_is_one_error_line(reports: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"verdicts": 3}')
    done = compare(str(reports["a"]), str(bad))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"Error: {bad}: not a billing-kit JSON report (no list `verdicts`)"]

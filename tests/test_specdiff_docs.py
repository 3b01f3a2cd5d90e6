"""`billing-kit docs --changes-from OLD.yaml`: a Changes section from the same diff as `billing-kit diff`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from billing_kit.conformance.specdiff import render
from billing_kit.docs.render import HTML_NAME, MARKDOWN_NAME
from tests.support.procs import ROOT
from tests.support.reference import billing_kit
from tests.test_specdiff import SPEC
from tests.test_specdiff_cli import narrowed


def test_the_reference_lists_each_change_with_its_clauses(tmp_path: Path) -> None:
    new, field, limit = narrowed(tmp_path)
    done = billing_kit(["docs", "--out", str(tmp_path / "out"), "--spec", str(new), "--changes-from", str(SPEC)])
    assert done.returncode == 0, done.stderr
    markdown = (tmp_path / "out" / MARKDOWN_NAME).read_text(encoding="utf-8")
    html = (tmp_path / "out" / HTML_NAME).read_text(encoding="utf-8")
    diff = json.loads(billing_kit(["diff", str(SPEC), str(new), "--format", "json"]).stdout)
    section = markdown[markdown.index("\n## Changes\n") : markdown.index("\n## Contract clauses\n")]
    for change in diff["changes"]:
        assert f"`{change['pointer']}`" in section and f"<code>{change['pointer']}</code>" in html
        for clause in change["clauses"]:
            assert f"[{clause}](#clause-{clause.lower()})" in section
            assert f'<a href="#clause-{clause}">{clause}</a>' in html and f'id="clause-{clause}"' in html
    assert f"`/{field}` maxLength {2 * limit} → {limit}" in section and "**clients**" in section
    assert '<section class="changes" id="changes">' in html


def test_without_changes_from_there_is_no_changes_section(tmp_path: Path) -> None:
    done = billing_kit(["docs", "--out", str(tmp_path / "out")])
    assert done.returncode == 0, done.stderr
    assert "\n## Changes\n" not in (tmp_path / "out" / MARKDOWN_NAME).read_text(encoding="utf-8")
    assert 'id="changes"' not in (tmp_path / "out" / HTML_NAME).read_text(encoding="utf-8")


def test_an_old_spec_that_does_not_load_is_one_error_line(tmp_path: Path) -> None:
    done = billing_kit(["docs", "--out", str(tmp_path / "out"), "--changes-from", str(tmp_path / "missing.yaml")])
    assert done.returncode == 2
    assert done.stderr.startswith("Error: --changes-from: cannot read spec") and len(done.stderr.splitlines()) == 1


GUIDE = ROOT / "docs" / "guide" / "contract-changes.md"


def test_the_guide_lists_every_rule_as_the_registry_does() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    block = text[
        text.index("<!-- rules:start -->\n") + len("<!-- rules:start -->\n") : text.index("<!-- rules:end -->")
    ]
    assert block.strip() == render.rules_table().strip()
    assert f"at most {render.MARKDOWN_ROWS} changes" in text


def test_the_guide_workflow_uses_the_action_as_it_is() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    steps = workflow["jobs"]["contract"]["steps"]
    kit = next(step for step in steps if str(step.get("uses", "")).endswith("/billing-kit@main"))
    inputs = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    assert set(kit["with"]) <= set(inputs), set(kit["with"]) - set(inputs)
    assert {"diff-base", "diff-fail-on"} <= set(kit["with"])
    post = steps[-1]
    assert inputs["diff-markdown"]["default"] in post["run"] and "gh pr comment" in post["run"]
    assert "fetch-depth" in steps[0]["with"], "git show needs the base branch"

"""The badge's colour rule and its CLI errors (its rendering is checked in Chromium, test_ci_statement_browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from billing_kit.badge import AMBER, GREEN, RED, badge_command, badge_of


def report(*verdicts: tuple[str, str]) -> dict[str, Any]:
    return {"verdicts": [{"clause": f"C-{n}", "level": lvl, "verdict": v} for n, (lvl, v) in enumerate(verdicts)]}


def test_colour_follows_the_must_clauses() -> None:
    assert badge_of(report(("MUST", "PASS"), ("SHOULD", "WARN"))).color == GREEN  # a WARN is not a MUST
    failing = badge_of(report(("MUST", "PASS"), ("MUST", "FAIL")))
    assert (failing.color, failing.message) == (RED, "1/2 MUST")
    skipped = badge_of(report(("MUST", "PASS"), ("MUST", "SKIP")))
    assert (skipped.color, skipped.message) == (AMBER, "1/2 MUST")


def test_an_unreadable_report_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = CliRunner().invoke(badge_command, [str(missing), "-o", str(tmp_path / "b.svg")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: cannot read {missing}: No such file or directory"]
    assert not (tmp_path / "b.svg").exists()

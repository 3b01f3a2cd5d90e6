"""The badge's colour rule and its CLI errors (its rendering is checked in Chromium, test_ci_statement_browser).

A traffic report (`options.parties`) is counted on the server's verdicts only; a real one
through the proxy is test_traffic_badge's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from billing_kit.badge import AMBER, GREEN, RED, TRAFFIC_LABEL, badge_command, badge_of


def report(*verdicts: tuple[str, str]) -> dict[str, Any]:
    return {"verdicts": [{"clause": f"C-{n}", "level": lvl, "verdict": v} for n, (lvl, v) in enumerate(verdicts)]}


def test_colour_follows_the_must_clauses() -> None:
    assert badge_of(report(("MUST", "PASS"), ("SHOULD", "WARN"))).color == GREEN  # a WARN is not a MUST
    failing = badge_of(report(("MUST", "PASS"), ("MUST", "FAIL")))
    assert (failing.color, failing.message) == (RED, "1/2 MUST")
    skipped = badge_of(report(("MUST", "PASS"), ("MUST", "SKIP")))
    assert (skipped.color, skipped.message) == (AMBER, "1/2 MUST")


def traffic(verdicts: list[tuple[str, str, int]], parties: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A traffic report: (level, verdict, exchanges judged) per clause; party -> {clause: verdict}."""
    rows = [
        {"clause": f"C-{n}", "level": lvl, "verdict": v, "coverage": {"judged": judged}}
        for n, (lvl, v, judged) in enumerate(verdicts)
    ]
    by_party = {p: {c: {"verdict": v, "violations": 1} for c, v in found.items()} for p, found in parties.items()}
    return {"verdicts": rows, "options": {"mode": "proxy", "parties": {"client": {}, "server": {}} | by_party}}


def test_a_traffic_badge_counts_the_servers_verdicts_only() -> None:
    # C-1: the client broke it, the server's answers were judged on it (its PASS); C-3: never judged (not counted).
    clients_only = badge_of(
        traffic(
            [("MUST", "PASS", 3), ("MUST", "FAIL", 1), ("MUST", "SKIP", 0), ("MUST", "FAIL", 0)],
            {"client": {"C-1": "FAIL", "C-3": "FAIL"}},
        )
    )
    assert (clients_only.label, clients_only.message, clients_only.color) == (TRAFFIC_LABEL, "2/2 MUST", GREEN)
    assert clients_only.client == "client: 2 FAIL"
    servers = badge_of(traffic([("MUST", "PASS", 3), ("MUST", "FAIL", 1)], {"server": {"C-1": "FAIL"}}))
    assert (servers.message, servers.color, servers.client) == ("1/2 MUST", RED, "")
    both = badge_of(
        traffic(
            [("MUST", "FAIL", 2), ("SHOULD", "WARN", 1)],
            {"client": {"C-0": "FAIL", "C-1": "WARN"}, "server": {"C-0": "FAIL"}},
        )
    )
    assert (both.message, both.color, both.client) == ("0/1 MUST", RED, "client: 1 FAIL, 1 WARN")
    quiet = badge_of(traffic([("MUST", "SKIP", 0)], {}))
    assert (quiet.message, quiet.color) == ("0/0 MUST", AMBER)


def test_a_report_with_unreadable_parties_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "traffic.json"
    path.write_text(json.dumps({"verdicts": [], "options": {"parties": {"server": {"C-0": "FAIL"}}}}))
    result = CliRunner().invoke(badge_command, [str(path), "-o", str(tmp_path / "b.svg")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: the report's `options.parties` is not party -> clause -> {verdict, violations}"
    ]


def test_an_unreadable_report_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = CliRunner().invoke(badge_command, [str(missing), "-o", str(tmp_path / "b.svg")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: cannot read {missing}: No such file or directory"]
    assert not (tmp_path / "b.svg").exists()

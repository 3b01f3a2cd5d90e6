"""Run the conformance suite inside a team's own pytest run: one test per clause.

Inert unless `--billing-base-url` is given (the project's own test run loads it).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("billing", "billing-kit conformance suite")
    group.addoption("--billing-base-url", default=None, help="Base URL of the server under test, with /v1")
    group.addoption("--billing-api-key", default=None, help="Sandbox API key (default: $BILLING_API_KEY)")
    group.addoption("--billing-live-key", default=None, help="Live API key, used only with --billing-allow-live")
    group.addoption("--billing-allow-live", action="store_true", default=False, help="Allow up to 5 live creates")
    group.addoption("--billing-spec", default=None, help="Spec path or URL (default: the bundled one)")
    group.addoption("--billing-strict", action="store_true", default=False, help="WARN fails the clause's test")
    group.addoption("--billing-seed", type=int, default=None, help="Hypothesis seed")
    group.addoption("--billing-examples", type=int, default=None, help="Examples per property")
    group.addoption("--billing-only", default=None, help="Comma-separated clause ids")

"""A missing program skips a test locally and fails it under CI=true."""

from __future__ import annotations

import pytest

from tests.support.tools import require

ABSENT = "billing-kit-no-such-program"


def test_a_present_program_is_found() -> None:
    assert require("sh").endswith("/sh")


def test_a_missing_program_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require(ABSENT)


def test_a_missing_program_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true needs it"):
        require(ABSENT)

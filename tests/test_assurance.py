"""The arithmetic of what a verdict rules out, on canned counts (0 cases, 1, 3,000, a FAIL)."""

from __future__ import annotations

import math

import pytest

from billing_kit.conformance.assurance import Assurance, cases_for, interval, one_in, rate_ruled_out


def test_no_generated_case_rules_out_nothing() -> None:
    assert rate_ruled_out(0) is None
    assert Assurance(0).summary() == ""
    assert Assurance(0).document() == {"generated": 0, "rate_ruled_out": None, "summary": ""}


def test_one_case_rules_out_only_a_defect_on_almost_every_input() -> None:
    assert rate_ruled_out(1) == pytest.approx(0.95)
    assert Assurance(1).summary() == "rules out 95%"


def test_three_thousand_cases_rule_out_one_in_a_thousand() -> None:
    rate = rate_ruled_out(3000)
    assert rate is not None
    assert (1 - rate) ** 3000 == pytest.approx(0.05)  # a defect at that rate hides 1 time in 20
    assert rate == pytest.approx(3 / 3000, rel=0.01)  # the rule of three
    assert Assurance(3000).summary() == "rules out 1 in 1,000"


def test_cases_for_is_the_inverse_of_rate_ruled_out() -> None:
    for rate in (0.5, 1 / 16, 1e-3, 1e-4):
        n = cases_for(rate)
        assert rate_ruled_out(n) <= rate < rate_ruled_out(n - 1)  # type: ignore[operator]
    with pytest.raises(ValueError, match="between 0 and 1"):
        cases_for(0)


def test_a_fail_states_the_observed_rate_and_its_interval() -> None:
    fail = Assurance(48, failing=1)
    assert fail.rate_ruled_out is None
    assert fail.observed_rate == pytest.approx(1 / 48)
    low, high = interval(1, 48)
    assert low < 1 / 48 < high
    assert fail.summary() == f"broke 1 of 48 generated (95 %: between {one_in(low)} and {one_in(high)})"
    assert fail.document()["interval"] == [low, high]


def test_the_interval_stays_inside_zero_and_one() -> None:
    assert interval(0, 10)[0] == 0.0
    assert interval(10, 10)[1] == pytest.approx(1.0)
    low, high = interval(500, 1000)
    assert low < 0.5 < high and math.isclose(0.5 - low, high - 0.5)


def test_one_in_rounds_to_three_significant_digits() -> None:
    assert one_in(1 / 16) == "1 in 16"
    assert one_in(1 / 29957) == "1 in 30,000"
    assert one_in(0.0) == "none"

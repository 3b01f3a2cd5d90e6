"""`rules.echo` on its own: the leeway for numbers keeps every shape exact (no server)."""

from __future__ import annotations

from billing_kit.conformance import strategies
from billing_kit.conformance.rules import echo

EXACT = strategies.json_equal


def test_an_object_is_echoed_only_by_an_object_and_a_list_by_a_list() -> None:
    assert not echo.echoed({"a": 1}, [1], EXACT, numbers_free=True)
    assert not echo.echoed("a", {"a": "a"}, EXACT, numbers_free=True)
    assert not echo.echoed(["a", "b"], "ab", EXACT, numbers_free=True)  # a string is not the list of its letters
    assert not echo.echoed("ab", ["a", "b"], EXACT, numbers_free=True)
    assert not echo.echoed([1, 2], [1], EXACT, numbers_free=True)
    assert echo.echoed([1, {"n": 2.5}], [3, {"n": 4}], EXACT, numbers_free=True)

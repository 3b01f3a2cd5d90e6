"""`rules.sizes` on its own: a 413 to a valid create is RES-1 only within the x-limits body size."""

from __future__ import annotations

from billing_kit.conformance import clauses
from billing_kit.conformance.rules import sizes
from billing_kit.conformance.rules.across import Broken
from tests.support.canned import CONTRACT

LIMIT = CONTRACT.body_bytes_limit


def test_a_413_within_the_limit_breaks_res_1() -> None:
    assert clauses.get(sizes.CLAUSE).id == sizes.CLAUSE
    assert sizes.refused_within_limit(sizes.TOO_LARGE, LIMIT, LIMIT) == Broken(
        sizes.CLAUSE,
        "a valid create within the x-limits body size answered 413",
        f"201, or a 4xx other than 413 (413 is for bodies over {LIMIT} bytes)",
        f"413 to a body of {LIMIT} bytes",
    )
    small = sizes.refused_within_limit(sizes.TOO_LARGE, 10, LIMIT)
    assert small is not None and small.actual == "413 to a body of 10 bytes"


def test_past_the_limit_or_another_status_breaks_nothing() -> None:
    assert sizes.refused_within_limit(sizes.TOO_LARGE, LIMIT + 1, LIMIT) is None
    assert sizes.refused_within_limit(201, 10, LIMIT) is None
    assert sizes.refused_within_limit(400, LIMIT, LIMIT) is None  # a metadata cap (REQ-META-2, MAY)
    assert sizes.refused_within_limit(400, LIMIT + 1, LIMIT) is None

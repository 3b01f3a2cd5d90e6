"""A valid create's size: within the x-limits body size it is the server's to take.

REQ-BODY-2 gives 413 to a body larger than the limit; a 413 to a valid create
that is not larger (Express's `express.json()` stops at 100 kB by default) is a
valid create refused, RES-1. Another 4xx to a large create can be a metadata cap
(REQ-META-2 is a MAY), never a break here.
"""

from __future__ import annotations

from billing_kit.conformance.rules.across import Broken

CLAUSE = "RES-1"
TOO_LARGE = 413


def refused_within_limit(status: int, size: int, limit: int) -> Broken | None:
    """RES-1 broken when a valid create of `size` bytes, not past `limit`, got 413; else None."""
    if status != TOO_LARGE or size > limit:
        return None
    return Broken(
        CLAUSE,
        "a valid create within the x-limits body size answered 413",
        f"201, or a 4xx other than 413 (413 is for bodies over {limit} bytes)",
        f"413 to a body of {size} bytes",
    )

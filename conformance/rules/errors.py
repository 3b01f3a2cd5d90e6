"""ERR-1..4: how a server answers what it will not do.

- ERR-1  a request breaking a MUST rule of REQ-* or AUTH-* is rejected with a 4xx.
- ERR-2  never a 5xx, never no answer (`exercised` says what a 5xx breaks beside it).
- ERR-3  every 4xx is problem+json (`problems` reads one error answer).
- ERR-4  a method other than POST gets 405 with `Allow: POST`.
"""

from __future__ import annotations

from billing_kit.conformance.rules.across import Broken

ERR_1 = "ERR-1"
ERR_2 = "ERR-2"
ERR_3 = "ERR-3"
ERR_4 = "ERR-4"
REJECTED = "a 4xx"


def rejected(status: int) -> bool:
    """A 4xx: what a request the server will not take gets (ERR-1, and ERR-3 judges its body)."""
    return 400 <= status < 500


def not_rejected(rule: str, status: int, shown: str) -> Broken | None:
    """ERR-1: a request breaking the MUST `rule` was answered `status` (shown as `shown`)."""
    if rejected(status):
        return None
    return Broken(ERR_1, f"{rule}: not rejected", REJECTED, shown)

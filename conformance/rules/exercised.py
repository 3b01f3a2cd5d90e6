"""What an exchange can show: answered, usable, judged, and what a 5xx breaks.

Written once, for every front door (CONTRACT.md, "How generic checks map to
clauses"): a 5xx is an answer. It is always ERR-2, and it also breaks a clause
whose rule fixes the outcome of the request it answered (a refusal that must be
a 4xx, a valid create that must be a 201, "never a 5xx"), at that clause's
level; under a MAY it is ERR-2 alone. Only a request with no HTTP answer at all
is unanswered, and it judges no clause but ERR-2. A 503 or 429 with a readable
`Retry-After` is the one 5xx-class answer that breaks nothing: the client was told
to wait (the suite's client waits and retries; in recorded traffic it stays
answered, never usable and never a break).
"""

from __future__ import annotations

from typing import Protocol

from billing_kit.conformance.http import retry_after_seconds

# A probe expects `accept`, `reject` or `may` (a corpus case's `expect`).
Expect = str


class _Status(Protocol):
    @property
    def status(self) -> int: ...

    def header(self, name: str) -> str | None: ...


class Answerable(Protocol):
    """What these rules read of an exchange: its response, if any."""

    @property
    def response(self) -> _Status | None: ...


def answered(exchange: Answerable) -> bool:
    """An HTTP answer came back (any status): the request is not unanswered."""
    return exchange.response is not None


def told_to_wait(exchange: Answerable) -> bool:
    """A 503 or 429 with a readable `Retry-After`: ERR-2's exception, which breaks no clause."""
    response = exchange.response
    return (
        response is not None
        and response.status in (429, 503)
        and retry_after_seconds(response.header("retry-after")) is not None
    )


def server_error(exchange: Answerable) -> bool:
    """Answered with a 5xx (not told to wait): ERR-2, and a break of every outcome-fixing clause it probed."""
    return exchange.response is not None and exchange.response.status >= 500 and not told_to_wait(exchange)


def usable(exchange: Answerable) -> bool:
    """An answer whose content can be read for a clause: answered, not a 5xx, not a "wait and retry"."""
    return exchange.response is not None and exchange.response.status < 500 and not told_to_wait(exchange)


def fixes_outcome(expect: Expect) -> bool:
    """Whether a probe's rule fixes its outcome (so a 5xx breaks it); a MAY does not."""
    return expect != "may"


def judged(exchange: Answerable, expect: Expect) -> bool:
    """Whether a probe of one clause judged it: any HTTP answer does.

    A usable answer is read for the clause; a 5xx breaks it when the outcome is fixed
    (`broken_by_5xx`) and, under a MAY, is ERR-2's alone: the MAY was still answered.
    """
    del expect  # every answer judges: the expectation decides only what a 5xx breaks
    return answered(exchange)


def judged_on(exchange: Answerable, clause: str, broken: set[str]) -> bool:
    """Whether a probe of several clauses judged `clause`: a usable answer, or a 5xx that broke it."""
    return usable(exchange) or (server_error(exchange) and clause in broken)


def broken_by_5xx(exchange: Answerable, expect: Expect) -> bool:
    """The probe's clause is broken by this answer alone: a 5xx where the outcome is fixed."""
    return server_error(exchange) and fixes_outcome(expect)


# How a finding names ERR-2 beside the clause a 5xx broke, and a 5xx under a MAY.
BESIDE_ERR_2 = "a 5xx (ERR-2 beside it)"
ERR_2_ALONE = "ERR-2's alone"

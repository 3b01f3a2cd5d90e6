"""The one shape of a broken rule: `Failure`.

Every check reports a broken rule as a `Failure` (clause, title, expected,
actual, exchange, case): judging functions yield them, property tests raise
them, and `ctx.report(failure)` (or the keyword wrapper `ctx.violation(...)`)
records them. The clause's level turns it into a verdict: MUST -> FAIL,
SHOULD -> WARN, MAY -> INFO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from billing_kit.conformance.errors import Outcome

if TYPE_CHECKING:
    from billing_kit.conformance.model import Exchange
    from billing_kit.conformance.rules.across import Broken


class Failure(Outcome):
    """A rule of `clause` broken by one answer (or by the run, when `exchange` is None)."""

    def __init__(
        self,
        clause: str,
        title: str,
        *,
        expected: str | None = None,
        actual: str | None = None,
        exchange: Exchange | None = None,
        case: str | None = None,
        reproduce: str | None = None,
    ) -> None:
        super().__init__(f"{clause}: {title}")
        self.clause = clause
        self.title = title
        self.expected = expected
        self.actual = actual
        self.exchange = exchange
        self.case = case
        self.reproduce = reproduce

    @classmethod
    def of(cls, broken: Broken, exchange: Exchange | None) -> Failure:
        """What a rule found broken (`conformance.rules`), with the exchange that shows it."""
        return cls(broken.clause, broken.title, expected=broken.expected, actual=broken.actual, exchange=exchange)

    @property
    def message(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"Failure({self.clause!r}, {self.title!r}, expected={self.expected!r}, actual={self.actual!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Failure):
            return NotImplemented
        return (self.clause, self.title, self.expected, self.actual, self.case) == (
            other.clause,
            other.title,
            other.expected,
            other.actual,
            other.case,
        )

    def __hash__(self) -> int:
        return hash((self.clause, self.title, self.expected, self.actual, self.case))


class Inconclusive(Outcome):
    """Raised by a check that cannot judge (no usable answer, a key missing)."""

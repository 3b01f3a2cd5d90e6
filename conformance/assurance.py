"""What a verdict on generated cases rules out: the detection power behind a PASS.

A clause judged on `n` independent generated cases, none of which broke it, rules
out at 95 % confidence every defect that breaks it on a share `r` of the inputs
the generators draw from with `(1 - r) ** n > 0.05`, i.e. the smallest rate it
rules out is

    r = 1 - 0.05 ** (1 / n)          (about 3 / n: "the rule of three")

A defect rarer than `r` may be there unseen; one as common or commoner would have
been seen 19 times in 20. The statement is about the generators' distribution
(Hypothesis strategies and Schemathesis phases read from the spec), not about
every input a client could send. A FAIL states the observed rate `k / n` with its
95 % interval (Wilson's score interval, which stays inside [0, 1] at k = 0 or n).

`cases_for(rate)` is the inverse: how many passing generated cases rule out `rate`.
Pure arithmetic: no I/O, no clause ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CONFIDENCE = 0.95
_MISS = 1 - CONFIDENCE  # the chance a defect at exactly the stated rate goes unseen
_Z = 1.959963984540054  # the normal quantile for a two-sided 95 % interval


def rate_ruled_out(generated: int) -> float | None:
    """The smallest rate of breaking inputs `generated` passing cases rule out (None for none)."""
    if generated <= 0:
        return None
    return 1.0 - math.pow(_MISS, 1 / generated)


def cases_for(rate: float) -> int:
    """The passing generated cases needed to rule out `rate` (0 < rate < 1)."""
    if not 0 < rate < 1:
        raise ValueError(f"a rate is between 0 and 1, not {rate}")
    return math.ceil(math.log(_MISS) / math.log1p(-rate))


def interval(failing: int, generated: int) -> tuple[float, float]:
    """Wilson's 95 % score interval for the rate of breaking inputs, `failing` of `generated` seen."""
    if generated <= 0:
        return (0.0, 1.0)
    p = failing / generated
    z2 = _Z * _Z
    centre = (p + z2 / (2 * generated)) / (1 + z2 / generated)
    half = _Z * math.sqrt(p * (1 - p) / generated + z2 / (4 * generated * generated)) / (1 + z2 / generated)
    return (max(0.0, centre - half), min(1.0, centre + half))


def one_in(rate: float) -> str:
    """`1 in 16` for 0.0623, `95%` for 0.95: a rate as a person reads it (three significant digits)."""
    if rate <= 0:
        return "none"
    if rate > 0.5:
        return f"{rate:.0%}"  # "1 in 1" would say nothing
    return f"1 in {_significant(1 / rate):,}"


def _significant(value: float) -> int:
    if value < 1000:
        return round(value)
    digits = math.floor(math.log10(value)) - 2
    return int(round(value, -digits))


@dataclass(frozen=True)
class Assurance:
    """The detection power of one verdict on generated cases."""

    generated: int  # independent generated cases judged on the clause
    failing: int = 0  # of them, cases that broke it (a FAIL)

    @property
    def rate_ruled_out(self) -> float | None:
        return rate_ruled_out(self.generated) if self.failing == 0 else None

    @property
    def observed_rate(self) -> float | None:
        return self.failing / self.generated if self.failing and self.generated else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return interval(self.failing, self.generated) if self.failing else None

    def summary(self) -> str:
        """`rules out 1 in 16` for a PASS; `broke 1 of 48 generated (95 %: between 1 in 271 and 1 in 9)`."""
        if self.generated <= 0:
            return ""
        if self.failing:
            low, high = interval(self.failing, self.generated)
            return (
                f"broke {self.failing} of {self.generated:,} generated (95 %: between {one_in(low)} and {one_in(high)})"
            )
        ruled = rate_ruled_out(self.generated)
        return f"rules out {one_in(ruled)}" if ruled is not None else ""

    def document(self) -> dict[str, object]:
        """The JSON report's `coverage.assurance`."""
        out: dict[str, object] = {
            "generated": self.generated,
            "rate_ruled_out": self.rate_ruled_out,
            "summary": self.summary(),
        }
        if self.failing:
            low, high = interval(self.failing, self.generated)
            out |= {"failing": self.failing, "observed_rate": self.observed_rate, "interval": [low, high]}
        return out

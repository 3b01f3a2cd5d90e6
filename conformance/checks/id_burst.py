"""RES-ID-2: a burst of creates large enough that short random ids repeat.

Ids drawn at random from too small a space collide only by chance: a run of a
few hundred creates catches 4 random hex digits on one seed and passes them on
another. The birthday bound says how many draws make a repeat likely:
among n ids drawn uniformly from N values, the chance of at least one repeat is

    p(n) = 1 - exp(-n (n - 1) / (2 N))

so n = ceil((1 + sqrt(1 + 8 N ln(1 / (1 - p)))) / 2) draws give a repeat with probability p.
Designed for N = 16**4 = 65,536 (4 hex digits) and p = 0.99: n = 777, a cost
every default run can carry (a burst sized for 4 base-36 characters would be
3,934 creates, five times the rest of the run). The same burst finds a repeat
with probability 1.0 among 3 base-36 characters, 0.16 among 4 base-36, 0.02
among 4 base-62 or 6 hex digits, and practically never among the 96 random
bits of a well-made id; `check --duration` keeps creating and judging ids for
the rarer ones. The burst's ids are judged among
themselves and against every id the run saw before it; the whole-run check
(`response.whole_run`) judges every id again at the end.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

from billing_kit.conformance.checks import check
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.rules import across

# The id space the burst is designed to expose, and the chance of a repeat it is designed for.
DESIGN_SPACE = 16**4
DESIGN_PROBABILITY = 0.99
WORKERS = 8


def burst_size(space: int = DESIGN_SPACE, probability: float = DESIGN_PROBABILITY) -> int:
    """Draws from `space` values after which a repeat has at least `probability` (birthday bound)."""
    # The smallest n with n (n - 1) / (2 N) >= ln(1 / (1 - p)).
    return math.ceil((1 + math.sqrt(1 + 8 * space * math.log(1 / (1 - probability)))) / 2)


def repeat_probability(draws: int, space: int) -> float:
    """The chance that `draws` uniform draws from `space` values hold a repeat."""
    return -math.expm1(-draws * (draws - 1) / (2 * space))


def _created_id(exchange: Exchange) -> str | None:
    body = exchange.json_body()
    if exchange.created and isinstance(body, dict) and isinstance(body.get("id"), str):
        return str(body["id"])
    return None


@check("RES-ID-2", order=41)
def id_burst(ctx: CheckContext) -> None:
    """A burst of 777 creates: short random ids (4 hex digits) repeat with probability 0.99."""
    earlier: dict[str, Exchange] = {}
    for exchange in list(ctx.log):
        found = _created_id(exchange)
        if found is not None:
            earlier.setdefault(found, exchange)
    size = burst_size()
    bodies = [{"email": f"id-burst-{i}-{ctx.nonce}@example.com"} for i in range(size)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        exchanges = list(pool.map(ctx.send, bodies))
    seen: dict[str, Exchange] = {}
    repeats: list[tuple[str, Exchange, Exchange]] = []
    for exchange in exchanges:
        found = _created_id(exchange)
        if found is None:
            continue
        first = seen.get(found) or earlier.get(found)
        if first is not None:
            repeats.append((found, first, exchange))
        seen.setdefault(found, exchange)
    if not seen:
        ctx.inconclusive(across.RES_ID_2, f"none of the {size} burst creates succeeded")
        return
    if repeats:
        shown = ", ".join(repeat for repeat, _, _ in repeats[:3])
        ctx.violation(
            across.RES_ID_2,
            f"{len(seen) + len(repeats)} creates of a burst of {size} got {len(repeats)} repeated ids",
            expected="distinct ids",
            actual=f"repeated: {shown}{' …' if len(repeats) > 3 else ''}",
            exchange=repeats[0][2],
        )

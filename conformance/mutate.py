"""Cheap variants of Schemathesis's cases, for the volume of a deep run (`check --duration`).

Drawing a Schemathesis case through Hypothesis costs several milliseconds of
CPU; a deep round draws a small pool of them and sends many variants of it,
each made in microseconds by one seeded edit of a JSON body: a member taken
from another case of the pool, a code point inserted into a string (any plane,
surrogates aside), a string at its `maxLength` boundary, a member dropped or an
unknown one added. The generic phase's judge reads every request as sent
(`generic_judge.judge_request`), so a variant's verdict is as exact as a drawn
case's: an edit that makes a valid body invalid is judged as invalid.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from billing_kit.conformance.contract import Contract

if TYPE_CHECKING:
    from billing_kit.conformance.checks.generic import Planned

# Code points that break naive text handling, drawn more often than a uniform pick would.
INTERESTING: Final = (
    "\x00", "\x7f", "\u0085", "\u00a0", "\u00e9", "\u0301", "\u05d0", "\u0627", "\u200b", "\u200d", "\u2028",
    "\u202e", "\u2060", "\ufeff", "\ufffd", "\uffff", "\U0001f600", "\U0001f1fa", "\U000e0001", "\U0010fffd",
    "\u4e00", "\uac00", "\u0130", "\u00df", "\ufb01", "\"", "\\", "/", "%", "'",
)  # fmt: skip
SURROGATES: Final = range(0xD800, 0xE000)
UNKNOWN_MEMBERS: Final = ("emial", "Email", "id", "org_id", "environment", "created_at", "__proto__", "")


def code_point(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(INTERESTING)
    while True:
        value = rng.randrange(0x110000)
        if value not in SURROGATES:
            return chr(value)


def _strings(body: dict[str, Any]) -> list[str]:
    return [name for name, value in body.items() if isinstance(value, str)]


def mutate_body(body: dict[str, Any], pool: list[dict[str, Any]], rng: random.Random, contract: Contract) -> Any:
    """One seeded edit of a JSON object body (a new dict; `body` is not changed)."""
    out = dict(body)
    edit = rng.randrange(5)
    if edit == 0 and pool:  # crossover: a member of another case
        other = rng.choice(pool)
        if other:
            name = rng.choice(list(other))
            out[name] = other[name]
            return out
    names = _strings(out)
    if edit in (0, 1) and names:  # a code point inserted into a string
        name = rng.choice(names)
        text = out[name]
        at = rng.randrange(len(text) + 1)
        out[name] = text[:at] + code_point(rng) + text[at:]
        return out
    limits = contract.max_lengths
    if edit == 2 and limits:  # a string at its maxLength boundary (in code points, then some)
        name = rng.choice(sorted(limits))
        length = max(0, limits[name] + rng.choice((-1, 0, 0, 1)))
        fill = code_point(rng) if rng.random() < 0.3 else "a"
        if name == "email":
            local = max(1, length - len("@example.com"))
            out[name] = (fill * local)[:local] + "@example.com"
        else:
            out[name] = (fill * length)[:length]
        return out
    if edit == 3 and out:  # a member dropped
        del out[rng.choice(list(out))]
        return out
    out[rng.choice(UNKNOWN_MEMBERS)] = rng.choice((None, 1, "x", [], {}))  # an unknown member added
    return out


def variants(pool: list[Planned], count: int, seed: int, contract: Contract) -> Iterator[Planned]:
    """`count` variants of the pool's JSON-object POST cases, from `seed` (the same seed, the same variants)."""
    bases = [p for p in pool if p.method == "POST" and not p.is_raw and isinstance(p.body, dict)]
    if not bases:
        return
    bodies = [p.body for p in bases]
    rng = random.Random(seed)
    for _ in range(count):
        base = rng.choice(bases)
        body = base.body
        for _ in range(1 + (rng.random() < 0.3)):
            body = mutate_body(body, bodies, rng, contract)
        yield replace(base, body=body)

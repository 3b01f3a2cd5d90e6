"""Cheap variants of Schemathesis's cases, for the volume of a deep run (`check --duration`).

Drawing a Schemathesis case through Hypothesis costs several milliseconds of
CPU; a deep round draws a small pool of them and sends many variants of it,
each made in microseconds by one seeded edit of a JSON body: a member taken
from another case of the pool, a code point inserted into a string (any plane,
surrogates aside), a string at its `maxLength` boundary, a member dropped or an
unknown one added. A share of the variants (`RAW_SHARE`) are raw bytes that no
server may accept as a customer, which Schemathesis's negative mode draws only
rarely: the JSON text cut short, `NaN` or `Infinity`, a byte that is not UTF-8, a
top level that is not an object, nesting past `x-limits` (REQ-BODY-1), a lone
surrogate escape (REQ-TEXT-1). The generic phase's judge reads every request as sent
(`generic_judge.judge_request`), so a variant's verdict is as exact as a drawn
case's: an edit that makes a valid body invalid is judged as invalid.
"""

from __future__ import annotations

import json
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
# The share of variants sent as raw bytes that break REQ-BODY-1 or REQ-TEXT-1.
RAW_SHARE: Final = 0.1
NOT_JSON_NUMBERS: Final = (float("nan"), float("inf"), float("-inf"))
NOT_UTF8: Final = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80")


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


def raw_body(body: dict[str, Any], rng: random.Random, contract: Contract) -> bytes:
    """One seeded edit that leaves `body` no JSON object a server may accept (REQ-BODY-1, REQ-TEXT-1)."""
    text = json.dumps(body, ensure_ascii=False)
    data = text.encode("utf-8", "surrogatepass")
    edit = rng.randrange(6)
    if edit == 0:  # the text cut short (every proper prefix of a serialised object is malformed)
        return data[: rng.randrange(1, len(data))]
    if edit == 1:  # a number JSON does not have
        return json.dumps({**body, "metadata": {"n": rng.choice(NOT_JSON_NUMBERS)}}, ensure_ascii=False).encode()
    if edit == 2:  # a byte sequence that is not UTF-8
        at = rng.randrange(1, len(data))
        return data[:at] + rng.choice(NOT_UTF8) + data[at:]
    if edit == 3:  # a top level that is not an object
        return rng.choice((b"[" + data + b"]", b'"' + data.replace(b'"', b"'") + b'"', b"null", b"1"))
    if edit == 4:  # nesting past the limit
        deep: Any = "v"
        for _ in range(contract.nesting_depth_limit):
            deep = {"a": deep}
        return json.dumps({**body, "metadata": deep}, ensure_ascii=False).encode()
    names = _strings(body) or ["name"]  # a lone surrogate, escaped: no UTF-8 store can hold it
    name = rng.choice(names)
    text_value = str(body.get(name, ""))
    at = rng.randrange(len(text_value) + 1)
    surrogate = chr(rng.choice(SURROGATES))
    return json.dumps({**body, name: text_value[:at] + surrogate + text_value[at:]}, ensure_ascii=True).encode()


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
        if rng.random() < RAW_SHARE:
            yield replace(base, body=raw_body(body, rng, contract), is_raw=True)
        else:
            yield replace(base, body=body)

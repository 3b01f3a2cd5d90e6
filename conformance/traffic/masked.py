"""Headers a recorder masked: unknown, not absent and not wrong.

Recording tools hide secrets before writing a file: Schemathesis's HAR report
writes `Authorization: [Filtered]` and `www-authenticate: [Filtered]` unless run
with `--output-sanitize false`; other tools write `***`, `REDACTED`, `<hidden>`.
Such a value says nothing about what was sent or answered, so the clauses that
read it are not judged on that exchange: they are SKIP with the reason unless
other exchanges exercised them, and never a FAIL.

MASK_FORMS is the one documented set of forms recognised, compared after
trimming, case-insensitively, with or without an auth scheme before it
(`Bearer ***`). A value made only of `*`, `x`, `•` or `#` (three or more) is a mask too.
"""

from __future__ import annotations

import re
from dataclasses import replace

from billing_kit.conformance.rules.masked import IF_REFUSED, NEEDED_BY
from billing_kit.conformance.traffic.record import Seen

MASK_FORMS = frozenset(
    {
        "[filtered]", "filtered", "[redacted]", "redacted", "<redacted>", "(redacted)", "[hidden]", "hidden",
        "<hidden>", "(hidden)", "[masked]", "masked", "<masked>", "[removed]", "<removed>", "[secret]", "<secret>",
        "[sanitized]", "sanitized", "[scrubbed]", "scrubbed", "[omitted]", "omitted", "<omitted>",
    }
)  # fmt: skip
_FILLER = re.compile(r"[*x•#]{3,}", re.IGNORECASE)
_SCHEME = re.compile(r"(?:bearer|basic|token)\s+", re.IGNORECASE)

_REQUEST_HEADERS = ("authorization", "idempotency-key")
HOW_TO_RECORD = (
    "record the secrets (Schemathesis: `st run --output-sanitize false`; other tools: turn off their masking)"
)


def is_masked(value: str) -> bool:
    text = value.strip()
    text = text[m.end() :] if (m := _SCHEME.match(text)) else text
    lowered = text.strip().lower()
    return lowered in MASK_FORMS or bool(_FILLER.fullmatch(lowered))


def masked_headers(seen: Seen) -> set[str]:
    """The names (lower case) of the headers of `seen` that matter to a clause and were masked."""
    found = {k.lower() for k, v in seen.headers if k.lower() in NEEDED_BY and is_masked(v)}
    if seen.response is not None:
        found |= {k.lower() for k, v in seen.response.headers if k.lower() in NEEDED_BY and is_masked(v)}
    return found


def unknown_clauses(seen: Seen, hidden: set[str]) -> set[str]:
    """The clauses `seen` says nothing about, given the headers masked in it."""
    out: set[str] = set().union(*(NEEDED_BY[name] for name in hidden))
    if "authorization" in hidden and seen.header("idempotency-key") is not None:
        out |= NEEDED_BY["idempotency-key"]  # a replay is per API key: with the key hidden, so is the replay
    refused = seen.response is not None and 400 <= seen.response.status < 500
    if refused and hidden.intersection(_REQUEST_HEADERS):
        out |= IF_REFUSED
    return out


def stand_in(seen: Seen, key: str) -> Seen:
    """`seen` as the judge is to read it: a masked Authorization becomes `key` (a key never seen before, so
    valid unless refused 401) and a masked Idempotency-Key is left out (its IDEM clauses are not judged)."""
    headers = []
    for name, value in seen.headers:
        if is_masked(value) and name.lower() == "authorization":
            headers.append((name, f"Bearer {key}"))
        elif not (is_masked(value) and name.lower() == "idempotency-key"):
            headers.append((name, value))
    return replace(seen, headers=headers)


def as_recorded(shown: list[tuple[str, str]], seen: Seen) -> list[tuple[str, str]]:
    """Evidence headers put back in the recording's form: masked values as recorded, the others as `shown`."""
    cleaned: dict[str, str] = {}
    for name, value in shown:
        cleaned.setdefault(name.lower(), value)
    return [(k, v if is_masked(v) else cleaned.get(k.lower(), v)) for k, v in seen.headers]


def skip_note(counts: dict[str, int]) -> str:
    """A clause's note: short, since the way to record the secrets is said once, at the top."""
    named = ", ".join(f"{name} in {n}" for name, n in sorted(counts.items()))
    return f"not judged where the recorder masked a header it reads ({named} exchanges)"


def headline(names: set[str]) -> str:
    """Said once, before any finding: which headers were masked, what it means, how to record them."""
    return (
        f"Note: the recording masks {', '.join(sorted(names))}: the clauses that read "
        f"{'it' if len(names) == 1 else 'them'} are SKIP where masked, never FAIL; to judge them, {HOW_TO_RECORD}"
    )

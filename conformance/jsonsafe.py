"""Parse what a server sends without ever letting it crash the suite.

A 100,000-deep array, a 5,000-digit number or invalid UTF-8 is evidence about
the server, so each becomes an error string instead of an exception.
"""

from __future__ import annotations

import json
import math
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import Any

MAX_DEPTH = 512
SUITE_LIMIT = "the suite reads at most"  # in the reason of an answer past the suite's own read depth


def past_read_depth(why: str | None) -> bool:
    """Whether a parse failure is the suite's own depth limit (evidence for nothing), not the server's JSON."""
    return why is not None and SUITE_LIMIT in why


def containers(raw: bytes | bytearray) -> int:
    """`[` and `{` bytes in a body: a bound on how deep it can nest, counted without parsing."""
    return raw.count(b"[") + raw.count(b"{")


def nesting_depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """How deep a parsed JSON value nests (a scalar is 0, `[]` is 1), counted up to `limit`.

    Iterative and linear in the number of containers, which the client's
    response cap bounds: `json.loads` itself refuses nesting past the
    interpreter's recursion limit (in C, before any Python runs), so what
    reaches this walk is at most about a thousand deep.
    """
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level and depth < limit:
        depth += 1
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
    return depth


def _parse_int(text: str) -> int | Decimal:
    # Python refuses int() of more than 4,300 digits; keep the value as a Decimal.
    return int(text) if len(text) <= 4000 else Decimal(text)


def _parse_float(text: str) -> float | Decimal:
    value = float(text)
    return value if math.isfinite(value) else Decimal(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes, max_depth: int = MAX_DEPTH) -> tuple[Any, str | None]:
    """(value, None) or (None, why it is not JSON the suite can read)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8: {exc.reason} at byte {exc.start}"
    if text.startswith("\ufeff"):
        return None, "starts with a byte-order mark"
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant)
    except RecursionError:
        return None, f"nested too deep for the parser ({SUITE_LIMIT} {max_depth})"
    except ValueError as exc:
        return None, f"not JSON: {str(exc)[:200]}"
    depth = nesting_depth(value, max_depth + 1)
    if depth > max_depth:
        return None, f"nested more than {max_depth} deep ({SUITE_LIMIT} {max_depth})"
    return value, None


def dumps(value: Any) -> str:
    """JSON text of a parsed value, as `json.dumps` writes it; a number `loads` kept as a Decimal stays a number."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        members = (f"{json.dumps(key, ensure_ascii=False)}: {dumps(item)}" for key, item in value.items())
        return "{" + ", ".join(members) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def excerpt(raw: bytes, limit: int = 2000) -> str:
    """A printable, bounded excerpt of a body for reports."""
    text = raw[:limit].decode("utf-8", "backslashreplace")
    return text + (f"… ({len(raw)} bytes in all)" if len(raw) > limit else "")


SHRUNK_STRING = 1024  # characters of a string kept once an exchange's JSON is shrunk
SHRUNK_ITEMS = 64  # items of an array or members of an object kept
SHRUNK_DEPTH = 32
SHRUNK_DIGITS = 64  # significant digits kept of a number past what an int holds (a Decimal)
_SHRUNK_NUMBER = Context(prec=SHRUNK_DIGITS, Emax=MAX_EMAX, Emin=MIN_EMIN)


def shrink(value: Any, depth: int = 0) -> Any:
    """A bounded copy of a parsed JSON value, for an old exchange that whole-run checks still read.

    Strings past SHRUNK_STRING characters are cut (with `…`), containers keep
    their first SHRUNK_ITEMS entries, nesting stops at SHRUNK_DEPTH, a number of
    more digits than SHRUNK_DIGITS is rounded to them (still a number of the same
    sign and size: a million-digit one otherwise keeps 400 KiB per answer); a value
    within those bounds comes back as it was.
    """
    if isinstance(value, str):
        return value if len(value) <= SHRUNK_STRING else value[:SHRUNK_STRING] + "…"
    if isinstance(value, Decimal):
        return _SHRUNK_NUMBER.plus(value)
    if depth >= SHRUNK_DEPTH and isinstance(value, dict | list):
        return type(value)()
    if isinstance(value, list):
        return [shrink(item, depth + 1) for item in value[:SHRUNK_ITEMS]]
    if isinstance(value, dict):
        return {key[:SHRUNK_STRING]: shrink(item, depth + 1) for key, item in list(value.items())[:SHRUNK_ITEMS]}
    return value

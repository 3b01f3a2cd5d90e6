"""Parse what a server sends without ever letting it crash the suite.

A 100,000-deep array, a 5,000-digit number or invalid UTF-8 is evidence about
the server, so each becomes an error string instead of an exception.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

MAX_DEPTH = 512


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting_depth(raw: bytes) -> int:
    """The deepest bracket nesting, strings skipped; a cheap scan before json.loads."""
    if raw.count(b"[") + raw.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    steps = (1 if byte in (0x5B, 0x7B) else -1 for byte in brackets)
    return max(0, *accumulate(steps))


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
    depth = nesting_depth(raw)
    if depth > max_depth:
        return None, f"nested {depth} deep (the suite reads at most {max_depth})"
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant), None
    except (ValueError, RecursionError) as exc:
        return None, f"not JSON: {str(exc)[:200]}"


def excerpt(raw: bytes, limit: int = 2000) -> str:
    """A printable, bounded excerpt of a body for reports."""
    text = raw[:limit].decode("utf-8", "backslashreplace")
    return text + (f"… ({len(raw)} bytes in all)" if len(raw) > limit else "")

"""RES-ECHO-1's leeway: where the contract lets an echo differ from what was sent.

A number outside I-JSON's range (REQ-BODY-3, MAY) may come back rounded, capped or
in another notation, and a reader of the request that cannot hold it keeps only
that there was one. When a request carried such a number, its echo is judged on
everything but the numbers: keys, strings, booleans, nulls and shapes stay exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def echoed(sent: Any, got: Any, exact: Callable[[Any, Any], bool], *, numbers_free: bool) -> bool:
    """Whether `got` echoes `sent` (`exact`: RES-ECHO-1's equality); `numbers_free`: any number for a number."""
    if not numbers_free:
        return exact(sent, got)
    if _number(sent) and _number(got):
        return True
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(echoed(v, got[k], exact, numbers_free=True) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(
            echoed(a, b, exact, numbers_free=True) for a, b in zip(sent, got, strict=True)
        )
    return exact(sent, got)

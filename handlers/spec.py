"""The contract the reference server obeys: the bundled spec, loaded once per process."""

from __future__ import annotations

import secrets
from functools import cache

from billing_kit.conformance.contract import Contract, load_contract


@cache
def contract() -> Contract:
    return load_contract()


def new_customer_id() -> str:
    """RES-ID-1: the spec's id prefix + 24 lowercase hex digits from a CSPRNG."""
    return contract().id_prefix + secrets.token_hex(12)

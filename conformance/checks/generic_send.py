"""Sending the generic phase's planned requests: fresh idempotency keys, the `--only` filter, the send.

The generic phase sends no `Idempotency-Key` or a fresh one minted from the
run's nonce, of the generated key's length (so its boundaries stay tested).
Under `--only` a case is sent only when it can show something about the
selected clauses (`generic_answer.clauses_of`).
"""

from __future__ import annotations

import json
from typing import Any

from billing_kit.conformance.checks import generic_judge
from billing_kit.conformance.checks.generic_answer import clauses_of
from billing_kit.conformance.checks.generic_judge import Expectation
from billing_kit.conformance.checks.generic_plan import Planned
from billing_kit.conformance.context import API, CheckContext, RawAuth
from billing_kit.conformance.model import Exchange


def generic_judge_key(nonce: str, counter: int, length: int) -> str:
    """A fresh Idempotency-Key of exactly `length` characters."""
    base = f"gen-{nonce}-{counter:06d}-"
    return (base + "0" * max(0, length - len(base)))[:length] if length >= len(base) else base[:length]


class KeyMinter:
    """Fresh Idempotency-Keys for one run, numbered from the run's nonce."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.minted = 0

    def fresh(self, length: int) -> str:
        self.minted += 1
        return generic_judge_key(self.nonce, self.minted, length)


def relevant(only: tuple[str, ...] | list[str], item: Planned, expectation: Expectation) -> bool:
    """Under --only, send a case only when it can show something about the selected clauses."""
    return not only or bool(clauses_of(item, expectation) & set(only))


def send(ctx: CheckContext, item: Planned, keys: KeyMinter) -> tuple[Exchange, Expectation, Any] | None:
    """Send one planned request; None when it cannot be sent or, under --only, cannot show anything."""
    sent: Any = None
    raw: bytes | None
    if item.body is None:
        raw = None
    elif item.is_raw:
        raw = bytes(item.body)
    else:
        sent = ctx.tagged(item.body)
        try:
            raw = json.dumps(sent, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError):
            return None
    key = None if item.key_length is None else keys.fresh(item.key_length)
    valid = f"Bearer {ctx.config.api_key}"
    header = None if item.auth == "missing" else valid if item.auth == "valid" else item.auth
    expectation = generic_judge.judge_request(
        ctx.contract,
        content_type=item.content_type,
        body=raw,
        auth=generic_judge.auth_kind(header, valid),
        idempotency_key=key,
    )
    if not relevant(ctx.config.only, item, expectation):
        return None
    headers = [*item.headers, *([("Idempotency-Key", key)] if key is not None else [])]
    auth: Any = API if item.auth == "valid" else None if item.auth == "missing" else RawAuth(item.auth)
    exchange = ctx.send(raw=raw, auth=auth, content_type=item.content_type, headers=headers, method=item.method)
    exchange.sent = sent
    return exchange, expectation, sent

"""IDEM-1..4: idempotent retries with the `Idempotency-Key` header (SHOULD level).

Every key comes from the run's nonce, never from the seed, so two runs (or two
checks of one run) never share one. What a case needs more than one request to
show is reproduced with `billing-kit check --only IDEM-n --seed N`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from billing_kit.conformance.checks import check
from billing_kit.conformance.context import API, LIVE, CheckContext, Inconclusive, describe
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.reproduce import rerun_command

HEADER = "Idempotency-Key"
CONCURRENT = 50
CONFLICT_STATUSES = (409, 422)
LATE = "late-replay"
# The late replay's gap is the run's length; a run cut short by --only waits up to this much more.
LATE_MIN_GAP = 3.0


def idem_key(ctx: CheckContext, label: str, length: int | None = None) -> str:
    """A key unique to this run and label, padded to `length` characters when given."""
    key = f"{ctx.nonce}-{label}"
    if length is None:
        return key
    return (key + "-" + "x" * length)[:length] if length > len(key) else key[-length:]


def post_with_key(ctx: CheckContext, body: dict[str, Any], key: str, auth: str = API) -> Exchange:
    return ctx.send(body, headers=[(HEADER, key)], auth=auth)


def created_id(exchange: Exchange) -> str | None:
    body = exchange.json_body()
    if exchange.succeeded and isinstance(body, dict) and isinstance(body.get("id"), str):
        return str(body["id"])
    return None


def first_create(ctx: CheckContext, body: dict[str, Any], key: str, auth: str = API) -> tuple[Exchange, str]:
    """The first request of a case: a valid create that must succeed for the case to say anything."""
    exchange = ctx.require_answer(post_with_key(ctx, body, key, auth))
    customer = created_id(exchange)
    if customer is None:
        raise Inconclusive(f"a valid create with an {HEADER} was not accepted ({describe(exchange)})")
    return exchange, customer


def warn(ctx: CheckContext, clause: str, message: str, exchange: Exchange | None, expected: str, actual: str) -> None:
    ctx.violation(
        clause,
        message,
        expected=expected,
        actual=actual,
        exchange=exchange,
        reproduce=rerun_command(ctx.config, clause),
    )


def answer(exchange: Exchange) -> str:
    customer = created_id(exchange)
    return f"{describe(exchange)}, id {customer}" if customer else describe(exchange)


@check("IDEM-1", order=60, confirm="scenario")
def replay(ctx: CheckContext) -> None:
    """The same key and body again: the first response replayed (same status, same id)."""
    key = idem_key(ctx, "replay")
    body = {"email": f"idem-replay-{ctx.nonce}@example.com", "name": "Replay"}
    first, customer = first_create(ctx, body, key)
    again = ctx.require_answer(post_with_key(ctx, body, key))
    if again.status != first.status or created_id(again) != customer:
        warn(
            ctx,
            "IDEM-1",
            "a retry with the same Idempotency-Key and body was not a replay",
            again,
            f"HTTP {first.status}, id {customer}",
            answer(again),
        )


def late_body(ctx: CheckContext) -> dict[str, Any]:
    return {"email": f"idem-late-{ctx.nonce}@example.com", "name": "Late replay"}


@check("IDEM-1", order=1)
def replay_later_first(ctx: CheckContext) -> None:
    """First of the late replay: a create with a key at the start of the run, replayed at its end."""
    first_create(ctx, late_body(ctx), idem_key(ctx, LATE))


@check("IDEM-1", order=97, confirm="none")  # its scenario spans the whole run
def replay_later(ctx: CheckContext) -> None:
    """The run's first key again at its end: a record kept seconds, not hours, is no longer replayed."""
    key = idem_key(ctx, LATE)
    first = next((e for e in ctx.log if e.succeeded and _idem_header(e) == key), None)
    if first is None or (customer := created_id(first)) is None:
        raise Inconclusive("the run's first create with an Idempotency-Key was not accepted")
    budget = ctx.client.budget
    gap = time.monotonic() - first.answered_at  # from when the server answered (and kept) the first create
    if gap < LATE_MIN_GAP:
        time.sleep(min(LATE_MIN_GAP - gap, max(0.0, budget.remaining() - ctx.config.timeout)))
        gap = time.monotonic() - first.answered_at
    again = ctx.require_answer(post_with_key(ctx, late_body(ctx), key))
    if again.status != first.status or created_id(again) != customer:
        warn(
            ctx,
            "IDEM-1",
            f"a retry {gap:.0f} s after the first request (the contract says 24 hours) was not a replay",
            again,
            f"HTTP {first.status}, id {customer}",
            answer(again),
        )


def _idem_header(exchange: Exchange) -> str | None:
    return next((v for k, v in exchange.request.headers if k.lower() == HEADER.lower()), None)


@check("IDEM-2", order=60, confirm="scenario")
def different_body(ctx: CheckContext) -> None:
    """The same key with a different body: 409 or 422, and no customer created."""
    key = idem_key(ctx, "conflict")
    body = {"email": f"idem-conflict-{ctx.nonce}@example.com", "name": "First"}
    _, customer = first_create(ctx, body, key)
    other = ctx.require_answer(post_with_key(ctx, {**body, "name": "Second"}, key))
    if other.succeeded or other.status not in CONFLICT_STATUSES:
        how = "a new customer" if created_id(other) not in (None, customer) else "not 409 or 422"
        warn(
            ctx,
            "IDEM-2",
            f"the same Idempotency-Key with a different body: {how}",
            other,
            " or ".join(map(str, CONFLICT_STATUSES)),
            answer(other),
        )


@check("IDEM-3", order=60, confirm="scenario")
def concurrent_retries(ctx: CheckContext) -> None:
    """Concurrent requests with one key: exactly one customer, each answer a replayed 201 or a 409."""
    key = idem_key(ctx, "concurrent")
    body = {"email": f"idem-concurrent-{ctx.nonce}@example.com"}
    barrier = threading.Barrier(CONCURRENT, timeout=ctx.config.timeout)

    def send(_: int) -> Exchange:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return post_with_key(ctx, body, key)

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        exchanges = list(pool.map(send, range(CONCURRENT)))
    answered = [e for e in exchanges if e.ok]
    if not answered:
        raise Inconclusive("no usable answer to the concurrent requests; see ERR-2")
    ids = {customer for e in answered if (customer := created_id(e))}
    if len(ids) > 1:
        warn(
            ctx,
            "IDEM-3",
            f"{CONCURRENT} concurrent requests with one Idempotency-Key created {len(ids)} customers",
            next(e for e in answered if e.succeeded),
            "exactly one id",
            f"{len(ids)} distinct ids",
        )
    odd = [e for e in answered if not (e.status == 409 or (e.status == 201 and created_id(e) in ids))]
    if odd:
        warn(
            ctx,
            "IDEM-3",
            f"{len(odd)} of {CONCURRENT} concurrent requests got neither the replayed 201 nor a 409",
            odd[0],
            "201 (the same id) or 409",
            answer(odd[0]),
        )


@check("IDEM-3", order=61, confirm="scenario")
def failed_request_not_recorded(ctx: CheckContext) -> None:
    """A request that failed validation is not recorded: the corrected retry with the same key succeeds."""
    key = idem_key(ctx, "corrected")
    failed = ctx.require_answer(post_with_key(ctx, {"name": "No email yet"}, key))
    if failed.succeeded or not 400 <= (failed.status or 0) < 500:
        raise Inconclusive(f"a body without email was not rejected ({describe(failed)}); see REQ-EMAIL-1")
    corrected = ctx.require_answer(post_with_key(ctx, {"email": f"idem-corrected-{ctx.nonce}@example.com"}, key))
    if created_id(corrected) is None:
        warn(
            ctx,
            "IDEM-3",
            "the corrected retry of a rejected request was refused: the failure was recorded",
            corrected,
            "201",
            answer(corrected),
        )


@check("IDEM-3", order=61)
def key_length(ctx: CheckContext) -> None:
    """A key of the spec's maxLength is accepted; one character more is rejected."""
    limit = ctx.contract.idempotency_key_max_length
    for length, accept in ((limit, True), (limit + 1, False)):
        key = idem_key(ctx, f"length{length}", length)
        exchange = ctx.require_answer(post_with_key(ctx, {"email": f"idem-len{length}-{ctx.nonce}@example.com"}, key))
        if accept and not exchange.succeeded:
            ctx.violation(
                "IDEM-3",
                f"an Idempotency-Key of {length} characters (the spec's maxLength) refused",
                expected="201",
                actual=describe(exchange),
                exchange=exchange,
            )
        elif not accept and exchange.succeeded:
            ctx.violation(
                "IDEM-3",
                f"an Idempotency-Key of {length} characters (over the spec's maxLength {limit}) accepted",
                expected="a 4xx",
                actual=describe(exchange),
                exchange=exchange,
            )


@check("IDEM-4", order=62, needs=("api_key", "live_key"), confirm="scenario")
def scoped_per_api_key(ctx: CheckContext) -> None:
    """The same key with a sandbox and a live API key: two independent customers (one live create)."""
    key = idem_key(ctx, "scope")
    body = {"email": f"idem-scope-{ctx.nonce}@example.com"}
    _, sandbox_id = first_create(ctx, body, key, API)
    live = ctx.require_answer(post_with_key(ctx, body, key, LIVE))
    live_id = created_id(live)
    if live_id is None or live_id == sandbox_id:
        warn(
            ctx,
            "IDEM-4",
            "the same Idempotency-Key under a live key did not make its own customer",
            live,
            f"201 with an id other than {sandbox_id}",
            answer(live),
        )

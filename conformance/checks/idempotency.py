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
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.registry import Phase
from billing_kit.conformance.reproduce import rerun_command
from billing_kit.conformance.rules import errors
from billing_kit.conformance.rules import idempotency as rules
from billing_kit.conformance.rules.across import Broken

HEADER = rules.HEADER
CONCURRENT = 50
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


def warn(ctx: CheckContext, broken: Broken | None, exchange: Exchange | None) -> None:
    """Report what a rule found broken, if anything, with the rerun that shows it again."""
    if broken is not None:
        failure = Failure.of(broken, exchange)
        failure.reproduce = rerun_command(ctx.config, broken.clause)
        ctx.report(failure)


def answer(exchange: Exchange) -> str:
    customer = created_id(exchange)
    return f"{describe(exchange)}, id {customer}" if customer else describe(exchange)


def facts(exchange: Exchange) -> rules.Answer[str]:
    """What the rules read of one answer: its status, the customer it created, how a report shows it."""
    return rules.Answer(exchange.status or 0, created_id(exchange), answer(exchange))


@check("IDEM-1", order=60, confirm="scenario")
def replay(ctx: CheckContext) -> None:
    """The same key and body again: the first response replayed (same status, same id)."""
    key = idem_key(ctx, "replay")
    body = {"email": f"idem-replay-{ctx.nonce}@example.com", "name": "Replay"}
    first, _ = first_create(ctx, body, key)
    again = ctx.require_answer(post_with_key(ctx, body, key))
    warn(ctx, rules.not_a_replay(facts(first), facts(again)), again)


def late_body(ctx: CheckContext) -> dict[str, Any]:
    return {"email": f"idem-late-{ctx.nonce}@example.com", "name": "Late replay"}


@check("IDEM-1", order=1)
def replay_later_first(ctx: CheckContext) -> None:
    """First of the late replay: a create with a key at the start of the run, replayed at its end."""
    first_create(ctx, late_body(ctx), idem_key(ctx, LATE))


@check("IDEM-1", phase=Phase.WHOLE_RUN, order=97, confirm="none")  # its scenario spans the whole run
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
    first_answer = rules.Answer(first.status or 0, customer)
    warn(ctx, rules.not_a_replay(first_answer, facts(again), after=gap), again)


def _idem_header(exchange: Exchange) -> str | None:
    return next((v for k, v in exchange.request.headers if k.lower() == HEADER.lower()), None)


@check("IDEM-2", order=60, confirm="scenario")
def different_body(ctx: CheckContext) -> None:
    """The same key with a different body: 409 or 422, and no customer created."""
    key = idem_key(ctx, "conflict")
    body = {"email": f"idem-conflict-{ctx.nonce}@example.com", "name": "First"}
    first, _ = first_create(ctx, body, key)
    other = ctx.require_answer(post_with_key(ctx, {**body, "name": "Second"}, key))
    warn(ctx, rules.no_conflict(facts(first), facts(other)), other)


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
    many = rules.customers_of_concurrent(ids, CONCURRENT)
    if many is not None:
        warn(ctx, many, next(e for e in answered if e.succeeded))
    odd = [e for e in answered if not rules.concurrent_answer(facts(e), ids)]
    warn(ctx, rules.odd_concurrent([facts(e) for e in odd], CONCURRENT), odd[0] if odd else None)


@check("IDEM-3", order=61, confirm="scenario")
def failed_request_not_recorded(ctx: CheckContext) -> None:
    """A request that failed validation is not recorded: the corrected retry with the same key succeeds."""
    key = idem_key(ctx, "corrected")
    failed = ctx.require_answer(post_with_key(ctx, {"name": "No email yet"}, key))
    if not errors.rejected(failed.status or 0):
        raise Inconclusive(f"a body without email was not rejected ({describe(failed)}); see REQ-EMAIL-1")
    corrected = ctx.require_answer(post_with_key(ctx, {"email": f"idem-corrected-{ctx.nonce}@example.com"}, key))
    warn(ctx, rules.failure_recorded(facts(corrected)), corrected)


@check("IDEM-3", order=61)
def key_length(ctx: CheckContext) -> None:
    """A key of the spec's maxLength is accepted; one character more is rejected."""
    limit = ctx.contract.idempotency_key_max_length
    for length in (limit, limit + 1):
        key = idem_key(ctx, f"length{length}", length)
        exchange = ctx.require_answer(post_with_key(ctx, {"email": f"idem-len{length}-{ctx.nonce}@example.com"}, key))
        broken = rules.key_length(length, limit, accepted=exchange.succeeded, shown=describe(exchange))
        if broken is not None:
            ctx.report(Failure.of(broken, exchange))


@check("IDEM-4", order=62, needs=("api_key", "live_key"), confirm="scenario")
def scoped_per_api_key(ctx: CheckContext) -> None:
    """The same key with a sandbox and a live API key: two independent customers (one live create)."""
    key = idem_key(ctx, "scope")
    body = {"email": f"idem-scope-{ctx.nonce}@example.com"}
    sandbox, _ = first_create(ctx, body, key, API)
    live = ctx.require_answer(post_with_key(ctx, body, key, LIVE))
    warn(ctx, rules.not_scoped(facts(sandbox), facts(live)), live)

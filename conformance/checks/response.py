"""RES-*: the 201 a valid create gets, field by field, and what holds over the whole run."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from billing_kit.conformance import strategies
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.answers import body_object, created_status
from billing_kit.conformance.context import API, LIVE, CheckContext, Inconclusive, describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange, Finding
from billing_kit.conformance.registry import Phase
from billing_kit.conformance.rules import accepted, across, created
from billing_kit.conformance.rules.created import short

RES_CLAUSES = accepted.RESPONSE
BURST = 20
EVIDENCE_KEPT = 3


def key_environment(ctx: CheckContext, exchange: Exchange) -> str | None:
    """The environment of the key that signed the request (None: no configured key signed it)."""
    if exchange.request.key_ref not in (API, LIVE):
        return None
    key = ctx.config.api_key if exchange.request.key_ref == API else ctx.config.live_key
    return ctx.contract.environment_of_key(key) if key else None


def judge_success(ctx: CheckContext, exchange: Exchange) -> list[Failure]:
    """What the body of any 2xx to a create breaks (RES-1, RES-ID-1, RES-ENV-1, RES-TIME-1, RES-ORG-1)."""
    return list(judge_body(ctx, exchange, key_environment(ctx, exchange)))


def judge_body(ctx: CheckContext, exchange: Exchange, key_env: str | None) -> Iterator[Failure]:
    """The customer representation a 2xx carries (`rules.created.fields`), judged for the key that was used."""
    response = exchange.response
    assert response is not None
    not_object = body_object(exchange)
    if not_object is not None:
        yield not_object
        return
    if not isinstance(response.json, dict):
        return  # deeper than the suite reads: nothing to judge the body on
    found = created.fields(
        ctx.contract,
        response.json,
        status=response.status,
        media_type=response.media_type,
        content_type=response.header("content-type"),
        key_env=key_env,
    )
    yield from (Failure.of(broken, exchange) for broken in found)


def judge_created(
    ctx: CheckContext,
    exchange: Exchange,
    sent: dict[str, Any],
    key_env: str | None,
    *,
    numbers_free: bool = False,
    echo: bool = True,
    judged_elsewhere: Collection[str] = (),
) -> Iterator[Failure]:
    """Every RES-* failure of one answer to a valid create: the status, the body, the echo, the clock.

    `numbers_free`: the request held a number outside I-JSON, whose echo is the server's choice;
    `echo`: judge RES-ECHO-1 (and the defaults of fields not sent);
    `judged_elsewhere`: fields whose echo another clause judges.
    """
    response = exchange.response
    assert response is not None
    ctx.judged_success.add(id(exchange))
    not_201 = created_status(exchange)
    if not_201 is not None:
        yield not_201
        if not exchange.succeeded:
            return
    body = response.json
    yield from judge_body(ctx, exchange, key_env)
    if not isinstance(body, dict):
        return
    echoed = (
        ()
        if not echo
        else created.echoes(
            ctx.contract,
            sent,
            body,
            strategies.json_equal,
            numbers_free=numbers_free,
            judged_elsewhere=judged_elsewhere,
        )
    )
    yield from (Failure.of(broken, exchange) for broken in echoed)
    late = created.clock(body, datetime.now(UTC), ctx.config.clock_skew)
    if late is not None:
        yield Failure.of(late, exchange)


def _key_env(ctx: CheckContext) -> str | None:
    key = ctx.key(API)
    return ctx.contract.environment_of_key(key) if key else None


def _report_all(ctx: CheckContext, exchange: Exchange, sent: dict[str, Any]) -> None:
    for failure in judge_created(ctx, exchange, sent, _key_env(ctx)):
        ctx.report(failure)


@check(*RES_CLAUSES, order=30, replay="create")
def minimal_create(ctx: CheckContext) -> None:
    """Only an email: 201, all nine fields, name and external_id null, metadata {}."""
    sent = {"email": f"Minimal.{ctx.nonce}@Example.com"}
    _report_all(ctx, ctx.require_answer(ctx.send(sent, tag=False)), sent)


@check("RES-ENV-1", order=30, needs=("live_key",))
def live_environment(ctx: CheckContext) -> None:
    """A create with the live key is in environment live (one of the at most 5 live requests)."""
    key = ctx.key(LIVE)
    assert key is not None
    sent = ctx.tagged({"email": f"live-env-{ctx.nonce}@example.com"})
    exchange = ctx.require_answer(ctx.send(sent, auth=LIVE))
    if not exchange.succeeded:
        raise Inconclusive(f"the live key's create was refused ({describe(exchange)})")
    for failure in judge_body(ctx, exchange, ctx.contract.environment_of_key(key)):
        if failure.clause == "RES-ENV-1":
            ctx.report(failure)


@check(*RES_CLAUSES, order=30, replay="create")
def full_create(ctx: CheckContext) -> None:
    """Every field, with astral text, padding and metadata of every JSON type, comes back exactly."""
    sent = ctx.tagged(
        {
            "email": f"O'Brien+{ctx.nonce}@Mail.Example.com",
            "name": "  Zoë <b>&amp;</b> \"q\" 'a' \\ \U0001f600 Ünïcödé ",
            "external_id": "ext_\u4e2d\u6587_e\u0301",
            "metadata": {
                "s": "x",
                "i": 2**53,
                "f": 1.5,
                "t": True,
                "f0": False,
                "n": None,
                "a": [1, "b", [None]],
                "o": {"k": {"deep": "v"}},
            },
        }
    )
    _report_all(ctx, ctx.require_answer(ctx.send(sent)), sent)


@check(*RES_CLAUSES, order=40, generated=True, deep="property", replay="create")
def generated_creates(ctx: CheckContext) -> None:
    """Random valid bodies (any Unicode, padding, metadata of every type to depth 3): each 201 is judged."""
    key_env = _key_env(ctx)

    def test(body: dict[str, Any]) -> None:
        exchange = ctx.require_answer(ctx.send(body))
        for failure in judge_created(ctx, exchange, exchange.sent, key_env):
            raise failure

    ctx.for_all(strategies.valid_bodies(ctx.contract), test)


@check("RES-ID-2", order=40, confirm="scenario")
def concurrent_ids(ctx: CheckContext) -> None:
    """A burst of concurrent creates gets distinct ids."""
    bodies = [{"email": f"burst{i}-{ctx.nonce}@example.com"} for i in range(BURST)]
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        exchanges = list(pool.map(ctx.send, bodies))
    ids = [customer for e in exchanges if (customer := created_id(e)) is not None]
    if not ids:
        ctx.inconclusive("RES-ID-2", f"none of {BURST} concurrent creates succeeded")
        return
    duplicates = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    if duplicates:
        ctx.violation(
            "RES-ID-2",
            f"{len(ids)} concurrent creates got {len(set(ids))} distinct ids",
            expected=f"{len(ids)} distinct ids",
            actual=f"repeated: {short(duplicates)}",
        )


def created_id(exchange: Exchange) -> str | None:
    """The id a 2xx answer carries, if it carries one."""
    body = exchange.json_body()
    if exchange.succeeded and isinstance(body, dict) and isinstance(body.get("id"), str):
        return str(body["id"])
    return None


def idempotency_key(exchange: Exchange) -> str | None:
    return next((v for k, v in exchange.request.headers if k.lower() == "idempotency-key"), None)


def _creates(ctx: CheckContext) -> list[Exchange]:
    """Every 2xx to a POST of the run, in order."""
    return [e for e in ctx.log if e.request.method == "POST" and e.succeeded]


@check(
    "RES-1", "RES-ID-1", "RES-ENV-1", "RES-TIME-1", "RES-ORG-1", phase=Phase.WHOLE_RUN, order=98, needs=(), minimum=0
)
def every_success(ctx: CheckContext) -> None:
    """Every 2xx of the run (any check: idempotency, auth, generic, corpus), judged for the key that was used."""
    already = {(id(f.exchange), f.clause) for f in ctx.findings if f.kind == "violation" and f.exchange is not None}
    found: dict[tuple[str, str], list[Failure]] = {}
    judged = 0
    for exchange in _creates(ctx):
        if id(exchange) in ctx.judged_success:
            continue  # judged with what was sent, by a targeted check
        judged += 1
        for failure in judge_success(ctx, exchange):
            if (id(exchange), failure.clause) not in already:
                found.setdefault((failure.clause, failure.title), []).append(failure)
    for (_, title), failures in found.items():
        for failure in failures[:EVIDENCE_KEPT]:
            if len(failures) > 1:
                failure.title = f"{title} ({len(failures)} of {judged} other 2xx answers)"
            ctx.report(failure)
    for clause in accepted.BODY:
        ctx.evidence(clause, judged, required=0, case="every other 2xx of the run")


def _replay_whole_run(ctx: CheckContext, finding: Finding) -> bool | None:
    """The whole-run findings, confirmed by sending their create again.

    RES-ID-2: the create gets an id the run has already seen. RES-ORG-1: the create,
    under the same key, gets an org_id other than the key's first create got.
    """
    if finding.exchange is None or finding.exchange.resend is None:
        return None
    again = finding.exchange.resend()
    if finding.clause == "RES-ID-2":
        known = {customer for e in _creates(ctx) if (customer := created_id(e)) is not None}
        customer = created_id(again)
        return None if customer is None else customer in known
    first = next((e for e in _creates(ctx) if e.request.key_ref == finding.exchange.request.key_ref), None)
    org, first_org = _org_of(again), _org_of(first) if first is not None else None
    return None if org is None or first_org is None else org != first_org


def report(ctx: CheckContext, broken: across.Broken, exchange: Exchange | None) -> None:
    ctx.violation(broken.clause, broken.title, expected=broken.expected, actual=broken.actual, exchange=exchange)


def _org_of(exchange: Exchange) -> str | None:
    body = exchange.json_body() if exchange.succeeded else None
    return body["org_id"] if isinstance(body, dict) and isinstance(body.get("org_id"), str) else None


@check("RES-ID-2", "RES-ORG-1", phase=Phase.WHOLE_RUN, order=95, confirm=_replay_whole_run, deep="ids")
def whole_run(ctx: CheckContext) -> None:
    """Over every create of the run: ids never repeat (replays aside) and org_id is stable per key."""
    seen: dict[str, str | None] = {}  # id -> the Idempotency-Key it was first created under
    replay_keys: set[tuple[str | None, str]] = set()
    orgs: dict[str | None, set[str]] = {}
    other_org: dict[str | None, Exchange] = {}  # per key, the first create whose org_id is not the key's first
    for exchange in _creates(ctx):
        customer = created_id(exchange)
        if customer is None:
            continue
        idem = idempotency_key(exchange)
        if idem is not None:
            if (exchange.request.key_ref, idem) in replay_keys:
                continue  # a replay may repeat its first answer's id (IDEM-1)
            replay_keys.add((exchange.request.key_ref, idem))
        # A replay under another API key is IDEM-4's (and RES-ENV-1's) business, not a second create.
        if across.repeated_id(seen, customer, replay=idem is not None and seen.get(customer) == idem):
            report(ctx, across.duplicate_id(customer), exchange)
        elif customer in seen:
            continue
        seen.setdefault(customer, idem)
        if (org := _org_of(exchange)) is not None:
            known = orgs.setdefault(exchange.request.key_ref, set())
            if known and org not in known:
                other_org.setdefault(exchange.request.key_ref, exchange)
            known.add(org)
    for key_ref, values in orgs.items():
        if len(values) > 1:
            report(ctx, across.org_ids_of_key(key_ref, values, short(sorted(values))), other_org.get(key_ref))
    if len(seen) < 2:  # one id cannot repeat: uniqueness needs two creates to be judged at all
        ctx.inconclusive(
            "RES-ID-2",
            f"the run created {len(seen) or 'no'} customer{'s' if len(seen) != 1 else ''}: no id could repeat",
        )
    ctx.evidence("RES-ID-2", len(seen), required=2, case="every create of the run")
    ctx.evidence(
        "RES-ORG-1", sum(len(v) for v in orgs.values()) and len(seen), required=0, case="every create of the run"
    )

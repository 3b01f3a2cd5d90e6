"""RES-*: the 201 a valid create gets, field by field, and what holds over the whole run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from billing_kit.conformance import strategies
from billing_kit.conformance.checks import check
from billing_kit.conformance.context import API, LIVE, CheckContext, Inconclusive, Violation, describe
from billing_kit.conformance.model import Exchange

RES_CLAUSES = ("RES-1", "RES-ID-1", "RES-ECHO-1", "RES-ENV-1", "RES-TIME-1", "RES-TIME-2", "RES-ORG-1")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII)
ECHOED = ("email", "name", "external_id", "metadata")
BURST = 20

Problem = tuple[str, str, str | None, str | None]  # clause, message, expected, actual


def short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or RFC3339.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        return None


def judge_created(
    ctx: CheckContext, exchange: Exchange, sent: dict[str, Any], key_env: str | None
) -> Iterator[Problem]:
    """Every RES-* problem of one answer to a valid create, most basic first."""
    response = exchange.response
    assert response is not None
    if response.status != 201:
        yield "RES-1", "a valid create did not get 201", "201", describe(exchange)
        if not exchange.created:
            return
    body = response.json
    if not isinstance(body, dict):
        why = response.json_error or f"a JSON {type(body).__name__}"
        yield "RES-1", "the 201 body is not a JSON object", "a JSON object", why
        return
    if response.media_type != "application/json":
        yield "RES-1", "the 201 is not application/json", "application/json", response.header("content-type") or "none"
    missing = [name for name in ctx.contract.response_fields if name not in body]
    if missing:
        yield (
            "RES-1",
            f"fields missing: {', '.join(missing)}",
            "all of " + ", ".join(ctx.contract.response_fields),
            ("present: " + ", ".join(sorted(body))),
        )
    for name in ECHOED:
        if name not in body:
            continue
        if name in sent:
            if not strategies.json_equal(sent[name], body[name]):
                yield "RES-ECHO-1", f"{name} not echoed exactly", short(sent[name]), short(body[name])
        elif name in ctx.contract.object_fields and body[name] != {}:
            yield "RES-1", f"{name} not sent but not {{}}", "{}", short(body[name])
        elif name not in ctx.contract.object_fields and name != "email" and body[name] is not None:
            yield "RES-1", f"{name} not sent but not null", "null", short(body[name])
    if "id" in body and not ctx.contract.is_valid_id(body["id"]):
        yield "RES-ID-1", "id does not match the whole pattern", ctx.contract.id_pattern, short(body["id"])
    if "environment" in body:
        env = body["environment"]
        if env not in ctx.contract.environments:
            yield "RES-ENV-1", "environment not in the enum", " or ".join(ctx.contract.environments), short(env)
        elif key_env is not None and env != key_env:
            yield "RES-ENV-1", "environment does not match the key", key_env, short(env)
    if "org_id" in body and (not isinstance(body["org_id"], str) or not body["org_id"]):
        yield "RES-ORG-1", "org_id is not a non-empty string", "a non-empty string", short(body["org_id"])
    yield from _judge_times(ctx, body)


def _judge_times(ctx: CheckContext, body: dict[str, Any]) -> Iterator[Problem]:
    times = {}
    for name in ("created_at", "updated_at"):
        if name not in body:
            continue
        parsed = parse_time(body[name])
        if parsed is None:
            yield (
                "RES-TIME-1",
                f"{name} is not an RFC 3339 date-time with offset",
                "e.g. 2025-01-15T12:00:00Z",
                short(body[name]),
            )
        else:
            times[name] = parsed
    if len(times) == 2 and times["created_at"] != times["updated_at"]:
        yield (
            "RES-TIME-1",
            "created_at and updated_at differ on create",
            short(body["created_at"]),
            short(body["updated_at"]),
        )
    if "created_at" in times:
        skew = abs((times["created_at"] - datetime.now(UTC)).total_seconds())
        if skew > ctx.config.clock_skew:
            yield (
                "RES-TIME-2",
                f"created_at is {skew:.0f} s from the checker's clock",
                (f"within {ctx.config.clock_skew:.0f} s"),
                short(body["created_at"]),
            )


def _key_env(ctx: CheckContext) -> str | None:
    key = ctx.key(API)
    return ctx.contract.environment_of_key(key) if key else None


def _report_all(ctx: CheckContext, exchange: Exchange, sent: dict[str, Any]) -> None:
    for clause, message, expected, actual in judge_created(ctx, exchange, sent, _key_env(ctx)):
        ctx.violation(clause, message, expected=expected, actual=actual, exchange=exchange)


@check(*RES_CLAUSES, order=30)
def minimal_create(ctx: CheckContext) -> None:
    """Only an email: 201, all nine fields, name and external_id null, metadata {}."""
    sent = {"email": f"Minimal.{ctx.nonce}@Example.com"}
    _report_all(ctx, ctx.require_answer(ctx.post(sent, tag=False)), sent)


@check("RES-ENV-1", order=30, needs=("live_key",))
def live_environment(ctx: CheckContext) -> None:
    """A create with the live key is in environment live (one of the at most 5 live requests)."""
    key = ctx.key(LIVE)
    assert key is not None
    sent = ctx.tagged({"email": f"live-env-{ctx.nonce}@example.com"})
    exchange = ctx.require_answer(ctx.post(sent, auth=LIVE))
    body = exchange.json_body()
    expected = ctx.contract.environment_of_key(key)
    if exchange.created and isinstance(body, dict) and body.get("environment") != expected:
        ctx.violation(
            "RES-ENV-1",
            "environment does not match the live key",
            expected=str(expected),
            actual=short(body.get("environment")),
            exchange=exchange,
        )
    elif not exchange.created:
        raise Inconclusive(f"the live key's create was refused ({describe(exchange)})")


@check(*RES_CLAUSES, order=30)
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
    _report_all(ctx, ctx.require_answer(ctx.post(sent)), sent)


@check(*RES_CLAUSES, order=40)
def generated_creates(ctx: CheckContext) -> None:
    """Random valid bodies (any Unicode, padding, metadata of every type to depth 3): each 201 is judged."""
    key_env = _key_env(ctx)

    def test(body: dict[str, Any]) -> None:
        exchange = ctx.require_answer(ctx.post(body))
        for clause, message, expected, actual in judge_created(ctx, exchange, exchange.sent, key_env):
            raise Violation(clause, message, expected=expected, actual=actual, exchange=exchange)

    ctx.for_all(strategies.valid_bodies(ctx.contract), test)


@check("RES-ID-2", order=40)
def concurrent_ids(ctx: CheckContext) -> None:
    """A burst of concurrent creates gets distinct ids."""
    bodies = [{"email": f"burst{i}-{ctx.nonce}@example.com"} for i in range(BURST)]
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        exchanges = list(pool.map(ctx.post, bodies))
    ids = [e.json_body().get("id") for e in exchanges if e.created and isinstance(e.json_body(), dict)]
    if not ids:
        ctx.inconclusive("RES-ID-2", f"none of {BURST} concurrent creates succeeded")
        return
    duplicates = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    if duplicates:
        ctx.violation(
            "RES-ID-2",
            f"{len(ids)} concurrent creates got {len(set(map(str, ids)))} distinct ids",
            expected=f"{len(ids)} distinct ids",
            actual=f"repeated: {short(duplicates)}",
        )


@check("RES-ID-2", "RES-ORG-1", order=95)
def whole_run(ctx: CheckContext) -> None:
    """Over every create of the run: ids never repeat (replays aside) and org_id is stable per key."""
    seen: dict[str, Exchange] = {}
    replay_keys: set[tuple[str | None, str]] = set()
    orgs: dict[str | None, set[str]] = {}
    for exchange in ctx.log:
        body = exchange.json_body()
        if not exchange.created or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            continue
        idem = next((v for k, v in exchange.request.headers if k.lower() == "idempotency-key"), None)
        if idem is not None:
            if (exchange.request.key_ref, idem) in replay_keys:
                continue  # a replay may repeat its first answer's id (IDEM-1)
            replay_keys.add((exchange.request.key_ref, idem))
        if body["id"] in seen:
            ctx.violation(
                "RES-ID-2",
                "two creates got the same id",
                expected="distinct ids",
                actual=f"{body['id']} twice",
                exchange=exchange,
            )
        seen[body["id"]] = exchange
        if isinstance(body.get("org_id"), str):
            orgs.setdefault(exchange.request.key_ref, set()).add(body["org_id"])
    for key_ref, values in orgs.items():
        if len(values) > 1:
            ctx.violation(
                "RES-ORG-1",
                f"customers created with the same {key_ref} key have {len(values)} org_ids",
                expected="one org_id per key",
                actual=short(sorted(values)),
            )
    if not seen:
        ctx.inconclusive("RES-ID-2", "the run created no customer")

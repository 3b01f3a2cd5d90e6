"""The RES-* judges on canned 2xx answers: `judge_body` (any 2xx), `judge_created` (a valid create).

Ids, environments and key prefixes come from the contract; the clock skew from
the run's configuration.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing_kit.conformance.checks import response
from billing_kit.conformance.checks.response import judge_body, judge_created, judge_success
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.rules.created import parse_time, short
from tests.support.canned import CONTRACT, NOW, answer, check_context, customer, raw_answer

SANDBOX_ENV = CONTRACT.sandbox_environment
LIVE_ENV = CONTRACT.live_environment


@pytest.fixture
def ctx() -> CheckContext:
    return check_context()


def found(failures: Any) -> list[tuple[str, str, str | None, str | None]]:
    return [(f.clause, f.title, f.expected, f.actual) for f in failures]


def body_of(ctx: CheckContext, exchange: Exchange, key_env: str | None = SANDBOX_ENV) -> list[Any]:
    failures: list[Failure] = list(judge_body(ctx, exchange, key_env))
    assert all(f.exchange is exchange for f in failures)
    return found(failures)


# -- helpers ---------------------------------------------------------------------------------------


def test_short_keeps_a_repr_up_to_its_limit() -> None:
    assert short("abc") == "'abc'"
    exact = "x" * 118  # its repr is 120 characters
    assert short(exact) == repr(exact)
    assert short(exact + "y") == repr(exact + "y")[:120] + "…"
    assert short([1, 2, 3], limit=5) == "[1, 2…"


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("2025-01-15T12:00:00Z", datetime(2025, 1, 15, 12, tzinfo=UTC)),
        ("2025-01-15t12:00:00z", datetime(2025, 1, 15, 12, tzinfo=UTC)),
        ("2025-01-15T12:00:00.123456+01:00", datetime(2025, 1, 15, 11, 0, 0, 123456, tzinfo=UTC)),
        ("2025-01-15T12:00:00-00:30", datetime(2025, 1, 15, 12, 30, tzinfo=UTC)),
    ],
)
def test_parse_time_reads_rfc_3339_with_an_offset(text: str, when: datetime) -> None:
    assert parse_time(text) == when


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-15T12:00:00",
        "2025-01-15 12:00:00Z",
        " 2025-01-15T12:00:00Z",
        "2025-01-15T12:00:00Z ",
        "2025-01-15",
        "2025-13-45T12:00:00Z",
        "2025-01-15T12:00:00+0100",
        "yesterday",
        "",
        1736942400,
        None,
    ],
)
def test_parse_time_refuses_anything_else(text: Any) -> None:
    assert parse_time(text) is None


def test_key_environment_is_the_environment_of_the_key_that_signed(ctx: CheckContext) -> None:
    assert response.key_environment(ctx, answer(201, {}, key_ref="api")) == SANDBOX_ENV
    assert response.key_environment(ctx, answer(201, {}, key_ref="live")) == LIVE_ENV
    assert response.key_environment(ctx, answer(201, {}, key_ref="raw")) is None
    assert response.key_environment(ctx, answer(201, {}, key_ref=None)) is None
    keyless = check_context(api_key=None, live_key=None)
    assert response.key_environment(keyless, answer(201, {}, key_ref="api")) is None
    assert response.key_environment(keyless, answer(201, {}, key_ref="live")) is None


def test_judge_success_judges_for_the_key_used(ctx: CheckContext) -> None:
    live = customer(environment=LIVE_ENV)
    assert judge_success(ctx, answer(201, live, key_ref="live")) == []
    assert found(judge_success(ctx, answer(201, live))) == [
        ("RES-ENV-1", f"a {SANDBOX_ENV} key got a {LIVE_ENV} customer", SANDBOX_ENV, repr(LIVE_ENV))
    ]
    assert judge_success(ctx, answer(201, live, key_ref="raw")) == []


# -- judge_body ------------------------------------------------------------------------------------


def test_a_conforming_body_breaks_nothing(ctx: CheckContext) -> None:
    assert body_of(ctx, answer(201, customer())) == []
    assert body_of(ctx, answer(201, customer(), media="application/json; charset=utf-8")) == []
    assert body_of(ctx, answer(200, customer(environment=LIVE_ENV)), None) == []


def test_a_body_that_is_not_an_object_stops_there(ctx: CheckContext) -> None:
    assert body_of(ctx, answer(201, [customer()], media="text/plain")) == [
        ("RES-1", "the 201 body is not a JSON object", "a JSON object", "a JSON list")
    ]
    unparsable = raw_answer(200, b"{nope", [("Content-Type", "text/html")])
    ((clause, title, expected, actual),) = body_of(ctx, unparsable)
    assert (clause, title, expected) == ("RES-1", "the 200 body is not a JSON object", "a JSON object")
    assert unparsable.response is not None and actual == unparsable.response.json_error


def test_the_media_type_must_be_json(ctx: CheckContext) -> None:
    assert body_of(ctx, answer(201, customer(), media="text/json")) == [
        ("RES-1", "the 201 is not application/json", "application/json", "text/json")
    ]
    bare = raw_answer(201, json.dumps(customer()).encode(), [])
    assert body_of(ctx, bare) == [("RES-1", "the 201 is not application/json", "application/json", "none")]


def test_missing_fields_are_named(ctx: CheckContext) -> None:
    body = customer()
    del body["org_id"], body["name"]
    every = "all of " + ", ".join(CONTRACT.response_fields)
    present = "present: " + ", ".join(sorted(body))
    missing = [name for name in CONTRACT.response_fields if name not in body]
    assert body_of(ctx, answer(201, body)) == [("RES-1", f"fields missing: {', '.join(missing)}", every, present)]


@pytest.mark.parametrize(
    "bad", [CONTRACT.id_prefix, CONTRACT.id_prefix + "0\n", "x" + CONTRACT.id_prefix + "0", 7, None]
)
def test_an_id_off_the_pattern_breaks_res_id_1(ctx: CheckContext, bad: Any) -> None:
    assert body_of(ctx, answer(201, customer(id=bad))) == [
        ("RES-ID-1", "id does not match the whole pattern", CONTRACT.id_pattern, short(bad))
    ]


def test_environments(ctx: CheckContext) -> None:
    enum = " or ".join(CONTRACT.environments)
    assert body_of(ctx, answer(201, customer(environment="production"))) == [
        ("RES-ENV-1", "environment not in the enum", enum, "'production'")
    ]
    assert body_of(ctx, answer(201, customer(environment="production")), None) == [
        ("RES-ENV-1", "environment not in the enum", enum, "'production'")
    ]
    assert body_of(ctx, answer(201, customer(environment=SANDBOX_ENV)), LIVE_ENV) == [
        ("RES-ENV-1", f"a {LIVE_ENV} key got a {SANDBOX_ENV} customer", LIVE_ENV, repr(SANDBOX_ENV))
    ]


@pytest.mark.parametrize("org", ["", None, 1, ["o"]])
def test_org_id_must_be_a_non_empty_string(ctx: CheckContext, org: Any) -> None:
    assert body_of(ctx, answer(201, customer(org_id=org))) == [
        ("RES-ORG-1", "org_id is not a non-empty string", "a non-empty string", short(org))
    ]


def test_timestamps(ctx: CheckContext) -> None:
    example = "e.g. 2025-01-15T12:00:00Z"
    title = "{} is not an RFC 3339 date-time with offset"
    assert body_of(ctx, answer(201, customer(created_at="2025-01-15T12:00:00"))) == [
        ("RES-TIME-1", title.format("created_at"), example, "'2025-01-15T12:00:00'")
    ]
    assert body_of(ctx, answer(201, customer(updated_at=None))) == [
        ("RES-TIME-1", title.format("updated_at"), example, "None")
    ]
    later = "2026-01-15T12:00:01Z"
    assert body_of(ctx, answer(201, customer(updated_at=later))) == [
        ("RES-TIME-1", "created_at and updated_at differ on create", repr(NOW), repr(later))
    ]
    same_instant = customer(updated_at="2026-01-15T13:00:00+01:00")
    assert body_of(ctx, answer(201, same_instant)) == []
    only_one = customer(updated_at=later)
    del only_one["created_at"]
    assert [f[0] for f in body_of(ctx, answer(201, only_one))] == ["RES-1"]
    only_one["updated_at"] = "later"
    assert [f[1] for f in body_of(ctx, answer(201, only_one))][1:] == [title.format("updated_at")]


def test_every_rule_in_order(ctx: CheckContext) -> None:
    broken = customer(id="x", environment="prod", org_id="", created_at="yesterday", updated_at="never")
    del broken["name"]
    assert [f[0] for f in body_of(ctx, answer(201, broken, media="text/plain"))] == [
        "RES-1",
        "RES-1",
        "RES-ID-1",
        "RES-ENV-1",
        "RES-ORG-1",
        "RES-TIME-1",
        "RES-TIME-1",
    ]


# -- judge_created ---------------------------------------------------------------------------------


def created(
    ctx: CheckContext, exchange: Exchange, sent: dict[str, Any], key_env: str | None = SANDBOX_ENV
) -> list[Any]:
    failures = list(judge_created(ctx, exchange, sent, key_env))
    assert all(f.exchange is exchange for f in failures)
    assert id(exchange) in ctx.judged_success
    return found(failures)


def now_body(**fields: Any) -> dict[str, Any]:
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return customer(created_at=stamp, updated_at=stamp, **fields)


def test_a_conforming_create_breaks_nothing(ctx: CheckContext) -> None:
    sent = {"email": "A@Example.com", "name": "Zoë \U0001f600", "external_id": "e", "metadata": {"i": 2, "f": 1.5}}
    body = now_body(**sent)
    body["metadata"] = {"i": 2.0, "f": 1.5}
    assert created(ctx, answer(201, body), sent) == []
    assert created(ctx, answer(201, now_body()), {"email": "a@example.com"}) == []


def test_a_valid_create_wants_201(ctx: CheckContext) -> None:
    assert created(ctx, answer(200, now_body()), {"email": "a@example.com"}) == [
        ("RES-1", "a valid create did not get 201", "201", "HTTP 200")
    ]
    assert created(ctx, answer(422, {"email": 1}), {"email": "a@example.com"}) == [
        ("RES-1", "a valid create did not get 201", "201", "HTTP 422")
    ]
    assert [f[0] for f in created(ctx, answer(200, now_body(id="x")), {"email": "a@example.com"})] == [
        "RES-1",
        "RES-ID-1",
    ]


def test_a_create_whose_body_is_not_an_object_stops_after_saying_so(ctx: CheckContext) -> None:
    assert created(ctx, answer(201, ["name"]), {"email": "a@example.com", "name": "x"}) == [
        ("RES-1", "the 201 body is not a JSON object", "a JSON object", "a JSON list")
    ]


def test_what_was_sent_comes_back_exactly(ctx: CheckContext) -> None:
    sent = {"email": "a@example.com", "name": " x ", "external_id": "1", "metadata": {"t": True}}
    body = now_body(email="A@example.com", name="x", external_id=1, metadata={"t": 1})
    assert created(ctx, answer(201, body), sent) == [
        ("RES-ECHO-1", "email not echoed exactly", "'a@example.com'", "'A@example.com'"),
        ("RES-ECHO-1", "name not echoed exactly", "' x '", "'x'"),
        ("RES-ECHO-1", "external_id not echoed exactly", "'1'", "1"),
        ("RES-ECHO-1", "metadata not echoed exactly", "{'t': True}", "{'t': 1}"),
    ]


def test_what_was_not_sent_comes_back_empty(ctx: CheckContext) -> None:
    sent = {"email": "a@example.com"}
    body = now_body(name="", external_id="e", metadata={"k": "v"})
    assert created(ctx, answer(201, body), sent) == [
        ("RES-1", "name not sent but not null", "null", "''"),
        ("RES-1", "external_id not sent but not null", "null", "'e'"),
        ("RES-1", "metadata not sent but not {}", "{}", "{'k': 'v'}"),
    ]
    assert created(ctx, answer(201, now_body(metadata=None)), sent) == [
        ("RES-1", "metadata not sent but not {}", "{}", "None")
    ]
    assert created(ctx, answer(201, now_body(email="x@example.com")), {}) == []
    partial = now_body()
    del partial["name"]
    assert [f[0] for f in created(ctx, answer(201, partial), sent)] == ["RES-1"]


def test_a_create_is_judged_for_the_key_it_was_sent_with(ctx: CheckContext) -> None:
    failures = found(judge_created(ctx, answer(201, now_body()), {"email": "a@example.com"}, LIVE_ENV))
    assert failures == [("RES-ENV-1", f"a {LIVE_ENV} key got a {SANDBOX_ENV} customer", LIVE_ENV, repr(SANDBOX_ENV))]


def test_a_field_missing_from_the_answer_does_not_end_the_echo_check(ctx: CheckContext) -> None:
    body = now_body(external_id="other", metadata={"k": 1})
    del body["name"]
    sent = {"email": "a@example.com", "name": "n", "external_id": "e", "metadata": {"k": 2}}
    assert [f[1] for f in created(ctx, answer(201, body), sent)] == [
        "fields missing: name",
        "external_id not echoed exactly",
        "metadata not echoed exactly",
    ]


def test_created_at_within_the_clock_skew(ctx: CheckContext) -> None:
    skew = ctx.config.clock_skew
    sent = {"email": "a@example.com"}
    for direction in (1, -1):
        when = datetime.now(UTC) + direction * timedelta(seconds=skew + 120)
        stamp = when.isoformat().replace("+00:00", "Z")
        ((clause, title, expected, actual),) = created(
            ctx, answer(201, customer(created_at=stamp, updated_at=stamp)), sent
        )
        assert (clause, expected, actual) == ("RES-TIME-2", f"within {skew:.0f} s", repr(stamp))
        seconds = int(title.split()[2])
        assert title == f"created_at is {seconds} s from the checker's clock"
        assert skew + 110 <= seconds <= skew + 600
    close = datetime.now(UTC) - timedelta(seconds=skew / 2)
    stamp = close.isoformat()
    assert created(ctx, answer(201, customer(created_at=stamp, updated_at=stamp)), sent) == []
    assert [f[0] for f in created(ctx, answer(201, customer(created_at="soon", updated_at="soon")), sent)] == [
        "RES-TIME-1",
        "RES-TIME-1",
    ]
    tight = check_context(clock_skew=1.0)
    stale = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    assert [f[0] for f in created(tight, answer(201, customer(created_at=stale, updated_at=stale)), sent)] == [
        "RES-TIME-2"
    ]


def test_the_echo_can_be_left_free_or_to_another_clause(ctx: CheckContext) -> None:
    """`numbers_free` (a number past I-JSON sent), `echo=False` (duplicate keys sent) and `judged_elsewhere`
    (a U+0000 string, REQ-TEXT-1's) each spare the echo only where they say."""
    sent = {"email": "a@example.com", "name": "x\x00y", "metadata": {"n": 1}}
    rounded = now_body(email="a@example.com", name="x", metadata={"n": 2})
    both = [("RES-ECHO-1", "metadata not echoed exactly"), ("RES-ECHO-1", "name not echoed exactly")]

    def titles(**options: Any) -> list[tuple[str, str]]:
        found = judge_created(ctx, answer(201, rounded), sent, None, **options)
        return sorted((f.clause, f.title) for f in found)

    assert titles() == both
    assert titles(numbers_free=True) == [both[1]]
    assert titles(judged_elsewhere=("name",)) == [both[0]]
    assert titles(numbers_free=True, judged_elsewhere=("name",)) == []
    assert titles(echo=False) == []
    # Left free, the echo still holds its shape; the defaults of fields not sent still hold.
    reshaped = now_body(email="a@example.com", name="x", metadata={"n": [2]})
    found = judge_created(ctx, answer(201, reshaped), sent, None, numbers_free=True, judged_elsewhere=("name",))
    assert [(f.clause, f.title) for f in found] == [both[0]]
    no_default = now_body(email="a@example.com", name="x", metadata={"n": 1}, external_id="e")
    found = judge_created(ctx, answer(201, no_default), sent, None, numbers_free=True, judged_elsewhere=("name",))
    assert [(f.clause, f.title) for f in found] == [("RES-1", "external_id not sent but not null")]

"""The generic phase: Schemathesis's cases and checks, mapped to the contract's clauses.

Run against real servers: the reference, the zoo's two conforming flavours (which
make opposite MAY choices) and zoo defects the generic phase should catch on its
own (the other checks are left out, so a verdict here is the generic phase's).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime

import pytest

from billing_kit.conformance import runner
from billing_kit.conformance.checks import generic, load_all
from billing_kit.conformance.checks.generic_judge import email_class, judge_request
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.model import ClauseVerdict, Exchange, RecordedRequest, RecordedResponse, Verdict
from billing_kit.conformance.plan_cache import PlanCache
from billing_kit.conformance.redact import Redactor
from tests.support.canned import customer
from tests.support.reference import ReferenceServer
from tests.support.zoo import SANDBOX_KEY, zoo

CONTRACT = load_contract()
GENERIC_ONLY = ("generic.schemathesis_phases", "errors.no_server_errors")
PLANS = PlanCache()  # shared by this module's runs: the same seed plans the same cases


def run_generic(
    base_url: str, key: str, seed: int = 0, examples: int = 20
) -> tuple[dict[str, ClauseVerdict], CheckContext, list[str]]:
    """Only the generic phase (and ERR-2 over its exchanges): verdicts by clause, the context, progress lines."""
    lines: list[str] = []
    config = RunConfig(base_url=base_url, api_key=key, seed=seed, examples=examples, timeout=5)
    client = Client(ClientOptions(base_url=base_url, timeout=5), Budget(120), Redactor([key]))
    ctx = CheckContext(CONTRACT, config, client, nonce=secrets.token_hex(6), plans=PLANS)
    ctx.progress = lines.append
    specs = [spec for spec in load_all() if spec.name in GENERIC_ONLY]
    try:
        ran, exhausted = runner.run_checks(ctx, specs)
    finally:
        client.close()
    assert not exhausted
    verdicts = runner.fold(ctx.findings, specs, ran, ())
    return {v.clause: v for v in verdicts}, ctx, lines


def violations(ctx: CheckContext) -> list[str]:
    return [f"{f.clause}: {f.message} ({f.actual})" for f in ctx.findings if f.kind == "violation"]


def test_reference_gets_no_finding(reference_server: ReferenceServer) -> None:
    verdicts, ctx, lines = run_generic(reference_server.base_url, reference_server.sandbox_key)
    assert violations(ctx) == []
    assert {v.verdict for v in verdicts.values() if v.clause in generic.GENERIC_CLAUSES} == {Verdict.PASS}
    summary = next(line for line in lines if line.startswith("generic:"))
    sent = int(summary.split()[1])
    assert sent >= 80, summary  # coverage cases plus positive and negative fuzzing


@pytest.mark.parametrize("may", ["lenient", "strict"])
@pytest.mark.parametrize("seed", [0, 7])
def test_conforming_servers_get_no_finding(may: str, seed: int) -> None:
    """Opposite MAY choices (quoted emails, BOM, duplicate keys, big numbers) are never findings."""
    with zoo(may=may) as base_url:
        _, ctx, lines = run_generic(base_url, SANDBOX_KEY, seed)
    assert violations(ctx) == [], lines


# (defect, clause, verdict): what the generic phase alone must catch (one per mapping rule;
# the whole list it catches, 34 of the zoo's Python defects, was measured with a script).
DEFECTS = [
    ("len-off-by-one", "REQ-LEN-1", Verdict.FAIL),
    ("accepts-null-name", "REQ-LEN-2", Verdict.FAIL),
    ("email-too-strict", "REQ-EMAIL-2", Verdict.FAIL),
    ("accepts-unknown-field", "REQ-UNKNOWN-1", Verdict.WARN),
    ("415-missing", "REQ-BODY-2", Verdict.WARN),
    ("status-200", "RES-1", Verdict.FAIL),
    ("id-trailing-newline", "RES-ID-1", Verdict.FAIL),
    ("time-no-offset", "RES-TIME-1", Verdict.FAIL),
    ("405-no-allow", "ERR-4", Verdict.WARN),
    ("idem-long-key-accepted", "IDEM-3", Verdict.WARN),
    ("500-on-missing-content-type", "ERR-2", Verdict.FAIL),
]


@pytest.mark.parametrize(("defect", "clause", "verdict"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_defect_is_caught_on_its_clause(defect: str, clause: str, verdict: Verdict) -> None:
    with zoo(defect) as base_url:
        verdicts, ctx, _ = run_generic(base_url, SANDBOX_KEY)
    assert verdicts[clause].verdict is verdict, violations(ctx)
    # A defect of one clause is never blamed on an unrelated one (ERR-1 follows every MUST break;
    # a 5xx also breaks the clause its request probed, named with ERR-2 beside it).
    beside_err_2 = {f.clause for f in ctx.findings if "ERR-2 beside it" in f.message}
    assert {f.clause for f in ctx.findings if f.kind == "violation"} - {clause, "ERR-1"} - beside_err_2 == set()


def test_same_seed_same_cases_other_seed_other_cases(reference_server: ReferenceServer) -> None:
    def signature(seed: int) -> list[str]:
        config = RunConfig(base_url=reference_server.base_url, api_key="unused", seed=seed, examples=5)
        client = Client(ClientOptions(base_url=reference_server.base_url), Budget(60), Redactor([]))
        ctx = CheckContext(CONTRACT, config, client, nonce="n", plans=PlanCache())  # planned afresh
        client.close()
        return [repr((p.method, p.content_type, p.body, p.auth, p.key_length)) for p in generic.plan(ctx)]

    first = signature(3)
    assert signature(3) == first
    assert signature(4) != first


def test_fresh_idempotency_keys_keep_the_generated_length() -> None:
    keys = {generic.generic_judge_key("abc123", n, length) for n in range(3) for length in (24, 255, 256)}
    assert len(keys) == 9
    assert {len(k) for k in keys} == {24, 255, 256}


# -- the judge: what the contract says of one request --------------------------------
VALID = "Bearer key"


def judge(body: bytes, content_type: str | None = "application/json", key: str | None = None) -> list[str]:
    found = judge_request(CONTRACT, content_type=content_type, body=body, auth="valid", idempotency_key=key)
    return [f"{b.clause}/{b.strength}" for b in found.breaks] + [f"MAY {m.split(':')[0]}" for m in found.may]


@pytest.mark.parametrize(
    ("email", "kind"),
    [
        ("O'Brien+tag@mail.example.com", "plain"),
        ("Jane@EXAMPLE.org", "plain"),
        ('"quoted"@example.com', "may"),  # a negative `format: email` case, legal to accept
        ('"quoted local"@example.com', "broken"),  # whitespace anywhere, quotes included
        ("a..b@example.com", "may"),
        ("a@localhost", "may"),
        ("user@example.test", "may"),
        ("", "broken"),
        ("a@b@example.com", "broken"),
        ('"a@b"@example.com', "may"),  # the @ inside quotes does not count
        ('a"b@example.com', "may"),  # a stray quote inside a dot-atom opens no quoted string (a deep run's variant)
        ("a @example.com", "broken"),
        ("a@b..com", "broken"),
        ("a@", "broken"),
    ],
)
def test_email_classes(email: str, kind: str) -> None:
    assert email_class(email) == kind


def test_judge_maps_each_rule_to_its_clause_and_level() -> None:
    limit = CONTRACT.max_lengths["name"]
    assert judge(b'{"email": "a@example.com"}') == []
    assert judge(b'{"email": "a@example.com", "emial": 1}') == ["REQ-UNKNOWN-1/should"]
    assert judge(b'{"email": "a@example.com", "name": "%s"}' % (b"x" * (limit + 1))) == ["REQ-LEN-1/must"]
    assert judge(b'{"email": "a@example.com", "name": null}') == ["REQ-LEN-2/must"]
    assert judge(b'{"email": "a@example.com", "metadata": {"x": NaN}}') == ["REQ-BODY-1/must"]
    assert judge(b'{"email": "a@example.com", "name": "\\ud800"}') == ["REQ-TEXT-1/must"]
    assert judge(b'{"email": "a@example.com"}', "text/plain") == ["REQ-BODY-2/should"]
    assert judge(b'{"email": "a@example.com"}', "application/json; charset=utf-8") == []
    key = "k" * (CONTRACT.idempotency_key_max_length + 1)
    assert judge(b'{"email": "a@example.com"}', key=key) == ["IDEM-3/should"]
    assert judge(b'\xef\xbb\xbf{"email": "a@example.com"}') == ["MAY REQ-BODY-1"]
    assert judge(b'{"email": "a@example.com", "email": "a@example.com"}') == ["MAY REQ-BODY-3"]
    assert judge(b'{"email": "\\"q\\"@example.com"}') == ["MAY REQ-EMAIL-4"]
    assert judge(b'{"email": "a@example.com", "name": "a\\u0000b"}') == ["MAY REQ-TEXT-1"]
    deep = b'{"email": "a@example.com", "metadata": ' + b'{"a": ' * 40 + b"1" + b"}" * 41
    assert judge(deep) == ["REQ-BODY-1/must"]


def just_now() -> dict[str, str]:
    """Stamps of now: the generic judge holds `created_at` to the checker's clock (RES-TIME-2)."""
    now = datetime.now(UTC).isoformat()
    return {"created_at": now, "updated_at": now}


def test_the_nul_verdict_looks_at_strings_only() -> None:
    """Zoo finding F2: a number past I-JSON echoed rounded is RES-ECHO-1's MAY, not a mangled U+0000."""
    client = Client(ClientOptions(base_url="http://127.0.0.1:9/v1"), Budget(5), Redactor([]))
    ctx = CheckContext(CONTRACT, RunConfig(base_url="http://127.0.0.1:9/v1"), client, nonce="n")
    client.close()
    sent = {"email": "a@example.com", "metadata": {"k\x00": "a\x00b", "n": -76297375031576707072}}
    raw = json.dumps(sent).encode()
    expectation = judge_request(CONTRACT, content_type="application/json", body=raw, auth="valid", idempotency_key=None)
    assert expectation.nul_fields == ["metadata"]

    def answer(metadata: dict[str, object]) -> Exchange:
        echo = customer(**{**sent, "metadata": metadata}, **just_now())
        response = RecordedResponse(201, [("Content-Type", "application/json")], b"{}", False, 0.0, json=echo)
        return Exchange(RecordedRequest("POST", "http://127.0.0.1:9/v1/customers", [], raw, len(raw)), response)

    run = generic.GenericRun(ctx)
    run.judge_created(answer({"k\x00": "a\x00b", "n": -7.62973750315767e19}), expectation, sent)
    assert run.collected == {}
    run.judge_created(answer({"k": "ab", "n": -76297375031576707072}), expectation, sent)
    assert list(run.collected) == [("REQ-TEXT-1", "metadata with U+0000 stored mangled")]


def test_a_created_customer_is_judged_on_every_rule_of_rules_created() -> None:
    """The generic phase (and so every deep round) judges the echo and the stamps of each 201, as `check`'s
    targeted creates and the traffic judge do: an echo trimmed, stamps that differ, a default not null."""
    client = Client(ClientOptions(base_url="http://127.0.0.1:9/v1"), Budget(5), Redactor([]))
    ctx = CheckContext(CONTRACT, RunConfig(base_url="http://127.0.0.1:9/v1"), client, nonce="n")
    client.close()

    def judged(raw: bytes, **body: object) -> list[tuple[str, str]]:
        expectation = judge_request(
            CONTRACT, content_type="application/json", body=raw, auth="valid", idempotency_key=None
        )
        sent = json.loads(raw)
        echo = customer(**{**just_now(), **sent, **body})
        response = RecordedResponse(201, [("Content-Type", "application/json")], b"{}", False, 0.0, json=echo)
        exchange = Exchange(RecordedRequest("POST", "http://127.0.0.1:9/v1/customers", [], raw, len(raw)), response)
        run = generic.GenericRun(ctx)
        run.judge_created(exchange, expectation, sent)
        return sorted((clause, re.sub(r"\d+", "#", title)) for clause, title in run.collected)

    raw = json.dumps({"email": "a@example.com", "name": " Zoë "}).encode()
    assert judged(raw) == []
    assert judged(raw, name="Zoë") == [("RES-ECHO-1", "name not echoed exactly")]
    assert judged(raw, updated_at="2031-01-01T00:00:00Z") == [
        ("RES-TIME-1", "created_at and updated_at differ on create")
    ]
    old = "2001-01-01T00:00:00Z"
    assert judged(raw, created_at=old, updated_at=old) == [("RES-TIME-2", "created_at is # s from the checker's clock")]
    assert judged(raw, external_id="") == [("RES-1", "external_id not sent but not null")]
    # Numbers outside I-JSON may come back rounded; duplicate keys leave which value is kept open.
    big = b'{"email": "a@example.com", "metadata": {"n": 76297375031576707072}}'
    assert judged(big, metadata={"n": 7.62973750315767e19}) == []
    assert judged(big, metadata={"n": "x"}) == [("RES-ECHO-1", "metadata not echoed exactly")]
    twice = b'{"email": "a@example.com", "name": "a", "name": "b"}'
    assert judged(twice, name="a") == [] and judged(twice, name="b") == []

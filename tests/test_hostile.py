"""The reference server against the hostile corpus (tests/hostile/cases.json), over raw sockets.

Every case gets the reference's documented answer: a problem+json 4xx from the app or,
for bytes refused before the app sees them, from the HTTP layer (handlers/server.py), or
a 201 for the few controls that must pass. After each case the server still creates.
The 100 MiB cases also sample the server's resident memory (VmRSS of its process tree).
"""

from __future__ import annotations

import copy
import json
import secrets

import jsonschema
import pytest

from billing_kit.conformance import clauses
from tests.hostile.corpus import SCHEMA_PATH, Case, load_cases, raw_document, validate
from tests.hostile.rawhttp import Exchange, RssSampler, exchange
from tests.support.reference import ReferenceServer

CASES = load_cases()
MIB = 1024 * 1024
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def _params() -> list[object]:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES]


def _keys(server: ReferenceServer) -> dict[str, str]:
    return {"{sandbox}": server.sandbox_key, "{live}": server.live_key}


def _send(case: Case, server: ReferenceServer, stop_on_answer: bool = True) -> Exchange:
    return exchange(server.server.port, case.head(_keys(server)), case.body_chunks(), stop_on_answer=stop_on_answer)


def _assert_answer(case: Case, result: Exchange, server: ReferenceServer) -> None:
    response = result.response
    assert response is not None, f"no answer (sent {result.sent} bytes, {result.send_error}): {result.raw[:200]!r}"
    expected = case.expect
    assert response.status == expected.status, response.body[:300]
    if expected.body == "plain":
        assert response.content_type == "text/plain"
        return
    body = json.loads(response.body)
    if expected.body == "json":
        assert response.content_type == "application/json"
        assert body["id"].startswith("cus_")
        return
    assert response.content_type == "application/problem+json"
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == expected.status
    assert len(response.body) < 2000, "an error echoes at most a short excerpt (ERR-3)"
    assert server.sandbox_key not in response.body.decode()
    if expected.pointer is not None:
        assert expected.pointer in [e["pointer"] for e in body.get("errors", [])], body


def _assert_still_creates(server: ReferenceServer) -> None:
    email = f"after-{secrets.token_hex(4)}@example.com"
    body = json.dumps({"email": email}).encode()
    head = (
        b"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (server.sandbox_key.encode(), len(body))
    )
    result = exchange(server.server.port, head, [body])
    assert result.response is not None and result.response.status == 201
    assert json.loads(result.response.body)["email"] == email


def test_the_corpus_matches_its_schema() -> None:
    validate()
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"
    for case in CASES:
        clauses.get(case.clause)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["cases", 0, "body", 0], {"hex": "zz"}),
        (["cases", 0, "expect"], {"status": 400}),
        (["cases", 0, "expect"], {"status": 201, "body": "problem"}),
        (["cases", 0, "clause"], "NOPE"),
        (["cases"], []),
    ],
    ids=["bad-hex", "expect-without-body", "201-problem", "bad-clause", "too-few-cases"],
)
def test_the_schema_refuses_a_broken_corpus(path: list[str | int], value: object) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    broken = copy.deepcopy(raw_document())
    target: object = broken
    for step in path[:-1]:
        target = target[step]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


@pytest.mark.parametrize("case", _params())
def test_hostile_case(case: Case, reference_server: ReferenceServer) -> None:
    if case.rss_growth_max_mib is not None:
        sampler = RssSampler(reference_server.server.proc.pid)
        sampler.start()
        result = _send(case, reference_server, stop_on_answer=False)
        growth_kib = sampler.stop()
        print(f"{case.id}: pushed {result.sent / MIB:.1f} MiB in {result.elapsed:.2f}s, RSS growth {growth_kib} KiB")
        assert result.sent >= case.body.size, f"the server stopped reading ({result.send_error})"
        assert growth_kib < case.rss_growth_max_mib * 1024
    else:
        result = _send(case, reference_server)
    _assert_answer(case, result, reference_server)
    _assert_still_creates(reference_server)

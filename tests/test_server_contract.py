"""Every clause the reference server must obey, as a table of requests and expected answers.

Each case names its clause, sends real bytes to a real server, and asserts the status,
the content type and (for body errors) the JSON pointer of the offending field. Every
response is also validated against the spec with openapi-core.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from billing_kit.conformance.contract import load_contract
from tests.support.openapi_check import assert_conforms
from tests.support.reference import ReferenceServer

CONTRACT = load_contract()
LIMIT = CONTRACT.body_bytes_limit
DEPTH = CONTRACT.nesting_depth_limit
NAME_MAX = CONTRACT.max_lengths["name"]
IDEM_MAX = CONTRACT.idempotency_key_max_length
PROBLEM = "application/problem+json"
JSON = "application/json"
EMAIL = "jane@example.com"
SANDBOX, LIVE = "{sandbox}", "{live}"


@dataclass(frozen=True)
class Case:
    id: str
    clause: str
    status: int
    body: bytes | dict[str, Any] | None = None  # a dict is sent as compact JSON
    auth: str | None = f"Bearer {SANDBOX}"
    content_type: str | None = JSON
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    pointer: str | None = None  # the offending field, for body errors
    echo: bool = False  # 201: the body's fields come back exactly


def nested(depth: int) -> bytes:
    """A body whose deepest container is at `depth` (the top-level object is 1)."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"email":"{EMAIL}","metadata":{{"x":{inner or "0"}}}}}'.encode()


def raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


CASES = [
    # AUTH-1/2/3
    Case("auth-sandbox-key", "AUTH-1", 201, {"email": EMAIL}),
    Case("auth-live-key", "AUTH-1", 201, {"email": EMAIL}, auth=f"Bearer {LIVE}"),
    Case("auth-scheme-case-insensitive", "AUTH-1", 201, {"email": EMAIL}, auth=f"bearer {SANDBOX}"),
    Case("auth-missing", "AUTH-2", 401, {"email": EMAIL}, auth=None),
    Case("auth-basic", "AUTH-2", 401, {"email": EMAIL}, auth="Basic dXNlcjpwYXNz"),
    Case("auth-empty-token", "AUTH-2", 401, {"email": EMAIL}, auth="Bearer"),
    Case("auth-bare-key", "AUTH-2", 401, {"email": EMAIL}, auth=SANDBOX),
    Case("auth-pk-prefix", "AUTH-2", 401, {"email": EMAIL}, auth="Bearer pk_live_" + "a" * 32),
    Case("auth-sk-prod-prefix", "AUTH-2", 401, {"email": EMAIL}, auth="Bearer sk_prod_" + "a" * 32),
    Case("auth-unknown-key", "AUTH-2", 401, {"email": EMAIL}, auth="Bearer sk_test_" + "A1" * 16),
    Case("auth-unknown-live-key", "AUTH-2", 401, {"email": EMAIL}, auth="Bearer sk_live_" + "Z9" * 16),
    Case("auth-key-twice", "AUTH-2", 401, {"email": EMAIL}, auth=f"Bearer {SANDBOX} {SANDBOX}"),
    # REQ-EMAIL
    Case("email-missing", "REQ-EMAIL-1", 400, {"name": "x"}, pointer="/email"),
    Case("email-null", "REQ-EMAIL-1", 400, {"email": None}, pointer="/email"),
    Case("email-number", "REQ-EMAIL-1", 400, {"email": 5}, pointer="/email"),
    Case("email-plain-tagged", "REQ-EMAIL-2", 201, {"email": "O'Brien+tag@mail.example.com"}, echo=True),
    Case("email-specials", "REQ-EMAIL-2", 201, {"email": "a!#$%&'*+/=?^_`{|}~-b@example.org"}, echo=True),
    Case("email-subdomain", "REQ-EMAIL-2", 201, {"email": "x@a-b.c1.example.net"}, echo=True),
    Case("email-case-kept", "REQ-EMAIL-2", 201, {"email": "Jane.Doe@Example.COM"}, echo=True),
    Case("email-empty", "REQ-EMAIL-3", 400, {"email": ""}, pointer="/email"),
    Case("email-no-at", "REQ-EMAIL-3", 400, {"email": "jane.example.com"}, pointer="/email"),
    Case("email-two-ats", "REQ-EMAIL-3", 400, {"email": "a@b@example.com"}, pointer="/email"),
    Case("email-empty-domain", "REQ-EMAIL-3", 400, {"email": "a@"}, pointer="/email"),
    Case("email-empty-local", "REQ-EMAIL-3", 400, {"email": "@example.com"}, pointer="/email"),
    Case("email-leading-space", "REQ-EMAIL-3", 400, {"email": " a@example.com"}, pointer="/email"),
    Case("email-trailing-newline", "REQ-EMAIL-3", 400, {"email": "a@example.com\n"}, pointer="/email"),
    Case("email-inner-tab", "REQ-EMAIL-3", 400, {"email": "a\t@example.com"}, pointer="/email"),
    Case("email-double-dot-domain", "REQ-EMAIL-3", 400, {"email": "a@b..com"}, pointer="/email"),
    Case("email-dot-domain", "REQ-EMAIL-3", 400, {"email": "a@.com"}, pointer="/email"),
    Case("email-trailing-dot-domain", "REQ-EMAIL-3", 400, {"email": "a@com."}, pointer="/email"),
    # REQ-LEN
    Case("name-max-ascii", "REQ-LEN-1", 201, {"email": EMAIL, "name": "a" * NAME_MAX}, echo=True),
    Case("name-over-ascii", "REQ-LEN-1", 400, {"email": EMAIL, "name": "a" * (NAME_MAX + 1)}, pointer="/name"),
    Case("name-max-astral", "REQ-LEN-1", 201, {"email": EMAIL, "name": "\U0001f600" * NAME_MAX}, echo=True),
    Case(
        "name-over-astral", "REQ-LEN-1", 400, {"email": EMAIL, "name": "\U0001f600" * (NAME_MAX + 1)}, pointer="/name"
    ),
    Case("name-combining-max", "REQ-LEN-1", 201, {"email": EMAIL, "name": "e\u0301" * (NAME_MAX // 2)}, echo=True),
    Case(
        "name-combining-over",
        "REQ-LEN-1",
        400,
        {"email": EMAIL, "name": "e\u0301" * (NAME_MAX // 2) + "e"},
        pointer="/name",
    ),
    Case("name-empty", "REQ-LEN-1", 201, {"email": EMAIL, "name": "", "external_id": ""}, echo=True),
    Case(
        "external-id-over",
        "REQ-LEN-1",
        400,
        {"email": EMAIL, "external_id": "x" * (NAME_MAX + 1)},
        pointer="/external_id",
    ),
    Case("name-null", "REQ-LEN-2", 400, {"email": EMAIL, "name": None}, pointer="/name"),
    Case("external-id-null", "REQ-LEN-2", 400, {"email": EMAIL, "external_id": None}, pointer="/external_id"),
    Case("name-number", "REQ-LEN-2", 400, {"email": EMAIL, "name": 12}, pointer="/name"),
    Case("external-id-bool", "REQ-LEN-2", 400, {"email": EMAIL, "external_id": True}, pointer="/external_id"),
    # REQ-META
    Case(
        "metadata-any-values",
        "REQ-META-1",
        201,
        {"email": EMAIL, "metadata": {"s": "x", "i": 1, "f": 1.5, "b": True, "n": None, "l": [1, "a"], "o": {"k": {}}}},
        echo=True,
    ),
    Case("metadata-array", "REQ-META-1", 400, {"email": EMAIL, "metadata": []}, pointer="/metadata"),
    Case("metadata-string", "REQ-META-1", 400, {"email": EMAIL, "metadata": "plan"}, pointer="/metadata"),
    Case("metadata-number", "REQ-META-1", 400, {"email": EMAIL, "metadata": 1}, pointer="/metadata"),
    Case("metadata-null", "REQ-META-1", 400, {"email": EMAIL, "metadata": None}, pointer="/metadata"),
    Case("unknown-field", "REQ-UNKNOWN-1", 400, {"email": EMAIL, "emial": "x"}, pointer="/emial"),
    # REQ-TEXT
    Case("nul-in-name", "REQ-TEXT-1", 400, {"email": EMAIL, "name": "a\u0000b"}, pointer="/name"),
    Case(
        "nul-in-metadata-key",
        "REQ-TEXT-1",
        400,
        {"email": EMAIL, "metadata": {"a\u0000": 1}},
        pointer="/metadata/a\u0000",
    ),
    Case("surrogate-in-name", "REQ-TEXT-1", 400, raw('{"email":"a@example.com","name":"\\ud800"}'), pointer="/name"),
    Case(
        "surrogate-in-metadata-value",
        "REQ-TEXT-1",
        400,
        raw('{"email":"a@example.com","metadata":{"k":["ok","x\\udfff"]}}'),
        pointer="/metadata/k/1",
    ),
    Case(
        "surrogate-in-metadata-key",
        "REQ-TEXT-1",
        400,
        raw('{"email":"a@example.com","metadata":{"\\uD83D":1}}'),
        pointer="/metadata/\ud83d",
    ),
    Case("surrogate-in-email", "REQ-TEXT-1", 400, raw('{"email":"\\udc00@example.com"}'), pointer="/email"),
    Case("surrogate-pair-escaped-ok", "REQ-TEXT-1", 201, raw('{"email":"a@example.com","name":"\\ud83d\\ude00"}')),
    # REQ-BODY
    Case("malformed", "REQ-BODY-1", 400, b'{"email": ', pointer=""),
    Case("trailing-garbage", "REQ-BODY-1", 400, b'{"email":"a@example.com"} x', pointer=""),
    Case("nan", "REQ-BODY-1", 400, b'{"email":"a@example.com","metadata":{"x":NaN}}', pointer="/metadata/x"),
    Case("infinity", "REQ-BODY-1", 400, b'{"email":"a@example.com","metadata":{"x":-Infinity}}', pointer="/metadata/x"),
    Case("not-utf8", "REQ-BODY-1", 400, b'{"email":"\xff@example.com"}', pointer=""),
    Case("overlong-utf8", "REQ-BODY-1", 400, b'{"email":"a\xc0\xafb@example.com"}', pointer=""),
    Case("encoded-surrogate-utf8", "REQ-BODY-1", 400, b'{"email":"a@example.com","name":"\xed\xa0\x80"}', pointer=""),
    Case("latin1-body", "REQ-BODY-1", 400, '{"email":"a@example.com","name":"José"}'.encode("latin-1"), pointer=""),
    Case("top-level-array", "REQ-BODY-1", 400, b'[{"email":"a@example.com"}]', pointer=""),
    Case("top-level-string", "REQ-BODY-1", 400, b'"a@example.com"', pointer=""),
    Case("top-level-null", "REQ-BODY-1", 400, b"null", pointer=""),
    Case("empty-body", "REQ-BODY-1", 400, b"", pointer=""),
    Case("depth-at-limit", "REQ-BODY-1", 201, nested(DEPTH)),
    Case("depth-over-limit", "REQ-BODY-1", 400, nested(DEPTH + 1), pointer=""),
    Case("depth-100000", "REQ-BODY-1", 400, b'{"email":"a@example.com","metadata":' + b"[" * 100_000, pointer=""),
    Case("brackets-in-strings-not-depth", "REQ-BODY-1", 201, {"email": EMAIL, "name": "[" * 200}),
    Case("bom", "REQ-BODY-1", 400, b'\xef\xbb\xbf{"email":"a@example.com"}', pointer=""),
    Case(
        "duplicate-top-key", "REQ-BODY-3", 400, b'{"email":"a@example.com","email":"b@example.com"}', pointer="/email"
    ),
    Case(
        "duplicate-metadata-key",
        "REQ-BODY-3",
        400,
        b'{"email":"a@example.com","metadata":{"a":1,"b":2,"a":3}}',
        pointer="/metadata/a",
    ),
    Case(
        "digits-5000",
        "REQ-BODY-3",
        400,
        b'{"email":"a@example.com","metadata":{"n":' + b"9" * 5000 + b"}}",
        pointer="/metadata/n",
    ),
    Case(
        "exp-999999", "REQ-BODY-3", 400, b'{"email":"a@example.com","metadata":{"n":1e999999}}', pointer="/metadata/n"
    ),
    Case(
        "underflow", "REQ-BODY-3", 400, b'{"email":"a@example.com","metadata":{"n":1e-999999}}', pointer="/metadata/n"
    ),
    Case("int-2-53", "RES-ECHO-1", 201, {"email": EMAIL, "metadata": {"n": 2**53, "m": -(2**53)}}, echo=True),
    Case("int-over-2-53", "REQ-BODY-3", 400, {"email": EMAIL, "metadata": {"n": 2**53 + 1}}, pointer="/metadata/n"),
    Case("zero-float", "RES-ECHO-1", 201, b'{"email":"a@example.com","metadata":{"z":0.0,"e":0e10,"s":-0.0}}'),
    # REQ-BODY-2: media type and size
    Case("no-content-type", "REQ-BODY-2", 415, {"email": EMAIL}, content_type=None),
    Case("text-plain", "REQ-BODY-2", 415, {"email": EMAIL}, content_type="text/plain"),
    Case("form", "REQ-BODY-2", 415, b"email=a%40example.com", content_type="application/x-www-form-urlencoded"),
    Case("charset-foo", "REQ-BODY-2", 415, {"email": EMAIL}, content_type="application/json; charset=foo"),
    Case("charset-latin1", "REQ-BODY-2", 415, {"email": EMAIL}, content_type="application/json; charset=iso-8859-1"),
    Case("charset-utf8", "REQ-BODY-2", 201, {"email": EMAIL}, content_type="application/json; charset=utf-8"),
    Case("charset-quoted-upper", "REQ-BODY-2", 201, {"email": EMAIL}, content_type='Application/JSON; charset="UTF-8"'),
    Case("json-suffix-type", "REQ-BODY-2", 415, {"email": EMAIL}, content_type="application/merge-patch+json"),
    Case("over-limit-announced", "REQ-BODY-2", 413, b'{"email":"a@example.com","name":"' + b"a" * LIMIT + b'"}'),
    Case(
        "at-limit-parsed",
        "REQ-BODY-2",
        400,
        b'{"email":"a@example.com","name":"' + b"a" * (LIMIT - 40) + b'"}',
        pointer="/name",
    ),
    # ERR-4
    Case("get", "ERR-4", 405, None, method="GET", content_type=None),
    Case("put", "ERR-4", 405, {"email": EMAIL}, method="PUT"),
    Case("delete", "ERR-4", 405, None, method="DELETE", content_type=None),
    Case("patch", "ERR-4", 405, {"email": EMAIL}, method="PATCH"),
    # IDEM-3: the header's own limits
    Case("idem-key-max", "IDEM-3", 201, {"email": EMAIL}, headers={"Idempotency-Key": "k" * IDEM_MAX}),
    Case("idem-key-over", "IDEM-3", 400, {"email": EMAIL}, headers={"Idempotency-Key": "k" * (IDEM_MAX + 1)}),
    Case("idem-key-empty", "IDEM-3", 400, {"email": EMAIL}, headers={"Idempotency-Key": ""}),
]


def _body(case: Case) -> bytes:
    if isinstance(case.body, dict):
        return json.dumps(case.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return case.body or b""


def _headers(case: Case, server: ReferenceServer) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in case.headers.items()]
    if case.auth is not None:
        auth = case.auth.replace(SANDBOX, server.sandbox_key).replace(LIVE, server.live_key)
        headers.append(("Authorization", auth))
    if case.content_type is not None:
        headers.append(("Content-Type", case.content_type))
    return headers


def _unique_idempotency(case: Case, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # A fixed Idempotency-Key would replay across runs of the session; keep the length, vary the value.
    import secrets

    out = []
    for name, value in headers:
        if name == "Idempotency-Key" and value:
            value = (secrets.token_hex(8) + value)[: len(value)]
        out.append((name, value))
    return out


@pytest.fixture(scope="module")
def client(reference_server: ReferenceServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=reference_server.base_url, timeout=30) as session:
        yield session


@pytest.mark.parametrize("case", CASES, ids=[f"{c.clause}:{c.id}" for c in CASES])
def test_clause(case: Case, client: httpx.Client, reference_server: ReferenceServer) -> None:
    headers = _unique_idempotency(case, _headers(case, reference_server))
    response = client.request(case.method, "/customers", content=_body(case), headers=headers)

    assert response.status_code == case.status, response.text[:500]
    expected_type = JSON if case.status < 300 else PROBLEM
    assert response.headers["content-type"].split(";")[0] == expected_type
    body = assert_conforms(response)
    if case.status >= 400:
        assert body["status"] == case.status
        assert len(response.content) < 2000, "an error must not echo a long submitted value (ERR-3)"
        assert reference_server.sandbox_key not in response.text
        assert reference_server.live_key not in response.text
    if case.pointer is not None:
        assert case.pointer in [e["pointer"] for e in body.get("errors", [])], body
    if case.status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if case.status == 405:
        assert response.headers["allow"] == "POST"
    if case.status == 201:
        _assert_created(case, body)


def _assert_created(case: Case, body: dict[str, Any]) -> None:
    assert set(CONTRACT.response_fields) <= set(body)
    assert CONTRACT.is_valid_id(body["id"])
    expected_env = "live" if case.auth and LIVE in case.auth else "sandbox"
    assert body["environment"] == expected_env
    assert body["created_at"] == body["updated_at"]
    if case.echo:
        sent = json.loads(_body(case))
        assert body["email"] == sent["email"]
        assert body["name"] == sent.get("name")
        assert body["external_id"] == sent.get("external_id")
        assert body["metadata"] == sent.get("metadata", {})


def test_chunked_body_over_the_limit_gets_413(client: httpx.Client, reference_server: ReferenceServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email":"a@example.com","name":"'
        for _ in range(2 * LIMIT // 65536):
            yield b"a" * 65536
        yield b'"}'

    headers = {"Authorization": f"Bearer {reference_server.sandbox_key}", "Content-Type": JSON}
    response = client.post("/customers", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert_conforms(response)


def test_the_key_in_the_query_string_is_ignored(client: httpx.Client, reference_server: ReferenceServer) -> None:
    response = client.post("/customers", params={"api_key": reference_server.sandbox_key}, json={"email": EMAIL})
    assert response.status_code == 401
    assert_conforms(response)


def test_the_same_key_makes_the_same_org_and_distinct_ids(
    client: httpx.Client, reference_server: ReferenceServer
) -> None:
    headers = {"Authorization": f"Bearer {reference_server.sandbox_key}"}
    bodies = [assert_conforms(client.post("/customers", json={"email": EMAIL}, headers=headers)) for _ in range(5)]
    assert len({b["id"] for b in bodies}) == 5
    assert len({b["org_id"] for b in bodies}) == 1
    assert all(b["name"] is None and b["external_id"] is None and b["metadata"] == {} for b in bodies)


def test_the_server_still_creates_after_the_hostile_cases(
    client: httpx.Client, reference_server: ReferenceServer
) -> None:
    response = client.post(
        "/customers", json={"email": EMAIL}, headers={"Authorization": f"Bearer {reference_server.live_key}"}
    )
    assert response.status_code == 201
    assert assert_conforms(response)["environment"] == "live"

"""The client's promises, one test each: caps, no decoding, retention, redaction, Retry-After, a stopped target, rate.

The servers are tests/servers/hostile_server.py in one mode each (real processes
on loopback ports). No assertion depends on how fast the machine is: caps are
bytes, the rate test asserts a lower bound on time that load can only lengthen.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from billing_kit.conformance import jsonsafe
from billing_kit.conformance.http import (
    RESPONSE_CAP,
    RETAIN_RECENT,
    RETAINED_BODY,
    Budget,
    Client,
    ClientOptions,
    TargetStopped,
    retry_after_seconds,
)
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.redact import Redactor
from tests.support.hostile_server import hostile_server

KEY = "sk_test_Client0123456789abcdefXY"


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[str]:
    with hostile_server(request.param) as origin:
        yield f"{origin}/v1"


def client_for(base_url: str, timeout: float = 2.0, rate: float | None = None) -> Client:
    return Client(ClientOptions(base_url=base_url, timeout=timeout, rate=rate), Budget(120), Redactor([KEY]))


def post(client: Client, auth: str = f"Bearer {KEY}") -> Exchange:
    return client.send("POST", "/customers", body=b'{"email": "a@example.com"}', headers=[("Authorization", auth)])


@pytest.mark.parametrize(
    ("hostile", "cut"),
    [("huge-json", "larger than"), ("chunked-forever", "larger than"), ("drip-body", "no answer within")],
    indirect=["hostile"],
)
def test_every_body_read_is_capped_in_bytes_and_time(hostile: str, cut: str) -> None:
    client = client_for(hostile)
    try:
        exchange = client.send("POST", "/customers", body=b"{}")
    finally:
        client.close()
    if exchange.response is not None:
        assert exchange.response.truncated and len(exchange.response.body) <= RESPONSE_CAP
        assert cut in (exchange.response.json_error or "")
    else:
        assert cut in (exchange.error or "")


@pytest.mark.parametrize("hostile", ["drip-headers", "continue-forever"], indirect=True)
def test_the_timeout_is_a_deadline_for_the_whole_exchange(hostile: str) -> None:
    client = client_for(hostile, timeout=1.0)
    try:
        exchange = client.send("POST", "/customers", body=b"{}")
    finally:
        client.close()
    # Each byte or `100 Continue` arrives well within a per-read timeout; the exchange still ends.
    assert exchange.response is None and exchange.error == "no answer within 1.0 s"


@pytest.mark.parametrize("hostile", ["gzip-bomb"], indirect=True)
def test_an_encoding_the_suite_did_not_ask_for_is_kept_undecoded(hostile: str) -> None:
    client = client_for(hostile, timeout=10.0)
    try:
        exchange = client.send("POST", "/customers", body=b"{}")
    finally:
        client.close()
    response = exchange.response
    assert response is not None and response.status == 201
    assert response.body.startswith(b"\x1f\x8b") and len(response.body) <= RESPONSE_CAP
    assert "Content-Encoding: gzip" in (response.json_error or "")
    assert exchange.request.headers == [] and client._http.headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("hostile", ["deep-brackets"], indirect=True)
def test_old_exchanges_keep_an_excerpt_not_the_whole_body(hostile: str) -> None:
    client = client_for(hostile, timeout=10.0)
    try:
        exchanges = [client.send("POST", "/customers", body=b"{}") for _ in range(RETAIN_RECENT + 2)]
    finally:
        client.close()
    sizes = [len(e.response.body) if e.response else -1 for e in exchanges]
    assert sizes[:2] == [RETAINED_BODY, RETAINED_BODY]
    assert sizes[2:] == [1 << 20] * RETAIN_RECENT
    first = exchanges[0].response
    assert first is not None and "nested" in (first.json_error or "")


@pytest.mark.parametrize("hostile", ["echo-auth", "echo-base64"], indirect=True)
def test_an_echoed_key_is_redacted_in_every_form(hostile: str) -> None:
    client = client_for(hostile)
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    try:
        exchanges = [post(client), post(client, basic)]
    finally:
        client.close()
    for exchange in exchanges:
        response = exchange.response
        assert response is not None
        recorded = json.dumps(
            [exchange.request.url, exchange.request.headers, response.headers, repr(response.json)], ensure_ascii=False
        ) + response.body.decode("utf-8", "replace")
        assert KEY[8:20] not in recorded and base64.b64encode(f"{KEY}:".encode()).decode()[:16] not in recorded
    # The key itself, base64-encoded by the server, is noticed (base64 of base64 hides it from anyone).
    assert exchanges[0].response is not None and exchanges[0].response.secret_echoed


@pytest.mark.parametrize("hostile", ["echo-query"], indirect=True)
def test_a_key_in_the_query_string_is_redacted_in_the_recorded_url(hostile: str) -> None:
    client = client_for(hostile)
    try:
        exchange = client.send("POST", f"/customers?api_key={KEY}", body=b"{}")
    finally:
        client.close()
    assert KEY not in exchange.request.url and "api_key=sk_test_…efXY" in exchange.request.url
    assert exchange.response is not None and KEY.encode() not in exchange.response.body


def test_redactor_covers_the_forms_a_key_takes() -> None:
    key = "sk_test_a+b/c=d0123456789QRS"
    redactor = Redactor([key])
    raw = key.encode()
    texts = [
        raw,
        b"Basic " + base64.b64encode(raw + b":"),
        base64.b64encode(b":" + raw),
        base64.b64encode(b"xy" + raw + b"tail"),
        base64.urlsafe_b64encode(b"z" + raw),
        json.dumps(key).encode(),
        "".join(f"\\u{ord(c):04x}" for c in key).encode(),
        b"api_key=sk_test_a%2Bb%2Fc%3Dd0123456789QRS",
        b"api_key=sk_test_a%2bb%2fc%3dd0123456789QRS",
        repr(bytearray(b"illegal header line: " + raw + b"\r")).encode(),
    ]
    for text in texts:
        assert redactor.contains(text), text
        cleaned = redactor.data(text)
        assert b"0123456789" not in cleaned and b"MDEyMzQ1Njc4" not in cleaned, cleaned
    assert redactor.text(f"error: {key}") == "error: sk_test_…9QRS"


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "\uff11", "1e400", "-1", "", "Wed, 99 Foo 2026", "999999999999"])
def test_retry_after_values_that_are_not_seconds_never_crash(value: str) -> None:
    seconds = retry_after_seconds(value)
    assert seconds is None or seconds >= 0


def test_json_depth_is_judged_from_the_parsed_value_in_linear_work() -> None:
    assert jsonsafe.loads(b"[" * (1 << 20))[1] == "nested too deep for the parser (the suite reads at most 512)"
    assert "nested more than 512" in (jsonsafe.loads(b"[" * 600 + b"]" * 600)[1] or "")
    assert jsonsafe.loads(b"[" * 512 + b"]" * 512)[1] is None
    assert jsonsafe.nesting_depth({"a": [{"b": []}], "c": 1}) == 4
    wide = [[i] for i in range(200_000)]
    assert jsonsafe.nesting_depth(wide) == 2
    shrunk = jsonsafe.shrink({"s": "x" * 5000, "l": list(range(1000))})
    assert len(shrunk["s"]) == jsonsafe.SHRUNK_STRING + 1 and len(shrunk["l"]) == jsonsafe.SHRUNK_ITEMS


def test_a_number_past_what_an_int_holds_is_kept_rounded_and_written_as_a_number() -> None:
    digits = b"9" * 1_000_000
    parsed, why = jsonsafe.loads(b'{"n": ' + digits + b', "f": -1.5e400, "i": 123}')
    assert why is None
    shrunk = jsonsafe.shrink(parsed)
    # Still a number of the same sign and size, in a few hundred bytes instead of 400 KiB.
    assert shrunk["n"] > 10**4000 and len(str(shrunk["n"])) < 100 and sys.getsizeof(shrunk["n"]) < 1000
    assert shrunk["f"] == parsed["f"] and shrunk["i"] == 123
    assert (
        jsonsafe.dumps(shrunk)
        == '{"n": 1.' + "0" * (jsonsafe.SHRUNK_DIGITS - 1) + 'E+1000000, "f": -1.5E+400, "i": 123}'
    )
    assert jsonsafe.dumps(parsed).startswith('{"n": 999')
    value = {"a": [1, 2.5, None, True, "é\u2028"], "b": {}}
    assert jsonsafe.dumps(value) == json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("hostile", ["crash-mid-run"], indirect=True)
def test_a_target_that_stops_accepting_connections_stops_the_sends(hostile: str) -> None:
    client = client_for(hostile)
    stopped: TargetStopped | None = None
    sent = 0
    try:
        for _ in range(200):
            try:
                client.send("POST", "/customers", body=b"{}", retry=False)
                sent += 1
            except TargetStopped as exc:
                stopped = exc
                break
        with pytest.raises(TargetStopped):
            client.send("POST", "/customers", body=b"{}")
    finally:
        client.close()
    assert stopped is not None and "stopped accepting connections" in str(stopped)
    assert sent < 60  # 40 answered, then a few answerless before the probe (PROBE_AFTER)
    assert client.stopped is stopped


@pytest.mark.parametrize("hostile", ["ok"], indirect=True)
def test_rate_is_shared_by_every_thread(hostile: str) -> None:
    client = client_for(hostile, rate=20.0)
    started = time.monotonic()
    try:
        threads = [threading.Thread(target=lambda: [post(client) for _ in range(5)]) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        client.close()
    # 20 requests at 20/s over 4 threads: the last starts 19 intervals after the first.
    assert time.monotonic() - started >= 19 / 20.0
    assert client.sent == 20

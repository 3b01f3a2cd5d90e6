"""API keys at the reference (AUTH-2, AUTH-3): what a 401 reveals, what the log shows, revocation.

- A 401 for an unknown, a revoked, a malformed or a wrong-prefix key is byte-for-byte the
  same answer (headers but Date, and body), so it never tells whether a key exists.
- The server log shows a key at most as `sk_test_…abcd`, whatever the request carried.
- `billing-kit keys revoke`, run in another process while the server runs, makes the very
  next request with that key a 401 (no cache in the server).
- The database holds only hashes: the secrets never appear in the SQLite file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from billing_kit.conformance.contract import load_contract
from tests.support.reference import ReferenceServer, billing_kit, create_key, start_reference_server

PREFIXES = list(load_contract().key_prefixes)
BODY = {"email": "keys@example.com"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    with start_reference_server(tmp_path_factory.mktemp("keys")) as running:
        yield running


def _post(
    server: ReferenceServer,
    authorization: str,
    extra: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {"Authorization": authorization, **(extra or {})}
    return httpx.post(f"{server.base_url}/customers", json=BODY, headers=headers, params=params, timeout=10)


def _revoke(server: ReferenceServer, secret: str) -> None:
    display = f"{next(p for p in PREFIXES if secret.startswith(p))}…{secret[-4:]}"
    done = billing_kit(["keys", "revoke", display, *server.cli_args()])
    assert done.returncode == 0, done.stderr


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, headers, response.content


def test_a_401_does_not_say_whether_a_key_exists(server: ReferenceServer) -> None:
    revoked = create_key("sandbox", server.data_dir)
    _revoke(server, revoked)
    unknown = PREFIXES[0] + revoked[len(PREFIXES[0]) : -4] + "zzzz"
    presented = {
        "revoked": revoked,
        "unknown": unknown,
        "other-environment-prefix": PREFIXES[1] + revoked[len(PREFIXES[0]) :],
        "short": PREFIXES[0] + "x",
        "malformed": "sk_" + "!" * 30,
        "wrong-prefix": "pk_live_" + revoked[len(PREFIXES[0]) :],
    }
    answers = {name: _answer(_post(server, f"Bearer {secret}")) for name, secret in presented.items()}
    first = answers["revoked"]
    assert first[0] == 401
    for name, answer in answers.items():
        assert answer == first, f"{name} is told apart from a revoked key"
    for secret in presented.values():
        assert secret.encode() not in first[2]


def test_a_key_revoked_by_the_cli_in_another_process_gets_401_at_once(server: ReferenceServer) -> None:
    secret = create_key("live", server.data_dir)
    assert _post(server, f"Bearer {secret}").status_code == 201
    _revoke(server, secret)
    assert _post(server, f"Bearer {secret}").status_code == 401
    assert _post(server, f"Bearer {server.live_key}").status_code == 201  # the others still work


def test_the_log_shows_keys_only_in_display_form(server: ReferenceServer) -> None:
    revoked = create_key("sandbox", server.data_dir)
    _revoke(server, revoked)
    secrets_sent = [server.sandbox_key, server.live_key, revoked, PREFIXES[0] + "Q" * 32]
    for secret in secrets_sent:
        _post(server, f"Bearer {secret}")
        _post(server, f"Bearer {secret}", params={"api_key": secret})
        _post(server, f"Basic {secret}")
        _post(server, f"Bearer {secret}", extra={"Idempotency-Key": secret})
    log = server.server.output()
    for secret in secrets_sent:
        body = secret[len(next(p for p in PREFIXES if secret.startswith(p))) :]
        assert body[:-4] not in log, "more of a key than its last four characters was logged"
        assert f"…{secret[-4:]}" in log
    prefix = "(?:" + "|".join(map(re.escape, PREFIXES)) + ")"
    shown = set(re.findall(prefix + r"[^\s\"]*", log))
    assert shown
    assert all(re.fullmatch(prefix + r"…(?:[A-Za-z0-9]{4})?", s) for s in shown), shown


def test_the_database_holds_no_secret(server: ReferenceServer) -> None:
    secret = create_key("sandbox", server.data_dir)
    assert _post(server, f"Bearer {secret}").status_code == 201
    files = [p for p in Path(server.data_dir).iterdir() if p.name.startswith("billing.sqlite3")]
    assert files
    for path in files:
        assert secret[-12:].encode() not in path.read_bytes()

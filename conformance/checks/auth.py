"""AUTH-1..3: who may create customers, and what a refusal looks like."""

from __future__ import annotations

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.answers import judge_refusal
from billing_kit.conformance.context import API, LIVE, CheckContext, LiveCapReached, RawAuth, describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.redact import mask_key
from billing_kit.conformance.rules import auth as rules
from billing_kit.conformance.rules import exercised


def _sample_body(ctx: CheckContext) -> dict[str, str]:
    return {"email": f"auth-{ctx.nonce}@example.com"}


@check("AUTH-1", order=10)
def valid_key_accepted(ctx: CheckContext) -> None:
    """A valid Bearer key creates a customer in the environment its prefix names."""
    for auth in (API, LIVE):
        key = ctx.key(auth)
        if key is None:
            continue
        try:
            exchange = ctx.require_answer(ctx.send(_sample_body(ctx), auth=auth))
        except LiveCapReached:
            continue
        expected_env = ctx.contract.environment_of_key(key)
        body = exchange.json_body()
        broken = rules.valid_key_refused(auth, exchange.succeeded, describe(exchange))
        if broken is None and isinstance(body, dict):
            broken = rules.environment_not_set(expected_env, body.get("environment"))
        if broken is not None:
            ctx.report(Failure.of(broken, exchange))


NEAR_MISS = "a near miss of the API key"


def _other_char(char: str) -> str:
    """A different character of the same kind (digit, lower, upper), so the key stays well-formed."""
    for alphabet in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        if char in alphabet:
            return alphabet[(alphabet.index(char) + 1) % len(alphabet)]
    return "x" if char != "x" else "y"


def near_misses(key: str, prefixes: list[str]) -> list[tuple[str, str]]:
    """(how, token): well-formed keys one small step from the real one, which a sloppy lookup accepts.

    A lookup on a truncated column accepts the changed, extended and shortened
    keys; a case-insensitive one accepts the case-flipped key.
    """
    prefix = next((p for p in sorted(prefixes, key=len, reverse=True) if key.startswith(p)), "")
    secret = key[len(prefix) :]
    misses = [("its last character changed", key[:-1] + _other_char(key[-1]))]
    flipped = prefix + secret.swapcase() if secret.swapcase() != secret else key.swapcase()
    if flipped != key:
        misses.append(("its letters in the other case", flipped))
    misses.append(("one character appended", key + _other_char(key[-1])))
    if len(secret) > 1:
        misses.append(("its last character removed", key[:-1]))
    return misses


def auth_matrix(ctx: CheckContext) -> list[tuple[str, RawAuth | None, bool, str | None]]:
    """(case, Authorization header or None, may a 400 answer it, the token that must not be echoed).

    The static rows are the corpus auth_matrix; the near misses of the configured key are built here.
    """
    cases: list[tuple[str, RawAuth | None, bool, str | None]] = []
    for case in corpora.load_for_run("auth_matrix", ctx):
        header = RawAuth(case.auth["raw"]) if isinstance(case.auth, dict) else None
        cases.append((case.description, header, 400 in case.status, corpora.secret_of(case)))
    api_key = ctx.config.api_key
    if api_key and not ctx.config.case:  # `--case ID` sends that corpus case alone
        for how, token in near_misses(api_key, list(ctx.contract.key_prefixes)):
            # Secrets of the run like the key itself: redacted, shown as the key's mask.
            ctx.client.redactor.add(token, f"{mask_key(api_key)}<{how}>")
            cases.append((f"{NEAR_MISS}: {how}", RawAuth(f"Bearer {token}"), False, token))
    return cases


@check("AUTH-2", "AUTH-3", order=10, needs=(), corpora=("auth_matrix",))
def refused_keys(ctx: CheckContext) -> None:
    """The auth matrix: every missing, malformed or unknown key gets 401 and creates nothing."""
    for case, header, may_400, token in auth_matrix(ctx):
        exchange = ctx.send(_sample_body(ctx), auth=header)
        if exchange.error and exchange.error.startswith("not sent"):
            continue
        if not exercised.answered(exchange):
            continue  # no answer judges no clause but ERR-2
        if exercised.server_error(exchange):
            ctx.report(Failure.of(rules.not_refused(case, describe(exchange)), exchange))
            continue
        judge_refusal(ctx, case, exchange, may_400, token, curl=not case.startswith(NEAR_MISS))
    if ctx.config.api_key and not ctx.config.case:
        # A key in the query string is ignored: without a header the request is still unauthenticated.
        exchange = ctx.send(_sample_body(ctx), auth=None, path=f"/customers?api_key={ctx.config.api_key}")
        label = "the key in the query string"
        if exercised.server_error(exchange):
            ctx.report(Failure.of(rules.not_refused(label, describe(exchange)), exchange))
        elif exchange.ok:
            judge_refusal(ctx, label, exchange, False, None)

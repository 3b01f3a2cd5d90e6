"""AUTH-2: tokens a key table written as a plain object or dict finds although nobody issued them.

`keys[token]` on a JavaScript object finds `constructor`, `__proto__`,
`toString`, ... in every table (they live on Object.prototype), and a lookup
that stringifies a missing value matches `undefined`, `null` or `None`. The
cases are data (corpora/auth_tokens.json, prefixes as placeholders); each is
judged exactly as the auth matrix judges a refusal.
"""

from __future__ import annotations

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.answers import judge_refusal
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.rules import exercised

CORPUS = "auth_tokens"


@check("AUTH-2", "AUTH-3", order=11, needs=(), corpora=(CORPUS,))
def prototype_tokens(ctx: CheckContext) -> None:
    """Tokens named after Object.prototype members and null values (`constructor`, `None`): 401, nothing created."""
    for case in corpora.load_for_run(CORPUS, ctx):
        exchange = corpora.send_case(ctx, case)
        label = f"{case.id}: {case.description}"
        if not exercised.answered(exchange):
            continue  # no answer is no evidence about the token (ERR-2 judges the dropped request)
        if exercised.server_error(exchange):
            # A 5xx here is the lookup crashing on the token: a refusal that did not happen.
            ctx.violation(
                "AUTH-2", f"{label}: not refused", expected="401", actual=describe(exchange), exchange=exchange
            )
            continue
        # Every case is `Bearer <token>`, so a 400 is not allowed (may_400 False); the token must not be echoed.
        token = case.auth["raw"].partition(" ")[2] if isinstance(case.auth, dict) else None
        judge_refusal(ctx, label, exchange, False, token)

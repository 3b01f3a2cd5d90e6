"""AUTH-1..3: who may create customers, and what a refusal looks like.

- AUTH-1  a valid Bearer key in the Authorization header is accepted, in the
          environment its prefix names; a key anywhere else is not a key.
- AUTH-2  a missing, malformed or unknown key gets 401 (400 where a case allows it), never a customer.
- AUTH-3  a 401 carries a Bearer challenge and does not echo the key.
"""

from __future__ import annotations

from billing_kit.conformance.rules.across import Broken

AUTH_1 = "AUTH-1"
AUTH_2 = "AUTH-2"
AUTH_3 = "AUTH-3"
REFUSED = 401


def valid_key_refused(auth: str, accepted: bool, shown: str) -> Broken | None:
    """AUTH-1: a create with the valid `auth` key (api, live) was not accepted (a 2xx)."""
    if accepted:
        return None
    return Broken(AUTH_1, f"a valid {auth} key was refused", "201", shown)


def environment_not_set(expected: str | None, actual: object) -> Broken | None:
    """AUTH-1: the customer a valid key created is not in the environment its prefix names."""
    if actual == expected:
        return None
    return Broken(
        AUTH_1, "the key's prefix does not set the environment", f"environment {expected!r}", f"environment {actual!r}"
    )


def not_refused(case: str, shown: str) -> Broken:
    """AUTH-2: a request without a usable key answered with a 5xx, not a refusal."""
    return Broken(AUTH_2, f"{case}: not refused", str(REFUSED), shown)


def key_in_query() -> Broken:
    """AUTH-1, the client's: a key sent in the query string, where it is no key and leaks into logs."""
    return Broken(
        AUTH_1,
        "the client sent its key in the query string",
        "Authorization: Bearer <key>",
        "the key in the URL's query",
    )

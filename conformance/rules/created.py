"""The body of a created customer: what it breaks, field by field, written once.

Given the parsed body of a 2xx to a create (and, for the echo, what was sent), these
rules yield what is broken as `Broken` (clause, title, expected, actual):

- `fields`: RES-1 (media type, the nine fields), RES-ID-1, RES-ENV-1 (for the key
  used), RES-ORG-1 (a non-empty string) and RES-TIME-1 (`times`);
- `echoes`: RES-ECHO-1 for every field sent, RES-1 for the defaults of those not sent;
- `clock`: RES-TIME-2, `created_at` against the checker's clock.

The targeted checks, the generic phase, the deep rounds, replay, the proxy and
`judge` all call them (through `checks/response.py`'s wrappers, which add the
exchange as evidence), so a created customer is judged the same way wherever it
was seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any, Final

from billing_kit.conformance.contract import Contract
from billing_kit.conformance.rules import echo
from billing_kit.conformance.rules.across import Broken

RES_1: Final = "RES-1"
RES_ID_1: Final = "RES-ID-1"
RES_ECHO_1: Final = "RES-ECHO-1"
RES_ENV_1: Final = "RES-ENV-1"
RES_TIME_1: Final = "RES-TIME-1"
RES_TIME_2: Final = "RES-TIME-2"
RES_ORG_1: Final = "RES-ORG-1"
RFC3339: Final = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII)
ECHOED: Final = ("email", "name", "external_id", "metadata")
TIMES: Final = ("created_at", "updated_at")
JSON_MEDIA_TYPE: Final = "application/json"


def short(value: Any, limit: int = 120) -> str:
    """A value as evidence: its repr, cut at `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time with an offset (the whole string), or None."""
    if not isinstance(value, str) or RFC3339.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        return None


def fields(
    contract: Contract,
    body: dict[str, Any],
    *,
    status: int,
    media_type: str | None,
    content_type: str | None,
    key_env: str | None,
) -> Iterator[Broken]:
    """The customer representation a 2xx carries, judged for the key that was used, most basic first."""
    if media_type != JSON_MEDIA_TYPE:
        yield Broken(RES_1, f"the {status} is not {JSON_MEDIA_TYPE}", JSON_MEDIA_TYPE, content_type or "none")
    missing = [name for name in contract.response_fields if name not in body]
    if missing:
        expected = "all of " + ", ".join(contract.response_fields)
        yield Broken(RES_1, f"fields missing: {', '.join(missing)}", expected, "present: " + ", ".join(sorted(body)))
    if "id" in body and not contract.is_valid_id(body["id"]):
        yield Broken(RES_ID_1, "id does not match the whole pattern", contract.id_pattern, short(body["id"]))
    if "environment" in body:
        env = body["environment"]
        if env not in contract.environments:
            yield Broken(RES_ENV_1, "environment not in the enum", " or ".join(contract.environments), short(env))
        elif key_env is not None and env != key_env:
            yield Broken(RES_ENV_1, f"a {key_env} key got a {env} customer", key_env, short(env))
    if "org_id" in body and (not isinstance(body["org_id"], str) or not body["org_id"]):
        yield Broken(RES_ORG_1, "org_id is not a non-empty string", "a non-empty string", short(body["org_id"]))
    yield from times(body)


def times(body: dict[str, Any]) -> Iterator[Broken]:
    """RES-TIME-1: both stamps RFC 3339 with an offset, and equal on create."""
    parsed = {}
    for name in TIMES:
        if name not in body:
            continue
        value = parse_time(body[name])
        if value is None:
            yield Broken(
                RES_TIME_1,
                f"{name} is not an RFC 3339 date-time with offset",
                "e.g. 2025-01-15T12:00:00Z",
                short(body[name]),
            )
        else:
            parsed[name] = value
    if len(parsed) == len(TIMES) and parsed["created_at"] != parsed["updated_at"]:
        yield Broken(
            RES_TIME_1,
            "created_at and updated_at differ on create",
            short(body["created_at"]),
            short(body["updated_at"]),
        )


def echoes(
    contract: Contract,
    sent: dict[str, Any],
    body: dict[str, Any],
    exact: Callable[[Any, Any], bool],
    *,
    numbers_free: bool = False,
    judged_elsewhere: Collection[str] = (),
) -> Iterator[Broken]:
    """RES-ECHO-1 for each field sent (`exact`: its equality; `numbers_free`: the request held a number
    outside I-JSON, whose echo is the server's choice); RES-1 for the defaults of the fields not sent.
    `judged_elsewhere`: fields another clause judges the echo of (REQ-TEXT-1's U+0000 strings)."""
    for name in ECHOED:
        if name not in body or name in judged_elsewhere:
            continue
        if name in sent:
            if not echo.echoed(sent[name], body[name], exact, numbers_free=numbers_free):
                yield Broken(RES_ECHO_1, f"{name} not echoed exactly", short(sent[name]), short(body[name]))
        elif name in contract.object_fields and body[name] != {}:
            yield Broken(RES_1, f"{name} not sent but not {{}}", "{}", short(body[name]))
        elif name not in contract.object_fields and name != "email" and body[name] is not None:
            yield Broken(RES_1, f"{name} not sent but not null", "null", short(body[name]))


def clock(body: dict[str, Any], now: datetime, allowed: float) -> Broken | None:
    """RES-TIME-2: `created_at` more than `allowed` seconds from the checker's clock `now`."""
    created = parse_time(body.get("created_at"))
    if created is None:
        return None
    skew = abs((created - now).total_seconds())
    if skew <= allowed:
        return None
    return Broken(
        RES_TIME_2,
        f"created_at is {skew:.0f} s from the checker's clock",
        f"within {allowed:.0f} s",
        short(body["created_at"]),
    )

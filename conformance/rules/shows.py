"""Which clauses one request to the customers endpoint shows, written once.

A request shows the rules it breaks, and its answer the clauses its status and
body are read for. Every front door that judges an exchange it did not choose for
one clause (the traffic judge; the generic phase's cases) asks these:

- `other_method`: any method but POST shows ERR-4 (405 with `Allow`) and ERR-2.
- `of_request`: each rule the request breaks, ERR-1 when one is a MUST; ERR-2 for
  any request (REQ-TEXT-1 beside them for a text holding NUL).
- `accepted_create`: a request the server must accept shows every response clause of
  a 201 and AUTH-1 (`accepted.ACCEPTED`) and the member rules its body exercises.
- `of_answer`: a 4xx shows ERR-3; a 401 AUTH-2 and AUTH-3; no usable key, AUTH-2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from billing_kit.conformance.rules import accepted
from billing_kit.conformance.rules.auth import AUTH_2, AUTH_3, REFUSED
from billing_kit.conformance.rules.errors import ERR_1, ERR_2, ERR_3, ERR_4, rejected

REQ_BODY_2 = "REQ-BODY-2"  # a body over the x-limits size: 413
REQ_TEXT_1 = "REQ-TEXT-1"  # a NUL in a text field
# The rule each member of a create's body is judged by (REQ-EMAIL-2 for every create: email is required).
MEMBER_CLAUSES: Mapping[str, str] = {
    "email": "REQ-EMAIL-2",
    "name": "REQ-LEN-1",
    "external_id": "REQ-LEN-1",
    "metadata": "REQ-META-1",
}
OTHER_METHOD = frozenset({ERR_2, ERR_4})


def other_method() -> set[str]:
    """A method other than POST: 405 with `Allow: POST` (ERR-4), and never a 5xx (ERR-2)."""
    return set(OTHER_METHOD)


def of_request(breaks: Iterable[tuple[str, str]]) -> set[str]:
    """What a POST shows by what it sends: ERR-2, each (clause, strength) it breaks, ERR-1 when one is a MUST."""
    found = {ERR_2}
    for clause, strength in breaks:
        found.add(clause)
        if strength == "must":
            found.add(ERR_1)
    return found


def accepted_create(value: object) -> set[str]:
    """What a request the server must accept shows: every clause of an accepted create, and its members' rules."""
    members = {MEMBER_CLAUSES["email"]}
    if isinstance(value, dict):
        members |= {clause for member, clause in MEMBER_CLAUSES.items() if member in value}
    return set(accepted.ACCEPTED) | members


def of_answer(status: int, *, key_valid: bool) -> set[str]:
    """What an answer to a POST shows by its status: ERR-3 for a 4xx; AUTH-2 and AUTH-3 for a 401; AUTH-2 alone
    when the request had no usable key and got no 401."""
    found: set[str] = set()
    if rejected(status):
        found.add(ERR_3)
    if status == REFUSED:
        found |= {AUTH_2, AUTH_3}
    elif not key_valid:
        found.add(AUTH_2)
    return found

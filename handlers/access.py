"""The access log's own channel: what a request's line says beyond method, path, status and time.

`AccessLog` (handlers/app.py) puts one `AccessNote` in the scope of each request; whoever
learns something worth logging writes it there: the guard the key (in display form only),
the operation the customer's id. Nothing else travels on it, and nothing reads it but the
access log.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope

SCOPE_KEY = "billing.access"


@dataclass(slots=True)
class AccessNote:
    key: str | None = None  # `sk_test_…abcd`, never the secret
    customer: str | None = None  # the id of the customer created or replayed


def open_note(scope: Scope) -> AccessNote:
    """A blank note for this request, put where the guard and the operation find it."""
    note = scope[SCOPE_KEY] = AccessNote()
    return note


def access_note(scope: Scope) -> AccessNote | None:
    """This request's note, or None when no access log is listening (e.g. a bare guard in a test)."""
    note: AccessNote | None = scope.get(SCOPE_KEY)
    return note

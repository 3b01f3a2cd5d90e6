"""IDEM-1..4: what a second create with one `Idempotency-Key` must get, written once.

Each answer to a keyed create is read as an `Answer`: its status, the customer it
made (an id, or a hash of one; None when it made none) and how a report shows it.
The rules compare the first answer for a key with a later one:

- IDEM-1  the same key and body again: the first answer replayed (same status, same
          customer); a 409 while the first is still in progress.
- IDEM-2  the same key with another body: a conflict (409 or 422), never a customer.
- IDEM-3  requests with one key and body that overlap: one customer, each answer the
          replay or a 409; a refused request is not recorded; the spec's key length.
- IDEM-4  a key is scoped to its API key: under another one, an independent customer.

The suite sends its retries itself, after the first answer, and knows the first id
(`not_a_replay`, `no_conflict`, ...); the traffic judge reads them in a stream, keeps
hashes only and tells a retry from a concurrent request by time alone (`refused_retry`,
`created_retry`, `other_key_replayed`). Both ask the same predicates (`replayed`,
`same_customer`, `conflicting`, `own_customer`); the titles say what each saw.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from billing_kit.conformance.rules.across import Broken

IDEM_1 = "IDEM-1"
IDEM_2 = "IDEM-2"
IDEM_3 = "IDEM-3"
IDEM_4 = "IDEM-4"
CLAUSES = (IDEM_1, IDEM_2, IDEM_3, IDEM_4)
HEADER = "Idempotency-Key"
CREATED = 201
IN_PROGRESS = 409  # the first request with this key is still being answered
CONFLICT_STATUSES: tuple[int, ...] = (IN_PROGRESS, 422)  # what a retry with another body may get
CONFLICT = " or ".join(map(str, CONFLICT_STATUSES))

C = TypeVar("C", bound=Hashable)


@dataclass(frozen=True)
class Answer(Generic[C]):
    """One answer to a keyed create: its status, the customer it made (None: none), how a report shows it."""

    status: int
    customer: C | None = None
    shown: str = ""


def same_customer(first: Answer[C], retry: Answer[C]) -> bool:
    """The retry got the first request's customer back."""
    return retry.customer == first.customer


def replayed(first: Answer[C], retry: Answer[C]) -> bool:
    """IDEM-1: the retry got the first answer again, the same status and the same customer."""
    return retry.status == first.status and same_customer(first, retry)


def conflicting(retry: Answer[C]) -> bool:
    """IDEM-2: another body with the key got a conflict (a 4xx: no customer made)."""
    return retry.status in CONFLICT_STATUSES


def own_customer(first: Answer[C], other: Answer[C]) -> bool:
    """IDEM-4: the key under another API key made a customer of its own."""
    return other.customer is not None and other.customer != first.customer


def retry_clause(*, same_body: bool, overlapped: bool = False) -> str:
    """The clause a second create with one key shows: IDEM-2 (another body), IDEM-3 (overlapping), IDEM-1."""
    if not same_body:
        return IDEM_2
    return IDEM_3 if overlapped else IDEM_1


def overlapping(started: float, first_answered: float) -> bool:
    """Sent before the first one's answer ended (0.0: a time not known, never overlapping)."""
    return 0.0 < started < first_answered


# -- the suite's retries: sent after the first answer, its id known ----------------------------
def not_a_replay(first: Answer[str], retry: Answer[str], *, after: float | None = None) -> Broken | None:
    """IDEM-1: a retry of a create (`after`: seconds since the first answer, for a late one)."""
    if replayed(first, retry):
        return None
    title = (
        "a retry with the same Idempotency-Key and body was not a replay"
        if after is None
        else f"a retry {after:.0f} s after the first request (the contract says 24 hours) was not a replay"
    )
    return Broken(IDEM_1, title, f"HTTP {first.status}, id {first.customer}", retry.shown)


def no_conflict(first: Answer[str], retry: Answer[str]) -> Broken | None:
    """IDEM-2: the key again with another body."""
    if conflicting(retry):
        return None
    how = "a new customer" if retry.customer not in (None, first.customer) else f"not {CONFLICT}"
    return Broken(IDEM_2, f"the same Idempotency-Key with a different body: {how}", CONFLICT, retry.shown)


def customers_of_concurrent(ids: Collection[Hashable], sent: int) -> Broken | None:
    """IDEM-3: `sent` concurrent requests with one key and body made these customers."""
    if len(ids) <= 1:
        return None
    return Broken(
        IDEM_3,
        f"{sent} concurrent requests with one Idempotency-Key created {len(ids)} customers",
        "exactly one id",
        f"{len(ids)} distinct ids",
    )


def concurrent_answer(answer: Answer[C], ids: Collection[C]) -> bool:
    """IDEM-3: one concurrent answer is a 409 or the replayed 201 (an id among those made)."""
    return answer.status == IN_PROGRESS or (answer.status == CREATED and answer.customer in ids)


def odd_concurrent(odd: Collection[Answer[C]], sent: int) -> Broken | None:
    """IDEM-3: the concurrent answers that were neither (the first one shown)."""
    if not odd:
        return None
    return Broken(
        IDEM_3,
        f"{len(odd)} of {sent} concurrent requests got neither the replayed 201 nor a 409",
        f"{CREATED} (the same id) or {IN_PROGRESS}",
        next(iter(odd)).shown,
    )


def failure_recorded(corrected: Answer[C]) -> Broken | None:
    """IDEM-3: the corrected retry of a request refused with the same key made no customer."""
    if corrected.customer is not None:
        return None
    return Broken(
        IDEM_3,
        "the corrected retry of a rejected request was refused: the failure was recorded",
        str(CREATED),
        corrected.shown,
    )


def key_length(length: int, limit: int, *, accepted: bool, shown: str) -> Broken | None:
    """IDEM-3: a key of `length` characters (the spec's maxLength is `limit`) accepted (a 2xx) or not."""
    if length <= limit and not accepted:
        title = f"an Idempotency-Key of {length} characters (the spec's maxLength) refused"
        return Broken(IDEM_3, title, str(CREATED), shown)
    if length > limit and accepted:
        title = f"an Idempotency-Key of {length} characters (over the spec's maxLength {limit}) accepted"
        return Broken(IDEM_3, title, "a 4xx", shown)
    return None


def not_scoped(first: Answer[str], other: Answer[str]) -> Broken | None:
    """IDEM-4: the key again under the live key, after a sandbox create."""
    if own_customer(first, other):
        return None
    return Broken(
        IDEM_4,
        "the same Idempotency-Key under a live key did not make its own customer",
        f"{CREATED} with an id other than {first.customer}",
        other.shown,
    )


# -- retries in a stream of traffic: hashes only, concurrency known by time --------------------
def refused_retry(first: Answer[C], retry: Answer[C], *, same_body: bool, fixes_outcome: bool) -> Broken | None:
    """A later request with the key that made no customer (`fixes_outcome`: its body had to be accepted)."""
    if same_body:
        if retry.status in (first.status, IN_PROGRESS):
            return None
        return Broken(
            IDEM_1,
            "a retry with the same Idempotency-Key and body was not replayed",
            f"HTTP {first.status} replayed (or {IN_PROGRESS} while the first is in progress)",
            retry.shown,
        )
    if conflicting(retry) or not fixes_outcome:
        return None
    return Broken(IDEM_2, "the same Idempotency-Key with another body got no conflict", CONFLICT, retry.shown)


def created_retry(first: Answer[C], retry: Answer[C], *, same_body: bool, overlapped: bool) -> Broken | None:
    """A later request with the key that made a customer: the first one's (a replay), or a break."""
    if not same_body:
        return Broken(IDEM_2, "the same Idempotency-Key with another body was accepted", CONFLICT, retry.shown)
    if same_customer(first, retry):
        return None
    title = (
        "concurrent requests with the same Idempotency-Key and body made two customers"
        if overlapped
        else "a retry with the same Idempotency-Key and body made another customer"
    )
    clause = retry_clause(same_body=True, overlapped=overlapped)
    return Broken(clause, title, "the first answer replayed (same id)", f"{retry.shown} with a new id")


def other_key_replayed(first: Answer[C], other: Answer[C]) -> Broken | None:
    """IDEM-4: a create with a key first seen under another API key got that key's customer."""
    if other.customer is None or own_customer(first, other):
        return None
    return Broken(
        IDEM_4,
        "an Idempotency-Key sent with another API key replayed that key's customer",
        "an independent customer",
        "the other key's customer id",
    )

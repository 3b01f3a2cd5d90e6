"""The clauses across exchanges: RES-ID-2 (ids never repeat) and RES-ORG-1 (one org_id per key).

Pure: the caller keeps what it has seen (a set of ids or of their hashes, the
org_id first seen per key) in whatever bound it can afford, and asks these rules
about the next create; they answer with what is broken, if anything. `check`'s
whole-run judge, the deep rounds and the traffic judge all ask the same rules.
"""

from __future__ import annotations

from collections.abc import Container, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

RES_ID_2 = "RES-ID-2"
RES_ORG_1 = "RES-ORG-1"
H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True)
class Broken:
    """What a rule found broken: the clause, a title the same for every instance, and the evidence."""

    clause: str
    title: str
    expected: str
    actual: str


def repeated_id(seen: Container[H], customer: H, *, replay: bool = False) -> bool:
    """RES-ID-2: a create (not a replay of an earlier one) got an id already seen."""
    return customer in seen and not replay


def duplicate_id(customer_id: str) -> Broken:
    return Broken(RES_ID_2, "two creates got the same id", "distinct ids", f"{customer_id} twice")


def other_org(first: H | None, org: H) -> bool:
    """RES-ORG-1: a create under a key whose first create got another org_id."""
    return first is not None and first != org


def org_differs(org: str) -> Broken:
    """One create whose org_id is not the one its key's earlier creates got."""
    return Broken(
        RES_ORG_1,
        "customers created with the same key have different org_ids",
        "one org_id per key",
        f"org_id {org[:40]!r} differs from this key's earlier one",
    )


def org_ids_of_key(key_ref: str | None, values: Iterable[str], shown: str) -> Broken:
    """Every org_id one key's creates got, when there is more than one (`shown`: their short form)."""
    count = len(set(values))
    return Broken(
        RES_ORG_1, f"customers created with the same {key_ref} key have {count} org_ids", "one org_id per key", shown
    )

"""`rules.across` on its own: what RES-ID-2 and RES-ORG-1 report, field by field (no server)."""

from __future__ import annotations

from billing_kit.conformance import clauses
from billing_kit.conformance.rules import across
from billing_kit.conformance.rules.across import Broken


def test_the_clauses_are_the_registrys() -> None:
    assert clauses.get(across.RES_ID_2).id == across.RES_ID_2
    assert clauses.get(across.RES_ORG_1).id == across.RES_ORG_1


def test_a_duplicate_id_names_the_id_under_one_title() -> None:
    assert across.duplicate_id("cus_1") == Broken(
        across.RES_ID_2, "two creates got the same id", "distinct ids", "cus_1 twice"
    )
    assert across.duplicate_id("cus_2").title == across.duplicate_id("cus_1").title


def test_an_org_that_differs_shows_its_first_40_characters() -> None:
    assert across.org_differs("org_b") == Broken(
        across.RES_ORG_1,
        "customers created with the same key have different org_ids",
        "one org_id per key",
        "org_id 'org_b' differs from this key's earlier one",
    )
    long = "o" * 40 + "TAIL"
    assert across.org_differs(long).actual == f"org_id {'o' * 40!r} differs from this key's earlier one"
    assert across.org_differs(long).title == across.org_differs("org_b").title


def test_the_org_ids_of_one_key_are_counted_once_each() -> None:
    assert across.org_ids_of_key("live", ["b", "a", "b", "c"], "a, b, c") == Broken(
        across.RES_ORG_1, "customers created with the same live key have 3 org_ids", "one org_id per key", "a, b, c"
    )
    assert across.org_ids_of_key(None, iter(["a", "b"]), "a, b").title.endswith("same None key have 2 org_ids")

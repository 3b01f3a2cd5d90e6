"""`billing-kit diff`: every change between two contracts, the clause it touches and whom it breaks.

    walk.py     the raw differences of two spec documents, as JSON pointers
    sites.py    where each part of the contract (request, response, keys, limits…) lives in a spec
    rules.py    one rule per kind of change: clause and party (clients, implementations, neither)
    model.py    Change and Party
    render.py   text, Markdown (a pull-request comment) and JSON
    verdicts.py `diff --check`: both contracts run against one server, verdicts side by side
    cli.py      the command

A difference no rule recognises is listed as unclassified, never dropped.
"""

from __future__ import annotations

from billing_kit.conformance.contract import Contract
from billing_kit.conformance.specdiff.model import ABSENT, Change, Party
from billing_kit.conformance.specdiff.rules import Site, classify, following, show
from billing_kit.conformance.specdiff.sites import Parts, locate, named_fields
from billing_kit.conformance.specdiff.walk import Difference, differences

__all__ = ["ABSENT", "Change", "Party", "diff_contracts"]

DOCUMENT_ROLES: dict[str, Parts] = {"info": ("info",), "tags": ("tags",)}


Roles = list[tuple[str, Parts, Parts]]  # (role, where it lives, the pointer it stands for inside that role)


def _role_of(parts: Parts, roles: Roles) -> tuple[str, Parts]:
    """The part of the contract a pointer falls in (the longest prefix), and the pointer inside it."""
    best: tuple[str, Parts] = ("", parts)
    best_length = -1
    for role, prefix, inside in roles:
        # A named schema added or removed whole is not a change of the field that uses it.
        inside_it = not inside or len(parts) > len(prefix)
        if len(prefix) > best_length and parts[: len(prefix)] == prefix and inside_it:
            best, best_length = (role, (*inside, *parts[len(prefix) :])), len(prefix)
    return best


def _change(difference: Difference, old: Contract, new: Contract, roles: Roles) -> Change:
    role, rest = _role_of(difference.parts, roles)
    site = Site(role, rest, difference.before, difference.after, difference.member, old, new)
    found = classify(site)
    if found is None:
        how = "added" if site.added else "removed" if site.removed else "changed"
        name = difference.parts[-1] if difference.parts else "the document"
        values = f": {show(site.before)} → {show(site.after)}" if not (site.added or site.removed) else ""
        where = f" (in the {role} part)" if role else ""
        return Change(
            difference.pointer,
            difference.before,
            difference.after,
            "unclassified",
            f"`{name}` {how}{values}{where}; no rule knows this kind of change",
            classified=False,
        )
    name, verdict = found
    return Change(
        difference.pointer,
        difference.before,
        difference.after,
        name,
        verdict.summary,
        verdict.clause,
        verdict.breaks,
        also=following(verdict.clause) if verdict.breaks else (),
    )


def diff_contracts(old: Contract, new: Contract) -> list[Change]:
    """Every change from `old` to `new`, in the documents' order."""
    roles: Roles = []
    for contract in (new, old):
        located = locate(contract)
        roles += [(role, prefix, ()) for role, prefix in located.items()] + named_fields(contract, located)
    roles += [(role, prefix, ()) for role, prefix in DOCUMENT_ROLES.items()]
    return [_change(d, old, new, roles) for d in differences(old.spec, new.spec)]

"""One rule per kind of change: which clause it touches and whom it breaks.

A rule is a plain function registered with `@rule(name, role)`; it reads one
difference (`Site`: where it falls inside that part of the contract, the value
before and after, both contracts) and returns a `Verdict`, or None when the
difference is not its kind. The first rule of the role that answers wins; the
text rules (descriptions, examples) are tried for every role last. A difference
no rule recognises is kept as "unclassified", never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billing_kit.conformance import clauses
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.contract import Contract
from billing_kit.conformance.specdiff.model import ABSENT, Party

CLIENTS = (Party.CLIENTS,)
IMPLEMENTATIONS = (Party.IMPLEMENTATIONS,)
BOTH = (Party.CLIENTS, Party.IMPLEMENTATIONS)
NEITHER: tuple[Party, ...] = ()

# Keywords whose lower value narrows what a schema allows, and those whose higher value does.
UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum")
LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum")
TEXT_KEYS = frozenset({"description", "summary", "title"})
EXAMPLE_KEYS = frozenset({"example", "examples"})
# What each x-limits entry bounds: the body's size (413), its depth, else the server's hold on a connection.
LIMIT_CLAUSES = {"body_bytes": "REQ-BODY-2", "nesting_depth": "REQ-BODY-1"}
LIMIT_DEFAULT_CLAUSE = "ERR-2"
# "Every request that breaks a MUST rule of REQ-* or AUTH-* is rejected": it moves with each of them.
MUST_BREAKS_REJECTED = "ERR-1"
FOLLOWED_FAMILIES = ("REQ", "AUTH")


@dataclass(frozen=True)
class Site:
    role: str  # request, response, problem, auth, idempotency, limits, statuses, or "" (elsewhere)
    rest: tuple[str, ...]  # the pointer's tokens inside that part of the contract
    before: Any
    after: Any
    member: bool
    old: Contract
    new: Contract

    @property
    def added(self) -> bool:
        return self.before is ABSENT

    @property
    def removed(self) -> bool:
        return self.after is ABSENT


@dataclass(frozen=True)
class Verdict:
    summary: str
    clause: str | None
    breaks: tuple[Party, ...]


Rule = Callable[[Site], Verdict | None]


@dataclass(frozen=True)
class RegisteredRule:
    name: str
    role: str  # "*" for every role
    judge: Rule
    doc: str


RULES: list[RegisteredRule] = []


def rule(name: str, role: str) -> Callable[[Rule], Rule]:
    def register(judge: Rule) -> Rule:
        RULES.append(RegisteredRule(name, role, judge, (judge.__doc__ or "").strip().splitlines()[0]))
        return judge

    return register


def classify(site: Site) -> tuple[str, Verdict] | None:
    """The first rule of the site's role that recognises it, then the rules for every role."""
    for registered in [r for r in RULES if r.role == site.role] + [r for r in RULES if r.role == "*"]:
        verdict = registered.judge(site)
        if verdict is not None:
            return registered.name, verdict
    return None


def following(clause_id: str | None) -> tuple[str, ...]:
    """The clauses a change to `clause_id` moves too: ERR-1 follows every MUST clause of REQ and AUTH."""
    if clause_id is None or clause_id == MUST_BREAKS_REJECTED:
        return ()
    clause = clauses.get(clause_id)
    return (MUST_BREAKS_REJECTED,) if clause.level is Level.MUST and clause.family in FOLLOWED_FAMILIES else ()


# -- helpers -------------------------------------------------------------------
def _field(site: Site) -> str | None:
    """`name` for a site under `properties/name/...`."""
    return site.rest[1] if len(site.rest) >= 2 and site.rest[0] == "properties" else None


def field_clause(field: str, family: str, fallback: str | None) -> str | None:
    """The first clause of `family` that governs `/field` (the registry's field lists), else `fallback`."""
    for clause in clauses.clauses_for_field(f"/{field}"):
        if clause.family == family:
            return clause.id
    return fallback


def show(value: Any) -> str:
    if value is ABSENT:
        return "absent"
    text = repr(value) if not isinstance(value, str) else f"`{value}`"
    return text if len(text) <= 60 else text[:57] + "…"


def _narrowed(keyword: str, before: Any, after: Any) -> bool:
    """Whether the bound now allows less (a bound added narrows, one removed widens)."""
    if before is ABSENT or after is ABSENT:
        return before is ABSENT
    return bool(after < before) if keyword in UPPER_BOUNDS else bool(after > before)


def _bound(
    site: Site,
    field: str,
    who_narrowed: tuple[Party, ...],
    who_widened: tuple[Party, ...],
    fallback: str | None = None,
) -> Verdict:
    keyword = site.rest[2]
    narrowed = _narrowed(keyword, site.before, site.after)
    family = {"request": "REQ", "response": "RES"}.get(site.role, "ERR")
    clause = "REQ-LEN-1" if keyword in ("maxLength", "minLength") and site.role == "request" else None
    verdict = "narrowed" if narrowed else "widened"
    return Verdict(
        f"`/{field}` {keyword} {show(site.before)} → {show(site.after)} ({verdict})",
        clause or field_clause(field, family, fallback),
        who_narrowed if narrowed else who_widened,
    )


def _is_closed(contract: Contract) -> bool:
    return contract.request_schema.get("additionalProperties") is False


def _allowed(schema: Any) -> Any:
    """What a schema allows: the schema without its descriptions and examples."""
    if isinstance(schema, dict):
        return {k: _allowed(v) for k, v in schema.items() if k not in TEXT_KEYS | EXAMPLE_KEYS}
    return [_allowed(v) for v in schema] if isinstance(schema, list) else schema


def _named(site: Site) -> Verdict | None:
    """A field's schema moved into a named schema (or back) allowing the same: no one breaks."""
    field = _field(site)
    if field is None:
        return None
    allowed, refs = [], []
    for contract in (site.old, site.new):
        schema = contract.request_schema if site.role == "request" else contract.response_schema
        allowed.append(_allowed(schema.get("properties", {}).get(field)))
        refs.append(_raw_property(contract, site.role, field).get("$ref"))
    if None in allowed or refs[0] == refs[1] or allowed[0] != allowed[1]:
        return None
    return Verdict(f"`/{field}` moved to or from a named schema, allowing the same", None, NEITHER)


def _raw_property(contract: Contract, role: str, field: str) -> dict[str, Any]:
    """The field's schema as written (a `$ref` left as it is)."""
    op = contract.operation
    body = contract.resolve(op["requestBody"] if role == "request" else op["responses"]["201"])
    schema = contract.resolve(body["content"]["application/json"]["schema"])
    prop = schema.get("properties", {}).get(field)
    return prop if isinstance(prop, dict) else {}


rule("request-named", "request")(_named)
rule("response-named", "response")(_named)


# -- the request body: what clients may send -----------------------------------
@rule("request-bound", "request")
def request_bound(site: Site) -> Verdict | None:
    """A request field's limit narrowed breaks clients; widened, servers must now accept more."""
    field = _field(site)
    if field is None or len(site.rest) != 3 or site.rest[2] not in UPPER_BOUNDS + LOWER_BOUNDS:
        return None
    return _bound(site, field, CLIENTS, IMPLEMENTATIONS)


@rule("request-required", "request")
def request_required(site: Site) -> Verdict | None:
    """A new required request field breaks clients; a field no longer required, servers that refuse its absence."""
    if site.rest != ("required",) or not site.member:
        return None
    field = str(site.after if site.removed is False else site.before)
    if site.added:
        return Verdict(f"`/{field}` is now required", field_clause(field, "REQ", "ERR-1"), CLIENTS)
    return Verdict(f"`/{field}` is no longer required", field_clause(field, "REQ", "ERR-1"), IMPLEMENTATIONS)


@rule("request-field", "request")
def request_field(site: Site) -> Verdict | None:
    """A request field removed breaks clients that send it; an optional one added, servers that refuse it."""
    if len(site.rest) != 2 or site.rest[0] != "properties":
        return None
    field = site.rest[1]
    if site.removed:
        return Verdict(f"request field `/{field}` removed", "REQ-UNKNOWN-1", CLIENTS)
    if not site.added:
        return None
    if field in site.new.required_request_fields:
        return Verdict(f"required request field `/{field}` added", field_clause(field, "REQ", "ERR-1"), CLIENTS)
    if _is_closed(site.new):
        return Verdict(f"optional request field `/{field}` added", "REQ-UNKNOWN-1", IMPLEMENTATIONS)
    return Verdict(f"optional request field `/{field}` added", None, NEITHER)


@rule("request-format", "request")
def request_format(site: Site) -> Verdict | None:
    """A format or pattern added or changed on a request field is a tightening: clients break."""
    field = _field(site)
    if field is None or len(site.rest) != 3 or site.rest[2] not in ("format", "pattern"):
        return None
    clause = field_clause(field, "REQ", None)
    what = f"`/{field}` {site.rest[2]} {show(site.before)} → {show(site.after)}"
    if site.removed:
        return Verdict(what + " (loosened)", clause, IMPLEMENTATIONS)
    return Verdict(what + " (tightened)", clause, CLIENTS)


@rule("request-enum", "request")
def request_enum(site: Site) -> Verdict | None:
    """A request enum value removed breaks clients; one added must now be accepted by servers."""
    field = _field(site)
    if field is None or site.rest[2:] != ("enum",):
        return None
    clause = field_clause(field, "REQ", None)
    if not site.member:  # the keyword itself: added restricts the field to a list, removed frees it
        if site.added:
            return Verdict(f"`/{field}` restricted to {show(site.after)}", clause, CLIENTS)
        return Verdict(f"`/{field}` no longer restricted to {show(site.before)}", clause, IMPLEMENTATIONS)
    if site.added:
        return Verdict(f"`/{field}` accepts {show(site.after)}", clause, IMPLEMENTATIONS)
    return Verdict(f"`/{field}` no longer accepts {show(site.before)}", clause, CLIENTS)


@rule("request-type", "request")
def request_type(site: Site) -> Verdict | None:
    """A request field's type or nullability changed: whoever relied on the old one breaks."""
    field = _field(site)
    if field is None or len(site.rest) != 3 or site.rest[2] not in ("type", "nullable"):
        return None
    clause = field_clause(field, "REQ", None)
    if site.rest[2] == "nullable":
        if site.after is True:
            return Verdict(f"`/{field}` now accepts null", clause, IMPLEMENTATIONS)
        return Verdict(f"`/{field}` no longer accepts null", clause, CLIENTS)
    return Verdict(f"`/{field}` type {show(site.before)} → {show(site.after)}", clause, BOTH)


@rule("request-closed", "request")
def request_closed(site: Site) -> Verdict | None:
    """Unknown request fields now refused breaks clients; now allowed, servers that refuse them."""
    if site.rest != ("additionalProperties",):
        return None
    if site.after is False:
        return Verdict("unknown request fields are now refused", "REQ-UNKNOWN-1", CLIENTS)
    if site.before is False:
        return Verdict("unknown request fields are now allowed", "REQ-UNKNOWN-1", IMPLEMENTATIONS)
    return None


# -- the answers: the 201 body and the problem document ------------------------
def _answer_rules(role: str, clause: str, family: str) -> None:
    @rule(f"{role}-required", role)
    def required(site: Site) -> Verdict | None:
        """A field added as required breaks servers that omit it; one no longer required, clients that read it."""
        if site.rest != ("required",) or not site.member:
            return None
        if site.added:
            return Verdict(f"{role} field `/{site.after}` is now required", clause, IMPLEMENTATIONS)
        return Verdict(f"{role} field `/{site.before}` is no longer required", clause, CLIENTS)

    @rule(f"{role}-field", role)
    def answer_field(site: Site) -> Verdict | None:
        """A field removed breaks clients that read it; an optional field added breaks no one."""
        if len(site.rest) != 2 or site.rest[0] != "properties":
            return None
        field = site.rest[1]
        if site.removed:
            return Verdict(f"{role} field `/{field}` removed", field_clause(field, family, clause), CLIENTS)
        if site.added:
            return Verdict(f"optional {role} field `/{field}` added", None, NEITHER)
        return None

    @rule(f"{role}-value", role)
    def answer_value(site: Site) -> Verdict | None:
        """A field made nullable or given a new enum value breaks clients (answers they never saw)."""
        field = _field(site)
        if field is None or len(site.rest) != 3:
            return None
        keyword, governing = site.rest[2], field_clause(field, family, clause)
        if keyword == "nullable":
            if site.after is True:
                return Verdict(f"{role} field `/{field}` may now be null", governing, CLIENTS)
            return Verdict(f"{role} field `/{field}` may no longer be null", governing, IMPLEMENTATIONS)
        if keyword == "enum" and site.member:
            if site.added:
                return Verdict(f"`/{field}` may now be {show(site.after)}", governing, CLIENTS)
            return Verdict(f"`/{field}` may no longer be {show(site.before)}", governing, IMPLEMENTATIONS)
        if keyword in ("format", "pattern", "type"):
            what = f"{role} field `/{field}` {keyword} {show(site.before)} → {show(site.after)}"
            if site.added:
                return Verdict(what, governing, IMPLEMENTATIONS)
            if site.removed:
                return Verdict(what, governing, CLIENTS)
            return Verdict(what, governing, BOTH)
        if keyword in UPPER_BOUNDS + LOWER_BOUNDS:
            return _bound(site, field, IMPLEMENTATIONS, CLIENTS, clause)
        return None

    del required, answer_field, answer_value  # registered; kept by RULES


_answer_rules("response", "RES-1", "RES")
_answer_rules("problem", "ERR-3", "ERR")


# -- the operation: limits, keys, the idempotency header, the statuses ---------
@rule("limit", "limits")
def limit(site: Site) -> Verdict | None:
    """An x-limits value lowered breaks clients; raised, servers must now accept more."""
    if len(site.rest) != 1:
        return None
    name = site.rest[0]
    clause = LIMIT_CLAUSES.get(name, LIMIT_DEFAULT_CLAUSE)
    what = f"x-limits.{name} {show(site.before)} → {show(site.after)}"
    lowered = site.added or (not site.removed and site.after < site.before)
    return Verdict(what + (" (lowered)" if lowered else " (raised)"), clause, CLIENTS if lowered else IMPLEMENTATIONS)


@rule("key-prefix", "auth")
def key_prefix(site: Site) -> Verdict | None:
    """A key prefix removed breaks clients holding such keys; one added, servers that refuse it."""
    if site.rest[:1] == ("x-sandbox-environment",) or site.rest[:1] in (("scheme",), ("type",)):
        return Verdict(f"{site.rest[0]} {show(site.before)} → {show(site.after)}", "AUTH-1", BOTH)
    if len(site.rest) != 2 or site.rest[0] != "x-key-prefixes":
        return None
    prefix = site.rest[1]
    if site.removed:
        return Verdict(f"key prefix `{prefix}` removed", "AUTH-1", CLIENTS)
    if site.added:
        return Verdict(f"key prefix `{prefix}` added ({show(site.after)})", "AUTH-1", IMPLEMENTATIONS)
    return Verdict(f"key prefix `{prefix}`: {show(site.before)} → {show(site.after)}", "AUTH-1", BOTH)


@rule("idempotency-key", "idempotency")
def idempotency_key(site: Site) -> Verdict | None:
    """The Idempotency-Key's length limit narrowed or made required breaks clients; widened, servers."""
    if len(site.rest) == 2 and site.rest[0] == "schema" and site.rest[1] in UPPER_BOUNDS + LOWER_BOUNDS:
        narrowed = _narrowed(site.rest[1], site.before, site.after)
        what = f"Idempotency-Key {site.rest[1]} {show(site.before)} → {show(site.after)}"
        return Verdict(what, "IDEM-3", CLIENTS if narrowed else IMPLEMENTATIONS)
    if site.rest == ("required",):
        return Verdict(
            f"Idempotency-Key required {show(site.before)} → {show(site.after)}",
            "IDEM-1",
            CLIENTS if site.after is True else IMPLEMENTATIONS,
        )
    return None


def _named_clauses(text: Any) -> list[str]:
    """Clause ids a text of the spec names (`(REQ-BODY-2)`), in the registry's order."""
    found = set(re.findall(r"\b[A-Z]+(?:-[A-Z]+)*-\d+\b", str(text)))
    return [c.id for c in clauses.CLAUSES if c.id in found]


@rule("status", "statuses")
def status(site: Site) -> Verdict | None:
    """A status removed from the documented answers breaks clients that handle it; one added breaks no one."""
    if len(site.rest) != 1 or not site.rest[0].isdigit() or not (site.added or site.removed):
        return None
    code = site.rest[0]
    contract, node = (site.new, site.after) if site.added else (site.old, site.before)
    named = _named_clauses(contract.resolve(node).get("description", "")) if isinstance(node, dict) else []
    clause = named[0] if named else "ERR-3"
    if site.removed:
        return Verdict(f"status {code} removed from the documented answers", clause, CLIENTS)
    return Verdict(f"status {code} added to the documented answers", clause, NEITHER)


# -- anywhere: texts and examples ----------------------------------------------
@rule("new-must-clause", "*")
def new_must_clause(site: Site) -> Verdict | None:
    """A text that now names a MUST clause the old spec never named: servers must now meet it."""
    is_text = bool(site.rest) and site.rest[-1] in TEXT_KEYS
    if site.after is ABSENT or not (is_text or site.added):
        return None
    before_text = str(site.old.spec)
    for clause_id in _named_clauses(site.after):
        if clauses.get(clause_id).level is Level.MUST and not re.search(rf"\b{clause_id}\b", before_text):
            return Verdict(f"the spec now names MUST clause {clause_id}", clause_id, IMPLEMENTATIONS)
    return None


@rule("text", "*")
def text(site: Site) -> Verdict | None:
    """Descriptions, summaries, titles and examples break no one."""
    if not site.rest:
        return None
    if site.rest[-1] in TEXT_KEYS and (isinstance(site.after, str) or site.after is ABSENT):
        return Verdict(f"{site.rest[-1]} changed", None, NEITHER)
    if any(part in EXAMPLE_KEYS for part in site.rest):
        return Verdict("examples changed", None, NEITHER)
    return None


@rule("info", "info")
def info(site: Site) -> Verdict | None:
    """The document's info (version, contact, licence) breaks no one, unless it names a new MUST clause."""
    return new_must_clause(site) or Verdict(f"info `{'.'.join(site.rest)}` changed", None, NEITHER)


@rule("tags", "tags")
def tags(site: Site) -> Verdict | None:
    """Tags group operations in docs; they break no one."""
    return Verdict("tags changed", None, NEITHER)

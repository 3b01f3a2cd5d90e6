"""The contract's clauses: one registry, read by the checks, reports and docs.

Each clause of CONTRACT.md lives here once: its id, level (RFC 2119), a short
title, the requirement quoted from the contract, and the request or response
fields it governs (JSON pointers, for the docs). Where the requirement names a
value the spec holds (a length limit, the id prefix, the environments), the text
has a `{placeholder}` filled from the spec in use by `for_contract`, so a spec
with other limits gets requirements that say so. Checks attach themselves to
clauses with `conformance.checks.check(...)`; a test proves that every clause has
a check and every check a clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from billing_kit.conformance.contract import Contract


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True)
class Clause:
    id: str
    level: Level
    title: str
    requirement: str
    fields: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return self.id.split("-")[0]

    def render(self, contract: Contract) -> Clause:
        """This clause with its requirement's placeholders filled from `contract`."""
        values = spec_values(contract)
        # Only known names are placeholders: requirements also quote JSON such as `{}`.
        text = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.requirement)
        return replace(self, requirement=text)


_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")


def _code(values: list[str]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def spec_values(contract: Contract) -> dict[str, str]:
    """The values requirement texts quote, read from the spec in use."""
    limits = sorted(set(contract.max_lengths.values())) or [0]
    prefix_rule = "; ".join(f"a key starting `{p}` acts in environment `{e}`" for p, e in contract.key_prefixes.items())
    return {
        "key_prefix_rule": prefix_rule[0].upper() + prefix_rule[1:] + ".",
        "length_fields": " and ".join(f"`{name}`" for name in contract.max_lengths),
        "max_length": " or ".join(str(n) for n in limits),
        "max_length_plus_1": " or ".join(str(n + 1) for n in limits),
        "id_prefix": contract.id_prefix,
        "response_fields": _code(contract.response_fields),
        "environments": _code(contract.environments),
        "idempotency_key_max": str(contract.idempotency_key_max_length),
    }


CLAUSES: tuple[Clause, ...] = (
    Clause(
        "AUTH-1",
        Level.MUST,
        "Bearer API key; its prefix sets the environment",
        ("`Authorization: Bearer <key>`. {key_prefix_rule}"),
        (),
    ),
    Clause(
        "AUTH-2",
        Level.MUST,
        "Missing, malformed or unknown keys get 401",
        (
            "No header, another scheme (`Basic …`), an empty token, a key of another prefix "
            "(`pk_live_…`, `sk_prod_…`) or a well-formed key the server does not know: 401 (400 "
            "is also conforming for a header that is not of the form `Bearer <token>`, as RFC "
            "6750 allows), and no customer created. A key in the query string is ignored."
        ),
        (),
    ),
    Clause(
        "AUTH-3",
        Level.SHOULD,
        "401 carries WWW-Authenticate and never echoes the key",
        (
            "A 401 carries `WWW-Authenticate: Bearer` (RFC 6750) and never echoes the presented "
            "key. Logs and reports show at most a key's prefix and last four characters "
            "(`sk_test_…abcd`)."
        ),
        (),
    ),
    Clause(
        "REQ-EMAIL-1",
        Level.MUST,
        "email is required and a string",
        ("`email` is required; missing, `null` or a non-string: rejected."),
        ("/email",),
    ),
    Clause(
        "REQ-EMAIL-2",
        Level.MUST,
        "Plain addresses are accepted",
        (
            "MUST accept every address of this plain form: a dot-atom local part of ASCII "
            "letters, digits and ``!#$%&'*+/=?^_`{|}~-`` (no leading, trailing or doubled dot, at "
            "most 64 characters) `@` a domain that is `example.com`, `example.org` or "
            "`example.net`, or a subdomain of them whose extra labels are letters and digits with "
            "single inner hyphens (none starting `xn--`, no `--`, each at most 63 characters, as DNS "
            "allows), at most 254 characters in all. "
            "Example: `O'Brien+tag@mail.example.com`. Reserved names such as `.test` and "
            "`.invalid` are outside this class: a strict validator may refuse them. The suite's "
            "positive generators (its own and Schemathesis's `email` format) draw from this class "
            "only."
        ),
        ("/email",),
    ),
    Clause(
        "REQ-EMAIL-3",
        Level.MUST,
        "Broken addresses are rejected",
        (
            "MUST reject: the empty string; no `@`; two or more `@` outside quotes; an empty "
            "local part or domain; whitespace or control characters anywhere; an empty domain "
            "label (`a@b..com`, `a@.com`, `a@com.`)."
        ),
        ("/email",),
    ),
    Clause(
        "REQ-EMAIL-4",
        Level.MAY,
        "Unusual addresses are the server's choice",
        (
            "Everything else: quoted local parts, doubled or leading dots, IP-literal domains, "
            "single-label domains (`a@localhost`), reserved TLDs, non-ASCII addresses, more than "
            "254 characters. The reference decides with a well-kept validator (email-validator, "
            "deliverability checks off), stores the address exactly as sent (not the validator's "
            "normalised form), and documents its choices."
        ),
        ("/email",),
    ),
    Clause(
        "REQ-LEN-1",
        Level.MUST,
        "String limits count Unicode code points",
        (
            "{length_fields} are optional strings of at most {max_length} characters, counted "
            "as Unicode code points (JSON Schema `maxLength`), not bytes and not UTF-16 units: "
            "{max_length} copies of an astral character such as U+1F600 are accepted, "
            "{max_length_plus_1} are rejected; so are {max_length} and {max_length_plus_1} plain "
            "ASCII characters. A combining sequence counts each code point. The empty string is "
            "accepted."
        ),
        ("/name", "/external_id"),
    ),
    Clause(
        "REQ-LEN-2",
        Level.MUST,
        "name and external_id are strings, not null",
        (
            "`name: null` or `external_id: null`, or a non-string: rejected (the request type is "
            "string; only the response is nullable)."
        ),
        ("/name", "/external_id"),
    ),
    Clause(
        "REQ-META-1",
        Level.MUST,
        "metadata is a JSON object",
        (
            "`metadata` is an optional JSON object with values of any JSON type; a non-object "
            "(array, string, number, null): rejected."
        ),
        ("/metadata",),
    ),
    Clause(
        "REQ-META-2",
        Level.MAY,
        "metadata caps are the server's choice",
        (
            "A server may cap `metadata` (keys, key length, value size, depth) below the body "
            "limit if it documents the caps; the suite's must-accept generators stay small (a few "
            "keys, short values, depth ≤ 3)."
        ),
        ("/metadata",),
    ),
    Clause(
        "REQ-UNKNOWN-1",
        Level.SHOULD,
        "Unknown fields are rejected",
        (
            'An unknown top-level field (`{"email":…, "emial":…}`) is rejected '
            "(`additionalProperties: false` in the spec), so that typos never pass silently."
        ),
        (),
    ),
    Clause(
        "REQ-TEXT-1",
        Level.MUST,
        "NUL kept exactly or rejected; lone surrogates rejected",
        (
            "A string containing U+0000 is either stored and returned exactly or rejected; a lone "
            'surrogate escape (`"\\ud800"`), which no UTF-8 store can hold, is rejected. Never a '
            "5xx, never stored mangled."
        ),
        (),
    ),
    Clause(
        "REQ-BODY-1",
        Level.MUST,
        "Malformed bodies are rejected",
        (
            "Malformed JSON (`NaN` and `Infinity` included, which JSON does not have), a body "
            "that is not UTF-8, a top level that is not an object, or nesting deeper than the "
            "limit in `x-limits`: rejected. A leading BOM, which RFC 8259 lets a parser ignore, "
            "is MAY."
        ),
        (),
    ),
    Clause(
        "REQ-BODY-2",
        Level.SHOULD,
        "Wrong media types get 415, oversized bodies 413",
        (
            "A missing `Content-Type`, one other than `application/json`, or a charset other than "
            "UTF-8: 415 (`; charset=utf-8` is fine). A body larger than the limit in `x-limits`, "
            "announced or chunked: 413, read no further."
        ),
        (),
    ),
    Clause(
        "REQ-BODY-3",
        Level.MAY,
        "Duplicate keys and huge numbers are the server's choice",
        (
            "Duplicate keys in one object (RFC 8259 leaves them unpredictable): the reference "
            "rejects them; the suite records what the server did. Likewise numbers outside "
            "I-JSON's range (`1e999999`, 5,000 digits)."
        ),
        (),
    ),
    Clause(
        "RES-1",
        Level.MUST,
        "201 with every field",
        (
            "Status 201 for a valid request with a valid key, with every field present: "
            "{response_fields}. The page's field list is the contract; its two examples are partial "
            "illustrations. `name` and `external_id` are `null` when not sent; `metadata` is `{}` "
            "when not sent."
        ),
        (),
    ),
    Clause(
        "RES-ID-1",
        Level.MUST,
        "id is the prefix and letters or digits",
        (
            "`id` is `{id_prefix}` followed by one or more ASCII letters or digits, and nothing else "
            "(match the whole string: Python's `$` also matches before a trailing newline). The "
            "reference uses `{id_prefix}` + 24 lowercase hex digits from a CSPRNG (the page's second "
            "example)."
        ),
        ("/id",),
    ),
    Clause(
        "RES-ID-2",
        Level.MUST,
        "ids are unique",
        (
            "Ids are unique: N successful creates give N distinct ids, also when sent "
            "concurrently (idempotent replays aside)."
        ),
        ("/id",),
    ),
    Clause(
        "RES-ECHO-1",
        Level.MUST,
        "Fields come back exactly as sent",
        (
            "`email`, `name`, `external_id` and `metadata` come back exactly as sent: same code "
            "points, same JSON types and values (no trimming, case folding or Unicode "
            "normalisation; `true` is not `1`). Numbers inside I-JSON's interoperable range (RFC "
            "7493: integers up to 2^53 in magnitude, finite doubles) compare by value, so `1.0` "
            "equals `1`; larger numbers are MAY."
        ),
        ("/email", "/name", "/external_id", "/metadata"),
    ),
    Clause(
        "RES-ENV-1",
        Level.MUST,
        "environment matches the key",
        (
            "`environment` is one of the spec's enum ({environments}) and equals the "
            "environment of the key used (AUTH-1)."
        ),
        ("/environment",),
    ),
    Clause(
        "RES-TIME-1",
        Level.MUST,
        "Timestamps are RFC 3339 with an offset, equal on create",
        ("`created_at` and `updated_at` are RFC 3339 date-times with an offset; on create they are equal."),
        ("/created_at", "/updated_at"),
    ),
    Clause(
        "RES-TIME-2",
        Level.SHOULD,
        "created_at is close to now",
        ("`created_at` is within 5 minutes of the checker's clock (the tolerance is a flag)."),
        ("/created_at",),
    ),
    Clause(
        "RES-ORG-1",
        Level.MUST,
        "org_id is stable per key",
        ("`org_id` is a non-empty string, the same for every customer created with the same key."),
        ("/org_id",),
    ),
    Clause(
        "ERR-1",
        Level.MUST,
        "Every MUST-breaking request is rejected",
        (
            "Every request that breaks a MUST rule of REQ-* or AUTH-* is rejected. (A request "
            "that breaks only a SHOULD rule and is accepted gets a WARN on that rule, not a FAIL "
            "here.)"
        ),
        (),
    ),
    Clause(
        "ERR-2",
        Level.MUST,
        "No 5xx, no dropped connection, no hang",
        (
            "No request, however hostile, gets a 5xx, a dropped connection or no answer within "
            "the timeout: a 5,000-digit number, a missing `Content-Type`, an unknown charset, a "
            "50 MiB body included. The exceptions are 503 and 429 with `Retry-After`: the suite "
            "waits as told and retries, within its time budget."
        ),
        (),
    ),
    Clause(
        "ERR-3",
        Level.SHOULD,
        "Errors are problem+json",
        (
            "Errors are `application/problem+json` (RFC 9457) with `type`, `title`, `status` "
            "(equal to the HTTP status), `detail`, and for body errors a list naming each "
            "offending field by JSON pointer (`/name`). An error never echoes a submitted value "
            "beyond a short excerpt and never shows a stack trace. Requests the HTTP server "
            "refuses before the application sees them (a malformed request line or header) may "
            "get its plain-text 4xx."
        ),
        (),
    ),
    Clause(
        "ERR-4",
        Level.SHOULD,
        "Other methods get 405 with Allow",
        ("A method other than POST on `/customers`: 405 with `Allow: POST`."),
        (),
    ),
    Clause(
        "IDEM-1",
        Level.SHOULD,
        "Same Idempotency-Key and body replays the first response",
        (
            "The same key with the same body, from the same API key, within 24 hours: the first "
            "response is replayed (same status, same `id`)."
        ),
        (),
    ),
    Clause(
        "IDEM-2",
        Level.SHOULD,
        "Same key, different body: 409 or 422",
        ("The same key with a different body: 409 or 422 problem, no customer created."),
        (),
    ),
    Clause(
        "IDEM-3",
        Level.SHOULD,
        "Concurrent same-key requests make one customer",
        (
            "Concurrent requests with the same key create exactly one customer; each gets the "
            "replayed 201 (same `id`) or a 409 saying the first is still in progress. A request "
            "that failed validation is not recorded, so a corrected retry with the same key "
            "succeeds. A key over {idempotency_key_max} characters is rejected."
        ),
        (),
    ),
    Clause(
        "IDEM-4",
        Level.SHOULD,
        "Idempotency keys are scoped to the API key",
        (
            "Keys are scoped to the API key: the same Idempotency-Key sent with a sandbox key and "
            "a live key makes two independent customers."
        ),
        (),
    ),
)

BY_ID: dict[str, Clause] = {clause.id: clause for clause in CLAUSES}


def get(clause_id: str) -> Clause:
    """The clause with this id; KeyError names the unknown id."""
    return BY_ID[clause_id.upper()]


def for_contract(contract: Contract) -> tuple[Clause, ...]:
    """Every clause, its requirement rendered for the spec in use."""
    return tuple(clause.render(contract) for clause in CLAUSES)


def clauses_for_field(pointer: str, contract: Contract | None = None) -> list[Clause]:
    """Clauses that govern one field, for the docs' field tables (rendered when given a contract)."""
    chosen = [clause for clause in CLAUSES if pointer in clause.fields]
    return [clause.render(contract) for clause in chosen] if contract is not None else chosen

"""What the contract expects of one request, whatever generated it.

Schemathesis judges every schema keyword as a MUST; the contract does not. This
module reads the request as sent (method, Content-Type, bytes, auth, key) and
lists the rules it breaks, each with its clause and strength, and the MAY zones
it touches. The generic phase judges the answer against that list, so a legal
choice (a quoted email accepted, a 422 instead of a 400, a big metadata object
refused) is never a finding, and an accepted unknown field is a SHOULD.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from billing_kit.conformance import jsonsafe, strategies
from billing_kit.conformance.contract import Contract

Strength = Literal["must", "should"]
AuthKind = Literal["valid", "missing", "invalid"]

_DOT_ATOM = re.compile(r"[%s]+(?:\.[%s]+)*" % ((re.escape(strategies.ATEXT),) * 2))
_LABEL = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", re.ASCII)
_BEARER = re.compile(r"Bearer [!-~]+", re.ASCII)

# REQ-META-2: the must-accept metadata stays small; past these bounds a server may cap it.
META_KEYS = 5  # a few keys per object (the suite's four plus the run tag)
META_KEY_LENGTH = 16
META_STRING_LENGTH = 64
META_ARRAY_LENGTH = 4
META_DEPTH = 3  # the metadata object itself counts as 1
BIG_NUMBER_MAY = "REQ-BODY-3: a number outside I-JSON's range"
DUPLICATE_KEYS_MAY = "REQ-BODY-3: duplicate keys"


@dataclass(frozen=True)
class Break:
    clause: str
    strength: Strength
    label: str  # what kind of break, the same for every request that breaks the rule this way
    detail: str = ""  # this request's instance of it
    # The statuses the clause names for this break, when it names some (415, 401, …).
    statuses: tuple[int, ...] = ()

    @property
    def reason(self) -> str:
        return f"{self.label} ({self.detail})" if self.detail else self.label


@dataclass
class Expectation:
    breaks: list[Break] = field(default_factory=list)
    may: list[str] = field(default_factory=list)
    # Top-level fields holding U+0000: accepted, they must come back exactly (REQ-TEXT-1).
    nul_fields: list[str] = field(default_factory=list)
    value: Any = None

    @property
    def must_accept(self) -> bool:
        return not self.breaks and not self.may

    @property
    def echo_judged(self) -> bool:
        """RES-ECHO-1 can be judged: the request has one meaning (duplicate keys leave which value is kept open)."""
        return DUPLICATE_KEYS_MAY not in self.may

    @property
    def numbers_free(self) -> bool:
        """The request held a number outside I-JSON, whose echo is the server's choice (RES-ECHO-1's MAY)."""
        return BIG_NUMBER_MAY in self.may

    def add(
        self, clause: str, strength: Strength, label: str, detail: str = "", statuses: tuple[int, ...] = ()
    ) -> None:
        self.breaks.append(Break(clause, strength, label, detail, statuses))


def email_class(value: str) -> Literal["plain", "broken", "may"]:
    """REQ-EMAIL-2 (`plain`, must accept), REQ-EMAIL-3 (`broken`, must reject) or REQ-EMAIL-4 (`may`)."""
    if _breaks_email_rules(value):
        return "broken"
    return "plain" if _is_plain_email(value) else "may"


def _is_plain_email(value: str) -> bool:
    if len(value) > strategies.EMAIL_MAX or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if len(local) > strategies.LOCAL_MAX or not _DOT_ATOM.fullmatch(local):
        return False
    labels = domain.split(".")
    for base in strategies.EMAIL_BASE_DOMAINS:
        base_labels = base.split(".")
        if [label.lower() for label in labels[-len(base_labels) :]] == base_labels:
            extra = labels[: -len(base_labels)]
            return all(
                len(x) <= strategies.LABEL_MAX and _LABEL.fullmatch(x) and not x.lower().startswith("xn--")
                for x in extra
            )
    return False


def _breaks_email_rules(value: str) -> bool:
    if value == "" or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        return True
    at_signs: list[int] = []
    quoted = escaped = False
    for index, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"' and (quoted or index == 0):  # only a local part that starts with `"` is quoted
            quoted = not quoted
        elif ch == "@" and not quoted:
            at_signs.append(index)
    if len(at_signs) != 1:
        return True
    local, domain = value[: at_signs[0]], value[at_signs[0] + 1 :]
    return not local or not domain or "" in domain.split(".")


class _Parsed:
    """Facts gathered while parsing: duplicate keys, numbers outside I-JSON."""

    def __init__(self) -> None:
        self.duplicates = False
        self.big_numbers = False

    def pairs(self, items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            self.duplicates = True
        return dict(items)

    def integer(self, text: str) -> Any:
        if len(text.lstrip("-")) > 15:  # 2**53 has 16 digits: every integer past it has 16 or more
            value = int(text) if len(text) <= 4000 else None
            if value is None or abs(value) > strategies.IJSON_INT:
                self.big_numbers = True
                return 0
            return value
        return int(text)

    def number(self, text: str) -> Any:
        value = float(text)
        if not math.isfinite(value) or (value == 0 and any(c in "123456789" for c in text.split("e")[0])):
            self.big_numbers = True
        return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(contract: Contract, raw: bytes, expectation: Expectation) -> Any:
    """The JSON value of `raw`, or None after recording why it cannot be one (REQ-BODY-1)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        expectation.add("REQ-BODY-1", "must", "the body is not UTF-8")
        return None
    if text.startswith("\ufeff"):
        expectation.may.append("REQ-BODY-1: a leading byte-order mark")
        text = text[1:]
    parsed = _Parsed()
    try:
        value = json.loads(
            text,
            object_pairs_hook=parsed.pairs,
            parse_int=parsed.integer,
            parse_float=parsed.number,
            parse_constant=_constant,
        )
    except (ValueError, RecursionError):
        expectation.add("REQ-BODY-1", "must", "malformed JSON")
        return None
    if jsonsafe.nesting_depth(value, contract.nesting_depth_limit + 1) > contract.nesting_depth_limit:
        expectation.add("REQ-BODY-1", "must", f"nesting deeper than {contract.nesting_depth_limit}")
        return None
    if parsed.duplicates:
        expectation.may.append(DUPLICATE_KEYS_MAY)
    if parsed.big_numbers:
        expectation.may.append(BIG_NUMBER_MAY)
    return value


def strings_of(value: Any) -> list[str]:
    """Every string in a JSON value, object keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings_of(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings_of(item)]
    return []


def _small_metadata(value: Any, depth: int = 1) -> bool:
    if isinstance(value, dict):
        return (
            depth <= META_DEPTH
            and len(value) <= META_KEYS
            and all(len(k) <= META_KEY_LENGTH and _small_metadata(v, depth + 1) for k, v in value.items())
        )
    if isinstance(value, list):
        return (
            depth <= META_DEPTH
            and len(value) <= META_ARRAY_LENGTH
            and all(_small_metadata(v, depth + 1) for v in value)
        )
    if isinstance(value, str):
        return len(value) <= META_STRING_LENGTH
    return True


def _judge_fields(contract: Contract, body: dict[str, Any], expectation: Expectation) -> None:
    for name in body:
        if name not in contract.request_fields:
            expectation.add("REQ-UNKNOWN-1", "should", "an unknown field", repr(name[:40]))
    for name in contract.required_request_fields:
        if name not in body:
            expectation.add("REQ-EMAIL-1" if name == "email" else "ERR-1", "must", f"{name} missing")
    if "email" in body:
        email = body["email"]
        if not isinstance(email, str):
            expectation.add("REQ-EMAIL-1", "must", "email not a string", _json_type(email))
        else:
            kind = email_class(email)
            if kind == "broken":
                expectation.add("REQ-EMAIL-3", "must", "a broken address", repr(email[:60]))
            elif kind == "may":
                expectation.may.append(f"REQ-EMAIL-4: address {email[:60]!r}")
    for name in contract.optional_string_fields:
        if name not in body:
            continue
        value = body[name]
        if not isinstance(value, str):
            expectation.add("REQ-LEN-2", "must", f"{name} not a string", _json_type(value))
        elif name in contract.max_lengths and len(value) > contract.max_lengths[name]:
            expectation.add("REQ-LEN-1", "must", f"{name} over maxLength", f"{len(value)} code points")
    for name in contract.object_fields:
        if name not in body:
            continue
        if not isinstance(body[name], dict):
            expectation.add("REQ-META-1", "must", f"{name} not an object", _json_type(body[name]))
        elif not _small_metadata(body[name]):
            expectation.may.append(f"REQ-META-2: {name} beyond the small must-accept shape")


def judge_request(
    contract: Contract,
    *,
    content_type: str | None,
    body: bytes | None,
    auth: AuthKind,
    idempotency_key: str | None,
) -> Expectation:
    """The rules a POST breaks and the MAY zones it touches (the method is judged by the caller)."""
    expectation = Expectation()
    if auth == "missing":
        expectation.add("AUTH-2", "must", "no Authorization header", statuses=(401,))
    elif auth == "invalid":
        expectation.add("AUTH-2", "must", "an Authorization header other than the key", statuses=(400, 401))
    _judge_content_type(content_type, expectation)
    if idempotency_key is not None:
        if len(idempotency_key) > contract.idempotency_key_max_length:
            expectation.add("IDEM-3", "should", "an over-long Idempotency-Key", f"{len(idempotency_key)} characters")
        elif not idempotency_key:
            expectation.may.append("an empty Idempotency-Key (no clause names it)")
    value = parse_body(contract, body or b"", expectation)
    expectation.value = value
    if any(b.clause == "REQ-BODY-1" for b in expectation.breaks):
        return expectation
    if not isinstance(value, dict):
        expectation.add("REQ-BODY-1", "must", "a top level not an object", _json_type(value))
        return expectation
    strings = strings_of(value)
    if any(0xD800 <= ord(ch) <= 0xDFFF for s in strings for ch in s):
        expectation.add("REQ-TEXT-1", "must", "a lone surrogate")
    if any("\x00" in s for s in strings):
        expectation.may.append("REQ-TEXT-1: U+0000 (stored exactly or rejected)")
        expectation.nul_fields = [k for k, v in value.items() if "\x00" in "".join(strings_of({k: v}))]
    _judge_fields(contract, value, expectation)
    return expectation


def _judge_content_type(content_type: str | None, expectation: Expectation) -> None:
    if content_type is None:
        expectation.add("REQ-BODY-2", "should", "no Content-Type", statuses=(415,))
        return
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "application/json":
        expectation.add("REQ-BODY-2", "should", "another Content-Type", repr(content_type[:60]), (415,))
        return
    if media.strip() != "application/json":
        expectation.may.append("REQ-BODY-2: a media type in another case")
    for param in filter(None, (p.strip() for p in params.split(";"))):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            if val.strip().strip('"').lower() not in ("utf-8", "utf8"):
                expectation.add("REQ-BODY-2", "should", "a charset other than UTF-8", repr(val.strip()[:30]), (415,))
        else:
            expectation.may.append(f"REQ-BODY-2: a Content-Type parameter {name.strip()[:30]!r}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def auth_kind(header: str | None, valid: str) -> AuthKind:
    if header is None:
        return "missing"
    return "valid" if header == valid else "invalid"


def bearer_shaped(header: str) -> bool:
    """`Bearer <token>` with a visible-ASCII token: the generator's positive shape."""
    return _BEARER.fullmatch(header) is not None

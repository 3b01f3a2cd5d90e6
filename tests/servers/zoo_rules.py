"""The zoo server's request rules: body decoding, JSON parsing, validation, emails.

Written from CONTRACT.md alone, as another team would, in the standard library
only. `Rules` carries the values read from the spec; `Flavour` the server's MAY
choices (lenient or strict); `defects` the one defect injected, if any, by name.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from zoo_answers import accepts_surrogates

LENIENT = "lenient"
STRICT = "strict"
ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-")
LDH_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
RESERVED_TLDS = frozenset({"test", "invalid", "localhost", "local", "example", "onion"})
IJSON_INT = 2**53
LOCAL_MAX = 64
EMAIL_MAX = 254
BOM = "\ufeff"
SURROGATE = re.compile("[\ud800-\udfff]")
# The strict flavour's metadata caps (REQ-META-2, MAY), documented in docs/guide/how-it-is-tested.md.
META_MAX_KEYS = 50
META_MAX_KEY_LENGTH = 40
META_MAX_VALUE_LENGTH = 500


@dataclass(frozen=True)
class Rules:
    """What the spec says, read once at start-up."""

    fields: tuple[str, ...]
    required: tuple[str, ...]
    max_lengths: dict[str, int]
    object_fields: tuple[str, ...]
    body_limit: int
    depth_limit: int
    flavour: str = STRICT
    defects: frozenset[str] = field(default_factory=frozenset)

    def on(self, defect: str) -> bool:
        return defect in self.defects


class Reject(Exception):
    """A request the server refuses: status, title, detail and the offending fields."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[tuple[str, str]] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or []

    def problem(self, detail: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem document of this refusal."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail if detail is None else detail,
        }
        if self.errors:
            body["errors"] = [{"pointer": p, "detail": d} for p, d in self.errors]
        return body


def bad_request(detail: str, pointer: str = "") -> Reject:
    return Reject(400, "Bad Request", detail, [(pointer, detail)])


class RawNumber:
    """A number kept as its JSON text (the lenient flavour's huge numbers), echoed verbatim."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


# -- body -> text -------------------------------------------------------------
def decode_body(raw: bytes, rules: Rules) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if rules.on("5xx-on-invalid-utf8"):
            raise  # the realistic bug: an unhandled decode error
        if not rules.on("accepts-invalid-utf8"):
            raise bad_request(f"the body is not UTF-8 (byte {exc.start})") from None
        text = raw.decode("utf-8", "replace")
    if text.startswith(BOM):
        if rules.flavour == STRICT:
            raise bad_request("the body starts with a byte order mark")
        text = text[1:]
    return text


def check_depth(text: str, limit: int) -> None:
    """Nesting depth without recursion (the top-level object is level 1)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise bad_request(f"nesting deeper than {limit} levels")
        elif char in "]}":
            depth -= 1


# -- text -> value ------------------------------------------------------------
def parse_json(text: str, rules: Rules) -> Any:
    if not rules.on("depth-unchecked"):
        try:
            check_depth(text, rules.depth_limit)
        except Reject:
            if rules.on("5xx-on-deep-nesting"):
                raise RecursionError("maximum recursion depth exceeded") from None  # the walker's own limit
            raise
    strict = rules.flavour == STRICT

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if strict and len({k for k, _ in items}) != len(items):
            raise bad_request("duplicate key in an object")
        return dict(items)

    def constant(name: str) -> Any:
        if rules.on("accepts-nan"):
            return float(name)
        raise bad_request(f"{name} is not JSON")

    def integer(text: str) -> Any:
        if rules.on("5xx-on-huge-number"):
            return int(text)  # Python refuses more than 4,300 digits: the ValueError escapes
        digits = len(text.lstrip("-"))
        if digits > 16 or abs(value := int(text)) > IJSON_INT:
            if strict:
                raise bad_request("integer outside the interoperable range (2^53)")
            return RawNumber(text)
        return value

    def number(text: str) -> Any:
        value = float(text)
        mantissa = re.split("[eE]", text)[0]
        if math.isinf(value) or (value == 0.0 and any(c in "123456789" for c in mantissa)):
            if strict:
                raise bad_request("number outside the range of a double")
            return RawNumber(text)
        return value

    try:
        if rules.on("accepts-trailing-garbage"):
            value, _ = json.JSONDecoder(
                object_pairs_hook=pairs, parse_constant=constant, parse_int=integer, parse_float=number
            ).raw_decode(text.lstrip())
            return value
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_int=integer, parse_float=number)
    except json.JSONDecodeError as exc:
        raise bad_request(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise bad_request("nesting too deep") from None


# -- value -> customer fields -------------------------------------------------
def validate(doc: Any, rules: Rules) -> dict[str, Any]:
    """The accepted fields of a create, or Reject naming every offending field."""
    if rules.on("accepts-array-wrapped") and isinstance(doc, list) and len(doc) == 1:
        doc = doc[0]
    if not isinstance(doc, dict):
        raise bad_request(f"the body is a JSON {_type_name(doc)}, not an object")
    errors: list[tuple[str, str]] = []
    if not rules.on("accepts-unknown-field") and not rules.on("validation-off"):
        errors += [(f"/{_pointer(k)}", "unknown field") for k in doc if k not in rules.fields]
    for name in rules.required:
        if name not in doc and not rules.on("email-optional"):
            errors.append((f"/{name}", "required"))
    for name, value in doc.items():
        if name not in rules.fields:
            continue
        problem = _field_problem(name, value, rules)
        if problem and not rules.on("validation-off"):
            errors.append((f"/{name}", problem))
    text_problem = _text_problem(doc, rules)
    if text_problem:
        errors.append(text_problem)
    if errors:
        detail = "; ".join(f"{p or '/'}: {d}" for p, d in errors)
        raise Reject(400, "Bad Request", detail, errors)
    return {k: v for k, v in doc.items() if k in rules.fields}


def _field_problem(name: str, value: Any, rules: Rules) -> str | None:
    if name in rules.object_fields:
        if isinstance(value, dict):
            capped = rules.flavour == STRICT and not rules.on("echo-truncates-long-metadata")
            return _metadata_cap(value) if capped else None
        if rules.on("metadata-array-accepted") and isinstance(value, list):
            return None
        if rules.on("metadata-null-accepted") and value is None:
            return None
        return "not an object"
    if not isinstance(value, str):
        if name == "email" and rules.on("email-number-coerced") and isinstance(value, int | float):
            return None
        if name != "email" and rules.on("accepts-null-name") and value is None:
            return None
        if name != "email" and rules.on("name-number-coerced") and isinstance(value, int | float):
            return None
        return "not a string"
    if name in rules.required:
        return None if valid_email(value, rules) else "not a valid email address"
    if name in rules.max_lengths:
        return _length_problem(name, value, rules.max_lengths[name], rules)
    return None


def _metadata_cap(value: dict[str, Any]) -> str | None:
    """The strict flavour's documented caps (REQ-META-2 MAY), Stripe's: keys, key length, string size."""
    if len(value) > META_MAX_KEYS:
        return f"more than {META_MAX_KEYS} keys"
    if any(len(key) > META_MAX_KEY_LENGTH for key in value):
        return f"a key longer than {META_MAX_KEY_LENGTH} characters"
    if any(isinstance(v, str) and len(v) > META_MAX_VALUE_LENGTH for v in value.values()):
        return f"a value longer than {META_MAX_VALUE_LENGTH} characters"
    return None


def _length_problem(name: str, value: str, limit: int, rules: Rules) -> str | None:
    if rules.on("len-name-only") and name != "name":
        return None
    if rules.on("len-rejects-empty") and value == "":
        return "empty"
    size = len(value)
    if rules.on("len-utf8-bytes"):
        size = len(value.encode("utf-8", "surrogatepass"))
    elif rules.on("len-utf16-units"):
        size = len(value.encode("utf-16-le", "surrogatepass")) // 2
    elif rules.on("len-graphemes"):
        size = sum(1 for c in value if not unicodedata.combining(c))
    elif rules.on("len-off-by-one"):
        size -= 1
    elif rules.on("len-too-strict"):
        size += 1
    return f"longer than {limit} characters" if size > limit else None


def _text_problem(value: Any, rules: Rules, pointer: str = "") -> tuple[str, str] | None:
    """A lone surrogate anywhere (never storable), or NUL in the strict flavour."""
    if isinstance(value, str):
        accepted = rules.on("surrogate-replaced") or rules.on("surrogate-500") or accepts_surrogates(rules)
        if SURROGATE.search(value) and not accepted:
            return pointer or "/", "contains a lone surrogate"
        if "\x00" in value and rules.flavour == STRICT and not rules.on("nul-mangled"):
            return pointer or "/", "contains U+0000"
        return None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(k, v) for k, v in value.items()] + [(k, k) for k in value]
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    for key, item in items:
        found = _text_problem(item, rules, f"{pointer}/{_pointer(key)}")
        if found:
            return found
    return None


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _type_name(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


# -- emails -------------------------------------------------------------------
def valid_email(address: str, rules: Rules) -> bool:
    if rules.on("email-too-loose"):
        return "@" in address
    if rules.on("email-allows-space"):
        address = address.replace(" ", "").replace("\t", "")
    if not address or any(c.isspace() or unicodedata.category(c) == "Cc" for c in address):
        return False
    split = _split_address(address)
    if split is None:
        return False
    local, domain = split
    if rules.on("email-too-strict") and ("+" in local or "'" in local):
        return False
    if rules.on("email-rejects-uppercase") and address != address.lower():
        return False
    if rules.on("email-rejects-subdomain") and domain.count(".") > 1:
        return False
    if rules.on("email-allows-empty-label") and domain.strip("."):
        return True
    if rules.flavour == STRICT:
        return _strict_email(local, domain, address)
    return _lenient_email(local, domain)


def _split_address(address: str) -> tuple[str, str] | None:
    """(local, domain) at the one `@` outside a quoted local part; None for zero or several."""
    if address.startswith('"'):
        end = 1
        while end < len(address) and address[end] != '"':
            end += 2 if address[end] == "\\" else 1
        if end >= len(address) or not address[end + 1 :].startswith("@"):
            return None
        local, rest = address[: end + 1], address[end + 2 :]
        return None if "@" in rest else (local, rest)
    if address.count("@") != 1:
        return None
    local, domain = address.split("@")
    return local, domain


def _strict_email(local: str, domain: str, address: str) -> bool:
    if len(address) > EMAIL_MAX or not address.isascii() or not 0 < len(local) <= LOCAL_MAX:
        return False
    atoms = local.split(".")
    if not all(atoms) or not all(c in ATEXT for atom in atoms for c in atom):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(LDH_LABEL.fullmatch(label) for label in labels):
        return False
    if any(label.lower().startswith("xn--") for label in labels):
        return False
    tld = labels[-1].lower()
    return tld.isalpha() and len(tld) >= 2 and tld not in RESERVED_TLDS


def _lenient_email(local: str, domain: str) -> bool:
    if not local or local == '""' or not domain:
        return False
    if domain.startswith("[") and domain.endswith("]"):
        literal = domain[1:-1]
        literal = literal[5:] if literal.lower().startswith("ipv6:") else literal
        try:
            ipaddress.ip_address(literal)
        except ValueError:
            return False
        return True
    labels = domain.split(".")
    return all(labels) and all(c.isalnum() or c in "-_" for label in labels for c in label)


# -- value -> JSON text -------------------------------------------------------
def dumps(value: Any) -> str:
    """JSON text, with RawNumber verbatim (json.dumps cannot), non-ASCII kept as is."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)

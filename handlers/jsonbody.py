"""Strict JSON: the raw body parsed once, with every rule JSON Schema cannot state.

Rejected, each with the JSON pointer of the offending value where there is one:
an empty body; a UTF-8 byte order mark (RFC 8259 §8.1 lets a parser ignore it; the
reference refuses it, so a body means one thing everywhere); bytes that are not UTF-8
(overlong forms and encoded surrogates included); malformed JSON; `NaN`, `Infinity`;
nesting deeper than the limit (checked on the text before parsing, so no recursion);
duplicate keys (REQ-BODY-3); lone surrogate escapes (REQ-TEXT-1); U+0000 (PostgreSQL
text and jsonb cannot hold it, so both backends refuse it rather than store it mangled);
numbers outside I-JSON's range (RFC 7493: integers beyond ±2^53, doubles that overflow
to infinity or underflow to zero), which could not come back as sent.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

UTF8_BOM = b"\xef\xbb\xbf"
MAX_SAFE_INTEGER = 2**53
MAX_ERRORS = 10

_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SURROGATE = re.compile("[\ud800-\udfff]")
_NONZERO_MANTISSA = re.compile(r"^-?[0-9.]*[1-9]")


@dataclass(frozen=True)
class FieldError:
    pointer: str
    detail: str


class BodyError(Exception):
    """The body breaks a rule; `errors` names each offending value by JSON pointer."""

    def __init__(self, errors: list[FieldError], detail: str = "The request body is not acceptable") -> None:
        super().__init__(detail)
        self.errors = errors
        self.detail = detail if len(errors) != 1 else errors[0].detail


POINTER_TOKEN_MAX = 64


def pointer_token(key: str) -> str:
    """An RFC 6901 reference token; a key longer than 64 characters is cut (ERR-3: no long echo)."""
    if len(key) > POINTER_TOKEN_MAX:
        key = key[:POINTER_TOKEN_MAX] + "…"
    return key.replace("~", "~0").replace("/", "~1")


class _Rejected:
    """Stands in for a value the parser hooks refuse; the walk finds and reports it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Duplicated(dict[str, Any]):
    """An object that had a key twice; `key` is the first duplicated one."""

    key: str = ""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    dup = _Duplicated(obj)
    for key, _ in pairs:
        if key in seen:
            dup.key = key
            break
        seen.add(key)
    return dup


def _int(text: str) -> Any:
    digits = len(text) - (text[0] == "-")
    if digits <= 15:
        return int(text)
    if digits > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        return _Rejected(f"integer with {digits} digits is outside ±2^53 (send it as a string)")
    return int(text)


def _float(text: str) -> Any:
    value = float(text)
    if math.isinf(value):
        return _Rejected("number is too large for a double (send it as a string)")
    if value == 0.0 and _NONZERO_MANTISSA.match(text.split("e")[0].split("E")[0]):
        return _Rejected("number is too small for a double (send it as a string)")
    return value


def _constant(name: str) -> Any:
    return _Rejected(f"{name} is not JSON")


def check_depth(text: str, limit: int) -> None:
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                raise BodyError([FieldError("", f"nesting deeper than {limit} levels")])
        elif token in "]}":
            depth -= 1


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains U+0000 (NUL), which is not accepted"
    if not text.isascii() and _SURROGATE.search(text):
        return "contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
    return None


def _walk(value: Any, pointer: str, errors: list[FieldError]) -> None:
    if len(errors) >= MAX_ERRORS:
        return
    if isinstance(value, str):
        problem = _string_problem(value)
        if problem:
            errors.append(FieldError(pointer, problem))
    elif isinstance(value, _Rejected):
        errors.append(FieldError(pointer, value.reason))
    elif isinstance(value, dict):
        if isinstance(value, _Duplicated):
            errors.append(FieldError(f"{pointer}/{pointer_token(value.key)}", "duplicate key in one object"))
        for key, item in value.items():
            child = f"{pointer}/{pointer_token(key)}"
            problem = _string_problem(key)
            if problem:
                errors.append(FieldError(child, "key " + problem))
            _walk(item, child, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{pointer}/{index}", errors)


def parse_object(raw: bytes, max_depth: int) -> dict[str, Any]:
    """The body as a JSON object, or BodyError."""
    if not raw.strip():
        raise BodyError([FieldError("", "the request body is empty; send a JSON object")])
    if raw.startswith(UTF8_BOM):
        raise BodyError([FieldError("", "a UTF-8 byte order mark is not accepted")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError([FieldError("", f"the body is not valid UTF-8 (byte {exc.start})")]) from None
    check_depth(text, max_depth)
    flagged: list[bool] = []

    def hook_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _object(pairs)
        if type(obj) is not dict:
            flagged.append(True)
        return obj

    def hook_int(token: str) -> Any:
        value = _int(token)
        if isinstance(value, _Rejected):
            flagged.append(True)
        return value

    def hook_float(token: str) -> Any:
        value = _float(token)
        if isinstance(value, _Rejected):
            flagged.append(True)
        return value

    def hook_constant(token: str) -> Any:
        flagged.append(True)
        return _constant(token)

    try:
        doc = json.loads(
            text,
            object_pairs_hook=hook_object,
            parse_int=hook_int,
            parse_float=hook_float,
            parse_constant=hook_constant,
        )
    except json.JSONDecodeError as exc:
        raise BodyError(
            [FieldError("", f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
        ) from None
    except (RecursionError, ValueError):
        raise BodyError([FieldError("", "malformed JSON")]) from None
    if not isinstance(doc, dict):
        raise BodyError([FieldError("", "the body must be a JSON object")])
    if flagged or "\\u" in text:
        errors: list[FieldError] = []
        _walk(doc, "", errors)
        if errors:
            raise BodyError(errors)
    return doc

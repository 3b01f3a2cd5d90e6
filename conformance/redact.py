"""Keys never leave the suite whole: at most `sk_test_…abcd`, in any form the key takes.

A key reaches evidence raw (an echoed header), base64-encoded (the suite's own
`Basic` case, or a server that encodes it), JSON-escaped, URL-encoded (the
suite's own query-string case) or inside an HTTP library's error text. The
redactor replaces every such form, in one pass over text or bytes:

    raw                          sk_test_abc…
    JSON string escapes          json.dumps(key), every character as \\uXXXX
    URL-encoded                  quote(key), quote_plus(key), lowercase hex
    base64 (standard, URL-safe)  the part of the encoding that depends on the
                                 key alone, at each of the three alignments,
                                 so `base64("key:")`, `base64(":key")` and a key
                                 inside any longer base64 text are all caught

Every form is a literal, so the forms of every secret are found together by one
Aho-Corasick automaton (`ahocorasick_rs`, leftmost-longest: at the leftmost
place where a form starts, the longest one), in time linear in the text. One
regular expression of the alternatives cost a megabyte of `\\"` pairs about ten
times what any other megabyte costs.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from ahocorasick_rs import BytesAhoCorasick, MatchKind

MASK_MARK = "…"  # what stands for the hidden part of a secret in everything the suite records


def mask_key(key: str) -> str:
    """`sk_test_abcdef…1234` -> `sk_test_…1234`; short or odd keys keep only their tail."""
    match = re.match(r"^([A-Za-z]{1,8}_(?:[A-Za-z]{1,8}_)?)", key)
    prefix = match.group(1) if match else ""
    tail = key[len(prefix) :][-4:] if len(key) - len(prefix) > 4 else ""
    return f"{prefix}{MASK_MARK}{tail}"


MIN_ENCODED = 8  # shorter encoded cores would match innocent text


def _base64_cores(raw: bytes) -> set[bytes]:
    """The base64 characters fixed by `raw` alone, for raw at offsets 0, 1 and 2 (mod 3) of any text."""
    cores: set[bytes] = set()
    for shift in range(3):
        # Characters that straddle a byte before or after `raw` depend on that byte: drop them.
        lead = 0 if shift == 0 else 4 * shift // 3 + 1
        usable = (shift + len(raw)) // 3 * 4
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw)[lead:usable]
            if len(encoded) >= MIN_ENCODED:
                cores.add(encoded)
    return cores


def _lower_escapes(encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


def forms(secret: str) -> dict[bytes, str]:
    """Every encoded form of `secret` the redactor replaces, with the label it shows instead."""
    raw = secret.encode("utf-8", "surrogateescape")
    text_forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in secret if ord(c) < 0x10000),
        "".join(f"\\u{ord(c):04X}" for c in secret if ord(c) < 0x10000),
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        _lower_escapes(quote(secret, safe="")),
        _lower_escapes(quote_plus(secret, safe="")),
    }
    found: dict[bytes, str] = {}
    for form in text_forms:
        if form:
            found[form.encode("utf-8", "surrogateescape")] = ""
    for core in _base64_cores(raw):
        found.setdefault(core, " (base64)")
    found[raw] = ""
    return found


class Redactor:
    """Replaces every occurrence of the configured secrets, in every form, in text or bytes."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._shown: dict[str, str] = {}
        self._build()

    def add(self, secret: str, shown: str) -> None:
        """A derived secret (a near miss of a key), shown as `shown` so it reveals no more than the key's mask."""
        if secret and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)
        self._shown[secret] = shown
        self._build()

    def masked(self, secret: str) -> str:
        return self._shown.get(secret) or mask_key(secret)

    def _build(self) -> None:
        replacement: dict[bytes, bytes] = {}
        for secret in self.secrets:
            shown = self.masked(secret)
            for form, label in forms(secret).items():
                replacement.setdefault(form, f"{shown}{label}".encode())
        # One tuple, swapped whole: a thread redacting while a secret is added sees the old or the new set.
        if replacement:
            matcher = BytesAhoCorasick(list(replacement), matchkind=MatchKind.LeftmostLongest)
            self._matcher: tuple[BytesAhoCorasick, list[bytes]] | None = (matcher, list(replacement.values()))
        else:
            self._matcher = None

    def __getstate__(self) -> dict[str, object]:
        # The automaton (a Rust object) does not pickle: a copy, or one sent to another process, builds its own.
        return {name: value for name, value in self.__dict__.items() if name != "_matcher"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._build()

    def data(self, value: bytes) -> bytes:
        if self._matcher is None:
            return value
        matcher, shown = self._matcher
        matches = matcher.find_matches_as_indexes(value)
        if not matches:
            return value
        parts: list[bytes] = []
        done = 0
        for form, start, end in matches:
            parts += (value[done:start], shown[form])
            done = end
        parts.append(value[done:])
        return b"".join(parts)

    def text(self, value: str) -> str:
        if self._matcher is None:
            return value
        return self.data(value.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")

    def contains(self, value: bytes) -> bool:
        return self._matcher is not None and bool(self._matcher[0].find_matches_as_indexes(value))

"""Keys never leave the suite whole: at most `sk_test_…abcd`."""

from __future__ import annotations

import re
from collections.abc import Iterable


def mask_key(key: str) -> str:
    """`sk_test_abcdef…1234` -> `sk_test_…1234`; short or odd keys keep only their tail."""
    match = re.match(r"^([A-Za-z]{1,8}_(?:[A-Za-z]{1,8}_)?)", key)
    prefix = match.group(1) if match else ""
    tail = key[len(prefix) :][-4:] if len(key) - len(prefix) > 4 else ""
    return f"{prefix}…{tail}"


class Redactor:
    """Replaces every occurrence of the configured secrets in text or bytes."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._shown: dict[str, str] = {}

    def add(self, secret: str, shown: str) -> None:
        """A derived secret (a near miss of a key), shown as `shown` so it reveals no more than the key's mask."""
        if secret and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)
        self._shown[secret] = shown

    def masked(self, secret: str) -> str:
        return self._shown.get(secret) or mask_key(secret)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, self.masked(secret))
        return value

    def contains(self, value: bytes) -> bool:
        return any(secret.encode("utf-8", "surrogateescape") in value for secret in self.secrets)

    def data(self, value: bytes) -> bytes:
        for secret in self.secrets:
            raw = secret.encode("utf-8", "surrogateescape")
            if raw in value:
                value = value.replace(raw, self.masked(secret).encode())
        return value

"""API keys: creation, hashing, display form, and the per-request lookup.

A key is a prefix from the contract (`sk_test_`, `sk_live_`) and 32 random base62
characters (~190 bits from `secrets`). Only its SHA-256 is stored. A slow password
hash (bcrypt, argon2) exists to make guessing low-entropy passwords expensive; a
190-bit random key cannot be guessed however fast the hash is, so a slow hash would
only add milliseconds to every request. The lookup is by hash, so the database never
compares secrets; the final `hmac.compare_digest` keeps the comparison constant-time
even if a backend matched loosely.

Every request looks its key up in the database (an indexed read, a few microseconds on
SQLite): a key revoked by `billing-kit keys revoke` in another process gets 401 on the
very next request, with no cache to invalidate.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from billing_kit.handlers.spec import contract
from billing_kit.handlers.storage.base import ApiKey, Storage

SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 32


class KeyCommandError(Exception):
    """A key command cannot be done (unknown environment, ambiguous or unknown key)."""


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def display_form(secret: str) -> str:
    """`sk_test_…abcd`: the prefix and the last four characters, never more."""
    prefix = next((p for p in contract().key_prefixes if secret.startswith(p)), "")
    if not prefix or len(secret) < len(prefix) + 8:
        return (prefix or "?") + "…"
    return f"{prefix}…{secret[-4:]}"


def new_secret(environment: str) -> str:
    prefix = contract().prefix_of_environment(environment)
    return prefix + "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def new_org_id() -> str:
    return "org_" + secrets.token_hex(8)


def create_key(storage: Storage, environment: str, org_id: str | None = None) -> tuple[str, ApiKey]:
    """A new key: returns the secret (shown once) and its stored record.

    Without an org, the key joins the org of the oldest key, so the sandbox and live keys
    of one installation belong to one organisation.
    """
    if environment not in contract().environments:
        raise KeyCommandError(f"unknown environment {environment!r} (expected one of {contract().environments})")
    if org_id is None:
        existing = storage.list_keys()
        org_id = existing[0].org_id if existing else new_org_id()
    secret = new_secret(environment)
    record = storage.add_key(hash_key(secret), display_form(secret), org_id, environment)
    return secret, record


def revoke(storage: Storage, id_or_display: str) -> ApiKey:
    """Revoke one active key named by its id or its display form."""
    matches = [k for k in storage.list_keys() if id_or_display in (k.id, k.display) and k.revoked_at is None]
    if not matches:
        raise KeyCommandError(f"no active key {id_or_display!r}")
    if len(matches) > 1:
        raise KeyCommandError(f"{id_or_display!r} names {len(matches)} keys; use the key id")
    storage.revoke_key(matches[0].id)
    return matches[0]


def authenticate(storage: Storage, secret: str) -> ApiKey | None:
    """The active key for `secret`, or None (unknown, revoked or of another prefix)."""
    environment = contract().environment_of_key(secret)
    if environment is None:
        return None
    digest = hash_key(secret)
    record = storage.find_key(digest)
    if record is None or record.revoked_at is not None or record.environment != environment:
        return None
    if not hmac.compare_digest(record.key_hash, digest):
        return None
    return record

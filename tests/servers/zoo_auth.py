"""The zoo server's authentication: `Authorization: Bearer <key>` and every AUTH defect, by name."""

from __future__ import annotations

import base64
import binascii
from email.message import Message
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from zoo_rules import Reject
from zoo_store import Identity

if TYPE_CHECKING:
    from zoo import App

KEY_COLUMN = 20


class Authenticator:
    """Mixed into the request handler: who is calling, or a 401."""

    headers: Message
    path: str

    def authenticate(self, app: App) -> Identity:
        if app.on("auth-query-key"):
            for key in parse_qs(urlsplit(self.path).query).get("api_key", []):
                if key in app.keys:
                    return app.keys[key]
        values = self.headers.get_all("Authorization") or []
        if not values:
            if app.on("auth-no-header-default"):
                return next(iter(app.keys.values()))
            raise self.unauthorized(app, "an API key is required as a Bearer token")
        if len(values) > 1:
            raise self.unauthorized(app, "one Authorization header, please")
        scheme, _, token = values[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "basic" and app.on("auth-accepts-basic"):
            try:
                token = base64.b64decode(token, validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                token = ""
        elif scheme.lower() != "bearer" or not token:
            raise self.unauthorized(app, "use `Authorization: Bearer <key>`")
        who = app.keys.get(token) or self.loose_lookup(app, token)
        if who is None and app.on("auth-bypass-unknown-key"):
            env = app.environment_of_key(token)  # any well-formed key: the check forgot the lookup
            who = Identity(token, env, app.default_org) if env else None
        if who is None:
            raise self.unauthorized(app, "unknown API key", token)
        if app.on("auth-rejects-live") and who.environment != app.store.environments[-1]:
            raise self.unauthorized(app, "live keys are not enabled", token)
        return who

    def loose_lookup(self, app: App, token: str) -> Identity | None:
        """auth-key-truncated / auth-key-case-insensitive: a lookup that matches more than the key."""
        for key, who in app.keys.items():
            if app.on("auth-key-truncated") and key[:KEY_COLUMN] == token[:KEY_COLUMN]:
                return who  # a VARCHAR(20) key column: the rest of the token is never compared
            if app.on("auth-key-case-insensitive") and key.lower() == token.lower():
                return who  # a case-insensitive collation
        return None

    def unauthorized(self, app: App, detail: str, token: str = "") -> Reject:
        if app.on("auth-echo-key") and token:
            detail = f"{detail}: {token}"
        headers = [] if app.on("auth-no-www-authenticate") else [("WWW-Authenticate", 'Bearer realm="customers"')]
        return Reject(401, "Unauthorized", detail, headers=headers)

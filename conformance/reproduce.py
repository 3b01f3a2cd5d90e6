"""Reproductions a person can paste: a curl for one request, a rerun for the rest."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from billing_kit.conformance.model import RecordedRequest

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig

KEY_VARIABLES = {"api": "BILLING_API_KEY", "live": "BILLING_LIVE_KEY"}
# Headers curl sets by itself or that only describe the suite's own connection.
_IMPLICIT = {"content-length", "host", "user-agent", "accept-encoding", "accept", "connection"}


def shell_bytes(data: bytes) -> str:
    """Quote bytes for a POSIX shell: plain single quotes when printable, else bash $'…'."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch == " " for ch in text):
        return shlex.quote(text)
    out = []
    for byte in data:
        char = chr(byte)
        if char in "\\'":
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


def curl_command(request: RecordedRequest) -> str:
    parts = ["curl", "-sS", "-i", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers:
        if name.lower() in _IMPLICIT:
            continue
        if name.lower() == "authorization" and request.key_ref in KEY_VARIABLES:
            parts += ["-H", f'"Authorization: Bearer ${KEY_VARIABLES[request.key_ref]}"']
        else:
            parts += ["-H", shell_bytes(f"{name}: {value}".encode("utf-8", "surrogateescape"))]
    if request.body is not None:
        if not any(name.lower() == "content-type" for name, _ in request.headers):
            # curl adds a form Content-Type to --data-binary unless told not to.
            parts += ["-H", "'Content-Type:'"]
        parts += ["--data-binary", shell_bytes(request.body)]
    return " ".join(parts)


def rerun_command(config: RunConfig, clause: str) -> str:
    parts = ["billing-kit", "check", "--base-url", shlex.quote(config.base_url)]
    if config.spec:
        parts += ["--spec", shlex.quote(config.spec)]
    parts += ["--only", clause, "--seed", str(config.seed)]
    if config.live_enabled:
        parts += ["--allow-live"]
    return " ".join(parts) + "  # keys from $BILLING_API_KEY / $BILLING_LIVE_KEY"

"""The curl example a reader copies: the spec's server URL, its request example, the key from the environment."""

from __future__ import annotations

from typing import Any

from billing_kit.docs.fields import json_text

API_KEY_VARIABLE = "BILLING_API_KEY"


def shell_single_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl_command(method: str, url: str, body: Any | None, content_type: str | None, bearer: bool) -> str:
    """A multi-line POSIX-shell command; the body is pretty-printed JSON, indented under `-d`."""
    lines = [f"curl -X {method.upper()} {url}"]
    if bearer:
        lines.append(f'-H "Authorization: Bearer ${API_KEY_VARIABLE}"')
    if body is not None and content_type:
        lines.append(f'-H "Content-Type: {content_type}"')
        pretty = json_text(body, indent=2).replace("\n", "\n  ")
        lines.append(f"-d {shell_single_quoted(pretty)}")
    return " \\\n  ".join(lines)

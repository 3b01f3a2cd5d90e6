"""HAR 1.2 (browsers' developer tools, mitmproxy, Schemathesis's `--report har`) -> `Seen`.

Each entry's request (method, URL, headers, `postData.text`) and response
(status, headers, `content.text`, base64 when `content.encoding` says so) is
read as the proxy would have seen it. HAR holds text, not bytes: a body that
was not UTF-8 is judged as its text re-encoded. Tools that sanitise secrets
(Schemathesis does unless `--output-sanitize false`) leave the Authorization
header unusable; such requests are judged as sent without a valid key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from billing_kit.conformance.traffic.capture import CaptureError
from billing_kit.conformance.traffic.record import Seen, SeenResponse


def _headers(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        raise CaptureError("HAR headers must be a list")
    return [(str(h.get("name", "")), str(h.get("value", ""))) for h in value if isinstance(h, dict)]


def _text(holder: Any) -> bytearray:
    if not isinstance(holder, dict) or holder.get("text") is None:
        return bytearray()
    text = str(holder["text"])
    if holder.get("encoding") == "base64":
        try:
            return bytearray(base64.b64decode(text))
        except (binascii.Error, ValueError):
            raise CaptureError("a base64 body that is not base64") from None
    return bytearray(text.encode("utf-8", "surrogatepass"))


def _started(value: Any) -> float:
    """A HAR entry's startedDateTime as seconds since the epoch; 0.0 when absent or unreadable."""
    try:
        return datetime.fromisoformat(str(value)).timestamp() if value else 0.0
    except ValueError:
        return 0.0


def entry(item: Any) -> Seen:
    request, response = item["request"], item.get("response")
    url = urlsplit(str(request["url"]))
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    body = _text(request.get("postData"))
    seen = Seen(str(request["method"]), target, _headers(request.get("headers", [])), body, len(body), True)
    seen.started = _started(item.get("startedDateTime"))
    status = int(response.get("status", 0)) if isinstance(response, dict) else 0
    if status > 0:
        assert isinstance(response, dict)
        content = _text(response.get("content"))
        elapsed = float(item.get("time") or 0.0) / 1000
        seen.response = SeenResponse(status, _headers(response.get("headers", [])), content, len(content), elapsed)
    else:
        seen.error = str((response or {}).get("_error") or "no response recorded")
    return seen


def read(doc: Any) -> Iterator[Seen]:
    try:
        entries = doc["log"]["entries"]
    except (KeyError, TypeError):
        raise CaptureError("not a HAR file (no log.entries)") from None
    if not isinstance(entries, list):
        raise CaptureError("log.entries is not a list")
    for number, item in enumerate(entries, 1):
        try:
            yield entry(item)
        except (KeyError, TypeError, ValueError) as exc:
            raise CaptureError(f"entry {number}: {exc}") from None

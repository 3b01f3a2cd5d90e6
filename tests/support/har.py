"""A proxy capture written out as HAR 1.2, the way a recording proxy (mitmproxy, a browser) saves traffic.

Each exchange becomes one entry: the request's method, URL, headers and body, the
answer's status, headers and content; a body that is not UTF-8 is written base64
(`encoding`, which `conformance/traffic/har.py` reads), so the HAR holds the very
bytes the capture does. `startedDateTime` carries the capture's start times, `time`
the answer's elapsed milliseconds; an exchange with no answer has status 0 and the
proxy's `_error`, as mitmproxy writes it.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billing_kit.conformance.traffic import capture
from billing_kit.conformance.traffic.record import Seen

ORIGIN = "http://127.0.0.1"


def _headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _body(raw: bytes | bytearray, media_type: str | None) -> dict[str, Any]:
    try:
        return {"mimeType": media_type or "", "text": bytes(raw).decode("utf-8")}
    except UnicodeDecodeError:
        return {
            "mimeType": media_type or "",
            "text": base64.b64encode(bytes(raw)).decode("ascii"),
            "encoding": "base64",
        }


def entry(seen: Seen) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": seen.method,
        "url": ORIGIN + seen.target,
        "httpVersion": "HTTP/1.1",
        "headers": _headers(seen.headers),
        "queryString": [],
        "cookies": [],
        "headersSize": -1,
        "bodySize": seen.body_size,
    }
    if seen.body:
        request["postData"] = _body(seen.body, seen.header("content-type"))
    item: dict[str, Any] = {
        "startedDateTime": datetime.fromtimestamp(seen.started, UTC).isoformat(),
        "request": request,
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
    }
    answer = seen.response
    if answer is None:
        item["response"] = {"status": 0, "_error": seen.error or "no response", "headers": [], "content": {}}
        item["time"] = 0
        return item
    content_type = next((v for k, v in answer.headers if k.lower() == "content-type"), None)
    item["response"] = {
        "status": answer.status,
        "statusText": "",
        "httpVersion": "HTTP/1.1",
        "headers": _headers(answer.headers),
        "cookies": [],
        "content": {"size": answer.body_size, **_body(answer.body, content_type)},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": answer.body_size,
    }
    item["time"] = answer.elapsed * 1000
    return item


def from_capture(path: Path, out: Path) -> Path:
    """Write the capture at `path` as a HAR file at `out`; return `out`."""
    with path.open(encoding="utf-8") as lines:
        entries = [entry(seen) for seen in capture.read(lines)]
    document = {"log": {"version": "1.2", "creator": {"name": "tests.support.har", "version": "1"}, "entries": entries}}
    out.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return out

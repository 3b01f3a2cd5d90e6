"""`proxy --capture F`: one JSON line per exchange, read back by `billing-kit judge F`.

    {"capture": "billing-kit/1", "method": "POST", "target": "/v1/customers?x=1",
     "headers": [["Content-Type", "application/json"], ...], "body_b64": "...",
     "body_size": 42, "complete": true, "error": null,
     "response": {"status": 201, "headers": [...], "body_b64": "...", "body_size": 310, "elapsed": 0.004}}

Keys never reach the file: every Bearer token and every key in a query string is
replaced by its pseudonym (`sk_test_…abcd~<hash>`), also inside bodies, so the
judge still tells keys apart (RES-ORG-1, IDEM-4) and still sees a key echoed.
Bodies are the first bytes the proxy kept (the contract's body limit).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from billing_kit.conformance.errors import InputError
from billing_kit.conformance.traffic.record import Seen, SeenResponse

FORMAT = "billing-kit/1"


class CaptureError(InputError, ValueError):
    """The file is not a capture this judge can read."""


def _b64(raw: bytes | bytearray) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def _hide(raw: bytes | bytearray, secrets: dict[str, str]) -> bytes:
    out = bytes(raw)
    for secret, stand_in in secrets.items():
        out = out.replace(secret.encode("utf-8", "surrogateescape"), stand_in.encode())
    return out


def _hide_text(text: str, secrets: dict[str, str]) -> str:
    for secret, stand_in in secrets.items():
        text = text.replace(secret, stand_in)
    return text


def line(seen: Seen, secrets: dict[str, str]) -> str:
    """One exchange as a capture line, each of `secrets` replaced by its stand-in."""
    doc: dict[str, Any] = {
        "capture": FORMAT,
        "method": seen.method,
        "target": _hide_text(seen.target, secrets),
        "headers": [[k, _hide_text(v, secrets)] for k, v in seen.headers],
        "body_b64": _b64(_hide(seen.body, secrets)),
        "body_size": seen.body_size,
        "complete": seen.complete,
        "started": round(seen.started, 6),
        "error": seen.error,
        "response": None,
    }
    if seen.response is not None:
        response = seen.response
        doc["response"] = {
            "status": response.status,
            "headers": [[k, _hide_text(v, secrets)] for k, v in response.headers],
            "body_b64": _b64(_hide(response.body, secrets)),
            "body_size": response.body_size,
            "elapsed": round(response.elapsed, 6),
        }
    return json.dumps(doc, ensure_ascii=False)


def _pairs(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
        raise CaptureError("headers must be a list of [name, value] pairs")
    return [(str(k), str(v)) for k, v in value]


def _bytes(value: Any) -> bytearray:
    try:
        return bytearray(base64.b64decode(str(value or ""), validate=True))
    except ValueError as exc:
        raise CaptureError(f"a body is not base64: {exc}") from None


def parse(doc: Any) -> Seen:
    if not isinstance(doc, dict) or doc.get("capture") != FORMAT:
        raise CaptureError(f"not a line of a billing-kit capture ({FORMAT})")
    seen = Seen(str(doc["method"]), str(doc["target"]), _pairs(doc["headers"]), _bytes(doc.get("body_b64")))
    seen.body_size = int(doc.get("body_size", len(seen.body)))
    seen.complete = bool(doc.get("complete", True))
    seen.started = float(doc.get("started") or 0.0)
    seen.error = doc.get("error")
    answer = doc.get("response")
    if isinstance(answer, dict):
        body = _bytes(answer.get("body_b64"))
        seen.response = SeenResponse(
            int(answer["status"]), _pairs(answer["headers"]), body, int(answer.get("body_size", len(body))),
            float(answer.get("elapsed", 0.0)),
        )  # fmt: skip
    return seen


def read(lines: Iterable[str]) -> Iterator[Seen]:
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            yield parse(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise CaptureError(f"line {number}: {exc}") from None


def write(out: IO[str], seen: Seen, secrets: dict[str, str]) -> None:
    out.write(line(seen, secrets) + "\n")

"""Zoo defects in how the answer is made: a 5xx that is still an HTTP answer.

- `render-500-html`: lone surrogates pass validation and the row is stored; then the
  JSON renderer raises on them (as a UTF-8 encoder does) and the framework's error page
  answers 500 text/html.
- `post-501-html`: the stock handler of a bare HTTP server that implements no POST:
  every POST gets 501 text/html (Python's `http.server` does this).
"""

from __future__ import annotations

import html
from typing import Protocol

RENDER_500 = "render-500-html"
POST_501 = "post-501-html"
DEFECTS = (RENDER_500, POST_501)


class Defects(Protocol):
    def on(self, defect: str) -> bool: ...


def accepts_surrogates(app: Defects) -> bool:
    """Validation lets lone surrogates through (the renderer meets them later)."""
    return app.on(RENDER_500)


def rendered(text: str) -> tuple[int, bytes, str] | None:
    """None when the answer renders; else the framework's 500 error page (status, bytes, type).

    The conforming zoo never stores a lone surrogate, so only `render-500-html` gets here.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return 500, error_page(500, "Internal Server Error"), "text/html; charset=utf-8"
    return None


def error_page(status: int, title: str) -> bytes:
    """A framework's HTML error page."""
    return (
        f"<!DOCTYPE html><html><head><title>{status} {html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>Error code: {status}</p></body></html>"
    ).encode()


def refuses_method(app: Defects, method: str) -> bool:
    """`post-501-html`: no POST handler at all."""
    return app.on(POST_501) and method == "POST"

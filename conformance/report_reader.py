"""Reading a JSON report back (compare, replay, baseline, the badge and the statement).

Defensive: a report from another version, or edited by hand, is an error with its
reason (`ReportError`), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class ReportError(Exception):
    """A report that cannot be read back."""


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report, read defensively: only `verdicts` (a list of objects with `clause`) is required."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ReportError(f"{path}: not JSON: {exc}") from None
    verdicts = document.get("verdicts") if isinstance(document, dict) else None
    if not isinstance(verdicts, list) or not all(isinstance(v, dict) and "clause" in v for v in verdicts):
        raise ReportError(f"{path}: not a billing-kit JSON report (no list `verdicts`)")
    return dict(document)


def evidence_of(verdict: dict[str, Any]) -> list[dict[str, Any]]:
    """A verdict's recorded findings (`evidence` in schema 1.x; `findings` accepted too)."""
    items = verdict.get("evidence", verdict.get("findings", []))
    return [e for e in items if isinstance(e, dict)] if isinstance(items, list) else []

"""`--report-json`: the versioned document, valid against conformance/report.schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from billing_kit.conformance.model import RunResult
from billing_kit.conformance.reports import build_document

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "report.schema.json"


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def render(result: RunResult) -> str:
    return json.dumps(build_document(result), indent=2, ensure_ascii=False) + "\n"


def write(result: RunResult, path: Path, json_path: Path | None = None) -> None:
    """`json_path` is accepted like the other writers' (this file is the JSON report)."""
    path.write_text(render(result), encoding="utf-8")

"""Schemas as field rows: name, type label, constraints, example and the clauses that govern it.

A field row is what a reader scans in an API reference: `email  string<email>  required`,
its description, "Maximum string length: 256 (Unicode code points)", an example, and
the contract clauses (from the registry) that hold for that field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from billing_kit.conformance.clauses import Clause, clauses_for_field
from billing_kit.conformance.contract import Contract

# `x-length-unit` values the spec may use, as a reader says them.
LENGTH_UNITS = {
    "unicode-code-points": "Unicode code points",
    "utf-16-code-units": "UTF-16 code units",
    "bytes": "bytes",
}

Resolve = Callable[[Any], Any]


@dataclass(frozen=True)
class FieldRow:
    name: str
    pointer: str
    depth: int
    type_label: str
    required: bool
    format: str | None
    nullable: bool
    constraints: tuple[str, ...]
    description: str
    example: str | None
    options: tuple[str, ...]
    clauses: tuple[Clause, ...] = field(default=())

    @property
    def anchor(self) -> str:
        return self.pointer.strip("/").replace("/", "-").replace("[]", "")


def json_text(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False)


def type_label(schema: dict[str, Any], resolve: Resolve) -> str:
    """`string<email>`, `enum<string>`, `string | null`, `object[]`: the seed page's notation."""
    kind = str(schema.get("type", "any"))
    if "enum" in schema:
        label = f"enum<{kind}>"
    elif kind == "array":
        label = f"{type_label(resolve(schema.get('items', {})), resolve)}[]"
    elif "format" in schema:
        label = f"{kind}<{schema['format']}>"
    else:
        label = kind
    return f"{label} | null" if schema.get("nullable") else label


def length_unit(schema: dict[str, Any]) -> str | None:
    unit = schema.get("x-length-unit")
    if unit is None:
        return None
    return LENGTH_UNITS.get(str(unit), str(unit).replace("-", " "))


def constraints(schema: dict[str, Any]) -> tuple[str, ...]:
    """Each limit as a sentence, with the counting unit where the spec names one."""
    unit = length_unit(schema)
    suffix = f" ({unit})" if unit else ""
    out: list[str] = []
    if "minLength" in schema:
        out.append(f"Minimum string length: {schema['minLength']}{suffix}")
    if "maxLength" in schema:
        out.append(f"Maximum string length: {schema['maxLength']}{suffix}")
    if "minimum" in schema and "maximum" in schema:
        out.append(f"Required range: {schema['minimum']} <= x <= {schema['maximum']}")
    elif "minimum" in schema:
        out.append(f"Minimum: {schema['minimum']}")
    elif "maximum" in schema:
        out.append(f"Maximum: {schema['maximum']}")
    if "minItems" in schema:
        out.append(f"Minimum items: {schema['minItems']}")
    if "maxItems" in schema:
        out.append(f"Maximum items: {schema['maxItems']}")
    if "pattern" in schema:
        out.append(f"Pattern: `{schema['pattern']}`")
    if schema.get("type") == "object" and schema.get("additionalProperties") is True and not schema.get("properties"):
        out.append("Any keys; values of any JSON type")
    return tuple(out)


def field_rows(
    schema: dict[str, Any],
    resolve: Resolve,
    clause_families: tuple[str, ...] = (),
    prefix: str = "",
    depth: int = 0,
    contract: Contract | None = None,
) -> list[FieldRow]:
    """One row per property, depth-first; arrays of objects and nested objects add child rows."""
    rows: list[FieldRow] = []
    required = set(schema.get("required", []))
    for name, raw in schema.get("properties", {}).items():
        prop = resolve(raw)
        pointer = f"{prefix}/{name}"
        governing = tuple(c for c in clauses_for_field(pointer, contract) if c.family in clause_families)
        rows.append(
            FieldRow(
                name=pointer.lstrip("/").replace("/", "."),
                pointer=pointer,
                depth=depth,
                type_label=type_label(prop, resolve),
                required=name in required,
                format=prop.get("format"),
                nullable=bool(prop.get("nullable")),
                constraints=constraints(prop),
                description=str(prop.get("description", "")).strip(),
                example=json_text(prop["example"]) if "example" in prop else None,
                options=tuple(str(v) for v in prop.get("enum", ())),
                clauses=governing,
            )
        )
        child = resolve(prop.get("items", {})) if prop.get("type") == "array" else prop
        if child.get("properties"):
            child_prefix = f"{pointer}[]" if prop.get("type") == "array" else pointer
            rows.extend(field_rows(child, resolve, clause_families, child_prefix, depth + 1, contract))
    return rows

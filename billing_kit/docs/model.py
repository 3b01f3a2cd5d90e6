"""What the reference shows, built from the loaded contract and the clause registry.

The templates only lay this out: every value here is read from the spec in use
(through `conformance.contract`) or from `conformance.clauses`, never typed again.
Clauses that name fields sit next to those fields; the others sit in the section
their family belongs to (AUTH under Authorizations, IDEM beside the
Idempotency-Key header, ERR under Errors, the remaining REQ/RES under Body/Response).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from billing_kit.conformance.clauses import Clause, for_contract
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract, SpecError
from billing_kit.conformance.version import __version__
from billing_kit.docs.curl import curl_command
from billing_kit.docs.fields import FieldRow, constraints, field_rows, json_text, type_label

METHODS = ("get", "put", "post", "patch", "delete")
# Which families' field-less clauses belong to which section of the page.
SECTION_FAMILIES = {"auth": "AUTH", "idempotency": "IDEM", "errors": "ERR", "request": "REQ", "response": "RES"}


@dataclass(frozen=True)
class Authorization:
    header: str
    location: str
    scheme: str
    description: str
    key_prefixes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    example: str | None


@dataclass(frozen=True)
class Parameter:
    location: str
    row: FieldRow
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    phrase: str
    description: str
    content_type: str | None
    headers: tuple[Header, ...]
    example: str | None


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    curl: str
    status: int
    response: str | None


@dataclass(frozen=True)
class Limit:
    key: str
    label: str
    value: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    url: str
    anchor: str
    tag: str
    summary: str
    description: str
    authorizations: tuple[Authorization, ...]
    auth_clauses: tuple[Clause, ...]
    parameters: tuple[Parameter, ...]
    body_content_type: str | None
    body_required: bool
    body_closed: bool
    body_fields: tuple[FieldRow, ...]
    body_clauses: tuple[Clause, ...]
    success_status: int
    success_description: str
    success_content_type: str | None
    response_fields: tuple[FieldRow, ...]
    response_clauses: tuple[Clause, ...]
    errors: tuple[ErrorResponse, ...]
    problem_fields: tuple[FieldRow, ...]
    error_clauses: tuple[Clause, ...]
    examples: tuple[Example, ...]
    limits: tuple[Limit, ...]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    description: str
    server_url: str
    operations: tuple[Operation, ...]
    clauses: tuple[Clause, ...]
    origin: str
    sha256: str
    generator: str


def _bytes_text(value: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit} ({value:,} bytes)"
    return f"{value:,} bytes"


def limit(key: str, value: int) -> Limit:
    """`body_bytes: 1048576` -> "Body size: 1 MiB (1,048,576 bytes)"; the unit is the key's suffix."""
    if key.endswith("_bytes"):
        label, text = key.removesuffix("_bytes") + " size", _bytes_text(value)
    elif key.endswith("_seconds"):
        label, text = key.removesuffix("_seconds"), f"{value} s"
    else:
        label, text = key, str(value)
    label = label.replace("_", " ")
    return Limit(key=key, label=label[:1].upper() + label[1:], value=text)


def _field_less(contract: Contract, family: str, governed: bool) -> tuple[Clause, ...]:
    if not governed:
        return ()
    return tuple(c for c in for_contract(contract) if c.family == family and not c.fields)


def _content(node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    for content_type, media in node.get("content", {}).items():
        return str(content_type), dict(media)
    return None, {}


def _named_examples(contract: Contract, media: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """name -> (summary, value), from `examples`, else `example`."""
    if "examples" in media:
        out = {}
        for name, raw in media["examples"].items():
            example = contract.resolve(raw)
            out[str(name)] = (str(example.get("summary", name)), example["value"])
        return out
    if "example" in media:
        return {"example": ("Example", media["example"])}
    return {}


def _idempotency_header_name(contract: Contract) -> str | None:
    try:
        return str(contract.idempotency_header["name"]).lower()
    except SpecError:  # a spec without the header: the IDEM clauses sit nowhere
        return None


def _parameter(contract: Contract, raw: dict[str, Any], governed: bool) -> Parameter:
    param = contract.resolve(raw)
    schema = contract.resolve(param.get("schema", {}))
    example = param.get("example", schema.get("example"))
    row = FieldRow(
        name=str(param["name"]),
        pointer=f"{param.get('in', 'header')}:{param['name']}",
        depth=0,
        type_label=type_label(schema, contract.resolve),
        required=bool(param.get("required")),
        format=schema.get("format"),
        nullable=bool(schema.get("nullable")),
        constraints=constraints(schema),
        description=str(param.get("description", "")).strip(),
        example=json_text(example) if example is not None else None,
        options=tuple(str(v) for v in schema.get("enum", ())),
    )
    is_idempotency = governed and str(param["name"]).lower() == _idempotency_header_name(contract)
    clauses = _field_less(contract, SECTION_FAMILIES["idempotency"], is_idempotency)
    return Parameter(location=str(param.get("in", "header")), row=row, clauses=clauses)


def _authorizations(contract: Contract, op: dict[str, Any]) -> tuple[Authorization, ...]:
    schemes = contract.spec.get("components", {}).get("securitySchemes", {})
    out: list[Authorization] = []
    for requirement in op.get("security", contract.spec.get("security", [])):
        for name in requirement:
            scheme = contract.resolve(schemes[name])
            http_scheme = str(scheme.get("scheme", scheme.get("type", "")))
            prefixes = scheme.get("x-key-prefixes", {})
            out.append(
                Authorization(
                    header=str(scheme.get("name", "Authorization")),
                    location=str(scheme.get("in", "header")),
                    scheme=http_scheme,
                    description=str(scheme.get("description", "")).strip(),
                    key_prefixes=tuple((str(k), str(v)) for k, v in prefixes.items()),
                )
            )
    return tuple(out)


def _errors(contract: Contract, responses: dict[str, Any]) -> tuple[ErrorResponse, ...]:
    out = []
    for code, raw in sorted(responses.items(), key=lambda item: str(item[0])):
        if not str(code).isdigit() or int(code) < 400:
            continue
        response = contract.resolve(raw)
        content_type, media = _content(response)
        examples = _named_examples(contract, media)
        example = next(iter(examples.values()))[1] if examples else None
        headers = tuple(
            Header(
                name=str(name),
                description=str(contract.resolve(h).get("description", "")).strip(),
                example=_header_example(contract, contract.resolve(h)),
            )
            for name, h in response.get("headers", {}).items()
        )
        out.append(
            ErrorResponse(
                status=int(code),
                phrase=_title(example) or HTTPStatus(int(code)).phrase,
                description=str(response.get("description", "")).strip(),
                content_type=content_type,
                headers=headers,
                example=json_text(example, indent=2) if example is not None else None,
            )
        )
    return tuple(out)


def _title(example: Any) -> str | None:
    """The problem example's own title (the spec's wording, e.g. RFC 9110's names), if it has one."""
    return str(example["title"]) if isinstance(example, dict) and "title" in example else None


def _header_example(contract: Contract, header: dict[str, Any]) -> str | None:
    example = header.get("example", contract.resolve(header.get("schema", {})).get("example"))
    return None if example is None else str(example)


def operation(contract: Contract, path: str, method: str, op: dict[str, Any]) -> Operation:
    resolve = contract.resolve
    # The clause registry is the contract of POST /customers; other operations get none.
    governed = path == CUSTOMERS_PATH and method == "post"
    request_families = (SECTION_FAMILIES["request"],) if governed else ()
    response_families = (SECTION_FAMILIES["response"],) if governed else ()
    body = resolve(op.get("requestBody", {}))
    body_type, body_media = _content(body)
    body_schema = resolve(body_media.get("schema", {}))
    responses = op.get("responses", {})
    success_code = next((str(c) for c in responses if str(c).startswith("2")), "200")
    success = resolve(responses.get(success_code, {}))
    success_type, success_media = _content(success)
    errors = _errors(contract, responses)
    first_error: dict[str, Any] = next(
        (resolve(r) for c, r in responses.items() if str(c).isdigit() and int(c) >= 400), {}
    )
    problem_schema = resolve(_content(first_error)[1].get("schema", {}))
    authorizations = _authorizations(contract, op)
    url = contract.server_url.rstrip("/") + path
    request_examples = _named_examples(contract, body_media)
    response_examples = _named_examples(contract, success_media)
    examples = []
    for name, (summary, value) in (request_examples or {"request": ("Request", None)}).items():
        answer = response_examples.get(name) or next(iter(response_examples.values()), None)
        curl = curl_command(method, url, value, body_type, any(a.scheme == "bearer" for a in authorizations))
        response_text = json_text(answer[1], indent=2) if answer else None
        examples.append(Example(name, summary, curl, int(success_code), response_text))
    return Operation(
        method=method.upper(),
        path=path,
        url=url,
        anchor=str(op.get("operationId", f"{method}-{path}")).replace("_", "-"),
        tag=str((op.get("tags") or [""])[0]),
        summary=str(op.get("summary", "")),
        description=str(op.get("description", "")).strip(),
        authorizations=authorizations,
        auth_clauses=_field_less(contract, SECTION_FAMILIES["auth"], governed),
        parameters=tuple(_parameter(contract, p, governed) for p in op.get("parameters", [])),
        body_content_type=body_type,
        body_required=bool(body.get("required")),
        body_closed=body_schema.get("additionalProperties") is False,
        body_fields=tuple(field_rows(body_schema, resolve, request_families, contract=contract)),
        body_clauses=_field_less(contract, SECTION_FAMILIES["request"], governed),
        success_status=int(success_code),
        success_description=str(success.get("description", "")).strip(),
        success_content_type=success_type,
        response_fields=tuple(
            field_rows(resolve(success_media.get("schema", {})), resolve, response_families, contract=contract)
        ),
        response_clauses=_field_less(contract, SECTION_FAMILIES["response"], governed),
        errors=errors,
        problem_fields=tuple(field_rows(problem_schema, resolve)),
        error_clauses=_field_less(contract, SECTION_FAMILIES["errors"], governed),
        examples=tuple(examples),
        limits=tuple(limit(k, v) for k, v in (contract.limits if governed else _int_map(op)).items()),
    )


def _int_map(op: dict[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in op.get("x-limits", {}).items()}


def build_reference(contract: Contract) -> Reference:
    info = contract.spec.get("info", {})
    operations = tuple(
        operation(contract, str(path), method, dict(contract.resolve(item[method])))
        for path, item in contract.spec.get("paths", {}).items()
        for method in METHODS
        if method in item
    )
    return Reference(
        title=str(info.get("title", "API reference")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")).strip(),
        server_url=contract.server_url,
        operations=operations,
        clauses=for_contract(contract),
        origin=contract.origin,
        sha256=contract.sha256,
        generator=f"billing-kit {__version__}",
    )

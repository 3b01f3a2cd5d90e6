"""The contract file itself: a valid OpenAPI 3.0 document whose every example validates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import referencing
import referencing.jsonschema
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from billing_kit.conformance.contract import load_contract

SPEC_URI = "urn:billing-kit:openapi"
SCHEMA_KEYS = ("schema", "items", "additionalProperties", "not")


def _token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def examples(node: Any, pointer: str = "", in_schema: bool = False) -> Iterator[tuple[str, str, Any]]:
    """(where, pointer of its schema, value) for every example in the document."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from examples(item, f"{pointer}/{index}")
        return
    if not isinstance(node, dict):
        return
    if in_schema and "example" in node:
        yield f"{pointer}/example", pointer, node["example"]
    if not in_schema and isinstance(node.get("schema"), dict):  # a parameter, header or media type
        if "example" in node:
            yield f"{pointer}/example", f"{pointer}/schema", node["example"]
        for name, example in node.get("examples", {}).items():
            yield f"{pointer}/examples/{_token(name)}", f"{pointer}/schema", example["value"]
    for key, child in node.items():
        child_pointer = f"{pointer}/{_token(key)}"
        if key in ("example", "examples"):
            continue
        if (pointer == "/components" and key == "schemas") or (in_schema and key == "properties"):
            for name, schema in child.items():
                yield from examples(schema, f"{child_pointer}/{_token(name)}", in_schema=True)
        else:
            yield from examples(child, child_pointer, in_schema=key in SCHEMA_KEYS and isinstance(child, dict))


def _validator(spec: dict[str, Any], schema_pointer: str) -> OAS30Validator:
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        SPEC_URI, referencing.jsonschema.DRAFT4.create_resource(spec)
    )
    return OAS30Validator({"$ref": f"{SPEC_URI}#{schema_pointer}"}, registry=registry)


SPEC = load_contract().spec
EXAMPLES = list(examples(SPEC))


def test_spec_passes_openapi_spec_validator() -> None:
    validate(SPEC)


def test_the_walk_finds_the_examples_that_matter() -> None:
    where = {w for w, _, _ in EXAMPLES}
    assert "/paths/~1customers/post/requestBody/content/application~1json/examples/jane" in where
    assert "/paths/~1customers/post/responses/201/content/application~1json/examples/alice" in where
    assert "/components/schemas/Customer/properties/created_at/example" in where
    assert "/components/responses/BadRequest/content/application~1problem+json/example" in where
    assert "/components/parameters/IdempotencyKey/example" in where
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize(("where", "schema_pointer", "value"), EXAMPLES, ids=[w for w, _, _ in EXAMPLES])
def test_every_example_validates_against_its_schema(where: str, schema_pointer: str, value: Any) -> None:
    errors = [e.message for e in _validator(SPEC, schema_pointer).iter_errors(value)]
    assert not errors, f"{where}: {errors}"


@pytest.mark.parametrize(
    ("schema_pointer", "value"),
    [
        ("/components/schemas/Customer", {"id": "cus_1"}),  # eight fields missing
        ("/components/schemas/Customer/properties/id", "cus_\n"),
        ("/components/schemas/CustomerCreate/properties/name", None),  # request side is not nullable
        ("/components/schemas/Problem", {"type": "about:blank", "title": "x", "status": 99, "detail": "d"}),
    ],
)
def test_the_validator_rejects_a_bad_example(schema_pointer: str, value: Any) -> None:
    assert list(_validator(SPEC, schema_pointer).iter_errors(value))


def _media_examples(media: dict[str, Any]) -> dict[str, Any]:
    return {name: example for name, example in media.get("examples", {}).items()}


def test_every_request_example_has_a_201_example_that_echoes_it() -> None:
    """RES-ECHO-1 beside the examples: each 201 example shows what its request example sent."""
    operation = SPEC["paths"]["/customers"]["post"]
    requests = _media_examples(operation["requestBody"]["content"]["application/json"])
    responses = _media_examples(operation["responses"]["201"]["content"]["application/json"])
    assert requests and set(requests) == set(responses), "one 201 example per request example, by the same name"
    for name, request in requests.items():
        sent, answered = request["value"], responses[name]["value"]
        echoed = {field: answered.get(field) for field in sent}
        assert echoed == sent, f"{name}: the 201 example does not echo its request"


def test_example_titles_stand_alone() -> None:
    """No summary refers to the page the project came from, which a reader of the spec never saw."""
    operation = SPEC["paths"]["/customers"]["post"]
    medias = [operation["requestBody"]["content"]["application/json"]]
    medias += [r["content"][t] for r in operation["responses"].values() if "content" in r for t in r["content"]]
    summaries = [e.get("summary", "") for media in medias for e in _media_examples(media).values()]
    assert summaries and all(summary.strip() for summary in summaries)
    assert [s for s in summaries if "page" in s.lower()] == []

"""`conformance.specdiff`: each rule on a minimal pair of specs, the project's own and a copy edited one way.

Every edit reads the value it changes from openapi.yaml and derives the new one
(half of it, twice it, one more enum member), so these tests follow the spec.
Each test names the rule it proves; `test_every_rule_has_a_test` holds the list.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from billing_kit.conformance import clauses
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract, load_contract
from billing_kit.conformance.specdiff import Change, Party, diff_contracts, rules
from tests.support.procs import ROOT

SPEC = ROOT / "openapi.yaml"
Spec = dict[str, Any]
Edit = Callable[[Spec], None]


def original() -> Spec:
    document: Spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return document


def follow(spec: Spec, node: Any) -> Any:
    """A node with its local `$ref` followed (the edited copy keeps the spec's own layout)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operation(spec: Spec) -> Spec:
    node: Spec = spec["paths"][CUSTOMERS_PATH]["post"]
    return node


def request_schema(spec: Spec) -> Spec:
    body = follow(spec, operation(spec)["requestBody"])
    schema: Spec = follow(spec, body["content"]["application/json"]["schema"])
    return schema


def response_schema(spec: Spec) -> Spec:
    created = follow(spec, operation(spec)["responses"]["201"])
    schema: Spec = follow(spec, created["content"]["application/json"]["schema"])
    return schema


def scheme(spec: Spec) -> Spec:
    name = next(iter(operation(spec)["security"][0]))
    node: Spec = spec["components"]["securitySchemes"][name]
    return node


def idempotency_schema(spec: Spec) -> Spec:
    for raw in operation(spec)["parameters"]:
        param = follow(spec, raw)
        if param["name"].lower() == "idempotency-key":
            schema: Spec = param["schema"]
            return schema
    raise AssertionError("the spec has no Idempotency-Key")


def write(tmp_path: Path, name: str, spec: Spec) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def pair(tmp_path: Path, edit: Edit, base: Edit | None = None) -> tuple[Contract, Contract]:
    """(OLD, NEW): the spec (optionally edited by `base` first), and a copy of it edited by `edit`.

    Both are written to files and loaded the way the command loads them, so an edit
    that made a spec the kit cannot load fails here.
    """
    old = original()
    if base is not None:
        base(old)
    new = copy.deepcopy(old)
    edit(new)
    return load_contract(write(tmp_path, "old.yaml", old)), load_contract(write(tmp_path, "new.yaml", new))


def only_change(tmp_path: Path, edit: Edit, rule: str, base: Edit | None = None) -> Change:
    changes = diff_contracts(*pair(tmp_path, edit, base))
    assert len(changes) == 1, [c.summary for c in changes]
    assert changes[0].rule == rule, changes[0]
    return changes[0]


def string_field_with_limit(spec: Spec) -> str:
    fields = [n for n, p in request_schema(spec)["properties"].items() if "maxLength" in p]
    assert fields
    return fields[0]


# -- the request body ----------------------------------------------------------
def test_a_request_limit_halved_breaks_clients_on_req_len_1(tmp_path: Path) -> None:
    name = string_field_with_limit(original())

    def halve(spec: Spec) -> None:
        request_schema(spec)["properties"][name]["maxLength"] //= 2

    change = only_change(tmp_path, halve, "request-bound")
    assert change.breaks == (Party.CLIENTS,) and change.clause == "REQ-LEN-1"
    assert change.pointer.endswith(f"/properties/{name}/maxLength")
    assert change.after == change.before // 2


def test_a_request_limit_doubled_breaks_implementations(tmp_path: Path) -> None:
    name = string_field_with_limit(original())

    def double(spec: Spec) -> None:
        request_schema(spec)["properties"][name]["maxLength"] *= 2

    change = only_change(tmp_path, double, "request-bound")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "REQ-LEN-1"


def test_a_new_required_field_breaks_clients(tmp_path: Path) -> None:
    def add_phone(spec: Spec) -> None:
        schema = request_schema(spec)
        schema["properties"]["phone"] = {"type": "string"}
        schema["required"].append("phone")

    changes = diff_contracts(*pair(tmp_path, add_phone))
    assert {c.rule for c in changes} == {"request-required", "request-field"}
    assert all(c.breaks == (Party.CLIENTS,) for c in changes)
    assert any(c.pointer.endswith("/required") and c.after == "phone" for c in changes)
    # No clause governs a field the registry does not know: ERR-1 (it must now be rejected without it).
    assert {c.clause for c in changes} == {"ERR-1"}


def test_a_field_no_longer_required_breaks_implementations(tmp_path: Path) -> None:
    def add_phone(spec: Spec) -> None:
        schema = request_schema(spec)
        schema["properties"]["phone"] = {"type": "string"}
        schema["required"].append("phone")

    def drop_requirement(spec: Spec) -> None:
        request_schema(spec)["required"].remove("phone")

    change = only_change(tmp_path, drop_requirement, "request-required", base=add_phone)
    assert change.breaks == (Party.IMPLEMENTATIONS,)


def test_an_optional_request_field_added_to_a_closed_body_breaks_implementations(tmp_path: Path) -> None:
    assert request_schema(original()).get("additionalProperties") is False

    def add(spec: Spec) -> None:
        request_schema(spec)["properties"]["phone"] = {"type": "string"}

    change = only_change(tmp_path, add, "request-field")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "REQ-UNKNOWN-1"


def test_a_request_field_removed_breaks_clients(tmp_path: Path) -> None:
    contract = load_contract(SPEC)
    optional = contract.optional_string_fields[0]

    def remove(spec: Spec) -> None:
        del request_schema(spec)["properties"][optional]

    change = only_change(tmp_path, remove, "request-field")
    assert change.breaks == (Party.CLIENTS,) and change.after is not None


def test_a_pattern_added_to_a_request_field_breaks_clients(tmp_path: Path) -> None:
    name = string_field_with_limit(original())

    def tighten(spec: Spec) -> None:
        request_schema(spec)["properties"][name]["pattern"] = "^[A-Za-z ]*$"

    change = only_change(tmp_path, tighten, "request-format")
    assert change.breaks == (Party.CLIENTS,)
    assert change.clause in {c.id for c in clauses.clauses_for_field(f"/{name}")}


def test_a_request_enum_restricts_then_widens(tmp_path: Path) -> None:
    name = string_field_with_limit(original())
    example = str(request_schema(original())["properties"][name]["example"])

    def restrict(spec: Spec) -> None:
        request_schema(spec)["properties"][name]["enum"] = [example]

    def widen(spec: Spec) -> None:
        request_schema(spec)["properties"][name]["enum"].append(example + " II")

    assert only_change(tmp_path, restrict, "request-enum").breaks == (Party.CLIENTS,)
    assert only_change(tmp_path, widen, "request-enum", base=restrict).breaks == (Party.IMPLEMENTATIONS,)


def test_a_request_type_changed_breaks_both(tmp_path: Path) -> None:
    name = string_field_with_limit(original())

    def retype(spec: Spec) -> None:
        field = request_schema(spec)["properties"][name]
        field["type"] = "integer"
        del field["maxLength"]

    changes = diff_contracts(*pair(tmp_path, retype))
    typed = [c for c in changes if c.rule == "request-type"]
    assert len(typed) == 1 and set(typed[0].breaks) == {Party.CLIENTS, Party.IMPLEMENTATIONS}


def test_unknown_fields_allowed_breaks_implementations(tmp_path: Path) -> None:
    def open_body(spec: Spec) -> None:
        request_schema(spec)["additionalProperties"] = True

    change = only_change(tmp_path, open_body, "request-closed")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "REQ-UNKNOWN-1"


# -- the answers ---------------------------------------------------------------
def test_environment_gaining_a_value_breaks_clients(tmp_path: Path) -> None:
    spec = original()
    environments = follow(spec, response_schema(spec)["properties"]["environment"])["enum"]
    new_value = "staging"
    assert new_value not in environments

    def add_staging(spec: Spec) -> None:
        follow(spec, response_schema(spec)["properties"]["environment"])["enum"].append(new_value)

    change = only_change(tmp_path, add_staging, "response-value")
    assert change.breaks == (Party.CLIENTS,) and change.clause == "RES-ENV-1"
    # The change is reported where the enum is written: the named schema the field refers to, if any.
    where = str(response_schema(spec)["properties"]["environment"].get("$ref", "#/properties/environment"))[1:]
    assert change.after == new_value and change.pointer.endswith(f"{where}/enum")


def test_a_response_field_made_nullable_breaks_clients(tmp_path: Path) -> None:
    props = response_schema(original())["properties"]
    field = next(n for n, p in props.items() if not p.get("nullable") and p.get("type") == "string")

    def nullable(spec: Spec) -> None:
        response_schema(spec)["properties"][field]["nullable"] = True

    change = only_change(tmp_path, nullable, "response-value")
    assert change.breaks == (Party.CLIENTS,)


def test_a_response_field_removed_breaks_clients(tmp_path: Path) -> None:
    contract = load_contract(SPEC)
    field = contract.response_fields[-1]

    def remove(spec: Spec) -> None:
        schema = response_schema(spec)
        del schema["properties"][field]
        schema["required"].remove(field)

    changes = diff_contracts(*pair(tmp_path, remove))
    assert {c.rule for c in changes} == {"response-field", "response-required"}
    assert all(c.breaks == (Party.CLIENTS,) for c in changes)


def test_a_response_field_added_as_required_breaks_implementations(tmp_path: Path) -> None:
    def add(spec: Spec) -> None:
        schema = response_schema(spec)
        schema["properties"]["phone"] = {"type": "string"}
        schema["required"].append("phone")

    changes = diff_contracts(*pair(tmp_path, add))
    required = next(c for c in changes if c.rule == "response-required")
    assert required.breaks == (Party.IMPLEMENTATIONS,) and required.clause == "RES-1"


def test_an_optional_response_field_breaks_no_one(tmp_path: Path) -> None:
    def add(spec: Spec) -> None:
        response_schema(spec)["properties"]["phone"] = {"type": "string"}

    change = only_change(tmp_path, add, "response-field")
    assert change.breaks == () and change.whom == "neither"


def test_a_problem_field_made_required_breaks_implementations(tmp_path: Path) -> None:
    def require(spec: Spec) -> None:
        schema = _problem(spec)
        optional = next(n for n in schema["properties"] if n not in schema["required"])
        schema["required"].append(optional)

    change = only_change(tmp_path, require, "problem-required")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "ERR-3"


def _problem(spec: Spec) -> Spec:
    name = next(n for n, s in original()["components"]["schemas"].items() if "status" in s.get("properties", {}))
    schema: Spec = spec["components"]["schemas"][name]
    return schema


def test_a_problem_field_removed_breaks_clients(tmp_path: Path) -> None:
    def remove(spec: Spec) -> None:
        schema = _problem(spec)
        optional = next(n for n in schema["properties"] if n not in schema["required"])
        del schema["properties"][optional]

    change = only_change(tmp_path, remove, "problem-field")
    assert change.breaks == (Party.CLIENTS,) and change.clause == "ERR-3"


def test_a_problem_bound_narrowed_breaks_implementations(tmp_path: Path) -> None:
    def narrow(spec: Spec) -> None:
        _problem(spec)["properties"]["status"]["maximum"] -= 1

    change = only_change(tmp_path, narrow, "problem-value")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "ERR-3"


# -- the operation -------------------------------------------------------------
def test_body_bytes_halved_breaks_clients(tmp_path: Path) -> None:
    def halve(spec: Spec) -> None:
        operation(spec)["x-limits"]["body_bytes"] //= 2

    change = only_change(tmp_path, halve, "limit")
    assert change.breaks == (Party.CLIENTS,) and change.clause == "REQ-BODY-2"
    assert change.after * 2 == change.before


def test_a_limit_raised_breaks_implementations(tmp_path: Path) -> None:
    def deeper(spec: Spec) -> None:
        operation(spec)["x-limits"]["nesting_depth"] *= 2

    change = only_change(tmp_path, deeper, "limit")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "REQ-BODY-1"


def _extra_prefix(spec: Spec) -> None:
    prefixes = scheme(spec)["x-key-prefixes"]
    sandbox = scheme(spec)["x-sandbox-environment"]
    first = next(p for p, env in prefixes.items() if env == sandbox)
    prefixes[first.rstrip("_") + "x_"] = sandbox


def test_a_key_prefix_removed_breaks_clients(tmp_path: Path) -> None:
    def remove(spec: Spec) -> None:
        prefixes = scheme(spec)["x-key-prefixes"]
        del prefixes[list(prefixes)[-1]]

    change = only_change(tmp_path, remove, "key-prefix", base=_extra_prefix)
    assert change.breaks == (Party.CLIENTS,) and change.clause == "AUTH-1"


def test_a_key_prefix_added_breaks_implementations(tmp_path: Path) -> None:
    change = only_change(tmp_path, _extra_prefix, "key-prefix")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == "AUTH-1"


def test_a_shorter_idempotency_key_breaks_clients(tmp_path: Path) -> None:
    def halve(spec: Spec) -> None:
        idempotency_schema(spec)["maxLength"] //= 2

    change = only_change(tmp_path, halve, "idempotency-key")
    assert change.breaks == (Party.CLIENTS,) and change.clause == "IDEM-3"


def test_a_status_removed_from_the_documented_errors_breaks_clients(tmp_path: Path) -> None:
    contract = load_contract(SPEC)
    code = str(contract.documented_statuses[-1])
    described = follow(original(), operation(original())["responses"][code])["description"]

    def remove(spec: Spec) -> None:
        del operation(spec)["responses"][code]

    change = only_change(tmp_path, remove, "status")
    assert change.breaks == (Party.CLIENTS,)
    assert change.clause is not None and change.clause in described  # the clause the response names


def test_a_text_naming_a_new_must_clause_breaks_implementations(tmp_path: Path) -> None:
    text = SPEC.read_text(encoding="utf-8")
    unnamed = next(c.id for c in clauses.CLAUSES if c.level is clauses.Level.MUST and c.id not in text)

    def name_it(spec: Spec) -> None:
        operation(spec)["description"] += f" ({unnamed})"

    change = only_change(tmp_path, name_it, "new-must-clause")
    assert change.breaks == (Party.IMPLEMENTATIONS,) and change.clause == unnamed


def test_descriptions_and_examples_break_no_one(tmp_path: Path) -> None:
    def reword(spec: Spec) -> None:
        operation(spec)["description"] += " Reworded."
        for prop in request_schema(spec)["properties"].values():
            prop["description"] = prop.get("description", "") + " (reworded)"
            if "example" in prop:
                prop["example"] = str(prop["example"]) + "x"
        spec["info"]["version"] += "-next"

    changes = diff_contracts(*pair(tmp_path, reword))
    assert len(changes) > 3 and all(c.whom == "neither" for c in changes), [c for c in changes if c.breaks]
    assert {c.rule for c in changes} == {"text", "info"}


def test_tags_break_no_one(tmp_path: Path) -> None:
    def retag(spec: Spec) -> None:
        spec["tags"].append({"name": "Extra"})

    assert only_change(tmp_path, retag, "tags").whom == "neither"


def test_a_change_no_rule_knows_is_listed_as_unclassified(tmp_path: Path) -> None:
    def rename(spec: Spec) -> None:
        operation(spec)["operationId"] += "_v2"

    changes = diff_contracts(*pair(tmp_path, rename))
    assert len(changes) == 1 and not changes[0].classified and changes[0].whom == "unclassified"
    assert changes[0].breaking and changes[0].pointer.endswith("/post/operationId")


# -- the rules themselves ------------------------------------------------------
def test_every_clause_a_rule_names_is_in_the_registry() -> None:
    source = Path(rules.__file__).read_text(encoding="utf-8")
    named = set(re.findall(r'"([A-Z]+(?:-[A-Z]+)*-\d+)"', source))
    assert named and all(clause_id in clauses.BY_ID for clause_id in named), named - set(clauses.BY_ID)


def test_every_rule_has_a_test() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    proven = set(re.findall(r'"([a-z]+(?:-[a-z]+)+|text|info|tags|limit|status|unclassified)"', source))
    missing = {r.name for r in rules.RULES} - proven
    assert not missing, f"rules without a test: {sorted(missing)}"


# -- named schemas: a field's schema written once in components/schemas --------
def _inline(spec: Spec, schema: Spec, field: str) -> None:
    """`field` of `schema` written inline again, as the named schema it refers to says."""
    schema["properties"][field] = copy.deepcopy(follow(spec, schema["properties"][field]))


def test_a_field_moved_into_a_named_schema_breaks_no_one(tmp_path: Path) -> None:
    def inline_both(spec: Spec) -> None:
        _inline(spec, response_schema(spec), "environment")
        _inline(spec, request_schema(spec), "metadata")

    def as_written(spec: Spec) -> None:
        written = original()
        response_schema(spec)["properties"]["environment"] = response_schema(written)["properties"]["environment"]
        request_schema(spec)["properties"]["metadata"] = request_schema(written)["properties"]["metadata"]

    changes = diff_contracts(*pair(tmp_path, as_written, base=inline_both))
    moved = [c for c in changes if "/properties/" in c.pointer]
    assert {c.rule for c in moved} == {"request-named", "response-named"}, [c.summary for c in moved]
    assert all(c.whom == "neither" for c in moved), [c.summary for c in moved]


def test_a_named_schema_narrowed_is_read_as_the_field_using_it(tmp_path: Path) -> None:
    def cap(spec: Spec) -> None:
        follow(spec, request_schema(spec)["properties"]["metadata"])["maxProperties"] = 10

    change = only_change(tmp_path, cap, "request-bound")
    assert change.breaks == (Party.CLIENTS,) and change.clause is not None and change.clause.startswith("REQ-META")

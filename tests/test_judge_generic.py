"""The generic judge (`generic_judge`): which rules a request breaks and which MAY zones it touches.

Fed requests as bytes, headers and key kinds, no server. Limits come from the
contract (`x-limits`, `maxLength`) or from the judge's own documented bounds.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing_kit.conformance import strategies
from billing_kit.conformance.checks import generic_judge
from billing_kit.conformance.checks.generic_judge import (
    Break,
    Expectation,
    auth_kind,
    bearer_shaped,
    email_class,
    judge_request,
    parse_body,
    strings_of,
)
from billing_kit.conformance.contract import Contract, bundled_spec_bytes, load_contract
from tests.support.canned import CONTRACT

EMAIL = "a@example.com"
LIMIT = CONTRACT.max_lengths["name"]
JSON = "application/json"


def expect(
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str | None = JSON,
    auth: generic_judge.AuthKind = "valid",
    key: str | None = None,
) -> Expectation:
    data = raw if raw is not None else utf8_json(body)
    return judge_request(CONTRACT, content_type=content_type, body=data, auth=auth, idempotency_key=key)


def utf8_json(body: Any) -> bytes:
    """`body` as JSON in UTF-8, lone surrogates written as escapes (the only way JSON can carry them)."""
    text = json.dumps(body, ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text).encode()


def breaks(expectation: Expectation) -> list[tuple[str, str, str, str, tuple[int, ...]]]:
    return [(b.clause, b.strength, b.label, b.detail, b.statuses) for b in expectation.breaks]


def valid(**fields: Any) -> dict[str, Any]:
    return {"email": EMAIL, **fields}


# -- emails ----------------------------------------------------------------------------------------


def _plain_of_length(total: int) -> str:
    local = "a" * strategies.LOCAL_MAX
    base = strategies.EMAIL_BASE_DOMAINS[0]
    size = total - len(local) - 1 - len(base)  # the extra labels with their dots
    labels: list[str] = []
    while size > 0:  # labels of at most 63 characters, each followed by its dot
        label = min(strategies.LABEL_MAX, size - 1)
        if size - (label + 1) == 1:  # never leave a single dot: shorten this label by one
            label -= 1
        labels.append("b" * label)
        size -= label + 1
    return f"{local}@{''.join(f'{x}.' for x in labels)}{base}"


@pytest.mark.parametrize(
    ("email", "kind"),
    [
        *[(f"O'Brien+tag@{base}", "plain") for base in strategies.EMAIL_BASE_DOMAINS],
        ("a@EXAMPLE.ORG", "plain"),
        ("a@Mail.Example.Net", "plain"),
        ("a@sub-x.y2.example.com", "plain"),
        ("x.y.z@example.com", "plain"),
        ("a@-sub.example.com", "may"),
        ("a@x.y.-z.example.com", "may"),
        ("a@sub-.example.com", "may"),
        ("a@su--b.example.com", "may"),
        ("a@sub_x.example.com", "may"),
        ("a@xn--bcher-kva.example.com", "may"),
        ("a@XN--bcher-kva.example.com", "may"),
        ("a@notexample.com", "may"),
        ("a@example.com.evil", "may"),
        ("a@com", "may"),
        ("a@localhost", "may"),
        ("a..b@example.com", "may"),
        (".a@example.com", "may"),
        ("a.@example.com", "may"),
        ("a(b)@example.com", "may"),
        ('"quoted"@example.com', "may"),
        ('"a@b"@example.com', "may"),
        ('"a\\"@b"@example.com', "may"),
        ("a\\@example.com", "may"),
        ("ü@example.com", "may"),
        ("a\u200b@example.com", "may"),
        ("", "broken"),
        ('"\\"@example.com', "broken"),  # the escaped quote does not close: the @ is quoted
        ("no-at.example.com", "broken"),
        ("a@b@example.com", "broken"),
        ("a\\@b@example.com", "broken"),
        ('"a"@"b"@example.com', "broken"),
        ("@example.com", "broken"),
        ("a@", "broken"),
        ("a@.com", "broken"),
        ("a@com.", "broken"),
        ("a@b..com", "broken"),
        ("a b@example.com", "broken"),
        ("a\t@example.com", "broken"),
        ("a\u00a0b@example.com", "broken"),
        ("a\x01@example.com", "broken"),
        ("a@exam\x7fple.com", "broken"),
        ('"quoted local"@example.com', "broken"),
    ],
)
def test_email_classes(email: str, kind: str) -> None:
    assert email_class(email) == kind


def test_email_length_bounds() -> None:
    assert email_class(_plain_of_length(strategies.EMAIL_MAX)) == "plain"
    assert email_class(_plain_of_length(strategies.EMAIL_MAX + 1)) == "may"
    local = "a" * strategies.LOCAL_MAX
    assert email_class(f"{local}@example.com") == "plain"
    assert email_class(f"{local}a@example.com") == "may"
    # An extra domain label past DNS's 63 octets is outside the must-accept class (REQ-EMAIL-2).
    base = strategies.EMAIL_BASE_DOMAINS[0]
    assert email_class(f"a@{'x' * strategies.LABEL_MAX}.{base}") == "plain"
    assert email_class(f"a@{'x' * (strategies.LABEL_MAX + 1)}.{base}") == "may"


# -- parsing the body ------------------------------------------------------------------------------


def parsed(raw: bytes) -> tuple[Any, list[str], list[str]]:
    expectation = Expectation()
    value = parse_body(CONTRACT, raw, expectation)
    return value, [b.label for b in expectation.breaks], expectation.may


def test_a_body_that_is_not_utf8_or_not_json_breaks_req_body_1() -> None:
    assert parsed(b'{"email": "\xff"}') == (None, ["the body is not UTF-8"], [])
    for raw in (b"", b"{", b"{'a': 1}", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"[1,]"):
        assert parsed(raw) == (None, ["malformed JSON"], []), raw
    assert all(b.clause == "REQ-BODY-1" and b.strength == "must" for b in expect(raw=b"{").breaks)


def test_a_leading_bom_is_a_may_and_the_rest_is_read() -> None:
    assert parsed(b'\xef\xbb\xbf{"a": 1}') == ({"a": 1}, [], ["REQ-BODY-1: a leading byte-order mark"])
    assert parsed(b'{"a": "\xef\xbb\xbf"}') == ({"a": "\ufeff"}, [], [])


def test_nesting_past_the_limit_breaks_req_body_1() -> None:
    limit = CONTRACT.nesting_depth_limit
    at_limit = b"[" * limit + b"]" * limit
    assert parsed(at_limit)[1] == []
    over = b"[" * (limit + 1) + b"]" * (limit + 1)
    assert parsed(over) == (None, [f"nesting deeper than {limit}"], [])


def test_nesting_deeper_than_python_parses_is_malformed(tmp_path: Path) -> None:
    """With a spec whose depth limit is past the interpreter's, the parser's RecursionError is REQ-BODY-1."""
    spec = yaml.safe_load(bundled_spec_bytes())
    spec["paths"]["/customers"]["post"]["x-limits"]["nesting_depth"] = 1_000_000
    path = tmp_path / "deep.yaml"
    path.write_text(yaml.safe_dump(spec))
    deep_contract = load_contract(path)
    assert deep_contract.nesting_depth_limit == 1_000_000
    expectation = Expectation()
    depth = 100_000
    assert parse_body(deep_contract, b"[" * depth + b"]" * depth, expectation) is None
    assert [b.label for b in expectation.breaks] == ["malformed JSON"]


def test_duplicate_keys_and_numbers_past_ijson_are_may() -> None:
    assert parsed(b'{"a": 1, "a": 2}') == ({"a": 2}, [], ["REQ-BODY-3: duplicate keys"])
    assert parsed(b'{"a": {"b": 1, "b": 1}}')[2] == ["REQ-BODY-3: duplicate keys"]
    big = "REQ-BODY-3: a number outside I-JSON's range"
    digits = str(strategies.IJSON_INT * 10)
    assert len(digits) > 16
    for text in (
        digits,
        f"-{digits}",
        "1" * 4000,
        "1" * 4001,
        "1" * 5000,
        "1e999",
        "-1e999",
        "1e-999",
        "0.5e-400",
        "1E-999",
    ):
        _, labels, may = parsed(f'{{"n": {text}}}'.encode())
        assert (labels, may) == ([], [big]), text
    assert parsed(f'{{"n": {digits}}}'.encode())[0] == {"n": 0}, "a number past I-JSON parses as 0"
    for text in ("0", "-0", "0.0", "0e-999", "0.000e-400", "1.5", "-2", "1" * 16, str(strategies.IJSON_INT)):
        _, labels, may = parsed(f'{{"n": {text}}}'.encode())
        assert (labels, may) == ([], []), text
    within = "1" + "0" * 16  # 17 digits, but only 10 ** 16
    assert parsed(f'{{"n": {within}}}'.encode())[2] == [big]
    assert parsed(f'{{"n": -{strategies.IJSON_INT}0}}'.encode())[2] == [big]
    assert parsed(b'{"n": 12345678901234567}')[0] == {"n": 0}
    assert parsed(b'{"n": 1234567890123456}')[0] == {"n": 1234567890123456}
    assert parsed(b'{"n": -1234567890123456}')[0] == {"n": -1234567890123456}
    assert parsed(b'{"n": -1.5}')[0] == {"n": -1.5}


def test_a_16_digit_integer_past_2_53_is_outside_ijson() -> None:
    past = strategies.IJSON_INT + 1
    assert len(str(past)) == 16
    assert parsed(f'{{"n": {past}}}'.encode())[2] == ["REQ-BODY-3: a number outside I-JSON's range"]


def test_parsed_facts_are_per_parser() -> None:
    facts = generic_judge._Parsed()
    assert facts.pairs([("a", 1), ("b", 2)]) == {"a": 1, "b": 2} and not facts.duplicates
    assert facts.integer("17") == 17 and facts.integer("-" + "9" * 15) == -int("9" * 15) and not facts.big_numbers
    assert facts.integer(str(2**53)) == 2**53 and not facts.big_numbers
    assert facts.integer("-" + "9" * 16) == 0 and facts.big_numbers
    assert generic_judge._Parsed().number("2.5") == 2.5
    with pytest.raises(ValueError, match="NaN is not JSON"):
        generic_judge._constant("NaN")


def test_strings_of_takes_keys_values_and_items() -> None:
    value = {"k": ["a", 1, {"k2": "b"}], "n": None, "t": True, "x": 1.5}
    assert strings_of(value) == ["k", "a", "k2", "b", "n", "t", "x"]
    assert strings_of("s") == ["s"] and strings_of(1) == [] and strings_of(None) == []


# -- the request as a whole ------------------------------------------------------------------------


def test_a_valid_request_breaks_nothing() -> None:
    expectation = expect(valid(name="x" * LIMIT, external_id="y" * LIMIT, metadata={"k": "v"}))
    assert (expectation.breaks, expectation.may, expectation.nul_fields) == ([], [], [])
    assert expectation.must_accept
    assert expectation.value == valid(name="x" * LIMIT, external_id="y" * LIMIT, metadata={"k": "v"})


def test_the_key_kind_is_judged_first() -> None:
    assert breaks(expect(valid(), auth="missing")) == [("AUTH-2", "must", "no Authorization header", "", (401,))]
    assert breaks(expect(valid(), auth="invalid")) == [
        ("AUTH-2", "must", "an Authorization header other than the key", "", (400, 401))
    ]
    assert breaks(expect(raw=b"{", auth="missing"))[0][0] == "AUTH-2"


def test_auth_kind_and_the_bearer_shape() -> None:
    assert auth_kind(None, "Bearer k") == "missing"
    assert auth_kind("Bearer k", "Bearer k") == "valid"
    assert auth_kind("Bearer K", "Bearer k") == "invalid"
    assert auth_kind("", "Bearer k") == "invalid"
    assert bearer_shaped("Bearer sk_x~!") is True
    for header in ("Bearer ", "bearer abc", "Bearer a b", "Bearer \u00e9", "Basic abc", "Bearer abc\n", " Bearer a"):
        assert bearer_shaped(header) is False, header


def test_content_types() -> None:
    def body2(content_type: str | None) -> tuple[list[tuple[str, str, str, str, tuple[int, ...]]], list[str]]:
        expectation = expect(valid(), content_type=content_type)
        return breaks(expectation), expectation.may

    assert body2(None) == ([("REQ-BODY-2", "should", "no Content-Type", "", (415,))], [])
    assert body2("text/plain") == ([("REQ-BODY-2", "should", "another Content-Type", "'text/plain'", (415,))], [])
    long = "text/" + "x" * 100
    assert body2(long)[0][0][3] == repr(long[:60])
    assert body2(" application/json ; charset=utf-8") == ([], [])
    assert body2("application/json; charset=UTF8") == ([], [])
    assert body2('application/json; charset="utf-8"') == ([], [])
    assert body2("Application/JSON") == ([], ["REQ-BODY-2: a media type in another case"])
    assert body2("application/json; charset=latin-1") == (
        [("REQ-BODY-2", "should", "a charset other than UTF-8", "'latin-1'", (415,))],
        [],
    )
    assert body2("application/json; charset=" + "z" * 40)[0][0][3] == repr("z" * 30)
    assert body2("application/json; CHARSET=utf-8;;") == ([], [])
    assert body2("application/json; charset=a=b")[0] == [
        ("REQ-BODY-2", "should", "a charset other than UTF-8", "'a=b'", (415,))
    ]
    assert body2("application/json; charset=UTF-8X")[0][0][2] == "a charset other than UTF-8"
    assert body2("application/json; v=1; charset=utf-8") == ([], ["REQ-BODY-2: a Content-Type parameter 'v'"])
    assert body2("application/json; " + "p" * 40 + "=1")[1] == [f"REQ-BODY-2: a Content-Type parameter {'p' * 30!r}"]


def test_idempotency_keys() -> None:
    limit = CONTRACT.idempotency_key_max_length
    assert breaks(expect(valid(), key="k" * limit)) == []
    assert breaks(expect(valid(), key="k" * (limit + 1))) == [
        ("IDEM-3", "should", "an over-long Idempotency-Key", f"{limit + 1} characters", ())
    ]
    assert expect(valid(), key="").may == ["an empty Idempotency-Key (no clause names it)"]
    assert expect(valid(), key=None).may == []


def test_a_body_that_cannot_be_read_stops_the_judgement() -> None:
    expectation = judge_request(CONTRACT, content_type=JSON, body=None, auth="valid", idempotency_key=None)
    assert breaks(expectation) == [("REQ-BODY-1", "must", "malformed JSON", "", ())]
    assert expectation.value is None
    assert breaks(expect(raw=b'{"emial": \xff}')) == [("REQ-BODY-1", "must", "the body is not UTF-8", "", ())]


@pytest.mark.parametrize(
    ("value", "kind"),
    [([valid()], "array"), ("s", "string"), (1, "number"), (1.5, "number"), (None, "null"), (True, "boolean")],
)
def test_a_top_level_other_than_an_object(value: Any, kind: str) -> None:
    assert breaks(expect(value)) == [("REQ-BODY-1", "must", "a top level not an object", kind, ())]


def test_json_type_names() -> None:
    assert generic_judge._json_type({}) == "object"
    assert generic_judge._json_type(Decimal(1)) == "Decimal"


def test_lone_surrogates_break_req_text_1_anywhere() -> None:
    lone = [("REQ-TEXT-1", "must", "a lone surrogate", "", ())]
    for ch in ("\ud800", "\udbff", "\udc00", "\udfff"):
        assert breaks(expect(valid(name=f"a{ch}"))) == lone, repr(ch)
        assert breaks(expect(valid(metadata={f"k{ch}": "v"}))) == lone
    for ch in ("\ud7ff", "\ue000", "\U0001f600"):
        assert breaks(expect(valid(name=ch))) == [], repr(ch)


def test_nul_is_a_may_and_names_the_fields_holding_it() -> None:
    expectation = expect(valid(name="a\x00b", metadata={"k\x00": "v"}, external_id="e"))
    assert (expectation.breaks, expectation.may) == ([], ["REQ-TEXT-1: U+0000 (stored exactly or rejected)"])
    assert expectation.nul_fields == ["name", "metadata"]
    assert expect(valid(metadata={"n": 0})).nul_fields == []


def test_each_field_rule_names_its_clause() -> None:
    assert breaks(expect({"name": "x"})) == [("REQ-EMAIL-1", "must", "email missing", "", ())]
    assert breaks(expect({"email": None})) == [("REQ-EMAIL-1", "must", "email not a string", "null", ())]
    assert breaks(expect({"email": ["a"]})) == [("REQ-EMAIL-1", "must", "email not a string", "array", ())]
    broken = "x" * 70
    assert breaks(expect({"email": broken})) == [("REQ-EMAIL-3", "must", "a broken address", repr(broken[:60]), ())]
    quoted = '"q"@example.com' + "m" * 60
    assert expect({"email": quoted}).may == [f"REQ-EMAIL-4: address {quoted[:60]!r}"]
    assert breaks(expect(valid(emial="x"))) == [("REQ-UNKNOWN-1", "should", "an unknown field", "'emial'", ())]
    assert breaks(expect(valid(**{"u" * 50: 1})))[0][3] == repr("u" * 40)
    for name in CONTRACT.optional_string_fields:
        limit = CONTRACT.max_lengths[name]
        assert breaks(expect(valid(**{name: 1}))) == [("REQ-LEN-2", "must", f"{name} not a string", "number", ())]
        assert breaks(expect(valid(**{name: None}))) == [("REQ-LEN-2", "must", f"{name} not a string", "null", ())]
        assert breaks(expect(valid(**{name: "\U0001f600" * limit}))) == []
        over = [("REQ-LEN-1", "must", f"{name} over maxLength", f"{limit + 1} code points", ())]
        assert breaks(expect(valid(**{name: "\U0001f600" * (limit + 1)}))) == over
        assert breaks(expect(valid(**{name: "x" * (limit + 1)}))) == over
    for name in CONTRACT.object_fields:
        assert breaks(expect(valid(**{name: []}))) == [("REQ-META-1", "must", f"{name} not an object", "array", ())]
        assert breaks(expect(valid(**{name: None}))) == [("REQ-META-1", "must", f"{name} not an object", "null", ())]


def test_rules_add_up_in_one_request() -> None:
    expectation = expect({"email": 1, "name": 2, "metadata": 3, "x": 4}, content_type=None, auth="missing")
    assert [b.clause for b in expectation.breaks] == [
        "AUTH-2",
        "REQ-BODY-2",
        "REQ-UNKNOWN-1",
        "REQ-EMAIL-1",
        "REQ-LEN-2",
        "REQ-META-1",
    ]
    assert not expectation.must_accept


def test_break_reason_and_expectation_add() -> None:
    expectation = Expectation()
    expectation.add("REQ-LEN-1", "must", "name over maxLength")
    expectation.add("REQ-BODY-2", "should", "another Content-Type", "'x'", (415,))
    assert expectation.breaks == [
        Break("REQ-LEN-1", "must", "name over maxLength"),
        Break("REQ-BODY-2", "should", "another Content-Type", "'x'", (415,)),
    ]
    assert [b.reason for b in expectation.breaks] == ["name over maxLength", "another Content-Type ('x')"]


# -- metadata: the small must-accept shape (REQ-META-2) --------------------------------------------

SMALL = "REQ-META-2: metadata beyond the small must-accept shape"


def meta_may(metadata: Any) -> list[str]:
    expectation = expect(valid(metadata=metadata))
    assert expectation.breaks == []
    return expectation.may


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"k": value}
    return value


def nested_list(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_metadata_within_every_bound_is_must_accept() -> None:
    keys = {f"k{i}": "v" for i in range(generic_judge.META_KEYS)}
    assert meta_may(keys) == []
    assert meta_may({"k" * generic_judge.META_KEY_LENGTH: "s" * generic_judge.META_STRING_LENGTH}) == []
    assert meta_may({"a": ["x"] * generic_judge.META_ARRAY_LENGTH}) == []
    assert meta_may(nested(generic_judge.META_DEPTH - 1, {})) == [], "the metadata object itself is depth 1"
    assert meta_may({"a": nested_list(generic_judge.META_DEPTH - 1, 1)}) == []
    assert meta_may({"a": [[{}]]}) == [SMALL]
    assert meta_may({"n": None, "t": True, "f": 1.5, "i": 2}) == []


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(generic_judge.META_KEYS + 1)},
        {"k" * (generic_judge.META_KEY_LENGTH + 1): 1},
        {"a": "s" * (generic_judge.META_STRING_LENGTH + 1)},
        {"a": ["x"] * (generic_judge.META_ARRAY_LENGTH + 1)},
        {"a": ["s" * (generic_judge.META_STRING_LENGTH + 1)]},
        {"a": {"k" * (generic_judge.META_KEY_LENGTH + 1): 1}},
        nested(generic_judge.META_DEPTH, {}),
        {"a": nested_list(generic_judge.META_DEPTH, 1)},
        {"a": nested_list(generic_judge.META_DEPTH - 1, [])},
    ],
    ids=["keys", "key-length", "string", "array", "array-item", "inner-key", "depth", "list-depth", "list-leaf"],
)
def test_metadata_past_a_bound_is_a_may(metadata: Any) -> None:
    assert meta_may(metadata) == [SMALL]


# -- a spec with other fields: every rule reads the contract ----------------------------------------


@pytest.fixture(scope="module")
def wider(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    """The bundled spec plus a required string, a string without maxLength and a second object field."""
    spec = yaml.safe_load(bundled_spec_bytes())
    schema = spec["components"]["schemas"]["CustomerCreate"]
    schema["properties"] = {
        **schema["properties"],
        "nickname": {"type": "string"},
        "note": {"type": "string"},
        "tags": {"type": "object"},
    }
    schema["required"] = [*schema.get("required", []), "nickname"]
    path = tmp_path_factory.mktemp("spec") / "wider.yaml"
    path.write_text(yaml.safe_dump(spec))
    contract = load_contract(path)
    assert contract.required_request_fields[-1] == "nickname" and contract.object_fields[-1] == "tags"
    assert "note" in contract.optional_string_fields and "note" not in contract.max_lengths
    return contract


def wide(contract: Contract, body: dict[str, Any]) -> list[tuple[str, str, str, str, tuple[int, ...]]]:
    raw = utf8_json(body)
    return breaks(judge_request(contract, content_type=JSON, body=raw, auth="valid", idempotency_key=None))


def test_a_missing_required_field_other_than_email_is_err_1(wider: Contract) -> None:
    assert wide(wider, valid(nickname="n")) == []
    assert wide(wider, valid()) == [("ERR-1", "must", "nickname missing", "", ())]
    assert wide(wider, {"nickname": "n"}) == [("REQ-EMAIL-1", "must", "email missing", "", ())]


def test_every_optional_and_object_field_is_judged(wider: Contract) -> None:
    assert wide(wider, valid(nickname="n", note="x" * 10_000)) == [], "no maxLength, no limit"
    assert wide(wider, valid(nickname="n", note=1)) == [("REQ-LEN-2", "must", "note not a string", "number", ())]
    assert wide(wider, valid(nickname="n", tags=[])) == [("REQ-META-1", "must", "tags not an object", "array", ())]
    assert wide(wider, valid(nickname="n", metadata={}, tags=1)) == [
        ("REQ-META-1", "must", "tags not an object", "number", ())
    ]

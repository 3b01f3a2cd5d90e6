"""Strategies draw from the contract's classes; the same seed gives the same cases."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import find, given, settings
from hypothesis import strategies as st

from billing_kit.conformance import strategies
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.redact import Redactor, mask_key

CONTRACT = load_contract()
# REQ-EMAIL-2, transcribed from CONTRACT.md independently of the generator.
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LABEL = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
PLAIN_EMAIL = re.compile(rf"(?P<local>{ATOM}(?:\.{ATOM})*)@(?:{LABEL}\.)*(?i:example\.(?:com|org|net))")


@settings(max_examples=300, database=None)
@given(strategies.valid_emails())
def test_valid_emails_are_in_the_must_accept_class(email: str) -> None:
    match = PLAIN_EMAIL.fullmatch(email)
    assert match is not None, email
    assert len(match.group("local")) <= 64 and len(email) <= 254
    assert "xn--" not in email.lower() and "--" not in email.split("@")[1]


@settings(max_examples=300, database=None)
@given(strategies.valid_emails())
def test_every_domain_label_of_a_valid_email_is_at_most_63_characters(email: str) -> None:
    """REQ-EMAIL-2 caps each extra label at 63 characters, as DNS does (FastAPI and Express refuse longer)."""
    assert all(1 <= len(label) <= 63 for label in email.split("@")[1].split(".")), email


def test_valid_emails_reach_the_63_character_label_but_never_pass_it() -> None:
    """The cap itself is drawn (about 2 % of labels), so a server refusing a 63-character label is caught."""
    at_cap = find(
        strategies.valid_emails(),
        lambda email: any(len(label) == 63 for label in email.split("@")[1].split(".")),
        settings=settings(max_examples=1000, database=None, derandomize=True),
    )
    assert max(len(label) for label in at_cap.split("@")[1].split(".")) == 63


def _broken(email: str) -> bool:
    if not email or email.count("@") != 1:
        return True
    local, domain = email.split("@")
    whitespace_or_control = any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in email)
    return not local or not domain or whitespace_or_control or "" in domain.split(".")


@settings(max_examples=300, database=None)
@given(strategies.invalid_emails())
def test_invalid_emails_break_a_must_reject_rule(case: tuple[str, str]) -> None:
    assert _broken(case[0]), case


def test_boundary_cases_count_code_points_around_every_limit() -> None:
    cases = strategies.boundary_cases(CONTRACT)
    for field, limit in CONTRACT.max_lengths.items():
        own = [c for c in cases if c.field == field]
        assert {len(c.value) for c in own} == {0, limit - 1, limit, limit + 1}
        assert all(c.accept == (len(c.value) <= limit) for c in own)
        astral = next(c for c in own if c.label == f"astral x{limit}")
        assert len(astral.value.encode("utf-8")) == 4 * limit and len(astral.value.encode("utf-16-le")) == 4 * limit
        assert any(c.label.startswith("combining") and "\u0301" in c.value for c in own)


@settings(max_examples=100, database=None)
@given(strategies.metadata_objects())
def test_metadata_stays_within_depth_three(metadata: dict[str, Any]) -> None:
    assert strategies.json_depth(metadata) <= 3


@given(st.data())
@settings(max_examples=50, database=None)
def test_valid_bodies_respect_the_limits(data: st.DataObject) -> None:
    body = data.draw(strategies.valid_bodies(CONTRACT))
    assert set(body) <= set(CONTRACT.request_fields) and "email" in body
    for field, limit in CONTRACT.max_lengths.items():
        assert len(body.get(field, "")) <= limit


def test_json_equal_compares_types_and_values() -> None:
    assert strategies.json_equal({"a": [1, 2.5]}, {"a": [1.0, 2.5]})
    assert not strategies.json_equal(True, 1) and not strategies.json_equal(1, True)
    assert not strategies.json_equal("é", "e\u0301")
    assert not strategies.json_equal({"a": None}, {})
    assert not strategies.json_equal([1], [1, 1])
    # The same double printed in integer notation by another language's serialiser.
    assert strategies.json_equal(2.966404195032817e16, 29664041950328170)
    assert not strategies.json_equal(0.5, 1)


def _drawn(seed: int) -> list[Any]:
    config = RunConfig(base_url="http://127.0.0.1:9/v1", seed=seed, examples=15)
    client = Client(ClientOptions(base_url=config.base_url), Budget(60), Redactor([]))
    ctx = CheckContext(CONTRACT, config, client, nonce="n")
    seen: list[Any] = []
    ctx.for_all(strategies.valid_bodies(CONTRACT), seen.append)
    client.close()
    return seen


def test_same_seed_same_cases_other_seed_other_cases() -> None:
    first, again, other = _drawn(11), _drawn(11), _drawn(12)
    assert first == again and len(first) == 15
    assert first != other


def test_keys_are_masked_to_prefix_and_last_four() -> None:
    assert mask_key("sk_test_abcdefghijklmnop1234") == "sk_test_…1234"
    redactor = Redactor(["sk_live_secretsecret9876"])
    assert redactor.text("Bearer sk_live_secretsecret9876") == "Bearer sk_live_…9876"

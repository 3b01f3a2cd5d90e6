"""The redactor's one pass over a text: what a regular expression of every form replaced, in linear time."""

from __future__ import annotations

import copy
import pickle
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_kit.conformance.checks.auth import near_misses
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.redact import Redactor, forms, mask_key

CONTRACT = load_contract()
KEY = CONTRACT.prefix_of_environment(CONTRACT.sandbox_environment) + "a+b/c=d0123456789QRS"


def redactor_with_near_misses() -> Redactor:
    """The key and the near misses the auth matrix adds: forms that are prefixes of one another."""
    redactor = Redactor([KEY])
    for how, token in near_misses(KEY, list(CONTRACT.key_prefixes)):
        redactor.add(token, f"{mask_key(KEY)}<{how}>")
    return redactor


def by_regular_expression(redactor: Redactor, value: bytes) -> bytes:
    """The redaction as one alternation of every form, the longest first (leftmost, then longest)."""
    replacement: dict[bytes, bytes] = {}
    for secret in redactor.secrets:
        for form, label in forms(secret).items():
            replacement.setdefault(form, f"{redactor.masked(secret)}{label}".encode())
    pattern = re.compile(b"|".join(re.escape(form) for form in sorted(replacement, key=len, reverse=True)))
    return pattern.sub(lambda match: replacement[match.group(0)], value)


REDACTOR = redactor_with_near_misses()
FORMS = sorted({form for secret in REDACTOR.secrets for form in forms(secret)})
# Whole forms, their halves and their ends: texts where forms overlap, nest, and almost match.
PIECES = sorted({piece for form in FORMS for piece in (form, form[: len(form) // 2], form[len(form) // 2 :], form[1:])})


@settings(max_examples=400, database=None, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=3), st.just(b'\\"')), max_size=12))
def test_the_one_pass_replaces_what_the_alternation_replaced(parts: list[bytes]) -> None:
    text = b"".join(parts)
    assert REDACTOR.data(text) == by_regular_expression(REDACTOR, text)
    assert REDACTOR.contains(text) == (by_regular_expression(REDACTOR, text) != text)


def test_where_forms_overlap_the_longest_at_the_leftmost_place_wins() -> None:
    # The key with its last character removed is a near miss, and a prefix of the key: the key is shown as itself.
    assert REDACTOR.data(KEY.encode()) == mask_key(KEY).encode()
    assert REDACTOR.text(f"{KEY[:-1]} {KEY}") == f"{REDACTOR.masked(KEY[:-1])} {mask_key(KEY)}"


def test_an_empty_redactor_returns_what_it_is_given() -> None:
    empty = Redactor([None, ""])
    assert empty.data(b'\\"' * 100) == b'\\"' * 100 and not empty.contains(KEY.encode())
    assert empty.text(KEY) == KEY


def test_a_megabyte_of_escaped_quotes_is_left_as_it_is() -> None:
    # The answer of the hostile mode `escaped-quotes-1mb`: no form in it, nothing replaced.
    answer = b'{"name": "' + b'\\"' * 500_000
    assert REDACTOR.data(answer) is answer and not REDACTOR.contains(answer)
    echoed = answer + KEY.encode()
    assert REDACTOR.data(echoed) == answer + mask_key(KEY).encode() and REDACTOR.contains(echoed)


def test_a_copied_or_pickled_redactor_redacts_as_the_original() -> None:
    text = f"{KEY} {KEY[:-1]} {KEY.swapcase()}".encode()
    for again in (pickle.loads(pickle.dumps(REDACTOR)), copy.deepcopy(REDACTOR)):
        assert again.data(text) == REDACTOR.data(text) != text and again.secrets == REDACTOR.secrets

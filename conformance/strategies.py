"""Hypothesis strategies for the contract's values; every limit is read from the contract.

Valid values are built, not filtered (`@st.composite`), so they shrink well.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from billing_kit.conformance.contract import Contract

# REQ-EMAIL-2: the plain class every server must accept.
ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
EMAIL_BASE_DOMAINS = ("example.com", "example.org", "example.net")
LOCAL_MAX = 64
EMAIL_MAX = 254
# I-JSON (RFC 7493): integers beyond 2**53 are MAY territory for RES-ECHO-1.
IJSON_INT = 2**53
LABEL_CHARS = string.ascii_letters + string.digits
LABEL_MAX = 63  # DNS's limit on one label; REQ-EMAIL-2 caps each extra label at it


@st.composite
def dot_atom(draw: st.DrawFn, max_size: int = LOCAL_MAX) -> str:
    """Atoms of atext joined by single dots, within `max_size` characters."""
    atoms = draw(st.lists(st.text(ATEXT, min_size=1, max_size=12), min_size=1, max_size=4))
    local = ".".join(atoms)
    return local[:max_size].rstrip(".") or atoms[0][:max_size]


@st.composite
def domain_label(draw: st.DrawFn) -> str:
    """1 to 63 letters and digits with single inner hyphens (so never `xn--`, never `--`).

    The length is drawn first, so the cap itself is drawn (bounded integers hit their bounds).
    """
    size = draw(st.integers(1, LABEL_MAX))
    chars = list(draw(st.text(LABEL_CHARS, min_size=size, max_size=size)))
    for at in sorted(draw(st.sets(st.integers(1, size - 2), max_size=3))) if size > 2 else ():
        if chars[at - 1] != "-":
            chars[at] = "-"
    return "".join(chars)


@st.composite
def valid_emails(draw: st.DrawFn) -> str:
    """REQ-EMAIL-2: dot-atom @ an example.* domain or a subdomain of one, at most 254 characters."""
    base = draw(st.sampled_from(EMAIL_BASE_DOMAINS))
    labels = draw(st.lists(domain_label(), max_size=3))
    domain = ".".join([*labels, base])
    if draw(st.booleans()):
        domain = "".join(c.upper() if draw(st.booleans()) else c for c in domain)
    local = draw(dot_atom(max_size=min(LOCAL_MAX, EMAIL_MAX - len(domain) - 1)))
    return f"{local}@{domain}"


# REQ-EMAIL-3: one break of an otherwise valid address.
_SPACES_AND_CONTROLS = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x00", "\x01", "\x1f", "\x7f"]


@st.composite
def invalid_emails(draw: st.DrawFn) -> tuple[str, str]:
    """(address, how it is broken): each must be rejected."""
    email = draw(valid_emails())
    local, domain = email.split("@")
    kind = draw(
        st.sampled_from(
            [
                "empty",
                "no-at",
                "two-ats",
                "empty-local",
                "empty-domain",
                "whitespace",
                "double-dot-domain",
                "leading-dot-domain",
                "trailing-dot-domain",
            ]
        )
    )
    if kind == "empty":
        return "", kind
    if kind == "no-at":
        return local + domain, kind
    if kind == "two-ats":
        return f"{local}@{draw(dot_atom(max_size=10))}@{domain}", kind
    if kind == "empty-local":
        return f"@{domain}", kind
    if kind == "empty-domain":
        return f"{local}@", kind
    if kind == "whitespace":
        char = draw(st.sampled_from(_SPACES_AND_CONTROLS))
        at = draw(st.integers(0, len(email)))
        return email[:at] + char + email[at:], f"{kind} {char!r} at {at}"
    if kind == "double-dot-domain":
        labels = domain.split(".")
        at = draw(st.integers(1, len(labels) - 1))
        return f"{local}@{'.'.join(labels[:at])}..{'.'.join(labels[at:])}", kind
    if kind == "leading-dot-domain":
        return f"{local}@.{domain}", kind
    return f"{local}@{domain}.", kind


# REQ-LEN-1: boundary strings, counted in code points.
@dataclass(frozen=True)
class BoundaryCase:
    field: str
    label: str
    value: str
    accept: bool


# (label, unit): one unit is one code point; the combining unit is two.
BOUNDARY_UNITS = (
    ("ascii", "a"),
    ("bmp-3-byte", "\u4e2d"),
    ("astral", "\U0001f600"),
    ("combining", "e\u0301"),
)


def string_of_code_points(unit: str, count: int) -> str:
    """Exactly `count` code points built from `unit` (a multi-code-point unit may be cut)."""
    return (unit * (count // len(unit) + 1))[:count]


def boundary_cases(contract: Contract) -> list[BoundaryCase]:
    """N-1, N, N+1 code points of every unit, and the empty string, for each field with a maxLength."""
    cases: list[BoundaryCase] = []
    for field, limit in contract.max_lengths.items():
        cases.append(BoundaryCase(field, "empty", "", True))
        for label, unit in BOUNDARY_UNITS:
            for count in (limit - 1, limit, limit + 1):
                cases.append(
                    BoundaryCase(field, f"{label} x{count}", string_of_code_points(unit, count), count <= limit)
                )
    return cases


# RES-ECHO-1: values a server must store and return exactly.
def echo_text(max_size: int) -> st.SearchStrategy[str]:
    """Any code points but surrogates and NUL (REQ-TEXT-1 lets a server refuse NUL)."""
    return st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=max_size)


@st.composite
def padded_text(draw: st.DrawFn, max_size: int) -> str:
    """Text with leading or trailing spaces, astral characters likely: trimming shows."""
    core = draw(echo_text(max(0, max_size - 4)))
    pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
    astral = draw(st.sampled_from(["", "\U0001f600", "\U00010348"]))
    return (pad + astral + core + astral + pad)[:max_size]


def json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-IJSON_INT, IJSON_INT),
        st.floats(allow_nan=False, allow_infinity=False),
        echo_text(40),
    )


def json_values(depth: int = 3) -> st.SearchStrategy[Any]:
    """Any JSON value nested at most `depth` containers deep."""
    if depth <= 0:
        return json_scalars()
    inner = json_values(depth - 1)
    return st.one_of(json_scalars(), st.lists(inner, max_size=3), st.dictionaries(echo_text(12), inner, max_size=3))


def metadata_objects(depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """REQ-META-2: small objects (a few keys, short values, depth <= 3 counting the object)."""
    return st.dictionaries(echo_text(12), json_values(depth - 1), max_size=4)


def json_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((json_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((json_depth(v) for v in value), default=0)
    return 0


@st.composite
def valid_bodies(draw: st.DrawFn, contract: Contract) -> dict[str, Any]:
    """A request every server must accept, with random Unicode in every optional string."""
    body: dict[str, Any] = {"email": draw(valid_emails())}
    for field in contract.optional_string_fields:
        if draw(st.booleans()):
            limit = contract.max_lengths.get(field, 64)
            body[field] = draw(st.one_of(echo_text(limit), padded_text(limit)))
    for field in contract.object_fields:
        if draw(st.booleans()):
            body[field] = draw(metadata_objects())
    return body


def json_equal(sent: Any, got: Any) -> bool:
    """RES-ECHO-1 equality: same types (true is not 1) and values; int and float by value."""
    if isinstance(sent, bool) or isinstance(got, bool):
        return type(sent) is type(got) and sent == got
    if isinstance(sent, int | float) and isinstance(got, int | float):
        if isinstance(sent, float) or isinstance(got, float):
            # A double may come back in integer notation (JavaScript prints 2.9e16 as 29...0): same double.
            try:
                return float(sent) == float(got)
            except OverflowError:
                return False
        return sent == got
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(json_equal(sent[k], got[k]) for k in sent)
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(json_equal(a, b) for a, b in zip(sent, got, strict=True))
    return type(sent) is type(got) and sent == got

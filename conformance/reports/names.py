"""Case names a person understands, derived from the case ids the checks record.

A boundary case of REQ-LEN-1 is recorded as `name: bmp-3-byte x255`; its readable
name is `name: 255 × U+4E2D (3-byte BMP)`, built from the strategy's own table of
units. A corpus case id (`json-trailing-comma`) reads as its corpus description.
Anything else is its own name.
"""

from __future__ import annotations

import re
from functools import cache

from billing_kit.conformance.model import Finding

BOUNDARY_LABEL = re.compile(r"^(?P<field>[A-Za-z_]\w*): (?P<unit>[a-z0-9-]+) x(?P<count>\d+)$")
EMPTY_LABEL = re.compile(r"^(?P<field>[A-Za-z_]\w*): empty$")
UNIT_NAMES = {
    "ascii": "ASCII",
    "bmp-3-byte": "3-byte BMP",
    "astral": "astral, 4-byte UTF-8",
    "combining": "letter + combining mark",
}


@cache
def _units() -> dict[str, str]:
    from billing_kit.conformance.strategies import BOUNDARY_UNITS

    return dict(BOUNDARY_UNITS)


@cache
def _corpus_descriptions() -> dict[str, str]:
    from billing_kit.conformance import corpora

    out: dict[str, str] = {}
    for name in corpora.corpus_names():
        for case in corpora.load(name):
            out.setdefault(case.id, case.description)
    return out


def _code_points(unit: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in unit)


def boundary_name(field: str, unit_label: str, count: int) -> str:
    unit = _units().get(unit_label)
    kind = UNIT_NAMES.get(unit_label, unit_label)
    if unit is None:
        return f"{field}: {count} × {unit_label}"
    if len(unit) == 1:
        return f"{field}: {count} × {_code_points(unit)} ({kind})"
    return f"{field}: {count} code points of {_code_points(unit)} repeated ({kind})"


def case_name(case: str) -> str:
    """The readable name of a recorded case id or label."""
    if match := BOUNDARY_LABEL.match(case):
        return boundary_name(match["field"], match["unit"], int(match["count"]))
    if match := EMPTY_LABEL.match(case):
        return f"{match['field']}: the empty string"
    return _corpus_descriptions().get(case, case)


def readable_message(finding: Finding) -> str:
    """The finding's message with a boundary label put as its readable name; others are already readable."""
    if finding.case and finding.message.startswith(finding.case):
        name = case_name(finding.case)
        if BOUNDARY_LABEL.match(finding.case) or EMPTY_LABEL.match(finding.case):
            return name + finding.message[len(finding.case) :]
    return finding.message

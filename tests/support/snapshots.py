"""Snapshots of what the CLI prints: a wording change shows as a diff of tests/snapshots/*.txt in review.

`normalise` takes out what changes from run to run (ports, seeds, times, ids, nonces,
masked keys, temporary paths, counts of requests, customers, exchanges; a count of one is kept, so a plural stays
visible; HTTP statuses are kept). `BILLING_UPDATE_SNAPSHOTS=1` rewrites the files instead of comparing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
UPDATE_ENV = "BILLING_UPDATE_SNAPSHOTS"

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?"), "<TIME>"),
    (re.compile(r"(?:/tmp|/var/folders)/[^\s:'\"),]+"), "<TMP>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<PORT>"),
    (re.compile(r"\bseed \d+"), "seed <SEED>"),
    (re.compile(r"--seed \d+"), "--seed <SEED>"),
    (re.compile(r"\d+\.\d+ s\b"), "<T> s"),
    (re.compile(r"\bcus_[0-9a-f]+"), "cus_<ID>"),
    (re.compile(r"\bsk_(test|live)_[A-Za-z0-9…~]+"), r"sk_\1_<KEY>"),
    (re.compile(r"\b[0-9a-f]{8,}\b"), "<HEX>"),
    # Counts that vary with the machine and the run (2 or more: a count of 1 keeps its plural visible).
    (re.compile(r"(?<![\w.-])(?:[2-9]|\d{2,})(?= (?:requests?|customers?|exchanges?|connections|finding))"), "<N>"),
    (re.compile(r"\b\d+/\d+ judged"), "<N>/<N> judged"),
    # What generated cases rule out follows their count (the wording stays).
    (re.compile(r"rules out (?:1 in [\d,]+|\d+%)"), "rules out <RATE>"),
    (
        re.compile(r"broke (\d+) of [\d,]+ generated \(95 %: between \S+(?: in [\d,]+)? and \S+(?: in [\d,]+)?\)"),
        r"broke \1 of <N> generated (95 %: between <RATE> and <RATE>)",
    ),
    (re.compile(r"\+\d+ more"), "+<N> more"),
    (re.compile(r"(?<![\w.-])\d{4,}(?![\w.])"), "<N>"),
    (re.compile(r"[ \t]+$", re.M), ""),
]


def normalise(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def assert_snapshot(name: str, text: str) -> None:
    """Compare `text` (normalised) with tests/snapshots/NAME.txt; rewrite it under BILLING_UPDATE_SNAPSHOTS=1."""
    path = SNAPSHOTS / f"{name}.txt"
    got = normalise(text)
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(got, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with {UPDATE_ENV}=1 and review the file"
    want = path.read_text(encoding="utf-8")
    assert got == want, f"{path.name} changed (rerun with {UPDATE_ENV}=1 if intended):\n{got}"

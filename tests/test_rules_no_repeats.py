"""The rules are written once: no block of six or more lines repeats inside `conformance/rules/`.

Lines are compared non-blank and whitespace-normalised (runs of spaces and tabs are one
space, ends stripped), within a module and across modules, so a block moved by copy and
reindented is still seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

RULES = Path(__file__).resolve().parents[1] / "conformance" / "rules"
BLOCK = 6


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, normalised text) of every non-blank line."""
    return [(number, " ".join(line.split())) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def repeats(sources: Mapping[str, str], block: int = BLOCK) -> list[str]:
    """Every run of `block` non-blank lines seen before, as "name:line repeats name:line"."""
    first: dict[tuple[str, ...], str] = {}
    found = []
    for name, text in sorted(sources.items()):
        lines = _lines(text)
        for start in range(len(lines) - block + 1):
            window = tuple(line for _, line in lines[start : start + block])
            where = f"{name}:{lines[start][0]}"
            if window in first:
                found.append(f"{where} repeats {first[window]}")
            else:
                first[window] = where
    return found


def _rules_sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(RULES.glob("*.py"))}


def test_no_block_of_six_lines_repeats_in_the_rules() -> None:
    sources = _rules_sources()
    assert len(sources) > 1
    assert repeats(sources) == []


def test_the_detector_sees_a_planted_repeat_within_and_across_modules() -> None:
    sources = _rules_sources()
    name, text = max(sources.items(), key=lambda item: len(_lines(item[1])))
    numbered = _lines(text)
    at = numbered[0][0]
    block = [line for _, line in numbered[:BLOCK]]
    # Copied reindented, with its spaces doubled and a blank line inside: still the same block.
    copied = ["\t  " + line.replace(" ", "  ") + "   " for line in block]
    planted = "x = 1\n\n" + copied[0] + "\n\n" + "\n".join(copied[1:]) + "\n"
    assert repeats({**sources, "planted.py": planted}) == [f"planted.py:3 repeats {name}:{at}"]
    within = text + "\n".join(copied) + "\n"
    assert repeats({name: within}) == [f"{name}:{len(text.splitlines()) + 1} repeats {name}:{at}"]
    # Five lines are not a block.
    assert repeats({**sources, "planted.py": "\n".join(block[: BLOCK - 1]) + "\n"}) == []

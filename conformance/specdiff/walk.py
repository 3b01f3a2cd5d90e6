"""The raw differences between two spec documents, as JSON pointers, before any rule reads them.

Mappings are compared key by key (a key only on one side is one difference, its whole
subtree as the value); lists the schema treats as sets (`required`, `enum`, a `type`
list) give one difference per member added or removed; other lists are compared by
position; everything else by value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from billing_kit.conformance.specdiff.model import ABSENT

SET_KEYS = frozenset({"required", "enum", "type", "tags"})


@dataclass(frozen=True)
class Difference:
    parts: tuple[str, ...]  # the pointer's reference tokens, unescaped
    before: Any
    after: Any
    member: bool = False  # a member added to or removed from a set-like list at `parts`

    @property
    def pointer(self) -> str:
        return pointer_of(self.parts)


def pointer_of(parts: tuple[str, ...]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def differences(old: Any, new: Any, parts: tuple[str, ...] = ()) -> Iterator[Difference]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            here = (*parts, str(key))
            if key not in new:
                yield Difference(here, old[key], ABSENT)
            elif key not in old:
                yield Difference(here, ABSENT, new[key])
            else:
                yield from differences(old[key], new[key], here)
        return
    if isinstance(old, list) and isinstance(new, list):
        if parts and parts[-1] in SET_KEYS:
            for item in old:
                if item not in new:
                    yield Difference(parts, item, ABSENT, member=True)
            for item in new:
                if item not in old:
                    yield Difference(parts, ABSENT, item, member=True)
            return
        for index in range(max(len(old), len(new))):
            here = (*parts, str(index))
            if index >= len(new):
                yield Difference(here, old[index], ABSENT)
            elif index >= len(old):
                yield Difference(here, ABSENT, new[index])
            else:
                yield from differences(old[index], new[index], here)
        return
    if old != new or type(old) is not type(new):
        yield Difference(parts, old, new)

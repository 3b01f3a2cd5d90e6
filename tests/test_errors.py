"""One exception base: every exception the suite defines derives from `KitError`, drawn in `errors.py`."""

from __future__ import annotations

import importlib
import pkgutil
import re

from billing_kit import conformance
from billing_kit.conformance import errors

TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w*)\s{2,}")


def defined_exceptions() -> dict[str, type[BaseException]]:
    """Every public exception class defined in a module of the suite."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(conformance.__path__, conformance.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[name] = value
    return found


def drawn_tree(doc: str) -> dict[str, str | None]:
    """The hierarchy drawn in a docstring: each class name and the one it hangs under."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = TREE_LINE.match(line.strip("\n")[4:] if line.startswith("    ") else "")
        if match is None:
            continue
        depth, name = len(match.group("indent")), match.group("name")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def unrooted(classes: dict[str, type[BaseException]]) -> list[str]:
    return sorted(name for name, cls in classes.items() if not issubclass(cls, errors.KitError))


def test_every_exception_of_the_suite_derives_from_kit_error() -> None:
    classes = defined_exceptions()
    assert len(classes) >= 15
    assert unrooted(classes) == []


def test_the_docstring_draws_the_hierarchy_as_it_is() -> None:
    assert errors.__doc__ is not None
    tree = drawn_tree(errors.__doc__)
    classes = defined_exceptions()
    assert set(tree) == set(classes), "draw every exception class in conformance/errors.py's docstring, no other"
    for name, parent in tree.items():
        if parent is None:
            assert classes[name] is errors.KitError
        else:
            assert classes[parent] in classes[name].__bases__, f"{name} is drawn under {parent}"


def test_the_readers_see_a_stray_exception_and_a_misplaced_one() -> None:
    class Stray(Exception):
        pass

    assert unrooted({"Stray": Stray, "KitError": errors.KitError}) == ["Stray"]
    drawn = "Tree:\n\n    KitError   root\n    ├── A      a\n    │   └── B  b\n    └── C      c\n"
    assert drawn_tree(drawn) == {"KitError": None, "A": "KitError", "B": "A", "C": "KitError"}

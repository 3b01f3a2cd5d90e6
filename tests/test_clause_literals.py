"""No clause id typed outside the registry and the rules.

A clause id (read from the registry, `conformance/clauses.py`) may appear as a string
literal only in:
- `conformance/clauses.py`, the registry itself;
- `conformance/rules/`, the pure judging functions, one module per clause family;
- `conformance/specdiff/rules.py`, the rules that name the clause a change of the spec touches;
- the clause arguments of a `@check("...")` registration (what a check declares);
- `conformance/corpora/*.json` (data, not code: not read here).
Anywhere else a module names a clause through a rule or a registry constant, so a
clause is judged in one place. `NOT_YET_MOVED` counts the literals modules still hold:
a module may only lose them (then lower its count here, or delete the entry at 0).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from billing_kit.conformance import clauses

ROOT = Path(__file__).resolve().parents[1] / "conformance"
CLAUSE_IDS = frozenset(c.id for c in clauses.CLAUSES)
ALLOWED_FILES = {Path("clauses.py"), Path("specdiff/rules.py")}
ALLOWED_PACKAGES = {"rules"}

# Literals still to move into the rules, per module (relative to conformance/). Only ever lower.
NOT_YET_MOVED: dict[str, int] = {
    "checks/answers.py": 8,
    "checks/auth_tokens.py": 1,
    "checks/body.py": 8,
    "checks/echo_cases.py": 2,
    "checks/errors.py": 1,
    "checks/generic.py": 21,
    "checks/generic_answer.py": 9,
    "checks/generic_judge.py": 20,
    "checks/generic_schemathesis.py": 9,
    "checks/request.py": 7,
    "checks/response.py": 7,
    "checks/transfer.py": 2,
    "context.py": 1,
    "deep.py": 4,
    "execute.py": 1,
    "replay.py": 1,
}


def _registrations(tree: ast.Module) -> set[int]:
    """The clause arguments of every `@check(...)` decorator (by node identity)."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                func = decorator.func if isinstance(decorator, ast.Call) else None
                if isinstance(decorator, ast.Call) and isinstance(func, ast.Name) and func.id == "check":
                    allowed.update(id(arg) for arg in decorator.args)
    return allowed


def literals_in(source: str) -> int:
    """How many clause ids `source` types as string literals outside `@check` registrations."""
    tree = ast.parse(source)
    allowed = _registrations(tree)
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in CLAUSE_IDS and id(node) not in allowed
    )


def clause_literals() -> Counter[str]:
    found: Counter[str] = Counter()
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative in ALLOWED_FILES or relative.parts[0] in ALLOWED_PACKAGES:
            continue
        count = literals_in(path.read_text(encoding="utf-8"))
        if count:
            found[relative.as_posix()] = count
    return found


def test_no_new_clause_literal_outside_the_registry_and_the_rules() -> None:
    grown = {
        name: (count, NOT_YET_MOVED.get(name, 0))
        for name, count in clause_literals().items()
        if count > NOT_YET_MOVED.get(name, 0)
    }
    assert grown == {}, f"clause ids typed outside clauses.py and rules/ (found, allowed): {grown}"


def test_the_allowance_only_shrinks() -> None:
    found = clause_literals()
    stale = {
        name: (found.get(name, 0), allowed) for name, allowed in NOT_YET_MOVED.items() if found.get(name, 0) < allowed
    }
    assert stale == {}, f"literals moved out: lower NOT_YET_MOVED to (found, listed): {stale}"


def test_the_reader_sees_a_literal_and_spares_a_registration() -> None:
    some = sorted(CLAUSE_IDS)[0]
    assert literals_in(f'x = "{some}"') == 1
    assert literals_in(f'@check("{some}")\ndef f() -> None: ...') == 0
    assert literals_in(f'@check("{some}")\ndef f() -> None:\n    report("{some}")') == 1

"""Layers that point one way: every import of the kit's own modules, read from the source (ast).

The order is conformance/ARCHITECTURE.md's ("Layers"): 1 contract → 2 transport →
3 checks → 4 runner → 5 outputs and front doors; the reference server (`handlers`)
stands beside them and imports only layer 1. A module may import its own layer or
lower ones, never a higher one; besides:
- a check family (a module of `conformance/checks/` that registers a `@check`) never
  imports another family: what two families share lives in a helper of layer 3;
- a report format never imports another format, only the reports package (the one
  report document they all print) and its shared helpers; a front door never imports
  another front door;
- nothing outside `handlers` imports `handlers`, and the reference's storage imports
  nothing of the reference but storage (ids come from a factory it is given);
- nobody imports the umbrella package `billing_kit` itself (the version is layer 1's);
- no import cycle, lazy and `TYPE_CHECKING` imports included (a cycle hidden in a
  function is still two modules that cannot be understood apart).
Every module must have a layer below (`LAYERS`): a new module fails this test until it
is placed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "billing_kit"
# Where the installed names live in the repository (billing_kit/conformance and
# billing_kit/handlers are links to the top-level folders).
SOURCES = {
    f"{PACKAGE}.conformance": ROOT / "conformance",
    f"{PACKAGE}.handlers": ROOT / "handlers",
    PACKAGE: ROOT / PACKAGE,
}

CONTRACT, TRANSPORT, CHECKS, RUNNER, OUTPUTS = 1, 2, 3, 4, 5
REFERENCE = "reference"  # handlers/: beside the suite, imports only layer 1

# Module (without the `billing_kit.` prefix) -> layer. A key ending in `.*` places every
# module under that package not named on its own.
LAYERS: dict[str, int | str] = {
    # 1. contract: the spec, the clause registry, the version, and the values every layer speaks
    "conformance": CONTRACT,
    "conformance.contract": CONTRACT,
    "conformance.clauses": CONTRACT,
    "conformance.version": CONTRACT,
    "conformance.errors": CONTRACT,
    "conformance.config": CONTRACT,
    "conformance.model": CONTRACT,
    "conformance.assurance": CONTRACT,
    "conformance.proven": CONTRACT,
    # the diff of two contracts reads only the contract and the clause registry
    "conformance.specdiff": CONTRACT,
    "conformance.specdiff.model": CONTRACT,
    "conformance.specdiff.walk": CONTRACT,
    "conformance.specdiff.sites": CONTRACT,
    "conformance.specdiff.rules": CONTRACT,
    # 2. transport: the defensive client and what it needs
    "conformance.http": TRANSPORT,
    "conformance.spec_source": TRANSPORT,
    "conformance.wire": TRANSPORT,
    "conformance.jsonsafe": TRANSPORT,
    "conformance.redact": TRANSPORT,
    "conformance.reproduce": TRANSPORT,
    # 3. checks: the rules (pure judging functions), the registry, what a check receives,
    # corpora, strategies, the families
    "conformance.rules": CHECKS,
    "conformance.rules.*": CHECKS,
    "conformance.checks": CHECKS,
    "conformance.checks.*": CHECKS,
    "conformance.context": CHECKS,
    "conformance.registry": CHECKS,
    "conformance.failures": CHECKS,
    "conformance.ledger": CHECKS,
    "conformance.properties": CHECKS,
    "conformance.plan_cache": CHECKS,
    "conformance.corpora": CHECKS,
    "conformance.strategies": CHECKS,
    # 4. runner
    "conformance.runner": RUNNER,
    "conformance.execute": RUNNER,
    "conformance.deep": RUNNER,
    "conformance.until": RUNNER,
    "conformance.workers": RUNNER,
    "conformance.mutate": RUNNER,
    "conformance.preflight": RUNNER,
    "conformance.progress": RUNNER,
    "conformance.confirm": RUNNER,
    "conformance.options": RUNNER,
    "conformance.options_file": RUNNER,
    "conformance.baseline": RUNNER,
    "conformance.report_reader": RUNNER,
    # 5. outputs and front doors
    "conformance.reports": OUTPUTS,
    "conformance.reports.*": OUTPUTS,
    "conformance.reports.chart": OUTPUTS,
    "conformance.listing": OUTPUTS,
    "conformance.demo": OUTPUTS,
    "conformance.cli": OUTPUTS,
    "conformance.pytest_plugin": OUTPUTS,
    "conformance.replay": OUTPUTS,
    "conformance.compare": OUTPUTS,
    "conformance.specdiff.render": OUTPUTS,
    "conformance.specdiff.verdicts": OUTPUTS,  # diff --check: both contracts run through the runner
    "conformance.specdiff.cli": OUTPUTS,
    "badge": OUTPUTS,
    "conformance.traffic": OUTPUTS,  # the proxy and the judge of recorded traffic
    "conformance.traffic.*": OUTPUTS,
    "": OUTPUTS,  # the umbrella package billing_kit itself
    "cli": OUTPUTS,
    "docs": OUTPUTS,
    "docs.*": OUTPUTS,
    # the reference server
    "handlers": REFERENCE,
    "handlers.*": REFERENCE,
}
FRONT_DOORS = {
    "conformance.cli",
    "conformance.pytest_plugin",
    "conformance.replay",
    "conformance.compare",
    "conformance.specdiff.cli",
    "badge",
    "conformance.traffic.cli",
    "cli",
    "docs",
}
# One module per report format; the other modules of reports/ are what formats share.
REPORT_FORMATS = {f"conformance.reports.{name}" for name in ("terminal", "json_report", "junit", "html")}
STORAGE = "handlers.storage"

# Arrows that still point the wrong way, each (importer, imported): empty, and it stays so.
# Do not add to this list: fix the import.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()
KNOWN_CYCLES: list[set[str]] = []


def _short(name: str) -> str:
    return "" if name == PACKAGE else name.removeprefix(PACKAGE + ".")


@cache
def modules() -> dict[str, Path]:
    """Every module of the kit by its short name (`conformance.http`, `handlers.storage.sql`, `cli`)."""
    found: dict[str, Path] = {}
    for prefix, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder)
            if prefix == PACKAGE and relative.parts[0] in ("conformance", "handlers"):
                continue  # the links: read from the real folders above
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[_short(".".join([prefix, *parts]))] = path
    return found


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom | ast.Import) -> Iterator[str]:
    """The kit's modules an import statement loads (a `from package import module` names the module)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                yield _short(alias.name)
        return
    if node.level:  # relative: from the importer's package
        base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    elif node.module == PACKAGE or (node.module or "").startswith(PACKAGE + "."):
        target = _short(node.module or "")
    else:
        return
    for alias in node.names:
        child = f"{target}.{alias.name}" if target else alias.name
        yield child if child in modules() else target


@cache
def imports() -> dict[str, set[str]]:
    """Module -> the kit's modules it imports anywhere (top level, functions, TYPE_CHECKING)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.update(_resolve(name, node))
        found.discard(name)
        graph[name] = found
    return graph


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` (annotations only, never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


@cache
def runtime_imports() -> dict[str, set[str]]:
    """Module -> the kit's modules it imports when it runs (what a cycle is made of)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skipped = _type_only(tree)
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
                found.update(_resolve(name, node))
        found.discard(name)
        graph[name] = found
    return graph


def layer(name: str) -> int | str | None:
    if name in LAYERS:
        return LAYERS[name]
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        key = ".".join(parts[:cut]) + ".*"
        if key in LAYERS:
            return LAYERS[key]
    return None


def registers_checks(name: str) -> bool:
    """A check family: a module of conformance/checks/ with a function decorated `@check(...)`."""
    if not name.startswith("conformance.checks.") or _is_package(name):
        return False
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (isinstance(target, ast.Name) and target.id == "check") or (
                    isinstance(target, ast.Attribute) and target.attr == "check"
                ):
                    return True
    return False


def why_not(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when it may."""
    low, high = layer(imported), layer(importer)
    if imported == "":
        return "the umbrella package is imported by nobody"
    if high == REFERENCE or low == REFERENCE:
        if high != REFERENCE:
            return "only the reference server imports handlers"
        if low not in (REFERENCE, CONTRACT):
            return f"the reference server imports only layer 1, not layer {low}"
        if importer.startswith(STORAGE) and low == REFERENCE and not imported.startswith(STORAGE):
            return "the reference's storage imports only storage"
        return None
    if low is None or high is None:
        return f"{imported if low is None else importer} has no layer"
    assert isinstance(low, int) and isinstance(high, int)
    if low > high:
        return f"layer {high} imports layer {low}"
    if registers_checks(importer) and registers_checks(imported):
        return "a check family imports another"
    if importer in REPORT_FORMATS and imported in REPORT_FORMATS:
        return "a report format imports another"
    if importer in FRONT_DOORS and imported in FRONT_DOORS:
        return "a front door imports another"
    return None


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_rules_import_only_the_contract_and_transport_layers() -> None:
    """The rules judge what they are given: no context, no check, nothing above layer 2 but each other."""
    wrong = {
        (name, imported)
        for name, found in imports().items()
        if name == "conformance.rules" or name.startswith("conformance.rules.")
        for imported in found
        if not imported.startswith("conformance.rules") and layer(imported) not in (CONTRACT, TRANSPORT)
    }
    assert wrong == set(), wrong


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(name or PACKAGE for name in modules() if layer(name) is None)
    assert unplaced == [], f"give these modules a layer in tests/test_layers.py LAYERS: {unplaced}"


def test_no_import_points_up_or_sideways() -> None:
    broken = [
        f"{importer} -> {imported}: {reason}"
        for importer, targets in sorted(imports().items())
        for imported in sorted(targets)
        if (importer, imported) not in KNOWN_VIOLATIONS and (reason := why_not(importer, imported))
    ]
    assert broken == [], "\n".join(broken)


def test_no_import_cycle() -> None:
    cycles = [sorted(c) for c in _cycles(runtime_imports()) if c not in KNOWN_CYCLES]
    assert cycles == [], cycles


def test_the_known_exceptions_are_still_real() -> None:
    """An exception whose import is gone must leave the list (so the list only shrinks)."""
    graph = imports()
    stale = sorted((a, b) for a, b in KNOWN_VIOLATIONS if b not in graph.get(a, set()) or why_not(a, b) is None)
    assert stale == [], f"delete from KNOWN_VIOLATIONS: {stale}"
    cycles = _cycles(graph)
    assert [sorted(c) for c in KNOWN_CYCLES if c not in cycles] == [], "delete the cycle from KNOWN_CYCLES"


def test_the_reader_sees_what_it_must() -> None:
    """The reader itself: it finds imports of every form, and the rules catch what they name."""
    graph = imports()
    assert "conformance.contract" in graph["handlers.guard"]  # from billing_kit.conformance.contract import …
    assert "conformance.clauses" in graph["conformance.listing"]  # from billing_kit.conformance import clauses
    assert "conformance.version" in graph[""]  # the umbrella re-exports the version
    assert "conformance.checks.streaming" in graph["conformance.checks.body"]  # a helper, not a family
    assert registers_checks("conformance.checks.auth")
    assert not registers_checks("conformance.checks.streaming")
    assert why_not("conformance.runner", "") == "the umbrella package is imported by nobody"
    assert why_not("handlers.storage.sql", "handlers.spec") == "the reference's storage imports only storage"
    assert why_not("docs", "conformance.cli") == "a front door imports another"
    assert why_not("conformance.pytest_plugin", "conformance.cli") == "a front door imports another"
    assert (
        why_not("handlers.storage.sql", "conformance.http") == "the reference server imports only layer 1, not layer 2"
    )
    assert why_not("conformance.demo", "handlers.app") == "only the reference server imports handlers"
    assert why_not("conformance.checks.auth", "conformance.checks.idempotency") == "a check family imports another"
    assert why_not("conformance.runner", "conformance.nonexistent") == "conformance.nonexistent has no layer"
    assert why_not("conformance.checks.body", "conformance.checks.streaming") is None
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]

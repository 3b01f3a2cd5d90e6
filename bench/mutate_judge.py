"""How well the fast tests guard the suite's judge: mutmut over the judging functions.

    .venv/bin/pip install -r bench/mutation-requirements.txt
    .venv/bin/python -m bench.mutate_judge [--max-children 2] [--keep] [--only FILE] [--require 95]

Mutated: exactly the functions in `TARGETS`: the judging code of `runner.fold` and
the ledger, `corpora.judge_case`, `generic_judge`, the RES-* body judges, the ERR-3
problem judge, the ERR-2 server-error judge, and every function of every module of
`conformance/rules/` (read from the package each time the script runs, so a module
added there is mutated with no edit here; a module of constants only has nothing to
mutate). mutmut mutates every function of those files, and only the mutants of these
functions are run and counted. A name in `TARGETS` that is no function of its file
is an error: a judge that moved is not silently left unmutated.
Tested with: `tests/test_judge_*.py`, `tests/test_rules.py` and `tests/test_rules_*.py`
(canned exchanges, no server), but not `SOURCE_TESTS`, which read the rules' source
(mutmut's copy of it is trampolines and mutant copies, not the source).

mutmut copies the sources into `mutants/` and does not follow links, while the
repository keeps `conformance/` at its root with `billing_kit/conformance` a link
to it; so the script lays a copy in `.mutmut/` (git-ignored) with the links
resolved and the spec beside the package (where the wheel ships it), and runs
mutmut there. It prints, per target function, killed/mutants; each survivor as a
one-line diff, marked when `bench/MUTATION.md` lists it as equivalent (matched by
function and diff, not by mutant number); the score (killed or timed out / all
mutants of the targets) and the score of the rules modules alone.
Exit 0 when the score is at least `--require` per cent (default 90).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutmut"
EQUIVALENTS = ROOT / "bench" / "MUTATION.md"
RULES = ROOT / "conformance" / "rules"
# Tests that read the rules' source rather than judge with them: mutmut's copy of the
# package is trampolines and mutant copies, so they are not run against mutants.
SOURCE_TESTS = frozenset({"tests/test_rules_no_repeats.py"})
TESTS = sorted(
    {
        p.relative_to(ROOT).as_posix()
        for pattern in ("test_judge_*.py", "test_rules.py", "test_rules_*.py")
        for p in (ROOT / "tests").glob(pattern)
    }
    - SOURCE_TESTS
)

# file under billing_kit/ -> the judging functions of it that are mutated ("Class.method" for methods)
TARGETS: dict[str, tuple[str, ...]] = {
    "conformance/runner.py": ("fold", "_required", "_why_not_run", "_skip_note"),
    "conformance/ledger.py": (
        "unsendable",
        "was_sent",
        "Entry.add_case",
        "Entry.count",
        "Ledger.auto",
        "Ledger.probe",
        "Ledger.evidence",
        "Ledger.note",
        "Ledger.get",
        "coverage_of",
    ),
    "conformance/corpora/__init__.py": ("judge_case",),
    "conformance/checks/generic_judge.py": (
        "Expectation.add",
        "email_class",
        "_is_plain_email",
        "_breaks_email_rules",
        "_Parsed.pairs",
        "_Parsed.integer",
        "_Parsed.number",
        "_constant",
        "parse_body",
        "strings_of",
        "_small_metadata",
        "_judge_fields",
        "judge_request",
        "_judge_content_type",
        "_json_type",
        "auth_kind",
        "bearer_shaped",
    ),
    # (its `short`, `parse_time` and `_judge_times` moved to rules/created.py: `short`, `parse_time`, `times`)
    "conformance/checks/response.py": ("key_environment", "judge_success", "judge_body", "judge_created"),
    "conformance/checks/problems.py": (
        "_odd_headers",
        "_long_strings",
        "problem_failures",
        "_problem_rules",
        "_is_client_error",
    ),
    "conformance/checks/errors.py": ("_server_error",),
}


def functions_of(path: Path) -> tuple[str, ...]:
    """Every function of a module, its methods as "Class.method" (what mutmut can mutate of it)."""
    found: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.name)
        elif isinstance(node, ast.ClassDef):
            found.extend(
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return tuple(found)


def rules_targets() -> dict[str, tuple[str, ...]]:
    """Every function of every module of `conformance/rules/`, read when the script runs (a module
    without a function, constants only, has nothing for mutmut to mutate and is left out)."""
    modules = {path.relative_to(ROOT).as_posix(): functions_of(path) for path in sorted(RULES.glob("*.py"))}
    return {path: functions for path, functions in modules.items() if functions}


TARGETS.update(rules_targets())
KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
CLASS_SEPARATOR = "ǁ"


def module_of(path: str) -> str:
    dotted = "billing_kit." + path.removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__")


def mangled(function: str) -> str:
    """mutmut's name of a function's trampoline: `x_name`, or `xǁClassǁname` for a method."""
    if "." in function:
        cls, name = function.split(".")
        return f"x{CLASS_SEPARATOR}{cls}{CLASS_SEPARATOR}{name}"
    return f"x_{function}"


def patterns(targets: dict[str, tuple[str, ...]]) -> list[str]:
    return [f"{module_of(path)}.{mangled(f)}__mutmut_*" for path, functions in targets.items() for f in functions]


def lay_copy() -> None:
    """A copy of the project mutmut can read: links resolved, the spec inside the package."""
    if WORK.exists():
        shutil.rmtree(WORK)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "billing_kit", WORK / "billing_kit", symlinks=False, ignore=ignore)
    shutil.copy2(ROOT / "openapi.yaml", WORK / "billing_kit" / "conformance" / "openapi.yaml")
    (WORK / "tests").mkdir()
    for name in ("__init__.py", "conftest.py"):
        if (ROOT / "tests" / name).exists():
            shutil.copy2(ROOT / "tests" / name, WORK / "tests" / name)
    shutil.copytree(ROOT / "tests" / "support", WORK / "tests" / "support", ignore=ignore)
    for test in TESTS:
        shutil.copy2(ROOT / test, WORK / test)
    only = ", ".join(json.dumps(f"billing_kit/{path}") for path in TARGETS)
    tests = ", ".join(json.dumps(t) for t in TESTS)
    config = (
        "\n\n[tool.mutmut]\n"
        'source_paths = ["billing_kit"]\n'
        f"only_mutate = [{only}]\n"
        f"pytest_add_cli_args_test_selection = [{tests}]\n"
        # the kit's own pytest plugin is not under test; xdist stays out of the forks
        'pytest_add_cli_args = ["-p", "no:billing_conformance", "-p", "no:xdist"]\n'
        "use_git_change_detection = false\n"
    )
    (WORK / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + config)


@dataclass(frozen=True)
class Mutant:
    name: str
    function: str  # "path:function"
    exit_code: int | None
    diff: str  # "- old line / + new line", whitespace collapsed

    @property
    def detected(self) -> bool:
        return self.exit_code in KILLED


def _function_sources(source: str) -> dict[str, str]:
    lines = source.splitlines()
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            found[node.name] = "\n".join(lines[node.lineno - 1 : node.end_lineno])
    return found


def _body(function: str) -> list[str]:
    """The function's lines after its `def` line (which differs by name), stripped."""
    return [line.strip() for line in function.splitlines()[1:]]


def _one_line_diff(original: str, mutant: str) -> str:
    changed = [
        f"{line[0]} {' '.join(line[1:].split())}"
        for line in difflib.unified_diff(_body(original), _body(mutant), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return " / ".join(changed)


def results(targets: dict[str, tuple[str, ...]]) -> list[Mutant]:
    wanted = patterns(targets)
    mutants: list[Mutant] = []
    for path, functions in targets.items():
        mutated = WORK / "mutants" / "billing_kit" / path
        meta_file = mutated.with_name(mutated.name + ".meta")
        if not meta_file.exists():
            continue  # nothing mutmut could mutate in that file
        meta = json.loads(meta_file.read_text())
        sources = _function_sources(mutated.read_text())
        for name, code in sorted(meta["exit_code_by_key"].items()):
            if not any(fnmatch.fnmatchcase(name, p) for p in wanted):
                continue
            trampoline, _, number = name.rpartition(".")[2].partition("__mutmut_")
            function = next(f for f in functions if mangled(f) == trampoline)
            diff = _one_line_diff(sources[f"{trampoline}__mutmut_orig"], sources[f"{trampoline}__mutmut_{number}"])
            mutants.append(Mutant(name, f"{path}:{function}", code, diff))
    return mutants


def equivalents() -> set[tuple[str, str]]:
    """(path:function, diff) of the survivors bench/MUTATION.md judges equivalent.

    One a line: - `path:function`: `` - old / + new ``: why
    """
    found = set()
    for line in EQUIVALENTS.read_text().splitlines() if EQUIVALENTS.exists() else []:
        match = re.match(r"- `([^`]+)`: `` (.+?) ``: ", line)
        if match:
            found.add((match.group(1), match.group(2)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--keep", action="store_true", help="reuse .mutmut/ and mutmut's cached results")
    parser.add_argument("--require", type=float, default=90.0, help="the score (per cent) below which it exits 1")
    parser.add_argument("--only", action="append", default=[], help="mutate only this file of TARGETS (repeatable)")
    args = parser.parse_args()
    unknown = [path for path in args.only if path not in TARGETS]
    if unknown:
        print(f"Error: --only {unknown[0]} is not a file of TARGETS", file=sys.stderr)
        return 2
    targets = {path: TARGETS[path] for path in args.only} if args.only else TARGETS
    if not TESTS:
        print("Error: no tests/test_judge_*.py", file=sys.stderr)
        return 2
    stale = [f"{path}:{f}" for path, fs in targets.items() for f in fs if f not in functions_of(ROOT / path)]
    if stale:
        print(f"Error: TARGETS names {stale[0]}, which is not a function of that file", file=sys.stderr)
        return 2
    if not (args.keep and WORK.exists()):
        lay_copy()
    mutmut = Path(sys.executable).with_name("mutmut")
    command = [str(mutmut), "run", "--max-children", str(args.max_children), *patterns(targets)]
    run = subprocess.run(command, cwd=WORK, check=False)  # its progress goes to the terminal
    sys.stdout.flush()
    if run.returncode != 0:
        print(f"Error: mutmut exited {run.returncode}", file=sys.stderr)
        return 2
    mutants = results(targets)
    known = equivalents()
    detected = sum(m.detected for m in mutants)
    survivors = [m for m in mutants if not m.detected]
    by_function: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_function.setdefault(mutant.function, []).append(mutant)
    for path, functions in targets.items():
        for function in functions:
            group = by_function.get(f"{path}:{function}", [])
            print(f"{sum(m.detected for m in group):4d}/{len(group):<4d} {path}:{function}")
    print()
    for mutant in survivors:
        mark = "equivalent" if (mutant.function, mutant.diff) in known else "SURVIVED"
        status = {0: "survived", 33: "no tests", 5: "no tests"}.get(mutant.exit_code or 0, str(mutant.exit_code))
        print(f"{mark:10s} {mutant.function} ({mutant.name.rpartition('.')[2]}, {status}): {mutant.diff}")
    equivalent = sum((m.function, m.diff) in known for m in survivors)
    score = 100.0 * detected / len(mutants) if mutants else 0.0
    print()
    print(f"mutants: {len(mutants)} of {len(by_function)} judging functions; tests: {' '.join(TESTS)}")
    print(f"killed: {detected}/{len(mutants)} ({score:.1f} %); survivors judged equivalent: {equivalent}")
    if equivalent < len(mutants) - detected:
        print(f"killed among the non-equivalent: {detected}/{len(mutants) - equivalent}")
    rules = [m for m in mutants if m.function.startswith("conformance/rules/")]
    if rules:
        killed = sum(m.detected for m in rules)
        print(f"rules modules alone: {killed}/{len(rules)} ({100.0 * killed / len(rules):.1f} %)")
    return 0 if score >= args.require else 1


if __name__ == "__main__":
    sys.exit(main())

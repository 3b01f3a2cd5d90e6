"""Every command the README shows exists as written, after the set-up it describes.

The README's set-up is `make demo` then `. .venv/bin/activate`, so `billing-kit` is the venv's.
From each shell code block (```sh) every command line is read, continuation lines joined and
comments dropped; then:

- `billing-kit SUB [SUB …] --opt …`: `billing-kit SUB … --help` exits 0 and lists each `--opt`;
- `make TARGET`: the Makefile has the target;
- `pytest --billing-…`: the pytest plugin registers each option;
- `. PATH` / `source PATH`: the path is one the set-up makes (`make demo` creates `.venv`).

Commands named in the README's prose (`billing-kit replay report.json`, the table of commands)
are held to the same rule.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.support.procs import BILLING_KIT, ROOT

README = ROOT / "README.md"
SHELL_BLOCK = re.compile(r"```(?:sh|bash|shell)\n(.*?)```", re.DOTALL)
INLINE_COMMAND = re.compile(r"`((?:billing-kit|make|pytest) [^`]*)`")
SET_UP_PATHS = {".venv/bin/activate"}  # made by `make demo` (the Makefile's venv target)


def shell_commands(text: str) -> list[str]:
    commands: list[str] = []
    for block in SHELL_BLOCK.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    inline = [c for c in INLINE_COMMAND.findall(text) if "…" not in c]
    return shell_commands(text) + inline


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w.-]*):", makefile, flags=re.MULTILINE)}


def subcommand_and_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """(`billing-kit` and its subcommands, the long options) of one command line."""
    head = argv[:1]
    rest = argv[1:]
    while rest and re.fullmatch(r"[a-z]+", rest[0]) and len(head) < 3:
        head.append(rest.pop(0))
    options = [word.split("=", 1)[0] for word in rest if word.startswith("--")]
    return head, options


def help_text(head: list[str]) -> subprocess.CompletedProcess[str]:
    argv = [BILLING_KIT, *head[1:], "--help"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def known_subcommand_prefix(head: list[str]) -> list[str]:
    """The longest prefix of `head` that is a real (sub)command: `billing-kit keys create`."""
    for end in range(len(head), 0, -1):
        if help_text(head[:end]).returncode == 0:
            return head[:end]
    return head[:1]


def test_the_readme_shows_commands_to_check() -> None:
    commands = readme_commands()
    assert any(c.startswith("billing-kit check") for c in commands)
    assert "make demo" in {c.split("#")[0].strip() for c in commands}
    assert any(c.startswith(". .venv/bin/activate") for c in commands)


@pytest.mark.parametrize("command", [c for c in readme_commands() if c.startswith("billing-kit")])
def test_each_billing_kit_command_and_option_exists(command: str) -> None:
    argv = [w for w in words(command) if not w.startswith("$")]
    head, options = subcommand_and_options(argv)
    real = known_subcommand_prefix(head)
    assert len(real) >= 2 or argv[1:2] == ["--help"], f"no such subcommand: {' '.join(head)}"
    shown = help_text(real)
    assert shown.returncode == 0, shown.stderr
    missing = [option for option in options if option not in shown.stdout]
    assert missing == [], f"`{' '.join(real)} --help` does not list {missing}"


@pytest.mark.parametrize("command", [c for c in readme_commands() if c.startswith("make")])
def test_each_make_target_exists(command: str) -> None:
    for target in words(command)[1:]:
        assert target in make_targets(), target


@pytest.mark.parametrize("command", [c for c in readme_commands() if c.startswith("pytest")])
def test_each_pytest_option_is_the_plugins(command: str) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    options = [w for w in words(command) if w.startswith("--")]
    assert options and [o for o in options if o not in shown.stdout] == []


@pytest.mark.parametrize("command", [c for c in readme_commands() if c.startswith((". ", "source "))])
def test_each_sourced_file_is_made_by_the_set_up(command: str) -> None:
    path = words(command)[1]
    assert path in SET_UP_PATHS
    assert (ROOT / "Makefile").read_text().count("$(PY) -m venv $(VENV)") == 1  # make demo builds .venv
    assert (ROOT / path).is_file() or not (ROOT / ".venv").exists()


def test_the_rule_catches_a_wrong_option_and_a_missing_target() -> None:
    head, options = subcommand_and_options(words("billing-kit check --base-url X --no-such-option"))
    assert head == ["billing-kit", "check"] and "--no-such-option" not in help_text(head).stdout
    assert options == ["--base-url", "--no-such-option"]
    assert "no-such-target" not in make_targets() and "demo" in make_targets()
    assert known_subcommand_prefix(["billing-kit", "keys", "create"]) == ["billing-kit", "keys", "create"]
    assert known_subcommand_prefix(["billing-kit", "nosuch"]) == ["billing-kit"]

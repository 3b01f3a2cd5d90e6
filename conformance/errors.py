"""What every front door (`check`, `demo`, `docs`, the pytest plugin) shares for errors.

Every exception the kit raises on purpose derives from `KitError`, so `except KitError`
never hides a bug. The hierarchy (`tests/test_errors.py` holds the classes to it):

    KitError                   anything the kit raises on purpose
    ├── InputError             what the kit was given cannot be used: one `Error:` line, exit 2
    │   ├── CliError           a usage error or a refused option (click.ClickException)
    │   ├── ConfigError        billing-kit.toml or [tool.billing-kit] (click.ClickException)
    │   ├── OptionError        an option value the run cannot honour (also a ValueError)
    │   ├── SpecError          the spec cannot be loaded or lacks what the kit relies on
    │   ├── BaselineError      a baseline file that cannot be read or matched
    │   ├── ReportError        a JSON report that cannot be read
    │   ├── CaptureError       a traffic capture that cannot be read (also a ValueError)
    │   ├── CorpusError        a corpus file that breaks its schema
    │   ├── NotReplayable      a recorded request that cannot be sent again as it was
    │   └── DemoError          the demo's reference server cannot start
    ├── TargetError            the server under test, as the client meets it
    │   ├── Unreachable        refused, DNS, TLS, a connect timeout
    │   │   └── PreflightFailed  not the API as configured: a stop at the door, the cause named
    │   └── TargetStopped      it stopped answering part-way
    ├── BudgetExhausted        the run's time budget (--max-time) ran out
    └── Outcome                a check's verdict on the way to the engine, never shown as an error
        ├── Failure            a rule broken: clause, title, evidence
        ├── Inconclusive       the check cannot judge
        │   └── LiveCapReached  the live key's request cap is spent
        └── ClauseFailed       the pytest plugin's test of a clause that failed

A `CliError` is one `Error: …` line on stderr and exit code 2, never a traceback;
`OneLineErrors` turns click's usage errors (usage text, then the error) into the same
one line. Here, below the CLI, so the docs generator and the plugin need not import it.
"""

from __future__ import annotations

from typing import Any

import click


class KitError(Exception):
    """Anything the kit raises on purpose (the hierarchy is in this module's docstring)."""


class InputError(KitError):
    """What the kit was given (an option, a file, the spec) cannot be used."""


class TargetError(KitError):
    """The server under test, as the client meets it: unreachable, or stopped part-way."""


class Outcome(KitError):
    """A check's verdict raised on its way to the engine (a broken rule, a check that cannot judge)."""


class CliError(InputError, click.ClickException):
    exit_code = 2


class OneLineErrors(click.Command):
    """Usage errors as one `Error: …` line (click would print the usage first)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise CliError(exc.format_message()) from None


def check_output_paths(paths: dict[str, Any]) -> None:
    """Refuse an output file that cannot be written, before anything is sent: one CliError naming it.

    `paths` maps the option (`--report-json`) to its path or None. Nothing is created:
    the directory must exist and be writable, the path must not be a directory.
    """
    import os
    from pathlib import Path

    for option, value in paths.items():
        if value is None:
            continue
        path = Path(value)
        parent = path.parent
        if path.is_dir():
            raise CliError(f"{option} {path}: is a directory, not a file")
        if not parent.is_dir():
            raise CliError(f"{option} {path}: the directory {parent} does not exist")
        if path.exists() and not os.access(path, os.W_OK):
            raise CliError(f"{option} {path}: the file is not writable")
        if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
            raise CliError(f"{option} {path}: the directory {parent} is not writable")

"""What every front door (`check`, `demo`, `docs`, the pytest plugin) shares for errors.

A `CliError` is one `Error: …` line on stderr and exit code 2, never a traceback;
`OneLineErrors` turns click's usage errors (usage text, then the error) into the same
one line. Here, below the CLI, so the docs generator and the plugin need not import it.
"""

from __future__ import annotations

from typing import Any

import click


class CliError(click.ClickException):
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

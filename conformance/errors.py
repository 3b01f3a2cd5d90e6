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

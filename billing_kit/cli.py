"""`billing-kit`: one thin command; each subcommand is imported only when used.

`billing-kit --help` must answer fast, so this module imports click and nothing
heavy: the subcommands live beside the code they drive and are loaded lazily.
Errors are one `Error: …` line on stderr with exit code 2 (click's usage errors
already are).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> "module:attribute" of a click command; loaded on first use.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("billing_kit.handlers.cli:serve", "Run the reference server."),
    "keys": ("billing_kit.handlers.cli:keys", "Create, list and revoke API keys."),
    "db": ("billing_kit.handlers.cli:db", "Create or upgrade the database schema."),
    "check": ("billing_kit.conformance.cli:check", "Check any server against the contract, clause by clause."),
    "demo": ("billing_kit.conformance.cli:demo", "Start the reference server, check it, print the report."),
    "proxy": ("billing_kit.conformance.traffic.cli:proxy", "Pass real traffic to a server, judge it clause by clause."),
    "judge": ("billing_kit.conformance.traffic.cli:judge", "Judge recorded traffic (HAR or capture) by clause."),
    "docs": ("billing_kit.docs:docs_command", "Write the API reference (HTML and Markdown) from the spec."),
    "replay": ("billing_kit.conformance.replay:replay_command", "Resend a report's failing requests, judge again."),
    "compare": ("billing_kit.conformance.compare:compare_command", "Compare two JSON reports, clause by clause."),
    "badge": ("billing_kit.badge:badge_command", "Write an SVG conformance badge from a JSON report."),
    "diff": (
        "billing_kit.conformance.specdiff.cli:diff_command",
        "Compare two contracts: each change, the clause it touches, whom it breaks.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        target, _ = SUBCOMMANDS[cmd_name]
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from the table above, so `--help` imports no subcommand.
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in SUBCOMMANDS.items()])


def _print_version(ctx: click.Context, _param: Any, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from billing_kit.conformance.contract import bundled_sha256
    from billing_kit.conformance.version import __version__

    click.echo(f"billing-kit {__version__} (bundled openapi.yaml sha256 {bundled_sha256()})")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the bundled spec's sha256.",
)
def main() -> None:
    """The Customers API contract kit: reference server, conformance suite, docs."""


if __name__ == "__main__":
    main()

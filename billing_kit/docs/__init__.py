"""`billing-kit docs`: the API reference (static HTML and Markdown) generated from the spec.

The generator is imported inside the command so that `billing-kit docs --help`
loads click only; a whole run stays well under a second.
"""

from __future__ import annotations

from pathlib import Path

import click

from billing_kit.conformance.errors import CliError, OneLineErrors


@click.command(cls=OneLineErrors)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write index.html and reference.md into (created if missing).",
)
@click.option("--spec", "spec", default=None, help="A spec file or URL instead of the bundled openapi.yaml.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON report: write a statement of conformance (its verdict beside every clause and field).",
)
@click.option("--name", metavar="NAME", help="The implementation's name in the statement (with --report).")
@click.option(
    "--changes-from",
    metavar="OLD.yaml",
    help="An older spec (file or URL): add a Changes section, each change with its clauses and whom it breaks.",
)
def docs_command(out: Path, spec: str | None, report: Path | None, name: str | None, changes_from: str | None) -> None:
    """Write the API reference (HTML with inline CSS, and Markdown) from the spec and the clause registry."""
    from billing_kit.conformance.contract import SpecError
    from billing_kit.conformance.spec_source import load_contract
    from billing_kit.docs.render import write_docs

    if name is not None and report is None:
        raise CliError("--name needs --report")
    try:
        contract = load_contract(spec)
    except SpecError as exc:
        raise CliError(str(exc)) from None
    statement = None
    if report is not None:
        from billing_kit.conformance.report_reader import ReportError, load_report
        from billing_kit.docs.statement import statement_of

        try:
            statement = statement_of(load_report(report), name, contract.sha256)
        except ReportError as exc:
            raise CliError(str(exc)) from None
        for warning in statement.warnings:
            click.echo(f"Warning: {warning}", err=True)
    changes = None
    if changes_from is not None:
        from billing_kit.docs.changes import changes_from as diff_from

        try:
            changes = diff_from(load_contract(changes_from), contract)
        except SpecError as exc:
            raise CliError(f"--changes-from: {exc}") from None
    try:
        written = write_docs(contract, out, statement, changes)
    except SpecError as exc:
        raise CliError(f"{contract.origin}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A document that is OpenAPI 3.0 but shaped other than the generator reads it.
        raise CliError(f"{contract.origin} cannot be documented: {type(exc).__name__} {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or out}: {exc.strerror}") from None
    for path in written:
        click.echo(str(path))

"""`billing-kit docs`: the API reference (static HTML and Markdown) generated from the spec.

The generator is imported inside the command so that `billing-kit docs --help`
loads click only; a whole run stays well under a second.
"""

from __future__ import annotations

from pathlib import Path

import click

from billing_kit.conformance.cli import CliError, OneLineErrors


@click.command(cls=OneLineErrors)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write index.html and reference.md into (created if missing).",
)
@click.option("--spec", "spec", default=None, help="A spec file or URL instead of the bundled openapi.yaml.")
def docs_command(out: Path, spec: str | None) -> None:
    """Write the API reference (HTML with inline CSS, and Markdown) from the spec and the clause registry."""
    from billing_kit.conformance.contract import SpecError, load_contract
    from billing_kit.docs.render import write_docs

    try:
        contract = load_contract(spec)
    except SpecError as exc:
        raise CliError(str(exc)) from None
    try:
        written = write_docs(contract, out)
    except SpecError as exc:
        raise CliError(f"{contract.origin}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A document that is OpenAPI 3.0 but shaped other than the generator reads it.
        raise CliError(f"{contract.origin} cannot be documented: {type(exc).__name__} {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or out}: {exc.strerror}") from None
    for path in written:
        click.echo(str(path))

"""`billing-kit diff OLD NEW`: what an edit of the contract does, clause by clause, and to whom.

Exit 0: nothing to fail on; 1: under `--fail-on breaking` a change breaks clients or
implementations or cannot be classified, under `--fail-on any` any change, and under
`--check` a server that fails either contract; 2: a spec does not load, or a usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from billing_kit.conformance.errors import CliError, OneLineErrors

DIFF_EPILOG = (
    "Exit codes: 0 nothing to fail on; 1 a change --fail-on names (breaking: one that breaks clients or "
    "implementations, or that no rule classifies; any: every change), or with --check a FAIL under either "
    "contract; 2 a spec does not load, or a usage error."
)


def _load(source: str, side: str) -> Any:
    from billing_kit.conformance.contract import SpecError
    from billing_kit.conformance.spec_source import load_contract

    try:
        return load_contract(source)
    except SpecError as exc:
        raise CliError(f"{side} spec: {exc}") from None


def _fails(changes: list[Any], fail_on: str) -> bool:
    if fail_on == "any":
        return bool(changes)
    if fail_on == "breaking":
        return any(change.breaking for change in changes)
    return False


@click.command(cls=OneLineErrors, epilog=DIFF_EPILOG)
@click.argument("old", metavar="OLD.yaml")
@click.argument("new", metavar="NEW.yaml")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking", "any", "none"]),
    default="none",
    show_default=True,
    help="Exit 1 when a change breaks someone (or is unclassified), on any change, or never.",
)
@click.option("--old-name", metavar="TEXT", help="How OLD is named in the output (default: its path).")
@click.option("--new-name", metavar="TEXT", help="How NEW is named in the output (default: its path).")
@click.option("--check", "base_url", metavar="URL", help="Run the suite with both contracts against this server.")
@click.option("--api-key", envvar="BILLING_API_KEY", metavar="KEY", help="Sandbox API key (or $BILLING_API_KEY).")
@click.option("--live-key", envvar="BILLING_LIVE_KEY", metavar="KEY", help="Live key (or $BILLING_LIVE_KEY).")
@click.option("--allow-live", is_flag=True, help="Use the live key, for at most 5 announced creates per run.")
@click.option("--strict", is_flag=True, help="A WARN (SHOULD broken) fails a run too.")
@click.option("--seed", type=int, help="Hypothesis seed, the same for both runs (default: one drawn for both).")
@click.option("--examples", type=int, help="Hypothesis examples per property.  [default: 50]")
@click.option("--timeout", type=float, help="Seconds per request.  [default: 5]")
@click.option("--max-time", type=float, help="Seconds for each run.  [default: 600]")
@click.option("--clock-skew", type=float, help="RES-TIME-2 tolerance in seconds.  [default: 300]")
@click.option("--confirm", type=int, help="Send each FAIL/WARN's smallest case N more times.  [default: 2]")
@click.option("--rate", type=float, metavar="N", help="At most N requests per second.")
@click.option("--max-connections", type=int, metavar="N", help="At most N connections at once.  [default: 32]")
@click.option("-H", "--header", multiple=True, metavar="'Name: value'", help="Extra header on every request.")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CA bundle for TLS.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--only", metavar="CLAUSE,…", help="Check only these clauses.")
def diff_command(
    old: str,
    new: str,
    fmt: str,
    fail_on: str,
    old_name: str | None,
    new_name: str | None,
    base_url: str | None,
    **check_opts: Any,
) -> None:
    """Every change between two contracts: its JSON pointer, the clause it touches, whom it breaks."""
    from billing_kit.conformance.specdiff import diff_contracts, render

    old_contract, new_contract = _load(old, "OLD"), _load(new, "NEW")
    old, new = old_name or old, new_name or new
    changes = diff_contracts(old_contract, new_contract)
    if base_url is None:
        given = sorted(name for name, value in check_opts.items() if value not in (None, False, ()))
        if given:
            raise CliError(f"--{given[0].replace('_', '-')} is a check option: it needs --check URL")
        click.echo(render.FORMATS[fmt](changes, old, new), nl=False)
        sys.exit(1 if _fails(changes, fail_on) else 0)
    side = _check_both(base_url, check_opts, old_contract, new_contract)
    changed = {clause for change in changes for clause in change.clauses}
    if fmt == "json":
        document = json.loads(render.as_json(changes, old, new))
        document["check"] = side.as_json()
        click.echo(json.dumps(document, indent=2))
    else:
        from billing_kit.conformance.specdiff import verdicts

        show = verdicts.markdown if fmt == "markdown" else verdicts.text
        click.echo(render.FORMATS[fmt](changes, old, new) + "\n" + show(side, changed), nl=False)
    sys.exit(max(side.exit_code, 1 if _fails(changes, fail_on) else 0))


def _check_both(base_url: str, opts: dict[str, Any], old: Any, new: Any) -> Any:
    from billing_kit.conformance.options import build_config
    from billing_kit.conformance.specdiff import verdicts

    # One config, so one seed (drawn here when not given) for both runs.
    return verdicts.run_both(build_config(base_url=base_url, **opts), old, new)

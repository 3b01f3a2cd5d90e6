"""`billing-kit check` and `billing-kit demo`.

Imports stay inside the functions: `billing-kit check --help` loads click only.
Exit 0: no FAIL (and, with --strict, no WARN); 1: a FAIL (or a WARN under
--strict); 2: nothing could be judged, or the run budget ran out. Every error is
one `Error: …` line on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from billing_kit.conformance import options_file
from billing_kit.conformance.errors import CliError, OneLineErrors, check_output_paths
from billing_kit.conformance.options import build_config, check_keys

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.demo import DemoServer
    from billing_kit.conformance.model import RunResult

__all__ = ["CliError", "OneLineErrors", "build_config", "check", "check_keys", "demo"]


def _version(ctx: click.Context, _param: Any, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from billing_kit.conformance.contract import bundled_sha256
    from billing_kit.conformance.version import __version__

    click.echo(f"billing-kit {__version__} (bundled openapi.yaml sha256 {bundled_sha256()})")
    ctx.exit()


def _list(ctx: click.Context, _param: Any, value: str | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    from billing_kit.conformance.listing import render_listing

    click.echo(render_listing(value), nl=False)
    ctx.exit()


def execute(
    config: RunConfig,
    reports: dict[str, Path | None],
    out: Any = None,
    announce_live: bool = True,
    accepted: list[Any] | None = None,
) -> RunResult:
    """Load the spec, run, write every report; CliError for what stops a run before it starts.

    `accepted`: the baseline's entries (`--baseline`); the table prints the clauses they cover ACCEPTED.
    """
    from billing_kit.conformance.config import LIVE_CREATE_CAP
    from billing_kit.conformance.contract import SpecError
    from billing_kit.conformance.http import Unreachable
    from billing_kit.conformance.preflight import PreflightFailed, refused_result, require_key
    from billing_kit.conformance.progress import for_output
    from billing_kit.conformance.redact import mask_key
    from billing_kit.conformance.reports import terminal
    from billing_kit.conformance.runner import run
    from billing_kit.conformance.spec_source import load_contract

    out = out or sys.stdout
    tty = out.isatty()
    try:
        contract = load_contract(config.spec)
    except SpecError as exc:
        raise CliError(str(exc)) from None
    check_keys(config, contract)
    _check_base_url(config.base_url, contract)
    check_output_paths({REPORT_OPTIONS[name]: path for name, path in reports.items()})
    try:
        require_key(config)
    except PreflightFailed as exc:
        _write_reports(refused_result(config, contract, str(exc)), reports)
        raise CliError(str(exc)) from None
    preamble = []
    if config.live_enabled and config.live_key and announce_live:
        preamble.append(
            f"Live key {mask_key(config.live_key)}: at most {LIVE_CREATE_CAP} requests "
            "(AUTH-1, RES-ENV-1, IDEM-4), each creating at most one customer."
        )
    preamble.append(f"Checking {config.base_url} against {contract.origin} (seed {config.seed})")
    preamble.append(_announce_creates(config))
    # Said once the first create showed the target is the API, so a set-up error is the only line printed.
    progress = for_output(out, preamble)
    try:
        result = run(config, contract, progress)
    except PreflightFailed as exc:
        progress.stop()
        _write_reports(refused_result(config, contract, str(exc), exc.sent, exc.findings), reports)
        raise CliError(str(exc)) from None
    except Unreachable as exc:
        raise CliError(f"cannot reach {config.base_url}: {exc}") from None
    finally:
        progress.stop()
    shown_accepted: set[str] = set()
    if accepted is not None:
        from billing_kit.conformance.baseline import accepted_clauses

        shown_accepted = accepted_clauses(result, accepted)
    terminal.render(result, out, tty, json_path=reports.get("json"), accepted=shown_accepted)
    _write_reports(result, reports)
    return result


REPORT_OPTIONS = {"json": "--report-json", "junit": "--junit", "html": "--html"}


def _check_base_url(base_url: str, contract: Any) -> None:
    """A base URL naming the resource itself would send every request to …/customers/customers."""
    from urllib.parse import urlsplit

    from billing_kit.conformance.contract import CUSTOMERS_PATH

    path = urlsplit(base_url).path.rstrip("/")
    if path.endswith(CUSTOMERS_PATH.rstrip("/")):
        stem = base_url.rstrip("/")[: -len(CUSTOMERS_PATH.rstrip("/"))]
        raise CliError(
            f"the base URL {base_url} ends with {CUSTOMERS_PATH}: it should stop before it "
            f"(--base-url {stem}); the kit adds {CUSTOMERS_PATH} itself"
        )


def _announce_creates(config: RunConfig) -> str:
    from billing_kit.conformance.preflight import deep_creates, estimated_creates
    from billing_kit.conformance.reports.terminal import plural

    limits = []
    if config.rate:
        limits.append(f"at most {config.rate:g} requests/s")
    limits.append(f"at most {config.max_connections} connections")
    creates = plural(estimated_creates(config), "customer")
    line = (
        f"This run creates about {creates} (estimated from runs against the reference server), "
        f"each tagged with its run's nonce in metadata; {', '.join(limits)}."
    )
    if config.duration:
        per_100, ceiling = deep_creates(config)
        line += f" Its deep rounds ({config.duration:g} s) then create about {per_100:g} per 100 requests: "
        if ceiling is not None:
            about = round(per_100 * ceiling / 100)
            line += f"at --rate {config.rate:g}, about {about:,}, at most {ceiling:,} (one per request)."
        else:
            line += "no ceiling but the duration; pass --rate to set one."
    return line


def _write_reports(result: RunResult, reports: dict[str, Path | None]) -> None:
    from billing_kit.conformance.reports import html, json_report, junit

    writers = {"json": json_report.write, "junit": junit.write, "html": html.write}
    for name, path in reports.items():
        if path is not None:
            try:
                writers[name](result, path, json_path=reports.get("json"))
            except OSError as exc:
                raise CliError(f"cannot write {path}: {exc.strerror}") from None


CHECK_EPILOG = (
    "Exit codes: 0 no FAIL (with --strict: no WARN either; with --baseline: no new finding); "
    "1 a FAIL (a WARN under --strict); 2 nothing could be judged, the run budget ran out, or a usage error."
    f"\n\n{options_file.SOURCES_HELP}"
)


@click.command(cls=OneLineErrors, epilog=CHECK_EPILOG)
@click.option("--base-url", metavar="URL", help="The server's base URL, API prefix included (http://host:8000/v1).")
@click.option("--api-key", envvar="BILLING_API_KEY", metavar="KEY", help="Sandbox API key (or $BILLING_API_KEY).")
@click.option("--live-key", envvar="BILLING_LIVE_KEY", metavar="KEY", help="Live key (or $BILLING_LIVE_KEY).")
@click.option("--allow-live", is_flag=True, help="Use the live key, for at most 5 announced creates.")
@click.option("--spec", metavar="PATH|URL", help="The spec to check against (default: the bundled one).")
@click.option("--strict", is_flag=True, help="A WARN (SHOULD broken) fails the run too.")
@click.option("--seed", type=int, help="Hypothesis seed: the same seed sends the same cases.")
@click.option("--examples", type=int, help="Hypothesis examples per property.  [default: 50]")
@click.option("--timeout", type=float, help="Seconds per request.  [default: 5]")
@click.option("--max-time", type=float, help="Seconds for the whole run; past it exit 2.  [default: 600]")
@click.option(
    "--duration",
    metavar="30s|10m|1h",
    help="Deep run: after the default checks, fresh cases until this long after the start (--max-time still caps it).",
)
@click.option(
    "--until",
    metavar="RATE",
    help="Deep run until every clause its rounds judge rules out RATE (1e-3, 0.001): stops at --duration "
    "(without it, 600 s of rounds) or --max-time first, then exit 2 naming the clauses short of it.",
)
@click.option("--workers", type=int, help="Deep run processes.  [default: the CPUs, at most 8]")
@click.option("--clock-skew", type=float, help="RES-TIME-2 tolerance in seconds.  [default: 300]")
@click.option("--confirm", type=int, help="Send each FAIL/WARN's smallest case N more times (0: off).  [default: 2]")
@click.option("--rate", type=float, metavar="N", help="At most N requests per second (all threads together).")
@click.option("--max-connections", type=int, metavar="N", help="At most N connections at once.  [default: 32]")
@click.option("-H", "--header", multiple=True, metavar="'Name: value'", help="Extra header on every request.")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CA bundle for TLS.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Write a one-page HTML report.")
@click.option("--only", metavar="CLAUSE,…", help="Check only these clauses.")
@click.option("--case", metavar="ID", help="Send one corpus case alone, by its id (conformance/corpora/*.json).")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Accepted findings (TOML, or JSON by suffix): only findings not in it fail the run.",
)
@click.option("--baseline-update", is_flag=True, help="Write this run's findings to the --baseline file.")
@options_file.config_option()
@click.option(
    "--list",
    "list_format",
    type=click.Choice(["text", "markdown", "json"]),
    is_eager=True,
    expose_value=False,
    callback=_list,
    flag_value="text",
    is_flag=False,
    help="Print the clauses and their checks, then exit (--list=markdown for the README table).",
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_version,
    help="Print the version and the bundled spec's sha256.",
)
def check(**opts: Any) -> None:
    """Check any server against the contract, clause by clause."""
    reports = {"json": opts.pop("report_json"), "junit": opts.pop("junit"), "html": opts.pop("html")}
    baseline_path, baseline_update = opts.pop("baseline"), opts.pop("baseline_update")
    if baseline_update and baseline_path is None:
        raise CliError("--baseline-update needs --baseline FILE")
    config = build_config(**opts)
    accepted = _load_baseline(baseline_path, baseline_update) if baseline_path is not None else None
    result = execute(config, reports, accepted=accepted)
    if result.internal_errors:
        raise CliError(
            f"internal error in check {result.internal_errors[0]}; the report is written, that clause is SKIP"
        )
    if result.options.get("deep", {}).get("interrupted"):  # SIGINT during --duration: the report is written
        click.echo("Error: interrupted; the whole-run checks judged what was sent, the report is partial", err=True)
        sys.exit(130)
    until = result.options.get("deep", {}).get("until")
    if until and not until["all_reached"] and not result.stopped:  # a deep run cut short: exit 2 as for --max-time
        short = ", ".join(until["short"]) or "no clause was judged by the deep rounds"
        raise CliError(f"--until {until['one_in']}: the rounds ended short of it for {short}; the report is partial")
    if result.budget_exhausted:
        raise CliError(f"the run budget of {config.max_time:g} s ran out; the report is partial")
    if baseline_path is not None and accepted is not None:
        code = _apply_baseline(result, baseline_path, accepted, baseline_update)
        _write_reports(result, reports)  # again: the reports say what the baseline decided
        sys.exit(code)
    sys.exit(result.exit_code)


def _load_baseline(path: Path, update: bool) -> list[Any]:
    """Read (and, under --baseline-update, check writable) the baseline before anything is sent."""
    from billing_kit.conformance import baseline

    if update:
        check_output_paths({"--baseline": path})
    try:
        return baseline.load(path)
    except baseline.BaselineError as exc:
        raise CliError(str(exc)) from None


def _apply_baseline(result: RunResult, path: Path, accepted: list[Any], update: bool) -> int:
    from billing_kit.conformance import baseline

    try:
        outcome = baseline.compare(result, accepted)
        if update:
            baseline.write(path, baseline.updated(result, accepted))
    except baseline.BaselineError as exc:
        raise CliError(str(exc)) from None
    baseline.print_outcome(outcome, path, sys.stdout, wrote=update)
    if update:
        outcome = baseline.compare(result, baseline.load(path))
    code = outcome.exit_code(result)
    result.options["baseline"] = {
        "file": str(path),
        "new": len(outcome.new),
        "accepted": len(outcome.accepted),
        "fixed": len(outcome.fixed),
        "exit_code": code,
    }
    return code


options_file.add_environment(check)


@click.command(cls=OneLineErrors)
@click.option("--seed", type=int, help="Hypothesis seed.")
@click.option("--examples", type=int, help="Hypothesis examples per property.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Write a one-page HTML report.")
def demo(seed: int | None, examples: int | None, report_json: Path | None, html: Path | None) -> None:
    """Start the reference server on the embedded default, check it, print the report, stop it."""
    from billing_kit.conformance.demo import DemoError, reference_server

    try:
        server = reference_server()
        running = server.__enter__()
    except DemoError as exc:
        raise CliError(str(exc)) from None
    try:
        _announce_demo(running)
        opts: dict[str, Any] = {
            "base_url": running.base_url,
            "api_key": running.api_key,
            "live_key": running.live_key,
            "allow_live": True,
            "spec": None,
            "strict": False,
            "seed": seed,
            "examples": examples,
            "timeout": None,
            "max_time": None,
            "clock_skew": None,
            "header": (),
            "cacert": None,
            "insecure": False,
            "only": None,
            "rate": None,
            "max_connections": None,
        }
        result = execute(build_config(**opts), {"json": report_json, "junit": None, "html": html}, announce_live=False)
    finally:
        server.__exit__(None, None, None)
    sys.exit(result.exit_code)


def _announce_demo(server: DemoServer) -> None:
    """Where the server runs, and why the demo made a live key: said once, after it is up."""
    from billing_kit.conformance.checks import load_all
    from billing_kit.conformance.config import LIVE_CREATE_CAP

    needing = sorted({c for spec in load_all() if "live_key" in spec.needs for c in spec.clauses})
    click.echo(f"Reference server: {server.base_url}")
    click.echo(f"Database: {server.database} (temporary, deleted when the demo ends)")
    click.echo(
        f"The demo made two keys in that database: a sandbox key for the suite, and a throwaway live key "
        f"so it can judge {', '.join(needing)} (at most {LIVE_CREATE_CAP} live requests)."
    )


if __name__ == "__main__":  # pragma: no cover
    check(prog_name=os.path.basename(sys.argv[0]))

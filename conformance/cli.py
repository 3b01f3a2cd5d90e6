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

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.model import RunResult


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


def _version(ctx: click.Context, _param: Any, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from billing_kit import __version__
    from billing_kit.conformance.contract import bundled_sha256

    click.echo(f"billing-kit {__version__} (bundled openapi.yaml sha256 {bundled_sha256()})")
    ctx.exit()


def _list(ctx: click.Context, _param: Any, value: str | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    from billing_kit.conformance.listing import render_listing

    click.echo(render_listing(value), nl=False)
    ctx.exit()


def _parse_header(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t"):
        raise CliError(f"-H expects 'Name: value', got {raw!r}")
    return name.strip(), value.strip()


def build_config(**opts: Any) -> RunConfig:
    """Validate the options; raise CliError naming the first bad one."""
    import secrets
    from urllib.parse import urlsplit

    from billing_kit.conformance import clauses
    from billing_kit.conformance.config import RunConfig

    base_url = opts["base_url"]
    if not base_url:
        raise CliError("--base-url is required (e.g. http://127.0.0.1:8000/v1)")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"--base-url must be an http(s) URL with the API prefix, got {base_url!r}")
    if opts["cacert"] and opts["insecure"]:
        raise CliError("--cacert and --insecure exclude each other")
    only = tuple(c.strip().upper() for c in (opts["only"] or "").split(",") if c.strip())
    unknown = [c for c in only if c not in clauses.BY_ID]
    if unknown:
        raise CliError(f"--only names unknown clause(s) {', '.join(unknown)}; see --list")
    for name in ("examples", "timeout", "max_time"):
        if opts[name] is not None and opts[name] <= 0:
            raise CliError(f"--{name.replace('_', '-')} must be positive")
    if opts["live_key"] and not opts["allow_live"]:
        opts["live_key"] = None  # never used without --allow-live
    verify: bool | str = str(opts["cacert"]) if opts["cacert"] else not opts["insecure"]
    seed = opts["seed"] if opts["seed"] is not None else secrets.randbelow(2**31)
    extra = {k: opts[k] for k in ("examples", "timeout", "max_time", "clock_skew") if opts[k] is not None}
    extra |= _deep_options(opts.get("duration"), opts.get("workers"), opts["max_time"])
    return RunConfig(
        base_url=base_url.rstrip("/"),
        api_key=opts["api_key"] or None,
        live_key=opts["live_key"] or None,
        allow_live=opts["allow_live"],
        spec=opts["spec"],
        strict=opts["strict"],
        seed=seed,
        headers=tuple(_parse_header(h) for h in opts["header"]),
        verify=verify,
        only=only,
        **extra,
    )


def _deep_options(duration: str | None, workers: int | None, max_time: float | None) -> dict[str, Any]:
    """--duration and --workers; without --max-time a deep run may take its duration plus the default budget."""
    from billing_kit.conformance.config import DEFAULT_MAX_TIME
    from billing_kit.conformance.deep import MAX_WORKERS, parse_duration
    from billing_kit.conformance.workers import default_workers

    if duration is None:
        if workers is not None:
            raise CliError("--workers needs --duration (the default run is sequential)")
        return {}
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise CliError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    deep: dict[str, Any] = {"duration": seconds, "workers": workers or default_workers()}
    if max_time is None:
        deep["max_time"] = seconds + DEFAULT_MAX_TIME
    return deep


def check_keys(config: RunConfig, contract: Any) -> None:
    from billing_kit.conformance.redact import mask_key

    if config.api_key:
        env = contract.environment_of_key(config.api_key)
        if env is None:
            raise CliError(
                f"--api-key {mask_key(config.api_key)} has none of the prefixes {', '.join(contract.key_prefixes)}"
            )
        if env == contract.live_environment:
            raise CliError("--api-key is a live key; pass it as --live-key with --allow-live")
    if config.live_key and contract.environment_of_key(config.live_key) != contract.live_environment:
        raise CliError(f"--live-key {mask_key(config.live_key)} is not a live key")


def execute(config: RunConfig, reports: dict[str, Path | None], out: Any = None) -> RunResult:
    """Load the spec, run, write every report; CliError for what stops a run before it starts."""
    from billing_kit.conformance.config import LIVE_CREATE_CAP
    from billing_kit.conformance.contract import SpecError, load_contract
    from billing_kit.conformance.http import Unreachable
    from billing_kit.conformance.redact import mask_key
    from billing_kit.conformance.reports import html, json_report, junit, terminal
    from billing_kit.conformance.runner import run

    out = out or sys.stdout
    tty = out.isatty()
    try:
        contract = load_contract(config.spec)
    except SpecError as exc:
        raise CliError(str(exc)) from None
    check_keys(config, contract)
    if config.live_enabled and config.live_key:
        click.echo(
            f"Live key {mask_key(config.live_key)}: at most {LIVE_CREATE_CAP} requests "
            "(AUTH-1, RES-ENV-1, IDEM-4), each creating at most one customer.",
            file=out,
        )
    progress = _progress_printer(out, tty)
    config = _with_progress(config, progress)
    click.echo(f"Checking {config.base_url} against {contract.origin} (seed {config.seed})", file=out)
    try:
        result = run(config, contract)
    except Unreachable as exc:
        raise CliError(f"cannot reach {config.base_url}: {exc}") from None
    terminal.render(result, out, tty, json_path=reports.get("json"))
    writers = {"json": json_report.write, "junit": junit.write, "html": html.write}
    for name, path in reports.items():
        if path is not None:
            try:
                writers[name](result, path, json_path=reports.get("json"))
            except OSError as exc:
                raise CliError(f"cannot write {path}: {exc.strerror}") from None
    return result


def _with_progress(config: RunConfig, progress: Any) -> RunConfig:
    from dataclasses import replace

    return replace(config, progress=progress)


def _progress_printer(out: Any, tty: bool) -> Any:
    def progress(line: str) -> None:
        if tty:
            click.secho(f"  {line}", file=out, dim=True)
        else:
            click.echo(f"  {line}", file=out)

    return progress


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
@click.option("--workers", type=int, help="Deep run processes.  [default: the CPUs, at most 8]")
@click.option("--clock-skew", type=float, help="RES-TIME-2 tolerance in seconds.  [default: 300]")
@click.option("-H", "--header", multiple=True, metavar="'Name: value'", help="Extra header on every request.")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CA bundle for TLS.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Write a one-page HTML report.")
@click.option("--only", metavar="CLAUSE,…", help="Check only these clauses.")
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
    result = execute(config, reports)
    if result.options.get("deep", {}).get("interrupted"):  # SIGINT during --duration: the report is written
        click.echo("Error: interrupted; the whole-run checks judged what was sent, the report is partial", err=True)
        sys.exit(130)
    if result.budget_exhausted:
        raise CliError(f"the run budget of {config.max_time:g} s ran out; the report is partial")
    if baseline_path is not None:
        sys.exit(_apply_baseline(result, baseline_path, baseline_update))
    sys.exit(result.exit_code)


def _apply_baseline(result: RunResult, path: Path, update: bool) -> int:
    from billing_kit.conformance import baseline

    try:
        accepted = baseline.load(path)
        outcome = baseline.compare(result, accepted)
        if update:
            baseline.write(path, baseline.updated(result, accepted))
    except baseline.BaselineError as exc:
        raise CliError(str(exc)) from None
    baseline.print_outcome(outcome, path, sys.stdout, wrote=update)
    if update:
        outcome = baseline.compare(result, baseline.load(path))
    return outcome.exit_code(result)


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
        base_url, api_key, live_key = server.__enter__()
    except DemoError as exc:
        raise CliError(str(exc)) from None
    try:
        opts: dict[str, Any] = {
            "base_url": base_url,
            "api_key": api_key,
            "live_key": live_key,
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
        }
        result = execute(build_config(**opts), {"json": report_json, "junit": None, "html": html})
    finally:
        server.__exit__(None, None, None)
    sys.exit(result.exit_code)


if __name__ == "__main__":  # pragma: no cover
    check(prog_name=os.path.basename(sys.argv[0]))

"""`billing-kit proxy` and `billing-kit judge`: clause verdicts on real traffic."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import click

from billing_kit.conformance.errors import CliError, OneLineErrors, check_output_paths

QUEUE_SIZE = 2_000  # finished exchanges waiting for the judge; past this they are counted, not judged
DRAIN_SECONDS = 10.0
DEFAULT_UPSTREAM_TIMEOUT = 30.0


def _contract(spec: str | None) -> Any:
    from billing_kit.conformance.contract import SpecError
    from billing_kit.conformance.spec_source import load_contract

    try:
        return load_contract(spec)
    except SpecError as exc:
        raise CliError(str(exc)) from None


def _report_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report."
            ),
            click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report."),
            click.option(
                "--html", type=click.Path(dir_okay=False, path_type=Path), help="Write a one-page HTML report."
            ),
            click.option("--strict", is_flag=True, help="A WARN is fatal too (exit 1)."),
            click.option("--spec", metavar="PATH|URL", help="The spec to judge against (default: the bundled one)."),
        ]
    ):
        func = option(func)
    return func


def _check_outputs(opts: dict[str, Any]) -> None:
    """Every file the command will write, checked before it listens or reads anything."""
    named = {"--report-json": opts["report_json"], "--junit": opts["junit"], "--html": opts["html"]}
    check_output_paths(named | {"--capture": opts.get("capture")})


def _finish(session: Any, reports: dict[str, Path | None], out: IO[str]) -> int:
    from billing_kit.conformance.reports import terminal
    from billing_kit.conformance.traffic.session import write_reports

    result = session.result()
    terminal.render(result, out, out.isatty(), traffic=True)
    for party, rows in result.options["parties"].items():
        listed = ", ".join(f"{clause} {row['verdict']} ({row['violations']})" for clause, row in rows.items())
        click.echo(f"To fix in the {party}: {listed or 'nothing'}", file=out)
    dropped = result.options.get("dropped_by_judge", 0)
    if dropped:
        click.echo(f"{dropped} exchanges passed on but not judged: the judge fell behind the traffic", file=out)
    try:
        write_reports(result, reports)
    except OSError as exc:
        raise CliError(f"cannot write a report: {exc.strerror or exc}") from None
    if not session.judged_any:
        click.echo("Error: nothing in the traffic could be judged (no request to the customers path)", err=True)
        return 2
    return int(result.exit_code)


@click.command(cls=OneLineErrors)
@click.option("--upstream", required=True, metavar="URL", help="The server to pass traffic to (http://host:port).")
@click.option("--port", required=True, type=click.IntRange(0, 65535), help="The port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--capture", type=click.Path(dir_okay=False, path_type=Path), help="Append every exchange (NDJSON).")
@click.option(
    "--upstream-timeout",
    type=click.FloatRange(min=0.01),
    default=DEFAULT_UPSTREAM_TIMEOUT,
    show_default=True,
    help="Seconds the upstream has to start answering a finished request (then 504, ERR-2).",
)
@_report_options
def proxy(**opts: Any) -> None:
    """Forward traffic to a server unchanged and judge every exchange, clause by clause.

    One line per finding as it happens; on Ctrl-C or SIGTERM the reports are written.
    """
    import multiprocessing

    from billing_kit.conformance.traffic.proxy import ProxyOptions
    from billing_kit.conformance.traffic.worker import Feeder, run_judge

    upstream = urlsplit(opts["upstream"])
    if upstream.scheme != "http" or not upstream.hostname:
        raise CliError(f"--upstream must be an http:// URL, not {opts['upstream']!r}")
    _check_outputs(opts)
    contract = _contract(opts["spec"])
    origin = f"http://{upstream.hostname}:{upstream.port or 80}"
    if opts["capture"] is not None:
        try:
            opts["capture"].open("a", encoding="utf-8").close()
        except OSError as exc:
            raise CliError(f"cannot write {opts['capture']}: {exc.strerror}") from None
    reports = {"json": opts["report_json"], "junit": opts["junit"], "html": opts["html"]}
    options = ProxyOptions(
        upstream_host=upstream.hostname,
        upstream_port=upstream.port or 80,
        body_kept=contract.body_bytes_limit,
        upstream_timeout=opts["upstream_timeout"],
        head_timeout=contract.header_timeout_seconds,
    )
    out = sys.stdout
    out.flush()
    # The judge is forked before the event loop (and any thread) exists.
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    judge_process = context.Process(
        target=run_judge,
        args=(receiver, lambda: _proxy_session(contract, origin, opts), lambda s: _finish(s, reports, sys.stdout)),
        daemon=True,
    )
    judge_process.start()
    receiver.close()
    feeder = Feeder(sender, QUEUE_SIZE)
    try:
        _fast_loop()
        asyncio.run(_serve(options, feeder.put, opts["host"], opts["port"], out, origin, contract.origin))
    except OSError as exc:
        feeder.close(DRAIN_SECONDS)
        judge_process.kill()
        raise CliError(f"cannot listen on {opts['host']}:{opts['port']}: {exc.strerror or exc}") from None
    feeder.close(DRAIN_SECONDS)
    judge_process.join()
    sys.exit(judge_process.exitcode if judge_process.exitcode is not None else 2)


def _proxy_session(contract: Any, origin: str, opts: dict[str, Any]) -> Any:
    from billing_kit.conformance.traffic.session import Session
    from billing_kit.conformance.traffic.worker import open_capture

    capture_to = open_capture(opts["capture"])
    return Session(contract, origin, mode="proxy", strict=opts["strict"], out=sys.stdout, capture_to=capture_to)


def _fast_loop() -> None:
    """uvloop when installed (as `billing-kit serve` uses it), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _serve(options: Any, sink: Any, host: str, port: int, out: IO[str], origin: str, spec: str) -> None:
    from billing_kit.conformance.traffic.proxy import ProxyServer

    proxy_server = ProxyServer(options, sink)
    server = await proxy_server.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()
    click.echo(
        f"Proxying http://{bound[0]}:{bound[1]} -> {origin}, judging against {spec} (Ctrl-C writes the reports)",
        file=out,
    )
    out.flush()
    await stop.wait()
    await proxy_server.close(grace=1.0)


@click.command(cls=OneLineErrors)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="No line per finding, only the summary.")
@_report_options
def judge(**opts: Any) -> None:
    """Judge recorded traffic (a HAR file, or a `proxy --capture` file) clause by clause."""
    from billing_kit.conformance.traffic import capture, har
    from billing_kit.conformance.traffic.session import Session

    _check_outputs(opts)
    contract = _contract(opts["spec"])
    path: Path = opts["file"]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    out = sys.stdout
    session = Session(contract, "", mode="judge", strict=opts["strict"], out=None if opts["quiet"] else out)
    try:
        try:
            whole = json.loads(text)
        except ValueError:
            whole = None  # not one JSON document: a capture, one exchange per line
        if isinstance(whole, dict) and "verdicts" in whole and "schema_version" in whole:
            raise CliError(
                f"{path} is a billing-kit report (JSON), not recorded traffic: judge takes a HAR file "
                "or a `proxy --capture` file (read a report with `billing-kit compare` or `replay`)"
            )
        if isinstance(whole, dict) and "log" in whole:
            for seen in har.read(whole):
                session.take(seen)
        else:
            for seen in capture.read(text.splitlines()):
                session.take(seen)
    except (ValueError, capture.CaptureError) as exc:
        raise CliError(f"{path} is neither a HAR file nor a billing-kit capture: {exc}") from None
    reports = {"json": opts["report_json"], "junit": opts["junit"], "html": opts["html"]}
    sys.exit(_finish(session, reports, out))

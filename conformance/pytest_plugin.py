"""Run the conformance suite inside a team's own pytest run: one test per clause.

Inert unless `--billing-base-url` is given (the project's own test run loads it).
The clauses are collected as items of the spec file in use (`openapi.yaml::REQ-LEN-1`),
so pytest counts them, `-k` and `--deselect` select them, and `-v` lists them by id.
What makes the whole run impossible (no key, an unreachable server, a bad spec) is one
usage error before any test runs, not a failure per clause.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from billing_kit.conformance.errors import Outcome

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.model import RunResult

# The CLI's option names in the runner's messages, and the plugin's own for them.
_CLI_OPTION = re.compile(r"(?<![\w-])--(api-key|live-key|allow-live|spec|strict|seed|examples|only)\b")
_ENV_KEY = "BILLING_API_KEY"
_ENV_LIVE_KEY = "BILLING_LIVE_KEY"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("billing", "billing-kit conformance suite")
    group.addoption("--billing-base-url", default=None, help="Base URL of the server under test, with /v1")
    group.addoption("--billing-api-key", default=None, help=f"Sandbox API key (default: ${_ENV_KEY})")
    group.addoption(
        "--billing-live-key", default=None, help=f"Live API key (default: ${_ENV_LIVE_KEY}), with --billing-allow-live"
    )
    group.addoption("--billing-allow-live", action="store_true", default=False, help="Allow up to 5 live creates")
    group.addoption("--billing-spec", default=None, help="Spec path or URL (default: the bundled one)")
    group.addoption("--billing-strict", action="store_true", default=False, help="WARN fails the clause's test")
    group.addoption("--billing-seed", type=int, default=None, help="Hypothesis seed")
    group.addoption("--billing-examples", type=int, default=None, help="Examples per property")
    group.addoption("--billing-only", default=None, help="Comma-separated clause ids")
    group.addoption("--billing-report-json", default=None, metavar="FILE", help="Write the run's JSON report")


PYTEST_JSON_HINT = "pytest --billing-report-json FILE"


def plugin_words(message: str) -> str:
    """A runner or CLI message with the plugin's option names (`--billing-live-key`, not `--live-key`)."""
    from billing_kit.conformance.reports import JSON_HINT

    return _CLI_OPTION.sub(lambda m: f"--billing-{m.group(1)}", message.replace(JSON_HINT, PYTEST_JSON_HINT))


class ClauseFailed(Outcome):
    """The clause's verdict fails the test (FAIL, or WARN under --billing-strict)."""


_RESULT_KEY = pytest.StashKey[object]()
_CONFIG_KEY = pytest.StashKey["RunConfig"]()
_NOTES_KEY = pytest.StashKey[list[tuple[str, str, str]]]()


def _run_config(config: pytest.Config) -> RunConfig:
    import os

    from billing_kit.conformance.options import build_config

    return build_config(
        base_url=config.getoption("--billing-base-url"),
        api_key=config.getoption("--billing-api-key") or os.environ.get(_ENV_KEY),
        live_key=config.getoption("--billing-live-key") or os.environ.get(_ENV_LIVE_KEY),
        allow_live=config.getoption("--billing-allow-live"),
        spec=config.getoption("--billing-spec"),
        strict=config.getoption("--billing-strict"),
        seed=config.getoption("--billing-seed"),
        examples=config.getoption("--billing-examples"),
        timeout=None,
        max_time=None,
        clock_skew=None,
        header=(),
        cacert=None,
        insecure=False,
        only=config.getoption("--billing-only"),
    )


def _report_path(config: pytest.Config) -> Path | None:
    value = config.getoption("--billing-report-json")
    return Path(value) if value else None


def _usable_config(config: pytest.Config) -> RunConfig:
    """The run's configuration, checked as far as it can be before any test: else one UsageError."""
    from billing_kit.conformance.contract import SpecError
    from billing_kit.conformance.errors import CliError, check_output_paths
    from billing_kit.conformance.options import check_keys
    from billing_kit.conformance.spec_source import load_contract

    try:
        run_config = _run_config(config)
        contract = load_contract(run_config.spec)
        check_keys(run_config, contract)
        check_output_paths({"--billing-report-json": _report_path(config)})
    except (CliError, SpecError) as exc:
        raise pytest.UsageError(f"billing-kit: {plugin_words(str(exc))}") from None
    if not run_config.api_key:
        raise pytest.UsageError(f"billing-kit: no API key: pass --billing-api-key KEY or set ${_ENV_KEY}")
    if not config.option.collectonly:
        _preflight(run_config)
    return run_config


def _preflight(run_config: RunConfig) -> None:
    from billing_kit.conformance.http import Budget, Client, ClientOptions, Unreachable
    from billing_kit.conformance.redact import Redactor

    client = Client(
        ClientOptions(base_url=run_config.base_url, timeout=run_config.timeout, verify=run_config.verify),
        Budget(run_config.timeout * 2),
        Redactor([run_config.api_key, run_config.live_key]),
    )
    try:
        client.reachable()
    except Unreachable as exc:
        where = f"{run_config.base_url} (--billing-base-url)"
        raise pytest.UsageError(f"billing-kit: cannot reach {where}: {exc}") from None
    finally:
        client.close()


def _result(config: pytest.Config) -> RunResult | str:
    """The run's result (run once per session, at the first clause's test), or why there is none."""
    cached = config.stash.get(_RESULT_KEY, None)
    if cached is None:
        from billing_kit.conformance.http import Unreachable
        from billing_kit.conformance.runner import run

        run_config = config.stash[_CONFIG_KEY]
        try:
            cached = run(run_config)
        except Unreachable as exc:  # it answered the preflight, then went away
            cached = f"cannot reach {run_config.base_url}: {exc}"
        report_path = _report_path(config)
        if report_path is not None and not isinstance(cached, str):
            from billing_kit.conformance.reports import json_report

            json_report.write(cached, report_path, json_path=report_path)
        config.stash[_RESULT_KEY] = cached
    from billing_kit.conformance.model import RunResult

    assert isinstance(cached, RunResult | str)
    return cached


class ClauseItem(pytest.Item):
    def __init__(self, *, clause_id: str, line: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clause_id = clause_id
        self.line = line

    def runtest(self) -> None:
        from billing_kit.conformance.model import Verdict
        from billing_kit.conformance.reports.lines import detail_lines

        result = _result(self.config)
        if isinstance(result, str):
            raise ClauseFailed(result)
        verdict = next((v for v in result.verdicts if v.clause == self.clause_id), None)
        if verdict is None:
            pytest.skip("not judged in this run")
        lines = plugin_words("\n".join(detail_lines(verdict, _report_path(self.config))))
        if verdict.verdict is Verdict.FAIL or (verdict.verdict is Verdict.WARN and result.strict):
            raise ClauseFailed(f"{verdict.verdict.value} {verdict.clause} ({verdict.level}): {verdict.title}\n{lines}")
        if verdict.verdict is Verdict.SKIP:
            pytest.skip(plugin_words(verdict.note or "not judged"))
        if verdict.verdict in (Verdict.WARN, Verdict.INFO):
            self.config.stash.setdefault(_NOTES_KEY, []).append((verdict.verdict.value, verdict.clause, lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ClauseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.line, f"billing-kit conformance {self.clause_id}"


class SpecFile(pytest.File):
    """The spec in use, collected as one test per clause of the contract."""

    def collect(self) -> list[pytest.Item]:
        from billing_kit.conformance import clauses

        only = {c.strip().upper() for c in (self.config.getoption("--billing-only") or "").split(",") if c.strip()}
        text = self.path.read_text(errors="replace") if self.path.is_file() else ""
        items: list[pytest.Item] = []
        for clause in clauses.CLAUSES:
            if only and clause.id not in only:
                continue
            at = text.find(clause.id)
            line = text.count("\n", 0, at) if at >= 0 else None  # 0-based, as pytest's reportinfo wants
            items.append(ClauseItem.from_parent(self, name=clause.id, clause_id=clause.id, line=line))
        return items


def _spec_path(spec: str | None) -> Path:
    """The spec file the clauses are items of: `--billing-spec` when it is a file, else the bundled one."""
    if spec and not spec.startswith(("http://", "https://")):
        return Path(spec).resolve()
    from importlib import resources

    from billing_kit.conformance.contract import SPEC_NAME

    packaged = Path(str(resources.files("billing_kit.conformance").joinpath(SPEC_NAME)))
    if packaged.is_file():
        return packaged.resolve()
    return (Path(__file__).resolve().parent.parent / SPEC_NAME).resolve()  # a source checkout's root copy


@pytest.hookimpl(tryfirst=True)  # before -k and --deselect, so they select clauses too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--billing-base-url"):
        return
    run_config = _usable_config(config)
    config.stash[_CONFIG_KEY] = run_config
    path = _spec_path(run_config.spec)
    # Relative to the rootdir when the spec is under it, else its name alone (`openapi.yaml::REQ-LEN-1`):
    # an installed spec's site-packages path says nothing to the reader.
    nodeid = None if path.is_relative_to(config.rootpath) else path.name
    spec_file = SpecFile.from_parent(session, path=path, nodeid=nodeid)
    clause_items = spec_file.collect()
    # Reported like any collected file, so "collected N items" counts the clauses.
    report = pytest.CollectReport(spec_file.nodeid, "passed", None, list[pytest.Item | pytest.Collector](clause_items))
    config.hook.pytest_collectreport(report=report)
    items.extend(clause_items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A clause's skip points at the clause in the spec (where -rs shows it), not into this plugin."""
    report = yield
    if isinstance(item, ClauseItem) and report.skipped and isinstance(report.longrepr, tuple):
        # The file as the item's id names it: the spec's name alone when it lies outside the rootdir.
        report.longrepr = (item.nodeid.split("::")[0], (item.line or 0) + 1, report.longrepr[2])
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    notes = config.stash.get(_NOTES_KEY, [])
    if not notes:
        return
    terminalreporter.section("billing-kit conformance: WARN and INFO")
    for verdict, clause, lines in notes:
        first = lines.splitlines()[0] if lines else ""
        terminalreporter.write_line(f"{verdict} {clause}: {first}")

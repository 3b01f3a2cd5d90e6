"""Run the conformance suite inside a team's own pytest run: one test per clause.

Inert unless `--billing-base-url` is given (the project's own test run loads it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.model import RunResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("billing", "billing-kit conformance suite")
    group.addoption("--billing-base-url", default=None, help="Base URL of the server under test, with /v1")
    group.addoption("--billing-api-key", default=None, help="Sandbox API key (default: $BILLING_API_KEY)")
    group.addoption("--billing-live-key", default=None, help="Live API key, used only with --billing-allow-live")
    group.addoption("--billing-allow-live", action="store_true", default=False, help="Allow up to 5 live creates")
    group.addoption("--billing-spec", default=None, help="Spec path or URL (default: the bundled one)")
    group.addoption("--billing-strict", action="store_true", default=False, help="WARN fails the clause's test")
    group.addoption("--billing-seed", type=int, default=None, help="Hypothesis seed")
    group.addoption("--billing-examples", type=int, default=None, help="Examples per property")
    group.addoption("--billing-only", default=None, help="Comma-separated clause ids")


class ClauseFailed(Exception):
    """The clause's verdict fails the test (FAIL, or WARN under --billing-strict)."""


_RESULT_KEY = pytest.StashKey[object]()
_NOTES_KEY = pytest.StashKey[list[tuple[str, str, str]]]()


def _run_config(config: pytest.Config) -> RunConfig:
    import os

    from billing_kit.conformance.options import build_config

    return build_config(
        base_url=config.getoption("--billing-base-url"),
        api_key=config.getoption("--billing-api-key") or os.environ.get("BILLING_API_KEY"),
        live_key=config.getoption("--billing-live-key") or os.environ.get("BILLING_LIVE_KEY"),
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


def _result(config: pytest.Config) -> RunResult | str:
    """The run's result (run once per session), or why there is none."""
    cached = config.stash.get(_RESULT_KEY, None)
    if cached is None:
        from billing_kit.conformance.contract import SpecError, load_contract
        from billing_kit.conformance.errors import CliError
        from billing_kit.conformance.http import Unreachable
        from billing_kit.conformance.options import check_keys
        from billing_kit.conformance.runner import run

        try:
            run_config = _run_config(config)
            contract = load_contract(run_config.spec)
            check_keys(run_config, contract)
            cached = run(run_config, contract)
        except (CliError, SpecError) as exc:
            cached = str(exc)
        except Unreachable as exc:
            cached = f"cannot reach {config.getoption('--billing-base-url')}: {exc}"
        config.stash[_RESULT_KEY] = cached
    from billing_kit.conformance.model import RunResult

    assert isinstance(cached, RunResult | str)
    return cached


class ClauseItem(pytest.Item):
    def __init__(self, *, clause_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clause_id = clause_id

    def runtest(self) -> None:
        from billing_kit.conformance.model import Verdict
        from billing_kit.conformance.reports.terminal import detail_lines

        result = _result(self.config)
        if isinstance(result, str):
            raise ClauseFailed(result)
        verdict = next((v for v in result.verdicts if v.clause == self.clause_id), None)
        if verdict is None:
            pytest.skip("not judged in this run")
        lines = "\n".join(detail_lines(verdict))
        if verdict.verdict is Verdict.FAIL or (verdict.verdict is Verdict.WARN and result.strict):
            raise ClauseFailed(f"{verdict.verdict.value} {verdict.clause} ({verdict.level}): {verdict.title}\n{lines}")
        if verdict.verdict is Verdict.SKIP:
            pytest.skip(verdict.note or "not judged")
        if verdict.verdict in (Verdict.WARN, Verdict.INFO):
            self.config.stash.setdefault(_NOTES_KEY, []).append((verdict.verdict.value, verdict.clause, lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ClauseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "billing-kit conformance", None, f"{self.clause_id}"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--billing-base-url"):
        return
    from billing_kit.conformance import clauses

    only = {c.strip().upper() for c in (config.getoption("--billing-only") or "").split(",") if c.strip()}
    for clause in clauses.CLAUSES:
        if only and clause.id not in only:
            continue
        items.append(ClauseItem.from_parent(session, name=f"conformance[{clause.id}]", clause_id=clause.id))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    notes = config.stash.get(_NOTES_KEY, [])
    if not notes:
        return
    terminalreporter.section("billing-kit conformance: WARN and INFO")
    for verdict, clause, lines in notes:
        first = lines.splitlines()[0] if lines else ""
        terminalreporter.write_line(f"{verdict} {clause}: {first}")

"""The one place the traffic judge calls the suite's judging code (no rule is copied here).

    expectation(...)        generic_judge.judge_request: what a request breaks (client side)
    judge_answer(...)       generic.GenericRun.judge: the answer against that expectation
    created_failures(...)   response.judge_created: every RES-* failure of one 201
    problem_failures(...)   problems.problem_failures: ERR-3 on one error answer
    server_error(...)       errors._server_error: ERR-2 on one exchange
    judge_refusal(...)      answers.judge_refusal: AUTH-2/AUTH-3 on one refusal

The suite's checks report through a `CheckContext`; `TrafficContext` is that
context without a client: it only collects the findings the judging code makes.
When the checks' interfaces change, this module is the one to re-point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from billing_kit.conformance.checks import (
    answers,
    errors,
    generic,
    generic_judge,
    problems,
    response,
)
from billing_kit.conformance.checks.generic_judge import AuthKind, Expectation
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import Contract
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.http import Client
from billing_kit.conformance.model import Exchange, Finding
from billing_kit.conformance.redact import Redactor

__all__ = ["AuthKind", "Expectation", "TrafficContext"]


class _NoClient:
    """What the judging code reads of a client: only its redactor (for AUTH-3's echo test)."""

    def __init__(self) -> None:
        self.redactor = Redactor([])
        self.on_exchange: Any = None


class TrafficContext(CheckContext):
    """A CheckContext that sends nothing: the judging code's findings land in `findings`."""

    def __init__(self, contract: Contract, config: RunConfig) -> None:
        # The same context the checks get, over a client that sends nothing.
        super().__init__(contract, config, cast(Client, _NoClient()), nonce="")

    def reproduction(self, clause: str, exchange: Exchange | None) -> str:
        return ""  # set later from the redacted evidence (traffic has no seed to rerun)

    def take(self) -> list[Finding]:
        found, self.findings = self.findings, []
        self.judged_success.clear()  # kept per exchange only: traffic has no whole-run judge of other 2xx
        return found


@dataclass(frozen=True)
class _Method:
    """What GenericRun.judge reads of a planned case: its method."""

    method: str


def expectation(
    contract: Contract, content_type: str | None, body: bytes | None, kind: AuthKind, idempotency_key: str | None
) -> Expectation:
    return generic_judge.judge_request(
        contract, content_type=content_type, body=body, auth=kind, idempotency_key=idempotency_key
    )


def judge_answer(ctx: TrafficContext, method: str, exchange: Exchange, found: Expectation, sent: Any) -> set[str]:
    """Judge the answer as `check` does; the clauses a 5xx answer was judged on (empty otherwise)."""
    run = generic.GenericRun(ctx)
    run.judge(cast(generic.Planned, _Method(method)), exchange, found, sent)
    run.flush()
    return set(run.judged_5xx)


def created_failures(
    ctx: TrafficContext,
    exchange: Exchange,
    sent: dict[str, Any],
    key_env: str | None,
    *,
    numbers_free: bool = False,
    echo: bool = True,
) -> Iterator[Failure]:
    return response.judge_created(ctx, exchange, sent, key_env, numbers_free=numbers_free, echo=echo)


def problem_failures(exchange: Exchange) -> Iterator[Failure]:
    return problems.problem_failures(exchange)


def server_error(exchange: Exchange) -> str | None:
    return errors._server_error(exchange)


def judge_refusal(ctx: TrafficContext, case: str, exchange: Exchange, may_400: bool, token: str | None) -> None:
    answers.judge_refusal(ctx, case, exchange, may_400, token)

"""What a run produces: exchanges (request + response), findings, verdicts.

    Exchange      one request the suite sent and what came back (or the error)
    Finding       one observation a check made about one clause
    ClauseVerdict the clause's verdict, folded from its findings
    RunResult     every verdict, the created ids, and the run's facts

Findings are of three kinds: a `violation` (the clause's rule broken: FAIL for
a MUST, WARN for a SHOULD, INFO for a MAY), a `note` (what the server chose,
recorded as INFO) and `inconclusive` (the check could not judge; SKIP when no
check of the clause could).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from billing_kit.conformance.assurance import Assurance
from billing_kit.conformance.clauses import Level

FindingKind = Literal["violation", "note", "inconclusive"]


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    INFO = "INFO"
    SKIP = "SKIP"


# The verdict a broken rule gives its clause, by the clause's level.
VIOLATION_VERDICT = {Level.MUST: Verdict.FAIL, Level.SHOULD: Verdict.WARN, Level.MAY: Verdict.INFO}


@dataclass
class RecordedRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None
    body_size: int
    # Which configured key signed it ("api", "live"), so a curl can name its env var.
    key_ref: str | None = None
    # `[` and `{` bytes in the whole body (not the excerpt): a bound on how deep it nests, so a
    # judge knows whether a conforming echo could nest past what the suite reads.
    containers: int = 0


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()


@dataclass
class RecordedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    elapsed: float
    json: Any = NOT_JSON
    json_error: str | None = None
    # A configured secret appeared in the answer (it is redacted in `body`).
    secret_echoed: bool = False

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        return self.json is not NOT_JSON


@dataclass
class Exchange:
    request: RecordedRequest
    response: RecordedResponse | None
    error: str | None = None
    attempts: int = 1
    # The JSON value the suite meant to send, when it sent one (for echo checks).
    sent: Any = None
    # time.monotonic() when the suite recorded it (its answer, or the error, had arrived).
    answered_at: float = field(default_factory=time.monotonic, compare=False)
    # Sends the same request again (a fresh Idempotency-Key), for --confirm; None when it cannot be.
    resend: Callable[[], Exchange] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without `resend` (a closure over the sending process's client): a deep worker's
        findings cross to the parent, which confirms them by rerunning their scenario instead."""
        return {**self.__dict__, "resend": None}

    @property
    def status(self) -> int | None:
        return self.response.status if self.response else None

    @property
    def ok(self) -> bool:
        """A usable HTTP answer: no transport error and no 5xx."""
        return self.response is not None and self.response.status < 500

    @property
    def succeeded(self) -> bool:
        """Any 2xx answer (what a create that was accepted gets)."""
        return self.response is not None and 200 <= self.response.status < 300

    created = succeeded  # its former name, for callers not yet renamed

    def json_body(self) -> Any:
        return self.response.json if self.response else NOT_JSON


@dataclass
class Finding:
    clause: str
    kind: FindingKind
    message: str
    check: str = ""
    expected: str | None = None
    actual: str | None = None
    exchange: Exchange | None = None
    reproduce: str | None = None
    case: str | None = None
    # Confirmation (--confirm N): the smallest case sent N more times; `reproduced` of them broke
    # the rule again. None when not confirmed (--confirm 0, or a note). Every attempt's evidence.
    confirmations: int | None = None
    reproduced: int | None = None
    attempts: list[Exchange] = field(default_factory=list)
    # Why a FAIL/WARN violation was not tried again (--confirm 0, the run stopped, the live key's
    # requests are never resent, ...): every violation is either confirmed or says why not.
    unconfirmed: str | None = None

    @property
    def flaky(self) -> bool:
        """A violation seen once that did not reproduce: still a violation, labelled FLAKY."""
        return bool(self.confirmations) and self.reproduced == 0


@dataclass
class Coverage:
    """The evidence ledger of one verdict: how many probes, and which cases, it rests on.

    planned   probes the clause's checks meant to send
    sent      probes actually sent (the budget or a dead server can cut a run short)
    answered  probes that got an HTTP answer
    judged    answered probes judged against the clause's rule
    required  judged probes the clause's checks need before a PASS can stand
    cases     names of what was judged (corpus ids, properties, generic phases)
    deep      cases judged on the clause by a deep run's rounds (--duration), beside the above
    generated of `judged`, cases drawn by the generators (checks registered `generated=True`)
    failing   of the generated and deep cases, those that broke the clause (its violations' count)
    """

    planned: int = 0
    sent: int = 0
    answered: int = 0
    judged: int = 0
    required: int = 0
    cases: list[str] = field(default_factory=list)
    note: str = ""
    deep: int = 0
    generated: int = 0
    failing: int = 0

    def assurance(self) -> Assurance | None:
        """What the generated cases rule out (None: judged on fixed, listed cases only)."""
        cases = self.generated + self.deep
        return Assurance(cases, min(self.failing, cases)) if cases else None


@dataclass
class ClauseVerdict:
    clause: str
    level: str
    title: str
    verdict: Verdict
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    note: str = ""
    requirement: str = ""  # rendered from the spec in use (limits, prefix, enum)
    coverage: Coverage = field(default_factory=Coverage)
    # A PASS: the known defect classes (conformance/proven.json) that the checks which ran catch.
    proven: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "violation"]


@dataclass
class CreatedRecord:
    id: str
    environment: str | None
    key: str
    check: str = ""  # the check that created it ("" for the preflight): what bench/creates.py counts


@dataclass
class RunResult:
    verdicts: list[ClauseVerdict]
    seed: int
    nonce: str
    base_url: str
    spec_sha256: str
    spec_origin: str
    started_at: str
    duration: float
    requests_sent: int
    created: list[CreatedRecord]
    budget_exhausted: bool = False
    strict: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    # The target stopped answering part-way: when, and why (the rest of the run was not sent).
    stopped: str | None = None
    # Checks that crashed inside the suite (an internal error: exit 2, the report still written).
    internal_errors: list[str] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for v in self.verdicts if v.verdict is verdict)

    @property
    def flaky(self) -> int:
        """Violations (of FAIL or WARN verdicts) that did not reproduce when confirmed."""
        return sum(1 for v in self.verdicts for f in v.violations if f.flaky)

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return 2
        if self.stopped:
            return 1
        if self.budget_exhausted:
            return 2
        if self.count(Verdict.FAIL) or (self.strict and self.count(Verdict.WARN)):
            return 1
        return 0

"""`billing-kit replay REPORT.json`: resend each recorded failing request and judge it again.

For each violation the report recorded (optionally only `--clause`/`--case`):

- a request judged on its own (a corpus case; an answer to a valid create) is
  resent as recorded (bytes, headers, method, path), with the key taken from
  the options or the environment: the report holds only masks (`sk_test_…abcd`),
  and a mask is replaced by the configured key of its environment. A fresh
  nonce replaces the old one in Idempotency-Key headers, so a server that
  stored the first run's key does not replay the old answer. The answer is
  judged by the check's own judge (`corpora.judge_case`, `body.run_cases`,
  `response.judge_created`): there is no second copy of any rule here.
- any other finding (a property, the generic phase, a concurrency or whole-run
  check) is re-run as a scenario, with `check --only CLAUSE --seed N`
  semantics (the report's seed and examples), and is still failing while the
  same fingerprint comes back.

Each finding prints as still failing, fixed, or could not be replayed (why).
Exit 0 when every selected finding is fixed; 1 when one still fails; 2 when
none fails but some could not be replayed, or on an error.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from billing_kit.conformance.errors import CliError, InputError, OneLineErrors

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.contract import Contract
    from billing_kit.conformance.corpora import Case
    from billing_kit.conformance.model import Exchange, RunResult

STILL_FAILING, FIXED, NOT_REPLAYED = "still failing", "fixed", "could not be replayed"
# A masked key as the report shows it: `sk_test_…abcd` (a near miss shows `sk_test_…abcd<how>`: not a key).
_MASK = re.compile(r"(?<![\w…])([A-Za-z]{1,8}_(?:[A-Za-z]{1,8}_)?)…([A-Za-z0-9]{0,4})(?![\w<…])")
_BACKSLASHED = re.compile(rb"\\x([0-9a-f]{2})")
_IMPLICIT = {"content-length", "host", "user-agent", "accept-encoding", "accept", "connection", "transfer-encoding"}


class NotReplayable(InputError):
    """Why a recorded request cannot be sent again as it was."""


@dataclass
class Recorded:
    clause: str
    level: str
    evidence: dict[str, Any]

    @property
    def check(self) -> str:
        return str(self.evidence.get("check") or "")

    @property
    def case(self) -> str | None:
        case = self.evidence.get("case")
        return str(case) if case else None

    @property
    def message(self) -> str:
        return str(self.evidence.get("message", ""))


@dataclass
class Result:
    finding: Recorded
    status: str
    detail: str


@dataclass
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None
    key_ref: str | None = None
    notes: list[str] = field(default_factory=list)


# -- reading the report ---------------------------------------------------------
def recorded_violations(report: dict[str, Any], clauses: set[str], case: str | None) -> list[Recorded]:
    from billing_kit.conformance.report_reader import evidence_of

    out = []
    for verdict in report["verdicts"]:
        clause = str(verdict["clause"])
        if clauses and clause not in clauses:
            continue
        for item in evidence_of(verdict):
            if item.get("kind", "violation") != "violation":
                continue
            if case is not None and item.get("case") != case:
                continue
            out.append(Recorded(clause, str(verdict.get("level", "")), item))
    return out


def recorded_body(request: dict[str, Any]) -> bytes | None:
    """The body's bytes, rebuilt from the report's printable excerpt; NotReplayable unless exactly whole."""
    from billing_kit.conformance.jsonsafe import excerpt

    text = request.get("body")
    if text is None:
        return None
    size = int(request.get("body_size", -1))
    plain = str(text).encode("utf-8", "surrogateescape")
    if len(plain) == size:
        return plain
    # Bytes that were not UTF-8 are recorded as \xNN (backslashreplace): undo it, and check the round trip.
    candidate = _BACKSLASHED.sub(lambda m: bytes([int(m.group(1), 16)]), plain)
    if len(candidate) == size and excerpt(candidate, max(size, 1)) == text:
        return candidate
    if size > len(plain) or str(text).endswith("bytes in all)"):
        raise NotReplayable(f"body not recorded whole ({size} bytes sent, an excerpt kept)")
    raise NotReplayable("body not recorded exactly (it held a redacted secret or undecodable bytes)")


def substitute_keys(value: str, contract: Contract, api_key: str | None, live_key: str | None) -> str:
    """Masks of keys replaced by the configured key of the same environment; NotReplayable if one is missing."""

    def real(match: re.Match[str]) -> str:
        env = contract.key_prefixes.get(match.group(1))
        if env is None:
            raise NotReplayable(f"a redacted value {match.group(0)!r} that is not a key of the spec")
        if env == contract.live_environment:
            if not live_key:
                raise NotReplayable("it was sent with the live key: give --live-key or $BILLING_LIVE_KEY")
            return live_key
        if not api_key:
            raise NotReplayable("give --api-key or $BILLING_API_KEY")
        return api_key

    out = _MASK.sub(real, value)
    if "…" in out:
        raise NotReplayable("it carried a redacted secret other than a configured key (e.g. a near miss of the key)")
    return out


def rebuild(
    evidence: dict[str, Any],
    report_base: str,
    contract: Contract,
    keys: tuple[str | None, str | None],
    old_nonce: str,
    new_nonce: str,
) -> Request:
    from billing_kit.conformance.reports import HEADER_EXCERPT

    exchange = evidence.get("exchange")
    if not isinstance(exchange, dict) or not isinstance(exchange.get("request"), dict):
        raise NotReplayable("no request recorded")
    request = exchange["request"]
    url = str(request.get("url", ""))
    if not url.startswith(report_base):
        raise NotReplayable(f"its URL {url} is not under the report's base URL")
    headers: list[tuple[str, str]] = []
    key_ref = None
    for pair in request.get("headers", []):
        name, value = str(pair[0]), str(pair[1])
        if name.lower() in _IMPLICIT:
            continue
        if len(value) >= HEADER_EXCERPT:
            raise NotReplayable(f"header {name} not recorded whole")
        if name.lower() == "authorization" and "…" in value:
            key_ref = "api"
        value = substitute_keys(value, contract, *keys)
        if name.lower() == "idempotency-key" and old_nonce:
            value = value.replace(old_nonce, new_nonce)
        headers.append((name, value))
    return Request(
        str(request.get("method", "POST")), url[len(report_base) :], headers, recorded_body(request), key_ref
    )


# -- judging one request with the check's own judge --------------------------------
def corpus_case(case_id: str | None, clause: str) -> Case | None:
    from billing_kit.conformance import corpora

    if not case_id:
        return None
    for name in corpora.corpus_names():
        for case in corpora.load(name):
            if case.id == case_id and clause in (case.clause, "ERR-1"):
                return case
    return None


def _judge_corpus(ctx: CheckContext, finding: Recorded, exchange: Exchange) -> None:
    from billing_kit.conformance import corpora

    case = corpus_case(finding.case, finding.clause)
    assert case is not None
    corpora.judge_case(ctx, case, exchange)


def _judge_body(ctx: CheckContext, finding: Recorded, exchange: Exchange) -> None:
    from billing_kit.conformance.checks import body

    case = corpus_case(finding.case, finding.clause)
    assert case is not None
    body.run_cases(ctx, [(case, exchange)])


def _judge_create(ctx: CheckContext, finding: Recorded, exchange: Exchange) -> None:
    from billing_kit.conformance.checks import response

    if exchange.response is None or exchange.response.status >= 500 or not isinstance(exchange.sent, dict):
        return
    key = ctx.config.api_key
    key_env = ctx.contract.environment_of_key(key) if key else None
    for failure in response.judge_created(ctx, exchange, exchange.sent, key_env):
        ctx.report(failure)


Judge = Callable[["CheckContext", Recorded, "Exchange"], None]
# The judge of each kind of single-request finding (`@check(..., replay=...)`), and whether it needs a corpus case.
SINGLE_REQUEST: dict[str, tuple[Judge, bool]] = {
    "corpus": (_judge_corpus, True),
    "body": (_judge_body, True),
    "create": (_judge_create, False),
}


def single_judge(finding: Recorded) -> Judge | None:
    """The judge of a finding about one request, or None (re-run its scenario instead)."""
    from billing_kit.conformance.checks import REGISTRY, load_all

    load_all()  # the registry is filled as the check modules load; a judge runs as its check
    spec = REGISTRY.get(finding.check)
    entry = SINGLE_REQUEST.get(spec.replay) if spec is not None and spec.replay is not None else None
    if entry is None or not isinstance(finding.evidence.get("exchange"), dict):
        return None
    judge, needs_case = entry
    if needs_case and corpus_case(finding.case, finding.clause) is None:
        return None
    return judge


# -- the session -----------------------------------------------------------------
class Replayer:
    def __init__(self, report: dict[str, Any], config: RunConfig, contract: Contract) -> None:
        self.report = report
        self.config = config
        self.contract = contract
        self.nonce = secrets.token_hex(6)
        self.scenarios: dict[str, RunResult | str] = {}
        run_tag = report.get("run_tag")
        self.old_nonce = str(run_tag.get("value", "")) if isinstance(run_tag, dict) else ""
        target = report.get("target")
        self.report_base = str(target.get("base_url", "")) if isinstance(target, dict) else ""

    def replay(self, finding: Recorded) -> Result:
        judge = single_judge(finding)
        if judge is None:
            recorded = isinstance(finding.evidence.get("exchange"), dict)
            why = f"{finding.check or 'its check'} judges more than one request" if recorded else "no request recorded"
            return self.scenario(finding, why)
        try:
            request = rebuild(
                finding.evidence,
                self.report_base,
                self.contract,
                (self.config.api_key, self.config.live_key),
                self.old_nonce,
                self.nonce,
            )
        except NotReplayable as exc:
            return Result(finding, NOT_REPLAYED, str(exc))
        return self.resend(finding, request, judge)

    def _client(self) -> Any:
        from billing_kit.conformance.http import Budget, Client, ClientOptions
        from billing_kit.conformance.redact import Redactor
        from billing_kit.conformance.version import __version__

        return Client(
            ClientOptions(
                base_url=self.config.base_url,
                timeout=self.config.timeout,
                verify=self.config.verify,
                user_agent=f"billing-kit-conformance/{__version__} (replay)",
            ),
            Budget(self.config.max_time),
            Redactor([self.config.api_key, self.config.live_key]),
        )

    def resend(self, finding: Recorded, request: Request, judge: Judge) -> Result:
        from billing_kit.conformance.checks import REGISTRY
        from billing_kit.conformance.context import CheckContext, describe
        from billing_kit.conformance.jsonsafe import loads

        client = self._client()
        try:
            ctx = CheckContext(self.contract, self.config, client, nonce=self.nonce)
            with ctx.running(REGISTRY[finding.check]):
                exchange = client.send(
                    request.method, request.path, body=request.body, headers=request.headers, key_ref=request.key_ref
                )
                if request.body is not None:
                    value, _ = loads(request.body)
                    exchange.sent = value if isinstance(value, dict) else None
                judge(ctx, finding, exchange)
        finally:
            client.close()
        answer = describe(exchange)
        if exchange.response is None or exchange.response.status >= 500:
            return Result(finding, STILL_FAILING, f"resent: {answer}, a server error (ERR-2)")
        broken = [f for f in ctx.findings if f.kind == "violation" and f.clause == finding.clause]
        if broken:
            return Result(finding, STILL_FAILING, f"resent: {answer}; {broken[0].message}")
        return Result(finding, FIXED, f"resent: {answer}")

    def scenario(self, finding: Recorded, why: str) -> Result:
        from billing_kit.conformance.baseline import evidence_entry, finding_entry

        how = f"re-run as a scenario ({why}): check --only {finding.clause} --seed {self.config.seed}"
        outcome = self.scenarios.get(finding.clause)
        if outcome is None:
            outcome = self.scenarios[finding.clause] = self._run_scenario(finding.clause)
        if isinstance(outcome, str):
            return Result(finding, NOT_REPLAYED, f"{how}: {outcome}")
        verdict = next((v for v in outcome.verdicts if v.clause == finding.clause), None)
        if verdict is None or verdict.verdict.value == "SKIP":
            why = verdict.note if verdict is not None and verdict.note else "the clause was not judged"
            return Result(finding, NOT_REPLAYED, f"{how}: {why}")
        wanted = evidence_entry(finding.clause, finding.evidence).fingerprint
        again = [f for f in verdict.violations if finding_entry(f).fingerprint == wanted]
        if again:
            return Result(finding, STILL_FAILING, how)
        others = f"; {len(verdict.violations)} other violation(s) of the clause" if verdict.violations else ""
        return Result(finding, FIXED, how + others)

    def _run_scenario(self, clause: str) -> RunResult | str:
        from dataclasses import replace

        from billing_kit.conformance.http import Unreachable
        from billing_kit.conformance.runner import run

        try:
            return run(replace(self.config, only=(clause,)), self.contract)
        except Unreachable as exc:
            return f"cannot reach {self.config.base_url}: {exc}"


_CLAUSE_SLOT = "\x00clauses\x00"


def _grouped(results: list[Result]) -> list[tuple[str, str, list[Result]]]:
    """Results with the same outcome and the same detail (the clause aside), in first-seen order.

    Twelve findings of one clause re-run as one scenario say so once, after the twelve;
    scenarios of several clauses with one outcome name the clauses in one command.
    """
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        key = (r.status, r.detail.replace(f"--only {r.finding.clause} ", f"--only {_CLAUSE_SLOT} "))
        groups.setdefault(key, []).append(r)
    out = []
    for (status, detail), members in groups.items():
        named = ",".join(dict.fromkeys(m.finding.clause for m in members))
        out.append((status, detail.replace(_CLAUSE_SLOT, named), members))
    return out


def print_results(results: list[Result], out: Any) -> None:
    for status, detail, members in _grouped(results):
        label = {STILL_FAILING: "STILL FAILING", FIXED: "FIXED", NOT_REPLAYED: "NOT REPLAYED"}[status]
        for r in members:
            click.echo(f"{label:13}  {r.finding.clause:13}  {r.finding.message}", file=out)
        many = f" (the {len(members)} findings above)" if len(members) > 1 else ""
        click.echo(f"{'':13}  {'':13}  {status}{many}: {detail}", file=out)
    counts = {s: sum(1 for r in results if r.status == s) for s in (STILL_FAILING, FIXED, NOT_REPLAYED)}
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()), file=out)


def exit_code(results: list[Result]) -> int:
    if any(r.status == STILL_FAILING for r in results):
        return 1
    return 2 if any(r.status == NOT_REPLAYED for r in results) else 0


def _config(report: dict[str, Any], opts: dict[str, Any]) -> RunConfig:
    from billing_kit.conformance.config import DEFAULT_EXAMPLES, DEFAULT_MAX_TIME, DEFAULT_TIMEOUT, RunConfig

    options = report.get("options") if isinstance(report.get("options"), dict) else {}
    assert isinstance(options, dict)
    target = report.get("target") if isinstance(report.get("target"), dict) else {}
    assert isinstance(target, dict)
    base_url = opts["base_url"] or target.get("base_url")
    if not base_url:
        raise CliError("--base-url is required (the report names no target)")
    seed = report.get("seed")
    return RunConfig(
        base_url=str(base_url).rstrip("/"),
        api_key=opts["api_key"] or None,
        live_key=opts["live_key"] or None,
        allow_live=bool(opts["live_key"]),
        spec=opts["spec"],
        seed=int(seed) if isinstance(seed, int) else 0,
        examples=int(options.get("examples") or DEFAULT_EXAMPLES),
        timeout=float(opts["timeout"] or options.get("timeout") or DEFAULT_TIMEOUT),
        max_time=float(options.get("max_time") or DEFAULT_MAX_TIME),
    )


@click.command(cls=OneLineErrors)
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base-url", envvar="BILLING_BASE_URL", metavar="URL", help="Target (default: the report's).")
@click.option("--api-key", envvar="BILLING_API_KEY", metavar="KEY", help="Sandbox API key (or $BILLING_API_KEY).")
@click.option("--live-key", envvar="BILLING_LIVE_KEY", metavar="KEY", help="Live key (or $BILLING_LIVE_KEY).")
@click.option("--spec", metavar="PATH|URL", help="The spec to judge against (default: the bundled one).")
@click.option("--clause", "clause_list", metavar="ID,…", help="Replay only the findings of these clauses.")
@click.option("--case", "case_id", metavar="ID", help="Replay only the findings of this corpus case.")
@click.option("--timeout", type=float, help="Seconds per request (default: the report's).")
def replay_command(report: Path, clause_list: str | None, case_id: str | None, **opts: Any) -> None:
    """Resend a report's failing requests (keys from the environment) and judge them with the same checks.

    Prints each finding as still failing, fixed, or could not be replayed (and why). Exit 0 when every
    selected finding is fixed, 1 when one still fails, 2 when some could not be replayed or on an error.
    """
    from billing_kit.conformance.contract import SpecError
    from billing_kit.conformance.report_reader import ReportError, load_report
    from billing_kit.conformance.spec_source import load_contract

    try:
        document = load_report(report)
    except ReportError as exc:
        raise CliError(str(exc)) from None
    config = _config(document, opts)
    try:
        contract = load_contract(config.spec)
    except SpecError as exc:
        raise CliError(str(exc)) from None
    clauses = {c.strip().upper() for c in (clause_list or "").split(",") if c.strip()}
    findings = recorded_violations(document, clauses, case_id)
    out = sys.stdout
    if not findings:
        if clauses or case_id:
            raise CliError(f"{report} records no violation of the selected clause(s) or case")
        click.echo(f"{report} records no violation: nothing to replay", file=out)
        sys.exit(0)
    spec = document.get("spec")
    if isinstance(spec, dict) and spec.get("sha256") and spec.get("sha256") != contract.sha256:
        click.echo(f"Warning: the report was made against another spec (sha256 {spec['sha256'][:12]})", err=True)
    click.echo(f"Replaying {len(findings)} finding(s) of {report} against {config.base_url}", file=out)
    replayer = Replayer(document, config, contract)
    results = [replayer.replay(f) for f in findings]
    print_results(results, out)
    sys.exit(exit_code(results))

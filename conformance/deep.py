"""`check --duration D`: beside or after the default checks, fresh cases until the time budget.

    default checks (Phase.SEND)  ->  deep rounds until D after the start  ->  whole-run checks

With worker processes (`--workers` > 1, the default on a multi-core machine) and no
`--rate`, the rounds start at once and run beside the default checks, so the whole
budget goes at the rounds' pace; with one worker (Hypothesis runs in one thread of a
process) or a run-wide `--rate`, they follow the default checks.

A deep round (one worker, one round number) derives its seed from (run seed,
worker, round) and sends:

- Schemathesis's positive and negative fuzzing on that seed (the coverage
  phase is deterministic, the default run sent it already), judged by the
  generic phase's own judge (`checks/generic.py`);
- the property checks (registered with `deep="property"`) with that seed;

then judges the round's exchanges with the checks that judge a whole run
(ERR-2, ERR-3) and folds every created id into the worker's compact id set
(64-bit hashes: RES-ID-2) and every org_id into a set per key (RES-ORG-1).
The round's exchanges are then dropped: a worker keeps findings (one per
distinct message, with a count), hashes and counts, never the traffic.

`--workers N` runs the rounds in N processes forked from a forkserver (`conformance.workers`); the
ledgers are merged, so an id repeated across workers is a RES-ID-2 finding too.
SIGINT stops the rounds; the whole-run checks judge what was sent and the
report is written (the CLI then exits 130).

`--until RATE` (`conformance.until`): the workers report their counts per clause
after each round, the run merges them, records the series and stops the rounds once
every clause they judge rules out RATE; the weights it publishes size each round's
pieces towards the clauses furthest from it.
"""

from __future__ import annotations

import hashlib
import re
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, Protocol

from billing_kit.conformance.checks import REGISTRY, CheckSpec, load_all
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.http import Budget, BudgetExhausted, Client, ClientOptions
from billing_kit.conformance.model import Exchange, Finding
from billing_kit.conformance.redact import Redactor
from billing_kit.conformance.registry import DeepRole, Phase, in_role
from billing_kit.conformance.rules import across
from billing_kit.conformance.until import Channel, Watch, Weights, describe

if TYPE_CHECKING:
    from billing_kit.conformance.checks.generic import Planned
    from billing_kit.conformance.execute import Outcome

# A check's part in a round is declared where it is registered (`@check(..., deep=...)`):
# "fuzz" the generic phase, "property" sent again on the round's seed, "round-judge" judging
# the round's exchanges, "ids" the creates folded into the ids; `phase=Phase.WHOLE_RUN` after the rounds.


def _one(role: DeepRole) -> CheckSpec:
    (spec,) = in_role(role)
    return spec


# Per round: Schemathesis cases drawn per generation mode (the pool), cheap variants of the
# pool (conformance/mutate.py), and examples per property check. Drawing through Hypothesis
# costs milliseconds of CPU per case, a variant microseconds: the variants carry the volume.
POOL_EXAMPLES: Final = 20
VARIANTS: Final = 4000
PROPERTY_EXAMPLES: Final = 20
# Seconds kept for the whole-run checks when --max-time, not --duration, ends the rounds.
LATE_RESERVE: Final = 30.0
# Distinct findings kept per (clause, check): messages that carry generated values could
# otherwise grow without bound against a defective server; past it they are only counted.
DISTINCT_FINDINGS: Final = 20
DURATION_RE: Final = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)$")
UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """`30s`, `10m`, `1h` (or `1.5h`) -> seconds; ValueError with a one-line reason otherwise."""
    match = DURATION_RE.match(text.strip())
    if match is None:
        raise ValueError(f"--duration expects a number with s, m or h (30s, 10m, 1h), got {text!r}")
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"--duration must be positive, got {text!r}")
    return seconds


def derive_seed(seed: int, worker: int, round_number: int) -> int:
    """The seed of one round of one worker: the same run seed and worker count give the same cases."""
    digest = hashlib.blake2b(f"{seed}:{worker}:{round_number}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def round_nonce(nonce: str, worker: int, round_number: int) -> str:
    """A nonce as long as the run's, unique per round (Idempotency-Keys are built from it)."""
    return f"{nonce[:4]}{worker:02x}{round_number:06x}"[: len(nonce)]


def id_hash(customer_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(customer_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def _shape(message: str) -> str:
    """A message with its numbers blanked: findings that differ only in counts are one finding."""
    return re.sub(r"\d+", "#", message)


class StopFlag(Protocol):
    def is_set(self) -> bool: ...

    def set(self) -> None: ...


class StoppableBudget(Budget):
    """A worker's budget: no request starts after `seconds` or once the run is interrupted, and one
    that starts gets its full timeout (the client caps a request's timeout at the budget's
    remaining time, which would turn the last requests' slowness into ERR-2 findings)."""

    def __init__(self, seconds: float, stop: StopFlag, timeout: float) -> None:
        super().__init__(seconds + timeout)
        self.stop = stop
        self.seconds = seconds
        self.last_start = self.started + seconds

    def sending(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.last_start

    def reserve(self, seconds: float) -> None:
        """Keep the last `seconds` of the budget for judging what was sent (a round's judging, measured)."""
        self.last_start = min(self.last_start, self.started + self.seconds - seconds)

    def check(self) -> None:
        if not self.sending():
            raise BudgetExhausted


@dataclass
class Ledger:
    """What one worker keeps of its rounds: bounded findings, compact ids, counts."""

    findings: dict[tuple[str, str, str, str], Finding] = field(default_factory=dict)
    repeats: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    ids: set[int] = field(default_factory=set)
    orgs: dict[str, set[str]] = field(default_factory=dict)
    judged: Counter[str] = field(default_factory=Counter)
    broke: Counter[str] = field(default_factory=Counter)  # violations seen per clause, kept or not
    distinct: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: int = 0
    requests: int = 0
    rounds: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    def keep(self, finding: Finding) -> None:
        if finding.kind == "inconclusive":
            return  # the default run judged the clause; a round that could not judge adds nothing
        fuzz = finding.check in REGISTRY and REGISTRY[finding.check].deep == "fuzz"
        if finding.kind == "violation" and not fuzz:  # the generic round counts its own
            self.broke[finding.clause] += 1
        key = (finding.clause, finding.check, finding.kind, _shape(finding.message))
        if key in self.findings:
            self.repeats[key] += 1
        elif self.distinct[(finding.clause, finding.check)] < DISTINCT_FINDINGS:
            self.distinct[(finding.clause, finding.check)] += 1
            self.findings[key] = finding
        else:
            self.dropped += 1

    def merge(self, other: Ledger) -> list[int]:
        """Fold another worker's ledger in; return the id hashes both saw (repeated ids)."""
        for key, finding in other.findings.items():
            if key in self.findings:
                self.repeats[key] += 1 + other.repeats[key]
            else:
                self.findings[key] = finding
                self.repeats[key] += other.repeats[key]
        repeated = sorted(self.ids & other.ids)
        self.ids |= other.ids
        for key_ref, values in other.orgs.items():
            self.orgs.setdefault(key_ref, set()).update(values)
        self.judged.update(other.judged)
        self.broke.update(other.broke)
        self.dropped += other.dropped
        self.requests += other.requests
        self.rounds += other.rounds
        self.seconds = max(self.seconds, other.seconds)
        self.cpu += other.cpu
        return repeated


@dataclass(frozen=True)
class Job:
    """One worker's share of the deep phase (pickled to a spawned process)."""

    config: RunConfig
    contract: Contract
    nonce: str
    worker: int
    seconds: float
    # When the rounds end (time.monotonic(), one clock for every process of the machine): a worker
    # that starts late (the forkserver still importing) ends on time, not `seconds` after its start.
    ends_at: float | None = None
    # --until: the directory through which the worker reports its rounds and reads the weights.
    channel: str | None = None

    def remaining(self) -> float:
        return self.seconds if self.ends_at is None else max(0.0, min(self.seconds, self.ends_at - time.monotonic()))


# -- one round ----------------------------------------------------------------


_STRATEGIES: dict[str, list[Any]] = {}


def _generic_strategies(ctx: CheckContext) -> list[Any]:
    """Schemathesis's positive and negative strategies for POST /customers, built once per process."""
    cached = _STRATEGIES.get(ctx.contract.sha256)
    if cached is None:
        from schemathesis.generation import GenerationMode

        from billing_kit.conformance.checks import generic_plan

        operation = generic_plan._schema(ctx.contract)[CUSTOMERS_PATH]["POST"]
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        cached = _STRATEGIES[ctx.contract.sha256] = [operation.as_strategy(generation_mode=m) for m in modes]
    return cached


MODES: Final = ("positive", "negative")


def generic_round(
    ctx: CheckContext,
    ledger: Ledger,
    examples: int | tuple[int, int],
    variants: int,
    reach: dict[str, set[str]] | None = None,
) -> None:
    """Fresh positive and negative fuzzing cases on the round's seed and variants of them, judged as the
    generic phase judges its cases. `examples`: drawn per mode (or per mode each, positive first);
    `reach`, if given, learns which clauses each piece (`generic:positive`, ..., `generic:variants`) advanced."""
    from billing_kit.conformance import mutate
    from billing_kit.conformance.checks import generic, generic_answer, generic_plan

    class CountingRun(generic.GenericRun):
        def finding(self, failure: Failure, must: bool = False) -> None:
            ledger.broke[failure.clause] += 1  # every case that broke it: one finding a round carries many
            super().finding(failure, must)

        def send(self, item: Planned) -> Any:
            sent = super().send(item)
            if sent is not None:
                ledger.judged.update(generic_answer.clauses_of(item, sent[1]))
            return sent

        def run_checks(self, item: Planned, exchange: Exchange) -> list[tuple[str, Any]]:
            # Only Schemathesis's response checks on a 2xx become findings (`schema_findings`);
            # its other verdicts feed the default run's progress tally alone.
            response = exchange.response
            if response is None or not 200 <= response.status < 300:
                return []
            return _response_checks(item, exchange)

    run = CountingRun(ctx)
    seen: set[str] = set()
    pool: list[Planned] = []
    sizes = examples if isinstance(examples, tuple) else (examples, examples)
    try:
        for mode, strategy, size in zip(MODES, _generic_strategies(ctx), sizes, strict=True):
            if size <= 0:
                continue
            before = Counter(ledger.judged)
            for case in generic_plan.draw(strategy, size, ctx.config.seed):
                item = generic_plan._planned(case)
                if item is None:
                    continue
                signature = repr((item.method, item.content_type, item.body, item.auth, item.key_length, item.headers))
                if signature not in seen:
                    seen.add(signature)
                    pool.append(item)
                    run.one(item)
            _learn(reach, f"generic:{mode}", before, ledger.judged)
        before = Counter(ledger.judged)
        for item in mutate.variants(pool, variants, ctx.config.seed, ctx.contract):
            run.one(item)
        if variants:
            _learn(reach, "generic:variants", before, ledger.judged)
    finally:
        run.flush()


def _learn(reach: dict[str, set[str]] | None, piece: str, before: Counter[str], after: Counter[str]) -> None:
    """The clauses a piece of a round advanced (it only ever grows: a piece that advanced one once can again)."""
    if reach is not None:
        reach.setdefault(piece, set()).update(c for c, n in after.items() if n > before.get(c, 0))


def _response_checks(item: Planned, exchange: Exchange) -> list[tuple[str, Any]]:
    """Schemathesis's checks of a 2xx answer against the operation's responses (status, media type, schema)."""
    from billing_kit.conformance.checks import generic_schemathesis

    return generic_schemathesis.run_checks(item, exchange, only=generic_schemathesis.RESPONSE_CHECKS)


def _run_spec(ctx: CheckContext, spec: CheckSpec, ledger: Ledger) -> bool:
    """Run one check in a round; True when the round's budget ran out."""
    from billing_kit.conformance.execute import run_checks

    before = len(ctx.log)
    _, exhausted = run_checks(ctx, [spec])
    ledger.judged.update({clause: len(ctx.log) - before for clause in spec.clauses})
    return exhausted


def _judge_round(ctx: CheckContext, ledger: Ledger) -> None:
    """The whole-run judges over this round's exchanges, ids and org_ids into the ledger."""
    from billing_kit.conformance.execute import run_checks

    run_checks(ctx, in_role("round-judge"))
    ledger.judged["ERR-2"] += len(ctx.log)
    ledger.judged["ERR-3"] += sum(1 for e in ctx.log if e.response is not None and 400 <= e.response.status < 500)
    with ctx.running(_one("ids")):
        for exchange in ctx.log:
            created = _created(exchange)
            if created is None:
                continue
            customer_id, org = created
            ledger.judged["RES-ID-2"] += 1
            hashed = id_hash(customer_id)
            if across.repeated_id(ledger.ids, hashed):
                broken = across.duplicate_id(customer_id)
                ctx.violation(
                    broken.clause, broken.title, expected=broken.expected, actual=broken.actual, exchange=exchange
                )
            ledger.ids.add(hashed)
            if org is not None:
                ledger.judged["RES-ORG-1"] += 1
                ledger.orgs.setdefault(exchange.request.key_ref or "", set()).add(org)


def _created(exchange: Exchange) -> tuple[str, str | None] | None:
    if not exchange.succeeded:
        return None
    body = exchange.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return None
    org = body.get("org_id")
    return body["id"], org if isinstance(org, str) else None


def work(job: Job, stop: StopFlag) -> Ledger:
    """One worker: rounds until its budget runs out or the run is stopped."""

    started, cpu = time.monotonic(), time.process_time()
    load_all()  # a spawned worker starts with an empty registry
    ledger = Ledger()
    config = job.config
    budget = StoppableBudget(job.remaining(), stop, config.timeout)
    client = Client(
        ClientOptions.of_run(config, pool_size=4),
        budget,
        Redactor([config.api_key, config.live_key]),
    )
    from billing_kit.conformance.execute import select_checks

    selected = {spec.name for spec in select_checks(load_all(), config.only)}  # --only applies to the rounds too
    properties = [spec for spec in in_role("property") if spec.name in selected]
    generic_spec = _one("fuzz")
    channel = Channel(job.channel) if job.channel is not None else None
    reach: dict[str, set[str]] = {}  # what each piece of a round advanced, learnt (--until's weights)
    try:
        round_number = 0
        while budget.sending():
            round_number += 1
            seed = derive_seed(config.seed, job.worker, round_number)
            ctx = CheckContext(
                job.contract,
                replace(config, seed=seed, examples=PROPERTY_EXAMPLES),
                client,
                nonce=round_nonce(job.nonce, job.worker, round_number),
            )
            sizes = _sizes(channel, config.until, reach, [spec.name for spec in properties])
            exhausted = False
            if generic_spec.name in selected and (sizes["generic:positive"] or sizes["generic:negative"]):
                try:
                    pool = (sizes["generic:positive"], sizes["generic:negative"])
                    with ctx.running(generic_spec):
                        generic_round(ctx, ledger, pool, sizes["generic:variants"], reach)
                except BudgetExhausted:
                    exhausted = True
            for spec in properties:
                if exhausted or not budget.sending():  # stopped between two pieces: Hypothesis is not started
                    exhausted = True
                    break
                if sizes[spec.name]:
                    ctx.config = replace(ctx.config, examples=sizes[spec.name])
                    before = Counter(ledger.judged)
                    exhausted = _run_spec(ctx, spec, ledger)
                    _learn(reach, spec.name, before, ledger.judged)
            judging = time.monotonic()
            _judge_round(ctx, ledger)
            # The next round stops sending early enough for its own judging to end within the budget.
            budget.reserve(time.monotonic() - judging)
            for finding in ctx.findings:
                ledger.keep(finding)
            ledger.requests += len(ctx.log)
            ledger.rounds += 1
            if channel is not None:
                channel.report(job.worker, ledger.judged, ledger.rounds)
            if exhausted:
                break
    finally:
        client.close()
    ledger.seconds = time.monotonic() - started
    ledger.cpu = time.process_time() - cpu
    return ledger


def _sizes(
    channel: Channel | None, until: float | None, reach: dict[str, set[str]], properties: list[str]
) -> dict[str, int]:
    """The size of each piece of the next round: the defaults, or (--until) weighted by the clauses still short.

    A piece none of whose clauses is short is skipped; the pool draws and the property checks grow
    with the missing share of their furthest clause (the variants, already the volume, do not grow).
    """
    defaults = {"generic:positive": POOL_EXAMPLES, "generic:negative": POOL_EXAMPLES, "generic:variants": VARIANTS}
    defaults |= {name: PROPERTY_EXAMPLES for name in properties}
    weights = Weights(channel.weights() if channel is not None and until is not None else None)
    if weights.short is None or weights.stranded([reach.get(piece) for piece in defaults]):
        return defaults
    sizes = {piece: weights.size(n, reach.get(piece)) for piece, n in defaults.items()}
    sizes["generic:variants"] = min(sizes["generic:variants"], VARIANTS)
    if sizes["generic:variants"]:  # the variants are drawn from the pool: it is never empty then
        for mode in MODES:
            sizes[f"generic:{mode}"] = max(sizes[f"generic:{mode}"], POOL_EXAMPLES)
    return sizes


# -- the phase, in the run ---------------------------------------------------------


def _default_ledger(ctx: CheckContext) -> Ledger:
    """The default run's ids and org_ids, so a deep create repeating one of them is found too."""
    ledger = Ledger()
    for record in ctx.created:
        ledger.ids.add(id_hash(record.id))
    for exchange in ctx.log:
        created = _created(exchange)
        if created is not None and created[1] is not None:
            ledger.orgs.setdefault(exchange.request.key_ref or "", set()).add(created[1])
    return ledger


def report_merged(ctx: CheckContext, merged: Ledger, repeated: list[int]) -> None:
    """The deep phase's findings into the run's, each once, with how often it was seen."""
    for key, finding in merged.findings.items():
        count = merged.repeats[key]
        if count:
            finding = replace(finding, message=f"{finding.message} (seen {count + 1} times in the deep phase)")
        ctx.add_findings([finding])
    with ctx.running(_one("ids")):
        for hashed in repeated[:3]:
            broken = across.duplicate_id("")
            ctx.violation(
                broken.clause,
                f"{broken.title} ({len(repeated)} ids repeated across workers or the default phase)",
                expected=broken.expected,
                actual=f"one id in two workers' creates (64-bit hash {hashed:016x})",
            )
        for key_ref, values in merged.orgs.items():
            if len(values) > 1:
                broken = across.org_ids_of_key(key_ref, values, ", ".join(sorted(values)[:3]))
                ctx.violation(broken.clause, broken.title, expected=broken.expected, actual=broken.actual)


def workers_for(config: RunConfig) -> int:
    return max(1, config.workers)


def run_deep(ctx: CheckContext, seconds: float, stop: StopFlag) -> Ledger:
    """The deep rounds (in this process, or in `--workers` processes); their findings reported into ctx."""
    return merge_rounds(ctx, deep_rounds(ctx, seconds, stop))


def deep_rounds(ctx: CheckContext, seconds: float, stop: StopFlag, channel: str | None = None) -> list[Ledger]:
    """Every worker's ledger: the rounds in this process, or in `--workers` processes (ctx is only read)."""
    from billing_kit.conformance import workers

    config = ctx.config
    count = workers_for(config)
    ends_at = time.monotonic() + seconds
    jobs = [Job(config, ctx.contract, ctx.nonce, worker, seconds, ends_at, channel) for worker in range(count)]
    return [work(jobs[0], stop)] if count == 1 else workers.run_jobs(jobs, stop, work)


def merge_rounds(ctx: CheckContext, ledgers: list[Ledger]) -> Ledger:
    """The workers' ledgers merged with the default run's, their findings reported into ctx."""
    merged = _default_ledger(ctx)
    repeated: list[int] = []
    for ledger in ledgers:
        repeated += merged.merge(ledger)
    report_merged(ctx, merged, repeated)
    return merged


class _Interrupt:
    """SIGINT during a deep run stops the rounds instead of the process."""

    def __init__(self) -> None:
        self.flag = threading.Event()
        self.previous: Any = None

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.flag.set()

    def __exit__(self, *_: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _overlaps(config: RunConfig) -> bool:
    """Deep workers start beside the default checks when they are processes of their own (Hypothesis
    is not run in two threads of one process) and no --rate must hold for the run as a whole."""
    return workers_for(config) > 1 and not config.rate


class _Either:
    """Stopped by either flag (SIGINT, or --until's rate reached); `set` is the first one's."""

    def __init__(self, first: StopFlag, second: StopFlag) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()

    def set(self) -> None:
        self.first.set()


def _generated_counts(ctx: CheckContext, specs: list[CheckSpec]) -> Callable[[], Counter[str]]:
    """The default run's generated cases per clause so far (its generated checks' ledger), as fold counts them."""
    generators = [spec for spec in specs if spec.generated]

    def counts() -> Counter[str]:
        out: Counter[str] = Counter()
        for spec in generators:
            for clause in spec.clauses:
                out[clause] += ctx.ledger.get(spec.name, clause).judged
        return out

    return counts


def _extra_failing(merged: Ledger) -> dict[str, int]:
    """Violations the deep rounds saw beyond the findings reported that fold counts (a generated check's, once
    each): so a verdict's failing count, and its observed rate, include every sighting."""
    reported = Counter(
        f.clause
        for f in merged.findings.values()
        if f.kind == "violation" and f.check in REGISTRY and REGISTRY[f.check].generated
    )
    return {c: n - reported[c] for c, n in sorted(merged.broke.items()) if n > reported[c]}


class _Rounds(threading.Thread):
    """The deep rounds in the background (their worker processes do the work): ledgers, or the error."""

    def __init__(self, ctx: CheckContext, seconds: float, stop: StopFlag, channel: str | None) -> None:
        super().__init__(name="deep-rounds", daemon=True)
        self.ctx, self.seconds, self.stop, self.channel = ctx, seconds, stop, channel
        self.ledgers: list[Ledger] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.ledgers = deep_rounds(self.ctx, self.seconds, self.stop, self.channel)
        except Exception as exc:  # reported by the caller, beside the default run's verdicts
            self.error = exc


def run_with_deep(ctx: CheckContext, specs: list[CheckSpec], budget: Budget) -> tuple[Outcome, bool, dict[str, Any]]:
    """Default checks, deep rounds until --duration or --until's rate, whole-run checks; (outcome, exhausted, summary).

    With worker processes (and no --rate), the rounds start at once and run beside the
    default checks, so the whole --duration is spent at the deep rounds' pace; otherwise they
    follow the default checks. Either way the whole-run checks judge everything at the end.
    """
    with tempfile.TemporaryDirectory(prefix="billing-kit-deep-") as channel:
        return _run_with_deep(ctx, specs, budget, channel)


def _run_with_deep(
    ctx: CheckContext, specs: list[CheckSpec], budget: Budget, channel: str
) -> tuple[Outcome, bool, dict[str, Any]]:
    from billing_kit.conformance.execute import run_checks

    duration = ctx.config.duration or 0.0
    progress = ctx.progress
    count = workers_for(ctx.config)
    if count > 1:
        from billing_kit.conformance import workers

        workers.warm_up()
    reserve = min(LATE_RESERVE, ctx.config.max_time / 4)
    end = min(budget.started + duration, budget.deadline - reserve)
    cut_short = budget.started + duration > budget.deadline - reserve
    summary: dict[str, Any] = {"duration": duration, "workers": count, "beside_default_checks": _overlaps(ctx.config)}
    generated = _generated_counts(ctx, specs)
    reached = threading.Event()
    watch = Watch(Channel(channel), budget.started, generated, ctx.config.until, reached, ctx.config.only)
    watch.start()
    with _Interrupt() as interrupt:
        stop = _Either(interrupt.flag, reached)
        rounds: _Rounds | None = None
        if _overlaps(ctx.config) and end - time.monotonic() > 1:
            rounds = _Rounds(ctx, end - time.monotonic(), stop, channel)
            if progress:
                progress(f"deep phase: {rounds.seconds:.0f} s on {count} workers, beside the default checks")
            rounds.start()
        ran, exhausted = run_checks(ctx, [s for s in specs if s.phase is Phase.SEND])
        if ran.stopped:
            exhausted = True  # the target is gone: no deep rounds
        ledgers: list[Ledger] | None = None
        error: BaseException | None = None
        if rounds is not None:
            if exhausted:
                interrupt.flag.set()
            rounds.join()
            ledgers, error = rounds.ledgers, rounds.error
        elif not exhausted and not stop.is_set() and end - time.monotonic() > 1:
            seconds = end - time.monotonic()
            if progress:
                progress(f"deep phase: {seconds:.0f} s on {count} worker(s)")
            try:
                ledgers = deep_rounds(ctx, seconds, stop, channel)
            except Exception as exc:  # a crashed worker must not take the default run's verdicts with it
                error = exc
        merged: Ledger | None = None
        if ledgers is not None or error is not None:
            merged = merge_rounds(ctx, ledgers or [])
            if error is not None:
                summary["error"] = f"{type(error).__name__}: {str(error)[:300]}"
                if progress:
                    progress(f"deep phase stopped: {summary['error']}")
            summary |= {
                "rounds": merged.rounds,
                "requests": merged.requests,
                "seconds": round(merged.seconds, 1),
                "cpu_seconds": round(merged.cpu, 1),
                "distinct_ids": len(merged.ids),
                "findings_not_kept": merged.dropped,
                "judged": dict(sorted(merged.judged.items())),
                "failing": _extra_failing(merged),
            }
            if progress:
                progress(
                    f"deep phase: {merged.requests} requests in {merged.rounds} rounds, {merged.seconds:.1f} s; "
                    "cases judged per clause: "
                    + ", ".join(f"{clause} {n}" for clause, n in sorted(merged.judged.items()) if n)
                )
        watch.finish(merged.judged if merged is not None else Counter())
        summary["series"] = watch.series_document()
        summary["interrupted"] = interrupt.flag.is_set() and not exhausted
        summary["cut_short_by_max_time"] = cut_short
        if ctx.config.until is not None:
            # Every clause at the rate: the run ended as asked, however far --max-time was; else it is cut short.
            summary["until"] = watch.document(generated())
            summary["cut_short_by_max_time"] = cut_short = cut_short and not watch.all_reached
            cut_short = cut_short or not watch.all_reached
            if progress:
                progress(describe(summary["until"]))
        if not exhausted:
            late, exhausted = run_checks(ctx, [s for s in specs if s.phase is Phase.WHOLE_RUN])
            ran.completed |= late.completed
            ran.crashed |= late.crashed
            ran.stopped = ran.stopped or late.stopped
    return ran, exhausted or cut_short, summary

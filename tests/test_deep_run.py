"""`billing-kit check --duration D --workers N`: the deep run.

Real servers on free ports: a rare defect only volume shows (tests/servers/rare_defect.py,
an id repeated once every N creates) is found by a deep run and not by the default run;
the conforming zoo server passes a 30 s deep run on two workers; --max-time and SIGINT
end a deep run with its report written; the same seed and worker count send the same cases.
"""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from billing_kit.conformance import deep, mutate
from billing_kit.conformance.checks.generic import Planned
from billing_kit.conformance.contract import load_contract
from tests.servers import zoo_runner
from tests.support.procs import BILLING_KIT, free_port, run_server

RARE_DEFECT = Path(__file__).resolve().parent / "servers" / "rare_defect.py"
# One create in this many repeats the id before it: more than a default run creates (about
# 1,000 with the RES-ID-2 burst of 778), fewer than a deep run of RARE_BUDGET creates.
RARE_EVERY = 1500
RARE_BUDGET = "40s"  # about 4,000 creates on a busy machine: more than twice what it needs
# The rarity, too slow for `make test` on a busy 2-core machine (a deep run makes about
# 200 creates/s here when quiet, 100 with two busy loops): `make test-long` runs it.
LONG_RARE_EVERY = 20_000
LONG_RARE_BUDGET = "4m"


Run = zoo_runner.CheckRun


def findings(run: Run, kinds: tuple[str, ...] = ("FAIL", "WARN")) -> list[str]:
    return [
        f"{v['clause']} {v['verdict']}: {[e.get('message') for e in v.get('evidence', [])[:3]]}"
        for v in run.report.get("verdicts", [])
        if v["verdict"] in kinds
    ]


@contextmanager
def rare_defect_server(every: int) -> Iterator[zoo_runner.Target]:
    keys = zoo_runner.new_keys()
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        argv = zoo_runner.server_argv(zoo_runner.PYTHON, port, keys, zoo_runner.STRICT, None, Path(scratch))
        argv[1] = str(RARE_DEFECT)
        with run_server([*argv, "--every", str(every)], port, ready_path="/") as server:
            yield zoo_runner.Target(f"{server.origin}/v1", keys, zoo_runner.PYTHON, zoo_runner.STRICT, None)


def check_argv(target: zoo_runner.Target, report: Path, *extra: str, live: bool = False) -> list[str]:
    argv = [
        BILLING_KIT, "check", "--base-url", target.base_url, "--api-key", target.keys.sandbox,
        "--seed", "1", "--timeout", "5", "--report-json", str(report), *extra,
    ]  # fmt: skip
    if live:
        argv += ["--live-key", target.keys.live, "--allow-live"]
    return argv


def run_check(target: zoo_runner.Target, *extra: str, live: bool = False) -> Run:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        done = subprocess.run(
            check_argv(target, report, *extra, live=live), capture_output=True, text=True, timeout=900, check=False
        )
        data = json.loads(report.read_text()) if report.exists() else {}
        return Run(done.returncode, data, done.stdout, done.stderr)


@pytest.mark.slow
def test_rare_id_collision_found_by_a_deep_run_not_by_the_default_run() -> None:
    # Two workers: a worker's findings (with their exchanges) cross to the parent process.
    assert_found_by_the_deep_run_only(RARE_EVERY, RARE_BUDGET, workers=2)


@pytest.mark.long
@pytest.mark.timeout(900)
def test_a_one_in_20000_id_collision_found_by_a_deep_run_not_by_the_default_run() -> None:
    """One in 20,000 (`make test-long`; docs/guide/deep-runs.md quotes the measured run)."""
    assert_found_by_the_deep_run_only(LONG_RARE_EVERY, LONG_RARE_BUDGET, workers=2)


def assert_found_by_the_deep_run_only(every: int, budget: str, workers: int) -> None:
    with rare_defect_server(every) as target:
        default = run_check(target)
        assert default.verdict("RES-ID-2") == "PASS", default.stdout[-2000:]
        assert "deep" not in default.report["options"]
        deep_run = run_check(target, "--duration", budget, "--workers", str(workers))
    assert deep_run.verdict("RES-ID-2") == "FAIL", (
        deep_run.report.get("options", {}).get("deep"),
        deep_run.stdout[-2000:],
    )
    assert deep_run.returncode == 1
    summary = deep_run.report["options"]["deep"]
    assert summary["judged"]["RES-ID-2"] > 0
    evidence = next(v for v in deep_run.report["verdicts"] if v["clause"] == "RES-ID-2")["evidence"]
    assert any("same id" in e["message"] for e in evidence)
    # Everything else of the server conforms: the deep run blames nothing else.
    assert [f for f in findings(deep_run) if not f.startswith("RES-ID-2")] == []


@pytest.mark.slow
@pytest.mark.parametrize("flavour", [zoo_runner.STRICT, zoo_runner.LENIENT])
def test_conforming_zoo_passes_a_30_s_deep_run_on_two_workers(flavour: str) -> None:
    """Opposite MAY choices, thousands of variants on two workers: no false positive."""
    with zoo_runner.zoo_server(zoo_runner.PYTHON, None, flavour) as target:
        run = run_check(target, "--duration", "30s", "--workers", "2", live=True)
    assert findings(run, ("FAIL", "WARN", "SKIP")) == [], run.stdout[-3000:]
    assert run.returncode == 0, run.stderr[-1000:]
    summary = run.report["options"]["deep"]
    assert summary["workers"] == 2
    assert summary["requests"] > 0
    # The report says how many cases each clause was judged on in the deep phase, in every
    # verdict's ledger too (the terminal's line: `45/45 judged + 1,295 deep`).
    assert summary["judged"]["ERR-2"] == summary["requests"]
    assert summary["judged"]["RES-ID-2"] > 0
    by_clause = {v["clause"]: v["coverage"] for v in run.report["verdicts"]}
    assert by_clause["ERR-2"]["deep"] == summary["judged"]["ERR-2"]
    assert f"+ {summary['judged']['ERR-2']:,} deep" in by_clause["ERR-2"]["summary"]
    assert f"+ {summary['judged']['ERR-2']:,} deep" in run.stdout


@pytest.mark.slow
def test_max_time_shorter_than_duration_ends_the_run_with_a_partial_report() -> None:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, None, zoo_runner.STRICT) as target:
        run = run_check(target, "--duration", "1h", "--max-time", "60", "--workers", "1")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["Error: the run budget of 60 s ran out; the report is partial"]
    summary = run.report["options"]["deep"]
    assert summary["cut_short_by_max_time"] is True
    # The whole-run checks still judged what was sent.
    assert run.verdict("ERR-2") == "PASS"
    assert run.verdict("RES-ID-2") == "PASS"


@pytest.mark.slow
def test_sigint_stops_the_deep_run_writes_the_report_and_exits_130() -> None:
    with (
        zoo_runner.zoo_server(zoo_runner.PYTHON, None, zoo_runner.STRICT) as target,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "report.json"
        proc = subprocess.Popen(
            check_argv(target, report, "--duration", "1h", "--workers", "2"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if "deep phase:" in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
        data = json.loads(report.read_text())
    assert proc.returncode == 130, stderr[-1000:]
    assert stderr.strip().splitlines()[-1].startswith("Error: interrupted")
    assert data["options"]["deep"]["interrupted"] is True
    assert {v["clause"]: v["verdict"] for v in data["verdicts"]}["ERR-2"] == "PASS"
    assert "PASS" in stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration", "10x"], "Error: --duration expects a number with s, m or h (30s, 10m, 1h), got '10x'"),
        (["--duration", "0s"], "Error: --duration must be positive, got '0s'"),
        (["--duration", "30s", "--workers", "0"], "Error: --workers must be between 1 and 8, got 0"),
        (["--workers", "2"], "Error: --workers needs --duration (the default run is sequential)"),
    ],
)
def test_bad_duration_or_workers_is_one_error_line(argv: list[str], message: str) -> None:
    done = subprocess.run(
        [BILLING_KIT, "check", "--base-url", "http://127.0.0.1:9/v1", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [message]


def test_parse_duration_units() -> None:
    assert [deep.parse_duration(t) for t in ("30s", "10m", "1h", "1.5h")] == [30.0, 600.0, 3600.0, 5400.0]


def test_the_same_seed_and_worker_give_the_same_cases() -> None:
    contract = load_contract()
    seeds = {(w, r): deep.derive_seed(7, w, r) for w in range(4) for r in range(1, 50)}
    assert len(set(seeds.values())) == len(seeds)  # every worker and round its own cases
    assert seeds == {(w, r): deep.derive_seed(7, w, r) for w in range(4) for r in range(1, 50)}
    bodies = [{"email": "a@example.com", "name": "Ada"}, {"email": "b@example.com", "metadata": {"k": "v"}}]
    pool = [Planned(None, "POST", "application/json", body, False, "valid", None, ()) for body in bodies]
    first = [p.body for p in mutate.variants(pool, 500, seeds[(0, 1)], contract)]
    again = [p.body for p in mutate.variants(pool, 500, seeds[(0, 1)], contract)]
    other = [p.body for p in mutate.variants(pool, 500, seeds[(1, 1)], contract)]
    assert first == again
    assert first != other
    assert len({b if isinstance(b, bytes) else json.dumps(b, sort_keys=True) for b in first}) > 100  # not copies
    assert pool[0].body == {"email": "a@example.com", "name": "Ada"}  # the pool is not edited


def test_raw_variants_break_req_body_1_or_req_text_1_every_time() -> None:
    """A share of the variants are raw bytes (cut short, NaN, not UTF-8, not an object, too deep, a lone
    surrogate): the generic judge reads each as a MUST break of REQ-BODY-1 or REQ-TEXT-1."""
    from billing_kit.conformance.checks.generic_judge import judge_request

    contract = load_contract()
    bodies = [{"email": "a@example.com", "name": "Zoë"}, {"email": "b@example.com", "metadata": {"k": [1, "v"]}}]
    pool = [Planned(None, "POST", "application/json", body, False, "valid", None, ()) for body in bodies]
    made = list(mutate.variants(pool, 3000, 11, contract))
    raw = [p.body for p in made if p.is_raw]
    assert 0.05 * len(made) < len(raw) < 0.2 * len(made)
    broken: Counter[str] = Counter()
    for body in raw:
        expectation = judge_request(
            contract, content_type="application/json", body=body, auth="valid", idempotency_key=None
        )
        assert {(b.clause, b.strength) for b in expectation.breaks} & {("REQ-BODY-1", "must"), ("REQ-TEXT-1", "must")}
        broken.update({b.label for b in expectation.breaks})
    assert len(broken) >= 4, broken  # malformed, not UTF-8, not an object, too deep, a lone surrogate


def test_round_nonces_are_unique_and_as_long_as_the_run_nonce() -> None:
    nonces = {deep.round_nonce("0123456789ab", w, r) for w in range(8) for r in range(1, 1000)}
    assert len(nonces) == 8 * 999
    assert {len(n) for n in nonces} == {12}


def test_an_exchange_crosses_processes_without_its_resend() -> None:
    from billing_kit.conformance.model import Exchange, RecordedRequest

    exchange = Exchange(RecordedRequest("POST", "http://127.0.0.1:9/v1/customers", [], b"{}", 2), None)
    exchange.resend = lambda: exchange  # a closure, as CheckContext.send sets: not picklable
    copy = pickle.loads(pickle.dumps(exchange))
    assert copy.resend is None and copy.request == exchange.request and exchange.resend is not None


def test_the_ledger_keeps_bounded_evidence() -> None:
    from billing_kit.conformance.model import Finding

    ledger = deep.Ledger()
    for i in range(1000):  # the same finding with other counts: one kept, the rest counted
        ledger.keep(Finding("ERR-2", "violation", f"HTTP 500 ({i} of {i + 5} requests)", check="errors.x"))
    for i in range(1000):  # findings carrying generated values: a bounded number kept
        ledger.keep(Finding("REQ-EMAIL-2", "violation", f"{chr(0x4E00 + i)}@example.com refused", check="request.y"))
    ledger.keep(Finding("RES-1", "inconclusive", "no answer", check="response.z"))
    assert len(ledger.findings) == 1 + deep.DISTINCT_FINDINGS
    assert sum(ledger.repeats.values()) == 999
    assert ledger.dropped == 1000 - deep.DISTINCT_FINDINGS
    other = deep.Ledger(ids={1, 2, 3})
    ledger.ids = {3, 4}
    assert ledger.merge(other) == [3]
    assert ledger.ids == {1, 2, 3, 4}


def test_a_worker_budget_starts_no_request_late_and_gives_each_its_full_timeout() -> None:
    import threading

    from billing_kit.conformance.http import BudgetExhausted

    stop = threading.Event()
    late = deep.StoppableBudget(0.0, stop, timeout=5.0)
    with pytest.raises(BudgetExhausted):
        late.check()  # no request starts past the worker's time
    assert late.remaining() > 4.0  # while one in flight keeps (nearly) its whole timeout
    running = deep.StoppableBudget(600.0, stop, timeout=5.0)
    running.check()
    stop.set()  # SIGINT in the parent
    with pytest.raises(BudgetExhausted):
        running.check()

"""The suite is never the victim: every hostile server mode, end to end through `billing-kit check`.

Each mode of tests/servers/hostile_server.py is checked with short budgets
(`--timeout 2 --max-time 10`; `--max-time 15` for the RES-ID-2 bursts against a megabyte in
every answer) and asserted on what docs/guide/checking-a-server.md promises:

- the documented exit code (1: a FAIL; 2: the budget ran out or the set-up is wrong), no traceback;
- the JSON report written and valid against conformance/report.schema.json, JUnit and HTML written;
- the key in no output in any form (raw, base64 of `key:`/`:key`/the key, URL-encoded, any 12
  characters of it) across stdout, stderr, JSON, HTML and JUnit;
- wall time within `--max-time` + 10 s (the run's own budget, not a speed claim);
- peak RSS of the check process (VmHWM from /proc, written at exit) under 400 MiB.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest

from tests.support.hostile_server import hostile_server
from tests.support.procs import ROOT, serve_in_thread

SCHEMA = json.loads((ROOT / "conformance" / "report.schema.json").read_text())
MAX_TIME = 10.0
TIMEOUT = 2.0
RSS_LIMIT_KIB = 400 << 10
KEY = "sk_test_" + secrets.token_hex(12)

# Runs the CLI in-process and writes, at exit, the process's peak RSS (VmHWM, KiB, from /proc) and
# its own elapsed time from the start of the interpreter's work (imports included).
LAUNCHER = """
import atexit, sys, time
started = time.monotonic()
target = sys.argv[1]
def peak():
    with open('/proc/self/status') as status:
        line = next(l for l in status if l.startswith('VmHWM:'))
    with open(target, 'w') as out:
        out.write(line.split()[1] + ' ' + str(time.monotonic() - started))
atexit.register(peak)
sys.argv = ['billing-kit', 'check', *sys.argv[2:]]
from billing_kit.cli import main
main()
"""


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    elapsed: float
    peak_kib: int
    outputs: dict[str, str]
    report: dict[str, object] | None
    max_time: float = MAX_TIME


def key_forms(key: str) -> list[str]:
    raw = key.encode()
    forms = {
        key,
        quote(key, safe=""),
        base64.b64encode(raw + b":").decode().rstrip("="),
        base64.b64encode(b":" + raw).decode().rstrip("="),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw + b":").decode().rstrip("="),
    }
    # Any 12 consecutive characters of the random part: a cut key is still a leak.
    secret = key[len("sk_test_") :]
    forms.update(secret[i : i + 12] for i in range(0, len(secret) - 11))
    return sorted(forms)


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[str]:
    # A mode that answers every request the same way answers the preflight's create as the API
    # would, so the run meets it on every check (from its first answer it is stopped at the door).
    with hostile_server(request.param, first_ok=request.param in FAILING_MODES) as origin:
        yield f"{origin}/v1"


def run_check(base_url: str, tmp_path: Path, *extra: str, key: str = KEY, max_time: float = MAX_TIME) -> Run:
    files = {name: tmp_path / name for name in ("r.json", "r.html", "r.xml")}
    peak = tmp_path / "peak"
    args = [
        sys.executable,
        "-c",
        LAUNCHER,
        str(peak),
        "--base-url",
        base_url,
        "--api-key",
        key,
        "--seed",
        "1",
        "--examples",
        "3",
        "--timeout",
        str(TIMEOUT),
        "--max-time",
        str(max_time),
        "--report-json",
        str(files["r.json"]),
        "--html",
        str(files["r.html"]),
        "--junit",
        str(files["r.xml"]),
        *extra,
    ]
    # The outer timeout only guards against a hang; the time claim is the process's own elapsed time.
    proc = subprocess.run(args, capture_output=True, text=True, timeout=max_time + 120, cwd=tmp_path)
    peak_kib, elapsed = peak.read_text().split() if peak.exists() else ("0", "inf")
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr}
    outputs.update({name: path.read_text(errors="replace") for name, path in files.items() if path.exists()})
    report = json.loads(outputs["r.json"]) if "r.json" in outputs else None
    print(f"exit {proc.returncode}, peak RSS {int(peak_kib) >> 10} MiB, {float(elapsed):.1f} s in the process")
    return Run(proc, float(elapsed), int(peak_kib), outputs, report, max_time)


def assert_victim_free(run: Run, exit_codes: tuple[int, ...]) -> None:
    both = run.proc.stdout + run.proc.stderr
    assert "Traceback" not in both, run.proc.stderr[-3000:]
    assert run.proc.returncode in exit_codes, (run.proc.returncode, run.proc.stdout[-2000:], run.proc.stderr)
    if run.proc.returncode == 2:
        lines = run.proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), run.proc.stderr
    assert run.report is not None, "the JSON report was not written"
    jsonschema.validate(run.report, SCHEMA)
    assert {"r.html", "r.xml"} <= set(run.outputs)
    for name, text in run.outputs.items():
        for form in key_forms(KEY):
            assert form not in text, f"{name} carries the key as {form!r}"
    # The run held its own budget: it ran under --max-time and, when the budget ended it (exit 2), says
    # so. How long that takes in seconds depends on the machine's load, so the promise "within --max-time
    # + 10 s" is measured by bench/hostile_time.py (figures in docs/guide/checking-a-server.md), not asserted here.
    options = run.report.get("options") or {}  # a run the preflight refused records no options
    assert options.get("max_time", run.max_time) == run.max_time  # type: ignore[union-attr]
    if run.report["budget_exhausted"]:
        assert run.proc.returncode == 2 and "ran out" in run.proc.stderr, run.proc.stderr
    assert 0 < run.peak_kib < RSS_LIMIT_KIB, f"peak RSS {run.peak_kib} KiB"


FAILING_MODES = [
    "drip-headers",
    "drip-body",
    "continue-forever",
    "chunked-forever",
    "huge-json",
    "gzip-bomb",
    "deep-brackets",
    "echo-auth",
    "echo-query",
    "echo-base64",
    "retry-after-sup2",
]


@pytest.mark.slow
@pytest.mark.parametrize("hostile", FAILING_MODES, indirect=True)
def test_hostile_server_is_judged_not_obeyed(hostile: str, tmp_path: Path) -> None:
    run = run_check(hostile, tmp_path)
    # A FAIL found (1), or the budget ran out first (2, the report still written and partial).
    assert_victim_free(run, (1, 2))
    assert "This run creates about" in run.proc.stdout and "at most 32 connections" in run.proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("hostile", ["crash-mid-run"], indirect=True)
def test_a_server_that_dies_stops_the_run(hostile: str, tmp_path: Path) -> None:
    run = run_check(hostile, tmp_path)
    assert_victim_free(run, (1,))
    assert run.report is not None
    assert "stopped accepting connections" in json.dumps(run.report) or "stopped" in run.proc.stdout


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("refuse-key", "the server refused the API key"),
        ("no-prefix", "does the base URL include the API prefix, e.g. /v1?"),
    ],
    indirect=["hostile"],
)
def test_set_up_mistakes_are_named_before_any_check(hostile: str, expected: str, tmp_path: Path) -> None:
    base_url = hostile.removesuffix("/v1") if "prefix" in expected else hostile
    run = run_check(base_url, tmp_path)
    assert_victim_free(run, (2,))
    assert expected in run.proc.stderr
    assert run.report is not None and expected in json.dumps(run.report)


@pytest.mark.parametrize("hostile", ["echo-auth"], indirect=True)
def test_rate_and_connection_cap_are_announced(hostile: str, tmp_path: Path) -> None:
    run = run_check(hostile, tmp_path, "--rate", "5", "--max-connections", "4")
    assert_victim_free(run, (1, 2))
    assert "at most 5 requests/s, at most 4 connections" in run.proc.stdout
    assert run.report is not None
    assert (run.report["options"]["rate"], run.report["options"]["max_connections"]) == (5.0, 4)  # type: ignore[index]


@pytest.mark.parametrize("hostile", ["refuse-key"], indirect=True)
def test_a_refused_key_prints_only_the_set_up_error(hostile: str, tmp_path: Path) -> None:
    # The caps describe what the run would send; a refused key ends it, so the error is the one line.
    run = run_check(hostile, tmp_path, "--rate", "5", "--max-connections", "4")
    assert_victim_free(run, (2,))
    assert run.proc.stdout == "" and run.proc.stderr.startswith("Error: the server refused the API key")
    assert run.report is not None and run.report["options"]["preflight"].startswith("the server refused")  # type: ignore[index]


@pytest.mark.parametrize(
    ("mode", "answer"),
    [
        ("deep-brackets", "201 application/json whose body is not a JSON object"),
        ("huge-json", "201 application/json whose body is not a JSON object"),
        ("retry-after-sup2", "503 application/json"),
    ],
)
def test_not_the_api_from_the_first_answer_is_stopped_at_the_door(mode: str, answer: str, tmp_path: Path) -> None:
    with hostile_server(mode) as origin:
        run = run_check(f"{origin}/v1", tmp_path)
    assert_victim_free(run, (2,))
    assert run.proc.stdout == "", run.proc.stdout
    assert run.proc.stderr.startswith(f"Error: the server answered {answer}"), run.proc.stderr
    assert run.proc.stderr.rstrip().endswith("is this the Customers API?"), run.proc.stderr
    assert run.report is not None and run.report["requests_sent"] == 1
    broken = {v["clause"]: v["verdict"] for v in run.report["verdicts"] if v["verdict"] != "SKIP"}  # type: ignore[attr-defined]
    assert broken == ({"RES-1": "FAIL", "ERR-2": "FAIL"} if answer.startswith("5") else {"RES-1": "FAIL"}), broken


def test_a_server_that_is_not_the_api_gets_one_request(tmp_path: Path) -> None:
    """Python's stock `http.server` answers every POST 501 text/html: one create, exit 2, named."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with serve_in_thread(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as base_url:
        run = run_check(base_url, tmp_path)
    assert_victim_free(run, (2,))
    assert "answered 501 text/html to a valid create" in run.proc.stderr, run.proc.stderr
    assert run.report is not None and run.report["requests_sent"] == 1
    notes = {v["clause"]: v["note"] for v in run.report["verdicts"]}  # type: ignore[attr-defined]
    assert notes["RES-1"].startswith("stopped at the door") and notes["AUTH-2"].startswith("not judged")


# `--only RES-ID-2`: the preflight's create, 20 concurrent creates and the id burst, each answer a
# megabyte. Measured on the shared 2-core machine: the run sends all of them in 4 to 7 s; with the
# redactor's former regular expression (about 37 ms of CPU per escaped-quotes answer) it had sent 466
# when 15 s ran out. Hence 15 s rather than the other modes' 10: room for a busy machine, none for that.
BURST_MAX_TIME = 15.0
# A million digits in every answer: two busy loops beside the run sent 707 of them in 15 s.
MEMORY_MAX_TIME = 60.0


def burst_requests() -> int:
    from billing_kit.conformance.checks import id_burst, response

    return 1 + response.BURST + id_burst.burst_size()


def res_id_2(run: Run) -> dict[str, object]:
    assert run.report is not None
    verdicts = {v["clause"]: v for v in run.report["verdicts"]}  # type: ignore[attr-defined]
    assert set(verdicts) == {"RES-ID-2"}, verdicts
    return verdicts["RES-ID-2"]  # type: ignore[no-any-return]


def test_a_megabyte_of_escaped_quotes_costs_no_more_than_any_megabyte(tmp_path: Path) -> None:
    """Every answer `{"name": "\\"\\"…` (1 MB, the string never closed): redacted in one linear pass."""
    with hostile_server("escaped-quotes-1mb", first_ok=True) as origin:
        run = run_check(f"{origin}/v1", tmp_path, "--only", "RES-ID-2", max_time=BURST_MAX_TIME)
    assert_victim_free(run, (0,))
    assert run.report is not None and not run.report["budget_exhausted"], run.proc.stderr
    assert run.report["requests_sent"] == burst_requests()
    # One create whose answer is a customer (the preflight's): the bursts' 201s are not JSON, so they
    # carry no id to compare (they break RES-1, not selected here). One id cannot repeat: not a PASS.
    verdict = res_id_2(run)
    assert verdict["verdict"] == "SKIP" and "creates succeeded" in str(verdict["note"]), verdict
    assert [c["id"] for c in run.report["created"]] == [c["id"] for c in run.report["created"][:1]]  # type: ignore[attr-defined]


def test_a_million_digit_number_in_every_answer_is_not_kept_whole(tmp_path: Path) -> None:
    """Every 201 a customer whose metadata holds a 1,000,000-digit number: the run keeps a rounded copy."""
    with hostile_server("million-digit-number", first_ok=True) as origin:
        # What this guards is memory (the peak RSS below), not time: a budget a busy machine cannot cut short.
        run = run_check(f"{origin}/v1", tmp_path, "--only", "RES-ID-2", max_time=MEMORY_MAX_TIME)
    assert_victim_free(run, (0,))  # peak RSS under RSS_LIMIT_KIB among the rest
    assert run.report is not None and not run.report["budget_exhausted"], run.proc.stderr
    requests = burst_requests()
    assert run.report["requests_sent"] == requests
    # Every answer is a valid create with a fresh id: all of them judged, from what the run kept of them.
    verdict = res_id_2(run)
    coverage = verdict["coverage"]
    assert verdict["verdict"] == "PASS" and coverage["judged"] == coverage["sent"], verdict  # type: ignore[index]
    assert len({c["id"] for c in run.report["created"]}) == requests  # type: ignore[attr-defined]


def test_a_million_digit_number_is_quoted_as_evidence(tmp_path: Path) -> None:
    """RES-ECHO-1's evidence quotes the metadata that came back: a number past 4,000 digits is a Decimal."""
    with hostile_server("million-digit-number", first_ok=True) as origin:
        run = run_check(f"{origin}/v1", tmp_path, "--case", "echo-integers-at-ijson-edges")
    assert_victim_free(run, (1,))
    assert run.report is not None and not run.report["internal_errors"], run.report["internal_errors"]
    echo = next(v for v in run.report["verdicts"] if v["clause"] == "RES-ECHO-1")  # type: ignore[attr-defined]
    metadata = next(e for e in echo["evidence"] if "metadata not echoed" in e["title"])
    assert metadata["actual"].startswith('{"n": 999') and len(metadata["actual"]) < 200, metadata

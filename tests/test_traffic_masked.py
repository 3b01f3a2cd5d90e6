"""`billing-kit judge` on a HAR whose recorder masked the secrets it saw.

Schemathesis writes `Authorization: [Filtered]` and `www-authenticate: [Filtered]`
unless run with `--output-sanitize false`. A masked header is unknown, not absent
or wrong: the clauses that need it are SKIP with the reason and the flag that
records it, said once at the top of the output, and the correct reference server
gets no FAIL from it. The same traffic recorded unmasked is judged normally.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from billing_kit.conformance.traffic import masked
from tests.support.procs import ROOT, VENV_BIN
from tests.support.reference import ReferenceServer, start_reference_server
from tests.support.traffic import judge_file, party, verdicts


def _record(server: ReferenceServer, har: Path, sanitize: bool) -> Path:
    argv = [
        str(VENV_BIN / "st"), "run", str(ROOT / "openapi.yaml"), "--url", server.base_url,
        "-H", f"Authorization: Bearer {server.sandbox_key}", "--report", "har", "--report-har-path", str(har),
        "--output-sanitize", "true" if sanitize else "false", "--max-examples", "10",
        "--phases", "examples,coverage,fuzzing", "--generation-deterministic",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=har.parent)
    assert har.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    return har


@pytest.fixture(scope="module")
def hars(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    """Each recording against a reference of its own: a server that has seen an Idempotency-Key
    before the recording began answers its reuse 409, which the recording cannot explain."""
    tmp = tmp_path_factory.mktemp("masked")
    recorded = {}
    for flag in (True, False):
        with start_reference_server(tmp / f"server-{flag}") as server:
            recorded[flag] = _record(server, tmp / f"sanitize-{flag}.har", flag)
    return recorded


def test_a_masked_recording_blames_no_one_and_says_how_to_record_it(hars: dict[bool, Path], tmp_path: Path) -> None:
    text = hars[True].read_text()
    assert "[Filtered]" in text  # the recorder really masked the headers
    _code, report, stdout, stderr = judge_file(hars[True], tmp_path)
    got = verdicts(report)
    # Schemathesis sends requests that break the contract on purpose: those are the client's, never the server's.
    assert party(report, "server") == {}, party(report, "server")
    _, unmasked, _, _ = judge_file(hars[False], tmp_path)
    assert set(party(report, "client")) <= set(party(unmasked, "client"))
    assert not stderr, stderr
    notes = {str(v["clause"]): str(v["note"]) for v in report["verdicts"]}
    assert got["AUTH-3"] == "SKIP", notes["AUTH-3"]  # every 401's WWW-Authenticate was masked
    for clause in ("AUTH-2", "AUTH-3", "RES-ENV-1"):
        assert "masked" in notes[clause], notes[clause]
    head = stdout.splitlines()[0]
    assert "masked" in head and "--output-sanitize false" in head, stdout[:500]
    assert sum("--output-sanitize false" in line for line in stdout.splitlines()) == 1, stdout
    assert report["options"]["masked"]["authorization"] > 0
    assert "--output-sanitize false" in report["options"]["masked_note"]


def test_the_same_traffic_unmasked_is_judged_normally(hars: dict[bool, Path], tmp_path: Path) -> None:
    assert "[Filtered]" not in hars[False].read_text()
    _code, report, stdout, stderr = judge_file(hars[False], tmp_path)
    got = verdicts(report)
    assert party(report, "server") == {}, report["options"]["parties"]["server"]
    assert got["AUTH-3"] == "PASS" and got["AUTH-2"] in {"PASS", "FAIL"}, got  # a FAIL here is the client's
    assert "masked" not in stdout and not report["options"].get("masked")
    assert not stderr, stderr


@pytest.mark.parametrize("value", ["[Filtered]", "***", "********", "REDACTED", "[REDACTED]", "<hidden>", "Bearer ***"])
def test_every_documented_mask_is_recognised(value: str) -> None:
    assert masked.is_masked(value)


@pytest.mark.parametrize("value", ["Bearer sk_test_abcdefgh12345678", "", "Basic dXNlcjpwYXNz", 'Bearer realm="api"'])
def test_real_values_are_not_masks(value: str) -> None:
    assert not masked.is_masked(value)

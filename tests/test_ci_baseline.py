"""`check --baseline`: a round trip on zoo defects, with the real CLI against real zoo servers.

Defect A (email-optional, REQ-EMAIL-1) is accepted into a baseline; then A alone
passes with the same seed and with another, A + B (metadata-array-accepted,
REQ-META-1, one server with both defects) fails naming only B, and the
conforming server passes with A's entries listed FIXED.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_kit.conformance import baseline
from tests.servers import zoo_runner
from tests.support import forkcli
from tests.support.procs import BILLING_KIT

A, B = "email-optional", "metadata-array-accepted"
A_CLAUSE, B_CLAUSE = "REQ-EMAIL-1", "REQ-META-1"
ONLY = f"{A_CLAUSE},{B_CLAUSE}"
ROW = re.compile(r"^  (NEW|ACCEPTED|FIXED)\s+(\S+)\s+([0-9a-f]{16})  (.*)$", re.MULTILINE)


def check(target: zoo_runner.Target, path: Path, *extra: str, seed: int = 1) -> subprocess.CompletedProcess[str]:
    argv = [
        "check", "--base-url", target.base_url, "--only", ONLY, "--examples", "5",
        "--seed", str(seed), "--baseline", str(path), *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env["BILLING_API_KEY"] = target.keys.sandbox
    return forkcli.run(argv, timeout=180, env=env, cwd=path.parent)


def rows(stdout: str, mark: str) -> list[tuple[str, str]]:
    return [(clause, fp) for m, clause, fp, _ in ROW.findall(stdout) if m == mark]


@pytest.fixture(scope="module")
def accepted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, zoo_runner.Target]]:
    """The baseline written on defect A, and A's server (kept up for the next runs)."""
    path = tmp_path_factory.mktemp("baseline") / "billing-kit-baseline.toml"
    with zoo_runner.zoo_server(zoo_runner.PYTHON, A) as target:
        done = check(target, path, "--baseline-update")
        assert done.returncode == 0, done.stdout + done.stderr
        yield path, target


def test_update_writes_a_small_sorted_reviewable_file(accepted: tuple[Path, zoo_runner.Target]) -> None:
    path, _ = accepted
    entries = baseline.load(path)
    assert entries and {e.clause for e in entries} == {A_CLAUSE}
    assert entries == sorted(entries)
    text = path.read_text()
    assert text.startswith("# billing-kit baseline")
    assert text.count("[[accepted]]") == len(entries)
    for entry in entries:
        assert entry.summary and re.fullmatch(r"[0-9a-f]{16}", entry.fingerprint)
    assert baseline.render(entries) == text  # rewriting is stable


def test_a_passes_with_the_same_seed_and_another(accepted: tuple[Path, zoo_runner.Target]) -> None:
    path, target = accepted
    entries = {(e.clause, e.fingerprint) for e in baseline.load(path)}
    without = forkcli.run(
        ["check", "--base-url", target.base_url, "--api-key", target.keys.sandbox, "--only", ONLY,
         "--examples", "5", "--seed", "1"],
        timeout=180,
    )  # fmt: skip
    assert without.returncode == 1, "without the baseline defect A fails the run"
    for seed in (1, 2):
        report = path.parent / f"report-{seed}.json"
        done = check(target, path, "--report-json", str(report), seed=seed)
        assert done.returncode == 0, done.stdout + done.stderr
        assert set(rows(done.stdout, "ACCEPTED")) == entries, done.stdout
        assert rows(done.stdout, "NEW") == [] and rows(done.stdout, "FIXED") == []
        # The report says what the process exit says: the baseline decided it.
        document = json.loads(report.read_text())
        assert document["exit_code"] == 0
        assert document["options"]["baseline"] == {
            "file": str(path), "new": 0, "accepted": len(entries), "fixed": 0, "exit_code": 0,
        }  # fmt: skip


def test_a_plus_b_fails_naming_only_b(accepted: tuple[Path, zoo_runner.Target]) -> None:
    path, _ = accepted
    before = path.read_text()
    with zoo_runner.zoo_server(zoo_runner.PYTHON, A, extra=["--defect", B]) as target:
        done = check(target, path)
    assert done.returncode == 1, done.stdout + done.stderr
    new = rows(done.stdout, "NEW")
    assert new and {clause for clause, _ in new} == {B_CLAUSE}, done.stdout
    assert {clause for clause, _ in rows(done.stdout, "ACCEPTED")} == {A_CLAUSE}
    assert path.read_text() == before  # only --baseline-update writes


def test_conforming_server_lists_a_as_fixed(accepted: tuple[Path, zoo_runner.Target]) -> None:
    path, _ = accepted
    entries = {(e.clause, e.fingerprint) for e in baseline.load(path)}
    with zoo_runner.zoo_server(zoo_runner.PYTHON) as target:
        done = check(target, path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(rows(done.stdout, "FIXED")) == entries
    assert rows(done.stdout, "NEW") == [] and rows(done.stdout, "ACCEPTED") == []


def test_baseline_update_needs_a_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [BILLING_KIT, "check", "--base-url", "http://127.0.0.1:9/v1", "--baseline-update"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip() == "Error: --baseline-update needs --baseline FILE"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("broken address 'a@b' (no dot) accepted", "broken address 'zz@q.' (no dot) accepted"),
        ("generic phase: email missing: not rejected (2 requests)", "generic phase: email missing: not rejected"),
        ("id cus_8e044e592ac0b0285682cc6f reused", "id cus_0334b5c90cd7322bf189cae4 reused"),
        ("Idempotency-Key gen-a9f3e00ef87c-000020 ignored", "Idempotency-Key gen-0b1c2d3e4f50-000021 ignored"),
    ],
)
def test_fingerprints_ignore_run_specific_values(one: str, other: str) -> None:
    assert baseline.fingerprint("C-1", "c.k", None, one) == baseline.fingerprint("C-1", "c.k", None, other)


def test_fingerprints_keep_what_the_finding_is() -> None:
    same = baseline.fingerprint("C-1", "c.k", "case-a", "name refused")
    assert same != baseline.fingerprint("C-2", "c.k", "case-a", "name refused")
    assert same != baseline.fingerprint("C-1", "c.k", "case-b", "name refused")
    assert same != baseline.fingerprint("C-1", "c.k", "case-a", "email refused")

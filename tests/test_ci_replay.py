"""`billing-kit replay`: a defect's report replayed against the same server and a conforming one.

Each defect's report comes from a real `check --only` run against a zoo server.
Replayed against that server (keys from $BILLING_API_KEY, never from the report)
every finding is still failing, exit 1; against a conforming zoo server every
finding is fixed, exit 0. The defects cover each kind of judge the replay reuses:
a corpus case (corpora.judge_case), raw bytes that are not UTF-8 and an echo of
text (body.run_cases), the answer to a valid create (response.judge_created);
generic-phase and concurrency findings are re-run as a scenario.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import zoo_runner
from tests.support import forkcli

DEFECTS = {  # defect -> the clause it breaks, a corpus case among its findings (or None)
    "email-optional": ("REQ-EMAIL-1", "email-missing"),
    "nul-mangled": ("REQ-TEXT-1", None),
    "status-200": ("RES-1", None),
    "id-collide": ("RES-ID-2", None),  # a burst of concurrent creates: re-run as a scenario
    # Bodies that are not UTF-8: recorded as \xNN in the report, resent as the original bytes.
    "accepts-invalid-utf8": ("REQ-BODY-1", None),
}
HOW = {  # how each defect's findings are replayed: resent alone, re-run as a scenario, or both
    "email-optional": {"resent", "scenario"},
    "nul-mangled": {"resent"},
    "status-200": {"resent", "scenario"},
    "id-collide": {"scenario"},
    "accepts-invalid-utf8": {"resent"},
}
CASE_DEFECT = "email-optional"  # its findings name corpus cases: --case, a missing key, a cut body
LINE = re.compile(r"^(STILL FAILING|FIXED|NOT REPLAYED)\s+(\S+)\s+(.*)$", re.MULTILINE)


def replay(report: Path, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    if key is not None:
        env["BILLING_API_KEY"] = key
    return forkcli.run(["replay", str(report), *args], timeout=300, env=env)


def statuses(stdout: str) -> list[str]:
    return [status for status, _, _ in LINE.findall(stdout)]


def hows(stdout: str) -> set[str]:
    lines = [line.strip() for line in stdout.splitlines() if line.startswith(" ")]
    return {
        "resent" if ": resent: HTTP" in line else "scenario" for line in lines if "re-run" in line or "resent" in line
    }


@pytest.fixture(scope="module")
def conforming() -> Iterator[zoo_runner.Target]:
    with zoo_runner.zoo_server(zoo_runner.PYTHON) as target:
        yield target


@pytest.fixture(scope="module", params=sorted(DEFECTS))
def recorded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, zoo_runner.Target]]:
    """(defect, its report, its server still running)."""
    defect: str = request.param
    clause, _ = DEFECTS[defect]
    with zoo_runner.zoo_server(zoo_runner.PYTHON, defect) as target:
        run = zoo_runner.run_check(target, only=[clause])
        assert run.returncode == 1, run.stdout + run.stderr
        path = tmp_path_factory.mktemp("replay") / f"{defect}.json"
        path.write_text(json.dumps(run.report))
        yield defect, path, target


def test_the_report_holds_no_key(recorded: tuple[str, Path, zoo_runner.Target]) -> None:
    _, path, target = recorded
    assert target.keys.sandbox not in path.read_text()


def test_same_server_still_failing(recorded: tuple[str, Path, zoo_runner.Target]) -> None:
    defect, path, target = recorded
    done = replay(path, target.keys.sandbox)
    assert done.returncode == 1, done.stdout + done.stderr
    found = statuses(done.stdout)
    assert found and set(found) == {"STILL FAILING"}, done.stdout
    assert hows(done.stdout) == HOW[defect], done.stdout


def test_conforming_server_fixed(recorded: tuple[str, Path, zoo_runner.Target], conforming: zoo_runner.Target) -> None:
    defect, path, _ = recorded
    done = replay(path, conforming.keys.sandbox, "--base-url", conforming.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    found = statuses(done.stdout)
    assert found and set(found) == {"FIXED"}, done.stdout
    assert hows(done.stdout) == HOW[defect], done.stdout


@pytest.mark.parametrize("recorded", [CASE_DEFECT], indirect=True)
def test_one_case_and_clause_selection(recorded: tuple[str, Path, zoo_runner.Target]) -> None:
    defect, path, target = recorded
    clause, case = DEFECTS[defect]
    assert case is not None
    done = replay(path, target.keys.sandbox, "--case", case)
    assert done.returncode == 1
    assert [(s, c) for s, c, _ in LINE.findall(done.stdout)] == [("STILL FAILING", clause)]
    other = replay(path, target.keys.sandbox, "--clause", "AUTH-1")
    assert other.returncode == 2 and other.stderr.startswith("Error: ")


@pytest.mark.parametrize("recorded", [CASE_DEFECT], indirect=True)
def test_without_a_key_nothing_is_sent_with_one(recorded: tuple[str, Path, zoo_runner.Target]) -> None:
    defect, path, _ = recorded
    _, case = DEFECTS[defect]
    assert case is not None
    done = replay(path, None, "--case", case)
    assert done.returncode == 2, done.stdout
    assert statuses(done.stdout) == ["NOT REPLAYED"]
    assert "could not be replayed: give --api-key or $BILLING_API_KEY" in done.stdout


@pytest.mark.parametrize("recorded", [CASE_DEFECT], indirect=True)
def test_a_truncated_body_is_not_replayed(recorded: tuple[str, Path, zoo_runner.Target], tmp_path: Path) -> None:
    defect, path, target = recorded
    _, case = DEFECTS[defect]
    assert case is not None
    document: dict[str, Any] = json.loads(path.read_text())
    for verdict in document["verdicts"]:
        for item in verdict["evidence"]:
            if item.get("case") == case:
                request = item["exchange"]["request"]
                request["body"] = "x" * 1500 + "… (2000000 bytes in all)"  # as the report cuts a big body
                request["body_size"] = 2_000_000
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(document))
    done = replay(cut, target.keys.sandbox, "--case", case)
    assert done.returncode == 2, done.stdout
    assert "could not be replayed: body not recorded whole" in done.stdout


@pytest.mark.parametrize(
    "body",
    [b'{"name": "plain"}', b'{"name": "a\xffb"}', b'{"name": "\xc0\xaf"}', rb'{"name": "\x41 as text"}', b""],
)
def test_recorded_bodies_come_back_byte_for_byte(body: bytes) -> None:
    from billing_kit.conformance.jsonsafe import excerpt
    from billing_kit.conformance.replay import recorded_body

    assert recorded_body({"body": excerpt(body, 1500), "body_size": len(body)}) == body


def test_an_ambiguous_excerpt_is_not_guessed() -> None:
    from billing_kit.conformance.jsonsafe import excerpt
    from billing_kit.conformance.replay import NotReplayable, recorded_body

    body = rb'{"name": "\xff"}'.replace(b"\\xff", b"\\xff\xff")  # the text \xff beside the byte 0xFF
    with pytest.raises(NotReplayable, match="not recorded exactly"):
        recorded_body({"body": excerpt(body, 1500), "body_size": len(body)})

"""`billing-kit check --case ID`: one corpus case alone, as h2spec runs one test by its id."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import load_all
from tests.support import forkcli
from tests.support.reference import ReferenceServer
from tests.support.zoo import SANDBOX_KEY, zoo


def check_case(base_url: str, key: str, case: str, out: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    report = out / "r.json"
    proc = forkcli.run(
        ["check", "--base-url", base_url, "--case", case, "--confirm", "0", "--report-json", str(report)],
        timeout=300,
        env={**env, "BILLING_API_KEY": key},
    )
    return proc, json.loads(report.read_text()) if report.exists() else None


def verdicts(report: Any) -> dict[str, str]:
    return {v["clause"]: v["verdict"] for v in report["verdicts"]}


def test_a_case_runs_alone_on_its_clause(reference_server: ReferenceServer, tmp_path: Path) -> None:
    proc, report = check_case(reference_server.base_url, reference_server.sandbox_key, "put-on-collection", tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert verdicts(report) == {"ERR-4": "PASS"}
    err4 = next(v for v in report["verdicts"] if v["clause"] == "ERR-4")
    assert err4["checks"] == ["errors.other_methods"]
    assert err4["coverage"]["judged"] == 1, err4  # that one case, not the other methods


def test_a_case_with_spec_and_run_placeholders(reference_server: ReferenceServer, tmp_path: Path) -> None:
    proc, report = check_case(reference_server.base_url, reference_server.sandbox_key, "unknown-live-key", tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert verdicts(report) == {"AUTH-2": "PASS"}
    assert next(v for v in report["verdicts"] if v["clause"] == "AUTH-2")["coverage"]["judged"] == 1


def test_a_case_alone_catches_its_defect(tmp_path: Path) -> None:
    with zoo("405-no-allow") as base_url:
        proc, report = check_case(base_url, SANDBOX_KEY, "delete-on-collection", tmp_path)
    assert verdicts(report) == {"ERR-4": "WARN"}, proc.stdout[-2000:]
    assert proc.returncode == 0  # a SHOULD: exit 1 only under --strict


def test_an_unknown_case_is_one_error_line_with_close_matches(tmp_path: Path) -> None:
    proc, report = check_case("http://127.0.0.1:9/v1", SANDBOX_KEY, "delete-on-colection", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: "), proc.stderr
    assert "close matches: delete-on-collection" in proc.stderr
    assert report is None


def test_every_corpus_has_an_owning_check() -> None:
    owned = {name for spec in load_all() for name in spec.corpora}
    assert set(corpora.corpus_names()) <= owned
    assert owned <= set(corpora.corpus_names())


def test_case_ids_are_unique_across_corpora() -> None:
    ids = corpora.case_ids()
    assert len(ids) == len(set(ids))


def test_fixed_cases_read_spec_and_run_values() -> None:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.contract import load_contract
    from billing_kit.conformance.http import Budget, Client, ClientOptions
    from billing_kit.conformance.redact import Redactor

    contract = load_contract()
    config = RunConfig(base_url="http://127.0.0.1:9/v1", api_key=SANDBOX_KEY)
    client = Client(ClientOptions(base_url=config.base_url), Budget(5), Redactor([]))
    ctx = CheckContext(contract, config, client, nonce="n0nce")
    client.close()
    live = contract.prefix_of_environment(contract.live_environment)
    matrix = {case.id: case for case in corpora.load_for_run("auth_matrix", ctx)}
    unknown = matrix["unknown-live-key"]
    assert unknown.auth["raw"].startswith(f"Bearer {live}") and "{" not in unknown.auth["raw"]
    assert unknown.description == f"an unknown well-formed {contract.live_environment} key"
    assert corpora.secret_of(unknown) == unknown.auth["raw"].partition(" ")[2]
    assert corpora.secret_of(matrix["key-without-scheme"]) == SANDBOX_KEY
    assert corpora.secret_of(matrix["bearer-empty-token"]) is None
    tokens = [matrix[i].auth["raw"].partition("_")[2].partition("_")[2] for i in ("prefix-pk-live", "prefix-sk-prod")]
    assert len(tokens[0]) == 24 and tokens[0] != tokens[1]  # a fresh {unknown_token} per case
    breaks = {case.id: case for case in corpora.load_for_run("must_breaks", ctx)}
    assert breaks["req-len-1-name-too-long"].body["name"] == "x" * (contract.max_lengths["name"] + 1)
    assert breaks["auth-2-no-authorization"].body == {"email": "err1-n0nce@example.com"}


def test_an_unknown_placeholder_is_refused() -> None:
    document = {"description": "d", "cases": [{"id": "a", "clause": "ERR-1", "description": "{nope}", "expect": "may"}]}
    try:
        corpora.validate(document, "x.json")
    except corpora.CorpusError as exc:
        assert "unknown placeholder {nope}" in str(exc)
    else:
        raise AssertionError("an unknown placeholder was accepted")

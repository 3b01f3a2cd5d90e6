"""`billing-kit diff`: exit codes and output, and `diff --check` against the reference server.

The specs are the project's openapi.yaml and copies edited in the test (values read
from the spec, the edited value derived from it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.specdiff import render
from tests.support.procs import free_port
from tests.support.reference import ReferenceServer, billing_kit
from tests.test_specdiff import SPEC, Spec, operation, original, request_schema, string_field_with_limit, write


def narrowed(tmp_path: Path) -> tuple[Path, str, int]:
    """A copy of the spec whose first length-limited request field allows half as much."""
    spec = original()
    field = string_field_with_limit(spec)
    request_schema(spec)["properties"][field]["maxLength"] //= 2
    return write(tmp_path, "narrowed.yaml", spec), field, request_schema(spec)["properties"][field]["maxLength"]


def reworded(tmp_path: Path) -> Path:
    spec: Spec = copy.deepcopy(original())
    operation(spec)["description"] += " Reworded."
    for prop in request_schema(spec)["properties"].values():
        prop["description"] = prop.get("description", "") + " (reworded)"
    return write(tmp_path, "reworded.yaml", spec)


def sandbox_key() -> str:
    """A well-formed sandbox key (its prefix read from the spec) that no server knows."""
    contract = load_contract(SPEC)
    return contract.prefix_of_environment(contract.sandbox_environment) + "0" * 24


def check_args(server: ReferenceServer) -> list[str]:
    return ["--check", server.base_url, "--api-key", server.sandbox_key]


def test_a_narrowed_limit_fails_under_fail_on_breaking(tmp_path: Path) -> None:
    new, field, limit = narrowed(tmp_path)
    done = billing_kit(["diff", str(SPEC), str(new), "--fail-on", "breaking"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "REQ-LEN-1" in done.stdout and f"/properties/{field}/maxLength" in done.stdout
    assert f"→ {limit}" in done.stdout and "CLIENTS" in done.stdout
    assert billing_kit(["diff", str(SPEC), str(new)]).returncode == 0, "--fail-on none is the default"


def test_only_descriptions_changed_exits_0_under_fail_on_breaking(tmp_path: Path) -> None:
    new = reworded(tmp_path)
    done = billing_kit(["diff", str(SPEC), str(new), "--fail-on", "breaking"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 break clients, 0 break implementations, 0 unclassified" in done.stdout
    assert billing_kit(["diff", str(SPEC), str(new), "--fail-on", "any"]).returncode == 1


def test_the_same_spec_has_no_changes() -> None:
    done = billing_kit(["diff", str(SPEC), str(SPEC), "--fail-on", "any"])
    assert done.returncode == 0 and "No changes" in done.stdout


def test_json_lists_every_change_with_pointer_clause_and_party(tmp_path: Path) -> None:
    new, field, limit = narrowed(tmp_path)
    done = billing_kit(["diff", str(SPEC), str(new), "--format", "json"])
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["breaking"] is True and document["counts"]["clients"] == 1
    (change,) = document["changes"]
    assert change["pointer"].endswith(f"/properties/{field}/maxLength")
    assert change["clause"] == "REQ-LEN-1" and change["breaks"] == ["clients"]
    assert change["clauses"] == ["REQ-LEN-1", "ERR-1"], "ERR-1 follows every MUST of REQ"
    assert change["after"] == limit and change["before"] == 2 * limit


def test_markdown_stays_short_enough_for_a_pull_request_comment(tmp_path: Path) -> None:
    spec = original()
    many = 3 * render.MARKDOWN_ROWS
    for number in range(many):
        spec["info"][f"x-note-{number}"] = f"note {number}"
    new = write(tmp_path, "many.yaml", spec)
    done = billing_kit(["diff", str(SPEC), str(new), "--format", "markdown"])
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == render.MARKDOWN_ROWS + 1, "a header and at most MARKDOWN_ROWS changes"
    assert f"… and {many - render.MARKDOWN_ROWS} more (`billing-kit diff` lists them all)." in done.stdout
    assert len(done.stdout) < 8000, "a pull-request comment, not a report"
    listed = json.loads(billing_kit(["diff", str(SPEC), str(new), "--format", "json"]).stdout)["changes"]
    assert len(listed) == many, "JSON drops nothing"


def test_a_spec_that_does_not_load_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: [unclosed\n")
    for args in ([str(SPEC), str(broken)], [str(tmp_path / "missing.yaml"), str(SPEC)]):
        done = billing_kit(["diff", *args])
        assert done.returncode == 2, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
        assert "Traceback" not in done.stderr


def test_a_check_option_without_check_is_a_usage_error() -> None:
    done = billing_kit(["diff", str(SPEC), str(SPEC), "--api-key", "sk_test_x"])
    assert done.returncode == 2 and done.stderr.startswith("Error: --api-key is a check option"), done.stderr


def test_diff_check_shows_the_verdicts_differ_exactly_where_the_change_is(
    tmp_path: Path, reference_server: ReferenceServer
) -> None:
    """The reference keeps its own spec and not a narrowed copy: only the clauses the change touches differ."""
    new, _, _ = narrowed(tmp_path)
    static = json.loads(billing_kit(["diff", str(SPEC), str(new), "--format", "json"]).stdout)
    touched = sorted({clause for c in static["changes"] for clause in c["clauses"]})
    assert "REQ-LEN-1" in touched
    args = ["diff", str(SPEC), str(new), *check_args(reference_server)]
    # A generous per-request timeout: a busy machine must not turn a slow answer into a differing verdict.
    done = billing_kit([*args, "--seed", "7", "--timeout", "30", "--format", "json"], timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr  # the reference fails the narrowed contract
    check = json.loads(done.stdout)["check"]
    assert sorted(check["differing"]) == touched, check["clauses"]
    verdicts = {row["clause"]: (row["old"], row["new"]) for row in check["clauses"]}
    assert all(verdicts[clause] == ("PASS", "FAIL") for clause in touched)
    assert check["old"]["must"]["passed"] == check["old"]["must"]["judged"], "the reference keeps its own spec"
    assert check["new"]["must"]["passed"] == check["new"]["must"]["judged"] - len(touched)


def test_diff_check_prints_the_verdicts_side_by_side(tmp_path: Path, reference_server: ReferenceServer) -> None:
    new, _, _ = narrowed(tmp_path)
    static = json.loads(billing_kit(["diff", str(SPEC), str(new), "--format", "json"]).stdout)
    touched = sorted({clause for c in static["changes"] for clause in c["clauses"]})
    kept = "REQ-EMAIL-1"
    must = len(touched) + 1
    args = ["diff", str(SPEC), str(new), *check_args(reference_server)]
    done = billing_kit([*args, "--only", ",".join([*touched, kept]), "--examples", "5"], timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"The server passes OLD: {must}/{must} MUST; NEW: 1/{must} MUST." in done.stdout, done.stdout
    marked = [line.split()[0] for line in done.stdout.splitlines() if "differs (the diff names this clause)" in line]
    assert sorted(marked) == touched
    assert f"  {kept}" in done.stdout and reference_server.sandbox_key not in done.stdout + done.stderr
    markdown = billing_kit([*args, "--only", ",".join([*touched, kept]), "--examples", "5", "--format", "markdown"])
    assert "| REQ-LEN-1 (changed) | MUST | PASS | FAIL |" in markdown.stdout, markdown.stdout


def test_diff_check_against_no_server_is_one_error_line(tmp_path: Path) -> None:
    new, _, _ = narrowed(tmp_path)
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = billing_kit(["diff", str(SPEC), str(new), "--check", url, "--api-key", sandbox_key(), "--max-time", "60"])
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and url.removesuffix("/v1") in lines[-1] and "Traceback" not in done.stderr

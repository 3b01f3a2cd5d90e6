"""Raw bytes and hostile input: REQ-BODY-1/2/3, REQ-TEXT-1 and ERR-2, against real servers.

The reference and both conforming zoo flavours (opposite MAY choices) get no
finding; a zoo server with one defect gets its FAIL or WARN on the right clause.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
import yaml

from billing_kit.conformance import corpora, runner
from billing_kit.conformance.checks.streaming import padded_create, send_big
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.corpora import TAG_PLACEHOLDER
from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.model import RunResult, Verdict
from billing_kit.conformance.redact import Redactor
from tests.support.reference import ReferenceServer
from tests.support.zoo import SANDBOX_KEY, zoo

CONTRACT = load_contract()
CLAUSES = ("REQ-BODY-1", "REQ-BODY-2", "REQ-BODY-3", "REQ-TEXT-1", "ERR-2")
MINE = ("body", "text", "hostile")


def check(base_url: str, key: str, only: tuple[str, ...] = CLAUSES, timeout: float = 5) -> RunResult:
    return runner.run(RunConfig(base_url=base_url, api_key=key, only=only, timeout=timeout))


def verdicts(result: RunResult) -> dict[str, Verdict]:
    return {v.clause: v.verdict for v in result.verdicts}


def violations(result: RunResult) -> list[str]:
    return [f"{v.clause}: {f.message}" for v in result.verdicts for f in v.violations]


@pytest.mark.parametrize("name", MINE)
def test_corpus_is_valid_and_cites_its_clauses(name: str) -> None:
    cases = corpora.load(name)  # validates against corpora/schema.json
    assert {case.clause for case in cases} <= set(CLAUSES)
    assert len(cases) >= 10


def test_corpora_hold_the_issue_cases() -> None:
    ids = {case.id for name in MINE for case in corpora.load(name)}
    for needed in ("json-nan", "json-infinity", "utf8-invalid-byte", "utf8-overlong-slash", "top-array", "bom"):
        assert needed in ids
    for needed in ("ctype-missing", "ctype-charset-latin1", "dup-key-different", "number-1e999999"):
        assert needed in ids
    for needed in ("number-5000-digits", "nul-name", "surrogate-high-name", "surrogate-metadata-key"):
        assert needed in ids
    raw = [case.raw_bytes() or b"" for name in MINE for case in corpora.load(name)]
    assert sum(TAG_PLACEHOLDER in body for body in raw) >= 30  # raw bodies carry the run tag


PROTOTYPE_TOKENS = (
    "constructor",
    "__proto__",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "None",
    "null",
    "undefined",
    "NaN",
)


def test_auth_tokens_corpus_holds_every_prototype_token_bare_and_after_every_key_prefix() -> None:
    """Each token alone and after each prefix of x-key-prefixes, each expecting 401."""
    cases = corpora.load_for("auth_tokens", CONTRACT)
    sent = {case.auth["raw"] for case in cases if isinstance(case.auth, dict)}
    for token in PROTOTYPE_TOKENS:
        for prefix in ("", *CONTRACT.key_prefixes):
            assert f"Bearer {prefix}{token}" in sent, (prefix, token)
    assert all(case.clause == "AUTH-2" and case.expect == "reject" and case.status == (401,) for case in cases)


def test_placeholders_take_the_values_of_the_spec_in_use(tmp_path: Path) -> None:
    """The corpus names prefixes as {placeholders}: a spec with other prefixes gets other tokens."""
    spec = json.loads(json.dumps(CONTRACT.spec))
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    spec["components"]["schemas"]["Environment"]["enum"] = ["prod", "test"]
    scheme["x-key-prefixes"] = {"rk_prod_": "prod", "rk_test_": "test"}
    scheme["x-sandbox-environment"] = "test"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    other = load_contract(path)
    raw = {case.id: case.auth["raw"] for case in corpora.load_for("auth_tokens", other) if isinstance(case.auth, dict)}
    assert raw["token-constructor-sandbox-prefix"] == "Bearer rk_test_constructor"
    assert raw["token-constructor-live-prefix"] == "Bearer rk_prod_constructor"
    assert not any("{" in value for value in raw.values())
    assert "{sandbox_key_prefix}" in json.dumps([c.auth for c in corpora.load("auth_tokens")])  # unfilled as stored


def test_an_unknown_placeholder_is_refused() -> None:
    document = {
        "description": "x",
        "cases": [
            {
                "id": "a",
                "clause": "AUTH-2",
                "description": "d",
                "auth": {"raw": "Bearer {sk_prefix}x"},
                "expect": "reject",
            }
        ],
    }
    with pytest.raises(corpora.CorpusError, match=re.escape("unknown placeholder {sk_prefix}")):
        corpora.validate(document, "inline.json")


def test_reference_passes_every_raw_bytes_clause(reference_server: ReferenceServer) -> None:
    result = check(reference_server.base_url, reference_server.sandbox_key)
    assert violations(result) == []
    assert verdicts(result) == {
        "REQ-BODY-1": Verdict.PASS,
        "REQ-BODY-2": Verdict.PASS,
        "REQ-BODY-3": Verdict.INFO,
        "REQ-TEXT-1": Verdict.PASS,
        "ERR-2": Verdict.PASS,
    }
    notes = [f.case for v in result.verdicts if v.clause == "REQ-BODY-3" for f in v.findings if f.kind == "note"]
    assert "dup-key-different" in notes  # what the server chose is recorded


@pytest.mark.parametrize("may", ["lenient", "strict"])
def test_conforming_servers_get_no_finding(may: str) -> None:
    with zoo(may=may) as base_url:
        result = check(base_url, SANDBOX_KEY)
    assert violations(result) == []
    assert result.exit_code == 0


# (defect, --only, clause, verdict)
DEFECTS = [
    ("accepts-nan", "REQ-BODY-1", "REQ-BODY-1", Verdict.FAIL),
    ("accepts-invalid-utf8", "REQ-BODY-1", "REQ-BODY-1", Verdict.FAIL),
    ("depth-unchecked", "REQ-BODY-1", "REQ-BODY-1", Verdict.FAIL),
    ("accepts-array-wrapped", "REQ-BODY-1", "REQ-BODY-1", Verdict.FAIL),
    ("5xx-on-invalid-utf8", "REQ-BODY-1", "ERR-2", Verdict.FAIL),
    ("415-missing", "REQ-BODY-2", "REQ-BODY-2", Verdict.WARN),
    ("charset-ignored", "REQ-BODY-2", "REQ-BODY-2", Verdict.WARN),
    ("413-missing", "REQ-BODY-2", "REQ-BODY-2", Verdict.WARN),
    ("500-on-missing-content-type", "REQ-BODY-2", "ERR-2", Verdict.FAIL),
    ("5xx-on-huge-number", "REQ-BODY-3", "ERR-2", Verdict.FAIL),
    ("nul-mangled", "REQ-TEXT-1", "REQ-TEXT-1", Verdict.FAIL),
    ("surrogate-replaced", "REQ-TEXT-1", "REQ-TEXT-1", Verdict.FAIL),
    ("surrogate-500", "REQ-TEXT-1", "ERR-2", Verdict.FAIL),
    ("5xx-on-deep-nesting", "ERR-2", "ERR-2", Verdict.FAIL),
]


@pytest.mark.parametrize(("defect", "only", "clause", "verdict"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_defect_is_caught_on_its_clause(defect: str, only: str, clause: str, verdict: Verdict) -> None:
    with zoo(defect, may="lenient" if only == "REQ-TEXT-1" else "strict") as base_url:
        result = check(base_url, SANDBOX_KEY, only=(only,))
    assert verdicts(result)[clause] is verdict, violations(result)
    assert result.exit_code == (1 if verdict is Verdict.FAIL else 0)
    if clause == "ERR-2" and only != clause:
        # A 5xx is an answer: it breaks the probed clause where the case fixes the outcome (at the
        # clause's level, ERR-2 beside it) and is ERR-2's alone under a MAY; never "unanswered".
        probed = next(v for v in result.verdicts if v.clause == only)
        assert probed.verdict is not Verdict.SKIP, probed
        blamed = [f for f in probed.findings if f.kind == "violation"]
        assert all("ERR-2 beside it" in f.message for f in blamed), blamed


def test_a_server_that_never_answers_a_big_body_is_an_err2_fail_not_a_hang() -> None:
    # Not a hang: the run returns at all (pytest-timeout guards it), with ERR-2 judged.
    with zoo("hang-on-large-body") as base_url:
        result = check(base_url, SANDBOX_KEY, only=("REQ-BODY-2",), timeout=1.5)
    assert verdicts(result)["ERR-2"] is Verdict.FAIL


def test_a_big_body_is_cut_short_when_the_server_answers_413(reference_server: ReferenceServer) -> None:
    """50 MiB announced: the reference answers 413 at once, and the sender stops instead of pushing it all."""
    base_url = reference_server.base_url
    client = Client(ClientOptions(base_url=base_url), Budget(60), Redactor([reference_server.sandbox_key]))
    config = RunConfig(base_url=base_url, api_key=reference_server.sandbox_key)
    ctx = CheckContext(CONTRACT, config, client, nonce=secrets.token_hex(6))
    try:
        for chunked in (False, True):
            exchange = send_big(ctx, padded_create("big@example.com", ctx.run_tag, 50 << 20, chunked))
            assert exchange.status == 413, exchange.error  # read as soon as it came, not after 50 MiB
            assert exchange in ctx.log  # ERR-2 sees it
        small = send_big(ctx, padded_create("small@example.com", ctx.run_tag, 2000, True))
        assert small.status == 201
        assert small.json_body()["metadata"] == {**ctx.run_tag, "pad": "x" * (2000 - len(small_head(ctx)))}
    finally:
        client.close()


def small_head(ctx: CheckContext) -> bytes:
    body = padded_create("small@example.com", ctx.run_tag, 2000, True)
    return body.head + body.tail


@pytest.mark.parametrize("defect", [None, "refuses-chunked", "expect-417"])
def test_framing_cases_are_sent_as_they_say(defect: str | None) -> None:
    """corpora/framing.json against the zoo: chunked on the wire, Expect sent; a conforming server gives 201 to both."""
    from billing_kit.conformance.checks.transfer import CORPUS, send_framed

    with zoo(defect) as base_url:
        client = Client(ClientOptions(base_url=base_url), Budget(60), Redactor([SANDBOX_KEY]))
        ctx = CheckContext(CONTRACT, RunConfig(base_url=base_url, api_key=SANDBOX_KEY), client, secrets.token_hex(6))
        try:
            statuses = {}
            for case in corpora.load_for(CORPUS, CONTRACT):
                exchange = send_framed(ctx, case)
                headers = {k.lower(): v for k, v in exchange.request.headers}
                if case.chunked:
                    assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers
                else:
                    assert headers.get("expect") == "100-continue"
                statuses[case.id] = exchange.status
        finally:
            client.close()
    refused = {None: set(), "refuses-chunked": {"chunked-create"}, "expect-417": {"expect-continue-create"}}[defect]
    assert {case for case, status in statuses.items() if status != 201} == refused, statuses
    assert len(statuses) == 2

"""The registry, CONTRACT.md, the corpora and the guide's clause table agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from billing_kit.conformance import clauses, corpora
from billing_kit.conformance.checks import load_all
from billing_kit.conformance.listing import CLAUSE_TABLE_PAGE, render_listing

ROOT = Path(__file__).resolve().parents[1]
CLAUSE_LINE = re.compile(r"^- \*\*([A-Z]+(?:-[A-Z0-9]+)+) (MUST|SHOULD|MAY)\b", re.M)


def contract_clauses() -> dict[str, str]:
    return dict(CLAUSE_LINE.findall((ROOT / "CONTRACT.md").read_text(encoding="utf-8")))


def test_contract_ids_and_levels_equal_the_registry() -> None:
    in_contract = contract_clauses()
    assert len(in_contract) >= 30
    assert in_contract == {c.id: c.level.value for c in clauses.CLAUSES}


def test_every_clause_has_a_check_and_every_check_a_clause() -> None:
    specs = load_all()
    checked = {clause for spec in specs for clause in spec.clauses}
    assert not [c.id for c in clauses.CLAUSES if c.id not in checked], "clauses without a check"
    assert checked <= set(clauses.BY_ID), "checks naming unknown clauses"
    assert all(spec.summary and spec.summary != spec.func.__name__ for spec in specs), "every check has a docstring"


def test_a_check_naming_an_unknown_clause_is_refused() -> None:
    from billing_kit.conformance.checks import check

    with pytest.raises(ValueError, match="unknown clause"):
        check("REQ-NOPE-1")


@pytest.mark.parametrize("name", corpora.corpus_names())
def test_corpora_are_valid_and_cite_registered_clauses(name: str) -> None:
    cases = corpora.load(name)
    assert cases
    assert all(case.clause in clauses.BY_ID for case in cases)


def test_a_corpus_case_without_expectation_is_refused() -> None:
    with pytest.raises(corpora.CorpusError, match="expect"):
        corpora.validate({"description": "x", "cases": [{"id": "a", "clause": "ERR-1", "description": "d"}]}, "t")
    with pytest.raises(corpora.CorpusError, match="unknown clause"):
        corpora.validate(
            {"description": "x", "cases": [{"id": "a", "clause": "ERR-9", "description": "d", "expect": "reject"}]},
            "t",
        )


def test_may_clauses_hold_only_may_cases() -> None:
    # A MUST clause may hold a MAY case (REQ-BODY-1's leading BOM); a MAY clause never expects.
    for name in corpora.corpus_names():
        for case in corpora.load(name):
            if clauses.get(case.clause).level is clauses.Level.MAY:
                assert case.expect == "may", f"{name}:{case.id}"


def test_the_guide_table_is_printed_from_the_registry() -> None:
    page = (ROOT / CLAUSE_TABLE_PAGE).read_text(encoding="utf-8")
    start, end = "<!-- clauses:start -->\n", "<!-- clauses:end -->"
    assert start in page and end in page, f"{CLAUSE_TABLE_PAGE} lacks the generated clause table"
    table = page.split(start, 1)[1].split(end, 1)[0]
    assert table == render_listing("markdown"), "regenerate with: python -m billing_kit.conformance.listing"


def test_listing_json_names_every_clause() -> None:
    rows = json.loads(render_listing("json"))
    assert [r["clause"] for r in rows] == [c.id for c in clauses.CLAUSES]


def test_requirements_quote_the_spec_in_use(tmp_path: Path) -> None:
    """A spec with other limits, prefix and key length gets requirement texts that say so."""
    import yaml

    from billing_kit.conformance import runner
    from billing_kit.conformance.contract import load_contract

    bundled = load_contract()
    spec = json.loads(json.dumps(bundled.spec))
    schemas = spec["components"]["schemas"]
    for name in bundled.max_lengths:
        schemas["CustomerCreate"]["properties"][name]["maxLength"] = 100
    schemas["Customer"]["properties"]["id"]["pattern"] = "^cust_[A-Za-z0-9]+$"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    contract = load_contract(path)

    length = clauses.get("REQ-LEN-1").render(contract).requirement
    assert "at most 100 characters" in length and "101 are rejected" in length
    assert str(bundled.max_lengths["name"]) not in length
    assert "`cust_`" in clauses.get("RES-ID-1").render(contract).requirement
    placeholders = {"{" + name + "}" for name in clauses.spec_values(contract)}
    assert not any(p in c.requirement for c in clauses.for_contract(contract) for p in placeholders)
    folded = {v.clause: v.requirement for v in runner.fold([], [], set(), (), contract)}
    assert folded["REQ-LEN-1"] == length


def test_what_a_check_is_is_declared_where_it_is_registered() -> None:
    """The deep rounds, replay and the phases read each check's registration; no list names checks elsewhere."""
    from billing_kit.conformance import replay
    from billing_kit.conformance.registry import Phase, in_role

    specs = load_all()
    assert len(in_role("fuzz")) == 1 and len(in_role("ids")) == 1
    assert in_role("property") and all(s.generated for s in in_role("property"))
    assert {s.phase for s in in_role("round-judge")} == {Phase.WHOLE_RUN}
    phases = [s.phase for s in specs]
    assert phases == sorted(phases, key=list(Phase).index), "every whole-run check runs after every other"
    assert {s.replay for s in specs if s.replay is not None} == set(replay.SINGLE_REQUEST)


def test_a_check_that_moves_keeps_its_name_and_so_its_baseline_fingerprints() -> None:
    from billing_kit.conformance import baseline
    from billing_kit.conformance.registry import REGISTRY, check

    def moved(ctx: object) -> None:
        """A check moved to another module."""

    try:
        check("RES-1", name="response.minimal_create_before_the_move")(moved)
        assert REGISTRY["response.minimal_create_before_the_move"].func is moved
        # A finding made while it runs carries that name, so its baseline fingerprint is the one accepted before.
        from tests.support.canned import check_context

        ctx = check_context()
        with ctx.running(REGISTRY["response.minimal_create_before_the_move"]):
            ctx.violation("RES-1", "a title", expected="201", actual="HTTP 200")
        (finding,) = ctx.findings
        accepted = baseline.fingerprint("RES-1", "response.minimal_create_before_the_move", None, finding.message)
        assert baseline.finding_entry(finding).fingerprint == accepted
        assert accepted != baseline.fingerprint("RES-1", "response.minimal_create", None, finding.message)
        with pytest.raises(ValueError, match="registered twice"):
            check("RES-1", name="response.minimal_create_before_the_move")(moved)
    finally:
        REGISTRY.pop("response.minimal_create_before_the_move", None)

"""Fixed cases kept as data: load, validate against schema.json, send, judge.

A case expects what CONTRACT.md says (`accept`, `reject`, or `may`), never what
the reference happens to do. A broken `reject` on a MUST clause of REQ-*/AUTH-*
is also an ERR-1 violation; `may` cases are recorded as INFO notes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.model import Exchange

CORPORA_DIR = Path(__file__).parent
SCHEMA_PATH = CORPORA_DIR / "schema.json"


class CorpusError(Exception):
    pass


@dataclass(frozen=True)
class Case:
    id: str
    clause: str
    description: str
    expect: str
    body: Any = None
    has_body: bool = False
    raw: tuple[dict[str, Any], ...] | None = None
    tag: bool = True
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    auth: Any = "api"
    method: str = "POST"
    status: tuple[int, ...] = ()

    def raw_bytes(self) -> bytes | None:
        if self.raw is None:
            return None
        out = bytearray()
        for part in self.raw:
            if "text" in part:
                out += part["text"].encode("utf-8", "surrogatepass")
            if "hex" in part:
                out += bytes.fromhex(part["hex"])
            if "repeat" in part:
                out += part["repeat"].encode("utf-8", "surrogatepass") * int(part["times"])
        return bytes(out)


def corpus_names() -> list[str]:
    return sorted(p.stem for p in CORPORA_DIR.glob("*.json") if p.name != "schema.json")


def validate(document: Any, origin: str) -> None:
    import jsonschema

    from billing_kit.conformance import clauses

    schema = json.loads(SCHEMA_PATH.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        raise CorpusError(f"{origin}: {'/'.join(map(str, error.path))}: {error.message[:200]}")
    seen: set[str] = set()
    for case in document["cases"]:
        if case["clause"] not in clauses.BY_ID:
            raise CorpusError(f"{origin}: case {case['id']} cites unknown clause {case['clause']}")
        if case["id"] in seen:
            raise CorpusError(f"{origin}: case id {case['id']} appears twice")
        seen.add(case["id"])


@cache
def load(name: str) -> tuple[Case, ...]:
    path = CORPORA_DIR / f"{name}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    validate(document, path.name)
    cases = []
    for raw in document["cases"]:
        cases.append(
            Case(
                id=raw["id"],
                clause=raw["clause"],
                description=raw["description"],
                expect=raw["expect"],
                body=raw.get("body"),
                has_body="body" in raw,
                raw=tuple(raw["raw"]) if "raw" in raw else None,
                tag=raw.get("tag", True),
                content_type=raw.get("content_type", "application/json"),
                headers=dict(raw.get("headers", {})),
                auth=raw.get("auth", "api"),
                method=raw.get("method", "POST"),
                status=tuple(raw.get("status", ())),
            )
        )
    return tuple(cases)


# Raw-bytes cases put this where the run tag belongs (`"key": "value"`, a JSON member).
TAG_PLACEHOLDER = b"__RUN_TAG_MEMBER__"


def tag_member(ctx: CheckContext) -> bytes:
    """The run tag as a JSON object member (`"key": "value"`), for raw bodies."""
    return json.dumps(ctx.run_tag)[1:-1].encode()


def send_case(ctx: CheckContext, case: Case) -> Exchange:
    """Send a corpus case, with the run tag put in place of the placeholder in raw bytes."""
    from billing_kit.conformance.context import API, MISSING, RawAuth

    raw = case.raw_bytes()
    if raw is not None:
        raw = raw.replace(TAG_PLACEHOLDER, tag_member(ctx))
    auth: Any = API
    if case.auth == "none":
        auth = None
    elif isinstance(case.auth, dict):
        auth = RawAuth(case.auth["raw"])
    return ctx.send(
        case.body if case.has_body else MISSING,
        raw=raw,
        auth=auth,
        tag=case.tag,
        content_type=case.content_type,
        headers=list(case.headers.items()),
        method=case.method,
    )


def judge_case(ctx: CheckContext, case: Case, exchange: Exchange) -> bool:
    """Report on the case's clause; False when there was no usable answer to judge."""
    from billing_kit.conformance.context import describe
    from billing_kit.conformance.failures import Failure

    if not exchange.ok:
        return False  # judged once, by ERR-2 over the whole run, not again on the case's clause
    response = exchange.response
    assert response is not None
    label = f"{case.id}: {case.description}"
    if case.expect == "may":
        outcome = "accepted" if exchange.succeeded else "rejected"
        ctx.note(case.clause, f"{label}: {outcome} ({describe(exchange)})", exchange=exchange, case=case.id)
        return True
    if case.expect == "accept":
        if not exchange.succeeded:
            ctx.report(
                Failure(
                    case.clause,
                    f"{label}: not accepted",
                    expected="201",
                    actual=describe(exchange),
                    exchange=exchange,
                    case=case.id,
                )
            )
        return True
    statuses = " or ".join(map(str, case.status)) if case.status else "a 4xx"
    if exchange.succeeded:
        ctx.report_not_rejected(
            Failure(
                case.clause,
                f"{label}: not rejected",
                expected=statuses,
                actual=describe(exchange),
                exchange=exchange,
                case=case.id,
            )
        )
    elif not 400 <= response.status < 500 or (case.status and response.status not in case.status):
        ctx.report(
            Failure(
                case.clause,
                f"{label}: wrong status",
                expected=statuses,
                actual=describe(exchange),
                exchange=exchange,
                case=case.id,
            )
        )
    return True


def wanted(ctx: CheckContext, case: Case, clauses: tuple[str, ...] | None = None) -> bool:
    """Whether to run the case: its clause is one of `clauses` (default: the current check's) and selected."""
    current = clauses or (ctx.current.clauses if ctx.current else ())
    return case.clause in current and (not ctx.config.only or case.clause in ctx.config.only)


def run_cases(
    ctx: CheckContext,
    cases: Iterable[tuple[Case, Exchange | None]],
    *,
    clauses: tuple[str, ...] | None = None,
    then: Callable[[CheckContext, Case, Exchange], None] | None = None,
    what: str = "of its cases",
) -> None:
    """Judge each wanted (case, exchange), sending the case first when no exchange is given.

    `then` judges more of a judged answer (body.py: the echo of accepted U+0000 text);
    a clause none of whose cases got a usable answer is inconclusive.
    """
    answered: dict[str, int] = {}
    for case, given in cases:
        if not wanted(ctx, case, clauses):
            continue
        exchange = given if given is not None else send_case(ctx, case)
        answered.setdefault(case.clause, 0)
        judged = judge_case(ctx, case, exchange)  # False on a 5xx or no answer: ERR-2's business
        ctx.probe(case.clause, exchange, case=case.id, judged=judged)
        if judged:
            answered[case.clause] += 1
            if then is not None:
                then(ctx, case, exchange)
    for clause, count in answered.items():
        if count == 0:
            ctx.inconclusive(clause, f"no usable answer to any {what}")


def run_corpus(ctx: CheckContext, name: str, clauses: tuple[str, ...] | None = None) -> None:
    """Send every case (of `clauses`, default those the current check names) and judge it."""
    run_cases(ctx, [(case, None) for case in load(name)], clauses=clauses, what=f"case of corpus {name}")

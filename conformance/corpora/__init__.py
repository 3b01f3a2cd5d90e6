"""Fixed cases kept as data: load, validate against schema.json, send, judge.

A case expects what CONTRACT.md says (`accept`, `reject`, or `may`), never what
the reference happens to do. A broken `reject` on a MUST clause of REQ-*/AUTH-*
is also an ERR-1 violation; `may` cases are recorded as INFO notes.

Any string of a case may name a spec value as `{placeholder}` (`PLACEHOLDERS`:
the key prefixes of x-key-prefixes, the id prefix); `load_for(name, contract)`
fills them from the spec in use, and `validate` refuses an unknown name.
Values of the run (`RUN_PLACEHOLDERS`: the nonce, the configured key, a fresh
unknown token per case) are filled by `load_for_run(name, ctx)`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_kit.conformance.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.contract import Contract
    from billing_kit.conformance.model import Exchange

CORPORA_DIR = Path(__file__).parent
SCHEMA_PATH = CORPORA_DIR / "schema.json"


class CorpusError(InputError):
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
    chunked: bool = False

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
    known = (*PLACEHOLDERS, *RUN_PLACEHOLDERS)
    unknown = sorted(set(PLACEHOLDER.findall(json.dumps(document["cases"], ensure_ascii=False))) - set(known))
    if unknown:
        raise CorpusError(f"{origin}: unknown placeholder {{{unknown[0]}}}; known: {', '.join(known)}")
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
                chunked=raw.get("chunked", False),
            )
        )
    return tuple(cases)


# Spec values a case may name as `{placeholder}` in any string (body, raw text, headers, auth):
# the prefixes of x-key-prefixes and the id prefix, so no corpus types them a second time.
PLACEHOLDERS = (
    "sandbox_key_prefix",
    "live_key_prefix",
    "id_prefix",
    "sandbox_environment",
    "live_environment",
    "name_too_long",
    "external_id_too_long",
)
# Values of the run: its nonce, the configured API key (an unknown one when none is), the key as a
# Basic credential (`key:`), and a fresh random token for each case.
RUN_PLACEHOLDERS = ("nonce", "api_key", "api_key_basic", "unknown_token")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def spec_values(contract: Contract) -> dict[str, str]:
    """The value of every placeholder, read from the spec in use."""
    too_long = {f"{name}_too_long": "x" * (limit + 1) for name, limit in contract.max_lengths.items()}
    return {
        "sandbox_key_prefix": contract.prefix_of_environment(contract.sandbox_environment),
        "live_key_prefix": contract.prefix_of_environment(contract.live_environment),
        "id_prefix": contract.id_prefix,
        "sandbox_environment": contract.sandbox_environment,
        "live_environment": contract.live_environment,
        **{name: value for name, value in too_long.items() if name in PLACEHOLDERS},
    }


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {_fill(k, values): _fill(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, values) for v in value)
    return value


def _filled(case: Case, values: dict[str, str]) -> Case:
    return replace(
        case,
        description=_fill(case.description, values),
        body=_fill(case.body, values),
        raw=_fill(case.raw, values),
        headers=_fill(case.headers, values),
        auth=_fill(case.auth, values),
    )


def load_for(name: str, contract: Contract) -> tuple[Case, ...]:
    """The corpus with every `{placeholder}` replaced by the spec's value."""
    values = spec_values(contract)
    return tuple(_filled(case, values) for case in load(name))


def run_values(ctx: CheckContext) -> dict[str, str]:
    """The run's placeholder values (`unknown_token` is drawn afresh for each case)."""
    api_key = ctx.config.api_key or next(iter(ctx.contract.key_prefixes)) + secrets.token_hex(12)
    return {
        "nonce": ctx.nonce,
        "api_key": api_key,
        "api_key_basic": base64.b64encode(f"{api_key}:".encode()).decode(),
    }


def load_for_run(name: str, ctx: CheckContext) -> tuple[Case, ...]:
    """The corpus with spec and run placeholders filled (`{unknown_token}`: fresh per case)."""
    values = {**spec_values(ctx.contract), **run_values(ctx)}
    chosen = [case for case in load(name) if not ctx.config.case or case.id == ctx.config.case]
    return tuple(_filled(case, {**values, "unknown_token": secrets.token_hex(12)}) for case in chosen)


def find_case(case_id: str) -> tuple[str, Case] | None:
    """(corpus name, case) for a case id, or None."""
    for name in corpus_names():
        for case in load(name):
            if case.id == case_id:
                return name, case
    return None


def case_ids() -> list[str]:
    return [case.id for name in corpus_names() for case in load(name)]


def secret_of(case: Case) -> str | None:
    """The credential a case presents, which an answer must not echo: `auth.secret`, else what follows the scheme."""
    if not isinstance(case.auth, dict):
        return None
    return case.auth.get("secret") or case.auth["raw"].partition(" ")[2] or None


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
    from billing_kit.conformance.rules import exercised

    if not exercised.judged(exchange, case.expect):
        return False  # no answer at all: ERR-2's alone, judged over the whole run
    response = exchange.response
    assert response is not None
    label = f"{case.id}: {case.description}"
    if exercised.server_error(exchange) and not exercised.fixes_outcome(case.expect):
        ctx.note(
            case.clause,
            f"{label}: answered {response.status}, {exercised.ERR_2_ALONE}",
            exchange=exchange,
            case=case.id,
        )
        return True
    if exercised.broken_by_5xx(exchange, case.expect):
        ctx.report(
            Failure(
                case.clause,
                f"{label}: answered {response.status}, {exercised.BESIDE_ERR_2}",
                expected="201" if case.expect == "accept" else statuses_of(case),
                actual=describe(exchange),
                exchange=exchange,
                case=case.id,
            )
        )
        return True
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
    statuses = statuses_of(case)
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


def statuses_of(case: Case) -> str:
    return " or ".join(map(str, case.status)) if case.status else "a 4xx"


def wanted(ctx: CheckContext, case: Case, clauses: tuple[str, ...] | None = None) -> bool:
    """Whether to run the case: its clause is one of `clauses` (default: the current check's) and selected."""
    current = clauses or (ctx.current.clauses if ctx.current else ())
    if ctx.config.case and case.id != ctx.config.case:
        return False  # `--case ID`: that case alone
    return case.clause in current and (not ctx.config.only or case.clause in ctx.config.only)


def run_cases(
    ctx: CheckContext,
    cases: Iterable[tuple[Case, Exchange | None]],
    *,
    clauses: tuple[str, ...] | None = None,
    then: Callable[[CheckContext, Case, Exchange], object] | None = None,
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
        judged = judge_case(ctx, case, exchange)  # False on no answer or a 5xx under a MAY: ERR-2's business
        ctx.probe(case.clause, exchange, case=case.id, judged=judged)
        if judged:
            answered[case.clause] += 1
            if then is not None and exchange.ok:
                then(ctx, case, exchange)
    for clause, count in answered.items():
        if count == 0:
            ctx.inconclusive(clause, f"no usable answer to any {what}")


def run_corpus(ctx: CheckContext, name: str, clauses: tuple[str, ...] | None = None) -> None:
    """Send every case (of `clauses`, default those the current check names) and judge it."""
    run_cases(ctx, [(case, None) for case in load(name)], clauses=clauses, what=f"case of corpus {name}")

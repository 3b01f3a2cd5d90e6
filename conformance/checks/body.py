"""REQ-BODY-1/2/3, REQ-TEXT-1 and hostile ERR-2 inputs: raw bytes, kept as corpora.

The corpora (`body`, `text`, `hostile`) hold the fixed cases; what depends on
the spec in use (nesting one past the `x-limits` depth, a body one byte past
the `x-limits` size) is built here from the contract. Raw bodies carry the run
tag through the `__RUN_TAG_MEMBER__` placeholder, so a customer a lax server
creates from them can still be found. Over-size bodies go through the
streaming sender, which stops sending as soon as the server answers.
"""

from __future__ import annotations

from typing import Any

from billing_kit.conformance import corpora, strategies
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.streaming import padded_create, send_big
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.corpora import Case
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.registry import Phase
from billing_kit.conformance.rules import exercised, sizes

ECHOED = ("email", "name", "external_id", "metadata")
HOSTILE_BODY_BYTES = 50 << 20  # ERR-2: "a 50 MiB body included"


def run_cases(ctx: CheckContext, cases: list[tuple[Case, Exchange | None]]) -> None:
    """The corpus runner, with accepted REQ-TEXT-1 text judged for its echo."""
    corpora.run_cases(ctx, cases, then=judge_echo, what="of its raw-bytes cases")


def judge_echo(ctx: CheckContext, case: Case, exchange: Exchange) -> None:
    """REQ-TEXT-1: text holding U+0000 that was accepted comes back exactly, never mangled."""
    if case.clause != "REQ-TEXT-1" or not exchange.succeeded:
        return
    sent, got = exchange.sent, exchange.json_body()
    if not isinstance(sent, dict):
        return
    if not isinstance(got, dict):
        why = exchange.response.json_error if exchange.response else None
        ctx.violation(
            "REQ-TEXT-1",
            f"{case.id}: accepted, but the answer is not a JSON object",
            expected="the stored values",
            actual=why or type(got).__name__,
            exchange=exchange,
            case=case.id,
        )
        return
    for name in ECHOED:
        if name in sent and not strategies.json_equal(sent[name], got.get(name)):
            ctx.violation(
                "REQ-TEXT-1",
                f"{case.id}: {name} stored mangled",
                expected=ascii(sent[name])[:120],
                actual=ascii(got.get(name))[:120],
                exchange=exchange,
                case=case.id,
            )


def nested(depth: int, leaf: Any, array: bool) -> Any:
    """`depth` containers around `leaf` (depth 0: the leaf itself)."""
    value = leaf
    for _ in range(depth):
        value = [value] if array else {"d": value}
    return value


def depth_cases(ctx: CheckContext) -> list[tuple[Case, Exchange | None]]:
    """Nesting one past the x-limits depth, the top-level object counting as level 1."""
    limit = ctx.contract.nesting_depth_limit
    out: list[tuple[Case, Exchange | None]] = []
    for array in (False, True):
        kind = "arrays" if array else "objects"
        # top-level object (1) + metadata (2) + the rest: limit + 1 in all.
        metadata = {**ctx.run_tag, "deep": nested(limit - 1, 1, array)}
        body = {"email": f"depth-{ctx.nonce}@example.com", "metadata": metadata}
        assert strategies.json_depth(body) == limit + 1
        case = Case(
            id=f"depth-{kind}-{limit + 1}",
            clause="REQ-BODY-1",
            description=f"{kind} nested {limit + 1} deep, one past the x-limits depth of {limit}",
            expect="reject",
            body=body,
            has_body=True,
            tag=False,
        )
        out.append((case, None))
    return out


ESCALATING_DEPTHS = (1_000, 3_000, 10_000, 30_000, 100_000)  # then as deep as the body limit allows


def escalating_depths(ctx: CheckContext, clause: str) -> list[Case]:
    """Well-formed nesting far past the limit, as real stacks break (a recursive parser, walker or
    serializer overflows at thousands of levels, not at limit + 1): 1,000 to 100,000 and as deep as
    the x-limits body size allows, in `metadata` and from the top level, objects and arrays.

    Cases of `clause` (ERR-2: any 4xx is fine, and ERR-2 judges every exchange), built as raw
    bytes: no recursive encoder of ours is in the way either.
    """
    limit = ctx.contract.body_bytes_limit
    email = f"nesting-{ctx.nonce}@example.com"
    out: list[Case] = []
    for where in ("metadata", "top"):
        for array in (False, True):
            opener, closer = ("[", "]") if array else ('{"d":', "}")
            if where == "metadata":
                head, tail = f'{{"email": "{email}", "metadata": {{"deep": ', "}}"
            else:
                head, tail = "" if array else '{"d":', "" if array else "}"
            per_level = len(opener) + len(closer)
            deepest = (limit - len(head) - len(tail) - 1) // per_level
            for depth in (*ESCALATING_DEPTHS, deepest):
                if depth > deepest:
                    continue
                kind = "arrays" if array else "objects"
                place = "in metadata" if where == "metadata" else "from the top"
                raw = (
                    {"text": head},
                    {"repeat": opener, "times": depth},
                    {"text": "1"},
                    {"repeat": closer, "times": depth},
                    {"text": tail},
                )
                out.append(
                    Case(
                        id=f"nesting-{where}-{kind}-{depth}",
                        clause=clause,
                        description=f"{depth:,} nested {kind} {place}",
                        expect="may",
                        raw=raw,
                        tag=False,
                    )
                )
    return out


def size_cases(ctx: CheckContext, clause: str, size: int) -> list[tuple[Case, Exchange | None]]:
    """A valid create of `size` bytes, announced and chunked, sent as a stream."""
    out: list[tuple[Case, Exchange | None]] = []
    for chunked in (False, True):
        how = "chunked" if chunked else "announced"
        case = Case(
            id=f"body-{size}-bytes-{how}",
            clause=clause,
            description=f"a body of {size} bytes ({how}), past the x-limits size of {ctx.contract.body_bytes_limit}",
            expect="reject" if clause == "REQ-BODY-2" else "may",
            status=(413,) if clause == "REQ-BODY-2" else (),
        )
        if not corpora.wanted(ctx, case):
            continue
        email = f"size-{ctx.nonce}@example.com"
        out.append((case, send_big(ctx, padded_create(email, ctx.run_tag, size, chunked))))
    return out


@check("REQ-BODY-1", "REQ-BODY-2", "REQ-BODY-3", order=30, corpora=("body",), replay="body")
def raw_bodies(ctx: CheckContext) -> None:
    """The body corpus (malformed JSON, not UTF-8, odd Content-Types, MAY numbers), depth and size limits."""
    cases: list[tuple[Case, Exchange | None]] = [(case, None) for case in corpora.load("body")]
    cases += depth_cases(ctx)
    cases += size_cases(ctx, "REQ-BODY-2", ctx.contract.body_bytes_limit + 1)
    run_cases(ctx, cases)


@check("RES-1", order=31)
def large_valid_create(ctx: CheckContext) -> None:
    """A valid create of half the x-limits body size (padding in metadata): a body within the limit is
    never 413 (a metadata cap's 400 is REQ-META-2's MAY); a 5xx breaks it beside ERR-2."""
    limit = ctx.contract.body_bytes_limit
    size = limit // 2
    case = f"valid-create-{size}-bytes"
    exchange = send_big(ctx, padded_create(f"large-{ctx.nonce}@example.com", ctx.run_tag, size, False))
    ctx.probe(sizes.CLAUSE, exchange, case=case, judged=exercised.usable(exchange) or exercised.server_error(exchange))
    response = exchange.response
    if response is None or exercised.told_to_wait(exchange):
        return  # no answer to judge: ERR-2's
    if exercised.server_error(exchange):
        broken = f"answered {response.status}, {exercised.BESIDE_ERR_2}"
        ctx.report(
            Failure(sizes.CLAUSE, f"{case}: {broken}", expected="201", actual=describe(exchange), exchange=exchange)
        )
        return
    found = sizes.refused_within_limit(response.status, size, limit)
    if found is not None:
        ctx.report(
            Failure(
                found.clause, found.title, expected=found.expected, actual=found.actual, exchange=exchange, case=case
            )
        )


@check("REQ-TEXT-1", order=30, corpora=("text",), replay="body")
def nul_and_surrogates(ctx: CheckContext) -> None:
    """U+0000 is stored exactly or rejected; lone surrogate escapes are rejected."""
    run_cases(ctx, [(case, None) for case in corpora.load("text")])


@check(
    "ERR-2", phase=Phase.WHOLE_RUN, order=90, minimum=0, corpora=("hostile",)
)  # its answers are judged by errors.no_server_errors
def hostile_inputs(ctx: CheckContext) -> None:
    """Hostile inputs (5,000 digits, 100,000-deep nesting, odd headers, a 50 MiB body): never a 5xx or a hang."""
    cases: list[tuple[Case, Exchange | None]] = [(case, None) for case in corpora.load("hostile")]
    clause = "ERR-2"
    cases += size_cases(ctx, clause, HOSTILE_BODY_BYTES)
    cases += [(case, None) for case in escalating_depths(ctx, clause)]
    for case, given in cases:
        if given is None and corpora.wanted(ctx, case):
            corpora.send_case(ctx, case)  # no_server_errors judges every exchange of the run

"""REQ-EMAIL-*, REQ-LEN-*, REQ-META-*, REQ-UNKNOWN-1: what a request body may hold."""

from __future__ import annotations

from billing_kit.conformance import corpora, strategies
from billing_kit.conformance.checks import check
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.rules.created import short


@check(
    "REQ-EMAIL-1", "REQ-LEN-2", "REQ-META-1", "REQ-UNKNOWN-1", order=20, corpora=("request_shapes",), replay="corpus"
)
def request_shapes(ctx: CheckContext) -> None:
    """The request_shapes corpus: missing or mistyped fields, non-object metadata, unknown fields."""
    corpora.run_corpus(ctx, "request_shapes")


@check("REQ-EMAIL-2", "REQ-EMAIL-3", "REQ-EMAIL-4", order=20, corpora=("emails",), replay="corpus")
def email_corpus(ctx: CheckContext) -> None:
    """The emails corpus: fixed must-accept, must-reject and MAY addresses."""
    corpora.run_corpus(ctx, "emails")


@check("REQ-EMAIL-2", order=25, generated=True, deep="property")
def generated_valid_emails(ctx: CheckContext) -> None:
    """Every generated plain address (REQ-EMAIL-2 class) is accepted."""

    def test(email: str) -> None:
        exchange = ctx.require_answer(ctx.send({"email": email}))
        if not exchange.succeeded:
            raise Failure(
                "REQ-EMAIL-2",
                f"plain address {email!r} refused",
                expected="201",
                actual=describe(exchange),
                exchange=exchange,
            )

    ctx.for_all(strategies.valid_emails(), test)


@check("REQ-EMAIL-3", order=25, generated=True, deep="property")
def generated_invalid_emails(ctx: CheckContext) -> None:
    """Every generated broken address (empty, no @, two @, whitespace, empty label) is rejected."""

    def test(case: tuple[str, str]) -> None:
        email, how = case
        exchange = ctx.require_answer(ctx.send({"email": email}))
        if exchange.succeeded:
            raise Failure(
                "REQ-EMAIL-3",
                f"broken address {email!r} ({how}) accepted",
                expected="a 4xx",
                actual=describe(exchange),
                exchange=exchange,
            )

    ctx.for_all(strategies.invalid_emails(), test)


@check("REQ-LEN-1", order=20)
def length_boundaries(ctx: CheckContext) -> None:
    """N-1, N, N+1 code points (ASCII, 3-byte BMP, astral, combining) and the empty string, per field."""
    answered = 0
    for case in strategies.boundary_cases(ctx.contract):
        body = {"email": f"len-{ctx.nonce}@example.com", case.field: case.value}
        exchange = ctx.send(body)
        if not exchange.ok:
            continue
        answered += 1
        label = f"{case.field}: {case.label}"
        if case.accept and not exchange.succeeded:
            ctx.violation(
                "REQ-LEN-1",
                f"{label} refused",
                expected="201",
                actual=describe(exchange),
                exchange=exchange,
                case=label,
            )
        elif not case.accept and exchange.succeeded:
            ctx.not_rejected(
                "REQ-LEN-1",
                f"{label} accepted",
                expected="a 4xx",
                actual=describe(exchange),
                exchange=exchange,
                case=label,
            )
    if answered == 0:
        ctx.inconclusive("REQ-LEN-1", "no usable answer to any boundary case")


@check("REQ-META-2", "RES-ECHO-1", order=30, corpora=("metadata_caps",))
def metadata_caps(ctx: CheckContext) -> None:
    """Larger metadata than the must-accept generators: the choice recorded, an accepted value echoed exactly."""
    for case in corpora.load_for_run("metadata_caps", ctx):
        label = case.description
        exchange = ctx.require_answer(corpora.send_case(ctx, case))
        outcome = "accepted" if exchange.succeeded else "rejected"
        ctx.note("REQ-META-2", f"metadata with {label}: {outcome} ({describe(exchange)})", exchange=exchange)
        body = exchange.json_body()
        if not exchange.succeeded or not isinstance(body, dict) or "metadata" not in body:
            continue  # a refusal is the MAY cap; a 201 without metadata is RES-1's business
        sent = exchange.sent["metadata"]
        if not strategies.json_equal(sent, body["metadata"]):
            # A cap is MAY; accepting the value and storing another is not.
            ctx.violation(
                "RES-ECHO-1",
                f"metadata with {label} accepted but not echoed exactly",
                expected=short(sent),
                actual=short(body["metadata"]),
                exchange=exchange,
            )

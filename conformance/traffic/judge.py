"""One exchange of real traffic -> findings, each blamed on the client or the server.

    client  what the request breaks (generic_judge.judge_request): a MUST of REQ-*
            or AUTH-* is the client's FAIL, a SHOULD its WARN; a key in the query string
    server  what the answer breaks: the answer against the request's expectation
            (GenericRun.judge), every RES-* of a 201 (response.judge_created), ERR-3 of
            a 4xx, ERR-2 of a 5xx or no answer, AUTH-3 of a 401
    across  RES-ID-2 over every id seen, RES-ORG-1 per key, IDEM-1/2/4 per
            (key, Idempotency-Key); two customers for one key and body are IDEM-3 when
            the second request started before the first one's answer ended. A 409 to
            a keyed create whose first request is still in flight (its answer not seen
            yet) waits: it is IDEM-3 (or IDEM-2) once that create shows it overlapped,
            and judged as a create when none does within WAIT_FOR_FIRST or by the end

State stays bounded over any number of exchanges: keys, ids and bodies are kept
as 64-bit hashes, idempotency records in a bounded LRU, and RES-ID-2 compares a
new id with the last IDS_KEPT ids (about 20 MiB at most). The judging code is the
suite's: the rules (`conformance/rules/`: IDEM-*, RES-ID-2, RES-ORG-1, which clauses an
exchange shows) called here, the checks' judging functions reached through `adapter` only.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import API, describe
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract
from billing_kit.conformance.model import Exchange, Finding, RecordedRequest, RecordedResponse
from billing_kit.conformance.redact import mask_key
from billing_kit.conformance.reproduce import curl_command
from billing_kit.conformance.rules import across, auth, errors, exercised, shows, sizes
from billing_kit.conformance.rules import idempotency as idem_rules
from billing_kit.conformance.traffic import adapter
from billing_kit.conformance.traffic.record import CLIENT_LEFT, UPSTREAM_DOWN, Seen, to_exchange

CLIENT, SERVER = "client", "server"
EVIDENCE_BODY = 8 << 10  # bytes of a body kept in a finding's evidence
IDEM_RECORDS = 50_000  # idempotency records kept (oldest dropped first)
IDS_KEPT = 200_000  # created ids (64-bit hashes) RES-ID-2 compares against (oldest dropped first)
# Seconds of traffic a 409 "in progress" waits for the create it answered beside: longer than the
# proxy's upstream timeout (30 s by default), so the first request has been answered by then.
WAIT_FOR_FIRST = 120.0
PSEUDONYM = "~"  # a capture's key stand-in: `sk_test_...abcd~<hash>`
ELLIPSIS = "..."
SKIPPED_METHODS = frozenset({"OPTIONS", "HEAD", "CONNECT", "QUERY"})
_BEARER = re.compile(r"Bearer ([!-~]+)", re.ASCII)


def digest(value: str | bytes) -> int:
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


def pseudonym(token: str) -> str:
    """What a capture keeps of a key: its mask and a hash (ASCII, so it is still a Bearer token)."""
    masked = mask_key(token).replace("…", ELLIPSIS)
    return f"{masked}{PSEUDONYM}{hashlib.sha256(token.encode()).hexdigest()[:12]}"


def shown(token: str) -> str:
    """A key as reports show it: `sk_test_…abcd` (a capture's pseudonym shown the same way)."""
    head, sep, _ = token.partition(PSEUDONYM)
    if sep and ELLIPSIS in head:
        return head.replace(ELLIPSIS, "…")
    return mask_key(token)


@dataclass
class Judged:
    """One exchange's findings and the clauses it exercised."""

    findings: list[Finding]
    clauses: set[str]


@dataclass(slots=True)
class _Idem:
    body: int
    status: int
    customer: int | None
    answered: float = 0.0  # when its answer ended (its start plus its elapsed time); 0.0: not known

    @property
    def answer(self) -> idem_rules.Answer[int]:
        """The first answer for its key, as the IDEM rules read it."""
        return idem_rules.Answer(self.status, self.customer)


@dataclass(slots=True)
class _Waiting:
    """A 409 to a keyed create seen before any answer to that key: its judgment, held."""

    body: int
    answered: float
    judged: Judged


class TrafficJudge:
    def __init__(self, contract: Contract, origin: str = "", clock_skew: float | None = None) -> None:
        self.contract = contract
        self.origin = origin
        config = RunConfig(base_url=origin or "http://traffic")
        if clock_skew is not None:
            config = replace(config, clock_skew=clock_skew)
        self.ctx = adapter.TrafficContext(contract, config)
        self.prefixes = tuple(contract.key_prefixes)
        self.known_keys: set[int] = set()
        self.ids: set[int] = set()
        self.id_order: deque[int] = deque()  # the same ids, oldest first, to drop past IDS_KEPT
        self.orgs: dict[int, int] = {}
        self.idem: OrderedDict[tuple[int, int], _Idem] = OrderedDict()
        self.idem_owner: OrderedDict[int, tuple[int, int | None]] = OrderedDict()
        self.waiting: OrderedDict[tuple[int, int], list[_Waiting]] = OrderedDict()
        self.released: list[Judged] = []  # held judgments that no overlapping create explained
        self.exercised: Counter[str] = Counter()
        self.exchanges = 0
        self.skipped: Counter[str] = Counter()
        self._said: set[tuple[str, str | None, str | None]] = set()

    # -- keys -----------------------------------------------------------------
    def token(self, seen: Seen) -> str | None:
        header = seen.header("authorization")
        match = _BEARER.fullmatch(header) if header is not None else None
        if match and match.group(1).startswith(self.prefixes):
            return match.group(1)
        return None

    def query_keys(self, seen: Seen) -> list[str]:
        return [v for part in seen.query.split("&") if (v := part.partition("=")[2]).startswith(self.prefixes)]

    # -- the whole exchange ---------------------------------------------------
    def judge(self, seen: Seen) -> Judged:
        self.exchanges += 1
        if not seen.path.rstrip("/").endswith(CUSTOMERS_PATH):
            self.skipped["outside the contract's path"] += 1
            return Judged([], set())
        self._said = set()
        self._release_older_than(seen.started - WAIT_FOR_FIRST)
        token = self.token(seen)
        exchange = to_exchange(seen, self.origin, API if token is not None else None)
        found: list[Finding] = []
        clauses: set[str] = set()
        if seen.response is None:
            found += self._no_answer(seen, exchange, clauses)
        elif seen.method.upper() != "POST":
            if seen.method.upper() in SKIPPED_METHODS:
                self.skipped["OPTIONS, HEAD, CONNECT or QUERY (not judged)"] += 1
                return Judged([], set())
            clauses |= shows.other_method()
            found += self._server(
                lambda: adapter.judge_answer(self.ctx, seen.method, exchange, adapter.Expectation(), None)
            )
            found += self._server_error(exchange)
        elif not seen.complete and seen.announced_size <= self.contract.body_bytes_limit:
            self.skipped["the client did not finish its request"] += 1
            return Judged([], set())
        else:
            found += self._post(seen, exchange, token, clauses)
        self._dress(seen, exchange, token, found)
        self.exercised.update(clauses)
        return Judged(found, clauses)

    def _dress(self, seen: Seen, exchange: Exchange, token: str | None, found: list[Finding]) -> None:
        for finding in found:
            finding.exchange = self.evidence(seen, finding.exchange or exchange, token)
            if finding.kind == "violation" and finding.exchange.request.body_size <= EVIDENCE_BODY:
                finding.reproduce = curl_command(finding.exchange.request)

    # -- 409s that wait for the create they answered beside -------------------
    def take_released(self) -> list[Judged]:
        """Held 409s judged as creates since the last call (no overlapping create explained them)."""
        out, self.released = self.released, []
        return out

    def release_all(self) -> list[Judged]:
        """At the end of the traffic: every 409 still waiting is judged as the create it was."""
        self._release_older_than(float("inf"))
        return self.take_released()

    def _release_older_than(self, moment: float) -> None:
        while self.waiting:
            slot, held = next(iter(self.waiting.items()))
            if held[0].answered > moment:
                return
            del self.waiting[slot]
            self._release(held)

    def _release(self, held: list[_Waiting]) -> None:
        for item in held:
            self.exercised.update(item.judged.clauses)
            self.released.append(item.judged)

    def _hold(self, seen: Seen, exchange: Exchange, token: str | None, slot: tuple[int, int], judged: Judged) -> None:
        self._dress(seen, exchange, token, judged.findings)
        answered = seen.started + (seen.response.elapsed if seen.response is not None else 0.0)
        self.waiting.setdefault(slot, []).append(_Waiting(digest(bytes(seen.body)), answered, judged))
        if len(self.waiting) > IDEM_RECORDS:
            self._release(self.waiting.popitem(last=False)[1])

    def _explain_waiting(self, slot: tuple[int, int], body: int, seen: Seen, clauses: set[str]) -> None:
        """A first create for `slot` was answered: the 409s it overlapped were IDEM-3 (or IDEM-2)."""
        held = self.waiting.pop(slot, None)
        if held is None:
            return
        unexplained = []
        for item in held:
            if idem_rules.overlapping(seen.started, item.answered):
                clauses.add(idem_rules.retry_clause(same_body=item.body == body, overlapped=True))
            else:
                unexplained.append(item)
        self._release(unexplained)

    def _server(self, judge: Callable[[], Any]) -> list[Finding]:
        judge()
        found = []
        for finding in self.ctx.take():
            # Two judging functions may say the same thing of one answer (a valid create not 201).
            same = (finding.clause, finding.expected, finding.actual)
            if finding.kind != "violation" or same not in self._said:
                self._said.add(same)
                finding.check = SERVER
                found.append(finding)
        return found

    def _no_answer(self, seen: Seen, exchange: Exchange, clauses: set[str]) -> list[Finding]:
        if seen.error == UPSTREAM_DOWN:
            message = f"{UPSTREAM_DOWN}: the proxy answered 502"
            return [Finding(errors.ERR_2, "note", message, check=SERVER, exchange=exchange)]
        if not seen.complete or seen.error == CLIENT_LEFT:
            self.skipped["the client went away before an answer"] += 1
            return []
        clauses.add(errors.ERR_2)
        return self._server_error(exchange)

    def _server_error(self, exchange: Exchange) -> list[Finding]:
        why = adapter.server_error(exchange)
        if why is None:
            return []
        return [
            Finding(
                errors.ERR_2, "violation", why, check=SERVER, expected="a 2xx or 4xx answer within the timeout",
                actual=why, exchange=exchange,
            )
        ]  # fmt: skip

    def _post(self, seen: Seen, exchange: Exchange, token: str | None, clauses: set[str]) -> list[Finding]:
        assert seen.response is not None
        status = seen.response.status
        kind: adapter.AuthKind = "missing" if seen.header("authorization") is None else "invalid"
        key = digest(token) if token is not None else None
        if key is not None:
            if 200 <= status < 300:
                self.known_keys.add(key)
            kind = "valid" if key in self.known_keys or status != 401 else "invalid"
        if kind != "valid":
            exchange.request.key_ref = None
        idem = seen.header("idempotency-key")
        if seen.announced_size > self.contract.body_bytes_limit:
            expected = adapter.Expectation()
            if kind != "valid":
                expected.add(auth.AUTH_2, "must", "no usable key", statuses=(400, auth.REFUSED))
            limit = self.contract.body_bytes_limit
            expected.add(
                shows.REQ_BODY_2,
                "should",
                "a body over the limit",
                f"{seen.announced_size} > {limit} bytes",
                (sizes.TOO_LARGE,),
            )
        else:
            expected = adapter.expectation(
                self.contract, seen.header("content-type"), exchange.request.body, kind, idem
            )
        header_bytes = sum(len(k) + len(v) + 4 for k, v in seen.headers)  # `name: value\r\n`
        if header_bytes > self.contract.header_bytes_limit:
            # Headers past the limit: accepting or refusing (431) is the server's choice; only a 5xx breaks ERR-2.
            expected.may.append(
                f"headers of {header_bytes} bytes, over the {self.contract.header_bytes_limit}-byte limit"
            )
        exchange.sent = expected.value
        found = self._client(seen, expected, exchange)
        clauses.add(errors.ERR_2)
        found += self._server_error(exchange)
        if exercised.told_to_wait(exchange):  # ERR-2's exception: the client was told to retry; nothing to judge
            return found
        if status >= 500:  # an answer: it breaks the clauses whose outcome the request fixed (rules.exercised)
            broken: set[str] = set()
            found += self._server(lambda: broken.update(adapter.judge_answer(self.ctx, "POST", exchange, expected, {})))
            clauses |= broken
            return found
        clauses |= shows.of_request((b.clause, b.strength) for b in expected.breaks)
        accept_clauses = shows.accepted_create(expected.value) if expected.must_accept else set()
        clauses |= accept_clauses
        if expected.nul_fields:
            clauses.add(shows.REQ_TEXT_1)
        sent = expected.value if isinstance(expected.value, dict) else {}
        created = exchange.created and isinstance(exchange.json_body(), dict)
        slot = (key, digest(idem)) if key is not None and idem is not None else None
        prior = self.idem.get(slot) if slot is not None else None
        if prior is not None and not exchange.created:
            # A retry's refusal (409 in progress, 409/422 for another body) is judged under IDEM, not as a create.
            found += self._retry_refused(exchange, prior, digest(bytes(seen.body)), expected, clauses)
        elif slot is not None and status == idem_rules.IN_PROGRESS and accept_clauses and seen.started > 0.0:
            # "In progress" before the first request's answer was seen: held until that create shows up.
            clauses -= accept_clauses
            held = self._server(lambda: adapter.judge_answer(self.ctx, "POST", exchange, expected, sent))
            self._hold(seen, exchange, token, slot, Judged(held, accept_clauses))
        else:
            found += self._server(lambda: adapter.judge_answer(self.ctx, "POST", exchange, expected, sent))
        if created and not expected.breaks:
            # Judged again for the key actually seen (RES-ENV-1): the generic judge knows only configured keys.
            env = self.contract.environment_of_key(token) if token else None
            found += self._server(lambda: self._report_created(exchange, sent, env, expected))
        if created:
            found += self._across(exchange, key, idem, seen, clauses)
        clauses |= shows.of_answer(status, key_valid=kind == "valid")
        if errors.rejected(status):
            found += self._server(lambda: self._report_problems(exchange))
        if status == auth.REFUSED:
            found += self._server(lambda: adapter.judge_refusal(self.ctx, "a refused request", exchange, False, token))
        return found

    def _client(self, seen: Seen, expected: adapter.Expectation, exchange: Exchange) -> list[Finding]:
        found = [
            Finding(
                brk.clause, "violation", f"the client sent {brk.reason}", check=CLIENT,
                expected="a request within the contract", actual=brk.reason, exchange=exchange,
            )
            for brk in expected.breaks
        ]  # fmt: skip
        if self.query_keys(seen):
            found.append(self._broken(auth.key_in_query(), exchange, check=CLIENT))
        return found

    def _report_created(
        self, exchange: Exchange, sent: dict[str, Any], env: str | None, expected: adapter.Expectation
    ) -> None:
        # Numbers outside I-JSON leave their echo free; duplicate keys leave which value was kept open.
        found = adapter.created_failures(
            self.ctx, exchange, sent, env, numbers_free=expected.numbers_free, echo=expected.echo_judged
        )
        for failure in found:
            self.ctx.report(failure)

    def _report_problems(self, exchange: Exchange) -> None:
        for failure in adapter.problem_failures(exchange):
            self.ctx.report(failure)

    # -- across exchanges -----------------------------------------------------
    def _retry_refused(
        self, exchange: Exchange, prior: _Idem, body: int, expected: adapter.Expectation, clauses: set[str]
    ) -> list[Finding]:
        same_body = prior.body == body
        clauses.add(idem_rules.retry_clause(same_body=same_body))
        retry: idem_rules.Answer[int] = idem_rules.Answer(exchange.status or 0, None, describe(exchange))
        broken = idem_rules.refused_retry(prior.answer, retry, same_body=same_body, fixes_outcome=expected.must_accept)
        return [] if broken is None else [self._broken(broken, exchange)]

    def _across(
        self, exchange: Exchange, key: int | None, idem: str | None, seen: Seen, clauses: set[str]
    ) -> list[Finding]:
        body = exchange.json_body()
        if not isinstance(body.get("id"), str):
            return []
        customer = digest(body["id"])
        found: list[Finding] = []
        replay = False
        if idem is not None and key is not None:
            replay, idem_found = self._idempotency(
                exchange, key, digest(idem), digest(bytes(seen.body)), customer, clauses, seen
            )
            found += idem_found
        clauses.add(across.RES_ID_2)
        if across.repeated_id(self.ids, customer, replay=replay):
            found.append(self._broken(across.duplicate_id(body["id"]), exchange))
        if customer not in self.ids:
            self.ids.add(customer)
            self.id_order.append(customer)
            if len(self.id_order) > IDS_KEPT:
                self.ids.discard(self.id_order.popleft())
        org = body.get("org_id")
        if key is not None and isinstance(org, str):
            known = self.orgs.setdefault(key, digest(org))
            if across.other_org(known, digest(org)):
                found.append(self._broken(across.org_differs(org), exchange))
        return found

    def _idempotency(
        self, exchange: Exchange, key: int, idem: int, body: int, customer: int, clauses: set[str], seen: Seen
    ) -> tuple[bool, list[Finding]]:
        status = exchange.status or 0
        found: list[Finding] = []
        prior = self.idem.get((key, idem))
        replay = False
        retry = idem_rules.Answer(status, customer, describe(exchange))
        if prior is not None:
            self.idem.move_to_end((key, idem))
            same_body = prior.body == body
            # Sent before the first one's answer ended: concurrent requests (IDEM-3), not a retry (IDEM-1).
            overlapped = idem_rules.overlapping(seen.started, prior.answered)
            clauses.add(idem_rules.retry_clause(same_body=same_body, overlapped=overlapped))
            replay = same_body and idem_rules.same_customer(prior.answer, retry)
            broken = idem_rules.created_retry(prior.answer, retry, same_body=same_body, overlapped=overlapped)
            if broken is not None:
                found.append(self._broken(broken, exchange))
        else:
            elapsed = seen.response.elapsed if seen.response is not None else 0.0
            answered = seen.started + elapsed if seen.started > 0.0 else 0.0  # a source without times: never concurrent
            self.idem[(key, idem)] = _Idem(body, status, customer, answered)
            self._explain_waiting((key, idem), body, seen, clauses)
            if len(self.idem) > IDEM_RECORDS:
                self.idem.popitem(last=False)
        owner = self.idem_owner.get(idem)
        if owner is None:
            self.idem_owner[idem] = (key, customer)
            if len(self.idem_owner) > IDEM_RECORDS:
                self.idem_owner.popitem(last=False)
        elif owner[0] != key:
            clauses.add(idem_rules.IDEM_4)
            broken = idem_rules.other_key_replayed(idem_rules.Answer(0, owner[1]), retry)
            if broken is not None:
                found.append(self._broken(broken, exchange))
                replay = True
        return replay, found

    @staticmethod
    def _broken(broken: across.Broken, exchange: Exchange, check: str = SERVER) -> Finding:
        return Finding(
            broken.clause, "violation", broken.title, check=check, expected=broken.expected,
            actual=broken.actual, exchange=exchange,
        )  # fmt: skip

    # -- evidence -------------------------------------------------------------
    def evidence(self, seen: Seen, exchange: Exchange, token: str | None) -> Exchange:
        """A copy fit for a report: keys masked everywhere, bodies capped."""
        secrets = [t for t in {token, *self.query_keys(seen)} if t]
        header = seen.header("authorization")
        match = _BEARER.fullmatch(header) if header is not None else None
        if match:
            secrets.append(match.group(1))

        def clean(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, shown(secret))
            return text

        def clean_bytes(raw: bytes) -> bytes:
            raw = raw[:EVIDENCE_BODY]
            for secret in secrets:
                raw = raw.replace(secret.encode(), shown(secret).encode())
            return raw

        request = exchange.request
        copy = RecordedRequest(
            request.method,
            clean(request.url),
            [(k, clean(v)) for k, v in request.headers],
            clean_bytes(request.body) if request.body is not None else None,
            request.body_size,
            request.key_ref,
            request.containers,
        )
        response = exchange.response
        answer = None
        if response is not None:
            answer = RecordedResponse(
                response.status,
                [(k, clean(v)) for k, v in response.headers],
                clean_bytes(response.body),
                response.truncated or len(response.body) > EVIDENCE_BODY,
                response.elapsed,
            )
        return Exchange(copy, answer, error=exchange.error)

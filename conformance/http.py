"""A defensive HTTP client: every answer, however broken, becomes an Exchange.

Keep-alive pool, a timeout per request, a cap on how much of a response is read
(a 50 MiB answer is truncated evidence, not a memory spike), 429/503 with
`Retry-After` waited out within the run's budget, secrets redacted in every
recorded header and body. Transport failures are recorded, never raised; only
`BudgetExhausted` escapes, and only the runner catches it.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from billing_kit.conformance import jsonsafe
from billing_kit.conformance.model import Exchange, RecordedRequest, RecordedResponse
from billing_kit.conformance.redact import Redactor

RESPONSE_CAP = 1 << 20  # bytes of a response the suite reads
REQUEST_EXCERPT = 8 << 10  # bytes of a request body kept as evidence
MAX_RETRY_WAIT = 30.0
MAX_RETRIES = 3
UNRESPONSIVE_AFTER = 3  # consecutive timeouts before the target counts as hung


class BudgetExhausted(Exception):
    """The run's time budget (--max-time) ran out."""


class TargetStopped(Exception):
    """The target stopped answering part-way: it no longer accepts connections.

    Raised by the client once a run of transport errors is followed by a failed
    connection probe; the runner stops sending and writes the partial report.
    """

    def __init__(self, reason: str, request_number: int, elapsed: float) -> None:
        super().__init__(f"{reason} (request {request_number}, {elapsed:.1f} s into the run)")
        self.reason = reason
        self.request_number = request_number
        self.elapsed = elapsed


class Unreachable(Exception):
    """The target cannot be reached at all (refused, DNS, TLS, connect timeout)."""


class Budget:
    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise BudgetExhausted


@dataclass(frozen=True)
class ClientOptions:
    base_url: str
    timeout: float = 5.0
    extra_headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True
    user_agent: str = "billing-kit-conformance"
    pool_size: int = 32


def retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    def __init__(
        self,
        options: ClientOptions,
        budget: Budget,
        redactor: Redactor,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.options = options
        self.budget = budget
        self.redactor = redactor
        self.on_exchange = on_exchange
        self.sent = 0
        self._timeouts_in_a_row = 0
        self._lock = threading.Lock()
        self._http = self._new_http(options.pool_size)
        # No keep-alive: the one retry of a request whose reused connection the server had just closed.
        self._fresh = self._new_http(0)
        self.reconnects = 0

    def _new_http(self, keepalive: int) -> httpx.Client:
        return httpx.Client(
            verify=self.options.verify,
            limits=httpx.Limits(max_connections=self.options.pool_size, max_keepalive_connections=keepalive),
            headers={"User-Agent": self.options.user_agent, "Accept-Encoding": "identity"},
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()
        self._fresh.close()

    def url(self, path: str) -> str:
        return self.options.base_url.rstrip("/") + path

    @property
    def unresponsive(self) -> bool:
        return self._timeouts_in_a_row >= UNRESPONSIVE_AFTER

    def preflight(self, path: str) -> None:
        """Raise Unreachable unless something answers at the TCP/TLS level."""
        try:
            self._http.request("OPTIONS", self.url(path), timeout=httpx.Timeout(min(self.options.timeout, 8.0)))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.ProxyError) as exc:
            raise Unreachable(_reason(exc)) from None
        except (httpx.TransportError, httpx.InvalidURL):
            # A server that accepts the connection and then hangs or answers
            # garbage is reachable: it is judged (ERR-2), not refused.
            return

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Sequence[tuple[str, str]] = (),
        key_ref: str | None = None,
        retry: bool = True,
    ) -> Exchange:
        self.budget.check()
        all_headers = [*self.options.extra_headers, *headers]
        request = RecordedRequest(
            method=method,
            url=self.url(path),
            headers=[(k, self.redactor.text(v)) for k, v in all_headers],
            body=self.redactor.data(body[:REQUEST_EXCERPT]) if body is not None else None,
            body_size=len(body) if body is not None else 0,
            key_ref=key_ref,
        )
        attempts = 0
        while True:
            attempts += 1
            exchange = self._once(method, path, body, all_headers, request)
            exchange.attempts = attempts
            wait = self._retry_wait(exchange) if retry and attempts <= MAX_RETRIES else None
            if wait is None:
                break
            time.sleep(wait)
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        return exchange

    def _retry_wait(self, exchange: Exchange) -> float | None:
        response = exchange.response
        if response is None or response.status not in (429, 503):
            return None
        wait = retry_after_seconds(response.header("retry-after"))
        if wait is None or wait > MAX_RETRY_WAIT or wait + self.options.timeout > self.budget.remaining():
            return None
        return wait

    def _once(
        self, method: str, path: str, body: bytes | None, headers: list[tuple[str, str]], request: RecordedRequest
    ) -> Exchange:
        if self.unresponsive:
            return Exchange(request, None, error=f"not sent: no answer to {UNRESPONSIVE_AFTER} requests in a row")
        timeout = max(0.05, min(self.options.timeout, self.budget.remaining()))
        started = time.monotonic()
        with self._lock:
            self.sent += 1
        try:
            try:
                recorded, data, truncated = self._attempt(self._http, method, path, body, headers, timeout, started)
            except _StaleConnection:
                # The server closed an idle keep-alive connection as it was reused: what any
                # HTTP client does is resend once on a new connection. A fresh one failing is evidence.
                with self._lock:
                    self.reconnects += 1
                started = time.monotonic()
                recorded, data, truncated = self._attempt(self._fresh, method, path, body, headers, timeout, started)
        except httpx.LocalProtocolError as exc:
            return Exchange(request, None, error=f"not sent: the HTTP client refused the request ({exc})")
        except httpx.TimeoutException:
            with self._lock:
                self._timeouts_in_a_row += 1
            return Exchange(request, None, error=f"no answer within {timeout:.1f} s")
        except (httpx.TransportError, httpx.StreamError) as exc:
            return Exchange(request, None, error=f"{_reason(exc)} after {time.monotonic() - started:.2f} s")
        with self._lock:
            self._timeouts_in_a_row = 0
        if not truncated and data:
            recorded.json, recorded.json_error = jsonsafe.loads(data)
        elif truncated:
            recorded.json_error = f"response larger than {RESPONSE_CAP} bytes (read no further)"
        else:
            recorded.json_error = "empty body"
        return Exchange(request, recorded)

    def _attempt(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        body: bytes | None,
        headers: list[tuple[str, str]],
        timeout: float,
        started: float,
    ) -> tuple[RecordedResponse, bytes, bool]:
        events: list[str] = []
        try:
            with http.stream(
                method,
                self.url(path),
                content=body,
                headers=headers,
                timeout=httpx.Timeout(timeout),
                extensions={"trace": lambda name, _: events.append(name)},
            ) as response:
                data, truncated = self._read_capped(response, started + timeout)
                recorded = RecordedResponse(
                    status=response.status_code,
                    headers=[(k, self.redactor.text(v)) for k, v in response.headers.items()],
                    body=self.redactor.data(data),
                    truncated=truncated,
                    elapsed=time.monotonic() - started,
                    secret_echoed=self.redactor.contains(data),
                )
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
            reused = not any(name.startswith("connection.connect_tcp") for name in events)
            answered = any(name.endswith("receive_response_headers.complete") for name in events)
            # h11 also raises RemoteProtocolError on garbage; only an empty answer means a closed connection.
            empty = not isinstance(exc, httpx.RemoteProtocolError) or "without sending a response" in str(exc)
            if reused and not answered and empty:
                raise _StaleConnection(str(exc)) from exc
            raise
        return recorded, data, truncated

    @staticmethod
    def _read_capped(response: httpx.Response, deadline: float) -> tuple[bytes, bool]:
        buffer = bytearray()
        for chunk in response.iter_bytes():
            buffer += chunk
            if len(buffer) > RESPONSE_CAP:
                return bytes(buffer[:RESPONSE_CAP]), True
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("response body not complete within the timeout")
        return bytes(buffer), False


class _StaleConnection(httpx.TransportError):
    """A reused keep-alive connection failed before any response header: the server had closed it."""


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}"

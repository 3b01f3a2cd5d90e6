"""A defensive HTTP client: every answer, however broken, becomes an Exchange.

The one place that owns every exchange's limits (the preflight, the checks,
Schemathesis's cases and the `--spec URL` loader all send through it):

- a deadline for the whole exchange (`--timeout`, default 5 s): connect,
  writes, drip-fed headers, endless `100 Continue`, body; never past the
  run's `--max-time`, so the run ends within one timeout of its budget;
- `RESPONSE_CAP` (1 MiB) of body read, `wire.WIRE_CAP` (4.25 MiB) of bytes
  read on the wire; the suite asks for `identity`, and a gzip/deflate answer
  is kept as evidence undecoded, never decompressed;
- `RETAINED_BODY` (16 KiB) of a body kept once an exchange is older than the
  last `RETAIN_RECENT` (16) exchanges: whole-run checks read excerpts;
- secrets redacted in every recorded URL, header, body and error text, in
  every form (`redact.Redactor`);
- `--rate` requests per second shared by every thread, `--max-connections`;
- 429/503 with `Retry-After` waited out within the run's budget;
- a target that stops accepting connections part-way raises `TargetStopped`.

Transport failures are recorded, never raised; only `BudgetExhausted` and
`TargetStopped` escape, and only the runner catches them.
"""

from __future__ import annotations

import email.utils
import math
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from billing_kit.conformance import jsonsafe, wire
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.errors import KitError, TargetError
from billing_kit.conformance.model import Exchange, RecordedRequest, RecordedResponse
from billing_kit.conformance.redact import Redactor

RESPONSE_CAP = 1 << 20  # bytes of a response body the suite reads
ECHO_CAP_MAX = 4 << 20  # the most a large request raises it to (see echo_cap)
ECHO_ROOM = 64 << 10  # bytes beside the echo: the other fields and the JSON around them


def echo_size(sent: int) -> int:
    """The most a conforming answer to a body of `sent` bytes can take: the echo twice over and room."""
    return 2 * sent + ECHO_ROOM


def echo_cap(sent: int, cap: int = RESPONSE_CAP) -> int:
    """Bytes of the answer read for a request body of `sent` bytes.

    A conforming 201 echoes what it was sent, so the cap is never below twice the body plus
    room for the other fields (a 1 MiB + 1 body accepted by a server without a body limit
    comes back whole), up to ECHO_CAP_MAX. An answer past the cap could not be a conforming
    answer to that request, and says "larger than the cap (N bytes read)".
    """
    return max(cap, min(ECHO_CAP_MAX, echo_size(sent)))


def cut_short_of_echo(exchange: Exchange) -> bool:
    """An answer cut by a cap smaller than a conforming echo of its request could be: evidence for nothing."""
    response = exchange.response
    if response is None or not response.truncated:
        return False
    return echo_size(exchange.request.body_size) > echo_cap(exchange.request.body_size)


def cut_note(cap: int) -> str:
    return f"larger than the cap ({cap} bytes read)"


REQUEST_EXCERPT = 8 << 10  # bytes of a request body kept as evidence
RETAINED_BODY = 16 << 10  # bytes of a response body kept once the exchange is no longer recent
RETAIN_RECENT = 16  # exchanges whose whole (capped) body is kept
MAX_RETRY_WAIT = 30.0
MAX_RETRIES = 3
UNRESPONSIVE_AFTER = 3  # consecutive timeouts before the target counts as hung
PROBE_AFTER = 5  # consecutive answerless exchanges before checking the target still accepts connections
DEFAULT_CONNECTIONS = 32


class BudgetExhausted(KitError):
    """The run's time budget (--max-time) ran out."""


class TargetStopped(TargetError):
    """The target stopped answering part-way: it no longer accepts connections.

    Raised by the client once a run of transport errors is followed by a failed
    connection probe; the runner stops sending and writes the partial report.
    """

    def __init__(self, reason: str, request_number: int, elapsed: float) -> None:
        super().__init__(f"{reason} (request {request_number}, {elapsed:.1f} s into the run)")
        self.reason = reason
        self.request_number = request_number
        self.elapsed = elapsed


class Unreachable(TargetError):
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
    pool_size: int = DEFAULT_CONNECTIONS  # --max-connections
    rate: float | None = None  # --rate: requests per second, every thread together
    response_cap: int = RESPONSE_CAP  # bytes of a body read (the spec loader reads larger ones)

    @classmethod
    def of_run(cls, config: RunConfig, pool_size: int | None = None) -> ClientOptions:
        """The options of a run's client (the default run's, or a deep worker's with its own pool)."""
        from billing_kit.conformance.version import __version__

        return cls(
            base_url=config.base_url,
            timeout=config.timeout,
            extra_headers=config.headers,
            verify=config.verify,
            user_agent=f"billing-kit-conformance/{__version__}",
            pool_size=config.max_connections if pool_size is None else pool_size,
            rate=config.rate,
        )


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date), or None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # `isdigit` alone accepts `²`, which float() refuses
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return max(0.0, when.timestamp() - time.time())
    except (OverflowError, OSError, ValueError):
        return None


class RateLimiter:
    """At most `rate` requests per second over every thread of the run; waits count against the budget."""

    def __init__(self, rate: float | None, budget: Budget) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.budget = budget
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            if slot - now >= self.budget.remaining():
                raise BudgetExhausted
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


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
        self.rate = RateLimiter(options.rate, budget)
        self._timeouts_in_a_row = 0
        self._answerless_in_a_row = 0
        self._stopped: TargetStopped | None = None
        self._recent: deque[Exchange] = deque()
        self._lock = threading.Lock()
        self._http = self._new_http(options.pool_size)
        # No keep-alive: the one retry of a request whose reused connection the server had just closed.
        self._fresh = self._new_http(0)
        self.reconnects = 0

    def _new_http(self, keepalive: int) -> httpx.Client:
        limits = httpx.Limits(max_connections=self.options.pool_size, max_keepalive_connections=keepalive)
        transport = httpx.HTTPTransport(verify=self._verify(), limits=limits, trust_env=False)
        # httpx has no parameter for it: the pool's sockets come from the guarded backend
        # (deadline, wire cap, early answers).
        transport._pool._network_backend = wire.GuardedBackend()
        return _CookielessClient(
            transport=transport,
            headers={"User-Agent": self.options.user_agent, "Accept-Encoding": "identity"},
            follow_redirects=False,
            trust_env=False,
        )

    def _verify(self) -> ssl.SSLContext | bool:
        """--cacert as an SSL context (httpx deprecates a path), else verify or not."""
        verify = self.options.verify
        return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify

    def close(self) -> None:
        self._http.close()
        self._fresh.close()

    def url(self, path: str) -> str:
        return self.options.base_url.rstrip("/") + path if path else self.options.base_url

    @property
    def stopped(self) -> TargetStopped | None:
        """Set once the target stopped accepting connections; every later send raises it."""
        return self._stopped

    @property
    def unresponsive(self) -> bool:
        return self._timeouts_in_a_row >= UNRESPONSIVE_AFTER

    def reason(self, exc: BaseException) -> str:
        """An exception's text, secrets redacted before it is cut (a cut key is still a key's prefix)."""
        text = self.redactor.text(str(exc).strip()) or type(exc).__name__
        return f"{type(exc).__name__}: {text.splitlines()[0][:200]}"

    def reachable(self) -> None:
        """Raise Unreachable unless the target accepts a TCP connection (and a TLS handshake for https).

        Nothing is sent: a server that accepts and then hangs or answers garbage is
        reachable, and judged (ERR-2) rather than refused.
        """
        parts = urlsplit(self.options.base_url)
        host = parts.hostname or "127.0.0.1"
        timeout = min(self.options.timeout, 8.0, max(0.05, self.budget.remaining()))
        try:
            with socket.create_connection(
                (host, parts.port or (443 if parts.scheme == "https" else 80)), timeout
            ) as sock:
                if parts.scheme == "https":
                    context = httpx.create_ssl_context(verify=self._verify())
                    with context.wrap_socket(sock, server_hostname=host):
                        pass
        except (OSError, ValueError) as exc:
            raise Unreachable(self.reason(exc)) from None

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
        if self._stopped is not None:
            raise self._stopped
        self.budget.check()
        all_headers = [*self.options.extra_headers, *headers]
        request = RecordedRequest(
            method=method,
            url=self.redactor.text(self.url(path)),
            headers=[(k, self.redactor.text(v)) for k, v in all_headers],
            body=self.redactor.data(body)[:REQUEST_EXCERPT] if body is not None else None,
            body_size=len(body) if body is not None else 0,
            key_ref=key_ref,
            containers=jsonsafe.containers(body) if body is not None else 0,
        )
        attempts = 0
        while True:
            attempts += 1
            self.rate.wait()
            exchange = self._once(method, path, body, all_headers, request)
            exchange.attempts = attempts
            wait = self._retry_wait(exchange) if retry and attempts <= MAX_RETRIES else None
            if wait is None:
                break
            time.sleep(wait)
        return self.record(exchange)

    def record(self, exchange: Exchange) -> Exchange:
        """Hand the exchange to the run's log, keep its memory bounded, and notice a target that stopped."""
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        self._retain(exchange)
        self._watch(exchange)
        return exchange

    def _retain(self, exchange: Exchange) -> None:
        """Only the last RETAIN_RECENT exchanges keep their whole body; older ones keep an excerpt."""
        if exchange.response is None or len(exchange.response.body) <= RETAINED_BODY:
            return
        with self._lock:
            self._recent.append(exchange)
            old = self._recent.popleft() if len(self._recent) > RETAIN_RECENT else None
        if old is not None and old.response is not None:
            old.response.body = old.response.body[:RETAINED_BODY]
            old.response.json = jsonsafe.shrink(old.response.json)

    def _watch(self, exchange: Exchange) -> None:
        if exchange.response is not None or (exchange.error or "").startswith("not sent"):
            with self._lock:
                self._answerless_in_a_row = 0
            return
        with self._lock:
            self._answerless_in_a_row += 1
            probe = self._answerless_in_a_row >= PROBE_AFTER
            if probe:
                self._answerless_in_a_row = 0
        if probe:
            refused = self._refuses_connections()
            if refused is not None:
                self._stopped = TargetStopped(
                    f"the server stopped accepting connections ({refused})",
                    self.sent,
                    time.monotonic() - self.budget.started,
                )
                raise self._stopped

    def _refuses_connections(self) -> str | None:
        """Why a fresh TCP connection to the target fails, or None when it is accepted."""
        parts = urlsplit(self.options.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection(
                (parts.hostname or "127.0.0.1", port), timeout=min(2.0, self.options.timeout)
            ):
                return None
        except TimeoutError:
            return None  # a slow accept is a hung server, judged by ERR-2, not a stopped one
        except OSError as exc:
            return self.reason(exc)

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
                left = timeout - (time.monotonic() - started)
                if left <= 0:
                    raise httpx.ReadTimeout("no time left to resend") from None
                recorded, data, truncated = self._attempt(self._fresh, method, path, body, headers, left, started)
        except httpx.LocalProtocolError as exc:
            return Exchange(request, None, error=f"not sent: the HTTP client refused the request ({self.reason(exc)})")
        except httpx.TimeoutException:
            with self._lock:
                self._timeouts_in_a_row += 1
            return Exchange(request, None, error=f"no answer within {timeout:.1f} s")
        except (httpx.TransportError, httpx.StreamError) as exc:
            return Exchange(request, None, error=f"{self.reason(exc)} after {time.monotonic() - started:.2f} s")
        with self._lock:
            self._timeouts_in_a_row = 0
        encoding = (recorded.header("content-encoding") or "identity").strip().lower()
        if encoding not in ("", "identity"):
            recorded.json_error = f"answered with Content-Encoding: {encoding[:40]} though the suite asked for identity"
        elif not truncated and data:
            # Parsed from the redacted body: a value a check quotes (Actual: …) never carries a key.
            recorded.json, recorded.json_error = jsonsafe.loads(recorded.body)
        elif truncated:
            recorded.json_error = cut_note(echo_cap(len(body or b""), self.options.response_cap))
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
        cap = echo_cap(len(body or b""), self.options.response_cap)
        try:
            with (
                wire.exchange_deadline(timeout, wire.wire_cap(cap)),
                http.stream(
                    method,
                    self.url(path),
                    content=body,
                    headers=headers,
                    timeout=httpx.Timeout(timeout, pool=max(timeout, self.budget.remaining())),
                    extensions={"trace": lambda name, _: events.append(name)},
                ) as response,
            ):
                data, truncated = _read_capped(response, cap)
                recorded = RecordedResponse(
                    status=response.status_code,
                    headers=[(k, self.redactor.text(v)) for k, v in response.headers.multi_items()],
                    body=self.redactor.data(data),
                    truncated=truncated,
                    elapsed=time.monotonic() - started,
                    secret_echoed=self.redactor.contains(data)
                    or any(self.redactor.contains(v.encode("latin-1", "replace")) for v in response.headers.values()),
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


def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """At most `cap` bytes of the body as sent (never decoded); the deadline is the stream's."""
    buffer = bytearray()
    try:
        for chunk in response.iter_raw():
            buffer += chunk
            if len(buffer) > cap:
                del buffer[cap:]
                return bytes(buffer), True
    except httpx.ReadError:
        if wire.wire_capped():
            del buffer[cap:]
            return bytes(buffer), True
        raise
    return bytes(buffer), False


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _CookielessClient(httpx.Client):
    """httpx without its cookie jar: every request of a run stands alone, as the contract's requests
    do (a Set-Cookie is never sent back), and no answer is parsed for cookies (4 % of a deep run's CPU)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, value: object) -> None:
        pass


_NO_COOKIES = _NoCookies()


class _StaleConnection(httpx.TransportError):
    """A reused keep-alive connection failed before any response header: the server had closed it."""

"""A standalone Customers API server, written from CONTRACT.md alone: the zoo.

    python tests/servers/zoo.py --port 8001 --keys sk_test_a,sk_live_b [--may lenient|strict]
                                [--defect NAME] [--spec PATH] [--org ORG] [--die-after N]

It stands for "any implementation": standard library only (ThreadingHTTPServer),
in memory, reading nothing of the project but the spec's values (through
conformance.contract). Without `--defect` it conforms to every MUST and SHOULD;
`--may` picks one side of every MAY; `--defect NAME` injects exactly one
realistic defect from defects.json, which names the clause expected to catch it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import zoo_answers
from zoo_auth import Authenticator
from zoo_body import READ_CHUNK, BodyReader
from zoo_rules import LENIENT, STRICT, Reject, Rules, decode_body, dumps, parse_json, validate
from zoo_store import Answer, Identity, Store, fingerprint

HERE = Path(__file__).resolve().parent
DEFECTS_FILE = HERE / "defects.json"
LINGER_SECONDS = 2.0
LINGER_BYTES = 128 * 1024 * 1024
UTF8_CHARSETS = ("utf-8", "utf8")
DIED = 3  # --die-after: the exit status of a server that died
BURST_LIMIT = 4  # 503-under-burst: more requests in flight than this get a bare 503


class App:
    """Everything a request needs: the spec's values, the keys, the store."""

    def __init__(self, args: argparse.Namespace) -> None:
        sys.path.insert(0, str(HERE.parents[1]))
        from billing_kit.conformance.contract import load_contract

        contract = load_contract(args.spec)
        defects = frozenset(args.defect or [])
        self.rules = Rules(
            fields=tuple(contract.request_fields),
            required=tuple(contract.required_request_fields),
            max_lengths=contract.max_lengths,
            object_fields=tuple(contract.object_fields),
            body_limit=contract.body_bytes_limit,
            depth_limit=contract.nesting_depth_limit,
            flavour=args.may,
            defects=defects,
        )
        self.customers_path = f"{contract.base_path}/customers"
        self.idem_max = contract.idempotency_key_max_length
        self.header_timeout = float(contract.limits.get("header_timeout_seconds", 10))
        self.body_timeout = float(contract.limits.get("body_timeout_seconds", 30))
        self.environment_of_key = contract.environment_of_key
        self.keys: dict[str, Identity] = {}
        for item in filter(None, args.keys.split(",")):
            key, _, org = item.strip().partition("=")
            env = contract.environment_of_key(key)
            if env is None:
                raise SystemExit(f"Error: key {key[:8]}… has none of the prefixes {list(contract.key_prefixes)}")
            self.keys[key] = Identity(key, env, org or args.org)
        self.default_org = args.org
        self.store = Store(self.rules, contract.id_prefix, contract.environments)
        self.in_flight = 0
        self.requests = 0
        self.throttle = args.throttle
        self.die_after = args.die_after
        self.creates = 0
        self.in_flight_lock = threading.Lock()

    def on(self, defect: str) -> bool:
        return self.rules.on(defect)


class ZooServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, ZooHandler)


class ZooHandler(Authenticator, BodyReader, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "zoo/1"
    server: ZooServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.app.header_timeout)
        # Headers and body go out in two writes: without this, Nagle meets delayed ACK (40 ms each).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_expect_100(self) -> bool:
        # An oversized body is refused before the client sends it: no `100 Continue`.
        length = (self.headers.get("Content-Length") or "").strip()
        app = self.server.app
        if app.on("expect-417"):  # an old server or proxy that meets no expectation at all
            self.consumed, self.raw = False, b""
            self.problem(Reject(417, "Expectation Failed", "Expect is not supported"), self.command)
            return False
        if length.isdigit() and int(length) > app.rules.body_limit and not app.on("413-missing"):
            return True
        return super().handle_expect_100()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        # Any method at all reaches the dispatcher (the base class answers unknown ones 501).
        if name.startswith("do_"):
            return lambda: self.dispatch(name[3:])
        raise AttributeError(name)

    # -- the request ----------------------------------------------------------
    def dispatch(self, method: str) -> None:
        app = self.server.app
        self.consumed = False
        self.raw = b""
        with app.in_flight_lock:
            app.in_flight += 1
            app.requests += 1
            throttled = app.throttle > 0 and app.requests % app.throttle == 0
        try:
            if throttled:  # polite overload: conforming, the client waits and retries (ERR-2)
                refusal = Reject(429, "Too Many Requests", "retry after 1 second", headers=[("Retry-After", "1")])
                self.problem(refusal, method)
                return
            if app.on("503-under-burst"):
                if app.in_flight > BURST_LIMIT:
                    self.close_connection = True
                    self.send_bytes(503, b"Service Unavailable", "text/plain", method=method)
                    return
                time.sleep(0.05)  # the slow backend the protection is for
            if zoo_answers.refuses_method(app, method):
                page = zoo_answers.error_page(501, f"Unsupported method ({method!r})")
                self.close_connection = True
                self.send_bytes(501, page, "text/html;charset=utf-8", method=method)
                return
            self.handle_request(method)
        finally:
            with app.in_flight_lock:
                app.in_flight -= 1

    def handle_request(self, method: str) -> None:
        app = self.server.app
        try:
            if urlsplit(self.path).path != app.customers_path:
                raise Reject(404, "Not Found", f"no resource at {urlsplit(self.path).path[:60]}")
            if method != "POST":
                if app.on("404-on-get"):
                    raise Reject(404, "Not Found", "no such route")
                allow = [] if app.on("405-no-allow") else [("Allow", "POST")]
                raise Reject(405, "Method Not Allowed", "only POST is allowed on /customers", headers=allow)
            self.create(app)
        except Reject as refusal:
            self.problem(refusal, method)
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            self.send_bytes(500, b"Internal Server Error", "text/plain", method=method)

    def create(self, app: App) -> None:
        who = self.authenticate(app)
        self.check_media_type(app)
        self.raw = self.read_body(app)
        idem_key = self.idempotency_key(app)
        print_ = fingerprint(self.raw)
        if idem_key is not None and app.on("idem-records-failures"):
            self.create_recording_failures(app, who, idem_key, print_)
            return
        fields = validate(parse_json(decode_body(self.raw, app.rules), app.rules), app.rules)
        if idem_key is None:
            self.answer(app.store.create(who, fields))
            return
        replay = app.store.begin(who, idem_key, print_)
        if replay is not None:
            self.answer(replay)
            return
        try:
            answer = app.store.create(who, fields)
        except BaseException:
            app.store.abandon(who, idem_key)
            raise
        app.store.finish(who, idem_key, print_, answer)
        self.answer(answer)

    def create_recording_failures(self, app: App, who: Identity, idem_key: str, print_: str) -> None:
        """The idem-records-failures defect: the key is claimed before validation, and a 400 is kept."""
        replay = app.store.begin(who, idem_key, print_)
        if replay is not None:
            self.answer(replay)
            return
        try:
            fields = validate(parse_json(decode_body(self.raw, app.rules), app.rules), app.rules)
        except Reject as refusal:
            app.store.finish(who, idem_key, print_, Answer(refusal.status, refusal.problem()))
            raise
        answer = app.store.create(who, fields)
        app.store.finish(who, idem_key, print_, answer)
        self.answer(answer)

    def check_media_type(self, app: App) -> None:
        value = self.headers.get("Content-Type")
        if value is None:
            if app.on("500-on-missing-content-type"):
                raise RuntimeError("no Content-Type")  # the realistic bug: None.split()
            if not app.on("415-missing"):
                raise Reject(415, "Unsupported Media Type", "send the body as application/json")
            return
        media_type, *params = (part.strip() for part in value.split(";"))
        charsets = [p.partition("=")[2].strip('" ').lower() for p in params if p.lower().startswith("charset=")]
        if app.on("415-missing"):
            return
        if media_type.lower() != "application/json":
            raise Reject(415, "Unsupported Media Type", "send the body as application/json")
        if any(c not in UTF8_CHARSETS for c in charsets) and not app.on("charset-ignored"):
            raise Reject(415, "Unsupported Media Type", "the body must be UTF-8")
        if app.rules.flavour == STRICT and len(charsets) != len(params):
            raise Reject(415, "Unsupported Media Type", "application/json takes no parameter but charset")

    def idempotency_key(self, app: App) -> str | None:
        values = self.headers.get_all("Idempotency-Key") or []
        if not values or app.on("idem-ignored"):
            return None
        key = values[-1]
        if not 1 <= len(key) <= app.idem_max and not app.on("idem-long-key-accepted"):
            raise Reject(
                400,
                "Bad Request",
                f"Idempotency-Key must be 1 to {app.idem_max} characters",
                [("", "invalid Idempotency-Key header")],
            )
        return key

    # -- the answer -----------------------------------------------------------
    def answer(self, answer: Answer) -> None:
        text = dumps(answer.body)
        failed = zoo_answers.rendered(text)
        if failed is not None:  # the row is stored; the renderer raised
            self.send_bytes(*failed)
            return
        self.send_bytes(answer.status, text.encode("utf-8"), self.json_type(answer.status))
        app = self.server.app
        if app.die_after and answer.status < 300:
            with app.in_flight_lock:
                app.creates += 1
                if app.creates >= app.die_after:  # --die-after N: the process is gone, mid-run
                    print(f"zoo: dying after {app.creates} creates", flush=True)
                    os._exit(DIED)

    def json_type(self, status: int) -> str:
        if status >= 400 and not self.server.app.on("error-not-problem-json"):
            return "application/problem+json"
        return "application/json"

    def problem(self, refusal: Reject, method: str) -> None:
        app = self.server.app
        if app.on("error-not-problem-json"):
            body = f"{refusal.title}: {refusal.detail}".encode()
            self.send_bytes(refusal.status, body, "text/plain", refusal.headers, method)
            return
        detail = refusal.detail
        if app.on("error-stack-trace"):
            detail = f"{detail}\n{traceback.format_exc()}"
        if app.on("error-echoes-value") and self.raw:
            detail = f"{detail} in {self.raw.decode('utf-8', 'replace')}"
        problem = refusal.problem(detail)
        if app.on("error-status-mismatch"):
            problem["status"] = 400
        if app.on("error-no-pointers"):
            problem.pop("errors", None)
        data = json.dumps(problem).encode()
        self.send_bytes(refusal.status, data, "application/problem+json", refusal.headers, method)

    def send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Sequence[tuple[str, str]] = (),
        method: str = "POST",
    ) -> None:
        closing = not self.consumed and self.headers.get("Content-Length", "0").strip() not in ("0", "")
        closing = closing or (not self.consumed and bool(self.headers.get("Transfer-Encoding")))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        if closing:
            self.linger()

    def linger(self) -> None:
        """Close after an early answer without resetting it away: stop writing, drain what is in flight."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.2)
            deadline, drained = time.monotonic() + LINGER_SECONDS, 0
            while time.monotonic() < deadline and drained < LINGER_BYTES:
                part = self.connection.recv(READ_CHUNK)
                if not part:
                    break
                drained += len(part)
        except OSError:
            pass


def defect_names(server: str) -> list[str]:
    table = json.loads(DEFECTS_FILE.read_text())
    return [d["name"] for d in table["defects"] if d["server"] == server]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", required=True, help="comma-separated API keys, each optionally KEY=ORG")
    parser.add_argument("--org", default="org_zoo1", help="the organisation of keys given without one")
    parser.add_argument("--may", choices=(LENIENT, STRICT), default=STRICT)
    # Repeatable: tests of baselines combine two defects in one server.
    parser.add_argument("--defect", choices=defect_names("python"), action="append", default=None)
    parser.add_argument("--spec", default=None, help="the spec whose limits and prefixes to use")
    parser.add_argument("--die-after", type=int, default=0, help=f"exit (status {DIED}) after answering N creates")
    parser.add_argument("--throttle", type=int, default=0, help="answer every Nth request 429 with Retry-After: 1")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    server = ZooServer((args.host, args.port), App(args))
    print(
        f"zoo ({args.may}, defect: {', '.join(args.defect or []) or 'none'}) on http://{args.host}:{args.port}",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

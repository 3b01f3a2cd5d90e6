"""CPU per request without HTTP or load generator: each ASGI app and each step, in process.

    .venv/bin/python bench/inprocess.py [--requests 3000]

wrk shares the machine's two cores with the server (and, here, with other people's
tests), so wall-clock figures wander. This measures CPU time (getrusage: this process,
all threads) while calling each app directly with the same POST, 32 requests in flight
on uvloop (median of 3 interleaved rounds), and while calling each step of the work in a
tight loop. What differs between two apps is what the layer between them costs; HTTP
parsing and socket I/O (the same for all) are not included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from starlette.types import ASGIApp, Message  # noqa: E402

from bench import servers  # noqa: E402
from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract  # noqa: E402
from tests.support.reference import SQLITE_FILE, create_key  # noqa: E402

IN_FLIGHT = 32
ROUNDS = 3


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    for _ in range(calls // 10):
        fn()
    started = cpu_seconds()
    for _ in range(calls):
        fn()
    return (cpu_seconds() - started) / calls * 1e6


async def per_request_us(app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]], body: bytes, n: int) -> float:
    """CPU per request over `n` requests, `IN_FLIGHT` at a time (as wrk's connection pool)."""
    statuses: list[int] = []

    async def one() -> None:
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": list(headers),
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
        }  # fmt: skip
        await app(scope, receive, send)

    async def batch(count: int) -> None:
        for start in range(0, count, IN_FLIGHT):
            await asyncio.gather(*(one() for _ in range(min(IN_FLIGHT, count - start))))

    await batch(n // 10)
    if set(statuses) != {201}:
        raise RuntimeError(f"expected only 201, got {sorted(set(statuses))}")
    started = cpu_seconds()
    await batch(n)
    return (cpu_seconds() - started) / n * 1e6


def _apps() -> dict[str, Callable[[], ASGIApp]]:
    from bench import ablation, floor

    return {
        "floor (bench/floor.py)": floor.create_app,
        "reference app (handlers.app.create_app)": ablation.full,
        "  without AccessLog": ablation.no_access_log,
        "  guard + plain endpoint, no Connexion": ablation.no_connexion,
    }


def step_costs(calls: int) -> dict[str, float]:
    """Each piece of the reference's per-request work, alone."""
    from billing_kit.handlers import keys
    from billing_kit.handlers.backend import Backend
    from billing_kit.handlers.customers import customer_document
    from billing_kit.handlers.jsonbody import parse_object
    from billing_kit.handlers.settings import resolve
    from billing_kit.handlers.spec import contract, new_customer_id
    from billing_kit.handlers.storage import open_storage
    from billing_kit.handlers.storage.base import NewCustomer
    from billing_kit.handlers.validation import RequestValidator, email_problem

    spec = contract()
    storage = open_storage(resolve().db_url, new_customer_id)
    secret = os.environ["BENCH_KEY"]
    raw = os.environ["BENCH_BODY"].encode()
    parsed = parse_object(raw, spec.nesting_depth_limit)
    validator = RequestValidator(spec.request_schema, ["email"])
    api_key = keys.authenticate(storage, secret)
    assert api_key is not None
    new = NewCustomer(api_key.org_id, api_key.environment, parsed["email"], None, None, {})
    created = storage.create_customer(new)
    backend = Backend(storage)
    loop = asyncio.new_event_loop()

    def hop() -> None:
        loop.run_until_complete(backend.write(int))

    return {
        "key lookup: keys.authenticate (SHA-256 + SQLite SELECT)": per_call_us(
            lambda: keys.authenticate(storage, secret), calls
        ),
        "strict JSON parse: jsonbody.parse_object": per_call_us(lambda: parse_object(raw, 32), calls),
        "schema + email: RequestValidator.errors": per_call_us(lambda: validator.errors(parsed), calls),
        "  of which email-validator: email_problem": per_call_us(lambda: email_problem(parsed["email"]), calls),
        "insert + commit (synchronous=FULL): create_customer": per_call_us(lambda: storage.create_customer(new), calls),
        "thread-pool hop: Backend.write(no-op)": per_call_us(hop, calls),
        "response: customer_document + json.dumps": per_call_us(
            lambda: json.dumps(customer_document(created.customer), ensure_ascii=False).encode(),  # type: ignore[union-attr]
            calls,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/inprocess.py", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    contract = load_contract()
    body = servers.request_body(contract).encode("utf-8")
    path = contract.base_path + CUSTOMERS_PATH
    with tempfile.TemporaryDirectory(prefix="billing-inprocess-") as tmp:
        data_dir = Path(tmp)
        key = create_key(contract.sandbox_environment, data_dir)
        os.environ.update(BILLING_DATA_DIR=str(data_dir), BILLING_DB_URL=f"sqlite:///{data_dir / SQLITE_FILE}")
        os.environ.update(BENCH_KEY=key, BENCH_BODY=body.decode())
        headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode()),
                   (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]  # fmt: skip
        # The access log goes where the reference's goes under bench/run.py: a file.
        log = open(data_dir / "stdout.log", "wb")  # noqa: SIM115
        saved_stdout = os.dup(1)
        os.dup2(log.fileno(), 1)
        try:
            apps = {name: factory() for name, factory in _apps().items()}
            measured: dict[str, list[float]] = {name: [] for name in apps}
            for _ in range(ROUNDS):  # interleaved, as bench/run.py does
                for name, app in apps.items():
                    measured[name].append(uvloop.run(per_request_us(app, path, headers, body, args.requests)))
            rows = [(name, statistics.median(values)) for name, values in measured.items()]
            steps = step_costs(args.requests)
        finally:
            os.dup2(saved_stdout, 1)
            log.close()
    print(f"In-process CPU per request: {args.requests} requests, {IN_FLIGHT} in flight, median of {ROUNDS} rounds\n")
    print("| app | CPU per request |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.0f} µs |")
    print("\n| step of the work | CPU per call |\n|---|---|")
    for name, us in steps.items():
        print(f"| {name} | {us:.1f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

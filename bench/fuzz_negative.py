"""`make fuzz`: Schemathesis negative-mode fuzzing of the reference server; no request may get a 5xx.

Starts its own reference server (fresh data directory, a sandbox key) unless given
`--base-url` and `--key`, draws `--requests` negative cases for `POST /v1/customers`
from Schemathesis (seeded, generation only), sends each with a valid key (so bodies,
headers and media types reach validation), and prints the figures: requests sent,
statuses, 5xx, dropped connections, time. Exit 1 on any 5xx or dropped connection,
so the run is a check as well as a measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract  # noqa: E402

BATCH = 1000  # cases per Hypothesis run; each batch has its own seed


@dataclass
class Figures:
    requested: int
    seed: int
    sent: int = 0
    unsendable: int = 0  # cases no HTTP client can put on the wire (e.g. a header with a newline)
    dropped: int = 0  # connection errors and timeouts: ERR-2 failures
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # in all, generation included
    request_seconds: float = 0.0  # waiting for answers only

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "seed": self.seed,
            "sent": self.sent,
            "unsendable": self.unsendable,
            "dropped": self.dropped,
            "five_xx": self.five_xx,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(self.seconds, 2),
            "request_seconds": round(self.request_seconds, 2),
            "mean_request_ms": round(1000 * self.request_seconds / self.sent, 2) if self.sent else None,
            "server_errors": self.server_errors[:5],
        }


def _collector(into: list[Any]) -> Any:
    def collect(case: Any) -> None:
        into.append(case)

    return collect


def _cases(count: int, seed: int) -> Iterator[Any]:
    """`count` negative cases in batches; Hypothesis generates only (nothing fails, nothing shrinks)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis.generation import GenerationMode

    operation = schemathesis.openapi.from_dict(load_contract().spec)[CUSTOMERS_PATH]["POST"]
    strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    produced = 0
    batch_seed = seed
    while produced < count:
        batch: list[Any] = []
        collect = _collector(batch)

        run = settings(
            max_examples=min(BATCH, count - produced),
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(collect))
        hypothesis_seed(batch_seed)(run)()
        if not batch:
            return
        yield from batch[: count - produced]
        produced += len(batch)
        batch_seed += 1


def fuzz(base_url: str, key: str, count: int, seed: int, timeout: float = 30.0) -> Figures:
    import requests

    figures = Figures(requested=count, seed=seed)
    started = time.perf_counter()
    with requests.Session() as session:
        for case in _cases(count, seed):
            sent_at = time.perf_counter()
            try:
                response = case.call(
                    base_url=base_url, session=session, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
                )
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError, ValueError):
                figures.unsendable += 1
                continue
            except requests.exceptions.RequestException as exc:
                figures.dropped += 1
                figures.server_errors.append({"error": type(exc).__name__, "curl": case.as_curl_command()[:500]})
                session.close()
                continue
            figures.request_seconds += time.perf_counter() - sent_at
            figures.sent += 1
            figures.statuses[response.status_code] += 1
            if response.status_code >= 500:
                figures.server_errors.append(
                    {"status": response.status_code, "curl": case.as_curl_command()[:500], "body": response.text[:300]}
                )
    figures.seconds = time.perf_counter() - started
    return figures


@contextmanager
def _own_reference_server() -> Iterator[tuple[str, str]]:
    from tests.support.reference import start_reference_server

    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp, start_reference_server(Path(tmp)) as server:
        yield server.base_url, server.sandbox_key


def _print(figures: Figures) -> None:
    data = figures.as_dict()
    statuses = ", ".join(f"{k}: {v}" for k, v in data["statuses"].items())
    print(f"negative fuzzing, seed {figures.seed}: {figures.sent} requests sent in {data['seconds']}s")
    print(f"  (answers took {data['request_seconds']}s, {data['mean_request_ms']} ms each; the rest is generation)")
    print(f"  {figures.unsendable} cases no HTTP client can send were skipped")
    print(f"  statuses: {statuses}")
    print(f"  5xx: {figures.five_xx}   dropped connections: {figures.dropped}")
    for error in figures.server_errors[:5]:
        print(f"  ! {json.dumps(error)[:400]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=10_000, help="cases to draw (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base-url", help="a running server (http://host:port/v1); default: start the reference")
    parser.add_argument("--key", help="API key for --base-url")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if bool(args.base_url) != bool(args.key):
        parser.error("--base-url and --key go together")
    if args.base_url:
        figures = fuzz(args.base_url, args.key, args.requests, args.seed)
    else:
        with _own_reference_server() as (base_url, key):
            figures = fuzz(base_url, key, args.requests, args.seed)
    _print(figures)
    if args.json:
        args.json.write_text(json.dumps(figures.as_dict(), indent=2) + "\n")
    return 1 if figures.five_xx or figures.dropped else 0


if __name__ == "__main__":
    sys.exit(main())

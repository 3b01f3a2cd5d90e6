"""A spec named by the user, URL included: the contract layer reads paths, this one fetches URLs.

`load_contract(source)` is what the front doors call; a URL is read through the
suite's guarded client (one deadline, SPEC_CAP bytes, redirects followed, no
decoding of compressed answers), so the contract layer imports nothing of the kit.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

from billing_kit.conformance import contract
from billing_kit.conformance.contract import Contract, SpecError
from billing_kit.conformance.http import Budget, BudgetExhausted, Client, ClientOptions
from billing_kit.conformance.redact import Redactor

SPEC_CAP = 16 << 20  # bytes of a spec read from a URL
SPEC_DEADLINE = 30.0  # seconds to fetch a spec from a URL, redirects included
REQUEST_TIMEOUT = 10.0  # seconds for each request of the fetch
MAX_REDIRECTS = 5


def load_contract(source: str | Path | None = None) -> Contract:
    """The bundled spec, or the one at a path or URL given by the user."""
    return contract.load_contract(source, fetch=fetch)


def fetch(url: str) -> bytes:
    """A spec from a URL, through the suite's guarded client: one deadline, SPEC_CAP bytes, redirects followed."""
    budget = Budget(SPEC_DEADLINE)
    for _ in range(MAX_REDIRECTS + 1):
        options = ClientOptions(base_url=url, timeout=REQUEST_TIMEOUT, response_cap=SPEC_CAP)
        client = Client(options, budget, Redactor([]))
        try:
            exchange = client.send("GET", "", retry=False)
        except BudgetExhausted:
            raise SpecError(f"cannot load spec from {url}: no answer within {SPEC_DEADLINE:g} s") from None
        finally:
            client.close()
        response = exchange.response
        if response is None:
            raise SpecError(f"cannot load spec from {url}: {exchange.error}")
        location = response.header("location")
        if response.status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        if response.truncated:
            raise SpecError(f"cannot load spec from {url}: larger than {SPEC_CAP} bytes")
        if (response.header("content-encoding") or "identity").lower() != "identity":
            raise SpecError(f"cannot load spec from {url}: sent {response.header('content-encoding')}-encoded")
        if response.status != 200:
            raise SpecError(f"cannot load spec from {url}: HTTP {response.status}")
        return response.body
    raise SpecError(f"cannot load spec from {url}: more than {MAX_REDIRECTS} redirects")

"""The zoo server with one defect that shows only with volume: `--every N` (default 20,000).

    python tests/servers/rare_defect.py --port 8001 --keys sk_test_a,sk_live_b [--every 2000]
    python tests/servers/rare_defect.py --port 8001 --keys sk_test_a,sk_live_b --every-input 500

Every Nth create is given the id of the create before it (an id collision, RES-ID-2),
as a sequence that wraps or a cache that hands out a stale value would do. A default
run creates a few hundred customers and never meets it; a deep run does.

`--every-input N` instead breaks one rule on about one input in N, the same inputs
every time: a create whose fields (metadata and its run tag too) hash to 0 modulo N answers
without its `updated_at` (RES-1: every field), as a serialiser that drops a column it
reads back late would. It follows the input, not the request count, so a resent
case breaks again and a run's rate of breaking inputs is about 1 in N whatever else
it sends. Everything else is the conforming zoo server (tests/servers/zoo.py), strict
flavour.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import zoo
import zoo_store

DEFAULT_EVERY = 20_000


def install(every: int) -> None:
    """Wrap the store's id generator: every `every`th id repeats the previous one."""
    original = zoo_store.Store._new_id
    lock = threading.Lock()
    state: dict[str, object] = {"count": 0, "last": None}

    def new_id(self: zoo_store.Store, who: zoo_store.Identity) -> str:
        fresh = original(self, who)
        with lock:
            state["count"] = int(str(state["count"])) + 1
            last = state["last"]
            state["last"] = fresh
            if int(str(state["count"])) % every == 0 and isinstance(last, str):
                return last
        return fresh

    zoo_store.Store._new_id = new_id  # type: ignore[method-assign]


def breaks(fields: dict[str, Any], every: int) -> bool:
    """Whether this input is one of the one in `every` the defect breaks (its fields, hashed)."""
    text = json.dumps(fields, sort_keys=True, default=repr)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % every == 0


def install_per_input(every: int) -> None:
    """Wrap the store's create: the inputs `breaks` picks are answered without their updated_at."""
    original = zoo_store.Store.create

    def create(self: zoo_store.Store, who: zoo_store.Identity, fields: dict[str, Any]) -> zoo_store.Answer:
        answer = original(self, who, fields)
        if 200 <= answer.status < 300 and breaks(fields, every):
            answer = zoo_store.Answer(answer.status, {k: v for k, v in answer.body.items() if k != "updated_at"})
        return answer

    zoo_store.Store.create = create  # type: ignore[method-assign]


def _option(argv: list[str], name: str) -> int | None:
    if name not in argv:
        return None
    at = argv.index(name)
    value = int(argv[at + 1])
    del argv[at : at + 2]
    return value


def main() -> None:
    argv = sys.argv[1:]
    per_input = _option(argv, "--every-input")
    if per_input is not None:
        install_per_input(per_input)
    else:
        install(_option(argv, "--every") or DEFAULT_EVERY)
    zoo.main(argv)


if __name__ == "__main__":
    main()

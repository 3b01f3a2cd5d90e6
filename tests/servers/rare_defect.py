"""The zoo server with one defect that shows only with volume: `--every N` (default 20,000).

    python tests/servers/rare_defect.py --port 8001 --keys sk_test_a,sk_live_b [--every 2000]

Every Nth create is given the id of the create before it (an id collision, RES-ID-2),
as a sequence that wraps or a cache that hands out a stale value would do. A default
run creates a few hundred customers and never meets it; a deep run does.
Everything else is the conforming zoo server (tests/servers/zoo.py), strict flavour.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

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


def main() -> None:
    argv = sys.argv[1:]
    every = DEFAULT_EVERY
    if "--every" in argv:
        at = argv.index("--every")
        every = int(argv[at + 1])
        del argv[at : at + 2]
    install(every)
    zoo.main(argv)


if __name__ == "__main__":
    main()

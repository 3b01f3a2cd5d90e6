"""The storage as the async server sees it: blocking calls kept off the event loop.

Writes (which may wait for SQLite's lock or PostgreSQL) run in a small thread pool;
SQLite reads in WAL never wait for a writer, so key lookups run inline when the backend
says so (`inline_reads`), saving a thread hop per request. Any database failure becomes
a 503 problem with `Retry-After` (ERR-2), never a 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from billing_kit.handlers.problems import Problem
from billing_kit.handlers.storage.base import Storage

P = ParamSpec("P")
T = TypeVar("T")
RETRY_AFTER_SECONDS = 1
log = logging.getLogger("billing.storage")


def unavailable() -> Problem:
    return Problem(
        503,
        f"The database is unavailable; retry after {RETRY_AFTER_SECONDS} second",
        headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
    )


class Backend:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.inline_reads = bool(getattr(storage, "inline_reads", False))
        threads = int(getattr(storage, "write_threads", 4))
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="billing-db")

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.inline_reads:
            return await self.write(fn, *args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("storage read failed")
            raise unavailable() from None

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))
        except Exception:
            log.exception("storage write failed")
            raise unavailable() from None

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.storage.close()

"""Shared fixtures: the reference server (a real process on a free port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.reference import ReferenceServer, start_reference_server


@pytest.fixture(scope="session")
def reference_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """One reference server per session (per xdist worker), with a sandbox and a live key.

    Yields a ReferenceServer: `.base_url` (`http://127.0.0.1:PORT/v1`), `.sandbox_key`,
    `.live_key`, `.data_dir`, `.db_path`, `.server` (the process). Tests that stop or
    kill a server start their own with `start_reference_server(tmp_path)`.
    """
    with start_reference_server(tmp_path_factory.mktemp("reference")) as server:
        yield server

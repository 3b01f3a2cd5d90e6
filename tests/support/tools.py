"""Programs the tests drive for real (node, curl, wrk, Chromium).

Without one, a test skips on a developer's machine and FAILS when `CI=true`: CI's
`make test` installs them (`make sysdeps`), so a missing one there is a broken set-up,
never a silent skip.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(program: str, hint: str = "make sysdeps installs it") -> str:
    """The path of `program`; skip (fail under CI=true) when it is not installed."""
    path = shutil.which(program)
    if path is not None:
        return path
    message = f"{program} is not installed ({hint})"
    if in_ci():
        pytest.fail(f"{message}; CI=true needs it", pytrace=False)
    pytest.skip(message)

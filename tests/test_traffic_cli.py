"""`billing-kit proxy` refuses bad arguments with one `Error:` line and exit 2, never a traceback."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.support import forkcli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return forkcli.run(args, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["proxy", "--upstream", "ftp://example.com", "--port", "0"], "--upstream must be an http:// URL"),
        (["proxy", "--port", "0"], "Missing option '--upstream'"),
        (["proxy", "--upstream", "http://127.0.0.1:1", "--port", "0", "--spec", "/nonexistent.yaml"], "nonexistent"),
    ],
)
def test_bad_arguments(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], done.stderr


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("proxy", "--upstream", "http://127.0.0.1:1", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.startswith("Error: cannot listen on") and "Traceback" not in done.stderr


def test_help_lists_both_commands() -> None:
    done = run("--help")
    assert "proxy" in done.stdout and "judge" in done.stdout

"""Every option value the run cannot honour is one `Error:` line and exit 2, before a byte is sent.

The target is a listening socket the test owns: after each refused run it must
have no pending connection, which proves the refusal came before any request.
Spec problems (`--spec` with a non-number limit, YAML nested past the loader,
a URL that drips or never ends) are refused the same way.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_kit.conformance.config import MAX_EXAMPLES, OptionError, from_options
from billing_kit.conformance.contract import bundled_spec_bytes
from tests.support import forkcli
from tests.support.hostile_server import hostile_server

KEY = "sk_test_Options0123456789abcdef"


@pytest.fixture
def silent_target() -> Iterator[tuple[str, socket.socket]]:
    """A port that listens but never accepts: any connection attempt stays queued for the test to see."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1", listener
    finally:
        listener.close()


def nothing_connected(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    return forkcli.run(["check", *args], timeout=120, env={**base_env, **(env or {})})


def assert_refused(proc: subprocess.CompletedProcess[str], start: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["--timeout", "nan"], "Error: --timeout must be a finite number"),
        (["--max-time", "nan"], "Error: --max-time must be a finite number"),
        (["--max-time", "inf"], "Error: --max-time must be a finite number"),
        (["--timeout", "-1"], "Error: --timeout must be positive"),
        (["--clock-skew", "nan"], "Error: --clock-skew must be a finite number"),
        (["--examples", str(MAX_EXAMPLES + 1)], f"Error: --examples must be at most {MAX_EXAMPLES}"),
        (["--rate", "0"], "Error: --rate must be positive"),
        (["--max-connections", "0"], "Error: --max-connections must be between 1 and"),
        (["-H", "X-Thing: a\x01b"], "Error: -H X-Thing: the value contains a control character"),
        (["--api-key", KEY + "\r"], "Error: --api-key contains the character '\\r' (a line ending"),
        (["--api-key", KEY + "\x1b"], "Error: --api-key contains the character '\\x1b'"),
        (["--api-key", " " + KEY], "Error: --api-key contains the character ' '"),
        ([], "Error: no API key: pass --api-key or set $BILLING_API_KEY"),
    ],
)
def test_bad_values_are_refused_before_anything_is_sent(
    silent_target: tuple[str, socket.socket], args: list[str], start: str
) -> None:
    url, listener = silent_target
    key = [] if any(a.startswith("--api-key") for a in args) or not args else ["--api-key", KEY]
    proc = check("--base-url", url, *key, *args)
    assert_refused(proc, start)
    assert nothing_connected(listener)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:83616/v1", "http://127.0.0.1:0/v1", "http://127.0.0.1:65536/v1", "http://[::1/v1"]
)
def test_a_base_url_with_a_bad_port_is_refused(url: str) -> None:
    assert_refused(check("--base-url", url, "--api-key", KEY), "Error: --base-url")


def test_a_key_from_the_environment_with_crlf_is_refused(silent_target: tuple[str, socket.socket]) -> None:
    url, listener = silent_target
    proc = check("--base-url", url, env={"BILLING_API_KEY": KEY + "\r\n"})
    assert_refused(proc, "Error: --api-key contains the character")
    assert KEY not in proc.stderr
    assert nothing_connected(listener)


def test_the_no_key_refusal_still_writes_the_report(silent_target: tuple[str, socket.socket], tmp_path: Path) -> None:
    url, _ = silent_target
    proc = check("--base-url", url, "--report-json", str(tmp_path / "r.json"))
    assert_refused(proc, "Error: no API key")
    assert "--api-key" in (tmp_path / "r.json").read_text()


def test_one_constructor_serves_cli_demo_and_plugin() -> None:
    config = from_options(base_url="http://127.0.0.1:8000/v1/", api_key=KEY, rate=5.0, max_connections=4)
    assert (config.base_url, config.rate, config.max_connections) == ("http://127.0.0.1:8000/v1", 5.0, 4)
    with pytest.raises(OptionError, match="--timeout must be a finite number"):
        from_options(base_url="http://127.0.0.1:8000/v1", timeout=float("inf"))
    with pytest.raises(OptionError, match="--api-key contains the character '\\\\x00'"):
        from_options(base_url="http://127.0.0.1:8000/v1", api_key=KEY + "\x00")


def spec_with(tmp_path: Path, old: str, new: str) -> Path:
    text = bundled_spec_bytes().decode()
    assert old in text
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "start"),
    [
        ("body_bytes: 1048576", "body_bytes: lots", "Error: x-limits.body_bytes must be a non-negative number"),
        ("nesting_depth: 32", "nesting_depth: 3.5", "Error: x-limits.nesting_depth must be a whole number"),
        ("header_bytes: 16384", "header_bytes: .nan", "Error: x-limits.header_bytes must be a non-negative number"),
    ],
)
def test_limits_that_are_not_numbers_are_refused(tmp_path: Path, old: str, new: str, start: str) -> None:
    proc = check("--base-url", "http://127.0.0.1:9/v1", "--api-key", KEY, "--spec", str(spec_with(tmp_path, old, new)))
    assert_refused(proc, start)


def test_yaml_nested_past_the_loader_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("openapi: 3.0.3\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    proc = check("--base-url", "http://127.0.0.1:9/v1", "--api-key", KEY, "--spec", str(deep))
    assert_refused(proc, "Error: ")
    assert "nested too deeply" in proc.stderr or "not valid YAML" in proc.stderr


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[str]:
    with hostile_server(request.param) as origin:
        yield f"{origin}/openapi.yaml"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("hostile", "why"),
    [("huge-json", "larger than"), ("drip-headers", "no answer within"), ("gzip-bomb", "gzip")],
    indirect=["hostile"],
)
def test_a_spec_url_that_drips_or_never_ends_is_refused(hostile: str, why: str) -> None:
    proc = check("--base-url", "http://127.0.0.1:9/v1", "--api-key", KEY, "--spec", hostile)
    assert_refused(proc, "Error: cannot load spec from")
    assert why in proc.stderr

"""The live progress of `billing-kit check`: on a terminal it ticks with the requests sent,
even inside the Schemathesis phase; into a pipe it is plain lines.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios

from tests.support.procs import BILLING_KIT
from tests.support.reference import ReferenceServer

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
GENERIC = "generic.schemathesis_phases"
RATE = 40  # requests per second


def check_args(server: ReferenceServer) -> list[str]:
    # Three clauses: a few targeted checks and the Schemathesis phase. `--rate` gives the phase's
    # 40-odd requests a second at least however fast the machine is (8 refreshes a second):
    # a faster client must not make the counter look frozen.
    only = ["--only", "REQ-EMAIL-1,AUTH-2,REQ-LEN-1", "--examples", "10", "--seed", "3", "--rate", str(RATE)]
    return [BILLING_KIT, "check", "--base-url", server.base_url, "--api-key", server.sandbox_key, *only]


def run_on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run `argv` with stdout and stderr on a pseudo-terminal (120 columns); its exit code and output."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        code = proc.wait(300)
    return code, b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_the_live_line_ticks_through_the_schemathesis_phase(reference_server: ReferenceServer) -> None:
    code, output = run_on_a_terminal(check_args(reference_server))
    assert code == 0, output[-3000:]
    frames = [ANSI.sub("", frame) for frame in re.split(r"\r|\x1b\[2K|\x1b\[1A", output)]
    counts = [
        int(m.group(1))
        for frame in frames
        if f"· {GENERIC} [" in frame and (m := re.search(r"(\d+) requests sent · \d+\.\d s", frame))
    ]
    # The counter moved while the phase ran, between its own progress lines: the display reads it.
    assert len(set(counts)) >= 3, (counts, output[-2000:])
    assert counts == sorted(counts)
    assert f"  {GENERIC} [" in ANSI.sub("", output)  # the finished check's line stays in the log


def test_into_a_pipe_it_is_plain_lines(reference_server: ReferenceServer) -> None:
    done = subprocess.run(check_args(reference_server), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    assert "requests sent" not in done.stdout
    assert any(line.startswith(f"  {GENERIC} [") for line in done.stdout.splitlines())

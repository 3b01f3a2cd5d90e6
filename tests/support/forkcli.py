"""`billing-kit` runs forked from an interpreter that has already imported the kit.

A `billing-kit check` spends about a second of CPU importing Hypothesis, Schemathesis and
the checks before it sends anything; a test that runs the CLI a hundred times pays that a
hundred times. `run(argv, cwd=...)` instead asks one long-lived helper process (started on
first use, one per test process) to fork: the child is a real, separate process that runs
the console script's `main()` on its own argv, working directory, stdout and stderr files,
and exits with the CLI's own exit code. It starts from the helper's clean state (the helper
imports the modules and never runs a command; it is replaced when a source file of the kit
changes), reseeds `random`, and runs `atexit` handlers before it exits, as an interpreter does.
Returns a `subprocess.CompletedProcess`, like `subprocess.run(..., capture_output=True, text=True)`.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.procs import BILLING_KIT, ROOT

# The modules a check imports before its first request (conformance/workers.py preloads the same for deep runs).
PRELOAD = [
    "billing_kit.cli",
    "billing_kit.conformance.cli",
    "billing_kit.conformance.runner",
    "billing_kit.conformance.deep",
    "billing_kit.conformance.checks.generic",
    "schemathesis",
    "hypothesis",
]

# The kit's sources: a helper that imported an older version of one of them is replaced (a working tree
# being edited while tests run must not fork a mix of old modules and new ones).
SOURCES = [ROOT / "conformance", ROOT / "handlers", ROOT / "billing_kit"]


def _source_stamp() -> int:
    stamps = [path.stat().st_mtime_ns for folder in SOURCES for path in folder.rglob("*.py")]
    return max(stamps, default=0)


HELPER = r"""
import atexit, importlib, json, os, random, sys, traceback
sys.path[0] = os.path.dirname(sys.argv[2])  # as for the console script: its own directory, not the cwd
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass  # a module that does not import: each child imports it again and fails as a fresh process would
answers = os.fdopen(os.dup(1), "w")
requests = os.fdopen(os.dup(0), "r")
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
answers.write("ready\n")
answers.flush()

def child(job):
    answers.close()
    requests.close()
    os.dup2(os.open(job["stdout"], os.O_WRONLY | os.O_TRUNC), 1)
    os.dup2(os.open(job["stderr"], os.O_WRONLY | os.O_TRUNC), 2)
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    random.seed()
    sys.argv = [job["prog"], *job["argv"]]
    code = 0
    try:
        from billing_kit.cli import main
        main()
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)

for line in requests:
    job = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        child(job)
    answers.write(json.dumps({"pid": pid}) + "\n")
    answers.flush()
    _, status = os.waitpid(pid, 0)
    answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
    answers.flush()
"""


class _Helper:
    def __init__(self) -> None:
        self.stamp = _source_stamp()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HELPER, json.dumps(PRELOAD), BILLING_KIT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.buffer = b""
        if self._line(120) != "ready":
            raise RuntimeError("the forking helper did not start")

    def _line(self, timeout: float | None) -> str:
        """The helper's next answer line (read from the pipe unbuffered, so `select` sees what is left)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("the forking helper exited")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode().strip()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def run(self, job: dict[str, object], timeout: float | None) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        pid = int(json.loads(self._line(60))["pid"])
        try:
            return int(json.loads(self._line(timeout))["returncode"])
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            self._line(60)  # the helper reaps it and answers
            raise


_lock = threading.Lock()
_helper: list[_Helper] = []


def _get_helper() -> _Helper:
    if _helper and (not _helper[0].alive() or _helper[0].stamp != _source_stamp()):
        _helper.pop().close()
    if not _helper:
        _helper.append(_Helper())
    return _helper[0]


@atexit.register
def _close() -> None:
    for helper in _helper:
        helper.close()


def run(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`billing-kit *argv` in a forked child: its exit code, stdout and stderr (text)."""
    with tempfile.TemporaryDirectory(prefix="forkcli-") as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        out.touch()
        err.touch()
        job = {
            "argv": list(argv),
            "cwd": str(cwd or os.getcwd()),
            "env": dict(os.environ) if env is None else env,  # the caller's environment now, as subprocess.run
            "prog": BILLING_KIT,
            "stdout": str(out),
            "stderr": str(err),
        }
        with _lock:
            try:
                code = _get_helper().run(job, timeout)
            except TimeoutError:
                raise subprocess.TimeoutExpired([BILLING_KIT, *argv], timeout or 0) from None
        stdout, stderr = out.read_text(), err.read_text()
    return subprocess.CompletedProcess([BILLING_KIT, *argv], code, stdout, stderr)

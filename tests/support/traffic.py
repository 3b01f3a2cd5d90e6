"""`billing-kit proxy` as a test fixture: a real process on a free port in front of an upstream.

with proxy_in_front(upstream_origin, tmp_path) as run:
    httpx.post(f"{run.origin}/v1/customers", ...)
run.report      # the JSON report written on SIGINT
run.party("server")  # {clause: verdict} blamed on the server
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import forkcli
from tests.support.procs import BILLING_KIT, free_port


@dataclass
class ProxyRun:
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    returncode: int | None = None
    output: str = ""
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def report_path(self) -> Path:
        return self.workdir / "proxy-report.json"

    @property
    def capture_path(self) -> Path:
        return self.workdir / "proxy-capture.ndjson"

    def verdict(self, clause: str) -> str:
        return verdicts(self.report).get(clause, "ABSENT")

    def party(self, name: str) -> dict[str, str]:
        return party(self.report, name)


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {str(v["clause"]): str(v["verdict"]) for v in report.get("verdicts", [])}


def party(report: dict[str, Any], name: str) -> dict[str, str]:
    rows = report.get("options", {}).get("parties", {}).get(name, {})
    return {clause: str(row["verdict"]) for clause, row in rows.items()}


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"proxy not listening on {port} after {timeout}s")


@contextmanager
def proxy_in_front(
    upstream: str, workdir: Path, extra: Sequence[str] = (), stop: signal.Signals = signal.SIGINT
) -> Iterator[ProxyRun]:
    """`billing-kit proxy --upstream upstream` until the block ends; then `stop` (SIGINT), and the report is read."""
    workdir.mkdir(parents=True, exist_ok=True)
    run = ProxyRun(free_port(), workdir)
    log = workdir / "proxy.log"
    argv = [
        BILLING_KIT, "proxy", "--upstream", upstream, "--port", str(run.port),
        "--report-json", str(run.report_path), "--capture", str(run.capture_path), *extra,
    ]  # fmt: skip
    with log.open("wb") as out:
        run.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_listening(run.port, run.proc, log)
        yield run
    finally:
        if run.proc.poll() is None:
            run.proc.send_signal(stop)
        try:
            run.returncode = run.proc.wait(60)
        except subprocess.TimeoutExpired:
            run.proc.kill()
            run.returncode = run.proc.wait(10)
        run.output = log.read_text(errors="replace")
        if run.report_path.exists():
            run.report = json.loads(run.report_path.read_text())


def judge_file(path: Path, workdir: Path, extra: Sequence[str] = ()) -> tuple[int, dict[str, Any], str, str]:
    """`billing-kit judge path`: (exit code, report, stdout, stderr)."""
    report_path = workdir / f"judge-{path.stem}.json"
    report_path.unlink(missing_ok=True)
    done = forkcli.run(["judge", str(path), "--report-json", str(report_path), *extra], timeout=300)
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return done.returncode, report, done.stdout, done.stderr

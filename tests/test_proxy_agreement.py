"""One judge behind every front door: `check` run through `billing-kit proxy` gets the same verdicts from both.

`check` runs against zoo servers (a conforming one and defects of several kinds)
through the proxy; for every clause either side blames the server on, the
proxy's server-side verdict equals `check`'s, and `judge` on the proxy's capture,
and on a HAR of the same traffic, says the same as the proxy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.servers import zoo_runner
from tests.support import har
from tests.support.tools import require
from tests.support.traffic import judge_file, party, proxy_in_front

BLAME = ("FAIL", "WARN")
# (defect or None for the conforming zoo, the clauses `check` runs): an echo, a length rule,
# a 5xx that is an answer, and on the conforming server the clauses the two judges once disagreed on.
AGREED_ON = ["REQ-EMAIL-2", "RES-ECHO-1", "RES-1", "ERR-2"]
CASES = [
    (zoo_runner.PYTHON, None, AGREED_ON),
    (zoo_runner.NODE, None, AGREED_ON),
    (zoo_runner.PYTHON, "echo-trim", ["RES-ECHO-1"]),
    (zoo_runner.PYTHON, "len-off-by-one", ["REQ-LEN-1"]),
    (zoo_runner.PYTHON, "render-500-html", ["REQ-TEXT-1"]),
]


def blamed(verdicts: dict[str, str]) -> dict[str, str]:
    return {clause: verdict for clause, verdict in verdicts.items() if verdict in BLAME}


@pytest.mark.parametrize(("server", "defect", "only"), CASES, ids=[f"{c[0]}:{c[1] or 'conforming'}" for c in CASES])
def test_the_proxy_and_judge_agree_with_check(server: str, defect: str | None, only: list[str], tmp_path: Path) -> None:
    if server == zoo_runner.NODE:
        require("node", "Node.js 20 runs tests/servers/zoo.mjs")
    with (
        zoo_runner.zoo_server(server, defect) as target,
        proxy_in_front(target.base_url.removesuffix("/v1"), tmp_path / "proxy") as proxy,
    ):
        run = zoo_runner.run_check(dataclasses.replace(target, base_url=f"{proxy.origin}/v1"), only=only)
    checked = {str(v["clause"]): str(v["verdict"]) for v in run.report["verdicts"]}
    server = proxy.party("server")
    # Every clause check blames, the proxy blames the same way ...
    assert {c: server.get(c, "PASS") for c in blamed(checked)} == blamed(checked), (checked, server)
    # ... and every clause the proxy blames that check judged, check blames the same way.
    judged_by_check = {c: v for c, v in checked.items() if v not in ("NOT_RUN", "SKIP")}
    assert {c: judged_by_check.get(c, "PASS") for c in server if c in judged_by_check} == {
        c: v for c, v in server.items() if c in judged_by_check
    }, (checked, server)
    # `judge` on the capture of the same traffic says what the proxy said.
    _, report, _, _ = judge_file(proxy.capture_path, tmp_path)
    assert party(report, "server") == server
    # ... and so does `judge` on a HAR of it (what a recording proxy or a browser would have saved).
    _, from_har, _, _ = judge_file(har.from_capture(proxy.capture_path, tmp_path / "traffic.har"), tmp_path)
    assert party(from_har, "server") == server, (from_har, server)
    if defect is None:
        assert blamed(checked) == {} and server == {}, (checked, server)

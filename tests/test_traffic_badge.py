"""The badge and the statement of a traffic report count the server's verdicts only.

The report is real: `billing-kit proxy` in front of the reference server, valid
creates through it and one create that breaks REQ-LEN-2 (`name: null`), which the
server refuses as it must. The report's REQ-LEN-2 verdict is FAIL, blamed on the
client; the badge and the statement must show the server clean on it and state the
client's finding apart.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from billing_kit.badge import CLIENT_COLOR, GREEN, badge_command
from billing_kit.docs import docs_command
from billing_kit.docs.render import HTML_NAME, MARKDOWN_NAME
from tests.support.reference import ReferenceServer
from tests.support.traffic import party, proxy_in_front

CREATES = 5
BROKEN = "REQ-LEN-2"  # the clause the client's one bad request breaks
SVG = "{http://www.w3.org/2000/svg}"


def make_traffic_report(reference: ReferenceServer, workdir: Path) -> Path:
    """The proxy's JSON report on CREATES valid creates and one with `name: null`."""
    with (
        proxy_in_front(reference.origin, workdir) as run,
        httpx.Client(base_url=run.origin, headers={"Authorization": f"Bearer {reference.sandbox_key}"}) as client,
    ):
        for n in range(CREATES):
            body = {"email": f"traffic-{n}@example.com", "name": "Ada", "metadata": {"plan": "pro"}}
            created = client.post("/v1/customers", json=body)
            assert created.status_code == 201, created.text
        refused = client.post("/v1/customers", json={"email": "traffic-null@example.com", "name": None})
        assert 400 <= refused.status_code < 500, refused.text
    assert run.report, run.output[-2000:]
    path = workdir / "traffic.json"
    path.write_text(json.dumps(run.report))
    return path


@pytest.fixture(scope="module")
def traffic(reference_server: ReferenceServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_traffic_report(reference_server, tmp_path_factory.mktemp("traffic-badge"))


def judged_musts(report: dict[str, Any]) -> list[str]:
    """The MUST clauses the traffic exercised (the rest are SKIP)."""
    return [v["clause"] for v in report["verdicts"] if v["level"] == "MUST" and v["verdict"] != "SKIP"]


def report_title(report: dict[str, Any], clause: str) -> str:
    return str(next(v["title"] for v in report["verdicts"] if v["clause"] == clause))


def test_the_report_blames_the_client_alone(traffic: Path) -> None:
    report = json.loads(traffic.read_text())
    assert {v["clause"]: v["verdict"] for v in report["verdicts"]}[BROKEN] == "FAIL"
    assert party(report, "client") == {BROKEN: "FAIL"}
    assert party(report, "server") == {}


def test_badge_counts_the_servers_verdicts_and_states_the_clients_apart(traffic: Path, tmp_path: Path) -> None:
    report = json.loads(traffic.read_text())
    judged = judged_musts(report)
    assert BROKEN in judged  # the server's refusal was judged: it counts as the server's PASS
    svg = tmp_path / "traffic.svg"
    result = CliRunner().invoke(badge_command, [str(traffic), "-o", str(svg)])
    assert result.exit_code == 0, result.output
    server = f"{len(judged)}/{len(judged)} MUST"
    assert result.output.strip() == f"{svg}: traffic | {server} | client: 1 FAIL"
    root = ET.fromstring(svg.read_text())
    texts = {t.get("class"): t.text for t in root.iter(f"{SVG}text")}
    assert texts == {"label": "traffic", "message": server, "client": "client: 1 FAIL"}
    fills = {r.get("class"): r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("class")}
    assert fills == {"message": GREEN, "client": CLIENT_COLOR}
    title = root.findtext(f"{SVG}title") or ""
    assert f"{BROKEN} FAIL (1)" in title and "not the server's to fix" in title
    unexercised = sum(1 for v in report["verdicts"] if v["level"] == "MUST") - len(judged)
    assert f"{unexercised} MUST clauses never exercised" in title


def test_statement_shows_the_servers_verdicts_and_the_clients_findings_apart(traffic: Path, tmp_path: Path) -> None:
    report = json.loads(traffic.read_text())
    judged = judged_musts(report)
    result = CliRunner().invoke(docs_command, ["--out", str(tmp_path), "--report", str(traffic), "--name", "Ref"])
    assert result.exit_code == 0, result.output
    markdown = (tmp_path / MARKDOWN_NAME).read_text()
    head, client = markdown.split("### Client findings", 1)
    client = client.split("\n## ", 1)[0]
    assert f"{len(judged)}/{len(judged)} MUST clauses the traffic exercised pass on the server's answers" in head
    assert "; 0 FAIL, 0 WARN," in head
    assert "billing-kit proxy" in head
    assert "not the server's to fix" in client
    assert f"- `FAIL` **MUST** [{BROKEN}](#clause-{BROKEN.lower()})" in client and "1 request" in client
    assert "name not a string (null)" in client
    # Beside the clause, in the reference itself: the server's own verdict.
    assert f"Verdict: `PASS`. **MUST** {report_title(report, BROKEN)}" in markdown
    assert f"`FAIL` **MUST** [{BROKEN}]" not in markdown.replace(client, "")
    html = (tmp_path / HTML_NAME).read_text()
    assert 'id="statement-client"' in html and f'class="client-finding" data-clause="{BROKEN}"' in html


def test_a_statement_of_unreadable_parties_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "traffic.json"
    path.write_text(json.dumps({"verdicts": [], "options": {"parties": {"client": []}}}))
    result = CliRunner().invoke(docs_command, ["--out", str(tmp_path / "out"), "--report", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: the report's `options.parties` is not party -> clause -> {verdict, violations}"
    ]

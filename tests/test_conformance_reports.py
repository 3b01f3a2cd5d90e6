"""The reports (terminal, JSON, JUnit, HTML) from hand-built RunResults with the ledger and confirmations filled.

tests/support/report_samples.py builds the runs; tests/test_conformance_reports_browser.py
looks at real runs' HTML in Chromium.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from markupsafe import escape

from billing_kit.conformance import clauses
from billing_kit.conformance.model import Coverage, Finding, RunResult, Verdict
from billing_kit.conformance.reports import (
    SCHEMA_VERSION,
    json_report,
    junit,
    ledger,
    markdown,
    server_answer,
    terminal,
)
from billing_kit.conformance.reports import html as html_report
from billing_kit.conformance.reports.names import case_name, readable_message
from billing_kit.conformance.strategies import BOUNDARY_UNITS
from tests.support import report_samples as samples

JSON_PATH = Path("out/report.json")


def plain(result: object, json_path: Path | None = None) -> str:
    out = io.StringIO()
    terminal.render(result, out, tty=False, json_path=json_path)  # type: ignore[arg-type]
    return out.getvalue()


def line_of(text: str, clause: str) -> str:
    return next(line for line in text.splitlines() if line.split()[1:2] == [clause])


# -- shared pieces ---------------------------------------------------------------------------------


def test_the_ledger_says_what_was_judged_and_what_is_missing() -> None:
    assert ledger(Coverage(planned=48, sent=48, answered=48, judged=48, required=48)) == "48/48 judged"
    partial = Coverage(planned=14, sent=10, answered=4, judged=2, required=14)
    assert ledger(partial) == "2/14 judged (4 not sent, 6 unanswered, needs 14)"
    assert ledger(Coverage()) == ""  # not recorded: say nothing rather than "0/0"
    deep = Coverage(planned=45, sent=45, answered=45, judged=45, required=1, deep=1295)
    assert ledger(deep) == "45/45 judged + 1,295 deep"  # a deep run's cases on the clause


def test_the_servers_answer_is_the_problem_detail_or_the_start_of_the_body() -> None:
    detail = samples.exchange(400, samples.problem(400, "  /name:\n too long "))
    assert server_answer(detail) == 'HTTP 400 application/problem+json: detail "/name: too long"'
    page = server_answer(samples.exchange(500, "<p>" + "x" * 500, "text/html"))
    assert page is not None and page.startswith("HTTP 500 text/html: <p>xxx") and len(page) < 240
    assert server_answer(samples.exchange(204, "", "")) == "HTTP 204, empty body"
    assert server_answer(samples.exchange(None)) == "no answer: Connection reset by peer after 0.05 s"


@pytest.mark.parametrize(("label", "unit"), BOUNDARY_UNITS)
def test_boundary_cases_get_readable_names_from_the_strategys_units(label: str, unit: str) -> None:
    name = case_name(f"external_id: {label} x257")
    assert name.startswith("external_id: ") and "257" in name and f"U+{ord(unit[0]):04X}" in name
    assert f"{label} x257" not in name and "(" in name  # the internal label is replaced by a description


def test_readable_names_for_messages_and_corpus_ids() -> None:
    finding = Finding("REQ-LEN-1", "violation", "name: bmp-3-byte x255 refused", case="name: bmp-3-byte x255")
    assert readable_message(finding) == "name: 255 × U+4E2D (3-byte BMP) refused"
    assert case_name("name: empty") == "name: the empty string"
    assert case_name("json-trailing-comma") == "a trailing comma after the last member"
    assert case_name("not-a-known-case") == "not-a-known-case"


def test_markdown_is_escaped_first_then_marked_up() -> None:
    rendered = markdown.render(
        "a <b>x</b> & **bold** `x<y` ``a`b`` [ok](https://e.org/?a=1&b=2) [bad](javascript:alert(1))"
    )
    assert "&lt;b&gt;x&lt;/b&gt; &amp; <strong>bold</strong>" in rendered
    assert "<code>x&lt;y</code>" in rendered and "<code>a`b</code>" in rendered
    assert '<a href="https://e.org/?a=1&amp;b=2">ok</a>' in rendered
    assert "javascript" in rendered and 'href="javascript' not in rendered
    assert markdown.render("intro\n\n- one\n- two") == "<p>intro</p>\n<ul><li>one</li><li>two</li></ul>"


# -- terminal --------------------------------------------------------------------------------------


def test_terminal_gives_one_line_per_clause_with_its_ledger() -> None:
    result = samples.failing_run()
    text = plain(result)
    for verdict in result.verdicts:
        line = line_of(text, verdict.clause)
        assert line.startswith(verdict.verdict.value) and ledger(verdict.coverage) in line, line
    assert "reproduced 2/2" in line_of(text, "REQ-LEN-1")
    assert "FLAKY 0/2" in line_of(text, "ERR-2")
    assert "reproduced 1/2" in line_of(text, "ERR-3")
    assert samples.SKIP_REASON in line_of(text, "RES-1")
    assert "reproduced" not in line_of(text, "AUTH-1") and "FLAKY" not in line_of(text, "AUTH-1")


def test_terminal_failure_shows_expected_actual_the_answer_and_a_readable_case() -> None:
    text = plain(samples.failing_run())
    block = text.split(line_of(text, "REQ-LEN-1"), 1)[1].split("\nPASS", 1)[0]
    assert "name: 255 × U+4E2D (3-byte BMP) refused" in block
    assert "Expected: 201" in block and "Actual:   HTTP 400" in block
    assert f'Server:   HTTP 400 application/problem+json: detail "{samples.PROBLEM_DETAIL}"' in block
    warn = text.split(line_of(text, "ERR-3"), 1)[1]
    assert "Server:   HTTP 400 text/html: <html><body>Internal details" in warn
    flaky = text.split(line_of(text, "ERR-2"), 1)[1].split("\nWARN", 1)[0]
    assert "Attempts: first sighting: no answer" in flaky
    assert "| confirmation 1: HTTP 431" in flaky and "| confirmation 2: HTTP 431" in flaky
    assert "Server:" not in flaky  # Actual already says there was no answer


def test_terminal_points_to_the_json_report_only_when_one_is_written() -> None:
    result = samples.failing_run()
    without = plain(result)
    assert "(+11 more violations: `billing-kit check --report-json FILE` lists them all)" in without
    assert "in the JSON report" not in without
    written = plain(result, JSON_PATH)
    assert f"(+11 more violations in the JSON report {JSON_PATH})" in written
    assert f"(+14 more in the JSON report {JSON_PATH})" in written  # REQ-EMAIL-4's notes
    assert f"(+196 more in the JSON report {JSON_PATH})" in written  # created ids
    assert "--report-json FILE" not in written


def test_terminal_says_a_stopped_run_first_and_last_and_counts_flaky_apart() -> None:
    lines = plain(samples.failing_run()).splitlines()
    assert lines[0].startswith("The run stopped early: " + samples.STOPPED)
    assert any(samples.INTERNAL_ERROR in line for line in lines[:3])
    assert lines[-3].startswith("The run stopped early: ")
    assert lines[-1].startswith("26 PASS, 2 FAIL (1 FLAKY), 1 WARN, 1 INFO, 2 SKIP - 371 requests")
    passing = plain(samples.passing_run()).splitlines()
    assert "stopped" not in passing[0] and "FLAKY" not in passing[-1]


def test_terminal_on_a_tty_keeps_clause_ids_whole_and_shows_the_labels() -> None:
    out = io.StringIO()
    terminal.render(samples.failing_run(), out, tty=True, json_path=JSON_PATH)
    text = out.getvalue()
    for clause in clauses.CLAUSES:
        assert clause.id in text
    assert "FLAKY 0/2" in text and "reproduced 2/2" in text and "The run stopped early" in text


# -- JSON ------------------------------------------------------------------------------------------


def test_json_report_validates_and_carries_the_ledger_and_confirmations() -> None:
    document = json.loads(json_report.render(samples.failing_run()))
    schema = json_report.load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["schema_version"] == SCHEMA_VERSION == schema["properties"]["schema_version"]["const"]
    assert document["stopped"] == samples.STOPPED and document["internal_errors"] == [samples.INTERNAL_ERROR]
    assert document["flaky"] == 1 and document["exit_code"] == 2
    by_id = {v["clause"]: v for v in document["verdicts"]}
    length = by_id["REQ-LEN-1"]
    assert length["coverage"] == {
        "planned": 48, "sent": 48, "answered": 48, "judged": 48, "required": 1,
        "cases": [f"name: ascii x{n}" for n in (255, 256, 257)] * 16, "note": "", "deep": 0, "summary": "48/48 judged",
        "generated": 0, "listed": 48, "assurance": None,
    }  # fmt: skip
    assert length["reproduced"] == {
        "reproduced": 2, "confirmations": 2, "label": "reproduced 2/2", "unconfirmed": None
    }  # fmt: skip
    violations = [e for e in length["evidence"] if e["kind"] == "violation"]
    assert len(violations) == length["violations"] == 12  # every violation, not the first five
    first = violations[0]
    assert first["title"] == "name: 255 × U+4E2D (3-byte BMP) refused"
    assert first["case_name"] == "name: 255 × U+4E2D (3-byte BMP)"
    assert first["answer"] == f'HTTP 400 application/problem+json: detail "{samples.PROBLEM_DETAIL}"'
    assert [a["label"] for a in first["attempts"]] == ["first sighting", "confirmation 1", "confirmation 2"]
    assert first["attempts"][1]["response"]["status"] == 400
    flaky = by_id["ERR-2"]
    assert flaky["flaky"] is True and flaky["reproduced"]["label"] == "FLAKY 0/2"
    attempts = flaky["evidence"][0]["attempts"]
    assert [a["response"] and a["response"]["status"] for a in attempts] == [None, 431, 431]
    assert by_id["RES-1"]["coverage"]["summary"] == "2/14 judged (12 unanswered, needs 14)"
    assert by_id["AUTH-1"]["reproduced"] is None and by_id["AUTH-1"]["flaky"] is False


def assured_run() -> RunResult:
    """Canned ledgers: a clause on listed cases only, on 1 generated case, on 3,000, and a FAIL on 48."""
    failing = Finding("REQ-LEN-1", "violation", "257 code points accepted", unconfirmed="--confirm 0")
    auth = samples.verdict("AUTH-2", Verdict.PASS, **samples.ledger(12))
    auth.proven = ["auth-bypass-unknown-key", "auth-accepts-basic"]
    return samples.run_result(
        [
            auth,
            samples.verdict("REQ-UNKNOWN-1", Verdict.PASS, **samples.ledger(5), generated=1),
            samples.verdict("RES-1", Verdict.PASS, **samples.ledger(3000), generated=1000, deep=2000),
            samples.verdict("REQ-LEN-1", Verdict.FAIL, [failing], **samples.ledger(48), generated=48, failing=1),
        ]
    )


def test_every_report_states_what_the_generated_cases_rule_out() -> None:
    result = assured_run()
    document = json.loads(json_report.render(result))
    jsonschema.Draft202012Validator(json_report.load_schema()).validate(document)
    by_id = {v["clause"]: v["coverage"] for v in document["verdicts"]}
    assert by_id["AUTH-2"]["assurance"] is None and by_id["AUTH-2"]["listed"] == 12
    proven_auth = [d["name"] for d in document["verdicts"][0]["proven_to_catch"]]
    assert proven_auth == ["auth-bypass-unknown-key", "auth-accepts-basic"]
    assert by_id["REQ-UNKNOWN-1"]["assurance"] == {
        "generated": 1, "rate_ruled_out": pytest.approx(0.95), "summary": "rules out 95%"
    }  # fmt: skip
    assert by_id["RES-1"]["assurance"] == {
        "generated": 3000, "rate_ruled_out": pytest.approx(1 - 0.05 ** (1 / 3000)), "summary": "rules out 1 in 1,000"
    }  # fmt: skip
    failed = by_id["REQ-LEN-1"]["assurance"]
    assert failed["rate_ruled_out"] is None and failed["failing"] == 1
    assert failed["observed_rate"] == pytest.approx(1 / 48) and failed["interval"][0] < 1 / 48 < failed["interval"][1]
    text = plain(result)
    line = {clause: next(row for row in text.splitlines() if f" {clause} " in row) for clause in by_id}
    assert line["REQ-UNKNOWN-1"].rstrip().endswith("5/5 judged · rules out 95%")
    assert line["RES-1"].rstrip().endswith("3000/3000 judged + 2,000 deep · rules out 1 in 1,000")
    assert "broke 1 of 48 generated (95 %: between 1 in 271 and 1 in 9)" in line["REQ-LEN-1"]
    xml = junit.render(result).decode()
    assert 'name="assurance" value="rules out 1 in 1,000"' in xml
    assert 'name="rate_ruled_out" value="0.000998079"' in xml
    assert 'name="proven_to_catch" value="auth-bypass-unknown-key, auth-accepts-basic"' in xml
    assert line["AUTH-2"].rstrip().endswith("12/12 judged · catches 2 known defects")
    page = html_report.render(result)
    assert "· rules out 1 in 1,000</span>" in page and "· rules out 95%</span>" in page
    assert "broke 1 of 48 generated" in page


def test_a_violation_not_tried_again_says_why_in_every_report() -> None:
    """Every FAIL/WARN carries `reproduced`: k/N, or null with the reason it was not tried again."""
    why = "the live key's requests are never resent"
    unconfirmed = Finding("RES-ENV-1", "violation", "a live key got a sandbox customer", unconfirmed=why)
    result = samples.run_result([samples.verdict("RES-ENV-1", Verdict.FAIL, [unconfirmed], **samples.ledger(1))])
    document = json.loads(json_report.render(result))
    jsonschema.Draft202012Validator(json_report.load_schema()).validate(document)
    (entry,) = document["verdicts"]
    assert entry["reproduced"] == {
        "reproduced": None, "confirmations": 0, "label": f"not confirmed: {why}", "unconfirmed": why
    }  # fmt: skip
    assert entry["evidence"][0]["unconfirmed"] == why
    assert f"not confirmed: {why}" in line_of(plain(result), "RES-ENV-1")
    properties = {
        p.get("name"): p.get("value") for p in ET.fromstring(junit.render(result, JSON_PATH)).iter("property")
    }
    assert (properties["reproduced"], properties["unconfirmed"]) == ("not confirmed", why)
    # The schema refuses a FAIL that carries neither a confirmation nor a reason.
    entry["reproduced"] = None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_report.load_schema()).validate(document)


def test_json_report_of_a_passing_run_validates() -> None:
    document = json.loads(json_report.render(samples.passing_run()))
    jsonschema.Draft202012Validator(json_report.load_schema()).validate(document)
    assert document["stopped"] is None and document["flaky"] == 0 and document["exit_code"] == 0


# -- JUnit -----------------------------------------------------------------------------------------


def test_junit_carries_the_ledger_and_failures_with_the_answer() -> None:
    suite = ET.fromstring(junit.render(samples.failing_run(), JSON_PATH))
    cases = {c.get("name", "").split()[0]: c for c in suite.findall("testcase")}
    assert len(cases) == len(clauses.CLAUSES) + 1  # and the internal error
    props = {p.get("name"): p.get("value") for p in cases["REQ-LEN-1"].findall("properties/property")}
    assert props["ledger"] == "48/48 judged" and props["judged"] == "48" and props["reproduced"] == "2/2"
    failure = cases["REQ-LEN-1"].find("failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("name: 255 × U+4E2D (3-byte BMP) refused. Expected: 201; Actual: HTTP 400.")
    assert samples.PROBLEM_DETAIL in message and message.endswith("(reproduced 2/2)")
    assert (failure.text or "").startswith("FAIL REQ-LEN-1: 48/48 judged · reproduced 2/2")
    flaky = cases["ERR-2"].find("failure")
    assert flaky is not None and flaky.get("message", "").startswith("FLAKY 0/2: dropped connection")
    assert {p.get("name"): p.get("value") for p in cases["ERR-2"].findall("properties/property")}["flaky"] == "true"
    skipped = cases["RES-1"].find("skipped")
    assert skipped is not None and skipped.get("message") == samples.SKIP_REASON
    passed = cases["AUTH-1"].findtext("system-out") or ""
    assert passed.startswith("PASS AUTH-1: 20/20 judged")
    assert suite.get("errors") == "1" and samples.STOPPED in (suite.findtext("system-err") or "")
    assert cases["internal"].find("error") is not None


# -- HTML (structure; tests/test_conformance_reports_browser.py looks at it in Chromium) -----------


class Outline(HTMLParser):
    """Element ids in document order, the hrefs of in-page links, and which <details> are open."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.details: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
            if tag == "details":
                self.details[str(found["id"])] = "open" in found
        if tag == "a" and (found.get("href") or "").startswith("#"):
            self.links.append(str(found["href"])[1:])


def test_html_puts_failures_first_folds_the_rest_and_renders_markdown() -> None:
    page = html_report.render(samples.failing_run(), JSON_PATH)
    outline = Outline()
    outline.feed(page)
    assert "<script" not in page and 'src="http' not in page
    assert set(outline.links) <= set(outline.ids) and "REQ-LEN-1" in outline.links and "ERR-3" in outline.links
    order = [i for i in outline.ids if i in ("fail", "warn", "skip", "info", "pass", "created")]
    assert order == ["fail", "warn", "skip", "info", "pass", "created"]
    assert outline.details == {"info": False, "pass": False, "created": False}
    assert outline.ids.index("REQ-LEN-1") < outline.ids.index("ERR-3") < outline.ids.index("AUTH-1")
    assert all(outline.ids.count(c.id) == 1 for c in clauses.CLAUSES)
    assert "5 of 12 violations shown; all in the JSON report out/report.json" in page
    assert "5 of 17 notes shown" in page
    assert "<code>Authorization: Bearer &lt;key&gt;</code>" in page  # AUTH-1's requirement, Markdown rendered
    assert "`" not in page.split('id="AUTH-1"', 1)[1].split("</tr>", 1)[0]
    assert 'class="v FLAKY">FLAKY 0/2' in page and "1 FLAKY" in page
    assert samples.STOPPED in page and escape(samples.INTERNAL_ERROR) in page
    assert page.count("<li><code>cus_") == 206


def test_html_without_a_json_report_says_how_to_get_every_violation() -> None:
    page = html_report.render(samples.failing_run())
    assert "5 of 12 violations shown; <code>--report-json FILE</code> lists them all" in page


def test_html_escapes_what_the_server_sent() -> None:
    result = samples.failing_run()
    verdict = next(v for v in result.verdicts if v.clause == "ERR-3")
    assert verdict.verdict is Verdict.WARN
    page = html_report.render(result)
    assert "&lt;html&gt;&lt;body&gt;Internal details" in page and "<body>Internal" not in page


def test_html_shows_the_server_answer_unless_actual_already_says_it() -> None:
    page = html_report.render(samples.failing_run())
    length = page.split('id="REQ-LEN-1"', 1)[1].split("</article>", 1)[0]
    assert f"<dt>Server</dt><dd>HTTP 400 application/problem+json: detail &#34;{samples.PROBLEM_DETAIL}&#34;" in length
    drop = page.split('id="ERR-2"', 1)[1].split("</article>", 1)[0]
    assert "<dt>Server</dt>" not in drop and "first sighting: no answer" in drop and "confirmation 2: HTTP 431" in drop

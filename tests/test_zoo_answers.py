"""A 5xx is an answer: the clause it breaks FAILs beside ERR-2, and it is never counted unanswered.

Two zoo servers (tests/servers/zoo_answers.py): one stores a lone surrogate and then
answers 500 text/html from its renderer, one answers 501 text/html to every POST (stopped at
the door: the one create it got is evidence of what it broke).
"""

from __future__ import annotations

from typing import Any

from tests.servers import zoo_runner


def verdict_of(run: zoo_runner.CheckRun, clause: str) -> dict[str, Any]:
    return next(v for v in run.report["verdicts"] if v["clause"] == clause)


def test_a_500_from_the_renderer_breaks_req_text_1_beside_err_2() -> None:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, "render-500-html") as target:
        run = zoo_runner.run_check(target, only=["REQ-TEXT-1"])
    text = verdict_of(run, "REQ-TEXT-1")
    assert text["verdict"] == "FAIL", text
    assert text["coverage"]["answered"] == text["coverage"]["sent"], text["coverage"]
    assert "unanswered" not in text["coverage"]["summary"], text["coverage"]
    assert run.verdict("ERR-2") == "FAIL"
    assert run.returncode == 1


def test_501_to_every_post_is_stopped_at_the_door_after_one_create() -> None:
    # Answered, not unanswered: the one create's 501 breaks RES-1 and ERR-2; nothing else is sent.
    with zoo_runner.zoo_server(zoo_runner.PYTHON, "post-501-html") as target:
        run = zoo_runner.run_check(target, only=["AUTH-2", "RES-1", "ERR-2"])
    assert run.returncode == 2
    assert run.report["requests_sent"] == 1
    assert (run.verdict("RES-1"), run.verdict("ERR-2"), run.verdict("AUTH-2")) == ("FAIL", "FAIL", "SKIP")
    assert "is this the Customers API?" in verdict_of(run, "AUTH-2")["note"]
    assert verdict_of(run, "RES-1")["evidence"][0]["actual"] == "HTTP 501"

"""The curl examples printed in the generated docs work against a real reference server.

The command is copied from the page's DOM text as a reader would copy it; only its
server URL is swapped for the local server's, and `$BILLING_API_KEY` is set. Curl's
own flags for reading the answer (`--include`, `--silent`) come from a `.curlrc`
(via CURL_HOME), so the command text stays exactly as printed.
"""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from billing_kit.conformance.contract import load_contract
from billing_kit.docs import docs_command
from billing_kit.docs.curl import API_KEY_VARIABLE
from billing_kit.docs.render import HTML_NAME, MARKDOWN_NAME
from tests.support.openapi_check import assert_conforms
from tests.support.reference import ReferenceServer
from tests.support.tools import require

CONTRACT = load_contract()


@pytest.fixture(autouse=True)
def _curl_installed() -> None:
    require("curl")


class CurlBlocks(HTMLParser):
    """The text of every `<pre class="… curl-example" data-example=NAME>`, by NAME."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: dict[str, str] = {}
        self._current: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self._current is not None:
            self._depth += 1
        elif tag == "pre" and "curl-example" in (attributes.get("class") or "").split():
            self._current = attributes.get("data-example") or ""
            self.blocks[self._current] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._current is None:
            return
        if self._depth == 0:
            self._current = None
        else:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.blocks[self._current] += data


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    result = CliRunner().invoke(docs_command, ["--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def curl_commands(docs_dir: Path) -> dict[str, str]:
    parser = CurlBlocks()
    parser.feed((docs_dir / HTML_NAME).read_text(encoding="utf-8"))
    return parser.blocks


def run_printed(command: str, tmp_path: Path, key: str) -> tuple[int, dict[str, str], bytes]:
    (tmp_path / ".curlrc").write_text("silent\nshow-error\ninclude\nmax-time = 20\n", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "CURL_HOME": str(tmp_path), "HOME": str(tmp_path), API_KEY_VARIABLE: key}
    done = subprocess.run(["bash", "-c", command], capture_output=True, env=env, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)}
    return int(lines[0].split()[1]), headers, body


def test_the_page_prints_every_request_example_and_the_markdown_the_same(docs_dir: Path) -> None:
    commands = curl_commands(docs_dir)
    assert set(commands) == set(CONTRACT.request_examples())
    markdown = (docs_dir / MARKDOWN_NAME).read_text(encoding="utf-8")
    for command in commands.values():
        assert f"```bash\n{command}\n```" in markdown


@pytest.mark.parametrize("environment", ["sandbox", "live"])
def test_the_printed_curl_creates_a_customer(
    docs_dir: Path, reference_server: ReferenceServer, tmp_path: Path, environment: str
) -> None:
    key = reference_server.sandbox_key if environment == "sandbox" else reference_server.live_key
    assert CONTRACT.environment_of_key(key) == environment
    examples = CONTRACT.request_examples()
    for name, printed in curl_commands(docs_dir).items():
        assert printed.count(CONTRACT.server_url) == 1
        command = printed.replace(CONTRACT.server_url, reference_server.base_url)
        status, headers, body = run_printed(command, tmp_path, key)
        assert status == 201, body[:500]
        response = httpx.Response(
            status,
            headers={"content-type": headers["content-type"]},
            content=body,
            request=httpx.Request(
                "POST",
                f"{reference_server.base_url}/customers",
                headers={"content-type": "application/json"},
                content=json.dumps(examples[name]).encode(),
            ),
        )
        created: dict[str, Any] = assert_conforms(response)
        assert CONTRACT.is_valid_id(created["id"])
        assert created["environment"] == environment
        for field, value in examples[name].items():
            assert created[field] == value


def test_without_the_key_variable_the_printed_curl_gets_401(
    docs_dir: Path, reference_server: ReferenceServer, tmp_path: Path
) -> None:
    printed = next(iter(curl_commands(docs_dir).values()))
    status, headers, _ = run_printed(printed.replace(CONTRACT.server_url, reference_server.base_url), tmp_path, "")
    assert status == 401
    assert headers["content-type"].startswith("application/problem+json")

"""`billing-kit docs`: the generated reference follows the spec in use, is self-contained, and is fast."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from billing_kit.conformance.clauses import CLAUSES, clauses_for_field
from billing_kit.conformance.contract import bundled_spec_bytes, load_contract
from billing_kit.docs import docs_command
from billing_kit.docs.fields import constraints, type_label
from billing_kit.docs.model import limit
from billing_kit.docs.render import HTML_NAME, MARKDOWN_NAME
from tests.support.procs import BILLING_KIT

CONTRACT = load_contract()


def generate(out: Path, spec: Path | None = None) -> tuple[str, str]:
    result = CliRunner().invoke(docs_command, ["--out", str(out), *(["--spec", str(spec)] if spec else [])])
    assert result.exit_code == 0, result.output
    return (out / HTML_NAME).read_text(encoding="utf-8"), (out / MARKDOWN_NAME).read_text(encoding="utf-8")


def spec_copy(tmp_path: Path, change: Any) -> Path:
    spec = yaml.safe_load(bundled_spec_bytes())
    change(spec)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def text_of(html: str) -> str:
    """The page's text, tags dropped and entities decoded, whitespace collapsed."""
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", html)).split())


@pytest.fixture(scope="module")
def bundled_docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return generate(tmp_path_factory.mktemp("docs"))


def test_every_field_option_limit_and_status_is_on_both_pages(bundled_docs: tuple[str, str]) -> None:
    html, markdown = bundled_docs
    page = text_of(html)
    options = "Available options: " + ", ".join(CONTRACT.environments)
    for text in (page, markdown.replace("`", "").replace("\\|", "|")):
        for name in [*CONTRACT.request_fields, *CONTRACT.response_fields]:
            assert name in text
        assert options in text
        for max_length in set(CONTRACT.max_lengths.values()):
            assert f"Maximum string length: {max_length} (Unicode code points)" in text
        for status in CONTRACT.documented_statuses:
            assert str(status) in text
        for prefix, environment in CONTRACT.key_prefixes.items():
            assert prefix in text and environment in text
        assert "string | null" in text
        assert "Idempotency-Key" in text
        assert "$BILLING_API_KEY" in text
        assert f"curl -X POST {CONTRACT.server_url}/customers" in text
        for key in CONTRACT.limits:
            assert key in text
    assert "1 MiB (1,048,576 bytes)" in page  # body_bytes: 1048576, as a reader says it


def test_every_clause_is_shown_with_its_level(bundled_docs: tuple[str, str]) -> None:
    html, markdown = bundled_docs
    for clause in CLAUSES:
        assert f'id="clause-{clause.id}"' in html
        assert f"### Clause {clause.id}" in markdown
    # In the Markdown field tables, each field's row cites the clauses that govern it.
    for name in CONTRACT.request_fields:
        row = next(
            line
            for line in markdown.splitlines()
            if line.startswith(f"| `{name}` | `string") or line.startswith(f"| `{name}` | `object")
        )
        for clause in clauses_for_field(f"/{name}"):
            if clause.family == "REQ":
                assert f"**{clause.level.value}** [{clause.id}]" in row


def test_page_is_self_contained(bundled_docs: tuple[str, str]) -> None:
    html, _ = bundled_docs
    assert "<style>" in html
    for forbidden in ("<script", '<link rel="stylesheet"', " src=", "@import", "url("):
        assert forbidden not in html
    # The only external-looking URLs are the API's own, shown as text.
    for url in re.findall(r"https?://[^\s\"'<)]+", html):
        assert url.startswith(CONTRACT.server_url), url


def test_a_changed_limit_changes_the_page(tmp_path: Path, bundled_docs: tuple[str, str]) -> None:
    old = CONTRACT.max_lengths["name"]
    new = old - 156 if old > 200 else old + 100

    def shorten(spec: dict[str, Any]) -> None:
        spec["components"]["schemas"]["CustomerCreate"]["properties"]["name"]["maxLength"] = new
        spec["paths"]["/customers"]["post"]["x-limits"]["body_bytes"] = 65536

    html, markdown = generate(tmp_path / "out", spec_copy(tmp_path, shorten))
    assert html != bundled_docs[0]
    page = text_of(html)
    assert f"Maximum string length: {new} (Unicode code points)" in page
    assert f"Maximum string length: {new} (Unicode code points)" in markdown
    assert "64 KiB (65,536 bytes)" in page
    # external_id keeps its own limit.
    assert f"Maximum string length: {CONTRACT.max_lengths['external_id']} (Unicode code points)" in page
    # The clause text printed beside the field quotes the spec's limits, not the bundled ones.
    old_ext = CONTRACT.max_lengths["external_id"]
    assert f"at most {new} or {old_ext} characters" in page or f"at most {old_ext} or {new} characters" in page


def test_changed_key_prefixes_and_server_url_follow(tmp_path: Path) -> None:
    def change(spec: dict[str, Any]) -> None:
        spec["servers"] = [{"url": "https://billing.example.net/v1"}]
        spec["components"]["securitySchemes"]["bearerAuth"]["x-key-prefixes"] = {
            "rk_live_": "live",
            "rk_test_": "sandbox",
        }

    html, markdown = generate(tmp_path / "out", spec_copy(tmp_path, change))
    assert "curl -X POST https://billing.example.net/v1/customers" in markdown
    assert "<td><code>rk_test_…</code></td>" in html
    assert "<td><code>sk_test_…</code></td>" not in html
    assert "| `rk_live_…` | `live` |" in markdown


@pytest.mark.parametrize(
    ("spec_text", "message"),
    [
        (None, "cannot read spec"),
        ("{not: [yaml", "is not valid YAML or JSON"),
        ("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n", "is not an OpenAPI 3.0 document"),
        ("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\n", "the spec has no POST /customers"),
    ],
)
def test_a_bad_spec_is_one_error_line_exit_2(tmp_path: Path, spec_text: str | None, message: str) -> None:
    spec = tmp_path / "spec.yaml"
    if spec_text is not None:
        spec.write_text(spec_text, encoding="utf-8")
    done = subprocess.run(
        [BILLING_KIT, "docs", "--out", str(tmp_path / "out"), "--spec", str(spec)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], done.stderr
    assert not (tmp_path / "out").exists()


def test_an_unwritable_out_dir_is_one_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = CliRunner().invoke(docs_command, ["--out", str(blocker / "sub")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot write") and result.output.count("\n") == 1


def _no_refs(node: Any) -> Any:
    return node


@pytest.mark.parametrize(
    ("schema", "label"),
    [
        ({"type": "string", "format": "email"}, "string<email>"),
        ({"type": "string", "nullable": True}, "string | null"),
        ({"type": "string", "enum": ["live", "sandbox"]}, "enum<string>"),
        ({"type": "array", "items": {"type": "object"}}, "object[]"),
        ({"type": "integer", "format": "int64", "nullable": True}, "integer<int64> | null"),
    ],
)
def test_type_labels_use_the_seed_pages_notation(schema: dict[str, Any], label: str) -> None:
    assert type_label(schema, _no_refs) == label


def test_constraints_name_their_unit() -> None:
    schema = {"type": "string", "minLength": 1, "maxLength": 9, "x-length-unit": "unicode-code-points"}
    assert constraints(schema) == (
        "Minimum string length: 1 (Unicode code points)",
        "Maximum string length: 9 (Unicode code points)",
    )
    assert constraints({"type": "integer", "minimum": 400, "maximum": 599}) == ("Required range: 400 <= x <= 599",)


@pytest.mark.parametrize(
    ("key", "value", "label", "text"),
    [
        ("body_bytes", 1048576, "Body size", "1 MiB (1,048,576 bytes)"),
        ("body_bytes", 1000, "Body size", "1,000 bytes"),
        ("header_timeout_seconds", 10, "Header timeout", "10 s"),
        ("nesting_depth", 32, "Nesting depth", "32"),
    ],
)
def test_limits_read_as_sentences(key: str, value: int, label: str, text: str) -> None:
    assert (limit(key, value).label, limit(key, value).value) == (label, text)

"""The README and the user guide (docs/guide/): every figure names its source, links resolve,
the README stays short, and the text speaks of the kit only.

A figure is a number with a unit of time, size, rate or ratio (`3.5 s`, `710 requests/s`,
`+23.6 MiB`, `22.1×`, `97.9 %`, `1,351 requests`) outside code. The block it stands in
(a paragraph, a list or a table) carries a marker naming where it came from:

    <!-- figure: bench/results/default_run-20261207T053405Z.json check.requests_min check.requests_max -->

The file must exist and be named in the block's visible text too (so a reader sees it);
each key path after it (dots, list indices as numbers) must resolve in that JSON file, and
the value must appear in the block as written (`1351` may be written `1,351`; a float may be
rounded). Values the spec holds name `openapi.yaml`; a figure measured by a test names the test.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.support.procs import ROOT

GUIDE = ROOT / "docs" / "guide"
PAGES = [ROOT / "README.md", *sorted(GUIDE.glob("*.md"))]
README_MAX_LINES = 150

MARKER = re.compile(r"(?<!`)<!--\s*figure:\s*(?P<body>.*?)\s*-->")
FENCE = re.compile(r"^(```|~~~)")
CODE_SPAN = re.compile(r"`[^`]*`")
LINK_TARGET = re.compile(r"\]\(([^)]*)\)")
UNIT = (
    r"\s(?:s|h)|\s?(?:ms|µs|min|MiB|KiB|GiB|MB|GB/s|req/s|requests/s|creates/s|%)|"
    r"\s(?:requests|exchanges|customers|mutants|tests|runs)"
)
FIGURE = re.compile(rf"(?<![\w.\-/])[+−-]?\d[\d,]*(?:\.\d+)?(?:{UNIT})(?![\w/])|(?<![\w.])\d[\d,]*(?:\.\d+)?×")

# Words about how the kit came to be, which a reader has no context for.
HISTORY = [
    r"\bissue\s+\d+",
    r"\bissue's\b",
    r"(?<![\w/&(])#\d+\b",
    r"\bstop\s+\d+\b",
    r"\bthis session\b",
    r"\bgrader",
    r"\bthe lead\b",
    r"\bhelpers?\b",
    r"the page the project comes from",
]


def blocks(text: str) -> list[str]:
    """Paragraphs, lists and tables outside fenced code, each as its lines joined."""
    out: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            in_fence = not in_fence
            if current:
                out.append("\n".join(current))
                current = []
            continue
        if in_fence:
            continue
        if not line.strip():
            if current:
                out.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        out.append("\n".join(current))
    return out


def visible(block: str) -> str:
    return MARKER.sub("", block)


def figures_in(block: str) -> list[str]:
    prose = LINK_TARGET.sub("]", CODE_SPAN.sub("", visible(block)))
    return [m.group(0) for m in FIGURE.finditer(prose) if not m.group(0).startswith("#")]


def resolve(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def renderings(value: Any) -> set[str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return {str(value)}
    shown = {f"{value:,}", str(value)} if isinstance(value, int) else set()
    if isinstance(value, float):
        for digits in range(4):
            shown |= {f"{value:.{digits}f}", f"{value:,.{digits}f}"}
    return shown | {s.replace("-", "−") for s in shown}  # a typographic minus too


def page_blocks() -> list[tuple[str, str]]:
    return [(page.relative_to(ROOT).as_posix(), b) for page in PAGES for b in blocks(page.read_text(encoding="utf-8"))]


def test_the_guide_has_its_pages() -> None:
    for name in [
        "index",
        "checking-a-server",
        "ci",
        "traffic",
        "deep-runs",
        "reference-server",
        "reliability",
        "benchmarks",
        "how-it-is-tested",
        "troubleshooting",
    ]:
        assert (GUIDE / f"{name}.md").is_file(), name


def test_every_figure_names_its_source() -> None:
    unsourced = [
        f"{page}: {figures_in(block)[:3]} in: {block[:160]!r}"
        for page, block in page_blocks()
        if figures_in(block) and not MARKER.search(block)
    ]
    assert unsourced == [], "add a <!-- figure: FILE … --> marker:\n" + "\n".join(unsourced)


def test_every_source_exists_is_named_and_holds_the_values_quoted() -> None:
    problems: list[str] = []
    for page, block in page_blocks():
        for marker in MARKER.finditer(block):
            source, *keys = shlex.split(marker.group("body"))  # a key with spaces is quoted: cli."a b".x
            path = ROOT / source
            if not path.is_file():
                problems.append(f"{page}: {source} does not exist")
                continue
            if source not in visible(block) and path.name not in visible(block):
                problems.append(f"{page}: the block does not name {source}")
            if not keys:
                continue
            document = json.loads(path.read_text(encoding="utf-8"))
            for key in keys:
                try:
                    value = resolve(document, key)
                except (KeyError, IndexError, ValueError, TypeError):
                    problems.append(f"{page}: {source} has no {key}")
                    continue
                if not any(shown in visible(block) for shown in renderings(value)):
                    problems.append(f"{page}: {source} {key} = {value!r}, not quoted in: {block[:120]!r}")
    assert problems == []


def test_the_figure_rule_finds_figures_and_sees_markers() -> None:
    """The rule itself: a quoted time is a figure, a flag in code is not, a marker is found."""
    assert figures_in("the run took 3.5 s and sent 541 requests") == ["3.5 s", "541 requests"]
    assert figures_in("`--duration 30s`, `--max-time 15`, see #16") == []
    assert figures_in("22.1× faster, +23.6 MiB") == ["22.1×", "+23.6 MiB"]
    block = (
        "541 requests (`bench/results/latest.json`)\n<!-- figure: bench/results/latest.json suite.check.requests -->"
    )
    assert MARKER.search(block) and "541" in renderings(
        resolve(json.loads((ROOT / "bench/results/latest.json").read_text()), "suite.check.requests")
    )


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, len(lines)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_text_speaks_of_the_kit_only(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    found = [m.group(0) for pattern in HISTORY for m in re.finditer(pattern, text, flags=re.IGNORECASE)]
    assert found == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in LINK_TARGET.findall(text):
        if target.startswith("#"):
            if target[1:] not in anchors(text):
                broken.append(target)
            continue
        if re.match(r"[a-z]+:", target):
            continue
        file_part = target.split("#", 1)[0]
        resolved = (page.parent / file_part).resolve()
        if not resolved.exists():
            broken.append(target)
        elif "#" in target and resolved.suffix == ".md":
            anchor = target.split("#", 1)[1]
            if anchor not in anchors(resolved.read_text(encoding="utf-8")):
                broken.append(target)
    assert broken == []


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.*)$", text, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_guide_index_links_every_page() -> None:
    index = (GUIDE / "index.md").read_text(encoding="utf-8")
    linked = {Path(t.split("#", 1)[0]).name for t in LINK_TARGET.findall(index)}
    pages = {p.name for p in GUIDE.glob("*.md")} - {"index.md"}
    assert pages - linked == set()

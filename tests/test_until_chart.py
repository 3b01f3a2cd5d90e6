"""`reports/chart.py`: the rate each clause rules out against time, as inline SVG."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from billing_kit.conformance.assurance import cases_for
from billing_kit.conformance.reports import chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_one_line_per_clause_on_a_log_scale_labelled_1_in_n() -> None:
    series = {"A": [[10, 30], [20, 300], [30, 3000]], "B": [[10, 30], [30, 60]], "<C>": [[30, 5]]}
    root = parse(chart.render(series, goal=1e-3))
    lines = root.findall(f"{SVG}polyline")
    assert sorted(p.get("data-clause") or "" for p in lines) == ["<C>", "A", "B"]
    labels = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "y-label"]
    assert "1 in 100" in labels and "1 in 1,000" in labels
    a = next(p for p in lines if p.get("data-clause") == "A")
    ys = [float(point.split(",")[1]) for point in (a.get("points") or "").split()]
    # Ten times the cases, about ten times smaller a rate: one decade apart, evenly, going down.
    assert ys[0] < ys[1] < ys[2]
    assert abs((ys[1] - ys[0]) - (ys[2] - ys[1])) < 2
    assert root.find(f"{SVG}line[@class='goal']") is not None


def test_texts_are_escaped_and_no_script_is_written() -> None:
    svg = chart.render({"<script>x</script>": [[1, 10]]})
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    parse(svg)


def test_nothing_to_draw_is_an_empty_string() -> None:
    assert chart.render({}) == ""
    assert chart.render({"A": [[1, 0]]}) == ""


def test_the_plot_grows_so_every_clause_name_has_its_own_line() -> None:
    series = {f"C{i:02d}": [[1, 10], [60, cases_for(1e-3)]] for i in range(40)}
    root = parse(chart.render(series))
    ys = sorted(float(t.get("y") or 0) for t in root.findall(f"{SVG}text") if t.get("class") == "clause-label")
    assert len(ys) == 40
    assert min(b - a for a, b in itertools.pairwise(ys)) >= chart.LABEL_GAP - 0.1
    height = float(re.search(r'height="([\d.]+)"', chart.render(series)).group(1))  # type: ignore[union-attr]
    assert max(ys) <= height - chart.BOTTOM + 4

"""The SVG chart module: well-formed, labelled for screen readers, escaped, deterministic,
honest about empty data, and drawn to scale."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from provisionmap import charts

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = ["3 Nov", "10 Nov", "17 Nov", "24 Nov"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well formed


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}rect[@class='bar']")


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_bar_chart_is_labelled_for_screen_readers_and_sized_for_print():
    svg = charts.bar_chart(WEEKS, [5, 0, 2, 1], title="Incidents per week", value_label="Incidents")
    root = parse(svg)
    assert root.get("role") == "img"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("640", "320", "0 0 640 320")
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title.text == "Incidents per week"
    assert desc.text == "Incidents per week, 4 bars: highest 5 in 3 Nov; total 8."
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert {"3 Nov", "10 Nov", "17 Nov", "24 Nov", "Incidents"} <= set(texts(root))


def test_nothing_external_in_a_chart():
    svg = charts.bar_chart(WEEKS, [1, 2, 3, 4], title="T", line=[1, None, 2, 3], line_label="Mean")
    svg += charts.horizontal_bar_chart(["a"], [1], title="H")
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in svg and "href" not in svg and "@import" not in svg and "style=" not in svg


def test_text_is_escaped_and_characters_xml_cannot_hold_are_dropped():
    nasty = "A <b>&\"quoted\" 'one'\x00\x07"
    svg = charts.bar_chart([nasty, "</svg><script>"], [1, 2], title=nasty, value_label=nasty)
    svg += charts.horizontal_bar_chart([nasty], [3], title=nasty, description=nasty)
    for chart in svg.split("</svg>")[:-1]:
        parse(chart + "</svg>")
    assert "<b>" not in svg and "<script>" not in svg and "\x00" not in svg
    root = parse(charts.bar_chart([nasty], [1], title=nasty))
    assert root.find(f"{SVG}title").text == "A <b>&\"quoted\" 'one'"


def test_same_input_gives_the_same_bytes():
    def make():
        return charts.bar_chart(
            WEEKS, [3, 1, 4, 1], title="Weekly", line=[2.5, None, 3.25, 1], line_label="Mean", line_max=5
        ) + charts.horizontal_bar_chart(["Lunch", "Lesson"], [5, 9], title="Where")

    assert make() == make()


def test_bar_heights_are_proportional_to_the_values():
    root = parse(charts.bar_chart(WEEKS, [8, 4, 2, 0], title="T"))
    heights = [float(r.get("height")) for r in bars(root)]
    assert heights[0] > 0
    assert [h / heights[0] for h in heights] == pytest.approx([1, 0.5, 0.25, 0])
    # The bars stand on one baseline.
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 2) for r in bars(root)}
    assert len(bottoms) == 1


def test_horizontal_bar_lengths_are_proportional_and_long_labels_are_shortened():
    long = "Transition between activities or places, such as corridors at change of lesson"
    root = parse(charts.horizontal_bar_chart(["Lesson", long, "Other"], [6, 3, 0], title="Where"))
    widths = [float(r.get("width")) for r in bars(root)]
    assert [w / widths[0] for w in widths] == pytest.approx([1, 0.5, 0])
    shown = texts(root)
    assert long not in shown and any(t.endswith("…") and long.startswith(t[:-1]) for t in shown)
    # The whole label stays in the bar's own title.
    assert any(long in (t.text or "") for t in root.iter(f"{SVG}title"))


def test_axis_runs_to_a_round_number_at_or_above_the_highest_value():
    root = parse(charts.bar_chart(["a", "b"], [7, 3], title="T"))
    ticks = [t for t in texts(root) if t.isdigit()]
    assert {"0", "2", "4", "6", "8"} <= set(ticks) and "10" not in ticks
    grid_top = min(
        float(line.get("y1"))
        for line in root.iter(f"{SVG}line")
        if line.get("stroke") == charts.GRID and line.get("y1") == line.get("y2")
    )
    bar_top = min(float(r.get("y")) for r in bars(root))
    assert bar_top > grid_top  # 7 of 8 stops short of the top line


def test_empty_data_draws_an_empty_axis_saying_no_data():
    for svg in (
        charts.bar_chart([], [], title="Nothing yet"),
        charts.horizontal_bar_chart([], [], title="Nothing yet"),
    ):
        root = parse(svg)
        assert bars(root) == []
        assert "No data" in texts(root)
        assert root.find(f"{SVG}desc").text == "Nothing yet: no data."


def test_all_zero_data_draws_zero_bars_on_a_zero_to_one_axis():
    root = parse(charts.bar_chart(WEEKS, [0, 0, 0, 0], title="Quiet weeks"))
    assert [float(r.get("height")) for r in bars(root)] == [0, 0, 0, 0]
    assert {"0", "1"} <= set(texts(root))
    assert root.find(f"{SVG}desc").text == "Quiet weeks, 4 bars: all are zero."


def test_second_series_is_a_broken_line_with_dots_on_its_own_axis():
    root = parse(
        charts.bar_chart(
            WEEKS, [2, 0, 1, 3], title="T", line=[4, None, 2, 2.5], line_label="Mean intensity", line_max=5
        )
    )
    points = root.findall(f".//{SVG}circle[@class='point']")
    assert len(points) == 3  # no dot for the week with no mean
    lines = root.findall(f".//{SVG}polyline")
    assert [len(p.get("points").split()) for p in lines] == [2]  # the lone first dot has no line
    # Its axis runs 0 to 5 on the right; a mean of 2 sits at 2/5 of the plot's height.
    assert {"Mean intensity", "5"} <= set(texts(root))
    assert "Mean intensity ranges from 2 to 4." in root.find(f"{SVG}desc").text
    ys = [float(c.get("cy")) for c in points]
    assert (ys[1] - ys[0]) / (ys[1] - ys[2]) == pytest.approx(2 / 0.5)  # 4 vs 2 vs 2.5


def test_many_categories_slant_their_labels():
    labels = [f"w/c {i} March 2025" for i in range(30)]
    root = parse(charts.bar_chart(labels, list(range(30)), title="Long"))
    slanted = [t for t in root.iter(f"{SVG}text") if (t.get("transform") or "").startswith("rotate(-45")]
    assert len(slanted) == 30 and all(float(t.get("x")) > 0 for t in slanted)


def test_bad_values_are_refused():
    for values in ([-1], [math.nan], [math.inf], ["3"], [True]):
        with pytest.raises(ValueError, match="Chart values"):
            charts.bar_chart(["a"], values, title="T")
    with pytest.raises(ValueError, match="one value per category"):
        charts.bar_chart(["a", "b"], [1], title="T")


def test_decimals_from_the_database_are_drawn():
    root = parse(charts.horizontal_bar_chart(["a", "b"], [Decimal("2.5"), Decimal("5")], title="T"))
    widths = [float(r.get("width")) for r in bars(root)]
    assert widths[0] / widths[1] == pytest.approx(0.5)


def test_table_rows_format_as_the_chart_labels_them():
    rows = charts.table_rows(WEEKS[:3], [3, 0, 12], [2.25, None, 4.0])
    assert rows == [("3 Nov", "3", "2.2"), ("10 Nov", "0", "—"), ("17 Nov", "12", "4")]
    assert charts.format_number(-0.01) == "0"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_colours_have_enough_contrast_on_white():
    assert contrast(charts.INK, "#ffffff") >= 4.5
    assert contrast(charts.MUTED, "#ffffff") >= 4.5  # axis labels are text
    assert contrast(charts.LINE_COLOUR, "#ffffff") >= 4.5  # the right axis labels are in it
    assert contrast(charts.BAR_COLOUR, "#ffffff") >= 4.5  # white value labels sit on bars

"""SVG charts for pages and PDF reports: the one chart module (DESIGN §4).

Pure Python with no knowledge of pupils or schools: callers pass labels and numbers and get
back SVG markup as a `SafeString`, ready to drop into a template that the browser shows or
WeasyPrint prints. No script, no external fonts, stylesheets or URLs, so the page's strict
Content-Security-Policy and an offline PDF build both accept it.

Every chart
- is an `<svg role="img">` labelled by its `<title>` and described by its `<desc>`, a sentence
  that says what the chart shows (the highest value and where it falls), for screen readers;
- has a fixed viewBox and width/height, so it prints at a known size;
- escapes every piece of text it draws (and drops characters XML cannot hold);
- is deterministic: the same input gives the same bytes, so a report snapshot can be rebuilt
  and compared;
- draws an empty axis with "No data" when there is nothing to show.

A chart is never the only way to read the figures: pages show a `<table>` beside it, and
`table_rows()` formats the same numbers the same way for that table.

Colours are chosen for contrast on white: bars 9:1, the second series 5:1, text 19:1 and
axis labels 7:1, well above WCAG's 3:1 for graphics and 4.5:1 for text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe

BAR_COLOUR = "#1d4d6b"
LINE_COLOUR = "#b3400b"
INK = "#0b0c0c"
MUTED = "#505a5f"
GRID = "#b1b4b6"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
FONT_SIZE = 12
# A rough average glyph width at FONT_SIZE, used only to leave room for labels.
CHAR_WIDTH = 7.0
NO_DATA = "No data"
MISSING = "—"

Number = int | float | Decimal

# Characters XML 1.0 cannot carry at all, even escaped (NUL and most C0 controls).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")


# --- public helpers -----------------------------------------------------------------------


def format_number(value: Number | None) -> str:
    """How charts and their tables write a figure: whole numbers plainly, others to one
    decimal place (3, 2.5); a missing value as a dash."""
    if value is None:
        return MISSING
    rounded = round(float(value), 1)
    if rounded == 0:
        return "0"  # never "-0"
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:.1f}"


def table_rows(categories: Sequence[str], *columns: Sequence[Number | None]) -> list[tuple[str, ...]]:
    """Rows for the data table shown beside a chart: each category with its figures,
    formatted as the chart labels them."""
    _check_lengths(categories, *columns)
    return [
        (str(category), *(format_number(column[i]) for column in columns))
        for i, category in enumerate(categories)
    ]


def describe_bars(title: str, categories: Sequence[str], values: Sequence[Number], *, unit: str = "") -> str:
    """A sentence for `<desc>`: how many bars, the highest (first one on a tie) and the total."""
    if not categories:
        return f"{title}: no data."
    unit = f" {unit}" if unit else ""
    total = sum(values)
    if total == 0:
        return f"{title}, {len(categories)} bars: all are zero."
    top = max(range(len(values)), key=lambda i: (values[i], -i))
    return (
        f"{title}, {len(categories)} bars: highest {format_number(values[top])}{unit} "
        f"in {categories[top]}; total {format_number(total)}{unit}."
    )


# --- the charts -----------------------------------------------------------------------------


def bar_chart(
    categories: Sequence[str],
    values: Sequence[Number],
    *,
    title: str,
    description: str | None = None,
    value_label: str = "Count",
    line: Sequence[Number | None] | None = None,
    line_label: str = "",
    line_max: Number | None = None,
    width: int = 640,
    height: int = 320,
    chart_id: str | None = None,
) -> SafeString:
    """Vertical bars, one per category, with an optional second series drawn as a line with
    dots against its own axis on the right (a mean intensity beside a count, say).

    `values` are zero or more. `line` holds one value or None per category; None leaves a
    gap in the line (a week with no incidents has no mean). `line_max` fixes the top of the
    right axis (5 for a 1–5 scale); otherwise it is fitted to the data. `description`
    replaces the generated `<desc>` sentence.
    """
    _check_lengths(categories, values, *([line] if line is not None else []))
    values = _as_floats(values)
    if line is not None:
        line = [None if v is None else _as_floats([v])[0] for v in line]
    labels = [str(c) for c in categories]
    if description is None:
        description = describe_bars(title, labels, values)
        if line is not None and line_label:
            present = [v for v in line if v is not None]
            if present:
                description += (
                    f" {line_label} ranges from {format_number(min(present))} "
                    f"to {format_number(max(present))}."
                )
    svg = _Svg(width, height, title=title, description=description, chart_id=chart_id or title)

    top_value = max(values, default=0)
    axis_max, step = _scale(top_value, whole=_all_whole(values))
    ticks = _ticks(axis_max, step)
    right_ticks: list[float] = []
    right_max = 1.0
    if line is not None:
        present = [v for v in line if v is not None]
        if line_max is not None:
            right_max, right_step = _scale(float(line_max), whole=True)
        else:
            right_max, right_step = _scale(max(present, default=0), whole=_all_whole(present))
        right_ticks = _ticks(right_max, right_step)

    left = max(40.0, _text_width(format_number(t) for t in ticks) + 14)
    right = max(40.0, _text_width(format_number(t) for t in right_ticks) + 14) if line is not None else 16.0
    top = 34.0
    band = (width - left - right) / max(len(labels), 1)
    rotate = any(len(label) * CHAR_WIDTH > band - 4 for label in labels)
    bottom = 28.0
    if rotate:
        # Slanted labels hang down and to the left of their bar: make room on both sides.
        reach = max((len(label) for label in labels), default=0) * CHAR_WIDTH * 0.72
        bottom = min(height * 0.4, 16 + reach)
        left = max(left, reach - band / 2 + 4)
        band = (width - left - right) / len(labels)
    x0, x1, y0, y1 = left, width - right, top, height - bottom
    plot_h = y1 - y0

    # Axis titles sit above each axis.
    svg.text(x0, 14, value_label, anchor="start", weight="600")
    if line is not None:
        svg.text(x1, 14, line_label, anchor="end", weight="600", fill=LINE_COLOUR)

    for tick in ticks:
        y = y1 - tick / axis_max * plot_h
        svg.line(x0, y, x1, y, stroke=GRID, dash=tick != 0)
        svg.text(x0 - 6, y + 4, format_number(tick), anchor="end", fill=MUTED)
    for tick in right_ticks:
        y = y1 - tick / right_max * plot_h
        svg.text(x1 + 6, y + 4, format_number(tick), anchor="start", fill=LINE_COLOUR)
    svg.line(x0, y0, x0, y1, stroke=MUTED)
    if line is not None:
        svg.line(x1, y0, x1, y1, stroke=LINE_COLOUR)

    if not labels:
        svg.line(x0, y1, x1, y1, stroke=INK)
        svg.text((x0 + x1) / 2, (y0 + y1) / 2, NO_DATA, anchor="middle", fill=MUTED)
        return svg.render()

    bar_w = min(band * 0.7, 64.0)
    show_values = len(labels) <= 16
    label_every = max(1, math.ceil((FONT_SIZE + 2) / band)) if rotate else 1
    svg.open_group("bars")
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        centre = x0 + band * (i + 0.5)
        h = value / axis_max * plot_h
        svg.rect(
            centre - bar_w / 2, y1 - h, bar_w, h, fill=BAR_COLOUR, tip=f"{label}: {format_number(value)}"
        )
        if show_values:
            # Inside the top of a tall bar (white on the bar is 9:1), above a short one.
            inside = h >= FONT_SIZE + 8
            y = y1 - h + FONT_SIZE + 2 if inside else y1 - h - 4
            svg.text(centre, y, format_number(value), anchor="middle", fill="#ffffff" if inside else INK)
    svg.close_group()
    svg.line(x0, y1, x1, y1, stroke=INK)

    for i, label in enumerate(labels):
        if i % label_every:
            continue
        centre = x0 + band * (i + 0.5)
        if rotate:
            svg.text(centre + 4, y1 + 12, label, anchor="end", fill=INK, rotate=(-45, centre + 4, y1 + 12))
        else:
            svg.text(centre, y1 + 18, label, anchor="middle", fill=INK)

    if line is not None:
        points = [
            None if v is None else (x0 + band * (i + 0.5), y1 - min(v, right_max) / right_max * plot_h)
            for i, v in enumerate(line)
        ]
        svg.open_group("line")
        run: list[tuple[float, float]] = []
        for point in [*points, None]:
            if point is not None:
                run.append(point)
                continue
            if len(run) > 1:
                svg.polyline(run, stroke=LINE_COLOUR)
            run = []
        for label, v, point in zip(labels, line, points, strict=True):
            if point is not None:
                svg.circle(*point, fill=LINE_COLOUR, tip=f"{label}: {line_label} {format_number(v)}")
        svg.close_group()
    return svg.render()


def horizontal_bar_chart(
    categories: Sequence[str],
    values: Sequence[Number],
    *,
    title: str,
    description: str | None = None,
    value_label: str = "Count",
    width: int = 640,
    height: int | None = None,
    chart_id: str | None = None,
) -> SafeString:
    """Horizontal bars, one row per category, for long category names (settings, times of
    day, provisions). Labels too long for the label column are shortened with an ellipsis in
    the drawing (the `<title>` of each bar and the data table keep them whole). The height
    follows the number of rows unless given."""
    _check_lengths(categories, values)
    values = _as_floats(values)
    labels = [str(c) for c in categories]
    if description is None:
        description = describe_bars(title, labels, values)
    row = 30.0
    top, bottom = 12.0, 44.0
    if height is None:
        height = int(top + bottom + row * max(len(labels), 2))
    else:
        row = (height - top - bottom) / max(len(labels), 2)
    svg = _Svg(width, height, title=title, description=description, chart_id=chart_id or title)

    axis_max, step = _scale(max(values, default=0), whole=_all_whole(values))
    ticks = _ticks(axis_max, step)
    label_w = min(width * 0.4, max(60.0, _text_width(labels) + 12))
    fits = max(int((label_w - 12) / CHAR_WIDTH), 4)
    x0, x1 = label_w, width - 40.0
    y0, y1 = top, height - bottom
    plot_w = x1 - x0

    for tick in ticks:
        x = x0 + tick / axis_max * plot_w
        svg.line(x, y0, x, y1, stroke=GRID, dash=tick != 0)
        svg.text(x, y1 + 16, format_number(tick), anchor="middle", fill=MUTED)
    svg.text((x0 + x1) / 2, y1 + 34, value_label, anchor="middle", weight="600")
    svg.line(x0, y1, x1, y1, stroke=MUTED)

    if not labels:
        svg.line(x0, y0, x0, y1, stroke=INK)
        svg.text((x0 + x1) / 2, (y0 + y1) / 2, NO_DATA, anchor="middle", fill=MUTED)
        return svg.render()

    bar_h = min(row * 0.66, 24.0)
    svg.open_group("bars")
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        middle = y0 + row * (i + 0.5)
        w = value / axis_max * plot_w
        svg.rect(x0, middle - bar_h / 2, w, bar_h, fill=BAR_COLOUR, tip=f"{label}: {format_number(value)}")
        svg.text(x0 + w + 4, middle + 4, format_number(value), anchor="start", fill=INK)
    svg.close_group()
    for i, label in enumerate(labels):
        middle = y0 + row * (i + 0.5)
        shown = label if len(label) <= fits else label[: fits - 1].rstrip() + "…"
        svg.text(x0 - 6, middle + 4, shown, anchor="end", fill=INK)
    svg.line(x0, y0, x0, y1, stroke=INK)
    return svg.render()


# --- drawing --------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no "-0", so output is stable and short."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def escape(text: object) -> str:
    """Text safe inside an SVG element or a double-quoted attribute."""
    cleaned = _NOT_XML.sub("", str(text))
    return (
        cleaned.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


@dataclass
class _Svg:
    width: int
    height: int
    title: str
    description: str
    chart_id: str

    def __post_init__(self) -> None:
        slug = _NOT_ID.sub("-", self.chart_id).strip("-").lower() or "chart"
        self.chart_id = slug if slug[0].isalpha() else f"chart-{slug}"
        self.parts: list[str] = []

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        anchor: str,
        fill: str = INK,
        weight: str = "",
        rotate: tuple[float, float, float] | None = None,
    ) -> None:
        extra = f' font-weight="{weight}"' if weight else ""
        if rotate is not None:
            angle, cx, cy = rotate
            extra += f' transform="rotate({_num(angle)} {_num(cx)} {_num(cy)})"'
        self.parts.append(
            f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(content)}</text>"
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str, dash: bool = False) -> None:
        extra = ' stroke-dasharray="3 3"' if dash else ""
        self.parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'stroke="{stroke}" stroke-width="1"{extra}/>'
        )

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str, tip: str) -> None:
        self.parts.append(
            f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
            f'fill="{fill}"><title>{escape(tip)}</title></rect>'
        )

    def circle(self, cx: float, cy: float, *, fill: str, tip: str) -> None:
        self.parts.append(
            f'<circle class="point" cx="{_num(cx)}" cy="{_num(cy)}" r="4" fill="{fill}" '
            f'stroke="#ffffff" stroke-width="1"><title>{escape(tip)}</title></circle>'
        )

    def polyline(self, points: list[tuple[float, float]], *, stroke: str) -> None:
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="2"/>')

    def open_group(self, name: str) -> None:
        self.parts.append(f'<g class="{name}">')

    def close_group(self) -> None:
        self.parts.append("</g>")

    def render(self) -> SafeString:
        cid = self.chart_id
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'width="{self.width}" height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            f'aria-labelledby="{cid}-title" aria-describedby="{cid}-desc" '
            f'font-family="{escape(FONT)}" font-size="{FONT_SIZE}">'
            f'<title id="{cid}-title">{escape(self.title)}</title>'
            f'<desc id="{cid}-desc">{escape(self.description)}</desc>'
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>'
        )
        # Everything drawn went through escape() or _num(): safe to mark.
        return mark_safe(head + "".join(self.parts) + "</svg>")  # noqa: S308


# --- scales and checks ------------------------------------------------------------------------


def _scale(top: float, *, whole: bool, ticks: int = 5) -> tuple[float, float]:
    """A round axis maximum at or above `top`, and its tick step (1, 2 or 5 × a power of ten;
    whole numbers never get a step below 1). An all-zero axis runs 0 to 1."""
    top = float(top) if top > 0 else 1.0
    raw = top / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    if whole:
        step = max(1.0, round(step))
    axis_max = math.ceil(top / step - 1e-9) * step
    return axis_max, step


def _ticks(axis_max: float, step: float) -> list[float]:
    count = round(axis_max / step)
    return [round(i * step, 9) for i in range(count + 1)]


def _text_width(texts) -> float:
    return max((len(t) for t in texts), default=0) * CHAR_WIDTH


def _all_whole(values: Sequence[Number]) -> bool:
    return all(float(v).is_integer() for v in values)


def _check_lengths(categories: Sequence[str], *series: Sequence) -> None:
    for s in series:
        if len(s) != len(categories):
            raise ValueError("Every series needs one value per category.")


def _as_floats(values: Sequence[Number]) -> list[float]:
    """The values as floats (Decimals from the database too), refusing what a bar cannot show."""
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            raise ValueError(f"Chart values are numbers, not {v!r}.")
        f = float(v)
        if not math.isfinite(f) or f < 0:
            raise ValueError(f"Chart values are finite numbers of zero or more, not {v!r}.")
        out.append(f)
    return out

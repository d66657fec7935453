"""Charts drawn on the server as SVG: readable without JavaScript, no inline script or style.

Colours are SVG presentation attributes (not ``style``), so a strict Content-Security-Policy
needs no exception. Each chart has a ``<title>`` and ``<desc>`` for screen readers; the page puts
a text table beside it with the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from babel.dates import format_date
from markupsafe import Markup

from core.i18n import locale, ngettext

CELL = 36
CHAR = 7  # about how wide a character of 12 px text is
#: Up to this many points a trend is drawn as bars: a line through a few dots says little.
FEW_POINTS = 12


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _shade(value: int, top: int) -> str:
    """White for 0, deepening to the accent brown at the largest count."""
    if top <= 0 or value <= 0:
        return "#ffffff"
    share = value / top
    low, high = (0xF6, 0xE7, 0xD8), (0x7A, 0x3E, 0x12)
    rgb = (round(a + (b - a) * share) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def heat_map(departments: Sequence[str], matrix: dict[tuple[str, str], int], title: str) -> Markup:
    """Department x department grid: one cell per pair, darker for more breaks together."""
    n = len(departments)
    # Room for the labels as long as the longest name needs, no more: no blank band above.
    longest = max((len(d[:22]) for d in departments), default=4)
    label = CHAR * longest + 12
    top_label = round(CHAR * longest * 0.72) + 16  # column names are turned by 45 degrees
    width = label + CELL * max(n, 1) + 10
    height = top_label + CELL * max(n, 1) + 10
    top = max(matrix.values(), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="heat-title heat-desc">',
        f'<title id="heat-title">{_e(title)}</title>',
        f'<desc id="heat-desc">{_e(heat_description(n))}</desc>',
    ]
    for i, dept in enumerate(departments):
        y = top_label + CELL * i + CELL / 2
        parts.append(
            f'<text x="{label - 6}" y="{y:.0f}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="12">{_e(dept[:22])}</text>'
        )
        x = label + CELL * i + CELL / 2
        parts.append(
            f'<text x="{x:.0f}" y="{top_label - 6}" '
            f'transform="rotate(-45 {x:.0f} {top_label - 6})" '
            f'font-size="12">{_e(dept[:22])}</text>'
        )
    for i, row in enumerate(departments):
        for j, col in enumerate(departments):
            value = matrix.get((row, col), 0)
            x, y = label + CELL * j, top_label + CELL * i
            fill = _shade(value, top)
            ink = "#ffffff" if top and value / top > 0.55 else "#1f2328"
            parts.append(
                f'<g class="cell" data-row="{_e(row)}" data-col="{_e(col)}" data-value="{value}">'
                f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="{fill}" '
                f'stroke="#d0d7de"/>'
                f"<title>{_e(row)} and {_e(col)}: {value}</title>"
                f'<text x="{x + CELL / 2:.0f}" y="{y + CELL / 2:.0f}" text-anchor="middle" '
                f'dominant-baseline="middle" font-size="12" fill="{ink}">{value}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def short_date(day: date) -> str:
    """A chart's label: "7 Dec", "7 dec.", "7. Dez." in the page's language."""
    return format_date(day, "d MMM", locale=locale())


def heat_description(departments: int) -> str:
    """What the heat map shows, for screen readers, in the reader's language."""
    return ngettext(
        "Breaks within %(num)d department; the table below has the same numbers.",
        "Breaks between each pair of %(num)d departments; the table below has the same numbers.",
        departments,
    )


def line_description(rounds: int) -> str:
    return ngettext(
        "%(num)d round; the table below has the numbers.",
        "%(num)d rounds; the table below has the numbers.",
        rounds,
    )


def bar_description(values: int, unit: str) -> str:
    """``unit``: what the values count, already translated (e.g. "people"), or empty."""
    if unit:
        return ngettext(
            "%(num)d value (%(unit)s); the table has the same numbers.",
            "%(num)d values (%(unit)s); the table has the same numbers.",
            values,
            unit=unit,
        )
    return ngettext(
        "%(num)d value; the table has the same numbers.",
        "%(num)d values; the table has the same numbers.",
        values,
    )


def line_chart(
    points: Sequence[tuple[str, float | None]],
    title: str,
    *,
    percent: bool = False,
    chart_id: str = "line",
) -> Markup:
    """A line over rounds (x: the label, y: the value); gaps where a value is missing."""
    width, height, left, bottom, top_pad, right = 640, 240, 50, 40, 20, 20
    values = [v for _, v in points if v is not None]
    top = 1.0 if percent else max(values, default=0) or 1
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + step * i, top_pad + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(line_description(len(points)))}</desc>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - right}" '
        f'y2="{top_pad + plot_h}" stroke="#57606a"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#57606a"/>',
    ]
    for fraction in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - fraction)
        label = f"{fraction * 100:.0f}%" if percent else f"{top * fraction:.0f}"
        parts.append(
            f'<text x="{left - 6}" y="{y:.0f}" text-anchor="end" dominant-baseline="middle" '
            f'font-size="11">{label}</text>'
        )
    segment: list[str] = []
    lines: list[list[str]] = []
    for i, (label, value) in enumerate(points):
        if value is None:
            if segment:
                lines.append(segment)
            segment = []
            continue
        x, y = xy(i, value)
        segment.append(f"{x:.1f},{y:.1f}")
        shown = f"{value * 100:.0f}%" if percent else f"{value:g}"
        parts.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#7a3e12">'
            f"<title>{_e(label)}: {shown}</title></circle>"
        )
    if segment:
        lines.append(segment)
    for line in lines:
        if len(line) > 1:
            parts.append(
                f'<polyline points="{" ".join(line)}" fill="none" stroke="#7a3e12" '
                f'stroke-width="2"/>'
            )
    if points:
        for i in sorted({0, len(points) - 1}):
            x, _ = xy(i, 0)
            parts.append(
                f'<text x="{x:.0f}" y="{height - 12}" text-anchor="middle" font-size="11">'
                f"{_e(points[i][0])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _shown(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else f"{value:g}"


def bar_chart(
    points: Sequence[tuple[str, float | None]],
    title: str,
    *,
    percent: bool = False,
    chart_id: str = "bars",
    unit: str = "",
) -> Markup:
    """One bar per point, its value written above it; no bar where a value is missing.

    For a few points (a new programme, eight weeks) bars read better than a line: one point
    is one bar, not a lone dot on empty axes.
    """
    slot, left, right, top_pad, bottom, plot_h = 44, 40, 8, 22, 30, 140
    n = max(len(points), 1)
    width, height = left + slot * n + right, top_pad + plot_h + bottom
    values = [v for _, v in points if v is not None]
    top = 1.0 if percent else max(values, default=0) or 1
    base = top_pad + plot_h
    described = bar_description(len(points), unit)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(described)}</desc>',
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#57606a"/>',
        f'<text x="{left - 6}" y="{base}" text-anchor="end" dominant-baseline="middle" '
        f'font-size="11">{_shown(0, percent)}</text>',
        f'<text x="{left - 6}" y="{top_pad}" text-anchor="end" dominant-baseline="middle" '
        f'font-size="11">{_shown(top, percent)}</text>',
    ]
    for i, (label, value) in enumerate(points):
        middle = left + slot * i + slot / 2
        if value is not None:
            tall = plot_h * value / top
            parts.append(
                f'<rect class="bar" x="{middle - slot * 0.3:.1f}" y="{base - tall:.1f}" '
                f'width="{slot * 0.6:.1f}" height="{tall:.1f}" fill="#7a3e12">'
                f"<title>{_e(label)}: {_shown(value, percent)}</title></rect>"
                f'<text x="{middle:.1f}" y="{base - tall - 5:.1f}" text-anchor="middle" '
                f'font-size="11">{_shown(value, percent)}</text>'
            )
        parts.append(
            f'<text x="{middle:.1f}" y="{base + 16}" text-anchor="middle" font-size="10">'
            f"{_e(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(
    points: Sequence[tuple[str, float | None]],
    title: str,
    *,
    percent: bool = False,
    chart_id: str = "trend",
) -> Markup:
    """Bars for up to :data:`FEW_POINTS` points, a line for more."""
    if len(points) <= FEW_POINTS:
        return bar_chart(points, title, percent=percent, chart_id=chart_id)
    return line_chart(points, title, percent=percent, chart_id=chart_id)

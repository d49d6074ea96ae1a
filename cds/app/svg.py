"""Server-side SVG plots: no JavaScript, no CDN, readable without colour.

Values are markers with their value written beside them (up to ``LABEL_POINTS`` points), cut-offs
are dashed lines with their meaning written on them, and every plot is followed on the page by
its values as a table. Each marker carries ``data-date`` and ``data-value`` for the tests.
"""

from __future__ import annotations

import math
from datetime import date

from markupsafe import Markup, escape

from cds.app.trends import Series
from cds.clinical.evidence import shown

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 34
LABEL_POINTS = 16  # beyond this, labels would overlap: the table carries the values


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2, 2.5 or 5 × a power of ten) giving about ``ticks`` intervals."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def y_axis(values: list[float]) -> tuple[float, float, list[float]]:
    """The plotted range (round numbers around the values) and its tick values."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
    step = nice_step(high - low + 2 * pad)
    bottom = math.floor((low - pad) / step) * step
    top = math.ceil((high + pad) / step) * step
    count = round((top - bottom) / step)
    return bottom, top, [bottom + i * step for i in range(count + 1)]


def month_ticks(start: date, end: date) -> list[date]:
    ticks, year, month = [], start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        tick = date(year, month, 1)
        if tick > end:
            break
        ticks.append(tick)
    step = max(1, len(ticks) // 12)
    return ticks[::step]


def plot(
    series: Series, start: date, end: date, title: str, unit: str, cutoff_labels: dict[str, str]
) -> Markup:
    span = max((end - start).days, 1)
    values = [p.value for p in series.points] + [c.value for c in series.cutoffs]
    low, high, ticks = y_axis(values) if values else (0.0, 1.0, [0.0, 1.0])
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + inner_w * (day - start).days / span

    def y(value: float) -> float:
        return TOP + inner_h * (high - value) / (high - low)

    out = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)} {escape(unit)}" data-series="{escape(series.key)}">',
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" '
        'fill="none" stroke="#888"/>',
    ]
    for value in ticks:
        out.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y(value) + 3:.1f}" text-anchor="end" '
            f'font-size="10">{escape(shown(value))}</text>'
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + inner_w}" y2="{y(value):.1f}" '
            'stroke="#ddd"/>'
        )
    for tick in month_ticks(start, end):
        out.append(
            f'<line x1="{x(tick):.1f}" y1="{TOP + inner_h}" x2="{x(tick):.1f}" '
            f'y2="{TOP + inner_h + 4}" stroke="#888"/>'
            f'<text class="tick" x="{x(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle" font-size="10">{tick:%Y-%m}</text>'
        )
    for cutoff in series.cutoffs:
        cy = y(cutoff.value)
        out.append(
            f'<line class="cutoff" x1="{LEFT}" y1="{cy:.1f}" x2="{LEFT + inner_w}" y2="{cy:.1f}" '
            'stroke="#a33" stroke-dasharray="6 4" stroke-width="1.5"/>'
            f'<text class="cutoff-label" x="{LEFT + 4}" y="{cy - 3:.1f}" font-size="10" '
            f'fill="#711">{escape(cutoff_labels.get(cutoff.key, ""))}</text>'
        )
    if series.points:
        line = " ".join(f"{x(p.day):.1f},{y(p.value):.1f}" for p in series.points)
        out.append(f'<polyline points="{line}" fill="none" stroke="#124" stroke-width="1.5"/>')
    for p in series.points:
        px, py = x(p.day), y(p.value)
        out.append(
            f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="4" fill="#fff" '
            f'stroke="#124" stroke-width="2" data-date="{p.day.isoformat()}" '
            f'data-value="{escape(shown(p.value))}"><title>{p.day.isoformat()}: '
            f"{escape(p.shown)} {escape(unit)}</title></circle>"
        )
        if len(series.points) <= LABEL_POINTS:
            # Near an edge the label is anchored inwards so that it is not cut off.
            anchor = "end" if px > WIDTH - RIGHT - 30 else "start" if px < LEFT + 30 else "middle"
            out.append(
                f'<text class="value" x="{px:.1f}" y="{py - 8:.1f}" text-anchor="{anchor}" '
                f'font-size="10" font-weight="bold">{escape(p.shown)}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))

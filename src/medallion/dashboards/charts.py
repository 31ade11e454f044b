"""Small SVG charts for the local preview: bars, lines, areas and pies, drawn from rows already
aggregated by the widget's query. Pure Python; a hover shows each mark's value (SVG `<title>`)."""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["PALETTE", "bar_chart", "line_chart", "pie_chart"]

PALETTE = ("#2f6fde", "#e8833a", "#3aa57a", "#c94c4c", "#8b62c9", "#7d7d7d", "#c9a227", "#2aa4c2")
WIDTH = 600
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 56, 40, 8


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _short(value: Any, size: int = 12) -> str:
    text = str(value)
    return text if len(text) <= size else text[: size - 1] + "…"


def _axis(height: int, top: float) -> str:
    """The y axis with three labelled ticks (0, half, top)."""
    plot = height - MARGIN_BOTTOM - MARGIN_TOP
    parts = []
    for share in (0.0, 0.5, 1.0):
        y = MARGIN_TOP + plot * (1 - share)
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_e(_tick(top * share))}</text>'
        )
    return "".join(parts)


def _tick(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def _legend(names: list[str], y: float) -> str:
    if len(names) < 2:
        return ""
    parts, x = [], MARGIN_LEFT
    for i, name in enumerate(names[:8]):
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 9}" font-size="10">{_e(_short(name, 14))}</text>')
        x += 24 + 6 * min(len(str(name)), 14)
    return "".join(parts)


def _svg(height: int, body: str, kind: str) -> str:
    return f'<svg class="chart" data-chart="{kind}" viewBox="0 0 {WIDTH} {height}" role="img">{body}</svg>'


def bar_chart(series: dict[str, list[tuple[Any, float]]], height: int) -> str:
    """Grouped bars: one group per x value, one bar per series."""
    height = max(height, 120)
    categories = list(dict.fromkeys(x for points in series.values() for x, _ in points))
    top = max([v for points in series.values() for _, v in points] + [0.0]) or 1.0
    plot = height - MARGIN_BOTTOM - MARGIN_TOP - 14
    band = (WIDTH - MARGIN_LEFT) / max(len(categories), 1)
    bar = band * 0.8 / max(len(series), 1)
    parts = [_axis(height - 14, top)]
    for s, (name, points) in enumerate(series.items()):
        values = dict(points)
        for c, category in enumerate(categories):
            value = values.get(category, 0.0)
            h = plot * value / top
            x = MARGIN_LEFT + c * band + band * 0.1 + s * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{MARGIN_TOP + plot - h:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{_e(category)} · {_e(name)}: {_e(_tick(value))}</title></rect>'
            )
    step = max(1, math.ceil(len(categories) / 12))
    for c, category in enumerate(categories[::step]):
        x = MARGIN_LEFT + c * step * band + band / 2
        parts.append(
            f'<text x="{x:.1f}" y="{MARGIN_TOP + plot + 14}" text-anchor="middle" font-size="10">{_e(_short(category))}</text>'
        )
    parts.append(_legend(list(series), height - 12))
    return _svg(height, "".join(parts), "bar")


def line_chart(series: dict[str, list[tuple[Any, float]]], height: int, *, filled: bool = False) -> str:
    """One line (or area) per series over the sorted x values."""
    height = max(height, 120)
    xs = sorted({x for points in series.values() for x, _ in points}, key=lambda v: (v is None, str(v)))
    top = max([v for points in series.values() for _, v in points] + [0.0]) or 1.0
    plot = height - MARGIN_BOTTOM - MARGIN_TOP - 14
    span = max(len(xs) - 1, 1)
    where = {x: MARGIN_LEFT + (WIDTH - MARGIN_LEFT - 8) * i / span for i, x in enumerate(xs)}
    parts = [_axis(height - 14, top)]
    base = MARGIN_TOP + plot
    for s, (name, points) in enumerate(series.items()):
        color = PALETTE[s % len(PALETTE)]
        coords = [(where[x], base - plot * v / top) for x, v in sorted(points, key=lambda p: str(p[0]))]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        if filled and coords:
            area = f"{coords[0][0]:.1f},{base:.1f} {path} {coords[-1][0]:.1f},{base:.1f}"
            parts.append(f'<polygon points="{area}" fill="{color}" fill-opacity="0.25"/>')
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"><title>{_e(name)}</title></polyline>'
        )
        if len(coords) <= 40:  # few points: mark each (a single point draws no line)
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in coords]
    for x in (xs[0], xs[len(xs) // 2], xs[-1]) if xs else ():
        parts.append(
            f'<text x="{where[x]:.1f}" y="{base + 14}" text-anchor="middle" font-size="10">{_e(_short(x, 16))}</text>'
        )
    parts.append(_legend(list(series), height - 12))
    return _svg(height, "".join(parts), "area" if filled else "line")


def pie_chart(slices: list[tuple[Any, float]], height: int) -> str:
    """One slice per row, largest first, with a legend."""
    height = max(height, 120)
    values = sorted(((name, max(float(v or 0), 0.0)) for name, v in slices), key=lambda s: -s[1])
    total = sum(v for _, v in values) or 1.0
    r = (height - 20) / 2
    cx, cy = r + 10, height / 2
    parts, angle = [], -math.pi / 2
    for i, (name, value) in enumerate(values):
        color = PALETTE[i % len(PALETTE)]
        sweep = 2 * math.pi * value / total
        if sweep >= 2 * math.pi - 1e-9:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{color}"><title>{_e(name)}: {_e(_tick(value))}</title></circle>'
            )
        elif sweep > 0:
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(angle + sweep), cy + r * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            parts.append(
                f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r:.1f},{r:.1f} 0 {large} 1 {x2:.1f},{y2:.1f} Z" '
                f'fill="{color}"><title>{_e(name)}: {_e(_tick(value))} ({100 * value / total:.1f}%)</title></path>'
            )
        angle += sweep
        ly = 16 + 16 * i
        if ly < height - 4:
            parts.append(f'<rect x="{2 * r + 30:.1f}" y="{ly - 9}" width="10" height="10" fill="{color}"/>')
            parts.append(
                f'<text x="{2 * r + 44:.1f}" y="{ly}" font-size="11">{_e(_short(name, 18))} {100 * value / total:.0f}%</text>'
            )
    return _svg(height, "".join(parts), "pie")

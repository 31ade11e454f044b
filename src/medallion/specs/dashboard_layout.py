"""Widgets on Lakeview's 6-column grid: explicit positions are kept and checked; the others flow left
to right, row by row, below them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from medallion.specs.dashboard_model import GRID_COLUMNS, Widget

__all__ = ["place_widgets"]


def place_widgets(problem: Callable[[str, str, str], None], widgets: list[Widget]) -> tuple[Widget, ...]:
    """Every widget with a position; `problem(path, message, fix)` for widths and overlaps."""
    placed: list[Widget] = []
    for widget in widgets:
        if widget.width > GRID_COLUMNS:
            problem(
                f"{widget.path}.position.width",
                f"width {widget.width} is more than the grid's {GRID_COLUMNS} columns",
                f"use 1 to {GRID_COLUMNS}",
            )
            widget = replace(widget, width=GRID_COLUMNS)
        if widget.x >= 0 and widget.x + widget.width > GRID_COLUMNS:
            problem(
                f"{widget.path}.position.x",
                f"x {widget.x} + width {widget.width} passes the grid's {GRID_COLUMNS} columns",
                "move it left or narrow it",
            )
    explicit = [w for w in widgets if w.x >= 0 and w.y >= 0]
    for i, widget in enumerate(explicit):
        for other in explicit[:i]:
            if _overlap(widget, other):
                problem(f"{widget.path}.position", f"overlaps widget {other.name}", "move one of them")
    x, y = 0, max((w.y + w.height for w in explicit), default=0)
    row_height = 0
    for widget in widgets:
        if widget.x >= 0 and widget.y >= 0:
            placed.append(widget)
            continue
        width = min(widget.width, GRID_COLUMNS)
        if x + width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append(replace(widget, x=x, y=y, width=width))
        x, row_height = x + width, max(row_height, widget.height)
    return tuple(placed)


def _overlap(a: Widget, b: Widget) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height

"""`medallion dashboards preview <name>`: the dashboard over the local lakehouse as one self-contained
HTML page (charts drawn as inline SVG, no network needed to open it), laid out on the dashboard's grid.

Each widget runs the query Lakeview would run: its fields over its dataset's SQL, grouped by its
columns when it aggregates (`widget_sql`). The page marks itself `data-ready` once its script ran and
records script errors in `data-script-errors`, which the browser test reads.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medallion.dashboards.charts import bar_chart, line_chart, pie_chart
from medallion.layers.gold import render_sql
from medallion.specs.dashboard_model import DashboardSpec, Dataset, Widget

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.context import RunContext

__all__ = ["MAX_ROWS", "dataset_query", "widget_sql", "write_preview"]

MAX_ROWS = 500  # rows a chart or table shows
ROW_HEIGHT = 64  # pixels per grid row


def dataset_query(dataset: Dataset, ctx: RunContext) -> str:
    """The dataset's SQL for the local lakehouse: the run's schemas, parameters at their defaults."""
    sql = render_sql(dataset.sql, ctx.placeholders())
    for keyword, kind, default in dataset.parameters:
        value = default if kind in ("INT", "INTEGER", "BIGINT", "DECIMAL", "DOUBLE") else f"'{default}'"
        sql = re.sub(rf":{keyword}\b", value, sql)
    return sql


def widget_sql(widget: Widget, dataset_sql: str) -> str:
    """The widget's query over its dataset, as Lakeview builds it from the widget's fields."""
    fields = {f.name: f for fields in widget.roles.values() for f in fields}
    selected = ", ".join(f"{f.sql()} AS `{name}`" for name, f in fields.items())
    groups = [f.sql() for f in fields.values() if not f.aggregation]
    sql = f"SELECT {selected} FROM ({dataset_sql}) AS dataset"
    if widget.kind in ("filter", "date_range"):
        return f"SELECT DISTINCT {selected} FROM ({dataset_sql}) AS dataset ORDER BY 1"
    if any(f.aggregation for f in fields.values()) and groups:
        sql += f" GROUP BY {', '.join(groups)}"
    if groups and widget.kind in ("line", "area", "bar"):
        sql += f" ORDER BY {', '.join(groups)}"
    return sql + f" LIMIT {MAX_ROWS}"


def write_preview(spark: SparkSession, spec: DashboardSpec, ctx: RunContext, out: Path) -> Path:
    """Run every widget's query and write the page; returns its path."""
    datasets = {d.name: dataset_query(d, ctx) for d in spec.datasets}
    pages = []
    for page in spec.pages:
        cells = []
        for widget in page.widgets:
            rows = [r.asDict() for r in spark.sql(widget_sql(widget, datasets[widget.dataset])).collect()]
            cells.append(_cell(widget, rows))
        pages.append(
            f'<section class="page"><h2>{_e(page.title)}</h2><div class="grid">{"".join(cells)}</div></section>'
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, target {ctx.target}, catalog {ctx.catalog}"
    out.write_text(_PAGE.format(title=_e(spec.title), stamp=_e(stamp), pages="".join(pages), rows=ROW_HEIGHT))
    return out


def _cell(widget: Widget, rows: list[dict[str, Any]]) -> str:
    style = (
        f"grid-column: {widget.x + 1} / span {widget.width}; grid-row: {widget.y + 1} / span {widget.height}"
    )
    title = f"<h3>{_e(widget.title)}</h3>" if widget.title else ""
    body = _body(widget, rows)
    return (
        f'<div class="widget" data-kind="{widget.kind}" data-name="{_e(widget.name)}" data-rows="{len(rows)}" '
        f'style="{style}">{title}{body}</div>'
    )


def _body(widget: Widget, rows: list[dict[str, Any]]) -> str:
    roles = {role: fields[0].name for role, fields in widget.roles.items() if fields}
    height = widget.height * ROW_HEIGHT - 48
    if widget.kind == "counter":
        value = rows[0][roles["value"]] if rows else None
        return f'<div class="counter" data-value="{_e(_raw(value))}">{_e(_number(value))}</div>'
    if widget.kind == "table":
        names = [f.name for f in widget.roles["columns"]]
        head = "".join(f"<th>{_e(n)}</th>" for n in names)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(_number(r[n]))}</td>" for n in names) + "</tr>" for r in rows
        )
        return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    if widget.kind == "filter":
        options = "".join(f"<option>{_e(_number(r[roles['field']]))}</option>" for r in rows)
        return f'<select multiple aria-label="{_e(roles["field"])}">{options}</select>'
    if widget.kind == "date_range":
        values = sorted(str(r[roles["field"]])[:10] for r in rows if r[roles["field"]] is not None)
        low, high = (values[0], values[-1]) if values else ("", "")
        return f'<label>from <input type="date" value="{low}"></label> <label>to <input type="date" value="{high}"></label>'
    if widget.kind == "pie":
        return pie_chart([(r[roles["color"]], r[roles["angle"]]) for r in rows], height)
    series = _series(rows, roles["x"], roles["y"], roles.get("color"))
    if widget.kind == "bar":
        return bar_chart(series, height)
    return line_chart(series, height, filled=widget.kind == "area")


def _series(rows, x: str, y: str, color: str | None) -> dict[str, list[tuple[Any, float]]]:
    """Series name -> (x, y) points; one series without a color field."""
    out: dict[str, list[tuple[Any, float]]] = {}
    for row in rows:
        name = str(row[color]) if color else y
        value = row[y]
        out.setdefault(name, []).append((row[x], float(value) if value is not None else 0.0))
    return out


def _raw(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value  # text stays as written, even when it looks like a number (ids)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.2f}" if not number.is_integer() else f"{int(number):,}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; background: #f6f7f9; color: #1b1f24; }}
h1 {{ margin: 0 0 4px; }} .stamp {{ color: #667; margin-bottom: 16px; }}
.grid {{ display: grid; grid-template-columns: repeat(6, 1fr); grid-auto-rows: {rows}px; gap: 12px; }}
.widget {{ background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 12px; overflow: hidden; }}
.widget h3 {{ margin: 0 0 6px; font-size: 13px; font-weight: 600; }}
.counter {{ font-size: 34px; font-weight: 600; }}
.scroll {{ overflow: auto; height: calc(100% - 28px); }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }} th, td {{ border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left; }}
select {{ width: 100%; height: calc(100% - 30px); }} svg {{ width: 100%; height: calc(100% - 24px); }}
</style></head>
<body>
<h1>{title}</h1><div class="stamp">Local preview: {stamp}</div>
{pages}
<script>
window.addEventListener("error", function (e) {{
  var errors = Number(document.body.dataset.scriptErrors || 0) + 1;
  document.body.dataset.scriptErrors = String(errors);
}});
(function () {{
  var widgets = document.querySelectorAll(".widget");
  widgets.forEach(function (w) {{
    var drawn = w.querySelector("svg, table, .counter, select, input");
    w.dataset.rendered = drawn ? "1" : "0";
  }});
  document.body.dataset.widgets = String(widgets.length);
  document.body.dataset.ready = "1";
}})();
</script>
</body></html>
"""

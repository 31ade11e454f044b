"""The preview's pure parts: the query each widget runs over its dataset (as Lakeview builds it) and the
SVG charts drawn from the rows it returns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medallion.context import RunContext
from medallion.dashboards.charts import bar_chart, line_chart, pie_chart
from medallion.dashboards.preview import MAX_ROWS, dataset_query, widget_sql
from medallion.specs import load_specs

CTX = RunContext("dev", "spark_catalog", "b", "s", "g", "/l", "/c", "specs")


@pytest.fixture(scope="module")
def sales(project_root: Path):
    return next(d for d in load_specs(project_root / "specs").of("dashboards") if d.name == "sales")


def test_a_dataset_reads_the_runs_schemas_with_parameters_at_their_defaults(sales):
    sql = dataset_query(sales.dataset("products"), CTX)
    assert "FROM `spark_catalog`.`g`.product_performance" in sql and sql.endswith("LIMIT 10")


def test_each_widget_groups_by_its_columns_and_aggregates_its_measures(sales):
    widgets = {w.title: w for page in sales.pages for w in page.widgets}
    line = widget_sql(widgets["Revenue over time"], "SELECT * FROM t")
    assert line == (
        "SELECT `order_date` AS `order_date`, SUM(`revenue`) AS `sum(revenue)`, `channel` AS `channel` "
        "FROM (SELECT * FROM t) AS dataset GROUP BY `order_date`, `channel` ORDER BY `order_date`, `channel` "
        f"LIMIT {MAX_ROWS}"
    )
    counter = widget_sql(widgets["Revenue"], "SELECT * FROM t")
    assert "GROUP BY" not in counter and counter.startswith("SELECT SUM(`revenue`) AS `sum(revenue)`")
    assert widget_sql(widgets["Country"], "SELECT * FROM t").startswith("SELECT DISTINCT `country`")
    table = widget_sql(widgets["Top products"], "SELECT * FROM t")
    assert "GROUP BY" not in table and "`units_sold` AS `units_sold`" in table


def test_charts_draw_one_mark_per_value_with_its_value_on_hover():
    bars = bar_chart({"web": [("DE", 10.0), ("FR", 5.0)], "app": [("DE", 2.0)]}, 200)
    assert bars.count("<rect x=") == 4 + 2  # two categories x two series, plus the legend's swatches
    assert "<title>DE · web: 10</title>" in bars and 'data-chart="bar"' in bars
    heights = [
        float(h) for h in re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', bars)
    ]
    assert max(heights) == pytest.approx(2 * sorted(heights)[-2])  # 10 is twice 5: bars scale with values
    line = line_chart({"total": [("2024-01-02", 3.0), ("2024-01-01", 1.0)]}, 200, filled=True)
    assert line.count("<polyline") == 1 and "<polygon" in line and 'data-chart="area"' in line
    pie = pie_chart([("web", 3.0), ("app", 1.0)], 200)
    assert "web 75%" in pie and "app 25%" in pie and pie.count("<path") == 2
    assert pie_chart([("only", 5.0)], 120).count("<circle") == 1  # a whole pie is a circle

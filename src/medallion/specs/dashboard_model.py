"""Typed dashboard specs (`specs/dashboards/<name>.json`, docs/dashboards.md): datasets, pages of
widgets on a 6-column grid, permissions and SQL alerts.

Parsed and checked by the `dashboards` spec kind (specs/kinds/dashboards.py); turned into Lakeview
`.lvdash.json` files and bundle resources by `medallion.dashboards`. Everything here is plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medallion.names import OPS

__all__ = [
    "AGGREGATIONS",
    "ALERT_OPERATORS",
    "DASHBOARD_EXTRA_LAYERS",
    "GRID_COLUMNS",
    "PERMISSION_LEVELS",
    "WIDGET_KINDS",
    "DashboardAlert",
    "DashboardSpec",
    "Dataset",
    "Field",
    "Page",
    "Permission",
    "Widget",
    "parse_field",
]

DASHBOARD_EXTRA_LAYERS = (OPS,)  # dashboards may also read the run records: `${ops}.run_log`
GRID_COLUMNS = 6  # Lakeview lays widgets out on a 6-column grid
AGGREGATIONS = ("sum", "avg", "count", "count_distinct", "min", "max")
PERMISSION_LEVELS = ("CAN_VIEW", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE")
ALERT_OPERATORS = {  # spec word -> Databricks comparison operator
    ">": "GREATER_THAN",
    ">=": "GREATER_THAN_OR_EQUAL",
    "<": "LESS_THAN",
    "<=": "LESS_THAN_OR_EQUAL",
    "==": "EQUAL",
    "!=": "NOT_EQUAL",
}
# Widget kind -> (roles it needs, roles it may have, default width, default height).
WIDGET_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], int, int]] = {
    "counter": (("value",), (), 2, 2),
    "bar": (("x", "y"), ("color",), 3, 5),
    "line": (("x", "y"), ("color",), 3, 5),
    "area": (("x", "y"), ("color",), 3, 5),
    "pie": (("angle", "color"), (), 2, 5),
    "table": (("columns",), (), 6, 6),
    "filter": (("field",), (), 2, 2),
    "date_range": (("field",), (), 2, 2),
}
MEASURE_ROLES = ("value", "y", "angle")  # roles that hold an aggregation
_FIELD = re.compile(r"^\s*(?:(\w+)\s*\(\s*(\*|\w+)\s*\)|(\w+))\s*$")


@dataclass(frozen=True)
class Field:
    """A column of a widget's dataset (`order_date`) or an aggregation of one (`sum(revenue)`)."""

    column: str  # "*" only with count
    aggregation: str = ""

    @property
    def name(self) -> str:
        """The field's name in the widget query (what encodings refer to)."""
        return f"{self.aggregation}({self.column})" if self.aggregation else self.column

    def sql(self) -> str:
        """The field's expression over the dataset (Databricks SQL)."""
        column = "*" if self.column == "*" else f"`{self.column}`"
        if self.aggregation == "count_distinct":
            return f"COUNT(DISTINCT {column})"
        return f"{self.aggregation.upper()}({column})" if self.aggregation else column


def parse_field(text: str) -> Field | None:
    """`sum(revenue)` / `order_date` -> Field; None when it is neither (the caller reports it)."""
    match = _FIELD.match(text or "")
    if not match:
        return None
    if match.group(3):
        return Field(match.group(3))
    return Field(match.group(2), match.group(1).lower())


@dataclass(frozen=True)
class Dataset:
    """A named query: a table (`gold.daily_sales`) or SQL with `${layer}` placeholders."""

    name: str
    sql: str  # with placeholders; a table dataset is `SELECT * FROM ${layer}.table`
    table: str = ""  # layer.table for a table dataset
    layers: tuple[str, ...] = ()  # the layers it reads (a dashboard reads one)
    columns: tuple[str, ...] = ()  # its output columns, once checked
    parameters: tuple[tuple[str, str, str], ...] = ()  # (keyword, SQL type, default)
    path: str = ""  # where it is in the JSON file


@dataclass(frozen=True)
class Widget:
    name: str
    kind: str
    dataset: str
    title: str
    roles: dict[str, tuple[Field, ...]]  # role -> fields (columns holds several)
    x: int
    y: int
    width: int
    height: int
    scale: str = ""  # x axis: temporal, categorical or quantitative
    path: str = ""


@dataclass(frozen=True)
class Page:
    name: str
    title: str
    widgets: tuple[Widget, ...]


@dataclass(frozen=True)
class Permission:
    group: str
    level: str


@dataclass(frozen=True)
class DashboardAlert:
    """A SQL alert: `column` of the query's first row compared with `threshold`, mailed to `notify`."""

    name: str
    sql: str
    column: str
    operator: str  # a key of ALERT_OPERATORS
    threshold: float
    notify: tuple[str, ...]
    cron: str = "0 0 * * * ?"
    timezone: str = "UTC"
    layers: tuple[str, ...] = ()
    path: str = ""


@dataclass(frozen=True)
class DashboardSpec:
    """One dashboard: `name` is the file's stem; `layer` the one schema its datasets read."""

    name: str
    title: str
    datasets: tuple[Dataset, ...]
    pages: tuple[Page, ...]
    permissions: tuple[Permission, ...] = ()
    alerts: tuple[DashboardAlert, ...] = ()
    layer: str = ""
    file: str = ""  # as problems name it, e.g. specs/dashboards/sales.json
    builtin: bool = False

    def dataset(self, name: str) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)

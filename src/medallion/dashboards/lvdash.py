"""A `DashboardSpec` as Lakeview's serialized dashboard (`.lvdash.json`): datasets with their queries
and parameters, pages with widgets on the 6-column grid, each widget a query over its dataset and a
versioned visualization spec.

Dataset SQL names tables without catalog and schema: the bundle sets `dataset_catalog` and
`dataset_schema` per target, so one generated file serves dev, staging and prod.
"""

from __future__ import annotations

import re
from typing import Any

from medallion.specs.dashboard_model import DashboardSpec, Dataset, Field, Widget

__all__ = ["WIDGET_SPECS", "dataset_sql", "lvdash"]

# Widget kind -> (Lakeview widgetType, spec version).
WIDGET_SPECS = {
    "counter": ("counter", 2),
    "bar": ("bar", 3),
    "line": ("line", 3),
    "area": ("area", 3),
    "pie": ("pie", 3),
    "table": ("table", 1),
    "filter": ("filter-multi-select", 2),
    "date_range": ("filter-date-range-picker", 2),
}
_PARAMETER_TYPES = {"INT": "INTEGER", "INTEGER": "INTEGER", "BIGINT": "INTEGER", "DOUBLE": "DECIMAL"}
_PLACEHOLDER = re.compile(r"\$\{(bronze|silver|gold|ops)\}\.")
QUERY = "main_query"


def dataset_sql(sql: str) -> str:
    """Dataset SQL with `${layer}.` removed: the dashboard's dataset schema holds the tables."""
    return _PLACEHOLDER.sub("", sql)


def lvdash(spec: DashboardSpec) -> dict[str, Any]:
    """The serialized dashboard of one spec (deterministic: the same spec gives the same file)."""
    return {
        "datasets": [_dataset(d) for d in spec.datasets],
        "pages": [
            {
                "name": page.name,
                "displayName": page.title,
                "pageType": "PAGE_TYPE_CANVAS",
                "layout": [_widget(w) for w in page.widgets],
            }
            for page in spec.pages
        ],
    }


def _dataset(dataset: Dataset) -> dict[str, Any]:
    lines = dataset_sql(dataset.sql).splitlines()
    out: dict[str, Any] = {
        "name": dataset.name,
        "displayName": dataset.name,
        "queryLines": [line + "\n" for line in lines[:-1]] + lines[-1:],
    }
    if dataset.parameters:
        out["parameters"] = [
            {
                "displayName": keyword,
                "keyword": keyword,
                "dataType": _PARAMETER_TYPES.get(kind, kind),
                "defaultSelection": {
                    "values": {"dataType": _PARAMETER_TYPES.get(kind, kind), "values": [{"value": default}]}
                },
            }
            for keyword, kind, default in dataset.parameters
        ]
    return out


def _fields(widget: Widget) -> list[Field]:
    seen: dict[str, Field] = {}
    for fields in widget.roles.values():
        for field in fields:
            seen.setdefault(field.name, field)
    return list(seen.values())


def _encoding(field: Field, scale: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"fieldName": field.name}
    if scale:
        out["scale"] = {"type": scale}
    out["displayName"] = field.name
    return out


def _widget(widget: Widget) -> dict[str, Any]:
    widget_type, version = WIDGET_SPECS[widget.kind]
    fields = _fields(widget)
    roles = {role: fields_[0] for role, fields_ in widget.roles.items() if fields_}
    if widget.kind == "counter":
        encodings: dict[str, Any] = {"value": _encoding(roles["value"])}
    elif widget.kind in ("bar", "line", "area"):
        encodings = {"x": _encoding(roles["x"], widget.scale), "y": _encoding(roles["y"], "quantitative")}
        if "color" in roles:
            encodings["color"] = _encoding(roles["color"], "categorical")
    elif widget.kind == "pie":
        encodings = {
            "angle": _encoding(roles["angle"], "quantitative"),
            "color": _encoding(roles["color"], "categorical"),
        }
    elif widget.kind == "table":
        encodings = {"columns": [_encoding(f) for f in widget.roles["columns"]]}
    else:  # filters
        encodings = {"fields": [{**_encoding(roles["field"]), "queryName": QUERY}]}
    spec: dict[str, Any] = {"version": version, "widgetType": widget_type, "encodings": encodings}
    if widget.title:
        spec["frame"] = {"showTitle": True, "title": widget.title}
    query = {
        "datasetName": widget.dataset,
        "fields": [{"name": f.name, "expression": f.sql()} for f in fields],
        "disaggregated": not any(f.aggregation for f in fields) and widget.kind == "table",
    }
    return {
        "widget": {"name": widget.name, "queries": [{"name": QUERY, "query": query}], "spec": spec},
        "position": {"x": widget.x, "y": widget.y, "width": widget.width, "height": widget.height},
    }

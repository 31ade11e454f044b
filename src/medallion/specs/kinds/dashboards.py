"""Spec kind "dashboards": one JSON file per dashboard in `specs/dashboards/` (docs/dashboards.md), plus
the built-in pipeline-health dashboard over the run records (`specs/pipeline_health.json` in the
package), which every project gets.

Reading turns each file into a `DashboardSpec` and reports the shape's mistakes at `file:$.json.path`;
`check` (dashboards_checks.py) then compares the datasets with the tables of the other kinds (columns of silver and bronze as
declared, of gold and of dataset SQL as sqlglot reads their SELECT), the widgets' fields with their
dataset's columns, and lays the widgets out on the 6-column grid.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from medallion.errors import SpecProblem
from medallion.specs.cells import IDENTIFIER, did_you_mean
from medallion.specs.dashboard_model import (
    AGGREGATIONS,
    ALERT_OPERATORS,
    DASHBOARD_EXTRA_LAYERS,
    MEASURE_ROLES,
    PERMISSION_LEVELS,
    WIDGET_KINDS,
    DashboardAlert,
    DashboardSpec,
    Dataset,
    Page,
    Permission,
    Widget,
    parse_field,
)
from medallion.specs.kinds.dashboards_checks import check_dashboards
from medallion.specs.registry import Draft, SpecKind
from medallion.specs.sql_text import table_references

__all__ = ["BUILTIN_DASHBOARD", "DASHBOARDS", "DASHBOARDS_FOLDER"]

DASHBOARDS_FOLDER = "dashboards"
BUILTIN_DASHBOARD = Path(__file__).resolve().parents[1] / "pipeline_health.json"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BUNDLE_VAR = re.compile(r"^\$\{var\.\w+\}$")  # a bundle variable, e.g. the team's notification_email
_CRON = re.compile(r"^\S+( \S+){5,6}$")  # Quartz: seconds minutes hours day month weekday [year]
_SCALES = ("temporal", "categorical", "quantitative")


class _Shape:
    """Reads one JSON document, reporting each mistake at its JSON path."""

    def __init__(self, draft: Draft, file: str):
        self.draft, self.file = draft, file

    def problem(self, path: str, message: str, fix: str = "") -> None:
        self.draft.problems.append(SpecProblem(self.file, 0, path, message, fix))

    def get(self, node: dict, key: str, path: str, kind: type | tuple, required: bool = True) -> Any:
        if key not in node:
            if required:
                self.problem(f"{path}.{key}", f"{key} is missing")
            return None
        value = node[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.problem(f"{path}.{key}", f"{key} must be {_WORDS.get(wanted, wanted)}")
            return None
        return value

    def unknown(self, node: dict, path: str, known: tuple[str, ...]) -> None:
        for key in node:
            if key not in known:
                self.problem(f"{path}.{key}", f"unknown key {key!r}", did_you_mean(key, known, "keys"))


_WORDS = {
    "str": "text",
    "dict": "an object",
    "list": "a list",
    "int": "a whole number",
    "int or float": "a number",
}


def _load_json(draft: Draft, path: Path, file: str) -> dict | None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        draft.problems.append(
            SpecProblem(file, exc.lineno, "", f"not valid JSON: {exc.msg} (character {exc.colno})")
        )
        return None
    except (OSError, UnicodeDecodeError) as exc:
        draft.problems.append(SpecProblem(file, 0, "", f"cannot be read: {exc}", "save it as UTF-8 JSON"))
        return None
    for key in duplicates:
        draft.problems.append(SpecProblem(file, 0, "$", f"key {key!r} appears twice in one object"))
    if not isinstance(data, dict):
        draft.problems.append(SpecProblem(file, 0, "$", "a dashboard spec is a JSON object"))
        return None
    return data


def read_dashboards(draft: Draft) -> None:
    """Every `specs/dashboards/*.json` file, and the built-in health dashboard."""
    files = [(BUILTIN_DASHBOARD, "medallion/specs/pipeline_health.json", True)]
    folder = draft.specs_dir / DASHBOARDS_FOLDER
    files += [
        (p, draft.display(f"{DASHBOARDS_FOLDER}/{p.name}"), False) for p in sorted(folder.glob("*.json"))
    ]
    for path, file, builtin in files:
        before = len(draft.problems)
        data = _load_json(draft, path, file)
        if data is None:
            draft.unreadable.add("dashboards")
            continue
        spec = _parse(_Shape(draft, file), data, path.stem, builtin)
        if len(draft.problems) > before:
            draft.unreadable.add("dashboards")
        if spec is not None:
            draft.add("dashboards", spec)


def _parse(shape: _Shape, data: dict, name: str, builtin: bool) -> DashboardSpec | None:
    if not IDENTIFIER.match(name):
        shape.problem(
            "$", f"{name!r} is not a valid dashboard name (the file's name)", "e.g. sales_overview.json"
        )
    shape.unknown(data, "$", ("title", "datasets", "pages", "permissions", "alerts", "description"))
    title = shape.get(data, "title", "$", str) or name
    datasets = [
        _dataset(shape, key, value, f"$.datasets.{key}")
        for key, value in (shape.get(data, "datasets", "$", dict) or {}).items()
    ]
    pages = [
        _page(shape, page, f"$.pages[{i}]", i)
        for i, page in enumerate(shape.get(data, "pages", "$", list) or [])
    ]
    permissions = [
        _permission(shape, item, f"$.permissions[{i}]")
        for i, item in enumerate(shape.get(data, "permissions", "$", list, required=False) or [])
    ]
    alerts = [
        _alert(shape, item, f"$.alerts[{i}]")
        for i, item in enumerate(shape.get(data, "alerts", "$", list, required=False) or [])
    ]
    return DashboardSpec(
        name=name,
        title=title,
        datasets=tuple(d for d in datasets if d),
        pages=tuple(p for p in pages if p),
        permissions=tuple(p for p in permissions if p),
        alerts=tuple(a for a in alerts if a),
        file=shape.file,
        builtin=builtin,
    )


def _dataset(shape: _Shape, name: str, node: Any, path: str) -> Dataset | None:
    if not IDENTIFIER.match(name):
        shape.problem(path, f"{name!r} is not a valid dataset name", "letters, digits and _")
    if not isinstance(node, dict):
        shape.problem(path, "a dataset is an object with table or sql")
        return None
    shape.unknown(node, path, ("table", "sql", "parameters", "description"))
    table, sql = node.get("table"), node.get("sql")
    if (table is None) == (sql is None):
        shape.problem(path, "a dataset has either table or sql", 'e.g. {"table": "gold.daily_sales"}')
        return None
    if table is not None:
        if not isinstance(table, str) or not re.match(r"^(bronze|silver|gold|ops)\.\w+$", table):
            shape.problem(f"{path}.table", f"{table!r} is not layer.table", "e.g. gold.daily_sales")
            return None
        layer, short = table.split(".", 1)
        sql = f"SELECT * FROM ${{{layer}}}.{short}"
    elif not isinstance(sql, str) or not sql.strip():
        shape.problem(f"{path}.sql", "sql must be a SELECT")
        return None
    refs, problems = table_references(sql, DASHBOARD_EXTRA_LAYERS)
    for _, message, fix in problems:
        shape.problem(f"{path}.sql", message, fix)
    parameters = []
    for keyword, spec in (shape.get(node, "parameters", path, dict, required=False) or {}).items():
        where = f"{path}.parameters.{keyword}"
        if not isinstance(spec, dict) or not isinstance(spec.get("default"), str | int | float):
            shape.problem(
                where, "a parameter is an object with type and default", '{"type": "INT", "default": 10}'
            )
            continue
        if f":{keyword}" not in sql:
            shape.problem(where, f"the SQL never uses :{keyword}", "remove the parameter or use it in sql")
        parameters.append((keyword, str(spec.get("type", "STRING")).upper(), str(spec["default"])))
    return Dataset(
        name=name,
        sql=sql.strip(),
        table=table or "",
        layers=tuple(dict.fromkeys(r.layer for r in refs)),
        parameters=tuple(parameters),
        path=path,
    )


def _page(shape: _Shape, node: Any, path: str, index: int) -> Page | None:
    if not isinstance(node, dict):
        shape.problem(path, "a page is an object with title and widgets")
        return None
    shape.unknown(node, path, ("title", "widgets"))
    title = shape.get(node, "title", path, str) or f"Page {index + 1}"
    widgets = [
        _widget(shape, w, f"{path}.widgets[{i}]", f"p{index + 1}_w{i + 1}")
        for i, w in enumerate(shape.get(node, "widgets", path, list) or [])
    ]
    return Page(f"page_{index + 1}", title, tuple(w for w in widgets if w))


def _widget(shape: _Shape, node: Any, path: str, default_name: str) -> Widget | None:
    if not isinstance(node, dict):
        shape.problem(path, "a widget is an object with kind and dataset")
        return None
    kind = shape.get(node, "kind", path, str)
    if kind is None:
        return None
    if kind not in WIDGET_KINDS:
        shape.problem(
            f"{path}.kind", f"unknown widget kind {kind!r}", did_you_mean(kind, tuple(WIDGET_KINDS), "kinds")
        )
        return None
    needed, optional, width, height = WIDGET_KINDS[kind]
    known = ("kind", "dataset", "title", "name", "position", "width", "height", "scale", *needed, *optional)
    shape.unknown(node, path, known)
    roles = {}
    for role in (*needed, *optional):
        value = node.get(role)
        if value is None:
            if role in needed:
                shape.problem(f"{path}.{role}", f"a {kind} widget needs {role}")
            continue
        texts = value if role == "columns" and isinstance(value, list) else [value]
        fields = []
        for text in texts:
            field = parse_field(text) if isinstance(text, str) else None
            if field is None or (field.aggregation and field.aggregation not in AGGREGATIONS):
                shape.problem(
                    f"{path}.{role}",
                    f"{text!r} is not a column or an aggregation of one",
                    f'e.g. "order_date" or "sum(revenue)" ({", ".join(AGGREGATIONS)})',
                )
                continue
            if field.column == "*" and field.aggregation != "count":
                shape.problem(f"{path}.{role}", "only count(*) reads *", "name a column")
                continue
            if field.aggregation and role not in MEASURE_ROLES and role != "columns":
                shape.problem(f"{path}.{role}", f"{role} groups rows: a column, not {text!r}", "move it to y")
                continue
            fields.append(field)
        roles[role] = tuple(fields)
    scale = node.get("scale", "")
    if scale and scale not in _SCALES:
        shape.problem(f"{path}.scale", f"unknown scale {scale!r}", f"use one of: {', '.join(_SCALES)}")
    # `width`/`height` alone size a widget the grid places; `position` also places it.
    position = {k: node[k] for k in ("width", "height") if k in node}
    position |= shape.get(node, "position", path, dict, required=False) or {}
    place = {k: position.get(k) for k in ("x", "y", "width", "height")}
    for key, value in place.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            shape.problem(f"{path}.position.{key}", f"{key} must be a whole number ≥ 0")
            place[key] = None
    name = node.get("name", default_name)
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        shape.problem(f"{path}.name", f"{name!r} is not a valid widget name", "letters, digits and _")
        name = default_name
    return Widget(
        name=name,
        kind=kind,
        dataset=str(shape.get(node, "dataset", path, str) or ""),
        title=str(node.get("title") or ""),
        roles=roles,
        x=-1 if place["x"] is None else place["x"],
        y=-1 if place["y"] is None else place["y"],
        width=place["width"] or width,
        height=place["height"] or height,
        scale=scale or ("temporal" if kind in ("line", "area") else "categorical"),
        path=path,
    )


def _permission(shape: _Shape, node: Any, path: str) -> Permission | None:
    if not isinstance(node, dict):
        shape.problem(path, 'a permission is {"group": ..., "level": ...}')
        return None
    group, level = shape.get(node, "group", path, str), shape.get(node, "level", path, str)
    if level is not None and level not in PERMISSION_LEVELS:
        shape.problem(
            f"{path}.level", f"unknown level {level!r}", f"use one of: {', '.join(PERMISSION_LEVELS)}"
        )
        return None
    if group is not None and (not group.strip() or "`" in group):
        shape.problem(f"{path}.group", f"{group!r} is not a group name")
        return None
    return Permission(group, level) if group and level else None


def _alert(shape: _Shape, node: Any, path: str) -> DashboardAlert | None:
    if not isinstance(node, dict):
        shape.problem(path, "an alert is an object with name, sql, column, op, threshold and notify")
        return None
    shape.unknown(node, path, ("name", "sql", "column", "op", "threshold", "notify", "cron", "timezone"))
    name, sql = shape.get(node, "name", path, str), shape.get(node, "sql", path, str)
    column, op = shape.get(node, "column", path, str), shape.get(node, "op", path, str)
    threshold = shape.get(node, "threshold", path, (int, float))
    notify = shape.get(node, "notify", path, list) or []
    cron = shape.get(node, "cron", path, str, required=False) or "0 0 * * * ?"
    if name is not None and not IDENTIFIER.match(name):
        shape.problem(f"{path}.name", f"{name!r} is not a valid alert name", "letters, digits and _")
    if op is not None and op not in ALERT_OPERATORS:
        shape.problem(f"{path}.op", f"unknown operator {op!r}", f"use one of: {' '.join(ALERT_OPERATORS)}")
    if not notify or not all(
        isinstance(n, str) and (_EMAIL.match(n) or _BUNDLE_VAR.match(n)) for n in notify
    ):
        shape.problem(f"{path}.notify", "notify is a list of e-mail addresses", '["data-team@example.com"]')
    if not _CRON.match(cron):
        shape.problem(f"{path}.cron", f"{cron!r} is not a Quartz cron expression", "e.g. 0 0 8 * * ?")
    refs, problems = table_references(sql or "", DASHBOARD_EXTRA_LAYERS)
    for _, message, fix in problems:
        shape.problem(f"{path}.sql", message, fix)
    if None in (name, sql, column, op, threshold) or op not in ALERT_OPERATORS:
        return None
    return DashboardAlert(
        name=name,
        sql=sql.strip(),
        column=column,
        operator=op,
        threshold=float(threshold),
        notify=tuple(notify),
        cron=cron,
        timezone=str(node.get("timezone") or "UTC"),
        layers=tuple(dict.fromkeys(r.layer for r in refs)),
        path=path,
    )


DASHBOARDS = SpecKind(
    name="dashboards",
    description="AI/BI dashboards and SQL alerts from JSON",
    read=read_dashboards,
    check=check_dashboards,
    after=("tables", "history", "gold"),
)

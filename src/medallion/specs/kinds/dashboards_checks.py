"""Cross-file checks of kind "dashboards": datasets against the other kinds' tables (columns of
silver and bronze as declared, of gold and of dataset SQL as sqlglot reads their SELECT), widgets'
fields against their dataset's columns, alerts' columns, and the widgets laid out on the grid.
Problems point at `file:$.json.path`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from medallion.errors import SpecProblem
from medallion.names import INGESTED_AT, LINEAGE_COLUMNS, OPS, RECORD_TABLES, RESCUED_DATA, SOURCE_FILE
from medallion.specs.cells import did_you_mean
from medallion.specs.dashboard_layout import place_widgets
from medallion.specs.dashboard_model import DASHBOARD_EXTRA_LAYERS, DashboardSpec, Dataset, Page, Widget
from medallion.specs.registry import Draft
from medallion.specs.sql_text import table_references

__all__ = ["check_dashboards"]

Problem = Callable[..., None]  # problem(json_path, message, fix="")


def _reporter(draft: Draft, file: str) -> Problem:
    """Report a problem of `file` at a JSON path."""

    def problem(path: str, message: str, fix: str = "") -> None:
        draft.problems.append(SpecProblem(file, 0, path, message, fix))

    return problem


def check_dashboards(draft: Draft) -> None:
    """Datasets against the other kinds' tables, widgets against their datasets, the grid."""
    if not draft.of("dashboards") or not draft.readable("bronze", "silver", "columns", "gold", "dashboards"):
        return
    # Imported here: sqlglot reads gold and dataset SQL; only projects with dashboards pay for it.
    from medallion.specs.gold_lineage import LineageError, output_columns

    schema = _known_columns(draft, output_columns, LineageError)
    checked = []
    for spec in draft.of("dashboards"):
        problem = _reporter(draft, spec.file)
        unknown = {f"{layer}.{t}".lower() for d in spec.datasets for layer, t in _reads(d.sql)} - set(schema)
        if any(t.startswith("gold.") for t in unknown) and draft.problems:
            continue  # it reads a gold table the gold checks reported: nothing to check it against
        datasets = [
            d
            for d in (_check_dataset(problem, d, schema, output_columns, LineageError) for d in spec.datasets)
            if d
        ]
        layers = sorted({layer for d in datasets for layer in d.layers})
        if len(layers) > 1:
            problem(
                "$.datasets",
                f"the datasets read {' and '.join(layers)}: a dashboard reads one schema",
                "split it into one dashboard per layer (its dataset_schema is one per target)",
            )
        spec = replace(spec, datasets=tuple(datasets), layer=layers[0] if layers else "gold")
        pages = tuple(
            replace(p, widgets=place_widgets(problem, _check_widgets(problem, spec, p))) for p in spec.pages
        )
        for alert in spec.alerts:
            try:
                columns = output_columns(alert.sql, schema)
            except LineageError as exc:
                problem(f"{alert.path}.sql", f"cannot be read: {exc}", exc.fix)
                continue
            if alert.column.lower() not in columns:
                problem(
                    f"{alert.path}.column",
                    f"the alert's SQL returns no column {alert.column!r}",
                    did_you_mean(alert.column, columns, "columns"),
                )
        _unique(problem, [(w.name, w.path) for p in pages for w in p.widgets], "widget")
        _unique(problem, [(a.name, a.path) for a in spec.alerts], "alert")
        checked.append(replace(spec, pages=pages))
    draft.items["dashboards"] = checked


def _reads(sql: str) -> list[tuple[str, str]]:
    return [(ref.layer, ref.table) for ref in table_references(sql, DASHBOARD_EXTRA_LAYERS)[0]]


def _unique(problem: Problem, names: list[tuple[str, str]], what: str) -> None:
    seen: set[str] = set()
    for name, path in names:
        if name in seen:
            problem(f"{path}.name", f"duplicate {what} name {name!r}", f"give each {what} its own name")
        seen.add(name)


def _known_columns(draft: Draft, output_columns, lineage_error) -> dict[str, dict[str, str]]:
    """`layer.table -> columns` of every table a dashboard may read: bronze and silver as declared
    (technical columns included), gold as its SQL selects them, and the run records (`ops.*`)."""
    technical = {"bronze": (SOURCE_FILE, INGESTED_AT, RESCUED_DATA), "silver": LINEAGE_COLUMNS}
    schema: dict[str, dict[str, str]] = {}
    for layer in ("bronze", "silver"):
        for item in draft.of(layer):
            columns = {c.name.lower(): c.data_type for c in getattr(item, "columns", ()) or ()}
            scd = getattr(item, "scd", None)
            if scd is not None and scd.scd_type == 2:
                columns |= dict.fromkeys(
                    (scd.effective_from_column, scd.effective_to_column, scd.is_current_column), ""
                )
            schema[f"{layer}.{item.table.lower()}"] = columns | dict.fromkeys(technical[layer], "string")
    for name, ddl in RECORD_TABLES.items():
        schema[f"{OPS}.{name}"] = dict(part.strip().split(" ", 1) for part in _top_level(ddl))
    for item in draft.of("gold"):
        try:
            schema[f"gold.{item.table.lower()}"] = dict.fromkeys(output_columns(item.sql, schema), "")
        except lineage_error:
            continue  # reported by the gold checks; a dashboard reading it is not checked
    return {table: columns for table, columns in schema.items() if columns}


def _top_level(ddl: str) -> list[str]:
    """The column definitions of a DDL string (commas inside `array<struct<...>>` do not split)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(ddl):
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(ddl[start:i])
            start = i + 1
    return [*parts, ddl[start:]]


def _check_dataset(
    problem: Problem, dataset: Dataset, schema, output_columns, lineage_error
) -> Dataset | None:
    if dataset.table and dataset.table.lower() not in schema:
        known = [t.split(".", 1)[1] for t in schema if t.startswith(dataset.table.split(".")[0] + ".")]
        problem(
            f"{dataset.path}.table",
            f"unknown table {dataset.table!r}",
            did_you_mean(dataset.table.split(".")[1], known, "tables"),
        )
        return None
    sql = dataset.sql
    for keyword, _, default in dataset.parameters:
        sql = re.sub(rf":{keyword}\b", default if default.replace(".", "").isdigit() else f"'{default}'", sql)
    try:
        columns = output_columns(sql, schema)
    except lineage_error as exc:
        problem(f"{dataset.path}.{'table' if dataset.table else 'sql'}", f"cannot be read: {exc}", exc.fix)
        return None
    return replace(dataset, columns=tuple(columns))


def _check_widgets(problem: Problem, spec: DashboardSpec, page: Page) -> list[Widget]:
    widgets = []
    for widget in page.widgets:
        dataset = spec.dataset(widget.dataset)
        if dataset is None:
            problem(
                f"{widget.path}.dataset",
                f"unknown dataset {widget.dataset!r}",
                did_you_mean(widget.dataset, [d.name for d in spec.datasets], "datasets"),
            )
            continue
        for role, fields in widget.roles.items():
            for field in fields:
                if field.column != "*" and field.column.lower() not in dataset.columns:
                    problem(
                        f"{widget.path}.{role}",
                        f"dataset {dataset.name} has no column {field.column!r}",
                        did_you_mean(field.column, dataset.columns, "columns"),
                    )
        widgets.append(widget)
    return widgets

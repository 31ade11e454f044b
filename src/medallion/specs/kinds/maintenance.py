"""Spec kind "maintenance": Delta table upkeep per table, `table_maintenance.csv` (optional; docs/operations.md).

Columns: table (`table` or `layer.table`), cluster_by (liquid clustering keys) or zorder_by (for a
partitioned table), optimize_every (`12h`, `1d`, `7d`: how often OPTIMIZE runs), vacuum_retain_hours,
log_retention_days, deleted_file_retention_days, optimized_writes (true/false).

Retention is checked against the rollback window (`ROLLBACK_WINDOW_HOURS`): a VACUUM or a retention
that removes files a rollback of the last week would need is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from medallion.specs.cells import did_you_mean, name_list, spec_tables, table_by_name
from medallion.specs.csv_rows import Row
from medallion.specs.registry import Draft, SpecFile, SpecKind

__all__ = ["MAINTENANCE", "MAINTENANCE_FILE", "ROLLBACK_WINDOW_HOURS", "TableMaintenance"]

MAINTENANCE_FILE = "table_maintenance.csv"
ROLLBACK_WINDOW_HOURS = 168  # a run of the last 7 days can be rolled back (Delta time travel)
_EVERY = re.compile(r"^\s*(\d+)\s*([hd])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class TableMaintenance:
    table: str  # layer.table once checked
    cluster_by: tuple[str, ...] = ()
    zorder_by: tuple[str, ...] = ()
    optimize_every_hours: int = 24
    vacuum_retain_hours: int = ROLLBACK_WINDOW_HOURS
    log_retention_days: int = 30
    deleted_file_retention_days: int = 7
    optimized_writes: bool = True
    row: int = 0


def _number(row: Row, column: str, default: int, draft: Draft) -> int:
    text = row.get(column)
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        draft.problems.append(row.problem(column, f"{text!r} is not a whole number above 0"))
        return default
    return int(text)


def _parse(row: Row, draft: Draft) -> None:
    every, text = 24, row.get("optimize_every")
    if text:
        match = _EVERY.match(text)
        if match is None:
            draft.problems.append(
                row.problem("optimize_every", f"{text!r} is not a period", "e.g. 12h, 1d or 7d")
            )
        else:
            every = int(match[1]) * (24 if match[2].lower() == "d" else 1)
    flag = row.get("optimized_writes").lower() or "true"
    if flag not in ("true", "false"):
        draft.problems.append(row.problem("optimized_writes", f"{flag!r} is not true or false"))
    draft.add(
        "maintenance",
        TableMaintenance(
            table=row.get("table"),
            cluster_by=name_list(row, "cluster_by", draft),
            zorder_by=name_list(row, "zorder_by", draft),
            optimize_every_hours=every,
            vacuum_retain_hours=_number(row, "vacuum_retain_hours", ROLLBACK_WINDOW_HOURS, draft),
            log_retention_days=_number(row, "log_retention_days", 30, draft),
            deleted_file_retention_days=_number(row, "deleted_file_retention_days", 7, draft),
            optimized_writes=flag != "false",
            row=row.number,
        ),
    )


def check_maintenance(draft: Draft) -> None:
    tables = spec_tables(draft)
    checked = []
    for spec in draft.of("maintenance"):
        name = table_by_name(draft, MAINTENANCE_FILE, spec.row, "table", spec.table)
        if name is None:
            continue
        found = [name]
        item = tables[found[0]]
        columns = {c.name.lower() for c in getattr(item, "columns", ()) or ()}
        partitioned = bool(getattr(item, "partition_by", ()))
        if spec.cluster_by and spec.zorder_by:
            draft.problem(
                MAINTENANCE_FILE,
                spec.row,
                "zorder_by",
                "a table is clustered or Z-ordered, not both",
                "keep cluster_by (liquid clustering) unless the table is partitioned",
            )
        if spec.cluster_by and partitioned:
            draft.problem(
                MAINTENANCE_FILE,
                spec.row,
                "cluster_by",
                f"{found[0]} is partitioned: liquid clustering replaces partitions",
                "use zorder_by, or remove partition_by (a full refresh)",
            )
        for cell, names in (("cluster_by", spec.cluster_by), ("zorder_by", spec.zorder_by)):
            for column in names:
                if columns and column.lower() not in columns:
                    draft.problem(
                        MAINTENANCE_FILE,
                        spec.row,
                        cell,
                        f"{found[0]} has no column {column!r}",
                        did_you_mean(column, sorted(columns), "columns"),
                    )
        if spec.vacuum_retain_hours < ROLLBACK_WINDOW_HOURS:
            draft.problem(
                MAINTENANCE_FILE,
                spec.row,
                "vacuum_retain_hours",
                f"VACUUM keeping {spec.vacuum_retain_hours} hours would delete files a rollback needs "
                f"(runs of the last {ROLLBACK_WINDOW_HOURS} hours can be rolled back)",
                f"use {ROLLBACK_WINDOW_HOURS} or more",
            )
        if (
            spec.log_retention_days * 24 < ROLLBACK_WINDOW_HOURS
            or spec.deleted_file_retention_days * 24 < ROLLBACK_WINDOW_HOURS
        ):
            cell = (
                "log_retention_days"
                if spec.log_retention_days * 24 < ROLLBACK_WINDOW_HOURS
                else "deleted_file_retention_days"
            )
            draft.problem(
                MAINTENANCE_FILE,
                spec.row,
                cell,
                f"retention shorter than the {ROLLBACK_WINDOW_HOURS // 24}-day rollback window",
                f"use {ROLLBACK_WINDOW_HOURS // 24} days or more",
            )
        checked.append(replace(spec, table=found[0]))
    draft.items["maintenance"] = checked


MAINTENANCE = SpecKind(
    name="maintenance",
    description="Delta upkeep per table: clustering, OPTIMIZE, VACUUM and retention",
    files=(
        SpecFile(
            MAINTENANCE_FILE,
            required=("table",),
            optional=(
                "cluster_by",
                "zorder_by",
                "optimize_every",
                "vacuum_retain_hours",
                "log_retention_days",
                "deleted_file_retention_days",
                "optimized_writes",
            ),
            unique=("table",),
            identifiers=(),
            parse=_parse,
            produces="maintenance",
            may_be_missing=True,
        ),
    ),
    check=check_maintenance,
    after=("tables", "history", "gold"),
)

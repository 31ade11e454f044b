"""`medallion specs diff --base <ref>`: every change between two versions of the specs, additive or
breaking, and whether each breaking change is acknowledged in the same change.

Breaking: what the stored rows were computed with changes (a silver table's keys, sequence, tracked
columns, SCD type, load pattern or partitioning), a column is removed, renamed or narrowed, a column
becomes required, a table is removed, or a mask is removed (data that was hidden becomes readable).
A breaking change to a silver table is acknowledged by a row for it in `full_refresh.csv` (the job
rebuilds it from bronze once); a removed table by a row in `retired_tables.csv`; a removed mask by
nothing but review: it is reported as breaking so that someone looks. Everything else is additive,
operational settings included (table_maintenance.csv, freshness.csv): they change how tables are
kept and watched, never what they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from medallion.specs.model import ColumnSpec, SilverSpec, Specs

__all__ = ["SpecChange", "diff_specs", "narrows"]


@dataclass(frozen=True)
class SpecChange:
    """One change: where (file and row of the new version, or of the base for a removal), what, and
    whether it breaks stored data; `acknowledged` names the row that accepts it."""

    file: str
    row: int
    what: str
    breaking: bool
    fix: str = ""
    acknowledged: str = ""

    def __str__(self) -> str:
        kind = "breaking" if self.breaking else "additive"
        status = f", acknowledged by {self.acknowledged}" if self.acknowledged else ""
        where = f"{self.file}:{self.row}" if self.row else self.file
        fix = f" ({self.fix})" if self.fix and self.breaking and not self.acknowledged else ""
        return f"{kind:8} {where}: {self.what}{status}{fix}"

    @property
    def blocking(self) -> bool:
        return self.breaking and not self.acknowledged


_INTEGERS = ("tinyint", "smallint", "int", "bigint")
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def narrows(old: str, new: str) -> bool:
    """Whether values of type `old` may not fit type `new` (a change that can lose data)."""
    old, new = old.lower().replace(" ", ""), new.lower().replace(" ", "")
    if old == new or new == "string":
        return False
    if old in _INTEGERS and new in _INTEGERS:
        return _INTEGERS.index(new) < _INTEGERS.index(old)
    if old in _INTEGERS and (new in ("double", "float") or _DECIMAL.match(new)):
        return old == "bigint" and new == "float"
    if old == "float" and new == "double":
        return False
    a, b = _DECIMAL.match(old), _DECIMAL.match(new)
    if a and b:
        (p1, s1), (p2, s2) = (int(a[1]), int(a[2])), (int(b[1]), int(b[2]))
        return s2 < s1 or p2 - s2 < p1 - s1
    return not (old == "date" and new in ("timestamp", "timestamp_ntz"))


def _shape(table: SilverSpec) -> dict[str, object]:
    """What a silver table's stored rows depend on (as its stored properties record it)."""
    scd = table.scd
    return {
        "load pattern": table.load_pattern,
        "keys": table.keys,
        "sequence": table.sequence_by,
        "partitioning": table.partition_by,
        "SCD type": scd.scd_type if scd else None,
        "tracked columns": tuple(sorted(scd.tracked_columns)) if scd else (),
        "validity columns": (scd.effective_from_column, scd.effective_to_column, scd.is_current_column)
        if scd and scd.scd_type == 2
        else (),
    }


def diff_specs(base: Specs, head: Specs, folder: str = "specs") -> list[SpecChange]:
    """The changes from `base` to `head`, breaking ones first."""
    refreshes = {r.table.lower(): r for r in head.of("full_refresh")}
    retired = {r.table.lower(): r for r in head.of("retired_tables")}
    changes: list[SpecChange] = []
    for layer in ("bronze", "silver", "gold"):
        old = {t.table.lower(): t for t in getattr(base, layer)}
        new = {t.table.lower(): t for t in getattr(head, layer)}
        for name in sorted(old.keys() - new.keys()):
            ack = retired.get(name)
            changes.append(
                SpecChange(
                    f"{folder}/{_file(layer)}",
                    0,
                    f"{layer} table {name} removed",
                    True,
                    f"add a row for {name} to {folder}/retired_tables.csv (its data stays until you drop it)",
                    f"{folder}/retired_tables.csv:{ack.row}" if ack else "",
                )
            )
        for name in sorted(new.keys() - old.keys()):
            changes.append(
                SpecChange(f"{folder}/{_file(layer)}", new[name].row, f"{layer} table {name} added", False)
            )
        for name in sorted(old.keys() & new.keys()):
            ack = refreshes.get(name) if layer == "silver" else None
            ack_text = f"{folder}/full_refresh.csv:{ack.row}" if ack else ""
            changes += _table_changes(layer, old[name], new[name], folder, ack_text)
    changes += _mask_changes(base, head, folder)
    changes += _rule_changes(base, head, folder)
    for kind, file, what in _SETTINGS:
        changes += _setting_changes(base.of(kind), head.of(kind), f"{folder}/{file}", what)
    return sorted(changes, key=lambda c: (not c.breaking, c.file, c.row, c.what))


def _file(layer: str) -> str:
    return {
        "bronze": "bronze_sources.csv",
        "silver": "incremental_load_patterns.csv",
        "gold": "gold_tables.csv",
    }[layer]


def _table_changes(layer: str, old, new, folder: str, ack: str) -> list[SpecChange]:
    name = new.table
    refresh = f"add a row for {name} to {folder}/full_refresh.csv: the next run rebuilds it from bronze once"
    if layer == "bronze":
        refresh = (
            "bronze keeps what it ingested: add the columns as nullable, or ingest again into a new table"
        )
    changes = []
    if isinstance(new, SilverSpec):
        before, after = _shape(old), _shape(new)
        for what in before:
            if before[what] != after[what]:
                changes.append(
                    SpecChange(
                        f"{folder}/{new.spec_file}",
                        new.row,
                        f"silver.{name}: {what} changed from {_show(before[what])} to {_show(after[what])}",
                        True,
                        refresh,
                        ack,
                    )
                )
    if layer == "gold":
        if old.sql != new.sql:
            changes.append(
                SpecChange(
                    f"{folder}/gold/{new.sql_file}",
                    0,
                    f"gold.{name}: SQL changed (rebuilt whole on the next run)",
                    False,
                )
            )
        return changes
    old_cols = {c.name.lower(): c for c in old.columns}
    new_cols = {c.name.lower(): c for c in new.columns}
    for column in sorted(old_cols.keys() - new_cols.keys()):
        changes.append(
            SpecChange(
                f"{folder}/columns.csv",
                0,
                f"{layer}.{name}.{column} removed (or renamed)",
                True,
                refresh,
                ack,
            )
        )
    for column in sorted(new_cols.keys() - old_cols.keys()):
        added: ColumnSpec = new_cols[column]
        if added.nullable:
            changes.append(
                SpecChange(
                    f"{folder}/columns.csv", added.row, f"{layer}.{name}.{column} added (nullable)", False
                )
            )
        else:
            changes.append(
                SpecChange(
                    f"{folder}/columns.csv",
                    added.row,
                    f"{layer}.{name}.{column} added as required: stored rows have no value",
                    True,
                    refresh,
                    ack,
                )
            )
    for column in sorted(old_cols.keys() & new_cols.keys()):
        a, b = old_cols[column], new_cols[column]
        if narrows(a.data_type, b.data_type):
            changes.append(
                SpecChange(
                    f"{folder}/columns.csv",
                    b.row,
                    f"{layer}.{name}.{column} narrowed from {a.data_type} to {b.data_type}",
                    True,
                    refresh,
                    ack,
                )
            )
        elif a.data_type.lower() != b.data_type.lower():
            changes.append(
                SpecChange(
                    f"{folder}/columns.csv",
                    b.row,
                    f"{layer}.{name}.{column} widened from {a.data_type} to {b.data_type}",
                    False,
                )
            )
        if a.nullable and not b.nullable:
            changes.append(
                SpecChange(
                    f"{folder}/columns.csv",
                    b.row,
                    f"{layer}.{name}.{column} became required",
                    True,
                    refresh,
                    ack,
                )
            )
        if a.expression != b.expression:
            changes.append(
                SpecChange(
                    f"{folder}/columns.csv",
                    b.row,
                    f"{layer}.{name}.{column}: expression changed (applies to new rows)",
                    False,
                )
            )
    return changes


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")" if value else "none"
    return "none" if value is None else str(value)


def _mask_changes(base: Specs, head: Specs, folder: str) -> list[SpecChange]:
    def masks(specs: Specs) -> dict[tuple[str, str], object]:
        found = specs.of("security")
        return {(m.table, m.column.lower()): m for m in (found[0].masks if found else ())}

    old, new = masks(base), masks(head)
    changes = [
        SpecChange(
            f"{folder}/security/column_masks.csv",
            old[key].row,
            f"mask of {key[0]}.{key[1]} removed: its values become readable to everyone with SELECT",
            True,
            "make sure this is intended; a removed mask cannot be acknowledged by a file, only by review",
        )
        for key in sorted(old.keys() - new.keys())
    ]
    changes += [
        SpecChange(
            f"{folder}/security/column_masks.csv", new[key].row, f"mask of {key[0]}.{key[1]} added", False
        )
        for key in sorted(new.keys() - old.keys())
    ]
    return changes


def _rule_changes(base: Specs, head: Specs, folder: str) -> list[SpecChange]:
    both = {t.table for t in base.silver} & {
        t.table for t in head.silver
    }  # a table's own change covers its rules

    def rules(specs: Specs) -> dict[tuple[str, str], object]:
        return {(t.table, r.name): r for t in specs.silver if t.table in both for r in t.rules}

    old, new = rules(base), rules(head)
    changes = [
        SpecChange(
            f"{folder}/data_quality/dq_rules.csv",
            new[key].row,
            f"rule {key[1]} on silver.{key[0]} added",
            False,
        )
        for key in sorted(new.keys() - old.keys())
        if new[key].row
    ]
    changes += [
        SpecChange(
            f"{folder}/data_quality/dq_rules.csv", 0, f"rule {key[1]} on silver.{key[0]} removed", False
        )
        for key in sorted(old.keys() - new.keys())
        if old[key].row
    ]
    return changes


# Operational spec kinds keyed by table: (kind, file, what a row is).
_SETTINGS = (
    ("maintenance", "table_maintenance.csv", "maintenance"),
    ("freshness", "freshness.csv", "freshness SLA"),
)


def _setting_changes(old_items: tuple, new_items: tuple, file: str, what: str) -> list[SpecChange]:
    """Rows of an operational kind added, removed or changed (field by field), all additive."""
    old = {item.table: item for item in old_items}
    new = {item.table: item for item in new_items}
    changes = [
        SpecChange(file, new[t].row, f"{what} of {t} added", False) for t in sorted(new.keys() - old.keys())
    ]
    changes += [SpecChange(file, 0, f"{what} of {t} removed", False) for t in sorted(old.keys() - new.keys())]
    for table in sorted(old.keys() & new.keys()):
        for field in fields(new[table]):
            before, after = getattr(old[table], field.name), getattr(new[table], field.name)
            if field.name != "row" and before != after:
                changes.append(
                    SpecChange(
                        file,
                        new[table].row,
                        f"{what} of {table}: {field.name} {_show(before)} -> {_show(after)}",
                        False,
                    )
                )
    return changes

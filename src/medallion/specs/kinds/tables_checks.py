"""Cross-file checks of kind "tables": do bronze_sources.csv, the silver table files and columns.csv
agree? A column belongs to a declared table, every table has columns, a silver table reads a bronze
table, keys and sequences name its columns, and expressions read columns its bronze table has.

Checks against a file that could not be read are skipped, so one broken file is reported once
instead of once per row that refers to it. Afterwards the bronze and silver items carry their
columns.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace

from medallion.names import TECHNICAL_PREFIX
from medallion.specs.cells import did_you_mean
from medallion.specs.model import BronzeSpec, ColumnSpec, SilverSpec
from medallion.specs.registry import Draft
from medallion.specs.sql_text import ColumnRef, column_references

__all__ = ["check_tables"]

log = logging.getLogger(__name__)

_BRONZE_FILE, _COLUMNS_FILE = "bronze_sources.csv", "columns.csv"
_DECLARED_IN = {"bronze": _BRONZE_FILE, "silver": "incremental_load_patterns.csv or scd_mappings.csv"}

Columns = dict[tuple[str, str], list[ColumnSpec]]


def check_tables(draft: Draft) -> None:
    """Append cross-file problems; leave bronze and silver items with their columns attached."""
    bronze = {item.table.lower(): item for item in draft.of("bronze")}
    silver = {item.table.lower(): item for item in draft.of("silver")}
    columns: Columns = defaultdict(list)
    for column in draft.of("columns"):
        columns[column.layer, column.table.lower()].append(column)

    _check_column_owners(draft, {"bronze": bronze, "silver": silver})
    _check_tables_have_columns(draft, columns)
    _check_sources(draft, bronze)
    _check_column_lists(draft, columns)
    _check_expressions(draft, bronze, silver, columns)
    for layer in ("bronze", "silver"):
        draft.items[layer] = [
            replace(item, columns=tuple(columns[layer, item.table.lower()])) for item in draft.of(layer)
        ]


def _check_column_owners(draft: Draft, tables: dict[str, dict[str, object]]) -> None:
    for column in draft.of("columns"):
        if draft.readable(column.layer) and column.table.lower() not in tables[column.layer]:
            draft.problem(
                _COLUMNS_FILE,
                column.row,
                "table",
                f"{column.layer} table {column.table!r} is not declared in {_DECLARED_IN[column.layer]}",
                did_you_mean(column.table, tables[column.layer], f"{column.layer} tables"),
            )


def _check_tables_have_columns(draft: Draft, columns: Columns) -> None:
    if not draft.readable("columns"):
        return
    items: list[tuple[str, str, BronzeSpec | SilverSpec]] = [
        *(("bronze", _BRONZE_FILE, b) for b in draft.of("bronze")),
        *(("silver", s.spec_file, s) for s in draft.of("silver")),
    ]
    for layer, file, item in items:
        if not columns[layer, item.table.lower()]:
            draft.problem(
                file,
                item.row,
                "table",
                f"{layer} table {item.table!r} has no columns in {_COLUMNS_FILE}",
                f"add one {_COLUMNS_FILE} row per column with layer {layer}",
            )


def _check_sources(draft: Draft, bronze: dict[str, BronzeSpec]) -> None:
    if not draft.readable("bronze"):
        return
    for table in draft.of("silver"):
        if table.source_table.lower() not in bronze:
            draft.problem(
                table.spec_file,
                table.row,
                "source_table",
                f"source_table {table.source_table!r} is not a bronze table",
                did_you_mean(
                    table.source_table,
                    [b.table for b in draft.of("bronze")],
                    f"bronze tables in {_BRONZE_FILE}",
                ),
            )


def _check_column_lists(draft: Draft, columns: Columns) -> None:
    """keys, sequence_by and partition_by name columns of the silver table itself."""
    if not draft.readable("columns"):
        return
    for table in draft.of("silver"):
        names = [c.name for c in columns["silver", table.table.lower()]]
        if not names:
            continue  # reported as a table without columns
        lowered = {n.lower() for n in names}
        for header, values in (
            ("keys", table.keys),
            ("sequence_by", table.sequence_by),
            ("partition_by", table.partition_by),
        ):
            for value in values:
                if value.lower() not in lowered:
                    draft.problem(
                        table.spec_file,
                        table.row,
                        header,
                        f"{value!r} is not a column of silver table {table.table}",
                        did_you_mean(value, names, "its columns"),
                    )


def _check_expressions(
    draft: Draft, bronze: dict[str, BronzeSpec], silver: dict[str, SilverSpec], columns: Columns
) -> None:
    """Silver expressions and delete_when read columns of the bronze source table."""
    if not draft.readable("columns", "bronze", "silver"):
        return
    for table in draft.of("silver"):
        source = bronze.get(table.source_table.lower())
        source_columns = [c.name for c in columns["bronze", table.source_table.lower()]]
        if source is None or not source_columns:
            continue  # reported as an unknown source or a table without columns
        for ref in column_references(table.delete_when):
            if not _reads_column(ref, source_columns):
                draft.problem(
                    table.spec_file,
                    table.row,
                    "delete_when",
                    f"{ref.text!r} is not a column of bronze table {source.table}",
                    did_you_mean(ref.parts[-1], source_columns, "its columns"),
                )
    for column in draft.of("columns"):
        table = silver.get(column.table.lower()) if column.layer == "silver" else None
        if table is None:
            continue
        source = bronze.get(table.source_table.lower())
        source_columns = [c.name for c in columns["bronze", table.source_table.lower()]]
        if source is None or not source_columns:
            continue
        if not column.expression:
            if not _reads_column(ColumnRef((column.name,), 1), source_columns):
                draft.problem(
                    _COLUMNS_FILE,
                    column.row,
                    "expression",
                    f"expression is empty, so it reads bronze column {column.name!r}, "
                    f"which bronze table {source.table} lacks",
                    "write an expression over the bronze columns or add the column to the bronze table",
                )
            continue
        for ref in column_references(column.expression):
            if not _reads_column(ref, source_columns):
                draft.problem(
                    _COLUMNS_FILE,
                    column.row,
                    "expression",
                    f"{ref.text!r} is not a column of bronze table {source.table}",
                    did_you_mean(ref.parts[-1], source_columns, "its columns"),
                )


def _reads_column(ref: ColumnRef, names: list[str]) -> bool:
    """True unless no part of the reference can be a column (`a.b` may be alias.column or column.field).

    Bronze ingestion adds technical columns (`_source_file`, `_rescued_data`, ...) that columns.csv
    does not list; expressions may read them.
    """
    lowered = {n.lower() for n in names}
    if ref.parts[0].startswith(TECHNICAL_PREFIX):
        return True
    return any(part.lower() in lowered for part in ref.parts)

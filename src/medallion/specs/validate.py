"""Cross-file checks: do the spec files agree with each other?

The per-file parsers in `loader` check each cell on its own; here the tables, columns and SQL are
compared across files (a key names a column, a source names a bronze table, gold SQL reads tables
that exist and never itself). Checks against a file that could not be read are skipped, so one
broken file is reported once instead of once per row that refers to it.
"""

from __future__ import annotations

import difflib
import logging
from collections import defaultdict
from dataclasses import replace

from medallion.errors import SpecProblem
from medallion.specs.draft import (
    BRONZE_FILE,
    COLUMNS_FILE,
    GOLD_FILE,
    GOLD_SQL_FOLDER,
    SCD_FILE,
    SILVER_FILE,
    Draft,
)
from medallion.specs.model import BronzeSource, ColumnSpec, GoldTable, SilverTable, Specs
from medallion.specs.sql_text import ColumnRef, column_references, table_references
from medallion.specs.validate_quality import attach_rules
from medallion.specs.validate_scd import check_scd_tables

__all__ = ["TECHNICAL_PREFIX", "cross_check"]

log = logging.getLogger(__name__)

# Bronze ingestion may add technical columns (e.g. _metadata, _rescued_data, _ingested_at) that
# columns.csv does not list; expressions may read them without a problem being reported.
TECHNICAL_PREFIX = "_"
_FILES_FOR_LAYER = {"bronze": (BRONZE_FILE,), "silver": (SILVER_FILE, SCD_FILE), "gold": (GOLD_FILE,)}


def cross_check(draft: Draft) -> Specs:
    """Append cross-file problems to `draft.problems`; return the specs with columns attached."""
    bronze = {item.table.lower(): item for item in draft.bronze}
    silver = {item.table.lower(): item for item in draft.silver}
    columns: dict[tuple[str, str], list[ColumnSpec]] = defaultdict(list)
    for column in draft.columns:
        columns[column.layer, column.table.lower()].append(column)

    _check_column_owners(draft, {"bronze": bronze, "silver": silver})
    _check_tables_have_columns(draft, columns)
    _check_sources(draft, bronze)
    _check_column_lists(draft, columns)
    _check_expressions(draft, bronze, silver, columns)
    gold = _check_gold(draft, bronze, silver)
    silver_tables = [replace(s, columns=tuple(columns["silver", s.table.lower()])) for s in draft.silver]
    silver_tables = check_scd_tables(draft, silver_tables)
    bronze_tables = [replace(b, columns=tuple(columns["bronze", b.table.lower()])) for b in draft.bronze]
    silver_tables, alerts = attach_rules(draft, silver_tables, {b.table.lower(): b for b in bronze_tables})

    return Specs(bronze=tuple(bronze_tables), silver=tuple(silver_tables), gold=gold, alerts=alerts)


def _problem(draft: Draft, name: str, row: int, column: str, message: str, fix: str = "") -> None:
    draft.problems.append(SpecProblem(draft.display(name), row, column, message, fix))


def _choices(name: str, known: list[str], what: str) -> str:
    """A fix hint: the closest names, or the list of known ones."""
    close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1)
    if close:
        return f"did you mean {close[0]}?"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"{what}: {shown or 'none'}"


def _check_column_owners(draft: Draft, tables: dict[str, dict[str, object]]) -> None:
    for column in draft.columns:
        table_files = _FILES_FOR_LAYER[column.layer]
        if draft.readable(*table_files) and column.table.lower() not in tables[column.layer]:
            _problem(
                draft,
                COLUMNS_FILE,
                column.row,
                "table",
                f"{column.layer} table {column.table!r} is not declared in {' or '.join(table_files)}",
                _choices(column.table, [t for t in tables[column.layer]], f"{column.layer} tables"),
            )


def _check_tables_have_columns(draft: Draft, columns: dict[tuple[str, str], list[ColumnSpec]]) -> None:
    if not draft.readable(COLUMNS_FILE):
        return
    items: list[tuple[str, str, BronzeSource | SilverTable]] = [
        *(("bronze", BRONZE_FILE, b) for b in draft.bronze),
        *(("silver", s.spec_file, s) for s in draft.silver),
    ]
    for layer, file, item in items:
        if not columns[layer, item.table.lower()]:
            _problem(
                draft,
                file,
                item.row,
                "table",
                f"{layer} table {item.table!r} has no columns in {COLUMNS_FILE}",
                f"add one {COLUMNS_FILE} row per column with layer {layer}",
            )


def _check_sources(draft: Draft, bronze: dict[str, BronzeSource]) -> None:
    if not draft.readable(BRONZE_FILE):
        return
    for table in draft.silver:
        if table.source_table.lower() not in bronze:
            _problem(
                draft,
                table.spec_file,
                table.row,
                "source_table",
                f"source_table {table.source_table!r} is not a bronze table",
                _choices(
                    table.source_table, [b.table for b in draft.bronze], f"bronze tables in {BRONZE_FILE}"
                ),
            )


def _check_column_lists(draft: Draft, columns: dict[tuple[str, str], list[ColumnSpec]]) -> None:
    """keys, sequence_by and partition_by name columns of the silver table itself."""
    if not draft.readable(COLUMNS_FILE):
        return
    for table in draft.silver:
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
                    _problem(
                        draft,
                        table.spec_file,
                        table.row,
                        header,
                        f"{value!r} is not a column of silver table {table.table}",
                        _choices(value, names, "its columns"),
                    )


def _check_expressions(
    draft: Draft,
    bronze: dict[str, BronzeSource],
    silver: dict[str, SilverTable],
    columns: dict[tuple[str, str], list[ColumnSpec]],
) -> None:
    """Silver expressions and delete_when read columns of the bronze source table."""
    if not draft.readable(COLUMNS_FILE, BRONZE_FILE, SILVER_FILE, SCD_FILE):
        return
    for table in draft.silver:
        source = bronze.get(table.source_table.lower())
        source_columns = [c.name for c in columns["bronze", table.source_table.lower()]]
        if source is None or not source_columns:
            continue  # reported as an unknown source or a table without columns
        for ref in column_references(table.delete_when):
            if not _reads_column(ref, source_columns):
                _problem(
                    draft,
                    table.spec_file,
                    table.row,
                    "delete_when",
                    f"{ref.text!r} is not a column of bronze table {source.table}",
                    _choices(ref.parts[-1], source_columns, "its columns"),
                )
    for column in draft.columns:
        table = silver.get(column.table.lower()) if column.layer == "silver" else None
        if table is None:
            continue
        source = bronze.get(table.source_table.lower())
        source_columns = [c.name for c in columns["bronze", table.source_table.lower()]]
        if source is None or not source_columns:
            continue
        if not column.expression:
            if not _reads_column(ColumnRef((column.name,), 1), source_columns):
                _problem(
                    draft,
                    COLUMNS_FILE,
                    column.row,
                    "expression",
                    f"expression is empty, so it reads bronze column {column.name!r}, "
                    f"which bronze table {source.table} lacks",
                    "write an expression over the bronze columns or add the column to the bronze table",
                )
            continue
        for ref in column_references(column.expression):
            if not _reads_column(ref, source_columns):
                _problem(
                    draft,
                    COLUMNS_FILE,
                    column.row,
                    "expression",
                    f"{ref.text!r} is not a column of bronze table {source.table}",
                    _choices(ref.parts[-1], source_columns, "its columns"),
                )


def _reads_column(ref: ColumnRef, names: list[str]) -> bool:
    """True unless no part of the reference can be a column (`a.b` may be alias.column or column.field)."""
    lowered = {n.lower() for n in names}
    if ref.parts[0].startswith(TECHNICAL_PREFIX):
        return True
    return any(part.lower() in lowered for part in ref.parts)


def _check_gold(
    draft: Draft, bronze: dict[str, BronzeSource], silver: dict[str, SilverTable]
) -> tuple[GoldTable, ...]:
    """Gold SQL reads existing tables; gold tables come out in dependency order."""
    gold = {item.table.lower(): item for item in draft.gold}
    known: dict[str, dict[str, object]] = {"bronze": bronze, "silver": silver, "gold": gold}
    for item in draft.gold:
        if not item.sql:
            continue
        display = f"{GOLD_SQL_FOLDER}/{item.sql_file}"
        refs, _ = table_references(item.sql)
        for ref in refs:
            if not draft.readable(*_FILES_FOR_LAYER[ref.layer]) or ref.table.lower() in known[ref.layer]:
                continue
            _problem(
                draft,
                display,
                ref.line,
                "",
                f"${{{ref.layer}}}.{ref.table} is not a {ref.layer} table in the specs",
                _choices(ref.table, list(known[ref.layer]), f"{ref.layer} tables"),
            )
    return _dependency_order(draft, gold)


def _dependency_order(draft: Draft, gold: dict[str, GoldTable]) -> tuple[GoldTable, ...]:
    """Stable topological order (CSV order among independent tables); cycles are reported."""
    reads = {
        name: [t.lower() for layer, t in item.upstream if layer == "gold" and t.lower() in gold]
        for name, item in gold.items()
    }
    ordered: list[str] = []
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for name in gold:
            if name not in done and all(dep in done for dep in reads[name]):
                ordered.append(name)
                done.add(name)
                progress = True
                break
    reported: set[frozenset[str]] = set()
    for name in gold:
        if name in done:
            continue
        cycle = _find_cycle(name, reads, done)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            first = min(cycle, key=lambda n: gold[n].row)
            start = cycle.index(first)
            path = [*cycle[start:], *cycle[:start], first]
            _problem(
                draft,
                GOLD_FILE,
                gold[first].row,
                "table",
                f"gold tables read each other in a cycle: {' -> '.join(gold[n].table for n in path)}",
                "a gold table may only read gold tables that do not read it back",
            )
        ordered.append(name)
    return tuple(gold[name] for name in ordered)


def _find_cycle(start: str, reads: dict[str, list[str]], done: set[str]) -> list[str]:
    """A cycle reachable from `start` through unfinished tables, as a list of names."""
    path: list[str] = []
    on_path: set[str] = set()
    visited: set[str] = set()

    def walk(name: str) -> list[str]:
        if name in on_path:
            return path[path.index(name) :]
        if name in visited or name in done:
            return []
        visited.add(name)
        path.append(name)
        on_path.add(name)
        for dep in reads[name]:
            found = walk(dep)
            if found:
                return found
        path.pop()
        on_path.discard(name)
        return []

    return walk(start)

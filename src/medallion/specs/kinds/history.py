"""Spec kind "history": silver tables that keep history (SCD1/SCD2), declared in `scd_mappings.csv`.

A row names the table, its bronze source, keys and sequence like a plain silver table, plus the
history settings: SCD type, whether the source sends change events or full snapshots, tracked and
untracked columns, and the names of the SCD2 validity columns. Rows become `SilverSpec` objects with
an `ScdSpec`, next to the plain silver tables of kind "tables".

The cross-file check compares them with columns.csv and resolves `tracked_columns`: left empty in
the spec, it means every column that is not a key, a sequence column or untracked, and the runtime
(and the spec-drift check) sees that explicit list.
"""

from __future__ import annotations

import re
from dataclasses import replace

from medallion.names import INGESTED_AT, IS_DELETE, SOURCE_FILE
from medallion.specs.cells import IDENTIFIER, IDENTIFIER_FIX, choice, name_list
from medallion.specs.csv_rows import Row
from medallion.specs.load_patterns import history_patterns
from medallion.specs.model import ScdSpec, SilverSpec
from medallion.specs.registry import Draft, SpecFile, SpecKind
from medallion.specs.sql_text import expression_problems

__all__ = ["HISTORY", "HISTORY_FILE", "SOURCE_KINDS"]

HISTORY_FILE = "scd_mappings.csv"
SOURCE_KINDS = ("changes", "snapshot")

# Run time is not business time: a sequence built from these would date history by when it loaded.
_RUN_TIME = re.compile(
    rf"\b(current_timestamp|current_date|now|localtimestamp|{INGESTED_AT}|{SOURCE_FILE})\b", re.IGNORECASE
)
_RESERVED = (SOURCE_FILE, INGESTED_AT, IS_DELETE)  # validity columns may not take these names
_REQUIRED = ("table", "source_table", "scd_type", "keys", "sequence_by")
_OPTIONAL = (
    "source_kind",
    "delete_when",
    "tracked_columns",
    "untracked_columns",
    "effective_from_column",
    "effective_to_column",
    "is_current_column",
    "partition_by",
    "description",
)
_VALIDITY_DEFAULTS = {
    "effective_from_column": "effective_from",
    "effective_to_column": "effective_to",
    "is_current_column": "is_current",
}


def _parse(row: Row, draft: Draft) -> None:
    scd_type = row.get("scd_type").upper().removeprefix("SCD").strip()
    if row.get("scd_type") and f"scd{scd_type}" not in history_patterns():
        types = " or ".join(p.removeprefix("scd") for p in history_patterns())
        draft.problems.append(
            row.problem("scd_type", f"unknown scd_type {row.get('scd_type')!r}", f"use {types}")
        )
    kind = choice(row, "source_kind", SOURCE_KINDS, draft, default="changes")
    keys = name_list(row, "keys", draft)
    sequence_by = name_list(row, "sequence_by", draft)
    delete_when = row.get("delete_when")
    if kind == "snapshot" and delete_when:
        draft.problems.append(
            row.problem(
                "delete_when",
                "a snapshot source derives deletes from the keys missing in a snapshot",
                "clear delete_when, or use source_kind changes for a feed with an operation column",
            )
        )
    if kind == "snapshot" and len(sequence_by) > 1:
        draft.problems.append(
            row.problem(
                "sequence_by",
                "a snapshot source is ordered by one column (the snapshot's date or number)",
                "name one column that all rows of a snapshot share, e.g. snapshot_date",
            )
        )
    for message, fix in expression_problems(delete_when) if delete_when else ():
        draft.problems.append(row.problem("delete_when", message, fix))
    validity = {}
    for column, default in _VALIDITY_DEFAULTS.items():
        name = row.get(column) or default
        if not IDENTIFIER.match(name):
            draft.problems.append(row.problem(column, f"{name!r} is not a valid column name", IDENTIFIER_FIX))
        validity[column] = name
    if scd_type == "2" and len({v.lower() for v in validity.values()}) < len(validity):
        draft.problems.append(
            row.problem(
                "is_current_column",
                "the validity columns must have three different names",
                "e.g. effective_from, effective_to, is_current",
            )
        )
    tracked = name_list(row, "tracked_columns", draft)
    untracked = name_list(row, "untracked_columns", draft)
    for name in tracked:
        if name.lower() in (u.lower() for u in untracked):
            draft.problems.append(
                row.problem(
                    "untracked_columns",
                    f"{name!r} is both tracked and untracked",
                    "list it in tracked_columns or in untracked_columns, not both",
                )
            )
    known_type = f"scd{scd_type}" in history_patterns()
    draft.add(
        "silver",
        SilverSpec(
            table=row.get("table"),
            source_table=row.get("source_table"),
            load_pattern=f"scd{scd_type}" if known_type else "",
            keys=keys,
            sequence_by=sequence_by,
            delete_when=delete_when,
            partition_by=name_list(row, "partition_by", draft),
            description=row.get("description"),
            row=row.number,
            scd=ScdSpec(
                scd_type=2 if scd_type == "2" else 1,
                source_kind=kind if kind in SOURCE_KINDS else "changes",
                tracked_columns=tracked,
                untracked_columns=untracked,
                **validity,
            ),
            spec_file=HISTORY_FILE,
        ),
    )


def check_history(draft: Draft) -> None:
    """Problems go to `draft.problems`; history tables get their tracked columns resolved."""
    tables = draft.of("silver")
    _check_unique_names(draft, tables)
    draft.items["silver"] = [_check_scd(draft, t) if t.scd is not None else t for t in tables]


def _problem(draft: Draft, row: int, column: str, message: str, fix: str, file: str = HISTORY_FILE) -> None:
    draft.problem(file, row, column, message, fix)


def _check_unique_names(draft: Draft, tables: list[SilverSpec]) -> None:
    seen: dict[str, SilverSpec] = {}
    for table in tables:
        other = seen.setdefault(table.table.lower(), table)
        if other is not table and other.spec_file != table.spec_file:
            _problem(
                draft,
                table.row,
                "table",
                f"silver table {table.table!r} is also declared in {other.spec_file} (row {other.row})",
                "declare each silver table once: history tables in scd_mappings.csv, others in "
                f"{other.spec_file}",
                file=table.spec_file,
            )


def _check_scd(draft: Draft, table: SilverSpec) -> SilverSpec:
    scd = table.scd
    assert scd is not None
    names = [c.name for c in table.columns]
    if not names or not draft.readable("columns", "silver"):
        return table  # a table without columns is reported on its own
    lowered = {n.lower() for n in names}
    fixed = {n.lower() for n in (*table.keys, *table.sequence_by)}
    for header, values in (
        ("tracked_columns", scd.tracked_columns),
        ("untracked_columns", scd.untracked_columns),
    ):
        for value in values:
            if value.lower() not in lowered:
                _problem(
                    draft,
                    table.row,
                    header,
                    f"{value!r} is not a column of silver table {table.table}",
                    f"its columns: {', '.join(names)}",
                )
            elif value.lower() in fixed:
                _problem(
                    draft,
                    table.row,
                    header,
                    f"{value!r} is a key or sequence column",
                    f"remove it from {header}: keys identify a row and sequence columns order its changes",
                )
    for header in ("effective_from_column", "effective_to_column", "is_current_column"):
        name = getattr(scd, header)
        if scd.scd_type == 2 and (name.lower() in lowered or name.lower() in _RESERVED):
            _problem(
                draft,
                table.row,
                header,
                f"{name!r} is already a column of silver table {table.table}",
                f"name the validity column something else, e.g. {header.removesuffix('_column')}",
            )
    by_name = {c.name.lower(): c for c in table.columns}
    for name in table.sequence_by:
        column = by_name.get(name.lower())
        source = column.expression if column is not None and column.expression else name
        if _RUN_TIME.search(source):
            _problem(
                draft,
                column.row if column is not None else table.row,
                "expression" if column is not None and column.expression else "sequence_by",
                f"sequence column {name!r} is run time ({source!r}), not business time",
                "order changes by a time or number the source system gives each change, e.g. updated_at",
                file="columns.csv" if column is not None and column.expression else HISTORY_FILE,
            )
    untracked = {n.lower() for n in scd.untracked_columns}
    tracked = scd.tracked_columns or tuple(
        n for n in names if n.lower() not in fixed and n.lower() not in untracked
    )
    return replace(table, scd=replace(scd, tracked_columns=tracked))


HISTORY = SpecKind(
    name="history",
    description="silver tables with SCD1/SCD2 history from change events or snapshots",
    files=(
        SpecFile(
            HISTORY_FILE,
            required=_REQUIRED,
            optional=_OPTIONAL,
            unique=("table",),
            identifiers=("table", "source_table"),
            parse=_parse,
            produces="silver",
            may_be_missing=True,
        ),
    ),
    check=check_history,
    after=("tables",),
)

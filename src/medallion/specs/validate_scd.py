"""Cross-file checks of history tables (scd_mappings.csv) against columns.csv.

Also resolves `tracked_columns`: left empty in the spec, it means every column that is not a key, a
sequence column or untracked, and the runtime (and the spec-drift check) sees that explicit list.
"""

from __future__ import annotations

import re
from dataclasses import replace

from medallion.errors import SpecProblem
from medallion.specs.draft import COLUMNS_FILE, SCD_FILE, Draft
from medallion.specs.model import SilverTable

__all__ = ["check_scd_tables"]

# Run time is not business time: a sequence built from these would date history by when it loaded.
_RUN_TIME = re.compile(
    r"\b(current_timestamp|current_date|now|localtimestamp|_ingested_at|_source_file)\b", re.IGNORECASE
)
_LINEAGE = ("_source_file", "_ingested_at", "_is_delete")


def check_scd_tables(draft: Draft, tables: list[SilverTable]) -> list[SilverTable]:
    """Problems go to `draft.problems`; the tables come back with tracked columns resolved."""
    _check_unique_names(draft, tables)
    return [_check_scd(draft, t) if t.scd is not None else t for t in tables]


def _problem(draft: Draft, row: int, column: str, message: str, fix: str, file: str = SCD_FILE) -> None:
    draft.problems.append(SpecProblem(draft.display(file), row, column, message, fix))


def _check_unique_names(draft: Draft, tables: list[SilverTable]) -> None:
    seen: dict[str, SilverTable] = {}
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


def _check_scd(draft: Draft, table: SilverTable) -> SilverTable:
    scd = table.scd
    assert scd is not None
    names = [c.name for c in table.columns]
    if not names or not draft.readable(COLUMNS_FILE, SCD_FILE):
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
        if scd.scd_type == 2 and (name.lower() in lowered or name.lower() in _LINEAGE):
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
                file=COLUMNS_FILE if column is not None and column.expression else SCD_FILE,
            )
    untracked = {n.lower() for n in scd.untracked_columns}
    tracked = scd.tracked_columns or tuple(
        n for n in names if n.lower() not in fixed and n.lower() not in untracked
    )
    return replace(table, scd=replace(scd, tracked_columns=tracked))

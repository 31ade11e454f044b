"""One parser per spec file: turn one CSV row into typed objects, checking each cell on its own.

`SPEC_FILES` registers them. To add a spec file, write `_parse_<file>(row, draft)` and add a
`SpecFile` entry with its headers; the loader does the reading and the empty-cell, name and
duplicate checks. Checks that compare rows or files live in `validate`.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath

from medallion.errors import SpecProblem
from medallion.specs.csv_rows import Row
from medallion.specs.draft import (
    BRONZE_FILE,
    COLUMNS_FILE,
    GOLD_FILE,
    GOLD_SQL_FOLDER,
    IDENTIFIER,
    IDENTIFIER_FIX,
    SCD_FILE,
    SILVER_FILE,
    Draft,
    SpecFile,
    name_list,
)
from medallion.specs.model import (
    MERGE_PATTERNS,
    SCD_SOURCE_KINDS,
    SOURCE_FORMATS,
    BronzeSource,
    ColumnSpec,
    GoldTable,
    ScdSpec,
    SilverTable,
)
from medallion.specs.sql_text import data_type_problem, expression_problems, table_references

__all__ = ["SPEC_FILES"]

log = logging.getLogger(__name__)

_OPTION_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_TRUE = frozenset({"", "true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


# --- bronze_sources.csv -------------------------------------------------------------------------


def _parse_bronze(row: Row, draft: Draft) -> None:
    fmt = row.get("format").lower()
    if fmt and fmt not in SOURCE_FORMATS:
        draft.problems.append(
            row.problem(
                "format", f"unknown format {row.get('format')!r}", f"use one of: {', '.join(SOURCE_FORMATS)}"
            )
        )
    landing = row.get("landing_folder")
    if landing:
        _check_relative_path(
            row, "landing_folder", landing, draft, "a folder under the landing root, e.g. sales"
        )
    draft.bronze.append(
        BronzeSource(
            table=row.get("table"),
            format=fmt,
            landing_folder=landing.replace("\\", "/").strip("/"),
            reader_options=_reader_options(row, draft),
            description=row.get("description"),
            row=row.number,
        )
    )


def _reader_options(row: Row, draft: Draft) -> dict[str, str]:
    """`key=value;key=value` -> dict; values keep their text (`delimiter=|`)."""
    options: dict[str, str] = {}
    fix = "write key=value pairs separated by ;, e.g. header=true;delimiter=|"
    for part in row.get("reader_options").split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not _OPTION_KEY.match(key):
            draft.problems.append(
                row.problem("reader_options", f"malformed reader option {part.strip()!r}", fix)
            )
            continue
        if key.lower() in {k.lower() for k in options}:
            draft.problems.append(row.problem("reader_options", f"reader option {key!r} is given twice", fix))
            continue
        options[key] = value.strip()
    return options


def _check_relative_path(row: Row, column: str, value: str, draft: Draft, fix: str) -> bool:
    path = value.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "://" in path:
        draft.problems.append(
            row.problem(column, f"{value!r} is an absolute path", f"use a relative path: {fix}")
        )
        return False
    if ".." in PurePosixPath(path).parts:
        draft.problems.append(row.problem(column, f"{value!r} leaves its folder with ..", f"use {fix}"))
        return False
    return True


# --- incremental_load_patterns.csv --------------------------------------------------------------


def _parse_silver(row: Row, draft: Draft) -> None:
    pattern = row.get("load_pattern").lower()
    if pattern in ("scd1", "scd2"):
        draft.problems.append(
            row.problem(
                "load_pattern",
                f"{pattern} tables are declared in {SCD_FILE}",
                f"move this table to {SCD_FILE} (columns: {', '.join(_SCD_HEADERS)})",
            )
        )
    elif pattern and pattern not in MERGE_PATTERNS:
        draft.problems.append(
            row.problem(
                "load_pattern",
                f"unknown load_pattern {row.get('load_pattern')!r}",
                f"use one of: {', '.join(MERGE_PATTERNS)}; history tables go in {SCD_FILE}",
            )
        )
    keys = name_list(row, "keys", draft)
    sequence_by = name_list(row, "sequence_by", draft)
    partition_by = name_list(row, "partition_by", draft)
    delete_when = row.get("delete_when")
    if pattern == "merge":
        if not keys:
            draft.problems.append(
                row.problem("keys", "merge needs keys", "name the column(s) that identify a row, e.g. id")
            )
        if not sequence_by:
            draft.problems.append(
                row.problem(
                    "sequence_by",
                    "merge needs sequence_by",
                    "name the column that orders changes, e.g. updated_at",
                )
            )
    if delete_when:
        if pattern in MERGE_PATTERNS and pattern != "merge":
            draft.problems.append(
                row.problem(
                    "delete_when",
                    f"delete_when only applies to merge, not {pattern}",
                    "clear delete_when or use load_pattern merge",
                )
            )
        for message, fix in expression_problems(delete_when):
            draft.problems.append(row.problem("delete_when", message, fix))
    draft.silver.append(
        SilverTable(
            table=row.get("table"),
            source_table=row.get("source_table"),
            load_pattern=pattern,
            keys=keys,
            sequence_by=sequence_by,
            delete_when=delete_when,
            partition_by=partition_by,
            description=row.get("description"),
            row=row.number,
        )
    )


# --- scd_mappings.csv --------------------------------------------------------------------------

_SCD_REQUIRED = ("table", "source_table", "scd_type", "keys", "sequence_by")
_SCD_OPTIONAL = (
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
_SCD_HEADERS = _SCD_REQUIRED + _SCD_OPTIONAL
_VALIDITY_DEFAULTS = {
    "effective_from_column": "effective_from",
    "effective_to_column": "effective_to",
    "is_current_column": "is_current",
}


def _parse_scd(row: Row, draft: Draft) -> None:
    scd_type = row.get("scd_type").upper().removeprefix("SCD").strip()
    if row.get("scd_type") and scd_type not in ("1", "2"):
        draft.problems.append(
            row.problem("scd_type", f"unknown scd_type {row.get('scd_type')!r}", "use 1 or 2")
        )
    kind = (row.get("source_kind") or "changes").lower()
    if kind not in SCD_SOURCE_KINDS:
        draft.problems.append(
            row.problem(
                "source_kind",
                f"unknown source_kind {row.get('source_kind')!r}",
                f"use one of: {', '.join(SCD_SOURCE_KINDS)} (empty = changes)",
            )
        )
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
    draft.silver.append(
        SilverTable(
            table=row.get("table"),
            source_table=row.get("source_table"),
            load_pattern=f"scd{scd_type}" if scd_type in ("1", "2") else "",
            keys=keys,
            sequence_by=sequence_by,
            delete_when=delete_when,
            partition_by=name_list(row, "partition_by", draft),
            description=row.get("description"),
            row=row.number,
            scd=ScdSpec(
                scd_type=2 if scd_type == "2" else 1,
                source_kind=kind,
                tracked_columns=tracked,
                untracked_columns=untracked,
                **validity,
            ),
            spec_file=SCD_FILE,
        )
    )


# --- columns.csv --------------------------------------------------------------------------------


def _parse_column(row: Row, draft: Draft) -> None:
    layer = row.get("layer").lower()
    if layer == "gold":
        draft.problems.append(
            row.problem(
                "layer",
                "columns.csv describes bronze and silver tables only",
                "gold columns come from the gold SQL; delete this row",
            )
        )
        return
    if layer not in ("bronze", "silver"):
        if layer:
            draft.problems.append(
                row.problem("layer", f"unknown layer {row.get('layer')!r}", "use bronze or silver")
            )
        return
    data_type = row.get("data_type")
    problem = data_type_problem(data_type) if data_type else None
    if problem:
        draft.problems.append(row.problem("data_type", *problem))
    expression = row.get("expression")
    if expression and layer == "bronze":
        draft.problems.append(
            row.problem(
                "expression",
                "bronze columns are stored as read; expression only applies to silver",
                "clear the expression or move it to the silver column",
            )
        )
    elif expression:
        for message, fix in expression_problems(expression):
            draft.problems.append(row.problem("expression", message, fix))
    nullable = row.get("nullable").lower()
    if nullable not in _TRUE | _FALSE:
        draft.problems.append(
            row.problem(
                "nullable",
                f"nullable must be true or false, not {row.get('nullable')!r}",
                "use true or false",
            )
        )
    draft.columns.append(
        ColumnSpec(
            layer=layer,
            table=row.get("table"),
            name=row.get("column"),
            data_type=data_type,
            expression=expression,
            nullable=nullable not in _FALSE,
            description=row.get("description"),
            row=row.number,
        )
    )


# --- gold_tables.csv ----------------------------------------------------------------------------


def _parse_gold(row: Row, draft: Draft) -> None:
    sql_file = row.get("sql_file").replace("\\", "/")
    sql = ""
    upstream: list[tuple[str, str]] = []
    if sql_file and _check_relative_path(
        row, "sql_file", sql_file, draft, f"a file under {GOLD_SQL_FOLDER}/"
    ):
        sql = _read_gold_sql(row, sql_file, draft)
        display = draft.display(f"{GOLD_SQL_FOLDER}/{sql_file}")
        refs, problems = table_references(sql)
        for line, message, fix in problems:
            draft.problems.append(SpecProblem(display, line, "", message, fix))
        for ref in refs:
            pair = (ref.layer, ref.table)
            if pair not in upstream:
                upstream.append(pair)
    draft.gold.append(
        GoldTable(
            table=row.get("table"),
            sql_file=sql_file,
            sql=sql,
            upstream=tuple(upstream),
            description=row.get("description"),
            row=row.number,
        )
    )


def _read_gold_sql(row: Row, sql_file: str, draft: Draft) -> str:
    path = draft.specs_dir / GOLD_SQL_FOLDER / sql_file
    display = draft.display(f"{GOLD_SQL_FOLDER}/{sql_file}")
    if not sql_file.lower().endswith(".sql"):
        draft.problems.append(row.problem("sql_file", f"{sql_file!r} is not a .sql file", "name a .sql file"))
        return ""
    if not path.is_file():
        draft.problems.append(
            row.problem(
                "sql_file",
                f"{display} not found",
                f"create it, or fix sql_file: it is relative to {draft.display(GOLD_SQL_FOLDER)}/",
            )
        )
        return ""
    data = path.read_bytes()
    try:
        sql = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        draft.problems.append(SpecProblem(display, line, "", "not UTF-8 text", "save the file as UTF-8"))
        return ""
    if not sql.strip():
        draft.problems.append(
            SpecProblem(display, 0, "", "SQL file is empty", "write the SELECT that builds the table")
        )
    return sql


SPEC_FILES: tuple[SpecFile, ...] = (
    SpecFile(
        BRONZE_FILE,
        required=("table", "format", "landing_folder"),
        optional=("reader_options", "description"),
        unique=("table",),
        identifiers=("table",),
        parse=_parse_bronze,
    ),
    SpecFile(
        SILVER_FILE,
        required=("table", "source_table", "load_pattern"),
        optional=("keys", "sequence_by", "delete_when", "partition_by", "description"),
        unique=("table",),
        identifiers=("table", "source_table"),
        parse=_parse_silver,
    ),
    SpecFile(
        SCD_FILE,
        required=_SCD_REQUIRED,
        optional=_SCD_OPTIONAL,
        unique=("table",),
        identifiers=("table", "source_table"),
        parse=_parse_scd,
        may_be_missing=True,
    ),
    SpecFile(
        COLUMNS_FILE,
        required=("layer", "table", "column", "data_type"),
        optional=("expression", "nullable", "description"),
        unique=("layer", "table", "column"),
        identifiers=("table", "column"),
        parse=_parse_column,
    ),
    SpecFile(
        GOLD_FILE,
        required=("table", "sql_file"),
        optional=("description",),
        unique=("table",),
        identifiers=("table",),
        parse=_parse_gold,
    ),
)

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
    SILVER_FILE,
    Draft,
    SpecFile,
)
from medallion.specs.model import (
    LOAD_PATTERNS,
    SOURCE_FORMATS,
    BronzeSource,
    ColumnSpec,
    GoldTable,
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
    if pattern and pattern not in LOAD_PATTERNS:
        draft.problems.append(
            row.problem(
                "load_pattern",
                f"unknown load_pattern {row.get('load_pattern')!r}",
                f"use one of: {', '.join(LOAD_PATTERNS)}",
            )
        )
    keys = _name_list(row, "keys", draft)
    sequence_by = _name_list(row, "sequence_by", draft)
    partition_by = _name_list(row, "partition_by", draft)
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
        if pattern in LOAD_PATTERNS and pattern != "merge":
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


def _name_list(row: Row, column: str, draft: Draft) -> tuple[str, ...]:
    """Column names separated by `,` or `;` in one cell."""
    names: list[str] = []
    for item in re.split(r"[,;]", row.get(column)):
        name = item.strip()
        if not name:
            continue
        if not IDENTIFIER.match(name):
            draft.problems.append(row.problem(column, f"{name!r} is not a valid column name", IDENTIFIER_FIX))
        elif name.lower() in (n.lower() for n in names):
            draft.problems.append(row.problem(column, f"{name!r} is listed twice", "list each column once"))
        else:
            names.append(name)
    return tuple(names)


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

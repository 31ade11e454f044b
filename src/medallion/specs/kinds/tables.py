"""Spec kind "tables": the bronze and silver tables and their columns.

- `bronze_sources.csv`: a landing folder ingested into one bronze table (format, reader options, and
  the schema evolution policy: what a file with fields the spec does not declare does).
- `incremental_load_patterns.csv`: a silver table built from one bronze table with a load pattern
  (`medallion.specs.load_patterns`); history tables are declared in `scd_mappings.csv` (kind "history").
- `columns.csv`: one row per column of a bronze or silver table, with the silver expression.

Rows become `BronzeSpec`, `SilverSpec` and `ColumnSpec`; `tables_checks` compares the three files.
"""

from __future__ import annotations

import codecs
import logging
import re

from medallion.specs.cells import choice, flag, name_list, relative_path
from medallion.specs.csv_rows import Row
from medallion.specs.kinds.tables_checks import check_tables
from medallion.specs.load_patterns import LOAD_PATTERNS, plain_patterns
from medallion.specs.model import BronzeSpec, ColumnSpec, SilverSpec
from medallion.specs.registry import Draft, SpecFile, SpecKind
from medallion.specs.sql_text import data_type_problem, expression_problems

__all__ = ["BRONZE_FILE", "COLUMNS_FILE", "SCHEMA_EVOLUTION", "SILVER_FILE", "SOURCE_FORMATS", "TABLES"]

log = logging.getLogger(__name__)

BRONZE_FILE = "bronze_sources.csv"
SILVER_FILE = "incremental_load_patterns.csv"
COLUMNS_FILE = "columns.csv"
HISTORY_FILE = "scd_mappings.csv"  # where history patterns are declared (kind "history")
SOURCE_FORMATS = ("csv", "json")
# rescue: new fields kept in `_rescued_data`, the row loads; add_columns: new fields become bronze
# columns; fail: the file stops the run, naming the new fields (docs/specs.md, schema evolution).
SCHEMA_EVOLUTION = ("rescue", "add_columns", "fail")

_OPTION_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def _parse_bronze(row: Row, draft: Draft) -> None:
    fmt = choice(row, "format", SOURCE_FORMATS, draft)
    evolution = choice(row, "schema_evolution", SCHEMA_EVOLUTION, draft, default="rescue")
    options = _reader_options(row, draft)
    if fmt == "csv" and evolution != "rescue" and options.get("header", "").lower() != "true":
        draft.problems.append(
            row.problem(
                "schema_evolution",
                f"schema_evolution {evolution} needs the CSV header to name the fields",
                "add header=true to reader_options, or leave schema_evolution empty (rescue)",
            )
        )
    encoding = next((v for k, v in options.items() if k.lower() in ("encoding", "charset")), "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        draft.problems.append(
            row.problem(
                "reader_options", f"unknown encoding {encoding!r}", "name a charset, e.g. encoding=cp1252"
            )
        )
    if fmt == "json" and encoding.lower().replace("-", "").replace("_", "") != "utf8":
        draft.problems.append(
            row.problem(
                "reader_options",
                f"json sources are read as UTF-8 (RFC 8259), not {encoding}",
                "convert the files to UTF-8, or drop the encoding option",
            )
        )
    landing = row.get("landing_folder")
    if landing:
        relative_path(row, "landing_folder", landing, draft, "a folder under the landing root, e.g. sales")
    draft.add(
        "bronze",
        BronzeSpec(
            table=row.get("table"),
            format=fmt,
            landing_folder=landing.replace("\\", "/").strip("/"),
            reader_options=options,
            description=row.get("description"),
            row=row.number,
            schema_evolution=evolution,
        ),
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


def _parse_silver(row: Row, draft: Draft) -> None:
    word = row.get("load_pattern").lower()
    pattern = LOAD_PATTERNS.get(word)
    if pattern is not None and pattern.history:
        draft.problems.append(
            row.problem(
                "load_pattern",
                f"{word} tables are declared in {HISTORY_FILE}",
                f"move this table to {HISTORY_FILE} (see docs/scd.md)",
            )
        )
    elif word and pattern is None:
        draft.problems.append(
            row.problem(
                "load_pattern",
                f"unknown load_pattern {row.get('load_pattern')!r}",
                f"use one of: {', '.join(plain_patterns())}; history tables go in {HISTORY_FILE}",
            )
        )
    keys = name_list(row, "keys", draft)
    sequence_by = name_list(row, "sequence_by", draft)
    partition_by = name_list(row, "partition_by", draft)
    delete_when = row.get("delete_when")
    if pattern is not None and not pattern.history:
        given = {"keys": keys, "sequence_by": sequence_by}
        for header, fix in pattern.needs:
            if not given[header]:
                draft.problems.append(row.problem(header, f"{word} needs {header}", fix))
        if delete_when and not pattern.takes_delete_when:
            takers = [p.word for p in LOAD_PATTERNS.values() if p.takes_delete_when and not p.history]
            draft.problems.append(
                row.problem(
                    "delete_when",
                    f"delete_when only applies to {' or '.join(takers)}, not {word}",
                    f"clear delete_when or use load_pattern {takers[0]}",
                )
            )
    for message, fix in expression_problems(delete_when) if delete_when else ():
        draft.problems.append(row.problem("delete_when", message, fix))
    draft.add(
        "silver",
        SilverSpec(
            table=row.get("table"),
            source_table=row.get("source_table"),
            load_pattern=word,
            keys=keys,
            sequence_by=sequence_by,
            delete_when=delete_when,
            partition_by=partition_by,
            description=row.get("description"),
            row=row.number,
            spec_file=SILVER_FILE,
        ),
    )


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
    draft.add(
        "columns",
        ColumnSpec(
            layer=layer,
            table=row.get("table"),
            name=row.get("column"),
            data_type=data_type,
            expression=expression,
            nullable=flag(row, "nullable", draft, default=True),
            description=row.get("description"),
            row=row.number,
        ),
    )


TABLES = SpecKind(
    name="tables",
    description="bronze sources, silver tables with a load pattern, and the columns of both",
    files=(
        SpecFile(
            BRONZE_FILE,
            required=("table", "format", "landing_folder"),
            optional=("reader_options", "schema_evolution", "description"),
            unique=("table",),
            identifiers=("table",),
            parse=_parse_bronze,
            produces="bronze",
        ),
        SpecFile(
            SILVER_FILE,
            required=("table", "source_table", "load_pattern"),
            optional=("keys", "sequence_by", "delete_when", "partition_by", "description"),
            unique=("table",),
            identifiers=("table", "source_table"),
            parse=_parse_silver,
            produces="silver",
        ),
        SpecFile(
            COLUMNS_FILE,
            required=("layer", "table", "column", "data_type"),
            optional=("expression", "nullable", "description"),
            unique=("layer", "table", "column"),
            identifiers=("table", "column"),
            parse=_parse_column,
            produces="columns",
        ),
    ),
    check=check_tables,
)

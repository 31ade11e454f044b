"""Fail-closed lineage check: a gold column fed by a masked column needs a mask of its own.

A column mask protects one table: a gold table that selects a masked silver column stores the raw
value, readable by anyone who may read gold. So `medallion validate` follows every output column of
every gold SQL file back to the columns that feed its value (sqlglot, Databricks dialect: no Spark,
no JVM). A column used only to filter, join, group, order, partition a window or count carries no
value and is not followed. SQL the analysis cannot follow is reported as well, never passed.
sqlglot is imported only when the specs declare masks, so specs without masks do not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medallion.names import INGESTED_AT, LINEAGE_COLUMNS, RESCUED_DATA, SOURCE_FILE

if TYPE_CHECKING:
    from medallion.specs.registry import Draft
    from medallion.specs.security_model import ColumnMask

__all__ = ["Exposure", "LineageError", "check_gold_lineage", "exposed_columns", "output_columns"]

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")  # as layers/gold.py `render_sql` replaces them
_LINE = re.compile(r"Line: (\d+)")
_TOKEN = re.compile(r"<Token token_type: [^,]+, text: ([^,]*),[^>]*>")  # in sqlglot's parse errors
# Columns the runtime adds to every table of a layer (names.py): gold SQL may read them.
_TECHNICAL = {"bronze": (SOURCE_FILE, INGESTED_AT, RESCUED_DATA), "silver": LINEAGE_COLUMNS}
_FIX = (
    "write one SELECT that reads columns the specs declare, each named with its table (alias.column), "
    "and * only of such tables (fail closed: a masked column must not reach gold unseen)"
)
_PARSE_FIX = (
    "fix the SQL; if Databricks runs it, rewrite the part sqlglot's Databricks dialect does not parse "
    "(fail closed: a masked column must not reach gold unseen)"
)


@dataclass(frozen=True)
class Exposure:
    """A masked `source` (layer.table.column) feeds output `column`, whose expression is on `line`."""

    column: str
    line: int
    source: str


class LineageError(Exception):
    """The SQL cannot be followed; `line` is where (1 when unknown), `fix` what to do about it."""

    def __init__(self, message: str, line: int = 1, fix: str = _FIX):
        super().__init__(message)
        self.line = line or 1
        self.fix = fix


@dataclass(frozen=True)
class _Output:
    name: str
    line: int
    sources: frozenset[tuple[str, str]]  # (layer.table, column) feeding the value


def exposed_columns(
    sql: str, schema: dict[str, dict[str, str]], masked: set[tuple[str, str]]
) -> list[Exposure]:
    """Every (output column, masked source) pair of one gold SQL; raises LineageError if it cannot tell.

    `schema` is `layer.table -> {column: type}` of the tables whose columns are known; `masked` holds
    `(layer.table, column)` pairs, all lower case.
    """
    return [
        Exposure(out.name, out.line, f"{table}.{column}")
        for out in _trace(sql, schema)
        for table, column in sorted(out.sources & masked)
    ]


def output_columns(sql: str, schema: dict[str, dict[str, str]]) -> list[str]:
    """The output column names (lower case) of one query over tables of `schema`; raises LineageError
    when the SQL cannot be read (a dashboard's dataset, a gold table read by one)."""
    return [out.name for out in _trace(sql, schema)]


def check_gold_lineage(
    draft: Draft, columns: dict[str, dict[str, str] | None], masks: Iterable[ColumnMask]
) -> None:
    """Report gold columns that select a masked column without a mask of their own (specs/gold/*.sql).

    Gold tables are analysed in dependency order, so a gold table reading another one sees its
    columns, and a masked gold column is followed like a masked silver column.
    """
    masked = {(m.table, m.column.lower()) for m in masks}
    if not masked or not draft.readable("bronze", "silver", "columns", "gold"):
        return  # nothing to protect, or broken files already fail validate
    # Imported here: both kinds import this module, so a top-level import would be circular.
    from medallion.specs.kinds.gold import GOLD_SQL_FOLDER
    from medallion.specs.kinds.security import MASKS_FILE

    schema = {
        table: {**cols, **dict.fromkeys(_TECHNICAL.get(table.split(".")[0], ()), "string")}
        for table, cols in columns.items()
        if cols is not None
    }
    broken = {problem.file for problem in draft.problems}
    for item in draft.of("gold"):
        file = f"{GOLD_SQL_FOLDER}/{item.sql_file}"
        if not item.sql.strip() or draft.display(file) in broken:
            continue  # already reported: validate fails anyway
        try:
            outputs = _trace(item.sql, schema)
        except LineageError as exc:
            draft.problem(
                file, exc.line, "", f"the lineage of masked columns could not be checked: {exc}", exc.fix
            )
            continue
        table = f"gold.{item.table.lower()}"
        schema[table] = {out.name: "string" for out in outputs}
        for out in outputs:
            if (table, out.name) in masked:
                continue
            for source_table, source_column in sorted(out.sources & masked):
                source = f"{source_table}.{source_column}"
                draft.problem(
                    file,
                    out.line,
                    out.name,
                    f"{table}.{out.name} selects the masked column {source} but has no mask",
                    f"add a row for {table},{out.name} to {draft.display(MASKS_FILE)}, or do not select "
                    f"{source} (fail closed: a masked value stays masked in gold)",
                )


def _trace(sql: str, schema: dict[str, dict[str, str]]) -> list[_Output]:
    """Output columns of the outermost SELECT and the source columns feeding each value."""
    # Imported here: only specs that declare masks pay for importing sqlglot.
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, SqlglotError
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    nested: dict[str, dict[str, dict[str, str]]] = {}
    for name, cols in schema.items():
        layer, _, table = name.partition(".")
        nested.setdefault(layer, {})[table] = dict.fromkeys(cols, "string")  # names matter, not types
    try:
        statements = [s for s in sqlglot.parse(_PLACEHOLDER.sub(r"\1", sql), dialect="databricks") if s]
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            raise LineageError("a gold SQL file must hold exactly one query")
        tree = statements[0]
        stars = {id(s): _line(p) for s in tree.find_all(exp.Select) for p in s.selects if p.is_star}
        qualify(tree, schema=nested, dialect="databricks")
        root = build_scope(tree)
    except LineageError:
        raise
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        reason = _TOKEN.sub(r"'\1'", str(first.get("description", exc)))
        raise LineageError(f"the SQL does not parse: {reason}", first.get("line") or 1, _PARSE_FIX) from exc
    except SqlglotError as exc:
        match = _LINE.search(str(exc))
        raise LineageError(str(exc).split(". Line:")[0], int(match.group(1)) if match else 1) from exc
    except Exception as exc:  # sqlglot failing on SQL it does not handle is no reason to pass it
        raise LineageError(f"sqlglot failed: {type(exc).__name__}: {exc}") from exc
    scopes = {id(s.expression): s for s in root.traverse()}
    active: set[tuple[int, str]] = set()

    def positions(scope: Any) -> list[list[tuple[exp.Expression, Any]]]:
        """Per output position, its expression in each branch (with the branch's scope)."""
        node = scope.expression
        if isinstance(node, exp.SetOperation):
            left, right = (positions(s) for s in scope.set_operation_scopes)
            if len(left) != len(right):
                raise LineageError("the branches of a UNION select different numbers of columns", _line(node))
            return [a + b for a, b in zip(left, right, strict=True)]
        if isinstance(node, exp.Select):
            for p in node.selects:
                if p.is_star:
                    raise LineageError(
                        f"{p.sql('databricks')} reads a table whose columns the specs do not declare",
                        stars.get(id(node), 1),
                    )
            return [[(p, scope)] for p in node.selects]
        raise LineageError(f"cannot follow a {node.key}", _line(node))

    def column_sources(scope: Any, name: str) -> set[tuple[str, str]]:
        """What feeds output column `name` of a CTE, subquery or lateral view."""
        if not isinstance(scope.expression, exp.Query):
            return value_sources(scope.expression, scope)
        scope = scopes.get(id(scope.expression), scope)  # a recursive CTE's own reference is a copy
        key = (id(scope), name)
        if key in active:
            return set()  # a recursive CTE: its recursion adds no new source
        columns = positions(scope)
        names = [pairs[0][0].alias_or_name.lower() for pairs in columns]
        if name not in names:
            raise LineageError(f"cannot find column {name!r} of a subquery", _line(scope.expression))
        active.add(key)
        found = set().union(*(value_sources(p, s) for p, s in columns[names.index(name)]))
        active.discard(key)
        return found

    def column_value(column: exp.Column, scope: Any) -> set[tuple[str, str]]:
        if column.is_star:
            raise LineageError(
                f"cannot follow {column.sql('databricks')} inside an expression", _line(column)
            )
        alias = column.table
        while scope is not None and alias not in scope.sources:
            scope = scope.parent  # a correlated subquery reads its outer query's tables
        if not alias or scope is None:
            raise LineageError(f"cannot tell which table column {column.name!r} comes from", _line(column))
        source = scope.sources[alias]
        if isinstance(source, exp.Table):
            if not isinstance(source.this, exp.Identifier):  # a table function
                return value_sources(source.this, scope)
            return {(f"{source.db}.{source.name}".lower(), column.name.lower())}
        return column_sources(source, column.name.lower())

    def value_sources(node: exp.Expression, scope: Any) -> set[tuple[str, str]]:
        """Source columns whose values reach `node`; count() and window partitions carry none."""
        found: set[tuple[str, str]] = set()
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, exp.Count | exp.ApproxDistinct):
                continue
            if isinstance(item, exp.Window):
                stack.append(item.this)
            elif isinstance(item, exp.Query) and item is not node and id(item) in scopes:
                for pairs in positions(scopes[id(item)]):  # a scalar subquery: its selected values
                    found = found.union(*(value_sources(p, s) for p, s in pairs))
            elif isinstance(item, exp.Column):
                found |= column_value(item, scope)
            elif isinstance(item, exp.Star):
                raise LineageError("cannot follow * inside an expression", _line(item))
            else:
                stack.extend(item.iter_expressions())
        return found

    outputs = []
    for pairs in positions(root):
        name = pairs[0][0].alias_or_name.lower()
        for p, s in pairs:
            line = _line(p) or stars.get(id(s.expression), 1)
            outputs.append(_Output(name, line, frozenset(value_sources(p, s))))
    return outputs


def _line(node: Any) -> int:
    """Line of the first token of `node` that the parser placed (0 if none: made by qualify)."""
    for item in node.walk(bfs=False):
        line = item.meta.get("line")
        if line:
            return line
    return 0

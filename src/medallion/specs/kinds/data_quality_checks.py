"""Cross-file checks of kind "data_quality", and the rules each silver table ends up with.

Each rule must name a silver table and that table's columns; plain `allowed` / `min` / `max` cells
become DQX arguments typed for the column; the check itself (function, arguments, criticality) is
checked as DQX does (against the snapshot in `medallion.specs.dqx_checks`, so no DQX import). Problems point at
the rule's file, row and cell. Then each silver table receives its
rules: the built-in ones first (`medallion.specs.builtin_rules`), then the spec'd ones.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime

from medallion.errors import SpecProblem
from medallion.names import LINEAGE_COLUMNS, SOURCE_ROW
from medallion.specs.builtin_rules import BUILTIN_FILE, builtin_rules
from medallion.specs.cells import did_you_mean
from medallion.specs.dqx_checks import check_errors, check_function, function_names
from medallion.specs.model import QualityRule, SilverSpec
from medallion.specs.registry import Draft

__all__ = ["check_quality"]

log = logging.getLogger(__name__)

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ALWAYS_KNOWN = frozenset({*LINEAGE_COLUMNS, SOURCE_ROW})
_NUMERIC = re.compile(
    r"^(tinyint|byte|smallint|short|int|integer|bigint|long|float|real|double|decimal|dec|numeric)\b"
)
_SQL_WORDS = frozenset({"true", "false", "null"})
# DQX arguments whose strings DQX reads as SQL (a column or an expression), not as text.
_SQL_ARGUMENTS = ("allowed", "forbidden", "min_limit", "max_limit", "limit", "value")


def check_quality(draft: Draft) -> None:
    """Check every rule and alert; the silver items get their rules, alerts stay as parsed."""
    bronze = {b.table.lower(): b for b in draft.of("bronze")}
    draft.items["silver"] = _attach_rules(draft, draft.of("silver"), bronze)
    _check_alerts(draft, {t.table.lower(): t for t in draft.of("silver")})


def _attach_rules(draft: Draft, silver: list[SilverSpec], bronze: dict) -> list[SilverSpec]:
    """The silver tables with their built-in and spec'd rules (a rule whose name is taken is left out)."""
    tables = {t.table.lower(): t for t in silver}
    spec_rules: dict[str, list[QualityRule]] = defaultdict(list)
    builtins = {t.table.lower(): builtin_rules(t, bronze.get(t.source_table.lower())) for t in silver}
    for rule in draft.of("rules"):
        table = tables.get(rule.table.lower())
        if table is None:
            if draft.readable("rules"):
                _problem(draft, rule, "table", f"no silver table named {rule.table!r}", _known(tables))
            continue
        checked = _check_rule(draft, rule, table, tables)
        taken = {
            r.name.lower(): r for r in (*builtins[table.table.lower()], *spec_rules[table.table.lower()])
        }
        if checked.name and checked.name.lower() in taken:
            other = taken[checked.name.lower()]
            where = "a built-in rule" if other.file == BUILTIN_FILE else f"{other.file}:{other.row}"
            _problem(
                draft, rule, "rule", f"rule name {rule.name!r} is already used by {where}", "rename the rule"
            )
            continue
        spec_rules[table.table.lower()].append(checked)
    return [replace(t, rules=(*builtins[t.table.lower()], *spec_rules[t.table.lower()])) for t in silver]


def _check_rule(
    draft: Draft, rule: QualityRule, table: SilverSpec, tables: dict[str, SilverSpec]
) -> QualityRule:
    if not rule.name:
        _problem(
            draft,
            rule,
            "name",
            "the check has no name",
            "give every check a name (metrics are kept per name)",
        )
    check = dict(rule.check)
    body = dict(check.get("check") or {})
    arguments = dict(body.get("arguments") or {})
    function = check_function(str(body.get("function", "")))
    if function is not None:
        # A CSV row's column cell feeds `columns` for checks that take a list (is_unique, foreign_key).
        parameters = function.params
        if "column" in arguments and "column" not in parameters and "columns" in parameters:
            value = arguments.pop("column")
            arguments["columns"] = value if isinstance(value, list) else [value]
        _add_plain_values(draft, rule, table, arguments, parameters)
    body["arguments"] = arguments
    check["check"] = body
    _check_columns(draft, rule, table, arguments, body.get("for_each_column") or [])
    _explain_sql_strings(draft, rule, table, arguments)
    _check_reference(draft, rule, arguments, tables)
    for message in check_errors(check):
        if "is not defined" in message:
            fix = did_you_mean(str(body.get("function", "")), function_names(), "DQX check functions")
        else:
            fix = "see the DQX check reference for the function"
        _problem(draft, rule, _cell_of(message), _short(message), fix)
    return replace(rule, check=check)


def _add_plain_values(
    draft: Draft, rule: QualityRule, table: SilverSpec, arguments: dict, parameters: dict
) -> None:
    """`allowed` / `min` / `max` cells -> the function's arguments, typed or quoted for the column.

    DQX reads a string argument as SQL (`vip` is a column), so a spreadsheet value becomes a SQL
    string literal (`'vip'`) on a text column, a number on a numeric column and an ISO date or
    timestamp (which DQX reads as one) on a date column.
    """
    function = rule.function
    column = arguments.get("column") if isinstance(arguments.get("column"), str) else ""
    data_type = next((c.data_type.lower() for c in table.columns if c.name.lower() == column.lower()), "")
    numeric = function.startswith("is_aggr_") or bool(_NUMERIC.match(data_type))
    for header, text in rule.plain_values.items():
        target = _plain_target(header, function, parameters)
        if target is None:
            _problem(
                draft, rule, header, f"{function} takes no {header} value", _plain_fix(function, parameters)
            )
            continue
        if target in arguments:
            _problem(
                draft, rule, header, f"{target} is given twice", f"remove it from arguments or clear {header}"
            )
            continue
        items = [v.strip() for v in text.split(";") if v.strip()] if header == "allowed" else [text]
        values, bad = [], False
        for item in items:
            value, problem = _typed_value(item, data_type, numeric)
            if problem:
                bad = True
                each = ", one per value separated by ;" if header == "allowed" else ""
                _problem(draft, rule, header, f"{item!r} is not {problem}", f"write {problem}{each}")
            values.append(value)
        if not bad:
            arguments[target] = values if header == "allowed" else values[0]


def _plain_target(header: str, function: str, parameters: dict) -> str | None:
    """Which argument of `function` a plain cell fills, or None when it takes none."""
    if header == "allowed":
        return "allowed" if "allowed" in parameters else None
    bound, direction = ("min_limit", "less_than") if header == "min" else ("max_limit", "greater_than")
    if bound in parameters:
        return bound
    if "limit" in parameters and direction in function:
        return "limit"
    return None


def _plain_fix(function: str, parameters: dict) -> str:
    fills = [h for h in ("allowed", "min", "max") if _plain_target(h, function, parameters)]
    if fills:
        return f"{function} takes {' and '.join(fills)}; move the value there"
    return "put the value in arguments (JSON) under the name the DQX function expects"


def _typed_value(text: str, data_type: str, numeric: bool) -> tuple[object, str]:
    """A plain value as DQX should get it, and what it should have been ("" when it is fine)."""
    if numeric:
        try:
            number = float(text)
        except ValueError:
            return text, "a number"
        return (int(number) if number.is_integer() and "." not in text else number), ""
    if data_type.startswith("date"):
        try:
            date.fromisoformat(text)
        except ValueError:
            return text, "a date (YYYY-MM-DD)"
        return text, ""
    if data_type.startswith("timestamp"):
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return text, "a timestamp (YYYY-MM-DD HH:MM:SS)"
        return text if ":" in text else f"{text} 00:00:00", ""
    if data_type == "boolean":
        if text.lower() not in ("true", "false"):
            return text, "true or false"
        return text.lower(), ""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'", ""


def _explain_sql_strings(draft: Draft, rule: QualityRule, table: SilverSpec, arguments: dict) -> None:
    """A bare word in a DQX argument is SQL: a column. When the table has no such column the author
    almost certainly meant text, so say how DQX reads it and how to write the literal."""
    if not rule.file.endswith(".csv"):
        return  # DQX YAML files use DQX's own format as documented there
    known = {c.name.lower() for c in table.columns} | _ALWAYS_KNOWN
    for key in _SQL_ARGUMENTS:
        value = arguments.get(key)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or not _PLAIN.match(item) or item.lower() in known | _SQL_WORDS:
                continue
            cell = "allowed" if key in ("allowed", "forbidden") else "min or max"
            _problem(
                draft,
                rule,
                "arguments",
                f"{item!r} in arguments.{key} is read by DQX as SQL, i.e. a column, and {table.table} has "
                "no such column",
                f"for the text {item}, write it in the {cell} cell as a plain value, or quote it in the JSON: "
                f"\"'{item}'\"",
            )


def _check_columns(draft: Draft, rule: QualityRule, table: SilverSpec, arguments: dict, each: list) -> None:
    known = {c.name.lower() for c in table.columns} | _ALWAYS_KNOWN
    named: list[str] = []
    for key in ("column", "columns"):
        value = arguments.get(key)
        named += value if isinstance(value, list) else [value] if value else []
    named += list(each)
    for name in named:
        if isinstance(name, str) and _PLAIN.match(name) and name.lower() not in known:
            columns = [c.name for c in table.columns]
            _problem(
                draft,
                rule,
                "column",
                f"{table.table} has no column {name!r}",
                did_you_mean(name, columns, "known"),
            )


def _check_reference(draft: Draft, rule: QualityRule, arguments: dict, tables: dict[str, SilverSpec]) -> None:
    ref = arguments.get("ref_table")
    if not isinstance(ref, str) or not _PLAIN.match(ref):
        return  # a qualified name (catalog.schema.table) is taken as written
    target = tables.get(ref.lower())
    if target is None:
        _problem(draft, rule, "arguments", f"ref_table {ref!r} is not a silver table", _known(tables))
        return
    known = {c.name.lower() for c in target.columns}
    for name in arguments.get("ref_columns") or []:
        if isinstance(name, str) and _PLAIN.match(name) and name.lower() not in known:
            _problem(
                draft,
                rule,
                "arguments",
                f"{ref} has no column {name!r}",
                did_you_mean(name, [c.name for c in target.columns], "known"),
            )


def _check_alerts(draft: Draft, tables: dict[str, SilverSpec]) -> None:
    if not draft.readable("alerts"):
        return
    for alert in draft.of("alerts"):
        if alert.table != "*" and alert.table.lower() not in tables:
            draft.problems.append(
                SpecProblem(
                    alert.file, alert.row, "table", f"no silver table named {alert.table!r}", _known(tables)
                )
            )
            continue
        if alert.rule == "*":
            continue
        scope = [tables[alert.table.lower()]] if alert.table != "*" else list(tables.values())
        names = {r.name.lower() for t in scope for r in t.rules}
        if alert.rule.lower() not in names:
            known = sorted({r.name for t in scope for r in t.rules})
            draft.problems.append(
                SpecProblem(
                    alert.file,
                    alert.row,
                    "rule",
                    f"no rule named {alert.rule!r} on {alert.table}",
                    did_you_mean(alert.rule, known, "known"),
                )
            )


def _problem(draft: Draft, rule: QualityRule, column: str, message: str, fix: str = "") -> None:
    draft.problems.append(
        SpecProblem(rule.file, rule.row, column if rule.file.endswith(".csv") else "", message, fix)
    )


def _cell_of(message: str) -> str:
    text = _short(message).lower()
    for word, cell in (("argument", "arguments"), ("criticality", "criticality"), ("filter", "filter")):
        if word in text:
            return cell
    return "check"


def _short(message: str) -> str:
    """DQX appends the whole check as a dict; the row already says which check."""
    text = re.sub(r"\s*Check details:\s*\{.*\}", "", message)
    return re.sub(r":\s*\{.*\}\.?", ".", text).strip()


def _known(tables: dict[str, SilverSpec]) -> str:
    return "silver tables: " + (", ".join(t.table for t in tables.values()) or "none")

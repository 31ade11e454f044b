"""Cross-file checks of the data-quality specs, and the rules every silver table gets for free.

Each rule must name a silver table and that table's columns; DQX validates the check itself
(function, arguments, criticality). Problems point at the rule's file, row and cell. Then each
table receives its rules: the built-in ones first (keys and sequence not NULL, non-nullable
columns not NULL, each typed column converts from its bronze text, no malformed record), then
the spec'd ones.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections import defaultdict
from dataclasses import replace

from medallion.errors import SpecProblem
from medallion.specs.draft import ALERTS_FILE, RULES_FILE, Draft
from medallion.specs.model import SOURCE_ROW, BronzeSource, QualityAlert, QualityRule, SilverTable

__all__ = ["attach_rules", "builtin_rules"]

log = logging.getLogger(__name__)

RESCUED = "_rescued_data"
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ALWAYS_KNOWN = frozenset({"_source_file", "_ingested_at", SOURCE_ROW})


def builtin_rules(table: SilverTable, source: BronzeSource | None) -> tuple[QualityRule, ...]:
    """Rules the framework adds to every silver table, named after what failed."""
    rules: list[QualityRule] = []
    required = [*table.keys, *table.sequence_by]
    required += [c.name for c in table.columns if not c.nullable and c.name not in required]
    for column in required:
        rules.append(_builtin(table, f"{column}_is_null", "is_not_null", {"column": column}))
    bronze = {c.name.lower() for c in source.columns} if source else set()
    for column in table.columns:
        if column.expression or column.data_type.lower() == "string" or column.name.lower() not in bronze:
            continue
        kind = re.split(r"[(<]", column.data_type.lower(), maxsplit=1)[0].strip()
        raw = f"`{SOURCE_ROW}`.`{column.name}`"
        expression = f"{raw} IS NULL OR trim(CAST({raw} AS STRING)) = '' OR `{column.name}` IS NOT NULL"
        arguments = {
            "expression": expression,
            "msg": f"{column.name} is not a valid {column.data_type} in the source row",
            "columns": [column.name],
        }
        rules.append(_builtin(table, f"{column.name}_not_{kind}", "sql_expression", arguments))
    if source is None:
        return tuple(rules)
    arguments = {
        "expression": f"`{SOURCE_ROW}`.`{RESCUED}` IS NULL",
        "msg": "the source record is malformed or has unexpected fields (see _source_row._rescued_data)",
    }
    rules.append(_builtin(table, "malformed_record", "sql_expression", arguments))
    return tuple(rules)


def _builtin(table: SilverTable, name: str, function: str, arguments: dict) -> QualityRule:
    check = {
        "name": name,
        "criticality": "error",
        "check": {"function": function, "arguments": arguments},
        "user_metadata": {"builtin": "true"},
    }
    return QualityRule(table=table.table, name=name, check=check, file="(built in)")


def attach_rules(
    draft: Draft, silver: list[SilverTable], bronze: dict[str, BronzeSource]
) -> tuple[list[SilverTable], tuple[QualityAlert, ...]]:
    """Check every rule and alert; return the silver tables with their rules, and the alerts."""
    tables = {t.table.lower(): t for t in silver}
    spec_rules: dict[str, list[QualityRule]] = defaultdict(list)
    builtins = {t.table.lower(): builtin_rules(t, bronze.get(t.source_table.lower())) for t in silver}
    for rule in draft.rules:
        table = tables.get(rule.table.lower())
        if table is None:
            if draft.readable(RULES_FILE):
                _problem(draft, rule, "table", f"no silver table named {rule.table!r}", _known(tables))
            continue
        checked = _check_rule(draft, rule, table, tables)
        taken = {
            r.name.lower(): r for r in (*builtins[table.table.lower()], *spec_rules[table.table.lower()])
        }
        if checked.name and checked.name.lower() in taken:
            other = taken[checked.name.lower()]
            where = "a built-in rule" if other.file == "(built in)" else f"{other.file}:{other.row}"
            _problem(
                draft, rule, "rule", f"rule name {rule.name!r} is already used by {where}", "rename the rule"
            )
            continue
        spec_rules[table.table.lower()].append(checked)
    out = [replace(t, rules=(*builtins[t.table.lower()], *spec_rules[t.table.lower()])) for t in silver]
    _check_alerts(draft, {t.table.lower(): t for t in out})
    return out, tuple(draft.alerts)


def _check_rule(
    draft: Draft, rule: QualityRule, table: SilverTable, tables: dict[str, SilverTable]
) -> QualityRule:
    from databricks.labs.dqx.checks_resolver import resolve_check_function
    from databricks.labs.dqx.engine import DQEngineCore

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
    function = resolve_check_function(str(body.get("function", "")), fail_on_missing=False)
    if function is not None:
        # A CSV row's column cell feeds `columns` for checks that take a list (is_unique, foreign_key).
        parameters = inspect.signature(function).parameters
        if "column" in arguments and "column" not in parameters and "columns" in parameters:
            value = arguments.pop("column")
            arguments["columns"] = value if isinstance(value, list) else [value]
    body["arguments"] = arguments
    check["check"] = body
    _check_columns(draft, rule, table, arguments, body.get("for_each_column") or [])
    _check_reference(draft, rule, arguments, tables)
    status = DQEngineCore.validate_checks([check], semantic_validation_mode=None)
    for message in status.errors:
        _problem(
            draft, rule, _cell_of(message), _short(message), "see the DQX check reference for the function"
        )
    return replace(rule, check=check)


def _check_columns(draft: Draft, rule: QualityRule, table: SilverTable, arguments: dict, each: list) -> None:
    known = {c.name.lower() for c in table.columns} | _ALWAYS_KNOWN
    named: list[str] = []
    for key in ("column", "columns"):
        value = arguments.get(key)
        named += value if isinstance(value, list) else [value] if value else []
    named += list(each)
    for name in named:
        if isinstance(name, str) and _PLAIN.match(name) and name.lower() not in known:
            columns = [c.name for c in table.columns]
            _problem(draft, rule, "column", f"{table.table} has no column {name!r}", _choices(name, columns))


def _check_reference(
    draft: Draft, rule: QualityRule, arguments: dict, tables: dict[str, SilverTable]
) -> None:
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
                _choices(name, [c.name for c in target.columns]),
            )


def _check_alerts(draft: Draft, tables: dict[str, SilverTable]) -> None:
    if not draft.readable(ALERTS_FILE):
        return
    for alert in draft.alerts:
        if alert.table != "*" and alert.table.lower() not in tables:
            draft.problems.append(
                SpecProblem(
                    draft.display(ALERTS_FILE),
                    alert.row,
                    "table",
                    f"no silver table named {alert.table!r}",
                    _known(tables),
                )
            )
            continue
        if alert.rule == "*":
            continue
        scope = [tables[alert.table.lower()]] if alert.table != "*" else list(tables.values())
        names = {r.name.lower() for t in scope for r in t.rules}
        if alert.rule.lower() not in names:
            draft.problems.append(
                SpecProblem(
                    draft.display(ALERTS_FILE),
                    alert.row,
                    "rule",
                    f"no rule named {alert.rule!r} on {alert.table}",
                    _choices(alert.rule, sorted({r.name for t in scope for r in t.rules})),
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


def _known(tables: dict[str, SilverTable]) -> str:
    return "silver tables: " + (", ".join(t.table for t in tables.values()) or "none")


def _choices(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1)
    return f"did you mean {close[0]}?" if close else f"known: {', '.join(known) or 'none'}"

"""Reconcile Unity Catalog with the security specs: desired state, actual state, and the statements
between them.

`desired_state` turns the specs into facts (functions, masks, filters, tags, grants) for one target;
`plan` compares them with the actual facts (read from `information_schema` on Databricks) and returns
only the statements needed, in a safe order: functions first, then what uses them; removals last.
Reconcile manages only what the specs own: functions named with `FUNCTION_PREFIX`, tag keys the specs
use, and grants the specs declare now or declared at the last reconcile (`previous`); a grant given by
hand to anyone else stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medallion.security.statements import (
    FUNCTION_PREFIX,
    SecurableNames,
    filter_function,
    mask_function,
    quote_name,
    sql_string,
)
from medallion.specs.security_model import SecuritySpec

__all__ = ["SecurityState", "desired_state", "plan"]


@dataclass
class SecurityState:
    """Security facts of one target. Table and function names are fully quoted (`c`.`s`.`t`)."""

    functions: dict[str, str] = field(default_factory=dict)  # name -> comment (carries a fingerprint)
    masks: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    filters: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # table -> (fn, columns)
    tags: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (table, column|"") -> tags
    grants: set[tuple[str, str, str, str]] = field(default_factory=set)  # (type, name, principal, privilege)
    create_sql: dict[str, str] = field(default_factory=dict)  # desired only: function -> statement


def desired_state(
    spec: SecuritySpec, names: SecurableNames, column_types: dict[str, dict[str, str]] | None = None
) -> SecurityState:
    """The facts the specs ask for. `column_types` (`layer.table` -> column -> type) fills in the
    types the specs do not declare (gold tables), read from the tables on Databricks."""
    types = column_types or {}
    state = SecurityState()
    for mask in spec.masks:
        actual_type = types.get(mask.table, {}).get(mask.column.lower(), "")
        function = mask_function(mask, names, actual_type)
        state.functions[function.name] = function.comment
        state.create_sql[function.name] = function.sql
        state.masks[(names.table(mask.table), mask.column.lower())] = (function.name, mask.using_columns)
    for table in dict.fromkeys(f.table for f in spec.filters):
        declared = {m.column.lower(): m.data_type for m in spec.masks_of(table)}
        table_types = {**declared, **types.get(table, {})}
        function, columns = filter_function(table, spec.filters_of(table), names, table_types)
        state.functions[function.name] = function.comment
        state.create_sql[function.name] = function.sql
        state.filters[names.table(table)] = (function.name, columns)
    for tag in spec.tags:
        state.tags.setdefault((names.table(tag.table), tag.column.lower()), {})[tag.key] = tag.value
    for grant in spec.grants:
        securable = _securable(grant.securable_type, grant.name, names)
        for privilege in grant.privileges:
            state.grants.add((grant.securable_type, securable, grant.principal, privilege))
    return state


def _securable(kind: str, name: str, names: SecurableNames) -> str:
    if kind == "catalog":
        return quote_name(names.catalog)
    if kind == "schema":
        return quote_name(names.catalog, names.schemas[name])
    layer, short = name.split(".", 1)
    return quote_name(names.catalog, names.schemas[layer], short)


def plan(desired: SecurityState, actual: SecurityState, previous: SecurityState | None = None) -> list[str]:
    """The statements that make `actual` match `desired` for what the specs own, in order."""
    previous = previous or SecurityState()
    statements: list[str] = []
    for function, comment in desired.functions.items():
        if actual.functions.get(function) != comment:
            statements.append(desired.create_sql[function])
    statements += _masks(desired, actual)
    statements += _filters(desired, actual)
    statements += _tags(desired, actual, previous)
    statements += _grants(desired, actual, previous)
    for function in sorted(actual.functions):
        short = function.rsplit(".", 1)[-1].strip("`")
        if short.startswith(FUNCTION_PREFIX) and function not in desired.functions:
            statements.append(f"DROP FUNCTION IF EXISTS {function}")
    return statements


def _masks(desired: SecurityState, actual: SecurityState) -> list[str]:
    statements = []
    for (table, column), (function, using) in desired.masks.items():
        if actual.masks.get((table, column)) != (function, using):
            extra = f" USING COLUMNS ({', '.join(quote_name(c) for c in using)})" if using else ""
            statements.append(
                f"ALTER TABLE {table} ALTER COLUMN {quote_name(column)} SET MASK {function}{extra}"
            )
    for (table, column), (function, _) in sorted(actual.masks.items()):
        if (table, column) not in desired.masks and _owned(function):
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {quote_name(column)} DROP MASK")
    return statements


def _filters(desired: SecurityState, actual: SecurityState) -> list[str]:
    statements = []
    for table, (function, columns) in desired.filters.items():
        if actual.filters.get(table) != (function, columns):
            on = ", ".join(quote_name(c) for c in columns)
            statements.append(f"ALTER TABLE {table} SET ROW FILTER {function} ON ({on})")
    for table, (function, _) in sorted(actual.filters.items()):
        if table not in desired.filters and _owned(function):
            statements.append(f"ALTER TABLE {table} DROP ROW FILTER")
    return statements


def _tags(desired: SecurityState, actual: SecurityState, previous: SecurityState) -> list[str]:
    """Set missing or different tags; unset tags whose key the specs own (now or at the last reconcile)."""
    owned_keys = {k for tags in (*desired.tags.values(), *previous.tags.values()) for k in tags}
    statements = []
    for target in sorted(set(desired.tags) | set(actual.tags)):
        want, have = desired.tags.get(target, {}), actual.tags.get(target, {})
        table, column = target
        where = f"ALTER TABLE {table}" + (f" ALTER COLUMN {quote_name(column)}" if column else "")
        changed = {k: v for k, v in want.items() if have.get(k) != v}
        if changed:
            pairs = ", ".join(f"{sql_string(k)} = {sql_string(v)}" for k, v in changed.items())
            statements.append(f"{where} SET TAGS ({pairs})")
        stale = [k for k in have if k not in want and k in owned_keys]
        if stale:
            statements.append(f"{where} UNSET TAGS ({', '.join(sql_string(k) for k in stale)})")
    return statements


def _grants(desired: SecurityState, actual: SecurityState, previous: SecurityState) -> list[str]:
    statements = []
    for kind, securable, principal, privilege in sorted(desired.grants - actual.grants):
        statements.append(f"GRANT {privilege} ON {kind.upper()} {securable} TO {quote_name(principal)}")
    for kind, securable, principal, privilege in sorted((actual.grants & previous.grants) - desired.grants):
        statements.append(f"REVOKE {privilege} ON {kind.upper()} {securable} FROM {quote_name(principal)}")
    return statements


def _owned(function: str) -> bool:
    return function.rsplit(".", 1)[-1].strip("`").startswith(FUNCTION_PREFIX)

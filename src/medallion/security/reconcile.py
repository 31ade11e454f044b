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

from dataclasses import dataclass, field, replace

from medallion.errors import SpecError, SpecProblem
from medallion.names import CHANGES_SUFFIX, QUARANTINE_SUFFIX, WARNINGS_SUFFIX
from medallion.security.statements import (
    FUNCTION_PREFIX,
    RAW_ROW_COLUMN,
    FunctionSql,
    SecurableNames,
    applicable_filters,
    filter_columns,
    filter_function,
    mask_function,
    policy_function,
    policy_statement,
    quote_name,
    raw_row_mask,
    sql_string,
)
from medallion.specs.security_model import MASK_KINDS, ColumnMask, SecuritySpec, mask_type_problem

__all__ = ["SIDE_SUFFIXES", "SecurityState", "desired_state", "plan", "table_plan"]

# The side tables of a table, protected as the table is (its quarantine holds the raw bronze row).
SIDE_SUFFIXES = (QUARANTINE_SUFFIX, WARNINGS_SUFFIX, CHANGES_SUFFIX)


@dataclass
class SecurityState:
    """Security facts of one target. Table and function names are fully quoted (`c`.`s`.`t`)."""

    functions: dict[str, str] = field(default_factory=dict)  # name -> comment (carries a fingerprint)
    masks: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    filters: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # table -> (fn, columns)
    tags: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (table, column|"") -> tags
    grants: set[tuple[str, str, str, str]] = field(default_factory=set)  # (type, name, principal, privilege)
    policies: dict[tuple[str, str], str] = field(default_factory=dict)  # (ON securable, name) -> fingerprint
    create_sql: dict = field(default_factory=dict)  # desired only: function or policy key -> statement
    policy_tables: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # desired: tables it masks


def desired_state(
    spec: SecuritySpec, names: SecurableNames, column_types: dict[str, dict[str, str]] | None = None
) -> SecurityState:
    """The facts the specs ask for. `column_types` (`layer.table` -> column -> type, side tables
    included) gives the types the specs do not declare (gold tables) and which side tables exist:
    read from `information_schema` on Databricks, from the tables themselves locally."""
    types = {
        table.lower(): {c.lower(): t.lower() for c, t in cols.items()}
        for table, cols in (column_types or {}).items()
    }
    state = SecurityState()
    if names.use_policies:
        for policy in spec.policies:
            function = policy_function(policy, names)
            _add_function(state, function)
            key = policy_statement(policy, names, function.name)
            state.policies[key[:2]] = key[2]
            state.create_sql[key[:2]] = key[3]
            state.policy_tables[key[:2]] = set()
    parents = dict.fromkeys([*spec.protected_tables, *(t.table for t in spec.tags)])
    for parent in parents:
        main = _main_types(spec, parent, types.get(parent.lower()))
        _protect(state, spec, names, parent, parent, main, main)
        for suffix in SIDE_SUFFIXES:
            side = types.get(f"{parent}{suffix}".lower())
            if side is not None:
                _protect(state, spec, names, parent, f"{parent}{suffix}", side, main)
    for grant in spec.grants:
        securable = _securable(grant.securable_type, grant.name, names)
        for privilege in grant.privileges:
            state.grants.add((grant.securable_type, securable, grant.principal, privilege))
    return state


def _main_types(spec: SecuritySpec, table: str, stored: dict[str, str] | None) -> dict[str, str]:
    """The protected table's column types: as stored when known, else as the specs declare them."""
    declared = {m.column.lower(): m.data_type.lower() for m in spec.masks_of(table) if m.data_type}
    return {**declared, **(stored or {})}


def _protect(
    state: SecurityState,
    spec: SecuritySpec,
    names: SecurableNames,
    parent: str,
    table: str,
    types: dict[str, str],
    main: dict[str, str],
) -> None:
    """Add the masks, filter and tags of `parent` to `table` (itself or one of its side tables).

    A side table's column of another type than the parent's gets its own function (a `_<type>`
    variant); a mask that cannot give that type becomes `null` there (fail closed).
    """
    is_side = table != parent
    quoted = names.table(table)
    masks = list(spec.masks_of(parent))
    raw_row = raw_row_mask(spec, parent)
    if is_side and raw_row is not None and RAW_ROW_COLUMN in types:
        masks.append(raw_row)
    for mask in masks:
        column = mask.column.lower()
        if is_side and column not in types:
            continue
        if mask.policy and names.use_policies:
            policy = next(p for p in spec.policies if p.name == mask.policy)
            state.policy_tables[policy_statement(policy, names, "")[:2]].add(quoted)  # masked through its tag
            continue
        data_type = types.get(column) or mask.data_type
        if not is_side and not mask.data_type and data_type:
            _check_undeclared_type(mask, parent, data_type)
        variant = ""
        if is_side and data_type != (main.get(column) or mask.data_type) and mask is not raw_row:
            variant = data_type
            fits = MASK_KINDS.get(mask.kind, ())
            if fits and data_type.split("(")[0] not in fits:
                mask = replace(mask, kind="null", data_type=data_type)
        function = mask_function(mask, names, data_type, variant)
        _add_function(state, function)
        state.masks[(quoted, column)] = (function.name, mask.using_columns)
    filters = spec.filters_of(parent)
    if filters:
        usable = applicable_filters(filters, set(types) if is_side else None)
        columns = filter_columns(usable)
        signature = [types.get(c.lower()) or "string" for c in columns]
        variant = ""
        if is_side and (usable != filters or signature != [main.get(c.lower()) or "string" for c in columns]):
            variant = "all_rows_only" if usable != filters else "_".join(signature)
        function, columns = filter_function(parent, usable, names, {**main, **types}, variant)
        _add_function(state, function)
        state.filters[quoted] = (function.name, columns)
    for tag in spec.tags:
        if tag.table == parent and (not tag.column or not is_side or tag.column.lower() in types):
            state.tags.setdefault((quoted, tag.column.lower()), {})[tag.key] = tag.value


def _check_undeclared_type(mask: ColumnMask, table: str, data_type: str) -> None:
    """A column the specs do not type (gold) is checked once its type is known: the mask must fit it."""
    problem = mask_type_problem(mask.kind, data_type, f"{table}.{mask.column}")
    if problem:
        file = "policies.csv" if mask.policy else "column_masks.csv"
        raise SpecError([SpecProblem(f"specs/security/{file}", mask.row, "mask", *problem)])


def _add_function(state: SecurityState, function: FunctionSql) -> None:
    state.functions[function.name] = function.comment
    state.create_sql[function.name] = function.sql


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
    for on, name in sorted(set(actual.policies) - set(desired.policies)):  # before masks take their columns
        if _owned(name):
            statements.append(f"DROP POLICY {name} ON {on}")
    statements += _masks(desired, actual)
    statements += _filters(desired, actual)
    for key, fingerprint in desired.policies.items():  # after the column masks they replace are dropped
        if key not in actual.policies or previous.policies.get(key) != fingerprint:
            statements.append(desired.create_sql[key])
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


def table_plan(desired: SecurityState, table: str) -> list[str]:
    """The statements that protect one new, empty table (`table` fully quoted): the functions its
    masks and filter use, then its masks, filter and tags. Grants are left to the security task."""
    own = SecurityState(
        masks={k: v for k, v in desired.masks.items() if k[0] == table},
        filters={k: v for k, v in desired.filters.items() if k == table},
        tags={k: v for k, v in desired.tags.items() if k[0] == table},
        policies={k: v for k, v in desired.policies.items() if table in desired.policy_tables.get(k, ())},
    )
    used = {f for f, _ in own.masks.values()} | {f for f, _ in own.filters.values()}
    used |= {_policy_function(desired.create_sql[k]) for k in own.policies}
    own.functions = {f: c for f, c in desired.functions.items() if f in used}
    own.create_sql = {k: desired.create_sql[k] for k in [*own.functions, *own.policies]}
    return plan(own, SecurityState())


def _policy_function(statement: str) -> str:
    return next(line for line in statement.splitlines() if line.startswith("COLUMN MASK ")).split(" ", 2)[2]

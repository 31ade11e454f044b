"""Unity Catalog SQL for the security specs: the mask and row-filter functions, and the statements that
attach them, tag objects and grant privileges.

Pure text, no Spark: the same function bodies are created on Databricks and evaluated locally for a
persona (`persona_sql`), so what a persona sees locally is what the workspace would show. Functions
live in the protected table's schema and are named `medallion_mask_<table>_<column>` and
`medallion_filter_<table>`; the prefix marks what reconcile owns.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from medallion.names import SOURCE_ROW
from medallion.specs.security_model import ColumnMask, MaskPolicy, RowFilter, SecuritySpec
from medallion.specs.sql_text import LAYER_PLACEHOLDERS, outer_column_references

__all__ = [
    "FUNCTION_PREFIX",
    "RAW_ROW_COLUMN",
    "FunctionSql",
    "MemberCheck",
    "SecurableNames",
    "applicable_filters",
    "filter_columns",
    "filter_expression",
    "filter_function",
    "mask_expression",
    "mask_function",
    "policy_function",
    "policy_statement",
    "quote_name",
    "raw_row_mask",
    "render_placeholders",
    "sql_string",
]

FUNCTION_PREFIX = "medallion_"
MEMBER_FUNCTION = "is_account_group_member"
REDACTED = "***"
RAW_ROW_COLUMN = SOURCE_ROW  # a quarantined row as read from bronze: raw values of every column


def quote_name(*parts: str) -> str:
    """`a`.`b`.`c` with backticks doubled inside names."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class SecurableNames:
    """Where a target's objects live (the catalog, each layer's schema, the functions' schema) and
    whether its tag-based masks are ABAC policies (`security_mode=policies`) or column masks."""

    catalog: str
    schemas: dict[str, str]  # layer -> schema
    function_schema: str = ""  # where mask and filter functions live ("" = the protected table's schema)
    use_policies: bool = False

    def table(self, table: str) -> str:
        """`layer.table` -> `catalog`.`schema`.`table`."""
        layer, name = table.split(".", 1)
        return quote_name(self.catalog, self.schemas[layer], name)

    def function(self, table: str, name: str) -> str:
        layer = table.split(".", 1)[0]
        return quote_name(
            self.catalog, self.function_schema or self.schemas.get(layer, self.schemas["silver"]), name
        )

    def scope(self, scope: str) -> str:
        """`SCHEMA `c`.`s`` for a layer, `CATALOG `c`` for the catalog: where a policy is defined."""
        if scope == "catalog":
            return f"CATALOG {quote_name(self.catalog)}"
        return f"SCHEMA {quote_name(self.catalog, self.schemas[scope])}"


@dataclass(frozen=True)
class MemberCheck:
    """How group membership is asked: `is_account_group_member('g')` on Databricks; a persona's
    groups bound as TRUE/FALSE literals locally (`MemberCheck.of(groups)`)."""

    groups: frozenset[str] | None = None  # None: ask the workspace

    @classmethod
    def of(cls, groups: list[str] | tuple[str, ...]) -> MemberCheck:
        return cls(frozenset(groups))

    def is_member(self, group: str) -> bool:
        """Locally: whether the persona is in `group` (never asked of the workspace check)."""
        return self.groups is not None and group in self.groups

    def __call__(self, group: str) -> str:
        if self.groups is None:
            return f"{MEMBER_FUNCTION}({sql_string(group)})"
        return "TRUE" if group in self.groups else "FALSE"

    def bind(self, expression: str) -> str:
        """A spec's own SQL (a `sql` mask, a predicate) as the persona evaluates it: calls of
        `is_account_group_member('g')` / `is_member('g')` become TRUE or FALSE and `current_user()`
        the persona's name, outside string literals. Unchanged for the workspace."""
        if self.groups is None:
            return expression
        persona = sql_string("persona:" + ",".join(sorted(self.groups)))
        bound = _MEMBER_CALL.sub(lambda m: self(m.group(2)[1:-1]), expression)  # the call holds a literal
        pieces = re.split(r"('(?:[^'\\]|\\.)*')", bound)
        for i in range(0, len(pieces), 2):
            pieces[i] = _CURRENT_USER.sub(persona, pieces[i])
        return "".join(pieces)


WORKSPACE = MemberCheck()
_MEMBER_CALL = re.compile(r"(?<![\w'\\])(is_account_group_member|is_member)\s*\(\s*('[^'\\]*')\s*\)", re.I)
_CURRENT_USER = re.compile(r"\b(current_user|session_user|user)\s*\(\s*\)", re.IGNORECASE)


def mask_expression(mask: ColumnMask, value: str = "value", member: MemberCheck = WORKSPACE) -> str:
    """The masked value of `value` (a parameter name or column): raw for exempt groups."""
    masked = member.bind(_masked(mask, value))
    if not mask.exempt_groups:
        return masked
    exempt = " OR ".join(member(group) for group in mask.exempt_groups)
    return f"CASE WHEN {exempt} THEN {value} ELSE {masked} END"


def _masked(mask: ColumnMask, value: str) -> str:
    kind, argument = mask.kind, mask.argument
    if kind == "redact":
        return sql_string(argument or REDACTED)
    if kind == "hash":
        return f"sha2(CAST({value} AS STRING), 256)"
    if kind == "partial":
        keep = int(argument)
        return f"concat(repeat('*', greatest(length({value}) - {keep}, 0)), right({value}, {keep}))"
    if kind == "email_domain":
        return f"regexp_replace({value}, '^[^@]*', {sql_string(REDACTED)})"
    if kind == "year_only":
        if mask.data_type == "date":
            return f"make_date(year({value}), 1, 1)"
        return f"date_trunc('YEAR', {value})"
    if kind == "null":
        return f"CAST(NULL AS {(mask.data_type or 'STRING').upper()})"
    if kind == "sql":
        return f"({_bind(argument, {'value': value})})"
    raise ValueError(f"unknown mask kind {kind!r}")


def _bind(expression: str, names: dict[str, str]) -> str:
    """Replace whole-word names in an expression (outside quotes) with other names."""
    if all(old == new for old, new in names.items()):
        return expression
    pieces = re.split(r"('(?:[^'\\]|\\.)*'|`[^`]*`)", expression)
    for i in range(0, len(pieces), 2):
        for old, new in names.items():
            pieces[i] = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, pieces[i])
    return "".join(pieces)


@dataclass(frozen=True)
class FunctionSql:
    """A SQL function to create: its name, statement, and comment. The comment ends with a
    fingerprint of the signature and body, so reconcile sees a changed function in its comment."""

    name: str
    sql: str
    comment: str


def _function(name: str, params: str, returns: str, body: str, about: str) -> FunctionSql:
    fingerprint = hashlib.sha256(f"{params}|{returns}|{body}".encode()).hexdigest()[:12]
    comment = f"medallion: {about} #{fingerprint}"
    sql = (
        f"CREATE OR REPLACE FUNCTION {name}({params})\n"
        f"RETURNS {returns}\n"
        f"COMMENT {sql_string(comment)}\n"
        f"RETURN {body}"
    )
    return FunctionSql(name, sql, comment)


def mask_function(
    mask: ColumnMask, names: SecurableNames, data_type: str = "", variant: str = ""
) -> FunctionSql:
    """The function of one column mask. `variant` names a second function of the same mask for a
    column of another type (a side table that keeps the column as text, say)."""
    table = mask.table.split(".", 1)[1]
    short = f"{FUNCTION_PREFIX}mask_{table}_{mask.column}" + (f"_{variant}" if variant else "")
    name = names.function(mask.table, _identifier(short))
    column_type = (data_type or mask.data_type or "string").upper()
    params = ", ".join([f"value {column_type}", *(f"{c} STRING" for c in mask.using_columns)])
    about = f"mask of {mask.table}.{mask.column} (specs/security/column_masks.csv row {mask.row})"
    return _function(name, params, column_type, mask_expression(mask), about)


def filter_columns(filters: tuple[RowFilter, ...]) -> tuple[str, ...]:
    """The columns the predicates of one table read, in order of first use (the function's parameters)."""
    seen: dict[str, str] = {}
    for row_filter in filters:
        for ref in outer_column_references(row_filter.predicate or ""):
            if len(ref.parts) == 1:
                seen.setdefault(ref.parts[0].lower(), ref.parts[0])
    return tuple(seen.values())


def filter_expression(
    filters: tuple[RowFilter, ...], names: SecurableNames, member: MemberCheck = WORKSPACE
) -> str:
    """TRUE for the rows a member of any listed group may see; FALSE for everyone else. A predicate's
    `${layer}` names (a lookup in another table) become that layer's schema in `names`."""
    parts = []
    for row_filter in sorted(filters, key=lambda f: f.row):
        if row_filter.predicate is None:
            parts.append(member(row_filter.group))
        else:
            predicate = member.bind(render_placeholders(row_filter.predicate, names))
            parts.append(f"({member(row_filter.group)} AND ({predicate}))")
    return " OR ".join(parts) or "FALSE"


def render_placeholders(text: str, names: SecurableNames) -> str:
    """`${silver}` -> `catalog`.`schema` of that layer, `${catalog}` -> `catalog` (outside quotes)."""
    values = {
        f"${{{layer}}}": quote_name(names.catalog, names.schemas[layer]) for layer in LAYER_PLACEHOLDERS
    }
    values["${catalog}"] = quote_name(names.catalog)
    pieces = re.split(r"('(?:[^'\\]|\\.)*')", text)
    for i in range(0, len(pieces), 2):
        for placeholder, value in values.items():
            pieces[i] = pieces[i].replace(placeholder, value)
    return "".join(pieces)


def applicable_filters(filters: tuple[RowFilter, ...], columns: set[str] | None) -> tuple[RowFilter, ...]:
    """The filter rows a table with `columns` (lower case; None = the protected table itself) can
    evaluate. A side table without every predicate column keeps only the `all_rows` rows: the other
    groups see nothing there (fail closed)."""
    if columns is None or all(c.lower() in columns for c in filter_columns(filters)):
        return filters
    return tuple(f for f in filters if f.predicate is None)


def filter_function(
    table: str,
    filters: tuple[RowFilter, ...],
    names: SecurableNames,
    types: dict[str, str],
    variant: str = "",
) -> tuple[FunctionSql, tuple[str, ...]]:
    """The row-filter function of one table (from all its row_filters.csv rows), and its columns.
    `variant` names another function of the same table's filter (a side table's)."""
    short = table.split(".", 1)[1]
    name = names.function(
        table, _identifier(f"{FUNCTION_PREFIX}filter_{short}" + (f"_{variant}" if variant else ""))
    )
    columns = filter_columns(filters)
    params = ", ".join(f"{c} {(types.get(c.lower()) or 'string').upper()}" for c in columns)
    rows = ", ".join(str(f.row) for f in sorted(filters, key=lambda f: f.row))
    about = f"row filter of {table} (specs/security/row_filters.csv rows {rows})"
    return _function(name, params, "BOOLEAN", filter_expression(filters, names), about), columns


POLICY_PRINCIPALS = ("account users",)  # a policy applies to everyone but its exempt groups


def policy_function(policy: MaskPolicy, names: SecurableNames) -> FunctionSql:
    """The function of an ABAC mask policy: the mask alone (who is exempt is the policy's EXCEPT)."""
    name = names.function(f"{policy.scope}.*", _identifier(f"{FUNCTION_PREFIX}policy_{policy.name}"))
    column_type = (policy.data_type or "string").upper()
    mask = ColumnMask(f"{policy.scope}.*", "value", policy.kind, policy.data_type, policy.argument)
    about = f"mask of policy {policy.name} (specs/security/policies.csv row {policy.row})"
    return _function(name, f"value {column_type}", column_type, _masked(mask, "value"), about)


def policy_statement(policy: MaskPolicy, names: SecurableNames, function: str) -> tuple[str, str, str, str]:
    """(ON securable, name, fingerprint, statement) of the `CREATE OR REPLACE POLICY` for `policy`; the
    fingerprint of its definition is kept in the statement's comment and in reconcile's state."""
    name = quote_name(_identifier(f"{FUNCTION_PREFIX}{policy.name}"))
    on = names.scope(policy.scope)
    body = [f"COLUMN MASK {function}", f"TO {', '.join(quote_name(p) for p in POLICY_PRINCIPALS)}"]
    if policy.exempt_groups:
        body.append(f"EXCEPT {', '.join(quote_name(g) for g in policy.exempt_groups)}")
    body += [
        "FOR TABLES",
        f"MATCH COLUMNS has_tag_value({sql_string(policy.tag_key)}, {sql_string(policy.tag_value)}) AS masked",
        "ON COLUMN masked",
    ]
    fingerprint = hashlib.sha256("\n".join([name, on, *body]).encode()).hexdigest()[:12]
    about = f"medallion: policy {policy.name} (specs/security/policies.csv row {policy.row}) #{fingerprint}"
    statement = "\n".join([f"CREATE OR REPLACE POLICY {name} ON {on}", f"COMMENT {sql_string(about)}", *body])
    return on, name, fingerprint, statement


def raw_row_mask(spec: SecuritySpec, table: str) -> ColumnMask | None:
    """The mask of a quarantine's raw bronze row (`_source_row`): it holds every masked value of
    `table`, so only the groups exempt from all of the table's masks see it; None when nothing is
    masked."""
    masks = spec.masks_of(table)
    if not masks:
        return None
    exempt = set.intersection(*(set(m.exempt_groups) for m in masks))
    groups = tuple(g for g in masks[0].exempt_groups if g in exempt)
    return ColumnMask(
        table, RAW_ROW_COLUMN, "null", "string", exempt_groups=groups, description="raw bronze row"
    )


def _identifier(name: str) -> str:
    """A function name from table, column and type words: lower case, one underscore between words."""
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")

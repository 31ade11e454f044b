"""Typed security specs (`specs/security/*.csv`): column masks, row filters, tags, grants and ABAC
mask policies.

Parsed and checked by the `security` spec kind (specs/kinds/security.py); turned into Unity Catalog
statements by `medallion.security`. Table names are `layer.table` once checked.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MASK_KINDS",
    "PRIVILEGES",
    "SECURABLE_TYPES",
    "ColumnMask",
    "Grant",
    "MaskPolicy",
    "RowFilter",
    "SecuritySpec",
    "Tag",
    "mask_type_problem",
]

# Mask kind -> the column types it fits ("" = any type). `sql` takes its expression from `argument`.
MASK_KINDS: dict[str, tuple[str, ...]] = {
    "redact": ("string",),
    "hash": ("string",),
    "partial": ("string",),
    "email_domain": ("string",),
    "year_only": ("date", "timestamp", "timestamp_ntz"),
    "null": (),
    "sql": (),
}

MASK_TYPE_FIX = "choose a mask for that type (null fits any), or write it with mask sql"


def mask_type_problem(kind: str, data_type: str, what: str) -> tuple[str, str] | None:
    """(message, fix) when mask `kind` cannot give `data_type` (the type of `what`), else None."""
    fits = MASK_KINDS.get(kind, ())
    if data_type and fits and data_type.split("(")[0] not in fits:
        return f"mask {kind} gives a {'/'.join(fits)} but {what} is {data_type}", MASK_TYPE_FIX
    return None


SECURABLE_TYPES = ("catalog", "schema", "table", "volume")
# The privileges Unity Catalog grants on each securable type. A privilege granted on a container is
# inherited by what it holds, so a schema accepts its tables' and volumes' privileges, and the
# catalog its schemas'.
_SCHEMA_PRIVILEGES = (
    "ALL PRIVILEGES",
    "APPLY TAG",
    "MANAGE",
    "BROWSE",
    "USE SCHEMA",
    "CREATE TABLE",
    "CREATE FUNCTION",
    "CREATE VOLUME",
    "CREATE MODEL",
    "SELECT",
    "MODIFY",
    "EXECUTE",
    "READ VOLUME",
    "WRITE VOLUME",
)
PRIVILEGES: dict[str, tuple[str, ...]] = {
    "table": ("SELECT", "MODIFY", "ALL PRIVILEGES", "APPLY TAG", "MANAGE"),
    "volume": ("READ VOLUME", "WRITE VOLUME", "ALL PRIVILEGES", "APPLY TAG", "MANAGE"),
    "schema": _SCHEMA_PRIVILEGES,
    "catalog": (*_SCHEMA_PRIVILEGES, "USE CATALOG", "CREATE SCHEMA"),
}


@dataclass(frozen=True)
class ColumnMask:
    """Who sees a column's raw value (`exempt_groups`) and what everyone else sees (`kind`)."""

    table: str  # layer.table
    column: str
    kind: str
    data_type: str = ""  # the column's type, when the specs declare it
    argument: str = ""  # partial: characters kept; redact: the text shown; sql: the expression
    exempt_groups: tuple[str, ...] = ()
    using_columns: tuple[str, ...] = ()
    description: str = ""
    row: int = 0
    policy: str = ""  # the policies.csv row this mask comes from ("" = column_masks.csv)


@dataclass(frozen=True)
class MaskPolicy:
    """One row of policies.csv: every column tagged `tag_key=tag_value` in `scope` (a layer's schema, or
    the catalog) is masked with `kind`, except for `exempt_groups`. A target with
    `security_mode=policies` creates it as one Unity Catalog ABAC policy; otherwise it becomes a
    column mask on each matching column (the `ColumnMask`s with `policy` set)."""

    name: str
    scope: str  # "catalog" or a layer
    tag_key: str
    tag_value: str
    kind: str
    argument: str = ""
    exempt_groups: tuple[str, ...] = ()
    description: str = ""
    data_type: str = ""  # the one type of the columns it matches
    row: int = 0


@dataclass(frozen=True)
class RowFilter:
    """One row of row_filters.csv: members of `group` see the rows `predicate` allows (all if None)."""

    table: str  # layer.table
    group: str
    predicate: str | None  # None = all rows
    description: str = ""
    row: int = 0


@dataclass(frozen=True)
class Tag:
    table: str  # layer.table
    column: str  # "" = the table itself
    key: str
    value: str
    row: int = 0


@dataclass(frozen=True)
class Grant:
    principal: str
    securable_type: str
    name: str  # catalog / layer (schema) / layer.table / layer.volume, as in the specs
    privileges: tuple[str, ...]
    row: int = 0


@dataclass(frozen=True)
class SecuritySpec:
    """Everything `specs/security/` declares (each part may be empty)."""

    masks: tuple[ColumnMask, ...] = ()
    filters: tuple[RowFilter, ...] = ()
    tags: tuple[Tag, ...] = ()
    grants: tuple[Grant, ...] = ()
    policies: tuple[MaskPolicy, ...] = ()

    def masks_of(self, table: str) -> tuple[ColumnMask, ...]:
        return tuple(m for m in self.masks if m.table == table)

    def filters_of(self, table: str) -> tuple[RowFilter, ...]:
        return tuple(f for f in self.filters if f.table == table)

    @property
    def protected_tables(self) -> tuple[str, ...]:
        """Tables with a mask or a filter, in spec order."""
        return tuple(dict.fromkeys([*(m.table for m in self.masks), *(f.table for f in self.filters)]))

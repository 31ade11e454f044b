"""What a persona (a set of groups) would see on Databricks, answered on the local lakehouse.

`medallion sql --as analysts "<query>"`: each table the query names is checked against the grants
(Unity Catalog's rules: SELECT on the table, its schema or the catalog, plus USE SCHEMA and USE
CATALOG), then read through a view that applies the table's masks and row filter with the same SQL
the workspace functions run (`statements.mask_expression` / `filter_expression`), with group
membership bound to the persona. The views live in persona schemas (`<schema>__as_<hash>`) and the
query's schema names are pointed at them, so the query itself is unchanged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medallion.errors import MedallionError
from medallion.security.reconcile import SIDE_SUFFIXES
from medallion.security.statements import (
    RAW_ROW_COLUMN,
    MemberCheck,
    SecurableNames,
    applicable_filters,
    filter_expression,
    mask_expression,
    quote_name,
    raw_row_mask,
    sql_string,
)
from medallion.specs.security_model import ColumnMask, SecuritySpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["PersonaError", "can_select", "lakehouse_tables", "persona_query"]


class PersonaError(MedallionError):
    """The persona may not read a table the query names (as Unity Catalog would refuse it)."""


@dataclass(frozen=True)
class _Table:
    layer: str
    name: str  # as stored (side tables keep their suffix)
    parent: str  # the spec table it belongs to (itself, or the table a side table serves)


def can_select(spec: SecuritySpec, groups: tuple[str, ...], layer: str, table: str) -> str:
    """ "" when one of `groups` may SELECT `layer.table`, else what is missing."""

    def granted(kind: str, name: str, privilege: str) -> bool:
        return any(
            g.principal in groups
            and g.securable_type == kind
            and g.name.lower() == name.lower()
            and (privilege in g.privileges or "ALL PRIVILEGES" in g.privileges)
            for g in spec.grants
        )

    def on_catalog(privilege: str) -> bool:  # the catalog is named "" or "catalog" in grants.csv
        return granted("catalog", "", privilege) or granted("catalog", "catalog", privilege)

    missing = []
    if not on_catalog("USE CATALOG"):
        missing.append("USE CATALOG on the catalog")
    if not (granted("schema", layer, "USE SCHEMA") or on_catalog("USE SCHEMA")):
        missing.append(f"USE SCHEMA on {layer}")
    if not (
        granted("table", f"{layer}.{table}", "SELECT")
        or granted("schema", layer, "SELECT")
        or on_catalog("SELECT")
    ):
        missing.append(f"SELECT on {layer}.{table}")
    return ", ".join(missing)


def lakehouse_tables(spark: SparkSession, catalog: str, schemas: dict[str, str]) -> dict[str, list[str]]:
    """The tables of each layer's schema (none for a schema not created yet)."""
    tables: dict[str, list[str]] = {}
    for layer, schema in schemas.items():
        name = quote_name(catalog, schema)
        exists = spark.sql(f"SHOW SCHEMAS IN {quote_name(catalog)} LIKE {sql_string(schema)}").count() > 0
        rows = spark.sql(f"SHOW TABLES IN {name}").collect() if exists else []
        tables[layer] = [r["tableName"] for r in rows if not r["isTemporary"]]
    return tables


def persona_query(
    spark: SparkSession,
    query: str,
    groups: tuple[str, ...],
    spec: SecuritySpec,
    catalog: str,
    schemas: dict[str, str],
    tables: dict[str, list[str]],
) -> DataFrame:
    """Run `query` as a member of `groups`. `schemas` maps each layer to its schema; `tables` lists the
    tables of each layer on the lakehouse."""
    suffix = "__as_" + hashlib.sha256(",".join(sorted(groups)).encode()).hexdigest()[:8]
    used = _tables_in(query, schemas, tables)
    refused = [
        f"{t.layer}.{t.name}: {why}" for t in used if (why := can_select(spec, groups, t.layer, t.name))
    ]
    if refused:
        raise PersonaError(
            f"permission denied for {', '.join(groups)}: missing "
            + "; ".join(refused)
            + " (grant it in specs/security/grants.csv)"
        )
    member = MemberCheck.of(groups)
    names = SecurableNames(catalog, schemas)  # a filter's lookup reads the table itself, as on Databricks
    for table in used:
        persona_schema = quote_name(catalog, schemas[table.layer] + suffix)
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {persona_schema}")
        source = quote_name(catalog, schemas[table.layer], table.name)
        columns = spark.table(source).columns
        side = table.name.lower() != table.parent.lower()
        body = _view_sql(spec, f"{table.layer}.{table.parent}", source, columns, member, names, side=side)
        spark.sql(f"CREATE OR REPLACE VIEW {persona_schema}.{quote_name(table.name)} AS {body}")
    return spark.sql(_point_at_persona(query, schemas, suffix))


def _view_sql(
    spec: SecuritySpec,
    parent: str,
    source: str,
    columns: list[str],
    member: MemberCheck,
    names: SecurableNames,
    *,
    side: bool,
) -> str:
    """SELECT with the parent table's masks on same-named columns (and on a quarantine's raw row) and
    its filter, as far as the table's columns allow (`applicable_filters`)."""
    masks: dict[str, ColumnMask] = {m.column.lower(): m for m in spec.masks_of(parent)}
    raw_row = raw_row_mask(spec, parent)
    if raw_row is not None:
        masks.setdefault(RAW_ROW_COLUMN, raw_row)
    selected = []
    for column in columns:
        quoted = quote_name(column)
        mask = masks.get(column.lower())
        selected.append(f"{mask_expression(mask, quoted, member)} AS {quoted}" if mask else quoted)
    sql = f"SELECT {', '.join(selected)} FROM {source}"
    filters = applicable_filters(spec.filters_of(parent), {c.lower() for c in columns} if side else None)
    if filters:
        sql += f" WHERE {filter_expression(filters, names, member)}"
    return sql


def _tables_in(query: str, schemas: dict[str, str], tables: dict[str, list[str]]) -> list[_Table]:
    """The lakehouse tables `schema.table` (quoted or not, with or without catalog) the query names."""
    found: dict[tuple[str, str], _Table] = {}
    missing = []
    for layer, schema in schemas.items():
        pattern = rf"(?<![\w`])`?{re.escape(schema)}`?\s*\.\s*`?(\w+)`?"
        known = {t.lower(): t for t in tables.get(layer, [])}
        for match in re.finditer(pattern, query, flags=re.IGNORECASE):
            name = match.group(1).lower()
            if name not in known:
                missing.append(f"{schema}.{match.group(1)}")
                continue
            parent = next((name[: -len(s)] for s in SIDE_SUFFIXES if name.endswith(s)), name)
            found[(layer, name)] = _Table(layer, known[name], parent)
    if missing:
        raise PersonaError(
            f"no table {', '.join(dict.fromkeys(missing))} on the local lakehouse; build it first "
            "(make demo, or medallion run), or check the name with medallion tables"
        )
    return list(found.values())


def _point_at_persona(query: str, schemas: dict[str, str], suffix: str) -> str:
    for schema in schemas.values():
        query = re.sub(
            rf"(?<![\w`])(`?){re.escape(schema)}(`?)(\s*\.)",
            rf"\1{schema}{suffix}\2\3",
            query,
            flags=re.IGNORECASE,
        )
    return query

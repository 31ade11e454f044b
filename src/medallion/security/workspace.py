"""The security step against a workspace: read what Unity Catalog has (`information_schema`), plan with
`reconcile`, run the statements, and remember what the specs owned for the next run.

Only the target's catalog and the layer schemas are read. What the specs owned after the last
reconcile (so a removed spec row can be undone) is kept as one JSON value in the silver schema's
`medallion_security_state` table, written by this step only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medallion.security.reconcile import SIDE_SUFFIXES, SecurityState, desired_state, plan
from medallion.security.statements import FUNCTION_PREFIX, SecurableNames, quote_name, sql_string
from medallion.specs.security_model import SecuritySpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "STATE_TABLE",
    "ReconcileResult",
    "local_column_types",
    "read_actual_state",
    "read_column_types",
    "reconcile",
]

log = logging.getLogger(__name__)

STATE_TABLE = "medallion_security_state"  # in the silver schema: what the specs owned last time
LOCAL_SHOWN = 5  # statements printed by a local run (the plan only; nothing runs here)


@dataclass
class ReconcileResult:
    statements: list[str] = field(default_factory=list)
    executed: bool = False


def _rows(spark: SparkSession, sql: str) -> list[dict[str, Any]]:
    return [row.asDict() for row in spark.sql(sql).collect()]


def read_actual_state(spark: SparkSession, names: SecurableNames, *, policies: bool = False) -> SecurityState:
    """Masks, filters, owned functions, tags and direct grants of the target's catalog and schemas;
    with `policies`, the ABAC policies defined on them too (`SHOW POLICIES`, DBR 16.4+)."""
    catalog = names.catalog
    schemas = ", ".join(sql_string(s) for s in names.schemas.values())
    info = f"{quote_name(catalog)}.information_schema"
    state = SecurityState()
    for r in _rows(spark, f"SELECT * FROM {info}.column_masks WHERE schema_name IN ({schemas})"):
        table = quote_name(r["catalog_name"], r["schema_name"], r["table_name"])
        function = quote_name(r["mask_catalog"], r["mask_schema"], r["mask_name"])
        using = tuple(c.strip() for c in (r.get("mask_col_usage") or "").split(",") if c.strip())
        state.masks[(table, r["column_name"].lower())] = (function, using)
    for r in _rows(spark, f"SELECT * FROM {info}.row_filters WHERE schema_name IN ({schemas})"):
        table = quote_name(r["catalog_name"], r["schema_name"], r["table_name"])
        function = quote_name(r["filter_catalog"], r["filter_schema"], r["filter_name"])
        columns = tuple(c.strip() for c in (r.get("filter_col_usage") or "").split(",") if c.strip())
        state.filters[table] = (function, columns)
    function_schemas = ", ".join(sql_string(s) for s in {*names.schemas.values(), names.function_schema} if s)
    routines = (
        f"SELECT routine_catalog, routine_schema, routine_name, comment FROM {info}.routines "
        f"WHERE routine_schema IN ({function_schemas}) "
        f"AND startswith(routine_name, {sql_string(FUNCTION_PREFIX)})"
    )
    for r in _rows(spark, routines):
        state.functions[quote_name(r["routine_catalog"], r["routine_schema"], r["routine_name"])] = (
            r["comment"] or ""
        )
    for r in _rows(spark, f"SELECT * FROM {info}.table_tags WHERE schema_name IN ({schemas})"):
        key = (quote_name(r["catalog_name"], r["schema_name"], r["table_name"]), "")
        state.tags.setdefault(key, {})[r["tag_name"]] = r["tag_value"] or ""
    for r in _rows(spark, f"SELECT * FROM {info}.column_tags WHERE schema_name IN ({schemas})"):
        key = (quote_name(r["catalog_name"], r["schema_name"], r["table_name"]), r["column_name"].lower())
        state.tags.setdefault(key, {})[r["tag_name"]] = r["tag_value"] or ""
    direct = "inherited_from IS NULL OR inherited_from = 'NONE'"
    for r in _rows(spark, f"SELECT * FROM {info}.catalog_privileges WHERE {direct}"):
        state.grants.add(("catalog", quote_name(r["catalog_name"]), r["grantee"], r["privilege_type"]))
    for r in _rows(
        spark, f"SELECT * FROM {info}.schema_privileges WHERE schema_name IN ({schemas}) AND ({direct})"
    ):
        securable = quote_name(r["catalog_name"], r["schema_name"])
        state.grants.add(("schema", securable, r["grantee"], r["privilege_type"]))
    for r in _rows(
        spark, f"SELECT * FROM {info}.table_privileges WHERE table_schema IN ({schemas}) AND ({direct})"
    ):
        securable = quote_name(r["table_catalog"], r["table_schema"], r["table_name"])
        state.grants.add(("table", securable, r["grantee"], r["privilege_type"]))
    for r in _rows(
        spark, f"SELECT * FROM {info}.volume_privileges WHERE volume_schema IN ({schemas}) AND ({direct})"
    ):
        securable = quote_name(r["volume_catalog"], r["volume_schema"], r["volume_name"])
        state.grants.add(("volume", securable, r["grantee"], r["privilege_type"]))
    if policies:
        for scope in ("catalog", *names.schemas):
            on = names.scope(scope)
            for r in _rows(spark, f"SHOW POLICIES ON {on}"):
                name = next((r[k] for k in ("Policy Name", "policy_name", "name") if r.get(k)), "")
                if name:
                    state.policies[(on, quote_name(name))] = ""  # its definition: in the state table
    return state


def read_column_types(spark: SparkSession, names: SecurableNames) -> dict[str, dict[str, str]]:
    """`layer.table` -> column -> type of every table in the layer schemas (side tables included)."""
    layers = {schema.lower(): layer for layer, schema in names.schemas.items()}
    schemas = ", ".join(sql_string(s) for s in names.schemas.values())
    info = f"{quote_name(names.catalog)}.information_schema"
    types: dict[str, dict[str, str]] = {}
    columns = (
        f"SELECT table_schema, table_name, column_name, full_data_type FROM {info}.columns "
        f"WHERE table_schema IN ({schemas})"
    )
    for r in _rows(spark, columns):
        table = f"{layers[r['table_schema'].lower()]}.{r['table_name'].lower()}"
        types.setdefault(table, {})[r["column_name"].lower()] = r["full_data_type"].lower()
    return types


def local_column_types(
    spark: SparkSession, spec: SecuritySpec, names: SecurableNames
) -> dict[str, dict[str, str]]:
    """The same for the protected tables (and their side tables) of a local lakehouse that exist."""
    types: dict[str, dict[str, str]] = {}
    for parent in dict.fromkeys([*spec.protected_tables, *(t.table for t in spec.tags)]):
        for table in (parent, *(parent + suffix for suffix in SIDE_SUFFIXES)):
            name = names.table(table)
            if spark.catalog.tableExists(name.replace("`", "")):
                schema = spark.table(name).schema
                types[table] = {f.name.lower(): f.dataType.simpleString() for f in schema.fields}
    return types


def owned_to_json(state: SecurityState) -> str:
    """What the specs own, to undo a removed spec row next time (tags and grants; functions carry
    their own prefix)."""
    return json.dumps(
        {
            "tags": [
                [t, c, k, v] for (t, c), tags in sorted(state.tags.items()) for k, v in sorted(tags.items())
            ],
            "grants": sorted(list(g) for g in state.grants),
            "policies": sorted([on, name, fingerprint] for (on, name), fingerprint in state.policies.items()),
        }
    )


def owned_from_json(text: str) -> SecurityState:
    data = json.loads(text or "{}")
    state = SecurityState()
    for table, column, key, value in data.get("tags", []):
        state.tags.setdefault((table, column), {})[key] = value
    state.grants = {tuple(g) for g in data.get("grants", [])}
    state.policies = {(on, name): fingerprint for on, name, fingerprint in data.get("policies", [])}
    return state


def reconcile(
    spark: SparkSession,
    spec: SecuritySpec,
    names: SecurableNames,
    *,
    execute: bool,
) -> ReconcileResult:
    """Plan (and with `execute`, run) the statements that make the workspace match the specs."""
    desired = desired_state(spec, names, read_column_types(spark, names))
    state_table = quote_name(names.catalog, names.schemas["silver"], STATE_TABLE)
    previous = SecurityState()
    if spark.catalog.tableExists(f"{names.catalog}.{names.schemas['silver']}.{STATE_TABLE}"):
        rows = spark.sql(f"SELECT owned FROM {state_table}").collect()
        previous = owned_from_json(rows[0]["owned"] if rows else "")
    # Policies are listed only where they are used or were (SHOW POLICIES needs DBR 16.4+).
    actual = read_actual_state(spark, names, policies=bool(desired.policies or previous.policies))
    result = ReconcileResult(plan(desired, actual, previous))
    if not execute:
        return result
    for statement in result.statements:
        log.info("security: %s", statement.splitlines()[0])
        spark.sql(statement)
    spark.sql(f"CREATE TABLE IF NOT EXISTS {state_table} (owned STRING) USING DELTA")
    spark.sql(f"INSERT OVERWRITE {state_table} SELECT {sql_string(owned_to_json(desired))} AS owned")
    result.executed = True
    return result


def security_step(
    spark: SparkSession, spec: SecuritySpec, names: SecurableNames, *, unity_catalog: bool, apply: bool
) -> tuple[ReconcileResult, list[str]]:
    """The job's security task: reconcile on Unity Catalog; on a local lakehouse (no Unity Catalog),
    the statements a fresh workspace would need, as a plan. Returns the result and lines to print."""
    if unity_catalog:
        result = reconcile(spark, spec, names, execute=apply)
        verb = "ran" if result.executed else "would run"
        lines = [f"security: {verb} {len(result.statements)} statement(s) on {names.catalog}"]
    else:
        desired = desired_state(spec, names, local_column_types(spark, spec, names))
        result = ReconcileResult(plan(desired, SecurityState()))
        lines = [
            f"security: no Unity Catalog here; a fresh workspace would need {len(result.statements)} "
            'statement(s). See what each group would see with: medallion sql --as <group> "<query>"'
        ]
    shown = result.statements if unity_catalog else result.statements[:LOCAL_SHOWN]
    lines += [f"  {s.splitlines()[0]}" for s in shown]
    if len(shown) < len(result.statements):
        lines.append(f"  ... and {len(result.statements) - len(shown)} more (docs/security.md)")
    return result, lines

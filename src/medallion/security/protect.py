"""No window of exposure: a new silver, side or gold table gets its masks, row filter and tags while it
is still empty, before the first row is written (docs/security.md).

The layers create a protected table empty, call the guard, then write. On Unity Catalog the guard runs
the table's statements (`reconcile.table_plan`: its functions, masks, filter, tags); on a local
lakehouse there is nothing to run, and it only logs them. Either way it records their fingerprint in
the table's properties (`SECURITY_PROPERTY`), so the table's history shows protection before data,
and a job killed between the create and the guard protects the table on its next run: on Unity
Catalog every run compares the fingerprint of the tables it writes (one property read each).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from medallion.environment import on_databricks
from medallion.names import SECURITY_PROPERTY
from medallion.security.reconcile import SIDE_SUFFIXES, desired_state, table_plan
from medallion.security.statements import SecurableNames, sql_string
from medallion.specs.security_model import SecuritySpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.context import RunContext
    from medallion.specs.loader import Specs

__all__ = ["TableGuard", "securable_names", "table_guard"]

log = logging.getLogger(__name__)


def securable_names(ctx: RunContext) -> SecurableNames:
    """The catalog, layer schemas and security-function schema of a run."""
    schemas = {layer: getattr(ctx, f"{layer}_schema") for layer in ("bronze", "silver", "gold")}
    return SecurableNames(ctx.catalog, schemas, ctx.security_schema, ctx.security_mode == "policies")


class TableGuard:
    """Protects the tables the security specs name, and their side tables, before their first row."""

    def __init__(
        self, spark: SparkSession, spec: SecuritySpec, names: SecurableNames, *, unity_catalog: bool
    ):
        self.spark = spark
        self.spec = spec
        self.names = names
        self.unity_catalog = unity_catalog
        parents = dict.fromkeys([*spec.protected_tables, *(t.table for t in spec.tags)])
        self._tables = {
            names.table(table).lower(): (parent, table)
            for parent in parents
            for table in (parent, *(parent + suffix for suffix in SIDE_SUFFIXES))
        }

    def protects(self, name: str) -> bool:
        """Whether `name` (`catalog`.`schema`.`table`) has anything to put in place."""
        return name.lower() in self._tables

    def __call__(self, name: str, *, created: bool) -> list[str]:
        """Protect `name` (just `created` empty, or existing) unless its protection is in place; returns
        the statements run (on Unity Catalog) or that would run (locally)."""
        if not self.protects(name) or (not created and not self.unity_catalog):
            return []  # locally an existing table has nothing to catch up on
        if not created and not self.spark.catalog.tableExists(name.replace("`", "")):
            return []  # a side table not written yet: protected when it is created
        parent, table = self._tables[name.lower()]
        types = {parent: self._types(self.names.table(parent))}
        if table != parent:
            types[table] = self._types(name)
        statements = table_plan(desired_state(self.spec, self.names, types), self.names.table(table))
        if not statements:
            return []
        fingerprint = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
        if not created and self._stored(name) == fingerprint:
            return []
        for statement in statements:
            if self.unity_catalog:
                self.spark.sql(statement)
            log.info(
                "security %s: %s", "ran" if self.unity_catalog else "would run", statement.splitlines()[0]
            )
        self.spark.sql(
            f"ALTER TABLE {name} SET TBLPROPERTIES ({sql_string(SECURITY_PROPERTY)} = {sql_string(fingerprint)})"
        )
        return statements

    def _types(self, name: str) -> dict[str, str]:
        return {f.name.lower(): f.dataType.simpleString() for f in self.spark.table(name).schema.fields}

    def _stored(self, name: str) -> str:
        rows = self.spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
        return next((r["value"] for r in rows if r["key"] == SECURITY_PROPERTY), "")


def table_guard(spark: SparkSession, specs: Specs, ctx: RunContext) -> TableGuard | None:
    """The guard of a run, or None when the specs protect nothing."""
    found = specs.of("security")
    spec = found[0] if found else SecuritySpec()
    if not (spec.protected_tables or spec.tags or spec.policies):
        return None
    return TableGuard(spark, spec, securable_names(ctx), unity_catalog=on_databricks())

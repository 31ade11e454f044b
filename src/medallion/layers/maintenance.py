"""The maintenance job (`notebooks/50_maintenance.py`, its own schedule): Delta upkeep from
`specs/table_maintenance.csv`. Locally the same statements run on Delta Lake.

Per table: the retention and optimized-write properties and the clustering keys are set when they
differ (idempotent: nothing is committed when they are in place); when OPTIMIZE is due (its last
OPTIMIZE in the table's history is older than `optimize_every`), OPTIMIZE (Z-ordered for a
partitioned table) then VACUUM keeping `vacuum_retain_hours`. With predictive optimization (a
per-target choice on Databricks) the schemas get it instead of the OPTIMIZE and VACUUM statements.
Each table's run is recorded like the other layers' (`run_log`, kind `maintenance`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from medallion.delta.run_marks import prune_snapshots
from medallion.delta.run_records import TableRun, timed
from medallion.delta.tables import table_exists
from medallion.errors import ParameterError
from medallion.logs import for_table
from medallion.specs.kinds.maintenance import MAINTENANCE_FILE, ROLLBACK_WINDOW_HOURS, TableMaintenance

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.context import RunContext
    from medallion.specs.model import Specs

__all__ = ["maintain", "property_statement", "run_maintenance"]

log = logging.getLogger(__name__)


def _properties(spec: TableMaintenance) -> dict[str, str]:
    return {
        "delta.logRetentionDuration": f"interval {spec.log_retention_days} days",
        "delta.deletedFileRetentionDuration": f"interval {spec.deleted_file_retention_days} days",
        "delta.autoOptimize.optimizeWrite": str(spec.optimized_writes).lower(),
    }


def property_statement(name: str, wanted: dict[str, str], current: dict[str, str]) -> str:
    """`ALTER TABLE … SET TBLPROPERTIES` for the properties that differ ("" when none do)."""
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not changed:
        return ""
    pairs = ", ".join(f"'{k}' = '{v}'" for k, v in changed.items())
    return f"ALTER TABLE {name} SET TBLPROPERTIES ({pairs})"


@for_table("")
def maintain(
    spark: SparkSession,
    spec: TableMaintenance,
    name: str,
    *,
    now: datetime,
    predictive: bool = False,
    force: bool = False,
) -> TableRun:
    """Bring one table in line with its maintenance row; OPTIMIZE and VACUUM when due (or `force`)."""
    run = TableRun(layer="maintenance", table=spec.table)
    with timed(run):
        if not table_exists(spark, name):
            run.status, run.details["reason"] = "skipped", "not built yet"
            return run
        detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
        run.rows_read = int(detail["numFiles"])
        statements = []
        current = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
        properties = property_statement(name, _properties(spec), current)
        if properties:
            statements.append(properties)
        clustered = [c.lower() for c in (detail["clusteringColumns"] or [])]
        if spec.cluster_by and clustered != [c.lower() for c in spec.cluster_by]:
            statements.append(
                f"ALTER TABLE {name} CLUSTER BY ({', '.join(f'`{c}`' for c in spec.cluster_by)})"
            )
        if not predictive and (force or _due(spark, name, spec, now)):
            optimize = f"OPTIMIZE {name}"
            if spec.zorder_by:
                optimize += f" ZORDER BY ({', '.join(f'`{c}`' for c in spec.zorder_by)})"
            statements += [optimize, f"VACUUM {name} RETAIN {spec.vacuum_retain_hours} HOURS"]
        for statement in statements:
            log.info("maintenance %s: %s", spec.table, statement)
            spark.sql(statement)
        run.rows_written = int(spark.sql(f"DESCRIBE DETAIL {name}").first()["numFiles"])
        run.details["statements"] = statements
        if not statements:
            run.status, run.details["reason"] = "skipped", "in place and not due"
    log.info(
        "maintenance %s: %d -> %d files (%d statements)",
        spec.table,
        run.rows_read,
        run.rows_written,
        len(statements),
    )
    return run


def _due(spark: SparkSession, name: str, spec: TableMaintenance, now: datetime) -> bool:
    """Whether the table's last OPTIMIZE is older than `optimize_every` (or it never had one)."""
    history = (
        spark.sql(f"DESCRIBE HISTORY {name}").filter("operation = 'OPTIMIZE'").select("timestamp").collect()
    )
    if not history:
        return True
    last = max(r["timestamp"] for r in history)
    return now.replace(tzinfo=None) - last >= timedelta(hours=spec.optimize_every_hours)


def run_maintenance(
    spark: SparkSession,
    ctx: RunContext,
    specs: Specs,
    *,
    predictive: bool = False,
    force: bool = False,
    tables: str = "",
) -> list[TableRun]:
    """Every table of `table_maintenance.csv` (or those named in `tables`, comma separated: `name` or
    `layer.name`); with `predictive`, the layer schemas get predictive optimization (Databricks)
    instead of OPTIMIZE and VACUUM."""
    chosen = _chosen(specs.of("maintenance"), tables)
    if predictive:
        for layer in ("bronze", "silver", "gold"):
            spark.sql(f"ALTER SCHEMA {ctx.schema(layer)} ENABLE PREDICTIVE OPTIMIZATION")
    now = datetime.now(UTC)
    runs = [
        maintain(
            spark, spec, ctx.table(*spec.table.split(".", 1)), now=now, predictive=predictive, force=force
        )
        for spec in chosen
    ]
    pruned = prune_snapshots(ctx.checkpoint_root, ROLLBACK_WINDOW_HOURS)  # runs past the rollback window
    if pruned:
        log.info("checkpoint copies of %d run(s) past the rollback window removed", len(pruned))
    return runs


def _chosen(items: tuple[TableMaintenance, ...], tables: str) -> list[TableMaintenance]:
    names = [n.strip().lower() for n in tables.replace(";", ",").split(",") if n.strip()]
    if not names:
        return list(items)
    found = [i for i in items if i.table.lower() in names or i.table.split(".", 1)[1].lower() in names]
    known = {n for i in items for n in (i.table.lower(), i.table.split(".", 1)[1].lower())}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ParameterError(
            f"tables={', '.join(unknown)}: not in {MAINTENANCE_FILE} (its tables: "
            f"{', '.join(i.table for i in items) or 'none'}); fix the 'tables' parameter or add a row"
        )
    return found

"""Gold: tables rebuilt from the SQL files named in gold_tables.csv.

A gold table is rebuilt only when one of the tables its SQL reads has a new Delta version since the
last build; the versions it was built from are stored in the commit's `userMetadata`. So a run with
nothing new upstream commits nothing.
"""

from __future__ import annotations

import json
import logging
import re

from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.run_records import TableRun, timed
from medallion.delta.tables import current_version, last_commit
from medallion.errors import ParameterError
from medallion.specs.model import GoldSpec

__all__ = ["build", "render_sql"]

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def render_sql(sql: str, values: dict[str, str]) -> str:
    """Replace `${silver}`-style placeholders with the run's schema names."""

    def _value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise ParameterError(
                f"unknown placeholder ${{{name}}} in gold SQL (known: {', '.join(sorted(values))})"
            )
        return values[name]

    return _PLACEHOLDER.sub(_value, sql)


def build(spark: SparkSession, table: GoldSpec, ctx: RunContext, *, force: bool = False) -> TableRun:
    """Rebuild one gold table if anything it reads changed (or `force`)."""
    run = TableRun(layer="gold", table=table.table)
    target = ctx.table("gold", table.table)
    with timed(run):
        upstream = {
            f"{layer}.{name}": current_version(spark, ctx.table(layer, name))
            for layer, name in sorted(table.upstream)
        }
        stamp = json.dumps({"medallion_upstream": upstream}, sort_keys=True)
        previous = last_commit(spark, target)
        if not force and previous is not None and previous.get("userMetadata") == stamp:
            run.status = "skipped"
            run.details["reason"] = "upstream unchanged"
            return run
        df = spark.sql(render_sql(table.sql, ctx.placeholders()))
        writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
        writer.option("userMetadata", stamp).saveAsTable(target)
        commit = last_commit(spark, target) or {}
        metrics = commit.get("operationMetrics") or {}
        run.rows_written = int(metrics.get("numOutputRows", 0))
        run.rows_read = sum(spark.table(ctx.table(layer, name)).count() for layer, name in table.upstream)
    log.info("gold %s: %d rows in %.1fs", table.table, run.rows_written, run.seconds)
    return run

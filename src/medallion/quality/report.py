"""`medallion dq report`: pass rates per silver table and the rules that fail most, with examples.

Reads the run records (`run_log`, `dq_metrics`) and the quarantine / warnings tables;
by default the latest run of each table, or one run with `run_id`.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from medallion.context import OPS, RunContext
from medallion.delta.query import format_rows
from medallion.delta.silver_tables import SilverTarget
from medallion.delta.tables import table_exists
from medallion.names import DQX_ERRORS, DQX_WARNINGS, METRICS_TABLE, OPERATIONS_TABLE, RUN_ID

__all__ = ["dq_report"]


def dq_report(
    spark: SparkSession, ctx: RunContext, *, run_id: str = "", top: int = 10, samples: int = 2
) -> str:
    """The report as text (empty lakehouse: says how to fill it)."""
    operations, metrics = ctx.table(OPS, OPERATIONS_TABLE), ctx.table(OPS, METRICS_TABLE)
    if not table_exists(spark, operations):
        return "no silver runs recorded yet: run the job first (medallion run)"
    runs = spark.read.table(operations).filter(F.col("kind") == "build")
    if run_id:
        runs = runs.filter(F.col("run_id") == run_id)
    else:
        newest = Window.partitionBy("table").orderBy(F.col("recorded_at").desc())
        runs = runs.filter("rows_read > 0").withColumn("_n", F.row_number().over(newest)).filter("_n = 1")
    runs = runs.select(
        "table",
        "run_id",
        "status",
        "rows_read",
        F.col("rows_written").alias("written"),
        F.col("rows_quarantined").alias("quarantined"),
        F.col("rows_duplicates").alias("duplicates"),
        F.col("rows_warned").alias("warned"),
        F.format_string(
            "%.2f%%", 100 * (1 - F.col("rows_quarantined") / F.greatest("rows_read", F.lit(1)))
        ).alias("pass_rate"),
    ).orderBy("table")
    chosen = [(r["table"], r["run_id"]) for r in runs.collect()]
    if not chosen:
        return f"no silver run {run_id!r} recorded" if run_id else "no silver run has read rows yet"
    parts = ["Rows per silver table (" + ("run " + run_id if run_id else "latest run of each") + ")"]
    parts.append(format_rows(runs, limit=10_000))
    if table_exists(spark, metrics):
        parts += [
            "",
            f"Top failing rules (up to {top})",
            _top_rules(spark, ctx, metrics, chosen, top, samples),
        ]
    return "\n".join(parts)


def _top_rules(
    spark: SparkSession, ctx: RunContext, metrics: str, chosen: list[tuple[str, str]], top: int, samples: int
) -> str:
    wanted = F.lit(False)
    for table, run in chosen:
        wanted = wanted | ((F.col("table") == table) & (F.col("run_id") == run))
    failing = (
        spark.read.table(metrics)
        .filter(wanted & ((F.col("rows_failed") + F.col("rows_warned")) > 0))
        .orderBy((F.col("rows_failed") + F.col("rows_warned")).desc(), "table", "rule")
        .limit(top)
        .collect()
    )
    if not failing:
        return "(no rule failed)"
    lines = []
    for m in failing:
        rows = m["rows_failed"] + m["rows_warned"]
        lines.append(
            f"{m['table']}.{m['rule']} ({m['function']}, {m['criticality']}): {rows} of {m['rows_checked']} rows, "
            f"pass rate {100 * m['pass_rate']:.2f}%"
        )
        for message in _examples(spark, ctx, m["table"], m["run_id"], m["rule"], m["criticality"], samples):
            lines.append(f"    e.g. {message}")
    return "\n".join(lines)


def _examples(
    spark: SparkSession, ctx: RunContext, table: str, run_id: str, rule: str, criticality: str, n: int
) -> list[str]:
    """DQX's messages for the rule (they quote the failing values), from quarantine or warnings."""
    target = SilverTarget(ctx.table("silver", table))
    source, column = (
        (target.quarantine, DQX_ERRORS) if criticality == "error" else (target.warnings, DQX_WARNINGS)
    )
    if not table_exists(spark, source):
        return []
    frame: DataFrame = spark.read.table(source)
    if column not in frame.columns:
        return []
    hits = (
        frame.filter(F.col(RUN_ID) == run_id)
        .select(F.explode(column).alias("e"))
        .filter(F.col("e.name") == rule)
        .select("e.message")
        .distinct()
        .limit(n)
    )
    return [r["message"] for r in hits.collect()]

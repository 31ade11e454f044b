"""The run records of the silver layer, as Delta tables in the silver schema:

- `silver_operations`: one row per table per run (or replay): every count, duration, status.
- `dq_metrics`: one row per rule per table per run: rows checked, failed, warned, pass rate.
- `dq_alerts`: one row per breached alert threshold.

Appends only, so tasks of one job writing at once never conflict, and history is kept for trends.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from medallion.context import RunContext
from medallion.layers.delta_io import creating

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.layers.metrics import TableRun
    from medallion.quality.alerts import Breach
    from medallion.quality.checks import QualityRun

__all__ = [
    "ALERTS_TABLE",
    "METRICS_TABLE",
    "OPERATIONS_TABLE",
    "new_run_id",
    "record_alerts",
    "record_metrics",
    "record_operation",
]

log = logging.getLogger(__name__)

OPERATIONS_TABLE = "silver_operations"
METRICS_TABLE = "dq_metrics"
ALERTS_TABLE = "dq_alerts"

_OPERATIONS_SCHEMA = (
    "run_id string, table string, kind string, status string, rows_read long, rows_written long, "
    "rows_quarantined long, rows_duplicates long, rows_warned long, seconds double, message string, "
    "recorded_at timestamp"
)
_METRICS_SCHEMA = (
    "run_id string, table string, rule string, function string, criticality string, on_error string, "
    "rows_checked long, rows_failed long, rows_warned long, pass_rate double, recorded_at timestamp"
)
_ALERTS_SCHEMA = (
    "run_id string, table string, rule string, metric string, value double, threshold double, "
    "action string, spec_row int, description string, recorded_at timestamp"
)


def new_run_id() -> str:
    """A run id for a run started outside a job (a notebook run by hand, the CLI)."""
    return f"manual-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def record_operation(
    spark: SparkSession, ctx: RunContext, run: TableRun, run_id: str, kind: str = "build", message: str = ""
) -> None:
    details = run.details
    row = (
        run_id, run.table, kind, run.status, run.rows_read, run.rows_written,
        int(details.get("quarantined", 0)), int(details.get("duplicates", 0)), int(details.get("warned", 0)),
        round(run.seconds, 3), message[:2000], _now(),
    )  # fmt: skip
    _append(spark, ctx, OPERATIONS_TABLE, _OPERATIONS_SCHEMA, [row])


def record_metrics(spark: SparkSession, ctx: RunContext, quality: QualityRun) -> None:
    """Per-rule results of the run; rules that found nothing are recorded too (pass rate 1.0)."""
    checked = quality.rows_checked
    if not checked:
        return
    now = _now()
    rows = []
    for rule in quality.rules:
        failed, warned = quality.failed.get(rule.name, 0), quality.warned.get(rule.name, 0)
        rate = 1.0 - (failed + warned) / checked
        rows.append(
            (quality.run_id, quality.table.table, rule.name, rule.function, rule.criticality, rule.on_error,
             checked, failed, warned, round(rate, 6), now)
        )  # fmt: skip
    if rows:
        _append(spark, ctx, METRICS_TABLE, _METRICS_SCHEMA, rows)


def record_alerts(spark: SparkSession, ctx: RunContext, run_id: str, breaches: list[Breach]) -> None:
    now = _now()
    rows = [
        (run_id, b.table, b.rule, b.metric, float(b.value), float(b.threshold), b.alert.action, b.alert.row,
         b.alert.description, now)
        for b in breaches
    ]  # fmt: skip
    if rows:
        _append(spark, ctx, ALERTS_TABLE, _ALERTS_SCHEMA, rows)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _append(spark: SparkSession, ctx: RunContext, name: str, schema: str, rows: list[tuple]) -> None:
    table = ctx.table("silver", name)
    frame = spark.createDataFrame(rows, schema)
    creating(lambda: frame.write.format("delta").mode("append").saveAsTable(table))
    log.info("%d row(s) recorded in %s", len(rows), table)

"""The data-quality run records, in the ops schema next to `run_log`:

- `dq_metrics`: one row per rule per table per run: rows checked, failed, warned, pass rate.
- `dq_alerts`: one row per breached alert threshold.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from medallion.context import RunContext
from medallion.delta.run_records import append_records, now
from medallion.names import ALERTS_TABLE, METRICS_TABLE, RECORD_TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.quality.alerts import Breach
    from medallion.quality.checks import QualityRun

__all__ = ["record_alerts", "record_metrics"]

log = logging.getLogger(__name__)

_METRICS_SCHEMA = RECORD_TABLES[METRICS_TABLE]
_ALERTS_SCHEMA = RECORD_TABLES[ALERTS_TABLE]


def record_metrics(spark: SparkSession, ctx: RunContext, quality: QualityRun) -> None:
    """Per-rule results of the run; rules that found nothing are recorded too (pass rate 1.0)."""
    checked = quality.rows_checked
    if not checked:
        return
    stamp = now()
    rows = []
    for rule in quality.rules:
        failed, warned = quality.failed.get(rule.name, 0), quality.warned.get(rule.name, 0)
        rate = 1.0 - (failed + warned) / checked
        rows.append(
            (quality.run_id, quality.table.table, rule.name, rule.function, rule.criticality, rule.on_error,
             checked, failed, warned, round(rate, 6), stamp)
        )  # fmt: skip
    append_records(spark, ctx, METRICS_TABLE, _METRICS_SCHEMA, rows)


def record_alerts(spark: SparkSession, ctx: RunContext, run_id: str, breaches: list[Breach]) -> None:
    stamp = now()
    rows = [
        (run_id, b.table, b.rule, b.metric, float(b.value), float(b.threshold), b.alert.action, b.alert.row,
         b.alert.description, stamp)
        for b in breaches
    ]  # fmt: skip
    append_records(spark, ctx, ALERTS_TABLE, _ALERTS_SCHEMA, rows)

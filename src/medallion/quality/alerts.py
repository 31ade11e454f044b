"""Alert thresholds (specs/data_quality/dq_alerting.csv) checked against a run's rule metrics.

A breached `fail` alert fails the silver task before gold (the job's failure notifications fire);
a breached `notify` alert is recorded in `dq_alerts` and logged; the data flows on, and the job's
last task (`dq_alerts`, notebooks/40_dq_alerts.py) fails with the list, so the team is notified
through the job's notifications after the tables are built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from medallion.context import OPS, RunContext
from medallion.delta.tables import table_exists
from medallion.errors import DataQualityError
from medallion.names import ALERTS_TABLE, FRESHNESS_RULE
from medallion.specs.kinds.freshness import FRESHNESS_FILE
from medallion.specs.model import QualityAlert

__all__ = ["Breach", "evaluate", "notify_breaches", "raise_for_failures", "raise_for_notifications"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Breach:
    alert: QualityAlert
    table: str
    rule: str
    metric: str  # pass_rate | failed_rows
    value: float
    threshold: float

    def __str__(self) -> str:
        if self.metric == "pass_rate":
            return f"{self.table}.{self.rule}: pass rate {self.value:.2%} below {self.threshold:.2%}"
        return f"{self.table}.{self.rule}: {int(self.value)} failed rows, more than {int(self.threshold)}"


def evaluate(
    alerts: tuple[QualityAlert, ...], table: str, rows_checked: int, failed: dict[str, int]
) -> list[Breach]:
    """Breaches for one table's run: `failed` maps each rule name to its failing rows."""
    breaches = []
    if not rows_checked:
        return breaches
    for alert in alerts:
        for rule, count in sorted(failed.items()):
            if not alert.matches(table, rule):
                continue
            rate = 1.0 - count / rows_checked
            if alert.min_pass_rate is not None and rate < alert.min_pass_rate:
                breaches.append(Breach(alert, table, rule, "pass_rate", rate, alert.min_pass_rate))
            if alert.max_failed_rows is not None and count > alert.max_failed_rows:
                breaches.append(Breach(alert, table, rule, "failed_rows", count, alert.max_failed_rows))
    for breach in breaches:
        log.warning("data-quality alert (%s): %s", breach.alert.action, breach)
    return breaches


def raise_for_failures(breaches: list[Breach]) -> None:
    """Fail the task when a breached alert says so; the message lists every such breach."""
    failing = [b for b in breaches if b.alert.action == "fail"]
    if failing:
        shown = "; ".join(f"{b} ({b.alert.file}:{b.alert.row})" for b in failing)
        files = ", ".join(sorted({b.alert.file for b in failing}))
        raise DataQualityError(
            f"data-quality alert with action fail: {shown}. The rows are in quarantine; fix the source or "
            f"the rule, then `medallion requeue <table>`; or relax the threshold in {files}"
        )


def notify_breaches(spark: SparkSession, ctx: RunContext, run_id: str) -> list[str]:
    """The `notify` alerts recorded for `run_id`, as lines (empty when none or no record yet)."""
    name = ctx.table(OPS, ALERTS_TABLE)
    if not run_id or not table_exists(spark, name):
        return []
    rows = (
        spark.read.table(name)
        .filter((F.col("run_id") == run_id) & (F.col("action") == "notify"))
        .orderBy("table", "rule", "metric")
        .collect()
    )
    return [
        f"{r['table']}.{r['rule']}: {r['metric']} {r['value']:.4g} (threshold {r['threshold']:.4g}, "
        f"{FRESHNESS_FILE if r['rule'] == FRESHNESS_RULE else 'dq_alerting.csv'} row {r['spec_row']}"
        f"{': ' + r['description'] if r['description'] else ''})"
        for r in rows
    ]


def raise_for_notifications(lines: list[str]) -> None:
    """Fail the alerts task so the job's failure notification carries the breached alerts."""
    if lines:
        raise DataQualityError(
            f"{len(lines)} data-quality or freshness alert(s) with action notify in this run (the data was loaded): "
            + "; ".join(lines)
        )

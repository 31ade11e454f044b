"""Alert thresholds (specs/data_quality/dq_alerting.csv) checked against a run's rule metrics.

A breached `fail` alert fails the silver task (the job's failure notifications fire); a breached
`notify` alert is recorded in `dq_alerts` and logged, and the job's `dq_alerts` task reports it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from medallion.errors import DataQualityError
from medallion.specs.model import QualityAlert

__all__ = ["Breach", "evaluate", "raise_for_failures"]

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


def raise_for_failures(breaches: list[Breach], alerts_file: str) -> None:
    """Fail the task when a breached alert says so; the message lists every such breach."""
    failing = [b for b in breaches if b.alert.action == "fail"]
    if failing:
        shown = "; ".join(f"{b} ({alerts_file}:{b.alert.row})" for b in failing)
        raise DataQualityError(
            f"data-quality alert with action fail: {shown}. The rows are in quarantine; fix the source or "
            f"the rule, then `medallion requeue <table>`; or relax the threshold in {alerts_file}"
        )

"""Freshness SLAs (specs/freshness.csv) checked at the end of a run, with the alerts' actions.

A table's age is the time since its last commit that wrote rows (OPTIMIZE, VACUUM and property
changes do not count): a run with nothing new commits nothing, so the age grows until data arrives.
A table that does not exist yet is stale. Breaches go to `dq_alerts` (rule `freshness`, metric
`age_hours`) beside the quality alerts, so the alerts task and the health dashboard report both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.run_records import append_records, now
from medallion.delta.tables import last_write
from medallion.errors import DataQualityError
from medallion.names import ALERTS_TABLE, FRESHNESS_RULE, RECORD_TABLES
from medallion.specs.kinds.freshness import FRESHNESS_FILE, FreshnessSla

__all__ = ["Staleness", "check_freshness", "raise_for_stale"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Staleness:
    sla: FreshnessSla
    age_hours: float | None  # None: the table has no rows written yet

    def __str__(self) -> str:
        limit = self.sla.max_age_minutes / 60
        age = "never written" if self.age_hours is None else f"last written {self.age_hours:.1f}h ago"
        return f"{self.sla.table}: {age}, more than {limit:g}h ({FRESHNESS_FILE} row {self.sla.row})"


def check_freshness(
    spark: SparkSession, ctx: RunContext, slas: list[FreshnessSla], run_id: str, at: datetime | None = None
) -> list[Staleness]:
    """The SLAs breached at `at` (default: now, UTC), recorded in dq_alerts for `run_id`."""
    at = at or now()
    stale = []
    for sla in slas:
        commit = last_write(spark, ctx.table(sla.layer, sla.name))
        written = commit["timestamp"] if commit else None
        age = None if written is None else (at - written).total_seconds() / 3600
        if age is None or age * 60 > sla.max_age_minutes:
            stale.append(Staleness(sla, age))
            log.warning("freshness alert (%s): %s", sla.action, stale[-1])
    if stale:
        stamp = now()
        rows = [
            (run_id, s.sla.table, FRESHNESS_RULE, "age_hours", float("inf") if s.age_hours is None else s.age_hours,
             s.sla.max_age_minutes / 60, s.sla.action, s.sla.row, s.sla.description, stamp)
            for s in stale
        ]  # fmt: skip
        append_records(spark, ctx, ALERTS_TABLE, RECORD_TABLES[ALERTS_TABLE], rows)
    return stale


def raise_for_stale(stale: list[Staleness]) -> None:
    """Fail the task for SLAs with action fail; notify ones are reported with the quality alerts."""
    failing = [s for s in stale if s.sla.action == "fail"]
    if failing:
        raise DataQualityError(
            f"freshness SLA with action fail: {'; '.join(str(s) for s in failing)}. Check the source "
            "feed and the job runs that should have loaded it (`medallion history <table>`), or raise "
            f"max_age in {FRESHNESS_FILE}"
        )

"""One micro-batch of bronze rows through a silver table: conform, data-quality rules, writer.

The silver build runs it for every batch of its bronze stream; `medallion requeue` runs it once for
the quarantined rows it replays. Both start the table's rules the same way (`quality_run`).
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession

from medallion.delta.side_tables import rule_reason, write_quarantine, write_warnings
from medallion.delta.silver_tables import SilverTarget
from medallion.errors import DataError
from medallion.layers.transforms import conform
from medallion.layers.writers import WRITERS
from medallion.names import QUARANTINE_REASON
from medallion.quality.checks import QualityRun, check_batch, start_quality_run, with_source_row
from medallion.specs.model import SilverSpec

__all__ = ["check_conservation", "process_batch", "quality_run"]

log = logging.getLogger(__name__)


def quality_run(spark: SparkSession, table: SilverSpec, target: SilverTarget, run_id: str) -> QualityRun:
    """The table's rules for one build or replay, `ref_table` names resolved next to the table."""
    return start_quality_run(spark, table, run_id, resolve_table=target.neighbour)


def process_batch(
    spark: SparkSession,
    batch: DataFrame,
    batch_id: int,
    table: SilverSpec,
    target: SilverTarget,
    quality: QualityRun,
) -> dict[str, int]:
    """One micro-batch of bronze rows: conform, apply the data-quality rules, write.

    Rows failing a rule go to the quarantine (with the source row and DQX's errors) before the
    writer sees the batch, so they never reach the table or its history. Returns counts: `read`,
    `quarantined`, `duplicates`, `warned`, `written` and the writer's own counts; raises DataError
    when they do not add up (read = written + quarantined + duplicates).
    """
    writer = WRITERS[table.load_pattern]
    # Not cached: the checked rows are (check_batch), and counting them counts what was read.
    rows = batch.transform(with_source_row).transform(conform(table))
    counts: dict[str, int] = {}
    checked = None
    try:
        checked = check_batch(quality, rows)
        counts["read"] = checked.n_rows
        rejected = checked.rejected.withColumn(QUARANTINE_REASON, rule_reason())
        counts["quarantined"] = write_quarantine(
            rejected, target, batch_id, part="rules", count=checked.n_rejected
        )
        counts["warned"] = write_warnings(checked.warned, target, batch_id, count=checked.n_warned)
        for key, value in writer(spark, checked.valid, table, target, batch_id).items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    finally:
        if checked is not None:
            checked.release()
    counts["written"] = counts.pop("accepted", 0)
    counts.setdefault("duplicates", 0)
    check_conservation(table, batch_id, counts)
    return counts


def check_conservation(table: SilverSpec, batch_id: int, counts: dict[str, int]) -> None:
    """Every bronze row is written, quarantined or a counted duplicate: nothing vanishes."""
    accounted = counts["written"] + counts["quarantined"] + counts["duplicates"]
    if accounted != counts["read"]:
        raise DataError(
            f"silver table {table.table}, batch {batch_id}: row conservation broken: read {counts['read']} "
            f"bronze rows but written {counts['written']} + quarantined {counts['quarantined']} + "
            f"duplicates {counts['duplicates']} = {accounted}. This is a bug in the load pattern "
            f"{table.load_pattern!r}; the batch is not committed and will be retried on the next run"
        )

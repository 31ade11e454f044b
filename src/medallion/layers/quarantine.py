"""`<table>_quarantine`: rows a silver table cannot take, kept with the reason instead of dropped;
`<table>_dq_warnings`: rows that passed with data-quality warnings, kept with the warnings.

Each write is keyed by the silver table's incarnation, the batch and a `part` name (one batch may
quarantine for several reasons), so a replayed batch never quarantines a row twice. Rows failing
data-quality rules keep the bronze row as read (`_source_row`) and DQX's `_errors`/`_warnings`,
which is what `medallion requeue` replays.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from medallion.layers.delta_io import creating
from medallion.layers.silver_tables import SilverTarget
from medallion.layers.transforms import DELETE_FLAG

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["REASON_COLUMN", "RUN_ID_COLUMN", "rule_reason", "write_quarantine", "write_warnings"]

log = logging.getLogger(__name__)

REASON_COLUMN = "_quarantine_reason"
RUN_ID_COLUMN = "_run_id"


def rule_reason(errors_column: str = "_errors"):
    """The quarantine reason of rows failing rules: `rules: a, b` (the failed rules' names)."""
    from pyspark.sql import functions as F

    names = F.array_distinct(F.transform(F.col(errors_column), lambda e: e["name"]))
    return F.concat(F.lit("rules: "), F.array_join(names, ", "))


def write_quarantine(
    rows: DataFrame, target: SilverTarget, batch_id: int, part: str, count: int | None = None
) -> int:
    """Append `rows` (conformed columns + `_quarantine_reason`) to the quarantine; returns how many.

    `count`, when the caller knows it, saves counting the rows again.
    """
    return _append(rows, target, target.quarantine, batch_id, part, count, "_quarantined_at")


def write_warnings(rows: DataFrame, target: SilverTarget, batch_id: int, count: int | None = None) -> int:
    """Append rows that passed with warnings (with `_warnings`) to `<table>_dq_warnings`."""
    return _append(rows, target, target.warnings, batch_id, "warnings", count, "_warned_at")


def _append(
    rows: DataFrame,
    target: SilverTarget,
    table: str,
    batch_id: int,
    part: str,
    count: int | None,
    stamp: str,
) -> int:
    from pyspark.sql import functions as F

    count = rows.count() if count is None else count
    if not count:
        return 0
    out = (
        rows.drop(DELETE_FLAG)
        .withColumn("_batch_id", F.lit(batch_id))
        .withColumn(RUN_ID_COLUMN, F.lit(target.run_id))
        .withColumn(stamp, F.current_timestamp())
    )
    writer = (
        out.write.format("delta")
        .mode("append")
        .option("mergeSchema", "true")
        .option("txnAppId", f"{target.txn_app_id(table)}:{part}")
        .option("txnVersion", str(batch_id))
    )
    creating(lambda: writer.saveAsTable(table))
    log.warning("silver %s: %d rows to %s (%s)", target.name, count, table, part)
    return count

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

from pyspark.sql import Column
from pyspark.sql import functions as F

from medallion.delta.silver_tables import SilverTarget
from medallion.delta.tables import creating, table_exists
from medallion.names import BATCH_ID, DQX_ERRORS, IS_DELETE, QUARANTINED_AT, RUN_ID, WARNED_AT

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["rule_reason", "write_quarantine", "write_warnings"]

log = logging.getLogger(__name__)


def rule_reason(errors_column: str = DQX_ERRORS) -> Column:
    """The quarantine reason of rows failing rules: `rules: a, b` (the failed rules' names)."""
    names = F.array_distinct(F.transform(F.col(errors_column), lambda e: e["name"]))
    return F.concat(F.lit("rules: "), F.array_join(names, ", "))


def write_quarantine(
    rows: DataFrame, target: SilverTarget, batch_id: int, part: str, count: int | None = None
) -> int:
    """Append `rows` (conformed columns + `_quarantine_reason`) to the quarantine; returns how many.

    `count`, when the caller knows it, saves counting the rows again.
    """
    return _append(rows, target, target.quarantine, batch_id, part, count, QUARANTINED_AT)


def write_warnings(rows: DataFrame, target: SilverTarget, batch_id: int, count: int | None = None) -> int:
    """Append rows that passed with warnings (with `_warnings`) to `<table>_dq_warnings`."""
    return _append(rows, target, target.warnings, batch_id, "warnings", count, WARNED_AT)


def _append(
    rows: DataFrame,
    target: SilverTarget,
    table: str,
    batch_id: int,
    part: str,
    count: int | None,
    stamp: str,
) -> int:
    count = rows.count() if count is None else count
    if not count:
        return 0
    out = (
        rows.drop(IS_DELETE)
        .withColumn(BATCH_ID, F.lit(batch_id))
        .withColumn(RUN_ID, F.lit(target.run_id))
        .withColumn(stamp, F.current_timestamp())
    )
    guard = target.guard
    if guard is not None and guard.protects(table) and not table_exists(out.sparkSession, table):
        # Created empty and protected first: no row is ever readable without its masks.
        creating(lambda: out.limit(0).write.format("delta").mode("append").saveAsTable(table))
        guard(table, created=True)
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

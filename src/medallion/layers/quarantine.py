"""`<table>_quarantine`: rows a silver table cannot take, kept with the reason instead of dropped.

Each write is keyed by the silver table's incarnation, the batch and a `part` name (one batch may
quarantine for several reasons), so a replayed batch never quarantines a row twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from medallion.layers.delta_io import creating
from medallion.layers.silver_tables import SilverTarget
from medallion.layers.transforms import DELETE_FLAG

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["REASON_COLUMN", "write_quarantine"]

log = logging.getLogger(__name__)

REASON_COLUMN = "_quarantine_reason"


def write_quarantine(
    rows: DataFrame, target: SilverTarget, batch_id: int, part: str, count: int | None = None
) -> int:
    """Append `rows` (conformed columns + `_quarantine_reason`) to the quarantine; returns how many.

    `count`, when the caller knows it, saves counting the rows again.
    """
    from pyspark.sql import functions as F

    count = rows.count() if count is None else count
    if not count:
        return 0
    out = (
        rows.drop(DELETE_FLAG)
        .withColumn("_batch_id", F.lit(batch_id))
        .withColumn("_quarantined_at", F.current_timestamp())
    )
    writer = (
        out.write.format("delta")
        .mode("append")
        .option("mergeSchema", "true")
        .option("txnAppId", f"{target.txn_app_id(target.quarantine)}:{part}")
        .option("txnVersion", str(batch_id))
    )
    creating(lambda: writer.saveAsTable(target.quarantine))
    log.warning("silver %s: %d rows quarantined (%s)", target.name, count, part)
    return count

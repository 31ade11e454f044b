"""`medallion history <table>`: a table's Delta versions with the run that wrote each (the run id
each commit carries, else the run records), the rows written, and what each took in: for a gold table
the silver versions it was built from (the stamp each gold build stores in its commit), for bronze and
silver its lineage rows (landing files, bronze versions)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from delta.tables import DeltaTable

from medallion.context import OPS
from medallion.delta.lineage import describe, lineage_rows
from medallion.delta.run_marks import ROWS_KEY, commit_run_id
from medallion.delta.tables import UPKEEP_OPERATIONS, table_exists
from medallion.names import OPERATIONS_TABLE

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.context import RunContext

__all__ = ["HISTORY_COLUMNS", "table_history"]

HISTORY_COLUMNS = "version long, committed_at timestamp, operation string, rows_written long, run_id string, upstream string"
_ROWS = ("numOutputRows", "numTargetRowsInserted", "numAddedRows")  # what a write, MERGE or stream reports


def _rows(metrics: dict[str, str] | None) -> int | None:
    for key in _ROWS:
        if metrics and metrics.get(key) is not None:
            return int(metrics[key])
    return None


def _stamped_rows(metadata: str | None) -> int | None:
    """Rows a write stored in its own stamp (a gold refresh by key: Delta's metrics lack them)."""
    try:
        stamp = json.loads(metadata or "{}")
    except ValueError:
        return None
    rows = stamp.get(ROWS_KEY) if isinstance(stamp, dict) else None
    return int(rows) if isinstance(rows, int) else None


def _upstream(metadata: str | None) -> str:
    """`silver.t@v, ...` from a gold build's stamp ("" for other commits)."""
    try:
        stamp = json.loads(metadata or "{}")
    except ValueError:
        return ""
    versions = stamp.get("medallion_upstream") if isinstance(stamp, dict) else None
    if not isinstance(versions, dict):
        return ""
    return ", ".join(f"{table}@{version}" for table, version in sorted(versions.items()))


def table_history(
    spark: SparkSession, ctx: RunContext, layer: str, table: str, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest `limit` versions of `layer.table`, newest first. A version's run is the next run
    recorded for the table after its commit (a build records itself once its commits are done): the
    maintenance run's for OPTIMIZE and VACUUM, the build's for the others."""
    name = ctx.table(layer, table)
    commits = [r.asDict(recursive=True) for r in DeltaTable.forName(spark, name).history(limit).collect()]
    records: list[dict[str, Any]] = []
    operations = ctx.table(OPS, OPERATIONS_TABLE)
    if table_exists(spark, operations):
        wanted = f"`table` IN ('{table}', '{layer}.{table}')"
        records = [
            r.asDict()
            for r in spark.table(operations).where(wanted).select("run_id", "kind", "recorded_at").collect()
        ]
    records.sort(key=lambda r: r["recorded_at"])
    lineage = lineage_rows(spark, ctx, f"{layer}.{table}") if layer != "gold" else {}
    history = []
    for commit in commits:
        upkeep = commit["operation"] in UPKEEP_OPERATIONS
        run = commit_run_id(commit) or next(  # the commit's own mark; else the next run recorded
            (
                r["run_id"]
                for r in records
                if r["recorded_at"] >= commit["timestamp"] and (r["kind"] == "maintenance") == upkeep
            ),
            None,
        )
        rows = _rows(commit.get("operationMetrics"))
        history.append(
            {
                "version": int(commit["version"]),
                "committed_at": commit["timestamp"],
                "operation": commit["operation"],
                "rows_written": rows if rows is not None else _stamped_rows(commit.get("userMetadata")),
                "run_id": run,
                "upstream": _upstream(commit.get("userMetadata"))
                or describe(lineage.get(int(commit["version"]), [])),
            }
        )
    return history

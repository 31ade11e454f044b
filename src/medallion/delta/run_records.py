"""What a layer reports about one table in one run, and the run records kept as Delta tables.

`TableRun` is returned by every layer function and handed to the job as the notebook's exit value.
`run_log` keeps one row per table per task run (or replay): counts, duration, status, and what each
version written took in (its `lineage` column; the `lineage` view has one row per input,
`medallion.delta.lineage`).
Records are appends only, so tasks of one job writing at once never conflict, and history is kept
for trends. Data quality adds its own records (`medallion.quality.records`) through `append_records`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from medallion.context import OPS, RunContext
from medallion.delta.lineage import LineageEdge
from medallion.delta.literal_rows import literal_frame
from medallion.delta.tables import creating, table_exists
from medallion.names import LINEAGE_TABLE, LINEAGE_VIEW, OPERATIONS_TABLE, RECORD_TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "RECORD_TABLE_OPTIONS",
    "TableRun",
    "append_records",
    "ensure_lineage_view",
    "ensure_record_tables",
    "exit_value",
    "new_run_id",
    "now",
    "record_layer_runs",
    "record_operation",
    "timed",
]

log = logging.getLogger(__name__)

_OPERATIONS_SCHEMA = RECORD_TABLES[OPERATIONS_TABLE]
# Record tables take one small commit per table per run, so Delta's default checkpoint every 10
# commits came almost every job run, at 3 to 7 seconds each (run_log, `make bench`). A read replays at
# most 100 small commit files instead. Set when a table is created; later writes leave it alone.
RECORD_TABLE_OPTIONS = {"delta.checkpointInterval": "100"}


@dataclass
class TableRun:
    """Counts for one table in one run. `status` is ok, skipped (nothing new) or failed."""

    layer: str
    table: str
    rows_read: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    status: str = "ok"
    details: dict[str, int | str] = field(default_factory=dict)
    lineage: list[LineageEdge] = field(default_factory=list)  # recorded with the run, not returned

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("lineage")
        data["seconds"] = round(self.seconds, 3)
        return data


@contextmanager
def timed(run: TableRun) -> Iterator[TableRun]:
    """Fill `run.seconds` with the wall time of the block."""
    start = time.perf_counter()
    try:
        yield run
    finally:
        run.seconds = time.perf_counter() - start


def exit_value(runs: list[TableRun]) -> str:
    """The JSON a notebook passes to `dbutils.notebook.exit`; the job runner collects `tables`."""
    return json.dumps({"tables": [r.as_dict() for r in runs]})


def new_run_id() -> str:
    """A run id for a run started outside a job (a notebook run by hand, the CLI)."""
    return f"manual-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def record_operation(
    spark: SparkSession, ctx: RunContext, run: TableRun, run_id: str, kind: str = "build", message: str = ""
) -> None:
    """One `run_log` row (with its lineage) for a build or replay of one table."""
    append_records(
        spark, ctx, OPERATIONS_TABLE, _OPERATIONS_SCHEMA, [_operation_row(run, run_id, kind, message)]
    )
    if run.lineage:
        ensure_lineage_view(spark, ctx)


def record_layer_runs(spark: SparkSession, ctx: RunContext, runs: list[TableRun], run_id: str) -> None:
    """`run_log` rows (with their lineage) for a bronze or gold task's tables (kind = their layer), in
    one append; tables that had nothing to do are left out, so a run with nothing new writes nothing."""
    done = [r for r in runs if r.status != "skipped"]
    rows = [_operation_row(r, run_id, r.layer, r.details.get("error", "")) for r in done]
    append_records(spark, ctx, OPERATIONS_TABLE, _OPERATIONS_SCHEMA, rows)
    if any(r.lineage for r in done):
        ensure_lineage_view(spark, ctx)


def ensure_record_tables(spark: SparkSession, ctx: RunContext) -> None:
    """Create the missing record tables and the lineage view before tasks run side by side: two
    tasks creating the same table or view at once make one of them fail or the metastore log an
    error (`AlreadyExistsException`), though nothing is lost."""
    for name, schema in RECORD_TABLES.items():
        if name == LINEAGE_TABLE:  # a view over run_log (`ensure_lineage_view`), never a table
            continue
        table = ctx.table(OPS, name)
        if not table_exists(spark, table):
            frame = literal_frame(spark, [], schema)
            writer = frame.write.format("delta").options(**RECORD_TABLE_OPTIONS)
            creating(lambda writer=writer, table=table: writer.saveAsTable(table))
    ensure_lineage_view(spark, ctx)


def ensure_lineage_view(spark: SparkSession, ctx: RunContext) -> None:
    """The `lineage` view over run_log (lineage rides on the run's own record: no second write)."""
    view = ctx.table(OPS, LINEAGE_TABLE)
    if not table_exists(spark, view):
        spark.sql(
            f"CREATE VIEW IF NOT EXISTS {view} AS "
            + LINEAGE_VIEW.format(run_log=ctx.table(OPS, OPERATIONS_TABLE))
        )


def _operation_row(run: TableRun, run_id: str, kind: str, message: str) -> tuple:
    details = run.details
    lineage = [(f"{run.layer}.{run.table}", e.version, e.upstream, e.first, e.last) for e in run.lineage]
    return (
        run_id or new_run_id(), run.table, kind, run.status, run.rows_read, run.rows_written,
        int(details.get("quarantined", 0)), int(details.get("duplicates", 0)), int(details.get("warned", 0)),
        round(run.seconds, 3), str(message)[:2000], now(), lineage,
    )  # fmt: skip


def now() -> datetime:
    """The time stamped on records (UTC, without a zone: Spark's TIMESTAMP in a UTC session)."""
    return datetime.now(UTC).replace(tzinfo=None)


def append_records(spark: SparkSession, ctx: RunContext, name: str, schema: str, rows: list[tuple]) -> None:
    """Append `rows` (DDL `schema`) to the record table `name` in the ops schema."""
    if not rows:
        return
    table = ctx.table(OPS, name)
    frame = literal_frame(spark, rows, schema)  # no Python workers: a second less per append
    # mergeSchema: a record table written by an older version gains the new columns
    writer = frame.write.format("delta").mode("append").option("mergeSchema", "true")
    creating(lambda: writer.options(**RECORD_TABLE_OPTIONS).saveAsTable(table))
    log.info("%d row(s) recorded in %s", len(rows), table)

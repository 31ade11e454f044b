"""Bronze: each landing file ingested exactly once into an append-only Delta table.

On Databricks the stream is Auto Loader (`cloudFiles`); locally it is Spark's file stream
source. Both run with `trigger(availableNow=True)` and a checkpoint, so a rerun ingests nothing and
a new drop ingests only its new files. Every row keeps where it came from (`_source_file`), when it
arrived (`_ingested_at`) and whatever did not fit the declared schema (`_rescued_data`).
"""

from __future__ import annotations

import logging
import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.context import RunContext
from medallion.delta.run_records import TableRun, timed
from medallion.environment import on_databricks
from medallion.names import INGESTED_AT, RESCUED_DATA, SOURCE_FILE
from medallion.specs.model import BronzeSpec

__all__ = ["ingest", "source_schema_ddl"]

log = logging.getLogger(__name__)


def source_schema_ddl(source: BronzeSpec) -> str:
    """The declared columns as a DDL string, plus the rescued-data column."""
    columns = [f"`{c.name}` {c.data_type}" for c in source.columns]
    return ", ".join([*columns, f"`{RESCUED_DATA}` string"])


def ingest(spark: SparkSession, source: BronzeSpec, ctx: RunContext) -> TableRun:
    """Ingest the new files of one landing folder into its bronze table."""
    run = TableRun(layer="bronze", table=source.table)
    target = ctx.table("bronze", source.table)
    landing = ctx.landing(source.landing_folder)
    with timed(run):
        if not _has_files(landing):
            log.warning("no files in %s yet; %s stays as it is", landing, target)
            _create_empty(spark, source, target)
            run.status = "skipped"
            run.details["reason"] = f"no files in {landing}"
            return run
        stream = _read_stream(spark, source, ctx, landing).transform(_with_audit_columns)
        query = (
            stream.writeStream.format("delta")
            .option("checkpointLocation", ctx.checkpoint("bronze", source.table))
            .queryName(f"bronze_{source.table}")
            .trigger(availableNow=True)
            .toTable(target)
        )
        query.awaitTermination()
        rows = sum(int(p.get("numInputRows", 0)) for p in query.recentProgress)
        run.rows_read = run.rows_written = rows
        if rows == 0:
            run.status = "skipped"
            run.details["reason"] = "no new files"
    log.info("bronze %s: %d new rows in %.1fs", source.table, run.rows_written, run.seconds)
    return run


def _read_stream(spark: SparkSession, source: BronzeSpec, ctx: RunContext, landing: str) -> DataFrame:
    ddl = source_schema_ddl(source)
    if on_databricks():
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", source.format)
            .option("cloudFiles.schemaLocation", ctx.checkpoint("bronze", f"{source.table}/_schema"))
            .option("rescuedDataColumn", RESCUED_DATA)
            .schema(ddl.rsplit(", ", 1)[0])
        )
    else:
        reader = (
            spark.readStream.format(source.format)
            .schema(ddl)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", RESCUED_DATA)
        )
    return reader.options(**source.reader_options).load(landing)


def _with_audit_columns(df: DataFrame) -> DataFrame:
    return df.withColumn(SOURCE_FILE, F.col("_metadata.file_path")).withColumn(
        INGESTED_AT, F.current_timestamp()
    )


def _has_files(folder: str) -> bool:
    """True when the folder holds at least one non-hidden file (works for /Volumes paths too)."""
    if not os.path.isdir(folder):
        return False
    return any(not name.startswith((".", "_")) for name in os.listdir(folder))


def _create_empty(spark: SparkSession, source: BronzeSpec, target: str) -> None:
    """Create the bronze table from its declared schema, so silver and gold can plan against it."""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {target} ({source_schema_ddl(source)}, "
        f"`{SOURCE_FILE}` string, `{INGESTED_AT}` timestamp) USING DELTA"
    )

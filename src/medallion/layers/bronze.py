"""Bronze: each landing file ingested exactly once into an append-only Delta table.

On Databricks the stream is Auto Loader (`cloudFiles`); locally Spark's file stream source finds the
new files and `bronze_read` reads them by field name. Both run with `trigger(availableNow=True)` and
a checkpoint, so a rerun ingests nothing and a new drop ingests only its new files. Every row keeps
where it came from (`_source_file`), when it arrived (`_ingested_at`) and whatever did not fit the
declared schema (`_rescued_data`).

Fields a file has that the spec does not declare follow the source's `schema_evolution` policy:
`rescue` keeps them in `_rescued_data` (the row loads), `add_columns` adds them to the bronze table,
`fail` stops before anything of the drop is written. On Databricks these are Auto Loader's
`cloudFiles.schemaEvolutionMode` rescue, addNewColumns and failOnNewColumns.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.context import RunContext
from medallion.delta.lineage import batch_commits, edges_by_batch
from medallion.delta.run_marks import batch_marked, current_run_id, snapshot_checkpoint
from medallion.delta.run_records import TableRun, timed
from medallion.delta.streams import run_batches
from medallion.environment import on_databricks
from medallion.errors import SchemaDriftError
from medallion.layers.bronze_read import MALFORMED, NEW_FIELDS, read_by_name
from medallion.logs import for_table
from medallion.names import HIDDEN_FILE_PREFIXES, INGESTED_AT, RESCUED_DATA, SOURCE_FILE
from medallion.specs.kinds.tables import BRONZE_FILE
from medallion.specs.model import BronzeSpec

__all__ = ["WRITER_ID_FILE", "auto_loader_options", "ingest", "source_schema_ddl"]

WRITER_ID_FILE = "_bronze_writer_id"  # in the checkpoint folder: the txnAppId of its Delta appends
# Auto Loader's cloudFiles.schemaEvolutionMode for each `schema_evolution` policy.
AUTO_LOADER_MODES = {"rescue": "rescue", "add_columns": "addNewColumns", "fail": "failOnNewColumns"}

log = logging.getLogger(__name__)


def source_schema_ddl(source: BronzeSpec) -> str:
    """The declared columns as a DDL string, plus the rescued-data column."""
    columns = [f"`{c.name}` {c.data_type}" for c in source.columns]
    return ", ".join([*columns, f"`{RESCUED_DATA}` string"])


@for_table("bronze")
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
        snapshot_checkpoint(
            spark, ctx.checkpoint_root, ctx.checkpoint("bronze", source.table)
        )  # for a rollback
        files: dict[int, list[str]] = {}  # batch id -> the landing files it wrote
        if on_databricks():
            _auto_loader(spark, source, ctx, landing, target, files)
        else:
            _by_name(spark, source, ctx, landing, target, files)
        # Rows from the batches' own commits: counting them would cost another pass over each batch.
        commits = batch_commits(spark, target, set(files), current_run_id(spark))
        versions = {batch: [int(c["version"]) for c in found] for batch, found in commits.items()}
        run.lineage = edges_by_batch(versions, {b: [(f,) for f in names] for b, names in files.items()})
        rows = sum(_rows_written(c) for found in commits.values() for c in found)
        run.rows_read = run.rows_written = rows
        if rows == 0:
            run.status = "skipped"
            run.details["reason"] = "no new files"
    log.info("bronze %s: %d new rows in %.1fs", source.table, run.rows_written, run.seconds)
    return run


def auto_loader_options(source: BronzeSpec, schema_location: str) -> dict[str, str]:
    """Auto Loader's options for a source: its format, schema location and evolution mode.

    `add_columns` gives the declared columns as schema hints (Auto Loader refuses addNewColumns with
    a fixed schema); the other policies read with the declared schema (`_auto_loader`).
    """
    options = {
        "cloudFiles.format": source.format,
        "cloudFiles.schemaLocation": schema_location,
        "cloudFiles.schemaEvolutionMode": AUTO_LOADER_MODES[source.schema_evolution],
        "rescuedDataColumn": RESCUED_DATA,
    }
    if source.schema_evolution == "add_columns":
        options["cloudFiles.schemaHints"] = source_schema_ddl(source).rsplit(", ", 1)[0]
    return {**options, **source.reader_options}


def _auto_loader(
    spark: SparkSession, source: BronzeSpec, ctx: RunContext, landing: str, target: str, files: dict
) -> None:
    """On Databricks: Auto Loader finds and reads the new files; each micro-batch is appended like the
    local ones (idempotent, its files noted for the lineage)."""
    checkpoint = ctx.checkpoint("bronze", source.table)
    options = auto_loader_options(source, ctx.checkpoint("bronze", f"{source.table}/_schema"))
    reader = spark.readStream.format("cloudFiles").options(**options)
    if source.schema_evolution != "add_columns":
        reader = reader.schema(source_schema_ddl(source).rsplit(", ", 1)[0])
    app_id = _writer_id(checkpoint)

    def process(batch: DataFrame, batch_id: int) -> None:
        batch = batch.persist()  # read twice: its files, then the append
        try:
            names = sorted(r[0] for r in batch.select(SOURCE_FILE).distinct().collect())
            if names:
                _append(spark, batch, target, app_id, batch_id, source.schema_evolution == "add_columns")
                files[batch_id] = names
        finally:
            batch.unpersist()

    run_batches(
        reader.load(landing).transform(_with_audit_columns), process, checkpoint, f"bronze_{source.table}"
    )


def _by_name(
    spark: SparkSession, source: BronzeSpec, ctx: RunContext, landing: str, target: str, files: dict
) -> None:
    """Locally: the file stream finds the new files of each micro-batch; `read_by_name` reads them; an
    idempotent Delta append (txnAppId/txnVersion) writes them, so a rerun of a batch writes nothing."""
    checkpoint = ctx.checkpoint("bronze", source.table)
    app_id = _writer_id(checkpoint)

    def process(batch: DataFrame, batch_id: int) -> None:
        names = sorted(r[0] for r in batch.distinct().collect())
        if names:
            _write_files(spark, source, target, names, app_id, batch_id)
            files[batch_id] = names

    new_files = (
        spark.readStream.format("text")
        .options(**source.reader_options)  # file filters (pathGlobFilter, recursiveFileLookup...) apply
        .load(landing)
        .select(F.col("_metadata.file_path"))
    )
    run_batches(new_files, process, checkpoint, f"bronze_{source.table}")


def _write_files(
    spark: SparkSession, source: BronzeSpec, target: str, files: list[str], app_id: str, batch_id: int
) -> None:
    frame = read_by_name(spark, source, files)
    if source.schema_evolution != "rescue":
        frame = (
            frame.persist()
        )  # read twice: its new fields decide the write (rescue keeps them as they come)
    try:
        new = _new_fields(frame) if source.schema_evolution != "rescue" else {}
        if new and source.schema_evolution == "fail":
            raise _drift_error(source, new)
        added = (
            sorted({f for fields in new.values() for f in fields})
            if source.schema_evolution == "add_columns"
            else []
        )
        rescued = F.col(MALFORMED)
        if source.schema_evolution == "rescue":
            rescued = F.coalesce(rescued, F.when(F.size(NEW_FIELDS) > 0, F.to_json(NEW_FIELDS)))
        declared = [F.col(f"`{c.name}`") for c in source.columns]
        rows = frame.select(
            *declared,
            rescued.alias(RESCUED_DATA),
            F.col(SOURCE_FILE),
            F.current_timestamp().alias(INGESTED_AT),
            *[F.col(NEW_FIELDS)[field].alias(field) for field in added],
        )
        _append(spark, rows, target, app_id, batch_id, bool(added))
        if added:
            log.warning("bronze %s: new columns %s added (schema_evolution add_columns)", source.table, added)
    finally:
        frame.unpersist()


def _append(
    spark: SparkSession, rows: DataFrame, target: str, app_id: str, batch_id: int, merge: bool
) -> None:
    """Append one micro-batch, once: a rerun of the batch (same writer id and batch id) writes nothing."""
    with batch_marked(batch_id, spark, rows.sparkSession):  # its versions, for the lineage
        (
            rows.write.format("delta")
            .mode("append")
            .option("txnAppId", app_id)
            .option("txnVersion", str(batch_id))
            .option("mergeSchema", str(merge).lower())
            .saveAsTable(target)
        )


def _rows_written(commit: dict) -> int:
    return int((commit.get("operationMetrics") or {}).get("numOutputRows", 0))


def _new_fields(frame: DataFrame) -> dict[str, list[str]]:
    """Undeclared fields per file (a file's rows may differ: JSON lines need not share their keys)."""
    found = (
        frame.filter(F.size(NEW_FIELDS) > 0)
        .select(SOURCE_FILE, F.explode(F.map_keys(NEW_FIELDS)).alias("field"))
        .distinct()
        .collect()
    )
    by_file: dict[str, list[str]] = {}
    for row in sorted(found):
        by_file.setdefault(row[0], []).append(row[1])
    return by_file


def _drift_error(source: BronzeSpec, new: dict[str, list[str]]) -> SchemaDriftError:
    files = "; ".join(f"{file.rsplit('/', 1)[-1]}: {', '.join(fields)}" for file, fields in new.items())
    example = next(iter(new.values()))[0]
    return SchemaDriftError(
        f"bronze {source.table}: landing files have fields the spec does not declare ({files}); "
        f"{BRONZE_FILE} row {source.row} sets schema_evolution fail, so nothing of these files was "
        f"written. Fix: declare the fields in columns.csv (e.g. bronze,{source.table},{example},string,,true,) "
        "or set schema_evolution to rescue (keep them in _rescued_data) or add_columns, then run again."
    )


def _writer_id(checkpoint: str) -> str:
    """The id of this checkpoint's Delta appends: a new checkpoint (a rebuilt table) gets a new one, so
    its batch numbers, which start at 0 again, are never taken for ones already written."""
    path = Path(checkpoint) / WRITER_ID_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"medallion-bronze-{uuid.uuid4()}")
    return path.read_text().strip()


def _with_audit_columns(df: DataFrame) -> DataFrame:
    return df.withColumn(SOURCE_FILE, F.col("_metadata.file_path")).withColumn(
        INGESTED_AT, F.current_timestamp()
    )


def _has_files(folder: str) -> bool:
    """True when the folder holds at least one non-hidden file (works for /Volumes paths too)."""
    if not os.path.isdir(folder):
        return False
    return any(not name.startswith(HIDDEN_FILE_PREFIXES) for name in os.listdir(folder))


def _create_empty(spark: SparkSession, source: BronzeSpec, target: str) -> None:
    """Create the bronze table from its declared schema, so silver and gold can plan against it."""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {target} ({source_schema_ddl(source)}, "
        f"`{SOURCE_FILE}` string, `{INGESTED_AT}` timestamp) USING DELTA"
    )

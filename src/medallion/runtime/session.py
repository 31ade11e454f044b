"""The one place a SparkSession is made.

Inside Databricks the running session is used; with databricks-connect configured, a remote
`DatabricksSession`; otherwise a local Spark + Delta Lake session whose warehouse, metastore and
checkpoints live under `.lakehouse/<target>/` in the project. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from medallion.environment import on_databricks, wants_databricks_connect

__all__ = ["get_spark", "local_spark"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent

# Sized for a 2-core laptop or CI runner: few shuffle partitions, no UI, small Delta snapshots.
_LOCAL_DEFAULTS: dict[str, str] = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    # The 1 GiB default runs out of execution memory over long runs of many small Delta jobs.
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
    "spark.databricks.delta.schema.autoMerge.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    # A run compiles hundreds of generated classes (quality rules' wide projections, MERGE, Delta's
    # log reads); Spark keeps only the last 100, so a later batch or run compiled them all again and
    # the JIT started over on the new classes. Keeping them, and naming generated classes without the
    # plan's stage number (the same code in another place of a plan is the same class): 10k orders,
    # a full run then a run after a 1% drop compiled 614 classes instead of 1,753, the full run took
    # 76 s instead of 85 s and the incremental one 37 s instead of 46 s (one run each).
    "spark.sql.codegen.cache.maxEntries": "10000",
    "spark.sql.codegen.useIdInClassName": "false",
    # A CSV feed's `encoding` reader option may name any Java charset (cp1252, ...), not only UTF-*.
    "spark.sql.legacy.javaCharsets": "true",
    "spark.jars.ivySettings": str(_HERE / "ivysettings.xml"),
    # Delta keeps the real schema in its log and registers a placeholder in the metastore; without
    # this, an overwrite that changes the schema makes the Derby metastore log a (harmless) error.
    "spark.hadoop.hive.metastore.disallow.incompatible.col.type.changes": "false",
    # Without Hadoop's native library (pip's Spark has none), the local file system starts a `chmod`
    # process for every file it creates and a `readlink` process for every rename through Hadoop's
    # FileContext: about 20 processes per Delta commit. These three keep renames on the plain file
    # system API and drop the `.crc` side files (and their `chmod`): a commit costs a quarter less,
    # a cold run a third less. A local commit stays what it was, "the log file does not exist yet,
    # then rename onto it" (FileContext's rename checks the same way, it is no more atomic), and
    # LocalLogStore also serializes a table's commits within the JVM. One process owns a local
    # lakehouse: its Derby metastore admits no second one. Hadoop's `FileSystem.getLocal` refuses
    # this file system (it casts to LocalFileSystem): local code reads paths through
    # `Path.getFileSystem` or plain Python instead.
    "spark.delta.logStore.file.impl": "io.delta.storage.LocalLogStore",
    "spark.sql.streaming.checkpointFileManagerClass": (
        "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager"
    ),
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
}


def get_spark(bundle: Any, target: str) -> SparkSession:
    """The session for running `target`: Databricks, databricks-connect, or local."""
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    if wants_databricks_connect():
        from databricks.connect import DatabricksSession  # installed only in a databricks-connect venv

        log.info("using databricks-connect")
        return DatabricksSession.builder.getOrCreate()
    return local_spark(
        bundle.local_root(target), app_name=f"{bundle.name}-{target}", conf=bundle.spark_conf()
    )


def local_spark(
    root: str | Path,
    *,
    app_name: str = "medallion",
    conf: dict[str, str] | None = None,
    java_options: str = "",
) -> SparkSession:
    """A local Spark + Delta session with warehouse and Derby metastore under `root`.

    The metastore persists table names between runs, so `medallion sql` sees what `medallion run`
    wrote. Only one process can hold it at a time. `java_options` are added to the driver JVM's.
    """
    from delta import configure_spark_with_delta_pip  # delta-spark: local Spark only (not with connect)

    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python UDF workers must run this interpreter: Spark starts `python3` from PATH otherwise, which
    # may be another minor version than the venv's (PYTHON_VERSION_MISMATCH).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    metastore = root / "metastore"
    java_options = " ".join(
        [
            *([java_options] if java_options else []),
            f"-Dderby.system.home={metastore}",
            f"-Dderby.stream.error.file={metastore / 'derby.log'}",
            f"-Dlog4j2.configurationFile={_HERE / 'log4j2.properties'}",
        ]
    )
    settings = {
        **_LOCAL_DEFAULTS,
        "spark.master": "local[2]",
        "spark.app.name": app_name,
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": java_options,
        "spark.sql.catalogImplementation": "hive",
        **(conf or {}),
    }
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    log.info("local Spark %s with Delta Lake, warehouse %s", spark.version, root / "warehouse")
    return spark

"""The process `test_scd_crash.py` kills: the real silver build of an SCD2 table in its own lakehouse.

    python tests/integration/scd_crash_worker.py <root> [--out result.json] [--again]

Each call starts its own local Spark session with warehouse, Derby metastore and checkpoints under
`<root>` (one process per lakehouse at a time, so never the pytest session's metastore).

The bronze table `items` is a Delta folder at `<root>/bronze` that the test writes before the worker
starts (`write_prepared_bronze`, in its own warm Spark session): PREPARED_COMMITS Delta commits of
change events (several changes per key, late events, deletes, tombstones, exact duplicates, ties,
conflicts, rows without key or sequence), one file per commit. The worker registers it in its
metastore (`attach_bronze`, idempotent) before it announces `READY`.

`run` is what a job does, twice: `silver.build` of `dim_item` (SCD2; see scd_harness.scd_table), one
more bronze commit (three files, an idempotent Delta write, so a rerun never appends it twice), and
`silver.build` again. The bronze stream is read FILES_PER_TRIGGER files per micro-batch, so each
build makes one micro-batch, and a kill can land before, inside or between them (a kill between
the two builds leaves what a kill between two micro-batches of one stream leaves: a checkpoint
with every planned batch committed). Micro-batch boundaries never depend on where a kill landed
(the late data is one commit), so the rerun must end with exactly the uninterrupted tables, ties and
conflicts included. `--out` writes the tables (sorted rows) and their Delta versions as JSON;
`--again` then does it all once more in the same process and adds the versions after it (a
completed run must commit nothing). SCD_CRASH_LITERAL_KEYS, when set, caps the keys a batch names as
literals, so its 8 keys take the MERGE path instead. The test runs the uninterrupted build itself, in its warm
session, with the same functions (`run`, `dump`, `versions`).

The worker prints `READY` once the Spark session is up and `STAGE <step>` before each step and each
micro-batch (`STAGE batch <id>`), so the parent knows where a kill landed. Spark logs to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from scd_harness import BRONZE_COLUMNS, scd_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the tests' Spark settings
from spark_settings import TEST_SPARK_CONF

from medallion.context import RunContext
from medallion.delta.tables import current_version, table_exists
from medallion.layers import silver

SCHEMA = "crash"
BRONZE_TABLE = "items"  # scd_table()'s source table
BRONZE_FOLDER = "bronze"  # under the lakehouse root: the prepared bronze Delta table
PREPARED_COMMITS = 6  # bronze commits written by `write_prepared_bronze`, one file each
LATE_FILES = 3  # files of the one bronze commit `run` appends between its two builds
FILES_PER_TRIGGER = (
    PREPARED_COMMITS  # Delta streaming option maxFilesPerTrigger for the silver build's bronze stream
)
SEED = 20240601  # the bronze data is a pure function of it: the prepared commits and `run` must agree
LITERAL_KEYS_VARIABLE = "SCD_CRASH_LITERAL_KEYS"  # set: the most keys named as literals (else a MERGE)
# Wall-clock time of the quarantine write, and the id of the run that wrote it (a killed run's
# rows keep its id: the rerun's write of the same batch is skipped by Delta).
IGNORED_COLUMNS = ("_quarantined_at", "_run_id")
RESULT_COLUMNS = ("_errors", "_warnings")  # DQX results: compared by rule name (they carry run time and id)


def context(root: Path, schema: str = SCHEMA) -> RunContext:
    return RunContext(
        target="crash",
        catalog="spark_catalog",
        bronze_schema=schema,
        silver_schema=schema,
        gold_schema=schema,
        landing_root=str(root / "landing"),
        checkpoint_root=str(root / "checkpoints"),
        specs_dir=str(root / "specs"),
    )


def bronze_files() -> list[list[dict]]:
    """The bronze data as files of rows: the prepared commits' files, then the late commit's files.

    Random but seeded (business time `updated_at` mostly grows with the file, sometimes late), plus
    the cases a random draw may miss, placed on purpose.
    """
    rng = random.Random(SEED)
    keys = [f"k{i:02d}" for i in range(8)]
    files: list[list[dict]] = []
    for n in range(PREPARED_COMMITS + LATE_FILES):
        rows = []
        for _ in range(18):
            late = rng.random() < 0.2
            seq = rng.randint(1, 10 * n + 5) if late else rng.randint(10 * n, 10 * n + 14)
            rows.append(
                {
                    "id": rng.choice(keys),
                    "name": rng.choice(["Ada", "Bo", "Cy", None]),
                    "tier": rng.choice(["gold", "silver", None]),
                    "note": rng.choice(["n1", "n2", "n3"]),
                    "updated_at": seq,
                    "op": "D" if rng.random() < 0.12 else "U",
                }
            )
        rows.append(dict(rows[0]))  # exact duplicate in the same file
        if files:
            rows.append(dict(files[-1][1]))  # exact duplicate of an earlier file's row
            rows.append({**files[-1][2], "note": "conflict", "name": "Zed"})  # other values, same key+seq
        tie = {"id": "k07", "name": "Tie", "tier": "gold", "note": "t", "updated_at": 10 * n + 7, "op": "U"}
        rows += [tie, {**tie, "tier": "silver"}]  # different rows, one key and sequence
        rows.append({**tie, "id": None, "name": "no key"})
        rows.append({**tie, "id": "k01", "updated_at": None if n % 2 else "soon"})  # no sequence
        files.append(rows)
    # A tombstone: a delete for a key not seen yet, then an older insert arriving later.
    files[1].append({"id": "t01", "updated_at": 45, "op": "D"})
    files[3].append({"id": "t01", "name": "Old", "tier": "gold", "note": "x", "updated_at": 20, "op": "U"})
    # Untracked-only change and a NULL-safe change (tier to NULL).
    files[4] += [
        {"id": "u01", "name": "U", "tier": "gold", "note": "a", "updated_at": 1, "op": "U"},
        {"id": "u01", "name": "U", "tier": "gold", "note": "b", "updated_at": 2, "op": "U"},
        {"id": "u01", "name": "U", "tier": None, "note": "b", "updated_at": 3, "op": "U"},
    ]
    return files


def bronze_frame(spark, files: list[list[dict]], first: int):
    """One bronze commit: one file per element of `files` (numbered from `first` for lineage)."""
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    schema = StructType(
        [StructField(c, StringType()) for c in BRONZE_COLUMNS]
        + [StructField("_source_file", StringType()), StructField("_ingested_at", TimestampType())]
    )
    frames = []
    for n, rows in enumerate(files, start=first):
        data = [
            (
                *(None if r.get(c) is None else str(r[c]) for c in BRONZE_COLUMNS),
                f"drop_{n:02d}.json",
                datetime(2024, 6, 1) + timedelta(hours=n),
            )
            for r in rows
        ]
        frames.append(spark.createDataFrame(data, schema).coalesce(1))
    frame = frames[0]
    for more in frames[1:]:
        frame = frame.union(more)
    return frame


def _idempotent_append(frame, commit: int):
    """A Delta append writer that a rerun with the same `commit` turns into a no-op."""
    return (
        frame.write.format("delta")
        .mode("append")
        .option("txnAppId", "scd-crash-bronze")
        .option("txnVersion", str(commit))
    )


def write_prepared_bronze(spark, folder: Path) -> None:
    """The bronze table as the worker finds it: PREPARED_COMMITS commits in the Delta folder `folder`."""
    files = bronze_files()
    for n in range(PREPARED_COMMITS):
        _idempotent_append(bronze_frame(spark, [files[n]], n), commit=n).save(str(folder))


def attach_bronze(spark, ctx: RunContext, folder: Path) -> None:
    """Register the prepared bronze folder as the table `run` reads (a no-op when it is registered)."""
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{ctx.bronze_schema}`")
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('bronze', BRONZE_TABLE)} USING DELTA LOCATION '{folder}'"
    )


def append_bronze(spark, ctx: RunContext, files: list[list[dict]], first: int, commit: int) -> None:
    """Append one bronze commit, idempotently: a rerun with the same `commit` writes nothing."""
    _idempotent_append(bronze_frame(spark, files, first), commit).saveAsTable(
        ctx.table("bronze", BRONZE_TABLE)
    )


Patch = Callable[[object, str, object], None]  # setattr, or pytest's monkeypatch.setattr


def limit_stream_files(files_per_trigger: int, patch: Patch = setattr) -> None:
    """Make every `spark.readStream.table(...)` in this process read at most N files per micro-batch.

    `silver.build` takes no stream options, and without a limit `availableNow` reads all of bronze
    in one micro-batch. Only this process is patched (the test's own run undoes it afterwards); the
    build itself runs unchanged.
    """
    from pyspark.sql.streaming.readwriter import DataStreamReader

    original = getattr(DataStreamReader.table, "unlimited", DataStreamReader.table)

    def table(self, tableName):
        return original(self.option("maxFilesPerTrigger", str(files_per_trigger)), tableName)

    table.unlimited = original
    patch(DataStreamReader, "table", table)


def stage(name: str) -> None:
    print(f"STAGE {name}", flush=True)


def announce_batches(announce: Callable[[str], None], patch: Patch = setattr) -> None:
    """Announce each micro-batch (`STAGE batch <id>`) before the build processes it."""
    process_batch = getattr(silver.process_batch, "unannounced", silver.process_batch)

    def announced(spark, batch, batch_id, table, target, *args, **kwargs):
        announce(f"batch {batch_id}")
        return process_batch(spark, batch, batch_id, table, target, *args, **kwargs)

    announced.unannounced = process_batch
    patch(silver, "process_batch", announced)


def run(spark, ctx: RunContext, announce: Callable[[str], None] = stage, patch: Patch = setattr) -> None:
    table = scd_table()
    files = bronze_files()
    limit_stream_files(FILES_PER_TRIGGER, patch)
    announce_batches(announce, patch)
    announce("build1")
    silver.build(spark, table, ctx)
    announce("append")
    append_bronze(spark, ctx, files[PREPARED_COMMITS:], PREPARED_COMMITS, commit=PREPARED_COMMITS)
    announce("build2")
    silver.build(spark, table, ctx)
    announce("done")


def table_names(ctx: RunContext) -> dict[str, str]:
    target = silver.SilverTarget(ctx.table("silver", scd_table().table))
    return {
        "bronze": ctx.table("bronze", BRONZE_TABLE),
        "silver": target.name,
        "changes": target.changes,
        "quarantine": target.quarantine,
    }


def versions(spark, ctx: RunContext) -> dict[str, int | None]:
    return {label: current_version(spark, name) for label, name in table_names(ctx).items()}


def dump(spark, ctx: RunContext) -> dict[str, list[dict]]:
    """Every table but bronze as rows (dicts, values as JSON), sorted; ignored columns left out."""
    from pyspark.sql import functions as F

    tables = {}
    for label, name in table_names(ctx).items():
        if label == "bronze":
            continue
        if not table_exists(spark, name):
            tables[label] = []
            continue
        df = spark.read.table(name)
        df = df.drop(*[c for c in IGNORED_COLUMNS if c in df.columns])
        for column in RESULT_COLUMNS:
            if column in df.columns:
                df = df.withColumn(column, F.transform(column, lambda e: e["name"]))
        rows = [json.loads(json.dumps(r.asDict(), default=str)) for r in df.collect()]
        tables[label] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path, help="write the tables and Delta versions here")
    parser.add_argument("--again", action="store_true", help="build once more and record the versions")
    args = parser.parse_args(argv)

    from medallion.runtime.session import local_spark

    root = args.root.resolve()
    if os.environ.get(LITERAL_KEYS_VARIABLE):  # the test's choice of swap (test_scd_crash.SWAPS)
        from medallion.delta import key_predicates

        key_predicates.MAX_LITERAL_KEYS = int(os.environ[LITERAL_KEYS_VARIABLE])
    spark = local_spark(root, app_name="scd-crash", conf=TEST_SPARK_CONF)
    ctx = context(root)
    attach_bronze(spark, ctx, root / BRONZE_FOLDER)
    print("READY", flush=True)
    run(spark, ctx)
    if args.out:
        result = {"tables": dump(spark, ctx), "versions": versions(spark, ctx)}
        if args.again:
            run(spark, ctx)
            result["versions_again"] = versions(spark, ctx)
        args.out.write_text(json.dumps(result, indent=1, sort_keys=True))
    spark.stop()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

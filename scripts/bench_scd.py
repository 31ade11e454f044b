"""`make bench`, SCD2 part: the engine on a KEYS-key dimension against common single-MERGE SCD2.

One fresh Spark session (local[2]) under bench/work/scd/, warmed up (untimed) on a 2,000-key
table. Bronze-shaped batches are generated with Spark (all-string columns + `_source_file`,
`_ingested_at`) and stored as Delta tables first, so every contender reads the same stored rows:

  0. initial load: KEYS keys, one event each;
  1. a batch in which 1% of the keys change; 2. then (same table, continuing) a batch in which 10%
     change. Of the changed keys ~60% change once, ~25% twice and ~15% three times within the batch
     (increasing sequence); ~20% of the events touch only the untracked column, ~2% of the tracked
     changes set `tier` to NULL, and ~5% of the changed keys end the batch with a delete.

Per batch:
  * the engine: `medallion.layers.silver.process_batch` on an scd2 table (the real silver path);
    a sample of the batch's keys is checked against a pure-Python computation of docs/scd.md
    (tests/scd/model.py when it is there, else the small one in this file);
  * the textbook single MERGE with a staged union (updates UNION rows-to-insert with a NULL merge
    key; MERGE ON key AND is_current), extended with deletes and in-place untracked updates, run on
    a copy of the engine's table as it was before the batch: first on the batch as it is, then, if
    Delta refuses that, on the newest event per key (the usual workaround);
  * mack's `type_2_scd_generic_upsert`, the same way, when `import mack` works (it is not a project
    dependency: `pip install mack` into a throwaway venv and put its site-packages on PYTHONPATH).
    mack has no deletes and versions on every attribute it is given, so it gets the upserts and the
    tracked columns only.
Each alternative's table is compared with the engine's (the model) after the same batch: how many
keys differ, and why (several changes for the key in the batch / a lone delete / a re-insert of a
deleted key / a NULL tracked value / none of these).

Results go to bench/scd_results.json and the "SCD2" section of docs/benchmarks.md.

    python scripts/bench_scd.py [--keys 1000000] [--seed 7] [--sample 1000] [--shuffle-partitions 8]
    python scripts/bench_scd.py --docs-only   # rewrite the docs section from bench/scd_results.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import shutil
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "scd"
RESULTS = ROOT / "bench" / "scd_results.json"
DOCS = ROOT / "docs" / "benchmarks.md"
SCHEMA = "bench_scd"
BEGIN, END = "<!-- scd2:begin (scripts/bench_scd.py) -->", "<!-- scd2:end -->"

KEY, SEQ = "id", "updated_at"
TRACKED = ("name", "tier")
UNTRACKED = ("note",)
BRONZE_COLUMNS = ("id", "name", "tier", "note", "updated_at", "op")
VALIDITY = ("effective_from", "effective_to", "is_current")
TIERS = ("bronze", "silver", "gold", "platinum")
# (label, fraction of keys changing, first sequence value of the batch)
SCENARIOS = (
    ("initial load", 1.0, 1000),
    ("1% of keys change", 0.01, 2000),
    ("10% of keys change", 0.10, 3000),
)


# --- the table and the data ------------------------------------------------------------------


def scd_table():
    """dim_item: key id (bigint), sequence updated_at (int), tracked name + tier, untracked note."""
    from medallion.specs.model import ColumnSpec, ScdSpec, SilverSpec

    types = {"id": "bigint", "name": "string", "tier": "string", "note": "string", "updated_at": "int"}
    columns = tuple(
        ColumnSpec(layer="silver", table="dim_item", name=n, data_type=t) for n, t in types.items()
    )
    return SilverSpec(
        table="dim_item",
        source_table="items",
        load_pattern="scd2",
        keys=(KEY,),
        sequence_by=(SEQ,),
        delete_when="op = 'D'",
        columns=columns,
        scd=ScdSpec(scd_type=2, tracked_columns=TRACKED, untracked_columns=UNTRACKED),
        spec_file="scd_mappings.csv",
    )


def bronze_schema():
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    fields = [StructField(c, StringType()) for c in BRONZE_COLUMNS]
    return StructType(
        [*fields, StructField("_source_file", StringType()), StructField("_ingested_at", TimestampType())]
    )


def _lineage(df, number: int):
    from pyspark.sql import functions as F

    return df.withColumn("_source_file", F.lit(f"drop_{number}.csv")).withColumn(
        "_ingested_at", F.lit(datetime(2024, 1, 1 + number))
    )


def initial_batch(spark, keys: int, seed: int):
    from pyspark.sql import functions as F

    df = spark.range(keys).select(
        F.col("id").cast("string").alias("id"),
        F.concat(F.lit("item-"), F.col("id")).alias("name"),
        F.element_at(
            F.array(*map(F.lit, TIERS)), (F.pmod(F.hash("id", F.lit(seed)), 4) + 1).cast("int")
        ).alias("tier"),
        F.lit("initial").alias("note"),
        F.lit(str(SCENARIOS[0][2])).alias("updated_at"),
        F.lit("U").alias("op"),
    )
    return _lineage(df, 0)


def change_batch(spark, keys: int, seed: int, number: int, fraction: float, first_seq: int, previous):
    """Events for ~fraction*keys keys: 1-3 per key with increasing sequence, untracked-only
    changes, NULL tiers and deletes. `previous` (bronze rows so far) supplies each key's values
    before the batch, so an untracked-only first event really leaves the tracked values alone."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def h(*parts):  # a deterministic percentile 0..99 per (key, batch, parts)
        return F.pmod(F.hash(F.col("key"), F.lit(seed), F.lit(number), *map(F.lit, parts)), 100)

    chosen = (
        spark.range(keys)
        .withColumnRenamed("id", "key")
        .where(
            F.pmod(F.hash("key", F.lit(seed), F.lit(number), F.lit("pick")), 1_000_000) < int(fraction * 1e6)
        )
    )
    n_events = F.when(h("n") < 60, 1).when(h("n") < 85, 2).otherwise(3)
    events = chosen.select(
        "key",
        n_events.alias("n"),
        (h("del") < 5).alias("ends_with_delete"),
        F.explode(F.sequence(F.lit(1), n_events)).alias("j"),
    )
    # Whether event j changes the tracked columns (else only `note`), and the running count of
    # tracked changes, which names the version's values.
    events = events.withColumn(
        "tracked_change", F.pmod(F.hash("key", F.lit(seed), F.lit(number), "j"), 100) >= 20
    )
    by_j = Window.partitionBy("key").orderBy("j").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    events = events.withColumn("t", F.sum(F.col("tracked_change").cast("int")).over(by_j))
    latest = Window.partitionBy("id").orderBy(F.col("updated_at").cast("int").desc())
    before = (
        previous.withColumn("_n", F.row_number().over(latest))
        .where("_n = 1")
        .select(
            F.col("id").cast("bigint").alias("key"),
            F.col("name").alias("p_name"),
            F.col("tier").alias("p_tier"),
        )
    )
    events = events.join(before, "key", "left")
    new_tier = F.when(
        F.pmod(F.hash("key", F.lit(seed), F.lit(number), "t", F.lit("null")), 100) < 2, F.lit(None)
    ).otherwise(
        F.element_at(
            F.array(*map(F.lit, TIERS)),
            (F.pmod(F.hash("key", F.lit(seed), F.lit(number), "t"), 4) + 1).cast("int"),
        )
    )
    is_delete = F.col("ends_with_delete") & (F.col("j") == F.col("n"))
    df = events.select(
        F.col("key").cast("string").alias("id"),
        F.when(is_delete, F.lit(None))
        .when(F.col("t") == 0, F.col("p_name"))
        .otherwise(F.concat(F.lit("item-"), F.col("key"), F.lit(f"-b{number}v"), F.col("t")))
        .alias("name"),
        F.when(is_delete, F.lit(None))
        .when(F.col("t") == 0, F.col("p_tier"))
        .otherwise(new_tier)
        .alias("tier"),
        F.when(is_delete, F.lit(None)).otherwise(F.concat(F.lit(f"b{number}e"), F.col("j"))).alias("note"),
        (F.lit(first_seq) + F.col("j") * 10).cast("string").alias("updated_at"),
        F.when(is_delete, "D").otherwise("U").alias("op"),
    )
    return _lineage(df, number)


# --- the alternatives ------------------------------------------------------------------------

LINEAGE = ("_source_file", "_ingested_at")
SAME_TABLE = "textbook, same table"
ALT_COLUMNS = {
    "textbook": (KEY, *TRACKED, *UNTRACKED, SEQ, *VALIDITY),
    SAME_TABLE: (KEY, *TRACKED, *UNTRACKED, SEQ, *LINEAGE, *VALIDITY),
    "mack": (KEY, *TRACKED, *VALIDITY),
}


# What each alternative's copy of the engine's table keeps beyond its columns.
ALT_PROPERTIES = {SAME_TABLE: "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')"}


def alt_table(name: str) -> str:
    """The table an alternative writes: its name as an identifier."""
    return "alt_" + re.sub(r"\W+", "_", name)


def copy_sql(name: str, target: str, source: str) -> str:
    """CREATE TABLE `target` as the alternative `name`'s copy of `source` (a table or a time travel)."""
    select = ", ".join(f"`{c}`" for c in ALT_COLUMNS[name])
    return (
        f"CREATE TABLE {target} USING DELTA {ALT_PROPERTIES.get(name, '')} AS SELECT {select} FROM {source}"
    )


def textbook_merge(spark, updates, target: str, lineage: tuple[str, ...] = ()) -> None:
    """The textbook SCD2 single MERGE with a staged union (+ deletes, + in-place untracked);
    `lineage` columns are set on the rows it updates in place or inserts, as the engine's are."""
    updates.createOrReplaceTempView("scd_updates")
    kept = "".join(f", {c} = s.{c}" for c in lineage)
    inserted = "".join(f", {c}" for c in lineage)
    inserted_values = "".join(f", s.{c}" for c in lineage)

    def same(a: str, b: str) -> str:  # NULL-safe: the tracked values of a and b are equal
        return " AND ".join(f"{a}.`{c}` <=> {b}.`{c}`" for c in TRACKED)

    spark.sql(f"""
        MERGE INTO {target} t
        USING (
          SELECT u.id AS merge_key, u.* FROM scd_updates u
          UNION ALL
          SELECT NULL AS merge_key, u.* FROM scd_updates u
          JOIN {target} c ON c.id = u.id AND c.is_current
          WHERE NOT u._is_delete AND NOT ({same("c", "u")})
        ) s
        ON t.id = s.merge_key AND t.is_current
        WHEN MATCHED AND s._is_delete THEN
          UPDATE SET is_current = false, effective_to = s.updated_at
        WHEN MATCHED AND NOT ({same("t", "s")}) THEN
          UPDATE SET is_current = false, effective_to = s.updated_at
        WHEN MATCHED THEN
          UPDATE SET note = s.note, updated_at = s.updated_at{kept}
        WHEN NOT MATCHED AND NOT s._is_delete THEN
          INSERT (id, name, tier, note, updated_at, effective_from, effective_to, is_current{inserted})
          VALUES (s.id, s.name, s.tier, s.note, s.updated_at, s.updated_at, NULL, true{inserted_values})
    """).collect()


def textbook_same_table(spark, updates, target: str) -> None:
    """The textbook MERGE on a copy like the engine's table: its lineage columns and change data feed."""
    textbook_merge(spark, updates, target, lineage=LINEAGE)


def mack_merge(spark, updates, target: str) -> None:
    import mack
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    rows = updates.where(~F.col("_is_delete")).select(KEY, *TRACKED, F.col(SEQ).alias("effective_from"))
    mack.type_2_scd_generic_upsert(
        DeltaTable.forName(spark, target),
        rows,
        KEY,
        list(TRACKED),
        "is_current",
        "effective_from",
        "effective_to",
    )


def newest_per_key(updates):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    newest = Window.partitionBy(KEY).orderBy(F.col(SEQ).desc())
    return updates.withColumn("_n", F.row_number().over(newest)).where("_n = 1").drop("_n")


def mack_available() -> bool:
    return importlib.util.find_spec("mack") is not None


# --- checks ----------------------------------------------------------------------------------


def _load_model():
    """tests/scd/model.py (the project's reference model) if it is there and has what we use."""
    path = ROOT / "tests" / "scd" / "model.py"
    if not path.exists():
        return None
    try:
        spec = importlib.util.spec_from_file_location("_scd_reference_model", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        module.Layout, module.run  # noqa: B018
    except Exception as exc:
        print(f"  tests/scd/model.py not usable ({exc}); using the inline reference", flush=True)
        return None
    return module


def inline_scd2(events: list[dict]) -> list[dict]:
    """docs/scd.md SCD2 for events that are all accepted (no ties or duplicates, as generated)."""
    by_key: dict = {}
    for e in events:
        by_key.setdefault(e[KEY], []).append(e)
    rows = []
    for key_events in by_key.values():
        key_events.sort(key=lambda e: e[SEQ])
        versions: list[list[int]] = []
        for i, e in enumerate(key_events):
            if e["is_delete"]:
                continue
            prev = key_events[i - 1] if i else None
            if prev is None or prev["is_delete"] or any(e[c] != prev[c] for c in TRACKED):
                versions.append([i])
            else:
                versions[-1].append(i)
        for v in versions:
            first, last = key_events[v[0]], key_events[v[-1]]
            nxt = key_events[v[-1] + 1] if v[-1] + 1 < len(key_events) else None
            row = {c: last[c] for c in (KEY, *TRACKED, *UNTRACKED, SEQ, "_source_file", "_ingested_at")}
            row.update({c: first[c] for c in TRACKED})
            row.update(effective_from=first[SEQ], effective_to=nxt and nxt[SEQ], is_current=nxt is None)
            rows.append(row)
    return rows


def check_sample(spark, table, silver: str, bronze_tables: list[str], keys: list[int], model) -> dict:
    """The engine's rows for `keys` against the reference computed from all their bronze events."""
    from pyspark.sql import functions as F

    from medallion.layers.transforms import conform
    from medallion.names import IS_DELETE as DELETE_FLAG

    columns = (KEY, *TRACKED, *UNTRACKED, SEQ, "_source_file", "_ingested_at", *VALIDITY)
    batches = []
    for name in bronze_tables:
        rows = spark.read.table(name).transform(conform(table)).where(F.col(KEY).isin(keys)).collect()
        batches.append([{**r.asDict(), "is_delete": r[DELETE_FLAG]} for r in rows])
    if model is not None:
        layout = model.Layout(keys=(KEY,), sequence=(SEQ,), tracked=TRACKED, untracked=UNTRACKED)
        expected = model.run(batches, layout).scd2()
    else:
        expected = inline_scd2([e for b in batches for e in b])
    actual = [r.asDict() for r in spark.read.table(silver).where(F.col(KEY).isin(keys)).collect()]

    def as_set(rows):
        return {tuple(r.get(c) for c in columns) for r in rows}

    want, got = as_set(expected), as_set(actual)
    wrong = {row[0] for row in want ^ got}
    return {
        "reference": "tests/scd/model.py" if model is not None else "inline (scripts/bench_scd.py)",
        "sampled_keys": len(keys),
        "rows_expected": len(want),
        "keys_mismatched": len(wrong),
        "ok": not wrong and len(expected) == len(actual),
    }


def compare(spark, alt: str, engine: str, columns: tuple[str, ...], causes) -> dict:
    """Keys whose rows differ between an alternative's table and the engine's, by cause."""
    from pyspark.sql import functions as F

    a = spark.read.table(alt).select(*columns)
    e = spark.read.table(engine).select(*columns)
    differ = a.exceptAll(e).select(KEY).union(e.exceptAll(a).select(KEY)).distinct()
    tally = (
        differ.join(causes, KEY, "left")
        .select(F.coalesce("cause", F.lit("key not in the batch")).alias("cause"))
        .groupBy("cause")
        .count()
        .collect()
    )
    by_cause = {r["cause"]: r["count"] for r in tally}
    n = sum(by_cause.values())
    return {"matches": n == 0, "keys_differ": n, "by_cause": dict(sorted(by_cause.items()))}


def key_causes(updates, current_before):
    """Per key of a conformed batch, the first that applies: several changes / a lone delete /
    an upsert for a key with history but no current row (re-insert) / a NULL tracked value."""
    from pyspark.sql import functions as F

    null_tracked = F.lit(False)
    for c in TRACKED:
        null_tracked = null_tracked | (F.col(c).isNull() & ~F.col("_is_delete"))
    per_key = updates.groupBy(KEY).agg(
        F.count(F.lit(1)).alias("n"),
        F.max(F.col("_is_delete").cast("int")).alias("deletes"),
        F.max(null_tracked.cast("int")).alias("nulls"),
    )
    history = current_before.groupBy(KEY).agg(F.max(F.col("is_current").cast("int")).alias("live"))
    cause = (
        F.when(F.col("n") > 1, "several changes in one batch")
        .when(F.col("deletes") > 0, "a single delete")
        .when(F.col("live") == 0, "re-insert of a deleted key")
        .when(F.col("nulls") > 0, "NULL in a tracked column")
        .otherwise("one plain change")
    )
    return per_key.join(history, KEY, "left").select(KEY, cause.alias("cause"))


# --- running ---------------------------------------------------------------------------------


def _error(exc: BaseException) -> tuple[str, str]:
    """(error class, first line of the message) of a Spark/Delta error."""
    text = str(exc).strip()
    found = re.search(r"\[([A-Z][A-Z0-9_]+)\]", text)
    first = text.splitlines()[0] if text else type(exc).__name__
    return (found.group(1) if found else type(exc).__name__), first[:300]


def run_alternative(spark, name: str, merge, updates, engine: str, before: int, causes, input_rows: int):
    """`merge` on a copy of the engine's table as of version `before`: as the batch is, then (if
    refused) on the newest event per key. Compared with the engine's table after the batch."""
    from bench import MemorySampler

    target = f"spark_catalog.{SCHEMA}.{alt_table(name)}"
    columns = ALT_COLUMNS[name]

    def reset():
        spark.sql(f"DROP TABLE IF EXISTS {target}")
        spark.sql(copy_sql(name, target, f"{engine} VERSION AS OF {before}"))

    out: dict = {}
    for variant, rows in (("as_is", updates), ("newest_per_key", newest_per_key(updates))):
        reset()
        # A refused MERGE is expected here: keep Delta's stack trace out of the output.
        spark.sparkContext.setLogLevel("OFF")
        start = time.perf_counter()
        try:
            with MemorySampler() as sampler:
                merge(spark, rows, target)
        except Exception as exc:
            error_class, message = _error(exc)
            out[variant] = {
                "ok": False,
                "seconds": round(time.perf_counter() - start, 2),
                "error_class": error_class,
                "error": message,
            }
            print(f"    {name} {variant}: refused after {out[variant]['seconds']} s: {message}", flush=True)
            continue
        finally:
            spark.sparkContext.setLogLevel("ERROR")
        seconds = time.perf_counter() - start
        out[variant] = {
            "ok": True,
            "seconds": round(seconds, 2),
            "rows_per_second": round(input_rows / seconds),
            "peak_memory_mib": round(sampler.peak),
            **compare(spark, target, engine, columns, causes),
        }
        print(
            f"    {name} {variant}: {out[variant]['seconds']} s, matches: {out[variant]['matches']} "
            f"({out[variant]['keys_differ']} keys differ: {out[variant]['by_cause']})",
            flush=True,
        )
        if variant == "as_is":
            break  # the batch as it is went through: no workaround needed
    return out


def _context(schema: str):
    from medallion.context import RunContext

    return RunContext(
        target="bench",
        catalog="spark_catalog",
        bronze_schema=schema,
        silver_schema=schema,
        gold_schema=schema,
        landing_root=str(WORK / "landing"),
        checkpoint_root=str(WORK / "checkpoints"),
        specs_dir=str(ROOT / "specs"),
    )


def warm_up(spark, table, seed: int, keys: int = 2000) -> float:
    """Untimed: the engine and both MERGEs once on a small table, so the timed runs do not pay
    for the JVM's first compilations (the alternatives run after the engine in any case)."""
    from medallion.layers.silver import ensure_table
    from medallion.layers.silver_batch import process_batch
    from medallion.layers.transforms import conform
    from medallion.quality.checks import start_quality_run

    start = time.perf_counter()
    schema = f"{SCHEMA}_warm_up"
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    target = ensure_table(spark, table, _context(schema), source_schema=bronze_schema())
    bronze = []
    for number in (0, 1):
        name = f"spark_catalog.{schema}.bronze_b{number}"
        if number == 0:
            batch = initial_batch(spark, keys, seed + 1)
        else:
            batch = change_batch(spark, keys, seed + 1, 1, 0.1, 2000, spark.read.table(bronze[0]))
        batch.write.format("delta").saveAsTable(name)
        bronze.append(name)
    quality = start_quality_run(spark, table, "warm-up", target.neighbour)
    process_batch(spark, spark.read.table(bronze[0]), 0, table, target, quality)
    change = newest_per_key(spark.read.table(bronze[1]).transform(conform(table)))
    for name, merge in (
        ("textbook", textbook_merge),
        (SAME_TABLE, textbook_same_table),
        ("mack", mack_merge),
    ):
        if name == "mack" and not mack_available():
            continue
        alt = f"spark_catalog.{schema}.{alt_table(name)}"
        spark.sql(copy_sql(name, alt, target.name))
        merge(spark, change, alt)
    process_batch(spark, spark.read.table(bronze[1]), 1, table, target, quality)
    spark.sql(f"DROP SCHEMA {schema} CASCADE")
    return time.perf_counter() - start


def run(keys: int, seed: int, sample: int, shuffle_partitions: int) -> dict:
    from pyspark.sql import functions as F

    from bench import MemorySampler
    from medallion.delta.tables import current_version
    from medallion.layers import scd as scd_module
    from medallion.layers.silver import ensure_table
    from medallion.layers.silver_batch import process_batch
    from medallion.layers.transforms import conform
    from medallion.quality.checks import start_quality_run
    from medallion.runtime.session import local_spark

    started = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    partitions = str(shuffle_partitions)
    spark = local_spark(
        WORK,
        app_name="medallion-bench-scd",
        conf={
            "spark.sql.shuffle.partitions": partitions,
            "spark.default.parallelism": partitions,
            "spark.driver.memory": "4g",
        },
    )
    session_seconds = time.perf_counter() - started
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    table = scd_table()
    warm_up_seconds = warm_up(spark, table, seed)
    target = ensure_table(spark, table, _context(SCHEMA), source_schema=bronze_schema())
    engine = target.name
    model = _load_model()
    alternatives = {"textbook": textbook_merge, SAME_TABLE: textbook_same_table}
    if mack_available():
        alternatives["mack"] = mack_merge

    # Time the engine's recompute-and-MERGE step separately (a wrapper in this process only).
    phase = {"replace_keys": 0.0}
    original_replace = scd_module._replace_keys

    def timed_replace(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original_replace(*args, **kwargs)
        finally:
            phase["replace_keys"] += time.perf_counter() - start

    scd_module._replace_keys = timed_replace

    scenarios = []
    bronze_tables: list[str] = []
    quality = start_quality_run(spark, table, "bench", target.neighbour)
    for number, (label, fraction, first_seq) in enumerate(SCENARIOS):
        print(f"{label} ({keys:,} keys) ...", flush=True)
        start = time.perf_counter()
        bronze_name = f"spark_catalog.{SCHEMA}.bronze_b{number}"
        if number == 0:
            batch = initial_batch(spark, keys, seed)
        else:
            previous = spark.read.table(bronze_tables[0])
            for name in bronze_tables[1:]:
                previous = previous.unionByName(spark.read.table(name))
            batch = change_batch(spark, keys, seed, number, fraction, first_seq, previous)
        batch.write.format("delta").saveAsTable(bronze_name)
        bronze_tables.append(bronze_name)
        bronze = spark.read.table(bronze_name)
        updates = bronze.transform(conform(table))
        before = current_version(spark, engine)
        causes = key_causes(updates, spark.sql(f"SELECT * FROM {engine} VERSION AS OF {before}")).persist()
        shape = causes.groupBy("cause").count().collect()
        input_rows = bronze.count()
        changed_keys = causes.count()
        generate_seconds = time.perf_counter() - start

        phase["replace_keys"] = 0.0
        start = time.perf_counter()
        with MemorySampler() as sampler:
            counts = process_batch(spark, bronze, number, table, target, quality)
        seconds = time.perf_counter() - start
        rows_after = spark.read.table(engine).count()
        current_after = spark.read.table(engine).where("is_current").count()
        print(f"  engine: {seconds:.2f} s for {input_rows:,} rows ({counts})", flush=True)

        sample_keys = [
            r[KEY] for r in causes.select(KEY).orderBy(F.hash(KEY, F.lit(seed))).limit(sample).collect()
        ]
        check = check_sample(spark, table, engine, bronze_tables, sample_keys, model)
        print(
            f"  engine vs reference on {len(sample_keys)} keys: {'ok' if check['ok'] else check}", flush=True
        )

        alt_results = {}
        for name, merge in alternatives.items():
            alt_results[name] = run_alternative(
                spark, name, merge, updates, engine, before, causes, input_rows
            )
        causes.unpersist()
        scenarios.append(
            {
                "scenario": label,
                "input_rows": input_rows,
                "keys_in_batch": changed_keys,
                "keys_by_shape": dict(sorted((r["cause"], r["count"]) for r in shape)),
                "generate_seconds": round(generate_seconds, 2),
                "engine": {
                    "seconds": round(seconds, 2),
                    "rows_per_second": round(input_rows / seconds),
                    "replace_keys_seconds": round(phase["replace_keys"], 2),
                    "peak_memory_mib": round(sampler.peak),
                    "counts": counts,
                    "table_rows_after": rows_after,
                    "current_rows_after": current_after,
                    "check": check,
                },
                "alternatives": alt_results,
            }
        )
    scd_module._replace_keys = original_replace
    import delta  # noqa: F401
    import pyspark

    results = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "spark": pyspark.__version__,
        "delta": _delta_version(),
        "master": spark.conf.get("spark.master"),
        "shuffle_partitions": shuffle_partitions,
        "keys": keys,
        "seed": seed,
        "mack": _mack_version(),
        "session_start_seconds": round(session_seconds, 2),
        "warm_up_seconds": round(warm_up_seconds, 2),
        "scenarios": scenarios,
    }
    spark.stop()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    return results


def _delta_version() -> str:
    from importlib.metadata import version

    with contextlib.suppress(Exception):
        return version("delta-spark")
    return "?"


def _mack_version() -> str | None:
    from importlib.metadata import version

    if not mack_available():
        return None
    with contextlib.suppress(Exception):
        return version("mack")
    return "?"


# --- the docs section ------------------------------------------------------------------------


def _alt_cells(result: dict) -> tuple[str, str, str, str, str]:
    """(batch as it is, what was timed, seconds, rows/s, matches) for the alternatives' table."""
    as_is = result["as_is"]
    if as_is["ok"]:
        return "ran", "the batch", str(as_is["seconds"]), f"{as_is['rows_per_second']:,}", _matches(as_is)
    error = as_is.get("error_class") or as_is["error"]
    refused = f"refused after {as_is['seconds']} s: {error}"
    work = result.get("newest_per_key", {})
    if not work.get("ok"):
        return refused, "newest event per key", "failed", "", "no"
    rate = f"{work['rows_per_second']:,}"
    return refused, "newest event per key", str(work["seconds"]), rate, _matches(work)


def _matches(r: dict) -> str:
    if r["matches"]:
        return "yes"
    causes = ", ".join(f"{n:,} {c}" for c, n in r["by_cause"].items())
    return f"no: {r['keys_differ']:,} keys differ ({causes})"


def markdown(results: dict) -> str:
    keys = results["keys"]
    mack = results.get("mack")
    lines = [
        BEGIN,
        "## SCD2",
        "",
        f"Written by `make bench` (scripts/bench_scd.py, `KEYS={keys}`); results in bench/scd_results.json. "
        f"Machine: {results['machine']}; Spark {results['spark']}, Delta {results['delta']}, "
        f"{results['master']}, {results['shuffle_partitions']} shuffle partitions, driver memory 4g. "
        f"Whole run {results['total_seconds']} s (session start {results.get('session_start_seconds')} s, "
        f"untimed warm-up {results.get('warm_up_seconds')} s, data generation and checks included).",
        "",
        f"A {keys:,}-key dimension (key `id`, tracked `name` + `tier`, untracked `note`, int sequence "
        "`updated_at`, deletes `op = 'D'`) built through the real silver path (`process_batch` → "
        "`write_scd`): an initial load, then a batch in which 1% of the keys change, then one in which "
        "10% change, on the same table. Of the changed keys ~60% change once, ~25% twice, ~15% three "
        "times in the batch; ~20% of the events change only `note`, ~2% of the tracked changes set "
        "`tier` to NULL, ~5% of the changed keys end with a delete. rows/s = bronze rows in the batch / "
        "seconds.",
        "",
        "| batch | bronze rows | keys | engine s | engine rows/s | of which recompute + MERGE s | "
        "engine vs reference (sampled keys) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in results["scenarios"]:
        e = s["engine"]
        check = e["check"]
        verdict = "ok" if check["ok"] else f"{check['keys_mismatched']} keys differ"
        lines.append(
            f"| {s['scenario']} | {s['input_rows']:,} | {s['keys_in_batch']:,} | {e['seconds']} | "
            f"{e['rows_per_second']:,} | {e['replace_keys_seconds']} | {verdict} ({check['sampled_keys']:,}) |"
        )
    lines += [
        "",
        "Alternatives, each on a copy of the engine's table as it was before the batch, fed the same "
        "conformed rows, and compared with the engine's table after it (the engine is the model: its "
        "sampled keys match a pure-Python computation of docs/scd.md, column above). *textbook* = the "
        "single MERGE with a staged union (updates UNION rows-to-insert with a NULL merge key; MERGE ON "
        "key AND is_current), extended to close a version on a delete and to update `note` in place, on a "
        "copy with only the columns it writes and no table properties. *textbook, same table* = the same "
        "MERGE on a copy like the engine's table: it also keeps the lineage columns (`_source_file`, "
        "`_ingested_at`, set on the rows it writes) and has the change data feed on, as every silver "
        "table has (gold reads it). "
        + (
            f"*mack* = mack {mack} `type_2_scd_generic_upsert` (not a project dependency; it has no deletes "
            "and versions on every column it is given, so it gets the upserts and `name`, `tier`; it is "
            "compared on those columns). "
            if mack
            else "mack was not importable in this run (see below). "
        )
        + "When Delta refuses the batch as it is, the usual workaround is timed: keep the newest event "
        "per key.",
        "",
        "| batch | alternative | the batch as it is | timed run on | s | rows/s | matches the model |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for s in results["scenarios"]:
        for name, result in s["alternatives"].items():
            outcome, timed, seconds, rate, matches = _alt_cells(result)
            lines.append(
                f"| {s['scenario']} | {name} | {outcome} | {timed} | {seconds} | {rate} | {matches} |"
            )
    lines += [
        "",
        "Caveats: one run on a 2-core machine, no repetitions; everything runs in one JVM after an "
        "untimed warm-up (engine and MERGEs on a 2,000-key table), the engine first in each batch. The "
        "engine's seconds include what the alternatives do not do: classifying duplicates and ties "
        "against the change log, appending to it, and recomputing every touched key's whole history "
        "from it. No late events, duplicates or ties in this data; with them the single MERGE would "
        "differ further. rows/s of a run on the newest event per key still counts all bronze rows of "
        "the batch, and its seconds exclude the refused attempt. mack runs only when `import mack` "
        "works: `pip install mack` into a throwaway venv and put its site-packages on PYTHONPATH (its "
        "wheel declares no dependencies, so the pinned pyspark/delta-spark stay as they are).",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_docs(results: dict) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    section = markdown(results)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + (("\n" + tail) if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=int(os.environ.get("KEYS", 1_000_000)))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--sample", type=int, default=1000, help="keys per batch checked against the reference"
    )
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--docs-only", action="store_true", help="rewrite the docs section from the JSON")
    args = parser.parse_args(argv)
    if args.docs_only:
        write_docs(json.loads(RESULTS.read_text()))
        return 0
    results = run(args.keys, args.seed, args.sample, args.shuffle_partitions)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_docs(results)
    print(markdown(results))
    engine_ok = all(s["engine"]["check"]["ok"] for s in results["scenarios"])
    return 0 if engine_ok else 1


if __name__ == "__main__":
    sys.exit(main())

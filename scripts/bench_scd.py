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

This file runs the batches; beside it: bench_scd_data.py (the dimension and its batches),
bench_scd_alternatives.py (the single MERGEs), bench_scd_checks.py (reference model and
comparisons), bench_scd_report.py (the docs section).

    python scripts/bench_scd.py [--keys 1000000] [--seed 7] [--sample 1000] [--shuffle-partitions 8]
    python scripts/bench_scd.py --docs-only   # rewrite the docs section from bench/scd_results.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from bench_scd_alternatives import (
    SAME_TABLE,
    alt_table,
    copy_sql,
    mack_available,
    mack_merge,
    newest_per_key,
    run_alternative,
    textbook_merge,
    textbook_same_table,
)
from bench_scd_checks import check_sample, key_causes, load_model
from bench_scd_data import KEY, SCENARIOS, SCHEMA, bronze_schema, change_batch, initial_batch, scd_table
from bench_scd_report import markdown, write_docs

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "scd"
RESULTS = ROOT / "bench" / "scd_results.json"


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
    from bench_measure import MemorySampler
    from pyspark.sql import functions as F

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
    model = load_model()
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

"""`make bench`, SCD2 part: the single-MERGE alternatives the engine is timed against, each run
on a copy of the engine's table and compared with it (scripts/bench_scd.py)."""

from __future__ import annotations

import importlib.util
import re
import time

from bench_scd_checks import compare
from bench_scd_data import KEY, SCHEMA, SEQ, TRACKED, UNTRACKED, VALIDITY

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


def _error(exc: BaseException) -> tuple[str, str]:
    """(error class, first line of the message) of a Spark/Delta error."""
    text = str(exc).strip()
    found = re.search(r"\[([A-Z][A-Z0-9_]+)\]", text)
    first = text.splitlines()[0] if text else type(exc).__name__
    return (found.group(1) if found else type(exc).__name__), first[:300]


def run_alternative(spark, name: str, merge, updates, engine: str, before: int, causes, input_rows: int):
    """`merge` on a copy of the engine's table as of version `before`: as the batch is, then (if
    refused) on the newest event per key. Compared with the engine's table after the batch."""
    from bench_measure import MemorySampler

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

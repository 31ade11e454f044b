"""`make bench`, SCD2 part: the engine's rows against a reference computation of docs/scd.md, and
an alternative's table against the engine's (scripts/bench_scd.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bench_scd_data import KEY, SEQ, TRACKED, UNTRACKED, VALIDITY

ROOT = Path(__file__).resolve().parents[1]


def load_model():
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
        "reference": "tests/scd/model.py" if model is not None else "inline (scripts/bench_scd_checks.py)",
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

"""Gold: tables built from the SQL files named in gold_tables.csv.

A gold table is refreshed only when one of the tables its SQL reads has a new Delta version since the
last build (or its SQL changed); the versions it was built from are stored in the commit's
`userMetadata`. So a run with nothing new upstream commits nothing. A table with a refresh key is
refreshed by key where that is safe (layers/gold_refresh.py), else rebuilt whole.
"""

from __future__ import annotations

import json
import logging
import re
import threading

from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.lineage import LineageEdge
from medallion.delta.run_marks import ROWS_KEY, RUN_KEY, commit_metadata, current_run_id, with_run_mark
from medallion.delta.run_records import TableRun, timed
from medallion.delta.tables import TableGuard, creating, last_commit, last_write, table_exists
from medallion.errors import ParameterError, SpecError
from medallion.layers.gold_refresh import (
    KeyedRefresh,
    few_upstream_rows,
    plan_keyed_refresh,
    refresh_fingerprint,
    upstream_state,
)
from medallion.logs import for_table
from medallion.specs.model import GoldSpec

__all__ = ["build", "render_sql"]

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")

# The state of the silver and bronze tables gold reads, looked up once per run and process. The job
# builds them before gold, so they do not change while its gold tasks run, and the local runner runs a
# for-each's iterations in one process: gold tables reading the same upstream share one lookup (each is
# a Delta history query, ~0.2 s). Gold upstreams are looked up every time: an earlier task of the same
# run may have just rebuilt them. Without a run id (a notebook run by hand) nothing is kept.
_RUN_STATES: dict[tuple[str, str, bool], dict] = {}
_KEY_LOCKS: dict[tuple[str, str, bool], threading.Lock] = {}
_MEMO_LOCK = threading.Lock()
_MEMO_LAYERS = frozenset({"bronze", "silver"})


def render_sql(sql: str, values: dict[str, str]) -> str:
    """Replace `${silver}`-style placeholders with the run's schema names."""

    def _value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise ParameterError(
                f"unknown placeholder ${{{name}}} in gold SQL (known: {', '.join(sorted(values))})"
            )
        return values[name]

    return _PLACEHOLDER.sub(_value, sql)


@for_table("gold")
def build(
    spark: SparkSession,
    table: GoldSpec,
    ctx: RunContext,
    *,
    force: bool = False,
    guard: TableGuard | None = None,
) -> TableRun:
    """Refresh one gold table if anything it reads changed (or `force`): by key when its spec allows
    it and that is safe (layers/gold_refresh.py), else rebuilt whole. `guard` protects a new table
    before its first row (medallion.security.protect)."""
    run = TableRun(layer="gold", table=table.table)
    target = ctx.table("gold", table.table)
    with timed(run):
        keyed = bool(table.refresh_key)
        upstream = {
            f"{layer}.{name}".lower(): _upstream_state(spark, ctx, layer, name, keyed)
            for layer, name in sorted(table.upstream)
        }
        stamp = {
            "medallion_upstream": {name: state["version"] for name, state in upstream.items()},
            "fingerprint": refresh_fingerprint(table),
        }
        if keyed:
            stamp["upstream_state"] = upstream
        previous = _stamp_of(last_write(spark, target))  # OPTIMIZE and VACUUM keep the last build's stamp
        if not force and previous == stamp:
            run.status = "skipped"
            run.details["reason"] = "upstream unchanged"
            return run
        df = spark.sql(render_sql(table.sql, ctx.placeholders()))
        if guard is not None and guard.protects(target):
            _protect(spark, df, target, guard)
        # Counted from Delta's file statistics (no scan): what a rebuild reads, and whether planning pays.
        upstream_rows = sum(spark.table(ctx.table(layer, name)).count() for layer, name in table.upstream)
        plan = None
        if keyed and not force:
            plan = _keyed_plan(spark, table, ctx, target, df, previous, upstream, upstream_rows)
            run.details["refresh"] = "by key" if not plan.reason else f"whole: {plan.reason}"
        if plan is not None and not plan.reason:
            # Only the rows of the changed keys, replacing exactly those keys' rows in one commit. Delta
            # reports no row count for a replaceWhere write: it is counted here and kept in the stamp.
            rows = df.where(plan.predicate).persist()
            try:
                run.rows_written = rows.count()
                metadata = with_run_mark(spark, {**stamp, ROWS_KEY: run.rows_written})
                _overwrite(rows, metadata).option("replaceWhere", plan.predicate).saveAsTable(target)
            finally:
                rows.unpersist()
            run.details["keys"] = len(plan.keys)
            run.rows_read = plan.change_rows
            commit = last_commit(spark, target) or {}
            since = previous.get("medallion_upstream") or {}  # a refresh by key took in what came since
        else:
            metadata = with_run_mark(spark, stamp)  # the run id stays on the commit (rollback)
            with commit_metadata(stamp, spark):  # the option alone is lost when the write creates the table
                _overwrite(df, metadata).option("overwriteSchema", "true").saveAsTable(target)
            run.rows_read = upstream_rows
            commit = last_commit(spark, target) or {}
            run.rows_written = int((commit.get("operationMetrics") or {}).get("numOutputRows", 0))
            since = {}  # a whole rebuild read everything
        if "version" in commit:
            run.lineage = [
                LineageEdge(int(commit["version"]), name, _after(since.get(name)), state["version"])
                for name, state in upstream.items()
                if state["version"] is not None
            ]
    log.info(
        "gold %s: %d rows in %.1fs %s",
        table.table,
        run.rows_written,
        run.seconds,
        run.details.get("refresh", ""),
    )
    return run


def _upstream_state(spark: SparkSession, ctx: RunContext, layer: str, name: str, with_id: bool) -> dict:
    run_id = current_run_id(spark)
    if not run_id or layer not in _MEMO_LAYERS:
        return upstream_state(spark, ctx.table(layer, name), with_id=with_id)
    key = (run_id, ctx.table(layer, name), with_id)
    with _MEMO_LOCK:
        for stale in [k for k in _KEY_LOCKS if k[0] != run_id]:  # keep only this run's
            _KEY_LOCKS.pop(stale)
            _RUN_STATES.pop(stale, None)
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:  # iterations running at the same time wait for one lookup instead of repeating it
        if key not in _RUN_STATES:
            _RUN_STATES[key] = upstream_state(spark, key[1], with_id=with_id)
        return dict(_RUN_STATES[key])


def _after(version) -> int:
    """The first upstream version a build took in after `version` (None: it had read none)."""
    return version + 1 if isinstance(version, int) else 0


def _protect(spark: SparkSession, df, target: str, guard: TableGuard) -> None:
    """A new table is created empty and protected before the rows; an existing one is checked."""
    if table_exists(spark, target):
        guard(target, created=False)
        return
    creating(lambda: df.limit(0).write.format("delta").mode("append").saveAsTable(target))
    guard(target, created=True)


def _overwrite(df, metadata: str):
    return df.write.format("delta").mode("overwrite").option("userMetadata", metadata)


def _stamp_of(commit: dict | None) -> dict:
    """What the last build stored in its commit (`{}` if none, or from before stamps were JSON objects)."""
    try:
        stamp = json.loads((commit or {}).get("userMetadata") or "{}")
    except ValueError:
        return {}
    if not isinstance(stamp, dict):
        return {}
    stamp.pop(RUN_KEY, None)  # which run wrote it, and how many rows, are not what it was built from
    stamp.pop(ROWS_KEY, None)
    return stamp


def _keyed_plan(
    spark,
    table: GoldSpec,
    ctx: RunContext,
    target: str,
    df,
    previous: dict,
    upstream: dict,
    upstream_rows: int,
):
    """Plan a refresh by key; a result whose shape differs from the table's must be rebuilt whole, and
    one over small upstream tables costs less to rebuild than to plan."""
    if table.refresh_key not in df.columns:
        raise SpecError(
            f"gold_tables.csv row {table.row}, column refresh_key: {table.refresh_key!r} is not a column "
            f"of {table.sql_file} (its columns: {', '.join(df.columns)}); name one of them"
        )
    if not table_exists(spark, target):
        return KeyedRefresh(reason="first build")
    stored = spark.table(target).schema
    if [(f.name, f.dataType) for f in stored.fields] != [(f.name, f.dataType) for f in df.schema.fields]:
        return KeyedRefresh(reason="its columns changed")
    if previous and few_upstream_rows(upstream_rows):
        return KeyedRefresh(reason=f"its upstream tables hold {upstream_rows} rows: a rebuild costs less")
    key_type = df.schema[table.refresh_key].dataType
    return plan_keyed_refresh(
        spark,
        table,
        ctx,
        previous,
        upstream,
        key_type,
        lambda sql: render_sql(sql, ctx.placeholders()),
        stored_keys=lambda: spark.table(target).select(table.refresh_key).distinct().count(),
    )

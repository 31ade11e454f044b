"""Rollback and backup on a small lakehouse (bronze → silver merge table → gold), run by the layer
functions the job's notebooks call, each run marked with its run id as the notebooks mark it.

Rollback of the last run gives back the tables as they were before it, and a rerun then equals the
state the rolled-back run had made (its data processed again, once). Backup then restore gives back
the backed-up tables, and the next run continues from there.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from local_context import local_context

from medallion.context import RunContext
from medallion.delta.lineage import trace
from medallion.delta.run_marks import mark_commits
from medallion.delta.run_records import record_layer_runs
from medallion.errors import ParameterError
from medallion.layers import bronze, gold, rollback, silver
from medallion.layers.backup import backup_tables, restore_tables
from medallion.layers.rollback import rollback_run
from medallion.specs.builtin_rules import builtin_rules
from medallion.specs.model import BronzeSpec, ColumnSpec, GoldSpec, SilverSpec, Specs

pytestmark = pytest.mark.spark

SOURCE = BronzeSpec(
    "rb_orders",
    "csv",
    "rb_orders",
    {"header": "true"},
    columns=tuple(ColumnSpec("bronze", "rb_orders", n, "string") for n in ("id", "amount", "updated_at")),
)
_SILVER = SilverSpec(
    "rb_fact",
    "rb_orders",
    "merge",
    keys=("id",),
    sequence_by=("updated_at",),
    columns=(
        ColumnSpec("silver", "rb_fact", "id", "string"),
        ColumnSpec("silver", "rb_fact", "amount", "int"),
        ColumnSpec("silver", "rb_fact", "updated_at", "timestamp"),
    ),
)
SILVER = replace(_SILVER, rules=builtin_rules(_SILVER, SOURCE))
GOLD = GoldSpec(
    "rb_totals",
    "rb_totals.sql",
    sql="SELECT count(*) AS orders, sum(amount) AS total FROM ${silver}.rb_fact",
    upstream=(("silver", "rb_fact"),),
)
SPECS = Specs(bronze=(SOURCE,), silver=(SILVER,), gold=(GOLD,))
VOLATILE = ("_ingested_at", "_quarantined_at", "_run_id")  # wall-clock times and run ids differ per run


def _drop(ctx: RunContext, name: str, rows: str) -> None:
    folder = ctx.landing(SOURCE.landing_folder)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w") as handle:
        handle.write("id,amount,updated_at\n" + rows)


def _run(spark, ctx: RunContext, run_id: str) -> None:
    """What the job's bronze, silver and gold tasks do, marked as run `run_id`."""
    mark_commits(spark, run_id)
    try:
        record_layer_runs(spark, ctx, [bronze.ingest(spark, SOURCE, ctx)], run_id)
        silver.build(spark, SILVER, ctx, run_id=run_id)
        record_layer_runs(spark, ctx, [gold.build(spark, GOLD, ctx)], run_id)
    finally:
        mark_commits(spark, "")


def _state(spark, ctx: RunContext) -> dict[str, list]:
    tables = {
        "bronze": ctx.table("bronze", SOURCE.table),
        "silver": ctx.table("silver", SILVER.table),
        "gold": ctx.table("gold", GOLD.table),
    }
    state = {}
    for label, name in tables.items():
        df = spark.table(name)
        df = df.drop(*[c for c in VOLATILE if c in df.columns])
        state[label] = sorted(tuple(str(v) for v in r) for r in df.collect())
    return state


def _landing_files(spark, ctx: RunContext) -> set[str]:
    """The landing files the gold table's newest version traces back to."""
    return {path.rsplit("/", 1)[-1] for path in trace(spark, ctx, f"gold.{GOLD.table}").files}


@pytest.fixture
def ctx(spark_session, tmp_path):
    context = local_context(tmp_path, "rb")
    for layer in ("bronze", "silver", "gold"):
        spark_session.sql(f"CREATE SCHEMA IF NOT EXISTS {context.schema(layer)}")
    return context


def test_rollback_of_the_last_run_then_a_rerun_equals_the_state_before_and_a_backup_restores(spark, ctx):
    """One lakehouse through four runs: r1 (then a backup), r2 rolled back and run again as r3, and
    after silver is lost, the backup restored and r4 catching up."""
    _drop(ctx, "d1.csv", "1,10,2024-01-01 00:00:00\n2,20,2024-01-01 00:00:00\n")
    _run(spark, ctx, "r1")
    before = _state(spark, ctx)
    copies = backup_tables(spark, ctx, SPECS, "rb_backup")
    assert {c.table for c in copies} >= {"rb_fact", "rb_totals"}

    _drop(ctx, "d2.csv", "1,15,2024-01-02 00:00:00\n3,30,2024-01-02 00:00:00\nx,bad,\n")
    _run(spark, ctx, "r2")
    after = _state(spark, ctx)
    assert after != before and after["gold"] == [("3", "65")]

    planned = rollback_run(spark, ctx, SPECS, "r2", dry_run=True)
    tables = [(s.layer, s.table) for s in planned]
    assert tables[0] == ("gold", "rb_totals") and tables[-1] == ("bronze", "rb_orders")  # downstream first
    assert {("silver", "rb_fact"), ("silver", "rb_fact_quarantine")} <= set(tables)
    assert next(s for s in planned if s.table == "rb_fact_quarantine").version_before == -1  # made by r2
    assert _state(spark, ctx) == after  # a dry run changes nothing
    assert _landing_files(spark, ctx) == {"d1.csv", "d2.csv"}
    rollback_run(spark, ctx, SPECS, "r2")
    assert _state(spark, ctx) == before
    assert _landing_files(spark, ctx) == {"d1.csv"}  # what r2 took in is gone from the lineage too

    _run(spark, ctx, "r3")  # the rolled-back drop is ingested and built again, exactly once
    assert _state(spark, ctx) == after
    assert _landing_files(spark, ctx) == {"d1.csv", "d2.csv"}
    with pytest.raises(
        ParameterError, match=r"run r1 is not the last to write: gold rb_totals \(written after it by r3\)"
    ):
        rollback_run(spark, ctx, SPECS, "r1")
    with pytest.raises(ParameterError, match="run r2 was rolled back already"):
        rollback_run(spark, ctx, SPECS, "r2")
    with pytest.raises(ParameterError, match="no table has a commit of run 'nope'"):
        rollback_run(spark, ctx, SPECS, "nope")
    with pytest.MonkeyPatch.context() as patch:  # a week later, its files may be vacuumed
        patch.setattr(rollback, "now", lambda: datetime.now(UTC).replace(tzinfo=None) + timedelta(days=8))
        with pytest.raises(ParameterError, match="run r3 wrote gold rb_totals more than 168 hours ago"):
            rollback_run(spark, ctx, SPECS, "r3", dry_run=True)

    # Backup, then restore: silver and gold as they were at the backup (after r1) ...
    spark.sql(f"DELETE FROM {ctx.table('silver', SILVER.table)}")  # a bad day: silver is lost
    restore_tables(spark, ctx, SPECS, "rb_backup")
    restored = _state(spark, ctx)
    assert (restored["silver"], restored["gold"]) == (before["silver"], before["gold"])
    # ... and the next run processes the bronze rows that arrived since the backup, once.
    _run(spark, ctx, "r4")
    assert _state(spark, ctx) == after

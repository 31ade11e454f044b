"""`medallion rollback --run <id>`: put every table a run wrote back to its version before the run,
and its stream where it was, so the next run processes the restored data again, exactly once.

1. The run's commits are found by their mark (`delta.run_marks`: each commit's userMetadata names
   its run). A table written by a later run is refused: that run is rolled back first.
2. Tables are restored downstream first (gold, silver with its side tables, bronze) with Delta's
   `RESTORE TABLE ... TO VERSION AS OF`; a table the run created is emptied.
3. Checkpoints go back to the copies taken before the run. Delta keeps the idempotent-write ids
   (txnAppId) a RESTORE does not undo, so a restored stream gets new ones: bronze a new writer id
   and query id, a silver table a new incarnation. A silver table whose bronze table is kept
   continues from its checkpoint copy (the run's bronze rows are read again); one whose bronze
   table is restored too starts after bronze's RESTORE commit (the restored bronze rows are those
   it had read before the run: its copy's stream mark says so, else the rollback is refused).
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.run_marks import ABSENT, checkpoint_snapshot, commit_run_id, current_run_id, mark_commits
from medallion.delta.run_records import TableRun, now, record_operation
from medallion.delta.silver_tables import SilverTarget
from medallion.delta.stream_progress import MARK_FILE
from medallion.delta.tables import UPKEEP_OPERATIONS, current_version, table_exists
from medallion.errors import ParameterError
from medallion.layers.bronze import WRITER_ID_FILE
from medallion.names import INCARNATION_PROPERTY, STREAM_START_PROPERTY
from medallion.specs.kinds.maintenance import ROLLBACK_WINDOW_HOURS
from medallion.specs.model import Specs

__all__ = ["Restore", "plan_rollback", "rollback_run"]

log = logging.getLogger(__name__)

HISTORY_DEPTH = 200  # commits searched per table for the run's marks
ROLLBACK_PREFIX = "rollback-"  # the run mark of a rollback's own commits: rollback-<run id>


@dataclass(frozen=True)
class Restore:
    layer: str
    table: str  # the spec's table name (side tables: their own name)
    name: str  # full name
    version_before: int  # -1: the run created the table
    latest: int

    def __str__(self) -> str:
        to = "empty (created by the run)" if self.version_before < 0 else f"version {self.version_before}"
        return f"{self.layer} {self.table}: version {self.latest} -> {to}"


def _tables(ctx: RunContext, specs: Specs) -> list[tuple[str, str, str]]:
    """(layer, table, full name), downstream first: gold, silver and side tables, bronze."""
    tables = [("gold", g.table, ctx.table("gold", g.table)) for g in reversed(specs.gold)]
    for spec in reversed(specs.silver):
        target = SilverTarget(ctx.table("silver", spec.table))
        tables.append(("silver", spec.table, target.name))
        for side in (target.changes, target.quarantine, target.warnings):
            tables.append(("silver", side.rsplit(".", 1)[1].strip("`"), side))
    tables += [("bronze", b.table, ctx.table("bronze", b.table)) for b in specs.bronze]
    return tables


def plan_rollback(spark: SparkSession, ctx: RunContext, specs: Specs, run_id: str) -> list[Restore]:
    """The restores a rollback of `run_id` makes; ParameterError when it cannot be rolled back."""
    plan, later = [], []
    for layer, table, name in _tables(ctx, specs):
        if not table_exists(spark, name):
            continue
        commits = [r.asDict() for r in DeltaTable.forName(spark, name).history(HISTORY_DEPTH).collect()]
        ours = [c["version"] for c in commits if commit_run_id(c) == run_id]
        if not ours:
            continue
        first = min(ours)
        oldest = min(c["timestamp"] for c in commits if commit_run_id(c) == run_id)
        if (now() - oldest).total_seconds() > ROLLBACK_WINDOW_HOURS * 3600:
            raise ParameterError(
                f"run {run_id} wrote {layer} {table} more than {ROLLBACK_WINDOW_HOURS} hours ago: its "
                "files may be vacuumed (the rollback window of table_maintenance.csv); restore a backup instead"
            )
        undone = {
            r.removeprefix(ROLLBACK_PREFIX)
            for c in commits
            if (r := commit_run_id(c)).startswith(ROLLBACK_PREFIX)
        }
        if run_id in undone:
            raise ParameterError(f"run {run_id} was rolled back already ({layer} {table})")
        others = {
            commit_run_id(c) or f"an unmarked {c['operation']}"
            for c in commits
            if c["version"] > first
            and commit_run_id(c) not in (run_id, *undone)
            and not commit_run_id(c).startswith(ROLLBACK_PREFIX)
            and c["operation"] not in UPKEEP_OPERATIONS
        }
        if others:
            later.append(f"{layer} {table} (written after it by {', '.join(sorted(others))})")
        plan.append(Restore(layer, table, name, first - 1, max(c["version"] for c in commits)))
    if not plan:
        raise ParameterError(
            f"no table has a commit of run {run_id!r} (within its last {HISTORY_DEPTH} versions); "
            "`medallion history <table>` shows the runs that wrote a table"
        )
    if later:
        raise ParameterError(
            f"run {run_id} is not the last to write: {'; '.join(later)}. Roll those runs back first"
        )
    behind = _silver_behind_bronze(spark, ctx, specs, run_id, plan)
    if behind:
        raise ParameterError(
            f"run {run_id} cannot be rolled back with its bronze tables: {'; '.join(behind)} had not read "
            "all of bronze before the run. Rebuild those tables after the rollback instead "
            "(`medallion run --full-refresh <table>`), or roll back an earlier run"
        )
    return plan


def _silver_behind_bronze(
    spark: SparkSession, ctx: RunContext, specs: Specs, run_id: str, plan: list[Restore]
) -> list[str]:
    """Silver tables of the plan whose bronze table is restored too, but whose stream (its copy from
    before the run) had not read bronze up to the version bronze is restored to."""
    bronze = {s.table: s for s in plan if s.layer == "bronze"}
    behind = []
    for spec in specs.silver:
        step = next((s for s in plan if s.layer == "silver" and s.table == spec.table), None)
        if step is None or spec.source_table not in bronze or step.version_before < 0:
            continue
        old = _properties(spark, step.name).get(INCARNATION_PROPERTY, "")
        mark = (
            checkpoint_snapshot(ctx.checkpoint_root, run_id, ctx.checkpoint("silver", spec.table))
            / old
            / MARK_FILE
        )
        try:
            read = int(json.loads(mark.read_text())["version"])
        except (OSError, ValueError, KeyError, TypeError):
            read = -1
        if read < bronze[spec.source_table].version_before:
            behind.append(spec.table)
    return behind


def _properties(spark: SparkSession, name: str) -> dict[str, str]:
    return {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}


def rollback_run(
    spark: SparkSession, ctx: RunContext, specs: Specs, run_id: str, *, dry_run: bool = False
) -> list[Restore]:
    """Roll back `run_id` (see the module docstring); with `dry_run`, only say what would be done."""
    plan = plan_rollback(spark, ctx, specs, run_id)
    if dry_run:
        return plan
    previous = current_run_id(spark)
    mark_commits(spark, ROLLBACK_PREFIX + run_id)  # so a later rollback knows this run is undone
    try:
        for step in plan:
            if step.version_before < 0:
                spark.sql(f"DELETE FROM {step.name}")
            else:
                spark.sql(f"RESTORE TABLE {step.name} TO VERSION AS OF {step.version_before}")
            log.info("rollback of %s: %s", run_id, step)
    finally:
        mark_commits(spark, previous)
    restored_bronze = {s.table for s in plan if s.layer == "bronze"}
    for step in plan:
        if step.layer == "bronze":
            _restore_bronze_checkpoint(ctx, run_id, step.table)
    for spec in specs.silver:
        step = next((s for s in plan if s.layer == "silver" and s.table == spec.table), None)
        if step is not None:
            source = ctx.table("bronze", spec.source_table) if spec.source_table in restored_bronze else None
            _restore_silver_checkpoint(spark, ctx, run_id, step, source)
    for step in plan:
        done = TableRun(layer=step.layer, table=step.table, details={"restored_to": step.version_before})
        record_operation(spark, ctx, done, f"rollback-{run_id}", kind="rollback")
    return plan


def _put_back(ctx: RunContext, run_id: str, checkpoint: str, into: str) -> None:
    """Replace the checkpoint `into` with the copy of `checkpoint` taken before the run."""
    snapshot = checkpoint_snapshot(ctx.checkpoint_root, run_id, checkpoint)
    shutil.rmtree(into, ignore_errors=True)
    if snapshot.exists():
        shutil.copytree(snapshot, into)
    elif not snapshot.with_name(snapshot.name + ABSENT).exists():
        raise ParameterError(
            f"no copy of checkpoint {checkpoint} from before run {run_id}: its stream starts from the "
            "beginning (run with --full-refresh for that table)"
        )


def _restore_bronze_checkpoint(ctx: RunContext, run_id: str, table: str) -> None:
    """The stream position from before the run, with new idempotent-write ids: a new writer id
    (local appends) and a new query id (Auto Loader's Delta sink keys its writes by it)."""
    checkpoint = ctx.checkpoint("bronze", table)
    _put_back(ctx, run_id, checkpoint, checkpoint)
    (Path(checkpoint) / WRITER_ID_FILE).unlink(missing_ok=True)
    metadata = Path(checkpoint) / "metadata"
    if metadata.exists():
        metadata.write_text(json.dumps({"id": str(uuid.uuid4())}) + "\n")


def _restore_silver_checkpoint(
    spark: SparkSession, ctx: RunContext, run_id: str, step: Restore, restored_source: str | None
) -> None:
    """A new incarnation of the restored table: its stream continues from the copy taken before the
    run, or, when its bronze table was restored as well, after bronze's RESTORE commit; a table the
    run created starts a new stream (bronze's current snapshot first)."""
    old, new = _properties(spark, step.name).get(INCARNATION_PROPERTY, ""), uuid.uuid4().hex
    properties = {INCARNATION_PROPERTY: new}
    if restored_source is not None and step.version_before >= 0:
        properties[STREAM_START_PROPERTY] = f"{new}:{current_version(spark, restored_source) + 1}"
    assignments = ", ".join(f"'{key}' = '{value}'" for key, value in properties.items())
    spark.sql(f"ALTER TABLE {step.name} SET TBLPROPERTIES ({assignments})")
    if restored_source is not None or step.version_before < 0:
        return  # emptied, or a table the run created: a new stream reads bronze's snapshot as it is now
    folder = ctx.checkpoint("silver", step.table)
    snapshot = checkpoint_snapshot(ctx.checkpoint_root, run_id, folder) / old
    if old and snapshot.exists():
        shutil.copytree(snapshot, f"{folder}/{new}")

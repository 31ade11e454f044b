"""Which run wrote each Delta commit, and the checkpoints as they were before it: what a rollback needs.

A task marks its Spark session with the job run id (`mark_commits`); Delta then stores
`{"medallion_run_id": ...}` as every commit's `userMetadata` (gold adds its refresh stamp beside
it). Before a stream of a run first starts, its checkpoint folder is copied to
`<checkpoint_root>/_rollback/<run id>/...` (once per run: a retried task keeps the first copy), so a
rollback can put the stream back where it was (medallion.layers.rollback).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

__all__ = [
    "BATCH_KEY",
    "ROWS_KEY",
    "RUN_KEY",
    "batch_marked",
    "checkpoint_snapshot",
    "commit_batch",
    "commit_metadata",
    "commit_run_id",
    "current_run_id",
    "mark_commits",
    "prune_snapshots",
    "snapshot_checkpoint",
    "with_run_mark",
]

log = logging.getLogger(__name__)

USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
RUN_KEY = "medallion_run_id"
BATCH_KEY = "medallion_batch"  # the micro-batch a stream's commit belongs to (lineage)
ROWS_KEY = "medallion_rows"  # rows a write wrote, where Delta's metrics do not say (gold by key)
SNAPSHOTS = "_rollback"
ABSENT = ".absent"  # beside a snapshot: the checkpoint did not exist before the run


def mark_commits(spark: SparkSession, run_id: str) -> None:
    """Stamp every Delta commit of this session with `run_id` (none when empty)."""
    if run_id:
        spark.conf.set(USER_METADATA_CONF, json.dumps({RUN_KEY: run_id}))
    else:
        spark.conf.unset(USER_METADATA_CONF)


def current_run_id(spark: SparkSession) -> str:
    try:
        return str(json.loads(spark.conf.get(USER_METADATA_CONF, "") or "{}").get(RUN_KEY, ""))
    except (ValueError, AttributeError):
        return ""


def with_run_mark(spark: SparkSession, metadata: dict[str, Any]) -> str:
    """A commit's own `userMetadata` (a write option replaces the session's) with the run id kept."""
    run_id = current_run_id(spark)
    return json.dumps({**metadata, RUN_KEY: run_id} if run_id else metadata)


@contextmanager
def commit_metadata(metadata: dict[str, Any], *sessions: SparkSession) -> Iterator[None]:
    """Stamp the commits made inside the block with `metadata` besides the run id, in each session.

    The session setting, not the `userMetadata` write option: Delta drops the option when the write
    creates the table (CREATE TABLE AS SELECT). A foreachBatch frame writes through the stream's own
    session, a DeltaTable through the caller's: pass both."""
    saved = [(session, session.conf.get(USER_METADATA_CONF, "")) for session in dict.fromkeys(sessions)]
    for session, _ in saved:
        session.conf.set(USER_METADATA_CONF, with_run_mark(session, metadata))
    try:
        yield
    finally:
        for session, value in saved:
            if value:
                session.conf.set(USER_METADATA_CONF, value)
            else:
                session.conf.unset(USER_METADATA_CONF)


def batch_marked(batch_id: int, *sessions: SparkSession) -> Any:
    """Stamp one micro-batch's commits with its batch id (the lineage pairs them with its input)."""
    return commit_metadata({BATCH_KEY: batch_id}, *sessions)


def _metadata(commit: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(commit.get("userMetadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def commit_run_id(commit: dict[str, Any]) -> str:
    """The run id a commit (a row of DESCRIBE HISTORY) was stamped with, "" when none."""
    return str(_metadata(commit).get(RUN_KEY, ""))


def commit_batch(commit: dict[str, Any]) -> int | None:
    """The micro-batch id a commit was stamped with (`batch_marked`), None when none."""
    batch = _metadata(commit).get(BATCH_KEY)
    return batch if isinstance(batch, int) else None


def checkpoint_snapshot(checkpoint_root: str, run_id: str, checkpoint: str) -> Path:
    """Where the copy of `checkpoint` taken before `run_id` lives."""
    relative = Path(checkpoint).relative_to(Path(checkpoint_root))
    return Path(checkpoint_root) / SNAPSHOTS / run_id / relative


def snapshot_checkpoint(spark: SparkSession, checkpoint_root: str, checkpoint: str) -> None:
    """Copy `checkpoint` before the marked run's first stream on it (no-op without a run mark)."""
    run_id = current_run_id(spark)
    if not run_id:
        return
    target = checkpoint_snapshot(checkpoint_root, run_id, checkpoint)
    absent = target.with_name(target.name + ABSENT)
    if target.exists() or absent.exists():
        return  # taken by an earlier attempt of this run: that one is the state before the run
    target.parent.mkdir(parents=True, exist_ok=True)
    if Path(checkpoint).exists():
        shutil.copytree(checkpoint, target)
    else:
        absent.touch()
    log.debug("checkpoint %s kept for a rollback of run %s", checkpoint, run_id)


def prune_snapshots(checkpoint_root: str, max_age_hours: float, now: float | None = None) -> list[str]:
    """Remove the checkpoint copies of runs older than `max_age_hours` (they can no longer be rolled
    back: their files are past the retention); returns the run ids removed."""
    folder = Path(checkpoint_root) / SNAPSHOTS
    if not folder.is_dir():
        return []
    limit = (now if now is not None else time.time()) - max_age_hours * 3600
    removed = []
    for run in sorted(folder.iterdir()):
        if run.is_dir() and run.stat().st_mtime < limit:
            shutil.rmtree(run, ignore_errors=True)
            removed.append(run.name)
    return removed

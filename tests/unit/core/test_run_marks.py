"""Run marks on Delta commits and the checkpoint copies a rollback needs (no Spark: a stand-in conf)."""

from __future__ import annotations

import json
import os
import time

from medallion.delta.run_marks import (
    checkpoint_snapshot,
    commit_run_id,
    current_run_id,
    mark_commits,
    prune_snapshots,
    snapshot_checkpoint,
    with_run_mark,
)


class Conf(dict):
    def set(self, key, value):
        self[key] = value

    def unset(self, key):
        self.pop(key, None)

    def get(self, key, default=None):
        return super().get(key, default)


class Session:
    def __init__(self):
        self.conf = Conf()


def test_a_marked_session_names_its_run_on_every_commit_and_gold_keeps_its_stamp_beside_it():
    spark = Session()
    mark_commits(spark, "run-1")
    assert current_run_id(spark) == "run-1"
    stamp = json.loads(with_run_mark(spark, {"medallion_upstream": {"silver.t": 3}}))
    assert stamp == {"medallion_upstream": {"silver.t": 3}, "medallion_run_id": "run-1"}
    assert commit_run_id({"userMetadata": json.dumps(stamp)}) == "run-1"
    assert commit_run_id({"userMetadata": "not json"}) == commit_run_id({"userMetadata": None}) == ""
    mark_commits(spark, "")
    assert current_run_id(spark) == "" and json.loads(with_run_mark(spark, {"a": 1})) == {"a": 1}


def test_the_first_copy_of_a_run_is_kept_and_a_missing_checkpoint_is_remembered(tmp_path):
    spark, root = Session(), tmp_path / "checkpoints"
    checkpoint = root / "silver" / "dim"
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "offsets" / "0").write_text("before")
    mark_commits(spark, "r1")
    snapshot_checkpoint(spark, str(root), str(checkpoint))
    (checkpoint / "offsets" / "0").write_text("after")  # the run moves on; a retried task copies again
    snapshot_checkpoint(spark, str(root), str(checkpoint))
    copy = checkpoint_snapshot(str(root), "r1", str(checkpoint))
    assert (copy / "offsets" / "0").read_text() == "before"
    snapshot_checkpoint(spark, str(root), str(root / "bronze" / "new"))
    assert (checkpoint_snapshot(str(root), "r1", str(root / "bronze")) / "new.absent").exists()


def test_copies_of_runs_past_the_window_are_pruned(tmp_path):
    spark, root = Session(), tmp_path / "checkpoints"
    for run in ("old", "new"):
        (root / "silver" / "t").mkdir(parents=True, exist_ok=True)
        mark_commits(spark, run)
        snapshot_checkpoint(spark, str(root), str(root / "silver" / "t"))
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(root / "_rollback" / "old", (week_ago, week_ago))
    assert prune_snapshots(str(root), max_age_hours=168) == ["old"]
    assert sorted(p.name for p in (root / "_rollback").iterdir()) == ["new"]

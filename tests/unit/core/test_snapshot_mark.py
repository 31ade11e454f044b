"""The snapshot mark a change log keeps (docs/scd.md, snapshot sources), read without Spark."""

from __future__ import annotations

import json
from dataclasses import asdict

from medallion.layers.scd_snapshots import SnapshotMark


def test_a_mark_reads_back_what_was_written():
    mark = SnapshotMark("2024-03-01", "medallion:abc:`c`.`s`.`t_changes`", 7, 41, "2024-02-01")
    again = SnapshotMark.parse(json.dumps(asdict(mark)))
    assert again == mark
    assert again.replayed_by("medallion:abc:`c`.`s`.`t_changes`", 7)
    assert not again.replayed_by("medallion:abc:`c`.`s`.`t_changes`", 8)  # a later batch
    assert not again.replayed_by("medallion:abc:requeue:`c`.`s`.`t_changes`", 7)  # another writer


def test_a_plain_value_is_the_mark_of_a_table_written_before_batches_were_kept():
    for text in ("2024-03-01", "3", "2024-03-01 10:00:00"):
        mark = SnapshotMark.parse(text)
        assert mark.applied == text and mark.batch is None
        assert not mark.replayed_by("", 0)
    assert SnapshotMark.parse(None) == SnapshotMark()


def test_fields_a_newer_version_added_are_ignored():
    text = json.dumps({"applied": "5", "writer": "w", "batch": 2, "version_before": 3, "later": True})
    assert SnapshotMark.parse(text) == SnapshotMark("5", "w", 2, 3, None)

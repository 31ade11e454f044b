"""The stream mark: a run skips a stream only when its source is exactly where the last stream left it."""

from __future__ import annotations

import json

from medallion.delta.stream_progress import MARK_FILE, SourceState, keeps_marks, mark_read, nothing_new


def test_a_mark_matches_only_the_same_table_and_version(tmp_path):
    checkpoint = str(tmp_path)
    state = SourceState("table-1", 7)
    assert not nothing_new(checkpoint, state)  # no mark yet: run the stream
    mark_read(checkpoint, state)
    assert nothing_new(checkpoint, state)
    assert nothing_new(f"file:{checkpoint}", state)
    assert not nothing_new(checkpoint, SourceState("table-1", 8))  # new data
    assert not nothing_new(checkpoint, SourceState("table-2", 7))  # a recreated source restarts versions
    assert not nothing_new(checkpoint, None)  # no source table


def test_mark_replaces_the_previous_one_and_leaves_no_temp_file(tmp_path):
    mark_read(str(tmp_path), SourceState("t", 1))
    mark_read(str(tmp_path), SourceState("t", 2))
    assert json.loads((tmp_path / MARK_FILE).read_text()) == {"table_id": "t", "version": 2}
    assert [p.name for p in tmp_path.iterdir()] == [MARK_FILE]


def test_unreadable_mark_or_remote_checkpoint_runs_the_stream(tmp_path, caplog):
    (tmp_path / MARK_FILE).write_text("{not json")
    assert not nothing_new(str(tmp_path), SourceState("t", 1))
    assert "ignoring unreadable stream mark" in caplog.text
    mark_read("s3://bucket/checkpoints/x", SourceState("t", 1))  # no local file system: nothing written
    assert not nothing_new("s3://bucket/checkpoints/x", SourceState("t", 1))


def test_no_mark_before_the_checkpoint_exists(tmp_path):
    missing = tmp_path / "not-yet"
    mark_read(str(missing), SourceState("t", 1))
    assert not missing.exists()


def test_marks_are_kept_beside_local_and_volume_checkpoints_only(tmp_path):
    """Where no mark can be kept the silver build does not look up the source's state at all."""
    assert keeps_marks(str(tmp_path)) and keeps_marks(f"file:{tmp_path}")
    assert keeps_marks("/Volumes/main/ops/checkpoints/silver/orders")
    assert not keeps_marks("s3://bucket/checkpoints/silver/orders")
    assert not keeps_marks("abfss://c@account/checkpoints/silver/orders")
    assert not keeps_marks("relative/checkpoints")

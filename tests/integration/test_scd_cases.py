"""One named test per numbered case of docs/scd.md, through the real silver path and Delta.

Rows read back as (id, name, tier, note, updated_at, effective_from, effective_to, is_current)
for SCD2 and (id, name, tier, note, updated_at) for SCD1.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from scd_harness import ScdHarness, scd_table

from medallion.errors import SpecDriftError
from medallion.layers.scd import CONFLICT_REASON, TIE_REASON

pytestmark = pytest.mark.spark


def ev(key, seq, name=None, tier="t1", note="n", op="U"):
    return {"id": key, "updated_at": seq, "name": name, "tier": tier, "note": note, "op": op}


def delete(key, seq):
    return {"id": key, "updated_at": seq, "op": "D"}


@pytest.fixture
def dim(spark):
    return ScdHarness(spark, scd_table())


def test_case1_several_changes_to_one_key_in_one_batch_make_one_version_each(dim):
    counts = dim.apply([ev("a", 3, "C"), ev("a", 1, "A"), ev("a", 2, "B")])
    assert dim.rows() == [
        ("a", "A", "t1", "n", 1, 1, 2, False),
        ("a", "B", "t1", "n", 2, 2, 3, False),
        ("a", "C", "t1", "n", 3, 3, None, True),
    ]
    assert counts["changes"] == 3


def test_case2_late_event_is_inserted_in_its_place_and_current_stays_current(dim):
    dim.apply([ev("a", 1, "A"), ev("a", 5, "E")])
    dim.apply([ev("a", 3, "LATE")])
    assert dim.rows("name", "effective_from", "effective_to", "is_current") == [
        ("A", 1, 3, False),
        ("E", 5, None, True),
        ("LATE", 3, 5, False),
    ]


def test_case3_delete_closes_the_version_and_reinsert_opens_a_new_one(dim):
    dim.apply([ev("a", 1, "A")])
    dim.apply([delete("a", 4)])
    assert dim.rows() == [("a", "A", "t1", "n", 1, 1, 4, False)]
    dim.apply([ev("a", 6, "A", op="I")])
    assert dim.rows() == [("a", "A", "t1", "n", 1, 1, 4, False), ("a", "A", "t1", "n", 6, 6, None, True)]


def test_case3_delete_of_an_unseen_key_is_a_tombstone_for_older_inserts(dim):
    dim.apply([delete("a", 5)])
    assert dim.rows() == []
    dim.apply([ev("a", 2, "OLD", op="I")])
    assert dim.rows() == [("a", "OLD", "t1", "n", 2, 2, 5, False)]
    changes = dim.spark.read.table(dim.target.changes).filter("_is_delete").count()
    assert changes == 1


def test_case4_change_detection_is_null_safe(dim):
    dim.apply(
        [
            ev("a", 1, None),  # name NULL
            ev("a", 2, "A"),  # NULL -> value
            ev("a", 3, None),  # value -> NULL
            ev("b", 1, "x", tier="y"),
            ev("b", 2, "y", tier="x"),  # values swap between tracked columns
            ev("c", 1, None, tier=None),
            ev("c", 2, None, tier=None),  # NULL -> NULL: no change
        ]
    )
    assert dim.rows("id", "name", "tier", "effective_from", "is_current") == [
        ("a", "A", "t1", 2, False),
        ("a", None, "t1", 1, False),
        ("a", None, "t1", 3, True),
        ("b", "x", "y", 1, False),
        ("b", "y", "x", 2, True),
        ("c", None, None, 1, True),
    ]


def test_case5_untracked_only_change_updates_the_version_in_place(dim):
    dim.apply([ev("a", 1, "A", note="first")])
    version_rows = dim.rows()
    dim.apply([ev("a", 2, "A", note="second")])
    dim.apply([ev("a", 3, "A", note="third")])  # same tracked values, newer: no new version
    assert len(dim.rows()) == len(version_rows) == 1
    assert dim.rows() == [("a", "A", "t1", "third", 3, 1, None, True)]


def test_case5_late_untracked_change_does_not_overwrite_a_newer_one(dim):
    dim.apply([ev("a", 1, "A", note="first"), ev("a", 3, "A", note="third")])
    dim.apply([ev("a", 2, "A", note="late")])
    assert dim.rows() == [("a", "A", "t1", "third", 3, 1, None, True)]


def test_case6_null_key_null_sequence_and_ties_go_to_quarantine_counted(dim):
    counts = dim.apply(
        [
            ev(None, 1, "no key"),
            ev("a", None, "no sequence"),
            ev("b", 1, "B1"),
            ev("b", 1, "B2"),  # tie in one batch: neither wins
            ev("c", 1, "C"),
            ev("c", 1, "C"),  # exact duplicate: dropped, counted
        ]
    )
    assert counts["quarantined"] == 4
    assert counts["duplicates"] == 1
    assert dim.rows("id", "name") == [("c", "C")]
    counts = dim.apply([ev("c", 1, "C-other")])  # tie with an accepted event of an earlier batch
    assert counts["quarantined"] == 1
    assert dim.rows("id", "name") == [("c", "C")]
    assert dim.quarantine() == [
        ("a", None, "rules: updated_at_is_null"),
        ("b", 1, TIE_REASON),
        ("b", 1, TIE_REASON),
        ("c", 1, CONFLICT_REASON),
        (None, 1, "rules: id_is_null"),
    ]


def test_case7_replaying_a_batch_changes_nothing(dim):
    batch = [ev("a", 1, "A"), ev("a", 2, "B"), delete("b", 1), ev("c", 1, "C"), ev("c", 1, "C2")]
    dim.apply(batch)
    rows, version = dim.rows(), dim.version()
    quarantine, log_rows = dim.quarantine(), dim.spark.read.table(dim.target.changes).count()
    counts = dim.apply(batch, batch_id=0)
    assert dim.version() == version
    assert dim.rows() == rows
    assert dim.quarantine() == quarantine
    assert dim.spark.read.table(dim.target.changes).count() == log_rows
    assert counts["rows_inserted"] == counts["rows_deleted"] == 0


def test_case9_validity_columns_come_from_the_business_sequence(spark):
    dim = ScdHarness(spark, scd_table(sequence_type="timestamp"))
    dim.apply([ev("a", "2024-03-01 00:00:00", "A")])
    dim.apply([ev("a", "2023-01-15 08:30:00", "BACKFILL")])  # loaded later, happened earlier
    assert dim.rows("name", "effective_from", "effective_to", "is_current") == [
        ("A", datetime(2024, 3, 1), None, True),
        ("BACKFILL", datetime(2023, 1, 15, 8, 30), datetime(2024, 3, 1), False),
    ]


def test_scd1_keeps_the_newest_and_deletes_with_tombstones(spark):
    dim = ScdHarness(spark, scd_table(scd_type=1))
    dim.apply([ev("a", 2, "A2"), ev("a", 1, "A1"), ev("b", 1, "B")])
    assert dim.rows() == [("a", "A2", "t1", "n", 2), ("b", "B", "t1", "n", 1)]
    dim.apply([ev("a", 1, "OLDER"), delete("b", 3), delete("c", 5)])  # older never overwrites newer
    assert dim.rows() == [("a", "A2", "t1", "n", 2)]
    dim.apply([ev("b", 2, "B-late"), ev("c", 4, "C-older-than-delete")])
    assert dim.rows() == [("a", "A2", "t1", "n", 2)]
    dim.apply([ev("c", 6, "C-reinsert", op="I")])
    assert dim.rows("id", "name") == [("a", "A2"), ("c", "C-reinsert")]


def test_composite_sequence_orders_by_every_column(spark):
    table = scd_table()
    table = replace(table, sequence_by=("updated_at", "note"))
    table = replace(table, scd=replace(table.scd, untracked_columns=()))
    dim = ScdHarness(spark, table)
    dim.apply([ev("a", 1, "A", note="2"), ev("a", 1, "B", note="1"), ev("a", 2, "C", note="0")])
    assert dim.rows("name", "note", "effective_from", "effective_to") == [
        ("A", "2", 1, 2),
        ("B", "1", 1, 1),
        ("C", "0", 2, None),
    ]


def test_snapshot_source_derives_inserts_updates_and_deletes(spark):
    dim = ScdHarness(spark, scd_table(source_kind="snapshot"))
    dim.apply([ev("a", 1, "A"), ev("b", 1, "B"), ev("c", 1, "C")])
    dim.apply([ev("a", 2, "A"), ev("b", 2, "B2"), ev("d", 2, "D")])  # c missing: deleted at 2
    assert dim.rows("id", "name", "effective_from", "effective_to") == [
        ("a", "A", 1, None),
        ("b", "B", 1, 2),
        ("b", "B2", 2, None),
        ("c", "C", 1, 2),
        ("d", "D", 2, None),
    ]
    version = dim.version()
    counts = dim.apply([ev("a", 1, "A-old")])  # older than the newest applied snapshot
    assert counts["quarantined"] == 1 and dim.version() == version
    assert dim.quarantine()[0][2].startswith("snapshot older than the latest applied snapshot")
    dim.apply([ev("a", 3, "A"), ev("b", 3, "B2"), ev("d", 3, "D")])  # changes nothing, but is applied
    version = dim.version()
    counts = dim.apply([ev("a", 2, "A-again"), ev("b", 2, "B2")])  # so this one is older: quarantined
    assert counts["quarantined"] == 2 and dim.version() == version
    assert dim.rows("id", "name", "is_current")[0] == ("a", "A", True)


def test_a_snapshot_batch_replayed_after_its_events_were_logged_ends_as_one_attempt(spark, monkeypatch):
    """Two snapshots in one micro-batch, and the process dies after the change log took their events
    but before silver changed: the stream replays the batch. The replay must not call the older
    snapshot late (it is this batch's own) and must rebuild every key either snapshot changed."""
    import medallion.layers.scd as scd

    first = [ev("a", 1, "A"), ev("b", 1, "B")]
    batch = [ev("a", 2, "A2"), ev("b", 2, "B"), ev("a", 3, "A2"), ev("b", 3, "B3")]  # a moves at 2, b at 3
    clean = ScdHarness(spark, scd_table(source_kind="snapshot"))
    clean.apply(first)
    clean.apply(batch)

    dim = ScdHarness(spark, scd_table(source_kind="snapshot"))
    dim.apply(first)

    def killed(*args, **kwargs):
        raise RuntimeError("process killed before silver changed")

    with monkeypatch.context() as patch:
        patch.setattr(scd, "_replace_keys", killed)
        with pytest.raises(RuntimeError, match="process killed"):
            dim.apply(batch)
    counts = dim.apply(batch, batch_id=dim.batch_id)  # the stream's replay of the same batch

    assert counts["quarantined"] == 0, dim.quarantine()
    assert dim.rows() == clean.rows()
    assert ("a", "A2", 2, None) in dim.rows("id", "name", "effective_from", "effective_to")
    version = dim.version()
    dim.apply(batch, batch_id=dim.batch_id)  # replayed once more: nothing left to do
    assert dim.version() == version and dim.quarantine() == []


def test_case8_a_changed_shape_is_refused_until_a_full_refresh(spark, tmp_path):
    dim = ScdHarness(spark, scd_table())
    dim.apply([ev("a", 1, "A")])
    for drifted in (
        replace(dim.table, keys=("id", "name")),
        replace(dim.table, sequence_by=("note",)),
        replace(dim.table, scd=replace(dim.table.scd, tracked_columns=("name",))),
        replace(dim.table, load_pattern="scd1", scd=replace(dim.table.scd, scd_type=1)),
    ):
        with pytest.raises(SpecDriftError, match="--full-refresh dim_item"):
            ScdHarness(spark, drifted, schema=dim.ctx.silver_schema)


def test_case8_full_refresh_rebuilds_the_table_from_bronze(spark, tmp_path):
    from medallion.layers import silver

    dim = ScdHarness(spark, scd_table(), checkpoint_root=str(tmp_path / "checkpoints"))
    bronze = dim.ctx.table("bronze", dim.table.source_table)
    dim.bronze([ev("a", 1, "A"), ev("a", 2, "B")]).write.format("delta").saveAsTable(bronze)
    assert silver.build(spark, dim.table, dim.ctx).rows_read == 2
    before = dim.rows()
    drifted = replace(dim.table, scd=replace(dim.table.scd, tracked_columns=("tier",)))
    with pytest.raises(SpecDriftError) as refused:
        silver.build(spark, drifted, dim.ctx)
    assert "tracked_columns: built with 'name,tier', spec now says 'tier'" in str(refused.value)
    run = silver.build(spark, drifted, dim.ctx, full_refresh=True)
    assert run.rows_read == 2 and run.details["full_refresh"] == "yes"
    # tier never changed, so one version; name is no longer tracked, so it holds the newest value
    assert dim.rows("name", "effective_from", "is_current") == [("B", 1, True)]
    assert before != dim.rows()
    assert silver.build(spark, drifted, dim.ctx).status == "skipped"


@pytest.mark.parametrize("literal_keys", [2000, 1], ids=["replace-where", "merge"])
def test_a_new_batch_replaces_its_keys_and_counts_what_the_commit_changed(spark, monkeypatch, literal_keys):
    """A batch new to the change log rewrites its keys without comparing first (replaceWhere for a
    few keys, a MERGE for many); its counts are the commit's. A resent file compares and writes only
    the keys that differ."""
    monkeypatch.setattr("medallion.delta.key_predicates.MAX_LITERAL_KEYS", literal_keys)
    dim = ScdHarness(spark, scd_table())
    dim.apply([ev("a", 1, "A"), ev("b", 1, "B"), ev("c", 1, "C")])
    counts = dim.apply([ev("a", 2, "A2"), ev("b", 2, "B", note="untracked"), ev("d", 1, "D")])
    assert dim.rows("id", "name", "note", "is_current") == [
        ("a", "A", "n", False),
        ("a", "A2", "n", True),
        ("b", "B", "untracked", True),
        ("c", "C", "n", True),
        ("d", "D", "n", True),
    ]
    # a: its version closed and a new one; b: its version rewritten in place; d: new
    assert (counts["keys_changed"], counts["rows_deleted"], counts["rows_inserted"]) == (3, 2, 4)
    version = dim.version()
    resent = dim.apply([ev("a", 2, "A2"), ev("c", 2, "C2")])  # a: logged already; c: new
    assert (resent["duplicates"], resent["keys_changed"], resent["rows_deleted"]) == (1, 1, 1)
    assert dim.version() == version + 1
    assert dim.rows("id", "name", "is_current")[-3:] == [
        ("c", "C", False),
        ("c", "C2", True),
        ("d", "D", True),
    ]


def test_a_batch_stopped_between_its_change_log_and_its_swap_is_swapped_by_its_replay(spark, monkeypatch):
    """The replay finds its rows in the change log already, so it compares instead of replacing
    unread, and still swaps the keys the stopped attempt left behind."""
    from medallion.layers import scd

    monkeypatch.setattr("medallion.delta.key_predicates.MAX_LITERAL_KEYS", 1)  # the MERGE path
    dim = ScdHarness(spark, scd_table())
    dim.apply([ev("a", 1, "A"), ev("b", 1, "B")])
    batch = [ev("a", 2, "A2"), ev("b", 2, "B2"), ev("c", 1, "C")]
    replace_all = scd.replace_all

    def stopped(*args, **kwargs):
        raise RuntimeError("stopped after the change log took the batch")

    monkeypatch.setattr(scd, "replace_all", stopped)
    with pytest.raises(RuntimeError, match="stopped"):
        dim.apply(batch)
    monkeypatch.setattr(scd, "replace_all", replace_all)
    assert dim.rows("id", "name") == [("a", "A"), ("b", "B")]  # the swap did not happen
    counts = dim.apply(batch, batch_id=dim.batch_id)
    assert dim.rows("id", "name", "is_current") == [
        ("a", "A", False),
        ("a", "A2", True),
        ("b", "B", False),
        ("b", "B2", True),
        ("c", "C", True),
    ]
    assert (counts["duplicates"], counts["keys_changed"], counts["rows_deleted"]) == (3, 3, 2)

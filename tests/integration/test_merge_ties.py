"""The merge writer: no winner picked between two different rows with the same key and sequence; a first
load appended, later batches merged."""

from __future__ import annotations

from dataclasses import replace

import pytest
from scd_harness import ScdHarness, scd_table

from medallion.delta.tables import last_commit
from medallion.errors import DataError
from medallion.layers.per_key import COPY, LATEST, TIES, latest_per_key, rank_per_key
from medallion.specs.model import ColumnSpec, SilverSpec

pytestmark = pytest.mark.spark


def _table() -> SilverSpec:
    columns = tuple(
        ColumnSpec("silver", "t", name, dtype)
        for name, dtype in [("k", "bigint"), ("v", "string"), ("seq", "int")]
    )
    return SilverSpec("t", "src", "merge", keys=("k",), sequence_by=("seq",), columns=columns, row=7)


def _frame(spark, rows):
    return spark.createDataFrame(
        rows, "k bigint, v string, seq int, _source_file string, _ingested_at timestamp"
    )


def test_tie_on_latest_sequence_is_an_error_naming_key_and_spec_row(spark):
    batch = _frame(spark, [(1, "a", 2, "f1", None), (1, "b", 2, "f2", None), (2, "x", 1, "f1", None)])
    with pytest.raises(DataError) as caught:
        latest_per_key(batch, _table())
    message = str(caught.value)
    assert "k=1, seq=2 (2 versions)" in message
    assert "incremental_load_patterns.csv (row 7)" in message


def test_exact_duplicates_and_older_versions_collapse_to_the_latest(spark):
    batch = _frame(
        spark,
        [
            (1, "old", 1, "f1", None),
            (1, "new", 2, "f1", None),
            (1, "new", 2, "f2", None),
            (2, "only", 5, "f1", None),
        ],
    )
    rows = sorted((r.k, r.v, r.seq) for r in latest_per_key(batch, _table()).collect())
    assert rows == [(1, "new", 2), (2, "only", 5)]


def test_one_pass_marks_copies_null_safely_and_counts_ties_after_copies_collapse(spark):
    batch = _frame(
        spark,
        [
            (1, "new", 2, "f1", None),
            (1, "old", 1, "f1", None),
            (1, "new", 2, "f2", None),  # a copy from another file, not next to its twin as read
            (2, None, 3, "f1", None),
            (2, None, 3, "f2", None),  # NULL equals NULL for a copy
            (3, "a", 4, "f1", None),
            (3, "b", 4, "f1", None),  # a tie: two different rows, one sequence
            (3, "a", 4, "f2", None),  # a copy of one of them: still two versions
            (4, None, 1, "f1", None),  # alone: no earlier row to copy
        ],
    )
    marks: dict[int, list[tuple[bool, bool, int]]] = {}
    for r in rank_per_key(batch, _table()).collect():
        marks.setdefault(r.k, []).append((r[COPY], r[LATEST], r[TIES]))
    per_key = {
        k: (sum(c for c, _, _ in m), sum(lt for _, lt, _ in m), {t for _, _, t in m})
        for k, m in marks.items()
    }
    assert per_key == {1: (1, 1, {1}), 2: (1, 1, {1}), 3: (1, 2, {2}), 4: (0, 1, {1})}


def _row(key: str, name: str, seq: int, op: str = "U") -> dict:
    return {"id": key, "name": name, "tier": "gold", "note": "n", "updated_at": seq, "op": op}


def test_a_first_load_appends_the_latest_rows_and_later_batches_merge(spark):
    """Into an empty table the writer appends (no MERGE to pay for); what it writes is what a MERGE
    would: the latest row per key, copies collapsed, keys whose latest event is a delete left out."""
    items = ScdHarness(spark, replace(scd_table(), load_pattern="merge", scd=None))
    first = [
        _row("a", "A1", 1),
        _row("a", "A2", 2),
        _row("b", "B", 1),
        _row("b", "B", 1),  # an exact copy
        _row("c", "C", 1),
        _row("c", "C", 2, op="D"),  # inserted and deleted in the same batch
        _row("d", "D", 1, op="D"),  # a delete of a key never stored
    ]
    counts = items.apply(first)
    assert last_commit(spark, items.name)["operation"] == "WRITE"
    assert items.rows("id", "name", "updated_at") == [("a", "A2", 2), ("b", "B", 1)]
    assert (counts["read"], counts["written"], counts["duplicates"], counts["inserted"]) == (7, 6, 1, 2)

    items.apply(first, batch_id=0)  # a replay of the first batch, after the table filled
    assert items.rows("id", "name", "updated_at") == [("a", "A2", 2), ("b", "B", 1)]

    items.apply([_row("a", "A3", 3), _row("b", "B0", 0), _row("e", "E", 1)])
    assert last_commit(spark, items.name)["operation"] == "MERGE"
    assert items.rows("id", "name", "updated_at") == [("a", "A3", 3), ("b", "B", 1), ("e", "E", 1)]

"""A merge refuses to pick a winner between two different rows with the same key and sequence."""

from __future__ import annotations

import pytest

from medallion.errors import DataError
from medallion.layers.writers import latest_per_key
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

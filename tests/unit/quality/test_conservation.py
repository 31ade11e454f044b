"""The row-conservation check of a silver batch: read = written + quarantined + duplicates."""

from __future__ import annotations

import pytest

from medallion.errors import DataError
from medallion.layers.silver_batch import check_conservation
from medallion.specs.model import SilverSpec

TABLE = SilverSpec(table="fact_x", source_table="x", load_pattern="merge", keys=("id",), sequence_by=("ts",))


def test_a_batch_whose_rows_add_up_passes():
    check_conservation(TABLE, 3, {"read": 10, "written": 6, "quarantined": 3, "duplicates": 1})


def test_a_lost_row_fails_the_batch_naming_the_counts():
    with pytest.raises(DataError, match=r"fact_x, batch 3: row conservation broken: read 10 .* = 9"):
        check_conservation(TABLE, 3, {"read": 10, "written": 6, "quarantined": 3, "duplicates": 0})

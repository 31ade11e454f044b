"""Gold joins a fact to the dimension version that was valid when the fact happened.

The data (hand_rows.py, in the demo lakehouse): C1 becomes vip on 2023-11-10, C2 is deleted on
2023-11-12, P1 moves from Home to Lighting on 2023-11-08; orders O1..O4 fall before, between and
after those changes, and are the only orders before 2024 (the generated ones come later).
"""

from __future__ import annotations

import pytest
from hand_rows import HAND_WRITTEN_BEFORE

pytestmark = pytest.mark.spark


def test_gold_uses_the_dimension_version_valid_at_order_time(spark, demo_job):
    assert demo_job.result.ok, demo_job.result.error
    gold, silver = demo_job.schemas["gold"], demo_job.schemas["silver"]

    rows = spark.sql(
        f"SELECT order_date, segment, country, category, units FROM spark_catalog.{gold}.daily_sales "
        f"WHERE order_date < DATE'{HAND_WRITTEN_BEFORE}'"
    ).collect()
    by_units = {r.units: (str(r.order_date), r.segment, r.country, r.category) for r in rows}
    assert by_units == {
        1: ("2023-11-05", "consumer", "GB", "Home"),  # O1: C1 still consumer, P1 still Home
        2: ("2023-11-11", "vip", "GB", "Lighting"),  # O2: after both changes
        4: ("2023-11-11", "business", "DE", "Lighting"),  # O3: C2 before its delete
        8: ("2023-11-13", "unknown", "UNKNOWN", "Lighting"),  # O4: C2 deleted by then
    }
    history = spark.sql(
        f"SELECT customer_id, segment, is_current FROM spark_catalog.{silver}.dim_customer "
        "WHERE customer_id IN ('C1', 'C2')"
    ).collect()
    assert sorted(tuple(r) for r in history) == [
        ("C1", "consumer", False),
        ("C1", "vip", True),
        ("C2", "business", False),
    ]

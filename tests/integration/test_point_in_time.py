"""Gold joins a fact to the dimension version that was valid when the fact happened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medallion.bundle import load_bundle
from medallion.runtime.runner import run_job

pytestmark = pytest.mark.spark

CUSTOMERS = """customer_id,first_name,last_name,email,country,city,segment,signup_date,updated_at,operation
C1,Ada,Lane,ada@example.org,GB,Leeds,consumer,2024-01-01,2024-01-01 09:00:00,I
C1,Ada,Lane,ada@example.org,GB,Leeds,vip,2024-01-01,2024-01-10 12:00:00,U
C2,Bo,Kim,bo@example.org,DE,Berlin,business,2024-01-02,2024-01-02 09:00:00,I
C2,Bo,Kim,bo@example.org,DE,Berlin,business,2024-01-02,2024-01-12 00:00:00,D
"""
PRODUCTS = """product_id,product_name,category,brand,unit_price,updated_at,operation
P1,Lamp,Home,Acme,10.00,2024-01-01 00:00:00,I
P1,Lamp,Lighting,Acme,12.00,2024-01-08 00:00:00,U
"""
LINES = """order_id,line_number,product_id,quantity,unit_price,discount
O1,1,P1,1,10.00,0
O2,1,P1,2,12.00,0
O3,1,P1,4,12.00,0
O4,1,P1,8,12.00,0
"""
ORDERS = [
    # before C1 became vip (and before P1 moved category)
    {"order_id": "O1", "customer_id": "C1", "order_ts": "2024-01-05 10:00:00", "status": "delivered"},
    # after both changes
    {"order_id": "O2", "customer_id": "C1", "order_ts": "2024-01-11 10:00:00", "status": "delivered"},
    # C2 while it existed, then after its delete
    {"order_id": "O3", "customer_id": "C2", "order_ts": "2024-01-11 10:00:00", "status": "delivered"},
    {"order_id": "O4", "customer_id": "C2", "order_ts": "2024-01-13 10:00:00", "status": "delivered"},
]


def _write_landing(landing: Path) -> None:
    for folder, name, text in (
        ("customers", "customers_0001_20240113.csv", CUSTOMERS),
        ("products", "products_0001_20240113.csv", PRODUCTS),
        ("order_lines", "order_lines_0001_20240113.csv", LINES),
    ):
        (landing / folder).mkdir(parents=True, exist_ok=True)
        (landing / folder / name).write_text(text)
    (landing / "orders").mkdir(parents=True, exist_ok=True)
    orders = [{**o, "channel": "web", "updated_at": o["order_ts"]} for o in ORDERS]
    (landing / "orders" / "orders_0001_20240113.json").write_text(
        "".join(json.dumps(o) + "\n" for o in orders)
    )


def test_gold_uses_the_dimension_version_valid_at_order_time(spark, project_copy, monkeypatch):
    for layer in ("bronze", "silver", "gold"):
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", f"pit_{layer}")
    bundle = load_bundle(project_copy)
    _write_landing(Path(bundle.resolve_variables("dev", local=True)["landing_root"]))

    result = run_job(spark, bundle, "dev", echo=lambda *_: None)
    assert result.ok, result.error

    rows = spark.sql(
        "SELECT order_date, segment, country, category, units FROM spark_catalog.pit_gold.daily_sales"
    ).collect()
    by_units = {r.units: (str(r.order_date), r.segment, r.country, r.category) for r in rows}
    assert by_units == {
        1: ("2024-01-05", "consumer", "GB", "Home"),  # O1: C1 still consumer, P1 still Home
        2: ("2024-01-11", "vip", "GB", "Lighting"),  # O2: after both changes
        4: ("2024-01-11", "business", "DE", "Lighting"),  # O3: C2 before its delete
        8: ("2024-01-13", "unknown", "UNKNOWN", "Lighting"),  # O4: C2 deleted by then
    }
    history = spark.sql(
        "SELECT customer_id, segment, is_current FROM spark_catalog.pit_silver.dim_customer"
    ).collect()
    assert sorted(tuple(r) for r in history) == [
        ("C1", "consumer", False),
        ("C1", "vip", True),
        ("C2", "business", False),
    ]
